#!/usr/bin/env python3
"""Writes the cases of the aarch64 GEMM execution test (arm-neon-qemu.test).

usage: arm_gemm_cases.py OUTDIR

OUTDIR/cases.mlir: i8 contractions with constant random weights and a
constant random i32 bias per output channel as the accumulator's init
(matmuls of odd shapes, a matmul reading its weights transposed, NHWC and
NCHW convolutions), each `func.func @name(%act) -> result`.
OUTDIR/cases.h: the same weights and biases and random activations as C
arrays,
the `_mlir_ciface_<name>` declarations and QOPT_CASES, the list of calls to
arm-gemm-driver.c's check functions, which compute their own scalar
reference. Values are random in [-128, 127] with both extremes present.
Plain Python (no numpy): the test depends on nothing but the toolchain.
"""

import os
import random
import sys


def values(rng, n, lo, hi):
    v = [rng.randint(lo, hi) for _ in range(n)]
    if n >= 2:
        v[0], v[-1] = lo, hi
    return v


def hex_dense(vals):
    return 'dense<"0x' + "".join("%02X" % (x & 0xFF) for x in vals) + '">'


def c_array(ctype, name, vals):
    body = ",".join(str(x) for x in vals)
    return "static %s %s[%d] = {%s};" % (ctype, name, len(vals), body)


def tensor(shape, elt):
    return "tensor<%sx%s>" % ("x".join(str(d) for d in shape), elt)


def main():
    out = sys.argv[1]
    rng = random.Random(20261123)
    mlir, header, calls = [], ["#include <stdint.h>"], []

    def emit_case(name, act_shape, w_shape, out_shape, channel, op_text,
                  check):
        act = values(rng, prod(act_shape), -128, 127)
        w = values(rng, prod(w_shape), -128, 127)
        bias = values(rng, out_shape[channel], -100000, 100000)
        header.append(c_array("int8_t", name + "_act", act))
        header.append(c_array("int8_t", name + "_w", w))
        header.append(c_array("int32_t", name + "_bias", bias))
        rank = len(out_shape)
        header.append("void _mlir_ciface_%s(desc%d_i32 *, desc%d_i8 *);" %
                      (name, rank, rank))
        at, wt, ot = (tensor(act_shape, "i8"), tensor(w_shape, "i8"),
                      tensor(out_shape, "i32"))
        bt = tensor([out_shape[channel]], "i32")
        dims = ", ".join(str(d) for d in range(rank) if d != channel)
        mlir.append(
            "func.func @%s(%%a: %s) -> %s {\n"
            "  %%w = arith.constant %s : %s\n"
            "  %%bias = arith.constant dense<[%s]> : %s\n"
            "  %%e = tensor.empty() : %s\n"
            "  %%init = linalg.broadcast ins(%%bias : %s) outs(%%e : %s)"
            " dimensions = [%s]\n"
            "  %%r = %s\n"
            "      ins(%%a, %%w : %s, %s) outs(%%init : %s) -> %s\n"
            "  return %%r : %s\n}\n"
            % (name, at, ot, hex_dense(w), wt,
               ", ".join(str(x) for x in bias), bt, ot, bt, ot, dims, op_text,
               at, wt, ot, ot, ot))
        calls.append(check)

    for m, k, n in [(7, 33, 5), (1, 1, 1), (21, 200, 70), (2, 8, 16),
                    (3, 64, 33)]:
        name = "mm_%dx%dx%d" % (m, k, n)
        emit_case(name, [m, k], [k, n], [m, n], 1, "linalg.matmul",
                  "failures += check_matmul(\"%s\", _mlir_ciface_%s, %d, %d, "
                  "%d, 0, %s_act, %s_w, %s_bias);"
                  % (name, name, m, k, n, name, name, name))

    # W read as [N, K] through the matmul's indexing maps.
    m, k, n = 9, 40, 18
    name = "mmt_%dx%dx%d" % (m, k, n)
    emit_case(name, [m, k], [n, k], [m, n], 1,
              "linalg.matmul indexing_maps = ["
              "affine_map<(m, n, k) -> (m, k)>, "
              "affine_map<(m, n, k) -> (n, k)>, "
              "affine_map<(m, n, k) -> (m, n)>]",
              "failures += check_matmul(\"%s\", _mlir_ciface_%s, %d, %d, %d, "
              "1, %s_act, %s_w, %s_bias);"
              % (name, name, m, k, n, name, name, name))

    # Convolutions as implicit GEMMs: (N, H, W, C, KH, KW, F, stride,
    # dilation).
    for (nb, h, wd, c, kh, kw, f, s, d) in [(1, 9, 10, 3, 3, 3, 5, 2, 1),
                                            (2, 7, 7, 8, 3, 3, 20, 1, 1)]:
        oh = (h - d * (kh - 1) - 1) // s + 1
        ow = (wd - d * (kw - 1) - 1) // s + 1
        name = "conv_nhwc_%dx%dx%dx%d_f%d_s%d" % (nb, h, wd, c, f, s)
        attrs = ("{dilations = dense<%d> : tensor<2xi64>, strides = dense<%d>"
                 " : tensor<2xi64>}" % (d, s))
        emit_case(name, [nb, h, wd, c], [kh, kw, c, f], [nb, oh, ow, f], 3,
                  "linalg.conv_2d_nhwc_hwcf " + attrs,
                  "failures += check_conv(\"%s\", _mlir_ciface_%s, 0, %d, %d, "
                  "%d, %d, %d, %d, %d, %d, %d, %d, %d, %s_act, %s_w, %s_bias);"
                  % (name, name, nb, h, wd, c, kh, kw, f, s, d, oh, ow, name,
                     name, name))
    nb, c, h, wd, f, kh, kw, s, d = 1, 3, 9, 10, 5, 3, 3, 1, 2
    oh = (h - d * (kh - 1) - 1) // s + 1
    ow = (wd - d * (kw - 1) - 1) // s + 1
    name = "conv_nchw_%dx%dx%dx%d_f%d_d%d" % (nb, c, h, wd, f, d)
    attrs = ("{dilations = dense<%d> : tensor<2xi64>, strides = dense<%d> :"
             " tensor<2xi64>}" % (d, s))
    emit_case(name, [nb, c, h, wd], [f, c, kh, kw], [nb, f, oh, ow], 1,
              "linalg.conv_2d_nchw_fchw " + attrs,
              "failures += check_conv(\"%s\", _mlir_ciface_%s, 1, %d, %d, %d, "
              "%d, %d, %d, %d, %d, %d, %d, %d, %s_act, %s_w, %s_bias);"
              % (name, name, nb, h, wd, c, kh, kw, f, s, d, oh, ow, name, name,
                 name))

    header.append("#define QOPT_CASES \\\n  " + " \\\n  ".join(calls))
    with open(os.path.join(out, "cases.mlir"), "w") as f:
        f.write("\n".join(mlir))
    with open(os.path.join(out, "cases.h"), "w") as f:
        f.write("\n".join(header) + "\n")


def prod(shape):
    p = 1
    for d in shape:
        p *= d
    return p


if __name__ == "__main__":
    main()
