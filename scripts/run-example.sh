#!/usr/bin/env bash
#===- run-example.sh - the main job on the bundled example -----------------===#
#
# Builds qopt and quantizes the bundled digits CNN (examples/digits: conv-relu-
# conv-relu-pool-fc-fc trained on scikit-learn's digits) with its calibration
# file through the qopt-quantize pipeline (import calibration, legalize,
# integer kernels, fold requantization, lower quantized ops), then runs the
# float and the int8 models on the 300 held-out images and prints their top-1
# accuracy, their agreement and the int8 logits' SQNR. The models run through
# upstream's plain LLVM lowering (examples/digits/check_mlir.py) until qopt's
# CPU backend lands in the demo.
#
#===------------------------------------------------------------------------===#
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

qopt_install_packages
qopt_configure_and_build qopt

QOPT="$QOPT_BUILD/bin/qopt"
DIGITS="$QOPT_ROOT/examples/digits"
OUT="$QOPT_BUILD/example"
mkdir -p "$OUT"

echo "== quantizing $DIGITS/digits.mlir with $DIGITS/digits.calib.json"
"$QOPT" "$DIGITS/digits.mlir" \
  --qopt-quantize="calibration=$DIGITS/digits.calib.json strict=true" \
  -o "$OUT/digits.int8.mlir"
kernels=$(grep -c "iterator_types = \[.*\"reduction\"" "$OUT/digits.int8.mlir" || true)
requants=$(grep -c "arith.divsi" "$OUT/digits.int8.mlir" || true)
echo "   $kernels integer kernels (conv/matmul/pool), $requants fixed-point requantizations, written to $OUT/digits.int8.mlir"
echo
echo "== float model (examples/digits/digits.mlir) against numpy"
/usr/bin/python3 "$DIGITS/check_mlir.py"
echo
echo "== int8 model against the float model"
/usr/bin/python3 "$DIGITS/check_mlir.py" --model "$OUT/digits.int8.mlir"
