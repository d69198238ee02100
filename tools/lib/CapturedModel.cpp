//===- CapturedModel.cpp - a model compiled with its tensors exposed ------===//
//
// Compiles a float or quantized model once, in-process, through the same
// passes the qopt driver runs (the caller's steps, qopt-expose-tensors,
// qopt-lower-cpu), reads back which result holds which named tensor, and
// JIT-compiles the lowered module with LoweredEntry, qopt-run's runner.
//
//===----------------------------------------------------------------------===//

#include "CapturedModel.h"

#include "qopt/Pipelines/LowerCPUPipeline.h"
#include "qopt/Transforms/Passes.h"
#include "qopt/Transforms/TensorNames.h"

#include "qopt/InitAll.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

using namespace mlir;

namespace qopt_run {

namespace {
/// Collects error diagnostics as "FILE:LINE:COL: message" lines.
class DiagnosticCollector {
public:
  DiagnosticCollector(MLIRContext *ctx, const std::string &file)
      : handler(ctx, [this, file](Diagnostic &diag) {
          if (diag.getSeverity() != DiagnosticSeverity::Error)
            return success();
          if (!text.empty())
            text += "\n";
          text += where(file, diag.getLocation());
          if (std::optional<StringRef> name =
                  mlir::qopt::getLocationName(diag.getLocation()))
            text += " ('" + name->str() + "')";
          text += ": " + diag.str();
          for (Diagnostic &note : diag.getNotes())
            text += "\n  note: " + note.str();
          return success();
        }) {}
  std::string text;

private:
  ScopedDiagnosticHandler handler;
};
} // namespace

void initModelTools() {
  mlir::registerAllPasses();
  mlir::qopt::registerAllPasses();
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
}

DialectRegistry makeModelToolsRegistry() {
  DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  mlir::qopt::registerAllDialects(registry);
  return registry;
}

OwningOpRef<ModuleOp> readModule(MLIRContext &context, const std::string &path,
                                 std::string &err) {
  auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(path, /*IsText=*/true);
  if (!buffer) {
    err = path + ": cannot read: " + buffer.getError().message();
    return nullptr;
  }
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  OwningOpRef<ModuleOp> module =
      parseSourceFile<ModuleOp>(sourceMgr, ParserConfig(&context));
  if (!module)
    err = path + ": cannot parse the module (see above)";
  return module;
}

bool runPipeline(ModuleOp module, StringRef pipeline, std::string &err) {
  if (pipeline.empty())
    return true;
  PassManager pm(module->getContext());
  std::string parseErrors;
  llvm::raw_string_ostream os(parseErrors);
  if (failed(parsePassPipeline(pipeline, pm, os))) {
    err = "cannot parse the pass pipeline '" + pipeline.str() +
          "': " + parseErrors;
    return false;
  }
  DiagnosticCollector collect(module->getContext(), "");
  if (failed(pm.run(module))) {
    err = collect.text.empty() ? "pass pipeline '" + pipeline.str() + "' failed"
                               : collect.text;
    return false;
  }
  return true;
}

std::unique_ptr<CapturedModel>
CapturedModel::compile(OwningOpRef<ModuleOp> module, const std::string &file,
                       const CaptureSteps &steps,
                       const std::string &runtimeLibDir, std::string &err) {
  MLIRContext *ctx = module->getContext();
  std::unique_ptr<CapturedModel> model(new CapturedModel());
  model->fileName = file;
  auto prefixed = [&](const std::string &e) {
    // Diagnostics that carry no file location get the module's name.
    return e.rfind(file, 0) == 0 ? e : file + ": " + e;
  };
  if (!runPipeline(*module, steps.before, err)) {
    err = prefixed(err);
    return nullptr;
  }
  // The steps may have exposed the tensors already (qopt-quantize's
  // expose-tensors=true).
  auto exposedFunc = [&]() {
    func::FuncOp found;
    for (auto f : module->getOps<func::FuncOp>())
      if (f->hasAttr("qopt.exposed"))
        found = f;
    return found;
  };
  if (!exposedFunc()) {
    PassManager pm(ctx);
    pm.addPass(mlir::qopt::createExposeTensors());
    DiagnosticCollector collect(ctx, file);
    if (failed(pm.run(*module))) {
      err = prefixed(collect.text);
      return nullptr;
    }
  }
  func::FuncOp func = exposedFunc();
  auto records = func->getAttrOfType<ArrayAttr>("qopt.exposed");
  for (Attribute a : records) {
    auto dict = cast<DictionaryAttr>(a);
    ExposedTensor t;
    t.name = dict.getAs<StringAttr>("name").str();
    t.op = dict.getAs<StringAttr>("op").str();
    t.result = dict.getAs<IntegerAttr>("result").getInt();
    if (auto scale = dict.getAs<DenseF64ArrayAttr>("scale")) {
      t.quantized = true;
      t.scale.assign(scale.asArrayRef().begin(), scale.asArrayRef().end());
      auto zp = dict.getAs<DenseI64ArrayAttr>("zero_point");
      t.zeroPoint.assign(zp.asArrayRef().begin(), zp.asArrayRef().end());
      if (auto axis = dict.getAs<IntegerAttr>("axis"))
        t.axis = axis.getInt();
    }
    model->exposed.push_back(std::move(t));
  }
  for (BlockArgument arg : func.getArguments()) {
    std::string name = mlir::qopt::getTensorName(arg);
    if (name.empty())
      name = "arg" + std::to_string(arg.getArgNumber());
    model->modelArgs.push_back(
        {name, dyn_cast<RankedTensorType>(arg.getType())});
  }
  std::string entryName = func.getName().str();
  model->numOriginal = func.getNumResults() - model->exposed.size();

  if (!runPipeline(*module, steps.after, err)) {
    err = prefixed(err);
    return nullptr;
  }
  {
    PassManager pm(ctx);
    mlir::qopt::LowerCPUOptions lowerOptions;
    mlir::qopt::buildLowerCPUPipeline(pm, lowerOptions);
    DiagnosticCollector collect(ctx, file);
    if (failed(pm.run(*module))) {
      err = prefixed(collect.text.empty() ? "qopt-lower-cpu failed"
                                          : collect.text);
      return nullptr;
    }
  }
  if (Operation *op = firstUnloweredOp(*module)) {
    err = file + ": '" + op->getName().getStringRef().str() +
          "' is left after qopt-lower-cpu";
    return nullptr;
  }
  dropForeignArgAttrs(*module);
  model->module = std::move(module);
  model->entry = LoweredEntry::lookup(*model->module, file, entryName, err);
  if (!model->entry || !model->entry->compile(runtimeLibDir, err))
    return nullptr;
  return model;
}

bool CapturedModel::run(ArrayRef<const NpyArray *> inputs,
                        std::vector<NpyArray> &outputs, std::string &err) {
  return entry->call(inputs, outputs, err);
}

template <typename T>
static void convert(const NpyArray &array, std::vector<double> &values) {
  size_t n = array.data.size() / sizeof(T);
  values.resize(n);
  const char *p = array.data.data();
  for (size_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, p + i * sizeof(T), sizeof(T));
    values[i] = static_cast<double>(v);
  }
}

/// IEEE half to double.
static double halfToDouble(uint16_t h) {
  int sign = h >> 15, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
  double v;
  if (exp == 0)
    v = std::ldexp(frac, -24);
  else if (exp == 31)
    v = frac ? NAN : INFINITY;
  else
    v = std::ldexp(frac + 1024, exp - 25);
  return sign ? -v : v;
}

void dequantize(const ExposedTensor &tensor, const NpyArray &array,
                std::vector<double> &values) {
  const std::string &d = array.dtype;
  if (d == "f4")
    convert<float>(array, values);
  else if (d == "f8")
    convert<double>(array, values);
  else if (d == "f2") {
    std::vector<double> raw;
    convert<uint16_t>(array, raw);
    values.resize(raw.size());
    for (size_t i = 0; i < raw.size(); ++i)
      values[i] = halfToDouble(static_cast<uint16_t>(raw[i]));
  } else if (d == "i1")
    convert<int8_t>(array, values);
  else if (d == "u1")
    convert<uint8_t>(array, values);
  else if (d == "i2")
    convert<int16_t>(array, values);
  else if (d == "u2")
    convert<uint16_t>(array, values);
  else if (d == "i4")
    convert<int32_t>(array, values);
  else if (d == "u4")
    convert<uint32_t>(array, values);
  else if (d == "i8")
    convert<int64_t>(array, values);
  else
    values.assign(array.numel(), 0.0);
  if (!tensor.quantized)
    return;
  if (!tensor.axis) {
    double s = tensor.scale[0], zp = tensor.zeroPoint[0];
    for (double &v : values)
      v = s * (v - zp);
    return;
  }
  // Per axis: the channel of element i is (i / inner) % channels.
  int64_t axis = *tensor.axis, inner = 1;
  for (size_t k = axis + 1; k < array.shape.size(); ++k)
    inner *= array.shape[k];
  int64_t channels = array.shape[axis];
  for (size_t i = 0; i < values.size(); ++i) {
    int64_t c = (static_cast<int64_t>(i) / inner) % channels;
    values[i] = tensor.scale[c] * (values[i] - tensor.zeroPoint[c]);
  }
}

} // namespace qopt_run
