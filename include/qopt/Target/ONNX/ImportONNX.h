//===- ImportONNX.h - ONNX model to MLIR importer ---------------*- C++ -*-===//
//
// The ONNX front door of qopt: turns an ONNX model (float or QDQ) into one
// `func.func` per graph in linalg on tensors plus arith/math/tensor and
// upstream `quant` ops, with every tensor named as in the ONNX graph (op
// results by `loc("name")`, arguments by a `qopt.name` attribute). The model
// is parsed and checked by Debian's libonnx; shapes are static after import.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_TARGET_ONNX_IMPORTONNX_H
#define QOPT_TARGET_ONNX_IMPORTONNX_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace llvm {
class MemoryBufferRef;
} // namespace llvm

namespace mlir {
class DialectRegistry;
class MLIRContext;

namespace qopt {

/// The opset range of the default ONNX domain the importer accepts.
inline constexpr int64_t kMinONNXOpset = 6;
inline constexpr int64_t kMaxONNXOpset = 17;

struct ONNXImportOptions {
  /// Static shapes for graph inputs, overriding the model's (possibly
  /// symbolic) dimensions: name -> dims.
  llvm::StringMap<llvm::SmallVector<int64_t>> inputShapes;
  /// Initializers larger than this many bytes become `dense_resource` blobs;
  /// a negative value keeps every constant inline as `dense<...>`.
  int64_t resourceThresholdBytes = 1024;
  /// Run onnx::checker::check_model before importing.
  bool runChecker = true;
};

/// Parses `--input-shape` values of the form `NAME=1x3x224x224` (a scalar is
/// `NAME=`) into `options`. Returns false and sets `error` on a bad value.
bool parseONNXInputShape(llvm::StringRef spec, ONNXImportOptions &options,
                         std::string &error);

/// Imports the serialized ONNX model in `buffer` (its identifier names the
/// file in diagnostics). Errors are emitted on `context`'s diagnostic engine
/// and name the file, the node (name and op type) and what is wrong; the
/// result is null then.
OwningOpRef<ModuleOp> importONNX(llvm::MemoryBufferRef buffer,
                                 MLIRContext *context,
                                 const ONNXImportOptions &options = {});

/// Reads `path` and imports it (see above).
OwningOpRef<ModuleOp> importONNXFile(llvm::StringRef path, MLIRContext *context,
                                     const ONNXImportOptions &options = {});

/// The ONNX operators (default domain) the importer handles, sorted.
llvm::ArrayRef<llvm::StringRef> getSupportedONNXOperators();

/// Registers the dialects an imported module uses.
void registerONNXImportDialects(DialectRegistry &registry);

/// Registers `--import-onnx` (with its `--input-shape` option) for
/// MlirTranslateMain.
void registerImportONNXTranslation();

} // namespace qopt
} // namespace mlir

#endif // QOPT_TARGET_ONNX_IMPORTONNX_H
