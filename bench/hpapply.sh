#!/bin/sh
# hpapply.sh - what applying a package costs the running program: how long
# hpapply keeps its threads stopped, and how long hpapply takes in all,
# side by side with what a restart of the same program costs.
#
#   sh bench/hpapply.sh BUILD_DIR [RUNS]
#
# Programs (built here with gcc -O2 -g -ffunction-sections -fdata-sections
# from tests/e2e/hpapply/): "1 thread", the body case's loop (main.c,
# sleeping 10 ms between calls), and "N threads", tests/e2e/hpapply/
# threads.c with N threads calling the patched function all the time, for
# N in $BENCH_HPAPPLY_THREADS (default "6 34").  The package is the body case's
# (body/old.c -> body/new.c).  For each program, RUNS (default 50) applies
# and reverts, each with --json: stopped_ns is the time the threads were
# stopped (every stop of the run, retries included), total_ns the whole
# run of hpapply but for reading the package, and the wall time of the
# hpapply command (process start, package read, everything).  "restart"
# is the same program started again: from the start of the command to its
# first line of output (its first answer), the least a restart stops it
# for (a real service adds its stop and its warm-up).
#
# Prints a markdown table of medians and maxima, in milliseconds, and
# writes the raw figures to bench/work/hpapply.txt (one line per run:
# program action stopped_ns total_ns wall_ns checks).  Needs ptrace (root,
# or ptrace_scope 0).
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ] || [ ! -x "$1/hpapply" ] || [ ! -x "$1/hpbuild" ]; then
	echo "usage: sh bench/hpapply.sh BUILD_DIR [RUNS] (BUILD_DIR holds hpapply and hpbuild)" >&2
	exit 2
fi
build=$(cd "$1" && pwd)
runs=${2:-50}
here=$(cd "$(dirname "$0")" && pwd)
src=$here/../tests/e2e/hpapply
threads=${BENCH_HPAPPLY_THREADS:-6 34}
cflags="-O2 -g -ffunction-sections -fdata-sections"
mkdir -p "$here/work"
raw=$here/work/hpapply.txt
: >"$raw"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hpapply-bench.XXXXXX")
pid=""
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$tmp/old" "$tmp/new"
cp "$src/body/old.c" "$tmp/old/unit.c"
cp "$src/body/new.c" "$tmp/new/unit.c"
(cd "$tmp/old" && gcc $cflags -c unit.c)
(cd "$tmp/new" && gcc $cflags -c unit.c)
gcc $cflags -c "$src/main.c" -o "$tmp/main.o"
gcc $cflags -c "$src/threads.c" -o "$tmp/threads.o"
gcc -O2 -g -o "$tmp/loop" "$tmp/old/unit.o" "$tmp/main.o"
gcc -O2 -g -pthread -o "$tmp/threads" "$tmp/old/unit.o" "$tmp/threads.o"
"$build/hpbuild" -q -o "$tmp/p.hpk" "$tmp/old/unit.o" "$tmp/new/unit.o"

now_ns() {
	date +%s%N
}

# json_field FILE KEY: an integer field of hpapply --json
json_field() {
	sed -n "s/^  \"$2\": \([0-9]*\),*$/\1/p" "$1"
}

# one PROGRAM ACTION CMD...: run hpapply once, append its figures
one() {
	o_prog=$1 o_action=$2
	shift 2
	t0=$(now_ns)
	if ! "$@" >"$tmp/json" 2>"$tmp/err"; then
		echo "bench/hpapply.sh: $o_prog: $o_action failed: $(cat "$tmp/err")" >&2
		exit 1
	fi
	t1=$(now_ns)
	echo "$o_prog $o_action $(json_field "$tmp/json" stopped_ns) $(json_field "$tmp/json" total_ns)" \
	     "$((t1 - t0)) $(json_field "$tmp/json" checks)" >>"$raw"
}

# restart NAME CMD...: RUNS starts of the program, each timed until its
# first line of output, then killed
restart() {
	r_name=$1
	shift
	i=0
	while [ $i -lt "$runs" ]; do
		rm -f "$tmp/out"
		t0=$(now_ns)
		"$@" >"$tmp/out" 2>&1 &
		pid=$!
		until [ -s "$tmp/out" ]; do :; done
		t1=$(now_ns)
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null || true
		pid=""
		echo "$r_name restart $((t1 - t0)) $((t1 - t0)) $((t1 - t0)) 0" >>"$raw"
		i=$((i + 1))
	done
}

# bench_program NAME CMD...: start it, RUNS applies and reverts
bench_program() {
	b_name=$1
	shift
	restart "$b_name" "$@"
	"$@" >"$tmp/out" 2>&1 &
	pid=$!
	until [ -s "$tmp/out" ]; do sleep 0.01; done
	i=0
	while [ $i -lt "$runs" ]; do
		one "$b_name" apply "$build/hpapply" --json -p "$pid" "$tmp/p.hpk"
		one "$b_name" revert "$build/hpapply" --json -p "$pid" --revert
		i=$((i + 1))
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || true
	pid=""
}

bench_program "1-thread" "$tmp/loop"
for n in $threads; do
	bench_program "$n-threads" "$tmp/threads" "$n"
done

# stats PROGRAM ACTION COLUMN: "median max" in ms
stats() {
	awk -v p="$1" -v a="$2" '$1 == p && $2 == a { print $'"$3"' }' "$raw" | sort -n |
		awk '{ v[NR] = $1 } END { if (!NR) { print "- -"; exit }
			printf "%.3f %.3f\n", v[int((NR + 1) / 2)] / 1e6, v[NR] / 1e6 }'
}

echo "## hpapply: threads stopped and time taken ($runs runs each, ms)"
echo
echo "| program | action | stopped median | stopped max | hpapply median | hpapply max | command median | command max |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for p in 1-thread $(for n in $threads; do echo "$n-threads"; done); do
	for a in apply revert restart; do
		set -- $(stats "$p" "$a" 3) $(stats "$p" "$a" 4) $(stats "$p" "$a" 5)
		echo "| $p | $a | $1 | $2 | $3 | $4 | $5 | $6 |"
	done
done
echo
echo "stopped: every stop of one run (retries included); hpapply: the run without reading"
echo "the package; command: the whole hpapply process; restart: the program started again,"
echo "until its first line of output (all three columns the same).  Load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Raw figures: bench/work/hpapply.txt"
