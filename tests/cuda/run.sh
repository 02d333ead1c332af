#!/bin/sh
# run.sh - the CUDA-on-CPU harness self-tests (see cuda_shim.hpp).
#
#   sh tests/cuda/run.sh BUILD_DIR        (from the project root)
#   UEAJ_SANITIZE=1 sh tests/cuda/run.sh BUILD_DIR    the same under ASan + UBSan
#
# Rewrites tests/cuda/selftest/*.cu with cu2cpu.sh into BUILD_DIR/cuda-selftest,
# compiles selftest.cpp (which #includes the rewritten kernels) and gemv.cu
# as a shared object (launched by name through dlopen + cuda_shim_launch),
# both as g++ -std=c++17 -O1 -g -Wall -Wextra with the shim -included, then
# runs each test in its own process and prints one line per test:
#
#   good kernels vs float64 references:  rmsnorm gemv softmax atomics
#                                        attention warp_ops, and atomics_2t
#                                        (the atomics with blocks on 2 threads)
#   broken kernels the harness must catch:
#     race        a missing __syncthreads gives wrong sums (its twin is right)
#     divergent   the shim aborts naming both barriers' lines
#     early_exit  the shim aborts: threads returned before a barrier
#     deadlock    the shim aborts: half a warp in a shuffle, the rest at a barrier
#     oob         AddressSanitizer reports the kernel line of a global overrun
#     oob_shared  UBSan reports the line of a static __shared__ overrun
#                 (both skipped without UEAJ_SANITIZE=1: nothing else sees them)
#
# The last line is `cuda self-tests: N passed, M failed, K skipped`; the
# exit status is non-zero when a test failed.  POSIX sh.
set -u
B=${1:-build}
T=tests/cuda
O=$B/cuda-selftest
mkdir -p "$O"
FLAGS="-std=c++17 -O1 -g -Wall -Wextra -ffp-contract=off -fno-strict-aliasing"
SAN=0
if [ "${UEAJ_SANITIZE:-0}" = 1 ]; then
    SAN=1
    FLAGS="$FLAGS -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
fi
start=$(date +%s)
for f in "$T"/selftest/*.cu; do
    b=$(basename "$f")
    case $b in
    gemv.cu) sh "$T/cu2cpu.sh" "$f" "$O/$b" gemv_f32_bf16 ;;
    *) sh "$T/cu2cpu.sh" "$f" "$O/$b" ;;
    esac || exit 1
done
# the two compiles run side by side (two cores)
# shellcheck disable=SC2086
g++ $FLAGS -include "$T/cuda_shim.hpp" -I"$O" -I"$T/selftest" "$T/selftest.cpp" -o "$O/selftest" \
    -ldl -pthread > "$O/selftest.log" 2>&1 &
pid=$!
# shellcheck disable=SC2086
g++ $FLAGS -shared -fPIC -fvisibility=hidden -fvisibility-inlines-hidden -include "$T/cuda_shim.hpp" \
    -I"$T/selftest" -x c++ "$O/gemv.cu" -x none -o "$O/gemv.so" -pthread > "$O/gemv.log" 2>&1
rc2=$?
wait $pid
rc1=$?
if [ $rc1 != 0 ] || [ $rc2 != 0 ] || [ -s "$O/selftest.log" ] || [ -s "$O/gemv.log" ]; then
    cat "$O/selftest.log" "$O/gemv.log"
    if [ $rc1 != 0 ] || [ $rc2 != 0 ]; then
        echo "cuda self-tests: the build failed"
        exit 1
    fi
    echo "cuda self-tests: warnings above"
fi

pass=0 fail=0 skip=0
ok() { printf 'ok    %-11s %s\n' "$1" "$2"; pass=$((pass + 1)); }
bad() { printf 'FAIL  %-11s %s\n' "$1" "$2"; fail=$((fail + 1)); }
# line N of a selftest kernel carrying MARKER, as the shim and ASan name it
line_of() { echo "$T/selftest/$1:$(grep -n "$2 \*/" "$T/selftest/$1" | head -n 1 | cut -d: -f1)"; }

for t in rmsnorm gemv softmax atomics attention warp_ops race; do
    if "$O/selftest" $t "$O/gemv.so" > "$O/$t.out" 2> "$O/$t.err"; then
        ok $t "$(cat "$O/$t.out")"
    else
        bad $t "$(cat "$O/$t.out" "$O/$t.err" | head -n 20)"
    fi
done

# blocks on two OS threads (CUDA_SHIM_THREADS): real atomics across threads
if CUDA_SHIM_THREADS=2 "$O/selftest" atomics > "$O/atomics2.out" 2> "$O/atomics2.err"; then
    ok atomics_2t "CUDA_SHIM_THREADS=2: $(cat "$O/atomics2.out")"
else
    bad atomics_2t "$(cat "$O/atomics2.out" "$O/atomics2.err" | head -n 20)"
fi

# expect_abort TEST DESCRIPTION PATTERN...: the run must fail with stderr
# holding every pattern (fixed strings)
expect_abort() {
    t=$1 what=$2
    shift 2
    "$O/selftest" "$t" > "$O/$t.out" 2> "$O/$t.err"
    rc=$?
    if [ $rc = 0 ]; then
        bad "$t" "exit status 0: $(cat "$O/$t.out")"
        return
    fi
    for p in "$@"; do
        if ! grep -qF "$p" "$O/$t.err"; then
            bad "$t" "exit status $rc but no '$p' in: $(head -n 5 "$O/$t.err")"
            return
        fi
    done
    ok "$t" "$what (exit $rc): $(grep -m 1 -E '^cuda_shim:|^SUMMARY|runtime error' "$O/$t.err" | cut -c 1-150)"
}
expect_abort divergent "aborted naming both barriers" "divergent __syncthreads()" \
    "$(line_of divergent.cu BARRIER-A)" "$(line_of divergent.cu BARRIER-B)"
expect_abort early_exit "aborted at the barrier the exited threads skipped" "returned from the kernel" \
    "$(line_of divergent.cu BARRIER-C)"
expect_abort deadlock "aborted as a deadlock naming both wait sites" "deadlock" \
    "$(line_of divergent.cu BARRIER-D)" "$(line_of divergent.cu BARRIER-E)"
if [ $SAN = 1 ]; then
    expect_abort oob "AddressSanitizer caught the overrun" "ERROR: AddressSanitizer: heap-buffer-overflow" \
        "$(line_of oob.cu OOB-LINE)"
    expect_abort oob_shared "UBSan caught the __shared__ overrun" "runtime error: index 128 out of bounds" \
        "$(line_of oob.cu OOB-SHARED)"
else
    for t in oob oob_shared; do
        printf 'skip  %-11s %s\n' $t "needs UEAJ_SANITIZE=1 (AddressSanitizer, UBSan)"
        skip=$((skip + 1))
    done
fi
echo "cuda self-tests: $pass passed, $fail failed, $skip skipped ($(($(date +%s) - start)) s)"
[ $fail = 0 ]
