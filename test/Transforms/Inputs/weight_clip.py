#!/usr/bin/env python3
"""weight-clip=search against the min/max baseline on a model with outliers.

gen DIR: a float matmul (K = 256, N = 64) whose weight is Gaussian with one
large outlier in about a fifth of the 4-bit groups of 32, and 16 rows of
Gaussian activations. check DIR: reads the outputs of the two compiled
programs (y_none.npy, y_search.npy) and prints each one's mean squared error
against the float64 product computed here with numpy; asserts that the
search's error is lower.
"""
import os
import sys

import numpy as np

K, N, M = 256, 64, 16


def data():
    rng = np.random.default_rng(7)
    w = rng.standard_normal((K, N)).astype(np.float32) * 0.05
    for n in range(N):
        for g in range(K // 32):
            if rng.random() < 0.2:
                w[g * 32 + rng.integers(32), n] = rng.choice([-1, 1]) * 0.6
    a = rng.standard_normal((M, K)).astype(np.float32)
    return w, a


def gen(out):
    w, a = data()
    np.save(os.path.join(out, "a.npy"), a)
    with open(os.path.join(out, "model.mlir"), "w") as f:
        f.write(f"""func.func @main(%x: tensor<{M}x{K}xf32>) -> tensor<{M}x{N}xf32> {{
  %w = arith.constant dense<"0x{w.tobytes().hex().upper()}"> : tensor<{K}x{N}xf32>
  %z = arith.constant dense<0.0> : tensor<{M}x{N}xf32>
  %y = linalg.matmul ins(%x, %w : tensor<{M}x{K}xf32>, tensor<{K}x{N}xf32>) outs(%z : tensor<{M}x{N}xf32>) -> tensor<{M}x{N}xf32>
  return %y : tensor<{M}x{N}xf32>
}}
""")


def check(out):
    w, a = data()
    ref = a.astype(np.float64) @ w.astype(np.float64)
    mse = {}
    for name in ("none", "search"):
        y = np.load(os.path.join(out, f"y_{name}.npy")).astype(np.float64)
        mse[name] = float(np.mean((y - ref) ** 2))
        print(f"weight-clip={name}: output mse {mse[name]:.3e}")
    better = mse["search"] < mse["none"]
    print(f"search / none: {mse['search'] / mse['none']:.3f}: "
          f"{'LOWER' if better else 'NOT LOWER'}")
    return better


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2])
    else:
        sys.exit(0 if check(sys.argv[2]) else 1)
