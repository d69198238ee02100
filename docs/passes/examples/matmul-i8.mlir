// Input of docs/passes/cpu-gemm.md and others: an i8 x i8 -> i32 matmul with
// constant weights, the integer kernel qopt-quantize leaves.
func.func @mm_i8(%a: tensor<8x64xi8>) -> tensor<8x32xi32> {
  %w = arith.constant dense<3> : tensor<64x32xi8>
  %z = arith.constant 0 : i32
  %e = tensor.empty() : tensor<8x32xi32>
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<8x32xi32>) -> tensor<8x32xi32>
  %r = linalg.matmul ins(%a, %w : tensor<8x64xi8>, tensor<64x32xi8>) outs(%f : tensor<8x32xi32>) -> tensor<8x32xi32>
  return %r : tensor<8x32xi32>
}
