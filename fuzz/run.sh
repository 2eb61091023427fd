#!/bin/sh
# run.sh - build the libFuzzer targets (clang, ASan + UBSan + coverage) in
# build/fuzz/ and run each one for a set time; `make fuzz` runs
# `sh fuzz/run.sh ${FUZZ_SECONDS:-600}`.
#
#   sh fuzz/run.sh SECONDS [TARGET...]   build, then fuzz each target SECONDS
#   sh fuzz/run.sh --build [TARGET...]   build only
#   sh fuzz/run.sh --merge [TARGET...]   minimize fuzz/corpus/T with what the
#                                        runs found (fuzz/merge.sh)
#
# TARGET defaults to every target whose code is in the tree (targets.sh).
# A run reads the committed corpus fuzz/corpus/T and the fixed crashes
# fuzz/crashes/T, and keeps what it finds in build/fuzz/corpus/T (not
# committed).  Crash, leak, timeout and sanitizer reproducers land in
# build/fuzz/artifacts/T/; the libFuzzer log in build/fuzz/logs/T.log.
# Prints one line per target and exits 1 if any target found something.
#
# Environment: FUZZ_NICE (default 10), FUZZ_TIMEOUT (seconds per input,
# default 10), FUZZ_RSS_MB (default 2048), FUZZ_ARGS (more libFuzzer flags).
set -u
cd "$(dirname "$0")/.." || exit 2
. fuzz/targets.sh

B=build/fuzz
INCS="-Ilib -I/usr/include/libdwarf -Ihpdiff -Ihpbuild -Ihpverify -Ihpapply -Ifuzz"
BASE="-std=gnu11 -g -O1 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -fno-omit-frame-pointer"
# FUZZ_UB_EXCEPT: sanitizer checks to leave out while a finding is open
# (e.g. -fno-sanitize=pointer-overflow); none by default.
UB_EXCEPT=${FUZZ_UB_EXCEPT:-}
SAN_LIB="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all $UB_EXCEPT"
SAN_BIN="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all $UB_EXCEPT"
MAX_LEN=65536

usage() {
	sed -n '6,8p' "$0" | sed 's/^# *//' >&2
	exit 2
}

# build_target T: the engines with the Makefile's own rules (CC=clang,
# build/fuzz), then T linked with libFuzzer's main.
build_target() {
	bt_libs=
	for e in $(target_engines "$1"); do
		bt_libs="$bt_libs $B/lib$e.a"
	done
	bt_libs="$bt_libs $B/libhp.a"
	# make does not rebuild on a change of flags: start over when they change
	mkdir -p $B
	if [ "$(cat $B/flags 2>/dev/null)" != "$SAN_LIB" ]; then
		rm -rf $B/obj $B/lib*.a
		echo "$SAN_LIB" >$B/flags
	fi
	# clang warns about things gcc does not: report, do not stop fuzzing
	# shellcheck disable=SC2086
	make -s --no-print-directory BUILD=$B CC=clang OPT=-O1 SAN="$SAN_LIB" \
		CFLAGS="-Wno-error" $bt_libs || return 1
	# shellcheck disable=SC2086
	clang $BASE $INCS $SAN_BIN -Wall -Wextra -Wno-unused-parameter \
		-o "$B/$1" "fuzz/$1.c" $bt_libs $FUZZ_SYSLIBS
}

# run_target T SECONDS: fuzz; prints a summary line, returns 1 on a finding.
run_target() {
	rt=$1 rt_secs=$2
	mkdir -p "$B/corpus/$rt" "$B/artifacts/$rt" "$B/logs" "fuzz/corpus/$rt"
	set -- "$B/corpus/$rt" "fuzz/corpus/$rt"
	[ -d "fuzz/crashes/$rt" ] && set -- "$@" "fuzz/crashes/$rt"
	dict=$(target_dict "$rt")
	[ -n "$dict" ] && set -- -dict="$dict" "$@"
	start=$(date +%s)
	# shellcheck disable=SC2086
	nice -n "${FUZZ_NICE:-10}" "$B/$rt" -max_len=$MAX_LEN -timeout="${FUZZ_TIMEOUT:-10}" \
		-rss_limit_mb="${FUZZ_RSS_MB:-2048}" -max_total_time="$rt_secs" -print_final_stats=1 \
		-artifact_prefix="$B/artifacts/$rt/" ${FUZZ_ARGS:-} "$@" >"$B/logs/$rt.log" 2>&1
	rc=$?
	rt_took=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$B/logs/$rt.log" | tail -n 1)
	cov=$(grep -E '^#[0-9]+.*cov: ' "$B/logs/$rt.log" | tail -n 1 | sed 's/.*\(cov: [0-9]*\).*\(ft: [0-9]*\).*/\1 \2/')
	found=$(ls "$B/artifacts/$rt" 2>/dev/null | wc -l)
	if [ $rc -eq 0 ]; then
		echo "$rt: clean: ${rt_took}s, ${execs:-?} executions, ${cov:-no coverage line}, $(ls "$B/corpus/$rt" | wc -l) inputs in $B/corpus/$rt"
		return 0
	fi
	echo "$rt: FOUND (exit $rc) after ${rt_took}s, ${execs:-?} executions; $found artifact(s) in $B/artifacts/$rt/"
	grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error:|fuzz: )' "$B/logs/$rt.log" | head -n 3 | sed 's/^/    /'
	echo "    log: $B/logs/$rt.log; reproduce: $B/$rt ARTIFACT"
	return 1
}

mode=run
case ${1:-} in
--build) mode=build; shift ;;
--merge) mode=merge; shift ;;
''|-*) usage ;;
*)
	secs=$1
	shift
	# 0 would be "no limit" to libFuzzer
	case $secs in *[!0-9]*|0*) usage ;; esac
	;;
esac

targets=${*:-$FUZZ_TARGETS}
status=0
for t in $targets; do
	case " $FUZZ_TARGETS " in *" $t "*) ;; *)
		echo "run.sh: $t: no such target (targets: $FUZZ_TARGETS)" >&2
		exit 2 ;;
	esac
	missing=$(target_missing "$t")
	if [ -n "$missing" ]; then
		echo "$t: skipped: $missing not in the tree yet (fuzz/README.md, Missing targets)"
		continue
	fi
	if ! build_target "$t"; then
		echo "$t: BUILD FAILED"
		status=1
		continue
	fi
	case $mode in
	build) echo "$t: built $B/$t" ;;
	merge) sh fuzz/merge.sh "$t" || status=1 ;;
	run) run_target "$t" "$secs" || status=1 ;;
	esac
done
exit $status
