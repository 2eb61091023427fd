#!/bin/sh
# fixtures.sh - run hpdiff on every fixture scenario and compare its report
# with the expectation written down in the fixture (fixtures/README.md).
#
#   sh tests/e2e/fixtures.sh BUILD_DIR [FIXTURE...]
#
# For each fixture and each compiler (gcc, clang): compile old.c and new.c
# under the same file name (so __FILE__ and DWARF names agree) with the
# fixture's cflags, run BUILD_DIR/hpdiff old.o new.o, and compare the set
# of "STATUS KIND NAME" entries it reports with the fixture's expect file
# for that compiler.  Prints one "PASS ..." or "FAIL ...: why" line per
# case, then "fixtures: N passed, M failed"; exits 1 if any case failed,
# 2 on a usage error.  A case fails when hpdiff exits with anything but 0
# (nothing reported) or 1 (something reported), dies of a signal or runs
# over 120 s.  POSIX sh only: a fresh Debian may have no python.
#
# Environment: GCC, CLANG (compiler commands; default gcc, clang),
# FIXTURE_COMPILERS (default "gcc clang"), FIXTURES_VERBOSE=1 (copy
# hpdiff's output and stderr of every case to stderr).

set -u

usage() {
	echo "usage: sh tests/e2e/fixtures.sh BUILD_DIR [FIXTURE...]" >&2
	echo "  FIXTURE is a fixture directory or its name (e.g. 01-body-change)" >&2
	exit 2
}

[ $# -ge 1 ] || usage
. "$(dirname "$0")/lib/fixture.sh"
need_tools fixtures.sh "$1" hpdiff
shift
hpdiff=$build_dir/hpdiff

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hpfixtures.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The fixtures to run: the arguments, or every fixtures/NN-* directory.
list=$tmp/list
fixture_list fixtures.sh expect "$list" "$@"

# Cases hpdiff gets wrong today; the fixture is the right answer
# (lib/fixture.sh, "cases known to be wrong today").  FIXTURE[:CC] REASON.
PENDING='
'

# expected_entries DIR CC OUT BAD: write "STATUS KIND NAME<TAB>REASON"
# lines of DIR/expect that apply to compiler CC into OUT; malformed lines
# go to BAD.  Comments run from '#' to the end of the line.
expected_entries() {
	ee_dir=$1 ee_cc=$2 ee_out=$3 ee_bad=$4
	: >"$ee_out"
	: >"$ee_bad"
	n=0
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		line=${line%%#*}
		# trim: a reason substring must not depend on trailing blanks
		line=$(printf '%s' "$line" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')
		[ -n "$line" ] || continue
		case $line in
		gcc:*) [ "$ee_cc" = gcc ] || continue; line=${line#gcc:} ;;
		clang:*) [ "$ee_cc" = clang ] || continue; line=${line#clang:} ;;
		esac
		reason=
		case $line in
		*" -- "*) reason=${line#* -- }; line=${line%% -- *} ;;
		esac
		set -f
		# shellcheck disable=SC2086
		set -- $line
		set +f
		if [ $# -ne 3 ]; then
			echo "expect line $n: want STATUS KIND NAME" >>"$ee_bad"
			continue
		fi
		case $1 in changed|added|removed) ;; *)
			echo "expect line $n: bad status '$1'" >>"$ee_bad"; continue ;;
		esac
		case $2 in function|object) ;; *)
			echo "expect line $n: bad kind '$2'" >>"$ee_bad"; continue ;;
		esac
		printf '%s %s %s\t%s\n' "$1" "$2" "$3" "$reason" >>"$ee_out"
	done <"$ee_dir/expect"
}

# reported_entries OUT ENTRIES BAD: parse hpdiff's text output OUT into
# "STATUS KIND NAME<TAB>REASONS" lines; lines that are neither entries nor
# note:/warning: lines go to BAD.
reported_entries() {
	re_in=$1 re_out=$2 re_bad=$3
	: >"$re_out"
	: >"$re_bad"
	while IFS= read -r line || [ -n "$line" ]; do
		case $line in
		note:*|warning:*|"") continue ;;
		esac
		set -f
		# shellcheck disable=SC2086
		set -- $line
		set +f
		ok=1
		[ $# -ge 3 ] || ok=0
		if [ $ok = 1 ]; then
			case $1 in changed|added|removed) ;; *) ok=0 ;; esac
			case $2 in function|object) ;; *) ok=0 ;; esac
		fi
		if [ $ok = 0 ]; then
			echo "not an entry: $line" >>"$re_bad"
			continue
		fi
		name=${3%:}
		# the reasons: what follows NAME and an optional "(FILE:LINE)"
		rest=$(printf '%s' "$line" | sed 's/^[[:space:]]*[^[:space:]]*[[:space:]]*[^[:space:]]*[[:space:]]*[^[:space:]]*//
			s/^[[:space:]]*([^)]*)//; s/^[[:space:]]*:*[[:space:]]*//')
		printf '%s %s %s\t%s\n' "$1" "$2" "$name" "$rest" >>"$re_out"
	done <"$re_in"
}

# join_lines: stdin's lines joined by ", ".
join_lines() {
	awk 'NR > 1 { printf ", " } { printf "%s", $0 }'
}

# run_case DIR CC: compile, diff, compare.  Sets 'verdict' to PASS or to
# the failure text.
run_case() {
	dir=$1
	cc=$2
	w=$tmp/case
	rm -rf "$w"
	if ! compile_fixture "$dir" "$cc" "$w"; then
		verdict="$cf_failed.c does not compile: $(head -n 1 "$w/cc.log")"
		return
	fi

	# a hang is a failure too: timeout(1) is in coreutils
	if command -v timeout >/dev/null 2>&1; then
		timeout 120 "$hpdiff" "$w/old.o" "$w/new.o" >"$w/out" 2>"$w/err"
	else
		"$hpdiff" "$w/old.o" "$w/new.o" >"$w/out" 2>"$w/err"
	fi
	rc=$?
	if [ "${FIXTURES_VERBOSE:-0}" = 1 ]; then
		sed "s|^|  [$base $cc] |" "$w/out" "$w/err" >&2
	fi
	if [ $rc -gt 1 ]; then
		if [ $rc -eq 124 ]; then
			verdict="hpdiff did not finish in 120 s"
		elif [ $rc -gt 128 ]; then
			verdict="hpdiff killed by signal $((rc - 128))"
		else
			verdict="hpdiff exit status $rc: $(head -n 1 "$w/err")"
		fi
		return
	fi

	expected_entries "$dir" "$cc" "$w/exp" "$w/exp.bad"
	if [ -s "$w/exp.bad" ]; then
		verdict="bad expect file: $(head -n 1 "$w/exp.bad")"
		return
	fi
	reported_entries "$w/out" "$w/got" "$w/got.bad"

	cut -f 1 "$w/exp" | LC_ALL=C sort -u >"$w/exp.set"
	cut -f 1 "$w/got" | LC_ALL=C sort >"$w/got.all"
	LC_ALL=C sort -u "$w/got.all" >"$w/got.set"
	missing=$(LC_ALL=C comm -23 "$w/exp.set" "$w/got.set" | join_lines)
	unexpected=$(LC_ALL=C comm -13 "$w/exp.set" "$w/got.set" | join_lines)
	dups=$(LC_ALL=C uniq -d "$w/got.all" | join_lines)

	problems=
	[ -n "$missing" ] && problems="$problems; missing: $missing"
	[ -n "$unexpected" ] && problems="$problems; unexpected: $unexpected"
	[ -n "$dups" ] && problems="$problems; reported twice: $dups"
	if [ -s "$w/got.bad" ]; then
		problems="$problems; $(head -n 1 "$w/got.bad")"
	fi
	if [ -s "$w/got.set" ] && [ $rc -ne 1 ]; then
		problems="$problems; exit status $rc with entries reported (want 1)"
	fi
	if [ ! -s "$w/got.set" ] && [ ! -s "$w/got.bad" ] && [ $rc -ne 0 ]; then
		problems="$problems; exit status $rc with nothing reported (want 0)"
	fi

	# each "-- REASON" must appear in that entry's reasons
	tab=$(printf '\t')
	while IFS="$tab" read -r entry reason; do
		[ -n "$reason" ] || continue
		found=0
		while IFS="$tab" read -r gentry greasons; do
			[ "$gentry" = "$entry" ] || continue
			found=1
			case $greasons in
			*"$reason"*) found=2 ;;
			esac
			[ $found = 2 ] && break
		done <"$w/got"
		if [ $found = 1 ]; then
			problems="$problems; $entry: no reason '$reason'"
		fi
	done <"$w/exp"

	if [ -n "$problems" ]; then
		verdict=${problems#; }
	else
		verdict=PASS
	fi
}

while IFS= read -r dir; do
	base=$(basename "$dir")
	for cc in $compilers; do
		verdict=
		run_case "$dir" "$cc"
		case_line "fixtures/$base $cc" "$base" "$cc" "$verdict"
	done
done <"$list" | tee "$tmp/results"

summary fixtures "$tmp/results"
