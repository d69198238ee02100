// qopt-lower-cpu end to end: the result is LLVM dialect that mlir-translate
// accepts, the source functions stay entry points, an i8 matmul reaches
// vpdpbusd (in the LLVM IR, and in llc's znver4 assembly) and an f32
// matmul reaches AVX-512 FMA.
//
// RUN: qopt %s --qopt-lower-cpu="cpu=znver4" -o %t.mlir
// RUN: mlir-translate --mlir-to-llvmir %t.mlir -o %t.ll
// RUN: FileCheck %s --check-prefix=IR < %t.ll
// RUN: llc-22 -O3 %t.ll -o - | FileCheck %s --check-prefix=ASM
//
// Without VNNI (skylake-avx512) the same module is lowered without the
// intrinsic, which llc could not select there:
// RUN: qopt %s --qopt-lower-cpu="cpu=skylake-avx512" | mlir-translate --mlir-to-llvmir | FileCheck %s --check-prefix=NOVNNI
// And for aarch64 the module still lowers (generic vector code):
// RUN: qopt %s --qopt-lower-cpu="target=aarch64 cpu=neoverse-v1" | mlir-translate --mlir-to-llvmir | FileCheck %s --check-prefix=ARM

// IR: target triple = "x86_64-unknown-linux-gnu"
// IR-LABEL: define {{.*}} @mm_i8(
// IR: call <16 x i32> @llvm.x86.avx512.vpdpbusd.512(<16 x i32> %{{.*}}, <64 x i8> %{{.*}}, <64 x i8> %{{.*}})
// IR-LABEL: define void @_mlir_ciface_mm_i8(
// IR-LABEL: define {{.*}} @mm_f32(
// IR: call <16 x float> @llvm.fmuladd.v16f32(
// IR: attributes #{{[0-9]+}} = { {{.*}}"target-cpu"="znver4"

// ASM-LABEL: mm_i8:
// ASM: vpdpbusd {{.*}}%zmm
// ASM-LABEL: mm_f32:
// ASM: vfmadd{{[0-9]+}}ps {{.*}}%zmm

// NOVNNI-NOT: vpdpbusd
// NOVNNI-LABEL: define {{.*}} @mm_i8(
// NOVNNI-NOT: vpdpbusd

// ARM: target triple = "aarch64-unknown-linux-gnu"
// ARM-NOT: llvm.x86
// ARM: define {{.*}} @mm_i8(

func.func @mm_i8(%a: tensor<64x256xi8>) -> tensor<64x128xi32> {
  %w = arith.constant dense<-3> : tensor<256x128xi8>
  %z = arith.constant 0 : i32
  %e = tensor.empty() : tensor<64x128xi32>
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<64x128xi32>) -> tensor<64x128xi32>
  %r = linalg.matmul ins(%a, %w : tensor<64x256xi8>, tensor<256x128xi8>) outs(%f : tensor<64x128xi32>) -> tensor<64x128xi32>
  return %r : tensor<64x128xi32>
}

func.func @mm_f32(%a: tensor<64x256xf32>) -> tensor<64x128xf32> {
  %w = arith.constant dense<0.25> : tensor<256x128xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x128xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<64x128xf32>) -> tensor<64x128xf32>
  %r = linalg.matmul ins(%a, %w : tensor<64x256xf32>, tensor<256x128xf32>) outs(%f : tensor<64x128xf32>) -> tensor<64x128xf32>
  return %r : tensor<64x128xf32>
}
