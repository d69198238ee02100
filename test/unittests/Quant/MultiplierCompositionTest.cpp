//===- MultiplierCompositionTest.cpp - accumulator scales and multipliers -===//
//
// A matmul's requantization multiplier is composed from three scales: the
// activation's and the weight's (their product is the accumulator scale,
// computed in float32 by accumulatorScale) and the output's. The expected
// values below were computed independently with python3 (struct.pack to round
// to float32, math.frexp and round-half-away for TFLite's QuantizeMultiplier),
// not with this library.
//
//===----------------------------------------------------------------------===//

#include "qopt/Quant/FixedPoint.h"
#include "qopt/Quant/QuantParams.h"

#include "gtest/gtest.h"

using namespace mlir::qopt;

namespace {

TEST(MultiplierCompositionTest, AccumulatorScaleIsFloat32Product) {
  // 0.01 is not a float32: f32(0.01) = 0.009999999776482582, and the float32
  // product of two of them is 9.999999747378752e-05.
  EXPECT_EQ(accumulatorScale(0.01, 0.01), 9.999999747378752e-05);
  // Exact cases stay exact.
  EXPECT_EQ(accumulatorScale(0.5, 0.25), 0.125);
  // 2/255 and 1/127 (each rounded to float32): 6.175698945298791e-05.
  EXPECT_EQ(accumulatorScale(2.0 / 255.0, 1.0 / 127.0), 6.175698945298791e-05);
  // Commutative, as a float32 product is.
  EXPECT_EQ(accumulatorScale(0.013, 0.0071), accumulatorScale(0.0071, 0.013));
}

struct Case {
  double activation, weight, output;
  int32_t multiplier;
  int shift;
};

TEST(MultiplierCompositionTest, RequantMultiplierFromThreeScales) {
  const Case cases[] = {
      // 0.5 * 0.25 / 0.125 = 1.0 = 0.5 * 2^1.
      {0.5, 0.25, 0.125, 1 << 30, 1},
      {2.0 / 255.0, 1.0 / 127.0, 0.05, 1358050560, -9},
      // The scales of the bundled MLP's first layer, channel 0.
      {0.0078431377187371254, 0.003518897807225585, 0.01274509821087122,
       1190482862, -8},
      {0.01, 0.01, 0.02, 1374389500, -7},
  };
  for (const Case &c : cases) {
    double acc = accumulatorScale(c.activation, c.weight);
    auto m = quantizeMultiplier(acc / c.output);
    ASSERT_TRUE(bool(m)) << llvm::toString(m.takeError());
    EXPECT_EQ(m->multiplier, c.multiplier) << c.activation << " " << c.weight;
    EXPECT_EQ(m->shift, c.shift) << c.activation << " " << c.weight;
  }
}

TEST(MultiplierCompositionTest, PerChannelMultipliersFollowTheirScales) {
  // Per-channel weights: one multiplier per channel, and scaling a weight
  // scale by 2 (exact in float32) moves only the shift.
  const double activation = 0.5, output = 0.125;
  auto base = quantizeMultiplier(accumulatorScale(activation, 0.25) / output);
  auto doubled = quantizeMultiplier(accumulatorScale(activation, 0.5) / output);
  ASSERT_TRUE(bool(base) && bool(doubled));
  EXPECT_EQ(base->multiplier, doubled->multiplier);
  EXPECT_EQ(base->shift + 1, doubled->shift);
}

} // namespace
