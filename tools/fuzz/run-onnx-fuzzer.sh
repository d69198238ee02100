#!/usr/bin/env bash
#===- run-onnx-fuzzer.sh - Build and run the ONNX importer fuzzer ---------===#
#
# Configures qopt with -DQOPT_ENABLE_FUZZERS=ON in its own build directory,
# builds qopt-onnx-import-fuzzer (the importer's sources instrumented with
# libFuzzer, address and undefined sanitizers), seeds a corpus with the test
# models (every model of test/Target/ONNX/Inputs/make_model.py and the
# model.onnx files of Debian's libonnx-testdata) and runs it for a bounded
# time, printing the executions and the result.
#
#   tools/fuzz/run-onnx-fuzzer.sh [SECONDS [BUILD_DIR]]
#
# SECONDS defaults to 300; BUILD_DIR to <repo>/build-fuzz-onnx. JOBS (default
# 2) limits the build. Exits non-zero if the fuzzer finds a crash, a leak, a
# sanitizer report, a hang or a module that does not verify; the reproducer
# is left under BUILD_DIR/artifacts.
#
#===------------------------------------------------------------------------===#
set -euo pipefail

seconds=${1:-300}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${2:-$root/build-fuzz-onnx}
jobs=${JOBS:-2}
llvm=/usr/lib/llvm-22

if ! [[ $seconds =~ ^[0-9]+$ ]] || (( seconds == 0 )); then
  echo "usage: $0 [SECONDS [BUILD_DIR]]" >&2
  exit 2
fi
if [[ ! -f $build/build.ninja ]]; then
  cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER="$llvm/bin/clang" \
    -DCMAKE_CXX_COMPILER="$llvm/bin/clang++" -DLLVM_USE_LINKER=lld \
    -DMLIR_DIR="$llvm/lib/cmake/mlir" -DQOPT_ENABLE_FUZZERS=ON >/dev/null
fi
ninja -C "$build" -j "$jobs" qopt-onnx-import-fuzzer

seeds=$build/onnx-seeds
if [[ ! -d $seeds ]]; then
  mkdir -p "$seeds.tmp"
  for m in $(/usr/bin/python3 -c "import sys; sys.path.insert(0, '$root/test/Target/ONNX/Inputs'); import make_model; print(' '.join(sorted(make_model.MODELS)))"); do
    /usr/bin/python3 "$root/test/Target/ONNX/Inputs/make_model.py" "$m" \
      "$seeds.tmp/$m.onnx"
  done
  if [[ -d /usr/share/libonnx-testdata/data ]]; then
    find /usr/share/libonnx-testdata/data -name model.onnx -size -64k |
      while read -r f; do
        cp "$f" "$seeds.tmp/$(echo "$f" | md5sum | cut -c1-16).onnx"
      done
  fi
  mv "$seeds.tmp" "$seeds"
fi

corpus=$build/corpus/onnx-import
log=$build/logs/onnx-import.log
mkdir -p "$corpus" "$(dirname "$log")" "$build/artifacts"
rc=0
"$build/bin/qopt-onnx-import-fuzzer" -max_total_time="$seconds" \
  -print_final_stats=1 -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=20 \
  -max_len=65536 -artifact_prefix="$build/artifacts/onnx-import-" \
  "$corpus" "$seeds" >"$log" 2>&1 || rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
printf '%-28s %12s %10s %12s  %s\n' target executions exec/s coverage result
printf '%-28s %12s %10s %12s  %s\n' qopt-onnx-import-fuzzer "${execs:-?}" \
  "${rate:-?}" "${cov#cov: }" \
  "$( ((rc == 0)) && echo ok || echo "FAILED (exit $rc, see $log)")"
exit $rc
