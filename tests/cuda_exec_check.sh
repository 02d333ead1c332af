#!/bin/sh
# cuda_exec_check.sh - models and expressions run through their CUDA plan
# (runtime/cuda_exec.c) against the C backend.
#
#   sh tests/cuda_exec_check.sh PATH_TO_UEAJC [DEVICE]     (from the project root)
#
# DEVICE (or $UEAJ_EXEC_DEVICE): harness (default; the CUDA-on-CPU harness,
# what CI runs) or cuda (a real GPU; tools/gpu_check.sh).  Every case runs
# twice through `ueajc ... --dump`: --device cpu (the C backend) and
# --device DEVICE, and /usr/bin/python3 + NumPy compares the two outputs:
#
#   f32   f32 weights: contractions (cuBLASLt or gemm_ref), casts and
#         built-ins.  max |diff| <= 2e-6 * max |cpu| on the harness (it
#         differs from the C backend only in the order of sums: gemm_ref adds
#         without FMA, the block reductions add in a tree), 1e-5 on a GPU
#         (cuBLASLt picks its own order and may split k).
#   bf16  bf16 weights: the CUDA dialect casts the activation to bf16 for
#         cuBLASLt (the C backend keeps it f32), one bf16 rounding per
#         operand (relative 2^-9) then sums over k and through the layers:
#         max |diff| <= 3e-2 * max |cpu| (observed about 6e-3 for the tiny
#         Llama).
#   exact elementwise kernels on bf16, f16 and fp8 inputs through the
#         vector loads (ldv8_T, 8 elements per thread): the same arithmetic
#         as C, so max |diff| must be 0.
#   math  built-in kernels only (no matmul: builtins.ue, fp8 weights;
#         tests/cases/fuse.ue, fused elementwise chains):
#         2e-6 on the harness (the same arithmetic: observed 0), 1e-4 on a
#         GPU (CUDA's expf, erff, ... are a few ulp from glibc's).
# and for 2-D outputs the argmax of every row must be equal.  Then
# fusion must not change a bit: the tiny Llama (f32 and bf16) and
# tests/cases/fuse.ue give the same bytes with and without --no-fuse, on the
# C backend and on DEVICE (--no-fuse also keeps the CUDA plan's cast
# kernels, which the producers of matmul inputs otherwise replace).
#
# With DEVICE=harness it first checks the generated prelude's vector loads
# and stores against its scalar conversions (tests/cuda/prelude_vec.cpp,
# built with g++ and the shim).
#
# With DEVICE=harness it also runs the executor's device path on fake
# drivers (tests/cuda_fakes/modules.c, smallmem.c, cublaslt.c, built by `make fakes`
# into BUILD/fakes; needs NVRTC): NVRTC for sm_90, module, kernels, arena,
# copies, event timing, and the "needs X MiB, the device has 16.0 MiB free"
# refusal; and it checks the GPU paths fail cleanly here:
# `--device cuda` with no libcuda (UEAJ_LIBCUDA pointing nowhere) exits 1
# with one line naming the reason, and `--device auto` runs on the CPU with
# that reason on stderr.  Prints one line per case; exit status 1 on any
# failure.  Takes a few seconds (harness builds are cached in $UEAJ_CACHE).
set -u
UEAJC=$1
DEV=${2:-${UEAJ_EXEC_DEVICE:-harness}}
PY=${PYTHON:-/usr/bin/python3}
T=$(mktemp -d "${TMPDIR:-/tmp}/ueaj-exec.XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT
npass=0 nfail=0
start=$(date +%s)
ok() { npass=$((npass + 1)); echo "ok    $*"; }
bad() { nfail=$((nfail + 1)); echo "FAIL  $*"; }

TINY="models/llama.ue --config models/tiny-llama.json"
sed 's/"bfloat16"/"float32"/' models/tiny-llama.json > "$T/tiny-f32.json"
TINY32="models/llama.ue --config $T/tiny-f32.json"

# the prelude's vector loads and stores against its scalar conversions
if [ "$DEV" = harness ]; then
    "$UEAJC" 'i->i' --emit=cuda | sed '/^\/\* Buffers (index/,$d' > "$T/prelude.cuh"
    if g++ -std=c++17 -O1 -ffp-contract=off -fno-strict-aliasing -DUEAJ_HAVE_STDINT -include tests/cuda/cuda_shim.hpp \
           -include "$T/prelude.cuh" tests/cuda/prelude_vec.cpp -o "$T/prelude_vec" -pthread > "$T/pv.log" 2>&1 &&
       "$T/prelude_vec" > "$T/pv.out" 2>&1; then
        ok "$(cat "$T/pv.out")"
    else
        bad "prelude vector loads/stores: $(head -c 1500 "$T/pv.log" "$T/pv.out")"
    fi
fi

# inputs and small models for the expression cases
"$PY" - "$T" <<'EOF' || exit 2
import sys, numpy as np
t = sys.argv[1]
r = np.random.default_rng(7)
np.save(f"{t}/x.npy", r.standard_normal((5, 24)).astype(np.float32))
np.save(f"{t}/q.npy", r.standard_normal((5, 4, 8)).astype(np.float32))
np.save(f"{t}/kv.npy", r.standard_normal((7, 2, 8)).astype(np.float32))
np.save(f"{t}/ids.npy", r.integers(0, 50, 5).astype(np.int32))
np.save(f"{t}/pos.npy", np.arange(5, dtype=np.int32))
np.save(f"{t}/pos1.npy", np.array([5], dtype=np.int32))
np.save(f"{t}/x16.npy", r.standard_normal((5, 16)).astype(np.float32))
EOF
cat > "$T/mm32.ue" <<'EOF'
model mm32
dim n = runtime
input x[n, 24]
param w[24, 40] : f32 = load "w"
y = ueajsum("nd,de->ne", x, w)
output y
EOF
cat > "$T/mm16.ue" <<'EOF'
model mm16
dim n = runtime
input x[n, 24]
param w[24, 40] : bf16 = load "w"
y = ueajsum("nd,de->ne", x, w)
output y
EOF
cat > "$T/heads.ue" <<'EOF'
model heads
dim n = runtime
input q[n, 4, 8]
param w[4, 8, 24] : f32 = load "w"
param v[24, 3, 8] : f32 = load "v"
h = ueajsum("nhk,hkd->nd", q, w)
s = softmax(h) + silu(h)
y = ueajsum("nd,dgk->ngk", s, v)
output y
EOF
cat > "$T/rows.ue" <<'EOF'
model rows
dim n = runtime
input x[n, 24]
param g[24] : f32 = load "g"
a = rms_norm(x, g, eps = 1e-5)
y = ueajsum("nd,ne->de", a, x)
output y
EOF
cat > "$T/narrow.ue" <<'EOF'
model narrow
dim n = runtime
input x[n, 24]
input b[n, 24] : bf16
input h[n, 24] : f16
input e4[n, 24] : f8e4m3
input e5[n, 24] : f8e5m2
y = b + h * e4 - 0.5 * e5 + x
output y
EOF
XIN="--input x=$T/x.npy"
BUILTINS="tests/fixtures/cuda/builtins.ue --input x=$T/x.npy --input ids=$T/ids.npy --input pos=$T/pos.npy --input q=$T/q.npy --input kv=$T/kv.npy"

# case NAME KIND ARGS...: cpu vs $DEV, outputs compared by KIND
case_() {
    name=$1 kind=$2
    shift 2
    if ! "$UEAJC" "$@" --device cpu --dump "$T/$name.cpu.npy" > "$T/$name.cpu.out" 2> "$T/$name.cpu.err"; then
        bad "$name: the C backend failed: $(head -c 600 "$T/$name.cpu.err")"; return
    fi
    if ! timeout 300 "$UEAJC" "$@" --device "$DEV" --dump "$T/$name.dev.npy" > "$T/$name.dev.out" 2> "$T/$name.dev.err"; then
        bad "$name: --device $DEV failed: $(head -c 1500 "$T/$name.dev.err")"; return
    fi
    if msg=$("$PY" - "$T/$name.cpu.npy" "$T/$name.dev.npy" "$kind" "$DEV" 2>&1 <<'EOF'
import sys, numpy as np
ref, got, kind, dev = np.load(sys.argv[1]).astype(np.float64), np.load(sys.argv[2]).astype(np.float64), sys.argv[3], sys.argv[4]
tol = {"f32": 2e-6 if dev == "harness" else 1e-5, "bf16": 3e-2, "math": 2e-6 if dev == "harness" else 1e-4,
       "exact": 0.0}[kind]
if ref.shape != got.shape: sys.exit(f"shape {got.shape}, the C backend's {ref.shape}")
if not np.all(np.isfinite(got)): sys.exit(f"{np.sum(~np.isfinite(got))} values are not finite")
d, m = float(np.max(np.abs(ref - got), initial=0)), float(np.max(np.abs(ref), initial=0))
rel = d / m if m > 0 else d
if rel > tol: sys.exit(f"max |diff| {d:.3g} = {rel:.3g} * max |cpu| > {tol:g}")
same = ""
if ref.ndim == 2 and ref.shape[1] > 1:
    a, b = ref.argmax(1), got.argmax(1)
    if not np.array_equal(a, b): sys.exit(f"argmax differs in rows {np.nonzero(a != b)[0].tolist()} (max |diff| rel {rel:.3g})")
    same = f", argmax equal in {len(a)} rows"
print(f"{ref.size} values, max |diff| {d:.3g} = {rel:.3g} * max |cpu| (bound {tol:g}){same}")
EOF
    ); then
        ok "$name ($kind): $msg"
    else
        bad "$name ($kind): $msg"
    fi
}

# shellcheck disable=SC2086
{
case_ tiny-llama-bf16 bf16 $TINY --run "1 2 3 4 5 6 7"
case_ tiny-llama-f32 f32 $TINY32 --run "1 2 3 4 5 6 7"
case_ tiny-llama-f32-decode f32 $TINY32 --run "9" --input "pos=$T/pos1.npy" --dim C=8 --dim m=1
case_ matmul-f32 f32 "$T/mm32.ue" $XIN
case_ matmul-bf16 bf16 "$T/mm16.ue" $XIN
case_ heads-f32 f32 "$T/heads.ue" --input "q=$T/q.npy"
case_ rmsnorm-gram-f32 f32 "$T/rows.ue" $XIN
case_ builtins-fp8 math $BUILTINS
case_ fused-chains math tests/cases/fuse.ue --input "a=$T/x16.npy" --input "b=$T/x16.npy" --input "c=$T/x16.npy"
# pass_fuse changes no bit: the output with and without --no-fuse, on the C backend and through the plan
# same_bytes WHAT FLAG NAME DEVICE ARGS...: --dump gives the same bytes with and without FLAG
same_bytes() {
    what=$1 flag=$2 name=$3 dev=$4
    shift 4
    if "$UEAJC" "$@" --device "$dev" --dump "$T/f.$name.npy" > /dev/null 2>&1 &&
       "$UEAJC" "$@" --device "$dev" "$flag" --dump "$T/u.$name.npy" > /dev/null 2>&1 &&
       cmp -s "$T/f.$name.npy" "$T/u.$name.npy"; then
        ok "$what is bit-exact: $name on $dev (--dump with and without $flag: the same bytes)"
    else
        bad "$what changed the output of $name on $dev (or a run failed)"
    fi
}
for dev in cpu "$DEV"; do
    # shellcheck disable=SC2086
    same_bytes fusion --no-fuse tiny-llama "$dev" $TINY32 --run "1 2 3 4 5"
    # bf16 weights: on DEVICE the producers of matmul inputs also store their bf16 copies (no cast kernels)
    # shellcheck disable=SC2086
    same_bytes fusion --no-fuse tiny-llama-bf16 "$dev" $TINY --run "1 2 3 4 5"
    same_bytes fusion --no-fuse fuse.ue "$dev" tests/cases/fuse.ue --input "a=$T/x16.npy" --input "b=$T/x16.npy" --input "c=$T/x16.npy"
    # temps that share memory (compiler/memplan.c) against every temp its own buffer
    # shellcheck disable=SC2086
    same_bytes "buffer sharing" --no-share tiny-llama "$dev" $TINY32 --run "1 2 3 4 5"
    # shellcheck disable=SC2086
    same_bytes "buffer sharing" --no-share tiny-llama-bf16 "$dev" $TINY --run "1 2 3 4 5"
done
# ... and sharing is real: most of the tiny Llama's temps share (the plan's share records)
# shellcheck disable=SC2086
nshare=$("$UEAJC" $TINY --emit=plan | grep -c '^share ')
# shellcheck disable=SC2086
ntemp=$("$UEAJC" $TINY --emit=plan | grep -c '^tensor [0-9]* [^ ]* temp ')
if [ "$nshare" -gt $((ntemp / 2)) ]; then ok "buffer sharing: $nshare of $ntemp temps share memory in the tiny Llama's plan"
else bad "buffer sharing: only $nshare of $ntemp temps share memory in the tiny Llama's plan"; fi
case_ narrow-inputs exact "$T/narrow.ue" $XIN --input "b=$T/x.npy" --input "h=$T/x.npy" --input "e4=$T/x.npy" --input "e5=$T/x.npy"
}

if [ "$DEV" = harness ]; then
    # no GPU here: --device cuda fails with cuda_select's reason, auto falls back
    # shellcheck disable=SC2086
    UEAJ_LIBCUDA=/nonexistent/libcuda.so.1 "$UEAJC" $TINY --run "1 2 3" --device cuda > "$T/c.out" 2> "$T/c.err"
    rc=$?
    if [ $rc = 1 ] && [ "$(wc -l < "$T/c.err")" = 1 ] &&
       grep -q '^ueajc: error: --device cuda: no libcuda.so.1 (dlopen: ' "$T/c.err"; then
        ok "--device cuda without libcuda: $(cat "$T/c.err")"
    else
        bad "--device cuda without libcuda: exit $rc: $(head -c 600 "$T/c.err")"
    fi
    # shellcheck disable=SC2086
    UEAJ_LIBCUDA=/nonexistent/libcuda.so.1 "$UEAJC" $TINY --run "1 2 3" --device auto > "$T/a.out" 2> "$T/a.err"
    rc=$?
    # shellcheck disable=SC2086
    "$UEAJC" $TINY --run "1 2 3" > "$T/a.ref" 2>&1
    if [ $rc = 0 ] && cmp -s "$T/a.out" "$T/a.ref" && grep -q '^ueajc: --device auto: no libcuda.so.1' "$T/a.err"; then
        ok "--device auto without libcuda runs on the CPU: $(cat "$T/a.err")"
    else
        bad "--device auto without libcuda: exit $rc: $(head -c 600 "$T/a.err" "$T/a.out")"
    fi
    # this machine's own libcuda (none, the toolkit's stub, or no device): one clean line either way
    # shellcheck disable=SC2086
    "$UEAJC" $TINY --run "1 2 3" --device cuda > "$T/s.out" 2> "$T/s.err"
    rc=$?
    if [ $rc = 0 ]; then
        ok "--device cuda on this machine: a GPU is here (ran)"
    elif [ $rc = 1 ] && [ "$(wc -l < "$T/s.err")" = 1 ] && grep -q '^ueajc: error: --device cuda: ' "$T/s.err"; then
        ok "--device cuda on this machine: $(cat "$T/s.err")"
    else
        bad "--device cuda on this machine: exit $rc: $(head -c 600 "$T/s.err")"
    fi
    # the device path on fake drivers whose launches do nothing (a plan without gemm steps:
    # cuBLASLt needs a real GPU)
    FK=$(dirname "$UEAJC")/fakes
    if [ ! -f "$FK/modules.so" ] || [ ! -f "$FK/smallmem.so" ] || [ ! -f "$FK/cublaslt.so" ]; then
        echo "skip  fake-driver device path: no $FK/modules.so (make fakes)"
    elif ! "$UEAJC" --emit=ptxas 'i->i' > /dev/null 2>&1; then
        echo "skip  fake-driver device path: NVRTC is not installed"
    else
        # shellcheck disable=SC2086
        UEAJ_LIBCUDA=$FK/modules.so "$UEAJC" $BUILTINS --device cuda -v --repeat 3 > "$T/f.out" 2> "$T/f.err"
        rc=$?
        if [ $rc = 0 ] && grep -q 'using CUDA device 0: NVIDIA H200 (sm_90.*NVRTC .* for sm_90' "$T/f.err" &&
           grep -q '^time: phase=run backend=cuda n=5 m=7 repeat=3 median_ms=1.5000 .*device="NVIDIA H200"' "$T/f.out"; then
            ok "device path on a fake H200: $(grep -o 'NVRTC.*' "$T/f.err"); $(cut -c 1-60 "$T/f.out")..."
        else
            bad "device path on a fake H200: exit $rc: $(head -c 800 "$T/f.err" "$T/f.out")"
        fi
        # with a fake cuBLASLt too: gemm steps, --repeat and --decode (the re-laid storage for n = 1)
        # shellcheck disable=SC2086
        UEAJ_LIBCUDA=$FK/modules.so UEAJ_LIBCUBLASLT=$FK/cublaslt.so "$UEAJC" $TINY --run "1 2 3 4" --dim C=16 \
            --dim m=1 --device cuda --repeat 3 --decode 4 > "$T/g.out" 2> "$T/g.err"
        rc=$?
        if [ $rc = 0 ] && grep -q '^time: phase=run backend=cuda n=4 repeat=3 median_ms=1.5000 param_bytes=238208 weight_bytes=205440 ' "$T/g.out" &&
           grep -q '^time: phase=decode@4 backend=cuda n=1 repeat=4 ' "$T/g.out"; then
            ok "gemm steps, --repeat, --decode on a fake H200 + fake cuBLASLt: $(grep -c '^time:' "$T/g.out") timings"
        else
            bad "gemm steps on a fake H200 + fake cuBLASLt: exit $rc: $(head -c 800 "$T/g.err" "$T/g.out")"
        fi
        # shellcheck disable=SC2086
        UEAJ_LIBCUDA=$FK/smallmem.so "$UEAJC" $BUILTINS --device cuda > "$T/m.out" 2> "$T/m.err"
        rc=$?
        if [ $rc = 1 ] && [ "$(wc -l < "$T/m.err")" = 1 ] &&
           grep -q '^ueajc: error: --device cuda: the model needs [0-9.]* MiB (.*), the device has 16.0 MiB free$' "$T/m.err"; then
            ok "a model larger than the device: $(cat "$T/m.err")"
        else
            bad "a model larger than the device: exit $rc: $(head -c 600 "$T/m.err")"
        fi
    fi
    # --compare prints the differences
    # shellcheck disable=SC2086
    if "$UEAJC" $TINY32 --run "1 2 3" --device harness --compare > "$T/cmp.out" 2>&1 &&
       grep -q '^compare cpu vs harness: .* argmax equal in 3/3 rows' "$T/cmp.out"; then
        ok "--compare: $(grep '^compare' "$T/cmp.out")"
    else
        bad "--compare: $(head -c 600 "$T/cmp.out")"
    fi
fi
echo "cuda_exec checks ($DEV): $npass passed, $nfail failed ($(($(date +%s) - start)) s)"
[ $nfail = 0 ]
