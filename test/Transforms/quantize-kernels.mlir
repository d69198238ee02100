// RUN: qopt %s -split-input-file --qopt-quantize-kernels | FileCheck %s

// A per-channel matmul becomes an i32 generic on the storage integers; the
// qcast of its result becomes one requantize. The accumulator scale is
// f32(0.1) * f32(s_w) rounded to f32 (0.1f * 0.01f = 0.0010000000474974513).
//
// Worked example (checked by running the lowered kernel): x = [10, -3, 0, 127]
// with zp -3 gives x - zp = [13, 0, 3, 130], so
//   acc[0] = 13*1 + 0*3 + 3*(-5) + 130*7    =   908  (real  908 * 0.001 = 0.908)
//   acc[1] = 13*(-2) + 0*4 + 3*6 + 130*(-8) = -1048  (real -1048 * 0.002 = -2.096)
// which is what the float matmul of the dequantized values gives.
// CHECK-DAG: #[[$A:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[$B:.*]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG: #[[$C:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func @matmul_per_channel
// CHECK-DAG: %[[X:.*]] = arith.constant dense<{{\[}}[10, -3, 0, 127]]> : tensor<1x4xi8>
// CHECK-DAG: %[[W:.*]] = arith.constant dense<{{\[}}[1, -2], [3, 4], [-5, 6], [7, -8]]> : tensor<4x2xi8>
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : i32
// CHECK-DAG: %[[EMPTY:.*]] = tensor.empty() : tensor<1x2xi32>
// CHECK: %[[INIT:.*]] = linalg.fill ins(%[[ZERO]] : i32) outs(%[[EMPTY]] : tensor<1x2xi32>)
// CHECK: %[[ACC:.*]] = linalg.generic {indexing_maps = [#[[$A]], #[[$B]], #[[$C]]], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[X]], %[[W]] : tensor<1x4xi8>, tensor<4x2xi8>) outs(%[[INIT]] : tensor<1x2xi32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: i8, %[[WT:.*]]: i8, %[[OUT:.*]]: i32):
// CHECK-NEXT:   %[[XE:.*]] = arith.extsi %[[IN]] : i8 to i32
// CHECK-NEXT:   %[[ZP:.*]] = arith.constant -3 : i32
// CHECK-NEXT:   %[[XS:.*]] = arith.subi %[[XE]], %[[ZP]] : i32
// CHECK-NEXT:   %[[WE:.*]] = arith.extsi %[[WT]] : i8 to i32
// CHECK-NEXT:   %[[P:.*]] = arith.muli %[[XS]], %[[WE]] : i32
// CHECK-NEXT:   %[[S:.*]] = arith.addi %[[OUT]], %[[P]] : i32
// CHECK-NEXT:   linalg.yield %[[S]] : i32
// CHECK: %[[ACCQ:.*]] = quant.scast %[[ACC]] : tensor<1x2xi32> to tensor<1x2x!quant.uniform<i32:f32:1, {0.0010000000474974513,0.0020000000949949026}>>
// CHECK: %[[Y:.*]] = qopt.requantize %[[ACCQ]] : tensor<1x2x!quant.uniform<i32:f32:1, {0.0010000000474974513,0.0020000000949949026}>> to tensor<1x2x!quant.uniform<i8:f32, 5.000000e-02:2>>
// CHECK-NOT: linalg.matmul
// CHECK-NOT: quant.dcast
// CHECK: return %[[Y]]
func.func @matmul_per_channel() -> tensor<1x2x!quant.uniform<i8:f32, 0.05:2>> {
  %xi = arith.constant dense<[[10, -3, 0, 127]]> : tensor<1x4xi8>
  %xq = quant.scast %xi : tensor<1x4xi8> to tensor<1x4x!quant.uniform<i8:f32, 0.1:-3>>
  %xd = quant.dcast %xq : tensor<1x4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<1x4xf32>
  %wi = arith.constant dense<[[1, -2], [3, 4], [-5, 6], [7, -8]]> : tensor<4x2xi8>
  %wq = quant.scast %wi : tensor<4x2xi8> to tensor<4x2x!quant.uniform<i8<-127:127>:f32:1, {0.01, 0.02}>>
  %wd = quant.dcast %wq : tensor<4x2x!quant.uniform<i8<-127:127>:f32:1, {0.01, 0.02}>> to tensor<4x2xf32>
  %cst = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2xf32>
  %z = linalg.fill ins(%cst : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  %y = linalg.matmul ins(%xd, %wd : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  %yq = quant.qcast %y : tensor<1x2xf32> to tensor<1x2x!quant.uniform<i8:f32, 0.05:2>>
  return %yq : tensor<1x2x!quant.uniform<i8:f32, 0.05:2>>
}

// -----

// Transposed weights through indexing_maps: the generic keeps the maps and
// the weight's axis 0 (N) is the accumulator's axis 1.
// CHECK-DAG: #[[$B:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-LABEL: func @matmul_transposed_weights
// CHECK-SAME: (%[[ARG:.*]]: tensor<2x4xf32>)
// CHECK: %[[XQ:.*]] = quant.qcast %[[ARG]]
// CHECK-DAG: %[[W:.*]] = arith.constant dense<2> : tensor<3x4xi8>
// CHECK-DAG: %[[X:.*]] = quant.scast %[[XQ]] : tensor<2x4x!quant.uniform<i8:f32, 1.000000e-01:-3>> to tensor<2x4xi8>
// CHECK: %[[ACC:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #[[$B]], #{{.*}}], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[X]], %[[W]] : tensor<2x4xi8>, tensor<3x4xi8>)
// CHECK: quant.scast %[[ACC]] : tensor<2x3xi32> to tensor<2x3x!quant.uniform<i32:f32:1, {0.0010000000474974513,0.0020000000949949026,0.0040000001899898052}>>
// CHECK: qopt.requantize
func.func @matmul_transposed_weights(%x: tensor<2x4xf32>) -> tensor<2x3x!quant.uniform<i8:f32, 0.05:2>> {
  %xq = quant.qcast %x : tensor<2x4xf32> to tensor<2x4x!quant.uniform<i8:f32, 0.1:-3>>
  %xd = quant.dcast %xq : tensor<2x4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<2x4xf32>
  %wi = arith.constant dense<2> : tensor<3x4xi8>
  %wq = quant.scast %wi : tensor<3x4xi8> to tensor<3x4x!quant.uniform<i8<-127:127>:f32:0, {0.01, 0.02, 0.04}>>
  %wd = quant.dcast %wq : tensor<3x4x!quant.uniform<i8<-127:127>:f32:0, {0.01, 0.02, 0.04}>> to tensor<3x4xf32>
  %z = arith.constant dense<0.0> : tensor<2x3xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%xd, %wd : tensor<2x4xf32>, tensor<3x4xf32>) outs(%z : tensor<2x3xf32>) -> tensor<2x3xf32>
  %yq = quant.qcast %y : tensor<2x3xf32> to tensor<2x3x!quant.uniform<i8:f32, 0.05:2>>
  return %yq : tensor<2x3x!quant.uniform<i8:f32, 0.05:2>>
}

// -----

// The same weight through a linalg.transpose after its dcast (what
// qopt-legalize makes of ONNX Gemm with transB=1): the kernel reads the
// [N, K] integers in place through the transpose's map composed with the
// matmul's, and the transpose is gone.
// CHECK-DAG: #[[$B:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-LABEL: func @matmul_transpose_op
// CHECK-DAG: %[[W:.*]] = arith.constant dense<2> : tensor<3x4xi8>
// CHECK: %[[ACC:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #[[$B]], #{{.*}}], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%{{.*}}, %[[W]] : tensor<2x4xi8>, tensor<3x4xi8>)
// CHECK: quant.scast %[[ACC]] : tensor<2x3xi32> to tensor<2x3x!quant.uniform<i32:f32:1, {0.0010000000474974513,0.0020000000949949026,0.0040000001899898052}>>
// CHECK: qopt.requantize
// CHECK-NOT: linalg.transpose
func.func @matmul_transpose_op(%x: tensor<2x4xf32>) -> tensor<2x3x!quant.uniform<i8:f32, 0.05:2>> {
  %xq = quant.qcast %x : tensor<2x4xf32> to tensor<2x4x!quant.uniform<i8:f32, 0.1:-3>>
  %xd = quant.dcast %xq : tensor<2x4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<2x4xf32>
  %wi = arith.constant dense<2> : tensor<3x4xi8>
  %wq = quant.scast %wi : tensor<3x4xi8> to tensor<3x4x!quant.uniform<i8<-127:127>:f32:0, {0.01, 0.02, 0.04}>>
  %wd = quant.dcast %wq : tensor<3x4x!quant.uniform<i8<-127:127>:f32:0, {0.01, 0.02, 0.04}>> to tensor<3x4xf32>
  %e = tensor.empty() : tensor<4x3xf32>
  %wt = linalg.transpose ins(%wd : tensor<3x4xf32>) outs(%e : tensor<4x3xf32>) permutation = [1, 0]
  %z = arith.constant dense<0.0> : tensor<2x3xf32>
  %y = linalg.matmul ins(%xd, %wt : tensor<2x4xf32>, tensor<4x3xf32>) outs(%z : tensor<2x3xf32>) -> tensor<2x3xf32>
  %yq = quant.qcast %y : tensor<2x3xf32> to tensor<2x3x!quant.uniform<i8:f32, 0.05:2>>
  return %yq : tensor<2x3x!quant.uniform<i8:f32, 0.05:2>>
}

// -----

// Batch matmul of two activations, one of them u8 (zero-extended, ORT
// style): both per tensor, so the accumulator is per tensor,
// f32(0.1) * f32(0.2) = 0.020000001415610313.
// CHECK-DAG: #[[$A:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[$B:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
// CHECK-DAG: #[[$C:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func @batch_matmul
// CHECK: %[[ACC:.*]] = linalg.generic {indexing_maps = [#[[$A]], #[[$B]], #[[$C]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-NEXT: ^bb0(%[[IN:.*]]: i8, %[[WT:.*]]: i8, %[[OUT:.*]]: i32):
// CHECK-NEXT:   arith.extsi %[[IN]] : i8 to i32
// CHECK-NEXT:   arith.constant -3 : i32
// CHECK-NEXT:   arith.subi
// CHECK-NEXT:   %[[WE:.*]] = arith.extui %[[WT]] : i8 to i32
// CHECK-NEXT:   %[[WZP:.*]] = arith.constant 128 : i32
// CHECK-NEXT:   arith.subi %[[WE]], %[[WZP]] : i32
// CHECK: %[[ACCQ:.*]] = quant.scast %[[ACC]] : tensor<2x3x5xi32> to tensor<2x3x5x!quant.uniform<i32:f32, 0.020000001415610313>>
// CHECK: qopt.requantize %[[ACCQ]] : tensor<2x3x5x!quant.uniform<i32:f32, 0.020000001415610313>> to tensor<2x3x5x!quant.uniform<i8:f32, 5.000000e-02:2>>
func.func @batch_matmul(%x: tensor<2x3x4xf32>, %w: tensor<2x4x5xf32>) -> tensor<2x3x5x!quant.uniform<i8:f32, 0.05:2>> {
  %xq = quant.qcast %x : tensor<2x3x4xf32> to tensor<2x3x4x!quant.uniform<i8:f32, 0.1:-3>>
  %xd = quant.dcast %xq : tensor<2x3x4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<2x3x4xf32>
  %wq = quant.qcast %w : tensor<2x4x5xf32> to tensor<2x4x5x!quant.uniform<u8:f32, 0.2:128>>
  %wd = quant.dcast %wq : tensor<2x4x5x!quant.uniform<u8:f32, 0.2:128>> to tensor<2x4x5xf32>
  %c = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x3x5xf32>
  %z = linalg.fill ins(%c : f32) outs(%e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %y = linalg.batch_matmul ins(%xd, %wd : tensor<2x3x4xf32>, tensor<2x4x5xf32>) outs(%z : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %yq = quant.qcast %y : tensor<2x3x5xf32> to tensor<2x3x5x!quant.uniform<i8:f32, 0.05:2>>
  return %yq : tensor<2x3x5x!quant.uniform<i8:f32, 0.05:2>>
}

// -----

// NHWC convolution with strides: the strides stay in the input map, the
// filter's axis 3 (F) is the accumulator's axis 3.
// CHECK-DAG: #[[$IN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 * 2 + d4, d2 * 2 + d5, d6)>
// CHECK-DAG: #[[$F:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d4, d5, d6, d3)>
// CHECK-DAG: #[[$OUT:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func @conv_2d_nhwc_hwcf
// CHECK: %[[ACC:.*]] = linalg.generic {indexing_maps = [#[[$IN]], #[[$F]], #[[$OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
// CHECK-SAME: ins(%{{.*}}, %{{.*}} : tensor<1x5x5x2xi8>, tensor<3x3x2x3xi8>) outs(%{{.*}} : tensor<1x2x2x3xi32>)
// CHECK: quant.scast %[[ACC]] : tensor<1x2x2x3xi32> to tensor<1x2x2x3x!quant.uniform<i32:f32:3, {0.0010000000474974513,0.0020000000949949026,0.0030000000260770321}>>
// CHECK: qopt.requantize
func.func @conv_2d_nhwc_hwcf(%x: tensor<1x5x5x2xf32>) -> tensor<1x2x2x3x!quant.uniform<i8:f32, 0.05:2>> {
  %xq = quant.qcast %x : tensor<1x5x5x2xf32> to tensor<1x5x5x2x!quant.uniform<i8:f32, 0.1:-3>>
  %xd = quant.dcast %xq : tensor<1x5x5x2x!quant.uniform<i8:f32, 0.1:-3>> to tensor<1x5x5x2xf32>
  %wi = arith.constant dense<1> : tensor<3x3x2x3xi8>
  %wq = quant.scast %wi : tensor<3x3x2x3xi8> to tensor<3x3x2x3x!quant.uniform<i8<-127:127>:f32:3, {0.01, 0.02, 0.03}>>
  %wd = quant.dcast %wq : tensor<3x3x2x3x!quant.uniform<i8<-127:127>:f32:3, {0.01, 0.02, 0.03}>> to tensor<3x3x2x3xf32>
  %c = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x2x3xf32>
  %z = linalg.fill ins(%c : f32) outs(%e : tensor<1x2x2x3xf32>) -> tensor<1x2x2x3xf32>
  %y = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
         ins(%xd, %wd : tensor<1x5x5x2xf32>, tensor<3x3x2x3xf32>) outs(%z : tensor<1x2x2x3xf32>) -> tensor<1x2x2x3xf32>
  %yq = quant.qcast %y : tensor<1x2x2x3xf32> to tensor<1x2x2x3x!quant.uniform<i8:f32, 0.05:2>>
  return %yq : tensor<1x2x2x3x!quant.uniform<i8:f32, 0.05:2>>
}

// -----

// NCHW convolution with dilation 2: the filter's axis 0 (F) is the
// accumulator's axis 1.
// CHECK-DAG: #[[$IN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 + d5 * 2, d3 + d6 * 2)>
// CHECK-DAG: #[[$F:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
// CHECK-LABEL: func @conv_2d_nchw_fchw
// CHECK: %[[ACC:.*]] = linalg.generic {indexing_maps = [#[[$IN]], #[[$F]], #{{.*}}]
// CHECK-SAME: ins(%{{.*}}, %{{.*}} : tensor<1x2x5x5xi8>, tensor<3x2x3x3xi8>) outs(%{{.*}} : tensor<1x3x1x1xi32>)
// CHECK: quant.scast %[[ACC]] : tensor<1x3x1x1xi32> to tensor<1x3x1x1x!quant.uniform<i32:f32:1, {0.0010000000474974513,0.0020000000949949026,0.0030000000260770321}>>
// CHECK: qopt.requantize
func.func @conv_2d_nchw_fchw(%x: tensor<1x2x5x5xf32>) -> tensor<1x3x1x1x!quant.uniform<i8:f32, 0.05:2>> {
  %xq = quant.qcast %x : tensor<1x2x5x5xf32> to tensor<1x2x5x5x!quant.uniform<i8:f32, 0.1:-3>>
  %xd = quant.dcast %xq : tensor<1x2x5x5x!quant.uniform<i8:f32, 0.1:-3>> to tensor<1x2x5x5xf32>
  %wi = arith.constant dense<1> : tensor<3x2x3x3xi8>
  %wq = quant.scast %wi : tensor<3x2x3x3xi8> to tensor<3x2x3x3x!quant.uniform<i8<-127:127>:f32:0, {0.01, 0.02, 0.03}>>
  %wd = quant.dcast %wq : tensor<3x2x3x3x!quant.uniform<i8<-127:127>:f32:0, {0.01, 0.02, 0.03}>> to tensor<3x2x3x3xf32>
  %c = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x3x1x1xf32>
  %z = linalg.fill ins(%c : f32) outs(%e : tensor<1x3x1x1xf32>) -> tensor<1x3x1x1xf32>
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<2> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%xd, %wd : tensor<1x2x5x5xf32>, tensor<3x2x3x3xf32>) outs(%z : tensor<1x3x1x1xf32>) -> tensor<1x3x1x1xf32>
  %yq = quant.qcast %y : tensor<1x3x1x1xf32> to tensor<1x3x1x1x!quant.uniform<i8:f32, 0.05:2>>
  return %yq : tensor<1x3x1x1x!quant.uniform<i8:f32, 0.05:2>>
}

// -----

// Depthwise: the channel loop is shared by input, filter (axis 2) and result
// (axis 3); it is parallel, so per-channel filter scales are fine.
// CHECK-DAG: #[[$IN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1 + d4, d2 + d5, d3)>
// CHECK-DAG: #[[$F:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d4, d5, d3)>
// CHECK-LABEL: func @depthwise_conv_2d_nhwc_hwc
// CHECK: %[[ACC:.*]] = linalg.generic {indexing_maps = [#[[$IN]], #[[$F]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
// CHECK: quant.scast %[[ACC]] : tensor<1x2x2x2xi32> to tensor<1x2x2x2x!quant.uniform<i32:f32:3, {0.0010000000474974513,0.0020000000949949026}>>
// CHECK: qopt.requantize
func.func @depthwise_conv_2d_nhwc_hwc(%x: tensor<1x4x4x2xf32>) -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.05:2>> {
  %xq = quant.qcast %x : tensor<1x4x4x2xf32> to tensor<1x4x4x2x!quant.uniform<i8:f32, 0.1:-3>>
  %xd = quant.dcast %xq : tensor<1x4x4x2x!quant.uniform<i8:f32, 0.1:-3>> to tensor<1x4x4x2xf32>
  %wi = arith.constant dense<1> : tensor<3x3x2xi8>
  %wq = quant.scast %wi : tensor<3x3x2xi8> to tensor<3x3x2x!quant.uniform<i8<-127:127>:f32:2, {0.01, 0.02}>>
  %wd = quant.dcast %wq : tensor<3x3x2x!quant.uniform<i8<-127:127>:f32:2, {0.01, 0.02}>> to tensor<3x3x2xf32>
  %c = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x2x2xf32>
  %z = linalg.fill ins(%c : f32) outs(%e : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %y = linalg.depthwise_conv_2d_nhwc_hwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%xd, %wd : tensor<1x4x4x2xf32>, tensor<3x3x2xf32>) outs(%z : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %yq = quant.qcast %y : tensor<1x2x2x2xf32> to tensor<1x2x2x2x!quant.uniform<i8:f32, 0.05:2>>
  return %yq : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.05:2>>
}

// -----

// Fully connected with bias and ReLU6, as qopt-legalize writes it: the bias
// (i32, scale s_x * s_w per channel) is added in i32 with the broadcast map,
// and ReLU6 becomes saturation. With scale 0.05 and zero point -128,
// q(0) = -128 is the type's minimum (implied) and q(6) = 120 - 128 = -8, so
// the requantize narrows the storage to [-128, -8].
// CHECK-DAG: #[[$ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[$BIAS:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func @fc_bias_relu6
// CHECK: %[[ACC:.*]] = linalg.generic
// CHECK: %[[B:.*]] = arith.constant dense<[100, -200]> : tensor<2xi32>
// CHECK: %[[EMPTY:.*]] = tensor.empty() : tensor<3x2xi32>
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$BIAS]], #[[$ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%[[ACC]], %[[B]] : tensor<3x2xi32>, tensor<2xi32>) outs(%[[EMPTY]] : tensor<3x2xi32>)
// CHECK-NEXT: ^bb0(%[[L:.*]]: i32, %[[R:.*]]: i32, %{{.*}}: i32):
// CHECK-NEXT:   %[[ADD:.*]] = arith.addi %[[L]], %[[R]] : i32
// CHECK-NEXT:   linalg.yield %[[ADD]] : i32
// CHECK: %[[SUMQ:.*]] = quant.scast %[[SUM]] : tensor<3x2xi32> to tensor<3x2x!quant.uniform<i32:f32:1, {0.0010000000474974513,0.0020000000949949026}>>
// CHECK: %[[RQ:.*]] = qopt.requantize %[[SUMQ]] : tensor<3x2x!quant.uniform<i32:f32:1, {0.0010000000474974513,0.0020000000949949026}>> to tensor<3x2x!quant.uniform<i8<-128:-8>:f32, 5.000000e-02:-128>>
// CHECK: %[[INT:.*]] = quant.scast %[[RQ]] : tensor<3x2x!quant.uniform<i8<-128:-8>:f32, 5.000000e-02:-128>> to tensor<3x2xi8>
// CHECK: %[[OUT:.*]] = quant.scast %[[INT]] : tensor<3x2xi8> to tensor<3x2x!quant.uniform<i8:f32, 5.000000e-02:-128>>
// CHECK-NOT: arith.addf
// CHECK-NOT: arith.maximumf
// CHECK: return %[[OUT]]
#id = affine_map<(d0, d1) -> (d0, d1)>
#bc = affine_map<(d0, d1) -> (d1)>
func.func @fc_bias_relu6(%x: tensor<3x4xf32>) -> tensor<3x2x!quant.uniform<i8:f32, 0.05:-128>> {
  %xq = quant.qcast %x : tensor<3x4xf32> to tensor<3x4x!quant.uniform<i8:f32, 0.1:-3>>
  %xd = quant.dcast %xq : tensor<3x4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<3x4xf32>
  %wi = arith.constant dense<[[1, -2], [3, 4], [-5, 6], [7, -8]]> : tensor<4x2xi8>
  %wq = quant.scast %wi : tensor<4x2xi8> to tensor<4x2x!quant.uniform<i8<-127:127>:f32:1, {0.01, 0.02}>>
  %wd = quant.dcast %wq : tensor<4x2x!quant.uniform<i8<-127:127>:f32:1, {0.01, 0.02}>> to tensor<4x2xf32>
  %cst = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x2xf32>
  %z = linalg.fill ins(%cst : f32) outs(%e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %y = linalg.matmul ins(%xd, %wd : tensor<3x4xf32>, tensor<4x2xf32>) outs(%z : tensor<3x2xf32>) -> tensor<3x2xf32>
  %bi = arith.constant dense<[100, -200]> : tensor<2xi32>
  %bq = quant.scast %bi : tensor<2xi32> to tensor<2x!quant.uniform<i32:f32:0, {0.0010000000474974513, 0.0020000000949949026}>>
  %bd = quant.dcast %bq : tensor<2x!quant.uniform<i32:f32:0, {0.0010000000474974513, 0.0020000000949949026}>> to tensor<2xf32>
  %yb = linalg.generic {indexing_maps = [#id, #bc, #id], iterator_types = ["parallel", "parallel"]}
      ins(%y, %bd : tensor<3x2xf32>, tensor<2xf32>) outs(%e : tensor<3x2xf32>) {
  ^bb0(%in: f32, %b: f32, %out: f32):
    %s = arith.addf %in, %b : f32
    linalg.yield %s : f32
  } -> tensor<3x2xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%yb : tensor<3x2xf32>) outs(%e : tensor<3x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %c0 = arith.constant 0.0 : f32
    %c6 = arith.constant 6.0 : f32
    %m = arith.maximumf %in, %c0 : f32
    %n = arith.minimumf %m, %c6 : f32
    linalg.yield %n : f32
  } -> tensor<3x2xf32>
  %rq = quant.qcast %r : tensor<3x2xf32> to tensor<3x2x!quant.uniform<i8:f32, 0.05:-128>>
  return %rq : tensor<3x2x!quant.uniform<i8:f32, 0.05:-128>>
}

// -----

// ReLU whose bound is implied by the output type (zero point at the type's
// minimum): the requantize goes straight to the output type.
// CHECK-LABEL: func @relu_implied
// CHECK: %[[ACCQ:.*]] = quant.scast %{{.*}} : tensor<1x2xi32> to tensor<1x2x!quant.uniform<i32:f32, 0.0010000000474974513>>
// CHECK: %[[Y:.*]] = qopt.requantize %[[ACCQ]] : tensor<1x2x!quant.uniform<i32:f32, 0.0010000000474974513>> to tensor<1x2x!quant.uniform<i8:f32, 5.000000e-02:-128>>
// CHECK-NEXT: return %[[Y]]
func.func @relu_implied(%x: tensor<1x4xf32>) -> tensor<1x2x!quant.uniform<i8:f32, 0.05:-128>> {
  %xq = quant.qcast %x : tensor<1x4xf32> to tensor<1x4x!quant.uniform<i8:f32, 0.1:-3>>
  %xd = quant.dcast %xq : tensor<1x4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<1x4xf32>
  %wi = arith.constant dense<1> : tensor<4x2xi8>
  %wq = quant.scast %wi : tensor<4x2xi8> to tensor<4x2x!quant.uniform<i8<-127:127>:f32, 0.01>>
  %wd = quant.dcast %wq : tensor<4x2x!quant.uniform<i8<-127:127>:f32, 0.01>> to tensor<4x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x2xf32>
  %y = linalg.matmul ins(%xd, %wd : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  %r = arith.maximumf %y, %z : tensor<1x2xf32>
  %rq = quant.qcast %r : tensor<1x2xf32> to tensor<1x2x!quant.uniform<i8:f32, 0.05:-128>>
  return %rq : tensor<1x2x!quant.uniform<i8:f32, 0.05:-128>>
}

// -----

// QDQ written by another tool (ONNX style): u8 activations, weights and bias
// quantized from float constants by quant.qcast, the bias first in the add,
// ReLU as arith on tensors. The bias scale 9.99999974E-5 is f32(0.02 * 0.005)
// written in decimal; as float32 it is the accumulator's scale, so it folds.
// CHECK-LABEL: func @onnx_style_qdq
// CHECK: %[[XQ:.*]] = quant.qcast %{{.*}} : tensor<2x3xf32> to tensor<2x3x!quant.uniform<u8:f32, 2.000000e-02:128>>
// CHECK: %[[WQ:.*]] = quant.qcast %{{.*}} : tensor<3x2xf32> to tensor<3x2x!quant.uniform<i8:f32, 5.000000e-03>>
// CHECK: %[[BQ:.*]] = quant.qcast %{{.*}} : tensor<2xf32> to tensor<2x!quant.uniform<i32:f32, 9.9999997399999996E-5>>
// CHECK-DAG: %[[X:.*]] = quant.scast %[[XQ]] : {{.*}} to tensor<2x3xi8>
// CHECK-DAG: %[[W:.*]] = quant.scast %[[WQ]] : {{.*}} to tensor<3x2xi8>
// CHECK: %[[ACC:.*]] = linalg.generic
// CHECK-SAME: ins(%[[X]], %[[W]] : tensor<2x3xi8>, tensor<3x2xi8>)
// CHECK:   arith.extui %{{.*}} : i8 to i32
// CHECK: %[[B:.*]] = quant.scast %[[BQ]] : tensor<2x!quant.uniform<i32:f32, 9.9999997399999996E-5>> to tensor<2xi32>
// CHECK: %[[SUM:.*]] = linalg.generic
// CHECK-SAME: ins(%[[B]], %[[ACC]] : tensor<2xi32>, tensor<2x2xi32>)
// CHECK:   arith.addi
// CHECK: %[[SUMQ:.*]] = quant.scast %[[SUM]] : tensor<2x2xi32> to tensor<2x2x!quant.uniform<i32:f32, 9.9999997473787516E-5>>
// CHECK: qopt.requantize %[[SUMQ]] : tensor<2x2x!quant.uniform<i32:f32, 9.9999997473787516E-5>> to tensor<2x2x!quant.uniform<u8<100:255>:f32, 5.000000e-02:100>>
// CHECK-NOT: arith.maximumf
#id = affine_map<(d0, d1) -> (d0, d1)>
#bc = affine_map<(d0, d1) -> (d1)>
func.func @onnx_style_qdq(%x: tensor<2x3xf32>) -> tensor<2x2x!quant.uniform<u8:f32, 0.05:100>> {
  %xq = quant.qcast %x : tensor<2x3xf32> to tensor<2x3x!quant.uniform<u8:f32, 0.02:128>>
  %xd = quant.dcast %xq : tensor<2x3x!quant.uniform<u8:f32, 0.02:128>> to tensor<2x3xf32>
  %w = arith.constant dense<[[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]]> : tensor<3x2xf32>
  %wq = quant.qcast %w : tensor<3x2xf32> to tensor<3x2x!quant.uniform<i8:f32, 0.005>>
  %wd = quant.dcast %wq : tensor<3x2x!quant.uniform<i8:f32, 0.005>> to tensor<3x2xf32>
  %b = arith.constant dense<[0.01, -0.02]> : tensor<2xf32>
  %bq = quant.qcast %b : tensor<2xf32> to tensor<2x!quant.uniform<i32:f32, 9.99999974E-5>>
  %bd = quant.dcast %bq : tensor<2x!quant.uniform<i32:f32, 9.99999974E-5>> to tensor<2xf32>
  %z = arith.constant dense<0.0> : tensor<2x2xf32>
  %y = linalg.matmul ins(%xd, %wd : tensor<2x3xf32>, tensor<3x2xf32>) outs(%z : tensor<2x2xf32>) -> tensor<2x2xf32>
  %e = tensor.empty() : tensor<2x2xf32>
  %yb = linalg.generic {indexing_maps = [#bc, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%bd, %y : tensor<2xf32>, tensor<2x2xf32>) outs(%e : tensor<2x2xf32>) {
  ^bb0(%b0: f32, %in: f32, %out: f32):
    %s = arith.addf %b0, %in : f32
    linalg.yield %s : f32
  } -> tensor<2x2xf32>
  %r = arith.maximumf %yb, %z : tensor<2x2xf32>
  %rq = quant.qcast %r : tensor<2x2xf32> to tensor<2x2x!quant.uniform<u8:f32, 0.05:100>>
  return %rq : tensor<2x2x!quant.uniform<u8:f32, 0.05:100>>
}

// -----

// No qcast follows (the consumer is float): the kernel is integer and its
// accumulator is dequantized for the float consumer. A non-zero init (here a
// function argument of dynamic shape) is added in float after the kernel.
// CHECK-LABEL: func @float_consumer_with_init
// CHECK-SAME: (%{{.*}}: tensor<?x4xf32>, %[[INIT:.*]]: tensor<?x2xf32>)
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[DIM:.*]] = tensor.dim %[[INIT]], %[[C0]] : tensor<?x2xf32>
// CHECK: %[[EMPTY:.*]] = tensor.empty(%[[DIM]]) : tensor<?x2xi32>
// CHECK: %[[ACC:.*]] = linalg.generic
// CHECK: %[[ACCQ:.*]] = quant.scast %[[ACC]] : tensor<?x2xi32> to tensor<?x2x!quant.uniform<i32:f32, 0.0010000000474974513>>
// CHECK: %[[ACCF:.*]] = quant.dcast %[[ACCQ]] : tensor<?x2x!quant.uniform<i32:f32, 0.0010000000474974513>> to tensor<?x2xf32>
// CHECK: %[[Y:.*]] = arith.addf %[[ACCF]], %[[INIT]] : tensor<?x2xf32>
// CHECK: %[[T:.*]] = math.tanh %[[Y]]
// CHECK: return %[[T]]
func.func @float_consumer_with_init(%x: tensor<?x4xf32>, %init: tensor<?x2xf32>) -> tensor<?x2xf32> {
  %xq = quant.qcast %x : tensor<?x4xf32> to tensor<?x4x!quant.uniform<i8:f32, 0.1:-3>>
  %xd = quant.dcast %xq : tensor<?x4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<?x4xf32>
  %wi = arith.constant dense<1> : tensor<4x2xi8>
  %wq = quant.scast %wi : tensor<4x2xi8> to tensor<4x2x!quant.uniform<i8:f32, 0.01>>
  %wd = quant.dcast %wq : tensor<4x2x!quant.uniform<i8:f32, 0.01>> to tensor<4x2xf32>
  %y = linalg.matmul ins(%xd, %wd : tensor<?x4xf32>, tensor<4x2xf32>) outs(%init : tensor<?x2xf32>) -> tensor<?x2xf32>
  %t = math.tanh %y : tensor<?x2xf32>
  return %t : tensor<?x2xf32>
}

// -----

// A 16-bit activation is accepted when the worst-case sum provably fits in
// i32: 32768 * 127 * 4 terms.
// CHECK-LABEL: func @i16_activation_small_k
// CHECK: linalg.generic
// CHECK:   arith.extsi %{{.*}} : i16 to i32
// CHECK: qopt.requantize
func.func @i16_activation_small_k(%x: tensor<1x4xf32>) -> tensor<1x2x!quant.uniform<i16:f32, 0.001>> {
  %xq = quant.qcast %x : tensor<1x4xf32> to tensor<1x4x!quant.uniform<i16:f32, 0.0001>>
  %xd = quant.dcast %xq : tensor<1x4x!quant.uniform<i16:f32, 0.0001>> to tensor<1x4xf32>
  %wi = arith.constant dense<1> : tensor<4x2xi8>
  %wq = quant.scast %wi : tensor<4x2xi8> to tensor<4x2x!quant.uniform<i8<-127:127>:f32, 0.01>>
  %wd = quant.dcast %wq : tensor<4x2x!quant.uniform<i8<-127:127>:f32, 0.01>> to tensor<4x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x2xf32>
  %y = linalg.matmul ins(%xd, %wd : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  %yq = quant.qcast %y : tensor<1x2xf32> to tensor<1x2x!quant.uniform<i16:f32, 0.001>>
  return %yq : tensor<1x2x!quant.uniform<i16:f32, 0.001>>
}

// -----

// The activation's QDQ pair (qcast then dcast) is the float simulation of
// its rounding: upstream's folder would erase it, this pass must not. The
// pair feeding a float op, and a plain dcast -> qcast between two i8 types
// (left to qopt-fold-requant), are unchanged.
// CHECK-LABEL: func @qdq_pairs_survive
// CHECK-SAME: (%[[ARG:.*]]: tensor<4xf32>)
// CHECK: %[[Q:.*]] = quant.qcast %[[ARG]] : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 1.000000e-01:-3>>
// CHECK: %[[D:.*]] = quant.dcast %[[Q]] : tensor<4x!quant.uniform<i8:f32, 1.000000e-01:-3>> to tensor<4xf32>
// CHECK: %[[E:.*]] = math.exp %[[D]] : tensor<4xf32>
// CHECK: %[[R:.*]] = quant.qcast %[[D]] : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 5.000000e-02:2>>
// CHECK: return %[[E]], %[[R]]
func.func @qdq_pairs_survive(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4x!quant.uniform<i8:f32, 0.05:2>>) {
  %q = quant.qcast %x : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.1:-3>>
  %d = quant.dcast %q : tensor<4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<4xf32>
  %e = math.exp %d : tensor<4xf32>
  %r = quant.qcast %d : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.05:2>>
  return %e, %r : tensor<4xf32>, tensor<4x!quant.uniform<i8:f32, 0.05:2>>
}

// -----

// A bias add written with named ops (linalg.broadcast + linalg.add): the
// broadcast becomes the bias map of the i32 add. A per-axis bias whose
// scales all equal a per-tensor accumulator's keeps the accumulator type.
// CHECK-DAG: #[[$ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[$BIAS:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func @bias_named_ops
// CHECK: %[[ACC:.*]] = linalg.generic
// CHECK: %[[B:.*]] = arith.constant dense<[7, -7]> : tensor<2xi32>
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$BIAS]], #[[$ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%[[ACC]], %[[B]] : tensor<3x2xi32>, tensor<2xi32>)
// CHECK:   arith.addi
// CHECK: %[[SUMQ:.*]] = quant.scast %[[SUM]] : tensor<3x2xi32> to tensor<3x2x!quant.uniform<i32:f32, 0.0010000000474974513>>
// CHECK: qopt.requantize %[[SUMQ]]
// CHECK-NOT: linalg.broadcast
// CHECK-NOT: linalg.add
func.func @bias_named_ops(%x: tensor<3x4xf32>) -> tensor<3x2x!quant.uniform<i8:f32, 0.05:2>> {
  %xq = quant.qcast %x : tensor<3x4xf32> to tensor<3x4x!quant.uniform<i8:f32, 0.1:-3>>
  %xd = quant.dcast %xq : tensor<3x4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<3x4xf32>
  %wi = arith.constant dense<1> : tensor<4x2xi8>
  %wq = quant.scast %wi : tensor<4x2xi8> to tensor<4x2x!quant.uniform<i8<-127:127>:f32, 0.01>>
  %wd = quant.dcast %wq : tensor<4x2x!quant.uniform<i8<-127:127>:f32, 0.01>> to tensor<4x2xf32>
  %z = arith.constant dense<0.0> : tensor<3x2xf32>
  %y = linalg.matmul ins(%xd, %wd : tensor<3x4xf32>, tensor<4x2xf32>) outs(%z : tensor<3x2xf32>) -> tensor<3x2xf32>
  %bi = arith.constant dense<[7, -7]> : tensor<2xi32>
  %bq = quant.scast %bi : tensor<2xi32> to tensor<2x!quant.uniform<i32:f32:0, {0.0010000000474974513, 0.0010000000474974513}>>
  %bd = quant.dcast %bq : tensor<2x!quant.uniform<i32:f32:0, {0.0010000000474974513, 0.0010000000474974513}>> to tensor<2xf32>
  %e = tensor.empty() : tensor<3x2xf32>
  %bb = linalg.broadcast ins(%bd : tensor<2xf32>) outs(%e : tensor<3x2xf32>) dimensions = [0]
  %s = linalg.add ins(%y, %bb : tensor<3x2xf32>, tensor<3x2xf32>) outs(%e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %sq = quant.qcast %s : tensor<3x2xf32> to tensor<3x2x!quant.uniform<i8:f32, 0.05:2>>
  return %sq : tensor<3x2x!quant.uniform<i8:f32, 0.05:2>>
}

// -----

// Discardable attributes (the op's #qopt.precision) stay on the kernel.
// CHECK-LABEL: func @keeps_precision
// CHECK: linalg.generic {{.*}}qopt.precision = #qopt.precision<act = i16, weight = i4, per_channel>
func.func @keeps_precision(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %xq = quant.qcast %x : tensor<1x2xf32> to tensor<1x2x!quant.uniform<i16:f32, 0.0001>>
  %xd = quant.dcast %xq : tensor<1x2x!quant.uniform<i16:f32, 0.0001>> to tensor<1x2xf32>
  %wi = arith.constant dense<7> : tensor<2x2xi4>
  %wq = quant.scast %wi : tensor<2x2xi4> to tensor<2x2x!quant.uniform<i4<-7:7>:f32:1, {0.1, 0.2}>>
  %wd = quant.dcast %wq : tensor<2x2x!quant.uniform<i4<-7:7>:f32:1, {0.1, 0.2}>> to tensor<2x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x2xf32>
  %y = linalg.matmul {qopt.precision = #qopt.precision<act = i16, weight = i4, per_channel>} ins(%xd, %wd : tensor<1x2xf32>, tensor<2x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
