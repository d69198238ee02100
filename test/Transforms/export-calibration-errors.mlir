// RUN: qopt %s -split-input-file --qopt-export-calibration="file=%t.json" -verify-diagnostics

func.func @unnamed(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{these statistics annotate a value without a name and cannot be exported}}
  %s = qopt.stats %x min [0.0] max [1.0] : tensor<4xf32>
  return %s : tensor<4xf32>
}

// -----

func.func @conflict(%x: tensor<4xf32>) -> tensor<4xf32> {
  %a = math.exp %x : tensor<4xf32> loc("a")
  %s = qopt.stats %a min [0.0] max [1.0] : tensor<4xf32>
  %b = math.exp %s : tensor<4xf32> loc("a")
  // expected-error @+1 {{tensor name 'a' carries different statistics in two places}}
  %t = qopt.stats %b min [0.0] max [2.0] : tensor<4xf32>
  return %t : tensor<4xf32>
}
