//===- CPUVectorizeElementwise.cpp - vectorize elementwise linalg ---------===//
//
// qopt-cpu-vectorize-elementwise: the elementwise half of qopt-lower-cpu.
// Requantizations, bias adds, activations and dequantizations are
// all-parallel linalg.generic ops after fusion; lowered to scalar loops they
// cost as much as the GEMM they follow (a fixed-point requantization is a
// dozen i64 operations per element). This pass tiles the innermost loop of
// each such op by the target's vector width, or the widest half of it that
// divides the loop (other loops by 1), with scf.for on tensors, and
// vectorizes every (full, static) tile with upstream's linalg vectorizer. The
// arithmetic of the body is kept operation for operation (only widened to
// vectors), so results do not change by a bit. Ops the vectorizer does not take
// stay for the loops.
//
//===----------------------------------------------------------------------===//

#include "qopt/Conversion/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_CPUVECTORIZEELEMENTWISE
#include "qopt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

struct CPUVectorizeElementwisePass
    : public qopt::impl::CPUVectorizeElementwiseBase<
          CPUVectorizeElementwisePass> {
  using CPUVectorizeElementwiseBase::CPUVectorizeElementwiseBase;
  void runOnOperation() override;
};

/// A generic on static tensors whose body is scalar arithmetic and whose
/// innermost loop is parallel: all-parallel (elementwise), or a reduction
/// over outer loops that keeps its innermost dimension (the lane-wise
/// partial min/max of qopt.dynamic_quantize's lowering), which tiles the
/// same way, the reduced loops run one step at a time.
static bool isCandidate(linalg::GenericOp op) {
  if (!op.hasPureTensorSemantics() || op.getNumLoops() == 0 ||
      op.getIteratorTypesArray().back() != utils::IteratorType::parallel)
    return false;
  // A reduction's outputs must be indexed by exactly the parallel loops
  // (the tiled loop carries them), and the innermost must be among them.
  if (op.getNumLoops() != op.getNumParallelLoops())
    for (OpOperand &init : op.getDpsInitsMutable()) {
      AffineMap map = op.getMatchingIndexingMap(&init);
      if (!map.isProjectedPermutation() ||
          !map.isFunctionOfDim(op.getNumLoops() - 1))
        return false;
    }
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (llvm::any_of(ranges, ShapedType::isDynamic))
    return false;
  for (Operation &inner : op.getRegion().front().without_terminator())
    if (inner.getNumRegions() != 0 ||
        !llvm::all_of(inner.getResultTypes(),
                      [](Type t) { return t.isIntOrIndexOrFloat(); }))
      return false;
  return true;
}

} // namespace

void CPUVectorizeElementwisePass::runOnOperation() {
  func::FuncOp func = getOperation();
  if (vectorWidth == 0) {
    func.emitError()
        << "qopt-cpu-vectorize-elementwise: vector-width must be positive";
    return signalPassFailure();
  }
  SmallVector<linalg::GenericOp> candidates;
  func.walk([&](linalg::GenericOp op) {
    if (isCandidate(op))
      candidates.push_back(op);
  });
  IRRewriter rewriter(func.getContext());
  for (linalg::GenericOp op : candidates) {
    // The widest of vector-width, its halves, ... (down to 4) that divides
    // the innermost size: every tile is then full and static, and the
    // vectorizer needs no masks.
    int64_t inner = op.getStaticLoopRanges().back();
    int64_t width = vectorWidth;
    while (width >= 4 && inner % width != 0)
      width /= 2;
    if (width < 4)
      continue;
    unsigned rank = op.getNumLoops();
    SmallVector<OpFoldResult> tileSizes(rank - 1, rewriter.getIndexAttr(1));
    tileSizes.push_back(rewriter.getIndexAttr(width));
    scf::SCFTilingOptions options;
    options.setTileSizes(tileSizes);
    rewriter.setInsertionPoint(op);
    FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
        rewriter, cast<TilingInterface>(op.getOperation()), options);
    if (failed(tiled))
      continue;
    rewriter.replaceOp(op, tiled->replacements);
    for (Operation *tile : tiled->tiledOps) {
      auto generic = dyn_cast<linalg::GenericOp>(tile);
      if (!generic)
        continue;
      rewriter.setInsertionPoint(generic);
      FailureOr<linalg::VectorizationResult> vectorized =
          linalg::vectorize(rewriter, generic);
      if (failed(vectorized))
        continue; // the tile stays a (small) generic for the loops
      rewriter.replaceOp(generic, vectorized->replacements);
      ++numVectorized;
    }
  }
  // The tiles' vectors are 1 x ... x 1 x W: drop the unit dimensions and
  // turn the transfers into plain (1-D) loads, stores and broadcasts, which
  // the LLVM conversion takes; what is left (strided reads of transposed
  // operands) goes through convert-vector-to-scf later in the pipeline.
  // A reduction's tiles reduce unit dimensions only: first make each such
  // vector.multi_reduction the elementwise op it is (the leading-one-dim
  // patterns below loop forever on it in MLIR 22.1.8).
  RewritePatternSet unitReductions(func.getContext());
  vector::MultiDimReductionOp::getCanonicalizationPatterns(unitReductions,
                                                           func.getContext());
  if (failed(applyPatternsGreedily(func, std::move(unitReductions))))
    return signalPassFailure();
  RewritePatternSet patterns(func.getContext());
  vector::populateCastAwayVectorLeadingOneDimPatterns(patterns);
  vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
  vector::populateVectorTransferLoweringPatterns(patterns,
                                                 /*maxTransferRank=*/1);
  vector::populateVectorBroadcastLoweringPatterns(patterns);
  if (failed(applyPatternsGreedily(func, std::move(patterns))))
    return signalPassFailure();
}
