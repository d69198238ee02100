//===- CPUSetTarget.cpp - record the CPU target on the module -------------===//
//
// qopt-cpu-set-target: the first pass of qopt-lower-cpu. It validates the
// target options and writes them as upstream attributes (the module's
// llvm.target_triple, each function's target_cpu / target_features), which
// the instruction-selecting passes query and the LLVM translation carries
// into the LLVM IR, and asks for C interfaces so that every source function
// stays an entry point under its own name. Each public function also records
// its source signature as `qopt.signature` (a TypeAttr of the FunctionType):
// the lowered function's memref descriptors keep only ranks and element
// types, and runners (qopt-run) check .npy shapes against this attribute,
// which func-to-llvm carries onto the llvm.func and its C wrapper.
//
//===----------------------------------------------------------------------===//

#include "CPUTarget.h"
#include "qopt/Conversion/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMAttrs.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_CPUSETTARGET
#include "qopt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

/// The source function type of a public function, kept through lowering.
static constexpr llvm::StringLiteral kSignatureAttrName = "qopt.signature";

namespace {
struct CPUSetTargetPass
    : public qopt::impl::CPUSetTargetBase<CPUSetTargetPass> {
  using CPUSetTargetBase::CPUSetTargetBase;
  void runOnOperation() override;
};
} // namespace

void CPUSetTargetPass::runOnOperation() {
  ModuleOp module = getOperation();
  std::string message;
  FailureOr<CPUTarget> resolved =
      resolveCPUTarget(target, cpu, features, message);
  if (failed(resolved)) {
    module.emitError() << "qopt-lower-cpu: " << message;
    return signalPassFailure();
  }
  MLIRContext *ctx = module.getContext();
  module->setAttr(LLVM::LLVMDialect::getTargetTripleAttrName(),
                  StringAttr::get(ctx, resolved->triple));
  auto cpuAttr = StringAttr::get(ctx, resolved->cpu);
  auto featuresAttr =
      resolved->features.empty()
          ? LLVM::TargetFeaturesAttr()
          : LLVM::TargetFeaturesAttr::get(ctx, resolved->features);
  module.walk([&](func::FuncOp func) {
    if (func.isExternal())
      return;
    func->setAttr("target_cpu", cpuAttr);
    if (featuresAttr)
      func->setAttr("target_features", featuresAttr);
    if (func.isPublic()) {
      func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                    UnitAttr::get(ctx));
      func->setAttr(kSignatureAttrName, TypeAttr::get(func.getFunctionType()));
    }
  });
}
