// Existing statistics are replaced by default and widened with merge=true.

// RUN: qopt %s --qopt-import-calibration="file=%S/Inputs/calib-merge.json" | FileCheck %s --check-prefix=REPLACE
// RUN: qopt %s --qopt-import-calibration="file=%S/Inputs/calib-merge.json merge=true" | FileCheck %s --check-prefix=MERGE

// REPLACE: qopt.stats %{{.*}} min [-5.000000e-01] max [3.000000e+00]
// REPLACE-NOT: qopt.stats
// MERGE: qopt.stats %{{.*}} min [-1.000000e+00] max [3.000000e+00]
// MERGE-NOT: qopt.stats
func.func @merge(%x: tensor<4xf32>) -> tensor<4xf32> {
  %a = math.exp %x : tensor<4xf32> loc("a")
  %s = qopt.stats %a min [-1.0] max [2.0] : tensor<4xf32>
  return %s : tensor<4xf32>
}
