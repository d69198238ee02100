//===- StatsCollector.h - streaming calibration statistics ------*- C++ -*-===//
//
// What qopt-calibrate keeps per tensor while samples stream through the
// model: the exact min/max (per tensor or per channel) and a histogram
// re-binned as ONNX Runtime's HistogramCollector (calibrate.py,
// collect_value / merge_histogram) does it, so that no sample's values are
// kept after they are folded in. docs/qopt-calibrate.md states the rule and
// the memory bound.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_CALIBRATION_STATSCOLLECTOR_H
#define QOPT_CALIBRATION_STATSCOLLECTOR_H

#include "qopt/Calibration/CalibrationTable.h"

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlir::qopt {

/// ONNX Runtime's symmetric histogram: `counts.size()` equal bins over
/// [-threshold, threshold]. The first batch sets threshold = max |x| and
/// `bins` bins; a later batch with a larger max |x| adds whole bins of the
/// current width on both sides (k = floor((t_new - t) / width) + 1 each) and
/// histograms its values over the widened range, adding the old counts in
/// the middle. Beyond `maxBins` bins, adjacent pairs are merged (the width
/// doubles; when half the count would be odd, one empty bin is first added
/// on each side, so the count stays even and the range symmetric), which
/// bounds the memory. `bins` must be even.
class SymmetricHistogram {
public:
  SymmetricHistogram(unsigned bins, unsigned maxBins)
      : initialBins(bins), maxBins(maxBins) {}

  /// Folds one batch of finite values in.
  void add(llvm::ArrayRef<double> values);

  double threshold() const { return limit; }
  const std::vector<int64_t> &counts() const { return hist; }
  /// Values seen while the threshold was still 0 (all of them were 0).
  bool empty() const { return hist.empty() && zeros == 0; }

private:
  /// numpy.histogram(values, n, range=(-t, t)) added into `into` at
  /// `offset` (values outside the range are not counted).
  static void histogram(llvm::ArrayRef<double> values, double t, size_t n,
                        std::vector<int64_t> &into, size_t offset);
  void mergePairs();

  unsigned initialBins, maxBins;
  double limit = 0;
  std::vector<int64_t> hist;
  /// Zeros seen while the threshold was 0 (numpy bins them in the middle).
  int64_t zeros = 0;
};

/// Streaming statistics of one tensor.
class TensorStatsCollector {
public:
  /// `axis`: per-channel min/max along it (no histogram); `histogramBins`
  /// 0: no histogram.
  TensorStatsCollector(std::string name, std::optional<int64_t> axis,
                       unsigned histogramBins, unsigned maxBins);

  /// Folds in one sample of the tensor (row-major, `shape`). All values
  /// must be finite.
  void add(llvm::ArrayRef<double> values, llvm::ArrayRef<int64_t> shape);

  /// The statistics so far (after at least one add).
  TensorStats finish() const;

  const std::string &name() const { return tensorName; }

private:
  std::string tensorName;
  std::optional<int64_t> axis;
  std::vector<double> mins, maxs;
  std::optional<SymmetricHistogram> hist;
};

} // namespace mlir::qopt

#endif // QOPT_CALIBRATION_STATSCOLLECTOR_H
