// Template for a qopt pass's lit test; docs/writing-lit-tests.md explains
// each part. Copy it to test/<dir mirroring lib/>/<pass flag without
// qopt->.mlir (here that would be test/Transforms/legalize.mlir), replace
// the pass, the options and the cases, and keep the shape. This copy is
// itself run by lit (test/Docs/), so the template cannot rot.
//
// One RUN line per configuration. -split-input-file runs each chunk between
// separator lines (`//` and five dashes) as its own module; FileCheck reads
// the CHECK lines of this file.
// RUN: qopt %s -split-input-file --qopt-legalize | FileCheck %s
// An option gets its own prefix, so its checks cannot match the default's.
// RUN: qopt %s -split-input-file --qopt-legalize="activations=symmetric" | FileCheck %s --check-prefix=SYM

// Each case: a comment saying what it shows and where the expected numbers
// come from (worked out by hand or by an independent reference, never
// copied from qopt's output), one CHECK-LABEL, then only the lines the
// pass is responsible for.
//
// Asymmetric i8 input over [-1, 3]: scale 4/255 = 0.0156862745, zero point
// -128 - round(-1 / (4/255)) = -128 + 64 = -64. Weights symmetric per output
// column, narrow range: scale max|w| / 127 = 1/127 and 0.5/127, so
// 0.5 -> 63.5 -> 64 (ties to even) and -0.25 -> -63.5 -> -64 in column 1.
// CHECK-LABEL: func.func @matmul
// CHECK-DAG's lines may match in any order (for constants and other ops
// whose order is not the pass's promise); the CHECK after them continues
// below the last one matched. %[[X:.*]] captures a name, %[[X]] reuses it.
// CHECK-DAG:   %[[Q:.*]] = quant.qcast %arg0 : tensor<1x2xf32> to tensor<1x2x!quant.uniform<i8:f32, 0.015686{{[0-9]*}}:-64>>
// CHECK-DAG:   %[[D:.*]] = quant.dcast %[[Q]]
// CHECK-DAG:   %[[W:.*]] = arith.constant dense<{{\[}}[64, -64], [-127, 127]]> : tensor<2x2xi8>
// CHECK:       %[[WQ:.*]] = quant.scast %[[W]] : tensor<2x2xi8> to tensor<2x2x!quant.uniform<i8<-127:127>:f32:1, {0.0078740{{[0-9]*}},0.0039370{{[0-9]*}}}>>
// CHECK-NEXT:  %[[WD:.*]] = quant.dcast %[[WQ]]
// CHECK-NEXT:  linalg.matmul ins(%[[D]], %[[WD]] :
// The statistics are consumed.
// CHECK-NOT:   qopt.stats
// Symmetric activations: zero point 0, scale max(|-1|, |3|) / 127 = 3/127.
// SYM-LABEL:   func.func @matmul
// SYM:         quant.qcast %arg0 : tensor<1x2xf32> to tensor<1x2x!quant.uniform<i8:f32, 0.023622{{[0-9]*}}>>
func.func @matmul(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %s = qopt.stats %x min [-1.0] max [3.0] : tensor<1x2xf32>
  %w = arith.constant dense<[[0.5, -0.25], [-1.0, 0.5]]> : tensor<2x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x2xf32>
  %y = linalg.matmul ins(%s, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// What the pass must leave alone is a case too: an op with no integer
// kernel stays float, with no quantize or dequantize around it.
// CHECK-LABEL: func.func @no_kernel
// CHECK-NOT:   quant.
// CHECK:       math.exp
// SYM-LABEL:   func.func @no_kernel
func.func @no_kernel(%x: tensor<4xf32>) -> tensor<4xf32> {
  %s = qopt.stats %x min [-1.0] max [1.0] : tensor<4xf32>
  %y = math.exp %s : tensor<4xf32>
  return %y : tensor<4xf32>
}
