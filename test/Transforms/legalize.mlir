// RUN: qopt %s -split-input-file --qopt-legalize | FileCheck %s

// Asymmetric i8 from [-1.0, 3.0] (the defaults): scale = 4/255, stored as the
// float32 0.01568627543747425; zero point -128 + 1.0 * 255 / 4 = -64.25,
// nudged to -64 (TFLite's rule, so 0.0 is exact).
// Weights [[1.0, -0.5], [0.25, 2.0]] per output channel (axis 1 of [K, N]):
// channel 0 amax 1.0, scale 1/127 (float32 0.007874015718698502): 1.0 -> 127,
// 0.25 -> 31.75 -> 32; channel 1 amax 2.0, scale 2/127: -0.5 -> -31.75 -> -32,
// 2.0 -> 127. Narrow range [-127, 127].
// CHECK-LABEL: func @matmul_minmax
// CHECK-NOT: qopt.stats
// CHECK: %[[Q:.*]] = quant.qcast %arg0 : tensor<1x2xf32> to tensor<1x2x!quant.uniform<i8:f32, 0.015686275437474{{[0-9]*}}:-64>>
// CHECK: %[[D:.*]] = quant.dcast %[[Q]]
// CHECK-DAG: %[[WI:.*]] = arith.constant dense<{{\[\[}}127, -32], [32, 127]]> : tensor<2x2xi8>
// CHECK-DAG: %[[WQ:.*]] = quant.scast %[[WI]] : tensor<2x2xi8> to tensor<2x2x!quant.uniform<i8<-127:127>:f32:1, {0.0078740157186985{{[0-9]*}},0.015748031437397{{[0-9]*}}}>>
// CHECK-DAG: %[[WD:.*]] = quant.dcast %[[WQ]]
// CHECK: linalg.matmul ins(%[[D]], %[[WD]] :
// CHECK-NOT: dense<{{\[\[}}1.0
func.func @matmul_minmax(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %s = qopt.stats %x min [-1.0] max [3.0] : tensor<1x2xf32>
  %w = arith.constant dense<[[1.0, -0.5], [0.25, 2.0]]> : tensor<2x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x2xf32>
  %y = linalg.matmul ins(%s, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// Transposed weights [N, K] through indexing_maps: the output channel is
// axis 0 of the weight. Rows {1.0, 0.25} and {-0.5, 2.0}.
// CHECK-LABEL: func @matmul_transposed_weights
// CHECK: arith.constant dense<{{\[\[}}127, 32], [-32, 127]]> : tensor<2x2xi8>
// CHECK: quant.scast {{.*}} to tensor<2x2x!quant.uniform<i8<-127:127>:f32:0, {0.0078740157186985{{[0-9]*}},0.015748031437397{{[0-9]*}}}>>
func.func @matmul_transposed_weights(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %s = qopt.stats %x min [-1.0] max [3.0] : tensor<1x2xf32>
  %w = arith.constant dense<[[1.0, 0.25], [-0.5, 2.0]]> : tensor<2x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x2xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%s, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// ONNX Gemm with transB=1 as qopt-translate imports it: the [N, K]
// initializer, a linalg.transpose to [K, N], a plain matmul. The initializer
// is quantized in its own layout, per output channel along its axis 0 (rows
// {1.0, 0.25} and {-0.5, 2.0}, as in the case above), and the transpose
// follows the dequantization; the float constant and transpose are gone.
// CHECK-LABEL: func @matmul_transposed_constant
// CHECK: %[[D:.*]] = quant.dcast {{.*}} : tensor<1x2x!quant.uniform<i8:f32, 0.015686275437474{{[0-9]*}}:-64>> to tensor<1x2xf32>
// CHECK: %[[WI:.*]] = arith.constant dense<{{\[\[}}127, 32], [-32, 127]]> : tensor<2x2xi8>
// CHECK: %[[WQ:.*]] = quant.scast %[[WI]] : tensor<2x2xi8> to tensor<2x2x!quant.uniform<i8<-127:127>:f32:0, {0.0078740157186985{{[0-9]*}},0.015748031437397{{[0-9]*}}}>>
// CHECK: %[[WD:.*]] = quant.dcast %[[WQ]] : {{.*}} to tensor<2x2xf32>
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x2xf32>
// CHECK: %[[WT:.*]] = linalg.transpose ins(%[[WD]] : tensor<2x2xf32>) outs(%[[E]] : tensor<2x2xf32>) permutation = [1, 0]
// CHECK: linalg.matmul ins(%[[D]], %[[WT]] :
// CHECK-NOT: linalg.transpose
// CHECK-NOT: arith.constant dense<{{\[\[}}1.0
func.func @matmul_transposed_constant(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %s = qopt.stats %x min [-1.0] max [3.0] : tensor<1x2xf32>
  %w = arith.constant dense<[[1.0, 0.25], [-0.5, 2.0]]> : tensor<2x2xf32> loc("fc.weight")
  %e = tensor.empty() : tensor<2x2xf32>
  %wt = linalg.transpose ins(%w : tensor<2x2xf32>) outs(%e : tensor<2x2xf32>) permutation = [1, 0]
  %z = arith.constant dense<0.0> : tensor<1x2xf32>
  %y = linalg.matmul ins(%s, %wt : tensor<1x2xf32>, tensor<2x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// Fully connected with bias. Activation [0.0, 2.55] asymmetric i8: scale
// 2.55/255 = 0.01 (float32 0.009999999776482582), zero point -128. Weight amax
// 1.27 per channel: scale 1.27/127 = 0.01 in both channels. The bias scale is
// the float32 product 0.01f * 0.01f = 9.99999974e-05, so 0.5 -> 5000 and
// -0.25 -> -2500, stored as i32 with zero point 0.
// CHECK-LABEL: func @fully_connected_bias
// CHECK: %[[MM:.*]] = linalg.matmul
// CHECK-DAG: %[[BI:.*]] = arith.constant dense<[5000, -2500]> : tensor<2xi32>
// CHECK-DAG: %[[BQ:.*]] = quant.scast %[[BI]] : tensor<2xi32> to tensor<2x!quant.uniform<i32:f32:0, {9.9999997473787{{[0-9]*}}E-5,9.9999997473787{{[0-9]*}}E-5}>>
// CHECK-DAG: %[[BD:.*]] = quant.dcast %[[BQ]]
// CHECK: linalg.generic {{.*}} ins(%[[MM]], %[[BD]] :
func.func @fully_connected_bias(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %s = qopt.stats %x min [0.0] max [2.55] : tensor<1x2xf32>
  %w = arith.constant dense<[[1.27, -1.27], [0.5, 0.25]]> : tensor<2x2xf32>
  %b = arith.constant dense<[0.5, -0.25]> : tensor<2xf32>
  %z = arith.constant dense<0.0> : tensor<1x2xf32>
  %mm = linalg.matmul ins(%s, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  %e = tensor.empty() : tensor<1x2xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%mm, %b : tensor<1x2xf32>, tensor<2xf32>) outs(%e : tensor<1x2xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %r = arith.addf %a, %c : f32
    linalg.yield %r : f32
  } -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// batch_matmul with constant weights [b, K, N]: per channel along N (axis 2).
// Attention-style batch_matmul of two activations: both get QDQ, no weight.
// CHECK-LABEL: func @batch_matmuls
// CHECK: %[[QA:.*]] = quant.qcast %{{.*}} : tensor<2x2x2xf32> to tensor<2x2x2x!quant.uniform<i8:f32, 0.015686275437474{{[0-9]*}}:-64>>
// CHECK: %[[DA:.*]] = quant.dcast %[[QA]]
// CHECK: %[[QB:.*]] = quant.qcast %{{.*}} : tensor<2x2x2xf32> to tensor<2x2x2x!quant.uniform<i8:f32, 0.0078431377187371{{[0-9]*}}:-1>>
// CHECK: %[[DB:.*]] = quant.dcast %[[QB]]
// CHECK: %[[WQ:.*]] = quant.scast {{.*}} : tensor<2x2x3xi8> to tensor<2x2x3x!quant.uniform<i8<-127:127>:f32:2, {{.*}}>>
// CHECK: %[[WD:.*]] = quant.dcast %[[WQ]]
// CHECK: linalg.batch_matmul ins(%[[DA]], %[[WD]] :
// CHECK: linalg.batch_matmul ins(%[[DA]], %[[DB]] :
func.func @batch_matmuls(%x: tensor<2x2x2xf32>, %k: tensor<2x2x2xf32>) -> (tensor<2x2x3xf32>, tensor<2x2x2xf32>) {
  %s = qopt.stats %x min [-1.0] max [3.0] : tensor<2x2x2xf32>
  %sk = qopt.stats %k min [-1.0] max [1.0] : tensor<2x2x2xf32>
  %w = arith.constant dense<0.5> : tensor<2x2x3xf32>
  %z = arith.constant dense<0.0> : tensor<2x2x3xf32>
  %y = linalg.batch_matmul ins(%s, %w : tensor<2x2x2xf32>, tensor<2x2x3xf32>) outs(%z : tensor<2x2x3xf32>) -> tensor<2x2x3xf32>
  %z2 = arith.constant dense<0.0> : tensor<2x2x2xf32>
  %a = linalg.batch_matmul ins(%s, %sk : tensor<2x2x2xf32>, tensor<2x2x2xf32>) outs(%z2 : tensor<2x2x2xf32>) -> tensor<2x2x2xf32>
  return %y, %a : tensor<2x2x3xf32>, tensor<2x2x2xf32>
}

// -----

// Convolutions: NHWC/HWCF filters are per channel along F (axis 3), NCHW/FCHW
// along F (axis 0), depthwise NHWC/HWC along C (axis 2).
// CHECK-LABEL: func @convs
// CHECK: quant.scast {{.*}} : tensor<3x3x2x4xi8> to tensor<3x3x2x4x!quant.uniform<i8<-127:127>:f32:3, {{.*}}>>
// CHECK: linalg.conv_2d_nhwc_hwcf
// CHECK: quant.scast {{.*}} : tensor<4x2x3x3xi8> to tensor<4x2x3x3x!quant.uniform<i8<-127:127>:f32:0, {{.*}}>>
// CHECK: linalg.conv_2d_nchw_fchw
// CHECK: quant.scast {{.*}} : tensor<3x3x2xi8> to tensor<3x3x2x!quant.uniform<i8<-127:127>:f32:2, {{.*}}>>
// CHECK: linalg.depthwise_conv_2d_nhwc_hwc
func.func @convs(%x: tensor<1x5x5x2xf32>, %xc: tensor<1x2x5x5xf32>) -> (tensor<1x3x3x4xf32>, tensor<1x4x3x3xf32>, tensor<1x3x3x2xf32>) {
  %s = qopt.stats %x min [-1.0] max [1.0] : tensor<1x5x5x2xf32>
  %sc = qopt.stats %xc min [-1.0] max [1.0] : tensor<1x2x5x5xf32>
  %f1 = arith.constant dense<0.25> : tensor<3x3x2x4xf32>
  %f2 = arith.constant dense<0.25> : tensor<4x2x3x3xf32>
  %f3 = arith.constant dense<0.25> : tensor<3x3x2xf32>
  %z1 = arith.constant dense<0.0> : tensor<1x3x3x4xf32>
  %z2 = arith.constant dense<0.0> : tensor<1x4x3x3xf32>
  %z3 = arith.constant dense<0.0> : tensor<1x3x3x2xf32>
  %a = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%s, %f1 : tensor<1x5x5x2xf32>, tensor<3x3x2x4xf32>) outs(%z1 : tensor<1x3x3x4xf32>) -> tensor<1x3x3x4xf32>
  %b = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%sc, %f2 : tensor<1x2x5x5xf32>, tensor<4x2x3x3xf32>) outs(%z2 : tensor<1x4x3x3xf32>) -> tensor<1x4x3x3xf32>
  %c = linalg.depthwise_conv_2d_nhwc_hwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%s, %f3 : tensor<1x5x5x2xf32>, tensor<3x3x2xf32>) outs(%z3 : tensor<1x3x3x2xf32>) -> tensor<1x3x3x2xf32>
  return %a, %b, %c : tensor<1x3x3x4xf32>, tensor<1x4x3x3xf32>, tensor<1x3x3x2xf32>
}

// -----

// Elementwise add of two activations: each gets its own QDQ.
// CHECK-LABEL: func @add
// CHECK: %[[A:.*]] = quant.dcast {{.*}}0.015686275437474{{[0-9]*}}:-64>>
// CHECK: %[[B:.*]] = quant.dcast {{.*}}0.0078431377187371{{[0-9]*}}:-1>>
// CHECK: linalg.add ins(%[[A]], %[[B]] :
func.func @add(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  %sx = qopt.stats %x min [-1.0] max [3.0] : tensor<4xf32>
  %sy = qopt.stats %y min [-1.0] max [1.0] : tensor<4xf32>
  %e = tensor.empty() : tensor<4xf32>
  %r = linalg.add ins(%sx, %sy : tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// ReLU and ReLU6 narrow the range of the value they produce. The ReLU has no
// statistics: its input's [-2, 6] narrowed to [0, 6] gives scale 6/255
// (float32 0.0235294122248888) and zero point -128. The ReLU6's input [-2, 10]
// narrowed to [0, 6] gives the same.
// CHECK-LABEL: func @relu_ranges
// CHECK: %[[R:.*]] = linalg.generic
// CHECK: arith.maximumf
// CHECK: quant.qcast %[[R]] : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.023529412224888{{[0-9]*}}:-128>>
// CHECK: %[[R6:.*]] = linalg.generic
// CHECK: arith.minimumf
// CHECK: quant.qcast %[[R6]] : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.023529412224888{{[0-9]*}}:-128>>
#id = affine_map<(d0) -> (d0)>
func.func @relu_ranges(%x: tensor<4xf32>, %y: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %zero = arith.constant 0.0 : f32
  %six = arith.constant 6.0 : f32
  %sx = qopt.stats %x min [-2.0] max [6.0] : tensor<4xf32>
  %sy = qopt.stats %y min [-2.0] max [10.0] : tensor<4xf32>
  %e = tensor.empty() : tensor<4xf32>
  %relu = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%sx : tensor<4xf32>) outs(%e : tensor<4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.maximumf %a, %zero : f32
    linalg.yield %m : f32
  } -> tensor<4xf32>
  %relu6 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%sy : tensor<4xf32>) outs(%e : tensor<4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.maximumf %a, %zero : f32
    %n = arith.minimumf %m, %six : f32
    linalg.yield %n : f32
  } -> tensor<4xf32>
  %r = linalg.add ins(%relu, %relu6 : tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  return %r, %relu6 : tensor<4xf32>, tensor<4xf32>
}

// -----

// Max pooling and reshapes keep the scale: each reads the QDQ of its input
// and its result is quantized with the same type.
// CHECK-LABEL: func @scale_keeping
// CHECK: %[[Q:.*]] = quant.qcast %{{.*}} : tensor<1x4x4x1xf32> to tensor<1x4x4x1x![[T:.*]]>
// CHECK: %[[D:.*]] = quant.dcast %[[Q]]
// CHECK: %[[P:.*]] = linalg.pooling_nhwc_max {{.*}} ins(%[[D]],
// CHECK: %[[PQ:.*]] = quant.qcast %[[P]] : tensor<1x2x2x1xf32> to tensor<1x2x2x1x![[T]]>
// CHECK: %[[PD:.*]] = quant.dcast %[[PQ]]
// CHECK: %[[C:.*]] = tensor.collapse_shape %[[PD]]
// CHECK: %[[TQ:.*]] = quant.qcast %[[C]] : tensor<4xf32> to tensor<4x![[T]]>
// CHECK: %[[TD:.*]] = quant.dcast %[[TQ]]
// CHECK: linalg.add ins(%[[TD]], %[[TD]] :
func.func @scale_keeping(%x: tensor<1x4x4x1xf32>) -> tensor<4xf32> {
  %sx = qopt.stats %x min [-1.0] max [3.0] : tensor<1x4x4x1xf32>
  %init = arith.constant dense<-3.4e38> : tensor<1x2x2x1xf32>
  %win = tensor.empty() : tensor<2x2xf32>
  %p = linalg.pooling_nhwc_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
      ins(%sx, %win : tensor<1x4x4x1xf32>, tensor<2x2xf32>) outs(%init : tensor<1x2x2x1xf32>) -> tensor<1x2x2x1xf32>
  %c = tensor.collapse_shape %p [[0, 1, 2, 3]] : tensor<1x2x2x1xf32> into tensor<4xf32>
  %e = tensor.empty() : tensor<4xf32>
  %r = linalg.add ins(%c, %c : tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// Concat without statistics of its own: one common type from the union of
// its inputs' ranges, [-1, 3] here (scale 4/255, zero point -64).
// CHECK-LABEL: func @concat_common_scale
// CHECK: %[[A:.*]] = quant.qcast %{{.*}} : tensor<2xf32> to tensor<2x!quant.uniform<i8:f32, 0.015686275437474{{[0-9]*}}:-64>>
// CHECK: %[[B:.*]] = quant.qcast %{{.*}} : tensor<2xf32> to tensor<2x!quant.uniform<i8:f32, 0.015686275437474{{[0-9]*}}:-64>>
// CHECK: tensor.concat
func.func @concat_common_scale(%x: tensor<2xf32>, %y: tensor<2xf32>) -> tensor<4xf32> {
  %sx = qopt.stats %x min [0.0] max [1.0] : tensor<2xf32>
  %sy = qopt.stats %y min [-1.0] max [3.0] : tensor<2xf32>
  %c = tensor.concat dim(0) %sx, %sy : (tensor<2xf32>, tensor<2xf32>) -> tensor<4xf32>
  return %c : tensor<4xf32>
}

// -----

// Softmax has no integer kernel: it reads float and stays float; the matmul
// after it quantizes the softmax result from its statistics.
// CHECK-LABEL: func @softmax_float
// CHECK: %[[SM:.*]] = linalg.softmax dimension(1) ins(%{{.*}} : tensor<1x2xf32>)
// CHECK: quant.qcast %[[SM]] : tensor<1x2xf32> to tensor<1x2x!quant.uniform<i8:f32, 0.0039215688593685627:-128>>
// CHECK: linalg.matmul
func.func @softmax_float(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %e = tensor.empty() : tensor<1x2xf32>
  %sm = linalg.softmax dimension(1) ins(%x : tensor<1x2xf32>) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  %s = qopt.stats %sm min [0.0] max [1.0] : tensor<1x2xf32>
  %w = arith.constant dense<1.0> : tensor<2x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x2xf32>
  %y = linalg.matmul ins(%s, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// #qopt.precision overrides the options per op: act = f32 keeps an op float;
// act = i16 asks for 16-bit activations ([-1, 3] asymmetric i16: scale
// 4/65535, zero point -32768 + 65535/4 = -16384.25 -> -16384).
// CHECK-LABEL: func @precision_override
// CHECK: %[[Q:.*]] = quant.qcast %arg0 : tensor<1x2xf32> to tensor<1x2x!quant.uniform<i16:f32, 6.1036087572574{{[0-9]*}}E-5:-16384>>
// CHECK: %[[D:.*]] = quant.dcast %[[Q]]
// CHECK: linalg.matmul {qopt.precision = #qopt.precision<act = f32>} ins(%arg0, %{{.*}} : tensor<1x2xf32>, tensor<2x2xf32>)
// CHECK: quant.scast {{.*}} : tensor<2x2xi4> to tensor<2x2x!quant.uniform<i4<-7:7>:f32:1,
// CHECK: linalg.matmul {qopt.precision = #qopt.precision<act = i16, weight = i4, per_channel>} ins(%[[D]],
func.func @precision_override(%x: tensor<1x2xf32>) -> (tensor<1x2xf32>, tensor<1x2xf32>) {
  %s = qopt.stats %x min [-1.0] max [3.0] : tensor<1x2xf32>
  %w = arith.constant dense<1.0> : tensor<2x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x2xf32>
  %a = linalg.matmul {qopt.precision = #qopt.precision<act = f32>} ins(%s, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  %b = linalg.matmul {qopt.precision = #qopt.precision<act = i16, weight = i4, per_channel>} ins(%s, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %a, %b : tensor<1x2xf32>, tensor<1x2xf32>
}
