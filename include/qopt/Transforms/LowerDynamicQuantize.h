//===- LowerDynamicQuantize.h - qopt.dynamic_quantize to linalg -*- C++ -*-===//
//
// The lowering of qopt.dynamic_quantize that qopt-lower-quant applies, for
// tools that lower imported models their own way (qopt-run's plain
// pipeline): one min/max reduction, ONNX Runtime's scale and zero-point
// arithmetic in float32, and the elementwise quantization
// (docs/numerics.md, section 9).
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_TRANSFORMS_LOWERDYNAMICQUANTIZE_H
#define QOPT_TRANSFORMS_LOWERDYNAMICQUANTIZE_H

#include "qopt/Dialect/QOpt/IR/QOptOps.h"

#include "mlir/IR/Builders.h"

namespace mlir::qopt {

/// Replaces `op` with linalg ops computing the same values; `builder`'s
/// insertion point is moved to `op`.
LogicalResult lowerDynamicQuantize(OpBuilder &builder, DynamicQuantizeOp op);

} // namespace mlir::qopt

#endif // QOPT_TRANSFORMS_LOWERDYNAMICQUANTIZE_H
