#!/usr/bin/python3
"""Trains the digits CNN and writes every artifact in examples/digits/.

    /usr/bin/python3 examples/digits/train.py

Needs only numpy and the scikit-learn digits data file (Debian's
python3-sklearn ships it as sklearn/datasets/data/digits.csv.gz; scikit-learn
itself is not imported). The script is deterministic: fixed seeds, a fixed
split, float64 training in plain numpy, single-threaded BLAS. Running it again
rewrites byte-identical files (checked on Debian 12, numpy 1.24.2 with the
reference BLAS; another BLAS may change the last bits of training).

Model (NCHW, batch 1 in the exported MLIR):

    input [1,1,8,8]
    conv1 3x3, 1->8, pad 1  -> relu1
    conv2 3x3, 8->16, pad 1 -> relu2
    maxpool 2x2 stride 2 -> [1,16,4,4] -> flatten [1,256]
    fc1 256->32 -> relu3
    fc2 32->10 -> logits

Writes (next to this file):
    digits.mlir        func + linalg on tensors, weights as dense constants,
                       tensors named by loc("...") and qopt.name
    digits.calib.json  qopt calibration JSON (min/max + 128-bin histogram of
                       every named activation over the calibration set)
    test_x.npy         float32 [300,1,8,8] held-out images, pixels / 16
    test_y.npy         int64 [300] labels
    test_logits.npy    float32 [300,10] logits of the float model
    calib_x.npy        float32 [100,1,8,8] calibration images (from training)
"""

import os

# Single-threaded BLAS, so that sums are always taken in the same order.
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import gzip
import io
import json
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA_FILE = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"

SEED = 20240601
NUM_TEST = 300
NUM_CALIB = 100
EPOCHS = 20
BATCH = 32
LR = 2e-3
HIST_BINS = 128

# Named tensors, in program order. "input" is the function argument; the rest
# are op results (loc). Weights are constants named <layer>.weight/.bias.
ACTIVATIONS = [
    "input", "conv1.pad", "conv1.conv", "conv1", "relu1",
    "conv2.pad", "conv2.conv", "conv2", "relu2",
    "pool", "flatten", "fc1.matmul", "fc1", "relu3", "fc2.matmul", "logits",
]


# ----------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------

def load_digits():
    path = os.environ.get("QOPT_DIGITS_CSV", DATA_FILE)
    if not os.path.exists(path):
        sys.exit(
            f"error: {path} not found.\n"
            "It is the scikit-learn digits data; install Debian's package "
            "python3-sklearn (apt-get install python3-sklearn), or point "
            "QOPT_DIGITS_CSV at a copy of digits.csv.gz.")
    with gzip.open(path, "rb") as f:
        text = f.read().decode("ascii")
    data = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.float64)
    if data.shape != (1797, 65):
        sys.exit(f"error: {path}: expected 1797 rows of 65 values, got {data.shape}")
    x = data[:, :64].reshape(-1, 1, 8, 8) / 16.0  # NCHW, values in [0, 1]
    y = data[:, 64].astype(np.int64)
    return x, y


def split(x, y):
    perm = np.random.RandomState(SEED).permutation(len(x))
    test_idx, train_idx = perm[:NUM_TEST], perm[NUM_TEST:]
    calib_idx = train_idx[:NUM_CALIB]
    return (x[train_idx], y[train_idx]), (x[test_idx], y[test_idx]), x[calib_idx]


# ----------------------------------------------------------------------------
# Layers (float64, NCHW, hand-written backward)
# ----------------------------------------------------------------------------

def im2col3x3(x):
    """x [B,C,H,W] -> padded x [B,C,H+2,W+2], cols [B*H*W, C*9] ordered (c,kh,kw)."""
    b, c, h, w = x.shape
    xp = np.zeros((b, c, h + 2, w + 2), dtype=x.dtype)
    xp[:, :, 1:-1, 1:-1] = x
    taps = [xp[:, :, kh:kh + h, kw:kw + w] for kh in range(3) for kw in range(3)]
    cols = np.stack(taps, axis=2)                      # [B,C,9,H,W]
    cols = cols.transpose(0, 3, 4, 1, 2).reshape(b * h * w, c * 9)
    return xp, cols


def col2im3x3(dcols, shape):
    b, c, h, w = shape
    d = dcols.reshape(b, h, w, c, 9).transpose(0, 3, 4, 1, 2)  # [B,C,9,H,W]
    dxp = np.zeros((b, c, h + 2, w + 2))
    k = 0
    for kh in range(3):
        for kw in range(3):
            dxp[:, :, kh:kh + h, kw:kw + w] += d[:, :, k]
            k += 1
    return dxp[:, :, 1:-1, 1:-1]


def conv_forward(x, wt, bias):
    """3x3 conv, pad 1, stride 1. wt [F,C,3,3]. Returns (conv, conv+bias, cache)."""
    b, c, h, w = x.shape
    f = wt.shape[0]
    xp, cols = im2col3x3(x)
    conv = (cols @ wt.reshape(f, c * 9).T).reshape(b, h, w, f).transpose(0, 3, 1, 2)
    return xp, conv, conv + bias[None, :, None, None], cols


def conv_backward(dy, x_shape, wt, cols):
    b, c, h, w = x_shape
    f = wt.shape[0]
    d = dy.transpose(0, 2, 3, 1).reshape(b * h * w, f)
    dw = (d.T @ cols).reshape(wt.shape)
    db = d.sum(axis=0)
    dx = col2im3x3(d @ wt.reshape(f, c * 9), x_shape)
    return dx, dw, db


def maxpool_forward(x):
    b, c, h, w = x.shape
    r = x.reshape(b, c, h // 2, 2, w // 2, 2)
    return r.max(axis=(3, 5))


def maxpool_backward(dy, x, y):
    b, c, h, w = x.shape
    r = x.reshape(b, c, h // 2, 2, w // 2, 2)
    mask = r == y[:, :, :, None, :, None]
    # Ties: the gradient goes to every maximum, divided evenly.
    mask = mask / mask.sum(axis=(3, 5), keepdims=True)
    return (mask * dy[:, :, :, None, :, None]).reshape(x.shape)


def forward(p, x, keep=False):
    """The model; with keep=True also returns every named tensor."""
    t = {"input": x}
    t["conv1.pad"], t["conv1.conv"], t["conv1"], cols1 = conv_forward(x, p["conv1.weight"], p["conv1.bias"])
    t["relu1"] = np.maximum(t["conv1"], 0.0)
    t["conv2.pad"], t["conv2.conv"], t["conv2"], cols2 = conv_forward(t["relu1"], p["conv2.weight"], p["conv2.bias"])
    t["relu2"] = np.maximum(t["conv2"], 0.0)
    t["pool"] = maxpool_forward(t["relu2"])
    t["flatten"] = t["pool"].reshape(len(x), -1)
    t["fc1.matmul"] = t["flatten"] @ p["fc1.weight"]
    t["fc1"] = t["fc1.matmul"] + p["fc1.bias"]
    t["relu3"] = np.maximum(t["fc1"], 0.0)
    t["fc2.matmul"] = t["relu3"] @ p["fc2.weight"]
    t["logits"] = t["fc2.matmul"] + p["fc2.bias"]
    if keep:
        return t
    return t["logits"], (t, cols1, cols2)


def loss_and_grads(p, x, y):
    logits, (t, cols1, cols2) = forward(p, x)
    n = len(x)
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    prob = e / e.sum(axis=1, keepdims=True)
    loss = -np.log(prob[np.arange(n), y]).mean()
    g = {}
    d = prob.copy()
    d[np.arange(n), y] -= 1.0
    d /= n
    g["fc2.weight"] = t["relu3"].T @ d
    g["fc2.bias"] = d.sum(axis=0)
    d = (d @ p["fc2.weight"].T) * (t["fc1"] > 0)
    g["fc1.weight"] = t["flatten"].T @ d
    g["fc1.bias"] = d.sum(axis=0)
    d = (d @ p["fc1.weight"].T).reshape(t["pool"].shape)
    d = maxpool_backward(d, t["relu2"], t["pool"]) * (t["conv2"] > 0)
    d, g["conv2.weight"], g["conv2.bias"] = conv_backward(d, t["relu1"].shape, p["conv2.weight"], cols2)
    d = d * (t["conv1"] > 0)
    _, g["conv1.weight"], g["conv1.bias"] = conv_backward(d, x.shape, p["conv1.weight"], cols1)
    return loss, g


def init_params(rng):
    def he(shape, fan_in):
        return rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
    return {
        "conv1.weight": he((8, 1, 3, 3), 9), "conv1.bias": np.zeros(8),
        "conv2.weight": he((16, 8, 3, 3), 72), "conv2.bias": np.zeros(16),
        "fc1.weight": he((256, 32), 256), "fc1.bias": np.zeros(32),
        "fc2.weight": he((32, 10), 32), "fc2.bias": np.zeros(10),
    }


def train(x, y):
    rng = np.random.RandomState(SEED + 1)
    p = init_params(rng)
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v = {k: np.zeros_like(v) for k, v in p.items()}
    b1, b2, eps = 0.9, 0.999, 1e-8
    step = 0
    for epoch in range(EPOCHS):
        order = rng.permutation(len(x))
        total = 0.0
        for i in range(0, len(x), BATCH):
            idx = order[i:i + BATCH]
            loss, g = loss_and_grads(p, x[idx], y[idx])
            total += loss * len(idx)
            step += 1
            for k in p:
                m[k] = b1 * m[k] + (1 - b1) * g[k]
                v[k] = b2 * v[k] + (1 - b2) * g[k] * g[k]
                mh = m[k] / (1 - b1 ** step)
                vh = v[k] / (1 - b2 ** step)
                p[k] = p[k] - LR * mh / (np.sqrt(vh) + eps)
        acc = (forward(p, x)[0].argmax(axis=1) == y).mean()
        print(f"epoch {epoch + 1:2d}: loss {total / len(x):.4f}, train top-1 {acc * 100:.2f}%")
    return p


# ----------------------------------------------------------------------------
# Export
# ----------------------------------------------------------------------------

def fmt(x):
    """A float32 as the shortest decimal text that reads back to the same float32."""
    x = np.float32(x)
    if x == 0:
        return "-0.0" if np.signbit(x) else "0.0"
    for digits in range(1, 10):
        s = format(float(x), f".{digits}g")
        if np.float32(s) == x:
            break
    mant, _, exp = s.partition("e")
    if "." not in mant:  # MLIR float literals need a '.': 1.0e-05, not 1e-05
        mant += ".0"
    return mant + ("e" + exp if exp else "")


def dense(a):
    if a.ndim == 1:
        return "[" + ", ".join(fmt(v) for v in a) + "]"
    return "[" + ", ".join(dense(s) for s in a) + "]"


def ttype(shape):
    return "tensor<" + "x".join(str(d) for d in shape) + "xf32>"


def export_mlir(p, path):
    c = {k: v.astype(np.float32) for k, v in p.items()}
    L = []
    w = L.append
    w("// The digits CNN of examples/digits, written by examples/digits/train.py:")
    w("// do not edit; run `/usr/bin/python3 examples/digits/train.py` instead.")
    w("// conv3x3(1->8) relu conv3x3(8->16) relu maxpool2x2 fc(256->32) relu fc(32->10),")
    w("// NCHW, batch 1, func + linalg on tensors. Tensors are named the way qopt's")
    w("// importers name them: op results by loc(\"name\"), the input by qopt.name.")
    w("// examples/digits/digits.calib.json holds statistics for every named activation.")
    w("")
    w("#map_nchw = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>")
    w("#map_cbias = affine_map<(d0, d1, d2, d3) -> (d1)>")
    w("#map_id = affine_map<(d0, d1) -> (d0, d1)>")
    w("#map_bias = affine_map<(d0, d1) -> (d1)>")
    w("")
    w(f"func.func @digits(%input: {ttype((1, 1, 8, 8))} {{qopt.name = \"input\"}}) -> {ttype((1, 10))} {{")
    for name in ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
                 "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]:
        var = "%" + name.replace(".", "_")
        w(f"  {var} = arith.constant dense<{dense(c[name])}> : {ttype(c[name].shape)} loc(\"{name}\")")
    w("  %zero = arith.constant 0.0 : f32")
    w("  %neg = arith.constant -3.4e+38 : f32")
    w("")

    def conv(layer, x, cin, cout):
        t8 = ttype((1, cin, 8, 8))
        t10 = ttype((1, cin, 10, 10))
        to = ttype((1, cout, 8, 8))
        w(f"  %{layer}_pad = tensor.pad %{x} low[0, 0, 1, 1] high[0, 0, 1, 1] {{")
        w("  ^bb0(%i0: index, %i1: index, %i2: index, %i3: index):")
        w("    tensor.yield %zero : f32")
        w(f"  }} : {t8} to {t10} loc(\"{layer}.pad\")")
        w(f"  %{layer}_empty = tensor.empty() : {to}")
        w(f"  %{layer}_init = linalg.fill ins(%zero : f32) outs(%{layer}_empty : {to}) -> {to}")
        w(f"  %{layer}_conv = linalg.conv_2d_nchw_fchw {{dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}}")
        w(f"      ins(%{layer}_pad, %{layer}_weight : {t10}, {ttype((cout, cin, 3, 3))})")
        w(f"      outs(%{layer}_init : {to}) -> {to} loc(\"{layer}.conv\")")
        w(f"  %{layer} = linalg.generic {{indexing_maps = [#map_nchw, #map_cbias, #map_nchw],")
        w("                        iterator_types = [\"parallel\", \"parallel\", \"parallel\", \"parallel\"]}")
        w(f"      ins(%{layer}_conv, %{layer}_bias : {to}, {ttype((cout,))}) outs(%{layer}_empty : {to}) {{")
        w("  ^bb0(%a: f32, %b: f32, %o: f32):")
        w("    %s = arith.addf %a, %b : f32")
        w("    linalg.yield %s : f32")
        w(f"  }} -> {to} loc(\"{layer}\")")
        return to

    def relu(name, x, ty, rank4, empty):
        m = "#map_nchw" if rank4 else "#map_id"
        it = ", ".join(['"parallel"'] * (4 if rank4 else 2))
        w(f"  %{name} = linalg.generic {{indexing_maps = [{m}, {m}], iterator_types = [{it}]}}")
        w(f"      ins(%{x} : {ty}) outs(%{empty} : {ty}) {{")
        w("  ^bb0(%a: f32, %o: f32):")
        w("    %r = arith.maximumf %a, %zero : f32")
        w("    linalg.yield %r : f32")
        w(f"  }} -> {ty} loc(\"{name}\")")

    def fc(layer, out_name, x, k, n):
        ti, to = ttype((1, k)), ttype((1, n))
        w(f"  %{layer}_empty = tensor.empty() : {to}")
        w(f"  %{layer}_init = linalg.fill ins(%zero : f32) outs(%{layer}_empty : {to}) -> {to}")
        w(f"  %{layer}_matmul = linalg.matmul ins(%{x}, %{layer}_weight : {ti}, {ttype((k, n))})")
        w(f"      outs(%{layer}_init : {to}) -> {to} loc(\"{layer}.matmul\")")
        w(f"  %{out_name} = linalg.generic {{indexing_maps = [#map_id, #map_bias, #map_id],")
        w("                        iterator_types = [\"parallel\", \"parallel\"]}")
        w(f"      ins(%{layer}_matmul, %{layer}_bias : {to}, {ttype((n,))}) outs(%{layer}_empty : {to}) {{")
        w("  ^bb0(%a: f32, %b: f32, %o: f32):")
        w("    %s = arith.addf %a, %b : f32")
        w("    linalg.yield %s : f32")
        w(f"  }} -> {to} loc(\"{out_name}\")")
        return to

    t1 = conv("conv1", "input", 1, 8)
    relu("relu1", "conv1", t1, True, "conv1_empty")
    w("")
    t2 = conv("conv2", "relu1", 8, 16)
    relu("relu2", "conv2", t2, True, "conv2_empty")
    w("")
    tp = ttype((1, 16, 4, 4))
    w(f"  %pool_empty = tensor.empty() : {tp}")
    w(f"  %pool_init = linalg.fill ins(%neg : f32) outs(%pool_empty : {tp}) -> {tp}")
    w("  %pool_window = tensor.empty() : tensor<2x2xf32>")
    w("  %pool = linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}")
    w(f"      ins(%relu2, %pool_window : {t2}, tensor<2x2xf32>)")
    w(f"      outs(%pool_init : {tp}) -> {tp} loc(\"pool\")")
    w(f"  %flatten = tensor.collapse_shape %pool [[0], [1, 2, 3]] : {tp} into {ttype((1, 256))} loc(\"flatten\")")
    w("")
    t3 = fc("fc1", "fc1", "flatten", 256, 32)
    relu("relu3", "fc1", t3, False, "fc1_empty")
    w("")
    fc("fc2", "logits", "relu3", 32, 10)
    w(f"  return %logits : {ttype((1, 10))}")
    w("}")
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")


def calibration(p32, calib_x):
    t = forward(p32, calib_x.astype(np.float64), keep=True)
    tensors = {}
    for name in ACTIVATIONS:
        a = t[name].ravel()
        lo, hi = float(a.min()), float(a.max())
        entry = {"min": lo, "max": hi}
        if lo < hi:  # qopt refuses a histogram with min == max
            counts, _ = np.histogram(a, bins=HIST_BINS, range=(lo, hi))
            entry["histogram"] = {"min": lo, "max": hi, "counts": [int(n) for n in counts]}
        tensors[name] = entry
    return tensors


def write_calibration(tensors, path):
    lines = ["{", '  "qopt_calibration": 1,',
             '  "producer": "examples/digits/train.py (min/max over calib_x.npy, 128-bin histograms)",',
             '  "tensors": {']
    items = list(tensors.items())
    for i, (name, e) in enumerate(items):
        s = f'    {json.dumps(name)}: {{"min": {e["min"]!r}, "max": {e["max"]!r}'
        if "histogram" in e:
            h = e["histogram"]
            s += (f',\n      "histogram": {{"min": {h["min"]!r}, "max": {h["max"]!r}, '
                  f'"counts": [{", ".join(str(n) for n in h["counts"])}]}}')
        s += "}" + ("," if i + 1 < len(items) else "")
        lines.append(s)
    lines += ["  }", "}"]
    text = "\n".join(lines) + "\n"
    json.loads(text)  # well-formed
    with open(path, "w") as f:
        f.write(text)


def main():
    x, y = load_digits()
    (train_x, train_y), (test_x, test_y), calib_x = split(x, y)
    print(f"train {len(train_x)}, test {len(test_x)}, calibration {len(calib_x)} (from train)")
    p = train(train_x, train_y)

    # The exported model is the float32 weights; evaluate exactly those.
    p32 = {k: v.astype(np.float32).astype(np.float64) for k, v in p.items()}
    test_logits = forward(p32, test_x.astype(np.float32).astype(np.float64))[0]
    train_acc = (forward(p32, train_x)[0].argmax(axis=1) == train_y).mean()
    test_acc = (test_logits.argmax(axis=1) == test_y).mean()
    print(f"float32 weights: train top-1 {train_acc * 100:.2f}%, "
          f"held-out test top-1 {test_acc * 100:.2f}% "
          f"({int((test_logits.argmax(axis=1) == test_y).sum())}/{len(test_y)})")

    np.save(os.path.join(HERE, "test_x.npy"), test_x.astype(np.float32))
    np.save(os.path.join(HERE, "test_y.npy"), test_y.astype(np.int64))
    np.save(os.path.join(HERE, "test_logits.npy"), test_logits.astype(np.float32))
    np.save(os.path.join(HERE, "calib_x.npy"), calib_x.astype(np.float32))
    export_mlir(p, os.path.join(HERE, "digits.mlir"))
    write_calibration(calibration(p32, calib_x), os.path.join(HERE, "digits.calib.json"))
    print("wrote digits.mlir, digits.calib.json, test_x.npy, test_y.npy, "
          "test_logits.npy, calib_x.npy in", HERE)


if __name__ == "__main__":
    main()
