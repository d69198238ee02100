//===- embed.cpp - a compiler that embeds qopt's quantize pipeline --------===//
//
// Parses a float model, runs the embedder's own passes around qopt's
// quantize pipeline (and, with --lower-cpu, qopt's CPU back end), and prints
// the module. Usage: qopt-embed MODEL.mlir CALIBRATION [--lower-cpu]
//
//===----------------------------------------------------------------------===//

#include "qopt/InitAll.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

int main(int argc, char **argv) {
  bool lowerCPU = argc == 4 && llvm::StringRef(argv[3]) == "--lower-cpu";
  if (argc != 3 && !lowerCPU) {
    llvm::errs() << "usage: " << argv[0]
                 << " MODEL.mlir CALIBRATION [--lower-cpu]\n";
    return 2;
  }
  // qopt's dialect, the upstream ones its pipelines use, their interfaces.
  DialectRegistry registry;
  qopt::registerAllDialects(registry);
  MLIRContext context(registry);

  // Diagnostics (parse errors, pass errors) go to stderr with locations.
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  std::string error;
  auto file = openInputFile(argv[1], &error);
  if (!file) {
    llvm::errs() << "qopt-embed: " << error << "\n";
    return 1;
  }
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  OwningOpRef<ModuleOp> module =
      parseSourceFile<ModuleOp>(sourceMgr, ParserConfig(&context));
  if (!module)
    return 1;

  // The embedder's passes around qopt's pipelines, built from option structs.
  PassManager pm(&context);
  pm.addPass(createCanonicalizerPass());
  qopt::QuantizeOptions quantize;
  quantize.calibration = argv[2];
  quantize.strict = true;
  qopt::buildQuantizePipeline(pm, quantize);
  pm.addPass(createCSEPass());
  if (lowerCPU)
    qopt::buildLowerCPUPipeline(pm, qopt::LowerCPUOptions());
  if (failed(pm.run(*module)))
    return 1;
  module->print(llvm::outs());
  llvm::outs() << "\n";
  return 0;
}
