//===- QOptOps.h - qopt operations ------------------------------*- C++ -*-===//
//
// Declares the qopt operations (qopt.stats, qopt.requantize) and the helpers
// that check a quantized type against the shape it is used with.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_QOPT_IR_QOPTOPS_H
#define QOPT_DIALECT_QOPT_IR_QOPTOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "qopt/Dialect/QOpt/IR/QOptAttrs.h"
#include "qopt/Dialect/QOpt/IR/QOptDialect.h"

#define GET_OP_CLASSES
#include "qopt/Dialect/QOpt/IR/QOptOps.h.inc"

namespace mlir::qopt {

/// Checks that the quantized element type of `type` (a scalar or a tensor of
/// a uniform quantized type) fits its shape and its storage range: per-axis
/// dimension in range with one scale per index, sub-channel blocks dividing
/// their dimensions, zero points within the storage range. Reports through
/// `emitError` and fails on the first problem. `what` names the value in the
/// message ("input", "result").
LogicalResult
verifyQuantizedShapedType(function_ref<InFlightDiagnostic()> emitError,
                          Type type, StringRef what);

/// True when converting a value of quantized type `from` to quantized type
/// `to` is exact for every storage value of `from`: the same scale (per
/// channel), and the zero-point shift keeps every value inside the target's
/// storage range, so the step neither rounds nor clamps. Only per-tensor and
/// per-axis types are considered; anything else answers false.
bool isExactRequantization(Type from, Type to);

} // namespace mlir::qopt

#endif // QOPT_DIALECT_QOPT_IR_QOPTOPS_H
