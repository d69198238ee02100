// RUN: qopt %s -split-input-file --qopt-legalize -verify-diagnostics

#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @add_bf16(%a: tensor<1x2xf32>, %b: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %e = tensor.empty() : tensor<1x2xf32>
  // expected-error @+1 {{qopt-legalize computes in 'bf16' only matmuls and convolutions; give 'linalg.generic' an integer or f32 precision}}
  %s = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a, %b : tensor<1x2xf32>, tensor<1x2xf32>) outs(%e : tensor<1x2xf32>)
      attrs = {qopt.precision = #qopt.precision<act = bf16>} {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %r = arith.addf %p, %q : f32
    linalg.yield %r : f32
  } -> tensor<1x2xf32>
  return %s : tensor<1x2xf32>
}

// -----

func.func @mixed_float(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[0.5, -0.25], [0.125, 1.0]]> : tensor<2x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  // expected-error @+1 {{mixes 'bf16' activations with 'f16' weights; qopt-legalize computes in one float type}}
  %y = linalg.matmul {qopt.precision = #qopt.precision<act = bf16, weight = f16>}
      ins(%x, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

func.func @fp8(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[0.5, -0.25], [0.125, 1.0]]> : tensor<2x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  // expected-error @+1 {{asks for 'f8E4M3FN' activations; qopt-legalize keeps ops in f32, bf16 or f16}}
  %y = linalg.matmul {qopt.precision = #qopt.precision<act = f8E4M3FN, weight = f8E4M3FN>}
      ins(%x, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
