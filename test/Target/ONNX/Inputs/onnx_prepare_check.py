#!/usr/bin/env python3
#===- onnx_prepare_check.py - scripts/onnx_prepare.py on an opset-9 model --===#
#
# Builds a small opset-9 model with what stops onnx.version_converter on the
# published PaddleOCR models: a Reshape whose shape comes from Shape ->
# Slice -> Concat (ONNX's shape inference cannot follow it, so the ranks
# after it are unknown), a Softmax after it (its 12 -> 13 adapter needs the
# rank) and Clip with min/max attributes (inputs from opset 11). Then:
#
# - onnx_prepare.convert raises it to opset 13 and ONNX Runtime gives the
#   converted model the original's outputs on a random input (max abs
#   difference printed, must be 0 up to 1e-6 relative);
# - an input shape of the wrong rank is a ConversionError naming the input.
#
#   onnx_prepare_check.py --npm-prefix BUILD/npm --work DIR
#
#===------------------------------------------------------------------------===#
import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper, version_converter

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "scripts"))
import onnx_prepare  # noqa: E402


def model():
    rng = np.random.default_rng(7)
    w = numpy_helper.from_array(
        rng.standard_normal((8, 4, 3, 3)).astype(np.float32), "w")
    tail = numpy_helper.from_array(np.array([-1], np.int64), "tail")
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Clip", ["c"], ["r6"], min=0.0, max=6.0),
        helper.make_node("Shape", ["r6"], ["s"]),
        helper.make_node("Slice", ["s"], ["s2"], starts=[0], ends=[2],
                         axes=[0]),
        helper.make_node("Concat", ["s2", "tail"], ["shape"], axis=0),
        helper.make_node("Reshape", ["r6", "shape"], ["flat"]),
        helper.make_node("Softmax", ["flat"], ["y"], axis=2),
    ]
    g = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                       ["N", 4, 6, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [w, tail])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 9)])
    m.ir_version = 7
    return m


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--npm-prefix", required=True)
    p.add_argument("--work", required=True)
    a = p.parse_args()
    os.makedirs(a.work, exist_ok=True)
    m = model()
    src = os.path.join(a.work, "opset9.onnx")
    onnx.save(m, src)
    try:
        version_converter.convert_version(m, 13)
        print("plain version_converter: converted")
    except Exception as e:  # the converter's own error, for information
        print("plain version_converter: failed (%s)" %
              str(e).splitlines()[0][:80])

    conv = onnx_prepare.convert(m, {"x": [1, 4, 6, 6]}, 13,
                                os.path.join(a.work, "probe"), a.npm_prefix)
    dst = os.path.join(a.work, "opset13.onnx")
    onnx.save(conv, dst)
    version = next(o.version for o in conv.opset_import if o.domain == "")
    clip = next(n for n in conv.graph.node if n.op_type == "Clip")
    print("converted: opset %d, Clip inputs %d, Clip attributes %d" % (
        version, len(clip.input), len(clip.attribute)))
    x = os.path.join(a.work, "x.npy")
    np.save(x, np.random.default_rng(1).standard_normal(
        (1, 4, 6, 6)).astype(np.float32) * 2)
    ref, got = onnx_prepare.run_ort_jobs(
        [(src, [x], os.path.join(a.work, "ort-src")),
         (dst, [x], os.path.join(a.work, "ort-dst"))], a.work, a.npm_prefix)
    ref, got = ref[0], got[0]
    diff = float(np.max(np.abs(ref - got)))
    ok = ref.shape == got.shape == (1, 8, 36) and \
        diff <= 1e-6 * float(np.max(np.abs(ref)))
    print("ORT: original %s, converted %s, max abs difference %g: %s" % (
        "x".join(map(str, ref.shape)), "x".join(map(str, got.shape)), diff,
        "PASS" if ok else "FAIL"))

    try:
        onnx_prepare.convert(m, {"x": [1, 4, 6]}, 13,
                             os.path.join(a.work, "bad"), a.npm_prefix)
        print("wrong rank: no error: FAIL")
        ok = False
    except onnx_prepare.ConversionError as e:
        print("wrong rank: error: %s" % e)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
