// qopt-assign-precision on a small model: one matmul with a 64x4 weight
// (4 output channels, int4 in groups of 32), one elementwise add of two
// activations and a concat. Statistics are given inline.
// RUN: qopt %s --qopt-assign-precision="budget=cost:1.0" | FileCheck %s --check-prefix=INT8
// RUN: not qopt %s --qopt-assign-precision="budget=size:0" 2>&1 | FileCheck %s --check-prefix=SMALLEST
// RUN: qopt %s --qopt-assign-precision="budget=sqnr:100" | FileCheck %s --check-prefix=FLOAT
// RUN: qopt %s --qopt-assign-precision="budget=avg-bits:4" | FileCheck %s --check-prefix=W4
// RUN: qopt %s --qopt-assign-precision="budget=avg-bits:4 group-size=0" | FileCheck %s --check-prefix=W4PC
// RUN: qopt %s --qopt-assign-precision="budget=cost:3 target=aarch64 table=%S/Inputs/assign-precision-pins.txt" | FileCheck %s --check-prefix=PINNED
// RUN: not qopt %s --qopt-assign-precision="budget=cost:1.0 target=aarch64 table=%S/Inputs/assign-precision-pins.txt" 2>&1 | FileCheck %s --check-prefix=PININF
// RUN: qopt %s --qopt-assign-precision="budget=sqnr:100 target=sm_90" | FileCheck %s --check-prefix=SM90

// INT8-LABEL: func.func @model
// INT8: linalg.matmul {{.*}}qopt.precision = #qopt.precision<act = i8, weight = i8, per_channel>
// INT8: linalg.generic {{.*}}qopt.precision = #qopt.precision<act = i8>
// INT8: tensor.concat {{.*}}qopt.precision = #qopt.precision<act = i8>

// size:0 is below every choice: the error names the smallest budget (128
// weight bytes of int4 plus 8 group scales of 4 bytes).
// SMALLEST: error: qopt-assign-precision: budget size:0 is infeasible; the smallest feasible budget is size:160

// FLOAT-LABEL: func.func @model
// FLOAT: linalg.matmul {{.*}}qopt.precision = #qopt.precision<act = f32, weight = f32>
// FLOAT: linalg.generic {{.*}}qopt.precision = #qopt.precision<act = f32>
// FLOAT: tensor.concat {{.*}}qopt.precision = #qopt.precision<act = f32>

// W4: linalg.matmul {{.*}}qopt.precision = #qopt.precision<act = i8, weight = i4, per_group = 32>
// W4PC: linalg.matmul {{.*}}qopt.precision = #qopt.precision<act = i8, weight = i4, per_channel>

// The pin table keeps the matmul in f16 and the add in f32 (aarch64 offers
// f16); with three times the int8 cost the concat can stay in f32 too.
// PINNED: linalg.matmul {{.*}}qopt.precision = #qopt.precision<act = f16, weight = f16>
// PINNED: linalg.generic {{.*}}qopt.precision = #qopt.precision<act = f32>
// PINNED: tensor.concat {{.*}}qopt.precision = #qopt.precision<act = f32>

// Pins count: with the matmul in f16 and the add in f32, all-int8 cost is out
// of reach.
// PININF: error: qopt-assign-precision: budget cost:1.0 is infeasible; the smallest feasible budget is cost:2.4781 (with the pins of {{.*}}assign-precision-pins.txt)

// SM90: linalg.matmul {{.*}}qopt.precision = #qopt.precision<act = f32, weight = f32>

#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @model(%x: tensor<1x64xf32>, %a: tensor<1x4xf32>) -> tensor<2x4xf32> {
  %xs = qopt.stats %x min [-1.0] max [1.0] : tensor<1x64xf32>
  %as = qopt.stats %a min [-2.0] max [2.0] : tensor<1x4xf32>
  %w = arith.constant dense<[[0.1728, 0.4108, 0.1652, -0.6516], [0.4527, 0.2232, -0.2685, 0.2906], [0.1823, 0.1471, 0.0142, 0.2734], [-0.3682, -0.0815, -0.2411, 0.2994], [0.0199, -0.1462, -0.3910, -0.1286], [0.0041, -0.1378, 0.6470, 0.5034], [-1.3556, -0.9445, -0.0874, -0.2111], [0.1068, 0.1087, 1.0589, -0.5560], [-0.1888, 1.0214, 0.3234, 0.3315], [-0.2570, -0.8240, 0.0837, 0.0545], [-0.6137, -0.3416, -0.0360, -0.4724], [-0.0491, 0.0477, 0.0178, -0.2531], [0.2969, 0.4456, 0.1604, -0.4091], [0.3658, -0.2507, 0.4396, -0.5359], [0.4572, -0.0100, -0.6244, -0.1569], [0.0271, 0.1364, -0.4911, -0.5537], [0.0998, -0.2334, 0.1178, 0.3798], [-0.8244, 0.1272, 0.6123, -0.1488], [-0.4054, 0.3761, 0.1267, 0.4479], [-0.1726, -0.7409, -0.0550, -0.2229], [0.3877, 0.0968, -0.8154, -0.5976], [0.4419, 0.3399, -0.3201, -0.0005], [0.2228, 0.2342, 0.4381, 0.1282], [-0.0474, -0.1294, 0.5279, -1.1254], [-0.0693, 0.0165, -0.7127, 0.1664], [-0.3256, 0.4312, -0.0628, 0.3346], [0.6094, 0.1915, -0.4379, -0.7572], [0.8767, -0.0556, -0.3443, 0.0721], [-0.0957, 0.4261, 0.0170, 0.0069], [-0.3573, 0.2348, -0.5169, 0.3329], [0.7620, -0.7623, -1.2331, 0.3084], [1.2739, -0.5005, -0.6253, 0.2945], [-0.4204, -0.2530, -0.1741, 0.2660], [-0.2027, 0.1389, -0.0883, -0.4223], [-0.1599, -0.4752, 0.0033, -0.5619], [-0.5464, 0.7285, -0.0266, -0.0270], [0.2558, -0.2104, -0.1143, 0.2126], [0.1412, -0.5796, 0.4167, -0.2952], [-0.5280, -0.4502, -0.1953, 0.8137], [-0.5878, 0.0800, -1.0689, -0.0008], [0.4498, -0.1183, -0.3147, 0.1158], [0.3501, 0.3318, 0.9862, 0.1046], [-0.2962, -0.0630, -0.0362, 0.0544], [-0.0150, 0.0870, -0.8354, 0.4148], [-0.2874, -0.5866, 0.3189, 0.6587], [0.2465, 0.0806, -0.4661, 1.4358], [0.4401, -0.5696, -0.3898, 0.0435], [-0.7774, 0.0843, -0.2295, 0.6131], [0.4811, -1.3556, 0.0209, -0.8087], [0.5548, 0.0841, 0.2742, -0.5326], [0.9142, 1.0100, -0.5324, 0.1864], [-0.3367, -0.0118, -0.6328, 0.9336], [-0.4846, -0.1480, 0.2507, -0.3238], [-0.1197, -0.2818, -0.0667, -0.5853], [-0.2190, -0.1034, -0.1669, 0.0283], [-0.1466, 0.3766, -0.1616, -0.0683], [-0.3324, -0.2633, -0.6322, 0.2594], [-0.5713, -0.3729, 0.1796, 0.2013], [-0.2001, -1.0096, 0.2103, 0.1298], [-0.7062, 0.3852, -0.3505, -0.5631], [0.0479, -0.0892, 0.1013, -0.8029], [0.9061, -0.3013, -0.7698, 0.3094], [-0.1774, 0.1624, -0.1698, -0.0299], [0.1229, -0.3733, 0.3394, -0.2350]]> : tensor<64x4xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4xf32>) -> tensor<1x4xf32>
  %y = linalg.matmul ins(%xs, %w : tensor<1x64xf32>, tensor<64x4xf32>) outs(%z : tensor<1x4xf32>) -> tensor<1x4xf32> loc("fc")
  %ys = qopt.stats %y min [-6.0] max [6.0] : tensor<1x4xf32>
  %s = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%ys, %as : tensor<1x4xf32>, tensor<1x4xf32>) outs(%e : tensor<1x4xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %r = arith.addf %p, %q : f32
    linalg.yield %r : f32
  } -> tensor<1x4xf32> loc("add")
  %ss = qopt.stats %s min [-8.0] max [8.0] : tensor<1x4xf32>
  %c = tensor.concat dim(0) %ss, %as : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<2x4xf32> loc("cat")
  return %c : tensor<2x4xf32>
}
