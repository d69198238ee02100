//===- FixedPoint.cpp - TFLite/gemmlowp fixed-point requantization --------===//
//
// Implements the Q0.31 multiplier decomposition and the gemmlowp primitives
// that apply it. The formulas follow TFLite's quantization_util.cc and
// common.h and gemmlowp's fixedpoint.h; where those overflow or shift by an
// out-of-range amount, this file saturates instead and says so.
//
//===----------------------------------------------------------------------===//

#include "qopt/Quant/FixedPoint.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::qopt;

static constexpr int32_t kInt32Min = std::numeric_limits<int32_t>::min();
static constexpr int32_t kInt32Max = std::numeric_limits<int32_t>::max();

llvm::Expected<QuantizedMultiplier>
mlir::qopt::quantizeMultiplier(double realMultiplier) {
  if (std::isnan(realMultiplier) || std::isinf(realMultiplier) ||
      realMultiplier < 0.0)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "requantization multiplier %g is not a finite non-negative number; "
        "check the input, weight and output scales",
        realMultiplier);
  if (realMultiplier == 0.0)
    return QuantizedMultiplier{0, 0};

  int shift = 0;
  const double fraction = std::frexp(realMultiplier, &shift);
  // fraction is in [0.5, 1), so qFixed is in [2^30, 2^31].
  int64_t qFixed =
      static_cast<int64_t>(std::round(fraction * double(int64_t(1) << 31)));
  assert(qFixed <= (int64_t(1) << 31));
  if (qFixed == (int64_t(1) << 31)) {
    qFixed /= 2;
    ++shift;
  }
  // Every bit would be shifted out: TFLite flushes such multipliers to zero.
  if (shift < -31)
    return QuantizedMultiplier{0, 0};
  // TFLite's default build has no clamp here, and its kernel then evaluates
  // 1 << shift with shift >= 31 (undefined). Its single-rounding build clamps
  // to {2^31 - 1, 30}, which changes the value. Neither is a result a fold
  // may rely on, so refuse.
  if (shift > 30)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "requantization multiplier %g is 2^30 or larger and cannot be "
        "represented as a Q0.31 multiplier with a left shift of at most 30",
        realMultiplier);
  return QuantizedMultiplier{static_cast<int32_t>(qFixed), shift};
}

int32_t mlir::qopt::saturatingRoundingDoublingHighMul(int32_t a, int32_t b) {
  if (a == b && a == kInt32Min)
    return kInt32Max;
  const int64_t ab = int64_t(a) * int64_t(b);
  const int64_t nudge = ab >= 0 ? (int64_t(1) << 30) : 1 - (int64_t(1) << 30);
  // C++ integer division truncates towards zero, as gemmlowp relies on.
  return static_cast<int32_t>((ab + nudge) / (int64_t(1) << 31));
}

/// gemmlowp's RoundingDivideByPOT without the range assertion, so that
/// multiplyByQuantizedMultiplier is defined for every shift.
static int32_t roundingDivideByPOTImpl(int32_t x, int exponent) {
  if (exponent <= 0)
    return x;
  // 64-bit arithmetic keeps exponent 31 (and larger ones) defined; for
  // exponent <= 31 it equals gemmlowp's int32 formula. From exponent 33 on
  // every int32 rounds to 0, so capping the exponent there is exact.
  const int e = std::min(exponent, 33);
  const int64_t x64 = x;
  const int64_t mask = (int64_t(1) << e) - 1;
  const int64_t remainder = x64 & mask;
  const int64_t threshold = (mask >> 1) + (x64 < 0 ? 1 : 0);
  // >> on a negative int64 is an arithmetic shift (guaranteed since C++20,
  // and what every supported compiler does).
  return static_cast<int32_t>((x64 >> e) + (remainder > threshold ? 1 : 0));
}

int32_t mlir::qopt::roundingDivideByPOT(int32_t x, int exponent) {
  assert(exponent >= 0 && exponent <= 31 && "exponent out of range");
  return roundingDivideByPOTImpl(x, exponent);
}

int32_t mlir::qopt::multiplyByQuantizedMultiplier(int32_t x, int32_t multiplier,
                                                  int shift) {
  // A left shift of 32 already saturates every non-zero int32, so capping it
  // there is exact and keeps the 64-bit product in range (2^31 * 2^32 = 2^63
  // only for x = INT32_MIN, which is INT64_MIN and representable).
  const int leftShift = shift > 0 ? std::min(shift, 32) : 0;
  const int rightShift = shift > 0 ? 0 : (shift < -33 ? 33 : -shift);
  const int64_t shifted = int64_t(x) * (int64_t(1) << leftShift);
  const int32_t saturated =
      static_cast<int32_t>(std::clamp<int64_t>(shifted, kInt32Min, kInt32Max));
  return roundingDivideByPOTImpl(
      saturatingRoundingDoublingHighMul(saturated, multiplier), rightShift);
}
