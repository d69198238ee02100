"""qopt-calibrate's statistics against numpy.

usage: check_stats.py WORKDIR

Writes a small model (input 1x8 -> matmul "mm" with integer weights -> ReLU
"relu") and samples whose values are multiples of 1/16, so that every
tensor is computed exactly in float32 by both qopt's compiled code and numpy;
runs qopt-calibrate and checks:

  * min/max of every tensor equal numpy's, exactly;
  * "input": every sample holds +1 or -1, so the histogram range stays
    [-1, 1] and the counts must equal np.histogram(all inputs, 64,
    range=(-1, 1)) exactly (values fall on bin edges: numpy's edge rule);
  * "mm": the samples grow in amplitude, so the histogram is re-binned; the
    counts must equal this script's own implementation of ONNX Runtime's
    HistogramCollector.merge_histogram (calibrate.py), written from that
    code with np.histogram;
  * --per-channel-axis 1: per-column min/max of "mm" equal numpy's.

Prints PASS or FAIL lines.
"""
import glob
import json
import os
import subprocess
import sys

import numpy as np

work = sys.argv[1]
os.makedirs(os.path.join(work, "calib"), exist_ok=True)
rng = np.random.default_rng(3)
w = rng.integers(-3, 4, (8, 4)).astype(np.float32)


def dense(a):
    return "dense<" + np.array2string(a, separator=", ", threshold=1 << 30,
                                      max_line_width=1 << 30) + ">"


model = f"""#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @small(%x: tensor<1x8xf32> {{qopt.name = "input"}}) -> tensor<1x4xf32> {{
  %w = arith.constant {dense(w)} : tensor<8x4xf32> loc("w")
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4xf32>) -> tensor<1x4xf32>
  %mm = linalg.matmul ins(%x, %w : tensor<1x8xf32>, tensor<8x4xf32>)
                      outs(%z : tensor<1x4xf32>) -> tensor<1x4xf32> loc("mm")
  %r = linalg.generic {{indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}}
      ins(%mm : tensor<1x4xf32>) outs(%e : tensor<1x4xf32>) {{
  ^bb0(%a: f32, %o: f32):
    %m = arith.maximumf %a, %zero : f32
    linalg.yield %m : f32
  }} -> tensor<1x4xf32> loc("relu")
  return %r : tensor<1x4xf32>
}}
"""
with open(os.path.join(work, "small.mlir"), "w") as f:
    f.write(model)

xs = []
for i in range(12):
    x = rng.integers(-16, 17, (1, 8)).astype(np.float32) / 16
    x[0, i % 8] = 1.0 if i % 2 else -1.0
    # Growing amplitude for "mm" without changing the input's range: scale
    # down the other entries early on.
    x = np.where(np.abs(x) == 1.0, x, x * (i + 1) / 12).astype(np.float32)
    x = np.round(x * 16) / 16
    xs.append(x.astype(np.float32))
    np.save(os.path.join(work, "calib", f"s{i:02d}.npy"), xs[-1])

bins = 64
subprocess.run(["qopt-calibrate", os.path.join(work, "small.mlir"),
                "--input", "input=" + os.path.join(work, "calib", "*.npy"),
                "--histogram-bins", str(bins), "-o",
                os.path.join(work, "calib.json")], check=True)
subprocess.run(["qopt-calibrate", os.path.join(work, "small.mlir"),
                "--input", "input=" + os.path.join(work, "calib", "*.npy"),
                "--per-channel-axis", "1", "-o",
                os.path.join(work, "calib-axis.json")], check=True)
got = json.load(open(os.path.join(work, "calib.json")))["tensors"]
got_axis = json.load(open(os.path.join(work, "calib-axis.json")))["tensors"]

tensors = {"input": [], "mm": [], "relu": []}
for x in xs:
    mm = (x.astype(np.float64) @ w.astype(np.float64)).astype(np.float32)
    tensors["input"].append(x)
    tensors["mm"].append(mm)
    tensors["relu"].append(np.maximum(mm, 0))

ok = True


def check(cond, what):
    global ok
    print(("PASS " if cond else "FAIL ") + what)
    ok = ok and cond


check(sorted(got) == ["input", "mm", "relu"], "tensors " + ",".join(sorted(got)))
for name, values in tensors.items():
    allv = np.concatenate([v.ravel() for v in values])
    check(got[name]["min"] == float(allv.min()) and
          got[name]["max"] == float(allv.max()),
          f"{name} min/max {got[name]['min']}/{got[name]['max']} == numpy "
          f"{allv.min()}/{allv.max()}")

# Fixed range: the input histogram is numpy's over all samples.
allx = np.concatenate([v.ravel() for v in tensors["input"]])
ref, _ = np.histogram(allx, bins, range=(-1.0, 1.0))
h = got["input"]["histogram"]
check(h["min"] == -1.0 and h["max"] == 1.0 and h["counts"] == ref.tolist(),
      f"input histogram equals np.histogram over [-1, 1] ({len(h['counts'])} bins)")


# ONNX Runtime's collect_value / merge_histogram, for "mm".
def ort_collect(batches, num_bins):
    state = None
    for data in batches:
        data = data.ravel().astype(np.float64)
        t = max(abs(data.min()), abs(data.max()))
        if state is None:
            hist, edges = np.histogram(data, num_bins, range=(-t, t))
            state = (hist, edges, t)
            continue
        old_hist, old_edges, old_t = state
        if t <= old_t:
            new_hist, _ = np.histogram(data, len(old_hist), range=(-old_t, old_t))
            state = (new_hist + old_hist, old_edges, old_t)
        else:
            old_num = len(old_hist)
            stride = 2 * old_t / old_num
            half = int((t - old_t) // stride + 1)
            new_num = old_num + 2 * half
            new_t = half * stride + old_t
            hist, edges = np.histogram(data, new_num, range=(-new_t, new_t))
            hist[half:new_num - half] += old_hist
            state = (hist, edges, new_t)
    return state


hist, edges, t = ort_collect(tensors["mm"], bins)
h = got["mm"]["histogram"]
grew = len(hist) > bins
check(grew, f"mm histogram was re-binned ({bins} -> {len(hist)} bins)")
check(h["counts"] == hist.tolist() and abs(h["max"] - t) <= 1e-12 * t and
      abs(h["min"] + t) <= 1e-12 * t,
      f"mm histogram equals ONNX Runtime's rule ({len(h['counts'])} bins, "
      f"range +-{h['max']:.6g})")

# Per channel along axis 1.
allmm = np.concatenate(tensors["mm"], axis=0)
ga = got_axis["mm"]
check(ga.get("axis") == 1 and ga["min"] == allmm.min(axis=0).tolist() and
      ga["max"] == allmm.max(axis=0).tolist() and "histogram" not in ga,
      "mm per-channel min/max along axis 1 equal numpy's")
print("ALL PASS" if ok else "SOME FAILED")
