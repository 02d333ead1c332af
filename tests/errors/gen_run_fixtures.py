#!/usr/bin/python3
"""Writes the checkpoint directories of the golden run_*.t cases, tests/errors/run/.

Run from the project root with Debian's Python (NumPy is not needed):

    /usr/bin/python3 tests/errors/gen_run_fixtures.py

The files are committed; rerun this only to change them.  Every directory
starts from tests/fixtures/llama/mha_untied_llama3_explicit (the smallest
tiny checkpoint: d 20, 2 layers, V 50, bf16) and a hand-written 39-token
SentencePiece-style tokenizer.json (Metaspace, four merges):

    tok/          tokenizer.json only (for `ueajc tokenize`)
    ok/           a complete, valid checkpoint: config.json, model.safetensors,
                  tokenizer.json, tokenizer_config.json without a chat_template
    no_config/    tokenizer.json only: no config.json
    no_tokenizer/ config.json only: no tokenizer.json (checked before the weights)
    corrupt/      model.safetensors whose header says 4096 bytes, 13 follow
    bad_json/     model.safetensors whose JSON header is cut off mid-string
    bad_shape/    model.layers.1.mlp.up_proj.weight stored as [20, 36], not [36, 20]
                  (same bytes, only the header's shape differs)
    missing/      model.norm.weight renamed model.norm.weigth (same header length):
                  missing, and the renamed one unused
    bad_config/   config.json with a syntax error on line 4
    no_weights/   config.json and tokenizer.json, no model.safetensors

The golden cases that use them are tests/errors/run_*.t (kept in
tests/errors/run/pending/ until tests/run_golden.sh runs the subcommands
run/bench/tokenize/convert without inserting --color=never before them);
their paths are written out (tests/errors/run/...), not $DIR, so they work
from either place.
"""
import json
import os
import shutil
import struct

SRC = os.path.join("tests", "fixtures", "llama", "mha_untied_llama3_explicit")
OUT = os.path.join("tests", "errors", "run")

PIECES = ["<unk>", "<s>", "</s>", "\u2581"] + [chr(c) for c in range(ord("a"), ord("z") + 1)] + \
         ["\u2581h", "\u2581hi", "\u2581t", "\u2581a", ".", ",", "!", "?", "'"]

TOKENIZER = {
    "version": "1.0",
    "added_tokens": [
        {"id": 0, "content": "<unk>", "special": True},
        {"id": 1, "content": "<s>", "special": True},
        {"id": 2, "content": "</s>", "special": True},
    ],
    "normalizer": None,
    "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": True},
    "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": True},
    "model": {
        "type": "BPE",
        "vocab": {p: i for i, p in enumerate(PIECES)},
        "unk_token": "<unk>",
        "fuse_unk": True,
        "merges": [["\u2581", "h"], ["\u2581h", "i"], ["\u2581", "t"], ["\u2581", "a"]],
    },
}

TOKENIZER_CONFIG = {"bos_token": "<s>", "eos_token": "</s>", "add_bos_token": True,
                    "tokenizer_class": "LlamaTokenizer"}


def read_st(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8:8 + n].decode()), raw[8 + n:]


def write_st(path, header, data):
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-(8 + len(h)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)


def put(d, name, obj):
    with open(os.path.join(OUT, d, name), "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def main():
    assert len(PIECES) <= 50
    dirs = ["tok", "ok", "no_config", "no_tokenizer", "corrupt", "bad_json", "bad_shape", "missing", "bad_config",
            "no_weights"]
    for d in dirs:      # only these: OUT holds other files too (the cases)
        if os.path.isdir(os.path.join(OUT, d)):
            shutil.rmtree(os.path.join(OUT, d))
        os.makedirs(os.path.join(OUT, d))
        if d != "no_tokenizer":
            put(d, "tokenizer.json", TOKENIZER)
    with open(os.path.join(SRC, "config.json")) as f:
        cfg = json.load(f)
    for d in dirs[1:]:
        if d != "no_config":
            put(d, "config.json", cfg)
    put("ok", "tokenizer_config.json", TOKENIZER_CONFIG)
    st = os.path.join(SRC, "model.safetensors")
    shutil.copyfile(st, os.path.join(OUT, "ok", "model.safetensors"))
    with open(os.path.join(OUT, "corrupt", "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", 4096) + b'{"a": {"dty')
    with open(os.path.join(OUT, "bad_json", "model.safetensors"), "wb") as f:
        h = b'{"model.embed_tokens.weight": {"dtype": "BF16", "shape": [50, 20], "data_offsets": [0, 2000]}, "x'
        h += b" " * (-(8 + len(h)) % 8)
        f.write(struct.pack("<Q", len(h)) + h + bytes(2000))
    header, data = read_st(st)
    k = "model.layers.1.mlp.up_proj.weight"
    assert header[k]["shape"] == [36, 20]
    header[k]["shape"] = [20, 36]
    write_st(os.path.join(OUT, "bad_shape", "model.safetensors"), header, data)
    header, data = read_st(st)
    header = {("model.norm.weigth" if n == "model.norm.weight" else n): v for n, v in header.items()}
    write_st(os.path.join(OUT, "missing", "model.safetensors"), header, data)
    with open(os.path.join(OUT, "bad_config", "config.json"), "w") as f:
        f.write('{\n  "hidden_size": 20,\n  "intermediate_size": 36,\n  "num_hidden_layers" 2\n}\n')
    for d in dirs:
        print("wrote %s: %s" % (os.path.join(OUT, d), " ".join(sorted(os.listdir(os.path.join(OUT, d))))))


if __name__ == "__main__":
    main()
