#!/usr/bin/python3
"""llama_ref.py - an independent float64 NumPy reference for HF LlamaForCausalLM.

Written from HuggingFace transformers' formulas (modeling_llama.py and
modeling_rope_utils.py), not from ueajc's code, so that tests/llama_check.py
can compare models/llama.ue against it.  Everything is float64; parameters
stored as bf16/f16/f32 in the .safetensors file are widened exactly.

    /usr/bin/python3 tests/llama_ref.py CONFIG.json MODEL.safetensors "1 2 3" [-o LOGITS.npy]

prints the argmax per position (and writes the logits [n, V] as float64).

The forward pass, for token ids t[0..n) at positions 0..n-1:

    x = E[t]                                         E = model.embed_tokens.weight [V, d]
    per layer l:
        h = rms(x) * input_layernorm
        q, k, v = h Wq^T, h Wk^T, h Wv^T             HF weights are [out, in]
        q, k = rope(q), rope(k)                      half split: (x1, x2) -> (x1 c - x2 s, x2 c + x1 s)
        query head j uses KV head j // (H / Hkv)     (GQA, HF repeat_kv)
        a_j = softmax(q_j k^T / sqrt(head_dim), causal) v
        x = x + concat_j(a_j) Wo^T
        h = rms(x) * post_attention_layernorm
        x = x + (silu(h Wg^T) * (h Wu^T)) Wd^T
    logits = (rms(x) * model.norm) W_head^T         W_head = lm_head.weight, or E when tied

with rms(x) = x / sqrt(mean(x^2) + rms_norm_eps).
"""
import json
import math
import struct
import sys

import numpy as np

# ---------------------------------------------------------------------------
# .safetensors reading (8-byte little-endian header length, JSON header,
# raw little-endian data), widened to float64.

_ST_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2"}


def bf16_bits_to_f64(bits):
    """bf16 bit patterns (uint16) -> float64, exactly (bf16 is the top half of an f32)."""
    bits = np.asarray(bits, dtype=np.uint16)
    return (bits.astype(np.uint32) << 16).view(np.float32).astype(np.float64)


def read_safetensors(path):
    """Returns {name: float64 ndarray} for every tensor in the file."""
    with open(path, "rb") as f:
        raw = f.read()
    (hlen,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + hlen].decode("utf-8"))
    base = 8 + hlen
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dt = info["dtype"]
        if dt not in _ST_DTYPES:
            raise ValueError("%s: tensor %s has dtype %s (not supported here)" % (path, name, dt))
        b, e = info["data_offsets"]
        shape = tuple(info["shape"])
        a = np.frombuffer(raw[base + b:base + e], dtype=_ST_DTYPES[dt])
        if a.size != int(np.prod(shape, dtype=np.int64)):
            raise ValueError("%s: tensor %s: %d elements for shape %s" % (path, name, a.size, shape))
        a = bf16_bits_to_f64(a) if dt == "BF16" else a.astype(np.float64)
        out[name] = a.reshape(shape)
    return out


# ---------------------------------------------------------------------------
# Config, with LlamaConfig's defaults.

def dims(cfg):
    d = cfg["hidden_size"]
    H = cfg["num_attention_heads"]
    Hkv = cfg.get("num_key_value_heads")
    if Hkv is None:
        Hkv = H
    hd = cfg.get("head_dim")
    if hd is None:
        hd = d // H
    return d, H, Hkv, hd


def rope_inv_freq(cfg):
    """inv_freq[j], j < head_dim/2, as transformers' ROPE_INIT_FUNCTIONS compute it
    (default, linear, llama3); the attention scaling of these types is 1."""
    _, _, _, hd = dims(cfg)
    theta = cfg.get("rope_theta", 10000.0)
    if cfg.get("partial_rotary_factor", 1.0) != 1.0:
        raise ValueError("partial_rotary_factor is not supported")
    # _compute_default_rope_parameters: 1 / base^(arange(0, dim, 2) / dim)
    inv_freq = 1.0 / theta ** (np.arange(0, hd, 2, dtype=np.float64) / hd)
    rs = cfg.get("rope_scaling")
    if rs is None:
        return inv_freq
    rope_type = rs.get("rope_type", rs.get("type", "default"))
    if rope_type == "default":
        return inv_freq
    if rope_type == "linear":
        # _compute_linear_scaling_rope_parameters
        return inv_freq / rs["factor"]
    if rope_type == "llama3":
        # _compute_llama3_parameters
        factor = rs["factor"]
        low_freq_factor = rs["low_freq_factor"]
        high_freq_factor = rs["high_freq_factor"]
        old_context_len = rs["original_max_position_embeddings"]
        low_freq_wavelen = old_context_len / low_freq_factor
        high_freq_wavelen = old_context_len / high_freq_factor
        wavelen = 2 * math.pi / inv_freq
        # wavelen < high_freq_wavelen: unchanged; wavelen > low_freq_wavelen: / factor
        inv_freq_llama = np.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
        # in between: interpolate with a smooth factor
        smooth_factor = (old_context_len / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
        smoothed = (1 - smooth_factor) * inv_freq_llama / factor + smooth_factor * inv_freq_llama
        is_medium = ~(wavelen < high_freq_wavelen) & ~(wavelen > low_freq_wavelen)
        return np.where(is_medium, smoothed, inv_freq_llama)
    raise ValueError("rope type %r is not supported" % rope_type)


# ---------------------------------------------------------------------------
# The model.

def rms_norm(x, w, eps):
    # LlamaRMSNorm: weight * (x * rsqrt(mean(x^2, -1) + eps))
    return w * (x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return np.concatenate([-x[..., half:], x[..., :half]], axis=-1)


def apply_rope(x, cos, sin):
    # x [n, heads, hd]; cos, sin [n, hd]
    return x * cos[:, None, :] + rotate_half(x) * sin[:, None, :]


def silu(x):
    return x / (1.0 + np.exp(-x))


def softmax(s):
    s = s - np.max(s, axis=-1, keepdims=True)
    e = np.exp(s)
    return e / np.sum(e, axis=-1, keepdims=True)


def forward(cfg, W, tokens):
    """Logits [n, V] (float64) of LlamaForCausalLM for token ids `tokens`
    at positions 0..n-1; W maps HF tensor names to float64 arrays."""
    for key, want in (("hidden_act", "silu"), ("attention_bias", False), ("mlp_bias", False)):
        if cfg.get(key, want) != want:
            raise ValueError("%s = %r is not supported" % (key, cfg[key]))
    d, H, Hkv, hd = dims(cfg)
    if H % Hkv:
        raise ValueError("num_attention_heads %d is not a multiple of num_key_value_heads %d" % (H, Hkv))
    group = H // Hkv
    L = cfg["num_hidden_layers"]
    eps = cfg.get("rms_norm_eps", 1e-6)
    tied = cfg.get("tie_word_embeddings", False)

    tokens = np.asarray(tokens, dtype=np.int64)
    n = tokens.shape[0]
    E = W["model.embed_tokens.weight"]
    x = E[tokens]                                           # [n, d]

    # LlamaRotaryEmbedding: freqs = pos * inv_freq, emb = cat(freqs, freqs)
    pos = np.arange(n, dtype=np.float64)
    freqs = pos[:, None] * rope_inv_freq(cfg)[None, :]     # [n, hd/2]
    emb = np.concatenate([freqs, freqs], axis=-1)           # [n, hd]
    cos, sin = np.cos(emb), np.sin(emb)

    causal = np.tril(np.ones((n, n), dtype=bool))           # query i sees keys <= i
    for l in range(L):
        p = "model.layers.%d." % l
        h = rms_norm(x, W[p + "input_layernorm.weight"], eps)
        q = (h @ W[p + "self_attn.q_proj.weight"].T).reshape(n, H, hd)
        k = (h @ W[p + "self_attn.k_proj.weight"].T).reshape(n, Hkv, hd)
        v = (h @ W[p + "self_attn.v_proj.weight"].T).reshape(n, Hkv, hd)
        q = apply_rope(q, cos, sin)
        k = apply_rope(k, cos, sin)
        attn = np.empty((n, H, hd))
        for j in range(H):
            kv = j // group                                 # repeat_kv
            s = (q[:, j, :] @ k[:, kv, :].T) / math.sqrt(hd)
            s = np.where(causal, s, -np.inf)
            attn[:, j, :] = softmax(s) @ v[:, kv, :]
        x = x + attn.reshape(n, H * hd) @ W[p + "self_attn.o_proj.weight"].T

        h = rms_norm(x, W[p + "post_attention_layernorm.weight"], eps)
        g = h @ W[p + "mlp.gate_proj.weight"].T
        u = h @ W[p + "mlp.up_proj.weight"].T
        x = x + (silu(g) * u) @ W[p + "mlp.down_proj.weight"].T

    x = rms_norm(x, W["model.norm.weight"], eps)
    head = E if tied else W["lm_head.weight"]
    return x @ head.T


def main(argv):
    if len(argv) not in (4, 6) or (len(argv) == 6 and argv[4] != "-o"):
        sys.stderr.write("usage: llama_ref.py CONFIG.json MODEL.safetensors \"ID ...\" [-o LOGITS.npy]\n")
        return 2
    with open(argv[1]) as f:
        cfg = json.load(f)
    W = read_safetensors(argv[2])
    tokens = [int(t) for t in argv[3].split()]
    logits = forward(cfg, W, tokens)
    print("logits [%d, %d]: argmax per position: %s"
          % (logits.shape[0], logits.shape[1], " ".join(str(int(i)) for i in logits.argmax(-1))))
    if len(argv) == 6:
        np.save(argv[5], logits)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
