// qopt-cpu-matmul-nbits: the weight stays packed (i8, repacked to
// [tiles][K/2][16]) and is dequantized in vector registers; no K x N float
// tensor or buffer exists before or after bufferization and LLVM lowering.
// RUN: qopt %s -split-input-file --qopt-cpu-matmul-nbits="tile-n=2" -verify-diagnostics | FileCheck %s
// RUN: qopt %s -split-input-file --qopt-lower-cpu -verify-diagnostics | FileCheck %s --check-prefix=LLVM

// K = 64, N = 32, groups of 32: 2 tiles of 16 columns, 32 byte rows (two K
// per byte), 2 groups of scales and offsets (2^23 + 8) per tile.
// CHECK-LABEL: func @gemv
// CHECK-DAG: arith.constant dense<17> : tensor<2x32x16xi8>
// CHECK-DAG: arith.constant dense<5.000000e-01> : tensor<2x2x16xf32>
// CHECK-DAG: arith.constant dense<0x4B000008> : tensor<2x2x16xf32>
// CHECK-NOT: tensor<64x32xf32>
// CHECK-NOT: tensor<32x64xf32>
// CHECK: scf.for
// CHECK: vector.transfer_read {{.*}} : tensor<2x32x16xi8>, vector<16xi8>
// CHECK: arith.extui {{.*}} : vector<16xi8> to vector<16xi32>
// CHECK: arith.andi
// CHECK: arith.shrui
// CHECK: arith.bitcast {{.*}} : vector<16xi32> to vector<16xf32>
// CHECK: vector.fma
// CHECK-NOT: qopt.matmul_nbits
// The only constants of the lowered module: the packed bytes and the
// [tiles][groups][16] parameter tables; no float weight matrix.
// LLVM-NOT: array<64 x array<32 x f32>>
// LLVM-NOT: array<32 x array<64 x f32>>
// LLVM-NOT: array<2048 x f32>
// LLVM-DAG: llvm.mlir.global private constant @__constant_4x32x16xi8({{.*}}!llvm.array<4 x array<32 x array<16 x i8>>>
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

func.func @weight_not_constant(%a: tensor<1x64xf32>, %w: tensor<32x2x16xi8>) -> tensor<1x32xf32> {
  %s = arith.constant dense<0.5> : tensor<32x2xf32>
  // expected-error @+1 {{qopt-cpu-matmul-nbits: the packed weight must be a constant (it is repacked at compile time)}}
  %y = qopt.matmul_nbits %a, %w scales %s bits 4 group_size 32 : tensor<1x64xf32>, tensor<32x2x16xi8>, tensor<32x2xf32> -> tensor<1x32xf32>
  return %y : tensor<1x32xf32>
}
