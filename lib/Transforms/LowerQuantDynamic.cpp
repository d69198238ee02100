//===- LowerQuantDynamic.cpp - qopt.dynamic_quantize to linalg --*- C++ -*-===//
//
// qopt-lower-quant's lowering of qopt.dynamic_quantize: ONNX Runtime's
// DynamicQuantizeLinear as three linalg.generic ops, all float32 arithmetic
// in ORT's order (docs/numerics.md, section 9):
//
//   1. one pass over the input computing min and max together (two results
//      of one reduction, initialised with 0 so the range holds 0); where the
//      reduced extent is static and a multiple of 4, the pass keeps 16 (8,
//      4) partial minima and maxima, lane by lane, so that
//      qopt-lower-cpu vectorizes it, and a second, short reduction folds
//      the lanes (min and max are exact and order-free: the same bits);
//   2. per tensor or per row: scale = hi == lo ? 1 : (hi - lo) / 255 and
//      zero_point = roundeven(clamp(0 - lo / scale, 0, 255));
//   3. elementwise: clamp(roundeven(x / scale) + zero_point, 0, 255) as u8.
//
//===----------------------------------------------------------------------===//

#include "DynamicQuant.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::qopt;

/// An empty tensor of `elementType` with the sizes of `source`'s first
/// `rank` dimensions (dynamic ones read with tensor.dim).
static Value emptyPrefix(OpBuilder &b, Location loc, Value source, int64_t rank,
                         Type elementType) {
  auto type = cast<RankedTensorType>(source.getType());
  SmallVector<OpFoldResult> sizes;
  for (int64_t d = 0; d < rank; ++d) {
    if (type.isDynamicDim(d))
      sizes.push_back(tensor::DimOp::create(b, loc, source, d).getResult());
    else
      sizes.push_back(b.getIndexAttr(type.getDimSize(d)));
  }
  return tensor::EmptyOp::create(b, loc, sizes, elementType);
}

static Value f32Const(OpBuilder &b, Location loc, float v) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
}

/// The number of lanes (16, 8 or 4) the min/max reduction keeps apart when
/// the reduced dimensions (those from `paramRank` on) are static and their
/// extent is a multiple of it; none otherwise.
static std::optional<int64_t> reductionLanes(RankedTensorType type,
                                             int64_t paramRank) {
  int64_t reduced = 1;
  for (int64_t d = paramRank; d < type.getRank(); ++d) {
    if (type.isDynamicDim(d))
      return std::nullopt;
    reduced *= type.getDimSize(d);
  }
  for (int64_t lanes : {16, 8, 4})
    if (reduced % lanes == 0 && reduced >= lanes)
      return lanes;
  return std::nullopt;
}

/// `source` with its dimensions from `keep` on collapsed into one.
static Value collapseTrailing(OpBuilder &b, Location loc, Value source,
                              int64_t keep) {
  auto type = cast<RankedTensorType>(source.getType());
  if (type.getRank() == keep + 1)
    return source;
  SmallVector<ReassociationIndices> reassociation;
  for (int64_t d = 0; d < keep; ++d)
    reassociation.push_back({d});
  ReassociationIndices rest;
  for (int64_t d = keep; d < type.getRank(); ++d)
    rest.push_back(d);
  reassociation.push_back(rest);
  return tensor::CollapseShapeOp::create(b, loc, source, reassociation);
}

LogicalResult mlir::qopt::lowerDynamicQuantize(OpBuilder &b,
                                               DynamicQuantizeOp op) {
  Location loc = op.getLoc();
  b.setInsertionPoint(op);
  Value x = op.getInput();
  auto xType = cast<RankedTensorType>(x.getType());
  int64_t rank = xType.getRank();
  bool perRow = op.isPerRow();
  // The parameters live on the input's leading dimensions (all but the last
  // per row, none per tensor).
  int64_t paramRank = perRow ? rank - 1 : 0;
  MLIRContext *ctx = b.getContext();
  Type f32 = b.getF32Type(), i8 = b.getI8Type();

  AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, ctx);
  // getMajorSubMap(0) is a null map, not `(d0, ...) -> ()`.
  AffineMap toParams =
      paramRank == 0
          ? AffineMap::get(rank, 0, ctx)
          : AffineMap::getMultiDimIdentityMap(rank, ctx).getMajorSubMap(
                paramRank);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::reduction);
  for (int64_t d = 0; d < paramRank; ++d)
    iterators[d] = utils::IteratorType::parallel;

  // 1. min and max in one pass, both starting at 0.
  Value minMaxLo, minMaxHi;
  Value zero = f32Const(b, loc, 0.0f);
  auto minMaxBody = [](OpBuilder &nb, Location l, ValueRange args) {
    Value lo = arith::MinimumFOp::create(nb, l, args[1], args[0]);
    Value hi = arith::MaximumFOp::create(nb, l, args[2], args[0]);
    linalg::YieldOp::create(nb, l, ValueRange{lo, hi});
  };
  Value init = emptyPrefix(b, loc, x, paramRank, f32);
  Value filled = linalg::FillOp::create(b, loc, zero, init).getResult(0);
  if (std::optional<int64_t> lanes = reductionLanes(xType, paramRank)) {
    // x as [params..., T / L, L]: the reduction keeps L partial results per
    // parameter (its innermost loop is parallel, so it vectorizes), then
    // the lanes are folded.
    int64_t reduced = 1;
    for (int64_t d = paramRank; d < rank; ++d)
      reduced *= xType.getDimSize(d);
    SmallVector<int64_t> split(xType.getShape().take_front(paramRank));
    split.push_back(reduced / *lanes);
    split.push_back(*lanes);
    Value flat = collapseTrailing(b, loc, x, paramRank);
    SmallVector<ReassociationIndices> expand;
    for (int64_t d = 0; d < paramRank; ++d)
      expand.push_back({d});
    expand.push_back({paramRank, paramRank + 1});
    Value tiled = tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get(split, f32), flat, expand);
    SmallVector<int64_t> partialShape(xType.getShape().take_front(paramRank));
    partialShape.push_back(*lanes);
    Value partialInit = tensor::EmptyOp::create(b, loc, partialShape, f32);
    Value partialFilled =
        linalg::FillOp::create(b, loc, zero, partialInit).getResult(0);
    int64_t splitRank = paramRank + 2;
    SmallVector<AffineExpr> keep;
    for (int64_t d = 0; d < paramRank; ++d)
      keep.push_back(b.getAffineDimExpr(d));
    keep.push_back(b.getAffineDimExpr(paramRank + 1));
    AffineMap toPartial = AffineMap::get(splitRank, 0, keep, ctx);
    SmallVector<utils::IteratorType> splitIterators(
        splitRank, utils::IteratorType::parallel);
    splitIterators[paramRank] = utils::IteratorType::reduction;
    auto partial = linalg::GenericOp::create(
        b, loc, TypeRange{partialFilled.getType(), partialFilled.getType()},
        ValueRange{tiled}, ValueRange{partialFilled, partialFilled},
        ArrayRef<AffineMap>{AffineMap::getMultiDimIdentityMap(splitRank, ctx),
                            toPartial, toPartial},
        splitIterators, minMaxBody);
    // The lanes, one more reduction over [params..., L] (two results).
    int64_t laneRank = paramRank + 1;
    AffineMap laneParams =
        paramRank == 0 ? AffineMap::get(laneRank, 0, ctx)
                       : AffineMap::getMultiDimIdentityMap(laneRank, ctx)
                             .getMajorSubMap(paramRank);
    SmallVector<utils::IteratorType> laneIterators(
        laneRank, utils::IteratorType::parallel);
    laneIterators[paramRank] = utils::IteratorType::reduction;
    AffineMap laneIdentity = AffineMap::getMultiDimIdentityMap(laneRank, ctx);
    auto folded = linalg::GenericOp::create(
        b, loc, TypeRange{filled.getType(), filled.getType()},
        ValueRange{partial.getResult(0), partial.getResult(1)},
        ValueRange{filled, filled},
        ArrayRef<AffineMap>{laneIdentity, laneIdentity, laneParams, laneParams},
        laneIterators, [](OpBuilder &nb, Location l, ValueRange args) {
          Value lo = arith::MinimumFOp::create(nb, l, args[2], args[0]);
          Value hi = arith::MaximumFOp::create(nb, l, args[3], args[1]);
          linalg::YieldOp::create(nb, l, ValueRange{lo, hi});
        });
    minMaxLo = folded.getResult(0);
    minMaxHi = folded.getResult(1);
  }
  if (!minMaxLo) {
    auto minMax = linalg::GenericOp::create(
        b, loc, TypeRange{filled.getType(), filled.getType()}, ValueRange{x},
        ValueRange{filled, filled},
        ArrayRef<AffineMap>{identity, toParams, toParams}, iterators,
        minMaxBody);
    minMaxLo = minMax.getResult(0);
    minMaxHi = minMax.getResult(1);
  }

  // 2. Scale and zero point.
  AffineMap paramIdentity = AffineMap::getMultiDimIdentityMap(paramRank, ctx);
  SmallVector<utils::IteratorType> paramIterators(
      paramRank, utils::IteratorType::parallel);
  Value scaleInit = emptyPrefix(b, loc, x, paramRank, f32);
  Value zpInit = emptyPrefix(b, loc, x, paramRank, i8);
  auto params = linalg::GenericOp::create(
      b, loc, TypeRange{scaleInit.getType(), zpInit.getType()},
      ValueRange{minMaxLo, minMaxHi}, ValueRange{scaleInit, zpInit},
      SmallVector<AffineMap>(4, paramIdentity), paramIterators,
      [](OpBuilder &nb, Location l, ValueRange args) {
        Value lo = args[0], hi = args[1];
        Value range = arith::SubFOp::create(nb, l, hi, lo);
        Value scale =
            arith::DivFOp::create(nb, l, range, f32Const(nb, l, 255.0f));
        Value degenerate =
            arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ, hi, lo);
        scale = arith::SelectOp::create(nb, l, degenerate,
                                        f32Const(nb, l, 1.0f), scale);
        Value q = arith::DivFOp::create(nb, l, lo, scale);
        Value z = arith::SubFOp::create(nb, l, f32Const(nb, l, 0.0f), q);
        z = arith::MaximumFOp::create(nb, l, z, f32Const(nb, l, 0.0f));
        z = arith::MinimumFOp::create(nb, l, z, f32Const(nb, l, 255.0f));
        z = math::RoundEvenOp::create(nb, l, z);
        Value zp = arith::FPToUIOp::create(nb, l, nb.getI8Type(), z);
        linalg::YieldOp::create(nb, l, ValueRange{scale, zp});
      });
  Value scale = params.getResult(0), zp = params.getResult(1);

  // 3. Quantize.
  SmallVector<utils::IteratorType> parallel(rank,
                                            utils::IteratorType::parallel);
  Value outInit = emptyPrefix(b, loc, x, rank, i8);
  auto quantize = linalg::GenericOp::create(
      b, loc, TypeRange{outInit.getType()}, ValueRange{x, scale, zp},
      ValueRange{outInit},
      ArrayRef<AffineMap>{identity, toParams, toParams, identity}, parallel,
      [](OpBuilder &nb, Location l, ValueRange args) {
        Type f = nb.getF32Type();
        Value v = arith::DivFOp::create(nb, l, args[0], args[1]);
        v = math::RoundEvenOp::create(nb, l, v);
        Value z = arith::UIToFPOp::create(nb, l, f, args[2]);
        v = arith::AddFOp::create(nb, l, v, z);
        v = arith::MaximumFOp::create(nb, l, v, f32Const(nb, l, 0.0f));
        v = arith::MinimumFOp::create(nb, l, v, f32Const(nb, l, 255.0f));
        linalg::YieldOp::create(
            nb, l,
            ValueRange{
                arith::FPToUIOp::create(nb, l, nb.getI8Type(), v).getResult()});
      });

  // Per row, the parameters get their trailing unit dimension back.
  auto reshape = [&](Value v, Type type) -> Value {
    if (v.getType() == type)
      return v;
    SmallVector<ReassociationIndices> reassociation;
    for (int64_t d = 0; d < paramRank; ++d)
      reassociation.push_back({d});
    if (paramRank > 0)
      reassociation.back().push_back(paramRank);
    return tensor::ExpandShapeOp::create(b, loc, type, v, reassociation);
  };
  Value scaleOut = reshape(scale, op.getScale().getType());
  Value zpOut = reshape(zp, op.getZeroPoint().getType());
  Value out = quantize.getResult(0);
  if (out.getType() != op.getOutput().getType())
    out = tensor::CastOp::create(b, loc, op.getOutput().getType(), out);
  op.getOutput().replaceAllUsesWith(out);
  op.getScale().replaceAllUsesWith(scaleOut);
  op.getZeroPoint().replaceAllUsesWith(zpOut);
  op.erase();
  return success();
}
