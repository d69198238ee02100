//===- FoldRequantExecTest.cpp - folds keep every result bit ----*- C++ -*-===//
//
// qopt-fold-requant's default rewrites must not change any result: the same
// functions are compiled with and without the pass and run on every input of
// their storage type (or many random ones), and the outputs must be equal.
// fold-inexact-chains=true is a different program: the test measures how
// often and by how much it differs instead.
//
//===----------------------------------------------------------------------===//

#include "Jit.h"

#include <cstdlib>
#include <random>

using namespace mlir;
using qopt_test::Jit;
using qopt_test::wrap;

namespace {

// An exact chain (i8 -> i16 at the same scale with a zero-point shift, then
// i16 -> i8 at another scale) and a rounding chain, both on every i8 input.
const char *kChains = R"mlir(
  %a = quant.scast %t : tensor<?xi8> to tensor<?x!quant.uniform<i8:f32, 0.1:-3>>
  %b = qopt.requantize %a : tensor<?x!quant.uniform<i8:f32, 0.1:-3>> to tensor<?x!quant.uniform<i16:f32, 0.1:100>>
  %c = qopt.requantize %b : tensor<?x!quant.uniform<i16:f32, 0.1:100>> to tensor<?x!quant.uniform<i8:f32, 0.0371:7>>
  %r = quant.scast %c : tensor<?x!quant.uniform<i8:f32, 0.0371:7>> to tensor<?xi8>)mlir";

const char *kRounding = R"mlir(
  %a = quant.scast %t : tensor<?xi8> to tensor<?x!quant.uniform<i8:f32, 0.1:-3>>
  %b = qopt.requantize %a : tensor<?x!quant.uniform<i8:f32, 0.1:-3>> to tensor<?x!quant.uniform<i8:f32, 0.3:2>>
  %c = qopt.requantize %b : tensor<?x!quant.uniform<i8:f32, 0.3:2>> to tensor<?x!quant.uniform<i8:f32, 0.0371:7>>
  %r = quant.scast %c : tensor<?x!quant.uniform<i8:f32, 0.0371:7>> to tensor<?xi8>)mlir";

std::vector<int8_t> allInt8() {
  std::vector<int8_t> v;
  for (int q = -128; q <= 127; ++q)
    v.push_back(static_cast<int8_t>(q));
  return v;
}

TEST(FoldRequantExecTest, ExactChainMergeChangesNoBit) {
  std::string source = wrap("chain", "i8", "i8", kChains);
  Jit plain(source, "qopt-lower-quant");
  Jit folded(source, "qopt-fold-requant,qopt-lower-quant");
  ASSERT_TRUE(plain.error.empty()) << plain.error;
  ASSERT_TRUE(folded.error.empty()) << folded.error;
  std::vector<int8_t> in = allInt8(), a(in.size()), b(in.size());
  plain.run("chain", in, a);
  folded.run("chain", in, b);
  EXPECT_EQ(a, b);
}

// Merging a chain whose middle step rounds is a different program; measure
// it on every input rather than assume.
TEST(FoldRequantExecTest, InexactChainMergeIsMeasured) {
  std::string source = wrap("chain", "i8", "i8", kRounding);
  Jit plain(source, "qopt-lower-quant");
  Jit kept(source, "qopt-fold-requant,qopt-lower-quant");
  Jit merged(source,
             "qopt-fold-requant{fold-inexact-chains=true},qopt-lower-quant");
  ASSERT_TRUE(plain.error.empty() && kept.error.empty() &&
              merged.error.empty());
  std::vector<int8_t> in = allInt8(), a(in.size()), b(in.size()), c(in.size());
  plain.run("chain", in, a);
  kept.run("chain", in, b);
  merged.run("chain", in, c);
  EXPECT_EQ(a, b) << "the default must leave a rounding chain alone";
  int differ = 0, maxDiff = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    int d = std::abs(int(a[i]) - int(c[i]));
    differ += d != 0;
    maxDiff = std::max(maxDiff, d);
  }
  // Dropping the 0.3-scale rounding moves results, so the merged program
  // must differ somewhere. The middle step (TFLite's two-rounding
  // MultiplyByQuantizedMultiplier) is off the real value by less than one of
  // its steps, 0.3 real = 0.3 / 0.0371 = 8.1 output steps, plus the output's
  // own rounding: at most 9 apart.
  EXPECT_GT(differ, 0);
  EXPECT_LE(maxDiff, 9);
  std::printf("fold-inexact-chains: %d of %zu inputs differ, by at most %d\n",
              differ, in.size(), maxDiff);
}

// Zero-point and bias folding: a 4x8 by 8x3 matmul kernel with za = -3,
// constant weights and an i32 bias (one near INT32_MAX, so the sum wraps),
// with and without the folds, on many random activation tensors.
TEST(FoldRequantExecTest, ZeroPointAndBiasFoldsChangeNoBit) {
  std::string body = R"mlir(
  %ts = tensor.cast %t : tensor<?xi8> to tensor<32xi8>
  %a = tensor.expand_shape %ts [[0, 1]] output_shape [4, 8] : tensor<32xi8> into tensor<4x8xi8>
  %w = arith.constant dense<[[1, -2, 3], [4, 5, -6], [-7, 8, 9], [10, -11, 12],
                             [127, -127, 0], [-1, 1, -1], [50, 60, -70], [-80, 90, 100]]> : tensor<8x3xi8>
  %c0 = arith.constant 0 : i32
  %e = tensor.empty() : tensor<4x3xi32>
  %z = linalg.fill ins(%c0 : i32) outs(%e : tensor<4x3xi32>) -> tensor<4x3xi32>
  %k = linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>],
                       iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<4x8xi8>, tensor<8x3xi8>) outs(%z : tensor<4x3xi32>) {
  ^bb0(%x: i8, %y: i8, %acc: i32):
    %xe = arith.extsi %x : i8 to i32
    %za = arith.constant -3 : i32
    %xs = arith.subi %xe, %za : i32
    %ye = arith.extsi %y : i8 to i32
    %p = arith.muli %xs, %ye : i32
    %s = arith.addi %acc, %p : i32
    linalg.yield %s : i32
  } -> tensor<4x3xi32>
  %bias = arith.constant dense<[2147483000, -5, 77]> : tensor<3xi32>
  %e2 = tensor.empty() : tensor<4x3xi32>
  %kb = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%k, %bias : tensor<4x3xi32>, tensor<3xi32>) outs(%e2 : tensor<4x3xi32>) {
  ^bb0(%x: i32, %y: i32, %o: i32):
    %s = arith.addi %x, %y : i32
    linalg.yield %s : i32
  } -> tensor<4x3xi32>
  %r = tensor.collapse_shape %kb [[0, 1]] : tensor<4x3xi32> into tensor<12xi32>)mlir";
  std::string source = llvm::formatv(R"mlir(
func.func @mm(%in: memref<?xi8>, %out: memref<?xi32>) attributes {{llvm.emit_c_interface} {{
  %t = bufferization.to_tensor %in restrict : memref<?xi8> to tensor<?xi8>
{0}
  %rc = tensor.cast %r : tensor<12xi32> to tensor<?xi32>
  bufferization.materialize_in_destination %rc in restrict writable %out : (tensor<?xi32>, memref<?xi32>) -> ()
  return
}
)mlir",
                                     body)
                           .str();
  Jit plain(source, "qopt-lower-quant");
  Jit folded(source, "qopt-fold-requant,qopt-lower-quant");
  ASSERT_TRUE(plain.error.empty()) << plain.error;
  ASSERT_TRUE(folded.error.empty()) << folded.error;
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> dist(-128, 127);
  for (int trial = 0; trial < 2000; ++trial) {
    std::vector<int8_t> in(32);
    for (int8_t &v : in)
      v = static_cast<int8_t>(trial < 2 ? (trial ? 127 : -128) : dist(rng));
    std::vector<int32_t> a(12), b(12);
    plain.run("mm", in, a);
    folded.run("mm", in, b);
    ASSERT_EQ(a, b) << "trial " << trial;
  }
}

} // namespace
