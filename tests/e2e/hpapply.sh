#!/bin/sh
# hpapply.sh - hpapply end to end, on running programs compiled here.
#
#   sh tests/e2e/hpapply.sh BUILD_DIR
#
# Each case compiles the old and new version of a translation unit
# (tests/e2e/hpapply/CASE/old.c, new.c) with -O2 -g -ffunction-sections
# -fdata-sections, links the old one with main.c (a loop printing what the
# unit answers every 10 ms) into a normal PIE program, starts it, builds a
# package with hpbuild from old.o and new.o, applies it with hpapply, checks
# that the program now answers as the new version does, reverts, and checks
# the old answers are back.  Cases:
#   body        a function's body changes
#   helper      the fix adds a static helper (and calls strlen: an IFUNC)
#   global      the fix adds a global and a static variable; the old
#               function is 4 bytes, so the jump runs into its padding
#   counter     a static local keeps counting across apply and revert
#   string      a string literal changes
#   switch      a jump table
#   tls         the executable's thread-local variables (R_X86_64_TPOFF32)
#   sharedlib   the patched functions are in a shared library the program
#               loads, hidden (the linker made them local symbols)
#   clang       the counter case compiled and linked by clang
#   cumulative  package B (fixes 1+2) replaces package A (fix 1), then revert
#   other build a package for another build is refused; memory unchanged
#   inside      a thread never leaves the function: retried, then refused
#   stripped    a stripped program: refused with a clear message; --symbols
#   dry run     every check, nothing changed (maps and bytes compared)
#   twice       the same package twice is refused; --list from a later run
#   seccomp     refused under a seccomp filter unless --allow-seccomp; the
#               record without memfd_create
#   corrupt     a damaged package never touches the process
# Prints "PASS ..." / "FAIL ...: why" per check and "hpapply: N passed,
# M failed" last; exits 1 if any failed.  Every process it starts is killed
# on exit, whatever happens (trap).  Skips (with a message) only when
# ptrace is not permitted here.
#
# Environment: HPAPPLY_VERBOSE=1 shows each command's output.

set -u

usage() {
	echo "usage: sh tests/e2e/hpapply.sh BUILD_DIR" >&2
	exit 2
}

[ $# -eq 1 ] || usage
. "$(dirname "$0")/lib/fixture.sh"
. "$(dirname "$0")/lib/wait.sh"
need_tools hpapply.sh "$1" hpapply hpbuild
hpapply=$build_dir/hpapply
hpbuild=$build_dir/hpbuild
src=$root/tests/e2e/hpapply
cflags=$default_flags

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hpapply-e2e.XXXXXX") || exit 2
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
ok() {
	pass=$((pass + 1))
	echo "PASS $*"
}
bad() {
	fail=$((fail + 1))
	echo "FAIL $*"
}
verbose() {
	[ "${HPAPPLY_VERBOSE:-0}" = 1 ] && cat "$1"
	return 0
}

# start DIR PROGRAM: run it in the background, output to DIR/out; sets $pid
start() {
	"$2" >"$1/out" 2>&1 &
	pid=$!
	pids="$pids $pid"
	wait_output "$1/out" '*' || true
}

stop() {
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# last_matches FILE PATTERN: the last line matches the glob PATTERN, or
# with "!PATTERN" is a line that does not match it
last_matches() {
	lm_last=$(tail -n 1 "$1" 2>/dev/null)
	[ -n "$lm_last" ] || return 1
	case $2 in
	!*) case $lm_last in ${2#!}) return 1 ;; esac ;;
	*) case $lm_last in $2) ;; *) return 1 ;; esac ;;
	esac
	return 0
}

# wait_output FILE PATTERN: until the last line matches PATTERN (see
# last_matches), within lib/wait.sh's bound
wait_output() {
	wait_until last_matches "$1" "$2"
}

last_line() {
	tail -n 1 "$1" 2>/dev/null
}

# run NAME EXPECTED_STATUS CMD...: output in $tmp/run.out
run() {
	r_name=$1 r_want=$2
	shift 2
	"$@" >"$tmp/run.out" 2>&1
	r_got=$?
	verbose "$tmp/run.out"
	if [ "$r_got" -ne "$r_want" ]; then
		bad "$r_name: exit $r_got, expected $r_want: $(head -c 400 "$tmp/run.out")"
		return 1
	fi
	return 0
}

# build_case CASE DIR CC [HPBUILD_OPTIONS]: DIR/prog (old) and DIR/p.hpk
build_case() {
	b_case=$1 b_dir=$2 b_cc=$3
	shift 3
	mkdir -p "$b_dir/old" "$b_dir/new"
	cp "$src/$b_case/old.c" "$b_dir/old/unit.c"
	cp "$src/$b_case/new.c" "$b_dir/new/unit.c"
	if ! (cd "$b_dir/old" && $b_cc $cflags -c unit.c) >"$tmp/cc.out" 2>&1 ||
	   ! (cd "$b_dir/new" && $b_cc $cflags -c unit.c) >>"$tmp/cc.out" 2>&1 ||
	   ! $b_cc $cflags -c "$src/main.c" -o "$b_dir/main.o" >>"$tmp/cc.out" 2>&1 ||
	   ! $b_cc -O2 -g -o "$b_dir/prog" "$b_dir/old/unit.o" "$b_dir/main.o" >>"$tmp/cc.out" 2>&1; then
		bad "$b_case ($b_cc): compiling: $(head -c 400 "$tmp/cc.out")"
		return 1
	fi
	if ! "$hpbuild" -q "$@" -o "$b_dir/p.hpk" "$b_dir/old/unit.o" "$b_dir/new/unit.o" >"$tmp/cc.out" 2>&1; then
		bad "$b_case ($b_cc): hpbuild: $(head -c 400 "$tmp/cc.out")"
		return 1
	fi
	return 0
}

# maps_unchanged PID: /proc/PID/maps is still $tmp/maps.before (cmp
# compares sizes first, and a /proc file has size 0: copy it)
maps_unchanged() {
	cat "/proc/$1/maps" >"$tmp/maps.now" && cmp -s "$tmp/maps.before" "$tmp/maps.now"
}

has_record() { # pid: the process has an hpapply record mapping
	grep -q 'hpapply-record' "/proc/$1/maps"
}

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

# ---- is ptrace possible here? ----

ptrace_possible() {
	mkdir -p "$tmp/probe"
	build_case body "$tmp/probe" gcc >/dev/null || return 0   # a build failure is reported later
	start "$tmp/probe" "$tmp/probe/prog"
	"$hpapply" -n -p "$pid" "$tmp/probe/p.hpk" >"$tmp/probe/run" 2>&1
	st=$?
	stop "$pid"
	if [ $st -ne 0 ] && grep -q 'not permitted' "$tmp/probe/run"; then
		echo "hpapply.sh: skipped: ptrace is not permitted here ($(cat "$tmp/probe/run"));" \
		     "run as root, or set /proc/sys/kernel/yama/ptrace_scope to 0"
		return 1
	fi
	return 0
}

# ---- the behaviour cases ----

# patch_case NAME DIR OLD_PATTERN NEW_PATTERN: start, apply, check, revert, check
patch_case() {
	p_name=$1 p_dir=$2 p_old=$3 p_new=$4
	start "$p_dir" "$p_dir/prog"
	if ! wait_output "$p_dir/out" "$p_old"; then
		bad "$p_name: the old program prints '$(last_line "$p_dir/out")', expected $p_old"
		stop "$pid"
		return 1
	fi
	run "$p_name: apply" 0 "$hpapply" -p "$pid" "$p_dir/p.hpk" || { stop "$pid"; return 1; }
	if wait_output "$p_dir/out" "$p_new"; then
		ok "$p_name: applied, the program behaves like the new version ($(last_line "$p_dir/out"))"
	else
		bad "$p_name: after apply the program prints '$(last_line "$p_dir/out")', expected $p_new"
	fi
	p_applied=$(last_line "$p_dir/out")
	run "$p_name: revert" 0 "$hpapply" -p "$pid" --revert || { stop "$pid"; return 1; }
	if wait_output "$p_dir/out" "$p_old"; then
		ok "$p_name: reverted, the old behaviour is back ($(last_line "$p_dir/out"))"
	else
		bad "$p_name: after revert the program prints '$(last_line "$p_dir/out")', expected $p_old"
	fi
	p_reverted=$(last_line "$p_dir/out")
	if kill -0 "$pid" 2>/dev/null; then
		ok "$p_name: the process is alive"
	else
		bad "$p_name: the process died"
	fi
	if has_record "$pid"; then
		bad "$p_name: an hpapply record is still mapped after the last revert"
	fi
	stop "$pid"
	return 0
}

case_simple() { # CASE OLD NEW [HPBUILD_OPTIONS]
	c_case=$1 c_old=$2 c_new=$3
	shift 3
	build_case "$c_case" "$tmp/$c_case" gcc "$@" && patch_case "$c_case" "$tmp/$c_case" "$c_old" "$c_new"
}

# counter: ticket=N counts 1, 2, ...; the new version prints 1000000 + N
# with the same counter, which must go on from where it was.
case_counter() { # CC DIR
	k_cc=$1 k_dir=$2
	build_case counter "$k_dir" "$k_cc" || return
	patch_case "counter ($k_cc)" "$k_dir" '!ticket=100????' 'ticket=100????' || return
	# last old value, first and last patched values, first value after
	before=$(awk -F= '/^ticket=/ { if ($2 >= 1000000) { print prev; exit } prev = $2 }' "$k_dir/out")
	first_new=$(awk -F= '/^ticket=/ && $2 >= 1000000 { print $2 - 1000000; exit }' "$k_dir/out")
	last_new=$(awk -F= '/^ticket=/ && $2 >= 1000000 { v = $2 - 1000000 } END { print v }' "$k_dir/out")
	after=$(awk -F= '/^ticket=/ { if ($2 >= 1000000) seen = 1; else if (seen) { print $2; exit } }' "$k_dir/out")
	if [ -n "$before" ] && [ -n "$first_new" ] && [ -n "$after" ] &&
	   [ "$first_new" -gt "$before" ] && [ "$first_new" -le $((before + 5)) ] &&
	   [ "$after" -gt "$last_new" ] && [ "$after" -le $((last_new + 5)) ]; then
		ok "counter ($k_cc): the static local kept counting ($before, patched $first_new..$last_new, then $after)"
	else
		bad "counter ($k_cc): the static local did not keep counting ($before, patched $first_new..$last_new, then $after)"
	fi
}

# tls: old prints calls + 5, new -(calls + 5), with the program's own
# thread-local counter: the first patched value goes on from the last old.
case_tls() {
	# hpverify's HP009 still counts TPOFF32 as unresolvable (lib/reloc.c)
	build_case tls "$tmp/tls" gcc --allow=HP009 || return
	patch_case tls "$tmp/tls" 'calls=[1-9]*' 'calls=-*' || return
	last_old=$(awk -F= '/^calls=/ { if ($2 < 0) { print prev; exit } prev = $2 }' "$tmp/tls/out")
	first_new=$(awk -F= '/^calls=-/ { print -$2; exit }' "$tmp/tls/out")
	if [ -n "$last_old" ] && [ -n "$first_new" ] && [ "$first_new" -gt "$last_old" ] &&
	   [ "$first_new" -le $((last_old + 5)) ]; then
		ok "tls: the thread-local counter kept counting ($last_old, then -$first_new)"
	else
		bad "tls: thread-local counter: $last_old, then -$first_new"
	fi
}

case_sharedlib() {
	s_dir=$tmp/sharedlib
	mkdir -p "$s_dir/old" "$s_dir/new"
	cp "$src/library/old.c" "$s_dir/old/unit.c"
	cp "$src/library/new.c" "$s_dir/new/unit.c"
	if ! (cd "$s_dir/old" && gcc $cflags -fPIC -c unit.c && gcc -shared -o libunit.so unit.o) >"$tmp/cc.out" 2>&1 ||
	   ! (cd "$s_dir/new" && gcc $cflags -fPIC -c unit.c) >>"$tmp/cc.out" 2>&1 ||
	   ! gcc $cflags -c "$src/main.c" -o "$s_dir/main.o" >>"$tmp/cc.out" 2>&1 ||
	   ! gcc -O2 -g -o "$s_dir/prog" "$s_dir/main.o" -L"$s_dir/old" -lunit -Wl,-rpath,"$s_dir/old" >>"$tmp/cc.out" 2>&1 ||
	   ! "$hpbuild" -q -o "$s_dir/p.hpk" "$s_dir/old/unit.o" "$s_dir/new/unit.o" >>"$tmp/cc.out" 2>&1; then
		bad "sharedlib: building: $(head -c 400 "$tmp/cc.out")"
		return
	fi
	start "$s_dir" "$s_dir/prog"
	if run "sharedlib: dry run" 0 "$hpapply" -n -p "$pid" "$s_dir/p.hpk" &&
	   grep -q "libunit.so" "$tmp/run.out"; then
		ok "sharedlib: the module to patch is the library (libunit.so), not the program"
	else
		bad "sharedlib: hpapply did not choose libunit.so: $(head -c 300 "$tmp/run.out")"
	fi
	stop "$pid"
	patch_case sharedlib "$s_dir" 'lib=21 library one' 'lib=202 library two, patched'
}

# cumulative: A fixes check_size; B has that fix and fixes version_label.
case_cumulative() {
	u_dir=$tmp/cumulative
	mkdir -p "$u_dir/old" "$u_dir/a" "$u_dir/b"
	for v in old a b; do
		cp "$src/cumulative/$v.c" "$u_dir/$v/unit.c"
		(cd "$u_dir/$v" && gcc $cflags -c unit.c) >"$tmp/cc.out" 2>&1 || { bad "cumulative: compiling $v.c"; return; }
	done
	gcc $cflags -c "$src/main.c" -o "$u_dir/main.o" && gcc -O2 -g -o "$u_dir/prog" "$u_dir/old/unit.o" "$u_dir/main.o" ||
		{ bad "cumulative: linking"; return; }
	"$hpbuild" -q -o "$u_dir/a.hpk" "$u_dir/old/unit.o" "$u_dir/a/unit.o" &&
		"$hpbuild" -q -o "$u_dir/b.hpk" "$u_dir/old/unit.o" "$u_dir/b/unit.o" || { bad "cumulative: hpbuild"; return; }
	start "$u_dir" "$u_dir/prog"
	run "cumulative: apply A" 0 "$hpapply" -p "$pid" "$u_dir/a.hpk" &&
		wait_output "$u_dir/out" 'size_ok=1 label=base' && ok "cumulative: A applied ($(last_line "$u_dir/out"))" ||
		bad "cumulative: A: '$(last_line "$u_dir/out")'"
	a_id=$("$hpapply" -p "$pid" --list | awk 'NR == 2 { print $1 }')
	if run "cumulative: apply B over A" 0 "$hpapply" -p "$pid" "$u_dir/b.hpk" &&
	   grep -q "retired *$a_id" "$tmp/run.out" && wait_output "$u_dir/out" 'size_ok=1 label=fix-b'; then
		ok "cumulative: B replaced A ($(last_line "$u_dir/out"))"
	else
		bad "cumulative: B over A: '$(last_line "$u_dir/out")' $(head -c 300 "$tmp/run.out")"
	fi
	"$hpapply" -p "$pid" --list >"$tmp/list" 2>&1
	if grep -q "^process $pid: 1 package applied" "$tmp/list" && ! grep -q "^$a_id" "$tmp/list"; then
		ok "cumulative: --list shows B only"
	else
		bad "cumulative: --list: $(cat "$tmp/list")"
	fi
	run "cumulative: apply A again over B" 0 "$hpapply" -p "$pid" "$u_dir/a.hpk" &&
		wait_output "$u_dir/out" 'size_ok=1 label=base' && ok "cumulative: A replaced B (a downgrade is a replace too)" ||
		bad "cumulative: A over B: '$(last_line "$u_dir/out")'"
	run "cumulative: revert" 0 "$hpapply" -p "$pid" --revert &&
		wait_output "$u_dir/out" 'size_ok=0 label=base' && ok "cumulative: revert goes back to the baseline" ||
		bad "cumulative: revert: '$(last_line "$u_dir/out")'"
	run "cumulative: nothing left to revert" 1 "$hpapply" -p "$pid" --revert &&
		ok "cumulative: a second revert is refused (exit 1: nothing applied)"
	stop "$pid"
}

# A package made from another build of the unit: refused, nothing changed.
case_other_build() {
	o_dir=$tmp/otherbuild
	build_case body "$o_dir" gcc || return
	mkdir -p "$o_dir/x/old" "$o_dir/x/new"
	cp "$src/other/old.c" "$o_dir/x/old/unit.c"
	cp "$src/other/new.c" "$o_dir/x/new/unit.c"
	(cd "$o_dir/x/old" && gcc $cflags -c unit.c) && (cd "$o_dir/x/new" && gcc $cflags -c unit.c) &&
		"$hpbuild" -q -o "$o_dir/other.hpk" "$o_dir/x/old/unit.o" "$o_dir/x/new/unit.o" ||
		{ bad "other build: building"; return; }
	start "$o_dir" "$o_dir/prog"
	addr=$(func_addr "$pid" "$o_dir/prog" compute)
	before=$(mem_bytes "$pid" "$addr" 16)
	cat "/proc/$pid/maps" >"$tmp/maps.before"
	if run "other build: apply" 1 "$hpapply" -p "$pid" "$o_dir/other.hpk" &&
	   grep -q "not the code the package was made for" "$tmp/run.out"; then
		ok "other build: refused with exit 1 ($(head -n 1 "$tmp/run.out" | cut -c1-120)...)"
	else
		bad "other build: $(head -c 300 "$tmp/run.out")"
	fi
	after=$(mem_bytes "$pid" "$addr" 16)
	if [ -n "$before" ] && [ "$before" = "$after" ] && maps_unchanged "$pid" &&
	   wait_output "$o_dir/out" 'compute=15'; then
		ok "other build: process untouched (compute's bytes $before, maps and output unchanged)"
	else
		bad "other build: process changed (bytes $before -> $after, or maps, or '$(last_line "$o_dir/out")'): $(diff "$tmp/maps.before" "$tmp/maps.now")"
	fi
	# the right build, but the new code calls a function no module of
	# the process defines: refused (exit 1, as hpapply(1) says), untouched
	mkdir -p "$o_dir/y/old" "$o_dir/y/new"
	cp "$src/body/old.c" "$o_dir/y/old/unit.c"
	sed 's/return x \* 3 + 1;/return x * 3 + 1 + hp_not_in_any_module();/; s/^#include <stdio.h>/#include <stdio.h>\nint hp_not_in_any_module(void);/' \
		"$src/body/new.c" >"$o_dir/y/new/unit.c"
	if (cd "$o_dir/y/old" && gcc $cflags -c unit.c) && (cd "$o_dir/y/new" && gcc $cflags -c unit.c) &&
	   "$hpbuild" -q -o "$o_dir/missing.hpk" "$o_dir/y/old/unit.o" "$o_dir/y/new/unit.o" &&
	   grep -q hp_not_in_any_module "$o_dir/y/new/unit.c"; then
		if run "missing symbol: apply" 1 "$hpapply" -p "$pid" "$o_dir/missing.hpk" &&
		   grep -q "symbol 'hp_not_in_any_module' is not defined by" "$tmp/run.out" && maps_unchanged "$pid"; then
			ok "missing symbol: refused with exit 1, process untouched"
		else
			bad "missing symbol: $(head -c 300 "$tmp/run.out")"
		fi
	else
		bad "missing symbol: building the package"
	fi
	stop "$pid"
}

case_stripped() {
	t_dir=$tmp/body   # built by the body case
	[ -x "$t_dir/prog" ] || { bad "stripped: no body program"; return; }
	cp "$t_dir/prog" "$t_dir/prog.stripped" && strip "$t_dir/prog.stripped"
	start "$t_dir" "$t_dir/prog.stripped"
	if run "stripped: apply" 2 "$hpapply" -p "$pid" "$t_dir/p.hpk" &&
	   grep -q "prog.stripped has no symbol table (stripped); hpapply needs the symbol table" "$tmp/run.out"; then
		ok "stripped: refused with a clear message"
	else
		bad "stripped: $(head -c 300 "$tmp/run.out")"
	fi
	if run "stripped: --symbols" 0 "$hpapply" -p "$pid" --symbols "$t_dir/prog" "$t_dir/p.hpk" &&
	   wait_output "$t_dir/out" 'compute=22' &&
	   run "stripped: revert" 0 "$hpapply" -p "$pid" --revert && wait_output "$t_dir/out" 'compute=15'; then
		ok "stripped: --symbols with the unstripped copy applies and reverts"
	else
		bad "stripped: --symbols: '$(last_line "$t_dir/out")' $(head -c 300 "$tmp/run.out")"
	fi
	stop "$pid"
}

# A thread never leaves the function to be replaced: hpapply retries for
# --timeout milliseconds (letting the program run in between), then
# refuses; nothing changed.
case_inside() {
	i_dir=$tmp/inside
	build_case inside "$i_dir" gcc || return
	start "$i_dir" "$i_dir/prog"
	cat "/proc/$pid/maps" >"$tmp/maps.before"
	addr=$(func_addr "$pid" "$i_dir/prog" serve_forever)
	before=$(mem_bytes "$pid" "$addr" 16)
	lines=$(wc -l <"$i_dir/out")
	if run "inside: apply" 1 "$hpapply" --timeout 300 --json -p "$pid" "$i_dir/p.hpk" &&
	   grep -q '"result": "refused"' "$tmp/run.out" &&
	   grep -q "has a frame of function serve_forever on its stack" "$tmp/run.out" &&
	   grep -Eq '"checks": ([2-9]|[1-9][0-9]+),' "$tmp/run.out"; then
		ok "inside: a thread stays in the function: retried, then refused (exit 1)"
	else
		bad "inside: $(head -c 400 "$tmp/run.out")"
	fi
	# it keeps serving: more lines come (wait for them: a loaded machine
	# may have given it little time during the retries)
	if [ "$(mem_bytes "$pid" "$addr" 16)" = "$before" ] && maps_unchanged "$pid" &&
	   wait_until has_lines "$i_dir/out" $((lines + 5)) && [ "$(last_line "$i_dir/out")" = serving ]; then
		ok "inside: process as it was (bytes, maps), and it ran during the retries"
	else
		bad "inside: process changed or stalled: $(diff "$tmp/maps.before" "$tmp/maps.now" | head -n 4)"
	fi
	stop "$pid"
}

# A process under a seccomp filter (memfd_create denied): refused without
# --allow-seccomp; with it, the record is an anonymous mapping found again
# by its magic.
case_seccomp() {
	q_dir=$tmp/body
	[ -f "$q_dir/p.hpk" ] || { bad "seccomp: no body package"; return; }
	if ! gcc -O2 -g -o "$q_dir/prog.seccomp" "$q_dir/old/unit.o" "$src/seccomp_main.c" >"$tmp/cc.out" 2>&1; then
		bad "seccomp: compiling: $(head -c 300 "$tmp/cc.out")"
		return
	fi
	start "$q_dir" "$q_dir/prog.seccomp"
	if run "seccomp: without --allow-seccomp" 2 "$hpapply" -p "$pid" "$q_dir/p.hpk" &&
	   grep -q "seccomp filter" "$tmp/run.out" && wait_output "$q_dir/out" 'compute=15'; then
		ok "seccomp: refused without --allow-seccomp, process untouched"
	else
		bad "seccomp: $(head -c 300 "$tmp/run.out")"
	fi
	if run "seccomp: apply" 0 "$hpapply" --allow-seccomp -p "$pid" "$q_dir/p.hpk" &&
	   wait_output "$q_dir/out" 'compute=22' && ! grep -q "memfd:hpapply" "/proc/$pid/maps" &&
	   "$hpapply" -p "$pid" --list | grep -q "1 function: compute" &&
	   run "seccomp: revert" 0 "$hpapply" --allow-seccomp -p "$pid" --revert &&
	   wait_output "$q_dir/out" 'compute=15'; then
		ok "seccomp: with --allow-seccomp and no memfd, the record is found by its magic (list, revert)"
	else
		bad "seccomp: '$(last_line "$q_dir/out")' $(head -c 300 "$tmp/run.out")"
	fi
	stop "$pid"
}

# --dry-run, --list, --json, the same package twice, revert by id, a
# corrupt package, a process that does not exist.
case_options() {
	d_dir=$tmp/body
	[ -f "$d_dir/p.hpk" ] || { bad "options: no body package"; return; }
	start "$d_dir" "$d_dir/prog"
	addr=$(func_addr "$pid" "$d_dir/prog" compute)
	before=$(mem_bytes "$pid" "$addr" 8)
	cat "/proc/$pid/maps" >"$tmp/maps.before"
	if run "dry run" 0 "$hpapply" --dry-run -p "$pid" "$d_dir/p.hpk" && grep -q "^dry run: can apply" "$tmp/run.out" &&
	   maps_unchanged "$pid" && [ "$(mem_bytes "$pid" "$addr" 8)" = "$before" ] &&
	   wait_output "$d_dir/out" 'compute=15'; then
		ok "dry run: exit 0, nothing changed (maps, compute's bytes, output)"
	else
		bad "dry run: $(head -c 300 "$tmp/run.out")"
	fi
	corrupt=$tmp/corrupt.hpk
	head -c 300 "$d_dir/p.hpk" >"$corrupt"
	if run "corrupt package" 2 "$hpapply" -p "$pid" "$corrupt" && maps_unchanged "$pid" &&
	   ! grep -q "TracerPid:[[:space:]]*[1-9]" "/proc/$pid/status"; then
		ok "corrupt package: exit 2 before touching the process ($(head -n 1 "$tmp/run.out" | cut -c1-100))"
	elif [ "$r_got" -eq 2 ]; then
		bad "corrupt package: the process changed"
	fi
	if run "json apply" 0 "$hpapply" --json -p "$pid" "$d_dir/p.hpk" &&
	   grep -q '"result": "applied"' "$tmp/run.out" && grep -q '"stopped_ns": [1-9]' "$tmp/run.out" &&
	   grep -q '"format": "hpapply-1"' "$tmp/run.out"; then
		ok "json: format hpapply-1, result applied, stopped_ns reported"
	else
		bad "json: $(head -c 400 "$tmp/run.out")"
	fi
	id=$(sed -n 's/.*"package": "\([0-9a-f]*\)".*/\1/p' "$tmp/run.out" | head -n 1)
	wait_output "$d_dir/out" 'compute=22' || bad "json apply: '$(last_line "$d_dir/out")'"
	if run "list" 0 "$hpapply" -p "$pid" --list && grep -q "^$id  $d_dir/prog  1 function: compute" "$tmp/run.out"; then
		ok "list: a separate run lists the applied package"
	else
		bad "list: $(head -c 300 "$tmp/run.out")"
	fi
	if run "twice" 1 "$hpapply" -p "$pid" "$d_dir/p.hpk"; then
		if grep -q "is already applied" "$tmp/run.out"; then
			ok "twice: the same package again is refused (exit 1, 'already applied')"
		else
			bad "twice: $(head -c 300 "$tmp/run.out")"
		fi
	fi
	run "revert: unknown id" 1 "$hpapply" -p "$pid" --revert 0000ffff && ok "revert: an id no package has is refused (exit 1)"
	short=$(echo "$id" | cut -c1-8)
	if run "revert by id" 0 "$hpapply" -p "$pid" --revert "$short" && wait_output "$d_dir/out" 'compute=15' &&
	   [ "$(mem_bytes "$pid" "$addr" 8)" = "$before" ]; then
		ok "revert by id prefix: original bytes back"
	else
		bad "revert by id: $(head -c 300 "$tmp/run.out")"
	fi
	stop "$pid"
	if run "no such process" 2 "$hpapply" -p "$pid" "$d_dir/p.hpk"; then
		if grep -q "^hpapply: process $pid: no such process" "$tmp/run.out"; then
			ok "no such process: exit 2, says so"
		else
			bad "no such process: $(head -c 300 "$tmp/run.out")"
		fi
	fi
}

if ! ptrace_possible; then
	echo "hpapply: 0 passed, 0 failed"
	exit 0
fi

case_simple body 'compute=15' 'compute=22'
case_simple helper 'len=26' 'len=16'
case_simple global 'scale=6' 'scale=201' --allow=HP005
case_counter gcc "$tmp/counter"
case_simple string 'greeting=hello from version one' 'greeting=hello from the patched version'
case_simple switch 'classify=9,27,3,94,48,4,-15,225' 'classify=108,27,-690,94,192,4,985,225'
case_tls
case_sharedlib
if command -v clang >/dev/null 2>&1; then
	case_counter clang "$tmp/clang"
else
	bad "clang: not installed (the suite builds one case with clang)"
fi
case_cumulative
case_other_build
case_inside
case_stripped
case_seccomp
case_options

echo "hpapply: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
