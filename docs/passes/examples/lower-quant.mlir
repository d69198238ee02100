// Input of docs/passes/lower-quant.md: one quantize and one requantize.
func.func @qcast(%x: tensor<4xf32>) -> tensor<4x!quant.uniform<i8:f32, 0.5:-3>> {
  %q = quant.qcast %x : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.5:-3>>
  return %q : tensor<4x!quant.uniform<i8:f32, 0.5:-3>>
}

func.func @requantize(%acc: tensor<4x!quant.uniform<i32:f32, 0.0625>>) -> tensor<4x!quant.uniform<i8:f32, 0.5:2>> {
  %r = qopt.requantize %acc : tensor<4x!quant.uniform<i32:f32, 0.0625>> to tensor<4x!quant.uniform<i8:f32, 0.5:2>>
  return %r : tensor<4x!quant.uniform<i8:f32, 0.5:2>>
}
