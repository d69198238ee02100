//===- FixedPoint.h - TFLite fixed-point requantization ---------*- C++ -*-===//
//
// The integer arithmetic of the `fixed-point` requantization mode: a real
// multiplier split into a Q0.31 significand and a power-of-two shift, and the
// gemmlowp primitives that apply it to an int32 accumulator bit-exactly as
// TFLite's reference kernels do (the default, double-rounding build). Constant
// folds of qopt.requantize call these; lowered code must compute the same
// bits. docs/numerics.md explains the format and the rounding of each step.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_QUANT_FIXEDPOINT_H
#define QOPT_QUANT_FIXEDPOINT_H

#include "llvm/Support/Error.h"

#include <cstdint>

namespace mlir {
namespace qopt {

/// realMultiplier ~= multiplier * 2^(shift - 31), with multiplier in
/// [2^30, 2^31) or exactly {0, 0}. shift > 0 is a left shift (TFLite's
/// convention); quantizeMultiplier only produces shift in [-31, 30].
struct QuantizedMultiplier {
  int32_t multiplier;
  int shift;
};

/// TFLite's QuantizeMultiplier (tensorflow/lite/kernels/internal/
/// quantization_util.cc): frexp, round the significand times 2^31 half away
/// from zero, renormalise when that rounds up to 2^31, and flush multipliers
/// whose shift would be below -31 (roughly < 2^-32) to {0, 0}. 0.0 gives
/// {0, 0}. Negative, NaN or infinite multipliers are errors, and so are
/// multipliers whose shift would exceed 30 (>= 2^30 after rounding), which
/// TFLite's double-rounding kernel cannot apply without overflowing.
llvm::Expected<QuantizedMultiplier> quantizeMultiplier(double realMultiplier);

/// gemmlowp's SaturatingRoundingDoublingHighMul: the high 32 bits of 2*a*b,
/// i.e. a*b / 2^31 rounded to nearest with ties towards +infinity.
/// (INT32_MIN, INT32_MIN), whose true result 2^31 does not fit, gives
/// INT32_MAX.
int32_t saturatingRoundingDoublingHighMul(int32_t a, int32_t b);

/// gemmlowp's RoundingDivideByPOT: x / 2^exponent rounded to nearest with
/// ties away from zero. exponent must be in [0, 31] (asserted); in builds
/// without assertions a negative exponent returns x and an exponent above 31
/// is computed with the same formula in 64-bit arithmetic.
int32_t roundingDivideByPOT(int32_t x, int exponent);

/// TFLite's double-rounding MultiplyByQuantizedMultiplier:
///   roundingDivideByPOT(saturatingRoundingDoublingHighMul(
///       x * 2^max(shift, 0), multiplier), max(-shift, 0)).
/// TFLite computes x * 2^leftShift in int32, which overflows for large x;
/// here it is computed in 64 bits and saturated to int32, so results differ
/// from TFLite only where TFLite's own arithmetic overflows. Defined for every
/// shift: a right shift above 31 (never produced by quantizeMultiplier) uses
/// the same rounding formula in 64-bit arithmetic.
int32_t multiplyByQuantizedMultiplier(int32_t x, int32_t multiplier, int shift);

/// Convenience overload.
inline int32_t multiplyByQuantizedMultiplier(int32_t x, QuantizedMultiplier m) {
  return multiplyByQuantizedMultiplier(x, m.multiplier, m.shift);
}

} // namespace qopt
} // namespace mlir

#endif // QOPT_QUANT_FIXEDPOINT_H
