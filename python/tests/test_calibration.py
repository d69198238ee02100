"""qopt.calibration: statistics from numpy arrays (checked against numpy),
qopt's JSON read back by `qopt --qopt-import-calibration`, and conversion
through qopt's readers and writers."""

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

import qopt
from qopt import calibration

SOURCE_ROOT = Path(__file__).resolve().parents[2]


def count_by_edges(values, lo, width, bins):
    """Counts per half-open bin [lo + i*w, lo + (i+1)*w), by comparisons."""
    values = np.asarray(values, np.float64).ravel()
    return np.array([np.count_nonzero((values >= lo + i * width) &
                                      (values < lo + (i + 1) * width))
                     for i in range(bins)])


def check_histogram(stats, values, bins):
    hist = stats.histogram
    values = np.asarray(values, np.float64).ravel()
    assert len(hist.counts) == bins
    # Power-of-two width, lower edge on the grid, data inside [min, max).
    mantissa, _ = np.frexp(hist.width)
    assert mantissa == 0.5 and hist.lo % hist.width == 0
    assert hist.min <= values.min() and values.max() < hist.max
    np.testing.assert_array_equal(hist.counts, count_by_edges(
        values, hist.lo, hist.width, bins))
    # Not needlessly wide: half the width would not cover the data.
    half = hist.width / 2
    start = np.floor(values.min() / half) * half
    assert start + bins * half <= values.max()


def test_one_array():
    rng = np.random.default_rng(0)
    x = rng.normal(0.5, 2.0, (8, 100)).astype(np.float32)
    stats = calibration.Statistics(bins=64).update({"x": x})["x"]
    assert stats.min == float(x.min()) and stats.max == float(x.max())
    assert stats.count == x.size
    check_histogram(stats, x, 64)


def test_streaming_widens_and_rebins():
    rng = np.random.default_rng(1)
    arrays = [rng.normal(0, 1, 1000).astype(np.float32),
              rng.uniform(-0.1, 0.1, 200),           # inside: no widening
              rng.normal(3, 5, 500).astype(np.float32),  # both sides
              np.array([100.0]),                      # far right
              np.array([-250.5, 7.0]),                # far left
              np.arange(-5, 6, dtype=np.int8)]        # integers
    stats = calibration.Statistics(bins=128)
    seen = []
    for array in arrays:
        stats.update("x", array)
        seen.append(np.asarray(array, np.float64).ravel())
        values = np.concatenate(seen)
        # After every update: the same as one histogram of everything so
        # far over the final range.
        check_histogram(stats["x"], values, 128)
        assert stats["x"].min == values.min()
        assert stats["x"].max == values.max()
    assert stats["x"].histogram.counts.sum() == sum(a.size for a in arrays)


def test_constant_and_tiny_ranges():
    stats = calibration.Statistics(bins=16)
    stats.update({"zeros": np.zeros(10), "const": np.full(5, 3.25),
                  "tiny": np.array([1.0, 1.0 + 2 ** -30])})
    for name, values in (("zeros", np.zeros(10)), ("const", np.full(5, 3.25)),
                         ("tiny", np.array([1.0, 1.0 + 2 ** -30]))):
        check_histogram(stats[name], values, 16) if name == "tiny" else None
        hist = stats[name].histogram
        assert hist.min < hist.max
        assert hist.counts.sum() == values.size
    # Widening from an all-zero start keeps every count.
    stats.update("zeros", np.array([-3.0, 5.0]))
    check_histogram(stats["zeros"], np.concatenate([np.zeros(10),
                                                    [-3.0, 5.0]]), 16)


def test_per_axis():
    rng = np.random.default_rng(2)
    w1 = rng.normal(size=(16, 32))
    w2 = rng.normal(size=(4, 32))
    stats = calibration.Statistics(bins=64, axes={"w": 1})
    stats.update({"w": w1}).update({"w": w2})
    both = np.concatenate([w1, w2])
    np.testing.assert_array_equal(stats["w"].min, both.min(axis=0))
    np.testing.assert_array_equal(stats["w"].max, both.max(axis=0))
    assert stats["w"].histogram is None
    entry = stats["w"].to_json()
    assert entry["axis"] == 1 and len(entry["min"]) == 32
    with pytest.raises(ValueError, match="axis 1 has 31 channels, but "
                                         "earlier arrays had 32"):
        stats.update("w", np.zeros((2, 31)))
    with pytest.raises(ValueError, match="axis 1 is out of range"):
        calibration.Statistics(axes={"v": 1}).update("v", np.zeros(3))


def test_bad_arrays():
    stats = calibration.Statistics()
    with pytest.raises(ValueError, match="tensor 'a': the array holds NaN"):
        stats.update("a", np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="tensor 'b': .*infinite"):
        stats.update("b", np.array([np.inf]))
    with pytest.raises(ValueError, match="tensor 'c': the array is empty"):
        stats.update("c", np.zeros((0, 3)))
    with pytest.raises(TypeError, match="complex128"):
        stats.update("d", np.array([1j]))


def parse_stats(text):
    """{operand: (min, max, histogram range, counts)} from qopt.stats ops
    as the qopt driver prints them."""
    found = {}
    pattern = re.compile(
        r"qopt\.stats (%[\w#]+)(?: axis (\d+))? min \[([^\]]*)\] "
        r"max \[([^\]]*)\](?: histogram \[([^\]]*)\] counts \[([^\]]*)\])?")
    for match in pattern.finditer(text):
        numbers = [None if g is None else [float(v) for v in g.split(",")]
                   for g in match.groups()[2:]]
        found[match.group(1)] = tuple(numbers)
    return found


def test_written_json_is_read_by_qopt(examples, qopt_tool, tmp_path):
    """Statistics written from Python reach qopt.stats unchanged: min/max
    as numpy computes them, histograms bin for bin."""
    rng = np.random.default_rng(4)
    stats = calibration.Statistics(bins=32, axes={"fc1.weight": 1})
    batches = [rng.uniform(-1, 1, (1, 16)) for _ in range(3)]
    fc1 = [rng.normal(0.2, 1.5, (1, 32)) for _ in range(3)]
    for x, y in zip(batches, fc1):
        stats.update({"input": x, "fc1": y})
    weight = np.array(json.loads(re.search(
        r"dense<(\[[^>]*\])> : tensor<16x32xf32> loc\(\"fc1.weight\"\)",
        (examples / "mlp.mlir").read_text()).group(1)))
    stats.update("fc1.weight", weight)
    path = stats.write(tmp_path / "mlp.calib.json", producer="pytest")

    out = subprocess.run(
        [qopt_tool, str(examples / "mlp.mlir"),
         f"--qopt-import-calibration=file={path} strict=false"],
        check=True, capture_output=True, text=True).stdout
    found = parse_stats(out)
    by_min = {tuple(v[0]): v for v in found.values()}

    x_all, y_all = np.concatenate(batches), np.concatenate(fc1)
    inp = by_min[(x_all.min(),)]
    assert inp[1] == [x_all.max()] and inp[2] is not None
    np.testing.assert_array_equal(inp[3], count_by_edges(
        x_all, inp[2][0], (inp[2][1] - inp[2][0]) / 32, 32))
    act = by_min[(y_all.min(),)]
    assert act[1] == [y_all.max()]
    np.testing.assert_array_equal(act[3], count_by_edges(
        y_all, act[2][0], (act[2][1] - act[2][0]) / 32, 32))
    w = by_min[tuple(weight.min(axis=0))]
    assert w[1] == list(weight.max(axis=0)) and w[2] is None

    # And qopt's own reader (the C API) gives back what was written.
    assert calibration.read(path) == json.loads(path.read_text())
    assert calibration.detect_format(path) == "qopt"


def float32_from_hex(text):
    return float(np.frombuffer(bytes.fromhex(text)[::-1], np.float32)[0])


def test_convert_tensorrt_to_qopt(tmp_path):
    cache = SOURCE_ROOT / "test" / "Calibration" / "Inputs" / \
        "tensorrt-basic.cache"
    out = tmp_path / "from-trt.json"
    table = json.loads(calibration.convert(cache, out))
    assert json.loads(out.read_text()) == table
    assert table["producer"] == "TRT-8601-EntropyCalibration2"
    entry = table["tensors"]["input.1"]
    scale = float32_from_hex("3c010204")
    assert entry["scale"] == scale and entry["zero_point"] == 0
    assert entry["max"] == pytest.approx(127 * scale, rel=1e-15)
    assert entry["min"] == -entry["max"] and entry["symmetric"] is True
    assert table["tensors"]["conv:1"]["scale"] == 2.0
    assert calibration.detect_format(cache) == "tensorrt"


def test_write_tensorrt(tmp_path):
    stats = calibration.Statistics(bins=0)
    stats.update({"a": np.array([-0.5, 2.0]), "b": np.array([-3.0, 1.0])})
    text = stats.write(tmp_path / "c.cache", format="tensorrt").read_text()
    lines = text.splitlines()
    assert lines[0] == "TRT-8601-EntropyCalibration2"
    expected = {name: np.float32(amax / 127).view(np.uint32)
                for name, amax in (("a", 2.0), ("b", 3.0))}
    assert lines[1:] == [f"{n}: {v:08x}" for n, v in expected.items()]


def test_convert_errors(tmp_path):
    missing = tmp_path / "missing.json"
    with pytest.raises(calibration.CalibrationError,
                       match=re.escape(str(missing)) +
                       ": cannot read the calibration file"):
        calibration.convert(missing)
    bad = tmp_path / "bad.json"
    bad.write_text('{"qopt_calibration": 1,\n "tensors": {"a": '
                   '{"min": 2, "max": 1}}}\n')
    with pytest.raises(calibration.CalibrationError,
                       match=r"bad.json:2: tensor 'a': min \(2.0\) is greater "
                             r"than max \(1.0\)"):
        calibration.read(bad)
    with pytest.raises(calibration.CalibrationError,
                       match="unknown calibration format 'onnx'"):
        calibration.convert(bad, format="onnx")
    perchannel = calibration.Statistics(axes={"w": 0}).update(
        "w", np.ones((2, 2)))
    with pytest.raises(calibration.CalibrationError, match="per-axis"):
        perchannel.write(tmp_path / "w.cache", format="tensorrt")
    assert calibration.detect_format(b"hello\n") is None
