// allow-missing-stats=true keeps an op whose input has no statistics in
// float, with a warning naming the input, and quantizes the rest.
// RUN: qopt %s --qopt-legalize="allow-missing-stats=true" -verify-diagnostics | FileCheck %s

// CHECK-LABEL: func @partial
// CHECK: %[[A:.*]] = linalg.matmul ins(%arg0, %cst
// CHECK: quant.qcast %{{.*}} : tensor<1x2xf32>
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<1x2xf32>, tensor<2x2xf32>)
func.func @partial(%x: tensor<1x4xf32> {qopt.name = "input"}) -> tensor<1x2xf32> {
  %w = arith.constant dense<1.0> : tensor<4x2xf32>
  %w2 = arith.constant dense<1.0> : tensor<2x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x2xf32>
  // expected-warning @+1 {{keeping 'linalg.matmul' in float: input 'input' has no calibration statistics}}
  %a = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  %s = qopt.stats %a min [-4.0] max [4.0] : tensor<1x2xf32>
  %b = linalg.matmul ins(%s, %w2 : tensor<1x2xf32>, tensor<2x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %b : tensor<1x2xf32>
}
