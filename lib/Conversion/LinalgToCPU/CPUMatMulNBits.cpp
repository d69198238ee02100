//===- CPUMatMulNBits.cpp - weight-only GEMM, dequantized in registers ----===//
//
// qopt-cpu-matmul-nbits: lowers qopt.matmul_nbits (4- or 8-bit per-group
// weights, float activations) to a register-tiled loop nest of scf.for over
// vector ops on tensors. The weight stays 4 or 8 bits per value in memory:
// it is repacked at compile time so that one 16-byte load feeds 16 columns,
// and each value is turned into a float in a register (zero-extend, mask or
// shift, OR into the mantissa of 2^23, subtract 2^23 + zero point: exact),
// then scaled per group. No float copy of the weight matrix exists at any
// point. At one row (GEMV) the loop is memory bound and keeps the work per
// loaded byte minimal: the scale is applied once per group and 16 columns.
// With `compute bf16` a separate kernel (MatMulNBitsBF16Emitter) converts
// activations and scaled weights to bf16 and accumulates with vdpbf16ps.
//
//===----------------------------------------------------------------------===//

#include "CPUTarget.h"
#include "qopt/Conversion/Passes.h"
#include "qopt/Dialect/QOpt/IR/QOptOps.h"

#include "mlir/Dialect/X86Vector/X86VectorDialect.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

#include <cstring>

namespace mlir::qopt {
#define GEN_PASS_DEF_CPUMATMULNBITS
#include "qopt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

/// 2^23 as float bits: OR-ing an integer q < 2^23 into its mantissa gives
/// the float 2^23 + q exactly.
static constexpr int32_t kMagicBits = 0x4B000000;
static constexpr float kMagic = 8388608.0f;
/// Columns per vector.
static constexpr int64_t kLanes = 16;

namespace {

/// The raw bytes of a constant i8 tensor (splats expanded).
static std::optional<std::vector<uint8_t>> getConstantBytes(Value value) {
  DenseElementsAttr attr;
  if (!matchPattern(value, m_Constant(&attr)) ||
      !attr.getElementType().isInteger(8))
    return std::nullopt;
  int64_t n = attr.getNumElements();
  ArrayRef<char> raw = attr.getRawData();
  if (attr.isSplat())
    return std::vector<uint8_t>(n, static_cast<uint8_t>(raw[0]));
  return std::vector<uint8_t>(raw.begin(), raw.end());
}

static std::optional<std::vector<float>> getConstantF32(Value value) {
  DenseElementsAttr attr;
  if (!matchPattern(value, m_Constant(&attr)) || !attr.getElementType().isF32())
    return std::nullopt;
  auto range = attr.getValues<float>();
  return std::vector<float>(range.begin(), range.end());
}

/// The weight, scales and zero points in the kernel's layout.
struct PackedNBits {
  /// [tiles][K / valuesPerByte][16] i8.
  Value bytes;
  /// [tiles][groups][16] f32: the scale, 0 in padding columns.
  Value scales;
  /// [tiles][groups][16] f32: 2^23 + zero point.
  Value offsets;
  int64_t tiles;
};

class MatMulNBitsEmitter {
public:
  MatMulNBitsEmitter(OpBuilder &b, Location loc, MatMulNBitsOp op,
                     const PackedNBits &packed, int64_t tileM, int64_t tileN)
      : b(b), loc(loc), packed(packed), tileM(tileM), tileN(tileN) {
    bits = op.getBits();
    group = op.getGroupSize();
    k = op.getK();
    n = op.getN();
    groups = k / group;
    f32 = b.getF32Type();
    i32 = b.getI32Type();
    fVec = VectorType::get({kLanes}, f32);
    iVec = VectorType::get({kLanes}, i32);
  }

  /// Y[M, N] = A[M, K] * W, written into `out`.
  Value emit(Value a, Value out, int64_t m) {
    auto loop = scf::ForOp::create(
        b, loc, index(0), index(packed.tiles), index(tileN), ValueRange{out},
        [&](OpBuilder &nb, Location, Value t0, ValueRange iter) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(nb.getInsertionBlock());
          Value cur = iter[0];
          int64_t rows = m > 1 ? std::min<int64_t>(tileM, m) : 1;
          int64_t full = m / rows * rows;
          cur = emitRows(a, t0, 0, full, rows, cur);
          if (full < m)
            cur = emitRows(a, t0, full, m, 1, cur);
          scf::YieldOp::create(b, loc, cur);
        });
    return loop.getResult(0);
  }

private:
  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, int64_t v) {
    return v == 0 ? x : arith::AddIOp::create(b, loc, x, index(v)).getResult();
  }
  Value mul(Value x, int64_t v) {
    return v == 1 ? x : arith::MulIOp::create(b, loc, x, index(v)).getResult();
  }
  Value splatI32(int32_t v) {
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(iVec, b.getI32IntegerAttr(v)));
  }
  Value zeroF() {
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(fVec, b.getF32FloatAttr(0.0f)));
  }
  /// One vector<16xf32> of a [tiles][groups][16] parameter tensor.
  Value readParam(Value tensor, Value tile, Value g) {
    Value pad = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
    return vector::TransferReadOp::create(b, loc, fVec, tensor,
                                          ValueRange{tile, g, index(0)}, pad,
                                          ArrayRef<bool>{true});
  }
  /// The activation a[row, kIndex] broadcast to 16 lanes.
  Value readAct(Value a, Value row, Value kIndex) {
    Value scalar =
        tensor::ExtractOp::create(b, loc, a, ValueRange{row, kIndex});
    return vector::BroadcastOp::create(b, loc, fVec, scalar);
  }

  /// The two K steps (k0, k0 + 1) of 16 columns of tile `tile`, as floats
  /// q - zero point (exact): `offset` is 2^23 + zero point.
  std::pair<Value, Value> dequantPair(Value tile, Value kPair, Value offset) {
    Type i8 = b.getI8Type();
    Value pad = arith::ConstantIntOp::create(b, loc, i8, 0);
    auto bytesType = VectorType::get({kLanes}, i8);
    auto toFloat = [&](Value ints) {
      Value withMagic =
          arith::OrIOp::create(b, loc, ints, splatI32(kMagicBits));
      Value asFloat = arith::BitcastOp::create(b, loc, fVec, withMagic);
      return arith::SubFOp::create(b, loc, asFloat, offset).getResult();
    };
    if (bits == 4) {
      Value bytes = vector::TransferReadOp::create(
          b, loc, bytesType, packed.bytes, ValueRange{tile, kPair, index(0)},
          pad, ArrayRef<bool>{true});
      Value wide = arith::ExtUIOp::create(b, loc, iVec, bytes);
      Value lo = arith::AndIOp::create(b, loc, wide, splatI32(15));
      Value hi = arith::ShRUIOp::create(b, loc, wide, splatI32(4));
      return {toFloat(lo), toFloat(hi)};
    }
    Value k0 = mul(kPair, 2);
    Value first = vector::TransferReadOp::create(
        b, loc, bytesType, packed.bytes, ValueRange{tile, k0, index(0)}, pad,
        ArrayRef<bool>{true});
    Value second = vector::TransferReadOp::create(
        b, loc, bytesType, packed.bytes, ValueRange{tile, add(k0, 1), index(0)},
        pad, ArrayRef<bool>{true});
    return {toFloat(arith::ExtUIOp::create(b, loc, iVec, first)),
            toFloat(arith::ExtUIOp::create(b, loc, iVec, second))};
  }

  /// Rows [lb, ub) in steps of `rows`, tiles [t0, t0 + tileN).
  Value emitRows(Value a, Value t0, int64_t lb, int64_t ub, int64_t rows,
                 Value out) {
    if (lb >= ub)
      return out;
    auto loop = scf::ForOp::create(
        b, loc, index(lb), index(ub), index(rows), ValueRange{out},
        [&](OpBuilder &nb, Location, Value m0, ValueRange iter) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(nb.getInsertionBlock());
          SmallVector<Value> tiles;
          for (int64_t j = 0; j < tileN; ++j)
            tiles.push_back(add(t0, j));
          SmallVector<Value> accs(rows * tileN, zeroF());
          auto groupLoop = scf::ForOp::create(
              b, loc, index(0), index(groups), index(1), accs,
              [&](OpBuilder &gb, Location, Value g, ValueRange gIter) {
                OpBuilder::InsertionGuard guard(b);
                b.setInsertionPointToStart(gb.getInsertionBlock());
                SmallVector<Value> next =
                    rows == 1 ? emitGemvGroup(a, m0, tiles, g, gIter)
                              : emitGemmGroup(a, m0, rows, tiles, g, gIter);
                scf::YieldOp::create(b, loc, next);
              });
          Value cur = iter[0];
          bool inBounds = n % kLanes == 0 && packed.tiles * kLanes == n;
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t j = 0; j < tileN; ++j)
              cur = vector::TransferWriteOp::create(
                        b, loc, groupLoop.getResult(r * tileN + j), cur,
                        ValueRange{add(m0, r), mul(tiles[j], kLanes)},
                        ArrayRef<bool>{inBounds})
                        .getResult();
          scf::YieldOp::create(b, loc, cur);
        });
    return loop.getResult(0);
  }

  /// One group at one row: even and odd K steps in two accumulators per
  /// tile, then acc += (even + odd) * scale.
  SmallVector<Value> emitGemvGroup(Value a, Value m0, ArrayRef<Value> tiles,
                                   Value g, ValueRange accs) {
    SmallVector<Value> offsets, init;
    for (Value tile : tiles) {
      offsets.push_back(readParam(packed.offsets, tile, g));
      init.push_back(zeroF());
      init.push_back(zeroF());
    }
    Value pairBase = mul(g, group / 2);
    auto inner = scf::ForOp::create(
        b, loc, index(0), index(group / 2), index(1), init,
        [&](OpBuilder &ib, Location, Value p, ValueRange iter) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(ib.getInsertionBlock());
          Value kPair = arith::AddIOp::create(b, loc, pairBase, p);
          Value k0 = mul(kPair, 2);
          Value aEven = readAct(a, m0, k0), aOdd = readAct(a, m0, add(k0, 1));
          SmallVector<Value> next;
          for (auto [j, tile] : llvm::enumerate(tiles)) {
            auto [even, odd] = dequantPair(tile, kPair, offsets[j]);
            next.push_back(
                vector::FMAOp::create(b, loc, even, aEven, iter[2 * j]));
            next.push_back(
                vector::FMAOp::create(b, loc, odd, aOdd, iter[2 * j + 1]));
          }
          scf::YieldOp::create(b, loc, next);
        });
    SmallVector<Value> next;
    for (auto [j, tile] : llvm::enumerate(tiles)) {
      Value scale = readParam(packed.scales, tile, g);
      Value sum = arith::AddFOp::create(b, loc, inner.getResult(2 * j),
                                        inner.getResult(2 * j + 1));
      next.push_back(vector::FMAOp::create(b, loc, sum, scale, accs[j]));
    }
    return next;
  }

  /// One group at `rows` rows: each weight vector is dequantized and scaled
  /// once, w = (q - zp) * scale, and used by every row.
  SmallVector<Value> emitGemmGroup(Value a, Value m0, int64_t rows,
                                   ArrayRef<Value> tiles, Value g,
                                   ValueRange accs) {
    SmallVector<Value> offsets, scales;
    for (Value tile : tiles) {
      offsets.push_back(readParam(packed.offsets, tile, g));
      scales.push_back(readParam(packed.scales, tile, g));
    }
    Value pairBase = mul(g, group / 2);
    auto inner = scf::ForOp::create(
        b, loc, index(0), index(group / 2), index(1), accs,
        [&](OpBuilder &ib, Location, Value p, ValueRange iter) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(ib.getInsertionBlock());
          Value kPair = arith::AddIOp::create(b, loc, pairBase, p);
          Value k0 = mul(kPair, 2);
          SmallVector<Value> even, odd;
          for (auto [j, tile] : llvm::enumerate(tiles)) {
            auto [e, o] = dequantPair(tile, kPair, offsets[j]);
            even.push_back(arith::MulFOp::create(b, loc, e, scales[j]));
            odd.push_back(arith::MulFOp::create(b, loc, o, scales[j]));
          }
          SmallVector<Value> next(iter.begin(), iter.end());
          for (int64_t r = 0; r < rows; ++r) {
            Value row = add(m0, r);
            Value aEven = readAct(a, row, k0),
                  aOdd = readAct(a, row, add(k0, 1));
            for (size_t j = 0; j < tiles.size(); ++j) {
              Value &acc = next[r * tiles.size() + j];
              acc = vector::FMAOp::create(b, loc, aEven, even[j], acc);
              acc = vector::FMAOp::create(b, loc, aOdd, odd[j], acc);
            }
          }
          scf::YieldOp::create(b, loc, next);
        });
    return SmallVector<Value>(inner.getResults());
  }

  OpBuilder &b;
  Location loc;
  const PackedNBits &packed;
  int64_t tileM, tileN;
  int64_t bits, group, k, n, groups;
  Type f32, i32;
  VectorType fVec, iVec;
};

/// The weight, scales and zero points in the bf16 kernel's layout. A
/// K pair p of a 16-column tile is one vector<32xbf16> in vdpbf16ps's order,
/// element 2c + j = column c at K = 2p + j, built from two 16-lane f32
/// halves (columns 0-7 and 8-15 of the tile, each as c, j interleaved).
struct PackedNBitsBF16 {
  /// 4 bits: [tiles][K / 2][16] i8, the low nibble of byte i is element i
  /// of half 0, the high nibble element i of half 1. 8 bits: [tiles][K][16],
  /// row 2p + h is half h of pair p.
  Value bytes;
  /// [tiles][groups * 2][16] f32, row 2g + h: the scales of half h (0 in
  /// padding columns).
  Value scales;
  /// [tiles][groups * 2][16] f32: 2^23 + zero point, in the same order.
  Value offsets;
  int64_t tiles;
};

/// Rows that share one converted weight vector in the bf16 kernel: 16
/// accumulators, the register file's other half holds the weights and the
/// scales.
static constexpr int64_t kBF16Rows = 16;

/// Emits the `compute bf16` kernel: Y[m, n] = sum over K pairs, in order, of
/// vdpbf16ps(bf16(a), bf16((q - zp) * scale)), one f32 accumulator chain per
/// output element.
class MatMulNBitsBF16Emitter {
public:
  MatMulNBitsBF16Emitter(OpBuilder &b, Location loc, MatMulNBitsOp op,
                         const PackedNBitsBF16 &packed, int64_t tileN)
      : b(b), loc(loc), packed(packed), tileN(tileN) {
    bits = op.getBits();
    group = op.getGroupSize();
    k = op.getK();
    n = op.getN();
    groups = k / group;
    f32 = b.getF32Type();
    bf16 = b.getBF16Type();
    i32 = b.getI32Type();
    fVec = VectorType::get({kLanes}, f32);
    iVec = VectorType::get({kLanes}, i32);
    hVec = VectorType::get({kLanes}, bf16);
    wVec = VectorType::get({2 * kLanes}, bf16);
  }

  /// Y[M, N] = A[M, K] * W, written into `out`.
  Value emit(Value a, Value out, int64_t m) {
    Value aBF16 = convertActivations(a, m);
    // One row: tileN tiles share each activation pair. Several rows: up to
    // kBF16Rows rows share each weight vector of one tile.
    int64_t rows = m > 1 ? std::min<int64_t>(kBF16Rows, m) : 1;
    int64_t tilesPerStep = m > 1 ? 1 : tileN;
    auto loop = scf::ForOp::create(
        b, loc, index(0), index(packed.tiles), index(tilesPerStep),
        ValueRange{out},
        [&](OpBuilder &nb, Location, Value t0, ValueRange iter) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(nb.getInsertionBlock());
          int64_t full = m / rows * rows;
          Value cur = emitRows(aBF16, t0, tilesPerStep, 0, full, rows, iter[0]);
          if (full < m)
            cur = emitRows(aBF16, t0, tilesPerStep, full, m, 1, cur);
          scf::YieldOp::create(b, loc, cur);
        });
    return loop.getResult(0);
  }

private:
  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, int64_t v) {
    return v == 0 ? x : arith::AddIOp::create(b, loc, x, index(v)).getResult();
  }
  Value mul(Value x, int64_t v) {
    return v == 1 ? x : arith::MulIOp::create(b, loc, x, index(v)).getResult();
  }
  Value splatI32(int32_t v) {
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(iVec, b.getI32IntegerAttr(v)));
  }
  Value readParam(Value tensor, Value tile, Value row) {
    Value pad = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
    return vector::TransferReadOp::create(b, loc, fVec, tensor,
                                          ValueRange{tile, row, index(0)}, pad,
                                          ArrayRef<bool>{true});
  }

  /// A[M, K] f32 -> bf16 with vcvtneps2bf16 (round to nearest even,
  /// subnormals to zero), 16 values at a time.
  Value convertActivations(Value a, int64_t m) {
    Value init = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{m, k}, bf16);
    bool inBounds = k % kLanes == 0;
    auto rowLoop = scf::ForOp::create(
        b, loc, index(0), index(m), index(1), ValueRange{init},
        [&](OpBuilder &rb, Location, Value row, ValueRange rowIter) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(rb.getInsertionBlock());
          auto colLoop = scf::ForOp::create(
              b, loc, index(0), index(k), index(kLanes), rowIter,
              [&](OpBuilder &cb, Location, Value col, ValueRange colIter) {
                OpBuilder::InsertionGuard guard(b);
                b.setInsertionPointToStart(cb.getInsertionBlock());
                Value pad =
                    arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
                Value v = vector::TransferReadOp::create(
                    b, loc, fVec, a, ValueRange{row, col}, pad,
                    ArrayRef<bool>{inBounds});
                Value h =
                    x86vector::CvtPackedF32ToBF16Op::create(b, loc, hVec, v);
                Value next = vector::TransferWriteOp::create(
                                 b, loc, h, colIter[0], ValueRange{row, col},
                                 ArrayRef<bool>{inBounds})
                                 .getResult();
                scf::YieldOp::create(b, loc, next);
              });
          scf::YieldOp::create(b, loc, colLoop.getResult(0));
        });
    return rowLoop.getResult(0);
  }

  /// The activation pair (a[row, 2p], a[row, 2p + 1]) in every dword.
  Value readActPair(Value aBF16, Value row, Value k0) {
    Value pad = arith::ConstantOp::create(b, loc, b.getFloatAttr(bf16, 0.0));
    Value pair = vector::TransferReadOp::create(
        b, loc, VectorType::get({2}, bf16), aBF16, ValueRange{row, k0}, pad,
        ArrayRef<bool>{true});
    Value word =
        vector::BitCastOp::create(b, loc, VectorType::get({1}, i32), pair);
    Value scalar = vector::ExtractOp::create(b, loc, word, 0);
    Value splat = vector::BroadcastOp::create(b, loc, iVec, scalar);
    return vector::BitCastOp::create(b, loc, wVec, splat);
  }

  /// The 32 weights of pair `p` of tile `tile` as bf16: (q - zp) * scale in
  /// f32 (`params` holds offset and scale of both halves), then rounded.
  Value weightPair(Value tile, Value p, ArrayRef<Value> params) {
    Type i8 = b.getI8Type();
    Value pad = arith::ConstantIntOp::create(b, loc, i8, 0);
    auto bytesType = VectorType::get({kLanes}, i8);
    auto read = [&](Value row) {
      Value bytes = vector::TransferReadOp::create(
          b, loc, bytesType, packed.bytes, ValueRange{tile, row, index(0)}, pad,
          ArrayRef<bool>{true});
      return arith::ExtUIOp::create(b, loc, iVec, bytes).getResult();
    };
    Value half[2];
    if (bits == 4) {
      Value wide = read(p);
      half[0] = arith::AndIOp::create(b, loc, wide, splatI32(15));
      half[1] = arith::ShRUIOp::create(b, loc, wide, splatI32(4));
    } else {
      Value row = mul(p, 2);
      half[0] = read(row);
      half[1] = read(add(row, 1));
    }
    Value converted[2];
    for (int h = 0; h < 2; ++h) {
      Value withMagic =
          arith::OrIOp::create(b, loc, half[h], splatI32(kMagicBits));
      Value asFloat = arith::BitcastOp::create(b, loc, fVec, withMagic);
      Value centred = arith::SubFOp::create(b, loc, asFloat, params[2 * h]);
      Value scaled = arith::MulFOp::create(b, loc, centred, params[2 * h + 1]);
      converted[h] =
          x86vector::CvtPackedF32ToBF16Op::create(b, loc, hVec, scaled);
    }
    SmallVector<int64_t> concat = llvm::to_vector(llvm::seq<int64_t>(0, 32));
    return vector::ShuffleOp::create(b, loc, converted[0], converted[1],
                                     concat);
  }

  /// Rows [lb, ub) in steps of `rows`, tiles [t0, t0 + tiles).
  Value emitRows(Value aBF16, Value t0, int64_t tiles, int64_t lb, int64_t ub,
                 int64_t rows, Value out) {
    if (lb >= ub)
      return out;
    auto loop = scf::ForOp::create(
        b, loc, index(lb), index(ub), index(rows), ValueRange{out},
        [&](OpBuilder &nb, Location, Value m0, ValueRange iter) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(nb.getInsertionBlock());
          SmallVector<Value> tileIds;
          for (int64_t j = 0; j < tiles; ++j)
            tileIds.push_back(add(t0, j));
          Value zero = arith::ConstantOp::create(
              b, loc, DenseElementsAttr::get(fVec, b.getF32FloatAttr(0.0f)));
          SmallVector<Value> accs(rows * tiles, zero);
          auto groupLoop = scf::ForOp::create(
              b, loc, index(0), index(groups), index(1), accs,
              [&](OpBuilder &gb, Location, Value g, ValueRange gIter) {
                OpBuilder::InsertionGuard guard(b);
                b.setInsertionPointToStart(gb.getInsertionBlock());
                // Offsets and scales of both halves of each tile.
                SmallVector<SmallVector<Value, 4>> params;
                Value row0 = mul(g, 2);
                for (Value tile : tileIds) {
                  SmallVector<Value, 4> tp;
                  for (int64_t h = 0; h < 2; ++h) {
                    tp.push_back(readParam(packed.offsets, tile, add(row0, h)));
                    tp.push_back(readParam(packed.scales, tile, add(row0, h)));
                  }
                  params.push_back(tp);
                }
                Value pairBase = mul(g, group / 2);
                auto inner = scf::ForOp::create(
                    b, loc, index(0), index(group / 2), index(1), gIter,
                    [&](OpBuilder &ib, Location, Value pi, ValueRange iter) {
                      OpBuilder::InsertionGuard guard(b);
                      b.setInsertionPointToStart(ib.getInsertionBlock());
                      Value p = arith::AddIOp::create(b, loc, pairBase, pi);
                      Value k0 = mul(p, 2);
                      SmallVector<Value> weights;
                      for (auto [j, tile] : llvm::enumerate(tileIds))
                        weights.push_back(weightPair(tile, p, params[j]));
                      SmallVector<Value> next(iter.begin(), iter.end());
                      for (int64_t r = 0; r < rows; ++r) {
                        Value act = readActPair(aBF16, add(m0, r), k0);
                        for (int64_t j = 0; j < tiles; ++j) {
                          Value &acc = next[r * tiles + j];
                          acc = x86vector::DotBF16Op::create(b, loc, fVec, acc,
                                                             weights[j], act);
                        }
                      }
                      scf::YieldOp::create(b, loc, next);
                    });
                scf::YieldOp::create(b, loc, inner.getResults());
              });
          Value cur = iter[0];
          bool inBounds = n % kLanes == 0 && packed.tiles * kLanes == n;
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t j = 0; j < tiles; ++j)
              cur = vector::TransferWriteOp::create(
                        b, loc, groupLoop.getResult(r * tiles + j), cur,
                        ValueRange{add(m0, r), mul(tileIds[j], kLanes)},
                        ArrayRef<bool>{inBounds})
                        .getResult();
          scf::YieldOp::create(b, loc, cur);
        });
    return loop.getResult(0);
  }

  OpBuilder &b;
  Location loc;
  const PackedNBitsBF16 &packed;
  int64_t tileN;
  int64_t bits, group, k, n, groups;
  Type f32, bf16, i32;
  VectorType fVec, iVec, hVec, wVec;
};

class CPUMatMulNBitsPass
    : public qopt::impl::CPUMatMulNBitsBase<CPUMatMulNBitsPass> {
public:
  using Base::Base;
  void runOnOperation() override;

private:
  FailureOr<PackedNBits> pack(OpBuilder &b, MatMulNBitsOp op);
  FailureOr<PackedNBitsBF16> packBF16(OpBuilder &b, MatMulNBitsOp op);
  LogicalResult rewrite(MatMulNBitsOp op);

  CPUFeatureQuery featureQuery;
};
} // namespace

FailureOr<PackedNBits> CPUMatMulNBitsPass::pack(OpBuilder &b,
                                                MatMulNBitsOp op) {
  std::optional<std::vector<uint8_t>> bytes = getConstantBytes(op.getWeight());
  if (!bytes)
    return op.emitError() << "qopt-cpu-matmul-nbits: the packed weight must "
                             "be a constant (it is repacked at compile time)";
  std::optional<std::vector<float>> scales = getConstantF32(op.getScales());
  if (!scales)
    return op.emitError()
           << "qopt-cpu-matmul-nbits: the scales must be a constant";
  std::optional<std::vector<uint8_t>> zeroPoints;
  if (op.getZeroPoints()) {
    zeroPoints = getConstantBytes(op.getZeroPoints());
    if (!zeroPoints)
      return op.emitError()
             << "qopt-cpu-matmul-nbits: the zero points must be a constant";
  }
  int64_t n = op.getN(), k = op.getK(), group = op.getGroupSize();
  int64_t groups = k / group;
  int64_t perByte = op.getBits() == 4 ? 2 : 1;
  int64_t rowBytes = k / perByte;
  int64_t tiles = llvm::divideCeil(llvm::divideCeil(n, kLanes), tileN) * tileN;

  // Byte (n, kb) of the MatMulNBits layout, [N][groups][bytes per group],
  // is byte kb of row n: groups are contiguous along K. With 4 bits, byte
  // kb holds K = 2kb (low nibble) and 2kb + 1 (high nibble).
  std::vector<int8_t> packedBytes(tiles * rowBytes * kLanes, 0);
  for (int64_t col = 0; col < n; ++col) {
    int64_t t = col / kLanes, c = col % kLanes;
    const uint8_t *src = bytes->data() + col * rowBytes;
    int8_t *dst = packedBytes.data() + t * rowBytes * kLanes + c;
    for (int64_t kb = 0; kb < rowBytes; ++kb)
      dst[kb * kLanes] = static_cast<int8_t>(src[kb]);
  }
  std::vector<float> packedScales(tiles * groups * kLanes, 0.0f);
  std::vector<float> packedOffsets(tiles * groups * kLanes, kMagic);
  int64_t defaultZp = op.getDefaultZeroPoint();
  for (int64_t col = 0; col < n; ++col)
    for (int64_t g = 0; g < groups; ++g) {
      int64_t at = ((col / kLanes) * groups + g) * kLanes + col % kLanes;
      packedScales[at] = (*scales)[col * groups + g];
      int64_t zp = zeroPoints ? (*zeroPoints)[col * groups + g] : defaultZp;
      packedOffsets[at] = kMagic + static_cast<float>(zp);
    }

  Location loc = op.getLoc();
  PackedNBits result;
  result.tiles = tiles;
  auto bytesType =
      RankedTensorType::get({tiles, rowBytes, kLanes}, b.getI8Type());
  result.bytes = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(bytesType, ArrayRef<int8_t>(packedBytes)));
  auto paramType =
      RankedTensorType::get({tiles, groups, kLanes}, b.getF32Type());
  result.scales = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(paramType, ArrayRef<float>(packedScales)));
  result.offsets = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(paramType, ArrayRef<float>(packedOffsets)));
  return result;
}

FailureOr<PackedNBitsBF16> CPUMatMulNBitsPass::packBF16(OpBuilder &b,
                                                        MatMulNBitsOp op) {
  std::optional<std::vector<uint8_t>> bytes = getConstantBytes(op.getWeight());
  std::optional<std::vector<float>> scales = getConstantF32(op.getScales());
  std::optional<std::vector<uint8_t>> zeroPoints;
  if (op.getZeroPoints())
    zeroPoints = getConstantBytes(op.getZeroPoints());
  if (!bytes || !scales || (op.getZeroPoints() && !zeroPoints))
    return op.emitError() << "qopt-cpu-matmul-nbits: the packed weight, the "
                             "scales and the zero points must be constants "
                             "(they are repacked at compile time)";
  int64_t n = op.getN(), k = op.getK(), group = op.getGroupSize();
  int64_t groups = k / group, pairs = k / 2;
  bool four = op.getBits() == 4;
  int64_t rowBytes = four ? k / 2 : k;
  int64_t tiles = llvm::divideCeil(llvm::divideCeil(n, kLanes), tileN) * tileN;
  int64_t defaultZp = op.getDefaultZeroPoint();

  // Column c of a tile is half c / 8, lanes 2 (c % 8) and 2 (c % 8) + 1 of
  // it (K = 2p and 2p + 1).
  std::vector<int8_t> packedBytes(tiles * (four ? pairs : k) * kLanes, 0);
  std::vector<float> packedScales(tiles * groups * 2 * kLanes, 0.0f);
  std::vector<float> packedOffsets(tiles * groups * 2 * kLanes, kMagic);
  for (int64_t col = 0; col < n; ++col) {
    int64_t t = col / kLanes, h = (col % kLanes) / 8, c = col % 8;
    const uint8_t *src = bytes->data() + col * rowBytes;
    for (int64_t kk = 0; kk < k; ++kk) {
      uint8_t q =
          four ? (kk % 2 ? src[kk / 2] >> 4 : src[kk / 2] & 15) : src[kk];
      int64_t lane = 2 * c + kk % 2, p = kk / 2;
      if (four)
        packedBytes[(t * pairs + p) * kLanes + lane] |=
            static_cast<int8_t>(h ? q << 4 : q);
      else
        packedBytes[(t * k + 2 * p + h) * kLanes + lane] =
            static_cast<int8_t>(q);
    }
    for (int64_t g = 0; g < groups; ++g) {
      int64_t zp = zeroPoints ? (*zeroPoints)[col * groups + g] : defaultZp;
      for (int64_t j = 0; j < 2; ++j) {
        int64_t at = ((t * groups + g) * 2 + h) * kLanes + 2 * c + j;
        packedScales[at] = (*scales)[col * groups + g];
        packedOffsets[at] = kMagic + static_cast<float>(zp);
      }
    }
  }

  Location loc = op.getLoc();
  PackedNBitsBF16 result;
  result.tiles = tiles;
  auto bytesType =
      RankedTensorType::get({tiles, four ? pairs : k, kLanes}, b.getI8Type());
  result.bytes = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(bytesType, ArrayRef<int8_t>(packedBytes)));
  auto paramType =
      RankedTensorType::get({tiles, groups * 2, kLanes}, b.getF32Type());
  result.scales = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(paramType, ArrayRef<float>(packedScales)));
  result.offsets = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(paramType, ArrayRef<float>(packedOffsets)));
  return result;
}

/// Lowers a `compute bf16` op, or fails with an error when the function's
/// target has no AVX512-BF16.
static LogicalResult checkBF16Target(MatMulNBitsOp op, CPUFeatureQuery &query) {
  auto func = op->getParentOfType<func::FuncOp>();
  if (func && query.hasFeatures(func, {"avx512bf16", "avx512f"}))
    return success();
  auto cpu = func ? func->getAttrOfType<StringAttr>("target_cpu") : nullptr;
  InFlightDiagnostic diag = op.emitError()
                            << "qopt-cpu-matmul-nbits: 'compute bf16' needs "
                               "AVX512-BF16 (vdpbf16ps), and ";
  if (cpu)
    diag << "the target CPU '" << cpu.getValue()
         << "' with its features lacks avx512bf16";
  else
    diag << "the function has no target (run qopt-cpu-set-target, as "
            "qopt-lower-cpu does)";
  diag << "; lower with a CPU that has it (cpu=znver4, sapphirerapids, or "
          "features=+avx512bf16) or quantize with compute-type=f32";
  return failure();
}

LogicalResult CPUMatMulNBitsPass::rewrite(MatMulNBitsOp op) {
  if (op.isBF16Compute() && failed(checkBF16Target(op, featureQuery)))
    return failure();
  OpBuilder b(op);
  Location loc = op.getLoc();
  FailureOr<PackedNBits> packed;
  FailureOr<PackedNBitsBF16> packedBF16;
  if (op.isBF16Compute())
    packedBF16 = packBF16(b, op);
  else
    packed = pack(b, op);
  if (failed(op.isBF16Compute() ? LogicalResult(packedBF16)
                                : LogicalResult(packed)))
    return failure();
  // Leading dimensions of the input are rows: [..., M, K] -> [rows, K].
  RankedTensorType inType = op.getInput().getType();
  RankedTensorType outType = op.getType();
  int64_t rank = inType.getRank();
  int64_t m = inType.getNumElements() / op.getK();
  Value a = op.getInput();
  SmallVector<ReassociationIndices> reassociation;
  if (rank > 2) {
    ReassociationIndices rowsDims;
    for (int64_t d = 0; d + 1 < rank; ++d)
      rowsDims.push_back(d);
    reassociation = {rowsDims, {rank - 1}};
    a = tensor::CollapseShapeOp::create(b, loc, a, reassociation);
  }
  Value out = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{m, op.getN()},
                                      b.getF32Type());
  Value result;
  if (op.isBF16Compute()) {
    MatMulNBitsBF16Emitter emitter(b, loc, op, *packedBF16, tileN);
    result = emitter.emit(a, out, m);
  } else {
    MatMulNBitsEmitter emitter(b, loc, op, *packed, tileM, tileN);
    result = emitter.emit(a, out, m);
  }
  if (rank > 2)
    result =
        tensor::ExpandShapeOp::create(b, loc, outType, result, reassociation);
  op.replaceAllUsesWith(result);
  op.erase();
  ++numRewritten;
  return success();
}

void CPUMatMulNBitsPass::runOnOperation() {
  if (tileM == 0 || tileN == 0) {
    getOperation().emitError()
        << "qopt-cpu-matmul-nbits: tile-m and tile-n must be positive";
    return signalPassFailure();
  }
  SmallVector<MatMulNBitsOp> ops;
  getOperation().walk([&](MatMulNBitsOp op) { ops.push_back(op); });
  for (MatMulNBitsOp op : ops)
    if (failed(rewrite(op)))
      return signalPassFailure();
}
