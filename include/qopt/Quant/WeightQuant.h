//===- WeightQuant.h - Compile-time weight quantization ---------*- C++ -*-===//
//
// Quantizes a constant float weight tensor into integers with one scale per
// tensor, per channel along an axis, or per group (blocks along a reduction
// axis, one scale per block and channel). Plain C++ on row-major data; the
// legalization pass calls it and builds the IR constants from the result.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_QUANT_WEIGHTQUANT_H
#define QOPT_QUANT_WEIGHTQUANT_H

#include "qopt/Quant/QuantParams.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace mlir::qopt {

struct WeightQuantSpec {
  /// Storage bits, signedness, narrow range and symmetry of every block.
  QuantSpec storage{/*bits=*/8, /*isSigned=*/true, /*narrowRange=*/true,
                    /*symmetric=*/true};
  /// Per-channel axis; nullopt means one scale for the whole tensor.
  std::optional<int64_t> channelAxis;
  /// Per-group: the reduction axis that is cut into blocks of `groupSize`.
  std::optional<int64_t> groupAxis;
  int64_t groupSize = 0;
  /// Clipping search: when not empty, each block tries the ranges
  /// [r * min, r * max] for every ratio r here and keeps the one whose
  /// quantize-dequantize round trip has the smallest sum of squared errors
  /// over the block (ties: the earlier ratio). Empty: the block's range.
  std::vector<double> clipRatios;
};

struct QuantizedWeights {
  /// Storage values, row-major, same shape as the input.
  std::vector<int64_t> values;
  /// Parameters in row-major order over `paramShape`.
  std::vector<double> scales;
  std::vector<int64_t> zeroPoints;
  /// Shape of the parameter grid: 1 per dimension except the channel axis
  /// (its size) and the group axis (size / groupSize). Empty for per-tensor.
  llvm::SmallVector<int64_t> paramShape;
};

/// Quantizes `data` (row-major, `shape`). Each block's range is its
/// [min, max] (symmetric blocks use amax = max |x|), its parameters come from
/// chooseQuantParams with the scale rounded to float32, and each value is
/// quantize(x) (round half to even, saturate). With `clipRatios`, the range
/// is the best clipped one (see WeightQuantSpec). Fails on non-finite data, an
/// axis out of range, or a group size that does not divide its axis.
llvm::Expected<QuantizedWeights> quantizeWeights(llvm::ArrayRef<float> data,
                                                 llvm::ArrayRef<int64_t> shape,
                                                 const WeightQuantSpec &spec);

/// The ratios `weight-clip=search` tries: 1.0 down to 0.5 in steps of 0.05.
std::vector<double> defaultClipRatios();

/// Rounds a scale to the nearest float32 (scales are stored as float32 by
/// ONNX and TFLite, and qopt's float requantization computes in float32).
double roundScaleToF32(double scale);

} // namespace mlir::qopt

#endif // QOPT_QUANT_WEIGHTQUANT_H
