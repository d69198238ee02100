// qopt-legalize{mode=dynamic}: the weight is quantized at compile time, the
// activation at run time by qopt.dynamic_quantize; the i8 contraction runs on
// the u8 values shifted to i8, and the epilogue restores ORT's accumulator
// and applies ORT's float32 scaling.
// RUN: qopt %s --qopt-legalize=mode=dynamic -split-input-file | FileCheck %s
// RUN: qopt %s --qopt-legalize="mode=dynamic dynamic-granularity=row" -split-input-file | FileCheck %s --check-prefix=ROW
// RUN: qopt %s --qopt-legalize="mode=dynamic weights=per-tensor" -split-input-file | FileCheck %s --check-prefix=TENSOR
// RUN: qopt %s --qopt-legalize="mode=dynamic weight-type=u8" -split-input-file | FileCheck %s --check-prefix=U8

// Weight column 0 has max |w| = 1 (scale 1/127), column 1 max |w| = 1 too:
// 0.5 -> 63.5 -> 64 (ties to even), 0.25 -> 31.75 -> 32, 0.75 -> 95.25 -> 95,
// 0.125 -> 15.875 -> 16. Column sums: 64+32-64+127 = 159 and
// -127+95+127+16 = 111.
// CHECK-LABEL: func.func @mm
// CHECK: %[[Q:.*]], %[[S:.*]], %[[Z:.*]] = qopt.dynamic_quantize %arg0 : tensor<1x4xf32> -> tensor<1x4xi8>, tensor<f32>, tensor<i8>
// CHECK: %[[QS:.*]] = linalg.generic {{.*}} ins(%[[Q]] : tensor<1x4xi8>)
// CHECK:   arith.xori
// CHECK-DAG: %[[W:.*]] = arith.constant dense<{{\[\[}}64, -127], [32, 95], [-64, 127], [127, 16]]> : tensor<4x2xi8>
// CHECK-DAG: %[[CS:.*]] = arith.constant dense<[159, 111]> : tensor<2xi32>
// CHECK-DAG: %[[WS:.*]] = arith.constant dense<0.00787401571> : tensor<2xf32>
// CHECK: %[[ACC:.*]] = linalg.matmul ins(%[[QS]], %[[W]] : tensor<1x4xi8>, tensor<4x2xi8>) outs(%{{.*}} : tensor<1x2xi32>)
// CHECK: linalg.generic {{.*}} ins(%[[ACC]], %[[Z]], %[[CS]], %[[S]], %[[WS]] : tensor<1x2xi32>, tensor<i8>, tensor<2xi32>, tensor<f32>, tensor<2xf32>)
// CHECK:   arith.extui
// CHECK:   arith.subi
// CHECK:   arith.muli
// CHECK:   arith.addi
// CHECK:   %[[F:.*]] = arith.sitofp
// CHECK:   %[[SS:.*]] = arith.mulf %{{.*}}, %{{.*}} : f32
// CHECK:   arith.mulf %[[F]], %[[SS]] : f32
// CHECK-NOT: qopt.stats
// CHECK: return

// ROW-LABEL: func.func @mm
// ROW: %[[Q:.*]], %[[S:.*]], %[[Z:.*]] = qopt.dynamic_quantize %arg0 : tensor<1x4xf32> -> tensor<1x4xi8>, tensor<1x1xf32>, tensor<1x1xi8>
// ROW-DAG: tensor.collapse_shape %[[S]] {{\[\[}}0, 1]] : tensor<1x1xf32> into tensor<1xf32>
// ROW-DAG: tensor.collapse_shape %[[Z]] {{\[\[}}0, 1]] : tensor<1x1xi8> into tensor<1xi8>

// TENSOR-LABEL: func.func @mm
// TENSOR-DAG: arith.constant dense<0.00787401571> : tensor<f32>

// u8 weights: per column [min, max] = [-1, 1] and [-1, 1] after widening,
// the stored i8 value is w_u8 - 128 and the epilogue corrects with the
// activation row sums.
// U8-LABEL: func.func @mm
// U8: qopt.dynamic_quantize
// U8: linalg.matmul
// U8: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// U8:   arith.extui
// U8: linalg.generic {{.*}} ins({{.*}} : tensor<1x2xi32>, tensor<i8>, tensor<2xi32>, tensor<f32>, tensor<2xf32>, tensor<2xi32>, tensor<1xi32>)
func.func @mm(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[0.5, -1.0], [0.25, 0.75], [-0.5, 1.0], [1.0, 0.125]]> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  %s = qopt.stats %x min [-1.0] max [3.0] : tensor<1x4xf32>
  %y = linalg.matmul ins(%s, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// One activation feeding two matmuls is quantized once; a batch_matmul with
// a batched constant weight gets column sums per batch and column.
// (%arg0 is quantized once here and once in @mm: 2 in the whole output.)
// RUN: qopt %s --qopt-legalize=mode=dynamic -split-input-file | grep -c "qopt.dynamic_quantize %arg0 :" | FileCheck %s --check-prefix=ONCE
// ONCE: {{^}}2{{$}}
// CHECK-LABEL: func.func @shared_and_batched
// CHECK-DAG: qopt.dynamic_quantize %arg0 : tensor<3x4xf32>
// CHECK-DAG: qopt.dynamic_quantize %arg1 : tensor<2x3x4xf32>
// CHECK: linalg.matmul
// CHECK: linalg.matmul
// CHECK: arith.constant dense<{{.*}}> : tensor<2x5xi32>
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x3x4xi8>, tensor<2x4x5xi8>) outs(%{{.*}} : tensor<2x3x5xi32>)
// ROW-LABEL: func.func @shared_and_batched
// ROW: qopt.dynamic_quantize %arg1 : tensor<2x3x4xf32> -> tensor<2x3x4xi8>, tensor<2x3x1xf32>, tensor<2x3x1xi8>
func.func @shared_and_batched(%x: tensor<3x4xf32>, %xb: tensor<2x3x4xf32>) -> (tensor<3x5xf32>, tensor<3x5xf32>, tensor<2x3x5xf32>) {
  %w1 = arith.constant dense<0.5> : tensor<4x5xf32>
  %w2 = arith.constant dense<-0.25> : tensor<4x5xf32>
  %wb = arith.constant dense<0.125> : tensor<2x4x5xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x5xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<3x5xf32>) -> tensor<3x5xf32>
  %y1 = linalg.matmul ins(%x, %w1 : tensor<3x4xf32>, tensor<4x5xf32>) outs(%z : tensor<3x5xf32>) -> tensor<3x5xf32>
  %y2 = linalg.matmul ins(%x, %w2 : tensor<3x4xf32>, tensor<4x5xf32>) outs(%z : tensor<3x5xf32>) -> tensor<3x5xf32>
  %eb = tensor.empty() : tensor<2x3x5xf32>
  %zb = linalg.fill ins(%zero : f32) outs(%eb : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %yb = linalg.batch_matmul ins(%xb, %wb : tensor<2x3x4xf32>, tensor<2x4x5xf32>) outs(%zb : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  return %y1, %y2, %yb : tensor<3x5xf32>, tensor<3x5xf32>, tensor<2x3x5xf32>
}
