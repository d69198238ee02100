// Input of docs/passes/fold-batchnorm.md: a 1x1 convolution followed by an
// inference BatchNormalization, as qopt-translate --import-onnx writes it.
func.func @conv_bn(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = arith.constant dense<[[[[1.0]], [[2.0]]], [[[3.0]], [[4.0]]]]> : tensor<2x2x1x1xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x4x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %c = linalg.conv_2d_nchw_fchw ins(%x, %w : tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) outs(%f : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> loc("conv1")
  %scale = arith.constant dense<[[[2.0]], [[0.5]]]> : tensor<2x1x1xf32>
  %bias = arith.constant dense<[[[1.0]], [[-1.0]]]> : tensor<2x1x1xf32>
  %mean = arith.constant dense<[[[0.5]], [[2.0]]]> : tensor<2x1x1xf32>
  %var = arith.constant dense<[[[3.0]], [[15.0]]]> : tensor<2x1x1xf32>
  %bn = linalg.generic {indexing_maps = [affine_map<(n, c, h, w) -> (n, c, h, w)>, affine_map<(n, c, h, w) -> (c, 0, 0)>, affine_map<(n, c, h, w) -> (c, 0, 0)>, affine_map<(n, c, h, w) -> (c, 0, 0)>, affine_map<(n, c, h, w) -> (c, 0, 0)>, affine_map<(n, c, h, w) -> (n, c, h, w)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c, %scale, %bias, %mean, %var : tensor<1x2x4x4xf32>, tensor<2x1x1xf32>, tensor<2x1x1xf32>, tensor<2x1x1xf32>, tensor<2x1x1xf32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %s: f32, %b: f32, %m: f32, %v: f32, %o: f32):
    %eps = arith.constant 1.0 : f32
    %d = arith.subf %in, %m : f32
    %ve = arith.addf %v, %eps : f32
    %sd = math.sqrt %ve : f32
    %n = arith.divf %d, %sd : f32
    %sc = arith.mulf %n, %s : f32
    %r = arith.addf %sc, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32> loc("bn1")
  return %bn : tensor<1x2x4x4xf32>
}
