#!/bin/sh
# engine_device_check.sh - `ueajc run` and `ueajc bench` with --device.
#
#   sh tests/engine_device_check.sh PATH_TO_UEAJC      (from the project root)
#
#  1. HF parity through the CUDA plan on the CPU harness: tests/hf_check.py
#     --device harness on three tiny fixtures (GQA, MHA, MQA; f32): the same
#     bounds as on the C backend (max |dlogit| <= 1e-3, every argmax, the
#     32 greedy ids and the text).
#  2. Without libcuda (UEAJ_LIBCUDA pointing nowhere): --device cuda fails
#     with exit status 1 and exactly one line, "ueajc: error: --device cuda:
#     REASON", REASON being cuda_select's line that --device auto prints
#     ("ueajc: --device auto: REASON"); --device auto then runs on the CPU
#     and prints what --device cpu prints.
#  3. An unknown --device value is a usage error (status 2).
#  4. `ueajc bench --device harness` prints bench's table.
#  5. The engine's device path on the fake drivers (BUILD/fakes/modules.so,
#     cublaslt.so: launches and matmuls do nothing, every event pair reads
#     1.5 ms; needs NVRTC): `ueajc bench --device cuda` reports device
#     time (pp8: 8 tokens / 1.5 ms, tg4: 4 calls of 1.5 ms), `ueajc run
#     --device cuda` runs prefill and decode; CUDA graphs: the second call
#     with the same dims is captured and later ones replay it (the fake
#     driver counts direct launches, captures and graph launches), none with
#     UEAJ_CUDA_GRAPHS=0 or a driver whose capture fails (a note, then the
#     same launches as without graphs).  Skipped without fakes/NVRTC.
#  6. A model from a cubin made ahead of time (`ueajc models/llama.ue
#     --config C -o x.cubin`, then `ueajc run -m DIR --cubin x.cubin`;
#     needs NVRTC): HF parity through the cubin's plan and carried source on
#     the harness (tests/hf_check.py --cubin, 3 fixtures); on the fake H200
#     the cubin itself is loaded and runs; then each wrong pairing gets its
#     message and exit status 1: the cubin on a fake A100 (sm_80), another
#     checkpoint's config.json, a checkpoint with the right config but a
#     missing tensor, a device with 16 MiB, a truncated cubin; --cubin with
#     --device cpu or --model-file is a usage error (2).
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
    UEAJ_LIBCUDA=/nonexistent/libcuda.so.1 \
    "$UEAJC" run -m "$M" -p "The fox" -n 6 --temp 0 --ignore-eos --device "$1" >"$T/$1.out" 2>"$T/$1.err"
    echo $? >"$T/$1.rc"
}
run cpu
run auto
{
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
}

"$UEAJC" bench -m "$M" --device gpu >"$T/bad.out" 2>"$T/bad.err"
rc=$?
[ $rc = 2 ] && grep -q "^ueajc: error: --device gpu: expected cpu, cuda, harness or auto$" "$T/bad.err" \
    || bad "--device gpu: status $rc, $(cat "$T/bad.err")"

"$UEAJC" bench -m "$M" -p 8 -n 4 -r 1 --device harness >"$T/bench.out" 2>"$T/bench.err" \
    && grep -q "| pp8 |" "$T/bench.out" && grep -q "| tg4 |" "$T/bench.out" \
    || bad "ueajc bench --device harness: $(cat "$T/bench.out" "$T/bench.err")"
[ $fail = 0 ] && echo "ok   --device gpu is a usage error, ueajc bench --device harness prints its table"
FK=$(dirname "$UEAJC")/fakes
if [ ! -f "$FK/modules.so" ] || [ ! -f "$FK/cublaslt.so" ]; then
    echo "skip the engine on fake drivers: no $FK/modules.so (make fakes)"
elif ! "$UEAJC" --emit=ptxas 'i->i' > /dev/null 2>&1; then
    echo "skip the engine on fake drivers: NVRTC is not installed"
else
    export UEAJ_LIBCUDA="$FK/modules.so" UEAJ_LIBCUBLASLT="$FK/cublaslt.so"
    "$UEAJC" bench -m "$M" -p 8 -n 4 -r 2 --device cuda -v >"$T/fb.out" 2>"$T/fb.err"
    rc=$?
    if [ $rc = 0 ] && grep -q "using CUDA device 0: NVIDIA H200" "$T/fb.err" &&
       grep -q "| pp8 | 5333.33 ± 0.00 |" "$T/fb.out" && grep -q "| tg4 | 666.67 ± 0.00 |" "$T/fb.out"; then
        echo "ok   ueajc bench --device cuda on a fake H200: device time ($(grep -o 'pp8 | [0-9.]*' "$T/fb.out"), $(grep -o 'tg4 | [0-9.]*' "$T/fb.out") t/s)"
    else
        bad "ueajc bench --device cuda on a fake H200: exit $rc: $(head -c 800 "$T/fb.err" "$T/fb.out")"
    fi
    "$UEAJC" run -m "$M" -p "The fox" -n 4 --temp 0 --ignore-eos --device cuda >"$T/fr.out" 2>"$T/fr.err"
    rc=$?
    if [ $rc = 0 ] && grep -q "stopped after 4 tokens" "$T/fr.err"; then
        echo "ok   ueajc run --device cuda on a fake H200: prefill and 3 decode calls"
    else
        bad "ueajc run --device cuda on a fake H200: exit $rc: $(head -c 800 "$T/fr.err")"
    fi
    # CUDA graphs: prefill and the first decode call run step by step, the second decode call is
    # captured (one graph of every kernel), the rest replay it; off, or when capture fails, every call
    # launches its kernels (the fake counts them: $FAKE_CUDA_REPORT)
    graphs() { # DRIVER EXTRA_ENV... -> the fake's report line
        drv=$1
        shift
        env FAKE_CUDA_REPORT=1 UEAJ_LIBCUDA="$FK/$drv" "$@" "$UEAJC" run -m "$M" -p "The fox" -n 6 --temp 0 \
            --ignore-eos --device cuda > /dev/null 2> "$T/g.err"
        grep '^fake libcuda:' "$T/g.err"
    }
    nk=$("$UEAJC" models/llama.ue --config "$M/config.json" --emit=plan | grep -c '^launch ')
    on=$(graphs modules.so) off=$(graphs modules.so UEAJ_CUDA_GRAPHS=0) nocap=$(graphs nocapture.so)
    if [ "$on" = "fake libcuda: $((2 * nk)) direct launches, 1 captures of $nk kernels, 4 graph launches" ] &&
       [ "$off" = "fake libcuda: $((6 * nk)) direct launches, 0 captures of 0 kernels, 0 graph launches" ] &&
       [ "$nocap" = "$off" ] && grep -q "^ueajc: note: CUDA graph capture failed (cuStreamBeginCapture: CUDA_ERROR_NOT_SUPPORTED); running the steps one by one$" "$T/g.err"; then
        echo "ok   CUDA graphs on a fake H200: 6 calls of $nk kernels: $on; UEAJ_CUDA_GRAPHS=0 and a failing capture: every kernel launched"
    else
        bad "CUDA graphs: on '$on', off '$off', capture failing '$nocap' ($nk kernels per call): $(cat "$T/g.err")"
    fi
    unset UEAJ_LIBCUDA UEAJ_LIBCUBLASLT
fi

# 6. a cubin made ahead of time
if ! "$UEAJC" --emit=ptxas 'i->i' > /dev/null 2>&1; then
    echo "skip running cubins: NVRTC is not installed"
else
    /usr/bin/python3 tests/hf_check.py "$UEAJC" --device harness --cubin \
        gqa_tied_llama3 legacy_mha_untied_headdim12_llama3 mqa_tied_headdim6_none || fail=1
    C="$T/gqa.cubin"
    "$UEAJC" models/llama.ue --config "$M/config.json" -o "$C" 2>"$T/c.err" || bad "making $C: $(cat "$T/c.err")"
    expect() { # STATUS WANT-IN-STDERR DESCRIPTION -- ueajc run ARGS (stderr into $T/x.err)
        st=$1 want=$2 what=$3
        shift 4
        "$UEAJC" run -p "The fox" -n 2 --temp 0 "$@" >"$T/x.out" 2>"$T/x.err"
        rc=$?
        if [ $rc = "$st" ] && grep -qF -- "$want" "$T/x.err"; then
            echo "ok   $what: $(grep -F -- "$want" "$T/x.err" | head -1 | cut -c 1-150)"
        else
            bad "$what: status $rc (want $st), stderr: $(head -c 1200 "$T/x.err")"
        fi
    }
    if [ -f "$FK/modules.so" ] && [ -f "$FK/a100.so" ]; then
        UEAJ_LIBCUDA="$FK/modules.so" UEAJ_LIBCUBLASLT="$FK/cublaslt.so" \
        expect 0 "ueajc: using CUDA device 0: NVIDIA H200 (sm_90" "the cubin loads and runs on a fake H200" \
            -- -m "$M" --cubin "$C" -v
        grep -q "; $C (sm_90)" "$T/x.err" || bad "-v does not name the cubin it loaded: $(cat "$T/x.err")"
        UEAJ_LIBCUDA="$FK/a100.so" \
        expect 1 "ueajc: error: --device cuda: $C was built for sm_90, but CUDA device 0 (NVIDIA A100-SXM4-80GB) is sm_80: make a cubin for it with --arch sm_80, or run the model file, which NVRTC compiles for the device at load time" \
            "an sm_90 cubin on a fake A100" -- -m "$M" --cubin "$C"
        UEAJ_LIBCUDA="$FK/smallmem.so" UEAJ_LIBCUBLASLT="$FK/cublaslt.so" \
        expect 1 "MiB of headroom), the device has 16.0 MiB free" "a device with 16 MiB" -- -m "$M" --cubin "$C"
    else
        echo "skip the cubin on fake drivers: no $FK/a100.so (make fakes)"
    fi
    O=tests/fixtures/hf/legacy_mha_untied_headdim12_llama3
    expect 1 "ueajc: error: $C was compiled for another config.json than $O/config.json (14 fields differ):
  hidden_size: 32 in the cubin, 24 here" "another checkpoint's config.json" -- -m "$O" --cubin "$C" --device harness
    grep -qF "make one for this checkpoint: ueajc models/llama.ue --config $O/config.json -o $C" "$T/x.err" ||
        bad "the config mismatch does not say how to make a fitting cubin: $(cat "$T/x.err")"
    # the right config.json, but the weights lack model.norm.weight (renamed in the safetensors header)
    mkdir -p "$T/bad" && cp "$M"/*.json "$T/bad/" && /usr/bin/python3 - "$M/model.safetensors" "$T/bad/model.safetensors" <<'PYEOF'
import json, struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
h["model.norm.weight_renamed"] = h.pop("model.norm.weight")
t = json.dumps(h).encode()
t += b" " * (-len(t) % 8)
open(sys.argv[2], "wb").write(struct.pack("<Q", len(t)) + t + b[8 + n:])
PYEOF
    expect 1 "model.norm.weight" "a checkpoint without model.norm.weight" -- -m "$T/bad" --cubin "$C" --device harness
    grep -q "does not fit $C" "$T/x.err" || bad "the missing tensor's summary does not name the cubin: $(cat "$T/x.err")"
    head -c 3000 "$C" > "$T/trunc.cubin"
    expect 1 "ueajc: error: --device harness: $T/trunc.cubin: section headers past the end of the file (truncated?)" \
        "a truncated cubin" -- -m "$M" --cubin "$T/trunc.cubin" --device harness
    expect 2 "ueajc: error: --cubin $C is CUDA code; it runs with --device cuda" "--cubin with --device cpu" \
        -- -m "$M" --cubin "$C" --device cpu
    expect 2 "ueajc: error: --cubin $C already holds the compiled model" "--cubin with --model-file" \
        -- -m "$M" --cubin "$C" --model-file models/llama.ue
fi
echo "engine_device_check: $([ $fail = 0 ] && echo passed || echo FAILED)"
exit $fail
