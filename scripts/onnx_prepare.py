#===- onnx_prepare.py - published ONNX models made ready for qopt's export -===#
#
# qopt's QDQ export needs opset 13 (per-axis DequantizeLinear), and published
# models are often older (PaddleOCR's classifier and recognizer are at 9).
# onnx.version_converter raises the opset, but several of its adapters need
# every tensor's rank or shape (Softmax 12 -> 13, Squeeze, Clip 10 -> 11),
# and ONNX's shape inference cannot follow these models' Shape -> Slice ->
# Concat -> Reshape chains. So the shapes come from one ONNX Runtime run of
# a copy of the model that outputs every node output (a "probe"); they fill
# the model's value_info, then the converter runs. Used by benchmarks/models
# and by the QDQ export test (test/Target/ONNX/Inputs/qdq_export.py), which
# also share run_ort_jobs: many ONNX Runtime runs in one node process
# (scripts/ort-jobs.js).
#
#   import onnx_prepare  # with scripts/ on sys.path
#   m = onnx_prepare.convert(model, {"x": [1, 3, 48, 192]}, 13, work_dir,
#                            npm_prefix)
#   outs = onnx_prepare.run_ort_jobs([(model_path, [x.npy], out_dir)], ...)
#
# Needs python3-onnx, python3-numpy, node and onnxruntime-node (found through
# NODE_PATH = NPM_PREFIX/node_modules, as scripts/setup.sh installs it).
#
#===------------------------------------------------------------------------===#
import json
import os
import subprocess

import numpy as np
import onnx
from onnx import helper, mapping, version_converter

HERE = os.path.dirname(os.path.abspath(__file__))


class ConversionError(Exception):
    pass


def set_input_shapes(model, shapes):
    """Fixes the dims of the graph inputs named in `shapes` (a dynamic batch
    or image size becomes static), in place."""
    for inp in model.graph.input:
        if inp.name not in shapes:
            continue
        dims = inp.type.tensor_type.shape.dim
        if len(dims) != len(shapes[inp.name]):
            raise ConversionError(
                "input '%s' has rank %d, the shape given has rank %d" %
                (inp.name, len(dims), len(shapes[inp.name])))
        for d, size in zip(dims, shapes[inp.name]):
            d.Clear()
            d.dim_value = int(size)


class OrtError(Exception):
    pass


def run_ort_jobs(jobs, work, npm_prefix, tag="jobs"):
    """Runs [(model.onnx, [in.npy, ...], out_dir)] in one node process
    (scripts/ort-jobs.js, single thread) and returns each job's outputs, in
    graph output order."""
    os.makedirs(work, exist_ok=True)
    path = os.path.join(work, "ort-%s.json" % tag)
    with open(path, "w") as f:
        json.dump([{"model": m, "inputs": list(i), "out": o}
                   for m, i, o in jobs], f)
    env = dict(os.environ,
               NODE_PATH=os.path.join(npm_prefix, "node_modules"))
    proc = subprocess.run(["node", os.path.join(HERE, "ort-jobs.js"), path],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise OrtError("ONNX Runtime failed: %s" %
                       proc.stderr.strip()[-400:])
    results = []
    for _, _, out_dir in jobs:
        outs, k = [], 0
        while os.path.exists(os.path.join(out_dir, "output_%d.npy" % k)):
            outs.append(np.load(os.path.join(out_dir, "output_%d.npy" % k)))
            k += 1
        results.append(outs)
    return results


def probe_shapes(model, shapes, work, npm_prefix, sample=None):
    """Sets the value_info of every non-constant node output of `model`
    (in place) from one ONNX Runtime run, on `sample` (a list of arrays, one
    per graph input) or on zeros of the given `shapes`. Returns the names of
    the float tensors."""
    consts = {o for n in model.graph.node if n.op_type == "Constant"
              for o in n.output}
    outputs = {o.name for o in model.graph.output}
    names = [o for n in model.graph.node for o in n.output
             if o and o not in consts and o not in outputs]
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    for name in names:
        probe.graph.output.append(onnx.ValueInfoProto(name=name))
    os.makedirs(work, exist_ok=True)
    probe_path = os.path.join(work, "shape-probe.onnx")
    onnx.save(probe, probe_path)
    inits = {i.name for i in model.graph.initializer}
    feeds = [i for i in model.graph.input if i.name not in inits]
    files = []
    for k, inp in enumerate(feeds):
        if sample is not None:
            x = np.asarray(sample[k])
        else:
            if inp.name not in shapes:
                raise ConversionError("no shape given for input '%s'" %
                                      inp.name)
            x = np.zeros(shapes[inp.name], mapping.TENSOR_TYPE_TO_NP_TYPE[
                inp.type.tensor_type.elem_type])
        files.append(os.path.join(work, "shape-probe-in%d.npy" % k))
        np.save(files[-1], x)
    out_dir = os.path.join(work, "shape-probe-out")
    try:
        outs = run_ort_jobs([(probe_path, files, out_dir)], work, npm_prefix,
                            "shape-probe")[0]
    except OrtError as e:
        raise ConversionError("the shape probe failed: %s" % e)
    every = [o.name for o in model.graph.output] + names
    if len(outs) != len(every):
        raise ConversionError("the shape probe returned %d outputs, expected "
                              "%d" % (len(outs), len(every)))
    known = {vi.name for vi in model.graph.value_info}
    got = dict(zip(every, outs))
    floats = []
    for name, v in got.items():
        if name not in outputs and name not in known:
            model.graph.value_info.append(helper.make_tensor_value_info(
                name, mapping.NP_TYPE_TO_TENSOR_TYPE[v.dtype], list(v.shape)))
        if v.dtype == np.float32:
            floats.append(name)
    for o in model.graph.output:  # dynamic output dims made static
        dims = o.type.tensor_type.shape.dim
        if len(dims) == got[o.name].ndim:
            for d, size in zip(dims, got[o.name].shape):
                d.Clear()
                d.dim_value = int(size)
    return floats


def convert(model, shapes, opset, work, npm_prefix, sample=None):
    """`model` (not modified) with its inputs fixed to `shapes`, every tensor
    typed from ONNX Runtime and the default domain raised to `opset` by
    onnx.version_converter. A model already at `opset` or above comes back
    with its shapes fixed only."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    set_input_shapes(m, shapes)
    version = next((o.version for o in m.opset_import
                    if o.domain in ("", "ai.onnx")), None)
    if version is None or version >= opset:
        return m
    probe_shapes(m, shapes, work, npm_prefix, sample)
    try:
        return version_converter.convert_version(m, opset)
    except Exception as e:  # the converter raises RuntimeError / others
        raise ConversionError("onnx.version_converter could not raise opset "
                              "%d to %d: %s" % (version, opset,
                                                str(e).splitlines()[0]))
