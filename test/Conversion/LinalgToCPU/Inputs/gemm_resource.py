"""Contractions whose weights are `dense_resource` blobs (as qopt-translate
--import-onnx keeps large initializers), run against numpy.

  gemm_resource.py gen DIR    writes DIR/model.mlir and the inputs
  gemm_resource.py check DIR  compares qopt-run's outputs with numpy

model.mlir has three functions:
  @conv1x1: a 1x1 NCHW convolution 1x24x3x10 -> 1x40x3x10 (rec's shape
            of convolution: M = H*W, N = F, K = C, N tail 40 = 2*16 + 8);
  @matmul:  1x7x33 times 33x37 (M, N and K tails);
  @matmul_i8: i8 x i8 -> i32, 5x33 times 33x21.
The f32 results may differ from numpy's by summation order only (checked to
1e-5 of the row's magnitude); the i32 result must be exact.
"""
import os
import sys

import numpy as np


def blob(a):
    # A resource blob: 4-byte alignment, then the little-endian data.
    return "0x04000000" + a.astype(a.dtype.newbyteorder("<")).tobytes().hex().upper()


def gen(d):
    rng = np.random.default_rng(7)
    wc = rng.standard_normal((40, 24, 1, 1)).astype(np.float32)
    wm = rng.standard_normal((33, 37)).astype(np.float32)
    wi = rng.integers(-128, 128, (33, 21)).astype(np.int8)
    np.save(os.path.join(d, "wc.npy"), wc)
    np.save(os.path.join(d, "wm.npy"), wm)
    np.save(os.path.join(d, "wi.npy"), wi)
    np.save(os.path.join(d, "xc.npy"),
            rng.standard_normal((1, 24, 3, 10)).astype(np.float32))
    np.save(os.path.join(d, "xm.npy"),
            rng.standard_normal((1, 7, 33)).astype(np.float32))
    np.save(os.path.join(d, "xi.npy"),
            rng.integers(-128, 128, (5, 33)).astype(np.int8))
    mlir = f"""
func.func @conv1x1(%x: tensor<1x24x3x10xf32>) -> tensor<1x40x3x10xf32> {{
  %w = arith.constant dense_resource<wc> : tensor<40x24x1x1xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x40x3x10xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<1x40x3x10xf32>) -> tensor<1x40x3x10xf32>
  %y = linalg.conv_2d_nchw_fchw {{dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}}
       ins(%x, %w : tensor<1x24x3x10xf32>, tensor<40x24x1x1xf32>)
       outs(%f : tensor<1x40x3x10xf32>) -> tensor<1x40x3x10xf32>
  return %y : tensor<1x40x3x10xf32>
}}
func.func @matmul(%x: tensor<1x7x33xf32>) -> tensor<1x7x37xf32> {{
  %w = arith.constant dense_resource<wm> : tensor<33x37xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x7x37xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<1x7x37xf32>) -> tensor<1x7x37xf32>
  %y = linalg.generic {{indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>,
                                        affine_map<(b, m, n, k) -> (k, n)>,
                                        affine_map<(b, m, n, k) -> (b, m, n)>],
                       iterator_types = ["parallel", "parallel", "parallel", "reduction"]}}
       ins(%x, %w : tensor<1x7x33xf32>, tensor<33x37xf32>) outs(%f : tensor<1x7x37xf32>) {{
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  }} -> tensor<1x7x37xf32>
  return %y : tensor<1x7x37xf32>
}}
func.func @matmul_i8(%x: tensor<5x33xi8>) -> tensor<5x21xi32> {{
  %w = arith.constant dense_resource<wi> : tensor<33x21xi8>
  %z = arith.constant 0 : i32
  %e = tensor.empty() : tensor<5x21xi32>
  %f = linalg.fill ins(%z : i32) outs(%e : tensor<5x21xi32>) -> tensor<5x21xi32>
  %y = linalg.matmul ins(%x, %w : tensor<5x33xi8>, tensor<33x21xi8>)
       outs(%f : tensor<5x21xi32>) -> tensor<5x21xi32>
  return %y : tensor<5x21xi32>
}}

{{-#
  dialect_resources: {{
    builtin: {{
      wc: "{blob(wc)}",
      wm: "{blob(wm)}",
      wi: "{blob(wi)}"
    }}
  }}
#-}}
"""
    with open(os.path.join(d, "model.mlir"), "w") as f:
        f.write(mlir)


def check(d):
    ld = lambda n: np.load(os.path.join(d, n))
    xc, wc = ld("xc.npy").astype(np.float64), ld("wc.npy").astype(np.float64)
    xm, wm = ld("xm.npy").astype(np.float64), ld("wm.npy").astype(np.float64)
    xi, wi = ld("xi.npy").astype(np.int64), ld("wi.npy").astype(np.int64)
    refs = {
        "conv1x1": np.einsum("nchw,fc->nfhw", xc, wc[:, :, 0, 0]),
        "matmul": xm @ wm,
        "matmul_i8": xi @ wi,
    }
    ok = True
    for name, ref in refs.items():
        out = ld(name + ".out.npy")
        if out.shape != ref.shape:
            print(f"{name}: FAIL shape {out.shape} != {ref.shape}")
            ok = False
            continue
        if name == "matmul_i8":
            good = out.dtype == np.int32 and np.array_equal(out, ref)
            print(f"{name}: {'PASS' if good else 'FAIL'} exact")
        else:
            err = np.abs(out.astype(np.float64) - ref).max()
            scale = np.abs(ref).max()
            good = out.dtype == np.float32 and err <= 1e-5 * scale
            print(f"{name}: {'PASS' if good else 'FAIL'} max abs error "
                  f"{err:.3g} (max |ref| {scale:.3g})")
        ok = ok and good
    return 0 if ok else 1


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2])
    else:
        sys.exit(check(sys.argv[2]))
