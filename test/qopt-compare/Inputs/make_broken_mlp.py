"""Writes an MLP with one deliberately broken layer, and its samples.

    input (1x16) -> fc1 (16->32) + bias -> relu1 -> fc2 (32->32) + bias
                 -> fc3 (32->10) + bias -> logits

fc1's output channel 5 is always 0 (zero weights, bias -1, then ReLU), and
row 5 of fc2's weight is 40 in every column: the outlier multiplies a value
that is always 0, so it never shows in fc2's output range, but it sets every
per-channel weight scale of fc2 to 40/127, which rounds all its other weights
(|w| ~ 0.2) to -1, 0 or 1 step. fc2 is the layer that loses accuracy; the
activations are well behaved everywhere.

With --bn, fc2 is followed by a BatchNormalization in the ONNX importer's
form, `(x - mean) / sqrt(var + eps) * scale + B` per channel, named fc2.bn,
which qopt-fold-batchnorm folds into fc2's weights and bias (the outlier row
stays an outlier: each column is scaled by its own positive factor).

usage: make_broken_mlp.py OUTDIR [--bn]  ->  OUTDIR/model.mlir,
OUTDIR/calib/*.npy (32 samples), OUTDIR/eval/*.npy (4 other samples)
"""
import os
import sys

import numpy as np

out = sys.argv[1]
with_bn = "--bn" in sys.argv[2:]
rng = np.random.default_rng(12)
w1 = rng.normal(0, 0.3, (16, 32)).astype(np.float32)
b1 = rng.normal(0, 0.05, 32).astype(np.float32)
w1[:, 5] = 0
b1[5] = -1
w2 = rng.normal(0, 0.2, (32, 32)).astype(np.float32)
w2[5, :] = 40.0
b2 = rng.normal(0, 0.05, 32).astype(np.float32)
w3 = rng.normal(0, 0.2, (32, 10)).astype(np.float32)
b3 = rng.normal(0, 0.05, 10).astype(np.float32)


def dense(a):
    return "dense<" + np.array2string(
        a, separator=", ", threshold=1 << 30, floatmode="unique",
        max_line_width=1 << 30).replace("\n", "") + ">"


def tt(shape):
    return "tensor<" + "x".join(str(d) for d in shape) + "xf32>"


lines = [
    "// Written by test/qopt-compare/Inputs/make_broken_mlp.py.",
    "#id = affine_map<(d0, d1) -> (d0, d1)>",
    "#bias = affine_map<(d0, d1) -> (d1)>",
    "func.func @broken(%x: tensor<1x16xf32> {qopt.name = \"input\"}) -> tensor<1x10xf32> {",
    "  %zero = arith.constant 0.0 : f32",
]


def layer(name, src, w, b, relu_name=None):
    n = w.shape[1]
    t = tt((1, n))
    lines.extend([
        f"  %{name}_w = arith.constant {dense(w)} : {tt(w.shape)} loc(\"{name}.weight\")",
        f"  %{name}_b = arith.constant {dense(b)} : {tt(b.shape)} loc(\"{name}.bias\")",
        f"  %{name}_e = tensor.empty() : {t}",
        f"  %{name}_z = linalg.fill ins(%zero : f32) outs(%{name}_e : {t}) -> {t}",
        f"  %{name}_mm = linalg.matmul ins(%{src}, %{name}_w : {tt((1, w.shape[0]))}, {tt(w.shape)}) "
        f"outs(%{name}_z : {t}) -> {t} loc(\"{name}.matmul\")",
        f"  %{name} = linalg.generic {{indexing_maps = [#id, #bias, #id], iterator_types = [\"parallel\", \"parallel\"]}} "
        f"ins(%{name}_mm, %{name}_b : {t}, {tt(b.shape)}) outs(%{name}_e : {t}) {{",
        "  ^bb0(%a: f32, %c: f32, %o: f32):",
        "    %s = arith.addf %a, %c : f32",
        "    linalg.yield %s : f32",
        f"  }} -> {t} loc(\"{name}\")",
    ])
    if relu_name:
        lines.extend([
            f"  %{relu_name} = linalg.generic {{indexing_maps = [#id, #id], iterator_types = [\"parallel\", \"parallel\"]}} "
            f"ins(%{name} : {t}) outs(%{name}_e : {t}) {{",
            "  ^bb0(%a: f32, %o: f32):",
            "    %r = arith.maximumf %a, %zero : f32",
            "    linalg.yield %r : f32",
            f"  }} -> {t} loc(\"{relu_name}\")",
        ])




def batchnorm(name, ssa, src, n):
    """A BatchNormalization over the n channels of `src`, as imported."""
    t = tt((1, n))
    params = {
        "scale": rng.uniform(0.5, 2.0, n), "B": rng.normal(0, 0.1, n),
        "mean": rng.normal(0, 0.1, n), "var": rng.uniform(0.5, 2.0, n)}
    for p, v in params.items():
        lines.append(f"  %{ssa}_{p} = arith.constant "
                     f"{dense(v.astype(np.float32))} : {tt((n,))}")
    lines.extend([
        f"  %{ssa}_e = tensor.empty() : {t}",
        f"  %{ssa} = linalg.generic {{indexing_maps = [#id, #bias, #bias, #bias, #bias, #id], "
        f"iterator_types = [\"parallel\", \"parallel\"]}} "
        f"ins(%{src}, %{ssa}_scale, %{ssa}_B, %{ssa}_mean, %{ssa}_var : "
        f"{t}, {tt((n,))}, {tt((n,))}, {tt((n,))}, {tt((n,))}) outs(%{ssa}_e : {t}) {{",
        "  ^bb0(%in: f32, %s: f32, %b: f32, %m: f32, %v: f32, %o: f32):",
        "    %eps = arith.constant 1.0e-05 : f32",
        "    %xm = arith.subf %in, %m : f32",
        "    %ve = arith.addf %v, %eps : f32",
        "    %sd = math.sqrt %ve : f32",
        "    %xn = arith.divf %xm, %sd : f32",
        "    %xs = arith.mulf %xn, %s : f32",
        "    %y = arith.addf %xs, %b : f32",
        "    linalg.yield %y : f32",
        f"  }} -> {t} loc(\"{name}\")",
    ])


layer("fc1", "x", w1, b1, "relu1")
layer("fc2", "relu1", w2, b2)
if with_bn:
    batchnorm("fc2.bn", "fc2_bn", "fc2", 32)
layer("logits", "fc2_bn" if with_bn else "fc2", w3, b3)
lines.append("  return %logits : tensor<1x10xf32>")
lines.append("}")
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "model.mlir"), "w") as f:
    f.write("\n".join(lines) + "\n")
for sub, n in (("calib", 32), ("eval", 4)):
    os.makedirs(os.path.join(out, sub), exist_ok=True)
    for i in range(n):
        x = rng.uniform(-1, 1, (1, 16)).astype(np.float32)
        np.save(os.path.join(out, sub, f"s{i:02d}.npy"), x)
