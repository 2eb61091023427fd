#!/bin/sh
# valgrind.sh - run the tools under valgrind on a few fixtures: no memory
# errors, no definite or indirect leaks, on success and on error paths.
#
#   sh tests/e2e/valgrind.sh BUILD_DIR
#
# Sanitizers and valgrind do not mix, so when BUILD_DIR is a sanitizer
# build (make check's build/check) the tools are built again without them
# in build/valgrind (make BUILD=build/valgrind OPT=-O1, incremental).
# Runs: tests/e2e/fixtures.sh with hpdiff under valgrind on a few fixtures
# (VALGRIND_FIXTURES, "all" for every one: about 2 s a case), hpdiff
# --json --all, hpdiff on a truncated object (the exit-2 path), and
# hpbuild -o on a pair and on a truncated object, hpverify (plain, --audit
# --json) on the package and on a truncated one, hpapply on the truncated
# one (refused before it looks at a process), and hpapply applying,
# listing and reverting a package in a live program (tests/e2e/hpapply's
# body case).  The other hpapply cases run under ASan/UBSan in their own
# suites; the unit tests are the same library code.
# Prints PASS/FAIL lines and "valgrind: N passed, M failed"; exit 1 on a
# failure, 2 when valgrind or the build is missing.
# Environment: VALGRIND_TOOLS (default "hpdiff hpbuild hpverify hpapply":
# those with a main.c are built and run), VALGRIND_FIXTURES (fixture names,
# or "all").
set -u
[ $# -eq 1 ] || { echo "usage: sh tests/e2e/valgrind.sh BUILD_DIR" >&2; exit 2; }
build=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
command -v valgrind >/dev/null 2>&1 || { echo "valgrind.sh: valgrind not installed (make deps)" >&2; exit 2; }
export LC_ALL=C

if nm "$build/libhp.a" 2>/dev/null | grep -q __asan_; then
	vbuild=$root/build/valgrind
	set --
	for t in ${VALGRIND_TOOLS:-hpdiff hpbuild hpverify hpapply}; do
		[ -f "$root/$t/main.c" ] && set -- "$@" "build/valgrind/$t"
	done
	# a fresh make: not the jobserver of a make check that may run us
	if ! (cd "$root" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		make -s -j2 --no-print-directory BUILD=build/valgrind OPT=-O1 "$@") >"${TMPDIR:-/tmp}/hpvalgrind-build.$$" 2>&1; then
		echo "valgrind.sh: building the tools in build/valgrind failed:" >&2
		tail -n 5 "${TMPDIR:-/tmp}/hpvalgrind-build.$$" >&2
		rm -f "${TMPDIR:-/tmp}/hpvalgrind-build.$$"
		exit 2
	fi
	rm -f "${TMPDIR:-/tmp}/hpvalgrind-build.$$"
else
	vbuild=$build
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hpvalgrind.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

passed=0
failed=0
# vg NAME EXPECTED-EXITS CMD...: run CMD under valgrind.
vg() {
	vg_name=$1 vg_want=$2
	shift 2
	timeout 300 valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
		--track-origins=yes --log-file="$tmp/vg.log" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	case " $vg_want " in
	*" $rc "*)
		echo "PASS $vg_name (exit $rc)"
		passed=$((passed + 1))
		;;
	*)
		if [ $rc -eq 99 ]; then
			echo "FAIL $vg_name: valgrind found errors:"
			grep -v '^==[0-9]*== *$' "$tmp/vg.log" | head -n 25 | sed 's/^/    /'
		else
			echo "FAIL $vg_name: exit $rc (want $vg_want): $(head -n 1 "$tmp/err")"
		fi
		failed=$((failed + 1))
		;;
	esac
}

. "$root/tests/e2e/lib/fixture.sh"
. "$root/tests/e2e/lib/wait.sh"

# The fixture suite itself (tests/e2e/fixtures.sh: hpdiff's report checked
# against each fixture's expectations), with hpdiff run under valgrind by a
# wrapper; a valgrind error makes hpdiff exit 99, which fixtures.sh fails.
mkdir -p "$tmp/vgbin"
cat >"$tmp/vgbin/hpdiff" <<WRAPPER
#!/bin/sh
exec valgrind -q --error-exitcode=99 --leak-check=full \\
	--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \\
	--log-file="$tmp/vgfix.%p" "$vbuild/hpdiff" "\$@"
WRAPPER
chmod +x "$tmp/vgbin/hpdiff"
fixtures=${VALGRIND_FIXTURES:-01-body-change 10-switch-jump-table 13-cold-split 18-new-tls 30-O0-static-locals 35-part-split}
[ "$fixtures" = all ] && fixtures=
set --
for f in $fixtures; do
	[ -d "$root/fixtures/$f" ] && set -- "$@" "$f"
done
if [ -n "$fixtures" ] && [ $# -eq 0 ]; then
	echo "FAIL fixtures under valgrind: none of $fixtures exists"
	failed=$((failed + 1))
elif sh "$root/tests/e2e/fixtures.sh" "$tmp/vgbin" "$@" >"$tmp/fixtures.out" 2>&1; then
	echo "PASS hpdiff under valgrind in tests/e2e/fixtures.sh ($(tail -n 1 "$tmp/fixtures.out"))"
	passed=$((passed + 1))
else
	echo "FAIL hpdiff under valgrind in tests/e2e/fixtures.sh:"
	grep -v '^PASS' "$tmp/fixtures.out" | head -n 10 | sed 's/^/    /'
	for l in "$tmp"/vgfix.*; do
		[ -s "$l" ] && grep -v '^==[0-9]*== *$' "$l" | head -n 25 | sed 's/^/    /'
	done
	failed=$((failed + 1))
fi

if ! compile_fixture "$fixdir/10-switch-jump-table" gcc "$tmp/10-switch-jump-table-gcc"; then
	echo "FAIL fixtures/10-switch-jump-table gcc: does not compile"
	failed=$((failed + 1))
fi
w=$tmp/10-switch-jump-table-gcc
if [ -f "$w/new.o" ]; then
	vg "hpdiff --json --all" "1" "$vbuild/hpdiff" --json --all "$w/old.o" "$w/new.o"
	head -c 3000 "$w/new.o" >"$w/cut.o"
	vg "hpdiff on a truncated object" "2" "$vbuild/hpdiff" "$w/old.o" "$w/cut.o"
	if [ -x "$vbuild/hpbuild" ]; then
		mkdir -p "$w/pkg"
		vg "hpbuild -o" "0" "$vbuild/hpbuild" -q "$w/old.o" "$w/new.o" -o "$w/pkg/x.hpk"
		vg "hpbuild on a truncated object" "2" "$vbuild/hpbuild" -q "$w/old.o" "$w/cut.o" -o "$w/pkg/y.hpk"
		if [ -x "$vbuild/hpverify" ] && [ -f "$w/pkg/x.hpk" ]; then
			vg "hpverify on the package" "0 1" "$vbuild/hpverify" "$w/pkg/x.hpk"
			head -c 200 "$w/pkg/x.hpk" >"$w/pkg/cut.hpk"
			vg "hpverify on a truncated package" "2" "$vbuild/hpverify" "$w/pkg/cut.hpk"
			vg "hpverify --audit --json" "0 1" "$vbuild/hpverify" --audit --json "$w/pkg/x.hpk"
			# refused before it looks at the process (this shell)
			[ -x "$vbuild/hpapply" ] &&
				vg "hpapply on a truncated package" "2" "$vbuild/hpapply" -p $$ "$w/pkg/cut.hpk"
		fi
	fi
fi
# hpapply on a live process: apply, list and revert the body case of
# tests/e2e/hpapply, each under valgrind, and the program's answers change
# and change back.
# last_answer FILE WANT: the program's last line once it is WANT, or
# whatever it is after lib/wait.sh's bound
last_answer() {
	wait_until last_line_is "$1" "$2"
	tail -n 1 "$1"
}
live_hpapply() {
	la=$tmp/live
	mkdir -p "$la/old" "$la/new"
	cp "$root/tests/e2e/hpapply/body/old.c" "$la/old/unit.c"
	cp "$root/tests/e2e/hpapply/body/new.c" "$la/new/unit.c"
	if ! (cd "$la/old" && gcc -O2 -g -ffunction-sections -fdata-sections -c unit.c) ||
	   ! (cd "$la/new" && gcc -O2 -g -ffunction-sections -fdata-sections -c unit.c) ||
	   ! gcc -O2 -o "$la/prog" "$root/tests/e2e/hpapply/main.c" "$la/old/unit.o" ||
	   ! "$vbuild/hpbuild" -q -o "$la/p.hpk" "$la/old/unit.o" "$la/new/unit.o"; then
		echo "FAIL hpapply under valgrind: building the body case failed"
		failed=$((failed + 1))
		return
	fi
	"$la/prog" >"$la/out" &
	la_pid=$!
	wait_until has_lines "$la/out" 1
	vg "hpapply on a live process" "0" "$vbuild/hpapply" -p "$la_pid" "$la/p.hpk"
	la_applied=$(last_answer "$la/out" compute=22)
	vg "hpapply --list on it" "0" "$vbuild/hpapply" -p "$la_pid" --list
	vg "hpapply --revert on it" "0" "$vbuild/hpapply" -p "$la_pid" --revert
	la_reverted=$(last_answer "$la/out" compute=15)
	kill "$la_pid" 2>/dev/null
	wait "$la_pid" 2>/dev/null
	if [ "$la_applied" = compute=22 ] && [ "$la_reverted" = compute=15 ]; then
		echo "PASS hpapply under valgrind changed the program's answer and back"
		passed=$((passed + 1))
	else
		echo "FAIL hpapply under valgrind: answers '$la_applied' then '$la_reverted' (want compute=22, compute=15)"
		failed=$((failed + 1))
	fi
}
if [ -x "$vbuild/hpapply" ] && [ -x "$vbuild/hpbuild" ]; then
	live_hpapply
fi
[ -x "$vbuild/hpbuild" ] || echo "SKIP hpbuild: not built yet"
[ -x "$vbuild/hpverify" ] || echo "SKIP hpverify: not built yet"
echo "valgrind: $passed passed, $failed failed"
[ $failed -eq 0 ]
