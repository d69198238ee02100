// A fully connected layer and its ReLU; the names come from the locations.
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @mlp(%x: tensor<1x8xf32> {qopt.name = "x"}) -> tensor<1x4xf32> {
  %w = arith.constant dense<0.5> : tensor<8x4xf32> loc("fc.weight")
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4xf32>) -> tensor<1x4xf32>
  %mm = linalg.matmul ins(%x, %w : tensor<1x8xf32>, tensor<8x4xf32>)
                      outs(%z : tensor<1x4xf32>) -> tensor<1x4xf32> loc("fc")
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm : tensor<1x4xf32>) outs(%e : tensor<1x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.maximumf %a, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x4xf32> loc("relu")
  return %r : tensor<1x4xf32>
}
