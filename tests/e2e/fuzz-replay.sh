#!/bin/sh
# fuzz-replay.sh - replay the saved fuzz inputs (fuzz/corpus/T, and the
# reproducers of crashes found and fixed, fuzz/crashes/T) through the fuzz
# targets' entry points, built against BUILD_DIR's libraries with gcc and
# the same sanitizers (fuzz/replay_main.c stands in for libFuzzer).
#
#   sh tests/e2e/fuzz-replay.sh BUILD_DIR [TARGET...]
#
# A target fails when its replay exits non-zero, runs over 120 s or prints
# a sanitizer report or a broken error line (fuzz/fuzz_check.h).  Targets
# whose code is not in the tree yet are listed as SKIP.  Prints PASS/FAIL
# lines and "fuzz-replay: N passed, M failed"; exit 1 on a failure, 2 on a
# usage error.  The replay binaries stay in BUILD_DIR/fuzz-replay/ to rerun
# a failing input by hand: BUILD_DIR/fuzz-replay/T FILE.
set -u
[ $# -ge 1 ] || { echo "usage: sh tests/e2e/fuzz-replay.sh BUILD_DIR [TARGET...]" >&2; exit 2; }
build=$1
shift
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
cd "$(dirname "$0")/../.." || exit 2
. fuzz/targets.sh

if [ ! -f "$build/libhp.a" ]; then
	echo "fuzz-replay.sh: $build/libhp.a: not built (run make check)" >&2
	exit 2
fi
# the check build has ASan + UBSan: the replay must link the same runtime
san=
if nm "$build/libhp.a" 2>/dev/null | grep -q __asan_; then
	san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
fi
flags="-std=gnu11 -g -O1 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -Wall -Wextra -Werror
 -Wno-unused-parameter -Wshadow -Wformat=2 -Ilib -I/usr/include/libdwarf -Ihpdiff -Ihpbuild
 -Ihpverify -Ihpapply -Ifuzz"
out=$build/fuzz-replay
mkdir -p "$out" || exit 2
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0
failed=0
# shellcheck disable=SC2048,SC2086
for t in ${*:-$FUZZ_TARGETS}; do
	missing=$(target_missing "$t")
	if [ -n "$missing" ]; then
		echo "SKIP $t: $missing not in the tree yet"
		continue
	fi
	libs=
	for e in $(target_engines "$t"); do
		libs="$libs $build/lib$e.a"
	done
	# shellcheck disable=SC2086
	if ! gcc $flags $san -o "$out/$t" "fuzz/$t.c" fuzz/replay_main.c \
		$libs "$build/libhp.a" $FUZZ_SYSLIBS >"$out/$t.build" 2>&1; then
		echo "FAIL $t: replay driver does not build: $(grep -m 1 -E 'error|undefined' "$out/$t.build")"
		failed=$((failed + 1))
		continue
	fi
	set -- "fuzz/corpus/$t"
	[ -d "fuzz/crashes/$t" ] && set -- "$@" "fuzz/crashes/$t"
	[ -d "fuzz/corpus/$t" ] || { echo "FAIL $t: no corpus fuzz/corpus/$t"; failed=$((failed + 1)); continue; }
	timeout 120 "$out/$t" "$@" >"$out/$t.out" 2>"$out/$t.err"
	rc=$?
	# the input being replayed is named on stderr just before a report
	last=$(grep '^replay: ' "$out/$t.err" | tail -n 1 | sed 's/^replay: //')
	report=$(grep -m 1 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:|^fuzz: ' "$out/$t.err")
	if [ $rc -eq 0 ] && [ -z "$report" ]; then
		echo "PASS $t: $(cat "$out/$t.out")"
		passed=$((passed + 1))
	elif [ $rc -eq 124 ]; then
		echo "FAIL $t: over 120 s, at $last"
		failed=$((failed + 1))
	else
		echo "FAIL $t: exit $rc at $last: ${report:-$(tail -n 1 "$out/$t.err")}"
		echo "    rerun: $out/$t $last"
		failed=$((failed + 1))
	fi
done
echo "fuzz-replay: $passed passed, $failed failed"
[ $failed -eq 0 ]
