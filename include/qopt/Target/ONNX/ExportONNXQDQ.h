//===- ExportONNXQDQ.h - qopt's quantization as a QDQ ONNX model -*- C++
//-*-===//
//
// The way back out of qopt: writes the ONNX model a module was imported from
// with qopt's quantization inserted as QuantizeLinear / DequantizeLinear
// nodes, so ONNX Runtime and TensorRT run qopt's scales, zero points and
// precision choices with their own kernels. The module must be in QDQ form
// (after qopt-legalize, docs/qdq-form.md) with its tensor names in
// locations; docs/qdq-export.md describes what is written.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_TARGET_ONNX_EXPORTONNXQDQ_H
#define QOPT_TARGET_ONNX_EXPORTONNXQDQ_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

namespace llvm {
class MemoryBufferRef;
} // namespace llvm

namespace mlir::qopt {

/// Writes the serialized ONNX model in `onnxModel` (its buffer identifier
/// names the file in diagnostics) to `os` with the quantization of `module`
/// inserted. Errors are emitted at the module op (or the op they concern)
/// and say what to fix; nothing is written then.
LogicalResult exportONNXQDQ(ModuleOp module, llvm::MemoryBufferRef onnxModel,
                            llvm::raw_ostream &os);

/// Registers `--export-onnx-qdq` (with its `--onnx-model` option) for
/// MlirTranslateMain.
void registerExportONNXQDQTranslation();

} // namespace mlir::qopt

#endif // QOPT_TARGET_ONNX_EXPORTONNXQDQ_H
