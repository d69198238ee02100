// RUN: qopt %s --split-input-file --qopt-cpu-check-lowered --verify-diagnostics | FileCheck %s

// A fully lowered module passes unchanged.
// CHECK-LABEL: llvm.func @ok
llvm.func @ok(%a: i32) -> i32 {
  llvm.return %a : i32
}

// -----

// Every op outside the LLVM dialect is named; ops nested in one are not
// reported again.
llvm.func @leftover(%a: i32) -> i32 {
  // expected-error@+1 {{'arith.addi' was not lowered to the LLVM dialect by qopt-lower-cpu}}
  %b = arith.addi %a, %a : i32
  llvm.return %b : i32
}

// expected-error@+1 {{'func.func' was not lowered to the LLVM dialect by qopt-lower-cpu}}
func.func @not_converted(%a: i32) -> i32 {
  %b = arith.addi %a, %a : i32
  return %b : i32
}
