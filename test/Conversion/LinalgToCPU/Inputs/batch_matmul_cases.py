"""Runs f32 matmuls and batch matmuls of two computed operands through
qopt-lower-cpu (whose qopt-cpu-batch-matmul rewrites them) and through
qopt-lower-cpu{gemm=false} (plain loops), and checks both against a float64
numpy product.

Cases cover a row tail (M not a multiple of tile-m = 4), a last column
block narrower than tile-n = 4 vectors (N = 80: 4 + 1 vectors), K of 1 and
odd K, a zero fill, a non-zero fill, and an accumulator passed in (C +=).
For each output element the bound is the float32 summation error of a
K-term dot product, (K + 2) * 2^-24 * sum_k |a_mk * b_kn| (+ |c|), and the
largest error over it is printed. Prints one line per case and a closing
`N passed, N failed`.

usage: batch_matmul_cases.py WORKDIR
"""
import os
import subprocess
import sys

import numpy as np

# name, batch (None: 2-D matmul), M, K, N, init: "zero" | "fill" | "arg"
CASES = [
    ("bmm_tails", 3, 7, 20, 80, "zero"),
    ("bmm_attention", 2, 16, 8, 16, "zero"),
    ("bmm_k1", 2, 5, 1, 32, "zero"),
    ("bmm_acc", 2, 4, 9, 48, "arg"),
    ("mm_fill", None, 5, 33, 32, "fill"),
    ("mm_wide", None, 9, 17, 128, "zero"),
]


def module(case):
    name, batch, m, k, n, init = case
    pre = f"{batch}x" if batch else ""
    a_t, b_t, c_t = (f"tensor<{pre}{m}x{k}xf32>", f"tensor<{pre}{k}x{n}xf32>",
                     f"tensor<{pre}{m}x{n}xf32>")
    op = "linalg.batch_matmul" if batch else "linalg.matmul"
    args = f"%a: {a_t}, %b: {b_t}"
    if init == "arg":
        args += f", %c: {c_t}"
        body = ""
        c = "%c"
    else:
        value = "0.0" if init == "zero" else "1.5"
        body = (f"  %v = arith.constant {value} : f32\n"
                f"  %e = tensor.empty() : {c_t}\n"
                f"  %f = linalg.fill ins(%v : f32) outs(%e : {c_t}) -> {c_t}\n")
        c = "%f"
    return (f"func.func @{name}({args}) -> {c_t} {{\n{body}"
            f"  %r = {op} ins(%a, %b : {a_t}, {b_t}) outs({c} : {c_t}) -> {c_t}\n"
            f"  return %r : {c_t}\n}}\n")


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write(" ".join(cmd) + "\n" + p.stdout + p.stderr)
        sys.exit(1)


def main():
    work = sys.argv[1]
    rng = np.random.default_rng(7)
    passed = failed = 0
    for case in CASES:
        name, batch, m, k, n, init = case
        pre = (batch,) if batch else ()
        src = os.path.join(work, name + ".mlir")
        with open(src, "w") as f:
            f.write(module(case))
        a = rng.standard_normal(pre + (m, k)).astype(np.float32)
        b = rng.standard_normal(pre + (k, n)).astype(np.float32)
        inputs = [a, b]
        c = np.zeros(pre + (m, n), np.float64)
        if init == "fill":
            c += 1.5
        if init == "arg":
            cin = rng.standard_normal(pre + (m, n)).astype(np.float32)
            inputs.append(cin)
            c += cin
        paths = []
        for i, arr in enumerate(inputs):
            paths.append(os.path.join(work, f"{name}_in{i}.npy"))
            np.save(paths[-1], arr)
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        ref = c + a64 @ b64
        bound = (k + 2) * 2.0**-24 * (np.abs(a64) @ np.abs(b64) + np.abs(c))
        errs = []
        for tag, opts in (("kernel", ""), ("loops", "=gemm=false")):
            low = os.path.join(work, f"{name}_{tag}.lowered.mlir")
            out = os.path.join(work, f"{name}_{tag}.npy")
            run(["qopt", src, "--qopt-lower-cpu" + opts, "-o", low])
            cmd = ["qopt-run", low, "--entry", name, "--output", out]
            for p in paths:
                cmd += ["--input", p]
            run(cmd)
            got = np.load(out).astype(np.float64)
            errs.append(float(np.max(np.abs(got - ref) / bound)))
        ok = max(errs) <= 1.0
        passed += ok
        failed += not ok
        print("%s: %s (kernel %.3f, loops %.3f of the bound)" % (
            name, "PASS" if ok else "FAIL", errs[0], errs[1]))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
