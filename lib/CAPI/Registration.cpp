//===- Registration.cpp - C API: register qopt's dialects and passes ------===//
//
// Implements qopt-c/Registration.h: the same dialects, extensions and passes
// as the `qopt` driver (tools/qopt/qopt.cpp), through MLIR's C API types.
//
//===----------------------------------------------------------------------===//

#include "qopt-c/Registration.h"

#include "qopt/InitAll.h"

#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Support.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"

#include <mutex>

using namespace mlir;

void qoptRegisterAllDialects(MlirDialectRegistry registry) {
  DialectRegistry &dialects = *unwrap(registry);
  mlir::registerAllDialects(dialects);
  mlir::registerAllExtensions(dialects);
  mlir::qopt::registerAllDialects(dialects);
}

void qoptContextRegisterAllDialects(MlirContext context) {
  DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::qopt::registerAllDialects(registry);
  unwrap(context)->appendDialectRegistry(registry);
}

void qoptRegisterAllPasses() {
  // The pass registry is global and refuses a second registration of a
  // pipeline name, so register once per process.
  static std::once_flag once;
  std::call_once(once, [] {
    mlir::registerAllPasses();
    mlir::qopt::registerAllPasses();
  });
}

MlirStringRef qoptGetVersion() { return wrap(StringRef(QOPT_VERSION_STRING)); }

MlirStringRef qoptGetLLVMVersion() {
  return wrap(StringRef(QOPT_LLVM_VERSION_STRING));
}
