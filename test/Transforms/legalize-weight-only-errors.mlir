// qopt-legalize{mode=weight-only}: what cannot be quantized is an error at
// the op, never a silent skip.
// RUN: qopt %s -split-input-file -verify-diagnostics --qopt-legalize="mode=weight-only weight-bits=4 group-size=3" -o /dev/null
// RUN: not qopt %s --qopt-legalize="mode=weight-only weight-clip=best" -o /dev/null 2>&1 | FileCheck %s --check-prefix=CLIP
// RUN: not qopt %s --qopt-legalize="weight-clip=search" -o /dev/null 2>&1 | FileCheck %s --check-prefix=STATIC
// RUN: not qopt %s --qopt-legalize="mode=weight-only weight-bits=2" -o /dev/null 2>&1 | FileCheck %s --check-prefix=BITS

// CLIP: error: qopt-legalize: unknown weight-clip 'best'; expected none or search
// STATIC: error: qopt-legalize: weight-clip and weight-zero-point apply to mode=weight-only
// BITS: error: qopt-legalize: unsupported weight-bits 2; expected 8 or 4

func.func @group_does_not_divide(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<1.0> : tensor<4x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x2xf32>
  // expected-error @+1 {{group size 3 does not divide the reduction dimension K = 4 of 'linalg.matmul'; choose a group size that divides K}}
  %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

func.func @odd_group(%x: tensor<1x3xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<1.0> : tensor<3x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x2xf32>
  // expected-error @+1 {{group size 3 is odd; qopt.matmul_nbits needs an even group size (4-bit weights are packed two per byte within a group)}}
  %y = linalg.matmul ins(%x, %w : tensor<1x3xf32>, tensor<3x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

func.func @weight_not_constant(%x: tensor<1x6xf32>, %w: tensor<6x2xf32>) -> tensor<1x2xf32> {
  %z = arith.constant dense<0.0> : tensor<1x2xf32>
  // expected-error @+1 {{mode=weight-only quantizes matmuls whose weight (operand 1) is a constant, and the weight of 'linalg.matmul' is computed at run time; keep this op in float with #qopt.precision<act = f32> or make the weight a constant}}
  %y = linalg.matmul ins(%x, %w : tensor<1x6xf32>, tensor<6x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

func.func @int4_activations(%x: tensor<1x6xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<1.0> : tensor<6x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x2xf32>
  // expected-error @+1 {{asks for 4-bit integer activations, but mode=weight-only keeps activations in f32; use act = f32 (or mode=static)}}
  %y = linalg.matmul {qopt.precision = #qopt.precision<act = i4, weight = i4, per_group = 2>} ins(%x, %w : tensor<1x6xf32>, tensor<6x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

func.func @f16_activations(%x: tensor<1x6xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<1.0> : tensor<6x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x2xf32>
  // expected-error @+1 {{asks for 'f16' activations; mode=weight-only computes in f32 or bf16}}
  %y = linalg.matmul {qopt.precision = #qopt.precision<act = f16, weight = i4, per_group = 2>} ins(%x, %w : tensor<1x6xf32>, tensor<6x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

func.func @per_tensor(%x: tensor<1x6xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<1.0> : tensor<6x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x2xf32>
  // expected-error @+1 {{asks for per-tensor weights; mode=weight-only quantizes per group (per_group = N) or per channel}}
  %y = linalg.matmul {qopt.precision = #qopt.precision<act = f32, weight = i8, per_tensor>} ins(%x, %w : tensor<1x6xf32>, tensor<6x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
