#!/usr/bin/env python3
"""qopt.matmul_nbits `compute bf16` through qopt-lower-cpu, against numpy.

gen DIR: writes DIR/nbits.mlir with one function per case (random packed
weights, scales and zero points written directly in MatMulNBits' layout, each
op marked `compute bf16`) and DIR/<case>_a.npy inputs.
check DIR: reads DIR/<case>_y.npy (qopt-run's outputs) and checks two things
per case:

1. Bit-exactness with an emulation of AVX512-BF16 written here from Intel's
   pseudo-code (SDM, VCVTNEPS2BF16 and VDPBF16PS), independent of qopt:
   bf16(x) rounds a float32 to nearest even on its upper 16 bits, subnormal
   inputs become signed zeros; the weight is w = float32((q - zp) * scale),
   rounded to bf16; per output one float32 accumulator starts at 0 and, for
   each K pair p in order, acc = fma(a[2p+1], w[2p+1], acc) then
   acc = fma(a[2p], w[2p], acc), each fma rounded once to float32 (the
   product of two bf16 values is exact in float32), subnormal results
   flushed to zero. The fma is emulated in float64: the product is exact
   there and, as argued in docs/numerics.md, rounding the float64 sum to
   float32 equals rounding the exact sum.
2. The error bound of docs/numerics.md ("bf16 compute for weight-only")
   against the float64 product of the activations and the float32
   dequantized weights:
   |y - sum a*w| <= ((2u + u^2) + gamma_K (1 + u)^2) * sum |a*w| with
   u = 2^-8 (bf16) and gamma_K = K 2^-24 / (1 - K 2^-24).

It also reports how many outputs the other pair order (even K first) would
change: a nonzero count shows that check 1 can tell the orders apart.
"""
import os
import sys
import zlib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# The MatMulNBits packing and the IR constant writers of the f32 test.
from matmul_nbits import dense_f32, dense_i8, pack  # noqa: E402

# name, M, K, N, bits, group, zero points stored, input shape prefix
CASES = [
    ("w4_g32_gemv", 1, 128, 40, 4, 32, True, None),
    ("w4_g32_rows5", 5, 128, 40, 4, 32, False, None),
    ("w4_g32_rows20", 20, 64, 48, 4, 32, True, None),
    ("w4_g8_k24", 3, 24, 17, 4, 8, True, None),
    ("w8_g16_gemv", 1, 64, 33, 8, 16, True, None),
    ("w8_g64_rows16", 16, 64, 16, 8, 64, False, None),
    ("w4_batched", 6, 64, 20, 4, 64, False, (2, 3)),
    ("w4_g128_k4096", 2, 4096, 32, 4, 128, False, None),
    # 16 rows and a block of 1.
    ("w4_g32_rows17", 17, 64, 20, 4, 32, True, None),
    # Rounding ties, subnormal and large activations (special_values).
    ("w4_g16_special", 3, 64, 16, 4, 16, True, None),
]


def special_values(a):
    """Overwrites the first entries of each row with values whose bf16
    rounding is a corner case: exact ties (rounded to even, up or down),
    values just above a tie, subnormals (read as zero) and a large one."""
    ties = np.array([1 + 2.0**-8, 1 + 3 * 2.0**-8, -(1 + 2.0**-8),
                     1 + 2.0**-8 + 2.0**-23, 3.0e-39, -1.0e-40, 1.0e30, 0.0,
                     -0.0, 2.0**-126, 255.5, -(1 + 3 * 2.0**-8)], np.float32)
    a[:, :ties.size] = ties
    return a


def case_data(name, m, k, n, bits, group):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    groups = k // group
    q = rng.integers(0, 2**bits, size=(n, k), dtype=np.int64)
    scales = rng.uniform(0.01, 0.1, size=(n, groups)).astype(np.float32)
    zps = rng.integers(0, 2**bits, size=(n, groups), dtype=np.int64)
    a = rng.standard_normal((m, k)).astype(np.float32)
    if name.endswith("_special"):
        a = special_values(a)
    return q, scales, zps, a


def gen(out):
    lines = []
    for name, m, k, n, bits, group, has_zp, prefix in CASES:
        q, scales, zps, a = case_data(name, m, k, n, bits, group)
        groups = k // group
        shape = "x".join(map(str, prefix)) if prefix else str(m)
        a_in = a.reshape(*prefix, k) if prefix else a
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
            f"group_size {group} compute bf16 : tensor<{shape}x{k}xf32>, "
            f"tensor<{n}x{groups}x{blob}xi8>, tensor<{n}x{groups}xf32>"
            f"{zp_type} -> tensor<{shape}x{n}xf32>")
        lines.append(f"  return %y : tensor<{shape}x{n}xf32>")
        lines.append("}")
    with open(os.path.join(out, "nbits.mlir"), "w") as f:
        f.write("\n".join(lines) + "\n")


def to_bf16(x):
    """VCVTNEPS2BF16 on float32 values (no NaN or infinity in the data):
    subnormals to signed zero, else round to nearest even on bit 16."""
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    bits = bits.astype(np.uint64)
    sign = bits & 0x80000000
    subnormal = (bits & 0x7F800000) == 0
    lsb = (bits >> 16) & 1
    rounded = ((bits + 0x7FFF + lsb) >> 16) << 16
    rounded = np.where(subnormal, sign, rounded).astype(np.uint32)
    return rounded.view(np.float32)


def flush(x):
    """Flush-to-zero of float32 results (keeps the sign)."""
    tiny = np.abs(x) < np.float32(2.0**-126)
    return np.where(tiny, np.copysign(np.float32(0), x), x).astype(np.float32)


def fma32(x, y, acc):
    """float32(x * y + acc) rounded once, x and y bf16 values."""
    exact = x.astype(np.float64) * y.astype(np.float64) + acc.astype(
        np.float64)
    return flush(exact.astype(np.float32))


def vdpbf16ps_chain(a_bf, w_bf, odd_first=True):
    """a_bf [M, K], w_bf [K, N] -> [M, N]: VDPBF16PS over the K pairs."""
    m, k = a_bf.shape
    acc = np.zeros((m, w_bf.shape[1]), np.float32)
    for p in range(k // 2):
        order = (2 * p + 1, 2 * p) if odd_first else (2 * p, 2 * p + 1)
        for kk in order:
            acc = fma32(a_bf[:, kk:kk + 1], w_bf[kk:kk + 1, :], acc)
    return acc


def check(out):
    ok = True
    for name, m, k, n, bits, group, has_zp, prefix in CASES:
        q, scales, zps, a = case_data(name, m, k, n, bits, group)
        if not has_zp:
            zps = np.full_like(zps, 2 ** (bits - 1))
        g = np.arange(k) // group
        # float32 dequantization, as MatMulNBits: (q - zp) * scale.
        w = ((q - zps[:, g]).astype(np.float32) * scales[:, g]).T  # [K, N]
        got = np.load(os.path.join(out, name + "_y.npy")).reshape(m, n)
        emu = vdpbf16ps_chain(to_bf16(a), to_bf16(w))
        mismatches = int(np.sum(got.view(np.uint32) != emu.view(np.uint32)))
        other = vdpbf16ps_chain(to_bf16(a), to_bf16(w), odd_first=False)
        order_diff = int(np.sum(other.view(np.uint32) != emu.view(np.uint32)))
        ref = a.astype(np.float64) @ w.astype(np.float64)
        mag = np.abs(a.astype(np.float64)) @ np.abs(w.astype(np.float64))
        u, eps = 2.0**-8, 2.0**-24
        gamma = k * eps / (1 - k * eps)
        bound = ((2 * u + u * u) + gamma * (1 + u)**2) * mag
        err = np.abs(got.astype(np.float64) - ref)
        worst = float(np.max(err / bound))
        good = mismatches == 0 and bool(np.all(err <= bound))
        ok &= good
        print(f"{name}: {m}x{k}x{n} w{bits} g{group}, bit mismatches "
              f"{mismatches}/{m * n}, max error / bound {worst:.3f}, "
              f"even-first order would change {order_diff}: "
              f"{'OK' if good else 'FAIL'}")
    return ok


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2])
    else:
        sys.exit(0 if check(sys.argv[2]) else 1)
