# fixture.sh - what the end-to-end suites share: the tools under test
# (need_tools: every suite), the fixtures to run and how a fixture is
# compiled (fixtures.sh, package.sh, rules.sh, corrupt.sh), and the
# cases known to be wrong today (PENDING).  Sourced by them
# (". lib/fixture.sh"), never run on
# its own: tests/run.sh runs only tests/e2e/*.sh.
#
# Sets root (the tree), fixdir (its fixtures/), default_flags (the flags a
# fixture without a cflags file is compiled with) and compilers (the
# FIXTURE_COMPILERS to run, default "gcc clang").

root=$(cd "$(dirname "$0")/../.." && pwd)
fixdir=$root/fixtures
default_flags="-O2 -g -ffunction-sections -fdata-sections"
compilers=${FIXTURE_COMPILERS:-gcc clang}

# need_tools SUITE BUILD_DIR TOOL...: sets build_dir (made absolute); exits
# 2 naming the first TOOL that is not built there.
need_tools() {
	nt_suite=$1
	build_dir=$2
	shift 2
	case $build_dir in /*) ;; *) build_dir=$(pwd)/$build_dir ;; esac
	for nt_tool in "$@"; do
		if [ ! -x "$build_dir/$nt_tool" ]; then
			echo "$nt_suite: $build_dir/$nt_tool: no such executable (run make first)" >&2
			exit 2
		fi
	done
}

# fixture_list SUITE MARKER LIST [FIXTURE...]: writes to file LIST the
# fixture directories to run, one a line: the FIXTUREs named (a directory,
# or a name under fixtures/), else every fixtures/NN-*/ that has a file
# MARKER (expect, findings, old.c).  Exits 2 on a FIXTURE without MARKER,
# or when there is none.
fixture_list() {
	fl_suite=$1 fl_marker=$2 fl_list=$3
	shift 3
	: >"$fl_list"
	if [ $# -eq 0 ]; then
		for fl_dir in "$fixdir"/[0-9]*-*/; do
			[ -f "$fl_dir/$fl_marker" ] && echo "${fl_dir%/}" >>"$fl_list"
		done
	else
		for fl_name in "$@"; do
			fl_name=${fl_name%/}
			if [ -f "$fl_name/$fl_marker" ]; then
				(cd "$fl_name" && pwd) >>"$fl_list"
			elif [ -f "$fixdir/${fl_name#fixtures/}/$fl_marker" ]; then
				echo "$fixdir/${fl_name#fixtures/}" >>"$fl_list"
			else
				echo "$fl_suite: $fl_name: not a fixture for this suite (no $fl_marker file)" >&2
				exit 2
			fi
		done
	fi
	if [ ! -s "$fl_list" ]; then
		echo "$fl_suite: no fixtures with a $fl_marker file in $fixdir" >&2
		exit 2
	fi
}

# first_line FILE: the first line of FILE that is neither blank nor a comment.
first_line() {
	sed -n '/^[[:space:]]*#/d; /[^[:space:]]/{p;q;}' "$1"
}

# fixture_flags DIR: the fixture's compiler flags (DIR/cflags), or the default.
fixture_flags() {
	if [ -f "$1/cflags" ]; then
		first_line "$1/cflags"
	else
		echo "$default_flags"
	fi
}

# compiler_cmd CC: the command for compiler name CC (GCC, CLANG override).
compiler_cmd() {
	case $1 in gcc) echo "${GCC:-gcc}" ;; clang) echo "${CLANG:-clang}" ;; *) echo "$1" ;; esac
}

# compile_fixture DIR CC W: fixture DIR's old.c and new.c compiled by CC
# (gcc, clang) with the fixture's flags into W/old.o and W/new.o, each
# under the same file name in W/old/ and W/new/ so that __FILE__ and the
# DWARF names agree, as a rebuild of one source file does.  The
# compiler's messages go to W/cc.log; on failure, cf_failed is old or new.
#
# With FIXTURE_CACHE set (tests/run.sh sets it), a compilation that
# tests/fixture-cache.sh made there already is copied instead: the same
# sources, flags and compiler give the same objects, and the suites that
# compile every fixture would otherwise each compile it again.
compile_fixture() {
	cf_dir=$1 cf_cc=$(compiler_cmd "$2") cf_w=$3
	cf_src=$(basename "$cf_dir" | sed 's/^[0-9]*-//; s/-/_/g').c
	if [ -n "${FIXTURE_CACHE:-}" ]; then
		cf_c=$FIXTURE_CACHE/$(fixture_key "$cf_dir" "$2")
		if [ -f "$cf_c/done" ]; then
			mkdir -p "$cf_w"
			cp -R "$cf_c/old" "$cf_c/new" "$cf_c/old.o" "$cf_c/new.o" "$cf_c/cc.log" "$cf_w/"
			cf_failed=
			return 0
		fi
	fi
	cf_flags=$(fixture_flags "$cf_dir")
	mkdir -p "$cf_w/old" "$cf_w/new"
	for cf_failed in old new; do
		cp "$cf_dir/$cf_failed.c" "$cf_w/$cf_failed/$cf_src"
		# shellcheck disable=SC2086
		(cd "$cf_w/$cf_failed" && $cf_cc $cf_flags -c "$cf_src" -o "../$cf_failed.o") \
			>"$cf_w/cc.log" 2>&1 || return 1
	done
	cf_failed=
}

# compiler_version CC: the first line of CC --version, asked once per
# shell (and exported, for the shells a suite starts)
compiler_version() {
	case $1 in
	gcc) [ -n "${FIXTURE_GCC_VERSION:-}" ] ||
		{ FIXTURE_GCC_VERSION=$($(compiler_cmd gcc) --version 2>&1 | head -n 1); export FIXTURE_GCC_VERSION; }
		echo "$FIXTURE_GCC_VERSION" ;;
	clang) [ -n "${FIXTURE_CLANG_VERSION:-}" ] ||
		{ FIXTURE_CLANG_VERSION=$($(compiler_cmd clang) --version 2>&1 | head -n 1); export FIXTURE_CLANG_VERSION; }
		echo "$FIXTURE_CLANG_VERSION" ;;
	*) $(compiler_cmd "$1") --version 2>&1 | head -n 1 ;;
	esac
}

# fixture_key DIR CC: names a compilation of fixture DIR by compiler CC:
# the fixture, the compiler, and a checksum of the sources, the flags and
# the compiler's version (a change of any of them is another compilation)
fixture_key() {
	fk_sum=$({
		cat "$1/old.c" "$1/new.c"
		fixture_flags "$1"
		compiler_version "$2"
	} | cksum | cut -d' ' -f1)
	echo "$(basename "$1")/$2-$fk_sum"
}

# other_compiler CC: clang for gcc, gcc for clang.
other_compiler() {
	case $1 in gcc) echo clang ;; *) echo gcc ;; esac
}

# ---- cases known to be wrong today ----
#
# A suite may set PENDING before it prints results: the cases the tools
# get wrong today, whose expectation (the fixture) is the right answer.
# One entry a line, '#' comments allowed:
#     FIXTURE[:CC]  REASON
# FIXTURE is the directory name (70-part-direct-call), CC limits the entry
# to one compiler.  A pending case that fails prints "PENDING ..." and
# does not fail the suite; one that passes fails it, so that the entry is
# removed as soon as the tools are fixed (a passing case is never pending).

# pending_reason NAME CC: the REASON of NAME's entry for compiler CC, if any.
pending_reason() {
	printf '%s\n' "${PENDING:-}" | awk -v n="$1" -v cc="$2" '
		/^[[:space:]]*(#|$)/ { next }
		$1 == n || $1 == n ":" cc {
			sub(/^[[:space:]]*[^[:space:]]+[[:space:]]*/, ""); print; exit
		}'
}

# case_line LABEL NAME CC VERDICT: the result line of one case (VERDICT is
# PASS or why it failed): "PASS LABEL", "FAIL LABEL: why", or for a case
# on the PENDING list "PENDING LABEL: reason; now: why".
case_line() {
	cl_reason=$(pending_reason "$2" "$3")
	if [ -z "$cl_reason" ]; then
		if [ "$4" = PASS ]; then echo "PASS $1"; else echo "FAIL $1: $4"; fi
	elif [ "$4" = PASS ]; then
		echo "FAIL $1: passes, but is on the pending list ($cl_reason): remove it from PENDING"
	else
		echo "PENDING $1: $cl_reason; now: $4"
	fi
}

# summary SUITE RESULTS: the closing line "SUITE: N passed, M failed, K
# pending" from the case lines in file RESULTS; false if a case failed.
summary() {
	sm_pass=$(grep -c '^PASS ' "$2")
	sm_fail=$(grep -c '^FAIL ' "$2")
	sm_pending=$(grep -c '^PENDING ' "$2")
	echo "$1: $sm_pass passed, $sm_fail failed, $sm_pending pending"
	[ "$sm_fail" -eq 0 ]
}
