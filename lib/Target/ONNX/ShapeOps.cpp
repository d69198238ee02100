//===- ShapeOps.cpp - ONNX data-movement and shape operators ----*- C++ -*-===//
//
// Imports the operators that move data or compute shapes: Constant, Shape,
// ConstantOfShape, Range, Reshape, Flatten, Transpose, Squeeze, Unsqueeze,
// Expand, Concat, Split, Slice, Gather and Pad. With static shapes, every
// shape computation is folded here on host tensors (an exporter's
// Shape -> Gather -> Concat -> Reshape chain becomes one reshape), and data
// movement becomes tensor.{collapse,expand}_shape, extract/insert_slice,
// tensor.pad, linalg.transpose or a linalg.generic with tensor.extract.
//
//===----------------------------------------------------------------------===//

#include "Importer.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "llvm/Support/InterleavedRange.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::qopt::onnx_import;
namespace onnxp = ::onnx;

/// Host tensors above this many elements are emitted as IR instead.
static constexpr int64_t kMaxFoldElements = 1 << 16;

static HostTensor withShape(const HostTensor &t, ArrayRef<int64_t> shape) {
  HostTensor out = t;
  out.shape.assign(shape.begin(), shape.end());
  return out;
}

/// Binds output 0 to `input` reshaped, on the host when the input is known.
static LogicalResult reshapeOutput(Importer &im, ArrayRef<int64_t> shape) {
  Entry &e = im.input(0);
  if (e.host && !e.value)
    return im.setHostOutput(0, withShape(*e.host, shape));
  Value v = im.in(0);
  Value r = im.reshape(v, shape);
  if (r == v) {
    // Keep an op for the output name: a same-shape reshape is a cast.
    r = tensor::CastOp::create(im.b, im.loc, v.getType(), v);
  }
  return im.setOutput(0, r, e.dtype);
}

static LogicalResult importConstant(Importer &im) {
  if (failed(im.checkArity(0, 0)))
    return failure();
  const onnxp::NodeProto &n = *im.node;
  if (n.attribute_size() != 1)
    return im.error() << "expects exactly one value attribute";
  const onnxp::AttributeProto &a = n.attribute(0);
  StringRef name = a.name();
  if (name == "value") {
    std::string err;
    FailureOr<HostTensor> t = decodeTensor(a.t(), err);
    if (failed(t))
      return im.error() << "attribute 'value' " << err;
    return im.setHostOutput(0, std::move(*t));
  }
  if (name == "value_float" || name == "value_floats") {
    bool scalar = name == "value_float";
    SmallVector<int64_t> shape;
    if (!scalar)
      shape.push_back(a.floats_size());
    HostTensor t = HostTensor::make(onnxp::TensorProto_DataType_FLOAT, shape);
    for (int64_t i = 0, e = t.numel(); i < e; ++i)
      t.setDouble(i, scalar ? a.f() : a.floats(i));
    return im.setHostOutput(0, std::move(t));
  }
  if (name == "value_int" || name == "value_ints") {
    bool scalar = name == "value_int";
    SmallVector<int64_t> shape;
    if (!scalar)
      shape.push_back(a.ints_size());
    HostTensor t = HostTensor::make(onnxp::TensorProto_DataType_INT64, shape);
    for (int64_t i = 0, e = t.numel(); i < e; ++i)
      t.setInt(i, scalar ? a.i() : a.ints(i));
    return im.setHostOutput(0, std::move(t));
  }
  return im.error() << "attribute '" << name << "' is not supported";
}

static LogicalResult importShape(Importer &im) {
  if (failed(im.checkArity(1, 1)))
    return failure();
  ArrayRef<int64_t> s = im.shape(0);
  int64_t rank = s.size();
  FailureOr<int64_t> start = im.attrInt("start", 0);
  FailureOr<int64_t> end = im.attrInt("end", rank);
  if (failed(start) || failed(end))
    return failure();
  auto clampAxis = [&](int64_t a) {
    if (a < 0)
      a += rank;
    return std::clamp<int64_t>(a, 0, rank);
  };
  int64_t lo = clampAxis(*start), hi = clampAxis(*end);
  int64_t n = std::max<int64_t>(hi - lo, 0);
  HostTensor t = HostTensor::make(onnxp::TensorProto_DataType_INT64, {n});
  for (int64_t i = 0; i < n; ++i)
    t.setInt(i, s[lo + i]);
  return im.setHostOutput(0, std::move(t));
}

static LogicalResult importConstantOfShape(Importer &im) {
  if (failed(im.checkArity(1, 1)))
    return failure();
  FailureOr<const HostTensor *> shapeT = im.constInput(0, "the shape input");
  if (failed(shapeT))
    return failure();
  SmallVector<int64_t> shape = (*shapeT)->toInts();
  for (int64_t d : shape)
    if (d < 0)
      return im.error() << "the shape has a negative dimension " << d;
  HostTensor value = HostTensor::make(onnxp::TensorProto_DataType_FLOAT, {1});
  if (const onnxp::AttributeProto *a = im.attr("value")) {
    std::string err;
    FailureOr<HostTensor> v = decodeTensor(a->t(), err);
    if (failed(v))
      return im.error() << "attribute 'value' " << err;
    if (v->numel() != 1)
      return im.error() << "attribute 'value' must hold one element";
    value = *v;
  }
  HostTensor out = HostTensor::make(value.dtype, shape);
  if (out.numel() <= kMaxFoldElements) {
    for (int64_t i = 0, e = out.numel(); i < e; ++i)
      std::memcpy(out.data.data() + i * out.elemSize(), value.data.data(),
                  out.elemSize());
    return im.setHostOutput(0, std::move(out));
  }
  Type elem = im.elemType(value.dtype);
  TypedAttr attr = value.isFloat()
                       ? im.scalarAttr(elem, value.getDouble(0))
                       : im.scalarAttr(elem, (double)value.getInt(0));
  return im.setOutput(0, im.fill(shape, elem, attr), value.dtype);
}

static LogicalResult importRange(Importer &im) {
  if (failed(im.checkArity(3, 3)))
    return failure();
  FailureOr<const HostTensor *> start = im.constInput(0, "the 'start' input");
  if (failed(start))
    return failure();
  FailureOr<const HostTensor *> limit = im.constInput(1, "the 'limit' input");
  if (failed(limit))
    return failure();
  FailureOr<const HostTensor *> delta = im.constInput(2, "the 'delta' input");
  if (failed(delta))
    return failure();
  for (const HostTensor *t : {*start, *limit, *delta})
    if (t->numel() != 1)
      return im.error() << "start, limit and delta must be scalars";
  int32_t dt = (*start)->dtype;
  HostTensor out;
  if ((*start)->isFloat()) {
    double s = (*start)->getDouble(0), l = (*limit)->getDouble(0),
           d = (*delta)->getDouble(0);
    if (d == 0)
      return im.error() << "delta must not be zero";
    int64_t n = std::max<int64_t>((int64_t)std::ceil((l - s) / d), 0);
    out = HostTensor::make(dt, {n});
    for (int64_t i = 0; i < n; ++i)
      out.setDouble(i, s + i * d);
  } else {
    int64_t s = (*start)->getInt(0), l = (*limit)->getInt(0),
            d = (*delta)->getInt(0);
    if (d == 0)
      return im.error() << "delta must not be zero";
    int64_t n =
        std::max<int64_t>((int64_t)std::ceil((double)(l - s) / (double)d), 0);
    out = HostTensor::make(dt, {n});
    for (int64_t i = 0; i < n; ++i)
      out.setInt(i, s + i * d);
  }
  return im.setHostOutput(0, std::move(out));
}

static LogicalResult importReshape(Importer &im) {
  if (failed(im.checkArity(2, 2)))
    return failure();
  FailureOr<const HostTensor *> shapeT = im.constInput(1, "the shape input");
  if (failed(shapeT))
    return failure();
  FailureOr<int64_t> allowZero = im.attrInt("allowzero", 0);
  if (failed(allowZero))
    return failure();
  ArrayRef<int64_t> in = im.shape(0);
  SmallVector<int64_t> shape = (*shapeT)->toInts();
  int64_t total = 1, known = 1, inferAt = -1;
  for (int64_t d : in)
    total *= d;
  for (auto [i, d] : llvm::enumerate(shape)) {
    if (d == 0 && !*allowZero) {
      if ((int64_t)i >= (int64_t)in.size())
        return im.error() << "shape entry " << i
                          << " is 0 (copy) but the input has rank "
                          << in.size();
      d = in[i];
    }
    if (d == -1) {
      if (inferAt >= 0)
        return im.error() << "the shape has more than one -1";
      inferAt = i;
      continue;
    }
    if (d < 0)
      return im.error() << "the shape has an invalid entry " << d;
    // A product past int64 cannot equal the input's element count.
    if (llvm::MulOverflow(known, d, known))
      return im.error() << "the shape " << llvm::interleaved_array(shape)
                        << " has more elements than int64 can count";
  }
  if (inferAt >= 0) {
    if (known == 0 || total % known)
      return im.error() << "cannot infer the -1 dimension: " << total
                        << " elements do not divide by " << known;
    shape[inferAt] = total / known;
    known *= shape[inferAt];
  }
  if (known != total)
    return im.error() << "cannot reshape " << total << " elements into "
                      << known;
  return reshapeOutput(im, shape);
}

static LogicalResult importFlatten(Importer &im) {
  if (failed(im.checkArity(1, 1)))
    return failure();
  ArrayRef<int64_t> in = im.shape(0);
  int64_t rank = in.size();
  FailureOr<int64_t> axis = im.attrInt("axis", 1);
  if (failed(axis))
    return failure();
  if (*axis < -rank || *axis > rank)
    return im.error() << "attribute 'axis' " << *axis
                      << " is out of range for rank " << rank;
  int64_t a = *axis < 0 ? *axis + rank : *axis;
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < rank; ++i)
    (i < a ? outer : inner) *= in[i];
  return reshapeOutput(im, {outer, inner});
}

static LogicalResult importTranspose(Importer &im) {
  if (failed(im.checkArity(1, 1)))
    return failure();
  int64_t rank = im.shape(0).size();
  FailureOr<SmallVector<int64_t>> perm = im.attrInts("perm");
  if (failed(perm))
    return failure();
  if (!im.hasAttr("perm"))
    for (int64_t i = rank - 1; i >= 0; --i)
      perm->push_back(i);
  SmallVector<bool> seen(rank, false);
  if ((int64_t)perm->size() != rank)
    return im.error() << "attribute 'perm' has " << perm->size()
                      << " entries for a rank-" << rank << " input";
  for (int64_t p : *perm) {
    if (p < 0 || p >= rank || seen[p])
      return im.error() << "attribute 'perm' is not a permutation";
    seen[p] = true;
  }
  Value r = im.transpose(im.in(0), *perm);
  return im.setOutput(0, r, im.dtype(0));
}

/// Axes from the attribute (old opsets) or the optional input `idx`.
static FailureOr<SmallVector<int64_t>> getAxes(Importer &im, int64_t inputOpset,
                                               unsigned idx, bool &given) {
  given = false;
  if (im.opset < inputOpset || !im.hasInput(idx)) {
    if (im.hasAttr("axes"))
      given = true;
    return im.attrInts("axes");
  }
  FailureOr<const HostTensor *> t = im.constInput(idx, "the 'axes' input");
  if (failed(t))
    return failure();
  given = true;
  return (*t)->toInts();
}

static LogicalResult importSqueeze(Importer &im) {
  if (failed(im.checkArity(1, 2)))
    return failure();
  bool given;
  FailureOr<SmallVector<int64_t>> axes = getAxes(im, 13, 1, given);
  if (failed(axes))
    return failure();
  ArrayRef<int64_t> in = im.shape(0);
  int64_t rank = in.size();
  SmallVector<bool> drop(rank, false);
  if (!given || axes->empty()) {
    for (int64_t i = 0; i < rank; ++i)
      drop[i] = in[i] == 1;
  } else {
    for (int64_t a : *axes) {
      FailureOr<int64_t> n = im.normalizeAxis(a, rank, "axis");
      if (failed(n))
        return failure();
      if (in[*n] != 1)
        return im.error() << "cannot squeeze axis " << a << " of size "
                          << in[*n];
      drop[*n] = true;
    }
  }
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < rank; ++i)
    if (!drop[i])
      shape.push_back(in[i]);
  return reshapeOutput(im, shape);
}

static LogicalResult importUnsqueeze(Importer &im) {
  if (failed(im.checkArity(1, 2)))
    return failure();
  bool given;
  FailureOr<SmallVector<int64_t>> axes = getAxes(im, 13, 1, given);
  if (failed(axes))
    return failure();
  if (!given)
    return im.error() << "'axes' is required";
  ArrayRef<int64_t> in = im.shape(0);
  int64_t outRank = in.size() + axes->size();
  SmallVector<bool> added(outRank, false);
  for (int64_t a : *axes) {
    FailureOr<int64_t> n = im.normalizeAxis(a, outRank, "axis");
    if (failed(n))
      return failure();
    if (added[*n])
      return im.error() << "axis " << a << " appears twice";
    added[*n] = true;
  }
  SmallVector<int64_t> shape;
  size_t j = 0;
  for (int64_t i = 0; i < outRank; ++i)
    shape.push_back(added[i] ? 1 : in[j++]);
  return reshapeOutput(im, shape);
}

static LogicalResult importExpand(Importer &im) {
  if (failed(im.checkArity(2, 2)))
    return failure();
  FailureOr<const HostTensor *> shapeT = im.constInput(1, "the shape input");
  if (failed(shapeT))
    return failure();
  SmallVector<SmallVector<int64_t>> shapes = {SmallVector<int64_t>(im.shape(0)),
                                              (*shapeT)->toInts()};
  FailureOr<SmallVector<int64_t>> out = im.broadcastShapes(shapes);
  if (failed(out))
    return failure();
  int32_t dt = im.dtype(0);
  Value r =
      im.elementwise(im.in(0), *out, im.elemType(dt),
                     [](OpBuilder &, Location, ValueRange a) { return a[0]; });
  return im.setOutput(0, r, dt);
}

static LogicalResult importConcat(Importer &im) {
  if (failed(im.checkArity(1, 1024)))
    return failure();
  FailureOr<int64_t> axisAttr = im.attrInt("axis", 0);
  if (failed(axisAttr))
    return failure();
  if (!im.hasAttr("axis") && im.opset >= 4)
    return im.error() << "attribute 'axis' is required";
  int32_t dt = im.dtype(0);
  int64_t rank = im.shape(0).size();
  FailureOr<int64_t> axis = im.normalizeAxis(*axisAttr, rank, "axis");
  if (failed(axis))
    return failure();
  SmallVector<int64_t> outShape(im.shape(0));
  outShape[*axis] = 0;
  bool allHost = true;
  for (unsigned i = 0; i < im.numInputs(); ++i) {
    ArrayRef<int64_t> s = im.shape(i);
    if (im.dtype(i) != dt)
      return im.error() << "input " << i << " has type "
                        << typeName(im.dtype(i)) << ", expected "
                        << typeName(dt);
    if ((int64_t)s.size() != rank)
      return im.error() << "input " << i << " has rank " << s.size()
                        << ", expected " << rank;
    for (int64_t d = 0; d < rank; ++d)
      if (d != *axis && s[d] != outShape[d])
        return im.error() << "input " << i << " has size " << s[d]
                          << " in dimension " << d << ", expected "
                          << outShape[d];
    outShape[*axis] += s[*axis];
    Entry &e = im.input(i);
    allHost &= e.host && !e.value;
  }
  int64_t outer = 1;
  for (int64_t d = 0; d < *axis; ++d)
    outer *= outShape[d];
  HostTensor probe = HostTensor::make(dt, {});
  if (allHost && probe.elemSize() && [&] {
        int64_t n = 1;
        for (int64_t d : outShape)
          n *= d;
        return n <= kMaxFoldElements;
      }()) {
    HostTensor out = HostTensor::make(dt, outShape);
    size_t es = out.elemSize();
    int64_t outInner = out.numel() / std::max<int64_t>(outer, 1);
    int64_t offset = 0;
    for (unsigned i = 0; i < im.numInputs(); ++i) {
      const HostTensor &t = *im.input(i).host;
      int64_t inner = t.numel() / std::max<int64_t>(outer, 1);
      for (int64_t o = 0; o < outer; ++o)
        std::memcpy(out.data.data() + (o * outInner + offset) * es,
                    t.data.data() + o * inner * es, inner * es);
      offset += inner;
    }
    return im.setHostOutput(0, std::move(out));
  }
  Value acc = im.emptyTensor(outShape, im.elemType(dt));
  int64_t offset = 0;
  for (unsigned i = 0; i < im.numInputs(); ++i) {
    ArrayRef<int64_t> s = im.shape(i);
    if (s[*axis] == 0)
      continue;
    SmallVector<int64_t> offs(rank, 0), strides(rank, 1);
    offs[*axis] = offset;
    acc = tensor::InsertSliceOp::create(im.b, im.loc, im.in(i), acc,
                                        ofr(im.b, offs), ofr(im.b, s),
                                        ofr(im.b, strides));
    offset += s[*axis];
  }
  return im.setOutput(0, acc, dt);
}

static LogicalResult importSplit(Importer &im) {
  if (failed(im.checkArity(1, 2, 1024)))
    return failure();
  ArrayRef<int64_t> in = im.shape(0);
  int64_t rank = in.size();
  FailureOr<int64_t> axisAttr = im.attrInt("axis", 0);
  if (failed(axisAttr))
    return failure();
  FailureOr<int64_t> axis = im.normalizeAxis(*axisAttr, rank, "axis");
  if (failed(axis))
    return failure();
  SmallVector<int64_t> sizes;
  if (im.opset >= 13 && im.hasInput(1)) {
    FailureOr<const HostTensor *> t = im.constInput(1, "the 'split' input");
    if (failed(t))
      return failure();
    sizes = (*t)->toInts();
  } else {
    FailureOr<SmallVector<int64_t>> s = im.attrInts("split");
    if (failed(s))
      return failure();
    sizes = *s;
  }
  unsigned numOut = im.numOutputs();
  if (sizes.empty()) {
    if (in[*axis] % numOut)
      return im.error() << "dimension " << *axis << " of size " << in[*axis]
                        << " does not split evenly into " << numOut
                        << " outputs";
    sizes.assign(numOut, in[*axis] / numOut);
  }
  if (sizes.size() != numOut)
    return im.error() << "'split' has " << sizes.size() << " entries for "
                      << numOut << " outputs";
  int64_t sum = 0;
  for (int64_t s : sizes) {
    if (s < 0)
      return im.error() << "'split' has a negative entry";
    sum += s;
  }
  if (sum != in[*axis])
    return im.error() << "'split' sums to " << sum << " but dimension " << *axis
                      << " has size " << in[*axis];
  Value v = im.in(0);
  int64_t offset = 0;
  for (unsigned o = 0; o < numOut; ++o) {
    SmallVector<int64_t> offs(rank, 0), sz(in), strides(rank, 1);
    offs[*axis] = offset;
    sz[*axis] = sizes[o];
    if (sizes[o] == 0) {
      Value r = im.emptyTensor(
          sz, cast<RankedTensorType>(v.getType()).getElementType());
      if (failed(im.setOutput(o, r, im.dtype(0))))
        return failure();
      continue;
    }
    Value r = tensor::ExtractSliceOp::create(im.b, im.loc, v, ofr(im.b, offs),
                                             ofr(im.b, sz), ofr(im.b, strides));
    offset += sizes[o];
    if (failed(im.setOutput(o, r, im.dtype(0))))
      return failure();
  }
  return success();
}

static LogicalResult importSlice(Importer &im) {
  SmallVector<int64_t> starts, ends, axes, steps;
  if (im.opset < 10) {
    if (failed(im.checkArity(1, 1)))
      return failure();
    auto s = im.attrInts("starts"), e = im.attrInts("ends"),
         a = im.attrInts("axes");
    if (failed(s) || failed(e) || failed(a))
      return failure();
    starts = *s;
    ends = *e;
    axes = *a;
  } else {
    if (failed(im.checkArity(3, 5)))
      return failure();
    const char *names[] = {"", "the 'starts' input", "the 'ends' input",
                           "the 'axes' input", "the 'steps' input"};
    SmallVector<int64_t> *dst[] = {nullptr, &starts, &ends, &axes, &steps};
    for (unsigned i = 1; i < 5; ++i) {
      if (!im.hasInput(i))
        continue;
      FailureOr<const HostTensor *> t = im.constInput(i, names[i]);
      if (failed(t))
        return failure();
      *dst[i] = (*t)->toInts();
    }
  }
  ArrayRef<int64_t> in = im.shape(0);
  int64_t rank = in.size();
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(i);
  if (steps.empty())
    steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size())
    return im.error() << "starts, ends, axes and steps must have one length";
  SmallVector<int64_t> offs(rank, 0), sizes(in), strides(rank, 1);
  SmallVector<bool> seen(rank, false);
  for (size_t i = 0; i < starts.size(); ++i) {
    FailureOr<int64_t> ax = im.normalizeAxis(axes[i], rank, "axis");
    if (failed(ax))
      return failure();
    if (seen[*ax])
      return im.error() << "axis " << axes[i] << " appears twice";
    seen[*ax] = true;
    int64_t dim = in[*ax], step = steps[i];
    if (step == 0)
      return im.error() << "step 0 is invalid";
    // Clamp as ONNX specifies; INT64 max/min mean "to the end".
    int64_t s = starts[i], e = ends[i];
    if (s < 0)
      s = s < -dim ? -1 : s + dim;
    if (e < 0)
      e = e < -dim ? -1 : e + dim;
    int64_t count;
    if (step > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      count = e > s ? (e - s + step - 1) / step : 0;
    } else {
      s = std::clamp<int64_t>(s, -1, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      count = s > e ? (s - e + (-step) - 1) / (-step) : 0;
    }
    offs[*ax] = count ? s : 0;
    sizes[*ax] = count;
    strides[*ax] = step;
  }
  int32_t dt = im.dtype(0);
  Entry &src = im.input(0);
  bool anyNegative = llvm::any_of(strides, [](int64_t s) { return s < 0; });
  int64_t n = 1;
  for (int64_t d : sizes)
    n *= d;
  if (src.host && !src.value && n <= kMaxFoldElements) {
    HostTensor out = HostTensor::make(dt, sizes);
    size_t es = out.elemSize();
    SmallVector<int64_t> idx(rank, 0);
    for (int64_t flat = 0; flat < n; ++flat) {
      int64_t rem = flat, srcFlat = 0;
      for (int64_t d = rank - 1; d >= 0; --d) {
        idx[d] = rem % sizes[d];
        rem /= sizes[d];
      }
      for (int64_t d = 0; d < rank; ++d)
        srcFlat = srcFlat * in[d] + offs[d] + idx[d] * strides[d];
      std::memcpy(out.data.data() + flat * es,
                  src.host->data.data() + srcFlat * es, es);
    }
    return im.setHostOutput(0, std::move(out));
  }
  Value v = im.in(0);
  if (n == 0)
    return im.setOutput(0, im.emptyTensor(sizes, im.elemType(dt)), dt);
  if (!anyNegative) {
    Value r = tensor::ExtractSliceOp::create(
        im.b, im.loc, v, ofr(im.b, offs), ofr(im.b, sizes), ofr(im.b, strides));
    return im.setOutput(0, r, dt);
  }
  // Negative steps: a generic whose input map walks backwards.
  MLIRContext *ctx = im.ctx;
  SmallVector<AffineExpr> exprs;
  for (int64_t d = 0; d < rank; ++d)
    exprs.push_back(getAffineConstantExpr(offs[d], ctx) +
                    getAffineDimExpr(d, ctx) * strides[d]);
  Value init = im.emptyTensor(sizes, im.elemType(dt));
  SmallVector<AffineMap> maps = {AffineMap::get(rank, 0, exprs, ctx),
                                 AffineMap::getMultiDimIdentityMap(rank, ctx)};
  Value r =
      linalg::GenericOp::create(
          im.b, im.loc, TypeRange{init.getType()}, ValueRange{v},
          ValueRange{init}, maps,
          SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
          [](OpBuilder &nb, Location l, ValueRange a) {
            linalg::YieldOp::create(nb, l, a[0]);
          })
          .getResult(0);
  return im.setOutput(0, r, dt);
}

static LogicalResult importGather(Importer &im) {
  if (failed(im.checkArity(2, 2)))
    return failure();
  ArrayRef<int64_t> data = im.shape(0), idxShape = im.shape(1);
  int64_t rank = data.size();
  if (rank == 0)
    return im.error() << "data must have rank >= 1";
  FailureOr<int64_t> axisAttr = im.attrInt("axis", 0);
  if (failed(axisAttr))
    return failure();
  FailureOr<int64_t> axis = im.normalizeAxis(*axisAttr, rank, "axis");
  if (failed(axis))
    return failure();
  int32_t it = im.dtype(1);
  if (it != onnxp::TensorProto_DataType_INT64 &&
      it != onnxp::TensorProto_DataType_INT32)
    return im.error() << "indices must be INT32 or INT64, got " << typeName(it);
  SmallVector<int64_t> outShape(data.begin(), data.begin() + *axis);
  outShape.append(idxShape.begin(), idxShape.end());
  outShape.append(data.begin() + *axis + 1, data.end());
  int64_t dimSize = data[*axis];
  int32_t dt = im.dtype(0);
  Entry &d = im.input(0), &ix = im.input(1);
  if (ix.host) {
    for (int64_t i = 0, e = ix.host->numel(); i < e; ++i) {
      int64_t v = ix.host->getInt(i);
      if (v < -dimSize || v >= dimSize)
        return im.error() << "index " << v << " is out of range for axis "
                          << *axis << " of size " << dimSize;
    }
  }
  int64_t n = 1;
  for (int64_t s : outShape)
    n *= s;
  if (d.host && !d.value && ix.host && n <= kMaxFoldElements) {
    HostTensor out = HostTensor::make(dt, outShape);
    size_t es = out.elemSize();
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < *axis; ++i)
      outer *= data[i];
    for (int64_t i = *axis + 1; i < rank; ++i)
      inner *= data[i];
    int64_t m = ix.host->numel(), pos = 0;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < m; ++j) {
        int64_t k = ix.host->getInt(j);
        if (k < 0)
          k += dimSize;
        std::memcpy(out.data.data() + pos * es,
                    d.host->data.data() + ((o * dimSize + k) * inner) * es,
                    inner * es);
        pos += inner;
      }
    return im.setHostOutput(0, std::move(out));
  }
  Value dataV = im.in(0), idxV = im.in(1);
  int64_t outRank = outShape.size(), idxRank = idxShape.size();
  MLIRContext *ctx = im.ctx;
  SmallVector<AffineExpr> idxExprs;
  for (int64_t i = 0; i < idxRank; ++i)
    idxExprs.push_back(getAffineDimExpr(*axis + i, ctx));
  SmallVector<AffineMap> maps = {
      AffineMap::get(outRank, 0, idxExprs, ctx),
      AffineMap::getMultiDimIdentityMap(outRank, ctx)};
  Value init = im.emptyTensor(outShape, im.elemType(dt));
  Value r =
      linalg::GenericOp::create(
          im.b, im.loc, TypeRange{init.getType()}, ValueRange{idxV},
          ValueRange{init}, maps,
          SmallVector<utils::IteratorType>(outRank,
                                           utils::IteratorType::parallel),
          [&](OpBuilder &nb, Location l, ValueRange a) {
            Type indexType = nb.getIndexType();
            Value k = arith::IndexCastOp::create(nb, l, indexType, a[0]);
            // Negative indices count from the end.
            Value zero = arith::ConstantIndexOp::create(nb, l, 0);
            Value size = arith::ConstantIndexOp::create(nb, l, dimSize);
            Value isNeg = arith::CmpIOp::create(
                nb, l, arith::CmpIPredicate::slt, k, zero);
            Value wrapped = arith::AddIOp::create(nb, l, k, size);
            k = arith::SelectOp::create(nb, l, isNeg, wrapped, k);
            SmallVector<Value> coords;
            for (int64_t i = 0; i < *axis; ++i)
              coords.push_back(linalg::IndexOp::create(nb, l, i));
            coords.push_back(k);
            for (int64_t i = *axis + 1; i < rank; ++i)
              coords.push_back(linalg::IndexOp::create(nb, l, i - 1 + idxRank));
            Value v = tensor::ExtractOp::create(nb, l, dataV, coords);
            linalg::YieldOp::create(nb, l, v);
          })
          .getResult(0);
  return im.setOutput(0, r, dt);
}

static LogicalResult importPad(Importer &im) {
  if (failed(im.checkArity(1, im.opset >= 11 ? 4 : 1)))
    return failure();
  ArrayRef<int64_t> in = im.shape(0);
  int64_t rank = in.size();
  int32_t dt = im.dtype(0);
  Type elem = im.elemType(dt);
  FailureOr<std::string> mode = im.attrString("mode", "constant");
  if (failed(mode))
    return failure();
  if (*mode != "constant" && *mode != "reflect" && *mode != "edge")
    return im.error() << "attribute 'mode' is '" << *mode
                      << "'; expected constant, reflect or edge";
  SmallVector<int64_t> pads;
  double value = 0;
  if (im.opset < 11) {
    FailureOr<SmallVector<int64_t>> p =
        im.attrInts(im.hasAttr("pads") ? "pads" : "paddings");
    FailureOr<float> v = im.attrFloat("value", 0.0f);
    if (failed(p) || failed(v))
      return failure();
    pads = *p;
    value = *v;
  } else {
    if (!im.hasInput(1))
      return im.error() << "the 'pads' input is required";
    FailureOr<const HostTensor *> p = im.constInput(1, "the 'pads' input");
    if (failed(p))
      return failure();
    pads = (*p)->toInts();
    if (im.hasInput(2)) {
      FailureOr<const HostTensor *> v =
          im.constInput(2, "the 'constant_value' input");
      if (failed(v))
        return failure();
      if ((*v)->numel() != 1)
        return im.error() << "'constant_value' must be a scalar";
      value = (*v)->isFloat() ? (*v)->getDouble(0) : (*v)->getInt(0);
    }
    if (im.hasInput(3))
      return im.error() << "the 'axes' input is not supported";
  }
  if ((int64_t)pads.size() != 2 * rank)
    return im.error() << "'pads' has " << pads.size() << " entries; a rank-"
                      << rank << " input needs " << 2 * rank;
  SmallVector<int64_t> lo(pads.begin(), pads.begin() + rank),
      hi(pads.begin() + rank, pads.end());
  SmallVector<int64_t> outShape;
  for (int64_t i = 0; i < rank; ++i) {
    outShape.push_back(in[i] + lo[i] + hi[i]);
    if (outShape.back() < 0)
      return im.error() << "pads remove more than dimension " << i << " holds";
  }
  if (*mode == "constant") {
    Value r = im.padConstant(im.in(0), lo, hi, im.scalarAttr(elem, value));
    if (r == im.in(0))
      r = tensor::CastOp::create(im.b, im.loc, r.getType(), r);
    return im.setOutput(0, r, dt);
  }
  bool reflect = *mode == "reflect";
  for (int64_t i = 0; i < rank; ++i) {
    if (lo[i] < 0 || hi[i] < 0)
      return im.error() << "negative pads are only supported in constant mode";
    if (in[i] == 0 && (lo[i] || hi[i]))
      return im.error() << "cannot pad an empty dimension in " << *mode
                        << " mode";
    if (reflect && (lo[i] >= in[i] || hi[i] >= in[i]))
      return im.error() << "reflect pads of dimension " << i
                        << " must be smaller than its size " << in[i];
  }
  Value src = im.in(0);
  Value init = im.emptyTensor(outShape, elem);
  Value r =
      linalg::GenericOp::create(
          im.b, im.loc, TypeRange{init.getType()}, ValueRange{},
          ValueRange{init},
          SmallVector<AffineMap>{
              AffineMap::getMultiDimIdentityMap(rank, im.ctx)},
          SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
          [&](OpBuilder &nb, Location l, ValueRange) {
            SmallVector<Value> coords;
            for (int64_t d = 0; d < rank; ++d) {
              Value i = linalg::IndexOp::create(nb, l, d);
              Value s = arith::SubIOp::create(
                  nb, l, i, arith::ConstantIndexOp::create(nb, l, lo[d]));
              Value zero = arith::ConstantIndexOp::create(nb, l, 0);
              Value last = arith::ConstantIndexOp::create(nb, l, in[d] - 1);
              if (reflect) {
                // s < 0 -> -s; s > n-1 -> 2(n-1) - s.
                Value neg = arith::SubIOp::create(nb, l, zero, s);
                s = arith::MaxSIOp::create(nb, l, s, neg);
                Value twice =
                    arith::ConstantIndexOp::create(nb, l, 2 * (in[d] - 1));
                Value mirrored = arith::SubIOp::create(nb, l, twice, s);
                s = arith::MinSIOp::create(nb, l, s, mirrored);
              } else {
                s = arith::MaxSIOp::create(nb, l, s, zero);
                s = arith::MinSIOp::create(nb, l, s, last);
              }
              coords.push_back(s);
            }
            Value v = tensor::ExtractOp::create(nb, l, src, coords);
            linalg::YieldOp::create(nb, l, v);
          })
          .getResult(0);
  return im.setOutput(0, r, dt);
}

void mlir::qopt::onnx_import::populateShapeOps(
    llvm::StringMap<Handler> &table) {
  table["Constant"] = importConstant;
  table["Shape"] = importShape;
  table["ConstantOfShape"] = importConstantOfShape;
  table["Range"] = importRange;
  table["Reshape"] = importReshape;
  table["Flatten"] = importFlatten;
  table["Transpose"] = importTranspose;
  table["Squeeze"] = importSqueeze;
  table["Unsqueeze"] = importUnsqueeze;
  table["Expand"] = importExpand;
  table["Concat"] = importConcat;
  table["Split"] = importSplit;
  table["Slice"] = importSlice;
  table["Gather"] = importGather;
  table["Pad"] = importPad;
}
