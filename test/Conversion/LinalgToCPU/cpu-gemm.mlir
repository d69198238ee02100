// RUN: qopt %s --split-input-file --qopt-cpu-gemm | FileCheck %s
// RUN: qopt %s --split-input-file --qopt-cpu-gemm="tile-m=2 tile-n=1" | FileCheck %s --check-prefix=TILE

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
