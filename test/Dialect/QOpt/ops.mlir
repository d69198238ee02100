// RUN: qopt %s | FileCheck %s
// RUN: qopt %s | qopt | FileCheck %s
// RUN: qopt -mlir-print-op-generic %s | qopt | FileCheck %s

// CHECK-LABEL: func @stats_per_tensor
// CHECK: qopt.stats %{{.*}} min [-1.000000e+00] max [2.500000e+00] : tensor<4x3xf32>
func.func @stats_per_tensor(%arg0: tensor<4x3xf32>) -> tensor<4x3xf32> {
  %0 = qopt.stats %arg0 min [-1.0] max [2.5] : tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// CHECK-LABEL: func @stats_per_axis
// CHECK: qopt.stats %{{.*}} axis 1 min [-1.000000e+00, 0.000000e+00, -2.000000e+00] max [1.000000e+00, 5.000000e-01, 2.000000e+00] : tensor<4x3xf32>
func.func @stats_per_axis(%arg0: tensor<4x3xf32>) -> tensor<4x3xf32> {
  %0 = qopt.stats %arg0 axis 1 min [-1.0, 0.0, -2.0] max [1.0, 0.5, 2.0] : tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// A dynamic dimension accepts any number of per-axis ranges.
// CHECK-LABEL: func @stats_per_axis_dynamic
// CHECK: qopt.stats %{{.*}} axis 0 min [-1.000000e+00, -2.000000e+00] max [1.000000e+00, 2.000000e+00] : tensor<?x3xbf16>
func.func @stats_per_axis_dynamic(%arg0: tensor<?x3xbf16>) -> tensor<?x3xbf16> {
  %0 = qopt.stats %arg0 axis 0 min [-1.0, -2.0] max [1.0, 2.0] : tensor<?x3xbf16>
  return %0 : tensor<?x3xbf16>
}

// CHECK-LABEL: func @stats_histogram
// CHECK: qopt.stats %{{.*}} min [0.000000e+00] max [6.000000e+00] histogram [0.000000e+00, 6.000000e+00] counts [10, 4, 0, 1] : tensor<8xf16>
func.func @stats_histogram(%arg0: tensor<8xf16>) -> tensor<8xf16> {
  %0 = qopt.stats %arg0 min [0.0] max [6.0] histogram [0.0, 6.0] counts [10, 4, 0, 1] : tensor<8xf16>
  return %0 : tensor<8xf16>
}

// A constant tensor: a single-point range and a zero-width histogram.
// CHECK-LABEL: func @stats_degenerate
// CHECK: qopt.stats %{{.*}} min [0.000000e+00] max [0.000000e+00] histogram [0.000000e+00, 0.000000e+00] counts [5] : tensor<5xf32>
func.func @stats_degenerate(%arg0: tensor<5xf32>) -> tensor<5xf32> {
  %0 = qopt.stats %arg0 min [0.0] max [0.0] histogram [0.0, 0.0] counts [5] : tensor<5xf32>
  return %0 : tensor<5xf32>
}

// CHECK-LABEL: func @stats_exact_params
// CHECK: qopt.stats %{{.*}} axis 0 min [-1.000000e+00, -2.000000e+00] max [1.000000e+00, 2.000000e+00] scale [7.812500e-03, 1.562500e-02] zero_point [0, 0] bits 8 : tensor<2x3xf32>
func.func @stats_exact_params(%arg0: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = qopt.stats %arg0 axis 0 min [-1.0, -2.0] max [1.0, 2.0] scale [0.0078125, 0.015625] zero_point [0, 0] bits 8 : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// CHECK-LABEL: func @requantize_per_tensor
// CHECK: qopt.requantize %{{.*}} : tensor<4x3x!quant.uniform<i8:f32, 1.000000e-01:-3>> to tensor<4x3x!quant.uniform<i8:f32, 5.000000e-02:-3>>
func.func @requantize_per_tensor(%arg0: tensor<4x3x!quant.uniform<i8:f32, 0.1:-3>>) -> tensor<4x3x!quant.uniform<i8:f32, 0.05:-3>> {
  %0 = qopt.requantize %arg0 : tensor<4x3x!quant.uniform<i8:f32, 0.1:-3>> to tensor<4x3x!quant.uniform<i8:f32, 0.05:-3>>
  return %0 : tensor<4x3x!quant.uniform<i8:f32, 0.05:-3>>
}

// The accumulator of a per-channel matmul to an i8 activation.
// CHECK-LABEL: func @requantize_accumulator
// CHECK: qopt.requantize %{{.*}} : tensor<4x3x!quant.uniform<i32:f32:1, {1.000000e-03,2.000000e-03,4.000000e-03}>> to tensor<4x3x!quant.uniform<i8:f32, 5.000000e-02:-3>>
func.func @requantize_accumulator(%arg0: tensor<4x3x!quant.uniform<i32:f32:1, {0.001, 0.002, 0.004}>>) -> tensor<4x3x!quant.uniform<i8:f32, 0.05:-3>> {
  %0 = qopt.requantize %arg0 : tensor<4x3x!quant.uniform<i32:f32:1, {0.001, 0.002, 0.004}>> to tensor<4x3x!quant.uniform<i8:f32, 0.05:-3>>
  return %0 : tensor<4x3x!quant.uniform<i8:f32, 0.05:-3>>
}

// CHECK-LABEL: func @requantize_scalar_and_narrow
// CHECK: qopt.requantize %{{.*}} : !quant.uniform<u8:f32, 2.000000e-02:128> to !quant.uniform<i8<-127:127>:f32, 1.000000e-02>
func.func @requantize_scalar_and_narrow(%arg0: !quant.uniform<u8:f32, 0.02:128>) -> !quant.uniform<i8<-127:127>:f32, 0.01> {
  %0 = qopt.requantize %arg0 : !quant.uniform<u8:f32, 0.02:128> to !quant.uniform<i8<-127:127>:f32, 0.01>
  return %0 : !quant.uniform<i8<-127:127>:f32, 0.01>
}

// Sub-channel (per-group) types: 2 groups of 4 along dimension 1.
// CHECK-LABEL: func @requantize_sub_channel
// CHECK: qopt.requantize %{{.*}} : tensor<2x8x!quant.uniform<i4:f32:{1:4}, {{\{\{}}1.000000e+00, 2.000000e+00}, {3.000000e+00, 4.000000e+00}}>> to tensor<2x8x!quant.uniform<i8:f32, 5.000000e-01>>
func.func @requantize_sub_channel(%arg0: tensor<2x8x!quant.uniform<i4:f32:{1:4}, {{1.0, 2.0}, {3.0, 4.0}}>>) -> tensor<2x8x!quant.uniform<i8:f32, 0.5>> {
  %0 = qopt.requantize %arg0 : tensor<2x8x!quant.uniform<i4:f32:{1:4}, {{1.0, 2.0}, {3.0, 4.0}}>> to tensor<2x8x!quant.uniform<i8:f32, 0.5>>
  return %0 : tensor<2x8x!quant.uniform<i8:f32, 0.5>>
}

// CHECK-LABEL: func @precision_attrs
// CHECK-SAME: p0 = #qopt.precision<act = i8, weight = i8, per_channel>
// CHECK-SAME: p1 = #qopt.precision<act = i8, weight = i4, per_group = 32>
// CHECK-SAME: p2 = #qopt.precision<act = f32, weight = i4, per_group = 128>
// CHECK-SAME: p3 = #qopt.precision<act = bf16, weight = bf16>
// CHECK-SAME: p4 = #qopt.precision<act = i8>
// CHECK-SAME: p5 = #qopt.precision<act = ui8, weight = i8, per_tensor>
// CHECK-SAME: p6 = #qopt.precision<act = i16, weight = i8, per_channel>
// CHECK-SAME: p7 = #qopt.precision<act = f16, weight = f8E4M3FN>
func.func @precision_attrs() attributes {
    p0 = #qopt.precision<act = i8, weight = i8>,
    p1 = #qopt.precision<act = i8, weight = i4, per_group = 32>,
    p2 = #qopt.precision<act = f32, weight = i4, per_group = 128>,
    p3 = #qopt.precision<act = bf16, weight = bf16>,
    p4 = #qopt.precision<act = i8>,
    p5 = #qopt.precision<act = ui8, weight = i8, per_tensor>,
    p6 = #qopt.precision<act = i16, weight = i8, per_channel>,
    p7 = #qopt.precision<act = f16, weight = f8E4M3FN>} {
  return
}
