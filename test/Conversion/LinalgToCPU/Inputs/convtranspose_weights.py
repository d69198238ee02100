"""ConvTranspose through qopt-cpu-gemm, against a numpy reference.

  convtranspose_weights.py gen DIR    writes DIR/{up2,up32,padded}.onnx,
                                      DIR/i8.mlir and their inputs
  convtranspose_weights.py check DIR  compares qopt-run's outputs with numpy

Where the kernel equals the strides (no padding, dilation or groups) the
ONNX importer writes ConvTranspose as one contraction over the input
channels with the initializer as its weight (up2, up32); otherwise as a
stride-1 convolution over the zero-stuffed input whose weight is a
transposing, flipping copy of the initializer (a linalg.generic), which
qopt-cpu-gemm evaluates into a constant (padded). Both must take the
packed-weight kernel.
  up2.onnx:     DB-head up-sampling, 1x6x5x7 -> 1x4x10x14, kernel 2,
                stride 2, with a bias (the PaddleOCR detector's shape);
  up32.onnx:    kernel = stride = (3, 2), batch 2, bias,
                2x5x3x4 -> 2x3x9x8;
  padded.onnx:  kernel 3, stride 2, pads 1, output_padding 1,
                1x4x5x6 -> 1x5x10x12, no bias;
  i8.mlir:      an i8 x i8 -> i32 matmul whose weight is a transposed copy
                of an i8 constant (the fold's i8 case), exact.
The reference is ConvTranspose by its definition (every input pixel
scatters its kernel-weighted values into the output), written here and
independent of the importer's zero-stuffing form. f32 results may differ
by summation order only (1e-5 of the output's magnitude).
"""
import os
import sys

import numpy as np


def conv_transpose(x, w, b, stride, pads, out_pad, group):
    n, c, h, wd = x.shape
    _, opg, kh, kw = w.shape
    icg = c // group
    f = opg * group
    sh, sw = stride
    full_h = sh * (h - 1) + out_pad + kh
    full_w = sw * (wd - 1) + out_pad + kw
    y = np.zeros((n, f, full_h, full_w), np.float64)
    for g in range(group):
        for ci in range(g * icg, (g + 1) * icg):
            for o in range(opg):
                for i in range(h):
                    for j in range(wd):
                        y[:, g * opg + o, i * sh:i * sh + kh,
                          j * sw:j * sw + kw] += (
                              x[:, ci, i, j][:, None, None] * w[ci, o])
    y = y[:, :, pads[0]:full_h - pads[2], pads[1]:full_w - pads[3]]
    if b is not None:
        y += b[None, :, None, None]
    return y


CASES = {
    # name: (x shape, w shape, bias?, stride, pads, output_padding, group)
    "up2": ((1, 6, 5, 7), (6, 4, 2, 2), True, (2, 2), (0, 0, 0, 0), 0, 1),
    "up32": ((2, 5, 3, 4), (5, 3, 3, 2), True, (3, 2), (0, 0, 0, 0), 0, 1),
    "padded": ((1, 4, 5, 6), (4, 5, 3, 3), False, (2, 2), (1, 1, 1, 1), 1,
               1),
}


def gen(d):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(11)
    for name, (xs, ws, bias, stride, pads, op, group) in CASES.items():
        x = rng.standard_normal(xs).astype(np.float32)
        w = rng.standard_normal(ws).astype(np.float32)
        b = rng.standard_normal(ws[1] * group).astype(np.float32)
        np.save(os.path.join(d, name + ".x.npy"), x)
        ref = conv_transpose(x.astype(np.float64), w.astype(np.float64),
                             b.astype(np.float64) if bias else None, stride,
                             pads, op, group)
        np.save(os.path.join(d, name + ".ref.npy"), ref)
        inits = [numpy_helper.from_array(w, "w")]
        inputs = ["x", "w"]
        if bias:
            inits.append(numpy_helper.from_array(b, "b"))
            inputs.append("b")
        node = helper.make_node("ConvTranspose", inputs, ["y"],
                                strides=list(stride), pads=list(pads),
                                output_padding=[op, op], group=group)
        graph = helper.make_graph(
            [node], name,
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, xs)],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT,
                                           ref.shape)], inits)
        model = helper.make_model(graph,
                                  opset_imports=[helper.make_opsetid("", 13)])
        onnx.save(model, os.path.join(d, name + ".onnx"))
    # i8: W = transpose(Wc) read through a copy, A[5, 12] * W[12, 19].
    wc = rng.integers(-128, 128, (19, 12)).astype(np.int8)
    xi = rng.integers(-128, 128, (5, 12)).astype(np.int8)
    np.save(os.path.join(d, "i8.x.npy"), xi)
    np.save(os.path.join(d, "i8.ref.npy"),
            xi.astype(np.int64) @ wc.T.astype(np.int64))
    vals = ", ".join("[" + ", ".join(str(v) for v in row) + "]" for row in wc)
    with open(os.path.join(d, "i8.mlir"), "w") as f:
        f.write(f"""
func.func @i8(%x: tensor<5x12xi8>) -> tensor<5x19xi32> {{
  %wc = arith.constant dense<[{vals}]> : tensor<19x12xi8>
  %e0 = tensor.empty() : tensor<12x19xi8>
  %w = linalg.generic {{indexing_maps = [affine_map<(k, n) -> (n, k)>,
                                        affine_map<(k, n) -> (k, n)>],
                       iterator_types = ["parallel", "parallel"]}}
       ins(%wc : tensor<19x12xi8>) outs(%e0 : tensor<12x19xi8>) {{
  ^bb0(%in: i8, %out: i8):
    linalg.yield %in : i8
  }} -> tensor<12x19xi8>
  %z = arith.constant 0 : i32
  %e = tensor.empty() : tensor<5x19xi32>
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<5x19xi32>) -> tensor<5x19xi32>
  %y = linalg.matmul ins(%x, %w : tensor<5x12xi8>, tensor<12x19xi8>)
       outs(%f : tensor<5x19xi32>) -> tensor<5x19xi32>
  return %y : tensor<5x19xi32>
}}
""")


def check(d):
    ok = True
    for name in list(CASES) + ["i8"]:
        ref = np.load(os.path.join(d, name + ".ref.npy"))
        out = np.load(os.path.join(d, name + ".out.npy"))
        if out.shape != ref.shape:
            print("%s: FAIL shape %s, expected %s" % (name, out.shape,
                                                      ref.shape))
            ok = False
            continue
        if name == "i8":
            bad = int(np.count_nonzero(out.astype(np.int64) != ref))
            print("%s: %s %d of %d differ" % (name, "PASS exact" if bad == 0
                                              else "FAIL", bad, ref.size))
            ok &= bad == 0
            continue
        err = float(np.max(np.abs(out - ref)) / np.max(np.abs(ref)))
        good = err <= 1e-5
        print("%s: %s max error %.2e of the magnitude" %
              (name, "PASS" if good else "FAIL", err))
        ok &= good
    return ok


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2])
    else:
        sys.exit(0 if check(sys.argv[2]) else 1)
