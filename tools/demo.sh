#!/bin/sh
# `make run`: the main job on the embedded default.  Until the LLaMA runner
# (checkpoints, tokenizer, sampling) lands, this demonstrates the compiler on
# models/llama.ue with the tiny config models/tiny-llama.json: the IR after
# all passes (summary), one generated kernel, and a run on token ids with
# parameters initialised by the seed's rules.
set -e
B=${1:-build}
U="$B/ueajc"
echo "== ueajc $($U --version | cut -d' ' -f2): models/llama.ue with models/tiny-llama.json"
echo "-- the IR after all passes (first 12 tensors, first 14 nodes):"
$U models/llama.ue --config models/tiny-llama.json --emit=ir > "$B/demo-ir.txt"
grep '^tensor' "$B/demo-ir.txt" | head -12
grep '^node' "$B/demo-ir.txt" | head -14
echo "   ... $(grep -c '^tensor' "$B/demo-ir.txt") tensors, $(grep -c '^node' "$B/demo-ir.txt") nodes"
echo "-- the generated C for the first attention kernel:"
$U models/llama.ue --config models/tiny-llama.json --emit=c > "$B/demo.c"
awk '/^\/\* k[0-9]+: attention/{p=1} p{print} p&&/^}/{exit}' "$B/demo.c" | head -40
echo "-- run (tokens 1 2 3 4 5 6 7 8, seed-initialised parameters):"
$U models/llama.ue --config models/tiny-llama.json --run "1 2 3 4 5 6 7 8" -v
