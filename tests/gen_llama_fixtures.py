#!/usr/bin/python3
"""Generate tests/fixtures/llama/CASE/: tiny random HF-layout LLaMA checkpoints.

Run from the project root with Debian's Python and NumPy:

    /usr/bin/python3 tests/gen_llama_fixtures.py

Every case directory holds
    config.json        a LlamaForCausalLM config (HF field names)
    model.safetensors  every parameter as BF16, HF names and [out, in] layout,
                       written by hand (struct + json, no torch/safetensors)
    tokens.txt         the token ids tests/llama_check.py runs, one line

The cases cover GQA (Hkv < H), MQA (Hkv = 1) and MHA (Hkv = H, explicit and
by default), tied and untied embeddings, rope_scaling llama3 (one with
wavelength thresholds small enough that the high, medium and low frequency
bands all occur in a 16-token run, one with Llama 3.2's real values),
linear (under the legacy "type" key), null and absent, head_dim != d / H,
LlamaConfig defaults (no head_dim, num_key_value_heads, rope_theta,
rms_norm_eps, tie_word_embeddings), and an embedding scale small enough
that rms_norm_eps visibly matters.  Sizes are odd where that is free.

Weights are N(0, std) from a seeded PCG64 and rounded to bf16 (nearest
even).  The generator then runs tests/llama_ref.py on the rounded weights
and redraws (next seed) until every position's top-1 logit beats the
runner-up by at least MIN_MARGIN, so the check's argmax comparison cannot
hinge on a near tie.  The output is deterministic; the fixtures are
committed.
"""
import json
import os
import shutil
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llama_ref  # noqa: E402

OUT = os.path.join("tests", "fixtures", "llama")
MIN_MARGIN = 0.05

# name: (config.json contents, options)
#   options: embed_std (default 1), head_std (lm_head, default 3/sqrt(d)),
#            n_tokens (default 16)
CASES = [
    ("gqa_tied_llama3", {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "hidden_size": 32, "intermediate_size": 40, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 8,
        "vocab_size": 67, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
        # wavelengths 2*pi*10000^(j/4) = 6.3, 63, 628, 6283 against the
        # thresholds 64/4 = 16 and 64/1 = 64: band high, medium, low, low
        "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                         "high_freq_factor": 4.0, "original_max_position_embeddings": 64},
        "max_position_embeddings": 512, "tie_word_embeddings": True,
        "hidden_act": "silu", "torch_dtype": "bfloat16",
    }, {"embed_std": 0.5}),
    ("mha_untied_defaults", {
        # LlamaConfig defaults: Hkv = H, head_dim = d / H, theta 1e4,
        # eps 1e-6 (small embeddings: a wrong default shows), untied,
        # no rope scaling
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "hidden_size": 24, "intermediate_size": 40, "num_hidden_layers": 2,
        "num_attention_heads": 3, "vocab_size": 61,
    }, {"embed_std": 0.03}),
    ("gqa_untied_headdim_linear", {
        # head_dim 16 != 32 / 4: q_proj is [64, 32], o_proj [32, 64];
        # embeddings at a real model's scale so rms_norm_eps matters
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "hidden_size": 32, "intermediate_size": 24, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
        "vocab_size": 48, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
        "rope_scaling": {"type": "linear", "factor": 4.0},
        "max_position_embeddings": 2048, "tie_word_embeddings": False,
        "hidden_act": "silu", "torch_dtype": "bfloat16",
    }, {"embed_std": 0.02}),
    ("mqa_tied_llama32", {
        # Llama 3.2's rope: theta 5e5, llama3 (32, 1, 4, 8192)
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "hidden_size": 32, "intermediate_size": 32, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 1, "head_dim": 8,
        "vocab_size": 80, "rms_norm_eps": 1e-5, "rope_theta": 500000.0,
        "rope_scaling": {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
                         "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
        "max_position_embeddings": 131072, "tie_word_embeddings": True,
        "hidden_act": "silu", "torch_dtype": "bfloat16",
    }, {"embed_std": 0.5}),
    ("gqa_tied_null_scaling", {
        # SmolLM2-like: rope_scaling null, no head_dim (36 / 6 = 6), 6 : 2 heads
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "hidden_size": 36, "intermediate_size": 28, "num_hidden_layers": 2,
        "num_attention_heads": 6, "num_key_value_heads": 2,
        "vocab_size": 72, "rms_norm_eps": 1e-5, "rope_theta": 100000.0,
        "rope_scaling": None, "max_position_embeddings": 2048,
        "tie_word_embeddings": True, "hidden_act": "silu", "torch_dtype": "bfloat16",
    }, {"embed_std": 0.5}),
    ("mha_untied_llama3_explicit", {
        # explicit Hkv = H; llama3 band edges again, other factors
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "hidden_size": 20, "intermediate_size": 36, "num_hidden_layers": 2,
        "num_attention_heads": 2, "num_key_value_heads": 2, "head_dim": 10,
        "vocab_size": 50, "rms_norm_eps": 1e-6, "rope_theta": 1000.0,
        "rope_scaling": {"rope_type": "llama3", "factor": 4.0, "low_freq_factor": 2.0,
                         "high_freq_factor": 8.0, "original_max_position_embeddings": 128},
        "max_position_embeddings": 1024, "tie_word_embeddings": False,
        "hidden_act": "silu", "torch_dtype": "bfloat16",
    }, {"n_tokens": 20}),
]


def to_bf16_bits(a):
    """float -> bf16 bit patterns (uint16), rounding f32 to nearest even."""
    b = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)
    assert np.isfinite(a).all()
    r = b + np.uint32(0x7FFF) + ((b >> np.uint32(16)) & np.uint32(1))
    return (r >> np.uint32(16)).astype(np.uint16)


def write_safetensors(path, tensors):
    """tensors: list of (name, uint16 bf16 bits); written in this order."""
    header, offset, blobs = {}, 0, []
    for name, bits in tensors:
        data = bits.astype("<u2").tobytes()
        header[name] = {"dtype": "BF16", "shape": list(bits.shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-(8 + len(h)) % 8)                 # data starts 8-aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for data in blobs:
            f.write(data)


def make_weights(cfg, opt, rng):
    """HF-named bf16 bit arrays for a config, in HF's order."""
    d, H, Hkv, hd = llama_ref.dims(cfg)
    F, V = cfg["intermediate_size"], cfg["vocab_size"]
    tied = cfg.get("tie_word_embeddings", False)

    def normal(std, *shape):
        return to_bf16_bits(rng.standard_normal(shape) * std)

    def norm_w():
        return to_bf16_bits(1.0 + 0.2 * rng.standard_normal(d))

    t = [("model.embed_tokens.weight", normal(opt.get("embed_std", 1.0), V, d))]
    for l in range(cfg["num_hidden_layers"]):
        p = "model.layers.%d." % l
        t += [
            (p + "input_layernorm.weight", norm_w()),
            (p + "self_attn.q_proj.weight", normal(1.5 / np.sqrt(d), H * hd, d)),
            (p + "self_attn.k_proj.weight", normal(1.5 / np.sqrt(d), Hkv * hd, d)),
            (p + "self_attn.v_proj.weight", normal(1.0 / np.sqrt(d), Hkv * hd, d)),
            (p + "self_attn.o_proj.weight", normal(1.0 / np.sqrt(H * hd), d, H * hd)),
            (p + "post_attention_layernorm.weight", norm_w()),
            (p + "mlp.gate_proj.weight", normal(1.0 / np.sqrt(d), F, d)),
            (p + "mlp.up_proj.weight", normal(1.0 / np.sqrt(d), F, d)),
            (p + "mlp.down_proj.weight", normal(1.0 / np.sqrt(F), d, F)),
        ]
    t.append(("model.norm.weight", norm_w()))
    if not tied:
        t.append(("lm_head.weight", normal(opt.get("head_std", 3.0 / np.sqrt(d)), V, d)))
    return t


def make_tokens(cfg, opt, rng):
    V, n = cfg["vocab_size"], opt.get("n_tokens", 16)
    toks = rng.integers(0, V, size=n)
    toks[1], toks[-1] = 0, V - 1                    # both ends of the table
    toks[n // 2] = toks[n // 2 - 2]                 # a repeated token
    return [int(x) for x in toks]


def margin(logits):
    s = np.sort(logits, axis=-1)
    return float(np.min(s[:, -1] - s[:, -2]))


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    total = 0
    for ci, (name, cfg, opt) in enumerate(CASES):
        for attempt in range(100):
            rng = np.random.default_rng([20250, ci, attempt])
            tensors = make_weights(cfg, opt, rng)
            tokens = make_tokens(cfg, opt, rng)
            W = {k: llama_ref.bf16_bits_to_f64(v) for k, v in tensors}
            logits = llama_ref.forward(cfg, W, tokens)
            if margin(logits) >= MIN_MARGIN:
                break
        else:
            raise SystemExit("%s: no draw with top-2 margin >= %g" % (name, MIN_MARGIN))
        d = os.path.join(OUT, name)
        os.makedirs(d)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
            f.write("\n")
        write_safetensors(os.path.join(d, "model.safetensors"), tensors)
        with open(os.path.join(d, "tokens.txt"), "w") as f:
            f.write(" ".join(str(t) for t in tokens) + "\n")
        # the file must read back to the same values
        back = llama_ref.read_safetensors(os.path.join(d, "model.safetensors"))
        assert set(back) == set(W) and all((back[k] == W[k]).all() for k in W)
        size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
        total += size
        print("wrote %s: %d bytes, attempt %d, top-2 margin %.3f, |logit| <= %.2f"
              % (d, size, attempt, margin(logits), np.abs(logits).max()))
    print("total %d bytes" % total)
    assert total < 200 * 1024


if __name__ == "__main__":
    main()
