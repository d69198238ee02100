//===- ImportCalibration.cpp - attach calibration statistics ----*- C++ -*-===//
//
// qopt-import-calibration: reads a calibration file (lib/Calibration) and puts
// a qopt.stats op on every value the file names. The pass plans every change
// first and only then rewrites, so any error leaves the IR as it was.
//
//===----------------------------------------------------------------------===//

#include "qopt/Calibration/CalibrationTable.h"
#include "qopt/Dialect/QOpt/IR/QOptOps.h"
#include "qopt/Transforms/Passes.h"
#include "qopt/Transforms/TensorNames.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringExtras.h"

#include <algorithm>

namespace mlir::qopt {
#define GEN_PASS_DEF_IMPORTCALIBRATION
#include "qopt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

/// How many names a warning lists before it says "and N more".
static constexpr size_t kNamesInWarning = 5;

static std::string listNames(ArrayRef<std::string> names) {
  std::string text;
  llvm::raw_string_ostream os(text);
  size_t shown = std::min(names.size(), kNamesInWarning);
  for (size_t i = 0; i < shown; ++i)
    os << (i ? ", " : "") << "'" << names[i] << "'";
  if (names.size() > shown)
    os << " and " << names.size() - shown << " more";
  return text;
}

/// The qopt.stats op already annotating `value`, if any.
static StatsOp getExistingStats(Value value) {
  for (Operation *user : value.getUsers())
    if (auto stats = dyn_cast<StatsOp>(user))
      return stats;
  return {};
}

/// Float tensors that calibration is expected to cover: named values of
/// float tensor type, except constants (weights are calibrated from their
/// values, not from a file).
static bool expectsStats(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || !isa<FloatType>(type.getElementType()))
    return false;
  Operation *def = value.getDefiningOp();
  return !def || !def->hasTrait<OpTrait::ConstantLike>();
}

namespace {
struct PlannedStats {
  Value value;
  const TensorStats *stats;
};

class ImportCalibrationPass
    : public qopt::impl::ImportCalibrationBase<ImportCalibrationPass> {
public:
  using Base::Base;

  LogicalResult initialize(MLIRContext *context) override;
  void runOnOperation() override;

private:
  LogicalResult plan(ModuleOp module, const CalibrationTable &table,
                     SmallVectorImpl<PlannedStats> &planned,
                     SmallVectorImpl<std::string> &unmatched,
                     SmallVectorImpl<std::string> &missing);
  LogicalResult apply(const PlannedStats &planned, CalibrationFormat format);

  CalibrationFormat parsedFormat = CalibrationFormat::Auto;
};
} // namespace

LogicalResult ImportCalibrationPass::initialize(MLIRContext *context) {
  Location loc = UnknownLoc::get(context);
  std::optional<CalibrationFormat> fmt = parseCalibrationFormat(format);
  if (!fmt)
    return emitError(loc) << "qopt-import-calibration: unknown format '"
                          << format
                          << "'; expected auto, qopt, tensorrt, onnxruntime, "
                             "aimet or tpu-mlir";
  parsedFormat = *fmt;
  if (match != "exact" && match != "suffix")
    return emitError(loc) << "qopt-import-calibration: unknown match mode '"
                          << match << "'; expected exact or suffix";
  if (file.empty())
    return emitError(loc) << "qopt-import-calibration: no calibration file; "
                             "pass file=PATH";
  return success();
}

/// Checks that `stats` can annotate `value` and reports at the value if not.
static LogicalResult checkFits(Value value, const TensorStats &stats,
                               StringRef fileName) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  Location loc = value.getLoc();
  if (!type || !isa<FloatType>(type.getElementType()))
    return emitError(loc) << "calibration entry '" << stats.name << "' in '"
                          << fileName << "' names a value of type "
                          << value.getType()
                          << "; statistics apply to float tensors only";
  if (stats.blockSize)
    return emitError(loc) << "calibration entry '" << stats.name
                          << "' has per-block encodings (block size "
                          << *stats.blockSize
                          << "), which qopt.stats cannot carry yet";
  if (!stats.axis) {
    if (stats.min.size() != 1)
      return emitError(loc) << "calibration entry '" << stats.name << "' has "
                            << stats.min.size() << " ranges but no axis";
    return success();
  }
  int64_t axis = *stats.axis;
  if (axis < 0 || axis >= type.getRank())
    return emitError(loc) << "calibration entry '" << stats.name
                          << "' has axis " << axis << ", out of range for "
                          << type;
  int64_t dim = type.getDimSize(axis);
  if (!ShapedType::isDynamic(dim) &&
      dim != static_cast<int64_t>(stats.min.size()))
    return emitError(loc) << "calibration entry '" << stats.name << "' has "
                          << stats.min.size() << " ranges along axis " << axis
                          << " but " << type << " has " << dim << " there";
  return success();
}

LogicalResult
ImportCalibrationPass::plan(ModuleOp module, const CalibrationTable &table,
                            SmallVectorImpl<PlannedStats> &planned,
                            SmallVectorImpl<std::string> &unmatched,
                            SmallVectorImpl<std::string> &missing) {
  // Every named value, grouped by name in program order. Lowerings often give
  // several values one name (tosa-to-linalg names its fill and empty ops
  // after the op it lowers): a name then means the last float tensor of that
  // name in each function, the value that replaced the original op.
  llvm::MapVector<StringRef, SmallVector<Value, 1>> byName;
  SmallVector<std::pair<Value, std::string>> named;
  forEachNamedValue(module, [&](Value value, StringRef name) {
    named.emplace_back(value, name.str());
  });
  auto isFloatTensor = [](Value v) {
    auto type = dyn_cast<RankedTensorType>(v.getType());
    return type && isa<FloatType>(type.getElementType());
  };
  auto functionOf = [](Value v) {
    return v.getParentRegion()->getParentOfType<FunctionOpInterface>();
  };
  for (auto &entry : named) {
    Value value = entry.first;
    SmallVector<Value, 1> &values = byName[entry.second];
    auto sameFunction = llvm::find_if(values, [&](Value other) {
      return functionOf(other) == functionOf(value);
    });
    if (sameFunction == values.end())
      values.push_back(value);
    else if (isFloatTensor(value) || !isFloatTensor(*sameFunction))
      *sameFunction = value;
  }
  llvm::DenseSet<Value> representatives;
  for (auto &[name, values] : byName)
    representatives.insert(values.begin(), values.end());

  llvm::DenseSet<Value> covered;
  for (const TensorStats &stats : table.tensors) {
    SmallVector<Value, 1> values;
    auto it = byName.find(stats.name);
    if (it != byName.end()) {
      values = it->second;
    } else if (match == "suffix") {
      StringRef found;
      for (auto &[name, vals] : byName) {
        if (!namesMatchBySuffix(name, stats.name))
          continue;
        if (!found.empty())
          return emitError(module.getLoc())
                 << "calibration entry '" << stats.name << "' in '" << file
                 << "' matches both '" << found << "' and '" << name
                 << "' by suffix; use a longer name or match=exact";
        found = name;
        values = vals;
      }
    }
    if (values.empty()) {
      unmatched.push_back(stats.name);
      continue;
    }
    for (Value value : values) {
      if (failed(checkFits(value, stats, file)))
        return failure();
      if (!covered.insert(value).second)
        return emitError(value.getLoc())
               << "two entries of '" << file << "' name this tensor (the "
               << "second is '" << stats.name << "'); with match=suffix, "
               << "use match=exact or remove one";
      StatsOp existing = getExistingStats(value);
      if (merge && existing &&
          (existing.getAxis() != stats.axis ||
           existing.getMin().size() != stats.min.size()))
        return existing.emitError()
               << "cannot merge the statistics of '" << stats.name
               << "' from the file with these: their axes or sizes differ";
      planned.push_back({value, &stats});
    }
  }

  for (auto &[value, name] : named)
    if (representatives.contains(value) && expectsStats(value) &&
        !covered.contains(value) && !getExistingStats(value))
      missing.push_back(name);
  return success();
}

/// Per-index union of two ranges of the same shape (checked by plan()).
static void mergeRanges(StatsOp existing, const TensorStats &stats,
                        SmallVectorImpl<double> &mins,
                        SmallVectorImpl<double> &maxs) {
  for (size_t i = 0, e = stats.min.size(); i < e; ++i) {
    mins.push_back(std::min(existing.getMin()[i], stats.min[i]));
    maxs.push_back(std::max(existing.getMax()[i], stats.max[i]));
  }
}

LogicalResult ImportCalibrationPass::apply(const PlannedStats &planned,
                                           CalibrationFormat format) {
  Value value = planned.value;
  const TensorStats &stats = *planned.stats;
  MLIRContext *ctx = value.getContext();
  OpBuilder builder(ctx);

  StatsOp existing = getExistingStats(value);
  SmallVector<double> mins(stats.min.begin(), stats.min.end());
  SmallVector<double> maxs(stats.max.begin(), stats.max.end());
  if (existing && merge) {
    mins.clear();
    maxs.clear();
    mergeRanges(existing, stats, mins, maxs);
  }

  StatsOp op = existing;
  if (!op) {
    if (auto arg = dyn_cast<BlockArgument>(value))
      builder.setInsertionPointToStart(arg.getOwner());
    else
      builder.setInsertionPointAfter(value.getDefiningOp());
    op = StatsOp::create(builder, value.getLoc(), value,
                         /*axis=*/nullptr, builder.getDenseF64ArrayAttr(mins),
                         builder.getDenseF64ArrayAttr(maxs),
                         /*hist_min=*/nullptr, /*hist_max=*/nullptr,
                         /*counts=*/nullptr, /*scale=*/nullptr,
                         /*zero_point=*/nullptr, /*bits=*/nullptr);
    value.replaceAllUsesExcept(op.getResult(), op);
  } else {
    op.setMinAttr(builder.getDenseF64ArrayAttr(mins));
    op.setMaxAttr(builder.getDenseF64ArrayAttr(maxs));
  }

  if (stats.axis)
    op.setAxisAttr(builder.getI64IntegerAttr(*stats.axis));
  else if (!merge)
    op.removeAxisAttr();

  if (stats.histogram) {
    op.setHistMinAttr(builder.getF64FloatAttr(stats.histogram->min));
    op.setHistMaxAttr(builder.getF64FloatAttr(stats.histogram->max));
    op.setCountsAttr(builder.getDenseI64ArrayAttr(stats.histogram->counts));
  } else if (!merge) {
    op.removeHistMinAttr();
    op.removeHistMaxAttr();
    op.removeCountsAttr();
  }

  if (!stats.scale.empty()) {
    // qopt.stats zero points are on the signed grid [-2^(b-1), 2^(b-1)-1];
    // AIMET's (zeroPoint = -offset) are on the unsigned grid [0, 2^b - 1].
    SmallVector<int64_t> zeroPoints(stats.zeroPoint.begin(),
                                    stats.zeroPoint.end());
    if (format == CalibrationFormat::Aimet)
      for (int64_t &zp : zeroPoints)
        zp -= int64_t(1) << (stats.bits.value_or(8) - 1);
    op.setScaleAttr(builder.getDenseF64ArrayAttr(stats.scale));
    op.setZeroPointAttr(builder.getDenseI64ArrayAttr(zeroPoints));
  } else if (!merge) {
    op.removeScaleAttr();
    op.removeZeroPointAttr();
  }
  if (stats.bits)
    op.setBitsAttr(builder.getI64IntegerAttr(*stats.bits));
  else if (!merge)
    op.removeBitsAttr();

  if (failed(op.verify()))
    return failure();
  ++numAnnotated;
  return success();
}

void ImportCalibrationPass::runOnOperation() {
  ModuleOp module = getOperation();
  llvm::Expected<CalibrationTable> table =
      readCalibrationFile(file, parsedFormat);
  if (!table) {
    emitError(module.getLoc())
        << "cannot import calibration: " << llvm::toString(table.takeError());
    return signalPassFailure();
  }
  SmallVector<PlannedStats> planned;
  SmallVector<std::string> unmatched, missing;
  if (failed(plan(module, *table, planned, unmatched, missing)))
    return signalPassFailure();

  numUnmatchedEntries = unmatched.size();
  numMissing = missing.size();
  if (strict && (!unmatched.empty() || !missing.empty())) {
    InFlightDiagnostic diag = emitError(module.getLoc())
                              << "strict calibration import from '" << file
                              << "' failed:";
    if (!unmatched.empty())
      diag << " " << unmatched.size()
           << " file entries match no tensor: " << listNames(unmatched) << ";";
    if (!missing.empty())
      diag << " " << missing.size()
           << " tensors have no statistics: " << listNames(missing);
    return signalPassFailure();
  }

  for (const PlannedStats &p : planned)
    if (failed(apply(p, table->format)))
      return signalPassFailure();

  // One summary line. The counts are also pass statistics, but Debian's
  // release build of MLIR compiles statistics out (LLVM_ENABLE_STATS=0), so
  // --mlir-pass-statistics shows nothing there; this remark always does.
  emitRemark(module.getLoc())
      << "imported " << planned.size() << " statistics from '" << file << "' ("
      << stringifyCalibrationFormat(table->format)
      << (table->producer.empty() ? std::string() : ", " + table->producer)
      << (parsedFormat == CalibrationFormat::Auto ? ", detected" : "") << "); "
      << unmatched.size() << " entries matched no tensor, " << missing.size()
      << " tensors have no statistics";

  // Warnings go to the module's location rather than the module op, so that
  // they do not dump the whole module as "current operation".
  if (!unmatched.empty())
    emitWarning(module.getLoc())
        << unmatched.size() << " entries of '" << file
        << "' match no tensor: " << listNames(unmatched);
  if (!missing.empty())
    emitWarning(module.getLoc())
        << missing.size()
        << " float tensors have no statistics: " << listNames(missing);
}
