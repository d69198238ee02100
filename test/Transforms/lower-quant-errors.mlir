// RUN: not qopt %s --qopt-lower-quant="requant-mode=double" 2>&1 | FileCheck %s --check-prefix=MODE
// MODE: qopt-lower-quant: unknown requant-mode 'double'; expected fixed-point or float
// RUN: not qopt %s --qopt-lower-quant="signature=int" 2>&1 | FileCheck %s --check-prefix=SIG
// SIG: qopt-lower-quant: unknown signature mode 'int'; expected storage or keep
// RUN: qopt %s -split-input-file --qopt-lower-quant -verify-diagnostics

func.func @sub_channel_requantize(%a: tensor<4x2x!quant.uniform<i8:f32:{0:2, 1:1}, {{0.5, 0.25}, {1.0, 2.0}}>>) -> tensor<4x2x!quant.uniform<i8:f32, 0.5>> {
  // expected-error @+1 {{requantization of sub-channel types is not supported; normalize them to per-axis types first (normalize-quant-types)}}
  %r = qopt.requantize %a : tensor<4x2x!quant.uniform<i8:f32:{0:2, 1:1}, {{0.5, 0.25}, {1.0, 2.0}}>> to tensor<4x2x!quant.uniform<i8:f32, 0.5>>
  return %r : tensor<4x2x!quant.uniform<i8:f32, 0.5>>
}

// -----

func.func @different_axes(%a: tensor<2x2x!quant.uniform<i32:f32:0, {0.5, 0.25}>>) -> tensor<2x2x!quant.uniform<i8:f32:1, {1.0, 2.0}>> {
  // expected-error @+1 {{requantization between per-axis types on different axes is not supported}}
  %r = qopt.requantize %a : tensor<2x2x!quant.uniform<i32:f32:0, {0.5, 0.25}>> to tensor<2x2x!quant.uniform<i8:f32:1, {1.0, 2.0}>>
  return %r : tensor<2x2x!quant.uniform<i8:f32:1, {1.0, 2.0}>>
}

// -----

func.func @multiplier_too_large(%a: tensor<4x!quant.uniform<i32:f32, 1.0e10>>) -> tensor<4x!quant.uniform<i8:f32, 1.0>> {
  // expected-error @+1 {{cannot requantize with the multiplier}}
  %r = qopt.requantize %a : tensor<4x!quant.uniform<i32:f32, 1.0e10>> to tensor<4x!quant.uniform<i8:f32, 1.0>>
  return %r : tensor<4x!quant.uniform<i8:f32, 1.0>>
}
