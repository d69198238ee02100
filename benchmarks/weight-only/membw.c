/*===- membw.c - single-thread memory read bandwidth ------------------------===
 *
 * The roof of benchmarks/weight-only/bench.py: how many bytes per second one
 * core of this machine can read, measured the way a memory-bound GEMV reads
 * its weights (sequential streams, every byte used once per pass).
 *
 *   membw [--reps N] BYTES [BYTES ...]
 *
 * For each size it allocates a 2 MiB-aligned buffer (transparent huge pages
 * asked for), writes it once (so every page is mapped and not the shared
 * zero page), then reads all of it N times (default 10) with several
 * kernels and prints, per size, the best pass of the best kernel:
 *
 *   membw BYTES best GB/s KERNEL (all: KERNEL GB/s ...)
 *
 * GB/s is 1e9 bytes per second. The kernels sum the buffer as floats with
 * AVX-512 loads into 8 independent accumulators (no loop-carried latency
 * chain limits it) and differ in how many sequential streams are in flight
 * at once (1, 2, 4 or 8 equal slices of the buffer read in lock step, which
 * gives the hardware prefetchers more streams) and in software prefetch.
 * A size larger than the last-level cache measures DRAM; a size equal to
 * a weight matrix read over and over measures what a repeated GEMV can
 * see (the cache level that holds it).
 *
 *===------------------------------------------------------------------------===*/
#define _GNU_SOURCE
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Sums `bytes` (a multiple of 512 * streams) read as `streams` slices in
 * lock step, 512 bytes (8 zmm) per slice per step. `dist` > 0 prefetches
 * that many bytes ahead in each slice. */
__attribute__((target("avx512f"))) static float
sumStreams(const float *p, size_t bytes, int streams, size_t dist) {
  __m512 acc[8];
  for (int i = 0; i < 8; ++i)
    acc[i] = _mm512_setzero_ps();
  size_t slice = bytes / streams / sizeof(float);
  for (size_t off = 0; off < slice; off += 128) {
    for (int s = 0; s < streams; ++s) {
      const float *q = p + s * slice + off;
      if (dist) {
        const char *pf = (const char *)q + dist;
        for (int l = 0; l < 512; l += 64)
          _mm_prefetch(pf + l, _MM_HINT_T0);
      }
      for (int i = 0; i < 8; ++i)
        acc[i] = _mm512_add_ps(acc[i], _mm512_load_ps(q + 16 * i));
    }
  }
  for (int i = 1; i < 8; ++i)
    acc[0] = _mm512_add_ps(acc[0], acc[i]);
  return _mm512_reduce_add_ps(acc[0]);
}

struct Kernel {
  const char *name;
  int streams;
  size_t dist;
};

static const struct Kernel kKernels[] = {
    {"1-stream", 1, 0},         {"2-streams", 2, 0},
    {"4-streams", 4, 0},        {"8-streams", 8, 0},
    {"1-stream+pf1k", 1, 1024}, {"4-streams+pf1k", 4, 1024},
    {"1-stream+pf4k", 1, 4096}, {"4-streams+pf4k", 4, 4096},
};
enum { kNumKernels = sizeof(kKernels) / sizeof(kKernels[0]) };

int main(int argc, char **argv) {
  int reps = 10, first = 1;
  if (argc > 2 && strcmp(argv[1], "--reps") == 0) {
    reps = atoi(argv[2]);
    first = 3;
  }
  if (first >= argc || reps < 1) {
    fprintf(stderr, "usage: membw [--reps N] BYTES [BYTES ...]\n");
    return 2;
  }
  if (!__builtin_cpu_supports("avx512f")) {
    fprintf(stderr, "membw: this CPU has no AVX-512F\n");
    return 1;
  }
  volatile float sink = 0;
  for (int a = first; a < argc; ++a) {
    char *end;
    unsigned long long req = strtoull(argv[a], &end, 10);
    if (*end || req == 0) {
      fprintf(stderr, "membw: '%s' is not a positive byte count\n", argv[a]);
      return 2;
    }
    /* Round up to whole 512-byte steps of 8 slices. */
    size_t bytes = (req + 4095) / 4096 * 4096;
    size_t align = 2u << 20;
    float *buf = aligned_alloc(align, (bytes + align - 1) / align * align);
    if (!buf) {
      fprintf(stderr, "membw: cannot allocate %zu bytes\n", bytes);
      return 1;
    }
    madvise(buf, bytes, MADV_HUGEPAGE);
    for (size_t i = 0; i < bytes / sizeof(float); ++i)
      buf[i] = (float)(i & 1023);
    double best[kNumKernels];
    for (int k = 0; k < kNumKernels; ++k)
      best[k] = 0;
    /* Kernels interleaved over the repetitions so that a noisy moment on
     * a shared machine does not penalize one kernel only. */
    for (int r = 0; r < reps; ++r)
      for (int k = 0; k < kNumKernels; ++k) {
        double t0 = now();
        sink += sumStreams(buf, bytes, kKernels[k].streams, kKernels[k].dist);
        double gbs = bytes / (now() - t0) / 1e9;
        if (gbs > best[k])
          best[k] = gbs;
      }
    int top = 0;
    for (int k = 1; k < kNumKernels; ++k)
      if (best[k] > best[top])
        top = k;
    printf("membw %zu best %.2f GB/s %s (all:", bytes, best[top],
           kKernels[top].name);
    for (int k = 0; k < kNumKernels; ++k)
      printf(" %s %.2f", kKernels[k].name, best[k]);
    printf(")\n");
    free(buf);
  }
  return 0;
}
