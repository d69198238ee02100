//===- InitAll.h - register qopt's dialects and passes ----------*- C++ -*-===//
//
// One place to register everything qopt defines, for the qopt driver and for
// compilers that embed qopt: a context built from a registry filled by
// registerAllDialects parses qopt's inputs (func + linalg on tensors, TOSA,
// QDQ form) and runs the qopt-quantize and qopt-lower-cpu pipelines
// (buildQuantizePipeline, buildLowerCPUPipeline, declared in the pipeline
// headers included here) with nothing else registered.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_INITALL_H
#define QOPT_INITALL_H

#include "qopt/Pipelines/LowerCPUPipeline.h"
#include "qopt/Pipelines/QuantizePipeline.h"

#include "mlir/IR/DialectRegistry.h"

namespace mlir::qopt {

/// Registers the qopt dialect, the upstream dialects qopt's inputs and
/// pipelines use (quant, func, arith, math, linalg, tensor, tosa, and on the
/// way to LLVM bufferization, memref, scf, affine, vector, cf, index, ub,
/// llvm, x86vector, arm_neon), and the external interface models the
/// pipelines rely on (bufferization, buffer deallocation, tiling, value
/// bounds, subset insertion, cast folding). Defined in QOptInitAll.
void registerAllDialects(DialectRegistry &registry);

/// Registers every qopt pass and pipeline (qopt-quantize, qopt-lower-cpu)
/// with the global pass registry, so that textual pipelines
/// (`parsePassPipeline`, `--pass-pipeline`) can name them.
void registerAllPasses();

} // namespace mlir::qopt

#endif // QOPT_INITALL_H
