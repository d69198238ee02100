#!/usr/bin/env bash
#===- run-example.sh - the main job on the bundled example -----------------===#
#
# Builds qopt and qopt-run, quantizes the bundled digits CNN (examples/digits:
# conv-relu-conv-relu-pool-fc-fc trained on scikit-learn's digits) with its
# calibration file through the qopt-quantize pipeline (import calibration,
# legalize, integer kernels, fold requantization, lower quantized ops),
# compiles the float and the int8 model for this machine with
# qopt-lower-cpu, runs both on the 300 held-out images with qopt-run, and
# prints their top-1 accuracy, their agreement, the int8 logits' SQNR, the
# size of both models and the int8/f32 speed ratio
# (examples/digits/run_qopt.py). Timing: 3 rounds, each timing float then
# int8 with `qopt-run --repeat 50 --time` (QOPT_EXAMPLE_REPEAT changes the
# 50); the ratio is of each model's lowest median, which discards a round
# disturbed by other work on the machine. Last, the digits row of
# benchmarks/models: the same model against ONNX Runtime (docs/results.md).
#
#===------------------------------------------------------------------------===#
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

qopt_install_packages
qopt_install_onnxruntime
qopt_configure_and_build qopt qopt-run qopt-translate qopt-calibrate

QOPT="$QOPT_BUILD/bin/qopt"
QOPT_RUN="$QOPT_BUILD/bin/qopt-run"
DIGITS="$QOPT_ROOT/examples/digits"
OUT="$QOPT_BUILD/example"
REPEAT="${QOPT_EXAMPLE_REPEAT:-50}"
mkdir -p "$OUT"

echo "== quantizing $DIGITS/digits.mlir with $DIGITS/digits.calib.json"
"$QOPT" "$DIGITS/digits.mlir" \
  --qopt-quantize="calibration=$DIGITS/digits.calib.json strict=true" \
  -o "$OUT/digits.int8.mlir"
kernels=$(grep -c "iterator_types = \[.*\"reduction\"" "$OUT/digits.int8.mlir" || true)
requants=$(grep -c "arith.divsi" "$OUT/digits.int8.mlir" || true)
echo "   $kernels integer kernels (conv/matmul/pool), $requants fixed-point requantizations, written to $OUT/digits.int8.mlir"
echo

# @digits takes one image; @digits_batch (added by run_qopt.py wrap) calls it
# on each of the 300 images of test_x.npy [300, 1, 8, 8].
echo "== compiling both models for this machine: qopt --qopt-lower-cpu"
for model in float int8; do
  src="$DIGITS/digits.mlir"
  [ "$model" = int8 ] && src="$OUT/digits.int8.mlir"
  /usr/bin/python3 "$DIGITS/run_qopt.py" wrap "$src" "$OUT/digits.$model.batch.mlir" --batch 300
  "$QOPT" "$OUT/digits.$model.batch.mlir" --qopt-lower-cpu -o "$OUT/digits.$model.lowered.mlir"
  vnni=$(grep -c "llvm.x86.avx512.vpdpbusd.512" "$OUT/digits.$model.lowered.mlir" || true)
  echo "   $model: $OUT/digits.$model.lowered.mlir ($vnni vpdpbusd)"
done
echo

echo "== running both on the 300 held-out images: qopt-run --repeat $REPEAT --time, 3 rounds"
rm -f "$OUT/float.time.txt" "$OUT/int8.time.txt"
for round in 1 2 3; do
  for model in float int8; do
    "$QOPT_RUN" "$OUT/digits.$model.lowered.mlir" --entry digits_batch \
      --input "$DIGITS/test_x.npy" --output "$OUT/$model.logits.npy" \
      --repeat "$REPEAT" --time | tee -a "$OUT/$model.time.txt" |
      sed "s/^/   round $round, $model: /"
  done
done
echo "   logits in $OUT/float.logits.npy and $OUT/int8.logits.npy"
echo

echo "== results"
/usr/bin/python3 "$DIGITS/run_qopt.py" report \
  --float-model "$DIGITS/digits.mlir" --int8-model "$OUT/digits.int8.mlir" \
  --float-logits "$OUT/float.logits.npy" --int8-logits "$OUT/int8.logits.npy" \
  --float-time "$OUT/float.time.txt" --int8-time "$OUT/int8.time.txt"
echo

# The digits row of benchmarks/models (docs/results.md): the same model
# exported to ONNX and run by ONNX Runtime (float, and int8 on qopt's QDQ
# export), against qopt f32 and int8 calibrated by qopt-calibrate on the
# calibration images, on the first 100 held-out images.
echo "== the digits row of benchmarks/models: qopt against ONNX Runtime"
/usr/bin/python3 "$QOPT_ROOT/benchmarks/models" --build "$QOPT_BUILD" \
  --models digits --calib 100 --eval 100 --repeat 20 --calibrators "" --mixed "" \
  --work "$OUT/models"
