// RUN: qopt %s --qopt-fold-batchnorm --split-input-file --mlir-print-debuginfo --mlir-print-local-scope | FileCheck %s

// Conv + the importer's bias add + BatchNormalization (its exact generic).
// By hand: sqrt(var + eps) = sqrt([3, 15] + 1) = [2, 4];
// a = scale / [2, 4] = [2, 0.5] / [2, 4] = [1, 0.125];
// b = a * (conv bias - mean) + B = [1 * (1 - 0.5) + 1, 0.125 * (2 - 2) - 1]
//   = [1.5, -1];  W' = W * a per output channel = [[1, 2], [0.375, 0.5]].

// CHECK-LABEL: func.func @conv_bias_bn
// CHECK: %[[W:.*]] = arith.constant dense<{{\[\[\[\[}}1.000000e+00]], {{\[\[}}2.000000e+00]]], {{\[\[\[}}3.750000e-01]], {{\[\[}}5.000000e-01]]]]> : tensor<2x2x1x1xf32>
// CHECK: %[[C:.*]] = linalg.conv_2d_nchw_fchw ins(%{{.*}}, %[[W]] : {{.*}}) outs(%{{.*}}) -> tensor<1x2x4x4xf32> loc(fused<{qopt.op_name = "conv1"}>["m.onnx":0:0])
// CHECK: %[[B:.*]] = arith.constant dense<[1.500000e+00, -1.000000e+00]> : tensor<2xf32>
// CHECK: %[[Y:.*]] = linalg.generic {{.*}} ins(%[[C]], %[[B]] : tensor<1x2x4x4xf32>, tensor<2xf32>)
// CHECK: arith.addf
// CHECK: } -> tensor<1x2x4x4xf32> loc("bn1")
// CHECK-NOT: math.sqrt
// CHECK: return %[[Y]]
func.func @conv_bias_bn(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = arith.constant dense<[[[[1.0]], [[2.0]]], [[[3.0]], [[4.0]]]]> : tensor<2x2x1x1xf32>
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<1x2x4x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e0 : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %c = linalg.conv_2d_nchw_fchw ins(%x, %w : tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) outs(%f : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> loc("conv1"("m.onnx":0:0))
  %cb = arith.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %cbx = tensor.expand_shape %cb [[0, 1, 2]] output_shape [2, 1, 1] : tensor<2xf32> into tensor<2x1x1xf32>
  %e1 = tensor.empty() : tensor<1x2x4x4xf32>
  %biased = linalg.generic {indexing_maps = [affine_map<(n, c, h, w) -> (n, c, h, w)>, affine_map<(n, c, h, w) -> (c, 0, 0)>, affine_map<(n, c, h, w) -> (n, c, h, w)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c, %cbx : tensor<1x2x4x4xf32>, tensor<2x1x1xf32>) outs(%e1 : tensor<1x2x4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<1x2x4x4xf32> loc("conv1")
  %scale = arith.constant dense<[[[2.0]], [[0.5]]]> : tensor<2x1x1xf32>
  %bias = arith.constant dense<[[[1.0]], [[-1.0]]]> : tensor<2x1x1xf32>
  %mean = arith.constant dense<[[[0.5]], [[2.0]]]> : tensor<2x1x1xf32>
  %var = arith.constant dense<[[[3.0]], [[15.0]]]> : tensor<2x1x1xf32>
  %e2 = tensor.empty() : tensor<1x2x4x4xf32>
  %bn = linalg.generic {indexing_maps = [affine_map<(n, c, h, w) -> (n, c, h, w)>, affine_map<(n, c, h, w) -> (c, 0, 0)>, affine_map<(n, c, h, w) -> (c, 0, 0)>, affine_map<(n, c, h, w) -> (c, 0, 0)>, affine_map<(n, c, h, w) -> (c, 0, 0)>, affine_map<(n, c, h, w) -> (n, c, h, w)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%biased, %scale, %bias, %mean, %var : tensor<1x2x4x4xf32>, tensor<2x1x1xf32>, tensor<2x1x1xf32>, tensor<2x1x1xf32>, tensor<2x1x1xf32>) outs(%e2 : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %s: f32, %bb: f32, %m: f32, %v: f32, %o: f32):
    %d = arith.subf %in, %m : f32
    %eps = arith.constant 1.0 : f32
    %ve = arith.addf %v, %eps : f32
    %sd = math.sqrt %ve : f32
    %n = arith.divf %d, %sd : f32
    %sc = arith.mulf %n, %s : f32
    %r = arith.addf %sc, %bb : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32> loc("bn1")
  return %bn : tensor<1x2x4x4xf32>
}

// -----

// A Mul by per-channel constants (broadcast from 1x2x1x1, as the importer
// maps it) and no bias: the weights absorb it and the convolution takes the
// Mul's name. W' = [[1, 2] * 2, [3, 4] * -3] = [[2, 4], [-9, -12]].

// CHECK-LABEL: func.func @conv_mul
// CHECK: %[[W:.*]] = arith.constant dense<{{\[\[\[\[}}2.000000e+00]], {{\[\[}}4.000000e+00]]], {{\[\[\[}}-9.000000e+00]], {{\[\[}}-1.200000e+01]]]]> : tensor<2x2x1x1xf32>
// CHECK: %[[C:.*]] = linalg.conv_2d_nchw_fchw ins(%{{.*}}, %[[W]] : {{.*}}) -> tensor<1x2x4x4xf32> loc("scaled")
// CHECK-NOT: linalg.generic
// CHECK: return %[[C]]
func.func @conv_mul(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = arith.constant dense<[[[[1.0]], [[2.0]]], [[[3.0]], [[4.0]]]]> : tensor<2x2x1x1xf32>
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<1x2x4x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e0 : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %c = linalg.conv_2d_nchw_fchw ins(%x, %w : tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) outs(%f : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> loc("conv1")
  %k = arith.constant dense<[[[[2.0]], [[-3.0]]]]> : tensor<1x2x1x1xf32>
  %e1 = tensor.empty() : tensor<1x2x4x4xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(n, c, h, w) -> (n, c, h, w)>, affine_map<(n, c, h, w) -> (n, c, 0, 0)>, affine_map<(n, c, h, w) -> (n, c, h, w)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c, %k : tensor<1x2x4x4xf32>, tensor<1x2x1x1xf32>) outs(%e1 : tensor<1x2x4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %b, %a : f32
    linalg.yield %m : f32
  } -> tensor<1x2x4x4xf32> loc("scaled")
  return %y : tensor<1x2x4x4xf32>
}

// -----

// MatMul, then Mul and Sub by per-column constants (a scalar Sub too):
// B' = B * [1, 2, -1] per column = [[1, 4, -3], [4, 10, -6]];
// bias = -[0.5, 0, 1] - 0.25 = [-0.75, -0.25, -1.25].

// CHECK-LABEL: func.func @matmul_mul_sub
// CHECK: %[[W:.*]] = arith.constant dense<{{\[\[}}1.000000e+00, 4.000000e+00, -3.000000e+00], [4.000000e+00, 1.000000e+01, -6.000000e+00]]> : tensor<2x3xf32>
// CHECK: %[[M:.*]] = linalg.matmul ins(%{{.*}}, %[[W]] : tensor<1x2xf32>, tensor<2x3xf32>)
// CHECK: %[[B:.*]] = arith.constant dense<[-7.500000e-01, -2.500000e-01, -1.250000e+00]> : tensor<3xf32>
// CHECK: linalg.generic {{.*}} ins(%[[M]], %[[B]] : tensor<1x3xf32>, tensor<3xf32>)
// CHECK: } -> tensor<1x3xf32> loc("out")
// CHECK-NOT: linalg.generic
func.func @matmul_mul_sub(%x: tensor<1x2xf32>) -> tensor<1x3xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<1x3xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e0 : tensor<1x3xf32>) -> tensor<1x3xf32>
  %m = linalg.matmul ins(%x, %w : tensor<1x2xf32>, tensor<2x3xf32>) outs(%f : tensor<1x3xf32>) -> tensor<1x3xf32>
  %k = arith.constant dense<[1.0, 2.0, -1.0]> : tensor<3xf32>
  %e1 = tensor.empty() : tensor<1x3xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%m, %k : tensor<1x3xf32>, tensor<3xf32>) outs(%e1 : tensor<1x3xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x3xf32> loc("scaled")
  %sh = arith.constant dense<[0.5, 0.0, 1.0]> : tensor<3xf32>
  %e2 = tensor.empty() : tensor<1x3xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%s, %sh : tensor<1x3xf32>, tensor<3xf32>) outs(%e2 : tensor<1x3xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.subf %a, %b : f32
    %q = arith.constant 0.25 : f32
    %t = arith.subf %r, %q : f32
    linalg.yield %t : f32
  } -> tensor<1x3xf32> loc("out")
  return %y : tensor<1x3xf32>
}

// -----

// Left alone: a lone bias add (the importer's own form), a Mul by a tensor
// that varies along more than the channel, a product that is not affine,
// and a convolution whose result has a second user.

// CHECK-LABEL: func.func @not_folded
// CHECK-DAG: arith.constant dense<{{\[\[\[\[}}1.000000e+00]], {{\[\[}}2.000000e+00]]], {{\[\[\[}}3.000000e+00]], {{\[\[}}4.000000e+00]]]]>
// CHECK-DAG: arith.constant dense<[5.000000e-01, 2.500000e-01]> : tensor<2xf32>
// CHECK-COUNT-4: linalg.generic
// CHECK-NOT: linalg.generic
func.func @not_folded(%x: tensor<1x2x4x4xf32>, %full: tensor<1x2x4x4xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) {
  %w = arith.constant dense<[[[[1.0]], [[2.0]]], [[[3.0]], [[4.0]]]]> : tensor<2x2x1x1xf32>
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<1x2x4x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e0 : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %c1 = linalg.conv_2d_nchw_fchw ins(%x, %w : tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) outs(%f : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %bias = arith.constant dense<[0.5, 0.25]> : tensor<2xf32>
  %e1 = tensor.empty() : tensor<1x2x4x4xf32>
  %y1 = linalg.generic {indexing_maps = [affine_map<(n, c, h, w) -> (n, c, h, w)>, affine_map<(n, c, h, w) -> (c)>, affine_map<(n, c, h, w) -> (n, c, h, w)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c1, %bias : tensor<1x2x4x4xf32>, tensor<2xf32>) outs(%e1 : tensor<1x2x4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<1x2x4x4xf32>
  %c2 = linalg.conv_2d_nchw_fchw ins(%x, %w : tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) outs(%f : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %y2 = linalg.generic {indexing_maps = [affine_map<(n, c, h, w) -> (n, c, h, w)>, affine_map<(n, c, h, w) -> (n, c, h, w)>, affine_map<(n, c, h, w) -> (n, c, h, w)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c2, %full : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) outs(%e1 : tensor<1x2x4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<1x2x4x4xf32>
  %c3 = linalg.conv_2d_nchw_fchw ins(%x, %w : tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) outs(%f : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %y3 = linalg.generic {indexing_maps = [affine_map<(n, c, h, w) -> (n, c, h, w)>, affine_map<(n, c, h, w) -> (n, c, h, w)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c3 : tensor<1x2x4x4xf32>) outs(%e1 : tensor<1x2x4x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %a : f32
    linalg.yield %m : f32
  } -> tensor<1x2x4x4xf32>
  %c4 = linalg.conv_2d_nchw_fchw ins(%x, %w : tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) outs(%f : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %y4 = linalg.generic {indexing_maps = [affine_map<(n, c, h, w) -> (n, c, h, w)>, affine_map<(n, c, h, w) -> (c)>, affine_map<(n, c, h, w) -> (n, c, h, w)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c4, %bias : tensor<1x2x4x4xf32>, tensor<2xf32>) outs(%c4 : tensor<1x2x4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<1x2x4x4xf32>
  return %y1, %y2, %y3, %y4 : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
}

// -----

// A depthwise convolution (group = 2, imported as a linalg.generic whose loop
// d1 is the output channel and dimension 0 of the weight) followed by the
// same BatchNormalization and no conv bias: a = [1, 0.125] as above,
// b = a * (0 - mean) + B = [1 * -0.5 + 1, 0.125 * -2 - 1] = [0.5, -1.25],
// W' = [3 * 1, 4 * 0.125] = [3, 0.5].

// CHECK-LABEL: func.func @depthwise_bn
// CHECK: %[[W:.*]] = arith.constant dense<{{\[\[\[\[}}3.000000e+00]]], {{\[\[\[}}5.000000e-01]]]]> : tensor<2x1x1x1xf32>
// CHECK: %[[C:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[W]] : tensor<1x2x4x4xf32>, tensor<2x1x1x1xf32>)
// CHECK: %[[B:.*]] = arith.constant dense<[5.000000e-01, -1.250000e+00]> : tensor<2xf32>
// CHECK: %[[Y:.*]] = linalg.generic {{.*}} ins(%[[C]], %[[B]] : tensor<1x2x4x4xf32>, tensor<2xf32>)
// CHECK-NOT: math.sqrt
// CHECK: return %[[Y]]
func.func @depthwise_bn(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = arith.constant dense<[[[[3.0]]], [[[4.0]]]]> : tensor<2x1x1x1xf32>
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<1x2x4x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e0 : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %c = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 + d4, d2 + d5, d3 + d6)>, affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>, affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w : tensor<1x2x4x4xf32>, tensor<2x1x1x1xf32>) outs(%f : tensor<1x2x4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x2x4x4xf32> loc("dw1")
  %scale = arith.constant dense<[[[2.0]], [[0.5]]]> : tensor<2x1x1xf32>
  %bias = arith.constant dense<[[[1.0]], [[-1.0]]]> : tensor<2x1x1xf32>
  %mean = arith.constant dense<[[[0.5]], [[2.0]]]> : tensor<2x1x1xf32>
  %var = arith.constant dense<[[[3.0]], [[15.0]]]> : tensor<2x1x1xf32>
  %e2 = tensor.empty() : tensor<1x2x4x4xf32>
  %bn = linalg.generic {indexing_maps = [affine_map<(n, c, h, w) -> (n, c, h, w)>, affine_map<(n, c, h, w) -> (c, 0, 0)>, affine_map<(n, c, h, w) -> (c, 0, 0)>, affine_map<(n, c, h, w) -> (c, 0, 0)>, affine_map<(n, c, h, w) -> (c, 0, 0)>, affine_map<(n, c, h, w) -> (n, c, h, w)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c, %scale, %bias, %mean, %var : tensor<1x2x4x4xf32>, tensor<2x1x1xf32>, tensor<2x1x1xf32>, tensor<2x1x1xf32>, tensor<2x1x1xf32>) outs(%e2 : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %s: f32, %bb: f32, %m: f32, %v: f32, %o: f32):
    %d = arith.subf %in, %m : f32
    %eps = arith.constant 1.0 : f32
    %ve = arith.addf %v, %eps : f32
    %sd = math.sqrt %ve : f32
    %n = arith.divf %d, %sd : f32
    %sc = arith.mulf %n, %s : f32
    %r = arith.addf %sc, %bb : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32> loc("bn1")
  return %bn : tensor<1x2x4x4xf32>
}
