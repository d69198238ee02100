// qopt-legalize{mode=dynamic}: options it refuses, and ops it keeps in float
// (each with a remark).

// RUN: not qopt %s --qopt-legalize="mode=dynamic activations=symmetric" -o /dev/null 2>&1 | FileCheck %s --check-prefix=SYM
// SYM: error: qopt-legalize: mode=dynamic quantizes activations asymmetric u8 (ONNX Runtime's DynamicQuantizeLinear); activations=symmetric is not supported
// RUN: not qopt %s --qopt-quantize="mode=dynamic activation-type=i16" -o /dev/null 2>&1 | FileCheck %s --check-prefix=I16
// I16: error: qopt-legalize: mode=dynamic quantizes activations to u8; activation-type=i16 is not supported
// RUN: not qopt %s --qopt-legalize="mode=dynamic weights=per-group group-size=32" -o /dev/null 2>&1 | FileCheck %s --check-prefix=GROUP
// GROUP: error: qopt-legalize: mode=dynamic quantizes weights per channel or per tensor; per-group weights belong to mode=weight-only
// RUN: not qopt %s --qopt-legalize="mode=dynamic weight-bits=4" -o /dev/null 2>&1 | FileCheck %s --check-prefix=BITS
// BITS: error: qopt-legalize: mode=dynamic quantizes weights to 8 bits; weight-bits=4 is not supported
// RUN: not qopt %s --qopt-legalize="mode=dynamic weight-type=i4" -o /dev/null 2>&1 | FileCheck %s --check-prefix=WTYPE
// WTYPE: error: qopt-legalize: unknown weight-type 'i4'; expected s8 or u8
// RUN: not qopt %s --qopt-legalize="mode=dynamic dynamic-granularity=column" -o /dev/null 2>&1 | FileCheck %s --check-prefix=GRAN
// GRAN: error: qopt-legalize: unknown dynamic-granularity 'column'; expected tensor or row
// RUN: not qopt %s --qopt-legalize="weight-type=u8" -o /dev/null 2>&1 | FileCheck %s --check-prefix=STATIC-WT
// STATIC-WT: error: qopt-legalize: weight-type=u8 is only used by mode=dynamic
// RUN: not qopt %s --qopt-legalize="dynamic-granularity=row" -o /dev/null 2>&1 | FileCheck %s --check-prefix=STATIC-ROW
// STATIC-ROW: error: qopt-legalize: dynamic-granularity=row is only used by mode=dynamic

// Ops that stay float: a remark at the op says why.
// RUN: qopt %s --qopt-legalize="mode=dynamic" -o %t.mlir 2>&1 | FileCheck %s --check-prefix=KEEP
// RUN: FileCheck %s --check-prefix=IR --input-file=%t.mlir
// KEEP-DAG: remark: mode=dynamic keeps 'linalg.matmul' in float: its weight (operand 1) is not a constant; mode=dynamic quantizes weights at compile time
// KEEP-DAG: remark: mode=dynamic keeps 'linalg.matmul' in float: its #qopt.precision asks for float activations
// RUN: qopt %s --qopt-legalize="mode=dynamic dynamic-granularity=row" -o /dev/null 2>&1 | FileCheck %s --check-prefix=ROW
// ROW: remark: dynamic-granularity=row does not apply to 'linalg.conv_2d_nhwc_hwcf' (its activation rows are not result rows); one scale per tensor
// RUN: qopt %s --qopt-legalize="mode=dynamic weight-type=u8" -o /dev/null 2>&1 | FileCheck %s --check-prefix=U8CONV
// U8CONV: remark: mode=dynamic keeps 'linalg.conv_2d_nhwc_hwcf' in float: u8 weights (weight-type=u8) need a matmul-like op

// IR-LABEL: func.func @two_activations
// IR: linalg.matmul ins(%arg0, %arg1 : tensor<2x4xf32>, tensor<4x3xf32>)
func.func @two_activations(%x: tensor<2x4xf32>, %y: tensor<4x3xf32>) -> tensor<2x3xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x3xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %r = linalg.matmul ins(%x, %y : tensor<2x4xf32>, tensor<4x3xf32>) outs(%init : tensor<2x3xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// IR-LABEL: func.func @pinned_float
// IR: linalg.matmul {qopt.precision
func.func @pinned_float(%x: tensor<2x4xf32>) -> tensor<2x3xf32> {
  %w = arith.constant dense<0.5> : tensor<4x3xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x3xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %r = linalg.matmul {qopt.precision = #qopt.precision<act = f32>} ins(%x, %w : tensor<2x4xf32>, tensor<4x3xf32>) outs(%init : tensor<2x3xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// A convolution is quantized per tensor (row granularity does not apply).
// IR-LABEL: func.func @conv
// IR: qopt.dynamic_quantize %arg0 : tensor<1x6x6x2xf32> -> tensor<1x6x6x2xi8>, tensor<f32>, tensor<i8>
// IR: linalg.conv_2d_nhwc_hwcf {{.*}} ins({{.*}} : tensor<1x6x6x2xi8>, tensor<3x3x2x4xi8>) outs({{.*}} : tensor<1x4x4x4xi32>)
func.func @conv(%x: tensor<1x6x6x2xf32>) -> tensor<1x4x4x4xf32> {
  %w = arith.constant dense<0.25> : tensor<3x3x2x4xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x4x4xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %r = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x6x6x2xf32>, tensor<3x3x2x4xf32>) outs(%init : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  return %r : tensor<1x4x4x4xf32>
}
