/*===- qopt-c/Pipeline.h - parse a module and run a pass pipeline -*- C -*-===*\
|*                                                                            *|
|* Parsing a module and running a textual pass pipeline on it, with every     *|
|* diagnostic (error, warning, remark and their notes) handed to a callback   *|
|* together with its location, instead of being printed to stderr. A context  *|
|* given to these functions should have qopt's dialects registered            *|
|* (qopt-c/Registration.h). Documented in docs/c-api.md.                      *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef QOPT_C_PIPELINE_H
#define QOPT_C_PIPELINE_H

#include "mlir-c/IR.h"
#include "mlir-c/Support.h"

#ifdef __cplusplus
extern "C" {
#endif

/// The severity of a diagnostic; a note belongs to the diagnostic reported
/// just before it.
typedef enum QoptDiagnosticSeverity {
  QoptDiagnosticError = 0,
  QoptDiagnosticWarning = 1,
  QoptDiagnosticNote = 2,
  QoptDiagnosticRemark = 3,
} QoptDiagnosticSeverity;

/// Receives one diagnostic. `location` is `FILE:LINE:COL` when the
/// diagnostic's location holds a file location (for a named location such as
/// `loc("fc1"("model.mlir":3:5))` the file part), otherwise MLIR's printed
/// form (`loc("fc1")`, `loc(unknown)`), and `FILE` alone for the module
/// itself. For errors in the pipeline string it is `pipeline:1:COL` (COL is
/// the column in the pipeline string) or `pipeline`. Both strings are valid
/// only during the call.
typedef void (*QoptDiagnosticCallback)(QoptDiagnosticSeverity severity,
                                       MlirStringRef location,
                                       MlirStringRef message, void *userData);

/// Parses `source` as a module (top-level ops without a `module` are wrapped
/// in one) and verifies it. `sourceName` is the file name used in locations
/// (empty: "<input>"). On failure returns a null module (mlirModuleIsNull)
/// after reporting at least one error to `callback`. `callback` may be NULL
/// to drop the diagnostics. The caller owns the module (mlirModuleDestroy).
MLIR_CAPI_EXPORTED MlirModule qoptParseModule(MlirContext context,
                                              MlirStringRef source,
                                              MlirStringRef sourceName,
                                              QoptDiagnosticCallback callback,
                                              void *userData);

/// Runs the textual pass pipeline `pipeline` on `module` in place, with the
/// verifier after each pass. The pipeline is either a list of passes run on
/// the module (`qopt-quantize{calibration=c.json},canonicalize`,
/// `func.func(cse)`), as the `qopt` driver's `--pass-pipeline` without the
/// anchor, or the anchored form `builtin.module(...)`. Passes and pipelines
/// must have been registered (qoptRegisterAllPasses). Returns failure after
/// reporting at least one error to `callback` when the pipeline does not
/// parse or a pass fails; the module is then in whatever state the failing
/// pass left it.
MLIR_CAPI_EXPORTED MlirLogicalResult
qoptRunPassPipeline(MlirModule module, MlirStringRef pipeline,
                    QoptDiagnosticCallback callback, void *userData);

/// Returns true when every operation nested in `module` belongs to the LLVM
/// dialect (a module that qopt-lower-cpu produced and qopt-run accepts).
MLIR_CAPI_EXPORTED bool qoptModuleIsLLVMDialect(MlirModule module);

#ifdef __cplusplus
}
#endif

#endif // QOPT_C_PIPELINE_H
