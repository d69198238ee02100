//===- LegalizeWeightOnly.h - qopt-legalize{mode=weight-only} ---*- C++ -*-===//
//
// The weight-only mode of qopt-legalize: matmul-like ops with a constant
// weight become qopt.matmul_nbits (4- or 8-bit per-group weights packed at
// compile time, float activations). Legalize.cpp calls it per op.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_LIB_TRANSFORMS_LEGALIZEWEIGHTONLY_H
#define QOPT_LIB_TRANSFORMS_LEGALIZEWEIGHTONLY_H

#include "mlir/IR/Operation.h"
#include "mlir/Support/LLVM.h"

namespace mlir::qopt {

struct WeightOnlyOptions {
  /// 4 or 8.
  unsigned bits = 4;
  /// Values per group along K; 0 means one group per column (K).
  int64_t groupSize = 0;
  /// Asymmetric groups with a stored zero point (else symmetric, zero point
  /// 2^(bits-1), none stored).
  bool zeroPoint = false;
  /// Per group, the clipping ratio with the smallest quantization error.
  bool clipSearch = false;
  /// Activations quantized to int8 per row and group at run time
  /// (qopt.matmul_nbits int8_block, MatMulNBits accuracy_level 4).
  bool int8Block = false;
  /// bf16 arithmetic (`compute bf16` on qopt.matmul_nbits) instead of f32.
  bool bf16Compute = false;
};

/// Rewrites `op` when it is a matmul-like op (linalg.matmul, batch_matmul,
/// or a linalg.generic contraction of the same form) into
/// qopt.matmul_nbits. Returns true when `op` was rewritten (its weight
/// quantized), false when it is not a matmul-like op or its
/// #qopt.precision keeps it in float, and failure (with an error at the op)
/// when it cannot be quantized as asked.
FailureOr<bool> legalizeWeightOnly(Operation *op,
                                   const WeightOnlyOptions &options);

} // namespace mlir::qopt

#endif // QOPT_LIB_TRANSFORMS_LEGALIZEWEIGHTONLY_H
