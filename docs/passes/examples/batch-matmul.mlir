// Attention scores: 2 heads, 8 tokens, head size 32, keys for 64 tokens.
func.func @scores(%q: tensor<2x8x32xf32>, %k: tensor<2x32x64xf32>) -> tensor<2x8x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x8x64xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<2x8x64xf32>) -> tensor<2x8x64xf32>
  %r = linalg.batch_matmul ins(%q, %k : tensor<2x8x32xf32>, tensor<2x32x64xf32>) outs(%f : tensor<2x8x64xf32>) -> tensor<2x8x64xf32>
  return %r : tensor<2x8x64xf32>
}
