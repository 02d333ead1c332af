#!/usr/bin/python3
"""seed_cases_check.py - the seed's acceptance cases 26 (GMLP) and 28 (weight
table round trip), run through ueajc and compared with float64 NumPy.

    /usr/bin/python3 tests/seed_cases_check.py PATH_TO_UEAJC [-v] [NAME...]

Case 26 (seed-semantics.md 5.6): the seed's GMLP is

    up, gate = fused(x)                  "bnd,*idh->ibnh", i = 2 (0 = up, 1 = gate)
    y = down_proj(up, silu(gate))        "bnh,bnh,*hd->bnd"  (ONE 3-operand ueajsum)

which must equal HuggingFace's LlamaMLP, down(silu(gate(x)) * up(x)).  Model
files have no indexing/slicing operation, so taking index 0/1 of the fused
projection is written as a contraction with a one-hot selector input,
"ibnh,i->bnh" with [1, 0] or [0, 1]: exact (1*a + 0*b == a for finite b).
The fused weight [2, d, F] is built here, as the seed's loader intends, as
stack([up_proj^T, gate_proj^T]) from HF-layout [F, d] tensors; a second
variant loads HF's up_proj/gate_proj directly (transpose(1, 0) in the model
file) with "bnd,*dh->bnh"; a third keeps bf16 parameters from a BF16
checkpoint.  Inputs are random; the reference is float64 from the same
(f32 or bf16) values; tolerance 1e-5 relative (plus 1e-6 * max |expected|
absolute, as tests/builtins_check.py).  Then the seed's layer,
x + gmlp(rms_norm(x)), with a zero down_proj weight (the seed's
down_config zero init) must return its input bit for bit.

Case 28 (seed-semantics.md section 6): a synthetic untied checkpoint, d = 8,
2 heads, 1 KV head, head_dim 4, F = 16, 2 layers, V = 32, written by hand
as a HF directory (config.json + model.safetensors) with every HF key of
section 6 plus one unknown key, model.layers.0.self_attn.rotary_emb.inv_freq,
run as

    ueajc models/llama.ue --config DIR/config.json --weights DIR --run IDS --dump out.npy

must report exactly the unknown key as unused (by file and name), and its
logits must match tests/llama_ref.py (float64 HF LLaMA) within 1e-4 with the
same argmax, for F32 and BF16 checkpoints.  That every key is consumed is
checked both ways: nothing else is reported unused, and a checkpoint missing
any one expected key is refused with a message naming that key.

NAME selects cases by substring.  The last line is
`seed_cases: N passed, M failed`; the exit status is non-zero when a case
failed.  Needs only Python 3 and NumPy (Debian's python3-numpy).
"""
import json
import os
import re
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import llama_ref  # noqa: E402

ROOT = os.path.dirname(HERE)
LLAMA_UE = os.path.join(ROOT, "models", "llama.ue")

RTOL_26 = 1e-5
ATOL_26 = 1e-6          # times max(1, max |expected|)
TOL_28 = 1e-4           # max |logit difference|
UNKNOWN_KEY = "model.layers.0.self_attn.rotary_emb.inv_freq"


# ---- files -------------------------------------------------------------------

def f32_to_bf16_bits(a):
    """float32 -> bfloat16 bit patterns (uint16), round to nearest even."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def bf16_bits_to_f64(b):
    return (b.astype(np.uint32) << 16).view(np.float32).astype(np.float64)


def write_safetensors(path, tensors):
    """tensors: list of (name, array); float32 arrays are written as F32,
    uint16 arrays as BF16 bit patterns.  Written in this order."""
    header, blobs, off = {}, [], 0
    for name, a in tensors:
        if a.dtype == np.uint16:
            data, dt = np.ascontiguousarray(a, dtype="<u2").tobytes(), "BF16"
        else:
            data, dt = np.ascontiguousarray(a, dtype="<f4").tobytes(), "F32"
        header[name] = {"dtype": dt, "shape": [int(s) for s in a.shape], "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-(8 + len(h)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def as_f64(a):
    return bf16_bits_to_f64(a) if a.dtype == np.uint16 else a.astype(np.float64)


def run(ueajc, cmd, env):
    """(returncode, stdout, stderr, shown command)."""
    shown = " ".join(shlex.quote(c) for c in [ueajc] + cmd)
    try:
        r = subprocess.run([ueajc] + cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=600, env=env)
    except subprocess.TimeoutExpired:
        return 124, "", "ueajc timed out", shown
    return r.returncode, r.stdout, r.stderr, shown


def close(got, want, rtol, atol):
    scale = max(1.0, float(np.abs(want).max()) if want.size else 1.0)
    err = np.abs(got.astype(np.float64) - want)
    return bool((err <= rtol * np.abs(want) + atol * scale).all()), float(err.max()) if err.size else 0.0


# ---- case 26: GMLP -------------------------------------------------------------

def silu(x):
    return x / (1.0 + np.exp(-x))


def hf_mlp(x, wg, wu, wd):
    """HF LlamaMLP, float64: down_proj(act(gate_proj(x)) * up_proj(x)); weights [out, in]."""
    return (silu(x @ wg.T) * (x @ wu.T)) @ wd.T


def rms(x, w, eps):
    return w * (x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps))


GMLP_FUSED = """\
model gmlp_fused
dim b = {b}
dim n = runtime
dim d = {d}
dim F = {F}
input x[b, n, d]
input sel_up[2]                         # one-hot [1, 0]: index 0 of the fused axis
input sel_gate[2]                       # one-hot [0, 1]: index 1
param wf[2, d, F] : {dt} = load "mlp.fused_proj.weight"
param wd[F, d] : {dt} = load "mlp.down_proj.weight" [d, F] transpose(1, 0)
ug   = ueajsum("bnd,*idh->ibnh", x, wf)
up   = ueajsum("ibnh,i->bnh", ug, sel_up)
gate = ueajsum("ibnh,i->bnh", ug, sel_gate)
y = ueajsum("bnh,bnh,*hd->bnd", up, silu(gate), wd)
output y
"""

GMLP_SEPARATE = """\
model gmlp_separate
dim b = {b}
dim n = runtime
dim d = {d}
dim F = {F}
input x[b, n, d]
param wu[d, F] : {dt} = load "mlp.up_proj.weight" [F, d] transpose(1, 0)
param wg[d, F] : {dt} = load "mlp.gate_proj.weight" [F, d] transpose(1, 0)
param wd[F, d] : {dt} = load "mlp.down_proj.weight" [d, F] transpose(1, 0)
up   = ueajsum("bnd,*dh->bnh", x, wu)
gate = ueajsum("bnd,*dh->bnh", x, wg)
y = ueajsum("bnh,bnh,*hd->bnd", up, silu(gate), wd)
output y
"""

# the seed's TransformerLayer, MLP half: x + mlp(mlp_norm(x))
GMLP_LAYER = """\
model gmlp_layer
dim b = {b}
dim n = runtime
dim d = {d}
dim F = {F}
input x[b, n, d]
input sel_up[2]
input sel_gate[2]
param norm[d] : {dt} = load "post_attention_layernorm.weight"
param wf[2, d, F] : {dt} = load "mlp.fused_proj.weight"
param wd[F, d] : {dt} = load "mlp.down_proj.weight" [d, F] transpose(1, 0)
h    = rms_norm(x, norm, eps = 1e-5)
ug   = ueajsum("bnd,*idh->ibnh", h, wf)
up   = ueajsum("ibnh,i->bnh", ug, sel_up)
gate = ueajsum("ibnh,i->bnh", ug, sel_gate)
y = x + ueajsum("bnh,bnh,*hd->bnd", up, silu(gate), wd)
output y
"""


def gmlp_cases():
    """(name, function(ctx) -> (ok, msg)) for case 26."""
    cases = []
    rng = np.random.default_rng(26)

    def weights(d, F, bf16):
        wu = rng.standard_normal((F, d)).astype(np.float32) / np.float32(np.sqrt(d))
        wg = rng.standard_normal((F, d)).astype(np.float32) / np.float32(np.sqrt(d))
        wd = rng.standard_normal((d, F)).astype(np.float32) / np.float32(np.sqrt(F))
        if bf16:
            return f32_to_bf16_bits(wu), f32_to_bf16_bits(wg), f32_to_bf16_bits(wd)
        return wu, wg, wd

    def fused_of(wu, wg):
        # the seed's fused layout [2, d, F]: index 0 = up^T, index 1 = gate^T
        return np.ascontiguousarray(np.stack([wu.T, wg.T], axis=0))

    def add(name, template, b, n, d, F, bf16, fused, layer=False, zero_down=False):
        wu, wg, wd = weights(d, F, bf16)
        if zero_down:
            wd = np.zeros_like(wd)
        x = (rng.standard_normal((b, n, d)) * 1.5).astype(np.float32)
        norm = (1.0 + 0.2 * rng.standard_normal(d)).astype(np.float32)
        if bf16:
            norm = f32_to_bf16_bits(norm)
        tensors = []
        if layer:
            tensors.append(("post_attention_layernorm.weight", norm))
        if fused:
            tensors.append(("mlp.fused_proj.weight", fused_of(wu, wg)))
        else:
            tensors += [("mlp.up_proj.weight", wu), ("mlp.gate_proj.weight", wg)]
        tensors.append(("mlp.down_proj.weight", wd))
        model = template.format(b=b, d=d, F=F, dt="bf16" if bf16 else "f32")
        inputs = {"x": x}
        if fused:
            inputs["sel_up"] = np.array([1, 0], np.float32)
            inputs["sel_gate"] = np.array([0, 1], np.float32)
        x64 = x.astype(np.float64)
        h = rms(x64, as_f64(norm), 1e-5) if layer else x64
        want = hf_mlp(h, as_f64(wg), as_f64(wu), as_f64(wd))
        if layer:
            want = x64 + want

        def check(ctx):
            got, err = ctx.run_model(name, model, inputs, tensors)
            if got is None:
                return False, err
            if got.dtype != np.float32 or got.shape != want.shape:
                return False, "output %s %s, want float32 %s" % (got.dtype, got.shape, want.shape)
            if zero_down:
                # residual: x + 0 must be x itself, bit for bit
                same = np.array_equal(got.view(np.uint32), x.view(np.uint32))
                nbad = int(np.count_nonzero(got.view(np.uint32) != x.view(np.uint32)))
                return same, ("output == input bit for bit" if same else
                              "%d of %d elements differ from the input" % (nbad, x.size))
            ok, worst = close(got, want, RTOL_26, ATOL_26)
            return ok, "max |error| %.3g vs float64 HF MLP (max |y| %.3g)" % (worst, float(np.abs(want).max()))
        cases.append(("26 " + name, check))

    add("GMLP fused [2,d,F] = [up^T, gate^T], f32", GMLP_FUSED, 2, 5, 8, 16, False, True)
    add("GMLP fused, odd sizes (b=3 n=7 d=12 F=20), f32", GMLP_FUSED, 3, 7, 12, 20, False, True)
    add("GMLP fused, bf16 parameters", GMLP_FUSED, 2, 6, 16, 24, True, True)
    add("GMLP from HF up_proj/gate_proj (transposed at load), f32", GMLP_SEPARATE, 2, 5, 8, 16, False, False)
    add("GMLP from HF up_proj/gate_proj, bf16 parameters", GMLP_SEPARATE, 1, 9, 16, 40, True, False)
    add("layer x + gmlp(rms_norm(x)), f32", GMLP_LAYER, 2, 5, 8, 16, False, True, layer=True)
    add("layer with zero down_proj returns its input exactly, f32", GMLP_LAYER, 2, 5, 8, 16, False, True,
        layer=True, zero_down=True)
    add("layer with zero down_proj returns its input exactly, bf16 parameters", GMLP_LAYER, 3, 4, 16, 24, True,
        True, layer=True, zero_down=True)
    return cases


# ---- case 28: weight table round trip --------------------------------------------

CFG_28 = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama",
    "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 2,
    "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 4,
    "vocab_size": 32, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
    "max_position_embeddings": 128, "tie_word_embeddings": False,
    "hidden_act": "silu",
}


def expected_keys(cfg):
    """Every HF key of seed-semantics section 6 for an untied gated LLaMA, with
    its HF shape, in HF's order."""
    d, H, Hkv, hd = llama_ref.dims(cfg)
    F, V, L = cfg["intermediate_size"], cfg["vocab_size"], cfg["num_hidden_layers"]
    keys = [("model.embed_tokens.weight", (V, d))]
    for l in range(L):
        p = "model.layers.%d." % l
        keys += [
            (p + "input_layernorm.weight", (d,)),
            (p + "self_attn.q_proj.weight", (H * hd, d)),
            (p + "self_attn.k_proj.weight", (Hkv * hd, d)),
            (p + "self_attn.v_proj.weight", (Hkv * hd, d)),
            (p + "self_attn.o_proj.weight", (d, H * hd)),
            (p + "post_attention_layernorm.weight", (d,)),
            (p + "mlp.gate_proj.weight", (F, d)),
            (p + "mlp.up_proj.weight", (F, d)),
            (p + "mlp.down_proj.weight", (d, F)),
        ]
    keys += [("model.norm.weight", (d,)), ("lm_head.weight", (V, d))]
    return keys


def make_checkpoint_28(bf16, seed):
    rng = np.random.default_rng(seed)
    d, _, _, hd = llama_ref.dims(CFG_28)
    tensors = []
    for name, shape in expected_keys(CFG_28):
        if len(shape) == 1:
            a = 1.0 + 0.2 * rng.standard_normal(shape)
        elif name == "model.embed_tokens.weight":
            a = 0.7 * rng.standard_normal(shape)
        else:
            a = rng.standard_normal(shape) * (1.5 / np.sqrt(shape[1]))
        a = a.astype(np.float32)
        tensors.append((name, f32_to_bf16_bits(a) if bf16 else a))
    # HF checkpoints of older transformers versions carry the RoPE buffer
    inv = (1.0 / 10000.0 ** (np.arange(0, hd, 2) / hd)).astype(np.float32)
    tensors.insert(10, (UNKNOWN_KEY, f32_to_bf16_bits(inv) if bf16 else inv))
    return tensors


def write_checkpoint(d, cfg, tensors):
    os.makedirs(d)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    write_safetensors(os.path.join(d, "model.safetensors"), tensors)


def roundtrip_cases():
    cases = []
    tokens = [3, 0, 17, 31, 17, 8, 25, 12, 3]

    def add_forward(bf16):
        tensors = make_checkpoint_28(bf16, 28 + bf16)
        cfg = dict(CFG_28, torch_dtype="bfloat16" if bf16 else "float32")
        W = {k: as_f64(v) for k, v in tensors}
        want = llama_ref.forward(cfg, W, tokens)
        expected = [k for k, _ in expected_keys(cfg)]

        def check(ctx):
            d = ctx.scratch("ckpt")
            write_checkpoint(d, cfg, tensors)
            out = os.path.join(d, "logits.npy")
            rc, _, err, shown = ctx.run([LLAMA_UE, "--config", os.path.join(d, "config.json"),
                                         "--weights", d, "--run", " ".join(map(str, tokens)), "--dump", out])
            if rc != 0 or not os.path.exists(out):
                return False, "ueajc exited %d\n  %s\n%s" % (rc, shown, err.rstrip())
            problems = []
            st = os.path.join(d, "model.safetensors")
            unused = re.findall(r"^(.*): warning: tensor '([^']*)' is not used by the model$", err, re.M)
            if unused != [(st, UNKNOWN_KEY)]:
                problems.append("want exactly one unused-tensor warning, for %s in %s; stderr:\n%s"
                                % (UNKNOWN_KEY, st, err.rstrip()))
            for k in expected:
                if "'%s'" % k in err:
                    problems.append("stderr mentions the expected key %s" % k)
            got = np.load(out)
            if got.shape != want.shape:
                return False, "logits shape %s, want %s" % (got.shape, want.shape)
            diff = np.abs(got.astype(np.float64) - want)
            worst = float(diff.max())
            if not worst <= TOL_28:
                problems.append("max |dlogit| %.3g > %g" % (worst, TOL_28))
            if not (got.argmax(-1) == want.argmax(-1)).all():
                problems.append("argmax differs: ueajc %s, reference %s"
                                % (got.argmax(-1).tolist(), want.argmax(-1).tolist()))
            msg = "%d keys consumed, %s reported unused; max |dlogit| %.3g (max |logit| %.3g)" % (
                len(expected), UNKNOWN_KEY, worst, float(np.abs(want).max()))
            if problems:
                return False, msg + "\n  " + "\n  ".join(problems) + "\n  " + shown
            return True, msg
        cases.append(("28 round trip %s checkpoint: unknown key reported, logits vs float64 HF LLaMA"
                      % ("BF16" if bf16 else "F32"), check))

    add_forward(False)
    add_forward(True)

    # every expected key is required: drop each one in turn
    tensors = make_checkpoint_28(False, 28)
    cfg = dict(CFG_28, torch_dtype="float32")
    for k, shape in expected_keys(cfg):
        def check(ctx, k=k, shape=shape):
            d = ctx.scratch("missing")
            write_checkpoint(d, cfg, [t for t in tensors if t[0] != k])
            out = os.path.join(d, "logits.npy")
            rc, _, err, shown = ctx.run([LLAMA_UE, "--config", os.path.join(d, "config.json"),
                                         "--weights", d, "--run", "1 2 3", "--dump", out])
            st = os.path.join(d, "model.safetensors")
            line = "%s: error: missing tensor '%s' (the model expects shape [%s])" % (
                st, k, ", ".join(map(str, shape)))
            errs = [x for x in err.splitlines() if ": error: " in x]
            if rc == 0 or os.path.exists(out):
                return False, "ueajc exited %d without %s\n  %s\n%s" % (rc, k, shown, err.rstrip())
            if errs != [line]:
                return False, "want exactly the error\n    %s\n  got stderr:\n%s\n  %s" % (line, err.rstrip(), shown)
            return True, "refused with: " + line.replace(d, "DIR")
        cases.append(("28 checkpoint without %s is refused" % k, check))
    return cases


# ---- running ---------------------------------------------------------------------

class Ctx:
    def __init__(self, ueajc, root, env):
        self.ueajc, self.root, self.env, self.n = ueajc, root, env, 0

    def scratch(self, tag):
        self.n += 1
        return os.path.join(self.root, "%03d-%s" % (self.n, tag))

    def run(self, cmd):
        return run(self.ueajc, cmd, self.env)

    def run_model(self, name, model, inputs, tensors):
        """Writes and runs a model file; (output array, None) or (None, message)."""
        d = self.scratch("model")
        os.makedirs(d)
        path = os.path.join(d, "case.ue")
        with open(path, "w") as f:
            f.write(model)
        cmd = [path]
        for k, a in inputs.items():
            p = os.path.join(d, k + ".npy")
            np.save(p, a)
            cmd += ["--input", "%s=%s" % (k, p)]
        st = os.path.join(d, "w.safetensors")
        write_safetensors(st, tensors)
        out = os.path.join(d, "out.npy")
        cmd += ["--weights", st, "--dump", out]
        rc, _, err, shown = self.run(cmd)
        if rc != 0 or not os.path.exists(out):
            return None, "ueajc exited %d\n  %s\n%s" % (rc, shown, err.rstrip())
        if err.strip():
            return None, "unexpected stderr:\n%s\n  %s" % (err.rstrip(), shown)
        return np.load(out), None


def main(argv):
    args = [a for a in argv[1:] if a != "-v"]
    verbose = "-v" in argv[1:]
    if not args:
        sys.stderr.write("usage: seed_cases_check.py PATH_TO_UEAJC [-v] [NAME...]\n")
        return 2
    ueajc = os.path.abspath(args[0])
    if not os.access(ueajc, os.X_OK):
        sys.stderr.write("seed_cases_check.py: %s: not an executable\n" % ueajc)
        return 2
    wanted = args[1:]
    cases = [c for c in gmlp_cases() + roundtrip_cases() if not wanted or any(w in c[0] for w in wanted)]
    scratch = tempfile.mkdtemp(prefix="ueaj-seedcases.")
    env = dict(os.environ)
    if not env.get("UEAJ_CACHE"):
        env["UEAJ_CACHE"] = os.path.join(scratch, "cache")
    os.chdir(ROOT)          # models/llama.ue is given relative to the project root
    npass = nfail = 0
    try:
        ctx = Ctx(ueajc, scratch, env)
        for name, check in cases:
            try:
                ok, msg = check(ctx)
            except Exception as e:      # a broken case is a failure too
                ok, msg = False, "%s: %s" % (type(e).__name__, e)
            if ok:
                npass += 1
                if verbose:
                    print("ok   %s: %s" % (name, msg))
            else:
                nfail += 1
                print("FAIL %s: %s" % (name, msg))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print("seed_cases: %d passed, %d failed" % (npass, nfail))
    return 0 if nfail == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
