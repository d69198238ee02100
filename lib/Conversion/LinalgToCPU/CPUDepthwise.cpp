//===- CPUDepthwise.cpp - vectorized NCHW depthwise convolutions ----------===//
//
// qopt-cpu-depthwise: a depthwise convolution has no contraction over
// channels, so qopt-cpu-gemm leaves it and the loop lowering makes a scalar
// 7-deep loop nest of it (on MobileNet-style models, most of the run time).
// This pass rewrites the NCHW depthwise generic the ONNX importer makes (or
// a generalized linalg.depthwise_conv_2d_nchw_chw) into loops over
// (n, c, oh) and vectors of output columns: per kernel tap one vector read
// of an input row slice, one multiply by the broadcast weight and one add,
// in the generic's tap order and with its operations, so the results are
// bit-identical to the loop lowering.
//
//===----------------------------------------------------------------------===//

#include "qopt/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_CPUDEPTHWISE
#include "qopt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

/// A depthwise convolution out[n, c, oh, ow] += x[n, c, oh * SH + kh * DH,
/// ow * SW + kw * DW] * w[c, (0,) kh, kw], all sizes static.
struct Depthwise {
  bool int8 = false;
  bool weightHasGroup = false; // w is [C, 1, KH, KW] rather than [C, KH, KW]
  int64_t n = 0, c = 0, oh = 0, ow = 0, kh = 0, kw = 0;
  int64_t sh = 1, sw = 1, dh = 1, dw = 1;
};

struct CPUDepthwisePass
    : public qopt::impl::CPUDepthwiseBase<CPUDepthwisePass> {
  using CPUDepthwiseBase::CPUDepthwiseBase;
  void runOnOperation() override;
};

} // namespace

/// Matches the body `out + x * w` (f32) or `out + extsi(x) * extsi(w)`
/// (i8 -> i32), x and w the two inputs in either order. Returns whether it
/// is the integer form.
static std::optional<bool> matchBody(linalg::GenericOp op) {
  Block &body = op.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  if (yield.getNumOperands() != 1)
    return std::nullopt;
  Value out = body.getArgument(2);
  auto isInput = [&](Value v) {
    auto arg = dyn_cast<BlockArgument>(v);
    return arg && arg.getOwner() == &body && arg.getArgNumber() < 2;
  };
  auto other = [&](Operation *add) -> Value {
    if (add->getOperand(0) == out)
      return add->getOperand(1);
    if (add->getOperand(1) == out)
      return add->getOperand(0);
    return nullptr;
  };
  Operation *add = yield.getOperand(0).getDefiningOp();
  if (!add || add->getBlock() != &body)
    return std::nullopt;
  Type x = body.getArgument(0).getType(), w = body.getArgument(1).getType();
  if (isa<arith::AddFOp>(add) && body.getOperations().size() == 3) {
    Value product = other(add);
    auto mul = product ? product.getDefiningOp<arith::MulFOp>() : nullptr;
    if (!mul || !isInput(mul.getLhs()) || !isInput(mul.getRhs()) ||
        mul.getLhs() == mul.getRhs() || !x.isF32() || !w.isF32() ||
        !out.getType().isF32())
      return std::nullopt;
    return false;
  }
  if (isa<arith::AddIOp>(add) && body.getOperations().size() == 5) {
    Value product = other(add);
    auto mul = product ? product.getDefiningOp<arith::MulIOp>() : nullptr;
    if (!mul)
      return std::nullopt;
    auto lhs = mul.getLhs().getDefiningOp<arith::ExtSIOp>();
    auto rhs = mul.getRhs().getDefiningOp<arith::ExtSIOp>();
    if (!lhs || !rhs || !isInput(lhs.getIn()) || !isInput(rhs.getIn()) ||
        lhs.getIn() == rhs.getIn() || !x.isInteger(8) || !w.isInteger(8) ||
        !out.getType().isInteger(32))
      return std::nullopt;
    return true;
  }
  return std::nullopt;
}

/// The value of `expr` with dimension `dim` set to 1 (or none, for -1) and
/// every other dimension 0; nullopt when it does not fold to a constant.
static std::optional<int64_t> evaluateAt(AffineExpr expr, unsigned numDims,
                                         int dim) {
  MLIRContext *ctx = expr.getContext();
  SmallVector<AffineExpr> values;
  for (unsigned d = 0; d < numDims; ++d)
    values.push_back(getAffineConstantExpr(int(d) == dim ? 1 : 0, ctx));
  auto folded = dyn_cast<AffineConstantExpr>(expr.replaceDims(values));
  if (!folded)
    return std::nullopt;
  return folded.getValue();
}

/// Recognises the depthwise convolutions described in the pass description.
static std::optional<Depthwise> matchDepthwise(linalg::GenericOp op) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      op->getNumResults() != 1 || !op.hasPureTensorSemantics())
    return std::nullopt;
  for (Value v : op->getOperands())
    if (!cast<ShapedType>(v.getType()).hasStaticShape())
      return std::nullopt;
  std::optional<bool> int8 = matchBody(op);
  if (!int8)
    return std::nullopt;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  AffineMap actMap = maps[0], weightMap = maps[1], outMap = maps[2];
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  unsigned numLoops = op.getNumLoops();
  if (actMap.getNumResults() != 4 || outMap.getNumResults() != 4 ||
      (weightMap.getNumResults() != 3 && weightMap.getNumResults() != 4) ||
      !outMap.isProjectedPermutation() ||
      !weightMap.isProjectedPermutation(/*allowZeroInResults=*/false))
    return std::nullopt;
  auto dimOf = [](AffineMap map, unsigned i) {
    return cast<AffineDimExpr>(map.getResult(i)).getPosition();
  };
  unsigned n = dimOf(outMap, 0), c = dimOf(outMap, 1), oh = dimOf(outMap, 2),
           ow = dimOf(outMap, 3);
  Depthwise dw;
  dw.int8 = *int8;
  dw.weightHasGroup = weightMap.getNumResults() == 4;
  unsigned last = weightMap.getNumResults() - 1;
  unsigned kh = dimOf(weightMap, last - 1), kw = dimOf(weightMap, last);
  if (dimOf(weightMap, 0) != c)
    return std::nullopt;
  SmallVector<unsigned> reductions = {kh, kw};
  std::optional<unsigned> group;
  if (dw.weightHasGroup) {
    group = dimOf(weightMap, 1);
    if (ranges[*group] != 1)
      return std::nullopt; // a channel multiplier
    reductions.push_back(*group);
  }
  if (numLoops != 4 + reductions.size())
    return std::nullopt;
  for (unsigned d : {n, c, oh, ow})
    if (iterators[d] != utils::IteratorType::parallel)
      return std::nullopt;
  for (unsigned d : reductions)
    if (iterators[d] != utils::IteratorType::reduction)
      return std::nullopt;

  // The strides and dilations, read off the activation's spatial maps and
  // checked by rebuilding the whole map from them.
  MLIRContext *ctx = op.getContext();
  auto coefficient = [&](unsigned result, unsigned dim) {
    AffineExpr e = actMap.getResult(result);
    std::optional<int64_t> at = evaluateAt(e, numLoops, dim);
    std::optional<int64_t> base = evaluateAt(e, numLoops, -1);
    return at && base && *base == 0 ? *at : int64_t(0);
  };
  dw.sh = coefficient(2, oh);
  dw.dh = coefficient(2, kh);
  dw.sw = coefficient(3, ow);
  dw.dw = coefficient(3, kw);
  if (dw.sh < 1 || dw.dh < 1 || dw.sw < 1 || dw.dw < 1)
    return std::nullopt;
  auto d = [&](unsigned pos) { return getAffineDimExpr(pos, ctx); };
  AffineExpr channel = group ? d(c) + d(*group) : d(c);
  SmallVector<AffineExpr> expected = {d(n), channel,
                                      d(oh) * dw.sh + d(kh) * dw.dh,
                                      d(ow) * dw.sw + d(kw) * dw.dw};
  if (actMap != AffineMap::get(numLoops, 0, expected, ctx)) {
    // The importer's single-group form may also index the channel by c alone.
    expected[1] = d(c);
    if (actMap != AffineMap::get(numLoops, 0, expected, ctx))
      return std::nullopt;
  }
  dw.n = ranges[n];
  dw.c = ranges[c];
  dw.oh = ranges[oh];
  dw.ow = ranges[ow];
  dw.kh = ranges[kh];
  dw.kw = ranges[kw];
  // Every tap must be inside the input (the maps alone do not promise it).
  ArrayRef<int64_t> in =
      cast<ShapedType>(op.getDpsInputs()[0].getType()).getShape();
  if (in[0] != dw.n || in[1] != dw.c ||
      (dw.oh - 1) * dw.sh + (dw.kh - 1) * dw.dh >= in[2] ||
      (dw.ow - 1) * dw.sw + (dw.kw - 1) * dw.dw >= in[3])
    return std::nullopt;
  return dw;
}

namespace {

/// Emits the loop nest for one matched convolution.
class DepthwiseEmitter {
public:
  DepthwiseEmitter(OpBuilder &b, Location loc, const Depthwise &dw, Value act,
                   Value weight, int64_t width)
      : b(b), loc(loc), dw(dw), act(act), weight(weight), width(width) {
    accElement = dw.int8 ? Type(b.getI32Type()) : Type(b.getF32Type());
    inElement = dw.int8 ? Type(b.getI8Type()) : Type(b.getF32Type());
  }

  Value emit(Value init) {
    return forLoop(0, dw.n, 1, init, [&](Value n, Value cur) {
      return forLoop(0, dw.c, 1, cur, [&](Value c, Value cur) {
        // The channel's taps, read once per channel.
        SmallVector<Value> taps;
        for (int64_t i = 0; i < dw.kh; ++i)
          for (int64_t j = 0; j < dw.kw; ++j) {
            SmallVector<Value> idx = {c};
            if (dw.weightHasGroup)
              idx.push_back(index(0));
            idx.append({index(i), index(j)});
            Value tap = tensor::ExtractOp::create(b, loc, weight, idx);
            if (dw.int8)
              tap = arith::ExtSIOp::create(b, loc, accElement, tap);
            taps.push_back(tap);
          }
        return forLoop(0, dw.oh, 1, cur, [&](Value oh, Value cur) {
          int64_t full = dw.ow / width * width;
          if (full > 0)
            cur = forLoop(0, full, width, cur, [&](Value ow, Value cur) {
              return emitBlock(n, c, oh, ow, width, taps, cur);
            });
          if (full < dw.ow)
            cur = emitBlock(n, c, oh, index(full), dw.ow - full, taps, cur);
          return cur;
        });
      });
    });
  }

private:
  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value affine(Value x, int64_t scale, int64_t offset) {
    Value r = x;
    if (scale != 1)
      r = arith::MulIOp::create(b, loc, r, index(scale));
    if (offset != 0)
      r = arith::AddIOp::create(b, loc, r, index(offset));
    return r;
  }

  /// scf.for over [lb, ub) by `step` carrying one tensor.
  Value forLoop(int64_t lb, int64_t ub, int64_t step, Value iter,
                function_ref<Value(Value, Value)> bodyFn) {
    auto loop = scf::ForOp::create(
        b, loc, index(lb), index(ub), index(step), ValueRange{iter},
        [&](OpBuilder &nb, Location, Value iv, ValueRange args) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(nb.getInsertionBlock());
          Value next = bodyFn(iv, args[0]);
          scf::YieldOp::create(b, loc, next);
        });
    return loop.getResult(0);
  }

  /// `w` output columns from `ow`: the accumulator from the init, every tap
  /// in (kh, kw) order, the result written back.
  Value emitBlock(Value n, Value c, Value oh, Value ow, int64_t w,
                  ArrayRef<Value> taps, Value cur) {
    auto accType = VectorType::get({w}, accElement);
    Value accPad = arith::ConstantOp::create(b, loc, b.getZeroAttr(accElement));
    Value inPad = arith::ConstantOp::create(b, loc, b.getZeroAttr(inElement));
    Value acc = vector::TransferReadOp::create(b, loc, accType, cur,
                                               ValueRange{n, c, oh, ow}, accPad,
                                               ArrayRef<bool>{true});
    int64_t span = (w - 1) * dw.sw + 1;
    auto spanType = VectorType::get({span}, inElement);
    SmallVector<int64_t> lanes;
    for (int64_t l = 0; l < w; ++l)
      lanes.push_back(l * dw.sw);
    for (int64_t i = 0; i < dw.kh; ++i) {
      Value ih = affine(oh, dw.sh, i * dw.dh);
      for (int64_t j = 0; j < dw.kw; ++j) {
        Value iw = affine(ow, dw.sw, j * dw.dw);
        Value x = vector::TransferReadOp::create(b, loc, spanType, act,
                                                 ValueRange{n, c, ih, iw},
                                                 inPad, ArrayRef<bool>{true});
        if (dw.sw != 1)
          x = vector::ShuffleOp::create(b, loc, x, x, lanes);
        Value tap =
            vector::BroadcastOp::create(b, loc, accType, taps[i * dw.kw + j]);
        if (dw.int8) {
          x = arith::ExtSIOp::create(b, loc, accType, x);
          Value product = arith::MulIOp::create(b, loc, x, tap);
          acc = arith::AddIOp::create(b, loc, acc, product);
        } else {
          Value product = arith::MulFOp::create(b, loc, x, tap);
          acc = arith::AddFOp::create(b, loc, acc, product);
        }
      }
    }
    return vector::TransferWriteOp::create(
               b, loc, acc, cur, ValueRange{n, c, oh, ow}, ArrayRef<bool>{true})
        .getResult();
  }

  OpBuilder &b;
  Location loc;
  const Depthwise &dw;
  Value act, weight;
  int64_t width;
  Type accElement, inElement;
};

} // namespace

void CPUDepthwisePass::runOnOperation() {
  func::FuncOp func = getOperation();
  if (vectorWidth == 0) {
    func.emitError() << "qopt-cpu-depthwise: vector-width must be positive";
    return signalPassFailure();
  }
  // The named NCHW depthwise convolution takes the generic's path.
  SmallVector<linalg::DepthwiseConv2DNchwChwOp> named;
  func.walk([&](linalg::DepthwiseConv2DNchwChwOp op) { named.push_back(op); });
  IRRewriter rewriter(func.getContext());
  for (linalg::DepthwiseConv2DNchwChwOp op : named) {
    rewriter.setInsertionPoint(op);
    (void)linalg::generalizeNamedOp(rewriter, op);
  }
  SmallVector<std::pair<linalg::GenericOp, Depthwise>> matches;
  func.walk([&](linalg::GenericOp op) {
    if (std::optional<Depthwise> dw = matchDepthwise(op))
      matches.emplace_back(op, *dw);
  });
  for (auto &[op, dw] : matches) {
    rewriter.setInsertionPoint(op);
    Location loc = op.getLoc();
    // As in qopt-cpu-gemm: the vector writes must land in a tensor that is
    // the kernel's alone (a fill or linalg result with no other use), or
    // one-shot bufferization may allocate without copying the init.
    Value init = op.getDpsInits()[0];
    Operation *initDef = init.getDefiningOp();
    if (!initDef || !isa<linalg::LinalgOp>(initDef) || !init.hasOneUse())
      init = bufferization::AllocTensorOp::create(
          rewriter, loc, cast<RankedTensorType>(init.getType()), ValueRange{},
          /*copy=*/init);
    DepthwiseEmitter emitter(rewriter, loc, dw, op.getDpsInputs()[0],
                             op.getDpsInputs()[1], vectorWidth);
    rewriter.replaceOp(op, emitter.emit(init));
    ++numRewritten;
  }
}
