#!/usr/bin/python3
"""Generate tests/fixtures/tensorio/: files written by NumPy and by hand.

Run from the project root with Debian's Python and NumPy:

    /usr/bin/python3 tests/gen_tensorio_fixtures.py

The .npy files are written by NumPy itself (np.save / format.write_array),
so test_tensorio.c checks our reader against the real producer: several
dtypes, Fortran order, big-endian data, format versions 2.0 and 3.0, a 0-d
array and an empty one.  Element k (in C order) of every array follows a
formula that the C test recomputes:

    floats:   (k - 3) * 0.75       signed:   k * 37 - 100
    unsigned: k * 41               bool:     k % 3 == 0

model.safetensors is assembled byte by byte with struct and json (no torch,
no safetensors package), with bf16/fp8 tensors given as raw bit patterns,
header entries deliberately not in data order, an 8-aligned data start, and
one float32 tensor at an odd offset (the reader must copy it, not view it).
"""
import json
import os
import struct
import sys

import numpy as np
from numpy.lib import format as npformat

OUT = os.path.join("tests", "fixtures", "tensorio")


def pattern(dtype, shape):
    n = int(np.prod(shape)) if shape else 1
    k = np.arange(n)
    dt = np.dtype(dtype)
    if dt.kind == "f":
        v = (k - 3) * 0.75
    elif dt.kind == "i":
        v = k * 37 - 100
    elif dt.kind == "u":
        v = k * 41
    else:
        v = k % 3 == 0
    return v.astype(dt).reshape(shape)


def save(name, arr, version=None):
    path = os.path.join(OUT, name)
    with open(path, "wb") as f:
        if version is None:
            np.save(f, arr)
        else:
            npformat.write_array(f, arr, version=version)
    back = np.load(path)
    assert back.dtype == arr.dtype and back.shape == arr.shape and (back == arr).all()
    print("wrote", path, arr.dtype.str, arr.shape, "fortran" if np.isfortran(arr) else "")


def npy_files():
    for code in ("<f2", "<f4", "<f8", "|i1", "<i2", "<i4", "<i8",
                 "|u1", "<u2", "<u4", "<u8", "|b1"):
        save("c_%s.npy" % code[1:], pattern(code, (2, 3)))
    save("fortran_f4.npy", np.asfortranarray(pattern("<f4", (2, 3, 4))))
    save("be_f4.npy", pattern(">f4", (3, 2)))
    save("be_fortran_i8.npy", np.asfortranarray(pattern(">i8", (3, 4))))
    save("be_u2.npy", pattern(">u2", (5,)))
    save("v2_f8.npy", pattern("<f8", (4,)), version=(2, 0))
    save("v3_i2.npy", pattern("<i2", (2, 2)), version=(3, 0))
    save("scalar_f8.npy", np.array(3.25))
    save("empty_f4.npy", np.zeros((0, 3), np.float32))
    save("i8_extremes.npy", np.array([-2**63, 2**63 - 1, -1], np.int64))
    save("f2_special.npy", np.array([65504.0, 2.0**-24, -0.0, np.inf], np.float16))


def safetensors_file():
    f32 = lambda vals: struct.pack("<%df" % len(vals), *vals)
    # bf16 = the upper half of a float32 whose lower half is zero
    bf16 = struct.pack("<4H", *[struct.unpack("<I", struct.pack("<f", v))[0] >> 16
                               for v in (1.0, -2.0, 0.15625, 65536.0)])
    tensors = [  # name, dtype, shape, bytes  -- in data order
        ("idx", "I64", [], struct.pack("<q", 42)),
        ("bias", "F32", [3], f32([0.5, -1.5, 2.0])),
        ("w.bf16", "BF16", [2, 2], bf16),
        ("w.e4m3", "F8_E4M3", [4], bytes([0x38, 0xC0, 0x7E, 0x01])),
        ("w.e5m2", "F8_E5M2", [2, 2], bytes([0x3C, 0xBC, 0x7B, 0x7C])),
        ("mask", "BOOL", [3], bytes([1, 0, 1])),
        ("empty", "F16", [0, 4], b""),
        ("odd", "F32", [2], f32([7.0, -8.5])),   # starts at data offset 39
    ]
    header, data = {}, b""
    for name, dt, shape, raw in tensors:
        header[name] = {"dtype": dt, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    # Header order differs from data order; the reader sorts by offset.
    order = ["w.e5m2", "__metadata__", "odd", "bias", "empty", "w.bf16", "idx", "mask", "w.e4m3"]
    meta = {"format": "pt", "note": "hand-rolled"}
    hdr = {k: (meta if k == "__metadata__" else header[k]) for k in order}
    text = json.dumps(hdr, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    path = os.path.join(OUT, "model.safetensors")
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)
    print("wrote", path, len(tensors), "tensors,", len(data), "data bytes")


def main():
    os.makedirs(OUT, exist_ok=True)
    npy_files()
    safetensors_file()
    return 0


if __name__ == "__main__":
    sys.exit(main())
