//===- ReportPerf.cpp - qopt-report-perf, the speed lint ------------------===//
//
// qopt-report-perf: reads the integer form of a quantized module (after
// qopt-fold-requant, quantized types still on the values) and reports, in
// the model's tensor names, what will keep the int8 program from being
// fast once qopt-lower-cpu has compiled it: ops left in float, the
// quantize/dequantize steps around them, requantize steps that did not
// fold, zero-point corrections left in a kernel, unfused activations, and
// the layout work of the model and of the CPU lowering (predicted with
// qopt-cpu-gemm's own matcher, CPUGemmPlan.h). It estimates int8 time over
// f32 time with qopt-assign-precision's cost model (lib/Quant/
// MixedPrecision.cpp) and warns above a threshold. The IR is not changed.
// docs/perf-report.md describes the model and each category.
//
//===----------------------------------------------------------------------===//

#include "CPUGemmPlan.h"
#include "qopt/Conversion/Passes.h"
#include "qopt/Dialect/QOpt/IR/QOptOps.h"
#include "qopt/Quant/MixedPrecision.h"
#include "qopt/Transforms/TensorNames.h"

#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <map>

namespace mlir::qopt {
#define GEN_PASS_DEF_REPORTPERF
#include "qopt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

/// What an op is in the int8 program.
enum class Kind {
  IntKernel, // integer contraction (matmul, convolution)
  IntOp,     // other integer compute (add, mul, pooling, clamp)
  Float,     // left in float
  Convert,   // quant.qcast / quant.dcast at run time
  Requant,   // qopt.requantize
  Layout,    // transposes and copies
};

StringRef kindName(Kind kind) {
  switch (kind) {
  case Kind::IntKernel:
    return "int8 kernel";
  case Kind::IntOp:
    return "int8 op";
  case Kind::Float:
    return "float";
  case Kind::Convert:
    return "quantize/dequantize";
  case Kind::Requant:
    return "requantize";
  case Kind::Layout:
    return "layout";
  }
  return "";
}

/// One op of the program with its costs in int8-MAC units.
struct OpRecord {
  Operation *op;
  std::string name;
  Kind kind;
  int64_t macs = 0;
  double int8Cost = 0.0, f32Cost = 0.0;
};

/// One line of a category: the op's name, what it is, and why.
struct Finding {
  std::string name;
  std::string op;
  std::string detail;
  int64_t elements = 0;
  int64_t macs = 0;
  double cost = 0.0;
};

/// A float op, aggregated by name (an imported softmax is several ops).
struct FloatGroup {
  std::string ops;
  unsigned count = 0;
  int64_t macs = 0;
  double cost = 0.0;
  std::string detail;
};

struct Report {
  SmallVector<OpRecord> records;
  llvm::MapVector<std::string, FloatGroup, std::map<std::string, unsigned>>
      floatOps;
  SmallVector<Finding> conversions, requants, zeroPoints, activations, layout;
  int64_t totalMacs = 0, floatMacs = 0;
  double int8Cost = 0.0, f32Cost = 0.0;

  /// int8 time / f32 time is above `threshold` (never without compute).
  bool warns(double threshold) const {
    return f32Cost > 0.0 && int8Cost / f32Cost > threshold;
  }
};

class ReportPerfPass : public qopt::impl::ReportPerfBase<ReportPerfPass> {
public:
  using Base::Base;
  LogicalResult initialize(MLIRContext *context) override;
  void runOnOperation() override;

private:
  void analyzeOp(Operation *op, Report &report);
  void analyzeLinalg(linalg::LinalgOp op, Report &report);
  void addRecord(Report &report, Operation *op, Kind kind, int64_t macs,
                 double int8Cost, double f32Cost);
  void writeText(raw_ostream &os, const Report &report,
                 ArrayRef<std::pair<std::string, double>> top);
  void writeJson(raw_ostream &os, const Report &report,
                 ArrayRef<std::pair<std::string, double>> top);

  const TargetDescription *targetDesc = nullptr;
  const PrecisionCandidate *i8 = nullptr, *f32 = nullptr;
  /// i8 formats at the f32 throughput: contractions lowered to scalar loops.
  PrecisionCandidate loops;
  int64_t int8Group = 4;
};

} // namespace

//===----------------------------------------------------------------------===//
// Options
//===----------------------------------------------------------------------===//

LogicalResult ReportPerfPass::initialize(MLIRContext *context) {
  Location loc = UnknownLoc::get(context);
  if (target != "x86_64" && target != "aarch64")
    return emitError(loc) << "qopt-report-perf: unknown target '" << target
                          << "'; expected x86_64 or aarch64 (the report "
                             "predicts qopt-lower-cpu)";
  targetDesc = lookupTargetDescription(target);
  i8 = targetDesc ? lookupCandidate(*targetDesc, "i8") : nullptr;
  f32 = targetDesc ? lookupCandidate(*targetDesc, "f32") : nullptr;
  if (!i8 || !f32)
    return emitError(loc) << "qopt-report-perf: the cost table has no i8 and "
                             "f32 rows for target '"
                          << target << "'";
  loops = {"i8-loops", ElementFormat::I8, ElementFormat::I8,
           f32->macThroughput};
  // qopt-cpu-gemm's i8 step: four K values per lane (vpdpbusd), eight on
  // the aarch64 table's I8MM (smmla).
  int8Group = target == "aarch64" ? 8 : 4;
  if (format != "text" && format != "json")
    return emitError(loc) << "qopt-report-perf: unknown format '" << format
                          << "'; expected text or json";
  if (!std::isfinite(warnThreshold) || warnThreshold <= 0.0)
    return emitError(loc) << "qopt-report-perf: warn-threshold must be a "
                             "positive number (int8 time / f32 time), got "
                          << warnThreshold;
  if (output.empty())
    return emitError(loc) << "qopt-report-perf: output= needs a file name or "
                             "'-' (standard error)";
  return success();
}

//===----------------------------------------------------------------------===//
// Sizes and names
//===----------------------------------------------------------------------===//

static int64_t numElements(Type type) {
  auto shaped = dyn_cast<ShapedType>(type);
  if (!shaped)
    return 1;
  if (!shaped.hasRank())
    return 1;
  int64_t n = 1;
  for (int64_t d : shaped.getShape())
    n *= ShapedType::isDynamic(d) ? 1 : d;
  return n;
}

/// Bytes of one element as stored at run time (quantized types by their
/// storage, i1 as a byte).
static int64_t elementBytes(Type type) {
  Type elt = getElementTypeOrSelf(type);
  if (auto q = dyn_cast<quant::QuantizedType>(elt))
    elt = q.getStorageType();
  if (elt.isIntOrFloat())
    return std::max<int64_t>(1,
                             llvm::divideCeil(elt.getIntOrFloatBitWidth(), 8));
  return 4;
}

static int64_t bytesOf(Value v) {
  return numElements(v.getType()) * elementBytes(v.getType());
}

static bool isFloatTensor(Type type) {
  return isa<FloatType>(getElementTypeOrSelf(type));
}

/// The tensor name of `op`'s first result; else, for the inner ops of an
/// imported operator (an ONNX Softmax is five linalg ops, only the last one
/// named), the name of the first named value its result flows into within
/// a few ops; else `op-name@location`.
static std::string displayName(Operation *op) {
  if (op->getNumResults() > 0) {
    std::string name = getTensorName(op->getResult(0));
    if (!name.empty())
      return name;
    SmallVector<Operation *> frontier = {op};
    for (int depth = 0; depth < 8 && !frontier.empty(); ++depth) {
      SmallVector<Operation *> next;
      for (Operation *current : frontier)
        for (Operation *user : current->getUsers()) {
          if (user->getNumResults() == 0 ||
              isa<quant::QuantizeCastOp, quant::DequantizeCastOp,
                  quant::StorageCastOp, RequantizeOp>(user))
            continue;
          std::string userName = getTensorName(user->getResult(0));
          if (!userName.empty())
            return userName;
          next.push_back(user);
        }
      frontier = std::move(next);
    }
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  os << op->getName() << "@";
  if (auto file = dyn_cast<FileLineColLoc>(op->getLoc()))
    os << llvm::sys::path::filename(file.getFilename().getValue()) << ":"
       << file.getLine();
  else
    op->getLoc().print(os);
  return text;
}

/// The value `v` is after looking through quant.scast (storage views).
static Value throughStorageCasts(Value v) {
  while (auto scast = v.getDefiningOp<quant::StorageCastOp>())
    v = scast.getInput();
  return v;
}

/// The name of `v`, else of the value it converts (through storage casts,
/// requantizes, quantizes and dequantizes), else "".
static std::string nameThroughConversions(Value v) {
  for (int depth = 0; v && depth < 16; ++depth) {
    std::string name = getTensorName(v);
    if (!name.empty())
      return name;
    Operation *def = v.getDefiningOp();
    if (!isa_and_nonnull<quant::StorageCastOp, quant::QuantizeCastOp,
                         quant::DequantizeCastOp, RequantizeOp>(def))
      return "";
    v = def->getOperand(0);
  }
  return "";
}

static bool isConstant(Value v) {
  return matchPattern(throughStorageCasts(v), m_Constant());
}

//===----------------------------------------------------------------------===//
// Recognising ops
//===----------------------------------------------------------------------===//

/// A contraction: two inputs, a reduction loop, and a product in the body.
static bool isContractionLike(linalg::LinalgOp op) {
  if (op.getNumDpsInputs() != 2 || op.getNumReductionLoops() == 0)
    return false;
  for (Operation &inner : *op.getBlock())
    if (isa<arith::MulIOp, arith::MulFOp>(inner))
      return true;
  return false;
}

/// The body only yields one input (a copy, a transpose or a broadcast).
static bool isCopy(linalg::LinalgOp op) {
  Block &body = *op.getBlock();
  if (body.getOperations().size() != 1 || op.getNumDpsInputs() != 1)
    return false;
  auto arg = dyn_cast<BlockArgument>(body.getTerminator()->getOperand(0));
  return arg && arg.getOwner() == &body && arg.getArgNumber() == 0;
}

/// An all-parallel op with one input whose body only takes max / min with
/// constants: ReLU, ReLU6, clamp.
static std::optional<StringRef> matchActivation(linalg::LinalgOp op) {
  if (op.getNumDpsInputs() != 1 || op.getNumReductionLoops() != 0)
    return std::nullopt;
  bool sawMax = false, sawMin = false;
  for (Operation &inner : *op.getBlock()) {
    if (isa<linalg::YieldOp, arith::ConstantOp>(inner))
      continue;
    bool isMax = isa<arith::MaximumFOp, arith::MaxNumFOp, arith::MaxSIOp,
                     arith::MaxUIOp>(inner);
    bool isMin = isa<arith::MinimumFOp, arith::MinNumFOp, arith::MinSIOp,
                     arith::MinUIOp>(inner);
    if (!isMax && !isMin)
      return std::nullopt;
    // One operand must be a constant (from the body or from above).
    if (!llvm::any_of(inner.getOperands(),
                      [](Value v) { return matchPattern(v, m_Constant()); }))
      return std::nullopt;
    sawMax |= isMax;
    sawMin |= isMin;
  }
  if (!sawMax && !sawMin)
    return std::nullopt;
  return sawMax && !sawMin ? StringRef("relu") : StringRef("clamp");
}

/// The zero points a contraction kernel still subtracts in its inner loop:
/// `ext(in) - z` on either input.
static SmallVector<std::pair<unsigned, int64_t>>
unfoldedZeroPoints(linalg::LinalgOp op) {
  SmallVector<std::pair<unsigned, int64_t>> result;
  Block &body = *op.getBlock();
  for (Operation &inner : body) {
    auto sub = dyn_cast<arith::SubIOp>(inner);
    if (!sub)
      continue;
    Operation *ext = sub.getLhs().getDefiningOp();
    if (!isa_and_nonnull<arith::ExtSIOp, arith::ExtUIOp>(ext))
      continue;
    auto arg = dyn_cast<BlockArgument>(ext->getOperand(0));
    IntegerAttr zp;
    if (!arg || arg.getOwner() != &body || arg.getArgNumber() >= 2 ||
        !matchPattern(sub.getRhs(), m_Constant(&zp)))
      continue;
    result.emplace_back(arg.getArgNumber(), zp.getInt());
  }
  return result;
}

/// Number of scales of the i32 accumulator `op` produces (its quant.scast
/// user's per-axis type), 1 for per-tensor.
static int64_t accumulatorScales(Operation *op) {
  for (Operation *user : op->getResult(0).getUsers())
    if (auto scast = dyn_cast<quant::StorageCastOp>(user))
      if (auto axis = dyn_cast<quant::UniformQuantizedPerAxisType>(
              getElementTypeOrSelf(scast.getType())))
        return axis.getScales().size();
  return 1;
}

/// True when `op` is only used as the init (accumulator) of contractions:
/// the zero fill or the folded zero-point/bias broadcast.
static bool isOnlyAccumulatorInit(Operation *op) {
  if (op->getNumResults() != 1 || op->getResult(0).use_empty())
    return false;
  for (OpOperand &use : op->getResult(0).getUses()) {
    auto user = dyn_cast<linalg::LinalgOp>(use.getOwner());
    if (!user || !user.isDpsInit(&use) ||
        !isContractionLike(cast<linalg::LinalgOp>(use.getOwner())))
      return false;
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Analysis
//===----------------------------------------------------------------------===//

void ReportPerfPass::addRecord(Report &report, Operation *op, Kind kind,
                               int64_t macs, double int8Cost, double f32Cost) {
  OpRecord r{op, displayName(op), kind, macs, int8Cost, f32Cost};
  if (kind == Kind::IntKernel || kind == Kind::IntOp || kind == Kind::Float)
    report.totalMacs += macs;
  if (kind == Kind::Float)
    report.floatMacs += macs;
  report.int8Cost += int8Cost;
  report.f32Cost += f32Cost;
  report.records.push_back(std::move(r));
}

void ReportPerfPass::analyzeLinalg(linalg::LinalgOp op, Report &report) {
  Operation *operation = op.getOperation();
  if (operation->getNumResults() != 1 || !op.hasPureTensorSemantics())
    return;
  Value result = operation->getResult(0);
  if (isa<linalg::FillOp>(operation) ||
      (isCopy(op) && isOnlyAccumulatorInit(operation)))
    return; // the accumulator's initial value: part of the kernel
  bool floatOp = isFloatTensor(result.getType());
  std::string name = displayName(operation);

  // MACs: every point of the iteration space (the MACs of a contraction,
  // the elements of an elementwise op, the window of a reduction).
  int64_t macs = 1;
  for (int64_t range : op.getStaticLoopRanges())
    macs *= ShapedType::isDynamic(range) ? 1 : range;

  // The cost table's shape: constant inputs are weights, the rest and the
  // result activations.
  OpShape shape;
  shape.macs = macs;
  shape.activationElements = numElements(result.getType());
  for (Value in : op.getDpsInputs()) {
    if (isConstant(in))
      shape.weightElements += numElements(in.getType());
    else
      shape.activationElements += numElements(in.getType());
  }

  if (isCopy(op) || isa<linalg::TransposeOp, linalg::BroadcastOp>(operation)) {
    int64_t elements = numElements(op.getDpsInputs()[0].getType()) +
                       numElements(result.getType());
    int64_t bytes = bytesOf(op.getDpsInputs()[0]) + bytesOf(result);
    double int8Cost = computeOpTime(0, bytes, *i8, *targetDesc);
    double f32Cost = computeOpTime(0, elements * 4, *f32, *targetDesc);
    addRecord(report, operation, Kind::Layout, 0, int8Cost, f32Cost);
    report.layout.push_back({name, operation->getName().getStringRef().str(),
                             "copy/transpose in the model", elements, 0,
                             int8Cost});
    return;
  }

  if (isContractionLike(op)) {
    std::optional<CPUGemmPlan> plan = planCPUGemm(op, int8Group);
    // The layout work qopt-cpu-gemm adds, in the op's element size and in
    // f32 (the f32 program gets the same kernel).
    double extraInt8 = 0.0, extraF32 = 0.0;
    if (plan) {
      int64_t actBytes = elementBytes(op.getDpsInputs()[0].getType());
      int64_t accBytes = elementBytes(result.getType());
      if (plan->im2colElements) {
        // Written once and read once by the kernel beyond the in-place read.
        int64_t e = 2 * plan->im2colElements;
        double c8 = computeOpTime(0, e * actBytes, *i8, *targetDesc);
        extraInt8 += c8;
        extraF32 += computeOpTime(0, e * 4, *f32, *targetDesc);
        report.layout.push_back(
            {name, "im2col",
             ("activation copied into a " + Twine(plan->m) + "x" +
              Twine(plan->k) + " matrix by qopt-cpu-gemm")
                 .str(),
             plan->im2colElements, 0, floatOp ? 0.0 : c8});
      }
      // (A quantize or requantize of the activation is not fused into the
      // im2col copy: qopt-cpu-fuse-elementwise refuses fusions that
      // recompute a producer.)
      if (plan->transposedOutput) {
        // Init transposed in, result transposed out: read + write each.
        int64_t e = 4 * plan->m * plan->n;
        double c8 = computeOpTime(0, e * accBytes, *i8, *targetDesc);
        extraInt8 += c8;
        extraF32 += computeOpTime(0, e * 4, *f32, *targetDesc);
        report.layout.push_back(
            {name, "transpose",
             ("accumulator transposed into (m, n) order and back, " +
              Twine(plan->m) + "x" + Twine(plan->n))
                 .str(),
             plan->m * plan->n, 0, floatOp ? 0.0 : c8});
      }
      report.layout.push_back(
          {name, "pack",
           ("weight (K=" + Twine(plan->k) + ", N=" + Twine(plan->n) +
            ") packed at compile time into " +
            Twine(llvm::divideCeil(plan->n, 16)) +
            " blocks of 16 columns (no run-time cost)")
               .str(),
           plan->packedWeightElements, 0, 0.0});
    }

    if (floatOp) {
      double cost = computeOpCost(shape, *f32, *targetDesc).cost + extraF32;
      addRecord(report, operation, Kind::Float, macs, cost, cost);
      FloatGroup &g = report.floatOps[report.records.back().name];
      g.count++;
      g.ops = operation->getName().getStringRef().str();
      g.macs += macs;
      g.cost += cost;
      bool dequantizedIn = llvm::any_of(op.getDpsInputs(), [](Value v) {
        return v.getDefiningOp<quant::DequantizeCastOp>() != nullptr;
      });
      g.detail = dequantizedIn ? "contraction on dequantized inputs that no "
                                 "integer kernel matched"
                               : "contraction kept in float";
      if (!plan)
        report.layout.push_back({name, "loops",
                                 "float contraction left to scalar loops "
                                 "(no constant weight, batch-like loops or "
                                 "dynamic shapes)",
                                 numElements(result.getType()), macs, 0.0});
      return;
    }

    // Integer kernel.
    SmallVector<std::pair<unsigned, int64_t>> zps = unfoldedZeroPoints(op);
    bool constWeight = llvm::any_of(op.getDpsInputs(), isConstant);
    for (auto [operand, zp] : zps) {
      std::string why;
      if (!constWeight)
        why = "no constant weight: both operands are activations, so "
              "sum(w) is not known at compile time";
      else if (operand == 1 || !isConstant(op.getDpsInputs()[1]))
        why = "the weight has a zero point (asymmetric weights); quantize "
              "weights symmetrically";
      else
        why = "the accumulator does not start from a zero fill or a "
              "broadcast constant";
      report.zeroPoints.push_back(
          {name, operation->getName().getStringRef().str(),
           ((operand == 0 ? "activation" : "weight") + Twine(" zero point ") +
            Twine(zp) + " subtracted in the inner loop; " + why)
               .str(),
           numElements(result.getType()), macs, 0.0});
    }
    shape.weightScales =
        shape.weightElements ? accumulatorScales(operation) : 0;
    double int8Cost;
    if (plan) {
      int8Cost = computeOpCost(shape, *i8, *targetDesc).cost + extraInt8;
    } else {
      int8Cost = computeOpCost(shape, loops, *targetDesc).cost;
      std::string why = !zps.empty() ? "zero-point correction in the body"
                        : !constWeight
                            ? "no constant weight"
                            : "batch-like loops (batch matmul, depthwise) or "
                              "dynamic shapes";
      report.layout.push_back(
          {name, "loops",
           "int8 contraction left to scalar loops by qopt-cpu-gemm (" + why +
               "): costed at the f32 throughput",
           numElements(result.getType()), macs, int8Cost});
    }
    OpShape f32Shape = shape;
    f32Shape.weightScales = 0;
    double f32Cost = computeOpCost(f32Shape, *f32, *targetDesc).cost + extraF32;
    addRecord(report, operation, Kind::IntKernel, macs, int8Cost, f32Cost);
    return;
  }

  std::optional<StringRef> activation = matchActivation(op);
  if (floatOp) {
    double cost = computeOpCost(shape, *f32, *targetDesc).cost;
    addRecord(report, operation, Kind::Float, macs, cost, cost);
    FloatGroup &g = report.floatOps[report.records.back().name];
    if (g.count++ == 0)
      g.ops = operation->getName().getStringRef().str();
    g.macs += macs;
    g.cost += cost;
    if (g.detail.empty())
      g.detail = "no integer kernel for this op";
    if (activation) {
      // qopt-fold-requant fuses a ReLU/clamp into the requantize between an
      // integer kernel's accumulator and a quantize of the activation.
      Value in = op.getDpsInputs()[0];
      bool afterKernel = nameThroughConversions(in) != "" &&
                         in.getDefiningOp<quant::DequantizeCastOp>();
      bool quantizedAfter =
          llvm::any_of(result.getUsers(), [](Operation *user) {
            return isa<quant::QuantizeCastOp>(user);
          });
      std::string why =
          !afterKernel ? "its input is not a dequantized kernel output"
          : !quantizedAfter
              ? "its result stays float (a function result or a float "
                "consumer), so there is no requantize to fuse into"
              : "the requantize pattern did not match";
      report.activations.push_back(
          {name, activation->str(),
           "float " + activation->str() + " not fused: " + why,
           numElements(result.getType()), macs, cost});
    }
    return;
  }
  double int8Cost = computeOpCost(shape, *i8, *targetDesc).cost;
  double f32Cost = computeOpCost(shape, *f32, *targetDesc).cost;
  addRecord(report, operation, Kind::IntOp, macs, int8Cost, f32Cost);
  if (activation)
    report.activations.push_back(
        {name, activation->str(),
         "integer " + activation->str() +
             " left as its own pass over the tensor instead of the "
             "requantize's output range",
         numElements(result.getType()), macs, int8Cost});
}

void ReportPerfPass::analyzeOp(Operation *op, Report &report) {
  if (op->getNumResults() == 0 || op->hasTrait<OpTrait::ConstantLike>() ||
      isa<quant::StorageCastOp, tensor::EmptyOp, StatsOp, tensor::CastOp,
          tensor::CollapseShapeOp, tensor::ExpandShapeOp, tensor::ReshapeOp>(
          op))
    return;
  if (!llvm::any_of(op->getResultTypes(),
                    [](Type t) { return isa<ShapedType>(t); }))
    return;
  std::string name = displayName(op);

  if (isa<quant::QuantizeCastOp, quant::DequantizeCastOp>(op)) {
    Value in = op->getOperand(0), out = op->getResult(0);
    // Named by the tensor it converts when it has no name of its own.
    if (std::string converted = nameThroughConversions(out); !converted.empty())
      name = converted;
    int64_t elements = numElements(out.getType());
    // Float arithmetic (divide or multiply, round, clamp) per element.
    double cost =
        computeOpTime(elements, bytesOf(in) + bytesOf(out), *f32, *targetDesc);
    addRecord(report, op, Kind::Convert, 0, cost, 0.0);
    report.records.back().name = name;
    bool quantize = isa<quant::QuantizeCastOp>(op);
    std::string detail = quantize ? "float -> " : "integer -> float";
    if (quantize) {
      auto q = cast<quant::QuantizedType>(getElementTypeOrSelf(out.getType()));
      detail += (q.isSigned() ? "i" : "u") +
                std::to_string(q.getStorageTypeIntegralWidth());
    } else {
      auto q = cast<quant::QuantizedType>(getElementTypeOrSelf(in.getType()));
      detail = (q.isSigned() ? "i" : "u") +
               std::to_string(q.getStorageTypeIntegralWidth()) + " -> float";
    }
    if (isConstant(in))
      detail += " of a constant, recomputed on every call";
    report.conversions.push_back({name,
                                  quantize ? "quant.qcast" : "quant.dcast",
                                  detail, elements, 0, cost});
    return;
  }

  if (auto requant = dyn_cast<RequantizeOp>(op)) {
    Value in = op->getOperand(0), out = op->getResult(0);
    int64_t elements = numElements(out.getType());
    double cost =
        computeOpTime(elements, bytesOf(in) + bytesOf(out), *i8, *targetDesc);
    if (std::string converted = nameThroughConversions(out); !converted.empty())
      name = converted;
    addRecord(report, op, Kind::Requant, 0, cost, 0.0);
    report.records.back().name = name;
    // The requantize of a kernel's i32 accumulator is the kernel's output
    // step; any other one is a rescale that did not fold.
    Value source = throughStorageCasts(in);
    Operation *producer = source.getDefiningOp();
    auto inType =
        cast<quant::QuantizedType>(getElementTypeOrSelf(in.getType()));
    auto outType =
        cast<quant::QuantizedType>(getElementTypeOrSelf(out.getType()));
    auto linalgProducer = dyn_cast_or_null<linalg::LinalgOp>(producer);
    bool ofAccumulator = inType.getStorageTypeIntegralWidth() == 32 &&
                         linalgProducer &&
                         linalgProducer.getNumReductionLoops() > 0;
    if (ofAccumulator)
      return;
    std::string why;
    if (isa_and_nonnull<RequantizeOp>(producer))
      why = "chained with the requantize before it (the middle step "
            "rounds; qopt-fold-requant{fold-inexact-chains=true} merges "
            "them)";
    else if (inType.getStorageTypeIntegralWidth() == 32)
      why = "i32 value not straight from a kernel (an add of accumulators)";
    else
      why = "rescales an integer tensor to another scale (a concat or add "
            "input, or a dequantize/quantize pair with different types)";
    report.requants.push_back(
        {name, "qopt.requantize",
         ("i" + Twine(inType.getStorageTypeIntegralWidth()) + " -> i" +
          Twine(outType.getStorageTypeIntegralWidth()) + ": " + why)
             .str(),
         elements, 0, cost});
    return;
  }

  if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op))
    return analyzeLinalg(linalgOp, report);

  Value result = op->getResult(0);
  int64_t elements = numElements(result.getType());
  if (isa<tensor::PadOp, tensor::ConcatOp, tensor::ExtractSliceOp,
          tensor::InsertSliceOp>(op)) {
    int64_t in = numElements(op->getOperand(0).getType());
    double int8Cost = computeOpTime(
        0, (in + elements) * elementBytes(result.getType()), *i8, *targetDesc);
    double f32Cost = computeOpTime(0, (in + elements) * 4, *f32, *targetDesc);
    addRecord(report, op, Kind::Layout, 0, int8Cost, f32Cost);
    report.layout.push_back({name, op->getName().getStringRef().str(),
                             "copy in the model", elements, 0, int8Cost});
    return;
  }
  // Anything else computes one value per element.
  OpShape shape;
  shape.macs = elements;
  shape.activationElements = elements;
  for (Value v : op->getOperands())
    if (isa<ShapedType>(v.getType()))
      shape.activationElements += numElements(v.getType());
  if (isFloatTensor(result.getType())) {
    double cost = computeOpCost(shape, *f32, *targetDesc).cost;
    addRecord(report, op, Kind::Float, elements, cost, cost);
    FloatGroup &g = report.floatOps[report.records.back().name];
    if (g.count++ == 0)
      g.ops = op->getName().getStringRef().str();
    g.macs += elements;
    g.cost += cost;
    if (g.detail.empty())
      g.detail = "no integer kernel for this op";
    return;
  }
  addRecord(report, op, Kind::IntOp, elements,
            computeOpCost(shape, *i8, *targetDesc).cost,
            computeOpCost(shape, *f32, *targetDesc).cost);
}

//===----------------------------------------------------------------------===//
// Output
//===----------------------------------------------------------------------===//

static double share(double part, double whole) {
  return whole > 0.0 ? 100.0 * part / whole : 0.0;
}

void ReportPerfPass::writeText(raw_ostream &os, const Report &r,
                               ArrayRef<std::pair<std::string, double>> top) {
  os << "qopt-report-perf: target " << targetDesc->name << " ("
     << targetDesc->summary << "), costs in int8-MAC units\n";
  if (r.f32Cost > 0.0)
    os << llvm::format("estimate: int8/f32 = %.3f (int8 %.0f, f32 %.0f); "
                       "threshold %.3g: %s\n",
                       r.int8Cost / r.f32Cost, r.int8Cost, r.f32Cost,
                       double(warnThreshold),
                       r.warns(warnThreshold) ? "WARNING" : "ok");
  else
    os << llvm::format("estimate: none, the module has no compute op (int8 "
                       "%.0f, f32 0)\n",
                       r.int8Cost);
  os << llvm::format("MACs: %lld total, %lld in float ops (%.1f%%)\n",
                     (long long)r.totalMacs, (long long)r.floatMacs,
                     share(r.floatMacs, r.totalMacs));

  auto section = [&](StringRef title, ArrayRef<Finding> findings) {
    os << title << ": " << findings.size() << "\n";
    for (const Finding &f : findings)
      os << llvm::format("  %-20s %-16s ", f.name.c_str(), f.op.c_str())
         << f.detail
         << llvm::format("; %lld elements, cost %.0f\n", (long long)f.elements,
                         f.cost);
  };
  os << "float ops (fallbacks): " << r.floatOps.size() << "\n";
  for (const auto &[name, g] : r.floatOps)
    os << llvm::format("  %-20s %s x%u  macs %lld (%.1f%%), cost %.0f (%.1f%% "
                       "of int8): ",
                       name.c_str(), g.ops.c_str(), g.count, (long long)g.macs,
                       share(g.macs, r.totalMacs), g.cost,
                       share(g.cost, r.int8Cost))
       << g.detail << "\n";
  section("quantize/dequantize steps", r.conversions);
  section("requantize steps that did not fold", r.requants);
  section("zero-point corrections not folded", r.zeroPoints);
  section("activations not fused", r.activations);
  section("layout (model copies; qopt-lower-cpu's im2col, transposes, packs, "
          "loops)",
          r.layout);
  os << "costliest in int8:\n";
  for (auto [i, entry] : llvm::enumerate(top))
    os << llvm::format("  %u. %-20s cost %.0f (%.1f%% of int8)\n",
                       unsigned(i + 1), entry.first.c_str(), entry.second,
                       share(entry.second, r.int8Cost));
}

void ReportPerfPass::writeJson(raw_ostream &os, const Report &r,
                               ArrayRef<std::pair<std::string, double>> top) {
  llvm::json::OStream j(os, 2);
  auto findings = [&](StringRef key, ArrayRef<Finding> list) {
    j.attributeArray(key, [&] {
      for (const Finding &f : list)
        j.object([&] {
          j.attribute("name", f.name);
          j.attribute("op", f.op);
          j.attribute("detail", f.detail);
          j.attribute("elements", f.elements);
          j.attribute("macs", f.macs);
          j.attribute("cost", f.cost);
        });
    });
  };
  j.object([&] {
    j.attribute("target", targetDesc->name);
    j.attribute("int8_cost", r.int8Cost);
    j.attribute("f32_cost", r.f32Cost);
    if (r.f32Cost > 0.0)
      j.attribute("ratio", r.int8Cost / r.f32Cost);
    else
      j.attribute("ratio", nullptr);
    j.attribute("threshold", double(warnThreshold));
    j.attribute("warning", r.warns(warnThreshold));
    j.attribute("total_macs", r.totalMacs);
    j.attribute("float_macs", r.floatMacs);
    j.attribute("float_mac_share",
                r.totalMacs ? double(r.floatMacs) / double(r.totalMacs) : 0.0);
    j.attributeArray("float_ops", [&] {
      for (const auto &entry : r.floatOps)
        j.object([&] {
          const std::string &name = entry.first;
          const FloatGroup &g = entry.second;
          j.attribute("name", name);
          j.attribute("op", g.ops);
          j.attribute("count", int64_t(g.count));
          j.attribute("macs", g.macs);
          j.attribute("mac_share",
                      r.totalMacs ? double(g.macs) / double(r.totalMacs) : 0.0);
          j.attribute("cost", g.cost);
          j.attribute("detail", g.detail);
        });
    });
    findings("conversions", r.conversions);
    findings("requantizes", r.requants);
    findings("zero_points", r.zeroPoints);
    findings("activations", r.activations);
    findings("layout", r.layout);
    j.attributeArray("top", [&] {
      for (const auto &entry : top)
        j.object([&] {
          const std::string &name = entry.first;
          double cost = entry.second;
          j.attribute("name", name);
          j.attribute("cost", cost);
          j.attribute("share", r.int8Cost > 0.0 ? cost / r.int8Cost : 0.0);
        });
    });
  });
  os << "\n";
}

void ReportPerfPass::runOnOperation() {
  ModuleOp module = getOperation();
  Report report;
  bool anyQuantType = false, anyIntKernel = false;
  module.walk([&](func::FuncOp func) {
    if (func.isExternal())
      return;
    for (Block &block : func.getBody())
      for (Operation &op : block) {
        for (Type t : op.getResultTypes())
          anyQuantType |= isa<quant::QuantizedType>(getElementTypeOrSelf(t));
        analyzeOp(&op, report);
      }
  });
  for (const OpRecord &r : report.records)
    anyIntKernel |= r.kind == Kind::IntKernel;
  if (anyIntKernel && !anyQuantType) {
    module.emitError()
        << "qopt-report-perf: the module has integer kernels but no "
           "quantized types left; it has been through qopt-lower-quant, "
           "which hides the quantize, dequantize and requantize steps. Run "
           "the report before it (qopt-quantize{report-perf=FILE}, or after "
           "qopt-fold-requant)";
    return signalPassFailure();
  }

  // The costliest names in the int8 program.
  llvm::MapVector<std::string, double, std::map<std::string, unsigned>> byName;
  for (const OpRecord &r : report.records)
    byName[r.name] += r.int8Cost;
  SmallVector<std::pair<std::string, double>> costliest(byName.begin(),
                                                        byName.end());
  // Costliest first; equal costs by name, so the order is reproducible.
  llvm::sort(costliest, [](const auto &a, const auto &b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (costliest.size() > top)
    costliest.resize(top);

  std::error_code ec;
  std::unique_ptr<llvm::raw_fd_ostream> file;
  raw_ostream *os = &llvm::errs();
  if (output != "-") {
    file = std::make_unique<llvm::raw_fd_ostream>(output, ec,
                                                  llvm::sys::fs::OF_Text);
    if (ec) {
      module.emitError() << "qopt-report-perf: cannot write the report to '"
                         << output << "': " << ec.message();
      return signalPassFailure();
    }
    os = file.get();
  }
  if (format == "json")
    writeJson(*os, report, costliest);
  else
    writeText(*os, report, costliest);
  os->flush();

  if (report.warns(warnThreshold)) {
    double ratio = report.int8Cost / report.f32Cost;
    std::string text;
    llvm::raw_string_ostream os(text);
    os << "qopt-report-perf: int8 is estimated at "
       << llvm::format("%.2f", ratio) << " of f32 time (above "
       << llvm::format("%.2f", double(warnThreshold)) << ": int8 less than "
       << llvm::format("%.2f", 1.0 / warnThreshold) << "x faster); costliest:";
    for (auto [i, entry] : llvm::enumerate(costliest)) {
      const std::string &name = entry.first;
      const OpRecord *first = llvm::find_if(
          report.records, [&](const OpRecord &r) { return r.name == name; });
      os << (i ? ", '" : " '") << entry.first << "' (" << kindName(first->kind)
         << ", " << llvm::format("%.0f", share(entry.second, report.int8Cost))
         << "% of int8 time)";
    }
    // At the module's location, without attaching the module (the driver
    // would print all of it as a note).
    mlir::emitWarning(module.getLoc()) << text;
  }
  markAllAnalysesPreserved();
}
