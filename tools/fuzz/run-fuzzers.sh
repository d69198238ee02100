#!/usr/bin/env bash
#===- run-fuzzers.sh - Build and run the calibration fuzzers --------------===#
#
# Builds the libFuzzer targets of tools/fuzz in their own build directory
# (configured from tools/fuzz alone, with clang's fuzzer, address and
# undefined sanitizers), then runs each for a bounded time on a corpus seeded
# with the test inputs, and prints the executions per target.
#
#   tools/fuzz/run-fuzzers.sh [SECONDS_PER_TARGET [BUILD_DIR]]
#
# SECONDS_PER_TARGET defaults to 60; BUILD_DIR to <repo>/build-fuzz. JOBS
# (default 2) limits the build; CC/CXX (default clang-22/clang++-22) name
# the compilers.
# Exits non-zero if a target finds a crash; the reproducer is left under
# BUILD_DIR/artifacts.
#
#===------------------------------------------------------------------------===#
set -euo pipefail

seconds=${1:-60}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${2:-$root/build-fuzz}
jobs=${JOBS:-2}
cxx=${CXX:-clang++-22}
cc=${CC:-clang-22}
llvm_dir=${LLVM_DIR:-/usr/lib/llvm-22/lib/cmake/llvm}
seeds=$root/test/Calibration/Inputs
targets=(qopt tensorrt onnxruntime onnxruntime-cache aimet tpu-mlir auto)

if ! [[ $seconds =~ ^[0-9]+$ ]] || (( seconds == 0 )); then
  echo "usage: $0 [SECONDS_PER_TARGET [BUILD_DIR]]" >&2
  exit 2
fi

# libFuzzer and the sanitizer runtimes ship in Debian's libclang-rt-22-dev.
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'extern "C" int LLVMFuzzerTestOneInput(const char *, unsigned long) { return 0; }\n' \
  >"$probe/probe.cpp"
if ! "$cxx" -fsanitize=fuzzer,address,undefined "$probe/probe.cpp" \
    -o "$probe/probe" 2>"$probe/log"; then
  echo "error: $cxx cannot link -fsanitize=fuzzer,address,undefined:" >&2
  head -3 "$probe/log" >&2
  echo "install the runtimes: apt-get install libclang-rt-22-dev" >&2
  exit 2
fi

if [[ ! -f $build/build.ninja ]]; then
  cmake -G Ninja -S "$root/tools/fuzz" -B "$build" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_CXX_COMPILER="$cxx" \
    -DLLVM_DIR="$llvm_dir" >/dev/null
fi
ninja -C "$build" -j "$jobs" qopt-fuzzers

mkdir -p "$build/artifacts"
status=0
printf '%-42s %12s %10s  %s\n' target executions exec/s result
for name in "${targets[@]}"; do
  fuzzer=$build/bin/qopt-calibration-fuzzer-$name
  corpus=$build/corpus/$name
  log=$build/logs/$name.log
  mkdir -p "$corpus" "$(dirname "$log")"
  rc=0
  "$fuzzer" -max_total_time="$seconds" -print_final_stats=1 \
    -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
    -artifact_prefix="$build/artifacts/$name-" \
    "$corpus" "$seeds" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  if (( rc == 0 )); then
    result=ok
  else
    result="FAILED (exit $rc, see $log)"
    status=1
  fi
  printf '%-42s %12s %10s  %s\n' "qopt-calibration-fuzzer-$name" \
    "${execs:-?}" "${rate:-?}" "$result"
done
exit $status
