// Unmatched file entries and tensors left without statistics are counted and
// listed; strict=true makes them an error and leaves the IR unchanged.

// RUN: qopt %s --qopt-import-calibration="file=%S/Inputs/calib-partial.json" 2>&1 | FileCheck %s
// CHECK: remark: imported 1 statistics from '{{.*}}calib-partial.json' (qopt, detected); 2 entries matched no tensor, 2 tensors have no statistics
// CHECK: warning: 2 entries of '{{.*}}calib-partial.json' match no tensor: 'ghost1', 'ghost2'
// CHECK: warning: 2 float tensors have no statistics: 'input', 'b'
// CHECK: qopt.stats %{{.*}} min [-1.000000e+00] max [1.000000e+00]

// More than five names are cut short.
// RUN: qopt %s --qopt-import-calibration="file=%S/Inputs/calib-many.json" 2>&1 | FileCheck %s --check-prefix=MANY
// MANY: warning: 7 entries of '{{.*}}calib-many.json' match no tensor: 'g1', 'g2', 'g3', 'g4', 'g5' and 2 more

// RUN: not qopt %s --qopt-import-calibration="file=%S/Inputs/calib-partial.json strict=true" 2>&1 | FileCheck %s --check-prefix=STRICT
// STRICT: error: strict calibration import from '{{.*}}calib-partial.json' failed: 2 file entries match no tensor: 'ghost1', 'ghost2'; 2 tensors have no statistics: 'input', 'b'
// STRICT-NOT: qopt.stats

func.func @partial(%x: tensor<4xf32> {qopt.name = "input"}) -> tensor<4xf32> {
  %a = math.exp %x : tensor<4xf32> loc("a")
  %b = math.exp %a : tensor<4xf32> loc("b")
  %i = arith.constant dense<1> : tensor<4xi32> loc("int_tensor_not_expected")
  %w = arith.constant dense<1.0> : tensor<4xf32> loc("weight_not_expected")
  %c = arith.addf %b, %w : tensor<4xf32>
  return %c : tensor<4xf32>
}
