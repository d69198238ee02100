/* A C program that calls the functions of an object file written by
 * `qopt-run --emit-object` (test/qopt-run/emit-object.test): qopt-lower-cpu
 * gives every public function @NAME a C interface, _mlir_ciface_NAME, taking
 * a pointer to the result's memref descriptor first, then a pointer to each
 * argument's descriptor. Results are allocated by the callee (free
 * `allocated` when done).
 *
 *   mm_driver DIR   reads DIR/a_f32.npy and DIR/a_i8.npy, writes the raw
 *                   results to DIR/c_y_f32.bin and DIR/c_y_i8.bin
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* memref<?x?xT> as MLIR's LLVM lowering lays it out. */
typedef struct {
  void *allocated;
  void *aligned;
  int64_t offset;
  int64_t sizes[2];
  int64_t strides[2];
} Memref2D;

void _mlir_ciface_mm_f32(Memref2D *result, Memref2D *a);
void _mlir_ciface_mm_i8(Memref2D *result, Memref2D *a);

/* The payload of a version 1.0 .npy file of `bytes` bytes. */
static void *read_npy(const char *dir, const char *name, size_t bytes) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  unsigned char head[10];
  if (!f || fread(head, 1, 10, f) != 10 || head[6] != 1) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(1);
  }
  fseek(f, 10 + (head[8] | head[9] << 8), SEEK_SET);
  void *data = malloc(bytes);
  if (fread(data, 1, bytes, f) != bytes) {
    fprintf(stderr, "short %s\n", path);
    exit(1);
  }
  fclose(f);
  return data;
}

static Memref2D wrap(void *data, int64_t rows, int64_t cols) {
  Memref2D m = {data, data, 0, {rows, cols}, {cols, 1}};
  return m;
}

/* Writes the rows x cols result, walking its strides. */
static void write_result(const char *dir, const char *name, Memref2D *r,
                         size_t elem) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  for (int64_t i = 0; i < r->sizes[0]; ++i)
    for (int64_t j = 0; j < r->sizes[1]; ++j)
      fwrite((char *)r->aligned +
                 (r->offset + i * r->strides[0] + j * r->strides[1]) * elem,
             elem, 1, f);
  fclose(f);
  free(r->allocated);
}

int main(int argc, char **argv) {
  if (argc != 2)
    return 2;
  float *a = read_npy(argv[1], "a_f32.npy", 6 * 20 * sizeof(float));
  int8_t *ai = read_npy(argv[1], "a_i8.npy", 5 * 64);
  Memref2D in = wrap(a, 6, 20), out;
  _mlir_ciface_mm_f32(&out, &in);
  printf("mm_f32 result: %lld x %lld\n", (long long)out.sizes[0],
         (long long)out.sizes[1]);
  write_result(argv[1], "c_y_f32.bin", &out, sizeof(float));
  Memref2D ini = wrap(ai, 5, 64), outi;
  _mlir_ciface_mm_i8(&outi, &ini);
  printf("mm_i8 result: %lld x %lld\n", (long long)outi.sizes[0],
         (long long)outi.sizes[1]);
  write_result(argv[1], "c_y_i8.bin", &outi, sizeof(int32_t));
  free(a);
  free(ai);
  return 0;
}
