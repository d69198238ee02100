//===- FoldBatchNorm.cpp - fold BatchNorm into weights ----------*- C++ -*-===//
//
// qopt-fold-batchnorm: an inference BatchNormalization, and a Mul, Div, Add or
// Sub by per-channel constants, after a convolution or a matmul is an affine
// map y = a[c] * x + b[c] per output channel. Quantization must see the
// weights that actually multiply the activations, so this pass scales the
// weights by a[c], folds b[c] (and the bias the importer adds after the
// convolution) into one bias add, and gives that add the name (location) of
// the last folded op, so the tensor keeps its ONNX name for calibration. The
// contraction, whose result changed, keeps its own name as an op name only
// (TensorNames.h): pin tables naming it still apply, statistics do not.
//
// The per-channel affine ops are recognised by evaluating their
// linalg.generic bodies symbolically (every operand but the convolution's
// result must be a constant broadcast along the channel dimension), which
// covers the importer's BatchNormalization form
// `(x - mean) / sqrt(var + eps) * scale + B` and its elementwise ops. The
// contraction's weight is a constant, or the importer's ConvTranspose weight
// (a transposing, flipping linalg.generic copy of the initializer), which
// the pass evaluates so that the folded weight is again a constant.
//
//===----------------------------------------------------------------------===//

#include "qopt/Transforms/Passes.h"
#include "qopt/Transforms/TensorNames.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/SetVector.h"

#include <cmath>
#include <optional>

namespace mlir::qopt {
#define GEN_PASS_DEF_FOLDBATCHNORM
#include "qopt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

/// The values of an f32 constant tensor, looking through the reshapes the
/// importer puts on parameters (tensor.expand_shape / collapse_shape keep the
/// row-major order).
static std::optional<SmallVector<double>> getConstant(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (auto e = dyn_cast<tensor::ExpandShapeOp>(def))
      v = e.getSrc();
    else if (auto c = dyn_cast<tensor::CollapseShapeOp>(def))
      v = c.getSrc();
    else
      break;
  }
  auto cst = v.getDefiningOp<arith::ConstantOp>();
  if (!cst)
    return std::nullopt;
  SmallVector<double> out;
  if (auto dense = dyn_cast<DenseFPElementsAttr>(cst.getValue())) {
    if (!dense.getElementType().isF32())
      return std::nullopt;
    for (float f : dense.getValues<float>())
      out.push_back(f);
    return out;
  }
  if (auto res = dyn_cast<DenseF32ResourceElementsAttr>(cst.getValue())) {
    std::optional<ArrayRef<float>> data = res.tryGetAsArrayRef();
    if (!data)
      return std::nullopt;
    out.assign(data->begin(), data->end());
    return out;
  }
  return std::nullopt;
}

/// The values of a contraction's weight: a constant, or a copy of one whose
/// indexing map only moves elements (the importer's ConvTranspose weight,
/// transposed to [out, in / group, k...] and flipped), evaluated here.
static std::optional<SmallVector<double>> getWeightValues(Value v) {
  if (std::optional<SmallVector<double>> direct = getConstant(v))
    return direct;
  auto copy = v.getDefiningOp<linalg::GenericOp>();
  if (!copy || copy.getNumDpsInputs() != 1 || copy.getNumDpsInits() != 1 ||
      copy.getNumReductionLoops() != 0)
    return std::nullopt;
  Block &body = copy.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  if (body.getOperations().size() != 1 ||
      yield.getOperand(0) != body.getArgument(0))
    return std::nullopt;
  Value src = copy.getDpsInputOperand(0)->get();
  auto srcType = dyn_cast<RankedTensorType>(src.getType());
  auto outType = dyn_cast<RankedTensorType>(v.getType());
  AffineMap srcMap = copy.getIndexingMapsArray()[0];
  if (!srcType || !outType || !srcType.hasStaticShape() ||
      !outType.hasStaticShape() || srcMap.getNumSymbols() != 0 ||
      !copy.getIndexingMapsArray()[1].isIdentity())
    return std::nullopt;
  std::optional<SmallVector<double>> srcValues = getConstant(src);
  if (!srcValues)
    return std::nullopt;
  SmallVector<double> out;
  out.reserve(outType.getNumElements());
  SmallVector<int64_t> index(outType.getRank(), 0);
  for (int64_t n = 0; n < outType.getNumElements(); ++n) {
    SmallVector<int64_t> at = srcMap.compose(index);
    int64_t linear = 0;
    for (auto [i, pos] : llvm::enumerate(at)) {
      if (pos < 0 || pos >= srcType.getDimSize(i))
        return std::nullopt;
      linear = linear * srcType.getDimSize(i) + pos;
    }
    out.push_back((*srcValues)[linear]);
    // Next index in row-major order.
    for (int64_t d = outType.getRank() - 1; d >= 0; --d) {
      if (++index[d] < outType.getDimSize(d))
        break;
      index[d] = 0;
    }
  }
  return out;
}

/// y = scale[c] * x + shift[c] for every channel c.
struct ChannelAffine {
  SmallVector<double> scale, shift;
};

/// A value of the generic's body: either independent of x (per channel
/// numbers in `shift`) or affine in x.
struct Sym {
  bool dependsOnX = false;
  SmallVector<double> scale, shift;
};

/// Matches an all-parallel generic computing, from `x` (one of its inputs,
/// read and written with identity maps), an affine function per channel
/// `dim` whose other operands are constants broadcast along `dim` only.
static std::optional<ChannelAffine>
matchChannelAffine(linalg::GenericOp g, Value x, unsigned dim, int64_t c) {
  if (g.getNumDpsInits() != 1 || g.getNumResults() != 1 ||
      g.getNumReductionLoops() != 0)
    return std::nullopt;
  auto outType = dyn_cast<RankedTensorType>(g.getResult(0).getType());
  if (!outType || outType != x.getType() || !outType.getElementType().isF32())
    return std::nullopt;
  Block &body = g.getRegion().front();
  DenseMap<Value, Sym> syms;
  bool sawX = false;
  for (OpOperand *in : g.getDpsInputOperands()) {
    AffineMap map = g.getMatchingIndexingMap(in);
    BlockArgument arg = body.getArgument(in->getOperandNumber());
    Sym s;
    if (in->get() == x && !sawX) {
      if (!map.isIdentity())
        return std::nullopt;
      sawX = true;
      s.dependsOnX = true;
      s.scale.assign(c, 1.0);
      s.shift.assign(c, 0.0);
      syms[arg] = s;
      continue;
    }
    // A constant read at (channel) or broadcast: each map result is dim
    // `dim`, the constant 0, or any dim over a size-1 constant dimension
    // (always index 0, as the importer's broadcasting maps write it).
    std::optional<SmallVector<double>> vals = getConstant(in->get());
    auto type = dyn_cast<RankedTensorType>(in->get().getType());
    if (!vals || !type)
      return std::nullopt;
    int64_t channelPos = -1;
    for (auto [i, e] : llvm::enumerate(map.getResults())) {
      if (auto d = dyn_cast<AffineDimExpr>(e)) {
        if (d.getPosition() != dim && type.getDimSize(i) == 1)
          continue;
        if (d.getPosition() != dim || channelPos >= 0)
          return std::nullopt;
        channelPos = i;
      } else if (auto k = dyn_cast<AffineConstantExpr>(e)) {
        if (k.getValue() != 0)
          return std::nullopt;
      } else {
        return std::nullopt;
      }
    }
    if (channelPos >= 0 && type.getDimSize(channelPos) != c)
      return std::nullopt;
    // Row-major stride of the channel position; every other index is 0.
    int64_t stride = 1;
    for (int64_t i = type.getRank() - 1; i > channelPos && channelPos >= 0; --i)
      stride *= type.getDimSize(i);
    s.shift.resize(c);
    for (int64_t ch = 0; ch < c; ++ch)
      s.shift[ch] = (*vals)[channelPos >= 0 ? ch * stride : 0];
    syms[arg] = s;
  }
  if (!sawX)
    return std::nullopt;
  // The output block argument must be unused (pure elementwise).
  if (!body.getArgument(g.getNumDpsInputs()).use_empty())
    return std::nullopt;

  auto get = [&](Value v) -> const Sym * {
    auto it = syms.find(v);
    return it == syms.end() ? nullptr : &it->second;
  };
  for (Operation &op : body.without_terminator()) {
    Sym r;
    r.shift.assign(c, 0.0);
    FloatAttr f;
    if (matchPattern(&op, m_Constant(&f))) {
      r.shift.assign(c, f.getValueAsDouble());
      syms[op.getResult(0)] = r;
      continue;
    }
    if (op.getNumResults() != 1)
      return std::nullopt;
    SmallVector<const Sym *> a;
    for (Value v : op.getOperands()) {
      const Sym *s = get(v);
      if (!s)
        return std::nullopt;
      a.push_back(s);
    }
    auto dep = [&](unsigned i) { return a[i]->dependsOnX; };
    if (isa<arith::AddFOp, arith::SubFOp>(op)) {
      double sign = isa<arith::SubFOp>(op) ? -1.0 : 1.0;
      r.dependsOnX = dep(0) || dep(1);
      if (r.dependsOnX)
        r.scale.assign(c, 0.0);
      for (int64_t ch = 0; ch < c; ++ch) {
        r.shift[ch] = a[0]->shift[ch] + sign * a[1]->shift[ch];
        if (r.dependsOnX)
          r.scale[ch] = (dep(0) ? a[0]->scale[ch] : 0.0) +
                        sign * (dep(1) ? a[1]->scale[ch] : 0.0);
      }
    } else if (isa<arith::MulFOp>(op)) {
      if (dep(0) && dep(1))
        return std::nullopt;
      const Sym *v = dep(1) ? a[1] : a[0], *k = dep(1) ? a[0] : a[1];
      r.dependsOnX = v->dependsOnX;
      if (r.dependsOnX)
        r.scale.assign(c, 0.0);
      for (int64_t ch = 0; ch < c; ++ch) {
        r.shift[ch] = v->shift[ch] * k->shift[ch];
        if (r.dependsOnX)
          r.scale[ch] = v->scale[ch] * k->shift[ch];
      }
    } else if (isa<arith::DivFOp>(op)) {
      if (dep(1))
        return std::nullopt;
      r.dependsOnX = dep(0);
      if (r.dependsOnX)
        r.scale.assign(c, 0.0);
      for (int64_t ch = 0; ch < c; ++ch) {
        r.shift[ch] = a[0]->shift[ch] / a[1]->shift[ch];
        if (r.dependsOnX)
          r.scale[ch] = a[0]->scale[ch] / a[1]->shift[ch];
      }
    } else if (isa<arith::NegFOp>(op)) {
      r = *a[0];
      for (int64_t ch = 0; ch < c; ++ch) {
        r.shift[ch] = -r.shift[ch];
        if (r.dependsOnX)
          r.scale[ch] = -r.scale[ch];
      }
    } else if (isa<math::SqrtOp>(op) && !dep(0)) {
      for (int64_t ch = 0; ch < c; ++ch)
        r.shift[ch] = std::sqrt(a[0]->shift[ch]);
    } else {
      return std::nullopt;
    }
    syms[op.getResult(0)] = r;
  }
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  const Sym *y = get(yield.getOperand(0));
  if (!y || !y->dependsOnX)
    return std::nullopt;
  for (int64_t ch = 0; ch < c; ++ch)
    if (!std::isfinite(y->scale[ch]) || !std::isfinite(y->shift[ch]))
      return std::nullopt;
  return ChannelAffine{y->scale, y->shift};
}

/// A contraction whose output channel is one dimension of a constant weight:
/// linalg.conv_2d_nchw_fchw (channel 1 of the output, 0 of the filter) and
/// linalg.matmul (channel 1 of the output, 1 of B). Its init must be a zero
/// fill, so scaling the output scales only the products.
struct Contraction {
  linalg::LinalgOp op;
  unsigned outDim, weightDim;
  OpOperand *weight;
  SmallVector<double> values;
  Value result; // the NCHW value the chain reads: op's result, or its
                // collapse (the importer's kernel = strides ConvTranspose)
};

static std::optional<Contraction> matchContraction(Value v) {
  Operation *def = v.getDefiningOp();
  if (!def || !v.hasOneUse())
    return std::nullopt;
  // The importer's ConvTranspose with kernel = strides: a contraction into
  // [N, O, X, K, ...] collapsed to [N, O, X*K, ...]; dimensions 0 and 1
  // stay as they are, so the channel is the contraction's.
  if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(def)) {
    SmallVector<ReassociationIndices> re = collapse.getReassociationIndices();
    if (re.size() < 2 || re[0] != ReassociationIndices{0} ||
        re[1] != ReassociationIndices{1} ||
        !isa_and_nonnull<linalg::GenericOp>(collapse.getSrc().getDefiningOp()))
      return std::nullopt;
    std::optional<Contraction> inner = matchContraction(collapse.getSrc());
    if (inner)
      inner->result = v;
    return inner;
  }
  Contraction k;
  if (auto conv = dyn_cast<linalg::Conv2DNchwFchwOp>(def)) {
    k = {conv, 1, 0, conv.getDpsInputOperand(1), {}, {}};
  } else if (auto mm = dyn_cast<linalg::MatmulOp>(def)) {
    // Only the default (untransposed, unbroadcast) matmul maps.
    if (!mm.hasUserDefinedMaps())
      k = {mm, 1, 1, mm.getDpsInputOperand(1), {}, {}};
    else
      return std::nullopt;
  } else if (auto generic = dyn_cast<linalg::GenericOp>(def)) {
    // The importer's generic convolutions (grouped, depthwise, 1-d and 3-d,
    // and ConvTranspose with kernel = strides): loop d1 is the output
    // channel, dimension 1 of the result and one dimension of the weight
    // (0, or 1 for ConvTranspose's [C, O, k...] initializer), and the body
    // accumulates in0 * in1.
    if (generic.getNumDpsInputs() != 2 || generic.getNumDpsInits() != 1 ||
        generic.getNumReductionLoops() == 0)
      return std::nullopt;
    SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
    AffineExpr d1 = getAffineDimExpr(1, generic.getContext());
    if (maps[2].getNumResults() < 2 || maps[2].getResult(1) != d1 ||
        !maps[2].isProjectedPermutation() || maps[1].getNumResults() < 1 ||
        llvm::count(maps[1].getResults(), d1) != 1)
      return std::nullopt;
    unsigned weightDim = *maps[1].getResultPosition(d1);
    Block &body = generic.getRegion().front();
    auto add = dyn_cast_or_null<arith::AddFOp>(
        cast<linalg::YieldOp>(body.getTerminator())
            .getOperand(0)
            .getDefiningOp());
    if (!add || body.getOperations().size() != 3)
      return std::nullopt;
    Value product = add.getLhs() == body.getArgument(2)   ? add.getRhs()
                    : add.getRhs() == body.getArgument(2) ? add.getLhs()
                                                          : Value();
    auto mul = product ? product.getDefiningOp<arith::MulFOp>() : nullptr;
    if (!mul || !((mul.getLhs() == body.getArgument(0) &&
                   mul.getRhs() == body.getArgument(1)) ||
                  (mul.getLhs() == body.getArgument(1) &&
                   mul.getRhs() == body.getArgument(0))))
      return std::nullopt;
    k = {cast<linalg::LinalgOp>(def),   1,  weightDim,
         generic.getDpsInputOperand(1), {}, {}};
  } else {
    return std::nullopt;
  }
  auto fill = k.op.getDpsInitOperand(0)->get().getDefiningOp<linalg::FillOp>();
  FloatAttr zero;
  if (!fill || !matchPattern(fill.value(), m_Constant(&zero)) ||
      !zero.getValue().isZero())
    return std::nullopt;
  std::optional<SmallVector<double>> w = getWeightValues(k.weight->get());
  if (!w)
    return std::nullopt;
  k.values = std::move(*w);
  k.result = v;
  return k;
}

struct FoldBatchNormPass
    : public qopt::impl::FoldBatchNormBase<FoldBatchNormPass> {
  using FoldBatchNormBase::FoldBatchNormBase;
  void runOnOperation() override;

private:
  /// Folds the chain of per-channel affine generics ending at `last` into
  /// the contraction feeding it. Returns true when it rewrote the IR.
  bool foldChain(linalg::GenericOp last, DenseSet<Operation *> &erased);
};
} // namespace

/// Erases the ops of `worklist` that nothing uses any more (constants,
/// reshapes, empties, fills and weight copies of a folded chain), then the
/// producers this leaves unused. Each op is erased once, whatever the
/// duplicates.
static void eraseDeadProducers(ArrayRef<Operation *> worklist,
                               DenseSet<Operation *> &erased) {
  llvm::SetVector<Operation *> todo;
  for (Operation *op : worklist)
    if (op)
      todo.insert(op);
  DenseSet<Operation *> gone;
  for (size_t i = 0; i < todo.size(); ++i) {
    Operation *op = todo[i];
    if (gone.contains(op) || !op->use_empty() ||
        !isa<arith::ConstantOp, tensor::ExpandShapeOp, tensor::CollapseShapeOp,
             tensor::EmptyOp, linalg::FillOp, linalg::GenericOp>(op))
      continue;
    for (Value v : op->getOperands())
      if (Operation *def = v.getDefiningOp())
        todo.insert(def);
    gone.insert(op);
    erased.insert(op);
    op->erase();
    // An op used twice by an erased op may now be dead: look again.
    i = -1;
  }
}

bool FoldBatchNormPass::foldChain(linalg::GenericOp last,
                                  DenseSet<Operation *> &erased) {
  // Walk up from `last` through single-use affine generics to a contraction,
  // composing the maps: (a2, b2) after (a1, b1) is (a2 a1, a2 b1 + b2).
  SmallVector<linalg::GenericOp> chain;
  SmallVector<ChannelAffine> maps;
  std::optional<Contraction> k;
  linalg::GenericOp g = last;
  while (true) {
    std::optional<ChannelAffine> m;
    Value x;
    for (OpOperand *in : g.getDpsInputOperands()) {
      Value cand = in->get();
      auto t = dyn_cast<RankedTensorType>(cand.getType());
      if (!t || t != g.getResult(0).getType() || !cand.hasOneUse())
        continue;
      // The channel is dimension 1 for NCHW convolutions and 2-d matmuls.
      if (t.getRank() < 2)
        continue;
      m = matchChannelAffine(g, cand, 1, t.getDimSize(1));
      if (m) {
        x = cand;
        break;
      }
    }
    if (!m)
      return false;
    chain.push_back(g);
    maps.push_back(*m);
    if ((k = matchContraction(x)))
      break;
    auto prev = x.getDefiningOp<linalg::GenericOp>();
    if (!prev)
      return false;
    g = prev;
  }
  // A lone bias add (scale 1 everywhere) is the importer's own form.
  int64_t c = maps.front().scale.size();
  ChannelAffine total{SmallVector<double>(c, 1.0), SmallVector<double>(c, 0.0)};
  for (const ChannelAffine &m : llvm::reverse(maps))
    for (int64_t ch = 0; ch < c; ++ch) {
      total.shift[ch] = m.scale[ch] * total.shift[ch] + m.shift[ch];
      total.scale[ch] *= m.scale[ch];
    }
  if (chain.size() == 1 &&
      llvm::all_of(total.scale, [](double s) { return s == 1.0; }))
    return false;

  // The scaled weight, a new constant (the old one may have other users).
  auto wType = cast<RankedTensorType>(k->weight->get().getType());
  if (wType.getDimSize(k->weightDim) != c)
    return false;
  int64_t inner = 1;
  for (int64_t i = k->weightDim + 1; i < wType.getRank(); ++i)
    inner *= wType.getDimSize(i);
  SmallVector<float> scaled(k->values.size());
  for (size_t i = 0; i < scaled.size(); ++i)
    scaled[i] = (float)(k->values[i] * total.scale[(i / inner) % c]);
  // The contraction's result is no longer the ONNX tensor it was named
  // after, so statistics recorded for that tensor must not attach to it;
  // the name stays the op's own (TensorNames.h), so that pin tables naming
  // the convolution or matmul still apply to it.
  if (auto name = dyn_cast<NameLoc>(k->op.getLoc()))
    k->op->setLoc(keepAsOpNameOnly(name));
  OpBuilder b(k->op);
  Location wLoc = k->weight->get().getLoc();
  Value newW = arith::ConstantOp::create(
      b, wLoc, DenseElementsAttr::get(wType, ArrayRef<float>(scaled)));
  Operation *oldW = k->weight->get().getDefiningOp();
  k->weight->set(newW);

  // One bias add with the folded shift, named as the last folded op.
  Value out = k->result;
  auto outType = cast<RankedTensorType>(out.getType());
  b.setInsertionPoint(last);
  Location loc = last.getLoc();
  Value result = out;
  if (llvm::any_of(total.shift, [](double s) { return s != 0.0; })) {
    SmallVector<float> shift(total.shift.begin(), total.shift.end());
    auto biasType = RankedTensorType::get({c}, b.getF32Type());
    Value bias = arith::ConstantOp::create(
        b, k->op.getLoc(),
        DenseElementsAttr::get(biasType, ArrayRef<float>(shift)));
    int64_t rank = outType.getRank();
    MLIRContext *ctx = b.getContext();
    AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
    AffineMap ch = AffineMap::get(rank, 0, getAffineDimExpr(1, ctx));
    Value init = tensor::EmptyOp::create(b, loc, outType.getShape(),
                                         outType.getElementType());
    result = linalg::GenericOp::create(
                 b, loc, TypeRange{outType}, ValueRange{out, bias},
                 ValueRange{init}, SmallVector<AffineMap>{id, ch, id},
                 SmallVector<utils::IteratorType>(
                     rank, utils::IteratorType::parallel),
                 [](OpBuilder &nb, Location l, ValueRange a) {
                   Value s = arith::AddFOp::create(nb, l, a[0], a[1]);
                   linalg::YieldOp::create(nb, l, s);
                 })
                 .getResult(0);
  } else {
    k->op->setLoc(loc);
  }
  last.getResult(0).replaceAllUsesWith(result);
  // Erase the chain from its end; each link's only user was the next one.
  SmallVector<Operation *> producers = {oldW};
  for (linalg::GenericOp op : chain) {
    for (Value v : op->getOperands())
      if (Operation *def = v.getDefiningOp();
          def && !llvm::is_contained(chain, def))
        producers.push_back(def);
    erased.insert(op);
    op.erase();
  }
  eraseDeadProducers(producers, erased);
  ++numFolded;
  numOpsRemoved += chain.size();
  return true;
}

void FoldBatchNormPass::runOnOperation() {
  SmallVector<linalg::GenericOp> candidates;
  getOperation()->walk([&](linalg::GenericOp g) { candidates.push_back(g); });
  // Fold from the last op of each chain (the walk is in program order): the
  // earlier links of a folded chain are erased and skipped.
  DenseSet<Operation *> erased;
  for (linalg::GenericOp g : llvm::reverse(candidates))
    if (!erased.contains(g))
      foldChain(g, erased);
}
