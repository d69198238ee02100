// A quantization feeding the im2col copy of a 3x3 window.
func.func @quantize_into_im2col(%x: tensor<6x6xf32>) -> tensor<4x4x3x3xi8> {
  %e = tensor.empty() : tensor<6x6xi8>
  %q = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<6x6xf32>) outs(%e : tensor<6x6xi8>) {
  ^bb0(%a: f32, %o: i8):
    %c = arith.constant 64.0 : f32
    %m = arith.mulf %a, %c : f32
    %r = math.roundeven %m : f32
    %i = arith.fptosi %r : f32 to i8
    linalg.yield %i : i8
  } -> tensor<6x6xi8>
  %e2 = tensor.empty() : tensor<4x4x3x3xi8>
  %col = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0 + d2, d1 + d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>],
                         iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%q : tensor<6x6xi8>) outs(%e2 : tensor<4x4x3x3xi8>) {
  ^bb0(%a: i8, %o: i8):
    linalg.yield %a : i8
  } -> tensor<4x4x3x3xi8>
  return %col : tensor<4x4x3x3xi8>
}
