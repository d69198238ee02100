#!/usr/bin/env bash
#===- setup.sh - install what qopt needs, configure and build --------------===#
#
# Sourced by run-example.sh and run-tests.sh. Installs the Debian packages qopt
# needs when they are missing (apt-get as root; otherwise prints the exact
# apt-get line and stops), then configures build/ and builds the targets
# given in QOPT_TARGETS.
#
#===------------------------------------------------------------------------===#
set -euo pipefail

QOPT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
QOPT_BUILD="${QOPT_BUILD:-$QOPT_ROOT/build}"
LLVM_PREFIX=/usr/lib/llvm-22

QOPT_PACKAGES=(cmake ninja-build python3 clang-22 lld-22 llvm-22-dev
  llvm-22-tools libmlir-22-dev mlir-22-tools libgtest-dev
  libonnx-dev libprotobuf-dev libonnx-testdata python3-onnx python3-numpy)

qopt_install_packages() {
  local missing=()
  for pkg in "${QOPT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
        grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  local line="apt-get install -y --no-install-recommends ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "qopt needs these Debian packages: ${missing[*]}" >&2
    echo "Run as root:  apt-get update && $line" >&2
    exit 1
  fi
  echo "Installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

qopt_configure_and_build() {
  if [ ! -f "$QOPT_BUILD/build.ninja" ]; then
    cmake -G Ninja -S "$QOPT_ROOT" -B "$QOPT_BUILD" \
      -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_C_COMPILER="$LLVM_PREFIX/bin/clang" \
      -DCMAKE_CXX_COMPILER="$LLVM_PREFIX/bin/clang++" \
      -DLLVM_USE_LINKER=lld \
      -DMLIR_DIR="$LLVM_PREFIX/lib/cmake/mlir" >/dev/null
  fi
  local jobs
  jobs="$(nproc 2>/dev/null || echo 2)"
  ninja -C "$QOPT_BUILD" -j "$jobs" "$@" >&2
}
