// Two named inputs, their sum and its square root ("sq" is NaN where the
// sum is negative).
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @two(%a: tensor<2x3xf32> {qopt.name = "a"}, %b: tensor<2x3xf32> {qopt.name = "b"}) -> tensor<2x3xf32> {
  %e = tensor.empty() : tensor<2x3xf32>
  %s = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a, %b : tensor<2x3xf32>, tensor<2x3xf32>) outs(%e : tensor<2x3xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %r = arith.addf %x, %y : f32
    linalg.yield %r : f32
  } -> tensor<2x3xf32> loc("sum")
  %q = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%s : tensor<2x3xf32>) outs(%e : tensor<2x3xf32>) {
  ^bb0(%x: f32, %o: f32):
    %r = math.sqrt %x : f32
    linalg.yield %r : f32
  } -> tensor<2x3xf32> loc("sq")
  return %q : tensor<2x3xf32>
}
