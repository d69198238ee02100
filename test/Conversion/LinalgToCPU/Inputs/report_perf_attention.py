"""Writes a small attention-like ONNX model for report-perf-onnx.test:
MatMul (16x8 by 8x64, "scores") -> Softmax over 64 ("attn_probs") ->
MatMul (16x64 by 64x8, "context"), and a qopt calibration file naming its
tensors. Usage: report_perf_attention.py OUTDIR"""
import onnx, numpy as np, json, sys
from onnx import helper, TensorProto, numpy_helper
out = sys.argv[1]
rng = np.random.default_rng(0)
w1 = numpy_helper.from_array(rng.uniform(-0.5, 0.5, (8, 64)).astype(np.float32), "w_scores")
w2 = numpy_helper.from_array(rng.uniform(-0.5, 0.5, (64, 8)).astype(np.float32), "w_context")
nodes = [helper.make_node("MatMul", ["x", "w_scores"], ["scores"]),
         helper.make_node("Softmax", ["scores"], ["attn_probs"], axis=-1),
         helper.make_node("MatMul", ["attn_probs", "w_context"], ["context"])]
g = helper.make_graph(nodes, "attn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [16, 8])],
                      [helper.make_tensor_value_info("context", TensorProto.FLOAT, [16, 8])], [w1, w2])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
m.ir_version = 8
onnx.save(m, out + "/attn.onnx")
json.dump({"qopt_calibration": 1, "tensors": {"x": {"min": -1, "max": 1}, "scores": {"min": -3, "max": 3},
           "attn_probs": {"min": 0, "max": 1}, "context": {"min": -2, "max": 2}}}, open(out + "/attn.calib.json", "w"))
