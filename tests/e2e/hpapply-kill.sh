#!/bin/sh
# hpapply-kill.sh - hpapply killed (SIGKILL) at each step of its run never
# harms the process it patches, and a later run always brings the process
# to a clean state.
#
#   sh tests/e2e/hpapply-kill.sh BUILD_DIR [MAX_STEPS [STRIDE]]
#
# The program: tests/e2e/hpapply/threads.c with body/old.c, four threads
# calling compute() and checking every answer (old or new, nothing else);
# the package: body/old.c -> body/new.c.  hpapply's test hook
# HPAPPLY_TEST_KILL_AT=N makes it send itself SIGKILL before its Nth
# ptrace request or write to the process's memory (every point where what
# it does to the process can be cut short).  For N = 1, 2, ... (every
# STRIDE-th N, see below) until a run is not killed (it has fewer steps),
# or MAX_STEPS (default 400):
#   apply killed at step N; then the process must be alive and `--list`
#   read it; an entry left pending or reverting must make `--revert`
#   refuse naming `--repair`, and `--repair` must leave no such entry; a
#   `--revert` (when the package is listed) must exit 0;
# and the same for a `--revert` killed at step N (the package applied
# before each, again after repair when it was rolled back), and for a
# cumulative package B applied over A (tests/e2e/hpapply/cumulative):
# after the repair exactly one of A and B is applied, and some runs must
# have been rolled back with A's jumps put back.  Also: a
# second hpapply on a process one is working on (stopped with the hook
# HPAPPLY_TEST_STOP_AT) says so and exits 2, `--list` names it.  At the
# end: the process alive, no wrong answer ever, only old answers after
# the last revert, no hpapply mapping left.  Every wait waits for an event
# (a line of output, a process state) with a bound that only ends a hung
# run.  Prints "hpapply-kill: N passed, M failed" last; skips (with a
# message) only when ptrace is not permitted here.

set -u

[ $# -ge 1 ] && [ $# -le 3 ] || { echo "usage: sh tests/e2e/hpapply-kill.sh BUILD_DIR [MAX_STEPS [STRIDE]]" >&2; exit 2; }
max=${2:-400}
. "$(dirname "$0")/lib/fixture.sh"
. "$(dirname "$0")/lib/wait.sh"
need_tools hpapply-kill.sh "$1" hpapply hpbuild
hpapply=$build_dir/hpapply
# apply is killed at every step, revert and the cumulative apply at every
# STRIDE-th (default 3).  Under the sanitizers (make check) each run costs
# about four times as much: apply at every 3rd step, the others at every
# 6th, so that the suite stays near two minutes on a busy two-core
# machine.  STRIDE 1 tests every step of all three.
if grep -q __asan_init "$hpapply" 2>/dev/null; then
	apply_stride=3
	stride=${3:-6}
else
	apply_stride=1
	stride=${3:-3}
fi
[ "${3:-}" = 1 ] && apply_stride=1
src=$root/tests/e2e/hpapply
cflags=$default_flags

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hpapply-kill.XXXXXX") || exit 2
pid=""
holder=""
cleanup() {
	[ -n "$holder" ] && kill -9 "$holder" 2>/dev/null
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "PASS $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
finish() {
	echo "hpapply-kill: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit $?
}

mkdir -p "$tmp/old" "$tmp/new"
cp "$src/body/old.c" "$tmp/old/unit.c"
cp "$src/body/new.c" "$tmp/new/unit.c"
if ! (cd "$tmp/old" && gcc $cflags -c unit.c) >"$tmp/cc.out" 2>&1 ||
   ! (cd "$tmp/new" && gcc $cflags -c unit.c) >>"$tmp/cc.out" 2>&1 ||
   ! gcc $cflags -c "$src/threads.c" -o "$tmp/threads.o" >>"$tmp/cc.out" 2>&1 ||
   ! gcc -O2 -g -pthread -o "$tmp/prog" "$tmp/old/unit.o" "$tmp/threads.o" >>"$tmp/cc.out" 2>&1 ||
   ! "$build_dir/hpbuild" -q -o "$tmp/p.hpk" "$tmp/old/unit.o" "$tmp/new/unit.o" >>"$tmp/cc.out" 2>&1; then
	bad "building: $(head -c 400 "$tmp/cc.out")"
	finish
fi

# counts FIELD: the value of calls=/old=/new=/wrong= on the last line
counts() {
	tail -n 1 "$tmp/out" | tr ' ' '\n' | sed -n "s/^$1=//p"
}
lines() { if [ -f "$tmp/out" ]; then wc -l <"$tmp/out"; else echo 0; fi; }
more_lines_than() { [ "$(lines)" -gt "$1" ]; }
alive() { kill -0 "$pid" 2>/dev/null; }
# the mappings, without the ones whose size a running program changes
maps_now() { grep -v -e '\[heap\]' -e '\[stack\]' "/proc/$pid/maps" | wc -l; }
fds_now() { ls "/proc/$pid/fd" | wc -l; }
# note_leaks PHASE N: a run killed at step N that left memory mapped or a
# descriptor open (hpapply(1): a run killed between the system call that
# creates one and the journal write naming it) goes into leaks
leaks=""
note_leaks() {
	nl_m=$(maps_now)
	nl_f=$(fds_now)
	if [ "$nl_m" -gt "$maps_seen" ] || [ "$nl_f" -gt "$fds_seen" ]; then
		leaks="$leaks $1@$2(+$((nl_m - maps_seen))m,+$((nl_f - fds_seen))fd)"
		leak_points=$((leak_points + 1))
		[ $((nl_m - maps_seen)) -le 3 ] && [ $((nl_f - fds_seen)) -le 1 ] ||
			bad "$1 killed at step $2 left $((nl_m - maps_seen)) mappings and $((nl_f - fds_seen)) descriptors (at most one package's memory, or one descriptor)"
	fi
	maps_seen=$nl_m
	fds_seen=$nl_f
}

"$tmp/prog" 4 >"$tmp/out" 2>&1 &
pid=$!
wait_until more_lines_than 1 || { bad "the program printed nothing"; finish; }

"$hpapply" -n -p "$pid" "$tmp/p.hpk" >"$tmp/run.out" 2>&1
if [ $? -ne 0 ] && grep -q "not permitted" "$tmp/run.out"; then
	echo "hpapply-kill.sh: skipped: ptrace is not permitted here ($(cat "$tmp/run.out"));" \
	     "run as root, or set /proc/sys/kernel/yama/ptrace_scope to 0"
	finish
fi
maps_before=$(maps_now)
maps_seen=$maps_before
fds_seen=$(fds_now)
fds_before=$fds_seen
leak_points=0
cp "/proc/$pid/maps" "$tmp/maps.before"

# state: "applied", "none", or what went wrong (the list has an entry left
# unfinished, or cannot be read)
state() {
	if ! "$hpapply" -p "$pid" --list --json >"$tmp/list.json" 2>"$tmp/list.err"; then
		echo "list-failed: $(head -c 300 "$tmp/list.err")"
	elif grep -q -e '"pending"' -e '"reverting"' "$tmp/list.json"; then
		echo "unfinished: $(head -c 300 "$tmp/list.json")"
	elif grep -q '"applied"' "$tmp/list.json"; then
		echo applied
	else
		echo none
	fi
}

# recover WHAT N: after a run killed at step N, --list must read the
# process; an entry left pending or reverting must name --repair, which
# must bring the process to a clean state; echo it (applied/none) to
# $tmp/state, or fail
repairs=0
recover() {
	rs=$(state)
	# a record mapped but never written (killed right after mapping it)
	# lists nothing; --repair removes it
	if [ "$rs" = none ] && grep -q hpapply-record "/proc/$pid/maps"; then
		repairs=$((repairs + 1))
		"$hpapply" -q -p "$pid" --repair >"$tmp/repair.out" 2>&1 && ! grep -q hpapply-record "/proc/$pid/maps" ||
			rs="an empty record stays after --repair: $(head -c 300 "$tmp/repair.out")"
	fi
	case $rs in
	unfinished:*)
		repairs=$((repairs + 1))
		if ! "$hpapply" -q -p "$pid" --revert >"$tmp/repair.out" 2>&1 && grep -q -- "--repair" "$tmp/repair.out" &&
		   "$hpapply" -q -p "$pid" --repair >"$tmp/repair.out" 2>&1; then
			rs=$(state)
		else
			rs="--revert did not name --repair, or --repair failed: $(head -c 300 "$tmp/repair.out")"
		fi ;;
	esac
	case $rs in
	applied|none) ;;
	*) bad "$1 killed at step $2: $rs"; return 1 ;;
	esac
	alive || { bad "$1 killed at step $2: the process died in the repair"; return 1; }
	echo "$rs" >"$tmp/state"
}

# ---- apply, killed at every step ----
n=0
steps=""
failures=0
while [ $n -lt "$max" ]; do
	n=$((n + apply_stride))
	HPAPPLY_TEST_KILL_AT=$n "$hpapply" -q -p "$pid" "$tmp/p.hpk" >"$tmp/run.out" 2>&1
	st=$?
	if ! alive; then
		bad "apply killed at step $n: the process died: $(tail -n 3 "$tmp/out")"
		finish
	fi
	if [ $st -eq 0 ]; then
		steps=$((n - 1))
		maps_seen=$(maps_now)   # what this run mapped
		fds_seen=$(fds_now)
		break
	fi
	if [ $st -ne 137 ]; then
		failures=$((failures + 1))
		bad "apply with the hook at step $n exited $st, not killed: $(head -c 300 "$tmp/run.out")"
		break
	fi
	recover apply $n || { failures=$((failures + 1)); break; }
	if [ "$(cat "$tmp/state")" = applied ] &&
	   ! "$hpapply" -q -p "$pid" --revert >"$tmp/run.out" 2>&1; then
		failures=$((failures + 1))
		bad "apply killed at step $n, repaired, applied: --revert failed: $(head -c 300 "$tmp/run.out")"
		break
	fi
	note_leaks apply $n
done
# a hook that kills nothing would make this suite prove nothing
if [ -n "$steps" ] && [ "$steps" -lt 20 ]; then
	failures=$((failures + 1))
	bad "apply ran only $steps steps under the hook: is HPAPPLY_TEST_KILL_AT working?"
fi
if [ $failures -eq 0 ] && [ -n "$steps" ]; then
	ok "apply killed at every $apply_stride step(s) (it has $((steps + 1 - apply_stride)) to $steps): the process lived; left clean, or half done ($repairs times) and --repair made it clean"
	repairs=0
elif [ $failures -eq 0 ]; then
	ok "apply killed at every $apply_stride step(s) of its first $max: the process lived, --repair left it clean every time"
fi

# now applied (the run not killed): --revert, killed at every step
[ "$(state)" = applied ] || { bad "not applied after the apply runs: $(state)"; finish; }
n=0
steps=""
failures=0
while [ $n -lt "$max" ]; do
	n=$((n + stride))
	HPAPPLY_TEST_KILL_AT=$n "$hpapply" -q -p "$pid" --revert >"$tmp/run.out" 2>&1
	st=$?
	if ! alive; then
		bad "revert killed at step $n: the process died: $(tail -n 3 "$tmp/out")"
		finish
	fi
	if [ $st -eq 0 ]; then
		steps=$((n - 1))
		maps_seen=$(maps_now)   # what this run mapped
		fds_seen=$(fds_now)
		break
	fi
	if [ $st -ne 137 ]; then
		failures=$((failures + 1))
		bad "revert with the hook at step $n exited $st, not killed: $(head -c 300 "$tmp/run.out")"
		break
	fi
	recover revert $n || { failures=$((failures + 1)); break; }
	if [ "$(cat "$tmp/state")" = none ] &&
	   ! "$hpapply" -q -p "$pid" "$tmp/p.hpk" >"$tmp/run.out" 2>&1; then
		failures=$((failures + 1))
		bad "revert killed at step $n, repaired, reverted: apply failed: $(head -c 300 "$tmp/run.out")"
		break
	fi
	note_leaks revert $n
done
if [ -n "$steps" ] && [ "$steps" -lt 20 ]; then
	failures=$((failures + 1))
	bad "revert ran only $steps steps under the hook: is HPAPPLY_TEST_KILL_AT working?"
fi
if [ $failures -eq 0 ] && [ -n "$steps" ]; then
	ok "revert killed at every $stride steps (it has $((steps + 1 - stride)) to $steps): the process lived; left clean, or half done ($repairs times) and --repair made it clean"
elif [ $failures -eq 0 ]; then
	ok "revert killed at each of its first $max steps: the process lived, --repair left it clean every time"
fi

# ---- a cumulative apply (B replacing A), killed at every step ----
# tests/e2e/hpapply/cumulative: the program prints step() every 10 ms;
# after each killed run and its repair exactly one of A or B is applied
# (a rolled-back B leaves A with its jumps back), and the program says
# what one of them says
cdir=$tmp/cumul
mkdir -p "$cdir/old" "$cdir/a" "$cdir/b"
cp "$src/cumulative/old.c" "$cdir/old/unit.c"
cp "$src/cumulative/a.c" "$cdir/a/unit.c"
cp "$src/cumulative/b.c" "$cdir/b/unit.c"
if (cd "$cdir/old" && gcc $cflags -c unit.c) && (cd "$cdir/a" && gcc $cflags -c unit.c) &&
   (cd "$cdir/b" && gcc $cflags -c unit.c) && gcc $cflags -c "$src/main.c" -o "$cdir/main.o" &&
   gcc -O2 -g -o "$cdir/prog" "$cdir/old/unit.o" "$cdir/main.o" &&
   "$build_dir/hpbuild" -q -o "$cdir/a.hpk" "$cdir/old/unit.o" "$cdir/a/unit.o" &&
   "$build_dir/hpbuild" -q -o "$cdir/b.hpk" "$cdir/old/unit.o" "$cdir/b/unit.o"; then
	"$cdir/prog" >"$cdir/out" 2>&1 &
	cpid=$!
	c_lines() { if [ -f "$cdir/out" ]; then wc -l <"$cdir/out"; else echo 0; fi; }
	c_more() { [ "$(c_lines)" -gt "$1" ]; }
	# which: the ids --list shows, in one line
	which_pkgs() { "$hpapply" -p "$cpid" --list --json 2>&1 | sed -n 's/^ *"id": "\(.*\)",*$/\1/p' | tr '\n' ' '; }
	wait_until c_more 1
	"$hpapply" -q -p "$cpid" --json "$cdir/a.hpk" >"$cdir/a.json" 2>&1
	a_id=$(sed -n 's/^ *"package": "\(.*\)",*$/\1/p' "$cdir/a.json")
	n=0
	cfail=0
	csteps=""
	rollbacks=0
	while [ $n -lt "$max" ] && [ -n "$a_id" ]; do
		n=$((n + stride))
		HPAPPLY_TEST_KILL_AT=$n "$hpapply" -q -p "$cpid" "$cdir/b.hpk" >"$tmp/run.out" 2>&1
		st=$?
		kill -0 "$cpid" 2>/dev/null || { cfail=1; bad "cumulative: killed at step $n: the process died"; break; }
		"$hpapply" -p "$cpid" --repair --json >"$tmp/repair.out" 2>&1 ||
			{ cfail=1; bad "cumulative: killed at step $n: --repair: $(head -c 300 "$tmp/repair.out")"; break; }
		grep -q '"rolled_back": 1' "$tmp/repair.out" && rollbacks=$((rollbacks + 1))
		w=$(which_pkgs)
		if [ "$w" = "$a_id " ]; then
			:   # rolled back, or killed before anything: A is applied
		elif [ -n "$w" ] && [ "$w" != "$a_id " ] && [ "$(echo "$w" | wc -w)" -eq 1 ]; then
			# B applied: back to A for the next step
			"$hpapply" -q -p "$cpid" --revert >"$tmp/run.out" 2>&1 &&
				"$hpapply" -q -p "$cpid" "$cdir/a.hpk" >"$tmp/run.out" 2>&1 ||
				{ cfail=1; bad "cumulative: after step $n: back to A: $(head -c 300 "$tmp/run.out")"; break; }
		else
			cfail=1
			bad "cumulative: killed at step $n, repaired: applied '$w', not exactly one of A ($a_id) and B"
			break
		fi
		if [ $st -eq 0 ]; then
			csteps=$((n - 1))
			break
		fi
	done
	now=$(c_lines)
	wait_until c_more $((now + 1))
	if [ $cfail -eq 0 ] && [ -n "$csteps" ] && [ $rollbacks -gt 0 ] &&
	   ! grep -v -x -e 'size_ok=0 label=base' -e 'size_ok=1 label=base' -e 'size_ok=1 label=fix-b' "$cdir/out" | grep -q .; then
		ok "cumulative: B over A killed at every $stride steps (it has $((csteps + 1 - stride)) to $csteps): A or B applied after --repair ($rollbacks times B rolled back, A's jumps back), every answer one of theirs"
	elif [ $cfail -eq 0 ]; then
		bad "cumulative: steps '$csteps', $rollbacks rollbacks, answers: $(grep -v -x -e 'size_ok=0 label=base' -e 'size_ok=1 label=base' -e 'size_ok=1 label=fix-b' "$cdir/out" | head -3)"
	fi
	kill -9 "$cpid" 2>/dev/null
	wait "$cpid" 2>/dev/null
else
	bad "cumulative: building"
fi

# ---- one hpapply at a time ----
# the first stops itself (the hook) while it holds the process
stopped() { [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" = T ]; }
HPAPPLY_TEST_STOP_AT=3 "$hpapply" -q -p "$pid" "$tmp/p.hpk" >"$tmp/holder.out" 2>&1 &
holder=$!
if wait_until stopped "$holder"; then
	"$hpapply" -q -p "$pid" "$tmp/p.hpk" >"$tmp/second.out" 2>&1
	st=$?
	if [ $st -eq 2 ] && grep -q "another hpapply (pid $holder) is working on it" "$tmp/second.out"; then
		ok "a second hpapply says that another (pid $holder) is working on the process, exit 2"
	else
		bad "a second hpapply: exit $st: $(head -c 300 "$tmp/second.out")"
	fi
	"$hpapply" -p "$pid" --list >"$tmp/list.out" 2>&1
	if grep -q "hpapply (pid $holder) is working on it" "$tmp/list.out"; then
		ok "--list names the hpapply at work"
	else
		bad "--list while an hpapply works: $(head -c 300 "$tmp/list.out")"
	fi
	kill -CONT "$holder"
	wait "$holder"
	st=$?
	holder=""
	if [ $st -eq 0 ] && [ "$(state)" = applied ]; then
		ok "the first hpapply, continued, finished the apply"
	else
		bad "the first hpapply, continued: exit $st, state $(state): $(head -c 300 "$tmp/holder.out")"
	fi
else
	bad "hpapply with HPAPPLY_TEST_STOP_AT=3 did not stop"
fi

# ---- the end: reverted, alive, right answers, nothing left behind ----
[ "$(state)" = applied ] && "$hpapply" -q -p "$pid" --revert >"$tmp/run.out" 2>&1
if ! alive; then
	bad "the process died: $(tail -n 3 "$tmp/out")"
	finish
fi
ok "the process is alive"
# two new lines: every thread has had time to call compute() again
now=$(lines)
wait_until more_lines_than $((now + 1)) || bad "the program stopped printing"
new=$(counts new)
if [ "$(counts wrong)" = 0 ] && ! grep -q WRONG "$tmp/out"; then
	ok "no wrong answer in $(counts calls) calls ($(counts old) old, $new new)"
else
	bad "wrong answers: $(grep -m 3 WRONG "$tmp/out") ($(tail -n 1 "$tmp/out"))"
fi
now=$(lines)
wait_until more_lines_than $((now + 1)) || bad "the program stopped printing"
if [ "$(counts new)" = "$new" ] && [ "${new:-0}" -gt 0 ]; then
	ok "after the last revert only old answers come ($new new ones before)"
else
	bad "new answers after the last revert, or never any ($new -> $(counts new))"
fi
if grep -q hpapply-record "/proc/$pid/maps"; then
	bad "an hpapply mapping is left: $(grep hpapply-record "/proc/$pid/maps")"
else
	ok "no hpapply record left in the process"
fi
# what runs killed at a few steps may leave (hpapply(1) LIMITATIONS):
# never more than a handful of such steps per run
if [ $leak_points -le 6 ]; then
	ok "runs killed at $leak_points of the steps left unused memory or a descriptor:${leaks:- none}"
else
	bad "runs killed at $leak_points steps left memory or descriptors behind:$leaks"
fi
finish
