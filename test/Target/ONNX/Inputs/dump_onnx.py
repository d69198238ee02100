#!/usr/bin/env python3
#===- dump_onnx.py - an ONNX model as text for FileCheck -------------------===#
#
# Prints a model's opsets, graph inputs and outputs, initializers (name, data
# type, dims, and the values of small ones) and nodes in order
# (`Op name: in, ... -> out, ... {attr = value}`), so lit tests can check an
# exported model's structure. Reads the protobuf with python3-onnx; data
# types are printed by number where ONNX 1.12 has no name for them (INT4 is
# 22, UINT4 21).
#
#   dump_onnx.py MODEL.onnx
#
#===------------------------------------------------------------------------===#
import sys

import onnx
from onnx import helper

NAMES = {v: k for k, v in onnx.TensorProto.DataType.items()}
NAMES.update({21: "UINT4", 22: "INT4"})


def values(t):
    if t.data_type in (21, 22):  # packed int4: two per byte, low nibble first
        out = []
        for byte in t.raw_data:
            for nib in (byte & 0xF, byte >> 4):
                out.append(nib - 16 if t.data_type == 22 and nib > 7 else nib)
        n = 1
        for d in t.dims:
            n *= d
        return out[:n]
    from onnx import numpy_helper
    return numpy_helper.to_array(t).ravel().tolist()


def main():
    m = onnx.load(sys.argv[1])
    print("ir_version %d" % m.ir_version)
    for o in m.opset_import:
        print("opset %s %d" % (o.domain or "ai.onnx", o.version))
    g = m.graph
    for vi in g.input:
        print("input %s" % vi.name)
    for vi in g.output:
        print("output %s" % vi.name)
    for t in g.initializer:
        v = values(t)
        shown = " = %s" % v if len(v) <= 8 else ""
        print("initializer %s %s [%s]%s" % (
            t.name, NAMES.get(t.data_type, str(t.data_type)),
            ",".join(map(str, t.dims)), shown))
    for n in g.node:
        attrs = ", ".join("%s = %s" % (a.name, helper.get_attribute_value(a))
                          for a in n.attribute)
        print("node %s %s: %s -> %s%s" % (
            n.op_type, n.name, ", ".join(n.input), ", ".join(n.output),
            " {%s}" % attrs if attrs else ""))


if __name__ == "__main__":
    main()
