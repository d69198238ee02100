//===- Passes.td - qopt pass definitions -------------------*- tablegen -*-===//
//
// Every qopt pass, with its options and statistics. Reference docs are
// generated from this file (target qopt-doc).
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_TRANSFORMS_PASSES_TD
#define QOPT_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def ImportCalibration : Pass<"qopt-import-calibration", "::mlir::ModuleOp"> {
  let summary = "Attach calibration statistics from a file to the tensors it names";
  let description = [{
    Reads a calibration file written by qopt or by another tool and inserts a
    `qopt.stats` op on every value the file names. Supported formats (see
    docs/calibration-formats.md): qopt JSON, TensorRT calibration caches, ONNX
    Runtime calibration tables (JSON and cache), AIMET encodings and TPU-MLIR
    calibration tables. `format=auto` recognises the format from the content
    and says which it chose in a remark.

    Names: an op result is named by its location (`loc("conv1")`, or the first
    name inside a fused or call-site location); an op with several results
    names them `name:0`, `name:1`, ... unless its fused location carries one
    name per result. A function argument is named by its `qopt.name` argument
    attribute, else by its location. With `match=suffix`, a file entry also
    matches a name that ends with it after a `/`, `.` or `:` separator (or the
    other way round), when that match is unique.

    ```mlir
    // Before (file: {"qopt_calibration": 1, "tensors": {"h": {"min": -1, "max": 2.5}}})
    %h = linalg.matmul ins(%x, %w : ...) outs(%z : ...) -> tensor<1x4xf32> loc("h")
    // After
    %h = linalg.matmul ins(%x, %w : ...) outs(%z : ...) -> tensor<1x4xf32> loc("h")
    %0 = qopt.stats %h min [-1.0] max [2.5] : tensor<1x4xf32> loc("h")
    ```

    A remark summarises every run: how many statistics were imported, from
    which format, and how many file entries matched no value and how many
    named float tensors (constants aside) were left without statistics. The
    latter two are also listed in one warning each (first five names), and
    `strict=true` makes either an error. The counts are pass statistics as
    well (`--mlir-pass-statistics`), which only show in an MLIR built with
    statistics enabled (Debian's release build compiles them out). Any error
    leaves the IR unchanged.
  }];
  let dependentDialects = ["::mlir::qopt::QOptDialect"];
  let options = [
    Option<"file", "file", "std::string", /*default=*/"",
           "Calibration file to read">,
    Option<"format", "format", "std::string", /*default=*/"\"auto\"",
           "File format: auto, qopt, tensorrt, onnxruntime, aimet or tpu-mlir">,
    Option<"match", "match", "std::string", /*default=*/"\"exact\"",
           "How file names find IR names: exact or suffix">,
    Option<"strict", "strict", "bool", /*default=*/"false",
           "Make unmatched entries and tensors without statistics errors">,
    Option<"merge", "merge", "bool", /*default=*/"false",
           "Widen existing statistics with the file's ranges instead of "
           "replacing them">,
  ];
  let statistics = [
    Statistic<"numAnnotated", "annotated-tensors",
              "Tensors that received statistics">,
    Statistic<"numUnmatchedEntries", "unmatched-entries",
              "File entries that match no tensor">,
    Statistic<"numMissing", "tensors-without-stats",
              "Named float tensors left without statistics">,
  ];
}

def ExportCalibration : Pass<"qopt-export-calibration", "::mlir::ModuleOp"> {
  let summary = "Write the statistics in the IR to a calibration file";
  let description = [{
    Collects every `qopt.stats` op, names it as qopt-import-calibration does,
    and writes the table in qopt's JSON format or as a TensorRT calibration
    cache (symmetric: amax = max(|min|, |max|), scale = amax / 127 as float32
    bits; per-axis statistics have no place in a TensorRT cache and are left
    out with a warning that names them). The IR is not changed. Importing the qopt JSON output gives back
    identical statistics.
  }];
  let options = [
    Option<"file", "file", "std::string", /*default=*/"\"-\"",
           "Output file ('-' for standard output)">,
    Option<"format", "format", "std::string", /*default=*/"\"qopt\"",
           "File format: qopt or tensorrt">,
  ];
}

#endif // QOPT_TRANSFORMS_PASSES_TD
