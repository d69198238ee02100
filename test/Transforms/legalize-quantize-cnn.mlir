// A 6-layer CNN (conv-relu, conv-relu, depthwise-relu, 1x1 conv, max pool,
// fully connected) through qopt-legalize and qopt-quantize-kernels: every
// convolution and the matmul become integer kernels followed by one
// requantize, ReLUs are absorbed by saturation (their ranges start at 0, so
// the zero point is the storage minimum), and no float compute op is left
// on the quantized path.
// RUN: qopt %s --qopt-legalize --qopt-quantize-kernels | FileCheck %s
// RUN: qopt %s --qopt-legalize --qopt-quantize-kernels | FileCheck %s --check-prefix=NOFLOAT

// NOFLOAT-NOT: linalg.conv_2d_nhwc_hwcf
// NOFLOAT-NOT: linalg.depthwise_conv_2d_nhwc_hwc
// NOFLOAT-NOT: linalg.matmul
// NOFLOAT-NOT: linalg.pooling_nhwc_max
// NOFLOAT-NOT: arith.maximumf
// NOFLOAT-NOT: arith.mulf

// Four convolutions: i32 accumulators per output channel (axis 3)
// requantized to i8; the three followed by ReLU land on zero point -128.
// CHECK-LABEL: func @cnn
// CHECK: qopt.requantize {{.*}} : tensor<1x8x8x4x!quant.uniform<i32:f32:3, {{.*}}>> to tensor<1x8x8x4x!quant.uniform<i8:f32, {{.*}}:-128>>
// CHECK: qopt.requantize {{.*}} : tensor<1x6x6x4x!quant.uniform<i32:f32:3, {{.*}}>> to tensor<1x6x6x4x!quant.uniform<i8:f32, {{.*}}:-128>>
// CHECK: qopt.requantize {{.*}} : tensor<1x4x4x4x!quant.uniform<i32:f32:3, {{.*}}>> to tensor<1x4x4x4x!quant.uniform<i8:f32, {{.*}}:-128>>
// CHECK: qopt.requantize {{.*}} : tensor<1x4x4x8x!quant.uniform<i32:f32:3, {{.*}}>> to tensor<1x4x4x8x!quant.uniform<i8:f32,
// Max pooling on i8, then the flatten on i8.
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x4x4x8xi8>, tensor<2x2xf32>) outs(%{{.*}} : tensor<1x2x2x8xi8>)
// CHECK: tensor.collapse_shape {{.*}} : tensor<1x2x2x8xi8> into tensor<1x32xi8>
// The logits feed the float return: the i32 accumulator is dequantized.
// CHECK: quant.dcast {{.*}} : tensor<1x10x!quant.uniform<i32:f32:1,
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ch4 = affine_map<(d0, d1, d2, d3) -> (d3)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#ch2 = affine_map<(d0, d1) -> (d1)>
func.func @cnn(%x: tensor<1x10x10x1xf32> {qopt.name = "input"}) -> tensor<1x10xf32> {
  %zero = arith.constant 0.0 : f32
  %xs = qopt.stats %x min [0.0] max [1.0] : tensor<1x10x10x1xf32>
  %f1 = arith.constant dense<[[[[-0.367, 0.113, 0.298, -0.154]], [[-0.399, -0.020, 0.143, 0.329]], [[-0.365, -0.388, 0.212, 0.142]]], [[[0.460, 0.295, -0.031, -0.082]], [[0.771, -0.087, -0.235, -0.342]], [[0.029, 0.044, -0.103, -0.019]]], [[[0.082, 0.208, 0.329, 0.063]], [[-0.537, 0.211, -0.426, -0.051]], [[-0.442, 0.001, -0.234, 0.064]]]]> : tensor<3x3x1x4xf32>
  %z1 = arith.constant dense<0.0> : tensor<1x8x8x4xf32>
  %c1 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%xs, %f1 : tensor<1x10x10x1xf32>, tensor<3x3x1x4xf32>) outs(%z1 : tensor<1x8x8x4xf32>) -> tensor<1x8x8x4xf32> loc("conv1")
  %b1_b = arith.constant dense<[0.165, -0.002, 0.042, -0.066]> : tensor<4xf32>
  %c1_e = tensor.empty() : tensor<1x8x8x4xf32>
  %b1 = linalg.generic {indexing_maps = [#id4, #ch4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c1, %b1_b : tensor<1x8x8x4xf32>, tensor<4xf32>) outs(%c1_e : tensor<1x8x8x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<1x8x8x4xf32> loc("b1")
  %b1_s = qopt.stats %b1 min [-2.0] max [2.5] : tensor<1x8x8x4xf32>
  %r1 = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%b1_s : tensor<1x8x8x4xf32>) outs(%c1_e : tensor<1x8x8x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.maximumf %a, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x8x8x4xf32> loc("r1")
  %r1_s = qopt.stats %r1 min [0.0] max [2.5] : tensor<1x8x8x4xf32>

  %f2 = arith.constant dense<[[[[-0.086, 0.199, -0.028, 0.111], [0.031, -0.302, 0.169, -0.244], [0.562, -0.152, 0.206, 0.001], [0.286, -0.181, 0.300, -0.037]], [[0.379, 0.187, 0.042, -0.234], [0.230, 0.140, 0.493, -0.113], [0.166, 0.152, 0.085, 0.063], [0.055, -0.180, -0.304, -0.119]], [[0.177, 0.453, 0.293, 0.316], [0.233, 0.210, 0.055, 0.231], [0.532, -0.098, -0.208, 0.588], [0.073, 0.291, 0.262, -0.341]]], [[[0.730, 0.533, 0.053, 0.226], [0.038, -0.265, -0.034, 0.112], [0.335, 0.213, 0.018, 0.406], [-0.228, 0.238, 0.334, -0.088]], [[-0.537, -0.272, 0.071, 0.158], [0.464, -0.301, 0.001, 0.195], [-0.047, -0.711, 0.242, 0.694], [0.301, -0.275, -0.124, 0.067]], [[0.747, 0.185, 0.034, 0.467], [-0.025, 0.558, -0.206, -0.142], [0.216, 0.427, 0.196, 0.090], [-0.546, -0.214, -0.183, -0.160]]], [[[0.176, -0.101, 0.236, 0.025], [-0.100, 0.035, 0.129, 0.257], [-0.143, -0.070, -0.409, 0.481], [0.436, -0.054, -0.144, -0.371]], [[0.051, 0.062, 0.655, 0.074], [-0.233, -0.733, 0.423, 0.057], [-0.483, 0.054, -0.483, 1.044], [0.336, 0.172, -0.053, -0.642]], [[-0.038, -0.466, 0.179, -0.642], [-0.272, 0.366, 0.493, -0.354], [-0.460, 0.264, 0.256, -0.296], [-0.208, -0.208, -0.357, -0.204]]]]> : tensor<3x3x4x4xf32>
  %z2 = arith.constant dense<0.0> : tensor<1x6x6x4xf32>
  %c2 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%r1_s, %f2 : tensor<1x8x8x4xf32>, tensor<3x3x4x4xf32>) outs(%z2 : tensor<1x6x6x4xf32>) -> tensor<1x6x6x4xf32> loc("conv2")
  %b2_b = arith.constant dense<[0.063, 0.034, 0.103, -0.004]> : tensor<4xf32>
  %c2_e = tensor.empty() : tensor<1x6x6x4xf32>
  %b2 = linalg.generic {indexing_maps = [#id4, #ch4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c2, %b2_b : tensor<1x6x6x4xf32>, tensor<4xf32>) outs(%c2_e : tensor<1x6x6x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<1x6x6x4xf32> loc("b2")
  %b2_s = qopt.stats %b2 min [-3.0] max [3.0] : tensor<1x6x6x4xf32>
  %r2 = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%b2_s : tensor<1x6x6x4xf32>) outs(%c2_e : tensor<1x6x6x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.maximumf %a, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x6x6x4xf32> loc("r2")
  %r2_s = qopt.stats %r2 min [0.0] max [3.0] : tensor<1x6x6x4xf32>

  %f3 = arith.constant dense<[[[-0.041, -0.295, -0.037, -0.394], [-0.533, 0.209, 0.432, 0.251], [0.400, 0.076, -0.215, 0.026]], [[-0.112, -0.333, -0.508, -0.445], [-0.002, 0.045, -0.142, 0.429], [0.054, 0.175, 0.366, -0.246]], [[-0.591, 0.226, -0.207, 0.393], [0.101, 0.302, 0.229, -0.624], [0.216, -0.202, -0.227, -0.131]]]> : tensor<3x3x4xf32>
  %z3 = arith.constant dense<0.0> : tensor<1x4x4x4xf32>
  %c3 = linalg.depthwise_conv_2d_nhwc_hwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%r2_s, %f3 : tensor<1x6x6x4xf32>, tensor<3x3x4xf32>) outs(%z3 : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32> loc("dw")
  %b3_b = arith.constant dense<[0.038, 0.044, 0.051, -0.083]> : tensor<4xf32>
  %c3_e = tensor.empty() : tensor<1x4x4x4xf32>
  %b3 = linalg.generic {indexing_maps = [#id4, #ch4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c3, %b3_b : tensor<1x4x4x4xf32>, tensor<4xf32>) outs(%c3_e : tensor<1x4x4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<1x4x4x4xf32> loc("b3")
  %b3_s = qopt.stats %b3 min [-1.5] max [2.0] : tensor<1x4x4x4xf32>
  %r3 = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%b3_s : tensor<1x4x4x4xf32>) outs(%c3_e : tensor<1x4x4x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.maximumf %a, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x4x4x4xf32> loc("r3")
  %r3_s = qopt.stats %r3 min [0.0] max [2.0] : tensor<1x4x4x4xf32>

  %f4 = arith.constant dense<[[[[-0.177, -0.713, -0.031, 0.180, -0.229, 0.073, 0.069, 0.302], [-0.246, -0.249, -0.229, 0.526, 0.327, -0.037, 0.068, 0.034], [0.061, -0.063, -0.100, -0.377, -0.193, 0.495, 0.161, 0.019], [-0.064, 0.019, 0.106, -0.194, 0.059, 0.072, -0.225, -0.237]]]]> : tensor<1x1x4x8xf32>
  %z4 = arith.constant dense<0.0> : tensor<1x4x4x8xf32>
  %c4 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%r3_s, %f4 : tensor<1x4x4x4xf32>, tensor<1x1x4x8xf32>) outs(%z4 : tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32> loc("conv4")
  %c4_s = qopt.stats %c4 min [-1.0] max [1.5] : tensor<1x4x4x8xf32>
  %pinit = arith.constant dense<-3.4e38> : tensor<1x2x2x8xf32>
  %win = tensor.empty() : tensor<2x2xf32>
  %p = linalg.pooling_nhwc_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>} ins(%c4_s, %win : tensor<1x4x4x8xf32>, tensor<2x2xf32>) outs(%pinit : tensor<1x2x2x8xf32>) -> tensor<1x2x2x8xf32> loc("pool")
  %flat = tensor.collapse_shape %p [[0], [1, 2, 3]] : tensor<1x2x2x8xf32> into tensor<1x32xf32> loc("flatten")
  %w5 = arith.constant dense<[[-0.200, -0.213, 0.178, -0.472, -0.053, -0.122, -0.124, 0.020, 0.226, 0.015], [-0.028, -0.122, -0.026, 0.182, -0.079, -0.229, -0.253, -0.221, -0.278, 0.220], [0.071, -0.047, 0.292, -0.132, 0.151, 0.160, -0.309, -0.311, -0.186, 0.181], [0.259, -0.246, 0.210, -0.077, -0.079, -0.110, -0.065, -0.364, -0.200, -0.247], [0.098, 0.418, 0.546, -0.067, -0.344, -0.081, -0.188, 0.397, 0.114, -0.146], [0.187, 0.107, -0.325, -0.106, -0.048, 0.004, 0.026, -0.068, 0.038, -0.117], [-0.179, 0.303, 0.072, 0.088, -0.319, -0.033, 0.164, -0.258, 0.220, -0.078], [0.081, -0.027, 0.044, 0.241, -0.081, 0.313, -0.156, -0.186, 0.142, -0.213], [-0.074, 0.181, 0.242, -0.355, 0.101, 0.377, 0.239, -0.048, -0.120, -0.059], [-0.231, -0.053, -0.037, -0.029, 0.237, -0.046, -0.292, 0.210, -0.215, -0.089], [-0.027, -0.069, -0.201, -0.050, 0.437, -0.121, -0.027, 0.225, 0.149, 0.153], [0.172, -0.394, -0.173, 0.026, 0.100, 0.259, 0.094, -0.048, 0.008, -0.042], [0.049, 0.135, -0.068, -0.163, -0.171, 0.219, 0.256, 0.198, 0.171, 0.167], [-0.000, 0.133, -0.210, -0.041, -0.147, 0.145, -0.116, -0.022, 0.080, 0.271], [-0.158, -0.188, 0.163, -0.221, 0.090, -0.114, -0.021, -0.364, 0.143, -0.100], [-0.180, 0.415, 0.142, 0.702, 0.082, -0.070, 0.022, 0.321, -0.005, 0.090], [0.103, -0.182, 0.026, -0.101, -0.249, 0.174, 0.133, 0.015, -0.181, -0.401], [0.097, -0.020, -0.337, -0.012, -0.304, -0.005, 0.029, 0.071, 0.043, 0.034], [-0.228, -0.077, -0.102, -0.047, 0.054, 0.124, 0.327, -0.514, 0.080, -0.040], [0.455, 0.187, -0.331, 0.080, -0.104, 0.199, -0.211, -0.020, -0.026, -0.019], [-0.117, -0.368, 0.092, 0.200, -0.014, -0.203, 0.041, 0.113, -0.035, -0.003], [0.282, -0.224, -0.112, -0.381, -0.140, -0.148, -0.192, -0.139, 0.359, -0.039], [-0.023, 0.440, -0.012, -0.347, 0.081, -0.187, 0.328, -0.249, -0.116, -0.321], [0.019, -0.203, -0.013, -0.075, -0.123, 0.189, 0.187, 0.012, -0.180, -0.214], [0.054, 0.478, -0.091, -0.157, -0.139, -0.219, -0.194, -0.041, 0.287, -0.000], [-0.102, -0.323, 0.043, -0.005, -0.245, -0.217, -0.008, 0.202, 0.125, 0.041], [-0.065, 0.064, -0.002, 0.435, -0.226, -0.074, 0.254, -0.053, 0.285, -0.009], [0.029, -0.074, -0.276, -0.194, 0.443, 0.129, 0.121, 0.191, 0.114, 0.204], [-0.053, -0.045, 0.197, -0.070, -0.266, -0.045, -0.109, 0.123, -0.144, -0.212], [-0.066, 0.311, -0.010, 0.032, 0.002, 0.059, 0.186, 0.279, -0.329, 0.272], [-0.001, -0.064, 0.480, -0.034, 0.389, 0.194, -0.206, 0.098, 0.147, -0.025], [-0.466, -0.069, -0.038, -0.222, 0.365, -0.049, -0.079, -0.060, -0.157, -0.155]]> : tensor<32x10xf32>
  %z5 = arith.constant dense<0.0> : tensor<1x10xf32>
  %m5 = linalg.matmul ins(%flat, %w5 : tensor<1x32xf32>, tensor<32x10xf32>) outs(%z5 : tensor<1x10xf32>) -> tensor<1x10xf32> loc("fc")
  %logits_b = arith.constant dense<[0.005, 0.016, -0.025, -0.005, -0.070, 0.026, -0.037, 0.011, -0.045, -0.026]> : tensor<10xf32>
  %m5_e = tensor.empty() : tensor<1x10xf32>
  %logits = linalg.generic {indexing_maps = [#id2, #ch2, #id2], iterator_types = ["parallel", "parallel"]} ins(%m5, %logits_b : tensor<1x10xf32>, tensor<10xf32>) outs(%m5_e : tensor<1x10xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<1x10xf32> loc("logits")
  %logits_s = qopt.stats %logits min [-4.0] max [4.0] : tensor<1x10xf32>
  return %logits_s : tensor<1x10xf32>
}
