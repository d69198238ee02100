// qopt.matmul_nbits: round trip and verifier errors.
// RUN: qopt %s -split-input-file -verify-diagnostics | FileCheck %s

// CHECK-LABEL: func @roundtrip
// CHECK: qopt.matmul_nbits %arg0, %arg1 scales %arg2 bits 4 group_size 32 : tensor<2x5x64xf32>, tensor<3x2x16xi8>, tensor<3x2xf32> -> tensor<2x5x3xf32>
// CHECK: qopt.matmul_nbits %arg3, %arg4 scales %arg5 zero_points %arg6 bits 8 group_size 2 : tensor<1x4xf32>, tensor<3x2x2xi8>, tensor<3x2xf32>, tensor<3x2xi8> -> tensor<1x3xf32>
func.func @roundtrip(%a: tensor<2x5x64xf32>, %w: tensor<3x2x16xi8>, %s: tensor<3x2xf32>,
                     %a8: tensor<1x4xf32>, %w8: tensor<3x2x2xi8>, %s8: tensor<3x2xf32>, %z8: tensor<3x2xi8>)
    -> (tensor<2x5x3xf32>, tensor<1x3xf32>) {
  %y = qopt.matmul_nbits %a, %w scales %s bits 4 group_size 32 : tensor<2x5x64xf32>, tensor<3x2x16xi8>, tensor<3x2xf32> -> tensor<2x5x3xf32>
  %y8 = qopt.matmul_nbits %a8, %w8 scales %s8 zero_points %z8 bits 8 group_size 2 : tensor<1x4xf32>, tensor<3x2x2xi8>, tensor<3x2xf32>, tensor<3x2xi8> -> tensor<1x3xf32>
  return %y, %y8 : tensor<2x5x3xf32>, tensor<1x3xf32>
}

// -----

func.func @bad_bits(%a: tensor<1x64xf32>, %w: tensor<3x2x16xi8>, %s: tensor<3x2xf32>) -> tensor<1x3xf32> {
  // expected-error @+1 {{bits must be 4 or 8, got 2}}
  %y = qopt.matmul_nbits %a, %w scales %s bits 2 group_size 32 : tensor<1x64xf32>, tensor<3x2x16xi8>, tensor<3x2xf32> -> tensor<1x3xf32>
  return %y : tensor<1x3xf32>
}

// -----

func.func @odd_group(%a: tensor<1x63xf32>, %w: tensor<3x3x10xi8>, %s: tensor<3x3xf32>) -> tensor<1x3xf32> {
  // expected-error @+1 {{group_size must be positive and even, got 21}}
  %y = qopt.matmul_nbits %a, %w scales %s bits 4 group_size 21 : tensor<1x63xf32>, tensor<3x3x10xi8>, tensor<3x3xf32> -> tensor<1x3xf32>
  return %y : tensor<1x3xf32>
}

// -----

func.func @group_not_dividing(%a: tensor<1x60xf32>, %w: tensor<3x2x16xi8>, %s: tensor<3x2xf32>) -> tensor<1x3xf32> {
  // expected-error @+1 {{group_size 32 does not divide the reduction size 60}}
  %y = qopt.matmul_nbits %a, %w scales %s bits 4 group_size 32 : tensor<1x60xf32>, tensor<3x2x16xi8>, tensor<3x2xf32> -> tensor<1x3xf32>
  return %y : tensor<1x3xf32>
}

// -----

func.func @bad_weight(%a: tensor<1x64xf32>, %w: tensor<3x2x32xi8>, %s: tensor<3x2xf32>) -> tensor<1x3xf32> {
  // expected-error @+1 {{weight must be tensor<Nx2x16xi8> (N x groups x bytes per group), got 'tensor<3x2x32xi8>'}}
  %y = qopt.matmul_nbits %a, %w scales %s bits 4 group_size 32 : tensor<1x64xf32>, tensor<3x2x32xi8>, tensor<3x2xf32> -> tensor<1x3xf32>
  return %y : tensor<1x3xf32>
}

// -----

func.func @bad_result(%a: tensor<1x64xf32>, %w: tensor<3x2x16xi8>, %s: tensor<3x2xf32>) -> tensor<1x4xf32> {
  // expected-error @+1 {{result must be 'tensor<1x3xf32>', got 'tensor<1x4xf32>'}}
  %y = qopt.matmul_nbits %a, %w scales %s bits 4 group_size 32 : tensor<1x64xf32>, tensor<3x2x16xi8>, tensor<3x2xf32> -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

func.func @bad_scales(%a: tensor<1x64xf32>, %w: tensor<3x2x16xi8>, %s: tensor<3x4xf32>) -> tensor<1x3xf32> {
  // expected-error @+1 {{scales must be tensor<3x2xf32> (N x groups), got 'tensor<3x4xf32>'}}
  %y = qopt.matmul_nbits %a, %w scales %s bits 4 group_size 32 : tensor<1x64xf32>, tensor<3x2x16xi8>, tensor<3x4xf32> -> tensor<1x3xf32>
  return %y : tensor<1x3xf32>
}

// -----

// `compute bf16` round-trips; `compute f32` is the default spelled out.
// CHECK-LABEL: func @compute_type
// CHECK: qopt.matmul_nbits %arg0, %arg1 scales %arg2 bits 4 group_size 32 compute bf16 : tensor<1x64xf32>, tensor<3x2x16xi8>, tensor<3x2xf32> -> tensor<1x3xf32>
// CHECK: qopt.matmul_nbits %arg0, %arg1 scales %arg2 bits 4 group_size 32 compute f32 : tensor<1x64xf32>, tensor<3x2x16xi8>, tensor<3x2xf32> -> tensor<1x3xf32>
func.func @compute_type(%a: tensor<1x64xf32>, %w: tensor<3x2x16xi8>, %s: tensor<3x2xf32>) -> (tensor<1x3xf32>, tensor<1x3xf32>) {
  %y = qopt.matmul_nbits %a, %w scales %s bits 4 group_size 32 compute bf16 : tensor<1x64xf32>, tensor<3x2x16xi8>, tensor<3x2xf32> -> tensor<1x3xf32>
  %f = qopt.matmul_nbits %a, %w scales %s bits 4 group_size 32 compute f32 : tensor<1x64xf32>, tensor<3x2x16xi8>, tensor<3x2xf32> -> tensor<1x3xf32>
  return %y, %f : tensor<1x3xf32>, tensor<1x3xf32>
}

// -----

func.func @compute_f16(%a: tensor<1x64xf32>, %w: tensor<3x2x16xi8>, %s: tensor<3x2xf32>) -> tensor<1x3xf32> {
  // expected-error @+1 {{compute type must be f32 or bf16, got 'f16'}}
  %y = qopt.matmul_nbits %a, %w scales %s bits 4 group_size 32 compute f16 : tensor<1x64xf32>, tensor<3x2x16xi8>, tensor<3x2xf32> -> tensor<1x3xf32>
  return %y : tensor<1x3xf32>
}

// -----

func.func @int8_block_bf16(%a: tensor<1x64xf32>, %w: tensor<3x1x32xi8>, %s: tensor<3x1xf32>) -> tensor<1x3xf32> {
  // expected-error @+1 {{int8_block computes in integers; it excludes 'compute bf16'}}
  %y = qopt.matmul_nbits %a, %w scales %s bits 4 group_size 64 int8_block compute bf16 : tensor<1x64xf32>, tensor<3x1x32xi8>, tensor<3x1xf32> -> tensor<1x3xf32>
  return %y : tensor<1x3xf32>
}
