//===- CPUFuseElementwise.cpp - fusion without recomputation --------------===//
//
// qopt-cpu-fuse-elementwise: upstream's elementwise fusion patterns, with a
// control function that refuses a fusion which would compute an element of
// the producer more than once (a quantization fused into an im2col copy).
//
//===----------------------------------------------------------------------===//

#include "qopt/Conversion/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_CPUFUSEELEMENTWISE
#include "qopt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {
struct CPUFuseElementwisePass
    : public qopt::impl::CPUFuseElementwiseBase<CPUFuseElementwisePass> {
  void runOnOperation() override;
};
} // namespace

/// Points of a linalg op's iteration space; nullopt when a loop is dynamic.
static std::optional<int64_t> iterationPoints(linalg::LinalgOp op) {
  int64_t points = 1;
  for (int64_t size : op.getStaticLoopRanges()) {
    if (ShapedType::isDynamic(size))
      return std::nullopt;
    points *= size;
  }
  return points;
}

/// Whether fusing the producer of `operand` into its owner computes each of
/// the producer's elements once: the consumer's iteration space is no
/// larger than the producer's (with dynamic sizes: the consumer reads the
/// operand through a permutation and has no reduction loops).
static bool fusesWithoutRecomputation(OpOperand *operand) {
  auto consumer = dyn_cast<linalg::LinalgOp>(operand->getOwner());
  auto producer = operand->get().getDefiningOp<linalg::LinalgOp>();
  if (!consumer || !producer)
    return true; // reshapes and constants: nothing is recomputed
  std::optional<int64_t> consumerPoints = iterationPoints(consumer);
  std::optional<int64_t> producerPoints = iterationPoints(producer);
  if (consumerPoints && producerPoints)
    return *consumerPoints <= *producerPoints;
  return consumer.getNumReductionLoops() == 0 &&
         consumer.getMatchingIndexingMap(operand).isPermutation();
}

void CPUFuseElementwisePass::runOnOperation() {
  Operation *op = getOperation();
  MLIRContext *context = op->getContext();
  RewritePatternSet patterns(context);
  linalg::ControlFusionFn control = [this](OpOperand *operand) {
    if (!operand->get().hasOneUse())
      return false;
    if (fusesWithoutRecomputation(operand))
      return true;
    ++numRefused;
    return false;
  };
  linalg::populateElementwiseOpsFusionPatterns(patterns, control);
  linalg::populateFoldReshapeOpsByExpansionPatterns(patterns, control);
  affine::AffineApplyOp::getCanonicalizationPatterns(patterns, context);
  linalg::GenericOp::getCanonicalizationPatterns(patterns, context);
  tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, context);
  tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, context);
  context->getLoadedDialect<linalg::LinalgDialect>()
      ->getCanonicalizationPatterns(patterns);
  linalg::populateConstantFoldLinalgOperations(patterns, control);
  GreedyRewriteConfig config;
  config.setUseTopDownTraversal(true);
  (void)applyPatternsGreedily(op, std::move(patterns), config);
}
