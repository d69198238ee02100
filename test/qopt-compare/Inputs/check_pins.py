"""Applies a pin table through the quantize pipeline and measures, with
numpy, the output SQNR of the quantized model with and without the pins.

usage: check_pins.py WORKDIR PINS MIN_GAIN_DB

WORKDIR holds model.mlir, calib.json and eval/*.npy. Three programs are
compiled with qopt (float; qopt-quantize; qopt-quantize with the pin table)
and run with qopt-run on every eval input; the SQNR of each quantized
program's outputs against the float program's is computed here, pooled over
the inputs: 10 log10(sum y^2 / sum (y - y_q)^2), in float64. Prints the two
figures and PASS when the pins gain at least MIN_GAIN_DB, FAIL otherwise.
"""
import glob
import os
import subprocess
import sys

import numpy as np

work, pins, min_gain = sys.argv[1], sys.argv[2], float(sys.argv[3])
model = os.path.join(work, "model.mlir")
calib = os.path.join(work, "calib.json")
variants = {
    "float": "",
    "base": f"--qopt-quantize=calibration={calib}",
    "pinned": f"--qopt-quantize=calibration={calib} budget=cost:1000 "
              f"precision-table={pins}",
}
outputs = {}
for name, quantize in variants.items():
    lowered = os.path.join(work, f"{name}.lowered.mlir")
    cmd = ["qopt", model] + ([quantize] if quantize else []) + [
        "--qopt-lower-cpu", "-o", lowered]
    subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
    outs = []
    for i, x in enumerate(sorted(glob.glob(os.path.join(work, "eval", "*.npy")))):
        y = os.path.join(work, f"{name}.{i}.npy")
        subprocess.run(["qopt-run", lowered, "--entry", "broken", "--input", x,
                        "--output", y], check=True)
        outs.append(np.load(y).astype(np.float64))
    outputs[name] = np.concatenate([o.ravel() for o in outs])


def sqnr(ref, got):
    return 10 * np.log10(np.sum(ref ** 2) / np.sum((ref - got) ** 2))


base = sqnr(outputs["float"], outputs["base"])
pinned = sqnr(outputs["float"], outputs["pinned"])
print(f"output SQNR without pins {base:.2f} dB, with pins {pinned:.2f} dB")
print("PASS" if pinned >= base + min_gain else "FAIL")
