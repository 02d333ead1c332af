#!/bin/bash
# gpu_check.sh - everything CUDA, in one run, on a machine with an NVIDIA GPU
# (`make gpu-check`).  Expects the toolkit at /usr/local/cuda (NVRTC,
# cuBLASLt), a driver (libcuda.so.1), /usr/bin/python3 with NumPy; no
# network.  Run from the project root:
#
#   bash tools/gpu_check.sh            (log also in $OUT/gpu_check.log when $OUT is set)
#
# Steps, each under `timeout` and each allowed to fail without stopping the
# others:
#   1. build               make -j16 all fakes
#   2. NVRTC               sh tests/cuda_check.sh build/ueajc  (every kernel, sm_80 + sm_90)
#   3. harness             sh tests/cuda_exec_check.sh build/ueajc harness  (CPU stand-in, reference)
#   4. GPU probe           ueajc ... --device cuda on the tiny Llama: the device line, or
#                          "no usable GPU: REASON" and exit 1 here (steps 5-7 need a GPU)
#   5. cuda vs C backend   sh tests/cuda_exec_check.sh build/ueajc cuda
#   6. HF parity on GPU    $PYTHON tests/hf_check.py build/ueajc --device cuda: `ueajc run`
#                          (the engine: params uploaded once, KV cache resident on the
#                          GPU) on every tiny fixture against HuggingFace's logits
#   6b. cubins on GPU      the same with --cubin: each fixture's cubin made ahead of time for
#                          the device's sm_XY, then `ueajc run --cubin` loads it as it is
#   7. timing              a Llama-3.2-1B-shaped bf16 model (tests/fixtures/cuda/
#                          llama-3.2-1b-config.json, 16 layers), seed-initialised weights,
#                          context C=1024 fixed, logits for the last token (m=1):
#                          prefill n=512 (--repeat 5) then decode one token at
#                          position 512 on that KV cache (--decode 20), in one
#                          process; medians of CUDA-event timed forwards, params
#                          uploaded once per storage layout; then decode again with
#                          UEAJ_CUDA_GRAPHS=0 (every step launched on its own).
# Then a table, last: phase, ms, tokens/s, weight GB/s (bytes of the
# parameters a pass reads in full, i.e. all but the embedding table, / time), % of the card's memory bandwidth (H100 SXM 3.35 TB/s, H100 PCIe
# 2.0 TB/s, H200 4.8 TB/s by the device name; else "?").
# Must finish in under 4 minutes.  Exit status: 0 when every step passed.
set -u
cd "$(dirname "$0")/.." || exit 2
LOG=/dev/null
if [ -n "${OUT:-}" ]; then mkdir -p "$OUT" && LOG=$OUT/gpu_check.log; fi
export PATH=/usr/local/cuda/bin:$PATH
export LD_LIBRARY_PATH=/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export UEAJ_ROOT=$PWD
export UEAJ_CACHE=${UEAJ_CACHE:-$PWD/build/gpu-check-cache}
UEAJC=$PWD/build/ueajc
# A machine without the build's packages (re2c, bison, libcjson-dev, ...) can
# run a binary built elsewhere: UEAJC_PREBUILT=path skips the build step.
[ -n "${UEAJC_PREBUILT:-}" ] && UEAJC=$UEAJC_PREBUILT
# the tests' NumPy: /usr/bin/python3 unless it lacks NumPy and python3 has it
if [ -z "${PYTHON:-}" ]; then
    PYTHON=/usr/bin/python3
    "$PYTHON" -c 'import numpy' 2>/dev/null || PYTHON=$(command -v python3)
fi
export PYTHON
T=$(mktemp -d "${TMPDIR:-/tmp}/ueaj-gpu.XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT

main() {
    local t0 fail=0 rc
    t0=$(date +%s)
    # the whole run must end within 4 minutes: each step gets at most its own
    # limit and never more than what is left before the deadline, minus what
    # the steps after it reserve (RESERVE seconds)
    local deadline=$((t0 + 225))
    step() { # NAME SECONDS RESERVE COMMAND...
        local name=$1 secs=$2 reserve=$3 s left
        shift 3
        s=$(date +%s)
        left=$((deadline - s - reserve))
        [ "$secs" -gt "$left" ] && secs=$left
        if [ "$secs" -lt 5 ]; then
            echo "== $name: SKIPPED (the 4-minute budget is spent)"; fail=1; rc=124; return $rc
        fi
        echo "== $name (limit ${secs} s)"
        timeout -k 5 "$secs" "$@"
        rc=$?
        [ $rc = 124 ] && echo "   TIMEOUT after ${secs} s"
        echo "== $name: $([ $rc = 0 ] && echo ok || echo "FAILED (exit $rc)") in $(($(date +%s) - s)) s"
        [ $rc = 0 ] || fail=1
        return $rc
    }
    echo "gpu_check: $(date -u +%FT%TZ) on $(hostname); $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo 'nvidia-smi: none')"
    if [ -n "${UEAJC_PREBUILT:-}" ]; then
        echo "== build: skipped, using $UEAJC ($("$UEAJC" --version 2>&1 | head -1))"
    else
        step "build" 120 110 make -j16 all fakes || { echo "gpu_check: the build failed; nothing else can run"; return 1; }
    fi
    step "NVRTC: every kernel for sm_80, sm_90 (tests/cuda_check.sh)" 60 110 sh tests/cuda_check.sh "$UEAJC"
    step "CUDA plan on the CPU harness vs the C backend" 40 110 sh tests/cuda_exec_check.sh "$UEAJC" harness
    echo "== GPU probe"
    if "$UEAJC" models/llama.ue --config models/tiny-llama.json --run "1 2 3" --device cuda -v > "$T/probe.out" 2> "$T/probe.err"; then
        grep -h "using CUDA device" "$T/probe.err"
    else
        echo "gpu_check: no usable GPU: $(tail -n 1 "$T/probe.err")"
        echo "gpu_check: stopping after the harness steps (the GPU steps need a CUDA device)"
        return 1
    fi
    step "CUDA plan on the GPU vs the C backend" 60 100 sh tests/cuda_exec_check.sh "$UEAJC" cuda
    step "HF parity on the GPU (ueajc run --device cuda, tests/hf_check.py)" 45 100 \
        "$PYTHON" tests/hf_check.py "$UEAJC" --device cuda
    # the cubins made ahead of time for this device's sm_XY, loaded as they are
    UEAJ_CUBIN_ARCH=$(grep -ho '(sm_[0-9]*' "$T/probe.err" | head -1 | tr -d '(')
    export UEAJ_CUBIN_ARCH
    step "HF parity from cubins on the GPU (ueajc run --cubin, tests/hf_check.py --cubin)" 30 100 \
        "$PYTHON" tests/hf_check.py "$UEAJC" --device cuda --cubin
    local ids
    ids=$(seq 1 512 | tr '\n' ' ')
    step "timing: Llama-3.2-1B shape, bf16, prefill 512 + decode" 150 3 \
        "$UEAJC" models/llama.ue --config tests/fixtures/cuda/llama-3.2-1b-config.json --dim C=1024 --dim m=1 \
        --run "$ids" --device cuda --repeat 5 --decode 20 -v > "$T/time.out" 2> "$T/time.err"
    cat "$T/time.err" "$T/time.out"
    # the same decode with every step launched on its own, for the CUDA graphs' effect
    UEAJ_CUDA_GRAPHS=0 step "timing: the same decode without CUDA graphs" 60 3 \
        "$UEAJC" models/llama.ue --config tests/fixtures/cuda/llama-3.2-1b-config.json --dim C=1024 --dim m=1 \
        --run "$ids" --device cuda --decode 20 > "$T/time2.out" 2> "$T/time2.err"
    cat "$T/time2.err"
    sed -n 's/^time: phase=decode@/time: phase=decode-nograph@/p' "$T/time2.out" | tee -a "$T/time.out"
    echo
    echo "gpu_check: $( [ $fail = 0 ] && echo "all steps passed" || echo "SOME STEPS FAILED") in $(($(date +%s) - t0)) s"
    table "$T/time.out"
    return $fail
}

# table FILE: the `time:` lines of the driver as the last thing printed
table() {
    awk '
    /^time: / {
        phase = ""; n = 0; ms = 0; pb = 0; dev = ""
        for (i = 2; i <= NF; i++) {
            split($i, kv, "=")
            if (kv[1] == "phase") phase = kv[2]
            else if (kv[1] == "n") n = kv[2]
            else if (kv[1] == "median_ms") ms = kv[2]
            else if (kv[1] == "weight_bytes") pb = kv[2]
        }
        if (match($0, /device="[^"]*"/)) dev = substr($0, RSTART + 8, RLENGTH - 9)
        bw = 0
        if (dev ~ /H200/) bw = 4.8e12
        else if (dev ~ /H100/ && dev ~ /PCIe/) bw = 2.0e12
        else if (dev ~ /H100/) bw = 3.35e12
        name = phase ~ /^decode-nograph/ ? "decode, no graph (" substr(phase, 16) ")" \
             : phase ~ /^decode/ ? "decode (n=1, " substr(phase, 8) ")" : "prefill (n=" n ")"
        gbs = ms > 0 ? pb / (ms * 1e-3) / 1e9 : 0
        pct = bw > 0 && ms > 0 ? sprintf("%.1f%%", 100 * pb / (ms * 1e-3) / bw) : "?"
        rows[++nr] = sprintf("%-22s %10.3f %12.1f %14.1f %10s", name, ms, ms > 0 ? n / (ms * 1e-3) : 0, gbs, pct)
        d = dev
    }
    END {
        printf "\nLlama-3.2-1B shape, bf16 weights (%s)\n", nr ? d : "no timings"
        printf "%-22s %10s %12s %14s %10s\n", "phase", "ms", "tokens/s", "weight GB/s", "% of BW"
        for (i = 1; i <= nr; i++) print rows[i]
        if (!nr) print "(no timing: see the log above)"
    }' "$1"
}

main 2>&1 | tee "$LOG"
exit "${PIPESTATUS[0]}"
