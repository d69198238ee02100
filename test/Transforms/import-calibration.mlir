// RUN: qopt %s --allow-unregistered-dialect -split-input-file --qopt-import-calibration="file=%S/Inputs/calib-basic.json format=qopt" 2>/dev/null | FileCheck %s

// Arguments are named by qopt.name, results by their location; every use of
// a named value now reads the annotated value.
// CHECK-LABEL: func @basic
// CHECK-SAME: (%[[X:.*]]: tensor<1x3xf32> {qopt.name = "input"}
// CHECK: %[[XS:.*]] = qopt.stats %[[X]] min [-1.000000e+00] max [1.000000e+00] : tensor<1x3xf32>
// CHECK: %[[W:.*]] = arith.constant
// CHECK: %[[WS:.*]] = qopt.stats %[[W]] axis 1 min [-1.000000e+00, -2.000000e+00, -5.000000e-01] max [1.000000e+00, 2.000000e+00, 2.500000e-01] : tensor<3x3xf32>
// CHECK: %[[FC:.*]] = linalg.matmul ins(%[[XS]], %[[WS]] :
// CHECK: %[[FCS:.*]] = qopt.stats %[[FC]] min [-1.000000e-01] max [0.33333333333333331] : tensor<1x3xf32>
// CHECK: %[[ACT:.*]] = math.tanh %[[FCS]]
// CHECK: %[[ACTS:.*]] = qopt.stats %[[ACT]] min [0.000000e+00] max [6.000000e+00] histogram [0.000000e+00, 6.000000e+00] counts [3, 1, 0, 2] : tensor<1x3xf32>
// CHECK: return %[[ACTS]]
func.func @basic(%x: tensor<1x3xf32> {qopt.name = "input"}) -> tensor<1x3xf32> {
  %w = arith.constant dense<0.5> : tensor<3x3xf32> loc("W")
  %z = arith.constant dense<0.0> : tensor<1x3xf32>
  %fc = linalg.matmul ins(%x, %w : tensor<1x3xf32>, tensor<3x3xf32>) outs(%z : tensor<1x3xf32>) -> tensor<1x3xf32> loc("fc1")
  %act = math.tanh %fc : tensor<1x3xf32> loc("act")
  return %act : tensor<1x3xf32>
}

// -----

// Names inside fused and call-site locations, and the i-th result of a
// multi-result op as name:i.
// CHECK-LABEL: func @wrapped_names
// CHECK: %[[A:.*]] = math.exp
// CHECK-NEXT: qopt.stats %[[A]] min [-4.000000e+00] max [4.000000e+00]
// CHECK: %[[B:.*]] = math.exp
// CHECK-NEXT: qopt.stats %[[B]] min [-8.000000e+00] max [8.000000e+00]
// CHECK: %[[S:.*]]:2 = "test.split"
// CHECK-NEXT: qopt.stats %[[S]]#1 min [-5.000000e-01] max [5.000000e-01]
// CHECK-NOT: qopt.stats
func.func @wrapped_names(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<2xf32>, tensor<2xf32>) {
  %a = math.exp %x : tensor<4xf32> loc(fused["fused_name", "model.py":3:4])
  %b = math.exp %a : tensor<4xf32> loc(callsite("callee_name" at "model.py":7:1))
  %s:2 = "test.split"(%b) : (tensor<4xf32>) -> (tensor<2xf32>, tensor<2xf32>) loc("split")
  return %a, %b, %s#0, %s#1 : tensor<4xf32>, tensor<4xf32>, tensor<2xf32>, tensor<2xf32>
}
