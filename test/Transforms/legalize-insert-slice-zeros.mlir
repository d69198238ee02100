// RUN: qopt %s --qopt-legalize=allow-missing-stats=true 2>/dev/null | FileCheck %s
// RUN: not qopt %s --qopt-legalize 2>&1 | FileCheck %s --check-prefix=NONZERO

// The imported ConvTranspose (PaddleOCR det's p2o.ConvTranspose.1) spreads
// its input over a zero tensor with a strided tensor.insert_slice, pads it
// with zeros and runs a convolution: the convolution's input holds the
// values of %x and zeros, and 0.0 quantizes exactly to the zero point, so it
// shares %x's parameters (before, qopt-legalize stopped: "an input has no
// calibration statistics"). %x in [0.0, 2.55], asymmetric i8: scale 0.01,
// zero point -128 (by hand).
// CHECK-LABEL: func @convtranspose_input
// Every step of the chain carries those parameters (qopt-quantize-kernels
// then moves the data in i8).
// CHECK: %[[INS:.*]] = tensor.insert_slice
// CHECK: quant.qcast %[[INS]] : tensor<1x1x3x3xf32> to tensor<1x1x3x3x!quant.uniform<i8:f32, 0.0099999997764825821:-128>>
// CHECK: %[[PAD:.*]] = tensor.pad
// CHECK: %[[Q:.*]] = quant.qcast %[[PAD]] : tensor<1x1x5x5xf32> to tensor<1x1x5x5x!quant.uniform<i8:f32, 0.0099999997764825821:-128>>
// CHECK: %[[D:.*]] = quant.dcast %[[Q]]
// CHECK: linalg.conv_2d_nchw_fchw {{.*}} ins(%[[D]],
func.func @convtranspose_input(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x4x4xf32> {
  %s = qopt.stats %x min [0.0] max [2.55] : tensor<1x1x2x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1x3x3xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1x3x3xf32>) -> tensor<1x1x3x3xf32>
  %ins = tensor.insert_slice %s into %f[0, 0, 0, 0] [1, 1, 2, 2] [1, 1, 2, 2] : tensor<1x1x2x2xf32> into tensor<1x1x3x3xf32>
  %p = tensor.pad %ins low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x1x3x3xf32> to tensor<1x1x5x5xf32>
  %w = arith.constant dense<[[[[1.0, 0.5], [-0.5, 0.25]]]]> : tensor<1x1x2x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x1x4x4xf32>
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%p, %w : tensor<1x1x5x5xf32>, tensor<1x1x2x2xf32>) outs(%z : tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
  return %y : tensor<1x1x4x4xf32>
}

// Inserted into ones, the result holds values %x does not: no shared
// parameters, and without statistics of its own the op cannot be quantized
// (the error names the convolution's line).
// NONZERO: legalize-insert-slice-zeros.mlir:[[@LINE+9]]:{{[0-9]+}}: error: cannot quantize 'linalg.conv_2d_nchw_fchw': an input has no calibration statistics
func.func @insert_into_ones(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %s = qopt.stats %x min [0.0] max [2.55] : tensor<1x1x2x2xf32>
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<1x1x3x3xf32>
  %f = linalg.fill ins(%one : f32) outs(%e : tensor<1x1x3x3xf32>) -> tensor<1x1x3x3xf32>
  %ins = tensor.insert_slice %s into %f[0, 0, 0, 0] [1, 1, 2, 2] [1, 1, 2, 2] : tensor<1x1x2x2xf32> into tensor<1x1x3x3xf32>
  %w = arith.constant dense<[[[[1.0, 0.5], [-0.5, 0.25]]]]> : tensor<1x1x2x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x1x2x2xf32>
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%ins, %w : tensor<1x1x3x3xf32>, tensor<1x1x2x2xf32>) outs(%z : tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32>
  return %y : tensor<1x1x2x2xf32>
}
