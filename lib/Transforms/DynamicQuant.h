//===- DynamicQuant.h - dynamic quantization, shared internals --*- C++ -*-===//
//
// What qopt-legalize{mode=dynamic} (LegalizeDynamic.cpp) and qopt-lower-quant
// (LowerQuantDynamic.cpp, declared in qopt/Transforms/LowerDynamicQuantize.h)
// share with the files that host their passes: the options of the dynamic
// mode, its counters, and its entry point.
// Internal to lib/Transforms.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_LIB_TRANSFORMS_DYNAMICQUANT_H
#define QOPT_LIB_TRANSFORMS_DYNAMICQUANT_H

#include "qopt/Dialect/QOpt/IR/QOptOps.h"
#include "qopt/Transforms/LowerDynamicQuantize.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::qopt {

/// qopt-legalize's options as mode=dynamic reads them.
struct DynamicLegalizeOptions {
  /// One weight scale per output channel (else one per tensor).
  bool perChannelWeights = true;
  /// u8 asymmetric weights (ORT's QUInt8) instead of s8 symmetric.
  bool unsignedWeights = false;
  /// One activation scale per row (per token) instead of per tensor.
  bool perRowActivations = false;
};

/// What mode=dynamic did, for the pass statistics.
struct DynamicLegalizeCounts {
  unsigned quantizedOps = 0;
  unsigned floatOps = 0;
  unsigned weights = 0;
};

/// Rewrites every matmul, batch_matmul and convolution with a constant f32
/// weight into run-time activation quantization (qopt.dynamic_quantize), an
/// i8 x i8 -> i32 contraction on the compile-time quantized weight, and the
/// float32 scaling of ONNX Runtime (docs/dynamic-quantization.md). Ops it
/// cannot rewrite stay float, each with a remark.
LogicalResult legalizeDynamic(ModuleOp module,
                              const DynamicLegalizeOptions &options,
                              DynamicLegalizeCounts &counts);

} // namespace mlir::qopt

#endif // QOPT_LIB_TRANSFORMS_DYNAMICQUANT_H
