//===- InitAll.h - register qopt's dialects and passes ----------*- C++ -*-===//
//
// One place to register everything qopt defines, for the qopt driver and for
// compilers that embed qopt.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_INITALL_H
#define QOPT_INITALL_H

#include "qopt/Conversion/Passes.h"
#include "qopt/Dialect/QOpt/IR/QOptDialect.h"
#include "qopt/Pipelines/LowerCPUPipeline.h"
#include "qopt/Pipelines/QuantizePipeline.h"
#include "qopt/Transforms/Passes.h"

#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/IR/DialectRegistry.h"

namespace mlir::qopt {

/// Registers the qopt dialect and the upstream `quant` dialect its types come
/// from.
inline void registerAllDialects(DialectRegistry &registry) {
  registry.insert<QOptDialect, quant::QuantDialect>();
}

/// Registers every qopt pass and pipeline.
inline void registerAllPasses() {
  registerQOptPasses();
  registerQOptConversionPasses();
  registerQuantizePipeline();
  registerLowerCPUPipeline();
}

} // namespace mlir::qopt

#endif // QOPT_INITALL_H
