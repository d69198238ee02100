//===- Importer.h - ONNX importer internals ---------------------*- C++ -*-===//
//
// The state shared by the ONNX importer's files: the table from ONNX tensor
// names to IR values (or to host-side constants for shape-computing
// subgraphs folded at import), the node being imported with its attribute
// accessors and error reporting, and the IR builders every operator family
// uses (broadcasting elementwise generics, reductions, reshapes). The
// operator families live in ElementwiseOps.cpp, NNOps.cpp, ShapeOps.cpp and
// QuantOps.cpp, each with a populate function for the dispatch table.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_LIB_TARGET_ONNX_IMPORTER_H
#define QOPT_LIB_TARGET_ONNX_IMPORTER_H

#include "qopt/Target/ONNX/ImportONNX.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringMap.h"

#include "onnx/onnx_pb.h"

#include <functional>
#include <memory>
#include <vector>

namespace mlir::qopt::onnx_import {

using DataType = ::onnx::TensorProto_DataType;

/// A tensor known at import time (initializers, Constant nodes and the
/// results of folded shape computations). Data is little-endian and packed,
/// one byte per bool.
struct HostTensor {
  int32_t dtype = ::onnx::TensorProto_DataType_FLOAT;
  SmallVector<int64_t> shape;
  std::vector<char> data;

  static HostTensor make(int32_t dtype, ArrayRef<int64_t> shape);
  int64_t numel() const;
  size_t elemSize() const { return elementSize(dtype); }
  bool isFloat() const { return isFloatType(dtype); }
  int64_t getInt(int64_t i) const;
  double getDouble(int64_t i) const;
  void setInt(int64_t i, int64_t v);
  void setDouble(int64_t i, double v);
  /// All values as int64 (floats truncated toward zero).
  SmallVector<int64_t> toInts() const;

  static size_t elementSize(int32_t dtype);
  static bool isFloatType(int32_t dtype);
};

/// What the importer knows about one ONNX tensor.
struct Entry {
  Value value;                      // null until materialized
  std::shared_ptr<HostTensor> host; // set when known at import time
  int32_t dtype = 0;
  SmallVector<int64_t> shape;
};

/// Whether an ONNX element type is an unsigned integer.
bool isUnsignedType(int32_t dtype);
bool isIntegerType(int32_t dtype);
/// "FLOAT", "UINT8", ... for messages.
std::string typeName(int32_t dtype);

using BodyFn = llvm::function_ref<Value(OpBuilder &, Location, ValueRange)>;

class Importer;
using Handler = LogicalResult (*)(Importer &);

/// Static sizes/offsets as OpFoldResults for tensor slice ops.
inline SmallVector<OpFoldResult> ofr(Builder &b, ArrayRef<int64_t> values) {
  SmallVector<OpFoldResult> out;
  for (int64_t v : values)
    out.push_back(b.getIndexAttr(v));
  return out;
}

/// Operator families register their handlers here.
void populateElementwiseOps(llvm::StringMap<Handler> &table);
void populateNNOps(llvm::StringMap<Handler> &table);
void populateShapeOps(llvm::StringMap<Handler> &table);
void populateQuantOps(llvm::StringMap<Handler> &table);

class Importer {
public:
  Importer(MLIRContext *context, StringRef fileName,
           const ONNXImportOptions &options);

  OwningOpRef<ModuleOp> importModel(const ::onnx::ModelProto &model);

  //===--------------------------------------------------------------------===//
  // The node being imported.
  //===--------------------------------------------------------------------===//

  MLIRContext *ctx;
  OpBuilder b;
  /// Location of helper ops of the current node (carries no tensor name, so
  /// only the ops that produce ONNX tensors are named).
  Location loc;
  const ::onnx::NodeProto *node = nullptr;
  int64_t opset = 0;

  StringRef opType() const { return node->op_type(); }
  /// An error about the current node: "<file>: node '<n>' (<Op>): ...".
  InFlightDiagnostic error();
  /// An error about the model, not a node: "<file>: ...".
  InFlightDiagnostic modelError();

  unsigned numInputs() const { return node->input_size(); }
  unsigned numOutputs() const { return node->output_size(); }
  bool hasInput(unsigned i) const {
    return (int)i < node->input_size() && !node->input(i).empty();
  }
  bool hasOutput(unsigned i) const {
    return (int)i < node->output_size() && !node->output(i).empty();
  }
  Entry &input(unsigned i) { return values[node->input(i)]; }
  ArrayRef<int64_t> shape(unsigned i) { return input(i).shape; }
  int32_t dtype(unsigned i) { return input(i).dtype; }
  /// The IR value of input `i` (constants are materialized on first use;
  /// quantized values are returned with their `!quant.uniform` type).
  Value in(unsigned i);
  /// Input `i` as plain storage integers when it carries a quantized type.
  Value inStorage(unsigned i);
  /// Input `i` when it is known at import time, else an error naming
  /// `what` ("the 'pads' input") and saying that it must be a constant.
  FailureOr<const HostTensor *> constInput(unsigned i, StringRef what);
  /// Checks that the node has between `min` and `max` inputs and at least
  /// `minOut` outputs.
  LogicalResult checkArity(unsigned min, unsigned max, unsigned maxOut = 1);

  /// Binds output `i` to `v` and names the op producing it after the ONNX
  /// tensor.
  LogicalResult setOutput(unsigned i, Value v, int32_t dtype);
  /// Binds output `i` to a tensor known at import time.
  LogicalResult setHostOutput(unsigned i, HostTensor t);

  bool hasAttr(StringRef name) const;
  const ::onnx::AttributeProto *attr(StringRef name) const;
  FailureOr<int64_t> attrInt(StringRef name, int64_t def);
  FailureOr<float> attrFloat(StringRef name, float def);
  FailureOr<std::string> attrString(StringRef name, StringRef def);
  FailureOr<SmallVector<int64_t>> attrInts(StringRef name);
  FailureOr<SmallVector<float>> attrFloats(StringRef name);

  /// Normalizes an axis in [-rank, rank) to [0, rank), or errors naming the
  /// attribute.
  FailureOr<int64_t> normalizeAxis(int64_t axis, int64_t rank, StringRef what);

  //===--------------------------------------------------------------------===//
  // IR construction helpers.
  //===--------------------------------------------------------------------===//

  /// The MLIR element type of an ONNX element type (signless integers, i1
  /// for BOOL); null for types qopt does not import.
  Type elemType(int32_t dtype);
  RankedTensorType tensorType(ArrayRef<int64_t> shape, Type elem) {
    return RankedTensorType::get(shape, elem);
  }
  Value materialize(StringRef name, Entry &entry);
  Value constant(const HostTensor &t, StringRef name, Location at);
  Value emptyTensor(ArrayRef<int64_t> shape, Type elem);
  Value fill(ArrayRef<int64_t> shape, Type elem, TypedAttr value);
  /// A scalar arith constant of `type` (float or integer) with value `v`.
  Value scalar(OpBuilder &builder, Location at, Type type, double v);
  TypedAttr scalarAttr(Type type, double v);
  /// The lowest / highest value of an element type (-inf/+inf for floats).
  TypedAttr lowestAttr(Type type, bool isUnsigned);
  TypedAttr highestAttr(Type type, bool isUnsigned);

  /// numpy broadcasting of several shapes, or an error.
  FailureOr<SmallVector<int64_t>>
  broadcastShapes(ArrayRef<SmallVector<int64_t>> shapes);
  /// A `linalg.generic` over `outShape`; operands broadcast numpy-style.
  Value elementwise(ValueRange operands, ArrayRef<int64_t> outShape,
                    Type outElem, BodyFn body);
  /// Same, broadcasting the operands' shapes with each other.
  FailureOr<Value> broadcastElementwise(ValueRange operands, Type outElem,
                                        BodyFn body);
  /// Reduces `input` over the sorted `axes` with `combine(value, acc)`,
  /// starting from `init`; keeps reduced axes as size 1 if `keepDims`.
  Value reduce(
      Value input, ArrayRef<int64_t> axes, bool keepDims, TypedAttr init,
      llvm::function_ref<Value(OpBuilder &, Location, Value, Value)> combine);
  /// A reshape between static shapes with the same element count.
  Value reshape(Value input, ArrayRef<int64_t> shape);
  Value transpose(Value input, ArrayRef<int64_t> perm);
  /// Pads with a constant; negative pads slice.
  Value padConstant(Value input, ArrayRef<int64_t> low, ArrayRef<int64_t> high,
                    TypedAttr value);
  /// Converts scalar `v` from ONNX type `from` to ONNX type `to` (ONNX Cast
  /// semantics: float->int truncates, x->bool is x != 0).
  Value convertScalar(OpBuilder &builder, Location at, Value v, int32_t from,
                      int32_t to);

  /// A location naming an ONNX tensor.
  Location nameLoc(StringRef name);

private:
  LogicalResult importGraph(const ::onnx::GraphProto &graph, ModuleOp module);
  LogicalResult importInitializer(const ::onnx::TensorProto &tensor);
  LogicalResult importNode(const ::onnx::NodeProto &nodeProto, int index);

  std::string fileName;
  const ONNXImportOptions &options;
  llvm::StringMap<Entry> values;
  llvm::StringMap<Handler> handlers;
  int nodeIndex = 0;
};

/// Convolution geometry of an N-d ONNX Conv-like node.
struct ConvGeometry {
  SmallVector<int64_t> kernel, strides, dilations, padLo, padHi, outSpatial;
  int64_t group = 1;
};

/// Reads kernel_shape/strides/dilations/pads/auto_pad/group for an input of
/// `xShape` and a kernel of spatial shape `kernel` and computes the output
/// spatial sizes (floor, or ceil when `ceilMode`).
FailureOr<ConvGeometry> getConvGeometry(Importer &im, ArrayRef<int64_t> xShape,
                                        ArrayRef<int64_t> kernel,
                                        bool ceilMode = false);

/// An N-d grouped convolution (NC[D]HW input already padded, OI[D]HW weight)
/// as a named linalg conv when one fits (2-d, one group, float) or a
/// `linalg.generic`; `body(x, w, acc)` accumulates one product.
Value buildConv(
    Importer &im, Value x, Value w, const ConvGeometry &g, Type accType,
    bool allowNamed,
    llvm::function_ref<Value(OpBuilder &, Location, Value, Value, Value)> body);

/// A matrix product with numpy MatMul semantics (1-d promotion, batch
/// broadcasting). Named linalg.matmul / batch_matmul where they fit.
FailureOr<Value> buildMatMul(
    Importer &im, Value a, Value b, Type accType, bool allowNamed,
    llvm::function_ref<Value(OpBuilder &, Location, Value, Value, Value)> body);

/// Decodes a TensorProto into a host tensor; errors are returned as text.
FailureOr<HostTensor> decodeTensor(const ::onnx::TensorProto &tensor,
                                   std::string &error);

} // namespace mlir::qopt::onnx_import

#endif // QOPT_LIB_TARGET_ONNX_IMPORTER_H
