//===- CPUGemmPlan.h - what qopt-cpu-gemm will do with an op ---*- C++ -*-===//
//
// Internal to lib/Conversion/LinalgToCPU: the decision qopt-cpu-gemm takes
// for one contraction (kernel or not, im2col copy, transposed accumulator,
// packed weight size), without rewriting anything, so that
// qopt-report-perf predicts the CPU lowering from the same matcher.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_LIB_CONVERSION_LINALGTOCPU_CPUGEMMPLAN_H
#define QOPT_LIB_CONVERSION_LINALGTOCPU_CPUGEMMPLAN_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"

#include <cstdint>
#include <optional>

namespace mlir::qopt {

/// A contraction qopt-cpu-gemm rewrites into a packed-weight GEMM kernel,
/// seen as C[M, N] += A[M, K] * W[K, N].
struct CPUGemmPlan {
  /// i8 x i8 -> i32 (else f32, or bf16/f16 widened to f32).
  bool int8 = false;
  /// The operand read as A (the other one is the constant weight).
  unsigned actIndex = 0;
  int64_t m = 0, n = 0, k = 0;
  /// Elements of the im2col copy of the activation (M x K), 0 when the
  /// activation is read in place.
  int64_t im2colElements = 0;
  /// The accumulator is transposed into (m..., n...) order and back.
  bool transposedOutput = false;
  /// Elements of the weight packed at compile time,
  /// ceil(N/16) x ceil(K/G) x 16G.
  int64_t packedWeightElements = 0;
};

/// The plan for `op` (a linalg.generic or a named contraction or
/// convolution, which qopt-cpu-gemm generalizes first), or nullopt when
/// qopt-cpu-gemm leaves it to the generic loop lowering. `int8Group` is G
/// of the i8 step: 4 (vpdpbusd, sdot) or 8 (smmla).
std::optional<CPUGemmPlan> planCPUGemm(linalg::LinalgOp op, int64_t int8Group);

} // namespace mlir::qopt

#endif // QOPT_LIB_CONVERSION_LINALGTOCPU_CPUGEMMPLAN_H
