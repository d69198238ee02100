//===- qopt-compare.cpp - which tensor lost accuracy ----------------------===//
//
//   qopt-compare --float float.mlir --quantized quant.mlir --input x=in.npy
//       [--input ...] [--top N] [--format text|json|csv]
//       [--suggest-pins FILE --threshold-db D --calibration calib.json
//        [--quantize-options '...'] [--pin-precision f32] [--max-pins N]]
//
// Runs the float model and the quantized one (QDQ form, compiled here
// through the rest of qopt-quantize: qopt-quantize-kernels,
// qopt-fold-requant, qopt-lower-quant) on the CPU with every named tensor
// exposed, and prints, per tensor in both, its SQNR, cosine similarity and
// largest absolute error against the float run, and the op's own SQNR: the
// quantized program run once more with every quantized edge fed from the
// float run (each qcast's input replaced by the float run's tensor), so each
// op sees float-run inputs quantized as the real program quantizes them.
// --suggest-pins greedily keeps the ops with the worst own SQNR in higher
// precision, re-quantizing the float model with the pins and measuring the
// output SQNR after each, until it reaches --threshold-db.
// docs/qopt-compare.md.
//
//===----------------------------------------------------------------------===//

#include "CapturedModel.h"
#include "Samples.h"

#include "qopt/Pipelines/QuantizePipeline.h"
#include "qopt/Transforms/TensorNames.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace llvm;
using namespace qopt_run;

static cl::OptionCategory category("qopt-compare options");
static cl::opt<std::string> floatFile("float", cl::Required,
                                      cl::desc("The float model (.mlir)"),
                                      cl::cat(category));
static cl::opt<std::string> quantFile(
    "quantized", cl::Required,
    cl::desc("The quantized model in QDQ form (the output of qopt-legalize, "
             "or any stage before qopt-lower-quant)"),
    cl::cat(category));
static cl::list<std::string>
    inputs("input",
           cl::desc("NAME=FILE or NAME=GLOB: the inputs of argument NAME; "
                    "several files are several samples, aggregated"),
           cl::cat(category));
static cl::opt<unsigned> top("top",
                             cl::desc("Print only the N tensors with the "
                                      "lowest own SQNR, worst first"),
                             cl::init(0), cl::cat(category));
static cl::opt<std::string>
    outputFormat("format", cl::desc("Output format: text, json or csv"),
                 cl::init("text"), cl::cat(category));
static cl::opt<std::string> outputFile("o",
                                       cl::desc("Write the report here "
                                                "(default: standard output)"),
                                       cl::init("-"), cl::cat(category));
static cl::opt<bool>
    strictNames("strict",
                cl::desc("A tensor name in one module only is an error "
                         "(default: a warning that lists them)"),
                cl::init(false), cl::cat(category));
static cl::opt<std::string> quantizeOptions(
    "quantize-options",
    cl::desc("qopt-quantize's options the quantized model was made with "
             "(requant-mode, fold-inexact-chains are used to compile it; all "
             "of them to re-quantize for --suggest-pins)"),
    cl::init(""), cl::cat(category));
static cl::opt<std::string> suggestPins(
    "suggest-pins",
    cl::desc("Write a qopt-assign-precision pin table that keeps the worst "
             "ops in higher precision until the output SQNR reaches "
             "--threshold-db"),
    cl::init(""), cl::cat(category));
static cl::opt<double> thresholdDb("threshold-db",
                                   cl::desc("Output SQNR to reach (dB)"),
                                   cl::init(NAN), cl::cat(category));
static cl::opt<std::string>
    calibration("calibration",
                cl::desc("Calibration file of the quantized model (needed by "
                         "--suggest-pins to re-quantize)"),
                cl::init(""), cl::cat(category));
static cl::opt<std::string>
    pinPrecision("pin-precision",
                 cl::desc("Precision of pinned ops: f32 (default) or bf16"),
                 cl::init("f32"), cl::cat(category));
static cl::opt<unsigned>
    maxPins("max-pins",
            cl::desc("Stop after pinning this many ops (default 16)"),
            cl::init(16), cl::cat(category));

static int fail(const Twine &message) {
  errs() << "qopt-compare: " << message << "\n";
  return 1;
}

static void warn(const Twine &message) {
  errs() << "qopt-compare: warning: " << message << "\n";
}

/// The prefix of the arguments that feed float-run tensors into the
/// own-SQNR program.
static constexpr StringLiteral kFloatArgPrefix = "qopt.compare.float:";

namespace {
/// Sums for SQNR, cosine and max abs error, pooled over samples.
struct Accumulator {
  double signal = 0, noise = 0, dot = 0, other = 0, maxAbs = 0;
  bool any = false;
  void add(ArrayRef<double> ref, ArrayRef<double> got) {
    any = true;
    for (size_t i = 0; i < ref.size(); ++i) {
      double e = got[i] - ref[i];
      signal += ref[i] * ref[i];
      noise += e * e;
      dot += ref[i] * got[i];
      other += got[i] * got[i];
      maxAbs = std::max(maxAbs, std::fabs(e));
    }
  }
  double sqnrDb() const {
    if (noise == 0)
      return INFINITY;
    if (signal == 0)
      return -INFINITY;
    return 10 * std::log10(signal / noise);
  }
  double cosine() const {
    if (signal == 0 && other == 0)
      return 1;
    if (signal == 0 || other == 0)
      return 0;
    return dot / std::sqrt(signal * other);
  }
};

struct Row {
  std::string name, op;
  SmallVector<int64_t> shape;
  unsigned floatIndex = 0, quantIndex = 0;
  std::optional<unsigned> ownIndex;
  Accumulator total, own;
};
} // namespace

static std::string shapeText(ArrayRef<int64_t> shape, char sep) {
  std::string s;
  for (auto [i, d] : llvm::enumerate(shape))
    s += (i ? std::string(1, sep) : "") + std::to_string(d);
  return s.empty() ? "scalar" : s;
}

static std::string number(double v, const char *fmt = "%.4g") {
  if (std::isinf(v))
    return v > 0 ? "inf" : "-inf";
  if (std::isnan(v))
    return "nan";
  char buf[64];
  snprintf(buf, sizeof(buf), fmt, v);
  return buf;
}

/// True when the module still has quantized types (qcast/dcast/scast or
/// values of !quant types).
static bool hasQuantTypes(mlir::ModuleOp module) {
  bool found = false;
  module.walk([&](mlir::Operation *op) {
    for (mlir::Type t : op->getResultTypes())
      if (auto shaped = dyn_cast<mlir::ShapedType>(t))
        if (isa<mlir::quant::QuantizedType>(shaped.getElementType()))
          found = true;
  });
  return found;
}

/// The public function with a body that qopt-expose-tensors will pick.
static mlir::func::FuncOp entryOf(mlir::ModuleOp module) {
  mlir::func::FuncOp found;
  for (auto f : module.getOps<mlir::func::FuncOp>())
    if (f.isPublic() && !f.isExternal()) {
      if (found)
        return {};
      found = f;
    }
  return found;
}

/// Turns the quantized QDQ module into the own-SQNR program: every
/// quant.qcast of a named float tensor that the float model also has is fed
/// from a new argument (`qopt.compare.float:NAME`) that receives the float
/// run's tensor; the original qcast stays, kept alive as an extra result, so
/// that its producer still compiles to the same integer kernel and the
/// tensor's name still finds that kernel's output. Returns the number of
/// edges cut.
static unsigned decouple(mlir::ModuleOp module, const StringSet<> &floatNames) {
  using namespace mlir;
  func::FuncOp func = entryOf(module);
  if (!func || !func.getBody().hasOneBlock())
    return 0;
  Block &body = func.getBody().front();
  SmallVector<quant::QuantizeCastOp> qcasts;
  for (auto q : body.getOps<quant::QuantizeCastOp>())
    qcasts.push_back(q);
  MLIRContext *ctx = module.getContext();
  llvm::DenseMap<Value, Value> argOf;
  SmallVector<Value> keepAlive;
  OpBuilder builder(ctx);
  for (quant::QuantizeCastOp q : qcasts) {
    Value v = q.getInput();
    if (isa<BlockArgument>(v))
      continue;
    std::string name = qopt::getTensorName(v);
    auto type = dyn_cast<RankedTensorType>(v.getType());
    if (name.empty() || !floatNames.contains(name) || !type ||
        !type.getElementType().isF32())
      continue;
    Value &arg = argOf[v];
    if (!arg) {
      unsigned index = func.getNumArguments();
      auto attrs = DictionaryAttr::get(
          ctx, {NamedAttribute(
                   StringAttr::get(ctx, qopt::kNameArgAttr),
                   StringAttr::get(ctx, (kFloatArgPrefix + name).str()))});
      (void)func.insertArgument(index, type, attrs, UnknownLoc::get(ctx));
      arg = func.getArgument(index);
    }
    builder.setInsertionPointAfter(q);
    auto fed = quant::QuantizeCastOp::create(builder, UnknownLoc::get(ctx),
                                             q.getType(), arg);
    q.getResult().replaceAllUsesExcept(fed.getResult(), fed.getOperation());
    auto qtype = cast<quant::QuantizedType>(
        cast<ShapedType>(q.getType()).getElementType());
    keepAlive.push_back(quant::StorageCastOp::create(
        builder, UnknownLoc::get(ctx),
        cast<RankedTensorType>(q.getType()).clone(qtype.getStorageType()),
        q.getResult()));
  }
  if (keepAlive.empty())
    return 0;
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  SmallVector<Value> results(ret.getOperands());
  results.append(keepAlive.begin(), keepAlive.end());
  ret->setOperands(results);
  SmallVector<Type> types;
  for (Value r : results)
    types.push_back(r.getType());
  func.setType(FunctionType::get(ctx, func.getArgumentTypes(), types));
  if (ArrayAttr resAttrs = func.getAllResultAttrs()) {
    SmallVector<Attribute> attrs(resAttrs.begin(), resAttrs.end());
    attrs.resize(types.size(), DictionaryAttr::get(ctx, {}));
    func.setAllResultAttrs(attrs);
  }
  return keepAlive.size();
}

namespace {
/// Everything one comparison needs across samples.
struct Session {
  mlir::MLIRContext *context;
  std::unique_ptr<CapturedModel> floatModel;
  SampleSet samples;
  /// Each sample's float outputs (the entry's own results), for
  /// --suggest-pins.
  std::vector<std::vector<std::vector<double>>> floatOutputs;
};
} // namespace

/// Maps `model`'s arguments to float-model arguments (by name); arguments
/// named `qopt.compare.float:T` map to float tensor T, encoded as
/// -(1 + tensor index).
static bool mapArgs(CapturedModel &model, CapturedModel &floatModel,
                    SmallVectorImpl<int64_t> &map, std::string &err) {
  for (const ModelArg &arg : model.args()) {
    StringRef name = arg.name;
    if (name.consume_front(kFloatArgPrefix)) {
      auto tensors = floatModel.tensors();
      auto it = llvm::find_if(
          tensors, [&](const ExposedTensor &t) { return t.name == name; });
      map.push_back(-1 - (it - tensors.begin()));
      continue;
    }
    auto fargs = floatModel.args();
    auto it = llvm::find_if(
        fargs, [&](const ModelArg &a) { return a.name == arg.name; });
    if (it == fargs.end()) {
      err = model.file() + ": argument '" + arg.name + "' of @" +
            model.entryName() + " is not an argument of " + floatModel.file() +
            "; the two models must take the same inputs";
      return false;
    }
    map.push_back(it - fargs.begin());
  }
  return true;
}

/// Compiles the float model again through qopt-quantize with `table` as the
/// pin table and returns its output SQNR against the float outputs over
/// every sample.
static bool measureWithPins(Session &s, const std::string &table,
                            const std::string &opts, double &sqnr,
                            std::string &err) {
  mlir::OwningOpRef<mlir::ModuleOp> module =
      readModule(*s.context, floatFile, err);
  if (!module)
    return false;
  CaptureSteps steps;
  steps.before = "qopt-quantize{calibration=" + calibration.getValue() +
                 " budget=cost:1000 precision-table=" + table +
                 " expose-tensors=true " + opts + "}";
  std::unique_ptr<CapturedModel> model = CapturedModel::compile(
      std::move(module), floatFile, steps, QOPT_LLVM_LIBDIR, err);
  if (!model)
    return false;
  SmallVector<int64_t> map;
  if (!mapArgs(*model, *s.floatModel, map, err))
    return false;
  Accumulator acc;
  std::vector<NpyArray> sampleInputs, outputs;
  std::vector<double> got;
  for (size_t k = 0; k < s.samples.size(); ++k) {
    if (!s.samples.load(k, *s.floatModel, sampleInputs, err))
      return false;
    SmallVector<const NpyArray *> ptrs;
    for (int64_t m : map)
      ptrs.push_back(&sampleInputs[m]);
    if (!model->run(ptrs, outputs, err))
      return false;
    for (unsigned r = 0; r < s.floatOutputs[k].size(); ++r) {
      ExposedTensor plain;
      dequantize(plain, outputs[r], got);
      if (got.size() == s.floatOutputs[k][r].size())
        acc.add(s.floatOutputs[k][r], got);
    }
  }
  sqnr = acc.sqnrDb();
  return true;
}

static bool writeTable(const std::string &path,
                       ArrayRef<std::pair<std::string, std::string>> table,
                       const std::string &header, std::string &err) {
  std::error_code ec;
  raw_fd_ostream os(path, ec, sys::fs::OF_Text);
  if (ec) {
    err = "--suggest-pins " + path + ": cannot write: " + ec.message();
    return false;
  }
  os << header << "# op_name precision\n";
  for (auto &[op, precision] : table)
    os << op << " " << precision << "\n";
  return true;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  initModelTools();
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "qopt-compare: run a float and a quantized model on the same inputs "
      "and report, tensor by tensor in the model's names, where accuracy "
      "is lost\n");
  if (outputFormat != "text" && outputFormat != "json" && outputFormat != "csv")
    return fail("--format " + outputFormat + ": expected text, json or csv");
  bool suggesting = !suggestPins.empty();
  if (suggesting) {
    if (std::isnan(thresholdDb))
      return fail("--suggest-pins needs --threshold-db D (the output SQNR to "
                  "reach)");
    if (calibration.empty())
      return fail("--suggest-pins needs --calibration FILE (the calibration "
                  "the quantized model was made with), to re-quantize the "
                  "float model with the pins");
    if (pinPrecision != "f32" && pinPrecision != "bf16")
      return fail("--pin-precision " + pinPrecision + ": expected f32 or bf16");
  } else if (!std::isnan(thresholdDb)) {
    return fail("--threshold-db is only used with --suggest-pins FILE");
  }
  auto qoptions =
      mlir::qopt::QuantizeOptions::createFromString(quantizeOptions);
  if (!qoptions)
    return fail("--quantize-options '" + quantizeOptions +
                "': not options of qopt-quantize (see qopt "
                "--help: --qopt-quantize)");

  mlir::DialectRegistry registry = makeModelToolsRegistry();
  mlir::MLIRContext context(registry, mlir::MLIRContext::Threading::DISABLED);
  std::string err;
  Session s;
  s.context = &context;

  // The float model.
  mlir::OwningOpRef<mlir::ModuleOp> floatModule =
      readModule(context, floatFile, err);
  if (!floatModule)
    return fail(err);
  s.floatModel = CapturedModel::compile(std::move(floatModule), floatFile,
                                        CaptureSteps(), QOPT_LLVM_LIBDIR, err);
  if (!s.floatModel)
    return fail(err);
  StringSet<> floatNames;
  for (const ExposedTensor &t : s.floatModel->tensors())
    floatNames.insert(t.name);
  if (!s.samples.resolve(inputs, *s.floatModel, err))
    return fail(err);

  // The quantized model, and its own-SQNR twin.
  mlir::OwningOpRef<mlir::ModuleOp> quantModule =
      readModule(context, quantFile, err);
  if (!quantModule)
    return fail(err);
  if (!hasQuantTypes(*quantModule))
    return fail(quantFile +
                " holds no quantized types: give the model in QDQ form "
                "(`qopt " +
                floatFile +
                " --qopt-import-calibration=file=calib.json "
                "--qopt-legalize`), which qopt-compare compiles through the "
                "rest of qopt-quantize itself; after qopt-lower-quant the "
                "scales that dequantize its tensors are gone");
  mlir::OwningOpRef<mlir::ModuleOp> ownModule = quantModule->clone();
  unsigned cut = decouple(*ownModule, floatNames);
  CaptureSteps quantSteps;
  quantSteps.before =
      "qopt-quantize-kernels,qopt-fold-requant{fold-inexact-chains=" +
      std::string(qoptions->foldInexactChains ? "true" : "false") + "}";
  quantSteps.after =
      "qopt-lower-quant{requant-mode=" + qoptions->requantMode.getValue() + "}";
  std::unique_ptr<CapturedModel> quantModel = CapturedModel::compile(
      std::move(quantModule), quantFile, quantSteps, QOPT_LLVM_LIBDIR, err);
  if (!quantModel)
    return fail(err);
  std::unique_ptr<CapturedModel> ownModel;
  if (cut > 0) {
    ownModel = CapturedModel::compile(std::move(ownModule), quantFile,
                                      quantSteps, QOPT_LLVM_LIBDIR, err);
    if (!ownModel)
      return fail("compiling the own-SQNR program: " + err);
  }
  SmallVector<int64_t> quantMap, ownMap;
  if (!mapArgs(*quantModel, *s.floatModel, quantMap, err) ||
      (ownModel && !mapArgs(*ownModel, *s.floatModel, ownMap, err)))
    return fail(err);

  // Rows: the float model's tensors that the quantized model has too, in
  // the float model's order.
  std::vector<Row> rows;
  StringSet<> quantNames;
  auto indexOf = [](ArrayRef<ExposedTensor> ts,
                    StringRef name) -> std::optional<unsigned> {
    for (auto [i, t] : llvm::enumerate(ts))
      if (t.name == name)
        return i;
    return std::nullopt;
  };
  for (const ExposedTensor &t : quantModel->tensors())
    quantNames.insert(t.name);
  SmallVector<std::string> onlyFloat, onlyQuant;
  for (auto [i, t] : llvm::enumerate(s.floatModel->tensors())) {
    std::optional<unsigned> q = indexOf(quantModel->tensors(), t.name);
    if (!q) {
      onlyFloat.push_back(t.name);
      continue;
    }
    Row row;
    row.name = t.name;
    row.op = t.op;
    row.floatIndex = i;
    row.quantIndex = *q;
    if (ownModel)
      row.ownIndex = indexOf(ownModel->tensors(), t.name);
    rows.push_back(std::move(row));
  }
  for (const ExposedTensor &t : quantModel->tensors())
    if (!floatNames.contains(t.name))
      onlyQuant.push_back(t.name);
  auto listNames = [](ArrayRef<std::string> names) {
    std::string s;
    for (size_t i = 0; i < names.size() && i < 10; ++i)
      s += (i ? ", " : "") + names[i];
    if (names.size() > 10)
      s += ", ... (" + std::to_string(names.size() - 10) + " more)";
    return s;
  };
  if (!onlyFloat.empty() || !onlyQuant.empty()) {
    std::string message;
    if (!onlyFloat.empty())
      message += std::to_string(onlyFloat.size()) + " tensor(s) only in " +
                 floatFile + ": " + listNames(onlyFloat);
    if (!onlyQuant.empty())
      message += std::string(message.empty() ? "" : "; ") +
                 std::to_string(onlyQuant.size()) + " tensor(s) only in " +
                 quantFile + ": " + listNames(onlyQuant);
    // A module printed without --mlir-print-debuginfo has lost its
    // locations, and with them every name but the arguments'.
    if (llvm::all_of(quantModel->tensors(),
                     [](const ExposedTensor &t) { return t.op == "func.arg"; }))
      message += " (" + quantFile +
                 " names no tensor but its arguments: was it written "
                 "without --mlir-print-debuginfo? qopt drops locations, "
                 "which hold the names, unless it is given)";
    if (strictNames)
      return fail(message + " (--strict)");
    warn(message + "; they are not compared");
  }
  if (rows.empty())
    return fail(floatFile + " and " + quantFile +
                " have no tensor name in common; was the quantized model "
                "made from this float model?");

  // Run every sample.
  Accumulator output;
  std::vector<NpyArray> sampleInputs, floatOut, quantOut, ownOut;
  std::vector<double> ref, got;
  for (size_t k = 0; k < s.samples.size(); ++k) {
    if (!s.samples.load(k, *s.floatModel, sampleInputs, err))
      return fail(err);
    SmallVector<const NpyArray *> ptrs;
    for (const NpyArray &a : sampleInputs)
      ptrs.push_back(&a);
    if (!s.floatModel->run(ptrs, floatOut, err))
      return fail(err);
    auto feed = [&](ArrayRef<int64_t> map) {
      SmallVector<const NpyArray *> p;
      for (int64_t m : map)
        p.push_back(m >= 0 ? &sampleInputs[m]
                           : &floatOut[s.floatModel->tensors()[-1 - m].result]);
      return p;
    };
    if (!quantModel->run(feed(quantMap), quantOut, err))
      return fail(err);
    if (ownModel && !ownModel->run(feed(ownMap), ownOut, err))
      return fail(err);
    for (Row &row : rows) {
      const ExposedTensor &ft = s.floatModel->tensors()[row.floatIndex];
      const ExposedTensor &qt = quantModel->tensors()[row.quantIndex];
      const NpyArray &fa = floatOut[ft.result], &qa = quantOut[qt.result];
      if (fa.shape != qa.shape)
        return fail("tensor '" + row.name + "': shape " +
                    npyShapeString(fa.shape) + " in " + floatFile + " but " +
                    npyShapeString(qa.shape) + " in " + quantFile +
                    " (sample " + s.samples.describe(k) + ")");
      row.shape = fa.shape;
      dequantize(ft, fa, ref);
      dequantize(qt, qa, got);
      row.total.add(ref, got);
      if (row.ownIndex) {
        const ExposedTensor &ot = ownModel->tensors()[*row.ownIndex];
        if (ownOut[ot.result].shape == fa.shape) {
          dequantize(ot, ownOut[ot.result], got);
          row.own.add(ref, got);
        }
      }
    }
    // The entry's own results, end to end.
    std::vector<std::vector<double>> outs;
    unsigned n = std::min(s.floatModel->numOriginalResults(),
                          quantModel->numOriginalResults());
    for (unsigned r = 0; r < n; ++r) {
      ExposedTensor plain;
      dequantize(plain, floatOut[r], ref);
      dequantize(plain, quantOut[r], got);
      if (ref.size() == got.size() && floatOut[r].dtype[0] == 'f' &&
          quantOut[r].dtype[0] == 'f')
        output.add(ref, got);
      if (suggesting)
        outs.push_back(ref);
    }
    if (suggesting)
      s.floatOutputs.push_back(std::move(outs));
  }

  // Report.
  std::vector<const Row *> order;
  for (const Row &r : rows)
    order.push_back(&r);
  if (top > 0) {
    auto key = [](const Row *r) {
      return r->own.any ? r->own.sqnrDb() : r->total.sqnrDb();
    };
    // Worst first; ties keep graph order (rows are contiguous in `rows`).
    std::sort(order.begin(), order.end(), [&](const Row *a, const Row *b) {
      double ka = key(a), kb = key(b);
      return ka < kb || (ka == kb && a < b);
    });
    if (order.size() > top)
      order.resize(top);
  }
  std::error_code ec;
  ToolOutputFile out(outputFile, ec, sys::fs::OF_Text);
  if (ec)
    return fail("-o " + outputFile + ": cannot write: " + ec.message());
  raw_ostream &os = out.os();
  if (outputFormat == "csv") {
    os << "name,op,shape,sqnr_db,cosine,max_abs_err,own_sqnr_db\n";
    for (const Row *r : order) {
      std::string name = r->name;
      if (name.find_first_of(",\"\n") != std::string::npos) {
        std::string quoted = "\"";
        for (char c : name)
          quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
        name = quoted + "\"";
      }
      os << name << "," << r->op << "," << shapeText(r->shape, 'x') << ","
         << number(r->total.sqnrDb(), "%.6g") << ","
         << number(r->total.cosine(), "%.9g") << ","
         << number(r->total.maxAbs, "%.9g") << ","
         << (r->own.any ? number(r->own.sqnrDb(), "%.6g") : "") << "\n";
    }
  } else if (outputFormat == "json") {
    auto num = [](double v) -> json::Value {
      if (!std::isfinite(v))
        return nullptr;
      return v;
    };
    json::Array tensors;
    for (const Row *r : order) {
      json::Array shape;
      for (int64_t d : r->shape)
        shape.push_back(d);
      tensors.push_back(
          json::Object{{"name", r->name},
                       {"op", r->op},
                       {"shape", std::move(shape)},
                       {"sqnr_db", num(r->total.sqnrDb())},
                       {"cosine", num(r->total.cosine())},
                       {"max_abs_err", num(r->total.maxAbs)},
                       {"own_sqnr_db", r->own.any ? num(r->own.sqnrDb())
                                                  : json::Value(nullptr)}});
    }
    json::Object doc{{"float", floatFile},
                     {"quantized", quantFile},
                     {"samples", int64_t(s.samples.size())},
                     {"output_sqnr_db", num(output.sqnrDb())},
                     {"tensors", std::move(tensors)}};
    os << formatv("{0:2}", json::Value(std::move(doc))) << "\n";
  } else {
    size_t nameWidth = 4, opWidth = 2, shapeWidth = 5;
    for (const Row *r : order) {
      nameWidth = std::max(nameWidth, r->name.size());
      opWidth = std::max(opWidth, r->op.size());
      shapeWidth = std::max(shapeWidth, shapeText(r->shape, 'x').size());
    }
    auto pad = [](const std::string &t, size_t w) {
      return t + std::string(w > t.size() ? w - t.size() : 0, ' ');
    };
    os << pad("name", nameWidth) << "  " << pad("op", opWidth) << "  "
       << pad("shape", shapeWidth) << "  sqnr_db    cosine  max_abs_err  "
       << "own_sqnr_db\n";
    for (const Row *r : order) {
      char cols[128];
      snprintf(cols, sizeof(cols), "%7s  %8s  %11s  %11s",
               number(r->total.sqnrDb(), "%.2f").c_str(),
               number(r->total.cosine(), "%.6f").c_str(),
               number(r->total.maxAbs, "%.4g").c_str(),
               r->own.any ? number(r->own.sqnrDb(), "%.2f").c_str() : "-");
      os << pad(r->name, nameWidth) << "  " << pad(r->op, opWidth) << "  "
         << pad(shapeText(r->shape, 'x'), shapeWidth) << "  " << cols << "\n";
    }
    os << "output SQNR: " << number(output.sqnrDb(), "%.2f") << " dB over "
       << s.samples.size() << " sample(s); " << rows.size()
       << " tensors compared\n";
  }
  out.keep();
  if (!suggesting)
    return 0;
  out.os().flush();

  // --suggest-pins: the ops qopt-assign-precision decides, from an export
  // at the cheapest budget (integer wherever statistics allow).
  SmallVector<std::pair<std::string, std::string>> table;
  {
    SmallString<128> tmp;
    if (std::error_code e =
            sys::fs::createTemporaryFile("qopt-compare-ops", "txt", tmp))
      return fail("cannot create a temporary file: " + e.message());
    FileRemover remover(tmp);
    mlir::OwningOpRef<mlir::ModuleOp> module =
        readModule(context, floatFile, err);
    if (!module)
      return fail(err);
    std::string pipeline =
        "qopt-import-calibration{file=" + calibration.getValue() +
        "},qopt-assign-precision{budget=sqnr:-1000 "
        "export=" +
        tmp.str().str() + "}";
    if (!runPipeline(*module, pipeline, err))
      return fail("listing the ops qopt-assign-precision decides: " + err);
    auto buffer = MemoryBuffer::getFile(tmp);
    if (!buffer)
      return fail("cannot read " + tmp + ": " + buffer.getError().message());
    SmallVector<StringRef> lines;
    (*buffer)->getBuffer().split(lines, '\n');
    for (StringRef line : lines) {
      line = line.split('#').first.trim();
      if (line.empty())
        continue;
      auto [op, precision] = line.split(' ');
      // Integer where the cheapest choice is an integer one: the default
      // quantization; float where statistics are missing.
      std::string p =
          precision.trim() == "i8" || precision.trim() == "w4a8" ? "i8" : "f32";
      table.push_back({op.str(), p});
    }
  }
  // Order: worst own SQNR first. An op's figure is that of the first
  // compared tensor at or after its result (following single users through
  // elementwise ops such as the bias add and activation).
  std::vector<std::pair<double, size_t>> scored;
  {
    mlir::OwningOpRef<mlir::ModuleOp> module =
        readModule(context, floatFile, err);
    if (!module)
      return fail(err);
    StringMap<const Row *> rowOf;
    for (const Row &r : rows)
      rowOf[r.name] = &r;
    // The table names ops as qopt-assign-precision does (getOpName): a
    // folded convolution by the op name its location keeps.
    StringMap<mlir::Value> valueOf;
    mlir::qopt::forEachNamedValue(
        *module, [&](mlir::Value v, StringRef name) { valueOf[name] = v; });
    module->walk([&](mlir::Operation *op) {
      std::string name = mlir::qopt::getOpName(op);
      if (!name.empty())
        valueOf.try_emplace(name, op->getResult(0));
    });
    for (auto [i, entry] : llvm::enumerate(table)) {
      if (entry.second != "i8")
        continue;
      double score = INFINITY;
      auto it = valueOf.find(entry.first);
      mlir::Value v = it == valueOf.end() ? mlir::Value() : it->second;
      for (int hop = 0; v && hop < 4; ++hop) {
        std::string name = mlir::qopt::getTensorName(v);
        if (auto r = rowOf.find(name); r != rowOf.end()) {
          const Row *row = r->second;
          score = row->own.any ? row->own.sqnrDb() : row->total.sqnrDb();
          break;
        }
        if (!v.hasOneUse() || v.getUsers().begin()->getNumResults() != 1)
          break;
        v = v.getUsers().begin()->getResult(0);
      }
      scored.push_back({score, i});
    }
    // Worst first; ties keep the table's order.
    std::sort(scored.begin(), scored.end());
  }
  auto header = [&](double base, double now, unsigned pins) {
    std::string h = "# qopt-compare --suggest-pins: threshold " +
                    number(thresholdDb, "%.2f") + " dB; output SQNR " +
                    number(base, "%.2f") + " dB with no pin, " +
                    number(now, "%.2f") + " dB with " + std::to_string(pins) +
                    " op(s) pinned to " + pinPrecision.getValue() + "\n";
    h += "# apply: qopt-quantize=\"calibration=" + calibration.getValue() +
         " budget=cost:1000 precision-table=" + suggestPins.getValue() +
         (quantizeOptions.empty() ? "" : " " + quantizeOptions.getValue()) +
         "\"\n";
    return h;
  };
  double base;
  if (!writeTable(suggestPins, table, header(NAN, NAN, 0), err) ||
      !measureWithPins(s, suggestPins, quantizeOptions, base, err))
    return fail("--suggest-pins: " + err);
  errs() << "qopt-compare: output SQNR with no pin: " << number(base, "%.2f")
         << " dB\n";
  // The re-quantized baseline should be the model given; it is not when
  // qopt-assign-precision decides ops the table cannot name (they have no
  // tensor name) or the quantized model was made with other options.
  if (std::fabs(base - output.sqnrDb()) > 1.0)
    warn("re-quantized with the table and no pin, the model's output SQNR "
         "is " +
         number(base, "%.2f") + " dB, but " + quantFile + "'s is " +
         number(output.sqnrDb(), "%.2f") +
         " dB: the pins are measured against the former (ops without a "
         "tensor name cannot be pinned and are chosen by "
         "qopt-assign-precision; see docs/qopt-compare.md)");
  double now = base;
  unsigned pinned = 0;
  for (auto &[score, i] : scored) {
    if (now >= thresholdDb || pinned >= maxPins)
      break;
    table[i].second = pinPrecision;
    ++pinned;
    if (!writeTable(suggestPins, table, header(base, NAN, pinned), err) ||
        !measureWithPins(s, suggestPins, quantizeOptions, now, err))
      return fail("--suggest-pins: " + err);
    errs() << "qopt-compare: pinned " << table[i].first << " to "
           << pinPrecision << " (own SQNR " << number(score, "%.2f")
           << " dB): output SQNR " << number(now, "%.2f") << " dB\n";
  }
  if (!writeTable(suggestPins, table, header(base, now, pinned), err))
    return fail(err);
  if (now < thresholdDb)
    warn("output SQNR " + number(now, "%.2f") + " dB is below --threshold-db " +
         number(thresholdDb, "%.2f") + " with " + std::to_string(pinned) +
         " op(s) pinned" + (pinned >= maxPins ? " (--max-pins reached)" : "") +
         "; " + suggestPins + " holds the best table found");
  return 0;
}
