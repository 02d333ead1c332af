#!/usr/bin/python3
"""hf_check.py - `ueajc run` against HuggingFace transformers' logits.

    /usr/bin/python3 tests/hf_check.py PATH_TO_UEAJC [--model-file F.ue] [--device D] [--cubin] [CASE...]

For every case in tests/fixtures/hf/ (default: all; written by
tests/gen_hf_fixtures.py with PyTorch and transformers, which this check
does not need) it runs

    ueajc run -m tests/fixtures/hf/CASE -p PROMPT -n 32 --temp 0 --ignore-eos
              --logits OUT.npy

and requires, against what transformers' LlamaForCausalLM (float32)
computed for the same checkpoint directory:

  - the prompt ids: `ueajc tokenize` (with --bos where HF's ids begin with
    BOS) gives HF's ids, and `ueajc run` evaluates that many prompt tokens
    (its timing line), so it adds BOS as HF's tokenizer does by default;
  - the logits: the same shape [n_prompt + 31, V], max |dlogit| <= 1e-3
    over every row, the same argmax in every row;
  - the greedy continuation: the 32 ids (the argmax of rows n_prompt - 1
    onwards; each row after the prompt was computed from the previous
    choice, so a different choice would also show in the logits) equal
    HF's `generate(do_sample=False)` ids, and the text ueajc prints equals
    HF's decode(ids, skip_special_tokens=True).

--device D (cpu, cuda, harness or auto; default cpu) is passed to
`ueajc run`: cuda and harness run the CUDA plan (cuBLASLt or gemm_ref, whose
summation order differs from the C backend's) under the same bounds.

--cubin first compiles each case's cubin ahead of time,
`ueajc models/llama.ue --config CASE/config.json -o CASE.cubin` (through
NVRTC, for $UEAJ_CUBIN_ARCH, default sm_90), and then runs `ueajc run ... --cubin CASE.cubin`: the model
comes from the cubin's plan (and, with --device harness, the CUDA source it
carries), not from compiling the model file at load time.

One line per case, then `hf_check: N passed, M failed`; the exit status is
non-zero when a case failed.  Needs only Python 3 and NumPy.
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures", "hf")
TOL = 1e-3


def run(cmd, timeout=600):
    """Runs cmd; returns (returncode, stdout bytes, stderr text)."""
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        return 124, b"", "timed out after %d s" % timeout
    return r.returncode, r.stdout, r.stderr.decode("utf-8", "replace")


def show(cmd):
    return " ".join(shlex.quote(c) for c in cmd)


def tokenize(ueajc, model_dir, text, bos):
    """`ueajc tokenize` ids of text (a list), or raises RuntimeError."""
    cmd = [ueajc, "tokenize", "-m", model_dir] + (["--bos"] if bos else []) + ["--", text]
    rc, out, err = run(cmd)
    if rc != 0:
        # older tokenize CLIs may not know "--": retry without it
        cmd = [c for c in cmd if c != "--"]
        rc, out, err = run(cmd)
    if rc != 0:
        raise RuntimeError("ueajc tokenize exited %d\n  %s\n%s" % (rc, show(cmd), err.rstrip()))
    return [int(t) for t in out.split()]


def ueajc_generate(ueajc, model_dir, prompt, n_new, scratch, tag, extra=()):
    """Runs `ueajc run ... --logits`; returns (logits, stdout text, n_prompt, cmd) or raises."""
    out = os.path.join(scratch, tag + ".npy")
    cmd = [ueajc, "run", "-m", model_dir, "-p", prompt, "-n", str(n_new), "--temp", "0",
           "--ignore-eos", "--logits", out] + list(extra)
    rc, stdout, err = run(cmd)
    if rc != 0 or not os.path.exists(out):
        raise RuntimeError("ueajc exited %d\n  %s\n%s" % (rc, show(cmd), err.rstrip()))
    m = re.search(r"prompt eval time\s*=.*?/\s*(\d+) tokens", err)
    n_prompt = int(m.group(1)) if m else None
    text = stdout.decode("utf-8", "replace")
    if text.endswith("\n"):         # ueajc ends the generated text with a newline
        text = text[:-1]
    return np.load(out), text, n_prompt, cmd


def compare_rows(got, want, tol=TOL, cols=None):
    """Compares ueajc's logits with the expected rows.

    want: [rows, V] full rows, or with cols ([rows, K] ids) the values of
    those entries only.  Returns (ok, message, worst)."""
    problems = []
    if got.ndim != 2 or got.shape[0] != want.shape[0] or (cols is None and got.shape != want.shape):
        return False, "logits shape %s, want %s" % (got.shape, want.shape), float("inf")
    if not np.isfinite(got).all():
        return False, "non-finite logits", float("inf")
    g = got.astype(np.float64)
    if cols is not None:
        sel = np.take_along_axis(g, cols, axis=1)
        diff = np.abs(sel - want)
        want_arg = cols[np.arange(len(cols)), want.argmax(-1)]
    else:
        diff = np.abs(g - want)
        want_arg = want.argmax(-1)
    worst = float(diff.max())
    at = int(diff.max(-1).argmax())
    msg = "max |dlogit| %.3g (row %d of %d), max |logit| %.3g" % (worst, at, len(g), float(np.abs(want).max()))
    if worst > tol:
        bad = np.nonzero(diff.max(-1) > tol)[0]
        problems.append("%d rows over %g, first %s" % (len(bad), tol, bad[:8].tolist()))
    got_arg = g.argmax(-1)
    bad = np.nonzero(got_arg != want_arg)[0]
    if len(bad):
        problems.append("argmax differs in rows %s (ueajc %s, HF %s)" % (
            bad[:8].tolist(), got_arg[bad[:8]].tolist(), want_arg[bad[:8]].tolist()))
    return not problems, msg + ("; " + "; ".join(problems) if problems else ""), worst


def check_greedy(got, n_prompt, greedy):
    """The greedy ids ueajc chose: the argmax of rows n_prompt-1 .. end."""
    ids = got[n_prompt - 1:].argmax(-1).tolist()
    if ids != list(greedy):
        k = next((i for i, (a, b) in enumerate(zip(ids, greedy)) if a != b), min(len(ids), len(greedy)))
        return False, "greedy ids differ from step %d: ueajc %s, HF %s" % (k, ids[k:k + 6], list(greedy[k:k + 6]))
    return True, ""


def check_case(ueajc, case, scratch, model_file, device=None, cubin=False):
    d = os.path.join(FIXTURES, case)
    with open(os.path.join(d, "expect.json")) as f:
        exp = json.load(f)
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    want = np.load(os.path.join(d, "logits.npy")).astype(np.float64)
    ids, greedy, n_new = exp["prompt_ids"], exp["greedy_ids"], exp["n_new"]
    problems = []

    bos = cfg.get("bos_token_id")
    has_bos = bos is not None and ids[:1] == [bos]
    tok_ids = tokenize(ueajc, d, exp["prompt"], has_bos)
    if tok_ids != ids:
        k = next((i for i, (a, b) in enumerate(zip(tok_ids, ids)) if a != b), min(len(ids), len(tok_ids)))
        problems.append("prompt ids differ from position %d: ueajc tokenize %s, HF %s (a tokenizer bug)" % (
            k, tok_ids[k:k + 6], ids[k:k + 6]))

    extra = ["--model-file", model_file] if model_file else []
    if cubin:
        out = os.path.join(scratch, case + ".cubin")
        ue = model_file or os.path.join(HERE, "..", "models", "llama.ue")
        ccmd = [ueajc, ue, "--config", os.path.join(d, "config.json"), "-o", out,
                "--arch", os.environ.get("UEAJ_CUBIN_ARCH") or "sm_90"]
        rc, _, err = run(ccmd)
        if rc != 0:
            return False, "making the cubin failed (status %d): %s\n    (%s)" % (rc, err.strip()[:800], show(ccmd))
        extra = ["--cubin", out]
    if device:
        extra += ["--device", device]
    got, text, n_prompt, cmd = ueajc_generate(ueajc, d, exp["prompt"], n_new, scratch, case, extra)
    if n_prompt != len(ids):
        problems.append("ueajc run evaluated %s prompt tokens, HF's prompt has %d (BOS handling?)" % (
            n_prompt, len(ids)))
    ok, msg, worst = compare_rows(got, want)
    if not ok:
        problems.append(msg.split("; ", 1)[1])
    if got.shape == want.shape:
        gok, gmsg = check_greedy(got, len(ids), greedy)
        if not gok:
            problems.append(gmsg)
    if text != exp["greedy_text"]:
        problems.append("printed text %r, HF decodes the greedy ids as %r" % (text, exp["greedy_text"]))
    head = msg.split("; ", 1)[0]
    if problems:
        return False, head + "\n    " + "\n    ".join(problems) + "\n    (" + show(cmd) + ")"
    return True, "%s; %d prompt ids, 32 greedy ids and the text equal" % (head, len(ids))


def main(argv):
    args = argv[1:]
    model_file = None
    if "--model-file" in args:
        i = args.index("--model-file")
        if i + 1 >= len(args):
            sys.stderr.write("hf_check.py: --model-file needs a value\n")
            return 2
        model_file = os.path.abspath(args[i + 1])
        del args[i:i + 2]
    device = None
    if "--device" in args:
        i = args.index("--device")
        if i + 1 >= len(args) or args[i + 1] not in ("cpu", "cuda", "harness", "auto"):
            sys.stderr.write("hf_check.py: --device needs cpu, cuda, harness or auto\n")
            return 2
        device = args[i + 1] if args[i + 1] != "cpu" else None
        del args[i:i + 2]
    cubin = "--cubin" in args
    if cubin:
        args.remove("--cubin")
    if not args:
        sys.stderr.write("usage: hf_check.py PATH_TO_UEAJC [--model-file F.ue] [--device D] [--cubin] [CASE...]\n")
        return 2
    ueajc = os.path.abspath(args[0])
    cases = args[1:] or sorted(c for c in os.listdir(FIXTURES) if os.path.isdir(os.path.join(FIXTURES, c)))
    passed = failed = 0
    scratch = tempfile.mkdtemp(prefix="hf_check.")
    try:
        for case in cases:
            try:
                ok, msg = check_case(ueajc, case, scratch, model_file, device, cubin)
            except Exception as e:      # a broken fixture or a crash is a failure too
                ok, msg = False, "%s: %s" % (type(e).__name__, e)
            print("%s %s: %s" % ("ok  " if ok else "FAIL", case, msg))
            sys.stdout.flush()
            passed += ok
            failed += not ok
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    how = (" --device %s" % device if device else "") + (" --cubin" if cubin else "")
    print("hf_check%s: %d passed, %d failed" % (" (%s)" % how.strip() if how else "", passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
