#!/bin/sh
# bench_llama.sh - `ueajc bench` vs llama.cpp on the same synthetic bf16 weights,
# interleaved in one run (see bench_llama.py for what is measured and how).
#
#   bench/bench_llama.sh [--models smollm2-135m,llama-3.2-1b] [--rounds 5] [-r 1] [-t 2]
#                        [--no-llama] [--no-check] [--write] [--note TEXT]
#
# Everything it makes lives in $UEAJ_BENCH_CACHE (default ~/.cache/ueajc/bench):
# a virtual environment with gguf, numpy and llama-cpp-python (built from
# source by pip with CMAKE_ARGS=-DGGML_NATIVE=ON; the first build takes
# several minutes on 2 cores, its log is llama_cpp_build.log), the GGUF files
# and the converted ueajc directories.  Delete a file to have it made again.
# When llama-cpp-python cannot be built, ueajc is benched alone.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cache=${UEAJ_BENCH_CACHE:-$HOME/.cache/ueajc/bench}
venv=$cache/venv
py=${PYTHON:-python3}
mkdir -p "$cache"

[ -x "$root/build/ueajc" ] || make -C "$root"
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
"$venv/bin/python" -c 'import gguf, numpy' 2>/dev/null || "$venv/bin/pip" install -q gguf numpy

case " $* " in *" --no-llama "*) want_llama=0 ;; *) want_llama=1 ;; esac
if [ $want_llama = 1 ] && ! "$venv/bin/python" -c 'import llama_cpp' 2>/dev/null; then
    if [ -e "$cache/llama_cpp_failed" ]; then
        echo "bench: llama-cpp-python failed to build before (see $cache/llama_cpp_build.log;" \
             "remove $cache/llama_cpp_failed to try again): benching ueajc alone" >&2
    else
        ver=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}
        echo "bench: building llama-cpp-python $ver from source (log: $cache/llama_cpp_build.log) ..." >&2
        t0=$(date +%s)
        if CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=ON}" CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) \
            "$venv/bin/pip" install -v --no-cache-dir "llama-cpp-python==$ver" >"$cache/llama_cpp_build.log" 2>&1; then
            t1=$(date +%s)
            commit=$(sed -n 's/.*ggml commit: *//p' "$cache/llama_cpp_build.log" | head -1)
            echo "ggml commit ${commit:-unknown}, built with CMAKE_ARGS=${CMAKE_ARGS:--DGGML_NATIVE=ON} in $((t1 - t0)) s" \
                >"$cache/llama_cpp_build.txt"
            echo "bench: llama-cpp-python built in $((t1 - t0)) s" >&2
        else
            touch "$cache/llama_cpp_failed"
            echo "bench: llama-cpp-python did not build (see $cache/llama_cpp_build.log): benching ueajc alone" >&2
        fi
    fi
fi
exec "$venv/bin/python" "$here/bench_llama.py" "$@"
