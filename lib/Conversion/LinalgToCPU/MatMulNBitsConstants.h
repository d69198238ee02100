//===- MatMulNBitsConstants.h - constant operands of matmul_nbits -*- C++
//-*-===//
//
// The constant weight, scales and zero points of a qopt.matmul_nbits, read
// once for the kernels of qopt-cpu-matmul-nbits (f32 and bf16 compute),
// which repack them at compile time.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_LIB_CONVERSION_LINALGTOCPU_MATMULNBITSCONSTANTS_H
#define QOPT_LIB_CONVERSION_LINALGTOCPU_MATMULNBITSCONSTANTS_H

#include "qopt/Dialect/QOpt/IR/QOptOps.h"

#include "mlir/IR/Matchers.h"

#include <optional>
#include <vector>

namespace mlir::qopt {

/// 2^23 as float bits: OR-ing an integer q < 2^23 into its mantissa gives
/// the float 2^23 + q exactly (the dequantization of both kernels).
inline constexpr int32_t kNBitsMagicBits = 0x4B000000;
inline constexpr float kNBitsMagic = 8388608.0f;
/// Columns per vector (float32 lanes of one zmm).
inline constexpr int64_t kNBitsLanes = 16;

/// The raw bytes of a constant i8 tensor (splats expanded).
inline std::optional<std::vector<uint8_t>> getConstantBytes(Value value) {
  DenseElementsAttr attr;
  if (!matchPattern(value, m_Constant(&attr)) ||
      !attr.getElementType().isInteger(8))
    return std::nullopt;
  int64_t n = attr.getNumElements();
  ArrayRef<char> raw = attr.getRawData();
  if (attr.isSplat())
    return std::vector<uint8_t>(n, static_cast<uint8_t>(raw[0]));
  return std::vector<uint8_t>(raw.begin(), raw.end());
}

/// The values of a constant f32 tensor.
inline std::optional<std::vector<float>> getConstantF32(Value value) {
  DenseElementsAttr attr;
  if (!matchPattern(value, m_Constant(&attr)) || !attr.getElementType().isF32())
    return std::nullopt;
  auto range = attr.getValues<float>();
  return std::vector<float>(range.begin(), range.end());
}

/// The weight bytes, scales and (optional) zero points of `op` in
/// MatMulNBits' layout.
struct MatMulNBitsConstants {
  std::vector<uint8_t> bytes;
  std::vector<float> scales;
  std::optional<std::vector<uint8_t>> zeroPoints;
};

/// Reads `op`'s constant operands; fails with an error at `op` when one is
/// not a constant.
inline FailureOr<MatMulNBitsConstants>
readMatMulNBitsConstants(MatMulNBitsOp op) {
  MatMulNBitsConstants result;
  std::optional<std::vector<uint8_t>> bytes = getConstantBytes(op.getWeight());
  if (!bytes)
    return op.emitError() << "qopt-cpu-matmul-nbits: the packed weight must "
                             "be a constant (it is repacked at compile time)";
  std::optional<std::vector<float>> scales = getConstantF32(op.getScales());
  if (!scales)
    return op.emitError()
           << "qopt-cpu-matmul-nbits: the scales must be a constant";
  if (op.getZeroPoints()) {
    result.zeroPoints = getConstantBytes(op.getZeroPoints());
    if (!result.zeroPoints)
      return op.emitError()
             << "qopt-cpu-matmul-nbits: the zero points must be a constant";
  }
  result.bytes = std::move(*bytes);
  result.scales = std::move(*scales);
  return result;
}

} // namespace mlir::qopt

#endif // QOPT_LIB_CONVERSION_LINALGTOCPU_MATMULNBITSCONSTANTS_H
