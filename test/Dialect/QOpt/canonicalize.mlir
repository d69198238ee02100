// RUN: qopt %s -split-input-file -canonicalize | FileCheck %s

// A requantize to its own type is the identity.
// CHECK-LABEL: func @same_type
// CHECK-NOT: qopt.requantize
// CHECK: return %arg0
func.func @same_type(%arg0: tensor<4x!quant.uniform<i8:f32, 0.1:-3>>) -> tensor<4x!quant.uniform<i8:f32, 0.1:-3>> {
  %0 = qopt.requantize %arg0 : tensor<4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<4x!quant.uniform<i8:f32, 0.1:-3>>
  return %0 : tensor<4x!quant.uniform<i8:f32, 0.1:-3>>
}

// -----

// i8 -> i16 at the same scale only shifts the zero point (-3 -> 5): every i8
// value q lands on q + 8, inside [-32768, 32767]. The pair is one requantize.
// CHECK-LABEL: func @exact_widening
// CHECK: %[[R:.*]] = qopt.requantize %arg0 : tensor<4x!quant.uniform<i8:f32, 1.000000e-01:-3>> to tensor<4x!quant.uniform<i8:f32, 2.000000e-01:1>>
// CHECK-NEXT: return %[[R]]
func.func @exact_widening(%arg0: tensor<4x!quant.uniform<i8:f32, 0.1:-3>>) -> tensor<4x!quant.uniform<i8:f32, 0.2:1>> {
  %0 = qopt.requantize %arg0 : tensor<4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<4x!quant.uniform<i16:f32, 0.1:5>>
  %1 = qopt.requantize %0 : tensor<4x!quant.uniform<i16:f32, 0.1:5>> to tensor<4x!quant.uniform<i8:f32, 0.2:1>>
  return %1 : tensor<4x!quant.uniform<i8:f32, 0.2:1>>
}

// -----

// Exact out and back: the chain is the identity.
// CHECK-LABEL: func @exact_round_trip
// CHECK-NOT: qopt.requantize
// CHECK: return %arg0
func.func @exact_round_trip(%arg0: tensor<4x!quant.uniform<i8:f32, 0.1:-3>>) -> tensor<4x!quant.uniform<i8:f32, 0.1:-3>> {
  %0 = qopt.requantize %arg0 : tensor<4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<4x!quant.uniform<i32:f32, 0.1>>
  %1 = qopt.requantize %0 : tensor<4x!quant.uniform<i32:f32, 0.1>> to tensor<4x!quant.uniform<i8:f32, 0.1:-3>>
  return %1 : tensor<4x!quant.uniform<i8:f32, 0.1:-3>>
}

// -----

// Per-axis source into a per-tensor i32 of the same scale in every channel.
// CHECK-LABEL: func @exact_per_axis
// CHECK: %[[R:.*]] = qopt.requantize %arg0 : tensor<2x3x!quant.uniform<i8:f32:1, {1.000000e-01,1.000000e-01,1.000000e-01}>> to tensor<2x3x!quant.uniform<i8:f32, 5.000000e-02>>
// CHECK-NEXT: return %[[R]]
func.func @exact_per_axis(%arg0: tensor<2x3x!quant.uniform<i8:f32:1, {0.1, 0.1, 0.1}>>) -> tensor<2x3x!quant.uniform<i8:f32, 0.05>> {
  %0 = qopt.requantize %arg0 : tensor<2x3x!quant.uniform<i8:f32:1, {0.1, 0.1, 0.1}>> to tensor<2x3x!quant.uniform<i32:f32, 0.1>>
  %1 = qopt.requantize %0 : tensor<2x3x!quant.uniform<i32:f32, 0.1>> to tensor<2x3x!quant.uniform<i8:f32, 0.05>>
  return %1 : tensor<2x3x!quant.uniform<i8:f32, 0.05>>
}

// -----

// The inner step changes the scale, so it rounds: merging would drop that
// rounding and change results. Both steps stay.
// CHECK-LABEL: func @inexact_scale
// CHECK: %[[A:.*]] = qopt.requantize %arg0
// CHECK: %[[B:.*]] = qopt.requantize %[[A]]
// CHECK: return %[[B]]
func.func @inexact_scale(%arg0: tensor<4x!quant.uniform<i8:f32, 0.1>>) -> tensor<4x!quant.uniform<i8:f32, 0.05>> {
  %0 = qopt.requantize %arg0 : tensor<4x!quant.uniform<i8:f32, 0.1>> to tensor<4x!quant.uniform<i8:f32, 0.3>>
  %1 = qopt.requantize %0 : tensor<4x!quant.uniform<i8:f32, 0.3>> to tensor<4x!quant.uniform<i8:f32, 0.05>>
  return %1 : tensor<4x!quant.uniform<i8:f32, 0.05>>
}

// -----

// Same scale but the zero-point shift clamps: i8 with zp 0 to i8 with zp 10
// maps 127 to 137, which saturates at 127. Both steps stay.
// CHECK-LABEL: func @inexact_clamp
// CHECK: %[[A:.*]] = qopt.requantize %arg0
// CHECK: %[[B:.*]] = qopt.requantize %[[A]]
// CHECK: return %[[B]]
func.func @inexact_clamp(%arg0: tensor<4x!quant.uniform<i8:f32, 0.1>>) -> tensor<4x!quant.uniform<i8:f32, 0.2>> {
  %0 = qopt.requantize %arg0 : tensor<4x!quant.uniform<i8:f32, 0.1>> to tensor<4x!quant.uniform<i8:f32, 0.1:10>>
  %1 = qopt.requantize %0 : tensor<4x!quant.uniform<i8:f32, 0.1:10>> to tensor<4x!quant.uniform<i8:f32, 0.2>>
  return %1 : tensor<4x!quant.uniform<i8:f32, 0.2>>
}

// -----

// Narrow range target: [-128, 127] does not fit into [-127, 127].
// CHECK-LABEL: func @inexact_narrow
// CHECK: %[[A:.*]] = qopt.requantize %arg0
// CHECK: %[[B:.*]] = qopt.requantize %[[A]]
func.func @inexact_narrow(%arg0: tensor<4x!quant.uniform<i8:f32, 0.1>>) -> tensor<4x!quant.uniform<i8:f32, 0.2>> {
  %0 = qopt.requantize %arg0 : tensor<4x!quant.uniform<i8:f32, 0.1>> to tensor<4x!quant.uniform<i8<-127:127>:f32, 0.1>>
  %1 = qopt.requantize %0 : tensor<4x!quant.uniform<i8<-127:127>:f32, 0.1>> to tensor<4x!quant.uniform<i8:f32, 0.2>>
  return %1 : tensor<4x!quant.uniform<i8:f32, 0.2>>
}

// -----

// Statistics are never folded away: they are the calibration data.
// CHECK-LABEL: func @stats_kept
// CHECK: qopt.stats
func.func @stats_kept(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  %0 = qopt.stats %arg0 min [0.0] max [1.0] : tensor<4xf32>
  return %0 : tensor<4xf32>
}
