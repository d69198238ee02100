//===- FoldRequant.cpp - one requantization per edge ------------*- C++ -*-===//
//
// qopt-fold-requant: after qopt-quantize-kernels the integer program still
// holds dequantize/quantize pairs between ops, requantize chains, and zero
// point subtractions inside kernel inner loops. These patterns turn each edge
// into at most one qopt.requantize and move activation zero points out of the
// kernels into their accumulator constants. Every default rewrite keeps every
// result bit; merging chains that round is opt-in.
//
//===----------------------------------------------------------------------===//

#include "QuantizeKernels.h"

#include "qopt/Dialect/QOpt/IR/QOptOps.h"
#include "qopt/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <atomic>

namespace mlir::qopt {
#define GEN_PASS_DEF_FOLDREQUANT
#include "qopt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {
/// Counts shared by the patterns; mirrored into the pass statistics.
struct FoldCounts {
  std::atomic<int64_t> created{0}, removed{0}, merged{0}, inexact{0}, moved{0},
      zeroPoints{0}, biases{0}, clamps{0};
};

static bool isUniformPerTensorOrAxis(Type type) {
  Type element = getElementTypeOrSelf(type);
  return isa<quant::UniformQuantizedType, quant::UniformQuantizedPerAxisType>(
      element);
}

/// %d = quant.dcast %x : A -> f32;  %q = quant.qcast %d : f32 -> B
///   -> %q = qopt.requantize %x : A to B   (or %x when A == B)
struct DequantQuantToRequantize : OpRewritePattern<quant::QuantizeCastOp> {
  DequantQuantToRequantize(MLIRContext *ctx, FoldCounts &counts)
      : OpRewritePattern(ctx), counts(counts) {}
  LogicalResult matchAndRewrite(quant::QuantizeCastOp op,
                                PatternRewriter &rewriter) const override {
    auto dcast = op.getInput().getDefiningOp<quant::DequantizeCastOp>();
    if (!dcast)
      return failure();
    Value source = dcast.getInput();
    if (source.getType() == op.getType()) {
      rewriter.replaceOp(op, source);
      ++counts.removed;
      return success();
    }
    auto srcQ = dyn_cast<quant::QuantizedType>(getElementTypeOrSelf(source));
    auto dstQ = dyn_cast<quant::QuantizedType>(getElementTypeOrSelf(op));
    if (!srcQ || !dstQ || srcQ.getExpressedType() != dstQ.getExpressedType() ||
        !isUniformPerTensorOrAxis(source.getType()) ||
        !isUniformPerTensorOrAxis(op.getType()))
      return failure();
    rewriter.replaceOpWithNewOp<RequantizeOp>(op, op.getType(), source);
    ++counts.created;
    return success();
  }
  FoldCounts &counts;
};

/// A ReLU, ReLU6 or clamp between a dequantize and a quantize is saturation
/// of the requantize (quantization is monotonic and maps 0.0 to the zero
/// point), so it becomes the requantize's output range:
///   %d = quant.dcast %x : A; %r = relu(%d); %q = quant.qcast %r : B
///   -> %q = qopt.requantize %x : A to B        (B's range already implies it)
///   or qopt.requantize %x : A to B<lo:hi>, then quant.scast back to B
struct ClampToRequantizeRange : OpRewritePattern<quant::QuantizeCastOp> {
  ClampToRequantizeRange(MLIRContext *ctx, FoldCounts &counts)
      : OpRewritePattern(ctx), counts(counts) {}
  LogicalResult matchAndRewrite(quant::QuantizeCastOp op,
                                PatternRewriter &rewriter) const override {
    FailureOr<kernels::OutputPlan> plan = kernels::planOutput(op);
    if (failed(plan) || !plan->hasClamp)
      return failure();
    auto dcast = plan->core.getDefiningOp<quant::DequantizeCastOp>();
    if (!dcast || !isUniformPerTensorOrAxis(dcast.getInput().getType()) ||
        cast<ShapedType>(dcast.getInput().getType()).getShape() !=
            plan->outputType.getShape())
      return failure();
    Value result =
        kernels::buildOutput(rewriter, op.getLoc(), dcast.getInput(), *plan);
    rewriter.replaceOp(op, result);
    ++counts.clamps;
    return success();
  }
  FoldCounts &counts;
};

/// qopt.requantize %x : A to A -> %x.
struct RequantizeIdentity : OpRewritePattern<RequantizeOp> {
  RequantizeIdentity(MLIRContext *ctx, FoldCounts &counts)
      : OpRewritePattern(ctx), counts(counts) {}
  LogicalResult matchAndRewrite(RequantizeOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getInput().getType() != op.getType())
      return failure();
    rewriter.replaceOp(op, op.getInput());
    ++counts.removed;
    return success();
  }
  FoldCounts &counts;
};

/// requantize(requantize(x : A -> B) : B -> C) -> requantize(x : A -> C)
/// when A -> B is exact for every input, or always under
/// fold-inexact-chains (which drops B's rounding and clamping).
struct RequantizeChain : OpRewritePattern<RequantizeOp> {
  RequantizeChain(MLIRContext *ctx, FoldCounts &counts, bool inexact)
      : OpRewritePattern(ctx), counts(counts), inexact(inexact) {}
  LogicalResult matchAndRewrite(RequantizeOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<RequantizeOp>();
    if (!inner)
      return failure();
    Value source = inner.getInput();
    bool exact = isExactRequantization(source.getType(), inner.getType());
    if (!exact) {
      if (!inexact || !isUniformPerTensorOrAxis(source.getType()) ||
          !isUniformPerTensorOrAxis(op.getType()))
        return failure();
      // Per-axis on both ends must agree on the axis to be one requantize.
      auto a = dyn_cast<quant::UniformQuantizedPerAxisType>(
          getElementTypeOrSelf(source));
      auto c = dyn_cast<quant::UniformQuantizedPerAxisType>(
          getElementTypeOrSelf(op));
      if (a && c && a.getQuantizedDimension() != c.getQuantizedDimension())
        return failure();
    }
    if (source.getType() == op.getType())
      rewriter.replaceOp(op, source);
    else
      rewriter.replaceOpWithNewOp<RequantizeOp>(op, op.getType(), source);
    ++(exact ? counts.merged : counts.inexact);
    return success();
  }
  FoldCounts &counts;
  bool inexact;
};

/// Ops that only move storage integers around: the requantize can happen
/// after them as well as before.
static bool isMovableScaleKeeping(Operation *op) {
  return isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp, tensor::ReshapeOp,
             tensor::ExtractSliceOp, linalg::TransposeOp>(op);
}

/// %r = requantize %x : A to B; %i = scast %r : B -> iN; %t = reshape %i;
/// %o = scast %t : iN' -> B   (all per-tensor)
///   -> %j = scast %x : A -> iM; %u = reshape %j; %p = scast %u : iM -> A;
///      %o = requantize %p : A to B
/// so that %o's requantize can merge with the one that consumes it.
struct MoveRequantizePastScaleKeeping : OpRewritePattern<RequantizeOp> {
  MoveRequantizePastScaleKeeping(MLIRContext *ctx, FoldCounts &counts)
      : OpRewritePattern(ctx), counts(counts) {}
  LogicalResult matchAndRewrite(RequantizeOp op,
                                PatternRewriter &rewriter) const override {
    auto srcType = dyn_cast<RankedTensorType>(op.getInput().getType());
    auto dstType = dyn_cast<RankedTensorType>(op.getType());
    if (!srcType || !dstType ||
        !isa<quant::UniformQuantizedType>(srcType.getElementType()) ||
        !isa<quant::UniformQuantizedType>(dstType.getElementType()) ||
        !op->hasOneUse())
      return failure();
    auto toInt = dyn_cast<quant::StorageCastOp>(*op->getUsers().begin());
    if (!toInt || !toInt->hasOneUse())
      return failure();
    Operation *mover = *toInt->getUsers().begin();
    if (!isMovableScaleKeeping(mover) || mover->getNumResults() != 1 ||
        !mover->getResult(0).hasOneUse() ||
        mover->getOperand(0) != toInt.getResult())
      return failure();
    auto back =
        dyn_cast<quant::StorageCastOp>(*mover->getResult(0).getUsers().begin());
    if (!back || back.getType() == nullptr ||
        getElementTypeOrSelf(back.getType()) != dstType.getElementType())
      return failure();
    // Only worth it when the moved requantize then meets another one.
    if (!back->hasOneUse() || !isa<RequantizeOp>(*back->getUsers().begin()))
      return failure();

    auto srcQ = cast<quant::UniformQuantizedType>(srcType.getElementType());
    Type srcStorage =
        rewriter.getIntegerType(srcQ.getStorageTypeIntegralWidth());
    Location loc = op.getLoc();
    rewriter.setInsertionPoint(mover);
    Value ints = quant::StorageCastOp::create(
        rewriter, loc, srcType.clone(srcStorage), op.getInput());
    // Rebuild the mover on the source's storage type.
    IRMapping mapping;
    mapping.map(toInt.getResult(), ints);
    Operation *clone = rewriter.clone(*mover, mapping);
    auto movedType =
        cast<RankedTensorType>(mover->getResult(0).getType()).clone(srcStorage);
    if (auto transpose = dyn_cast<linalg::TransposeOp>(clone)) {
      Value init = tensor::EmptyOp::create(rewriter, loc, movedType.getShape(),
                                           srcStorage);
      transpose.getInitMutable().assign(init);
      // The body's block arguments carry the element type.
      Block &body = transpose.getRegion().front();
      for (BlockArgument arg : body.getArguments())
        arg.setType(srcStorage);
    }
    clone->getResult(0).setType(movedType);
    Value quantized = quant::StorageCastOp::create(
        rewriter, loc, movedType.clone(srcQ), clone->getResult(0));
    Value requant = RequantizeOp::create(
        rewriter, loc, cast<RankedTensorType>(back.getType()), quantized);
    rewriter.replaceOp(back, requant);
    ++counts.moved;
    return success();
  }
  FoldCounts &counts;
};

/// The 1-D i32 constant that a linalg.generic broadcasts into its output
/// (`yield %in` with map (d...) -> (d_c)), and the output dim c.
static std::optional<std::pair<DenseIntElementsAttr, AffineExpr>>
matchBroadcastConstant(Value value) {
  auto generic = value.getDefiningOp<linalg::GenericOp>();
  if (!generic || generic.getNumDpsInputs() != 1 ||
      generic.getNumReductionLoops() != 0)
    return std::nullopt;
  Block &body = generic.getRegion().front();
  if (cast<linalg::YieldOp>(body.getTerminator()).getOperand(0) !=
      body.getArgument(0))
    return std::nullopt;
  DenseIntElementsAttr values;
  if (!matchPattern(generic.getDpsInputOperand(0)->get(), m_Constant(&values)))
    return std::nullopt;
  SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
  if (!maps[1].isIdentity() || maps[0].getNumResults() != 1 ||
      !isa<AffineDimExpr>(maps[0].getResult(0)))
    return std::nullopt;
  return std::make_pair(values, maps[0].getResult(0));
}

/// Which operand of `mul` is `(ext(in) - za)` and which is the other factor.
struct ZeroPointMatch {
  Operation *sub; // arith.subi (ext(in0), za)
  int64_t zeroPoint;
  Value otherFactor; // ext(in1) or ext(in1) - zw
};

/// In a contraction kernel body
///   %a = ext(%in0) ; %s = subi %a, za ; %p = muli %s, W' ; %acc = addi %out,
///   %p
/// returns the subi and za, when the accumulation is exactly that.
static std::optional<ZeroPointMatch> matchZeroPointBody(linalg::GenericOp op) {
  Block &body = op.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getOperand(0).getDefiningOp<arith::AddIOp>();
  if (!add)
    return std::nullopt;
  Value acc = body.getArgument(2), product;
  if (add.getLhs() == acc)
    product = add.getRhs();
  else if (add.getRhs() == acc)
    product = add.getLhs();
  else
    return std::nullopt;
  auto mul = product.getDefiningOp<arith::MulIOp>();
  if (!mul)
    return std::nullopt;
  for (int side = 0; side < 2; ++side) {
    Value lhs = mul->getOperand(side), rhs = mul->getOperand(1 - side);
    auto sub = lhs.getDefiningOp<arith::SubIOp>();
    if (!sub)
      continue;
    Operation *ext = sub.getLhs().getDefiningOp();
    if (!isa_and_nonnull<arith::ExtSIOp, arith::ExtUIOp>(ext) ||
        ext->getOperand(0) != body.getArgument(0))
      continue;
    IntegerAttr za;
    if (!matchPattern(sub.getRhs(), m_Constant(&za)))
      continue;
    // The other factor must depend on the weight only.
    Operation *otherDef = rhs.getDefiningOp();
    bool fromWeight = false;
    if (isa_and_nonnull<arith::ExtSIOp, arith::ExtUIOp>(otherDef))
      fromWeight = otherDef->getOperand(0) == body.getArgument(1);
    else if (auto wsub = dyn_cast_or_null<arith::SubIOp>(otherDef)) {
      Operation *wext = wsub.getLhs().getDefiningOp();
      IntegerAttr zw;
      fromWeight = isa_and_nonnull<arith::ExtSIOp, arith::ExtUIOp>(wext) &&
                   wext->getOperand(0) == body.getArgument(1) &&
                   matchPattern(wsub.getRhs(), m_Constant(&zw));
    }
    if (!fromWeight)
      continue;
    return ZeroPointMatch{sub, za.getInt(), rhs};
  }
  return std::nullopt;
}

/// Evaluates the weight factor of the body (ext(w) or ext(w) - zw) for one
/// storage value.
static int64_t weightFactor(Value factor, int64_t w) {
  Operation *def = factor.getDefiningOp();
  if (auto sub = dyn_cast<arith::SubIOp>(def)) {
    IntegerAttr zw;
    matchPattern(sub.getRhs(), m_Constant(&zw));
    return weightFactor(sub.getLhs(), w) - zw.getInt();
  }
  return w; // the ext's value; `w` is already read with its signedness
}

/// sum((a - za) * w') over a contraction with constant weights equals
/// sum(a * w') - za * sum(w'), and the second term depends only on the output
/// channel: it becomes the accumulator's initial value.
///   linalg.generic ins(%a, %W) outs(fill(0)) { (ext a - za) * w' + acc }
///   -> linalg.generic ins(%a, %W) outs(broadcast(-za * colsum(W'))) { ext a *
///   w' + acc }
struct FoldActivationZeroPoint : OpRewritePattern<linalg::GenericOp> {
  FoldActivationZeroPoint(MLIRContext *ctx, FoldCounts &counts)
      : OpRewritePattern(ctx), counts(counts) {}
  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
        op.getNumReductionLoops() == 0)
      return failure();
    auto outType = dyn_cast<RankedTensorType>(op.getResult(0).getType());
    if (!outType || !outType.getElementType().isInteger(32) ||
        !outType.hasStaticShape())
      return failure();
    // The accumulator starts at zero, or at a constant broadcast along one
    // output dimension (a bias folded there already).
    Value oldInit = op.getDpsInitOperand(0)->get();
    std::optional<std::pair<DenseIntElementsAttr, AffineExpr>> initBroadcast;
    if (auto fill = oldInit.getDefiningOp<linalg::FillOp>()) {
      IntegerAttr fillValue;
      if (!matchPattern(fill.value(), m_Constant(&fillValue)) ||
          fillValue.getInt() != 0)
        return failure();
    } else {
      initBroadcast = matchBroadcastConstant(oldInit);
      if (!initBroadcast)
        return failure();
    }
    DenseIntElementsAttr weights;
    if (!matchPattern(op.getDpsInputOperand(1)->get(), m_Constant(&weights)))
      return failure();
    std::optional<ZeroPointMatch> match = matchZeroPointBody(op);
    if (!match || match->zeroPoint == 0)
      return failure();

    // Which kernel loops index the weight, and which of them are parallel
    // (the channel dims the correction depends on).
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    AffineMap wMap = maps[1], outMap = maps[2];
    SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
    auto wType = cast<RankedTensorType>(weights.getType());
    SmallVector<int64_t> keepPos;     // weight dims that are parallel loops
    SmallVector<AffineExpr> outExprs; // those loops as output dims
    for (auto [pos, expr] : llvm::enumerate(wMap.getResults())) {
      auto dim = dyn_cast<AffineDimExpr>(expr);
      if (!dim)
        return failure();
      if (iterators[dim.getPosition()] != utils::IteratorType::parallel)
        continue;
      std::optional<unsigned> outPos = outMap.getResultPosition(dim);
      if (!outPos)
        return failure();
      keepPos.push_back(pos);
      outExprs.push_back(rewriter.getAffineDimExpr(*outPos));
    }
    if (!outMap.isProjectedPermutation())
      return failure();
    // Every reduction loop must index the weight: one outside it would add
    // each weight several times.
    for (unsigned loop = 0; loop < op.getNumLoops(); ++loop)
      if (iterators[loop] == utils::IteratorType::reduction &&
          !wMap.isFunctionOfDim(loop))
        return failure();

    // corr[k] = -za * sum over the other weight dims of w'.
    SmallVector<int64_t> corrShape;
    for (int64_t pos : keepPos)
      corrShape.push_back(wType.getDimSize(pos));
    int64_t corrSize = 1;
    for (int64_t d : corrShape)
      corrSize *= d;
    std::vector<int64_t> sums(corrSize, 0);
    Operation *weightExt = match->otherFactor.getDefiningOp();
    if (auto wsub = dyn_cast<arith::SubIOp>(weightExt))
      weightExt = wsub.getLhs().getDefiningOp();
    bool isSigned = isa<arith::ExtSIOp>(weightExt);
    ArrayRef<int64_t> wShape = wType.getShape();
    int64_t rank = wShape.size();
    SmallVector<int64_t> coords(rank, 0);
    for (APInt value : weights.getValues<APInt>()) {
      int64_t w = isSigned ? value.getSExtValue() : value.getZExtValue();
      int64_t key = 0;
      for (int64_t pos : keepPos)
        key = key * wShape[pos] + coords[pos];
      sums[key] += weightFactor(match->otherFactor, w);
      for (int64_t d = rank - 1; d >= 0; --d) {
        if (++coords[d] < wShape[d])
          break;
        coords[d] = 0;
      }
    }
    SmallVector<APInt> corr;
    for (int64_t s : sums) {
      int64_t v = -match->zeroPoint * s;
      if (v < INT32_MIN || v > INT32_MAX)
        return failure(); // keep the subtraction rather than overflow
      corr.push_back(APInt(32, v, /*isSigned=*/true));
    }
    if (initBroadcast) {
      // Add the existing initial values (i32 wraps, as the adds it replaces).
      if (outExprs.size() != 1 || outExprs.front() != initBroadcast->second ||
          initBroadcast->first.getNumElements() !=
              static_cast<int64_t>(corr.size()))
        return failure();
      for (auto [c, b] :
           llvm::zip(corr, initBroadcast->first.getValues<APInt>()))
        c += b;
    }

    Location loc = op.getLoc();
    auto i32 = rewriter.getI32Type();
    Value corrConst = arith::ConstantOp::create(
        rewriter, loc,
        DenseElementsAttr::get(RankedTensorType::get(corrShape, i32), corr));
    Value empty =
        tensor::EmptyOp::create(rewriter, loc, outType.getShape(), i32);
    unsigned outRank = outType.getRank();
    AffineMap corrMap =
        AffineMap::get(outRank, 0, outExprs, rewriter.getContext());
    SmallVector<utils::IteratorType> initIterators(
        outRank, utils::IteratorType::parallel);
    auto init = linalg::GenericOp::create(
        rewriter, loc, TypeRange{outType}, ValueRange{corrConst},
        ValueRange{empty},
        ArrayRef<AffineMap>{corrMap, rewriter.getMultiDimIdentityMap(outRank)},
        initIterators, [](OpBuilder &b, Location l, ValueRange args) {
          linalg::YieldOp::create(b, l, args[0]);
        });
    rewriter.modifyOpInPlace(op, [&] {
      op.getDpsInitOperand(0)->set(init.getResult(0));
      match->sub->getResult(0).replaceAllUsesWith(match->sub->getOperand(0));
    });
    rewriter.eraseOp(match->sub);
    ++counts.zeroPoints;
    return success();
  }
  FoldCounts &counts;
};

/// An i32 bias added after an integer contraction joins the accumulator's
/// initial value (two's complement addition is associative, so no bit
/// changes):
///   %acc = linalg.generic {reduction} ins(...) outs(broadcast(C) or fill(0))
///   %out = linalg.generic ins(%acc, %B) { addi }   // %B broadcast along c
///   -> %acc' = linalg.generic {reduction} ins(...) outs(broadcast(C + B))
struct FoldBiasIntoAccumulator : OpRewritePattern<linalg::GenericOp> {
  FoldBiasIntoAccumulator(MLIRContext *ctx, FoldCounts &counts)
      : OpRewritePattern(ctx), counts(counts) {}
  LogicalResult matchAndRewrite(linalg::GenericOp add,
                                PatternRewriter &rewriter) const override {
    if (add.getNumDpsInputs() != 2 || add.getNumReductionLoops() != 0)
      return failure();
    Block &body = add.getRegion().front();
    auto addi = dyn_cast_or_null<arith::AddIOp>(
        cast<linalg::YieldOp>(body.getTerminator())
            .getOperand(0)
            .getDefiningOp());
    if (!addi || body.getOperations().size() != 2 ||
        !((addi.getLhs() == body.getArgument(0) &&
           addi.getRhs() == body.getArgument(1)) ||
          (addi.getLhs() == body.getArgument(1) &&
           addi.getRhs() == body.getArgument(0))))
      return failure();
    SmallVector<AffineMap> addMaps = add.getIndexingMapsArray();
    for (unsigned accIndex : {0u, 1u}) {
      unsigned biasIndex = 1 - accIndex;
      Value acc = add.getDpsInputOperand(accIndex)->get();
      auto kernel = acc.getDefiningOp<linalg::GenericOp>();
      DenseIntElementsAttr bias;
      if (!kernel || !acc.hasOneUse() || kernel.getNumReductionLoops() == 0 ||
          kernel.getNumDpsInits() != 1 ||
          !matchPattern(add.getDpsInputOperand(biasIndex)->get(),
                        m_Constant(&bias)) ||
          !addMaps[accIndex].isIdentity() || !addMaps[2].isIdentity() ||
          addMaps[biasIndex].getNumResults() != 1 ||
          !bias.getElementType().isInteger(32) || bias.getType().getRank() != 1)
        continue;
      auto accType = cast<RankedTensorType>(acc.getType());
      if (!accType.getElementType().isInteger(32) ||
          add.getResult(0).getType() != accType)
        continue;
      AffineExpr biasDim = addMaps[biasIndex].getResult(0);
      Value init = kernel.getDpsInitOperand(0)->get();
      SmallVector<APInt> sum;
      if (auto fill = init.getDefiningOp<linalg::FillOp>()) {
        IntegerAttr zero;
        if (!matchPattern(fill.value(), m_Constant(&zero)) ||
            zero.getInt() != 0)
          continue;
        for (APInt b : bias.getValues<APInt>())
          sum.push_back(b);
      } else if (auto bcast = matchBroadcastConstant(init)) {
        if (bcast->second != biasDim ||
            bcast->first.getNumElements() != bias.getNumElements())
          continue;
        for (auto [c, b] : llvm::zip(bcast->first.getValues<APInt>(),
                                     bias.getValues<APInt>()))
          sum.push_back(c + b); // wraps like the i32 adds it replaces
      } else {
        continue;
      }
      Location loc = add.getLoc();
      rewriter.setInsertionPoint(kernel);
      Value combined = arith::ConstantOp::create(
          rewriter, loc, DenseElementsAttr::get(bias.getType(), sum));
      Value empty = tensor::EmptyOp::create(rewriter, loc, accType.getShape(),
                                            accType.getElementType());
      unsigned rank = accType.getRank();
      auto newInit = linalg::GenericOp::create(
          rewriter, loc, TypeRange{accType}, ValueRange{combined},
          ValueRange{empty},
          ArrayRef<AffineMap>{AffineMap::get(rank, 0, biasDim),
                              rewriter.getMultiDimIdentityMap(rank)},
          SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
          [](OpBuilder &b, Location l, ValueRange args) {
            linalg::YieldOp::create(b, l, args[0]);
          });
      rewriter.modifyOpInPlace(kernel, [&] {
        kernel.getDpsInitOperand(0)->set(newInit.getResult(0));
      });
      rewriter.replaceOp(add, kernel.getResult(0));
      ++counts.biases;
      return success();
    }
    return failure();
  }
  FoldCounts &counts;
};

class FoldRequantPass : public qopt::impl::FoldRequantBase<FoldRequantPass> {
public:
  using Base::Base;
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    FoldCounts counts;
    RewritePatternSet patterns(ctx);
    patterns.add<DequantQuantToRequantize, RequantizeIdentity,
                 MoveRequantizePastScaleKeeping, FoldActivationZeroPoint,
                 FoldBiasIntoAccumulator, ClampToRequantizeRange>(ctx, counts);
    patterns.add<RequantizeChain>(ctx, counts, foldInexactChains);
    // No folders: upstream's quant.dcast folder erases dcast(qcast(x)) pairs,
    // which are rounding steps of float islands.
    GreedyRewriteConfig config;
    config.enableFolding(false);
    if (failed(
            applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      return signalPassFailure();
    numCreated = counts.created;
    numRemoved = counts.removed;
    numMerged = counts.merged;
    numInexactMerged = counts.inexact;
    numMoved = counts.moved;
    numZeroPointFolds = counts.zeroPoints;
    numBiasFolds = counts.biases;
    numClamps = counts.clamps;
    if (report)
      emitRemark(getOperation().getLoc())
          << "qopt-fold-requant: " << counts.created.load()
          << " requantizes created, " << counts.removed.load() << " removed, "
          << counts.merged.load() << " exact chains merged, "
          << counts.inexact.load() << " inexact chains merged, "
          << counts.moved.load() << " moved, " << counts.zeroPoints.load()
          << " zero points folded, " << counts.biases.load()
          << " biases folded, " << counts.clamps.load() << " clamps fused";
  }
};
} // namespace
