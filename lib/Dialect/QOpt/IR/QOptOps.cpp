//===- QOptOps.cpp - qopt operations ----------------------------*- C++ -*-===//
//
// Verifiers and folders of qopt.stats and qopt.requantize, and the checks of
// an upstream quantized type against the shape of the value that carries it.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/QOpt/IR/QOptOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"

#include <cmath>

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::quant;

//===----------------------------------------------------------------------===//
// Custom assembly
//===----------------------------------------------------------------------===//

/// `[v0, v1, ...]` of f64 values, printed so that they parse back to the same
/// bits (calibration ranges must survive a round trip through text exactly);
/// hexadecimal literals such as 0x7FF8000000000000 are accepted.
static ParseResult parseFloatArray(OpAsmParser &parser,
                                   DenseF64ArrayAttr &attr) {
  SmallVector<double> values;
  if (parser.parseCommaSeparatedList(
          AsmParser::Delimiter::Square, [&]() -> ParseResult {
            APFloat value(0.0);
            if (parser.parseFloat(llvm::APFloat::IEEEdouble(), value))
              return failure();
            values.push_back(value.convertToDouble());
            return success();
          }))
    return failure();
  attr = parser.getBuilder().getDenseF64ArrayAttr(values);
  return success();
}

static void printFloatArray(OpAsmPrinter &printer, Operation *,
                            DenseF64ArrayAttr attr) {
  printer << '[';
  llvm::interleaveComma(attr.asArrayRef(), printer, [&](double value) {
    printer.printFloat(APFloat(value));
  });
  printer << ']';
}

#define GET_OP_CLASSES
#include "qopt/Dialect/QOpt/IR/QOptOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Quantized types against shapes
//===----------------------------------------------------------------------===//

static LogicalResult
checkZeroPoint(function_ref<InFlightDiagnostic()> emitError, StringRef what,
               QuantizedType qtype, int64_t zeroPoint) {
  int64_t lo = qtype.getStorageTypeMin(), hi = qtype.getStorageTypeMax();
  if (zeroPoint < lo || zeroPoint > hi)
    return emitError() << what << " zero point " << zeroPoint
                       << " is outside the storage range [" << lo << ", " << hi
                       << "] of " << qtype;
  return success();
}

LogicalResult mlir::qopt::verifyQuantizedShapedType(
    function_ref<InFlightDiagnostic()> emitError, Type type, StringRef what) {
  auto qtype = dyn_cast<QuantizedType>(getElementTypeOrSelf(type));
  if (!qtype)
    return emitError() << what << " type " << type << " is not quantized";
  auto ranked = dyn_cast<RankedTensorType>(type);

  if (auto uniform = dyn_cast<UniformQuantizedType>(qtype))
    return checkZeroPoint(emitError, what, qtype, uniform.getZeroPoint());

  if (auto perAxis = dyn_cast<UniformQuantizedPerAxisType>(qtype)) {
    if (!ranked)
      return emitError() << what << " type " << type
                         << " is per-axis quantized and needs a ranked tensor";
    int64_t axis = perAxis.getQuantizedDimension();
    if (axis < 0 || axis >= ranked.getRank())
      return emitError() << what << " quantized dimension " << axis
                         << " is out of range for a tensor of rank "
                         << ranked.getRank();
    int64_t dim = ranked.getDimSize(axis);
    int64_t numScales = perAxis.getScales().size();
    if (!ShapedType::isDynamic(dim) && dim != numScales)
      return emitError() << what << " quantized dimension " << axis
                         << " has size " << dim << " but the type has "
                         << numScales << " scales";
    for (int64_t zp : perAxis.getZeroPoints())
      if (failed(checkZeroPoint(emitError, what, qtype, zp)))
        return failure();
    return success();
  }

  if (auto sub = dyn_cast<UniformQuantizedSubChannelType>(qtype)) {
    if (!ranked)
      return emitError() << what << " type " << type
                         << " is sub-channel quantized and needs a ranked "
                            "tensor";
    auto scaleShape = cast<ShapedType>(sub.getScales().getType()).getShape();
    if (static_cast<int64_t>(scaleShape.size()) != ranked.getRank())
      return emitError() << what << " sub-channel scales have rank "
                         << scaleShape.size() << " but the tensor has rank "
                         << ranked.getRank();
    for (auto [dimIndex, block] : sub.getBlockSizeInfo()) {
      if (dimIndex < 0 || dimIndex >= ranked.getRank())
        return emitError() << what << " quantized dimension " << dimIndex
                           << " is out of range for a tensor of rank "
                           << ranked.getRank();
      int64_t dim = ranked.getDimSize(dimIndex);
      if (ShapedType::isDynamic(dim))
        continue;
      if (block <= 0 || dim % block != 0)
        return emitError() << what << " block size " << block
                           << " does not divide dimension " << dimIndex
                           << " of size " << dim;
      if (scaleShape[dimIndex] != dim / block)
        return emitError() << what << " has " << scaleShape[dimIndex]
                           << " scales along dimension " << dimIndex
                           << " but needs " << dim / block << " (" << dim
                           << " / block size " << block << ")";
    }
    for (APInt zp : sub.getZeroPoints().getValues<APInt>())
      if (failed(checkZeroPoint(emitError, what, qtype, zp.getSExtValue())))
        return failure();
    return success();
  }

  return emitError() << what << " type " << type
                     << " is not a uniform quantized type (per tensor, per "
                        "axis or sub-channel)";
}

//===----------------------------------------------------------------------===//
// StatsOp
//===----------------------------------------------------------------------===//

LogicalResult StatsOp::verify() {
  ArrayRef<double> mins = getMin(), maxs = getMax();
  if (mins.size() != maxs.size())
    return emitOpError() << "has " << mins.size() << " 'min' values but "
                         << maxs.size() << " 'max' values";
  if (mins.empty())
    return emitOpError() << "needs at least one 'min' and one 'max' value";

  auto type = getInput().getType();
  if (std::optional<int64_t> axis = getAxis()) {
    if (*axis < 0 || *axis >= type.getRank())
      return emitOpError() << "axis " << *axis
                           << " is out of range for a tensor of rank "
                           << type.getRank();
    int64_t dim = type.getDimSize(*axis);
    if (!ShapedType::isDynamic(dim) && static_cast<int64_t>(mins.size()) != dim)
      return emitOpError() << "has " << mins.size()
                           << " per-axis ranges but dimension " << *axis
                           << " has size " << dim;
  } else if (mins.size() != 1) {
    return emitOpError() << "has " << mins.size()
                         << " ranges but no 'axis'; per-tensor statistics have "
                            "exactly one 'min' and one 'max'";
  }

  for (size_t i = 0, e = mins.size(); i < e; ++i) {
    if (!std::isfinite(mins[i]))
      return emitOpError() << "'min' value #" << i << " is not finite ("
                           << mins[i] << ")";
    if (!std::isfinite(maxs[i]))
      return emitOpError() << "'max' value #" << i << " is not finite ("
                           << maxs[i] << ")";
    if (mins[i] > maxs[i])
      return emitOpError() << "'min' (" << mins[i]
                           << ") is greater than 'max' (" << maxs[i]
                           << ") at index " << i;
  }

  if (getScale().has_value() != getZeroPoint().has_value())
    return emitOpError() << "exact parameters need 'scale' and 'zero_point' "
                            "together";
  if (std::optional<ArrayRef<double>> scales = getScale()) {
    ArrayRef<int64_t> zps = *getZeroPoint();
    if (scales->size() != mins.size() || zps.size() != mins.size())
      return emitOpError() << "has " << scales->size() << " scales and "
                           << zps.size() << " zero points for " << mins.size()
                           << " ranges; give one of each per range";
    for (size_t i = 0, e = scales->size(); i < e; ++i)
      if (!std::isfinite((*scales)[i]) || (*scales)[i] <= 0.0)
        return emitOpError() << "scale #" << i << " (" << (*scales)[i]
                             << ") is not a positive finite number";
  }
  if (std::optional<int64_t> bits = getBits())
    if (*bits < 2 || *bits > 32)
      return emitOpError() << "bits (" << *bits << ") must be between 2 and 32";

  unsigned histParts = getHistMin().has_value() + getHistMax().has_value() +
                       getCounts().has_value();
  if (histParts == 0)
    return success();
  if (histParts != 3)
    return emitOpError() << "a histogram needs 'hist_min', 'hist_max' and "
                            "'counts' together";
  if (getAxis())
    return emitOpError() << "histograms are per tensor; drop 'axis' or the "
                            "histogram";
  double lo = getHistMin()->convertToDouble();
  double hi = getHistMax()->convertToDouble();
  if (!std::isfinite(lo) || !std::isfinite(hi))
    return emitOpError() << "histogram bounds [" << lo << ", " << hi
                         << "] are not finite";
  if (lo > hi)
    return emitOpError() << "histogram lower bound (" << lo
                         << ") is greater than its upper bound (" << hi << ")";
  ArrayRef<int64_t> counts = *getCounts();
  if (counts.empty())
    return emitOpError() << "histogram has no bins";
  for (size_t i = 0, e = counts.size(); i < e; ++i)
    if (counts[i] < 0)
      return emitOpError() << "histogram count #" << i << " is negative ("
                           << counts[i] << ")";
  return success();
}

//===----------------------------------------------------------------------===//
// RequantizeOp
//===----------------------------------------------------------------------===//

LogicalResult RequantizeOp::verify() {
  Type inType = getInput().getType(), outType = getType();
  auto emit = [&]() { return emitOpError(); };
  if (failed(verifyQuantizedShapedType(emit, inType, "input")) ||
      failed(verifyQuantizedShapedType(emit, outType, "result")))
    return failure();

  auto inShaped = dyn_cast<ShapedType>(inType);
  auto outShaped = dyn_cast<ShapedType>(outType);
  if (static_cast<bool>(inShaped) != static_cast<bool>(outShaped) ||
      (inShaped &&
       (inShaped.hasRank() != outShaped.hasRank() ||
        (inShaped.hasRank() && inShaped.getShape() != outShaped.getShape()))))
    return emitOpError() << "input and result shapes differ: " << inType
                         << " vs " << outType;

  auto inQ = cast<QuantizedType>(getElementTypeOrSelf(inType));
  auto outQ = cast<QuantizedType>(getElementTypeOrSelf(outType));
  if (inQ.getExpressedType() != outQ.getExpressedType())
    return emitOpError() << "input expresses " << inQ.getExpressedType()
                         << " but result expresses " << outQ.getExpressedType()
                         << "; requantize keeps the expressed type";
  return success();
}

namespace {
/// The (scale, zero point) pairs of a per-tensor or per-axis type, as a
/// function of the channel index (per-tensor types ignore it).
struct ChannelParams {
  std::optional<int32_t> axis;
  SmallVector<double> scales;
  SmallVector<int64_t> zeroPoints;

  static std::optional<ChannelParams> get(QuantizedType type) {
    ChannelParams params;
    if (auto uniform = dyn_cast<UniformQuantizedType>(type)) {
      params.scales.push_back(uniform.getScale());
      params.zeroPoints.push_back(uniform.getZeroPoint());
      return params;
    }
    if (auto perAxis = dyn_cast<UniformQuantizedPerAxisType>(type)) {
      params.axis = perAxis.getQuantizedDimension();
      params.scales.assign(perAxis.getScales().begin(),
                           perAxis.getScales().end());
      params.zeroPoints.assign(perAxis.getZeroPoints().begin(),
                               perAxis.getZeroPoints().end());
      return params;
    }
    return std::nullopt;
  }
  size_t size() const { return scales.size(); }
  double scale(size_t c) const { return scales[axis ? c : 0]; }
  int64_t zeroPoint(size_t c) const { return zeroPoints[axis ? c : 0]; }
};
} // namespace

bool mlir::qopt::isExactRequantization(Type fromType, Type toType) {
  auto from = dyn_cast<QuantizedType>(getElementTypeOrSelf(fromType));
  auto to = dyn_cast<QuantizedType>(getElementTypeOrSelf(toType));
  if (!from || !to || from.getExpressedType() != to.getExpressedType())
    return false;
  std::optional<ChannelParams> src = ChannelParams::get(from);
  std::optional<ChannelParams> dst = ChannelParams::get(to);
  if (!src || !dst)
    return false;
  if (src->axis && dst->axis &&
      (*src->axis != *dst->axis || src->size() != dst->size()))
    return false;
  size_t channels = std::max(src->size(), dst->size());
  int64_t lo = from.getStorageTypeMin(), hi = from.getStorageTypeMax();
  for (size_t c = 0; c < channels; ++c) {
    // Same scale: the step only shifts the zero point, which is exact as long
    // as every storage value of the source lands inside the target's range.
    if (src->scale(c) != dst->scale(c))
      return false;
    int64_t shift = dst->zeroPoint(c) - src->zeroPoint(c);
    if (lo + shift < to.getStorageTypeMin() ||
        hi + shift > to.getStorageTypeMax())
      return false;
  }
  return true;
}

OpFoldResult RequantizeOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  // requantize(requantize(x : A -> B) : B -> C) is requantize(x : A -> C) only
  // when A -> B loses nothing: then both compute C from the same real values.
  auto producer = getInput().getDefiningOp<RequantizeOp>();
  if (!producer ||
      !isExactRequantization(producer.getInput().getType(), producer.getType()))
    return {};
  Value source = producer.getInput();
  if (source.getType() == getType())
    return source;
  getInputMutable().assign(source);
  return getResult();
}

//===----------------------------------------------------------------------===//
// MatMulNBitsOp
//===----------------------------------------------------------------------===//

LogicalResult MatMulNBitsOp::verify() {
  int64_t bits = getBits(), group = getGroupSize();
  if (bits != 4 && bits != 8)
    return emitOpError() << "bits must be 4 or 8, got " << bits;
  if (std::optional<Type> compute = getComputeType();
      compute && !compute->isF32() && !compute->isBF16())
    return emitOpError() << "compute type must be f32 or bf16, got "
                         << *compute;
  if (group <= 0 || group % 2 != 0)
    return emitOpError() << "group_size must be positive and even, got "
                         << group;
  RankedTensorType in = getInput().getType(), out = getType();
  if (in.getRank() < 2 || out.getRank() != in.getRank())
    return emitOpError() << "input and result must have the same rank >= 2";
  if (!in.hasStaticShape() || !out.hasStaticShape())
    return emitOpError() << "input and result must have static shapes";
  int64_t k = in.getShape().back();
  if (k % group != 0)
    return emitOpError() << "group_size " << group
                         << " does not divide the reduction size " << k;
  int64_t blocks = k / group, blob = group * bits / 8;
  RankedTensorType w = getWeight().getType();
  if (w.getRank() != 3 || w.isDynamicDim(0) || w.getDimSize(1) != blocks ||
      w.getDimSize(2) != blob)
    return emitOpError() << "weight must be tensor<Nx" << blocks << "x" << blob
                         << "xi8> (N x groups x bytes per group), got " << w;
  int64_t n = w.getDimSize(0);
  SmallVector<int64_t> expected(in.getShape());
  expected.back() = n;
  if (out.getShape() != ArrayRef<int64_t>(expected))
    return emitOpError() << "result must be " << in.clone(expected) << ", got "
                         << out;
  SmallVector<int64_t> paramShape = {n, blocks};
  if (getScales().getType().getShape() != ArrayRef<int64_t>(paramShape))
    return emitOpError() << "scales must be tensor<" << n << "x" << blocks
                         << "xf32> (N x groups), got " << getScales().getType();
  if (getZeroPoints() &&
      getZeroPoints().getType().getShape() != ArrayRef<int64_t>(paramShape))
    return emitOpError() << "zero_points must be tensor<" << n << "x" << blocks
                         << "xi8> (N x groups), got "
                         << getZeroPoints().getType();
  if (getInt8Block() && isBF16Compute())
    return emitOpError() << "int8_block computes in integers; it excludes "
                            "'compute bf16'";
  if (getInt8Block()) {
    if (bits != 4 || (group != 64 && group != 128))
      return emitOpError() << "int8_block (ONNX Runtime's accuracy_level 4 "
                              "rule) needs 4 bits and group_size 64 or 128, "
                              "got "
                           << bits << " bits and group_size " << group;
  } else if (getBias()) {
    return emitOpError() << "a bias operand needs int8_block";
  }
  if (getBias() && getBias().getType().getShape() != ArrayRef<int64_t>{n})
    return emitOpError() << "bias must be tensor<" << n << "xf32>, got "
                         << getBias().getType();
  return success();
}
