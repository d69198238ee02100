//===- QuantizeKernelsUtils.cpp - Kernel helpers ----------------*- C++ -*-===//
//
// The IR plumbing every pattern family of qopt-quantize-kernels shares:
// recognising dequantized operands and elementwise float ops, building
// storage casts, i32 accumulator types and kernel inits, and erasing the
// float ops a rewrite leaves unused.
//
//===----------------------------------------------------------------------===//

#include "QuantizeKernels.h"

#include "qopt/Quant/QuantParams.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseSet.h"

#include <cmath>
#include <cstdint>

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::kernels;

//===----------------------------------------------------------------------===//
// Quantized operands
//===----------------------------------------------------------------------===//

std::optional<UniformParams> UniformParams::get(Type type) {
  UniformParams params;
  Type element = getElementTypeOrSelf(type);
  if (auto uniform = dyn_cast<quant::UniformQuantizedType>(element)) {
    params.type = uniform;
    params.scales.push_back(uniform.getScale());
    params.zeroPoints.push_back(uniform.getZeroPoint());
    return params;
  }
  if (auto perAxis = dyn_cast<quant::UniformQuantizedPerAxisType>(element)) {
    params.type = perAxis;
    params.axis = perAxis.getQuantizedDimension();
    params.scales.assign(perAxis.getScales().begin(),
                         perAxis.getScales().end());
    params.zeroPoints.assign(perAxis.getZeroPoints().begin(),
                             perAxis.getZeroPoints().end());
    return params;
  }
  return std::nullopt;
}

std::optional<int64_t> UniformParams::commonZeroPoint() const {
  if (zeroPoints.empty() || !llvm::all_equal(ArrayRef<int64_t>(zeroPoints)))
    return std::nullopt;
  return zeroPoints.front();
}

double UniformParams::maxMagnitude() const {
  int64_t zp = commonZeroPoint().value_or(0);
  return std::max(std::abs(static_cast<double>(type.getStorageTypeMin() - zp)),
                  std::abs(static_cast<double>(type.getStorageTypeMax() - zp)));
}

FailureOr<std::optional<unsigned>> QuantOperand::getChannelLoop() const {
  if (!params.isPerAxis())
    return std::optional<unsigned>();
  if (*params.axis >= static_cast<int32_t>(map.getNumResults()))
    return failure();
  auto dim = dyn_cast<AffineDimExpr>(map.getResult(*params.axis));
  if (!dim)
    return failure();
  return std::optional<unsigned>(dim.getPosition());
}

std::optional<QuantOperand> kernels::getQuantOperand(Value operand,
                                                     AffineMap map) {
  // Look through a broadcast or a transpose (a transposed weight, ONNX Gemm
  // with transB=1): its input map, composed after ours, takes our loops to
  // its input's dimensions, so the kernel reads the input in place.
  if (auto broadcast = operand.getDefiningOp<linalg::BroadcastOp>()) {
    if (!broadcast.hasPureTensorSemantics())
      return std::nullopt;
    AffineMap inputMap =
        broadcast.getMatchingIndexingMap(broadcast.getDpsInputOperand(0));
    map = inputMap.compose(map);
    operand = broadcast.getInput();
  } else if (auto transpose = operand.getDefiningOp<linalg::TransposeOp>()) {
    if (!transpose.hasPureTensorSemantics())
      return std::nullopt;
    AffineMap inputMap =
        transpose.getMatchingIndexingMap(transpose.getDpsInputOperand(0));
    map = inputMap.compose(map);
    operand = transpose.getInput();
  }
  auto dcast = operand.getDefiningOp<quant::DequantizeCastOp>();
  if (!dcast)
    return std::nullopt;
  Value quantized = dcast.getInput();
  if (!isa<RankedTensorType>(quantized.getType()))
    return std::nullopt;
  std::optional<UniformParams> params = UniformParams::get(quantized.getType());
  if (!params)
    return std::nullopt;
  return QuantOperand{quantized, map, std::move(*params)};
}

Value kernels::getStorage(OpBuilder &builder, Location loc, Value quantized) {
  Type storageType =
      quant::QuantizedType::castToStorageType(quantized.getType());
  if (auto scast = quantized.getDefiningOp<quant::StorageCastOp>())
    if (scast.getInput().getType() == storageType)
      return scast.getInput();
  return quant::StorageCastOp::create(builder, loc, storageType, quantized);
}

double kernels::productScale(double lhs, double rhs) {
  return accumulatorScale(lhs, rhs);
}

quant::QuantizedType kernels::getI32Type(Type expressed,
                                         ArrayRef<double> scales,
                                         std::optional<int32_t> axis) {
  MLIRContext *ctx = expressed.getContext();
  auto i32 = IntegerType::get(ctx, 32);
  if (axis) {
    SmallVector<int64_t> zeroPoints(scales.size(), 0);
    return quant::UniformQuantizedPerAxisType::get(
        quant::QuantizationFlags::Signed, i32, expressed, scales, zeroPoints,
        *axis, INT32_MIN, INT32_MAX);
  }
  return quant::UniformQuantizedType::get(quant::QuantizationFlags::Signed, i32,
                                          expressed, scales.front(), 0,
                                          INT32_MIN, INT32_MAX);
}

Value kernels::extendToI32(OpBuilder &builder, Location loc, Value value,
                           bool isSigned, int64_t zeroPoint) {
  auto i32 = builder.getI32Type();
  if (value.getType() != i32) {
    if (isSigned)
      value = arith::ExtSIOp::create(builder, loc, i32, value);
    else
      value = arith::ExtUIOp::create(builder, loc, i32, value);
  }
  if (zeroPoint == 0)
    return value;
  Value zp = arith::ConstantOp::create(
      builder, loc, builder.getI32IntegerAttr(static_cast<int32_t>(zeroPoint)));
  return arith::SubIOp::create(builder, loc, value, zp);
}

Value kernels::createEmptyLike(OpBuilder &builder, Location loc, Value like,
                               Type elementType) {
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(builder, loc, like);
  return tensor::EmptyOp::create(builder, loc, sizes, elementType);
}

IntegerAttr kernels::getStorageAttr(Type intType, int64_t value) {
  // Unsigned storage (u8 255) shares the signless type with signed storage:
  // keep the low bits.
  unsigned width = intType.getIntOrFloatBitWidth();
  return IntegerAttr::get(intType, APInt(width, static_cast<uint64_t>(value),
                                         /*isSigned=*/false,
                                         /*implicitTrunc=*/true));
}

Value kernels::createFilledLike(OpBuilder &builder, Location loc, Value like,
                                Type elementType, int64_t value) {
  Value empty = createEmptyLike(builder, loc, like, elementType);
  Value fill = arith::ConstantOp::create(builder, loc,
                                         getStorageAttr(elementType, value));
  return linalg::FillOp::create(builder, loc, ValueRange{fill},
                                ValueRange{empty})
      .getResult(0);
}

std::optional<APFloat> kernels::getFillValue(Value init) {
  if (auto fill = init.getDefiningOp<linalg::FillOp>()) {
    if (!fill.hasPureTensorSemantics())
      return std::nullopt;
    FloatAttr attr;
    if (matchPattern(fill.value(), m_Constant(&attr)))
      return attr.getValue();
    return std::nullopt;
  }
  DenseElementsAttr dense;
  if (matchPattern(init, m_Constant(&dense)) && dense.isSplat() &&
      isa<FloatType>(dense.getElementType()))
    return dense.getSplatValue<APFloat>();
  return std::nullopt;
}

bool kernels::accumulationFits(ArrayRef<const UniformParams *> factors,
                               std::optional<int64_t> count) {
  if (llvm::all_of(factors, [](const UniformParams *p) {
        return p->storageBits() <= 8;
      }))
    return true;
  if (!count)
    return false;
  // Integers below 2^53 are exact in double, and anything above is far past
  // the i32 range, so this product decides the bound exactly.
  double bound = static_cast<double>(*count);
  for (const UniformParams *p : factors)
    bound *= p->maxMagnitude();
  return bound <= static_cast<double>(INT32_MAX);
}

void kernels::copyDiscardableAttrs(Operation *from, Operation *to) {
  for (NamedAttribute attr : from->getDiscardableAttrs())
    if (!attr.getName().strref().starts_with("linalg."))
      to->setAttr(attr.getName(), attr.getValue());
}

void kernels::eraseDeadProducers(RewriterBase &rewriter, ValueRange values) {
  SmallVector<Operation *> worklist;
  for (Value value : values)
    if (Operation *def = value.getDefiningOp())
      worklist.push_back(def);
  llvm::DenseSet<Operation *> erased;
  while (!worklist.empty()) {
    Operation *op = worklist.pop_back_val();
    if (erased.contains(op) || !isOpTriviallyDead(op))
      continue;
    // Operands, and values its regions capture (a ReLU's constant).
    op->walk([&](Operation *nested) {
      for (Value operand : nested->getOperands())
        if (Operation *def = operand.getDefiningOp();
            def && !op->isAncestor(def))
          worklist.push_back(def);
    });
    erased.insert(op);
    rewriter.eraseOp(op);
  }
}

//===----------------------------------------------------------------------===//
// Elementwise recognition
//===----------------------------------------------------------------------===//

/// A map that reads an operand element by element or broadcast: every
/// result is a loop or the constant 0 (a size-1 dimension).
static bool isBroadcastMap(AffineMap map) {
  return llvm::all_of(map.getResults(), [](AffineExpr expr) {
    if (isa<AffineDimExpr>(expr))
      return true;
    auto cst = dyn_cast<AffineConstantExpr>(expr);
    return cst && cst.getValue() == 0;
  });
}

std::optional<ElementwiseBinary>
kernels::matchElementwiseBinary(Operation *op) {
  auto resultType = op->getNumResults() == 1
                        ? dyn_cast<RankedTensorType>(op->getResult(0).getType())
                        : RankedTensorType();
  if (!resultType || !isa<FloatType>(resultType.getElementType()))
    return std::nullopt;

  auto kindOf = [](Operation *arith) -> std::optional<ElementwiseBinary::Kind> {
    if (isa<arith::AddFOp>(arith))
      return ElementwiseBinary::Add;
    if (isa<arith::SubFOp>(arith))
      return ElementwiseBinary::Sub;
    if (isa<arith::MulFOp>(arith))
      return ElementwiseBinary::Mul;
    return std::nullopt;
  };

  // arith on whole tensors of one type.
  if (std::optional<ElementwiseBinary::Kind> kind = kindOf(op)) {
    if (op->getOperand(0).getType() != resultType ||
        op->getOperand(1).getType() != resultType)
      return std::nullopt;
    unsigned rank = resultType.getRank();
    AffineMap identity =
        AffineMap::getMultiDimIdentityMap(rank, op->getContext());
    return ElementwiseBinary{*kind,    op->getOperand(0), op->getOperand(1),
                             identity, identity,          rank};
  }

  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  if (!linalgOp || !linalgOp.hasPureTensorSemantics() ||
      linalgOp.getNumDpsInputs() != 2 || linalgOp.getNumDpsInits() != 1 ||
      linalgOp.getNumParallelLoops() != linalgOp.getNumLoops())
    return std::nullopt;
  SmallVector<AffineMap> maps = linalgOp.getIndexingMapsArray();
  if (!maps[2].isIdentity() || !isBroadcastMap(maps[0]) ||
      !isBroadcastMap(maps[1]))
    return std::nullopt;
  Block *body = linalgOp.getBlock();
  if (body->getOperations().size() != 2)
    return std::nullopt;
  Value yielded = body->getTerminator()->getOperand(0);
  Operation *arith = yielded.getDefiningOp();
  std::optional<ElementwiseBinary::Kind> kind =
      arith ? kindOf(arith) : std::nullopt;
  if (!kind)
    return std::nullopt;
  Value in0 = body->getArgument(0), in1 = body->getArgument(1);
  unsigned first;
  if (arith->getOperand(0) == in0 && arith->getOperand(1) == in1)
    first = 0;
  else if (arith->getOperand(0) == in1 && arith->getOperand(1) == in0)
    first = 1;
  else
    return std::nullopt;
  unsigned second = 1 - first;
  return ElementwiseBinary{*kind,
                           linalgOp.getDpsInputOperand(first)->get(),
                           linalgOp.getDpsInputOperand(second)->get(),
                           maps[first],
                           maps[second],
                           linalgOp.getNumLoops()};
}
