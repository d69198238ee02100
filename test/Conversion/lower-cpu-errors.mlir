// qopt-lower-cpu fails, naming the op, when something it cannot lower is
// left (here a quantize that qopt-lower-quant should have lowered first),
// and on a bad target (x86_64 or aarch64).
//
// RUN: not qopt %s --qopt-lower-cpu="cpu=znver4" 2>&1 | FileCheck %s
// RUN: not qopt %s --qopt-lower-cpu="cpu=pentium5" 2>&1 | FileCheck %s --check-prefix=CPU
// An aarch64 target checks its CPU and features against aarch64's tables:
// RUN: not qopt %s --qopt-lower-cpu="target=aarch64 cpu=znver4" 2>&1 | FileCheck %s --check-prefix=ARMCPU
// RUN: not qopt %s --qopt-lower-cpu="target=aarch64 cpu=generic features=+avx512vnni" 2>&1 | FileCheck %s --check-prefix=ARMFEATURE
// RUN: not qopt %s --qopt-lower-cpu="target=aarch64 cpu=generic features=dotprod" 2>&1 | FileCheck %s --check-prefix=ARMSIGN

// CHECK: error: 'quant.qcast' was not lowered to the LLVM dialect by qopt-lower-cpu
// CPU: error: qopt-lower-cpu: cpu 'pentium5' is not a CPU LLVM knows for x86_64-unknown-linux-gnu
// ARMCPU: error: qopt-lower-cpu: cpu 'znver4' is not a CPU LLVM knows for aarch64-unknown-linux-gnu
// ARMFEATURE: error: qopt-lower-cpu: feature '+avx512vnni' is not a feature of aarch64-unknown-linux-gnu
// ARMSIGN: error: qopt-lower-cpu: feature 'dotprod' must start with '+' or '-' (as in +avx512vnni)
func.func @forgot_lower_quant(%a: f32) -> i8 {
  %q = quant.qcast %a : f32 to !quant.uniform<i8:f32, 0.5>
  %s = quant.scast %q : !quant.uniform<i8:f32, 0.5> to i8
  return %s : i8
}
