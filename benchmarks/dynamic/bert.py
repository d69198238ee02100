#!/usr/bin/env python3
#===- bert.py - a BERT-base encoder layer, dynamic int8: qopt vs ORT ------===#
#
# Builds one BERT encoder layer (post-LayerNorm as BERT-base: Q/K/V
# projections, 12-head softmax attention, output projection, residual +
# LayerNormalization, FFN with the Erf form of GELU, residual +
# LayerNormalization; batch 1, the hidden states as a [seq, hidden] matrix)
# in ONNX with python3-onnx, seeded random weights at BERT's scales
# (N(0, 0.02) weights and biases, LayerNorm gamma near 1), and runs it five
# ways on the same input, single thread:
#
#   qopt f32   the float model, qopt-lower-cpu;
#   qopt (a)   the graph ONNX Runtime's quantize_dynamic writes for it,
#              emulated here (DynamicQuantizeLinear -> MatMulInteger ->
#              Cast -> Mul(a_scale * b_scale) -> Add(bias) for each MatMul
#              with a constant weight; the two activation x activation
#              MatMuls of attention stay float, as quantize_dynamic's
#              MatMulConstBOnly option does), imported by qopt-translate,
#              qopt-lower-quant, qopt-lower-cpu;
#   qopt (b)   the float model through qopt-quantize{mode=dynamic}, whose
#              weight rule (s8 symmetric, per tensor by default as
#              quantize_dynamic's per_channel=False) is the one used to
#              write (a)'s weights, so (b) computes (a);
#   ORT f32    onnxruntime-node on the float model;
#   ORT (a)    onnxruntime-node on (a).
#
# Printed: the median latency of each (`qopt-run --repeat R --time`,
# `scripts/ort-run.js --repeat R`: the median of R calls after the first),
# the ratios, the bit mismatches of the layer output of qopt (a) and (b)
# against ORT (a), their largest ulp and relative differences, and, since
# the float parts (LayerNorm, softmax, erf) of qopt and ORT round
# differently, each quantized MatMul on its own: qopt (a) and (b) expose the
# input and output of each of the six quantized projections, and ORT runs
# the same six quantize_dynamic chains on qopt's exposed inputs; those
# outputs must agree bit for bit (the script exits 1 otherwise).
#
#   bert.py --npm-prefix build/npm --work DIR [--hidden 768 --heads 12
#           --ffn 3072 --seq 128] [--weights per-tensor|per-channel]
#           [--repeat 20]
#
#===------------------------------------------------------------------------===#
import argparse
import os
import re
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
F = np.float32
PROJ = ["q", "k", "v", "o", "ffn1", "ffn2"]


def run(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.stderr.write("command failed (%d): %s\n%s%s" %
                         (p.returncode, " ".join(cmd), p.stdout, p.stderr))
        sys.exit(1)
    return p.stdout + p.stderr


def weights(h, ffn, seed):
    rng = np.random.default_rng(seed)

    def n(*shape, s=0.02):
        return (rng.standard_normal(shape) * s).astype(F)
    w = {}
    for name, (k, m) in {"q": (h, h), "k": (h, h), "v": (h, h),
                         "o": (h, h), "ffn1": (h, ffn),
                         "ffn2": (ffn, h)}.items():
        w["w_" + name] = n(k, m)
        w["b_" + name] = n(m)
    for ln in ("ln1", "ln2"):
        w[ln + "_g"] = (1.0 + n(h, s=0.05)).astype(F)
        w[ln + "_b"] = n(h)
    return w


# --- qopt's weight rule (docs/numerics.md 2 and 4; quantize_dynamic's
# QInt8 symmetric rule: scale = max|w| / 127, [-127, 127], half to even) ---
def quant_weight(w, per_channel):
    w64 = w.astype(np.float64)
    amax = np.max(np.abs(w64), axis=0) if per_channel else np.max(np.abs(w64))
    scale = np.where(amax == 0, 1.0, amax / 127.0).astype(F)
    q = np.clip(np.rint(w64 / scale.astype(np.float64)), -127, 127)
    return q.astype(np.int8), scale


class Graph:
    def __init__(self):
        self.nodes, self.inits, self.extra_out = [], [], []
        self.count = 0

    def name(self, base):
        self.count += 1
        return "%s_%d" % (base, self.count)

    def init(self, name, arr):
        self.inits.append(numpy_helper.from_array(arr, name))
        return name

    def op(self, op_type, inputs, out=None, **attrs):
        out = out or self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out


def projection(g, x, w, name, quant, per_channel, expose):
    """x . W + b: float, or the chain quantize_dynamic writes."""
    if not quant:
        m = g.op("MatMul", [x, "w_" + name])
    else:
        wq, ws = quant_weight(w["w_" + name], per_channel)
        g.init("wq_" + name, wq)
        g.init("ws_" + name, ws)
        g.init("wz_" + name, np.zeros(ws.shape, np.int8))
        q, s, z = "xq_" + name, "xs_" + name, "xz_" + name
        g.nodes.append(helper.make_node("DynamicQuantizeLinear", [x],
                                        [q, s, z]))
        acc = g.op("MatMulInteger", [q, "wq_" + name, z, "wz_" + name])
        f = g.op("Cast", [acc], to=TensorProto.FLOAT)
        ss = g.op("Mul", [s, "ws_" + name])
        m = g.op("Mul", [f, ss])
    y = g.op("Add", [m, "b_" + name], out="y_" + name)
    if expose:
        k, n = w["w_" + name].shape
        g.extra_out += [(g.op("Identity", [x], out="in_" + name), k),
                        (y, n)]
    return y


def layer_model(w, a, quant, expose=False):
    h, nh, ffn, seq = a.hidden, a.heads, a.ffn, a.seq
    dh = h // nh
    g = Graph()
    per_channel = a.weights == "per-channel"
    for k, v in w.items():
        if not (quant and k.startswith("w_")):
            g.init(k, v)
    g.init("shape_heads", np.array([seq, nh, dh], np.int64))
    g.init("shape_hidden", np.array([seq, h], np.int64))
    g.init("inv_sqrt_dh", np.array(1.0 / np.sqrt(dh), F))
    g.init("half", np.array(0.5, F))
    g.init("one", np.array(1.0, F))
    g.init("sqrt2", np.array(np.sqrt(2.0), F))

    def proj(x, name):
        return projection(g, x, w, name, quant, per_channel, expose)
    x = "x"
    q, k, v = proj(x, "q"), proj(x, "k"), proj(x, "v")
    qh = g.op("Transpose", [g.op("Reshape", [q, "shape_heads"])],
              perm=[1, 0, 2])
    kh = g.op("Transpose", [g.op("Reshape", [k, "shape_heads"])],
              perm=[1, 2, 0])
    vh = g.op("Transpose", [g.op("Reshape", [v, "shape_heads"])],
              perm=[1, 0, 2])
    scores = g.op("Mul", [g.op("MatMul", [qh, kh]), "inv_sqrt_dh"])
    probs = g.op("Softmax", [scores], axis=-1)
    ctx = g.op("MatMul", [probs, vh])
    ctx = g.op("Reshape", [g.op("Transpose", [ctx], perm=[1, 0, 2]),
                           "shape_hidden"])
    attn = proj(ctx, "o")
    h1 = g.op("LayerNormalization", [g.op("Add", [x, attn]), "ln1_g",
                                     "ln1_b"], axis=-1, epsilon=1e-12)
    f = proj(h1, "ffn1")
    erf = g.op("Erf", [g.op("Div", [f, "sqrt2"])])
    gelu = g.op("Mul", [g.op("Mul", [f, "half"]),
                        g.op("Add", [erf, "one"])])
    f2 = proj(gelu, "ffn2")
    g.op("LayerNormalization", [g.op("Add", [h1, f2]), "ln2_g", "ln2_b"],
         out="y", axis=-1, epsilon=1e-12)
    outs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [seq, h])]
    for name, cols in g.extra_out:
        outs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT,
                                                  [seq, cols]))
    graph = helper.make_graph(
        g.nodes, "bert_layer",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [seq, h])],
        outs, g.inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                          producer_name="qopt-benchmarks")
    m.ir_version = 8
    return m


def islands_model(w, a):
    """The six quantized projections of (a), each on its own input: ORT's
    judge of each quantized MatMul on qopt's exposed activations."""
    g = Graph()
    per_channel = a.weights == "per-channel"
    ins, outs = [], []
    for name in PROJ:
        g.init("b_" + name, w["b_" + name])
        xi = "in_" + name
        k = w["w_" + name].shape[0]
        ins.append(helper.make_tensor_value_info(xi, TensorProto.FLOAT,
                                                 [a.seq, k]))
        y = projection(g, xi, w, name, True, per_channel, False)
        outs.append(helper.make_tensor_value_info(
            y, TensorProto.FLOAT, [a.seq, w["w_" + name].shape[1]]))
    graph = helper.make_graph(g.nodes, "islands", ins, outs, g.inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return m


def ulp_diff(a, b):
    """|a - b| in units in the last place (float32 ordered as integers)."""
    def ordered(v):
        i = v.astype(F).view(np.int32).astype(np.int64)
        return np.where(i < 0, -(i & 0x7FFFFFFF), i)
    return np.abs(ordered(a) - ordered(b))


def mismatches(a, b):
    return int(np.sum(a.astype(F).view(np.uint32) !=
                      b.astype(F).view(np.uint32)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--npm-prefix", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--hidden", type=int, default=768)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--ffn", type=int, default=3072)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--weights", choices=["per-tensor", "per-channel"],
                    default="per-tensor")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--seed", type=int, default=13)
    a = ap.parse_args()
    if a.hidden % a.heads:
        ap.error("--hidden must be a multiple of --heads")
    os.makedirs(a.work, exist_ok=True)
    env = dict(os.environ,
               NODE_PATH=os.path.join(a.npm_prefix, "node_modules"))
    w = weights(a.hidden, a.ffn, a.seed)
    x = np.random.default_rng(a.seed + 1).standard_normal(
        (a.seq, a.hidden)).astype(F)
    xin = os.path.join(a.work, "x.npy")
    np.save(xin, x)
    path = {}
    for tag, quant, expose in (("float", False, False),
                               ("ort_dynamic", True, False),
                               ("float_exposed", False, True),
                               ("ort_dynamic_exposed", True, True)):
        path[tag] = os.path.join(a.work, tag + ".onnx")
        onnx.save(layer_model(w, a, quant, expose), path[tag])
    path["islands"] = os.path.join(a.work, "islands.onnx")
    onnx.save(islands_model(w, a), path["islands"])

    def qopt(tag, src, passes, exposed):
        mlir = os.path.join(a.work, tag + ".mlir")
        # Dense weights: qopt-cpu-gemm packs only dense constants.
        run(["qopt-translate", "--import-onnx",
             "--onnx-resource-threshold=1000000000000", src, "-o", mlir])
        entry = re.search(r"func\.func @([A-Za-z0-9_$.-]+)\(",
                          open(mlir).read()).group(1)
        low = os.path.join(a.work, tag + ".lowered.mlir")
        run(["qopt", mlir] + passes + ["--qopt-lower-cpu", "-o", low])
        nout = 1 + (2 * len(PROJ) if exposed else 0)
        outs = [os.path.join(a.work, "%s_out%d.npy" % (tag, i))
                for i in range(nout)]
        cmd = ["qopt-run", low, "--entry", entry, "--input", xin]
        cmd += sum([["--output", o] for o in outs], [])
        if not exposed:
            cmd += ["--repeat", str(a.repeat), "--time"]
        out = run(cmd)
        t = None
        if not exposed:
            t = float(re.search(r"time: median ([0-9.]+) ms", out).group(1))
        return t, [np.load(o) for o in outs]

    def ort(tag, src, inputs, repeat):
        d = os.path.join(a.work, "ort_" + tag)
        out = run(["node", os.path.join(ROOT, "scripts", "ort-run.js"),
                   "--repeat", str(repeat), src, d] + inputs, env)
        t = float(re.search(r"median ([0-9.]+) ms", out).group(1))
        n = len(re.findall(r"^output ", out, re.M))
        return t, [np.load(os.path.join(d, "output_%d.npy" % i))
                   for i in range(n)]

    dyn = ["--qopt-quantize=mode=dynamic weights=%s" % a.weights]
    times, outs = {}, {}
    times["qopt f32"], outs["qopt f32"] = qopt("f32", path["float"], [],
                                               False)
    times["qopt (a)"], outs["qopt (a)"] = qopt(
        "a", path["ort_dynamic"], ["--qopt-lower-quant"], False)
    times["qopt (b)"], outs["qopt (b)"] = qopt("b", path["float"], dyn,
                                               False)
    times["ORT f32"], outs["ORT f32"] = ort("f32", path["float"], [xin],
                                            a.repeat)
    times["ORT dynamic"], outs["ORT dynamic"] = ort(
        "dynamic", path["ort_dynamic"], [xin], a.repeat)

    print("BERT encoder layer: hidden %d, %d heads, FFN %d, seq %d, batch 1,"
          " weights s8 %s; median of %d runs, single thread" % (
              a.hidden, a.heads, a.ffn, a.seq, a.weights, a.repeat))
    for k in ("qopt f32", "qopt (a)", "qopt (b)", "ORT f32", "ORT dynamic"):
        print("  %-12s %9.3f ms" % (k, times[k]))
    print("  ratios: ORT dynamic / qopt (a) %.2fx, ORT dynamic / qopt (b) "
          "%.2fx, qopt f32 / qopt (b) %.2fx, ORT f32 / qopt f32 %.2fx" % (
              times["ORT dynamic"] / times["qopt (a)"],
              times["ORT dynamic"] / times["qopt (b)"],
              times["qopt f32"] / times["qopt (b)"],
              times["ORT f32"] / times["qopt f32"]))

    ref = outs["ORT dynamic"][0]
    for k in ("qopt (a)", "qopt (b)", "qopt f32"):
        ref_k = outs["ORT f32"][0] if k == "qopt f32" else ref
        got = outs[k][0]
        rel = np.max(np.abs(got.astype(np.float64) - ref_k) /
                     np.maximum(np.abs(ref_k.astype(np.float64)), 1e-30))
        print("  layer output %-8s vs %-11s: %d bit mismatches of %d, max "
              "%d ulp, max relative difference %.2e" % (
                  k, "ORT f32" if k == "qopt f32" else "ORT dynamic",
                  mismatches(got, ref_k), ref_k.size,
                  int(np.max(ulp_diff(got, ref_k))), rel))
    q_err = np.max(np.abs(outs["ORT dynamic"][0] - outs["ORT f32"][0]))
    print("  (quantization itself: ORT dynamic vs ORT f32, max |difference| "
          "%.3g)" % q_err)

    # Each quantized MatMul on its own, ORT as the judge on qopt's inputs.
    bad = 0
    for tag, src, passes in (("a_exposed", path["ort_dynamic_exposed"],
                              ["--qopt-lower-quant"]),
                             ("b_exposed", path["float_exposed"], dyn)):
        _, got = qopt(tag, src, passes, True)
        ins = []
        for i, name in enumerate(PROJ):
            p = os.path.join(a.work, "%s_in_%s.npy" % (tag, name))
            np.save(p, got[1 + 2 * i])
            ins.append(p)
        _, ref_i = ort("islands_" + tag, path["islands"], ins, 1)
        cells = []
        for i, name in enumerate(PROJ):
            m = mismatches(got[2 + 2 * i], ref_i[i])
            bad += m
            cells.append("%s %d/%d" % (name, m, ref_i[i].size))
        print("  quantized MatMuls of qopt %s vs ORT on the same inputs, "
              "mismatches: %s" % (tag[0], ", ".join(cells)))
    print("quantized MatMul outputs vs onnxruntime: %d mismatches" % bad)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
