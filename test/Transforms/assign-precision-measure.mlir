// sensitivity=measure: each candidate of each op is run through qopt-quantize,
// qopt-lower-cpu and qopt-run on the given inputs (the other ops in f32), and
// the output SQNR against the all-f32 run replaces the estimate.
// REQUIRES: python-numpy
// RUN: %onnx_python -c "import numpy as np; np.save('%t.a.npy', np.array([[0.5, -0.25, 0.75, -1.0]], np.float32)); np.save('%t.b.npy', np.array([[-0.3, 0.9, 0.1, 0.6]], np.float32))"
// RUN: qopt %s --qopt-assign-precision="budget=sqnr:30 sensitivity=measure inputs=%t.a.npy,%t.b.npy report=%t.report" | FileCheck %s
// RUN: FileCheck %s --check-prefix=REPORT < %t.report
// RUN: not qopt %s --qopt-assign-precision="budget=sqnr:30 sensitivity=measure inputs=%t.missing.npy" 2>&1 | FileCheck %s --check-prefix=MISSING

// CHECK-LABEL: func.func @model
// CHECK: linalg.matmul {{.*}}qopt.precision = #qopt.precision<act = i8, weight = i8, per_channel>

// REPORT: sensitivity: measured (one op at a time, the rest in f32, through qopt-quantize, qopt-lower-cpu and qopt-run on 2 inputs)
// REPORT: fc {{ *}}i8 {{.*}} i8:{{[0-9.]+}} w4a8:{{[0-9.]+}} bf16:{{[0-9.]+}} f32:inf

// MISSING: error: qopt-assign-precision: measuring the f32 model: '{{.*}}qopt-run{{.*}}' failed

func.func @model(%x: tensor<1x4xf32> {qopt.name = "x"}) -> tensor<1x2xf32> {
  %xs = qopt.stats %x min [-1.0] max [1.0] : tensor<1x4xf32>
  %w = arith.constant dense<[[0.5, -0.25], [0.125, 1.0], [-0.75, 0.3], [0.2, -0.6]]> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  %y = linalg.matmul ins(%xs, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32> loc("fc")
  return %y : tensor<1x2xf32>
}
