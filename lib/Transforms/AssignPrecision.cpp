//===- AssignPrecision.cpp - mixed precision under a budget -----*- C++ -*-===//
//
// qopt-assign-precision: chooses one precision per quantizable op from the
// target's table (lib/Quant/MixedPrecision.cpp) so that the model meets a
// budget on weight size, average weight bits, cost or accuracy, and writes
// it as #qopt.precision for qopt-legalize. This file gathers what the model
// says (weights, statistics, shapes, names), reads and writes pin tables and
// the report; the noise model, the costs and the knapsack solver are plain
// C++ in lib/Quant.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/QOpt/IR/QOptAttrs.h"
#include "qopt/Quant/MixedPrecision.h"
#include "qopt/Transforms/Passes.h"
#include "qopt/Transforms/QuantizableOps.h"
#include "qopt/Transforms/TensorNames.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>

namespace mlir::qopt {
#define GEN_PASS_DEF_ASSIGNPRECISION
#include "qopt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

static constexpr StringLiteral kPrecisionAttr = "qopt.precision";

namespace {

enum class BudgetKind { Size, AvgBits, Cost, Sqnr };

struct Budget {
  BudgetKind kind;
  double value;
};

/// One precision an op may take, with its estimated noise and cost.
struct OpCandidate {
  const PrecisionCandidate *candidate;
  NoiseEstimate noise; // relative() is the op's output noise / signal
  double relativeNoise = 0.0;
  OpCost cost;
  WeightLayout layout;
};

/// One op to decide.
struct OpInfo {
  Operation *op;
  std::string name;
  bool hasWeight = false;
  OpShape shape;
  SmallVector<OpCandidate> candidates;
  /// Index into candidates once pinned or chosen.
  std::optional<unsigned> pinned;
  unsigned chosen = 0;
  /// Candidates of the target this op cannot take, and why (for the report).
  SmallVector<std::string> dropped;
};

class AssignPrecisionPass
    : public qopt::impl::AssignPrecisionBase<AssignPrecisionPass> {
public:
  using Base::Base;

  LogicalResult initialize(MLIRContext *context) override;
  void runOnOperation() override;

private:
  LogicalResult collectOp(Operation *op, OpInfo &info);
  LogicalResult readPins(MutableArrayRef<OpInfo> ops);
  PrecisionAttr buildAttr(MLIRContext *ctx, const OpInfo &info,
                          const OpCandidate &c);
  void writeReport(raw_ostream &os, ArrayRef<OpInfo> ops,
                   const KnapsackSolution &solution, double limit,
                   double baselineCost, double baselineBytes,
                   int64_t weightElements);
  std::string formatBudget() const;
  LogicalResult measureSensitivity(MutableArrayRef<OpInfo> ops);

  const TargetDescription *targetDesc = nullptr;
  Budget parsedBudget{BudgetKind::Size, 0.0};
};
} // namespace

//===----------------------------------------------------------------------===//
// Options
//===----------------------------------------------------------------------===//

LogicalResult AssignPrecisionPass::initialize(MLIRContext *context) {
  Location loc = UnknownLoc::get(context);
  targetDesc = lookupTargetDescription(target);
  if (!targetDesc) {
    InFlightDiagnostic diag = emitError(loc);
    diag << "qopt-assign-precision: unknown target '" << target
         << "'; expected one of";
    for (const TargetDescription &t : getTargetDescriptions())
      diag << " " << t.name;
    return failure();
  }
  if (sensitivity != "estimate" && sensitivity != "measure")
    return emitError(loc) << "qopt-assign-precision: unknown sensitivity '"
                          << sensitivity << "'; expected estimate or measure";
  if (sensitivity == "estimate" && !inputs.empty())
    return emitError(loc) << "qopt-assign-precision: inputs= is only used by "
                             "sensitivity=measure";
  if (sensitivity == "measure" && inputs.empty())
    return emitError(loc) << "qopt-assign-precision: sensitivity=measure "
                             "needs inputs=a.npy[,b.npy...] (one .npy per "
                             "call of the model's function)";
  StringRef text = budget;
  if (text.empty())
    return emitError(loc) << "qopt-assign-precision: no budget; pass "
                             "budget=size:BYTES, avg-bits:B, cost:X or sqnr:DB";
  auto [kind, value] = text.split(':');
  if (kind == "size")
    parsedBudget.kind = BudgetKind::Size;
  else if (kind == "avg-bits")
    parsedBudget.kind = BudgetKind::AvgBits;
  else if (kind == "cost")
    parsedBudget.kind = BudgetKind::Cost;
  else if (kind == "sqnr")
    parsedBudget.kind = BudgetKind::Sqnr;
  else
    return emitError(loc) << "qopt-assign-precision: unknown budget '" << text
                          << "'; expected size:BYTES, avg-bits:B, cost:X or "
                             "sqnr:DB";
  double number;
  if (value.trim().getAsDouble(number) || !std::isfinite(number) ||
      (parsedBudget.kind != BudgetKind::Sqnr && number < 0.0))
    return emitError(loc) << "qopt-assign-precision: budget '" << text
                          << "' needs a "
                          << (parsedBudget.kind == BudgetKind::Sqnr
                                  ? "finite"
                                  : "non-negative")
                          << " number after '" << kind << ":'";
  parsedBudget.value = number;
  return success();
}

std::string AssignPrecisionPass::formatBudget() const { return budget; }

//===----------------------------------------------------------------------===//
// Gathering ops
//===----------------------------------------------------------------------===//

/// The statistics an activation is quantized with: its own, else those of
/// the value a scale-keeping producer passes on (as qopt-legalize shares
/// parameters through reshapes, padding and max pooling).
static StatsOp findActivationStats(Value value) {
  for (int depth = 0; depth < 64 && value; ++depth) {
    if (StatsOp stats = lookupStats(value))
      return stats;
    Operation *producer = stripStats(value).getDefiningOp();
    if (!producer || !isScaleKeeping(producer))
      return {};
    value = getScaleKeepingInput(producer);
  }
  return {};
}

static int64_t getNumElements(Value value) {
  auto type = dyn_cast<ShapedType>(value.getType());
  if (!type || !type.hasStaticShape())
    return 1;
  return type.getNumElements();
}

LogicalResult AssignPrecisionPass::collectOp(Operation *op, OpInfo &info) {
  info.op = op;
  info.name = mlir::qopt::getOpName(op);
  bool contraction = isContraction(op);

  // Inputs: the constant weight of a contraction, the rest activations.
  SmallVector<Value> activations;
  // The weight in its constant's layout (a transposed initializer is
  // quantized as qopt-legalize does, in its own layout).
  std::optional<ConstantWeight> constant;
  Value weight;
  std::optional<ContractionDims> dims;
  if (contraction) {
    auto linalgOp = cast<linalg::LinalgOp>(op);
    dims = getContractionDims(linalgOp);
    activations.push_back(linalgOp.getDpsInputOperand(0)->get());
    Value rhs = linalgOp.getDpsInputOperand(1)->get();
    constant = getConstantWeight(rhs);
    if (constant)
      weight = constant->constant;
    else
      activations.push_back(rhs);
  } else if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op)) {
    activations.push_back(linalgOp.getDpsInputOperand(0)->get());
    if (isElementwiseArith(op))
      activations.push_back(linalgOp.getDpsInputOperand(1)->get());
  } else {
    activations.append(op->operand_begin(), op->operand_end());
  }
  info.hasWeight = static_cast<bool>(weight);

  // Shape for the costs.
  info.shape.activationElements = getNumElements(op->getResult(0));
  for (Value v : activations)
    info.shape.activationElements += getNumElements(v);
  if (weight)
    info.shape.weightElements = getNumElements(weight);
  if (contraction) {
    int64_t macs = 1;
    for (int64_t range : cast<linalg::LinalgOp>(op).getStaticLoopRanges())
      macs *= ShapedType::isDynamic(range) ? 1 : range;
    info.shape.macs = macs;
  } else {
    info.shape.macs = getNumElements(op->getResult(0));
  }

  // Activation statistics.
  SmallVector<ActivationStats> stats;
  SmallVector<int64_t> statsElements;
  std::string missing;
  for (Value v : activations) {
    StatsOp s = findActivationStats(v);
    if (!s) {
      if (missing.empty())
        missing = getTensorName(stripStats(v));
      if (missing.empty())
        missing = "<unnamed>";
      continue;
    }
    ActivationStats a;
    a.min = *llvm::min_element(s.getMin());
    a.max = *llvm::max_element(s.getMax());
    if (s.hasHistogram() && !s.isPerAxis()) {
      a.counts = *s.getCounts();
      a.histMin = a.min;
      a.histMax = a.max;
      if (std::optional<APFloat> lo = s.getHistMin())
        a.histMin = lo->convertToDouble();
      if (std::optional<APFloat> hi = s.getHistMax())
        a.histMax = hi->convertToDouble();
    }
    stats.push_back(a);
    statsElements.push_back(getNumElements(v));
  }

  // Relative noise powers add through products (contractions, mul, sum
  // pooling); through sums and concatenation the powers themselves add.
  bool isProduct = contraction || isSumPooling(op) || isa<linalg::MulOp>(op);
  if (auto generic = dyn_cast<linalg::GenericOp>(op))
    if (Operation *body = getElementwiseBinaryBody(generic))
      isProduct = isa<arith::MulFOp>(body);

  // Candidates.
  for (const PrecisionCandidate &candidate : targetDesc->candidates) {
    if (candidate.needsWeight && !weight) {
      info.dropped.push_back((candidate.name + ": no constant weight").str());
      continue;
    }
    if (candidate.contractionsOnly && !contraction) {
      info.dropped.push_back((candidate.name +
                              ": qopt-legalize keeps only contractions in " +
                              stringifyElementFormat(candidate.activation))
                                 .str());
      continue;
    }
    bool integer = isIntegerFormat(candidate.activation);
    if (integer && !missing.empty()) {
      info.dropped.push_back(
          (candidate.name + ": input '" + missing + "' has no statistics")
              .str());
      continue;
    }
    OpCandidate c;
    c.candidate = &candidate;
    double actRelative = 0.0, sumNoise = 0.0, sumSignal = 0.0;
    for (auto [a, n] : llvm::zip(stats, statsElements)) {
      QuantSpec spec; // asymmetric signed, as qopt-legalize by default
      NoiseEstimate e = estimateActivationNoise(a, candidate.activation, spec);
      actRelative += e.relative();
      sumNoise += e.noise * n;
      sumSignal += e.signal * n;
    }
    if (!isProduct)
      actRelative = sumSignal > 0.0 ? sumNoise / sumSignal : 0.0;
    c.relativeNoise = actRelative;
    if (weight) {
      auto type = cast<RankedTensorType>(weight.getType());
      if (isIntegerFormat(candidate.weight) && dims) {
        c.layout.channelAxis = constant->getConstantDim(dims->weightChannel);
        std::optional<int64_t> reduction;
        if (dims->weightReduction)
          reduction = constant->getConstantDim(*dims->weightReduction);
        if (candidate.weight == ElementFormat::I4 && groupSize > 0 &&
            type.getRank() == 2 && reduction &&
            type.getDimSize(*reduction) % groupSize == 0 &&
            type.getDimSize(*reduction) > int64_t(groupSize)) {
          c.layout.groupAxis = reduction;
          c.layout.groupSize = groupSize;
        }
      }
      llvm::Expected<NoiseEstimate> w = estimateWeightNoise(
          constant->data, type.getShape(), candidate.weight, c.layout);
      if (!w)
        return op->emitError() << "cannot estimate the weight noise of '"
                               << op->getName() << "' in " << candidate.name
                               << ": " << llvm::toString(w.takeError());
      c.relativeNoise += w->relative();
    }
    OpShape shape = info.shape;
    if (weight && isIntegerFormat(candidate.weight)) {
      auto type = cast<RankedTensorType>(weight.getType());
      if (!c.layout.channelAxis)
        shape.weightScales = 1;
      else if (!c.layout.groupAxis)
        shape.weightScales = type.getDimSize(*c.layout.channelAxis);
      else
        shape.weightScales = shape.weightElements / c.layout.groupSize;
    }
    c.cost = computeOpCost(shape, candidate, *targetDesc);
    info.candidates.push_back(c);
  }
  if (info.candidates.empty())
    return op->emitError() << "no precision of target " << targetDesc->name
                           << " applies to this op";
  if (!missing.empty())
    op->emitWarning() << "input '" << missing
                      << "' has no calibration statistics: only float "
                         "precisions are considered for this op";
  return success();
}

//===----------------------------------------------------------------------===//
// Pin tables
//===----------------------------------------------------------------------===//

LogicalResult AssignPrecisionPass::readPins(MutableArrayRef<OpInfo> ops) {
  MLIRContext *ctx = &getContext();
  auto buffer = llvm::MemoryBuffer::getFile(table, /*IsText=*/true);
  if (!buffer)
    return emitError(UnknownLoc::get(ctx))
           << "qopt-assign-precision: cannot read the pin table '" << table
           << "': " << buffer.getError().message();
  llvm::StringMap<SmallVector<OpInfo *>> byName;
  for (OpInfo &info : ops)
    if (!info.name.empty())
      byName[info.name].push_back(&info);
  llvm::StringMap<unsigned> firstLine;

  SmallVector<StringRef> lines;
  (*buffer)->getBuffer().split(lines, '\n');
  for (auto [index, rawLine] : llvm::enumerate(lines)) {
    unsigned lineNo = index + 1;
    Location loc = FileLineColLoc::get(ctx, table, lineNo, 1);
    StringRef line = rawLine.split('#').first.trim();
    if (line.empty())
      continue;
    SmallVector<StringRef> fields;
    line.split(fields, ' ', -1, /*KeepEmpty=*/false);
    SmallVector<StringRef> words;
    for (StringRef f : fields) {
      SmallVector<StringRef> parts;
      f.split(parts, '\t', -1, false);
      words.append(parts.begin(), parts.end());
    }
    if (words.size() != 2)
      return emitError(loc) << "malformed pin line '" << line
                            << "': expected 'op_name precision'";
    StringRef name = words[0], precision = words[1];
    const PrecisionCandidate *candidate =
        lookupCandidate(*targetDesc, precision);
    if (!candidate) {
      InFlightDiagnostic diag = emitError(loc);
      diag << "unknown precision '" << precision << "'; target "
           << targetDesc->name << " offers";
      for (const PrecisionCandidate &c : targetDesc->candidates)
        diag << " " << c.name;
      return failure();
    }
    auto it = byName.find(name);
    if (it == byName.end())
      return emitError(loc) << "no op named '" << name
                            << "' among the ops qopt-assign-precision "
                               "decides (matmuls, convolutions, elementwise "
                               "arithmetic, sum pooling, concat)";
    auto [first, inserted] = firstLine.try_emplace(name, lineNo);
    if (!inserted)
      return emitError(loc) << "op '" << name << "' is pinned twice (first on "
                            << "line " << first->second << ")";
    for (OpInfo *info : it->second) {
      auto match = llvm::find_if(info->candidates, [&](const OpCandidate &c) {
        return c.candidate == candidate;
      });
      if (match == info->candidates.end()) {
        InFlightDiagnostic diag = emitError(loc);
        diag << "precision '" << precision << "' does not apply to op '" << name
             << "'";
        for (const std::string &why : info->dropped)
          if (StringRef(why).starts_with((precision + ":").str()))
            diag << " (" << StringRef(why).drop_front(precision.size() + 2)
                 << ")";
        return failure();
      }
      info->pinned = match - info->candidates.begin();
    }
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Output
//===----------------------------------------------------------------------===//

static Type getFormatType(MLIRContext *ctx, ElementFormat format) {
  switch (format) {
  case ElementFormat::I4:
    return IntegerType::get(ctx, 4);
  case ElementFormat::I8:
    return IntegerType::get(ctx, 8);
  case ElementFormat::F16:
    return Float16Type::get(ctx);
  case ElementFormat::BF16:
    return BFloat16Type::get(ctx);
  case ElementFormat::F32:
    return Float32Type::get(ctx);
  }
  return Float32Type::get(ctx);
}

PrecisionAttr AssignPrecisionPass::buildAttr(MLIRContext *ctx,
                                             const OpInfo &info,
                                             const OpCandidate &c) {
  Type act = getFormatType(ctx, c.candidate->activation);
  if (!info.hasWeight)
    return PrecisionAttr::get(ctx, act, Type(), Granularity::PerTensor, 0);
  Type weight = getFormatType(ctx, c.candidate->weight);
  if (!isIntegerFormat(c.candidate->weight))
    return PrecisionAttr::get(ctx, act, weight, Granularity::PerTensor, 0);
  if (c.layout.groupAxis)
    return PrecisionAttr::get(ctx, act, weight, Granularity::PerGroup,
                              c.layout.groupSize);
  return PrecisionAttr::get(ctx, act, weight,
                            c.layout.channelAxis ? Granularity::PerChannel
                                                 : Granularity::PerTensor,
                            0);
}

/// printf-style formatting into a string (diagnostics take no format_object).
template <typename... Ts>
static std::string fmt(const char *format, Ts... values) {
  std::string s;
  llvm::raw_string_ostream(s) << llvm::format(format, values...);
  return s;
}

static std::string formatDb(double db) {
  if (std::isinf(db))
    return "inf";
  std::string s;
  llvm::raw_string_ostream(s) << llvm::format("%.1f", db);
  return s;
}

void AssignPrecisionPass::writeReport(raw_ostream &os, ArrayRef<OpInfo> ops,
                                      const KnapsackSolution &solution,
                                      double limit, double baselineCost,
                                      double baselineBytes,
                                      int64_t weightElements) {
  os << "qopt-assign-precision report\n";
  os << "target: " << targetDesc->name << " (" << targetDesc->summary << ")\n";
  os << "budget: " << formatBudget() << "\n";
  os << "sensitivity: "
     << (sensitivity == "measure"
             ? "measured (one op at a time, the rest in f32, through "
               "qopt-quantize, qopt-lower-cpu and qopt-run on " +
                   std::to_string(llvm::count(inputs, ',') + 1) + " inputs)"
             : std::string("estimated from weights and statistics"))
     << "\n";
  os << "solver: Pareto-frontier dynamic program, "
     << (solution.exact ? "exact" : "thinned (not exact)") << ", "
     << solution.frontierPoints << " frontier points at most\n\n";
  os << llvm::format("%-20s %-8s %9s %11s %10s %12s  %s\n", "op", "chosen",
                     "SQNR(dB)", "weight(B)", "act(B)", "cost", "candidates");
  double totalBytes = 0, totalBits = 0, totalCost = 0, totalNoise = 0;
  for (const OpInfo &info : ops) {
    const OpCandidate &c = info.candidates[info.chosen];
    totalBytes += c.cost.weightBytes;
    totalBits += c.cost.weightBits;
    totalCost += c.cost.cost;
    totalNoise += c.relativeNoise;
    std::string candidates;
    llvm::raw_string_ostream cs(candidates);
    for (const OpCandidate &other : info.candidates)
      cs << other.candidate->name << ":"
         << formatDb(sqnrDb(other.relativeNoise)) << " ";
    if (info.pinned)
      cs << "(pinned)";
    std::string name = info.name.empty() ? "<unnamed>" : info.name;
    os << llvm::format("%-20s %-8s %9s %11.0f %10.0f %12.0f  ", name.c_str(),
                       c.candidate->name.str().c_str(),
                       formatDb(sqnrDb(c.relativeNoise)).c_str(),
                       c.cost.weightBytes, c.cost.activationBytes, c.cost.cost)
       << StringRef(candidates).rtrim() << "\n";
  }
  os << "\n";
  os << "weight bytes: " << llvm::format("%.0f", totalBytes)
     << " (all-int8: " << llvm::format("%.0f", baselineBytes) << ")\n";
  if (weightElements > 0)
    os << "average weight bits: "
       << llvm::format("%.3f", totalBits / double(weightElements)) << "\n";
  os << "cost: " << llvm::format("%.0f", totalCost) << " = "
     << llvm::format("%.3f", baselineCost > 0 ? totalCost / baselineCost : 0)
     << " x all-int8\n";
  os << "estimated output SQNR: " << formatDb(sqnrDb(totalNoise))
     << " dB (op noise powers added)\n";
  os << "total against the budget: ";
  switch (parsedBudget.kind) {
  case BudgetKind::Size:
    os << llvm::format("%.0f", totalBytes) << " of "
       << llvm::format("%.0f", limit) << " weight bytes\n";
    break;
  case BudgetKind::AvgBits:
    os << llvm::format("%.3f", totalBits / std::max<double>(weightElements, 1))
       << " of " << llvm::format("%.3f", parsedBudget.value)
       << " average weight bits\n";
    break;
  case BudgetKind::Cost:
    os << llvm::format("%.3f", totalCost / baselineCost) << " of "
       << llvm::format("%.3f", parsedBudget.value) << " x all-int8 cost\n";
    break;
  case BudgetKind::Sqnr:
    os << formatDb(sqnrDb(totalNoise)) << " dB, at least "
       << formatDb(parsedBudget.value) << " dB asked\n";
    break;
  }
}

//===----------------------------------------------------------------------===//
// Measured sensitivity
//===----------------------------------------------------------------------===//

/// The float values of a .npy file of float32 or float64 (C order, little
/// endian), or an error naming the file.
static llvm::Expected<std::vector<double>> readNpyFloats(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return llvm::createStringError("cannot read '" + path.str() +
                                   "': " + buffer.getError().message());
  StringRef data = (*buffer)->getBuffer();
  if (!data.starts_with("\x93NUMPY") || data.size() < 10)
    return llvm::createStringError("'" + path.str() + "' is not a .npy file");
  unsigned major = uint8_t(data[6]);
  size_t headerLen, offset;
  if (major == 1) {
    headerLen = uint8_t(data[8]) | (uint8_t(data[9]) << 8);
    offset = 10;
  } else {
    if (data.size() < 12)
      return llvm::createStringError("'" + path.str() + "' is truncated");
    headerLen = uint8_t(data[8]) | (uint8_t(data[9]) << 8) |
                (uint8_t(data[10]) << 16) | (size_t(uint8_t(data[11])) << 24);
    offset = 12;
  }
  if (offset + headerLen > data.size())
    return llvm::createStringError("'" + path.str() + "' is truncated");
  StringRef header = data.substr(offset, headerLen);
  StringRef body = data.substr(offset + headerLen);
  std::vector<double> values;
  if (header.contains("'<f4'")) {
    for (size_t i = 0; i + 4 <= body.size(); i += 4) {
      float f;
      memcpy(&f, body.data() + i, 4);
      values.push_back(f);
    }
  } else if (header.contains("'<f8'")) {
    for (size_t i = 0; i + 8 <= body.size(); i += 8) {
      double d;
      memcpy(&d, body.data() + i, 8);
      values.push_back(d);
    }
  } else {
    return llvm::createStringError("'" + path.str() +
                                   "' holds neither float32 nor float64");
  }
  return values;
}

/// A tool of qopt's: next to the running executable, else on PATH.
static std::optional<std::string> findTool(StringRef name) {
  std::string self = llvm::sys::fs::getMainExecutable(nullptr, nullptr);
  if (!self.empty()) {
    SmallString<256> path(llvm::sys::path::parent_path(self));
    llvm::sys::path::append(path, name);
    if (llvm::sys::fs::can_execute(path))
      return std::string(path);
  }
  if (llvm::ErrorOr<std::string> found = llvm::sys::findProgramByName(name))
    return *found;
  return std::nullopt;
}

/// Runs one configuration of precisions (`attrs[i]` on op i) through
/// qopt-quantize, qopt-lower-cpu and qopt-run on every input, and returns
/// the concatenated outputs.
static llvm::Expected<std::vector<double>>
runConfiguration(ModuleOp module, ArrayRef<Operation *> ops,
                 ArrayRef<Attribute> attrs, StringRef entry,
                 ArrayRef<std::string> inputFiles, StringRef qopt,
                 StringRef qoptRun, StringRef dir, unsigned index) {
  // Set the attributes on the module itself, print it and restore them: a
  // clone would need its ops matched back to ours.
  SmallVector<Attribute> saved;
  for (auto [op, attr] : llvm::zip(ops, attrs)) {
    saved.push_back(op->getAttr(kPrecisionAttr));
    op->setAttr(kPrecisionAttr, attr);
  }
  SmallString<256> source(dir), lowered(dir);
  llvm::sys::path::append(source, "config" + std::to_string(index) + ".mlir");
  llvm::sys::path::append(lowered,
                          "config" + std::to_string(index) + ".low.mlir");
  std::error_code ec;
  {
    llvm::raw_fd_ostream os(source, ec, llvm::sys::fs::OF_Text);
    if (!ec)
      module.print(os, OpPrintingFlags().printGenericOpForm(false));
  }
  for (auto [op, attr] : llvm::zip(ops, saved)) {
    if (attr)
      op->setAttr(kPrecisionAttr, attr);
    else
      op->removeAttr(kPrecisionAttr);
  }
  if (ec)
    return llvm::createStringError("cannot write '" + source.str().str() +
                                   "': " + ec.message());

  std::string errors;
  auto run = [&](ArrayRef<StringRef> args) -> bool {
    SmallString<256> log(dir);
    llvm::sys::path::append(log, "log.txt");
    std::optional<StringRef> redirects[] = {std::nullopt, StringRef(log),
                                            StringRef(log)};
    int rc = llvm::sys::ExecuteAndWait(args[0], args, std::nullopt, redirects,
                                       /*SecondsToWait=*/600, 0, &errors);
    if (rc != 0) {
      auto text = llvm::MemoryBuffer::getFile(log);
      errors += "'";
      for (StringRef a : args)
        errors += (a + " ").str();
      errors += "' failed";
      if (text)
        errors += ": " + (*text)->getBuffer().trim().take_back(400).str();
      return false;
    }
    return true;
  };
  if (!run(
          {qopt, source, "--qopt-quantize", "--qopt-lower-cpu", "-o", lowered}))
    return llvm::createStringError(errors);
  std::vector<double> outputs;
  for (auto [k, input] : llvm::enumerate(inputFiles)) {
    SmallString<256> out(dir);
    llvm::sys::path::append(out, "out" + std::to_string(index) + "_" +
                                     std::to_string(k) + ".npy");
    if (!run({qoptRun, lowered, "--entry", entry, "--input", input, "--output",
              out}))
      return llvm::createStringError(errors);
    llvm::Expected<std::vector<double>> values = readNpyFloats(out);
    if (!values)
      return values.takeError();
    outputs.insert(outputs.end(), values->begin(), values->end());
  }
  return outputs;
}

LogicalResult
AssignPrecisionPass::measureSensitivity(MutableArrayRef<OpInfo> ops) {
  ModuleOp module = getOperation();
  Location loc = module.getLoc();
  SmallVector<func::FuncOp> publics;
  for (auto func : module.getOps<func::FuncOp>())
    if (func.isPublic() && !func.isExternal())
      publics.push_back(func);
  if (publics.size() != 1 || publics.front().getNumArguments() != 1 ||
      publics.front().getNumResults() != 1)
    return mlir::emitError(loc)
           << "qopt-assign-precision: sensitivity=measure needs a module "
              "with one public function of one argument and one result";
  std::optional<std::string> qopt = findTool("qopt");
  std::optional<std::string> qoptRun = findTool("qopt-run");
  if (!qopt || !qoptRun)
    return mlir::emitError(loc)
           << "qopt-assign-precision: sensitivity=measure needs the qopt and "
              "qopt-run executables, next to this program or on PATH";
  SmallVector<std::string> inputFiles;
  for (StringRef file : llvm::split(StringRef(inputs), ','))
    if (!file.trim().empty())
      inputFiles.push_back(file.trim().str());
  SmallString<128> dir;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory("qopt-assign-precision", dir))
    return mlir::emitError(loc) << "qopt-assign-precision: cannot create a "
                                   "temporary directory: "
                                << ec.message();
  llvm::scope_exit cleanup([&] { llvm::sys::fs::remove_directories(dir); });

  MLIRContext *ctx = &getContext();
  auto f32 = Float32Type::get(ctx);
  SmallVector<Operation *> opList;
  SmallVector<Attribute> floatAttrs;
  for (const OpInfo &info : ops) {
    opList.push_back(info.op);
    floatAttrs.push_back(PrecisionAttr::get(
        ctx, f32, info.hasWeight ? f32 : Type(), Granularity::PerTensor, 0));
  }
  StringRef entry = publics.front().getSymName();
  unsigned index = 0;
  llvm::Expected<std::vector<double>> reference =
      runConfiguration(module, opList, floatAttrs, entry, inputFiles, *qopt,
                       *qoptRun, dir, index++);
  if (!reference)
    return mlir::emitError(loc) << "qopt-assign-precision: measuring the f32 "
                                   "model: "
                                << llvm::toString(reference.takeError());
  double signal = 0.0;
  for (double v : *reference)
    signal += v * v;
  for (auto [i, info] : llvm::enumerate(ops)) {
    for (OpCandidate &c : info.candidates) {
      if (c.candidate->activation == ElementFormat::F32) {
        c.relativeNoise = 0.0;
        continue;
      }
      SmallVector<Attribute> attrs(floatAttrs);
      attrs[i] = buildAttr(ctx, info, c);
      llvm::Expected<std::vector<double>> out =
          runConfiguration(module, opList, attrs, entry, inputFiles, *qopt,
                           *qoptRun, dir, index++);
      if (!out)
        return mlir::emitError(loc)
               << "qopt-assign-precision: measuring '" << info.name << "' in "
               << c.candidate->name << ": " << llvm::toString(out.takeError());
      if (out->size() != reference->size())
        return mlir::emitError(loc) << "qopt-assign-precision: outputs of "
                                       "different sizes while measuring '"
                                    << info.name << "'";
      double noise = 0.0;
      for (auto [a, b] : llvm::zip(*out, *reference))
        noise += (a - b) * (a - b);
      c.relativeNoise = signal > 0.0 ? noise / signal : 0.0;
    }
  }
  return success();
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

void AssignPrecisionPass::runOnOperation() {
  ModuleOp module = getOperation();
  MLIRContext *ctx = &getContext();

  std::vector<OpInfo> ops;
  bool failedCollect = false;
  module.walk([&](Operation *op) {
    bool quantizable = isContraction(op) || isElementwiseArith(op) ||
                       isSumPooling(op) || isa<tensor::ConcatOp>(op);
    if (!quantizable || op->getNumResults() != 1)
      return;
    if (isContraction(op) &&
        !getContractionDims(cast<linalg::LinalgOp>(op))) // stays float
      return;
    // QDQ input: its quantization is already decided.
    if (llvm::any_of(op->getOperands(), [](Value v) {
          return v.getDefiningOp<quant::DequantizeCastOp>() != nullptr;
        }))
      return;
    OpInfo info;
    if (failed(collectOp(op, info))) {
      failedCollect = true;
      return;
    }
    ops.push_back(std::move(info));
  });
  if (failedCollect)
    return signalPassFailure();
  if (!table.empty() && failed(readPins(ops)))
    return signalPassFailure();
  if (sensitivity == "measure" && failed(measureSensitivity(ops)))
    return signalPassFailure();

  // Resources and the limit.
  auto resourceOf = [&](const OpCandidate &c) {
    switch (parsedBudget.kind) {
    case BudgetKind::Size:
      return c.cost.weightBytes;
    case BudgetKind::AvgBits:
      return c.cost.weightBits;
    case BudgetKind::Cost:
    case BudgetKind::Sqnr:
      return c.cost.cost;
    }
    return 0.0;
  };
  double baselineCost = 0.0, baselineBytes = 0.0;
  int64_t weightElements = 0;
  for (const OpInfo &info : ops) {
    weightElements += info.shape.weightElements;
    const OpCandidate *base = nullptr;
    for (const OpCandidate &c : info.candidates)
      if (c.candidate->name == targetDesc->baseline)
        base = &c;
    // Ops without the baseline (no statistics) count at their cheapest.
    if (!base)
      base = &*llvm::min_element(
          info.candidates, [](const OpCandidate &a, const OpCandidate &b) {
            return a.cost.cost < b.cost.cost;
          });
    baselineCost += base->cost.cost;
    baselineBytes += base->cost.weightBytes;
  }
  double limit = 0.0;
  KnapsackGoal goal = KnapsackGoal::MinNoiseWithinResource;
  switch (parsedBudget.kind) {
  case BudgetKind::Size:
    limit = parsedBudget.value;
    break;
  case BudgetKind::AvgBits:
    limit = parsedBudget.value * double(weightElements);
    break;
  case BudgetKind::Cost:
    limit = parsedBudget.value * baselineCost;
    break;
  case BudgetKind::Sqnr:
    limit = relativeNoiseFromDb(parsedBudget.value);
    goal = KnapsackGoal::MinResourceWithinNoise;
    break;
  }

  std::vector<std::vector<KnapsackChoice>> items;
  for (const OpInfo &info : ops) {
    std::vector<KnapsackChoice> choices;
    for (auto [i, c] : llvm::enumerate(info.candidates))
      if (!info.pinned || *info.pinned == i)
        choices.push_back({resourceOf(c), c.relativeNoise});
    items.push_back(std::move(choices));
  }
  llvm::Expected<KnapsackSolution> solved =
      solveMultipleChoiceKnapsack(items, goal, limit);
  if (!solved) {
    mlir::emitError(module.getLoc())
        << "qopt-assign-precision: " << llvm::toString(solved.takeError());
    return signalPassFailure();
  }
  if (!solved->feasible) {
    InFlightDiagnostic diag = mlir::emitError(module.getLoc());
    diag << "qopt-assign-precision: budget " << formatBudget()
         << " is infeasible";
    switch (parsedBudget.kind) {
    case BudgetKind::Size:
      diag << "; the smallest feasible budget is size:"
           << fmt("%.0f", solved->minResource);
      break;
    case BudgetKind::AvgBits:
      diag << "; the smallest feasible budget is avg-bits:"
           << fmt("%.4f", std::ceil(solved->minResource /
                                    std::max<double>(weightElements, 1) * 1e4) /
                              1e4);
      break;
    case BudgetKind::Cost:
      diag << "; the smallest feasible budget is cost:"
           << fmt("%.4f",
                  std::ceil(solved->minResource / baselineCost * 1e4) / 1e4);
      break;
    case BudgetKind::Sqnr:
      diag << "; the highest SQNR reachable is sqnr:"
           << fmt("%.2f", std::floor(sqnrDb(solved->minNoise) * 100) / 100);
      break;
    }
    if (!table.empty())
      diag << " (with the pins of " << table << ")";
    return signalPassFailure();
  }

  // Map the solver's per-item choice back to candidate indices.
  for (auto [info, choice] : llvm::zip(ops, solved->choice))
    info.chosen = info.pinned ? *info.pinned : choice;

  if (!exportFile.empty()) {
    std::error_code ec;
    llvm::raw_fd_ostream os(exportFile, ec, llvm::sys::fs::OF_Text);
    if (ec) {
      mlir::emitError(module.getLoc())
          << "qopt-assign-precision: cannot write '" << exportFile
          << "': " << ec.message();
      return signalPassFailure();
    }
    os << "# qopt-assign-precision target=" << targetDesc->name
       << " budget=" << formatBudget() << "\n# op_name precision\n";
    for (const OpInfo &info : ops)
      if (!info.name.empty())
        os << info.name << " " << info.candidates[info.chosen].candidate->name
           << "\n";
  }
  if (!reportFile.empty()) {
    if (reportFile == "-") {
      writeReport(llvm::errs(), ops, *solved, limit, baselineCost,
                  baselineBytes, weightElements);
    } else {
      std::error_code ec;
      llvm::raw_fd_ostream os(reportFile, ec, llvm::sys::fs::OF_Text);
      if (ec) {
        mlir::emitError(module.getLoc())
            << "qopt-assign-precision: cannot write '" << reportFile
            << "': " << ec.message();
        return signalPassFailure();
      }
      writeReport(os, ops, *solved, limit, baselineCost, baselineBytes,
                  weightElements);
    }
  }

  for (const OpInfo &info : ops)
    info.op->setAttr(kPrecisionAttr,
                     buildAttr(ctx, info, info.candidates[info.chosen]));
}
