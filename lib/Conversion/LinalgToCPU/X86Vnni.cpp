//===- X86Vnni.cpp - u8 x s8 contractions to vpdpbusd ---------------------===//
//
// qopt-x86-vnni: instruction selection for AVX-512 VNNI. Upstream MLIR has
// no vpdpbusd op (x86vector only offers vpdpbssd, which Zen 4/5 and
// Sapphire Rapids cannot run) and LLVM only matches vpdpbusd on full
// add-reductions, so the dot-product step that qopt-cpu-gemm emits is
// turned into the intrinsic call here, on functions whose target has the
// instruction.
//
//===----------------------------------------------------------------------===//

#include "CPUTarget.h"
#include "DotStep.h"
#include "qopt/Conversion/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_X86VNNI
#include "qopt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

/// Matches the VNNI step and rewrites it:
///
///   %w32 = arith.extsi %w : vector<16x4xi8> to vector<16x4xi32>
///   %x32 = arith.extui %x : vector<4xi8> to vector<4xi32>
///   %r = vector.contract {(n,k)->(n,k), (n,k)->(k), (n,k)->(n)} %w32, %x32,
///   %acc
/// becomes
///   %r = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%acc, bcast(%x),
///   %w)
static LogicalResult rewriteContract(RewriterBase &rewriter,
                                     vector::ContractionOp op) {
  std::optional<DotStepOperands> step = matchDotStep<arith::ExtUIOp>(op);
  if (!step)
    return failure();
  Value weights = step->weights, act = step->activations;

  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  Type i8 = rewriter.getI8Type(), i32 = rewriter.getI32Type();
  auto bytes64 = VectorType::get({64}, i8);
  Value w64 = weights;
  if (auto cast = weights.getDefiningOp<vector::ShapeCastOp>();
      cast && cast.getSource().getType() == bytes64)
    w64 = cast.getSource();
  else
    w64 = vector::ShapeCastOp::create(rewriter, loc, bytes64, weights);
  // The four activation bytes, as one i32, in every lane.
  Value word =
      vector::BitCastOp::create(rewriter, loc, VectorType::get({1}, i32), act);
  Value scalar = vector::ExtractOp::create(rewriter, loc, word, 0);
  Value splat = vector::BroadcastOp::create(rewriter, loc,
                                            VectorType::get({16}, i32), scalar);
  Value a64 = vector::BitCastOp::create(rewriter, loc, bytes64, splat);
  auto call = LLVM::CallIntrinsicOp::create(
      rewriter, loc, op.getAcc().getType(),
      rewriter.getStringAttr("llvm.x86.avx512.vpdpbusd.512"),
      ValueRange{op.getAcc(), a64, w64});
  rewriter.replaceOp(op, call.getResults());
  return success();
}

/// Matches the lane-wise step (matchLaneDotStep) and rewrites it into
/// vpdpbusd with both byte operands as they are.
static LogicalResult rewriteLaneContract(RewriterBase &rewriter,
                                         vector::ContractionOp op) {
  std::optional<LaneDotStepOperands> step = matchLaneDotStep(op);
  if (!step)
    return failure();
  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  auto bytes64 = VectorType::get({64}, rewriter.getI8Type());
  auto flat = [&](Value v) -> Value {
    if (auto cast = v.getDefiningOp<vector::ShapeCastOp>();
        cast && cast.getSource().getType() == bytes64)
      return cast.getSource();
    return vector::ShapeCastOp::create(rewriter, loc, bytes64, v);
  };
  auto call = LLVM::CallIntrinsicOp::create(
      rewriter, loc, op.getAcc().getType(),
      rewriter.getStringAttr("llvm.x86.avx512.vpdpbusd.512"),
      ValueRange{op.getAcc(), flat(step->unsignedBytes),
                 flat(step->signedBytes)});
  rewriter.replaceOp(op, call.getResults());
  return success();
}

struct X86VnniPass : public qopt::impl::X86VnniBase<X86VnniPass> {
  void runOnOperation() override;
};

} // namespace

void X86VnniPass::runOnOperation() {
  func::FuncOp func = getOperation();
  CPUFeatureQuery query;
  // vpdpbusd on zmm needs AVX512-VNNI; its byte operands need AVX512BW.
  if (!query.hasFeatures(func, {"avx512vnni", "avx512bw", "avx512f"}))
    return;
  IRRewriter rewriter(func.getContext());
  SmallVector<vector::ContractionOp> contracts;
  func.walk([&](vector::ContractionOp op) { contracts.push_back(op); });
  for (vector::ContractionOp op : contracts)
    if (succeeded(rewriteContract(rewriter, op)) ||
        succeeded(rewriteLaneContract(rewriter, op)))
      ++numVnni;
}
