//===- QuantizePipeline.h - the qopt-quantize pipeline ----------*- C++ -*-===//
//
// The pipeline that turns a float model and a calibration file into the
// integer program: import calibration, assign precisions (when a budget is
// given), legalize to QDQ form, integer kernels, fold requantization, lower
// the quantized ops. Compilers that embed qopt call
// buildQuantizePipeline; the driver registers it as `qopt-quantize`.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_PIPELINES_QUANTIZEPIPELINE_H
#define QOPT_PIPELINES_QUANTIZEPIPELINE_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir::qopt {

/// Options of qopt-quantize: those of the passes it runs, under the same
/// names (`calibration` is qopt-import-calibration's `file`).
struct QuantizeOptions : public PassPipelineOptions<QuantizeOptions> {
  Option<std::string> calibration{
      *this, "calibration",
      llvm::cl::desc("Calibration file (empty: the model already carries "
                     "qopt.stats)"),
      llvm::cl::init("")};
  Option<std::string> format{*this, "format",
                             llvm::cl::desc("Calibration file format"),
                             llvm::cl::init("auto")};
  Option<std::string> match{*this, "match",
                            llvm::cl::desc("Name matching: exact or suffix"),
                            llvm::cl::init("exact")};
  Option<bool> strict{*this, "strict",
                      llvm::cl::desc("Unmatched names are errors"),
                      llvm::cl::init(false)};
  Option<std::string> budget{
      *this, "budget",
      llvm::cl::desc("Mixed precision budget (size:BYTES, avg-bits:B, cost:X "
                     "or sqnr:DB); when set, qopt-assign-precision runs "
                     "before qopt-legalize"),
      llvm::cl::init("")};
  Option<std::string> target{
      *this, "target",
      llvm::cl::desc("qopt-assign-precision target table: x86_64, aarch64 "
                     "or sm_90 (qopt-report-perf: x86_64 or aarch64)"),
      llvm::cl::init("x86_64")};
  Option<std::string> precisionTable{
      *this, "precision-table",
      llvm::cl::desc("Pin table for qopt-assign-precision (its table=)"),
      llvm::cl::init("")};
  Option<std::string> precisionExport{
      *this, "precision-export",
      llvm::cl::desc("Where qopt-assign-precision writes its table (its "
                     "export=)"),
      llvm::cl::init("")};
  Option<std::string> precisionReport{
      *this, "precision-report",
      llvm::cl::desc("Where qopt-assign-precision writes its report (its "
                     "report=; '-' for standard error)"),
      llvm::cl::init("")};
  Option<std::string> mode{
      *this, "mode",
      llvm::cl::desc("Quantization mode: static, dynamic or weight-only"),
      llvm::cl::init("static")};
  Option<std::string> activations{
      *this, "activations",
      llvm::cl::desc("Activation scheme: asymmetric or symmetric"),
      llvm::cl::init("asymmetric")};
  Option<std::string> activationType{
      *this, "activation-type",
      llvm::cl::desc("Activation storage type: i8, u8 or i16"),
      llvm::cl::init("i8")};
  Option<std::string> weights{
      *this, "weights",
      llvm::cl::desc("Weight granularity: per-channel, per-tensor or "
                     "per-group"),
      llvm::cl::init("per-channel")};
  Option<unsigned> weightBits{*this, "weight-bits",
                              llvm::cl::desc("Weight bits: 8 or 4"),
                              llvm::cl::init(8)};
  Option<unsigned> groupSize{*this, "group-size",
                             llvm::cl::desc("Group size for per-group weights"),
                             llvm::cl::init(0)};
  Option<bool> weightZeroPoint{
      *this, "weight-zero-point",
      llvm::cl::desc("mode=weight-only: asymmetric groups with a stored zero "
                     "point"),
      llvm::cl::init(false)};
  Option<std::string> weightClip{
      *this, "weight-clip",
      llvm::cl::desc("mode=weight-only: none or search (per-group clipping "
                     "ratio with the smallest quantization error)"),
      llvm::cl::init("none")};
  Option<std::string> activationQuant{
      *this, "activation-quant",
      llvm::cl::desc("mode=weight-only: none or int8-block (int8 activations "
                     "per row and group, ONNX Runtime's MatMulNBits "
                     "accuracy_level 4, bit-exact)"),
      llvm::cl::init("none")};
  Option<std::string> computeType{
      *this, "compute-type",
      llvm::cl::desc("mode=weight-only arithmetic: f32, or bf16 (AVX512-BF16 "
                     "vdpbf16ps; the target needs avx512bf16)"),
      llvm::cl::init("f32")};
  Option<std::string> calibrator{
      *this, "calibrator",
      llvm::cl::desc("Range from statistics: minmax, percentile, entropy or "
                     "mse"),
      llvm::cl::init("minmax")};
  Option<double> percentile{*this, "percentile",
                            llvm::cl::desc("Percentile for calibrator="
                                           "percentile"),
                            llvm::cl::init(99.99)};
  Option<bool> allowMissingStats{
      *this, "allow-missing-stats",
      llvm::cl::desc("Keep ops without statistics in float"),
      llvm::cl::init(false)};
  Option<std::string> weightType{
      *this, "weight-type",
      llvm::cl::desc("mode=dynamic weight storage: s8 (symmetric) or u8 "
                     "(asymmetric)"),
      llvm::cl::init("s8")};
  Option<std::string> dynamicGranularity{
      *this, "dynamic-granularity",
      llvm::cl::desc("mode=dynamic activation scales: tensor or row (one per "
                     "row, per token)"),
      llvm::cl::init("tensor")};
  Option<std::string> requantMode{
      *this, "requant-mode",
      llvm::cl::desc("Requantization arithmetic: fixed-point or float"),
      llvm::cl::init("fixed-point")};
  Option<std::string> reportPerf{
      *this, "report-perf",
      llvm::cl::desc("Run qopt-report-perf (for `target`) on the integer "
                     "form before qopt-lower-quant and write its report here "
                     "('-' for standard error; empty: no report)"),
      llvm::cl::init("")};
  Option<std::string> reportPerfFormat{
      *this, "report-perf-format",
      llvm::cl::desc("qopt-report-perf's format: text or json"),
      llvm::cl::init("text")};
  Option<bool> exposeTensors{
      *this, "expose-tensors",
      llvm::cl::desc("Run qopt-expose-tensors before qopt-lower-quant: every "
                     "named tensor becomes an extra result (quantized ones as "
                     "storage integers, with their scales in qopt.exposed)"),
      llvm::cl::init(false)};
  Option<bool> foldInexactChains{
      *this, "fold-inexact-chains",
      llvm::cl::desc("Merge requantize chains that round"),
      llvm::cl::init(false)};
};

/// Adds the quantize pipeline to `pm` (anchored on builtin.module).
void buildQuantizePipeline(OpPassManager &pm, const QuantizeOptions &options);

/// Registers `qopt-quantize` with the pass registry.
void registerQuantizePipeline();

} // namespace mlir::qopt

#endif // QOPT_PIPELINES_QUANTIZEPIPELINE_H
