//===- QuantizeKernels.h - Shared by qopt-quantize-kernels ------*- C++ -*-===//
//
// Private to lib/Transforms: the helpers that the pattern files of
// qopt-quantize-kernels share (reading quantized operands, building storage
// casts and i32 accumulators, turning the final quant.qcast into
// qopt.requantize) and the populate functions of each pattern family.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_LIB_TRANSFORMS_QUANTIZEKERNELS_H
#define QOPT_LIB_TRANSFORMS_QUANTIZEKERNELS_H

#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/PatternMatch.h"

#include <optional>

namespace mlir::qopt::kernels {

//===----------------------------------------------------------------------===//
// Quantized operands
//===----------------------------------------------------------------------===//

/// The parameters of a per-tensor or per-axis uniform quantized type.
/// Sub-channel (per-group) types have none: they are not matched yet.
struct UniformParams {
  quant::QuantizedType type;
  std::optional<int32_t> axis;
  SmallVector<double> scales;
  SmallVector<int64_t> zeroPoints;

  /// Reads the element type of `type` (a shaped type or an element type).
  static std::optional<UniformParams> get(Type type);

  bool isPerAxis() const { return axis.has_value(); }
  double scale(int64_t channel) const { return scales[axis ? channel : 0]; }
  /// The zero point shared by every channel, if there is one.
  std::optional<int64_t> commonZeroPoint() const;
  unsigned storageBits() const { return type.getStorageTypeIntegralWidth(); }
  bool isSigned() const { return type.isSigned(); }
  /// The largest |q - zp| over the storage range (zp: commonZeroPoint()).
  double maxMagnitude() const;
};

/// A float operand of an op that reads `quant.dcast %quantized`, directly or
/// through a linalg.broadcast. `map` takes the op's loops to the dimensions
/// of `quantized` (the broadcast composed in).
struct QuantOperand {
  Value quantized;
  AffineMap map;
  UniformParams params;

  /// The loop that indexes the quantized axis: none for per-tensor
  /// parameters, failure when the axis is indexed by anything but a loop.
  FailureOr<std::optional<unsigned>> getChannelLoop() const;
};

/// Matches `operand`, read through `map`, as a dequantized value.
std::optional<QuantOperand> getQuantOperand(Value operand, AffineMap map);

/// The storage integers (`tensor<2x3xi8>`) of a quantized tensor value
/// (`tensor<2x3x!quant.uniform<i8:...>>`): the operand of the `quant.scast`
/// that made it from storage when there is one, else a new `quant.scast`.
Value getStorage(OpBuilder &builder, Location loc, Value quantized);

/// Scale of the product of two quantized values: the product of the two
/// scales, each rounded to float32, computed and rounded in float32 as
/// ONNX Runtime's QLinear kernels do (ARCHITECTURE.md section 3, `float`
/// requantization). qopt-legalize quantizes biases with the same rule, so a
/// bias scale equals the accumulator scale and the bias add stays in i32.
double productScale(double lhs, double rhs);

/// `!quant.uniform<i32:expressed, scale>` (zero point 0, full i32 range), or
/// the per-axis type along `axis` when `axis` is set.
quant::QuantizedType getI32Type(Type expressed, ArrayRef<double> scales,
                                std::optional<int32_t> axis);

/// Inside a kernel body: `value` widened to i32 (sign- or zero-extended)
/// minus `zeroPoint`.
Value extendToI32(OpBuilder &builder, Location loc, Value value, bool isSigned,
                  int64_t zeroPoint);

/// The integer attribute of `value` in the signless storage type `intType`.
IntegerAttr getStorageAttr(Type intType, int64_t value);

/// A tensor.empty with the shape of `like` (a ranked tensor) and
/// `elementType`.
Value createEmptyLike(OpBuilder &builder, Location loc, Value like,
                      Type elementType);

/// A linalg.fill of the integer `value` into an empty tensor shaped like
/// `like`, of element type `elementType`.
Value createFilledLike(OpBuilder &builder, Location loc, Value like,
                       Type elementType, int64_t value);

/// The float constant that fills `init` (linalg.fill of a constant, or a
/// splat constant), if any.
std::optional<APFloat> getFillValue(Value init);

/// True when every |q - zp| product of `factors` summed `count` times fits
/// in i32, or (count unknown) when every factor fits in 8 bits: i32
/// accumulation of 8-bit products is the industry contract (TFLite, ONNX
/// Runtime), safe up to 33025 terms of the largest product.
bool accumulationFits(ArrayRef<const UniformParams *> factors,
                      std::optional<int64_t> count);

/// Copies the discardable attributes of the float op `from` (its
/// #qopt.precision, for instance) to the integer kernel `to`, except
/// linalg's own caches (`linalg.memoized_indexing_maps`).
void copyDiscardableAttrs(Operation *from, Operation *to);

/// Erases the producers of `values` that are now unused and free of side
/// effects, and then theirs: the float ops a rewrite has replaced.
void eraseDeadProducers(RewriterBase &rewriter, ValueRange values);

//===----------------------------------------------------------------------===//
// Elementwise recognition
//===----------------------------------------------------------------------===//

/// An elementwise binary float op: a linalg op with two inputs, parallel
/// loops, an identity output map and a body `yield op(%in0, %in1)`, or an
/// arith op on two tensors of one type.
struct ElementwiseBinary {
  enum Kind { Add, Sub, Mul } kind;
  Value lhs, rhs;
  AffineMap lhsMap, rhsMap;
  unsigned numLoops;
};
std::optional<ElementwiseBinary> matchElementwiseBinary(Operation *op);

//===----------------------------------------------------------------------===//
// The output side: quant.qcast -> qopt.requantize
//===----------------------------------------------------------------------===//

/// What a `quant.qcast` of a kernel's float result becomes. `core` is the
/// qcast's input with any ReLU/clamp ops peeled off; `requantType` is the
/// qcast's type, with storage bounds narrowed to the clamp when the clamp is
/// not implied by saturation.
struct OutputPlan {
  Value core;
  RankedTensorType outputType;
  RankedTensorType requantType;
  bool hasClamp = false;
};

/// Plans the output side of `op`; fails when a clamp cannot be expressed as
/// saturation of the output type.
FailureOr<OutputPlan> planOutput(quant::QuantizeCastOp op);

/// Requantizes `quantized` (a tensor of a quantized type, shaped like the
/// qcast) to the planned output type.
Value buildOutput(OpBuilder &builder, Location loc, Value quantized,
                  const OutputPlan &plan);

/// Base of the patterns that replace a float kernel and the qcast of its
/// result: `rewriteCore` builds the kernel's integer result as a quantized
/// tensor (checking everything before it builds anything, so that a failure
/// leaves the IR untouched), and the base requantizes it to the output type
/// and erases the float ops that are left unused.
class KernelOutputPattern : public OpRewritePattern<quant::QuantizeCastOp> {
public:
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(quant::QuantizeCastOp op,
                                PatternRewriter &rewriter) const final;

protected:
  virtual FailureOr<Value> rewriteCore(const OutputPlan &plan,
                                       PatternRewriter &rewriter) const = 0;
};

//===----------------------------------------------------------------------===//
// Pattern families
//===----------------------------------------------------------------------===//

/// Matmul/convolution kernels and bias adds in i32
/// (QuantizeKernelsContraction.cpp).
void populateContractionPatterns(RewritePatternSet &patterns);

/// Elementwise add/sub/mul and pooling (QuantizeKernelsElementwise.cpp).
void populateElementwisePatterns(RewritePatternSet &patterns);

} // namespace mlir::qopt::kernels

#endif // QOPT_LIB_TRANSFORMS_QUANTIZEKERNELS_H
