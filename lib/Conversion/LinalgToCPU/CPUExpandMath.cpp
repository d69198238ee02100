//===- CPUExpandMath.cpp - math ops without an LLVM intrinsic -------------===//
//
// qopt-cpu-expand-math: math.erf (ONNX Erf, the exact form of GELU) has no
// LLVM intrinsic, so convert-math-to-llvm leaves it and qopt-lower-cpu's
// final check refuses the module. This pass rewrites it, on f32 scalars and
// vectors, into upstream MLIR's polynomial approximation (arith and
// math.fma), which the LLVM conversions then lower and which stays
// vectorized.
//
//===----------------------------------------------------------------------===//

#include "qopt/Conversion/Passes.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_CPUEXPANDMATH
#include "qopt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {
struct CPUExpandMathPass
    : public qopt::impl::CPUExpandMathBase<CPUExpandMathPass> {
  void runOnOperation() override;
};
} // namespace

void CPUExpandMathPass::runOnOperation() {
  unsigned before = 0;
  getOperation().walk([&](math::ErfOp) { ++before; });
  if (before == 0)
    return;
  RewritePatternSet patterns(&getContext());
  populatePolynomialApproximateErfPattern(patterns);
  if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
    return signalPassFailure();
  unsigned after = 0;
  getOperation().walk([&](math::ErfOp) { ++after; });
  numExpanded += before - after;
}
