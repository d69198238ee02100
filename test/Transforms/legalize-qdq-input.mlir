// A model already in QDQ form (as imported from an ONNX QDQ graph, or written
// that way) carries its own quantization: qopt-legalize leaves its ops alone
// and asks for no statistics, so qopt-quantize takes it straight to integer
// kernels. A float op next to it still needs statistics.
// RUN: qopt %s --qopt-legalize --split-input-file -verify-diagnostics | FileCheck %s --check-prefix=LEGALIZE
// RUN: qopt %s --qopt-quantize --split-input-file -verify-diagnostics | FileCheck %s --check-prefix=QUANTIZE

!a = !quant.uniform<i8:f32, 0.05:-3>
!w = !quant.uniform<i8<-127:127>:f32:1, {0.01, 0.02, 0.03}>
!o = !quant.uniform<i8:f32, 0.1:5>

// LEGALIZE-LABEL: func @qdq_fc
// LEGALIZE-COUNT-1: quant.qcast
// LEGALIZE-NOT: quant.qcast
// LEGALIZE: return
// QUANTIZE-LABEL: func @qdq_fc
// QUANTIZE-NOT: f32
// QUANTIZE: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<4x8xi8>, tensor<8x3xi8>) outs(%{{.*}} : tensor<4x3xi32>)
// QUANTIZE-NOT: f32
// QUANTIZE: return {{.*}} : tensor<4x3xi8>
func.func @qdq_fc(%ai: tensor<4x8xi8>) -> tensor<4x3xi8> {
  %aq = quant.scast %ai : tensor<4x8xi8> to tensor<4x8x!a>
  %a = quant.dcast %aq : tensor<4x8x!a> to tensor<4x8xf32>
  %wi = arith.constant dense<3> : tensor<8x3xi8>
  %wq = quant.scast %wi : tensor<8x3xi8> to tensor<8x3x!w>
  %w = quant.dcast %wq : tensor<8x3x!w> to tensor<8x3xf32>
  %zz = arith.constant dense<0.0> : tensor<4x3xf32>
  %y = linalg.matmul ins(%a, %w : tensor<4x8xf32>, tensor<8x3xf32>) outs(%zz : tensor<4x3xf32>) -> tensor<4x3xf32>
  %q = quant.qcast %y : tensor<4x3xf32> to tensor<4x3x!o>
  %oi = quant.scast %q : tensor<4x3x!o> to tensor<4x3xi8>
  return %oi : tensor<4x3xi8>
}

// -----

// A float matmul on a plain float input is still quantized, and still needs
// statistics.
func.func @float_fc(%a: tensor<4x8xf32>) -> tensor<4x3xf32> {
  %w = arith.constant dense<0.5> : tensor<8x3xf32>
  %zz = arith.constant dense<0.0> : tensor<4x3xf32>
  // expected-error @+1 {{cannot quantize 'linalg.matmul': an input has no calibration statistics}}
  %y = linalg.matmul ins(%a, %w : tensor<4x8xf32>, tensor<8x3xf32>) outs(%zz : tensor<4x3xf32>) -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}
