#!/usr/bin/env python3
#===- matmul_nbits_int8_ort.py - accuracy_level 4 through qopt and ORT ----===#
#
# com.microsoft MatMulNBits with accuracy_level 4 (int8 activations per row
# and block) compiled by qopt (`qopt-run --model`: import -> qopt.matmul_nbits
# int8_block -> qopt-cpu-matmul-nbits) and run by ONNX Runtime
# (scripts/ort-run.js) on the same inputs; counts the outputs whose float32
# bits differ. The models are those of ort_int8_block_rule.py plus shapes the
# rule script does not model (3-D inputs, K not a multiple of the block, a
# larger N and K). As a control that the comparison can fail, every fourth
# model also goes through qopt with accuracy_level 0 (float activations), and
# the outputs where that differs from ORT's accuracy_level 4 are counted.
#
#   matmul_nbits_int8_ort.py --bin DIR --npm-prefix DIR --src DIR --work DIR
#
#===------------------------------------------------------------------------===#
import argparse
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ort_int8_block_rule as rule  # noqa: E402

F = np.float32

# block, A shape, K, N, zero points, bias, activations
EXTRA = [
    (64, (2, 3, 256), 256, 24, True, True, "normal"),
    (128, (2, 2, 384), 384, 20, False, True, "normal"),
    (64, (3, 200), 200, 17, True, True, "normal"),
    (128, (2, 300), 300, 9, False, False, "normal"),
    (64, (1, 1024), 1024, 96, True, True, "normal"),
    (128, (4, 1024), 1024, 64, False, True, "ties"),
]


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
    rng = np.random.default_rng(1313)
    cases = [(blk, (m, k), k, n, zp, bias, kind)
             for blk, m, k, n, zp, bias, kind in rule.CASES] + EXTRA
    total = bad = control = control_total = 0
    for i, (blk, ashape, k, n, has_zp, has_bias, kind) in enumerate(cases):
        nb = (k + blk - 1) // blk
        kp = nb * blk
        q = rng.integers(0, 16, size=(n, kp))
        sb = rng.uniform(0.001, 0.1, size=(n, nb)).astype(F)
        zp = (rng.integers(0, 16, size=(n, nb)) if has_zp
              else np.full((n, nb), 8))
        bias = rng.standard_normal(n).astype(F) if has_bias else None
        rows = int(np.prod(ashape[:-1]))
        a = rng.standard_normal((rows, k)).astype(F)
        if kind == "ties":
            a = (rng.integers(-254, 255, size=(rows, k)) / 2).astype(F)
            a[:, ::blk] = 127
        elif kind == "zero-blocks":
            a[:, :blk] = 0
        elif kind == "1e30":
            a = (a * F(1e30)).astype(F)
        elif kind == "1e-30":
            a = (a * F(1e-30)).astype(F)
        elif kind == "recip":
            a[:, :blk] = rule.recip_block(rng, blk)
        a = a.reshape(ashape)
        name = f"c{i}_b{blk}_{'x'.join(map(str, ashape))}_n{n}_{kind}"
        path = os.path.join(args.work, name + ".onnx")
        rule.build_model(path, rows, kp, n, blk, q, sb, zp, has_zp, bias)
        # Rewrite K and A's shape when K is not a multiple of the block.
        import onnx
        from onnx import TensorProto, helper
        model = onnx.load(path)
        node = model.graph.node[0]
        for attr in node.attribute:
            if attr.name == "K":
                attr.i = k
        model.graph.ClearField("input")
        model.graph.input.extend([helper.make_tensor_value_info(
            "A", TensorProto.FLOAT, list(ashape))])
        model.graph.ClearField("output")
        model.graph.output.extend([helper.make_tensor_value_info(
            "Y", TensorProto.FLOAT, list(ashape[:-1]) + [n])])
        onnx.save(model, path)
        inp = os.path.join(args.work, name + "_a.npy")
        np.save(inp, a)
        qdir = os.path.join(args.work, name + "_qopt")
        odir = os.path.join(args.work, name + "_ort")
        subprocess.run([os.path.join(args.bin, "qopt-run"), "--model", path,
                        "--input", inp, "--output-dir", qdir], check=True,
                       capture_output=True)
        subprocess.run(["node", os.path.join(args.src, "scripts/ort-run.js"),
                        path, odir, inp], check=True, env=env,
                       capture_output=True)
        got = np.load(os.path.join(qdir, "output_0.npy"))
        ref = np.load(os.path.join(odir, "output_0.npy"))
        if i % 4 == 0:
            for attr in node.attribute:
                if attr.name == "accuracy_level":
                    attr.i = 0
            path0 = os.path.join(args.work, name + "_level0.onnx")
            onnx.save(model, path0)
            fdir = os.path.join(args.work, name + "_qopt_level0")
            subprocess.run([os.path.join(args.bin, "qopt-run"), "--model",
                            path0, "--input", inp, "--output-dir", fdir],
                           check=True, capture_output=True)
            flt = np.load(os.path.join(fdir, "output_0.npy"))
            control += int(np.sum(flt.view(np.int32) != ref.view(np.int32)))
            control_total += flt.size
        assert got.shape == ref.shape, (name, got.shape, ref.shape)
        mis = int(np.sum(got.view(np.int32) != ref.view(np.int32)))
        total += got.size
        bad += mis
        print(f"{name}: {mis} of {got.size} outputs differ from ONNX Runtime")
    print(f"total: {bad} of {total} outputs differ")
    print(f"control, qopt with float activations (accuracy_level 0): "
          f"{control} of {control_total} outputs differ from ORT's "
          f"accuracy_level 4")
    return 0 if bad == 0 and control > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
