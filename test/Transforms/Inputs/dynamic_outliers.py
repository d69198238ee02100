#!/usr/bin/env python3
#===- dynamic_outliers.py - per-row vs per-tensor dynamic scales ----------===#
#
# The accuracy gain of dynamic-granularity=row on activations with outlier
# tokens: a two-layer MLP (MatMul + Add + Relu + MatMul + Add, 16 tokens x
# 256 features -> 256 -> 64) built with python3-onnx, compiled by qopt with
# mode=dynamic per tensor and per row, run by qopt-run on tokens of which
# `--outliers` are scaled by `--outlier-scale`; each output is compared with
# the float64 numpy evaluation of the float model (SQNR in dB, over all
# tokens and over the normal tokens only).
#
#   dynamic_outliers.py --work DIR [--outliers 2] [--outlier-scale 50]
#
#===------------------------------------------------------------------------===#
import argparse
import math
import os
import re
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F = np.float32
T, D, H, O = 16, 256, 256, 64


def entry_name(mlir_file):
    """The name of the (one) function an imported model defines."""
    with open(mlir_file) as f:
        return re.search(r"func\.func @([A-Za-z0-9_$.-]+)\(", f.read()).group(1)


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write("command failed (%d): %s\n%s%s" %
                         (p.returncode, " ".join(cmd), p.stdout, p.stderr))
        sys.exit(1)
    return p.stdout


def sqnr(ref, got):
    noise = np.sum((got.astype(np.float64) - ref) ** 2)
    return math.inf if noise == 0 else 10 * math.log10(np.sum(ref ** 2) /
                                                        noise)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--outliers", type=int, default=2)
    ap.add_argument("--outlier-scale", type=float, default=50.0)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    rng = np.random.default_rng(11)
    w1 = (rng.standard_normal((D, H)) / math.sqrt(D)).astype(F)
    b1 = (rng.standard_normal(H) * 0.1).astype(F)
    w2 = (rng.standard_normal((H, O)) / math.sqrt(H)).astype(F)
    b2 = (rng.standard_normal(O) * 0.1).astype(F)
    x = rng.standard_normal((T, D)).astype(F)
    out_rows = rng.choice(T, size=a.outliers, replace=False)
    x[out_rows] *= F(a.outlier_scale)
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["m1"]),
             helper.make_node("Add", ["m1", "b1"], ["a1"]),
             helper.make_node("Relu", ["a1"], ["r1"]),
             helper.make_node("MatMul", ["r1", "w2"], ["m2"]),
             helper.make_node("Add", ["m2", "b2"], ["y"])]
    inits = [numpy_helper.from_array(v, n) for n, v in
             (("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2))]
    g = helper.make_graph(
        nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                     [T, D])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [T, O])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    model = os.path.join(a.work, "mlp.onnx")
    onnx.save(m, model)
    xin = os.path.join(a.work, "x.npy")
    np.save(xin, x)
    x64 = x.astype(np.float64)
    ref = np.maximum(x64 @ w1 + b1, 0) @ w2 + b2
    normal = np.setdiff1d(np.arange(T), out_rows)

    mlir = os.path.join(a.work, "mlp.mlir")
    run(["qopt-translate", "--import-onnx", model, "-o", mlir])
    print("MLP %dx%d -> %d -> %d, %d outlier tokens x%g" % (
        T, D, H, O, a.outliers, a.outlier_scale))
    result = {}
    for gran in ("tensor", "row"):
        lowered = os.path.join(a.work, "mlp.%s.mlir" % gran)
        run(["qopt", mlir, "--qopt-quantize=mode=dynamic "
             "dynamic-granularity=" + gran, "--qopt-lower-cpu", "-o",
             lowered])
        y = os.path.join(a.work, "y.%s.npy" % gran)
        entry = entry_name(mlir)
        run(["qopt-run", lowered, "--entry", entry, "--input", xin,
             "--output", y])
        got = np.load(y)
        result[gran] = (sqnr(ref, got), sqnr(ref[normal], got[normal]))
        print("  dynamic-granularity=%-6s SQNR %.1f dB (all tokens), "
              "%.1f dB (normal tokens)" % (gran, *result[gran]))
    gain = result["row"][0] - result["tensor"][0]
    gain_normal = result["row"][1] - result["tensor"][1]
    print("row - tensor: %+.1f dB (all tokens), %+.1f dB (normal tokens)" %
          (gain, gain_normal))
    print("row more accurate: %s" % ("yes" if gain > 0 and gain_normal > 0
                                     else "no"))


if __name__ == "__main__":
    sys.exit(main())
