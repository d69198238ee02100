// qopt.matmul_nbits with int8_block (MatMulNBits accuracy_level 4): round
// trip with a bias, and verifier errors.
// RUN: qopt %s -split-input-file -verify-diagnostics | FileCheck %s

// CHECK-LABEL: func @roundtrip
// CHECK: qopt.matmul_nbits %arg0, %arg1 scales %arg2 zero_points %arg3 bias(%arg4 : tensor<8xf32>) bits 4 group_size 64 int8_block : tensor<2x128xf32>, tensor<8x2x32xi8>, tensor<8x2xf32>, tensor<8x2xi8> -> tensor<2x8xf32>
// CHECK: qopt.matmul_nbits %arg0, %arg5 scales %arg6 bits 4 group_size 128 int8_block : tensor<2x128xf32>, tensor<8x1x64xi8>, tensor<8x1xf32> -> tensor<2x8xf32>
func.func @roundtrip(%a: tensor<2x128xf32>, %w: tensor<8x2x32xi8>, %s: tensor<8x2xf32>, %z: tensor<8x2xi8>, %b: tensor<8xf32>,
                     %w2: tensor<8x1x64xi8>, %s2: tensor<8x1xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>) {
  %y = qopt.matmul_nbits %a, %w scales %s zero_points %z bias(%b : tensor<8xf32>) bits 4 group_size 64 int8_block : tensor<2x128xf32>, tensor<8x2x32xi8>, tensor<8x2xf32>, tensor<8x2xi8> -> tensor<2x8xf32>
  %y2 = qopt.matmul_nbits %a, %w2 scales %s2 bits 4 group_size 128 int8_block : tensor<2x128xf32>, tensor<8x1x64xi8>, tensor<8x1xf32> -> tensor<2x8xf32>
  return %y, %y2 : tensor<2x8xf32>, tensor<2x8xf32>
}

// -----

func.func @group32(%a: tensor<1x64xf32>, %w: tensor<3x2x16xi8>, %s: tensor<3x2xf32>) -> tensor<1x3xf32> {
  // expected-error @+1 {{int8_block (ONNX Runtime's accuracy_level 4 rule) needs 4 bits and group_size 64 or 128, got 4 bits and group_size 32}}
  %y = qopt.matmul_nbits %a, %w scales %s bits 4 group_size 32 int8_block : tensor<1x64xf32>, tensor<3x2x16xi8>, tensor<3x2xf32> -> tensor<1x3xf32>
  return %y : tensor<1x3xf32>
}

// -----

func.func @bits8(%a: tensor<1x64xf32>, %w: tensor<3x1x64xi8>, %s: tensor<3x1xf32>) -> tensor<1x3xf32> {
  // expected-error @+1 {{int8_block (ONNX Runtime's accuracy_level 4 rule) needs 4 bits and group_size 64 or 128, got 8 bits and group_size 64}}
  %y = qopt.matmul_nbits %a, %w scales %s bits 8 group_size 64 int8_block : tensor<1x64xf32>, tensor<3x1x64xi8>, tensor<3x1xf32> -> tensor<1x3xf32>
  return %y : tensor<1x3xf32>
}

// -----

func.func @bias_without_int8(%a: tensor<1x64xf32>, %w: tensor<3x1x32xi8>, %s: tensor<3x1xf32>, %b: tensor<3xf32>) -> tensor<1x3xf32> {
  // expected-error @+1 {{a bias operand needs int8_block}}
  %y = qopt.matmul_nbits %a, %w scales %s bias(%b : tensor<3xf32>) bits 4 group_size 64 : tensor<1x64xf32>, tensor<3x1x32xi8>, tensor<3x1xf32> -> tensor<1x3xf32>
  return %y : tensor<1x3xf32>
}

// -----

func.func @bias_shape(%a: tensor<1x64xf32>, %w: tensor<3x1x32xi8>, %s: tensor<3x1xf32>, %b: tensor<4xf32>) -> tensor<1x3xf32> {
  // expected-error @+1 {{bias must be tensor<3xf32>, got 'tensor<4xf32>'}}
  %y = qopt.matmul_nbits %a, %w scales %s bias(%b : tensor<4xf32>) bits 4 group_size 64 int8_block : tensor<1x64xf32>, tensor<3x1x32xi8>, tensor<3x1xf32> -> tensor<1x3xf32>
  return %y : tensor<1x3xf32>
}
