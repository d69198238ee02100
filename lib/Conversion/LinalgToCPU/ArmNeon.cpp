//===- ArmNeon.cpp - s8 x s8 contractions to NEON sdot / smmla ------------===//
//
// qopt-arm-neon: instruction selection for aarch64's int8 dot products. The
// signed x signed steps that qopt-cpu-gemm emits for aarch64 become
// `arm_neon.intr.sdot` (FEAT_DotProd: four 4-way dot products into i32x4)
// or `arm_neon.intr.smmla` (FEAT_I8MM: a 2x8 by 8x2 block into 2x2 i32),
// on functions whose target has the instruction. Upstream has no
// contraction-to-sdot pattern, so that one is here; the smmla step uses
// upstream's i8mm patterns (arm_neon/Transforms.h). The arm_neon ops are
// LLVM intrinsic ops: they survive the LLVM conversions and the LLVM IR
// translation turns them into `llvm.aarch64.neon.{sdot,smmla}` calls.
//
//===----------------------------------------------------------------------===//

#include "CPUTarget.h"
#include "DotStep.h"
#include "qopt/Conversion/Passes.h"

#include "mlir/Dialect/ArmNeon/ArmNeonDialect.h"
#include "mlir/Dialect/ArmNeon/Transforms.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_ARMNEON
#include "qopt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

/// Matches the sdot step and rewrites it:
///
///   %w32 = arith.extsi %w : vector<16x4xi8> to vector<16x4xi32>
///   %x32 = arith.extsi %x : vector<4xi8> to vector<4xi32>
///   %r = vector.contract {(n,k)->(n,k), (n,k)->(k), (n,k)->(n)} %w32, %x32,
///   %acc
/// becomes, for each quarter q of the 16 lanes,
///   %r_q = arm_neon.intr.sdot %acc[4q:4q+4], %w[16q:16q+16], bcast(%x)
static LogicalResult rewriteSdot(RewriterBase &rewriter,
                                 vector::ContractionOp op) {
  std::optional<DotStepOperands> step = matchDotStep<arith::ExtSIOp>(op);
  if (!step)
    return failure();
  Value weights = step->weights, act = step->activations;

  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  Type i8 = rewriter.getI8Type(), i32 = rewriter.getI32Type();
  auto bytes64 = VectorType::get({64}, i8);
  auto bytes16 = VectorType::get({16}, i8);
  auto lanes4 = VectorType::get({4}, i32);
  Value w64;
  if (auto cast = weights.getDefiningOp<vector::ShapeCastOp>();
      cast && cast.getSource().getType() == bytes64)
    w64 = cast.getSource();
  else
    w64 = vector::ShapeCastOp::create(rewriter, loc, bytes64, weights);
  // The four activation bytes, as one i32, in every lane (sdot's indexed
  // form once LLVM sees the splat).
  Value word =
      vector::BitCastOp::create(rewriter, loc, VectorType::get({1}, i32), act);
  Value scalar = vector::ExtractOp::create(rewriter, loc, word, 0);
  Value splat = vector::BroadcastOp::create(rewriter, loc, lanes4, scalar);
  Value a16 = vector::BitCastOp::create(rewriter, loc, bytes16, splat);
  Value result = op.getAcc();
  for (int64_t q = 0; q < 4; ++q) {
    Value acc = vector::ExtractStridedSliceOp::create(
        rewriter, loc, op.getAcc(), ArrayRef<int64_t>{4 * q},
        ArrayRef<int64_t>{4}, ArrayRef<int64_t>{1});
    Value w = vector::ExtractStridedSliceOp::create(
        rewriter, loc, w64, ArrayRef<int64_t>{16 * q}, ArrayRef<int64_t>{16},
        ArrayRef<int64_t>{1});
    Value dot = arm_neon::SdotOp::create(rewriter, loc, lanes4, acc, w, a16);
    result = vector::InsertStridedSliceOp::create(rewriter, loc, dot, result,
                                                  ArrayRef<int64_t>{4 * q},
                                                  ArrayRef<int64_t>{1});
  }
  rewriter.replaceOp(op, result);
  return success();
}

struct ArmNeonPass : public qopt::impl::ArmNeonBase<ArmNeonPass> {
  void runOnOperation() override;
};

} // namespace

void ArmNeonPass::runOnOperation() {
  func::FuncOp func = getOperation();
  if (!isAArch64Target(func))
    return;
  CPUFeatureQuery query;
  bool hasDot = query.hasFeatures(func, {"neon", "dotprod"});
  bool hasI8mm = query.hasFeatures(func, {"neon", "i8mm"});
  if (!hasDot && !hasI8mm)
    return;
  SmallVector<vector::ContractionOp> contracts;
  func.walk([&](vector::ContractionOp op) { contracts.push_back(op); });
  IRRewriter rewriter(func.getContext());
  SmallVector<Operation *> rest;
  for (vector::ContractionOp op : contracts) {
    if (hasDot && succeeded(rewriteSdot(rewriter, op)))
      ++numSdot;
    else
      rest.push_back(op);
  }
  if (!hasI8mm || rest.empty())
    return;

  // The 2x2x8 blocks (and any other i8mm-shaped contraction) through
  // upstream's patterns, applied to the contractions alone.
  auto countSmmla = [&] {
    int64_t count = 0;
    func.walk([&](arm_neon::SmmlaOp) { ++count; });
    return count;
  };
  int64_t before = countSmmla();
  RewritePatternSet patterns(func.getContext());
  arm_neon::populateLowerContractionToNeonI8MMPatterns(patterns);
  GreedyRewriteConfig config;
  config.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps);
  (void)applyOpPatternsGreedily(rest, std::move(patterns), config);
  numSmmla += countSmmla() - before;
}
