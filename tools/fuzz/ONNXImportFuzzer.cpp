//===- ONNXImportFuzzer.cpp - libFuzzer target for the ONNX importer ------===//
//
// Feeds arbitrary bytes to qopt's ONNX importer (the same entry point as
// `qopt-translate --import-onnx`, with libonnx's checker on). Besides "no
// crash, no sanitizer report, no hang", every model the importer accepts
// must produce a module that verifies: bad input gets a diagnostic, never
// invalid IR. The seed corpus is the test models (make_model.py's and the
// ONNX backend-test models of Debian's libonnx-testdata).
//
//===----------------------------------------------------------------------===//

#include "qopt/Target/ONNX/ImportONNX.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdlib>

using namespace mlir;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static DialectRegistry *registry = [] {
    auto *r = new DialectRegistry();
    qopt::registerONNXImportDialects(*r);
    return r;
  }();
  MLIRContext context(*registry, MLIRContext::Threading::DISABLED);
  context.loadAllAvailableDialects();
  // Diagnostics are the expected outcome for most inputs; keep them quiet.
  ScopedDiagnosticHandler quiet(&context,
                                [](Diagnostic &) { return success(); });
  auto buffer = llvm::MemoryBuffer::getMemBuffer(
      llvm::StringRef(reinterpret_cast<const char *>(data), size), "fuzz.onnx",
      /*RequiresNullTerminator=*/false);
  qopt::ONNXImportOptions options;
  OwningOpRef<ModuleOp> module =
      qopt::importONNX(buffer->getMemBufferRef(), &context, options);
  if (module && failed(verify(*module))) {
    llvm::errs() << "importer produced a module that does not verify\n";
    std::abort();
  }
  return 0;
}
