//===- CPUMatMulNBitsInt8.cpp - int8-block MatMulNBits (accuracy_level 4) -===//
//
// The `int8_block` path of qopt-cpu-matmul-nbits: qopt.matmul_nbits with
// ONNX Runtime's MatMulNBits accuracy_level 4 semantics, bit for bit as
// docs/numerics.md (section 10) states them for 4-bit weights and groups of
// 64 or 128 (MLAS SQNBitGemm CompInt8 on an AVX-512 VNNI CPU):
//
//  1. each row of A is quantized once per group: amax, scale = amax / 127,
//     codes roundeven(a * (127 / amax)), and the block sum scale * sum(codes);
//  2. per output, 16 float lanes receive, per unit of 128 values (a pair of
//     64-groups, a 128-group) or 64 values (an odd last 64-group), the exact
//     integer partial dot products of the lanes' elements (unsigned 4-bit
//     codes times int8 codes) by one fma with scale_a * scale_w;
//  3. the lanes are reduced in MLAS's tree for that output's tile, the bias
//     is added, then the zero-point correction (an fma chain over the groups
//     of block sum * -(scale_w * zero_point)).
//
// The lane partition is made contiguous by a compile-time permutation: the
// weight is repacked (still 4 bits per value) and the activation codes are
// shuffled so that bytes 4l .. 4l + 3 of a 64-byte block hold four elements
// of lane l's set (slices 0-3 of a unit in the low nibbles of the weight
// block and the first code block, slices 4-7 in the high nibbles and the
// second). The integer part then is two u8 x s8 lane-wise dot steps per
// unit (vpdpbusd through qopt-x86-vnni; integer sums are exact, so their
// order does not matter), and the float work per unit is one fma, as in
// MLAS.
//
//===----------------------------------------------------------------------===//

#include "CPUMatMulNBitsInt8.h"
#include "CPUTarget.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::qopt;

static constexpr int64_t kLanes = 16;
/// Columns that share one load of the activation codes.
static constexpr int64_t kColTile = 4;

namespace {

/// The element (within its unit) of slice `g`, lane `l`. A unit is a pair
/// of 64-groups (`pair`), one 128-group, or one 64-group.
int64_t unitElement(int64_t group, bool pair, int64_t g, int64_t l) {
  if (group == 128)
    return g < 4 ? 4 * l + g : 64 + 4 * l + (g - 4);
  if (!pair)
    return 4 * l + g;
  // l = 4c + j: block j & 1, half s = j >> 1; g = 4h + e.
  int64_t c = l / 4, j = l % 4, h = g / 4, e = g % 4;
  return (j & 1) * 64 + 16 * c + 8 * h + 4 * (j >> 1) + e;
}

struct Unit {
  int64_t k0;     // first K index
  int64_t size;   // 128 or 64
  int64_t block0; // first group
  bool pair;      // two 64-groups
};

class Int8BlockEmitter {
public:
  Int8BlockEmitter(OpBuilder &b, Location loc, MatMulNBitsOp op, int64_t m)
      : b(b), loc(loc), op(op), m(m) {
    k = op.getK();
    n = op.getN();
    group = op.getGroupSize();
    groups = k / group;
    f32 = b.getF32Type();
    i32 = b.getI32Type();
    fVec = VectorType::get({kLanes}, f32);
    iVec = VectorType::get({kLanes}, i32);
    // vpdpbusd (through qopt-x86-vnni) where the function's target has it;
    // elsewhere the same integer sums from widened products.
    CPUFeatureQuery query;
    Operation *func = op->getParentOfType<func::FuncOp>();
    vnni =
        func && query.hasFeatures(func, {"avx512vnni", "avx512bw", "avx512f"});
    for (int64_t blk = 0; blk < groups;) {
      bool pair = group == 64 && blk + 1 < groups;
      int64_t size = pair ? 128 : group;
      units.push_back({blk * group, size, blk, pair});
      blk += pair ? 2 : 1;
    }
  }

  /// Builds the packed constants; fails (with an error) on non-constant
  /// weights, scales or zero points.
  LogicalResult pack();

  /// Y[M, N] for A[M, K].
  Value emit(Value a, Value bias);

private:
  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value f32Const(float v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  Value splat(VectorType type, Attribute value) {
    return arith::ConstantOp::create(b, loc,
                                     DenseElementsAttr::get(type, value));
  }
  Value addIndex(Value x, int64_t v) {
    return v == 0 ? x : arith::AddIOp::create(b, loc, x, index(v)).getResult();
  }
  Value divIndex(Value x, int64_t v) {
    return arith::DivUIOp::create(b, loc, x, index(v));
  }
  using UnitBody = llvm::function_ref<SmallVector<Value>(
      Value k0, Value blk0, bool pair, int64_t size, ValueRange state)>;
  /// Calls `body` for every unit of a row, threading `state`: an scf.for
  /// over the full units of 128 values (pairs of 64-groups or 128-groups),
  /// then the odd last 64-group, if any, at a constant position.
  SmallVector<Value> forEachUnit(ValueRange state, UnitBody body);
  SmallVector<Value> quantizeUnit(Value a, Value row, Value k0, Value blk0,
                                  bool pair, int64_t size, ValueRange cur);
  Value quantizeA(Value a, Value codes, Value aScales, Value aSums);
  Value zeroPointCorrection(Value aSums);
  Value emitOutputs(Value codes, Value aScales, Value aSums, Value bias,
                    Value out);
  SmallVector<Value> emitCols(Value codes, Value aScales, Value zeroCorr,
                              Value bias, Value row, ArrayRef<Value> cols);

  OpBuilder &b;
  Location loc;
  MatMulNBitsOp op;
  int64_t m, k, n, group, groups;
  Type f32, i32;
  VectorType fVec, iVec;
  SmallVector<Unit> units;
  bool vnni = false;
  /// [N][units][64] i8: per unit, byte 4l + i holds slice i of lane l in
  /// its low nibble and slice 4 + i in its high nibble (0 for a 64-unit).
  Value weight;
  /// [N][groups] f32: the weight scales.
  Value wScales;
  /// [groups][N rounded up to 16] f32: -(scale * zero point), 0 in padding
  /// columns.
  Value wSums;
  int64_t nPad;
};

} // namespace

LogicalResult Int8BlockEmitter::pack() {
  DenseElementsAttr wAttr, sAttr, zAttr;
  if (!matchPattern(op.getWeight(), m_Constant(&wAttr)))
    return op.emitError() << "qopt-cpu-matmul-nbits: the packed weight must "
                             "be a constant (it is repacked at compile time)";
  if (!matchPattern(op.getScales(), m_Constant(&sAttr)))
    return op.emitError()
           << "qopt-cpu-matmul-nbits: the scales must be a constant";
  if (op.getZeroPoints() &&
      !matchPattern(op.getZeroPoints(), m_Constant(&zAttr)))
    return op.emitError()
           << "qopt-cpu-matmul-nbits: the zero points must be a constant";
  SmallVector<uint8_t> bytes;
  for (APInt v : wAttr.getValues<APInt>())
    bytes.push_back(static_cast<uint8_t>(v.getZExtValue()));
  SmallVector<float> scales(sAttr.getValues<float>());
  SmallVector<int64_t> zps;
  if (zAttr)
    for (APInt v : zAttr.getValues<APInt>())
      zps.push_back(static_cast<int64_t>(v.getZExtValue()));

  // Code q[col][kk] of the MatMulNBits layout: byte kk / 2 of the row, low
  // nibble for even kk.
  int64_t rowBytes = k / 2;
  auto code = [&](int64_t col, int64_t kk) -> uint8_t {
    uint8_t byte = bytes[col * rowBytes + kk / 2];
    return kk % 2 ? byte >> 4 : byte & 0xF;
  };
  int64_t numUnits = units.size();
  std::vector<int8_t> packed(n * numUnits * 64, 0);
  for (int64_t col = 0; col < n; ++col)
    for (auto [ui, u] : llvm::enumerate(units))
      for (int64_t l = 0; l < kLanes; ++l)
        for (int64_t i = 0; i < 4; ++i) {
          uint8_t lo = code(col, u.k0 + unitElement(group, u.pair, i, l));
          uint8_t hi =
              u.size == 128
                  ? code(col, u.k0 + unitElement(group, u.pair, 4 + i, l))
                  : 0;
          packed[(col * numUnits + ui) * 64 + 4 * l + i] =
              static_cast<int8_t>(lo | (hi << 4));
        }
  nPad = llvm::divideCeil(n, kLanes) * kLanes;
  std::vector<float> sums(groups * nPad, 0.0f);
  int64_t defaultZp = op.getDefaultZeroPoint();
  for (int64_t col = 0; col < n; ++col)
    for (int64_t blk = 0; blk < groups; ++blk) {
      int64_t i = col * groups + blk;
      float zp = static_cast<float>(zAttr ? zps[i] : defaultZp);
      sums[blk * nPad + col] = -(scales[i] * zp);
    }
  auto wType = RankedTensorType::get({n, numUnits, 64}, b.getI8Type());
  weight = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(wType, ArrayRef<int8_t>(packed)));
  wScales = op.getScales();
  auto pType = RankedTensorType::get({groups, nPad}, f32);
  wSums = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(pType, ArrayRef<float>(sums)));
  return success();
}

SmallVector<Value> Int8BlockEmitter::forEachUnit(ValueRange state,
                                                 UnitBody body) {
  bool pairs = group == 64;
  int64_t full = pairs ? groups / 2 : groups;
  SmallVector<Value> cur(state.begin(), state.end());
  if (full > 0) {
    auto loop = scf::ForOp::create(
        b, loc, index(0), index(full), index(1), cur,
        [&](OpBuilder &lb, Location, Value u, ValueRange iter) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(lb.getInsertionBlock());
          Value k0 = arith::MulIOp::create(b, loc, u, index(128));
          Value blk0 =
              pairs ? arith::MulIOp::create(b, loc, u, index(2)).getResult()
                    : u;
          scf::YieldOp::create(b, loc, body(k0, blk0, pairs, 128, iter));
        });
    cur.assign(loop.getResults().begin(), loop.getResults().end());
  }
  if (pairs && groups % 2 == 1)
    cur = body(index((groups - 1) * 64), index(groups - 1), false, 64, cur);
  return cur;
}

/// Quantizes one unit (a pair of 64-groups, a 128-group or a 64-group) of
/// row `row` starting at K index `k0` (first group `blk0`); `cur` is
/// (codes, scales, block sums), returned updated.
SmallVector<Value> Int8BlockEmitter::quantizeUnit(Value a, Value row, Value k0,
                                                  Value blk0, bool pair,
                                                  int64_t size,
                                                  ValueRange cur) {
  Value curCodes = cur[0], curScales = cur[1], curSums = cur[2];
  Value pad = f32Const(0.0f);
  SmallVector<Value> blockCodes;
  int64_t blocks = pair ? 2 : 1;
  for (int64_t i = 0; i < blocks; ++i) {
    Value blk = addIndex(blk0, i);
    auto vType = VectorType::get({group}, f32);
    auto qType = VectorType::get({group}, i32);
    Value v = vector::TransferReadOp::create(
        b, loc, vType, a, ValueRange{row, addIndex(k0, i * group)}, pad,
        ArrayRef<bool>{true});
    Value absV = math::AbsFOp::create(b, loc, v);
    Value amax = vector::ReductionOp::create(
        b, loc, vector::CombiningKind::MAXNUMF, absV);
    Value scale = arith::DivFOp::create(b, loc, amax, f32Const(127.0f));
    Value isZero = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                         amax, f32Const(0.0f));
    Value inv = arith::SelectOp::create(
        b, loc, isZero, f32Const(0.0f),
        arith::DivFOp::create(b, loc, f32Const(127.0f), amax));
    Value invV = vector::BroadcastOp::create(b, loc, vType, inv);
    Value x = arith::MulFOp::create(b, loc, v, invV);
    Value r = math::RoundEvenOp::create(b, loc, x);
    Value q = arith::FPToSIOp::create(b, loc, qType, r);
    Value sum =
        vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, q);
    Value sumF = arith::SIToFPOp::create(b, loc, f32, sum);
    Value blkSum = arith::MulFOp::create(b, loc, scale, sumF);
    curScales = tensor::InsertOp::create(b, loc, scale, curScales,
                                         ValueRange{row, blk});
    curSums =
        tensor::InsertOp::create(b, loc, blkSum, curSums, ValueRange{row, blk});
    blockCodes.push_back(q);
  }
  // Concatenate a pair, then permute into slice order.
  Value unitCodes = blockCodes[0];
  if (pair) {
    SmallVector<int64_t> concat(128);
    for (int64_t i = 0; i < 128; ++i)
      concat[i] = i;
    unitCodes =
        vector::ShuffleOp::create(b, loc, blockCodes[0], blockCodes[1], concat);
  }
  // Code block h (64 bytes) of the unit: byte 4l + i is slice 4h + i of
  // lane l.
  SmallVector<int64_t> perm(size);
  for (int64_t h = 0; h < size / 64; ++h)
    for (int64_t l = 0; l < kLanes; ++l)
      for (int64_t i = 0; i < 4; ++i)
        perm[64 * h + 4 * l + i] = unitElement(group, pair, 4 * h + i, l);
  Value permuted =
      vector::ShuffleOp::create(b, loc, unitCodes, unitCodes, perm);
  Value bytes = arith::TruncIOp::create(
      b, loc, VectorType::get({size}, b.getI8Type()), permuted);
  Value block0 = divIndex(k0, 64);
  for (int64_t h = 0; h < size / 64; ++h) {
    Value block = vector::ExtractStridedSliceOp::create(
        b, loc, bytes, ArrayRef<int64_t>{64 * h}, ArrayRef<int64_t>{64},
        ArrayRef<int64_t>{1});
    curCodes = vector::TransferWriteOp::create(
                   b, loc, block, curCodes,
                   ValueRange{row, addIndex(block0, h), index(0)},
                   ArrayRef<bool>{true})
                   .getResult();
  }
  return {curCodes, curScales, curSums};
}

/// Per row and group: the scale, the block sum, and the codes in the
/// permuted order, written to codes[row][K / 64][64] (i8).
Value Int8BlockEmitter::quantizeA(Value a, Value codes, Value aScales,
                                  Value aSums) {
  auto loop = scf::ForOp::create(
      b, loc, index(0), index(m), index(1), ValueRange{codes, aScales, aSums},
      [&](OpBuilder &nb, Location, Value row, ValueRange iter) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(nb.getInsertionBlock());
        SmallVector<Value> state = {iter[0], iter[1], iter[2]};
        state = forEachUnit(state, [&](Value k0, Value blk0, bool pair,
                                       int64_t size, ValueRange cur) {
          return quantizeUnit(a, row, k0, blk0, pair, size, cur);
        });
        Value curCodes = state[0], curScales = state[1], curSums = state[2];
        scf::YieldOp::create(b, loc, ValueRange{curCodes, curScales, curSums});
      });
  return loop.getResult(0);
}

/// The outputs y[row, cols[j]].
SmallVector<Value> Int8BlockEmitter::emitCols(Value codes, Value aScales,
                                              Value zeroCorr, Value bias,
                                              Value row, ArrayRef<Value> cols) {
  int64_t count = cols.size();
  Type i8 = b.getI8Type();
  auto blockType = VectorType::get({64}, i8);
  auto stepType = VectorType::get({kLanes, 4}, i8);
  auto wideType = VectorType::get({kLanes, 4}, i32);
  Value i8Pad = arith::ConstantIntOp::create(b, loc, i8, 0);
  Value mask15 = splat(blockType, b.getI8IntegerAttr(15));
  Value shift4 = splat(blockType, b.getI8IntegerAttr(4));
  MLIRContext *ctx = b.getContext();
  AffineExpr dn = getAffineDimExpr(0, ctx), dk = getAffineDimExpr(1, ctx);
  SmallVector<AffineMap> dotMaps = AffineMap::inferFromExprList(
      ArrayRef<ArrayRef<AffineExpr>>{{dn, dk}, {dn, dk}, {dn}}, ctx);
  ArrayAttr dotIterators = b.getArrayAttr(
      {vector::IteratorTypeAttr::get(ctx, vector::IteratorType::parallel),
       vector::IteratorTypeAttr::get(ctx, vector::IteratorType::reduction)});
  // The lane-wise u8 x s8 dot step (DotStep.h's matchLaneDotStep), which
  // qopt-x86-vnni turns into vpdpbusd.
  auto dotStep = [&](Value weightBytes, Value codeBytes, Value acc) -> Value {
    if (!vnni) {
      // acc[l] += sum_i u[4l + i] * s[4l + i], from i32 products and four
      // stride-4 shuffles.
      auto wide64 = VectorType::get({64}, i32);
      Value prod = arith::MulIOp::create(
          b, loc, arith::ExtUIOp::create(b, loc, wide64, weightBytes),
          arith::ExtSIOp::create(b, loc, wide64, codeBytes));
      for (int64_t i = 0; i < 4; ++i) {
        SmallVector<int64_t> pick(kLanes);
        for (int64_t l = 0; l < kLanes; ++l)
          pick[l] = 4 * l + i;
        acc = arith::AddIOp::create(
            b, loc, acc, vector::ShuffleOp::create(b, loc, prod, prod, pick));
      }
      return acc;
    }
    auto widen = [&](Value v, bool isSigned) -> Value {
      Value shaped = vector::ShapeCastOp::create(b, loc, stepType, v);
      if (isSigned)
        return arith::ExtSIOp::create(b, loc, wideType, shaped);
      return arith::ExtUIOp::create(b, loc, wideType, shaped);
    };
    return vector::ContractionOp::create(
               b, loc, widen(weightBytes, false), widen(codeBytes, true), acc,
               b.getAffineMapArrayAttr(dotMaps), dotIterators)
        .getResult();
  };
  SmallVector<bool> oddLanes(kLanes);
  for (int64_t l = 0; l < kLanes; ++l)
    oddLanes[l] = l % 2 == 1;
  Value oddMask = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(VectorType::get({kLanes}, b.getI1Type()),
                             ArrayRef<bool>(oddLanes)));
  auto scaleVec = [&](Value sa, Value col, Value blk) {
    Value sw = tensor::ExtractOp::create(b, loc, wScales, ValueRange{col, blk});
    Value s = arith::MulFOp::create(b, loc, sa, sw);
    return vector::BroadcastOp::create(b, loc, fVec, s).getResult();
  };
  SmallVector<Value> init(count, splat(fVec, b.getF32FloatAttr(0.0f)));
  // Each column's lanes see exactly the operations of a single column: the
  // activation codes are only loaded once for `count` columns.
  SmallVector<Value> accs = forEachUnit(
      init,
      [&](Value k0, Value blk0, bool pair, int64_t size,
          ValueRange cur) -> SmallVector<Value> {
        SmallVector<Value> lanes(count, splat(iVec, b.getI32IntegerAttr(0)));
        Value wRow = divIndex(k0, 128), aRow = divIndex(k0, 64);
        int64_t halves = size / 64;
        SmallVector<Value> aBlocks;
        for (int64_t h = 0; h < halves; ++h)
          aBlocks.push_back(vector::TransferReadOp::create(
              b, loc, blockType, codes,
              ValueRange{row, addIndex(aRow, h), index(0)}, i8Pad,
              ArrayRef<bool>{true}));
        for (int64_t j = 0; j < count; ++j) {
          Value bytes = vector::TransferReadOp::create(
              b, loc, blockType, weight, ValueRange{cols[j], wRow, index(0)},
              i8Pad, ArrayRef<bool>{true});
          Value lo = arith::AndIOp::create(b, loc, bytes, mask15);
          lanes[j] = dotStep(lo, aBlocks[0], lanes[j]);
          if (halves == 2) {
            Value hi = arith::ShRUIOp::create(b, loc, bytes, shift4);
            lanes[j] = dotStep(hi, aBlocks[1], lanes[j]);
          }
        }
        Value sa0 =
            tensor::ExtractOp::create(b, loc, aScales, ValueRange{row, blk0});
        Value blk1, sa1;
        if (pair) {
          blk1 = addIndex(blk0, 1);
          sa1 =
              tensor::ExtractOp::create(b, loc, aScales, ValueRange{row, blk1});
        }
        SmallVector<Value> next;
        for (int64_t j = 0; j < count; ++j) {
          Value lanesF = arith::SIToFPOp::create(b, loc, fVec, lanes[j]);
          Value scale = scaleVec(sa0, cols[j], blk0);
          if (pair)
            scale = arith::SelectOp::create(
                b, loc, oddMask, scaleVec(sa1, cols[j], blk1), scale);
          next.push_back(vector::FMAOp::create(b, loc, lanesF, scale, cur[j]));
        }
        return next;
      });
  auto addF = [&](Value p, Value q) {
    return arith::AddFOp::create(b, loc, p, q).getResult();
  };
  SmallVector<Value> results;
  int64_t fullCols = n - n % 4;
  for (int64_t j = 0; j < count; ++j) {
    Value acc = accs[j], col = cols[j];
    // MLAS's two reduction trees of the 16 lanes.
    SmallVector<Value> x;
    for (int64_t l = 0; l < kLanes; ++l)
      x.push_back(vector::ExtractOp::create(b, loc, acc, l));
    SmallVector<Value> h8, t4;
    for (int64_t i = 0; i < 8; ++i)
      h8.push_back(addF(x[i], x[i + 8]));
    for (int64_t i = 0; i < 4; ++i)
      t4.push_back(addF(h8[i], h8[i + 4]));
    Value hsum = addF(addF(t4[0], t4[2]), addF(t4[1], t4[3]));
    Value reduced = hsum;
    if (m % 2 == 1 && fullCols > 0) {
      SmallVector<Value> s;
      for (int64_t c = 0; c < 4; ++c)
        s.push_back(addF(addF(addF(x[4 * c], x[4 * c + 1]), x[4 * c + 2]),
                         x[4 * c + 3]));
      Value fold = addF(addF(s[0], s[2]), addF(s[1], s[3]));
      Value lastRow = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                            row, index(m - 1));
      Value inTile = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                           col, index(fullCols));
      Value useFold = arith::AndIOp::create(b, loc, lastRow, inTile);
      reduced = arith::SelectOp::create(b, loc, useFold, fold, hsum);
    }
    if (bias)
      reduced = addF(reduced, tensor::ExtractOp::create(b, loc, bias, col));
    results.push_back(
        addF(reduced, tensor::ExtractOp::create(b, loc, zeroCorr,
                                                ValueRange{row, col})));
  }
  return results;
}

/// The zero-point correction [M][N rounded up to 16]: per output an fma
/// chain over the groups from 0, sum_blk fma(block sum, -(scale * zp)), as
/// MLAS computes it; 16 columns at once (each lane is one column's chain).
Value Int8BlockEmitter::zeroPointCorrection(Value aSums) {
  Value init = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{m, nPad}, f32);
  Value zero = splat(fVec, b.getF32FloatAttr(0.0f));
  Value pad = f32Const(0.0f);
  auto rows = scf::ForOp::create(
      b, loc, index(0), index(m), index(1), ValueRange{init},
      [&](OpBuilder &rb, Location, Value row, ValueRange rowIter) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(rb.getInsertionBlock());
        auto cols = scf::ForOp::create(
            b, loc, index(0), index(nPad), index(kLanes),
            ValueRange{rowIter[0]},
            [&](OpBuilder &cb, Location, Value col0, ValueRange colIter) {
              OpBuilder::InsertionGuard guard(b);
              b.setInsertionPointToStart(cb.getInsertionBlock());
              auto chain = scf::ForOp::create(
                  b, loc, index(0), index(groups), index(1), ValueRange{zero},
                  [&](OpBuilder &gb, Location, Value blk, ValueRange acc) {
                    OpBuilder::InsertionGuard guard(b);
                    b.setInsertionPointToStart(gb.getInsertionBlock());
                    Value as = tensor::ExtractOp::create(b, loc, aSums,
                                                         ValueRange{row, blk});
                    Value ws = vector::TransferReadOp::create(
                        b, loc, fVec, wSums, ValueRange{blk, col0}, pad,
                        ArrayRef<bool>{true});
                    Value next = vector::FMAOp::create(
                        b, loc, vector::BroadcastOp::create(b, loc, fVec, as),
                        ws, acc[0]);
                    scf::YieldOp::create(b, loc, next);
                  });
              Value written = vector::TransferWriteOp::create(
                                  b, loc, chain.getResult(0), colIter[0],
                                  ValueRange{row, col0}, ArrayRef<bool>{true})
                                  .getResult();
              scf::YieldOp::create(b, loc, written);
            });
        scf::YieldOp::create(b, loc, cols.getResult(0));
      });
  return rows.getResult(0);
}

Value Int8BlockEmitter::emitOutputs(Value codes, Value aScales, Value aSums,
                                    Value bias, Value out) {
  Value zeroCorr = zeroPointCorrection(aSums);
  // Columns in groups of `kColTile` (sharing the activation loads), then
  // one at a time.
  int64_t tiled = n / kColTile * kColTile;
  auto colLoop = [&](Value row, Value cur, int64_t lb, int64_t ub,
                     int64_t step) -> Value {
    if (lb >= ub)
      return cur;
    auto cols = scf::ForOp::create(
        b, loc, index(lb), index(ub), index(step), ValueRange{cur},
        [&](OpBuilder &cb, Location, Value col0, ValueRange colIter) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(cb.getInsertionBlock());
          SmallVector<Value> cols;
          for (int64_t j = 0; j < step; ++j)
            cols.push_back(addIndex(col0, j));
          SmallVector<Value> ys =
              emitCols(codes, aScales, zeroCorr, bias, row, cols);
          Value next = colIter[0];
          for (int64_t j = 0; j < step; ++j)
            next = tensor::InsertOp::create(b, loc, ys[j], next,
                                            ValueRange{row, cols[j]});
          scf::YieldOp::create(b, loc, next);
        });
    return cols.getResult(0);
  };
  auto rows = scf::ForOp::create(
      b, loc, index(0), index(m), index(1), ValueRange{out},
      [&](OpBuilder &rb, Location, Value row, ValueRange rowIter) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(rb.getInsertionBlock());
        Value cur = colLoop(row, rowIter[0], 0, tiled, kColTile);
        cur = colLoop(row, cur, tiled, n, 1);
        scf::YieldOp::create(b, loc, cur);
      });
  return rows.getResult(0);
}

Value Int8BlockEmitter::emit(Value a, Value bias) {
  Value codes = tensor::EmptyOp::create(
      b, loc, ArrayRef<int64_t>{m, k / 64, 64}, b.getI8Type());
  Value aScales =
      tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{m, groups}, f32);
  Value aSums =
      tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{m, groups}, f32);
  auto loop = quantizeA(a, codes, aScales, aSums).getDefiningOp<scf::ForOp>();
  Value out = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{m, n}, f32);
  return emitOutputs(loop.getResult(0), loop.getResult(1), loop.getResult(2),
                     bias, out);
}

FailureOr<Value> mlir::qopt::emitMatMulNBitsInt8Block(OpBuilder &b,
                                                      MatMulNBitsOp op, Value a,
                                                      int64_t m) {
  Int8BlockEmitter emitter(b, op.getLoc(), op, m);
  if (failed(emitter.pack()))
    return failure();
  return emitter.emit(a, op.getBias());
}
