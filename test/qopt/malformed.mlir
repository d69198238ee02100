// Malformed input gives a diagnostic at its location and exit code 1, never
// a crash.

// RUN: not qopt %s -split-input-file 2>&1 | FileCheck %s
// RUN: sh -c 'qopt %s -split-input-file >/dev/null 2>&1; echo exit=$?' | FileCheck %s --check-prefix=EXIT
// EXIT: exit=1

// RUN: not qopt %S/Inputs/truncated.mlir 2>&1 | FileCheck %s --check-prefix=TRUNC
// TRUNC: truncated.mlir:{{[0-9]+}}:{{[0-9]+}}: error: expected operation name in quotes
// RUN: sh -c 'qopt %S/Inputs/truncated.mlir >/dev/null 2>&1; echo exit=$?' | FileCheck %s --check-prefix=EXIT

// RUN: not qopt %S/Inputs/binary.mlir 2>&1 | FileCheck %s --check-prefix=BINARY
// BINARY: binary.mlir:1:1: error:
// RUN: sh -c 'qopt %S/Inputs/binary.mlir >/dev/null 2>&1; echo exit=$?' | FileCheck %s --check-prefix=EXIT

// RUN: not qopt %S/Inputs/does-not-exist.mlir 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: cannot open input file {{.*}}does-not-exist.mlir

// CHECK: malformed.mlir:[[# @LINE + 2]]:{{[0-9]+}}: error: custom op 'qopt.stat' is unknown
func.func @typo(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  %0 = qopt.stat %arg0 min [0.0] max [1.0] : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// CHECK: malformed.mlir:[[# @LINE + 2]]:{{[0-9]+}}: error: expected ':'
func.func @missing_type(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  %0 = qopt.stats %arg0 min [0.0] max [1.0]
  return %0 : tensor<4xf32>
}

// -----

// CHECK: malformed.mlir:[[# @LINE + 2]]:{{[0-9]+}}: error: use of undeclared SSA value name
func.func @undefined_value() -> tensor<4xf32> {
  return %nope : tensor<4xf32>
}

// -----

// CHECK: malformed.mlir:[[# @LINE + 1]]:{{[0-9]+}}: error: {{.*}}
func.func @bad_quant_type(%arg0: tensor<4x!quant.uniform<i64:f32, 0.1>>) {
  return
}
