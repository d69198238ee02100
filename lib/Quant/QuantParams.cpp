//===- QuantParams.cpp - Scale and zero point from a real range -----------===//
//
// Implements parameter choice (TFLite's zero-point nudging, qopt's rules for
// symmetric and degenerate ranges) and the scalar reference quantize and
// dequantize. Every function here is total: bad input is an llvm::Error or a
// documented saturation, never undefined behaviour. See docs/numerics.md.
//
//===----------------------------------------------------------------------===//

#include "qopt/Quant/QuantParams.h"

#include <algorithm>
#include <cassert>
#include <cmath>

using namespace mlir;
using namespace mlir::qopt;

int64_t QuantSpec::qmin() const {
  // Clamp the width so that a spec that failed verify() still gives defined
  // (if meaningless) bounds instead of a shift by an out-of-range amount.
  unsigned b = std::clamp(bits, 2u, 32u);
  int64_t lowest = isSigned ? -(int64_t(1) << (b - 1)) : 0;
  return lowest + (narrowRange ? 1 : 0);
}

int64_t QuantSpec::qmax() const {
  unsigned b = std::clamp(bits, 2u, 32u);
  return isSigned ? (int64_t(1) << (b - 1)) - 1 : (int64_t(1) << b) - 1;
}

llvm::Error QuantSpec::verify() const {
  if (bits < 2 || bits > 32)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "quantized storage width %u is not supported; use 2 to 32 bits", bits);
  if (!isSigned && bits == 32)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "unsigned 32-bit quantized storage is not supported; use signed "
        "32-bit storage or at most 31 unsigned bits");
  return llvm::Error::success();
}

/// Applies the scale floor and ceiling. Returns false when the scale is too
/// large (or not finite) to be stored as a float32.
static bool boundScale(double &scale) {
  if (!(scale <= kMaxScale))
    return false;
  scale = std::max(scale, kMinScale);
  return true;
}

static llvm::Error scaleTooLarge(double rmin, double rmax) {
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      "quantization range [%g, %g] needs a scale larger than the largest "
      "float32; check the calibration statistics for overflowed values",
      rmin, rmax);
}

llvm::Expected<QuantParams>
mlir::qopt::chooseQuantParams(double rmin, double rmax, const QuantSpec &spec) {
  if (llvm::Error err = spec.verify())
    return std::move(err);
  if (!std::isfinite(rmin) || !std::isfinite(rmax))
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "quantization range [%g, %g] is not finite; the calibration "
        "statistics contain NaN or infinity",
        rmin, rmax);
  if (rmin > rmax)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "quantization range [%g, %g] has min greater than max", rmin, rmax);

  QuantParams p;
  p.qmin = spec.qmin();
  p.qmax = spec.qmax();
  const double qminD = static_cast<double>(p.qmin);
  const double qmaxD = static_cast<double>(p.qmax);

  if (spec.symmetric) {
    // Signed: zero point 0 and the positive side sets the scale, so
    // [-amax, amax] maps onto [-qmax, qmax] whether or not the range is
    // narrow. Unsigned: the zero point sits in the middle of the storage
    // range (128 for u8) and the shorter, positive side sets the scale.
    p.zeroPoint = spec.isSigned ? 0 : (p.qmin + p.qmax + 1) / 2;
    double amax = std::max(std::fabs(rmin), std::fabs(rmax));
    if (amax == 0.0) {
      p.scale = 1.0;
      return p;
    }
    p.scale = amax / static_cast<double>(p.qmax - p.zeroPoint);
    if (!boundScale(p.scale))
      return scaleTooLarge(rmin, rmax);
    return p;
  }

  // Asymmetric: 0.0 must be representable, so the range must contain it.
  rmin = std::min(rmin, 0.0);
  rmax = std::max(rmax, 0.0);
  if (rmin == rmax) {
    // The range is exactly {0}. Any positive scale represents it; 1.0 keeps
    // every derived multiplier finite. The zero point is 0 where the storage
    // range has it and qmin otherwise (unsigned), which is also the limit of
    // the rule below for the ranges [0, eps].
    p.scale = 1.0;
    p.zeroPoint = std::clamp<int64_t>(0, p.qmin, p.qmax);
    return p;
  }
  p.scale = (rmax - rmin) / (qmaxD - qminD);
  if (!boundScale(p.scale))
    return scaleTooLarge(rmin, rmax);

  // TFLite's nudging: solve the affine map from whichever end point adds the
  // smaller terms (less rounding error), then clamp and round half away from
  // zero. With a floored scale the data range is narrower than the storage
  // range, and either anchor still keeps all of it representable.
  const double zeroPointFromMin = qminD - rmin / p.scale;
  const double zeroPointFromMax = qmaxD - rmax / p.scale;
  const double zeroPointFromMinError =
      std::fabs(qminD) + std::fabs(rmin / p.scale);
  const double zeroPointFromMaxError =
      std::fabs(qmaxD) + std::fabs(rmax / p.scale);
  const double zeroPointD = zeroPointFromMinError < zeroPointFromMaxError
                                ? zeroPointFromMin
                                : zeroPointFromMax;
  p.zeroPoint = static_cast<int64_t>(
      roundHalfAwayFromZero(std::clamp(zeroPointD, qminD, qmaxD)));
  return p;
}

double mlir::qopt::roundHalfToEven(double x) {
  // floor(x) and x - floor(x) are exact in binary floating point, so the tie
  // test is exact. |x| >= 2^52 is already an integer and takes the first
  // branch. NaN and infinities fall through to the last line unchanged.
  // copysign keeps the sign of zero results (-0.4 -> -0.0) as IEEE
  // roundToIntegralTiesToEven does.
  double lower = std::floor(x);
  double frac = x - lower;
  double result;
  if (frac < 0.5)
    result = lower;
  else if (frac > 0.5)
    result = lower + 1.0;
  else
    result = std::fmod(lower, 2.0) == 0.0 ? lower : lower + 1.0;
  return std::copysign(result, x);
}

double mlir::qopt::roundHalfAwayFromZero(double x) { return std::round(x); }

int64_t mlir::qopt::quantize(double real, const QuantParams &p) {
  assert(p.scale > 0.0 && p.qmin <= p.zeroPoint && p.zeroPoint <= p.qmax &&
         "invalid quantization parameters");
  // Clamp before converting to an integer: the bounds are integers, so
  // clamping before or after rounding gives the same result, and the
  // conversion below stays in range.
  const double lo = static_cast<double>(p.qmin - p.zeroPoint);
  const double hi = static_cast<double>(p.qmax - p.zeroPoint);
  double v = real / p.scale;
  if (std::isnan(v))
    return p.qmin;
  v = std::min(std::max(roundHalfToEven(v), lo), hi);
  return std::min(std::max(static_cast<int64_t>(v) + p.zeroPoint, p.qmin),
                  p.qmax);
}

double mlir::qopt::dequantize(int64_t q, const QuantParams &p) {
  return p.scale * static_cast<double>(q - p.zeroPoint);
}

int64_t mlir::qopt::quantizeF32(float real, float scale, int64_t zeroPoint,
                                int64_t qmin, int64_t qmax) {
  const float lo = static_cast<float>(qmin - zeroPoint);
  const float hi = static_cast<float>(qmax - zeroPoint);
  float v = real / scale;
  // MAXPS/MINPS (and NEON FMAXNM/FMINNM) semantics: a NaN in v yields the
  // bound, so NaN ends at the lower bound after the max.
  v = v > lo ? v : lo;
  v = v < hi ? v : hi;
  // Rounding a float32 through double is exact: the integer nearest to a
  // float32 is itself a float32.
  float r = static_cast<float>(roundHalfToEven(static_cast<double>(v)));
  return std::min(std::max(static_cast<int64_t>(r) + zeroPoint, qmin), qmax);
}

double mlir::qopt::accumulatorScale(double lhsScale, double rhsScale) {
  return static_cast<float>(static_cast<float>(lhsScale) *
                            static_cast<float>(rhsScale));
}
