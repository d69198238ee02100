//===- LegalizeDynamic.cpp - qopt-legalize{mode=dynamic} --------*- C++ -*-===//
//
// The dynamic mode of qopt-legalize: weights are quantized at compile time,
// activations at run time by the generated code, as ONNX Runtime's
// quantize_dynamic graphs compute them (docs/dynamic-quantization.md,
// docs/numerics.md section 9). Each matmul, batch_matmul or convolution
// with a constant f32 weight becomes
//
//   %q, %s, %z = qopt.dynamic_quantize %x     (u8, per tensor or per row)
//   %qs = %q xor 0x80                         (the same values as i8)
//   %acc = <the same op> ins(%qs, %w_i8) outs(zeros : i32)
//   %y = f32(%acc + (128 - %z) * colsum(w) [- zw * (rowsum(q) - K*z)])
//        * (%s * s_w)
//
// The i8 x i8 contraction on a constant weight is what qopt-lower-cpu's GEMM
// takes to VNNI; the correction terms make the accumulator exactly ORT's
// sum((q - z) * (w - zw)), and the float32 steps are ORT's, in its order.
//
//===----------------------------------------------------------------------===//

#include "DynamicQuant.h"
#include "qopt/Quant/WeightQuant.h"
#include "qopt/Transforms/QuantizableOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/DenseMap.h"

using namespace mlir;
using namespace mlir::qopt;

namespace {
/// The activation of one op after run-time quantization.
struct DynamicActivation {
  /// The u8 values as i8 (xor 0x80): what the i8 contraction reads.
  Value shifted;
  /// u8 values (for the row sums of u8 weights).
  Value quantized;
  /// Scale and zero point, per tensor (rank 0) or per row with the unit
  /// dimension dropped.
  Value scale, zeroPoint;
  bool perRow;
};

class DynamicLegalizer {
public:
  DynamicLegalizer(const DynamicLegalizeOptions &options,
                   DynamicLegalizeCounts &counts)
      : options(options), counts(counts) {}

  LogicalResult run(func::FuncOp func);

private:
  LogicalResult legalize(linalg::LinalgOp op);
  /// Keeps `op` in float, with a remark that says why.
  LogicalResult keep(Operation *op, const Twine &why) {
    op->emitRemark() << "mode=dynamic keeps '" << op->getName()
                     << "' in float: " << why;
    ++counts.floatOps;
    return success();
  }
  DynamicActivation quantizeActivation(Value x, bool perRow);

  const DynamicLegalizeOptions &options;
  DynamicLegalizeCounts &counts;
  DenseMap<std::pair<Value, unsigned>, DynamicActivation> cache;
};
} // namespace

static Value emptyOf(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                     Type elementType) {
  return tensor::EmptyOp::create(b, loc, shape, elementType);
}

/// Drops the trailing unit dimension of a per-row parameter.
static Value dropUnitLast(OpBuilder &b, Location loc, Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  if (type.getRank() == 0)
    return v;
  int64_t rank = type.getRank();
  SmallVector<ReassociationIndices> reassociation;
  for (int64_t d = 0; d + 1 < rank; ++d)
    reassociation.push_back({d});
  if (rank > 1)
    reassociation.back().push_back(rank - 1);
  auto result =
      RankedTensorType::get(type.getShape().drop_back(), type.getElementType());
  return tensor::CollapseShapeOp::create(b, loc, result, v, reassociation);
}

DynamicActivation DynamicLegalizer::quantizeActivation(Value x, bool perRow) {
  auto key = std::make_pair(x, unsigned(perRow));
  auto it = cache.find(key);
  if (it != cache.end())
    return it->second;
  OpBuilder b(x.getContext());
  if (auto arg = dyn_cast<BlockArgument>(x))
    b.setInsertionPointToStart(arg.getOwner());
  else
    b.setInsertionPointAfter(x.getDefiningOp());
  Location loc = x.getLoc();
  auto type = cast<RankedTensorType>(x.getType());
  Type i8 = b.getI8Type(), f32 = b.getF32Type();
  SmallVector<int64_t> paramShape;
  if (perRow) {
    paramShape.assign(type.getShape().begin(), type.getShape().end());
    paramShape.back() = 1;
  }
  auto dq = DynamicQuantizeOp::create(b, loc, type.clone(i8),
                                      RankedTensorType::get(paramShape, f32),
                                      RankedTensorType::get(paramShape, i8), x);
  int64_t rank = type.getRank();
  AffineMap identity = b.getMultiDimIdentityMap(rank);
  auto shifted = linalg::GenericOp::create(
      b, loc, type.clone(i8), ValueRange{dq.getOutput()},
      emptyOf(b, loc, type.getShape(), i8),
      ArrayRef<AffineMap>{identity, identity},
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [](OpBuilder &nb, Location l, ValueRange args) {
        Value bit = arith::ConstantOp::create(
            nb, l, nb.getIntegerAttr(nb.getI8Type(), -128));
        linalg::YieldOp::create(
            nb, l,
            ValueRange{arith::XOrIOp::create(nb, l, args[0], bit).getResult()});
      });
  DynamicActivation act;
  act.quantized = dq.getOutput();
  act.shifted = shifted.getResult(0);
  act.scale = dropUnitLast(b, loc, dq.getScale());
  act.zeroPoint = dropUnitLast(b, loc, dq.getZeroPoint());
  act.perRow = perRow;
  cache[key] = act;
  return act;
}

/// True when `value` is all zeros (a zero fill or a zero constant): the
/// contraction then starts from nothing and needs no add of its init.
static bool isZeroInit(Value value) {
  if (auto fill = value.getDefiningOp<linalg::FillOp>()) {
    FloatAttr attr;
    return matchPattern(fill.getInputs()[0], m_Constant(&attr)) &&
           attr.getValue().isZero();
  }
  DenseElementsAttr dense;
  return matchPattern(value, m_Constant(&dense)) && dense.isSplat() &&
         dense.getSplatValue<APFloat>().isZero();
}

/// `op` rebuilt on i8 inputs with an i32 zero init: its own region builder
/// for named ops makes the body `out + extsi(a) * extsi(w)`.
static Operation *rebuildInteger(OpBuilder &b, linalg::LinalgOp op, Value act,
                                 Value weight) {
  Location loc = op.getLoc();
  auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
  Type i32 = b.getI32Type();
  Value init =
      linalg::FillOp::create(
          b, loc,
          arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(0)).getResult(),
          emptyOf(b, loc, resultType.getShape(), i32))
          .getResult(0);
  SmallVector<Value> operands = {act, weight, init};
  return rebuildNamedOp(b, op, operands, resultType.clone(i32));
}

LogicalResult DynamicLegalizer::legalize(linalg::LinalgOp op) {
  if (auto attr = op->getAttrOfType<PrecisionAttr>("qopt.precision"))
    if (!isa<IntegerType>(attr.getActivation()))
      return keep(op, "its #qopt.precision asks for float activations");
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      op->getNumResults() != 1)
    return keep(op, "it is not a two-input contraction on tensors");
  Value x = op.getDpsInputOperand(0)->get();
  Value w = op.getDpsInputOperand(1)->get();
  Value init = op.getDpsInitOperand(0)->get();
  auto xType = dyn_cast<RankedTensorType>(x.getType());
  auto wType = dyn_cast<RankedTensorType>(w.getType());
  auto resultType = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!xType || !wType || !resultType || !xType.hasStaticShape() ||
      !wType.hasStaticShape() || !resultType.hasStaticShape())
    return keep(op, "mode=dynamic needs statically shaped operands");
  if (!xType.getElementType().isF32() || !wType.getElementType().isF32() ||
      !resultType.getElementType().isF32())
    return keep(op, "mode=dynamic quantizes f32 contractions only");
  std::optional<std::vector<float>> data = getConstantFloats(w);
  if (!data)
    return keep(op, "its weight (operand 1) is not a constant; mode=dynamic "
                    "quantizes weights at compile time");
  std::optional<ContractionDims> dims = getContractionDims(op);
  if (!dims)
    return keep(op, "its output channel is not a loop of its own");

  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  AffineMap actMap = maps[0], weightMap = maps[1], outMap = maps[2];
  MLIRContext *ctx = op.getContext();
  // Where a loop sits among the result's dimensions.
  auto resultDimOf = [&](unsigned loop) -> std::optional<unsigned> {
    return outMap.getResultPosition(getAffineDimExpr(loop, ctx));
  };
  if (!outMap.isProjectedPermutation())
    return keep(op, "its result is not indexed by plain loops");

  // Per row: every activation dimension but the last is a result loop, the
  // last is the op's only reduction loop (matmul, batch_matmul).
  bool perRow = options.perRowActivations;
  bool matmulLike =
      actMap.isProjectedPermutation() && op.getNumReductionLoops() == 1 &&
      iterators[cast<AffineDimExpr>(actMap.getResults().back())
                    .getPosition()] == utils::IteratorType::reduction;
  if (matmulLike)
    for (AffineExpr e : actMap.getResults().drop_back())
      if (!resultDimOf(cast<AffineDimExpr>(e).getPosition()))
        matmulLike = false;
  if (perRow && !matmulLike) {
    op->emitRemark() << "dynamic-granularity=row does not apply to '"
                     << op->getName()
                     << "' (its activation rows are not result rows); one "
                        "scale per tensor";
    perRow = false;
  }
  if (options.unsignedWeights && !matmulLike)
    return keep(op, "u8 weights (weight-type=u8) need a matmul-like op, "
                    "whose activation row sums correct the weight zero "
                    "point; use weight-type=s8 for convolutions");

  // Weights at compile time.
  WeightQuantSpec spec;
  if (options.unsignedWeights)
    spec.storage = QuantSpec{/*bits=*/8, /*isSigned=*/false,
                             /*narrowRange=*/false, /*symmetric=*/false};
  if (options.perChannelWeights)
    spec.channelAxis = dims->weightChannel;
  llvm::Expected<QuantizedWeights> q =
      quantizeWeights(*data, wType.getShape(), spec);
  if (!q)
    return op->emitError() << "cannot quantize the weight of '" << op->getName()
                           << "': " << llvm::toString(q.takeError());
  // u8 weights are stored as w - 128 (i8) with zero point zw - 128.
  int64_t shift = options.unsignedWeights ? 128 : 0;
  SmallVector<int8_t> wq;
  wq.reserve(q->values.size());
  for (int64_t v : q->values)
    wq.push_back(static_cast<int8_t>(v - shift));

  // Column sums of the stored weight over its reduction loops, kept on its
  // parallel loops (N for matmul, B and N for batch_matmul, F for conv).
  SmallVector<int64_t> keptDims, keptShape;
  SmallVector<AffineExpr> colsumExprs;
  for (auto [pos, expr] : llvm::enumerate(weightMap.getResults())) {
    unsigned loop = cast<AffineDimExpr>(expr).getPosition();
    if (iterators[loop] == utils::IteratorType::reduction)
      continue;
    std::optional<unsigned> r = resultDimOf(loop);
    if (!r)
      return keep(op, "a weight loop is not a result dimension");
    keptDims.push_back(pos);
    keptShape.push_back(wType.getDimSize(pos));
    colsumExprs.push_back(getAffineDimExpr(*r, ctx));
  }
  int64_t colsumSize = 1;
  for (int64_t s : keptShape)
    colsumSize *= s;
  SmallVector<int32_t> colsum(colsumSize, 0);
  {
    ArrayRef<int64_t> shape = wType.getShape();
    int64_t rank = shape.size();
    SmallVector<int64_t> index(rank, 0);
    for (size_t flat = 0; flat < wq.size(); ++flat) {
      int64_t c = 0;
      for (int64_t d : keptDims)
        c = c * shape[d] + index[d];
      colsum[c] += wq[flat];
      for (int64_t d = rank - 1; d >= 0; --d) {
        if (++index[d] < shape[d])
          break;
        index[d] = 0;
      }
    }
  }

  OpBuilder b(op);
  Location loc = op.getLoc();
  Type i8 = b.getI8Type(), i32 = b.getI32Type(), f32 = b.getF32Type();
  Value weight = arith::ConstantOp::create(
      b, w.getLoc(),
      DenseElementsAttr::get(wType.clone(i8), ArrayRef<int8_t>(wq)));
  ++counts.weights;
  Value colsumValue = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(RankedTensorType::get(keptShape, i32),
                             ArrayRef<int32_t>(colsum)));
  // Weight scales (f32) and stored zero points, per channel or per tensor.
  SmallVector<float> wScales;
  SmallVector<int32_t> wZps;
  for (auto [s, z] : llvm::zip(q->scales, q->zeroPoints)) {
    wScales.push_back(static_cast<float>(s));
    wZps.push_back(static_cast<int32_t>(z - shift));
  }
  SmallVector<int64_t> paramShape;
  AffineMap paramMap = AffineMap::get(resultType.getRank(), 0, ctx);
  if (options.perChannelWeights) {
    paramShape.push_back(static_cast<int64_t>(wScales.size()));
    paramMap = AffineMap::get(resultType.getRank(), 0,
                              getAffineDimExpr(dims->resultChannel, ctx));
  }
  Value wScaleValue = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(RankedTensorType::get(paramShape, f32),
                             ArrayRef<float>(wScales)));

  // The activation at run time, and the integer contraction.
  DynamicActivation act = quantizeActivation(x, perRow);
  b.setInsertionPoint(op);
  Operation *intOp = rebuildInteger(b, op, act.shifted, weight);

  // Row loops of the activation, as result dimensions (per row, u8 weights).
  AffineMap rowMap = AffineMap::get(resultType.getRank(), 0, ctx);
  if (matmulLike) {
    SmallVector<AffineExpr> exprs;
    for (AffineExpr e : actMap.getResults().drop_back())
      exprs.push_back(getAffineDimExpr(
          *resultDimOf(cast<AffineDimExpr>(e).getPosition()), ctx));
    rowMap = AffineMap::get(resultType.getRank(), 0, exprs, ctx);
  }
  AffineMap actParamMap =
      act.perRow ? rowMap : AffineMap::get(resultType.getRank(), 0, ctx);

  SmallVector<Value> inputs = {intOp->getResult(0), act.zeroPoint, colsumValue,
                               act.scale, wScaleValue};
  AffineMap resultIdentity = b.getMultiDimIdentityMap(resultType.getRank());
  SmallVector<AffineMap> epilogueMaps = {
      resultIdentity, actParamMap,
      AffineMap::get(resultType.getRank(), 0, colsumExprs, ctx), actParamMap,
      paramMap};
  int64_t reduction = 1;
  if (options.unsignedWeights) {
    // Row sums of the u8 activation over K, for the weight zero point.
    auto xShape = xType.getShape();
    reduction = xShape.back();
    int64_t rank = xType.getRank();
    AffineMap id = b.getMultiDimIdentityMap(rank);
    SmallVector<utils::IteratorType> its(rank, utils::IteratorType::parallel);
    its.back() = utils::IteratorType::reduction;
    Value sumInit =
        linalg::FillOp::create(
            b, loc,
            arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(0))
                .getResult(),
            emptyOf(b, loc, xShape.drop_back(), i32))
            .getResult(0);
    auto rowsum = linalg::GenericOp::create(
        b, loc, sumInit.getType(), ValueRange{act.quantized},
        ValueRange{sumInit},
        ArrayRef<AffineMap>{id, rank == 1 ? AffineMap::get(1, 0, b.getContext())
                                          : id.getMajorSubMap(rank - 1)},
        its, [](OpBuilder &nb, Location l, ValueRange args) {
          Value v = arith::ExtUIOp::create(nb, l, nb.getI32Type(), args[0]);
          linalg::YieldOp::create(
              nb, l,
              ValueRange{arith::AddIOp::create(nb, l, args[1], v).getResult()});
        });
    Value wZpValue = arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(RankedTensorType::get(paramShape, i32),
                               ArrayRef<int32_t>(wZps)));
    inputs.push_back(wZpValue);
    epilogueMaps.push_back(paramMap);
    inputs.push_back(rowsum.getResult(0));
    epilogueMaps.push_back(rowMap);
  }
  bool addInit = !isZeroInit(init);
  if (addInit) {
    inputs.push_back(init);
    epilogueMaps.push_back(resultIdentity);
  }
  epilogueMaps.push_back(resultIdentity);
  bool unsignedWeights = options.unsignedWeights;
  auto epilogue = linalg::GenericOp::create(
      b, loc, resultType, inputs, emptyOf(b, loc, resultType.getShape(), f32),
      epilogueMaps,
      SmallVector<utils::IteratorType>(resultType.getRank(),
                                       utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location l, ValueRange args) {
        auto c32 = [&](int64_t v) -> Value {
          return arith::ConstantOp::create(nb, l, nb.getI32IntegerAttr(v));
        };
        // acc = acc_s + (128 - z) * colsum(w) [- zw * (rowsum(q) - K * z)]
        Value z = arith::ExtUIOp::create(nb, l, i32, args[1]);
        Value t = arith::SubIOp::create(nb, l, c32(128), z);
        t = arith::MulIOp::create(nb, l, t, args[2]);
        Value acc = arith::AddIOp::create(nb, l, args[0], t);
        unsigned next = 5;
        if (unsignedWeights) {
          Value zw = args[next], rowsum = args[next + 1];
          next += 2;
          Value kz = arith::MulIOp::create(nb, l, c32(reduction), z);
          Value s = arith::SubIOp::create(nb, l, rowsum, kz);
          s = arith::MulIOp::create(nb, l, zw, s);
          acc = arith::SubIOp::create(nb, l, acc, s);
        }
        // ORT: float(acc) * (x_scale * w_scale), two float32 roundings.
        Value f = arith::SIToFPOp::create(nb, l, f32, acc);
        Value s = arith::MulFOp::create(nb, l, args[3], args[4]);
        Value y = arith::MulFOp::create(nb, l, f, s);
        if (addInit)
          y = arith::AddFOp::create(nb, l, y, args[next]);
        linalg::YieldOp::create(nb, l, ValueRange{y});
      });
  op->getResult(0).replaceAllUsesWith(epilogue.getResult(0));
  Operation *weightDef = w.getDefiningOp();
  op->erase();
  if (weightDef && weightDef->use_empty())
    weightDef->erase();
  ++counts.quantizedOps;
  return success();
}

LogicalResult DynamicLegalizer::run(func::FuncOp func) {
  SmallVector<linalg::LinalgOp> ops;
  func.walk([&](Operation *op) {
    if (isContraction(op))
      ops.push_back(cast<linalg::LinalgOp>(op));
  });
  for (linalg::LinalgOp op : ops)
    if (failed(legalize(op)))
      return failure();
  return success();
}

LogicalResult mlir::qopt::legalizeDynamic(ModuleOp module,
                                          const DynamicLegalizeOptions &options,
                                          DynamicLegalizeCounts &counts) {
  DynamicLegalizer legalizer(options, counts);
  for (auto func : module.getOps<func::FuncOp>())
    if (failed(legalizer.run(func)))
      return failure();
  return success();
}
