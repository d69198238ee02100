//===- QuantizePipeline.cpp - the qopt-quantize pipeline --------*- C++ -*-===//
//
// Builds qopt-quantize from the passes it runs, forwarding their options.
//
//===----------------------------------------------------------------------===//

#include "qopt/Pipelines/QuantizePipeline.h"
#include "qopt/Conversion/Passes.h"
#include "qopt/Transforms/Passes.h"

#include "mlir/Pass/PassRegistry.h"

using namespace mlir;
using namespace mlir::qopt;

void mlir::qopt::buildQuantizePipeline(OpPassManager &pm,
                                       const QuantizeOptions &options) {
  if (!options.calibration.empty()) {
    ImportCalibrationOptions import;
    import.file = options.calibration;
    import.format = options.format;
    import.match = options.match;
    import.strict = options.strict;
    pm.addPass(createImportCalibration(import));
  }
  if (!options.budget.empty()) {
    AssignPrecisionOptions assign;
    assign.budget = options.budget;
    assign.target = options.target;
    assign.table = options.precisionTable;
    assign.exportFile = options.precisionExport;
    assign.reportFile = options.precisionReport;
    pm.addPass(createAssignPrecision(assign));
  }
  LegalizeOptions legalize;
  legalize.mode = options.mode;
  legalize.activations = options.activations;
  legalize.activationType = options.activationType;
  legalize.weights = options.weights;
  legalize.weightBits = options.weightBits;
  legalize.groupSize = options.groupSize;
  legalize.weightZeroPoint = options.weightZeroPoint;
  legalize.weightClip = options.weightClip;
  legalize.activationQuant = options.activationQuant;
  legalize.computeType = options.computeType;
  legalize.calibrator = options.calibrator;
  legalize.percentile = options.percentile;
  legalize.allowMissingStats = options.allowMissingStats;
  legalize.weightType = options.weightType;
  legalize.dynamicGranularity = options.dynamicGranularity;
  pm.addPass(createLegalize(legalize));
  pm.addPass(createQuantizeKernels());
  FoldRequantOptions fold;
  fold.foldInexactChains = options.foldInexactChains;
  pm.addPass(createFoldRequant(fold));
  if (!options.reportPerf.empty()) {
    ReportPerfOptions report;
    report.target = options.target;
    report.output = options.reportPerf;
    report.format = options.reportPerfFormat;
    pm.addPass(createReportPerf(report));
  }
  if (options.exposeTensors)
    pm.addPass(createExposeTensors());
  LowerQuantOptions lower;
  lower.requantMode = options.requantMode;
  pm.addPass(createLowerQuant(lower));
}

void mlir::qopt::registerQuantizePipeline() {
  PassPipelineRegistration<QuantizeOptions>(
      "qopt-quantize",
      "Quantize a float model: import calibration, assign precisions "
      "(with budget=), legalize, integer "
      "kernels, fold requantization, lower quantized ops",
      buildQuantizePipeline);
}
