// RUN: qopt %s -split-input-file --qopt-fold-requant | FileCheck %s
// RUN: qopt %s -split-input-file --qopt-fold-requant="fold-inexact-chains=true" | FileCheck %s --check-prefix=INEXACT

// A dequantize followed by a quantize to another type is one requantize.
// CHECK-LABEL: func @dcast_qcast
// CHECK: %[[R:.*]] = qopt.requantize %arg0 : tensor<4x!quant.uniform<i8:f32, 1.000000e-01:-3>> to tensor<4x!quant.uniform<i8:f32, 2.000000e-01:5>>
// CHECK-NEXT: return %[[R]]
func.func @dcast_qcast(%x: tensor<4x!quant.uniform<i8:f32, 0.1:-3>>) -> tensor<4x!quant.uniform<i8:f32, 0.2:5>> {
  %d = quant.dcast %x : tensor<4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<4xf32>
  %q = quant.qcast %d : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.2:5>>
  return %q : tensor<4x!quant.uniform<i8:f32, 0.2:5>>
}

// -----

// ... and to the same type it disappears.
// CHECK-LABEL: func @dcast_qcast_same
// CHECK-NOT: quant.dcast
// CHECK-NOT: quant.qcast
// CHECK: return %arg0
func.func @dcast_qcast_same(%x: tensor<4x!quant.uniform<i8:f32, 0.1:-3>>) -> tensor<4x!quant.uniform<i8:f32, 0.1:-3>> {
  %d = quant.dcast %x : tensor<4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<4xf32>
  %q = quant.qcast %d : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.1:-3>>
  return %q : tensor<4x!quant.uniform<i8:f32, 0.1:-3>>
}

// -----

// A quantize followed by a dequantize is a float island's rounding step: it
// stays (upstream's folder would erase it).
// CHECK-LABEL: func @qcast_dcast_kept
// CHECK: quant.qcast
// CHECK: quant.dcast
func.func @qcast_dcast_kept(%x: tensor<4xf32>) -> tensor<4xf32> {
  %q = quant.qcast %x : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.1:-3>>
  %d = quant.dcast %q : tensor<4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// Exact chain (same scale, the zero-point shift fits in i16): merged by
// default, since no input can round differently.
// CHECK-LABEL: func @exact_chain
// CHECK: %[[R:.*]] = qopt.requantize %arg0 : tensor<4x!quant.uniform<i8:f32, 1.000000e-01:-3>> to tensor<4x!quant.uniform<i8:f32, 5.000000e-02>>
// CHECK-NEXT: return %[[R]]
func.func @exact_chain(%x: tensor<4x!quant.uniform<i8:f32, 0.1:-3>>) -> tensor<4x!quant.uniform<i8:f32, 0.05>> {
  %a = qopt.requantize %x : tensor<4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<4x!quant.uniform<i16:f32, 0.1:100>>
  %b = qopt.requantize %a : tensor<4x!quant.uniform<i16:f32, 0.1:100>> to tensor<4x!quant.uniform<i8:f32, 0.05>>
  return %b : tensor<4x!quant.uniform<i8:f32, 0.05>>
}

// -----

// The middle step rounds (scale 0.1 -> 0.3): kept by default, merged only
// with fold-inexact-chains=true, which drops that rounding.
// CHECK-LABEL: func @inexact_chain
// CHECK: qopt.requantize %arg0
// CHECK: qopt.requantize
// INEXACT-LABEL: func @inexact_chain
// INEXACT: %[[R:.*]] = qopt.requantize %arg0 : tensor<4x!quant.uniform<i8:f32, 1.000000e-01>> to tensor<4x!quant.uniform<i8:f32, 5.000000e-02>>
// INEXACT-NEXT: return %[[R]]
func.func @inexact_chain(%x: tensor<4x!quant.uniform<i8:f32, 0.1>>) -> tensor<4x!quant.uniform<i8:f32, 0.05>> {
  %a = qopt.requantize %x : tensor<4x!quant.uniform<i8:f32, 0.1>> to tensor<4x!quant.uniform<i8:f32, 0.3>>
  %b = qopt.requantize %a : tensor<4x!quant.uniform<i8:f32, 0.3>> to tensor<4x!quant.uniform<i8:f32, 0.05>>
  return %b : tensor<4x!quant.uniform<i8:f32, 0.05>>
}

// -----

// A requantize in front of a reshape on storage integers moves behind it,
// where it meets the next requantize (an exact chain here, so they merge).
// CHECK-LABEL: func @move_past_reshape
// CHECK: %[[I:.*]] = quant.scast %arg0 : tensor<2x2x!quant.uniform<i8:f32, 1.000000e-01:-3>> to tensor<2x2xi8>
// CHECK: %[[C:.*]] = tensor.collapse_shape %[[I]] {{\[\[}}0, 1]] : tensor<2x2xi8> into tensor<4xi8>
// CHECK: %[[Q:.*]] = quant.scast %[[C]] : tensor<4xi8> to tensor<4x!quant.uniform<i8:f32, 1.000000e-01:-3>>
// CHECK: %[[R:.*]] = qopt.requantize %[[Q]] : tensor<4x!quant.uniform<i8:f32, 1.000000e-01:-3>> to tensor<4x!quant.uniform<i8:f32, 2.000000e-01>>
// CHECK-NEXT: return %[[R]]
func.func @move_past_reshape(%x: tensor<2x2x!quant.uniform<i8:f32, 0.1:-3>>) -> tensor<4x!quant.uniform<i8:f32, 0.2>> {
  %a = qopt.requantize %x : tensor<2x2x!quant.uniform<i8:f32, 0.1:-3>> to tensor<2x2x!quant.uniform<i16:f32, 0.1>>
  %i = quant.scast %a : tensor<2x2x!quant.uniform<i16:f32, 0.1>> to tensor<2x2xi16>
  %c = tensor.collapse_shape %i [[0, 1]] : tensor<2x2xi16> into tensor<4xi16>
  %o = quant.scast %c : tensor<4xi16> to tensor<4x!quant.uniform<i16:f32, 0.1>>
  %b = qopt.requantize %o : tensor<4x!quant.uniform<i16:f32, 0.1>> to tensor<4x!quant.uniform<i8:f32, 0.2>>
  return %b : tensor<4x!quant.uniform<i8:f32, 0.2>>
}

// -----

// Zero-point folding: sum((a - za) * w) = sum(a * w) - za * sum_k(w[k, n]).
// za = -3 and W = [[1, 2], [3, 4]]: the column sums are 4 and 6, so the
// accumulator starts at -(-3) * [4, 6] = [12, 18] and the loop body no longer
// subtracts the zero point.
// CHECK-LABEL: func @zero_point_fold
// CHECK-DAG: %[[CORR:.*]] = arith.constant dense<[12, 18]> : tensor<2xi32>
// CHECK: %[[INIT:.*]] = linalg.generic {{.*}} ins(%[[CORR]] : tensor<2xi32>)
// CHECK: linalg.generic {{.*}} outs(%[[INIT]] : tensor<1x2xi32>)
// CHECK-NOT: arith.subi
// CHECK: arith.muli
// CHECK: arith.addi
#lhs = affine_map<(m, n, k) -> (m, k)>
#rhs = affine_map<(m, n, k) -> (k, n)>
#out = affine_map<(m, n, k) -> (m, n)>
func.func @zero_point_fold(%a: tensor<1x2xi8>) -> tensor<1x2xi32> {
  %w = arith.constant dense<[[1, 2], [3, 4]]> : tensor<2x2xi8>
  %c0 = arith.constant 0 : i32
  %e = tensor.empty() : tensor<1x2xi32>
  %z = linalg.fill ins(%c0 : i32) outs(%e : tensor<1x2xi32>) -> tensor<1x2xi32>
  %r = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<1x2xi8>, tensor<2x2xi8>) outs(%z : tensor<1x2xi32>) {
  ^bb0(%x: i8, %y: i8, %acc: i32):
    %xe = arith.extsi %x : i8 to i32
    %za = arith.constant -3 : i32
    %xs = arith.subi %xe, %za : i32
    %ye = arith.extsi %y : i8 to i32
    %p = arith.muli %xs, %ye : i32
    %s = arith.addi %acc, %p : i32
    linalg.yield %s : i32
  } -> tensor<1x2xi32>
  return %r : tensor<1x2xi32>
}

// -----

// report=true summarises what the pass did in a remark (Debian's MLIR
// compiles pass statistics out).
// RUN: qopt %s -split-input-file --qopt-fold-requant="report=true" 2>&1 >/dev/null | FileCheck %s --check-prefix=REPORT
// REPORT: remark: qopt-fold-requant: 1 requantizes created, 0 removed, 0 exact chains merged, 0 inexact chains merged, 0 moved, 0 zero points folded, 0 biases folded, 0 clamps fused
func.func @report(%x: tensor<4x!quant.uniform<i8:f32, 0.1:-3>>) -> tensor<4x!quant.uniform<i8:f32, 0.2:5>> {
  %d = quant.dcast %x : tensor<4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<4xf32>
  %q = quant.qcast %d : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.2:5>>
  return %q : tensor<4x!quant.uniform<i8:f32, 0.2:5>>
}

// -----

// An i32 bias after the kernel joins the accumulator's initial value: with
// za = -3 the correction is [12, 18], plus the bias [100, -7] gives [112, 11],
// and the bias add disappears.
// CHECK-LABEL: func @bias_fold
// CHECK-DAG: %[[INIT:.*]] = arith.constant dense<[112, 11]> : tensor<2xi32>
// CHECK: %[[B:.*]] = linalg.generic {{.*}} ins(%[[INIT]] : tensor<2xi32>)
// CHECK: %[[K:.*]] = linalg.generic {{.*}} outs(%[[B]] : tensor<1x2xi32>)
// CHECK-NEXT: ^bb0
// CHECK-NOT: linalg.generic
// CHECK: return %[[K]]
#lhs2 = affine_map<(m, n, k) -> (m, k)>
#rhs2 = affine_map<(m, n, k) -> (k, n)>
#out2 = affine_map<(m, n, k) -> (m, n)>
func.func @bias_fold(%a: tensor<1x2xi8>) -> tensor<1x2xi32> {
  %w = arith.constant dense<[[1, 2], [3, 4]]> : tensor<2x2xi8>
  %b = arith.constant dense<[100, -7]> : tensor<2xi32>
  %c0 = arith.constant 0 : i32
  %e = tensor.empty() : tensor<1x2xi32>
  %z = linalg.fill ins(%c0 : i32) outs(%e : tensor<1x2xi32>) -> tensor<1x2xi32>
  %r = linalg.generic {indexing_maps = [#lhs2, #rhs2, #out2], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<1x2xi8>, tensor<2x2xi8>) outs(%z : tensor<1x2xi32>) {
  ^bb0(%x: i8, %y: i8, %acc: i32):
    %xe = arith.extsi %x : i8 to i32
    %za = arith.constant -3 : i32
    %xs = arith.subi %xe, %za : i32
    %ye = arith.extsi %y : i8 to i32
    %p = arith.muli %xs, %ye : i32
    %s = arith.addi %acc, %p : i32
    linalg.yield %s : i32
  } -> tensor<1x2xi32>
  %e2 = tensor.empty() : tensor<1x2xi32>
  %o = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%r, %b : tensor<1x2xi32>, tensor<2xi32>) outs(%e2 : tensor<1x2xi32>) {
  ^bb0(%x: i32, %y: i32, %o2: i32):
    %s = arith.addi %x, %y : i32
    linalg.yield %s : i32
  } -> tensor<1x2xi32>
  return %o : tensor<1x2xi32>
}

// -----

// ReLU after a requantize: the output type's range [0, 6] already starts at
// its zero point (-128), so saturation is the ReLU and the op disappears.
// CHECK-LABEL: func @relu_after_requantize
// CHECK: %[[R:.*]] = qopt.requantize %arg0 : tensor<4x!quant.uniform<i8:f32, 1.000000e-01:-3>> to tensor<4x!quant.uniform<i8:f32, 0.023529412224888802:-128>>
// CHECK-NEXT: return %[[R]]
func.func @relu_after_requantize(%x: tensor<4x!quant.uniform<i8:f32, 0.1:-3>>) -> tensor<4x!quant.uniform<i8:f32, 0.023529412224888802:-128>> {
  %zero = arith.constant 0.0 : f32
  %d = quant.dcast %x : tensor<4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<4xf32>
  %e = tensor.empty() : tensor<4xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%d : tensor<4xf32>) outs(%e : tensor<4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.maximumf %a, %zero : f32
    linalg.yield %m : f32
  } -> tensor<4xf32>
  %q = quant.qcast %r : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.023529412224888802:-128>>
  return %q : tensor<4x!quant.uniform<i8:f32, 0.023529412224888802:-128>>
}

// -----

// ReLU6 into a type whose range is [-1, 8): 6.0 quantizes to 6 / (9/255) - 100
// = 70, and 0.0 to the zero point -100, so the requantize's output range
// narrows to [-100, 70] and a storage cast returns to the full type.
// CHECK-LABEL: func @relu6_narrows
// CHECK: %[[R:.*]] = qopt.requantize %arg0 : {{.*}} to tensor<4x!quant.uniform<i8<-100:70>:f32, 0.035294117647058823:-100>>
// CHECK: %[[I:.*]] = quant.scast %[[R]] : {{.*}} to tensor<4xi8>
// CHECK: %[[Q:.*]] = quant.scast %[[I]] : tensor<4xi8> to tensor<4x!quant.uniform<i8:f32, 0.035294117647058823:-100>>
// CHECK-NEXT: return %[[Q]]
func.func @relu6_narrows(%x: tensor<4x!quant.uniform<i8:f32, 0.1:-3>>) -> tensor<4x!quant.uniform<i8:f32, 0.035294117647058823:-100>> {
  %zero = arith.constant 0.0 : f32
  %six = arith.constant 6.0 : f32
  %d = quant.dcast %x : tensor<4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<4xf32>
  %e = tensor.empty() : tensor<4xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%d : tensor<4xf32>) outs(%e : tensor<4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.maximumf %a, %zero : f32
    %n = arith.minimumf %m, %six : f32
    linalg.yield %n : f32
  } -> tensor<4xf32>
  %q = quant.qcast %r : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.035294117647058823:-100>>
  return %q : tensor<4x!quant.uniform<i8:f32, 0.035294117647058823:-100>>
}
