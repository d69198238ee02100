// QDQ model where "y" has another shape than in f.mlir.
func.func @f(%x: tensor<1x4xf32> {qopt.name = "x"}) -> tensor<1x2xf32> {
  %q = quant.qcast %x : tensor<1x4xf32> to tensor<1x4x!quant.uniform<i8:f32, 0.01:0>>
  %d = quant.dcast %q : tensor<1x4x!quant.uniform<i8:f32, 0.01:0>> to tensor<1x4xf32>
  %y = tensor.extract_slice %d[0, 0] [1, 2] [1, 1] : tensor<1x4xf32> to tensor<1x2xf32> loc("y")
  return %y : tensor<1x2xf32>
}
