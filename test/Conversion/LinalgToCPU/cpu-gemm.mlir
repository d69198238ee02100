// RUN: qopt %s --split-input-file --qopt-cpu-gemm | FileCheck %s
// RUN: qopt %s --split-input-file --qopt-cpu-gemm="tile-m=2 tile-n=1" | FileCheck %s --check-prefix=TILE
// RUN: not qopt %s --split-input-file --qopt-cpu-gemm="tile-m=0" 2>&1 | FileCheck %s --check-prefix=TILEERR
// TILEERR: qopt-cpu-gemm: tile-m and tile-n must be positive

// An i8 matmul with constant weights: weights packed [N/16][K/4][64], the
// compensation 128 * colsum(W) = 128 * 33 * 3 = 12672 per real column, a
// u8 x s8 contraction over the bytes xor 0x80, masked C accesses (N = 5).
// CHECK-LABEL: func @matmul_i8
// CHECK-DAG: %[[W:.*]] = arith.constant dense<"0x0303{{.*}}"> : tensor<1x9x64xi8>
// CHECK-DAG: %[[COMP:.*]] = arith.constant dense<[12672, 12672, 12672, 12672, 12672, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]> : tensor<16xi32>
// CHECK: scf.for
// CHECK: scf.for {{.*}} -> (tensor<7x5xi32>)
// CHECK: %[[C:.*]] = vector.transfer_read %{{.*}} : tensor<7x5xi32>, vector<16xi32>
// CHECK: %[[CC:.*]] = vector.transfer_read %[[COMP]]
// CHECK: arith.subi %[[C]], %[[CC]] : vector<16xi32>
// CHECK: scf.for {{.*}} -> (vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>)
// CHECK: %[[WV:.*]] = vector.transfer_read %[[W]]{{.*}} {in_bounds = [true]} : tensor<1x9x64xi8>, vector<64xi8>
// CHECK: %[[WS:.*]] = vector.shape_cast %[[WV]] : vector<64xi8> to vector<16x4xi8>
// CHECK: %[[WE:.*]] = arith.extsi %[[WS]] : vector<16x4xi8> to vector<16x4xi32>
// CHECK: %[[A:.*]] = vector.transfer_read %arg0{{.*}} {in_bounds = [true]} : tensor<7x33xi8>, vector<4xi8>
// CHECK: %[[BIAS:.*]] = arith.constant dense<-128> : vector<4xi8>
// CHECK: %[[AU:.*]] = arith.xori %[[A]], %[[BIAS]] : vector<4xi8>
// CHECK: %[[AE:.*]] = arith.extui %[[AU]] : vector<4xi8> to vector<4xi32>
// CHECK: vector.contract {{.*}} %[[WE]], %[[AE]], %{{.*}} : vector<16x4xi32>, vector<4xi32> into vector<16xi32>
// The K tail (33 = 8 * 4 + 1) reads A with padding.
// CHECK: vector.transfer_read %arg0{{.*}} : tensor<7x33xi8>, vector<4xi8>
// CHECK: vector.transfer_write {{.*}} : vector<16xi32>, tensor<7x5xi32>
// The M tail (7 = 4 + 3) runs one row at a time.
// CHECK: scf.for {{.*}} -> (vector<16xi32>)
// CHECK-NOT: linalg.matmul
// TILE-LABEL: func @matmul_i8
// TILE: scf.for {{.*}} -> (vector<16xi32>, vector<16xi32>)
func.func @matmul_i8(%a: tensor<7x33xi8>) -> tensor<7x5xi32> {
  %w = arith.constant dense<3> : tensor<33x5xi8>
  %z = arith.constant 0 : i32
  %e = tensor.empty() : tensor<7x5xi32>
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<7x5xi32>) -> tensor<7x5xi32>
  %r = linalg.matmul ins(%a, %w : tensor<7x33xi8>, tensor<33x5xi8>) outs(%f : tensor<7x5xi32>) -> tensor<7x5xi32>
  return %r : tensor<7x5xi32>
}

// -----

// The generic qopt-fold-requant leaves, with the weight as operand 0 and
// read transposed; 64 columns need no masks.
// CHECK-LABEL: func @generic_i8
// CHECK-DAG: arith.constant {{.*}} : tensor<4x2x64xi8>
// CHECK: vector.transfer_read %{{.*}} {in_bounds = [true]} : tensor<2x64xi32>, vector<16xi32>
// CHECK: vector.contract
// CHECK: vector.transfer_write %{{.*}} {in_bounds = [true]} : vector<16xi32>, tensor<2x64xi32>
func.func @generic_i8(%a: tensor<2x8xi8>, %init: tensor<2x64xi32>) -> tensor<2x64xi32> {
  %w = arith.constant dense<-7> : tensor<64x8xi8>
  %r = linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (m, n)>],
                       iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%w, %a : tensor<64x8xi8>, tensor<2x8xi8>) outs(%init : tensor<2x64xi32>) {
  ^bb0(%x: i8, %y: i8, %acc: i32):
    %xe = arith.extsi %x : i8 to i32
    %ye = arith.extsi %y : i8 to i32
    %p = arith.muli %xe, %ye : i32
    %s = arith.addi %p, %acc : i32
    linalg.yield %s : i32
  } -> tensor<2x64xi32>
  return %r : tensor<2x64xi32>
}

// -----

// NCHW convolution: im2col copy through the input map, the output permuted
// to [M, N] and back.
// CHECK-LABEL: func @conv_nchw
// CHECK: %[[COL:.*]] = linalg.generic {{.*}} ins(%arg0 : tensor<1x3x9x10xi8>) outs(%{{.*}} : tensor<1x5x6x3x3x3xi8>)
// CHECK: tensor.collapse_shape %[[COL]] {{\[}}[0, 1, 2], [3, 4, 5]] : tensor<1x5x6x3x3x3xi8> into tensor<30x27xi8>
// CHECK: linalg.transpose ins(%{{.*}} : tensor<1x5x5x6xi32>) outs(%{{.*}} : tensor<1x5x6x5xi32>) permutation = [0, 2, 3, 1]
// CHECK: vector.contract
// CHECK: tensor.expand_shape
// CHECK: linalg.transpose ins(%{{.*}} : tensor<1x5x6x5xi32>) outs(%{{.*}} : tensor<1x5x5x6xi32>) permutation = [0, 3, 1, 2]
func.func @conv_nchw(%x: tensor<1x3x9x10xi8>, %init: tensor<1x5x5x6xi32>) -> tensor<1x5x5x6xi32> {
  %f = arith.constant dense<1> : tensor<5x3x3x3xi8>
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<2> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %f : tensor<1x3x9x10xi8>, tensor<5x3x3x3xi8>) outs(%init : tensor<1x5x5x6xi32>) -> tensor<1x5x5x6xi32>
  return %r : tensor<1x5x5x6xi32>
}

// -----

// f32: weights packed [N/16][K][16], broadcast activation, FMA.
// CHECK-LABEL: func @matmul_f32
// CHECK: arith.constant {{.*}} : tensor<2x3x16xf32>
// CHECK: %[[S:.*]] = tensor.extract %arg0
// CHECK: %[[B:.*]] = vector.broadcast %[[S]] : f32 to vector<16xf32>
// CHECK: vector.fma %[[B]], %{{.*}}, %{{.*}} : vector<16xf32>
// CHECK-NOT: vector.contract
func.func @matmul_f32(%a: tensor<5x3xf32>, %init: tensor<5x20xf32>) -> tensor<5x20xf32> {
  %w = arith.constant dense<0.5> : tensor<3x20xf32>
  %r = linalg.matmul ins(%a, %w : tensor<5x3xf32>, tensor<3x20xf32>) outs(%init : tensor<5x20xf32>) -> tensor<5x20xf32>
  return %r : tensor<5x20xf32>
}

// -----

// Left for the generic lowering: weights that are not constants, a
// batch-like channel loop (depthwise), a zero-point subtraction in the
// body, dynamic shapes.
// CHECK-LABEL: func @unchanged
// CHECK-NOT: vector.contract
// CHECK: linalg.generic
// CHECK: linalg.generic
// CHECK: linalg.generic
// CHECK: linalg.generic
// CHECK-NOT: vector.contract
func.func @unchanged(%a: tensor<4x8xi8>, %b: tensor<8x3xi8>, %init: tensor<4x3xi32>,
                     %x: tensor<1x4x4x2xi8>, %dinit: tensor<1x2x2x2xi32>,
                     %da: tensor<?x8xi8>, %dyninit: tensor<?x3xi32>) -> (tensor<4x3xi32>, tensor<1x2x2x2xi32>, tensor<4x3xi32>, tensor<?x3xi32>) {
  %r0 = linalg.matmul ins(%a, %b : tensor<4x8xi8>, tensor<8x3xi8>) outs(%init : tensor<4x3xi32>) -> tensor<4x3xi32>
  %f = arith.constant dense<1> : tensor<3x3x2xi8>
  %r1 = linalg.depthwise_conv_2d_nhwc_hwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %f : tensor<1x4x4x2xi8>, tensor<3x3x2xi8>) outs(%dinit : tensor<1x2x2x2xi32>) -> tensor<1x2x2x2xi32>
  %w = arith.constant dense<2> : tensor<8x3xi8>
  %r2 = linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>],
                        iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<4x8xi8>, tensor<8x3xi8>) outs(%init : tensor<4x3xi32>) {
  ^bb0(%p: i8, %q: i8, %acc: i32):
    %pe = arith.extsi %p : i8 to i32
    %zp = arith.constant 3 : i32
    %ps = arith.subi %pe, %zp : i32
    %qe = arith.extsi %q : i8 to i32
    %m = arith.muli %ps, %qe : i32
    %s = arith.addi %acc, %m : i32
    linalg.yield %s : i32
  } -> tensor<4x3xi32>
  %r3 = linalg.matmul ins(%da, %w : tensor<?x8xi8>, tensor<8x3xi8>) outs(%dyninit : tensor<?x3xi32>) -> tensor<?x3xi32>
  return %r0, %r1, %r2, %r3 : tensor<4x3xi32>, tensor<1x2x2x2xi32>, tensor<4x3xi32>, tensor<?x3xi32>
}

// -----

// aarch64 with dotprod: the same [N/16][K/4][64] packing, but signed x
// signed (sdot's operands): no compensation, no xor, extsi on both sides.
// The register tile is narrowed to one 16-column block (4 rows x 4
// registers of accumulators).
// CHECK-LABEL: func @matmul_i8_dotprod
// CHECK-DAG: %[[W:.*]] = arith.constant dense<"0x0303{{.*}}"> : tensor<1x9x64xi8>
// CHECK-NOT: tensor<16xi32>
// CHECK: scf.for {{.*}} -> (vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>)
// CHECK: %[[WS:.*]] = vector.shape_cast %{{.*}} : vector<64xi8> to vector<16x4xi8>
// CHECK: %[[WE:.*]] = arith.extsi %[[WS]] : vector<16x4xi8> to vector<16x4xi32>
// CHECK: %[[A:.*]] = vector.transfer_read %arg0{{.*}} {in_bounds = [true]} : tensor<7x33xi8>, vector<4xi8>
// CHECK-NOT: arith.xori
// CHECK: %[[AE:.*]] = arith.extsi %[[A]] : vector<4xi8> to vector<4xi32>
// CHECK: vector.contract {{.*}} %[[WE]], %[[AE]], %{{.*}} : vector<16x4xi32>, vector<4xi32> into vector<16xi32>
// CHECK-NOT: arith.xori
// CHECK-NOT: linalg.matmul
module attributes {llvm.target_triple = "aarch64-unknown-linux-gnu"} {
func.func @matmul_i8_dotprod(%a: tensor<7x33xi8>) -> tensor<7x5xi32> attributes {target_cpu = "generic", target_features = #llvm.target_features<["+dotprod"]>} {
  %w = arith.constant dense<3> : tensor<33x5xi8>
  %z = arith.constant 0 : i32
  %e = tensor.empty() : tensor<7x5xi32>
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<7x5xi32>) -> tensor<7x5xi32>
  %r = linalg.matmul ins(%a, %w : tensor<7x33xi8>, tensor<33x5xi8>) outs(%f : tensor<7x5xi32>) -> tensor<7x5xi32>
  return %r : tensor<7x5xi32>
}
}

// -----

// aarch64 with i8mm: weights packed [N/16][K/8][128], so that bytes
// [16p, 16p+16) of a row are columns 2p and 2p+1 (smmla's 8x2 operand);
// rows in pairs, each 2x2 block of C one vector<4xi32> in smmla's order
// [r0c0, r0c1, r1c0, r1c1], shuffled in before the K loop and out after.
// The last of 7 rows is a pair whose second row is zero.
// CHECK-LABEL: func @matmul_i8_i8mm
// CHECK-DAG: %[[W:.*]] = arith.constant dense<"0x0303{{.*}}"> : tensor<1x5x128xi8>
// CHECK: %[[R0:.*]] = vector.transfer_read %{{.*}} : tensor<7x5xi32>, vector<16xi32>
// CHECK: %[[R1:.*]] = vector.transfer_read %{{.*}} : tensor<7x5xi32>, vector<16xi32>
// CHECK: vector.shuffle %[[R0]], %[[R1]] [0, 1, 16, 17] : vector<16xi32>, vector<16xi32>
// CHECK: vector.shuffle %[[R0]], %[[R1]] [14, 15, 30, 31] : vector<16xi32>, vector<16xi32>
// CHECK: scf.for {{.*}} -> (vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>)
// CHECK: %[[WV:.*]] = vector.transfer_read %[[W]]{{.*}} {in_bounds = [true]} : tensor<1x5x128xi8>, vector<16xi8>
// CHECK: %[[WS:.*]] = vector.shape_cast %[[WV]] : vector<16xi8> to vector<2x8xi8>
// CHECK: %[[WE:.*]] = arith.extsi %[[WS]] : vector<2x8xi8> to vector<2x8xi32>
// CHECK: %[[A0:.*]] = vector.transfer_read %arg0{{.*}} {in_bounds = [true]} : tensor<7x33xi8>, vector<8xi8>
// CHECK: %[[A1:.*]] = vector.transfer_read %arg0{{.*}} {in_bounds = [true]} : tensor<7x33xi8>, vector<8xi8>
// CHECK: %[[AB:.*]] = vector.shuffle %[[A0]], %[[A1]] [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] : vector<8xi8>, vector<8xi8>
// CHECK: %[[AS:.*]] = vector.shape_cast %[[AB]] : vector<16xi8> to vector<2x8xi8>
// CHECK: %[[AE:.*]] = arith.extsi %[[AS]] : vector<2x8xi8> to vector<2x8xi32>
// CHECK: %[[ACC:.*]] = vector.shape_cast %{{.*}} : vector<4xi32> to vector<2x2xi32>
// CHECK: %[[C:.*]] = vector.contract {{.*}} %[[AE]], %[[WE]], %[[ACC]] : vector<2x8xi32>, vector<2x8xi32> into vector<2x2xi32>
// CHECK: vector.shape_cast %[[C]] : vector<2x2xi32> to vector<4xi32>
// The K tail (33 = 4 * 8 + 1) reads A with padding.
// CHECK: vector.transfer_read %arg0{{.*}} : tensor<7x33xi8>, vector<8xi8>
// Back to rows: the eight blocks concatenated, then each row's lanes.
// CHECK: %[[ALL:.*]] = vector.shuffle {{.*}} : vector<16xi32>, vector<16xi32>
// CHECK: %[[ROW0:.*]] = vector.shuffle %[[ALL]], %[[ALL]] [0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29] : vector<32xi32>, vector<32xi32>
// CHECK: vector.transfer_write %[[ROW0]]
// CHECK: %[[ROW1:.*]] = vector.shuffle %[[ALL]], %[[ALL]] [2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31] : vector<32xi32>, vector<32xi32>
// CHECK: vector.transfer_write %[[ROW1]]
// The last row: its pair partner is a zero vector, and only it is written.
// CHECK: %[[Z:.*]] = arith.constant dense<0> : vector<16xi32>
// CHECK: scf.for {{.*}} step %{{.*}} iter_args({{.*}}) -> (tensor<7x5xi32>)
// CHECK: %[[L:.*]] = vector.transfer_read %{{.*}} : tensor<7x5xi32>, vector<16xi32>
// CHECK: vector.shuffle %[[L]], %[[Z]] [0, 1, 16, 17]
// CHECK-NOT: linalg.matmul
module attributes {llvm.target_triple = "aarch64-unknown-linux-gnu"} {
func.func @matmul_i8_i8mm(%a: tensor<7x33xi8>) -> tensor<7x5xi32> attributes {target_cpu = "generic", target_features = #llvm.target_features<["+i8mm"]>} {
  %w = arith.constant dense<3> : tensor<33x5xi8>
  %z = arith.constant 0 : i32
  %e = tensor.empty() : tensor<7x5xi32>
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<7x5xi32>) -> tensor<7x5xi32>
  %r = linalg.matmul ins(%a, %w : tensor<7x33xi8>, tensor<33x5xi8>) outs(%f : tensor<7x5xi32>) -> tensor<7x5xi32>
  return %r : tensor<7x5xi32>
}
}

// -----

// aarch64 without dotprod or i8mm keeps the u8 x s8 kernel (generic code).
// CHECK-LABEL: func @matmul_i8_plain_aarch64
// CHECK: arith.constant dense<{{.*}}> : tensor<16xi32>
// CHECK: arith.xori
// CHECK: vector.contract {{.*}} : vector<16x4xi32>, vector<4xi32> into vector<16xi32>
module attributes {llvm.target_triple = "aarch64-unknown-linux-gnu"} {
func.func @matmul_i8_plain_aarch64(%a: tensor<7x33xi8>) -> tensor<7x5xi32> attributes {target_cpu = "generic"} {
  %w = arith.constant dense<3> : tensor<33x5xi8>
  %z = arith.constant 0 : i32
  %e = tensor.empty() : tensor<7x5xi32>
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<7x5xi32>) -> tensor<7x5xi32>
  %r = linalg.matmul ins(%a, %w : tensor<7x33xi8>, tensor<33x5xi8>) outs(%f : tensor<7x5xi32>) -> tensor<7x5xi32>
  return %r : tensor<7x5xi32>
}
}

// -----

// A constant init is copied into a private tensor before the kernel writes
// its masked N tails into it: MLIR 22.1.8's bufferization would otherwise
// allocate the written tensor without copying the constant (the rows the
// first tile does not write then hold garbage). An init that is one value
// everywhere (a splat constant, a fill, even one with other uses) is made
// again by a fill of the kernel's own, written in place.
// CHECK-LABEL: func @constant_init
// CHECK: %[[Z:.*]] = arith.constant dense<{{\[\[}}0.000000e+00, 1.000000e+00{{.*}}> : tensor<7x5xf32>
// CHECK: %[[COPY:.*]] = bufferization.alloc_tensor() copy(%[[Z]]) : tensor<7x5xf32>
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[COPY]])
// CHECK-LABEL: func @splat_constant_init
// CHECK-NOT: bufferization.alloc_tensor
// CHECK: %[[F:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<7x5xf32>)
// CHECK-NOT: bufferization.alloc_tensor
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[F]])
// CHECK-LABEL: func @fill_init
// CHECK-NOT: bufferization.alloc_tensor
// CHECK: return
func.func @constant_init(%a: tensor<7x33xf32>) -> tensor<7x5xf32> {
  %w = arith.constant dense<0.25> : tensor<33x5xf32>
  %z = arith.constant dense<[[0.0, 1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0, 9.0], [10.0, 11.0, 12.0, 13.0, 14.0], [15.0, 16.0, 17.0, 18.0, 19.0], [20.0, 21.0, 22.0, 23.0, 24.0], [25.0, 26.0, 27.0, 28.0, 29.0], [30.0, 31.0, 32.0, 33.0, 34.0]]> : tensor<7x5xf32>
  %r = linalg.matmul ins(%a, %w : tensor<7x33xf32>, tensor<33x5xf32>) outs(%z : tensor<7x5xf32>) -> tensor<7x5xf32>
  return %r : tensor<7x5xf32>
}
func.func @splat_constant_init(%a: tensor<7x33xf32>) -> tensor<7x5xf32> {
  %w = arith.constant dense<0.25> : tensor<33x5xf32>
  %z = arith.constant dense<0.0> : tensor<7x5xf32>
  %r = linalg.matmul ins(%a, %w : tensor<7x33xf32>, tensor<33x5xf32>) outs(%z : tensor<7x5xf32>) -> tensor<7x5xf32>
  return %r : tensor<7x5xf32>
}
func.func @fill_init(%a: tensor<7x33xf32>) -> tensor<7x5xf32> {
  %w = arith.constant dense<0.25> : tensor<33x5xf32>
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<7x5xf32>
  %z = linalg.fill ins(%c0 : f32) outs(%e : tensor<7x5xf32>) -> tensor<7x5xf32>
  %r = linalg.matmul ins(%a, %w : tensor<7x33xf32>, tensor<33x5xf32>) outs(%z : tensor<7x5xf32>) -> tensor<7x5xf32>
  return %r : tensor<7x5xf32>
}

// -----

// bf16 x bf16 -> f32: the f32 kernel, weights widened to f32 when packed,
// each activation widened as it is loaded, f32 FMAs.
// CHECK-LABEL: func @matmul_bf16
// CHECK: arith.constant dense<5.000000e-01> : tensor<1x64x16xf32>
// CHECK: tensor.extract %{{.*}} : tensor<4x64xbf16>
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: vector.fma {{.*}} : vector<16xf32>
func.func @matmul_bf16(%a: tensor<4x64xbf16>) -> tensor<4x16xf32> {
  %w = arith.constant dense<0.5> : tensor<64x16xbf16>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x16xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<4x16xf32>) -> tensor<4x16xf32>
  %r = linalg.matmul ins(%a, %w : tensor<4x64xbf16>, tensor<64x16xbf16>) outs(%f : tensor<4x16xf32>) -> tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}

// -----

// A bf16 convolution accumulated in f32 (what qopt-legalize makes of
// #qopt.precision<act = bf16, weight = bf16>): the im2col copy keeps the
// activation's bf16 (it used to be typed f32 and yield a bf16 value, an
// invalid linalg.generic that stopped qopt-lower-cpu on PaddleOCR cls in
// mixed precision); the f32 kernel widens each value as it loads it. The
// f32 kernel's copy is K-major, A^T[K, M] (c, kh, kw, n, oh, ow): its
// innermost loop runs along output columns.
// CHECK-LABEL: func @conv_nchw_bf16
// CHECK: %[[COL:.*]] = linalg.generic {{.*}} ins(%arg0 : tensor<1x2x5x5xbf16>) outs(%{{.*}} : tensor<2x3x3x1x2x2xbf16>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: bf16, %{{.*}}: bf16):
// CHECK-NEXT: linalg.yield %[[IN]] : bf16
// CHECK: tensor.collapse_shape %[[COL]] {{\[}}[0, 1, 2], [3, 4, 5]] : tensor<2x3x3x1x2x2xbf16> into tensor<18x4xbf16>
// CHECK: tensor.extract %{{.*}} : tensor<18x4xbf16>
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: vector.fma {{.*}} : vector<16xf32>
func.func @conv_nchw_bf16(%x: tensor<1x2x5x5xbf16>) -> tensor<1x2x2x2xf32> {
  %w = arith.constant dense<0.5> : tensor<2x2x3x3xbf16>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x2x2xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
      ins(%x, %w : tensor<1x2x5x5xbf16>, tensor<2x2x3x3xbf16>) outs(%z : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  return %y : tensor<1x2x2x2xf32>
}
