#!/usr/bin/env bash
#===- run-example.sh - the main job on the bundled example -----------------===#
#
# Builds qopt and runs it on the bundled float model: today this imports the
# bundled calibration table onto the model (qopt-import-calibration), shows
# the annotated IR, and writes the statistics back out as a TensorRT cache.
# The pipeline grows with later stages.
#
#===------------------------------------------------------------------------===#
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

qopt_install_packages
qopt_configure_and_build qopt

QOPT="$QOPT_BUILD/bin/qopt"
EXAMPLE="$QOPT_ROOT/examples/mlp"

echo "== $EXAMPLE.mlir with the statistics of $EXAMPLE.calib.json"
"$QOPT" "$EXAMPLE.mlir" \
  --qopt-import-calibration="file=$EXAMPLE.calib.json format=qopt strict=true" \
  --mlir-pass-statistics --mlir-pass-statistics-display=list
echo
echo "== the same statistics as a TensorRT calibration cache"
"$QOPT" "$EXAMPLE.mlir" \
  --qopt-import-calibration="file=$EXAMPLE.calib.json" \
  --qopt-export-calibration="format=tensorrt" -o /dev/null
