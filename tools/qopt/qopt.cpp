//===- qopt.cpp - the qopt driver -------------------------------*- C++ -*-===//
//
// `qopt` is an opt-style driver: MlirOptMain with the qopt dialect and passes
// and every upstream dialect, extension and pass registered beside them, so
// a user can mix qopt and upstream passes in one pipeline.
//
//===----------------------------------------------------------------------===//

#include "qopt/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

static void printVersion(llvm::raw_ostream &os) {
  os << "qopt version " << QOPT_VERSION_STRING << "\n"
     << "  built with LLVM/MLIR " << QOPT_LLVM_VERSION_STRING << "\n";
}

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::qopt::registerAllPasses();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::qopt::registerAllDialects(registry);

  llvm::cl::SetVersionPrinter(printVersion);
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "qopt: MLIR quantization compiler driver\n", registry));
}
