//===- CalibratorsTest.cpp - Calibrators on synthetic histograms ----------===//
//
// Histograms are built from exact CDFs (uniform, Gaussian, Laplacian,
// exponential, plus a few far outliers), and each calibrator's range is
// compared with what theory says, worked out here independently of the
// library: percentiles from inverse CDFs (the normal one by bisection on
// erfc), mse optima by minimizing the closed-form expected error with a
// golden-section search, and for the uniform distribution agreement of every
// calibrator with minmax within a bin.
//
//===----------------------------------------------------------------------===//

#include "qopt/Calibration/Calibrators.h"

#include "gtest/gtest.h"

#include <cmath>
#include <functional>

using namespace mlir::qopt;

namespace {

using Cdf = std::function<double(double)>;

double normalCdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }
double normalPdf(double x) {
  return std::exp(-0.5 * x * x) / std::sqrt(2.0 * M_PI);
}

/// Inverse of normalCdf by bisection.
double normalQuantile(double p) {
  double lo = -40, hi = 40;
  for (int i = 0; i < 200; ++i) {
    double mid = 0.5 * (lo + hi);
    (normalCdf(mid) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

double laplaceCdf(double x, double b) {
  return x < 0 ? 0.5 * std::exp(x / b) : 1 - 0.5 * std::exp(-x / b);
}

/// Minimizes a unimodal f on [lo, hi].
double goldenSection(const std::function<double(double)> &f, double lo,
                     double hi) {
  const double g = (std::sqrt(5.0) - 1) / 2;
  double a = lo, b = hi;
  for (int i = 0; i < 200; ++i) {
    double c = b - g * (b - a), d = a + g * (b - a);
    (f(c) < f(d) ? b : a) = (f(c) < f(d) ? d : c);
  }
  return 0.5 * (a + b);
}

/// `bins` equal bins on [lo, hi] holding round(total * (cdf(b) - cdf(a))).
Histogram histogramOf(const Cdf &cdf, double lo, double hi, size_t bins,
                      double total = 1e9) {
  Histogram hist;
  hist.min = lo;
  hist.max = hi;
  double width = (hi - lo) / bins;
  for (size_t j = 0; j < bins; ++j)
    hist.counts.push_back(static_cast<int64_t>(std::llround(
        total * (cdf(lo + (j + 1) * width) - cdf(lo + j * width)))));
  return hist;
}

double binWidth(const Histogram &hist) {
  return (hist.max - hist.min) / hist.counts.size();
}

TensorStats statsOf(const Histogram &hist, double min, double max) {
  TensorStats stats;
  stats.name = "t";
  stats.min = {min};
  stats.max = {max};
  stats.histogram = hist;
  return stats;
}

CalibrationRange rangeOk(const TensorStats &stats, CalibratorKind kind,
                         bool symmetric, unsigned bits = 8,
                         double percentile = 99.99) {
  CalibratorOptions opts;
  opts.kind = kind;
  opts.symmetric = symmetric;
  opts.bits = bits;
  opts.percentile = percentile;
  llvm::Expected<CalibrationRange> range = computeRange(stats, opts);
  if (!range) {
    ADD_FAILURE() << llvm::toString(range.takeError());
    return {0, 0};
  }
  return *range;
}

/// A standard Gaussian on [-8, 8] with 4096 bins (16 / 4096 wide).
Histogram gaussian() { return histogramOf(normalCdf, -8, 8, 4096); }

/// The Gaussian plus 4 values at +/-20 (two each), on [-20, 20]: the data's
/// true min/max are the outliers.
Histogram gaussianWithOutliers() {
  Histogram hist = histogramOf(normalCdf, -20, 20, 8000);
  hist.counts.front() += 2;
  hist.counts.back() += 2;
  return hist;
}

TEST(Calibrators, Names) {
  for (CalibratorKind kind :
       {CalibratorKind::MinMax, CalibratorKind::Percentile,
        CalibratorKind::Entropy, CalibratorKind::MSE})
    EXPECT_EQ(parseCalibratorKind(stringifyCalibratorKind(kind)), kind);
  EXPECT_EQ(parseCalibratorKind("kl"), std::nullopt);
}

TEST(Calibrators, MinMaxKeepsTheObservedRange) {
  TensorStats stats = statsOf(gaussianWithOutliers(), -20, 19.5);
  CalibrationRange asym = rangeOk(stats, CalibratorKind::MinMax, false);
  EXPECT_EQ(asym.min, -20);
  EXPECT_EQ(asym.max, 19.5);
  CalibrationRange sym = rangeOk(stats, CalibratorKind::MinMax, true);
  EXPECT_EQ(sym.min, -20);
  EXPECT_EQ(sym.max, 20);
  // Without a histogram, minmax still works.
  stats.histogram.reset();
  EXPECT_EQ(rangeOk(stats, CalibratorKind::MinMax, false).max, 19.5);
}

TEST(Calibrators, PerAxisMinMax) {
  TensorStats stats;
  stats.name = "w";
  stats.axis = 0;
  stats.min = {-1, -3, 0.5};
  stats.max = {2, 1, 4};
  CalibratorOptions opts;
  CalibrationRange all = *computeRange(stats, opts);
  EXPECT_EQ(all.min, -3);
  EXPECT_EQ(all.max, 4);
  llvm::Expected<std::vector<CalibrationRange>> channels =
      computeChannelRanges(stats, opts);
  ASSERT_TRUE(bool(channels));
  ASSERT_EQ(channels->size(), 3u);
  EXPECT_EQ((*channels)[1].min, -3);
  EXPECT_EQ((*channels)[2].max, 4);
  opts.symmetric = true;
  channels = computeChannelRanges(stats, opts);
  ASSERT_TRUE(bool(channels));
  EXPECT_EQ((*channels)[0].min, -2);
  EXPECT_EQ((*channels)[2].min, -4);
}

TEST(Calibrators, UniformAllAgreeWithMinMaxWithinABin) {
  // 200 bins of 1000 on [-1, 1]: nothing to clip. (mse's optimum for a
  // uniform distribution is t = A * 254 / 255, 0.004 A inside, less than a
  // bin of 0.01 here.)
  Histogram hist;
  hist.min = -1;
  hist.max = 1;
  hist.counts.assign(200, 1000);
  TensorStats stats = statsOf(hist, -1, 1);
  double w = binWidth(hist);
  for (bool symmetric : {false, true}) {
    for (CalibratorKind kind : {CalibratorKind::Percentile,
                                CalibratorKind::Entropy, CalibratorKind::MSE}) {
      SCOPED_TRACE(std::string(stringifyCalibratorKind(kind)) +
                   (symmetric ? " symmetric" : " asymmetric"));
      CalibrationRange range = rangeOk(stats, kind, symmetric);
      EXPECT_NEAR(range.min, -1, w);
      EXPECT_NEAR(range.max, 1, w);
    }
  }
}

TEST(Calibrators, PercentileOfAGaussian) {
  Histogram hist = gaussian();
  TensorStats stats = statsOf(hist, -8, 8);
  double w = binWidth(hist);
  // Per side: [P(0.1%), P(99.9%)] = -/+ 3.0902.
  CalibrationRange asym =
      rangeOk(stats, CalibratorKind::Percentile, false, 8, 99.9);
  EXPECT_NEAR(asym.max, normalQuantile(0.999), w);
  EXPECT_NEAR(asym.min, normalQuantile(0.001), w);
  // Symmetric: 99.9% of |x| below t, so t = P(99.95%) = 3.2905.
  CalibrationRange sym =
      rangeOk(stats, CalibratorKind::Percentile, true, 8, 99.9);
  EXPECT_NEAR(sym.max, normalQuantile(0.9995), w);
  EXPECT_EQ(sym.min, -sym.max);
}

TEST(Calibrators, PercentileOfALaplacianAndAnExponential) {
  // Laplace(0, b = 2): P(p) = -b ln(2 (1 - p)) for p > 1/2.
  double b = 2;
  Histogram laplace =
      histogramOf([&](double x) { return laplaceCdf(x, b); }, -60, 60, 6000);
  TensorStats stats = statsOf(laplace, -60, 60);
  CalibrationRange range =
      rangeOk(stats, CalibratorKind::Percentile, false, 8, 99.0);
  EXPECT_NEAR(range.max, -b * std::log(2 * 0.01), binWidth(laplace));
  EXPECT_NEAR(range.min, b * std::log(2 * 0.01), binWidth(laplace));

  // Exponential(1) on [0, 40] (a ReLU-like one-sided tensor): each side at
  // its own percentile, [-ln(1 - 0.01), -ln(0.01)].
  Histogram expo = histogramOf(
      [](double x) { return x <= 0 ? 0.0 : 1 - std::exp(-x); }, 0, 40, 8000);
  TensorStats one = statsOf(expo, 0, 40);
  range = rangeOk(one, CalibratorKind::Percentile, false, 8, 99.0);
  EXPECT_NEAR(range.min, -std::log(0.99), binWidth(expo));
  EXPECT_NEAR(range.max, -std::log(0.01), binWidth(expo));
}

TEST(Calibrators, PercentileEntropyMseClipOutliers) {
  Histogram plain = gaussian();
  Histogram outliers = gaussianWithOutliers();
  TensorStats withOutliers = statsOf(outliers, -20, 20);
  TensorStats without = statsOf(plain, -8, 8);
  double w = binWidth(outliers);
  for (CalibratorKind kind : {CalibratorKind::Percentile,
                              CalibratorKind::Entropy, CalibratorKind::MSE}) {
    SCOPED_TRACE(stringifyCalibratorKind(kind).str());
    CalibrationRange clipped = rangeOk(withOutliers, kind, true);
    CalibrationRange reference = rangeOk(without, kind, true);
    // Four values in 10^9 do not move the threshold: it stays where the
    // Gaussian alone puts it (within a couple of bins of either histogram),
    // far from the outliers at 20 that minmax keeps.
    EXPECT_LT(clipped.max, 6.0);
    EXPECT_NEAR(clipped.max, reference.max, 2 * w);
  }
}

TEST(Calibrators, EntropyOfAGaussian) {
  // No closed form; the threshold must clip the tail (below the 6 sigma that
  // 1e9 samples reach) and keep the bulk: above the 99.9% point of |x|,
  // since quantizing 128 levels finely is worth less than losing 0.1% of
  // the values.
  TensorStats stats = statsOf(gaussian(), -8, 8);
  CalibrationRange range = rangeOk(stats, CalibratorKind::Entropy, true);
  EXPECT_GT(range.max, normalQuantile(0.9995));
  EXPECT_LT(range.max, 6.0);
  // Fewer bits clip more.
  CalibrationRange four = rangeOk(stats, CalibratorKind::Entropy, true, 4);
  EXPECT_LT(four.max, range.max);
  // Asymmetric entropy keeps the data's side: for a one-sided histogram the
  // range starts at the data's min.
  Histogram expo = histogramOf(
      [](double x) { return x <= 0 ? 0.0 : 1 - std::exp(-x); }, 0, 40, 8000);
  CalibrationRange one =
      rangeOk(statsOf(expo, 0, 40), CalibratorKind::Entropy, false);
  EXPECT_EQ(one.min, 0);
  EXPECT_LT(one.max, 40);
}

TEST(Calibrators, MseOfALaplacian) {
  // Laplace(0, b): E(a) = 2 b^2 e^(-a/b) (clipping both tails) +
  // (a / qmax)^2 / 12 * (1 - e^(-a/b)) (rounding inside), qmax = 2^(M-1) - 1.
  // For 8 bits the optimum is near ACIQ's 9.89 b.
  double b = 1;
  Histogram hist =
      histogramOf([&](double x) { return laplaceCdf(x, b); }, -30, 30, 6000);
  TensorStats stats = statsOf(hist, -30, 30);
  double w = binWidth(hist);
  for (unsigned bits : {4u, 8u}) {
    SCOPED_TRACE(bits);
    double qmax = std::ldexp(1.0, bits - 1) - 1;
    auto expected = goldenSection(
        [&](double a) {
          return 2 * b * b * std::exp(-a / b) +
                 a * a / (qmax * qmax) / 12 * (1 - std::exp(-a / b));
        },
        0.1, 29);
    CalibrationRange range = rangeOk(stats, CalibratorKind::MSE, true, bits);
    EXPECT_NEAR(range.max, expected, 1.5 * w);
    EXPECT_EQ(range.min, -range.max);
    if (bits == 8)
      EXPECT_NEAR(range.max, 9.89 * b, 0.3 * b);
  }
}

TEST(Calibrators, MseOfAGaussian) {
  // N(0, 1): the clipped tail costs 2 [(1 + a^2) Q(a) - a phi(a)], with
  // Q(a) = 1 - Phi(a); rounding (a / qmax)^2 / 12 * (1 - 2 Q(a)).
  Histogram hist = gaussian();
  TensorStats stats = statsOf(hist, -8, 8);
  for (unsigned bits : {4u, 8u}) {
    SCOPED_TRACE(bits);
    double qmax = std::ldexp(1.0, bits - 1) - 1;
    auto expected = goldenSection(
        [&](double a) {
          double q = 1 - normalCdf(a);
          return 2 * ((1 + a * a) * q - a * normalPdf(a)) +
                 a * a / (qmax * qmax) / 12 * (1 - 2 * q);
        },
        0.1, 7.9);
    CalibrationRange range = rangeOk(stats, CalibratorKind::MSE, true, bits);
    EXPECT_NEAR(range.max, expected, 1.5 * binWidth(hist));
  }
}

TEST(Calibrators, AsymmetricMseOfAnExponential) {
  // Exponential(1) on [0, 40], range [l, h], step (h - l) / 255:
  //   E = int_0^l (l - x)^2 e^-x dx + int_h^inf (x - h)^2 e^-x dx
  //       + step^2 / 12 * (e^-l - e^-h)
  //     = (l^2 - 2 l + 2 - 2 e^-l) + 2 e^-h + step^2 / 12 * (e^-l - e^-h).
  // dE/dl < 0 at l = 0 (the rounding noise of the values near 0 costs more
  // than clipping them), so the optimum l is small but positive; minimize
  // by alternating golden-section searches.
  Histogram hist = histogramOf(
      [](double x) { return x <= 0 ? 0.0 : 1 - std::exp(-x); }, 0, 40, 2000);
  TensorStats stats = statsOf(hist, 0, 40);
  auto error = [](double l, double h) {
    double step = (h - l) / 255;
    return (l * l - 2 * l + 2 - 2 * std::exp(-l)) + 2 * std::exp(-h) +
           step * step / 12 * (std::exp(-l) - std::exp(-h));
  };
  double l = 0, h = 20;
  for (int i = 0; i < 30; ++i) {
    h = goldenSection([&](double x) { return error(l, x); }, 1, 39);
    l = goldenSection([&](double x) { return error(x, h); }, 0, 1);
  }
  CalibrationRange range = rangeOk(stats, CalibratorKind::MSE, false);
  double w = binWidth(hist);
  EXPECT_GT(l, 0);
  EXPECT_LT(l, w);
  EXPECT_NEAR(range.min, l, w);
  EXPECT_NEAR(range.max, h, 1.5 * w);
}

TEST(Calibrators, RangesStayInsideTheObservedData) {
  // ONNX Runtime's histograms are symmetric around 0 even for a ReLU output:
  // the range of [0, 3] data must not start below 0 or end above 3.
  Histogram hist;
  hist.min = -4;
  hist.max = 4;
  hist.counts = {0, 0, 0, 0, 50, 30, 20, 0};
  TensorStats stats = statsOf(hist, 0, 3);
  for (CalibratorKind kind : {CalibratorKind::Percentile,
                              CalibratorKind::Entropy, CalibratorKind::MSE}) {
    SCOPED_TRACE(stringifyCalibratorKind(kind).str());
    CalibrationRange range = rangeOk(stats, kind, false);
    EXPECT_GE(range.min, 0);
    EXPECT_LE(range.max, 3);
    CalibrationRange sym = rangeOk(stats, kind, true);
    EXPECT_LE(sym.max, 3);
  }
}

TEST(Calibrators, Errors) {
  TensorStats stats;
  stats.name = "conv1";
  stats.min = {-1};
  stats.max = {1};
  CalibratorOptions opts;
  opts.kind = CalibratorKind::Entropy;
  llvm::Expected<CalibrationRange> range = computeRange(stats, opts);
  ASSERT_FALSE(bool(range));
  EXPECT_EQ(llvm::toString(range.takeError()),
            "tensor 'conv1' has no histogram; the entropy calibrator needs "
            "one (use minmax, or a calibration file with histograms)");

  stats.histogram = Histogram{-1, 1, {0, 0, 0}};
  opts.kind = CalibratorKind::Percentile;
  range = computeRange(stats, opts);
  ASSERT_FALSE(bool(range));
  EXPECT_EQ(llvm::toString(range.takeError()),
            "tensor 'conv1': the histogram is empty (all counts are zero)");

  stats.histogram = Histogram{-1, 1, {1, 2, 3}};
  for (double pct : {0.0, -5.0, 100.5, std::nan("")}) {
    opts.percentile = pct;
    range = computeRange(stats, opts);
    ASSERT_FALSE(bool(range));
    EXPECT_NE(llvm::toString(range.takeError()).find("outside (0, 100]"),
              std::string::npos);
  }
  // Bounds whose difference overflows.
  stats.histogram = Histogram{-1e308, 1e308, {1, 2}};
  opts.percentile = 99;
  range = computeRange(stats, opts);
  ASSERT_FALSE(bool(range));
  EXPECT_EQ(llvm::toString(range.takeError()),
            "tensor 'conv1': the histogram's bounds [-1e+308, 1e+308] are too "
            "far apart to compute with");
  EXPECT_FALSE(bool(entropyThreshold(Histogram{1, 1, {1}}, 8)));
  llvm::consumeError(entropyThreshold(Histogram{1, 1, {1}}, 8).takeError());
  llvm::Expected<double> noBits = entropyThreshold(Histogram{-1, 1, {1}}, 0);
  ASSERT_FALSE(bool(noBits));
  EXPECT_EQ(llvm::toString(noBits.takeError()),
            "bit width 0 is out of range (1 to 32)");
  llvm::Expected<CalibrationRange> oneBit =
      mseRange(Histogram{-1, 1, {1, 1}}, 1, true);
  ASSERT_FALSE(bool(oneBit));
  llvm::consumeError(oneBit.takeError());

  // Per-axis stats have no histogram: only minmax per channel.
  TensorStats w;
  w.name = "w";
  w.axis = 0;
  w.min = {-1, -2};
  w.max = {1, 2};
  opts.kind = CalibratorKind::MSE;
  llvm::Expected<std::vector<CalibrationRange>> channels =
      computeChannelRanges(w, opts);
  ASSERT_FALSE(bool(channels));
  llvm::consumeError(channels.takeError());
}

} // namespace
