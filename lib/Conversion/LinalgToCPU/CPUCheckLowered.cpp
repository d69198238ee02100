//===- CPUCheckLowered.cpp - fail on anything not lowered to LLVM ---------===//
//
// qopt-cpu-check-lowered: the last pass of qopt-lower-cpu. A lowering that
// leaves one op of another dialect behind produces a module that
// mlir-translate rejects far from the cause; this pass names every such op
// at its location instead and fails the compilation. arm_neon's LLVM
// intrinsic ops are the one exception: they translate as they are.
//
//===----------------------------------------------------------------------===//

#include "qopt/Conversion/Passes.h"

#include "mlir/Dialect/ArmNeon/ArmNeonDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_CPUCHECKLOWERED
#include "qopt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {
/// arm_neon's `intr.*` ops (from qopt-arm-neon) are LLVM intrinsic calls
/// kept in their own dialect, whose LLVM IR translation emits them.
static bool isLLVMIntrinsicOp(Operation *op) {
  return isa_and_nonnull<arm_neon::ArmNeonDialect>(op->getDialect()) &&
         op->getName().stripDialect().starts_with("intr.");
}

struct CPUCheckLoweredPass
    : public qopt::impl::CPUCheckLoweredBase<CPUCheckLoweredPass> {
  void runOnOperation() override;
};
} // namespace

void CPUCheckLoweredPass::runOnOperation() {
  ModuleOp module = getOperation();
  bool failedAny = false;
  module->walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (op == module.getOperation() ||
        isa_and_nonnull<LLVM::LLVMDialect>(op->getDialect()) ||
        isLLVMIntrinsicOp(op))
      return WalkResult::advance();
    op->emitError() << "'" << op->getName()
                    << "' was not lowered to the LLVM dialect by "
                       "qopt-lower-cpu; lower it before (or file an issue "
                       "with this op)";
    failedAny = true;
    // Ops nested in an unlowered op are not reported again.
    return WalkResult::skip();
  });
  if (failedAny)
    signalPassFailure();
}
