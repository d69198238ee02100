//===- ElementwiseOps.cpp - ONNX elementwise operators ----------*- C++ -*-===//
//
// Imports ONNX's elementwise operators (arithmetic with numpy broadcasting,
// activations, comparisons, Where, Min/Max, Clip, Cast, Identity, Dropout)
// as one `linalg.generic` each with arith/math bodies. Integer Add/Sub/Mul/
// Div and Cast of constants are folded at import, because shape-computing
// subgraphs are made of them.
//
//===----------------------------------------------------------------------===//

#include "Importer.h"

#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace mlir::qopt::onnx_import;
namespace onnxp = ::onnx;

namespace {
enum class Bin { Add, Sub, Mul, Div, Pow, Min, Max, Equal, Less, Greater };
} // namespace

/// Host-side numpy broadcasting of a binary integer operation, for shape
/// computations. Returns nullopt when the inputs are not both small host
/// integer tensors.
static std::optional<HostTensor> foldBinary(Importer &im, Bin kind,
                                            ArrayRef<int64_t> outShape) {
  Entry &a = im.input(0), &bb = im.input(1);
  if (!a.host || !bb.host || !isIntegerType(a.dtype) || a.dtype != bb.dtype)
    return std::nullopt;
  int64_t n = 1;
  for (int64_t d : outShape)
    n *= d;
  if (n > 4096)
    return std::nullopt;
  int32_t outType = a.dtype;
  if (kind == Bin::Equal || kind == Bin::Less || kind == Bin::Greater)
    outType = onnxp::TensorProto_DataType_BOOL;
  HostTensor out = HostTensor::make(outType, outShape);
  int64_t rank = outShape.size();
  auto index = [&](const HostTensor &t, int64_t flat) {
    // Maps an output index to the (broadcast) input index.
    int64_t r = t.shape.size(), idx = 0, stride = 1, rem = flat;
    SmallVector<int64_t> coords(rank);
    for (int64_t i = rank - 1; i >= 0; --i) {
      coords[i] = rem % outShape[i];
      rem /= outShape[i];
    }
    for (int64_t i = r - 1; i >= 0; --i) {
      int64_t c = t.shape[i] == 1 ? 0 : coords[rank - r + i];
      idx += c * stride;
      stride *= t.shape[i];
    }
    return idx;
  };
  for (int64_t i = 0; i < n; ++i) {
    int64_t x = a.host->getInt(index(*a.host, i));
    int64_t y = bb.host->getInt(index(*bb.host, i));
    int64_t r = 0;
    switch (kind) {
    case Bin::Add:
      r = x + y;
      break;
    case Bin::Sub:
      r = x - y;
      break;
    case Bin::Mul:
      r = x * y;
      break;
    case Bin::Div:
      if (y == 0)
        return std::nullopt;
      r = x / y;
      break;
    case Bin::Min:
      r = std::min(x, y);
      break;
    case Bin::Max:
      r = std::max(x, y);
      break;
    case Bin::Equal:
      r = x == y;
      break;
    case Bin::Less:
      r = x < y;
      break;
    case Bin::Greater:
      r = x > y;
      break;
    case Bin::Pow:
      return std::nullopt;
    }
    out.setInt(i, r);
  }
  return out;
}

static Value powScalar(OpBuilder &nb, Location l, Importer &im, Value x,
                       Value y, int32_t xt, int32_t yt) {
  Type xType = x.getType();
  if (isa<FloatType>(xType)) {
    if (!isa<FloatType>(y.getType()))
      y = im.convertScalar(nb, l, y, yt, xt);
    else if (y.getType() != xType)
      y = im.convertScalar(nb, l, y, yt, xt);
    return math::PowFOp::create(nb, l, x, y);
  }
  // Integer base: compute in f64 and convert back (exact for the magnitudes
  // integer pow can represent).
  int32_t f64 = onnxp::TensorProto_DataType_DOUBLE;
  Value xf = im.convertScalar(nb, l, x, xt, f64);
  Value yf = im.convertScalar(nb, l, y, yt, f64);
  Value r = math::PowFOp::create(nb, l, xf, yf);
  return im.convertScalar(nb, l, r, f64, xt);
}

static LogicalResult importBinary(Importer &im, Bin kind) {
  bool variadic = kind == Bin::Min || kind == Bin::Max;
  if (failed(im.checkArity(variadic ? 1 : 2, variadic ? 64 : 2)))
    return failure();
  int32_t t0 = im.dtype(0);
  unsigned n = im.numInputs();
  for (unsigned i = 1; i < n; ++i)
    if (kind != Bin::Pow && im.dtype(i) != t0)
      return im.error() << "inputs have different element types "
                        << typeName(t0) << " and " << typeName(im.dtype(i));
  if (!im.elemType(t0) || (kind != Bin::Pow && !im.elemType(im.dtype(1 % n))))
    return im.error() << "element type " << typeName(t0) << " is not supported";
  if (t0 == onnxp::TensorProto_DataType_BOOL && (kind != Bin::Equal))
    return im.error() << "BOOL inputs are not supported by this operator";
  SmallVector<SmallVector<int64_t>> shapes;
  for (unsigned i = 0; i < n; ++i)
    shapes.emplace_back(im.shape(i));
  FailureOr<SmallVector<int64_t>> outShape = im.broadcastShapes(shapes);
  if (failed(outShape))
    return failure();
  bool isCompare =
      kind == Bin::Equal || kind == Bin::Less || kind == Bin::Greater;
  int32_t outType = isCompare ? onnxp::TensorProto_DataType_BOOL : t0;
  if (n == 2)
    if (std::optional<HostTensor> folded = foldBinary(im, kind, *outShape))
      return im.setHostOutput(0, std::move(*folded));
  if (n == 1 && variadic) {
    // Min/Max of one input is the input.
    Value v = im.in(0);
    return im.setOutput(0,
                        im.elementwise(v, *outShape, im.elemType(t0),
                                       [](OpBuilder &, Location, ValueRange a) {
                                         return a[0];
                                       }),
                        t0);
  }
  bool isFloat = HostTensor::isFloatType(t0);
  bool isUnsigned = isUnsignedType(t0);
  int32_t t1 = im.dtype(1);
  SmallVector<Value> operands;
  for (unsigned i = 0; i < n; ++i)
    operands.push_back(im.in(i));
  Type outElem = im.elemType(outType);
  auto body = [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
    Value acc = a[0];
    for (unsigned i = 1; i < a.size(); ++i) {
      Value x = acc, y = a[i];
      switch (kind) {
      case Bin::Add:
        acc = isFloat ? (Value)arith::AddFOp::create(nb, l, x, y)
                      : (Value)arith::AddIOp::create(nb, l, x, y);
        break;
      case Bin::Sub:
        acc = isFloat ? (Value)arith::SubFOp::create(nb, l, x, y)
                      : (Value)arith::SubIOp::create(nb, l, x, y);
        break;
      case Bin::Mul:
        acc = isFloat ? (Value)arith::MulFOp::create(nb, l, x, y)
                      : (Value)arith::MulIOp::create(nb, l, x, y);
        break;
      case Bin::Div:
        acc = isFloat      ? (Value)arith::DivFOp::create(nb, l, x, y)
              : isUnsigned ? (Value)arith::DivUIOp::create(nb, l, x, y)
                           : (Value)arith::DivSIOp::create(nb, l, x, y);
        break;
      case Bin::Pow:
        acc = powScalar(nb, l, im, x, y, t0, t1);
        break;
      case Bin::Min:
        acc = isFloat      ? (Value)arith::MinimumFOp::create(nb, l, x, y)
              : isUnsigned ? (Value)arith::MinUIOp::create(nb, l, x, y)
                           : (Value)arith::MinSIOp::create(nb, l, x, y);
        break;
      case Bin::Max:
        acc = isFloat      ? (Value)arith::MaximumFOp::create(nb, l, x, y)
              : isUnsigned ? (Value)arith::MaxUIOp::create(nb, l, x, y)
                           : (Value)arith::MaxSIOp::create(nb, l, x, y);
        break;
      case Bin::Equal:
        acc = isFloat ? (Value)arith::CmpFOp::create(
                            nb, l, arith::CmpFPredicate::OEQ, x, y)
                      : (Value)arith::CmpIOp::create(
                            nb, l, arith::CmpIPredicate::eq, x, y);
        break;
      case Bin::Less:
        acc = isFloat ? (Value)arith::CmpFOp::create(
                            nb, l, arith::CmpFPredicate::OLT, x, y)
                      : (Value)arith::CmpIOp::create(
                            nb, l,
                            isUnsigned ? arith::CmpIPredicate::ult
                                       : arith::CmpIPredicate::slt,
                            x, y);
        break;
      case Bin::Greater:
        acc = isFloat ? (Value)arith::CmpFOp::create(
                            nb, l, arith::CmpFPredicate::OGT, x, y)
                      : (Value)arith::CmpIOp::create(
                            nb, l,
                            isUnsigned ? arith::CmpIPredicate::ugt
                                       : arith::CmpIPredicate::sgt,
                            x, y);
        break;
      }
    }
    return acc;
  };
  Value result = im.elementwise(operands, *outShape, outElem, body);
  return im.setOutput(0, result, outType);
}

namespace {
enum class Un {
  Sqrt,
  Exp,
  Log,
  Neg,
  Abs,
  Reciprocal,
  Relu,
  LeakyRelu,
  Sigmoid,
  HardSigmoid,
  HardSwish,
  Tanh,
  Erf
};
} // namespace

static LogicalResult importUnary(Importer &im, Un kind) {
  if (failed(im.checkArity(1, 1)))
    return failure();
  int32_t t = im.dtype(0);
  bool isFloat = HostTensor::isFloatType(t);
  bool intOk = kind == Un::Neg || kind == Un::Abs || kind == Un::Relu;
  if (!im.elemType(t) || (!isFloat && !(intOk && isIntegerType(t))))
    return im.error() << "element type " << typeName(t)
                      << " is not supported by this operator";
  float alpha = 0, beta = 0;
  if (kind == Un::LeakyRelu) {
    FailureOr<float> a = im.attrFloat("alpha", 0.01f);
    if (failed(a))
      return failure();
    alpha = *a;
  }
  if (kind == Un::HardSigmoid) {
    FailureOr<float> a = im.attrFloat("alpha", 0.2f);
    FailureOr<float> c = im.attrFloat("beta", 0.5f);
    if (failed(a) || failed(c))
      return failure();
    alpha = *a;
    beta = *c;
  }
  if (kind == Un::HardSwish) {
    alpha = 1.0f / 6.0f;
    beta = 0.5f;
  }
  Type elem = im.elemType(t);
  Value x = im.in(0);
  auto cst = [&](OpBuilder &nb, Location l, double v) {
    return im.scalar(nb, l, elem, v);
  };
  // max(0, min(1, alpha * x + beta)), as ONNX's reference.
  auto hardSigmoid = [&](OpBuilder &nb, Location l, Value v) -> Value {
    Value y = arith::MulFOp::create(nb, l, cst(nb, l, alpha), v);
    y = arith::AddFOp::create(nb, l, y, cst(nb, l, beta));
    y = arith::MinimumFOp::create(nb, l, cst(nb, l, 1.0), y);
    return arith::MaximumFOp::create(nb, l, cst(nb, l, 0.0), y);
  };
  auto body = [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
    Value v = a[0];
    switch (kind) {
    case Un::Sqrt:
      return math::SqrtOp::create(nb, l, v);
    case Un::Exp:
      return math::ExpOp::create(nb, l, v);
    case Un::Log:
      return math::LogOp::create(nb, l, v);
    case Un::Tanh:
      return math::TanhOp::create(nb, l, v);
    case Un::Erf:
      return math::ErfOp::create(nb, l, v);
    case Un::Neg:
      if (isFloat)
        return arith::NegFOp::create(nb, l, v);
      return arith::SubIOp::create(nb, l, cst(nb, l, 0), v);
    case Un::Abs:
      if (isFloat)
        return math::AbsFOp::create(nb, l, v);
      if (isUnsignedType(t))
        return v;
      return math::AbsIOp::create(nb, l, v);
    case Un::Reciprocal:
      return arith::DivFOp::create(nb, l, cst(nb, l, 1.0), v);
    case Un::Relu:
      if (isFloat)
        return arith::MaximumFOp::create(nb, l, v, cst(nb, l, 0));
      if (isUnsignedType(t))
        return v;
      return arith::MaxSIOp::create(nb, l, v, cst(nb, l, 0));
    case Un::LeakyRelu: {
      Value neg = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OLT, v,
                                        cst(nb, l, 0));
      Value scaled = arith::MulFOp::create(nb, l, v, cst(nb, l, alpha));
      return arith::SelectOp::create(nb, l, neg, scaled, v);
    }
    case Un::Sigmoid: {
      Value e = math::ExpOp::create(nb, l, arith::NegFOp::create(nb, l, v));
      Value d = arith::AddFOp::create(nb, l, cst(nb, l, 1.0), e);
      return arith::DivFOp::create(nb, l, cst(nb, l, 1.0), d);
    }
    case Un::HardSigmoid:
      return hardSigmoid(nb, l, v);
    case Un::HardSwish:
      return arith::MulFOp::create(nb, l, v, hardSigmoid(nb, l, v));
    }
    return v;
  };
  Value r = im.elementwise(x, im.shape(0), elem, body);
  return im.setOutput(0, r, t);
}

static LogicalResult importPRelu(Importer &im) {
  if (failed(im.checkArity(2, 2)))
    return failure();
  int32_t t = im.dtype(0);
  if (!HostTensor::isFloatType(t) || im.dtype(1) != t)
    return im.error() << "expects float inputs of one type, got " << typeName(t)
                      << " and " << typeName(im.dtype(1));
  Type elem = im.elemType(t);
  Value slope = im.in(1);
  // Before opset 7 a 1-d slope of size C applies per channel.
  ArrayRef<int64_t> xs = im.shape(0), ss = im.shape(1);
  if (im.opset < 7 && ss.size() == 1 && xs.size() >= 2 && ss[0] == xs[1] &&
      ss[0] != 1) {
    SmallVector<int64_t> shape(xs.size() - 1, 1);
    shape[0] = ss[0];
    slope = im.reshape(slope, shape);
  }
  FailureOr<Value> r = im.broadcastElementwise(
      {im.in(0), slope}, elem, [&](OpBuilder &nb, Location l, ValueRange a) {
        Value neg = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OLT,
                                          a[0], im.scalar(nb, l, elem, 0));
        Value scaled = arith::MulFOp::create(nb, l, a[0], a[1]);
        return (Value)arith::SelectOp::create(nb, l, neg, scaled, a[0]);
      });
  if (failed(r))
    return failure();
  return im.setOutput(0, *r, t);
}

static LogicalResult importClip(Importer &im) {
  if (failed(im.checkArity(1, 3)))
    return failure();
  int32_t t = im.dtype(0);
  Type elem = im.elemType(t);
  if (!elem || t == onnxp::TensorProto_DataType_BOOL)
    return im.error() << "element type " << typeName(t) << " is not supported";
  bool isFloat = HostTensor::isFloatType(t), isUnsigned = isUnsignedType(t);
  SmallVector<Value> operands = {im.in(0)};
  Value lo, hi;
  if (im.opset < 11) {
    FailureOr<float> mn = im.attrFloat("min", -3.4028234663852886e38f);
    FailureOr<float> mx = im.attrFloat("max", 3.4028234663852886e38f);
    if (failed(mn) || failed(mx))
      return failure();
    lo = arith::ConstantOp::create(im.b, im.loc, im.scalarAttr(elem, *mn));
    hi = arith::ConstantOp::create(im.b, im.loc, im.scalarAttr(elem, *mx));
  }
  // Inputs 1 and 2 (opset >= 11) are scalar tensors, possibly computed.
  int minIdx = -1, maxIdx = -1;
  for (unsigned i = 1; i < im.numInputs(); ++i) {
    if (!im.hasInput(i))
      continue;
    if (im.dtype(i) != t)
      return im.error() << "bound input " << i << " has type "
                        << typeName(im.dtype(i)) << ", expected "
                        << typeName(t);
    if (!im.shape(i).empty() &&
        !(im.shape(i).size() == 1 && im.shape(i)[0] == 1))
      return im.error() << "bound input " << i << " must be a scalar";
    Value v = im.in(i);
    if (!im.shape(i).empty())
      v = im.reshape(v, {});
    (i == 1 ? minIdx : maxIdx) = operands.size();
    operands.push_back(v);
  }
  Value r = im.elementwise(
      operands, im.shape(0), elem,
      [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
        Value v = a[0];
        Value mn = minIdx >= 0 ? a[minIdx] : lo;
        Value mx = maxIdx >= 0 ? a[maxIdx] : hi;
        if (mn)
          v = isFloat      ? (Value)arith::MaximumFOp::create(nb, l, v, mn)
              : isUnsigned ? (Value)arith::MaxUIOp::create(nb, l, v, mn)
                           : (Value)arith::MaxSIOp::create(nb, l, v, mn);
        if (mx)
          v = isFloat      ? (Value)arith::MinimumFOp::create(nb, l, v, mx)
              : isUnsigned ? (Value)arith::MinUIOp::create(nb, l, v, mx)
                           : (Value)arith::MinSIOp::create(nb, l, v, mx);
        return v;
      });
  return im.setOutput(0, r, t);
}

static LogicalResult importWhere(Importer &im) {
  if (failed(im.checkArity(3, 3)))
    return failure();
  if (im.dtype(0) != onnxp::TensorProto_DataType_BOOL)
    return im.error() << "condition must be BOOL, got "
                      << typeName(im.dtype(0));
  int32_t t = im.dtype(1);
  if (im.dtype(2) != t || !im.elemType(t))
    return im.error() << "X and Y must have one supported type, got "
                      << typeName(t) << " and " << typeName(im.dtype(2));
  FailureOr<Value> r = im.broadcastElementwise(
      {im.in(0), im.in(1), im.in(2)}, im.elemType(t),
      [](OpBuilder &nb, Location l, ValueRange a) {
        return (Value)arith::SelectOp::create(nb, l, a[0], a[1], a[2]);
      });
  if (failed(r))
    return failure();
  return im.setOutput(0, *r, t);
}

static LogicalResult importCast(Importer &im) {
  if (failed(im.checkArity(1, 1)))
    return failure();
  FailureOr<int64_t> to = im.attrInt("to", -1);
  if (failed(to))
    return failure();
  if (!im.hasAttr("to"))
    return im.error() << "attribute 'to' is required";
  int32_t from = im.dtype(0);
  if (!im.elemType(*to) || *to == onnxp::TensorProto_DataType_BFLOAT16 ||
      from == onnxp::TensorProto_DataType_BFLOAT16)
    return im.error() << "cast from " << typeName(from) << " to "
                      << typeName(*to) << " is not supported";
  if (!im.elemType(from))
    return im.error() << "cast from " << typeName(from) << " is not supported";
  Entry &e = im.input(0);
  if (e.host && e.host->numel() <= 4096 &&
      *to != onnxp::TensorProto_DataType_BFLOAT16) {
    HostTensor out = HostTensor::make(*to, e.shape);
    for (int64_t i = 0, n = out.numel(); i < n; ++i) {
      if (e.host->isFloat())
        out.setDouble(i, e.host->getDouble(i));
      else
        out.setInt(i, e.host->getInt(i));
    }
    return im.setHostOutput(0, std::move(out));
  }
  Value r = im.elementwise(im.in(0), e.shape, im.elemType(*to),
                           [&](OpBuilder &nb, Location l, ValueRange a) {
                             return im.convertScalar(nb, l, a[0], from, *to);
                           });
  return im.setOutput(0, r, *to);
}

static LogicalResult importIdentity(Importer &im) {
  if (failed(im.checkArity(1, 1)))
    return failure();
  Entry &e = im.input(0);
  if (e.host && !e.value)
    return im.setHostOutput(0, *e.host);
  return im.setOutput(0, im.in(0), e.dtype);
}

static LogicalResult importDropout(Importer &im) {
  if (failed(im.checkArity(1, 3, 2)))
    return failure();
  if (im.hasInput(2)) {
    FailureOr<const HostTensor *> training =
        im.constInput(2, "the 'training_mode' input");
    if (failed(training))
      return failure();
    if ((*training)->numel() != 1 || (*training)->getInt(0) != 0)
      return im.error() << "training mode is not supported (qopt imports "
                           "inference graphs)";
  }
  Entry &e = im.input(0);
  if (e.host && !e.value) {
    if (failed(im.setHostOutput(0, *e.host)))
      return failure();
  } else if (failed(im.setOutput(0, im.in(0), e.dtype))) {
    return failure();
  }
  if (im.hasOutput(1)) {
    HostTensor mask =
        HostTensor::make(onnxp::TensorProto_DataType_BOOL, e.shape);
    for (int64_t i = 0, n = mask.numel(); i < n; ++i)
      mask.setInt(i, 1);
    return im.setHostOutput(1, std::move(mask));
  }
  return success();
}

void mlir::qopt::onnx_import::populateElementwiseOps(
    llvm::StringMap<Handler> &table) {
  table["Add"] = [](Importer &im) { return importBinary(im, Bin::Add); };
  table["Sub"] = [](Importer &im) { return importBinary(im, Bin::Sub); };
  table["Mul"] = [](Importer &im) { return importBinary(im, Bin::Mul); };
  table["Div"] = [](Importer &im) { return importBinary(im, Bin::Div); };
  table["Pow"] = [](Importer &im) { return importBinary(im, Bin::Pow); };
  table["Min"] = [](Importer &im) { return importBinary(im, Bin::Min); };
  table["Max"] = [](Importer &im) { return importBinary(im, Bin::Max); };
  table["Equal"] = [](Importer &im) { return importBinary(im, Bin::Equal); };
  table["Less"] = [](Importer &im) { return importBinary(im, Bin::Less); };
  table["Greater"] = [](Importer &im) {
    return importBinary(im, Bin::Greater);
  };
  table["Sqrt"] = [](Importer &im) { return importUnary(im, Un::Sqrt); };
  table["Exp"] = [](Importer &im) { return importUnary(im, Un::Exp); };
  table["Log"] = [](Importer &im) { return importUnary(im, Un::Log); };
  table["Neg"] = [](Importer &im) { return importUnary(im, Un::Neg); };
  table["Abs"] = [](Importer &im) { return importUnary(im, Un::Abs); };
  table["Reciprocal"] = [](Importer &im) {
    return importUnary(im, Un::Reciprocal);
  };
  table["Relu"] = [](Importer &im) { return importUnary(im, Un::Relu); };
  table["LeakyRelu"] = [](Importer &im) {
    return importUnary(im, Un::LeakyRelu);
  };
  table["Sigmoid"] = [](Importer &im) { return importUnary(im, Un::Sigmoid); };
  table["HardSigmoid"] = [](Importer &im) {
    return importUnary(im, Un::HardSigmoid);
  };
  table["HardSwish"] = [](Importer &im) {
    return importUnary(im, Un::HardSwish);
  };
  table["Tanh"] = [](Importer &im) { return importUnary(im, Un::Tanh); };
  table["Erf"] = [](Importer &im) { return importUnary(im, Un::Erf); };
  table["PRelu"] = importPRelu;
  table["Clip"] = importClip;
  table["Where"] = importWhere;
  table["Cast"] = importCast;
  table["Identity"] = importIdentity;
  table["Dropout"] = importDropout;
}
