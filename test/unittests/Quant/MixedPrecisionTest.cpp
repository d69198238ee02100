//===- MixedPrecisionTest.cpp - Tests of the mixed-precision numerics -----===//
//
// The noise estimates, costs and knapsack solver behind
// qopt-assign-precision, against values worked out by hand in the comments
// (and the solver against brute force on random instances).
//
//===----------------------------------------------------------------------===//

#include "qopt/Quant/MixedPrecision.h"

#include "gtest/gtest.h"

#include <cmath>
#include <random>

using namespace mlir::qopt;

namespace {

TEST(MixedPrecisionTest, SqnrDb) {
  EXPECT_DOUBLE_EQ(sqnrDb(0.01), 20.0);
  EXPECT_DOUBLE_EQ(sqnrDb(1e-4), 40.0);
  EXPECT_TRUE(std::isinf(sqnrDb(0.0)));
  EXPECT_NEAR(relativeNoiseFromDb(30.0), 1e-3, 1e-15);
}

TEST(MixedPrecisionTest, RoundToFloatFormat) {
  // bf16 keeps 8 significand bits: 1 + 2^-8 is halfway between 1 and
  // 1 + 2^-7 and goes to the even one (1); 1 + 3 * 2^-8 is halfway between
  // 1 + 2^-7 (odd) and 1 + 2^-6 (even).
  EXPECT_EQ(roundToFloatFormat(1.0f + 0x1p-8f, ElementFormat::BF16), 1.0f);
  EXPECT_EQ(roundToFloatFormat(1.0f + 3 * 0x1p-8f, ElementFormat::BF16),
            1.0f + 0x1p-6f);
  // f16: 11 significand bits; 65520 is halfway between 65504 (the largest
  // f16) and 65536, so it overflows to infinity.
  EXPECT_EQ(roundToFloatFormat(1.0f + 0x1p-11f, ElementFormat::F16), 1.0f);
  EXPECT_TRUE(std::isinf(roundToFloatFormat(65520.0f, ElementFormat::F16)));
  EXPECT_EQ(roundToFloatFormat(0.1f, ElementFormat::F32), 0.1f);
}

TEST(MixedPrecisionTest, WeightNoisePerTensorInt8) {
  // amax 1, scale f32(1/127): 1.0 -> 127 (exact), 0.5 -> 63.5 -> 64 (half to
  // even), -0.25 -> -31.75 -> -32, 0.1 -> 12.7 -> 13.
  std::vector<float> w = {1.0f, 0.5f, -0.25f, 0.1f};
  auto e = estimateWeightNoise(w, {4}, ElementFormat::I8, WeightLayout());
  ASSERT_TRUE(static_cast<bool>(e));
  double s = 1.0 / 127;
  double expected = std::pow(0.5 - 64 * s, 2) + std::pow(-0.25 + 32 * s, 2) +
                    std::pow(double(0.1f) - 13 * s, 2);
  EXPECT_NEAR(e->noise, expected, 1e-9);
  EXPECT_NEAR(e->signal, 1.0 + 0.25 + 0.0625 + double(0.1f) * double(0.1f),
              1e-12);
}

TEST(MixedPrecisionTest, WeightNoisePerChannelAndGroupInt4) {
  // 2x2 weight, channels along axis 1. Channel 0 {1, 0.5}: amax 1, scale
  // 1/7, 0.5 -> 3.5 -> 4 (even), error 0.5 - 4/7. Channel 1 {-2, 2}: exact.
  std::vector<float> w = {1.0f, -2.0f, 0.5f, 2.0f};
  WeightLayout perChannel;
  perChannel.channelAxis = 1;
  auto e = estimateWeightNoise(w, {2, 2}, ElementFormat::I4, perChannel);
  ASSERT_TRUE(static_cast<bool>(e));
  // (The scale is f32(1/7), so the values agree to f32 precision.)
  EXPECT_NEAR(e->noise, std::pow(0.5 - 4.0 / 7, 2), 1e-7);

  // Groups of 1 along axis 0: every element is its own block, so exact.
  WeightLayout perGroup = perChannel;
  perGroup.groupAxis = 0;
  perGroup.groupSize = 1;
  auto g = estimateWeightNoise(w, {2, 2}, ElementFormat::I4, perGroup);
  ASSERT_TRUE(static_cast<bool>(g));
  EXPECT_NEAR(g->noise, 0.0, 1e-12);
}

TEST(MixedPrecisionTest, WeightNoiseFloat) {
  std::vector<float> w = {1.0f + 0x1p-8f, 2.0f};
  auto e = estimateWeightNoise(w, {2}, ElementFormat::BF16, WeightLayout());
  ASSERT_TRUE(static_cast<bool>(e));
  EXPECT_DOUBLE_EQ(e->noise, std::pow(0x1p-8, 2));
  auto f = estimateWeightNoise(w, {2}, ElementFormat::F32, WeightLayout());
  EXPECT_EQ(f->noise, 0.0);
}

TEST(MixedPrecisionTest, ActivationNoiseFromHistogram) {
  // One bin over [0, 15], i4 asymmetric: scale 15 / 15 = 1, zero point -8,
  // so a value comes back as round(x). The 16 samples (k + 0.5) * 15 / 16 =
  // 0.46875 + 0.9375 k lie .46875 .40625 .34375 .28125 .21875 .15625 .09375
  // .03125 from the nearest integer, then the same mirrored.
  std::vector<int64_t> counts = {10};
  ActivationStats stats;
  stats.min = stats.histMin = 0.0;
  stats.max = stats.histMax = 15.0;
  stats.counts = counts;
  NoiseEstimate e = estimateActivationNoise(stats, ElementFormat::I4, {});
  double sumSq = 0;
  for (double d :
       {.46875, .40625, .34375, .28125, .21875, .15625, .09375, .03125})
    sumSq += 2 * d * d;
  EXPECT_NEAR(e.noise, sumSq / 16, 1e-12);
  double signal = 0;
  for (int k = 0; k < 16; ++k)
    signal += std::pow((k + 0.5) * 15 / 16, 2) / 16;
  EXPECT_NEAR(e.signal, signal, 1e-12);
  // Empty bins carry no weight: a second, empty bin over [15, 30] changes
  // nothing but the grid (now [0, 30], scale 2): noise grows.
  std::vector<int64_t> two = {10, 0};
  stats.max = stats.histMax = 30.0;
  stats.counts = two;
  NoiseEstimate wider = estimateActivationNoise(stats, ElementFormat::I4, {});
  EXPECT_NEAR(wider.signal, signal, 1e-12);
  EXPECT_GT(wider.noise, e.noise);
}

TEST(MixedPrecisionTest, ActivationNoiseZeroForF32) {
  ActivationStats stats;
  stats.min = -1.0;
  stats.max = 1.0;
  NoiseEstimate e = estimateActivationNoise(stats, ElementFormat::F32, {});
  EXPECT_EQ(e.noise, 0.0);
  // Uniform over [-1, 1] without a histogram: mean x^2 -> 1/3.
  EXPECT_NEAR(e.signal, 1.0 / 3, 1e-6);
}

TEST(MixedPrecisionTest, Costs) {
  // 100 weights with 4 scales, 50 activation elements, 1000 MACs on x86_64
  // (2 MACs per byte):
  //   i8:   116 B weights, 50 B act, 1000 / 1 + 2 * 166 = 1332
  //   w4a8:  66 B, 50 B, 1000 + 2 * 116 = 1232
  //   bf16: 200 B, 100 B, 1000 / 0.5 + 2 * 300 = 2600
  //   f32:  400 B, 200 B, 1000 / 0.25 + 2 * 600 = 5200
  const TargetDescription *x86 = lookupTargetDescription("x86_64");
  ASSERT_NE(x86, nullptr);
  OpShape shape{100, 4, 50, 1000};
  OpCost i8 = computeOpCost(shape, *lookupCandidate(*x86, "i8"), *x86);
  EXPECT_DOUBLE_EQ(i8.weightBytes, 116);
  EXPECT_DOUBLE_EQ(i8.activationBytes, 50);
  EXPECT_DOUBLE_EQ(i8.weightBits, 800);
  EXPECT_DOUBLE_EQ(i8.cost, 1332);
  EXPECT_DOUBLE_EQ(
      computeOpCost(shape, *lookupCandidate(*x86, "w4a8"), *x86).cost, 1232);
  EXPECT_DOUBLE_EQ(
      computeOpCost(shape, *lookupCandidate(*x86, "bf16"), *x86).cost, 2600);
  OpCost f32 = computeOpCost(shape, *lookupCandidate(*x86, "f32"), *x86);
  EXPECT_DOUBLE_EQ(f32.weightBytes, 400);
  EXPECT_DOUBLE_EQ(f32.cost, 5200);
}

TEST(MixedPrecisionTest, OpTime) {
  // The formula alone, for ops whose bytes qopt-report-perf counts itself:
  // a dequantize of 1024 i32 elements to f32 on x86_64 is 1024 float ops
  // and 8192 bytes: 1024 / 0.25 + 2 * 8192 = 20480; on aarch64 (f32 at
  // 0.125) 8192 + 16384 = 24576. Bytes alone at i8: 2 * 512 = 1024.
  const TargetDescription *x86 = lookupTargetDescription("x86_64");
  const TargetDescription *arm = lookupTargetDescription("aarch64");
  ASSERT_NE(x86, nullptr);
  ASSERT_NE(arm, nullptr);
  EXPECT_DOUBLE_EQ(
      computeOpTime(1024, 8192, *lookupCandidate(*x86, "f32"), *x86), 20480);
  EXPECT_DOUBLE_EQ(
      computeOpTime(1024, 8192, *lookupCandidate(*arm, "f32"), *arm), 24576);
  EXPECT_DOUBLE_EQ(computeOpTime(0, 512, *lookupCandidate(*x86, "i8"), *x86),
                   1024);
  // computeOpCost is this formula on its own byte count.
  OpShape shape{100, 4, 50, 1000};
  const PrecisionCandidate &i8 = *lookupCandidate(*x86, "i8");
  OpCost cost = computeOpCost(shape, i8, *x86);
  EXPECT_DOUBLE_EQ(
      cost.cost,
      computeOpTime(1000, cost.weightBytes + cost.activationBytes, i8, *x86));
}

TEST(MixedPrecisionTest, TargetTables) {
  EXPECT_EQ(lookupTargetDescription("riscv"), nullptr);
  for (const TargetDescription &t : getTargetDescriptions()) {
    EXPECT_NE(lookupCandidate(t, t.baseline), nullptr) << t.name.str();
    EXPECT_NE(lookupCandidate(t, "f32"), nullptr) << t.name.str();
  }
  EXPECT_NE(lookupCandidate(*lookupTargetDescription("aarch64"), "f16"),
            nullptr);
  EXPECT_EQ(lookupCandidate(*lookupTargetDescription("sm_90"), "w4a8"),
            nullptr);
}

TEST(MixedPrecisionTest, KnapsackHandWorked) {
  // A: (1, .5) (2, .1) (4, 0); B: (1, .3) (3, .05).
  // Selections (resource, noise): A1B1 (2, .8), A2B1 (3, .4), A1B3 (4, .55),
  // A4B1 (5, .3), A2B3 (5, .15), A4B3 (7, .05).
  std::vector<std::vector<KnapsackChoice>> items = {{{1, .5}, {2, .1}, {4, 0}},
                                                    {{1, .3}, {3, .05}}};
  auto s = solveMultipleChoiceKnapsack(
      items, KnapsackGoal::MinNoiseWithinResource, 4.0);
  ASSERT_TRUE(static_cast<bool>(s));
  ASSERT_TRUE(s->feasible);
  EXPECT_EQ(s->choice, (std::vector<unsigned>{1, 0}));
  EXPECT_DOUBLE_EQ(s->resource, 3);
  EXPECT_DOUBLE_EQ(s->noise, 0.4);
  EXPECT_DOUBLE_EQ(s->minResource, 2);
  EXPECT_DOUBLE_EQ(s->minNoise, 0.05);
  EXPECT_TRUE(s->exact);

  auto q = solveMultipleChoiceKnapsack(
      items, KnapsackGoal::MinResourceWithinNoise, 0.2);
  ASSERT_TRUE(q->feasible);
  EXPECT_EQ(q->choice, (std::vector<unsigned>{1, 1}));
  EXPECT_DOUBLE_EQ(q->resource, 5);

  auto none = solveMultipleChoiceKnapsack(
      items, KnapsackGoal::MinNoiseWithinResource, 1.5);
  EXPECT_FALSE(none->feasible);
  EXPECT_DOUBLE_EQ(none->minResource, 2);
  auto tooQuiet = solveMultipleChoiceKnapsack(
      items, KnapsackGoal::MinResourceWithinNoise, 0.01);
  EXPECT_FALSE(tooQuiet->feasible);
  EXPECT_DOUBLE_EQ(tooQuiet->minNoise, 0.05);
}

TEST(MixedPrecisionTest, KnapsackRejectsBadItems) {
  std::vector<std::vector<KnapsackChoice>> empty = {{}};
  auto s = solveMultipleChoiceKnapsack(
      empty, KnapsackGoal::MinNoiseWithinResource, 1.0);
  EXPECT_FALSE(static_cast<bool>(s));
  llvm::consumeError(s.takeError());
  std::vector<std::vector<KnapsackChoice>> negative = {{{-1.0, 0.0}}};
  auto n = solveMultipleChoiceKnapsack(
      negative, KnapsackGoal::MinNoiseWithinResource, 1.0);
  EXPECT_FALSE(static_cast<bool>(n));
  llvm::consumeError(n.takeError());
}

TEST(MixedPrecisionTest, KnapsackMatchesBruteForce) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> res(0.0, 10.0), noise(0.0, 1.0);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<std::vector<KnapsackChoice>> items(5);
    for (auto &choices : items)
      for (int c = 0; c < 3; ++c)
        choices.push_back({res(rng), noise(rng)});
    double limit = 15.0 + trial % 20;
    double best = INFINITY;
    for (int code = 0; code < 243; ++code) {
      double r = 0, n = 0;
      for (int i = 0, k = code; i < 5; ++i, k /= 3) {
        r += items[i][k % 3].resource;
        n += items[i][k % 3].noise;
      }
      if (r <= limit)
        best = std::min(best, n);
    }
    auto s = solveMultipleChoiceKnapsack(
        items, KnapsackGoal::MinNoiseWithinResource, limit);
    ASSERT_TRUE(static_cast<bool>(s));
    ASSERT_EQ(s->feasible, std::isfinite(best));
    if (s->feasible) {
      EXPECT_NEAR(s->noise, best, 1e-12);
      EXPECT_LE(s->resource, limit);
    }
  }
}

TEST(MixedPrecisionTest, KnapsackThinsLargeFrontiers) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> res(0.0, 10.0), noise(0.0, 1.0);
  std::vector<std::vector<KnapsackChoice>> items(12);
  for (auto &choices : items)
    for (int c = 0; c < 4; ++c)
      choices.push_back({res(rng), noise(rng)});
  auto s = solveMultipleChoiceKnapsack(
      items, KnapsackGoal::MinNoiseWithinResource, 60.0, /*maxFrontier=*/5);
  ASSERT_TRUE(static_cast<bool>(s));
  EXPECT_FALSE(s->exact);
  // One point per interval (the last interval is closed), plus the first.
  EXPECT_LE(s->frontierPoints, 7u);
  ASSERT_TRUE(s->feasible);
  EXPECT_LE(s->resource, 60.0);
  // The exact answer is at least as good.
  auto exact = solveMultipleChoiceKnapsack(
      items, KnapsackGoal::MinNoiseWithinResource, 60.0);
  EXPECT_TRUE(exact->exact);
  EXPECT_LE(exact->noise, s->noise);
}

} // namespace
