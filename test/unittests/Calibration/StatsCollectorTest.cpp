//===- StatsCollectorTest.cpp - qopt-calibrate's streaming statistics -----===//
//
// The histogram rule of StatsCollector.h on small cases worked out by hand:
// numpy's edge rule (a value on an edge opens its bin, the upper limit is in
// the last bin), ONNX Runtime's growth by whole bins on both sides, the pair
// merging that bounds the bin count, zeros seen before any range, and
// per-channel min/max.
//
//===----------------------------------------------------------------------===//

#include "qopt/Calibration/StatsCollector.h"

#include "gtest/gtest.h"

using namespace mlir::qopt;

namespace {

TEST(SymmetricHistogram, EdgesAsNumpy) {
  // t = 1, 4 bins of 0.5: [-1,-.5) [-.5,0) [0,.5) [.5,1].
  SymmetricHistogram h(4, 64);
  h.add({-1.0, -0.5, 0.0, 0.5, 1.0});
  EXPECT_EQ(h.threshold(), 1.0);
  EXPECT_EQ(h.counts(), (std::vector<int64_t>{1, 1, 1, 2}));
}

TEST(SymmetricHistogram, GrowsByWholeBins) {
  SymmetricHistogram h(4, 64);
  h.add({-1.0, -0.5, 0.0, 0.5, 1.0});
  // max |x| = 1.6: width 0.5, k = floor(0.6 / 0.5) + 1 = 2 bins per side,
  // t = 1 + 2 * 0.5 = 2, 8 bins; 1.6 is in [1.5, 2]; the old counts move to
  // bins 2..5.
  h.add({1.6});
  EXPECT_EQ(h.threshold(), 2.0);
  EXPECT_EQ(h.counts(), (std::vector<int64_t>{0, 0, 1, 1, 1, 2, 0, 1}));
  // Smaller ranges reuse the bins: -2 opens bin 0, 0.25 is in [0, 0.5).
  h.add({-2.0, 0.25});
  EXPECT_EQ(h.counts(), (std::vector<int64_t>{1, 0, 1, 1, 2, 2, 0, 1}));
}

TEST(SymmetricHistogram, MergesPairsBeyondTheCap) {
  SymmetricHistogram h(4, 4);
  h.add({-1.0, 1.0}); // {1, 0, 0, 1}, t = 1
  // 1.2: k = 1, t = 1.5, 6 bins {0, 1, 0, 0, 1, 1} (the old last bin, which
  // held 1.0, is now [0.5, 1)). Above 4 bins: 6 / 2 is odd, so one empty bin
  // on each side (t = 2, 8 bins), then pairs: {0, 1, 1, 1} over [-2, 2].
  h.add({1.2});
  EXPECT_EQ(h.threshold(), 2.0);
  EXPECT_EQ(h.counts(), (std::vector<int64_t>{0, 1, 1, 1}));
}

TEST(SymmetricHistogram, ZerosBeforeAnyRange) {
  SymmetricHistogram h(4, 64);
  h.add({0.0, 0.0});
  EXPECT_EQ(h.threshold(), 0.0);
  EXPECT_TRUE(h.counts().empty());
  EXPECT_FALSE(h.empty());
  // numpy put the zeros in the middle bin of [-0.5, 0.5]; they stay in the
  // bin that starts at 0.
  h.add({-1.0, 1.0});
  EXPECT_EQ(h.counts(), (std::vector<int64_t>{1, 0, 2, 1}));
}

TEST(TensorStatsCollector, PerChannelMinMax) {
  TensorStatsCollector c("t", /*axis=*/1, /*histogramBins=*/8, 64);
  c.add({1, 2, 3, 4, -5, 6}, {2, 3});
  c.add({0, 7, 3, 4, 1, 2}, {2, 3});
  TensorStats s = c.finish();
  EXPECT_EQ(s.axis, std::optional<int64_t>(1));
  EXPECT_EQ(s.min, (std::vector<double>{0, -5, 2}));
  EXPECT_EQ(s.max, (std::vector<double>{4, 7, 6}));
  EXPECT_FALSE(s.histogram.has_value());
}

TEST(TensorStatsCollector, PerTensorWithHistogram) {
  TensorStatsCollector c("t", std::nullopt, 4, 64);
  c.add({-1.0, -0.5, 0.0, 0.5, 1.0}, {5});
  TensorStats s = c.finish();
  EXPECT_EQ(s.min, (std::vector<double>{-1.0}));
  EXPECT_EQ(s.max, (std::vector<double>{1.0}));
  ASSERT_TRUE(s.histogram.has_value());
  EXPECT_EQ(s.histogram->min, -1.0);
  EXPECT_EQ(s.histogram->max, 1.0);
  EXPECT_EQ(s.histogram->counts, (std::vector<int64_t>{1, 1, 1, 2}));
}

} // namespace
