// Export writes the statistics back out; importing the qopt JSON it wrote
// gives the same IR as importing the original file (round trip).

// RUN: qopt %s --qopt-import-calibration="file=%S/Inputs/calib-basic.json" -o %t.orig.mlir 2>/dev/null
// RUN: qopt %s --qopt-import-calibration="file=%S/Inputs/calib-basic.json" --qopt-export-calibration="file=%t.json" -o /dev/null 2>/dev/null
// RUN: qopt %s --qopt-import-calibration="file=%t.json format=qopt" -o %t.again.mlir 2>/dev/null
// RUN: diff %t.orig.mlir %t.again.mlir
// RUN: FileCheck %s --check-prefix=JSON < %t.json
// JSON: "qopt_calibration": 1
// JSON-DAG: "fc1"
// JSON-DAG: "W"
// JSON-DAG: "act"

// TensorRT: amax = max(|min|, |max|) and scale = amax / 127 in float32.
// input: amax 1.0 -> 1/127 = 0.007874016 = 0x3c010204 (float32 of 1/127).
// fc1: amax 1/3 -> (1/3)/127 = 0.00262467..., whose nearest float32 is
// 0x3b2c02b0 (python3: struct.pack('<f', (1/3)/127)). W has per-axis statistics, which a
// TensorRT cache cannot hold: it is left out with a warning.
// RUN: qopt %s --qopt-import-calibration="file=%S/Inputs/calib-basic.json" --qopt-export-calibration="format=tensorrt" -o /dev/null 2>%t.err | FileCheck %s --check-prefix=TRT
// RUN: FileCheck %s --check-prefix=TRT-WARN < %t.err
// TRT: TRT-
// TRT-DAG: input: 3c010204
// TRT-DAG: fc1: 3b2c02b0
// TRT-NOT: W:
// TRT-WARN: warning: a TensorRT cache holds one scale per tensor; not writing the per-axis statistics of 'W'


// RUN: not qopt %s --qopt-export-calibration="format=aimet" 2>&1 | FileCheck %s --check-prefix=BADFMT
// BADFMT: qopt-export-calibration: cannot write format 'aimet'; expected qopt or tensorrt

func.func @basic(%x: tensor<1x3xf32> {qopt.name = "input"}) -> tensor<1x3xf32> {
  %w = arith.constant dense<0.5> : tensor<3x3xf32> loc("W")
  %z = arith.constant dense<0.0> : tensor<1x3xf32>
  %fc = linalg.matmul ins(%x, %w : tensor<1x3xf32>, tensor<3x3xf32>) outs(%z : tensor<1x3xf32>) -> tensor<1x3xf32> loc("fc1")
  %act = math.tanh %fc : tensor<1x3xf32> loc("act")
  return %act : tensor<1x3xf32>
}
