// RUN: qopt %s --qopt-lower-quant="requant-mode=float" | FileCheck %s

// Float requantization: f32(x) * m with m = f32(0.001) / f32(0.05) computed
// in float32 = 0.0200000014 (0x3CA3D70B; python3: struct-round f32(0.001) / f32(0.05) to float32), rounded half to even.
// CHECK-LABEL: func @requantize_float
// CHECK-DAG: arith.constant 0.0200000014 : f32
// CHECK: arith.sitofp {{.*}} : i32 to f32
// CHECK: arith.mulf
// CHECK: math.roundeven
func.func @requantize_float(%a: tensor<4x!quant.uniform<i32:f32, 0.001>>) -> tensor<4x!quant.uniform<i8:f32, 0.05:-3>> {
  %r = qopt.requantize %a : tensor<4x!quant.uniform<i32:f32, 0.001>> to tensor<4x!quant.uniform<i8:f32, 0.05:-3>>
  return %r : tensor<4x!quant.uniform<i8:f32, 0.05:-3>>
}
