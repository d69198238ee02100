//===- CPUExpandCopies.cpp - strided memref.copy as linalg.copy -----------===//
//
// qopt-cpu-expand-copies: a memref.copy whose source or target is not a
// contiguous buffer becomes linalg.copy, so that the loop lowering emits an
// inner loop LLVM vectorizes instead of the LLVM lowering's call of the
// runtime's element-by-element memrefCopy.
//
//===----------------------------------------------------------------------===//

#include "qopt/Conversion/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Utils/MemRefUtils.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_CPUEXPANDCOPIES
#include "qopt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {
struct CPUExpandCopiesPass
    : public qopt::impl::CPUExpandCopiesBase<CPUExpandCopiesPass> {
  void runOnOperation() override;
};
} // namespace

/// Whether the LLVM lowering copies `type` with llvm.memcpy.
static bool isContiguous(Type type) {
  auto memref = dyn_cast<MemRefType>(type);
  return memref && memref::isStaticShapeAndContiguousRowMajor(memref);
}

void CPUExpandCopiesPass::runOnOperation() {
  SmallVector<memref::CopyOp> copies;
  getOperation().walk([&](memref::CopyOp copy) {
    auto source = dyn_cast<MemRefType>(copy.getSource().getType());
    auto target = dyn_cast<MemRefType>(copy.getTarget().getType());
    // Unranked or dynamically shaped copies keep the runtime's copy.
    if (!source || !target || !source.hasStaticShape() ||
        !target.hasStaticShape() || source.getRank() == 0)
      return;
    if (isContiguous(source) && isContiguous(target))
      return;
    copies.push_back(copy);
  });
  IRRewriter rewriter(&getContext());
  for (memref::CopyOp copy : copies) {
    rewriter.setInsertionPoint(copy);
    linalg::CopyOp::create(rewriter, copy.getLoc(), copy.getSource(),
                           copy.getTarget());
    rewriter.eraseOp(copy);
    ++numExpanded;
  }
}
