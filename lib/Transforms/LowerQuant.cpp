//===- LowerQuant.cpp - quantized ops to integer arithmetic -----*- C++ -*-===//
//
// qopt-lower-quant: the last step of the quantized form. quant.qcast,
// quant.dcast and qopt.requantize become linalg.generic ops whose bodies are
// the arithmetic of the numerics contract (docs/numerics.md), written so that
// they compute exactly what lib/Quant's scalar reference computes;
// quant.scast disappears, and every other op and the function signatures get
// the storage integer types. Nothing quantized is left for upstream
// bufferization and lowering to trip over.
//
//===----------------------------------------------------------------------===//

#include "DynamicQuant.h"
#include "qopt/Dialect/QOpt/IR/QOptOps.h"
#include "qopt/Quant/FixedPoint.h"
#include "qopt/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Func/Transforms/FuncConversions.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/Transforms/DialectConversion.h"

#include <cmath>

namespace mlir::qopt {
#define GEN_PASS_DEF_LOWERQUANT
#include "qopt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

//===----------------------------------------------------------------------===//
// Parameters laid out for a linalg.generic
//===----------------------------------------------------------------------===//

namespace {
/// Quantization parameters of a value as the body of a linalg.generic sees
/// them: one set (per tensor), or one per point of a grid indexed by
/// `gridExprs` of the value's loops (per axis, sub-channel).
struct ParamLayout {
  SmallVector<double> scales;
  SmallVector<int64_t> zeroPoints;
  /// Empty for per-tensor parameters.
  SmallVector<int64_t> gridShape;
  SmallVector<AffineExpr> gridExprs;

  bool isPerTensor() const { return gridShape.empty(); }
};
} // namespace

static FailureOr<ParamLayout> getLayout(quant::QuantizedType type,
                                        ShapedType shape, MLIRContext *ctx) {
  ParamLayout layout;
  if (auto uniform = dyn_cast<quant::UniformQuantizedType>(type)) {
    layout.scales.push_back(uniform.getScale());
    layout.zeroPoints.push_back(uniform.getZeroPoint());
    return layout;
  }
  if (!shape || !shape.hasRank())
    return failure();
  if (auto perAxis = dyn_cast<quant::UniformQuantizedPerAxisType>(type)) {
    layout.scales.assign(perAxis.getScales().begin(),
                         perAxis.getScales().end());
    layout.zeroPoints.assign(perAxis.getZeroPoints().begin(),
                             perAxis.getZeroPoints().end());
    layout.gridShape.push_back(layout.scales.size());
    layout.gridExprs.push_back(
        getAffineDimExpr(perAxis.getQuantizedDimension(), ctx));
    return layout;
  }
  if (auto sub = dyn_cast<quant::UniformQuantizedSubChannelType>(type)) {
    auto scaleType = cast<ShapedType>(sub.getScales().getType());
    for (APFloat s : sub.getScales().getValues<APFloat>()) {
      bool lost;
      s.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
      layout.scales.push_back(s.convertToDouble());
    }
    for (APInt zp : sub.getZeroPoints().getValues<APInt>())
      layout.zeroPoints.push_back(type.isSigned() ? zp.getSExtValue()
                                                  : zp.getZExtValue());
    layout.gridShape.assign(scaleType.getShape().begin(),
                            scaleType.getShape().end());
    DenseMap<int64_t, int64_t> blocks;
    for (auto [dim, block] : sub.getBlockSizeInfo())
      blocks[dim] = block;
    for (int64_t d = 0, e = shape.getRank(); d < e; ++d) {
      if (layout.gridShape[d] == 1) {
        layout.gridExprs.push_back(getAffineConstantExpr(0, ctx));
        continue;
      }
      int64_t block = blocks.lookup(d);
      if (block <= 0)
        return failure();
      layout.gridExprs.push_back(getAffineDimExpr(d, ctx).floorDiv(block));
    }
    return layout;
  }
  return failure();
}

/// A constant holding `values` (already in the element type's range) shaped
/// like the parameter grid.
static Value buildGridConstant(OpBuilder &b, Location loc,
                               ArrayRef<int64_t> gridShape, Type elementType,
                               ArrayRef<double> values) {
  auto type = RankedTensorType::get(gridShape, elementType);
  if (auto floatType = dyn_cast<FloatType>(elementType)) {
    SmallVector<APFloat> attrs;
    for (double v : values) {
      APFloat f(v);
      bool lost;
      f.convert(floatType.getFloatSemantics(), APFloat::rmNearestTiesToEven,
                &lost);
      attrs.push_back(f);
    }
    return arith::ConstantOp::create(b, loc,
                                     DenseElementsAttr::get(type, attrs));
  }
  unsigned width = elementType.getIntOrFloatBitWidth();
  SmallVector<APInt> attrs;
  for (double v : values)
    attrs.push_back(APInt(width, static_cast<int64_t>(v), /*isSigned=*/true));
  return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(type, attrs));
}

//===----------------------------------------------------------------------===//
// Element arithmetic (shared by tensors and scalars)
//===----------------------------------------------------------------------===//

static Value f32Const(OpBuilder &b, Location loc, double v) {
  return arith::ConstantOp::create(b, loc,
                                   b.getF32FloatAttr(static_cast<float>(v)));
}
static Value i64Const(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(v));
}

/// Float to f32 (exact for narrower floats).
static Value toF32(OpBuilder &b, Location loc, Value x) {
  if (x.getType().isF32())
    return x;
  return arith::ExtFOp::create(b, loc, b.getF32Type(), x);
}

/// saturate(roundeven(x / scale) + zp) as an integer of the storage type.
static Value buildQuantize(OpBuilder &b, Location loc, Value x, Value scale,
                           Value zp, quant::QuantizedType type) {
  Value v = arith::DivFOp::create(b, loc, toF32(b, loc, x), scale);
  v = math::RoundEvenOp::create(b, loc, v);
  v = arith::AddFOp::create(b, loc, v, zp);
  // maxnumf first: NaN becomes the lower bound, as in ONNX Runtime (MLAS).
  v = arith::MaxNumFOp::create(b, loc, v,
                               f32Const(b, loc, type.getStorageTypeMin()));
  v = arith::MinNumFOp::create(b, loc, v,
                               f32Const(b, loc, type.getStorageTypeMax()));
  Type storage = b.getIntegerType(type.getStorageTypeIntegralWidth());
  if (type.isSigned())
    return arith::FPToSIOp::create(b, loc, storage, v);
  return arith::FPToUIOp::create(b, loc, storage, v);
}

/// (q - zp) * scale in f32, converted to the expressed type.
static Value buildDequantize(OpBuilder &b, Location loc, Value q, Value scale,
                             Value zp, quant::QuantizedType type) {
  Value v = type.isSigned()
                ? Value(arith::SIToFPOp::create(b, loc, b.getF32Type(), q))
                : Value(arith::UIToFPOp::create(b, loc, b.getF32Type(), q));
  v = arith::SubFOp::create(b, loc, v, zp);
  v = arith::MulFOp::create(b, loc, v, scale);
  Type expressed = type.getExpressedType();
  if (!expressed.isF32())
    v = arith::TruncFOp::create(b, loc, expressed, v);
  return v;
}

/// `q` (storage integer) minus its zero point, as i64.
static Value centered(OpBuilder &b, Location loc, Value q, Value zp,
                      quant::QuantizedType type) {
  Value x = type.isSigned()
                ? Value(arith::ExtSIOp::create(b, loc, b.getI64Type(), q))
                : Value(arith::ExtUIOp::create(b, loc, b.getI64Type(), q));
  if (q.getType().getIntOrFloatBitWidth() == 64)
    x = q;
  return arith::SubIOp::create(b, loc, x, zp);
}

static Value clampI64(OpBuilder &b, Location loc, Value v, int64_t lo,
                      int64_t hi) {
  v = arith::MaxSIOp::create(b, loc, v, i64Const(b, loc, lo));
  return arith::MinSIOp::create(b, loc, v, i64Const(b, loc, hi));
}

/// TFLite's MultiplyByQuantizedMultiplier on an int32 value held in i64,
/// exactly as lib/Quant/FixedPoint.cpp computes it (left shift saturating,
/// SaturatingRoundingDoublingHighMul, RoundingDivideByPOT), with the
/// multiplier and shift given as i64 values.
static Value buildMultiplyByQuantizedMultiplier(OpBuilder &b, Location loc,
                                                Value x, Value multiplier,
                                                Value shift) {
  Value zero = i64Const(b, loc, 0);
  Value one = i64Const(b, loc, 1);
  // left = min(max(shift, 0), 32), right = min(max(-shift, 0), 33).
  Value left = arith::MinSIOp::create(
      b, loc, arith::MaxSIOp::create(b, loc, shift, zero),
      i64Const(b, loc, 32));
  Value negShift = arith::SubIOp::create(b, loc, zero, shift);
  Value right = arith::MinSIOp::create(
      b, loc, arith::MaxSIOp::create(b, loc, negShift, zero),
      i64Const(b, loc, 33));
  Value shifted = arith::ShLIOp::create(b, loc, x, left);
  Value a = clampI64(b, loc, shifted, INT32_MIN, INT32_MAX);

  // SaturatingRoundingDoublingHighMul(a, multiplier).
  Value ab = arith::MulIOp::create(b, loc, a, multiplier);
  Value nonNegative =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, ab, zero);
  Value nudge = arith::SelectOp::create(
      b, loc, nonNegative, i64Const(b, loc, int64_t(1) << 30),
      i64Const(b, loc, 1 - (int64_t(1) << 30)));
  Value high =
      arith::DivSIOp::create(b, loc, arith::AddIOp::create(b, loc, ab, nudge),
                             i64Const(b, loc, int64_t(1) << 31));
  Value minInt = i64Const(b, loc, INT32_MIN);
  Value overflow = arith::AndIOp::create(
      b, loc,
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, a, minInt),
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, multiplier,
                            minInt));
  high = arith::SelectOp::create(b, loc, overflow, i64Const(b, loc, INT32_MAX),
                                 high);

  // RoundingDivideByPOT(high, right).
  Value mask = arith::SubIOp::create(
      b, loc, arith::ShLIOp::create(b, loc, one, right), one);
  Value remainder = arith::AndIOp::create(b, loc, high, mask);
  Value negative =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, high, zero);
  Value threshold = arith::AddIOp::create(
      b, loc, arith::ShRSIOp::create(b, loc, mask, one),
      arith::ExtUIOp::create(b, loc, b.getI64Type(), negative));
  Value roundUp = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt,
                                        remainder, threshold);
  return arith::AddIOp::create(
      b, loc, arith::ShRSIOp::create(b, loc, high, right),
      arith::ExtUIOp::create(b, loc, b.getI64Type(), roundUp));
}

/// The storage integer of `type` from an i64 already clamped to its range.
static Value truncToStorage(OpBuilder &b, Location loc, Value v,
                            quant::QuantizedType type) {
  unsigned width = type.getStorageTypeIntegralWidth();
  if (width == 64)
    return v;
  return arith::TruncIOp::create(b, loc, b.getIntegerType(width), v);
}

//===----------------------------------------------------------------------===//
// Building the generic (or the scalar code)
//===----------------------------------------------------------------------===//

namespace {
/// One per-element parameter: either a compile-time scalar (per tensor) or a
/// grid constant read through an indexing map.
struct ElementParam {
  Type elementType;
  SmallVector<double> values;
};

using BodyBuilder =
    function_ref<Value(OpBuilder &, Location, Value, ArrayRef<Value>)>;
} // namespace

/// Emits `result = body(input, params...)` element by element: a scalar
/// computation for scalars, a linalg.generic for tensors. Per-tensor params
/// become constants; per-grid params become inputs indexed by `gridExprs`.
static Value emitElementwise(OpBuilder &b, Location loc, Value input,
                             Type resultType, ArrayRef<ElementParam> params,
                             ArrayRef<int64_t> gridShape,
                             ArrayRef<AffineExpr> gridExprs, BodyBuilder body) {
  auto tensorType = dyn_cast<RankedTensorType>(resultType);
  bool perTensor = gridShape.empty();
  auto scalarParams = [&](OpBuilder &nb, Location nl) {
    SmallVector<Value> values;
    for (const ElementParam &p : params) {
      if (isa<FloatType>(p.elementType))
        values.push_back(f32Const(nb, nl, p.values.front()));
      else
        values.push_back(
            i64Const(nb, nl, static_cast<int64_t>(p.values.front())));
    }
    return values;
  };
  if (!tensorType)
    return body(b, loc, input, scalarParams(b, loc));

  int64_t rank = tensorType.getRank();
  MLIRContext *ctx = b.getContext();
  SmallVector<Value> inputs = {input};
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(rank)};
  if (!perTensor) {
    AffineMap gridMap = AffineMap::get(rank, 0, gridExprs, ctx);
    for (const ElementParam &p : params) {
      Type elementType = isa<FloatType>(p.elementType) ? Type(b.getF32Type())
                                                       : Type(b.getI64Type());
      inputs.push_back(
          buildGridConstant(b, loc, gridShape, elementType, p.values));
      maps.push_back(gridMap);
    }
  }
  maps.push_back(b.getMultiDimIdentityMap(rank));
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, input);
  Value init =
      tensor::EmptyOp::create(b, loc, sizes, tensorType.getElementType());
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{tensorType}, inputs, ValueRange{init}, maps, iterators,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        SmallVector<Value> values;
        if (perTensor)
          values = scalarParams(nb, nl);
        else
          values.assign(args.begin() + 1, args.begin() + 1 + params.size());
        linalg::YieldOp::create(nb, nl, body(nb, nl, args[0], values));
      });
  return generic.getResult(0);
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

/// The storage-integer form of a (tensor of) quantized type.
static Type getStorageType(quant::QuantizedType type) {
  return IntegerType::get(type.getContext(),
                          type.getStorageTypeIntegralWidth());
}
static Type toStorage(Type type) {
  auto qtype = dyn_cast<quant::QuantizedType>(getElementTypeOrSelf(type));
  if (!qtype)
    return type;
  if (auto shaped = dyn_cast<ShapedType>(type))
    return shaped.clone(getStorageType(qtype));
  return getStorageType(qtype);
}

// Phase 1 rewrites each quantized op where its types are still the original
// ones: the arithmetic on storage integers, joined to the quantized values
// around it by quant.scast. Phase 2 (a type conversion) then erases the
// quantized types and the scasts.

/// quant.qcast %x : tensor<..xf32> to tensor<..x!quant.uniform<i8:f32, s:z>>
///   -> scast(linalg.generic { saturate(roundeven(x / s) + z) } :
///   tensor<..xi8>)
static LogicalResult lowerQuantizeCast(OpBuilder &b, quant::QuantizeCastOp op) {
  auto qtype = cast<quant::QuantizedType>(getElementTypeOrSelf(op.getType()));
  FailureOr<ParamLayout> layout =
      getLayout(qtype, dyn_cast<ShapedType>(op.getType()), op.getContext());
  if (failed(layout))
    return op.emitError() << "cannot lower quantization to " << op.getType();
  SmallVector<double> zps(layout->zeroPoints.begin(), layout->zeroPoints.end());
  ElementParam params[] = {{b.getF32Type(), layout->scales},
                           {b.getF32Type(), zps}};
  b.setInsertionPoint(op);
  Value ints = emitElementwise(
      b, op.getLoc(), op.getInput(), toStorage(op.getType()), params,
      layout->gridShape, layout->gridExprs,
      [&](OpBuilder &nb, Location loc, Value x, ArrayRef<Value> p) {
        return buildQuantize(nb, loc, x, p[0], p[1], qtype);
      });
  op.replaceAllUsesWith(
      quant::StorageCastOp::create(b, op.getLoc(), op.getType(), ints)
          .getResult());
  op.erase();
  return success();
}

/// quant.dcast %q -> linalg.generic { (q - z) * s } on scast(%q).
static LogicalResult lowerDequantizeCast(OpBuilder &b,
                                         quant::DequantizeCastOp op) {
  Type inType = op.getInput().getType();
  auto qtype = cast<quant::QuantizedType>(getElementTypeOrSelf(inType));
  FailureOr<ParamLayout> layout =
      getLayout(qtype, dyn_cast<ShapedType>(inType), op.getContext());
  if (failed(layout))
    return op.emitError() << "cannot lower dequantization of " << inType;
  SmallVector<double> zps(layout->zeroPoints.begin(), layout->zeroPoints.end());
  ElementParam params[] = {{b.getF32Type(), layout->scales},
                           {b.getF32Type(), zps}};
  b.setInsertionPoint(op);
  Value ints = quant::StorageCastOp::create(b, op.getLoc(), toStorage(inType),
                                            op.getInput());
  Value result = emitElementwise(
      b, op.getLoc(), ints, op.getType(), params, layout->gridShape,
      layout->gridExprs,
      [&](OpBuilder &nb, Location loc, Value q, ArrayRef<Value> p) {
        return buildDequantize(nb, loc, q, p[0], p[1], qtype);
      });
  op.replaceAllUsesWith(result);
  op.erase();
  return success();
}

namespace {
/// quant.scast only reinterprets: after type conversion both sides are the
/// same storage integers.
struct StorageCastLowering : public OpConversionPattern<quant::StorageCastOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(quant::StorageCastOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, adaptor.getInput());
    return success();
  }
};

/// qopt.requantize %x : A to B -> linalg.generic computing, per element and
/// channel, clamp(MBQM(q - zA, m, shift) + zB) (fixed-point) or
/// clamp(roundeven(f32(q - zA) * f32(sA / sB)) + zB) (float).
} // namespace

static LogicalResult lowerRequantize(OpBuilder &rewriter, RequantizeOp op,
                                     bool floatMode) {
  {
    auto inType =
        cast<quant::QuantizedType>(getElementTypeOrSelf(op.getInput()));
    auto outType =
        cast<quant::QuantizedType>(getElementTypeOrSelf(op.getType()));
    auto shape = dyn_cast<ShapedType>(op.getType());
    FailureOr<ParamLayout> in = getLayout(inType, shape, op.getContext());
    FailureOr<ParamLayout> out = getLayout(outType, shape, op.getContext());
    if (failed(in) || failed(out) ||
        isa<quant::UniformQuantizedSubChannelType>(inType) ||
        isa<quant::UniformQuantizedSubChannelType>(outType))
      return op.emitError() << "requantization of sub-channel types is not "
                               "supported; normalize them to per-axis types "
                               "first (normalize-quant-types)";
    if (!in->isPerTensor() && !out->isPerTensor() &&
        (in->gridExprs != out->gridExprs ||
         in->scales.size() != out->scales.size()))
      return op.emitError() << "requantization between per-axis types on "
                               "different axes is not supported";
    const ParamLayout &grid = in->isPerTensor() ? *out : *in;
    size_t channels = grid.isPerTensor() ? 1 : grid.scales.size();
    auto at = [](const ParamLayout &l, auto &vec, size_t c) {
      return l.isPerTensor() ? vec.front() : vec[c];
    };

    SmallVector<double> zIn, zOut, mults, shifts, floatMults;
    for (size_t c = 0; c < channels; ++c) {
      double sIn = at(*in, in->scales, c), sOut = at(*out, out->scales, c);
      zIn.push_back(at(*in, in->zeroPoints, c));
      zOut.push_back(at(*out, out->zeroPoints, c));
      if (floatMode) {
        floatMults.push_back(static_cast<float>(sIn) /
                             static_cast<float>(sOut));
        continue;
      }
      llvm::Expected<QuantizedMultiplier> m = quantizeMultiplier(sIn / sOut);
      if (!m)
        return op.emitError() << "cannot requantize with the multiplier "
                              << sIn / sOut << " (scale " << sIn << " to "
                              << sOut << "): " << llvm::toString(m.takeError());
      mults.push_back(m->multiplier);
      shifts.push_back(m->shift);
    }

    int64_t qmin = outType.getStorageTypeMin(),
            qmax = outType.getStorageTypeMax();
    SmallVector<ElementParam> params;
    params.push_back({rewriter.getI64Type(), zIn});
    params.push_back({rewriter.getI64Type(), zOut});
    if (floatMode) {
      params.push_back({rewriter.getF32Type(), floatMults});
    } else {
      params.push_back({rewriter.getI64Type(), mults});
      params.push_back({rewriter.getI64Type(), shifts});
    }
    Type resultType = toStorage(op.getType());
    bool fm = floatMode;
    rewriter.setInsertionPoint(op);
    Value input = quant::StorageCastOp::create(
        rewriter, op.getLoc(), toStorage(op.getInput().getType()),
        op.getInput());
    Value result = emitElementwise(
        rewriter, op.getLoc(), input, resultType, params, grid.gridShape,
        grid.gridExprs,
        [&](OpBuilder &b, Location loc, Value q, ArrayRef<Value> p) {
          // The input as TFLite's int32 accumulator: q - zIn, saturated.
          Value x = clampI64(b, loc, centered(b, loc, q, p[0], inType),
                             INT32_MIN, INT32_MAX);
          Value y;
          if (fm) {
            Value xf = arith::SIToFPOp::create(
                b, loc, b.getF32Type(),
                arith::TruncIOp::create(b, loc, b.getI32Type(), x));
            Value v = math::RoundEvenOp::create(
                b, loc, arith::MulFOp::create(b, loc, xf, p[2]));
            v = arith::AddFOp::create(
                b, loc, v,
                arith::SIToFPOp::create(b, loc, b.getF32Type(), p[1]));
            v = arith::MaxNumFOp::create(b, loc, v, f32Const(b, loc, qmin));
            v = arith::MinNumFOp::create(b, loc, v, f32Const(b, loc, qmax));
            y = arith::FPToSIOp::create(b, loc, b.getI64Type(), v);
          } else {
            y = buildMultiplyByQuantizedMultiplier(b, loc, x, p[2], p[3]);
            y = arith::AddIOp::create(b, loc, y, p[1]);
          }
          return truncToStorage(b, loc, clampI64(b, loc, y, qmin, qmax),
                                outType);
        });
    op.replaceAllUsesWith(quant::StorageCastOp::create(rewriter, op.getLoc(),
                                                       op.getType(), result)
                              .getResult());
    op.erase();
    return success();
  }
}

namespace {

/// Any other op touching quantized types (tensor.reshape, tensor.concat,
/// linalg.transpose on quantized tensors, ...) keeps its semantics on the
/// storage integers: only its types change.
struct StorageTypeConversion : public ConversionPattern {
  StorageTypeConversion(const TypeConverter &converter, MLIRContext *ctx)
      : ConversionPattern(converter, MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}

  LogicalResult
  matchAndRewrite(Operation *op, ArrayRef<Value> operands,
                  ConversionPatternRewriter &rewriter) const override {
    if (isa<FunctionOpInterface>(op) || getTypeConverter()->isLegal(op))
      return failure();
    SmallVector<Type> resultTypes;
    if (failed(getTypeConverter()->convertTypes(op->getResultTypes(),
                                                resultTypes)))
      return failure();
    for (Region &region : op->getRegions())
      if (failed(rewriter.convertRegionTypes(&region, *getTypeConverter())))
        return failure();
    rewriter.modifyOpInPlace(op, [&] {
      op->setOperands(operands);
      for (auto [result, type] : llvm::zip(op->getResults(), resultTypes))
        result.setType(type);
    });
    return success();
  }
};

class LowerQuantPass : public qopt::impl::LowerQuantBase<LowerQuantPass> {
public:
  using Base::Base;

  LogicalResult initialize(MLIRContext *context) override {
    if (requantMode != "fixed-point" && requantMode != "float")
      return emitError(UnknownLoc::get(context))
             << "qopt-lower-quant: unknown requant-mode '" << requantMode
             << "'; expected fixed-point or float";
    if (signature != "storage" && signature != "keep")
      return emitError(UnknownLoc::get(context))
             << "qopt-lower-quant: unknown signature mode '" << signature
             << "'; expected storage or keep";
    return success();
  }

  void runOnOperation() override;
};
} // namespace

void LowerQuantPass::runOnOperation() {
  MLIRContext *ctx = &getContext();
  ModuleOp module = getOperation();
  bool keepSignature = signature == "keep";

  TypeConverter converter;
  converter.addConversion([](Type type) { return type; });
  converter.addConversion(
      [](quant::QuantizedType type) -> Type { return getStorageType(type); });
  converter.addConversion([](RankedTensorType type) -> Type {
    if (auto qtype = dyn_cast<quant::QuantizedType>(type.getElementType()))
      return type.clone(getStorageType(qtype));
    return type;
  });
  converter.addConversion([](UnrankedTensorType type) -> Type {
    if (auto qtype = dyn_cast<quant::QuantizedType>(type.getElementType()))
      return UnrankedTensorType::get(getStorageType(qtype));
    return type;
  });
  // At kept signatures the storage integers and quantized values meet
  // through quant.scast.
  auto materialize = [](OpBuilder &b, Type type, ValueRange inputs,
                        Location loc) -> Value {
    if (inputs.size() != 1)
      return {};
    return quant::StorageCastOp::create(b, loc, type, inputs.front());
  };
  converter.addSourceMaterialization(materialize);
  converter.addTargetMaterialization(materialize);

  // Phase 1: the arithmetic, on the original types.
  SmallVector<Operation *> quantOps;
  module.walk([&](Operation *op) {
    if (isa<quant::QuantizeCastOp, quant::DequantizeCastOp, RequantizeOp,
            DynamicQuantizeOp>(op))
      quantOps.push_back(op);
  });
  OpBuilder builder(ctx);
  for (Operation *op : quantOps) {
    LogicalResult result = success();
    if (auto qcast = dyn_cast<quant::QuantizeCastOp>(op))
      result = lowerQuantizeCast(builder, qcast);
    else if (auto dcast = dyn_cast<quant::DequantizeCastOp>(op))
      result = lowerDequantizeCast(builder, dcast);
    else if (auto dynamic = dyn_cast<DynamicQuantizeOp>(op))
      result = lowerDynamicQuantize(builder, dynamic);
    else
      result = lowerRequantize(builder, cast<RequantizeOp>(op),
                               requantMode == "float");
    if (failed(result))
      return signalPassFailure();
  }

  // Phase 2: storage types everywhere.
  ConversionTarget target(*ctx);
  target.addDynamicallyLegalOp<quant::StorageCastOp>([&](Operation *op) {
    // Only the casts materialized at kept function boundaries stay.
    return keepSignature && op->getAttr("qopt.signature_cast") != nullptr;
  });
  target.markUnknownOpDynamicallyLegal([&](Operation *op) {
    if (auto func = dyn_cast<FunctionOpInterface>(op))
      return keepSignature || (converter.isSignatureLegal(cast<FunctionType>(
                                   func.getFunctionType())) &&
                               converter.isLegal(&func.getFunctionBody()));
    if (keepSignature && isa<func::ReturnOp>(op))
      return true;
    return converter.isLegal(op);
  });

  RewritePatternSet patterns(ctx);
  patterns.add<StorageCastLowering, StorageTypeConversion>(converter, ctx);
  if (!keepSignature) {
    populateFunctionOpInterfaceTypeConversionPattern<func::FuncOp>(patterns,
                                                                   converter);
    populateReturnOpTypeConversionPattern(patterns, converter);
    populateCallOpTypeConversionPattern(patterns, converter);
  }

  if (keepSignature) {
    // Give each quantized argument and result a storage cast at the
    // boundary, so the body can be converted on its own.
    module.walk([&](func::FuncOp func) {
      if (func.isExternal())
        return;
      Block &entry = func.getBody().front();
      OpBuilder b(ctx);
      b.setInsertionPointToStart(&entry);
      for (BlockArgument arg : entry.getArguments()) {
        Type storage = converter.convertType(arg.getType());
        if (storage == arg.getType())
          continue;
        auto cast = quant::StorageCastOp::create(b, arg.getLoc(), storage, arg);
        arg.replaceAllUsesExcept(cast, cast);
        cast->setAttr("qopt.signature_cast", b.getUnitAttr());
      }
      func.walk([&](func::ReturnOp ret) {
        b.setInsertionPoint(ret);
        for (OpOperand &operand : ret->getOpOperands()) {
          Value v = operand.get();
          auto def = v.getDefiningOp<quant::StorageCastOp>();
          // Values produced by quantized ops get converted below; mark a
          // cast that re-creates the quantized type for the return.
          if (!isa<quant::QuantizedType>(getElementTypeOrSelf(v)) ||
              (def && def->hasAttr("qopt.signature_cast")))
            continue;
          Type storage = converter.convertType(v.getType());
          auto toInt =
              quant::StorageCastOp::create(b, ret.getLoc(), storage, v);
          auto back =
              quant::StorageCastOp::create(b, ret.getLoc(), v.getType(), toInt);
          back->setAttr("qopt.signature_cast", b.getUnitAttr());
          operand.set(back);
        }
      });
    });
  }

  // No folding: quant.dcast's folder turns dcast(qcast(x)) into x, which
  // would silently drop a quantization step (MLIR22-NOTES pitfall 2).
  ConversionConfig config;
  config.foldingMode = DialectConversionFoldingMode::Never;
  if (failed(
          applyPartialConversion(module, target, std::move(patterns), config)))
    return signalPassFailure();
  module.walk(
      [](quant::StorageCastOp op) { op->removeAttr("qopt.signature_cast"); });
}
