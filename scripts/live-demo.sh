#!/bin/sh
# live-demo.sh - a live patch of a running program, step by step: build the
# old and new request.c, start the old "server", build and check the
# package, apply it to the running process, watch the new behaviour, list
# it, revert it, watch the old behaviour come back.  Needs ptrace (root, or
# kernel.yama.ptrace_scope 0 for a child of this shell).
#   sh scripts/live-demo.sh [BUILD]       (BUILD defaults to build)
set -eu
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$(pwd)/$BUILD ;; esac
SRC=$(cd "$(dirname "$0")/live" && pwd)
for t in hpbuild hpverify hpapply; do
	[ -x "$BUILD/$t" ] || { echo "live-demo.sh: $BUILD/$t: not built (run make)" >&2; exit 2; }
done
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
PATH=$BUILD:$PATH
run() { printf '\n$ %s\n' "$*"; "$@"; }
compile() { # DIR: compile DIR/request.c there
	printf '\n$ (cd %s && cc -O2 -g -ffunction-sections -fdata-sections -c request.c)\n' "$1"
	(cd "$1" && cc -O2 -g -ffunction-sections -fdata-sections -c request.c)
}
# mark, after a step: the server's lines from here on show its effect (the
# one after the mark may have been computed before the step, so skip it)
seen=0
mark() { seen=$(($(wc -l <server.log) + 1)); }
# watch: wait for 4 lines past the mark (4 requests, one of each length)
# and show them; a minute without them means the server is stuck
watch() {
	end=$(($(date +%s) + 60))
	while [ "$(wc -l <server.log)" -lt $((seen + 4)) ] && [ "$(date +%s)" -lt "$end" ]; do
		sleep 0.05
	done
	printf '\n$ # what the server printed since\n'
	tail -n +$((seen + 1)) server.log | head -n 4
}

echo "--- the fix (diff -u old/request.c new/request.c):"
diff -u "$SRC/old.c" "$SRC/new.c" | tail -n +3 || true
mkdir old new
cp "$SRC/old.c" old/request.c
cp "$SRC/new.c" new/request.c
# each build in its own directory under the same file name, as a real
# rebuild of the fixed tree is
compile old
compile new
cp "$SRC/main.c" main.c
run cc -O2 -g -o server main.c old/request.o
printf '\n$ ./server > server.log &\n'
./server >server.log &
pid=$!
watch
run hpbuild -o fix.hpk old/request.o new/request.o
run hpverify fix.hpk
run hpapply -p "$pid" fix.hpk
mark
watch
run hpapply -p "$pid" --list
run hpapply -p "$pid" --revert
mark
watch
