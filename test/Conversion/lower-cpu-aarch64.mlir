// qopt-lower-cpu for aarch64: with dotprod an i8 matmul reaches NEON sdot,
// with i8mm smmla (in the MLIR as arm_neon intrinsic ops, in the LLVM IR
// that mlir-translate writes, and in llc's assembly); without either it
// stays generic vector code. A float matmul is unaffected.
//
// RUN: qopt %s --qopt-lower-cpu="target=aarch64 cpu=generic features=+dotprod" -o %t.sdot.mlir
// RUN: FileCheck %s --check-prefix=SDOT-MLIR < %t.sdot.mlir
// RUN: mlir-translate --mlir-to-llvmir %t.sdot.mlir -o %t.sdot.ll
// RUN: FileCheck %s --check-prefix=SDOT-IR < %t.sdot.ll
// RUN: llc-22 -O3 -mtriple=aarch64-linux-gnu -mattr=+dotprod %t.sdot.ll -o - | FileCheck %s --check-prefix=SDOT-ASM
//
// RUN: qopt %s --qopt-lower-cpu="target=aarch64 cpu=generic features=+i8mm" -o %t.smmla.mlir
// RUN: FileCheck %s --check-prefix=SMMLA-MLIR < %t.smmla.mlir
// RUN: mlir-translate --mlir-to-llvmir %t.smmla.mlir -o %t.smmla.ll
// RUN: FileCheck %s --check-prefix=SMMLA-IR < %t.smmla.ll
// RUN: llc-22 -O3 -mtriple=aarch64-linux-gnu -mattr=+i8mm %t.smmla.ll -o - | FileCheck %s --check-prefix=SMMLA-ASM
//
// The CPU's own features choose too: neoverse-n1 has dotprod, neoverse-v1
// also i8mm (smmla wins); plain armv8-a (cortex-a53) has neither.
// RUN: qopt %s --qopt-lower-cpu="target=aarch64 cpu=neoverse-n1" | FileCheck %s --check-prefix=SDOT-MLIR
// RUN: qopt %s --qopt-lower-cpu="target=aarch64 cpu=neoverse-v1" | FileCheck %s --check-prefix=SMMLA-MLIR
// RUN: qopt %s --qopt-lower-cpu="target=aarch64 cpu=cortex-a53" | mlir-translate --mlir-to-llvmir | llc-22 -O3 -mtriple=aarch64-linux-gnu | FileCheck %s --check-prefix=GENERIC
// And a feature can be turned off again:
// RUN: qopt %s --qopt-lower-cpu="target=aarch64 cpu=neoverse-v1 features=-i8mm" | FileCheck %s --check-prefix=SDOT-MLIR

// SDOT-MLIR-LABEL: llvm.func @mm_i8(
// SDOT-MLIR-NOT: arm_neon.intr.smmla
// SDOT-MLIR: arm_neon.intr.sdot %{{.*}}, %{{.*}}, %{{.*}} : vector<16xi8>, vector<16xi8> to vector<4xi32>
// SDOT-MLIR-NOT: arm_neon.intr.smmla
// SDOT-MLIR-LABEL: llvm.func @mm_f32(
// SDOT-MLIR-NOT: arm_neon

// SDOT-IR: target triple = "aarch64-unknown-linux-gnu"
// SDOT-IR-LABEL: define {{.*}} @mm_i8(
// SDOT-IR: call <4 x i32> @llvm.aarch64.neon.sdot.v4i32.v16i8(<4 x i32> %{{.*}}, <16 x i8> %{{.*}}, <16 x i8> %{{.*}})
// SDOT-IR: attributes #{{[0-9]+}} = { {{.*}}"target-cpu"="generic" "target-features"="+dotprod"

// SDOT-ASM-LABEL: mm_i8:
// SDOT-ASM: sdot v{{[0-9]+}}.4s, v{{[0-9]+}}.16b, v{{[0-9]+}}.4b[0]
// SDOT-ASM-LABEL: mm_f32:
// SDOT-ASM-NOT: sdot

// SMMLA-MLIR-LABEL: llvm.func @mm_i8(
// SMMLA-MLIR-NOT: arm_neon.intr.sdot
// SMMLA-MLIR: arm_neon.intr.smmla %{{.*}}, %{{.*}}, %{{.*}} : vector<16xi8> to vector<4xi32>
// SMMLA-MLIR-NOT: arm_neon.intr.sdot
// SMMLA-MLIR-LABEL: llvm.func @mm_f32(
// SMMLA-MLIR-NOT: arm_neon

// SMMLA-IR-LABEL: define {{.*}} @mm_i8(
// SMMLA-IR: call <4 x i32> @llvm.aarch64.neon.smmla.v4i32.v16i8(<4 x i32> %{{.*}}, <16 x i8> %{{.*}}, <16 x i8> %{{.*}})

// SMMLA-ASM-LABEL: mm_i8:
// SMMLA-ASM: smmla v{{[0-9]+}}.4s, v{{[0-9]+}}.16b, v{{[0-9]+}}.16b

// GENERIC-NOT: sdot
// GENERIC-NOT: smmla
// GENERIC-LABEL: mm_i8:
// GENERIC-NOT: sdot
// GENERIC-NOT: smmla

func.func @mm_i8(%a: tensor<64x256xi8>) -> tensor<64x128xi32> {
  %w = arith.constant dense<-3> : tensor<256x128xi8>
  %z = arith.constant 0 : i32
  %e = tensor.empty() : tensor<64x128xi32>
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<64x128xi32>) -> tensor<64x128xi32>
  %r = linalg.matmul ins(%a, %w : tensor<64x256xi8>, tensor<256x128xi8>) outs(%f : tensor<64x128xi32>) -> tensor<64x128xi32>
  return %r : tensor<64x128xi32>
}

func.func @mm_f32(%a: tensor<8x32xf32>) -> tensor<8x16xf32> {
  %w = arith.constant dense<0.25> : tensor<32x16xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x16xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<8x16xf32>) -> tensor<8x16xf32>
  %r = linalg.matmul ins(%a, %w : tensor<8x32xf32>, tensor<32x16xf32>) outs(%f : tensor<8x16xf32>) -> tensor<8x16xf32>
  return %r : tensor<8x16xf32>
}
