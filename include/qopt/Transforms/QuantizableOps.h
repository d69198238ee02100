//===- QuantizableOps.h - which ops qopt quantizes --------------*- C++ -*-===//
//
// The op classes qopt-legalize quantizes (contractions with an integer
// kernel, elementwise arithmetic, sum pooling, concat) and the IR queries
// that qopt-legalize and qopt-assign-precision share: the statistics of a
// value, the data of a constant weight and the output-channel dimension of a
// contraction's weight. One definition, so that both passes agree on which
// ops get a precision.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_TRANSFORMS_QUANTIZABLEOPS_H
#define QOPT_TRANSFORMS_QUANTIZABLEOPS_H

#include "qopt/Dialect/QOpt/IR/QOptOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Operation.h"
#include "mlir/IR/Value.h"

#include <optional>
#include <vector>

namespace mlir::qopt {

/// Ops with an integer matmul/convolution kernel in qopt-quantize-kernels.
bool isContraction(Operation *op);

/// Ops whose result holds exactly the values of their first operand (moved,
/// selected or repeated), so both share quantization parameters.
bool isScaleKeeping(Operation *op);

/// The float operand whose values a scale-keeping op passes on.
Value getScaleKeepingInput(Operation *op);

/// The binary float op a linalg.generic applies element by element, when it
/// is `yield op(%in0, %in1)` with identity maps.
Operation *getElementwiseBinaryBody(linalg::GenericOp generic);

/// Elementwise add, sub or mul of two tensors of the same shape.
bool isElementwiseArith(Operation *op);

/// Sum pooling: the integer form of average pooling accumulates in i32.
bool isSumPooling(Operation *op);

/// `%y = qopt.stats %x` is transparent: returns %x for %y, else the value.
Value stripStats(Value value);

/// The statistics attached to a value, looking through the stats op itself.
StatsOp lookupStats(Value value);

/// The float values of a constant weight, or nullopt when `value` is not a
/// constant float tensor.
std::optional<std::vector<float>> getConstantFloats(Value value);

/// A contraction's constant weight: an arith.constant, or a linalg.transpose
/// of one (the importer's form of ONNX Gemm with transB=1 and of MatMul on a
/// transposed initializer). The weight is quantized in the constant's own
/// layout, so that it stays the source model's initializer, and the
/// transpose is kept after the dequantization.
struct ConstantWeight {
  /// The float constant (the transpose's input, or the operand itself).
  Value constant;
  /// The transpose, or null.
  linalg::TransposeOp transpose;
  /// The transpose's permutation (operand dimension i is the constant's
  /// dimension permutation[i]); empty without a transpose.
  SmallVector<int64_t> permutation;
  /// The constant's values, row-major in its own layout.
  std::vector<float> data;

  /// The constant's dimension that dimension `d` of the operand reads.
  int64_t getConstantDim(int64_t d) const {
    return permutation.empty() ? d : permutation[d];
  }
};

/// The constant weight `value` is, looking through one linalg.transpose of
/// a constant; nullopt when it is not one.
std::optional<ConstantWeight> getConstantWeight(Value value);

struct ContractionDims {
  /// Dimension of the weight (input 1) that is the output channel.
  int64_t weightChannel;
  /// Dimension of the weight that is reduced, when there is exactly one.
  std::optional<int64_t> weightReduction;
  /// Dimension of the result that is the output channel.
  int64_t resultChannel;
};

/// The output channel is the loop that indexes the weight, is parallel, and
/// does not index the activation (matmul N, conv F); for a depthwise
/// convolution, the weight's only parallel loop (its channel C).
std::optional<ContractionDims> getContractionDims(linalg::LinalgOp op);

/// A copy of the named linalg op `op` (same name and attributes) on
/// `operands` with `resultTypes`, its region rebuilt for the operands'
/// element types by the op's own region builder. Inserted at `b`'s point.
Operation *rebuildNamedOp(OpBuilder &b, linalg::LinalgOp op,
                          ValueRange operands, TypeRange resultTypes);

} // namespace mlir::qopt

#endif // QOPT_TRANSFORMS_QUANTIZABLEOPS_H
