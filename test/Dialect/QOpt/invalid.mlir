// RUN: qopt %s -split-input-file -verify-diagnostics

func.func @stats_count_mismatch(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'qopt.stats' op has 1 'min' values but 2 'max' values}}
  %0 = qopt.stats %arg0 min [0.0] max [1.0, 2.0] : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @stats_empty(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'qopt.stats' op needs at least one 'min' and one 'max' value}}
  %0 = qopt.stats %arg0 min [] max [] : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @stats_axis_out_of_range(%arg0: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @+1 {{'qopt.stats' op axis 2 is out of range for a tensor of rank 2}}
  %0 = qopt.stats %arg0 axis 2 min [0.0, 0.0, 0.0] max [1.0, 1.0, 1.0] : tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @stats_negative_axis(%arg0: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @+1 {{'qopt.stats' op axis -1 is out of range for a tensor of rank 2}}
  %0 = qopt.stats %arg0 axis -1 min [0.0, 0.0, 0.0] max [1.0, 1.0, 1.0] : tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @stats_axis_size(%arg0: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @+1 {{'qopt.stats' op has 2 per-axis ranges but dimension 1 has size 3}}
  %0 = qopt.stats %arg0 axis 1 min [0.0, 0.0] max [1.0, 1.0] : tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @stats_many_ranges_no_axis(%arg0: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'qopt.stats' op has 2 ranges but no 'axis'; per-tensor statistics have exactly one 'min' and one 'max'}}
  %0 = qopt.stats %arg0 min [0.0, 0.0] max [1.0, 1.0] : tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @stats_nan_min(%arg0: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'qopt.stats' op 'min' value #0 is not finite (nan)}}
  %0 = qopt.stats %arg0 min [0x7FF8000000000000] max [1.0] : tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @stats_inf_max(%arg0: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'qopt.stats' op 'max' value #0 is not finite (INF)}}
  %0 = qopt.stats %arg0 min [0.0] max [0x7FF0000000000000] : tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @stats_min_above_max(%arg0: tensor<4x2xf32>) -> tensor<4x2xf32> {
  // expected-error @+1 {{'qopt.stats' op 'min' (3.000000e+00) is greater than 'max' (1.000000e+00) at index 1}}
  %0 = qopt.stats %arg0 axis 1 min [0.0, 3.0] max [1.0, 1.0] : tensor<4x2xf32>
  return %0 : tensor<4x2xf32>
}

// -----

func.func @stats_not_float(%arg0: tensor<4xi32>) -> tensor<4xi32> {
  // expected-error @+1 {{'qopt.stats' op operand #0 must be ranked tensor of floating-point values}}
  %0 = qopt.stats %arg0 min [0.0] max [1.0] : tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

func.func @stats_scale_without_zero_point(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'qopt.stats' op exact parameters need 'scale' and 'zero_point' together}}
  %0 = "qopt.stats"(%arg0) <{min = array<f64: 0.0>, max = array<f64: 1.0>, scale = array<f64: 0.5>}> : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @stats_scale_count(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'qopt.stats' op has 2 scales and 1 zero points for 1 ranges; give one of each per range}}
  %0 = qopt.stats %arg0 min [0.0] max [1.0] scale [0.5, 0.5] zero_point [0] : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @stats_scale_not_positive(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'qopt.stats' op scale #0 (0.000000e+00) is not a positive finite number}}
  %0 = qopt.stats %arg0 min [0.0] max [1.0] scale [0.0] zero_point [0] : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @stats_bits(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'qopt.stats' op bits (64) must be between 2 and 32}}
  %0 = qopt.stats %arg0 min [0.0] max [1.0] bits 64 : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @stats_partial_histogram(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'qopt.stats' op a histogram needs 'hist_min', 'hist_max' and 'counts' together}}
  %0 = "qopt.stats"(%arg0) <{min = array<f64: 0.0>, max = array<f64: 1.0>, counts = array<i64: 1, 2>}> : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @stats_histogram_per_axis(%arg0: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'qopt.stats' op histograms are per tensor; drop 'axis' or the histogram}}
  %0 = qopt.stats %arg0 axis 0 min [0.0, 0.0] max [1.0, 1.0] histogram [0.0, 1.0] counts [1, 1] : tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @stats_histogram_not_finite(%arg0: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'qopt.stats' op histogram bounds [0.000000e+00, INF] are not finite}}
  %0 = qopt.stats %arg0 min [0.0] max [1.0] histogram [0.0, 0x7FF0000000000000] counts [1, 1] : tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @stats_histogram_bounds(%arg0: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'qopt.stats' op histogram lower bound (2.000000e+00) is greater than its upper bound (1.000000e+00)}}
  %0 = qopt.stats %arg0 min [0.0] max [1.0] histogram [2.0, 1.0] counts [1, 1] : tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @stats_histogram_no_bins(%arg0: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'qopt.stats' op histogram has no bins}}
  %0 = qopt.stats %arg0 min [0.0] max [1.0] histogram [0.0, 1.0] counts [] : tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @stats_negative_count(%arg0: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'qopt.stats' op histogram count #1 is negative (-3)}}
  %0 = qopt.stats %arg0 min [0.0] max [1.0] histogram [0.0, 1.0] counts [1, -3] : tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @requantize_not_quantized(%arg0: tensor<4xi8>) -> tensor<4x!quant.uniform<i8:f32, 0.1>> {
  // expected-error @+1 {{'qopt.requantize' op operand #0 must be scalar or tensor of quantized type}}
  %0 = qopt.requantize %arg0 : tensor<4xi8> to tensor<4x!quant.uniform<i8:f32, 0.1>>
  return %0 : tensor<4x!quant.uniform<i8:f32, 0.1>>
}

// -----

func.func @requantize_any(%arg0: tensor<4x!quant.any<i8:f32>>) -> tensor<4x!quant.uniform<i8:f32, 0.1>> {
  // expected-error @+1 {{'qopt.requantize' op input type 'tensor<4x!quant.any<i8:f32>>' is not a uniform quantized type (per tensor, per axis or sub-channel)}}
  %0 = qopt.requantize %arg0 : tensor<4x!quant.any<i8:f32>> to tensor<4x!quant.uniform<i8:f32, 0.1>>
  return %0 : tensor<4x!quant.uniform<i8:f32, 0.1>>
}

// -----

func.func @requantize_shape(%arg0: tensor<4x!quant.uniform<i8:f32, 0.1>>) -> tensor<5x!quant.uniform<i8:f32, 0.2>> {
  // expected-error @+1 {{'qopt.requantize' op input and result shapes differ: 'tensor<4x!quant.uniform<i8:f32, 1.000000e-01>>' vs 'tensor<5x!quant.uniform<i8:f32, 2.000000e-01>>'}}
  %0 = qopt.requantize %arg0 : tensor<4x!quant.uniform<i8:f32, 0.1>> to tensor<5x!quant.uniform<i8:f32, 0.2>>
  return %0 : tensor<5x!quant.uniform<i8:f32, 0.2>>
}

// -----

func.func @requantize_scalar_to_tensor(%arg0: !quant.uniform<i8:f32, 0.1>) -> tensor<1x!quant.uniform<i8:f32, 0.2>> {
  // expected-error @+1 {{'qopt.requantize' op input and result shapes differ}}
  %0 = qopt.requantize %arg0 : !quant.uniform<i8:f32, 0.1> to tensor<1x!quant.uniform<i8:f32, 0.2>>
  return %0 : tensor<1x!quant.uniform<i8:f32, 0.2>>
}

// -----

func.func @requantize_expressed(%arg0: tensor<4x!quant.uniform<i8:f32, 0.1>>) -> tensor<4x!quant.uniform<i8:bf16, 0.2>> {
  // expected-error @+1 {{'qopt.requantize' op input expresses 'f32' but result expresses 'bf16'; requantize keeps the expressed type}}
  %0 = qopt.requantize %arg0 : tensor<4x!quant.uniform<i8:f32, 0.1>> to tensor<4x!quant.uniform<i8:bf16, 0.2>>
  return %0 : tensor<4x!quant.uniform<i8:bf16, 0.2>>
}

// -----

func.func @requantize_axis_range(%arg0: tensor<4x!quant.uniform<i8:f32:1, {0.1, 0.2}>>) -> tensor<4x!quant.uniform<i8:f32, 0.2>> {
  // expected-error @+1 {{'qopt.requantize' op input quantized dimension 1 is out of range for a tensor of rank 1}}
  %0 = qopt.requantize %arg0 : tensor<4x!quant.uniform<i8:f32:1, {0.1, 0.2}>> to tensor<4x!quant.uniform<i8:f32, 0.2>>
  return %0 : tensor<4x!quant.uniform<i8:f32, 0.2>>
}

// -----

func.func @requantize_axis_size(%arg0: tensor<4x!quant.uniform<i8:f32, 0.2>>) -> tensor<4x!quant.uniform<i8:f32:0, {0.1, 0.2}>> {
  // expected-error @+1 {{'qopt.requantize' op result quantized dimension 0 has size 4 but the type has 2 scales}}
  %0 = qopt.requantize %arg0 : tensor<4x!quant.uniform<i8:f32, 0.2>> to tensor<4x!quant.uniform<i8:f32:0, {0.1, 0.2}>>
  return %0 : tensor<4x!quant.uniform<i8:f32:0, {0.1, 0.2}>>
}

// -----

func.func @requantize_per_axis_scalar(%arg0: !quant.uniform<i8:f32:0, {0.1}>) -> !quant.uniform<i8:f32, 0.2> {
  // expected-error @+1 {{'qopt.requantize' op input type '!quant.uniform<i8:f32:0, {1.000000e-01}>' is per-axis quantized and needs a ranked tensor}}
  %0 = qopt.requantize %arg0 : !quant.uniform<i8:f32:0, {0.1}> to !quant.uniform<i8:f32, 0.2>
  return %0 : !quant.uniform<i8:f32, 0.2>
}

// -----

// Upstream parses an out-of-range zero point and would silently wrap it.
func.func @requantize_zero_point_range(%arg0: tensor<4x!quant.uniform<i8:f32, 0.1:200>>) -> tensor<4x!quant.uniform<i8:f32, 0.2>> {
  // expected-error @+1 {{'qopt.requantize' op input zero point 200 is outside the storage range [-128, 127] of '!quant.uniform<i8:f32, 1.000000e-01:200>'}}
  %0 = qopt.requantize %arg0 : tensor<4x!quant.uniform<i8:f32, 0.1:200>> to tensor<4x!quant.uniform<i8:f32, 0.2>>
  return %0 : tensor<4x!quant.uniform<i8:f32, 0.2>>
}

// -----

func.func @requantize_per_axis_zero_point(%arg0: tensor<2x!quant.uniform<i8:f32, 0.2>>) -> tensor<2x!quant.uniform<u8:f32:0, {0.1:0, 0.2:256}>> {
  // expected-error @+1 {{'qopt.requantize' op result zero point 256 is outside the storage range [0, 255]}}
  %0 = qopt.requantize %arg0 : tensor<2x!quant.uniform<i8:f32, 0.2>> to tensor<2x!quant.uniform<u8:f32:0, {0.1:0, 0.2:256}>>
  return %0 : tensor<2x!quant.uniform<u8:f32:0, {0.1:0, 0.2:256}>>
}

// -----

func.func @requantize_block_divides(%arg0: tensor<2x7x!quant.uniform<i4:f32:{1:4}, {{1.0, 2.0}, {3.0, 4.0}}>>) -> tensor<2x7x!quant.uniform<i8:f32, 0.5>> {
  // expected-error @+1 {{'qopt.requantize' op input block size 4 does not divide dimension 1 of size 7}}
  %0 = qopt.requantize %arg0 : tensor<2x7x!quant.uniform<i4:f32:{1:4}, {{1.0, 2.0}, {3.0, 4.0}}>> to tensor<2x7x!quant.uniform<i8:f32, 0.5>>
  return %0 : tensor<2x7x!quant.uniform<i8:f32, 0.5>>
}

// -----

func.func @requantize_block_scales(%arg0: tensor<2x12x!quant.uniform<i4:f32:{1:4}, {{1.0, 2.0}, {3.0, 4.0}}>>) -> tensor<2x12x!quant.uniform<i8:f32, 0.5>> {
  // expected-error @+1 {{'qopt.requantize' op input has 2 scales along dimension 1 but needs 3 (12 / block size 4)}}
  %0 = qopt.requantize %arg0 : tensor<2x12x!quant.uniform<i4:f32:{1:4}, {{1.0, 2.0}, {3.0, 4.0}}>> to tensor<2x12x!quant.uniform<i8:f32, 0.5>>
  return %0 : tensor<2x12x!quant.uniform<i8:f32, 0.5>>
}

// -----

// expected-error @+1 {{activation element type 'i32' is not supported; use an integer of 2 to 16 bits or one of f16, bf16, f32, f8E4M3FN, f8E5M2}}
func.func @precision_act_type() attributes {p = #qopt.precision<act = i32>}

// -----

// expected-error @+1 {{weight element type 'f64' is not supported}}
func.func @precision_weight_type() attributes {p = #qopt.precision<act = f32, weight = f64>}

// -----

// expected-error @+1 {{integer activations ('i8') need integer weights, not 'f32'}}
func.func @precision_int_act_float_weight() attributes {p = #qopt.precision<act = i8, weight = f32>}

// -----

// expected-error @+1 {{a granularity applies only to integer weights}}
func.func @precision_granularity_float() attributes {p = #qopt.precision<act = f32, weight = bf16, per_channel>}

// -----

// expected-error @+1 {{per_group needs a positive group size, got 0}}
func.func @precision_group_size() attributes {p = #qopt.precision<act = i8, weight = i4, per_group = 0>}

// -----

// expected-error @+1 {{expected per_tensor, per_channel or per_group = N, got 'per_row'}}
func.func @precision_unknown_granularity() attributes {p = #qopt.precision<act = i8, weight = i4, per_row>}

// -----

// expected-error @+1 {{expected 'act'}}
func.func @precision_missing_act() attributes {p = #qopt.precision<weight = i8>}
