#!/usr/bin/python3
"""llama_check.py - models/llama.ue run by ueajc vs the float64 reference.

    /usr/bin/python3 tests/llama_check.py PATH_TO_UEAJC [CASE...]    (from anywhere)

For every case in tests/fixtures/llama/ (default: all; written by
tests/gen_llama_fixtures.py) it runs

    ueajc models/llama.ue --config config.json --run "$(cat tokens.txt)"
          --weights model.safetensors --dump-logits LOGITS.npy

computes the logits of tests/llama_ref.py (NumPy, float64) from the same
bf16 weights, and requires max |logit difference| <= TOL and the same argmax
at every position.  The last line is `llama_check: N passed, M failed`; the
exit status is non-zero when a case failed.  Needs only Python 3 and NumPy.
"""
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import llama_ref  # noqa: E402

ROOT = os.path.dirname(HERE)
MODEL = os.path.join(ROOT, "models", "llama.ue")
FIXTURES = os.path.join(HERE, "fixtures", "llama")
TOL = 1e-3


def check(ueajc, case, scratch):
    """Returns (ok, message)."""
    d = os.path.join(FIXTURES, case)
    cfg_path = os.path.join(d, "config.json")
    st_path = os.path.join(d, "model.safetensors")
    with open(os.path.join(d, "tokens.txt")) as f:
        tokens = [int(t) for t in f.read().split()]
    with open(cfg_path) as f:
        cfg = json.load(f)
    want = llama_ref.forward(cfg, llama_ref.read_safetensors(st_path), tokens)

    out = os.path.join(scratch, case + ".npy")
    cmd = [ueajc, MODEL, "--config", cfg_path, "--run", " ".join(map(str, tokens)),
           "--weights", st_path, "--dump-logits", out]
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=600)
    except subprocess.TimeoutExpired:
        return False, "ueajc timed out"
    if r.returncode != 0 or not os.path.exists(out):
        return False, "ueajc exited %d\n  %s\n%s" % (r.returncode, " ".join(shlex.quote(c) for c in cmd), r.stderr.rstrip())
    got = np.load(out)
    if got.shape != want.shape:
        return False, "logits shape %s, want %s" % (got.shape, want.shape)
    if not np.isfinite(got).all():
        return False, "non-finite logits"
    diff = np.abs(got.astype(np.float64) - want)
    worst = float(diff.max())
    ga, wa = got.argmax(-1), want.argmax(-1)
    msg = "max |dlogit| %.3g (at position %d), max |logit| %.3g" % (
        worst, int(diff.max(-1).argmax()), float(np.abs(want).max()))
    bad = np.nonzero(ga != wa)[0]
    if len(bad):
        msg += "; argmax differs at positions %s (ueajc %s, reference %s)" % (
            bad.tolist(), ga[bad].tolist(), wa[bad].tolist())
    return worst <= TOL and not len(bad), msg


def main(argv):
    if len(argv) < 2:
        sys.stderr.write("usage: llama_check.py PATH_TO_UEAJC [CASE...]\n")
        return 2
    ueajc = os.path.abspath(argv[1])
    cases = argv[2:] or sorted(c for c in os.listdir(FIXTURES)
                               if os.path.isdir(os.path.join(FIXTURES, c)))
    passed = failed = 0
    scratch = tempfile.mkdtemp(prefix="llama_check.")
    try:
        for case in cases:
            try:
                ok, msg = check(ueajc, case, scratch)
            except Exception as e:      # a broken fixture or reference is a failure too
                ok, msg = False, "%s: %s" % (type(e).__name__, e)
            print("%s %s: %s" % ("ok  " if ok else "FAIL", case, msg))
            passed += ok
            failed += not ok
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print("llama_check: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
