#!/usr/bin/env python3
#===- dynamic_vs_ort.py - qopt's dynamic quantization against ORT ---------===#
#
# Compiles one ONNX model of nine MatMul + Add branches (each branch its own
# input, so each is quantized with its own run-time scale) through qopt and
# compares qopt's compiled code (qopt-run) with ONNX Runtime bit for bit:
#
#   --path legalize: the float model, imported, qopt-quantize{mode=dynamic}
#       and qopt-lower-cpu; ORT runs the graph quantize_dynamic writes
#       (DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul -> Add) with
#       the weights quantized here in numpy by qopt's documented weight rule
#       (docs/numerics.md, sections 2 and 4);
#   --path import-graph / import-dqmm: the ORT-style dynamic model itself
#       (the quantize_dynamic graph, or com.microsoft.DynamicQuantizeMatMul)
#       imported by qopt-translate, lowered with qopt-lower-quant and
#       qopt-lower-cpu, run by qopt-run; ORT runs the same file.
#
# With --granularity row (beyond ORT) the reference is numpy: ORT's rule per
# row, the exact integer accumulator, ORT's float32 order.
#
# The inputs: random, accumulators above 2^24, all-positive, all-negative,
# all-zero, exact zero-point and quantization ties, 1e30 magnitudes, a
# single element (K = 1), and rows with outlier tokens. Prints one line per
# branch and `dynamic vs <ref>: N mismatches of M`; exits 1 on a mismatch.
#
#===------------------------------------------------------------------------===#
import argparse
import json
import os
import re
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
F = np.float32
K, N = 1152, 32


def entry_name(mlir_file):
    """The name of the (one) function an imported model defines."""
    with open(mlir_file) as f:
        return re.search(r"func\.func @([A-Za-z0-9_$.-]+)\(", f.read()).group(1)


def run(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.stderr.write("command failed (%d): %s\n%s%s" %
                         (p.returncode, " ".join(cmd), p.stdout, p.stderr))
        sys.exit(1)
    return p.stdout + p.stderr


def branches():
    rng = np.random.default_rng(2026)
    xs = {}
    xs["random"] = rng.standard_normal((4, K)).astype(F)
    top = np.full((2, K), 200.0, F)
    top[:, 0] = -55.0
    xs["acc_above_2^24"] = top
    xs["all_positive"] = (rng.random((3, K)) * 3 + 0.5).astype(F)
    xs["all_negative"] = (-rng.random((3, K)) * 3 - 0.5).astype(F)
    xs["all_zero"] = np.zeros((2, K), F)
    ties = np.round(rng.random((2, K)) * 255.0 - 2.5).astype(F) + F(0.5)
    ties = np.clip(ties, -2.5, 252.5).astype(F)
    ties[0, 0], ties[0, 1] = -2.5, 252.5
    xs["zp_and_x_ties"] = ties
    xs["huge_1e30"] = (rng.standard_normal((2, K)) * 1e30).astype(F)
    xs["single_element"] = np.array([[-3.75]], F)
    outl = rng.standard_normal((8, K)).astype(F)
    outl[3] *= 300.0  # one outlier token
    xs["outlier_token"] = outl
    return xs


def weights():
    rng = np.random.default_rng(7)
    w = (rng.standard_normal((K, N)) * 0.05).astype(F)
    w[:, 0] = 0.05  # one column of equal weights: the extreme accumulator
    w[:, 1] = -0.05
    w1 = (rng.standard_normal((1, N)) * 0.5).astype(F)
    b = (rng.standard_normal(N) * 0.3).astype(F)
    return {"w": w, "w1": w1, "b": b}


# --- qopt's weight rule, re-implemented (docs/numerics.md 2 and 4) --------
def rne(v):
    return np.rint(v)


def away(v):
    return np.sign(v) * np.floor(np.abs(v) + 0.5)


def quant_weight(w, weight_type, per_channel):
    """qopt's compile-time weight quantization: (q, scales f32, zps)."""
    cols = [w[:, n] for n in range(w.shape[1])] if per_channel else [w]
    qs, scales, zps = [], [], []
    for c in cols:
        c64 = c.astype(np.float64)
        lo, hi = float(np.min(c64)), float(np.max(c64))
        if weight_type == "s8":
            qmin, qmax = -127, 127
            amax = max(abs(lo), abs(hi))
            scale, zp = (1.0, 0) if amax == 0 else (amax / 127.0, 0)
        else:
            qmin, qmax = 0, 255
            lo, hi = min(lo, 0.0), max(hi, 0.0)
            if lo == hi:
                scale, zp = 1.0, 0
            else:
                scale = (hi - lo) / 255.0
                scale = max(scale, float(np.finfo(F).tiny))
                zmin, zmax = qmin - lo / scale, qmax - hi / scale
                emin = abs(qmin) + abs(lo / scale)
                emax = abs(qmax) + abs(hi / scale)
                z = zmin if emin < emax else zmax
                zp = int(away(min(max(z, qmin), qmax)))
        scale = float(F(scale))
        q = np.clip(rne(c64 / scale), qmin - zp, qmax - zp) + zp
        qs.append(q.astype(np.int64))
        scales.append(scale)
        zps.append(zp)
    q = np.stack(qs, axis=1) if per_channel else qs[0]
    return q, np.array(scales, F), np.array(zps, np.int64)


# --- ORT's DynamicQuantizeLinear (docs/numerics.md 9), per row or tensor ---
def dql(x):
    with np.errstate(all="ignore"):
        lo = min(F(np.min(x)), F(0.0))
        hi = max(F(np.max(x)), F(0.0))
        if hi == lo:
            scale = F(1.0)
        else:
            scale = F(F(hi - lo) / F(255.0))
        zp = int(rne(min(max(F(F(0.0) - F(lo / scale)), F(0.0)), F(255.0))))
        q = np.clip(rne((x / scale).astype(F)) + F(zp), 0, 255)
    return q.astype(np.int64), scale, zp


def reference(x, wq, ws, wz, b, per_row):
    rows = [x[i:i + 1] for i in range(x.shape[0])] if per_row else [x]
    out = []
    for r in rows:
        q, s, z = dql(r)
        acc = (q - z) @ (wq - wz)
        accf = acc.astype(np.int32).astype(F)
        with np.errstate(all="ignore"):
            out.append(((accf * (F(s) * ws).astype(F)).astype(F) + b)
                       .astype(F))
    return np.concatenate(out, axis=0)


def vi(name, shape, t=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, t, shape)


def make_model(xs, w, kind, weight_type="s8", per_channel=True):
    """kind: float | graph | dqmm. Returns (model, {branch: (wq, ws, wz)})."""
    nodes, inits, inputs, outputs, quant = [], [], [], [], {}
    inits.append(numpy_helper.from_array(w["b"], "b"))
    for i, (name, x) in enumerate(xs.items()):
        wname = "w1" if x.shape[1] == 1 else "w"
        xi, yi = "x%d" % i, "y%d" % i
        inputs.append(vi(xi, list(x.shape)))
        outputs.append(vi(yi, [x.shape[0], N]))
        if kind == "float":
            if i == 0 or wname == "w1":
                inits.append(numpy_helper.from_array(w[wname], wname))
            nodes += [helper.make_node("MatMul", [xi, wname], ["m%d" % i]),
                      helper.make_node("Add", ["m%d" % i, "b"], [yi])]
            continue
        wq, ws, wz = quant_weight(w[wname], weight_type, per_channel)
        quant[name] = (wq, ws, wz)
        dt = np.int8 if weight_type == "s8" else np.uint8
        pre = "%s_%d" % (wname, i)
        inits += [numpy_helper.from_array(wq.astype(dt), pre + "_q"),
                  numpy_helper.from_array(ws if per_channel else ws[0],
                                          pre + "_s"),
                  numpy_helper.from_array((wz if per_channel else wz[0])
                                          .astype(dt), pre + "_z")]
        if kind == "graph":
            nodes += [
                helper.make_node("DynamicQuantizeLinear", [xi],
                                 ["q%d" % i, "s%d" % i, "z%d" % i]),
                helper.make_node("MatMulInteger",
                                 ["q%d" % i, pre + "_q", "z%d" % i,
                                  pre + "_z"], ["acc%d" % i]),
                helper.make_node("Cast", ["acc%d" % i], ["f%d" % i],
                                 to=TensorProto.FLOAT),
                helper.make_node("Mul", ["s%d" % i, pre + "_s"],
                                 ["ss%d" % i]),
                helper.make_node("Mul", ["f%d" % i, "ss%d" % i],
                                 ["m%d" % i]),
                helper.make_node("Add", ["m%d" % i, "b"], [yi])]
        else:
            nodes.append(helper.make_node(
                "DynamicQuantizeMatMul",
                [xi, pre + "_q", pre + "_s", pre + "_z", "b"], [yi],
                domain="com.microsoft"))
    g = helper.make_graph(nodes, "dyn", inputs, outputs, inits)
    ops = [helper.make_opsetid("", 13)]
    if kind == "dqmm":
        ops.append(helper.make_opsetid("com.microsoft", 1))
    m = helper.make_model(g, opset_imports=ops, producer_name="qopt-tests")
    m.ir_version = 8
    return m, quant


def bits_mismatch(a, b):
    a = np.asarray(a, F)
    b = np.asarray(b, F)
    if a.shape != b.shape:
        return a.size
    return int(np.sum(a.view(np.uint32) != b.view(np.uint32)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--npm-prefix", default="")
    ap.add_argument("--work", required=True)
    ap.add_argument("--path", choices=["legalize", "import-graph",
                                       "import-dqmm"], default="legalize")
    ap.add_argument("--weight-type", choices=["s8", "u8"], default="s8")
    ap.add_argument("--weights", choices=["per-channel", "per-tensor"],
                    default="per-channel")
    ap.add_argument("--granularity", choices=["tensor", "row"],
                    default="tensor")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    xs = branches()
    w = weights()
    per_channel = a.weights == "per-channel"
    inputs = []
    for i, (name, x) in enumerate(xs.items()):
        p = os.path.join(a.work, "x%d.npy" % i)
        np.save(p, x)
        inputs.append(p)

    ort_model, quant = make_model(xs, w, "graph" if a.path != "import-dqmm"
                                  else "dqmm", a.weight_type, per_channel)
    ort_path = os.path.join(a.work, "ort.onnx")
    onnx.save(ort_model, ort_path)
    if a.path == "legalize":
        fm, _ = make_model(xs, w, "float")
        src = os.path.join(a.work, "float.onnx")
        onnx.save(fm, src)
        passes = ("--qopt-quantize=mode=dynamic weight-type=%s weights=%s "
                  "dynamic-granularity=%s" % (a.weight_type, a.weights,
                                              a.granularity))
    else:
        src = ort_path
        passes = "--qopt-lower-quant"
    mlir = os.path.join(a.work, "model.mlir")
    run(["qopt-translate", "--import-onnx", src, "-o", mlir])
    lowered = os.path.join(a.work, "lowered.mlir")
    log = run(["qopt", mlir, passes, "--qopt-lower-cpu", "-o", lowered])
    entry = entry_name(mlir)
    outs = [os.path.join(a.work, "qopt_y%d.npy" % i) for i in range(len(xs))]
    run(["qopt-run", lowered, "--entry", entry] +
        sum([["--input", p] for p in inputs], []) +
        sum([["--output", p] for p in outs], []))
    got = [np.load(p) for p in outs]

    if a.granularity == "row":
        ref_name = "numpy reference (ORT's rule per row)"
        refs = []
        for name, x in xs.items():
            wq, ws, wz = quant[name]
            refs.append(reference(x, wq, ws if per_channel else ws[0],
                                  wz if per_channel else wz[0], w["b"],
                                  per_row=True))
    else:
        ref_name = "onnxruntime"
        env = dict(os.environ,
                   NODE_PATH=os.path.join(a.npm_prefix, "node_modules"))
        ort_dir = os.path.join(a.work, "ort")
        run(["node", os.path.join(HERE, "..", "..", "..", "scripts",
                                  "ort-run.js"), ort_path, ort_dir] + inputs,
            env)
        refs = [np.load(os.path.join(ort_dir, "output_%d.npy" % i))
                for i in range(len(xs))]
    total = bad = 0
    for (name, x), g, r in zip(xs.items(), got, refs):
        m = bits_mismatch(g, r)
        print("  %-16s %dx%d: %d mismatches of %d" % (name, x.shape[0],
                                                      x.shape[1], m, r.size))
        total += r.size
        bad += m
    print("dynamic vs %s: %d mismatches of %d" % (ref_name, bad, total))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
