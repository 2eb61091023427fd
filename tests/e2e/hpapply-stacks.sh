#!/bin/sh
# hpapply-stacks.sh - hpapply's stack check (hpapply(1) CONSISTENCY) on
# running programs: stacks unwound with CFI, so stale words and data are
# not taken for frames, and frames are found across signal frames and
# alternate signal stacks.
#
#   sh tests/e2e/hpapply-stacks.sh BUILD_DIR
#
# The program is tests/e2e/hpapply/stacks/main.c linked with stacks/old.c
# (count_lower misses 'z': "lower=15"); the package fixes it ("lower=18").
# Built by gcc and by clang (-O2 -g), each case:
#   sleep     one thread calls count_lower every 2 ms and sleeps in
#             nanosleep, a stale return address into count_lower above its
#             stack pointer: applied and reverted at the first check
#             (--json "checks": 1, no stack scanned)
#   stale     the same with pointers into count_lower in a local array
#             (data, not frames): first check too
#   signal    count_lower raised a signal whose handler blocks: refused,
#             for a frame the unwinder found below the signal frame
#   altstack  the same with the handler on an alternate signal stack: the
#             unwinder goes on to the thread's own stack and finds it
#   nocfi     main.c built without any CFI, in stale mode: the stack past
#             the first frame of main.c cannot be unwound; hpapply scans it,
#             says so in "unwind_fallbacks", and the pointers in main's
#             array, taken for frames there, refuse; and in altstack
#             mode (the handler without CFI on the alternate stack), the
#             thread's own stack is scanned too, and reported
# Prints "PASS ..." / "FAIL ...: why" per check and "hpapply-stacks: N
# passed, M failed" last; exits 1 if any failed.  Every process it starts
# is killed on exit (trap).  Skips (with a message) only when ptrace is not
# permitted here.

set -u

[ $# -eq 1 ] || { echo "usage: sh tests/e2e/hpapply-stacks.sh BUILD_DIR" >&2; exit 2; }
. "$(dirname "$0")/lib/fixture.sh"
. "$(dirname "$0")/lib/wait.sh"
need_tools hpapply-stacks.sh "$1" hpapply hpbuild
hpapply=$build_dir/hpapply
hpbuild=$build_dir/hpbuild
src=$root/tests/e2e/hpapply/stacks
cflags=$default_flags

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hpapply-stacks.XXXXXX") || exit 2
pids=""
cleanup() {
	for p in $pids; do
		kill -9 "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "PASS $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

# last_matches FILE PATTERN: the last line of FILE matches the glob PATTERN
last_matches() {
	case $(tail -n 1 "$1" 2>/dev/null) in
	$2) return 0 ;;
	esac
	return 1
}

# wait_line FILE PATTERN: until it does, within lib/wait.sh's bound
wait_line() {
	wait_until last_matches "$1" "$2"
}

# start OUT MODE: the program in the background; sets $pid
start() {
	"$dir/prog" "$2" >"$1" 2>&1 &
	pid=$!
	pids="$pids $pid"
}

stop() {
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# hp WANT ARGS...: run hpapply --json (output in $tmp/run.out); true if it
# exits WANT; $said is its status and message for a failure report
hp() {
	h_want=$1
	shift
	"$hpapply" --json "$@" >"$tmp/run.out" 2>"$tmp/run.err"
	h_got=$?
	said="exit $h_got (expected $h_want), checks $(checks): $(head -c 300 "$tmp/run.err")"
	[ "$h_got" -eq "$h_want" ]
}

has() { grep -q -- "$1" "$tmp/run.out"; }

# checks: the "checks" count of the last hpapply run
checks() { sed -n 's/^ *"checks": \([0-9]*\),$/\1/p' "$tmp/run.out"; }

# mem_bytes PID ADDR N: hex bytes of the process's memory
mem_bytes() {
	dd if="/proc/$1/mem" bs=1 skip="$(($2))" count="$3" 2>/dev/null | od -An -tx1 | tr -d ' \n'
}

# func_addr PID PROGRAM FUNCTION: run-time address of FUNCTION
func_addr() {
	f_off=$(nm "$2" | awk -v f="$3" '$3 == f { print $1; exit }')
	f_base=$(awk -v p="$2" '$6 == p && $3 == "00000000" { split($1, a, "-"); print a[1]; exit }' "/proc/$1/maps")
	[ -n "$f_off" ] && [ -n "$f_base" ] && printf '0x%x\n' "$((0x$f_base + 0x$f_off))"
}

# build CC DIR [MAIN_FLAGS]: DIR/prog and DIR/p.hpk; main.c gets
# MAIN_FLAGS instead of the usual flags when given
build() {
	b_cc=$1 b_dir=$2 b_main=${3:-$cflags}
	mkdir -p "$b_dir/old" "$b_dir/new"
	cp "$src/old.c" "$b_dir/old/unit.c"
	cp "$src/new.c" "$b_dir/new/unit.c"
	if ! (cd "$b_dir/old" && $b_cc $cflags -c unit.c) >"$tmp/cc.out" 2>&1 ||
	   ! (cd "$b_dir/new" && $b_cc $cflags -c unit.c) >>"$tmp/cc.out" 2>&1 ||
	   ! $b_cc $b_main -c "$src/main.c" -o "$b_dir/main.o" >>"$tmp/cc.out" 2>&1 ||
	   ! $b_cc -O2 -g -o "$b_dir/prog" "$b_dir/old/unit.o" "$b_dir/main.o" >>"$tmp/cc.out" 2>&1 ||
	   ! "$hpbuild" -q -o "$b_dir/p.hpk" "$b_dir/old/unit.o" "$b_dir/new/unit.o" >>"$tmp/cc.out" 2>&1; then
		bad "$b_cc: building: $(head -c 400 "$tmp/cc.out")"
		return 1
	fi
}

ptrace_possible() {
	dir=$tmp/probe
	build gcc "$dir" || return 0   # reported
	start "$tmp/probe.out" sleep
	"$hpapply" -n -p "$pid" "$dir/p.hpk" >"$tmp/probe.run" 2>&1
	st=$?
	stop "$pid"
	if [ $st -ne 0 ] && grep -q 'not permitted' "$tmp/probe.run"; then
		echo "hpapply-stacks.sh: skipped: ptrace is not permitted here ($(cat "$tmp/probe.run"))"
		return 1
	fi
	return 0
}

# first_check NAME MODE: apply and revert, each at the first check
first_check() {
	name="$1 ($cc)" out=$dir/out.$2
	start "$out" "$2"
	if ! wait_line "$out" 'lower=15'; then
		bad "$name: the program prints '$(tail -n 1 "$out")', expected lower=15"
		stop "$pid"
		return
	fi
	if hp 0 -p "$pid" "$dir/p.hpk" && has '"result": "applied"' &&
	   [ "$(checks)" = 1 ] && has '"unwind_fallbacks": \[\]' && wait_line "$out" 'lower=18'; then
		ok "$name: applied at the first check, every stack unwound; the program now says lower=18"
	else
		bad "$name: apply: $said; the program says '$(tail -n 1 "$out")'"
	fi
	if hp 0 -p "$pid" --revert && has '"result": "reverted"' && [ "$(checks)" = 1 ] &&
	   wait_line "$out" 'lower=15'; then
		ok "$name: reverted at the first check; lower=15 again"
	else
		bad "$name: revert: $said; the program says '$(tail -n 1 "$out")'"
	fi
	stop "$pid"
}

# in_handler NAME MODE: count_lower's frame is below a blocked signal
# handler's: refused for that frame (found by unwinding, not by a word
# scan), after retries; the process unchanged and alive
in_handler() {
	name="$1 ($cc)" out=$dir/out.$2
	start "$out" "$2"
	if ! wait_line "$out" 'in handler'; then
		bad "$name: the program never reached its handler: '$(tail -n 1 "$out")'"
		stop "$pid"
		return
	fi
	addr=$(func_addr "$pid" "$dir/prog" count_lower)
	before=$(mem_bytes "$pid" "$addr" 16)
	if hp 1 --timeout 300 -p "$pid" "$dir/p.hpk" && has '"result": "refused"' &&
	   has "has a frame of function count_lower on its stack (frame [0-9]*, returning to 0x" &&
	   [ "$(checks)" -ge 2 ] && has '"unwind_fallbacks": \[\]'; then
		ok "$name: refused: count_lower's frame is below the signal frame (found by unwinding)"
	else
		bad "$name: $said"
	fi
	if [ -n "$before" ] && [ "$(mem_bytes "$pid" "$addr" 16)" = "$before" ] && kill -0 "$pid" 2>/dev/null &&
	   ! grep -q hpapply-record "/proc/$pid/maps"; then
		ok "$name: the process is alive and unchanged"
	else
		bad "$name: the process changed or died"
	fi
	stop "$pid"
}

# no_cfi: the stack past main.c's first frame is scanned, and reported
# (which frame that is depends on where the thread stopped: sleep_2ms or
# main)
no_cfi() {
	name="nocfi ($cc)" out=$dir/out.nocfi
	start "$out" stale
	if ! wait_line "$out" 'lower=15'; then
		bad "$name: the program prints '$(tail -n 1 "$out")'"
		stop "$pid"
		return
	fi
	if hp 1 --timeout 300 -p "$pid" "$dir/p.hpk" && has '"result": "refused"' &&
	   has "has a frame of function count_lower on its stack (at 0x[0-9a-f]*, in a part not unwound)" &&
	   has "\"thread $pid: unwound [0-9]* frames*, then scanned 0x[0-9a-f]*-0x[0-9a-f]*: no CFI for 0x[0-9a-f]* ([a-z_0-9]*+0x[0-9a-f]*) in $dir/prog\""; then
		ok "$name: the part not unwound is scanned and reported in unwind_fallbacks"
	else
		bad "$name: $said; $(grep -A2 unwind_fallbacks "$tmp/run.out" | tr -d '\n')"
	fi
	stop "$pid"
	# the handler (no CFI) on the alternate stack: what it interrupted is
	# on the thread's own stack, which is scanned whole as well
	name="nocfi altstack ($cc)" out=$dir/out.nocfi-alt
	start "$out" altstack
	if ! wait_line "$out" 'in handler'; then
		bad "$name: the program never reached its handler: '$(tail -n 1 "$out")'"
		stop "$pid"
		return
	fi
	if hp 1 --timeout 300 -p "$pid" "$dir/p.hpk" && has '"result": "refused"' &&
	   has "has a frame of function count_lower on its stack (at 0x[0-9a-f]*, in a part not unwound)" &&
	   has "\"thread $pid: unwound [0-9]* frames*, then scanned 0x[0-9a-f]*-0x[0-9a-f]* and the thread's stack 0x[0-9a-f]*-0x[0-9a-f]*: no CFI for 0x[0-9a-f]* (blocked+0x"; then
		# and the word that refused is on the thread's own stack
		at=$(sed -n 's/.* on its stack (at \(0x[0-9a-f]*\), in a part not unwound).*/\1/p' "$tmp/run.out" | head -n 1)
		lo=$(sed -n "s/.* and the thread's stack \(0x[0-9a-f]*\)-.*/\1/p" "$tmp/run.out" | head -n 1)
		hi=$(sed -n "s/.* and the thread's stack 0x[0-9a-f]*-\(0x[0-9a-f]*\):.*/\1/p" "$tmp/run.out" | head -n 1)
		if [ -n "$at" ] && [ -n "$lo" ] && [ -n "$hi" ] && [ $((at)) -ge $((lo)) ] && [ $((at)) -lt $((hi)) ]; then
			ok "$name: the alternate stack and the thread's own stack are scanned, and reported; the frame was found on the latter"
		else
			bad "$name: the word at $at is not on the thread's stack $lo-$hi"
		fi
	else
		bad "$name: $said; $(grep -A2 unwind_fallbacks "$tmp/run.out" | tr -d '\n')"
	fi
	stop "$pid"
}

if ! ptrace_possible; then
	echo "hpapply-stacks: 0 passed, 0 failed"
	exit 0
fi

for cc in gcc clang; do
	if ! command -v $cc >/dev/null 2>&1; then
		bad "$cc: not installed (the suite builds every case with gcc and clang)"
		continue
	fi
	dir=$tmp/$cc
	build $cc "$dir" || continue
	first_check sleep sleep
	first_check stale stale
	in_handler signal signal
	in_handler altstack altstack
	dir=$tmp/$cc-nocfi
	build $cc "$dir" "-O2 -fno-asynchronous-unwind-tables -fno-unwind-tables" || continue
	no_cfi
done

echo "hpapply-stacks: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
