//===- RunLowered.h - qopt-run on modules lowered by qopt-lower-cpu -*- C++
//-*-//
//
// qopt-run's lowered-module mode: JIT-compiles an LLVM-dialect module that
// qopt-lower-cpu produced, calls one entry on .npy inputs and writes its
// results as .npy files; or writes the module as an object file for
// ahead-of-time use from C.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_TOOLS_QOPT_RUN_RUNLOWERED_H
#define QOPT_TOOLS_QOPT_RUN_RUNLOWERED_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"

#include <string>
#include <vector>

namespace qopt_run {

struct LoweredRunOptions {
  /// The lowered module (.mlir).
  std::string file;
  /// The public function to call; empty with only `objectFile`.
  std::string entry;
  /// One .npy file per argument and per result, in order.
  std::vector<std::string> inputs, outputs;
  /// Calls of the entry; with `time`, the median of their times is printed.
  unsigned repeat = 1;
  bool time = false;
  /// Where to write an object file of the whole module (empty: none).
  std::string objectFile;
  /// Directory of MLIR's runtime libraries (libmlir_c_runner_utils.so).
  std::string runtimeLibDir;
};

/// Runs the mode; returns the process exit code (errors are printed to
/// stderr, one sentence naming the file, entry or argument concerned).
int runLowered(mlir::DialectRegistry &registry,
               const LoweredRunOptions &options);

/// The same on a module already parsed (or lowered in this process) and
/// checked to be in the LLVM dialect; `options.file` only names it in
/// messages.
int runLoweredModule(mlir::ModuleOp module, const LoweredRunOptions &options);

} // namespace qopt_run

#endif // QOPT_TOOLS_QOPT_RUN_RUNLOWERED_H
