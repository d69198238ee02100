//===- QuantizeKernelsElementwise.cpp - Eltwise, pool -----------*- C++ -*-===//
//
// The elementwise and pooling family of qopt-quantize-kernels. Each pattern
// starts at the `quant.qcast` that ends a kernel (through an optional
// ReLU/clamp), builds the kernel's integer result as a quantized tensor and
// leaves the requantization to the output side in QuantizeKernels.cpp:
// add/sub rescale both inputs to a common i32 type (TFLite's scheme), mul
// multiplies zero-point-corrected integers, max pooling takes the integer
// max, and sum/average pooling sums in i32 with the division folded into the
// accumulator's scale.
//
// Rounding against the float QDQ simulation: the simulation rounds once, at
// the qcast; the integer form rounds the requantize to the output, and add
// and sub also round each input's rescale to the common scale, whose step is
// at most 2^-19 of the larger input scale (the f32 arithmetic of the
// simulation rounds too). The two can only differ where the value lies that
// close to a rounding boundary of the output, and then by 1 LSB: for i8 add,
// all 65536 input pairs under 40 random scale and zero-point sets (f32
// simulation against exact requantization) differ in 2 of 2.6M outputs, by
// 1 LSB. Mul and pooling compute exact integers and round once.
//
//===----------------------------------------------------------------------===//

#include "QuantizeKernels.h"

#include "qopt/Dialect/QOpt/IR/QOptOps.h"
#include "qopt/Quant/QuantParams.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Matchers.h"

#include <cmath>

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::kernels;

/// The per-tensor parameters of a dequantized operand expressed in
/// `expressed`, if it is one.
static std::optional<QuantOperand>
getPerTensorOperand(Value operand, AffineMap map, Type expressed) {
  std::optional<QuantOperand> q = getQuantOperand(operand, map);
  if (!q || q->params.isPerAxis() ||
      q->params.type.getExpressedType() != expressed)
    return std::nullopt;
  return q;
}

/// A reduction (pooling) whose body folds the first input into the output
/// with one op of type `OpTys`: `yield(op(in0, out))` in either order. The
/// other inputs (the pooling window) are read for their shape only.
template <typename... OpTys>
static linalg::LinalgOp matchPoolingReduction(Value value) {
  auto op = value.getDefiningOp<linalg::LinalgOp>();
  if (!op || !op.hasPureTensorSemantics() || op.getNumDpsInputs() < 1 ||
      op.getNumDpsInits() != 1 || op->getNumResults() != 1)
    return {};
  Block *body = op.getBlock();
  if (body->getOperations().size() != 2)
    return {};
  Operation *combine = body->getTerminator()->getOperand(0).getDefiningOp();
  if (!combine || !isa<OpTys...>(combine))
    return {};
  Value in = body->getArgument(0);
  Value out = body->getArgument(op.getNumDpsInputs());
  if (!((combine->getOperand(0) == in && combine->getOperand(1) == out) ||
        (combine->getOperand(0) == out && combine->getOperand(1) == in)))
    return {};
  return op;
}

/// The number of terms each result of `op` sums: the product of its static
/// reduction loop ranges (none when one is dynamic).
static std::optional<int64_t> getReductionCount(linalg::LinalgOp op) {
  int64_t count = 1;
  for (auto [range, iterator] :
       llvm::zip(op.getStaticLoopRanges(), op.getIteratorTypesArray())) {
    if (iterator != utils::IteratorType::reduction)
      continue;
    if (ShapedType::isDynamic(range))
      return std::nullopt;
    count *= range;
  }
  return count;
}

/// If `value` is `x / c` or `x * c` for a positive float constant `c`
/// (a linalg op of one input, or arith on a tensor and a splat), returns x
/// and sets `factor` to the multiplier's numerator and divisor.
static Value matchScaleByConstant(Value value, double &numerator,
                                  double &divisor) {
  Operation *op = value.getDefiningOp();
  if (!op)
    return {};
  Value input;
  Operation *arith = op;
  std::optional<double> constant;
  if (isa<arith::DivFOp, arith::MulFOp>(op) &&
      isa<RankedTensorType>(op->getResult(0).getType())) {
    for (unsigned i : {1u, 0u}) {
      DenseElementsAttr splat;
      if (matchPattern(op->getOperand(i), m_Constant(&splat)) &&
          splat.isSplat() && (i == 1 || isa<arith::MulFOp>(op))) {
        constant = splat.getSplatValue<APFloat>().convertToDouble();
        input = op->getOperand(1 - i);
        break;
      }
    }
  } else if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op)) {
    if (!linalgOp.hasPureTensorSemantics() || linalgOp.getNumDpsInputs() != 1 ||
        linalgOp.getNumDpsInits() != 1 ||
        linalgOp.getNumParallelLoops() != linalgOp.getNumLoops() ||
        !llvm::all_of(linalgOp.getIndexingMapsArray(),
                      [](AffineMap map) { return map.isIdentity(); }))
      return {};
    Block *body = linalgOp.getBlock();
    arith = body->getTerminator()->getOperand(0).getDefiningOp();
    if (!arith || !isa<arith::DivFOp, arith::MulFOp>(arith) ||
        arith->getBlock() != body)
      return {};
    for (Operation &nested : body->without_terminator())
      if (&nested != arith && !isa<arith::ConstantOp>(nested))
        return {};
    for (unsigned i : {1u, 0u}) {
      FloatAttr attr;
      if (arith->getOperand(1 - i) == body->getArgument(0) &&
          matchPattern(arith->getOperand(i), m_Constant(&attr)) &&
          (i == 1 || isa<arith::MulFOp>(arith))) {
        constant = attr.getValueAsDouble();
        input = linalgOp.getDpsInputOperand(0)->get();
        break;
      }
    }
    if (input && input.getType() != value.getType())
      return {};
  }
  if (!input || !constant || !std::isfinite(*constant) || !(*constant > 0))
    return {};
  numerator = isa<arith::MulFOp>(arith) ? *constant : 1.0;
  divisor = isa<arith::DivFOp>(arith) ? *constant : 1.0;
  return input;
}

namespace {

/// Add/sub of two dequantized tensors (TFLite's scheme): both are
/// requantized to one i32 type with scale 2 * max(s_a, s_b) / 2^20 (2^15
/// for 16-bit inputs), then added as integers:
///   %s = linalg.add ins(quant.dcast %a, quant.dcast %b) ...
///   %q = quant.qcast %s : ... to !out
///   -> %s = linalg.generic ins(requantize %a to !i32, requantize %b to !i32)
///             { addi }
///      %q = qopt.requantize (quant.scast %s to !i32) to !out
/// The rescaled inputs stay below 2^28 (2^30 for 16 bits): the sum fits.
struct AddSubToInteger : KernelOutputPattern {
  using KernelOutputPattern::KernelOutputPattern;

  FailureOr<Value> rewriteCore(const OutputPlan &plan,
                               PatternRewriter &rewriter) const override {
    Operation *op = plan.core.getDefiningOp();
    std::optional<ElementwiseBinary> binary =
        op ? matchElementwiseBinary(op) : std::nullopt;
    if (!binary || binary->kind == ElementwiseBinary::Mul)
      return failure();
    auto resultType = cast<RankedTensorType>(plan.core.getType());
    Type expressed = resultType.getElementType();
    std::optional<QuantOperand> lhs =
        getQuantOperand(binary->lhs, binary->lhsMap);
    std::optional<QuantOperand> rhs =
        getQuantOperand(binary->rhs, binary->rhsMap);
    if (!lhs || !rhs)
      return failure();
    unsigned bits = 0;
    double maxScale = 0;
    for (const QuantOperand *side : {&*lhs, &*rhs}) {
      if (side->params.type.getExpressedType() != expressed)
        return failure();
      bits = std::max(bits, side->params.storageBits());
      for (double scale : side->params.scales)
        maxScale = std::max(maxScale, scale);
    }
    if (bits > 16)
      return failure(); // i32 + i32 is the bias add's business
    int shift = bits <= 8 ? 20 : 15;
    quant::QuantizedType common = getI32Type(
        expressed, {std::ldexp(2.0 * maxScale, -shift)}, std::nullopt);

    Location loc = op->getLoc();
    SmallVector<Value> ints;
    for (const QuantOperand *side : {&*lhs, &*rhs}) {
      auto type = cast<RankedTensorType>(side->quantized.getType());
      Value rescaled = RequantizeOp::create(rewriter, loc, type.clone(common),
                                            side->quantized);
      ints.push_back(getStorage(rewriter, loc, rescaled));
    }
    auto i32 = rewriter.getI32Type();
    Value init = createEmptyLike(rewriter, loc, plan.core, i32);
    AffineMap identity =
        AffineMap::getMultiDimIdentityMap(binary->numLoops, op->getContext());
    bool isAdd = binary->kind == ElementwiseBinary::Add;
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType.clone(i32)}, ints, ValueRange{init},
        ArrayRef<AffineMap>{lhs->map, rhs->map, identity},
        SmallVector<utils::IteratorType>(binary->numLoops,
                                         utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value v =
              isAdd ? arith::AddIOp::create(b, l, args[0], args[1]).getResult()
                    : arith::SubIOp::create(b, l, args[0], args[1]).getResult();
          linalg::YieldOp::create(b, l, v);
        });
    copyDiscardableAttrs(op, generic);
    return quant::StorageCastOp::create(rewriter, loc, resultType.clone(common),
                                        generic.getResult(0))
        .getResult();
  }
};

/// Mul of two dequantized per-tensor tensors: (a - za) * (b - zb) in i32,
/// whose scale is s_a * s_b (productScale):
///   %p = linalg.mul ins(quant.dcast %a, quant.dcast %b) ...
///   %q = quant.qcast %p : ... to !out
///   -> %p = linalg.generic ins(%a_i8, %b_i8) { (a - za) * (b - zb) }
///      %q = qopt.requantize (quant.scast %p to !quant.uniform<i32:f32, sa*sb>)
///           to !out
struct MulToInteger : KernelOutputPattern {
  using KernelOutputPattern::KernelOutputPattern;

  FailureOr<Value> rewriteCore(const OutputPlan &plan,
                               PatternRewriter &rewriter) const override {
    Operation *op = plan.core.getDefiningOp();
    std::optional<ElementwiseBinary> binary =
        op ? matchElementwiseBinary(op) : std::nullopt;
    if (!binary || binary->kind != ElementwiseBinary::Mul)
      return failure();
    auto resultType = cast<RankedTensorType>(plan.core.getType());
    Type expressed = resultType.getElementType();
    std::optional<QuantOperand> lhs =
        getPerTensorOperand(binary->lhs, binary->lhsMap, expressed);
    std::optional<QuantOperand> rhs =
        getPerTensorOperand(binary->rhs, binary->rhsMap, expressed);
    if (!lhs || !rhs || !accumulationFits({&lhs->params, &rhs->params}, 1))
      return failure();

    Location loc = op->getLoc();
    auto i32 = rewriter.getI32Type();
    Value lhsInt = getStorage(rewriter, loc, lhs->quantized);
    Value rhsInt = getStorage(rewriter, loc, rhs->quantized);
    Value init = createEmptyLike(rewriter, loc, plan.core, i32);
    AffineMap identity =
        AffineMap::getMultiDimIdentityMap(binary->numLoops, op->getContext());
    bool lhsSigned = lhs->params.isSigned(), rhsSigned = rhs->params.isSigned();
    int64_t lhsZp = lhs->params.zeroPoints[0],
            rhsZp = rhs->params.zeroPoints[0];
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType.clone(i32)},
        ValueRange{lhsInt, rhsInt}, ValueRange{init},
        ArrayRef<AffineMap>{lhs->map, rhs->map, identity},
        SmallVector<utils::IteratorType>(binary->numLoops,
                                         utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value a = extendToI32(b, l, args[0], lhsSigned, lhsZp);
          Value c = extendToI32(b, l, args[1], rhsSigned, rhsZp);
          linalg::YieldOp::create(
              b, l, arith::MulIOp::create(b, l, a, c).getResult());
        });
    copyDiscardableAttrs(op, generic);
    quant::QuantizedType productType = getI32Type(
        expressed, {productScale(lhs->params.scales[0], rhs->params.scales[0])},
        std::nullopt);
    return quant::StorageCastOp::create(rewriter, loc,
                                        resultType.clone(productType),
                                        generic.getResult(0))
        .getResult();
  }
};

/// Max pooling (any max reduction) of a dequantized tensor is the integer
/// max in the input's type, since dequantization is increasing:
///   %m = linalg.pooling_nhwc_max ins(quant.dcast %x, %w) outs(-inf fill)
///   -> %m = linalg.generic ins(%x_i8, %w) outs(-128 fill) { maxsi }
/// The init must be -inf (or below the type's range) or a value the type
/// represents exactly (0.0: the zero point).
struct MaxPoolToInteger : KernelOutputPattern {
  using KernelOutputPattern::KernelOutputPattern;

  FailureOr<Value> rewriteCore(const OutputPlan &plan,
                               PatternRewriter &rewriter) const override {
    linalg::LinalgOp op =
        matchPoolingReduction<arith::MaximumFOp, arith::MaxNumFOp>(plan.core);
    if (!op)
      return failure();
    auto resultType = cast<RankedTensorType>(plan.core.getType());
    Type expressed = resultType.getElementType();
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    std::optional<QuantOperand> input = getPerTensorOperand(
        op.getDpsInputOperand(0)->get(), maps[0], expressed);
    Value init = op.getDpsInitOperand(0)->get();
    std::optional<APFloat> fill = getFillValue(init);
    if (!input || !fill)
      return failure();

    auto qtype = cast<quant::UniformQuantizedType>(input->params.type);
    int64_t qmin = qtype.getStorageTypeMin(), qmax = qtype.getStorageTypeMax();
    int64_t zp = qtype.getZeroPoint();
    auto scale = static_cast<float>(qtype.getScale());
    float initValue = fill->convertToFloat();
    int64_t qinit;
    if (initValue <= scale * static_cast<float>(qmin - zp)) {
      qinit = qmin; // never larger than a dequantized input
    } else {
      qinit = quantizeF32(initValue, scale, zp, qmin, qmax);
      if (static_cast<float>(qinit - zp) * scale != initValue)
        return failure();
    }

    Location loc = op.getLoc();
    Type storage = qtype.getStorageType();
    SmallVector<Value> inputs;
    inputs.push_back(getStorage(rewriter, loc, input->quantized));
    for (OpOperand *other : llvm::drop_begin(op.getDpsInputOperands()))
      inputs.push_back(other->get());
    maps[0] = input->map;
    Value filled = createFilledLike(rewriter, loc, init, storage, qinit);
    bool isSigned = qtype.isSigned();
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType.clone(storage)}, inputs,
        ValueRange{filled}, maps, op.getIteratorTypesArray(),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value in = args.front(), out = args.back();
          Value max = isSigned
                          ? arith::MaxSIOp::create(b, l, in, out).getResult()
                          : arith::MaxUIOp::create(b, l, in, out).getResult();
          linalg::YieldOp::create(b, l, max);
        });
    copyDiscardableAttrs(op, generic);
    return quant::StorageCastOp::create(rewriter, loc, resultType.clone(qtype),
                                        generic.getResult(0))
        .getResult();
  }
};

/// Sum pooling of a dequantized tensor, optionally divided (or multiplied)
/// by a constant as average pooling is written without padding
/// (`linalg.pooling_nhwc_sum` into zeros, then `divf %sum, 9.0`), sums
/// q - zp in i32; the division becomes the accumulator's scale,
/// f32(s_in / count) (f32(s_in * c) for a multiplication):
///   %s = linalg.pooling_nhwc_sum ins(quant.dcast %x, %w) outs(%zeros)
///   %a = linalg.generic ins(%s) { divf %in, 9.0 } ...
///   %q = quant.qcast %a : ... to !out
///   -> %s = linalg.generic ins(%x_i8, %w) outs(%zeros_i32) { acc + (x - zp) }
///      %q = qopt.requantize (quant.scast %s to !quant.uniform<i32:f32, s/9>)
///           to !out
/// Average pooling with padding (a count per output position) stays float.
struct SumPoolToInteger : KernelOutputPattern {
  using KernelOutputPattern::KernelOutputPattern;

  FailureOr<Value> rewriteCore(const OutputPlan &plan,
                               PatternRewriter &rewriter) const override {
    double numerator = 1.0, divisor = 1.0;
    Value sum = matchScaleByConstant(plan.core, numerator, divisor);
    if (!sum)
      sum = plan.core;
    linalg::LinalgOp op = matchPoolingReduction<arith::AddFOp>(sum);
    if (!op)
      return failure();
    auto resultType = cast<RankedTensorType>(plan.core.getType());
    Type expressed = resultType.getElementType();
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    std::optional<QuantOperand> input = getPerTensorOperand(
        op.getDpsInputOperand(0)->get(), maps[0], expressed);
    Value init = op.getDpsInitOperand(0)->get();
    std::optional<APFloat> fill = getFillValue(init);
    if (!input || !fill || !fill->isZero() ||
        !accumulationFits({&input->params}, getReductionCount(op)))
      return failure();
    auto inputScale = static_cast<float>(input->params.scales[0]);
    float scale = inputScale * static_cast<float>(numerator) /
                  static_cast<float>(divisor);
    if (!std::isnormal(scale) || scale <= 0)
      return failure();

    Location loc = op.getLoc();
    auto i32 = rewriter.getI32Type();
    SmallVector<Value> inputs;
    inputs.push_back(getStorage(rewriter, loc, input->quantized));
    for (OpOperand *other : llvm::drop_begin(op.getDpsInputOperands()))
      inputs.push_back(other->get());
    maps[0] = input->map;
    Value zeros = createFilledLike(rewriter, loc, init, i32, 0);
    bool isSigned = input->params.isSigned();
    int64_t zp = input->params.zeroPoints[0];
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType.clone(i32)}, inputs,
        ValueRange{zeros}, maps, op.getIteratorTypesArray(),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value in = extendToI32(b, l, args.front(), isSigned, zp);
          linalg::YieldOp::create(
              b, l, arith::AddIOp::create(b, l, args.back(), in).getResult());
        });
    copyDiscardableAttrs(op, generic);
    quant::QuantizedType sumType =
        getI32Type(expressed, {static_cast<double>(scale)}, std::nullopt);
    return quant::StorageCastOp::create(
               rewriter, loc, resultType.clone(sumType), generic.getResult(0))
        .getResult();
  }
};

} // namespace

void kernels::populateElementwisePatterns(RewritePatternSet &patterns) {
  patterns
      .add<AddSubToInteger, MulToInteger, MaxPoolToInteger, SumPoolToInteger>(
          patterns.getContext());
}
