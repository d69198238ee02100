//===- QOptDialect.h - qopt dialect -----------------------------*- C++ -*-===//
//
// Declares the qopt dialect class. Include QOptOps.h and QOptAttrs.h for the
// ops and attributes.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_QOPT_IR_QOPTDIALECT_H
#define QOPT_DIALECT_QOPT_IR_QOPTDIALECT_H

#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/IR/Dialect.h"

#include "qopt/Dialect/QOpt/IR/QOptDialect.h.inc"

#endif // QOPT_DIALECT_QOPT_IR_QOPTDIALECT_H
