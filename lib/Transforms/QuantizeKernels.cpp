//===- QuantizeKernels.cpp - QDQ form to integer kernels --------*- C++ -*-===//
//
// qopt-quantize-kernels: rewrites QDQ form (docs/qdq-form.md) into the
// integer program that is deployed. This file holds the pass, its driver and
// the output side shared by every kernel: a `quant.qcast` of a kernel's float
// result (through ReLU/clamp ops) becomes `qopt.requantize` from the kernel's
// quantized integer result, and scale-keeping ops and concat move storage
// integers. Matmul/convolution kernels are in QuantizeKernelsContraction.cpp,
// elementwise and pooling kernels in QuantizeKernelsElementwise.cpp.
//
// The driver visits every op once, producers before consumers, and applies
// no folding: upstream's folder erases `quant.dcast(quant.qcast(x))` pairs,
// which are the float simulation's rounding steps, so a greedy driver with
// folders would silently change unmatched parts of the program.
//
//===----------------------------------------------------------------------===//

#include "QuantizeKernels.h"

#include "qopt/Dialect/QOpt/IR/QOptOps.h"
#include "qopt/Quant/QuantParams.h"
#include "qopt/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Rewrite/FrozenRewritePatternSet.h"
#include "mlir/Rewrite/PatternApplicator.h"
#include "llvm/ADT/DenseSet.h"

#include <cmath>

namespace mlir::qopt {
#define GEN_PASS_DEF_QUANTIZEKERNELS
#include "qopt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::kernels;

//===----------------------------------------------------------------------===//
// Clamps
//===----------------------------------------------------------------------===//

/// Narrows [lo, hi] by one max/min op whose other operand is the float
/// constant `bound`; fails for any other op.
static LogicalResult applyBound(Operation *op, double bound, double &lo,
                                double &hi) {
  if (isa<arith::MaximumFOp, arith::MaxNumFOp>(op)) {
    lo = std::max(lo, bound);
    return success();
  }
  if (isa<arith::MinimumFOp, arith::MinNumFOp>(op)) {
    hi = std::min(hi, bound);
    return success();
  }
  return failure();
}

/// If `op` clamps one float tensor to constants, narrows [lo, hi] to its
/// bounds and returns the clamped tensor. Recognised: a linalg op of one
/// input whose body is a chain of maximumf/maxnumf/minimumf/minnumf with
/// constants (ReLU is `maximumf(x, 0)`), and one such arith op on a tensor
/// and a splat constant. Any chain of max/min with constants is
/// clamp(x, max of the lower bounds, min of the upper bounds) when that
/// interval is not empty, which planOutput checks.
static Value matchClamp(Operation *op, double &lo, double &hi) {
  auto scalarConstant = [](Value v) -> std::optional<double> {
    FloatAttr attr;
    if (matchPattern(v, m_Constant(&attr)))
      return attr.getValueAsDouble();
    return std::nullopt;
  };

  if (isa<arith::MaximumFOp, arith::MaxNumFOp, arith::MinimumFOp,
          arith::MinNumFOp>(op)) {
    if (!isa<RankedTensorType>(op->getResult(0).getType()))
      return {};
    for (unsigned i : {0u, 1u}) {
      DenseElementsAttr splat;
      if (!matchPattern(op->getOperand(1 - i), m_Constant(&splat)) ||
          !splat.isSplat())
        continue;
      double bound = splat.getSplatValue<APFloat>().convertToDouble();
      if (succeeded(applyBound(op, bound, lo, hi)))
        return op->getOperand(i);
    }
    return {};
  }

  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  if (!linalgOp || !linalgOp.hasPureTensorSemantics() ||
      linalgOp.getNumDpsInputs() != 1 || linalgOp.getNumDpsInits() != 1 ||
      linalgOp.getNumParallelLoops() != linalgOp.getNumLoops() ||
      !llvm::all_of(linalgOp.getIndexingMapsArray(),
                    [](AffineMap map) { return map.isIdentity(); }))
    return {};
  Value input = linalgOp.getDpsInputOperand(0)->get();
  if (input.getType() != op->getResult(0).getType())
    return {};
  Block *body = linalgOp.getBlock();
  Value value = body->getTerminator()->getOperand(0);
  double newLo = lo, newHi = hi;
  while (value != body->getArgument(0)) {
    Operation *def = value.getDefiningOp();
    if (!def || def->getBlock() != body || def->getNumOperands() != 2)
      return {};
    unsigned varying = scalarConstant(def->getOperand(1)) ? 0 : 1;
    std::optional<double> bound = scalarConstant(def->getOperand(1 - varying));
    if (!bound || failed(applyBound(def, *bound, newLo, newHi)))
      return {};
    value = def->getOperand(varying);
  }
  // Only the chain (and constants) may live in the body.
  for (Operation &nested : body->without_terminator())
    if (!isa<arith::MaximumFOp, arith::MaxNumFOp, arith::MinimumFOp,
             arith::MinNumFOp, arith::ConstantOp>(nested))
      return {};
  lo = newLo;
  hi = newHi;
  return input;
}

//===----------------------------------------------------------------------===//
// The output side
//===----------------------------------------------------------------------===//

FailureOr<OutputPlan> kernels::planOutput(quant::QuantizeCastOp op) {
  auto outputType = dyn_cast<RankedTensorType>(op.getType());
  if (!outputType || !UniformParams::get(outputType))
    return failure();
  OutputPlan plan;
  plan.outputType = plan.requantType = outputType;
  plan.core = op.getInput();
  double lo = -INFINITY, hi = INFINITY;
  while (Operation *def = plan.core.getDefiningOp()) {
    Value input = matchClamp(def, lo, hi);
    if (!input)
      break;
    plan.core = input;
    plan.hasClamp = true;
  }
  if (!plan.hasClamp)
    return plan;
  if (!(lo <= hi))
    return failure();

  // qcast(clamp(x, lo, hi)) == clamp(qcast(x), q(lo), q(hi)) because
  // quantization is monotonic. The bounds are quantized as the qcast
  // quantizes an f32 value (quantizeF32); 0.0 maps exactly to the zero point.
  auto uniform =
      dyn_cast<quant::UniformQuantizedType>(outputType.getElementType());
  if (!uniform)
    return failure();
  int64_t qmin = uniform.getStorageTypeMin(),
          qmax = uniform.getStorageTypeMax();
  int64_t zp = uniform.getZeroPoint();
  auto scale = static_cast<float>(uniform.getScale());
  int64_t qlo = quantizeF32(static_cast<float>(lo), scale, zp, qmin, qmax);
  int64_t qhi = quantizeF32(static_cast<float>(hi), scale, zp, qmin, qmax);
  if (qlo <= qmin && qhi >= qmax)
    return plan; // saturation implies the clamp
  // A narrowed type must keep its zero point inside its storage range
  // (qopt.requantize checks it); clamps that exclude 0.0 stay float.
  if (zp < qlo || zp > qhi)
    return failure();
  plan.requantType = outputType.clone(quant::UniformQuantizedType::get(
      uniform.getFlags(), uniform.getStorageType(), uniform.getExpressedType(),
      uniform.getScale(), zp, qlo, qhi));
  return plan;
}

Value kernels::buildOutput(OpBuilder &builder, Location loc, Value quantized,
                           const OutputPlan &plan) {
  Value value = quantized;
  if (value.getType() != plan.requantType)
    value = RequantizeOp::create(builder, loc, plan.requantType, value);
  if (plan.requantType != plan.outputType) {
    // Same parameters, wider storage bounds: reinterpret the integers.
    Value ints = quant::StorageCastOp::create(
        builder, loc, quant::QuantizedType::castToStorageType(plan.requantType),
        value);
    value = quant::StorageCastOp::create(builder, loc, plan.outputType, ints);
  }
  return value;
}

LogicalResult
KernelOutputPattern::matchAndRewrite(quant::QuantizeCastOp op,
                                     PatternRewriter &rewriter) const {
  FailureOr<OutputPlan> plan = planOutput(op);
  if (failed(plan))
    return failure();
  FailureOr<Value> quantized = rewriteCore(*plan, rewriter);
  if (failed(quantized))
    return failure();
  Value result = buildOutput(rewriter, op.getLoc(), *quantized, *plan);
  Value input = op.getInput();
  rewriter.replaceOp(op, result);
  eraseDeadProducers(rewriter, input);
  return success();
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

namespace {

/// An integer result dequantized for a float consumer, then quantized again
/// (through a clamp, or from an i32 accumulator) is one requantization:
///   %d = quant.dcast %acc : tensor<4x!quant.uniform<i32:f32, 1.0e-3>> to ..
///   %q = quant.qcast %d : tensor<4xf32> to tensor<4x!quant.uniform<i8:...>>
///   -> %q = qopt.requantize %acc : ... to tensor<4x!quant.uniform<i8:...>>
/// A plain pair between narrower types is left to qopt-fold-requant.
struct RequantizeDequantized : KernelOutputPattern {
  using KernelOutputPattern::KernelOutputPattern;

  FailureOr<Value> rewriteCore(const OutputPlan &plan,
                               PatternRewriter &) const override {
    auto dcast = plan.core.getDefiningOp<quant::DequantizeCastOp>();
    if (!dcast)
      return failure();
    std::optional<UniformParams> params =
        UniformParams::get(dcast.getInput().getType());
    if (!params || (!plan.hasClamp && params->storageBits() != 32))
      return failure();
    return dcast.getInput();
  }
};

/// Ops that move values without changing them work on storage integers:
///   %d = quant.dcast %x : tensor<1x8x!quant.uniform<i8:f32, 0.1:3>> to ..
///   %r = tensor.collapse_shape %d [[0, 1]] : ... into tensor<8xf32>
///   %q = quant.qcast %r : tensor<8xf32> to tensor<8x!quant.uniform<i8:...>>
///   -> %i = tensor.collapse_shape (quant.scast %x) : tensor<1x8xi8> into ..
///      %q = quant.scast %i : tensor<8xi8> to tensor<8x!quant.uniform<i8:...>>
/// Zero padding pads with the zero point. Per-tensor parameters only (a
/// reshape would move a per-axis dimension).
struct ScaleKeepingToStorage : KernelOutputPattern {
  using KernelOutputPattern::KernelOutputPattern;

  FailureOr<Value> rewriteCore(const OutputPlan &plan,
                               PatternRewriter &rewriter) const override {
    Operation *op = plan.core.getDefiningOp();
    if (!op || op->getNumResults() != 1 ||
        !isa<tensor::ReshapeOp, tensor::CollapseShapeOp, tensor::ExpandShapeOp,
             tensor::ExtractSliceOp, linalg::TransposeOp, tensor::PadOp>(op))
      return failure();
    Value source = op->getOperand(0);
    auto dcast = source.getDefiningOp<quant::DequantizeCastOp>();
    if (!dcast)
      return failure();
    auto qtype = dyn_cast<quant::UniformQuantizedType>(
        getElementTypeOrSelf(dcast.getInput().getType()));
    if (!qtype)
      return failure();
    if (auto pad = dyn_cast<tensor::PadOp>(op)) {
      Value padValue = pad.getConstantPaddingValue();
      if (!padValue || !matchPattern(padValue, m_AnyZeroFloat()))
        return failure();
    }
    auto transpose = dyn_cast<linalg::TransposeOp>(op);
    if (transpose && !transpose.hasPureTensorSemantics())
      return failure();

    Location loc = op->getLoc();
    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    Type storage = qtype.getStorageType();
    Value ints = getStorage(rewriter, loc, dcast.getInput());
    Value moved;
    if (transpose) {
      Value init = createEmptyLike(rewriter, loc, transpose.getInit(), storage);
      moved = linalg::TransposeOp::create(rewriter, loc, ints, init,
                                          transpose.getPermutation())
                  .getResult()[0];
    } else {
      IRMapping mapping;
      mapping.map(source, ints);
      Operation *clone = rewriter.clone(*op, mapping);
      clone->getResult(0).setType(resultType.clone(storage));
      if (auto pad = dyn_cast<tensor::PadOp>(clone)) {
        Operation *yield = pad.getBody()->getTerminator();
        OpBuilder::InsertionGuard guard(rewriter);
        rewriter.setInsertionPoint(yield);
        Value zp = arith::ConstantOp::create(
            rewriter, loc, getStorageAttr(storage, qtype.getZeroPoint()));
        rewriter.modifyOpInPlace(yield, [&] { yield->setOperand(0, zp); });
      }
      moved = clone->getResult(0);
    }
    return quant::StorageCastOp::create(rewriter, loc, resultType.clone(qtype),
                                        moved)
        .getResult();
  }
};

/// Concat of dequantized tensors concatenates storage integers of the
/// output type; an input of another type is requantized to it first:
///   %c = tensor.concat dim(1) (quant.dcast %a), (quant.dcast %b) ...
///   %q = quant.qcast %c : ... to tensor<1x8x!quant.uniform<i8:f32, 0.1:3>>
///   -> %i = tensor.concat dim(1) (quant.scast %a), (quant.scast %b) ...
///      %q = quant.scast %i : tensor<1x8xi8> to tensor<1x8x!quant.uniform<..>>
struct ConcatToStorage : KernelOutputPattern {
  using KernelOutputPattern::KernelOutputPattern;

  FailureOr<Value> rewriteCore(const OutputPlan &plan,
                               PatternRewriter &rewriter) const override {
    auto concat = plan.core.getDefiningOp<tensor::ConcatOp>();
    auto outType =
        dyn_cast<quant::UniformQuantizedType>(plan.outputType.getElementType());
    if (!concat || !outType)
      return failure();
    SmallVector<Value> quantized;
    for (Value input : concat.getInputs()) {
      auto dcast = input.getDefiningOp<quant::DequantizeCastOp>();
      if (!dcast)
        return failure();
      auto qtype = dyn_cast<quant::UniformQuantizedType>(
          getElementTypeOrSelf(dcast.getInput().getType()));
      if (!qtype || qtype.getExpressedType() != outType.getExpressedType())
        return failure();
      quantized.push_back(dcast.getInput());
    }

    Location loc = concat.getLoc();
    IRMapping mapping;
    for (auto [input, q] : llvm::zip(concat.getInputs(), quantized)) {
      auto type = cast<RankedTensorType>(q.getType());
      if (type.getElementType() != outType)
        q = RequantizeOp::create(rewriter, loc, type.clone(outType), q);
      mapping.map(input, getStorage(rewriter, loc, q));
    }
    Operation *clone = rewriter.clone(*concat, mapping);
    clone->getResult(0).setType(
        concat.getResultType().clone(outType.getStorageType()));
    return quant::StorageCastOp::create(rewriter, loc,
                                        concat.getResultType().clone(outType),
                                        clone->getResult(0))
        .getResult();
  }
};

/// Records erased ops so that the driver never visits a dangling pointer.
struct ErasedOps : RewriterBase::Listener {
  void notifyOperationErased(Operation *op) override { erased.insert(op); }
  llvm::DenseSet<Operation *> erased;
};

class QuantizeKernelsPass
    : public qopt::impl::QuantizeKernelsBase<QuantizeKernelsPass> {
public:
  using Base::Base;
  void runOnOperation() override;
};

} // namespace

/// Zero padding of a dequantized tensor is padding of its integers with the
/// zero point (which dequantizes to exactly 0.0), so the padding moves to
/// the integer side and the convolution reads a dcast again. Importers (ONNX
/// Conv pads) write it in float:
///   %d = quant.dcast %q : tensor<..x!quant.uniform<u8:f32, s:z>>
///   %p = tensor.pad %d low[..] high[..] { tensor.yield %cst0.0 }
///   -> %p = quant.dcast (quant.scast (tensor.pad (quant.scast %q) { z }))
/// Per-tensor types only: per-axis zero points would need one pad value per
/// channel.
static void movePaddingToIntegers(Operation *root) {
  SmallVector<tensor::PadOp> pads;
  root->walk([&](tensor::PadOp pad) { pads.push_back(pad); });
  for (tensor::PadOp pad : pads) {
    auto dcast = pad.getSource().getDefiningOp<quant::DequantizeCastOp>();
    // A pad that is itself requantized is a scale-keeping op
    // (ScaleKeepingToStorage handles it).
    if (!dcast || (pad->hasOneUse() &&
                   isa<quant::QuantizeCastOp>(*pad->getUsers().begin())))
      continue;
    auto qtype = dyn_cast<quant::UniformQuantizedType>(
        getElementTypeOrSelf(dcast.getInput()));
    Value padValue = pad.getConstantPaddingValue();
    FloatAttr zero;
    if (!qtype || !padValue || !matchPattern(padValue, m_Constant(&zero)) ||
        !zero.getValue().isZero())
      continue;
    OpBuilder b(pad);
    Location loc = pad.getLoc();
    auto sourceType = cast<RankedTensorType>(dcast.getInput().getType());
    auto resultType = cast<RankedTensorType>(pad.getType());
    Type storage = b.getIntegerType(qtype.getStorageTypeIntegralWidth());
    Value ints = quant::StorageCastOp::create(b, loc, sourceType.clone(storage),
                                              dcast.getInput());
    Value zeroPoint = arith::ConstantOp::create(
        b, loc, b.getIntegerAttr(storage, qtype.getZeroPoint()));
    Value padded = tensor::PadOp::create(b, loc, resultType.clone(storage),
                                         ints, pad.getMixedLowPad(),
                                         pad.getMixedHighPad(), zeroPoint);
    Value quantized =
        quant::StorageCastOp::create(b, loc, resultType.clone(qtype), padded);
    Value dequantized =
        quant::DequantizeCastOp::create(b, loc, resultType, quantized);
    pad.getResult().replaceAllUsesWith(dequantized);
    pad.erase();
  }
}

/// A reshape that only adds unit dimensions to a dequantized per-axis
/// tensor (an ONNX bias [C] expanded to [1, C, 1, 1]) is the same reshape of
/// its integers, with the quantized axis moved to where C lands:
///   %e = tensor.expand_shape (quant.dcast %b :
///   tensor<6x!quant.uniform<i32:f32:0, ..>>)
///   -> quant.dcast (quant.scast (tensor.expand_shape (quant.scast %b)) : ..:1,
///   ..>)
static void moveExpandToIntegers(Operation *root) {
  SmallVector<tensor::ExpandShapeOp> expands;
  root->walk([&](tensor::ExpandShapeOp op) { expands.push_back(op); });
  for (tensor::ExpandShapeOp expand : expands) {
    auto dcast = expand.getSrc().getDefiningOp<quant::DequantizeCastOp>();
    if (!dcast)
      continue;
    auto srcType = cast<RankedTensorType>(dcast.getInput().getType());
    auto perAxis =
        dyn_cast<quant::UniformQuantizedPerAxisType>(srcType.getElementType());
    auto resultType = cast<RankedTensorType>(expand.getType());
    if (!perAxis || !resultType.hasStaticShape() || srcType.getRank() != 1)
      continue;
    // The one non-unit result dimension holds the channel.
    std::optional<int64_t> axis;
    for (int64_t d = 0; d < resultType.getRank(); ++d)
      if (resultType.getDimSize(d) != 1)
        axis = axis ? -1 : d;
    if (!axis || *axis < 0 ||
        resultType.getDimSize(*axis) != srcType.getDimSize(0))
      continue;
    OpBuilder b(expand);
    Location loc = expand.getLoc();
    Type storage = b.getIntegerType(perAxis.getStorageTypeIntegralWidth());
    auto newType = quant::UniformQuantizedPerAxisType::get(
        perAxis.getFlags(), storage, perAxis.getExpressedType(),
        perAxis.getScales(), perAxis.getZeroPoints(), *axis,
        perAxis.getStorageTypeMin(), perAxis.getStorageTypeMax());
    Value ints = quant::StorageCastOp::create(b, loc, srcType.clone(storage),
                                              dcast.getInput());
    Value expanded =
        tensor::ExpandShapeOp::create(b, loc, resultType.clone(storage), ints,
                                      expand.getReassociationIndices());
    Value quantized = quant::StorageCastOp::create(
        b, loc, resultType.clone(newType), expanded);
    Value dequantized =
        quant::DequantizeCastOp::create(b, loc, resultType, quantized);
    expand.getResult().replaceAllUsesWith(dequantized);
    expand.erase();
  }
}

void QuantizeKernelsPass::runOnOperation() {
  MLIRContext *ctx = &getContext();
  movePaddingToIntegers(getOperation());
  moveExpandToIntegers(getOperation());
  RewritePatternSet patterns(ctx);
  populateContractionPatterns(patterns);
  populateElementwisePatterns(patterns);
  patterns.add<RequantizeDequantized, ScaleKeepingToStorage, ConcatToStorage>(
      ctx);
  FrozenRewritePatternSet frozen(std::move(patterns));
  PatternApplicator applicator(frozen);
  applicator.applyDefaultCostModel();

  // One visit per op in program order (post-order: a kernel's producers are
  // rewritten before the qcast that ends it). Ops created by a rewrite are
  // not visited; erased ones are skipped.
  SmallVector<Operation *> ops;
  getOperation()->walk([&](Operation *op) { ops.push_back(op); });
  ErasedOps listener;
  PatternRewriter rewriter(ctx);
  rewriter.setListener(&listener);
  for (Operation *op : ops) {
    if (listener.erased.contains(op))
      continue;
    rewriter.setInsertionPoint(op);
    if (succeeded(applicator.matchAndRewrite(op, rewriter)))
      ++numKernels;
  }
}
