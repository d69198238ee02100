//===- LowerQuantDynamic.cpp - qopt.dynamic_quantize to linalg --*- C++ -*-===//
//
// qopt-lower-quant's lowering of qopt.dynamic_quantize: ONNX Runtime's
// DynamicQuantizeLinear as three linalg.generic ops, all float32 arithmetic
// in ORT's order (docs/numerics.md, section 9):
//
//   1. one pass over the input computing min and max together (two results
//      of one reduction, initialised with 0 so the range holds 0);
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
  Value zero = f32Const(b, loc, 0.0f);
  Value init = emptyPrefix(b, loc, x, paramRank, f32);
  Value filled = linalg::FillOp::create(b, loc, zero, init).getResult(0);
  auto minMax = linalg::GenericOp::create(
      b, loc, TypeRange{filled.getType(), filled.getType()}, ValueRange{x},
      ValueRange{filled, filled},
      ArrayRef<AffineMap>{identity, toParams, toParams}, iterators,
      [](OpBuilder &nb, Location l, ValueRange args) {
        Value lo = arith::MinimumFOp::create(nb, l, args[1], args[0]);
        Value hi = arith::MaximumFOp::create(nb, l, args[2], args[0]);
        linalg::YieldOp::create(nb, l, ValueRange{lo, hi});
      });

  // 2. Scale and zero point.
  AffineMap paramIdentity = AffineMap::getMultiDimIdentityMap(paramRank, ctx);
  SmallVector<utils::IteratorType> paramIterators(
      paramRank, utils::IteratorType::parallel);
  Value scaleInit = emptyPrefix(b, loc, x, paramRank, f32);
  Value zpInit = emptyPrefix(b, loc, x, paramRank, i8);
  auto params = linalg::GenericOp::create(
      b, loc, TypeRange{scaleInit.getType(), zpInit.getType()},
      ValueRange{minMax.getResult(0), minMax.getResult(1)},
      ValueRange{scaleInit, zpInit}, SmallVector<AffineMap>(4, paramIdentity),
      paramIterators, [](OpBuilder &nb, Location l, ValueRange args) {
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
