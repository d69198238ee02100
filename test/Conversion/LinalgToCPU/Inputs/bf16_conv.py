"""A bf16 convolution (qopt-legalize's #qopt.precision<act = bf16, weight =
bf16>) run end to end, checked against numpy.

    bf16_conv.py gen DIR    writes DIR/model.mlir and DIR/x.npy
    bf16_conv.py check DIR  reads DIR/y.npy (qopt-run's output) and compares

The model is a 3x3 NCHW convolution with stride 2 (the im2col path of
qopt-cpu-gemm) from 3 to 20 channels (N = 20 leaves a tail of the 16-wide
kernel), with #qopt.precision bf16. The reference rounds the input and the
weights to bf16 here (round to nearest even on the float32 bits, not with
qopt's code), then convolves in float64: qopt accumulates the exact bf16
products in f32, so the outputs agree to f32 accumulation error (1e-5 of the
output's magnitude). The check also requires the output to differ from the
float32 convolution by more than that (the bf16 rounding really happened).
"""
import os
import sys

import numpy as np

N, C, H, W, F, K, S = 1, 3, 11, 13, 20, 3, 2
OH, OW = (H - K) // S + 1, (W - K) // S + 1


def bf16(a):
    """Rounds float32 values to bf16 (nearest even), returned as float32."""
    u = np.ascontiguousarray(a, np.float32).view(np.uint32).astype(np.uint64)
    r = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return r.astype(np.uint32).view(np.float32)


def conv(x, w):
    x, w = x.astype(np.float64), w.astype(np.float64)
    y = np.zeros((N, F, OH, OW))
    for i in range(OH):
        for j in range(OW):
            patch = x[:, :, i * S:i * S + K, j * S:j * S + K]
            y[:, :, i, j] = np.einsum("nckl,fckl->nf", patch, w)
    return y


def weights():
    rng = np.random.default_rng(5)
    return rng.standard_normal((F, C, K, K)).astype(np.float32) * 0.3


def gen(d):
    rng = np.random.default_rng(6)
    np.save(os.path.join(d, "x.npy"),
            rng.standard_normal((N, C, H, W)).astype(np.float32))
    w = weights()
    dense = np.array2string(w, separator=", ", threshold=1 << 30,
                            floatmode="unique", max_line_width=1 << 30)
    t = lambda s: "tensor<" + "x".join(map(str, s)) + "xf32>"
    with open(os.path.join(d, "model.mlir"), "w") as f:
        f.write(f"""func.func @conv(%x: {t((N, C, H, W))}) -> {t((N, F, OH, OW))} {{
  %w = arith.constant dense<{dense}> : {t((F, C, K, K))}
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : {t((N, F, OH, OW))}
  %z = linalg.fill ins(%zero : f32) outs(%e : {t((N, F, OH, OW))}) -> {t((N, F, OH, OW))}
  %y = linalg.conv_2d_nchw_fchw {{dilations = dense<1> : tensor<2xi64>, strides = dense<{S}> : tensor<2xi64>,
                                 qopt.precision = #qopt.precision<act = bf16, weight = bf16>}}
      ins(%x, %w : {t((N, C, H, W))}, {t((F, C, K, K))}) outs(%z : {t((N, F, OH, OW))}) -> {t((N, F, OH, OW))}
  return %y : {t((N, F, OH, OW))}
}}
""")


def check(d):
    x = np.load(os.path.join(d, "x.npy"))
    y = np.load(os.path.join(d, "y.npy"))
    w = weights()
    ref = conv(bf16(x), bf16(w))
    f32 = conv(x, w)
    mag = np.max(np.abs(ref))
    err = np.max(np.abs(y - ref)) / mag
    off = np.max(np.abs(y - f32)) / mag
    print("bf16 conv %s %s: max error %.2e against the bf16 reference, "
          "%.2e against float32" % (y.dtype, y.shape, err, off))
    ok = y.shape == ref.shape and err < 1e-5 and off > 1e-4
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(gen(sys.argv[2]) if sys.argv[1] == "gen" else check(sys.argv[2]))
