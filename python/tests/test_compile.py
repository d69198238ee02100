"""qopt.compile: pipelines on MLIR text through the C API, and the
diagnostics of every way it can fail."""

import subprocess

import pytest

import qopt

ADD = """func.func @add() -> i32 {
  %a = arith.constant 2 : i32
  %b = arith.constant 3 : i32
  %c = arith.addi %a, %b : i32
  return %c : i32
}
"""


def test_library_and_version():
    assert qopt.library_path().name == "libQOptCAPI.so"
    version = qopt.version()
    assert version.startswith(qopt.__version__ + " (LLVM ")


@pytest.mark.parametrize("pipeline", [
    "canonicalize",
    "builtin.module(canonicalize)",
    "func.func(canonicalize),cse",
    ["canonicalize", "cse"],
])
def test_folds_constants(pipeline):
    # 2 + 3 = 5, folded by canonicalize in every spelling of the pipeline.
    out = qopt.compile(ADD, pipeline)
    assert "arith.constant 5 : i32" in out
    assert "arith.addi" not in out


def test_quantize_matches_the_driver(examples, qopt_tool, tmp_path):
    """The C API path gives the same module as the qopt driver."""
    calib = examples / "mlp.calib.json"
    pipeline = f"qopt-quantize{{calibration={calib}}}"
    out = qopt.compile((examples / "mlp.mlir").read_text(), pipeline,
                       source_name=str(examples / "mlp.mlir"))
    driver = subprocess.run(
        [qopt_tool, str(examples / "mlp.mlir"), f"--pass-pipeline="
         f"builtin.module({pipeline})"], check=True, capture_output=True,
        text=True).stdout
    assert out.rstrip() == driver.rstrip()
    assert "xi8>" in out and "quant." not in out


def test_bad_pipeline():
    with pytest.raises(qopt.CompileError) as info:
        qopt.compile(ADD, "canonicalize,no-such-pass")
    (diag,) = info.value.diagnostics
    assert diag.severity == "error"
    # The column of the unknown pass in the pipeline string.
    assert diag.location == "pipeline:1:14"
    assert diag.message == ("'no-such-pass' does not refer to a registered "
                            "pass or pass pipeline")
    assert str(info.value) == f"pipeline:1:14: error: {diag.message}"


def test_bad_pass_option():
    with pytest.raises(qopt.CompileError) as info:
        qopt.compile(ADD, "qopt-import-calibration{no-such-option=1}")
    (diag,) = info.value.diagnostics
    assert diag.location == "pipeline"
    assert diag.message.startswith("no such option no-such-option")


def test_malformed_ir():
    ir = "func.func @f() -> i32 {\n  %c = arith.addi %a, %a : i32\n}\n"
    with pytest.raises(qopt.CompileError) as info:
        qopt.compile(ir, "canonicalize", source_name="bad.mlir")
    diag = info.value.diagnostics[0]
    assert (diag.severity, diag.location) == ("error", "bad.mlir:2:19")
    assert diag.message == "use of undeclared SSA value name"
    assert "bad.mlir:2:19: error: use of undeclared SSA value name" in str(
        info.value)


def test_notes_are_attached():
    ir = ("func.func @f() {\n  %a = arith.constant 1 : i32\n"
          "  %a = arith.constant 2 : i32\n  return\n}\n")
    with pytest.raises(qopt.CompileError) as info:
        qopt.compile(ir, "canonicalize", source_name="dup.mlir")
    (diag,) = info.value.diagnostics
    assert diag.location == "dup.mlir:3:3"
    assert "redefinition of SSA value '%a'" in diag.message
    (note,) = diag.notes
    assert (note.severity, note.location) == ("note", "dup.mlir:2:3")
    assert "previously defined here" in note.message


def test_verifier_error():
    ir = "func.func @f(%a: i64) -> i32 {\n  return %a : i64\n}\n"
    with pytest.raises(qopt.CompileError) as info:
        qopt.compile(ir, "canonicalize", source_name="invalid.mlir")
    (diag,) = info.value.diagnostics
    assert diag.location == "invalid.mlir:2:3"
    assert "doesn't match function result type ('i32')" in diag.message
    assert diag.notes[0].message.startswith("see current operation")


def test_failing_pass_reports_the_file(examples, tmp_path):
    missing = tmp_path / "missing.json"
    with pytest.raises(qopt.CompileError) as info:
        qopt.compile((examples / "mlp.mlir").read_text(),
                     f"qopt-quantize{{calibration={missing}}}",
                     source_name="mlp.mlir")
    (diag,) = info.value.diagnostics
    # The pass reports at the module, which is the whole file.
    assert (diag.severity, diag.location) == ("error", "mlp.mlir")
    assert diag.message == (f"cannot import calibration: {missing}: cannot "
                            "read the calibration file: No such file or "
                            "directory")


def test_warnings_and_remarks(examples, tmp_path):
    """Warnings of a successful compile become CompileWarning; all
    diagnostics, remarks included, can be collected."""
    calib = tmp_path / "extra.json"
    calib.write_text('{"qopt_calibration": 1, "tensors": {'
                     '"input": {"min": -1, "max": 1},'
                     '"nowhere": {"min": 0, "max": 1}}}')
    diagnostics = []
    with pytest.warns(qopt.CompileWarning, match="match no tensor: 'nowhere'"):
        out = qopt.compile((examples / "mlp.mlir").read_text(),
                           f"qopt-import-calibration{{file={calib}}}",
                           source_name="mlp.mlir", diagnostics=diagnostics)
    assert "qopt.stats" in out
    severities = [d.severity for d in diagnostics]
    assert "remark" in severities and "warning" in severities
    remark = diagnostics[severities.index("remark")]
    assert remark.message.startswith("imported 1 statistics from")


def test_type_errors():
    with pytest.raises(TypeError):
        qopt.compile(ADD.encode(), "canonicalize")
