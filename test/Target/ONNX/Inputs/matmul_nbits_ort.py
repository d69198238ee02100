#!/usr/bin/env python3
"""com.microsoft MatMulNBits through qopt and ONNX Runtime.

Builds small models with python3-onnx (random packed weights, scales and
zero points in MatMulNBits' layout), runs each through `qopt-run --model`
(import -> qopt.matmul_nbits -> qopt-cpu-matmul-nbits) and through ONNX
Runtime (scripts/ort-run.js, accuracy_level 0), and checks every output
element: |qopt - ort| <= (K + 2) * 2^-24 * sum_k |a_k w_kn|, with w the
float32 dequantized weight computed here with numpy.
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# name, A shape, K, N, bits, block, zero points, bias
CASES = [
    ("w4_zp", (3, 128), 128, 40, 4, 32, True, False),
    ("w4_sym_gemv", (1, 256), 256, 48, 4, 128, False, False),
    ("w8_zp_bias", (2, 5, 64), 64, 33, 8, 16, True, True),
    ("w4_k_padded", (4, 72), 72, 20, 4, 32, True, False),
]


def build(name, ashape, k, n, bits, block, has_zp, has_bias, out):
    rng = np.random.default_rng(sum(map(ord, name)))
    blocks = (k + block - 1) // block
    kp = blocks * block
    q = rng.integers(0, 2**bits, size=(n, kp))
    if bits == 4:
        b = (q[:, 0::2] | (q[:, 1::2] << 4)).astype(np.uint8)
    else:
        b = q.astype(np.uint8)
    b = b.reshape(n, blocks, block * bits // 8)
    s = rng.uniform(0.01, 0.1, size=(n, blocks)).astype(np.float32)
    zp = rng.integers(0, 2**bits, size=(n, blocks))
    inits = [numpy_helper.from_array(b, "B"),
             numpy_helper.from_array(s.reshape(-1), "S")]
    inputs = ["A", "B", "S"]
    if has_zp:
        if bits == 4:
            zpad = np.zeros((n, (blocks + 1) // 2 * 2), np.int64)
            zpad[:, :blocks] = zp
            z = (zpad[:, 0::2] | (zpad[:, 1::2] << 4)).astype(np.uint8)
        else:
            z = zp.astype(np.uint8)
        inits.append(numpy_helper.from_array(z.reshape(-1), "Z"))
        inputs.append("Z")
    else:
        zp = np.full_like(zp, 2 ** (bits - 1))
    bias = rng.standard_normal(n).astype(np.float32)
    if has_bias:
        while len(inputs) < 5:
            inputs.append("")
        inputs.append("bias")
        inits.append(numpy_helper.from_array(bias, "bias"))
    node = helper.make_node("MatMulNBits", inputs, ["Y"],
                            domain="com.microsoft", K=k, N=n, bits=bits,
                            block_size=block, accuracy_level=0)
    yshape = list(ashape[:-1]) + [n]
    graph = helper.make_graph(
        [node], name,
        [helper.make_tensor_value_info("A", TensorProto.FLOAT, list(ashape))],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, yshape)], inits)
    model = helper.make_model(graph, opset_imports=[
        helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 8
    onnx.save(model, os.path.join(out, name + ".onnx"))
    a = rng.standard_normal(ashape).astype(np.float32)
    np.save(os.path.join(out, name + "_a.npy"), a)
    g = np.arange(k) // block
    w = ((q[:, :k] - zp[:, g]).astype(np.float32) * s[:, g]).T  # [K, N]
    return a.reshape(-1, k), w


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--npm-prefix", required=True)
    p.add_argument("--src", required=True)
    p.add_argument("--work", required=True)
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    env = dict(os.environ,
               NODE_PATH=os.path.join(args.npm_prefix, "node_modules"))
    ok = True
    for name, ashape, k, n, bits, block, has_zp, has_bias in CASES:
        a, w = build(name, ashape, k, n, bits, block, has_zp, has_bias,
                     args.work)
        model = os.path.join(args.work, name + ".onnx")
        inp = os.path.join(args.work, name + "_a.npy")
        qdir = os.path.join(args.work, name + "_qopt")
        odir = os.path.join(args.work, name + "_ort")
        subprocess.run([os.path.join(args.bin, "qopt-run"), "--model", model,
                        "--input", inp, "--output-dir", qdir], check=True,
                       capture_output=True)
        subprocess.run(["node", os.path.join(args.src, "scripts/ort-run.js"),
                        model, odir, inp], check=True, env=env,
                       capture_output=True)
        got = np.load(os.path.join(qdir, "output_0.npy")).reshape(-1, n)
        ref = np.load(os.path.join(odir, "output_0.npy")).reshape(-1, n)
        bound = (k + 2) * 2.0**-24 * (np.abs(a.astype(np.float64)) @
                                      np.abs(w.astype(np.float64)))
        err = np.abs(got.astype(np.float64) - ref.astype(np.float64))
        good = bool(np.all(err <= bound))
        ok &= good
        print(f"{name}: {got.shape[0]}x{k}x{n} w{bits} block {block}: "
              f"{int(np.sum(err > bound))} of {err.size} outside the bound, "
              f"max |qopt - ort| / bound {float(np.max(err / bound)):.3f}: "
              f"{'OK' if good else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
