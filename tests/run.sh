#!/bin/sh
# run.sh - run every test: the cmocka unit tests (build/check/tests/test_*)
# and the end-to-end suites (tests/e2e/*.sh), each given the build directory.
# Prints one line per suite and a closing "check: N passed, M failed".
set -u
BUILD=${BUILD:-build/check}
export BUILD
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LC_ALL=C
pass=0
fail=0
failed=""
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

run_suite() { # name, command...
	name=$1
	shift
	if "$@" >"$log/out" 2>&1; then
		pass=$((pass + 1))
		tail -n 1 "$log/out" | sed "s|^|ok   $name: |"
	else
		fail=$((fail + 1))
		failed="$failed $name"
		echo "FAIL $name:"
		tail -n 40 "$log/out" | sed 's/^/    /'
	fi
}

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	run_suite "unit/$(basename "$t")" "$t"
done
for s in tests/e2e/*.sh; do
	[ -f "$s" ] || continue
	run_suite "e2e/$(basename "$s" .sh)" sh "$s" "$BUILD"
done
[ -n "$failed" ] && echo "failed suites:$failed"
echo "check: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
