//===- qopt-translate.cpp - qopt's translation driver -----------*- C++ -*-===//
//
// `qopt-translate` is MlirTranslateMain with qopt's translations registered:
// `--import-onnx` reads an ONNX model (float or QDQ) and prints the imported
// module. Further translations (QDQ export) register here beside it.
//
//===----------------------------------------------------------------------===//

#include "qopt/Target/ONNX/ImportONNX.h"

#include "mlir/Support/LogicalResult.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"

int main(int argc, char **argv) {
  mlir::qopt::registerImportONNXTranslation();
  return mlir::failed(
      mlir::mlirTranslateMain(argc, argv, "qopt translation driver\n"));
}
