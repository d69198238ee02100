#!/usr/bin/env python3
#===- make_model.py - small ONNX models for qopt's importer tests ----------===#
#
# Builds one named model with python3-onnx (Debian's onnx 1.12) and writes it
# to the given path: `make_model.py NAME OUT.onnx`. With `--data DIR`, also
# writes DIR/test_data_set_0/input_*.pb (seeded random inputs), and with
# `--npy DIR` the same inputs as DIR/input_*.npy, so qopt-run and ONNX Runtime
# can run the model on the same data. Expected outputs never
# come from here: they come from ONNX Runtime or ONNX's own test data.
#
#===------------------------------------------------------------------------===#
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(7)


def init(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def randf(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def model(nodes, inputs, outputs, inits, opset=13, name="g"):
    g = helper.make_graph(nodes, name, inputs, outputs, inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="qopt-tests")
    m.ir_version = 8
    return m


def vi(name, shape, t=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, t, shape)


def cnn_block():
    """Conv + BatchNorm + HardSwish + residual Add (a MobileNetV3 block)."""
    c = 8
    nodes = [
        helper.make_node("Conv", ["input", "conv1.weight", "conv1.bias"],
                         ["conv1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization",
                         ["conv1", "bn1.scale", "bn1.bias", "bn1.mean",
                          "bn1.var"], ["bn1"], name="bn1", epsilon=1e-3),
        helper.make_node("HardSwish", ["bn1"], ["hswish1"], name="hswish1"),
        helper.make_node("Conv", ["hswish1", "conv2.weight"], ["conv2"],
                         name="conv2", group=c, pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["conv2", "input"], ["add1"], name="add1"),
        helper.make_node("GlobalAveragePool", ["add1"], ["pool"], name="pool"),
        helper.make_node("Flatten", ["pool"], ["flat"], name="flat"),
        helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["logits"],
                         name="fc", transB=1),
    ]
    inits = [
        init("conv1.weight", randf(c, c, 3, 3, scale=0.2)),
        init("conv1.bias", randf(c, scale=0.1)),
        init("bn1.scale", (1 + 0.1 * randf(c)).astype(np.float32)),
        init("bn1.bias", randf(c, scale=0.1)),
        init("bn1.mean", randf(c, scale=0.1)),
        init("bn1.var", (0.5 + rng.random(c)).astype(np.float32)),
        init("conv2.weight", randf(c, 1, 3, 3, scale=0.3)),
        init("fc.weight", randf(10, c, scale=0.3)),
        init("fc.bias", randf(10, scale=0.1)),
    ]
    return model(nodes, [vi("input", ["batch", c, 16, 16])],
                 [vi("logits", ["batch", 10])], inits, opset=14,
                 name="cnn_block"), {"input": (1, c, 16, 16)}


def attention():
    """LayerNorm + Q/K/V MatMuls + scaled Softmax attention."""
    s, d = 16, 32
    nodes = [
        helper.make_node("LayerNormalization", ["x", "ln.scale", "ln.bias"],
                         ["ln"], name="ln", axis=-1, epsilon=1e-5),
        helper.make_node("MatMul", ["ln", "wq"], ["q"], name="q"),
        helper.make_node("MatMul", ["ln", "wk"], ["k"], name="k"),
        helper.make_node("MatMul", ["ln", "wv"], ["v"], name="v"),
        helper.make_node("Transpose", ["k"], ["kt"], name="kt", perm=[0, 2, 1]),
        helper.make_node("MatMul", ["q", "kt"], ["scores"], name="scores"),
        helper.make_node("Mul", ["scores", "scale"], ["scaled"], name="scaled"),
        helper.make_node("Softmax", ["scaled"], ["probs"], name="probs",
                         axis=-1),
        helper.make_node("MatMul", ["probs", "v"], ["ctx"], name="ctx"),
        helper.make_node("Add", ["ctx", "x"], ["out"], name="out"),
    ]
    inits = [init("ln.scale", (1 + 0.1 * randf(d)).astype(np.float32)),
             init("ln.bias", randf(d, scale=0.1)),
             init("wq", randf(d, d, scale=0.2)),
             init("wk", randf(d, d, scale=0.2)),
             init("wv", randf(d, d, scale=0.2)),
             init("scale", np.array(1 / np.sqrt(d), np.float32))]
    return model(nodes, [vi("x", [1, s, d])], [vi("out", [1, s, d])], inits,
                 opset=17, name="attention"), {"x": (1, s, d)}


def det_head():
    """A DB-style detector head: ConvTranspose up-sampling, Resize, Sigmoid."""
    c = 4
    nodes = [
        helper.make_node("Conv", ["feat", "c1.w", "c1.b"], ["c1"], name="c1",
                         pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="r1"),
        helper.make_node("ConvTranspose", ["r1", "up.w", "up.b"], ["up"],
                         name="up", strides=[2, 2]),
        helper.make_node("Resize", ["up", "", "scales"], ["rs"], name="rs",
                         mode="linear",
                         coordinate_transformation_mode="half_pixel"),
        helper.make_node("Resize", ["feat", "", "scales4"], ["nn"], name="nn",
                         mode="nearest",
                         coordinate_transformation_mode="asymmetric",
                         nearest_mode="floor"),
        helper.make_node("Conv", ["nn", "c2.w"], ["c2"], name="c2"),
        helper.make_node("Add", ["rs", "c2"], ["sum"], name="sum"),
        helper.make_node("Sigmoid", ["sum"], ["prob"], name="prob"),
    ]
    inits = [init("c1.w", randf(c, c, 3, 3, scale=0.3)),
             init("c1.b", randf(c, scale=0.1)),
             init("up.w", randf(c, 2, 2, 2, scale=0.3)),
             init("up.b", randf(2, scale=0.1)),
             init("scales", np.array([1, 1, 2, 2], np.float32)),
             init("scales4", np.array([1, 1, 4, 4], np.float32)),
             init("c2.w", randf(2, c, 1, 1, scale=0.3))]
    return model(nodes, [vi("feat", [1, c, 8, 8])], [vi("prob", [1, 2, 32, 32])],
                 inits, opset=13, name="det_head"), {"feat": (1, c, 8, 8)}


def qdq():
    """A QDQ model as ONNX Runtime's quantizer writes it: u8 activations,
    per-channel s8 weights, i32 bias, and a u8 output."""
    c, o = 4, 6
    w = randf(o, c, 3, 3, scale=0.3)
    wscale = (np.abs(w).reshape(o, -1).max(1) / 127).astype(np.float32)
    wq = np.clip(np.round(w / wscale[:, None, None, None]), -127, 127)
    b = randf(o, scale=0.1)
    xs, ys = np.float32(0.02), np.float32(0.05)
    bscale = (xs * wscale).astype(np.float32)
    bq = np.round(b / bscale).astype(np.int32)
    nodes = [
        helper.make_node("QuantizeLinear", ["input", "x.scale", "x.zp"],
                         ["input_q"], name="input_q"),
        helper.make_node("DequantizeLinear", ["input_q", "x.scale", "x.zp"],
                         ["input_dq"], name="input_dq"),
        helper.make_node("DequantizeLinear", ["w_q", "w.scale", "w.zp"],
                         ["w_dq"], name="w_dq", axis=0),
        helper.make_node("DequantizeLinear", ["b_q", "b.scale"], ["b_dq"],
                         name="b_dq", axis=0),
        helper.make_node("Conv", ["input_dq", "w_dq", "b_dq"], ["conv"],
                         name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["conv"], ["relu"], name="relu"),
        helper.make_node("QuantizeLinear", ["relu", "y.scale", "y.zp"],
                         ["output"], name="output_q"),
    ]
    inits = [init("x.scale", xs), init("x.zp", np.uint8(128)),
             init("w_q", wq.astype(np.int8)), init("w.scale", wscale),
             init("w.zp", np.zeros(o, np.int8)),
             init("b_q", bq), init("b.scale", bscale),
             init("y.scale", ys), init("y.zp", np.uint8(0))]
    return model(nodes, [vi("input", [1, c, 8, 8])],
                 [vi("output", [1, o, 8, 8], TensorProto.UINT8)], inits,
                 opset=13, name="qdq_conv"), {"input": (1, c, 8, 8)}


def bn_fold():
    """What qopt-fold-batchnorm folds: Conv (no bias) + BatchNormalization,
    Conv (bias) + Mul and Add by per-channel constants, MatMul +
    BatchNormalization on [N, C]."""
    c = 6
    nodes = [
        helper.make_node("Conv", ["x", "c1.w"], ["c1"], name="c1",
                         pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization",
                         ["c1", "bn1.s", "bn1.b", "bn1.m", "bn1.v"], ["bn1"],
                         name="bn1", epsilon=1e-5),
        helper.make_node("Relu", ["bn1"], ["r1"], name="r1"),
        helper.make_node("Conv", ["r1", "c2.w", "c2.b"], ["c2"], name="c2"),
        helper.make_node("Mul", ["c2", "k"], ["scaled"], name="scaled"),
        helper.make_node("Add", ["scaled", "shift"], ["shifted"],
                         name="shifted"),
        helper.make_node("GlobalAveragePool", ["shifted"], ["pool"],
                         name="pool"),
        helper.make_node("Flatten", ["pool"], ["flat"], name="flat"),
        helper.make_node("MatMul", ["flat", "fc.w"], ["fc"], name="fc"),
        helper.make_node("BatchNormalization",
                         ["fc", "bn2.s", "bn2.b", "bn2.m", "bn2.v"],
                         ["logits"], name="bn2", epsilon=1e-3),
    ]
    inits = [
        init("c1.w", randf(c, 3, 3, 3, scale=0.3)),
        init("bn1.s", (1 + 0.2 * randf(c)).astype(np.float32)),
        init("bn1.b", randf(c, scale=0.1)),
        init("bn1.m", randf(c, scale=0.1)),
        init("bn1.v", (0.5 + rng.random(c)).astype(np.float32)),
        init("c2.w", randf(c, c, 1, 1, scale=0.3)),
        init("c2.b", randf(c, scale=0.1)),
        init("k", (1 + 0.3 * randf(1, c, 1, 1)).astype(np.float32)),
        init("shift", randf(c, 1, 1, scale=0.2)),
        init("fc.w", randf(c, 5, scale=0.4)),
        init("bn2.s", (1 + 0.2 * randf(5)).astype(np.float32)),
        init("bn2.b", randf(5, scale=0.1)),
        init("bn2.m", randf(5, scale=0.1)),
        init("bn2.v", (0.5 + rng.random(5)).astype(np.float32)),
    ]
    return model(nodes, [vi("x", [1, 3, 8, 8])], [vi("logits", [1, 5])],
                 inits, opset=13, name="bn_fold"), {"x": (1, 3, 8, 8)}


def convt_bn():
    """BatchNormalization after ConvTranspose, as in DB-style detector heads:
    a strided, padded ConvTranspose with bias, and a grouped one without."""
    c = 4
    nodes = [
        helper.make_node("ConvTranspose", ["x", "up1.w", "up1.b"], ["up1"],
                         name="up1", strides=[2, 2], pads=[1, 1, 1, 1],
                         output_padding=[1, 1]),
        helper.make_node("BatchNormalization",
                         ["up1", "bn1.s", "bn1.b", "bn1.m", "bn1.v"], ["bn1"],
                         name="bn1", epsilon=1e-5),
        helper.make_node("Relu", ["bn1"], ["r1"], name="r1"),
        helper.make_node("ConvTranspose", ["r1", "up2.w"], ["up2"],
                         name="up2", strides=[2, 2], group=3),
        helper.make_node("BatchNormalization",
                         ["up2", "bn2.s", "bn2.b", "bn2.m", "bn2.v"],
                         ["out"], name="bn2", epsilon=1e-3),
    ]
    inits = [
        init("up1.w", randf(c, 3, 3, 3, scale=0.3)),
        init("up1.b", randf(3, scale=0.1)),
        init("bn1.s", (1 + 0.2 * randf(3)).astype(np.float32)),
        init("bn1.b", randf(3, scale=0.1)),
        init("bn1.m", randf(3, scale=0.1)),
        init("bn1.v", (0.5 + rng.random(3)).astype(np.float32)),
        init("up2.w", randf(3, 2, 2, 2, scale=0.3)),
        init("bn2.s", (1 + 0.2 * randf(6)).astype(np.float32)),
        init("bn2.b", randf(6, scale=0.1)),
        init("bn2.m", randf(6, scale=0.1)),
        init("bn2.v", (0.5 + rng.random(6)).astype(np.float32)),
    ]
    return model(nodes, [vi("x", [1, c, 5, 5])], [vi("out", [1, 6, 20, 20])],
                 inits, opset=13, name="convt_bn"), {"x": (1, c, 5, 5)}


def convt2_bn():
    """BatchNormalization after a ConvTranspose whose kernel equals its
    strides (the PaddleOCR detector head's up-sampling), which the importer
    writes as one contraction over the input channels, collapsed."""
    c = 4
    nodes = [
        helper.make_node("ConvTranspose", ["x", "up.w", "up.b"], ["up"],
                         name="up", strides=[2, 2]),
        helper.make_node("BatchNormalization",
                         ["up", "bn.s", "bn.b", "bn.m", "bn.v"], ["out"],
                         name="bn", epsilon=1e-5),
    ]
    inits = [
        init("up.w", randf(c, 3, 2, 2, scale=0.3)),
        init("up.b", randf(3, scale=0.1)),
        init("bn.s", (1 + 0.2 * randf(3)).astype(np.float32)),
        init("bn.b", randf(3, scale=0.1)),
        init("bn.m", randf(3, scale=0.1)),
        init("bn.v", (0.5 + rng.random(3)).astype(np.float32)),
    ]
    return model(nodes, [vi("x", [1, c, 5, 6])], [vi("out", [1, 3, 10, 12])],
                 inits, opset=13, name="convt2_bn"), {"x": (1, c, 5, 6)}


def shape_subgraph():
    """An exporter's dynamic reshape: Shape -> Gather -> Unsqueeze -> Concat
    -> Reshape, all folded at import."""
    nodes = [
        helper.make_node("Shape", ["x"], ["shape"], name="shape"),
        helper.make_node("Gather", ["shape", "zero"], ["n"], name="n", axis=0),
        helper.make_node("Unsqueeze", ["n", "axes0"], ["n1"], name="n1"),
        helper.make_node("Concat", ["n1", "minus1"], ["newshape"],
                         name="newshape", axis=0),
        helper.make_node("Reshape", ["x", "newshape"], ["flat"], name="flat"),
        helper.make_node("Relu", ["flat"], ["y"], name="y"),
    ]
    inits = [init("zero", np.array(0, np.int64)),
             init("axes0", np.array([0], np.int64)),
             init("minus1", np.array([-1], np.int64))]
    return model(nodes, [vi("x", ["N", 3, 4])], [vi("y", ["N", 12])], inits,
                 opset=13, name="shape_subgraph"), {"x": (2, 3, 4)}


def large_init():
    """A 4 KiB initializer, which becomes a dense_resource blob."""
    nodes = [helper.make_node("MatMul", ["x", "w"], ["y"], name="y")]
    return model(nodes, [vi("x", [1, 32])], [vi("y", [1, 32])],
                 [init("w", randf(32, 32))], name="large_init"), {
                     "x": (1, 32)}


# Models with one defect each, for the error tests.
def _qdq_small(w):
    """MatMul + Add bias -> Relu -> MatMul, with weights whose quantization
    is computed by hand in test/Target/ONNX/export-qdq.test."""
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["m"], name="mm1"),
        helper.make_node("Add", ["m", "b"], ["h"], name="bias1"),
        helper.make_node("Relu", ["h"], ["r"], name="relu1"),
        helper.make_node("MatMul", ["r", "w2"], ["y"], name="mm2"),
    ]
    inits = [init("w", np.array(w, np.float32)),
             init("b", np.array([0.11, -0.2], np.float32)),
             init("w2", np.array([[0.5, -0.25, 1.1], [2.0, 0.75, -1.5]],
                                 np.float32))]
    return model(nodes, [vi("x", [1, 2])], [vi("y", [1, 3])], inits,
                 name="qdq_small"), {"x": (1, 2)}


def qdq_small():
    return _qdq_small([[0.5, -1.2], [0.3, 2.0]])


def qdq_tiny_channel():
    """qdq_small whose 'w' has an all but zero output channel (column 1, as a
    convolution after a folded batch norm with gamma about 0): its weight
    scale times the input scale is far too small for the int32 bias
    (test/Target/ONNX/export-qdq-tiny-scale.test)."""
    return _qdq_small([[0.5, 1e-30], [0.3, -2e-30]])


def qdq_small_other():
    """qdq_small's graph with other weight values in 'w'."""
    return _qdq_small([[0.5, -1.2], [0.3, 1.0]])


def qdq_small_const():
    """qdq_small with 'w' stored as a Constant node, as paddle2onnx does."""
    m, shapes = qdq_small()
    w = next(t for t in m.graph.initializer if t.name == "w")
    const = helper.make_node("Constant", [], ["w"], name="w_const", value=w)
    m.graph.initializer.remove(w)
    m.graph.node.insert(0, const)
    return m, shapes


def qdq_reduce():
    """A MatMul whose output a ReduceMean of opset 13 (axes attribute) reads:
    int4 weights need opset 21, where ReduceMean takes axes as an input."""
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["m"], name="mm1"),
        helper.make_node("ReduceMean", ["m"], ["y"], name="mean", axes=[1]),
    ]
    return model(nodes, [vi("x", [1, 2])], [vi("y", [1, 1])],
                 [init("w", np.array([[0.5, -1.2], [0.3, 2.0]], np.float32))],
                 name="qdq_small"), {"x": (1, 2)}


def bad_unknown_op():
    return model([helper.make_node("FancyOp", ["x"], ["y"], name="fancy1")],
                 [vi("x", [2])], [vi("y", [2])], [], name="bad"), {}


def bad_opset():
    return model([helper.make_node("Relu", ["x"], ["y"], name="relu1")],
                 [vi("x", [2])], [vi("y", [2])], [], opset=18,
                 name="bad"), {}


def bad_attribute():
    return model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv7",
                                   group=0)],
                 [vi("x", [1, 1, 4, 4])], [vi("y", [1, 1, 2, 2])],
                 [init("w", randf(1, 1, 3, 3))], name="bad"), {}


def bad_axis():
    return model([helper.make_node("Softmax", ["x"], ["y"], name="sm",
                                   axis=5)],
                 [vi("x", [2, 3])], [vi("y", [2, 3])], [], name="bad"), {}


def bad_missing_init():
    # The checker would reject the dangling name; qopt's check names the node.
    return model([helper.make_node("Add", ["x", "bias"], ["y"], name="add3")],
                 [vi("x", [2])], [vi("y", [2])], [], name="bad"), {}


def bad_dynamic():
    return model([helper.make_node("Relu", ["x"], ["y"], name="relu1")],
                 [vi("x", ["batch", 3])], [vi("y", ["batch", 3])], [],
                 name="bad"), {}


def bad_qdq_scale():
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["y"],
                              name="q1")]
    return model(nodes, [vi("x", [4]), vi("s", [])],
                 [vi("y", [4], TensorProto.UINT8)],
                 [init("z", np.uint8(0))], name="bad"), {}


def bad_zero_point():
    nodes = [helper.make_node("DequantizeLinear", ["x", "s", "z"], ["y"],
                              name="dq1")]
    return model(nodes, [vi("x", [4], TensorProto.INT8)], [vi("y", [4])],
                 [init("s", np.float32(0.0)), init("z", np.int8(0))],
                 name="bad"), {}


def bad_reshape_overflow():
    # Found by qopt-onnx-import-fuzzer: the shape's product overflowed int64.
    nodes = [helper.make_node("Reshape", ["x", "shape"], ["y"], name="rs")]
    return model(nodes, [vi("x", [2, 3])], [vi("y", [6])],
                 [init("shape", np.array([2**44 + 1, 2**62], np.int64))],
                 name="bad"), {}


MODELS = {f.__name__: f for f in [
    cnn_block, attention, det_head, qdq, bn_fold, convt_bn, convt2_bn,
    shape_subgraph,
    large_init,
    qdq_small, qdq_small_other, qdq_small_const, qdq_reduce, qdq_tiny_channel,
    bad_unknown_op, bad_opset, bad_attribute, bad_axis, bad_missing_init,
    bad_dynamic, bad_qdq_scale, bad_zero_point, bad_reshape_overflow]}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("name", choices=sorted(MODELS))
    p.add_argument("out")
    p.add_argument("--data", help="write test_data_set_0 inputs here")
    p.add_argument("--npy", help="write the inputs as input_K.npy here")
    p.add_argument("--input-seed", type=int,
                   help="draw the inputs from this seed (the model is the same)")
    a = p.parse_args()
    m, shapes = MODELS[a.name]()
    with open(a.out, "wb") as f:
        f.write(m.SerializeToString())
    data_rng = rng if a.input_seed is None else np.random.default_rng(
        a.input_seed)
    arrays = [(name, data_rng.standard_normal(shape).astype(np.float32))
              for name, shape in shapes.items()]
    if a.data:
        d = os.path.join(a.data, "test_data_set_0")
        os.makedirs(d, exist_ok=True)
        for i, (name, arr) in enumerate(arrays):
            t = numpy_helper.from_array(arr, name)
            with open(os.path.join(d, "input_%d.pb" % i), "wb") as f:
                f.write(t.SerializeToString())
    if a.npy:
        os.makedirs(a.npy, exist_ok=True)
        for i, (_, arr) in enumerate(arrays):
            np.save(os.path.join(a.npy, "input_%d.npy" % i), arr)


if __name__ == "__main__":
    main()
