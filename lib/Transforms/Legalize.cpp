//===- Legalize.cpp - calibrated float model to QDQ form --------*- C++ -*-===//
//
// qopt-legalize: reads the qopt.stats of a float model and writes its
// quantization in QDQ form (docs/qdq-form.md). Activations that feed an op
// with an integer kernel get quant.qcast / quant.dcast with parameters chosen
// from their statistics by a calibrator (lib/Calibration) and the numerics
// core (lib/Quant); constant weights and biases are quantized at compile time.
// Every op is checked before it is rewritten, so an op that cannot be
// quantized is either an error or left in float, never half-changed.
//
//===----------------------------------------------------------------------===//

#include "DynamicQuant.h"
#include "LegalizeWeightOnly.h"
#include "qopt/Calibration/Calibrators.h"
#include "qopt/Dialect/QOpt/IR/QOptOps.h"
#include "qopt/Quant/QuantParams.h"
#include "qopt/Quant/WeightQuant.h"
#include "qopt/Transforms/Passes.h"
#include "qopt/Transforms/QuantizableOps.h"
#include "qopt/Transforms/TensorNames.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

namespace mlir::qopt {
#define GEN_PASS_DEF_LEGALIZE
#include "qopt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

/// The attribute name under which an op carries its #qopt.precision.
static constexpr StringLiteral kPrecisionAttr = "qopt.precision";

/// The bounds [lo, hi] of a clamp written as a linalg.generic of one input:
/// `maximumf(x, lo)` (ReLU when lo = 0), optionally followed by
/// `minimumf(., hi)` (ReLU6 when hi = 6). Infinite bounds mean "none".
static std::optional<std::pair<double, double>> getClampBounds(Operation *op) {
  auto generic = dyn_cast_or_null<linalg::GenericOp>(op);
  if (!generic || generic.getNumDpsInputs() != 1 ||
      generic.getNumDpsInits() != 1)
    return std::nullopt;
  Block &body = generic.getRegion().front();
  Value value = cast<linalg::YieldOp>(body.getTerminator()).getOperand(0);
  double lo = -INFINITY, hi = INFINITY;
  auto constantOf = [&](Value v) -> std::optional<double> {
    FloatAttr attr;
    if (matchPattern(v, m_Constant(&attr)))
      return attr.getValueAsDouble();
    return std::nullopt;
  };
  // Peel min then max (or max then min) down to the block argument.
  for (int step = 0; step < 2 && value != body.getArgument(0); ++step) {
    Operation *def = value.getDefiningOp();
    if (!def || def->getNumOperands() != 2)
      return std::nullopt;
    Value other = def->getOperand(1), next = def->getOperand(0);
    if (!constantOf(other))
      std::swap(other, next);
    std::optional<double> bound = constantOf(other);
    if (!bound)
      return std::nullopt;
    if (isa<arith::MaximumFOp, arith::MaxNumFOp>(def))
      lo = std::max(lo, *bound);
    else if (isa<arith::MinimumFOp, arith::MinNumFOp>(def))
      hi = std::min(hi, *bound);
    else
      return std::nullopt;
    value = next;
  }
  if (value != body.getArgument(0) || (std::isinf(lo) && std::isinf(hi)))
    return std::nullopt;
  return std::make_pair(lo, hi);
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

namespace {
/// Options for one op: the pass options, overridden by #qopt.precision.
struct OpPrecision {
  bool keepFloat = false;
  /// bf16 or f16: the op computes on inputs of this type (f32 results).
  FloatType narrowFloat;
  QuantSpec activation;
  unsigned weightBits = 8;
  Granularity granularity = Granularity::PerChannel;
  int64_t groupSize = 0;
};

class LegalizePass : public qopt::impl::LegalizeBase<LegalizePass> {
public:
  using Base::Base;

  LogicalResult initialize(MLIRContext *context) override;
  void runOnOperation() override;

private:
  /// Checks the options of mode=dynamic (LegalizeDynamic.cpp does the work).
  LogicalResult initializeDynamic(Location loc);
  DynamicLegalizeOptions dynamicOptions;

  LogicalResult legalizeFunction(func::FuncOp func);
  LogicalResult legalizeOp(Operation *op);

  FailureOr<OpPrecision> getPrecision(Operation *op);
  /// The quantized type `value` gets when `op` consumes it, or failure with
  /// `reason` set (and no IR changed).
  FailureOr<quant::UniformQuantizedType>
  getActivationType(Value value, const QuantSpec &spec, std::string &reason);
  Value getOrCreateQDQ(Value value, quant::UniformQuantizedType type,
                       const QuantSpec &spec);
  FailureOr<Value> quantizeWeight(Operation *op, Value weight,
                                  const ContractionDims &dims,
                                  const OpPrecision &precision,
                                  ArrayRef<double> minScales,
                                  quant::QuantizedType &weightType);
  void quantizeBias(Operation *contraction, int64_t resultChannel,
                    quant::UniformQuantizedType actType,
                    quant::QuantizedType weightType);
  LogicalResult missing(Operation *op, Value value, StringRef reason);
  LogicalResult legalizeNarrowFloat(Operation *op, FloatType type);

  WeightOnlyOptions weightOnly;
  QuantSpec defaultActivation;
  Granularity defaultGranularity = Granularity::PerChannel;
  CalibratorKind calibratorKind = CalibratorKind::MinMax;

  /// QDQ values already created, per (float value, quantized type).
  DenseMap<std::pair<Value, Type>, Value> qdqCache;
};
} // namespace

LogicalResult LegalizePass::initialize(MLIRContext *context) {
  Location loc = UnknownLoc::get(context);
  if (mode != "static" && mode != "dynamic" && mode != "weight-only")
    return emitError(loc) << "qopt-legalize: unknown mode '" << mode
                          << "'; expected static, dynamic or weight-only";
  if (weightClip != "none" && weightClip != "search")
    return emitError(loc) << "qopt-legalize: unknown weight-clip '"
                          << weightClip << "'; expected none or search";
  if (activationQuant != "none" && activationQuant != "int8-block")
    return emitError(loc) << "qopt-legalize: unknown activation-quant '"
                          << activationQuant
                          << "'; expected none or int8-block";
  if (activationQuant != "none" && mode != "weight-only")
    return emitError(loc)
           << "qopt-legalize: activation-quant applies to mode=weight-only";
  if (computeType != "f32" && computeType != "bf16")
    return emitError(loc) << "qopt-legalize: unknown compute-type '"
                          << computeType << "'; expected f32 or bf16";
  if (mode != "weight-only" && computeType != "f32")
    return emitError(loc) << "qopt-legalize: compute-type=" << computeType
                          << " applies to mode=weight-only, not mode=" << mode;
  if (computeType == "bf16" && activationQuant != "none")
    return emitError(loc) << "qopt-legalize: compute-type=bf16 and "
                             "activation-quant="
                          << activationQuant
                          << " exclude each other (int8-block computes in "
                             "integers); choose one";
  if (failed(initializeDynamic(loc)))
    return failure();
  if (mode == "weight-only") {
    if (weightBits != 8 && weightBits != 4)
      return emitError(loc) << "qopt-legalize: unsupported weight-bits "
                            << weightBits.getValue() << "; expected 8 or 4";
    weightOnly.bits = weightBits;
    weightOnly.groupSize = groupSize;
    weightOnly.zeroPoint = weightZeroPoint;
    weightOnly.clipSearch = weightClip == "search";
    weightOnly.int8Block = activationQuant == "int8-block";
    if (weightOnly.int8Block &&
        (weightBits != 4 || (groupSize != 64 && groupSize != 128)))
      return emitError(loc)
             << "qopt-legalize: activation-quant=int8-block needs "
                "weight-bits=4 and group-size 64 or 128 (the cases whose "
                "ONNX Runtime rule is derived), got weight-bits="
             << weightBits.getValue() << " group-size=" << groupSize.getValue();
    weightOnly.bf16Compute = computeType == "bf16";
    return success();
  }
  if (weightClip != "none" || weightZeroPoint)
    return emitError(loc) << "qopt-legalize: weight-clip and "
                             "weight-zero-point apply to mode=weight-only";
  if (activations != "asymmetric" && activations != "symmetric")
    return emitError(loc) << "qopt-legalize: unknown activations scheme '"
                          << activations
                          << "'; expected asymmetric or symmetric";
  defaultActivation.symmetric = activations == "symmetric";
  if (activationType == "i8") {
    defaultActivation.bits = 8;
    defaultActivation.isSigned = true;
  } else if (activationType == "u8") {
    defaultActivation.bits = 8;
    defaultActivation.isSigned = false;
  } else if (activationType == "i16") {
    defaultActivation.bits = 16;
    defaultActivation.isSigned = true;
  } else {
    return emitError(loc) << "qopt-legalize: unsupported activation-type '"
                          << activationType << "'; expected i8, u8 or i16";
  }
  if (weights == "per-channel")
    defaultGranularity = Granularity::PerChannel;
  else if (weights == "per-tensor")
    defaultGranularity = Granularity::PerTensor;
  else if (weights == "per-group")
    defaultGranularity = Granularity::PerGroup;
  else
    return emitError(loc) << "qopt-legalize: unknown weights granularity '"
                          << weights
                          << "'; expected per-channel, per-tensor or per-group";
  if (weightBits != 8 && weightBits != 4)
    return emitError(loc) << "qopt-legalize: unsupported weight-bits "
                          << weightBits.getValue() << "; expected 8 or 4";
  if (defaultGranularity == Granularity::PerGroup && groupSize == 0)
    return emitError(loc)
           << "qopt-legalize: weights=per-group needs group-size=N (N > 0)";
  if (defaultGranularity != Granularity::PerGroup && groupSize != 0)
    return emitError(loc) << "qopt-legalize: group-size is only meaningful "
                             "with weights=per-group";
  std::optional<CalibratorKind> kind = parseCalibratorKind(calibrator);
  if (!kind)
    return emitError(loc) << "qopt-legalize: unknown calibrator '" << calibrator
                          << "'; expected minmax, percentile, entropy or mse";
  calibratorKind = *kind;
  if (!(percentile > 0.0 && percentile <= 100.0))
    return emitError(loc) << "qopt-legalize: percentile " << percentile
                          << " is outside (0, 100]";
  return success();
}

LogicalResult LegalizePass::initializeDynamic(Location loc) {
  if (weightType != "s8" && weightType != "u8")
    return emitError(loc) << "qopt-legalize: unknown weight-type '"
                          << weightType << "'; expected s8 or u8";
  if (dynamicGranularity != "tensor" && dynamicGranularity != "row")
    return emitError(loc) << "qopt-legalize: unknown dynamic-granularity '"
                          << dynamicGranularity << "'; expected tensor or row";
  if (mode != "dynamic") {
    if (weightType != "s8")
      return emitError(loc) << "qopt-legalize: weight-type=" << weightType
                            << " is only used by mode=dynamic";
    if (dynamicGranularity != "tensor")
      return emitError(loc)
             << "qopt-legalize: dynamic-granularity=" << dynamicGranularity
             << " is only used by mode=dynamic";
    return success();
  }
  // Activations are ONNX Runtime's DynamicQuantizeLinear: asymmetric u8.
  if (activations != "asymmetric")
    return emitError(loc)
           << "qopt-legalize: mode=dynamic quantizes activations asymmetric "
              "u8 (ONNX Runtime's DynamicQuantizeLinear); activations="
           << activations << " is not supported";
  if (activationType == "i16")
    return emitError(loc) << "qopt-legalize: mode=dynamic quantizes "
                             "activations to u8; activation-type=i16 is not "
                             "supported";
  if (weights == "per-group" || groupSize != 0)
    return emitError(loc) << "qopt-legalize: mode=dynamic quantizes weights "
                             "per channel or per tensor; per-group weights "
                             "belong to mode=weight-only";
  if (weightBits != 8)
    return emitError(loc) << "qopt-legalize: mode=dynamic quantizes weights "
                             "to 8 bits; weight-bits="
                          << weightBits.getValue() << " is not supported";
  dynamicOptions.perChannelWeights = weights == "per-channel";
  dynamicOptions.unsignedWeights = weightType == "u8";
  dynamicOptions.perRowActivations = dynamicGranularity == "row";
  return success();
}

FailureOr<OpPrecision> LegalizePass::getPrecision(Operation *op) {
  OpPrecision precision;
  precision.activation = defaultActivation;
  precision.weightBits = weightBits;
  precision.granularity = defaultGranularity;
  precision.groupSize = groupSize;
  auto attr = op->getAttrOfType<PrecisionAttr>(kPrecisionAttr);
  if (!attr)
    return precision;
  auto actType = dyn_cast<IntegerType>(attr.getActivation());
  if (!actType) {
    precision.keepFloat = true;
    Type act = attr.getActivation();
    if (act.isBF16() || act.isF16()) {
      if (attr.getWeight() && attr.getWeight() != act)
        return op->emitError()
               << "precision " << attr << " mixes " << act << " activations "
               << "with " << attr.getWeight()
               << " weights; qopt-legalize computes in one float type";
      precision.narrowFloat = cast<FloatType>(act);
    } else if (!act.isF32()) {
      return op->emitError() << "precision " << attr << " asks for " << act
                             << " activations; qopt-legalize keeps ops in "
                                "f32, bf16 or f16";
    }
    return precision;
  }
  unsigned bits = actType.getWidth();
  if (bits != 8 && bits != 16)
    return op->emitError() << "precision " << attr << " asks for " << bits
                           << "-bit activations; qopt-legalize supports 8 "
                              "and 16";
  precision.activation.bits = bits;
  precision.activation.isSigned = !actType.isUnsigned();
  if (auto weightType = dyn_cast_or_null<IntegerType>(attr.getWeight())) {
    if (weightType.getWidth() != 8 && weightType.getWidth() != 4)
      return op->emitError()
             << "precision " << attr << " asks for " << weightType.getWidth()
             << "-bit weights; qopt-legalize supports 8 and 4";
    precision.weightBits = weightType.getWidth();
    precision.granularity = attr.getGranularity();
    precision.groupSize = attr.getGroupSize();
  }
  return precision;
}

LogicalResult LegalizePass::missing(Operation *op, Value value,
                                    StringRef reason) {
  std::string name = getTensorName(stripStats(value));
  if (!allowMissingStats) {
    InFlightDiagnostic diag = op->emitError();
    diag << "cannot quantize '" << op->getName() << "': ";
    if (!name.empty())
      diag << "input '" << name << "' ";
    else
      diag << "an input ";
    diag << reason
         << "; import calibration statistics (qopt-import-calibration) or "
            "pass allow-missing-stats=true to keep this op in float";
    return failure();
  }
  InFlightDiagnostic diag = op->emitWarning();
  diag << "keeping '" << op->getName() << "' in float: ";
  if (!name.empty())
    diag << "input '" << name << "' ";
  diag << reason;
  ++numFloatOps;
  return success();
}

FailureOr<quant::UniformQuantizedType>
LegalizePass::getActivationType(Value value, const QuantSpec &spec,
                                std::string &reason) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || !isa<FloatType>(type.getElementType())) {
    reason = "is not a float tensor";
    return failure();
  }
  Operation *producer = stripStats(value).getDefiningOp();

  // Scale-keeping producer: share the parameters of its input.
  if (producer && isScaleKeeping(producer)) {
    std::string inner;
    FailureOr<quant::UniformQuantizedType> shared =
        getActivationType(getScaleKeepingInput(producer), spec, inner);
    if (succeeded(shared))
      return shared;
  }

  double lo, hi;
  std::optional<int64_t> exactZp;
  double exactScale = 0.0;
  StatsOp stats = lookupStats(value);
  std::optional<std::pair<double, double>> clamp = getClampBounds(producer);
  if (!stats && clamp) {
    // ReLU/clamp without statistics of its own: its input's range, narrowed.
    auto generic = cast<linalg::GenericOp>(producer);
    stats = lookupStats(generic.getDpsInputOperand(0)->get());
  }
  if (!stats) {
    reason = "has no calibration statistics";
    return failure();
  }
  if (stats.hasExactParams() && !stats.isPerAxis() &&
      (!stats.getBits() || *stats.getBits() == spec.bits)) {
    exactScale = stats.getScale()->front();
    // Stats zero points are on the signed grid; unsigned storage shifts it.
    exactZp = stats.getZeroPoint()->front() +
              (spec.isSigned ? 0 : int64_t(1) << (spec.bits - 1));
    if (*exactZp < spec.qmin() || *exactZp > spec.qmax()) {
      reason = "has a zero point from the calibration file outside the "
               "storage range";
      return failure();
    }
  } else {
    TensorStats ts;
    ts.min.assign(stats.getMin().begin(), stats.getMin().end());
    ts.max.assign(stats.getMax().begin(), stats.getMax().end());
    if (stats.isPerAxis()) {
      // Activations are quantized per tensor: the union of the slices.
      ts.min = {*llvm::min_element(ts.min)};
      ts.max = {*llvm::max_element(ts.max)};
    } else if (stats.hasHistogram()) {
      Histogram hist;
      hist.min = stats.getHistMin()->convertToDouble();
      hist.max = stats.getHistMax()->convertToDouble();
      hist.counts.assign(stats.getCounts()->begin(), stats.getCounts()->end());
      ts.histogram = std::move(hist);
    }
    CalibratorOptions opts;
    opts.kind = calibratorKind;
    opts.percentile = percentile;
    opts.bits = spec.bits;
    opts.symmetric = spec.symmetric;
    llvm::Expected<CalibrationRange> range = computeRange(ts, opts);
    if (!range) {
      reason = "has statistics the " + calibrator.getValue() +
               " calibrator cannot use (" + llvm::toString(range.takeError()) +
               ")";
      return failure();
    }
    lo = range->min;
    hi = range->max;
    if (clamp) {
      lo = std::max(lo, clamp->first);
      hi = std::min(hi, clamp->second);
      if (lo > hi)
        lo = hi = std::max(clamp->first, std::min(lo, clamp->second));
    }
    llvm::Expected<QuantParams> params = chooseQuantParams(lo, hi, spec);
    if (!params) {
      reason = "has a range with no valid parameters (" +
               llvm::toString(params.takeError()) + ")";
      return failure();
    }
    exactScale = roundScaleToF32(params->scale);
    exactZp = params->zeroPoint;
  }
  MLIRContext *ctx = value.getContext();
  Type storage = IntegerType::get(ctx, spec.bits);
  unsigned flags = spec.isSigned ? quant::QuantizationFlags::Signed : 0;
  return quant::UniformQuantizedType::get(flags, storage, type.getElementType(),
                                          exactScale, *exactZp, spec.qmin(),
                                          spec.qmax());
}

Value LegalizePass::getOrCreateQDQ(Value value,
                                   quant::UniformQuantizedType qtype,
                                   const QuantSpec &spec) {
  auto key = std::make_pair(value, Type(qtype));
  if (Value cached = qdqCache.lookup(key))
    return cached;
  // A value produced by a scale-keeping op with a quantized input: quantize
  // the input first, so the op reads a dcast and keeps the scale.
  Operation *producer = stripStats(value).getDefiningOp();
  if (producer && isScaleKeeping(producer)) {
    Value input = getScaleKeepingInput(producer);
    std::string reason;
    FailureOr<quant::UniformQuantizedType> inType =
        getActivationType(input, spec, reason);
    if (succeeded(inType) && *inType == qtype) {
      Value inputQDQ = getOrCreateQDQ(input, qtype, spec);
      OpOperand &operand =
          isa<linalg::LinalgOp>(producer)
              ? *cast<linalg::LinalgOp>(producer).getDpsInputOperand(0)
              : producer->getOpOperand(0);
      operand.set(inputQDQ);
    }
  }

  OpBuilder builder(value.getContext());
  if (auto arg = dyn_cast<BlockArgument>(value))
    builder.setInsertionPointToStart(arg.getOwner());
  else
    builder.setInsertionPointAfter(value.getDefiningOp());
  auto floatType = cast<RankedTensorType>(value.getType());
  auto quantType = floatType.clone(qtype);
  Location loc = value.getLoc();
  Value q = quant::QuantizeCastOp::create(builder, loc, quantType, value);
  Value d = quant::DequantizeCastOp::create(builder, loc, floatType, q);
  qdqCache[key] = d;
  return d;
}

FailureOr<Value> LegalizePass::quantizeWeight(
    Operation *op, Value weight, const ContractionDims &dims,
    const OpPrecision &precision, ArrayRef<double> minScales,
    quant::QuantizedType &weightType) {
  // The constant is quantized in its own layout (a transposed initializer
  // keeps its ONNX layout, per channel along the constant's dimension that
  // the output channel reads) and the transpose follows the dequantization.
  std::optional<ConstantWeight> constant = getConstantWeight(weight);
  if (!constant)
    return op->emitError() << "cannot read the constant weight of '"
                           << op->getName() << "'";
  auto type = cast<RankedTensorType>(constant->constant.getType());
  WeightQuantSpec spec;
  spec.storage.bits = precision.weightBits;
  if (precision.granularity != Granularity::PerTensor)
    spec.channelAxis = constant->getConstantDim(dims.weightChannel);
  if (precision.granularity == Granularity::PerGroup) {
    if (!dims.weightReduction || type.getRank() != 2)
      return op->emitError()
             << "per-group weights need a 2-D matmul weight "
                "with one reduction dimension; '"
             << op->getName() << "' has " << type.getRank() << "-D weights";
    spec.groupAxis = constant->getConstantDim(*dims.weightReduction);
    spec.groupSize = precision.groupSize;
    if (type.getDimSize(*spec.groupAxis) % precision.groupSize != 0)
      return op->emitError()
             << "group size " << precision.groupSize
             << " does not divide the reduction dimension (size "
             << type.getDimSize(*spec.groupAxis) << ") of the weight " << type;
  }
  llvm::Expected<QuantizedWeights> q =
      quantizeWeights(constant->data, type.getShape(), spec);
  if (!q)
    return op->emitError() << "cannot quantize the weight of '" << op->getName()
                           << "': " << llvm::toString(q.takeError());

  int64_t qmin = spec.storage.qmin(), qmax = spec.storage.qmax();
  // Weight scales too small for the int32 bias (minScales, from the bias:
  // ONNX Runtime's quantizer raises them the same way) are raised, and the
  // values of those channels quantized again with the larger scale.
  if (!minScales.empty() && !spec.groupAxis &&
      minScales.size() == q->scales.size()) {
    int64_t stride = 1, size = 1;
    if (spec.channelAxis) {
      size = type.getDimSize(*spec.channelAxis);
      for (int64_t d = *spec.channelAxis + 1; d < type.getRank(); ++d)
        stride *= type.getDimSize(d);
    }
    for (size_t c = 0; c < q->scales.size(); ++c) {
      if (!(q->scales[c] < minScales[c]) || q->zeroPoints[c] != 0)
        continue;
      float raised = static_cast<float>(minScales[c]);
      if (static_cast<double>(raised) < minScales[c])
        raised = std::nextafter(raised, INFINITY);
      q->scales[c] = raised;
      for (size_t i = 0; i < constant->data.size(); ++i) {
        if (spec.channelAxis &&
            static_cast<size_t>((static_cast<int64_t>(i) / stride) % size) != c)
          continue;
        double v = roundHalfToEven(constant->data[i] / q->scales[c]);
        q->values[i] = static_cast<int64_t>(
            std::min<double>(std::max<double>(v, qmin), qmax));
      }
    }
  }

  MLIRContext *ctx = op->getContext();
  Type expressed = type.getElementType();
  auto storage = IntegerType::get(ctx, spec.storage.bits);
  unsigned flags = quant::QuantizationFlags::Signed;
  if (!spec.channelAxis) {
    weightType = quant::UniformQuantizedType::get(
        flags, storage, expressed, q->scales.front(), q->zeroPoints.front(),
        qmin, qmax);
  } else if (!spec.groupAxis) {
    weightType = quant::UniformQuantizedPerAxisType::get(
        flags, storage, expressed, q->scales, q->zeroPoints,
        static_cast<int32_t>(*spec.channelAxis), qmin, qmax);
  } else {
    auto gridType = RankedTensorType::get(q->paramShape, expressed);
    SmallVector<APFloat> scales;
    for (double s : q->scales) {
      APFloat v(s);
      bool lost;
      v.convert(cast<FloatType>(expressed).getFloatSemantics(),
                APFloat::rmNearestTiesToEven, &lost);
      scales.push_back(v);
    }
    SmallVector<APInt> zps;
    for (int64_t zp : q->zeroPoints)
      zps.push_back(APInt(spec.storage.bits, zp, /*isSigned=*/true));
    SmallVector<int32_t> quantDims;
    SmallVector<int64_t> blockSizes;
    for (int64_t d = 0; d < type.getRank(); ++d) {
      quantDims.push_back(d);
      blockSizes.push_back(d == *spec.groupAxis ? spec.groupSize : 1);
    }
    weightType = quant::UniformQuantizedSubChannelType::get(
        flags, storage, expressed, DenseElementsAttr::get(gridType, scales),
        DenseElementsAttr::get(RankedTensorType::get(q->paramShape, storage),
                               zps),
        quantDims, blockSizes, qmin, qmax);
  }

  SmallVector<APInt> values;
  values.reserve(q->values.size());
  for (int64_t v : q->values)
    values.push_back(APInt(spec.storage.bits, v, /*isSigned=*/true));
  auto intType = RankedTensorType::get(type.getShape(), storage);
  OpBuilder builder(op);
  Location loc = constant->constant.getLoc();
  Value ints = arith::ConstantOp::create(
      builder, loc, DenseElementsAttr::get(intType, values));
  Value quantized =
      quant::StorageCastOp::create(builder, loc, type.clone(weightType), ints);
  ++numWeights;
  Value dequantized =
      quant::DequantizeCastOp::create(builder, loc, type, quantized);
  if (!constant->transpose)
    return dequantized;
  linalg::TransposeOp transpose = constant->transpose;
  auto resultType = cast<RankedTensorType>(weight.getType());
  Value empty = tensor::EmptyOp::create(builder, transpose.getLoc(),
                                        resultType.getShape(),
                                        resultType.getElementType());
  return linalg::TransposeOp::create(builder, transpose.getLoc(), dequantized,
                                     empty, transpose.getPermutation())
      .getResult()[0];
}

/// Erases the float weight a quantized one replaced, once nothing uses it:
/// the constant, and the transpose and its init when it was transposed.
static void eraseUnusedWeight(Value weight) {
  llvm::SetVector<Operation *> worklist;
  if (Operation *def = weight.getDefiningOp())
    worklist.insert(def);
  while (!worklist.empty()) {
    Operation *op = worklist.pop_back_val();
    if (!op->use_empty() ||
        !isa<arith::ConstantOp, tensor::EmptyOp, linalg::TransposeOp>(op))
      continue;
    for (Value operand : op->getOperands())
      if (Operation *def = operand.getDefiningOp())
        worklist.insert(def);
    op->erase();
  }
}

/// The value under any tensor.expand_shape / collapse_shape of `value`:
/// ONNX importers write a convolution's bias as a [C] initializer reshaped
/// to [C, 1, 1].
static Value throughReshapes(Value value) {
  while (Operation *def = value.getDefiningOp()) {
    if (!isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(def))
      break;
    value = def->getOperand(0);
  }
  return value;
}

/// The values of a bias constant, looking through reshapes.
static std::optional<std::vector<float>> getBiasFloats(Value bias) {
  return getConstantFloats(throughReshapes(bias));
}

/// A bias add that follows a contraction.
struct BiasAdd {
  linalg::GenericOp generic;
  /// The bias operand's index among the generic's inputs.
  unsigned biasIndex;
  /// The bias dimension that runs along the output channel; every other
  /// dimension has size 1 (a [C] bias, or [C, 1, 1] for NCHW).
  unsigned channelDim;
};

/// The bias add that follows a contraction: a linalg.generic adding its
/// result and a float constant that varies along the output channel only
/// (a [C] tensor read at the channel loop, or one with extra unit
/// dimensions, possibly through a reshape of the constant).
static std::optional<BiasAdd> matchBiasAdd(Operation *contraction,
                                           int64_t resultChannel) {
  Value result = contraction->getResult(0);
  if (!result.hasOneUse())
    return std::nullopt;
  // Statistics of the un-biased result sit in between; look through them.
  if (auto stats = dyn_cast<StatsOp>(*result.getUsers().begin())) {
    result = stats.getResult();
    if (!result.hasOneUse())
      return std::nullopt;
  }
  auto generic = dyn_cast<linalg::GenericOp>(*result.getUsers().begin());
  if (!generic || generic.getNumDpsInputs() != 2)
    return std::nullopt;
  Block &body = generic.getRegion().front();
  auto add = dyn_cast_or_null<arith::AddFOp>(
      cast<linalg::YieldOp>(body.getTerminator())
          .getOperand(0)
          .getDefiningOp());
  if (!add || body.getOperations().size() != 2)
    return std::nullopt;
  AffineExpr channelExpr =
      getAffineDimExpr(resultChannel, generic.getContext());
  for (unsigned biasIndex : {0u, 1u}) {
    unsigned resultIndex = 1 - biasIndex;
    if (generic.getDpsInputOperand(resultIndex)->get() != result)
      continue;
    Value bias = generic.getDpsInputOperand(biasIndex)->get();
    auto biasType = dyn_cast<RankedTensorType>(bias.getType());
    if (!biasType || !biasType.hasStaticShape() || biasType.getRank() < 1 ||
        !getBiasFloats(bias))
      continue;
    SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
    AffineMap biasMap = maps[biasIndex];
    if (!maps[resultIndex].isIdentity() || !maps[2].isIdentity() ||
        biasMap.getNumResults() != biasType.getRank())
      continue;
    // One dimension at the channel loop; the others have size 1, so
    // whatever their expression reads is element 0.
    std::optional<unsigned> channelDim;
    bool ok = true;
    for (unsigned i = 0; i < biasMap.getNumResults(); ++i) {
      if (biasMap.getResult(i) == channelExpr && !channelDim)
        channelDim = i;
      else if (biasType.getDimSize(i) != 1)
        ok = false;
    }
    if (!ok || !channelDim)
      continue;
    return BiasAdd{generic, biasIndex, *channelDim};
  }
  return std::nullopt;
}

void LegalizePass::quantizeBias(Operation *contraction, int64_t resultChannel,
                                quant::UniformQuantizedType actType,
                                quant::QuantizedType weightType) {
  std::optional<BiasAdd> match = matchBiasAdd(contraction, resultChannel);
  if (!match)
    return;
  linalg::GenericOp generic = match->generic;
  unsigned biasIndex = match->biasIndex;
  OpOperand *operand = generic.getDpsInputOperand(biasIndex);
  Value bias = operand->get();
  auto biasType = cast<RankedTensorType>(bias.getType());
  std::vector<float> data = *getBiasFloats(bias);
  int64_t channels = biasType.getDimSize(match->channelDim);

  // Per-channel weight scales, or one scale repeated.
  SmallVector<double> weightScales;
  if (auto perAxis = dyn_cast<quant::UniformQuantizedPerAxisType>(weightType))
    weightScales.assign(perAxis.getScales().begin(), perAxis.getScales().end());
  else if (auto uniform = dyn_cast<quant::UniformQuantizedType>(weightType))
    weightScales.assign(channels, uniform.getScale());
  else
    return; // per-group weights have no single per-channel scale
  if (static_cast<int64_t>(weightScales.size()) != channels)
    return;

  // s_bias = s_in * s_w, computed in float32 as the integer kernel's
  // accumulator scale is (docs/numerics.md).
  SmallVector<double> scales;
  SmallVector<int64_t> zeroPoints(channels, 0);
  SmallVector<APInt> values;
  for (int64_t c = 0; c < channels; ++c) {
    double scale = accumulatorScale(actType.getScale(), weightScales[c]);
    scales.push_back(scale);
    double q = roundHalfToEven(static_cast<double>(data[c]) / scale);
    q = std::min<double>(std::max<double>(q, INT32_MIN), INT32_MAX);
    values.push_back(APInt(32, static_cast<int64_t>(q), /*isSigned=*/true));
  }
  MLIRContext *ctx = contraction->getContext();
  auto i32 = IntegerType::get(ctx, 32);
  auto qtype = quant::UniformQuantizedPerAxisType::get(
      quant::QuantizationFlags::Signed, i32, biasType.getElementType(), scales,
      zeroPoints, /*quantizedDimension=*/0, INT32_MIN, INT32_MAX);
  OpBuilder builder(generic);
  // The constant's own location (its tensor name), under any reshapes.
  Location loc = throughReshapes(bias).getLoc();
  Value ints = arith::ConstantOp::create(
      builder, loc,
      DenseElementsAttr::get(RankedTensorType::get({channels}, i32), values));
  // The quantized bias is [C], read at the channel loop: the form the
  // integer kernels fold into the accumulator.
  auto vectorType =
      RankedTensorType::get({channels}, biasType.getElementType());
  Value quantized =
      quant::StorageCastOp::create(builder, loc, vectorType.clone(qtype), ints);
  operand->set(
      quant::DequantizeCastOp::create(builder, loc, vectorType, quantized));
  if (biasType.getRank() != 1) {
    SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
    maps[biasIndex] =
        AffineMap::get(maps[biasIndex].getNumDims(), 0,
                       maps[biasIndex].getResult(match->channelDim), ctx);
    generic.setIndexingMapsAttr(builder.getAffineMapArrayAttr(maps));
  }
  // The float bias and the reshapes it went through, once unused.
  while (Operation *def = bias.getDefiningOp()) {
    if (!def->use_empty())
      break;
    Value source = isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(def)
                       ? def->getOperand(0)
                       : Value();
    def->erase();
    if (!source)
      break;
    bias = source;
  }
}

/// The smallest weight scale, per output channel (one value when
/// `perTensor`), that keeps the contraction's bias in int32: the bias scale
/// is s_in * s_w, and |b| / (s_in * s_w) must stay within int32. As ONNX
/// Runtime's quantize_static does (qdq_quantizer.py,
/// _adjust_weight_scale_for_int32_bias): the smallest valid bias scale is
/// 1.0001 * 2 * |b| / (2^32 - 2), and the weight scale is raised to it over
/// s_in where s_in * s_w is below it. A channel whose weights are (nearly)
/// all zero, after a folded batch norm with gamma about 0, would otherwise
/// get a bias scale near the smallest float and a saturated bias. Empty
/// when there is no bias to fold.
static SmallVector<double>
getMinWeightScales(Operation *contraction, int64_t resultChannel,
                   quant::UniformQuantizedType actType, bool perTensor) {
  std::optional<BiasAdd> match = matchBiasAdd(contraction, resultChannel);
  if (!match)
    return {};
  std::vector<float> data = *getBiasFloats(
      match->generic.getDpsInputOperand(match->biasIndex)->get());
  const double range = 2.0 * 2147483647.0;
  SmallVector<double> minScales;
  double absMax = 0.0;
  for (float b : data) {
    double minBiasScale = 1.0001 * 2.0 * std::fabs(double(b)) / range;
    minScales.push_back(minBiasScale / actType.getScale());
    absMax = std::max(absMax, std::fabs(double(b)));
  }
  if (perTensor)
    return {1.0001 * 2.0 * absMax / range / actType.getScale()};
  return minScales;
}

/// A contraction in bf16 or f16 (#qopt.precision<act = bf16, weight =
/// bf16>): its inputs become that type (constant weights converted at
/// compile time, activations through an elementwise truncf), and the op is
/// rebuilt with its own region builder, so it extends the products to f32
/// and accumulates in f32, as AVX512-BF16 vdpbf16ps and tensor cores do:
///
///   %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x2xf32>) ...
/// becomes
///   %xb = linalg.generic ... ins(%x) { arith.truncf } -> tensor<1x4xbf16>
///   %y = linalg.matmul ins(%xb, %wb : tensor<1x4xbf16>, tensor<4x2xbf16>)
///          outs(%z : tensor<1x2xf32>)
LogicalResult LegalizePass::legalizeNarrowFloat(Operation *op, FloatType type) {
  if (!isContraction(op))
    return op->emitError() << "qopt-legalize computes in " << type
                           << " only matmuls and convolutions; give '"
                           << op->getName() << "' an integer or f32 precision";
  auto linalgOp = cast<linalg::LinalgOp>(op);
  for (OpOperand *operand : linalgOp.getDpsInputOperands()) {
    auto tensorType = dyn_cast<RankedTensorType>(operand->get().getType());
    if (!tensorType || !tensorType.hasStaticShape())
      return op->emitError()
             << "computing in " << type << " needs statically shaped inputs";
  }
  OpBuilder builder(op);
  Location loc = op->getLoc();
  SmallVector<Value> operands;
  for (OpOperand *operand : linalgOp.getDpsInputOperands()) {
    Value value = operand->get();
    auto narrowType = cast<RankedTensorType>(value.getType()).clone(type);
    if (std::optional<std::vector<float>> data = getConstantFloats(value)) {
      SmallVector<APFloat> converted;
      converted.reserve(data->size());
      for (float f : *data) {
        APFloat v(f);
        bool lost;
        v.convert(type.getFloatSemantics(), APFloat::rmNearestTiesToEven,
                  &lost);
        converted.push_back(v);
      }
      operands.push_back(arith::ConstantOp::create(
          builder, value.getLoc(),
          DenseElementsAttr::get(narrowType, converted)));
      continue;
    }
    Value empty =
        tensor::EmptyOp::create(builder, loc, narrowType.getShape(), type);
    AffineMap identity = builder.getMultiDimIdentityMap(narrowType.getRank());
    SmallVector<utils::IteratorType> parallel(narrowType.getRank(),
                                              utils::IteratorType::parallel);
    auto trunc = linalg::GenericOp::create(
        builder, loc, narrowType, value, empty,
        ArrayRef<AffineMap>{identity, identity}, parallel,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value t = arith::TruncFOp::create(b, l, type, args[0]);
          linalg::YieldOp::create(b, l, t);
        });
    operands.push_back(trunc.getResult(0));
  }
  for (Value init : linalgOp.getDpsInits())
    operands.push_back(init);

  Operation *rebuilt =
      rebuildNamedOp(builder, linalgOp, operands, op->getResultTypes());

  llvm::SetVector<Operation *> oldInputs;
  for (OpOperand *operand : linalgOp.getDpsInputOperands())
    if (Operation *def = operand->get().getDefiningOp())
      oldInputs.insert(def);
  op->replaceAllUsesWith(rebuilt->getResults());
  op->erase();
  for (Operation *def : oldInputs)
    if (def->use_empty() && isa<arith::ConstantOp>(def))
      def->erase();
  ++numFloatOps;
  return success();
}

LogicalResult LegalizePass::legalizeOp(Operation *op) {
  if (mode == "weight-only") {
    FailureOr<bool> rewritten = legalizeWeightOnly(op, weightOnly);
    if (failed(rewritten))
      return failure();
    if (*rewritten) {
      ++numQuantizedOps;
      ++numWeights;
    }
    return success();
  }
  bool contraction = isContraction(op);
  bool elementwise = !contraction && isElementwiseArith(op);
  bool sumPool = isSumPooling(op);
  bool concat = isa<tensor::ConcatOp>(op);
  if (!contraction && !elementwise && !sumPool && !concat)
    return success();
  // Already in QDQ form (an imported ONNX QDQ model, or IR written that way):
  // the quantization the model carries stands, and qopt-quantize-kernels
  // takes the op from there. Statistics are neither needed nor used.
  if (llvm::any_of(op->getOperands(), [](Value v) {
        return v.getDefiningOp<quant::DequantizeCastOp>() != nullptr;
      }))
    return success();

  FailureOr<OpPrecision> precision = getPrecision(op);
  if (failed(precision))
    return failure();
  if (precision->narrowFloat)
    return legalizeNarrowFloat(op, precision->narrowFloat);
  if (precision->keepFloat) {
    ++numFloatOps;
    return success();
  }
  const QuantSpec &spec = precision->activation;

  // Plan: parameters for every quantized input, before touching the IR.
  SmallVector<OpOperand *> actOperands;
  SmallVector<quant::UniformQuantizedType> actTypes;
  OpOperand *weightOperand = nullptr;
  std::optional<ContractionDims> dims;
  if (contraction) {
    auto linalgOp = cast<linalg::LinalgOp>(op);
    dims = getContractionDims(linalgOp);
    if (!dims)
      return success(); // not a shape we know how to quantize: stays float
    actOperands.push_back(linalgOp.getDpsInputOperand(0));
    OpOperand *rhs = linalgOp.getDpsInputOperand(1);
    if (getConstantWeight(rhs->get()))
      weightOperand = rhs;
    else
      actOperands.push_back(rhs);
  } else if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op)) {
    actOperands.push_back(linalgOp.getDpsInputOperand(0));
    if (elementwise)
      actOperands.push_back(linalgOp.getDpsInputOperand(1));
  } else {
    for (OpOperand &operand : op->getOpOperands())
      actOperands.push_back(&operand);
  }

  if (concat) {
    // One type for every input: the result's statistics, else the union of
    // the inputs' ranges.
    std::string reason;
    FailureOr<quant::UniformQuantizedType> common =
        getActivationType(op->getResult(0), spec, reason);
    if (failed(common)) {
      double lo = INFINITY, hi = -INFINITY;
      for (OpOperand *operand : actOperands) {
        std::string inner;
        FailureOr<quant::UniformQuantizedType> t =
            getActivationType(operand->get(), spec, inner);
        if (failed(t))
          return missing(op, operand->get(), inner);
        double tlo =
            t->getScale() * (t->getStorageTypeMin() - t->getZeroPoint());
        double thi =
            t->getScale() * (t->getStorageTypeMax() - t->getZeroPoint());
        lo = std::min(lo, tlo);
        hi = std::max(hi, thi);
      }
      llvm::Expected<QuantParams> params = chooseQuantParams(lo, hi, spec);
      if (!params)
        return op->emitError() << "cannot choose a common scale for concat: "
                               << llvm::toString(params.takeError());
      auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
      common = quant::UniformQuantizedType::get(
          spec.isSigned ? quant::QuantizationFlags::Signed : 0,
          IntegerType::get(op->getContext(), spec.bits),
          resultType.getElementType(), roundScaleToF32(params->scale),
          params->zeroPoint, spec.qmin(), spec.qmax());
    }
    actTypes.assign(actOperands.size(), *common);
  } else {
    for (OpOperand *operand : actOperands) {
      std::string reason;
      FailureOr<quant::UniformQuantizedType> t =
          getActivationType(operand->get(), spec, reason);
      if (failed(t))
        return missing(op, operand->get(), reason);
      actTypes.push_back(*t);
    }
  }

  // Rewrite.
  quant::QuantizedType weightType;
  if (weightOperand) {
    SmallVector<double> minScales =
        getMinWeightScales(op, dims->resultChannel, actTypes.front(),
                           precision->granularity == Granularity::PerTensor);
    FailureOr<Value> weight = quantizeWeight(op, weightOperand->get(), *dims,
                                             *precision, minScales, weightType);
    if (failed(weight))
      return failure();
    Value original = weightOperand->get();
    weightOperand->set(*weight);
    eraseUnusedWeight(original);
  }
  for (auto [operand, type] : llvm::zip(actOperands, actTypes))
    operand->set(getOrCreateQDQ(operand->get(), type, spec));
  if (weightOperand)
    quantizeBias(op, dims->resultChannel, actTypes.front(), weightType);
  ++numQuantizedOps;
  return success();
}

LogicalResult LegalizePass::legalizeFunction(func::FuncOp func) {
  // Collect first: rewriting inserts ops that must not be visited.
  SmallVector<Operation *> ops;
  func.walk([&](Operation *op) { ops.push_back(op); });
  for (Operation *op : ops)
    if (failed(legalizeOp(op)))
      return failure();
  return success();
}

void LegalizePass::runOnOperation() {
  qdqCache.clear();
  if (mode == "dynamic") {
    DynamicLegalizeCounts counts;
    if (failed(legalizeDynamic(getOperation(), dynamicOptions, counts)))
      return signalPassFailure();
    numQuantizedOps += counts.quantizedOps;
    numFloatOps += counts.floatOps;
    numWeights += counts.weights;
  } else {
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (failed(legalizeFunction(func)))
        return signalPassFailure();
  }
  // The statistics are consumed: the QDQ types now carry what they said, and
  // kernels match producer -> consumer chains without them in between.
  getOperation().walk([](StatsOp stats) {
    stats.getResult().replaceAllUsesWith(stats.getInput());
    stats.erase();
  });
}
