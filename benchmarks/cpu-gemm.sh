#!/usr/bin/env bash
#===- cpu-gemm.sh - build and run the qopt-lower-cpu GEMM benchmark --------===#
#
# Builds benchmarks/cpu-gemm (standalone CMake project against the qopt build
# in build/) and runs it on one thread. Needs libdnnl-dev and
# libopenblas-dev. Prints the table; not a test.
#
#===------------------------------------------------------------------------===#
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${QOPT_BUILD:-$ROOT/build}"
OUT="$BUILD/benchmarks/cpu-gemm"
ninja -C "$BUILD" -j2 QOptPipelines QOptConversion QOptTransforms QOptDialect QOptQuant >/dev/null
cmake -S "$ROOT/benchmarks/cpu-gemm" -B "$OUT" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
  -DLLVM_USE_LINKER=lld -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
  -DQOPT_SOURCE_DIR="$ROOT" -DQOPT_BUILD_DIR="$BUILD" >/dev/null
ninja -C "$OUT" -j2 >/dev/null
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 DNNL_VERBOSE=0 \
  taskset -c "${QOPT_BENCH_CPU:-0}" "$OUT/qopt-cpu-gemm-bench"
