// A nearest Resize as qopt-translate imports it (PaddleOCR det):
// a linalg.generic whose only operands are the index tables, reading its
// data with tensor.extract (test/qopt-calibrate/gather-stats.test).
#map_h = affine_map<(d0, d1, d2, d3) -> (d2)>
#map_w = affine_map<(d0, d1, d2, d3) -> (d3)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @main(%x: tensor<1x1x2x2xf32> loc("x")) -> tensor<1x1x4x4xf32> {
  %ih = arith.constant dense<[0, 0, 1, 1]> : tensor<4xi64>
  %e = tensor.empty() : tensor<1x1x4x4xf32>
  %r = linalg.generic {indexing_maps = [#map_h, #map_w, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%ih, %ih : tensor<4xi64>, tensor<4xi64>) outs(%e : tensor<1x1x4x4xf32>) {
  ^bb0(%a: i64, %b: i64, %o: f32):
    %i0 = linalg.index 0 : index
    %i1 = linalg.index 1 : index
    %h = arith.index_cast %a : i64 to index
    %w = arith.index_cast %b : i64 to index
    %v = tensor.extract %x[%i0, %i1, %h, %w] : tensor<1x1x2x2xf32>
    linalg.yield %v : f32
  } -> tensor<1x1x4x4xf32> loc("up")
  %s = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%r, %r : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>) outs(%e : tensor<1x1x4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %t = arith.addf %a, %b : f32
    linalg.yield %t : f32
  } -> tensor<1x1x4x4xf32> loc("sum")
  return %s : tensor<1x1x4x4xf32>
}
