#!/bin/sh
# fixture-cache.sh - compile every fixture (old.c and new.c) with each
# compiler once, into CACHE, for the suites that each compile them all
# (fixtures, package, corrupt, valgrind: compile_fixture in
# tests/e2e/lib/fixture.sh copies from there).  tests/run.sh runs it before
# the suites with CACHE=$BUILD/fixture-cache.  An entry is complete when
# its "done" file exists; one that is not (a killed run) is compiled again.
#
#   sh tests/fixture-cache.sh CACHE [JOBS]
set -u
[ $# -ge 1 ] || { echo "usage: sh tests/fixture-cache.sh CACHE [JOBS]" >&2; exit 2; }
self=$(cd "$(dirname "$0")" && pwd)/fixture-cache.sh
mkdir -p "$1" || exit 2
cache=$(cd "$1" && pwd)
jobs=${2:-$(nproc 2>/dev/null || echo 2)}
tree=$(cd "$(dirname "$0")/.." && pwd)
. "$tree/tests/e2e/lib/fixture.sh"
# fixture.sh finds the tree from $0 as a suite in tests/e2e: not this one
root=$tree
fixdir=$root/fixtures

# one DIR CC: compile fixture DIR with CC into its entry, unless done; a
# fixture that does not compile is left for the suites to report
one() {
	o_entry=$cache/$(fixture_key "$1" "$2")
	[ -f "$o_entry/done" ] && return 0
	rm -rf "$o_entry"
	FIXTURE_CACHE='' compile_fixture "$1" "$2" "$o_entry" && : >"$o_entry/done"
	return 0
}

if [ -n "${FIXTURE_CACHE_ONE:-}" ]; then
	# shellcheck disable=SC2086
	one $FIXTURE_CACHE_ONE
	exit 0
fi
for cc in $compilers; do
	compiler_version "$cc" >/dev/null
done
for d in "$fixdir"/[0-9]*-*/; do
	[ -f "$d/old.c" ] && [ -f "$d/new.c" ] || continue
	for cc in $compilers; do
		echo "${d%/} $cc"
	done
done | xargs -P "$jobs" -I{} env FIXTURE_CACHE_ONE={} sh "$self" "$cache"
