//===- DotStep.h - the int8 dot-product step of qopt-cpu-gemm ---*- C++ -*-===//
//
// The step that qopt-cpu-gemm emits for 4-way int8 dot products, and that
// the instruction-selecting passes (qopt-x86-vnni, qopt-arm-neon) match:
//
//   %w32 = arith.extsi %w : vector<16x4xi8> to vector<16x4xi32>
//   %x32 = arith.ext[su]i %x : vector<4xi8> to vector<4xi32>
//   %r = vector.contract {(n,k)->(n,k), (n,k)->(k), (n,k)->(n)} %w32, %x32,
//   %acc : vector<16xi32>
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_LIB_CONVERSION_LINALGTOCPU_DOTSTEP_H
#define QOPT_LIB_CONVERSION_LINALGTOCPU_DOTSTEP_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <optional>

namespace mlir::qopt {

/// Returns the i8 source of `ExtOp` (arith.extsi or arith.extui) to i32 of
/// the given vector shape, or null.
template <typename ExtOp>
inline Value matchExtFromI8(Value v, ArrayRef<int64_t> shape) {
  auto ext = v.getDefiningOp<ExtOp>();
  if (!ext)
    return nullptr;
  auto type = dyn_cast<VectorType>(ext.getIn().getType());
  if (!type || type.getShape() != shape ||
      !type.getElementType().isInteger(8) || type.isScalable())
    return nullptr;
  return ext.getIn();
}

/// Whether `op` adds into a vector<16xi32> with maps (n,k)->(n,k),
/// (n,k)->(k) (or (n,k)->(n,k) when `laneWiseRhs`), (n,k)->(n), n parallel
/// and k reduced.
inline bool isI32DotContraction(vector::ContractionOp op, bool laneWiseRhs) {
  auto accType = dyn_cast<VectorType>(op.getAcc().getType());
  if (!accType || accType.getShape() != ArrayRef<int64_t>{16} ||
      !accType.getElementType().isInteger(32) ||
      op.getKind() != vector::CombiningKind::ADD)
    return false;
  MLIRContext *ctx = op.getContext();
  AffineExpr n = getAffineDimExpr(0, ctx), k = getAffineDimExpr(1, ctx);
  SmallVector<AffineExpr> rhs =
      laneWiseRhs ? SmallVector<AffineExpr>{n, k} : SmallVector<AffineExpr>{k};
  SmallVector<AffineMap> expected = AffineMap::inferFromExprList(
      ArrayRef<ArrayRef<AffineExpr>>{{n, k}, rhs, {n}}, ctx);
  return op.getIndexingMapsArray() == ArrayRef<AffineMap>(expected) &&
         op.getIteratorTypesArray() ==
             ArrayRef<vector::IteratorType>{vector::IteratorType::parallel,
                                            vector::IteratorType::reduction};
}

/// The i8 operands of a dot step: the 16x4 weights and the 4 activation
/// bytes.
struct DotStepOperands {
  Value weights, activations;
};

/// Matches the dot step whose activations are widened by `ActExtOp`
/// (arith.extui for x86's u8 x s8, arith.extsi for aarch64's s8 x s8).
template <typename ActExtOp>
inline std::optional<DotStepOperands> matchDotStep(vector::ContractionOp op) {
  if (!isI32DotContraction(op, /*laneWiseRhs=*/false))
    return std::nullopt;
  Value weights = matchExtFromI8<arith::ExtSIOp>(op.getLhs(), {16, 4});
  Value act = matchExtFromI8<ActExtOp>(op.getRhs(), {4});
  if (!weights || !act)
    return std::nullopt;
  return DotStepOperands{weights, act};
}

/// The i8 operands of a lane-wise dot step: lane n sums four products of
/// its own unsigned and signed bytes.
struct LaneDotStepOperands {
  Value unsignedBytes, signedBytes;
};

/// Matches the lane-wise u8 x s8 dot step (both operands per lane) that
/// qopt-cpu-matmul-nbits's int8-block path emits:
///
///   %u32 = arith.extui %u : vector<16x4xi8> to vector<16x4xi32>
///   %s32 = arith.extsi %s : vector<16x4xi8> to vector<16x4xi32>
///   %r = vector.contract {(n,k)->(n,k), (n,k)->(n,k), (n,k)->(n)} %u32,
///   %s32, %acc : vector<16xi32>
inline std::optional<LaneDotStepOperands>
matchLaneDotStep(vector::ContractionOp op) {
  if (!isI32DotContraction(op, /*laneWiseRhs=*/true))
    return std::nullopt;
  Value u = matchExtFromI8<arith::ExtUIOp>(op.getLhs(), {16, 4});
  Value s = matchExtFromI8<arith::ExtSIOp>(op.getRhs(), {16, 4});
  if (!u || !s)
    return std::nullopt;
  return LaneDotStepOperands{u, s};
}

} // namespace mlir::qopt

#endif // QOPT_LIB_CONVERSION_LINALGTOCPU_DOTSTEP_H
