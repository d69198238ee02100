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
// shuffled so that slice g of a unit holds, in lane l, the g-th element of
// lane l's set. The integer part then is 16-lane i32 multiply-adds, and the
// float work per unit is one fma, as in MLAS.
//
//===----------------------------------------------------------------------===//

#include "CPUMatMulNBitsInt8.h"

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
  Value emitOutputs(Value codes, Value aScales, Value aSums, Value bias,
                    Value out);
  SmallVector<Value> emitCols(Value codes, Value aScales, Value aSums,
                              Value bias, Value row, ArrayRef<Value> cols);

  OpBuilder &b;
  Location loc;
  MatMulNBitsOp op;
  int64_t m, k, n, group, groups;
  Type f32, i32;
  VectorType fVec, iVec;
  SmallVector<Unit> units;
  /// [N][K / 32][16] i8: per unit, slice pairs (2h, 2h+1) as low/high
  /// nibbles of 16 bytes.
  Value weight;
  /// [N][groups] f32: the weight scales.
  Value wScales;
  /// [N][groups] f32: -(scale * zero point).
  Value wSums;
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
  std::vector<int8_t> packed(n * rowBytes, 0);
  for (int64_t col = 0; col < n; ++col)
    for (const Unit &u : units) {
      int64_t slices = u.size / kLanes;
      for (int64_t h = 0; h < slices / 2; ++h)
        for (int64_t l = 0; l < kLanes; ++l) {
          uint8_t lo = code(col, u.k0 + unitElement(group, u.pair, 2 * h, l));
          uint8_t hi =
              code(col, u.k0 + unitElement(group, u.pair, 2 * h + 1, l));
          packed[col * rowBytes + u.k0 / 2 + h * kLanes + l] =
              static_cast<int8_t>(lo | (hi << 4));
        }
    }
  std::vector<float> sums(n * groups);
  int64_t defaultZp = op.getDefaultZeroPoint();
  for (int64_t i = 0; i < n * groups; ++i) {
    float zp = static_cast<float>(zAttr ? zps[i] : defaultZp);
    sums[i] = -(scales[i] * zp);
  }
  auto wType = RankedTensorType::get({n, k / 32, kLanes}, b.getI8Type());
  weight = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(wType, ArrayRef<int8_t>(packed)));
  wScales = op.getScales();
  auto pType = RankedTensorType::get({n, groups}, f32);
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
  SmallVector<int64_t> perm(size);
  for (int64_t g = 0; g < size / kLanes; ++g)
    for (int64_t l = 0; l < kLanes; ++l)
      perm[g * kLanes + l] = unitElement(group, pair, g, l);
  Value permuted =
      vector::ShuffleOp::create(b, loc, unitCodes, unitCodes, perm);
  Value slice0 = divIndex(k0, kLanes);
  for (int64_t g = 0; g < size / kLanes; ++g) {
    Value slice = vector::ExtractStridedSliceOp::create(
        b, loc, permuted, ArrayRef<int64_t>{g * kLanes},
        ArrayRef<int64_t>{kLanes}, ArrayRef<int64_t>{1});
    curCodes = vector::TransferWriteOp::create(
                   b, loc, slice, curCodes,
                   ValueRange{row, addIndex(slice0, g), index(0)},
                   ArrayRef<bool>{true})
                   .getResult();
  }
  return {curCodes, curScales, curSums};
}

/// Per row and group: the scale, the block sum, and the codes in the
/// permuted slice order, written to codes[row][K / 16][16] (i32).
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
                                              Value aSums, Value bias,
                                              Value row, ArrayRef<Value> cols) {
  int64_t count = cols.size();
  auto bytesType = VectorType::get({kLanes}, b.getI8Type());
  Value i8Pad = arith::ConstantIntOp::create(b, loc, b.getI8Type(), 0);
  Value i32Pad = arith::ConstantIntOp::create(b, loc, i32, 0);
  Value mask15 = splat(iVec, b.getI32IntegerAttr(15));
  Value shift4 = splat(iVec, b.getI32IntegerAttr(4));
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
        Value wRow = divIndex(k0, 32), aRow = divIndex(k0, kLanes);
        for (int64_t h = 0; h < size / kLanes / 2; ++h) {
          Value aLo = vector::TransferReadOp::create(
              b, loc, iVec, codes,
              ValueRange{row, addIndex(aRow, 2 * h), index(0)}, i32Pad,
              ArrayRef<bool>{true});
          Value aHi = vector::TransferReadOp::create(
              b, loc, iVec, codes,
              ValueRange{row, addIndex(aRow, 2 * h + 1), index(0)}, i32Pad,
              ArrayRef<bool>{true});
          for (int64_t j = 0; j < count; ++j) {
            Value bytes = vector::TransferReadOp::create(
                b, loc, bytesType, weight,
                ValueRange{cols[j], addIndex(wRow, h), index(0)}, i8Pad,
                ArrayRef<bool>{true});
            Value wide = arith::ExtUIOp::create(b, loc, iVec, bytes);
            Value lo = arith::AndIOp::create(b, loc, wide, mask15);
            Value hi = arith::ShRUIOp::create(b, loc, wide, shift4);
            lanes[j] = arith::AddIOp::create(
                b, loc, lanes[j], arith::MulIOp::create(b, loc, lo, aLo));
            lanes[j] = arith::AddIOp::create(
                b, loc, lanes[j], arith::MulIOp::create(b, loc, hi, aHi));
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
  // The zero-point correction: per column an fma chain over the groups
  // from 0.
  SmallVector<Value> zeros(count, f32Const(0.0f));
  auto chain = scf::ForOp::create(
      b, loc, index(0), index(groups), index(1), zeros,
      [&](OpBuilder &cb, Location, Value blk, ValueRange iter) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(cb.getInsertionBlock());
        Value as =
            tensor::ExtractOp::create(b, loc, aSums, ValueRange{row, blk});
        SmallVector<Value> next;
        for (int64_t j = 0; j < count; ++j) {
          Value ws = tensor::ExtractOp::create(b, loc, wSums,
                                               ValueRange{cols[j], blk});
          next.push_back(math::FmaOp::create(b, loc, as, ws, iter[j]));
        }
        scf::YieldOp::create(b, loc, next);
      });
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
    results.push_back(addF(reduced, chain.getResult(j)));
  }
  return results;
}

Value Int8BlockEmitter::emitOutputs(Value codes, Value aScales, Value aSums,
                                    Value bias, Value out) {
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
              emitCols(codes, aScales, aSums, bias, row, cols);
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
      b, loc, ArrayRef<int64_t>{m, k / kLanes, kLanes}, i32);
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
