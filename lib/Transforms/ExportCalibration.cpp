//===- ExportCalibration.cpp - write statistics to a file -------*- C++ -*-===//
//
// qopt-export-calibration: the inverse of qopt-import-calibration. Collects the
// qopt.stats ops of a module under their tensor names and writes them as a
// qopt JSON table or a TensorRT calibration cache, so a table can be
// converted between tools, reviewed or edited. The IR is left unchanged.
//
//===----------------------------------------------------------------------===//

#include "qopt/Calibration/CalibrationTable.h"
#include "qopt/Dialect/QOpt/IR/QOptOps.h"
#include "qopt/Transforms/Passes.h"
#include "qopt/Transforms/TensorNames.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/ToolOutputFile.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_EXPORTCALIBRATION
#include "qopt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {
class ExportCalibrationPass
    : public qopt::impl::ExportCalibrationBase<ExportCalibrationPass> {
public:
  using Base::Base;

  LogicalResult initialize(MLIRContext *context) override {
    std::optional<CalibrationFormat> fmt = parseCalibrationFormat(format);
    if (!fmt || (*fmt != CalibrationFormat::QOpt &&
                 *fmt != CalibrationFormat::TensorRT))
      return emitError(UnknownLoc::get(context))
             << "qopt-export-calibration: cannot write format '" << format
             << "'; expected qopt or tensorrt";
    parsedFormat = *fmt;
    return success();
  }

  void runOnOperation() override;

private:
  CalibrationFormat parsedFormat = CalibrationFormat::QOpt;
};
} // namespace

static TensorStats toTensorStats(StatsOp op, StringRef name) {
  TensorStats stats;
  stats.name = name.str();
  stats.axis = op.getAxis();
  stats.min.assign(op.getMin().begin(), op.getMin().end());
  stats.max.assign(op.getMax().begin(), op.getMax().end());
  if (op.hasHistogram()) {
    Histogram hist;
    hist.min = op.getHistMin()->convertToDouble();
    hist.max = op.getHistMax()->convertToDouble();
    hist.counts.assign(op.getCounts()->begin(), op.getCounts()->end());
    stats.histogram = std::move(hist);
  }
  if (std::optional<ArrayRef<double>> scales = op.getScale()) {
    stats.scale.assign(scales->begin(), scales->end());
    stats.zeroPoint.assign(op.getZeroPoint()->begin(),
                           op.getZeroPoint()->end());
  }
  if (std::optional<uint64_t> bits = op.getBits())
    stats.bits = static_cast<unsigned>(*bits);
  return stats;
}

static bool sameStats(const TensorStats &a, const TensorStats &b) {
  auto sameHist = [](const std::optional<Histogram> &x,
                     const std::optional<Histogram> &y) {
    if (x.has_value() != y.has_value())
      return false;
    return !x ||
           (x->min == y->min && x->max == y->max && x->counts == y->counts);
  };
  return a.axis == b.axis && a.min == b.min && a.max == b.max &&
         sameHist(a.histogram, b.histogram) && a.scale == b.scale &&
         a.zeroPoint == b.zeroPoint && a.bits == b.bits;
}

void ExportCalibrationPass::runOnOperation() {
  ModuleOp module = getOperation();
  CalibrationTable table;
  table.format = parsedFormat;
  llvm::StringMap<size_t> indexOf;
  WalkResult walk = module.walk([&](StatsOp op) {
    std::string name = getTensorName(op.getInput());
    if (name.empty()) {
      op.emitError() << "these statistics annotate a value without a name "
                        "and cannot be exported; give it a loc(\"name\") or "
                        "a qopt.name argument attribute";
      return WalkResult::interrupt();
    }
    TensorStats stats = toTensorStats(op, name);
    auto [it, inserted] = indexOf.try_emplace(name, table.tensors.size());
    if (inserted) {
      table.tensors.push_back(std::move(stats));
    } else if (!sameStats(table.tensors[it->second], stats)) {
      op.emitError() << "tensor name '" << name
                     << "' carries different statistics in two places; a "
                        "calibration file can hold only one";
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return signalPassFailure();

  // TensorRT caches hold one activation scale per tensor; per-axis entries
  // (weights) have no place there. Say which ones are left out.
  if (parsedFormat == CalibrationFormat::TensorRT) {
    SmallVector<std::string> perAxis;
    llvm::erase_if(table.tensors, [&](const TensorStats &stats) {
      if (!stats.axis)
        return false;
      perAxis.push_back(stats.name);
      return true;
    });
    if (!perAxis.empty()) {
      InFlightDiagnostic diag = emitWarning(module.getLoc())
                                << "a TensorRT cache holds one scale per "
                                   "tensor; not writing the per-axis "
                                   "statistics of";
      for (const std::string &name : perAxis)
        diag << " '" << name << "'";
    }
  }

  std::string errorMessage;
  std::unique_ptr<llvm::ToolOutputFile> output =
      openOutputFile(file, &errorMessage);
  if (!output) {
    emitError(module.getLoc())
        << "cannot open '" << file
        << "' for the calibration table: " << errorMessage;
    return signalPassFailure();
  }
  if (llvm::Error err = writeCalibration(table, parsedFormat, output->os())) {
    emitError(module.getLoc()) << "cannot write calibration table '" << file
                               << "': " << llvm::toString(std::move(err));
    return signalPassFailure();
  }
  output->keep();
  markAllAnalysesPreserved();
}
