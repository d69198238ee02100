//===- CPUJit.h - compile and run modules with qopt-lower-cpu ---*- C++ -*-===//
//
// Test support for the CPU back-end tests: lowers a module of tensor
// functions with qopt-lower-cpu (through its public C++ builder, for the
// machine running the test), JIT-compiles the LLVM dialect it produces, and
// calls a source function by its own name through its C interface.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_TEST_UNITTESTS_INTEGRATION_CPUJIT_H
#define QOPT_TEST_UNITTESTS_INTEGRATION_CPUJIT_H

#include "Jit.h"

#include "qopt/InitAll.h"
#include "qopt/Pipelines/LowerCPUPipeline.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/TargetParser/Host.h"

#include "gtest/gtest.h"

#include <array>
#include <functional>

namespace qopt_test {
using namespace mlir;

/// True when this machine runs AVX-512 VNNI (the VNNI path is then taken).
inline bool hostHasVnni() {
  auto features = llvm::sys::getHostCPUFeatures();
  return features.lookup("avx512vnni") && features.lookup("avx512bw");
}

/// A rank-R buffer with a row-major shape, filled by the test.
template <typename T, int R> struct Buffer {
  std::array<int64_t, R> shape;
  std::vector<T> data;
  explicit Buffer(std::array<int64_t, R> shape) : shape(shape) {
    int64_t n = 1;
    for (int64_t s : shape)
      n *= s;
    data.assign(n, T());
  }
  StridedMemRefType<T, R> descriptor() {
    StridedMemRefType<T, R> d;
    d.basePtr = d.data = data.data();
    d.offset = 0;
    int64_t stride = 1;
    for (int i = R - 1; i >= 0; --i) {
      d.sizes[i] = shape[i];
      d.strides[i] = stride;
      stride *= shape[i];
    }
    return d;
  }
};

class CPUJit {
public:
  /// `prePipeline` (textual, may be empty) runs before qopt-lower-cpu.
  explicit CPUJit(StringRef source, unsigned tileM = 4, unsigned tileN = 4,
                  bool gemm = true, StringRef prePipeline = "") {
    initializeJit();
    context = createJitContext();
    module = parseSourceString<ModuleOp>(source, context.get());
    if (!module) {
      error = "cannot parse the test module";
      return;
    }
    PassManager pm(context.get());
    if (!prePipeline.empty() && failed(parsePassPipeline(prePipeline, pm))) {
      error = "bad pre-pipeline";
      return;
    }
    qopt::LowerCPUOptions options;
    options.cpu = std::string("host");
    options.tileM = tileM;
    options.tileN = tileN;
    options.gemm = gemm;
    qopt::buildLowerCPUPipeline(pm, options);
    if (failed(pm.run(*module))) {
      error = "qopt-lower-cpu failed";
      return;
    }
    module->walk([&](LLVM::CallIntrinsicOp call) {
      if (call.getIntrin() == "llvm.x86.avx512.vpdpbusd.512")
        ++numVpdpbusd;
    });
    ExecutionEngineOptions engineOptions;
    std::function<llvm::Error(llvm::Module *)> transformer =
        makeOptimizingTransformer(/*optLevel=*/3, /*sizeLevel=*/0,
                                  /*targetMachine=*/nullptr);
    engineOptions.transformer = transformer;
    engineOptions.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
    auto created = ExecutionEngine::create(*module, engineOptions);
    if (!created) {
      error = llvm::toString(created.takeError());
      return;
    }
    engine = std::move(*created);
  }

  /// Calls `@name(%in: tensor<...>) -> tensor<...>` and copies the result
  /// (which the function allocates) into `out`.
  template <typename In, int RI, typename Out, int RO>
  void run(StringRef name, Buffer<In, RI> &in, Buffer<Out, RO> &out) {
    ASSERT_TRUE(engine) << error;
    auto symbol = engine->lookup(("_mlir_ciface_" + name).str());
    ASSERT_TRUE(bool(symbol)) << llvm::toString(symbol.takeError());
    using Fn =
        void (*)(StridedMemRefType<Out, RO> *, StridedMemRefType<In, RI> *);
    auto fn = reinterpret_cast<Fn>(*symbol);
    StridedMemRefType<In, RI> arg = in.descriptor();
    StridedMemRefType<Out, RO> result;
    fn(&result, &arg);
    for (int i = 0; i < RO; ++i)
      ASSERT_EQ(result.sizes[i], out.shape[i]) << "result dim " << i;
    // Walk the result through its strides into the row-major buffer.
    std::array<int64_t, RO> idx{};
    for (size_t linear = 0; linear < out.data.size(); ++linear) {
      int64_t offset = result.offset;
      for (int i = 0; i < RO; ++i)
        offset += idx[i] * result.strides[i];
      out.data[linear] = result.data[offset];
      for (int i = RO - 1; i >= 0; --i) {
        if (++idx[i] < out.shape[i])
          break;
        idx[i] = 0;
      }
    }
  }

  std::string error;
  int numVpdpbusd = 0;

private:
  std::unique_ptr<MLIRContext> context;
  OwningOpRef<ModuleOp> module;
  std::unique_ptr<ExecutionEngine> engine;
};

} // namespace qopt_test

#endif // QOPT_TEST_UNITTESTS_INTEGRATION_CPUJIT_H
