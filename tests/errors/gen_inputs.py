#!/usr/bin/python3
"""Writes the tiny .npy inputs of the golden error cases in tests/errors/.

Run from the project root with Debian's Python and NumPy:

    /usr/bin/python3 tests/errors/gen_inputs.py

The files are committed; rerun this only to change them.
    a23.npy     float32 ones, shape (2, 3)       an "ij" argument
    b34.npy     float32 ones, shape (3, 4)       a "jk" argument matching a23
    b54.npy     float32 ones, shape (5, 4)       a "jk" argument that does not
    v3.npy      float32 [0, 1, 2], shape (3,)    a rank-1 argument
    r9.npy      float32 zeros, shape (1,)*9      more axes than ueajc supports
    notnpy.npy  plain text, not an npy file
    trunc.npy   a valid (2, 3) float32 header with 8 of its 24 data bytes
"""
import os

import numpy as np

D = os.path.join("tests", "errors")


def save(name, arr):
    np.save(os.path.join(D, name), arr)


save("a23.npy", np.ones((2, 3), np.float32))
save("b34.npy", np.ones((3, 4), np.float32))
save("b54.npy", np.ones((5, 4), np.float32))
save("v3.npy", np.arange(3, dtype=np.float32))
save("r9.npy", np.zeros((1,) * 9, np.float32))

with open(os.path.join(D, "notnpy.npy"), "wb") as f:
    f.write(b"this is not an npy file\n")

full = os.path.join(D, "trunc.npy")
save("trunc.npy", np.ones((2, 3), np.float32))
with open(full, "rb") as f:
    data = f.read()
with open(full, "wb") as f:
    f.write(data[: len(data) - 16])
