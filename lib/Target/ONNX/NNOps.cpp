//===- NNOps.cpp - ONNX neural-network operators ----------------*- C++ -*-===//
//
// Imports convolutions (Conv, ConvTranspose), matrix products (MatMul, Gemm),
// pooling, reductions, normalizations (BatchNormalization, Layer- and
// InstanceNormalization), Softmax/LogSoftmax and Resize/Upsample into linalg
// on tensors. 2-d single-group float convolutions and plain 2-d/3-d matmuls
// become named linalg ops (what qopt's quantization passes match); the other
// shapes become linalg.generic with strided/dilated affine maps. Resize
// precomputes its per-axis source indices and weights at import, which is
// exact because shapes are static.
//
//===----------------------------------------------------------------------===//

#include "Importer.h"

#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>

using namespace mlir;
using namespace mlir::qopt::onnx_import;
namespace onnxp = ::onnx;

using IT = utils::IteratorType;

//===----------------------------------------------------------------------===//
// Convolution.
//===----------------------------------------------------------------------===//

FailureOr<ConvGeometry>
mlir::qopt::onnx_import::getConvGeometry(Importer &im, ArrayRef<int64_t> xShape,
                                         ArrayRef<int64_t> kernel,
                                         bool ceilMode) {
  ConvGeometry g;
  int64_t s = xShape.size() - 2;
  if (s < 1)
    return im.error() << "input must have rank >= 3 (N, C, spatial...), got "
                      << xShape.size();
  g.kernel.assign(kernel.begin(), kernel.end());
  if ((int64_t)g.kernel.size() != s)
    return im.error() << "the kernel has " << g.kernel.size()
                      << " spatial dimensions but the input has " << s;
  auto ints = [&](StringRef name, int64_t n,
                  int64_t def) -> FailureOr<SmallVector<int64_t>> {
    FailureOr<SmallVector<int64_t>> v = im.attrInts(name);
    if (failed(v))
      return failure();
    if (v->empty())
      v->assign(n, def);
    if ((int64_t)v->size() != n)
      return im.error() << "attribute '" << name << "' has " << v->size()
                        << " entries, expected " << n;
    return v;
  };
  auto strides = ints("strides", s, 1);
  auto dilations = ints("dilations", s, 1);
  auto pads = ints("pads", 2 * s, 0);
  FailureOr<int64_t> group = im.attrInt("group", 1);
  FailureOr<std::string> autoPad = im.attrString("auto_pad", "NOTSET");
  if (failed(strides) || failed(dilations) || failed(pads) || failed(group) ||
      failed(autoPad))
    return failure();
  g.strides = *strides;
  g.dilations = *dilations;
  g.group = *group;
  if (g.group < 1)
    return im.error() << "attribute 'group' must be >= 1, got " << g.group;
  for (int64_t i = 0; i < s; ++i) {
    if (g.strides[i] < 1)
      return im.error() << "attribute 'strides' must be >= 1, got "
                        << g.strides[i];
    if (g.dilations[i] < 1)
      return im.error() << "attribute 'dilations' must be >= 1, got "
                        << g.dilations[i];
    if (g.kernel[i] < 1)
      return im.error() << "kernel dimension " << i << " must be >= 1, got "
                        << g.kernel[i];
  }
  for (int64_t p : *pads)
    if (p < 0)
      return im.error() << "attribute 'pads' must be non-negative, got " << p;
  const std::string &ap = *autoPad;
  if (ap != "NOTSET" && ap != "VALID" && ap != "SAME_UPPER" &&
      ap != "SAME_LOWER")
    return im.error() << "attribute 'auto_pad' is '" << ap
                      << "'; expected NOTSET, VALID, SAME_UPPER or SAME_LOWER";
  for (int64_t i = 0; i < s; ++i) {
    int64_t in = xShape[i + 2];
    int64_t eff = (g.kernel[i] - 1) * g.dilations[i] + 1;
    int64_t lo = (*pads)[i], hi = (*pads)[i + s];
    if (ap == "VALID") {
      lo = hi = 0;
    } else if (ap == "SAME_UPPER" || ap == "SAME_LOWER") {
      int64_t out = (in + g.strides[i] - 1) / g.strides[i];
      int64_t total = std::max<int64_t>(0, (out - 1) * g.strides[i] + eff - in);
      lo = ap == "SAME_UPPER" ? total / 2 : total - total / 2;
      hi = total - lo;
    }
    int64_t span = in + lo + hi - eff;
    if (span < 0)
      return im.error() << "the kernel (extent " << eff
                        << ") is larger than the padded input (" << in + lo + hi
                        << ") in spatial dimension " << i;
    int64_t out = ceilMode ? (span + g.strides[i] - 1) / g.strides[i] + 1
                           : span / g.strides[i] + 1;
    g.padLo.push_back(lo);
    g.padHi.push_back(hi);
    g.outSpatial.push_back(out);
  }
  return g;
}

Value mlir::qopt::onnx_import::buildConv(
    Importer &im, Value x, Value w, const ConvGeometry &g, Type accType,
    bool allowNamed,
    llvm::function_ref<Value(OpBuilder &, Location, Value, Value, Value)>
        body) {
  MLIRContext *ctx = im.ctx;
  auto xType = cast<RankedTensorType>(x.getType());
  auto wType = cast<RankedTensorType>(w.getType());
  int64_t s = g.kernel.size();
  int64_t n = xType.getDimSize(0), oc = wType.getDimSize(0),
          icpg = wType.getDimSize(1);
  int64_t ocpg = oc / g.group;
  SmallVector<int64_t> outShape = {n, oc};
  outShape.append(g.outSpatial.begin(), g.outSpatial.end());
  Value acc = im.fill(outShape, accType, im.scalarAttr(accType, 0));
  if (allowNamed && s == 2 && g.group == 1) {
    auto attrType = RankedTensorType::get({2}, im.b.getI64Type());
    auto strides = DenseIntElementsAttr::get(attrType, ArrayRef(g.strides));
    auto dilations = DenseIntElementsAttr::get(attrType, ArrayRef(g.dilations));
    return linalg::Conv2DNchwFchwOp::create(
               im.b, im.loc, TypeRange{acc.getType()}, ValueRange{x, w},
               ValueRange{acc}, strides, dilations)
        .getResult(0);
  }
  // Dims: n, oc, o_1..o_s, ic, k_1..k_s.
  int64_t numDims = 2 * s + 3;
  auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
  AffineExpr icExpr = d(s + 2);
  if (g.group > 1)
    icExpr = d(1).floorDiv(ocpg) * icpg + icExpr;
  SmallVector<AffineExpr> xExprs = {d(0), icExpr}, wExprs = {d(1), d(s + 2)},
                          oExprs = {d(0), d(1)};
  for (int64_t i = 0; i < s; ++i) {
    xExprs.push_back(d(2 + i) * g.strides[i] + d(s + 3 + i) * g.dilations[i]);
    wExprs.push_back(d(s + 3 + i));
    oExprs.push_back(d(2 + i));
  }
  SmallVector<AffineMap> maps = {AffineMap::get(numDims, 0, xExprs, ctx),
                                 AffineMap::get(numDims, 0, wExprs, ctx),
                                 AffineMap::get(numDims, 0, oExprs, ctx)};
  SmallVector<IT> iters(numDims, IT::parallel);
  for (int64_t i = s + 2; i < numDims; ++i)
    iters[i] = IT::reduction;
  return linalg::GenericOp::create(
             im.b, im.loc, TypeRange{acc.getType()}, ValueRange{x, w},
             ValueRange{acc}, maps, iters,
             [&](OpBuilder &nb, Location l, ValueRange a) {
               linalg::YieldOp::create(nb, l, body(nb, l, a[0], a[1], a[2]));
             })
      .getResult(0);
}

static Value floatMulAdd(OpBuilder &nb, Location l, Value x, Value w,
                         Value acc) {
  Value p = arith::MulFOp::create(nb, l, x, w);
  return arith::AddFOp::create(nb, l, acc, p);
}

/// Adds a per-channel bias [C] to an N C ... tensor.
static Value addChannelBias(Importer &im, Value y, Value bias) {
  auto type = cast<RankedTensorType>(y.getType());
  SmallVector<int64_t> bshape(type.getRank() - 1, 1);
  bshape[0] = type.getDimSize(1);
  Value b = im.reshape(bias, bshape);
  return im.elementwise({y, b}, type.getShape(), type.getElementType(),
                        [](OpBuilder &nb, Location l, ValueRange a) {
                          return (Value)arith::AddFOp::create(nb, l, a[0],
                                                              a[1]);
                        });
}

static LogicalResult checkFloat(Importer &im, unsigned i) {
  if (!HostTensor::isFloatType(im.dtype(i)))
    return im.error() << "input " << i << " must be a float tensor, got "
                      << typeName(im.dtype(i));
  if (im.dtype(i) != im.dtype(0))
    return im.error() << "input " << i << " has type " << typeName(im.dtype(i))
                      << ", expected " << typeName(im.dtype(0));
  return success();
}

static LogicalResult importConv(Importer &im) {
  if (failed(im.checkArity(2, 3)))
    return failure();
  for (unsigned i = 0; i < im.numInputs(); ++i)
    if (im.hasInput(i) && failed(checkFloat(im, i)))
      return failure();
  ArrayRef<int64_t> xs = im.shape(0), ws = im.shape(1);
  if (ws.size() != xs.size())
    return im.error() << "weight rank " << ws.size()
                      << " does not match input rank " << xs.size();
  FailureOr<SmallVector<int64_t>> ks = im.attrInts("kernel_shape");
  if (failed(ks))
    return failure();
  SmallVector<int64_t> kernel(ws.begin() + 2, ws.end());
  if (!ks->empty() && *ks != kernel)
    return im.error() << "attribute 'kernel_shape' does not match the weight";
  FailureOr<ConvGeometry> g = getConvGeometry(im, xs, kernel);
  if (failed(g))
    return failure();
  if (xs[1] % g->group || ws[0] % g->group || xs[1] / g->group != ws[1])
    return im.error() << "channels do not match: input has " << xs[1]
                      << ", weight expects " << ws[1] << " per group with "
                      << g->group << " groups and " << ws[0] << " outputs";
  if (im.hasInput(2) && (im.shape(2).size() != 1 || im.shape(2)[0] != ws[0]))
    return im.error() << "bias must have shape [" << ws[0] << "]";
  Type elem = im.elemType(im.dtype(0));
  SmallVector<int64_t> lo(2, 0), hi(2, 0);
  lo.append(g->padLo);
  hi.append(g->padHi);
  Value x = im.padConstant(im.in(0), lo, hi, im.scalarAttr(elem, 0));
  Value y =
      buildConv(im, x, im.in(1), *g, elem, /*allowNamed=*/true, floatMulAdd);
  if (im.hasInput(2))
    y = addChannelBias(im, y, im.in(2));
  return im.setOutput(0, y, im.dtype(0));
}

static LogicalResult importConvTranspose(Importer &im) {
  if (failed(im.checkArity(2, 3)))
    return failure();
  for (unsigned i = 0; i < im.numInputs(); ++i)
    if (im.hasInput(i) && failed(checkFloat(im, i)))
      return failure();
  ArrayRef<int64_t> xs = im.shape(0), ws = im.shape(1);
  int64_t s = xs.size() - 2;
  if (s < 1 || ws.size() != xs.size())
    return im.error() << "input and weight must have one rank >= 3";
  FailureOr<int64_t> group = im.attrInt("group", 1);
  if (failed(group))
    return failure();
  if (*group < 1 || xs[1] % *group || ws[0] != xs[1])
    return im.error() << "channels do not match: input has " << xs[1]
                      << ", weight has " << ws[0] << " with group " << *group;
  int64_t cout = ws[1] * *group;
  auto ints = [&](StringRef name,
                  int64_t def) -> FailureOr<SmallVector<int64_t>> {
    FailureOr<SmallVector<int64_t>> v = im.attrInts(name);
    if (failed(v))
      return failure();
    int64_t n = name == "pads" ? 2 * s : s;
    if (v->empty() && name != "output_shape")
      v->assign(n, def);
    if (!v->empty() && (int64_t)v->size() != n) {
      // output_shape may carry N and C too.
      if (name == "output_shape" && (int64_t)v->size() == s + 2)
        v->erase(v->begin(), v->begin() + 2);
      else
        return im.error() << "attribute '" << name << "' has " << v->size()
                          << " entries, expected " << n;
    }
    return v;
  };
  auto strides = ints("strides", 1), dil = ints("dilations", 1),
       pads = ints("pads", 0), outPad = ints("output_padding", 0),
       outShapeAttr = ints("output_shape", 0);
  FailureOr<std::string> autoPad = im.attrString("auto_pad", "NOTSET");
  if (failed(strides) || failed(dil) || failed(pads) || failed(outPad) ||
      failed(outShapeAttr) || failed(autoPad))
    return failure();
  SmallVector<int64_t> kernel(ws.begin() + 2, ws.end());
  SmallVector<int64_t> begin(s), end(s), outSpatial(s);
  for (int64_t i = 0; i < s; ++i) {
    int64_t st = (*strides)[i], dl = (*dil)[i], op = (*outPad)[i];
    if (st < 1 || dl < 1)
      return im.error() << "strides and dilations must be >= 1";
    int64_t full = st * (xs[i + 2] - 1) + op + (kernel[i] - 1) * dl + 1;
    bool same = *autoPad == "SAME_UPPER" || *autoPad == "SAME_LOWER";
    if (!outShapeAttr->empty() || same) {
      int64_t target =
          !outShapeAttr->empty() ? (*outShapeAttr)[i] : xs[i + 2] * st;
      // A negative total extends the output at the end (ONNX's reference
      // splits it with floor division).
      int64_t total = full - target;
      int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);
      if (*autoPad == "SAME_UPPER") {
        begin[i] = half;
        end[i] = total - half;
      } else {
        begin[i] = total - half;
        end[i] = half;
      }
    } else if (*autoPad == "VALID") {
      begin[i] = end[i] = 0;
    } else {
      begin[i] = (*pads)[i];
      end[i] = (*pads)[i + s];
    }
    outSpatial[i] = full - begin[i] - end[i];
    if (outSpatial[i] <= 0)
      return im.error() << "the output would be empty in spatial dimension "
                        << i;
  }
  Type elem = im.elemType(im.dtype(0));
  // Kernel equal to the strides, no padding, no dilation, one group (the
  // up-sampling of DB-style detector heads): every output pixel receives
  // exactly one tap, y[n, o, s*i + a, ...] = sum_c x[n, c, i, ...] *
  // W[c, o, a, ...]. That is one contraction over C with the initializer
  // read as it is, into [N, O, X1, K1, X2, K2, ...] and collapsed:
  //   loops (n, o, x1, k1, ..., c): x (n, c, x1, ...), W (c, o, k1, ...)
  // It does no multiplication by the zeros that the general form below
  // stuffs in (kernel^s times fewer MACs) and qopt-cpu-gemm takes it with
  // a constant weight.
  bool direct = *group == 1 && s >= 1;
  for (int64_t i = 0; i < s && direct; ++i)
    direct = (*strides)[i] == kernel[i] && (*dil)[i] == 1 && begin[i] == 0 &&
             end[i] == 0 && (*outPad)[i] == 0;
  if (direct) {
    MLIRContext *ctx = im.ctx;
    auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    int64_t numLoops = 2 * s + 3, cDim = 2 * s + 2;
    SmallVector<int64_t> outShape = {xs[0], cout};
    SmallVector<AffineExpr> xExprs = {d(0), d(cDim)}, wExprs = {d(cDim), d(1)},
                            outExprs = {d(0), d(1)};
    for (int64_t i = 0; i < s; ++i) {
      outShape.push_back(xs[i + 2]);
      outShape.push_back(kernel[i]);
      xExprs.push_back(d(2 + 2 * i));
      wExprs.push_back(d(3 + 2 * i));
      outExprs.push_back(d(2 + 2 * i));
      outExprs.push_back(d(3 + 2 * i));
    }
    SmallVector<IT> iterators(numLoops, IT::parallel);
    iterators[cDim] = IT::reduction;
    Value init = im.fill(outShape, elem, im.scalarAttr(elem, 0));
    Value spread =
        linalg::GenericOp::create(
            im.b, im.loc, TypeRange{init.getType()},
            ValueRange{im.in(0), im.in(1)}, ValueRange{init},
            SmallVector<AffineMap>{AffineMap::get(numLoops, 0, xExprs, ctx),
                                   AffineMap::get(numLoops, 0, wExprs, ctx),
                                   AffineMap::get(numLoops, 0, outExprs, ctx)},
            iterators,
            [](OpBuilder &nb, Location l, ValueRange a) {
              linalg::YieldOp::create(nb, l,
                                      floatMulAdd(nb, l, a[0], a[1], a[2]));
            })
            .getResult(0);
    SmallVector<ReassociationIndices> re = {{0}, {1}};
    SmallVector<int64_t> yShape = {xs[0], cout};
    for (int64_t i = 0; i < s; ++i) {
      re.push_back({2 + 2 * i, 3 + 2 * i});
      yShape.push_back(outSpatial[i]);
    }
    Value y = tensor::CollapseShapeOp::create(
        im.b, im.loc, RankedTensorType::get(yShape, elem), spread, re);
    if (im.hasInput(2))
      y = addChannelBias(im, y, im.in(2));
    return im.setOutput(0, y, im.dtype(0));
  }
  // Zero-stuff the input by the strides, then pad so that a stride-1
  // convolution with the flipped kernel computes the transposed one.
  Value x = im.in(0);
  SmallVector<int64_t> stuffed = {xs[0], xs[1]};
  bool strided = false;
  for (int64_t i = 0; i < s; ++i) {
    stuffed.push_back((xs[i + 2] - 1) * (*strides)[i] + 1);
    strided |= (*strides)[i] != 1;
  }
  if (strided) {
    Value zeros = im.fill(stuffed, elem, im.scalarAttr(elem, 0));
    SmallVector<int64_t> offs(s + 2, 0), st = {1, 1};
    st.append(*strides);
    x = tensor::InsertSliceOp::create(im.b, im.loc, x, zeros, ofr(im.b, offs),
                                      ofr(im.b, xs), ofr(im.b, st));
  }
  SmallVector<int64_t> lo = {0, 0}, hi = {0, 0};
  for (int64_t i = 0; i < s; ++i) {
    int64_t ext = (kernel[i] - 1) * (*dil)[i];
    lo.push_back(ext - begin[i]);
    hi.push_back(ext - end[i] + (*outPad)[i]);
  }
  x = im.padConstant(x, lo, hi, im.scalarAttr(elem, 0));
  // W'[oc, icg, k] = W[(oc / ocpg) * icpg + icg, oc % ocpg, K - 1 - k].
  int64_t icpg = xs[1] / *group, ocpg = ws[1];
  MLIRContext *ctx = im.ctx;
  SmallVector<int64_t> wShape = {cout, icpg};
  wShape.append(kernel);
  auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
  SmallVector<AffineExpr> srcExprs = {d(0).floorDiv(ocpg) * icpg + d(1),
                                      d(0) % ocpg};
  for (int64_t i = 0; i < s; ++i)
    srcExprs.push_back(getAffineConstantExpr(kernel[i] - 1, ctx) - d(2 + i));
  Value wInit = im.emptyTensor(wShape, elem);
  Value w =
      linalg::GenericOp::create(
          im.b, im.loc, TypeRange{wInit.getType()}, ValueRange{im.in(1)},
          ValueRange{wInit},
          SmallVector<AffineMap>{AffineMap::get(s + 2, 0, srcExprs, ctx),
                                 AffineMap::getMultiDimIdentityMap(s + 2, ctx)},
          SmallVector<IT>(s + 2, IT::parallel),
          [](OpBuilder &nb, Location l, ValueRange a) {
            linalg::YieldOp::create(nb, l, a[0]);
          })
          .getResult(0);
  ConvGeometry g;
  g.kernel = kernel;
  g.strides.assign(s, 1);
  g.dilations = *dil;
  g.group = *group;
  g.outSpatial = outSpatial;
  Value y = buildConv(im, x, w, g, elem, /*allowNamed=*/true, floatMulAdd);
  if (im.hasInput(2))
    y = addChannelBias(im, y, im.in(2));
  return im.setOutput(0, y, im.dtype(0));
}

//===----------------------------------------------------------------------===//
// Matrix products.
//===----------------------------------------------------------------------===//

FailureOr<Value> mlir::qopt::onnx_import::buildMatMul(
    Importer &im, Value a, Value bv, Type accType, bool allowNamed,
    llvm::function_ref<Value(OpBuilder &, Location, Value, Value, Value)>
        body) {
  MLIRContext *ctx = im.ctx;
  auto at = cast<RankedTensorType>(a.getType());
  auto bt = cast<RankedTensorType>(bv.getType());
  if (at.getRank() == 0 || bt.getRank() == 0)
    return im.error() << "MatMul inputs must have rank >= 1";
  bool aVec = at.getRank() == 1, bVec = bt.getRank() == 1;
  if (aVec)
    a = im.reshape(a, {1, at.getDimSize(0)});
  if (bVec)
    bv = im.reshape(bv, {bt.getDimSize(0), 1});
  at = cast<RankedTensorType>(a.getType());
  bt = cast<RankedTensorType>(bv.getType());
  int64_t ar = at.getRank(), br = bt.getRank();
  int64_t m = at.getDimSize(ar - 2), k = at.getDimSize(ar - 1),
          k2 = bt.getDimSize(br - 2), n = bt.getDimSize(br - 1);
  if (k != k2)
    return im.error() << "inner dimensions do not match: " << k << " vs " << k2;
  SmallVector<SmallVector<int64_t>> batches = {
      SmallVector<int64_t>(at.getShape().drop_back(2)),
      SmallVector<int64_t>(bt.getShape().drop_back(2))};
  FailureOr<SmallVector<int64_t>> batch = im.broadcastShapes(batches);
  if (failed(batch))
    return failure();
  int64_t nb = batch->size();
  SmallVector<int64_t> outShape(*batch);
  outShape.push_back(m);
  outShape.push_back(n);
  // Named ops for the batched forms too, so that qopt-legalize quantizes
  // them and qopt-cpu-gemm takes them (both match linalg.matmul and
  // linalg.batch_matmul, not a linalg.generic): A [batch..., M, K] times a 2-D
  // B is one matmul over the rows of every batch, [batch*M, K] x [K, N]; equal
  // batch dims on both sides (no broadcasting) collapse to the one batch dim
  // of linalg.batch_matmul. The collapse and expand move no data.
  auto isStatic = [](RankedTensorType t) { return t.hasStaticShape(); };
  auto leadingReassociation = [](int64_t rank, int64_t lead) {
    SmallVector<ReassociationIndices> re(1);
    for (int64_t i = 0; i < lead; ++i)
      re.front().push_back(i);
    for (int64_t i = lead; i < rank; ++i)
      re.push_back({i});
    return re;
  };
  int64_t batchSize = 1;
  for (int64_t d : *batch)
    batchSize *= d;
  if (allowNamed && ar >= 3 && br == 2 && isStatic(at) && isStatic(bt)) {
    // [batch..., M, K] -> [batch*M, K] -> matmul -> [batch*M, N] -> back.
    auto flatA = RankedTensorType::get({batchSize * m, k}, at.getElementType());
    Value a2 = tensor::CollapseShapeOp::create(
        im.b, im.loc, flatA, a, leadingReassociation(ar, ar - 1));
    Value acc2 =
        im.fill({batchSize * m, n}, accType, im.scalarAttr(accType, 0));
    Value mm = linalg::MatmulOp::create(im.b, im.loc, TypeRange{acc2.getType()},
                                        ValueRange{a2, bv}, ValueRange{acc2})
                   .getResult(0);
    Value result = tensor::ExpandShapeOp::create(
        im.b, im.loc, RankedTensorType::get(outShape, accType), mm,
        leadingReassociation(ar, ar - 1));
    if (aVec || bVec) {
      SmallVector<int64_t> shape(*batch);
      shape.push_back(m);
      if (!bVec)
        shape.push_back(n);
      result = im.reshape(result, shape);
    }
    return result;
  }
  if (allowNamed && ar == br && ar > 3 && isStatic(at) && isStatic(bt) &&
      at.getShape().drop_back(2) == bt.getShape().drop_back(2)) {
    // [batch..., M, K] x [batch..., K, N] -> [B, M, K] x [B, K, N].
    auto re = leadingReassociation(ar, ar - 2);
    Value a3 = tensor::CollapseShapeOp::create(
        im.b, im.loc,
        RankedTensorType::get({batchSize, m, k}, at.getElementType()), a, re);
    Value b3 = tensor::CollapseShapeOp::create(
        im.b, im.loc,
        RankedTensorType::get({batchSize, k, n}, bt.getElementType()), bv, re);
    Value acc3 = im.fill({batchSize, m, n}, accType, im.scalarAttr(accType, 0));
    Value mm =
        linalg::BatchMatmulOp::create(im.b, im.loc, TypeRange{acc3.getType()},
                                      ValueRange{a3, b3}, ValueRange{acc3})
            .getResult(0);
    return tensor::ExpandShapeOp::create(
               im.b, im.loc, RankedTensorType::get(outShape, accType), mm, re)
        .getResult();
  }
  Value acc = im.fill(outShape, accType, im.scalarAttr(accType, 0));
  Value result;
  if (allowNamed && ar == 2 && br == 2) {
    result = linalg::MatmulOp::create(im.b, im.loc, TypeRange{acc.getType()},
                                      ValueRange{a, bv}, ValueRange{acc})
                 .getResult(0);
  } else if (allowNamed && ar == 3 && br == 3 &&
             at.getDimSize(0) == bt.getDimSize(0)) {
    result =
        linalg::BatchMatmulOp::create(im.b, im.loc, TypeRange{acc.getType()},
                                      ValueRange{a, bv}, ValueRange{acc})
            .getResult(0);
  } else {
    // Dims: batch..., m, n, k.
    int64_t numDims = nb + 3;
    auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    auto batchExprs = [&](RankedTensorType t) {
      SmallVector<AffineExpr> e;
      int64_t r = t.getRank() - 2;
      for (int64_t i = 0; i < r; ++i) {
        int64_t od = nb - r + i;
        e.push_back(t.getDimSize(i) == 1 && (*batch)[od] != 1
                        ? getAffineConstantExpr(0, ctx)
                        : d(od));
      }
      return e;
    };
    SmallVector<AffineExpr> aE = batchExprs(at), bE = batchExprs(bt), oE;
    aE.append({d(nb), d(nb + 2)});
    bE.append({d(nb + 2), d(nb + 1)});
    for (int64_t i = 0; i < nb + 2; ++i)
      oE.push_back(d(i));
    SmallVector<IT> iters(numDims, IT::parallel);
    iters.back() = IT::reduction;
    result = linalg::GenericOp::create(
                 im.b, im.loc, TypeRange{acc.getType()}, ValueRange{a, bv},
                 ValueRange{acc},
                 SmallVector<AffineMap>{AffineMap::get(numDims, 0, aE, ctx),
                                        AffineMap::get(numDims, 0, bE, ctx),
                                        AffineMap::get(numDims, 0, oE, ctx)},
                 iters,
                 [&](OpBuilder &nb2, Location l, ValueRange args) {
                   linalg::YieldOp::create(
                       nb2, l, body(nb2, l, args[0], args[1], args[2]));
                 })
                 .getResult(0);
  }
  if (aVec || bVec) {
    SmallVector<int64_t> shape(*batch);
    if (!aVec)
      shape.push_back(m);
    if (!bVec)
      shape.push_back(n);
    result = im.reshape(result, shape);
  }
  return result;
}

static LogicalResult importMatMul(Importer &im) {
  if (failed(im.checkArity(2, 2)) || failed(checkFloat(im, 0)) ||
      failed(checkFloat(im, 1)))
    return failure();
  Type elem = im.elemType(im.dtype(0));
  FailureOr<Value> r =
      buildMatMul(im, im.in(0), im.in(1), elem, true, floatMulAdd);
  if (failed(r))
    return failure();
  Value y = *r;
  if (!y.getDefiningOp() || y == im.in(0))
    y = tensor::CastOp::create(im.b, im.loc, y.getType(), y);
  return im.setOutput(0, y, im.dtype(0));
}

static LogicalResult importGemm(Importer &im) {
  if (failed(im.checkArity(2, 3)))
    return failure();
  for (unsigned i = 0; i < im.numInputs(); ++i)
    if (im.hasInput(i) && failed(checkFloat(im, i)))
      return failure();
  FailureOr<float> alpha = im.attrFloat("alpha", 1.0f),
                   beta = im.attrFloat("beta", 1.0f);
  FailureOr<int64_t> transA = im.attrInt("transA", 0),
                     transB = im.attrInt("transB", 0);
  if (failed(alpha) || failed(beta) || failed(transA) || failed(transB))
    return failure();
  if (im.shape(0).size() != 2 || im.shape(1).size() != 2)
    return im.error() << "A and B must be 2-d";
  Value a = im.in(0), bv = im.in(1);
  if (*transA)
    a = im.transpose(a, {1, 0});
  if (*transB)
    bv = im.transpose(bv, {1, 0});
  Type elem = im.elemType(im.dtype(0));
  FailureOr<Value> mm = buildMatMul(im, a, bv, elem, true, floatMulAdd);
  if (failed(mm))
    return failure();
  Value y = *mm;
  auto yType = cast<RankedTensorType>(y.getType());
  SmallVector<Value> operands = {y};
  if (im.hasInput(2)) {
    SmallVector<SmallVector<int64_t>> shapes = {
        SmallVector<int64_t>(yType.getShape()),
        SmallVector<int64_t>(im.shape(2))};
    FailureOr<SmallVector<int64_t>> out = im.broadcastShapes(shapes);
    if (failed(out))
      return failure();
    if (*out != SmallVector<int64_t>(yType.getShape()))
      return im.error() << "C does not broadcast to the [M, N] output";
    operands.push_back(im.in(2));
  }
  if (operands.size() > 1 || *alpha != 1.0f) {
    float al = *alpha, be = *beta;
    y = im.elementwise(
        operands, yType.getShape(), elem,
        [&](OpBuilder &nb, Location l, ValueRange v) {
          Value r = v[0];
          if (al != 1.0f)
            r = arith::MulFOp::create(nb, l, im.scalar(nb, l, elem, al), r);
          if (v.size() > 1) {
            Value c = v[1];
            if (be != 1.0f)
              c = arith::MulFOp::create(nb, l, im.scalar(nb, l, elem, be), c);
            r = arith::AddFOp::create(nb, l, r, c);
          }
          return r;
        });
  }
  return im.setOutput(0, y, im.dtype(0));
}

//===----------------------------------------------------------------------===//
// Pooling.
//===----------------------------------------------------------------------===//

static LogicalResult importPool(Importer &im, bool isMax) {
  if (failed(im.checkArity(1, 1)))
    return failure();
  if (im.hasOutput(1))
    return im.error() << "the 'Indices' output is not supported";
  int32_t dt = im.dtype(0);
  if (!im.elemType(dt) || (!isMax && !HostTensor::isFloatType(dt)))
    return im.error() << "element type " << typeName(dt) << " is not supported";
  ArrayRef<int64_t> xs = im.shape(0);
  FailureOr<SmallVector<int64_t>> ks = im.attrInts("kernel_shape");
  if (failed(ks))
    return failure();
  if (ks->empty())
    return im.error() << "attribute 'kernel_shape' is required";
  FailureOr<int64_t> ceilMode = im.attrInt("ceil_mode", 0);
  FailureOr<int64_t> countPad = im.attrInt("count_include_pad", 0);
  if (failed(ceilMode) || failed(countPad))
    return failure();
  FailureOr<int64_t> storageOrder = im.attrInt("storage_order", 0);
  if (failed(storageOrder))
    return failure();
  FailureOr<ConvGeometry> g = getConvGeometry(im, xs, *ks, *ceilMode != 0);
  if (failed(g))
    return failure();
  int64_t s = ks->size();
  Type elem = im.elemType(dt);
  // Ceil mode may need more padding at the end; it counts for nothing.
  SmallVector<int64_t> lo = {0, 0}, hi = {0, 0};
  for (int64_t i = 0; i < s; ++i) {
    int64_t need = (g->outSpatial[i] - 1) * g->strides[i] +
                   (g->kernel[i] - 1) * g->dilations[i] + 1;
    lo.push_back(g->padLo[i]);
    hi.push_back(
        std::max<int64_t>(g->padHi[i], need - xs[i + 2] - g->padLo[i]));
  }
  TypedAttr padValue =
      isMax ? im.lowestAttr(elem, isUnsignedType(dt)) : im.scalarAttr(elem, 0);
  Value x = im.padConstant(im.in(0), lo, hi, padValue);
  MLIRContext *ctx = im.ctx;
  int64_t numDims = 2 + 2 * s;
  auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
  SmallVector<AffineExpr> xE = {d(0), d(1)}, winE, oE = {d(0), d(1)};
  for (int64_t i = 0; i < s; ++i) {
    xE.push_back(d(2 + i) * g->strides[i] + d(2 + s + i) * g->dilations[i]);
    winE.push_back(d(2 + s + i));
    oE.push_back(d(2 + i));
  }
  SmallVector<int64_t> outShape = {xs[0], xs[1]};
  outShape.append(g->outSpatial);
  Value acc = im.fill(outShape, elem, padValue);
  Value window = im.emptyTensor(g->kernel, elem);
  SmallVector<IT> iters(numDims, IT::parallel);
  for (int64_t i = 2 + s; i < numDims; ++i)
    iters[i] = IT::reduction;
  bool isFloat = HostTensor::isFloatType(dt), isUnsigned = isUnsignedType(dt);
  Value y = linalg::GenericOp::create(
                im.b, im.loc, TypeRange{acc.getType()}, ValueRange{x, window},
                ValueRange{acc},
                SmallVector<AffineMap>{AffineMap::get(numDims, 0, xE, ctx),
                                       AffineMap::get(numDims, 0, winE, ctx),
                                       AffineMap::get(numDims, 0, oE, ctx)},
                iters,
                [&](OpBuilder &nb, Location l, ValueRange a) {
                  Value r;
                  if (!isMax)
                    r = arith::AddFOp::create(nb, l, a[2], a[0]);
                  else if (isFloat)
                    r = arith::MaximumFOp::create(nb, l, a[2], a[0]);
                  else if (isUnsigned)
                    r = arith::MaxUIOp::create(nb, l, a[2], a[0]);
                  else
                    r = arith::MaxSIOp::create(nb, l, a[2], a[0]);
                  linalg::YieldOp::create(nb, l, r);
                })
                .getResult(0);
  if (!isMax) {
    // The divisor of each window, counted at import.
    HostTensor div = HostTensor::make(dt, g->outSpatial);
    int64_t n = div.numel();
    for (int64_t flat = 0; flat < n; ++flat) {
      int64_t rem = flat, count = 1;
      for (int64_t i = s - 1; i >= 0; --i) {
        int64_t o = rem % g->outSpatial[i];
        rem /= g->outSpatial[i];
        int64_t c = 0;
        for (int64_t k = 0; k < g->kernel[i]; ++k) {
          int64_t p = o * g->strides[i] - g->padLo[i] + k * g->dilations[i];
          bool in = *countPad
                        ? (p >= -g->padLo[i] && p < xs[i + 2] + g->padHi[i])
                        : (p >= 0 && p < xs[i + 2]);
          c += in;
        }
        count *= c;
      }
      div.setDouble(flat, count);
    }
    Value divV = im.constant(div, "", im.loc);
    y = im.elementwise({y, divV}, outShape, elem,
                       [](OpBuilder &nb, Location l, ValueRange a) {
                         return (Value)arith::DivFOp::create(nb, l, a[0], a[1]);
                       });
  }
  return im.setOutput(0, y, dt);
}

static LogicalResult importGlobalPool(Importer &im, bool isMax) {
  if (failed(im.checkArity(1, 1)))
    return failure();
  int32_t dt = im.dtype(0);
  if (!HostTensor::isFloatType(dt))
    return im.error() << "element type " << typeName(dt) << " is not supported";
  ArrayRef<int64_t> xs = im.shape(0);
  if (xs.size() < 3)
    return im.error() << "input must have rank >= 3";
  Type elem = im.elemType(dt);
  SmallVector<int64_t> axes;
  int64_t count = 1;
  for (int64_t i = 2, e = xs.size(); i < e; ++i) {
    axes.push_back(i);
    count *= xs[i];
  }
  Value y;
  if (isMax) {
    y = im.reduce(im.in(0), axes, true, im.lowestAttr(elem, false),
                  [](OpBuilder &nb, Location l, Value v, Value acc) {
                    return (Value)arith::MaximumFOp::create(nb, l, acc, v);
                  });
  } else {
    y = im.reduce(im.in(0), axes, true, im.scalarAttr(elem, 0),
                  [](OpBuilder &nb, Location l, Value v, Value acc) {
                    return (Value)arith::AddFOp::create(nb, l, acc, v);
                  });
    auto type = cast<RankedTensorType>(y.getType());
    y = im.elementwise(y, type.getShape(), elem,
                       [&](OpBuilder &nb, Location l, ValueRange a) {
                         return (Value)arith::DivFOp::create(
                             nb, l, a[0], im.scalar(nb, l, elem, count));
                       });
  }
  return im.setOutput(0, y, dt);
}

//===----------------------------------------------------------------------===//
// Reductions.
//===----------------------------------------------------------------------===//

namespace {
enum class Red { Sum, Mean, Max, Min, Prod, L1, L2, SumSquare };
} // namespace

/// Mean over `axes` (keepdims) of a float tensor.
static Value meanOver(Importer &im, Value x, ArrayRef<int64_t> axes) {
  auto type = cast<RankedTensorType>(x.getType());
  Type elem = type.getElementType();
  int64_t count = 1;
  for (int64_t a : axes)
    count *= type.getDimSize(a);
  Value s = im.reduce(x, axes, true, im.scalarAttr(elem, 0),
                      [](OpBuilder &nb, Location l, Value v, Value acc) {
                        return (Value)arith::AddFOp::create(nb, l, acc, v);
                      });
  auto st = cast<RankedTensorType>(s.getType());
  return im.elementwise(s, st.getShape(), elem,
                        [&](OpBuilder &nb, Location l, ValueRange a) {
                          return (Value)arith::DivFOp::create(
                              nb, l, a[0], im.scalar(nb, l, elem, count));
                        });
}

static LogicalResult importReduce(Importer &im, Red kind) {
  bool axesInput = kind == Red::Sum && im.opset >= 13;
  if (failed(im.checkArity(1, axesInput ? 2 : 1)))
    return failure();
  int32_t dt = im.dtype(0);
  bool isFloat = HostTensor::isFloatType(dt);
  bool intOk = kind == Red::Sum || kind == Red::Max || kind == Red::Min ||
               kind == Red::Prod;
  if (!im.elemType(dt) || dt == onnxp::TensorProto_DataType_BOOL ||
      (!isFloat && !intOk))
    return im.error() << "element type " << typeName(dt) << " is not supported";
  FailureOr<int64_t> keep = im.attrInt("keepdims", 1);
  FailureOr<int64_t> noop = im.attrInt("noop_with_empty_axes", 0);
  if (failed(keep) || failed(noop))
    return failure();
  SmallVector<int64_t> axes;
  if (axesInput && im.hasInput(1)) {
    FailureOr<const HostTensor *> t = im.constInput(1, "the 'axes' input");
    if (failed(t))
      return failure();
    axes = (*t)->toInts();
  } else {
    FailureOr<SmallVector<int64_t>> a = im.attrInts("axes");
    if (failed(a))
      return failure();
    axes = *a;
  }
  int64_t rank = im.shape(0).size();
  Value x = im.in(0);
  if (axes.empty()) {
    if (*noop) {
      Value r = tensor::CastOp::create(im.b, im.loc, x.getType(), x);
      return im.setOutput(0, r, dt);
    }
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  }
  for (int64_t &a : axes) {
    FailureOr<int64_t> n = im.normalizeAxis(a, rank, "axis");
    if (failed(n))
      return failure();
    a = *n;
  }
  llvm::sort(axes);
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  Type elem = im.elemType(dt);
  bool isUnsigned = isUnsignedType(dt);
  // Pre-map |x| or x^2.
  if (kind == Red::L1 || kind == Red::L2 || kind == Red::SumSquare)
    x = im.elementwise(x, im.shape(0), elem,
                       [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
                         if (kind == Red::L1)
                           return math::AbsFOp::create(nb, l, a[0]);
                         return arith::MulFOp::create(nb, l, a[0], a[0]);
                       });
  TypedAttr init;
  std::function<Value(OpBuilder &, Location, Value, Value)> combine;
  switch (kind) {
  case Red::Max:
    init = im.lowestAttr(elem, isUnsigned);
    combine = [&](OpBuilder &nb, Location l, Value v, Value acc) -> Value {
      if (isFloat)
        return arith::MaximumFOp::create(nb, l, acc, v);
      return isUnsigned ? (Value)arith::MaxUIOp::create(nb, l, acc, v)
                        : (Value)arith::MaxSIOp::create(nb, l, acc, v);
    };
    break;
  case Red::Min:
    init = im.highestAttr(elem, isUnsigned);
    combine = [&](OpBuilder &nb, Location l, Value v, Value acc) -> Value {
      if (isFloat)
        return arith::MinimumFOp::create(nb, l, acc, v);
      return isUnsigned ? (Value)arith::MinUIOp::create(nb, l, acc, v)
                        : (Value)arith::MinSIOp::create(nb, l, acc, v);
    };
    break;
  case Red::Prod:
    init = im.scalarAttr(elem, 1);
    combine = [&](OpBuilder &nb, Location l, Value v, Value acc) -> Value {
      if (isFloat)
        return arith::MulFOp::create(nb, l, acc, v);
      return arith::MulIOp::create(nb, l, acc, v);
    };
    break;
  default:
    init = im.scalarAttr(elem, 0);
    combine = [&](OpBuilder &nb, Location l, Value v, Value acc) -> Value {
      if (isFloat)
        return arith::AddFOp::create(nb, l, acc, v);
      return arith::AddIOp::create(nb, l, acc, v);
    };
    break;
  }
  Value y = im.reduce(x, axes, *keep != 0, init, combine);
  int64_t count = 1;
  for (int64_t a : axes)
    count *= im.shape(0)[a];
  if (kind == Red::Mean || kind == Red::L2) {
    auto type = cast<RankedTensorType>(y.getType());
    y = im.elementwise(y, type.getShape(), elem,
                       [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
                         if (kind == Red::L2)
                           return math::SqrtOp::create(nb, l, a[0]);
                         return arith::DivFOp::create(
                             nb, l, a[0], im.scalar(nb, l, elem, count));
                       });
  }
  return im.setOutput(0, y, dt);
}

//===----------------------------------------------------------------------===//
// Softmax and normalizations.
//===----------------------------------------------------------------------===//

static LogicalResult importSoftmax(Importer &im, bool isLog) {
  if (failed(im.checkArity(1, 1)) || failed(checkFloat(im, 0)))
    return failure();
  int64_t rank = im.shape(0).size();
  FailureOr<int64_t> axisAttr = im.attrInt("axis", im.opset >= 13 ? -1 : 1);
  if (failed(axisAttr))
    return failure();
  FailureOr<int64_t> axis = im.normalizeAxis(*axisAttr, rank, "axis");
  if (failed(axis))
    return failure();
  // Before opset 13 the input is coerced to 2-d at `axis`: the softmax runs
  // over all dimensions from `axis` on.
  SmallVector<int64_t> axes = {*axis};
  if (im.opset < 13)
    for (int64_t i = *axis + 1; i < rank; ++i)
      axes.push_back(i);
  Type elem = im.elemType(im.dtype(0));
  Value x = im.in(0);
  ArrayRef<int64_t> shape = im.shape(0);
  Value mx = im.reduce(x, axes, true, im.lowestAttr(elem, false),
                       [](OpBuilder &nb, Location l, Value v, Value acc) {
                         return (Value)arith::MaximumFOp::create(nb, l, acc, v);
                       });
  Value shifted = im.elementwise(
      {x, mx}, shape, elem, [](OpBuilder &nb, Location l, ValueRange a) {
        return (Value)arith::SubFOp::create(nb, l, a[0], a[1]);
      });
  Value e = im.elementwise(shifted, shape, elem,
                           [](OpBuilder &nb, Location l, ValueRange a) {
                             return (Value)math::ExpOp::create(nb, l, a[0]);
                           });
  Value sum = im.reduce(e, axes, true, im.scalarAttr(elem, 0),
                        [](OpBuilder &nb, Location l, Value v, Value acc) {
                          return (Value)arith::AddFOp::create(nb, l, acc, v);
                        });
  Value y;
  if (isLog)
    y = im.elementwise({shifted, sum}, shape, elem,
                       [](OpBuilder &nb, Location l, ValueRange a) {
                         Value lg = math::LogOp::create(nb, l, a[1]);
                         return (Value)arith::SubFOp::create(nb, l, a[0], lg);
                       });
  else
    y = im.elementwise({e, sum}, shape, elem,
                       [](OpBuilder &nb, Location l, ValueRange a) {
                         return (Value)arith::DivFOp::create(nb, l, a[0], a[1]);
                       });
  return im.setOutput(0, y, im.dtype(0));
}

static LogicalResult importBatchNorm(Importer &im) {
  if (failed(im.checkArity(5, 5)))
    return failure();
  for (unsigned i = 0; i < 5; ++i)
    if (failed(checkFloat(im, i)))
      return failure();
  FailureOr<float> eps = im.attrFloat("epsilon", 1e-5f);
  FailureOr<int64_t> training = im.attrInt("training_mode", 0);
  FailureOr<int64_t> spatial = im.attrInt("spatial", 1);
  if (failed(eps) || failed(training) || failed(spatial))
    return failure();
  if (*training || im.hasOutput(1) || im.hasOutput(2) || im.hasOutput(3) ||
      im.hasOutput(4))
    return im.error() << "training mode (running statistics outputs) is not "
                         "supported; qopt imports inference graphs";
  if (!*spatial)
    return im.error() << "spatial=0 is not supported";
  ArrayRef<int64_t> xs = im.shape(0);
  if (xs.size() < 2)
    return im.error() << "input must have rank >= 2";
  int64_t c = xs[1];
  for (unsigned i = 1; i < 5; ++i)
    if (im.shape(i).size() != 1 || im.shape(i)[0] != c)
      return im.error() << "input " << i << " must have shape [" << c << "]";
  SmallVector<int64_t> pshape(xs.size() - 1, 1);
  pshape[0] = c;
  SmallVector<Value> operands = {im.in(0)};
  for (unsigned i = 1; i < 5; ++i)
    operands.push_back(im.reshape(im.in(i), pshape));
  Type elem = im.elemType(im.dtype(0));
  float e = *eps;
  // (x - mean) / sqrt(var + eps) * scale + B, in ONNX's order.
  Value y = im.elementwise(
      operands, xs, elem, [&](OpBuilder &nb, Location l, ValueRange a) {
        Value d = arith::SubFOp::create(nb, l, a[0], a[3]);
        Value v = arith::AddFOp::create(nb, l, a[4], im.scalar(nb, l, elem, e));
        Value sd = math::SqrtOp::create(nb, l, v);
        Value n = arith::DivFOp::create(nb, l, d, sd);
        Value s = arith::MulFOp::create(nb, l, n, a[1]);
        return (Value)arith::AddFOp::create(nb, l, s, a[2]);
      });
  return im.setOutput(0, y, im.dtype(0));
}

/// Shared by Layer- and InstanceNormalization: normalizes over `axes`, then
/// applies scale and bias (already broadcastable to x).
static LogicalResult normalize(Importer &im, ArrayRef<int64_t> axes, float eps,
                               Value scale, Value bias, bool extraOutputs) {
  Value x = im.in(0);
  ArrayRef<int64_t> shape = im.shape(0);
  Type elem = im.elemType(im.dtype(0));
  Value mean = meanOver(im, x, axes);
  Value d = im.elementwise(
      {x, mean}, shape, elem, [](OpBuilder &nb, Location l, ValueRange a) {
        return (Value)arith::SubFOp::create(nb, l, a[0], a[1]);
      });
  Value dd = im.elementwise(
      d, shape, elem, [](OpBuilder &nb, Location l, ValueRange a) {
        return (Value)arith::MulFOp::create(nb, l, a[0], a[0]);
      });
  Value var = meanOver(im, dd, axes);
  auto vt = cast<RankedTensorType>(var.getType());
  Value inv = im.elementwise(
      var, vt.getShape(), elem, [&](OpBuilder &nb, Location l, ValueRange a) {
        Value v =
            arith::AddFOp::create(nb, l, a[0], im.scalar(nb, l, elem, eps));
        Value sd = math::SqrtOp::create(nb, l, v);
        return (Value)arith::DivFOp::create(nb, l, im.scalar(nb, l, elem, 1.0),
                                            sd);
      });
  SmallVector<Value> operands = {d, inv, scale};
  if (bias)
    operands.push_back(bias);
  FailureOr<Value> y = im.broadcastElementwise(
      operands, elem, [&](OpBuilder &nb, Location l, ValueRange a) {
        Value n = arith::MulFOp::create(nb, l, a[0], a[1]);
        Value s = arith::MulFOp::create(nb, l, n, a[2]);
        if (a.size() > 3)
          s = arith::AddFOp::create(nb, l, s, a[3]);
        return s;
      });
  if (failed(y))
    return failure();
  if (cast<RankedTensorType>((*y).getType()).getShape() != shape)
    return im.error() << "scale/bias do not broadcast to the input shape";
  if (failed(im.setOutput(0, *y, im.dtype(0))))
    return failure();
  if (extraOutputs) {
    if (im.hasOutput(1) && failed(im.setOutput(1, mean, im.dtype(0))))
      return failure();
    if (im.hasOutput(2) && failed(im.setOutput(2, inv, im.dtype(0))))
      return failure();
  }
  return success();
}

static LogicalResult importLayerNorm(Importer &im) {
  if (failed(im.checkArity(2, 3, 3)))
    return failure();
  for (unsigned i = 0; i < im.numInputs(); ++i)
    if (im.hasInput(i) && failed(checkFloat(im, i)))
      return failure();
  int64_t rank = im.shape(0).size();
  FailureOr<int64_t> axisAttr = im.attrInt("axis", -1);
  FailureOr<float> eps = im.attrFloat("epsilon", 1e-5f);
  if (failed(axisAttr) || failed(eps))
    return failure();
  FailureOr<int64_t> axis = im.normalizeAxis(*axisAttr, rank, "axis");
  if (failed(axis))
    return failure();
  SmallVector<int64_t> axes;
  for (int64_t i = *axis; i < rank; ++i)
    axes.push_back(i);
  return normalize(im, axes, *eps, im.in(1),
                   im.hasInput(2) ? im.in(2) : Value(), true);
}

static LogicalResult importInstanceNorm(Importer &im) {
  if (failed(im.checkArity(3, 3)))
    return failure();
  for (unsigned i = 0; i < 3; ++i)
    if (failed(checkFloat(im, i)))
      return failure();
  ArrayRef<int64_t> xs = im.shape(0);
  if (xs.size() < 3)
    return im.error() << "input must have rank >= 3";
  FailureOr<float> eps = im.attrFloat("epsilon", 1e-5f);
  if (failed(eps))
    return failure();
  int64_t c = xs[1];
  for (unsigned i = 1; i < 3; ++i)
    if (im.shape(i).size() != 1 || im.shape(i)[0] != c)
      return im.error() << "input " << i << " must have shape [" << c << "]";
  SmallVector<int64_t> axes, pshape(xs.size() - 1, 1);
  pshape[0] = c;
  for (int64_t i = 2, e = xs.size(); i < e; ++i)
    axes.push_back(i);
  return normalize(im, axes, *eps, im.reshape(im.in(1), pshape),
                   im.reshape(im.in(2), pshape), false);
}

//===----------------------------------------------------------------------===//
// Resize and Upsample.
//===----------------------------------------------------------------------===//

static LogicalResult buildResize(Importer &im, ArrayRef<double> scales,
                                 ArrayRef<int64_t> outShape, StringRef mode,
                                 StringRef coordMode, StringRef nearestMode) {
  ArrayRef<int64_t> xs = im.shape(0);
  int64_t rank = xs.size();
  int32_t dt = im.dtype(0);
  Type elem = im.elemType(dt);
  bool linear = mode == "linear";
  if (linear && !HostTensor::isFloatType(dt))
    return im.error() << "linear mode needs a float input";
  // Per axis: source index (nearest) or low/high index and weight (linear).
  struct AxisTable {
    bool identity = true;
    std::vector<int64_t> lo, hi;
    std::vector<double> w;
  };
  std::vector<AxisTable> tables(rank);
  for (int64_t a = 0; a < rank; ++a) {
    int64_t in = xs[a], out = outShape[a];
    double scale = scales[a];
    AxisTable &t = tables[a];
    if (in == out && scale == 1.0)
      continue;
    t.identity = false;
    for (int64_t i = 0; i < out; ++i) {
      double x;
      if (coordMode == "half_pixel")
        x = (i + 0.5) / scale - 0.5;
      else if (coordMode == "pytorch_half_pixel")
        x = out > 1 ? (i + 0.5) / scale - 0.5 : 0.0;
      else if (coordMode == "align_corners")
        // ONNX's reference divides by the unrounded length in * scale - 1.
        x = out == 1 ? 0.0 : i * (double)(in - 1) / (in * scale - 1.0);
      else if (coordMode == "asymmetric")
        x = i / scale;
      else // tf_half_pixel_for_nn
        x = (i + 0.5) / scale;
      if (linear) {
        x = std::clamp(x, 0.0, (double)(in - 1));
        int64_t l = (int64_t)std::floor(x);
        int64_t h = std::min<int64_t>(l + 1, in - 1);
        t.lo.push_back(l);
        t.hi.push_back(h);
        t.w.push_back(x - l);
      } else {
        int64_t r;
        double fl = std::floor(x);
        if (nearestMode == "floor")
          r = (int64_t)fl;
        else if (nearestMode == "ceil")
          r = (int64_t)std::ceil(x);
        else if (nearestMode == "round_prefer_ceil")
          r = (x - fl == 0.5) ? (int64_t)fl + 1 : (int64_t)std::round(x);
        else // round_prefer_floor
          r = (x - fl == 0.5) ? (int64_t)fl : (int64_t)std::round(x);
        t.lo.push_back(std::clamp<int64_t>(r, 0, in - 1));
      }
    }
  }
  // Index/weight tables become constant 1-d operands of one generic.
  SmallVector<Value> operands;
  SmallVector<AffineMap> maps;
  struct Slot {
    int lo = -1, hi = -1, w = -1;
  };
  std::vector<Slot> slots(rank);
  auto addTable = [&](int64_t axis, HostTensor t) {
    operands.push_back(im.constant(t, "", im.loc));
    maps.push_back(AffineMap::get(rank, 0, getAffineDimExpr(axis, im.ctx)));
    return (int)operands.size() - 1;
  };
  for (int64_t a = 0; a < rank; ++a) {
    const AxisTable &t = tables[a];
    if (t.identity)
      continue;
    int64_t n = outShape[a];
    HostTensor lo = HostTensor::make(onnxp::TensorProto_DataType_INT64, {n});
    for (int64_t i = 0; i < n; ++i)
      lo.setInt(i, t.lo[i]);
    slots[a].lo = addTable(a, lo);
    if (linear) {
      HostTensor hi = HostTensor::make(onnxp::TensorProto_DataType_INT64, {n});
      HostTensor w = HostTensor::make(dt, {n});
      for (int64_t i = 0; i < n; ++i) {
        hi.setInt(i, t.hi[i]);
        w.setDouble(i, t.w[i]);
      }
      slots[a].hi = addTable(a, hi);
      slots[a].w = addTable(a, w);
    }
  }
  Value src = im.in(0);
  maps.push_back(AffineMap::getMultiDimIdentityMap(rank, im.ctx));
  Value init = im.emptyTensor(outShape, elem);
  SmallVector<int64_t> resized;
  for (int64_t a = 0; a < rank; ++a)
    if (!tables[a].identity)
      resized.push_back(a);
  Value y =
      linalg::GenericOp::create(
          im.b, im.loc, TypeRange{init.getType()}, operands, ValueRange{init},
          maps, SmallVector<IT>(rank, IT::parallel),
          [&](OpBuilder &nb, Location l, ValueRange args) {
            auto idx = [&](Value v) {
              return (Value)arith::IndexCastOp::create(nb, l, nb.getIndexType(),
                                                       v);
            };
            SmallVector<Value> base;
            for (int64_t a = 0; a < rank; ++a)
              base.push_back(tables[a].identity
                                 ? (Value)linalg::IndexOp::create(nb, l, a)
                                 : idx(args[slots[a].lo]));
            if (!linear) {
              linalg::YieldOp::create(
                  nb, l, Value(tensor::ExtractOp::create(nb, l, src, base)));
              return;
            }
            // Separable interpolation: sum over the 2^k corners of the
            // product of per-axis weights, as ONNX's reference (per axis).
            // Done axis by axis from the last so the rounding order
            // matches a nested 1-d interpolation.
            std::function<Value(size_t, SmallVector<Value>)> interp =
                [&](size_t j, SmallVector<Value> coords) -> Value {
              if (j == resized.size())
                return tensor::ExtractOp::create(nb, l, src, coords);
              int64_t a = resized[j];
              SmallVector<Value> c0 = coords, c1 = coords;
              c1[a] = idx(args[slots[a].hi]);
              Value v0 = interp(j + 1, c0), v1 = interp(j + 1, c1);
              Value w = args[slots[a].w];
              Value one = im.scalar(nb, l, elem, 1.0);
              Value w0 = arith::SubFOp::create(nb, l, one, w);
              Value p0 = arith::MulFOp::create(nb, l, w0, v0);
              Value p1 = arith::MulFOp::create(nb, l, w, v1);
              return arith::AddFOp::create(nb, l, p0, p1);
            };
            linalg::YieldOp::create(nb, l, interp(0, base));
          })
          .getResult(0);
  return im.setOutput(0, y, dt);
}

static LogicalResult importResize(Importer &im) {
  if (failed(im.checkArity(1, 4)))
    return failure();
  ArrayRef<int64_t> xs = im.shape(0);
  int64_t rank = xs.size();
  FailureOr<std::string> mode = im.attrString("mode", "nearest");
  FailureOr<std::string> coord =
      im.attrString("coordinate_transformation_mode",
                    im.opset >= 11 ? "half_pixel" : "asymmetric");
  FailureOr<std::string> nearest = im.attrString(
      "nearest_mode", im.opset >= 11 ? "round_prefer_floor" : "floor");
  if (failed(mode) || failed(coord) || failed(nearest))
    return failure();
  if (*mode != "nearest" && *mode != "linear")
    return im.error() << "mode '" << *mode
                      << "' is not supported (nearest and linear are)";
  static const char *coords[] = {"half_pixel", "pytorch_half_pixel",
                                 "align_corners", "asymmetric",
                                 "tf_half_pixel_for_nn"};
  if (!llvm::is_contained(coords, StringRef(*coord)))
    return im.error() << "coordinate_transformation_mode '" << *coord
                      << "' is not supported";
  static const char *nearests[] = {"round_prefer_floor", "round_prefer_ceil",
                                   "floor", "ceil"};
  if (!llvm::is_contained(nearests, StringRef(*nearest)))
    return im.error() << "nearest_mode '" << *nearest << "' is not supported";
  if (im.opset >= 18 && im.hasAttr("antialias"))
    return im.error() << "antialias is not supported";
  SmallVector<double> scales;
  SmallVector<int64_t> outShape;
  unsigned scalesIdx = im.opset >= 11 ? 2 : 1, sizesIdx = 3;
  if (im.hasInput(sizesIdx) && im.opset >= 11 &&
      !im.input(sizesIdx).shape.empty() && im.input(sizesIdx).shape[0] > 0) {
    FailureOr<const HostTensor *> s =
        im.constInput(sizesIdx, "the 'sizes' input");
    if (failed(s))
      return failure();
    outShape = (*s)->toInts();
    if ((int64_t)outShape.size() != rank)
      return im.error() << "'sizes' has " << outShape.size()
                        << " entries for a rank-" << rank << " input";
    for (int64_t a = 0; a < rank; ++a)
      scales.push_back((double)outShape[a] / (double)xs[a]);
  } else if (im.hasInput(scalesIdx)) {
    FailureOr<const HostTensor *> s =
        im.constInput(scalesIdx, "the 'scales' input");
    if (failed(s))
      return failure();
    if ((*s)->numel() != rank)
      return im.error() << "'scales' has " << (*s)->numel()
                        << " entries for a rank-" << rank << " input";
    for (int64_t a = 0; a < rank; ++a) {
      // The reference computes in float32: scales are float tensors.
      double sc = (*s)->getDouble(a);
      if (sc <= 0)
        return im.error() << "'scales' must be positive";
      scales.push_back(sc);
      outShape.push_back((int64_t)std::floor(xs[a] * (float)sc));
    }
  } else {
    return im.error() << "one of 'scales' and 'sizes' is required";
  }
  return buildResize(im, scales, outShape, *mode, *coord, *nearest);
}

static LogicalResult importUpsample(Importer &im) {
  if (failed(im.checkArity(1, 2)))
    return failure();
  ArrayRef<int64_t> xs = im.shape(0);
  int64_t rank = xs.size();
  FailureOr<std::string> mode = im.attrString("mode", "nearest");
  if (failed(mode))
    return failure();
  std::string m = *mode == "bilinear" ? "linear" : *mode;
  if (m != "nearest" && m != "linear")
    return im.error() << "mode '" << *mode << "' is not supported";
  SmallVector<double> scales;
  if (im.hasInput(1)) {
    FailureOr<const HostTensor *> s = im.constInput(1, "the 'scales' input");
    if (failed(s))
      return failure();
    for (int64_t i = 0, e = (*s)->numel(); i < e; ++i)
      scales.push_back((*s)->getDouble(i));
  } else {
    FailureOr<SmallVector<float>> s = im.attrFloats("scales");
    if (failed(s))
      return failure();
    scales.assign(s->begin(), s->end());
  }
  if ((int64_t)scales.size() != rank)
    return im.error() << "'scales' has " << scales.size()
                      << " entries for a rank-" << rank << " input";
  SmallVector<int64_t> outShape;
  for (int64_t a = 0; a < rank; ++a)
    outShape.push_back((int64_t)std::floor(xs[a] * scales[a]));
  // Upsample is Resize with asymmetric coordinates and floor rounding.
  return buildResize(im, scales, outShape, m, "asymmetric", "floor");
}

void mlir::qopt::onnx_import::populateNNOps(llvm::StringMap<Handler> &table) {
  table["Conv"] = importConv;
  table["ConvTranspose"] = importConvTranspose;
  table["MatMul"] = importMatMul;
  table["Gemm"] = importGemm;
  table["MaxPool"] = [](Importer &im) { return importPool(im, true); };
  table["AveragePool"] = [](Importer &im) { return importPool(im, false); };
  table["GlobalMaxPool"] = [](Importer &im) {
    return importGlobalPool(im, true);
  };
  table["GlobalAveragePool"] = [](Importer &im) {
    return importGlobalPool(im, false);
  };
  table["ReduceSum"] = [](Importer &im) { return importReduce(im, Red::Sum); };
  table["ReduceMean"] = [](Importer &im) {
    return importReduce(im, Red::Mean);
  };
  table["ReduceMax"] = [](Importer &im) { return importReduce(im, Red::Max); };
  table["ReduceMin"] = [](Importer &im) { return importReduce(im, Red::Min); };
  table["ReduceProd"] = [](Importer &im) {
    return importReduce(im, Red::Prod);
  };
  table["ReduceL1"] = [](Importer &im) { return importReduce(im, Red::L1); };
  table["ReduceL2"] = [](Importer &im) { return importReduce(im, Red::L2); };
  table["ReduceSumSquare"] = [](Importer &im) {
    return importReduce(im, Red::SumSquare);
  };
  table["Softmax"] = [](Importer &im) { return importSoftmax(im, false); };
  table["LogSoftmax"] = [](Importer &im) { return importSoftmax(im, true); };
  table["BatchNormalization"] = importBatchNorm;
  table["LayerNormalization"] = importLayerNorm;
  table["InstanceNormalization"] = importInstanceNorm;
  table["Resize"] = importResize;
  table["Upsample"] = importUpsample;
}
