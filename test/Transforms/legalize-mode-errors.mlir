// RUN: not qopt %s --qopt-legalize=mode=int4 -o /dev/null 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: not qopt %s --qopt-quantize=mode=static-ish -o /dev/null 2>&1 | FileCheck %s --check-prefix=UNKNOWN

// UNKNOWN: error: qopt-legalize: unknown mode '{{.*}}'; expected static, dynamic or weight-only

func.func @f(%x: tensor<2xf32>) -> tensor<2xf32> {
  return %x : tensor<2xf32>
}
