//===- Calibrators.h - From statistics to a clipping range ------*- C++ -*-===//
//
// Calibrators choose the real range [min, max] that a tensor is quantized to,
// from the statistics a calibration file gives: `minmax` keeps the observed
// range; `percentile`, `entropy` and `mse` work on the histogram and clip
// rare outliers to spend the integer levels where the values are. Plain C++,
// no IR; the qopt passes call computeRange per tensor.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_CALIBRATION_CALIBRATORS_H
#define QOPT_CALIBRATION_CALIBRATORS_H

#include "qopt/Calibration/CalibrationTable.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <vector>

namespace mlir::qopt {

enum class CalibratorKind { MinMax, Percentile, Entropy, MSE };

/// "minmax", "percentile", "entropy", "mse".
std::optional<CalibratorKind> parseCalibratorKind(llvm::StringRef name);
llvm::StringRef stringifyCalibratorKind(CalibratorKind kind);

struct CalibrationRange {
  double min, max;
};

struct CalibratorOptions {
  CalibratorKind kind = CalibratorKind::MinMax;
  /// For `percentile`: the share of values kept, in percent, (0, 100].
  double percentile = 99.99;
  /// Integer bit width the range is chosen for (entropy, mse).
  unsigned bits = 8;
  /// Symmetric: the result is [-t, t]. Otherwise it lies within the observed
  /// [min, max].
  bool symmetric = false;
};

/// The range of one tensor. `minmax` uses min/max (per-axis stats give the
/// union of the channels); the others use the histogram and fail with a
/// sentence if there is none. Histogram-based results are clipped to the
/// observed min/max, so that no calibrator widens the range.
llvm::Expected<CalibrationRange> computeRange(const TensorStats &stats,
                                              const CalibratorOptions &opts);

/// One range per channel of per-axis stats (only `minmax` applies); a single
/// range for per-tensor stats.
llvm::Expected<std::vector<CalibrationRange>>
computeChannelRanges(const TensorStats &stats, const CalibratorOptions &opts);

/// The observed range, made symmetric ([-amax, amax]) when asked.
CalibrationRange minMaxRange(double min, double max, bool symmetric);

/// The `percentile` range of a histogram, with values spread evenly inside
/// each bin. Asymmetric: each side is cut at its own percentile, so
/// [P(100 - pct), P(pct)]. Symmetric: the t with pct% of |x| below t, as
/// [-t, t]. Fails on an empty histogram or pct outside (0, 100].
llvm::Expected<CalibrationRange> percentileRange(const Histogram &hist,
                                                 double pct, bool symmetric);

/// TensorRT-style entropy calibration: the histogram of |x| (2048 bins in
/// TensorRT's collector) is cut at each candidate threshold i (the bins past
/// i folded into bin i - 1), quantized to 2^(bits-1) levels (128 for int8)
/// and expanded back; the threshold with the least KL divergence between the
/// reference and its quantized version wins. Returns the threshold t (the
/// range is [-t, t], or its intersection with the data when asymmetric).
llvm::Expected<double> entropyThreshold(const Histogram &hist, unsigned bits);

/// The range minimizing the expected squared quantization error over the
/// histogram: clipping error of the values outside plus the rounding noise
/// step^2 / 12 of the values inside, where step = t / (2^(bits-1) - 1)
/// (symmetric, [-t, t]) or (hi - lo) / (2^bits - 1) (asymmetric). Candidates
/// are the bin edges.
llvm::Expected<CalibrationRange> mseRange(const Histogram &hist, unsigned bits,
                                          bool symmetric);

} // namespace mlir::qopt

#endif // QOPT_CALIBRATION_CALIBRATORS_H
