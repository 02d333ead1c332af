#!/usr/bin/env python3
"""gen_gguf_fixtures.py - the GGUF fixtures of test_gguf.c (tests/fixtures/gguf/).

Writes, with nothing but struct and NumPy (no gguf package, no llama.cpp):

  tiny-llama.gguf        a complete llama-architecture GGUF v3: d=32, 2 layers,
                         4 query heads, 2 KV heads (head dim 8), MLP 64, a
                         272-token byte-level BPE vocabulary with 12 merges,
                         3 control tokens and 1 user-defined token, a chat
                         template, alignment 64, metadata of every value type,
                         and tensors in F32 F16 BF16 F64 Q4_0 Q4_1 Q5_0 Q5_1
                         Q8_0 with random (seeded) quantized blocks;
  tiny-llama.expected.safetensors
                         what `ueajc convert` must produce: HF names, HF
                         [out, in] shapes, f32 values dequantized by an
                         independent NumPy implementation of ggml's block
                         formats, q_proj/k_proj rows un-permuted by NumPy
                         reshapes (checked against llama.cpp's own permute);
  tiny-llama.expected.json
                         the expected config.json fields, vocabulary, merges,
                         added tokens and tokenizer_config.json fields;
  kquants.gguf, kquants.expected.safetensors
                         Q4_K, Q5_K, Q6_K (and a 3-D Q4_0) tensors with their
                         dequantized values (GGUF names, shape = reversed ne).

The dequantization below follows ggml-quants.c's dequantize_row_* in float32
with the same operation order (NumPy never fuses multiply-adds), so the
values are bit-exact.  Run from the project root:
    /usr/bin/python3 tests/gen_gguf_fixtures.py
"""
import json
import os
import struct
import sys

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "gguf")
rng = np.random.default_rng(20250214)
F32 = np.float32

# ---------------------------------------------------------------- GGUF writing

VT = dict(u8=0, i8=1, u16=2, i16=3, u32=4, i32=5, f32=6, bool=7, str=8, arr=9, u64=10, i64=11, f64=12)
SCALAR_FMT = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
GT = dict(F32=0, F16=1, Q4_0=2, Q4_1=3, Q5_0=6, Q5_1=7, Q8_0=8, Q4_K=12, Q5_K=13, Q6_K=14, F64=28, BF16=30)
BLOCK = dict(F32=(1, 4), F16=(1, 2), BF16=(1, 2), F64=(1, 8), Q4_0=(32, 18), Q4_1=(32, 20), Q5_0=(32, 22),
             Q5_1=(32, 24), Q8_0=(32, 34), Q4_K=(256, 144), Q5_K=(256, 176), Q6_K=(256, 210))


def gstr(s):
    b = s.encode("utf-8") if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def gval(t, v):
    """(type, value) -> bytes; arrays are ('arr', (elem_type, [values]))."""
    if t == VT["str"]:
        return gstr(v)
    if t == VT["arr"]:
        et, items = v
        out = struct.pack("<IQ", et[0] if isinstance(et, tuple) else et, len(items))
        for it in items:
            out += gval(et[0], et[1](it)) if isinstance(et, tuple) else gval(et, it)
        return out
    return struct.pack(SCALAR_FMT[t], v)


def write_gguf(path, kvs, tensors, alignment=32):
    """kvs: [(key, type, value)]; tensors: [(name, ne (fastest first), type name, raw bytes)]."""
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs))
    for k, t, v in kvs:
        head += gstr(k) + struct.pack("<I", t) + gval(t, v)
    data = b""
    infos = b""
    for name, ne, tname, raw in tensors:
        data += b"\0" * ((-len(data)) % alignment)
        infos += gstr(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", n) for n in ne)
        infos += struct.pack("<IQ", GT[tname], len(data))
        data += raw
    blob = head + infos
    blob += b"\0" * ((-len(blob)) % alignment)
    with open(path, "wb") as f:
        f.write(blob + data)


def write_safetensors(path, tensors):
    """tensors: [(name, float32 array)] in order."""
    hdr, off, blobs = {}, 0, []
    for name, a in tensors:
        a = np.ascontiguousarray(a, dtype="<f4")
        hdr[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
        off += a.nbytes
        blobs.append(a.tobytes())
    h = json.dumps(hdr, separators=(",", ":")).encode()
    h += b" " * ((-len(h)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


# ---------------------------------------------------------------- random blocks

def rand_f16(n, lo=1e-3, hi=0.08):
    """f16 scales: random magnitude and sign, some subnormal, some zero."""
    v = rng.uniform(lo, hi, n) * rng.choice([-1.0, 1.0], n)
    v[rng.random(n) < 0.1] = rng.uniform(1e-7, 5e-5)       # f16 subnormals
    v[rng.random(n) < 0.03] = 0.0
    return v.astype(np.float16)


def rand_bytes(n):
    return rng.integers(0, 256, n, dtype=np.uint8)


def make_blocks(tname, nelem):
    """Random raw data for nelem values of type tname."""
    bs, size = BLOCK[tname]
    nb = nelem // bs
    if tname == "F32":
        return rng.normal(0, 1, nelem).astype("<f4").tobytes()
    if tname == "F64":
        return rng.normal(0, 1, nelem).astype("<f8").tobytes()
    if tname == "F16":
        return rng.normal(0, 1, nelem).astype("<f2").tobytes()
    if tname == "BF16":
        return (rng.normal(0, 1, nelem).astype("<f4").view("<u4") >> 16).astype("<u2").tobytes()
    out = bytearray()
    for _ in range(nb):
        if tname in ("Q4_0", "Q5_0", "Q8_0"):
            blk = rand_f16(1).tobytes()
        elif tname in ("Q4_1", "Q5_1"):
            blk = rand_f16(1).tobytes() + rand_f16(1).tobytes()
        elif tname in ("Q4_K", "Q5_K"):
            blk = rand_f16(1).tobytes() + rand_f16(1, 1e-4, 0.01).tobytes()
        else:
            blk = b""
        blk += rand_bytes(size - len(blk) - (2 if tname == "Q6_K" else 0)).tobytes()
        if tname == "Q6_K":
            blk += rand_f16(1).tobytes()
        assert len(blk) == size
        out += blk
    return bytes(out)


# ---------------------------------------------------------------- reference dequantization

def f16(b, off):
    return F32(np.frombuffer(b, "<f2", 1, off)[0])


def deq(tname, raw, nelem):
    """float32 values of raw data in ggml type tname (ggml's operation order)."""
    if tname == "F32":
        return np.frombuffer(raw, "<f4").copy()
    if tname == "F64":
        return np.frombuffer(raw, "<f8").astype(F32)
    if tname == "F16":
        return np.frombuffer(raw, "<f2").astype(F32)
    if tname == "BF16":
        return (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(F32)
    bs, size = BLOCK[tname]
    y = np.zeros(nelem, F32)
    for i in range(nelem // bs):
        b = raw[i * size:(i + 1) * size]
        o = y[i * bs:(i + 1) * bs]
        if tname == "Q4_0":
            d = f16(b, 0)
            q = np.frombuffer(b, np.uint8, 16, 2).astype(np.int32)
            o[:16] = ((q & 15) - 8).astype(F32) * d
            o[16:] = ((q >> 4) - 8).astype(F32) * d
        elif tname == "Q4_1":
            d, m = f16(b, 0), f16(b, 2)
            q = np.frombuffer(b, np.uint8, 16, 4).astype(np.int32)
            o[:16] = (q & 15).astype(F32) * d + m
            o[16:] = (q >> 4).astype(F32) * d + m
        elif tname in ("Q5_0", "Q5_1"):
            d = f16(b, 0)
            m = f16(b, 2) if tname == "Q5_1" else None
            base = 4 if m is not None else 2
            qh = struct.unpack_from("<I", b, base)[0]
            q = np.frombuffer(b, np.uint8, 16, base + 4).astype(np.int32)
            hi = np.array([(qh >> j) & 1 for j in range(32)], np.int32) << 4
            v = np.concatenate([q & 15, q >> 4]) | hi
            o[:] = (v - 16).astype(F32) * d if m is None else v.astype(F32) * d + m
        elif tname == "Q8_0":
            d = f16(b, 0)
            o[:] = np.frombuffer(b, np.int8, 32, 2).astype(F32) * d
        elif tname in ("Q4_K", "Q5_K"):
            d, dmin = f16(b, 0), f16(b, 2)
            sc = np.frombuffer(b, np.uint8, 12, 4).astype(np.int32)
            if tname == "Q5_K":
                qh = np.frombuffer(b, np.uint8, 32, 16).astype(np.int32)
                ql = np.frombuffer(b, np.uint8, 128, 48).astype(np.int32)
            else:
                ql = np.frombuffer(b, np.uint8, 128, 16).astype(np.int32)
            # the 8 six-bit (scale, min) pairs, unpacked independently of the C code
            scales, mins = [], []
            for j in range(8):
                if j < 4:
                    scales.append(sc[j] & 63)
                    mins.append(sc[j + 4] & 63)
                else:
                    scales.append((sc[j + 4] & 15) | ((sc[j - 4] >> 6) << 4))
                    mins.append((sc[j + 4] >> 4) | ((sc[j] >> 6) << 4))
            for sub in range(8):                        # 8 sub-blocks of 32
                chunk, hi_nib = sub // 2, sub % 2
                q = ql[chunk * 32:(chunk + 1) * 32]
                q = (q >> 4) if hi_nib else (q & 15)
                if tname == "Q5_K":
                    q = q + ((qh >> sub) & 1) * 16
                d1 = d * F32(scales[sub])
                m1 = dmin * F32(mins[sub])
                o[sub * 32:(sub + 1) * 32] = d1 * q.astype(F32) - m1
        elif tname == "Q6_K":
            ql = np.frombuffer(b, np.uint8, 128, 0).astype(np.int32)
            qh = np.frombuffer(b, np.uint8, 64, 128).astype(np.int32)
            sc = np.frombuffer(b, np.int8, 16, 192).astype(F32)
            d = f16(b, 208)
            for half in range(2):                       # 128 values each
                L, H, S = ql[64 * half:64 * half + 64], qh[32 * half:32 * half + 32], sc[8 * half:8 * half + 8]
                for k in range(4):                      # quarter k: values 32k..32k+31
                    low = (L[:32] if k in (0, 2) else L[32:])
                    low = (low & 15) if k < 2 else (low >> 4)
                    q = (low | (((H >> (2 * k)) & 3) << 4)) - 32
                    for l in range(32):
                        o[128 * half + 32 * k + l] = (d * S[l // 16 + 2 * k]) * F32(q[l])
        else:
            raise ValueError(tname)
    return y


# ---------------------------------------------------------------- the tiny model

def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for _, c in sorted(zip(bs, cs))]


def llama_permute(w, n_head, n_head_kv):
    """convert_hf_to_gguf.py's LlamaModel.permute, verbatim in behaviour."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
            .swapaxes(1, 2).reshape(w.shape))


def unpermute(w, nh):
    rows, cols = w.shape
    hd = rows // nh
    return w.reshape(nh, hd // 2, 2, cols).swapaxes(1, 2).reshape(rows, cols)


def tiny_llama():
    d, F, L, H, Hkv, ctx = 32, 64, 2, 4, 2, 128
    hd = d // H
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    merges = ["Ġ t", "h e", "Ġt he", "i n", "Ġ a", "e r", "o n", "l l", "Ġ w", "o r", "Ã ©", "Ġ Ã©"]
    tokens = specials + bytes_to_unicode() + [m.replace(" ", "") for m in merges] + ["<tool>"]
    types = [3, 3, 3] + [1] * (256 + len(merges)) + [4]
    V = len(tokens)
    assert len(set(tokens)) == V
    template = ("{% for m in messages %}{{'<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n'}}"
                "{% endfor %}\t\"quoted\" \\ é")
    kvs = [
        ("general.architecture", VT["str"], "llama"),
        ("general.name", VT["str"], "tiny test llama"),
        ("general.alignment", VT["u32"], 64),
        ("llama.block_count", VT["u32"], L),
        ("llama.context_length", VT["u32"], ctx),
        ("llama.embedding_length", VT["u32"], d),
        ("llama.feed_forward_length", VT["u64"], F),
        ("llama.attention.head_count", VT["u32"], H),
        ("llama.attention.head_count_kv", VT["i32"], Hkv),
        ("llama.rope.freq_base", VT["f32"], 500000.0),
        ("llama.attention.layer_norm_rms_epsilon", VT["f32"], 1e-6),
        ("llama.rope.dimension_count", VT["u32"], hd),
        ("llama.vocab_size", VT["u32"], V),
        ("tokenizer.ggml.model", VT["str"], "gpt2"),
        ("tokenizer.ggml.pre", VT["str"], "llama-bpe"),
        ("tokenizer.ggml.tokens", VT["arr"], (VT["str"], tokens)),
        ("tokenizer.ggml.token_type", VT["arr"], (VT["i32"], types)),
        ("tokenizer.ggml.merges", VT["arr"], (VT["str"], merges)),
        ("tokenizer.ggml.bos_token_id", VT["u32"], 1),
        ("tokenizer.ggml.eos_token_id", VT["u32"], 2),
        ("tokenizer.ggml.add_bos_token", VT["bool"], True),
        ("tokenizer.chat_template", VT["str"], template),
        # one of every other value type, for the reader's tests
        ("test.u8", VT["u8"], 200), ("test.i8", VT["i8"], -100), ("test.u16", VT["u16"], 60000),
        ("test.i16", VT["i16"], -30000), ("test.i64", VT["i64"], -(1 << 40)), ("test.u64", VT["u64"], (1 << 63) + 5),
        ("test.f64", VT["f64"], -2.5e-300), ("test.bool", VT["bool"], False),
        ("test.arr_u8", VT["arr"], (VT["u8"], [1, 2, 255])),
        ("test.arr_f64", VT["arr"], (VT["f64"], [0.5, -1.25])),
        ("test.arr_arr", VT["arr"], ((VT["arr"], lambda x: x), [(VT["i16"], [-1, 2]), (VT["str"], ["x", "yz"])])),
        ("test.empty_arr", VT["arr"], (VT["str"], [])),
    ]
    layer_types = [
        dict(attn_norm="F32", attn_q="Q4_0", attn_k="Q4_1", attn_v="Q5_0", attn_output="Q5_1",
             ffn_norm="F32", ffn_gate="Q8_0", ffn_up="BF16", ffn_down="Q4_1"),
        dict(attn_norm="F64", attn_q="Q4_1", attn_k="Q4_0", attn_v="F16", attn_output="Q8_0",
             ffn_norm="F16", ffn_gate="Q5_1", ffn_up="Q5_0", ffn_down="F32"),
    ]
    hf_layer = dict(attn_norm="input_layernorm", attn_q="self_attn.q_proj", attn_k="self_attn.k_proj",
                    attn_v="self_attn.v_proj", attn_output="self_attn.o_proj", ffn_norm="post_attention_layernorm",
                    ffn_gate="mlp.gate_proj", ffn_up="mlp.up_proj", ffn_down="mlp.down_proj")
    shapes = dict(attn_norm=(d,), attn_q=(H * hd, d), attn_k=(Hkv * hd, d), attn_v=(Hkv * hd, d),
                  attn_output=(d, H * hd), ffn_norm=(d,), ffn_gate=(F, d), ffn_up=(F, d), ffn_down=(d, F))
    plan = [("token_embd.weight", "model.embed_tokens.weight", (V, d), "Q8_0", None)]
    for l in range(L):
        for k in ["attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up",
                  "ffn_down"]:
            nh = H if k == "attn_q" else Hkv if k == "attn_k" else None
            plan.append((f"blk.{l}.{k}.weight", f"model.layers.{l}.{hf_layer[k]}.weight", shapes[k],
                         layer_types[l][k], nh))
    plan.append(("output_norm.weight", "model.norm.weight", (d,), "F32", None))
    plan.append(("output.weight", "lm_head.weight", (V, d), "F16", None))

    tensors, expected = [], {}
    for gname, hname, shape, tname, nh in plan:
        n = int(np.prod(shape))
        raw = make_blocks(tname, n)
        vals = deq(tname, raw, n).reshape(shape)          # GGUF row order
        if nh is not None:
            hf = unpermute(vals, nh)
            assert np.array_equal(llama_permute(hf, H, nh if gname.endswith("attn_k.weight") else H), vals)
            vals = hf
        tensors.append((gname, list(reversed(shape)), tname, raw))
        expected[hname] = vals
    # GGUF order: shuffled (the converter must not depend on it)
    order = rng.permutation(len(tensors))
    write_gguf(os.path.join(OUT, "tiny-llama.gguf"), kvs, [tensors[i] for i in order], alignment=64)
    hf_order = ["model.embed_tokens.weight"] + [
        f"model.layers.{l}.{hf_layer[k]}.weight" for l in range(L)
        for k in ["attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up",
                  "ffn_down"]] + ["model.norm.weight", "lm_head.weight"]
    write_safetensors(os.path.join(OUT, "tiny-llama.expected.safetensors"), [(k, expected[k]) for k in hf_order])
    exp = {
        "tensor_order": hf_order,
        "config": dict(hidden_size=d, intermediate_size=F, num_hidden_layers=L, num_attention_heads=H,
                       num_key_value_heads=Hkv, head_dim=hd, max_position_embeddings=ctx, vocab_size=V,
                       rms_norm_eps="1e-06", rope_theta="500000.0", tie_word_embeddings=False,
                       bos_token_id=1, eos_token_id=2, model_type="llama", hidden_act="silu"),
        "vocab": {t: i for i, t in enumerate(tokens)},
        "merges": merges,
        "added_tokens": [dict(id=i, content=tokens[i], special=types[i] == 3) for i in range(V) if types[i] in (3, 4)],
        "tokenizer_config": dict(bos_token="<|im_start|>", eos_token="<|im_end|>", add_bos_token=True,
                                 model_max_length=ctx, chat_template=template),
    }
    with open(os.path.join(OUT, "tiny-llama.expected.json"), "w", encoding="utf-8") as f:
        json.dump(exp, f, ensure_ascii=False, indent=1)
        f.write("\n")


def kquants():
    spec = [("q4k", "Q4_K", (2, 512)), ("q5k", "Q5_K", (3, 256)), ("q6k", "Q6_K", (2, 512)),
            ("q4_0_3d", "Q4_0", (2, 3, 64))]
    tensors, expected = [], []
    for name, tname, shape in spec:
        n = int(np.prod(shape))
        raw = make_blocks(tname, n)
        tensors.append((name, list(reversed(shape)), tname, raw))
        expected.append((name, deq(tname, raw, n).reshape(shape)))
    write_gguf(os.path.join(OUT, "kquants.gguf"), [("general.architecture", VT["str"], "test")], tensors)
    write_safetensors(os.path.join(OUT, "kquants.expected.safetensors"), expected)


def main():
    os.makedirs(OUT, exist_ok=True)
    tiny_llama()
    kquants()
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"wrote {OUT} ({total} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
