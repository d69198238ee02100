// Invalid options are rejected before the pass runs, with the accepted values.
// RUN: not qopt %s --qopt-legalize="calibrator=kl" 2>&1 | FileCheck %s --check-prefix=CALIB
// CALIB: qopt-legalize: unknown calibrator 'kl'; expected minmax, percentile, entropy or mse
// RUN: not qopt %s --qopt-legalize="activation-type=i4" 2>&1 | FileCheck %s --check-prefix=ACT
// ACT: qopt-legalize: unsupported activation-type 'i4'; expected i8, u8 or i16
// RUN: not qopt %s --qopt-legalize="activations=affine" 2>&1 | FileCheck %s --check-prefix=SCHEME
// SCHEME: qopt-legalize: unknown activations scheme 'affine'; expected asymmetric or symmetric
// RUN: not qopt %s --qopt-legalize="weights=per-row" 2>&1 | FileCheck %s --check-prefix=GRAN
// GRAN: qopt-legalize: unknown weights granularity 'per-row'; expected per-channel, per-tensor or per-group
// RUN: not qopt %s --qopt-legalize="weight-bits=3" 2>&1 | FileCheck %s --check-prefix=BITS
// BITS: qopt-legalize: unsupported weight-bits 3; expected 8 or 4
// RUN: not qopt %s --qopt-legalize="weights=per-group" 2>&1 | FileCheck %s --check-prefix=NOGROUP
// NOGROUP: qopt-legalize: weights=per-group needs group-size=N (N > 0)
// RUN: not qopt %s --qopt-legalize="group-size=32" 2>&1 | FileCheck %s --check-prefix=GROUPONLY
// GROUPONLY: qopt-legalize: group-size is only meaningful with weights=per-group
// RUN: not qopt %s --qopt-legalize="calibrator=percentile percentile=0" 2>&1 | FileCheck %s --check-prefix=PCT
// PCT: qopt-legalize: percentile 0.000000e+00 is outside (0, 100]

// Errors at ops.
// RUN: qopt %s -split-input-file --qopt-legalize="weights=per-group group-size=3" -verify-diagnostics

func.func @group_does_not_divide(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %s = qopt.stats %x min [-1.0] max [1.0] : tensor<1x4xf32>
  %w = arith.constant dense<1.0> : tensor<4x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x2xf32>
  // expected-error @+1 {{group size 3 does not divide the reduction dimension (size 4) of the weight 'tensor<4x2xf32>'}}
  %y = linalg.matmul ins(%s, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

func.func @missing_stats(%x: tensor<1x4xf32> {qopt.name = "input"}) -> tensor<1x2xf32> {
  %w = arith.constant dense<1.0> : tensor<4x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x2xf32>
  // expected-error @+1 {{cannot quantize 'linalg.matmul': input 'input' has no calibration statistics; import calibration statistics (qopt-import-calibration) or pass allow-missing-stats=true to keep this op in float}}
  %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

func.func @per_group_conv(%x: tensor<1x3x3x6xf32>) -> tensor<1x1x1x2xf32> {
  %s = qopt.stats %x min [-1.0] max [1.0] : tensor<1x3x3x6xf32>
  %f = arith.constant dense<0.5> : tensor<3x3x6x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x1x1x2xf32>
  // expected-error @+1 {{per-group weights need a 2-D matmul weight with one reduction dimension; 'linalg.conv_2d_nhwc_hwcf' has 4-D weights}}
  %y = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%s, %f : tensor<1x3x3x6xf32>, tensor<3x3x6x2xf32>) outs(%z : tensor<1x1x1x2xf32>) -> tensor<1x1x1x2xf32>
  return %y : tensor<1x1x1x2xf32>
}

// -----

func.func @unsupported_precision(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %s = qopt.stats %x min [-1.0] max [1.0] : tensor<1x4xf32>
  %w = arith.constant dense<1.0> : tensor<4x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x2xf32>
  // expected-error @+1 {{asks for 4-bit activations; qopt-legalize supports 8 and 16}}
  %y = linalg.matmul {qopt.precision = #qopt.precision<act = i4, weight = i4>} ins(%s, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
