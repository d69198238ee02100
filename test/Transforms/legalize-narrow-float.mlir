// #qopt.precision with bf16 or f16: the contraction computes on inputs of
// that type (weights converted at compile time, activations by truncf) and
// accumulates in f32. The rebuilt ops round-trip (--verify-roundtrip: a
// named op's region is rebuilt from its operand types when parsed).
// RUN: qopt %s -split-input-file --qopt-legalize --verify-roundtrip | FileCheck %s
// RUN: qopt %s -split-input-file --qopt-legalize --qopt-quantize-kernels --qopt-fold-requant --qopt-lower-quant | FileCheck %s --check-prefix=PIPE

// CHECK-LABEL: func.func @matmul_bf16
// CHECK: %[[XB:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<1x3xf32>) outs(%{{.*}} : tensor<1x3xbf16>)
// CHECK:   arith.truncf %{{.*}} : f32 to bf16
// CHECK: %[[W:.*]] = arith.constant dense<{{\[}}[5.000000e-01, -2.500000e-01], [1.250000e-01, 1.000000e+00], [-7.500000e-01, 3.007810e-01]]> : tensor<3x2xbf16>
// CHECK: linalg.matmul {{.*}}ins(%[[XB]], %[[W]] : tensor<1x3xbf16>, tensor<3x2xbf16>) outs(%{{.*}} : tensor<1x2xf32>)
// CHECK-NOT: quant.
// PIPE-LABEL: func.func @matmul_bf16
// PIPE: linalg.matmul {{.*}}tensor<1x3xbf16>, tensor<3x2xbf16>
func.func @matmul_bf16(%x: tensor<1x3xf32>) -> tensor<1x2xf32> {
  %s = qopt.stats %x min [-1.0] max [1.0] : tensor<1x3xf32>
  %w = arith.constant dense<[[0.5, -0.25], [0.125, 1.0], [-0.75, 0.3]]> : tensor<3x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  %y = linalg.matmul {qopt.precision = #qopt.precision<act = bf16, weight = bf16>}
      ins(%s, %w : tensor<1x3xf32>, tensor<3x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// CHECK-LABEL: func.func @conv_f16
// CHECK: arith.truncf %{{.*}} : f32 to f16
// CHECK: arith.constant {{.*}} : tensor<2x1x1x1xf16>
// CHECK: linalg.conv_2d_nchw_fchw {{.*}}ins(%{{.*}}, %{{.*}} : tensor<1x1x2x2xf16>, tensor<2x1x1x1xf16>) outs(%{{.*}} : tensor<1x2x2x2xf32>)
func.func @conv_f16(%x: tensor<1x1x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %w = arith.constant dense<[[[[0.5]]], [[[-1.5]]]]> : tensor<2x1x1x1xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x2x2xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>,
                                 qopt.precision = #qopt.precision<act = f16, weight = f16>}
      ins(%x, %w : tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32>) outs(%z : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  return %y : tensor<1x2x2x2xf32>
}

// -----

// f32 keeps the op as it is.
// CHECK-LABEL: func.func @keep_f32
// CHECK: linalg.matmul {{.*}}ins(%{{.*}}, %{{.*}} : tensor<1x2xf32>, tensor<2x2xf32>)
func.func @keep_f32(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[0.5, -0.25], [0.125, 1.0]]> : tensor<2x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  %y = linalg.matmul {qopt.precision = #qopt.precision<act = f32, weight = f32>}
      ins(%x, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
