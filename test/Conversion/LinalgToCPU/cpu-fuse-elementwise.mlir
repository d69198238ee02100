// RUN: qopt %s --qopt-cpu-fuse-elementwise | FileCheck %s
// RUN: qopt %s --linalg-fuse-elementwise-ops | FileCheck %s --check-prefix=UPSTREAM

// An elementwise quantization (one multiply, round and truncation per
// element) feeding an im2col copy of a 3x3 window: fused, it would run 9x
// per element (6x6 input, 4x4 output windows: 144 points instead of 36).
// Upstream's pass fuses it; this one keeps the two generics.
// CHECK-LABEL: func @quantize_into_im2col
// CHECK: %[[Q:.*]] = linalg.generic
// CHECK: arith.mulf
// CHECK: linalg.generic {{.*}} ins(%[[Q]] : tensor<6x6xi8>)
// CHECK-NOT: arith.mulf
// CHECK: return
// UPSTREAM-LABEL: func @quantize_into_im2col
// UPSTREAM: linalg.generic {{.*}} ins(%{{.*}} : tensor<6x6xf32>)
// UPSTREAM: arith.mulf
// UPSTREAM-NOT: linalg.generic
// UPSTREAM: return
func.func @quantize_into_im2col(%x: tensor<6x6xf32>) -> tensor<4x4x3x3xi8> {
  %e = tensor.empty() : tensor<6x6xi8>
  %q = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<6x6xf32>) outs(%e : tensor<6x6xi8>) {
  ^bb0(%a: f32, %o: i8):
    %c = arith.constant 64.0 : f32
    %m = arith.mulf %a, %c : f32
    %r = math.roundeven %m : f32
    %i = arith.fptosi %r : f32 to i8
    linalg.yield %i : i8
  } -> tensor<6x6xi8>
  %e2 = tensor.empty() : tensor<4x4x3x3xi8>
  %col = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0 + d2, d1 + d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>],
                         iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%q : tensor<6x6xi8>) outs(%e2 : tensor<4x4x3x3xi8>) {
  ^bb0(%a: i8, %o: i8):
    linalg.yield %a : i8
  } -> tensor<4x4x3x3xi8>
  return %col : tensor<4x4x3x3xi8>
}

// An elementwise chain (bias add, then ReLU) fuses into one generic.
// CHECK-LABEL: func @chain
// CHECK: linalg.generic
// CHECK: arith.addf
// CHECK: arith.maximumf
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @chain(%x: tensor<4x8xf32>, %b: tensor<8xf32>) -> tensor<4x8xf32> {
  %e = tensor.empty() : tensor<4x8xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x, %b : tensor<4x8xf32>, tensor<8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %s = arith.addf %a, %c : f32
    linalg.yield %s : f32
  } -> tensor<4x8xf32>
  %z = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%y : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %zero = arith.constant 0.0 : f32
    %r = arith.maximumf %a, %zero : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  return %z : tensor<4x8xf32>
}
