#!/usr/bin/env python3
#===- ort_int8_block_rule.py - MatMulNBits accuracy_level 4, measured -----===#
#
# Re-derives from ONNX Runtime itself (onnxruntime-node, CPU execution
# provider) the float32 function of com.microsoft MatMulNBits with 4-bit
# weights at accuracy_level 4 (activations quantized to int8 per row and per
# block, MLAS SQNBitGemm CompInt8), as docs/numerics.md (section 10) states
# it, for block sizes 64 and 128. Builds small models with python3-onnx (odd
# and even M, N with and without a multiple of 4, odd block counts, zero
# points, bias, ties of the activation rounding, all-zero blocks, 1e30 and
# 1e-30 activations, blocks where 127/amax and 1/(amax/127) give different
# codes), runs them through ORT (scripts/ort-run.js) and compares every
# output bit with the stated rule and with alternatives the evidence has to
# rule out. The references are plain numpy, with fmaf from libm for fused
# multiply-adds.
#
#   ort_int8_block_rule.py --npm-prefix DIR --src DIR --work DIR
#
# Prints one line per hypothesis: its mismatching outputs of all outputs.
#
#===------------------------------------------------------------------------===#
import argparse
import ctypes
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F = np.float32
LIBM = ctypes.CDLL("libm.so.6")
LIBM.fmaf.restype = ctypes.c_float
LIBM.fmaf.argtypes = [ctypes.c_float] * 3


def fma(a, b, c):
    """Element-wise float32 fused multiply-add (one rounding)."""
    a = np.asarray(a, F)
    b = np.broadcast_to(np.asarray(b, F), a.shape)
    c = np.broadcast_to(np.asarray(c, F), a.shape)
    out = np.empty(a.shape, F)
    for i in np.ndindex(a.shape):
        out[i] = LIBM.fmaf(float(a[i]), float(b[i]), float(c[i]))
    return out


def quantize_a(a, blk, recip="127/amax", rounding="even"):
    """Per row and block of K: scale = amax / 127, codes of a * inverse."""
    m, k = a.shape
    ab = a.reshape(m, k // blk, blk)
    amax = np.max(np.abs(ab), axis=2).astype(F)
    scale = (amax / F(127)).astype(F)
    with np.errstate(divide="ignore"):
        if recip == "127/amax":
            inv = np.where(amax != 0, F(127) / amax, F(0)).astype(F)
        else:
            inv = np.where(scale != 0, F(1) / scale, F(0)).astype(F)
    x = (ab * inv[..., None]).astype(F)
    if rounding == "even":
        q = np.rint(x)
    else:
        q = np.sign(x) * np.floor(np.abs(x) + F(0.5))
    return np.clip(q, -128, 127).astype(np.int64), scale


def hsum16(acc):
    """(lanes 0-7 + 8-15), (0-3 + 4-7), (0+2, 1+3), (0+1): hsum_float_16."""
    h = (acc[..., :8] + acc[..., 8:]).astype(F)
    t = (h[..., :4] + h[..., 4:]).astype(F)
    return ((t[..., 0] + t[..., 2]).astype(F) +
            (t[..., 1] + t[..., 3]).astype(F)).astype(F)


def fold4(acc):
    """FoldAccumulators: per 4-lane chunk ((x0+x1)+x2)+x3, then (c0+c2)+(c1+c3)."""
    c = acc.reshape(acc.shape[:-1] + (4, 4))
    s = (((c[..., 0] + c[..., 1]).astype(F) + c[..., 2]).astype(F) +
         c[..., 3]).astype(F)
    return ((s[..., 0] + s[..., 2]).astype(F) +
            (s[..., 1] + s[..., 3]).astype(F)).astype(F)


def lane_sums(prod, blk, pair):
    """Integer partial dot products in the 16 float lanes of MLAS's kernel.

    prod: [..., blk] products of one block, or [..., 2, blk] of two blocks
    (block size 64 only). Returns ([..., 16] sums, block index of each lane).
    """
    if blk == 64 and pair:
        d0 = prod[..., 0, :].reshape(prod.shape[:-2] + (16, 4)).sum(-1)
        d1 = prod[..., 1, :].reshape(prod.shape[:-2] + (16, 4)).sum(-1)
        out = np.empty(d0.shape, np.int64)
        which = np.zeros(16, int)
        for c in range(4):
            out[..., 4 * c + 0] = d0[..., 4 * c] + d0[..., 4 * c + 2]
            out[..., 4 * c + 1] = d1[..., 4 * c] + d1[..., 4 * c + 2]
            out[..., 4 * c + 2] = d0[..., 4 * c + 1] + d0[..., 4 * c + 3]
            out[..., 4 * c + 3] = d1[..., 4 * c + 1] + d1[..., 4 * c + 3]
            which[4 * c + 1] = which[4 * c + 3] = 1
        return out, which
    if blk == 64:
        return prod.reshape(prod.shape[:-1] + (16, 4)).sum(-1), np.zeros(16, int)
    # 128: lane l holds elements 4l..4l+3 and 64+4l..64+4l+3.
    p = prod.reshape(prod.shape[:-1] + (2, 16, 4)).sum(-1)
    return p[..., 0, :] + p[..., 1, :], np.zeros(16, int)


def model_rule(a, q, sb, zp, bias, blk, variant="rule"):
    """The stated rule (variant 'rule') and its alternatives. q: [N, K] in
    [0, 16), sb and zp: [N, blocks], bias: [N] or None."""
    m, k = a.shape
    n = q.shape[0]
    nb = k // blk
    recip, rounding = {"recip": ("1/scale", "even"),
                       "away": ("127/amax", "away")}.get(
                           variant, ("127/amax", "even"))
    qa, sa = quantize_a(a, blk, recip, rounding)
    qa3 = qa.reshape(m, nb, blk)
    qb3 = q.reshape(n, nb, blk)
    if variant == "naive":
        out = (np.zeros((m, n), F) if bias is None
               else np.tile(bias, (m, 1)).astype(F))
        for b in range(nb):
            d = np.einsum("mk,nk->mn", qa3[:, b],
                          qb3[:, b] - zp[:, b][:, None]).astype(F)
            out = (out + (d * (sa[:, b][:, None] * sb[:, b][None, :]).astype(F)
                          ).astype(F)).astype(F)
        return out
    acc = np.zeros((m, n, 16), F)
    b = 0
    while b < nb:
        pair = blk == 64 and nb - b > 1
        cnt = 2 if pair else 1
        prod = qa3[:, None, b:b + cnt, :] * qb3[None, :, b:b + cnt, :]
        lanes, which = lane_sums(prod if pair else prod[:, :, 0, :], blk, pair)
        s = np.stack([(sa[:, b + w][:, None] * sb[:, b + w][None, :]).astype(F)
                      for w in which], -1)
        acc = fma(lanes.astype(F), s, acc)
        b += cnt
    c = hsum16(acc)
    if variant != "one-tree" and m % 2 == 1:
        full = n - n % 4
        c[m - 1, :full] = fold4(acc[m - 1, :full])
    if bias is not None:
        c = (c + bias[None, :]).astype(F)
    a_blksum = (sa * qa3.sum(-1).astype(F)).astype(F)  # [M, blocks]
    b_blksum = (-(sb * zp.astype(F))).astype(F)  # [N, blocks]
    d = np.zeros((m, n), F)
    for j in range(nb):
        d = fma(np.repeat(a_blksum[:, j][:, None], n, 1),
                b_blksum[:, j][None, :], d)
    return (c + d).astype(F)


def recip_block(rng, blk):
    """A block whose codes differ between a*(127/amax) and a*(1/(amax/127))."""
    while True:
        amax = F(rng.uniform(0.5, 4.0))
        inv1 = F(127) / amax
        inv2 = F(1) / (amax / F(127))
        if inv1 == inv2:
            continue
        vals = []
        for j in range(-126, 126):
            v = F((j + 0.5) / float(inv1))
            for _ in range(3):
                for w in (v, np.nextafter(v, F(np.inf), dtype=F),
                          np.nextafter(v, F(-np.inf), dtype=F)):
                    if abs(w) < amax and np.rint(w * inv1) != np.rint(w * inv2):
                        vals.append(w)
                v = np.nextafter(v, F(np.inf), dtype=F)
        if len(vals) >= 4:
            return np.array([amax] + [vals[i % len(vals)]
                                      for i in range(blk - 1)], F)


def build_model(path, m, k, n, blk, q, sb, zp, has_zp, bias):
    nb = k // blk
    packed = (q[:, 0::2] | (q[:, 1::2] << 4)).astype(np.uint8)
    inits = [numpy_helper.from_array(packed.reshape(n, nb, blk // 2), "B"),
             numpy_helper.from_array(sb.reshape(-1), "S")]
    ins = ["A", "B", "S"]
    if has_zp:
        zpad = np.zeros((n, (nb + 1) // 2 * 2), np.int64)
        zpad[:, :nb] = zp
        z = (zpad[:, 0::2] | (zpad[:, 1::2] << 4)).astype(np.uint8)
        inits.append(numpy_helper.from_array(z.reshape(-1), "Z"))
        ins.append("Z")
    if bias is not None:
        while len(ins) < 5:
            ins.append("")
        ins.append("bias")
        inits.append(numpy_helper.from_array(bias, "bias"))
    node = helper.make_node("MatMulNBits", ins, ["Y"], domain="com.microsoft",
                            K=k, N=n, bits=4, block_size=blk,
                            accuracy_level=4)
    graph = helper.make_graph(
        [node], "g",
        [helper.make_tensor_value_info("A", TensorProto.FLOAT, [m, k])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [m, n])], inits)
    model = helper.make_model(graph, opset_imports=[
        helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 8
    onnx.save(model, path)


# block, M, K, N, zero points, bias, activations
CASES = [
    (64, 1, 256, 40, False, False, "normal"),
    (64, 2, 256, 36, True, True, "normal"),
    (64, 3, 192, 21, True, False, "normal"),
    (64, 4, 256, 16, False, True, "ties"),
    (64, 2, 128, 8, True, False, "zero-blocks"),
    (64, 2, 128, 8, False, False, "1e30"),
    (64, 5, 192, 19, True, True, "1e-30"),
    (64, 3, 128, 12, False, False, "recip"),
    (128, 1, 256, 40, False, False, "normal"),
    (128, 2, 256, 36, True, True, "normal"),
    (128, 3, 384, 21, True, False, "ties"),
    (128, 2, 256, 8, True, False, "zero-blocks"),
    (128, 5, 384, 19, True, True, "1e30"),
    (128, 3, 256, 12, False, True, "recip"),
]

HYPOTHESES = [
    ("rule", "stated rule (docs/numerics.md section 10)"),
    ("recip", "codes from a * (1/scale) instead of a * (127/amax)"),
    ("away", "codes rounded half away from zero"),
    ("one-tree", "one lane-reduction tree for every output"),
    ("naive", "zero point inside the integer dot, blocks summed in order"),
]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--npm-prefix", required=True)
    p.add_argument("--src", required=True)
    p.add_argument("--work", required=True)
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    env = dict(os.environ,
               NODE_PATH=os.path.join(args.npm_prefix, "node_modules"))
    rng = np.random.default_rng(13)
    runs = []
    for i, (blk, m, k, n, has_zp, has_bias, kind) in enumerate(CASES):
        nb = k // blk
        q = rng.integers(0, 16, size=(n, k))
        sb = rng.uniform(0.001, 0.1, size=(n, nb)).astype(F)
        zp = (rng.integers(0, 16, size=(n, nb)) if has_zp
              else np.full((n, nb), 8))
        bias = rng.standard_normal(n).astype(F) if has_bias else None
        a = rng.standard_normal((m, k)).astype(F)
        blocks = a.reshape(m, nb, blk)
        if kind == "ties":  # amax 127: codes = a, and a is a multiple of 1/2
            a = (rng.integers(-254, 255, size=(m, k)) / 2).astype(F)
            a.reshape(m, nb, blk)[:, :, 0] = 127
        elif kind == "zero-blocks":
            blocks[:, ::2, :] = 0
        elif kind == "1e30":
            a = (a * F(1e30)).astype(F)
        elif kind == "1e-30":
            a = (a * F(1e-30)).astype(F)
        elif kind == "recip":
            for r in range(m):
                blocks[r, 0, :] = recip_block(rng, blk)
        name = f"c{i}_b{blk}_m{m}_k{k}_n{n}_{kind}"
        path = os.path.join(args.work, name + ".onnx")
        build_model(path, m, k, n, blk, q, sb, zp, has_zp, bias)
        inp = os.path.join(args.work, name + "_a.npy")
        np.save(inp, a)
        odir = os.path.join(args.work, name + "_ort")
        subprocess.run(["node", os.path.join(args.src, "scripts/ort-run.js"),
                        path, odir, inp], check=True, env=env,
                       capture_output=True)
        ort = np.load(os.path.join(odir, "output_0.npy"))
        runs.append((name, a, q, sb, zp, bias, blk, ort))
    total = sum(r[-1].size for r in runs)
    print(f"MatMulNBits accuracy_level 4, 4-bit weights, blocks 64 and 128: "
          f"{len(runs)} models, {total} outputs, onnxruntime-node")
    ok = True
    for variant, text in HYPOTHESES:
        bad = 0
        for name, a, q, sb, zp, bias, blk, ort in runs:
            got = model_rule(a, q, sb, zp, bias, blk, variant)
            mis = int(np.sum(got.view(np.int32) != ort.view(np.int32)))
            bad += mis
            if variant == "rule" and mis:
                print(f"  {name}: {mis} of {got.size} differ")
        print(f"  {text}: {bad} mismatches of {total}")
        ok &= (bad == 0) == (variant == "rule")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
