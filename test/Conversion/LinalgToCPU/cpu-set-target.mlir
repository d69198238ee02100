// RUN: qopt %s --qopt-cpu-set-target="cpu=znver4 features=+avx512bf16" | FileCheck %s
// RUN: qopt %s --qopt-cpu-set-target="target=aarch64 cpu=neoverse-v1" | FileCheck %s --check-prefix=ARM
// RUN: not qopt %s --qopt-cpu-set-target="cpu=znver99" 2>&1 | FileCheck %s --check-prefix=BADCPU
// RUN: not qopt %s --qopt-cpu-set-target="cpu=znver4 features=avx512f" 2>&1 | FileCheck %s --check-prefix=NOSIGN
// RUN: not qopt %s --qopt-cpu-set-target="cpu=znver4 features=+notafeature" 2>&1 | FileCheck %s --check-prefix=BADFEATURE
// RUN: not qopt %s --qopt-cpu-set-target="target=riscv64 cpu=generic" 2>&1 | FileCheck %s --check-prefix=BADTARGET

// CHECK: module attributes {llvm.target_triple = "x86_64-unknown-linux-gnu"}
// CHECK-LABEL: func.func @public
// CHECK-SAME: llvm.emit_c_interface
// CHECK-SAME: qopt.signature = (i32) -> i32
// CHECK-SAME: target_cpu = "znver4"
// CHECK-SAME: target_features = #llvm.target_features<["+avx512bf16"]>
// CHECK-LABEL: func.func private @helper
// CHECK-NOT: llvm.emit_c_interface
// CHECK-NOT: qopt.signature
// CHECK-SAME: target_cpu = "znver4"
// CHECK: func.func private @external(i32) -> i32{{$}}
// ARM: module attributes {llvm.target_triple = "aarch64-unknown-linux-gnu"}
// ARM: target_cpu = "neoverse-v1"
// BADCPU: error: qopt-lower-cpu: cpu 'znver99' is not a CPU LLVM knows for x86_64-unknown-linux-gnu
// NOSIGN: error: qopt-lower-cpu: feature 'avx512f' must start with '+' or '-' (as in +avx512vnni)
// BADFEATURE: error: qopt-lower-cpu: feature '+notafeature' is not a feature of x86_64-unknown-linux-gnu
// BADTARGET: error: qopt-lower-cpu: target 'riscv64' is not supported; use x86_64 or aarch64
func.func @public(%a: i32) -> i32 {
  %b = call @helper(%a) : (i32) -> i32
  return %b : i32
}
func.func private @helper(%a: i32) -> i32 {
  %b = call @external(%a) : (i32) -> i32
  return %b : i32
}
func.func private @external(i32) -> i32
