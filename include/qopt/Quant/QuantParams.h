//===- QuantParams.h - Scale and zero point from a real range ---*- C++ -*-===//
//
// Choosing affine quantization parameters (scale, zero point, storage bounds)
// from a calibrated real range, and the scalar reference quantize/dequantize
// that every constant fold and every test compares against. Plain C++ with no
// IR: passes call these functions and turn the results into !quant.uniform
// types. docs/numerics.md states the rules and why each degenerate case is
// handled the way it is.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_QUANT_QUANTPARAMS_H
#define QOPT_QUANT_QUANTPARAMS_H

#include "llvm/Support/Error.h"

#include <cfloat>
#include <cstdint>

namespace mlir {
namespace qopt {

/// What the storage type looks like and how the range maps onto it.
struct QuantSpec {
  /// Storage width in bits: 2..32 for signed, 2..31 for unsigned.
  unsigned bits = 8;
  bool isSigned = true;
  /// Drop the lowest storage value (i8: [-127, 127], u8: [1, 255]).
  bool narrowRange = false;
  /// Symmetric: the range is [-amax, amax] with a fixed zero point.
  /// Asymmetric: the range is [min(rmin, 0), max(rmax, 0)].
  bool symmetric = false;

  /// Smallest storage value used. Only meaningful when verify() succeeds.
  int64_t qmin() const;
  /// Largest storage value used. Only meaningful when verify() succeeds.
  int64_t qmax() const;

  /// Fails with a sentence when the width is outside [2, 32] or the spec asks
  /// for unsigned 32-bit storage.
  llvm::Error verify() const;
};

/// real = scale * (q - zeroPoint), with q saturated to [qmin, qmax].
struct QuantParams {
  double scale;
  int64_t zeroPoint;
  int64_t qmin;
  int64_t qmax;
};

/// Smallest scale chooseQuantParams returns: FLT_MIN (2^-126), the smallest
/// normal float32. Above it the scale is a normal float32 (so flush-to-zero
/// cannot turn it into 0) and 1/scale is finite in float32.
constexpr double kMinScale = FLT_MIN;
/// Largest scale chooseQuantParams returns: FLT_MAX, so the scale converts to
/// a finite float32. Larger ranges are rejected.
constexpr double kMaxScale = FLT_MAX;

/// Chooses scale and zero point for the real range [rmin, rmax].
///
/// Asymmetric specs widen the range to contain 0.0, set
/// scale = (rmax - rmin) / (qmax - qmin) and nudge the zero point to an
/// integer as TFLite's ChooseQuantizationParams does, so 0.0 is exact.
/// Symmetric specs use amax = max(|rmin|, |rmax|), zero point 0 (signed) or
/// (qmin + qmax + 1) / 2 (unsigned), and scale = amax / (qmax - zeroPoint).
/// A range that is exactly {0} gets scale 1.0; a scale below kMinScale is
/// raised to it; a scale above kMaxScale is an error. NaN or infinite bounds,
/// rmin > rmax and invalid specs are errors.
llvm::Expected<QuantParams> chooseQuantParams(double rmin, double rmax,
                                              const QuantSpec &spec);

/// Round to nearest, ties to even, independent of the current FP rounding
/// mode. NaN and infinities are returned unchanged.
double roundHalfToEven(double x);

/// Round to nearest, ties away from zero (std::round).
double roundHalfAwayFromZero(double x);

/// Reference quantize in double:
/// clamp(roundHalfToEven(real / scale) + zeroPoint, qmin, qmax).
/// +inf saturates to qmax, -inf to qmin, and NaN maps to qmin (as ONNX
/// Runtime's MLAS vector kernels do). Never undefined behaviour.
int64_t quantize(double real, const QuantParams &p);

/// Reference dequantize: scale * (q - zeroPoint).
double dequantize(int64_t q, const QuantParams &p);

/// Quantize with float32 arithmetic in the order ONNX Runtime's MLAS uses:
/// v = real / scale in float32, clamp v to [qmin - zp, qmax - zp] in float32
/// (NaN becomes the lower bound), round half to even, add zp, and finally
/// clamp to [qmin, qmax] (which only matters for storage wider than 24 bits,
/// where qmax - zp is not exact in float32).
int64_t quantizeF32(float real, float scale, int64_t zeroPoint, int64_t qmin,
                    int64_t qmax);

/// The scale of the product of two quantized values (a matmul or convolution
/// accumulator, a bias): each scale rounded to float32, multiplied and
/// rounded in float32, as ONNX Runtime's QLinear kernels compute it. qopt
/// uses this one rule for accumulators and biases, so a bias quantized with
/// it adds to the accumulator exactly in i32.
double accumulatorScale(double lhsScale, double rhsScale);

} // namespace qopt
} // namespace mlir

#endif // QOPT_QUANT_QUANTPARAMS_H
