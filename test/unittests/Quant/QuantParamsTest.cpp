//===- QuantParamsTest.cpp - Tests for parameter choice and quantize ------===//
//
// Unit tests for QuantSpec bounds, chooseQuantParams (TFLite nudging,
// symmetric rules, degenerate ranges, errors), the rounding helpers and the
// reference quantize/dequantize. Every expected value is worked out by hand
// in the comment beside it from the published definitions (TFLite's
// ChooseQuantizationParams, ONNX QuantizeLinear, MLAS's float32 order).
//
//===----------------------------------------------------------------------===//

#include "qopt/Quant/QuantParams.h"

#include "gtest/gtest.h"

#include <cfloat>
#include <cmath>
#include <limits>
#include <string>

using namespace mlir::qopt;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int64_t kI32Min = std::numeric_limits<int32_t>::min();
constexpr int64_t kI32Max = std::numeric_limits<int32_t>::max();

QuantSpec spec(unsigned bits, bool isSigned, bool narrow = false,
               bool symmetric = false) {
  QuantSpec s;
  s.bits = bits;
  s.isSigned = isSigned;
  s.narrowRange = narrow;
  s.symmetric = symmetric;
  return s;
}

/// Unwraps a result that must succeed.
QuantParams choose(double rmin, double rmax, const QuantSpec &s) {
  llvm::Expected<QuantParams> p = chooseQuantParams(rmin, rmax, s);
  if (!p) {
    ADD_FAILURE() << "unexpected error: " << llvm::toString(p.takeError());
    return QuantParams{0.0, 0, 0, 0};
  }
  return *p;
}

/// Returns the error message of a result that must fail.
std::string chooseError(double rmin, double rmax, const QuantSpec &s) {
  llvm::Expected<QuantParams> p = chooseQuantParams(rmin, rmax, s);
  if (p) {
    ADD_FAILURE() << "expected an error for [" << rmin << ", " << rmax << "]";
    return "";
  }
  return llvm::toString(p.takeError());
}

std::string verifyError(const QuantSpec &s) {
  llvm::Error err = s.verify();
  return err ? llvm::toString(std::move(err)) : "";
}

//===----------------------------------------------------------------------===//
// QuantSpec
//===----------------------------------------------------------------------===//

TEST(QuantSpecTest, Int8Bounds) {
  // Signed 8 bits: [-2^7, 2^7 - 1]; narrow drops -128.
  EXPECT_EQ(spec(8, true).qmin(), -128);
  EXPECT_EQ(spec(8, true).qmax(), 127);
  EXPECT_EQ(spec(8, true, true).qmin(), -127);
  EXPECT_EQ(spec(8, true, true).qmax(), 127);
}

TEST(QuantSpecTest, Uint8Bounds) {
  // Unsigned 8 bits: [0, 2^8 - 1]; narrow drops 0.
  EXPECT_EQ(spec(8, false).qmin(), 0);
  EXPECT_EQ(spec(8, false).qmax(), 255);
  EXPECT_EQ(spec(8, false, true).qmin(), 1);
  EXPECT_EQ(spec(8, false, true).qmax(), 255);
}

TEST(QuantSpecTest, OtherWidths) {
  EXPECT_EQ(spec(16, true).qmin(), -32768);
  EXPECT_EQ(spec(16, true).qmax(), 32767);
  EXPECT_EQ(spec(4, true).qmin(), -8);
  EXPECT_EQ(spec(4, true).qmax(), 7);
  EXPECT_EQ(spec(4, false).qmin(), 0);
  EXPECT_EQ(spec(4, false).qmax(), 15);
  EXPECT_EQ(spec(2, true).qmin(), -2);
  EXPECT_EQ(spec(2, true).qmax(), 1);
  EXPECT_EQ(spec(2, true, true).qmin(), -1);
  EXPECT_EQ(spec(2, false).qmax(), 3);
  EXPECT_EQ(spec(31, false).qmax(), 2147483647);
}

TEST(QuantSpecTest, Int32Bounds) {
  EXPECT_EQ(spec(32, true).qmin(), kI32Min);
  EXPECT_EQ(spec(32, true).qmax(), kI32Max);
  EXPECT_EQ(spec(32, true, true).qmin(), -kI32Max);
}

TEST(QuantSpecTest, Verify) {
  for (unsigned bits : {2u, 4u, 8u, 16u, 31u, 32u})
    EXPECT_EQ(verifyError(spec(bits, true)), "") << bits;
  for (unsigned bits : {2u, 4u, 8u, 16u, 31u})
    EXPECT_EQ(verifyError(spec(bits, false)), "") << bits;
  for (unsigned bits : {0u, 1u, 33u, 64u}) {
    EXPECT_NE(verifyError(spec(bits, true)).find("not supported"),
              std::string::npos)
        << bits;
  }
  EXPECT_NE(verifyError(spec(32, false)).find("unsigned 32-bit"),
            std::string::npos);
}

//===----------------------------------------------------------------------===//
// chooseQuantParams: asymmetric
//===----------------------------------------------------------------------===//

TEST(ChooseQuantParamsTest, Int8AsymmetricNudgesZeroPoint) {
  // scale = 4/255. rmin/scale = -63.75, so zero_point_from_min =
  // -128 + 63.75 = -64.25 (error 128 + 63.75) and zero_point_from_max =
  // 127 - 191.25 = -64.25 (error 318.25). Round(-64.25) = -64.
  QuantParams p = choose(-1.0, 3.0, spec(8, true));
  EXPECT_DOUBLE_EQ(p.scale, 4.0 / 255.0);
  EXPECT_EQ(p.zeroPoint, -64);
  EXPECT_EQ(p.qmin, -128);
  EXPECT_EQ(p.qmax, 127);
  // 0.0 is exact: it quantizes to the zero point and back to 0.
  EXPECT_EQ(quantize(0.0, p), -64);
  EXPECT_EQ(dequantize(p.zeroPoint, p), 0.0);
}

TEST(ChooseQuantParamsTest, Uint8FromZero) {
  // scale = 6/255; zero_point_from_min = 0 - 0 = 0 with error 0.
  QuantParams p = choose(0.0, 6.0, spec(8, false));
  EXPECT_DOUBLE_EQ(p.scale, 6.0 / 255.0);
  EXPECT_EQ(p.zeroPoint, 0);
  EXPECT_EQ(p.qmin, 0);
  EXPECT_EQ(p.qmax, 255);
}

TEST(ChooseQuantParamsTest, Uint8Asymmetric) {
  // scale = 4/255; zero_point_from_min = 0 + 63.75 (error 63.75) against
  // 255 - 191.25 (error 446.25): 63.75 rounds to 64.
  QuantParams p = choose(-1.0, 3.0, spec(8, false));
  EXPECT_DOUBLE_EQ(p.scale, 4.0 / 255.0);
  EXPECT_EQ(p.zeroPoint, 64);
}

TEST(ChooseQuantParamsTest, WidensToIncludeZero) {
  // [2, 6] becomes [0, 6]: scale 6/255, zero_point_from_min = -128 - 0.
  QuantParams pos = choose(2.0, 6.0, spec(8, true));
  EXPECT_DOUBLE_EQ(pos.scale, 6.0 / 255.0);
  EXPECT_EQ(pos.zeroPoint, -128);
  // [-6, -2] becomes [-6, 0]: from_min = -128 + 255 = 127 (error 383),
  // from_max = 127 - 0 = 127 (error 127); both give 127.
  QuantParams neg = choose(-6.0, -2.0, spec(8, true));
  EXPECT_DOUBLE_EQ(neg.scale, 6.0 / 255.0);
  EXPECT_EQ(neg.zeroPoint, 127);
}

TEST(ChooseQuantParamsTest, PointRangeAwayFromZeroIsNotDegenerate) {
  // [3, 3] widens to [0, 3]: scale 3/255, zero point at qmin.
  QuantParams p = choose(3.0, 3.0, spec(8, true));
  EXPECT_DOUBLE_EQ(p.scale, 3.0 / 255.0);
  EXPECT_EQ(p.zeroPoint, -128);
  QuantParams n = choose(-3.0, -3.0, spec(8, false));
  EXPECT_DOUBLE_EQ(n.scale, 3.0 / 255.0);
  EXPECT_EQ(n.zeroPoint, 255);
}

TEST(ChooseQuantParamsTest, ZeroPointTiesRoundAwayFromZero) {
  // u8 [-1, 509]: scale = 510/255 = 2 exactly; from_min = 0 + 0.5 = 0.5
  // (error 0.5) beats from_max = 255 - 254.5 (error 509.5). 0.5 rounds away
  // from zero to 1 (ties-to-even would give 0).
  QuantParams u = choose(-1.0, 509.0, spec(8, false));
  EXPECT_EQ(u.scale, 2.0);
  EXPECT_EQ(u.zeroPoint, 1);
  // i8 [-3, 507]: scale 2; from_min = -128 + 1.5 = -126.5 rounds away from
  // zero to -127 (ties-to-even would give -126).
  QuantParams s = choose(-3.0, 507.0, spec(8, true));
  EXPECT_EQ(s.scale, 2.0);
  EXPECT_EQ(s.zeroPoint, -127);
}

TEST(ChooseQuantParamsTest, ZeroPointAnchorFollowsSmallerError) {
  // The two anchors agree exactly on paper but not in double arithmetic; the
  // choice shows when the exact zero point is a tie. The double values below
  // come from evaluating TFLite's expressions in IEEE double by hand (Python).
  //
  // i8 [-8.8, 15.2]: scale 24/255, exact zero point -128 + 93.5 = -34.5.
  // from_min = -34.499999999999986 with error 128 + 93.5 = 221.5;
  // from_max = -34.5 with error 127 + 161.5 = 288.5. The min anchor wins
  // and rounds to -34 (the max anchor would give -35).
  EXPECT_EQ(choose(-8.8, 15.2, spec(8, true)).zeroPoint, -34);
  // i8 [-137.75, 137.75]: exact zero point -128 + 127.5 = -0.5.
  // from_min = -0.4999999999999858 with error 255.5; from_max =
  // -0.5000000000000142 with error 254.5. The max anchor wins: -1 (the min
  // anchor would give 0).
  EXPECT_EQ(choose(-137.75, 137.75, spec(8, true)).zeroPoint, -1);
}

TEST(ChooseQuantParamsTest, NarrowRangeAsymmetric) {
  // i8 narrow [-127, 127] with range [-1, 1]: scale = 2/254 = 1/127;
  // from_min = -127 + 127 = 0.
  QuantParams p = choose(-1.0, 1.0, spec(8, true, true));
  EXPECT_DOUBLE_EQ(p.scale, 1.0 / 127.0);
  EXPECT_EQ(p.zeroPoint, 0);
  EXPECT_EQ(p.qmin, -127);
  // u8 narrow [1, 255], range [0, 254]: scale = 254/254 = 1, zero point
  // from_min = 1 - 0 = 1.
  QuantParams u = choose(0.0, 254.0, spec(8, false, true));
  EXPECT_EQ(u.scale, 1.0);
  EXPECT_EQ(u.zeroPoint, 1);
  EXPECT_EQ(u.qmin, 1);
}

TEST(ChooseQuantParamsTest, Int16And4Asymmetric) {
  // i16 [-32768, 32767] with range [-1, 65534]: scale = 65535/65535 = 1,
  // from_min = -32768 + 1 = -32767.
  QuantParams p16 = choose(-1.0, 65534.0, spec(16, true));
  EXPECT_EQ(p16.scale, 1.0);
  EXPECT_EQ(p16.zeroPoint, -32767);
  // i4 [-8, 7] with range [-2, 1.75]: scale = 3.75/15 = 0.25,
  // from_min = -8 + 8 = 0.
  QuantParams p4 = choose(-2.0, 1.75, spec(4, true));
  EXPECT_EQ(p4.scale, 0.25);
  EXPECT_EQ(p4.zeroPoint, 0);
  // u4 [0, 15] with range [-1, 2.75]: scale 0.25, from_min = 0 + 4 = 4.
  QuantParams u4 = choose(-1.0, 2.75, spec(4, false));
  EXPECT_EQ(u4.scale, 0.25);
  EXPECT_EQ(u4.zeroPoint, 4);
}

TEST(ChooseQuantParamsTest, Int32Asymmetric) {
  // Range width 2^32 - 1 over 2^32 - 1 steps: scale 1.
  // [-2^31, 2^31 - 1]: from_min = -2^31 + 2^31 = 0.
  QuantParams a = choose(-2147483648.0, 2147483647.0, spec(32, true));
  EXPECT_EQ(a.scale, 1.0);
  EXPECT_EQ(a.zeroPoint, 0);
  EXPECT_EQ(a.qmin, kI32Min);
  EXPECT_EQ(a.qmax, kI32Max);
  // [-1, 2^32 - 2]: from_min = -2^31 + 1.
  QuantParams b = choose(-1.0, 4294967294.0, spec(32, true));
  EXPECT_EQ(b.scale, 1.0);
  EXPECT_EQ(b.zeroPoint, -2147483647);
}

//===----------------------------------------------------------------------===//
// chooseQuantParams: symmetric
//===----------------------------------------------------------------------===//

TEST(ChooseQuantParamsTest, Int8Symmetric) {
  // amax = 3, scale = 3/127, zero point 0, narrow or not.
  QuantParams p = choose(-1.0, 3.0, spec(8, true, false, true));
  EXPECT_DOUBLE_EQ(p.scale, 3.0 / 127.0);
  EXPECT_EQ(p.zeroPoint, 0);
  EXPECT_EQ(p.qmin, -128);
  QuantParams n = choose(-3.0, 1.0, spec(8, true, true, true));
  EXPECT_DOUBLE_EQ(n.scale, 3.0 / 127.0);
  EXPECT_EQ(n.zeroPoint, 0);
  EXPECT_EQ(n.qmin, -127);
  // Both ends are representable: -amax -> -127, amax -> 127.
  EXPECT_EQ(quantize(-3.0, n), -127);
  EXPECT_EQ(quantize(3.0, n), 127);
}

TEST(ChooseQuantParamsTest, SymmetricPointRange) {
  // [2, 2]: amax = 2, scale = 2/127.
  QuantParams p = choose(2.0, 2.0, spec(8, true, false, true));
  EXPECT_DOUBLE_EQ(p.scale, 2.0 / 127.0);
  EXPECT_EQ(p.zeroPoint, 0);
}

TEST(ChooseQuantParamsTest, UnsignedSymmetric) {
  // u8: zero point (0 + 255 + 1) / 2 = 128, scale = amax / (255 - 128).
  QuantParams p = choose(-1.0, 3.0, spec(8, false, false, true));
  EXPECT_EQ(p.zeroPoint, 128);
  EXPECT_DOUBLE_EQ(p.scale, 3.0 / 127.0);
  // -amax -> 128 - 127 = 1, amax -> 255.
  EXPECT_EQ(quantize(-3.0, p), 1);
  EXPECT_EQ(quantize(3.0, p), 255);
  // u8 narrow: (1 + 255 + 1) / 2 = 128 (integer division), same scale.
  QuantParams n = choose(-1.0, 3.0, spec(8, false, true, true));
  EXPECT_EQ(n.zeroPoint, 128);
  EXPECT_DOUBLE_EQ(n.scale, 3.0 / 127.0);
  // u4: zero point (0 + 15 + 1) / 2 = 8, scale = 7 / (15 - 8) = 1.
  QuantParams u4 = choose(-7.0, 2.0, spec(4, false, false, true));
  EXPECT_EQ(u4.zeroPoint, 8);
  EXPECT_EQ(u4.scale, 1.0);
}

TEST(ChooseQuantParamsTest, SymmetricOtherWidths) {
  // i4: scale = 3.5 / 7 = 0.5.
  QuantParams p4 = choose(-3.5, 1.0, spec(4, true, false, true));
  EXPECT_EQ(p4.scale, 0.5);
  EXPECT_EQ(p4.zeroPoint, 0);
  // i16: scale = 1 / 32767.
  QuantParams p16 = choose(-1.0, 1.0, spec(16, true, false, true));
  EXPECT_DOUBLE_EQ(p16.scale, 1.0 / 32767.0);
  // i32: scale = 2147483647 / 2147483647 = 1.
  QuantParams p32 = choose(-2147483647.0, 5.0, spec(32, true, false, true));
  EXPECT_EQ(p32.scale, 1.0);
  EXPECT_EQ(p32.zeroPoint, 0);
  EXPECT_EQ(p32.qmax, kI32Max);
}

//===----------------------------------------------------------------------===//
// chooseQuantParams: degenerate ranges
//===----------------------------------------------------------------------===//

TEST(ChooseQuantParamsTest, AllZeroRange) {
  // Scale 1.0; zero point 0 where the storage range has it, else qmin for
  // asymmetric and the symmetric zero point for symmetric.
  QuantParams i8 = choose(0.0, 0.0, spec(8, true));
  EXPECT_EQ(i8.scale, 1.0);
  EXPECT_EQ(i8.zeroPoint, 0);
  QuantParams u8 = choose(0.0, 0.0, spec(8, false));
  EXPECT_EQ(u8.scale, 1.0);
  EXPECT_EQ(u8.zeroPoint, 0);
  QuantParams u8n = choose(0.0, 0.0, spec(8, false, true));
  EXPECT_EQ(u8n.zeroPoint, 1);
  QuantParams i8s = choose(0.0, 0.0, spec(8, true, false, true));
  EXPECT_EQ(i8s.scale, 1.0);
  EXPECT_EQ(i8s.zeroPoint, 0);
  QuantParams u8s = choose(-0.0, 0.0, spec(8, false, false, true));
  EXPECT_EQ(u8s.scale, 1.0);
  EXPECT_EQ(u8s.zeroPoint, 128);
  // Whatever the zero point, 0.0 round-trips exactly.
  for (const QuantParams &p : {i8, u8, u8n, i8s, u8s}) {
    EXPECT_EQ(quantize(0.0, p), p.zeroPoint);
    EXPECT_EQ(dequantize(quantize(0.0, p), p), 0.0);
  }
}

TEST(ChooseQuantParamsTest, TinyRangeScaleIsFloored) {
  // 2e-40 / 255 is far below FLT_MIN (about 1.18e-38): the scale is raised
  // to FLT_MIN, 1/scale = 2^126 is finite in float32, 0.0 stays exact and
  // the data still fits.
  QuantParams p = choose(-1e-40, 1e-40, spec(8, true));
  EXPECT_EQ(p.scale, static_cast<double>(FLT_MIN));
  EXPECT_TRUE(std::isfinite(1.0f / static_cast<float>(p.scale)));
  EXPECT_GE(p.zeroPoint, p.qmin);
  EXPECT_LE(p.zeroPoint, p.qmax);
  EXPECT_EQ(dequantize(p.zeroPoint, p), 0.0);
  QuantParams s = choose(-1e-40, 1e-40, spec(8, true, false, true));
  EXPECT_EQ(s.scale, static_cast<double>(FLT_MIN));
  EXPECT_EQ(s.zeroPoint, 0);
  // Wider tiny range, asymmetric: [-1e-37, 1e-37] spans about 8.5 steps of
  // FLT_MIN each side; both ends quantize inside the storage range without
  // saturating to the opposite end.
  QuantParams w = choose(-1e-37, 1e-37, spec(8, true));
  EXPECT_EQ(w.scale, static_cast<double>(FLT_MIN));
  EXPECT_LT(quantize(-1e-37, w), quantize(1e-37, w));
}

TEST(ChooseQuantParamsTest, ScaleFloorBoundary) {
  // amax = 127 * 2^-126 gives exactly FLT_MIN; 126 * 2^-126 would give less
  // and is raised to FLT_MIN.
  double flt = static_cast<double>(FLT_MIN);
  EXPECT_EQ(choose(0.0, 127 * flt, spec(8, true, false, true)).scale, flt);
  EXPECT_EQ(choose(0.0, 126 * flt, spec(8, true, false, true)).scale, flt);
  EXPECT_EQ(choose(0.0, 254 * flt, spec(8, true, false, true)).scale, 2 * flt);
}

TEST(ChooseQuantParamsTest, HugeRangeIsAnError) {
  // amax = 127 * FLT_MAX gives exactly FLT_MAX (exact in double: 24 + 7
  // significant bits); 128 * FLT_MAX gives more and is rejected.
  double fmax = static_cast<double>(FLT_MAX);
  EXPECT_EQ(choose(-127 * fmax, 0.0, spec(8, true, false, true)).scale, fmax);
  EXPECT_NE(chooseError(-128 * fmax, 0.0, spec(8, true, false, true))
                .find("larger than the largest float32"),
            std::string::npos);
  EXPECT_NE(chooseError(-1e300, 1e300, spec(8, true)).find("float32"),
            std::string::npos);
  // rmax - rmin overflows double to +inf: also rejected, not NaN params.
  double dmax = std::numeric_limits<double>::max();
  EXPECT_NE(chooseError(-dmax, dmax, spec(8, true)).find("float32"),
            std::string::npos);
}

//===----------------------------------------------------------------------===//
// chooseQuantParams: errors
//===----------------------------------------------------------------------===//

TEST(ChooseQuantParamsTest, NonFiniteBoundsAreErrors) {
  for (QuantSpec s : {spec(8, true), spec(8, true, false, true)}) {
    EXPECT_NE(chooseError(kNaN, 1.0, s).find("not finite"), std::string::npos);
    EXPECT_NE(chooseError(-1.0, kNaN, s).find("not finite"), std::string::npos);
    EXPECT_NE(chooseError(-kInf, 1.0, s).find("not finite"), std::string::npos);
    EXPECT_NE(chooseError(-1.0, kInf, s).find("not finite"), std::string::npos);
  }
}

TEST(ChooseQuantParamsTest, MinAboveMaxIsAnError) {
  EXPECT_NE(chooseError(1.0, -1.0, spec(8, true)).find("min greater than max"),
            std::string::npos);
  EXPECT_NE(chooseError(3.0, 2.0, spec(8, false, false, true))
                .find("min greater than max"),
            std::string::npos);
}

TEST(ChooseQuantParamsTest, InvalidSpecIsAnError) {
  EXPECT_NE(chooseError(-1.0, 1.0, spec(1, true)).find("not supported"),
            std::string::npos);
  EXPECT_NE(chooseError(-1.0, 1.0, spec(32, false)).find("unsigned 32-bit"),
            std::string::npos);
}

TEST(ChooseQuantParamsTest, ZeroIsAlwaysExact) {
  // Sweep ranges and specs: the zero point is an integer inside the storage
  // range, so 0.0 quantizes to it and dequantizes back to exactly 0.0.
  const double ends[] = {-1000.0, -3.7, -1.0, -1e-3, 0.0, 2e-3, 0.5, 6.0, 1e4};
  for (unsigned bits : {2u, 4u, 8u, 16u, 32u}) {
    for (bool isSigned : {true, false}) {
      if (!isSigned && bits == 32)
        continue;
      for (bool narrow : {false, true}) {
        for (bool symmetric : {false, true}) {
          QuantSpec s = spec(bits, isSigned, narrow, symmetric);
          for (double lo : ends) {
            for (double hi : ends) {
              if (lo > hi)
                continue;
              QuantParams p = choose(lo, hi, s);
              ASSERT_GE(p.zeroPoint, p.qmin);
              ASSERT_LE(p.zeroPoint, p.qmax);
              ASSERT_GT(p.scale, 0.0);
              EXPECT_EQ(quantize(0.0, p), p.zeroPoint);
              EXPECT_EQ(dequantize(p.zeroPoint, p), 0.0);
            }
          }
        }
      }
    }
  }
}

//===----------------------------------------------------------------------===//
// Rounding helpers
//===----------------------------------------------------------------------===//

TEST(RoundingTest, HalfToEven) {
  EXPECT_EQ(roundHalfToEven(0.5), 0.0);
  EXPECT_EQ(roundHalfToEven(1.5), 2.0);
  EXPECT_EQ(roundHalfToEven(2.5), 2.0);
  EXPECT_EQ(roundHalfToEven(3.5), 4.0);
  EXPECT_EQ(roundHalfToEven(-0.5), 0.0);
  EXPECT_TRUE(std::signbit(roundHalfToEven(-0.5)));
  EXPECT_EQ(roundHalfToEven(-1.5), -2.0);
  EXPECT_EQ(roundHalfToEven(-2.5), -2.0);
  EXPECT_EQ(roundHalfToEven(-3.5), -4.0);
  // Not ties.
  EXPECT_EQ(roundHalfToEven(2.4999999), 2.0);
  EXPECT_EQ(roundHalfToEven(2.5000001), 3.0);
  EXPECT_EQ(roundHalfToEven(-2.5000001), -3.0);
  EXPECT_EQ(roundHalfToEven(-0.2), 0.0);
  // The largest double below 0.5 (0.5 - 2^-54): floor(x + 0.5) would give 1.
  EXPECT_EQ(roundHalfToEven(0.49999999999999994), 0.0);
  // 2^52 + 1 and beyond are integers already.
  EXPECT_EQ(roundHalfToEven(4503599627370497.0), 4503599627370497.0);
  EXPECT_EQ(roundHalfToEven(-1e300), -1e300);
  // 2^52 - 0.5 is a tie between 2^52 - 1 (odd) and 2^52 (even).
  EXPECT_EQ(roundHalfToEven(4503599627370495.5), 4503599627370496.0);
  EXPECT_TRUE(std::isnan(roundHalfToEven(kNaN)));
  EXPECT_EQ(roundHalfToEven(kInf), kInf);
  EXPECT_EQ(roundHalfToEven(-kInf), -kInf);
}

TEST(RoundingTest, HalfAwayFromZero) {
  EXPECT_EQ(roundHalfAwayFromZero(0.5), 1.0);
  EXPECT_EQ(roundHalfAwayFromZero(2.5), 3.0);
  EXPECT_EQ(roundHalfAwayFromZero(-0.5), -1.0);
  EXPECT_EQ(roundHalfAwayFromZero(-2.5), -3.0);
  EXPECT_EQ(roundHalfAwayFromZero(1.4), 1.0);
  EXPECT_EQ(roundHalfAwayFromZero(-1.6), -2.0);
  EXPECT_EQ(roundHalfAwayFromZero(0.49999999999999994), 0.0);
}

//===----------------------------------------------------------------------===//
// quantize / dequantize
//===----------------------------------------------------------------------===//

TEST(QuantizeTest, RoundsHalfToEven) {
  // scale 0.5 is exact, so real / scale is exact and only the tie rule acts.
  QuantParams p{0.5, 0, -128, 127};
  EXPECT_EQ(quantize(0.25, p), 0);   // 0.5 -> 0
  EXPECT_EQ(quantize(0.75, p), 2);   // 1.5 -> 2
  EXPECT_EQ(quantize(1.25, p), 2);   // 2.5 -> 2
  EXPECT_EQ(quantize(-0.25, p), 0);  // -0.5 -> 0
  EXPECT_EQ(quantize(-0.75, p), -2); // -1.5 -> -2
  EXPECT_EQ(quantize(-1.25, p), -2); // -2.5 -> -2
  EXPECT_EQ(quantize(0.3, p), 1);    // 0.6 -> 1
}

TEST(QuantizeTest, AddsZeroPointAfterRounding) {
  QuantParams p{0.5, 10, -128, 127};
  EXPECT_EQ(quantize(0.75, p), 12);  // 1.5 -> 2, + 10
  EXPECT_EQ(quantize(1.25, p), 12);  // 2.5 -> 2, + 10
  EXPECT_EQ(quantize(58.5, p), 127); // 117 + 10
  EXPECT_EQ(quantize(59.0, p), 127); // 118 + 10 = 128 saturates
}

TEST(QuantizeTest, Saturates) {
  QuantParams p{0.5, 0, -128, 127};
  EXPECT_EQ(quantize(100.0, p), 127);
  EXPECT_EQ(quantize(-100.0, p), -128);
  EXPECT_EQ(quantize(1e300, p), 127);
  EXPECT_EQ(quantize(-1e300, p), -128);
  EXPECT_EQ(quantize(kInf, p), 127);
  EXPECT_EQ(quantize(-kInf, p), -128);
  // Narrow range honours -127.
  QuantParams n{1.0, 0, -127, 127};
  EXPECT_EQ(quantize(-1000.0, n), -127);
  // u8 with zero point 128.
  QuantParams u{1.0, 128, 0, 255};
  EXPECT_EQ(quantize(-200.0, u), 0);
  EXPECT_EQ(quantize(200.0, u), 255);
  EXPECT_EQ(quantize(-128.0, u), 0);
  EXPECT_EQ(quantize(127.0, u), 255);
  // i32 storage: saturates at the int32 bounds without overflow.
  QuantParams w{1.0, 0, kI32Min, kI32Max};
  EXPECT_EQ(quantize(1e300, w), kI32Max);
  EXPECT_EQ(quantize(-1e300, w), kI32Min);
  EXPECT_EQ(quantize(2147483646.5, w), 2147483646); // tie -> even
  EXPECT_EQ(quantize(-2147483648.4, w), kI32Min);
}

TEST(QuantizeTest, NaNMapsToQmin) {
  EXPECT_EQ(quantize(kNaN, QuantParams{0.5, 0, -128, 127}), -128);
  EXPECT_EQ(quantize(kNaN, QuantParams{0.5, 128, 0, 255}), 0);
  EXPECT_EQ(quantize(kNaN, QuantParams{0.5, 0, -127, 127}), -127);
}

TEST(QuantizeTest, Dequantize) {
  QuantParams p{0.5, 10, -128, 127};
  EXPECT_EQ(dequantize(12, p), 1.0);     // 0.5 * 2
  EXPECT_EQ(dequantize(-128, p), -69.0); // 0.5 * -138
  EXPECT_EQ(dequantize(10, p), 0.0);
  QuantParams w{0.25, kI32Min, kI32Min, kI32Max};
  EXPECT_EQ(dequantize(kI32Max, w), 0.25 * 4294967295.0);
}

TEST(QuantizeTest, RoundTripWithinHalfStep) {
  // For in-range reals, |dequantize(quantize(x)) - x| <= scale / 2.
  QuantParams p = choose(-1.0, 3.0, spec(8, true));
  for (int i = -100; i <= 300; ++i) {
    double x = i / 100.0;
    double err = std::fabs(dequantize(quantize(x, p), p) - x);
    EXPECT_LE(err, p.scale / 2 * (1 + 1e-12)) << x;
  }
}

//===----------------------------------------------------------------------===//
// quantizeF32
//===----------------------------------------------------------------------===//

TEST(QuantizeF32Test, RoundsHalfToEvenAndAddsZeroPoint) {
  EXPECT_EQ(quantizeF32(1.25f, 0.5f, 0, -128, 127), 2);   // 2.5 -> 2
  EXPECT_EQ(quantizeF32(-1.25f, 0.5f, 0, -128, 127), -2); // -2.5 -> -2
  EXPECT_EQ(quantizeF32(0.75f, 0.5f, 0, -128, 127), 2);   // 1.5 -> 2
  EXPECT_EQ(quantizeF32(0.75f, 0.5f, 3, -128, 127), 5);
  EXPECT_EQ(quantizeF32(0.0f, 0.5f, -64, -128, 127), -64);
}

TEST(QuantizeF32Test, ClampsAroundZeroPoint) {
  // Clamp to [qmin - zp, qmax - zp] = [-228, 27], then add zp = 100.
  EXPECT_EQ(quantizeF32(30.0f, 1.0f, 100, -128, 127), 127);
  EXPECT_EQ(quantizeF32(27.4f, 1.0f, 100, -128, 127), 127);
  EXPECT_EQ(quantizeF32(-300.0f, 1.0f, 100, -128, 127), -128);
  EXPECT_EQ(quantizeF32(-1000.0f, 1.0f, 128, 0, 255), 0);
  EXPECT_EQ(quantizeF32(1000.0f, 1.0f, 128, 0, 255), 255);
  EXPECT_EQ(quantizeF32(-1000.0f, 1.0f, 0, -127, 127), -127);
}

TEST(QuantizeF32Test, NonFiniteInputs) {
  float nan = std::numeric_limits<float>::quiet_NaN();
  float inf = std::numeric_limits<float>::infinity();
  // MAXPS returns the bound when v is NaN: NaN ends at qmin.
  EXPECT_EQ(quantizeF32(nan, 0.5f, 0, -128, 127), -128);
  EXPECT_EQ(quantizeF32(nan, 0.5f, 128, 0, 255), 0);
  EXPECT_EQ(quantizeF32(inf, 0.5f, 0, -128, 127), 127);
  EXPECT_EQ(quantizeF32(-inf, 0.5f, 0, -128, 127), -128);
}

TEST(QuantizeF32Test, DividesInFloat32) {
  // x = 15099495 * 2^-25 (0.45f rounded up one ulp) and s = 0.1f =
  // 13421773 * 2^-27. Exactly, x / s = 60397980 / 13421773
  // = 4.5 + 1.5 / 13421773 = 4.5 + 1.12e-7. The float32 spacing at 4.5 is
  // 2^-21 = 4.77e-7, so the float32 quotient rounds to 4.5 exactly and the
  // tie goes to 4; in double the quotient stays above 4.5 and rounds to 5.
  const float x = 0x1.cccccep-2f;
  const float s = 0x1.99999ap-4f;
  EXPECT_EQ(quantizeF32(x, s, 0, -128, 127), 4);
  EXPECT_EQ(quantize(x, QuantParams{s, 0, -128, 127}), 5);
}

TEST(QuantizeF32Test, Int32Storage) {
  // qmax - zp = 2^31 - 1 rounds up to 2^31 in float32; the final clamp
  // brings the result back to INT32_MAX.
  EXPECT_EQ(quantizeF32(1e10f, 1.0f, 0, kI32Min, kI32Max), kI32Max);
  EXPECT_EQ(quantizeF32(-1e10f, 1.0f, 0, kI32Min, kI32Max), kI32Min);
  // 2^31 - 128 is the largest float32 below 2^31.
  EXPECT_EQ(quantizeF32(2147483520.0f, 1.0f, 0, kI32Min, kI32Max), 2147483520);
}

TEST(QuantizeF32Test, AgreesWithDoubleWhenExact) {
  // With a power-of-two scale both paths divide exactly, so they agree on
  // every float32 input tested, ties included.
  for (int i = -1000; i <= 1000; ++i) {
    float x = static_cast<float>(i) * 0.125f;
    EXPECT_EQ(quantizeF32(x, 0.25f, -3, -128, 127),
              quantize(x, QuantParams{0.25, -3, -128, 127}))
        << x;
  }
}

} // namespace
