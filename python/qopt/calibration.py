"""Calibration statistics from numpy arrays, and calibration file
conversion.

`Statistics` collects, tensor by tensor, what qopt's calibration JSON holds
(docs/calibration-formats.md): the observed min/max (per tensor, or per
channel along an axis) and, per tensor, a histogram of equal-width bins.
Arrays can be added in any number of `update` calls (a calibration set fed
batch by batch); the ranges widen and the histograms are re-binned as new
values fall outside them. `to_json` / `write` give the JSON that
`qopt --qopt-import-calibration` and `qopt-quantize{calibration=...}` read.

Histogram bins are half-open, [lo + i*w, lo + (i+1)*w), on a grid whose
width w is a power of two and whose lower edge lo is a multiple of w, with
the data strictly below the upper edge. So every edge is an exact float64,
and widening (doubling w until the range covers the data, merging old bins
in groups of 2^k) moves no value to another bin: a histogram built in
several updates has the same counts as one built from all the values at
once over its final range. The histogram's range is therefore somewhat
wider than the data (at most about twice, plus one bin); qopt's
histogram-based calibrators clip to the tensor's observed min/max.

`convert`, `read` and `detect_format` use qopt's own readers and writers
(the C API, qopt-c/Calibration.h), so they accept exactly what qopt does.
"""

import ctypes
import json
import math
import os
from pathlib import Path
from typing import Dict, Iterator, Mapping, Optional, Union

import numpy as np

from . import _capi

__all__ = ["CalibrationError", "Histogram", "Statistics", "TensorStatistics",
           "convert", "detect_format", "read"]


class CalibrationError(Exception):
    """A calibration file could not be read or written; the message names
    the file (and line) as qopt's readers do."""


class Histogram:
    """Counts of `len(counts)` equal-width bins covering [min, max)."""

    def __init__(self, lo: float, width: float, counts: np.ndarray):
        self.lo = lo
        self.width = width
        self.counts = counts

    @property
    def min(self) -> float:
        return self.lo

    @property
    def max(self) -> float:
        return self.lo + len(self.counts) * self.width

    @property
    def edges(self) -> np.ndarray:
        """The len(counts) + 1 bin edges (exact)."""
        return self.lo + np.arange(len(self.counts) + 1) * self.width


def _floor_multiple(value: float, width: float) -> float:
    return math.floor(value / width) * width


def _min_width(lo: float, hi: float) -> float:
    """The finest grid allowed for data in [lo, hi]: 2^-40 of its magnitude,
    so that every edge and index stays exact in float64."""
    magnitude = max(abs(lo), abs(hi))
    if magnitude == 0:
        return 2.0 ** -64
    return 2.0 ** (math.frexp(magnitude)[1] - 40)


def _grid(lo: float, hi: float, bins: int, width: float):
    """The smallest power-of-two width >= `width` whose grid of `bins` bins,
    starting at a multiple of the width, has lo in it and hi strictly
    below its upper edge."""
    while True:
        start = _floor_multiple(lo, width)
        if start + bins * width > hi:
            return start, width
        width *= 2.0


class TensorStatistics:
    """Statistics of one tensor: `min`/`max` (floats, or arrays of one value
    per channel along `axis`), `histogram` (per tensor only; None when
    `bins` is 0 or `axis` is set) and `count`, the number of values seen."""

    def __init__(self, name: str, bins: int = 2048, axis: Optional[int] = None):
        if bins < 0:
            raise ValueError(f"tensor '{name}': bins must be >= 0, got {bins}")
        self.name = name
        self.axis = axis
        self.bins = 0 if axis is not None else int(bins)
        self.min = None
        self.max = None
        self.histogram: Optional[Histogram] = None
        self.count = 0

    def _as_array(self, array) -> np.ndarray:
        array = np.asarray(array)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"tensor '{self.name}': cannot collect statistics "
                            f"of a {array.dtype} array (real numbers only)")
        if array.size == 0:
            raise ValueError(f"tensor '{self.name}': the array is empty")
        array = array.astype(np.float64, copy=False)
        if not np.all(np.isfinite(array)):
            raise ValueError(f"tensor '{self.name}': the array holds NaN or "
                             "infinite values, which a calibration cannot "
                             "describe")
        return array

    def update(self, array) -> "TensorStatistics":
        """Adds the values of `array` (any shape; per-axis statistics need
        the channel axis to have the same size in every update)."""
        array = self._as_array(array)
        if self.axis is None:
            lo, hi = float(array.min()), float(array.max())
            if self.bins:
                self._update_histogram(array.ravel(), lo, hi)
            self.min = lo if self.min is None else min(self.min, lo)
            self.max = hi if self.max is None else max(self.max, hi)
        else:
            if not -array.ndim <= self.axis < array.ndim:
                raise ValueError(f"tensor '{self.name}': axis {self.axis} is "
                                 f"out of range for shape {array.shape}")
            channels = np.moveaxis(array, self.axis, 0)
            channels = channels.reshape(channels.shape[0], -1)
            lo, hi = channels.min(axis=1), channels.max(axis=1)
            if self.min is not None and len(self.min) != len(lo):
                raise ValueError(
                    f"tensor '{self.name}': axis {self.axis} has "
                    f"{len(lo)} channels, but earlier arrays had "
                    f"{len(self.min)}")
            self.min = lo if self.min is None else np.minimum(self.min, lo)
            self.max = hi if self.max is None else np.maximum(self.max, hi)
        self.count += array.size
        return self

    def _update_histogram(self, values: np.ndarray, lo: float, hi: float):
        hist = self.histogram
        if hist is None:
            start, width = _grid(lo, hi, self.bins, _min_width(lo, hi))
            hist = Histogram(start, width, np.zeros(self.bins, np.int64))
        elif lo < hist.min or hi >= hist.max:
            # Widen: a coarser grid (width * 2^k) aligned with the old one,
            # covering the old data and the new; old bins merge exactly.
            all_lo, all_hi = min(self.min, lo), max(self.max, hi)
            start, width = _grid(all_lo, all_hi, self.bins,
                                 max(hist.width * 2.0,
                                     _min_width(all_lo, all_hi)))
            old = np.nonzero(hist.counts)[0]
            target = np.floor((hist.lo + old * hist.width - start) /
                              width).astype(np.int64)
            counts = np.zeros(self.bins, np.int64)
            np.add.at(counts, target, hist.counts[old])
            hist = Histogram(start, width, counts)
        index = np.floor((values - hist.lo) / hist.width).astype(np.int64)
        np.clip(index, 0, self.bins - 1, out=index)
        # (values - lo) / w may round onto the next edge; compare with the
        # exact edges as np.histogram does.
        edges = hist.edges
        index -= values < edges[index]
        index += values >= edges[index + 1]
        hist.counts += np.bincount(index, minlength=self.bins).astype(np.int64)
        self.histogram = hist

    def to_json(self) -> dict:
        """The tensor's entry of qopt's calibration JSON."""
        if self.min is None:
            raise ValueError(f"tensor '{self.name}' has no values yet")
        if self.axis is not None:
            entry = {"axis": int(self.axis),
                     "min": [float(v) for v in self.min],
                     "max": [float(v) for v in self.max]}
        else:
            entry = {"min": float(self.min), "max": float(self.max)}
        if self.histogram is not None:
            entry["histogram"] = {
                "min": float(self.histogram.min),
                "max": float(self.histogram.max),
                "counts": [int(c) for c in self.histogram.counts]}
        return entry


class Statistics:
    """Statistics of many tensors, in the order they were first seen.

    `bins` is the number of histogram bins of every per-tensor statistic
    (0: min/max only); `axes` maps a tensor name to the axis of its
    per-channel min/max (per-channel statistics carry no histogram).

    >>> stats = Statistics(bins=128, axes={"fc1.weight": 1})
    >>> stats.update({"input": x, "fc1.weight": w})
    >>> stats.write("model.calib.json")
    """

    def __init__(self, bins: int = 2048,
                 axes: Optional[Mapping[str, int]] = None):
        self.bins = bins
        self.axes = dict(axes or {})
        self.tensors: Dict[str, TensorStatistics] = {}

    def update(self, arrays: Union[Mapping[str, object], str],
               array=None) -> "Statistics":
        """Adds arrays: `update({"name": array, ...})` or
        `update("name", array)`."""
        if isinstance(arrays, str):
            arrays = {arrays: array}
        elif array is not None:
            raise TypeError("update(mapping) takes no second argument")
        for name, value in arrays.items():
            stats = self.tensors.get(name)
            if stats is None:
                stats = TensorStatistics(name, self.bins, self.axes.get(name))
                self.tensors[name] = stats
            stats.update(value)
        return self

    def __getitem__(self, name: str) -> TensorStatistics:
        return self.tensors[name]

    def __contains__(self, name: str) -> bool:
        return name in self.tensors

    def __iter__(self) -> Iterator[str]:
        return iter(self.tensors)

    def __len__(self) -> int:
        return len(self.tensors)

    def to_dict(self, producer: Optional[str] = None) -> dict:
        document = {"qopt_calibration": 1}
        if producer:
            document["producer"] = producer
        document["tensors"] = {name: stats.to_json()
                               for name, stats in self.tensors.items()}
        return document

    def to_json(self, producer: Optional[str] = None) -> str:
        """qopt's calibration JSON (version 1). Floats are written in the
        shortest form that reads back to the same double."""
        document = self.to_dict(producer)
        lines = ["{", '  "qopt_calibration": 1,']
        if producer:
            lines.append(f'  "producer": {json.dumps(producer)},')
        entries = [f"    {json.dumps(name)}: {json.dumps(entry)}"
                   for name, entry in document["tensors"].items()]
        if entries:
            lines += ['  "tensors": {', ",\n".join(entries), "  }"]
        else:
            lines.append('  "tensors": {}')
        lines.append("}")
        return "\n".join(lines) + "\n"

    def write(self, path: Union[str, os.PathLike], *, format: str = "qopt",
              producer: Optional[str] = None) -> Path:
        """Writes the statistics to `path` as qopt's calibration JSON
        (`format="qopt"`) or, through qopt's writer, as a TensorRT
        calibration cache (`format="tensorrt"`: symmetric, scale =
        max(|min|, |max|) / 127, per-tensor only)."""
        text = self.to_json(producer)
        if format != "qopt":
            text = _convert(text.encode("utf-8"), None, "qopt", format,
                            str(path))
        path = Path(path)
        path.write_text(text)
        return path


def _convert(contents: Optional[bytes], path: Optional[str], format: str,
             output_format: str, name: str) -> str:
    lib = _capi.lib()
    output, error = [], []
    out_cb = _capi.StringCallback(lambda ref, _: output.append(
        _capi.from_ref(ref)))
    err_cb = _capi.StringCallback(lambda ref, _: error.append(
        _capi.from_ref(ref)))
    fmt = format.encode("utf-8")
    out_fmt = output_format.encode("utf-8")
    if contents is None:
        path_bytes = os.fsencode(path)
        result = lib.qoptCalibrationConvertFile(
            _capi.to_ref(path_bytes), _capi.to_ref(fmt),
            _capi.to_ref(out_fmt), out_cb, err_cb, None)
    else:
        name_bytes = name.encode("utf-8")
        result = lib.qoptCalibrationConvert(
            _capi.to_ref(contents), _capi.to_ref(name_bytes),
            _capi.to_ref(fmt), _capi.to_ref(out_fmt), out_cb, err_cb, None)
    if not result.succeeded():
        raise CalibrationError(error[0] if error else
                               f"{name}: calibration conversion failed")
    return "".join(output)


def convert(source: Union[str, os.PathLike],
            destination: Optional[Union[str, os.PathLike]] = None, *,
            format: str = "auto", output_format: str = "qopt") -> str:
    """Reads the calibration file `source` in `format` ("auto" guesses from
    the contents; "qopt", "tensorrt", "onnxruntime", "onnxruntime-cache",
    "aimet", "tpu-mlir") with qopt's readers and returns it as
    `output_format` ("qopt" JSON or a "tensorrt" cache), also writing it to
    `destination` when given. Raises CalibrationError with qopt's message
    (file, line, what is wrong) when the file cannot be read or converted."""
    text = _convert(None, os.fspath(source), format, output_format,
                    os.fspath(source))
    if destination is not None:
        Path(destination).write_text(text)
    return text


def read(source: Union[str, os.PathLike], *, format: str = "auto") -> dict:
    """Reads a calibration file in any format qopt reads and returns its
    qopt JSON form as a dict: {"qopt_calibration": 1, "producer": ...,
    "tensors": {name: {"min": ..., "max": ..., ...}}}."""
    return json.loads(convert(source, format=format))


def detect_format(source: Union[str, os.PathLike, bytes]) -> Optional[str]:
    """The format qopt's `format=auto` reads `source` (a path, or the
    contents as bytes) as, or None if it matches none."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    name = _capi.from_ref(_capi.lib().qoptCalibrationDetectFormat(
        _capi.to_ref(data)))
    return name or None
