#!/bin/sh
# cache_check.sh - the compile cache's cap end to end, on a scratch
# $UEAJ_CACHE (tests/test_cache.c tests runtime/cache_trim.c itself):
# a compile stores an entry and a hit refreshes its mtime; `ueajc cache`
# --stats, --trim under $UEAJ_CACHE_MAX (the least recently used entry goes,
# stale temporaries go, a file that is not ueajc's and a fresh temporary
# stay), a compile under a tiny cap (the older entries go, the new one
# stays and runs), a malformed $UEAJ_CACHE_MAX (the compile goes on with a
# warning, --trim refuses), --clear, --cache-dir.  About a second.
#
#   sh tests/cache_check.sh PATH_TO_UEAJC
set -u
UEAJC=$1
case $UEAJC in /*) ;; *) UEAJC=$(pwd)/$UEAJC ;; esac
T=$(mktemp -d "${TMPDIR:-/tmp}/ueaj-cache-check.XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT
C=$T/cache
export UEAJ_CACHE="$C"
unset UEAJ_CACHE_MAX
fail=0
bad() { echo "FAIL: $*"; fail=1; }
# expect_line FILE TEXT: FILE has a line equal to TEXT
expect_line() { grep -qxF -- "$2" "$1" || { bad "no line '$2' in:"; sed 's/^/    /' "$1"; }; }
recent() { [ -n "$(find "$1" -mmin -10)" ]; } # modified in the last ten minutes
compile() { # EXPR SIZE [ENV...]: ueajc eval on an expression whose parameters are initialised
    e=$1 n=$2
    shift 2
    (cd "$T" && env "$@" "$UEAJC" eval "$e" --unit --dim i="$n" -o "$T/y.npy" -v) > "$T/out" 2> "$T/err"
}

"$UEAJC" cache > "$T/out" 2>&1 || bad "ueajc cache on an empty cache: exit $?"
expect_line "$T/out" "cache directory  $C"
expect_line "$T/out" "entries          0 (0 files)"
expect_line "$T/out" "cap              2.0 GiB (2147483648 bytes), the default"

# a real entry: KEY.c and KEY.so
compile '*i->i' 4 || { bad "compile: $(cat "$T/err")"; exit 1; }
so=$(ls "$C"/*.so)
key=$(basename "$so" .so)
[ -f "$C/$key.c" ] || bad "no $key.c beside $key.so"
# old fake entries (sizes in bytes), a file that is not ueajc's, temporaries
truncate -s 300000 "$C/aaaaaaaaaaaaaaaa.so" && truncate -s 100000 "$C/aaaaaaaaaaaaaaaa.c"
truncate -s 290000 "$C/bbbbbbbbbbbbbbbb.cubin" && truncate -s 10000 "$C/bbbbbbbbbbbbbbbb.nvlog"
truncate -s 5000000 "$C/notes.txt"
truncate -s 1000 "$C/cccccccccccccccc.so.tmp.1" "$C/dddddddddddddddd.so.tmp.2"
touch -d '2 days ago' "$C/aaaaaaaaaaaaaaaa.so" "$C/aaaaaaaaaaaaaaaa.c" "$C/notes.txt"
touch -d '1 day ago' "$C/bbbbbbbbbbbbbbbb.cubin" "$C/bbbbbbbbbbbbbbbb.nvlog"
touch -d '2 hours ago' "$C/cccccccccccccccc.so.tmp.1"
touch -d '3 days ago' "$so" "$C/$key.c"
# a hit: the oldest entry becomes the newest
compile '*i->i' 4 || bad "compile (hit): $(cat "$T/err")"
grep -q "cache hit" "$T/err" || bad "no cache hit: $(cat "$T/err")"
recent "$so" || bad "a hit did not refresh the mtime of $so"

"$UEAJC" cache --stats > "$T/out" 2>&1 || bad "ueajc cache --stats: exit $?"
expect_line "$T/out" "entries          3 (6 files)"
expect_line "$T/out" "in progress      2 temporaries (2.0 KiB)"
expect_line "$T/out" "left alone       1 other file, 0 directories"

# cap 600K = 614400 bytes: 700000 + the real entry is over it; the oldest
# (aaaa, 400000 bytes) goes, which brings it under 90% (552960)
UEAJ_CACHE_MAX=600K "$UEAJC" cache --trim > "$T/out" 2>&1 || bad "ueajc cache --trim: exit $?"
expect_line "$T/out" "removed 1 entry (2 files, 390.6 KiB) and 1 stale temporary (1000 bytes)"
expect_line "$T/out" "entries          2 (4 files)"
expect_line "$T/out" "cap              600.0 KiB (614400 bytes), \$UEAJ_CACHE_MAX"
[ ! -e "$C/aaaaaaaaaaaaaaaa.so" ] && [ ! -e "$C/aaaaaaaaaaaaaaaa.c" ] || bad "the least recently used entry is still there"
[ -e "$C/bbbbbbbbbbbbbbbb.cubin" ] && [ -e "$so" ] || bad "--trim removed more than the oldest entry"
[ ! -e "$C/cccccccccccccccc.so.tmp.1" ] || bad "a stale temporary survived --trim"
[ -e "$C/dddddddddddddddd.so.tmp.2" ] && [ -e "$C/notes.txt" ] || bad "--trim removed a fresh temporary or a file not its own"

# a store under a cap smaller than everything: the older entries go, the new one stays
compile '*i->i' 5 UEAJ_CACHE_MAX=1K || bad "compile under UEAJ_CACHE_MAX=1K: $(cat "$T/err")"
[ -f "$T/y.npy" ] || bad "no result under UEAJ_CACHE_MAX=1K"
"$UEAJC" cache > "$T/out" 2>&1
expect_line "$T/out" "entries          1 (2 files)"
[ ! -e "$so" ] && [ ! -e "$C/bbbbbbbbbbbbbbbb.cubin" ] || bad "a store under UEAJ_CACHE_MAX=1K kept older entries"

# a malformed cap: the compile goes on with the default and one warning; --trim refuses
compile '*i->i' 6 UEAJ_CACHE_MAX=lots || bad "compile under UEAJ_CACHE_MAX=lots: $(cat "$T/err")"
grep -qF "ueajc: warning: \$UEAJ_CACHE_MAX='lots' is not a size" "$T/err" || bad "no warning for UEAJ_CACHE_MAX=lots: $(cat "$T/err")"
UEAJ_CACHE_MAX=lots "$UEAJC" cache --trim > "$T/out" 2>&1
[ $? = 2 ] || bad "ueajc cache --trim under UEAJ_CACHE_MAX=lots: exit status not 2"
UEAJ_CACHE_MAX=0 "$UEAJC" cache > "$T/out" 2>&1
expect_line "$T/out" "entries          2 (4 files)"
expect_line "$T/out" "cap              none (\$UEAJ_CACHE_MAX=0)"

"$UEAJC" cache --clear > "$T/out" 2>&1 || bad "ueajc cache --clear: exit $?"
expect_line "$T/out" "entries          0 (0 files)"
[ -z "$(ls "$C" | grep -E '^[0-9a-f]{16}\.(c|so)$')" ] || bad "--clear left entries: $(ls "$C")"
[ -e "$C/dddddddddddddddd.so.tmp.2" ] && [ -e "$C/notes.txt" ] || bad "--clear removed a fresh temporary or a file not its own"

mkdir "$T/other" && truncate -s 2048 "$T/other/eeeeeeeeeeeeeeee.ptx"
"$UEAJC" cache --cache-dir "$T/other" > "$T/out" 2>&1 || bad "ueajc cache --cache-dir: exit $?"
expect_line "$T/out" "cache directory  $T/other"
expect_line "$T/out" "size             2.0 KiB (2048 bytes)"

[ $fail = 0 ] && echo "cache: ok"
exit $fail
