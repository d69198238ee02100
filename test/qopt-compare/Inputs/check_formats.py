"""qopt-compare's csv and json columns, and its figures against numpy.

usage: check_formats.py WORKDIR

On examples/mlp.mlir with examples/mlp.calib.json and 4 random inputs:
runs qopt-compare in csv and json, checks the column names and that both
formats list the same rows; then compiles the float model and qopt-quantize's
program (the same passes qopt-compare runs after qopt-legalize) with
qopt-lower-cpu, runs them with qopt-run, and checks that the "logits" row's
sqnr_db, cosine and max_abs_err equal numpy's figures on those outputs
(float64, pooled over the inputs) to 1e-6 relative.
"""
import csv
import io
import json
import os
import subprocess
import sys

import numpy as np

work = sys.argv[1]
src = os.environ.get("QOPT_SRC", os.path.join(os.path.dirname(__file__), "..", "..", ".."))
model = os.path.join(src, "examples", "mlp.mlir")
calib = os.path.join(src, "examples", "mlp.calib.json")
quant = os.path.join(work, "mlp.qdq.mlir")
subprocess.run(["qopt", model, f"--qopt-import-calibration=file={calib}",
                "--qopt-legalize", "--mlir-print-debuginfo", "-o", quant], check=True,
               stderr=subprocess.DEVNULL)
rng = np.random.default_rng(5)
files = []
for i in range(4):
    f = os.path.join(work, f"x{i}.npy")
    np.save(f, rng.uniform(-1, 1, (1, 16)).astype(np.float32))
    files.append(f)
args = ["qopt-compare", "--float", model, "--quantized", quant]
for f in files:
    args += ["--input", "input=" + f]
text_csv = subprocess.run(args + ["--format", "csv"], check=True,
                          capture_output=True, text=True).stdout
doc = json.loads(subprocess.run(args + ["--format", "json"], check=True,
                                capture_output=True, text=True).stdout)
ok = True


def check(cond, what):
    global ok
    print(("PASS " if cond else "FAIL ") + what)
    ok = ok and cond


columns = ["name", "op", "shape", "sqnr_db", "cosine", "max_abs_err", "own_sqnr_db"]
rows = list(csv.DictReader(io.StringIO(text_csv)))
check(text_csv.splitlines()[0].split(",") == columns, "csv columns " + text_csv.splitlines()[0])
check(all(sorted(t) == sorted(columns) for t in doc["tensors"]), "json keys")
check([r["name"] for r in rows] == [t["name"] for t in doc["tensors"]],
      "csv and json rows: " + ",".join(r["name"] for r in rows))
check(doc["samples"] == 4, "json samples 4")

outs = {}
for name, extra in (("float", []), ("quant", [f"--qopt-quantize=calibration={calib}"])):
    lowered = os.path.join(work, f"{name}.lowered.mlir")
    subprocess.run(["qopt", model] + extra + ["--qopt-lower-cpu", "-o", lowered],
                   check=True, stderr=subprocess.DEVNULL)
    ys = []
    for i, f in enumerate(files):
        y = os.path.join(work, f"{name}{i}.npy")
        subprocess.run(["qopt-run", lowered, "--entry", "mlp", "--input", f,
                        "--output", y], check=True)
        ys.append(np.load(y).astype(np.float64).ravel())
    outs[name] = np.concatenate(ys)
ref, got = outs["float"], outs["quant"]
sqnr = 10 * np.log10(np.sum(ref ** 2) / np.sum((ref - got) ** 2))
cosine = np.dot(ref, got) / np.sqrt(np.dot(ref, ref) * np.dot(got, got))
maxabs = np.max(np.abs(ref - got))
row = next(t for t in doc["tensors"] if t["name"] == "logits")
close = lambda a, b: abs(a - b) <= 1e-6 * max(1.0, abs(b))
check(close(row["sqnr_db"], sqnr), f"logits sqnr_db {row['sqnr_db']:.6f} == numpy {sqnr:.6f}")
check(close(row["cosine"], cosine), f"logits cosine {row['cosine']:.9f} == numpy {cosine:.9f}")
check(close(row["max_abs_err"], maxabs), f"logits max_abs_err {row['max_abs_err']:.6g} == numpy {maxabs:.6g}")
check(close(doc["output_sqnr_db"], sqnr), "output_sqnr_db equals the logits SQNR")
csv_row = next(r for r in rows if r["name"] == "logits")
check(abs(float(csv_row["sqnr_db"]) - sqnr) < 1e-4, "csv logits sqnr_db")
inp = next(t for t in doc["tensors"] if t["name"] == "input")
check(inp["sqnr_db"] is None and inp["op"] == "func.arg" and inp["shape"] == [1, 16],
      "input row: identical in both (sqnr_db null = infinite), op func.arg, shape [1, 16]")
print("ALL PASS" if ok else "SOME FAILED")
