//===- WeightQuantTest.cpp - Tests of compile-time weight quantization ----===//
//
// Hand-worked cases plus a comparison with a scalar reference written here,
// independently of lib/Quant: per-block amax, scale = f32(amax / qmax),
// q = clamp(nearbyint(x / scale)) under the default round-to-nearest-even
// floating-point mode.
//
//===----------------------------------------------------------------------===//

#include "qopt/Quant/WeightQuant.h"

#include "gtest/gtest.h"

#include <cfenv>
#include <cmath>
#include <random>

using namespace mlir::qopt;

namespace {

WeightQuantSpec perChannel(int64_t axis, unsigned bits = 8) {
  WeightQuantSpec spec;
  spec.storage.bits = bits;
  spec.channelAxis = axis;
  return spec;
}

// Independent scalar reference for symmetric narrow-range signed blocks.
int64_t referenceQuantize(float x, double amax, unsigned bits) {
  int64_t qmax = (int64_t(1) << (bits - 1)) - 1;
  double scale = amax == 0.0 ? 1.0 : double(float(amax / double(qmax)));
  double q = std::nearbyint(double(x) / scale); // FE_TONEAREST: half to even
  return std::max<int64_t>(-qmax, std::min<int64_t>(qmax, int64_t(q)));
}

TEST(WeightQuantTest, PerChannelHandWorked) {
  // 2x2 matmul weight [K, N], channels along axis 1 (N).
  // Channel 0: {1.0, 0.25}: amax 1, scale 1/127: 1.0 -> 127, 0.25 -> 31.75
  // -> 32. Channel 1: {-0.5, 2.0}: amax 2, scale 2/127: -0.5 -> -31.75 -> -32,
  // 2 -> 127.
  std::vector<float> w = {1.0f, -0.5f, 0.25f, 2.0f};
  auto q = quantizeWeights(w, {2, 2}, perChannel(1));
  ASSERT_TRUE(bool(q)) << llvm::toString(q.takeError());
  EXPECT_EQ(q->values, (std::vector<int64_t>{127, -32, 32, 127}));
  ASSERT_EQ(q->scales.size(), 2u);
  EXPECT_EQ(q->scales[0], double(float(1.0 / 127.0)));
  EXPECT_EQ(q->scales[1], double(float(2.0 / 127.0)));
  EXPECT_EQ(q->zeroPoints, (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(q->paramShape, (llvm::SmallVector<int64_t>{1, 2}));
}

TEST(WeightQuantTest, PerTensorFourBit) {
  // amax 7 over the tensor and 4 bits narrow ([-7, 7]): scale 7/7 = 1, and
  // values round half to even: 2.5 -> 2, -3.5 -> -4, 7 -> 7, 0.4 -> 0.
  WeightQuantSpec spec;
  spec.storage.bits = 4;
  std::vector<float> w = {2.5f, -3.5f, 7.0f, 0.4f};
  auto q = quantizeWeights(w, {4}, spec);
  ASSERT_TRUE(bool(q)) << llvm::toString(q.takeError());
  EXPECT_EQ(q->values, (std::vector<int64_t>{2, -4, 7, 0}));
  EXPECT_EQ(q->scales, (std::vector<double>{1.0}));
  EXPECT_TRUE(q->paramShape.empty());
}

TEST(WeightQuantTest, PerGroupAlongK) {
  // K=4, N=2, groups of 2 along K: scale grid [2, 2].
  // Column 0: group {1, 0.25} amax 1; group {4, -1} amax 4.
  // Column 1: group {-2, 0.5} amax 2; group {0, 0} all zero -> scale 1.
  std::vector<float> w = {1.0f, -2.0f, 0.25f, 0.5f, 4.0f, 0.0f, -1.0f, 0.0f};
  WeightQuantSpec spec = perChannel(1);
  spec.groupAxis = 0;
  spec.groupSize = 2;
  auto q = quantizeWeights(w, {4, 2}, spec);
  ASSERT_TRUE(bool(q)) << llvm::toString(q.takeError());
  EXPECT_EQ(q->paramShape, (llvm::SmallVector<int64_t>{2, 2}));
  // 0.25 * 127 = 31.75 -> 32; 0.5 * 127 / 2 = 31.75 -> 32;
  // -1 * 127 / 4 = -31.75 -> -32.
  EXPECT_EQ(q->values,
            (std::vector<int64_t>{127, -127, 32, 32, 127, 0, -32, 0}));
  EXPECT_EQ(q->scales[0], double(float(1.0 / 127)));
  EXPECT_EQ(q->scales[1], double(float(2.0 / 127)));
  EXPECT_EQ(q->scales[2], double(float(4.0 / 127)));
  EXPECT_EQ(q->scales[3], 1.0);
}

TEST(WeightQuantTest, MatchesScalarReferencePerChannel) {
  std::mt19937 rng(1234);
  std::normal_distribution<float> dist(0.0f, 0.3f);
  const int64_t rows = 37, cols = 23;
  std::vector<float> w(rows * cols);
  for (float &v : w)
    v = dist(rng);
  for (unsigned bits : {8u, 4u}) {
    for (int64_t axis : {0, 1}) {
      auto q = quantizeWeights(w, {rows, cols}, perChannel(axis, bits));
      ASSERT_TRUE(bool(q)) << llvm::toString(q.takeError());
      int64_t channels = axis == 0 ? rows : cols;
      std::vector<double> amax(channels, 0.0);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) {
          int64_t ch = axis == 0 ? r : c;
          amax[ch] = std::max(amax[ch], std::fabs(double(w[r * cols + c])));
        }
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) {
          int64_t ch = axis == 0 ? r : c;
          EXPECT_EQ(q->values[r * cols + c],
                    referenceQuantize(w[r * cols + c], amax[ch], bits))
              << "bits " << bits << " axis " << axis << " at " << r << "," << c;
        }
    }
  }
}

TEST(WeightQuantTest, Errors) {
  std::vector<float> w = {1.0f, 2.0f, 3.0f};
  WeightQuantSpec spec = perChannel(0);
  spec.groupAxis = 0;
  spec.groupSize = 2;
  auto sameAxis = quantizeWeights(w, {3}, spec);
  EXPECT_FALSE(bool(sameAxis));
  llvm::consumeError(sameAxis.takeError());

  WeightQuantSpec groups;
  groups.groupAxis = 0;
  groups.groupSize = 2;
  auto notDividing = quantizeWeights(w, {3}, groups);
  ASSERT_FALSE(bool(notDividing));
  EXPECT_NE(llvm::toString(notDividing.takeError())
                .find("group size 2 does not divide dimension 0 of size 3"),
            std::string::npos);

  std::vector<float> bad = {1.0f, NAN};
  auto nan = quantizeWeights(bad, {2}, WeightQuantSpec());
  ASSERT_FALSE(bool(nan));
  EXPECT_NE(llvm::toString(nan.takeError()).find("not finite"),
            std::string::npos);

  auto axisRange = quantizeWeights(w, {3}, perChannel(1));
  EXPECT_FALSE(bool(axisRange));
  llvm::consumeError(axisRange.takeError());

  auto count = quantizeWeights(w, {2, 2}, WeightQuantSpec());
  EXPECT_FALSE(bool(count));
  llvm::consumeError(count.takeError());
}

} // namespace
