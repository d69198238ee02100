"""qopt.run: modules on numpy arrays through qopt-lower-cpu and qopt-run,
checked against numpy (float) and against qopt-run run by hand
(quantized)."""

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

import qopt


def mlp_weights(text):
    """The four constants of examples/mlp.mlir, read from its text with a
    regex and JSON (not through qopt)."""
    weights = {}
    for name in ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"):
        match = re.search(r"dense<(\[[^>]*\])> : tensor<[0-9x]+xf32> loc\(\"" +
                          re.escape(name) + r"\"\)", text)
        weights[name] = np.array(json.loads(match.group(1)), np.float64)
    return weights


def mlp_reference(weights, x):
    hidden = np.maximum(x @ weights["fc1.weight"] + weights["fc1.bias"], 0)
    return hidden @ weights["fc2.weight"] + weights["fc2.bias"]


@pytest.fixture(scope="module")
def mlp_inputs():
    # Inside the calibrated input range [-1, 1].
    rng = np.random.default_rng(7)
    return [rng.uniform(-1, 1, (1, 16)).astype(np.float32) for _ in range(3)]


@pytest.fixture(scope="module")
def float_lowered(examples):
    return qopt.compile((examples / "mlp.mlir").read_text(), "qopt-lower-cpu")


def test_float_mlp_matches_numpy(examples, mlp_inputs, float_lowered):
    weights = mlp_weights((examples / "mlp.mlir").read_text())
    # A path (lowered in process) for the first input, the lowered text for
    # the others.
    (first,) = qopt.run(examples / "mlp.mlir", "mlp", mlp_inputs[0])
    outputs = [first] + [qopt.run(float_lowered, "mlp", [x])[0]
                         for x in mlp_inputs[1:]]
    for x, y in zip(mlp_inputs, outputs):
        assert y.dtype == np.float32 and y.shape == (1, 10)
        np.testing.assert_allclose(y, mlp_reference(weights, x.astype(
            np.float64)), rtol=1e-5, atol=1e-5)


def sqnr_db(reference, test):
    noise = np.sum((reference - test) ** 2)
    return 10 * np.log10(np.sum(reference ** 2) / noise)


def test_quantized_mlp(examples, mlp_inputs, float_lowered, qopt_tool,
                       qopt_run_tool, tmp_path):
    calib = examples / "mlp.calib.json"
    quantized = qopt.compile((examples / "mlp.mlir").read_text(),
                             f"qopt-quantize{{calibration={calib}}}")
    # The first input goes through qopt.run's own lowering, the others reuse
    # one lowered module.
    int8_lowered = qopt.compile(quantized, "qopt-lower-cpu")
    float_out = np.concatenate([qopt.run(float_lowered, "mlp", x)[0]
                                for x in mlp_inputs])
    int8_out = np.concatenate(
        [qopt.run(quantized, "mlp", mlp_inputs[0])[0]] +
        [qopt.run(int8_lowered, "mlp", x)[0] for x in mlp_inputs[1:]])
    # int8 weights and activations on this 16-32-10 MLP: 40.8 dB measured
    # on these inputs (a float error of about 1%).
    assert sqnr_db(float_out.astype(np.float64), int8_out) > 30.0

    # qopt-run by hand on the driver's output gives the same bits.
    lowered = tmp_path / "mlp.int8.lowered.mlir"
    subprocess.run([qopt_tool, str(examples / "mlp.mlir"),
                    f"--qopt-quantize=calibration={calib}", "--qopt-lower-cpu",
                    "-o", str(lowered)], check=True)
    for i, x in enumerate(mlp_inputs[:1]):
        np.save(tmp_path / f"x{i}.npy", x)
        subprocess.run([qopt_run_tool, str(lowered), "--entry", "mlp",
                        "--input", str(tmp_path / f"x{i}.npy"), "--output",
                        str(tmp_path / f"y{i}.npy")], check=True)
        np.testing.assert_array_equal(np.load(tmp_path / f"y{i}.npy"),
                                      int8_out[i:i + 1])


TWO_RESULTS = """
func.func @f(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>)
    -> (tensor<2x4xf32>, tensor<2x3xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<2x4xf32>) -> tensor<2x4xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<2x3xf32>, tensor<3x4xf32>)
                      outs(%z : tensor<2x4xf32>) -> tensor<2x4xf32>
  %sum = arith.addf %a, %a : tensor<2x3xf32>
  return %mm, %sum : tensor<2x4xf32>, tensor<2x3xf32>
}
"""


def test_two_inputs_two_results():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(2, 3)).astype(np.float32)
    b = rng.normal(size=(3, 4)).astype(np.float32)
    mm, total = qopt.run(TWO_RESULTS, "f", (a, b))
    np.testing.assert_allclose(mm, a.astype(np.float64) @ b, rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_array_equal(total, a + a)


def test_run_errors(examples, float_lowered):
    x = np.zeros((1, 16), np.float32)
    with pytest.raises(qopt.RunError, match="dtype float64 does not match"):
        qopt.run(float_lowered, "mlp", np.zeros((1, 16)))
    with pytest.raises(qopt.RunError, match=r"shape \(1, 15\) does not match"):
        qopt.run(float_lowered, "mlp", np.zeros((1, 15), np.float32))
    with pytest.raises(qopt.RunError, match="takes 1 argument"):
        qopt.run(float_lowered, "mlp", [x, x])
    with pytest.raises(qopt.RunError, match="no public function @nope"):
        qopt.run(float_lowered, "nope", x)
    with pytest.raises(qopt.CompileError, match="no-such-pass"):
        qopt.run(examples / "mlp.mlir", "mlp", x, lower_pipeline="no-such-pass")


def test_qopt_run_lookup(monkeypatch, qopt_run_tool, tmp_path):
    # Found beside the build-tree package without any help...
    monkeypatch.delenv("QOPT_RUN", raising=False)
    assert qopt.find_qopt_run().resolve() == Path(qopt_run_tool).resolve()
    # ...QOPT_RUN wins, and naming nothing runnable is an error.
    monkeypatch.setenv("QOPT_RUN", qopt_run_tool)
    assert qopt.find_qopt_run() == Path(qopt_run_tool)
    monkeypatch.setenv("QOPT_RUN", str(tmp_path / "nothing"))
    with pytest.raises(qopt.RunError, match="is not an executable file"):
        qopt.run(TWO_RESULTS, "f", (np.zeros((2, 3), np.float32),
                                    np.zeros((3, 4), np.float32)))
