// QDQ model whose names differ from f.mlir's: "x_q" is only here, "z" only
// there.
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @f(%x: tensor<1x4xf32> {qopt.name = "x"}) -> tensor<1x4xf32> {
  %q = quant.qcast %x : tensor<1x4xf32> to tensor<1x4x!quant.uniform<i8:f32, 0.01:0>> loc("x_q")
  %d = quant.dcast %q : tensor<1x4x!quant.uniform<i8:f32, 0.01:0>> to tensor<1x4xf32> loc("x_q")
  %e = tensor.empty() : tensor<1x4xf32>
  %y = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%d : tensor<1x4xf32>) outs(%e : tensor<1x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %n = arith.negf %a : f32
    linalg.yield %n : f32
  } -> tensor<1x4xf32> loc("y")
  return %y : tensor<1x4xf32>
}
