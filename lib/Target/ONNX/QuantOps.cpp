//===- QuantOps.cpp - ONNX quantized operators ------------------*- C++ -*-===//
//
// Imports ONNX's quantized operators. QuantizeLinear / DequantizeLinear (per
// tensor and per axis, constant scales and zero points) become upstream
// quant.qcast / quant.dcast with !quant.uniform types, storage integers
// entering or leaving through quant.scast, so a QDQ model arrives in the form
// qopt-quantize-kernels takes. QLinearConv, QLinearMatMul, ConvInteger,
// MatMulInteger and DynamicQuantizeLinear become integer linalg with ONNX's
// exact semantics: i32 accumulation of zero-point-corrected products, then
// (QLinear*) requantization in f32 as ONNX Runtime computes it
// (acc * (sa*sb/sy), round half to even, + zy, saturate). com.microsoft
// MatMulNBits (4- or 8-bit per-block weights, float activations) becomes
// qopt.matmul_nbits, whose weight layout is MatMulNBits' own.
// DynamicQuantizeLinear becomes qopt.dynamic_quantize; MatMulInteger takes
// its A zero point from it at run time, and ONNX Runtime's contrib
// com.microsoft.DynamicQuantizeMatMul becomes the same steps followed by
// ORT's float32 scaling, float(acc) * (a_scale * b_scale) + bias
// (docs/numerics.md, section 9).
//
//===----------------------------------------------------------------------===//

#include "Importer.h"
#include "qopt/Dialect/QOpt/IR/QOptOps.h"

#include "qopt/Dialect/QOpt/IR/QOptOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"

#include <cmath>

using namespace mlir;
using namespace mlir::qopt::onnx_import;
namespace onnxp = ::onnx;

namespace {
/// Constant quantization parameters of one QDQ node.
struct QParams {
  SmallVector<double> scales;
  SmallVector<int64_t> zeroPoints;
  int32_t storage = onnxp::TensorProto_DataType_UINT8;
  int64_t axis = -1; // -1: per tensor
};
} // namespace

static std::pair<int64_t, int64_t> storageRange(int32_t dt) {
  switch (dt) {
  case onnxp::TensorProto_DataType_UINT8:
    return {0, 255};
  case onnxp::TensorProto_DataType_INT8:
    return {-128, 127};
  case onnxp::TensorProto_DataType_UINT16:
    return {0, 65535};
  case onnxp::TensorProto_DataType_INT16:
    return {-32768, 32767};
  default:
    return {INT32_MIN, INT32_MAX};
  }
}

/// Reads scale (input `si`) and zero point (input `zi`, optional) as
/// constants; `dataShape` is the float (or integer) tensor they apply to.
static FailureOr<QParams> getQParams(Importer &im, unsigned si, unsigned zi,
                                     ArrayRef<int64_t> dataShape,
                                     int32_t defaultStorage) {
  QParams q;
  FailureOr<const HostTensor *> scale = im.constInput(si, "the scale");
  if (failed(scale))
    return failure();
  const HostTensor *zp = nullptr;
  if (im.hasInput(zi)) {
    FailureOr<const HostTensor *> z = im.constInput(zi, "the zero point");
    if (failed(z))
      return failure();
    zp = *z;
  }
  if (!(*scale)->isFloat())
    return im.error() << "the scale must be a float tensor";
  q.storage = zp ? zp->dtype : defaultStorage;
  if (q.storage != onnxp::TensorProto_DataType_UINT8 &&
      q.storage != onnxp::TensorProto_DataType_INT8 &&
      q.storage != onnxp::TensorProto_DataType_INT32)
    return im.error() << "zero point type " << typeName(q.storage)
                      << " is not supported (UINT8, INT8 or INT32)";
  int64_t n = (*scale)->numel();
  if (zp && zp->numel() != n)
    return im.error() << "the scale has " << n
                      << " elements but the zero point has " << zp->numel();
  int64_t rank = dataShape.size();
  if ((*scale)->shape.size() > 1)
    return im.error() << "the scale must be a scalar or 1-d";
  if (!(*scale)->shape.empty() && !(n == 1 && rank == 0)) {
    FailureOr<int64_t> axisAttr = im.attrInt("axis", 1);
    if (failed(axisAttr))
      return failure();
    if (n > 1 || im.hasAttr("axis")) {
      FailureOr<int64_t> axis = im.normalizeAxis(*axisAttr, rank, "axis");
      if (failed(axis))
        return failure();
      if (dataShape[*axis] != n) {
        if (n != 1)
          return im.error() << "the scale has " << n << " elements but axis "
                            << *axis << " has size " << dataShape[*axis];
      } else if (n > 1) {
        q.axis = *axis;
      }
    }
  }
  auto [lo, hi] = storageRange(q.storage);
  for (int64_t i = 0; i < n; ++i) {
    double s = (*scale)->getDouble(i);
    if (!(s > 0) || !std::isfinite(s))
      return im.error() << "scale " << s
                        << " is invalid (it must be positive and finite)";
    int64_t z = zp ? zp->getInt(i) : 0;
    if (z < lo || z > hi)
      return im.error() << "zero point " << z << " is outside the range of "
                        << typeName(q.storage);
    q.scales.push_back(s);
    q.zeroPoints.push_back(z);
  }
  if (q.axis < 0) {
    q.scales.resize(1);
    q.zeroPoints.resize(1);
  }
  return q;
}

static quant::QuantizedType getQuantType(Importer &im, const QParams &q,
                                         Type expressed) {
  auto [lo, hi] = storageRange(q.storage);
  bool isSigned = !isUnsignedType(q.storage);
  unsigned flags = isSigned ? quant::QuantizationFlags::Signed : 0;
  Type storage = im.elemType(q.storage);
  if (q.axis >= 0)
    return quant::UniformQuantizedPerAxisType::get(
        flags, storage, expressed, q.scales, q.zeroPoints, q.axis, lo, hi);
  return quant::UniformQuantizedType::get(flags, storage, expressed,
                                          q.scales[0], q.zeroPoints[0], lo, hi);
}

static LogicalResult importQuantizeLinear(Importer &im) {
  if (failed(im.checkArity(2, 3)))
    return failure();
  int32_t dt = im.dtype(0);
  if (dt != onnxp::TensorProto_DataType_FLOAT)
    return im.error() << "the input must be FLOAT, got " << typeName(dt);
  FailureOr<QParams> q =
      getQParams(im, 1, 2, im.shape(0), onnxp::TensorProto_DataType_UINT8);
  if (failed(q))
    return failure();
  if (q->storage == onnxp::TensorProto_DataType_INT32)
    return im.error() << "INT32 output is not supported";
  Value x = im.in(0);
  auto xType = cast<RankedTensorType>(x.getType());
  auto resultType = xType.clone(getQuantType(im, *q, xType.getElementType()));
  Value y = quant::QuantizeCastOp::create(im.b, im.loc, resultType, x);
  return im.setOutput(0, y, q->storage);
}

static LogicalResult importDequantizeLinear(Importer &im) {
  if (failed(im.checkArity(2, 3)))
    return failure();
  int32_t dt = im.dtype(0);
  if (dt != onnxp::TensorProto_DataType_UINT8 &&
      dt != onnxp::TensorProto_DataType_INT8 &&
      dt != onnxp::TensorProto_DataType_INT32)
    return im.error() << "the input must be UINT8, INT8 or INT32, got "
                      << typeName(dt);
  FailureOr<QParams> q = getQParams(im, 1, 2, im.shape(0), dt);
  if (failed(q))
    return failure();
  if (im.hasInput(2) && q->storage != dt)
    return im.error() << "the zero point type " << typeName(q->storage)
                      << " differs from the input type " << typeName(dt);
  q->storage = dt;
  Type f32 = im.b.getF32Type();
  quant::QuantizedType qtype = getQuantType(im, *q, f32);
  Value x = im.in(0);
  auto xType = cast<RankedTensorType>(x.getType());
  if (xType.getElementType() != qtype) {
    Value ints = im.inStorage(0);
    x = quant::StorageCastOp::create(im.b, im.loc, xType.clone(qtype), ints);
  }
  Value y = quant::DequantizeCastOp::create(im.b, im.loc, xType.clone(f32), x);
  return im.setOutput(0, y, onnxp::TensorProto_DataType_FLOAT);
}

//===----------------------------------------------------------------------===//
// Integer kernels.
//===----------------------------------------------------------------------===//

/// A constant zero point that must be the same for every element (scalar or
/// a 1-d tensor of equal values); `what` names it in errors.
static FailureOr<int64_t> uniformZeroPoint(Importer &im, unsigned i,
                                           int32_t dataType, StringRef what) {
  if (!im.hasInput(i))
    return 0;
  FailureOr<const HostTensor *> z = im.constInput(i, what);
  if (failed(z))
    return failure();
  if ((*z)->dtype != dataType)
    return im.error() << what << " has type " << typeName((*z)->dtype)
                      << ", expected " << typeName(dataType);
  if ((*z)->numel() == 0)
    return im.error() << what << " is empty";
  int64_t v = (*z)->getInt(0);
  for (int64_t k = 1, e = (*z)->numel(); k < e; ++k)
    if ((*z)->getInt(k) != v)
      return im.error() << what
                        << " differs between elements; only a uniform zero "
                           "point is supported";
  return v;
}

/// acc += (ext(x) - zx) * (ext(w) - zw) in i32.
static auto intMulAdd(bool xUnsigned, bool wUnsigned, int64_t zx, int64_t zw) {
  return [=](OpBuilder &nb, Location l, Value x, Value w, Value acc) -> Value {
    Type i32 = nb.getI32Type();
    Value xe = xUnsigned ? (Value)arith::ExtUIOp::create(nb, l, i32, x)
                         : (Value)arith::ExtSIOp::create(nb, l, i32, x);
    Value we = wUnsigned ? (Value)arith::ExtUIOp::create(nb, l, i32, w)
                         : (Value)arith::ExtSIOp::create(nb, l, i32, w);
    if (zx)
      xe = arith::SubIOp::create(
          nb, l, xe,
          arith::ConstantOp::create(nb, l, nb.getI32IntegerAttr(zx)));
    if (zw)
      we = arith::SubIOp::create(
          nb, l, we,
          arith::ConstantOp::create(nb, l, nb.getI32IntegerAttr(zw)));
    Value p = arith::MulIOp::create(nb, l, xe, we);
    return arith::AddIOp::create(nb, l, acc, p);
  };
}

static LogicalResult checkInt8(Importer &im, unsigned i) {
  int32_t dt = im.dtype(i);
  if (dt != onnxp::TensorProto_DataType_UINT8 &&
      dt != onnxp::TensorProto_DataType_INT8)
    return im.error() << "input " << i << " must be UINT8 or INT8, got "
                      << typeName(dt);
  return success();
}

/// Requantizes an i32 accumulator: clamp(roundeven(acc * m) + zy) with `m`
/// a float tensor broadcastable to acc (per tensor or per channel).
static Value requantize(Importer &im, Value acc, Value multiplier, int64_t zy,
                        int32_t outType) {
  auto type = cast<RankedTensorType>(acc.getType());
  // Named, not structured bindings: the lambda below captures them.
  auto range = storageRange(outType);
  int64_t lo = range.first, hi = range.second;
  bool isUnsigned = isUnsignedType(outType);
  Type f32 = im.b.getF32Type();
  Type out = im.elemType(outType);
  return im.elementwise(
      {acc, multiplier}, type.getShape(), out,
      [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
        Value f = arith::SIToFPOp::create(nb, l, f32, a[0]);
        f = arith::MulFOp::create(nb, l, f, a[1]);
        f = math::RoundEvenOp::create(nb, l, f);
        f = arith::AddFOp::create(nb, l, f, im.scalar(nb, l, f32, zy));
        f = arith::MaximumFOp::create(nb, l, f, im.scalar(nb, l, f32, lo));
        f = arith::MinimumFOp::create(nb, l, f, im.scalar(nb, l, f32, hi));
        if (isUnsigned)
          return arith::FPToUIOp::create(nb, l, out, f);
        return arith::FPToSIOp::create(nb, l, out, f);
      });
}

/// The float32 multiplier sa * sb / sy of a QLinear op, one per channel when
/// `sb` is per channel; shaped `channelShape` for broadcasting when per
/// channel.
static FailureOr<Value> multiplier(Importer &im, unsigned saIdx, unsigned sbIdx,
                                   unsigned syIdx,
                                   SmallVector<int64_t> channelShape) {
  FailureOr<const HostTensor *> sa = im.constInput(saIdx, "the input scale");
  if (failed(sa))
    return failure();
  FailureOr<const HostTensor *> sb = im.constInput(sbIdx, "the weight scale");
  if (failed(sb))
    return failure();
  FailureOr<const HostTensor *> sy = im.constInput(syIdx, "the output scale");
  if (failed(sy))
    return failure();
  if ((*sa)->numel() != 1 || (*sy)->numel() != 1)
    return im.error() << "input and output scales must be scalars";
  int64_t n = (*sb)->numel();
  HostTensor m =
      HostTensor::make(onnxp::TensorProto_DataType_FLOAT,
                       n == 1 ? SmallVector<int64_t>{} : channelShape);
  if (n != 1 && m.numel() != n)
    return im.error() << "the weight scale has " << n
                      << " elements; expected 1 or one per output channel";
  for (int64_t i = 0; i < n; ++i) {
    float a = (float)(*sa)->getDouble(0), b = (float)(*sb)->getDouble(i),
          y = (float)(*sy)->getDouble(0);
    if (!(a > 0) || !(b > 0) || !(y > 0))
      return im.error() << "scales must be positive";
    m.setDouble(i, a * b / y);
  }
  return im.constant(m, "", im.loc);
}

/// A's values minus a zero point known only at run time (a scalar tensor,
/// such as DynamicQuantizeLinear's), as i32.
static FailureOr<Value> subtractRuntimeZeroPoint(Importer &im, Value a,
                                                 bool aUnsigned, Value zp,
                                                 bool zpUnsigned) {
  auto zpType = cast<RankedTensorType>(zp.getType());
  if (zpType.getNumElements() != 1)
    return im.error() << "a zero point computed at run time must be a scalar";
  if (zpType.getRank() != 0)
    zp = im.reshape(zp, {});
  auto aType = cast<RankedTensorType>(a.getType());
  return im.elementwise(
      {a, zp}, aType.getShape(), im.b.getI32Type(),
      [&](OpBuilder &nb, Location l, ValueRange v) -> Value {
        Type i32 = nb.getI32Type();
        Value x = aUnsigned ? (Value)arith::ExtUIOp::create(nb, l, i32, v[0])
                            : (Value)arith::ExtSIOp::create(nb, l, i32, v[0]);
        Value z = zpUnsigned ? (Value)arith::ExtUIOp::create(nb, l, i32, v[1])
                             : (Value)arith::ExtSIOp::create(nb, l, i32, v[1]);
        return arith::SubIOp::create(nb, l, x, z);
      });
}

/// acc += x * (ext(w) - zw) with x already i32.
static auto intMulAddI32(bool wUnsigned, int64_t zw) {
  return [=](OpBuilder &nb, Location l, Value x, Value w, Value acc) -> Value {
    Type i32 = nb.getI32Type();
    Value we = wUnsigned ? (Value)arith::ExtUIOp::create(nb, l, i32, w)
                         : (Value)arith::ExtSIOp::create(nb, l, i32, w);
    if (zw)
      we = arith::SubIOp::create(
          nb, l, we,
          arith::ConstantOp::create(nb, l, nb.getI32IntegerAttr(zw)));
    return arith::AddIOp::create(nb, l, acc,
                                 arith::MulIOp::create(nb, l, x, we));
  };
}

/// The VNNI form of a matmul of run-time quantized u8 activations `a` (i8
/// storage) with zero point `za` (rank 0, i8 storage of a u8) by a constant
/// 2-D weight `b` with zero point `zb`: what qopt-legalize{mode=dynamic}
/// emits, so that qopt-lower-cpu runs it on its i8 GEMM kernel:
///
///   %s   = a xor 0x80                      (a - 128, exact, as i8)
///   %acc = linalg.matmul(%s, b - sb)       (i8 x i8 -> i32, constant weight)
///   acc + (128 - za) * colsum(b - sb) - zb' * (rowsum(%s) + K * (128 - za))
///
/// with sb = 128 for u8 weights (else 0) and zb' = zb - sb: exactly
/// sum((a - za) * (b - zb)). Leading dimensions of `a` are flattened into
/// the rows. Returns a null value when the weight is not a 2-D constant (the
/// caller then builds the generic integer matmul).
static FailureOr<Value> buildDynamicMatMulVnni(Importer &im, Value a, Value za,
                                               unsigned bIdx, int64_t zb) {
  const HostTensor *bt = im.input(bIdx).host.get();
  auto aType = cast<RankedTensorType>(a.getType());
  if (!bt || bt->shape.size() != 2 || aType.getRank() < 2 ||
      !aType.hasStaticShape())
    return Value();
  int64_t k = bt->shape[0], n = bt->shape[1];
  if (aType.getShape().back() != k)
    return im.error() << "inner dimensions do not match: "
                      << aType.getShape().back() << " vs " << k;
  bool bUnsigned = isUnsignedType(bt->dtype);
  int64_t shift = bUnsigned ? 128 : 0, zbShifted = zb - shift;
  SmallVector<int8_t> w(k * n);
  SmallVector<int32_t> colsum(n, 0);
  for (int64_t i = 0; i < k * n; ++i) {
    w[i] = static_cast<int8_t>(bt->getInt(i) - shift);
    colsum[i % n] += w[i];
  }
  OpBuilder &b = im.b;
  Location loc = im.loc;
  Type i8 = b.getI8Type(), i32 = b.getI32Type();
  int64_t rows = aType.getNumElements() / k;
  Value a2 = aType.getRank() == 2 ? a : im.reshape(a, {rows, k});
  Value s = im.elementwise(
      {a2}, {rows, k}, i8, [](OpBuilder &nb, Location l, ValueRange v) {
        Value bit = arith::ConstantOp::create(
            nb, l, nb.getIntegerAttr(nb.getI8Type(), -128));
        return (Value)arith::XOrIOp::create(nb, l, v[0], bit);
      });
  Value weight = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(RankedTensorType::get({k, n}, i8),
                             ArrayRef<int8_t>(w)));
  Value init = im.fill({rows, n}, i32, b.getI32IntegerAttr(0));
  Value acc = linalg::MatmulOp::create(b, loc, TypeRange{init.getType()},
                                       ValueRange{s, weight}, ValueRange{init})
                  .getResult(0);
  Value colsumValue = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(RankedTensorType::get({n}, i32),
                             ArrayRef<int32_t>(colsum)));
  SmallVector<Value> operands = {acc, za, colsumValue};
  if (zbShifted != 0) {
    Value wide = im.elementwise(
        {s}, {rows, k}, i32, [](OpBuilder &nb, Location l, ValueRange v) {
          return (Value)arith::ExtSIOp::create(nb, l, nb.getI32Type(), v[0]);
        });
    operands.push_back(
        im.reduce(wide, {1}, /*keepDims=*/true, b.getI32IntegerAttr(0),
                  [](OpBuilder &nb, Location l, Value v, Value sum) -> Value {
                    return arith::AddIOp::create(nb, l, v, sum);
                  }));
  }
  Value result = im.elementwise(
      operands, {rows, n}, i32, [&](OpBuilder &nb, Location l, ValueRange v) {
        auto c32 = [&](int64_t x) -> Value {
          return arith::ConstantOp::create(nb, l, nb.getI32IntegerAttr(x));
        };
        Value c = arith::SubIOp::create(
            nb, l, c32(128), arith::ExtUIOp::create(nb, l, i32, v[1]));
        Value r = arith::AddIOp::create(nb, l, v[0],
                                        arith::MulIOp::create(nb, l, c, v[2]));
        if (v.size() > 3) {
          Value t = arith::AddIOp::create(
              nb, l, v[3], arith::MulIOp::create(nb, l, c32(k), c));
          r = arith::SubIOp::create(
              nb, l, r, arith::MulIOp::create(nb, l, c32(zbShifted), t));
        }
        return r;
      });
  if (aType.getRank() == 2)
    return result;
  SmallVector<int64_t> outShape(aType.getShape().drop_back());
  outShape.push_back(n);
  return im.reshape(result, outShape);
}

/// MatMulInteger whose A zero point is computed at run time (the graph
/// ONNX Runtime's quantize_dynamic writes: DynamicQuantizeLinear's zero
/// point feeds it): the exact i32 sum of (a - za) * (b - zb).
static LogicalResult importMatMulIntegerDynamic(Importer &im) {
  int32_t at = im.dtype(0), bt = im.dtype(1);
  if (im.dtype(2) != at)
    return im.error() << "the A zero point has type " << typeName(im.dtype(2))
                      << ", expected " << typeName(at);
  FailureOr<int64_t> zb = uniformZeroPoint(im, 3, bt, "the B zero point");
  if (failed(zb))
    return failure();
  // u8 activations (DynamicQuantizeLinear's) by a constant weight: the i8
  // GEMM kernel mode=dynamic uses.
  if (isUnsignedType(at) &&
      cast<RankedTensorType>(im.in(2).getType()).getNumElements() == 1) {
    Value za = im.inStorage(2);
    if (cast<RankedTensorType>(za.getType()).getRank() != 0)
      za = im.reshape(za, {});
    FailureOr<Value> fast =
        buildDynamicMatMulVnni(im, im.inStorage(0), za, 1, *zb);
    if (failed(fast))
      return failure();
    if (*fast)
      return im.setOutput(0, *fast, onnxp::TensorProto_DataType_INT32);
  }
  FailureOr<Value> a =
      subtractRuntimeZeroPoint(im, im.inStorage(0), isUnsignedType(at),
                               im.inStorage(2), isUnsignedType(at));
  if (failed(a))
    return failure();
  FailureOr<Value> acc =
      buildMatMul(im, *a, im.inStorage(1), im.b.getI32Type(),
                  /*allowNamed=*/false, intMulAddI32(isUnsignedType(bt), *zb));
  if (failed(acc))
    return failure();
  return im.setOutput(0, *acc, onnxp::TensorProto_DataType_INT32);
}

static LogicalResult importMatMulLike(Importer &im, bool qlinear) {
  unsigned ai = 0, bi = qlinear ? 3 : 1;
  if (failed(im.checkArity(qlinear ? 8 : 2, qlinear ? 8 : 4)) ||
      failed(checkInt8(im, ai)) || failed(checkInt8(im, bi)))
    return failure();
  int32_t at = im.dtype(ai), bt = im.dtype(bi);
  if (!qlinear && im.hasInput(2) && !im.input(2).host)
    return importMatMulIntegerDynamic(im);
  FailureOr<int64_t> za =
      uniformZeroPoint(im, qlinear ? 2 : 2, at, "the A zero point");
  FailureOr<int64_t> zb =
      uniformZeroPoint(im, qlinear ? 5 : 3, bt, "the B zero point");
  if (failed(za) || failed(zb))
    return failure();
  FailureOr<Value> acc =
      buildMatMul(im, im.inStorage(ai), im.inStorage(bi), im.b.getI32Type(),
                  /*allowNamed=*/false,
                  intMulAdd(isUnsignedType(at), isUnsignedType(bt), *za, *zb));
  if (failed(acc))
    return failure();
  if (!qlinear)
    return im.setOutput(0, *acc, onnxp::TensorProto_DataType_INT32);
  ArrayRef<int64_t> bs = im.shape(bi);
  FailureOr<Value> m = multiplier(im, 1, 4, 6, {bs.back()});
  if (failed(m))
    return failure();
  FailureOr<const HostTensor *> zy = im.constInput(7, "the output zero point");
  if (failed(zy))
    return failure();
  if ((*zy)->numel() != 1)
    return im.error() << "the output zero point must be a scalar";
  Value y = requantize(im, *acc, *m, (*zy)->getInt(0), (*zy)->dtype);
  return im.setOutput(0, y, (*zy)->dtype);
}

static LogicalResult importConvLike(Importer &im, bool qlinear) {
  unsigned xi = 0, wi = qlinear ? 3 : 1;
  if (failed(im.checkArity(qlinear ? 8 : 2, qlinear ? 9 : 4)) ||
      failed(checkInt8(im, xi)) || failed(checkInt8(im, wi)))
    return failure();
  int32_t xt = im.dtype(xi), wt = im.dtype(wi);
  FailureOr<int64_t> zx = uniformZeroPoint(im, 2, xt, "the input zero point");
  FailureOr<int64_t> zw =
      uniformZeroPoint(im, qlinear ? 5 : 3, wt, "the weight zero point");
  if (failed(zx) || failed(zw))
    return failure();
  ArrayRef<int64_t> xs = im.shape(xi), ws = im.shape(wi);
  if (xs.size() != ws.size())
    return im.error() << "input and weight ranks differ";
  SmallVector<int64_t> kernel(ws.begin() + 2, ws.end());
  FailureOr<ConvGeometry> g = getConvGeometry(im, xs, kernel);
  if (failed(g))
    return failure();
  if (xs[1] % g->group || ws[0] % g->group || xs[1] / g->group != ws[1])
    return im.error() << "channels do not match the weight and group";
  // Padding holds the zero point: real zero.
  SmallVector<int64_t> lo(2, 0), hi(2, 0);
  lo.append(g->padLo);
  hi.append(g->padHi);
  Type xElem = im.elemType(xt);
  Value x =
      im.padConstant(im.inStorage(xi), lo, hi, im.b.getIntegerAttr(xElem, *zx));
  Value acc =
      buildConv(im, x, im.inStorage(wi), *g, im.b.getI32Type(),
                /*allowNamed=*/false,
                intMulAdd(isUnsignedType(xt), isUnsignedType(wt), *zx, *zw));
  if (!qlinear)
    return im.setOutput(0, acc, onnxp::TensorProto_DataType_INT32);
  auto accType = cast<RankedTensorType>(acc.getType());
  if (im.hasInput(8)) {
    if (im.dtype(8) != onnxp::TensorProto_DataType_INT32 ||
        im.shape(8).size() != 1 || im.shape(8)[0] != ws[0])
      return im.error() << "the bias must be INT32 of shape [" << ws[0] << "]";
    SmallVector<int64_t> bshape(accType.getRank() - 1, 1);
    bshape[0] = ws[0];
    Value bias = im.reshape(im.in(8), bshape);
    acc =
        im.elementwise({acc, bias}, accType.getShape(), im.b.getI32Type(),
                       [](OpBuilder &nb, Location l, ValueRange a) {
                         return (Value)arith::AddIOp::create(nb, l, a[0], a[1]);
                       });
  }
  SmallVector<int64_t> chan(accType.getRank() - 1, 1);
  chan[0] = ws[0];
  FailureOr<Value> m = multiplier(im, 1, 4, 6, chan);
  if (failed(m))
    return failure();
  FailureOr<const HostTensor *> zy = im.constInput(7, "the output zero point");
  if (failed(zy))
    return failure();
  if ((*zy)->numel() != 1)
    return im.error() << "the output zero point must be a scalar";
  Value y = requantize(im, acc, *m, (*zy)->getInt(0), (*zy)->dtype);
  return im.setOutput(0, y, (*zy)->dtype);
}

/// The u8 values, scale and zero point of DynamicQuantizeLinear on `x`, as
/// qopt.dynamic_quantize computes them (ONNX Runtime's rule).
static qopt::DynamicQuantizeOp dynamicQuantize(Importer &im, Value x) {
  auto type = cast<RankedTensorType>(x.getType());
  Type f32 = im.b.getF32Type(), i8 = im.b.getI8Type();
  return qopt::DynamicQuantizeOp::create(im.b, im.loc, type.clone(i8),
                                         RankedTensorType::get({}, f32),
                                         RankedTensorType::get({}, i8), x);
}

static LogicalResult importDynamicQuantizeLinear(Importer &im) {
  if (failed(im.checkArity(1, 1, 3)))
    return failure();
  if (im.dtype(0) != onnxp::TensorProto_DataType_FLOAT)
    return im.error() << "the input must be FLOAT";
  auto dq = dynamicQuantize(im, im.in(0));
  if (failed(
          im.setOutput(0, dq.getOutput(), onnxp::TensorProto_DataType_UINT8)) ||
      failed(
          im.setOutput(1, dq.getScale(), onnxp::TensorProto_DataType_FLOAT)) ||
      failed(im.setOutput(2, dq.getZeroPoint(),
                          onnxp::TensorProto_DataType_UINT8)))
    return failure();
  return success();
}

/// com.microsoft MatMulNBits: Y = A * dequantize(B), B [N][blocks][blob]
/// uint8, scales [N * blocks] float, optional zero points packed like B
/// (uint8), optional bias [N]. K not a multiple of block_size pads A with
/// zeros to the blocks' extent (B's padding values then meet zeros).
static LogicalResult importMatMulNBits(Importer &im) {
  if (failed(im.checkArity(3, 6)))
    return failure();
  FailureOr<int64_t> kAttr = im.attrInt("K", -1), nAttr = im.attrInt("N", -1),
                     bitsAttr = im.attrInt("bits", 4),
                     blockAttr = im.attrInt("block_size", -1),
                     accuracy = im.attrInt("accuracy_level", 0);
  if (failed(kAttr) || failed(nAttr) || failed(bitsAttr) || failed(blockAttr) ||
      failed(accuracy))
    return failure();
  int64_t k = *kAttr, n = *nAttr, bits = *bitsAttr, block = *blockAttr;
  if (k <= 0 || n <= 0 || block <= 0)
    return im.error() << "the K, N and block_size attributes must be positive";
  if (bits != 4 && bits != 8)
    return im.error() << "bits = " << bits << " is not supported (4 or 8 are)";
  if (block % 2 != 0)
    return im.error() << "block_size " << block << " must be even";
  // accuracy_level 4: int8 activations per row and block, ONNX Runtime's
  // rule (docs/numerics.md, section 10), derived for 4 bits and blocks of
  // 64 and 128 only.
  bool int8Block = *accuracy == 4;
  if (int8Block && (bits != 4 || (block != 64 && block != 128)))
    return im.error() << "accuracy_level 4 (int8 activations) is supported "
                         "for bits = 4 and block_size 64 or 128 (the cases "
                         "whose ONNX Runtime rule qopt reproduces), got bits = "
                      << bits << " and block_size " << block;
  if (im.hasInput(4))
    return im.error() << "the g_idx input (act-order) is not supported";
  if (im.dtype(0) != onnxp::TensorProto_DataType_FLOAT)
    return im.error() << "input A must be FLOAT";
  ArrayRef<int64_t> aShape = im.shape(0);
  if (aShape.empty() || aShape.back() != k)
    return im.error() << "input A's last dimension must be K = " << k;
  int64_t blocks = (k + block - 1) / block, blob = block * bits / 8;
  FailureOr<const HostTensor *> bData = im.constInput(1, "the weight B");
  FailureOr<const HostTensor *> sData = im.constInput(2, "the scales");
  if (failed(bData) || failed(sData))
    return failure();
  const HostTensor &bt = **bData, &st = **sData;
  if (bt.dtype != onnxp::TensorProto_DataType_UINT8 ||
      bt.numel() != n * blocks * blob)
    return im.error() << "B must be UINT8 with N x " << blocks << " x " << blob
                      << " = " << n * blocks * blob << " elements";
  if (st.dtype != onnxp::TensorProto_DataType_FLOAT || st.numel() != n * blocks)
    return im.error() << "scales must be FLOAT with N x " << blocks << " = "
                      << n * blocks << " elements";
  Value zeroPoints;
  Type i8 = im.b.getI8Type(), f32 = im.b.getF32Type();
  if (im.hasInput(3)) {
    FailureOr<const HostTensor *> zData = im.constInput(3, "the zero points");
    if (failed(zData))
      return failure();
    const HostTensor &zt = **zData;
    int64_t perColumn = (blocks * bits + 7) / 8;
    if (zt.dtype != onnxp::TensorProto_DataType_UINT8 ||
        zt.numel() != n * perColumn)
      return im.error() << "zero_points must be UINT8, packed like B, with N x "
                        << perColumn << " = " << n * perColumn
                        << " elements (float zero points are not supported)";
    std::vector<int8_t> zps(n * blocks);
    for (int64_t c = 0; c < n; ++c)
      for (int64_t g = 0; g < blocks; ++g) {
        uint8_t byte = static_cast<uint8_t>(
            zt.data[c * perColumn + (bits == 4 ? g / 2 : g)]);
        zps[c * blocks + g] = static_cast<int8_t>(
            bits == 4 ? (g % 2 ? byte >> 4 : byte & 0xF) : byte);
      }
    zeroPoints = arith::ConstantOp::create(
        im.b, im.loc,
        DenseElementsAttr::get(RankedTensorType::get({n, blocks}, i8),
                               ArrayRef<int8_t>(zps)));
  }
  Value weight = arith::ConstantOp::create(
      im.b, im.loc,
      DenseElementsAttr::getFromRawBuffer(
          RankedTensorType::get({n, blocks, blob}, i8),
          ArrayRef<char>(bt.data)));
  Value scales = arith::ConstantOp::create(
      im.b, im.loc,
      DenseElementsAttr::getFromRawBuffer(
          RankedTensorType::get({n, blocks}, f32), ArrayRef<char>(st.data)));
  Value a = im.in(0);
  SmallVector<int64_t> shape(aShape);
  if (shape.size() == 1)
    a = im.reshape(a, {1, k});
  int64_t kPadded = blocks * block;
  if (kPadded != k) {
    SmallVector<int64_t> low(cast<RankedTensorType>(a.getType()).getRank(), 0);
    SmallVector<int64_t> high(low);
    high.back() = kPadded - k;
    a = im.padConstant(a, low, high, im.b.getF32FloatAttr(0.0f));
  }
  auto aType = cast<RankedTensorType>(a.getType());
  SmallVector<int64_t> outShape(aType.getShape());
  outShape.back() = n;
  if (im.hasInput(5) && im.shape(5) != ArrayRef<int64_t>{n})
    return im.error() << "bias must have shape [N] = [" << n << "]";
  // With int8 activations ORT adds the bias between the integer part and
  // the zero-point correction: it goes into the op.
  Value opBias = int8Block && im.hasInput(5) ? im.in(5) : Value();
  Value y = qopt::MatMulNBitsOp::create(im.b, im.loc, aType.clone(outShape), a,
                                        weight, scales, zeroPoints, opBias,
                                        bits, block, int8Block,
                                        /*compute_type=*/TypeAttr())
                .getResult();
  if (shape.size() == 1)
    y = im.reshape(y, {n});
  if (im.hasInput(5) && !int8Block) {
    FailureOr<Value> sum = im.broadcastElementwise(
        ValueRange{y, im.in(5)}, f32,
        [](OpBuilder &nb, Location l, ValueRange args) -> Value {
          return arith::AddFOp::create(nb, l, args[0], args[1]);
        });
    if (failed(sum))
      return failure();
    y = *sum;
  }
  return im.setOutput(0, y, onnxp::TensorProto_DataType_FLOAT);
}

/// com.microsoft.DynamicQuantizeMatMul(A, B, b_scale, b_zero_point?, bias?):
/// A quantized as DynamicQuantizeLinear, the exact i32 product with B, then
/// float(acc) * (a_scale * b_scale) + bias in float32, as ONNX Runtime
/// computes it (docs/numerics.md, section 9).
static LogicalResult importDynamicQuantizeMatMul(Importer &im) {
  if (failed(im.checkArity(3, 5)))
    return failure();
  if (im.dtype(0) != onnxp::TensorProto_DataType_FLOAT)
    return im.error() << "input 0 (A) must be FLOAT, got "
                      << typeName(im.dtype(0));
  if (failed(checkInt8(im, 1)))
    return failure();
  int32_t bt = im.dtype(1);
  FailureOr<int64_t> zb = uniformZeroPoint(im, 3, bt, "the B zero point");
  if (failed(zb))
    return failure();
  ArrayRef<int64_t> bs = im.shape(1);
  if (bs.size() != 2)
    return im.error() << "B must be 2-D, got rank " << bs.size();
  int64_t n = bs[1];
  FailureOr<const HostTensor *> sb = im.constInput(2, "the B scale");
  if (failed(sb))
    return failure();
  int64_t ns = (*sb)->numel();
  if (!(*sb)->isFloat() || (ns != 1 && ns != n))
    return im.error() << "the B scale must be FLOAT with 1 or " << n
                      << " elements";
  HostTensor scales = HostTensor::make(onnxp::TensorProto_DataType_FLOAT,
                                       ns == 1 ? SmallVector<int64_t>{}
                                               : SmallVector<int64_t>{n});
  for (int64_t i = 0; i < ns; ++i) {
    double s = (*sb)->getDouble(i);
    if (!(s > 0) || !std::isfinite(s))
      return im.error() << "B scale " << s
                        << " is invalid (it must be positive and finite)";
    scales.setDouble(i, s);
  }
  Value bias;
  if (im.hasInput(4)) {
    if (im.dtype(4) != onnxp::TensorProto_DataType_FLOAT ||
        im.shape(4).size() != 1 || im.shape(4)[0] != n)
      return im.error() << "the bias must be FLOAT of shape [" << n << "]";
    bias = im.in(4);
  }
  auto dq = dynamicQuantize(im, im.in(0));
  FailureOr<Value> acc =
      buildDynamicMatMulVnni(im, dq.getOutput(), dq.getZeroPoint(), 1, *zb);
  if (failed(acc))
    return failure();
  if (!*acc) {
    FailureOr<Value> a =
        subtractRuntimeZeroPoint(im, dq.getOutput(), /*aUnsigned=*/true,
                                 dq.getZeroPoint(), /*zpUnsigned=*/true);
    if (failed(a))
      return failure();
    acc = buildMatMul(im, *a, im.inStorage(1), im.b.getI32Type(),
                      /*allowNamed=*/false,
                      intMulAddI32(isUnsignedType(bt), *zb));
    if (failed(acc))
      return failure();
  }
  Value bScale = im.constant(scales, "", im.loc);
  SmallVector<Value> operands = {*acc, dq.getScale(), bScale};
  if (bias)
    operands.push_back(bias);
  auto accType = cast<RankedTensorType>(acc->getType());
  Value y = im.elementwise(
      operands, accType.getShape(), im.b.getF32Type(),
      [&](OpBuilder &nb, Location l, ValueRange v) -> Value {
        Value f = arith::SIToFPOp::create(nb, l, nb.getF32Type(), v[0]);
        Value s = arith::MulFOp::create(nb, l, v[1], v[2]);
        Value r = arith::MulFOp::create(nb, l, f, s);
        if (v.size() > 3)
          r = arith::AddFOp::create(nb, l, r, v[3]);
        return r;
      });
  return im.setOutput(0, y, onnxp::TensorProto_DataType_FLOAT);
}

void mlir::qopt::onnx_import::populateQuantOps(
    llvm::StringMap<Handler> &table) {
  table["QuantizeLinear"] = importQuantizeLinear;
  table["DequantizeLinear"] = importDequantizeLinear;
  table["QLinearMatMul"] = [](Importer &im) {
    return importMatMulLike(im, true);
  };
  table["MatMulInteger"] = [](Importer &im) {
    return importMatMulLike(im, false);
  };
  table["QLinearConv"] = [](Importer &im) { return importConvLike(im, true); };
  table["ConvInteger"] = [](Importer &im) { return importConvLike(im, false); };
  table["DynamicQuantizeLinear"] = importDynamicQuantizeLinear;
  table["com.microsoft.MatMulNBits"] = importMatMulNBits;
  table["com.microsoft.DynamicQuantizeMatMul"] = importDynamicQuantizeMatMul;
}
