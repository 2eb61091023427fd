#!/bin/sh
# differential.sh - the package turns the running old build into the new
# one: for every fixture with a driver (fixtures/NN-*/driver.c), a live
# process of the old build, patched, answers as the new build does, and
# after --revert as the old build does again.
#
#   sh tests/e2e/differential.sh BUILD_DIR [FIXTURE...]
#
# For each fixture and compiler (gcc, clang): compile old.c and new.c as
# fixtures.sh does, link the driver (driver.c with fixtures/driver.h: one
# round of fixed calls and their answers per line read from standard
# input) with old.o and with new.o, and run each for three rounds: the
# reference outputs.  Build the package (hpbuild old.o new.o), start the
# old program reading a FIFO, and:
#   round 1 (unpatched)            must equal the old program's round 1;
#   hpapply -p PID PKG, round 2    must equal the new program's round 2;
#   hpapply -p PID --revert, round 3 must equal the old program's round 3;
# then end of input: the program must exit 0 (not die of a signal).
# Rounds carry state (counters): the new program's round 2 follows its
# own round 1, which changes the state as the old one does.
# The fixture's file 'hpbuild-options' (one line) gives hpbuild options
# (23-line-shift: --include-line-only, so that __LINE__ moves too).
# A fixture may instead be refused: its file 'refuse-ok' lists the rules
# (HP005 ...) whose refusal is a right answer (issue 11 lets some cases be
# either implemented or refused).  "nothing to patch" is right only when
# the old and new programs answer alike.
#
# Every wait is for the event itself (the line "end N" in the output, the
# process gone), bounded only to end a hung run (lib/wait.sh, WAIT_LIMIT).  Every process it
# starts is killed on exit (trap).  Skips, with a message, where ptrace is
# not permitted.  Prints "PASS ..."/"FAIL ...: why"/"PENDING ..." per case
# and "differential: N passed, M failed, K pending" last; exit 1 if a case
# failed, 2 on a usage error.
#
# Environment: GCC, CLANG, FIXTURE_COMPILERS (default "gcc clang"),
# DIFFERENTIAL_VERBOSE=1 (show each program's output on a failure).

set -u

usage() {
	echo "usage: sh tests/e2e/differential.sh BUILD_DIR [FIXTURE...]" >&2
	exit 2
}

[ $# -ge 1 ] || usage
. "$(dirname "$0")/lib/fixture.sh"
. "$(dirname "$0")/lib/wait.sh"
need_tools differential.sh "$1" hpbuild hpapply
shift
hpbuild=$build_dir/hpbuild
hpapply=$build_dir/hpapply

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hpdifferential.XXXXXX") || exit 2
pid=
cleanup() {
	exec 3>&- 2>/dev/null
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

list=$tmp/list
fixture_list differential.sh driver.c "$list" "$@"

# Cases the tools get wrong today; the fixture is the right answer
# (lib/fixture.sh, "cases known to be wrong today").  FIXTURE[:CC] REASON.
PENDING='
'

# round_over OUT N: OUT has the line "end N", or the process has ended.
round_over() {
	grep -qx "end $2" "$1" 2>/dev/null || ! kill -0 "$pid" 2>/dev/null
}

# wait_round OUT N: until OUT has the line "end N" (lib/wait.sh's bound
# ends a hung run); false if the process ended first.
wait_round() {
	wait_until round_over "$1" "$2"
	grep -qx "end $2" "$1" 2>/dev/null
}

# round FILE N: the lines of round N in a driver's output.
round() {
	awk -v n="$2" '$0 == "end " n { exit } $0 ~ /^end [0-9]+$/ { seen = $2; next } seen == n - 1 || n == 1 && !seen' "$1"
}

# same_round LIVE REF N: round N of LIVE equals round N of REF (non-empty).
same_round() {
	round "$1" "$3" >"$tmp/a"
	round "$2" "$3" >"$tmp/b"
	[ -s "$tmp/b" ] && cmp -s "$tmp/a" "$tmp/b"
}

# first_diff LIVE REF N: "got LINE, want LINE" for the first difference.
first_diff() {
	round "$1" "$3" >"$tmp/a"
	round "$2" "$3" >"$tmp/b"
	awk 'NR == FNR { a[FNR] = $0; na = FNR; next } { b[FNR] = $0; nb = FNR }
	END { n = na > nb ? na : nb; for (i = 1; i <= n; i++) if (a[i] != b[i]) {
		printf "got \"%s\", want \"%s\"", a[i], b[i]; exit } }' "$tmp/a" "$tmp/b"
}

# tool OUT CMD...: run with a time limit; sets rc.
tool() {
	t_out=$1
	shift
	timeout 60 "$@" >"$t_out" 2>&1
	rc=$?
}

# build_programs DIR CC W: W/old.o, W/new.o (compile_fixture), the driver
# linked with each (W/prog-old, W/prog-new) and their three-round
# reference outputs (W/ref-old, W/ref-new); sets verdict on failure.
build_programs() {
	bp_dir=$1 bp_cc=$(compiler_cmd "$2") bp_w=$3
	if ! compile_fixture "$bp_dir" "$2" "$bp_w"; then
		verdict="$cf_failed.c does not compile: $(head -n 1 "$bp_w/cc.log")"
		return 1
	fi
	if ! $bp_cc -O2 -g -I"$fixdir" -c "$bp_dir/driver.c" -o "$bp_w/driver.o" >"$bp_w/cc.log" 2>&1; then
		verdict="driver.c does not compile: $(head -n 1 "$bp_w/cc.log")"
		return 1
	fi
	for v in old new; do
		if ! $bp_cc -o "$bp_w/prog-$v" "$bp_w/driver.o" "$bp_w/$v.o" >"$bp_w/cc.log" 2>&1; then
			verdict="linking the driver with $v.o: $(head -n 1 "$bp_w/cc.log")"
			return 1
		fi
		printf 'go\ngo\ngo\n' | timeout "$wait_limit" "$bp_w/prog-$v" >"$bp_w/ref-$v" 2>&1
		bp_rc=$?
		if [ $bp_rc -ne 0 ] || ! grep -qx 'end 3' "$bp_w/ref-$v"; then
			verdict="the $v program alone: exit $bp_rc after $(grep -c '^end ' "$bp_w/ref-$v") rounds"
			return 1
		fi
	done
	return 0
}

# refusal_ok DIR W: hpbuild's error findings (W/build.out) are all rules
# the fixture's refuse-ok file names.
refusal_ok() {
	[ -f "$1/refuse-ok" ] || return 1
	ro_rules=$(sed -n 's/^.*: error \(HP[0-9]*\)[ :].*$/\1/p' "$2/build.out" | sort -u)
	[ -n "$ro_rules" ] || return 1
	for r in $ro_rules; do
		sed 's/#.*//' "$1/refuse-ok" | grep -qw "$r" || return 1
	done
	return 0
}

# live W: start W/prog-old, run the three rounds with apply and revert;
# sets verdict.
live() {
	lv_w=$1
	rm -f "$lv_w/fifo"
	mkfifo "$lv_w/fifo" || { verdict="mkfifo failed"; return; }
	"$lv_w/prog-old" <"$lv_w/fifo" >"$lv_w/live" 2>&1 &
	pid=$!
	exec 3>"$lv_w/fifo"
	echo go >&3
	if ! wait_round "$lv_w/live" 1; then
		verdict="the old program did not answer round 1"
	elif ! same_round "$lv_w/live" "$lv_w/ref-old" 1; then
		verdict="round 1 (not patched yet) differs from the old program: $(first_diff "$lv_w/live" "$lv_w/ref-old" 1)"
	else
		tool "$lv_w/apply.out" "$hpapply" -p "$pid" "$lv_w/p.hpk"
		if [ $rc -ne 0 ]; then
			if grep -q 'not permitted' "$lv_w/apply.out"; then
				verdict=SKIP
			else
				verdict="hpapply exit $rc: $(head -n 1 "$lv_w/apply.out")"
			fi
		else
			echo go >&3
			if ! wait_round "$lv_w/live" 2; then
				how_gone
				verdict="after hpapply the process did not answer round 2$gone"
			elif ! same_round "$lv_w/live" "$lv_w/ref-new" 2; then
				verdict="after hpapply, round 2 differs from the new program: $(first_diff "$lv_w/live" "$lv_w/ref-new" 2)"
			else
				tool "$lv_w/revert.out" "$hpapply" -p "$pid" --revert
				if [ $rc -ne 0 ]; then
					verdict="hpapply --revert exit $rc: $(head -n 1 "$lv_w/revert.out")"
				else
					echo go >&3
					if ! wait_round "$lv_w/live" 3; then
						how_gone
						verdict="after --revert the process did not answer round 3$gone"
					elif ! same_round "$lv_w/live" "$lv_w/ref-old" 3; then
						verdict="after --revert, round 3 differs from the old program: $(first_diff "$lv_w/live" "$lv_w/ref-old" 3)"
					fi
				fi
			fi
		fi
	fi
	exec 3>&-
	# end of input: the driver exits; a kill ends a process that does not
	lv_rc=0
	if [ -n "$pid" ]; then
		wait_gone "$pid"
		lv_rc=$?
		pid=
	fi
	if [ -z "$verdict" ]; then
		if [ $lv_rc -eq 0 ]; then
			verdict=PASS
		else
			verdict="the patched process ended with status $lv_rc"
		fi
	fi
}

# how_gone: sets gone to ": it died of signal N" when the process has
# ended (and reaps it), else to "".
how_gone() {
	gone=
	kill -0 "$pid" 2>/dev/null && return
	wait "$pid"
	hg_rc=$?
	if [ $hg_rc -gt 128 ]; then gone=": it died of signal $((hg_rc - 128))"; else gone=": it exited with status $hg_rc"; fi
	pid=
}

# wait_gone PID: its exit status once it has ended (killed when it does
# not end within lib/wait.sh's bound).
wait_gone() {
	wait_until not_alive "$1"
	kill -9 "$1" 2>/dev/null
	wait "$1"
}

not_alive() {
	! kill -0 "$1" 2>/dev/null
}

run_case() {
	dir=$1 cc=$2
	w=$tmp/case
	rm -rf "$w"
	mkdir -p "$w"
	verdict=
	build_programs "$dir" "$cc" "$w" || return
	opts=
	[ -f "$dir/hpbuild-options" ] && opts=$(first_line "$dir/hpbuild-options")
	# shellcheck disable=SC2086
	tool "$w/build.out" "$hpbuild" $opts -o "$w/p.hpk" "$w/old.o" "$w/new.o"
	if [ $rc -eq 1 ] && grep -q 'nothing to patch' "$w/build.out"; then
		if cmp -s "$w/ref-old" "$w/ref-new"; then
			verdict=PASS
		else
			verdict="hpbuild: nothing to patch, but the new program answers differently: $(first_diff "$w/ref-old" "$w/ref-new" 1)"
		fi
		return
	fi
	if [ $rc -ne 0 ]; then
		if [ $rc -eq 1 ] && refusal_ok "$dir" "$w"; then
			verdict=PASS
		else
			verdict="hpbuild exit $rc: $(grep -m 1 'error\|hpbuild:' "$w/build.out")"
		fi
		return
	fi
	live "$w"
	if [ "$verdict" = PASS ] && cmp -s "$w/ref-old" "$w/ref-new"; then
		verdict="the driver does not tell the old program from the new one, yet hpbuild wrote a package"
	fi
	if [ "$verdict" != PASS ] && [ "$verdict" != SKIP ] && [ "${DIFFERENTIAL_VERBOSE:-0}" = 1 ]; then
		for f in build.out apply.out revert.out live ref-old ref-new; do
			[ -f "$w/$f" ] && sed "s|^|  [$f] |" "$w/$f" >&2
		done
	fi
}

: >"$tmp/results"
while IFS= read -r dir; do
	base=$(basename "$dir")
	for cc in $compilers; do
		run_case "$dir" "$cc"
		if [ "$verdict" = SKIP ]; then
			echo "differential.sh: skipped: ptrace is not permitted here ($(head -n 1 "$w/apply.out"));" \
			     "run as root, or set /proc/sys/kernel/yama/ptrace_scope to 0"
			echo "differential: 0 passed, 0 failed, 0 pending"
			exit 0
		fi
		case_line "fixtures/$base $cc" "$base" "$cc" "$verdict" | tee -a "$tmp/results"
	done
done <"$list"

summary differential "$tmp/results"
