#!/bin/sh
# hpapply-threads.sh - apply and revert a package 200 times while four
# threads call the patched function (tests/e2e/hpapply/threads.c with
# body/old.c; the package from body/old.c -> body/new.c).
#
#   sh tests/e2e/hpapply-threads.sh BUILD_DIR [CYCLES]
#
# Each thread checks every answer it gets: the old one or the new one,
# never anything else (a half-written jump, a thread returning into
# unmapped code, a wrong relocation would show as a wrong answer or a
# crash).  Checks: every apply and revert exits 0, the process is alive at
# the end, no wrong answer, both answers were seen, and after the last
# revert only old answers come.  Prints "hpapply-threads: N passed, M
# failed" last; kills the program on exit (trap).  Skips (with a message)
# only when ptrace is not permitted here.

set -u

[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: sh tests/e2e/hpapply-threads.sh BUILD_DIR [CYCLES]" >&2; exit 2; }
cycles=${2:-200}
. "$(dirname "$0")/lib/fixture.sh"
. "$(dirname "$0")/lib/wait.sh"
need_tools hpapply-threads.sh "$1" hpapply hpbuild
hpapply=$build_dir/hpapply
src=$root/tests/e2e/hpapply
cflags=$default_flags

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hpapply-threads.XXXXXX") || exit 2
pid=""
cleanup() {
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
	echo "hpapply-threads: $pass passed, $fail failed"
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

# calls_past N: the program has printed a line counting more than N calls
calls_past() {
	cp_calls=$(counts calls)
	[ "${cp_calls:-0}" -gt "$1" ]
}

"$tmp/prog" >"$tmp/out" 2>&1 &
pid=$!
wait_until calls_past 0

"$hpapply" -n -p "$pid" "$tmp/p.hpk" >"$tmp/run.out" 2>&1
if [ $? -ne 0 ] && grep -q "not permitted" "$tmp/run.out"; then
	echo "hpapply-threads.sh: skipped: ptrace is not permitted here ($(cat "$tmp/run.out"));" \
	     "run as root, or set /proc/sys/kernel/yama/ptrace_scope to 0"
	finish
fi

failures=0
i=0
while [ $i -lt "$cycles" ]; do
	i=$((i + 1))
	for step in apply revert; do
		if [ $step = apply ]; then
			"$hpapply" -q --timeout 30000 -p "$pid" "$tmp/p.hpk" >"$tmp/run.out" 2>&1
		else
			"$hpapply" -q --timeout 30000 -p "$pid" --revert >"$tmp/run.out" 2>&1
		fi
		st=$?
		if [ $st -ne 0 ]; then
			failures=$((failures + 1))
			[ $failures -le 3 ] && bad "cycle $i: $step exited $st: $(head -c 300 "$tmp/run.out")"
		fi
	done
	kill -0 "$pid" 2>/dev/null || break
done
[ $failures -eq 0 ] && ok "$cycles cycles: every apply and revert exited 0"

if kill -0 "$pid" 2>/dev/null; then
	ok "the process is alive after $i cycles"
else
	bad "the process died in cycle $i: $(tail -n 3 "$tmp/out")"
	finish
fi
# a line printed after the last revert (its counts include later calls)
wait_until calls_past "$(counts calls)"
wrong=$(counts wrong)
old=$(counts old)
new=$(counts new)
if [ "${wrong:-x}" = 0 ] && ! grep -q WRONG "$tmp/out"; then
	ok "no wrong answer in $(counts calls) calls ($old old, $new new)"
else
	bad "wrong answers: $(grep -m 3 WRONG "$tmp/out") ($(tail -n 1 "$tmp/out"))"
fi
if [ "${old:-0}" -gt 0 ] && [ "${new:-0}" -gt 0 ]; then
	ok "both the old and the new answers were seen"
else
	bad "old=$old new=$new: the patch never took effect, or never went away"
fi
wait_until calls_past "$(counts calls)"
if [ "$(counts new)" = "$new" ]; then
	ok "after the last revert only old answers come"
else
	bad "new answers after the last revert ($new -> $(counts new))"
fi
finish
