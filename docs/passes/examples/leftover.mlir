// Input of docs/passes/cpu-check-lowered.md: an LLVM-dialect function with
// one arith op that no conversion took.
llvm.func @leftover(%a: i32) -> i32 {
  %b = arith.addi %a, %a : i32
  llvm.return %b : i32
}
