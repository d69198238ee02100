// match=suffix finds names behind scope prefixes (import-calibration-ambiguous
// tests an entry that matches two names).

// RUN: qopt %s --qopt-import-calibration="file=%S/Inputs/calib-conv1.json format=qopt match=suffix" 2>/dev/null | FileCheck %s
// RUN: qopt %s --qopt-import-calibration="file=%S/Inputs/calib-conv1.json" 2>/dev/null | FileCheck %s --check-prefix=EXACT

// CHECK-LABEL: func @scoped
// CHECK: qopt.stats %{{.*}} min [-2.000000e+00] max [2.000000e+00]
// EXACT-LABEL: func @scoped
// EXACT-NOT: qopt.stats
func.func @scoped(%x: tensor<4xf32>) -> tensor<4xf32> {
  %a = math.exp %x : tensor<4xf32> loc("model/block1/conv1")
  // A name that merely ends in the same letters is not a scope prefix.
  %b = math.exp %a : tensor<4xf32> loc("myconv1")
  return %b : tensor<4xf32>
}
