#!/usr/bin/python3
"""The digits demo on qopt's CPU back end (scripts/run-example.sh).

    run_qopt.py wrap MODEL OUT [--batch N]
        writes MODEL (any module with `func.func @digits(tensor<1x1x8x8xf32>)
        -> tensor<1x10xf32>`, e.g. digits.mlir or qopt's int8 output) plus
        `@digits_batch(tensor<Nx1x8x8xf32>) -> tensor<Nx10xf32>`, which calls
        @digits on each image in an scf.for, so that one qopt-run call runs
        the whole held-out set (test_x.npy is [300, 1, 8, 8]).

    run_qopt.py report --float-model F --int8-model Q
                       --float-logits F.npy --int8-logits Q.npy
                       --float-time F.txt --int8-time Q.txt
        prints the float model's check against numpy (test_logits.npy), the
        top-1 accuracy of both on test_y.npy, their agreement, the SQNR of
        the int8 logits against the float logits, the size of both models'
        constants and the int8/f32 speed ratio (from the `time: median X ms
        over N calls` lines qopt-run --time printed: the lowest median of
        each file, when it holds several rounds). Exits 1 when the float
        model does not match numpy.

Model size is counted on the tensor-level modules, before lowering: every
`arith.constant` of tensor type contributes its element count times its
element size (i8: 1 byte, i32/f32: 4, i64: 8; splats at full size), so the
int8 model's size includes its i32 biases and its requantization
multipliers and shifts, not only the i8 weights.
"""

import argparse
import collections
import os
import re
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def wrap(model, out, batch):
    with open(model) as f:
        text = f.read()
    extra = f"""
// Added by examples/digits/run_qopt.py: @digits on each of {batch} images.
func.func @digits_batch(%x: tensor<{batch}x1x8x8xf32>) -> tensor<{batch}x10xf32> {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant {batch} : index
  %e = tensor.empty() : tensor<{batch}x10xf32>
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %e) -> (tensor<{batch}x10xf32>) {{
    %img = tensor.extract_slice %x[%i, 0, 0, 0] [1, 1, 8, 8] [1, 1, 1, 1] : tensor<{batch}x1x8x8xf32> to tensor<1x1x8x8xf32>
    %y = func.call @digits(%img) : (tensor<1x1x8x8xf32>) -> tensor<1x10xf32>
    %u = tensor.insert_slice %y into %acc[%i, 0] [1, 10] [1, 1] : tensor<1x10xf32> into tensor<{batch}x10xf32>
    scf.yield %u : tensor<{batch}x10xf32>
  }}
  return %r : tensor<{batch}x10xf32>
}}
"""
    if re.search(r"^module\b", text, re.M):  # qopt's output: inside its module
        end = text.rindex("}")
        text = text[:end] + extra + text[end:]
    else:
        text += extra
    with open(out, "w") as f:
        f.write(text)


ELEMENT_BYTES = {"i1": 1, "i8": 1, "i16": 2, "i32": 4, "i64": 8,
                 "f16": 2, "bf16": 2, "f32": 4, "f64": 8}


def constant_bytes(path):
    """{element type: (values, bytes)} over the tensor constants of `path`."""
    with open(path) as f:
        text = f.read()
    sizes = collections.OrderedDict()
    for m in re.finditer(r"arith\.constant dense<[^\n]*?> : tensor<((?:\d+x)*)([a-z]+\d+)>", text):
        dims, elem = m.group(1), m.group(2)
        n = 1
        for d in dims.rstrip("x").split("x") if dims else []:
            n *= int(d)
        values, nbytes = sizes.get(elem, (0, 0))
        sizes[elem] = (values + n, nbytes + n * ELEMENT_BYTES[elem])
    return sizes


def describe_size(sizes):
    total = sum(b for _, b in sizes.values())
    parts = ", ".join(f"{v:,} {e}" for e, (v, _) in sizes.items())
    return total, f"{total:,} bytes ({parts})"


def read_time(path):
    """The lowest median among the `time: median X ms over N calls` lines of
    `path`, N and the number of lines."""
    with open(path) as f:
        found = re.findall(r"time: median ([0-9.]+) ms over (\d+) calls", f.read())
    if not found:
        sys.exit(f"error: no `time: median` line in {path}")
    ms, calls = min((float(m), int(n)) for m, n in found)
    return ms, calls, len(found)


def report(a):
    test_y = np.load(os.path.join(HERE, "test_y.npy"))
    numpy_logits = np.load(os.path.join(HERE, "test_logits.npy"))
    fl = np.load(a.float_logits)
    ql = np.load(a.int8_logits)
    n = len(test_y)
    if fl.shape != (n, 10) or ql.shape != (n, 10):
        sys.exit(f"error: expected [{n}, 10] logits, got {fl.shape} and {ql.shape}")
    ok = True

    diff = np.abs(fl.astype(np.float64) - numpy_logits.astype(np.float64))
    same = (fl.argmax(1) == numpy_logits.argmax(1)).sum()
    check = diff.max() <= a.tol and same == n
    ok = ok and check
    print(f"float model against numpy (test_logits.npy): max |qopt - numpy| = {diff.max():.3g} "
          f"(tolerance {a.tol:g}), same class on {same}/{n}: {'OK' if check else 'FAIL'}")

    fp, qp = fl.argmax(1), ql.argmax(1)
    print(f"top-1 accuracy on the {n} held-out images: float {int((fp == test_y).sum())}/{n} "
          f"({(fp == test_y).mean() * 100:.1f}%), int8 {int((qp == test_y).sum())}/{n} "
          f"({(qp == test_y).mean() * 100:.1f}%)")
    print(f"agreement (same predicted class): {int((fp == qp).sum())}/{n}")
    signal = float((fl.astype(np.float64) ** 2).sum())
    noise = float(((ql.astype(np.float64) - fl.astype(np.float64)) ** 2).sum())
    sqnr = 10 * np.log10(signal / noise) if noise > 0 else float("inf")
    print(f"SQNR of the int8 logits against the float logits: {sqnr:.1f} dB "
          f"(max |int8 - float| = {np.abs(ql - fl).max():.3g})")

    ft, qt = constant_bytes(a.float_model), constant_bytes(a.int8_model)
    fb, fdesc = describe_size(ft)
    qb, qdesc = describe_size(qt)
    print(f"model size (tensor constants before lowering): float {fdesc}; int8 {qdesc}; "
          f"int8/float = {qb / fb:.3f}")

    (fms, fn, fr), (qms, qn, qr) = read_time(a.float_time), read_time(a.int8_time)
    print(f"speed (one call on all {n} images; lowest of {fr} and {qr} qopt-run --time medians "
          f"over {fn} and {qn} calls): float {fms:.3f} ms, int8 {qms:.3f} ms; "
          f"int8/f32 time ratio {qms / fms:.2f}, i.e. int8 runs at {fms / qms:.2f}x the speed of f32")
    if not ok:
        sys.exit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("wrap")
    w.add_argument("model")
    w.add_argument("out")
    w.add_argument("--batch", type=int, default=300)
    r = sub.add_parser("report")
    for name in ("float-model", "int8-model", "float-logits", "int8-logits", "float-time", "int8-time"):
        r.add_argument("--" + name, required=True)
    r.add_argument("--tol", type=float, default=1e-4,
                   help="largest |float - numpy| logit difference accepted")
    a = ap.parse_args()
    if a.cmd == "wrap":
        wrap(a.model, a.out, a.batch)
    else:
        report(a)


if __name__ == "__main__":
    main()
