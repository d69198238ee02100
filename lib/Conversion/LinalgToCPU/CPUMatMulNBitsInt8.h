//===- CPUMatMulNBitsInt8.h - int8-block MatMulNBits lowering ---*- C++ -*-===//
//
// The `int8_block` path of qopt-cpu-matmul-nbits (CPUMatMulNBits.cpp calls
// it): ONNX Runtime's MatMulNBits accuracy_level 4 function, bit-exact.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_LIB_CONVERSION_LINALGTOCPU_CPUMATMULNBITSINT8_H
#define QOPT_LIB_CONVERSION_LINALGTOCPU_CPUMATMULNBITSINT8_H

#include "mlir/Dialect/Math/IR/Math.h"
#include "qopt/Conversion/Passes.h"
#include "qopt/Dialect/QOpt/IR/QOptOps.h"

namespace mlir::qopt {

/// Emits, at `b`'s insertion point, Y[M, N] (a tensor<M x N x f32>) of the
/// `int8_block` op `op` for `a` = tensor<M x K x f32> (the op's input with
/// its leading dimensions collapsed), or fails with an error at `op` when
/// its weight, scales or zero points are not constants.
FailureOr<Value> emitMatMulNBitsInt8Block(OpBuilder &b, MatMulNBitsOp op,
                                          Value a, int64_t m);

} // namespace mlir::qopt

#endif // QOPT_LIB_CONVERSION_LINALGTOCPU_CPUMATMULNBITSINT8_H
