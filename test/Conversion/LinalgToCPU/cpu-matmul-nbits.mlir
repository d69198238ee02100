// qopt-cpu-matmul-nbits: the weight stays packed (4-bit groups of 8k:
// [tiles][K/8][16] i32 words; otherwise [tiles][K/2][16] i8) and is
// dequantized in vector registers; no K x N float
// tensor or buffer exists before or after bufferization and LLVM lowering.
// RUN: qopt %s -split-input-file --qopt-cpu-matmul-nbits="tile-n=2" -verify-diagnostics | FileCheck %s
// RUN: qopt %s -split-input-file --qopt-lower-cpu -verify-diagnostics | FileCheck %s --check-prefix=LLVM

// K = 64, N = 32, groups of 32: the nibble-plane layout (4 bits, groups a
// multiple of 8). 2 tiles of 16 columns, 8 words per column (8 K per i32
// word: bytes 0x11 give the word 0x11111111 = 286331153), 2 groups of scales
// per tile; no zero points, so no zero-point table (the default 8 is a
// constant). Each nibble: one shift, mask and OR into a float exponent,
// subtract, FMA.
// CHECK-LABEL: func @gemv
// CHECK-DAG: arith.constant dense<286331153> : tensor<2x8x16xi32>
// CHECK-DAG: arith.constant dense<5.000000e-01> : tensor<2x2x16xf32>
// CHECK-NOT: tensor<2x2x16xi8>
// CHECK-NOT: tensor<64x32xf32>
// CHECK-NOT: tensor<32x64xf32>
// CHECK: scf.for
// CHECK: vector.transfer_read {{.*}} : tensor<2x8x16xi32>, vector<16xi32>
// CHECK: arith.shrui
// CHECK: arith.andi
// CHECK: arith.ori
// CHECK: arith.bitcast {{.*}} : vector<16xi32> to vector<16xf32>
// CHECK: arith.subf
// CHECK: vector.fma
// CHECK-NOT: qopt.matmul_nbits
// The only constants of the lowered module: the packed words and the
// [tiles][groups][16] scales; no float weight matrix.
// LLVM-NOT: array<64 x array<32 x f32>>
// LLVM-NOT: array<32 x array<64 x f32>>
// LLVM-NOT: array<2048 x f32>
// LLVM-DAG: llvm.mlir.global private constant @__constant_4x8x16xi32({{.*}}!llvm.array<4 x array<8 x array<16 x i32>>>
// LLVM-DAG: llvm.mlir.global private constant @__constant_4x2x16xf32({{.*}}!llvm.array<4 x array<2 x array<16 x f32>>>
// LLVM-LABEL: llvm.func @gemv
// LLVM-NOT: array<64 x array<32 x f32>>
// LLVM-NOT: array<32 x array<64 x f32>>
func.func @gemv(%a: tensor<1x64xf32>) -> tensor<1x32xf32> {
  %w = arith.constant dense<17> : tensor<32x2x16xi8>
  %s = arith.constant dense<0.5> : tensor<32x2xf32>
  %y = qopt.matmul_nbits %a, %w scales %s bits 4 group_size 32 : tensor<1x64xf32>, tensor<32x2x16xi8>, tensor<32x2xf32> -> tensor<1x32xf32>
  return %y : tensor<1x32xf32>
}

// -----

// Zero points in the nibble-plane layout: one i8 per column and group,
// [tiles][groups][16], converted to float once per group.
// CHECK-LABEL: func @gemv_zero_points
// CHECK-DAG: arith.constant dense<286331153> : tensor<2x8x16xi32>
// CHECK-DAG: arith.constant dense<3> : tensor<2x2x16xi8>
// CHECK: vector.transfer_read {{.*}} : tensor<2x2x16xi8>, vector<16xi8>
// CHECK: arith.uitofp {{.*}} : vector<16xi8> to vector<16xf32>
func.func @gemv_zero_points(%a: tensor<1x64xf32>) -> tensor<1x32xf32> {
  %w = arith.constant dense<17> : tensor<32x2x16xi8>
  %s = arith.constant dense<0.5> : tensor<32x2xf32>
  %z = arith.constant dense<3> : tensor<32x2xi8>
  %y = qopt.matmul_nbits %a, %w scales %s zero_points %z bits 4 group_size 32 : tensor<1x64xf32>, tensor<32x2x16xi8>, tensor<32x2xf32>, tensor<32x2xi8> -> tensor<1x32xf32>
  return %y : tensor<1x32xf32>
}

// -----

// Groups of 4 (not a multiple of 8) and 8 bits keep the byte layout
// [tiles][K / values per byte][16] i8, with 2^23 + zero point offsets
// (0x4B000008: zero point 8).
// CHECK-LABEL: func @gemv_group4
// CHECK-DAG: arith.constant dense<17> : tensor<2x32x16xi8>
// CHECK-DAG: arith.constant dense<0x4B000008> : tensor<2x16x16xf32>
// CHECK: arith.extui {{.*}} : vector<16xi8> to vector<16xi32>
func.func @gemv_group4(%a: tensor<1x64xf32>) -> tensor<1x32xf32> {
  %w = arith.constant dense<17> : tensor<32x16x2xi8>
  %s = arith.constant dense<0.5> : tensor<32x16xf32>
  %y = qopt.matmul_nbits %a, %w scales %s bits 4 group_size 4 : tensor<1x64xf32>, tensor<32x16x2xi8>, tensor<32x16xf32> -> tensor<1x32xf32>
  return %y : tensor<1x32xf32>
}

// -----

func.func @weight_not_constant(%a: tensor<1x64xf32>, %w: tensor<32x2x16xi8>) -> tensor<1x32xf32> {
  %s = arith.constant dense<0.5> : tensor<32x2xf32>
  // expected-error @+1 {{qopt-cpu-matmul-nbits: the packed weight must be a constant (it is repacked at compile time)}}
  %y = qopt.matmul_nbits %a, %w scales %s bits 4 group_size 32 : tensor<1x64xf32>, tensor<32x2x16xi8>, tensor<32x2xf32> -> tensor<1x32xf32>
  return %y : tensor<1x32xf32>
}
