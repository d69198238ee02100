//===- CPUGemm.cpp - contractions to packed-weight GEMM kernels -----------===//
//
// qopt-cpu-gemm: rewrites i8 x i8 -> i32 and f32 contractions whose weight
// operand is a constant (matmul, convolution as an implicit GEMM) into a
// register-tiled GEMM on tensors: weights packed at compile time in the
// layout one vector load consumes, i8 activations biased to u8 with the
// compensation taken out of the accumulator init, and a loop nest of scf.for
// over vector ops whose i8 step is the u8 x s8 dot product that
// qopt-x86-vnni turns into vpdpbusd. On aarch64 with dotprod or i8mm the
// step stays signed x signed (no bias) and takes the shape of NEON's sdot
// (four K per lane) or smmla (a 2x8 by 8x2 block, rows in pairs), which
// qopt-arm-neon selects. Everything stays exact integer arithmetic; what
// the pass does not recognise it leaves to the generic lowering.
//
//===----------------------------------------------------------------------===//

#include "CPUGemmPlan.h"
#include "CPUTarget.h"
#include "qopt/Conversion/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_CPUGEMM
#include "qopt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

/// i8 groups of four along K feed one vpdpbusd lane; f32 goes one at a time.
enum class GemmKind { Int8, F32 };

/// The kernel's inner step. All share the loop nest and the packed layout
/// `[N/16][K/G][16*G]` (column-major groups of G K values per column):
/// - F32Fma: G = 1, a broadcast activation times 16 weights (vector.fma);
/// - U8S8Dot4: G = 4, activations biased by +128 to u8, the u8 x s8 dot
///   product of vpdpbusd (and of the generic lowering on any target);
/// - S8Dot4: G = 4, signed x signed, the shape of NEON sdot (aarch64
///   +dotprod): no bias and no compensation;
/// - S8Mmla: G = 8, signed x signed over pairs of rows, each 2x2 block of
///   C one vector<4xi32> in smmla's layout (aarch64 +i8mm). A column pair
///   of a packed row is then exactly smmla's 8x2 operand.
enum class Step { F32Fma, U8S8Dot4, S8Dot4, S8Mmla };

static int64_t groupOf(Step step) {
  switch (step) {
  case Step::F32Fma:
    return 1;
  case Step::U8S8Dot4:
  case Step::S8Dot4:
    return 4;
  case Step::S8Mmla:
    return 8;
  }
  llvm_unreachable("unknown step");
}

/// A contraction seen as C[M, N] += A[M, K] * W[K, N].
struct Contraction {
  GemmKind kind;
  unsigned actIndex = 0, weightIndex = 1;
  ElementsAttr weights;
  SmallVector<unsigned> mDims, nDims, kDims;
  SmallVector<int64_t> loopSizes;
};

/// Matches the body `out + ext(x) * ext(y)` (i8 -> i32) or `out + x * y`
/// (f32), with x and y the two input block arguments in either order.
static std::optional<GemmKind> matchBody(linalg::LinalgOp op) {
  Block &body = *op.getBlock();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  if (yield.getNumOperands() != 1)
    return std::nullopt;
  Value out = body.getArgument(2);
  auto isInputArg = [&](Value v) {
    auto arg = dyn_cast<BlockArgument>(v);
    return arg && arg.getOwner() == &body && arg.getArgNumber() < 2;
  };
  auto otherThanOut = [&](Operation *add) -> Value {
    if (add->getOperand(0) == out)
      return add->getOperand(1);
    if (add->getOperand(1) == out)
      return add->getOperand(0);
    return nullptr;
  };
  Operation *add = yield.getOperand(0).getDefiningOp();
  if (!add)
    return std::nullopt;
  if (isa<arith::AddFOp>(add) && body.getOperations().size() == 3) {
    Value product = otherThanOut(add);
    auto mul = product ? product.getDefiningOp<arith::MulFOp>() : nullptr;
    if (!mul || !out.getType().isF32() || !isInputArg(mul.getLhs()) ||
        !isInputArg(mul.getRhs()) || mul.getLhs() == mul.getRhs() ||
        !mul.getLhs().getType().isF32() || !mul.getRhs().getType().isF32())
      return std::nullopt;
    return GemmKind::F32;
  }
  // bf16 or f16 inputs accumulated in f32, `out + extf(x) * extf(y)`: the
  // f32 kernel on the widened values (exact widening; each product of two
  // 11-bit significands is exact in f32).
  if (isa<arith::AddFOp>(add) && body.getOperations().size() == 5) {
    Value product = otherThanOut(add);
    auto mul = product ? product.getDefiningOp<arith::MulFOp>() : nullptr;
    if (!mul || !out.getType().isF32())
      return std::nullopt;
    auto lhs = mul.getLhs().getDefiningOp<arith::ExtFOp>();
    auto rhs = mul.getRhs().getDefiningOp<arith::ExtFOp>();
    auto narrow = [](Value v) {
      return v.getType().isBF16() || v.getType().isF16();
    };
    if (!lhs || !rhs || !isInputArg(lhs.getIn()) || !isInputArg(rhs.getIn()) ||
        lhs.getIn() == rhs.getIn() || !narrow(lhs.getIn()) ||
        !narrow(rhs.getIn()) || !mul.getType().isF32())
      return std::nullopt;
    return GemmKind::F32;
  }
  if (isa<arith::AddIOp>(add) && body.getOperations().size() == 5) {
    Value product = otherThanOut(add);
    auto mul = product ? product.getDefiningOp<arith::MulIOp>() : nullptr;
    if (!mul || !out.getType().isInteger(32))
      return std::nullopt;
    auto lhs = mul.getLhs().getDefiningOp<arith::ExtSIOp>();
    auto rhs = mul.getRhs().getDefiningOp<arith::ExtSIOp>();
    if (!lhs || !rhs || !isInputArg(lhs.getIn()) || !isInputArg(rhs.getIn()) ||
        lhs.getIn() == rhs.getIn() || !lhs.getIn().getType().isInteger(8) ||
        !rhs.getIn().getType().isInteger(8))
      return std::nullopt;
    return GemmKind::Int8;
  }
  return std::nullopt;
}

/// Whether the pass can read the weight constant's values at compile time:
/// a dense attribute, or a resource blob of f32 (i8) values that is present
/// (ONNX import keeps large initializers as `dense_resource`; a module
/// printed with elided resources has none to pack).
static bool isReadableWeight(ElementsAttr weights, GemmKind kind) {
  if (isa<DenseElementsAttr>(weights))
    return true;
  if (kind == GemmKind::F32)
    if (auto resource = dyn_cast<DenseF32ResourceElementsAttr>(weights))
      return resource.tryGetAsArrayRef().has_value();
  if (kind == GemmKind::Int8)
    if (auto resource = dyn_cast<DenseI8ResourceElementsAttr>(weights))
      return resource.tryGetAsArrayRef().has_value();
  return false;
}

/// Recognises a contraction with a constant weight in which every parallel
/// loop belongs to exactly one input and every reduction loop indexes the
/// weight directly.
static std::optional<Contraction> matchContraction(linalg::LinalgOp op) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      op->getNumResults() != 1 || !op.hasPureTensorSemantics())
    return std::nullopt;
  std::optional<GemmKind> kind = matchBody(op);
  if (!kind)
    return std::nullopt;
  Contraction c;
  c.kind = *kind;
  ElementsAttr weights;
  if (matchPattern(op.getDpsInputs()[1], m_Constant(&weights))) {
    c.actIndex = 0;
    c.weightIndex = 1;
  } else if (matchPattern(op.getDpsInputs()[0], m_Constant(&weights))) {
    c.actIndex = 1;
    c.weightIndex = 0;
  } else {
    return std::nullopt;
  }
  if (!isReadableWeight(weights, c.kind))
    return std::nullopt;
  c.weights = weights;
  for (Value v : op->getOperands())
    if (!cast<ShapedType>(v.getType()).hasStaticShape())
      return std::nullopt;
  c.loopSizes = op.getStaticLoopRanges();

  AffineMap outMap = op.getIndexingMapMatchingResult(op->getResult(0));
  AffineMap actMap = op.getIndexingMapsArray()[c.actIndex];
  AffineMap weightMap = op.getIndexingMapsArray()[c.weightIndex];
  if (!outMap.isProjectedPermutation() ||
      !weightMap.isProjectedPermutation(/*allowZeroInResults=*/false))
    return std::nullopt;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  unsigned numParallel = llvm::count(iterators, utils::IteratorType::parallel);
  if (outMap.getNumResults() != numParallel)
    return std::nullopt;
  for (unsigned d = 0; d < op.getNumLoops(); ++d) {
    bool inWeight = weightMap.isFunctionOfDim(d);
    bool inAct = actMap.isFunctionOfDim(d);
    if (iterators[d] == utils::IteratorType::reduction) {
      if (!inWeight)
        return std::nullopt;
      c.kDims.push_back(d);
      continue;
    }
    // A parallel loop must be an output dimension in both senses.
    if (!outMap.isFunctionOfDim(d) || inWeight == inAct)
      return std::nullopt;
  }
  // M and N in the output's order, K in the weight's order.
  for (AffineExpr e : outMap.getResults()) {
    unsigned d = cast<AffineDimExpr>(e).getPosition();
    (weightMap.isFunctionOfDim(d) ? c.nDims : c.mDims).push_back(d);
  }
  if (c.mDims.empty() || c.nDims.empty() || c.kDims.empty())
    return std::nullopt;
  SmallVector<unsigned> kOrdered;
  for (AffineExpr e : weightMap.getResults()) {
    unsigned d = cast<AffineDimExpr>(e).getPosition();
    if (iterators[d] == utils::IteratorType::reduction)
      kOrdered.push_back(d);
  }
  c.kDims = kOrdered;
  return c;
}

/// The source index that a copy's input map reads for output `index`, as a
/// row-major linear offset into a tensor of `shape`; nullopt when the map
/// reads outside it.
static std::optional<int64_t>
linearSource(AffineMap map, ArrayRef<int64_t> index, ArrayRef<int64_t> shape) {
  SmallVector<int64_t> at = map.compose(index);
  int64_t linear = 0;
  for (auto [i, pos] : llvm::enumerate(at)) {
    if (pos < 0 || pos >= shape[i])
      return std::nullopt;
    linear = linear * shape[i] + pos;
  }
  return linear;
}

/// Evaluates a copy of a constant through an indexing map that only moves
/// elements, the weight the ONNX importer gives a ConvTranspose (the
/// initializer transposed to [out, in / group, k...] and flipped):
///   %w = linalg.generic {maps = [(o, i, h, w) -> (i, o, 1 - h, 1 - w),
///                                identity]} ins(%cst) outs(%e) {yield %in}
/// becomes `arith.constant` of the moved values when a contraction reads
/// it, so that contraction takes the packed-weight kernel instead of the
/// generic lowering's scalar loops. f32 and i8 values; the data is only
/// moved, never changed.
static LogicalResult foldWeightCopy(IRRewriter &rewriter,
                                    linalg::GenericOp copy) {
  if (copy.getNumDpsInputs() != 1 || copy.getNumDpsInits() != 1 ||
      copy->getNumResults() != 1 || copy.getNumReductionLoops() != 0 ||
      !copy.hasPureTensorSemantics())
    return failure();
  Block &body = copy.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  if (body.getOperations().size() != 1 ||
      yield.getOperand(0) != body.getArgument(0))
    return failure();
  AffineMap srcMap = copy.getIndexingMapsArray()[0];
  if (srcMap.getNumSymbols() != 0 ||
      !copy.getIndexingMapsArray()[1].isIdentity())
    return failure();
  auto outType = dyn_cast<RankedTensorType>(copy->getResult(0).getType());
  ElementsAttr source;
  if (!outType || !outType.hasStaticShape() ||
      !matchPattern(copy.getDpsInputs()[0], m_Constant(&source)))
    return failure();
  auto srcType = dyn_cast<RankedTensorType>(source.getType());
  if (!srcType || !srcType.hasStaticShape() ||
      srcType.getElementType() != outType.getElementType())
    return failure();
  // Only a copy that a contraction reads: a copy anywhere else gains
  // nothing from being a constant.
  bool readByContraction = llvm::any_of(copy->getUsers(), [](Operation *user) {
    auto linalgOp = dyn_cast<linalg::LinalgOp>(user);
    return linalgOp && linalgOp.getNumReductionLoops() > 0;
  });
  if (!readByContraction)
    return failure();

  // Output indices in row-major order mapped to source offsets.
  SmallVector<int64_t> offsets;
  offsets.reserve(outType.getNumElements());
  SmallVector<int64_t> index(outType.getRank(), 0);
  for (int64_t n = 0; n < outType.getNumElements(); ++n) {
    std::optional<int64_t> at = linearSource(srcMap, index, srcType.getShape());
    if (!at)
      return failure();
    offsets.push_back(*at);
    for (int64_t d = outType.getRank() - 1; d >= 0; --d) {
      if (++index[d] < outType.getDimSize(d))
        break;
      index[d] = 0;
    }
  }
  DenseElementsAttr folded;
  Type elt = outType.getElementType();
  if (elt.isF32()) {
    SmallVector<float> values;
    if (auto resource = dyn_cast<DenseF32ResourceElementsAttr>(source)) {
      std::optional<ArrayRef<float>> data = resource.tryGetAsArrayRef();
      if (!data)
        return failure();
      values.assign(data->begin(), data->end());
    } else if (auto dense = dyn_cast<DenseElementsAttr>(source)) {
      for (const APFloat &v : dense.getValues<APFloat>())
        values.push_back(v.convertToFloat());
    } else {
      return failure();
    }
    SmallVector<float> moved;
    moved.reserve(offsets.size());
    for (int64_t o : offsets)
      moved.push_back(values[o]);
    folded = DenseElementsAttr::get(outType, ArrayRef<float>(moved));
  } else if (elt.isInteger(8)) {
    SmallVector<int8_t> values;
    if (auto resource = dyn_cast<DenseI8ResourceElementsAttr>(source)) {
      std::optional<ArrayRef<int8_t>> data = resource.tryGetAsArrayRef();
      if (!data)
        return failure();
      values.assign(data->begin(), data->end());
    } else if (auto dense = dyn_cast<DenseElementsAttr>(source)) {
      for (const APInt &v : dense.getValues<APInt>())
        values.push_back(static_cast<int8_t>(v.getSExtValue()));
    } else {
      return failure();
    }
    SmallVector<int8_t> moved;
    moved.reserve(offsets.size());
    for (int64_t o : offsets)
      moved.push_back(values[o]);
    folded = DenseElementsAttr::get(outType, ArrayRef<int8_t>(moved));
  } else {
    return failure();
  }
  rewriter.setInsertionPoint(copy);
  rewriter.replaceOpWithNewOp<arith::ConstantOp>(copy, folded);
  return success();
}

static int64_t product(ArrayRef<unsigned> dims, ArrayRef<int64_t> sizes) {
  int64_t p = 1;
  for (unsigned d : dims)
    p *= sizes[d];
  return p;
}

/// Offsets into the weight tensor contributed by each linear K index and
/// each linear N index (the map is a projected permutation, so they add).
static SmallVector<int64_t> weightOffsets(ArrayRef<unsigned> dims,
                                          ArrayRef<int64_t> loopSizes,
                                          AffineMap weightMap,
                                          ArrayRef<int64_t> weightShape) {
  SmallVector<int64_t> strides(weightShape.size(), 1);
  for (int i = static_cast<int>(weightShape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * weightShape[i + 1];
  DenseMap<unsigned, int64_t> strideOfDim;
  for (auto [i, e] : llvm::enumerate(weightMap.getResults()))
    strideOfDim[cast<AffineDimExpr>(e).getPosition()] = strides[i];
  int64_t count = product(dims, loopSizes);
  SmallVector<int64_t> offsets(count, 0);
  for (int64_t linear = 0; linear < count; ++linear) {
    int64_t rest = linear, offset = 0;
    for (unsigned d : llvm::reverse(dims)) {
      offset += (rest % loopSizes[d]) * strideOfDim[d];
      rest /= loopSizes[d];
    }
    offsets[linear] = offset;
  }
  return offsets;
}

/// Builds the packed weights and, for the u8 x s8 step, the compensation
/// constant.
struct PackedWeights {
  Value packed;       // tensor<NB x KG x 16*G x elt>
  Value compensation; // tensor<NB*16 x i32>, U8S8Dot4 only
};

static PackedWeights packWeights(OpBuilder &b, Location loc,
                                 const Contraction &c, AffineMap weightMap,
                                 int64_t numBlocksN, Step step) {
  int64_t group = groupOf(step);
  auto weightType = cast<RankedTensorType>(c.weights.getType());
  SmallVector<int64_t> kOff =
      weightOffsets(c.kDims, c.loopSizes, weightMap, weightType.getShape());
  SmallVector<int64_t> nOff =
      weightOffsets(c.nDims, c.loopSizes, weightMap, weightType.getShape());
  int64_t k = kOff.size(), n = nOff.size();
  int64_t kGroups = llvm::divideCeil(k, group);
  int64_t rowLen = 16 * group;
  SmallVector<int64_t> shape = {numBlocksN, kGroups, rowLen};
  int64_t total = numBlocksN * kGroups * rowLen;
  auto packedIndex = [&](int64_t kk, int64_t nn) {
    int64_t nb = nn / 16, j = nn % 16, kg = kk / group, g = kk % group;
    return (nb * kGroups + kg) * rowLen + j * group + g;
  };
  PackedWeights result;
  if (c.kind == GemmKind::F32) {
    // f32, or bf16/f16 weights widened here (exactly).
    SmallVector<float> source;
    source.reserve(c.weights.getNumElements());
    if (auto resource = dyn_cast<DenseF32ResourceElementsAttr>(c.weights))
      llvm::append_range(source, *resource.tryGetAsArrayRef());
    else
      for (const APFloat &v :
           cast<DenseElementsAttr>(c.weights).getValues<APFloat>())
        source.push_back(v.convertToFloat());
    SmallVector<float> packed(total, 0.0f);
    for (int64_t kk = 0; kk < k; ++kk)
      for (int64_t nn = 0; nn < n; ++nn)
        packed[packedIndex(kk, nn)] = source[kOff[kk] + nOff[nn]];
    auto type = RankedTensorType::get(shape, b.getF32Type());
    result.packed = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(type, ArrayRef<float>(packed)));
    return result;
  }
  SmallVector<int8_t> source;
  source.reserve(weightType.getNumElements());
  if (auto resource = dyn_cast<DenseI8ResourceElementsAttr>(c.weights))
    llvm::append_range(source, *resource.tryGetAsArrayRef());
  else
    for (const APInt &v : cast<DenseElementsAttr>(c.weights).getValues<APInt>())
      source.push_back(static_cast<int8_t>(v.getSExtValue()));
  SmallVector<int8_t> packed(total, 0);
  SmallVector<int32_t> compensation(numBlocksN * 16, 0);
  for (int64_t kk = 0; kk < k; ++kk)
    for (int64_t nn = 0; nn < n; ++nn) {
      int8_t w = source[kOff[kk] + nOff[nn]];
      packed[packedIndex(kk, nn)] = w;
      compensation[nn] += 128 * static_cast<int32_t>(w);
    }
  auto packedType = RankedTensorType::get(shape, b.getI8Type());
  result.packed = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(packedType, ArrayRef<int8_t>(packed)));
  if (step != Step::U8S8Dot4)
    return result;
  auto compType = RankedTensorType::get({numBlocksN * 16}, b.getI32Type());
  result.compensation = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(compType, ArrayRef<int32_t>(compensation)));
  return result;
}

/// Emits the register-tiled loop nest C[M, N] += A[M, K] * Wpacked.
class KernelEmitter {
public:
  KernelEmitter(OpBuilder &b, Location loc, Step step, Value a, PackedWeights w,
                int64_t m, int64_t n, int64_t k, int64_t tileM, int64_t tileN,
                bool aKMajor = false)
      : b(b), loc(loc), step(step), a(a), w(w), m(m), k(k), tileM(tileM),
        tileN(tileN), aKMajor(aKMajor) {
    group = groupOf(step);
    fullGroups = k / group;
    elementType =
        step == Step::F32Fma ? Type(b.getF32Type()) : Type(b.getI32Type());
    accType = VectorType::get({16}, elementType);
    numBlocksN = llvm::divideCeil(llvm::divideCeil(n, 16), tileN) * tileN;
    nInBounds = n % (16 * tileN) == 0;
  }

  Value emit(Value c) {
    Value c0 = index(0);
    Value cEnd = index(numBlocksN);
    auto outer = scf::ForOp::create(
        b, loc, c0, cEnd, index(tileN), ValueRange{c},
        [&](OpBuilder &nb, Location, Value nb0, ValueRange iter) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(nb.getInsertionBlock());
          int64_t fullM = (m / tileM) * tileM;
          Value cur = iter[0];
          if (fullM > 0)
            cur = emitRows(nb0, 0, fullM, tileM, cur);
          if (fullM < m) {
            // The M tail: one row at a time, or for smmla pairs of rows and
            // a last half-empty pair.
            int64_t rowStep = step == Step::S8Mmla ? 2 : 1;
            int64_t stepped = fullM + (m - fullM) / rowStep * rowStep;
            if (stepped > fullM)
              cur = emitRows(nb0, fullM, stepped, rowStep, cur);
            if (stepped < m)
              cur = emitRows(nb0, stepped, m, m - stepped, cur);
          }
          scf::YieldOp::create(b, loc, cur);
        });
    return outer.getResult(0);
  }

  int64_t getNumBlocksN() const { return numBlocksN; }

private:
  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, int64_t v) {
    return v == 0 ? x : arith::AddIOp::create(b, loc, x, index(v)).getResult();
  }
  Value mul(Value x, int64_t v) {
    return v == 1 ? x : arith::MulIOp::create(b, loc, x, index(v)).getResult();
  }
  Value shuffle(Value x, Value y, ArrayRef<int64_t> mask) {
    return vector::ShuffleOp::create(b, loc, x, y, mask);
  }

  /// Rows [lb, ub) in steps of `rows`, all tileN vectors of block nb0.
  Value emitRows(Value nb0, int64_t lb, int64_t ub, int64_t rows, Value c) {
    auto loop = scf::ForOp::create(
        b, loc, index(lb), index(ub), index(rows), ValueRange{c},
        [&](OpBuilder &nb, Location, Value m0, ValueRange iter) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(nb.getInsertionBlock());
          Value cur = iter[0];
          SmallVector<Value> columns;
          for (int64_t j = 0; j < tileN; ++j)
            columns.push_back(mul(add(nb0, j), 16));
          SmallVector<Value> accs = step == Step::S8Mmla
                                        ? loadPairAccs(cur, m0, rows, columns)
                                        : loadAccs(cur, m0, rows, columns);
          if (fullGroups > 0) {
            auto kLoop = scf::ForOp::create(
                b, loc, index(0), index(fullGroups), index(1), accs,
                [&](OpBuilder &kb, Location, Value kg, ValueRange kIter) {
                  OpBuilder::InsertionGuard guard(b);
                  b.setInsertionPointToStart(kb.getInsertionBlock());
                  SmallVector<Value> next =
                      emitStep(nb0, m0, rows, kg, /*aInBounds=*/true, kIter);
                  scf::YieldOp::create(b, loc, next);
                });
            accs.assign(kLoop.getResults().begin(), kLoop.getResults().end());
          }
          if (fullGroups * group < k)
            accs = emitStep(nb0, m0, rows, index(fullGroups),
                            /*aInBounds=*/false, accs);
          if (step == Step::S8Mmla)
            cur = storePairAccs(cur, m0, rows, columns, accs);
          else
            for (int64_t i = 0; i < rows; ++i)
              for (int64_t j = 0; j < tileN; ++j)
                cur = vector::TransferWriteOp::create(
                          b, loc, accs[i * tileN + j], cur,
                          ValueRange{add(m0, i), columns[j]},
                          ArrayRef<bool>{nInBounds})
                          .getResult();
          scf::YieldOp::create(b, loc, cur);
        });
    return loop.getResult(0);
  }

  /// One vector<16> accumulator per row and block: the C row, less the
  /// compensation for the u8 x s8 step.
  SmallVector<Value> loadAccs(Value cur, Value m0, int64_t rows,
                              ArrayRef<Value> columns) {
    Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(elementType));
    SmallVector<Value> accs;
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < tileN; ++j) {
        Value acc = vector::TransferReadOp::create(
            b, loc, accType, cur, ValueRange{add(m0, i), columns[j]}, zero,
            ArrayRef<bool>{nInBounds});
        if (step == Step::U8S8Dot4) {
          Value comp = vector::TransferReadOp::create(
              b, loc, accType, w.compensation, ValueRange{columns[j]}, zero,
              ArrayRef<bool>{true});
          acc = arith::SubIOp::create(b, loc, acc, comp);
        }
        accs.push_back(acc);
      }
    return accs;
  }

  /// smmla's layout: for each pair of rows q (the second one absent, that
  /// is zero, when `rows` is odd), block j and column pair p, the 2x2 block
  /// [r0 c2p, r0 c2p+1, r1 c2p, r1 c2p+1] as one vector<4xi32>, at index
  /// (q * tileN + j) * 8 + p.
  SmallVector<Value> loadPairAccs(Value cur, Value m0, int64_t rows,
                                  ArrayRef<Value> columns) {
    Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(elementType));
    Value zeroRow = arith::ConstantOp::create(b, loc, b.getZeroAttr(accType));
    SmallVector<Value> accs;
    for (int64_t q = 0; 2 * q < rows; ++q)
      for (int64_t j = 0; j < tileN; ++j) {
        SmallVector<Value, 2> pair;
        for (int64_t r = 2 * q; r < 2 * q + 2; ++r)
          pair.push_back(r < rows ? vector::TransferReadOp::create(
                                        b, loc, accType, cur,
                                        ValueRange{add(m0, r), columns[j]},
                                        zero, ArrayRef<bool>{nInBounds})
                                        .getResult()
                                  : zeroRow);
        for (int64_t p = 0; p < 8; ++p)
          accs.push_back(
              shuffle(pair[0], pair[1],
                      {2 * p, 2 * p + 1, 16 + 2 * p, 16 + 2 * p + 1}));
      }
    return accs;
  }

  /// Back from smmla's layout to rows of C (written only where they exist).
  Value storePairAccs(Value cur, Value m0, int64_t rows,
                      ArrayRef<Value> columns, ArrayRef<Value> accs) {
    for (int64_t q = 0; 2 * q < rows; ++q)
      for (int64_t j = 0; j < tileN; ++j) {
        // Concatenate the eight blocks, then pick each row's lanes.
        SmallVector<Value> parts(accs.slice((q * tileN + j) * 8, 8));
        while (parts.size() > 1) {
          SmallVector<Value> joined;
          int64_t width = cast<VectorType>(parts[0].getType()).getNumElements();
          for (size_t i = 0; i < parts.size(); i += 2)
            joined.push_back(
                shuffle(parts[i], parts[i + 1],
                        llvm::to_vector(llvm::seq<int64_t>(0, 2 * width))));
          parts = std::move(joined);
        }
        for (int64_t r = 0; r < 2 && 2 * q + r < rows; ++r) {
          SmallVector<int64_t> lanes;
          for (int64_t p = 0; p < 8; ++p)
            for (int64_t col = 0; col < 2; ++col)
              lanes.push_back(4 * p + 2 * r + col);
          Value row = shuffle(parts[0], parts[0], lanes);
          cur =
              vector::TransferWriteOp::create(
                  b, loc, row, cur, ValueRange{add(m0, 2 * q + r), columns[j]},
                  ArrayRef<bool>{nInBounds})
                  .getResult();
        }
      }
    return cur;
  }

  /// One K step (a group of G i8 or one f32) for every accumulator.
  SmallVector<Value> emitStep(Value nb0, Value m0, int64_t rows, Value kg,
                              bool aInBounds, ValueRange accs) {
    if (step == Step::S8Mmla)
      return emitMmlaStep(nb0, m0, rows, kg, aInBounds, accs);
    bool isInt8 = step != Step::F32Fma;
    Value kIndex = mul(kg, group);
    SmallVector<Value> weightVecs, actVecs;
    Type i8 = b.getI8Type(), i32 = b.getI32Type();
    for (int64_t j = 0; j < tileN; ++j) {
      Value zero = arith::ConstantOp::create(
          b, loc, b.getZeroAttr(isInt8 ? i8 : Type(b.getF32Type())));
      Value row = vector::TransferReadOp::create(
          b, loc,
          VectorType::get({16 * group},
                          getElementTypeOrSelf(w.packed.getType())),
          w.packed, ValueRange{add(nb0, j), kg, index(0)}, zero,
          ArrayRef<bool>{true});
      if (isInt8) {
        row = vector::ShapeCastOp::create(b, loc, VectorType::get({16, 4}, i8),
                                          row);
        row =
            arith::ExtSIOp::create(b, loc, VectorType::get({16, 4}, i32), row);
      }
      weightVecs.push_back(row);
    }
    for (int64_t i = 0; i < rows; ++i) {
      if (isInt8) {
        Value pad = arith::ConstantIntOp::create(b, loc, i8, 0);
        Value bytes = vector::TransferReadOp::create(
            b, loc, VectorType::get({4}, i8), a, ValueRange{add(m0, i), kIndex},
            pad, ArrayRef<bool>{aInBounds});
        if (step == Step::S8Dot4) {
          actVecs.push_back(
              arith::ExtSIOp::create(b, loc, VectorType::get({4}, i32), bytes));
          continue;
        }
        // +128 to u8: flipping the sign bit of a two's complement byte.
        Value bias = arith::ConstantOp::create(
            b, loc,
            DenseElementsAttr::get(VectorType::get({4}, i8),
                                   b.getIntegerAttr(i8, -128)));
        Value biased = arith::XOrIOp::create(b, loc, bytes, bias);
        actVecs.push_back(
            arith::ExtUIOp::create(b, loc, VectorType::get({4}, i32), biased));
      } else {
        Value scalar =
            tensor::ExtractOp::create(b, loc, a,
                                      aKMajor ? ValueRange{kIndex, add(m0, i)}
                                              : ValueRange{add(m0, i), kIndex});
        if (!scalar.getType().isF32()) // bf16 / f16 activations
          scalar = arith::ExtFOp::create(b, loc, b.getF32Type(), scalar);
        actVecs.push_back(vector::BroadcastOp::create(b, loc, accType, scalar));
      }
    }
    MLIRContext *ctx = b.getContext();
    AffineExpr dn = getAffineDimExpr(0, ctx), dk = getAffineDimExpr(1, ctx);
    SmallVector<Value> next;
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < tileN; ++j) {
        Value acc = accs[i * tileN + j];
        if (isInt8)
          next.push_back(vector::ContractionOp::create(
              b, loc, weightVecs[j], actVecs[i], acc,
              ArrayRef<ArrayRef<AffineExpr>>{{dn, dk}, {dk}, {dn}},
              ArrayRef<vector::IteratorType>{vector::IteratorType::parallel,
                                             vector::IteratorType::reduction}));
        else
          next.push_back(
              vector::FMAOp::create(b, loc, actVecs[i], weightVecs[j], acc));
      }
    return next;
  }

  /// The smmla step: for each pair of rows, block and column pair, the
  /// 2x8 by (2x8)^T contraction into a 2x2 block,
  ///   vector.contract {(m,n,k)->(m,k), (m,n,k)->(n,k), (m,n,k)->(m,n)}
  ///       extsi(A: vector<2x8xi8>), extsi(W: vector<2x8xi8>), acc 2x2xi32
  /// which upstream's i8mm patterns (qopt-arm-neon) turn into one smmla.
  SmallVector<Value> emitMmlaStep(Value nb0, Value m0, int64_t rows, Value kg,
                                  bool aInBounds, ValueRange accs) {
    Value kIndex = mul(kg, group);
    Type i8 = b.getI8Type(), i32 = b.getI32Type();
    auto tile8 = VectorType::get({2, 8}, i8);
    auto tile32 = VectorType::get({2, 8}, i32);
    Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(i8));
    SmallVector<Value> weightVecs;
    for (int64_t j = 0; j < tileN; ++j)
      for (int64_t p = 0; p < 8; ++p) {
        Value cols = vector::TransferReadOp::create(
            b, loc, VectorType::get({16}, i8), w.packed,
            ValueRange{add(nb0, j), kg, index(16 * p)}, zero,
            ArrayRef<bool>{true});
        cols = vector::ShapeCastOp::create(b, loc, tile8, cols);
        weightVecs.push_back(arith::ExtSIOp::create(b, loc, tile32, cols));
      }
    Value zeroRow = arith::ConstantOp::create(
        b, loc, b.getZeroAttr(VectorType::get(8, i8)));
    SmallVector<Value> actVecs;
    for (int64_t q = 0; 2 * q < rows; ++q) {
      SmallVector<Value, 2> pair;
      for (int64_t r = 2 * q; r < 2 * q + 2; ++r)
        pair.push_back(r < rows ? vector::TransferReadOp::create(
                                      b, loc, VectorType::get({8}, i8), a,
                                      ValueRange{add(m0, r), kIndex}, zero,
                                      ArrayRef<bool>{aInBounds})
                                      .getResult()
                                : zeroRow);
      Value both =
          shuffle(pair[0], pair[1], llvm::to_vector(llvm::seq<int64_t>(0, 16)));
      both = vector::ShapeCastOp::create(b, loc, tile8, both);
      actVecs.push_back(arith::ExtSIOp::create(b, loc, tile32, both));
    }
    MLIRContext *ctx = b.getContext();
    AffineExpr dm = getAffineDimExpr(0, ctx), dn = getAffineDimExpr(1, ctx),
               dk = getAffineDimExpr(2, ctx);
    auto block = VectorType::get({2, 2}, i32);
    auto flat = VectorType::get({4}, i32);
    SmallVector<Value> next;
    for (int64_t q = 0; 2 * q < rows; ++q)
      for (int64_t j = 0; j < tileN; ++j)
        for (int64_t p = 0; p < 8; ++p) {
          Value acc = vector::ShapeCastOp::create(
              b, loc, block, accs[(q * tileN + j) * 8 + p]);
          Value r = vector::ContractionOp::create(
              b, loc, actVecs[q], weightVecs[j * 8 + p], acc,
              ArrayRef<ArrayRef<AffineExpr>>{{dm, dk}, {dn, dk}, {dm, dn}},
              ArrayRef<vector::IteratorType>{vector::IteratorType::parallel,
                                             vector::IteratorType::parallel,
                                             vector::IteratorType::reduction});
          next.push_back(vector::ShapeCastOp::create(b, loc, flat, r));
        }
    return next;
  }

  OpBuilder &b;
  Location loc;
  Step step;
  Value a;
  PackedWeights w;
  int64_t m, k, tileM, tileN;
  bool aKMajor; // f32 only: A is stored as A^T[K, M]
  int64_t group, fullGroups, numBlocksN;
  bool nInBounds;
  Type elementType;
  VectorType accType;
};

/// Collapses `value` (dims ordered as the M dims then the other group) into
/// a matrix, or returns it when it already is one.
static Value collapseToMatrix(OpBuilder &b, Location loc, Value value,
                              unsigned split) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getRank() == 2 && split == 1)
    return value;
  ReassociationIndices first, second;
  for (unsigned i = 0; i < type.getRank(); ++i)
    (i < split ? first : second).push_back(i);
  return tensor::CollapseShapeOp::create(
      b, loc, value, ArrayRef<ReassociationIndices>{first, second});
}

struct CPUGemmPass : public qopt::impl::CPUGemmBase<CPUGemmPass> {
  using CPUGemmBase::CPUGemmBase;
  void runOnOperation() override;
  LogicalResult rewrite(IRRewriter &rewriter, linalg::GenericOp op,
                        const Contraction &c, Step int8Step);
};

/// The i8 step for this function's target: smmla with i8mm, sdot with
/// dotprod (both aarch64), else the u8 x s8 dot product (vpdpbusd on x86
/// with VNNI, the generic lowering elsewhere).
static Step selectInt8Step(func::FuncOp func) {
  if (!isAArch64Target(func))
    return Step::U8S8Dot4;
  CPUFeatureQuery query;
  if (query.hasFeatures(func, {"neon", "i8mm"}))
    return Step::S8Mmla;
  if (query.hasFeatures(func, {"neon", "dotprod"}))
    return Step::S8Dot4;
  return Step::U8S8Dot4;
}

} // namespace

LogicalResult CPUGemmPass::rewrite(IRRewriter &rewriter, linalg::GenericOp op,
                                   const Contraction &c, Step int8Step) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  ArrayRef<int64_t> sizes = c.loopSizes;
  int64_t m = product(c.mDims, sizes), n = product(c.nDims, sizes),
          k = product(c.kDims, sizes);
  Step step = c.kind == GemmKind::Int8 ? int8Step : Step::F32Fma;
  int64_t effTileN = std::min<int64_t>(tileN, llvm::divideCeil(n, 16));
  int64_t effTileM = std::min<int64_t>(tileM, m);
  if (step == Step::S8Dot4 || step == Step::S8Mmla) {
    // smmla takes rows in pairs; the tile's row count is even (a last odd
    // row runs as a half-empty pair).
    if (step == Step::S8Mmla)
      effTileM = std::max<int64_t>(2, effTileM & ~int64_t(1));
    // NEON has 32 128-bit registers and a row of 16 i32 takes four: keep
    // the accumulators within half of them, narrowing the tile's width.
    while (effTileN > 1 && effTileM * effTileN * 4 > 16)
      --effTileN;
  }
  // A[M, K]: the activation as is when its map is (m..., k...), else an
  // im2col copy through its map. The copy keeps the activation's element
  // type (i8, f32, or the bf16/f16 of a narrow-float contraction, which the
  // f32 step widens as it loads each value). The f32 step reads A one
  // scalar at a time, so its copy is made K-major, A^T[K, M]: the copy's
  // innermost loop then runs along the output columns of an NCHW
  // convolution, contiguous in the input (stride 1) and in the copy, and
  // vectorizes; in (m..., k...) order both sides were strided and LLVM
  // made it gathers and scatters (measured: half of the PaddleOCR
  // detector's f32 time).
  Value act = op.getDpsInputs()[c.actIndex];
  Type actElt = getElementTypeOrSelf(act.getType());
  AffineMap actMap = op.getIndexingMapsArray()[c.actIndex];
  SmallVector<unsigned> mk(c.mDims);
  mk.append(c.kDims.begin(), c.kDims.end());
  SmallVector<AffineExpr> mkExprs;
  for (unsigned d : mk)
    mkExprs.push_back(rewriter.getAffineDimExpr(d));
  bool aKMajor = false;
  if (actMap.getResults() != ArrayRef<AffineExpr>(mkExprs)) {
    if (step == Step::F32Fma) {
      aKMajor = true;
      mk.assign(c.kDims.begin(), c.kDims.end());
      mk.append(c.mDims.begin(), c.mDims.end());
    }
    SmallVector<AffineExpr> replacement(op.getNumLoops(),
                                        rewriter.getAffineConstantExpr(0));
    SmallVector<int64_t> shape;
    for (auto [i, d] : llvm::enumerate(mk)) {
      replacement[d] = rewriter.getAffineDimExpr(i);
      shape.push_back(sizes[d]);
    }
    AffineMap inMap =
        actMap.replaceDimsAndSymbols(replacement, {}, mk.size(), 0);
    AffineMap idMap = rewriter.getMultiDimIdentityMap(mk.size());
    Value empty = tensor::EmptyOp::create(rewriter, loc, shape, actElt);
    SmallVector<utils::IteratorType> par(mk.size(),
                                         utils::IteratorType::parallel);
    act = linalg::GenericOp::create(
              rewriter, loc, empty.getType(), ValueRange{act},
              ValueRange{empty}, ArrayRef<AffineMap>{inMap, idMap}, par,
              [](OpBuilder &nb, Location nl, ValueRange args) {
                linalg::YieldOp::create(nb, nl, args[0]);
              })
              .getResult(0);
  }
  Value aMatrix = collapseToMatrix(rewriter, loc, act,
                                   aKMajor ? c.kDims.size() : c.mDims.size());

  // C[M, N]: the init, permuted to (m..., n...) when the output is not.
  AffineMap outMap = op.getIndexingMapMatchingResult(op->getResult(0));
  SmallVector<int64_t> perm;
  SmallVector<unsigned> mn(c.mDims);
  mn.append(c.nDims.begin(), c.nDims.end());
  for (unsigned d : mn)
    perm.push_back(*outMap.getResultPosition(rewriter.getAffineDimExpr(d)));
  bool identity = llvm::equal(perm, llvm::seq<int64_t>(0, perm.size()));
  Value init = op.getDpsInits()[0];
  Type accElt = getElementTypeOrSelf(init.getType());
  SmallVector<int64_t> mnShape;
  for (unsigned d : mn)
    mnShape.push_back(sizes[d]);
  // An init that is one value everywhere (a fill, a splat constant: the
  // usual zero accumulator) is made again in (m..., n...) order by a fill of
  // its own: no transpose, and no private copy below.
  std::optional<Value> splat;
  if (auto fill = init.getDefiningOp<linalg::FillOp>())
    splat = fill.value();
  else if (auto cst = init.getDefiningOp<arith::ConstantOp>())
    if (auto dense = dyn_cast<SplatElementsAttr>(cst.getValue()))
      splat = arith::ConstantOp::create(rewriter, loc, accElt,
                                        dense.getSplatValue<TypedAttr>());
  if (splat) {
    Value empty = tensor::EmptyOp::create(rewriter, loc, mnShape, accElt);
    init = linalg::FillOp::create(rewriter, loc, *splat, empty).getResult(0);
  } else if (!identity) {
    Value empty = tensor::EmptyOp::create(rewriter, loc, mnShape, accElt);
    init = linalg::TransposeOp::create(rewriter, loc, init, empty, perm)
               .getResult()[0];
  }
  // MLIR 22.1.8's one-shot bufferization takes a vector.transfer_write whose
  // vector is longer than the destination's minor dimension (the kernel's
  // N tails) for a write of the whole tensor: where such a write bufferizes
  // out of place (into a constant init, or a value used elsewhere) it
  // allocates without copying the rest of the tensor, and the other rows
  // read garbage (measured: a 7x33x5 f32 matmul into dense<0.0>). So the
  // kernel writes into a private copy of any init that a linalg op does not
  // produce for it alone; the copy bufferizes as alloc + memref.copy and
  // every write then lands in place. (A fill made above is the kernel's
  // alone.)
  Operation *initDef = init.getDefiningOp();
  if (!splat &&
      (!initDef || !isa<linalg::LinalgOp>(initDef) || !init.hasOneUse()))
    init = bufferization::AllocTensorOp::create(
        rewriter, loc, cast<RankedTensorType>(init.getType()), ValueRange{},
        /*copy=*/init);
  Value cMatrix = collapseToMatrix(rewriter, loc, init, c.mDims.size());

  KernelEmitter emitter(rewriter, loc, step, aMatrix, PackedWeights(), m, n, k,
                        effTileM, effTileN);
  PackedWeights packed =
      packWeights(rewriter, loc, c, op.getIndexingMapsArray()[c.weightIndex],
                  emitter.getNumBlocksN(), step);
  KernelEmitter kernel(rewriter, loc, step, aMatrix, packed, m, n, k, effTileM,
                       effTileN, aKMajor);
  Value result = kernel.emit(cMatrix);

  // Back to the output's shape and order.
  if (cast<RankedTensorType>(result.getType()).getShape() !=
      ArrayRef<int64_t>(mnShape)) {
    ReassociationIndices first, second;
    for (unsigned i = 0; i < mn.size(); ++i)
      (i < c.mDims.size() ? first : second).push_back(i);
    result = tensor::ExpandShapeOp::create(
        rewriter, loc, RankedTensorType::get(mnShape, accElt), result,
        ArrayRef<ReassociationIndices>{first, second});
  }
  if (!identity) {
    auto outType = cast<RankedTensorType>(op->getResult(0).getType());
    Value empty =
        tensor::EmptyOp::create(rewriter, loc, outType.getShape(), accElt);
    result = linalg::TransposeOp::create(rewriter, loc, result, empty,
                                         invertPermutationVector(perm))
                 .getResult()[0];
  }
  rewriter.replaceOp(op, result);
  return success();
}

void CPUGemmPass::runOnOperation() {
  func::FuncOp func = getOperation();
  IRRewriter rewriter(func.getContext());
  if (tileM == 0 || tileN == 0) {
    func.emitError() << "qopt-cpu-gemm: tile-m and tile-n must be positive";
    return signalPassFailure();
  }
  // Named contractions and convolutions take the same path as generics.
  SmallVector<linalg::LinalgOp> named;
  func.walk([&](linalg::LinalgOp op) {
    if (!isa<linalg::GenericOp>(op) &&
        (isa<linalg::ContractionOpInterface>(op.getOperation()) ||
         isa<linalg::ConvolutionOpInterface>(op.getOperation())))
      named.push_back(op);
  });
  for (linalg::LinalgOp op : named) {
    rewriter.setInsertionPoint(op);
    (void)linalg::generalizeNamedOp(rewriter, op);
  }
  // Weights that are moved copies of constants (imported ConvTranspose)
  // become constants first.
  SmallVector<linalg::GenericOp> copies;
  func.walk([&](linalg::GenericOp op) { copies.push_back(op); });
  for (linalg::GenericOp copy : copies)
    if (succeeded(foldWeightCopy(rewriter, copy)))
      ++numFoldedWeights;
  SmallVector<std::pair<linalg::GenericOp, Contraction>, 4> matches;
  func.walk([&](linalg::GenericOp op) {
    if (std::optional<Contraction> c = matchContraction(op))
      matches.emplace_back(op, *c);
  });
  Step int8Step = selectInt8Step(func);
  for (auto &[op, c] : matches) {
    (c.kind == GemmKind::Int8 ? numInt8 : numF32)++;
    (void)rewrite(rewriter, op, c, int8Step);
  }
}

std::optional<CPUGemmPlan> mlir::qopt::planCPUGemm(linalg::LinalgOp op,
                                                   int64_t int8Group) {
  std::optional<Contraction> c = matchContraction(op);
  if (!c)
    return std::nullopt;
  CPUGemmPlan plan;
  plan.int8 = c->kind == GemmKind::Int8;
  plan.actIndex = c->actIndex;
  plan.m = product(c->mDims, c->loopSizes);
  plan.n = product(c->nDims, c->loopSizes);
  plan.k = product(c->kDims, c->loopSizes);
  // The same tests as CPUGemmPass::rewrite: the activation is copied when
  // its map is not (m..., k...), the accumulator transposed when the
  // output's is not (m..., n...).
  AffineMap actMap = op.getIndexingMapsArray()[c->actIndex];
  SmallVector<unsigned> mk(c->mDims);
  mk.append(c->kDims.begin(), c->kDims.end());
  bool direct = actMap.getNumResults() == mk.size();
  for (auto [i, d] : llvm::enumerate(mk))
    direct =
        direct && actMap.getResult(i) == getAffineDimExpr(d, op->getContext());
  plan.im2colElements = direct ? 0 : plan.m * plan.k;
  AffineMap outMap = op.getIndexingMapMatchingResult(op->getResult(0));
  SmallVector<unsigned> mn(c->mDims);
  mn.append(c->nDims.begin(), c->nDims.end());
  for (auto [i, d] : llvm::enumerate(mn))
    plan.transposedOutput |=
        outMap.getResult(i) != getAffineDimExpr(d, op->getContext());
  int64_t group = plan.int8 ? int8Group : 1;
  plan.packedWeightElements = llvm::divideCeil(plan.n, 16) *
                              llvm::divideCeil(plan.k, group) * 16 * group;
  return plan;
}
