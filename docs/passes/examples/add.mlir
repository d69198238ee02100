// Input of docs/passes/cpu-set-target.md: a public function on tensors.
func.func @add(%a: tensor<4xi8>, %b: tensor<4xi8>) -> tensor<4xi8> {
  %r = arith.addi %a, %b : tensor<4xi8>
  return %r : tensor<4xi8>
}
