// RUN: qopt %s -split-input-file --qopt-lower-quant | FileCheck %s

// qcast divides by the scale (no reciprocal), rounds half to even, adds the
// zero point, saturates in float (maxnumf first: NaN -> qmin) and converts.
// CHECK-LABEL: func @qcast_per_tensor
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>) -> tensor<4xi8>
// CHECK: linalg.generic {{.*}} ins(%[[X]] : tensor<4xf32>) outs(%{{.*}} : tensor<4xi8>)
// CHECK-DAG: %[[S:.*]] = arith.constant 5.000000e-01 : f32
// CHECK-DAG: %[[Z:.*]] = arith.constant -3.000000e+00 : f32
// CHECK: %[[D:.*]] = arith.divf %{{.*}}, %[[S]] : f32
// CHECK: %[[R:.*]] = math.roundeven %[[D]] : f32
// CHECK: %[[A:.*]] = arith.addf %[[R]], %[[Z]] : f32
// CHECK: %[[LO:.*]] = arith.maxnumf %[[A]], %{{.*}} : f32
// CHECK: %[[HI:.*]] = arith.minnumf %[[LO]], %{{.*}} : f32
// CHECK: arith.fptosi %[[HI]] : f32 to i8
func.func @qcast_per_tensor(%x: tensor<4xf32>) -> tensor<4x!quant.uniform<i8:f32, 0.5:-3>> {
  %q = quant.qcast %x : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.5:-3>>
  return %q : tensor<4x!quant.uniform<i8:f32, 0.5:-3>>
}

// -----

// Per-axis parameters are read through the axis's indexing map; unsigned
// storage converts with fptoui, and dcast with uitofp.
// CHECK-LABEL: func @per_axis_unsigned
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[AXIS:map[0-9]*]], #[[AXIS]], #{{.*}}]
// CHECK: arith.fptoui {{.*}} : f32 to i8
// CHECK: arith.uitofp {{.*}} : i8 to f32
func.func @per_axis_unsigned(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %q = quant.qcast %x : tensor<2x3xf32> to tensor<2x3x!quant.uniform<u8:f32:1, {0.1:128, 0.2:120, 0.3:100}>>
  %d = quant.dcast %q : tensor<2x3x!quant.uniform<u8:f32:1, {0.1:128, 0.2:120, 0.3:100}>> to tensor<2x3xf32>
  return %d : tensor<2x3xf32>
}

// -----

// Sub-channel (per-group) parameters: the scale of element (k, n) is at
// (k floordiv 2, n).
// CHECK: #[[GROUP:map[0-9]*]] = affine_map<(d0, d1) -> (d0 floordiv 2, d1)>
// CHECK-LABEL: func @dcast_per_group
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[GROUP]], #[[GROUP]], #{{.*}}]
func.func @dcast_per_group(%w: tensor<4x2xi4>) -> tensor<4x2xf32> {
  %q = quant.scast %w : tensor<4x2xi4> to tensor<4x2x!quant.uniform<i4:f32:{0:2, 1:1}, {{0.5, 0.25}, {1.0, 2.0}}>>
  %d = quant.dcast %q : tensor<4x2x!quant.uniform<i4:f32:{0:2, 1:1}, {{0.5, 0.25}, {1.0, 2.0}}>> to tensor<4x2xf32>
  return %d : tensor<4x2xf32>
}

// -----

// Fixed-point requantization: the multiplier 0.001 / 0.05 = 0.02 is
// 0.64 * 2^-5, so the Q31 multiplier is round(0.64 * 2^31) = 1374389535 and
// the shift is -5 (TFLite's QuantizeMultiplier).
// CHECK-LABEL: func @requantize_fixed_point
// CHECK-SAME: (%{{.*}}: tensor<4xi32>) -> tensor<4xi8>
// CHECK-DAG: arith.constant 1374389535 : i64
// CHECK-DAG: arith.constant -5 : i64
// CHECK-DAG: arith.constant 2147483648 : i64
// CHECK: arith.divsi
// CHECK: arith.shrsi
// CHECK: arith.trunci {{.*}} : i64 to i8
func.func @requantize_fixed_point(%a: tensor<4x!quant.uniform<i32:f32, 0.001>>) -> tensor<4x!quant.uniform<i8:f32, 0.05:-3>> {
  %r = qopt.requantize %a : tensor<4x!quant.uniform<i32:f32, 0.001>> to tensor<4x!quant.uniform<i8:f32, 0.05:-3>>
  return %r : tensor<4x!quant.uniform<i8:f32, 0.05:-3>>
}

// -----

// Reshapes and other ops on quantized tensors keep working on the storage
// integers; quant.scast disappears.
// CHECK-LABEL: func @storage_types
// CHECK-SAME: (%[[A:.*]]: tensor<2x2xi8>) -> tensor<4xi8>
// CHECK: %[[C:.*]] = tensor.collapse_shape %[[A]] {{\[\[}}0, 1]] : tensor<2x2xi8> into tensor<4xi8>
// CHECK: return %[[C]]
func.func @storage_types(%a: tensor<2x2xi8>) -> tensor<4x!quant.uniform<i8:f32, 0.1>> {
  %q = quant.scast %a : tensor<2x2xi8> to tensor<2x2x!quant.uniform<i8:f32, 0.1>>
  %c = tensor.collapse_shape %q [[0, 1]] : tensor<2x2x!quant.uniform<i8:f32, 0.1>> into tensor<4x!quant.uniform<i8:f32, 0.1>>
  return %c : tensor<4x!quant.uniform<i8:f32, 0.1>>
}

// -----

// A QDQ pair is lowered, never folded away (upstream's dcast folder would
// turn dcast(qcast(x)) into x).
// CHECK-LABEL: func @qdq_not_folded
// CHECK: math.roundeven
// CHECK: arith.sitofp
// CHECK-NOT: return %arg0
func.func @qdq_not_folded(%x: tensor<4xf32>) -> tensor<4xf32> {
  %q = quant.qcast %x : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.5:-3>>
  %d = quant.dcast %q : tensor<4x!quant.uniform<i8:f32, 0.5:-3>> to tensor<4xf32>
  return %d : tensor<4xf32>
}
