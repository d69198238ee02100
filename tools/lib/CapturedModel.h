//===- CapturedModel.h - a model compiled with its tensors exposed -*- C++ -*-//
//
// qopt-calibrate and qopt-compare look at every named tensor of a model. A
// CapturedModel is the model compiled once for this CPU with
// qopt-expose-tensors (every named tensor an extra result of the entry) and
// qopt-lower-cpu, then JIT-compiled; each run returns all tensors of one
// sample, dequantized where they are quantized.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_TOOLS_LIB_CAPTUREDMODEL_H
#define QOPT_TOOLS_LIB_CAPTUREDMODEL_H

#include "LoweredEntry.h"
#include "Npy.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace qopt_run {

/// One tensor of `qopt.exposed`.
struct ExposedTensor {
  std::string name;
  /// The op that defines it (`func.arg` for an argument).
  std::string op;
  /// The entry's result that holds it.
  unsigned result = 0;
  /// Quantized: real = scale * (q - zeroPoint), per tensor or along `axis`.
  bool quantized = false;
  std::vector<double> scale;
  std::vector<int64_t> zeroPoint;
  std::optional<int64_t> axis;
};

/// An argument of the entry: its tensor name (docs/naming.md; `argN` when
/// it has none) and type.
struct ModelArg {
  std::string name;
  mlir::RankedTensorType type;
};

/// What to run around qopt-expose-tensors: pass pipelines in qopt's textual
/// form ("qopt-quantize-kernels,qopt-fold-requant"), the first before the
/// exposure, the second after it and before qopt-lower-cpu.
struct CaptureSteps {
  std::string before, after;
};

class CapturedModel {
public:
  /// Compiles `module` (read from `file`, not lowered). On failure returns
  /// null and sets `err` (diagnostics of the passes included).
  static std::unique_ptr<CapturedModel>
  compile(mlir::OwningOpRef<mlir::ModuleOp> module, const std::string &file,
          const CaptureSteps &steps, const std::string &runtimeLibDir,
          std::string &err);

  const std::string &file() const { return fileName; }
  const std::string &entryName() const { return entry->name(); }
  llvm::ArrayRef<ModelArg> args() const { return modelArgs; }
  llvm::ArrayRef<ExposedTensor> tensors() const { return exposed; }
  LoweredEntry &lowered() { return *entry; }
  /// The entry's own results come first, the exposed tensors after them.
  unsigned numOriginalResults() const { return numOriginal; }

  /// Runs one sample; `outputs` holds every result of the entry.
  bool run(llvm::ArrayRef<const NpyArray *> inputs,
           std::vector<NpyArray> &outputs, std::string &err);

private:
  CapturedModel() = default;
  std::string fileName;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::unique_ptr<LoweredEntry> entry;
  llvm::SmallVector<ModelArg> modelArgs;
  std::vector<ExposedTensor> exposed;
  unsigned numOriginal = 0;
};

/// The real values of `tensor` held in `array` (float arrays converted,
/// quantized ones dequantized with its parameters).
void dequantize(const ExposedTensor &tensor, const NpyArray &array,
                std::vector<double> &values);

/// Initializes what the model tools need once per process: the native
/// target for the JIT and every pass (so pipelines parse).
void initModelTools();

/// A registry with every upstream and qopt dialect, extension and LLVM IR
/// translation.
mlir::DialectRegistry makeModelToolsRegistry();

/// Reads and parses `path` (errors are printed with their file and line;
/// `err` gets a one-line summary).
mlir::OwningOpRef<mlir::ModuleOp> readModule(mlir::MLIRContext &context,
                                             const std::string &path,
                                             std::string &err);

/// Runs `pipeline` (textual, without the builtin.module anchor) on `module`;
/// on failure sets `err` to the diagnostics it printed.
bool runPipeline(mlir::ModuleOp module, llvm::StringRef pipeline,
                 std::string &err);

} // namespace qopt_run

#endif // QOPT_TOOLS_LIB_CAPTUREDMODEL_H
