//===- CalibrationTable.h - Calibration statistics and file I/O -*- C++ -*-===//
//
// The in-memory form of a calibration file: per-tensor (or per-channel)
// observed ranges, an optional histogram, and, for producers that already
// chose quantization parameters (AIMET, TensorRT), the exact scales and zero
// points they chose. Readers for the supported producer formats, a content
// sniffer for `format=auto`, and writers for the qopt JSON and TensorRT cache
// formats are declared here; docs/calibration-formats.md lists the variants.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_CALIBRATION_CALIBRATIONTABLE_H
#define QOPT_CALIBRATION_CALIBRATIONTABLE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlir::qopt {

/// A histogram of observed values: `counts.size()` equal-width bins covering
/// [min, max].
struct Histogram {
  double min = 0, max = 0;
  std::vector<int64_t> counts;
};

/// What a calibration file says about one tensor.
struct TensorStats {
  std::string name;
  /// Per-axis stats when set; `min`/`max`/`scale` then hold one value per
  /// channel along this axis.
  std::optional<int64_t> axis;
  /// Size 1 when per-tensor, else per channel.
  std::vector<double> min, max;
  /// Per-tensor only.
  std::optional<Histogram> histogram;
  /// "Exact parameters" mode: the scales the file gives (AIMET, TensorRT,
  /// TPU-MLIR thresholds). Empty unless the file gives scales. `min`/`max`
  /// are always filled too, consistent with these parameters where the file
  /// gives no range of its own.
  std::vector<double> scale;
  /// Same length as `scale` when present; real = scale * (q - zeroPoint), on
  /// the integer grid of the producer:
  ///  * AIMET: q in [0, 2^bits - 1]; AIMET writes offset = -zeroPoint, so a
  ///    symmetric 8-bit encoding (offset -128) has zeroPoint 128. Subtract
  ///    2^(bits-1) to move it to a signed grid.
  ///  * TensorRT, TPU-MLIR: signed, q in [-(2^(bits-1) - 1), 2^(bits-1) - 1],
  ///    zeroPoint 0.
  ///  * qopt JSON: as written.
  std::vector<int64_t> zeroPoint;
  /// Bit width when the file says.
  std::optional<unsigned> bits;
  std::optional<bool> symmetric;
  /// AIMET per-block encodings: the block size along the block axis.
  std::optional<int64_t> blockSize;
  /// 1-based source line for diagnostics (0 if unknown).
  unsigned line = 0;
};

enum class CalibrationFormat {
  Auto,
  QOpt,
  TensorRT,
  OnnxRuntime,
  OnnxRuntimeCache,
  Aimet,
  TpuMlir
};

/// The option spelling of a format ("qopt", "tensorrt", ...);
/// OnnxRuntimeCache prints as "onnxruntime-cache".
llvm::StringRef stringifyCalibrationFormat(CalibrationFormat format);

/// Parses an option value: "auto", "qopt", "tensorrt", "onnxruntime", "aimet",
/// "tpu-mlir". "onnxruntime" maps to OnnxRuntime, whose reader accepts both
/// the JSON table and the plain cache; "onnxruntime-cache" is also accepted.
std::optional<CalibrationFormat> parseCalibrationFormat(llvm::StringRef name);

struct CalibrationTable {
  /// The format actually read.
  CalibrationFormat format = CalibrationFormat::QOpt;
  /// E.g. "TRT-8601-EntropyCalibration2", or "".
  std::string producer;
  /// In file order; names are unique.
  std::vector<TensorStats> tensors;

  /// Returns the stats named `name`, or null.
  const TensorStats *lookup(llvm::StringRef name) const;
};

/// Guesses the format from the contents (never from a file name). Returns
/// Auto if no format matches.
CalibrationFormat sniffCalibrationFormat(llvm::StringRef contents);

/// Parses `contents`; `fileName` is used only in diagnostics. With Auto the
/// format is sniffed first.
llvm::Expected<CalibrationTable> parseCalibration(llvm::StringRef contents,
                                                  llvm::StringRef fileName,
                                                  CalibrationFormat format);

/// Reads and parses the file at `path`.
llvm::Expected<CalibrationTable> readCalibrationFile(llvm::StringRef path,
                                                     CalibrationFormat format);

/// Writes `table` as qopt JSON or as a TensorRT calibration cache; other
/// formats give an error. Reading the output back gives the same stats (for
/// TensorRT, the same float32 scales).
llvm::Error writeCalibration(const CalibrationTable &table,
                             CalibrationFormat format, llvm::raw_ostream &os);

} // namespace mlir::qopt

#endif // QOPT_CALIBRATION_CALIBRATIONTABLE_H
