#!/bin/sh
# cu2cpu.sh - prepares a CUDA C source for the CPU shim (cuda_shim.hpp).
#
#   sh tests/cuda/cu2cpu.sh SRC.cu OUT [KERNEL...]
#
# Writes OUT: a `#line 1 "SRC.cu"` directive (so sanitizer reports and the
# shim's barrier messages name the original file and line), then SRC with
# each `extern __shared__ [__align__(N)] TYPE NAME[];` rewritten, on its own
# line, into `CUDA_SHIM_EXTERN_SHARED(TYPE, NAME);` (a pointer to the
# block's dynamic shared memory; a macro cannot do this because `extern`
# comes first), then one `CUDA_SHIM_REGISTER(KERNEL);` line per KERNEL
# named, for sources that are built into a shared object and launched by
# name through cuda_shim_launch.  Line numbers are preserved.  Compile OUT
# as C++17 with `-include tests/cuda/cuda_shim.hpp`.
set -eu
src=$1 out=$2
shift 2
{
    printf '#line 1 "%s"\n' "$src"
    sed -E 's/extern[[:space:]]+__shared__[[:space:]]+(__align__\([0-9]+\)[[:space:]]+)?([A-Za-z_][A-Za-z0-9_ ]*[A-Za-z0-9_])[[:space:]]+([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*\[[[:space:]]*\][[:space:]]*;/CUDA_SHIM_EXTERN_SHARED(\2, \3);/' "$src"
    for k in "$@"; do printf 'CUDA_SHIM_REGISTER(%s);\n' "$k"; done
} > "$out.tmp"
mv "$out.tmp" "$out"
