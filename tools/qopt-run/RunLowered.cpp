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

/// The attribute qopt-cpu-set-target writes on public functions.
constexpr llvm::StringLiteral kSignatureAttr = "qopt.signature";
constexpr llvm::StringLiteral kCifacePrefix = "_mlir_ciface_";

/// Reports one error (prefixed "qopt-run: ") and yields exit code 1.
int fail(const llvm::Twine &message) {
  llvm::errs() << "qopt-run: " << message << "\n";
  return 1;
}

/// "FILE:LINE:COL" of `loc` when it has one, else "FILE".
std::string where(const std::string &file, Location loc) {
  if (auto fl = loc->findInstanceOf<FileLineColLoc>())
    return fl.getFilename().str() + ":" + std::to_string(fl.getLine()) + ":" +
           std::to_string(fl.getColumn());
  return file;
}

std::string typeString(Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << type;
  return s;
}

/// The .npy type codes an element type accepts as input (the first is the
/// one its results are written as); empty when .npy cannot hold it. A
/// signless integer's signedness lives in the ops, not the type, so it
/// accepts signed and unsigned arrays of its width.
SmallVector<std::string> npyCodesFor(Type elem) {
  if (elem.isF16())
    return {"f2"};
  if (elem.isF32())
    return {"f4"};
  if (elem.isF64())
    return {"f8"};
  auto it = dyn_cast<IntegerType>(elem);
  if (!it)
    return {};
  unsigned w = it.getWidth();
  if (w == 1)
    return {"b1"};
  if (w != 8 && w != 16 && w != 32 && w != 64)
    return {};
  std::string bytes = std::to_string(w / 8);
  if (it.isUnsigned())
    return {"u" + bytes};
  if (it.isSigned())
    return {"i" + bytes};
  return {"i" + bytes, "u" + bytes};
}

/// A tensor or memref type of the source signature, as the runner sees it.
struct Operand {
  ShapedType type;
  SmallVector<std::string> codes;
  size_t itemSize = 0;
};

/// Checks that `type` (argument or result `index` of @entry) can be passed
/// as a memref descriptor and read from / written to .npy.
FailureOr<Operand> describe(Type type, StringRef what, unsigned index,
                            StringRef entry, std::string &err) {
  std::string name = what.str() + " " + std::to_string(index) + " of @" +
                     entry.str() + " (" + typeString(type) + ")";
  auto shaped = dyn_cast<ShapedType>(type);
  if (!shaped || !isa<RankedTensorType, MemRefType>(type) ||
      !shaped.hasRank()) {
    err = name + " is not a ranked tensor or memref; qopt-run passes only "
                 "those";
    return failure();
  }
  if (auto memref = dyn_cast<MemRefType>(type);
      memref && !memref.getLayout().isIdentity()) {
    err = name + " has a non-identity layout; qopt-run passes only "
                 "row-major memrefs";
    return failure();
  }
  Operand op;
  op.type = shaped;
  op.codes = npyCodesFor(shaped.getElementType());
  if (op.codes.empty()) {
    err = name + " has an element type that .npy cannot hold";
    return failure();
  }
  op.itemSize = npyItemSize(op.codes.front());
  return op;
}

/// A memref descriptor in memory: {allocated, aligned, offset, sizes[rank],
/// strides[rank]}, every field 8 bytes on the 64-bit hosts qopt runs on.
struct DescriptorView {
  int64_t *fields;
  int64_t rank;
  char *allocated() const { return reinterpret_cast<char *>(fields[0]); }
  char *aligned() const { return reinterpret_cast<char *>(fields[1]); }
  int64_t offset() const { return fields[2]; }
  int64_t size(int64_t i) const { return fields[3 + i]; }
  int64_t stride(int64_t i) const { return fields[3 + rank + i]; }
};

void fillDescriptor(int64_t *fields, char *data, ArrayRef<int64_t> shape) {
  int64_t rank = shape.size();
  static_assert(sizeof(void *) == sizeof(int64_t), "64-bit hosts only");
  std::memcpy(&fields[0], &data, sizeof(void *));
  std::memcpy(&fields[1], &data, sizeof(void *));
  fields[2] = 0;
  int64_t stride = 1;
  for (int64_t i = rank - 1; i >= 0; --i) {
    fields[3 + i] = shape[i];
    fields[3 + rank + i] = stride;
    stride *= shape[i];
  }
}

/// Copies the strided memref `d` into row-major bytes.
void copyOut(const DescriptorView &d, size_t itemSize, std::vector<char> &out) {
  int64_t n = 1;
  for (int64_t i = 0; i < d.rank; ++i)
    n *= d.size(i);
  out.resize(n * itemSize);
  if (n == 0)
    return;
  const char *base = d.aligned() + d.offset() * itemSize;
  bool contiguous = true;
  int64_t expected = 1;
  for (int64_t i = d.rank - 1; i >= 0; --i) {
    if (d.size(i) != 1 && d.stride(i) != expected)
      contiguous = false;
    expected *= d.size(i);
  }
  if (contiguous) {
    std::memcpy(out.data(), base, out.size());
    return;
  }
  SmallVector<int64_t> idx(d.rank, 0);
  for (int64_t linear = 0; linear < n; ++linear) {
    int64_t at = 0;
    for (int64_t i = 0; i < d.rank; ++i)
      at += idx[i] * d.stride(i);
    std::memcpy(out.data() + linear * itemSize, base + at * itemSize, itemSize);
    for (int64_t i = d.rank - 1; i >= 0; --i) {
      if (++idx[i] < d.size(i))
        break;
      idx[i] = 0;
    }
  }
}

/// 64-byte aligned storage for an argument.
struct AlignedBuffer {
  std::unique_ptr<char, decltype(&std::free)> ptr{nullptr, &std::free};
  size_t size = 0;
  explicit AlignedBuffer(size_t bytes) : size(bytes) {
    size_t rounded = std::max<size_t>(64, (bytes + 63) / 64 * 64);
    ptr.reset(static_cast<char *>(std::aligned_alloc(64, rounded)));
  }
  char *data() const { return ptr.get(); }
  bool contains(const char *p) const {
    return p >= ptr.get() && p < ptr.get() + std::max<size_t>(size, 1);
  }
};

/// The first op that is not in the LLVM dialect, or null.
Operation *firstUnloweredOp(ModuleOp module) {
  Operation *found = nullptr;
  module.walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (op == module.getOperation() || isa<LLVM::LLVMDialect>(op->getDialect()))
      return WalkResult::advance();
    found = op;
    return WalkResult::interrupt();
  });
  return found;
}

/// The public entries of a lowered module: llvm.funcs with a body and a
/// qopt.signature, C wrappers excluded.
SmallVector<LLVM::LLVMFuncOp> entries(ModuleOp module) {
  SmallVector<LLVM::LLVMFuncOp> found;
  for (auto func : module.getOps<LLVM::LLVMFuncOp>())
    if (!func.isExternal() && func->hasAttr(kSignatureAttr) &&
        !func.getName().starts_with(kCifacePrefix))
      found.push_back(func);
  return found;
}

std::string entryList(ModuleOp module) {
  std::string s;
  for (LLVM::LLVMFuncOp func : entries(module))
    s += (s.empty() ? "@" : ", @") + func.getName().str();
  return s.empty() ? "none" : s;
}

/// Drops argument and result attributes of other dialects (qopt.name, ...)
/// from the llvm.funcs: the LLVM IR translation has no use for them and
/// warns about each.
void dropForeignArgAttrs(ModuleOp module) {
  auto foreign = [](NamedAttribute a) {
    return !a.getName().getValue().starts_with("llvm.");
  };
  for (auto llvmFunc : module.getOps<LLVM::LLVMFuncOp>()) {
    auto func = cast<FunctionOpInterface>(llvmFunc.getOperation());
    for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
      for (NamedAttribute a : func.getArgAttrs(i))
        if (foreign(a))
          func.removeArgAttr(i, a.getName());
    for (unsigned i = 0, e = func.getNumResults(); i < e; ++i)
      for (NamedAttribute a : func.getResultAttrs(i))
        if (foreign(a))
          func.removeResultAttr(i, a.getName());
  }
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

/// Features of `func`'s target_features that this machine reports absent.
std::string missingHostFeatures(LLVM::LLVMFuncOp func) {
  auto features = func.getTargetFeaturesAttr();
  if (!features)
    return "";
  llvm::StringMap<bool> host = llvm::sys::getHostCPUFeatures();
  std::string missing;
  for (StringAttr f : features.getFeatures()) {
    StringRef name = f.getValue();
    if (!name.consume_front("+"))
      continue;
    auto it = host.find(name);
    if (it != host.end() && !it->second)
      missing += (missing.empty() ? "+" : ", +") + name.str();
  }
  return missing;
}

} // namespace

int runLowered(DialectRegistry &registry, const LoweredRunOptions &options) {
  const std::string &file = options.file;
  auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(file, /*IsText=*/true);
  if (!buffer)
    return fail(file + ": cannot read: " + buffer.getError().message());
  MLIRContext context(registry);
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  OwningOpRef<ModuleOp> module =
      parseSourceFile<ModuleOp>(sourceMgr, ParserConfig(&context));
  if (!module)
    return fail(file + ": cannot read or parse the module (see above)");
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
  auto func = module.lookupSymbol<LLVM::LLVMFuncOp>(name);
  if (!func || func.isExternal() || name.rfind(kCifacePrefix, 0) == 0)
    return fail(file + ": no entry @" + name +
                " (entries: " + entryList(module) + ")");
  auto sigAttr = func->getAttrOfType<TypeAttr>(kSignatureAttr);
  auto signature =
      sigAttr ? dyn_cast<FunctionType>(sigAttr.getValue()) : FunctionType();
  if (!signature)
    return fail(file + ": @" + name +
                " has no qopt.signature (the tensor signature "
                "qopt-lower-cpu records); lower the module with "
                "qopt-lower-cpu");
  if (!module.lookupSymbol<LLVM::LLVMFuncOp>((kCifacePrefix + name).str()))
    return fail(file + ": @" + name + " has no C interface (_mlir_ciface_" +
                name + "); lower the module with qopt-lower-cpu");
  std::string err;
  SmallVector<Operand> args, results;
  for (auto [i, t] : llvm::enumerate(signature.getInputs())) {
    FailureOr<Operand> op = describe(t, "argument", i, name, err);
    if (failed(op))
      return fail(file + ": " + err);
    args.push_back(*op);
  }
  for (auto [i, t] : llvm::enumerate(signature.getResults())) {
    FailureOr<Operand> op = describe(t, "result", i, name, err);
    if (failed(op))
      return fail(file + ": " + err);
    results.push_back(*op);
  }
  std::string sigText = typeString(signature);
  if (options.inputs.size() != args.size())
    return fail(file + ": @" + name + " takes " + std::to_string(args.size()) +
                " argument(s), " + sigText + ", but " +
                std::to_string(options.inputs.size()) +
                " --input file(s) were given");
  if (options.outputs.size() != results.size())
    return fail(file + ": @" + name + " returns " +
                std::to_string(results.size()) + " result(s), " + sigText +
                ", but " + std::to_string(options.outputs.size()) +
                " --output file(s) were given");
  for (const std::string &out : options.outputs)
    if (!checkWritable(out, err))
      return fail(err);

  // Inputs, checked against the signature.
  std::vector<NpyArray> inputs(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &path = options.inputs[i];
    if (!readNpy(path, inputs[i], err))
      return fail(err);
    std::string argName = "argument " + std::to_string(i) + " of @" + name +
                          " (" + typeString(args[i].type) + ")";
    if (!llvm::is_contained(args[i].codes, inputs[i].dtype)) {
      std::string want;
      for (const std::string &c : args[i].codes)
        want += (want.empty() ? "" : " or ") + npyTypeName(c);
      return fail(path + ": dtype " + npyTypeName(inputs[i].dtype) +
                  " does not match " + argName + ", which needs " + want);
    }
    ArrayRef<int64_t> want = args[i].type.getShape();
    bool fits = inputs[i].shape.size() == want.size();
    for (size_t d = 0; fits && d < want.size(); ++d)
      fits = ShapedType::isDynamic(want[d]) || want[d] == inputs[i].shape[d];
    if (!fits)
      return fail(path + ": shape " + npyShapeString(inputs[i].shape) +
                  " does not match " + argName);
  }

  // The target: this machine must be able to run what was selected.
  if (auto t = module->getAttrOfType<StringAttr>(
          LLVM::LLVMDialect::getTargetTripleAttrName())) {
    llvm::Triple moduleTriple(t.str()), host(llvm::sys::getProcessTriple());
    if (moduleTriple.getArch() != host.getArch())
      return fail(file + " was lowered for " + t.str() +
                  " and cannot run on this " + host.str() +
                  " machine (--emit-object FILE.o compiles it for its own "
                  "target)");
  }
  std::string missing = missingHostFeatures(func);
  if (!missing.empty())
    return fail(file + ": @" + name +
                " was compiled for CPU features this "
                "machine lacks (" +
                missing +
                "); lower it with "
                "qopt-lower-cpu{cpu=host}");

  // JIT at -O3 for this machine.
  auto tmBuilder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!tmBuilder)
    return fail("cannot detect the host target: " +
                llvm::toString(tmBuilder.takeError()));
  tmBuilder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  auto tm = tmBuilder->createTargetMachine();
  if (!tm)
    return fail("cannot create the host target machine: " +
                llvm::toString(tm.takeError()));
  // The transformer runs inside ExecutionEngine::create, which owns the
  // target machine until then; keep the std::function alive (it is held by
  // reference).
  std::function<llvm::Error(llvm::Module *)> transformer =
      makeOptimizingTransformer(3, 0, tm->get());
  ExecutionEngineOptions engineOptions;
  engineOptions.transformer = transformer;
  engineOptions.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  // memref.copy of non-contiguous views calls memrefCopy.
  std::string runnerUtils =
      options.runtimeLibDir + "/libmlir_c_runner_utils.so";
  SmallVector<StringRef> libs;
  if (llvm::sys::fs::exists(runnerUtils))
    libs.push_back(runnerUtils);
  engineOptions.sharedLibPaths = libs;
  auto engine = ExecutionEngine::create(module, engineOptions, std::move(*tm));
  if (!engine)
    return fail(file + ": JIT compilation failed: " +
                llvm::toString(engine.takeError()));
  auto fn = (*engine)->lookupPacked((kCifacePrefix + name).str());
  if (!fn)
    return fail(file + ": @" + name + ": " + llvm::toString(fn.takeError()));

  // Descriptors: results (one struct of descriptors, passed first by
  // pointer), then one descriptor per argument.
  std::vector<AlignedBuffer> argData;
  std::vector<std::vector<int64_t>> argDesc(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    argData.emplace_back(inputs[i].data.size());
    if (!argData.back().data())
      return fail("out of memory for " + options.inputs[i]);
    argDesc[i].assign(3 + 2 * inputs[i].shape.size(), 0);
    fillDescriptor(argDesc[i].data(), argData.back().data(), inputs[i].shape);
  }
  size_t resultFields = 0;
  SmallVector<size_t> resultAt;
  for (const Operand &r : results) {
    resultAt.push_back(resultFields);
    resultFields += 3 + 2 * r.type.getRank();
  }
  std::vector<int64_t> resultDesc(std::max<size_t>(resultFields, 1), 0);
  std::vector<void *> callArgs;
  if (!results.empty())
    callArgs.push_back(resultDesc.data());
  for (auto &d : argDesc)
    callArgs.push_back(d.data());
  std::vector<void *> packed;
  for (void *&a : callArgs)
    packed.push_back(&a);

  // Frees the results of a call (the callee allocates them and hands their
  // ownership over) unless one aliases an argument or another result.
  auto freeResults = [&]() {
    SmallVector<char *> freed;
    for (size_t r = 0; r < results.size(); ++r) {
      DescriptorView d{&resultDesc[resultAt[r]], results[r].type.getRank()};
      char *p = d.allocated();
      if (!p || llvm::is_contained(freed, p) ||
          llvm::any_of(argData, [&](const AlignedBuffer &b) {
            return b.contains(d.aligned());
          }))
        continue;
      freed.push_back(p);
      std::free(p);
    }
  };

  unsigned calls = std::max(1u, options.repeat);
  std::vector<double> times;
  std::vector<NpyArray> outputs(results.size());
  for (unsigned k = 0; k < calls; ++k) {
    // Fresh inputs for every call: bufferization may reuse an argument's
    // buffer in place.
    for (size_t i = 0; i < args.size(); ++i)
      std::memcpy(argData[i].data(), inputs[i].data.data(),
                  inputs[i].data.size());
    auto t0 = std::chrono::steady_clock::now();
    (*fn)(packed.data());
    times.push_back(std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - t0)
                        .count());
    if (k + 1 < calls) {
      freeResults();
      continue;
    }
    for (size_t r = 0; r < results.size(); ++r) {
      DescriptorView d{&resultDesc[resultAt[r]], results[r].type.getRank()};
      NpyArray &out = outputs[r];
      out.dtype = results[r].codes.front();
      out.shape.clear();
      for (int64_t i = 0; i < d.rank; ++i) {
        int64_t want = results[r].type.getDimSize(i);
        if (!ShapedType::isDynamic(want) && want != d.size(i))
          return fail("@" + name + " returned result " + std::to_string(r) +
                      " with size " + std::to_string(d.size(i)) +
                      " in dimension " + std::to_string(i) +
                      ", its signature says " + typeString(results[r].type));
        out.shape.push_back(d.size(i));
      }
      copyOut(d, results[r].itemSize, out.data);
    }
    freeResults();
  }

  for (size_t r = 0; r < results.size(); ++r)
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
