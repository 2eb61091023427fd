#!/bin/sh
# run.sh - run the tests: the cmocka unit tests ($BUILD/tests/test_*) and
# the end-to-end suites (tests/e2e/*.sh), in parallel.
#
#   sh tests/run.sh [-j JOBS] [SUITE...]
#
# SUITE is a suite's name as printed (e2e/fixtures, unit/test_hpk), its
# short form (fixtures, test_hpk), or "unit" / "e2e" for all of a kind;
# none means every suite.  JOBS defaults to the number of CPUs.
#
# Each suite runs in its own temporary directory ($BUILD/tmp/SUITE, its
# TMPDIR), and its whole output is kept in $BUILD/logs/SUITE.log.  A line
# per suite is printed as it ends; a failed suite's failing checks (its
# FAIL lines, cmocka's FAILED/ERROR lines) and the end of its log are
# printed, with the log's path.  The fixtures are compiled once, before
# the suites, into $BUILD/fixture-cache (tests/fixture-cache.sh).  Last comes "check: N passed, M failed".
# The longest suites start first ($BUILD/logs/durations remembers how long
# each took).  A suite that runs longer than SUITE_LIMIT seconds (default
# 1800) is hung: it is stopped and fails.
set -u
BUILD=${BUILD:-build/check}
export BUILD
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LC_ALL=C
logs=$BUILD/logs

# run_one SUITE: run it, log to $logs/SUITE.log, status to $logs/SUITE.rc
run_one() {
	name=$1
	file=$(echo "$name" | tr / _)
	case $name in
	unit/*) set -- "$BUILD/tests/${name#unit/}" ;;
	e2e/*) set -- sh "tests/e2e/${name#e2e/}.sh" "$BUILD" ;;
	esac
	tmp=$BUILD/tmp/$file
	rm -rf "$tmp"
	mkdir -p "$tmp"
	start=$(date +%s)
	TMPDIR=$(cd "$tmp" && pwd) timeout -k 10 "${SUITE_LIMIT:-1800}" "$@" >"$logs/$file.log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	[ $rc -eq 124 ] && echo "run.sh: $name stopped after ${SUITE_LIMIT:-1800} s (hung?)" >>"$logs/$file.log"
	echo "$rc $secs" >"$logs/$file.rc"
	[ $rc -eq 0 ] && rm -rf "$tmp"
	if [ $rc -eq 0 ]; then
		printf 'ok   %s: %s (%s s)\n' "$name" "$(tail -n 1 "$logs/$file.log")" "$secs"
	else
		printf 'FAIL %s (exit %s, %s s)\n' "$name" "$rc" "$secs"
	fi
}

# all_suites: every suite there is, one a line
all_suites() {
	for t in "$BUILD"/tests/test_*; do
		[ -x "$t" ] && echo "unit/$(basename "$t")"
	done
	for s in tests/e2e/*.sh; do
		[ -f "$s" ] && echo "e2e/$(basename "$s" .sh)"
	done
}

# pick WORD: the suites WORD names, or exit 2
pick() {
	case $1 in
	unit|e2e) all_suites | grep "^$1/" ;;
	*) all_suites | grep -x -e "$1" -e "unit/$1" -e "e2e/$1" ||
		{ echo "run.sh: no suite named '$1' (see: ls tests/e2e $BUILD/tests)" >&2; exit 2; } ;;
	esac
}

# by_duration: suites on stdin, longest (as last run) first; a suite never
# run counts as long, so that new and slow suites start early
by_duration() {
	while read -r s; do
		f=$(echo "$s" | tr / _)
		d=$(awk -v s="$s" '$1 == s { print $2 }' "$logs/durations" 2>/dev/null)
		echo "${d:-9999} $s"
	done | sort -k1,1nr -k2 | cut -d' ' -f2
}

# report SUITE: a failed suite's evidence
report() {
	f=$logs/$(echo "$1" | tr / _).log
	echo "FAIL $1: failing checks:"
	grep -E '^(FAIL|not ok)|\[  (FAILED|ERROR) +\]|ERROR: AddressSanitizer|runtime error:' "$f" |
		head -n 40 | sed 's/^/    /'
	echo "  last lines of the log:"
	tail -n 15 "$f" | sed 's/^/    /'
	echo "  whole log: $f"
}

if [ "${1:-}" = --one ]; then
	run_one "$2"
	exit 0
fi
jobs=$(nproc 2>/dev/null || echo 2)
if [ "${1:-}" = -j ]; then
	jobs=$2
	shift 2
fi
mkdir -p "$logs"
list=$logs/suites
if [ $# -eq 0 ]; then
	all_suites >"$list"
else
	: >"$list"
	for w in "$@"; do
		pick "$w" >>"$list" || exit 2
	done
fi
sort -u -o "$list" "$list"
for s in $(cat "$list"); do
	rm -f "$logs/$(echo "$s" | tr / _).rc"
done

# the fixtures, compiled once for the suites that compile them all
if grep -q -e fixtures -e package -e corrupt -e valgrind "$list"; then
	sh tests/fixture-cache.sh "$BUILD/fixture-cache" "$jobs" ||
		echo "run.sh: could not fill $BUILD/fixture-cache; the suites compile the fixtures themselves"
	FIXTURE_CACHE=$(cd "$BUILD/fixture-cache" 2>/dev/null && pwd)
	export FIXTURE_CACHE
fi
by_duration <"$list" | xargs -P "$jobs" -n 1 sh "$0" --one

pass=0
fail=0
failed=""
for s in $(cat "$list"); do
	f=$logs/$(echo "$s" | tr / _)
	read -r rc secs <"$f.rc" 2>/dev/null || { rc=125 secs=0; }
	if [ "$rc" -eq 0 ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		failed="$failed $s"
		report "$s"
	fi
	# remember how long each suite took, for the order of the next run
	{ grep -v "^$s " "$logs/durations" 2>/dev/null; echo "$s $secs"; } >"$logs/durations.new"
	mv "$logs/durations.new" "$logs/durations"
done
[ -n "$failed" ] && echo "failed suites:$failed (logs in $logs/)"
echo "check: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
