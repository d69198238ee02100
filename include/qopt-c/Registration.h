/*===- qopt-c/Registration.h - register qopt's dialects and passes -*- C
-*-===*\
|*                                                                            *|
|* The C entry points that make a context able to parse what the `qopt`       *|
|* driver parses and a pass manager able to run what it runs: qopt's dialect  *|
|* and passes together with every upstream MLIR dialect, extension and pass,  *|
|* as tools/qopt/qopt.cpp registers them. Built on MLIR's C API types         *|
|* (mlir-c/IR.h), so a C program or a language binding can mix these calls    *|
|* with MLIR's own C API. Documented in docs/c-api.md.                        *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef QOPT_C_REGISTRATION_H
#define QOPT_C_REGISTRATION_H

#include "mlir-c/IR.h"
#include "mlir-c/Support.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Inserts qopt's dialect and every upstream dialect and dialect extension
/// the `qopt` driver registers into `registry` (mlir::qopt::registerAllDialects
/// plus mlir::registerAllDialects and mlir::registerAllExtensions). Dialects
/// are loaded lazily, when the parser or a pass first needs them.
MLIR_CAPI_EXPORTED void qoptRegisterAllDialects(MlirDialectRegistry registry);

/// Appends the registry of qoptRegisterAllDialects to `context`.
MLIR_CAPI_EXPORTED void qoptContextRegisterAllDialects(MlirContext context);

/// Registers qopt's passes and pipelines (qopt-quantize, qopt-lower-cpu, ...)
/// and every upstream pass with the global pass registry, so that textual
/// pipelines can name them. Safe to call more than once and from several
/// threads.
MLIR_CAPI_EXPORTED void qoptRegisterAllPasses(void);

/// qopt's version ("0.1.0"); the string is static.
MLIR_CAPI_EXPORTED MlirStringRef qoptGetVersion(void);

/// The version of the LLVM/MLIR qopt was built with ("22.1.8"); static.
MLIR_CAPI_EXPORTED MlirStringRef qoptGetLLVMVersion(void);

#ifdef __cplusplus
}
#endif

#endif // QOPT_C_REGISTRATION_H
