// An op whose input has no statistics can only stay in float; the pass says
// so at the op.
// RUN: qopt %s --qopt-assign-precision="budget=cost:10" -verify-diagnostics | FileCheck %s

// CHECK-LABEL: func.func @no_stats
// CHECK: linalg.matmul {{.*}}qopt.precision = #qopt.precision<act = f32, weight = f32>
func.func @no_stats(%x: tensor<1x4xf32> {qopt.name = "x"}) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[0.5, -0.25], [0.125, 1.0], [-0.75, 0.3], [0.2, -0.6]]> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  // expected-warning @+1 {{input 'x' has no calibration statistics: only float precisions are considered for this op}}
  %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
