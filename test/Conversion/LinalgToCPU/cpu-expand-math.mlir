// RUN: qopt %s --split-input-file --qopt-cpu-expand-math | FileCheck %s
// math.erf on f32 scalars and vectors becomes upstream's polynomial (arith
// and math.fma); other math ops and f64 erf are left alone.

// The accuracy of the compiled erf against Python's float64 math.erf (bound
// 4e-7 absolute; measured on this machine: 2.36e-7 at x = -1.9157, at most
// 3.97 float32 ulps of the reference), and erf through qopt-lower-cpu end to end.
// REQUIRES: python-numpy
// RUN: %numpy_python %S/Inputs/erf_accuracy.py --work %t --max-abs 4e-7 | FileCheck %s --check-prefix=ACC
// ACC: odd: True, |erf| <= 1: True, erf(nan) is nan: True, erf(+-inf) = 1.0 -1.0

// An f64 erf has no expansion: qopt-lower-cpu's final check names it.
// RUN: not qopt %s --split-input-file --qopt-lower-cpu 2>&1 | FileCheck %s --check-prefix=F64
// F64: error: 'math.erf' was not lowered to the LLVM dialect by qopt-lower-cpu

// CHECK-LABEL: func @scalar
// CHECK-NOT: math.erf
// CHECK: math.fma
// CHECK: return
func.func @scalar(%x: f32) -> f32 {
  %y = math.erf %x : f32
  return %y : f32
}

// -----

// CHECK-LABEL: func @vector
// CHECK-NOT: math.erf
// CHECK: math.fma {{.*}} : vector<16xf32>
// CHECK: return
func.func @vector(%x: vector<16xf32>) -> vector<16xf32> {
  %y = math.erf %x : vector<16xf32>
  return %y : vector<16xf32>
}

// -----

// CHECK-LABEL: func @others
// CHECK: math.exp
// CHECK: math.erf {{.*}} : f64
func.func @others(%x: f32, %d: f64) -> (f32, f64) {
  %y = math.exp %x : f32
  %z = math.erf %d : f64
  return %y, %z : f32, f64
}
