// Printing is a fixed point: `qopt f.mlir | qopt` prints the same text as
// `qopt f.mlir`, for qopt ops and upstream quant IR alike, in both the custom
// and the generic form. Values that need all 17 digits survive exactly.
// RUN: qopt %s -o %t.1.mlir
// RUN: qopt %t.1.mlir -o %t.2.mlir
// RUN: diff %t.1.mlir %t.2.mlir
// RUN: qopt %s -mlir-print-op-generic -o %t.g1.mlir
// RUN: qopt %t.g1.mlir -mlir-print-op-generic -o %t.g2.mlir
// RUN: diff %t.g1.mlir %t.g2.mlir
// RUN: qopt %t.g1.mlir -o %t.3.mlir
// RUN: diff %t.1.mlir %t.3.mlir
// RUN: FileCheck %s < %t.1.mlir

// CHECK-LABEL: func @qdq
// CHECK: qopt.stats %arg0 min [-1.000000e-01] max [0.33333333333333331]
// CHECK: quant.qcast
// CHECK: qopt.requantize
// CHECK: quant.scast
// CHECK: quant.dcast
func.func @qdq(%arg0: tensor<2x3xf32>) -> tensor<2x3xf32> attributes {p = #qopt.precision<act = i8, weight = i4, per_group = 64>} {
  %0 = qopt.stats %arg0 min [-0.1] max [0.3333333333333333] histogram [-0.1, 0.3333333333333333] counts [1, 0, 7] : tensor<2x3xf32>
  %1 = quant.qcast %0 : tensor<2x3xf32> to tensor<2x3x!quant.uniform<i8:f32, 0.0016993464052287582:-69>>
  %2 = qopt.requantize %1 : tensor<2x3x!quant.uniform<i8:f32, 0.0016993464052287582:-69>> to tensor<2x3x!quant.uniform<i16:f32:1, {0.001:3, 0.002:-4, 0.003}>>
  %3 = quant.scast %2 : tensor<2x3x!quant.uniform<i16:f32:1, {0.001:3, 0.002:-4, 0.003}>> to tensor<2x3xi16>
  %4 = quant.scast %3 : tensor<2x3xi16> to tensor<2x3x!quant.uniform<i16:f32:1, {0.001:3, 0.002:-4, 0.003}>>
  %5 = quant.dcast %4 : tensor<2x3x!quant.uniform<i16:f32:1, {0.001:3, 0.002:-4, 0.003}>> to tensor<2x3xf32>
  return %5 : tensor<2x3xf32>
}
