#!/usr/bin/env bash
#===- run-tests.sh - every qopt test, one summary line ---------------------===#
#
# Builds qopt and its unit tests and runs the whole suite in one lit process:
# the lit tests under test/ (the docs test among them: test/Docs runs every
# sh block of README.md and docs/, and checks docs pages against the
# generated reference that qopt-doc writes) and the GoogleTest binaries
# (test/Unit). Ends with `N passed, N failed, N skipped` and exits non-zero
# when anything failed.
#
#===------------------------------------------------------------------------===#
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

qopt_install_packages
qopt_install_onnxruntime
qopt_configure_and_build qopt qopt-translate qopt-run qopt-calibrate qopt-compare \
  qopt-libraries QOptUnitTests qopt-doc qopt-capi-test QOptPython

RESULTS="$QOPT_BUILD/test/results.json"
rm -f "$RESULTS"
set +e
"$LLVM_PREFIX/bin/lit" -sv --order=lexical -o "$RESULTS" "$QOPT_BUILD/test"
lit_status=$?
set -e
python3 "$QOPT_ROOT/scripts/summarize-lit.py" "$RESULTS" "$lit_status"
