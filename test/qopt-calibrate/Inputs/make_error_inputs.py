"""Samples for test/qopt-calibrate/errors.test (model Inputs/two_inputs.mlir:
a, b: 2x3 float32)."""
import os
import sys

import numpy as np

out = sys.argv[1]
for d in ("a", "b", "b3", "bad"):
    os.makedirs(os.path.join(out, d), exist_ok=True)
ones = np.ones((2, 3), np.float32)
for i in range(2):
    np.save(os.path.join(out, "a", f"s{i}.npy"), ones * (i + 1))
    np.save(os.path.join(out, "b", f"s{i}.npy"), ones)
for i in range(3):
    np.save(os.path.join(out, "b3", f"s{i}.npy"), ones)
np.save(os.path.join(out, "bad", "shape.npy"), np.ones((3, 2), np.float32))
np.save(os.path.join(out, "bad", "dtype.npy"), np.ones((2, 3), np.float64))
nan = ones.copy()
nan[1, 2] = np.nan
np.save(os.path.join(out, "bad", "nan.npy"), nan)
neg = ones.copy()
neg[0, 1] = -5  # a + b = -4 there: sqrt gives NaN in "sq" only
np.save(os.path.join(out, "bad", "neg.npy"), neg)
