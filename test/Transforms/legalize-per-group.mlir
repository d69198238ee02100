// Per-group 4-bit weights: blocks of 2 along K, one scale per block and
// output channel, as an upstream sub-channel type.
// RUN: qopt %s --qopt-legalize="weights=per-group group-size=2 weight-bits=4" | FileCheck %s

// K = 4, N = 1, weights {1.0, 0.5, 7.0, -3.5}, 4 bits narrow ([-7, 7]).
// Block 0: amax 1.0, scale 1/7, stored as float32 0.142857149 (slightly
// above 1/7): 1.0 -> 7; 0.5 / 0.142857149 = 3.49999984, just below the tie,
// -> 3. Block 1: amax 7.0, scale 1.0: 7.0 -> 7; -3.5 is an exact tie and
// rounds half to even -> -4.
// CHECK-LABEL: func @per_group
// CHECK: arith.constant dense<{{\[\[}}7], [3], [7], [-4]]> : tensor<4x1xi4>
// CHECK: quant.scast {{.*}} : tensor<4x1xi4> to tensor<4x1x!quant.uniform<i4<-7:7>:f32:{0:2, 1:1}, {{\{\{}}0.142857149}, {1.000000e+00}}>>
func.func @per_group(%x: tensor<1x4xf32>) -> tensor<1x1xf32> {
  %s = qopt.stats %x min [-1.0] max [1.0] : tensor<1x4xf32>
  %w = arith.constant dense<[[1.0], [0.5], [7.0], [-3.5]]> : tensor<4x1xf32>
  %z = arith.constant dense<0.0> : tensor<1x1xf32>
  %y = linalg.matmul ins(%s, %w : tensor<1x4xf32>, tensor<4x1xf32>) outs(%z : tensor<1x1xf32>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}
