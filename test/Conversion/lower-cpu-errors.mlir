// qopt-lower-cpu fails, naming the op, when something it cannot lower is
// left (here a quantize that qopt-lower-quant should have lowered first),
// and on a bad target.
//
// RUN: not qopt %s --qopt-lower-cpu="cpu=znver4" 2>&1 | FileCheck %s
// RUN: not qopt %s --qopt-lower-cpu="cpu=pentium5" 2>&1 | FileCheck %s --check-prefix=CPU

// CHECK: error: 'quant.qcast' was not lowered to the LLVM dialect by qopt-lower-cpu
// CPU: error: qopt-lower-cpu: cpu 'pentium5' is not a CPU LLVM knows for x86_64-unknown-linux-gnu
func.func @forgot_lower_quant(%a: f32) -> i8 {
  %q = quant.qcast %a : f32 to !quant.uniform<i8:f32, 0.5>
  %s = quant.scast %q : !quant.uniform<i8:f32, 0.5> to i8
  return %s : i8
}
