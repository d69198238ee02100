#!/usr/bin/env python3
#===- dynamic_bad_models.py - invalid dynamic-quantization ONNX models ----===#
#
# Writes the models of import-dynamic-ort.test's error checks into OUTDIR:
# DynamicQuantizeMatMul with a float B, a bias of the wrong shape, a B scale
# of the wrong size; MatMulInteger whose run-time A zero point is a vector;
# an operator of an unknown domain; an unknown com.microsoft operator.
#
#===------------------------------------------------------------------------===#
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def save(name, nodes, inputs, outputs, inits, ms=False, extra=None):
    g = helper.make_graph(nodes, name, inputs, outputs, inits)
    ops = [helper.make_opsetid("", 13)]
    if ms:
        ops.append(helper.make_opsetid("com.microsoft", 1))
    if extra:
        ops.append(helper.make_opsetid(extra, 1))
    m = helper.make_model(g, opset_imports=ops)
    m.ir_version = 8
    onnx.save(m, os.path.join(out, name + ".onnx"))


x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])
wq = numpy_helper.from_array(np.ones((3, 4), np.int8), "wq")
wf = numpy_helper.from_array(np.ones((3, 4), np.float32), "wq")
ws = numpy_helper.from_array(np.full(4, 0.1, np.float32), "ws")
ws3 = numpy_helper.from_array(np.full(3, 0.1, np.float32), "ws")
b = numpy_helper.from_array(np.zeros(4, np.float32), "b")
b5 = numpy_helper.from_array(np.zeros(5, np.float32), "b")


def dqmm(inputs=("x", "wq", "ws", "", "b")):
    return helper.make_node("DynamicQuantizeMatMul", list(inputs), ["y"],
                            domain="com.microsoft", name="dqmm")


save("dqmm_float_b", [dqmm()], [x], [y], [wf, ws, b], ms=True)
save("dqmm_bias", [dqmm()], [x], [y], [wq, ws, b5], ms=True)
save("dqmm_scale", [dqmm()], [x], [y], [wq, ws3, b], ms=True)
xq = helper.make_tensor_value_info("xq", TensorProto.UINT8, [2, 3])
zp = helper.make_tensor_value_info("zp", TensorProto.UINT8, [2])
acc = helper.make_tensor_value_info("acc", TensorProto.INT32, [2, 4])
save("mmi_zp_vector",
     [helper.make_node("MatMulInteger", ["xq", "wq", "zp"], ["acc"],
                       name="mmi")], [xq, zp], [acc], [wq])
save("other_domain",
     [helper.make_node("Foo", ["x"], ["y"], domain="com.example", name="x")],
     [x], [y], [], extra="com.example")
save("ms_unknown",
     [helper.make_node("Gelu", ["x"], ["y"], domain="com.microsoft",
                       name="g")], [x], [y], [], ms=True)
