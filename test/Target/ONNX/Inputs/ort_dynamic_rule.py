#!/usr/bin/env python3
#===- ort_dynamic_rule.py - ONNX Runtime's dynamic quantization, measured --===#
#
# Re-derives from ONNX Runtime itself (onnxruntime-node, CPU) the rule of
# DynamicQuantizeLinear and the float32 arithmetic after the integer GEMM of
# ORT's dynamic-quantization graphs, as docs/numerics.md (section "Dynamic
# quantization") states them:
#
#   part 1: DynamicQuantizeLinear on edge cases (exact zero-point ties,
#           all-positive, all-negative, all-zero, one element, huge values);
#           ORT's (y, scale, zero point) against the stated rule and against
#           alternatives the evidence must rule out;
#   part 2: DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul(a_s * b_s)
#           -> Add (the graph quantize_dynamic writes), with ORT's fusions off
#           and on, and com.microsoft DynamicQuantizeMatMul, against the
#           candidate orders of the float32 operations, with accumulators
#           above 2^24.
#
#   ort_dynamic_rule.py --npm-prefix DIR --work DIR [--show]
#
# Prints one line per hypothesis with its mismatch count; --show also prints
# the evidence table of docs/numerics.md. The references are plain numpy.
#
#===------------------------------------------------------------------------===#
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
F = np.float32


def save_npy(path, arr):
    np.save(path, arr)
    return path


def model(nodes, inputs, outputs, inits, ms=False):
    g = helper.make_graph(nodes, "g", inputs, outputs, inits)
    ops = [helper.make_opsetid("", 13)]
    if ms:
        ops.append(helper.make_opsetid("com.microsoft", 1))
    m = helper.make_model(g, opset_imports=ops, producer_name="qopt-tests")
    m.ir_version = 8
    return m


# ---------------------------------------------------------------------------
# The rule (docs/numerics.md) and the alternatives it must beat.
# ---------------------------------------------------------------------------
def rne(v):
    return np.rint(v)  # numpy rounds half to even


def away(v):
    return np.sign(v) * np.floor(np.abs(v) + 0.5)


def dql_params(x, zp_round=rne, degenerate_scale=F(1.0)):
    """scale, zero point as float32 arithmetic (the stated rule)."""
    with np.errstate(all="ignore"):
        lo = min(F(np.min(x)), F(0.0))
        hi = max(F(np.max(x)), F(0.0))
        if hi == lo:
            return degenerate_scale, 0
        scale = F(F(hi - lo) / F(255.0))
        zpf = F(F(0.0) - F(lo / scale))
        zp = zp_round(min(max(zpf, F(0.0)), F(255.0)))
        return scale, int(zp)


def dql_quantize(x, scale, zp, recip=False, rnd=rne):
    with np.errstate(all="ignore"):
        v = (x * F(F(1.0) / scale)) if recip else (x / scale)
        v = rnd(v.astype(F)) + F(zp)
        return np.clip(v, 0, 255).astype(np.uint8)


def dql_cases():
    rng = np.random.default_rng(13)
    cases = {}
    # Exact ties of the zero point: range 255 (scale exactly 1.0) and
    # min = -k - 0.5, so 0 - min/scale = k + 0.5.
    for k in (0, 1, 2, 3, 10, 127):
        x = np.array([-k - 0.5, 254.5 - k, 7.0, -0.25], F)
        cases["zp_tie_%d_5" % k] = x
    # Ties of the quantization x/scale = n + 0.5 (scale 1.0, zp 2 or 3).
    cases["x_ties"] = np.array([-2.5, 252.5, 0.5, 1.5, 2.5, 3.5, -1.5,
                                100.5, 101.5], F)
    cases["random_normal"] = rng.standard_normal(4096).astype(F)
    cases["random_wide"] = (rng.standard_normal(4096) * 37.0 + 3.0).astype(F)
    # Many values per scale whose reciprocal is inexact: x / scale and
    # x * (1 / scale) then round differently for some of them.
    cases["random_200k"] = (rng.standard_normal(200000) * 0.7).astype(F)
    # Values next to quantization ties, kept only where x / scale and
    # x * (1 / scale) round to different integers (range [-1, 2]).
    lo, hi = F(-1.0), F(2.0)
    scale = F(F(hi - lo) / F(255.0))
    near = []
    for n in range(-85, 170):
        t = F(F(n + 0.5) * scale)
        for d in range(-3, 4):
            v = t
            for _ in range(abs(d)):
                v = np.nextafter(v, F(np.inf) if d > 0 else F(-np.inf))
            if lo <= v <= hi and rne(F(v / scale)) != \
                    rne(F(v * F(F(1.0) / scale))):
                near.append(v)
    cases["recip_differs"] = np.array([lo, hi] + near, F)
    cases["all_positive"] = (rng.random(257) * 5.0 + 0.1).astype(F)
    cases["all_negative"] = (-rng.random(257) * 5.0 - 0.1).astype(F)
    cases["all_zero"] = np.zeros(64, F)
    cases["one_element_pos"] = np.array([3.75], F)
    cases["one_element_neg"] = np.array([-3.75], F)
    cases["one_element_zero"] = np.array([0.0], F)
    cases["huge_1e30"] = (rng.standard_normal(512) * 1e30).astype(F)
    cases["huge_overflow"] = np.array([3e38, -3e38, 1.0, -1e38], F)
    cases["tiny_1e-38"] = (rng.standard_normal(512) * 1e-38).astype(F)
    cases["negative_zero"] = np.array([-0.0, 0.0, -0.0], F)
    return cases


# ---------------------------------------------------------------------------
# Part 2: the GEMM graphs.
# ---------------------------------------------------------------------------
K, N = 1152, 16


def gemm_weights():
    rng = np.random.default_rng(5)
    wq = rng.integers(-127, 128, size=(K, N)).astype(np.int8)
    wq[:, 0] = 127  # accumulators far above 2^24 with x at the top
    wq[:, 1] = -127
    ws = (rng.random(N) * 0.02 + 0.001).astype(F)
    bias = (rng.standard_normal(N) * 0.5).astype(F)
    return wq, ws, bias


def ort_graph_model(wq, ws, bias):
    """The graph ORT's quantize_dynamic writes for a per-channel MatMul."""
    nodes = [
        helper.make_node("DynamicQuantizeLinear", ["x"],
                         ["x_q", "x_scale", "x_zp"], name="dql"),
        helper.make_node("MatMulInteger", ["x_q", "w_q", "x_zp", "w_zp"],
                         ["acc"], name="mmi"),
        helper.make_node("Cast", ["acc"], ["acc_f"], to=TensorProto.FLOAT,
                         name="cast"),
        helper.make_node("Mul", ["x_scale", "w_scale"], ["s"], name="mul_s"),
        helper.make_node("Mul", ["acc_f", "s"], ["y0"], name="mul_y"),
        helper.make_node("Add", ["y0", "bias"], ["y"], name="add"),
    ]
    inits = [numpy_helper.from_array(wq, "w_q"),
             numpy_helper.from_array(np.zeros(N, np.int8), "w_zp"),
             numpy_helper.from_array(ws, "w_scale"),
             numpy_helper.from_array(bias, "bias")]
    return model(nodes, [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, ["M", K])], [helper.make_tensor_value_info(
            "y", TensorProto.FLOAT, ["M", N])], inits)


def dqmm_model(wq, ws, bias):
    nodes = [helper.make_node("DynamicQuantizeMatMul",
                              ["x", "w_q", "w_scale", "w_zp", "bias"], ["y"],
                              domain="com.microsoft", name="dqmm")]
    inits = [numpy_helper.from_array(wq, "w_q"),
             numpy_helper.from_array(np.zeros(N, np.int8), "w_zp"),
             numpy_helper.from_array(ws, "w_scale"),
             numpy_helper.from_array(bias, "bias")]
    return model(nodes, [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, ["M", K])], [helper.make_tensor_value_info(
            "y", TensorProto.FLOAT, ["M", N])], inits, ms=True)


def gemm_inputs():
    rng = np.random.default_rng(21)
    cases = {}
    cases["random"] = rng.standard_normal((4, K)).astype(F)
    top = np.full((2, K), 200.0, F)
    top[:, 0] = -55.0  # range 255: scale 1, zp 55; acc ~ 145*127*K > 2^24
    cases["acc_above_2^24"] = top
    cases["all_positive"] = (rng.random((3, K)) * 3 + 0.5).astype(F)
    cases["all_negative"] = (-rng.random((3, K)) * 3 - 0.5).astype(F)
    cases["all_zero"] = np.zeros((2, K), F)
    ties = np.round(rng.random((2, K)) * 255.0 - 2.5).astype(F) + F(0.5)
    ties[0, 0], ties[0, 1] = -2.5, 252.5
    cases["zp_and_x_ties"] = np.clip(ties, -2.5, 252.5).astype(F)
    cases["huge_1e30"] = (rng.standard_normal((2, K)) * 1e30).astype(F)
    cases["one_row"] = rng.standard_normal((1, K)).astype(F)
    return cases


def gemm_refs(x, wq, ws, bias):
    """Candidate float32 orders after the exact integer accumulator."""
    scale, zp = dql_params(x)
    xq = dql_quantize(x, scale, zp).astype(np.int64)
    acc = ((xq - zp) @ wq.astype(np.int64))
    assert np.all(np.abs(acc) < 2**31)
    accf = acc.astype(np.int32).astype(F)  # int32 -> f32, nearest even
    with np.errstate(all="ignore"):
        s = (F(scale) * ws).astype(F)  # a_scale * b_scale in f32
        mul_then_add = ((accf * s).astype(F) + bias).astype(F)
        # fma(acc_f, s, bias): exact product (48 bits) in f64, one rounding.
        fma = (accf.astype(np.float64) * s.astype(np.float64) +
               bias.astype(np.float64)).astype(F)
        seq = (((accf * F(scale)).astype(F) * ws).astype(F) + bias).astype(F)
    return {"(f32(acc) * (a_s*b_s)) + bias": mul_then_add,
            "fma(f32(acc), a_s*b_s, bias)": fma,
            "((f32(acc) * a_s) * b_s) + bias": seq}, int(np.abs(acc).max())


def same(a, b):
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape:
        return False
    if a.dtype.kind == "f":
        return np.array_equal(a.view(np.uint32), b.astype(F).view(np.uint32)) \
            or (np.array_equal(np.isnan(a), np.isnan(b)) and
                np.array_equal(a[~np.isnan(a)], b[~np.isnan(b)]))
    return np.array_equal(a, b)


def mismatches(a, b):
    a = np.asarray(a, F)
    b = np.asarray(b, F)
    both_nan = np.isnan(a) & np.isnan(b)
    return int(np.sum((a != b) & ~both_nan))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--npm-prefix", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--show", action="store_true")
    args = ap.parse_args()
    work = args.work
    os.makedirs(work, exist_ok=True)

    dql = model([helper.make_node("DynamicQuantizeLinear", ["x"],
                                  ["y", "y_scale", "y_zp"], name="dql")],
                [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n"])],
                [helper.make_tensor_value_info("y", TensorProto.UINT8, ["n"]),
                 helper.make_tensor_value_info("y_scale", TensorProto.FLOAT,
                                               []),
                 helper.make_tensor_value_info("y_zp", TensorProto.UINT8, [])],
                [])
    dql_path = os.path.join(work, "dql.onnx")
    onnx.save(dql, dql_path)
    wq, ws, bias = gemm_weights()
    graph_path = os.path.join(work, "graph.onnx")
    onnx.save(ort_graph_model(wq, ws, bias), graph_path)
    dqmm_path = os.path.join(work, "dqmm.onnx")
    onnx.save(dqmm_model(wq, ws, bias), dqmm_path)

    jobs = []
    cases = dql_cases()
    for name, x in cases.items():
        inp = save_npy(os.path.join(work, "dql_%s.npy" % name), x)
        jobs.append({"model": dql_path, "inputs": [inp],
                     "out": os.path.join(work, "out_dql_" + name)})
    gcases = gemm_inputs()
    for name, x in gcases.items():
        inp = save_npy(os.path.join(work, "gemm_%s.npy" % name), x)
        for tag, path, opt in (("graph_noopt", graph_path, "disabled"),
                               ("graph_opt", graph_path, "all"),
                               ("dqmm", dqmm_path, "all")):
            jobs.append({"model": path, "inputs": [inp], "opt": opt,
                         "out": os.path.join(work, "out_%s_%s" % (tag, name))})
    with open(os.path.join(work, "jobs.json"), "w") as f:
        json.dump(jobs, f)
    env = dict(os.environ,
               NODE_PATH=os.path.join(args.npm_prefix, "node_modules"))
    subprocess.run(["node", os.path.join(HERE, "ort_jobs_opt.js"),
                    os.path.join(work, "jobs.json")], check=True, env=env)

    def out(prefix, name, k=0):
        return np.load(os.path.join(work, "out_%s_%s" % (prefix, name),
                                    "output_%d.npy" % k))

    # Part 1.
    hyps = {
        "rule": dict(),
        "zero point rounded half away from zero": dict(zp_round=away),
        "x quantized as x * (1/scale)": dict(recip=True),
        "x/scale rounded half away from zero": dict(rnd=away),
        "degenerate range gives scale 0": dict(degenerate=F(0.0)),
    }
    bad = {h: [] for h in hyps}
    rows = []
    for name, x in cases.items():
        y, s, z = out("dql", name, 0), out("dql", name, 1), out("dql", name, 2)
        rows.append((name, x, y, s, z))
        for h, kw in hyps.items():
            scale, zp = dql_params(
                x, zp_round=kw.get("zp_round", rne),
                degenerate_scale=kw.get("degenerate", F(1.0)))
            yq = dql_quantize(x, scale, zp, recip=kw.get("recip", False),
                              rnd=kw.get("rnd", rne))
            ok = same(s.reshape(()), F(scale)) and int(z) == zp and \
                same(y, yq)
            if not ok:
                bad[h].append(name)
    print("DynamicQuantizeLinear: %d cases, onnxruntime-node" % len(cases))
    for h in hyps:
        print("  %-42s %2d mismatching cases%s" % (
            h + ":", len(bad[h]),
            (" (" + ", ".join(bad[h][:4]) + ")") if bad[h] else ""))
    if args.show:
        print("\n| input | min, max | ORT scale | ORT zero point |"
              " first ORT outputs |")
        print("| --- | --- | --- | --- | --- |")
        for name, x, y, s, z in rows:
            print("| %s | %.9g, %.9g | %.9g (0x%08x) | %d | %s |" % (
                name, np.min(x), np.max(x), float(s),
                int(np.asarray(s, F).view(np.uint32)), int(z),
                " ".join(str(int(v)) for v in y.ravel()[:6])))

    # Part 2.
    totals = {}
    max_acc = 0
    for name, x in gcases.items():
        refs, acc = gemm_refs(x, wq, ws, bias)
        max_acc = max(max_acc, acc)
        for tag in ("graph_noopt", "graph_opt", "dqmm"):
            got = out(tag, name)
            for h, ref in refs.items():
                totals.setdefault((tag, h), 0)
                totals[(tag, h)] += mismatches(got, ref)
    n = sum(x.shape[0] for x in gcases.values()) * N
    print("GEMM graphs: %d inputs, %d outputs each run, largest |accumulator| "
          "%d (%s 2^24)" % (len(gcases), n, max_acc,
                            "above" if max_acc > 2**24 else "NOT above"))
    labels = {"graph_noopt": "quantize_dynamic graph, ORT fusions off",
              "graph_opt": "quantize_dynamic graph, ORT fusions on",
              "dqmm": "com.microsoft DynamicQuantizeMatMul"}
    for tag in ("graph_noopt", "graph_opt", "dqmm"):
        print("  " + labels[tag] + ":")
        for h in ("(f32(acc) * (a_s*b_s)) + bias",
                  "fma(f32(acc), a_s*b_s, bias)",
                  "((f32(acc) * a_s) * b_s) + bias"):
            print("    %-34s %4d mismatches of %d" % (h, totals[(tag, h)], n))


if __name__ == "__main__":
    sys.exit(main())
