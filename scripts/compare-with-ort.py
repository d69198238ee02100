#!/usr/bin/env python3
#===- compare-with-ort.py - one ONNX model through qopt and ONNX Runtime ---===#
#
# Runs an ONNX model on the same .npy inputs through `qopt-run --model` and
# through ONNX Runtime (scripts/ort-run.js on onnxruntime-node, the
# reference), then compares every output: float outputs by their largest
# relative error (|qopt - ort| / |ort|, over elements whose magnitude is at
# least --rel-floor times the output's largest; smaller ones are held to the
# absolute error rtol * floor * max|ort| instead) and SQNR, integer outputs
# by how many elements differ by exactly 1 and by more (--min-sqnr alone
# judges float outputs by SQNR only, for deep real models). Prints one line per
# output and a closing `compare: PASS|FAIL` line; exits 1 on FAIL.
# `--reference qopt` compares with qopt-run's own unmodified run instead, to
# check that a pass given with --qopt-passes keeps the outputs.
#
#===------------------------------------------------------------------------===#
import argparse
import math
import os
import re
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.stderr.write("command failed (%d): %s\n%s%s" %
                         (p.returncode, " ".join(cmd), p.stdout, p.stderr))
        sys.exit(1)
    return p.stdout


def sqnr_db(ref, got):
    ref = ref.astype(np.float64)
    noise = np.sum((got.astype(np.float64) - ref) ** 2)
    signal = np.sum(ref ** 2)
    if noise == 0:
        return math.inf
    return 10 * math.log10(signal / noise)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--qopt-run", default="qopt-run")
    p.add_argument("--npm-prefix", default="",
                   help="npm prefix holding node_modules/onnxruntime-node")
    p.add_argument("--model", required=True)
    p.add_argument("--work", required=True, help="scratch directory")
    p.add_argument("--rtol", type=float, default=None,
                   help="largest accepted relative error of float outputs "
                   "(default 1e-4; with --min-sqnr and no --rtol, floats "
                   "are judged by SQNR alone)")
    p.add_argument("--rel-floor", type=float, default=1e-3)
    p.add_argument("--max-lsb", type=int, default=1,
                   help="largest accepted integer difference")
    p.add_argument("--min-sqnr", type=float, default=None,
                   help="fail when a float output's SQNR (dB) is below this")
    p.add_argument("-O", dest="opt", default="2", help="qopt-run JIT level")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--qopt-passes", default="",
                   help="pipeline qopt-run applies after import")
    p.add_argument("--reference", choices=["ort", "qopt"], default="ort",
                   help="compare with ONNX Runtime, or with qopt-run "
                   "without --qopt-passes")
    p.add_argument("inputs", nargs="+", help=".npy inputs in graph order")
    a = p.parse_args()
    rel_gate = a.rtol is not None or a.min_sqnr is None
    if a.rtol is None:
        a.rtol = 1e-4

    env = dict(os.environ)
    env["NODE_PATH"] = os.path.join(a.npm_prefix, "node_modules")
    ort_dir = os.path.join(a.work, "ort")
    qopt_dir = os.path.join(a.work, "qopt")
    def qopt(out_dir, passes):
        return run([a.qopt_run, "--model", a.model, "-O", a.opt, "--repeat",
                    str(a.repeat), "--output-dir", out_dir] +
                   (["--passes=" + passes] if passes else []) +
                   ["--input=" + i for i in a.inputs])

    if a.reference == "ort":
        ort_log = run(["node", os.path.join(HERE, "ort-run.js"), "--repeat",
                       str(a.repeat), a.model, ort_dir] + a.inputs, env)
    else:
        ort_dir = os.path.join(a.work, "reference")
        ort_log = qopt(ort_dir, "")
    qopt_log = qopt(qopt_dir, a.qopt_passes)
    for line in (ort_log + qopt_log).splitlines():
        if not line.startswith("output "):
            print(line)

    names = re.findall(r"^output (\d+) '([^']*)'", ort_log, re.M)
    ok = True
    for k, name in names:
        ref = np.load(os.path.join(ort_dir, "output_%s.npy" % k))
        got = np.load(os.path.join(qopt_dir, "output_%s.npy" % k))
        head = "output %s '%s' %s %s:" % (k, name, ref.dtype,
                                          "x".join(map(str, ref.shape)))
        if ref.shape != got.shape or ref.dtype != got.dtype:
            print(head, "FAIL qopt gave %s %s" % (got.dtype, got.shape))
            ok = False
            continue
        if np.issubdtype(ref.dtype, np.floating):
            r = ref.astype(np.float64)
            g = got.astype(np.float64)
            if not (np.isfinite(r).all() and np.isfinite(g).all()):
                print(head, "FAIL non-finite values")
                ok = False
                continue
            err = np.abs(g - r)
            floor = a.rel_floor * np.max(np.abs(r))
            big = np.abs(r) >= floor
            rel = float(np.max(err[big] / np.abs(r[big]))) if big.any() else 0
            small_abs = float(np.max(err[~big])) if (~big).any() else 0.0
            s = sqnr_db(r, g)
            good = not rel_gate or (rel <= a.rtol and
                                    small_abs <= a.rtol * floor)
            if a.min_sqnr is not None and s < a.min_sqnr:
                good = False
            print(head, "%s max rel error %.3g (%d elements >= %.3g), "
                  "max abs error %.3g, SQNR %.1f dB" %
                  ("PASS" if good else "FAIL", rel, int(big.sum()), floor,
                   float(np.max(err)), s))
            ok &= good
        else:
            d = np.abs(got.astype(np.int64) - ref.astype(np.int64))
            one = int(np.sum(d == 1))
            more = int(np.sum(d > 1))
            good = int(d.max()) <= a.max_lsb
            print(head, "%s %d of %d exact, %d at 1 LSB, %d beyond, "
                  "max difference %d" %
                  ("PASS" if good else "FAIL", int(np.sum(d == 0)), d.size,
                   one, more, int(d.max())))
            ok &= good
    if not names:
        print("no outputs compared")
        ok = False
    print("compare: %s" % ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
