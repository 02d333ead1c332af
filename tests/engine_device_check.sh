#!/bin/sh
# engine_device_check.sh - `ueajc run` and `ueajc bench` with --device.
#
#   sh tests/engine_device_check.sh PATH_TO_UEAJC      (from the project root)
#
#  1. HF parity through the CUDA plan on the CPU harness: tests/hf_check.py
#     --device harness on three tiny fixtures (GQA, MHA, MQA; f32): the same
#     bounds as on the C backend (max |dlogit| <= 1e-3, every argmax, the
#     32 greedy ids and the text).
#  2. On a machine without a usable GPU (what CI is): --device cuda fails
#     with exit status 1 and exactly one line, "ueajc: error: --device cuda:
#     REASON", REASON being cuda_select's line that --device auto prints
#     ("ueajc: --device auto: REASON"); --device auto then runs on the CPU
#     and prints what --device cpu prints.  Skipped where a GPU is usable.
#  3. An unknown --device value is a usage error (status 2).
#  4. `ueajc bench --device harness` prints bench's table.
set -u
UEAJC=${1:?usage: engine_device_check.sh PATH_TO_UEAJC}
M=tests/fixtures/hf/gqa_tied_llama3
T=$(mktemp -d "${TMPDIR:-/tmp}/engine_device.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail=0
bad() { echo "FAIL $*"; fail=1; }

/usr/bin/python3 tests/hf_check.py "$UEAJC" --device harness \
    gqa_tied_llama3 legacy_mha_untied_headdim12_llama3 mqa_tied_headdim6_none || fail=1

run() { # DEVICE: ueajc run on $M, stdout/stderr/status into $T/DEVICE.*
    "$UEAJC" run -m "$M" -p "The fox" -n 6 --temp 0 --ignore-eos --device "$1" >"$T/$1.out" 2>"$T/$1.err"
    echo $? >"$T/$1.rc"
}
run cpu
run auto
if grep -q '^ueajc: --device auto: using CUDA' "$T/auto.err"; then
    echo "skip --device cuda/auto without a GPU: a GPU is usable here"
else
    why=$(sed -n 's/^ueajc: --device auto: //p' "$T/auto.err")
    [ -n "$why" ] || bad "--device auto printed no 'ueajc: --device auto: REASON' line: $(cat "$T/auto.err")"
    [ "$(cat "$T/auto.rc")" = 0 ] || bad "--device auto exited $(cat "$T/auto.rc"): $(cat "$T/auto.err")"
    cmp -s "$T/cpu.out" "$T/auto.out" || bad "--device auto printed other text than --device cpu"
    run cuda
    [ "$(cat "$T/cuda.rc")" = 1 ] || bad "--device cuda without a GPU exited $(cat "$T/cuda.rc"), want 1"
    want="ueajc: error: --device cuda: $why"
    [ "$(cat "$T/cuda.err")" = "$want" ] || bad "--device cuda without a GPU printed
$(cat "$T/cuda.err")
  want the one line
$want"
    [ -s "$T/cuda.out" ] && bad "--device cuda without a GPU printed on stdout: $(cat "$T/cuda.out")"
    [ $fail = 0 ] && echo "ok   --device cuda fails with cuda_select's line, --device auto runs on the cpu ($why)"
fi

"$UEAJC" bench -m "$M" --device gpu >"$T/bad.out" 2>"$T/bad.err"
rc=$?
[ $rc = 2 ] && grep -q "^ueajc: error: --device gpu: expected cpu, cuda, harness or auto$" "$T/bad.err" \
    || bad "--device gpu: status $rc, $(cat "$T/bad.err")"

"$UEAJC" bench -m "$M" -p 8 -n 4 -r 1 --device harness >"$T/bench.out" 2>"$T/bench.err" \
    && grep -q "| pp8 |" "$T/bench.out" && grep -q "| tg4 |" "$T/bench.out" \
    || bad "ueajc bench --device harness: $(cat "$T/bench.out" "$T/bench.err")"
[ $fail = 0 ] && echo "ok   --device gpu is a usage error, ueajc bench --device harness prints its table"
echo "engine_device_check: $([ $fail = 0 ] && echo passed || echo FAILED)"
exit $fail
