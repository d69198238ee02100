// qopt-cpu-matmul-nbits on `compute bf16` ops: the AVX512-BF16 kernel
// (activations converted to bf16 once, weight pairs dequantized, scaled and
// converted in registers, x86vector.avx512.dot). The packed layouts are
// checked with hand-derived values; errors are in
// cpu-matmul-nbits-bf16-errors.mlir.
// RUN: qopt %s -split-input-file --qopt-cpu-matmul-nbits="tile-n=2" | FileCheck %s
// RUN: qopt %s -split-input-file --qopt-lower-cpu="cpu=znver4" | FileCheck %s --check-prefix=LLVM
// qopt-lower-cpu for a target without avx512bf16: a clear error.
// RUN: not qopt %s -split-input-file --qopt-lower-cpu="cpu=skylake-avx512" -o /dev/null 2>&1 | FileCheck %s --check-prefix=NOBF16
// RUN: not qopt %s -split-input-file --qopt-lower-cpu="cpu=znver4 features=-avx512bf16" -o /dev/null 2>&1 | FileCheck %s --check-prefix=NOBF16
// RUN: not qopt %s -split-input-file --qopt-lower-cpu="target=aarch64 cpu=neoverse-v1" -o /dev/null 2>&1 | FileCheck %s --check-prefix=ARM

// NOBF16: error: qopt-cpu-matmul-nbits: 'compute bf16' needs AVX512-BF16 (vdpbf16ps), and the target CPU '{{.*}}' with its features lacks avx512bf16; lower for a CPU that has it (cpu=znver4, sapphirerapids, or features=+avx512bf16) or quantize with compute-type=f32
// ARM: error: qopt-cpu-matmul-nbits: 'compute bf16' needs AVX512-BF16 (vdpbf16ps), and the target CPU 'neoverse-v1' with its features lacks avx512bf16

// K = 64, N = 32, 4 bits, groups of 32, every q = 1 (bytes 17): in the bf16
// layout too each byte holds two 1s (half 0 low, half 1 high), 2 tiles of
// 32 K pairs; scales and offsets (2^23 + 8) have one row per group and half.
// CHECK-LABEL: func @gemv
// CHECK-DAG: arith.constant dense<17> : tensor<2x32x16xi8>
// CHECK-DAG: arith.constant dense<5.000000e-01> : tensor<2x4x16xf32>
// CHECK-DAG: arith.constant dense<0x4B000008> : tensor<2x4x16xf32>
// CHECK-NOT: tensor<64x32xf32>
// CHECK-NOT: tensor<32x64xf32>
// The activations, converted once into K pairs x rows x 2 (32x1x2).
// CHECK: tensor.empty() : tensor<32x1x2xbf16>
// CHECK: x86vector.avx512.cvt.packed.f32_to_bf16 %{{.*}} : vector<16xf32> -> vector<16xbf16>
// CHECK-COUNT-8: vector.transfer_write {{.*}} : vector<2xbf16>, tensor<32x1x2xbf16>
// CHECK: vector.transfer_read {{.*}} : tensor<2x32x16xi8>, vector<16xi8>
// CHECK: arith.extui {{.*}} : vector<16xi8> to vector<16xi32>
// CHECK: arith.andi
// CHECK: arith.shrui
// CHECK: arith.subf
// CHECK: arith.mulf
// CHECK: x86vector.avx512.cvt.packed.f32_to_bf16
// CHECK: x86vector.avx512.cvt.packed.f32_to_bf16
// CHECK: vector.shuffle {{.*}} : vector<16xbf16>, vector<16xbf16>
// CHECK: vector.transfer_read {{.*}} : tensor<32x1x2xbf16>, vector<2xbf16>
// CHECK: x86vector.avx512.dot {{.*}} : vector<32xbf16> -> vector<16xf32>
// CHECK-NOT: vector.fma
// CHECK-NOT: qopt.matmul_nbits
// LLVM-LABEL: llvm.func @gemv
// LLVM: llvm.call_intrinsic "llvm.x86.avx512bf16.cvtneps2bf16.512"
// LLVM: llvm.call_intrinsic "llvm.x86.avx512bf16.dpbf16ps.512"
module attributes {llvm.target_triple = "x86_64-unknown-linux-gnu"} {
func.func @gemv(%a: tensor<1x64xf32>) -> tensor<1x32xf32> attributes {target_cpu = "znver4"} {
  %w = arith.constant dense<17> : tensor<32x2x16xi8>
  %s = arith.constant dense<0.5> : tensor<32x2xf32>
  %y = qopt.matmul_nbits %a, %w scales %s bits 4 group_size 32 compute bf16 : tensor<1x64xf32>, tensor<32x2x16xi8>, tensor<32x2xf32> -> tensor<1x32xf32>
  return %y : tensor<1x32xf32>
}
}

// -----

// 8 bits, K = 2, N = 16: column c holds q = (c, 100 + c) and scale c + 1.
// The pair p = 0 of the tile is two rows of 16 bytes, half 0 (columns 0-7)
// then half 1 (columns 8-15), each lane 2c + j holding column c at K = j,
// the order vdpbf16ps reads; the scales follow the same order.
// CHECK-LABEL: func @layout_w8
// CHECK-DAG: arith.constant dense<{{\[}}{{\[}}{{\[}}0, 100, 1, 101, 2, 102, 3, 103, 4, 104, 5, 105, 6, 106, 7, 107], {{\[}}8, 108, 9, 109, 10, 110, 11, 111, 12, 112, 13, 113, 14, 114, 15, 115]]]> : tensor<1x2x16xi8>
// CHECK-DAG: arith.constant dense<{{\[}}{{\[}}{{\[}}1.000000e+00, 1.000000e+00, 2.000000e+00, 2.000000e+00, 3.000000e+00, 3.000000e+00, 4.000000e+00, 4.000000e+00, 5.000000e+00, 5.000000e+00, 6.000000e+00, 6.000000e+00, 7.000000e+00, 7.000000e+00, 8.000000e+00, 8.000000e+00], {{\[}}9.000000e+00, 9.000000e+00, 1.000000e+01, 1.000000e+01, 1.100000e+01, 1.100000e+01, 1.200000e+01, 1.200000e+01, 1.300000e+01, 1.300000e+01, 1.400000e+01, 1.400000e+01, 1.500000e+01, 1.500000e+01, 1.600000e+01, 1.600000e+01]]]> : tensor<1x2x16xf32>
// Several rows: the weight pair is converted once and used by all 3 rows.
// CHECK: x86vector.avx512.cvt.packed.f32_to_bf16
// CHECK: x86vector.avx512.cvt.packed.f32_to_bf16
// CHECK: vector.shuffle
// CHECK-COUNT-3: x86vector.avx512.dot
// CHECK-NOT: x86vector.avx512.dot
// CHECK: scf.yield
// LLVM-LABEL: llvm.func @layout_w8
// LLVM: llvm.call_intrinsic "llvm.x86.avx512bf16.dpbf16ps.512"
module attributes {llvm.target_triple = "x86_64-unknown-linux-gnu"} {
func.func @layout_w8(%a: tensor<3x2xf32>) -> tensor<3x16xf32> attributes {target_cpu = "sapphirerapids"} {
  %w = arith.constant dense<[[[0, 100]], [[1, 101]], [[2, 102]], [[3, 103]], [[4, 104]], [[5, 105]], [[6, 106]], [[7, 107]], [[8, 108]], [[9, 109]], [[10, 110]], [[11, 111]], [[12, 112]], [[13, 113]], [[14, 114]], [[15, 115]]]> : tensor<16x1x2xi8>
  %s = arith.constant dense<[[1.0], [2.0], [3.0], [4.0], [5.0], [6.0], [7.0], [8.0], [9.0], [10.0], [11.0], [12.0], [13.0], [14.0], [15.0], [16.0]]> : tensor<16x1xf32>
  %y = qopt.matmul_nbits %a, %w scales %s bits 8 group_size 2 compute bf16 : tensor<3x2xf32>, tensor<16x1x2xi8>, tensor<16x1xf32> -> tensor<3x16xf32>
  return %y : tensor<3x16xf32>
}
}
