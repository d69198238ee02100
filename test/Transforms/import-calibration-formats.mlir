// Formats other than qopt JSON, and format=auto telling which it chose.

// RUN: qopt %s --allow-unregistered-dialect --qopt-import-calibration="file=%S/Inputs/calib.trt format=tensorrt" 2>/dev/null | FileCheck %s
// RUN: qopt %s --allow-unregistered-dialect --qopt-import-calibration="file=%S/Inputs/calib.trt" 2>&1 >/dev/null | FileCheck %s --check-prefix=AUTO
// RUN: qopt %s --allow-unregistered-dialect --qopt-import-calibration="file=%S/Inputs/calib-basic.json" 2>&1 >/dev/null | FileCheck %s --check-prefix=AUTO-JSON

// TensorRT stores float32 scales: 0x3c000000 = 2^-7 and 0x3d800000 = 2^-4;
// amax = 127 * scale gives 0.9921875 and 7.9375, symmetric.
// CHECK-LABEL: func @trt
// CHECK: qopt.stats %arg0 min [-0.9921875] max [0.9921875]
// CHECK: %[[C:.*]]:2 = "test.conv"
// CHECK-NEXT: qopt.stats %[[C]]#0 min [-7.937500e+00] max [7.937500e+00]
// AUTO: remark: imported 2 statistics from '{{.*}}calib.trt' (tensorrt, TRT-8601-EntropyCalibration2, detected); 0 entries matched no tensor, 1 tensors have no statistics
// AUTO-JSON: remark: imported {{[0-9]+}} statistics from '{{.*}}calib-basic.json' (qopt, detected)
func.func @trt(%x: tensor<4xf32> {qopt.name = "input"}) -> tensor<4xf32> {
  %c:2 = "test.conv"(%x) : (tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) loc("scope/conv1")
  return %c#0 : tensor<4xf32>
}
