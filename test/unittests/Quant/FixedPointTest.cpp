//===- FixedPointTest.cpp - Tests for fixed-point requantization ----------===//
//
// Unit tests for quantizeMultiplier and the gemmlowp primitives. Expected
// values are worked out by hand in the comments from TFLite's and gemmlowp's
// published definitions; the randomized test compares against an independent
// 128-bit formulation of the same two roundings and against the exact real
// product.
//
//===----------------------------------------------------------------------===//

#include "qopt/Quant/FixedPoint.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>

using namespace mlir::qopt;

namespace {

constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax = std::numeric_limits<int32_t>::max();
constexpr int32_t kQ30 = int32_t(1) << 30;

QuantizedMultiplier qm(double m) {
  llvm::Expected<QuantizedMultiplier> r = quantizeMultiplier(m);
  if (!r) {
    ADD_FAILURE() << "unexpected error: " << llvm::toString(r.takeError());
    return QuantizedMultiplier{0, 0};
  }
  return *r;
}

std::string qmError(double m) {
  llvm::Expected<QuantizedMultiplier> r = quantizeMultiplier(m);
  if (r) {
    ADD_FAILURE() << "expected an error for " << m;
    return "";
  }
  return llvm::toString(r.takeError());
}

#define EXPECT_QM(value, mult, sh)                                             \
  do {                                                                         \
    QuantizedMultiplier r_ = qm(value);                                        \
    EXPECT_EQ(r_.multiplier, (mult)) << (value);                               \
    EXPECT_EQ(r_.shift, (sh)) << (value);                                      \
  } while (false)

//===----------------------------------------------------------------------===//
// quantizeMultiplier
//===----------------------------------------------------------------------===//

TEST(QuantizeMultiplierTest, PowersOfTwo) {
  EXPECT_QM(0.0, 0, 0);
  // frexp(0.5) = 0.5 * 2^0 -> q = 0.5 * 2^31 = 2^30, shift 0.
  EXPECT_QM(0.5, kQ30, 0);
  // frexp(1.0) = 0.5 * 2^1.
  EXPECT_QM(1.0, kQ30, 1);
  // frexp(0.25) = 0.5 * 2^-1.
  EXPECT_QM(0.25, kQ30, -1);
  // 2^-31 = 0.5 * 2^-30.
  EXPECT_QM(std::ldexp(1.0, -31), kQ30, -30);
  // 2^-32 = 0.5 * 2^-31: shift -31 is the lowest kept.
  EXPECT_QM(std::ldexp(1.0, -32), kQ30, -31);
  // 2^-33 = 0.5 * 2^-32: shift < -31, flushed to zero.
  EXPECT_QM(std::ldexp(1.0, -33), 0, 0);
  EXPECT_QM(1e-300, 0, 0);
  EXPECT_QM(std::numeric_limits<double>::denorm_min(), 0, 0);
}

TEST(QuantizeMultiplierTest, GeneralValues) {
  // 3.0 = 0.75 * 2^2 -> q = 0.75 * 2^31 = 3 * 2^29 = 1610612736.
  EXPECT_QM(3.0, 1610612736, 2);
  // 0.75 = 0.75 * 2^0.
  EXPECT_QM(0.75, 1610612736, 0);
  // 0.1 = 0.8 * 2^-3; 0.8 * 2^31 = 1717986918.4 -> 1717986918.
  EXPECT_QM(0.1, 1717986918, -3);
  // 1/3 = (2/3) * 2^-1; (2/3) * 2^31 = 1431655765.33 -> 1431655765.
  EXPECT_QM(1.0 / 3.0, 1431655765, -1);
  // 100 = 0.78125 * 2^7; 0.78125 * 2^31 = 1677721600.
  EXPECT_QM(100.0, 1677721600, 7);
}

TEST(QuantizeMultiplierTest, SignificandRoundsAwayFromZero) {
  // (2^30 + 0.5) / 2^31 = 0.5 + 2^-32: q = 2^30 + 0.5 exactly, which rounds
  // half away from zero to 2^30 + 1 (ties-to-even would give 2^30).
  EXPECT_QM(0.5 + std::ldexp(1.0, -32), kQ30 + 1, 0);
  // (2^30 + 1.5) / 2^31 -> 2^30 + 2.
  EXPECT_QM(0.5 + 3 * std::ldexp(1.0, -32), kQ30 + 2, 0);
}

TEST(QuantizeMultiplierTest, NearOneRenormalises) {
  // frexp(0.9999999999) = 0.9999999999 * 2^0 and
  // 0.9999999999 * 2^31 = 2147483647.785 rounds to 2^31, which is halved to
  // 2^30 with shift 0 + 1.
  EXPECT_QM(0.9999999999, kQ30, 1);
  // 1 - 2^-32: q = 2^31 - 0.5 rounds away from zero to 2^31 -> same.
  EXPECT_QM(1.0 - std::ldexp(1.0, -32), kQ30, 1);
  // 1 - 2^-31: q = 2^31 - 1 exactly, no renormalisation.
  EXPECT_QM(1.0 - std::ldexp(1.0, -31), kMax, 0);
}

TEST(QuantizeMultiplierTest, FlushToZeroBoundary) {
  // (1 - 2^-40) * 2^-32 = f * 2^-32 with f = 1 - 2^-40: q = 2^31 - 2^-9
  // rounds to 2^31, renormalises to shift -31 and survives.
  EXPECT_QM((1.0 - std::ldexp(1.0, -40)) * std::ldexp(1.0, -32), kQ30, -31);
  // (1 - 2^-30) * 2^-32: q = 2^31 - 2 does not round up; shift -32 < -31.
  EXPECT_QM((1.0 - std::ldexp(1.0, -30)) * std::ldexp(1.0, -32), 0, 0);
}

TEST(QuantizeMultiplierTest, LargeMultipliers) {
  // (1 - 2^-30) * 2^30 = f * 2^30, q = 2^31 - 2, shift 30: the largest kept.
  EXPECT_QM((1.0 - std::ldexp(1.0, -30)) * std::ldexp(1.0, 30), kMax - 1, 30);
  // 2^29 = 0.5 * 2^30.
  EXPECT_QM(std::ldexp(1.0, 29), kQ30, 30);
  // 2^30 = 0.5 * 2^31: shift 31 is rejected.
  EXPECT_NE(qmError(std::ldexp(1.0, 30)).find("2^30 or larger"),
            std::string::npos);
  // (1 - 2^-40) * 2^30 renormalises to shift 31: rejected as well.
  EXPECT_NE(qmError((1.0 - std::ldexp(1.0, -40)) * std::ldexp(1.0, 30))
                .find("2^30 or larger"),
            std::string::npos);
  EXPECT_NE(qmError(1e300).find("2^30 or larger"), std::string::npos);
}

TEST(QuantizeMultiplierTest, InvalidMultipliersAreErrors) {
  const double inf = std::numeric_limits<double>::infinity();
  for (double m :
       {-1.0, -1e-300, std::numeric_limits<double>::quiet_NaN(), inf, -inf})
    EXPECT_NE(qmError(m).find("not a finite non-negative number"),
              std::string::npos)
        << m;
  // -0.0 compares equal to 0.0 and is accepted as zero.
  EXPECT_QM(-0.0, 0, 0);
}

TEST(QuantizeMultiplierTest, RepresentsValueWithinHalfUnit) {
  // By construction |M - q * 2^(shift-31)| <= 2^(shift-32) and q is in
  // [2^30, 2^31) whenever it is non-zero.
  std::mt19937_64 rng(1234);
  std::uniform_real_distribution<double> logDist(-31.9, 29.9);
  for (int i = 0; i < 20000; ++i) {
    double m = std::exp2(logDist(rng));
    QuantizedMultiplier r = qm(m);
    ASSERT_GE(r.multiplier, kQ30) << m;
    ASSERT_GE(r.shift, -31) << m;
    ASSERT_LE(r.shift, 30) << m;
    long double approx = std::ldexp((long double)r.multiplier, r.shift - 31);
    long double halfUnit = std::ldexp(1.0L, r.shift - 32);
    EXPECT_LE(std::fabs(approx - (long double)m), halfUnit) << m;
  }
}

//===----------------------------------------------------------------------===//
// saturatingRoundingDoublingHighMul
//===----------------------------------------------------------------------===//

TEST(SRDHMTest, Extremes) {
  // The only overflow: (-2^31)^2 * 2 / 2^32 = 2^31.
  EXPECT_EQ(saturatingRoundingDoublingHighMul(kMin, kMin), kMax);
  // (2^31 - 1)^2 / 2^31 = 2^31 - 2 + 2^-31 -> 2147483646.
  EXPECT_EQ(saturatingRoundingDoublingHighMul(kMax, kMax), 2147483646);
  // -2^31 * (2^31 - 1) / 2^31 = -(2^31 - 1) exactly.
  EXPECT_EQ(saturatingRoundingDoublingHighMul(kMin, kMax), kMin + 1);
  EXPECT_EQ(saturatingRoundingDoublingHighMul(kMax, kMin), kMin + 1);
  // Multiplying by 2^30 halves: 2^-31 * (-2^31) * 2^30 = -2^30.
  EXPECT_EQ(saturatingRoundingDoublingHighMul(kMin, kQ30), -kQ30);
  // (2^31 - 1) / 2 = 1073741823.5 -> 2^30.
  EXPECT_EQ(saturatingRoundingDoublingHighMul(kMax, kQ30), kQ30);
  EXPECT_EQ(saturatingRoundingDoublingHighMul(0, kMin), 0);
  EXPECT_EQ(saturatingRoundingDoublingHighMul(kMax, 0), 0);
}

TEST(SRDHMTest, SmallValues) {
  // 1 * 1 / 2^31 rounds to 0; 2^30 * 2^30 / 2^31 = 2^29.
  EXPECT_EQ(saturatingRoundingDoublingHighMul(1, 1), 0);
  EXPECT_EQ(saturatingRoundingDoublingHighMul(kQ30, kQ30), 1 << 29);
  // 100 * 2^30 / 2^31 = 50.
  EXPECT_EQ(saturatingRoundingDoublingHighMul(100, kQ30), 50);
  // 3 * 1610612736 / 2^31 = 2.25 -> 2.
  EXPECT_EQ(saturatingRoundingDoublingHighMul(3, 1610612736), 2);
  EXPECT_EQ(saturatingRoundingDoublingHighMul(-3, 1610612736), -2);
}

TEST(SRDHMTest, TiesRoundTowardsPositiveInfinity) {
  // With b = 2^30 the result is a / 2. Positive ties: nudge 2^30,
  // (a * 2^30 + 2^30) / 2^31 truncated. Negative ties: nudge 1 - 2^30, and
  // the truncating division stops short of the next integer down.
  EXPECT_EQ(saturatingRoundingDoublingHighMul(1, kQ30), 1);   // 0.5 -> 1
  EXPECT_EQ(saturatingRoundingDoublingHighMul(3, kQ30), 2);   // 1.5 -> 2
  EXPECT_EQ(saturatingRoundingDoublingHighMul(5, kQ30), 3);   // 2.5 -> 3
  EXPECT_EQ(saturatingRoundingDoublingHighMul(-1, kQ30), 0);  // -0.5 -> 0
  EXPECT_EQ(saturatingRoundingDoublingHighMul(-3, kQ30), -1); // -1.5 -> -1
  EXPECT_EQ(saturatingRoundingDoublingHighMul(-5, kQ30), -2); // -2.5 -> -2
  EXPECT_EQ(saturatingRoundingDoublingHighMul(kQ30, -3), -1); // symmetric
  // With b = 2^29 the result is a / 4: a = -7 -> -1.75 -> -2 (not a tie),
  // a = -6 -> -1.5 -> -1 (tie, towards +inf).
  EXPECT_EQ(saturatingRoundingDoublingHighMul(-7, 1 << 29), -2);
  EXPECT_EQ(saturatingRoundingDoublingHighMul(-6, 1 << 29), -1);
  EXPECT_EQ(saturatingRoundingDoublingHighMul(-5, 1 << 29), -1); // -1.25
  EXPECT_EQ(saturatingRoundingDoublingHighMul(6, 1 << 29), 2);   // 1.5
}

//===----------------------------------------------------------------------===//
// roundingDivideByPOT
//===----------------------------------------------------------------------===//

TEST(RDBPOTTest, TiesRoundAwayFromZero) {
  // x = -3, exponent 1: mask 1, remainder -3 & 1 = 1, threshold 0 + 1 = 1;
  // (-3 >> 1) = -2 and 1 > 1 is false, so -1.5 -> -2.
  EXPECT_EQ(roundingDivideByPOT(-3, 1), -2);
  // x = 3: remainder 1 > threshold 0, 1 + 1 = 2.
  EXPECT_EQ(roundingDivideByPOT(3, 1), 2);
  EXPECT_EQ(roundingDivideByPOT(1, 1), 1);   // 0.5 -> 1
  EXPECT_EQ(roundingDivideByPOT(-1, 1), -1); // -0.5 -> -1
  EXPECT_EQ(roundingDivideByPOT(5, 1), 3);   // 2.5 -> 3
  EXPECT_EQ(roundingDivideByPOT(-5, 1), -3); // -2.5 -> -3
  EXPECT_EQ(roundingDivideByPOT(6, 2), 2);   // 1.5 -> 2
  EXPECT_EQ(roundingDivideByPOT(-6, 2), -2); // -1.5 -> -2
  EXPECT_EQ(roundingDivideByPOT(10, 2), 3);  // 2.5 -> 3
  EXPECT_EQ(roundingDivideByPOT(-10, 2), -3);
}

TEST(RDBPOTTest, NonTies) {
  EXPECT_EQ(roundingDivideByPOT(2, 1), 1);
  EXPECT_EQ(roundingDivideByPOT(-2, 1), -1);
  EXPECT_EQ(roundingDivideByPOT(7, 2), 2);   // 1.75
  EXPECT_EQ(roundingDivideByPOT(-7, 2), -2); // -1.75
  EXPECT_EQ(roundingDivideByPOT(5, 2), 1);   // 1.25
  EXPECT_EQ(roundingDivideByPOT(-5, 2), -1); // -1.25
  EXPECT_EQ(roundingDivideByPOT(0, 31), 0);
}

TEST(RDBPOTTest, Extremes) {
  EXPECT_EQ(roundingDivideByPOT(kMax, 0), kMax);
  EXPECT_EQ(roundingDivideByPOT(kMin, 0), kMin);
  EXPECT_EQ(roundingDivideByPOT(-7, 0), -7);
  // (2^31 - 1) / 2 = 1073741823.5 -> 2^30; -2^31 / 2 = -2^30 exactly.
  EXPECT_EQ(roundingDivideByPOT(kMax, 1), kQ30);
  EXPECT_EQ(roundingDivideByPOT(kMin, 1), -kQ30);
  // (2^31 - 1) / 2^31 = 0.99999... -> 1; -2^31 / 2^31 = -1.
  EXPECT_EQ(roundingDivideByPOT(kMax, 31), 1);
  EXPECT_EQ(roundingDivideByPOT(kMin, 31), -1);
  // 2^30 / 2^31 = 0.5 -> 1; -2^30 / 2^31 = -0.5 -> -1.
  EXPECT_EQ(roundingDivideByPOT(kQ30, 31), 1);
  EXPECT_EQ(roundingDivideByPOT(-kQ30, 31), -1);
  // (2^30 - 1) / 2^31 < 0.5 -> 0 for both signs.
  EXPECT_EQ(roundingDivideByPOT(kQ30 - 1, 31), 0);
  EXPECT_EQ(roundingDivideByPOT(-(kQ30 - 1), 31), 0);
}

//===----------------------------------------------------------------------===//
// multiplyByQuantizedMultiplier
//===----------------------------------------------------------------------===//

TEST(MBQMTest, BelowOne) {
  // M = 0.5 = {2^30, 0}: SRDHM(x, 2^30) = x / 2 with ties to +inf.
  EXPECT_EQ(multiplyByQuantizedMultiplier(100, qm(0.5)), 50);
  EXPECT_EQ(multiplyByQuantizedMultiplier(101, qm(0.5)), 51);   // 50.5
  EXPECT_EQ(multiplyByQuantizedMultiplier(-101, qm(0.5)), -50); // -50.5
  // M = 0.25 = {2^30, -1}: SRDHM(-101, 2^30) = -50, then -50 / 2 = -25.
  EXPECT_EQ(multiplyByQuantizedMultiplier(-101, qm(0.25)), -25);
  // x = -3: SRDHM gives -1.5 -> -1, RDBPOT(-1, 1) = -0.5 -> -1.
  EXPECT_EQ(multiplyByQuantizedMultiplier(-3, qm(0.25)), -1);
  // Double rounding: 5 * 0.25 = 1.25, but SRDHM gives 2.5 -> 3 and
  // RDBPOT(3, 1) = 1.5 -> 2.
  EXPECT_EQ(multiplyByQuantizedMultiplier(5, qm(0.25)), 2);
  // M = 0.1 = {1717986918, -3}: SRDHM(1000, q) = 1000 * 0.79999999981 =
  // 799.9999998 -> 800, RDBPOT(800, 3) = 100.
  EXPECT_EQ(multiplyByQuantizedMultiplier(1000, qm(0.1)), 100);
  EXPECT_EQ(multiplyByQuantizedMultiplier(-1000, qm(0.1)), -100);
}

TEST(MBQMTest, AboveOne) {
  // M = 3.0 = {3 * 2^29, 2}: x * 4 = 40, SRDHM(40, 3 * 2^29) = 40 * 0.75 = 30.
  EXPECT_EQ(multiplyByQuantizedMultiplier(10, qm(3.0)), 30);
  EXPECT_EQ(multiplyByQuantizedMultiplier(-10, qm(3.0)), -30);
  // M = 1.0 = {2^30, 1}: x * 2, then halved: identity.
  EXPECT_EQ(multiplyByQuantizedMultiplier(12345, qm(1.0)), 12345);
  EXPECT_EQ(multiplyByQuantizedMultiplier(-12345, qm(1.0)), -12345);
  // M = 100: 7 * 128 = 896, 896 * 0.78125 = 700.
  EXPECT_EQ(multiplyByQuantizedMultiplier(7, qm(100.0)), 700);
}

TEST(MBQMTest, AccumulatorExtremes) {
  // M = 0.5: (2^31 - 1) / 2 = 1073741823.5 -> 2^30; -2^31 / 2 = -2^30.
  EXPECT_EQ(multiplyByQuantizedMultiplier(kMax, qm(0.5)), kQ30);
  EXPECT_EQ(multiplyByQuantizedMultiplier(kMin, qm(0.5)), -kQ30);
  // M = 2^-32 = {2^30, -31}: SRDHM halves, then RDBPOT by 31:
  // 2^30 / 2^31 = 0.5 -> 1 and -2^30 / 2^31 = -0.5 -> -1.
  EXPECT_EQ(multiplyByQuantizedMultiplier(kMax, qm(std::ldexp(1.0, -32))), 1);
  EXPECT_EQ(multiplyByQuantizedMultiplier(kMin, qm(std::ldexp(1.0, -32))), -1);
  // M = 1.0 keeps the extremes: INT32_MAX * 2 saturates to INT32_MAX and
  // SRDHM(INT32_MAX, 2^30) = 2^30 (rounded up from 2^30 - 0.5). This is the
  // saturation qopt defines; TFLite's int32 x * 2 overflows here.
  EXPECT_EQ(multiplyByQuantizedMultiplier(kMax, qm(1.0)), kQ30);
  // INT32_MIN * 2 saturates to INT32_MIN, SRDHM(INT32_MIN, 2^30) = -2^30.
  EXPECT_EQ(multiplyByQuantizedMultiplier(kMin, qm(1.0)), -kQ30);
  // M = 3.0 with saturated left shift:
  // SRDHM(2^31 - 1, 3 * 2^29) = floor(0.75 * (2^31 - 1) + 0.5)
  // = floor(1610612735.25 + 0.5) = 1610612735.
  EXPECT_EQ(multiplyByQuantizedMultiplier(kMax, qm(3.0)), 1610612735);
  // SRDHM(-2^31, 3 * 2^29) = -0.75 * 2^31 = -1610612736 exactly.
  EXPECT_EQ(multiplyByQuantizedMultiplier(kMin, qm(3.0)), -1610612736);
  // The zero multiplier maps everything to 0.
  EXPECT_EQ(multiplyByQuantizedMultiplier(kMax, qm(0.0)), 0);
  EXPECT_EQ(multiplyByQuantizedMultiplier(kMin, qm(0.0)), 0);
}

TEST(MBQMTest, ShiftsOutsideTheProducedRange) {
  // Left shifts of 32 and more saturate every non-zero x; the multiply by
  // 2^30 then halves the saturated value.
  EXPECT_EQ(multiplyByQuantizedMultiplier(1, kQ30, 40), kQ30);
  EXPECT_EQ(multiplyByQuantizedMultiplier(-1, kQ30, 40), -kQ30);
  EXPECT_EQ(multiplyByQuantizedMultiplier(0, kQ30, 40), 0);
  // Right shift 32 of SRDHM(INT32_MIN, 2^30) = -2^30: -0.25 -> 0.
  EXPECT_EQ(multiplyByQuantizedMultiplier(kMin, kQ30, -32), 0);
  // Right shift 31 of SRDHM(INT32_MIN, INT32_MIN) = INT32_MAX:
  // (2^31 - 1) / 2^31 -> 1.
  EXPECT_EQ(multiplyByQuantizedMultiplier(kMin, kMin, -31), 1);
  EXPECT_EQ(multiplyByQuantizedMultiplier(kMax, kMax, -1000), 0);
  EXPECT_EQ(
      multiplyByQuantizedMultiplier(-5, kMax, std::numeric_limits<int>::min()),
      0);
}

//===----------------------------------------------------------------------===//
// Randomized cross-check
//===----------------------------------------------------------------------===//

using i128 = __int128;

/// floor(a / b) for b > 0.
i128 floorDiv(i128 a, i128 b) {
  i128 q = a / b;
  if (a % b != 0 && a < 0)
    --q;
  return q;
}

i128 clampI32(i128 v) { return v < kMin ? kMin : (v > kMax ? kMax : v); }

/// The same two roundings written independently: SRDHM as
/// floor((y * m + 2^30) / 2^31) (ties towards +inf), RDBPOT as a
/// sign-magnitude round half away from zero.
int32_t referenceMBQM(int32_t x, int32_t m, int shift) {
  int left = shift > 0 ? shift : 0;
  int right = shift > 0 ? 0 : -shift;
  i128 y = clampI32(i128(x) * (i128(1) << left));
  i128 high = clampI32(floorDiv(y * m + (i128(1) << 30), i128(1) << 31));
  if (right == 0)
    return static_cast<int32_t>(high);
  i128 mag = high < 0 ? -high : high;
  mag = (mag + (i128(1) << (right - 1))) >> right;
  return static_cast<int32_t>(high < 0 ? -mag : mag);
}

int32_t randomAccumulator(std::mt19937_64 &rng) {
  static const int32_t edges[] = {kMin,  kMin + 1, kMax,    kMax - 1,  0,  1,
                                  -1,    2,        -2,      3,         -3, kQ30,
                                  -kQ30, kQ30 - 1, 1 << 16, -(1 << 16)};
  switch (rng() % 4) {
  case 0:
    return edges[rng() % (sizeof(edges) / sizeof(edges[0]))];
  case 1:
    return static_cast<int32_t>(static_cast<int64_t>(rng() % 2001) - 1000);
  case 2:
    return static_cast<int32_t>(static_cast<int64_t>(rng() % 2000001) -
                                1000000);
  default:
    return static_cast<int32_t>(static_cast<uint32_t>(rng()));
  }
}

TEST(MBQMTest, RandomAgainstInt128Reference) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> logDist(-33.0, 29.9);
  for (int i = 0; i < 200000; ++i) {
    int32_t x = randomAccumulator(rng);
    int32_t m;
    int shift;
    if (i % 2 == 0) {
      QuantizedMultiplier q = qm(std::exp2(logDist(rng)));
      m = q.multiplier;
      shift = q.shift;
    } else {
      // Raw multipliers in [2^30, 2^31) (and sometimes negative or tiny) with
      // every shift quantizeMultiplier can produce.
      m = static_cast<int32_t>(kQ30 + static_cast<int32_t>(rng() % kQ30));
      if (rng() % 8 == 0)
        m = -m;
      if (rng() % 16 == 0)
        m = static_cast<int32_t>(rng() % 1000);
      shift = static_cast<int>(rng() % 62) - 31;
    }
    ASSERT_EQ(multiplyByQuantizedMultiplier(x, m, shift),
              referenceMBQM(x, m, shift))
        << "x=" << x << " m=" << m << " shift=" << shift;
  }
}

TEST(MBQMTest, RandomCloseToExactProduct) {
  // Without saturation the two roundings stay within
  // 0.5 + 0.5 / 2^rightShift of x * M, where M = m * 2^(shift - 31) exactly.
  // long double (64-bit significand on x86) holds x * m (< 2^62) exactly.
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> logDist(-33.0, 29.9);
  int checked = 0;
  for (int i = 0; i < 100000; ++i) {
    int32_t x = randomAccumulator(rng);
    QuantizedMultiplier q = qm(std::exp2(logDist(rng)));
    int left = q.shift > 0 ? q.shift : 0;
    int right = q.shift > 0 ? 0 : -q.shift;
    long double shifted = std::ldexp((long double)x, left);
    if (shifted > kMax || shifted < kMin)
      continue; // the left shift saturates: not the real product any more
    long double exact =
        std::ldexp((long double)x * (long double)q.multiplier, q.shift - 31);
    if (exact > kMax || exact < kMin)
      continue;
    int32_t got = multiplyByQuantizedMultiplier(x, q);
    long double bound = 0.5L + std::ldexp(0.5L, -right);
    ASSERT_LE(std::fabs((long double)got - exact), bound)
        << "x=" << x << " m=" << q.multiplier << " shift=" << q.shift;
    ++checked;
  }
  EXPECT_GT(checked, 50000);
}

} // namespace
