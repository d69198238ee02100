//===- LegalizeWeightOnly.cpp - qopt-legalize{mode=weight-only} -*- C++ -*-===//
//
// Weight-only quantization: a matmul-like op whose weight is a constant
// becomes qopt.matmul_nbits. The weight is quantized at compile time per
// group of `group-size` values along K and per output column (lib/Quant's
// quantizeWeights, unsigned 4- or 8-bit storage, symmetric with zero point
// 2^(bits-1) or asymmetric with a stored zero point, optionally with the
// per-group clipping search) and packed in ONNX Runtime's MatMulNBits
// layout, two 4-bit values per byte. Activations stay float; the op needs
// no calibration statistics. With compute-type=bf16 (or a precision with
// act = bf16) the op is marked `compute bf16` for the AVX512-BF16 kernel.
//
//   %y = linalg.matmul ins(%x, %w : tensor<1x64xf32>, tensor<64x8xf32>) ...
// becomes
//   %y = qopt.matmul_nbits %x, %packed scales %s bits 4 group_size 32
//       : tensor<1x64xf32>, tensor<8x2x16xi8>, tensor<8x2xf32> -> ...
//
//===----------------------------------------------------------------------===//

#include "LegalizeWeightOnly.h"

#include "qopt/Dialect/QOpt/IR/QOptOps.h"
#include "qopt/Quant/WeightQuant.h"
#include "qopt/Transforms/QuantizableOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::qopt;

namespace {
/// A matmul-like op: out[p..., n] = sum_k act[p..., k] * weight, where the
/// weight is [K, N], [N, K] or one such matrix per batch index p0.
struct MatmulForm {
  linalg::LinalgOp op;
  Value act;
  /// Float values of the weight, one [N][K] matrix per batch (one when the
  /// weight is shared).
  std::vector<std::vector<float>> matrices;
  int64_t n = 0, k = 0;
  /// The weight has a batch dimension: the activation's first dimension.
  bool perBatch = false;
};
} // namespace

/// `out + a * b` (either order of each operation) on the block's arguments.
static bool isMulAddBody(linalg::LinalgOp op) {
  Block *body = op.getBlock();
  if (body->getNumArguments() != 3 || body->getOperations().size() != 3)
    return false;
  auto add =
      body->getTerminator()->getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add)
    return false;
  Value out = body->getArgument(2);
  Value other = add.getLhs() == out   ? add.getRhs()
                : add.getRhs() == out ? add.getLhs()
                                      : Value();
  auto mul = other ? other.getDefiningOp<arith::MulFOp>() : nullptr;
  if (!mul)
    return false;
  Value a = body->getArgument(0), w = body->getArgument(1);
  return (mul.getLhs() == a && mul.getRhs() == w) ||
         (mul.getLhs() == w && mul.getRhs() == a);
}

/// The float values of a constant, looking through a 2-D transpose of it
/// (ONNX Gemm with transB=1). `shape` is the returned matrix's shape.
static std::optional<std::vector<float>> getWeightData(Value weight) {
  if (std::optional<std::vector<float>> data = getConstantFloats(weight))
    return data;
  auto transpose = weight.getDefiningOp<linalg::TransposeOp>();
  if (!transpose || transpose.getPermutation() != ArrayRef<int64_t>{1, 0})
    return std::nullopt;
  std::optional<std::vector<float>> data =
      getConstantFloats(transpose.getInput());
  if (!data)
    return std::nullopt;
  auto type = cast<RankedTensorType>(transpose.getInput().getType());
  int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
  std::vector<float> result(data->size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      result[c * rows + r] = (*data)[r * cols + c];
  return result;
}

/// Matches a matmul-like op. Returns nullopt when `op` is not one (it stays
/// as it is) and failure with an error when it is one that cannot be
/// quantized.
static FailureOr<std::optional<MatmulForm>> matchMatmul(Operation *op) {
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  if (!linalgOp ||
      !isa<linalg::MatmulOp, linalg::BatchMatmulOp, linalg::GenericOp>(op) ||
      linalgOp.getNumDpsInputs() != 2 || linalgOp.getNumDpsInits() != 1 ||
      !linalgOp.hasPureTensorSemantics() || !isMulAddBody(linalgOp))
    return std::optional<MatmulForm>();
  for (Value v : op->getOperands()) {
    auto type = dyn_cast<RankedTensorType>(v.getType());
    if (!type || !type.getElementType().isF32() || !type.hasStaticShape())
      return std::optional<MatmulForm>();
  }
  SmallVector<utils::IteratorType> iterators = linalgOp.getIteratorTypesArray();
  if (llvm::count(iterators, utils::IteratorType::reduction) != 1)
    return std::optional<MatmulForm>();
  unsigned red =
      llvm::find(iterators, utils::IteratorType::reduction) - iterators.begin();
  SmallVector<AffineMap> maps = linalgOp.getIndexingMapsArray();
  AffineMap actMap = maps[0], weightMap = maps[1], outMap = maps[2];
  auto dimsOf = [](AffineMap map) -> std::optional<SmallVector<unsigned>> {
    SmallVector<unsigned> dims;
    for (AffineExpr e : map.getResults()) {
      auto d = dyn_cast<AffineDimExpr>(e);
      if (!d)
        return std::nullopt;
      dims.push_back(d.getPosition());
    }
    return dims;
  };
  std::optional<SmallVector<unsigned>> act = dimsOf(actMap),
                                       weight = dimsOf(weightMap),
                                       out = dimsOf(outMap);
  if (!act || !weight || !out || act->size() < 2 || act->back() != red)
    return std::optional<MatmulForm>();
  // out = act's dimensions without K, then N.
  SmallVector<unsigned> rows(act->begin(), act->end() - 1);
  if (out->size() != act->size() ||
      ArrayRef<unsigned>(*out).drop_back() != ArrayRef<unsigned>(rows) ||
      llvm::is_contained(rows, out->back()))
    return std::optional<MatmulForm>();
  unsigned nDim = out->back();
  MatmulForm form;
  form.op = linalgOp;
  form.act = linalgOp.getDpsInputOperand(0)->get();
  ArrayRef<unsigned> w = *weight;
  bool perBatch = false;
  if (w.size() == 3 && w[0] == rows.front() && act->size() == 3) {
    perBatch = true;
    w = w.drop_front();
  }
  bool kn = w.size() == 2 && w[0] == red && w[1] == nDim;
  bool nk = w.size() == 2 && w[0] == nDim && w[1] == red;
  if (!kn && !nk)
    return std::optional<MatmulForm>();

  Value weightValue = linalgOp.getDpsInputOperand(1)->get();
  std::optional<std::vector<float>> data = getWeightData(weightValue);
  if (!data)
    return op->emitError()
           << "mode=weight-only quantizes matmuls whose weight (operand 1) is "
              "a constant, and the weight of '"
           << op->getName()
           << "' is computed at run time; keep this op in float with "
              "#qopt.precision<act = f32> or make the weight a constant";
  auto weightType = cast<RankedTensorType>(weightValue.getType());
  int64_t batches = perBatch ? weightType.getDimSize(0) : 1;
  int64_t r0 = weightType.getDimSize(weightType.getRank() - 2);
  int64_t r1 = weightType.getDimSize(weightType.getRank() - 1);
  form.k = kn ? r0 : r1;
  form.n = kn ? r1 : r0;
  form.perBatch = perBatch;
  for (int64_t b = 0; b < batches; ++b) {
    const float *src = data->data() + b * r0 * r1;
    std::vector<float> nkData(form.n * form.k);
    for (int64_t i = 0; i < r0; ++i)
      for (int64_t j = 0; j < r1; ++j) {
        int64_t nIdx = kn ? j : i, kIdx = kn ? i : j;
        nkData[nIdx * form.k + kIdx] = src[i * r1 + j];
      }
    form.matrices.push_back(std::move(nkData));
  }
  return std::optional<MatmulForm>(std::move(form));
}

/// True when `init` is all zeros (a fill or a constant).
static bool isZeroInit(Value init) {
  if (auto fill = init.getDefiningOp<linalg::FillOp>()) {
    FloatAttr value;
    return matchPattern(fill.getInputs()[0], m_Constant(&value)) &&
           value.getValue().isZero();
  }
  DenseElementsAttr dense;
  return matchPattern(init, m_Constant(&dense)) && dense.isSplat() &&
         dense.getSplatValue<APFloat>().isZero();
}

/// Quantizes one [N][K] matrix and builds the op's constants.
static FailureOr<Value> buildNBits(OpBuilder &b, Operation *op, Value act,
                                   const std::vector<float> &matrix, int64_t n,
                                   int64_t k, const WeightOnlyOptions &options,
                                   int64_t group) {
  WeightQuantSpec spec;
  spec.storage.bits = options.bits;
  spec.storage.isSigned = false;
  spec.storage.narrowRange = false;
  spec.storage.symmetric = !options.zeroPoint;
  spec.channelAxis = 0;
  spec.groupAxis = 1;
  spec.groupSize = group;
  if (options.clipSearch)
    spec.clipRatios = defaultClipRatios();
  llvm::Expected<QuantizedWeights> q =
      quantizeWeights(matrix, ArrayRef<int64_t>{n, k}, spec);
  if (!q)
    return op->emitError() << "cannot quantize the weight of '" << op->getName()
                           << "': " << llvm::toString(q.takeError());
  int64_t groups = k / group;
  int64_t perByte = options.bits == 4 ? 2 : 1;
  std::vector<int8_t> bytes(n * k / perByte, 0);
  for (int64_t i = 0; i < n * k; ++i) {
    uint8_t v = static_cast<uint8_t>(q->values[i]);
    if (perByte == 2)
      bytes[i / 2] |= static_cast<int8_t>(i % 2 ? v << 4 : v);
    else
      bytes[i] = static_cast<int8_t>(v);
  }
  std::vector<float> scales(q->scales.begin(), q->scales.end());
  Location loc = op->getLoc();
  MLIRContext *ctx = op->getContext();
  Type i8 = IntegerType::get(ctx, 8), f32 = Float32Type::get(ctx);
  Value weight = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(
          RankedTensorType::get({n, groups, group / perByte}, i8),
          ArrayRef<int8_t>(bytes)));
  Value scaleValue = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(RankedTensorType::get({n, groups}, f32),
                             ArrayRef<float>(scales)));
  Value zeroPoints;
  if (options.zeroPoint) {
    std::vector<int8_t> zps;
    for (int64_t zp : q->zeroPoints)
      zps.push_back(static_cast<int8_t>(static_cast<uint8_t>(zp)));
    zeroPoints = arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(RankedTensorType::get({n, groups}, i8),
                               ArrayRef<int8_t>(zps)));
  }
  auto actType = cast<RankedTensorType>(act.getType());
  SmallVector<int64_t> outShape(actType.getShape());
  outShape.back() = n;
  TypeAttr computeType =
      options.bf16Compute ? TypeAttr::get(b.getBF16Type()) : TypeAttr();
  return MatMulNBitsOp::create(b, loc, actType.clone(outShape), act, weight,
                               scaleValue, zeroPoints, /*bias=*/Value(),
                               options.bits, group, options.int8Block,
                               computeType)
      .getResult();
}

FailureOr<bool> mlir::qopt::legalizeWeightOnly(Operation *op,
                                               const WeightOnlyOptions &base) {
  WeightOnlyOptions options = base;
  // #qopt.precision: float activations with integer weights is weight-only;
  // float activations alone keep the op in float.
  if (auto attr = op->getAttrOfType<PrecisionAttr>("qopt.precision")) {
    Type act = attr.getActivation();
    if (auto intType = dyn_cast<IntegerType>(act))
      return op->emitError()
             << "precision " << attr << " asks for " << intType.getWidth()
             << "-bit integer activations, but mode=weight-only keeps "
                "activations in f32; use act = f32 (or mode=static)";
    if (act.isBF16() && options.int8Block)
      return op->emitError()
             << "precision " << attr
             << " asks for bf16 activations, but activation-quant=int8-block "
                "quantizes them to int8";
    if (act.isBF16())
      options.bf16Compute = true;
    else if (!act.isF32())
      return op->emitError() << "precision " << attr << " asks for " << act
                             << " activations; mode=weight-only computes in "
                                "f32 or bf16";
    auto weightType = dyn_cast_or_null<IntegerType>(attr.getWeight());
    if (!weightType)
      return false;
    if (weightType.getWidth() != 4 && weightType.getWidth() != 8)
      return op->emitError()
             << "precision " << attr << " asks for " << weightType.getWidth()
             << "-bit weights; mode=weight-only supports 4 and 8";
    options.bits = weightType.getWidth();
    if (attr.getGranularity() == Granularity::PerGroup)
      options.groupSize = attr.getGroupSize();
    else if (attr.getGranularity() == Granularity::PerChannel)
      options.groupSize = 0;
    else
      return op->emitError()
             << "precision " << attr
             << " asks for per-tensor weights; mode=weight-only quantizes "
                "per group (per_group = N) or per channel";
  }

  FailureOr<std::optional<MatmulForm>> matched = matchMatmul(op);
  if (failed(matched))
    return failure();
  if (!*matched)
    return false;
  MatmulForm &form = **matched;
  int64_t group = options.groupSize ? options.groupSize : form.k;
  if (form.k % group != 0)
    return op->emitError() << "group size " << group
                           << " does not divide the reduction dimension K = "
                           << form.k << " of '" << op->getName()
                           << "'; choose a group size that divides K";
  if (group % 2 != 0)
    return op->emitError() << "group size " << group
                           << " is odd; qopt.matmul_nbits needs an even group "
                              "size (4-bit weights are packed two per byte "
                              "within a group)";

  OpBuilder b(op);
  Location loc = op->getLoc();
  Value result;
  if (!form.perBatch) {
    FailureOr<Value> y = buildNBits(b, op, form.act, form.matrices.front(),
                                    form.n, form.k, options, group);
    if (failed(y))
      return failure();
    result = *y;
  } else {
    // One weight per batch index: one op per batch on a slice.
    auto actType = cast<RankedTensorType>(form.act.getType());
    int64_t batches = actType.getDimSize(0), m = actType.getDimSize(1);
    auto outType = RankedTensorType::get({batches, m, form.n}, b.getF32Type());
    result = tensor::EmptyOp::create(b, loc, outType.getShape(),
                                     outType.getElementType());
    for (int64_t i = 0; i < batches; ++i) {
      SmallVector<OpFoldResult> offsets = {b.getIndexAttr(i), b.getIndexAttr(0),
                                           b.getIndexAttr(0)};
      SmallVector<OpFoldResult> ones(3, b.getIndexAttr(1));
      Value slice = tensor::ExtractSliceOp::create(
          b, loc, RankedTensorType::get({m, form.k}, b.getF32Type()), form.act,
          offsets,
          SmallVector<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(m),
                                    b.getIndexAttr(form.k)},
          ones);
      FailureOr<Value> y = buildNBits(b, op, slice, form.matrices[i], form.n,
                                      form.k, options, group);
      if (failed(y))
        return failure();
      result = tensor::InsertSliceOp::create(
          b, loc, *y, result, offsets,
          SmallVector<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(m),
                                    b.getIndexAttr(form.n)},
          ones);
    }
  }
  // A non-zero accumulator init is added back.
  Value init = form.op.getDpsInitOperand(0)->get();
  if (!isZeroInit(init))
    result = arith::AddFOp::create(b, loc, init, result);

  Value oldWeight = form.op.getDpsInputOperand(1)->get();
  op->getResult(0).replaceAllUsesWith(result);
  op->erase();
  // The float weight (and a transpose of it), once unused.
  while (Operation *def = oldWeight.getDefiningOp()) {
    if (!def->use_empty() || !isa<arith::ConstantOp, linalg::TransposeOp>(def))
      break;
    Value source = isa<linalg::TransposeOp>(def) ? def->getOperand(0) : Value();
    def->erase();
    if (!source)
      break;
    oldWeight = source;
  }
  return true;
}
