// qopt-legalize{mode=weight-only activation-quant=int8-block}: the matmul
// becomes qopt.matmul_nbits with the int8_block unit attribute (MatMulNBits
// accuracy_level 4 semantics, docs/weight-only.md); the quantize pipeline
// forwards the option. Bad combinations are errors.
// RUN: qopt %s --qopt-legalize="mode=weight-only weight-bits=4 group-size=64 activation-quant=int8-block" | FileCheck %s
// RUN: qopt %s --qopt-quantize="mode=weight-only weight-bits=4 group-size=128 activation-quant=int8-block" | FileCheck %s --check-prefix=PIPE
// RUN: qopt %s --qopt-legalize="mode=weight-only weight-bits=4 group-size=64" | FileCheck %s --check-prefix=NONE
// RUN: not qopt %s --qopt-legalize="activation-quant=int8-block" -o /dev/null 2>&1 | FileCheck %s --check-prefix=STATIC
// RUN: not qopt %s --qopt-legalize="mode=dynamic activation-quant=int8-block" -o /dev/null 2>&1 | FileCheck %s --check-prefix=DYNAMIC
// RUN: not qopt %s --qopt-legalize="mode=weight-only weight-bits=4 group-size=32 activation-quant=int8-block" -o /dev/null 2>&1 | FileCheck %s --check-prefix=GROUP
// RUN: not qopt %s --qopt-legalize="mode=weight-only weight-bits=8 group-size=64 activation-quant=int8-block" -o /dev/null 2>&1 | FileCheck %s --check-prefix=BITS8
// RUN: not qopt %s --qopt-legalize="mode=weight-only activation-quant=int4" -o /dev/null 2>&1 | FileCheck %s --check-prefix=UNKNOWN

// CHECK-LABEL: func @matmul
// CHECK: qopt.matmul_nbits %arg0, %{{.*}} scales %{{.*}} bits 4 group_size 64 int8_block : tensor<2x128xf32>, tensor<3x2x32xi8>, tensor<3x2xf32> -> tensor<2x3xf32>
// CHECK-NOT: linalg.matmul
// PIPE-LABEL: func @matmul
// PIPE: qopt.matmul_nbits %arg0, %{{.*}} scales %{{.*}} bits 4 group_size 128 int8_block : tensor<2x128xf32>, tensor<3x1x64xi8>, tensor<3x1xf32> -> tensor<2x3xf32>
// NONE-LABEL: func @matmul
// NONE-NOT: int8_block
// STATIC: error: qopt-legalize: activation-quant applies to mode=weight-only
// DYNAMIC: error: qopt-legalize: activation-quant applies to mode=weight-only
// GROUP: error: qopt-legalize: activation-quant=int8-block needs weight-bits=4 and group-size 64 or 128 (the cases whose ONNX Runtime rule is derived), got weight-bits=4 group-size=32
// BITS8: error: qopt-legalize: activation-quant=int8-block needs weight-bits=4 and group-size 64 or 128 (the cases whose ONNX Runtime rule is derived), got weight-bits=8 group-size=64
// UNKNOWN: error: qopt-legalize: unknown activation-quant 'int4'; expected none or int8-block
func.func @matmul(%x: tensor<2x128xf32>) -> tensor<2x3xf32> {
  %w = arith.constant dense<0.5> : tensor<128x3xf32>
  %z = arith.constant dense<0.0> : tensor<2x3xf32>
  %y = linalg.matmul ins(%x, %w : tensor<2x128xf32>, tensor<128x3xf32>) outs(%z : tensor<2x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}
