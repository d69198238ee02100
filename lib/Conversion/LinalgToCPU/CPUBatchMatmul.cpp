//===- CPUBatchMatmul.cpp - f32 products of two activations ---------------===//
//
// qopt-cpu-batch-matmul: the f32 matmuls and batch matmuls that
// qopt-cpu-gemm leaves because neither operand is a constant (attention's
// Q . K^T and P . V, kept in float by every quantization mode). The loop
// lowering makes a scalar dot product of each output element; this pass
// rewrites them, on tensors, into the register tile qopt-cpu-gemm uses for
// its f32 step, reading the right operand where it lies instead of from a
// packed constant:
//
//   for b, for each block of 16 * tile-n columns, for each tile-m rows:
//     acc[i][j] = C[b, m0 + i, n0 + 16 j : 16]   (or the fill value)
//     for k: acc[i][j] = fma(bcast(A[b, m0 + i, k]), B[b, k, n0 + 16 j : 16],
//                            acc[i][j])
//     C[b, m0 + i, n0 + 16 j : 16] = acc[i][j]
//
// Each output is still summed over k in order, each step one fused
// multiply-add (as qopt-cpu-gemm's f32 kernel; the loop lowering rounds the
// product and the sum apart).
//
//===----------------------------------------------------------------------===//

#include "qopt/Conversion/Passes.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_CPUBATCHMATMUL
#include "qopt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

struct CPUBatchMatmulPass
    : public qopt::impl::CPUBatchMatmulBase<CPUBatchMatmulPass> {
  using CPUBatchMatmulBase::CPUBatchMatmulBase;
  void runOnOperation() override;
};

/// A plain f32 matmul or batch_matmul (default maps, static shapes, N a
/// multiple of 16) whose operands are both computed: the shape this pass
/// rewrites.
static bool isCandidate(linalg::LinalgOp op) {
  if (!op.hasPureTensorSemantics())
    return false;
  if (auto mm = dyn_cast<linalg::MatmulOp>(op.getOperation())) {
    if (mm.hasUserDefinedMaps() || mm.getCast() != linalg::TypeFn::cast_signed)
      return false;
  } else if (auto bmm = dyn_cast<linalg::BatchMatmulOp>(op.getOperation())) {
    if (bmm.hasUserDefinedMaps())
      return false;
  } else {
    return false;
  }
  for (Value v : op->getOperands()) {
    auto type = dyn_cast<RankedTensorType>(v.getType());
    if (!type || !type.hasStaticShape() || !type.getElementType().isF32())
      return false;
  }
  // A constant operand is qopt-cpu-gemm's (packed at compile time).
  for (Value v : op.getDpsInputs())
    if (matchPattern(v, m_Constant()))
      return false;
  auto out = cast<RankedTensorType>(op->getResult(0).getType());
  return out.getShape().back() % 16 == 0;
}

/// Emits the loop nest for one op on tensors A [B?, M, K], W [B?, K, N] and
/// the destination C [B?, M, N].
class Emitter {
public:
  Emitter(OpBuilder &b, Location loc, Value a, Value w, int64_t batchRank,
          int64_t m, int64_t n, int64_t k, int64_t tileM, int64_t tileN,
          std::optional<Value> splat)
      : b(b), loc(loc), a(a), w(w), batchRank(batchRank), m(m), n(n), k(k),
        tileM(tileM), tileN(tileN), splat(splat) {
    accType = VectorType::get({16}, b.getF32Type());
  }

  Value emit(Value c, int64_t batch) {
    if (batchRank == 0)
      return emitColumns(Value(), c);
    auto loop = scf::ForOp::create(
        b, loc, index(0), index(batch), index(1), ValueRange{c},
        [&](OpBuilder &nb, Location, Value bi, ValueRange iter) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(nb.getInsertionBlock());
          scf::YieldOp::create(b, loc, emitColumns(bi, iter[0]));
        });
    return loop.getResult(0);
  }

private:
  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, int64_t v) {
    return v == 0 ? x : arith::AddIOp::create(b, loc, x, index(v)).getResult();
  }
  SmallVector<Value> at(Value bi, Value row, Value col) {
    SmallVector<Value> indices;
    if (bi)
      indices.push_back(bi);
    indices.push_back(row);
    indices.push_back(col);
    return indices;
  }

  /// Blocks of 16 * tileN columns (the last block may be narrower).
  Value emitColumns(Value bi, Value c) {
    int64_t blocks = n / 16;
    int64_t fullBlocks = blocks / tileN * tileN;
    Value cur = c;
    if (fullBlocks > 0) {
      auto loop = scf::ForOp::create(
          b, loc, index(0), index(n / 16 / tileN * 16 * tileN),
          index(16 * tileN), ValueRange{cur},
          [&](OpBuilder &nb, Location, Value n0, ValueRange iter) {
            OpBuilder::InsertionGuard guard(b);
            b.setInsertionPointToStart(nb.getInsertionBlock());
            scf::YieldOp::create(b, loc, emitRowsAll(bi, n0, tileN, iter[0]));
          });
      cur = loop.getResult(0);
    }
    if (fullBlocks < blocks)
      cur = emitRowsAll(bi, index(fullBlocks * 16), blocks - fullBlocks, cur);
    return cur;
  }

  /// All rows of one column block: tiles of tileM rows, then single rows.
  Value emitRowsAll(Value bi, Value n0, int64_t vectors, Value c) {
    int64_t fullM = m / tileM * tileM;
    Value cur = c;
    if (fullM > 0)
      cur = emitRows(bi, n0, vectors, 0, fullM, tileM, cur);
    if (fullM < m)
      cur = emitRows(bi, n0, vectors, fullM, m, 1, cur);
    return cur;
  }

  Value emitRows(Value bi, Value n0, int64_t vectors, int64_t lb, int64_t ub,
                 int64_t rows, Value c) {
    auto loop = scf::ForOp::create(
        b, loc, index(lb), index(ub), index(rows), ValueRange{c},
        [&](OpBuilder &nb, Location, Value m0, ValueRange iter) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(nb.getInsertionBlock());
          Value cur = iter[0];
          Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
          SmallVector<Value> columns;
          for (int64_t j = 0; j < vectors; ++j)
            columns.push_back(add(n0, 16 * j));
          SmallVector<Value> accs;
          for (int64_t i = 0; i < rows; ++i)
            for (int64_t j = 0; j < vectors; ++j)
              accs.push_back(
                  splat ? vector::BroadcastOp::create(b, loc, accType, *splat)
                              .getResult()
                        : vector::TransferReadOp::create(
                              b, loc, accType, cur,
                              at(bi, add(m0, i), columns[j]), zero,
                              ArrayRef<bool>{true})
                              .getResult());
          auto kLoop = scf::ForOp::create(
              b, loc, index(0), index(k), index(1), accs,
              [&](OpBuilder &kb, Location, Value kk, ValueRange kIter) {
                OpBuilder::InsertionGuard guard(b);
                b.setInsertionPointToStart(kb.getInsertionBlock());
                SmallVector<Value> wVecs, aVecs, next;
                for (int64_t j = 0; j < vectors; ++j)
                  wVecs.push_back(vector::TransferReadOp::create(
                      b, loc, accType, w, at(bi, kk, columns[j]), zero,
                      ArrayRef<bool>{true}));
                for (int64_t i = 0; i < rows; ++i) {
                  Value s = tensor::ExtractOp::create(b, loc, a,
                                                      at(bi, add(m0, i), kk));
                  aVecs.push_back(
                      vector::BroadcastOp::create(b, loc, accType, s));
                }
                for (int64_t i = 0; i < rows; ++i)
                  for (int64_t j = 0; j < vectors; ++j)
                    next.push_back(vector::FMAOp::create(
                        b, loc, aVecs[i], wVecs[j], kIter[i * vectors + j]));
                scf::YieldOp::create(b, loc, next);
              });
          for (int64_t i = 0; i < rows; ++i)
            for (int64_t j = 0; j < vectors; ++j)
              cur = vector::TransferWriteOp::create(
                        b, loc, kLoop.getResult(i * vectors + j), cur,
                        at(bi, add(m0, i), columns[j]), ArrayRef<bool>{true})
                        .getResult();
          scf::YieldOp::create(b, loc, cur);
        });
    return loop.getResult(0);
  }

  OpBuilder &b;
  Location loc;
  Value a, w;
  int64_t batchRank, m, n, k, tileM, tileN;
  std::optional<Value> splat;
  VectorType accType;
};

} // namespace

void CPUBatchMatmulPass::runOnOperation() {
  func::FuncOp func = getOperation();
  if (tileM == 0 || tileN == 0) {
    func.emitError()
        << "qopt-cpu-batch-matmul: tile-m and tile-n must be positive";
    return signalPassFailure();
  }
  SmallVector<linalg::LinalgOp> candidates;
  func.walk([&](linalg::LinalgOp op) {
    if (isCandidate(op))
      candidates.push_back(op);
  });
  IRRewriter rewriter(func.getContext());
  for (linalg::LinalgOp op : candidates) {
    rewriter.setInsertionPoint(op);
    Location loc = op.getLoc();
    Value a = op.getDpsInputs()[0], w = op.getDpsInputs()[1];
    Value init = op.getDpsInits()[0];
    auto outType = cast<RankedTensorType>(init.getType());
    int64_t batchRank = outType.getRank() - 2;
    ArrayRef<int64_t> aShape = cast<RankedTensorType>(a.getType()).getShape();
    int64_t m = outType.getDimSize(batchRank),
            n = outType.getDimSize(batchRank + 1), k = aShape[batchRank + 1];
    int64_t batch = batchRank ? outType.getDimSize(0) : 1;
    // A zero (or any one-value) accumulator starts the registers, and the
    // kernel, which writes every element, writes into the fill's own
    // destination: the fill is no longer needed.
    std::optional<Value> splat;
    Value dest = init;
    auto fill = init.getDefiningOp<linalg::FillOp>();
    if (fill) {
      splat = fill.value();
      dest = fill.getDpsInits()[0];
    }
    Emitter emitter(rewriter, loc, a, w, batchRank, m, n, k,
                    std::min<int64_t>(tileM, m),
                    std::min<int64_t>(tileN, n / 16), splat);
    rewriter.replaceOp(op, emitter.emit(dest, batch));
    if (fill && fill->use_empty())
      rewriter.eraseOp(fill);
    ++numRewritten;
  }
}
