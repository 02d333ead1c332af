#!/bin/sh
# cuda_check.sh - every CUDA kernel the test suite's models and expressions
# generate goes through NVRTC, for sm_80 and sm_90; CUBIN and PTX files
# written with -o are checked, for four Llama configs (the 1B shape among
# them): NVIDIA's cuobjdump must list the ELF, disassemble every kernel the
# plan launches and report the registers and shared memory `ueajc inspect
# --kernels` reads (tests/cuda_tools.sh finds or fetches cuobjdump; without
# it, the ELF symbol table is read with readelf and a note says so).
#
#   sh tests/cuda_check.sh PATH_TO_UEAJC        (from the project root)
#
# One NVRTC program per model (all its kernels at once).  The 1B shape is
# compiled with 2 of its 16 layers (--dim L=2): every layer's kernels are
# the same text but for their names, and the test must stay fast on two
# cores.  Without NVRTC (no CUDA toolkit) the group is skipped with a note.
# Compiles go through the NVRTC cache ($UEAJ_CACHE).
set -u
UEAJC=$1
T=$(mktemp -d "${TMPDIR:-/tmp}/ueaj-cuda.XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT
npass=0 nfail=0
ok() { npass=$((npass + 1)); }
bad() { nfail=$((nfail + 1)); echo "FAIL $*"; }

if ! "$UEAJC" --emit=ptxas 'i->i' > "$T/probe" 2>&1; then
    if grep -q "NVRTC (libnvrtc.so" "$T/probe"; then
        echo "SKIP: NVRTC is not installed (no CUDA toolkit): the CUDA kernels were not compiled"
        cat "$T/probe"
        exit 0
    fi
    cat "$T/probe"; exit 1
fi

TINY="models/llama.ue --config models/tiny-llama.json"
ONEB="models/llama.ue --config tests/fixtures/cuda/llama-3.2-1b-config.json --dim L=2"
BUILTINS="tests/fixtures/cuda/builtins.ue"

# ptxas_ok LABEL ARGS...: --emit=ptxas must succeed and list kernels
ptxas_ok() {
    label=$1; shift
    if "$UEAJC" --color=never "$@" > "$T/out" 2> "$T/err" && grep -q '^(\([1-9][0-9]*\) kernels' "$T/out"; then
        ok
    else
        bad "$label: ueajc $*"; cat "$T/err" | head -30
    fi
}

t0=$(date +%s)
for arch in sm_80 sm_90; do
    # shellcheck disable=SC2086
    ptxas_ok "tiny llama $arch" $TINY --emit=ptxas --arch $arch &
    # shellcheck disable=SC2086
    ptxas_ok "llama-3.2-1B shape $arch" $ONEB --emit=ptxas --arch $arch
    wait
    ptxas_ok "built-ins $arch" $BUILTINS --emit=ptxas --arch $arch
    # a sample of the golden cases' expressions, f32, f64, bf16, f16, fp8
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        eval "set -- $line"
        ptxas_ok "expression $arch" --emit=ptxas "$@" --arch $arch
    done <<'LIST'
'ij,*jk->ik'
'ij,jk->ik'
'ii->i'
'ii->'
'ij,ij'
'ij->ijk'
'bnh,bnh,*hd->bnd'
'bnd,*dhik,bmz,*zhk,bmy,*yhv,nm->bnhiv'
'ij,*jk->ik' --fp8-params --dim i=2 --dim j=3 --dim k=4
'ij,*jk->ik' --fp8-params --dtype x0=f8e4m3
'ij,*jk->ik' --bf16-params --dtype x0=f16
'ij,*w=jk + *b=k -> ik' --out-dtype bf16 --dim i=2 --dim j=3 --dim k=4
'ij,*w=jk + *b=k -> ik' --unit --dim j=3 --dim k=4
'ij,jk->ik' --dtype x0=f64 --dtype x1=f64
'ij,jk->ik' --dtype x0=f8e5m2 --dtype x1=f8e4m3 --out-dtype f8e5m2
'bij,*bjk->bik' --bf16-params
LIST
done
t1=$(date +%s)
echo "NVRTC: every kernel compiled for sm_80 and sm_90 in $((t1 - t0)) s"

# files: -o OUT.cubin / OUT.ptx / OUT.cu, and what the toolkit's tools read in them
CUOBJDUMP=$(sh tests/cuda_tools.sh) || CUOBJDUMP=
HF=tests/fixtures/hf
for m in tiny oneb gqa10 mqa6; do
    case $m in
        tiny) args=$TINY ;;
        oneb) args=$ONEB ;;
        gqa10) args="models/llama.ue --config $HF/gqa_untied_headdim10_llama3/config.json" ;;
        mqa6) args="models/llama.ue --config $HF/mqa_tied_headdim6_none/config.json --bf16-params" ;;
    esac
    # shellcheck disable=SC2086
    if ! "$UEAJC" --color=never $args -o "$T/$m.cubin" --arch sm_90 2> "$T/err"; then bad "$m -o .cubin"; cat "$T/err"; continue; fi
    # shellcheck disable=SC2086
    if ! "$UEAJC" --color=never $args -o "$T/$m.ptx" --arch sm_80 2> "$T/err"; then bad "$m -o .ptx"; cat "$T/err"; continue; fi
    if grep -q '^\.visible \.entry k0(' "$T/$m.ptx" && grep -q 'ueaj_plan' "$T/$m.ptx" && grep -q '^\.target sm_80' "$T/$m.ptx"; then ok; else bad "$m.ptx: no k0 entry, plan or sm_80 target"; fi
    # ueajc inspect reads the cubin back: its architecture and the very plan --emit=plan prints
    # shellcheck disable=SC2086
    "$UEAJC" --color=never $args --emit=plan > "$T/plan.want"
    if "$UEAJC" inspect "$T/$m.cubin" > "$T/insp" 2>&1 && grep -q "CUDA cubin for sm_90" "$T/insp" &&
       "$UEAJC" inspect "$T/$m.cubin" --plan > "$T/plan.have" 2>&1 && cmp -s "$T/plan.want" "$T/plan.have"; then
        ok
    else
        bad "$m.cubin: ueajc inspect does not find sm_90 and the same plan"; head -5 "$T/insp"
    fi
    # ... and each kernel's registers as ptxas -v reported them when NVRTC compiled the same kernels
    # (--emit=ptxas; the cubin's .nv.info), its shared memory at least ptxas's
    # shellcheck disable=SC2086
    "$UEAJC" --color=never $args --emit=ptxas --arch sm_90 2>/dev/null | awk 'NR > 1 && /^k/ { print $1, $2, $6 }' | sort > "$T/px"
    "$UEAJC" inspect "$T/$m.cubin" --kernels 2>&1 | awk 'NR > 1 && /^k/ { print $1, $2, $3 }' | sort > "$T/ik"
    if [ -s "$T/px" ] && [ "$(cut -d' ' -f1,2 "$T/px")" = "$(cut -d' ' -f1,2 "$T/ik")" ] &&
       join "$T/px" "$T/ik" | awk '$5 < $3 { bad = 1 } END { exit bad }'; then
        ok
    else
        bad "$m.cubin: ueajc inspect --kernels disagrees with ptxas -v: $(diff "$T/px" "$T/ik" | head -6 | tr '\n' ' ')"
    fi
    # ... and the very source --emit=cuda prints (the cubin carries it as ueaj_source)
    # shellcheck disable=SC2086
    "$UEAJC" --color=never $args --emit=cuda > "$T/src.want"
    if "$UEAJC" inspect "$T/$m.cubin" --source > "$T/src.have" 2>&1 && cmp -s "$T/src.want" "$T/src.have"; then
        ok
    else
        bad "$m.cubin: ueajc inspect --source is not --emit=cuda's text"; head -5 "$T/src.have"
    fi
    # the kernel names the plan launches must all be in the cubin
    # shellcheck disable=SC2086
    "$UEAJC" --color=never $args --emit=plan | awk '$1 == "launch" { print $2 }' | sort -u > "$T/want"
    if [ -n "$CUOBJDUMP" ]; then
        if "$CUOBJDUMP" --list-elf "$T/$m.cubin" > "$T/elf" 2>&1 && "$CUOBJDUMP" -sass "$T/$m.cubin" > "$T/sass" 2>&1 &&
           "$CUOBJDUMP" -res-usage "$T/$m.cubin" > "$T/res" 2>&1; then
            sed -n 's/.*Function : \([A-Za-z0-9_]*\).*/\1/p' "$T/sass" | sort -u > "$T/have"
            if grep -q '^ELF file *1: .*\.sm_90\.cubin$' "$T/elf" && grep -q 'code for sm_90' "$T/sass" &&
               [ -s "$T/want" ] && [ -z "$(comm -23 "$T/want" "$T/have")" ]; then
                ok
            else
                bad "$m.cubin: cuobjdump finds no sm_90 ELF or lacks kernels: $(comm -23 "$T/want" "$T/have" | head -5 | tr '\n' ' ')"
                head -3 "$T/elf"
            fi
            # registers and shared memory per kernel: cuobjdump's reading against ueajc inspect's
            awk '/^ Function / { f = $2; sub(":", "", f) } /^  REG:/ { split($1, r, ":"); split($3, s, ":"); print f, r[2], s[2] }' "$T/res" |
                sort > "$T/cres"
            if [ -s "$T/cres" ] && cmp -s "$T/cres" "$T/ik"; then
                ok
            else
                bad "$m.cubin: cuobjdump -res-usage and ueajc inspect --kernels differ: $(diff "$T/cres" "$T/ik" | head -6 | tr '\n' ' ')"
            fi
        else
            bad "$m.cubin: cuobjdump cannot read it"; cat "$T/elf" "$T/res" | head -10
        fi
    else
        echo "note: no cuobjdump (not in the toolkit, not fetched): $m.cubin checked with readelf instead"
        if ! command -v readelf > /dev/null 2>&1; then
            echo "SKIP: neither cuobjdump nor readelf: $m.cubin not inspected"
            continue
        fi
        readelf -h "$T/$m.cubin" > "$T/hdr" 2>&1
        readelf -sW "$T/$m.cubin" | awk '$4 == "FUNC" { print $NF }' | sort -u > "$T/have"
        if grep -q 'Machine:.*NVIDIA CUDA\|Machine:.*<unknown>: 0xbe' "$T/hdr" && [ -s "$T/want" ] &&
           [ -z "$(comm -23 "$T/want" "$T/have")" ] && readelf -sW "$T/$m.cubin" | grep -q ' ueaj_plan$'; then
            ok
        else
            bad "$m.cubin: not a CUDA ELF with the plan's kernels and ueaj_plan: $(comm -23 "$T/want" "$T/have" | head -5 | tr '\n' ' ')"
            head -20 "$T/hdr"
        fi
    fi
done

# bad cubins, made here from the tiny model's cubin: each gets one message naming the file
PY=${PYTHON:-/usr/bin/python3}
if [ -s "$T/tiny.cubin" ]; then
    head -c 2000 "$T/tiny.cubin" > "$T/truncated.cubin"
    "$PY" - "$T" <<'PYEOF'
import sys
d = sys.argv[1]
b = bytearray(open(d + "/tiny.cubin", "rb").read())
# the plan's own bytes (the carried source, ueaj_source, holds it escaped: ueajc-plan 1\\n)
assert b.count(b"ueajc-plan 1\ndims") == 1
open(d + "/plan_v2.cubin", "wb").write(bytes(b).replace(b"ueajc-plan 1\ndims", b"ueajc-plan 2\ndims"))
b[7] = 0  # OS/ABI System V: an ELF file, not CUDA's
open(d + "/not_cuda.cubin", "wb").write(bytes(b))
PYEOF
    expect_inspect() { # FILE MESSAGE
        if "$UEAJC" inspect "$T/$1" > "$T/out" 2> "$T/err"; then bad "inspect $1: accepted"; return; fi
        if [ "$(cat "$T/err")" = "ueajc: error: $T/$1$2" ]; then ok; else bad "inspect $1: $(cat "$T/err")"; fi
    }
    expect_inspect truncated.cubin ": section headers past the end of the file (truncated?)"
    expect_inspect plan_v2.cubin " (its ueaj_plan):1: plan version '2' (this runtime reads version 1)"
    expect_inspect not_cuda.cubin ": an ELF file, but not a CUDA cubin (its OS/ABI byte is not CUDA's 0x41)"
    # shellcheck disable=SC2086
    if "$UEAJC" --color=never $TINY -o "$T/tiny80.cubin" --arch sm_80 &&
       "$UEAJC" inspect "$T/tiny80.cubin" 2>&1 | grep -q "CUDA cubin for sm_80,"; then ok; else bad "inspect: an sm_80 cubin"; fi
fi

echo "cuda: $npass passed, $nfail failed"
[ $nfail = 0 ]
