// qopt-legalize{mode=weight-only compute-type=bf16}: the same packed weight
// and scales as with f32 compute (test/Transforms/legalize-weight-only.mlir),
// and the op marked `compute bf16`; a #qopt.precision with act = bf16 asks
// for the same per op. Bad option values are errors.
// RUN: qopt %s -split-input-file --qopt-legalize="mode=weight-only weight-bits=4 group-size=2 compute-type=bf16" | FileCheck %s --check-prefixes=CHECK,BF16
// RUN: qopt %s -split-input-file --qopt-quantize="mode=weight-only weight-bits=4 group-size=2 compute-type=bf16" | FileCheck %s --check-prefixes=CHECK,BF16
// RUN: qopt %s -split-input-file --qopt-legalize="mode=weight-only weight-bits=4 group-size=2" | FileCheck %s --check-prefixes=CHECK,F32
// RUN: not qopt %s --qopt-legalize="mode=weight-only compute-type=f16" -o /dev/null 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: not qopt %s --qopt-quantize="mode=weight-only compute-type=bfloat16" -o /dev/null 2>&1 | FileCheck %s --check-prefix=UNKNOWN2
// RUN: not qopt %s --qopt-legalize="mode=dynamic compute-type=bf16" -o /dev/null 2>&1 | FileCheck %s --check-prefix=MODE
// RUN: not qopt %s --qopt-legalize="compute-type=bf16" -o /dev/null 2>&1 | FileCheck %s --check-prefix=STATIC
// RUN: not qopt %s --qopt-legalize="mode=weight-only weight-bits=4 group-size=64 compute-type=bf16 activation-quant=int8-block" -o /dev/null 2>&1 | FileCheck %s --check-prefix=INT8
// A precision with act = bf16 under activation-quant=int8-block.
// RUN: not qopt %s -split-input-file --qopt-legalize="mode=weight-only weight-bits=4 group-size=64 activation-quant=int8-block" -o /dev/null 2>&1 | FileCheck %s --check-prefix=PREC-INT8

// UNKNOWN: error: qopt-legalize: unknown compute-type 'f16'; expected f32 or bf16
// UNKNOWN2: error: qopt-legalize: unknown compute-type 'bfloat16'; expected f32 or bf16
// MODE: error: qopt-legalize: compute-type=bf16 applies to mode=weight-only, not mode=dynamic
// STATIC: error: qopt-legalize: compute-type=bf16 applies to mode=weight-only, not mode=static
// INT8: error: qopt-legalize: compute-type=bf16 and activation-quant=int8-block exclude each other (int8-block computes in integers); choose one
// PREC-INT8: error: precision #qopt.precision<act = bf16, weight = i4, per_group = 2> asks for bf16 activations, but activation-quant=int8-block quantizes them to int8

// W[K=4, N=2] = [[1.4, 0], [-0.62, 0], [0.7, 2], [0.14, -1.2]]: bytes and
// scales derived by hand in legalize-weight-only.mlir.
// CHECK-LABEL: func @matmul
// CHECK: %[[W:.*]] = arith.constant dense<{{\[\[\[}}95], [-97]], {{\[\[}}-120], [79]]]> : tensor<2x2x1xi8>
// CHECK: %[[S:.*]] = arith.constant dense<{{\[\[}}2.000000e-01, 1.000000e-01], [1.000000e+00, 0.285714298]]> : tensor<2x2xf32>
// BF16: qopt.matmul_nbits %arg0, %[[W]] scales %[[S]] bits 4 group_size 2 compute bf16 : tensor<3x4xf32>, tensor<2x2x1xi8>, tensor<2x2xf32> -> tensor<3x2xf32>
// F32: qopt.matmul_nbits %arg0, %[[W]] scales %[[S]] bits 4 group_size 2 : tensor<3x4xf32>, tensor<2x2x1xi8>, tensor<2x2xf32> -> tensor<3x2xf32>
func.func @matmul(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<[[1.4, 0.0], [-0.62, 0.0], [0.7, 2.0], [0.14, -1.2]]> : tensor<4x2xf32>
  %z = arith.constant dense<0.0> : tensor<3x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<3x4xf32>, tensor<4x2xf32>) outs(%z : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// act = bf16 with integer weights: weight-only with bf16 compute, whatever
// compute-type says.
// CHECK-LABEL: func @precision_bf16
// CHECK: qopt.matmul_nbits %arg0, %{{.*}} scales %{{.*}} bits 4 group_size 2 compute bf16 : tensor<1x4xf32>
func.func @precision_bf16(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.4, 0.0], [-0.62, 0.0], [0.7, 2.0], [0.14, -1.2]]> : tensor<4x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x2xf32>
  %y = linalg.matmul {qopt.precision = #qopt.precision<act = bf16, weight = i4, per_group = 2>} ins(%x, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
