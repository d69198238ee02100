// Weights stored as dense_resource blobs (what the ONNX importer emits for
// large initializers) are quantized like dense ones.
// RUN: qopt %s --qopt-legalize | FileCheck %s

// The blob holds the float32 values {1.0, -0.5, 0.25, 2.0} (little endian,
// after the 4-byte alignment header 0x04000000): per output channel (axis 1
// of [2, 2]) they quantize to [[127, -32], [32, 127]] as in legalize.mlir.
// CHECK-LABEL: func @resource_weights
// CHECK: arith.constant dense<{{\[\[}}127, -32], [32, 127]]> : tensor<2x2xi8>
// CHECK: linalg.matmul
func.func @resource_weights(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %s = qopt.stats %x min [-1.0] max [3.0] : tensor<1x2xf32>
  %w = arith.constant dense_resource<weights> : tensor<2x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x2xf32>
  %y = linalg.matmul ins(%s, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

{-#
  dialect_resources: {
    builtin: {
      weights: "0x040000000000803F000000BF0000803E00000040"
    }
  }
#-}
