//===- CPUMatMulNBits.cpp - weight-only GEMM, dequantized in registers ----===//
//
// qopt-cpu-matmul-nbits: lowers qopt.matmul_nbits (4- or 8-bit per-group
// weights, float activations) to a register-tiled loop nest of scf.for over
// vector ops on tensors. The weight stays 4 or 8 bits per value in memory:
// it is repacked at compile time so that one load feeds 16 columns (4-bit
// groups of 8k: nibble planes, 8 K steps per 64-byte load; otherwise bytes),
// and each value is turned into a float in a register (mask and OR into a
// float exponent, subtract 2^E + zero point: exact), then scaled per group. No
// float copy of the weight matrix exists at any point. At one row (GEMV) the
// loop reads each weight byte once and keeps the work per byte minimal: the
// scale is applied once per group and 16 columns. Ops with `compute bf16` take
// CPUMatMulNBitsBF16.cpp's AVX512-BF16 kernel, ops with `int8_block`
// CPUMatMulNBitsInt8.cpp's.
//
//===----------------------------------------------------------------------===//

#include "CPUMatMulNBitsBF16.h"
#include "CPUMatMulNBitsInt8.h"
#include "MatMulNBitsConstants.h"
#include "qopt/Conversion/Passes.h"
#include "qopt/Dialect/QOpt/IR/QOptOps.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

#include <cmath>
#include <cstring>

namespace mlir::qopt {
#define GEN_PASS_DEF_CPUMATMULNBITS
#include "qopt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

static constexpr int32_t kMagicBits = kNBitsMagicBits;
static constexpr float kMagic = kNBitsMagic;
static constexpr int64_t kLanes = kNBitsLanes;

namespace {

/// The weight, scales and zero points in the kernel's layout.
struct PackedNBits {
  /// Byte layout: [tiles][K / valuesPerByte][16] i8. Nibble-plane layout
  /// (4 bits, groups a multiple of 8): [tiles][K / 8][16] i32, nibble j of
  /// word (t, c, l) is the weight at K = 8c + j of column 16t + l.
  Value bytes;
  /// [tiles][groups][16] f32: the scale, 0 in padding columns.
  Value scales;
  /// Byte layout: [tiles][groups][16] f32, 2^23 + zero point. Nibble-plane
  /// layout: [tiles][groups][16] i8 zero points, or null when the op has
  /// none (every group then uses `defaultZeroPoint`).
  Value offsets;
  int64_t tiles;
  bool planes = false;
  float defaultZeroPoint = 0.0f;
};

/// In the nibble-plane layout a 32-bit word holds 8 weights. The nibble at
/// bit 4p (p < 2), masked in place and OR-ed into the exponent of 2^(23-4p),
/// is the float 2^(23-4p) + q exactly (its mantissa LSB is worth 2^-4p), so
/// one AND/OR (one vpternlogd) and one subtraction of 2^(23-4p) + zp give
/// q - zp exactly. Byte i of the word (nibbles 2i, 2i + 1) is brought to
/// positions 0 and 1 by one shift by 8i.
static constexpr int64_t kPlanePositions = 2;
/// Tiles of 16 columns the nibble-plane kernels process at once.
static constexpr int64_t kPlaneTiles = 2;
static int32_t planeExponentBits(int64_t p) { return (127 + 23 - 4 * p) << 23; }
static float planeBias(int64_t p) { return std::ldexp(1.0f, 23 - 4 * p); }

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

  Value splatF(float v) {
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(fVec, b.getF32FloatAttr(v)));
  }

  /// The zero points of tile `tile`, group `g` (nibble-plane layout), as
  /// floats.
  Value readZeroPoints(Value tile, Value g) {
    if (!packed.offsets)
      return splatF(packed.defaultZeroPoint);
    Type i8 = b.getI8Type();
    Value pad = arith::ConstantIntOp::create(b, loc, i8, 0);
    Value bytes = vector::TransferReadOp::create(
        b, loc, VectorType::get({kLanes}, i8), packed.offsets,
        ValueRange{tile, g, index(0)}, pad, ArrayRef<bool>{true});
    return arith::UIToFPOp::create(b, loc, fVec, bytes);
  }

  /// Word `chunk` of tile `tile` (nibble-plane layout) as its 8 nibbles, each
  /// masked in place at position p = j % 2 of one of four shifted copies
  /// and OR-ed into the exponent of 2^(23-4p): the floats 2^(23-4p) + q,
  /// exactly.
  SmallVector<Value, 8> unpackPlanes(Value tile, Value chunk) {
    Value pad = arith::ConstantIntOp::create(b, loc, i32, 0);
    Value word = vector::TransferReadOp::create(
        b, loc, iVec, packed.bytes, ValueRange{tile, chunk, index(0)}, pad,
        ArrayRef<bool>{true});
    Value sources[4] = {word};
    for (int64_t i = 1; i < 4; ++i)
      sources[i] = arith::ShRUIOp::create(b, loc, word, splatI32(8 * i));
    SmallVector<Value, 8> biased;
    for (int64_t j = 0; j < 8; ++j) {
      int64_t p = j % kPlanePositions;
      Value masked = arith::AndIOp::create(b, loc, sources[j / kPlanePositions],
                                           splatI32(0xF << (4 * p)));
      Value withExp =
          arith::OrIOp::create(b, loc, masked, splatI32(planeExponentBits(p)));
      biased.push_back(arith::BitcastOp::create(b, loc, fVec, withExp));
    }
    return biased;
  }

  /// GEMV group in the nibble-plane layout: per tile, the two offsets
  /// 2^(23-4p) + zp are formed once per group, each weight costs one
  /// AND/OR, one subtraction and one FMA; the scale is applied once per
  /// group as in emitGemvGroup.
  SmallVector<Value> emitGemvGroupPlanes(Value a, Value m0,
                                         ArrayRef<Value> tiles, Value g,
                                         ValueRange accs) {
    SmallVector<SmallVector<Value, 3>> offsets;
    SmallVector<Value> init;
    for (Value tile : tiles) {
      Value zp = readZeroPoints(tile, g);
      SmallVector<Value, 3> perPos;
      for (int64_t p = 0; p < kPlanePositions; ++p)
        perPos.push_back(
            arith::AddFOp::create(b, loc, zp, splatF(planeBias(p))));
      offsets.push_back(perPos);
      init.push_back(zeroF());
      init.push_back(zeroF());
    }
    Value chunkBase = mul(g, group / 8);
    auto inner = scf::ForOp::create(
        b, loc, index(0), index(group / 8), index(1), init,
        [&](OpBuilder &ib, Location, Value c, ValueRange iter) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(ib.getInsertionBlock());
          Value chunk = arith::AddIOp::create(b, loc, chunkBase, c);
          Value k0 = mul(chunk, 8);
          SmallVector<Value, 8> acts;
          for (int64_t j = 0; j < 8; ++j)
            acts.push_back(readAct(a, m0, add(k0, j)));
          SmallVector<Value> next(iter.begin(), iter.end());
          for (auto [t, tile] : llvm::enumerate(tiles)) {
            SmallVector<Value, 8> biased = unpackPlanes(tile, chunk);
            for (int64_t j = 0; j < 8; ++j) {
              Value w = arith::SubFOp::create(b, loc, biased[j],
                                              offsets[t][j % kPlanePositions]);
              Value &acc = next[2 * t + j % 2];
              acc = vector::FMAOp::create(b, loc, w, acts[j], acc);
            }
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

  /// GEMM group in the nibble-plane layout: w = ((2^(23-4p) + q) -
  /// 2^(23-4p) - zp) * scale (both subtractions exact), shared by `rows`
  /// rows. Only the zero point and the scale of each tile stay in
  /// registers.
  SmallVector<Value> emitGemmGroupPlanes(Value a, Value m0, int64_t rows,
                                         ArrayRef<Value> tiles, Value g,
                                         ValueRange accs) {
    SmallVector<Value> zps, scales;
    for (Value tile : tiles) {
      zps.push_back(readZeroPoints(tile, g));
      scales.push_back(readParam(packed.scales, tile, g));
    }
    Value chunkBase = mul(g, group / 8);
    auto inner = scf::ForOp::create(
        b, loc, index(0), index(group / 8), index(1), accs,
        [&](OpBuilder &ib, Location, Value c, ValueRange iter) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(ib.getInsertionBlock());
          Value chunk = arith::AddIOp::create(b, loc, chunkBase, c);
          Value k0 = mul(chunk, 8);
          SmallVector<Value> next(iter.begin(), iter.end());
          for (auto [t, tile] : llvm::enumerate(tiles)) {
            SmallVector<Value, 8> biased = unpackPlanes(tile, chunk);
            for (int64_t j = 0; j < 8; ++j) {
              Value q = arith::SubFOp::create(
                  b, loc, biased[j], splatF(planeBias(j % kPlanePositions)));
              Value w = arith::MulFOp::create(
                  b, loc, arith::SubFOp::create(b, loc, q, zps[t]), scales[t]);
              for (int64_t r = 0; r < rows; ++r) {
                Value &acc = next[r * tiles.size() + t];
                acc = vector::FMAOp::create(
                    b, loc, readAct(a, add(m0, r), add(k0, j)), w, acc);
              }
            }
          }
          scf::YieldOp::create(b, loc, next);
        });
    return SmallVector<Value>(inner.getResults());
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
          // The nibble-plane kernels keep more per-tile values in registers
          // (zero points or offsets): they run the tile block in sub-blocks
          // of kPlaneTiles tiles, one pass over K each.
          int64_t block = packed.planes ? kPlaneTiles : tileN;
          SmallVector<Value> results(rows * tileN);
          for (int64_t j0 = 0; j0 < tileN; j0 += block) {
            ArrayRef<Value> sub =
                ArrayRef<Value>(tiles).slice(j0, std::min(block, tileN - j0));
            int64_t width = sub.size();
            SmallVector<Value> accs(rows * width, zeroF());
            auto groupLoop = scf::ForOp::create(
                b, loc, index(0), index(groups), index(1), accs,
                [&](OpBuilder &gb, Location, Value g, ValueRange gIter) {
                  OpBuilder::InsertionGuard guard(b);
                  b.setInsertionPointToStart(gb.getInsertionBlock());
                  SmallVector<Value> next;
                  if (packed.planes)
                    next = rows == 1 ? emitGemvGroupPlanes(a, m0, sub, g, gIter)
                                     : emitGemmGroupPlanes(a, m0, rows, sub, g,
                                                           gIter);
                  else
                    next = rows == 1
                               ? emitGemvGroup(a, m0, sub, g, gIter)
                               : emitGemmGroup(a, m0, rows, sub, g, gIter);
                  scf::YieldOp::create(b, loc, next);
                });
            for (int64_t r = 0; r < rows; ++r)
              for (int64_t j = 0; j < width; ++j)
                results[r * tileN + j0 + j] =
                    groupLoop.getResult(r * width + j);
          }
          Value cur = iter[0];
          bool inBounds = n % kLanes == 0 && packed.tiles * kLanes == n;
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t j = 0; j < tileN; ++j)
              cur = vector::TransferWriteOp::create(
                        b, loc, results[r * tileN + j], cur,
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

class CPUMatMulNBitsPass
    : public qopt::impl::CPUMatMulNBitsBase<CPUMatMulNBitsPass> {
public:
  using Base::Base;
  void runOnOperation() override;

private:
  FailureOr<PackedNBits> pack(OpBuilder &b, MatMulNBitsOp op);
  LogicalResult rewrite(MatMulNBitsOp op);

  CPUFeatureQuery featureQuery;
};
} // namespace

FailureOr<PackedNBits> CPUMatMulNBitsPass::pack(OpBuilder &b,
                                                MatMulNBitsOp op) {
  FailureOr<MatMulNBitsConstants> constants = readMatMulNBitsConstants(op);
  if (failed(constants))
    return failure();
  const std::vector<uint8_t> *bytes = &constants->bytes;
  const std::vector<float> *scales = &constants->scales;
  const std::optional<std::vector<uint8_t>> &zeroPoints = constants->zeroPoints;
  int64_t n = op.getN(), k = op.getK(), group = op.getGroupSize();
  int64_t groups = k / group;
  int64_t perByte = op.getBits() == 4 ? 2 : 1;
  int64_t rowBytes = k / perByte;
  int64_t tiles = llvm::divideCeil(llvm::divideCeil(n, kLanes), tileN) * tileN;

  // Byte (n, kb) of the MatMulNBits layout, [N][groups][bytes per group],
  // is byte kb of row n: groups are contiguous along K. With 4 bits, byte
  // kb holds K = 2kb (low nibble) and 2kb + 1 (high nibble). In the byte
  // layout it goes to [t][kb][c]; in the nibble-plane layout (4 bits, groups
  // a multiple of 8) 4 consecutive bytes of a row form one little-endian
  // word [t][kb / 4][c], whose nibble j is the weight at K = 8 (kb / 4) + j.
  bool planes = op.getBits() == 4 && group % 8 == 0;
  std::vector<int8_t> packedBytes;
  std::vector<int32_t> packedWords;
  if (planes)
    packedWords.assign(tiles * (rowBytes / 4) * kLanes, 0);
  else
    packedBytes.assign(tiles * rowBytes * kLanes, 0);
  for (int64_t col = 0; col < n; ++col) {
    int64_t t = col / kLanes, c = col % kLanes;
    const uint8_t *src = bytes->data() + col * rowBytes;
    for (int64_t kb = 0; kb < rowBytes; ++kb) {
      if (planes)
        packedWords[(t * (rowBytes / 4) + kb / 4) * kLanes + c] |=
            static_cast<int32_t>(static_cast<uint32_t>(src[kb])
                                 << (8 * (kb % 4)));
      else
        packedBytes[(t * rowBytes + kb) * kLanes + c] =
            static_cast<int8_t>(src[kb]);
    }
  }
  std::vector<float> packedScales(tiles * groups * kLanes, 0.0f);
  std::vector<float> packedOffsets;
  std::vector<int8_t> packedZeroPoints;
  if (!planes)
    packedOffsets.assign(tiles * groups * kLanes, kMagic);
  else if (zeroPoints)
    packedZeroPoints.assign(tiles * groups * kLanes, 0);
  int64_t defaultZp = op.getDefaultZeroPoint();
  for (int64_t col = 0; col < n; ++col)
    for (int64_t g = 0; g < groups; ++g) {
      int64_t at = ((col / kLanes) * groups + g) * kLanes + col % kLanes;
      packedScales[at] = (*scales)[col * groups + g];
      int64_t zp = zeroPoints ? (*zeroPoints)[col * groups + g] : defaultZp;
      if (!planes)
        packedOffsets[at] = kMagic + static_cast<float>(zp);
      else if (zeroPoints)
        packedZeroPoints[at] = static_cast<int8_t>(zp);
    }

  Location loc = op.getLoc();
  PackedNBits result;
  result.tiles = tiles;
  result.planes = planes;
  if (planes) {
    auto wordsType =
        RankedTensorType::get({tiles, rowBytes / 4, kLanes}, b.getI32Type());
    result.bytes = arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(wordsType, ArrayRef<int32_t>(packedWords)));
  } else {
    auto bytesType =
        RankedTensorType::get({tiles, rowBytes, kLanes}, b.getI8Type());
    result.bytes = arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(bytesType, ArrayRef<int8_t>(packedBytes)));
  }
  auto paramType =
      RankedTensorType::get({tiles, groups, kLanes}, b.getF32Type());
  result.scales = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(paramType, ArrayRef<float>(packedScales)));
  result.defaultZeroPoint = static_cast<float>(defaultZp);
  if (!planes)
    result.offsets = arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(paramType, ArrayRef<float>(packedOffsets)));
  else if (zeroPoints)
    result.offsets = arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(paramType.clone(b.getI8Type()),
                               ArrayRef<int8_t>(packedZeroPoints)));
  return result;
}

LogicalResult CPUMatMulNBitsPass::rewrite(MatMulNBitsOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  FailureOr<PackedNBits> packed;
  if (!op.getInt8Block() && !op.isBF16Compute()) {
    packed = pack(b, op);
    if (failed(packed))
      return failure();
  }
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
  if (op.getInt8Block()) {
    // MatMulNBits accuracy_level 4: CPUMatMulNBitsInt8.cpp.
    FailureOr<Value> y = emitMatMulNBitsInt8Block(b, op, a, m);
    if (failed(y))
      return failure();
    result = *y;
  } else if (op.isBF16Compute()) {
    // AVX512-BF16: CPUMatMulNBitsBF16.cpp.
    FailureOr<Value> y = emitMatMulNBitsBF16(b, op, a, m, tileN, featureQuery);
    if (failed(y))
      return failure();
    result = *y;
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
