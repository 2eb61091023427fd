#!/bin/sh
# corrupt.sh - hostile input: the tools must refuse a corrupt object or
# package with exit 2 and one line naming the file, and never crash, hang,
# trip a sanitizer, or leave a partial output file.
#
#   sh tests/e2e/corrupt.sh BUILD_DIR
#
# Objects: a few fixture objects, compiled here by gcc and clang, each
# truncated at every length below 64 and at every 37th, and 300 variants
# with 1-4 random bit flips or one 2/4/8-byte field set to a boundary value
# (tests/e2e/corrupt/mutate.c, fixed seeds).  hpdiff runs on each variant
# against its intact twin; hpbuild -o OUT (when built) on every 8th, in an
# empty directory that must stay empty unless it exits 0, and a package
# it writes must be one hpverify reads.
# Packages (when hpbuild and hpverify are built): a small fixture package
# with relocations, masks, data and a recorded finding; every single-bit
# flip of it through the package reader in-process (pkgcorrupt flips: all
# of them, in a second), one flip in every 4 bytes through hpverify; and
# 40 hostile packages with consistent checksums and id (offsets past the
# end, wrapping offsets, huge counts, string offsets past the table, bad
# indices, reserved fields ...), each of which hpverify must refuse naming
# the failed check, plus extreme but valid ones (addend INT64_MAX ...) for
# hpverify --audit (tests/e2e/corrupt/pkgcorrupt.c).  hpapply (when built)
# must refuse every refused package before it looks at a process: no
# ptrace of it, nothing opened under /proc/PID (strace).
# Fuzz reproducers: the objects in fuzz/crashes/fuzz_elf and the pairs in
# fuzz/crashes/fuzz_diff through hpdiff, the packages in
# fuzz/crashes/fuzz_{hpk,audit} (sealed) through hpverify --audit: the
# bugs the fuzzers found stay fixed at the command level too.
#
# Rules for every run: exit 0, 1 or 2 (never a signal, never over 10 s);
# no sanitizer report (ASan, LSan, UBSan) on stderr; on exit 2, stderr is
# exactly one line "TOOL: ..." naming the corrupt file; on exit 0/1,
# stderr is empty (but for hpbuild exit 1: the findings that refused it).  Prints one PASS/FAIL line per group of variants, and
# "corrupt: N passed, M failed"; exit 1 on a failure, 2 on a usage error.
# The variants that failed are kept in BUILD_DIR/corrupt-failures/.
#
# Environment: CORRUPT_JOBS (parallel runs, default 2), GCC, CLANG.
set -u
[ $# -eq 1 ] || { echo "usage: sh tests/e2e/corrupt.sh BUILD_DIR" >&2; exit 2; }
build=$1
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
root=$(cd "$(dirname "$0")/../.." && pwd)
hpdiff=$build/hpdiff
hpbuild=$build/hpbuild
hpverify=$build/hpverify
hpapply=$build/hpapply
[ -x "$hpdiff" ] || { echo "corrupt.sh: $hpdiff: no such executable (run make first)" >&2; exit 2; }
jobs=${CORRUPT_JOBS:-2}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
# LeakSanitizer's scan at exit costs more than the run itself: the bulk
# hpdiff and hpbuild runs check leaks on every 8th variant (the fuzz
# targets check them on every input of the same library code).
asan_leaks=$ASAN_OPTIONS
asan_fast=$ASAN_OPTIONS:detect_leaks=0
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LC_ALL=C

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hpcorrupt.XXXXXX") || exit 2
target=
trap '[ -n "$target" ] && kill "$target" 2>/dev/null; rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
keep=$build/corrupt-failures
rm -rf "$keep"

if ! gcc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$tmp/mutate" "$root/tests/e2e/corrupt/mutate.c"; then
	echo "corrupt.sh: cannot build tests/e2e/corrupt/mutate.c" >&2
	exit 2
fi

passed=0
failed=0
result() { # GROUP FAILFILE COUNT
	if [ -s "$2" ]; then
		echo "FAIL $1: $(wc -l <"$2") of $3 variants:"
		head -n 5 "$2" | sed 's/^/    /'
		failed=$((failed + 1))
	else
		echo "PASS $1 ($3 variants)"
		passed=$((passed + 1))
	fi
}

# judge TOOL FILE RC ERR: sets 'why' to why the run broke the rules, or to
# nothing.  Only hpbuild may write to stderr when it exits 1: the findings
# that refused the change (a corrupt object may well look like an unsafe
# change).  The common cases cost no process: thousands of runs.
judge() {
	why=
	j_first=
	j_second=
	if [ -s "$4" ]; then
		{
			IFS= read -r j_first
			IFS= read -r j_second
		} <"$4"
		j_rep=$j_first
		# a report may start with a blank or '====' line: search it all
		[ -n "$j_second" ] || [ -z "$j_first" ] &&
			j_rep=$(grep -m 1 -E 'Sanitizer|runtime error:' "$4")
		case $j_rep in
		*Sanitizer*|*"runtime error:"*)
			why="sanitizer: $j_rep"
			return
			;;
		esac
	fi
	case $3 in
	0|1)
		if [ -s "$4" ] && ! { [ "$1" = hpbuild ] && [ "$3" = 1 ]; }; then
			why="exit $3 with stderr: $j_first"
		fi
		;;
	2)
		if [ -z "$j_first" ]; then
			why="exit 2 without an error line"
		elif [ -n "$j_second" ]; then
			why="exit 2 with more than one line on stderr: $j_first / $j_second"
		elif [ "${j_first#"$1: "}" = "$j_first" ]; then
			why="error line does not start with '$1: ': $j_first"
		else
			case $j_first in
			*"$2"*) ;;
			*) why="error line does not name the file: $j_first" ;;
			esac
		fi
		;;
	124) why="hang: no exit within 10 s" ;;
	*)
		if [ "$3" -gt 128 ]; then
			why="killed by signal $(($3 - 128))"
		else
			why="exit status $3"
		fi
		;;
	esac
}

# fail_with VARIANT WHY FAILS: record one failure, keep the variant.
fail_with() {
	echo "$(basename "$1"): $2" >>"$3"
	mkdir -p "$keep"
	cp "$1" "$keep/" 2>/dev/null
}

# run_hpdiff WORKDIR FAILS SIDE OTHER VARIANT...: hpdiff with each variant
# as SIDE (old|new) and OTHER as the other object.
run_hpdiff() {
	rh_w=$1 rh_fails=$2 rh_side=$3 rh_other=$4
	shift 4
	mkdir -p "$rh_w"
	rh_n=0
	for v in "$@"; do
		rh_n=$((rh_n + 1))
		if [ $((rh_n % 8)) = 1 ]; then ASAN_OPTIONS=$asan_leaks; else ASAN_OPTIONS=$asan_fast; fi
		if [ "$rh_side" = old ]; then
			timeout 120 "$hpdiff" "$v" "$rh_other" >"$rh_w/out" 2>"$rh_w/err"
		else
			timeout 120 "$hpdiff" "$rh_other" "$v" >"$rh_w/out" 2>"$rh_w/err"
		fi
		judge hpdiff "$v" $? "$rh_w/err"
		[ -n "$why" ] && fail_with "$v" "$why" "$rh_fails"
	done
	return 0
}

# run_hpbuild WORKDIR FAILS SIDE OTHER VARIANT...: hpbuild -o into an empty
# directory; on failure the directory must stay empty.
run_hpbuild() {
	rb_w=$1 rb_fails=$2 rb_side=$3 rb_other=$4
	shift 4
	mkdir -p "$rb_w/out"
	rb_n=0
	for v in "$@"; do
		rb_n=$((rb_n + 1))
		if [ $((rb_n % 8)) = 1 ]; then ASAN_OPTIONS=$asan_leaks; else ASAN_OPTIONS=$asan_fast; fi
		rm -rf "$rb_w/out"/* "$rb_w/out"/.[!.]* 2>/dev/null
		if [ "$rb_side" = old ]; then
			set -- "$v" "$rb_other"
		else
			set -- "$rb_other" "$v"
		fi
		(cd "$rb_w/out" && timeout 120 "$hpbuild" -q "$1" "$2" -o "$rb_w/out/x.hpk") \
			>"$rb_w/stdout" 2>"$rb_w/err"
		rc=$?
		judge hpbuild "$v" $rc "$rb_w/err"
		left=$(ls -A "$rb_w/out")
		if [ -z "$why" ] && [ $rc -ne 0 ] && [ -n "$left" ]; then
			why="exit $rc but left files: $(echo "$left" | tr "\n" " ")"
		fi
		if [ -z "$why" ] && [ $rc -eq 0 ] && [ -x "$hpverify" ]; then
			timeout 120 "$hpverify" "$rb_w/out/x.hpk" >"$rb_w/stdout" 2>"$rb_w/err"
			vrc=$?
			[ $vrc -le 1 ] || why="hpbuild wrote a package hpverify rejects (exit $vrc): $(head -n 1 "$rb_w/err")"
		fi
		[ -n "$why" ] && fail_with "$v" "$why" "$rb_fails"
	done
	return 0
}

# run_hpverify WORKDIR FAILS VARIANT...: every variant must be refused.
run_hpverify() {
	rv_w=$1 rv_fails=$2
	shift 2
	mkdir -p "$rv_w"
	for v in "$@"; do
		timeout 120 "$hpverify" "$v" >"$rv_w/out" 2>"$rv_w/err"
		rc=$?
		judge hpverify "$v" $rc "$rv_w/err"
		[ -z "$why" ] && [ $rc -ne 2 ] && why="corrupt package accepted (exit $rc)"
		[ -n "$why" ] && fail_with "$v" "$why" "$rv_fails"
	done
	return 0
}

# in_parallel STEM RUNNER ARGS... -- VARIANT...: RUNNER STEM.run.J STEM.fails.J
# ARGS... and its share of the variants, round-robin over $jobs workers;
# the failures end up in STEM.fails.  No blanks in ARGS (paths in $tmp).
in_parallel() {
	ip_stem=$1 ip_runner=$2
	shift 2
	ip_args=
	while [ "$1" != -- ]; do
		ip_args="$ip_args $1"
		shift
	done
	shift
	j=0
	ip_pids=
	while [ $j -lt "$jobs" ]; do
		(
			i=0
			list=
			for v in "$@"; do
				[ $((i % jobs)) -eq $j ] && list="$list $v"
				i=$((i + 1))
			done
			: >"$ip_stem.fails.$j"
			# shellcheck disable=SC2086
			$ip_runner "$ip_stem.run.$j" "$ip_stem.fails.$j" $ip_args $list
		) &
		ip_pids="$ip_pids $!"
		j=$((j + 1))
	done
	# only the workers: a target process of the caller may be running
	# shellcheck disable=SC2086
	wait $ip_pids
	cat "$ip_stem".fails.* >"$ip_stem.fails"
	return 0
}

# The fixture objects: FIXTURE COMPILER SIDE (which of the pair is corrupted).
objects="10-switch-jump-table gcc old
13-cold-split clang new
18-new-tls gcc new"

. "$root/tests/e2e/lib/fixture.sh"

: >"$tmp/objects"
echo "$objects" | while read -r fx cc side; do
	w=$tmp/$fx-$cc
	if ! compile_fixture "$fixdir/$fx" "$cc" "$w"; then
		echo "FAIL fixtures/$fx $cc: does not compile"
		echo x >>"$tmp/compile-failed"
		continue
	fi
	echo "$fx $cc $side $w" >>"$tmp/objects"
done
[ -f "$tmp/compile-failed" ] && failed=$((failed + $(wc -l <"$tmp/compile-failed")))

while read -r fx cc side w; do
	obj=$w/$side.o
	if [ "$side" = old ]; then other=$w/new.o; else other=$w/old.o; fi
	name="fixtures/$fx $cc $side.o"
	mkdir -p "$w/trunc" "$w/flip"
	"$tmp/mutate" trunc "$obj" 37 "$w/trunc" || exit 2
	"$tmp/mutate" flip "$obj" 20240601 300 "$w/flip" || exit 2

	# shellcheck disable=SC2046
	in_parallel "$w/t" run_hpdiff "$side" "$other" -- $(ls "$w/trunc"/t.*)
	result "hpdiff $name truncated" "$w/t.fails" "$(ls "$w/trunc" | wc -l)"
	# shellcheck disable=SC2046
	in_parallel "$w/f" run_hpdiff "$side" "$other" -- $(ls "$w/flip"/f.*)
	result "hpdiff $name bit flips" "$w/f.fails" "$(ls "$w/flip" | wc -l)"

	if [ -x "$hpbuild" ]; then
		# shellcheck disable=SC2046
		set -- $(ls "$w/trunc"/t.* "$w/flip"/f.* | awk 'NR % 8 == 0')
		in_parallel "$w/b" run_hpbuild "$side" "$other" -- "$@"
		result "hpbuild -o on $name corrupted" "$w/b.fails" $#
	fi
done <"$tmp/objects"

# The objects the fuzzers found bugs with (fuzz/crashes/fuzz_elf), through
# the command: each as NEW against an intact OLD.
set --
for f in "$root"/fuzz/crashes/fuzz_elf/*; do
	[ -f "$f" ] && set -- "$@" "$f"
done
if [ $# -gt 0 ] && [ -s "$tmp/objects" ]; then
	read -r fx cc side w <"$tmp/objects"
	in_parallel "$tmp/r" run_hpdiff new "$w/old.o" -- "$@"
	result "hpdiff on the fuzz reproducers in fuzz/crashes/fuzz_elf" "$tmp/r.fails" $#
fi

# run_pairs WORKDIR FAILS STEM...: hpdiff STEM.old STEM.new; an error line
# may name either file.
run_pairs() {
	rp_w=$1 rp_fails=$2
	shift 2
	mkdir -p "$rp_w"
	for v in "$@"; do
		timeout 120 "$hpdiff" "$v.old" "$v.new" >"$rp_w/out" 2>"$rp_w/err"
		judge hpdiff "$v." $? "$rp_w/err"
		[ -n "$why" ] && fail_with "$v.new" "$why" "$rp_fails"
	done
	return 0
}

# The pairs fuzz_diff found bugs with (fuzz/crashes/fuzz_diff), split as
# the target splits its input: 4-byte length of OLD (top bit: --all), OLD,
# NEW.
mkdir -p "$tmp/pairs"
set --
for f in "$root"/fuzz/crashes/fuzz_diff/*; do
	[ -f "$f" ] || continue
	n=$(($(od -An -tu4 -N4 "$f" | tr -d ' ') & 0x7fffffff))
	b=$tmp/pairs/$(basename "$f")
	tail -c +5 "$f" | head -c "$n" >"$b.old"
	tail -c +$((5 + n)) "$f" >"$b.new"
	set -- "$@" "$b"
done
if [ $# -gt 0 ]; then
	run_pairs "$tmp/p.run" "$tmp/p.fails" "$@"
	result "hpdiff on the fuzz reproducers in fuzz/crashes/fuzz_diff" "$tmp/p.fails" $#
fi

# run_hostile WORKDIR FAILS LIST VARIANT...: each variant must be refused
# with a line that names the check (LIST: "NAME<TAB>TEXT" lines); TEXT "-"
# marks an extreme but possibly valid package: hpverify --audit must give
# any verdict without breaking the rules of judge().
run_hostile() {
	rx_w=$1 rx_fails=$2 rx_list=$3
	shift 3
	mkdir -p "$rx_w"
	tab=$(printf '\t')
	for v in "$@"; do
		n=$(basename "$v" .hpk)
		text=$(grep "^$n$tab" "$rx_list" | cut -f 2)
		if [ "$text" = - ]; then
			timeout 120 "$hpverify" --audit "$v" >"$rx_w/out" 2>"$rx_w/err"
			judge hpverify "$v" $? "$rx_w/err"
			[ -n "$why" ] && fail_with "$v" "$why" "$rx_fails"
			continue
		fi
		timeout 120 "$hpverify" "$v" >"$rx_w/out" 2>"$rx_w/err"
		rc=$?
		judge hpverify "$v" $rc "$rx_w/err"
		[ -z "$why" ] && [ $rc -ne 2 ] && why="hostile package accepted (exit $rc)"
		if [ -z "$why" ] && ! grep -qF -- "$text" "$rx_w/err"; then
			why="error line does not name the check ('$text'): $(head -n 1 "$rx_w/err")"
		fi
		[ -n "$why" ] && fail_with "$v" "$why" "$rx_fails"
	done
	return 0
}

# Packages: a small fixture package (with relocations, masks, data and a
# recorded finding), every single-bit flip of it and hostile edits of it.
# tests/e2e/corrupt/pkgcorrupt.c makes them, linked with the build's
# library (and its sanitizers).
package_suite() {
	w=$tmp/pkg
	mkdir -p "$w"
	san=
	nm "$build/libhp.a" 2>/dev/null | grep -q __asan_ &&
		san="-fsanitize=address,undefined -fno-sanitize-recover=all"
	# shellcheck disable=SC2086
	if ! gcc -std=gnu11 -g -O1 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter $san \
		-I"$root/lib" -o "$tmp/pkgcorrupt" "$root/tests/e2e/corrupt/pkgcorrupt.c" \
		"$build/libhp.a" -lxxhash -lsodium -ldwarf -lelf -lz >"$w/cc.log" 2>&1; then
		echo "FAIL tests/e2e/corrupt/pkgcorrupt.c does not build: $(grep -m 1 error "$w/cc.log")"
		failed=$((failed + 1))
		return
	fi
	# every rule allowed: the package records findings, and no rule stops it
	allow=$(grep -o '{ "HP[0-9]*"' "$root/hpverify/rules.c" 2>/dev/null | tr -d '{" ' | sed 's/^/--allow=/')
	pkg=
	for fc in "56-rule-unsupported-reloc clang" "07-changed-string gcc" "01-body-change gcc"; do
		set -- $fc
		[ -d "$root/fixtures/$1" ] || continue
		rm -rf "$w/src"
		# shellcheck disable=SC2086
		if compile_fixture "$fixdir/$1" "$2" "$w/src" &&
			(cd "$w/src" && "$hpbuild" -q $allow old.o new.o -o small.hpk) >/dev/null 2>"$w/err"; then
			pkg=$w/src/small.hpk
			pkgname="fixtures/$1 $2"
			break
		fi
	done
	if [ -z "$pkg" ]; then
		echo "FAIL hpbuild makes no package of the fixtures: $(head -n 1 "$w/err")"
		failed=$((failed + 1))
		return
	fi
	bytes=$(wc -c <"$pkg")

	timeout 120 "$hpverify" "$pkg" >/dev/null 2>"$w/err"
	rc=$?
	if [ $rc -gt 1 ]; then
		echo "FAIL hpverify on the intact package of $pkgname: exit $rc: $(head -n 1 "$w/err")"
		failed=$((failed + 1))
		return
	fi
	echo "PASS hpverify on the intact package of $pkgname (exit $rc)"
	passed=$((passed + 1))

	"$tmp/pkgcorrupt" flips "$pkg" >"$w/flips" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		echo "PASS package reader on every single-bit flip of the $bytes-byte package ($(tail -n 1 "$w/flips"))"
		passed=$((passed + 1))
	else
		echo "FAIL package reader on every single-bit flip of the $bytes-byte package (exit $rc):"
		head -n 5 "$w/flips" | sed 's/^/    /'
		failed=$((failed + 1))
	fi

	mkdir -p "$w/bits"
	"$tmp/mutate" bits "$pkg" 0 $((bytes * 8 - 1)) "$w/bits" 33 || exit 2
	# shellcheck disable=SC2046
	in_parallel "$w/v" run_hpverify -- $(ls "$w/bits"/b.*)
	result "hpverify on one bit flip in every 4 bytes of the package" "$w/v.fails" "$(ls "$w/bits" | wc -l)"

	mkdir -p "$w/hostile"
	if ! "$tmp/pkgcorrupt" hostile "$pkg" "$w/hostile" >"$w/hostile.list" 2>"$w/hostile.err"; then
		echo "FAIL pkgcorrupt hostile: $(head -n 1 "$w/hostile.err")"
		failed=$((failed + 1))
		return
	fi
	# shellcheck disable=SC2046
	in_parallel "$w/x" run_hostile "$w/hostile.list" -- $(ls "$w/hostile"/*.hpk)
	result "hpverify on hostile packages with consistent checksums (--audit on the extreme ones)" "$w/x.fails" "$(wc -l <"$w/hostile.list")"
	sed 's/^pkgcorrupt: /    note: /' "$w/hostile.err"

	# the packages the fuzzers found bugs with, sealed as the targets
	# read them (fuzz_seal.h), through hpverify --audit: any verdict
	mkdir -p "$w/repro"
	: >"$w/repro.list"
	for f in "$root"/fuzz/crashes/fuzz_hpk/* "$root"/fuzz/crashes/fuzz_audit/*; do
		[ -f "$f" ] || continue
		n=$(basename "$(dirname "$f")")-$(basename "$f")
		"$tmp/pkgcorrupt" seal "$f" "$w/repro/$n.hpk" || exit 2
		printf '%s\t-\n' "$n" >>"$w/repro.list"
	done
	if [ -s "$w/repro.list" ]; then
		# shellcheck disable=SC2046
		in_parallel "$w/y" run_hostile "$w/repro.list" -- $(ls "$w/repro"/*.hpk)
		result "hpverify --audit on the fuzz reproducers in fuzz/crashes/fuzz_{hpk,audit}" "$w/y.fails" "$(wc -l <"$w/repro.list")"
	fi

	if [ -x "$hpapply" ]; then
		hpapply_suite
	else
		echo "SKIP hpapply: not built yet"
	fi
}

# run_hpapply WORKDIR FAILS TARGET VARIANT...: hpapply -p TARGET on each
# refused package must exit 2 with one line, and (strace shows it) never
# ptrace the target or open anything under /proc/TARGET/.  LeakSanitizer
# cannot run under strace: leaks are checked in a second run without it.
run_hpapply() {
	ra_w=$1 ra_fails=$2 ra_pid=$3
	shift 3
	mkdir -p "$ra_w"
	for v in "$@"; do
		timeout 20 "$hpapply" -p "$ra_pid" "$v" >"$ra_w/out" 2>"$ra_w/err"
		rc=$?
		judge hpapply "$v" $rc "$ra_w/err"
		[ -z "$why" ] && [ $rc -ne 2 ] && why="corrupt package not refused (exit $rc)"
		if [ -z "$why" ]; then
			ASAN_OPTIONS=detect_leaks=0 timeout 20 strace -f -qq -o "$ra_w/trace" \
				-e trace=ptrace,open,openat,process_vm_readv,process_vm_writev,pidfd_open \
				"$hpapply" -p "$ra_pid" "$v" >"$ra_w/out" 2>"$ra_w/err"
			touch=$(grep -m 1 -E "ptrace\\([A-Z_]+, ${ra_pid}[,)]|/proc/$ra_pid/|process_vm_|pidfd_open\\($ra_pid" "$ra_w/trace")
			[ -n "$touch" ] && why="touched the process before refusing the package: $touch"
		fi
		[ -n "$why" ] && fail_with "$v" "$why" "$ra_fails"
	done
	return 0
}

# hpapply on the refused packages (hostile ones and a sample of the flips),
# with a process to aim at.
hpapply_suite() {
	if ! command -v strace >/dev/null 2>&1 || ! strace -o /dev/null true 2>/dev/null; then
		echo "SKIP hpapply: strace is not installed or cannot trace here (make deps)"
		return
	fi
	sleep 600 &
	target=$!
	set --
	while IFS="$(printf '\t')" read -r n text; do
		[ "$text" = - ] || set -- "$@" "$w/hostile/$n.hpk"
	done <"$w/hostile.list"
	# shellcheck disable=SC2046
	set -- "$@" $(ls "$w/bits"/b.* | awk 'NR % 8 == 1')
	in_parallel "$w/a" run_hpapply "$target" -- "$@"
	kill "$target" 2>/dev/null
	wait "$target" 2>/dev/null
	result "hpapply refuses corrupt and hostile packages before touching the process" "$w/a.fails" $#
}

if [ -x "$hpbuild" ] && [ -x "$hpverify" ]; then
	package_suite
else
	echo "SKIP packages: $build has no hpbuild and hpverify yet (the package reader is covered by tests/e2e/fuzz-replay.sh)"
fi

echo "corrupt: $passed passed, $failed failed"
[ $failed -eq 0 ]
