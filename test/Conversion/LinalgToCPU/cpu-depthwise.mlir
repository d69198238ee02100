// RUN: qopt %s --split-input-file --qopt-cpu-depthwise | FileCheck %s
// RUN: qopt %s --split-input-file --qopt-cpu-depthwise="vector-width=8" | FileCheck %s --check-prefix=W8
// RUN: not qopt %s --split-input-file --qopt-cpu-depthwise="vector-width=0" 2>&1 | FileCheck %s --check-prefix=ERR

// The importer's depthwise convolution (Conv with group = channels, NCHW,
// stride 2 in height only, as in MobileNetV3's OCR classifier): loops over
// n, c and oh, blocks of 16 output columns (96 = 6 x 16, no tail), each tap
// one contiguous vector read, a multiply by the broadcast weight and an add
// (not an FMA: the results stay those of the loop lowering).
// CHECK-LABEL: func @importer_f32
// CHECK-NOT: linalg.generic
// CHECK: scf.for
// CHECK: scf.for
// CHECK-COUNT-9: tensor.extract %{{.*}} : tensor<8x1x3x3xf32>
// CHECK: scf.for
// CHECK: scf.for {{.*}} step %c16
// CHECK: vector.transfer_read {{.*}} : tensor<1x8x12x96xf32>, vector<16xf32>
// CHECK: vector.transfer_read {{.*}} : tensor<1x8x26x98xf32>, vector<16xf32>
// CHECK: vector.broadcast {{.*}} : f32 to vector<16xf32>
// CHECK: arith.mulf {{.*}} : vector<16xf32>
// CHECK: arith.addf {{.*}} : vector<16xf32>
// CHECK-NOT: vector.fma
// CHECK: vector.transfer_write {{.*}} : vector<16xf32>, tensor<1x8x12x96xf32>
// W8-LABEL: func @importer_f32
// W8: scf.for {{.*}} step %c8
// W8: arith.mulf {{.*}} : vector<8xf32>
#act = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 + d4, d2 * 2 + d5, d3 + d6)>
#wgt = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#out = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
func.func @importer_f32(%x: tensor<1x8x26x98xf32>, %w: tensor<8x1x3x3xf32>) -> tensor<1x8x12x96xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x8x12x96xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x8x12x96xf32>) -> tensor<1x8x12x96xf32>
  %r = linalg.generic {indexing_maps = [#act, #wgt, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%x, %w : tensor<1x8x26x98xf32>, tensor<8x1x3x3xf32>) outs(%init : tensor<1x8x12x96xf32>) {
  ^bb0(%in: f32, %k: f32, %o: f32):
    %p = arith.mulf %in, %k : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x8x12x96xf32>
  return %r : tensor<1x8x12x96xf32>
}

// -----

// i8 x i8 -> i32, stride 2 in width, 20 output columns: one block of 16
// and a tail of 4; each tap reads 2 x 16 - 1 = 31 bytes and keeps every
// second one. The init is a function argument: the kernel writes into a
// private copy of it.
// CHECK-LABEL: func @strided_i8
// CHECK: bufferization.alloc_tensor() copy(%{{.*}}) : tensor<1x2x4x20xi32>
// CHECK: scf.for {{.*}} step %c16
// CHECK: vector.transfer_read {{.*}} : tensor<1x2x9x41xi8>, vector<31xi8>
// CHECK: vector.shuffle {{.*}} [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]
// CHECK: arith.extsi {{.*}} : vector<16xi8> to vector<16xi32>
// CHECK: arith.muli {{.*}} : vector<16xi32>
// CHECK: arith.addi {{.*}} : vector<16xi32>
// CHECK: scf.yield
// CHECK: vector.transfer_read {{.*}} : tensor<1x2x9x41xi8>, vector<7xi8>
// CHECK: vector.shuffle {{.*}} [0, 2, 4, 6]
// CHECK: vector.transfer_write {{.*}} : vector<4xi32>, tensor<1x2x4x20xi32>
#act = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 + d4, d2 * 2 + d5, d3 * 2 + d6)>
#wgt = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#out = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
func.func @strided_i8(%x: tensor<1x2x9x41xi8>, %w: tensor<2x1x3x3xi8>, %init: tensor<1x2x4x20xi32>) -> tensor<1x2x4x20xi32> {
  %r = linalg.generic {indexing_maps = [#act, #wgt, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%x, %w : tensor<1x2x9x41xi8>, tensor<2x1x3x3xi8>) outs(%init : tensor<1x2x4x20xi32>) {
  ^bb0(%in: i8, %k: i8, %o: i32):
    %a = arith.extsi %in : i8 to i32
    %b = arith.extsi %k : i8 to i32
    %p = arith.muli %a, %b : i32
    %s = arith.addi %o, %p : i32
    linalg.yield %s : i32
  } -> tensor<1x2x4x20xi32>
  return %r : tensor<1x2x4x20xi32>
}

// -----

// Upstream's named NCHW depthwise convolution (weight C x KH x KW),
// dilation 2: generalized, then the same kernel; the taps are 2 apart.
// CHECK-LABEL: func @named_dilated
// CHECK-NOT: linalg.depthwise_conv_2d_nchw_chw
// CHECK-COUNT-9: tensor.extract {{.*}} : tensor<4x3x3xf32>
// CHECK: vector.transfer_read {{.*}} : tensor<1x4x10x20xf32>, vector<16xf32>
// CHECK: arith.addi %{{.*}}, %c2{{.*}} : index
func.func @named_dilated(%x: tensor<1x4x10x20xf32>, %w: tensor<4x3x3xf32>, %init: tensor<1x4x6x16xf32>) -> tensor<1x4x6x16xf32> {
  %r = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<2> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w : tensor<1x4x10x20xf32>, tensor<4x3x3xf32>) outs(%init : tensor<1x4x6x16xf32>) -> tensor<1x4x6x16xf32>
  return %r : tensor<1x4x6x16xf32>
}

// -----

// Not depthwise convolutions of this form: left alone.
// A channel multiplier (group loop of size 2).
// CHECK-LABEL: func @multiplier
// CHECK: linalg.generic
// CHECK-NOT: vector.transfer_read
#act = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 + d4, d2 + d5, d3 + d6)>
#wgt = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#out = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
func.func @multiplier(%x: tensor<1x5x6x18xf32>, %w: tensor<4x2x3x3xf32>, %init: tensor<1x4x4x16xf32>) -> tensor<1x4x4x16xf32> {
  %r = linalg.generic {indexing_maps = [#act, #wgt, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%x, %w : tensor<1x5x6x18xf32>, tensor<4x2x3x3xf32>) outs(%init : tensor<1x4x4x16xf32>) {
  ^bb0(%in: f32, %k: f32, %o: f32):
    %p = arith.mulf %in, %k : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x4x4x16xf32>
  return %r : tensor<1x4x4x16xf32>
}

// -----

// A body that is not multiply-accumulate (a max).
// CHECK-LABEL: func @not_mac
// CHECK: linalg.generic
// CHECK-NOT: vector.transfer_read
#act = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 + d4, d2 + d5, d3 + d6)>
#wgt = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
#out = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
func.func @not_mac(%x: tensor<1x4x6x18xf32>, %w: tensor<4x1x3x3xf32>, %init: tensor<1x4x4x16xf32>) -> tensor<1x4x4x16xf32> {
  %r = linalg.generic {indexing_maps = [#act, #wgt, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%x, %w : tensor<1x4x6x18xf32>, tensor<4x1x3x3xf32>) outs(%init : tensor<1x4x4x16xf32>) {
  ^bb0(%in: f32, %k: f32, %o: f32):
    %p = arith.mulf %in, %k : f32
    %s = arith.maximumf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x4x4x16xf32>
  return %r : tensor<1x4x4x16xf32>
}

// ERR: error: qopt-cpu-depthwise: vector-width must be positive
