// Bad options, unreadable or broken files and entries that do not fit their
// tensor: an error that says what is wrong, exit code 1, IR unchanged.

// RUN: not qopt %s --qopt-import-calibration="file=%S/Inputs/calib-basic.json format=caffe" 2>&1 | FileCheck %s --check-prefix=FORMAT
// FORMAT: qopt-import-calibration: unknown format 'caffe'; expected auto, qopt, tensorrt, onnxruntime, aimet or tpu-mlir

// RUN: not qopt %s --qopt-import-calibration="file=%S/Inputs/calib-basic.json match=regex" 2>&1 | FileCheck %s --check-prefix=MATCH
// MATCH: qopt-import-calibration: unknown match mode 'regex'; expected exact or suffix

// RUN: not qopt %s --qopt-import-calibration 2>&1 | FileCheck %s --check-prefix=NOFILE
// NOFILE: qopt-import-calibration: no calibration file; pass file=PATH

// RUN: not qopt %s --qopt-import-calibration="file=%S/Inputs/missing.json" 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: error: cannot import calibration: {{.*}}missing.json

// RUN: not qopt %s --qopt-import-calibration="file=%S/Inputs/calib-broken.json" 2>&1 | FileCheck %s --check-prefix=BROKEN
// BROKEN: error: cannot import calibration: {{.*}}calib-broken.json:2: tensor 'a'

// RUN: not qopt %s --qopt-import-calibration="file=%S/Inputs/calib-axis.json" 2>&1 | FileCheck %s --check-prefix=AXIS
// AXIS: error: loc("a"): calibration entry 'a' has 2 ranges along axis 0 but 'tensor<4xf32>' has 4 there

// RUN: sh -c 'qopt %s --qopt-import-calibration="file=%S/Inputs/calib-axis.json" >/dev/null 2>&1; echo exit=$?' | FileCheck %s --check-prefix=EXIT
// EXIT: exit=1

func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %a = math.exp %x : tensor<4xf32> loc("a")
  return %a : tensor<4xf32>
}
