// RUN: qopt %s --qopt-legalize | FileCheck %s
// RUN: qopt %s --qopt-legalize --qopt-quantize-kernels | FileCheck %s --check-prefix=KERNEL
// RUN: qopt %s --qopt-legalize --mlir-print-debuginfo | FileCheck %s --check-prefix=LOC

// An NCHW convolution whose bias is written as ONNX importers write it: the
// [C] initializer reshaped to [C, 1, 1] and read at (d1, 0, 0). The bias is
// quantized as a [C] i32 tensor read at the channel loop d1, the form the
// integer kernel folds into its accumulator.
//
// Activation [0.0, 2.55] asymmetric i8: scale 0.01 (float32), zero point
// -128. Weights per output channel: amax 1.27 -> scale 0.01, amax 0.5 ->
// scale 0.5/127 = 0.003937008 (float32). Bias scales are the float32
// products 0.01 * 0.01 = 1e-4 and 0.01 * 0.003937008 = 3.937008e-05, so
// 0.5 -> 5000 and -0.25 -> -6349.9999 -> -6350.
// CHECK: #[[BMAP:.*]] = affine_map<(d0, d1, d2, d3) -> (d1)>
// CHECK-LABEL: func @conv_nchw_reshaped_bias
// CHECK-NOT: tensor.expand_shape
// CHECK: %[[CONV:.*]] = linalg.conv_2d_nchw_fchw
// CHECK-DAG: %[[BI:.*]] = arith.constant dense<[5000, -6350]> : tensor<2xi32>
// CHECK-DAG: %[[BQ:.*]] = quant.scast %[[BI]] : tensor<2xi32> to tensor<2x!quant.uniform<i32:f32:0, {{.*}}>>
// CHECK-DAG: %[[BD:.*]] = quant.dcast %[[BQ]] : tensor<2x!quant.uniform<i32:f32:0, {{.*}}>> to tensor<2xf32>
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[BMAP]], #{{.*}}], {{.*}} ins(%[[CONV]], %[[BD]] : tensor<1x2x2x2xf32>, tensor<2xf32>)
// The i32 bias keeps the constant's name (the QDQ export finds the ONNX
// initializer by it), not the reshape's.
// LOC: arith.constant dense<[5000, -6350]> : tensor<2xi32> loc(#[[L:loc[0-9]*]])
// LOC: #[[L]] = loc("conv.bias")
// KERNEL-LABEL: func @conv_nchw_reshaped_bias
// The first convolution and its bias are one integer kernel: an i32
// accumulator requantized to i8, no float add left.
// KERNEL-NOT: arith.addf
// KERNEL: qopt.requantize {{.*}} to tensor<1x2x2x2x!quant.uniform<i8:f32
// KERNEL-NOT: arith.addf
// KERNEL: return
func.func @conv_nchw_reshaped_bias(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %s = qopt.stats %x min [0.0] max [2.55] : tensor<1x2x2x2xf32>
  %w = arith.constant dense<[[[[1.27]], [[-1.27]]], [[[0.5]], [[0.25]]]]> : tensor<2x2x1x1xf32>
  %z = arith.constant dense<0.0> : tensor<1x2x2x2xf32>
  %conv = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%s, %w : tensor<1x2x2x2xf32>, tensor<2x2x1x1xf32>) outs(%z : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %cs = qopt.stats %conv min [-3.0] max [3.0] : tensor<1x2x2x2xf32>
  %b = arith.constant dense<[0.5, -0.25]> : tensor<2xf32> loc("conv.bias")
  %bx = tensor.expand_shape %b [[0, 1, 2]] output_shape [2, 1, 1] : tensor<2xf32> into tensor<2x1x1xf32> loc("conv.add")
  %e = tensor.empty() : tensor<1x2x2x2xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%cs, %bx : tensor<1x2x2x2xf32>, tensor<2x1x1xf32>) outs(%e : tensor<1x2x2x2xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %r = arith.addf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<1x2x2x2xf32>
  %ys = qopt.stats %y min [-3.0] max [3.0] : tensor<1x2x2x2xf32>
  // A consumer that quantizes the biased result.
  %w2 = arith.constant dense<[[[[1.0]], [[0.5]]], [[[-0.5]], [[1.0]]]]> : tensor<2x2x1x1xf32>
  %conv2 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%ys, %w2 : tensor<1x2x2x2xf32>, tensor<2x2x1x1xf32>) outs(%z : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  return %conv2 : tensor<1x2x2x2xf32>
}
