//===- MixedPrecision.cpp - Targets, noise and the knapsack -----*- C++ -*-===//
//
// The target tables qopt-assign-precision chooses from, its noise and cost
// model, and the Pareto-frontier dynamic program that solves the
// multiple-choice knapsack. Plain C++: the pass gathers weights, statistics
// and shapes from the IR and calls these.
//
//===----------------------------------------------------------------------===//

#include "qopt/Quant/MixedPrecision.h"
#include "qopt/Quant/WeightQuant.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/STLExtras.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::qopt;

//===----------------------------------------------------------------------===//
// Target tables
//===----------------------------------------------------------------------===//

// Throughputs are MACs per instruction relative to the int8 dot product of
// the same vector width; they are the tables' data, not measurements.
//
// x86_64 with AVX512-VNNI and AVX512-BF16: vpdpbusd does 64 u8 x s8 MACs per
// 512-bit instruction, vdpbf16ps 32 bf16 MACs, vfmadd231ps 16 f32 MACs. w4
// weights are widened to i8 and run through vpdpbusd. The machine balance (2
// MACs per byte) is that of an L2-resident working set: about 128 int8 MACs
// and 64 bytes of L2 bandwidth per cycle per core.
static const PrecisionCandidate kX86Candidates[] = {
    {"i8", ElementFormat::I8, ElementFormat::I8, 1.0},
    {"w4a8", ElementFormat::I8, ElementFormat::I4, 1.0, /*needsWeight=*/true},
    {"bf16", ElementFormat::BF16, ElementFormat::BF16, 0.5,
     /*needsWeight=*/false, /*contractionsOnly=*/true},
    {"f32", ElementFormat::F32, ElementFormat::F32, 0.25},
};

// aarch64 with I8MM and FP16: smmla does 32 s8 MACs per 128-bit instruction,
// fmla 8 f16 or 4 f32 MACs.
static const PrecisionCandidate kAArch64Candidates[] = {
    {"i8", ElementFormat::I8, ElementFormat::I8, 1.0},
    {"w4a8", ElementFormat::I8, ElementFormat::I4, 1.0, /*needsWeight=*/true},
    {"f16", ElementFormat::F16, ElementFormat::F16, 0.25,
     /*needsWeight=*/false, /*contractionsOnly=*/true},
    {"f32", ElementFormat::F32, ElementFormat::F32, 0.125},
};

// sm_90 (H100 SXM data sheet, dense): int8 tensor cores 1979 TOPS, f16 and
// bf16 989 TFLOPS, f32 without tensor cores 67 TFLOPS; 3.35 TB/s of HBM3,
// so about 590 int8 MACs per byte. fp8 is not offered: MLIR 22's
// !quant.uniform has no float8 storage and qopt-legalize has no fp8 form.
static const PrecisionCandidate kSm90Candidates[] = {
    {"i8", ElementFormat::I8, ElementFormat::I8, 1.0},
    {"f16", ElementFormat::F16, ElementFormat::F16, 0.5,
     /*needsWeight=*/false, /*contractionsOnly=*/true},
    {"bf16", ElementFormat::BF16, ElementFormat::BF16, 0.5,
     /*needsWeight=*/false, /*contractionsOnly=*/true},
    {"f32", ElementFormat::F32, ElementFormat::F32, 0.034},
};

static const TargetDescription kTargets[] = {
    {"x86_64", "x86-64 with AVX512-VNNI and AVX512-BF16", kX86Candidates,
     /*macsPerByte=*/2.0, "i8"},
    {"aarch64", "AArch64 with I8MM and FP16", kAArch64Candidates,
     /*macsPerByte=*/2.0, "i8"},
    {"sm_90", "NVIDIA sm_90 (H100)", kSm90Candidates,
     /*macsPerByte=*/590.0, "i8"},
};

unsigned mlir::qopt::getFormatBits(ElementFormat format) {
  switch (format) {
  case ElementFormat::I4:
    return 4;
  case ElementFormat::I8:
    return 8;
  case ElementFormat::F16:
  case ElementFormat::BF16:
    return 16;
  case ElementFormat::F32:
    return 32;
  }
  return 32;
}

bool mlir::qopt::isIntegerFormat(ElementFormat format) {
  return format == ElementFormat::I4 || format == ElementFormat::I8;
}

llvm::StringRef mlir::qopt::stringifyElementFormat(ElementFormat format) {
  switch (format) {
  case ElementFormat::I4:
    return "i4";
  case ElementFormat::I8:
    return "i8";
  case ElementFormat::F16:
    return "f16";
  case ElementFormat::BF16:
    return "bf16";
  case ElementFormat::F32:
    return "f32";
  }
  return "f32";
}

llvm::ArrayRef<TargetDescription> mlir::qopt::getTargetDescriptions() {
  return kTargets;
}

const TargetDescription *
mlir::qopt::lookupTargetDescription(llvm::StringRef name) {
  for (const TargetDescription &target : kTargets)
    if (target.name == name)
      return &target;
  return nullptr;
}

const PrecisionCandidate *
mlir::qopt::lookupCandidate(const TargetDescription &target,
                            llvm::StringRef name) {
  for (const PrecisionCandidate &candidate : target.candidates)
    if (candidate.name == name)
      return &candidate;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Noise
//===----------------------------------------------------------------------===//

double mlir::qopt::sqnrDb(double relativeNoise) {
  if (relativeNoise <= 0.0)
    return std::numeric_limits<double>::infinity();
  return -10.0 * std::log10(relativeNoise);
}

double mlir::qopt::relativeNoiseFromDb(double db) {
  return std::pow(10.0, -db / 10.0);
}

float mlir::qopt::roundToFloatFormat(float x, ElementFormat format) {
  const llvm::fltSemantics *semantics = nullptr;
  if (format == ElementFormat::F16)
    semantics = &llvm::APFloat::IEEEhalf();
  else if (format == ElementFormat::BF16)
    semantics = &llvm::APFloat::BFloat();
  else
    return x;
  llvm::APFloat value(x);
  bool lost;
  value.convert(*semantics, llvm::APFloat::rmNearestTiesToEven, &lost);
  value.convert(llvm::APFloat::IEEEsingle(), llvm::APFloat::rmNearestTiesToEven,
                &lost);
  return value.convertToFloat();
}

llvm::Expected<NoiseEstimate> mlir::qopt::estimateWeightNoise(
    llvm::ArrayRef<float> data, llvm::ArrayRef<int64_t> shape,
    ElementFormat format, const WeightLayout &layout) {
  NoiseEstimate estimate;
  for (float w : data)
    estimate.signal += double(w) * double(w);
  if (!isIntegerFormat(format)) {
    for (float w : data) {
      double err = double(w) - double(roundToFloatFormat(w, format));
      estimate.noise += err * err;
    }
    return estimate;
  }

  WeightQuantSpec spec;
  spec.storage.bits = getFormatBits(format);
  spec.channelAxis = layout.channelAxis;
  spec.groupAxis = layout.groupAxis;
  spec.groupSize = layout.groupSize;
  llvm::Expected<QuantizedWeights> q = quantizeWeights(data, shape, spec);
  if (!q)
    return q.takeError();

  // Row-major walk over the elements, tracking each one's parameter index.
  int64_t rank = shape.size();
  std::vector<int64_t> paramStrides(rank, 0);
  if (!q->paramShape.empty()) {
    int64_t stride = 1;
    for (int64_t d = rank - 1; d >= 0; --d) {
      paramStrides[d] = stride;
      stride *= q->paramShape[d];
    }
  }
  std::vector<int64_t> index(rank, 0);
  for (size_t i = 0; i < data.size(); ++i) {
    int64_t param = 0;
    for (int64_t d = 0; d < rank && !q->paramShape.empty(); ++d) {
      if (q->paramShape[d] == 1)
        continue;
      int64_t coord = index[d];
      if (layout.groupAxis && d == *layout.groupAxis)
        coord /= layout.groupSize;
      param += coord * paramStrides[d];
    }
    double scale = q->scales[param];
    double restored = scale * double(q->values[i] - q->zeroPoints[param]);
    double err = double(data[i]) - restored;
    estimate.noise += err * err;
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++index[d] < shape[d])
        break;
      index[d] = 0;
    }
  }
  return estimate;
}

NoiseEstimate mlir::qopt::estimateActivationNoise(const ActivationStats &stats,
                                                  ElementFormat format,
                                                  QuantSpec spec) {
  std::optional<QuantParams> params;
  if (isIntegerFormat(format)) {
    spec.bits = getFormatBits(format);
    llvm::Expected<QuantParams> chosen =
        chooseQuantParams(stats.min, stats.max, spec);
    if (chosen) {
      chosen->scale = roundScaleToF32(chosen->scale);
      params = *chosen;
    } else {
      llvm::consumeError(chosen.takeError());
    }
  }
  auto sampleError = [&](double x) -> double {
    if (format == ElementFormat::F32)
      return 0.0;
    if (!isIntegerFormat(format))
      return x - double(roundToFloatFormat(float(x), format));
    if (!params)
      return x; // no valid range: everything is lost
    return x - dequantize(quantize(x, *params), *params);
  };

  NoiseEstimate estimate;
  auto addRange = [&](double lo, double hi, int samples, double weight) {
    double width = (hi - lo) / samples;
    for (int s = 0; s < samples; ++s) {
      double x = lo + (s + 0.5) * width;
      double err = sampleError(x);
      estimate.signal += weight * x * x;
      estimate.noise += weight * err * err;
    }
  };
  int64_t total = 0;
  for (int64_t c : stats.counts)
    total += c;
  if (total > 0) {
    double binWidth = (stats.histMax - stats.histMin) / stats.counts.size();
    for (size_t b = 0; b < stats.counts.size(); ++b) {
      if (stats.counts[b] == 0)
        continue;
      double lo = stats.histMin + b * binWidth;
      addRange(lo, lo + binWidth, kSamplesPerBin,
               double(stats.counts[b]) / double(total) / kSamplesPerBin);
    }
  } else {
    addRange(stats.min, stats.max, kSamplesWithoutHistogram,
             1.0 / kSamplesWithoutHistogram);
  }
  return estimate;
}

//===----------------------------------------------------------------------===//
// Cost
//===----------------------------------------------------------------------===//

OpCost mlir::qopt::computeOpCost(const OpShape &shape,
                                 const PrecisionCandidate &candidate,
                                 const TargetDescription &target) {
  OpCost cost;
  unsigned weightBits = getFormatBits(candidate.weight);
  if (shape.weightElements > 0) {
    cost.weightBits = double(shape.weightElements) * weightBits;
    cost.weightBytes = std::ceil(cost.weightBits / 8.0);
    if (isIntegerFormat(candidate.weight))
      cost.weightBytes += 4.0 * double(shape.weightScales);
  }
  cost.activationBytes = double(shape.activationElements) *
                         (getFormatBits(candidate.activation) / 8.0);
  cost.cost =
      computeOpTime(double(shape.macs), cost.weightBytes + cost.activationBytes,
                    candidate, target);
  return cost;
}

double mlir::qopt::computeOpTime(double macs, double bytes,
                                 const PrecisionCandidate &candidate,
                                 const TargetDescription &target) {
  return macs / candidate.macThroughput + target.macsPerByte * bytes;
}

//===----------------------------------------------------------------------===//
// The multiple-choice knapsack
//===----------------------------------------------------------------------===//

namespace {
struct FrontierPoint {
  double resource, noise;
  /// Index of the point of the previous frontier this one extends, and the
  /// choice of the current item that extends it.
  unsigned parent, choice;
};
} // namespace

llvm::Expected<KnapsackSolution> mlir::qopt::solveMultipleChoiceKnapsack(
    llvm::ArrayRef<std::vector<KnapsackChoice>> items, KnapsackGoal goal,
    double limit, size_t maxFrontier) {
  for (auto [i, choices] : llvm::enumerate(items)) {
    if (choices.empty())
      return llvm::createStringError("item " + std::to_string(i) +
                                     " has no choices");
    for (const KnapsackChoice &c : choices)
      if (!std::isfinite(c.resource) || !std::isfinite(c.noise) ||
          c.resource < 0.0 || c.noise < 0.0)
        return llvm::createStringError(
            "item " + std::to_string(i) +
            " has a negative or non-finite resource or noise");
  }
  maxFrontier = std::max<size_t>(maxFrontier, 2);

  KnapsackSolution solution;
  std::vector<std::vector<FrontierPoint>> frontiers;
  std::vector<FrontierPoint> current = {{0.0, 0.0, 0, 0}};
  for (const std::vector<KnapsackChoice> &choices : items) {
    std::vector<FrontierPoint> next;
    next.reserve(current.size() * choices.size());
    for (auto [p, point] : llvm::enumerate(current))
      for (auto [c, choice] : llvm::enumerate(choices))
        next.push_back({point.resource + choice.resource,
                        point.noise + choice.noise, unsigned(p), unsigned(c)});
    llvm::sort(next, [](const FrontierPoint &a, const FrontierPoint &b) {
      return a.resource < b.resource ||
             (a.resource == b.resource && a.noise < b.noise);
    });
    // Keep the points that strictly lower the noise of every cheaper one.
    std::vector<FrontierPoint> pareto;
    for (const FrontierPoint &point : next)
      if (pareto.empty() || point.noise < pareto.back().noise)
        pareto.push_back(point);
    if (pareto.size() > maxFrontier) {
      // Thin: per resource interval, the last (least-noise) point; the
      // first point (least resource) always stays.
      double lo = pareto.front().resource, hi = pareto.back().resource;
      double width = (hi - lo) / double(maxFrontier);
      std::vector<FrontierPoint> thinned = {pareto.front()};
      for (size_t i = 1; i < pareto.size(); ++i) {
        bool lastInBucket = i + 1 == pareto.size() ||
                            std::floor((pareto[i + 1].resource - lo) / width) !=
                                std::floor((pareto[i].resource - lo) / width);
        if (lastInBucket)
          thinned.push_back(pareto[i]);
      }
      pareto = std::move(thinned);
      solution.exact = false;
    }
    solution.frontierPoints = std::max(solution.frontierPoints, pareto.size());
    frontiers.push_back(pareto);
    current = std::move(pareto);
  }

  solution.minResource = current.front().resource;
  solution.minNoise = current.back().noise;
  // Sums of the same doubles in the same order are compared, but a limit
  // given by hand (budget=cost:1.0 times the baseline) may differ in the
  // last bit: allow a relative 1e-9.
  double slack = std::abs(limit) * 1e-9;
  std::optional<size_t> pick;
  if (goal == KnapsackGoal::MinNoiseWithinResource) {
    for (size_t i = 0; i < current.size(); ++i)
      if (current[i].resource <= limit + slack)
        pick = i; // the frontier's noise falls as its resource grows
  } else {
    for (size_t i = 0; i < current.size() && !pick; ++i)
      if (current[i].noise <= limit + slack)
        pick = i;
  }
  if (!pick)
    return solution;

  solution.feasible = true;
  solution.resource = current[*pick].resource;
  solution.noise = current[*pick].noise;
  solution.choice.assign(items.size(), 0);
  unsigned index = *pick;
  for (size_t item = items.size(); item-- > 0;) {
    const FrontierPoint &point = frontiers[item][index];
    solution.choice[item] = point.choice;
    index = point.parent;
  }
  return solution;
}
