//===- LowerCPUPipeline.cpp - qopt-lower-cpu ------------------------------===//
//
// Strings qopt's CPU passes together with upstream's bufferization and LLVM
// lowering: target attributes, GEMM micro-kernels on tensors, elementwise
// fusion, one-shot bufferization with buffer deallocation, loops for the
// rest, VNNI (x86) or sdot/smmla (aarch64) selection, then the LLVM
// conversions and the final check that nothing else is left.
//
//===----------------------------------------------------------------------===//

#include "qopt/Pipelines/LowerCPUPipeline.h"
#include "qopt/Conversion/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void qopt::buildLowerCPUPipeline(OpPassManager &pm,
                                 const LowerCPUOptions &options) {
  CPUSetTargetOptions targetOptions;
  targetOptions.target = options.target;
  targetOptions.cpu = options.cpu;
  targetOptions.features = options.features;
  pm.addPass(createCPUSetTarget(targetOptions));

  // Tensor level: everything as linalg, contractions as GEMM kernels.
  pm.addNestedPass<func::FuncOp>(createConvertElementwiseToLinalgPass());
  // Weight-only matmuls (qopt.matmul_nbits) have no other lowering.
  CPUMatMulNBitsOptions nbitsOptions;
  nbitsOptions.tileM = options.tileM;
  nbitsOptions.tileN = options.tileN;
  pm.addNestedPass<func::FuncOp>(createCPUMatMulNBits(nbitsOptions));
  if (options.gemm) {
    CPUGemmOptions gemmOptions;
    gemmOptions.tileM = options.tileM;
    gemmOptions.tileN = options.tileN;
    // f32 products of two computed operands (attention), which qopt-cpu-gemm
    // cannot pack; first, as qopt-cpu-gemm generalizes every named op.
    CPUBatchMatmulOptions batchOptions;
    batchOptions.tileM = options.tileM;
    batchOptions.tileN = options.tileN;
    pm.addNestedPass<func::FuncOp>(createCPUBatchMatmul(batchOptions));
    pm.addNestedPass<func::FuncOp>(createCPUGemm(gemmOptions));
  }
  pm.addNestedPass<func::FuncOp>(createLinalgGeneralizeNamedOpsPass());
  if (options.depthwise)
    pm.addNestedPass<func::FuncOp>(createCPUDepthwise());
  pm.addNestedPass<func::FuncOp>(createCPUFuseElementwise());
  pm.addPass(createCanonicalizerPass());
  if (options.vectorize) {
    pm.addNestedPass<func::FuncOp>(createCPUVectorizeElementwise());
    pm.addPass(createCanonicalizerPass());
  }

  // Buffers.
  bufferization::OneShotBufferizePassOptions bufferizeOptions;
  bufferizeOptions.bufferizeFunctionBoundaries = true;
  bufferizeOptions.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferizeOptions));
  bufferization::buildBufferDeallocationPipeline(pm);

  // Copies into strided views (pads, inserted slices) as loops LLVM
  // vectorizes, not the runtime's element-by-element memrefCopy.
  pm.addNestedPass<func::FuncOp>(createCPUExpandCopies());

  // Loops for what is not a GEMM kernel; VNNI selection once the
  // intrinsic's unknown memory effects no longer matter, and NEON
  // sdot/smmla selection beside it (each does nothing on the other target).
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addNestedPass<func::FuncOp>(createX86Vnni());
  pm.addNestedPass<func::FuncOp>(createArmNeon());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createLoopInvariantCodeMotionPass());

  // LLVM.
  // math.erf has no LLVM intrinsic: its polynomial, still vectorized.
  pm.addNestedPass<func::FuncOp>(createCPUExpandMath());
  // n-D transfers the elementwise vectorizer left (transposed operands).
  VectorTransferToSCFOptions toSCF;
  toSCF.enableFullUnroll();
  pm.addNestedPass<func::FuncOp>(createConvertVectorToSCFPass(toSCF));
  // Clones the deallocation pipeline leaves (a result that aliases an
  // argument) become alloc + copy.
  pm.addPass(createConvertBufferizationToMemRefPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  // x86vector: the AVX512-BF16 ops of qopt-cpu-matmul-nbits's bf16 kernel.
  ConvertVectorToLLVMPassOptions vectorToLLVM;
  vectorToLLVM.x86Vector = true;
  pm.addPass(createConvertVectorToLLVMPass(vectorToLLVM));
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCPUCheckLowered());
}

void qopt::registerLowerCPUPipeline() {
  PassPipelineRegistration<LowerCPUOptions>(
      "qopt-lower-cpu",
      "Lower integer and float linalg on tensors to the LLVM dialect for a "
      "CPU (x86_64 with AVX-512/VNNI kernels, or aarch64 with NEON "
      "sdot/smmla kernels)",
      buildLowerCPUPipeline);
}
