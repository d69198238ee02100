//===- qopt-translate.cpp - qopt's translation driver -----------*- C++ -*-===//
//
// `qopt-translate` is MlirTranslateMain with qopt's translations registered:
// `--import-onnx` reads an ONNX model (float or QDQ) and prints the imported
// module; `--export-onnx-qdq` writes an ONNX model with a QDQ-form module's
// quantization (docs/qdq-export.md).
//
//===----------------------------------------------------------------------===//

#include "qopt/Target/ONNX/ExportONNXQDQ.h"
#include "qopt/Target/ONNX/ImportONNX.h"

#include "mlir/Support/LogicalResult.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

int main(int argc, char **argv) {
  mlir::qopt::registerImportONNXTranslation();
  mlir::qopt::registerExportONNXQDQTranslation();
  // Tensor names live in locations (loc("conv1")): print them unless the
  // user chose otherwise, or the names would not survive the text form.
  llvm::SmallVector<char *> args(argv, argv + argc);
  bool chosen = false;
  for (char *a : args)
    chosen |= llvm::StringRef(a).contains("mlir-print-debuginfo");
  static char debugInfo[] = "--mlir-print-debuginfo";
  if (!chosen)
    args.insert(args.begin() + 1, debugInfo);
  return mlir::failed(mlir::mlirTranslateMain(args.size(), args.data(),
                                              "qopt translation driver\n"));
}
