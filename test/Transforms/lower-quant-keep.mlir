// signature=keep leaves quantized types on the function boundary, joined to
// the storage integers inside by quant.scast.
// RUN: qopt %s --qopt-lower-quant="signature=keep" | FileCheck %s
// CHECK-LABEL: func @keep
// CHECK-SAME: (%[[A:.*]]: tensor<4x!quant.uniform<i8:f32, 1.000000e-01>>) -> tensor<4x!quant.uniform<i8:f32, 2.000000e-01>>
// CHECK: %[[I:.*]] = quant.scast %[[A]] : tensor<4x!quant.uniform<i8:f32, 1.000000e-01>> to tensor<4xi8>
// CHECK: %[[G:.*]] = linalg.generic {{.*}} ins(%[[I]] : tensor<4xi8>)
// CHECK: %[[R:.*]] = quant.scast %[[G]] : tensor<4xi8> to tensor<4x!quant.uniform<i8:f32, 2.000000e-01>>
// CHECK: return %[[R]]
func.func @keep(%a: tensor<4x!quant.uniform<i8:f32, 0.1>>) -> tensor<4x!quant.uniform<i8:f32, 0.2>> {
  %r = qopt.requantize %a : tensor<4x!quant.uniform<i8:f32, 0.1>> to tensor<4x!quant.uniform<i8:f32, 0.2>>
  return %r : tensor<4x!quant.uniform<i8:f32, 0.2>>
}
