// Input of docs/passes/fold-requant.md: a dequantize followed by a quantize
// to another type, and a chain of two requantizes whose middle step is exact.
func.func @dcast_qcast(%x: tensor<4x!quant.uniform<i8:f32, 0.1:-3>>) -> tensor<4x!quant.uniform<i8:f32, 0.2:5>> {
  %d = quant.dcast %x : tensor<4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<4xf32>
  %q = quant.qcast %d : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.2:5>>
  return %q : tensor<4x!quant.uniform<i8:f32, 0.2:5>>
}

func.func @exact_chain(%x: tensor<4x!quant.uniform<i8:f32, 0.1:-3>>) -> tensor<4x!quant.uniform<i8:f32, 0.05>> {
  %a = qopt.requantize %x : tensor<4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<4x!quant.uniform<i16:f32, 0.1:100>>
  %b = qopt.requantize %a : tensor<4x!quant.uniform<i16:f32, 0.1:100>> to tensor<4x!quant.uniform<i8:f32, 0.05>>
  return %b : tensor<4x!quant.uniform<i8:f32, 0.05>>
}
