#!/bin/sh
# fuzz.sh [SECONDS] [NAME...]  - runs the libFuzzer builds of tests/fuzz/fuzz_NAME.c
#                                (make fuzz first) for SECONDS each (default 60), one core each
# fuzz.sh --save NAME...       - merges what they found into the committed corpus
#
# Each fuzzer grows a working corpus in $F/corpus/NAME/, seeded from
# the committed tests/fuzz/corpus/NAME.tar.xz (tests/fuzz/corpus.py).  An
# input that crashes, trips a sanitizer, leaks, runs past 10 s or takes more
# than 2 GB is saved in $F/artifacts/NAME/.  Fix the bug, add the
# input to $F/corpus/NAME/ and run --save: make check replays the
# committed corpus (tests/fuzz/replay.sh) for ever.  --save keeps a smallest
# set of inputs with the same edge coverage (libFuzzer's -set_cover_merge,
# -use_counters=0: hit counts would keep thousands of near-copies).
set -u
F=${FUZZ_BUILD:-build-fuzz}   # the build directory of make fuzz (FUZZ_BUILD=...)
PY=${PYTHON:-/usr/bin/python3}
seed() { # NAME: the working corpus starts from the committed one
    mkdir -p "$F/corpus/$1" "$F/artifacts/$1"
    [ -f "tests/fuzz/corpus/$1.tar.xz" ] && "$PY" tests/fuzz/corpus.py unpack "tests/fuzz/corpus/$1.tar.xz" "$F/corpus/$1"
}
if [ "${1:-}" = --save ]; then
    shift
    for n in "$@"; do
        bin=$F/fuzz/fuzz_$n
        [ -x "$bin" ] || { echo "fuzz: no $bin (run make fuzz)"; exit 1; }
        seed "$n"
        rm -rf "$F/merged/$n" && mkdir -p "$F/merged/$n"
        "$bin" -set_cover_merge=1 -use_counters=0 "$F/merged/$n" "$F/corpus/$n" > "$F/merge_$n.log" 2>&1 ||
            { echo "fuzz: merging $n failed: $F/merge_$n.log"; exit 1; }
        "$PY" tests/fuzz/corpus.py pack "$F/merged/$n" "tests/fuzz/corpus/$n.tar.xz"
        echo "fuzz: tests/fuzz/corpus/$n.tar.xz: $(ls "$F/merged/$n" | wc -l) inputs, $(wc -c < "tests/fuzz/corpus/$n.tar.xz") bytes"
    done
    exit 0
fi
secs=${1:-60}
[ $# -gt 0 ] && shift
names=$*
[ -n "$names" ] || names=$(for f in tests/fuzz/fuzz_*.c; do basename "$f" .c | sed 's/^fuzz_//'; done)
status=0
for n in $names; do
    bin=$F/fuzz/fuzz_$n
    [ -x "$bin" ] || { echo "fuzz: no $bin (run make fuzz)"; status=1; continue; }
    seed "$n"
    echo "== fuzz_$n for $secs s"
    if ! "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$F/artifacts/$n/" "$F/corpus/$n" > "$F/fuzz_$n.log" 2>&1; then
        status=1
        echo "fuzz_$n FOUND A PROBLEM: see $F/fuzz_$n.log and $F/artifacts/$n/"
        grep -m3 "ERROR\|SUMMARY\|Test unit written" "$F/fuzz_$n.log"
    else
        grep "stat::number_of_executed_units\|DONE" "$F/fuzz_$n.log" | tail -2
    fi
done
exit $status
