// qopt-lower-quant on qopt.dynamic_quantize: one min/max reduction with both
// accumulators starting at 0 (so the range holds 0), the parameters in
// float32 as ONNX Runtime computes them, and the elementwise quantization.
// RUN: qopt %s --qopt-lower-quant -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @per_tensor
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[INIT:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.*}} : tensor<f32>) -> tensor<f32>
// CHECK: %[[MM:.*]]:2 = linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}], iterator_types = ["reduction", "reduction"]} ins(%arg0 : tensor<4x64xf32>) outs(%[[INIT]], %[[INIT]] : tensor<f32>, tensor<f32>)
// CHECK:   arith.minimumf
// CHECK:   arith.maximumf
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
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%arg0 : tensor<2x4x64xf32>) outs(%{{.*}}, %{{.*}} : tensor<2x4xf32>, tensor<2x4xf32>)
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0], [1, 2]] output_shape [2, 4, 1] : tensor<2x4xf32> into tensor<2x4x1xf32>
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0], [1, 2]] output_shape [2, 4, 1] : tensor<2x4xi8> into tensor<2x4x1xi8>
func.func @per_row(%x: tensor<2x4x64xf32>) -> (tensor<2x4x64xi8>, tensor<2x4x1xf32>, tensor<2x4x1xi8>) {
  %q, %s, %z = qopt.dynamic_quantize %x : tensor<2x4x64xf32> -> tensor<2x4x64xi8>, tensor<2x4x1xf32>, tensor<2x4x1xi8>
  return %q, %s, %z : tensor<2x4x64xi8>, tensor<2x4x1xf32>, tensor<2x4x1xi8>
}
