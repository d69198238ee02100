#!/usr/bin/env python3
#===- erf_accuracy.py - qopt-lower-cpu's erf against float64 erf ----------===#
#
# Compiles an elementwise math.erf on f32 (vectorized by qopt-lower-cpu,
# expanded by qopt-cpu-expand-math), runs it with qopt-run on a dense grid
# of [-6, 6] plus special values, and compares with Python's float64
# math.erf (the independent reference). Prints the largest absolute error,
# the largest error in float32 ulps of the reference, and whether erf is
# odd, bounded by 1 and NaN-preserving; exits 1 when the absolute error
# exceeds --max-abs.
#
#   erf_accuracy.py --work DIR [--max-abs 4e-7]
#
#===------------------------------------------------------------------------===#
import argparse
import math
import os
import subprocess
import sys

import numpy as np

F = np.float32


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write("command failed (%d): %s\n%s%s" %
                         (p.returncode, " ".join(cmd), p.stdout, p.stderr))
        sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--max-abs", type=float, default=4e-7)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    grid = np.linspace(-6.0, 6.0, 240001).astype(F)
    special = np.array([0.0, -0.0, 1e-30, -1e-30, 1e-8, 3.4e38, -3.4e38,
                        np.inf, -np.inf, np.nan], F)
    x = np.concatenate([grid, special])
    n = x.size
    src = os.path.join(a.work, "erf.mlir")
    with open(src, "w") as f:
        f.write("""#map = affine_map<(d0) -> (d0)>
func.func @erf(%%x: tensor<%dxf32>) -> tensor<%dxf32> {
  %%e = tensor.empty() : tensor<%dxf32>
  %%y = linalg.generic {indexing_maps = [#map, #map],
                       iterator_types = ["parallel"]}
      ins(%%x : tensor<%dxf32>) outs(%%e : tensor<%dxf32>) {
  ^bb0(%%v: f32, %%o: f32):
    %%r = math.erf %%v : f32
    linalg.yield %%r : f32
  } -> tensor<%dxf32>
  return %%y : tensor<%dxf32>
}
""".replace("%d", str(n)).replace("%%", "%"))
    low = os.path.join(a.work, "erf.lowered.mlir")
    run(["qopt", src, "--qopt-lower-cpu", "-o", low])
    xin, yout = os.path.join(a.work, "x.npy"), os.path.join(a.work, "y.npy")
    np.save(xin, x)
    run(["qopt-run", low, "--entry", "erf", "--input", xin, "--output",
         yout])
    y = np.load(yout)
    ref = np.array([math.erf(float(v)) if not math.isnan(v) else math.nan
                    for v in x])
    finite = ~np.isnan(x)
    err = np.abs(y[finite].astype(np.float64) - ref[finite])
    ulp = np.spacing(np.abs(ref[finite]).astype(F)).astype(np.float64)
    worst = int(np.argmax(err))
    print("erf on %d f32 values in [-6, 6] and special values: max abs "
          "error %.3g (at x = %.9g), max %.2f ulp" % (
              n, err[worst], float(x[finite][worst]), float(np.max(err / ulp))))
    odd = bool(np.all(y[:grid.size] == -y[:grid.size][::-1]))
    bounded = bool(np.all(np.abs(y[finite]) <= 1.0))
    nan_kept = bool(np.isnan(y[-1]))
    print("odd: %s, |erf| <= 1: %s, erf(nan) is nan: %s, erf(+-inf) = %s %s"
          % (odd, bounded, nan_kept, y[-3], y[-2]))
    return 0 if err[worst] <= a.max_abs and bounded else 1


if __name__ == "__main__":
    sys.exit(main())
