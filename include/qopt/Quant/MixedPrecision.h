//===- MixedPrecision.h - Targets, noise and the knapsack -------*- C++ -*-===//
//
// The numerics behind qopt-assign-precision, with no IR: the per-target
// tables of precisions an op may run in (what the hardware runs natively and
// how fast, relative to int8), the expected quantization noise of a weight
// tensor or of an activation described by its calibration statistics, the
// cost of one op in one precision, and the multiple-choice knapsack solver
// that picks one precision per op under a budget. docs/mixed-precision.md
// explains the model and the solver.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_QUANT_MIXEDPRECISION_H
#define QOPT_QUANT_MIXEDPRECISION_H

#include "qopt/Quant/QuantParams.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace mlir::qopt {

//===----------------------------------------------------------------------===//
// Target tables
//===----------------------------------------------------------------------===//

/// Element formats an op's activations or weights can have.
enum class ElementFormat { I4, I8, F16, BF16, F32 };

/// Storage bits of a format (4, 8, 16, 16, 32).
unsigned getFormatBits(ElementFormat format);
bool isIntegerFormat(ElementFormat format);
/// "i4", "i8", "f16", "bf16", "f32".
llvm::StringRef stringifyElementFormat(ElementFormat format);

/// One precision a target runs natively: the name used in reports and pin
/// tables, the formats, and the multiply-accumulate throughput relative to
/// i8 x i8 on the same target (1.0 = as fast as int8).
struct PrecisionCandidate {
  llvm::StringRef name;
  ElementFormat activation;
  ElementFormat weight;
  double macThroughput;
  /// Offered only to ops with a constant weight (weight-only formats).
  bool needsWeight = false;
  /// Offered only to contractions (matmul, convolution): qopt-legalize has
  /// no narrow-float form of elementwise ops, pooling or concat.
  bool contractionsOnly = false;
};

/// A target: its candidates, in the order reports list them, and the cost
/// of moving one byte expressed in int8 MACs (the machine balance), which
/// weighs memory traffic against arithmetic in the cost of an op.
struct TargetDescription {
  llvm::StringRef name;
  llvm::StringRef summary;
  llvm::ArrayRef<PrecisionCandidate> candidates;
  double macsPerByte;
  /// The candidate `budget=cost:X` is relative to (all ops in it).
  llvm::StringRef baseline;
};

/// Every built-in target (x86_64, aarch64, sm_90).
llvm::ArrayRef<TargetDescription> getTargetDescriptions();
/// The target called `name`, or nullptr.
const TargetDescription *lookupTargetDescription(llvm::StringRef name);
/// The candidate of `target` called `name`, or nullptr.
const PrecisionCandidate *lookupCandidate(const TargetDescription &target,
                                          llvm::StringRef name);

//===----------------------------------------------------------------------===//
// Noise
//===----------------------------------------------------------------------===//

/// Signal power and noise power (sums of squares over the same elements or
/// the same weighted samples).
struct NoiseEstimate {
  double signal = 0.0;
  double noise = 0.0;
  /// noise / signal (0 when there is no signal).
  double relative() const { return signal > 0.0 ? noise / signal : 0.0; }
};

/// Signal-to-quantization-noise ratio in dB of a relative noise power:
/// -10 log10(r); +infinity when r == 0.
double sqnrDb(double relativeNoise);
/// The relative noise power of an SQNR in dB: 10^(-db / 10).
double relativeNoiseFromDb(double db);

/// Rounds `x` to the nearest value of a float format (round half to even;
/// values beyond f16's range become infinity). Integer formats and f32
/// return x.
float roundToFloatFormat(float x, ElementFormat format);

/// How a weight is quantized for an integer format (symmetric, narrow
/// range, as qopt-legalize does): per tensor, per channel along
/// `channelAxis`, or per group of `groupSize` along `groupAxis`.
struct WeightLayout {
  std::optional<int64_t> channelAxis;
  std::optional<int64_t> groupAxis;
  int64_t groupSize = 0;
};

/// The noise of storing a constant weight (row-major `data` of `shape`) in
/// `format`: integer formats quantize it with quantizeWeights (lib/Quant,
/// the same values qopt-legalize produces) and dequantize; float formats
/// round every element. Signal is sum(w^2), noise sum((w - w')^2).
llvm::Expected<NoiseEstimate> estimateWeightNoise(llvm::ArrayRef<float> data,
                                                  llvm::ArrayRef<int64_t> shape,
                                                  ElementFormat format,
                                                  const WeightLayout &layout);

/// What the calibration statistics say about an activation: its observed
/// range and, when there is one, a histogram of equal-width bins over
/// [histMin, histMax].
struct ActivationStats {
  double min = 0.0, max = 0.0;
  llvm::ArrayRef<int64_t> counts;
  double histMin = 0.0, histMax = 0.0;
};

/// Samples taken per histogram bin (at the midpoints of equal sub-bins), and
/// over [min, max] when there is no histogram.
constexpr int kSamplesPerBin = 16;
constexpr int kSamplesWithoutHistogram = 1024;

/// The expected noise of an activation in `format`: the distribution is the
/// histogram with values spread evenly inside each bin (uniform over
/// [min, max] without one), sampled as above; each sample is quantized with
/// the parameters chooseQuantParams gives `spec` for [min, max] (integer
/// formats; `spec.bits` is taken from the format) or rounded (float
/// formats). Signal and noise are count-weighted means of x^2 and
/// (x - x')^2.
NoiseEstimate estimateActivationNoise(const ActivationStats &stats,
                                      ElementFormat format, QuantSpec spec);

//===----------------------------------------------------------------------===//
// Cost
//===----------------------------------------------------------------------===//

/// The sizes of one op that its cost depends on.
struct OpShape {
  /// Elements of the constant weight (0 when the op has none).
  int64_t weightElements = 0;
  /// Scales stored for an integer weight (channels, or channels x groups).
  int64_t weightScales = 0;
  /// Elements read (non-weight inputs) plus elements written.
  int64_t activationElements = 0;
  /// Multiply-accumulates (contractions) or elementwise operations.
  int64_t macs = 0;
};

struct OpCost {
  /// Weight storage: ceil(elements * bits / 8), plus 4 bytes (an f32
  /// scale) per scale for integer weights.
  double weightBytes = 0.0;
  /// Activation bytes read and written in the activation format.
  double activationBytes = 0.0;
  /// Weight bits times weight elements (for budget=avg-bits).
  double weightBits = 0.0;
  /// Time in int8-MAC units: macs / throughput + macsPerByte * (weight
  /// bytes + activation bytes).
  double cost = 0.0;
};

OpCost computeOpCost(const OpShape &shape, const PrecisionCandidate &candidate,
                     const TargetDescription &target);

/// The time formula of computeOpCost on its own, in int8-MAC units: `macs`
/// at `candidate`'s throughput plus `bytes` moved at the target's balance.
/// For ops whose tensors are not in one candidate's formats (quantize,
/// dequantize and requantize steps, copies), whose bytes the caller counts.
double computeOpTime(double macs, double bytes,
                     const PrecisionCandidate &candidate,
                     const TargetDescription &target);

//===----------------------------------------------------------------------===//
// The multiple-choice knapsack
//===----------------------------------------------------------------------===//

/// One choice for one item: the resource it uses and the noise it adds.
struct KnapsackChoice {
  double resource = 0.0;
  double noise = 0.0;
};

enum class KnapsackGoal {
  /// Least total noise with total resource <= limit.
  MinNoiseWithinResource,
  /// Least total resource with total noise <= limit.
  MinResourceWithinNoise,
};

struct KnapsackSolution {
  bool feasible = false;
  /// The index of the chosen choice per item (empty when infeasible).
  std::vector<unsigned> choice;
  double resource = 0.0, noise = 0.0;
  /// The least resource any selection uses, and the least noise any
  /// selection has: the smallest feasible limit of either goal.
  double minResource = 0.0, minNoise = 0.0;
  /// False when the Pareto frontier had to be thinned (see below).
  bool exact = true;
  /// The largest Pareto frontier met (a measure of the work done).
  size_t frontierPoints = 0;
};

/// Picks exactly one choice per item. Exact dynamic programming over Pareto
/// frontiers: after item i the frontier holds every (resource, noise) pair
/// reachable with items 0..i that no other reachable pair beats in both; the
/// answer is read off the last frontier. When a frontier grows beyond
/// `maxFrontier` points it is thinned to the least-noise point in each of
/// `maxFrontier` equal resource intervals (the least-resource point is
/// always kept) and the solution is marked inexact. Fails on an item
/// without choices or a negative or non-finite value.
llvm::Expected<KnapsackSolution>
solveMultipleChoiceKnapsack(llvm::ArrayRef<std::vector<KnapsackChoice>> items,
                            KnapsackGoal goal, double limit,
                            size_t maxFrontier = 20000);

} // namespace mlir::qopt

#endif // QOPT_QUANT_MIXEDPRECISION_H
