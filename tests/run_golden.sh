#!/bin/sh
# run_golden.sh - golden CLI tests: input files that carry their expectations.
#
#   sh tests/run_golden.sh PATH_TO_UEAJC [CASE...]     (from the project root)
#   UPDATE=1 sh tests/run_golden.sh PATH_TO_UEAJC ...  rewrite the expected blocks
#
# Cases (default: all of them):
#   tests/cases/*.t, tests/errors/*.t
#       line 1: `# args: ARGS...`  the ueajc arguments, shell-quoted;
#               $DIR is the .t file's directory, $FILE the file itself,
#               $OUT an empty scratch directory (fresh for every case)
#       then blocks, each a marker line followed by its lines, verbatim,
#       up to the next marker or the end of the file:
#           # >>> stdout      expected stdout (no block: stdout not checked)
#           # >>> stderr      expected stderr (no block: must be empty)
#           # >>> exit N      expected exit status (default 0 in cases/,
#                             1 in errors/)
#           # >>> absent      paths that must not exist after the run
#           # >>> exists      paths that must exist after the run
#   tests/cases/*.ue, tests/errors/*.ue
#       a model file; its trailing comment lines hold the same `# args:`
#       line (default: --emit=ast $FILE) and blocks, each expected line
#       written as a comment ("# " + line, or "#" for an empty line).
#
# Every case runs from the project root with --color=never (inserted right
# after `eval` when the arguments start with it, first for the compiler's
# own forms, not at all for run/bench/tokenize/convert/inspect/cache, whose output is
# never coloured into a file), so
# paths in messages are relative and stable.  The scratch directory's real
# name is replaced by the text $OUT in the actual output.  A mismatch prints
# a unified diff; the last line is `golden: N passed, M failed`, and the
# exit status is non-zero when a case failed.
#
# UPDATE=1 rewrites every case's blocks from what ueajc printed (the
# stdout block only where one exists; a stderr or exit block is added when
# needed); each file is replaced atomically (written aside, then renamed).
# POSIX sh only (dash), plus awk, diff -u, sed, mktemp.
# DIR, FILE, OUT and path are set here and used through eval:
# shellcheck disable=SC2016,SC2034,SC2154
set -u

if [ $# -lt 1 ]; then
    echo "usage: sh tests/run_golden.sh PATH_TO_UEAJC [CASE...]" >&2
    exit 2
fi
UEAJC=$1
shift
case $UEAJC in
    /*) ;;
    *) UEAJC=$(pwd)/$UEAJC ;;
esac
if [ ! -x "$UEAJC" ]; then
    echo "run_golden.sh: $UEAJC: not an executable" >&2
    exit 2
fi
UPDATE=${UPDATE:-0}

T=$(mktemp -d "${TMPDIR:-/tmp}/ueaj-golden.XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT
trap 'rm -rf "$T"; exit 130' INT TERM
# $T in a sed pattern: escape what a basic regex would interpret
T_RE=$(printf '%s\n' "$T/out" | sed 's/[].[*^$\\|/]/\\&/g')

TAB=$(printf '\t')
TIMEOUT=
if command -v timeout >/dev/null 2>&1; then TIMEOUT="timeout 120"; fi

npass=0
nfail=0

# split_case FILE IS_UE DIR: writes DIR/args (the raw args text), DIR/body
# (.ue: the model text before the trailer), DIR/order (block names in
# order), DIR/expected/NAME per block, DIR/exitval; DIR/bad on a format
# error (with the reason).
split_case() {
    awk -v ue="$2" -v d="$3" '
    function bad(msg) { if (!isbad) print FILENAME ":" NR ": " msg > (d "/bad"); isbad = 1 }
    BEGIN { trailer = (ue == 0); block = ""; isbad = 0; nblk = 0 }
    {
        line = $0
        if (ue && !trailer && (line ~ /^# args:/ || line ~ /^# >>> /)) trailer = 1
        if (!trailer) { print line > (d "/body"); next }
        if (block == "" && line ~ /^# args:/) {
            if (hasargs) bad("second # args: line")
            hasargs = 1
            a = substr(line, 8); sub(/^[ \t]+/, "", a)
            print a > (d "/args")
            next
        }
        if (line ~ /^# >>> /) {
            n = split(substr(line, 7), w, " ")
            block = w[1]
            if (block !~ /^(stdout|stderr|exit|absent|exists)$/) { bad("unknown block \"" block "\""); next }
            if (seen[block]++) bad("block \"" block "\" appears twice")
            print block > (d "/order")
            if (block == "exit") {
                if (n != 2 || w[2] !~ /^[0-9]+$/) bad("expected \"# >>> exit N\"")
                print w[2] > (d "/exitval")
            } else {
                printf "" > (d "/expected/" block)
            }
            next
        }
        if (ue) {
            if (line == "#") line = ""
            else if (substr(line, 1, 2) == "# ") line = substr(line, 3)
            else { bad("model text after the expectation trailer"); next }
        }
        if (block == "" || block == "exit") {
            if (line ~ /^[ \t]*$/) next
            bad("text outside a block: " line)
            next
        }
        print line > (d "/expected/" block)
    }
    END { if (!ue && !hasargs) bad("the first line must be \"# args: ...\"") }
    ' "$1"
}

# A word as the shell would need it quoted (for showing a failed command).
shquote() {
    case $1 in
        '' | *[!A-Za-z0-9_./=:,+-]*) printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")" ;;
        *) printf '%s' "$1" ;;
    esac
}

# The file with a final newline (an output without one cannot be written
# as lines).
ensure_nl() {
    if [ -s "$1" ] && [ -n "$(tail -c 1 "$1")" ]; then echo >> "$1"; fi
}

# emit_block NAME FILE IS_UE: a block marker and its lines, for UPDATE
emit_block() {
    echo "# >>> $1"
    if [ "$3" = 1 ]; then sed 's/^/# /; s/^# $/#/' "$2"; else cat "$2"; fi
}

run_case() {
    f=$1
    W=$T/w
    rm -rf "$W" "$T/out"
    mkdir -p "$W/expected" "$W/actual" "$T/out"
    DIR=$(dirname "$f")
    FILE=$f
    OUT=$T/out
    is_ue=0
    case $f in *.ue) is_ue=1 ;; esac
    def_exit=0
    case $DIR in */errors|errors) def_exit=1 ;; esac

    split_case "$f" "$is_ue" "$W"
    if [ -f "$W/bad" ]; then
        echo "FAIL $f: $(cat "$W/bad")"
        nfail=$((nfail + 1))
        return
    fi
    if [ -f "$W/args" ]; then args=$(cat "$W/args"); else args='--emit=ast "$FILE"'; fi
    # the arguments are shell words: let the shell split and expand them
    # (first in a subshell: a syntax error would end this shell)
    if ! (eval "set -- $args") 2>"$W/argerr" || ! eval "set -- $args" 2>"$W/argerr"; then
        echo "FAIL $f: cannot parse the arguments: $(cat "$W/argerr")"
        nfail=$((nfail + 1))
        return
    fi
    case ${1:-} in
        eval) shift; set -- eval --color=never "$@" ;;
        run|bench|tokenize|convert|inspect|cache) ;;  # own options; no colour when stderr is a file
        *) set -- --color=never "$@" ;;
    esac
    $TIMEOUT "$UEAJC" "$@" > "$W/actual/stdout.raw" 2> "$W/actual/stderr.raw" < /dev/null
    rc=$?
    for s in stdout stderr; do
        sed "s/$T_RE/\$OUT/g" "$W/actual/$s.raw" > "$W/actual/$s"
        ensure_nl "$W/actual/$s"
    done
    [ -f "$W/expected/stderr" ] || : > "$W/expected/stderr"
    want_exit=$def_exit
    [ -f "$W/exitval" ] && want_exit=$(cat "$W/exitval")

    ok=1
    msgs=
    for s in stdout stderr; do
        [ -f "$W/expected/$s" ] || continue
        if ! (cd "$W" && diff -u "expected/$s" "actual/$s") > "$W/diff.$s"; then
            ok=0
            # drop the timestamps from the two header lines
            sed "1,2s/$TAB.*//" "$W/diff.$s" > "$W/diff.tmp" && mv "$W/diff.tmp" "$W/diff.$s"
        fi
    done
    if [ "$rc" -ne "$want_exit" ]; then
        ok=0
        msgs="$msgs
    exit status $rc, expected $want_exit"
    fi
    for kind in absent exists; do
        [ -f "$W/expected/$kind" ] || continue
        while IFS= read -r p; do
            [ -n "$p" ] || continue
            eval "path=\"$p\""
            if [ $kind = absent ] && [ -e "$path" ]; then
                ok=0
                msgs="$msgs
    $p exists after the run, but must not"
            elif [ $kind = exists ] && [ ! -e "$path" ]; then
                ok=0
                msgs="$msgs
    $p does not exist after the run"
            fi
        done < "$W/expected/$kind"
    done

    if [ "$UPDATE" = 1 ]; then
        update_case "$f" "$is_ue" "$rc" "$def_exit"
        return
    fi
    if [ $ok = 1 ]; then
        npass=$((npass + 1))
        return
    fi
    nfail=$((nfail + 1))
    echo "FAIL $f"
    printf '    ueajc'
    for a in "$@"; do printf ' %s' "$(shquote "$a")"; done
    echo
    [ -n "$msgs" ] && printf '%s\n' "$msgs" | sed '1d'
    for s in stdout stderr; do
        [ -s "$W/diff.$s" ] && cat "$W/diff.$s"
    done
}

update_case() {
    f=$1
    new=$f.update.$$
    {
        if [ "$2" = 1 ]; then
            [ -f "$W/body" ] && cat "$W/body"
            [ -f "$W/args" ] && echo "# args: $(cat "$W/args")"
        else
            echo "# args: $(cat "$W/args")"
        fi
        has_err=0
        has_exit=0
        if [ -f "$W/order" ]; then
            while read -r b; do
                case $b in
                    stdout|stderr) emit_block "$b" "$W/actual/$b" "$2" ;;
                    exit) echo "# >>> exit $3" ;;
                    *) emit_block "$b" "$W/expected/$b" "$2" ;;
                esac
                [ "$b" = stderr ] && has_err=1
                [ "$b" = exit ] && has_exit=1
            done < "$W/order"
        fi
        if [ $has_err = 0 ] && [ -s "$W/actual/stderr" ]; then emit_block stderr "$W/actual/stderr" "$2"; fi
        if [ $has_exit = 0 ] && [ "$3" -ne "$4" ]; then echo "# >>> exit $3"; fi
    } > "$new" && mv "$new" "$f"
    echo "updated $f"
    npass=$((npass + 1))
}

if [ $# -gt 0 ]; then
    for f in "$@"; do run_case "$f"; done
else
    for f in tests/cases/*.t tests/cases/*.ue tests/errors/*.t tests/errors/*.ue; do
        [ -e "$f" ] || continue
        run_case "$f"
    done
fi

echo "golden: $npass passed, $nfail failed"
[ $nfail = 0 ]
