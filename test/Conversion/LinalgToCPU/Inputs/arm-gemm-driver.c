/*===- arm-gemm-driver.c - runs qopt-lower-cpu's aarch64 kernels ----------===*
 *
 * The C side of arm-neon-qemu.test: calls each lowered function through its
 * C interface (`_mlir_ciface_<name>`, memref descriptors by pointer: the
 * result, then the activation), computes the same contraction plus the
 * per-channel bias as a plain scalar loop nest and compares every element
 * exactly. Prints one line per case and a closing count; exits non-zero on
 * any mismatch. cases.h (from arm_gemm_cases.py) holds the data, the
 * declarations and QOPT_CASES.
 *
 *===----------------------------------------------------------------------===*/

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* MLIR's ranked memref descriptor. */
#define DESC(R, T)                                                             \
  struct {                                                                     \
    T *allocated;                                                              \
    T *aligned;                                                                \
    int64_t offset;                                                            \
    int64_t sizes[R];                                                          \
    int64_t strides[R];                                                        \
  }
typedef DESC(2, int8_t) desc2_i8;
typedef DESC(2, int32_t) desc2_i32;
typedef DESC(4, int8_t) desc4_i8;
typedef DESC(4, int32_t) desc4_i32;

#include "cases.h"

/* A contiguous row-major descriptor over `data`. */
#define FILL_DESC(d, data, rank, ...)                                          \
  do {                                                                         \
    int64_t shape_[rank] = {__VA_ARGS__};                                      \
    (d).allocated = (d).aligned = (data);                                      \
    (d).offset = 0;                                                            \
    for (int i_ = (rank)-1, s_ = 1; i_ >= 0; --i_) {                           \
      (d).sizes[i_] = shape_[i_];                                              \
      (d).strides[i_] = s_;                                                    \
      s_ *= (int)shape_[i_];                                                   \
    }                                                                          \
  } while (0)

/* Compares `count` row-major reference values with the result descriptor
   (read through its own strides). */
static int compare(const char *name, const int32_t *ref, const int32_t *base,
                   int64_t offset, const int64_t *sizes, const int64_t *strides,
                   int rank, int64_t count) {
  int64_t bad = 0;
  for (int64_t linear = 0; linear < count; ++linear) {
    int64_t rest = linear, at = offset;
    for (int i = rank - 1; i >= 0; --i) {
      at += (rest % sizes[i]) * strides[i];
      rest /= sizes[i];
    }
    if (base[at] != ref[linear]) {
      if (bad < 5)
        printf("%s: MISMATCH at %lld: got %d, expected %d\n", name,
               (long long)linear, base[at], ref[linear]);
      ++bad;
    }
  }
  if (bad) {
    printf("%s: FAILED, %lld of %lld values differ\n", name, (long long)bad,
           (long long)count);
    return 1;
  }
  printf("%s: OK (%lld values)\n", name, (long long)count);
  return 0;
}

typedef void (*matmul_fn)(desc2_i32 *, desc2_i8 *);

/* C[m, n] = bias[n] + sum_k A[m, k] * W, W being [K, N] or, transposed,
   [N, K]. */
static int check_matmul(const char *name, matmul_fn fn, int m, int k, int n,
                        int transposed, int8_t *a, int8_t *w, int32_t *bias) {
  int32_t *ref = malloc(sizeof(int32_t) * m * n);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      int32_t acc = bias[j];
      for (int kk = 0; kk < k; ++kk)
        acc += (int32_t)a[i * k + kk] *
               (int32_t)(transposed ? w[j * k + kk] : w[kk * n + j]);
      ref[i * n + j] = acc;
    }
  desc2_i8 da;
  desc2_i32 result;
  FILL_DESC(da, a, 2, m, k);
  memset(&result, 0, sizeof(result));
  fn(&result, &da);
  int failed = compare(name, ref, result.aligned, result.offset, result.sizes,
                       result.strides, 2, (int64_t)m * n);
  free(ref);
  return failed;
}

typedef void (*conv_fn)(desc4_i32 *, desc4_i8 *);

/* NHWC input, HWCF filter, NHWF output; or (nchw) NCHW, FCHW, NFHW. */
static int check_conv(const char *name, conv_fn fn, int nchw, int nb, int h,
                      int w, int c, int kh, int kw, int f, int stride,
                      int dilation, int oh, int ow, int8_t *x, int8_t *filt,
                      int32_t *bias) {
  int64_t count = (int64_t)nb * oh * ow * f;
  int32_t *ref = malloc(sizeof(int32_t) * count);
  for (int b = 0; b < nb; ++b)
    for (int y = 0; y < oh; ++y)
      for (int z = 0; z < ow; ++z)
        for (int o = 0; o < f; ++o) {
          int64_t out = nchw ? (((int64_t)b * f + o) * oh + y) * ow + z
                             : (((int64_t)b * oh + y) * ow + z) * f + o;
          int32_t acc = bias[o];
          for (int p = 0; p < kh; ++p)
            for (int q = 0; q < kw; ++q)
              for (int ch = 0; ch < c; ++ch) {
                int iy = y * stride + p * dilation;
                int iz = z * stride + q * dilation;
                int32_t xv = nchw
                                 ? x[(((int64_t)b * c + ch) * h + iy) * w + iz]
                                 : x[(((int64_t)b * h + iy) * w + iz) * c + ch];
                int32_t fv = nchw ? filt[((o * c + ch) * kh + p) * kw + q]
                                  : filt[((p * kw + q) * c + ch) * f + o];
                acc += xv * fv;
              }
          ref[out] = acc;
        }
  desc4_i8 dx;
  desc4_i32 result;
  if (nchw)
    FILL_DESC(dx, x, 4, nb, c, h, w);
  else
    FILL_DESC(dx, x, 4, nb, h, w, c);
  memset(&result, 0, sizeof(result));
  fn(&result, &dx);
  int failed = compare(name, ref, result.aligned, result.offset, result.sizes,
                       result.strides, 4, count);
  free(ref);
  return failed;
}

int main(void) {
  int failures = 0;
  QOPT_CASES
  printf("%d case(s) failed\n", failures);
  return failures != 0;
}
