// RUN: qopt %s --split-input-file --qopt-expose-tensors --verify-diagnostics | FileCheck %s

// Float model: the argument (named by qopt.name) and every named float op
// result become extra results, in program order; the constant weight and
// the unnamed tensor.empty are not exposed.

// CHECK-LABEL: func.func @mlp
// CHECK-SAME: -> (tensor<1x4xf32>, tensor<1x8xf32>, tensor<1x4xf32>, tensor<1x4xf32>)
// CHECK-SAME: qopt.exposed = [{name = "x", op = "func.arg", result = 1 : i64}, {name = "fc", op = "linalg.matmul", result = 2 : i64}, {name = "relu", op = "linalg.generic", result = 3 : i64}]
// CHECK: return %[[R:.*]], %arg0, %[[MM:.*]], %[[R]] :
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @mlp(%x: tensor<1x8xf32> {qopt.name = "x"}) -> tensor<1x4xf32> {
  %w = arith.constant dense<0.5> : tensor<8x4xf32> loc("fc.weight")
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4xf32>) -> tensor<1x4xf32>
  %mm = linalg.matmul ins(%x, %w : tensor<1x8xf32>, tensor<8x4xf32>)
                      outs(%z : tensor<1x4xf32>) -> tensor<1x4xf32> loc("fc")
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm : tensor<1x4xf32>) outs(%e : tensor<1x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.maximumf %a, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x4xf32> loc("relu")
  return %r : tensor<1x4xf32>
}

// -----

// Quantized values are returned as storage integers through quant.scast,
// with their scale and zero point (per axis: arrays and the axis). A name on
// several values means the last of them (here the second qcast named "q");
// the unnamed argument is not exposed.

// CHECK-LABEL: func.func @quant
// CHECK-SAME: -> (tensor<4xf32>, tensor<4xf32>, tensor<4xi8>, tensor<4xf32>, tensor<2x3xi32>)
// CHECK-SAME: {name = "a", op = "func.arg", result = 1 : i64}
// CHECK-SAME: {name = "q", op = "quant.qcast", result = 2 : i64, scale = array<f64: 5.000000e-01>, zero_point = array<i64: 3>}
// CHECK-SAME: {name = "deq", op = "quant.dcast", result = 3 : i64}
// CHECK-SAME: {axis = 1 : i64, name = "acc", op = "quant.scast", result = 4 : i64, scale = array<f64: 1.000000e+00, 2.000000e+00, 4.000000e+00>, zero_point = array<i64: 0, 0, 0>}
// CHECK: %[[D:.*]] = quant.dcast
// CHECK: %[[Q2:.*]] = quant.qcast %[[D]]
// CHECK: %[[ACC:.*]] = quant.scast %arg1
// CHECK-DAG: %[[S1:.*]] = quant.scast %[[Q2]] : tensor<4x!quant.uniform<i8:f32, 5.000000e-01:3>> to tensor<4xi8>
// CHECK-DAG: %[[S2:.*]] = quant.scast %[[ACC]] : tensor<2x3x!quant.uniform<i32:f32:1, {1.000000e+00,2.000000e+00,4.000000e+00}>> to tensor<2x3xi32>
// CHECK: return %[[D]], %arg0, %[[S1]], %[[D]], %[[S2]]
func.func @quant(%a: tensor<4xf32> {qopt.name = "a"}, %acc: tensor<2x3xi32>) -> tensor<4xf32> {
  %q = quant.qcast %a : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.5:3>> loc("q")
  %d = quant.dcast %q : tensor<4x!quant.uniform<i8:f32, 0.5:3>> to tensor<4xf32> loc("deq")
  %q2 = quant.qcast %d : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.5:3>> loc("q")
  %s = quant.scast %acc : tensor<2x3xi32> to tensor<2x3x!quant.uniform<i32:f32:1, {1.0, 2.0, 4.0}>> loc("acc")
  return %d : tensor<4xf32>
}

// -----

// expected-error @below {{qopt-expose-tensors: 2 public functions; choose one with entry=NAME (@f, @g)}}
module {
  func.func @f(%a: tensor<4xf32>) -> tensor<4xf32> {
    return %a : tensor<4xf32>
  }
  func.func @g(%a: tensor<4xf32>) -> tensor<4xf32> {
    return %a : tensor<4xf32>
  }
}

// -----

// expected-error @below {{qopt-expose-tensors: @helper is called inside the module; its results cannot change}}
func.func @helper(%a: tensor<4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}
func.func private @caller(%a: tensor<4xf32>) -> tensor<4xf32> {
  %r = func.call @helper(%a) : (tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
