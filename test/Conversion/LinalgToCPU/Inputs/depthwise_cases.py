"""Runs NCHW depthwise convolutions through qopt-lower-cpu with and without
qopt-cpu-depthwise and checks both against a numpy reference.

For each case it writes one module (the generic the ONNX importer makes, or
upstream's named linalg.depthwise_conv_2d_nchw_chw) with a constant weight
and a non-zero accumulator init, lowers it twice (depthwise=true and
depthwise=false), runs both with qopt-run on the same random input and
checks that
  - f32: the two outputs are bit-identical (the pass keeps the loop
    lowering's operations and their order) and within 1e-5 of a float64 numpy
    convolution (largest error over largest magnitude);
  - i8 -> i32: both outputs equal numpy's exact integer convolution.
Prints one line per case and a closing `N passed, N failed`.

usage: depthwise_cases.py WORKDIR
"""
import os
import subprocess
import sys

import numpy as np

# name, dtype, N, C, IH, IW, KH, KW, (SH, SW), (DH, DW), form
CASES = [
    ("s1_k3_tail", "f32", 1, 3, 6, 21, 3, 3, (1, 1), (1, 1), "importer"),
    ("s21_k5", "f32", 2, 4, 9, 40, 5, 5, (2, 1), (1, 1), "importer"),
    ("s2_k3_strided_w", "f32", 1, 2, 9, 37, 3, 3, (2, 2), (1, 1), "importer"),
    ("dil2", "f32", 1, 2, 8, 36, 3, 3, (1, 1), (2, 2), "importer"),
    ("narrow_w3", "f32", 1, 5, 4, 5, 3, 3, (1, 1), (1, 1), "importer"),
    ("named_s2", "f32", 1, 3, 7, 35, 3, 3, (2, 2), (1, 1), "named"),
    ("i8_s1_k5", "i8", 1, 3, 7, 40, 5, 5, (1, 1), (1, 1), "importer"),
    ("i8_s2_tail", "i8", 2, 2, 9, 29, 3, 3, (2, 2), (1, 1), "importer"),
]


def out_size(i, k, s, d):
    return (i - (k - 1) * d - 1) // s + 1


def dense(values, type_):
    """A dense literal of any shape, as raw little-endian bytes."""
    return f'dense<"0x{values.astype(values.dtype.newbyteorder("<")).tobytes().hex().upper()}"> : {type_}'


def module(case, w, init):
    name, dt, n, c, ih, iw, kh, kw, (sh, sw), (dh, dw), form = case
    oh, ow = out_size(ih, kh, sh, dh), out_size(iw, kw, sw, dw)
    et, at = ("f32", "f32") if dt == "f32" else ("i8", "i32")
    x_t = f"tensor<{n}x{c}x{ih}x{iw}x{et}>"
    o_t = f"tensor<{n}x{c}x{oh}x{ow}x{at}>"
    if form == "named":
        w_t = f"tensor<{c}x{kh}x{kw}x{et}>"
        conv = (f"  %r = linalg.depthwise_conv_2d_nchw_chw {{dilations = "
                f"dense<[{dh}, {dw}]> : tensor<2xi64>, strides = dense<[{sh}, "
                f"{sw}]> : tensor<2xi64>}} ins(%x, %w : {x_t}, {w_t}) "
                f"outs(%init : {o_t}) -> {o_t}\n")
    else:
        w_t = f"tensor<{c}x1x{kh}x{kw}x{et}>"
        act = (f"(d0, d1 + d4, d2 * {sh} + d5 * {dh}, d3 * {sw} + d6 * {dw})")
        maps = (f"[affine_map<(d0, d1, d2, d3, d4, d5, d6) -> {act}>, "
                "affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>, "
                "affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>]")
        if dt == "f32":
            body = ("    %p = arith.mulf %a, %b : f32\n"
                    "    %s = arith.addf %o, %p : f32\n")
        else:
            body = ("    %a32 = arith.extsi %a : i8 to i32\n"
                    "    %b32 = arith.extsi %b : i8 to i32\n"
                    "    %p = arith.muli %a32, %b32 : i32\n"
                    "    %s = arith.addi %o, %p : i32\n")
        conv = (f"  %r = linalg.generic {{indexing_maps = {maps}, "
                'iterator_types = ["parallel", "parallel", "parallel", '
                '"parallel", "reduction", "reduction", "reduction"]} '
                f"ins(%x, %w : {x_t}, {w_t}) outs(%init : {o_t}) {{\n"
                f"  ^bb0(%a: {et}, %b: {et}, %o: {at}):\n{body}"
                f"    linalg.yield %s : {at}\n  }} -> {o_t}\n")
    return (f"func.func @{name}(%x: {x_t}) -> {o_t} {{\n"
            f"  %w = arith.constant {dense(w, w_t)}\n"
            f"  %init = arith.constant {dense(init, o_t)}\n"
            f"{conv}  return %r : {o_t}\n}}\n")


def reference(x, w, init, sh, sw, dh, dw):
    n, c, _, _ = x.shape
    kh, kw = w.shape[-2:]
    oh, ow = init.shape[2:]
    w = w.reshape(c, kh, kw)
    exact = x.dtype == np.int8
    acc = init.astype(np.int64 if exact else np.float64)
    for i in range(kh):
        for j in range(kw):
            patch = x[:, :, i * dh: i * dh + (oh - 1) * sh + 1: sh,
                      j * dw: j * dw + (ow - 1) * sw + 1: sw]
            acc = acc + patch.astype(acc.dtype) * w[None, :, i, j, None, None]
    return acc


def run(cmd):
    subprocess.run(cmd, check=True)


def main():
    work = sys.argv[1]
    os.makedirs(work, exist_ok=True)
    rng = np.random.default_rng(7)
    passed = failed = 0
    for case in CASES:
        name, dt, n, c, ih, iw, kh, kw, (sh, sw), (dh, dw), form = case
        oh, ow = out_size(ih, kh, sh, dh), out_size(iw, kw, sw, dw)
        wshape = (c, kh, kw) if form == "named" else (c, 1, kh, kw)
        if dt == "f32":
            x = rng.standard_normal((n, c, ih, iw)).astype(np.float32)
            w = rng.standard_normal(wshape).astype(np.float32)
            init = rng.standard_normal((n, c, oh, ow)).astype(np.float32)
        else:
            x = rng.integers(-128, 128, (n, c, ih, iw)).astype(np.int8)
            w = rng.integers(-128, 128, wshape).astype(np.int8)
            init = rng.integers(-1000, 1000, (n, c, oh, ow)).astype(np.int32)
        src = os.path.join(work, name + ".mlir")
        with open(src, "w") as f:
            f.write(module(case, w, init))
        xin = os.path.join(work, name + ".x.npy")
        np.save(xin, x)
        outs = {}
        for flag in ("true", "false"):
            low = os.path.join(work, f"{name}.{flag}.lowered.mlir")
            run(["qopt", src, f"--qopt-lower-cpu=depthwise={flag}", "-o", low])
            out = os.path.join(work, f"{name}.{flag}.npy")
            run(["qopt-run", low, "--entry", name, "--input", xin,
                 "--output", out])
            outs[flag] = np.load(out)
        ref = reference(x, w, init, sh, sw, dh, dw)
        fast, loops = outs["true"], outs["false"]
        if dt == "f32":
            same = fast.tobytes() == loops.tobytes()
            err = float(np.max(np.abs(fast - ref)) / np.max(np.abs(ref)))
            ok = same and err < 1e-5
            detail = f"bit-identical to loops: {same}, max rel error {err:.2e}"
        else:
            ok = np.array_equal(fast, ref) and np.array_equal(loops, ref)
            detail = f"exact: {ok}"
        print(f"{name}: {'PASS' if ok else 'FAIL'} ({fast.shape}, {detail})")
        passed += ok
        failed += not ok
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
