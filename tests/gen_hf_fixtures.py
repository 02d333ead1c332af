#!/usr/bin/env python3
"""Generate tests/fixtures/hf/CASE/: tiny random LlamaForCausalLM checkpoints
saved by HuggingFace transformers, with the logits transformers computes.

Needs PyTorch, transformers and tokenizers from PyPI (CPU is enough); the
check that uses the fixtures (tests/hf_check.py) needs none of them:

    python3 -m venv /tmp/hfvenv
    /tmp/hfvenv/bin/pip install torch transformers tokenizers numpy safetensors
    (made with torch 2.15.0, transformers 5.24.0, tokenizers 0.23.3; the
    plain PyPI torch wheel pulls the CUDA libraries, 5.6 GB, about a minute)
    /tmp/hfvenv/bin/python tests/gen_hf_fixtures.py        (from the project root)

Every case directory holds what `save_pretrained` writes for the model
(config.json, generation_config.json, model.safetensors, float32) and for
its tokenizer (tokenizer.json, tokenizer_config.json), and

    expect.json   the prompt, its ids as the HF tokenizer encodes it by
                  default (BOS from the tokenizer's post-processor), the 32
                  greedy ids of `generate(do_sample=False, max_new_tokens=32)`
                  with EOS disabled and their text (decoded without special
                  tokens, as `ueajc run` prints it), the versions, the smallest
                  top-1 / top-2 logit margin over all rows
    logits.npy    float32 [n_prompt + 31, V]: transformers' logits at every
                  prompt position (row n_prompt - 1 chose greedy token 0),
                  then the logits of generation steps 1..31 (row n_prompt + j
                  - 1 chose greedy token j) - the rows `ueajc run --logits`
                  writes for -n 32

The tokenizer is a byte-level BPE (Llama 3's pre-tokenizer regex, ByteLevel
without a prefix space, a TemplateProcessing post-processor that prepends
<|begin_of_text|>) trained with the `tokenizers` library on the fixed text
below; it is the same for every case.

The cases cover GQA, MQA and MHA, tied and untied embeddings, rope_scaling
llama3 (with band edges low enough that the high, medium and low frequency
bands all occur) and none, and head_dim != hidden_size / heads (10, 12 and
6: not powers of two).  transformers 5 writes the RoPE settings as
`rope_parameters` (rope_theta inside) and the dtype as `dtype`; two cases
rewrite config.json afterwards into the transformers 4 layout that hub
checkpoints have (`rope_theta`, `rope_scaling`, `torch_dtype`; one also
without `head_dim`, which then defaults to hidden_size / heads).  The
expected logits always come from the model reloaded from the case
directory with from_pretrained, so the saved files are what is checked.

Weights are drawn N(0, std) with seeded torch generators at scales that
give logits of a few units to a few tens (HF's own init, std 0.02, gives near-uniform
logits that would check nothing), norm weights 1 + 0.2 N(0, 1).  A draw is
kept only when every row's top-1 logit beats the runner-up by at least
MIN_MARGIN, so the argmax comparison cannot hinge on a near tie, and whose
greedy continuation has at least MIN_DISTINCT different ids (tiny random
models like to repeat one token 32 times, which would check little).  The
output is deterministic for a given torch/transformers version.
"""
import json
import os
import shutil
import sys

import numpy as np
import torch
import transformers
import tokenizers
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast, AutoTokenizer

OUT = os.path.join("tests", "fixtures", "hf")
N_NEW = 32
MIN_MARGIN = 0.01
MIN_DISTINCT = 8      # distinct ids in the greedy continuation (no 32 x the same token)
BOS, EOS, PAD = "<|begin_of_text|>", "<|end_of_text|>", "<|pad|>"
VOCAB = 384

# Llama 3's pre-tokenizer pattern
LLAMA3_PAT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
              r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

TEXT = """\
The quick brown fox jumps over the lazy dog. The dog sleeps in the sun, and the fox runs into the woods.
Once upon a time there was a little robot who wanted to learn how to write poems about the sea.
Every morning the robot walked to the harbour, counted the boats (there were 12, sometimes 13), and wrote a line.
"Why do you count the boats?" asked the old fisherman. "Because numbers are the poems of machines," said the robot.
The fisherman laughed: he had never thought of it that way. He taught the robot the names of the winds and the fish.
In the evening they sat together and watched the lights of the town: 1, 2, 3, 4, 5 ... 100 of them, maybe 1000.
A tensor compiler turns small einsum strings into loops; a language model turns tokens into logits, one after another.
Attention looks back at every earlier token; the key and value cache keeps them, so that each new token costs little.
Rotary position embeddings rotate pairs of features by angles that grow with the position of the token in the text.
Caf\u00e9, na\u00efve, r\u00e9sum\u00e9, fa\u00e7ade: some words keep their accents. \u00dcber, \u00e5r, \u00f8l, \u0111i, stra\u00dfe.
\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440! \u3053\u3093\u306b\u3061\u306f\u4e16\u754c\u3002 \u4f60\u597d\uff0c\u4e16\u754c\u3002 \U0001F600 \U0001F680 \u2014 emoji and dashes too.
def add(a, b):
    return a + b

for i in range(10):
    print(add(i, i * 2))

The end of the story is not the end of the text; there is always another line, another token, another step.
She said: "I'll go, we'll see, they're here, you've won, I'm done, he'd know." Don't stop; it's fine.
  Two spaces, three   spaces, a tab\there, and a new line
and another one.
"""

# ASCII words, a contraction, digits, an accented letter (2 bytes), a CJK
# character (3 bytes), a newline and a run of spaces
PROMPT = "The robot said: \"I'll count 1234,\" caf\u00e9 \u4e16\n  The fox"

# name: (LlamaConfig kwargs, options)
#   options: embed_std (default 1.0), head_std (lm_head; default 3/sqrt(d)),
#            final_norm (scales model.norm.weight: with tied embeddings small
#            enough that the layers, not the token's own embedding, decide
#            the next token, it brings the logits back to a few units),
#            legacy (rewrite config.json in the transformers 4 layout),
#            drop (config.json fields to remove afterwards: LlamaConfig's
#            defaults then apply, as for older checkpoints)
CASES = [
    ("gqa_tied_llama3", dict(
        # head_dim 32 / 4 = 8 (written by save_pretrained)
        hidden_size=32, intermediate_size=48, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2,
        rms_norm_eps=1e-5, max_position_embeddings=512, tie_word_embeddings=True,
        # wavelengths 2 pi 10000^(2j/8), j = 0..3: 6.3, 63, 628, 6283 against
        # the band edges 64/4 = 16 and 64/1 = 64: high, medium, low, low
        rope_parameters={"rope_type": "llama3", "rope_theta": 10000.0, "factor": 8.0,
                         "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                         "original_max_position_embeddings": 64}),
     {"embed_std": 0.1, "final_norm": 15.0}),
    ("mha_untied_none", dict(
        # MHA (num_key_value_heads defaults to the 4 heads), no rope scaling
        hidden_size=32, intermediate_size=48, num_hidden_layers=2,
        num_attention_heads=4, rms_norm_eps=1e-6, max_position_embeddings=256,
        tie_word_embeddings=False,
        rope_parameters={"rope_type": "default", "rope_theta": 500.0}),
     {"embed_std": 1.0}),
    ("gqa_untied_headdim10_llama3", dict(
        # head_dim 10 != 32 / 4: q_proj [40, 32], o_proj [32, 40];
        # embeddings at a real model's scale, so rms_norm_eps matters
        hidden_size=32, intermediate_size=40, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=10,
        rms_norm_eps=1e-5, max_position_embeddings=4096, tie_word_embeddings=False,
        # wavelengths 2 pi 1000^(2j/10): 6.3, 25, 100, 396, 1578 against
        # 128/8 = 16 and 128/2 = 64: high, medium, low, low, low
        rope_parameters={"rope_type": "llama3", "rope_theta": 1000.0, "factor": 4.0,
                         "low_freq_factor": 2.0, "high_freq_factor": 8.0,
                         "original_max_position_embeddings": 128}),
     {"embed_std": 0.05}),
    ("mqa_tied_headdim6_none", dict(
        # one KV head, head_dim 6 != 36 / 3 = 12
        hidden_size=36, intermediate_size=40, num_hidden_layers=2,
        num_attention_heads=3, num_key_value_heads=1, head_dim=6,
        rms_norm_eps=1e-5, max_position_embeddings=2048, tie_word_embeddings=True,
        rope_parameters={"rope_type": "default", "rope_theta": 100000.0}),
     {"embed_std": 0.1, "final_norm": 15.0}),
    ("legacy_gqa_tied_none", dict(
        # SmolLM2-like (6 : 2 heads, theta 1e5, tied), config.json in the
        # transformers 4 layout with "rope_scaling": null and no head_dim
        hidden_size=48, intermediate_size=48, num_hidden_layers=2,
        num_attention_heads=6, num_key_value_heads=2,
        rms_norm_eps=1e-5, max_position_embeddings=2048, tie_word_embeddings=True,
        rope_parameters={"rope_type": "default", "rope_theta": 100000.0}),
     {"embed_std": 0.1, "final_norm": 15.0, "legacy": True, "drop": ["head_dim"]}),
    ("legacy_mha_untied_headdim12_llama3", dict(
        # transformers 4 layout, "rope_scaling": {"rope_type": "llama3", ...};
        # explicit num_key_value_heads = heads = 3, head_dim 12 != 24 / 3
        hidden_size=24, intermediate_size=40, num_hidden_layers=2,
        num_attention_heads=3, num_key_value_heads=3, head_dim=12,
        rms_norm_eps=1e-5, max_position_embeddings=131072, tie_word_embeddings=False,
        # wavelengths 2 pi 5000^(2j/12): 6.3, 27, 115, 493, 2113, 9058
        # against 96/4 = 24 and 96/1 = 96: high, medium, low, low, low, low
        rope_parameters={"rope_type": "llama3", "rope_theta": 5000.0, "factor": 32.0,
                         "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                         "original_max_position_embeddings": 96}),
     {"embed_std": 1.0, "legacy": True}),
]


def train_tokenizer():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_PAT), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, min_frequency=2, show_progress=False,
                                  special_tokens=[BOS, EOS, PAD],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([TEXT], trainer)
    bos_id = tok.token_to_id(BOS)
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single=BOS + " $A", pair=BOS + " $A " + BOS + " $B:1",
                                      special_tokens=[(BOS, bos_id)]),
    ])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=BOS, eos_token=EOS, pad_token=PAD,
                                   clean_up_tokenization_spaces=False, model_max_length=4096)
    return fast


def init_weights(model, cfg, opt, seed):
    g = torch.Generator().manual_seed(seed)
    d = cfg.hidden_size
    F = cfg.intermediate_size
    hd = cfg.head_dim
    H = cfg.num_attention_heads

    def normal_(p, std):
        with torch.no_grad():
            p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64) * std)

    for name, p in model.named_parameters():
        if name.endswith("norm.weight"):
            scale = opt.get("final_norm", 1.0) if name == "model.norm.weight" else 1.0
            with torch.no_grad():
                p.copy_(scale * (1.0 + 0.2 * torch.randn(p.shape, generator=g, dtype=torch.float64)))
        elif name == "model.embed_tokens.weight":
            normal_(p, opt.get("embed_std", 1.0))
        elif name == "lm_head.weight":
            normal_(p, opt.get("head_std", 3.0 / np.sqrt(d)))
        elif "q_proj" in name or "k_proj" in name:
            normal_(p, 1.5 / np.sqrt(d))
        elif "v_proj" in name or "gate_proj" in name or "up_proj" in name:
            normal_(p, 1.0 / np.sqrt(d))
        elif "o_proj" in name:
            normal_(p, 1.0 / np.sqrt(H * hd))
        elif "down_proj" in name:
            normal_(p, 1.0 / np.sqrt(F))
        else:
            raise SystemExit("unexpected parameter " + name)


def margin(rows):
    s = np.sort(rows, axis=-1)
    return float(np.min(s[:, -1] - s[:, -2]))


def to_legacy(path, drop):
    """Rewrites a transformers 5 config.json in the transformers 4 layout."""
    with open(path) as f:
        c = json.load(f)
    rp = c.pop("rope_parameters")
    out = {}
    for k, v in c.items():
        if k in drop:
            continue
        if k == "dtype":
            out["torch_dtype"] = v
            continue
        out[k] = v
    out["rope_theta"] = rp.pop("rope_theta")
    out["rope_scaling"] = None if rp.get("rope_type", "default") == "default" else rp
    with open(path, "w") as f:
        json.dump(out, f, indent=2, sort_keys=True)
        f.write("\n")


def dump_json(obj):
    """One key a line, each value on its line (id lists stay readable)."""
    return "{\n" + ",\n".join(" %s: %s" % (json.dumps(k), json.dumps(v)) for k, v in obj.items()) + "\n}\n"


def run_hf(case_dir, ids):
    """Loads the case directory and returns (logits rows, greedy ids)."""
    model = LlamaForCausalLM.from_pretrained(case_dir, dtype=torch.float32)
    model.eval()
    model.generation_config.eos_token_id = None    # exactly N_NEW tokens
    x = torch.tensor([ids], dtype=torch.long)
    with torch.no_grad():
        prompt_logits = model(x).logits[0].numpy().astype(np.float32)
        out = model.generate(x, attention_mask=torch.ones_like(x), do_sample=False,
                             max_new_tokens=N_NEW, min_new_tokens=N_NEW,
                             output_logits=True, return_dict_in_generate=True,
                             pad_token_id=model.config.pad_token_id, eos_token_id=None)
    gen = out.sequences[0, len(ids):].tolist()
    step = np.stack([l[0].numpy() for l in out.logits]).astype(np.float32)
    assert len(gen) == N_NEW and step.shape[0] == N_NEW
    assert (step.argmax(-1) == np.array(gen)).all(), "generate's logits do not give its tokens"
    d0 = float(np.abs(step[0] - prompt_logits[-1]).max())
    assert d0 < 1e-4, "prefill in generate differs from the forward pass by %g" % d0
    # the full forward over prompt + continuation gives the same rows
    with torch.no_grad():
        full = model(torch.tensor([ids + gen])).logits[0].numpy()
    rows = np.concatenate([prompt_logits, step[1:]])
    dfull = float(np.abs(full[:len(ids) + N_NEW - 1] - rows).max())
    assert dfull < 1e-4, "cached generation differs from the full forward pass by %g" % dfull
    return rows, gen


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    torch.set_num_threads(1)
    transformers.utils.logging.disable_progress_bar()
    fast = train_tokenizer()
    V = len(fast)
    ids = fast(PROMPT)["input_ids"]
    bos_id = fast.convert_tokens_to_ids(BOS)
    eos_id = fast.convert_tokens_to_ids(EOS)
    pad_id = fast.convert_tokens_to_ids(PAD)
    assert ids[0] == bos_id and bos_id not in ids[1:], ids
    assert fast.decode(ids, skip_special_tokens=True) == PROMPT, fast.decode(ids)
    total = 0
    for ci, (name, kw, opt) in enumerate(CASES):
        d = os.path.join(OUT, name)
        for attempt in range(200):
            if os.path.isdir(d):
                shutil.rmtree(d)
            cfg = LlamaConfig(vocab_size=V, bos_token_id=bos_id, eos_token_id=eos_id,
                              pad_token_id=pad_id, hidden_act="silu", **kw)
            torch.manual_seed(0)
            model = LlamaForCausalLM(cfg).to(torch.float32)
            init_weights(model, model.config, opt, 1000 * ci + attempt)
            model.save_pretrained(d, safe_serialization=True)
            fast.save_pretrained(d)
            if opt.get("legacy"):
                to_legacy(os.path.join(d, "config.json"), opt.get("drop", []))
            # the tokenizer as transformers loads it back from the directory
            tok2 = AutoTokenizer.from_pretrained(d)
            ids2 = tok2(PROMPT)["input_ids"]
            assert ids2 == ids, (ids2, ids)
            rows, gen = run_hf(d, ids)
            m = margin(rows)
            if m >= MIN_MARGIN and len(set(gen)) >= MIN_DISTINCT:
                break
        else:
            raise SystemExit("%s: no draw with top-2 margin >= %g and %d distinct greedy ids" % (
                name, MIN_MARGIN, MIN_DISTINCT))
        np.save(os.path.join(d, "logits.npy"), rows)
        meta = {
            "prompt": PROMPT,
            "prompt_ids": ids,
            "greedy_ids": gen,
            "greedy_text": fast.decode(gen, skip_special_tokens=True),
            "n_new": N_NEW,
            "min_top2_margin": round(m, 6),
            "max_abs_logit": round(float(np.abs(rows).max()), 3),
            "seed": 1000 * ci + attempt,
            "generated_by": "tests/gen_hf_fixtures.py with torch %s, transformers %s, tokenizers %s" % (
                torch.__version__, transformers.__version__, tokenizers.__version__),
        }
        with open(os.path.join(d, "expect.json"), "w") as f:
            f.write(dump_json(meta))
        size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
        total += size
        print("%-36s V %d, %d prompt ids, margin %.4f (seed %d), %d KB, greedy %s" % (
            name, V, len(ids), m, 1000 * ci + attempt, size // 1024, gen[:8]))
    print("total %d KB" % (total // 1024))


if __name__ == "__main__":
    sys.exit(main())
