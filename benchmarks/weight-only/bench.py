#!/usr/bin/env python3
#===- bench.py - qopt weight-only vs ONNX Runtime MatMulNBits, one run ----===#
#
# One run, one table, printed ratios. For each weight shape K x N and batch
# M, a float MatMul (x[M,K] . W[K,N], seeded random weights) is compiled by
# qopt for this CPU (qopt-lower-cpu) as
#
#   w4g32, w4g128  mode=weight-only weight-bits=4 group-size=32 / 128
#   w4g32bf16      the same as w4g32 with compute-type=bf16 (AVX512-BF16
#                  vdpbf16ps; only where this CPU has avx512_bf16)
#   w8g128         mode=weight-only weight-bits=8 group-size=128
#   i8g64          w4, group-size=64, activation-quant=int8-block (int8
#                  activations: MatMulNBits accuracy_level 4 semantics)
#   dyn            mode=dynamic (s8 per-channel weights, u8 activations)
#   f32            no quantization
#
# and timed by `qopt-run --repeat R --time` (median of one call, one
# thread). ONNX Runtime runs, one intra-op thread, timed by ort-bench.js:
#
#   ort0, ort4     com.microsoft.MatMulNBits, bits 4, block 32,
#                  accuracy_level 0 / 4, fed qopt's own w4g32 weights and
#                  scales (read back from qopt's IR, and checked against an
#                  independent numpy implementation of the documented rule)
#   ort4g64        MatMulNBits accuracy_level 4, block 64, fed qopt's i8g64
#                  weights (qopt i8g64 must match it bit for bit)
#   ortdyn         com.microsoft.DynamicQuantizeMatMul, s8 per-channel
#
# ORT is timed two ways: `run`, the median of session.run from JavaScript
# (the binding's per-call overhead included; a 16x16 MatMul measures that
# overhead), and `kern`, the median of ONNX Runtime's profiler kernel times
# (the overhead excluded). Ratios against ORT use `kern` (the harder one
# for qopt) and are also printed against `run`.
#
# At batch 1 the table adds the effective read bandwidth of each weight-only
# kernel (packed weight bytes + scales + zero points, divided by the time)
# and its ratio to the read bandwidth of this machine, measured in the same
# run by membw.c (compiled here): once on a 1 GiB buffer (DRAM), and once
# on a buffer as large as the w4g32 weights, read over and over as the
# repeated GEMV reads them (on a machine with a large last-level cache that
# is cache bandwidth, the roof the GEMV really has).
#
# Outputs are checked: qopt w4g32 and ORT level 0 against a float64
# product with the same dequantized weights, within docs/weight-only.md's
# bound (K + 2) * 2^-24 * sum_k |a_k w_kn| per output (printed as the
# worst error / bound, which must be <= 1), qopt w4g32bf16 within the bf16
# bound of docs/numerics.md ((2u + u^2) + gamma_K (1 + u)^2) * sum_k
# |a_k w_kn|, u = 2^-8, and qopt dyn against ORT dynamic bit for bit
# (mismatch count).
#
#   bench.py --npm-prefix build/npm --work DIR [--shapes 4096x4096,...]
#            [--batches 1,16] [--repeat 20] [--bw-bytes 1073741824]
#
# The shapes are the default (4096x4096, 4096x11008, 11008x4096);
# compiling them takes minutes on a 2-core machine. Exits non-zero when a
# tool fails or an output check fails.
#
#===------------------------------------------------------------------------===#
import argparse
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
F = np.float32

QOPT_VARIANTS = (
    ("w4g32", "mode=weight-only weight-bits=4 group-size=32"),
    ("w4g32bf16",
     "mode=weight-only weight-bits=4 group-size=32 compute-type=bf16"),
    ("w4g128", "mode=weight-only weight-bits=4 group-size=128"),
    ("w8g128", "mode=weight-only weight-bits=8 group-size=128"),
    ("i8g64", "mode=weight-only weight-bits=4 group-size=64 "
              "activation-quant=int8-block"),
    ("dyn", "mode=dynamic"),
    ("f32", None),
)


def host_has_avx512bf16():
    """qopt-lower-cpu refuses compute-type=bf16 without the instructions."""
    try:
        with open("/proc/cpuinfo") as f:
            return any(line.startswith("flags") and " avx512_bf16" in line
                       for line in f)
    except OSError:
        return False


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
    """qopt's mode=dynamic weight rule (docs/numerics.md): scale = max|w| /
    127 rounded to f32, round half to even, [-127, 127]."""
    w64 = w.astype(np.float64)
    amax = np.max(np.abs(w64), axis=0)
    scale = np.where(amax == 0, 1.0, amax / 127.0).astype(F)
    q = np.clip(np.rint(w64 / scale.astype(np.float64)), -127, 127)
    return q.astype(np.int8), scale


def quant_w4_sym(w, group):
    """docs/weight-only.md's symmetric rule, written independently of qopt:
    per group of `group` values along K and per column, scale = amax / 7
    rounded to f32, q = clamp(rint(w / scale) + 8, 0, 15); returns the
    MatMulNBits layout: bytes [N, K/group, group/2] (low nibble first) and
    scales [N, K/group]."""
    k, n = w.shape
    wg = w.T.astype(np.float64).reshape(n, k // group, group)
    amax = np.max(np.abs(wg), axis=2)
    scale = np.where(amax == 0, 1.0, amax / 7.0).astype(F)
    q = np.clip(np.rint(wg / scale[:, :, None].astype(np.float64)) + 8, 0,
                15).astype(np.uint8)
    packed = q[:, :, 0::2] | (q[:, :, 1::2] << 4)
    return packed, scale


def dequant_w4(packed, scale, k):
    """W[k, n] = (q - 8) * scale in float32, from the MatMulNBits layout."""
    n = packed.shape[0]
    q = np.empty(packed.shape[:2] + (packed.shape[2] * 2,), np.float32)
    q[:, :, 0::2] = packed & 15
    q[:, :, 1::2] = packed >> 4
    w = (q - 8) * scale[:, :, None]
    return w.reshape(n, k).T


def hex_constant(text, name, dtype, shape):
    """The value of `%name = arith.constant dense<"0x...">` in qopt's IR
    (printed with --mlir-print-elementsattrs-with-hex-if-larger=0)."""
    m = re.search(r"%s = arith\.constant dense<\"0x([0-9A-F]+)\">" %
                  re.escape(name), text)
    if not m:
        sys.exit("bench.py: no hex constant %s in qopt's weight-only IR" %
                 name)
    a = np.frombuffer(bytes.fromhex(m.group(1)), dtype)
    return a.reshape(shape)


def qopt_w4_weights(mlir_text, k, n, group):
    """qopt's own packed weight and scales of the one qopt.matmul_nbits."""
    m = re.search(r"qopt\.matmul_nbits %\S+, (%\S+) scales (%\S+) bits 4 "
                  r"group_size (\d+)(?! zero_points)", mlir_text)
    if not m or int(m.group(3)) != group:
        sys.exit("bench.py: no 4-bit qopt.matmul_nbits with group %d" % group)
    packed = hex_constant(mlir_text, m.group(1), np.uint8,
                          (n, k // group, group // 2))
    scale = hex_constant(mlir_text, m.group(2), F, (n, k // group))
    return packed, scale


def nbits_model(packed, scale, k, n, m, level):
    node = helper.make_node("MatMulNBits", ["x", "wq", "ws"], ["y"],
                            domain="com.microsoft", K=k, N=n, bits=4,
                            block_size=packed.shape[2] * 2,
                            accuracy_level=level)
    return model([node], [numpy_helper.from_array(packed, "wq"),
                          numpy_helper.from_array(scale.reshape(-1), "ws")],
                 k, n, m, ms=True)


def membw(exe, sizes, reps):
    out = run([exe, "--reps", str(reps)] + [str(s) for s in sizes])
    res = {}
    for line in out.splitlines():
        mm = re.match(r"membw (\d+) best ([0-9.]+) GB/s (\S+)", line)
        if mm:
            res[int(mm.group(1))] = (float(mm.group(2)), mm.group(3))
    return res, out


def ort_bench(env, model_path, out_dir, xin, repeat):
    out = run(["node", os.path.join(HERE, "ort-bench.js"), "--repeat",
               str(repeat), model_path, out_dir, xin], env)
    m = re.search(r"run median ([0-9.]+) ms, kernel median ([0-9.]+) ms", out)
    return float(m.group(1)), float(m.group(2))


def main():
    ap = argparse.ArgumentParser(
        description="qopt weight-only vs ONNX Runtime MatMulNBits")
    ap.add_argument("--npm-prefix", required=True,
                    help="prefix holding node_modules/onnxruntime-node")
    ap.add_argument("--work", required=True, help="scratch directory")
    ap.add_argument("--shapes", default="4096x4096,4096x11008,11008x4096",
                    help="K x N weight shapes, comma separated")
    ap.add_argument("--batches", default="1,16", help="rows M of x")
    ap.add_argument("--repeat", type=int, default=20,
                    help="timed calls per measurement (median)")
    ap.add_argument("--bw-bytes", type=int, default=1 << 30,
                    help="buffer of the DRAM bandwidth measurement")
    ap.add_argument("--bw-reps", type=int, default=5,
                    help="passes per bandwidth kernel (best of)")
    ap.add_argument("--cc", default=shutil.which("clang-22") or "cc",
                    help="C compiler for membw.c")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    env = dict(os.environ,
               NODE_PATH=os.path.join(a.npm_prefix, "node_modules"))
    shapes = [tuple(map(int, s.split("x"))) for s in a.shapes.split(",")]
    batches = [int(b) for b in a.batches.split(",")]
    for k, n in shapes:
        if k % 128 or n % 2:
            sys.exit("bench.py: K must be a multiple of 128 (%dx%d)" % (k, n))

    # The roofs: DRAM, and a buffer as large as each shape's w4g32 weights.
    exe = os.path.join(a.work, "membw")
    run([a.cc, "-O2", "-o", exe, os.path.join(HERE, "membw.c")])
    w4_bytes = {s: s[0] * s[1] // 2 + s[0] // 32 * s[1] * 4 for s in shapes}
    bw, bw_out = membw(exe, [a.bw_bytes] + sorted(set(w4_bytes.values())),
                       a.bw_reps)
    print(bw_out, end="")

    def bw_of(nbytes):
        return bw[(nbytes + 4095) // 4096 * 4096][0]

    dram = bw_of(a.bw_bytes)

    # The binding's per-call overhead: a 16x16 MatMul.
    tiny = os.path.join(a.work, "tiny")
    os.makedirs(tiny, exist_ok=True)
    onnx.save(model([helper.make_node("MatMul", ["x", "w"], ["y"])],
                    [numpy_helper.from_array(np.ones((16, 16), F), "w")],
                    16, 16, 1), os.path.join(tiny, "tiny.onnx"))
    np.save(os.path.join(tiny, "x.npy"), np.ones((1, 16), F))
    t_run, t_kern = ort_bench(env, os.path.join(tiny, "tiny.onnx"),
                              os.path.join(tiny, "ort"),
                              os.path.join(tiny, "x.npy"), 200)
    print("ORT per-call overhead (16x16 MatMul, 200 runs): session.run "
          "median %.4f ms, kernel %.4f ms" % (t_run, t_kern))

    bf16 = host_has_avx512bf16()
    if not bf16:
        print("w4g32bf16: not run (this CPU has no avx512_bf16)")
    rng = np.random.default_rng(3)
    failed = False
    summary = []
    for k, n in shapes:
        w = (rng.standard_normal((k, n)) * 0.02).astype(F)
        wq8, ws8 = quant_s8_per_channel(w)
        ref_packed, ref_scale = quant_w4_sym(w, 32)
        for m in batches:
            d = os.path.join(a.work, "%dx%d_m%d" % (k, n, m))
            os.makedirs(d, exist_ok=True)
            x = rng.standard_normal((m, k)).astype(F)
            xin = os.path.join(d, "x.npy")
            np.save(xin, x)
            onnx.save(model([helper.make_node("MatMul", ["x", "w"], ["y"])],
                            [numpy_helper.from_array(w, "w")], k, n, m),
                      os.path.join(d, "float.onnx"))
            mlir = os.path.join(d, "float.mlir")
            # Weights as dense attributes (as benchmarks/dynamic/bench.py).
            run(["qopt-translate", "--import-onnx",
                 "--onnx-resource-threshold=1000000000000",
                 os.path.join(d, "float.onnx"), "-o", mlir])
            entry = re.search(r"func\.func @([A-Za-z0-9_$.-]+)\(",
                              open(mlir).read()).group(1)
            t = {}
            for tag, opts in QOPT_VARIANTS:
                if tag == "w4g32bf16" and not bf16:
                    t[tag] = float("nan")
                    continue
                passes = [] if opts is None else ["--qopt-quantize=" + opts]
                if tag == "i8g64":
                    qir = os.path.join(d, "i8g64.mlir")
                    run(["qopt", mlir] + passes + [
                        "--mlir-print-elementsattrs-with-hex-if-larger=0",
                        "-o", qir])
                    packed64, scale64 = qopt_w4_weights(open(qir).read(), k,
                                                        n, 64)
                    src, passes = qir, []
                elif tag == "w4g32":
                    # Read qopt's quantized weights back for ORT.
                    qir = os.path.join(d, "w4g32.mlir")
                    run(["qopt", mlir] + passes + [
                        "--mlir-print-elementsattrs-with-hex-if-larger=0",
                        "-o", qir])
                    packed, scale = qopt_w4_weights(open(qir).read(), k, n,
                                                    32)
                    bad = int(np.sum(packed != ref_packed)) + int(
                        np.sum(scale.view(np.uint32) !=
                               ref_scale.view(np.uint32)))
                    if bad:
                        print("FAIL %dx%d: qopt's w4g32 weights differ from "
                              "the documented rule in %d bytes/scales" %
                              (k, n, bad))
                        failed = True
                    src, passes = qir, []
                else:
                    src = mlir
                low = os.path.join(d, tag + ".lowered.mlir")
                run(["qopt", src] + passes + ["--qopt-lower-cpu", "-o", low])
                out = run(["qopt-run", low, "--entry", entry, "--input", xin,
                           "--output", os.path.join(d, "y_%s.npy" % tag),
                           "--repeat", str(a.repeat), "--time"])
                t[tag] = float(re.search(r"time: median ([0-9.]+) ms",
                                         out).group(1))
                os.remove(low)
            for tag, md in (
                    ("ort0", nbits_model(packed, scale, k, n, m, 0)),
                    ("ort4", nbits_model(packed, scale, k, n, m, 4)),
                    ("ort4g64", nbits_model(packed64, scale64, k, n, m, 4)),
                    ("ortdyn", model([helper.make_node(
                        "DynamicQuantizeMatMul", ["x", "wq", "ws", "wz"],
                        ["y"], domain="com.microsoft")],
                        [numpy_helper.from_array(wq8, "wq"),
                         numpy_helper.from_array(ws8, "ws"),
                         numpy_helper.from_array(np.zeros(n, np.int8),
                                                 "wz")], k, n, m, ms=True))):
                path = os.path.join(d, tag + ".onnx")
                onnx.save(md, path)
                t[tag + ".run"], t[tag] = ort_bench(
                    env, path, os.path.join(d, tag), xin, a.repeat)
                os.remove(path)

            # Outputs.
            wdq = dequant_w4(packed, scale, k).astype(np.float64)
            exact = x.astype(np.float64) @ wdq
            bound = (k + 2) * 2.0**-24 * (np.abs(x.astype(np.float64)) @
                                          np.abs(wdq))
            bound = np.maximum(bound, np.finfo(F).tiny)
            y_q = np.load(os.path.join(d, "y_w4g32.npy")).astype(np.float64)
            y_o0 = np.load(os.path.join(d, "ort0", "output_0.npy")).astype(
                np.float64)
            y_o4 = np.load(os.path.join(d, "ort4", "output_0.npy")).astype(
                np.float64)
            e_q = float(np.max(np.abs(y_q - exact) / bound))
            e_b = float("nan")
            if bf16:
                u = 2.0**-8
                gamma = k * 2.0**-24 / (1 - k * 2.0**-24)
                bound_b = ((2 * u + u * u) + gamma * (1 + u)**2) * (
                    np.abs(x.astype(np.float64)) @ np.abs(wdq))
                bound_b = np.maximum(bound_b, np.finfo(F).tiny)
                y_b = np.load(os.path.join(d, "y_w4g32bf16.npy")).astype(
                    np.float64)
                e_b = float(np.max(np.abs(y_b - exact) / bound_b))
            e_o0 = float(np.max(np.abs(y_o0 - exact) / bound))
            rel_o4 = float(np.max(np.abs(y_o4 - exact)) /
                           np.max(np.abs(exact)))
            y_d = np.load(os.path.join(d, "y_dyn.npy"))
            y_od = np.load(os.path.join(d, "ortdyn", "output_0.npy"))
            mism = int(np.sum(y_d.view(np.uint32) != y_od.view(np.uint32)))
            y_i8 = np.load(os.path.join(d, "y_i8g64.npy"))
            y_o4g = np.load(os.path.join(d, "ort4g64", "output_0.npy"))
            mism_i8 = int(np.sum(y_i8.view(np.uint32) !=
                                 y_o4g.view(np.uint32)))
            ok = e_q <= 1 and e_o0 <= 1 and not e_b > 1 and mism_i8 == 0
            failed |= not ok

            print("\n%d x %d (K x N), batch %d: median ms over %d calls, one "
                  "thread" % (k, n, m, a.repeat))
            print("  qopt: w4g32 %.4f  w4g32bf16 %.4f  w4g128 %.4f  w8g128 "
                  "%.4f  i8g64 %.4f  dyn %.4f  f32 %.4f" % (
                      t["w4g32"], t["w4g32bf16"], t["w4g128"], t["w8g128"],
                      t["i8g64"], t["dyn"], t["f32"]))
            print("  ORT kern (run): MatMulNBits-L0 %.4f (%.4f)  "
                  "MatMulNBits-L4 %.4f (%.4f)  L4-g64 %.4f (%.4f)  "
                  "DynamicQuantizeMatMul %.4f (%.4f)" % (
                      t["ort0"], t["ort0.run"], t["ort4"], t["ort4.run"],
                      t["ort4g64"], t["ort4g64.run"], t["ortdyn"],
                      t["ortdyn.run"]))
            print("  speed-up (x, >1 = qopt faster; vs ORT kern / vs ORT "
                  "run): w4g32 vs ORT L0 %.2f / %.2f, vs ORT L4 %.2f / %.2f; "
                  "i8g64 vs ORT L4-g64 %.2f / %.2f; "
                  "w4g32 vs qopt f32 %.2f, w4g128 vs f32 %.2f; w4g32bf16 vs "
                  "w4g32 %.2f; dyn vs ORT dyn %.2f / %.2f" % (
                      t["ort0"] / t["w4g32"], t["ort0.run"] / t["w4g32"],
                      t["ort4"] / t["w4g32"], t["ort4.run"] / t["w4g32"],
                      t["ort4g64"] / t["i8g64"],
                      t["ort4g64.run"] / t["i8g64"],
                      t["f32"] / t["w4g32"], t["f32"] / t["w4g128"],
                      t["w4g32"] / t["w4g32bf16"],
                      t["ortdyn"] / t["dyn"], t["ortdyn.run"] / t["dyn"]))
            if m == 1:
                wbytes = {
                    "w4g32": k * n // 2 + k // 32 * n * 4,
                    "w4g32bf16": k * n // 2 + k // 32 * n * 4,
                    "w4g128": k * n // 2 + k // 128 * n * 4,
                    "w8g128": k * n + k // 128 * n * 4,
                    "i8g64": k * n // 2 + k // 64 * n * 4,
                    "ort0": k * n // 2 + k // 32 * n * 4,
                    "dyn": k * n + n * 4,
                    "f32": k * n * 4,
                }
                cache = bw_of(w4_bytes[(k, n)])
                parts = []
                for tag, nb in wbytes.items():
                    gbs = nb / (t[tag] * 1e-3) / 1e9
                    parts.append("%s %.1f GB/s (%.0f%% / %.0f%%)" %
                                 (tag, gbs, 100 * gbs / dram,
                                  100 * gbs / cache))
                print("  weight bytes read per second (%% of membw's %.0f MiB "
                      "buffer, %.1f GB/s / %% of a %.2f MiB buffer read "
                      "repeatedly, %.1f GB/s): " % (
                          a.bw_bytes / 2**20, dram,
                          w4_bytes[(k, n)] / 2**20, cache) +
                      ", ".join(parts))
            print("  outputs: qopt w4g32 worst error/bound %.3f, ORT L0 "
                  "%.3f (<= 1 required); w4g32bf16 worst error/bf16 bound "
                  "%.3f (<= 1 required); ORT L4 max error / max|y| %.2e; "
                  "qopt dyn vs ORT dyn mismatches %d of %d; qopt i8g64 vs "
                  "ORT L4-g64 mismatches %d of %d%s" % (
                      e_q, e_o0, e_b, rel_o4, mism, y_od.size, mism_i8,
                      y_i8.size,
                      "" if ok else "  FAIL"), flush=True)
            summary.append((k, n, m, t))

    print("\nsummary (ms; ORT = profiler kernel time)")
    print("%-12s %2s %8s %9s %8s %8s %8s %8s %8s %8s %8s %8s %8s %7s %7s "
          "%7s %7s %7s" % (
              "K x N", "M", "w4g32", "w4g32bf16", "w4g128", "w8g128", "i8g64",
              "dyn", "f32", "ORT-L0", "ORT-L4", "L4-g64", "ORT-dyn", "L0/w4",
              "f32/w4", "w4/bf16", "L4g/i8", "odyn/dy"))
    for k, n, m, t in summary:
        print("%-12s %2d %8.4f %9.4f %8.4f %8.4f %8.4f %8.4f %8.4f %8.4f "
              "%8.4f %8.4f %8.4f %7.2f %7.2f %7.2f %7.2f %7.2f" % (
                  "%dx%d" % (k, n), m, t["w4g32"], t["w4g32bf16"],
                  t["w4g128"], t["w8g128"], t["i8g64"], t["dyn"], t["f32"],
                  t["ort0"], t["ort4"], t["ort4g64"], t["ortdyn"],
                  t["ort0"] / t["w4g32"], t["f32"] / t["w4g32"],
                  t["w4g32"] / t["w4g32bf16"], t["ort4g64"] / t["i8g64"],
                  t["ortdyn"] / t["dyn"]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
