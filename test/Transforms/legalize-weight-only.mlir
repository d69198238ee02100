// qopt-legalize{mode=weight-only}: matmuls with constant weights become
// qopt.matmul_nbits with weights packed in MatMulNBits' layout
// ([N][groups][bytes], two 4-bit values per byte, low nibble first) and one
// float32 scale (and zero point) per group of K values and column. The
// expected bytes and scales are computed by hand in the comments.
// RUN: qopt %s -split-input-file --qopt-legalize="mode=weight-only weight-bits=4 group-size=2" | FileCheck %s --check-prefix=W4
// RUN: qopt %s -split-input-file --qopt-legalize="mode=weight-only weight-bits=8 weight-zero-point=true" | FileCheck %s --check-prefix=W8
// The quantize pipeline forwards the options.
// RUN: qopt %s -split-input-file --qopt-quantize="mode=weight-only weight-bits=4 group-size=2" | FileCheck %s --check-prefix=PIPE

// W[K=4, N=2] = [[1.4, 0], [-0.62, 0], [0.7, 2], [0.14, -1.2]]; 4 bits,
// symmetric: stored q = round(w / s) + 8 with s = amax / 7.
// Column 0, group {1.4, -0.62}: s = 0.2, q = {15, 5}: byte 15 | 5 << 4 = 95.
//           group {0.7, 0.14}: s = 0.1, q = {15, 9}: byte 15 | 9 << 4 = 159 (-97).
// Column 1, group {0, 0}: a zero range gets s = 1, q = {8, 8}: byte 136 (-120).
//           group {2, -1.2}: s = 2/7 = 0.285714298 (f32), q = {15, 4}: byte 79.
// With 8 bits, asymmetric, one group per column (K = 4): column 0 has range
// [-0.62, 1.4], s = 2.02/255, zero point round(0.62 / s) = round(78.27) = 78;
// column 1 has [-1.2, 2], s = 3.2/255, zero point round(95.62) = 96.
// W4-LABEL: func @matmul
// W4: %[[W:.*]] = arith.constant dense<{{\[\[\[}}95], [-97]], {{\[\[}}-120], [79]]]> : tensor<2x2x1xi8>
// W4: %[[S:.*]] = arith.constant dense<{{\[\[}}2.000000e-01, 1.000000e-01], [1.000000e+00, 0.285714298]]> : tensor<2x2xf32>
// W4: %[[Y:.*]] = qopt.matmul_nbits %arg0, %[[W]] scales %[[S]] bits 4 group_size 2 : tensor<3x4xf32>, tensor<2x2x1xi8>, tensor<2x2xf32> -> tensor<3x2xf32>
// W4-NOT: linalg.matmul
// W4: return %[[Y]]
// PIPE-LABEL: func @matmul
// PIPE: qopt.matmul_nbits %arg0, %{{.*}} scales %{{.*}} bits 4 group_size 2 : tensor<3x4xf32>, tensor<2x2x1xi8>, tensor<2x2xf32> -> tensor<3x2xf32>
// W8-LABEL: func @matmul
// W8: %[[S:.*]] = arith.constant dense<{{\[\[}}{{.*}}], [{{.*}}]]> : tensor<2x1xf32>
// W8: %[[Z:.*]] = arith.constant dense<{{\[\[}}78], [96]]> : tensor<2x1xi8>
// W8: qopt.matmul_nbits %arg0, %{{.*}} scales %[[S]] zero_points %[[Z]] bits 8 group_size 4 : tensor<3x4xf32>, tensor<2x1x4xi8>, tensor<2x1xf32>, tensor<2x1xi8> -> tensor<3x2xf32>
func.func @matmul(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<[[1.4, 0.0], [-0.62, 0.0], [0.7, 2.0], [0.14, -1.2]]> : tensor<4x2xf32>
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x2xf32>
  %z = linalg.fill ins(%c0 : f32) outs(%e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<3x4xf32>, tensor<4x2xf32>) outs(%z : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// ONNX Gemm with transB = 1: the importer transposes the [N, K] constant.
// The same weight as above, given as [N, K]: the same bytes.
// W4-LABEL: func @gemm_trans_b
// W4: arith.constant dense<{{\[\[\[}}95], [-97]], {{\[\[}}-120], [79]]]> : tensor<2x2x1xi8>
// W4-NOT: linalg.transpose
// W4: qopt.matmul_nbits
func.func @gemm_trans_b(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %wt = arith.constant dense<[[1.4, -0.62, 0.7, 0.14], [0.0, 0.0, 2.0, -1.2]]> : tensor<2x4xf32>
  %e0 = tensor.empty() : tensor<4x2xf32>
  %w = linalg.transpose ins(%wt : tensor<2x4xf32>) outs(%e0 : tensor<4x2xf32>) permutation = [1, 0]
  %z = arith.constant dense<0.0> : tensor<1x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// The importer's generic for a batched activation and a 2-D weight: the
// leading dimensions stay on the op; a non-zero init is added back.
// W4-LABEL: func @batched_generic
// W4: %[[Y:.*]] = qopt.matmul_nbits %arg0, %{{.*}} scales %{{.*}} bits 4 group_size 2 : tensor<2x3x4xf32>, tensor<2x2x1xi8>, tensor<2x2xf32> -> tensor<2x3x2xf32>
// W4: %[[S:.*]] = arith.addf %arg1, %[[Y]] : tensor<2x3x2xf32>
// W4: return %[[S]]
#a = affine_map<(b, m, n, k) -> (b, m, k)>
#w = affine_map<(b, m, n, k) -> (k, n)>
#o = affine_map<(b, m, n, k) -> (b, m, n)>
func.func @batched_generic(%x: tensor<2x3x4xf32>, %init: tensor<2x3x2xf32>) -> tensor<2x3x2xf32> {
  %w = arith.constant dense<[[1.4, 0.0], [-0.62, 0.0], [0.7, 2.0], [0.14, -1.2]]> : tensor<4x2xf32>
  %y = linalg.generic {indexing_maps = [#a, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<2x3x4xf32>, tensor<4x2xf32>) outs(%init : tensor<2x3x2xf32>) {
  ^bb0(%in: f32, %win: f32, %out: f32):
    %m = arith.mulf %in, %win : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<2x3x2xf32>
  return %y : tensor<2x3x2xf32>
}

// -----

// batch_matmul with a constant per-batch weight: one op per batch.
// Batch 1's weight is batch 0's negated: column 0, group 0 {-1.4, 0.62}:
// q = {1, 11}: byte 1 | 11 << 4 = 177 (-79).
// W4-LABEL: func @batch_matmul
// W4: %[[A0:.*]] = tensor.extract_slice %arg0[0, 0, 0] [1, 1, 4] [1, 1, 1] : tensor<2x1x4xf32> to tensor<1x4xf32>
// W4: arith.constant dense<{{\[\[\[}}95], [-97]]
// W4: %[[Y0:.*]] = qopt.matmul_nbits %[[A0]]
// W4: tensor.insert_slice %[[Y0]] into %{{.*}}[0, 0, 0] [1, 1, 2] [1, 1, 1]
// W4: %[[A1:.*]] = tensor.extract_slice %arg0[1, 0, 0]
// W4: arith.constant dense<{{\[\[\[}}-79]
// W4: %[[Y1:.*]] = qopt.matmul_nbits %[[A1]]
// W4: tensor.insert_slice %[[Y1]] into %{{.*}}[1, 0, 0]
// W4-NOT: linalg.batch_matmul
func.func @batch_matmul(%x: tensor<2x1x4xf32>) -> tensor<2x1x2xf32> {
  %w = arith.constant dense<[[[1.4, 0.0], [-0.62, 0.0], [0.7, 2.0], [0.14, -1.2]],
                             [[-1.4, 0.0], [0.62, 0.0], [-0.7, -2.0], [-0.14, 1.2]]]> : tensor<2x4x2xf32>
  %z = arith.constant dense<0.0> : tensor<2x1x2xf32>
  %y = linalg.batch_matmul ins(%x, %w : tensor<2x1x4xf32>, tensor<2x4x2xf32>) outs(%z : tensor<2x1x2xf32>) -> tensor<2x1x2xf32>
  return %y : tensor<2x1x2xf32>
}

// -----

// Kept in float: a matmul of two activations marked act = f32, and a
// convolution (weight-only covers matmuls).
// W4-LABEL: func @kept_float
// W4: linalg.matmul
// W4: linalg.conv_2d_nhwc_hwcf
// W4-NOT: qopt.matmul_nbits
func.func @kept_float(%a: tensor<2x4xf32>, %b: tensor<4x2xf32>, %img: tensor<1x3x3x1xf32>) -> (tensor<2x2xf32>, tensor<1x2x2x1xf32>) {
  %z = arith.constant dense<0.0> : tensor<2x2xf32>
  %y = linalg.matmul {qopt.precision = #qopt.precision<act = f32>} ins(%a, %b : tensor<2x4xf32>, tensor<4x2xf32>) outs(%z : tensor<2x2xf32>) -> tensor<2x2xf32>
  %f = arith.constant dense<1.0> : tensor<2x2x1x1xf32>
  %zc = arith.constant dense<0.0> : tensor<1x2x2x1xf32>
  %c = linalg.conv_2d_nhwc_hwcf ins(%img, %f : tensor<1x3x3x1xf32>, tensor<2x2x1x1xf32>) outs(%zc : tensor<1x2x2x1xf32>) -> tensor<1x2x2x1xf32>
  return %y, %c : tensor<2x2xf32>, tensor<1x2x2x1xf32>
}

// -----

// #qopt.precision picks the bits and group of one op: 8 bits, per channel
// (one group of K = 4), symmetric: zero point 128, s = amax / 127.
// Column 0: amax 1.4, s = 0.011023622, q = round(w / s) + 128
//   = {255, 72, 191, 141} (0.7 is 0.699999988 in f32: 63.4999, just below
//   the tie), as i8 {-1, 72, -65, -115}; column 1: amax 2,
//   q = {128, 128, 255, 52}.
// W4-LABEL: func @precision_override
// W4: arith.constant dense<{{\[\[\[}}-1, 72, -65, -115]], {{\[\[}}-128, -128, -1, 52]]]> : tensor<2x1x4xi8>
// W4: qopt.matmul_nbits {{.*}} bits 8 group_size 4
func.func @precision_override(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.4, 0.0], [-0.62, 0.0], [0.7, 2.0], [0.14, -1.2]]> : tensor<4x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x2xf32>
  %y = linalg.matmul {qopt.precision = #qopt.precision<act = f32, weight = i8, per_channel>} ins(%x, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
