//===- LoweredEntry.h - call an entry of a lowered module -------*- C++ -*-===//
//
// The JIT part of qopt-run's lowered-module mode, shared with qopt-calibrate
// and qopt-compare: checks a module that qopt-lower-cpu produced, finds a
// public entry and its source signature (`qopt.signature`), JIT-compiles the
// module once at -O3 for this machine, and calls the entry on in-memory .npy
// arrays as many times as needed, copying each result out of its memref
// descriptor and freeing what the callee allocated.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_TOOLS_LIB_LOWEREDENTRY_H
#define QOPT_TOOLS_LIB_LOWEREDENTRY_H

#include "Npy.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"

#include <memory>
#include <string>
#include <vector>

namespace mlir {
class ExecutionEngine;
} // namespace mlir

namespace qopt_run {

/// A tensor or memref of an entry's source signature, as the runner passes
/// it: its type, the .npy type codes it accepts (the first is the one a
/// result is written as) and the bytes per element.
struct TensorSpec {
  mlir::ShapedType type;
  llvm::SmallVector<std::string> codes;
  size_t itemSize = 0;
};

/// The first op of `module` that is not in the LLVM dialect, or null.
mlir::Operation *firstUnloweredOp(mlir::ModuleOp module);

/// "@a, @b": the public entries of a lowered module ("none" when empty).
std::string entryList(mlir::ModuleOp module);

/// Drops argument and result attributes of other dialects (qopt.name, ...)
/// from the llvm.funcs: the LLVM IR translation has no use for them and
/// warns about each.
void dropForeignArgAttrs(mlir::ModuleOp module);

/// "FILE:LINE:COL" of `loc` when it has one, else `file`.
std::string where(const std::string &file, mlir::Location loc);

/// `type` printed as MLIR prints it.
std::string typeString(mlir::Type type);

/// numpy's names of `spec`'s codes, "float32" or "int8 or uint8".
std::string npyTypeNames(const TensorSpec &spec);

/// One public entry of a lowered module, JIT-compiled.
class LoweredEntry {
public:
  ~LoweredEntry();

  /// Finds @`entry` in the lowered `module` (read from `file`) and checks its
  /// signature. On failure returns null and sets `err` to a sentence naming
  /// the file and the entry (without a "qopt-run: " prefix).
  static std::unique_ptr<LoweredEntry> lookup(mlir::ModuleOp module,
                                              const std::string &file,
                                              const std::string &entry,
                                              std::string &err);

  const std::string &name() const { return entryName; }
  mlir::FunctionType signature() const { return sig; }
  llvm::ArrayRef<TensorSpec> args() const { return argSpecs; }
  llvm::ArrayRef<TensorSpec> results() const { return resultSpecs; }

  /// Checks an input array against argument `index`; `path` names it in
  /// the message ("a.npy: shape (6, 21) does not match argument 0 of ...").
  bool checkInput(unsigned index, const NpyArray &array,
                  const std::string &path, std::string &err) const;

  /// Checks that this machine can run the module (architecture, CPU
  /// features) and JIT-compiles it at -O3. `runtimeLibDir` holds
  /// libmlir_c_runner_utils.so. The module must outlive nothing: the engine
  /// keeps its own LLVM copy.
  bool compile(const std::string &runtimeLibDir, std::string &err);

  /// Calls the entry once on `inputs` (already checked) and copies the
  /// results into `outputs`. `milliseconds`, when given, receives the time
  /// of the call alone.
  bool call(llvm::ArrayRef<const NpyArray *> inputs,
            std::vector<NpyArray> &outputs, std::string &err,
            double *milliseconds = nullptr);

private:
  LoweredEntry() = default;

  mlir::ModuleOp module;
  std::string file, entryName;
  mlir::FunctionType sig;
  llvm::SmallVector<TensorSpec> argSpecs, resultSpecs;
  std::unique_ptr<mlir::ExecutionEngine> engine;
  void (*fn)(void **) = nullptr;
};

} // namespace qopt_run

#endif // QOPT_TOOLS_LIB_LOWEREDENTRY_H
