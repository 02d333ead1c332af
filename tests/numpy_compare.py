#!/usr/bin/python3
"""numpy_compare.py - `ueajc eval` against NumPy's einsum on random expressions.

Usage: /usr/bin/python3 tests/numpy_compare.py PATH_TO_UEAJC [--count N] [--seed S] [-v]

Needs only Debian's python3-numpy.  Generates N expressions (default 200)
from a fixed seed, so every run checks the same ones:
  - letters of both cases, 1-7 operands, repeated letters in an operand
    (diagonals), size-1 axes broadcast against the same letter of a larger
    size in another operand (NumPy accepts that), scalar operands (an empty
    letter string and a 0-d array), scalar results ('->' with nothing after);
  - mostly one term in NumPy's explicit mode ('->'); some without '->',
    which ueajc reads as a full contraction, compared with NumPy's explicit
    empty output ('ij,ij->'); some with 2-3 '+' terms, compared with the sum
    of NumPy's einsum of each term, broadcast over the result letters the
    term lacks (a result letter no term has gets size 1);
  - inputs f32, f64, mixed f32/f64, and integers (int32/int64, alone or
    with f32): ueajc computes with integers in f64, so the result is f64
    whenever an operand is f64 or an integer, else f32.
The reference is np.einsum in float64 (optimize=False) on the values as
written.  Tolerance per element, with eps of the result dtype (2^-23 for
f32, 2^-52 for f64):
    |got - ref| <= 4 * eps * (K + nops + 2) * einsum(|operands|)
where K is the number of products summed into each element (over all terms)
and nops the most operands in a term.  The result's dtype and shape must be
the expected ones.

Prints one line per failure (expression, command, first mismatches) and
ends with exactly one summary line:
    numpy_compare: N passed, M failed
The exit status is non-zero if any case failed.  Files go to a temporary
directory that is removed at the end; the compile cache is $UEAJ_CACHE when
set, else a folder inside that temporary directory.
"""
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

POOL = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
MAX_WALK = 3000          # index assignments one term may walk

# Known compiler bugs, reported to the lead: these expressions still run; a
# failure is reported as KNOWN FAILURE and counted in neither total (a line
# before the summary lists them); once one passes, a note asks to remove it.
# {expression without spaces: what is wrong}.  Empty now: '' and ',' crashed
# emit_source on an empty source text, fixed in e3afa93 and after it.
KNOWN_BUGS = {}


def term_walk(term, out, size):
    letters = set(out)
    for op in term:
        letters.update(op)
    n = 1
    for c in letters:
        n *= size.get(c, 1)
    return n


def gen_case(rnd, nrng):
    """Returns a dict: text, terms (lists of operand indices), ops (letters),
    arrays, out (None: no arrow)."""
    nl = rnd.randint(1, 6)
    letters = rnd.sample(POOL, nl)
    size = {c: (1 if rnd.random() < 0.1 else rnd.randint(2, 5)) for c in letters}
    r = rnd.random()
    nterms = 1 if r < 0.8 else (2 if r < 0.93 else 3)
    ops, terms = [], []
    for _ in range(nterms):
        nops = rnd.choice([1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 5, 6, 7])
        term = []
        for _ in range(nops):
            rank = 0 if rnd.random() < 0.08 else rnd.randint(1, 3 if rnd.random() < 0.7 else 4)
            s = ""
            for a in range(rank):
                if a > 0 and rnd.random() < 0.12:
                    s += s[rnd.randrange(a)]          # a diagonal
                else:
                    s += rnd.choice(letters)
            term.append(len(ops))
            ops.append(s)
        terms.append(term)
    # result letters
    used = []
    for s in ops:
        for c in s:
            if c not in used:
                used.append(c)
    mode = rnd.random()
    if mode < 0.12:
        out = None                                     # no arrow: a full contraction
    elif mode < 0.2:
        out = ""
    else:
        out = [c for c in used if rnd.random() < 0.55][:6]
        if nterms > 1 and len(out) < 6 and rnd.random() < 0.2:   # a letter no term has
            c = rnd.choice([c for c in POOL if c not in size])
            out.append(c)
        rnd.shuffle(out)
        out = "".join(out)
    outl = out or ""
    # keep every term small
    for t in terms:
        while term_walk([ops[k] for k in t], outl, size) > MAX_WALK:
            big = max((c for c in size), key=lambda c: size[c])
            size[big] -= 1
    shapes = [[size[c] for c in s] for s in ops]
    # size-1 axes: shrink one operand's letter when another operand of the
    # same term keeps the full size
    for t in terms:
        for k in t:
            for c in set(ops[k]):
                if size[c] == 1 or rnd.random() >= 0.12:
                    continue
                others = [k2 for k2 in t if k2 != k and any(
                    ops[k2][a] == c and shapes[k2][a] == size[c] for a in range(len(ops[k2])))]
                if others:
                    shapes[k] = [1 if ops[k][a] == c else shapes[k][a] for a in range(len(ops[k]))]
    # dtypes
    r = rnd.random()
    if r < 0.5:
        kinds = ["f32"] * len(ops)
    elif r < 0.7:
        kinds = ["f64"] * len(ops)
    elif r < 0.8:
        kinds = [rnd.choice(["f32", "f64"]) for _ in ops]
    elif r < 0.9:
        kinds = [rnd.choice(["i32", "i64"]) for _ in ops]
    else:
        kinds = [rnd.choice(["f32", "i64"]) for _ in ops]
    arrays = []
    for shp, kind in zip(shapes, kinds):
        if kind.startswith("i"):
            a = nrng.integers(-5, 6, size=shp).astype(np.int32 if kind == "i32" else np.int64)
        else:
            a = nrng.uniform(-2, 2, size=shp).astype(np.float32 if kind == "f32" else np.float64)
        arrays.append(np.asarray(a))
    sep = lambda: ", " if rnd.random() < 0.1 else ","
    text = (" + " if rnd.random() < 0.3 else "+").join(
        "".join((sep() if i else "") + ops[k] for i, k in enumerate(t)) for t in terms)
    if out is not None:
        text += "->" + out
    return {"text": text, "terms": terms, "ops": ops, "arrays": arrays, "out": out, "size": size}


def reference(case):
    """float64 result, sum of |products|, products per element, result dtype."""
    ops, arrays, terms = case["ops"], case["arrays"], case["terms"]
    out = case["out"] or ""
    size = {}
    for s, a in zip(ops, arrays):
        for c, n in zip(s, a.shape):
            size[c] = max(size.get(c, 0), n)
    oshape = tuple(size.get(c, 1) for c in out)
    val = np.zeros(oshape)
    absval = np.zeros(oshape)
    nprod = 0
    for t in terms:
        tl = set("".join(ops[k] for k in t))
        tout = "".join(c for c in out if c in tl)
        spec = ",".join(ops[k] for k in t) + "->" + tout
        a64 = [arrays[k].astype(np.float64) for k in t]
        v = np.einsum(spec, *a64, optimize=False)
        av = np.einsum(spec, *[np.abs(a) for a in a64], optimize=False)
        bshape = tuple(size[c] if c in tl else 1 for c in out)
        val = val + np.reshape(v, bshape)
        absval = absval + np.reshape(av, bshape)
        k = 1
        for c in tl - set(out):
            k *= size[c]
        nprod += k
    wide = any(a.dtype != np.float32 for a in arrays)
    return val, absval, nprod, (np.float64 if wide else np.float32)


def run_case(ueajc, tmp, i, case, verbose):
    files = []
    for k, a in enumerate(case["arrays"]):
        p = os.path.join(tmp, "in%d.npy" % k)
        np.save(p, a)
        files.append(p)
    outp = os.path.join(tmp, "out.npy")
    if os.path.exists(outp):
        os.unlink(outp)
    cmd = [ueajc, "eval", case["text"]] + files + ["-o", outp]
    val, absval, nprod, want_dt = reference(case)
    dts = ",".join(str(a.dtype) for a in case["arrays"])

    known = KNOWN_BUGS.get(case["text"].replace(" ", ""))

    def fail(why, detail=""):
        if known:
            print("KNOWN FAILURE (compiler bug, not counted: %s)" % known)
        print(("known" if known else "FAIL") + " #%d: %s\n    expression: '%s'   (operand dtypes %s)\n    command: %s%s" % (
            i, why, case["text"], dts, " ".join("'%s'" % c for c in cmd), detail))
        return False

    p = None
    for attempt in range(20):
        try:
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
            break
        except OSError as e:    # a concurrent `make` may be relinking ueajc (ENOENT, EACCES, ETXTBSY)
            err = e
            time.sleep(0.25)
    if p is None:
        return fail("cannot run ueajc: %s" % err)
    if p.returncode != 0:
        return fail("ueajc exit status %d" % p.returncode, "\n    | " + p.stdout.rstrip().replace("\n", "\n    | "))
    try:
        got = np.load(outp)
    except Exception as e:
        return fail("cannot read the result: %s" % e)
    if got.dtype != want_dt:
        return fail("result dtype %s, want %s" % (got.dtype, np.dtype(want_dt)))
    if got.shape != val.shape:
        return fail("result shape %s, want %s" % (got.shape, val.shape))
    eps = 2.0 ** -23 if want_dt == np.float32 else 2.0 ** -52
    nops = max(len(t) for t in case["terms"])
    tol = 4 * eps * (nprod + nops + 2) * absval
    diff = np.abs(got.astype(np.float64) - val)
    bad = ~(diff <= tol)
    if bad.any():
        idx = np.argwhere(bad)[:5]
        lines = "".join("\n    element %s: got %.9g, numpy %.9g, |diff| %.3g > tol %.3g" % (
            tuple(int(x) for x in j), got[tuple(j)], val[tuple(j)], diff[tuple(j)], tol[tuple(j)]) for j in idx)
        return fail("values differ", lines + "\n    %d of %d elements differ; max |diff| %.3g" % (
            int(bad.sum()), bad.size, float(np.nanmax(diff)) if diff.size else 0.0))
    if known:
        print("note: known-failing #%d '%s' now passes: remove it from KNOWN_BUGS" % (i, case["text"]))
    elif verbose:
        print("ok   #%d: %s (%s)" % (i, case["text"], dts))
    return True


def main(argv):
    args = list(argv[1:])
    count, seed, verbose = 200, 20240601, False
    ueajc = None
    while args:
        a = args.pop(0)
        if a == "--count" and args:
            count = int(args.pop(0))
        elif a.startswith("--count="):
            count = int(a.split("=", 1)[1])
        elif a == "--seed" and args:
            seed = int(args.pop(0))
        elif a in ("-v", "--verbose"):
            verbose = True
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        elif ueajc is None and not a.startswith("-"):
            ueajc = a
        else:
            print("usage: numpy_compare.py PATH_TO_UEAJC [--count N] [--seed S] [-v]", file=sys.stderr)
            return 2
    if ueajc is None:
        print("usage: numpy_compare.py PATH_TO_UEAJC [--count N] [--seed S] [-v]", file=sys.stderr)
        return 2
    ueajc = os.path.abspath(ueajc)
    rnd = random.Random(seed)
    nrng = np.random.default_rng(seed)
    tmp = tempfile.mkdtemp(prefix="ueaj_numpy_")
    if not os.environ.get("UEAJ_CACHE"):
        os.environ["UEAJ_CACHE"] = os.path.join(tmp, "cache")
    passed = failed = 0
    known = []
    try:
        for i in range(count):
            case = gen_case(rnd, nrng)
            if run_case(ueajc, tmp, i, case, verbose):
                passed += 1
            elif case["text"].replace(" ", "") in KNOWN_BUGS:
                known.append("#%d '%s'" % (i, case["text"]))
            else:
                failed += 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if known:
        print("numpy_compare: %d known failures (compiler bugs, not counted): %s" % (len(known), ", ".join(known)))
    print("numpy_compare: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
