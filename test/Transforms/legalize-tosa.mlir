// TOSA input: upstream tosa-to-linalg turns it into linalg on tensors (the
// names in the locations survive), then qopt imports statistics and
// legalizes it like any linalg model.
// RUN: qopt %s --pass-pipeline="builtin.module(func.func(tosa-to-linalg-named, tosa-to-linalg, tosa-to-arith), qopt-import-calibration{file=%S/Inputs/calib-tosa.json strict=true}, qopt-legalize)" 2>/dev/null | FileCheck %s

// The tosa.matmul becomes a linalg.batch_matmul whose input is quantized
// from the statistics of "input" ([-1, 3]: scale 4/255, zero point -64) and
// whose constant weight is quantized per output channel.
// CHECK-LABEL: func @tosa_model
// CHECK: %[[Q:.*]] = quant.qcast %{{.*}} : tensor<1x2x3xf32> to tensor<1x2x3x!quant.uniform<i8:f32, 0.015686275437474{{[0-9]*}}:-64>>
// CHECK: %[[D:.*]] = quant.dcast %[[Q]]
// CHECK: %[[W:.*]] = quant.scast %{{.*}} : tensor<1x3x4xi8> to tensor<1x3x4x!quant.uniform<i8<-127:127>:f32:2,
// CHECK: %[[WD:.*]] = quant.dcast %[[W]]
// CHECK: linalg.batch_matmul ins(%[[D]], %[[WD]] :
func.func @tosa_model(%x: tensor<1x2x3xf32> {qopt.name = "input"}) -> tensor<1x2x4xf32> {
  %w = "tosa.const"() <{values = dense<[[[0.5, -1.0, 0.25, 2.0], [1.0, 0.5, -0.5, 1.0], [0.0, 1.5, 1.0, -2.0]]]> : tensor<1x3x4xf32>}> : () -> tensor<1x3x4xf32> loc("weight")
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %mm = tosa.matmul %x, %w, %zp, %zp : (tensor<1x2x3xf32>, tensor<1x3x4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x4xf32> loc("mm")
  %r = tosa.clamp %mm {min_val = 0.0 : f32, max_val = 6.0 : f32} : (tensor<1x2x4xf32>) -> tensor<1x2x4xf32> loc("relu")
  return %r : tensor<1x2x4xf32>
}
