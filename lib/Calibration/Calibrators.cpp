//===- Calibrators.cpp - minmax, percentile, entropy and mse --------------===//
//
// The calibrators that turn statistics into a clipping range. Histograms are
// read as piecewise-uniform densities: the values of a bin are spread evenly
// over its width. Symmetric calibrators first fold the histogram onto |x|.
// Expected squared errors use exact moments of a uniform bin and running sums
// that only add non-negative terms, so that large histograms do not lose the
// small clipping errors to cancellation.
//
//===----------------------------------------------------------------------===//

#include "qopt/Calibration/Calibrators.h"

#include "CalibrationInternal.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/ADT/Twine.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace llvm;

namespace mlir::qopt {

std::optional<CalibratorKind> parseCalibratorKind(StringRef name) {
  return StringSwitch<std::optional<CalibratorKind>>(name)
      .Case("minmax", CalibratorKind::MinMax)
      .Case("percentile", CalibratorKind::Percentile)
      .Case("entropy", CalibratorKind::Entropy)
      .Case("mse", CalibratorKind::MSE)
      .Default(std::nullopt);
}

StringRef stringifyCalibratorKind(CalibratorKind kind) {
  switch (kind) {
  case CalibratorKind::MinMax:
    return "minmax";
  case CalibratorKind::Percentile:
    return "percentile";
  case CalibratorKind::Entropy:
    return "entropy";
  case CalibratorKind::MSE:
    return "mse";
  }
  return "unknown";
}

namespace {

Error fail(const Twine &message) {
  return createStringError(inconvertibleErrorCode(), message);
}

/// Checks what every histogram calibrator needs; returns the total count.
Expected<double> checkHistogram(const Histogram &hist) {
  if (!std::isfinite(hist.min) || !std::isfinite(hist.max) ||
      !(hist.min < hist.max))
    return fail("the histogram's bounds [" + detail::formatDouble(hist.min) +
                ", " + detail::formatDouble(hist.max) +
                "] are not an interval");
  if (!std::isfinite(hist.max - hist.min))
    return fail("the histogram's bounds [" + detail::formatDouble(hist.min) +
                ", " + detail::formatDouble(hist.max) +
                "] are too far apart to compute with");
  if (hist.counts.empty())
    return fail("the histogram has no bins");
  double total = 0;
  for (int64_t count : hist.counts) {
    if (count < 0)
      return fail("the histogram has a negative count (" + Twine(count) + ")");
    total += static_cast<double>(count);
  }
  if (!(total > 0))
    return fail("the histogram is empty (all counts are zero)");
  return total;
}

Error checkBits(unsigned bits) {
  if (bits < 1 || bits > 32)
    return fail("bit width " + Twine(bits) + " is out of range (1 to 32)");
  return Error::success();
}

/// A histogram of |x|: bin k holds the mass on [k * width, (k+1) * width].
struct AbsHistogram {
  std::vector<double> mass;
  double width = 0;
  double total = 0;
};

/// Folds `hist` onto |x|, with `numBins` bins over [0, max(|min|, |max|)].
AbsHistogram foldAbs(const Histogram &hist, size_t numBins) {
  double amax = std::max(std::fabs(hist.min), std::fabs(hist.max));
  AbsHistogram result;
  result.mass.assign(numBins, 0.0);
  result.width = amax / static_cast<double>(numBins);
  double srcWidth =
      (hist.max - hist.min) / static_cast<double>(hist.counts.size());
  auto binOf = [&](double x) -> size_t {
    double k = std::floor(x / result.width);
    if (!(k > 0))
      return 0;
    return std::min(static_cast<size_t>(k), numBins - 1);
  };
  // Spreads `mass` evenly over [u, v] in |x| space.
  auto spread = [&](double u, double v, double mass) {
    if (!(v > u)) {
      result.mass[binOf(u)] += mass;
      return;
    }
    size_t first = binOf(u), last = binOf(v);
    if (first == last) {
      result.mass[first] += mass;
      return;
    }
    for (size_t k = first; k <= last; ++k) {
      double lo = std::max(u, k * result.width);
      double hi = k == last ? v : std::min(v, (k + 1) * result.width);
      if (hi > lo)
        result.mass[k] += mass * (hi - lo) / (v - u);
    }
  };
  for (size_t j = 0, e = hist.counts.size(); j != e; ++j) {
    double count = static_cast<double>(hist.counts[j]);
    if (count == 0)
      continue;
    result.total += count;
    double a = hist.min + j * srcWidth;
    double b = j + 1 == e ? hist.max : hist.min + (j + 1) * srcWidth;
    if (a >= 0) {
      spread(a, b, count);
    } else if (b <= 0) {
      spread(-b, -a, count);
    } else {
      // The bin straddles zero: its two sides fold onto [0, -a] and [0, b].
      double negative = count * (-a) / (b - a);
      spread(0, -a, negative);
      spread(0, b, count - negative);
    }
  }
  return result;
}

/// The number of |x| bins that keeps the source histogram's bin width,
/// clamped to [lo, hi].
size_t naturalAbsBins(const Histogram &hist, size_t lo, size_t hi) {
  double amax = std::max(std::fabs(hist.min), std::fabs(hist.max));
  double srcWidth =
      (hist.max - hist.min) / static_cast<double>(hist.counts.size());
  double natural = std::ceil(amax / srcWidth - 1e-9);
  if (!(natural >= 1))
    natural = 1;
  if (natural > static_cast<double>(hi))
    return hi;
  return std::max(lo, static_cast<size_t>(natural));
}

/// The value below which a share `q` in [0, 1] of the mass lies.
double quantile(const std::vector<double> &mass, double start, double width,
                double total, double q) {
  double target = q * total;
  double cumulative = 0;
  for (size_t j = 0, e = mass.size(); j != e; ++j) {
    if (mass[j] > 0 && cumulative + mass[j] >= target) {
      double inside = std::clamp((target - cumulative) / mass[j], 0.0, 1.0);
      return start + (static_cast<double>(j) + inside) * width;
    }
    cumulative += mass[j];
  }
  return start + static_cast<double>(mass.size()) * width;
}

/// Merges groups of bins so that at most `limit` remain (for O(n^2) scans).
Histogram coarsen(const Histogram &hist, size_t limit) {
  size_t n = hist.counts.size();
  if (n <= limit)
    return hist;
  size_t factor = (n + limit - 1) / limit;
  Histogram result;
  result.min = hist.min;
  size_t groups = (n + factor - 1) / factor;
  double width = (hist.max - hist.min) / static_cast<double>(n);
  result.max = hist.min + static_cast<double>(groups * factor) * width;
  result.counts.assign(groups, 0);
  for (size_t j = 0; j != n; ++j)
    result.counts[j / factor] += hist.counts[j];
  return result;
}

} // namespace

CalibrationRange minMaxRange(double min, double max, bool symmetric) {
  if (!symmetric)
    return {min, max};
  double amax = std::max(std::fabs(min), std::fabs(max));
  return {-amax, amax};
}

Expected<CalibrationRange> percentileRange(const Histogram &hist, double pct,
                                           bool symmetric) {
  if (!(pct > 0 && pct <= 100))
    return fail("percentile " + detail::formatDouble(pct) +
                " is outside (0, 100]");
  Expected<double> total = checkHistogram(hist);
  if (!total)
    return total.takeError();
  double q = pct / 100.0;
  if (symmetric) {
    AbsHistogram abs = foldAbs(hist, naturalAbsBins(hist, 1, 1 << 16));
    double t = quantile(abs.mass, 0, abs.width, abs.total, q);
    return CalibrationRange{-t, t};
  }
  std::vector<double> mass(hist.counts.begin(), hist.counts.end());
  double width = (hist.max - hist.min) / static_cast<double>(mass.size());
  double lo = quantile(mass, hist.min, width, *total, 1.0 - q);
  double hi = quantile(mass, hist.min, width, *total, q);
  return CalibrationRange{lo, std::min(hi, hist.max)};
}

Expected<double> entropyThreshold(const Histogram &hist, unsigned bits) {
  if (Error error = checkBits(bits))
    return std::move(error);
  Expected<double> total = checkHistogram(hist);
  if (!total)
    return total.takeError();
  double amax = std::max(std::fabs(hist.min), std::fabs(hist.max));
  // TensorRT quantizes |x| to 128 levels for int8 (the sign takes a bit).
  size_t levels = size_t(1) << (std::min(bits, 31u) - 1);
  // At least 16 bins per level (2048 for int8), as TensorRT's collector
  // uses; finer when the source histogram is finer, up to 4096 bins so that
  // the O(n^2) search stays cheap.
  constexpr size_t kMaxBins = 4096;
  if (levels >= kMaxBins)
    return amax;
  size_t numBins =
      naturalAbsBins(hist, std::min(16 * levels, kMaxBins), kMaxBins);
  if (numBins <= levels)
    return amax;
  AbsHistogram abs = foldAbs(hist, numBins);
  const std::vector<double> &mass = abs.mass;

  // suffix[i] = mass at or past bin i: what clipping at i folds into bin i-1.
  std::vector<double> suffix(numBins + 1, 0.0);
  for (size_t i = numBins; i-- > 0;)
    suffix[i] = suffix[i + 1] + mass[i];

  std::vector<double> levelMass(levels), levelNonEmpty(levels);
  double bestDivergence = std::numeric_limits<double>::infinity();
  size_t bestBins = numBins;
  for (size_t i = levels; i <= numBins; ++i) {
    // Quantize the first i bins to `levels` levels: bin j goes to level
    // j * levels / i.
    std::fill(levelMass.begin(), levelMass.end(), 0.0);
    std::fill(levelNonEmpty.begin(), levelNonEmpty.end(), 0.0);
    for (size_t j = 0; j < i; ++j) {
      size_t level = j * levels / i;
      levelMass[level] += mass[j];
      if (mass[j] > 0)
        levelNonEmpty[level] += 1;
    }
    double inside = abs.total - suffix[i];
    if (!(inside > 0))
      continue;
    double outliers = suffix[i];
    // KL(P || Q): P is the first i bins with the outliers folded into the
    // last one; Q spreads each level's mass evenly over its non-empty bins.
    double divergence = 0;
    for (size_t j = 0; j < i; ++j) {
      double p = mass[j] + (j + 1 == i ? outliers : 0.0);
      if (p <= 0)
        continue;
      size_t level = j * levels / i;
      double q = mass[j] > 0 ? levelMass[level] / levelNonEmpty[level] : 0.0;
      // Smoothing: an empty quantized bin under a non-empty reference bin
      // (only the last one, when it was empty before the outliers were
      // folded in) gets a small share so that the divergence stays finite.
      if (q <= 0)
        q = 1e-4 * inside / static_cast<double>(i);
      divergence += (p / abs.total) * std::log((p / abs.total) / (q / inside));
    }
    if (divergence < bestDivergence) {
      bestDivergence = divergence;
      bestBins = i;
    }
  }
  return std::min(amax, static_cast<double>(bestBins) * abs.width);
}

Expected<CalibrationRange> mseRange(const Histogram &hist, unsigned bits,
                                    bool symmetric) {
  if (Error error = checkBits(bits))
    return std::move(error);
  Expected<double> total = checkHistogram(hist);
  if (!total)
    return total.takeError();

  if (symmetric) {
    if (bits < 2)
      return fail("symmetric mse calibration needs at least 2 bits");
    double qmax = std::ldexp(1.0, static_cast<int>(bits) - 1) - 1;
    AbsHistogram abs = foldAbs(hist, naturalAbsBins(hist, 1, 1 << 16));
    size_t n = abs.mass.size();
    // Errors in units of width^2. Clipping at edge k: the bins j >= k are
    // mapped to k * width; a bin at distance d = j - k bins contributes
    // mass * (d^2 + d + 1/3). The running sums C0, C1, C2 of mass, mass * d
    // and mass * d^2 over j >= k are updated from k + 1 to k.
    double c0 = 0, c1 = 0, c2 = 0;
    std::vector<double> clip(n + 1, 0.0);
    for (size_t k = n; k-- > 0;) {
      c2 = c2 + 2 * c1 + c0;
      c1 = c1 + c0;
      c0 += abs.mass[k];
      clip[k] = c2 + c1 + c0 / 3;
    }
    double inside = 0, bestError = std::numeric_limits<double>::infinity();
    size_t best = n;
    for (size_t k = 1; k <= n; ++k) {
      inside += abs.mass[k - 1];
      double step = static_cast<double>(k) / qmax;
      double error = clip[k] + step * step / 12 * inside;
      if (error < bestError) {
        bestError = error;
        best = k;
      }
    }
    double t = static_cast<double>(best) * abs.width;
    return CalibrationRange{-t, t};
  }

  // Asymmetric: candidates [a, b) over the bin edges, a < b.
  Histogram coarse = coarsen(hist, 2048);
  size_t n = coarse.counts.size();
  double width = (coarse.max - coarse.min) / static_cast<double>(n);
  double qsteps = std::ldexp(1.0, static_cast<int>(std::min(bits, 62u))) - 1;
  std::vector<double> mass(coarse.counts.begin(), coarse.counts.end());
  // left[a]: clipping the bins j < a up to edge a; right[b]: the bins j >= b
  // down to edge b. prefix[k]: mass of the bins j < k.
  std::vector<double> left(n + 1, 0.0), right(n + 1, 0.0), prefix(n + 1, 0.0);
  double l0 = 0, l1 = 0, l2 = 0;
  for (size_t a = 0; a <= n; ++a) {
    left[a] = l2 + l1 + l0 / 3;
    if (a == n)
      break;
    l2 = l2 + 2 * l1 + l0;
    l1 = l1 + l0;
    l0 += mass[a];
    prefix[a + 1] = prefix[a] + mass[a];
  }
  double r0 = 0, r1 = 0, r2 = 0;
  for (size_t b = n; b-- > 0;) {
    r2 = r2 + 2 * r1 + r0;
    r1 = r1 + r0;
    r0 += mass[b];
    right[b] = r2 + r1 + r0 / 3;
  }
  double bestError = std::numeric_limits<double>::infinity();
  size_t bestA = 0, bestB = n;
  for (size_t a = 0; a < n; ++a) {
    for (size_t b = a + 1; b <= n; ++b) {
      double step = static_cast<double>(b - a) / qsteps;
      double error =
          left[a] + right[b] + step * step / 12 * (prefix[b] - prefix[a]);
      if (error < bestError) {
        bestError = error;
        bestA = a;
        bestB = b;
      }
    }
  }
  return CalibrationRange{
      coarse.min + static_cast<double>(bestA) * width,
      std::min(hist.max, coarse.min + static_cast<double>(bestB) * width)};
}

Expected<CalibrationRange> computeRange(const TensorStats &stats,
                                        const CalibratorOptions &opts) {
  if (stats.min.empty() || stats.min.size() != stats.max.size())
    return fail("tensor '" + stats.name + "' has no min/max statistics");
  double lo = *std::min_element(stats.min.begin(), stats.min.end());
  double hi = *std::max_element(stats.max.begin(), stats.max.end());
  if (opts.kind == CalibratorKind::MinMax)
    return minMaxRange(lo, hi, opts.symmetric);

  if (!stats.histogram)
    return fail("tensor '" + stats.name + "' has no histogram; the " +
                stringifyCalibratorKind(opts.kind) +
                " calibrator needs one (use minmax, or a calibration file "
                "with histograms)");
  const Histogram &hist = *stats.histogram;
  Expected<CalibrationRange> range = [&]() -> Expected<CalibrationRange> {
    switch (opts.kind) {
    case CalibratorKind::Percentile:
      return percentileRange(hist, opts.percentile, opts.symmetric);
    case CalibratorKind::Entropy: {
      Expected<double> t = entropyThreshold(hist, opts.bits);
      if (!t)
        return t.takeError();
      if (opts.symmetric)
        return CalibrationRange{-*t, *t};
      return CalibrationRange{std::max(-*t, hist.min), std::min(*t, hist.max)};
    }
    case CalibratorKind::MSE:
      return mseRange(hist, opts.bits, opts.symmetric);
    case CalibratorKind::MinMax:
      break;
    }
    return fail("unknown calibrator");
  }();
  if (!range)
    return createStringError(inconvertibleErrorCode(),
                             "tensor '" + stats.name +
                                 "': " + toString(range.takeError()));
  if (!std::isfinite(range->min) || !std::isfinite(range->max))
    return fail("tensor '" + stats.name + "': the " +
                stringifyCalibratorKind(opts.kind) +
                " calibrator found no finite range in the histogram");
  // The histogram may be wider than the data (ONNX Runtime's is symmetric
  // around zero); no calibrator should widen the observed range.
  if (opts.symmetric) {
    double amax = std::max(std::fabs(lo), std::fabs(hi));
    double t = std::min(range->max, amax);
    return CalibrationRange{-t, t};
  }
  CalibrationRange clipped{std::max(range->min, lo), std::min(range->max, hi)};
  if (clipped.min > clipped.max)
    return CalibrationRange{lo, hi};
  return clipped;
}

Expected<std::vector<CalibrationRange>>
computeChannelRanges(const TensorStats &stats, const CalibratorOptions &opts) {
  if (!stats.axis) {
    Expected<CalibrationRange> range = computeRange(stats, opts);
    if (!range)
      return range.takeError();
    return std::vector<CalibrationRange>{*range};
  }
  if (opts.kind != CalibratorKind::MinMax)
    return fail("tensor '" + stats.name +
                "' has per-axis stats, which carry "
                "no histogram; only the minmax calibrator applies");
  if (stats.min.size() != stats.max.size())
    return fail("tensor '" + stats.name + "' has mismatched min/max sizes");
  std::vector<CalibrationRange> ranges;
  ranges.reserve(stats.min.size());
  for (size_t i = 0, e = stats.min.size(); i != e; ++i)
    ranges.push_back(minMaxRange(stats.min[i], stats.max[i], opts.symmetric));
  return ranges;
}

} // namespace mlir::qopt
