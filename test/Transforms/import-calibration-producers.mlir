// Files written by other tools, recognised from their content (format=auto),
// onto one model whose tensor names they use.

// RUN: qopt %s --qopt-import-calibration="file=%qopt_src_root/test/Calibration/Inputs/ort-legacy.json" 2>&1 | FileCheck %s --check-prefix=ORT
// ONNX Runtime's older {name: [min, max]} table.
// ORT: remark: imported 2 statistics from '{{.*}}ort-legacy.json' (onnxruntime, detected)
// ORT: qopt.stats %arg0 min [-1.000000e+00] max [2.500000e+00]
// ORT: qopt.stats %{{.*}} min [0.000000e+00] max [6.000000e+00]

// RUN: qopt %s --qopt-import-calibration="file=%qopt_src_root/test/Calibration/Inputs/ort-calibration.cache" 2>&1 | FileCheck %s --check-prefix=ORTCACHE
// ONNX Runtime's calibration.cache: `name amax`, symmetric.
// ORTCACHE: remark: imported 2 statistics from '{{.*}}ort-calibration.cache' (onnxruntime-cache, detected)
// ORTCACHE: qopt.stats %arg0 min [-2.500000e+00] max [2.500000e+00]
// ORTCACHE: qopt.stats %{{.*}} min [-6.000000e+00] max [6.000000e+00]

// RUN: qopt %s --qopt-import-calibration="file=%qopt_src_root/test/Calibration/Inputs/aimet-v1.json" 2>&1 | FileCheck %s --check-prefix=AIMET
// AIMET 1.0.0: input has scale 0.03125 and offset 0 on AIMET's unsigned grid
// (real = scale * (q + offset), q in [0, 255]): range [0, 255 * 0.03125 =
// 7.96875], zero point -offset = 0 there, which is -128 on qopt's signed grid.
// AIMET: qopt.stats %arg0 min [0.000000e+00] max [7.968750e+00] scale [3.125000e-02] zero_point [-128] bits 8

// RUN: qopt %s --qopt-import-calibration="file=%qopt_src_root/test/Calibration/Inputs/tpu-mlir.table match=suffix" 2>&1 | FileCheck %s --check-prefix=TPU
// TPU-MLIR: `name threshold min max` rows; the threshold gives a symmetric
// int8 scale threshold / 127 = 56.4281803 / 127 = 0.444316380...
// TPU: remark: imported {{[0-9]+}} statistics from '{{.*}}tpu-mlir.table' (tpu-mlir, {{.*}}detected)
// TPU: qopt.stats %{{.*}} min [-102.5830231{{[0-9]*}}] max [97.68117519{{[0-9]*}}] scale [0.44431638031{{[0-9]*}}] zero_point [0] bits 8

func.func @model(%x: tensor<4xf32> {qopt.name = "input"}) -> (tensor<4xf32>, tensor<4xf32>) {
  %a = math.exp %x : tensor<4xf32> loc("conv1_out")
  %b = math.exp %a : tensor<4xf32> loc("122_Conv")
  return %a, %b : tensor<4xf32>, tensor<4xf32>
}
