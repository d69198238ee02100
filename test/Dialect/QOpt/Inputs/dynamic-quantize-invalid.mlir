// Invalid qopt.dynamic_quantize ops (run by ../dynamic-quantize.mlir).

func.func @wrong_output_shape(%x: tensor<4x64xf32>) {
  // expected-error @+1 {{'qopt.dynamic_quantize' op output shape 'tensor<4x32xi8>' differs from the input shape 'tensor<4x64xf32>'}}
  %q, %s, %z = qopt.dynamic_quantize %x : tensor<4x64xf32> -> tensor<4x32xi8>, tensor<f32>, tensor<i8>
  return
}

// -----

func.func @params_differ(%x: tensor<4x64xf32>) {
  // expected-error @+1 {{'qopt.dynamic_quantize' op scale 'tensor<f32>' and zero point 'tensor<4x1xi8>' must have the same shape}}
  %q, %s, %z = qopt.dynamic_quantize %x : tensor<4x64xf32> -> tensor<4x64xi8>, tensor<f32>, tensor<4x1xi8>
  return
}

// -----

func.func @not_per_row(%x: tensor<4x64xf32>) {
  // expected-error @+1 {{'qopt.dynamic_quantize' op scale 'tensor<4xf32>' must be rank 0 (per tensor) or the input's shape with the last dimension 1 (per row), for input 'tensor<4x64xf32>'}}
  %q, %s, %z = qopt.dynamic_quantize %x : tensor<4x64xf32> -> tensor<4x64xi8>, tensor<4xf32>, tensor<4xi8>
  return
}

// -----

func.func @row_count(%x: tensor<4x64xf32>) {
  // expected-error @+1 {{'qopt.dynamic_quantize' op scale 'tensor<3x1xf32>' has size 3 in dimension 0 where the input 'tensor<4x64xf32>' has 4}}
  %q, %s, %z = qopt.dynamic_quantize %x : tensor<4x64xf32> -> tensor<4x64xi8>, tensor<3x1xf32>, tensor<3x1xi8>
  return
}

// -----

func.func @float_input_only(%x: tensor<4x64xf16>) {
  // expected-error @+1 {{op operand #0 must be ranked tensor of 32-bit float values}}
  %q, %s, %z = qopt.dynamic_quantize %x : tensor<4x64xf16> -> tensor<4x64xi8>, tensor<f32>, tensor<i8>
  return
}

// -----

func.func @u8_output(%x: tensor<4x64xf32>) {
  // expected-error @+1 {{op result #0 must be ranked tensor of 8-bit signless integer values}}
  %q, %s, %z = qopt.dynamic_quantize %x : tensor<4x64xf32> -> tensor<4x64xui8>, tensor<f32>, tensor<i8>
  return
}
