#!/usr/bin/env python3
#===- batched_matmul.py - batched ONNX MatMuls, quantized, vs numpy ---------===#
#
# `batched_matmul.py gen DIR` writes DIR/model.onnx (SVTR's two MatMul forms:
# y = x [2,3,8] times a constant w [8,16], and s = a [1,2,3,8] times b
# [1,2,8,4], activation by activation), a calibration file whose ranges are
# chosen by hand so that every activation gets scale 0.008 and zero point -3
# (range [-1, 1.04], asymmetric i8: 2.04 / 255 = 0.008, -128 + 1 / 0.008 =
# -3), and the inputs x.npy, a.npy, b.npy (uniform in [-1, 1]).
#
# `batched_matmul.py check DIR` reads qopt-run's y.npy and s.npy and compares
# them with an integer reference written from docs/numerics.md, independent
# of qopt: activations q = clamp(round_half_even(v / 0.008) - 3, -128, 127);
# weights per output channel (w's column), symmetric narrow range, scale
# f32(amax / 127), values round_half_even(w / scale); the products summed in
# int64 (exactly); the result f32(acc) * f32(s_in * s_w). Prints PASS when
# every element agrees to 1e-6 relative (the only rounding left is one f32
# multiply), else the worst element.
#
#===------------------------------------------------------------------------===#
import json
import os
import sys

import numpy as np

SCALE, ZP = np.float32(0.008), -3


def gen(d):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(12)
    w = (rng.standard_normal((8, 16)) * 0.3).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["x", "w"], ["y"], name="y"),
             helper.make_node("MatMul", ["a", "b"], ["s"], name="s")]
    vi = helper.make_tensor_value_info
    g = helper.make_graph(
        nodes, "batched_matmul",
        [vi("x", TensorProto.FLOAT, [2, 3, 8]),
         vi("a", TensorProto.FLOAT, [1, 2, 3, 8]),
         vi("b", TensorProto.FLOAT, [1, 2, 8, 4])],
        [vi("y", TensorProto.FLOAT, [2, 3, 16]),
         vi("s", TensorProto.FLOAT, [1, 2, 3, 4])],
        [numpy_helper.from_array(w, "w")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, os.path.join(d, "model.onnx"))
    np.save(os.path.join(d, "w.npy"), w)
    rng_in = np.random.default_rng(5)
    for name, shape in [("x", (2, 3, 8)), ("a", (1, 2, 3, 8)),
                        ("b", (1, 2, 8, 4))]:
        np.save(os.path.join(d, name + ".npy"),
                rng_in.uniform(-1, 1, shape).astype(np.float32))
    act = {"min": -1.0, "max": 1.04}
    calib = {"qopt_calibration": 1, "producer": "batched_matmul.py (by hand)",
             "tensors": {n: act for n in ["x", "a", "b"]}}
    calib["tensors"]["y"] = {"min": -8.0, "max": 8.0}
    calib["tensors"]["s"] = {"min": -8.0, "max": 8.0}
    with open(os.path.join(d, "calib.json"), "w") as f:
        json.dump(calib, f)


def quant_act(v):
    q = np.round(v.astype(np.float64) / np.float64(SCALE)) + ZP
    return np.clip(q, -128, 127).astype(np.int64)


def compare(name, got, want):
    err = np.abs(got.astype(np.float64) - want.astype(np.float64))
    tol = 1e-6 * np.maximum(np.abs(want.astype(np.float64)), 1e-3)
    if got.shape != want.shape:
        print("%s: FAIL shape %s vs %s" % (name, got.shape, want.shape))
    elif np.all(err <= tol):
        print("%s: PASS (%d elements)" % (name, got.size))
    else:
        i = np.unravel_index(np.argmax(err - tol), err.shape)
        print("%s: FAIL at %s: %r vs %r" % (name, i, got[i], want[i]))


def check(d):
    load = lambda n: np.load(os.path.join(d, n + ".npy"))
    x, a, b, w = load("x"), load("a"), load("b"), load("w")
    # Weights: per output channel (column), symmetric, narrow range.
    sw = (np.abs(w).max(axis=0) / 127).astype(np.float32)
    wq = np.clip(np.round(w.astype(np.float64) / sw.astype(np.float64)),
                 -127, 127).astype(np.int64)
    acc = np.einsum("bmk,kn->bmn", quant_act(x) - ZP, wq)
    y = acc.astype(np.float32) * (SCALE * sw).astype(np.float32)
    compare("y", load("y"), y)
    acc = np.einsum("bhmk,bhkn->bhmn", quant_act(a) - ZP, quant_act(b) - ZP)
    s = acc.astype(np.float32) * np.float32(SCALE * SCALE)
    compare("s", load("s"), s)


if __name__ == "__main__":
    {"gen": gen, "check": check}[sys.argv[1]](sys.argv[2])
