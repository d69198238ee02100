#!/usr/bin/env python3
#===- bench.py - qopt dynamic int8 vs ONNX Runtime dynamic vs qopt f32 ----===#
#
# One run, printed ratios: for each weight shape K x N and batch M, a float
# MatMul (x[M,K] . W[K,N], seeded random weights) compiled by qopt for this
# CPU in f32 (qopt-lower-cpu) and with mode=dynamic (qopt-quantize, s8
# per-channel weights, ORT's run-time activation quantization), timed by
# `qopt-run --repeat R --time` (median of one call, single thread); and the
# same weights quantized the same way in ONNX Runtime's
# com.microsoft.DynamicQuantizeMatMul, timed by scripts/ort-run.js --repeat R
# (median of session.run, one intra-op thread); and ORT's model itself
# imported by qopt-translate (qopt-lower-quant, qopt-lower-cpu). The int8
# outputs of qopt and ORT are also compared bit for bit.
#
#   bench.py --npm-prefix build/npm --work DIR [--shapes 4096x4096,...]
#            [--batches 1,16] [--repeat 20]
#
# The shapes are the default (4096x4096, 4096x11008, 11008x4096);
# compiling them takes minutes on a 2-core machine.
#
#===------------------------------------------------------------------------===#
import argparse
import os
import re
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
F = np.float32


def run(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.stderr.write("command failed (%d): %s\n%s%s" %
                         (p.returncode, " ".join(cmd), p.stdout, p.stderr))
        sys.exit(1)
    return p.stdout + p.stderr


def model(nodes, inits, k, n, m, ms=False):
    g = helper.make_graph(
        nodes, "mm", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                    [m, k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [m, n])],
        inits)
    ops = [helper.make_opsetid("", 13)]
    if ms:
        ops.append(helper.make_opsetid("com.microsoft", 1))
    md = helper.make_model(g, opset_imports=ops)
    md.ir_version = 8
    return md


def quant_s8_per_channel(w):
    """qopt's rule (docs/numerics.md): scale = max|w| / 127 rounded to f32,
    round half to even, [-127, 127]."""
    w64 = w.astype(np.float64)
    amax = np.max(np.abs(w64), axis=0)
    scale = np.where(amax == 0, 1.0, amax / 127.0).astype(F)
    q = np.clip(np.rint(w64 / scale.astype(np.float64)), -127, 127)
    return q.astype(np.int8), scale


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--npm-prefix", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--shapes", default="4096x4096,4096x11008,11008x4096")
    ap.add_argument("--batches", default="1,16")
    ap.add_argument("--repeat", type=int, default=20)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    env = dict(os.environ,
               NODE_PATH=os.path.join(a.npm_prefix, "node_modules"))
    rng = np.random.default_rng(3)
    rows = []
    for shape in a.shapes.split(","):
        k, n = map(int, shape.split("x"))
        w = (rng.standard_normal((k, n)) * 0.02).astype(F)
        wq, ws = quant_s8_per_channel(w)
        for m in map(int, a.batches.split(",")):
            d = os.path.join(a.work, "%dx%d_m%d" % (k, n, m))
            os.makedirs(d, exist_ok=True)
            x = rng.standard_normal((m, k)).astype(F)
            xin = os.path.join(d, "x.npy")
            np.save(xin, x)
            fm = model([helper.make_node("MatMul", ["x", "w"], ["y"])],
                       [numpy_helper.from_array(w, "w")], k, n, m)
            onnx.save(fm, os.path.join(d, "float.onnx"))
            qm = model([helper.make_node(
                "DynamicQuantizeMatMul", ["x", "wq", "ws", "wz"], ["y"],
                domain="com.microsoft")],
                [numpy_helper.from_array(wq, "wq"),
                 numpy_helper.from_array(ws, "ws"),
                 numpy_helper.from_array(np.zeros(n, np.int8), "wz")],
                k, n, m, ms=True)
            onnx.save(qm, os.path.join(d, "dqmm.onnx"))
            mlir = os.path.join(d, "float.mlir")
            # Weights as dense attributes, not resources: qopt-cpu-gemm packs
            # only dense constants (a resource weight takes the generic
            # loops).
            run(["qopt-translate", "--import-onnx",
                 "--onnx-resource-threshold=1000000000000",
                 os.path.join(d, "float.onnx"), "-o", mlir])
            entry = re.search(r"func\.func @([A-Za-z0-9_$.-]+)\(",
                              open(mlir).read()).group(1)
            times = {}
            for tag, passes in (("f32", []),
                                ("int8", ["--qopt-quantize=mode=dynamic"])):
                low = os.path.join(d, tag + ".lowered.mlir")
                run(["qopt", mlir] + passes + ["--qopt-lower-cpu", "-o", low])
                y = os.path.join(d, "y_%s.npy" % tag)
                out = run(["qopt-run", low, "--entry", entry, "--input", xin,
                           "--output", y, "--repeat", str(a.repeat),
                           "--time"])
                times[tag] = float(re.search(r"time: median ([0-9.]+) ms",
                                             out).group(1))
            # ORT's own model (DynamicQuantizeMatMul) imported by qopt.
            imp = os.path.join(d, "dqmm.mlir")
            run(["qopt-translate", "--import-onnx",
                 "--onnx-resource-threshold=1000000000000",
                 os.path.join(d, "dqmm.onnx"), "-o", imp])
            low = os.path.join(d, "import.lowered.mlir")
            run(["qopt", imp, "--qopt-lower-quant", "--qopt-lower-cpu",
                 "-o", low])
            out = run(["qopt-run", low, "--entry", entry, "--input", xin,
                       "--output", os.path.join(d, "y_import.npy"),
                       "--repeat", str(a.repeat), "--time"])
            times["import"] = float(re.search(r"time: median ([0-9.]+) ms",
                                              out).group(1))
            ort_dir = os.path.join(d, "ort")
            out = run(["node", os.path.join(ROOT, "scripts", "ort-run.js"),
                       "--repeat", str(a.repeat),
                       os.path.join(d, "dqmm.onnx"), ort_dir, xin], env)
            times["ort"] = float(re.search(r"median ([0-9.]+) ms",
                                           out).group(1))
            got = np.load(os.path.join(d, "y_int8.npy"))
            ref = np.load(os.path.join(ort_dir, "output_0.npy"))
            mism = int(np.sum(got.view(np.uint32) != ref.view(np.uint32)))
            got_i = np.load(os.path.join(d, "y_import.npy"))
            mism_i = int(np.sum(got_i.view(np.uint32) !=
                                ref.view(np.uint32)))
            rows.append((k, n, m, times, mism, ref.size))
            print("%5dx%-5d M=%-2d qopt int8 %8.3f ms  ORT dynamic %8.3f ms"
                  "  qopt f32 %8.3f ms  ORT/qopt-int8 %5.2fx  "
                  "f32/int8 %5.2fx  mismatches vs ORT %d of %d" % (
                      k, n, m, times["int8"], times["ort"], times["f32"],
                      times["ort"] / times["int8"],
                      times["f32"] / times["int8"], mism, ref.size),
                  flush=True)
            print("            ORT's DynamicQuantizeMatMul model imported by "
                  "qopt %8.3f ms  ORT/qopt-import %5.2fx  mismatches vs ORT "
                  "%d of %d" % (times["import"], times["ort"] /
                                times["import"], mism_i, ref.size),
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
