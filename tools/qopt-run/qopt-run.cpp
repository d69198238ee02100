//===- qopt-run.cpp - run models on the host CPU ----------------*- C++ -*-===//
//
// `qopt-run` executes models on the CPU through MLIR's JIT. Four modes:
//
// Lowered-module mode (RunLowered.cpp; docs/qopt-run.md) runs what
// `qopt --qopt-lower-cpu` produced:
//
//   qopt-run FILE.mlir --entry NAME --input a.npy [--input b.npy ...]
//            --output y.npy [--output ...] [--repeat N] [--time]
//   qopt-run FILE.mlir --emit-object FILE.o
//
// It JIT-compiles the LLVM-dialect module at -O3 for this machine, checks
// each .npy input's dtype and shape against the entry's source signature
// (`qopt.signature`), calls `_mlir_ciface_NAME` and writes the results as
// .npy. With --time it prints `time: median 1.234 ms over N calls`: the
// median wall time of one call over the --repeat calls (3 decimals, or 3
// significant digits below 1 ms), inputs copied in and results freed outside
// the timed region. --emit-object writes a position-independent object file
// for the module's triple and CPU whose `_mlir_ciface_NAME` functions a C
// program calls with memref descriptors.
//
// Quantized-module mode (`FILE.mlir --report-perf`) prints qopt-report-perf's
// report of a module before lowering (the integer form after
// qopt-fold-requant); with --entry or --emit-object it then lowers the
// module (qopt-lower-quant, qopt-lower-cpu{cpu=host}) and goes on as the
// lowered-module mode.
//
// The two ONNX modes lower linalg on tensors with upstream one-shot
// bufferization and linalg-to-loops (quant ops with a round-half-even,
// saturating lowering that matches ONNX Runtime), JIT-compile, run and
// compare the outputs with reference values.
//
// Batch mode (`--onnx-backend-test DIR...`) runs ONNX backend test
// directories (model.onnx + test_data_set_*/{input,output}_*.pb) in one
// process, forking one child per test so a crash or a hang is reported as
// that test's failure, and prints one line per test:
//
//   PASS|FAIL|SKIP <dir> [Op,Op,...] <reason>
//
// Scale and zero-point inputs that the importer requires to be constants
// are frozen to the test's data (reported as "(frozen: name)").
//
// Model mode (`--model m.onnx --input a.npy ... --output-dir DIR`) runs one
// model on .npy inputs (their shapes fix the model's symbolic dimensions)
// and writes DIR/output_K.npy, printing the import, compile and run times;
// tests and benchmarks compare those files with ONNX Runtime's. `--passes`
// runs a pipeline (e.g. qopt-fold-batchnorm) on the imported module first.
//
//===----------------------------------------------------------------------===//

#include "../../lib/Target/ONNX/Importer.h"
#include "Npy.h"
#include "RunLowered.h"
#include "qopt/Conversion/Passes.h"
#include "qopt/InitAll.h"
#include "qopt/Pipelines/LowerCPUPipeline.h"
#include "qopt/Target/ONNX/ImportONNX.h"
#include "qopt/Transforms/LowerDynamicQuantize.h"
#include "qopt/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <fstream>
#include <malloc.h>
#include <map>
#include <set>
#include <sys/wait.h>
#include <unistd.h>

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::onnx_import;
namespace cl = llvm::cl;

static cl::list<std::string> testDirs("onnx-backend-test",
                                      cl::desc("ONNX backend test directory "
                                               "(repeatable)"),
                                      cl::value_desc("dir"));
static cl::opt<std::string>
    listFile("test-list",
             cl::desc("File with one ONNX backend test directory per line"),
             cl::init(""));
static cl::opt<unsigned> jobs("j", cl::desc("Tests run in parallel"),
                              cl::init(1));
static cl::opt<double> rtol("rtol", cl::desc("Relative tolerance (floats)"),
                            cl::init(1e-3));
static cl::opt<double> absTol("atol", cl::desc("Absolute tolerance (floats)"),
                              cl::init(1e-7));
static cl::opt<int64_t> intTolerance(
    "int-tolerance",
    cl::desc("Largest accepted difference of integer outputs (LSBs)"),
    cl::init(0));
static cl::opt<unsigned> optLevel("O", cl::desc("JIT optimization level"),
                                  cl::init(0));
static cl::opt<unsigned> timeoutSec("timeout",
                                    cl::desc("Seconds per test before it is "
                                             "failed"),
                                    cl::init(120));
static cl::opt<bool> printTimes("print-times",
                                cl::desc("Append import/compile/run times"),
                                cl::init(false));
static cl::opt<std::string>
    modelFile("model", cl::desc("Run this ONNX model on --input .npy files"),
              cl::init(""));
static cl::list<std::string>
    npyInputs("input",
              cl::desc(".npy file for the next graph input (model mode; "
                       "in the order of the graph inputs that are not "
                       "initializers) or entry argument (lowered-module "
                       "mode)"),
              cl::value_desc("file.npy"));
static cl::opt<std::string>
    outputDir("output-dir",
              cl::desc("Model mode: write output_K.npy files here"),
              cl::init(""));
static cl::opt<std::string>
    passPipeline("passes",
                 cl::desc("Model mode: a pass pipeline (qopt's transforms "
                          "and upstream passes) to run on the imported "
                          "module before lowering, e.g. qopt-fold-batchnorm"),
                 cl::init(""));
static cl::opt<unsigned>
    repeatRuns("repeat",
               cl::desc("Run the model (model mode; the run time printed is "
                        "the fastest) or call the entry (lowered-module "
                        "mode; --time prints the median) this many times"),
               cl::init(1));
static cl::opt<std::string>
    loweredFile(cl::Positional,
                cl::desc("[lowered.mlir: a module lowered by qopt-lower-cpu]"),
                cl::init(""));
static cl::opt<std::string>
    entryName("entry",
              cl::desc("Lowered-module mode: the public function to call"),
              cl::value_desc("name"), cl::init(""));
static cl::list<std::string>
    npyOutputs("output",
               cl::desc("Lowered-module mode: .npy file for the next result "
                        "(one per result, in order)"),
               cl::value_desc("file.npy"));
static cl::opt<bool>
    timeCalls("time",
              cl::desc("Lowered-module mode: print `time: median X ms over N "
                       "calls` for the --repeat calls"),
              cl::init(false));
static cl::opt<std::string> objectFile(
    "emit-object",
    cl::desc("Lowered-module mode: write the module as an object file whose "
             "_mlir_ciface_NAME functions a C program can call"),
    cl::value_desc("file.o"), cl::init(""));
static cl::opt<bool> reportPerf(
    "report-perf",
    cl::desc("Quantized-module mode: FILE.mlir is a quantized module before "
             "lowering (the output of qopt-fold-requant); print "
             "qopt-report-perf's report of it on stderr, then, with --entry "
             "or --emit-object, lower it (qopt-lower-quant, "
             "qopt-lower-cpu{cpu=host}) and run it as a lowered module"),
    cl::init(false));
static cl::opt<std::string>
    reportFormat("report-format",
                 cl::desc("--report-perf: report format, text or json"),
                 cl::init("text"));
static cl::opt<std::string>
    reportTarget("report-target",
                 cl::desc("--report-perf: cost table and lowering, x86_64 or "
                          "aarch64"),
                 cl::init("x86_64"));
static cl::opt<double> reportThreshold(
    "report-threshold",
    cl::desc("--report-perf: warn when int8 time / f32 time is above this"),
    cl::init(0.7));
static cl::opt<bool> noFork("no-fork",
                            cl::desc("Run tests in this process (debugging)"),
                            cl::init(false));

//===----------------------------------------------------------------------===//
// Quant ops -> arith, for execution.
//===----------------------------------------------------------------------===//

/// Per-element scale / zero point of a quantized type, as constants indexed
/// along the quantized axis (or scalars).
struct QuantInfo {
  SmallVector<double> scales;
  SmallVector<int64_t> zps;
  int32_t axis = -1;
  int64_t qmin, qmax;
  bool isSigned;
  Type storage;
};

static QuantInfo getInfo(quant::QuantizedType q) {
  QuantInfo info;
  info.qmin = q.getStorageTypeMin();
  info.qmax = q.getStorageTypeMax();
  info.isSigned = q.isSigned();
  info.storage = q.getStorageType();
  if (auto u = dyn_cast<quant::UniformQuantizedType>(q)) {
    info.scales.push_back(u.getScale());
    info.zps.push_back(u.getZeroPoint());
  } else {
    auto p = cast<quant::UniformQuantizedPerAxisType>(q);
    info.scales.assign(p.getScales().begin(), p.getScales().end());
    info.zps.assign(p.getZeroPoints().begin(), p.getZeroPoints().end());
    info.axis = p.getQuantizedDimension();
  }
  return info;
}

/// Rewrites quant.qcast / dcast / scast in `func` into linalg.generic on
/// storage integers: q = clamp(roundeven(x / s) + zp), x = (q - zp) * s, as
/// ONNX Runtime computes them; qopt.dynamic_quantize gets qopt's lowering.
static void lowerQuantOps(func::FuncOp func) {
  OpBuilder b(func.getContext());
  // DynamicQuantizeLinear (imported as qopt.dynamic_quantize): qopt's own
  // lowering, ONNX Runtime's rule.
  SmallVector<qopt::DynamicQuantizeOp> dynamicOps;
  func.walk([&](qopt::DynamicQuantizeOp op) { dynamicOps.push_back(op); });
  for (qopt::DynamicQuantizeOp op : dynamicOps)
    (void)lowerDynamicQuantize(b, op);
  llvm::DenseMap<Value, Value> storage;
  SmallVector<Operation *> dead;
  auto generic = [&](Location loc, Value in, const QuantInfo &info,
                     Type outElem, bool quantize) -> Value {
    auto type = cast<RankedTensorType>(in.getType());
    int64_t rank = type.getRank();
    MLIRContext *ctx = b.getContext();
    Type f32 = b.getF32Type();
    int64_t n = info.scales.size();
    auto vecType = RankedTensorType::get({n}, f32);
    SmallVector<float> sc(info.scales.begin(), info.scales.end());
    SmallVector<float> zp(info.zps.begin(), info.zps.end());
    Value scales = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vecType, ArrayRef<float>(sc)));
    Value zps = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vecType, ArrayRef<float>(zp)));
    AffineExpr idx = info.axis >= 0 ? getAffineDimExpr(info.axis, ctx)
                                    : getAffineConstantExpr(0, ctx);
    AffineMap pm = AffineMap::get(rank, 0, idx);
    AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
    Value init = tensor::EmptyOp::create(b, loc, type.getShape(), outElem);
    return linalg::GenericOp::create(
               b, loc, TypeRange{init.getType()}, ValueRange{in, scales, zps},
               ValueRange{init}, SmallVector<AffineMap>{id, pm, pm, id},
               SmallVector<utils::IteratorType>(rank,
                                                utils::IteratorType::parallel),
               [&](OpBuilder &nb, Location l, ValueRange a) {
                 Value r;
                 if (quantize) {
                   Value v = arith::DivFOp::create(nb, l, a[0], a[1]);
                   v = math::RoundEvenOp::create(nb, l, v);
                   v = arith::AddFOp::create(nb, l, v, a[2]);
                   Value lo = arith::ConstantOp::create(
                       nb, l, nb.getF32FloatAttr(info.qmin));
                   Value hi = arith::ConstantOp::create(
                       nb, l, nb.getF32FloatAttr(info.qmax));
                   v = arith::MaximumFOp::create(nb, l, v, lo);
                   v = arith::MinimumFOp::create(nb, l, v, hi);
                   r = info.isSigned
                           ? (Value)arith::FPToSIOp::create(nb, l, outElem, v)
                           : (Value)arith::FPToUIOp::create(nb, l, outElem, v);
                 } else {
                   // (q - zp) * s, the subtraction exact in i64.
                   Type i64 = nb.getI64Type();
                   Value q = a[0];
                   if (q.getType() != i64)
                     q = info.isSigned
                             ? (Value)arith::ExtSIOp::create(nb, l, i64, q)
                             : (Value)arith::ExtUIOp::create(nb, l, i64, q);
                   Value z = arith::FPToSIOp::create(nb, l, i64, a[2]);
                   Value d = arith::SubIOp::create(nb, l, q, z);
                   Value f = arith::SIToFPOp::create(nb, l, outElem, d);
                   r = arith::MulFOp::create(nb, l, f, a[1]);
                 }
                 linalg::YieldOp::create(nb, l, r);
               })
        .getResult(0);
  };
  func.walk([&](Operation *op) {
    b.setInsertionPoint(op);
    if (auto q = dyn_cast<quant::QuantizeCastOp>(op)) {
      auto rt = cast<RankedTensorType>(q.getType());
      QuantInfo info = getInfo(cast<quant::QuantizedType>(rt.getElementType()));
      storage[q.getResult()] =
          generic(q.getLoc(), q.getInput(), info, info.storage, true);
      dead.push_back(op);
    } else if (auto s = dyn_cast<quant::StorageCastOp>(op)) {
      auto rt = cast<RankedTensorType>(s.getType());
      if (isa<quant::QuantizedType>(rt.getElementType()))
        storage[s.getResult()] = s.getInput();
      else
        s.getResult().replaceAllUsesWith(storage.lookup(s.getInput()));
      dead.push_back(op);
    } else if (auto d = dyn_cast<quant::DequantizeCastOp>(op)) {
      auto at = cast<RankedTensorType>(d.getInput().getType());
      QuantInfo info = getInfo(cast<quant::QuantizedType>(at.getElementType()));
      Value r =
          generic(d.getLoc(), storage.lookup(d.getInput()), info,
                  cast<RankedTensorType>(d.getType()).getElementType(), false);
      d.getResult().replaceAllUsesWith(r);
      dead.push_back(op);
    }
  });
  for (Operation *op : llvm::reverse(dead))
    op->erase();
}

//===----------------------------------------------------------------------===//
// Running one test.
//===----------------------------------------------------------------------===//

struct DataSet {
  std::vector<HostTensor> inputs, outputs;
};

static bool readTensorFile(const std::string &path, HostTensor &t,
                           std::string &err) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    err = "cannot read " + path;
    return false;
  }
  onnx::TensorProto proto;
  if (!proto.ParseFromIstream(&in)) {
    err = "cannot parse " + path;
    return false;
  }
  FailureOr<HostTensor> d = decodeTensor(proto, err);
  if (failed(d)) {
    err = path + ": tensor " + err;
    return false;
  }
  t = std::move(*d);
  return true;
}

static std::vector<DataSet> readDataSets(const std::string &dir,
                                         std::string &err) {
  std::vector<DataSet> sets;
  for (int k = 0;; ++k) {
    std::string sd = dir + "/test_data_set_" + std::to_string(k);
    if (!llvm::sys::fs::is_directory(sd))
      break;
    // Reads <sd>/<prefix>_0.pb, <prefix>_1.pb, ... until one is missing.
    auto readNumbered = [&](StringRef prefix,
                            std::vector<HostTensor> &into) -> bool {
      for (int i = 0;; ++i) {
        std::string p =
            sd + "/" + prefix.str() + "_" + std::to_string(i) + ".pb";
        if (!llvm::sys::fs::exists(p))
          return true;
        HostTensor t;
        if (!readTensorFile(p, t, err))
          return false;
        into.push_back(std::move(t));
      }
    };
    DataSet ds;
    if (!readNumbered("input", ds.inputs) ||
        !readNumbered("output", ds.outputs))
      return {};
    sets.push_back(std::move(ds));
  }
  return sets;
}

static std::string shapeStr(ArrayRef<int64_t> s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i)
    out += (i ? "," : "") + std::to_string(s[i]);
  return out + "]";
}

/// Compares `got` with `want`; returns "" when they agree.
static std::string compare(const HostTensor &got, const HostTensor &want,
                           unsigned index, int64_t &oneLsb) {
  std::string name = "output " + std::to_string(index);
  if (got.shape != want.shape)
    return name + " has shape " + shapeStr(got.shape) + ", expected " +
           shapeStr(want.shape);
  int64_t n = want.numel();
  if (want.isFloat()) {
    double worst = 0;
    int64_t bad = 0, first = -1;
    for (int64_t i = 0; i < n; ++i) {
      double g = got.getDouble(i), w = want.getDouble(i);
      if (std::isnan(g) && std::isnan(w))
        continue;
      if (g == w)
        continue;
      double err = std::fabs(g - w);
      if (!(err <= absTol + rtol * std::fabs(w))) {
        if (first < 0)
          first = i;
        ++bad;
        worst = std::max(worst, std::isnan(err) ? INFINITY : err);
      }
    }
    if (bad) {
      std::string s;
      llvm::raw_string_ostream os(s);
      os << name << ": " << bad << " of " << n
         << " elements outside tolerance (first at " << first << ": got "
         << got.getDouble(first) << ", expected " << want.getDouble(first)
         << "; max abs error " << worst << ")";
      return s;
    }
    return "";
  }
  int64_t bad = 0, first = -1, worst = 0;
  for (int64_t i = 0; i < n; ++i) {
    int64_t d = std::llabs(got.getInt(i) - want.getInt(i));
    if (d == 1)
      ++oneLsb;
    if (d > intTolerance) {
      if (first < 0)
        first = i;
      ++bad;
    }
    worst = std::max(worst, d);
  }
  if (bad)
    return name + ": " + std::to_string(bad) + " of " + std::to_string(n) +
           " integers differ (first at " + std::to_string(first) + ": got " +
           std::to_string(got.getInt(first)) + ", expected " +
           std::to_string(want.getInt(first)) + "; max difference " +
           std::to_string(worst) + ")";
  return "";
}

/// Lowers the one function of `module` (renamed `qopt_entry`) to LLVM and
/// JIT-compiles it. Returns an error message, or "" on success.
static std::string compileModule(ModuleOp module, std::string &diag,
                                 FunctionType &ftype,
                                 std::unique_ptr<ExecutionEngine> &engine) {
  auto funcs = module.getOps<func::FuncOp>();
  if (std::distance(funcs.begin(), funcs.end()) != 1)
    return "expected one function";
  func::FuncOp func = *funcs.begin();
  func.setName("qopt_entry");
  ftype = func.getFunctionType();
  lowerQuantOps(func);
  PassManager pm(module.getContext());
  if (failed(parsePassPipeline(
          // Weight-only matmuls (MatMulNBits) have only the CPU kernel.
          "func.func(qopt-cpu-matmul-nbits),"
          "one-shot-bufferize{bufferize-function-boundaries "
          "function-boundary-type-conversion=identity-layout-map},"
          "buffer-results-to-out-params{modify-public-functions "
          "hoist-static-allocs},"
          "func.func(convert-linalg-to-loops),"
          "convert-vector-to-llvm,"
          "convert-math-to-libm,expand-strided-metadata,lower-affine,"
          "convert-scf-to-cf,finalize-memref-to-llvm,convert-to-llvm,"
          "reconcile-unrealized-casts",
          pm)))
    return "bad pipeline";
  diag.clear();
  if (failed(pm.run(module)))
    return "lowering failed: " + diag.substr(0, diag.find('\n'));
  ExecutionEngineOptions eo;
  // memref.copy of non-contiguous views calls memrefCopy.
  static const std::string runnerUtils =
      std::string(QOPT_LLVM_LIBDIR) + "/libmlir_c_runner_utils.so";
  SmallVector<StringRef> libs = {runnerUtils};
  eo.sharedLibPaths = libs;
  auto transformer = makeOptimizingTransformer(optLevel, 0, nullptr);
  eo.transformer = transformer;
  eo.jitCodeGenOptLevel = optLevel == 0 ? llvm::CodeGenOptLevel::None
                                        : llvm::CodeGenOptLevel::Default;
  auto created = ExecutionEngine::create(module, eo);
  if (!created)
    return "JIT failed: " + llvm::toString(created.takeError());
  engine = std::move(*created);
  return "";
}

/// Calls the compiled `qopt_entry` on `inputs` and returns its results with
/// the ONNX element types `outTypes`. Returns an error message, or "" on
/// success; `badInput` tells that an input's shape does not fit the model.
static std::string invokeEntry(ExecutionEngine &engine, FunctionType ftype,
                               ArrayRef<const HostTensor *> inputs,
                               ArrayRef<int32_t> outTypes,
                               std::vector<HostTensor> &results,
                               bool &badInput) {
  // Every memref is passed as its expanded descriptor fields.
  struct Buffer {
    std::vector<char> data;
    std::vector<int64_t> desc;
  };
  auto makeBuffer = [](RankedTensorType type, Buffer &buf) {
    int64_t rank = type.getRank();
    buf.desc.assign(3 + 2 * rank, 0);
    void *p = buf.data.empty() ? (void *)&buf.desc[0] : buf.data.data();
    std::memcpy(&buf.desc[0], &p, sizeof(void *));
    std::memcpy(&buf.desc[1], &p, sizeof(void *));
    int64_t stride = 1;
    for (int64_t i = rank - 1; i >= 0; --i) {
      buf.desc[3 + i] = type.getDimSize(i);
      buf.desc[3 + rank + i] = stride;
      stride *= type.getDimSize(i);
    }
  };
  badInput = false;
  if (inputs.size() != ftype.getNumInputs()) {
    badInput = true;
    return "got " + std::to_string(inputs.size()) + " inputs for " +
           std::to_string(ftype.getNumInputs()) + " model inputs";
  }
  std::vector<Buffer> buffers(ftype.getNumInputs() + ftype.getNumResults());
  for (unsigned i = 0; i < ftype.getNumInputs(); ++i) {
    auto type = cast<RankedTensorType>(ftype.getInput(i));
    const HostTensor &t = *inputs[i];
    if (ArrayRef<int64_t>(t.shape) != type.getShape()) {
      badInput = true;
      return "input " + std::to_string(i) + " has shape " + shapeStr(t.shape) +
             " but the model expects " + shapeStr(type.getShape());
    }
    buffers[i].data = t.data;
    makeBuffer(type, buffers[i]);
  }
  for (unsigned r = 0; r < ftype.getNumResults(); ++r) {
    auto type = cast<RankedTensorType>(ftype.getResult(r));
    Buffer &buf = buffers[ftype.getNumInputs() + r];
    buf.data.assign(
        type.getNumElements() * HostTensor::elementSize(outTypes[r]), 0);
    makeBuffer(type, buf);
  }
  SmallVector<void *> args;
  for (Buffer &buf : buffers)
    for (int64_t &f : buf.desc)
      args.push_back(&f);
  if (llvm::Error e = engine.invokePacked("qopt_entry", args))
    return "invocation failed: " + llvm::toString(std::move(e));
  results.clear();
  for (unsigned r = 0; r < ftype.getNumResults(); ++r) {
    auto type = cast<RankedTensorType>(ftype.getResult(r));
    HostTensor got;
    got.dtype = outTypes[r];
    got.shape.assign(type.getShape().begin(), type.getShape().end());
    got.data = std::move(buffers[ftype.getNumInputs() + r].data);
    results.push_back(std::move(got));
  }
  return "";
}

struct Outcome {
  std::string status = "FAIL";
  std::string reason;
  double importMs = 0, compileMs = 0, runMs = 0;
  int64_t oneLsb = 0;
};

static double msSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - t0)
      .count();
}

/// The graph inputs that are not initializers, in order: what a test data set
/// or the user feeds.
static std::vector<std::string> graphFeeds(const onnx::ModelProto &proto) {
  std::set<std::string> inits;
  for (const auto &t : proto.graph().initializer())
    inits.insert(t.name());
  std::vector<std::string> feeds;
  for (const auto &vi : proto.graph().input())
    if (!inits.count(vi.name()))
      feeds.push_back(vi.name());
  return feeds;
}

static Outcome runTest(const std::string &dir, DialectRegistry &registry) {
  Outcome out;
  std::string model = dir + "/model.onnx";
  std::string err;
  std::vector<DataSet> sets = readDataSets(dir, err);
  if (!err.empty()) {
    out.status = "SKIP";
    out.reason = "test data: " + err;
    return out;
  }
  if (sets.empty()) {
    out.status = "SKIP";
    out.reason = "no test data";
    return out;
  }
  onnx::ModelProto proto;
  {
    std::ifstream in(model, std::ios::binary);
    if (!in || !proto.ParseFromIstream(&in)) {
      out.status = "SKIP";
      out.reason = "model.onnx does not parse";
      return out;
    }
  }
  MLIRContext ctx(registry, MLIRContext::Threading::DISABLED);
  std::string diag;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
    if (d.getSeverity() == DiagnosticSeverity::Error && diag.empty())
      diag = d.str();
    return success();
  });
  std::vector<std::string> feeds = graphFeeds(proto);
  std::set<std::string> frozen;
  OwningOpRef<ModuleOp> module;
  auto t0 = std::chrono::steady_clock::now();
  for (int attempt = 0; attempt < 16; ++attempt) {
    diag.clear();
    std::string bytes;
    proto.SerializeToString(&bytes);
    auto buffer = llvm::MemoryBuffer::getMemBuffer(bytes, model, false);
    ONNXImportOptions options;
    options.resourceThresholdBytes = -1;
    module = importONNX(buffer->getMemBufferRef(), &ctx, options);
    if (module)
      break;
    // "... ('name') must be a constant": freeze that input to the test data.
    size_t at = diag.find("') must be a constant");
    size_t open = at == std::string::npos ? at : diag.rfind("('", at);
    if (open == std::string::npos)
      break;
    std::string name = diag.substr(open + 2, at - open - 2);
    auto it = std::find(feeds.begin(), feeds.end(), name);
    if (it == feeds.end() || frozen.count(name))
      break;
    size_t k = it - feeds.begin();
    if (k >= sets[0].inputs.size())
      break;
    std::string perr;
    onnx::TensorProto tp;
    std::ifstream in(dir + "/test_data_set_0/input_" + std::to_string(k) +
                         ".pb",
                     std::ios::binary);
    if (!tp.ParseFromIstream(&in))
      break;
    tp.set_name(name);
    *proto.mutable_graph()->add_initializer() = tp;
    frozen.insert(name);
  }
  out.importMs = msSince(t0);
  if (!module) {
    out.status = "SKIP";
    out.reason = diag.substr(0, diag.find('\n'));
    return out;
  }
  // Only data set 0 matches frozen inputs.
  if (!frozen.empty())
    sets.resize(1);
  std::vector<size_t> feedIndex;
  for (size_t k = 0; k < feeds.size(); ++k)
    if (!frozen.count(feeds[k]))
      feedIndex.push_back(k);

  t0 = std::chrono::steady_clock::now();
  FunctionType ftype;
  std::unique_ptr<ExecutionEngine> engine;
  out.reason = compileModule(*module, diag, ftype, engine);
  if (!out.reason.empty())
    return out;
  out.compileMs = msSince(t0);

  const auto &graphOutputs = proto.graph().output();
  t0 = std::chrono::steady_clock::now();
  for (size_t si = 0; si < sets.size(); ++si) {
    DataSet &ds = sets[si];
    if (ds.inputs.size() != feeds.size()) {
      out.reason = "test data has " + std::to_string(ds.inputs.size()) +
                   " inputs for " + std::to_string(feeds.size()) +
                   " graph inputs";
      return out;
    }
    if (ds.outputs.size() != ftype.getNumResults()) {
      out.reason = "test data has " + std::to_string(ds.outputs.size()) +
                   " outputs for " + std::to_string(ftype.getNumResults()) +
                   " graph outputs";
      return out;
    }
    std::vector<const HostTensor *> inputs;
    for (size_t k : feedIndex)
      inputs.push_back(&ds.inputs[k]);
    std::vector<int32_t> outTypes;
    for (unsigned r = 0; r < ftype.getNumResults(); ++r) {
      int32_t dt = graphOutputs[r].type().tensor_type().elem_type();
      outTypes.push_back(dt ? dt : ds.outputs[r].dtype);
    }
    std::vector<HostTensor> results;
    bool badInput = false;
    out.reason =
        invokeEntry(*engine, ftype, inputs, outTypes, results, badInput);
    if (!out.reason.empty()) {
      if (badInput) {
        out.status = "SKIP";
        out.reason = "the test data contradicts the model: " + out.reason;
      }
      return out;
    }
    for (unsigned r = 0; r < ftype.getNumResults(); ++r) {
      std::string mismatch = compare(results[r], ds.outputs[r], r, out.oneLsb);
      if (!mismatch.empty()) {
        out.reason = "data set " + std::to_string(si) + ": " + mismatch;
        return out;
      }
    }
  }
  out.runMs = msSince(t0);
  out.status = "PASS";
  if (!frozen.empty()) {
    out.reason = "(frozen:";
    for (const std::string &f : frozen)
      out.reason += " " + f;
    out.reason += ")";
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Model mode: .npy in, .npy out.
//===----------------------------------------------------------------------===//

/// The .npy type code of each ONNX element type qopt-run exchanges.
static const std::pair<int32_t, const char *> kNpyTypes[] = {
    {onnx::TensorProto_DataType_FLOAT, "f4"},
    {onnx::TensorProto_DataType_DOUBLE, "f8"},
    {onnx::TensorProto_DataType_FLOAT16, "f2"},
    {onnx::TensorProto_DataType_INT8, "i1"},
    {onnx::TensorProto_DataType_UINT8, "u1"},
    {onnx::TensorProto_DataType_INT16, "i2"},
    {onnx::TensorProto_DataType_UINT16, "u2"},
    {onnx::TensorProto_DataType_INT32, "i4"},
    {onnx::TensorProto_DataType_UINT32, "u4"},
    {onnx::TensorProto_DataType_INT64, "i8"},
    {onnx::TensorProto_DataType_UINT64, "u8"},
    {onnx::TensorProto_DataType_BOOL, "b1"},
};

/// Reads a .npy file into a HostTensor.
static bool readNpy(const std::string &path, HostTensor &t, std::string &err) {
  qopt_run::NpyArray array;
  if (!qopt_run::readNpy(path, array, err))
    return false;
  t.dtype = 0;
  for (auto [dtype, code] : kNpyTypes)
    if (array.dtype == code)
      t.dtype = dtype;
  t.shape = array.shape;
  t.data = std::move(array.data);
  return true;
}

/// Writes `t` as a .npy file.
static bool writeNpy(const std::string &path, const HostTensor &t,
                     std::string &err) {
  qopt_run::NpyArray array;
  for (auto [dtype, code] : kNpyTypes)
    if (dtype == t.dtype)
      array.dtype = code;
  if (array.dtype.empty()) {
    err = path + ": element type " + typeName(t.dtype) +
          " has no .npy equivalent here";
    return false;
  }
  array.shape = t.shape;
  array.data = t.data;
  return qopt_run::writeNpy(path, array, err);
}

/// Runs `--model` on the `--input` files and writes `--output-dir`. Prints
/// one line per output and the times; returns the process exit code.
static int runModel(DialectRegistry &registry) {
  auto fail = [](const std::string &msg) {
    llvm::errs() << "qopt-run: " << msg << "\n";
    return 1;
  };
  onnx::ModelProto proto;
  {
    std::ifstream in(modelFile, std::ios::binary);
    if (!in || !proto.ParseFromIstream(&in))
      return fail("cannot read ONNX model " + modelFile);
  }
  std::vector<std::string> feeds = graphFeeds(proto);
  if (npyInputs.size() != feeds.size())
    return fail("the model has " + std::to_string(feeds.size()) +
                " inputs; give one --input FILE.npy for each");
  std::vector<HostTensor> inputs(feeds.size());
  ONNXImportOptions options;
  options.resourceThresholdBytes = -1;
  for (size_t i = 0; i < feeds.size(); ++i) {
    std::string err;
    if (!readNpy(npyInputs[i], inputs[i], err))
      return fail(err);
    options.inputShapes[feeds[i]] = inputs[i].shape;
  }

  MLIRContext ctx(registry, MLIRContext::Threading::DISABLED);
  std::string diag;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
    if (d.getSeverity() == DiagnosticSeverity::Error && diag.empty())
      diag = d.str();
    return success();
  });
  auto t0 = std::chrono::steady_clock::now();
  OwningOpRef<ModuleOp> module = importONNXFile(modelFile, &ctx, options);
  double importMs = msSince(t0);
  if (!module)
    return fail("import failed: " + diag);
  t0 = std::chrono::steady_clock::now();
  if (!passPipeline.empty()) {
    PassManager pm(&ctx);
    if (failed(parsePassPipeline(passPipeline, pm)))
      return fail("bad --passes pipeline '" + passPipeline + "'");
    diag.clear();
    if (failed(pm.run(*module)))
      return fail("--passes failed: " + diag);
  }
  FunctionType ftype;
  std::unique_ptr<ExecutionEngine> engine;
  std::string err = compileModule(*module, diag, ftype, engine);
  if (!err.empty())
    return fail(err);
  double compileMs = msSince(t0);

  std::vector<const HostTensor *> inputPtrs;
  for (const HostTensor &t : inputs)
    inputPtrs.push_back(&t);
  std::vector<int32_t> outTypes;
  for (const auto &o : proto.graph().output())
    outTypes.push_back(o.type().tensor_type().elem_type()
                           ? o.type().tensor_type().elem_type()
                           : (int32_t)onnx::TensorProto_DataType_FLOAT);
  if (outTypes.size() != ftype.getNumResults())
    return fail("the model has " + std::to_string(outTypes.size()) +
                " outputs but its function " +
                std::to_string(ftype.getNumResults()));
  std::vector<HostTensor> results;
  double runMs = INFINITY;
  for (unsigned k = 0; k < std::max(1u, (unsigned)repeatRuns); ++k) {
    bool badInput;
    t0 = std::chrono::steady_clock::now();
    err = invokeEntry(*engine, ftype, inputPtrs, outTypes, results, badInput);
    if (!err.empty())
      return fail(err);
    runMs = std::min(runMs, msSince(t0));
  }
  for (size_t r = 0; r < results.size(); ++r) {
    std::string line =
        "output " + std::to_string(r) + " '" + proto.graph().output(r).name() +
        "' " + typeName(results[r].dtype) + " " + shapeStr(results[r].shape);
    if (!outputDir.empty()) {
      llvm::sys::fs::create_directories(outputDir);
      std::string path = outputDir + "/output_" + std::to_string(r) + ".npy";
      if (!writeNpy(path, results[r], err))
        return fail(err);
      line += " -> " + path;
    }
    llvm::outs() << line << "\n";
  }
  char buf[160];
  snprintf(buf, sizeof(buf), "import %.1f ms, compile %.1f ms, run %.1f ms\n",
           importMs, compileMs, runMs);
  llvm::outs() << buf;
  return 0;
}

static std::string opsOf(const std::string &dir) {
  onnx::ModelProto proto;
  std::ifstream in(dir + "/model.onnx", std::ios::binary);
  if (!in || !proto.ParseFromIstream(&in))
    return "[]";
  std::set<std::string> ops;
  for (const auto &n : proto.graph().node())
    ops.insert(n.op_type());
  std::string s = "[";
  for (const std::string &o : ops)
    s += (s.size() > 1 ? "," : "") + o;
  return s + "]";
}

static std::string formatLine(const std::string &dir, const Outcome &o) {
  std::string line = o.status + " " + dir + " " + opsOf(dir);
  if (!o.reason.empty())
    line += " " + o.reason;
  if (o.oneLsb)
    line += " (1-LSB differences: " + std::to_string(o.oneLsb) + ")";
  if (printTimes) {
    char buf[128];
    snprintf(buf, sizeof(buf),
             " {import %.1f ms, compile %.1f ms, run %.1f ms}", o.importMs,
             o.compileMs, o.runMs);
    line += buf;
  }
  for (char &c : line)
    if (c == '\n')
      c = ' ';
  return line;
}

//===----------------------------------------------------------------------===//
// Quantized-module mode (--report-perf).
//===----------------------------------------------------------------------===//

/// Reports on a quantized module, then lowers and runs it like a lowered
/// module when --entry or --emit-object asks for it.
static int runQuantized(DialectRegistry &registry,
                        qopt_run::LoweredRunOptions options) {
  const std::string &file = options.file;
  auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(file, /*IsText=*/true);
  if (!buffer) {
    llvm::errs() << "qopt-run: " << file
                 << ": cannot read: " << buffer.getError().message() << "\n";
    return 1;
  }
  MLIRContext context(registry);
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  OwningOpRef<ModuleOp> module =
      parseSourceFile<ModuleOp>(sourceMgr, ParserConfig(&context));
  if (!module) {
    llvm::errs() << "qopt-run: " << file
                 << ": cannot read or parse the module (see above)\n";
    return 1;
  }
  bool lowered = true;
  module->walk([&](Operation *op) {
    if (op != module->getOperation() &&
        !isa<LLVM::LLVMDialect>(op->getDialect()))
      lowered = false;
  });
  if (lowered) {
    llvm::errs() << "qopt-run: " << file
                 << " is already lowered to the LLVM dialect; --report-perf "
                    "reads the quantized module before lowering (the output "
                    "of qopt-fold-requant, or use "
                    "qopt-quantize{report-perf=-} while quantizing)\n";
    return 1;
  }
  bool run = !options.entry.empty() || !options.objectFile.empty();
  PassManager pm(&context);
  ReportPerfOptions report;
  report.target = reportTarget;
  report.format = reportFormat;
  report.warnThreshold = reportThreshold;
  report.output = "-";
  pm.addPass(createReportPerf(report));
  if (run) {
    pm.addPass(createLowerQuant());
    LowerCPUOptions lower;
    lower.target = reportTarget;
    buildLowerCPUPipeline(pm, lower);
  }
  if (failed(pm.run(*module))) {
    llvm::errs() << "qopt-run: " << file
                 << (run ? ": the report or the lowering failed (see above)\n"
                         : ": the report failed (see above)\n");
    return 1;
  }
  if (!run)
    return 0;
  return qopt_run::runLoweredModule(*module, options);
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // Compiled models malloc every intermediate buffer and free it after its
  // last use. glibc serves blocks above 128 KiB (its default mmap threshold)
  // with fresh mmaps, so each call of a model then page-faults its whole
  // working set again: on PaddleOCR's direction classifier that was 85% of
  // its CPU time (user + system, measured with a C driver: 20.5 ms per
  // sample, 2.8 ms
  // with these settings). Keep freed memory in the heap for reuse, as ONNX
  // Runtime's arena does. Set before any allocation a model makes.
#ifdef M_MMAP_THRESHOLD
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
  mlir::registerAllPasses();
  registerQOptPasses();
  registerCPUMatMulNBits();
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  cl::ParseCommandLineOptions(
      argc, argv,
      "qopt-run: run modules lowered by qopt-lower-cpu on .npy files, or "
      "ONNX models through qopt's import and a CPU JIT\n");
  DialectRegistry registry;
  mlir::registerAllDialects(registry);
  registerAllExtensions(registry);
  registerAllToLLVMIRTranslations(registry);
  qopt::registerAllDialects(registry);

  if (!loweredFile.empty()) {
    if (!modelFile.empty() || !testDirs.empty() || !listFile.empty()) {
      llvm::errs() << "qopt-run: give either a lowered module or --model / "
                      "--onnx-backend-test / --test-list, not both\n";
      return 1;
    }
    qopt_run::LoweredRunOptions options;
    options.file = loweredFile;
    options.entry = entryName;
    options.inputs.assign(npyInputs.begin(), npyInputs.end());
    options.outputs.assign(npyOutputs.begin(), npyOutputs.end());
    options.repeat = repeatRuns;
    options.time = timeCalls;
    options.objectFile = objectFile;
    options.runtimeLibDir = QOPT_LLVM_LIBDIR;
    if (reportPerf)
      return runQuantized(registry, options);
    return qopt_run::runLowered(registry, options);
  }
  if (reportPerf) {
    llvm::errs() << "qopt-run: --report-perf needs a quantized module "
                    "(qopt-run FILE.mlir --report-perf ...)\n";
    return 1;
  }
  if (!entryName.empty() || !npyOutputs.empty() || timeCalls ||
      !objectFile.empty()) {
    llvm::errs() << "qopt-run: --entry, --output, --time and --emit-object "
                    "need a lowered module (qopt-run FILE.mlir ...)\n";
    return 1;
  }
  if (!modelFile.empty())
    return runModel(registry);
  std::vector<std::string> dirs(testDirs.begin(), testDirs.end());
  if (!listFile.empty()) {
    std::ifstream in(listFile);
    if (!in) {
      llvm::errs() << "qopt-run: cannot read " << listFile << "\n";
      return 1;
    }
    std::string line;
    while (std::getline(in, line))
      if (!line.empty() && line[0] != '#')
        dirs.push_back(line);
  }
  if (dirs.empty()) {
    llvm::errs() << "qopt-run: give a lowered module (qopt-run FILE.mlir "
                    "--entry NAME ...), --model FILE, --onnx-backend-test "
                    "DIR or --test-list\n";
    return 1;
  }
  int failures = 0;
  auto report = [&](const std::string &line) {
    llvm::outs() << line << "\n";
    llvm::outs().flush();
    failures += line.rfind("FAIL", 0) == 0;
  };
  if (noFork) {
    for (const std::string &d : dirs)
      report(formatLine(d, runTest(d, registry)));
    return failures ? 1 : 0;
  }
  // One child per test, up to `jobs` at a time; the parent never JITs.
  struct Child {
    std::string dir;
    int fd;
  };
  std::map<pid_t, Child> running;
  size_t next = 0;
  auto reap = [&]() {
    int status;
    pid_t pid = waitpid(-1, &status, 0);
    auto it = running.find(pid);
    if (it == running.end())
      return;
    std::string text;
    char buf[4096];
    ssize_t n;
    while ((n = read(it->second.fd, buf, sizeof(buf))) > 0)
      text.append(buf, n);
    close(it->second.fd);
    if (WIFSIGNALED(status) || text.empty()) {
      Outcome o;
      o.reason =
          WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM
              ? "timed out"
              : "crashed (signal " +
                    std::to_string(WIFSIGNALED(status) ? WTERMSIG(status) : 0) +
                    ")";
      text = formatLine(it->second.dir, o);
    }
    report(text);
    running.erase(it);
  };
  while (next < dirs.size() || !running.empty()) {
    while (next < dirs.size() &&
           running.size() < std::max(1u, (unsigned)jobs)) {
      int fds[2];
      if (pipe(fds) != 0) {
        perror("pipe");
        return 1;
      }
      llvm::outs().flush();
      pid_t pid = fork();
      if (pid == 0) {
        close(fds[0]);
        alarm(timeoutSec);
        std::string line =
            formatLine(dirs[next], runTest(dirs[next], registry));
        ssize_t w = write(fds[1], line.data(), line.size());
        (void)w;
        close(fds[1]);
        _exit(0);
      }
      close(fds[1]);
      running[pid] = {dirs[next], fds[0]};
      ++next;
    }
    reap();
  }
  return failures ? 1 : 0;
}
