// qopt.dynamic_quantize: round trip of both granularities, and the verifier's
// errors.
// RUN: qopt %s -split-input-file | qopt -split-input-file | FileCheck %s
// RUN: qopt %S/Inputs/dynamic-quantize-invalid.mlir -split-input-file -verify-diagnostics

// CHECK-LABEL: func.func @per_tensor
// CHECK: %{{.*}}, %{{.*}}, %{{.*}} = qopt.dynamic_quantize %arg0 : tensor<4x64xf32> -> tensor<4x64xi8>, tensor<f32>, tensor<i8>
func.func @per_tensor(%x: tensor<4x64xf32>) -> (tensor<4x64xi8>, tensor<f32>, tensor<i8>) {
  %q, %s, %z = qopt.dynamic_quantize %x : tensor<4x64xf32> -> tensor<4x64xi8>, tensor<f32>, tensor<i8>
  return %q, %s, %z : tensor<4x64xi8>, tensor<f32>, tensor<i8>
}

// -----

// CHECK-LABEL: func.func @per_row
// CHECK: qopt.dynamic_quantize %arg0 : tensor<2x4x64xf32> -> tensor<2x4x64xi8>, tensor<2x4x1xf32>, tensor<2x4x1xi8>
func.func @per_row(%x: tensor<2x4x64xf32>) -> (tensor<2x4x64xi8>, tensor<2x4x1xf32>, tensor<2x4x1xi8>) {
  %q, %s, %z = qopt.dynamic_quantize %x : tensor<2x4x64xf32> -> tensor<2x4x64xi8>, tensor<2x4x1xf32>, tensor<2x4x1xi8>
  return %q, %s, %z : tensor<2x4x64xi8>, tensor<2x4x1xf32>, tensor<2x4x1xi8>
}

// -----

// Dynamic sizes are accepted.
// CHECK-LABEL: func.func @dynamic_rows
// CHECK: qopt.dynamic_quantize %arg0 : tensor<?x64xf32> -> tensor<?x64xi8>, tensor<?x1xf32>, tensor<?x1xi8>
func.func @dynamic_rows(%x: tensor<?x64xf32>) -> tensor<?x1xf32> {
  %q, %s, %z = qopt.dynamic_quantize %x : tensor<?x64xf32> -> tensor<?x64xi8>, tensor<?x1xf32>, tensor<?x1xi8>
  return %s : tensor<?x1xf32>
}
