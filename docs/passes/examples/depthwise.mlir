// The largest depthwise convolution of PaddleOCR's MobileNetV3 direction
// classifier, as qopt-translate --import-onnx writes it (NCHW, 200
// channels, 5x5 kernel, stride 2 in height and 1 in width, input padded).
#act = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 + d4, d2 * 2 + d5, d3 + d6)>
#wgt = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#out = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
func.func @depthwise(%x: tensor<1x200x6x100xf32>, %w: tensor<200x1x5x5xf32>) -> tensor<1x200x1x96xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x200x1x96xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x200x1x96xf32>) -> tensor<1x200x1x96xf32>
  %r = linalg.generic {indexing_maps = [#act, #wgt, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%x, %w : tensor<1x200x6x100xf32>, tensor<200x1x5x5xf32>) outs(%init : tensor<1x200x1x96xf32>) {
  ^bb0(%in: f32, %k: f32, %o: f32):
    %p = arith.mulf %in, %k : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x200x1x96xf32>
  return %r : tensor<1x200x1x96xf32>
}
