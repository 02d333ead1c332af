#!/bin/sh
# replay.sh BUILD - every fuzz target's saved inputs (tests/fuzz/corpus/NAME.tar.xz,
# see corpus.py) through its replayer (BUILD/fuzz/replay_fuzz_NAME, made from
# tests/fuzz/replay_main.c).  A crash, a sanitizer report or a leak fails the group.
set -u
B=$1
PY=${PYTHON:-/usr/bin/python3}
# undefined behaviour fails a replay (UBSan only reports by default); ASan aborts by itself
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
T=$(mktemp -d "${TMPDIR:-/tmp}/ueaj-fuzz.XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT
fail=0 n=0
for src in tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    tar=tests/fuzz/corpus/${name#fuzz_}.tar.xz
    [ -f "$tar" ] || { echo "FAIL $name: no corpus $tar"; fail=1; continue; }
    "$PY" tests/fuzz/corpus.py unpack "$tar" "$T/$name" || { echo "FAIL $name: cannot unpack $tar"; fail=1; continue; }
    if "$B/fuzz/replay_$name" "$T/$name"; then n=$((n + 1)); else echo "FAIL $name (exit $?)"; fail=1; fi
done
echo "fuzz replay: $n targets passed"
exit $fail
