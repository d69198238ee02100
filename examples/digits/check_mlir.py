#!/usr/bin/python3
"""Checks that digits.mlir computes what train.py's numpy model computes.

    /usr/bin/python3 examples/digits/check_mlir.py [--count N] [--llvm-bin DIR]

Uses only upstream MLIR tools (mlir-opt, mlir-runner of LLVM 22), not qopt:
writes a wrapper module to a temporary directory (digits.mlir plus a @main
that calls @digits on the first N held-out images as constants and prints
each result's float32 bits with printMemrefI32), lowers it to the LLVM
dialect, runs it, and compares the logits with test_logits.npy (the numpy
forward pass in float64 over the float32 weights, rounded to float32).
Reports the largest absolute difference and whether the predicted classes
agree; exits non-zero if a difference exceeds --tol or a class differs.

With --model, runs another model with the same @digits signature instead
(for instance qopt's quantized output) and only reports how far it is from
the float model and its top-1 accuracy.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

PIPELINE = [
    "--convert-elementwise-to-linalg",
    "--one-shot-bufferize=bufferize-function-boundaries",
    "--convert-linalg-to-loops",
    "--convert-scf-to-cf",
    "--expand-strided-metadata",
    "--lower-affine",
    "--finalize-memref-to-llvm",
    "--convert-math-to-llvm",
    "--convert-arith-to-llvm",
    "--convert-index-to-llvm",
    "--convert-cf-to-llvm",
    "--convert-func-to-llvm",
    "--reconcile-unrealized-casts",
]


def fmt(x):
    x = np.float32(x)
    s = repr(float(x))
    return s if ("." in s.split("e")[0]) else s.replace("e", ".0e", 1)


def wrapper(model_text, images):
    """The model plus a @main; inside the model's module if it prints one."""
    lines = ["",
             "func.func private @printMemrefI32(memref<*xi32>) attributes {llvm.emit_c_interface}",
             "", "func.func @main() {"]
    for i, img in enumerate(images):
        rows = ", ".join("[" + ", ".join(fmt(v) for v in row) + "]" for row in img.reshape(8, 8))
        lines += [
            f"  %x{i} = arith.constant dense<[[[{rows}]]]> : tensor<1x1x8x8xf32>",
            f"  %y{i} = func.call @digits(%x{i}) : (tensor<1x1x8x8xf32>) -> tensor<1x10xf32>",
            f"  %b{i} = arith.bitcast %y{i} : tensor<1x10xf32> to tensor<1x10xi32>",
            f"  %m{i} = bufferization.to_buffer %b{i} : tensor<1x10xi32> to memref<1x10xi32>",
            f"  %u{i} = memref.cast %m{i} : memref<1x10xi32> to memref<*xi32>",
            f"  func.call @printMemrefI32(%u{i}) : (memref<*xi32>) -> ()",
        ]
    lines += ["  return", "}", ""]
    extra = "\n".join(lines)
    if re.search(r"^module\b", model_text, re.M):  # e.g. qopt's output
        end = model_text.rindex("}")
        return model_text[:end] + extra + model_text[end:]
    return model_text + extra


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(HERE, "digits.mlir"),
                    help="the model to run (default: digits.mlir); any func @digits with the "
                         "same signature, e.g. qopt's quantized output, which is only reported on")
    ap.add_argument("--count", type=int, default=300, help="number of test images (default: all 300)")
    ap.add_argument("--llvm-bin", default="/usr/lib/llvm-22/bin")
    ap.add_argument("--llvm-lib", default="/usr/lib/llvm-22/lib")
    ap.add_argument("--tol", type=float, default=1e-4, help="largest absolute difference allowed")
    args = ap.parse_args()

    test_x = np.load(os.path.join(HERE, "test_x.npy"))[:args.count]
    test_y = np.load(os.path.join(HERE, "test_y.npy"))[:args.count]
    expected = np.load(os.path.join(HERE, "test_logits.npy"))[:args.count]
    with open(args.model) as f:
        model = f.read()

    with tempfile.TemporaryDirectory(prefix="digits-check-") as tmp:
        src = os.path.join(tmp, "wrapper.mlir")
        low = os.path.join(tmp, "lowered.mlir")
        with open(src, "w") as f:
            f.write(wrapper(model, test_x))
        subprocess.run([os.path.join(args.llvm_bin, "mlir-opt"), src, *PIPELINE, "-o", low], check=True)
        libs = ",".join(os.path.join(args.llvm_lib, n)
                        for n in ("libmlir_runner_utils.so", "libmlir_c_runner_utils.so"))
        out = subprocess.run([os.path.join(args.llvm_bin, "mlir-runner"), low, "-e", "main",
                              "-entry-point-result=void", f"-shared-libs={libs}"],
                             check=True, capture_output=True, text=True).stdout

    # printMemrefI32 prints a header line, then the data as [[v0, ..., v9]].
    rows = re.findall(r"\[\[([-0-9, ]+)\]\]", out)
    if len(rows) != len(test_x):
        sys.exit(f"error: expected {len(test_x)} results from mlir-runner, parsed {len(rows)}")
    bits = np.array([[int(v) for v in r.split(",")] for r in rows], dtype=np.int64)
    got = bits.astype(np.uint32).view(np.float32).reshape(len(test_x), 10)

    diff = np.abs(got.astype(np.float64) - expected.astype(np.float64))
    same_class = (got.argmax(axis=1) == expected.argmax(axis=1))
    correct = (got.argmax(axis=1) == test_y).sum()
    print(f"images: {len(test_x)}")
    print(f"max |mlir - numpy|: {diff.max():.3g} (logit range {expected.min():.3g} .. {expected.max():.3g}); "
          f"mean {diff.mean():.3g}")
    print(f"max |mlir - numpy| per image, first 5: " + ", ".join(f"{d:.3g}" for d in diff.max(axis=1)[:5]))
    print(f"bit-identical logits: {(diff == 0).mean() * 100:.1f}%")
    print(f"predicted class agrees with numpy: {same_class.sum()}/{len(test_x)}")
    print(f"top-1 of the MLIR model on these images: {correct}/{len(test_x)}")
    noise = got.astype(np.float64) - expected.astype(np.float64)
    signal = float((expected.astype(np.float64) ** 2).sum())
    if (noise ** 2).sum() > 0:
        sqnr = 10 * np.log10(signal / float((noise ** 2).sum()))
        print(f"logit SQNR against the numpy float model: {sqnr:.1f} dB")
    if os.path.abspath(args.model) != os.path.join(HERE, "digits.mlir"):
        return  # another model (quantized): a report, not a check
    if diff.max() > args.tol or not same_class.all():
        sys.exit("FAIL")
    print("OK")


if __name__ == "__main__":
    main()
