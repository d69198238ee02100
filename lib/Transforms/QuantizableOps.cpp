//===- QuantizableOps.cpp - which ops qopt quantizes ------------*- C++ -*-===//
//
// The op classes that qopt-legalize quantizes and qopt-assign-precision
// chooses a precision for, and the small IR queries both need (statistics,
// constant weights, the output-channel dimension of a contraction's weight).
//
//===----------------------------------------------------------------------===//

#include "qopt/Transforms/QuantizableOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::qopt;

//===----------------------------------------------------------------------===//
// Recognising ops
//===----------------------------------------------------------------------===//

/// Ops with an integer matmul/convolution kernel in qopt-quantize-kernels.
bool mlir::qopt::isContraction(Operation *op) {
  return isa<linalg::MatmulOp, linalg::BatchMatmulOp, linalg::Conv2DNhwcHwcfOp,
             linalg::Conv2DNchwFchwOp, linalg::DepthwiseConv2DNhwcHwcOp>(op);
}

/// Ops whose result holds exactly the values of their first operand (moved,
/// selected or repeated), so both share quantization parameters.
bool mlir::qopt::isScaleKeeping(Operation *op) {
  if (isa<tensor::ReshapeOp, tensor::CollapseShapeOp, tensor::ExpandShapeOp,
          linalg::TransposeOp, tensor::ExtractSliceOp, linalg::PoolingNhwcMaxOp,
          linalg::PoolingNchwMaxOp>(op))
    return true;
  // A slice inserted into zeros (the imported ConvTranspose spreads its
  // input with strides over a zero tensor): its values and zeros only.
  if (auto insert = dyn_cast<tensor::InsertSliceOp>(op)) {
    auto fill = insert.getDest().getDefiningOp<linalg::FillOp>();
    FloatAttr attr;
    return fill && matchPattern(fill.getInputs()[0], m_Constant(&attr)) &&
           attr.getValue().isZero();
  }
  // Zero padding: 0.0 quantizes exactly to the zero point.
  if (auto pad = dyn_cast<tensor::PadOp>(op)) {
    Value padValue = pad.getConstantPaddingValue();
    FloatAttr attr;
    return padValue && matchPattern(padValue, m_Constant(&attr)) &&
           attr.getValue().isZero();
  }
  return false;
}

/// The float operand whose values a scale-keeping op passes on.
Value mlir::qopt::getScaleKeepingInput(Operation *op) {
  if (auto pool = dyn_cast<linalg::LinalgOp>(op))
    return pool.getDpsInputOperand(0)->get();
  return op->getOperand(0);
}

/// The binary float op a linalg.generic applies element by element, when it
/// is `yield op(%in0, %in1)` with identity maps.
Operation *mlir::qopt::getElementwiseBinaryBody(linalg::GenericOp generic) {
  if (generic.getNumDpsInputs() != 2 || generic.getNumDpsInits() != 1 ||
      generic.getNumParallelLoops() != generic.getNumLoops() ||
      !llvm::all_of(generic.getIndexingMapsArray(),
                    [](AffineMap map) { return map.isIdentity(); }))
    return nullptr;
  Block &body = generic.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  Operation *def = yield.getOperand(0).getDefiningOp();
  if (!def || def->getBlock() != &body || body.getOperations().size() != 2 ||
      !isa<arith::AddFOp, arith::SubFOp, arith::MulFOp>(def))
    return nullptr;
  if (def->getOperand(0) != body.getArgument(0) ||
      def->getOperand(1) != body.getArgument(1))
    return nullptr;
  return def;
}

/// Elementwise add, sub or mul of two tensors of the same shape.
bool mlir::qopt::isElementwiseArith(Operation *op) {
  if (isa<linalg::AddOp, linalg::SubOp, linalg::MulOp>(op))
    return true;
  auto generic = dyn_cast<linalg::GenericOp>(op);
  return generic && getElementwiseBinaryBody(generic);
}

/// Sum pooling: the integer form of average pooling accumulates in i32.
bool mlir::qopt::isSumPooling(Operation *op) {
  return isa<linalg::PoolingNhwcSumOp, linalg::PoolingNchwSumOp>(op);
}

/// `%y = qopt.stats %x` is transparent: returns %x for %y, else the value.
Value mlir::qopt::stripStats(Value value) {
  if (auto stats = value.getDefiningOp<StatsOp>())
    return stats.getInput();
  return value;
}

/// The statistics attached to a value, looking through the stats op itself.
StatsOp mlir::qopt::lookupStats(Value value) {
  if (auto stats = value.getDefiningOp<StatsOp>())
    return stats;
  for (Operation *user : value.getUsers())
    if (auto stats = dyn_cast<StatsOp>(user))
      return stats;
  return {};
}

/// The float values of a constant weight, or nullopt when `value` is not a
/// constant float tensor.
std::optional<std::vector<float>> mlir::qopt::getConstantFloats(Value value) {
  Attribute attr;
  if (!matchPattern(value, m_Constant(&attr)))
    return std::nullopt;
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || !isa<FloatType>(type.getElementType()))
    return std::nullopt;
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    std::vector<float> values;
    values.reserve(type.getNumElements());
    for (APFloat v : dense.getValues<APFloat>()) {
      bool lost;
      v.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven, &lost);
      values.push_back(v.convertToFloat());
    }
    return values;
  }
  if (auto resource = dyn_cast<DenseF32ResourceElementsAttr>(attr)) {
    std::optional<ArrayRef<float>> data = resource.tryGetAsArrayRef();
    if (!data)
      return std::nullopt;
    return std::vector<float>(data->begin(), data->end());
  }
  return std::nullopt;
}

std::optional<ConstantWeight> mlir::qopt::getConstantWeight(Value value) {
  ConstantWeight weight;
  if (auto transpose = value.getDefiningOp<linalg::TransposeOp>()) {
    if (!transpose.hasPureTensorSemantics())
      return std::nullopt;
    weight.transpose = transpose;
    weight.permutation.assign(transpose.getPermutation().begin(),
                              transpose.getPermutation().end());
    value = transpose.getInput();
  }
  std::optional<std::vector<float>> data = getConstantFloats(value);
  if (!data)
    return std::nullopt;
  weight.constant = value;
  weight.data = std::move(*data);
  return weight;
}

//===----------------------------------------------------------------------===//
// Contractions: which weight dimension is the output channel
//===----------------------------------------------------------------------===//

/// The output channel is the loop that indexes the weight, is parallel, and
/// does not index the activation (matmul N, conv F); for a depthwise
/// convolution, the weight's only parallel loop (its channel C).
std::optional<ContractionDims>
mlir::qopt::getContractionDims(linalg::LinalgOp op) {
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  AffineMap actMap = maps[0], weightMap = maps[1], resultMap = maps[2];
  std::optional<unsigned> channelLoop, parallelLoop;
  int parallelCount = 0;
  SmallVector<int64_t> reductionDims;
  for (auto [pos, expr] : llvm::enumerate(weightMap.getResults())) {
    auto dim = dyn_cast<AffineDimExpr>(expr);
    if (!dim)
      return std::nullopt;
    unsigned loop = dim.getPosition();
    if (iterators[loop] == utils::IteratorType::reduction) {
      reductionDims.push_back(pos);
      continue;
    }
    ++parallelCount;
    parallelLoop = loop;
    if (!actMap.isFunctionOfDim(loop))
      channelLoop = loop;
  }
  if (!channelLoop && parallelCount == 1)
    channelLoop = parallelLoop;
  if (!channelLoop)
    return std::nullopt;
  ContractionDims dims;
  std::optional<unsigned> weightPos = weightMap.getResultPosition(
      getAffineDimExpr(*channelLoop, op.getContext()));
  std::optional<unsigned> resultPos = resultMap.getResultPosition(
      getAffineDimExpr(*channelLoop, op.getContext()));
  if (!weightPos || !resultPos)
    return std::nullopt;
  dims.weightChannel = *weightPos;
  dims.resultChannel = *resultPos;
  if (reductionDims.size() == 1)
    dims.weightReduction = reductionDims.front();
  return dims;
}

Operation *mlir::qopt::rebuildNamedOp(OpBuilder &b, linalg::LinalgOp op,
                                      ValueRange operands,
                                      TypeRange resultTypes) {
  Location loc = op.getLoc();
  OperationState state(loc, op->getName());
  state.addOperands(operands);
  state.addTypes(resultTypes);
  state.addAttributes(op->getAttrs());
  Region *region = state.addRegion();
  auto *block = new Block();
  region->push_back(block);
  for (Value v : operands)
    block->addArgument(getElementTypeOrSelf(v.getType()), loc);
  ImplicitLocOpBuilder regionBuilder(loc, op->getContext());
  regionBuilder.setInsertionPointToStart(block);
  op.getRegionBuilder()(regionBuilder, *block, op->getAttrs(),
                        [&]() { return op->emitError(); });
  return b.create(state);
}
