//===- CpuGemmBench.cpp - qopt-lower-cpu GEMM throughput ------------------===//
//
// Single-thread GEMM throughput of qopt-lower-cpu's kernels (int8 with
// VNNI, f32) against oneDNN's u8s8s32 GEMM, OpenBLAS sgemm and the
// measured vpdpbusd peak of this core, on BERT-base and ResNet-50 shapes.
// Each qopt GEMM is a tensor function with constant weights, compiled by
// the public buildLowerCPUPipeline for this machine and JIT-compiled; its
// result is checked against a scalar reference once before timing. Prints
// one table; a benchmark, not a test.
//
//===----------------------------------------------------------------------===//

#include "qopt/Pipelines/LowerCPUPipeline.h"
#include "qopt/Transforms/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/TargetSelect.h"

#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>

#include <immintrin.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>

using namespace mlir;

extern "C" void openblas_set_num_threads(int);

namespace {

double now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// Best seconds per call of `fn` over repeated runs of about `budget` s.
double timeIt(const std::function<void()> &fn, double budget = 0.6) {
  fn(); // warm up
  double best = 1e30, start = now();
  int runs = 0;
  while (runs < 3 || now() - start < budget) {
    double t0 = now();
    fn();
    best = std::min(best, now() - t0);
    ++runs;
  }
  return best;
}

template <typename T> std::string hexDense(const std::vector<T> &values) {
  std::string s;
  s.reserve(values.size() * sizeof(T) * 2 + 16);
  s = "dense<\"0x";
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

/// `@g(A[M,K]) -> C[M,N]` with constant W[K,N]: float or integer linalg
/// (`int8`: i8 x i8 -> i32), or (`requantMode` set) the QDQ form of an i8
/// GEMM with per-channel weights and an i8 output, which qopt-quantize's
/// integer passes (quantize-kernels, fold-requant, lower-quant) turn into
/// the integer GEMM followed by one requantization per output element.
std::string gemmSource(int64_t m, int64_t n, int64_t k, bool int8,
                       const std::string &weights, bool qdq) {
  if (qdq) {
    std::string scales;
    for (int64_t j = 0; j < n; ++j)
      scales += llvm::formatv("{0}{1:e9}", j ? ", " : "", 0.002 + 1e-6 * j);
    std::string wt =
        llvm::formatv("!quant.uniform<i8<-127:127>:f32:1, {{{0}}>", scales);
    return llvm::formatv(R"mlir(
!a = !quant.uniform<i8:f32, 0.05:-3>
!o = !quant.uniform<i8:f32, 0.37:4>
func.func @g(%ai: tensor<{0}x{2}xi8>) -> tensor<{0}x{1}xi8> {{
  %aq = quant.scast %ai : tensor<{0}x{2}xi8> to tensor<{0}x{2}x!a>
  %a = quant.dcast %aq : tensor<{0}x{2}x!a> to tensor<{0}x{2}xf32>
  %wi = arith.constant {3} : tensor<{2}x{1}xi8>
  %wq = quant.scast %wi : tensor<{2}x{1}xi8> to tensor<{2}x{1}x{4}>
  %w = quant.dcast %wq : tensor<{2}x{1}x{4}> to tensor<{2}x{1}xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<{0}x{1}xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<{0}x{1}xf32>) -> tensor<{0}x{1}xf32>
  %y = linalg.matmul ins(%a, %w : tensor<{0}x{2}xf32>, tensor<{2}x{1}xf32>) outs(%f : tensor<{0}x{1}xf32>) -> tensor<{0}x{1}xf32>
  %q = quant.qcast %y : tensor<{0}x{1}xf32> to tensor<{0}x{1}x!o>
  %oi = quant.scast %q : tensor<{0}x{1}x!o> to tensor<{0}x{1}xi8>
  return %oi : tensor<{0}x{1}xi8>
}
)mlir",
                         m, n, k, weights, wt)
        .str();
  }
  std::string et = int8 ? "i8" : "f32", ct = int8 ? "i32" : "f32";
  std::string zero = int8 ? "0 : i32" : "0.0 : f32";
  return llvm::formatv(R"mlir(
func.func @g(%a: tensor<{0}x{2}x{3}>) -> tensor<{0}x{1}x{4}> {{
  %w = arith.constant {5} : tensor<{2}x{1}x{3}>
  %z = arith.constant {6}
  %e = tensor.empty() : tensor<{0}x{1}x{4}>
  %f = linalg.fill ins(%z : {4}) outs(%e : tensor<{0}x{1}x{4}>) -> tensor<{0}x{1}x{4}>
  %r = linalg.matmul ins(%a, %w : tensor<{0}x{2}x{3}>, tensor<{2}x{1}x{3}>) outs(%f : tensor<{0}x{1}x{4}>) -> tensor<{0}x{1}x{4}>
  return %r : tensor<{0}x{1}x{4}>
}
)mlir",
                       m, n, k, et, ct, weights, zero)
      .str();
}

class QoptGemm {
public:
  QoptGemm(MLIRContext &ctx, int64_t m, int64_t n, int64_t k, bool int8,
           const std::string &weights, const char *requantMode = nullptr) {
    module = parseSourceString<ModuleOp>(
        gemmSource(m, n, k, int8, weights, requantMode != nullptr), &ctx);
    if (!module) {
      std::fprintf(stderr, "cannot parse the GEMM module\n");
      std::exit(1);
    }
    double t0 = now();
    if (requantMode) {
      PassManager quantize(&ctx);
      quantize.addPass(qopt::createQuantizeKernels());
      quantize.addPass(qopt::createFoldRequant());
      qopt::LowerQuantOptions lowerQuant;
      lowerQuant.requantMode = requantMode;
      quantize.addPass(qopt::createLowerQuant(lowerQuant));
      if (failed(quantize.run(*module))) {
        std::fprintf(stderr, "the quantize passes failed\n");
        std::exit(1);
      }
    }
    double t1 = now();
    PassManager pm(&ctx);
    qopt::LowerCPUOptions options;
    qopt::buildLowerCPUPipeline(pm, options);
    if (failed(pm.run(*module))) {
      std::fprintf(stderr, "qopt-lower-cpu failed\n");
      std::exit(1);
    }
    double t2 = now();
    int vnni = 0;
    module->walk([&](LLVM::CallIntrinsicOp call) {
      vnni += call.getIntrin() == "llvm.x86.avx512.vpdpbusd.512";
    });
    if ((int8 || requantMode) && vnni == 0) {
      std::fprintf(stderr, "the int8 GEMM does not reach vpdpbusd\n");
      std::exit(1);
    }
    ExecutionEngineOptions engineOptions;
    std::function<llvm::Error(llvm::Module *)> transformer =
        makeOptimizingTransformer(3, 0, nullptr);
    engineOptions.transformer = transformer;
    engineOptions.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
    auto created = ExecutionEngine::create(*module, engineOptions);
    if (!created) {
      std::fprintf(stderr, "JIT failed\n");
      std::exit(1);
    }
    engine = std::move(*created);
    fn = *engine->lookup("_mlir_ciface_g");
    quantizeSeconds = t1 - t0;
    lowerSeconds = t2 - t1;
    jitSeconds = now() - t2;
    this->m = m;
    this->k = k;
  }

  double quantizeSeconds = 0, lowerSeconds = 0, jitSeconds = 0;

  /// Runs once; copies C out when `out` is given; frees the result.
  template <typename A, typename C> void run(A *a, C *out, int64_t n) {
    StridedMemRefType<A, 2> arg{a, a, 0, {m, k}, {k, 1}};
    StridedMemRefType<C, 2> res;
    reinterpret_cast<void (*)(StridedMemRefType<C, 2> *,
                              StridedMemRefType<A, 2> *)>(fn)(&res, &arg);
    if (out)
      std::memcpy(out, res.data + res.offset, sizeof(C) * m * n);
    std::free(res.basePtr);
  }

private:
  OwningOpRef<ModuleOp> module;
  std::unique_ptr<ExecutionEngine> engine;
  void *fn = nullptr;
  int64_t m = 0, k = 0;
};

/// vpdpbusd throughput: 16 independent accumulators, 128 ops each.
double vnniPeakGops() {
  __m512i acc[16];
  for (auto &x : acc)
    x = _mm512_setzero_si512();
  __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
  const long iters = 20000000;
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    double t0 = now();
    for (long i = 0; i < iters; ++i) {
#pragma unroll
      for (int j = 0; j < 16; ++j)
        acc[j] = _mm512_dpbusd_epi32(acc[j], a, b);
      asm volatile("" : "+v"(a));
    }
    double t = now() - t0;
    best = std::max(best, iters * 16.0 * 128.0 / t / 1e9);
  }
  volatile int sink =
      _mm512_reduce_add_epi32(acc[0]) + _mm512_reduce_add_epi32(acc[15]);
  (void)sink;
  return best;
}

} // namespace

int main() {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerAllToLLVMIRTranslations(registry);
  MLIRContext ctx(registry);
  openblas_set_num_threads(1);

  double peak = vnniPeakGops();
  std::printf("vpdpbusd peak (one core, measured): %.1f GOPS\n\n", peak);
  std::printf("%-22s %9s %9s %9s %9s %8s %8s %8s %8s\n", "shape MxNxK", "int8",
              "f32", "oneDNN", "OpenBLAS", "i8/f32", "i8/dnnl", "i8/blas",
              "i8/peak");
  std::printf("%-22s %9s %9s %9s %9s\n", "", "GOPS", "GFLOPS", "u8s8 GOPS",
              "GFLOPS");
  struct Extra {
    const char *name;
    double requantNs[2], quantizeMs, lowerMs, jitMs, f32LowerMs, f32JitMs;
  };
  std::vector<Extra> extras;
  struct Shape {
    const char *name;
    int64_t m, n, k;
  };
  Shape shapes[] = {{"BERT 128x768x768", 128, 768, 768},
                    {"BERT 128x3072x768", 128, 3072, 768},
                    {"BERT 128x768x3072", 128, 768, 3072},
                    {"R50 3136x64x576", 3136, 64, 576},
                    {"R50 784x128x1152", 784, 128, 1152},
                    {"R50 196x256x2304", 196, 256, 2304},
                    {"R50 49x512x4608", 49, 512, 4608}};
  std::mt19937 rng(1);
  for (const Shape &s : shapes) {
    int64_t m = s.m, n = s.n, k = s.k;
    double ops = 2.0 * m * n * k;
    std::uniform_int_distribution<int> d8(-128, 127);
    std::vector<int8_t> a8(m * k), w8(k * n);
    for (auto &v : a8)
      v = d8(rng);
    for (auto &v : w8)
      v = d8(rng);
    std::vector<float> af(m * k), wf(k * n);
    for (size_t i = 0; i < af.size(); ++i)
      af[i] = a8[i] / 16.0f;
    for (size_t i = 0; i < wf.size(); ++i)
      wf[i] = w8[i] / 16.0f;

    QoptGemm qi(ctx, m, n, k, true, hexDense(w8));
    QoptGemm qf(ctx, m, n, k, false, hexDense(wf));
    // Check the int8 result once (exact) against a scalar reference.
    std::vector<int32_t> c(m * n);
    qi.run(a8.data(), c.data(), n);
    for (int64_t i = 0; i < m; i += std::max<int64_t>(1, m / 7))
      for (int64_t j = 0; j < n; ++j) {
        int32_t ref = 0;
        for (int64_t kk = 0; kk < k; ++kk)
          ref += int32_t(a8[i * k + kk]) * int32_t(w8[kk * n + j]);
        if (ref != c[i * n + j]) {
          std::fprintf(stderr, "%s: qopt int8 mismatch at %ld,%ld\n", s.name,
                       (long)i, (long)j);
          return 1;
        }
      }
    double tInt8 =
        timeIt([&] { qi.run<int8_t, int32_t>(a8.data(), nullptr, n); });
    double tF32 = timeIt([&] { qf.run<float, float>(af.data(), nullptr, n); });

    // oneDNN u8s8s32 (row-major, A as u8 = a + 128, the same bias qopt
    // applies; its compensation is oneDNN's business).
    std::vector<uint8_t> au(m * k);
    for (size_t i = 0; i < au.size(); ++i)
      au[i] = uint8_t(a8[i] + 128);
    std::vector<int32_t> cd(m * n);
    int32_t co = 0;
    double tDnnl = timeIt([&] {
      dnnl_gemm_u8s8s32('N', 'N', 'F', m, n, k, 1.0f, au.data(), k, 0,
                        w8.data(), n, 0, 0.0f, cd.data(), n, &co);
    });
    std::vector<float> cf(m * n);
    double tBlas = timeIt([&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f,
                  af.data(), k, wf.data(), n, 0.0f, cf.data(), n);
    });
    double gI = ops / tInt8 / 1e9, gF = ops / tF32 / 1e9,
           gD = ops / tDnnl / 1e9, gB = ops / tBlas / 1e9;
    std::printf("%-22s %9.1f %9.1f %9.1f %9.1f %7.2fx %7.2fx %7.2fx %7.0f%%\n",
                s.name, gI, gF, gD, gB, gI / gF, gI / gD, gI / gB,
                100.0 * gI / peak);
    std::fflush(stdout);

    // The same GEMM with an i8 output: the quantize passes add one
    // requantization per output element; its cost is the time over the
    // plain i32 GEMM, per element, in each mode.
    Extra extra{
        s.name, {0, 0}, 0, 0, 0, qf.lowerSeconds * 1e3, qf.jitSeconds * 1e3};
    const char *modes[2] = {"fixed-point", "float"};
    for (int i = 0; i < 2; ++i) {
      QoptGemm qq(ctx, m, n, k, true, hexDense(w8), modes[i]);
      double tQ =
          timeIt([&] { qq.run<int8_t, int8_t>(a8.data(), nullptr, n); });
      extra.requantNs[i] = (tQ - tInt8) / double(m * n) * 1e9;
      if (i == 0) {
        extra.quantizeMs = qq.quantizeSeconds * 1e3;
        extra.lowerMs = qq.lowerSeconds * 1e3;
        extra.jitMs = qq.jitSeconds * 1e3;
      }
    }
    extras.push_back(extra);
  }

  std::printf("\nRequantization (i32 -> i8 per channel, time over the i32 "
              "GEMM per output element) and compile times (ms; int8: "
              "quantize passes, qopt-lower-cpu, LLVM JIT -O3):\n");
  std::printf("%-22s %11s %11s %9s %9s %9s %9s %9s\n", "shape MxNxK",
              "fixed ns/el", "float ns/el", "quantize", "lower", "JIT",
              "f32 lower", "f32 JIT");
  for (const Extra &e : extras)
    std::printf("%-22s %11.3f %11.3f %9.1f %9.1f %9.1f %9.1f %9.1f\n", e.name,
                e.requantNs[0], e.requantNs[1], e.quantizeMs, e.lowerMs,
                e.jitMs, e.f32LowerMs, e.f32JitMs);
  return 0;
}
