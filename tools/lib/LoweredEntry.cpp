//===- LoweredEntry.cpp - call an entry of a lowered module ---------------===//
//
// Factored out of qopt-run's lowered-module mode so that qopt-run,
// qopt-calibrate and qopt-compare check, JIT-compile and call lowered modules
// the same way. Each public function of a module lowered by qopt-lower-cpu
// has a C interface (`_mlir_ciface_NAME`, taking memref descriptors by
// pointer, results first) and its source signature in `qopt.signature`.
// Results are memrefs the callee allocates; they are copied out through
// their descriptors and freed unless they point into an argument.
//
//===----------------------------------------------------------------------===//

#include "LoweredEntry.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>

using namespace mlir;

namespace qopt_run {
namespace {

/// The attribute qopt-cpu-set-target writes on public functions.
constexpr llvm::StringLiteral kSignatureAttr = "qopt.signature";
constexpr llvm::StringLiteral kCifacePrefix = "_mlir_ciface_";

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

/// Checks that `type` (argument or result `index` of @entry) can be passed
/// as a memref descriptor and read from / written to .npy.
FailureOr<TensorSpec> describe(Type type, StringRef what, unsigned index,
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
  TensorSpec op;
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

std::string npyTypeNames(const TensorSpec &spec) {
  std::string want;
  for (const std::string &c : spec.codes)
    want += (want.empty() ? "" : " or ") + npyTypeName(c);
  return want;
}

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

std::string entryList(ModuleOp module) {
  std::string s;
  for (LLVM::LLVMFuncOp func : entries(module))
    s += (s.empty() ? "@" : ", @") + func.getName().str();
  return s.empty() ? "none" : s;
}

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

LoweredEntry::~LoweredEntry() = default;

std::unique_ptr<LoweredEntry> LoweredEntry::lookup(ModuleOp module,
                                                   const std::string &file,
                                                   const std::string &name,
                                                   std::string &err) {
  auto func = module.lookupSymbol<LLVM::LLVMFuncOp>(name);
  if (!func || func.isExternal() || name.rfind(kCifacePrefix, 0) == 0) {
    err =
        file + ": no entry @" + name + " (entries: " + entryList(module) + ")";
    return nullptr;
  }
  auto sigAttr = func->getAttrOfType<TypeAttr>(kSignatureAttr);
  auto signature =
      sigAttr ? dyn_cast<FunctionType>(sigAttr.getValue()) : FunctionType();
  if (!signature) {
    err = file + ": @" + name +
          " has no qopt.signature (the tensor signature "
          "qopt-lower-cpu records); lower the module with "
          "qopt-lower-cpu";
    return nullptr;
  }
  if (!module.lookupSymbol<LLVM::LLVMFuncOp>((kCifacePrefix + name).str())) {
    err = file + ": @" + name + " has no C interface (_mlir_ciface_" + name +
          "); lower the module with qopt-lower-cpu";
    return nullptr;
  }
  std::unique_ptr<LoweredEntry> entry(new LoweredEntry());
  entry->module = module;
  entry->file = file;
  entry->entryName = name;
  entry->sig = signature;
  for (auto [i, t] : llvm::enumerate(signature.getInputs())) {
    FailureOr<TensorSpec> op = describe(t, "argument", i, name, err);
    if (failed(op)) {
      err = file + ": " + err;
      return nullptr;
    }
    entry->argSpecs.push_back(*op);
  }
  for (auto [i, t] : llvm::enumerate(signature.getResults())) {
    FailureOr<TensorSpec> op = describe(t, "result", i, name, err);
    if (failed(op)) {
      err = file + ": " + err;
      return nullptr;
    }
    entry->resultSpecs.push_back(*op);
  }
  return entry;
}

bool LoweredEntry::checkInput(unsigned i, const NpyArray &array,
                              const std::string &path, std::string &err) const {
  const TensorSpec &spec = argSpecs[i];
  std::string argName = "argument " + std::to_string(i) + " of @" + entryName +
                        " (" + typeString(spec.type) + ")";
  if (!llvm::is_contained(spec.codes, array.dtype)) {
    err = path + ": dtype " + npyTypeName(array.dtype) + " does not match " +
          argName + ", which needs " + npyTypeNames(spec);
    return false;
  }
  ArrayRef<int64_t> want = spec.type.getShape();
  bool fits = array.shape.size() == want.size();
  for (size_t d = 0; fits && d < want.size(); ++d)
    fits = ShapedType::isDynamic(want[d]) || want[d] == array.shape[d];
  if (!fits) {
    err = path + ": shape " + npyShapeString(array.shape) + " does not match " +
          argName;
    return false;
  }
  return true;
}

bool LoweredEntry::compile(const std::string &runtimeLibDir, std::string &err) {
  // This machine must be able to run what was selected.
  if (auto t = module->getAttrOfType<StringAttr>(
          LLVM::LLVMDialect::getTargetTripleAttrName())) {
    llvm::Triple moduleTriple(t.str()), host(llvm::sys::getProcessTriple());
    if (moduleTriple.getArch() != host.getArch()) {
      err = file + " was lowered for " + t.str() + " and cannot run on this " +
            host.str() +
            " machine (--emit-object FILE.o compiles it for its own "
            "target)";
      return false;
    }
  }
  auto func = module.lookupSymbol<LLVM::LLVMFuncOp>(entryName);
  std::string missing = missingHostFeatures(func);
  if (!missing.empty()) {
    err = file + ": @" + entryName +
          " was compiled for CPU features this machine lacks (" + missing +
          "); lower it with qopt-lower-cpu{cpu=host}";
    return false;
  }

  // JIT at -O3 for this machine.
  auto tmBuilder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!tmBuilder) {
    err = "cannot detect the host target: " +
          llvm::toString(tmBuilder.takeError());
    return false;
  }
  tmBuilder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  auto tm = tmBuilder->createTargetMachine();
  if (!tm) {
    err = "cannot create the host target machine: " +
          llvm::toString(tm.takeError());
    return false;
  }
  // The transformer runs inside ExecutionEngine::create, which owns the
  // target machine until then; keep the std::function alive (it is held by
  // reference).
  std::function<llvm::Error(llvm::Module *)> transformer =
      makeOptimizingTransformer(3, 0, tm->get());
  ExecutionEngineOptions engineOptions;
  engineOptions.transformer = transformer;
  engineOptions.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  // memref.copy of non-contiguous views calls memrefCopy.
  std::string runnerUtils = runtimeLibDir + "/libmlir_c_runner_utils.so";
  SmallVector<StringRef> libs;
  if (llvm::sys::fs::exists(runnerUtils))
    libs.push_back(runnerUtils);
  engineOptions.sharedLibPaths = libs;
  auto created = ExecutionEngine::create(module, engineOptions, std::move(*tm));
  if (!created) {
    err = file +
          ": JIT compilation failed: " + llvm::toString(created.takeError());
    return false;
  }
  engine = std::move(*created);
  auto found = engine->lookupPacked((kCifacePrefix + entryName).str());
  if (!found) {
    err = file + ": @" + entryName + ": " + llvm::toString(found.takeError());
    return false;
  }
  fn = *found;
  return true;
}

bool LoweredEntry::call(ArrayRef<const NpyArray *> inputs,
                        std::vector<NpyArray> &outputs, std::string &err,
                        double *milliseconds) {
  // Descriptors: results (one struct of descriptors, passed first by
  // pointer), then one descriptor per argument. Fresh inputs for every
  // call: bufferization may reuse an argument's buffer in place.
  std::vector<AlignedBuffer> argData;
  std::vector<std::vector<int64_t>> argDesc(argSpecs.size());
  for (size_t i = 0; i < argSpecs.size(); ++i) {
    argData.emplace_back(inputs[i]->data.size());
    if (!argData.back().data()) {
      err = "out of memory for argument " + std::to_string(i) + " of @" +
            entryName;
      return false;
    }
    std::memcpy(argData.back().data(), inputs[i]->data.data(),
                inputs[i]->data.size());
    argDesc[i].assign(3 + 2 * inputs[i]->shape.size(), 0);
    fillDescriptor(argDesc[i].data(), argData.back().data(), inputs[i]->shape);
  }
  size_t resultFields = 0;
  SmallVector<size_t> resultAt;
  for (const TensorSpec &r : resultSpecs) {
    resultAt.push_back(resultFields);
    resultFields += 3 + 2 * r.type.getRank();
  }
  std::vector<int64_t> resultDesc(std::max<size_t>(resultFields, 1), 0);
  std::vector<void *> callArgs;
  if (!resultSpecs.empty())
    callArgs.push_back(resultDesc.data());
  for (auto &d : argDesc)
    callArgs.push_back(d.data());
  std::vector<void *> packed;
  for (void *&a : callArgs)
    packed.push_back(&a);

  auto t0 = std::chrono::steady_clock::now();
  fn(packed.data());
  if (milliseconds)
    *milliseconds = std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - t0)
                        .count();

  outputs.resize(resultSpecs.size());
  bool ok = true;
  for (size_t r = 0; r < resultSpecs.size() && ok; ++r) {
    DescriptorView d{&resultDesc[resultAt[r]], resultSpecs[r].type.getRank()};
    NpyArray &out = outputs[r];
    out.dtype = resultSpecs[r].codes.front();
    out.shape.clear();
    for (int64_t i = 0; i < d.rank; ++i) {
      int64_t want = resultSpecs[r].type.getDimSize(i);
      if (!ShapedType::isDynamic(want) && want != d.size(i)) {
        err = "@" + entryName + " returned result " + std::to_string(r) +
              " with size " + std::to_string(d.size(i)) + " in dimension " +
              std::to_string(i) + ", its signature says " +
              typeString(resultSpecs[r].type);
        ok = false;
        break;
      }
      out.shape.push_back(d.size(i));
    }
    if (ok)
      copyOut(d, resultSpecs[r].itemSize, out.data);
  }

  // Free the results (the callee allocates them and hands their ownership
  // over) unless one aliases an argument or another result.
  SmallVector<char *> freed;
  for (size_t r = 0; r < resultSpecs.size(); ++r) {
    DescriptorView d{&resultDesc[resultAt[r]], resultSpecs[r].type.getRank()};
    char *p = d.allocated();
    if (!p || llvm::is_contained(freed, p) ||
        llvm::any_of(argData, [&](const AlignedBuffer &b) {
          return b.contains(d.aligned());
        }))
      continue;
    freed.push_back(p);
    std::free(p);
  }
  return ok;
}

} // namespace qopt_run
