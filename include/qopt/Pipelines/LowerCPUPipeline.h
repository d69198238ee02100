//===- LowerCPUPipeline.h - qopt-lower-cpu ----------------------*- C++ -*-===//
//
// The CPU back end as one pipeline: integer (and remaining float) linalg on
// tensors to an LLVM-dialect module that `mlir-translate --mlir-to-llvmir`
// accepts, with packed-weight GEMM micro-kernels (VNNI on x86) for
// contractions. Compilers that embed qopt call buildLowerCPUPipeline; the
// driver gets the same pipeline as `qopt-lower-cpu{...}`.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_PIPELINES_LOWERCPUPIPELINE_H
#define QOPT_PIPELINES_LOWERCPUPIPELINE_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

#include <string>

namespace mlir::qopt {

/// Options of qopt-lower-cpu (also usable as a plain struct from C++).
struct LowerCPUOptions : public PassPipelineOptions<LowerCPUOptions> {
  PassOptions::Option<std::string> target{
      *this, "target",
      llvm::cl::desc("Architecture: x86_64 or aarch64 (or a target triple)"),
      llvm::cl::init("x86_64")};
  PassOptions::Option<std::string> cpu{
      *this, "cpu",
      llvm::cl::desc("LLVM CPU name (znver4, sapphirerapids, neoverse-v1, "
                     "...); `host` is the compiling machine"),
      llvm::cl::init("host")};
  PassOptions::Option<std::string> features{
      *this, "features",
      llvm::cl::desc("Extra target features, `+avx512vnni,-avx512bf16` style"),
      llvm::cl::init("")};
  PassOptions::Option<unsigned> tileM{*this, "tile-m",
                                      llvm::cl::desc("GEMM register tile rows"),
                                      llvm::cl::init(4)};
  PassOptions::Option<unsigned> tileN{
      *this, "tile-n",
      llvm::cl::desc("GEMM register tile width in 16-lane vectors"),
      llvm::cl::init(4)};
  PassOptions::Option<bool> gemm{
      *this, "gemm",
      llvm::cl::desc("Use the packed-weight GEMM kernels for contractions "
                     "with constant weights and the register-tiled f32 "
                     "kernel for matmuls of two computed operands (off: "
                     "plain loops)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> depthwise{
      *this, "depthwise",
      llvm::cl::desc("Vectorize NCHW depthwise convolutions with "
                     "qopt-cpu-depthwise (off: plain loops)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> vectorize{
      *this, "vectorize",
      llvm::cl::desc("Vectorize elementwise ops (requantization, bias, "
                     "activations) with qopt-cpu-vectorize-elementwise "
                     "(off: plain loops)"),
      llvm::cl::init(true)};
};

/// Appends qopt-lower-cpu to a module-level pass manager.
void buildLowerCPUPipeline(OpPassManager &pm, const LowerCPUOptions &options);

/// Registers `qopt-lower-cpu` with the pass registry.
void registerLowerCPUPipeline();

} // namespace mlir::qopt

#endif // QOPT_PIPELINES_LOWERCPUPIPELINE_H
