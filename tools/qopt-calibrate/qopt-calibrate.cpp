//===- qopt-calibrate.cpp - calibration statistics from sample runs -------===//
//
//   qopt-calibrate model.mlir --input NAME='calib/*.npy' [--input ...]
//       [--histogram-bins 2048] [--per-channel-axis N | NAME=N ...]
//       [--progress] -o calib.json
//
// Compiles the float model once for this CPU with every named tensor exposed
// (qopt-expose-tensors, qopt-lower-cpu), runs it on every sample, folds each
// tensor's values into its min/max and histogram (StatsCollector.h: ONNX
// Runtime's re-binning rule) and drops them before the next sample, and
// writes qopt's calibration JSON, which qopt-import-calibration and
// qopt-quantize read. docs/qopt-calibrate.md.
//
//===----------------------------------------------------------------------===//

#include "CapturedModel.h"
#include "Samples.h"

#include "qopt/Calibration/CalibrationTable.h"
#include "qopt/Calibration/StatsCollector.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cmath>

using namespace llvm;
using namespace qopt_run;

static cl::OptionCategory category("qopt-calibrate options");
static cl::opt<std::string> modelFile(cl::Positional, cl::Required,
                                      cl::desc("<float model .mlir>"),
                                      cl::cat(category));
static cl::list<std::string>
    inputs("input",
           cl::desc("NAME=GLOB: the samples of argument NAME (.npy files; "
                    "sorted matches, sample k takes the k-th of each)"),
           cl::cat(category));
static cl::opt<unsigned> histogramBins(
    "histogram-bins",
    cl::desc("Bins of the first sample's histogram (even; 0: no histograms)"),
    cl::init(2048), cl::cat(category));
static cl::list<std::string> perChannelAxis(
    "per-channel-axis",
    cl::desc("N: per-channel min/max along axis N for every tensor of rank > "
             "N; NAME=N: for tensor NAME only (per-channel stats have no "
             "histogram)"),
    cl::cat(category));
static cl::opt<std::string> outputFile("o", cl::Required,
                                       cl::desc("Output calibration JSON"),
                                       cl::value_desc("calib.json"),
                                       cl::cat(category));
static cl::opt<bool>
    progress("progress",
             cl::desc("Show progress even when stderr is not a terminal"),
             cl::init(false), cl::cat(category));

static int fail(const Twine &message) {
  errs() << "qopt-calibrate: " << message << "\n";
  return 1;
}

/// Histograms never grow beyond this many times --histogram-bins.
static constexpr unsigned kMaxBinsFactor = 8;

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  initModelTools();
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "qopt-calibrate: run a float model on sample inputs and write the "
      "calibration statistics of every named tensor as qopt JSON\n");

  if (histogramBins % 2)
    return fail("--histogram-bins must be even (ONNX Runtime's histograms "
                "are symmetric around 0), got " +
                Twine(histogramBins.getValue()));
  // Parse --per-channel-axis before any work.
  std::optional<int64_t> axisAll;
  StringMap<int64_t> axisOf;
  for (const std::string &spec : perChannelAxis) {
    StringRef s(spec), name, value = s;
    if (s.contains('='))
      std::tie(name, value) = s.rsplit('=');
    int64_t axis;
    if (value.getAsInteger(10, axis) || axis < 0)
      return fail("--per-channel-axis '" + spec +
                  "': expected N or NAME=N with N >= 0");
    if (name.empty())
      axisAll = axis;
    else
      axisOf[name] = axis;
  }
  // The output's directory must exist before minutes of calibration.
  SmallString<256> dir(outputFile.getValue());
  sys::path::remove_filename(dir);
  if (!dir.empty() && !sys::fs::is_directory(dir))
    return fail("-o " + outputFile + ": directory " + dir + " does not exist");

  mlir::DialectRegistry registry = makeModelToolsRegistry();
  mlir::MLIRContext context(registry, mlir::MLIRContext::Threading::DISABLED);
  std::string err;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      readModule(context, modelFile, err);
  if (!module)
    return fail(err);
  std::unique_ptr<CapturedModel> model = CapturedModel::compile(
      std::move(module), modelFile, CaptureSteps(), QOPT_LLVM_LIBDIR, err);
  if (!model)
    return fail(err);
  SampleSet samples;
  if (!samples.resolve(inputs, *model, err))
    return fail(err);

  ArrayRef<ExposedTensor> tensors = model->tensors();
  for (auto &entry : axisOf)
    if (!llvm::any_of(tensors, [&](const ExposedTensor &t) {
          return t.name == entry.getKey();
        }))
      return fail("--per-channel-axis " + entry.getKey() + "=" +
                  Twine(entry.getValue()) + ": " + modelFile +
                  " has no named float tensor '" + entry.getKey() + "'");
  std::vector<mlir::qopt::TensorStatsCollector> collectors;
  auto resultSpecs = model->lowered().results();
  for (const ExposedTensor &t : tensors) {
    int64_t rank = resultSpecs[t.result].type.getRank();
    std::optional<int64_t> axis;
    if (auto it = axisOf.find(t.name); it != axisOf.end()) {
      if (it->second >= rank)
        return fail("--per-channel-axis " + t.name + "=" + Twine(it->second) +
                    ": tensor '" + t.name + "' has rank " + Twine(rank));
      axis = it->second;
    } else if (axisAll && *axisAll < rank) {
      axis = axisAll;
    }
    collectors.emplace_back(t.name, axis, histogramBins,
                            histogramBins * kMaxBinsFactor);
  }

  bool showProgress = progress || sys::Process::StandardErrIsDisplayed();
  bool terminal = sys::Process::StandardErrIsDisplayed();
  auto start = std::chrono::steady_clock::now();
  std::vector<NpyArray> sampleInputs, outputs;
  std::vector<double> values;
  for (size_t k = 0; k < samples.size(); ++k) {
    if (!samples.load(k, *model, sampleInputs, err))
      return fail(err);
    SmallVector<const NpyArray *> ptrs;
    for (const NpyArray &a : sampleInputs)
      ptrs.push_back(&a);
    if (!model->run(ptrs, outputs, err))
      return fail(err);
    for (auto [t, collector] : llvm::zip(tensors, collectors)) {
      const NpyArray &array = outputs[t.result];
      dequantize(t, array, values);
      for (size_t i = 0; i < values.size(); ++i)
        if (!std::isfinite(values[i]))
          return fail("sample " + Twine(k) + " (" + samples.describe(k) +
                      "): tensor '" + t.name + "' holds " +
                      (std::isnan(values[i]) ? "NaN" : "an infinity") +
                      " (element " + Twine(i) + " of " + Twine(values.size()) +
                      "); it cannot be folded into a range; check the "
                      "sample and the model");
      collector.add(values, array.shape);
    }
    outputs.clear();
    if (showProgress) {
      double seconds = std::chrono::duration<double>(
                           std::chrono::steady_clock::now() - start)
                           .count();
      char line[160];
      snprintf(line, sizeof(line),
               "qopt-calibrate: %zu/%zu samples, %zu tensors, %.1f s", k + 1,
               samples.size(), tensors.size(), seconds);
      errs() << (terminal ? "\r" : "") << line
             << (terminal && k + 1 < samples.size() ? "" : "\n");
      errs().flush();
    }
  }

  mlir::qopt::CalibrationTable table;
  table.format = mlir::qopt::CalibrationFormat::QOpt;
  table.producer =
      "qopt-calibrate, " + std::to_string(samples.size()) + " samples";
  for (const auto &c : collectors)
    table.tensors.push_back(c.finish());
  std::error_code ec;
  ToolOutputFile out(outputFile, ec, sys::fs::OF_Text);
  if (ec)
    return fail("-o " + outputFile + ": cannot write: " + ec.message());
  if (Error e = mlir::qopt::writeCalibration(
          table, mlir::qopt::CalibrationFormat::QOpt, out.os()))
    return fail("-o " + outputFile + ": " + toString(std::move(e)));
  out.keep();
  return 0;
}
