#!/usr/bin/env python3
"""Generate tests/fixtures/dtype/*.txt: reference conversions for test_dtype.c.

Run from the project root with a Python that has NumPy and ml_dtypes
(pip install ml_dtypes; only this script needs it, the tests do not):

    python3 tests/gen_dtype_fixtures.py

Expected bit patterns come from two independent sources that must agree:

  * ml_dtypes (bfloat16, float8_e4m3fn, float8_e5m2) and NumPy (float16),
    which define the behaviour ueajc matches;
  * an exact rational reference in this file (fractions.Fraction, Python's
    round-half-even), which rounds once from the exact input value.

For float32 inputs the two are asserted to be identical (NaN included:
ml_dtypes gives the canonical quiet NaN with the input's sign; NumPy's f16
keeps NaN payloads, ueajc canonicalises like ml_dtypes, so there only
NaN-ness and sign are compared).  For float64 inputs ml_dtypes converts to
bfloat16/float8 *through float32* and therefore rounds twice in rare cases;
the fixtures use the single-rounding rational reference, which is
cross-checked against NumPy's float64 -> float16 (a single rounding) and
against ml_dtypes wherever the double is exactly a float32.  The script
also checks that the float64 table really contains double-rounding cases.

Files (all hex, one record per line, '#' lines are comments):
  f32_to_narrow.txt  f32bits bf16 f16 e4m3fn e5m2
  f64_to_narrow.txt  f64bits bf16 f16 e4m3fn e5m2
  fp8_decode.txt     code e4m3fn->f32bits e5m2->f32bits   (all 256 codes)
"""
import math
import os
import random
import struct
import sys
from fractions import Fraction

import numpy as np
import ml_dtypes

OUT = os.path.join("tests", "fixtures", "dtype")

# name: (fraction bits, bias, exponent bits, has_inf, width)
FORMATS = {
    "bf16": (7, 127, 8, True, 16),
    "f16": (10, 15, 5, True, 16),
    "e4m3": (3, 7, 4, False, 8),
    "e5m2": (2, 15, 5, True, 8),
}
ORDER = ["bf16", "f16", "e4m3", "e5m2"]
NP_TYPES = {
    "bf16": ml_dtypes.bfloat16,
    "f16": np.float16,
    "e4m3": ml_dtypes.float8_e4m3fn,
    "e5m2": ml_dtypes.float8_e5m2,
}


def ref_round(x, fmt):
    """Exact RNE rounding of the Python float x (a double) into fmt."""
    p, bias, ebits, has_inf, width = FORMATS[fmt]
    sign = (1 << (width - 1)) if math.copysign(1.0, x) < 0 else 0
    top = (1 << ebits) - 1
    inf = top << p
    nan = (top << p) | (1 << (p - 1)) if has_inf else (top << p) | ((1 << p) - 1)
    if math.isnan(x):
        return sign | nan
    if math.isinf(x):
        return sign | (inf if has_inf else nan)
    if x == 0:
        return sign
    a = Fraction(abs(x))
    e = math.frexp(abs(x))[1] - 1          # a in [2^e, 2^(e+1))
    emin = 1 - bias
    qexp = max(e, emin) - p                # quantum exponent
    n = round(a / Fraction(2) ** qexp)     # round half to even
    if n == 0:
        return sign
    if n < (1 << p):                       # subnormal (qexp == emin - p)
        return sign | n
    while n >= (1 << (p + 1)):
        n //= 2
        qexp += 1
    field = qexp + p + bias
    bits = (field << p) | (n - (1 << p))
    if has_inf:
        if field >= top:
            return sign | inf
    elif bits > (top << p) | ((1 << p) - 2):   # above 448 for e4m3fn
        return sign | nan
    return sign | bits


def lib_round(values, fmt):
    a = np.asarray(values)
    with np.errstate(all="ignore"):
        r = a.astype(NP_TYPES[fmt])
    return [int(v) for v in r.view(np.uint16 if FORMATS[fmt][4] == 16 else np.uint8)]


def f32(bits):
    return struct.unpack("<f", struct.pack("<I", bits))[0]


def f32bits(x):
    return struct.unpack("<I", struct.pack("<f", x))[0]


def f64bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def decode(code, fmt):
    """Exact value of a finite code of fmt, as a Python float."""
    p, bias, ebits, has_inf, width = FORMATS[fmt]
    sign = -1.0 if code >> (width - 1) else 1.0
    mag = code & ((1 << (width - 1)) - 1)
    field, frac = mag >> p, mag & ((1 << p) - 1)
    if field == 0:
        return sign * math.ldexp(frac, 1 - bias - p)
    return sign * math.ldexp(frac | (1 << p), field - bias - p)


def finite_codes(fmt):
    p, bias, ebits, has_inf, width = FORMATS[fmt]
    top = (1 << ebits) - 1
    maxmag = (top << p) - 1 if has_inf else (top << p) | ((1 << p) - 2)
    return list(range(0, maxmag + 1))


def neighbourhood(v0, v1):
    """Values around the midpoint of adjacent v0 < v1 (floats)."""
    m = np.float32((v0 + v1) / 2)
    return [v0, v1, m, np.nextafter(m, np.float32(-np.inf)),
            np.nextafter(m, np.float32(np.inf))]


def f32_inputs(rng):
    vals = set()
    specials = [0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000,
                0xffc00000, 0x7f800001, 0x7fa00000, 0xff812345, 0x7fffffff,
                0x00000001, 0x80000001, 0x007fffff, 0x00800000, 0x7f7fffff,
                0xff7fffff, 0x3f800000, 0xbf800000]
    vals.update(specials)
    for fmt in ORDER:
        codes = finite_codes(fmt)
        if FORMATS[fmt][4] == 8:
            chosen = codes                         # every fp8 code
        else:
            p = FORMATS[fmt][0]
            chosen = set()
            fracs = (0, (1 << p) - 1) if fmt == "bf16" else (0, 1, (1 << p) - 1)
            for field in range(0, (1 << FORMATS[fmt][2])):
                for frac in fracs:                 # every exponent boundary
                    chosen.add((field << p) + frac)
            chosen.update(rng.sample(codes, 150))
            chosen = sorted(c for c in chosen if c <= codes[-1])
        for c in chosen:
            v0 = decode(c, fmt)
            if c + 1 <= codes[-1]:
                v1 = decode(c + 1, fmt)
            else:  # past the largest finite: the overflow threshold
                p = FORMATS[fmt][0]
                v1 = v0 + math.ldexp(1, math.frexp(v0)[1] - 1 - p)
            for v in neighbourhood(v0, v1):
                x = np.float32(v)   # midpoints of these formats are exact in f32
                vals.add(f32bits(x))
                if rng.random() < 0.25:
                    vals.add(f32bits(-x))
    # random values over the whole float32 range and the fp8/f16 ranges
    for _ in range(600):
        vals.add(rng.getrandbits(32))
    for _ in range(600):
        x = np.float32(rng.uniform(-1, 1) * 2.0 ** rng.randint(-30, 18))
        vals.add(f32bits(x))
    return sorted(vals)


def f64_inputs(rng):
    vals = set()
    for fmt in ORDER:
        codes = finite_codes(fmt)
        chosen = codes if FORMATS[fmt][4] == 8 else rng.sample(codes, 150)
        for c in chosen:
            if c + 1 > codes[-1]:
                continue
            m = (decode(c, fmt) + decode(c + 1, fmt)) / 2
            if m == 0:
                continue
            # Just above/below the tie, by far less than a float32 ulp: a
            # conversion via float32 lands exactly on the tie and rounds to
            # even, while a single rounding goes to the nearer neighbour.
            s = -1 if rng.random() < 0.3 else 1
            for k in (30, 45):
                vals.add(f64bits(s * m * (1 + 2.0 ** -k)))
                vals.add(f64bits(s * m * (1 - 2.0 ** -k)))
            vals.add(f64bits(s * m))
    for x in (0.0, -0.0, math.inf, -math.inf, math.nan, 1e300, -1e300, 5e-324,
              -5e-324, 2.2250738585072014e-308, 1e-40, 65519.99999999, 65520.0,
              464.0, 464.00000000001, 463.9999999999, 61439.999999999, 61440.0):
        vals.add(f64bits(x))
    for _ in range(500):
        vals.add(f64bits(rng.uniform(-1, 1) * 2.0 ** rng.randint(-30, 20)))
    return sorted(vals)


def check_f32(bits_list):
    xs = np.array(bits_list, np.uint32).view(np.float32)
    rows = []
    lib = {fmt: lib_round(xs, fmt) for fmt in ORDER}
    for i, b in enumerate(bits_list):
        x = float(xs[i])
        row = [b]
        for fmt in ORDER:
            r = ref_round(x, fmt)
            l = lib[fmt][i]
            if fmt == "f16" and math.isnan(x):
                assert (l & 0x7c00) == 0x7c00 and (l & 0x3ff) and (l >> 15) == (r >> 15)
            else:
                assert r == l, (hex(b), fmt, hex(r), hex(l))
            row.append(r)
        rows.append(row)
    return rows


def check_f64(bits_list):
    xs = np.array(bits_list, np.uint64).view(np.float64)
    with np.errstate(all="ignore"):
        xs32 = xs.astype(np.float32)
    rows = []
    lib = {fmt: lib_round(xs, fmt) for fmt in ORDER}
    twice = {fmt: 0 for fmt in ORDER}
    for i, b in enumerate(bits_list):
        x = float(xs[i])
        row = [b]
        x32 = float(xs32[i])
        exact_f32 = math.isnan(x) or x32 == x
        for fmt in ORDER:
            r = ref_round(x, fmt)
            l = lib[fmt][i]
            via32 = ref_round(x32, fmt)
            if r != via32:
                twice[fmt] += 1
            if math.isnan(x):
                pass
            elif fmt == "f16":
                assert r == l, (x, hex(r), hex(l))      # NumPy: one rounding
            elif exact_f32:
                assert r == l, (x, fmt, hex(r), hex(l))
            else:
                assert l == via32, (x, fmt)             # ml_dtypes goes via f32
            row.append(r)
        rows.append(row)
    for fmt in ORDER:
        assert twice[fmt] > 50, (fmt, twice[fmt])
    return rows, twice


def write(name, header, rows, widths):
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        for h in header:
            f.write("# " + h + "\n")
        for row in rows:
            f.write(" ".join("%0*x" % (w, v) for w, v in zip(widths, row)) + "\n")
    print("wrote %s (%d records)" % (path, len(rows)))


def main():
    rng = random.Random(20240611)
    os.makedirs(OUT, exist_ok=True)
    gen = "generated by tests/gen_dtype_fixtures.py (NumPy %s, ml_dtypes %s)" % (
        np.__version__, ml_dtypes.__version__)

    with np.errstate(over="ignore"):    # bf16's overflow threshold is 2^128
        inputs = f32_inputs(rng)
    rows = check_f32(inputs)
    write("f32_to_narrow.txt", [gen, "f32bits bf16 f16 e4m3fn e5m2"], rows, [8, 4, 4, 2, 2])

    rows, twice = check_f64(f64_inputs(rng))
    write("f64_to_narrow.txt",
          [gen, "f64bits bf16 f16 e4m3fn e5m2  (single RNE rounding from the double)",
           "rows where rounding via float32 differs: " +
           " ".join("%s=%d" % kv for kv in twice.items())],
          rows, [16, 4, 4, 2, 2])

    codes = np.arange(256, dtype=np.uint8)
    e4 = codes.view(ml_dtypes.float8_e4m3fn).astype(np.float32).view(np.uint32)
    e5 = codes.view(ml_dtypes.float8_e5m2).astype(np.float32).view(np.uint32)
    write("fp8_decode.txt", [gen, "code e4m3fn->f32bits e5m2->f32bits"],
          [[int(c), int(a), int(b)] for c, a, b in zip(codes, e4, e5)], [2, 8, 8])
    return 0


if __name__ == "__main__":
    sys.exit(main())
