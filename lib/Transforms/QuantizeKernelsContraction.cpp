//===- QuantizeKernelsContraction.cpp - Matmul, conv ------------*- C++ -*-===//
//
// The contraction family of qopt-quantize-kernels: a matmul, batch_matmul,
// convolution or depthwise convolution of two dequantized tensors becomes one
// linalg.generic on their storage integers with i32 accumulation, typed by
// `quant.scast` as `!quant.uniform<i32:f32(:axis), s_a*s_w>`; a bias add of
// two such i32 values with equal scales becomes an i32 add. The qcast that
// ends the kernel is turned into qopt.requantize by the output patterns in
// QuantizeKernels.cpp.
//
//===----------------------------------------------------------------------===//

#include "QuantizeKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::kernels;

/// True when the body of `op` is `yield(addf(out, mulf(in0, in1)))`, the
/// float multiply-accumulate of every matmul and convolution.
static bool isMulAccBody(linalg::LinalgOp op) {
  Block *body = op.getBlock();
  if (body->getOperations().size() != 3)
    return false;
  auto add =
      body->getTerminator()->getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add)
    return false;
  Value out = body->getArgument(2);
  Value product = add.getLhs() == out ? add.getRhs() : add.getLhs();
  if ((add.getLhs() != out && add.getRhs() != out) || product == out)
    return false;
  auto mul = product.getDefiningOp<arith::MulFOp>();
  if (!mul)
    return false;
  Value in0 = body->getArgument(0), in1 = body->getArgument(1);
  return (mul.getLhs() == in0 && mul.getRhs() == in1) ||
         (mul.getLhs() == in1 && mul.getRhs() == in0);
}

/// Scales of the product of `lhs` and `rhs` per channel of `channels`
/// (one value when both are per tensor).
static SmallVector<double> productScales(const UniformParams &lhs,
                                         const UniformParams &rhs,
                                         int64_t channels) {
  SmallVector<double> scales;
  for (int64_t c = 0; c < channels; ++c)
    scales.push_back(productScale(lhs.scale(c), rhs.scale(c)));
  return scales;
}

namespace {

/// A contraction of two dequantized tensors accumulates their storage
/// integers (minus zero points) in i32, with the op's own indexing maps and
/// iterators (strides, dilations and transposed operands included):
///   %y = linalg.matmul ins(quant.dcast %a, quant.dcast %w) outs(%zeros)
///   -> %acc = linalg.generic ins(%a_i8, %w_i8) outs(%zeros_i32)
///               { acc + (a - za) * w }
///      %y = quant.dcast (quant.scast %acc : tensor<1x2xi32>
///                        to tensor<1x2x!quant.uniform<i32:f32:1, {...}>>)
/// Per-axis operands must be quantized along a parallel loop that indexes
/// the result (the output channel) and share one zero point. A non-zero
/// init is added in float after the kernel.
struct ContractionToInteger : OpInterfaceRewritePattern<linalg::LinalgOp> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics() || op.getNumDpsInputs() != 2 ||
        op.getNumDpsInits() != 1 || op->getNumResults() != 1 ||
        !isMulAccBody(op))
      return failure();
    auto resultType = dyn_cast<RankedTensorType>(op->getResult(0).getType());
    if (!resultType)
      return failure();
    Type expressed = resultType.getElementType();
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    std::optional<QuantOperand> lhs =
        getQuantOperand(op.getDpsInputOperand(0)->get(), maps[0]);
    std::optional<QuantOperand> rhs =
        getQuantOperand(op.getDpsInputOperand(1)->get(), maps[1]);
    if (!lhs || !rhs || lhs->params.type.getExpressedType() != expressed ||
        rhs->params.type.getExpressedType() != expressed)
      return failure();
    std::optional<int64_t> lhsZp = lhs->params.commonZeroPoint();
    std::optional<int64_t> rhsZp = rhs->params.commonZeroPoint();
    if (!lhsZp || !rhsZp)
      return failure();

    // The accumulator is per channel along the loop that a per-axis operand
    // is quantized on; it must be a parallel loop that the result has.
    FailureOr<std::optional<unsigned>> lhsLoop = lhs->getChannelLoop();
    FailureOr<std::optional<unsigned>> rhsLoop = rhs->getChannelLoop();
    if (failed(lhsLoop) || failed(rhsLoop))
      return failure();
    std::optional<unsigned> loop = *lhsLoop ? *lhsLoop : *rhsLoop;
    if (*lhsLoop && *rhsLoop && **lhsLoop != **rhsLoop)
      return failure();
    SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
    std::optional<int32_t> accAxis;
    int64_t channels = 1;
    if (loop) {
      if (iterators[*loop] != utils::IteratorType::parallel)
        return failure();
      std::optional<unsigned> position =
          maps[2].getResultPosition(getAffineDimExpr(*loop, op.getContext()));
      if (!position)
        return failure();
      accAxis = *position;
      channels = std::max(lhs->params.scales.size(), rhs->params.scales.size());
      if (lhs->params.isPerAxis() && rhs->params.isPerAxis() &&
          lhs->params.scales.size() != rhs->params.scales.size())
        return failure();
    }

    // i32 must hold the sum over the reduction loops.
    std::optional<int64_t> count = 1;
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    for (auto [range, iterator] : llvm::zip(ranges, iterators)) {
      if (iterator != utils::IteratorType::reduction)
        continue;
      if (ShapedType::isDynamic(range))
        count = std::nullopt;
      else if (count)
        *count *= range;
    }
    if (!accumulationFits({&lhs->params, &rhs->params}, count))
      return failure();

    Value init = op.getDpsInitOperand(0)->get();
    std::optional<APFloat> fill = getFillValue(init);
    bool zeroInit = fill && fill->isZero();

    // Rewrite.
    Location loc = op.getLoc();
    auto i32 = rewriter.getI32Type();
    Value lhsInt = getStorage(rewriter, loc, lhs->quantized);
    Value rhsInt = getStorage(rewriter, loc, rhs->quantized);
    Value zeros = createFilledLike(rewriter, loc, init, i32, 0);
    bool lhsSigned = lhs->params.isSigned(), rhsSigned = rhs->params.isSigned();
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType.clone(i32)},
        ValueRange{lhsInt, rhsInt}, ValueRange{zeros},
        ArrayRef<AffineMap>{lhs->map, rhs->map, maps[2]}, iterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value a = extendToI32(b, l, args[0], lhsSigned, *lhsZp);
          Value w = extendToI32(b, l, args[1], rhsSigned, *rhsZp);
          Value product = arith::MulIOp::create(b, l, a, w);
          Value sum = arith::AddIOp::create(b, l, args[2], product);
          linalg::YieldOp::create(b, l, sum);
        });
    copyDiscardableAttrs(op, generic);
    quant::QuantizedType accType = getI32Type(
        expressed, productScales(lhs->params, rhs->params, channels), accAxis);
    Value acc = quant::StorageCastOp::create(
        rewriter, loc, resultType.clone(accType), generic.getResult(0));
    Value result =
        quant::DequantizeCastOp::create(rewriter, loc, resultType, acc);
    if (!zeroInit)
      result = arith::AddFOp::create(rewriter, loc, result, init);

    SmallVector<Value> operands(op->getOperands());
    rewriter.replaceOp(op, result);
    eraseDeadProducers(rewriter, operands);
    return success();
  }
};

/// Adding (or subtracting) two i32 values with the same scale in every
/// channel and zero point 0 is exact in i32: the bias add of a kernel.
///   %s = linalg.generic ins(quant.dcast %acc, quant.dcast %bias) { addf }
///   -> %i = linalg.generic ins(%acc_i32, %bias_i32) { addi }
///      %s = quant.dcast (quant.scast %i to ..x!quant.uniform<i32:f32:1, ..>)
/// A bias whose scale differs from the accumulator's stays a float add.
struct AccumulatorAddToInteger : RewritePattern {
  AccumulatorAddToInteger(MLIRContext *ctx)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    std::optional<ElementwiseBinary> binary = matchElementwiseBinary(op);
    if (!binary || binary->kind == ElementwiseBinary::Mul)
      return failure();
    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    Type expressed = resultType.getElementType();
    std::optional<QuantOperand> lhs =
        getQuantOperand(binary->lhs, binary->lhsMap);
    std::optional<QuantOperand> rhs =
        getQuantOperand(binary->rhs, binary->rhsMap);
    if (!lhs || !rhs)
      return failure();
    for (const QuantOperand *side : {&*lhs, &*rhs})
      if (side->params.storageBits() != 32 ||
          side->params.commonZeroPoint() != 0 ||
          side->params.type.getExpressedType() != expressed)
        return failure();
    // The result takes the parameters of an operand read element by element
    // (the accumulator); the other (the broadcast bias) must match them.
    bool lhsIsMain = lhs->map.isIdentity();
    if (!lhsIsMain && !rhs->map.isIdentity())
      return failure();
    const QuantOperand &main = lhsIsMain ? *lhs : *rhs;
    const QuantOperand &other = lhsIsMain ? *rhs : *lhs;
    FailureOr<std::optional<unsigned>> mainLoop = main.getChannelLoop();
    FailureOr<std::optional<unsigned>> otherLoop = other.getChannelLoop();
    if (failed(mainLoop) || failed(otherLoop))
      return failure();
    if (*mainLoop && *otherLoop &&
        (**mainLoop != **otherLoop ||
         main.params.scales.size() != other.params.scales.size()))
      return failure();
    // Equal scales in every channel. Scales are float32 values
    // (docs/qdq-form.md) and qopt-legalize quantizes a bias with the
    // accumulator's own productScale; an ONNX bias scale written in decimal
    // may differ from it in the double only, so compare as float32.
    size_t channels =
        std::max(main.params.scales.size(), other.params.scales.size());
    for (size_t c = 0; c < channels; ++c)
      if (static_cast<float>(main.params.scale(c)) !=
          static_cast<float>(other.params.scale(c)))
        return failure();
    std::optional<int32_t> axis;
    if (*mainLoop)
      axis = **mainLoop;

    // Rewrite. The output map is the identity: the loop is the result axis.
    Location loc = op->getLoc();
    auto i32 = rewriter.getI32Type();
    Value lhsInt = getStorage(rewriter, loc, lhs->quantized);
    Value rhsInt = getStorage(rewriter, loc, rhs->quantized);
    Value init = createEmptyLike(rewriter, loc, op->getResult(0), i32);
    SmallVector<utils::IteratorType> iterators(binary->numLoops,
                                               utils::IteratorType::parallel);
    AffineMap identity =
        AffineMap::getMultiDimIdentityMap(binary->numLoops, op->getContext());
    bool isAdd = binary->kind == ElementwiseBinary::Add;
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType.clone(i32)},
        ValueRange{lhsInt, rhsInt}, ValueRange{init},
        ArrayRef<AffineMap>{lhs->map, rhs->map, identity}, iterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value v =
              isAdd ? arith::AddIOp::create(b, l, args[0], args[1]).getResult()
                    : arith::SubIOp::create(b, l, args[0], args[1]).getResult();
          linalg::YieldOp::create(b, l, v);
        });
    copyDiscardableAttrs(op, generic);
    quant::QuantizedType sumType =
        getI32Type(expressed, main.params.scales, axis);
    Value sum = quant::StorageCastOp::create(
        rewriter, loc, resultType.clone(sumType), generic.getResult(0));
    Value result =
        quant::DequantizeCastOp::create(rewriter, loc, resultType, sum);

    SmallVector<Value> operands(op->getOperands());
    rewriter.replaceOp(op, result);
    eraseDeadProducers(rewriter, operands);
    return success();
  }
};

} // namespace

void kernels::populateContractionPatterns(RewritePatternSet &patterns) {
  patterns.add<ContractionToInteger, AccumulatorAddToInteger>(
      patterns.getContext());
}
