#!/bin/sh
# Runs every test: the Check unit suites, the golden CLI cases, the NumPy
# comparison.  Usage: tests/run_all.sh BUILD_DIR   (run from the project root)
set -u
B=${1:-build}
export UEAJ_ROOT=$(pwd)
export UEAJC="$(pwd)/$B/ueajc"
export UEAJ_CACHE="$(pwd)/$B/test-cache"
export CK_DEFAULT_TIMEOUT=120
fail=0
echo "== unit tests (Check)"
"$B/check_ueajc" || fail=1
echo "== golden cases (tests/cases, tests/errors)"
sh tests/run_golden.sh "$UEAJC" || fail=1
echo "== ueajc eval vs NumPy einsum"
if [ "${UEAJ_SANITIZE:-0}" = 1 ]; then
    /usr/bin/python3 tests/numpy_compare.py "$UEAJC" --count 40 || fail=1
else
    /usr/bin/python3 tests/numpy_compare.py "$UEAJC" || fail=1
fi
echo "== models/llama.ue vs float64 NumPy reference"
/usr/bin/python3 tests/llama_check.py "$UEAJC" || fail=1
[ $fail = 0 ] && echo "ALL TESTS PASSED" || echo "SOME TESTS FAILED"
exit $fail
