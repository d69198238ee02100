// Input of docs/passes/cpu-vectorize-elementwise.md: an i32 bias add and
// ReLU over a 4x32 tensor, as the integer form's elementwise ops look.
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
func.func @bias_relu(%x: tensor<4x32xi32>, %b: tensor<32xi32>) -> tensor<4x32xi32> {
  %e = tensor.empty() : tensor<4x32xi32>
  %r = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %b : tensor<4x32xi32>, tensor<32xi32>) outs(%e : tensor<4x32xi32>) {
  ^bb0(%a: i32, %c: i32, %o: i32):
    %zero = arith.constant 0 : i32
    %s = arith.addi %a, %c : i32
    %m = arith.maxsi %s, %zero : i32
    linalg.yield %m : i32
  } -> tensor<4x32xi32>
  return %r : tensor<4x32xi32>
}
