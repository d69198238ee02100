//===- CPUMatMulNBitsBF16.h - bf16-compute MatMulNBits lowering -*- C++ -*-===//
//
// The `compute bf16` path of qopt-cpu-matmul-nbits (CPUMatMulNBits.cpp calls
// it): activations and dequantized weights rounded to bf16, products summed
// in float32 by AVX512-BF16 vdpbf16ps.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_LIB_CONVERSION_LINALGTOCPU_CPUMATMULNBITSBF16_H
#define QOPT_LIB_CONVERSION_LINALGTOCPU_CPUMATMULNBITSBF16_H

#include "CPUTarget.h"
#include "qopt/Conversion/Passes.h"
#include "qopt/Dialect/QOpt/IR/QOptOps.h"

namespace mlir::qopt {

/// Emits, at `b`'s insertion point, Y[M, N] (a tensor<M x N x f32>) of the
/// `compute bf16` op `op` for `a` = tensor<M x K x f32> (the op's input with
/// its leading dimensions collapsed). `tileN` tiles of 16 columns share each
/// activation load at one row. Fails with an error at `op` when the
/// function's target lacks AVX512-BF16 (`query` answers that) or when the
/// weight, scales or zero points are not constants.
FailureOr<Value> emitMatMulNBitsBF16(OpBuilder &b, MatMulNBitsOp op, Value a,
                                     int64_t m, int64_t tileN,
                                     CPUFeatureQuery &query);

} // namespace mlir::qopt

#endif // QOPT_LIB_CONVERSION_LINALGTOCPU_CPUMATMULNBITSBF16_H
