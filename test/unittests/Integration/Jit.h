//===- Jit.h - compile and run test modules ---------------------*- C++ -*-===//
//
// Test support for the integration tests: lowers a module of tensor functions
// with a qopt pipeline and upstream's LLVM lowering, JIT-compiles it, and
// calls functions that read one memref and write another.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_TEST_UNITTESTS_INTEGRATION_JIT_H
#define QOPT_TEST_UNITTESTS_INTEGRATION_JIT_H

#include "qopt/InitAll.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/TargetSelect.h"

#include "gtest/gtest.h"

namespace qopt_test {
using namespace mlir;

/// Native target and pass registration, once per process.
inline void initializeJit() {
  static bool initialized = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    registerAllPasses();
    qopt::registerAllPasses();
    return true;
  }();
  (void)initialized;
}

/// A context with every dialect, extension and LLVM IR translation the
/// lowered modules need.
inline std::unique_ptr<MLIRContext> createJitContext() {
  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerAllToLLVMIRTranslations(registry);
  qopt::registerAllDialects(registry);
  return std::make_unique<MLIRContext>(registry);
}

/// Lowers a module of tensor functions written against memref boundaries and
/// JIT-compiles it once.
class Jit {
public:
  explicit Jit(StringRef source, StringRef qoptPipeline) {
    initializeJit();
    context = createJitContext();
    module = parseSourceString<ModuleOp>(source, context.get());
    if (!module) {
      error = "cannot parse the test module";
      return;
    }
    PassManager pm(context.get());
    std::string pipeline =
        (qoptPipeline +
         ",one-shot-bufferize{bufferize-function-boundaries "
         "function-boundary-type-conversion=identity-layout-map},"
         "convert-linalg-to-loops,convert-scf-to-cf,expand-strided-metadata,"
         "lower-affine,"
         "finalize-memref-to-llvm,convert-math-to-llvm,convert-arith-to-llvm,"
         "convert-cf-to-llvm,convert-func-to-llvm,reconcile-unrealized-casts")
            .str();
    if (failed(parsePassPipeline(pipeline, pm)) || failed(pm.run(*module))) {
      error = "lowering failed";
      return;
    }
    ExecutionEngineOptions options;
    auto created = ExecutionEngine::create(*module, options);
    if (!created) {
      error = llvm::toString(created.takeError());
      return;
    }
    engine = std::move(*created);
  }

  /// Calls `@name(%in: memref<?xIn>, %out: memref<?xOut>)`.
  template <typename In, typename Out>
  void run(StringRef name, std::vector<In> &in, std::vector<Out> &out) {
    ASSERT_TRUE(engine) << error;
    StridedMemRefType<In, 1> inRef{
        in.data(), in.data(), 0, {static_cast<int64_t>(in.size())}, {1}};
    StridedMemRefType<Out, 1> outRef{
        out.data(), out.data(), 0, {static_cast<int64_t>(out.size())}, {1}};
    auto *inPtr = &inRef;
    auto *outPtr = &outRef;
    llvm::Error err = engine->invoke(name, inPtr, outPtr);
    ASSERT_FALSE(bool(err)) << llvm::toString(std::move(err));
  }

  std::string error;

private:
  std::unique_ptr<MLIRContext> context;
  OwningOpRef<ModuleOp> module;
  std::unique_ptr<ExecutionEngine> engine;
};

/// A function that reads `in`, applies `body` (tensor IR from %t to %r), and
/// writes `out`.
inline std::string wrap(StringRef name, StringRef inElt, StringRef outElt,
                        StringRef body) {
  return llvm::formatv(R"mlir(
func.func @{0}(%in: memref<?x{1}>, %out: memref<?x{2}>) attributes {{llvm.emit_c_interface} {{
  %t = bufferization.to_tensor %in restrict : memref<?x{1}> to tensor<?x{1}>
{3}
  bufferization.materialize_in_destination %r in restrict writable %out : (tensor<?x{2}>, memref<?x{2}>) -> ()
  return
}
)mlir",
                       name, inElt, outElt, body)
      .str();
}

} // namespace qopt_test

#endif // QOPT_TEST_UNITTESTS_INTEGRATION_JIT_H
