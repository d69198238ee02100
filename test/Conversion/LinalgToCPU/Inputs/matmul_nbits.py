#!/usr/bin/env python3
"""qopt.matmul_nbits through qopt-cpu-matmul-nbits, against numpy.

gen DIR: writes DIR/nbits.mlir with one function per case (random packed
weights, scales and zero points written directly in MatMulNBits' layout, so
the test does not depend on qopt-legalize) and DIR/<case>_a.npy inputs.
check DIR: reads DIR/<case>_y.npy (qopt-run's outputs) and compares each with
a float64 numpy reference that dequantizes the weight as MatMulNBits defines
it, W[k, n] = (q - zp) * scale, within the float32 summation-order bound
(K + 2) * 2^-24 * sum_k |a * w| per output.
"""
import os
import sys
import zlib

import numpy as np

# name, M, K, N, bits, group, zero points stored
CASES = [
    ("w4_g32_gemv", 1, 128, 40, 4, 32, False),
    ("w4_g32_rows5", 5, 128, 40, 4, 32, True),
    ("w4_g2", 3, 8, 17, 4, 2, True),
    ("w8_g16_gemv", 1, 64, 33, 8, 16, True),
    ("w8_g64_rows4", 4, 64, 16, 8, 64, False),
    ("w4_batched", 6, 64, 20, 4, 64, False),  # input [2, 3, K]
    # Nibble-plane layout (4 bits, groups a multiple of 8), with zero points:
    # GEMV, and 6 rows (one tile-m block of 4 plus 2 single-row GEMVs).
    ("w4_g8_gemv_zp", 1, 64, 48, 4, 8, True),
    ("w4_g128_gemv_zp", 1, 256, 33, 4, 128, True),
    ("w4_g16_rows6_zp", 6, 96, 24, 4, 16, True),
]


def case_data(name, m, k, n, bits, group):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    groups = k // group
    q = rng.integers(0, 2**bits, size=(n, k), dtype=np.int64)
    scales = rng.uniform(0.01, 0.1, size=(n, groups)).astype(np.float32)
    zps = rng.integers(0, 2**bits, size=(n, groups), dtype=np.int64)
    a = rng.standard_normal((m, k)).astype(np.float32)
    return q, scales, zps, a


def pack(q, bits, group):
    n, k = q.shape
    if bits == 4:
        b = (q[:, 0::2] | (q[:, 1::2] << 4)).astype(np.uint8)
    else:
        b = q.astype(np.uint8)
    return b.reshape(n, k // group, group * bits // 8)


def dense_i8(arr):
    v = arr.astype(np.uint8).astype(np.int8)
    return np.array2string(v, separator=", ", threshold=10**9,
                           max_line_width=10**9).replace("\n", "")


def dense_f32(arr):
    rows = ["[" + ", ".join("%.9e" % x for x in row) + "]" for row in arr]
    return "[" + ", ".join(rows) + "]"


def gen(out):
    lines = []
    for name, m, k, n, bits, group, has_zp in CASES:
        q, scales, zps, a = case_data(name, m, k, n, bits, group)
        groups = k // group
        shape = "2x3" if name == "w4_batched" else str(m)
        a_in = a.reshape(2, 3, k) if name == "w4_batched" else a
        np.save(os.path.join(out, name + "_a.npy"), a_in)
        w = pack(q, bits, group)
        blob = group * bits // 8
        lines.append(f"func.func @{name}(%a: tensor<{shape}x{k}xf32>) -> "
                     f"tensor<{shape}x{n}xf32> {{")
        lines.append(f"  %w = arith.constant dense<{dense_i8(w)}> : "
                     f"tensor<{n}x{groups}x{blob}xi8>")
        lines.append(f"  %s = arith.constant dense<{dense_f32(scales)}> : "
                     f"tensor<{n}x{groups}xf32>")
        zp_use, zp_type = "", ""
        if has_zp:
            lines.append(f"  %z = arith.constant dense<{dense_i8(zps)}> : "
                         f"tensor<{n}x{groups}xi8>")
            zp_use, zp_type = " zero_points %z", f", tensor<{n}x{groups}xi8>"
        lines.append(
            f"  %y = qopt.matmul_nbits %a, %w scales %s{zp_use} bits {bits} "
            f"group_size {group} : tensor<{shape}x{k}xf32>, "
            f"tensor<{n}x{groups}x{blob}xi8>, tensor<{n}x{groups}xf32>"
            f"{zp_type} -> tensor<{shape}x{n}xf32>")
        lines.append(f"  return %y : tensor<{shape}x{n}xf32>")
        lines.append("}")
    with open(os.path.join(out, "nbits.mlir"), "w") as f:
        f.write("\n".join(lines) + "\n")


def check(out):
    ok = True
    for name, m, k, n, bits, group, has_zp in CASES:
        q, scales, zps, a = case_data(name, m, k, n, bits, group)
        if not has_zp:
            zps = np.full_like(zps, 2 ** (bits - 1))
        g = np.arange(k) // group
        # float32 dequantization, as MatMulNBits: (q - zp) * scale.
        w = ((q - zps[:, g]).astype(np.float32) * scales[:, g]).T  # [K, N]
        ref = a.astype(np.float64) @ w.astype(np.float64)
        bound = (k + 2) * 2.0**-24 * (np.abs(a.astype(np.float64)) @
                                      np.abs(w.astype(np.float64)))
        got = np.load(os.path.join(out, name + "_y.npy")).reshape(m, n)
        err = np.abs(got.astype(np.float64) - ref)
        worst = float(np.max(err / bound))
        good = bool(np.all(err <= bound))
        ok &= good
        print(f"{name}: {m}x{k}x{n} w{bits} g{group}, max error / bound "
              f"{worst:.3f}: {'OK' if good else 'FAIL'}")
    return ok


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2])
    else:
        sys.exit(0 if check(sys.argv[2]) else 1)
