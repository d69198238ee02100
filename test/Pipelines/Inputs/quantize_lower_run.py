#!/usr/bin/python3
"""End-to-end check of qopt's main flow on small float models.

    quantize_lower_run.py --bin BUILD/bin --work DIR [--case NAME ...]

For each case: a float model (func + linalg on tensors, every tensor named by
its location) and its weights are generated here with a fixed seed; a
calibration file in qopt's JSON is written from the model's float
activations on 16 calibration inputs (min/max per named tensor, computed in
numpy float64); then

  qopt MODEL --qopt-quantize="calibration=FILE ..." | qopt --qopt-lower-cpu
  qopt-run LOWERED --entry NAME --input x.npy --output y.npy

and the float model goes through the same `qopt --qopt-lower-cpu` and
`qopt-run`. Two comparisons per case, on 4 test inputs drawn apart from the
calibration set:

  (a) exact: the int8 program's output equals, bit for bit, the output of
      the integer reference in this file (`IntRef`), a scalar
      implementation of the documented numerics (docs/numerics.md sections
      2, 4, 6-8; docs/qdq-form.md for which tensors are quantized) written
      without qopt's code: parameter choice from the calibration ranges,
      weight and bias quantization, integer convolutions and matmuls in
      Python integers, TFLite's fixed-point requantization (or ONNX
      Runtime's float one), integer add/pool kernels as
      lib/Transforms/QuantizeKernelsElementwise.cpp documents them;
  (b) accuracy: the SQNR of the int8 output against the float model's
      output, run through the same runner, is above the case's bound (and
      the float program matches numpy's float64 forward pass to 1e-4).

Prints one line per case and `N passed, N failed`; exits 1 on a failure.
"""

import argparse
import json
import math
import os
import struct
import subprocess
import sys

import numpy as np

FLT_MIN = 2.0 ** -126


def f32(x):
    """Round a Python float to float32 (returned as a Python float)."""
    return struct.unpack("f", struct.pack("f", x))[0]


def round_half_even(x):
    return float(np.round(x))  # numpy rounds half to even


def round_half_away(x):
    return math.floor(abs(x) + 0.5) * (1 if x >= 0 else -1)


# --- Parameter choice (docs/numerics.md section 2) ---------------------------

def choose_asymmetric(rmin, rmax, qmin=-128, qmax=127):
    rmin, rmax = min(rmin, 0.0), max(rmax, 0.0)
    if rmin == 0.0 and rmax == 0.0:
        return 1.0, min(max(0, qmin), qmax)
    scale = (rmax - rmin) / (qmax - qmin)
    scale = max(scale, FLT_MIN)
    zmin, zmax = qmin - rmin / scale, qmax - rmax / scale
    emin, emax = abs(qmin) + abs(rmin / scale), abs(qmax) + abs(rmax / scale)
    zp = zmin if emin < emax else zmax
    zp = round_half_away(min(max(zp, qmin), qmax))
    return f32(scale), int(zp)


def choose_symmetric_weight(values):
    amax = float(np.max(np.abs(values))) if values.size else 0.0
    if amax == 0.0:
        return 1.0
    return f32(max(amax / 127.0, FLT_MIN))


def quantize(real, scale, zp, qmin, qmax):
    """docs/numerics.md section 4 (double)."""
    return int(min(max(round_half_even(real / scale), qmin - zp), qmax - zp)) + zp


def quantize_f32(real, scale, zp, qmin=-128, qmax=127):
    """docs/numerics.md section 5: quant.qcast in float32."""
    v = np.float32(real) / np.float32(scale)
    v = min(max(v, np.float32(qmin - zp)), np.float32(qmax - zp))
    return int(np.round(v)) + zp


# --- Fixed-point requantization (docs/numerics.md sections 6, 7) -------------

def quantize_multiplier(m):
    if m == 0.0:
        return 0, 0
    f, e = math.frexp(m)
    q = round_half_away(f * 2.0 ** 31)
    if q == 2 ** 31:
        q, e = 2 ** 30, e + 1
    if e < -31:
        return 0, 0
    assert e <= 30, "multiplier too large"
    return int(q), e


def sat32(x):
    return min(max(x, -2 ** 31), 2 ** 31 - 1)


def srdhm(a, b):
    if a == b == -2 ** 31:
        return 2 ** 31 - 1
    ab = a * b
    nudge = 2 ** 30 if ab >= 0 else 1 - 2 ** 30
    n = ab + nudge
    q = abs(n) // 2 ** 31  # C division truncates toward zero
    return q if n >= 0 else -q


def rdbpot(x, e):
    mask = (1 << e) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> e) + (1 if remainder > threshold else 0)


def mbqm(x, multiplier, shift):
    left, right = max(shift, 0), max(-shift, 0)
    return rdbpot(srdhm(sat32(x * 2 ** left), multiplier), right)


class Requant:
    """qopt.requantize from (s_in, zp_in) to (s_out, zp_out), saturated to
    [lo, hi], in either mode (docs/numerics.md section 8)."""

    def __init__(self, mode, s_in, zp_in, s_out, zp_out, lo, hi):
        self.mode, self.zp_in, self.zp_out = mode, zp_in, zp_out
        self.lo, self.hi = lo, hi
        if mode == "fixed-point":
            self.mult, self.shift = quantize_multiplier(s_in / s_out)
        else:
            self.m = np.float32(np.float32(s_in) / np.float32(s_out))

    def __call__(self, q):
        x = sat32(q - self.zp_in)
        if self.mode == "fixed-point":
            r = mbqm(x, self.mult, self.shift) + self.zp_out
        else:
            v = np.float32(np.float32(x) * self.m)
            v = min(max(float(v), self.lo - self.zp_out - 1.0),
                    self.hi - self.zp_out + 1.0)
            r = int(np.round(np.float32(v))) + self.zp_out
        return min(max(r, self.lo), self.hi)


# --- Models --------------------------------------------------------------------

class Model:
    """A straight-line float model in NHWC (or NCHW for conv_nchw), built
    layer by layer: MLIR text, a float64 forward pass, and the integer
    reference's description of the same layers."""

    def __init__(self, name, in_shape, rng):
        self.name, self.in_shape, self.rng = name, list(in_shape), rng
        self.lines, self.layers, self.counter = [], [], 0
        self.cur, self.cur_shape, self.cur_name = "%x", list(in_shape), "x"
        self.ssa_of = {}  # layer name -> SSA value, for residual adds

    # helpers
    def ssa(self):
        self.counter += 1
        return "%%v%d" % self.counter

    @staticmethod
    def ttype(shape):
        return "tensor<%sxf32>" % "x".join(map(str, shape))

    @staticmethod
    def dense(arr):
        return "dense<%s>" % json.dumps(
            np.asarray(arr, np.float32).astype(np.float64).tolist())

    def const(self, arr):
        v = self.ssa()
        self.lines.append("%s = arith.constant %s : %s" % (
            v, self.dense(arr), self.ttype(arr.shape)))
        return v

    def zeros(self, shape, value="0.0"):
        v = self.ssa()
        self.lines.append("%s = arith.constant dense<%s> : %s" % (
            v, value, self.ttype(shape)))
        return v

    def weights(self, *shape, scale=0.5):
        return (self.rng.standard_normal(shape) * scale).astype(np.float32)

    def elementwise(self, ins, shapes, maps, body, out_shape, name):
        rank = len(out_shape)
        dims = ", ".join("d%d" % i for i in range(rank))
        amaps = ["affine_map<(%s) -> (%s)>" % (dims, m) for m in maps]
        amaps.append("affine_map<(%s) -> (%s)>" % (dims, dims))
        e = self.ssa()
        self.lines.append("%s = tensor.empty() : %s" % (e, self.ttype(out_shape)))
        v = self.ssa()
        args = ", ".join("%%a%d: f32" % i for i in range(len(ins)))
        self.lines.append(
            "%s = linalg.generic {indexing_maps = [%s], iterator_types = [%s]} "
            "ins(%s : %s) outs(%s : %s) {\n  ^bb0(%s, %%o: f32):\n%s\n  } -> %s "
            "loc(\"%s\")" % (
                v, ", ".join(amaps), ", ".join(['"parallel"'] * rank),
                ", ".join(ins), ", ".join(self.ttype(s) for s in shapes),
                e, self.ttype(out_shape), args, body, self.ttype(out_shape),
                name))
        return v

    def bias_relu(self, acc, shape, name, bias, relu, channel_dim):
        """Bias add along `channel_dim`, then ReLU; the last op is `name`."""
        rank = len(shape)
        dims = ", ".join("d%d" % i for i in range(rank))
        if bias is not None:
            b = self.const(bias)
            acc = self.elementwise(
                [acc, b], [shape, list(bias.shape)], [dims, "d%d" % channel_dim],
                "    %r = arith.addf %a0, %a1 : f32\n    linalg.yield %r : f32",
                shape, name + ".bias" if relu else name)
        if relu:
            z = self.ssa()
            self.lines.append("%s = arith.constant 0.0 : f32" % z)
            acc = self.elementwise(
                [acc], [shape], [dims],
                "    %%r = arith.maximumf %%a0, %s : f32\n    linalg.yield %%r : f32"
                % z, shape, name)
        return acc

    def pad_input(self, pad, layout):
        if not pad:
            return self.cur, self.cur_shape
        shape = list(self.cur_shape)
        lo = [0, pad, pad, 0] if layout == "nhwc" else [0, 0, pad, pad]
        for i, p in enumerate(lo):
            shape[i] += 2 * p
        z = self.ssa()
        self.lines.append("%s = arith.constant 0.0 : f32" % z)
        v = self.ssa()
        lows = ", ".join(map(str, lo))
        self.lines.append(
            "%s = tensor.pad %s low[%s] high[%s] {\n  ^bb0(%s):\n    "
            "tensor.yield %s : f32\n  } : %s to %s loc(\"%s.pad\")" % (
                v, self.cur, lows, lows,
                ", ".join("%%i%d: index" % i for i in range(4)), z,
                self.ttype(self.cur_shape), self.ttype(shape), self.cur_name))
        return v, shape

    # layers
    def conv(self, name, cout, k, stride=1, pad=0, relu=True, bias=True,
             layout="nhwc", depthwise=False):
        x, xs = self.pad_input(pad, layout)
        if layout == "nhwc":
            n, h, w, c = xs
        else:
            n, c, h, w = xs
        oh, ow = (h - k) // stride + 1, (w - k) // stride + 1
        if depthwise:
            cout = c
            wt = self.weights(k, k, c)
            op, oshape = "linalg.depthwise_conv_2d_nhwc_hwc", [n, oh, ow, c]
        elif layout == "nhwc":
            wt = self.weights(k, k, c, cout, scale=1.0 / math.sqrt(k * k * c))
            op, oshape = "linalg.conv_2d_nhwc_hwcf", [n, oh, ow, cout]
        else:
            wt = self.weights(cout, c, k, k, scale=1.0 / math.sqrt(k * k * c))
            op, oshape = "linalg.conv_2d_nchw_fchw", [n, cout, oh, ow]
        b = self.weights(cout, scale=0.2) if bias else None
        wv = self.const(wt)
        z = self.zeros(oshape)
        v = self.ssa()
        last = not (bias or relu)
        self.lines.append(
            "%s = %s {dilations = dense<1> : tensor<2xi64>, strides = "
            "dense<%d> : tensor<2xi64>} ins(%s, %s : %s, %s) outs(%s : %s) -> %s "
            "loc(\"%s\")" % (
                v, op, stride, x, wv, self.ttype(xs), self.ttype(wt.shape), z,
                self.ttype(oshape), self.ttype(oshape),
                name if last else name + ".conv"))
        chdim = 3 if layout == "nhwc" else 1
        v = self.bias_relu(v, oshape, name, b, relu, chdim)
        self.layers.append(dict(kind="conv", name=name, input=self.cur_name,
                                w=wt, b=b, stride=stride, pad=pad, relu=relu,
                                layout=layout, depthwise=depthwise))
        self.cur, self.cur_shape, self.cur_name = v, oshape, name

    def fc(self, name, n, relu=False, bias=True, transposed=False):
        """A matmul by a [K, N] weight; `transposed` writes it as ONNX Gemm
        with transB=1 is imported: the [N, K] initializer, then a
        linalg.transpose."""
        m, k = self.cur_shape
        wt = self.weights(k, n, scale=1.0 / math.sqrt(k))
        b = self.weights(n, scale=0.2) if bias else None
        if transposed:
            wnk = self.const(np.ascontiguousarray(wt.T))
            e = self.ssa()
            self.lines.append("%s = tensor.empty() : %s" % (
                e, self.ttype([k, n])))
            wv = self.ssa()
            self.lines.append(
                "%s = linalg.transpose ins(%s : %s) outs(%s : %s) "
                "permutation = [1, 0]" % (wv, wnk, self.ttype([n, k]), e,
                                          self.ttype([k, n])))
        else:
            wv = self.const(wt)
        z = self.zeros([m, n])
        v = self.ssa()
        last = not (bias or relu)
        self.lines.append(
            "%s = linalg.matmul ins(%s, %s : %s, %s) outs(%s : %s) -> %s "
            "loc(\"%s\")" % (v, self.cur, wv, self.ttype([m, k]),
                             self.ttype([k, n]), z, self.ttype([m, n]),
                             self.ttype([m, n]), name if last else name + ".mm"))
        v = self.bias_relu(v, [m, n], name, b, relu, 1)
        self.layers.append(dict(kind="fc", name=name, input=self.cur_name,
                                w=wt, b=b, relu=relu))
        self.cur, self.cur_shape, self.cur_name = v, [m, n], name

    def pool(self, name, k, kind):
        n, h, w, c = self.cur_shape
        oshape = [n, h // k, w // k, c]
        win = self.ssa()
        self.lines.append("%s = tensor.empty() : tensor<%dx%dxf32>" % (win, k, k))
        init = self.zeros(oshape, "0.0" if kind == "avg" else "0xFF800000")
        v = self.ssa()
        op = "linalg.pooling_nhwc_sum" if kind == "avg" else "linalg.pooling_nhwc_max"
        self.lines.append(
            "%s = %s {dilations = dense<1> : tensor<2xi64>, strides = dense<%d> "
            ": tensor<2xi64>} ins(%s, %s : %s, tensor<%dx%dxf32>) outs(%s : %s) -> "
            "%s loc(\"%s\")" % (
                v, op, k, self.cur, win, self.ttype(self.cur_shape), k, k, init,
                self.ttype(oshape), self.ttype(oshape),
                name + ".sum" if kind == "avg" else name))
        if kind == "avg":
            d = self.ssa()
            self.lines.append("%s = arith.constant %s : f32" % (d, float(k * k)))
            v = self.elementwise(
                [v], [oshape], ["d0, d1, d2, d3"],
                "    %%r = arith.divf %%a0, %s : f32\n    linalg.yield %%r : f32"
                % d, oshape, name)
        self.layers.append(dict(kind=kind + "pool", name=name,
                                input=self.cur_name, k=k))
        self.cur, self.cur_shape, self.cur_name = v, oshape, name

    def flatten(self, name):
        n = self.cur_shape[0]
        rest = int(np.prod(self.cur_shape[1:]))
        v = self.ssa()
        self.lines.append(
            "%s = tensor.collapse_shape %s [[0], [1, 2, 3]] : %s into %s "
            "loc(\"%s\")" % (v, self.cur, self.ttype(self.cur_shape),
                             self.ttype([n, rest]), name))
        self.layers.append(dict(kind="flatten", name=name, input=self.cur_name))
        self.cur, self.cur_shape, self.cur_name = v, [n, rest], name

    def add(self, name, other, relu=False):
        """Adds the current tensor and the earlier layer `other` (same
        shape), then an optional ReLU as its own op (as ONNX writes them)."""
        ov = self.ssa_of[other]
        shape = self.cur_shape
        dims = ", ".join("d%d" % i for i in range(len(shape)))
        v = self.elementwise(
            [self.cur, ov], [shape, shape], [dims, dims],
            "    %r = arith.addf %a0, %a1 : f32\n    linalg.yield %r : f32",
            shape, name + ".add" if relu else name)
        if relu:
            v = self.bias_relu(v, shape, name, None, True, 0)
        self.layers.append(dict(kind="add", name=name, input=self.cur_name,
                                other=other, relu=relu))
        self.cur, self.cur_name = v, name

    def mark(self):
        """Remembers the current tensor for a later add."""
        self.ssa_of[self.cur_name] = self.cur

    def mlir(self):
        body = "\n".join("    " + l for l in self.lines)
        return ("func.func @%s(%%x: %s {qopt.name = \"x\"}) -> %s {\n%s\n"
                "    return %s : %s\n}\n" % (
                    self.name, self.ttype(self.in_shape),
                    self.ttype(self.cur_shape), body, self.cur,
                    self.ttype(self.cur_shape)))


# --- Float forward (numpy float64) -------------------------------------------

def conv_nhwc(x, w, stride, depthwise):
    n, h, wd, c = x.shape
    k = w.shape[0]
    oh, ow = (h - k) // stride + 1, (wd - k) // stride + 1
    cout = c if depthwise else w.shape[3]
    y = np.zeros((n, oh, ow, cout), dtype=x.dtype)
    for i in range(k):
        for j in range(k):
            patch = x[:, i:i + stride * (oh - 1) + 1:stride,
                      j:j + stride * (ow - 1) + 1:stride, :]
            if depthwise:
                y += patch * w[i, j]
            else:
                y += np.tensordot(patch, w[i, j], axes=([3], [0]))
    return y


def pad_nhwc(x, p, value):
    return np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)), constant_values=value)


def to_nhwc(x, layout):
    return x if layout == "nhwc" else x.transpose(0, 2, 3, 1)


def from_nhwc(x, layout):
    return x if layout == "nhwc" else x.transpose(0, 3, 1, 2)


def float_forward(model, x):
    """Returns every named tensor's value (float64)."""
    vals = {"x": x.astype(np.float64)}
    for L in model.layers:
        inp = vals[L["input"]]
        kind = L["kind"]
        if kind == "conv":
            xin = to_nhwc(inp, L["layout"])
            xin = pad_nhwc(xin, L["pad"], 0.0)
            if L["pad"]:
                vals[L["input"] + ".pad"] = from_nhwc(xin, L["layout"])
            w = L["w"].astype(np.float64)
            if L["layout"] == "nchw":
                w = w.transpose(2, 3, 1, 0)
            y = conv_nhwc(xin, w, L["stride"], L["depthwise"])
            y = from_nhwc(y, L["layout"])
            if L["b"] is not None or L["relu"]:
                vals[L["name"] + ".conv"] = y
            chdim = 3 if L["layout"] == "nhwc" else 1
            shape = [1] * y.ndim
            shape[chdim] = -1
            if L["b"] is not None:
                y = y + L["b"].astype(np.float64).reshape(shape)
                if L["relu"]:
                    vals[L["name"] + ".bias"] = y
            if L["relu"]:
                y = np.maximum(y, 0)
        elif kind == "fc":
            y = inp @ L["w"].astype(np.float64)
            if L["b"] is not None or L["relu"]:
                vals[L["name"] + ".mm"] = y
            if L["b"] is not None:
                y = y + L["b"].astype(np.float64)
                if L["relu"]:
                    vals[L["name"] + ".bias"] = y
            if L["relu"]:
                y = np.maximum(y, 0)
        elif kind in ("avgpool", "maxpool"):
            k = L["k"]
            n, h, w, c = inp.shape
            r = inp[:, :h // k * k, :w // k * k, :].reshape(n, h // k, k, w // k, k, c)
            if kind == "avgpool":
                vals[L["name"] + ".sum"] = r.sum(axis=(2, 4))
                y = r.sum(axis=(2, 4)) / (k * k)
            else:
                y = r.max(axis=(2, 4))
        elif kind == "flatten":
            y = inp.reshape(inp.shape[0], -1)
        elif kind == "add":
            y = inp + vals[L["other"]]
            if L["relu"]:
                vals[L["name"] + ".add"] = y
                y = np.maximum(y, 0)
        vals[L["name"]] = y
    return vals, y


# --- Integer reference ---------------------------------------------------------

class IntRef:
    """The int8 program that docs/qdq-form.md and docs/numerics.md describe,
    element by element in Python integers. Activations: asymmetric i8 per
    tensor from the calibration range of the value a kernel group ends with;
    weights: symmetric narrow i8, per output channel or per tensor; biases:
    i32 with the accumulator scale."""

    def __init__(self, model, calib, mode, per_channel):
        self.model, self.calib, self.mode = model, calib, mode
        self.per_channel = per_channel

    def act_params(self, name):
        lo, hi = self.calib[name]
        return choose_asymmetric(lo, hi)

    def run(self, x):
        """Returns the model's output as float32, as the program computes
        it (a dequantized i32 accumulator when the model ends with a kernel
        group)."""
        params = {}  # name -> (scale, zp)
        ints = {}
        s, zp = self.act_params("x")
        params["x"] = (s, zp)
        ints["x"] = np.vectorize(lambda v: quantize_f32(v, s, zp))(x).astype(np.int64)
        layers = self.model.layers
        out = None
        for i, L in enumerate(layers):
            last = i == len(layers) - 1
            kind = L["kind"]
            q, (sx, zx) = ints[L["input"]], params[L["input"]]
            if kind in ("conv", "fc"):
                acc, sacc = self.contraction(L, q, sx, zx)
                if last:
                    # Dequantized accumulator, then the float ReLU.
                    chdim = acc.ndim - 1 if kind == "fc" or L["layout"] == "nhwc" else 1
                    shape = [1] * acc.ndim
                    shape[chdim] = -1
                    y = acc.astype(np.float32) * np.asarray(
                        sacc, np.float32).reshape(shape)
                    if L["relu"]:
                        y = np.maximum(y, np.float32(0))
                    out = y.astype(np.float32)
                    break
                so, zo = self.act_params(L["name"])
                lo = max(-128, zo) if L["relu"] else -128
                chdim = acc.ndim - 1 if kind == "fc" or L["layout"] == "nhwc" else 1
                res = np.empty(acc.shape, np.int64)
                reqs = [Requant(self.mode, sa, 0, so, zo, lo, 127) for sa in sacc]
                it = np.nditer(acc, flags=["multi_index"])
                for v in it:
                    res[it.multi_index] = reqs[it.multi_index[chdim]](int(v))
                ints[L["name"]], params[L["name"]] = res, (so, zo)
            elif kind == "maxpool":
                k = L["k"]
                n, h, w, c = q.shape
                r = q[:, :h // k * k, :w // k * k, :].reshape(n, h // k, k, w // k, k, c)
                ints[L["name"]], params[L["name"]] = r.max(axis=(2, 4)), (sx, zx)
            elif kind == "avgpool":
                k = L["k"]
                n, h, w, c = q.shape
                r = (q - zx)[:, :h // k * k, :w // k * k, :].reshape(
                    n, h // k, k, w // k, k, c)
                acc = r.sum(axis=(2, 4))
                sacc = f32(f32(f32(sx) * f32(1.0)) / f32(float(k * k)))
                so, zo = self.act_params(L["name"])
                req = Requant(self.mode, sacc, 0, so, zo, -128, 127)
                ints[L["name"]] = np.vectorize(req)(acc).astype(np.int64)
                params[L["name"]] = (so, zo)
            elif kind == "flatten":
                ints[L["name"]] = q.reshape(q.shape[0], -1)
                params[L["name"]] = (sx, zx)
            elif kind == "add":
                qb, (sb, zb) = ints[L["other"]], params[L["other"]]
                sc = 2.0 * max(sx, sb) / 2.0 ** 20
                ra = Requant(self.mode, sx, zx, sc, 0, -2 ** 31, 2 ** 31 - 1)
                rb = Requant(self.mode, sb, zb, sc, 0, -2 ** 31, 2 ** 31 - 1)
                total = (np.vectorize(ra)(q).astype(np.int64) +
                         np.vectorize(rb)(qb).astype(np.int64))
                so, zo = self.act_params(L["name"])
                lo = max(-128, zo) if L["relu"] else -128
                req = Requant(self.mode, sc, 0, so, zo, lo, 127)
                ints[L["name"]] = np.vectorize(req)(total).astype(np.int64)
                params[L["name"]] = (so, zo)
        if out is None:
            s, zp = params[layers[-1]["name"]]
            out = ((ints[layers[-1]["name"]] - zp).astype(np.float32) *
                   np.float32(s)).astype(np.float32)
        return out

    def contraction(self, L, q, sx, zx):
        """Integer conv or matmul of q (i8, zero point zx) with the quantized
        weights, plus the i32 bias: (accumulator, accumulator scales)."""
        w = L["w"]
        if L["kind"] == "fc":
            axis = 1
        elif L["depthwise"]:
            axis = 2
        else:
            axis = 3 if L["layout"] == "nhwc" else 0
        moved = np.moveaxis(w, axis, 0)
        cout = moved.shape[0]
        if self.per_channel:
            sw = [choose_symmetric_weight(moved[c]) for c in range(cout)]
        else:
            sw = [choose_symmetric_weight(w)] * cout
        wq = np.empty(moved.shape, np.int64)
        for c in range(cout):
            wq[c] = np.vectorize(
                lambda v: quantize(float(v), sw[c], 0, -127, 127))(moved[c])
        wq = np.moveaxis(wq, 0, axis)
        sacc = [f32(f32(sx) * f32(s)) for s in sw]
        xc = q - zx
        if L["kind"] == "fc":
            acc = xc @ wq
        else:
            xin = to_nhwc(xc, L["layout"])
            xin = pad_nhwc(xin, L["pad"], 0)  # padding with the zero point
            wn = wq if L["layout"] == "nhwc" else wq.transpose(2, 3, 1, 0)
            acc = from_nhwc(conv_nhwc(xin, wn, L["stride"], L["depthwise"]),
                            L["layout"])
        if L["b"] is not None:
            bq = np.array([quantize(float(L["b"][c]), sacc[c], 0,
                                    -2 ** 31, 2 ** 31 - 1) for c in range(cout)])
            shape = [1] * acc.ndim
            shape[acc.ndim - 1 if L["kind"] == "fc" or L["layout"] == "nhwc" else 1] = -1
            acc = acc + bq.reshape(shape)
        return acc.astype(np.int64), sacc


# --- Cases -----------------------------------------------------------------------

def case(name, in_shape, build, sqnr, seed):
    return dict(name=name, in_shape=in_shape, build=build, sqnr=sqnr, seed=seed)


def c_fc_odd(m):          # FC + bias + ReLU, 7x33x5
    m.fc("fc", 5, relu=True)


def c_fc_1x1(m):          # 1x1x1 matmul, no bias
    m.fc("fc", 1, relu=False, bias=False)


def c_fc_transb(m):       # Gemm transB=1 (transposed [N, K] weight) + ReLU
    m.fc("fc", 5, relu=True, transposed=True)


def c_conv_nhwc(m):       # strided, padded NHWC conv + ReLU, then a 1x1 conv
    m.conv("c1", 8, 3, stride=2, pad=1)
    m.conv("c2", 6, 1, relu=False)


def c_conv_nchw(m):       # NCHW conv + bias + ReLU, then a conv without ReLU
    m.conv("c1", 6, 3, pad=1, layout="nchw")
    m.conv("c2", 4, 3, relu=False, layout="nchw")


def c_depthwise(m):       # conv, depthwise + ReLU, 1x1 projection
    m.conv("c1", 8, 3, pad=1)
    m.conv("dw", 8, 3, pad=1, depthwise=True)
    m.conv("pw", 5, 1, relu=False)


def c_residual_pool(m):   # conv, residual add + ReLU, avg and max pooling, FC
    m.conv("c1", 8, 3, pad=1)
    m.mark()
    m.conv("c2", 8, 3, pad=1, relu=False)
    m.add("res", "c1", relu=True)
    m.pool("avg", 2, "avg")
    m.pool("max", 2, "max")
    m.flatten("flat")
    m.fc("fc", 10)


CASES = [
    case("fc_7x33x5", [7, 33], c_fc_odd, 30.0, 1),
    # One product x * w: the SQNR is that of two 8-bit roundings alone.
    case("fc_1x1x1", [1, 1], c_fc_1x1, 20.0, 2),
    # Other weights and inputs (seed 7) than fc_7x33x5: about 25.5 dB.
    case("fc_gemm_transb", [7, 33], c_fc_transb, 25.0, 7),
    case("conv_nhwc", [1, 9, 9, 3], c_conv_nhwc, 25.0, 3),
    case("conv_nchw", [1, 3, 8, 8], c_conv_nchw, 25.0, 4),
    case("depthwise", [1, 8, 8, 4], c_depthwise, 25.0, 5),
    case("residual_pool", [1, 8, 8, 3], c_residual_pool, 25.0, 6),
]


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d):\n%s%s" % (
            " ".join(cmd), p.returncode, p.stdout, p.stderr))
    return p.stdout


def sqnr_db(ref, test):
    noise = np.sum((ref.astype(np.float64) - test.astype(np.float64)) ** 2)
    signal = np.sum(ref.astype(np.float64) ** 2)
    return float("inf") if noise == 0 else 10 * math.log10(signal / noise)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--case", action="append")
    p.add_argument("--modes", default="fixed-point,float")
    p.add_argument("--weights", default="per-channel,per-tensor")
    a = p.parse_args()
    qopt = os.path.join(a.bin, "qopt")
    qopt_run = os.path.join(a.bin, "qopt-run")
    os.makedirs(a.work, exist_ok=True)
    passed = failed = 0
    for c in CASES:
        if a.case and c["name"] not in a.case:
            continue
        rng = np.random.default_rng(c["seed"])
        m = Model(c["name"], c["in_shape"], rng)
        m.mark()
        c["build"](m)
        d = os.path.join(a.work, c["name"])
        os.makedirs(d, exist_ok=True)
        src = os.path.join(d, "model.mlir")
        with open(src, "w") as f:
            f.write(m.mlir())
        # Calibration: min/max of every named tensor over 16 inputs.
        ranges = {}
        for _ in range(16):
            xb = rng.standard_normal(c["in_shape"]).astype(np.float32)
            vals, _ = float_forward(m, xb)
            for k, v in vals.items():
                if v is None:
                    continue
                lo, hi = float(v.min()), float(v.max())
                old = ranges.get(k, (lo, hi))
                ranges[k] = (min(old[0], lo), max(old[1], hi))
        calib = os.path.join(d, "calib.json")
        with open(calib, "w") as f:
            json.dump({"qopt_calibration": 1,
                       "producer": "test/Pipelines/Inputs/quantize_lower_run.py",
                       "tensors": {k: {"min": lo, "max": hi}
                                   for k, (lo, hi) in ranges.items()}}, f,
                      indent=1)
        # The float program.
        f32_ll = os.path.join(d, "f32.lowered.mlir")
        xs = [rng.standard_normal(c["in_shape"]).astype(np.float32)
              for _ in range(4)]
        float_outs = []
        try:
            run([qopt, src, "--qopt-lower-cpu", "-o", f32_ll])
            for t, x in enumerate(xs):
                xin = os.path.join(d, "x%d.npy" % t)
                np.save(xin, x)
                yout = os.path.join(d, "f32_y%d.npy" % t)
                run([qopt_run, f32_ll, "--entry", m.name, "--input", xin,
                     "--output", yout])
                float_outs.append(np.load(yout))
        except RuntimeError as e:
            print("FAIL %s: the float program: %s" % (c["name"], e))
            failed += 1
            continue
        for t, x in enumerate(xs):
            y = float_outs[t]
            _, ref = float_forward(m, x)
            err = np.max(np.abs(y - ref)) / max(np.max(np.abs(ref)), 1e-30)
            if not err < 1e-4:
                print("FAIL %s: float program differs from numpy by %.3g "
                      "(relative to the output's max)" % (c["name"], err))
                failed += 1
        for mode in a.modes.split(","):
            for weights in a.weights.split(","):
                label = "%s %s %s" % (c["name"], mode, weights)
                tag = "%s-%s" % (mode, weights)
                q_ll = os.path.join(d, "int8-%s.lowered.mlir" % tag)
                try:
                    qir = run([qopt, src, "--qopt-quantize=calibration=%s "
                               "strict=true requant-mode=%s weights=%s" % (
                                   calib, mode, weights)])
                    with open(os.path.join(d, "int8-%s.mlir" % tag), "w") as f:
                        f.write(qir)
                    run([qopt, os.path.join(d, "int8-%s.mlir" % tag),
                         "--qopt-lower-cpu", "-o", q_ll])
                except RuntimeError as e:
                    print("FAIL %s: %s" % (label, e))
                    failed += 1
                    continue
                ref = IntRef(m, ranges, mode, weights == "per-channel")
                worst, exact, total = float("inf"), 0, 0
                for t, x in enumerate(xs):
                    yout = os.path.join(d, "int8-%s-y%d.npy" % (tag, t))
                    run([qopt_run, q_ll, "--entry", m.name, "--input",
                         os.path.join(d, "x%d.npy" % t), "--output", yout])
                    y = np.load(yout)
                    r = ref.run(x)
                    exact += int(np.sum(y.view(np.uint32) == r.view(np.uint32)))
                    total += y.size
                    worst = min(worst, sqnr_db(float_outs[t], y))
                ok = exact == total and worst >= c["sqnr"]
                print("%s %s: %d/%d outputs equal the integer reference, "
                      "SQNR vs float >= %.1f dB (bound %.0f)" % (
                          "PASS" if ok else "FAIL", label, exact, total, worst,
                          c["sqnr"]))
                passed += ok
                failed += not ok
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
