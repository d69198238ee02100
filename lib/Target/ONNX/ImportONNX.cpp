//===- ImportONNX.cpp - ONNX model to MLIR importer -------------*- C++ -*-===//
//
// The importer's driver: parses the model with libonnx, validates the opset
// and the operators, runs the ONNX checker, turns graph inputs into function
// arguments (with static shapes from the model or --input-shape) and
// initializers into constants, imports the nodes in graph order through the
// per-family handlers, and registers `--import-onnx` for MlirTranslateMain.
// Also holds the shared helpers declared in Importer.h.
//
//===----------------------------------------------------------------------===//

#include "Importer.h"

#include "qopt/Dialect/QOpt/IR/QOptDialect.h"
#include "qopt/Transforms/TensorNames.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"

#include "onnx/checker.h"

#include <cstring>

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::onnx_import;
namespace onnxp = ::onnx;

//===----------------------------------------------------------------------===//
// Element types and host tensors.
//===----------------------------------------------------------------------===//

bool onnx_import::isUnsignedType(int32_t dtype) {
  return dtype == onnxp::TensorProto_DataType_UINT8 ||
         dtype == onnxp::TensorProto_DataType_UINT16 ||
         dtype == onnxp::TensorProto_DataType_UINT32 ||
         dtype == onnxp::TensorProto_DataType_UINT64;
}

bool onnx_import::isIntegerType(int32_t dtype) {
  switch (dtype) {
  case onnxp::TensorProto_DataType_UINT8:
  case onnxp::TensorProto_DataType_INT8:
  case onnxp::TensorProto_DataType_UINT16:
  case onnxp::TensorProto_DataType_INT16:
  case onnxp::TensorProto_DataType_INT32:
  case onnxp::TensorProto_DataType_INT64:
  case onnxp::TensorProto_DataType_UINT32:
  case onnxp::TensorProto_DataType_UINT64:
    return true;
  default:
    return false;
  }
}

std::string onnx_import::typeName(int32_t dtype) {
  if (onnxp::TensorProto_DataType_IsValid(dtype))
    return onnxp::TensorProto_DataType_Name(
        static_cast<onnxp::TensorProto_DataType>(dtype));
  return "type#" + std::to_string(dtype);
}

size_t HostTensor::elementSize(int32_t dtype) {
  switch (dtype) {
  case onnxp::TensorProto_DataType_BOOL:
  case onnxp::TensorProto_DataType_UINT8:
  case onnxp::TensorProto_DataType_INT8:
    return 1;
  case onnxp::TensorProto_DataType_UINT16:
  case onnxp::TensorProto_DataType_INT16:
  case onnxp::TensorProto_DataType_FLOAT16:
  case onnxp::TensorProto_DataType_BFLOAT16:
    return 2;
  case onnxp::TensorProto_DataType_FLOAT:
  case onnxp::TensorProto_DataType_INT32:
  case onnxp::TensorProto_DataType_UINT32:
    return 4;
  case onnxp::TensorProto_DataType_DOUBLE:
  case onnxp::TensorProto_DataType_INT64:
  case onnxp::TensorProto_DataType_UINT64:
    return 8;
  default:
    return 0;
  }
}

bool HostTensor::isFloatType(int32_t dtype) {
  return dtype == onnxp::TensorProto_DataType_FLOAT ||
         dtype == onnxp::TensorProto_DataType_DOUBLE ||
         dtype == onnxp::TensorProto_DataType_FLOAT16 ||
         dtype == onnxp::TensorProto_DataType_BFLOAT16;
}

HostTensor HostTensor::make(int32_t dtype, ArrayRef<int64_t> shape) {
  HostTensor t;
  t.dtype = dtype;
  t.shape.assign(shape.begin(), shape.end());
  t.data.assign(t.numel() * elementSize(dtype), 0);
  return t;
}

int64_t HostTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

template <typename T> static T load(const std::vector<char> &data, size_t i) {
  T v;
  std::memcpy(&v, data.data() + i * sizeof(T), sizeof(T));
  return v;
}

template <typename T>
static void store(std::vector<char> &data, size_t i, T v) {
  std::memcpy(data.data() + i * sizeof(T), &v, sizeof(T));
}

static double halfToDouble(uint16_t bits) {
  llvm::APFloat f(llvm::APFloat::IEEEhalf(), llvm::APInt(16, bits));
  bool losesInfo;
  f.convert(llvm::APFloat::IEEEdouble(), llvm::APFloat::rmNearestTiesToEven,
            &losesInfo);
  return f.convertToDouble();
}

static uint16_t doubleToHalf(double v) {
  llvm::APFloat f(v);
  bool losesInfo;
  f.convert(llvm::APFloat::IEEEhalf(), llvm::APFloat::rmNearestTiesToEven,
            &losesInfo);
  return f.bitcastToAPInt().getZExtValue();
}

int64_t HostTensor::getInt(int64_t i) const {
  switch (dtype) {
  case onnxp::TensorProto_DataType_BOOL:
  case onnxp::TensorProto_DataType_UINT8:
    return load<uint8_t>(data, i);
  case onnxp::TensorProto_DataType_INT8:
    return load<int8_t>(data, i);
  case onnxp::TensorProto_DataType_UINT16:
    return load<uint16_t>(data, i);
  case onnxp::TensorProto_DataType_INT16:
    return load<int16_t>(data, i);
  case onnxp::TensorProto_DataType_INT32:
    return load<int32_t>(data, i);
  case onnxp::TensorProto_DataType_UINT32:
    return load<uint32_t>(data, i);
  case onnxp::TensorProto_DataType_INT64:
  case onnxp::TensorProto_DataType_UINT64:
    return load<int64_t>(data, i);
  default:
    return static_cast<int64_t>(getDouble(i));
  }
}

double HostTensor::getDouble(int64_t i) const {
  switch (dtype) {
  case onnxp::TensorProto_DataType_FLOAT:
    return load<float>(data, i);
  case onnxp::TensorProto_DataType_DOUBLE:
    return load<double>(data, i);
  case onnxp::TensorProto_DataType_FLOAT16:
    return halfToDouble(load<uint16_t>(data, i));
  case onnxp::TensorProto_DataType_BFLOAT16: {
    uint32_t bits = static_cast<uint32_t>(load<uint16_t>(data, i)) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  case onnxp::TensorProto_DataType_UINT64:
    return static_cast<double>(load<uint64_t>(data, i));
  default:
    return static_cast<double>(getInt(i));
  }
}

void HostTensor::setInt(int64_t i, int64_t v) {
  switch (dtype) {
  case onnxp::TensorProto_DataType_BOOL:
    return store<uint8_t>(data, i, v != 0);
  case onnxp::TensorProto_DataType_UINT8:
  case onnxp::TensorProto_DataType_INT8:
    return store<uint8_t>(data, i, static_cast<uint8_t>(v));
  case onnxp::TensorProto_DataType_UINT16:
  case onnxp::TensorProto_DataType_INT16:
    return store<uint16_t>(data, i, static_cast<uint16_t>(v));
  case onnxp::TensorProto_DataType_INT32:
  case onnxp::TensorProto_DataType_UINT32:
    return store<uint32_t>(data, i, static_cast<uint32_t>(v));
  case onnxp::TensorProto_DataType_INT64:
  case onnxp::TensorProto_DataType_UINT64:
    return store<int64_t>(data, i, v);
  default:
    return setDouble(i, static_cast<double>(v));
  }
}

void HostTensor::setDouble(int64_t i, double v) {
  switch (dtype) {
  case onnxp::TensorProto_DataType_FLOAT:
    return store<float>(data, i, static_cast<float>(v));
  case onnxp::TensorProto_DataType_DOUBLE:
    return store<double>(data, i, v);
  case onnxp::TensorProto_DataType_FLOAT16:
    return store<uint16_t>(data, i, doubleToHalf(v));
  case onnxp::TensorProto_DataType_BFLOAT16: {
    float f = static_cast<float>(v);
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    return store<uint16_t>(data, i, static_cast<uint16_t>(bits >> 16));
  }
  case onnxp::TensorProto_DataType_BOOL:
    return store<uint8_t>(data, i, v != 0.0);
  default:
    // Float -> integer conversion truncates toward zero (ONNX Cast).
    return setInt(i, static_cast<int64_t>(v));
  }
}

SmallVector<int64_t> HostTensor::toInts() const {
  SmallVector<int64_t> out;
  for (int64_t i = 0, e = numel(); i < e; ++i)
    out.push_back(getInt(i));
  return out;
}

FailureOr<HostTensor>
onnx_import::decodeTensor(const onnxp::TensorProto &tensor,
                          std::string &error) {
  HostTensor t;
  t.dtype = tensor.data_type();
  for (int64_t d : tensor.dims()) {
    if (d < 0) {
      error = "has a negative dimension";
      return failure();
    }
    t.shape.push_back(d);
  }
  size_t elemSize = HostTensor::elementSize(t.dtype);
  if (elemSize == 0) {
    error = "has element type " + typeName(t.dtype) +
            ", which qopt does not import";
    return failure();
  }
  if (tensor.data_location() == onnxp::TensorProto_DataLocation_EXTERNAL) {
    error = "keeps its data in an external file, which qopt does not read";
    return failure();
  }
  int64_t n = t.numel();
  if (n > (int64_t(1) << 40) / (int64_t)elemSize) {
    error = "is too large";
    return failure();
  }
  t.data.assign(n * elemSize, 0);
  auto countMismatch = [&](int64_t got) {
    error = "holds " + std::to_string(got) + " values but its shape needs " +
            std::to_string(n);
    return failure();
  };
  if (tensor.has_raw_data()) {
    const std::string &raw = tensor.raw_data();
    if ((int64_t)raw.size() != n * (int64_t)elemSize)
      return countMismatch(raw.size() / elemSize);
    std::memcpy(t.data.data(), raw.data(), raw.size());
    return t;
  }
  switch (t.dtype) {
  case onnxp::TensorProto_DataType_FLOAT:
    if (tensor.float_data_size() != n)
      return countMismatch(tensor.float_data_size());
    for (int64_t i = 0; i < n; ++i)
      store<float>(t.data, i, tensor.float_data(i));
    return t;
  case onnxp::TensorProto_DataType_DOUBLE:
    if (tensor.double_data_size() != n)
      return countMismatch(tensor.double_data_size());
    for (int64_t i = 0; i < n; ++i)
      store<double>(t.data, i, tensor.double_data(i));
    return t;
  case onnxp::TensorProto_DataType_INT64:
    if (tensor.int64_data_size() != n)
      return countMismatch(tensor.int64_data_size());
    for (int64_t i = 0; i < n; ++i)
      store<int64_t>(t.data, i, tensor.int64_data(i));
    return t;
  case onnxp::TensorProto_DataType_UINT32:
  case onnxp::TensorProto_DataType_UINT64:
    if (tensor.uint64_data_size() != n)
      return countMismatch(tensor.uint64_data_size());
    for (int64_t i = 0; i < n; ++i)
      t.setInt(i, static_cast<int64_t>(tensor.uint64_data(i)));
    return t;
  case onnxp::TensorProto_DataType_FLOAT16:
  case onnxp::TensorProto_DataType_BFLOAT16:
    if (tensor.int32_data_size() != n)
      return countMismatch(tensor.int32_data_size());
    for (int64_t i = 0; i < n; ++i)
      store<uint16_t>(t.data, i, static_cast<uint16_t>(tensor.int32_data(i)));
    return t;
  default:
    if (tensor.int32_data_size() != n)
      return countMismatch(tensor.int32_data_size());
    for (int64_t i = 0; i < n; ++i)
      t.setInt(i, tensor.int32_data(i));
    return t;
  }
}

//===----------------------------------------------------------------------===//
// Importer: node context and diagnostics.
//===----------------------------------------------------------------------===//

static llvm::StringMap<Handler> buildHandlerTable() {
  llvm::StringMap<Handler> table;
  populateElementwiseOps(table);
  populateNNOps(table);
  populateShapeOps(table);
  populateQuantOps(table);
  return table;
}

Importer::Importer(MLIRContext *context, StringRef fileName,
                   const ONNXImportOptions &options)
    : ctx(context), b(context), loc(UnknownLoc::get(context)),
      fileName(fileName.str()), options(options),
      handlers(buildHandlerTable()) {}

InFlightDiagnostic Importer::modelError() {
  return emitError(FileLineColLoc::get(ctx, fileName, 0, 0));
}

InFlightDiagnostic Importer::error() {
  InFlightDiagnostic diag = modelError() << "node ";
  if (node->name().empty())
    diag << "#" << nodeIndex;
  else
    diag << "'" << node->name() << "'";
  diag << " (" << node->op_type() << "): ";
  return diag;
}

Location Importer::nameLoc(StringRef name) {
  return NameLoc::get(StringAttr::get(ctx, name));
}

bool Importer::hasAttr(StringRef name) const { return attr(name) != nullptr; }

const onnxp::AttributeProto *Importer::attr(StringRef name) const {
  for (const onnxp::AttributeProto &a : node->attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

FailureOr<int64_t> Importer::attrInt(StringRef name, int64_t def) {
  const onnxp::AttributeProto *a = attr(name);
  if (!a)
    return def;
  if (a->type() != onnxp::AttributeProto_AttributeType_INT && !a->has_i())
    return error() << "attribute '" << name << "' must be an integer";
  return a->i();
}

FailureOr<float> Importer::attrFloat(StringRef name, float def) {
  const onnxp::AttributeProto *a = attr(name);
  if (!a)
    return def;
  if (a->type() != onnxp::AttributeProto_AttributeType_FLOAT && !a->has_f())
    return error() << "attribute '" << name << "' must be a float";
  return a->f();
}

FailureOr<std::string> Importer::attrString(StringRef name, StringRef def) {
  const onnxp::AttributeProto *a = attr(name);
  if (!a)
    return def.str();
  if (a->type() != onnxp::AttributeProto_AttributeType_STRING && !a->has_s())
    return error() << "attribute '" << name << "' must be a string";
  return a->s();
}

FailureOr<SmallVector<int64_t>> Importer::attrInts(StringRef name) {
  SmallVector<int64_t> out;
  const onnxp::AttributeProto *a = attr(name);
  if (!a)
    return out;
  if (a->type() != onnxp::AttributeProto_AttributeType_INTS &&
      a->ints_size() == 0 && a->type() != 0)
    return error() << "attribute '" << name << "' must be a list of integers";
  out.assign(a->ints().begin(), a->ints().end());
  return out;
}

FailureOr<SmallVector<float>> Importer::attrFloats(StringRef name) {
  SmallVector<float> out;
  const onnxp::AttributeProto *a = attr(name);
  if (!a)
    return out;
  if (a->type() != onnxp::AttributeProto_AttributeType_FLOATS &&
      a->floats_size() == 0 && a->type() != 0)
    return error() << "attribute '" << name << "' must be a list of floats";
  out.assign(a->floats().begin(), a->floats().end());
  return out;
}

FailureOr<int64_t> Importer::normalizeAxis(int64_t axis, int64_t rank,
                                           StringRef what) {
  if (axis < -rank || axis >= std::max<int64_t>(rank, 1) ||
      (rank == 0 && axis != 0 && axis != -1))
    return error() << what << " " << axis << " is out of range for a rank-"
                   << rank << " input (expected [" << -rank << ", " << rank - 1
                   << "])";
  return axis < 0 ? axis + rank : axis;
}

LogicalResult Importer::checkArity(unsigned min, unsigned max,
                                   unsigned maxOut) {
  unsigned n = node->input_size();
  if (n < min || n > max) {
    auto diag = error() << "expects ";
    if (min == max)
      diag << min;
    else
      diag << min << " to " << max;
    diag << " inputs, got " << n;
    return failure();
  }
  for (unsigned i = 0; i < min; ++i)
    if (!hasInput(i))
      return error() << "input " << i << " is required but empty";
  if ((unsigned)node->output_size() > maxOut)
    return error() << "has " << node->output_size()
                   << " outputs; qopt supports at most " << maxOut;
  if (node->output_size() == 0 || node->output(0).empty())
    return error() << "has no output";
  return success();
}

Value Importer::in(unsigned i) { return materialize(node->input(i), input(i)); }

Value Importer::inStorage(unsigned i) {
  Value v = in(i);
  auto type = cast<RankedTensorType>(v.getType());
  if (auto qtype = dyn_cast<quant::QuantizedType>(type.getElementType()))
    return quant::StorageCastOp::create(b, loc,
                                        type.clone(qtype.getStorageType()), v);
  return v;
}

FailureOr<const HostTensor *> Importer::constInput(unsigned i, StringRef what) {
  Entry &e = input(i);
  if (!e.host)
    return error() << what << " ('" << node->input(i)
                   << "') must be a constant (an initializer or computed "
                      "from constants and static shapes)";
  return e.host.get();
}

LogicalResult Importer::setOutput(unsigned i, Value v, int32_t dt) {
  if (!hasOutput(i))
    return success();
  const std::string &name = node->output(i);
  if (Operation *def = v.getDefiningOp()) {
    if (!getLocationName(def->getLoc()))
      def->setLoc(nameLoc(name));
  }
  Entry &e = values[name];
  e = Entry();
  e.value = v;
  e.dtype = dt;
  auto type = cast<RankedTensorType>(v.getType());
  e.shape.assign(type.getShape().begin(), type.getShape().end());
  return success();
}

LogicalResult Importer::setHostOutput(unsigned i, HostTensor t) {
  if (!hasOutput(i))
    return success();
  Entry &e = values[node->output(i)];
  e = Entry();
  e.dtype = t.dtype;
  e.shape = t.shape;
  e.host = std::make_shared<HostTensor>(std::move(t));
  return success();
}

//===----------------------------------------------------------------------===//
// IR helpers.
//===----------------------------------------------------------------------===//

Type Importer::elemType(int32_t dtype) {
  switch (dtype) {
  case onnxp::TensorProto_DataType_FLOAT:
    return b.getF32Type();
  case onnxp::TensorProto_DataType_DOUBLE:
    return b.getF64Type();
  case onnxp::TensorProto_DataType_FLOAT16:
    return b.getF16Type();
  case onnxp::TensorProto_DataType_BFLOAT16:
    return b.getBF16Type();
  case onnxp::TensorProto_DataType_BOOL:
    return b.getI1Type();
  case onnxp::TensorProto_DataType_UINT8:
  case onnxp::TensorProto_DataType_INT8:
    return b.getI8Type();
  case onnxp::TensorProto_DataType_UINT16:
  case onnxp::TensorProto_DataType_INT16:
    return b.getI16Type();
  case onnxp::TensorProto_DataType_UINT32:
  case onnxp::TensorProto_DataType_INT32:
    return b.getI32Type();
  case onnxp::TensorProto_DataType_UINT64:
  case onnxp::TensorProto_DataType_INT64:
    return b.getI64Type();
  default:
    return Type();
  }
}

Value Importer::constant(const HostTensor &t, StringRef name, Location at) {
  Type elem = elemType(t.dtype);
  auto type = tensorType(t.shape, elem);
  if (t.numel() == 0)
    return tensor::EmptyOp::create(b, at, t.shape, elem);
  TypedAttr attr;
  if (t.dtype == onnxp::TensorProto_DataType_BOOL) {
    SmallVector<bool> bits;
    for (int64_t i = 0, e = t.numel(); i < e; ++i)
      bits.push_back(t.getInt(i) != 0);
    attr = DenseElementsAttr::get(type, bits);
  } else if (options.resourceThresholdBytes >= 0 &&
             (int64_t)t.data.size() > options.resourceThresholdBytes) {
    std::string key;
    for (char c : name)
      key.push_back(llvm::isAlnum(c) ? c : '_');
    if (key.empty() || llvm::isDigit(key[0]))
      key = "t_" + key;
    AsmResourceBlob blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
        ArrayRef<char>(t.data), alignof(int64_t));
    attr = DenseResourceElementsAttr::get(type, key, std::move(blob));
  } else {
    attr = DenseElementsAttr::getFromRawBuffer(type, ArrayRef<char>(t.data));
  }
  return arith::ConstantOp::create(b, at, attr);
}

Value Importer::materialize(StringRef name, Entry &entry) {
  if (!entry.value && entry.host)
    entry.value = constant(*entry.host, name, nameLoc(name));
  return entry.value;
}

Value Importer::emptyTensor(ArrayRef<int64_t> shape, Type elem) {
  return tensor::EmptyOp::create(b, loc, shape, elem);
}

TypedAttr Importer::scalarAttr(Type type, double v) {
  if (isa<FloatType>(type))
    return b.getFloatAttr(type, v);
  if (type.isInteger(1))
    return b.getIntegerAttr(type, v != 0.0);
  return b.getIntegerAttr(type, static_cast<int64_t>(v));
}

Value Importer::scalar(OpBuilder &builder, Location at, Type type, double v) {
  return arith::ConstantOp::create(builder, at, scalarAttr(type, v));
}

TypedAttr Importer::lowestAttr(Type type, bool isUnsigned) {
  if (auto ft = dyn_cast<FloatType>(type))
    return b.getFloatAttr(
        type, llvm::APFloat::getInf(ft.getFloatSemantics(), /*Negative=*/true));
  unsigned w = type.getIntOrFloatBitWidth();
  return b.getIntegerAttr(type, isUnsigned ? llvm::APInt::getMinValue(w)
                                           : llvm::APInt::getSignedMinValue(w));
}

TypedAttr Importer::highestAttr(Type type, bool isUnsigned) {
  if (auto ft = dyn_cast<FloatType>(type))
    return b.getFloatAttr(type, llvm::APFloat::getInf(ft.getFloatSemantics()));
  unsigned w = type.getIntOrFloatBitWidth();
  return b.getIntegerAttr(type, isUnsigned ? llvm::APInt::getMaxValue(w)
                                           : llvm::APInt::getSignedMaxValue(w));
}

Value Importer::fill(ArrayRef<int64_t> shape, Type elem, TypedAttr value) {
  Value init = emptyTensor(shape, elem);
  Value cst = arith::ConstantOp::create(b, loc, value);
  return linalg::FillOp::create(b, loc, ValueRange{cst}, ValueRange{init})
      .getResult(0);
}

FailureOr<SmallVector<int64_t>>
Importer::broadcastShapes(ArrayRef<SmallVector<int64_t>> shapes) {
  size_t rank = 0;
  for (const auto &s : shapes)
    rank = std::max(rank, s.size());
  SmallVector<int64_t> out(rank, 1);
  for (const auto &s : shapes) {
    for (size_t i = 0; i < s.size(); ++i) {
      int64_t &o = out[rank - s.size() + i];
      int64_t d = s[i];
      if (d == o || d == 1)
        continue;
      if (o == 1) {
        o = d;
        continue;
      }
      auto diag = error() << "input shapes cannot be broadcast together:";
      for (const auto &t : shapes) {
        diag << " [";
        llvm::interleaveComma(t, diag);
        diag << "]";
      }
      return failure();
    }
  }
  return out;
}

static SmallVector<utils::IteratorType> parallelIterators(int64_t n) {
  return SmallVector<utils::IteratorType>(n, utils::IteratorType::parallel);
}

Value Importer::elementwise(ValueRange operands, ArrayRef<int64_t> outShape,
                            Type outElem, BodyFn body) {
  int64_t rank = outShape.size();
  SmallVector<AffineMap> maps;
  for (Value v : operands) {
    auto t = cast<RankedTensorType>(v.getType());
    int64_t r = t.getRank();
    SmallVector<AffineExpr> exprs;
    for (int64_t i = 0; i < r; ++i) {
      int64_t od = rank - r + i;
      if (t.getDimSize(i) == 1 && outShape[od] != 1)
        exprs.push_back(getAffineConstantExpr(0, ctx));
      else
        exprs.push_back(getAffineDimExpr(od, ctx));
    }
    maps.push_back(AffineMap::get(rank, 0, exprs, ctx));
  }
  maps.push_back(AffineMap::getMultiDimIdentityMap(rank, ctx));
  Value init = emptyTensor(outShape, outElem);
  auto op = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, operands, ValueRange{init}, maps,
      parallelIterators(rank), [&](OpBuilder &nb, Location l, ValueRange args) {
        Value r = body(nb, l, args.drop_back());
        linalg::YieldOp::create(nb, l, r);
      });
  return op.getResult(0);
}

FailureOr<Value> Importer::broadcastElementwise(ValueRange operands,
                                                Type outElem, BodyFn body) {
  SmallVector<SmallVector<int64_t>> shapes;
  for (Value v : operands) {
    auto s = cast<RankedTensorType>(v.getType()).getShape();
    shapes.emplace_back(s.begin(), s.end());
  }
  FailureOr<SmallVector<int64_t>> out = broadcastShapes(shapes);
  if (failed(out))
    return failure();
  return elementwise(operands, *out, outElem, body);
}

Value Importer::reduce(
    Value input, ArrayRef<int64_t> axes, bool keepDims, TypedAttr init,
    llvm::function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  SmallVector<int64_t> outShape, keptShape;
  SmallVector<AffineExpr> outExprs;
  SmallVector<utils::IteratorType> iters;
  for (int64_t i = 0; i < rank; ++i) {
    bool reduced = llvm::is_contained(axes, i);
    iters.push_back(reduced ? utils::IteratorType::reduction
                            : utils::IteratorType::parallel);
    keptShape.push_back(reduced ? 1 : type.getDimSize(i));
    if (!reduced) {
      outShape.push_back(type.getDimSize(i));
      outExprs.push_back(getAffineDimExpr(i, ctx));
    }
  }
  Value acc = fill(outShape, type.getElementType(), init);
  SmallVector<AffineMap> maps = {AffineMap::getMultiDimIdentityMap(rank, ctx),
                                 AffineMap::get(rank, 0, outExprs, ctx)};
  Value result =
      linalg::GenericOp::create(
          b, loc, TypeRange{acc.getType()}, ValueRange{input}, ValueRange{acc},
          maps, iters,
          [&](OpBuilder &nb, Location l, ValueRange args) {
            linalg::YieldOp::create(nb, l, combine(nb, l, args[0], args[1]));
          })
          .getResult(0);
  if (keepDims)
    result = reshape(result, keptShape);
  return result;
}

Value Importer::reshape(Value input, ArrayRef<int64_t> shape) {
  auto type = cast<RankedTensorType>(input.getType());
  if (type.getShape() == shape)
    return input;
  auto resultType = type.clone(shape);
  // Zero-element tensors have no data to move.
  if (type.getNumElements() == 0)
    return tensor::EmptyOp::create(b, loc, shape, type.getElementType());
  // Collapse to 1-D (or 0-D), then expand to the target.
  Value flat = input;
  int64_t rank = type.getRank();
  if (rank != 1) {
    SmallVector<ReassociationIndices> re;
    if (rank > 0) {
      re.emplace_back();
      for (int64_t i = 0; i < rank; ++i)
        re.back().push_back(i);
    }
    int64_t n = type.getNumElements();
    if (rank == 0 || shape.empty()) {
      // 0-D <-> all-ones shapes reshape through an empty reassociation.
      if (shape.empty())
        return tensor::CollapseShapeOp::create(
            b, loc, resultType, input, ArrayRef<ReassociationIndices>{});
      return tensor::ExpandShapeOp::create(b, loc, resultType, input,
                                           ArrayRef<ReassociationIndices>{});
    }
    flat = tensor::CollapseShapeOp::create(
        b, loc, RankedTensorType::get({n}, type.getElementType()), input, re);
  }
  if (shape.size() == 1)
    return flat;
  if (shape.empty())
    return tensor::CollapseShapeOp::create(b, loc, resultType, flat,
                                           ArrayRef<ReassociationIndices>{});
  SmallVector<ReassociationIndices> re(1);
  for (size_t i = 0; i < shape.size(); ++i)
    re.back().push_back(i);
  return tensor::ExpandShapeOp::create(b, loc, resultType, flat, re);
}

Value Importer::transpose(Value input, ArrayRef<int64_t> perm) {
  auto type = cast<RankedTensorType>(input.getType());
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(type.getDimSize(p));
  Value init = emptyTensor(shape, type.getElementType());
  return linalg::TransposeOp::create(b, loc, input, init, perm).getResult()[0];
}

Value Importer::padConstant(Value input, ArrayRef<int64_t> low,
                            ArrayRef<int64_t> high, TypedAttr value) {
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  // Negative pads crop first.
  bool crop = false;
  SmallVector<int64_t> offs, sizes;
  for (int64_t i = 0; i < rank; ++i) {
    int64_t lo = std::min<int64_t>(low[i], 0),
            hi = std::min<int64_t>(high[i], 0);
    crop |= lo < 0 || hi < 0;
    offs.push_back(-lo);
    sizes.push_back(type.getDimSize(i) + lo + hi);
  }
  if (crop) {
    SmallVector<int64_t> strides(rank, 1);
    input = tensor::ExtractSliceOp::create(b, loc, input, ofr(b, offs),
                                           ofr(b, sizes), ofr(b, strides));
    type = cast<RankedTensorType>(input.getType());
  }
  SmallVector<int64_t> lo, hi, shape;
  bool any = false;
  for (int64_t i = 0; i < rank; ++i) {
    lo.push_back(std::max<int64_t>(low[i], 0));
    hi.push_back(std::max<int64_t>(high[i], 0));
    any |= lo.back() || hi.back();
    shape.push_back(type.getDimSize(i) + lo.back() + hi.back());
  }
  if (!any)
    return input;
  Value padValue = arith::ConstantOp::create(b, loc, value);
  SmallVector<OpFoldResult> loF, hiF;
  for (int64_t i = 0; i < rank; ++i) {
    loF.push_back(b.getIndexAttr(lo[i]));
    hiF.push_back(b.getIndexAttr(hi[i]));
  }
  return tensor::PadOp::create(b, loc, type.clone(shape), input, loF, hiF,
                               padValue);
}

Value Importer::convertScalar(OpBuilder &nb, Location at, Value v, int32_t from,
                              int32_t to) {
  Type src = v.getType();
  Type dst = elemType(to);
  if (src == dst)
    return v;
  bool srcFloat = isa<FloatType>(src), dstFloat = isa<FloatType>(dst);
  if (to == onnxp::TensorProto_DataType_BOOL) {
    if (srcFloat)
      return arith::CmpFOp::create(nb, at, arith::CmpFPredicate::UNE, v,
                                   scalar(nb, at, src, 0));
    return arith::CmpIOp::create(nb, at, arith::CmpIPredicate::ne, v,
                                 scalar(nb, at, src, 0));
  }
  bool srcUnsigned =
      isUnsignedType(from) || from == onnxp::TensorProto_DataType_BOOL;
  if (srcFloat && dstFloat) {
    if (src.getIntOrFloatBitWidth() < dst.getIntOrFloatBitWidth())
      return arith::ExtFOp::create(nb, at, dst, v);
    if (src.getIntOrFloatBitWidth() > dst.getIntOrFloatBitWidth())
      return arith::TruncFOp::create(nb, at, dst, v);
    // f16 <-> bf16 goes through f32.
    Value f = arith::ExtFOp::create(nb, at, nb.getF32Type(), v);
    return arith::TruncFOp::create(nb, at, dst, f);
  }
  if (srcFloat) {
    if (isUnsignedType(to))
      return arith::FPToUIOp::create(nb, at, dst, v);
    return arith::FPToSIOp::create(nb, at, dst, v);
  }
  if (dstFloat) {
    if (srcUnsigned)
      return arith::UIToFPOp::create(nb, at, dst, v);
    return arith::SIToFPOp::create(nb, at, dst, v);
  }
  unsigned sw = src.getIntOrFloatBitWidth(), dw = dst.getIntOrFloatBitWidth();
  if (sw < dw) {
    if (srcUnsigned)
      return arith::ExtUIOp::create(nb, at, dst, v);
    return arith::ExtSIOp::create(nb, at, dst, v);
  }
  return arith::TruncIOp::create(nb, at, dst, v);
}

//===----------------------------------------------------------------------===//
// Model and graph import.
//===----------------------------------------------------------------------===//

LogicalResult Importer::importInitializer(const onnxp::TensorProto &tensor) {
  std::string err;
  FailureOr<HostTensor> t = decodeTensor(tensor, err);
  if (failed(t))
    return modelError() << "initializer '" << tensor.name() << "' " << err;
  Entry &e = values[tensor.name()];
  e = Entry();
  e.dtype = t->dtype;
  e.shape = t->shape;
  e.host = std::make_shared<HostTensor>(std::move(*t));
  return success();
}

/// The handler table's key of a node: its op_type in the default domain,
/// `com.microsoft.` + op_type for ONNX Runtime's contrib operators (the few
/// that qopt imports), empty for any other domain.
static std::string handlerKey(const onnxp::NodeProto &node) {
  if (node.domain().empty() || node.domain() == "ai.onnx")
    return node.op_type();
  if (node.domain() == "com.microsoft")
    return "com.microsoft." + node.op_type();
  return "";
}

LogicalResult Importer::importNode(const onnxp::NodeProto &nodeProto,
                                   int index) {
  node = &nodeProto;
  nodeIndex = index;
  Location fileLoc = FileLineColLoc::get(ctx, fileName, 0, 0);
  loc = FusedLoc::get(ctx, {fileLoc},
                      StringAttr::get(ctx, nodeProto.name().empty()
                                               ? nodeProto.op_type()
                                               : nodeProto.name()));
  std::string key = handlerKey(nodeProto);
  if (key.empty())
    return error() << "operator domain '" << nodeProto.domain()
                   << "' is not supported (only the default ONNX domain "
                      "and com.microsoft are)";
  auto it = handlers.find(key);
  if (it == handlers.end())
    return error() << "unknown or unsupported operator '" << key << "'";
  for (int i = 0; i < nodeProto.input_size(); ++i) {
    const std::string &name = nodeProto.input(i);
    if (name.empty())
      continue;
    auto v = values.find(name);
    if (v == values.end())
      return error() << "input '" << name
                     << "' is not a graph input, an initializer or the "
                        "output of an earlier node (missing initializer?)";
  }
  for (int i = 0; i < nodeProto.attribute_size(); ++i)
    if (nodeProto.attribute(i).type() ==
            onnxp::AttributeProto_AttributeType_GRAPH ||
        nodeProto.attribute(i).type() ==
            onnxp::AttributeProto_AttributeType_GRAPHS)
      return error() << "subgraph attributes are not supported";
  if (failed(it->second(*this)))
    return failure();
  for (int i = 0; i < nodeProto.output_size(); ++i) {
    const std::string &name = nodeProto.output(i);
    if (!name.empty() && !values.count(name))
      return error() << "output " << i << " ('" << name
                     << "') is not produced by qopt's import of this "
                        "operator";
  }
  return success();
}

LogicalResult Importer::importGraph(const onnxp::GraphProto &graph,
                                    ModuleOp module) {
  // Initializers first: graph inputs that also have an initializer (old IR
  // versions) are constants, not arguments.
  for (const onnxp::TensorProto &t : graph.initializer())
    if (failed(importInitializer(t)))
      return failure();

  llvm::StringSet<> inputNames;
  for (const onnxp::ValueInfoProto &vi : graph.input())
    inputNames.insert(vi.name());
  for (const auto &kv : options.inputShapes)
    if (!inputNames.contains(kv.getKey()))
      return modelError() << "--input-shape names '" << kv.getKey()
                          << "', which is not an input of graph '"
                          << graph.name() << "'";
  SmallVector<Type> argTypes;
  SmallVector<std::string> argNames;
  SmallVector<int32_t> argDtypes;
  for (const onnxp::ValueInfoProto &vi : graph.input()) {
    inputNames.insert(vi.name());
    if (values.count(vi.name()))
      continue;
    if (!vi.type().has_tensor_type())
      return modelError() << "graph input '" << vi.name()
                          << "' is not a tensor (sequences, maps and "
                             "optionals are not supported)";
    const auto &tt = vi.type().tensor_type();
    Type elem = elemType(tt.elem_type());
    if (!elem)
      return modelError() << "graph input '" << vi.name()
                          << "' has element type " << typeName(tt.elem_type())
                          << ", which qopt does not import";
    SmallVector<int64_t> shape;
    auto given = options.inputShapes.find(vi.name());
    if (given != options.inputShapes.end()) {
      shape = given->second;
      if (tt.has_shape() && tt.shape().dim_size() != (int)shape.size())
        return modelError()
               << "--input-shape gives input '" << vi.name() << "' rank "
               << shape.size() << " but the model declares rank "
               << tt.shape().dim_size();
      if (tt.has_shape())
        for (int i = 0; i < tt.shape().dim_size(); ++i) {
          const auto &d = tt.shape().dim(i);
          if (d.has_dim_value() && d.dim_value() != shape[i])
            return modelError()
                   << "--input-shape gives input '" << vi.name() << "' size "
                   << shape[i] << " in dimension " << i
                   << " but the model fixes it to " << d.dim_value();
        }
    } else {
      if (!tt.has_shape())
        return modelError() << "graph input '" << vi.name()
                            << "' has no shape; pass --input-shape "
                            << vi.name() << "=<d0>x<d1>...";
      for (int i = 0; i < tt.shape().dim_size(); ++i) {
        const auto &d = tt.shape().dim(i);
        if (!d.has_dim_value() || d.dim_value() < 0) {
          auto diag = modelError() << "graph input '" << vi.name()
                                   << "' has an unknown dimension " << i;
          if (d.has_dim_param())
            diag << " ('" << d.dim_param() << "')";
          diag << "; pass --input-shape " << vi.name() << "=<d0>x<d1>... to "
               << "fix it";
          return failure();
        }
        shape.push_back(d.dim_value());
      }
    }
    argTypes.push_back(tensorType(shape, elem));
    argNames.push_back(vi.name());
    argDtypes.push_back(tt.elem_type());
  }

  std::string funcName = graph.name().empty() ? "main" : graph.name();
  b.setInsertionPointToEnd(module.getBody());
  auto func = func::FuncOp::create(b, nameLoc(funcName), funcName,
                                   b.getFunctionType(argTypes, {}));
  Block *entry = func.addEntryBlock();
  for (auto [i, name] : llvm::enumerate(argNames)) {
    func.setArgAttr(i, kNameArgAttr, b.getStringAttr(name));
    entry->getArgument(i).setLoc(nameLoc(name));
    Entry &e = values[name];
    e.value = entry->getArgument(i);
    e.dtype = argDtypes[i];
    auto s = cast<RankedTensorType>(argTypes[i]).getShape();
    e.shape.assign(s.begin(), s.end());
  }
  b.setInsertionPointToEnd(entry);

  for (auto [i, n] : llvm::enumerate(graph.node()))
    if (failed(importNode(n, i)))
      return failure();

  node = nullptr;
  loc = FileLineColLoc::get(ctx, fileName, 0, 0);
  SmallVector<Value> results;
  for (const onnxp::ValueInfoProto &vi : graph.output()) {
    auto it = values.find(vi.name());
    if (it == values.end())
      return modelError() << "graph output '" << vi.name()
                          << "' is not produced by any node";
    Entry &e = it->second;
    if (vi.type().has_tensor_type() && vi.type().tensor_type().elem_type() &&
        vi.type().tensor_type().elem_type() != e.dtype)
      return modelError() << "graph output '" << vi.name() << "' is declared "
                          << typeName(vi.type().tensor_type().elem_type())
                          << " but the graph computes " << typeName(e.dtype);
    Value v = materialize(vi.name(), e);
    auto type = cast<RankedTensorType>(v.getType());
    if (auto q = dyn_cast<quant::QuantizedType>(type.getElementType()))
      v = quant::StorageCastOp::create(b, loc, type.clone(q.getStorageType()),
                                       v);
    results.push_back(v);
  }
  func::ReturnOp::create(b, loc, results);
  func.setType(b.getFunctionType(argTypes, ValueRange(results).getTypes()));
  for (auto [i, vi] : llvm::enumerate(graph.output()))
    func.setResultAttr(i, kNameArgAttr, b.getStringAttr(vi.name()));
  return success();
}

OwningOpRef<ModuleOp> Importer::importModel(const onnxp::ModelProto &model) {
  bool haveDefault = false;
  for (const onnxp::OperatorSetIdProto &id : model.opset_import()) {
    if (!id.domain().empty() && id.domain() != "ai.onnx")
      continue;
    haveDefault = true;
    opset = id.version();
  }
  if (!haveDefault && model.graph().node_size() > 0) {
    modelError() << "the model imports no opset of the default ONNX domain";
    return nullptr;
  }
  if (haveDefault && (opset < kMinONNXOpset || opset > kMaxONNXOpset)) {
    modelError() << "opset " << opset
                 << " of the default ONNX domain is outside the supported "
                    "range ["
                 << kMinONNXOpset << ", " << kMaxONNXOpset << "]";
    return nullptr;
  }
  // Unknown operators and dangling inputs first, so they are reported by
  // node rather than by the checker's generic message.
  llvm::StringSet<> defined;
  for (const onnxp::ValueInfoProto &vi : model.graph().input())
    defined.insert(vi.name());
  for (const onnxp::TensorProto &t : model.graph().initializer())
    defined.insert(t.name());
  for (auto [i, n] : llvm::enumerate(model.graph().node())) {
    node = &n;
    nodeIndex = i;
    for (const std::string &in : n.input())
      if (!in.empty() && !defined.contains(in)) {
        error() << "input '" << in
                << "' is not a graph input, an initializer or the output of "
                   "an earlier node (missing initializer?)";
        return nullptr;
      }
    for (const std::string &out : n.output())
      defined.insert(out);
    std::string key = handlerKey(n);
    if (key.empty()) {
      error() << "operator domain '" << n.domain()
              << "' is not supported (only the default ONNX domain and "
                 "com.microsoft are)";
      return nullptr;
    }
    if (!handlers.count(key)) {
      error() << "unknown or unsupported operator '" << key << "'";
      return nullptr;
    }
  }
  node = nullptr;
  if (options.runChecker) {
    try {
      onnxp::checker::check_model(model);
    } catch (const std::exception &e) {
      std::string what = e.what();
      // The checker's messages end with a context line; keep the first.
      what = what.substr(0, what.find('\n'));
      modelError() << "the ONNX checker rejected the model: " << what;
      return nullptr;
    }
  }
  OwningOpRef<ModuleOp> module =
      ModuleOp::create(FileLineColLoc::get(ctx, fileName, 0, 0));
  if (!model.graph().name().empty())
    module->setSymNameAttr(b.getStringAttr(model.graph().name()));
  if (failed(importGraph(model.graph(), *module)))
    return nullptr;
  if (failed(verify(*module))) {
    modelError() << "internal error: the imported IR does not verify";
    return nullptr;
  }
  return module;
}

//===----------------------------------------------------------------------===//
// Public API.
//===----------------------------------------------------------------------===//

bool mlir::qopt::parseONNXInputShape(StringRef spec, ONNXImportOptions &options,
                                     std::string &error) {
  auto [name, dims] = spec.rsplit('=');
  if (name.empty() || !spec.contains('=')) {
    error = "--input-shape expects NAME=D0xD1x..., got '" + spec.str() + "'";
    return false;
  }
  SmallVector<int64_t> shape;
  if (!dims.empty()) {
    SmallVector<StringRef> parts;
    dims.split(parts, 'x');
    for (StringRef p : parts) {
      int64_t d;
      if (p.getAsInteger(10, d) || d < 0) {
        error = "--input-shape '" + spec.str() + "': dimension '" + p.str() +
                "' is not a non-negative integer";
        return false;
      }
      shape.push_back(d);
    }
  }
  options.inputShapes[name] = shape;
  return true;
}

OwningOpRef<ModuleOp> mlir::qopt::importONNX(llvm::MemoryBufferRef buffer,
                                             MLIRContext *context,
                                             const ONNXImportOptions &options) {
  context
      ->loadDialect<func::FuncDialect, arith::ArithDialect, math::MathDialect,
                    linalg::LinalgDialect, tensor::TensorDialect,
                    quant::QuantDialect, qopt::QOptDialect>();
  StringRef file = buffer.getBufferIdentifier();
  onnxp::ModelProto model;
  StringRef data = buffer.getBuffer();
  if (data.size() > (size_t)std::numeric_limits<int>::max() ||
      !model.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
    emitError(FileLineColLoc::get(context, file, 0, 0))
        << "not a valid ONNX model (the protobuf does not parse; "
        << "truncated or not an .onnx file?)";
    return nullptr;
  }
  if (!model.has_graph()) {
    emitError(FileLineColLoc::get(context, file, 0, 0))
        << "not a valid ONNX model (it has no graph)";
    return nullptr;
  }
  Importer importer(context, file, options);
  return importer.importModel(model);
}

OwningOpRef<ModuleOp>
mlir::qopt::importONNXFile(StringRef path, MLIRContext *context,
                           const ONNXImportOptions &options) {
  auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(path, /*IsText=*/false);
  if (!buffer) {
    emitError(FileLineColLoc::get(context, path, 0, 0))
        << "cannot open the file: " << buffer.getError().message();
    return nullptr;
  }
  return importONNX((*buffer)->getMemBufferRef(), context, options);
}

ArrayRef<StringRef> mlir::qopt::getSupportedONNXOperators() {
  static const std::vector<StringRef> names = [] {
    static llvm::StringMap<Handler> table = buildHandlerTable();
    std::vector<StringRef> out;
    for (const auto &kv : table)
      out.push_back(kv.getKey());
    llvm::sort(out);
    return out;
  }();
  return names;
}

void mlir::qopt::registerONNXImportDialects(DialectRegistry &registry) {
  registry.insert<func::FuncDialect, arith::ArithDialect, math::MathDialect,
                  linalg::LinalgDialect, tensor::TensorDialect,
                  quant::QuantDialect, qopt::QOptDialect>();
}

void mlir::qopt::registerImportONNXTranslation() {
  static llvm::cl::list<std::string> inputShapes(
      "input-shape",
      llvm::cl::desc("Static shape of an ONNX graph input: NAME=1x3x224x224 "
                     "(repeatable; overrides symbolic dimensions)"),
      llvm::cl::value_desc("NAME=D0xD1x..."));
  static llvm::cl::opt<int64_t> resourceThreshold(
      "onnx-resource-threshold",
      llvm::cl::desc("Initializers larger than this many bytes become "
                     "dense_resource blobs (-1: never)"),
      llvm::cl::init(1024));
  static llvm::cl::opt<bool> noChecker(
      "onnx-no-checker",
      llvm::cl::desc("Do not run the ONNX checker before importing"),
      llvm::cl::init(false));
  TranslateToMLIRRegistration reg(
      "import-onnx", "Import an ONNX model (float or QDQ) into MLIR",
      [](const std::shared_ptr<llvm::SourceMgr> &sourceMgr,
         MLIRContext *context) -> OwningOpRef<Operation *> {
        ONNXImportOptions options;
        options.resourceThresholdBytes = resourceThreshold;
        options.runChecker = !noChecker;
        for (const std::string &spec : inputShapes) {
          std::string err;
          if (!parseONNXInputShape(spec, options, err)) {
            emitError(UnknownLoc::get(context)) << err;
            return nullptr;
          }
        }
        const llvm::MemoryBuffer *buffer =
            sourceMgr->getMemoryBuffer(sourceMgr->getMainFileID());
        return importONNX(buffer->getMemBufferRef(), context, options);
      },
      registerONNXImportDialects);
}
