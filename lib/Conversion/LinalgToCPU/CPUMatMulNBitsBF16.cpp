//===- CPUMatMulNBitsBF16.cpp - bf16-compute MatMulNBits (AVX512-BF16) ----===//
//
// The `compute bf16` path of qopt-cpu-matmul-nbits, with the arithmetic of
// docs/numerics.md ("bf16 compute for weight-only") bit for bit:
//
//  1. each activation is rounded to bf16 once (vcvtneps2bf16: round to
//     nearest even, subnormals to zero);
//  2. each weight is dequantized in float32, w = (q - zp) * scale (one
//     rounding, as the f32 path), and rounded to bf16 the same way;
//  3. per output, one float32 accumulator starts at 0 and takes one
//     vdpbf16ps per K pair, in K order (the odd K's product first, then the
//     even one's, each added with one rounding, as the instruction does).
//
// The weight is repacked at compile time (still 4 or 8 bits per value) so
// that the two 16-lane float halves of a K pair, once converted, concatenate
// into the order vdpbf16ps reads: element 2c + j is column c at K = 2p + j.
// Up to 16 rows share each converted weight vector; one row (GEMV) shares
// each activation pair between `tile-n` tiles of 16 columns.
//
//===----------------------------------------------------------------------===//

#include "CPUMatMulNBitsBF16.h"
#include "MatMulNBitsConstants.h"

#include "mlir/Dialect/X86Vector/X86VectorDialect.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::qopt;

static constexpr int32_t kMagicBits = kNBitsMagicBits;
static constexpr float kMagic = kNBitsMagic;
static constexpr int64_t kLanes = kNBitsLanes;
/// Accumulators of the several-row kernel: 16 of the 32 zmm registers, the
/// others hold the weight pair, its parameters and temporaries.
static constexpr int64_t kMaxAccumulators = 16;

namespace {

/// The weight, scales and zero points in the bf16 kernel's layout. A K pair
/// p of a 16-column tile is two 16-lane float halves (columns 0-7, then
/// 8-15), lane 2c + j of half h holding column 8h + c at K = 2p + j.
struct PackedNBitsBF16 {
  /// 4 bits: [tiles][K / 2][16] i8; the low nibble of byte l of pair p is
  /// lane l of half 0, the high nibble lane l of half 1. 8 bits:
  /// [tiles][K][16] i8, row 2p + h is half h of pair p.
  Value bytes;
  /// [tiles][groups * 2][16] f32, row 2g + h: the scales of half h (0 in
  /// padding columns).
  Value scales;
  /// [tiles][groups * 2][16] f32: 2^23 + zero point, in the same order.
  Value offsets;
  int64_t tiles;
};

/// Repacks the constant weight, scales and zero points of `op` into
/// `tiles` tiles of 16 columns (columns beyond N zero).
FailureOr<PackedNBitsBF16> pack(OpBuilder &b, MatMulNBitsOp op, int64_t tiles) {
  FailureOr<MatMulNBitsConstants> constants = readMatMulNBitsConstants(op);
  if (failed(constants))
    return failure();
  const std::vector<uint8_t> *bytes = &constants->bytes;
  const std::vector<float> *scales = &constants->scales;
  const std::optional<std::vector<uint8_t>> &zeroPoints = constants->zeroPoints;
  int64_t n = op.getN(), k = op.getK(), group = op.getGroupSize();
  int64_t groups = k / group, pairs = k / 2;
  bool four = op.getBits() == 4;
  int64_t rowBytes = four ? k / 2 : k;
  int64_t defaultZp = op.getDefaultZeroPoint();

  std::vector<int8_t> packedBytes(tiles * (four ? pairs : k) * kLanes, 0);
  std::vector<float> packedScales(tiles * groups * 2 * kLanes, 0.0f);
  std::vector<float> packedOffsets(tiles * groups * 2 * kLanes, kMagic);
  for (int64_t col = 0; col < n; ++col) {
    int64_t t = col / kLanes, h = (col % kLanes) / 8, c = col % 8;
    // MatMulNBits: row `col` holds K in order, two values per byte with 4
    // bits (the even K in the low nibble).
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

/// Emits Y[m, n] = sum over K pairs, in order, of vdpbf16ps(bf16(a),
/// bf16((q - zp) * scale)), one float32 accumulator chain per output.
class BF16Emitter {
public:
  BF16Emitter(OpBuilder &b, Location loc, MatMulNBitsOp op,
              const PackedNBitsBF16 &packed, int64_t rows, int64_t tilesPerStep)
      : b(b), loc(loc), packed(packed), rows(rows), tilesPerStep(tilesPerStep) {
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
    auto loop = scf::ForOp::create(
        b, loc, index(0), index(packed.tiles), index(tilesPerStep),
        ValueRange{out},
        [&](OpBuilder &nb, Location, Value t0, ValueRange iter) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(nb.getInsertionBlock());
          // Blocks of `rows` rows, then the rest as one smaller block.
          int64_t full = m / rows * rows;
          Value cur = emitRows(aBF16, t0, 0, full, rows, iter[0]);
          cur = emitRows(aBF16, t0, full, m, m - full, cur);
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
  /// Row `row` of tile `tile` of a [tiles][groups * 2][16] parameter.
  Value readParam(Value tensor, Value tile, Value row) {
    Value pad = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
    return vector::TransferReadOp::create(b, loc, fVec, tensor,
                                          ValueRange{tile, row, index(0)}, pad,
                                          ArrayRef<bool>{true});
  }

  /// A[M, K] f32 -> bf16 with vcvtneps2bf16, 16 values at a time (a K that
  /// is not a multiple of 16 ends with a masked read), stored as
  /// [K / 2][M][2]: the K pairs of all rows are contiguous, so the 16 rows
  /// of a block read one cache line per K pair (in [M][K] the rows are K * 2
  /// bytes apart, for K = 4096 all in one L1 set).
  Value convertActivations(Value a, int64_t m) {
    Value init =
        tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{k / 2, m, 2}, bf16);
    int64_t full = k / kLanes * kLanes;
    auto rowLoop = scf::ForOp::create(
        b, loc, index(0), index(m), index(1), ValueRange{init},
        [&](OpBuilder &rb, Location, Value row, ValueRange rowIter) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(rb.getInsertionBlock());
          Value cur = rowIter[0];
          if (full > 0) {
            auto colLoop = scf::ForOp::create(
                b, loc, index(0), index(full), index(kLanes), ValueRange{cur},
                [&](OpBuilder &cb, Location, Value col, ValueRange colIter) {
                  OpBuilder::InsertionGuard guard(b);
                  b.setInsertionPointToStart(cb.getInsertionBlock());
                  Value next = convertBlock(a, row, col, kLanes,
                                            /*inBounds=*/true, colIter[0]);
                  scf::YieldOp::create(b, loc, next);
                });
            cur = colLoop.getResult(0);
          }
          if (full < k)
            cur = convertBlock(a, row, index(full), k - full,
                               /*inBounds=*/false, cur);
          scf::YieldOp::create(b, loc, cur);
        });
    return rowLoop.getResult(0);
  }

  /// Converts A[row, col .. col + count) (count even, at most 16) and writes
  /// its pairs into the [K / 2][M][2] buffer `dest`.
  Value convertBlock(Value a, Value row, Value col, int64_t count,
                     bool inBounds, Value dest) {
    Value pad = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
    Value v = vector::TransferReadOp::create(
        b, loc, fVec, a, ValueRange{row, col}, pad, ArrayRef<bool>{inBounds});
    Value h = x86vector::CvtPackedF32ToBF16Op::create(b, loc, hVec, v);
    Value p0 = arith::DivUIOp::create(b, loc, col, index(2));
    for (int64_t i = 0; i < count / 2; ++i) {
      Value pair = vector::ExtractStridedSliceOp::create(
          b, loc, h, ArrayRef<int64_t>{2 * i}, ArrayRef<int64_t>{2},
          ArrayRef<int64_t>{1});
      dest = vector::TransferWriteOp::create(
                 b, loc, pair, dest, ValueRange{add(p0, i), row, index(0)},
                 ArrayRef<bool>{true})
                 .getResult();
    }
    return dest;
  }

  /// The activation pair (a[row, 2p], a[row, 2p + 1]) in every dword.
  Value readActPair(Value aBF16, Value row, Value p) {
    Value pad = arith::ConstantOp::create(b, loc, b.getFloatAttr(bf16, 0.0));
    Value pair = vector::TransferReadOp::create(
        b, loc, VectorType::get({2}, bf16), aBF16, ValueRange{p, row, index(0)},
        pad, ArrayRef<bool>{true});
    Value word =
        vector::BitCastOp::create(b, loc, VectorType::get({1}, i32), pair);
    Value scalar = vector::ExtractOp::create(b, loc, word, 0);
    Value splat = vector::BroadcastOp::create(b, loc, iVec, scalar);
    return vector::BitCastOp::create(b, loc, wVec, splat);
  }

  /// The 32 weights of pair `p` of tile `tile` as bf16 in vdpbf16ps's order:
  /// (q - zp) * scale in f32 (`params`: offset and scale of half 0, then of
  /// half 1), rounded by vcvtneps2bf16, the two halves concatenated.
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

  /// Rows [lb, ub) in blocks of `blockRows`, tiles [t0, t0 + tilesPerStep).
  Value emitRows(Value aBF16, Value t0, int64_t lb, int64_t ub,
                 int64_t blockRows, Value out) {
    if (lb >= ub)
      return out;
    int64_t tiles = tilesPerStep;
    auto loop = scf::ForOp::create(
        b, loc, index(lb), index(ub), index(blockRows), ValueRange{out},
        [&](OpBuilder &nb, Location, Value m0, ValueRange iter) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(nb.getInsertionBlock());
          SmallVector<Value> tileIds;
          for (int64_t j = 0; j < tiles; ++j)
            tileIds.push_back(add(t0, j));
          Value zero = arith::ConstantOp::create(
              b, loc, DenseElementsAttr::get(fVec, b.getF32FloatAttr(0.0f)));
          SmallVector<Value> accs(blockRows * tiles, zero);
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
                      SmallVector<Value> weights;
                      for (auto [j, tile] : llvm::enumerate(tileIds))
                        weights.push_back(weightPair(tile, p, params[j]));
                      SmallVector<Value> next(iter.begin(), iter.end());
                      for (int64_t r = 0; r < blockRows; ++r) {
                        Value act = readActPair(aBF16, add(m0, r), p);
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
          bool inBounds = packed.tiles * kLanes == n;
          for (int64_t r = 0; r < blockRows; ++r)
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
  int64_t rows, tilesPerStep;
  int64_t bits, group, k, n, groups;
  Type f32, bf16, i32;
  VectorType fVec, iVec, hVec, wVec;
};

/// Fails with an error at `op` when its function's target lacks
/// AVX512-BF16.
LogicalResult checkTarget(MatMulNBitsOp op, CPUFeatureQuery &query) {
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
    diag << "the function has no target CPU (run qopt-cpu-set-target, as "
            "qopt-lower-cpu does)";
  diag << "; lower for a CPU that has it (cpu=znver4, sapphirerapids, or "
          "features=+avx512bf16) or quantize with compute-type=f32";
  return failure();
}

} // namespace

FailureOr<Value> mlir::qopt::emitMatMulNBitsBF16(OpBuilder &b, MatMulNBitsOp op,
                                                 Value a, int64_t m,
                                                 int64_t tileN,
                                                 CPUFeatureQuery &query) {
  if (failed(checkTarget(op, query)))
    return failure();
  // One row: `tileN` tiles share each activation pair. Several rows: up to
  // 16 rows share each converted weight pair, and fewer rows take more
  // tiles (16 accumulators at most, `tileN` tiles at most). Never more
  // tiles per step than N has.
  int64_t rows = std::min(m, kMaxAccumulators);
  int64_t nTiles = llvm::divideCeil(op.getN(), kLanes);
  int64_t tilesPerStep =
      m == 1 ? tileN
             : std::max<int64_t>(1, std::min(tileN, kMaxAccumulators / rows));
  tilesPerStep = std::min(tilesPerStep, nTiles);
  int64_t tiles = llvm::divideCeil(nTiles, tilesPerStep) * tilesPerStep;
  FailureOr<PackedNBitsBF16> packed = pack(b, op, tiles);
  if (failed(packed))
    return failure();
  Location loc = op.getLoc();
  Value out = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{m, op.getN()},
                                      b.getF32Type());
  BF16Emitter emitter(b, loc, op, *packed, rows, tilesPerStep);
  return emitter.emit(a, out, m);
}
