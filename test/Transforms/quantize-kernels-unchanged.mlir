// RUN: qopt %s -split-input-file --qopt-quantize-kernels | FileCheck %s

// What has no exact integer form stays as it was: the pass never fails and
// the program keeps its meaning.

// Per-channel weights whose zero points differ cannot be corrected with one
// constant in the kernel.
// CHECK-LABEL: func @per_channel_zero_points
// CHECK: linalg.matmul
// CHECK: quant.qcast
// CHECK-NOT: linalg.generic
// CHECK-NOT: qopt.requantize
func.func @per_channel_zero_points(%x: tensor<1x4xf32>) -> tensor<1x2x!quant.uniform<i8:f32, 0.05:2>> {
  %xq = quant.qcast %x : tensor<1x4xf32> to tensor<1x4x!quant.uniform<i8:f32, 0.1:-3>>
  %xd = quant.dcast %xq : tensor<1x4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<1x4xf32>
  %wi = arith.constant dense<1> : tensor<4x2xi8>
  %wq = quant.scast %wi : tensor<4x2xi8> to tensor<4x2x!quant.uniform<i8:f32:1, {0.01:1, 0.02:-1}>>
  %wd = quant.dcast %wq : tensor<4x2x!quant.uniform<i8:f32:1, {0.01:1, 0.02:-1}>> to tensor<4x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x2xf32>
  %y = linalg.matmul ins(%xd, %wd : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  %yq = quant.qcast %y : tensor<1x2xf32> to tensor<1x2x!quant.uniform<i8:f32, 0.05:2>>
  return %yq : tensor<1x2x!quant.uniform<i8:f32, 0.05:2>>
}

// -----

// Per-axis weights along the reduction dimension (K) have no per-output
// accumulator scale.
// CHECK-LABEL: func @per_axis_on_reduction
// CHECK: linalg.matmul
// CHECK-NOT: qopt.requantize
func.func @per_axis_on_reduction(%x: tensor<1x4xf32>) -> tensor<1x2x!quant.uniform<i8:f32, 0.05:2>> {
  %xq = quant.qcast %x : tensor<1x4xf32> to tensor<1x4x!quant.uniform<i8:f32, 0.1:-3>>
  %xd = quant.dcast %xq : tensor<1x4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<1x4xf32>
  %wi = arith.constant dense<1> : tensor<4x2xi8>
  %wq = quant.scast %wi : tensor<4x2xi8> to tensor<4x2x!quant.uniform<i8:f32:0, {0.01, 0.02, 0.03, 0.04}>>
  %wd = quant.dcast %wq : tensor<4x2x!quant.uniform<i8:f32:0, {0.01, 0.02, 0.03, 0.04}>> to tensor<4x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x2xf32>
  %y = linalg.matmul ins(%xd, %wd : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  %yq = quant.qcast %y : tensor<1x2xf32> to tensor<1x2x!quant.uniform<i8:f32, 0.05:2>>
  return %yq : tensor<1x2x!quant.uniform<i8:f32, 0.05:2>>
}

// -----

// Per-group (sub-channel) weights are not matched yet.
// CHECK-LABEL: func @per_group_weights
// CHECK: linalg.matmul
// CHECK-NOT: qopt.requantize
func.func @per_group_weights(%x: tensor<1x4xf32>) -> tensor<1x2x!quant.uniform<i8:f32, 0.05:2>> {
  %xq = quant.qcast %x : tensor<1x4xf32> to tensor<1x4x!quant.uniform<i8:f32, 0.1:-3>>
  %xd = quant.dcast %xq : tensor<1x4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<1x4xf32>
  %wi = arith.constant dense<1> : tensor<4x2xi8>
  %wq = quant.scast %wi : tensor<4x2xi8> to tensor<4x2x!quant.uniform<i8:f32:{0:2, 1:1}, {{0.01, 0.02}, {0.03, 0.04}}>>
  %wd = quant.dcast %wq : tensor<4x2x!quant.uniform<i8:f32:{0:2, 1:1}, {{0.01, 0.02}, {0.03, 0.04}}>> to tensor<4x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x2xf32>
  %y = linalg.matmul ins(%xd, %wd : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  %yq = quant.qcast %y : tensor<1x2xf32> to tensor<1x2x!quant.uniform<i8:f32, 0.05:2>>
  return %yq : tensor<1x2x!quant.uniform<i8:f32, 0.05:2>>
}

// -----

// Mismatched types: a float (unquantized) weight, and a matmul whose result
// type (f16) is not the quantized operands' expressed type (f32).
// CHECK-LABEL: func @float_weight
// CHECK: linalg.matmul
// CHECK-NOT: qopt.requantize
// CHECK-LABEL: func @f16_result
// CHECK: linalg.matmul
// CHECK-NOT: linalg.generic
func.func @float_weight(%x: tensor<1x4xf32>) -> tensor<1x2x!quant.uniform<i8:f32, 0.05:2>> {
  %xq = quant.qcast %x : tensor<1x4xf32> to tensor<1x4x!quant.uniform<i8:f32, 0.1:-3>>
  %xd = quant.dcast %xq : tensor<1x4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<1x4xf32>
  %w = arith.constant dense<0.5> : tensor<4x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x2xf32>
  %y = linalg.matmul ins(%xd, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  %yq = quant.qcast %y : tensor<1x2xf32> to tensor<1x2x!quant.uniform<i8:f32, 0.05:2>>
  return %yq : tensor<1x2x!quant.uniform<i8:f32, 0.05:2>>
}
func.func @f16_result(%x: tensor<1x4xf32>) -> tensor<1x2xf16> {
  %xq = quant.qcast %x : tensor<1x4xf32> to tensor<1x4x!quant.uniform<i8:f32, 0.1:-3>>
  %xd = quant.dcast %xq : tensor<1x4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<1x4xf32>
  %wi = arith.constant dense<1> : tensor<4x2xi8>
  %wq = quant.scast %wi : tensor<4x2xi8> to tensor<4x2x!quant.uniform<i8:f32, 0.01>>
  %wd = quant.dcast %wq : tensor<4x2x!quant.uniform<i8:f32, 0.01>> to tensor<4x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x2xf16>
  %y = linalg.matmul ins(%xd, %wd : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf16>) -> tensor<1x2xf16>
  return %y : tensor<1x2xf16>
}

// -----

// A float op between the dcast and the kernel: the kernel reads a float
// value, not a quantized one.
// CHECK-LABEL: func @float_op_in_between
// CHECK: math.exp
// CHECK: linalg.matmul
// CHECK-NOT: qopt.requantize
func.func @float_op_in_between(%x: tensor<1x4xf32>) -> tensor<1x2x!quant.uniform<i8:f32, 0.05:2>> {
  %xq = quant.qcast %x : tensor<1x4xf32> to tensor<1x4x!quant.uniform<i8:f32, 0.1:-3>>
  %xd = quant.dcast %xq : tensor<1x4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<1x4xf32>
  %xe = math.exp %xd : tensor<1x4xf32>
  %wi = arith.constant dense<1> : tensor<4x2xi8>
  %wq = quant.scast %wi : tensor<4x2xi8> to tensor<4x2x!quant.uniform<i8:f32, 0.01>>
  %wd = quant.dcast %wq : tensor<4x2x!quant.uniform<i8:f32, 0.01>> to tensor<4x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x2xf32>
  %y = linalg.matmul ins(%xe, %wd : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  %yq = quant.qcast %y : tensor<1x2xf32> to tensor<1x2x!quant.uniform<i8:f32, 0.05:2>>
  return %yq : tensor<1x2x!quant.uniform<i8:f32, 0.05:2>>
}

// -----

// i16 activations with 4096 terms could overflow i32 (32768 * 127 * 4096):
// the matmul stays float.
// CHECK-LABEL: func @i16_overflow
// CHECK: linalg.matmul
// CHECK-NOT: qopt.requantize
func.func @i16_overflow(%x: tensor<1x4096xf32>) -> tensor<1x2x!quant.uniform<i8:f32, 0.05:2>> {
  %xq = quant.qcast %x : tensor<1x4096xf32> to tensor<1x4096x!quant.uniform<i16:f32, 0.001>>
  %xd = quant.dcast %xq : tensor<1x4096x!quant.uniform<i16:f32, 0.001>> to tensor<1x4096xf32>
  %wi = arith.constant dense<1> : tensor<4096x2xi8>
  %wq = quant.scast %wi : tensor<4096x2xi8> to tensor<4096x2x!quant.uniform<i8<-127:127>:f32, 0.01>>
  %wd = quant.dcast %wq : tensor<4096x2x!quant.uniform<i8<-127:127>:f32, 0.01>> to tensor<4096x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x2xf32>
  %y = linalg.matmul ins(%xd, %wd : tensor<1x4096xf32>, tensor<4096x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  %yq = quant.qcast %y : tensor<1x2xf32> to tensor<1x2x!quant.uniform<i8:f32, 0.05:2>>
  return %yq : tensor<1x2x!quant.uniform<i8:f32, 0.05:2>>
}

// -----

// A bias whose scale is not the accumulator's: the matmul is integer, the
// bias add stays float on the dequantized accumulator, and the qcast stays.
// CHECK-LABEL: func @bias_scale_mismatch
// CHECK: %[[ACC:.*]] = linalg.generic
// CHECK: %[[ACCQ:.*]] = quant.scast %[[ACC]] : tensor<1x2xi32> to tensor<1x2x!quant.uniform<i32:f32, 0.0010000000474974513>>
// CHECK: %[[ACCF:.*]] = quant.dcast %[[ACCQ]]
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} ins(%[[ACCF]], %{{.*}} : tensor<1x2xf32>, tensor<2xf32>)
// CHECK:   arith.addf
// CHECK: %[[R:.*]] = quant.qcast %[[SUM]]
// CHECK-NOT: qopt.requantize
// CHECK: return %[[R]]
#id = affine_map<(d0, d1) -> (d0, d1)>
#bc = affine_map<(d0, d1) -> (d1)>
func.func @bias_scale_mismatch(%x: tensor<1x4xf32>) -> tensor<1x2x!quant.uniform<i8:f32, 0.05:2>> {
  %xq = quant.qcast %x : tensor<1x4xf32> to tensor<1x4x!quant.uniform<i8:f32, 0.1:-3>>
  %xd = quant.dcast %xq : tensor<1x4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<1x4xf32>
  %wi = arith.constant dense<1> : tensor<4x2xi8>
  %wq = quant.scast %wi : tensor<4x2xi8> to tensor<4x2x!quant.uniform<i8:f32, 0.01>>
  %wd = quant.dcast %wq : tensor<4x2x!quant.uniform<i8:f32, 0.01>> to tensor<4x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x2xf32>
  %y = linalg.matmul ins(%xd, %wd : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  %bi = arith.constant dense<[5, 6]> : tensor<2xi32>
  %bq = quant.scast %bi : tensor<2xi32> to tensor<2x!quant.uniform<i32:f32:0, {0.002, 0.002}>>
  %bd = quant.dcast %bq : tensor<2x!quant.uniform<i32:f32:0, {0.002, 0.002}>> to tensor<2xf32>
  %e = tensor.empty() : tensor<1x2xf32>
  %yb = linalg.generic {indexing_maps = [#id, #bc, #id], iterator_types = ["parallel", "parallel"]}
      ins(%y, %bd : tensor<1x2xf32>, tensor<2xf32>) outs(%e : tensor<1x2xf32>) {
  ^bb0(%in: f32, %b: f32, %out: f32):
    %s = arith.addf %in, %b : f32
    linalg.yield %s : f32
  } -> tensor<1x2xf32>
  %yq = quant.qcast %yb : tensor<1x2xf32> to tensor<1x2x!quant.uniform<i8:f32, 0.05:2>>
  return %yq : tensor<1x2x!quant.uniform<i8:f32, 0.05:2>>
}

// -----

// A clamp that excludes 0.0 would need a narrowed type without its zero
// point; it stays float.
// CHECK-LABEL: func @clamp_excluding_zero
// CHECK: arith.maximumf
// CHECK: quant.qcast
// CHECK-NOT: qopt.requantize
func.func @clamp_excluding_zero(%x: tensor<4xf32>) -> tensor<4x!quant.uniform<i8:f32, 0.05:2>> {
  %q = quant.qcast %x : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.1:-3>>
  %d = quant.dcast %q : tensor<4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<4xf32>
  %c1 = arith.constant dense<1.0> : tensor<4xf32>
  %r = arith.maximumf %d, %c1 : tensor<4xf32>
  %rq = quant.qcast %r : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.05:2>>
  return %rq : tensor<4x!quant.uniform<i8:f32, 0.05:2>>
}

// -----

// Add of a quantized and a float tensor; max pooling whose init (0.05) the
// input type cannot represent; average pooling divided by a tensor (a count
// per position, as padded average pooling is written).
// CHECK-LABEL: func @add_with_float_operand
// CHECK: arith.addf
// CHECK-NOT: qopt.requantize
// CHECK-LABEL: func @max_pool_inexact_init
// CHECK: linalg.pooling_nhwc_max
// CHECK-NOT: qopt.requantize
// CHECK-LABEL: func @avg_pool_per_position_count
// CHECK: linalg.pooling_nhwc_sum
// CHECK: arith.divf
// CHECK-NOT: qopt.requantize
func.func @add_with_float_operand(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4x!quant.uniform<i8:f32, 0.05:2>> {
  %q = quant.qcast %x : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.1:-3>>
  %d = quant.dcast %q : tensor<4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<4xf32>
  %s = arith.addf %d, %y : tensor<4xf32>
  %sq = quant.qcast %s : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.05:2>>
  return %sq : tensor<4x!quant.uniform<i8:f32, 0.05:2>>
}
func.func @max_pool_inexact_init(%x: tensor<1x4x4x2xf32>) -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.1:-3>> {
  %xq = quant.qcast %x : tensor<1x4x4x2xf32> to tensor<1x4x4x2x!quant.uniform<i8:f32, 0.1:-3>>
  %xd = quant.dcast %xq : tensor<1x4x4x2x!quant.uniform<i8:f32, 0.1:-3>> to tensor<1x4x4x2xf32>
  %w = tensor.empty() : tensor<2x2xf32>
  %init = arith.constant dense<0.05> : tensor<1x2x2x2xf32>
  %r = linalg.pooling_nhwc_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
         ins(%xd, %w : tensor<1x4x4x2xf32>, tensor<2x2xf32>) outs(%init : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %rq = quant.qcast %r : tensor<1x2x2x2xf32> to tensor<1x2x2x2x!quant.uniform<i8:f32, 0.1:-3>>
  return %rq : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.1:-3>>
}
func.func @avg_pool_per_position_count(%x: tensor<1x4x4x2xf32>, %count: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.1:-3>> {
  %xq = quant.qcast %x : tensor<1x4x4x2xf32> to tensor<1x4x4x2x!quant.uniform<i8:f32, 0.1:-3>>
  %xd = quant.dcast %xq : tensor<1x4x4x2x!quant.uniform<i8:f32, 0.1:-3>> to tensor<1x4x4x2xf32>
  %w = tensor.empty() : tensor<3x3xf32>
  %zero = arith.constant dense<0.0> : tensor<1x2x2x2xf32>
  %s = linalg.pooling_nhwc_sum {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>}
         ins(%xd, %w : tensor<1x4x4x2xf32>, tensor<3x3xf32>) outs(%zero : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %a = arith.divf %s, %count : tensor<1x2x2x2xf32>
  %aq = quant.qcast %a : tensor<1x2x2x2xf32> to tensor<1x2x2x2x!quant.uniform<i8:f32, 0.1:-3>>
  return %aq : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.1:-3>>
}

// -----

// A per-axis value through a reshape: the axis would move, so it stays.
// CHECK-LABEL: func @reshape_per_axis
// CHECK: tensor.collapse_shape %{{.*}} : tensor<2x3xf32> into tensor<6xf32>
// CHECK: quant.qcast
func.func @reshape_per_axis(%x: tensor<2x3xf32>) -> tensor<6x!quant.uniform<i8:f32, 0.1>> {
  %xi = arith.constant dense<1> : tensor<2x3xi8>
  %xq = quant.scast %xi : tensor<2x3xi8> to tensor<2x3x!quant.uniform<i8:f32:1, {0.1, 0.2, 0.3}>>
  %xd = quant.dcast %xq : tensor<2x3x!quant.uniform<i8:f32:1, {0.1, 0.2, 0.3}>> to tensor<2x3xf32>
  %c = tensor.collapse_shape %xd [[0, 1]] : tensor<2x3xf32> into tensor<6xf32>
  %cq = quant.qcast %c : tensor<6xf32> to tensor<6x!quant.uniform<i8:f32, 0.1>>
  return %cq : tensor<6x!quant.uniform<i8:f32, 0.1>>
}
