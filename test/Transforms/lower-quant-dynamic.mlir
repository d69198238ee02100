// qopt-lower-quant on qopt.dynamic_quantize: one min/max reduction with both
// accumulators starting at 0 (so the range holds 0), the parameters in
// float32 as ONNX Runtime computes them, and the elementwise quantization.
// Where the reduced extent is static and a multiple of 4, the reduction
// keeps 16 (8, 4) lanes of partial results, its innermost loop parallel
// (qopt-cpu-vectorize-elementwise vectorizes it), and a second reduction
// folds the lanes.
// RUN: qopt %s --qopt-lower-quant -split-input-file | FileCheck %s

// 4x64: 256 values as 16 rows of 16 lanes.
// CHECK-LABEL: func.func @per_tensor
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[INIT:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.*}} : tensor<f32>) -> tensor<f32>
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %arg0 {{\[\[}}0, 1]] : tensor<4x64xf32> into tensor<256xf32>
// CHECK: %[[TILED:.*]] = tensor.expand_shape %[[FLAT]] {{\[\[}}0, 1]] output_shape [16, 16] : tensor<256xf32> into tensor<16x16xf32>
// CHECK: %[[LANES:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.*}} : tensor<16xf32>) -> tensor<16xf32>
// CHECK: %[[PART:.*]]:2 = linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}], iterator_types = ["reduction", "parallel"]} ins(%[[TILED]] : tensor<16x16xf32>) outs(%[[LANES]], %[[LANES]] : tensor<16xf32>, tensor<16xf32>)
// CHECK:   arith.minimumf
// CHECK:   arith.maximumf
// CHECK: %[[MM:.*]]:2 = linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}, #{{.*}}], iterator_types = ["reduction"]} ins(%[[PART]]#0, %[[PART]]#1 : tensor<16xf32>, tensor<16xf32>) outs(%[[INIT]], %[[INIT]] : tensor<f32>, tensor<f32>)
// CHECK:   ^bb0(%[[LO:.*]]: f32, %[[HI:.*]]: f32, %[[OLO:.*]]: f32, %[[OHI:.*]]: f32):
// CHECK:   arith.minimumf %[[OLO]], %[[LO]]
// CHECK:   arith.maximumf %[[OHI]], %[[HI]]
// CHECK: %[[P:.*]]:2 = linalg.generic {{.*}} ins(%[[MM]]#0, %[[MM]]#1 : tensor<f32>, tensor<f32>) outs(%{{.*}}, %{{.*}} : tensor<f32>, tensor<i8>)
// CHECK:   %[[R:.*]] = arith.subf %{{.*}}, %{{.*}} : f32
// CHECK:   %[[D:.*]] = arith.divf %[[R]], %{{.*}} : f32
// CHECK:   %[[EQ:.*]] = arith.cmpf oeq
// CHECK:   %[[S:.*]] = arith.select %[[EQ]], %{{.*}}, %[[D]] : f32
// CHECK:   arith.divf %{{.*}}, %[[S]] : f32
// CHECK:   arith.subf
// CHECK:   arith.maximumf
// CHECK:   arith.minimumf
// CHECK:   math.roundeven
// CHECK:   arith.fptoui %{{.*}} : f32 to i8
// CHECK: linalg.generic {{.*}} ins(%arg0, %[[P]]#0, %[[P]]#1 : tensor<4x64xf32>, tensor<f32>, tensor<i8>) outs(%{{.*}} : tensor<4x64xi8>)
// CHECK:   arith.divf
// CHECK:   math.roundeven
// CHECK:   arith.uitofp
// CHECK:   arith.addf
// CHECK:   arith.maximumf
// CHECK:   arith.minimumf
// CHECK:   arith.fptoui
// CHECK-NOT: qopt.dynamic_quantize
func.func @per_tensor(%x: tensor<4x64xf32>) -> (tensor<4x64xi8>, tensor<f32>, tensor<i8>) {
  %q, %s, %z = qopt.dynamic_quantize %x : tensor<4x64xf32> -> tensor<4x64xi8>, tensor<f32>, tensor<i8>
  return %q, %s, %z : tensor<4x64xi8>, tensor<f32>, tensor<i8>
}

// -----

// Per row: the reduction keeps the row loops; the parameters get their unit
// dimension back.
// CHECK-LABEL: func.func @per_row
// CHECK: tensor.expand_shape %arg0 {{\[\[}}0], [1], [2, 3]] output_shape [2, 4, 4, 16] : tensor<2x4x64xf32> into tensor<2x4x4x16xf32>
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction", "parallel"]} ins(%{{.*}} : tensor<2x4x4x16xf32>) outs(%{{.*}}, %{{.*}} : tensor<2x4x16xf32>, tensor<2x4x16xf32>)
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%{{.*}}, %{{.*}} : tensor<2x4x16xf32>, tensor<2x4x16xf32>) outs(%{{.*}}, %{{.*}} : tensor<2x4xf32>, tensor<2x4xf32>)
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0], [1, 2]] output_shape [2, 4, 1] : tensor<2x4xf32> into tensor<2x4x1xf32>
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0], [1, 2]] output_shape [2, 4, 1] : tensor<2x4xi8> into tensor<2x4x1xi8>
func.func @per_row(%x: tensor<2x4x64xf32>) -> (tensor<2x4x64xi8>, tensor<2x4x1xf32>, tensor<2x4x1xi8>) {
  %q, %s, %z = qopt.dynamic_quantize %x : tensor<2x4x64xf32> -> tensor<2x4x64xi8>, tensor<2x4x1xf32>, tensor<2x4x1xi8>
  return %q, %s, %z : tensor<2x4x64xi8>, tensor<2x4x1xf32>, tensor<2x4x1xi8>
}

// -----

// 3x5: 15 values, no multiple of 4: the one reduction over everything.
// CHECK-LABEL: func.func @no_lanes
// CHECK-NOT: tensor.expand_shape
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction", "reduction"]} ins(%arg0 : tensor<3x5xf32>) outs(%{{.*}}, %{{.*}} : tensor<f32>, tensor<f32>)
// CHECK-NOT: iterator_types = ["reduction"]}
func.func @no_lanes(%x: tensor<3x5xf32>) -> (tensor<3x5xi8>, tensor<f32>, tensor<i8>) {
  %q, %s, %z = qopt.dynamic_quantize %x : tensor<3x5xf32> -> tensor<3x5xi8>, tensor<f32>, tensor<i8>
  return %q, %s, %z : tensor<3x5xi8>, tensor<f32>, tensor<i8>
}

// -----

// 2x12: 24 values, 8 lanes (16 does not divide).
// CHECK-LABEL: func.func @eight_lanes
// CHECK: tensor.expand_shape %{{.*}} output_shape [3, 8] : tensor<24xf32> into tensor<3x8xf32>
// CHECK: iterator_types = ["reduction", "parallel"]} ins(%{{.*}} : tensor<3x8xf32>) outs(%{{.*}}, %{{.*}} : tensor<8xf32>, tensor<8xf32>)
func.func @eight_lanes(%x: tensor<2x12xf32>) -> (tensor<2x12xi8>, tensor<f32>, tensor<i8>) {
  %q, %s, %z = qopt.dynamic_quantize %x : tensor<2x12xf32> -> tensor<2x12xi8>, tensor<f32>, tensor<i8>
  return %q, %s, %z : tensor<2x12xi8>, tensor<f32>, tensor<i8>
}
