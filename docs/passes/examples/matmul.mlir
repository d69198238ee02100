// Input of several pages under docs/passes/: a float matmul 1x4 * 4x2 with a
// constant weight, its input named "x" and its result "y".
func.func @mm(%x: tensor<1x4xf32> {qopt.name = "x"}) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[0.5, -1.0], [0.25, 0.75], [-0.5, 1.0], [1.0, 0.125]]> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32> loc("y")
  return %y : tensor<1x2xf32>
}
