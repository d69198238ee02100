//===- CPULowerTest.cpp - run qopt-lower-cpu's code -------------*- C++ -*-===//
//
// The proof that qopt-lower-cpu computes what its input means: integer
// matmuls and convolutions (NHWC, NCHW, depthwise, 1x1, odd shapes), an
// FC + bias + ReLU, a quantized model through the whole qopt flow, and
// float models are lowered by the pipeline for this machine, JIT-compiled,
// run on random data including the int8 extremes, and compared for exact
// equality with references written out here as plain loops (for the
// quantized model: the same IR lowered without the GEMM kernels). Where the
// machine has AVX-512 VNNI the tests also check that vpdpbusd was used.
//
//===----------------------------------------------------------------------===//

#include "CPUJit.h"

#include "llvm/Support/FormatVariadic.h"

#include <cstring>
#include <random>

using namespace mlir;
using qopt_test::Buffer;
using qopt_test::CPUJit;

namespace {

/// `dense<"0x...">`: raw little-endian bytes, any shape.
template <typename T> std::string hexDense(const std::vector<T> &values) {
  std::string s = "dense<\"0x";
  const char *digits = "0123456789ABCDEF";
  for (const T &v : values) {
    unsigned char bytes[sizeof(T)];
    std::memcpy(bytes, &v, sizeof(T));
    for (unsigned char b : bytes) {
      s += digits[b >> 4];
      s += digits[b & 15];
    }
  }
  return s + "\">";
}

template <typename T>
std::vector<T> randomInts(size_t n, int lo, int hi, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(lo, hi);
  std::vector<T> v(n);
  for (T &x : v)
    x = static_cast<T>(dist(rng));
  // The extremes, where the +128 bias and the compensation matter most.
  if (n >= 2) {
    v[0] = static_cast<T>(lo);
    v[n - 1] = static_cast<T>(hi);
  }
  return v;
}

void expectVnniUsed(const CPUJit &jit) {
  if (qopt_test::hostHasVnni())
    EXPECT_GT(jit.numVpdpbusd, 0) << "VNNI host, but no vpdpbusd emitted";
  else
    std::printf("note: no AVX-512 VNNI on this host; generic i8 path run\n");
}

/// C[m, n] = bias[n] + sum_k A[m, k] * W(k, n) through a linalg.matmul (or,
/// with `transposed`, a generic reading W as [N, K]) on i8 -> i32.
struct MatmulCase {
  int64_t m, k, n;
  bool transposed = false;
  unsigned tileM = 4, tileN = 4;
};

void runMatmul(const MatmulCase &c, unsigned seed) {
  std::vector<int8_t> w = randomInts<int8_t>(c.k * c.n, -128, 127, seed);
  std::vector<int32_t> bias =
      randomInts<int32_t>(c.n, -100000, 100000, seed + 1);
  std::string wType = c.transposed
                          ? llvm::formatv("tensor<{0}x{1}xi8>", c.n, c.k).str()
                          : llvm::formatv("tensor<{0}x{1}xi8>", c.k, c.n).str();
  std::string contraction = c.transposed ? llvm::formatv(R"mlir(
  %r = linalg.generic {{indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>],
                       iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<{0}x{1}xi8>, {3}) outs(%init : tensor<{0}x{2}xi32>) {{
  ^bb0(%x: i8, %y: i8, %acc: i32):
    %xe = arith.extsi %x : i8 to i32
    %ye = arith.extsi %y : i8 to i32
    %p = arith.muli %xe, %ye : i32
    %s = arith.addi %acc, %p : i32
    linalg.yield %s : i32
  } -> tensor<{0}x{2}xi32>)mlir",
                                                         c.m, c.k, c.n, wType)
                                               .str()
                                         : llvm::formatv(R"mlir(
  %r = linalg.matmul ins(%a, %w : tensor<{0}x{1}xi8>, {3}) outs(%init : tensor<{0}x{2}xi32>) -> tensor<{0}x{2}xi32>)mlir",
                                                         c.m, c.k, c.n, wType)
                                               .str();
  std::string source = llvm::formatv(R"mlir(
func.func @mm(%a: tensor<{0}x{1}xi8>) -> tensor<{0}x{2}xi32> {{
  %w = arith.constant {3} : {5}
  %bias = arith.constant {4} : tensor<{2}xi32>
  %e = tensor.empty() : tensor<{0}x{2}xi32>
  %init = linalg.broadcast ins(%bias : tensor<{2}xi32>) outs(%e : tensor<{0}x{2}xi32>) dimensions = [0]
{6}
  return %r : tensor<{0}x{2}xi32>
}
)mlir",
                                     c.m, c.k, c.n, hexDense(w), hexDense(bias),
                                     wType, contraction)
                           .str();
  CPUJit jit(source, c.tileM, c.tileN);
  ASSERT_TRUE(jit.error.empty()) << jit.error;
  expectVnniUsed(jit);
  for (unsigned trial = 0; trial < 3; ++trial) {
    Buffer<int8_t, 2> a({c.m, c.k});
    a.data = randomInts<int8_t>(c.m * c.k, -128, 127, seed + 10 + trial);
    Buffer<int32_t, 2> out({c.m, c.n});
    jit.run("mm", a, out);
    for (int64_t i = 0; i < c.m; ++i)
      for (int64_t j = 0; j < c.n; ++j) {
        int32_t expected = bias[j];
        for (int64_t kk = 0; kk < c.k; ++kk)
          expected += int32_t(a.data[i * c.k + kk]) *
                      int32_t(c.transposed ? w[j * c.k + kk] : w[kk * c.n + j]);
        ASSERT_EQ(out.data[i * c.n + j], expected)
            << "at (" << i << ", " << j << "), trial " << trial;
      }
  }
}

TEST(CPULowerTest, MatmulOddShape7x33x5) { runMatmul({7, 33, 5}, 1); }
TEST(CPULowerTest, Matmul1x1x1) { runMatmul({1, 1, 1}, 2); }
TEST(CPULowerTest, MatmulManyBlocksAndTails) { runMatmul({21, 200, 70}, 3); }
TEST(CPULowerTest, MatmulOtherRegisterTile) {
  runMatmul({13, 64, 96, false, /*tileM=*/3, /*tileN=*/2}, 4);
}
TEST(CPULowerTest, MatmulTransposedWeights) {
  runMatmul({9, 50, 33, /*transposed=*/true}, 5);
}

/// Direct convolution reference on row-major NHWC or NCHW data.
struct ConvCase {
  bool nchw;
  int64_t n, h, w, c, f, kh, kw, stride, dilation;
  int64_t oh() const { return (h - dilation * (kh - 1) - 1) / stride + 1; }
  int64_t ow() const { return (w - dilation * (kw - 1) - 1) / stride + 1; }
};

void runConv(const ConvCase &c, unsigned seed) {
  // Filters: HWCF for NHWC, FCHW for NCHW.
  std::vector<int8_t> filter =
      randomInts<int8_t>(c.kh * c.kw * c.c * c.f, -128, 127, seed);
  std::string inType =
      c.nchw ? llvm::formatv("tensor<{0}x{1}x{2}x{3}xi8>", c.n, c.c, c.h, c.w)
                   .str()
             : llvm::formatv("tensor<{0}x{1}x{2}x{3}xi8>", c.n, c.h, c.w, c.c)
                   .str();
  std::string fType =
      c.nchw ? llvm::formatv("tensor<{0}x{1}x{2}x{3}xi8>", c.f, c.c, c.kh, c.kw)
                   .str()
             : llvm::formatv("tensor<{0}x{1}x{2}x{3}xi8>", c.kh, c.kw, c.c, c.f)
                   .str();
  std::string outType = c.nchw ? llvm::formatv("tensor<{0}x{1}x{2}x{3}xi32>",
                                               c.n, c.f, c.oh(), c.ow())
                                     .str()
                               : llvm::formatv("tensor<{0}x{1}x{2}x{3}xi32>",
                                               c.n, c.oh(), c.ow(), c.f)
                                     .str();
  std::string source =
      llvm::formatv(R"mlir(
func.func @conv(%x: {0}) -> {2} {{
  %f = arith.constant {3} : {1}
  %z = arith.constant 0 : i32
  %e = tensor.empty() : {2}
  %init = linalg.fill ins(%z : i32) outs(%e : {2}) -> {2}
  %r = linalg.{4} {{dilations = dense<{5}> : tensor<2xi64>, strides = dense<{6}> : tensor<2xi64>}
      ins(%x, %f : {0}, {1}) outs(%init : {2}) -> {2}
  return %r : {2}
}
)mlir",
                    inType, fType, outType, hexDense(filter),
                    c.nchw ? "conv_2d_nchw_fchw" : "conv_2d_nhwc_hwcf",
                    c.dilation, c.stride)
          .str();
  CPUJit jit(source);
  ASSERT_TRUE(jit.error.empty()) << jit.error;
  expectVnniUsed(jit);
  Buffer<int8_t, 4> x(c.nchw ? std::array<int64_t, 4>{c.n, c.c, c.h, c.w}
                             : std::array<int64_t, 4>{c.n, c.h, c.w, c.c});
  x.data = randomInts<int8_t>(x.data.size(), -128, 127, seed + 7);
  Buffer<int32_t, 4> out(
      c.nchw ? std::array<int64_t, 4>{c.n, c.f, c.oh(), c.ow()}
             : std::array<int64_t, 4>{c.n, c.oh(), c.ow(), c.f});
  jit.run("conv", x, out);
  for (int64_t b = 0; b < c.n; ++b)
    for (int64_t oy = 0; oy < c.oh(); ++oy)
      for (int64_t ox = 0; ox < c.ow(); ++ox)
        for (int64_t f = 0; f < c.f; ++f) {
          int32_t expected = 0;
          for (int64_t ky = 0; ky < c.kh; ++ky)
            for (int64_t kx = 0; kx < c.kw; ++kx)
              for (int64_t ch = 0; ch < c.c; ++ch) {
                int64_t iy = oy * c.stride + ky * c.dilation;
                int64_t ix = ox * c.stride + kx * c.dilation;
                int64_t xi = c.nchw ? ((b * c.c + ch) * c.h + iy) * c.w + ix
                                    : ((b * c.h + iy) * c.w + ix) * c.c + ch;
                int64_t fi = c.nchw ? ((f * c.c + ch) * c.kh + ky) * c.kw + kx
                                    : ((ky * c.kw + kx) * c.c + ch) * c.f + f;
                expected += int32_t(x.data[xi]) * int32_t(filter[fi]);
              }
          int64_t oi = c.nchw ? ((b * c.f + f) * c.oh() + oy) * c.ow() + ox
                              : ((b * c.oh() + oy) * c.ow() + ox) * c.f + f;
          ASSERT_EQ(out.data[oi], expected)
              << "at n=" << b << " y=" << oy << " x=" << ox << " f=" << f;
        }
}

TEST(CPULowerTest, ConvNHWCStride2) {
  runConv({false, 2, 9, 9, 3, 8, 3, 3, /*stride=*/2, /*dilation=*/1}, 11);
}
TEST(CPULowerTest, ConvNCHWDilation2) {
  runConv({true, 1, 9, 10, 3, 5, 3, 3, /*stride=*/1, /*dilation=*/2}, 12);
}
TEST(CPULowerTest, Conv1x1) {
  runConv({false, 1, 5, 5, 16, 33, 1, 1, 1, 1}, 13);
}

// Depthwise convolution: a batch-like channel loop, so no GEMM kernel; the
// loop lowering must still be exact.
TEST(CPULowerTest, DepthwiseConvNHWC) {
  const int64_t h = 7, w = 6, c = 5, k = 3, oh = h - k + 1, ow = w - k + 1;
  std::vector<int8_t> filter = randomInts<int8_t>(k * k * c, -128, 127, 21);
  std::string source = llvm::formatv(R"mlir(
func.func @dw(%x: tensor<1x{0}x{1}x{2}xi8>) -> tensor<1x{3}x{4}x{2}xi32> {{
  %f = arith.constant {5} : tensor<{6}x{6}x{2}xi8>
  %z = arith.constant 0 : i32
  %e = tensor.empty() : tensor<1x{3}x{4}x{2}xi32>
  %init = linalg.fill ins(%z : i32) outs(%e : tensor<1x{3}x{4}x{2}xi32>) -> tensor<1x{3}x{4}x{2}xi32>
  %r = linalg.depthwise_conv_2d_nhwc_hwc {{dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %f : tensor<1x{0}x{1}x{2}xi8>, tensor<{6}x{6}x{2}xi8>) outs(%init : tensor<1x{3}x{4}x{2}xi32>) -> tensor<1x{3}x{4}x{2}xi32>
  return %r : tensor<1x{3}x{4}x{2}xi32>
}
)mlir",
                                     h, w, c, oh, ow, hexDense(filter), k)
                           .str();
  CPUJit jit(source);
  ASSERT_TRUE(jit.error.empty()) << jit.error;
  Buffer<int8_t, 4> x({1, h, w, c});
  x.data = randomInts<int8_t>(x.data.size(), -128, 127, 22);
  Buffer<int32_t, 4> out({1, oh, ow, c});
  jit.run("dw", x, out);
  for (int64_t y = 0; y < oh; ++y)
    for (int64_t xx = 0; xx < ow; ++xx)
      for (int64_t ch = 0; ch < c; ++ch) {
        int32_t expected = 0;
        for (int64_t ky = 0; ky < k; ++ky)
          for (int64_t kx = 0; kx < k; ++kx)
            expected += int32_t(x.data[((y + ky) * w + xx + kx) * c + ch]) *
                        int32_t(filter[(ky * k + kx) * c + ch]);
        ASSERT_EQ(out.data[(y * ow + xx) * c + ch], expected);
      }
}

// FC + bias + ReLU in integer linalg, as qopt-fold-requant leaves it before
// requantization: i32 accumulator from a zero init, bias added, max with 0.
TEST(CPULowerTest, FcBiasRelu) {
  const int64_t m = 3, k = 20, n = 7;
  std::vector<int8_t> w = randomInts<int8_t>(k * n, -128, 127, 31);
  std::vector<int32_t> bias = randomInts<int32_t>(n, -20000, 20000, 32);
  std::string source = llvm::formatv(R"mlir(
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
func.func @fc(%a: tensor<{0}x{1}xi8>) -> tensor<{0}x{2}xi32> {{
  %w = arith.constant {3} : tensor<{1}x{2}xi8>
  %bias = arith.constant {4} : tensor<{2}xi32>
  %z = arith.constant 0 : i32
  %e = tensor.empty() : tensor<{0}x{2}xi32>
  %init = linalg.fill ins(%z : i32) outs(%e : tensor<{0}x{2}xi32>) -> tensor<{0}x{2}xi32>
  %mm = linalg.matmul ins(%a, %w : tensor<{0}x{1}xi8>, tensor<{1}x{2}xi8>) outs(%init : tensor<{0}x{2}xi32>) -> tensor<{0}x{2}xi32>
  %r = linalg.generic {{indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias : tensor<{0}x{2}xi32>, tensor<{2}xi32>) outs(%e : tensor<{0}x{2}xi32>) {{
  ^bb0(%x: i32, %b: i32, %o: i32):
    %s = arith.addi %x, %b : i32
    %c0 = arith.constant 0 : i32
    %relu = arith.maxsi %s, %c0 : i32
    linalg.yield %relu : i32
  } -> tensor<{0}x{2}xi32>
  return %r : tensor<{0}x{2}xi32>
}
)mlir",
                                     m, k, n, hexDense(w), hexDense(bias))
                           .str();
  CPUJit jit(source);
  ASSERT_TRUE(jit.error.empty()) << jit.error;
  expectVnniUsed(jit);
  Buffer<int8_t, 2> a({m, k});
  a.data = randomInts<int8_t>(m * k, -128, 127, 33);
  Buffer<int32_t, 2> out({m, n});
  jit.run("fc", a, out);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      int32_t expected = bias[j];
      for (int64_t kk = 0; kk < k; ++kk)
        expected += int32_t(a.data[i * k + kk]) * int32_t(w[kk * n + j]);
      ASSERT_EQ(out.data[i * n + j], std::max(expected, 0));
    }
}

// A quantized FC (asymmetric activations, per-channel weights, i32 bias,
// ReLU6, fixed-point requantization) through qopt-quantize-kernels,
// qopt-fold-requant and qopt-lower-quant, then qopt-lower-cpu; compared
// with the same integer IR lowered without the GEMM kernels (upstream's
// loop lowering), which LowerQuantExecTest ties to the scalar references.
TEST(CPULowerTest, QuantizedFcThroughQoptFlow) {
  const int64_t m = 5, k = 40, n = 19;
  std::vector<int8_t> w = randomInts<int8_t>(k * n, -127, 127, 41);
  std::vector<int32_t> bias = randomInts<int32_t>(n, -3000, 3000, 42);
  std::string scales, biasScales;
  for (int64_t j = 0; j < n; ++j) {
    double s = 0.004 + 0.0005 * j;
    scales += llvm::formatv("{0}{1:e9}", j ? ", " : "", s).str();
    biasScales += llvm::formatv("{0}{1:e9}", j ? ", " : "", s * 0.0627).str();
  }
  std::string wq =
      llvm::formatv("!quant.uniform<i8<-127:127>:f32:1, {{{0}}>", scales);
  std::string bq =
      llvm::formatv("!quant.uniform<i32:f32:0, {{{0}}>", biasScales);
  std::string source =
      llvm::formatv(R"mlir(
func.func @qfc(%ai: tensor<{0}x{1}xi8>) -> tensor<{0}x{2}xi8> {{
  %aq = quant.scast %ai : tensor<{0}x{1}xi8> to tensor<{0}x{1}x!quant.uniform<i8:f32, 0.0627:-14>>
  %a = quant.dcast %aq : tensor<{0}x{1}x!quant.uniform<i8:f32, 0.0627:-14>> to tensor<{0}x{1}xf32>
  %wi = arith.constant {3} : tensor<{1}x{2}xi8>
  %wq = quant.scast %wi : tensor<{1}x{2}xi8> to tensor<{1}x{2}x{5}>
  %w = quant.dcast %wq : tensor<{1}x{2}x{5}> to tensor<{1}x{2}xf32>
  %bi = arith.constant {4} : tensor<{2}xi32>
  %bq = quant.scast %bi : tensor<{2}xi32> to tensor<{2}x{6}>
  %bd = quant.dcast %bq : tensor<{2}x{6}> to tensor<{2}xf32>
  %zz = arith.constant dense<0.0> : tensor<{0}x{2}xf32>
  %y = linalg.matmul ins(%a, %w : tensor<{0}x{1}xf32>, tensor<{1}x{2}xf32>) outs(%zz : tensor<{0}x{2}xf32>) -> tensor<{0}x{2}xf32>
  %e = tensor.empty() : tensor<{0}x{2}xf32>
  %yb = linalg.generic {{indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%y, %bd : tensor<{0}x{2}xf32>, tensor<{2}xf32>) outs(%e : tensor<{0}x{2}xf32>) {{
  ^bb0(%in: f32, %b: f32, %out: f32):
    %t = arith.addf %in, %b : f32
    linalg.yield %t : f32
  } -> tensor<{0}x{2}xf32>
  %c6 = arith.constant dense<6.0> : tensor<{0}x{2}xf32>
  %r0 = arith.maximumf %yb, %zz : tensor<{0}x{2}xf32>
  %r = arith.minimumf %r0, %c6 : tensor<{0}x{2}xf32>
  %q = quant.qcast %r : tensor<{0}x{2}xf32> to tensor<{0}x{2}x!quant.uniform<i8:f32, 0.0235:-128>>
  %oi = quant.scast %q : tensor<{0}x{2}x!quant.uniform<i8:f32, 0.0235:-128>> to tensor<{0}x{2}xi8>
  return %oi : tensor<{0}x{2}xi8>
}
)mlir",
                    m, k, n, hexDense(w), hexDense(bias), wq, bq)
          .str();
  StringRef flow = "qopt-quantize-kernels,qopt-fold-requant,canonicalize,"
                   "qopt-lower-quant";
  CPUJit kernels(source, 4, 4, /*gemm=*/true, flow);
  CPUJit loops(source, 4, 4, /*gemm=*/false, flow);
  ASSERT_TRUE(kernels.error.empty()) << kernels.error;
  ASSERT_TRUE(loops.error.empty()) << loops.error;
  expectVnniUsed(kernels);
  EXPECT_EQ(loops.numVpdpbusd, 0);
  for (unsigned trial = 0; trial < 20; ++trial) {
    Buffer<int8_t, 2> a({m, k});
    a.data = randomInts<int8_t>(m * k, -128, 127, 50 + trial);
    Buffer<int8_t, 2> x({m, n}), y({m, n});
    kernels.run("qfc", a, x);
    loops.run("qfc", a, y);
    ASSERT_EQ(x.data, y.data) << "trial " << trial;
  }
}

// Float models: the f32 GEMM kernel (AVX-512 FMA where the target has it)
// and the loops. Small integer values keep every f32 sum exact, so the
// comparison is exact whatever the summation order.
TEST(CPULowerTest, FloatMatmulAndConvExact) {
  const int64_t m = 13, k = 37, n = 21;
  std::vector<float> w = randomInts<float>(k * n, -8, 8, 61);
  std::vector<float> filter = randomInts<float>(3 * 3 * 4 * 6, -8, 8, 62);
  std::string source = llvm::formatv(R"mlir(
func.func @mm(%a: tensor<{0}x{1}xf32>) -> tensor<{0}x{2}xf32> {{
  %w = arith.constant {3} : tensor<{1}x{2}xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<{0}x{2}xf32>
  %init = linalg.fill ins(%z : f32) outs(%e : tensor<{0}x{2}xf32>) -> tensor<{0}x{2}xf32>
  %r = linalg.matmul ins(%a, %w : tensor<{0}x{1}xf32>, tensor<{1}x{2}xf32>) outs(%init : tensor<{0}x{2}xf32>) -> tensor<{0}x{2}xf32>
  return %r : tensor<{0}x{2}xf32>
}
func.func @conv(%x: tensor<1x8x8x4xf32>) -> tensor<1x6x6x6xf32> {{
  %f = arith.constant {4} : tensor<3x3x4x6xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x6x6x6xf32>
  %init = linalg.fill ins(%z : f32) outs(%e : tensor<1x6x6x6xf32>) -> tensor<1x6x6x6xf32>
  %r = linalg.conv_2d_nhwc_hwcf {{dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %f : tensor<1x8x8x4xf32>, tensor<3x3x4x6xf32>) outs(%init : tensor<1x6x6x6xf32>) -> tensor<1x6x6x6xf32>
  return %r : tensor<1x6x6x6xf32>
}
)mlir",
                                     m, k, n, hexDense(w), hexDense(filter))
                           .str();
  CPUJit jit(source);
  ASSERT_TRUE(jit.error.empty()) << jit.error;
  Buffer<float, 2> a({m, k});
  a.data = randomInts<float>(m * k, -8, 8, 63);
  Buffer<float, 2> out({m, n});
  jit.run("mm", a, out);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      float expected = 0;
      for (int64_t kk = 0; kk < k; ++kk)
        expected += a.data[i * k + kk] * w[kk * n + j];
      ASSERT_EQ(out.data[i * n + j], expected) << i << ", " << j;
    }
  Buffer<float, 4> x({1, 8, 8, 4});
  x.data = randomInts<float>(x.data.size(), -8, 8, 64);
  Buffer<float, 4> y({1, 6, 6, 6});
  jit.run("conv", x, y);
  for (int64_t oy = 0; oy < 6; ++oy)
    for (int64_t ox = 0; ox < 6; ++ox)
      for (int64_t f = 0; f < 6; ++f) {
        float expected = 0;
        for (int64_t ky = 0; ky < 3; ++ky)
          for (int64_t kx = 0; kx < 3; ++kx)
            for (int64_t c = 0; c < 4; ++c)
              expected += x.data[((oy + ky) * 8 + ox + kx) * 4 + c] *
                          filter[((ky * 3 + kx) * 4 + c) * 6 + f];
        ASSERT_EQ(y.data[(oy * 6 + ox) * 6 + f], expected);
      }
}

// bf16 x bf16 -> f32 (as qopt-legalize writes a bf16 contraction): the f32
// GEMM kernel on operands widened exactly (weights at compile time, the
// activation as it is loaded). Small integers keep every sum exact.
TEST(CPULowerTest, Bf16MatmulWidenedExact) {
  const int64_t m = 13, k = 37, n = 21;
  auto toBf16 = [](float f) {
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    return static_cast<uint16_t>(bits >> 16); // exact for small integers
  };
  std::vector<float> w = randomInts<float>(k * n, -8, 8, 71);
  std::vector<uint16_t> wb;
  for (float f : w)
    wb.push_back(toBf16(f));
  std::string source = llvm::formatv(R"mlir(
func.func @mm(%a: tensor<{0}x{1}xbf16>) -> tensor<{0}x{2}xf32> {{
  %w = arith.constant {3} : tensor<{1}x{2}xbf16>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<{0}x{2}xf32>
  %init = linalg.fill ins(%z : f32) outs(%e : tensor<{0}x{2}xf32>) -> tensor<{0}x{2}xf32>
  %r = linalg.matmul ins(%a, %w : tensor<{0}x{1}xbf16>, tensor<{1}x{2}xbf16>) outs(%init : tensor<{0}x{2}xf32>) -> tensor<{0}x{2}xf32>
  return %r : tensor<{0}x{2}xf32>
}
)mlir",
                                     m, k, n, hexDense(wb))
                           .str();
  CPUJit jit(source);
  ASSERT_TRUE(jit.error.empty()) << jit.error;
  std::vector<float> af = randomInts<float>(m * k, -8, 8, 72);
  Buffer<uint16_t, 2> a({m, k});
  for (size_t i = 0; i < af.size(); ++i)
    a.data[i] = toBf16(af[i]);
  Buffer<float, 2> out({m, n});
  jit.run("mm", a, out);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      float expected = 0;
      for (int64_t kk = 0; kk < k; ++kk)
        expected += af[i * k + kk] * w[kk * n + j];
      ASSERT_EQ(out.data[i * n + j], expected) << i << ", " << j;
    }
}

} // namespace
