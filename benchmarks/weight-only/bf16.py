#!/usr/bin/env python3
#===- bf16.py - weight-only GEMM: f32 compute vs bf16 compute ------------===#
#
# One run, printed ratios: for each weight shape K x N and batch M, a
# qopt.matmul_nbits (seeded random 4- or 8-bit weights in groups of G, as
# qopt-legalize{mode=weight-only} writes them) compiled by qopt-lower-cpu for
# this CPU twice, with f32 compute and with `compute bf16` (AVX512-BF16), each
# timed by `qopt-run --repeat R --time` (median of one call, single thread).
# It also prints the largest |bf16 - f32| difference relative to
# sum_k |a w| (the scale of the bound in docs/numerics.md) and the load
# average before and after, since the machine may be shared.
#
#   bf16.py --work DIR [--shapes 4096x4096] [--batches 1,16] [--repeat 20]
#           [--bits 4] [--group 32]
#
# Needs qopt and qopt-run on PATH and a host with avx512bf16.
#
#===------------------------------------------------------------------------===#
import argparse
import os
import re
import subprocess
import sys

import numpy as np


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write("command failed (%d): %s\n%s%s" %
                         (p.returncode, " ".join(cmd), p.stdout, p.stderr))
        sys.exit(1)
    return p.stdout + p.stderr


def hex_dense(arr):
    return '"0x' + np.ascontiguousarray(arr).tobytes().hex().upper() + '"'


def module(m, k, n, bits, group, rng):
    groups = k // group
    q = rng.integers(0, 2**bits, size=(n, k), dtype=np.int64)
    if bits == 4:
        packed = (q[:, 0::2] | (q[:, 1::2] << 4)).astype(np.uint8)
    else:
        packed = q.astype(np.uint8)
    packed = packed.reshape(n, groups, group * bits // 8)
    scales = rng.uniform(0.001, 0.01, size=(n, groups)).astype(np.float32)
    w_type = f"tensor<{n}x{groups}x{group * bits // 8}xi8>"
    s_type = f"tensor<{n}x{groups}xf32>"
    text = []
    for name, compute in (("f32", ""), ("bf16", " compute bf16")):
        text.append(
            f"func.func @{name}(%a: tensor<{m}x{k}xf32>) -> tensor<{m}x{n}xf32> {{\n"
            f"  %w = arith.constant dense<{hex_dense(packed)}> : {w_type}\n"
            f"  %s = arith.constant dense<{hex_dense(scales)}> : {s_type}\n"
            f"  %y = qopt.matmul_nbits %a, %w scales %s bits {bits} group_size "
            f"{group}{compute} : tensor<{m}x{k}xf32>, {w_type}, {s_type} -> "
            f"tensor<{m}x{n}xf32>\n"
            f"  return %y : tensor<{m}x{n}xf32>\n}}\n")
    zp = 2**(bits - 1)
    g = np.arange(k) // group
    w = ((q - zp).astype(np.float32) * scales[:, g]).T
    return "".join(text), w


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--shapes", default="4096x4096")
    ap.add_argument("--batches", default="1,16")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--bits", type=int, default=4)
    ap.add_argument("--group", type=int, default=32)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    print("load average before:", os.getloadavg())
    rows = []
    for shape in a.shapes.split(","):
        k, n = map(int, shape.split("x"))
        for m in map(int, a.batches.split(",")):
            rng = np.random.default_rng(k * 100003 + n * 7 + m)
            text, w = module(m, k, n, a.bits, a.group, rng)
            base = os.path.join(a.work, f"nbits_{k}x{n}_m{m}")
            with open(base + ".mlir", "w") as f:
                f.write(text)
            run(["qopt", base + ".mlir", "--qopt-lower-cpu", "-o",
                 base + ".ll.mlir"])
            x = rng.standard_normal((m, k)).astype(np.float32)
            np.save(base + "_x.npy", x)
            times, outs = {}, {}
            for name in ("f32", "bf16"):
                y = f"{base}_{name}_y.npy"
                out = run(["qopt-run", base + ".ll.mlir", "--entry", name,
                           "--input", base + "_x.npy", "--output", y,
                           "--repeat", str(a.repeat), "--time"])
                times[name] = float(
                    re.search(r"time: median ([0-9.]+) ms", out).group(1))
                outs[name] = np.load(y).astype(np.float64)
            mag = np.abs(x.astype(np.float64)) @ np.abs(w.astype(np.float64))
            rel = float(np.max(np.abs(outs["bf16"] - outs["f32"]) / mag))
            rows.append((k, n, m, times["f32"], times["bf16"], rel))
    print(f"w{a.bits} g{a.group}, median of {a.repeat} calls, one thread")
    print("   K x N      M   f32 ms  bf16 ms  f32/bf16  max|bf16-f32|/sum|aw|")
    for k, n, m, tf, tb, rel in rows:
        print(f"{k:5d}x{n:<5d} {m:3d} {tf:8.3f} {tb:8.3f} {tf / tb:8.2f}x"
              f"  {rel:.2e}")
    print("load average after:", os.getloadavg())


if __name__ == "__main__":
    main()
