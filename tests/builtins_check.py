#!/usr/bin/python3
"""builtins_check.py - the built-ins of model files run by ueajc vs NumPy.

    /usr/bin/python3 tests/builtins_check.py PATH_TO_UEAJC [-v] [NAME...]

Every case is a small model file (written into a scratch directory) that
applies one built-in (rms_norm in each mode, rope, attention, softmax, silu,
relu, gelu, exp, sum, mean, max, embedding, + - * / and scaling by a number)
to inputs given with `--input NAME=FILE.npy` (and parameters with
`--weights FILE.safetensors`, written here by hand), run as

    ueajc CASE.ue --input x=x.npy ... [--weights w.safetensors] --dump out.npy

and compared with an independent float64 NumPy implementation of the same
formula (HF's conventions: half-split RoPE, GQA query head j uses KV head
j // (H / Hkv), causal attention with an optional sliding window).  The
hand-worked cases of the seed's acceptance tests (22: rms_norm, 23: rope,
24: attention, 25: GQA) are checked against their literal expected values
as well.  Inputs are random float32; the reference computes in float64
from the same float32 values; the tolerance is about 1e-5 relative.

NAME selects cases by substring.  The last line is
`builtins_check: N passed, M failed`; the exit status is non-zero when a
case failed.  Needs only Python 3 and NumPy (Debian's python3-numpy).
"""
import json
import math
import os
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np

RTOL = 1e-5
ATOL = 1e-6     # times max(1, max |expected|)


# ---- files ---------------------------------------------------------------

def f32_to_bf16_bits(a):
    """float32 -> bfloat16 bit patterns (uint16), round to nearest even."""
    a = np.ascontiguousarray(a, dtype=np.float32)
    u = a.view(np.uint32).astype(np.uint64)
    rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return rounded.astype(np.uint16)


def bf16_bits_to_f64(b):
    return (b.astype(np.uint32) << 16).view(np.float32).astype(np.float64)


def write_safetensors(path, tensors):
    """tensors: {name: array (float32) or (uint16 bf16 bits, shape)}."""
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        if isinstance(t, tuple):
            bits, shape = t
            data, dt = np.ascontiguousarray(bits, dtype="<u2").tobytes(), "BF16"
        else:
            arr = np.ascontiguousarray(t, dtype="<f4")
            data, dt, shape = arr.tobytes(), "F32", arr.shape
        header[name] = {"dtype": dt, "shape": [int(s) for s in shape], "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# ---- references (float64) --------------------------------------------------

def ref_rms_norm(x, w, eps, mode):
    x = x.astype(np.float64)
    xh = x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)
    if mode in ("hf", "uncentered"):
        return xh * w
    if mode == "centered":
        return xh * (1.0 + w)
    return xh


def ref_inv_freq(k, theta):
    return 1.0 / theta ** (np.arange(0, k, 2, dtype=np.float64) / k)


def ref_rope(x, pos, theta):
    """HF's rotate_half form: x [n, ..., k], pos [n]."""
    x = x.astype(np.float64)
    k = x.shape[-1]
    ang = np.outer(pos.astype(np.float64), ref_inv_freq(k, theta))        # [n, k/2]
    emb = np.concatenate([ang, ang], axis=-1)                              # [n, k]
    shape = (x.shape[0],) + (1,) * (x.ndim - 2) + (k,)
    cos, sin = np.cos(emb).reshape(shape), np.sin(emb).reshape(shape)
    rot = np.concatenate([-x[..., k // 2:], x[..., :k // 2]], axis=-1)
    return x * cos + rot * sin


def ref_attention(q, k, v, causal=True, window=0, scale=None):
    """q [n, H, dk] (or [n, Hkv, R, dk]), k [m, Hkv, dk], v [m, Hkv, dv]; the
    queries are the last n of the m positions."""
    q4 = q.ndim == 4
    if q4:
        n, hkv, r, dk = q.shape
        q = q.reshape(n, hkv * r, dk)
    q, k, v = (a.astype(np.float64) for a in (q, k, v))
    n, H, dk = q.shape
    m, Hkv, dv = v.shape
    if scale is None:
        scale = 1.0 / math.sqrt(dk)
    out = np.zeros((n, H, dv))
    for i in range(n):
        qpos = i + (m - n)
        hi = qpos + 1 if causal else m
        lo = max(0, hi - window) if window > 0 else 0
        for h in range(H):
            g = h // (H // Hkv)
            s = k[lo:hi, g, :] @ q[i, h, :] * scale
            p = np.exp(s - s.max())
            out[i, h] = (p / p.sum()) @ v[lo:hi, g, :]
    return out.reshape(n, hkv, r, dv) if q4 else out


def ref_softmax(x):
    x = x.astype(np.float64)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


_erf = np.vectorize(math.erf, otypes=[np.float64])

UNARY = {
    "silu": lambda x: x / (1.0 + np.exp(-x)),
    "relu": lambda x: np.maximum(x, 0.0),
    "gelu": lambda x: 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0))),
    "exp": np.exp,
    "softmax": ref_softmax,
    "sum": lambda x: x.sum(axis=-1),
    "mean": lambda x: x.mean(axis=-1),
    "max": lambda x: x.max(axis=-1),
}


# ---- cases ---------------------------------------------------------------

class Case:
    """A model file, its inputs / weights, and the expected output."""

    def __init__(self, name, model, inputs, want, weights=None, exact=None, rtol=RTOL):
        self.name = name
        self.model = model
        self.inputs = inputs          # {name: np.ndarray}
        self.want = want              # float64 reference
        self.weights = weights        # {name: array or (bf16 bits, shape)}
        self.exact = exact            # literal expected values (seed acceptance), or None
        self.rtol = rtol


def f32(rng, *shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def rms_norm_cases(rng):
    cs = []
    # seed acceptance 22: x = [3, 4]
    x = np.array([[3.0, 4.0]], np.float32)
    cs.append(Case("rms_norm centered zero weight (seed 22)",
                   "dim d = 2\ninput x[1, d]\nparam w[d] : f32 = load \"w\"\n"
                   "y = rms_norm(x, w, mode = \"centered\")\noutput y\n",
                   {"x": x}, ref_rms_norm(x, np.zeros(2), 1e-6, "centered"),
                   weights={"w": np.zeros(2, np.float32)}, exact=[[0.8485281, 1.1313708]]))
    cs.append(Case("rms_norm uncentered w=[2,1] (seed 22)",
                   "dim d = 2\ninput x[1, d]\nparam w[d] : f32 = load \"w\"\n"
                   "y = rms_norm(x, w, mode = \"uncentered\")\noutput y\n",
                   {"x": x}, ref_rms_norm(x, np.array([2.0, 1.0]), 1e-6, "uncentered"),
                   weights={"w": np.array([2.0, 1.0], np.float32)}, exact=[[1.6970563, 1.1313708]]))
    for mode in ("hf", "centered", "uncentered", "none"):
        for shape, eps in (((5, 16), 1e-6), ((3, 2, 7), 0.25)):
            x = f32(rng, *shape, scale=3.0)
            w = f32(rng, shape[-1])
            dims = ", ".join(["n"] + [str(s) for s in shape[1:]])
            if mode == "none":
                model = ("dim n = runtime\ninput x[%s]\ny = rms_norm(x, eps = %r, mode = \"none\")\noutput y\n"
                         % (dims, eps))
                weights = None
            else:
                model = ("dim n = runtime\ninput x[%s]\nparam w[%d] : f32 = load \"norm.weight\"\n"
                         "y = rms_norm(x, w, eps = %r, mode = \"%s\")\noutput y\n" % (dims, shape[-1], eps, mode))
                weights = {"norm.weight": w}
            if mode == "hf" and eps == 1e-6:
                model = model.replace(", eps = 1e-06, mode = \"hf\"", "")   # the defaults
            cs.append(Case("rms_norm %s %s eps=%g" % (mode, shape, eps), model, {"x": x},
                           ref_rms_norm(x, w.astype(np.float64), eps, mode), weights=weights))
    # a bf16 weight: ueajc rounds it once at load; the reference uses the same bf16 values
    x = f32(rng, 4, 24)
    w = f32(rng, 24)
    bits = f32_to_bf16_bits(w)
    cs.append(Case("rms_norm hf, bf16 weight from a BF16 checkpoint",
                   "dim n = runtime\ninput x[n, 24]\nparam w[24] : bf16 = load \"w\"\ny = rms_norm(x, w, eps = 1e-5)\n"
                   "output y\n", {"x": x}, ref_rms_norm(x, bf16_bits_to_f64(bits), 1e-5, "hf"),
                   weights={"w": (bits, (24,))}))
    cs.append(Case("rms_norm hf, f32 checkpoint stored as bf16",
                   "dim n = runtime\ninput x[n, 24]\nparam w[24] : bf16 = load \"w\"\ny = rms_norm(x, w, eps = 1e-5)\n"
                   "output y\n", {"x": x}, ref_rms_norm(x, bf16_bits_to_f64(bits), 1e-5, "hf"),
                   weights={"w": w}))
    return cs


def rope_cases(rng):
    cs = []
    model = "dim n = runtime\ninput x[n, 4]\ninput pos[n] : i32\ny = rope(x, pos, theta = 10000)\noutput y\n"
    x = np.array([[1, 0, 0, 0], [1, 2, 3, 4]], np.float32)
    pos = np.array([1, 3], np.int32)
    cs.append(Case("rope k=4 theta=1e4 (seed 23)", model, {"x": x, "pos": pos}, ref_rope(x, pos, 1e4),
                   exact=[[0.5403023, 0, 0.8414710, 0], [-1.4133525, 1.8791181, -2.8288575, 4.0581911]]))
    for shape, theta in (((6, 3, 8), 10000.0), ((5, 2, 2, 16), 500000.0), ((7, 32), 100.0)):
        x = f32(rng, *shape)
        pos = rng.integers(0, 40, size=shape[0]).astype(np.int32)
        dims = ", ".join(["n"] + [str(s) for s in shape[1:]])
        model = ("dim n = runtime\ninput x[%s]\ninput pos[n] : i32\ny = rope(x, pos, theta = %r)\noutput y\n"
                 % (dims, theta))
        if theta == 10000.0:
            model = model.replace(", theta = 10000.0", "")   # the default
        cs.append(Case("rope %s theta=%g" % (shape, theta), model, {"x": x, "pos": pos}, ref_rope(x, pos, theta)))
    return cs


def attention_cases(rng):
    cs = []
    # seed acceptance 24: one head, k = 2
    q = np.array([[[1, 0]], [[1, 0]]], np.float32)
    k = np.array([[[1, 0]], [[0, 1]]], np.float32)
    v = np.array([[[1, 2]], [[3, 4]]], np.float32)
    model = ("dim n = runtime\ninput q[n, 1, 2]\ninput k[n, 1, 2]\ninput v[n, 1, 2]\n"
             "y = attention(q, k, v)\noutput y\n")
    cs.append(Case("attention one head (seed 24)", model, {"q": q, "k": k, "v": v}, ref_attention(q, k, v),
                   exact=[[[1, 2]], [[1.6604769, 2.6604769]]]))

    def add(name, n, H, Hkv, dk, dv, q4=False, causal=None, window=None, scale=None, m=None, runtime=True):
        m = n if m is None else m
        R = H // Hkv
        qs = (n, Hkv, R, dk) if q4 else (n, H, dk)
        qa, ka, va = f32(rng, *qs), f32(rng, m, Hkv, dk), f32(rng, m, Hkv, dv)
        kw = []
        if causal is not None:
            kw.append("causal = %s" % ("true" if causal else "false"))
        if window is not None:
            kw.append("window = %d" % window)
        if scale is not None:
            kw.append("scale = %r" % scale)
        nn, mm = ("n", "n" if m == n else "m") if runtime else (str(n), str(m))
        qd = "%s, %d, %d, %d" % (nn, Hkv, R, dk) if q4 else "%s, %d, %d" % (nn, H, dk)
        model = ("%s%sinput q[%s]\ninput k[%s, %d, %d]\ninput v[%s, %d, %d]\ny = attention(q, k, v%s)\noutput y\n"
                 % ("dim n = runtime\n" if runtime else "", "dim m = runtime\n" if runtime and m != n else "",
                    qd, mm, Hkv, dk, mm, Hkv, dv, "".join(", " + a for a in kw)))
        want = ref_attention(qa, ka, va, causal=True if causal is None else causal, window=window or 0, scale=scale)
        cs.append(Case(name, model, {"q": qa, "k": ka, "v": va}, want))

    add("attention causal H=2 k=8", 7, 2, 2, 8, 8)
    add("attention GQA H=6 Hkv=2 q [n,H,k] (seed 25)", 9, 6, 2, 16, 16)
    add("attention GQA H=6 Hkv=2 q [n,Hkv,R,k] (seed 25)", 9, 6, 2, 16, 16, q4=True)
    add("attention GQA H=8 Hkv=1 (multi-query)", 5, 8, 1, 4, 4)
    add("attention GQA H=4 Hkv=2, v width != k width", 6, 4, 2, 8, 3, q4=True)
    add("attention non-causal", 6, 4, 2, 8, 8, causal=False)
    add("attention non-causal q [n,Hkv,R,k]", 6, 4, 2, 8, 8, q4=True, causal=False)
    add("attention sliding window 3", 10, 4, 2, 8, 8, window=3)
    add("attention sliding window 1 (only itself)", 6, 2, 1, 4, 4, window=1, q4=True)
    add("attention window larger than the sequence", 5, 2, 2, 4, 4, window=64)
    add("attention scale 0.3", 6, 2, 2, 8, 8, scale=0.3)
    add("attention fixed sizes, queries are the last 3 of 8 keys", 3, 4, 2, 8, 8, m=8, runtime=False)
    return cs


def simple_cases(rng):
    cs = []
    for fn in ("silu", "relu", "gelu", "exp", "softmax", "sum", "mean", "max"):
        x = f32(rng, 6, 11, scale=2.0)
        model = "dim n = runtime\ninput x[n, 11]\ny = %s(x)\noutput y\n" % fn
        cs.append(Case(fn, model, {"x": x}, UNARY[fn](x.astype(np.float64))))
    x = f32(rng, 2, 3, 5)
    cs.append(Case("softmax rank 3", "input x[2, 3, 5]\ny = softmax(x)\noutput y\n", {"x": x},
                   ref_softmax(x)))
    cs.append(Case("sum rank 3", "input x[2, 3, 5]\ny = sum(x)\noutput y\n", {"x": x},
                   x.astype(np.float64).sum(-1)))
    # embedding: a table from the checkpoint, i32 ids
    tab = f32(rng, 13, 6)
    ids = np.array([3, 0, 12, 3, 7], np.int32)
    cs.append(Case("embedding", "dim n = runtime\ninput ids[n] : i32\nparam e[13, 6] : f32 = load \"emb\"\n"
                   "y = embedding(e, ids)\noutput y\n", {"ids": ids}, tab.astype(np.float64)[ids],
                   weights={"emb": tab}))
    # elementwise
    a, b = f32(rng, 4, 9), f32(rng, 4, 9)
    b = np.where(np.abs(b) < 0.1, np.float32(0.5), b).astype(np.float32)   # no tiny divisors
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    for op, want in (("+", a64 + b64), ("-", a64 - b64), ("*", a64 * b64), ("/", a64 / b64)):
        cs.append(Case("elementwise a %s b" % op, "dim n = runtime\ninput a[n, 9]\ninput b[n, 9]\ny = a %s b\n"
                       "output y\n" % op, {"a": a, "b": b}, want))
    cs.append(Case("scale by a number (a * 2.5)", "dim n = runtime\ninput a[n, 9]\ny = a * 2.5\noutput y\n",
                   {"a": a}, a64 * 2.5))
    cs.append(Case("scale by a number (a / 4)", "dim n = runtime\ninput a[n, 9]\ny = a / 4\noutput y\n",
                   {"a": a}, a64 / 4))
    cs.append(Case("scale by a let (a * s, s = 1 / 3)", "let s = 1.0 / 3\ninput a[4, 9]\ny = a * s\noutput y\n",
                   {"a": a}, a64 / 3))
    cs.append(Case("chain: silu(a) * b - a / 2", "dim n = runtime\ninput a[n, 9]\ninput b[n, 9]\n"
                   "y = silu(a) * b - a / 2\noutput y\n", {"a": a, "b": b},
                   UNARY["silu"](a64) * b64 - a64 / 2))
    return cs


def all_cases():
    rng = np.random.default_rng(20240611)
    return rms_norm_cases(rng) + rope_cases(rng) + attention_cases(rng) + simple_cases(rng)


# ---- running ---------------------------------------------------------------

def close(got, want, rtol):
    scale = max(1.0, float(np.abs(want).max()) if want.size else 1.0)
    err = np.abs(got.astype(np.float64) - want)
    bound = rtol * np.abs(want) + ATOL * scale
    return bool((err <= bound).all()), float(err.max()) if err.size else 0.0


def run_case(ueajc, c, d, env):
    os.makedirs(d)
    path = os.path.join(d, "case.ue")
    with open(path, "w") as f:
        f.write("model check\n" + c.model)
    cmd = [ueajc, path]
    for name, arr in c.inputs.items():
        p = os.path.join(d, name + ".npy")
        np.save(p, arr)
        cmd += ["--input", "%s=%s" % (name, p)]
    if c.weights:
        p = os.path.join(d, "w.safetensors")
        write_safetensors(p, c.weights)
        cmd += ["--weights", p]
    out = os.path.join(d, "out.npy")
    cmd += ["--dump", out]
    shown = " ".join(shlex.quote(a) for a in cmd)
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                           timeout=300, env=env)
    except subprocess.TimeoutExpired:
        return False, "ueajc timed out\n  " + shown
    if r.returncode != 0 or not os.path.exists(out):
        return False, "ueajc exited %d\n  %s\n%s" % (r.returncode, shown, r.stderr.rstrip())
    got = np.load(out)
    if got.dtype != np.float32:
        return False, "output dtype %s, want float32" % got.dtype
    if got.shape != c.want.shape:
        return False, "output shape %s, want %s\n  %s" % (got.shape, c.want.shape, shown)
    ok, worst = close(got, c.want, c.rtol)
    msg = "max |error| %.3g vs the float64 reference" % worst
    if ok and c.exact is not None:
        ex = np.array(c.exact, np.float64)
        ok2, worst2 = close(got, ex, 1e-6)
        msg += "; %.3g vs the literal values" % worst2
        ok = ok2
        if not ok2:
            msg += "\n  got  %s\n  want %s" % (got.tolist(), ex.tolist())
    if not ok:
        msg += "\n  %s" % shown
    return ok, msg


def main(argv):
    args = [a for a in argv[1:] if a != "-v"]
    verbose = "-v" in argv[1:]
    if not args:
        sys.stderr.write("usage: builtins_check.py PATH_TO_UEAJC [-v] [NAME...]\n")
        return 2
    ueajc = os.path.abspath(args[0])
    if not os.access(ueajc, os.X_OK):
        sys.stderr.write("builtins_check.py: %s: not an executable\n" % ueajc)
        return 2
    wanted = args[1:]
    cases = [c for c in all_cases() if not wanted or any(w in c.name for w in wanted)]
    scratch = tempfile.mkdtemp(prefix="ueaj-builtins.")
    env = dict(os.environ)
    if not env.get("UEAJ_CACHE"):
        env["UEAJ_CACHE"] = os.path.join(scratch, "cache")
    npass = nfail = 0
    try:
        for i, c in enumerate(cases):
            ok, msg = run_case(ueajc, c, os.path.join(scratch, "c%03d" % i), env)
            if ok:
                npass += 1
                if verbose:
                    print("ok   %s: %s" % (c.name, msg))
            else:
                nfail += 1
                print("FAIL %s: %s" % (c.name, msg))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print("builtins_check: %d passed, %d failed" % (npass, nfail))
    return 0 if nfail == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
