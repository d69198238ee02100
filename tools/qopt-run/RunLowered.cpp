//===- RunLowered.cpp - qopt-run on modules lowered by qopt-lower-cpu -----===//
//
// The lowered-module mode of qopt-run:
//
//   qopt-run FILE.mlir --entry NAME --input a.npy ... --output y.npy ...
//            [--repeat N] [--time] [--emit-object FILE.o]
//
// FILE must be in the LLVM dialect as qopt-lower-cpu leaves it: each public
// function has a C interface (`_mlir_ciface_NAME`, taking memref descriptors
// by pointer, results first) and its source signature in `qopt.signature`,
// against which the .npy inputs' dtypes and shapes are checked before
// anything runs. The module is JIT-compiled with MLIR's ExecutionEngine at
// -O3 for this machine (the functions' target_cpu / target_features go into
// the LLVM IR, so the code is what qopt-lower-cpu selected: VNNI and so on).
// Results are memrefs the callee allocates; they are copied out through
// their descriptors and freed. `--emit-object` writes the whole module as a
// position-independent object file for the module's own triple, CPU and
// features, with the same `_mlir_ciface_NAME` symbols for a C program.
//
//===----------------------------------------------------------------------===//

#include "RunLowered.h"
#include "CapturedModel.h"
#include "LoweredEntry.h"
#include "Npy.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>

using namespace mlir;

namespace qopt_run {
namespace {

/// Reports one error (prefixed "qopt-run: ") and yields exit code 1.
int fail(const llvm::Twine &message) {
  llvm::errs() << "qopt-run: " << message << "\n";
  return 1;
}

/// Writes `module` as an object file for its triple and its functions'
/// target_cpu / target_features, optimized at -O3, position independent.
int emitObject(ModuleOp module, const LoweredRunOptions &options) {
  const std::string &path = options.objectFile;
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext);
  if (!llvmModule)
    return fail(options.file + ": cannot translate to LLVM IR");
  std::string tripleName = llvm::sys::getProcessTriple();
  if (auto t = module->getAttrOfType<StringAttr>(
          LLVM::LLVMDialect::getTargetTripleAttrName()))
    tripleName = t.str();
  llvm::Triple triple(tripleName);
  std::string cpu = "generic", features;
  for (auto func : module.getOps<LLVM::LLVMFuncOp>()) {
    if (auto c = func.getTargetCpuAttr()) {
      cpu = c.str();
      if (auto f = func.getTargetFeaturesAttr())
        features = f.getFeaturesString();
      break;
    }
  }
  // Any target LLVM was built with: a module lowered for aarch64 can be
  // compiled here.
  llvm::InitializeAllTargetInfos();
  llvm::InitializeAllTargets();
  llvm::InitializeAllTargetMCs();
  llvm::InitializeAllAsmPrinters();
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return fail(options.file + ": no LLVM target for '" + tripleName +
                "' in this qopt-run: " + error);
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, cpu, features, llvm::TargetOptions(), llvm::Reloc::PIC_,
      std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!tm)
    return fail(options.file + ": cannot create a target machine for '" +
                tripleName + "' (cpu " + cpu + ")");
  llvmModule->setTargetTriple(triple);
  llvmModule->setDataLayout(tm->createDataLayout());
  auto optimize = makeOptimizingTransformer(3, 0, tm.get());
  if (llvm::Error e = optimize(llvmModule.get()))
    return fail(options.file +
                ": LLVM optimization failed: " + llvm::toString(std::move(e)));
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return fail(path + ": cannot write: " + ec.message());
  llvm::legacy::PassManager pm;
  if (tm->addPassesToEmitFile(pm, os, nullptr,
                              llvm::CodeGenFileType::ObjectFile))
    return fail(path + ": the target cannot emit object files");
  pm.run(*llvmModule);
  os.close();
  if (os.has_error()) {
    std::string message = os.error().message();
    os.clear_error();
    return fail(path + ": cannot write: " + message);
  }
  return 0;
}

/// Fails early when an output cannot be written, before anything runs.
bool checkWritable(const std::string &path, std::string &err) {
  if (llvm::sys::fs::is_directory(path)) {
    err = "output " + path + " is a directory";
    return false;
  }
  if (llvm::sys::fs::exists(path)) {
    if (llvm::sys::fs::access(path, llvm::sys::fs::AccessMode::Write)) {
      err = "output " + path + " exists and is not writable";
      return false;
    }
    return true;
  }
  llvm::SmallString<256> dir(path);
  llvm::sys::path::remove_filename(dir);
  if (dir.empty())
    dir = ".";
  if (!llvm::sys::fs::is_directory(dir)) {
    err =
        "output " + path + ": directory " + dir.str().str() + " does not exist";
    return false;
  }
  if (llvm::sys::fs::access(dir, llvm::sys::fs::AccessMode::Write)) {
    err = "output " + path + ": directory " + dir.str().str() +
          " is not writable";
    return false;
  }
  return true;
}

} // namespace

int runLowered(DialectRegistry &registry, const LoweredRunOptions &options) {
  const std::string &file = options.file;
  MLIRContext context(registry);
  std::string err;
  OwningOpRef<ModuleOp> module = readModule(context, file, err);
  if (!module)
    return fail(err);
  if (Operation *op = firstUnloweredOp(*module))
    return fail(where(file, op->getLoc()) + ": '" +
                op->getName().getStringRef() +
                "' is not in the LLVM dialect: " + file +
                " is not a lowered module; run qopt-lower-cpu first (qopt " +
                file + " --qopt-lower-cpu -o lowered.mlir)");

  return runLoweredModule(*module, options);
}

int runLoweredModule(ModuleOp module, const LoweredRunOptions &options) {
  const std::string &file = options.file;
  dropForeignArgAttrs(module);
  if (!options.objectFile.empty())
    if (int rc = emitObject(module, options))
      return rc;
  if (options.entry.empty()) {
    if (!options.objectFile.empty())
      return 0;
    return fail(file + ": give --entry NAME (entries: " + entryList(module) +
                ") or --emit-object FILE.o");
  }

  // The entry and its source signature.
  const std::string &name = options.entry;
  std::string err;
  std::unique_ptr<LoweredEntry> entry =
      LoweredEntry::lookup(module, file, name, err);
  if (!entry)
    return fail(err);
  size_t numArgs = entry->args().size(), numResults = entry->results().size();
  std::string sigText = typeString(entry->signature());
  if (options.inputs.size() != numArgs)
    return fail(file + ": @" + name + " takes " + std::to_string(numArgs) +
                " argument(s), " + sigText + ", but " +
                std::to_string(options.inputs.size()) +
                " --input file(s) were given");
  if (options.outputs.size() != numResults)
    return fail(file + ": @" + name + " returns " + std::to_string(numResults) +
                " result(s), " + sigText + ", but " +
                std::to_string(options.outputs.size()) +
                " --output file(s) were given");
  for (const std::string &out : options.outputs)
    if (!checkWritable(out, err))
      return fail(err);

  // Inputs, checked against the signature.
  std::vector<NpyArray> inputs(numArgs);
  SmallVector<const NpyArray *> inputPtrs;
  for (size_t i = 0; i < numArgs; ++i) {
    const std::string &path = options.inputs[i];
    if (!readNpy(path, inputs[i], err) ||
        !entry->checkInput(i, inputs[i], path, err))
      return fail(err);
    inputPtrs.push_back(&inputs[i]);
  }

  if (!entry->compile(options.runtimeLibDir, err))
    return fail(err);

  unsigned calls = std::max(1u, options.repeat);
  std::vector<double> times;
  std::vector<NpyArray> outputs;
  for (unsigned k = 0; k < calls; ++k) {
    double ms = 0;
    if (!entry->call(inputPtrs, outputs, err, &ms))
      return fail(err);
    times.push_back(ms);
  }

  for (size_t r = 0; r < numResults; ++r)
    if (!writeNpy(options.outputs[r], outputs[r], err))
      return fail(err);
  if (options.time) {
    std::sort(times.begin(), times.end());
    size_t n = times.size();
    double median =
        n % 2 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
    // Milliseconds with 3 decimals, or 3 significant digits below 1 ms.
    int decimals = 3;
    if (median > 0 && median < 1)
      decimals = std::min(9, 2 - (int)std::floor(std::log10(median)));
    char line[96];
    snprintf(line, sizeof(line), "time: median %.*f ms over %zu calls\n",
             decimals, median, n);
    llvm::outs() << line;
  }
  return 0;
}

} // namespace qopt_run
