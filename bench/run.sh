#!/bin/sh
# run.sh - the benchmarks (make bench): what hpdiff, hpbuild and hpverify
# cost on large inputs, against readelf reading the same files in the same
# run, and how package sizes compare with bsdiff and xdelta3.
#
#   sh bench/run.sh BUILD_DIR
#
# Inputs (built once, cached in bench/work/, see bench/README.md):
#   gen-N      one N-function translation unit and a fix of five functions
#              (bench/gen.c), N from $BENCH_SIZES
#   sqlite-*   SQLite's amalgamation before and after one of Debian's
#              security patches (bench/sqlite.sh)
#   tree-K     two build trees of K small objects, one in a hundred fixed
#
# Each tool runs $BENCH_REPS times per input; the table shows medians.
# Tools not built yet get "not built yet" rows.  Prints markdown tables and
# writes them to bench/work/report.md; the raw figures are in
# bench/work/results.txt.
#
# Settings (environment):
#   BENCH_SIZES          function counts        (5000 10000 20000 50000; add
#                        100000 for the 10k -> 100k growth: its compile alone
#                        takes gcc over 15 CPU minutes and 11 GB)
#   BENCH_REPS           runs per figure        (3)
#   BENCH_OPT            -O level of gen inputs (-Og: -O1 costs 2x the compile time)
#   BENCH_TREE_OBJECTS   objects per tree       (1000; 0 skips the trees)
#   BENCH_SQLITE         0 skips SQLite         (1)
#   BENCH_CPU_LIMIT      CPU seconds before a run is stopped (120); a tool
#                        stopped is not run on larger generated inputs
#   BENCH_TIMEOUT        wall-clock seconds before a run is stopped (900)
#   BENCH_LONG_RUN       a run longer than this is not repeated (30)
#   BENCH_READELF_R_MAX  largest N for readelf -sWr, quadratic here (10000)
#   BENCH_BSDIFF_MAX_MB  largest object bsdiff is run on (64)
#   BENCH_HPAPPLY        0 skips bench/hpapply.sh (1)
set -eu

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
	echo "usage: sh bench/run.sh BUILD_DIR (the directory make built the tools in)" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
work=$here/work
sizes=${BENCH_SIZES:-5000 10000 20000 50000}
reps=${BENCH_REPS:-3}
opt=${BENCH_OPT:--Og}
tree_objects=${BENCH_TREE_OBJECTS:-1000}
do_sqlite=${BENCH_SQLITE:-1}
timeout_s=${BENCH_TIMEOUT:-900}
cpu_limit=${BENCH_CPU_LIMIT:-120}
long_run=${BENCH_LONG_RUN:-30}
readelf_r_max=${BENCH_READELF_R_MAX:-10000}
bsdiff_max_mb=${BENCH_BSDIFF_MAX_MB:-64}

. "$here/measure.sh"
. "$here/inputs.sh"

mkdir -p "$work/out" "$work/delta"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/hpbench.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
results=$work/results.txt
: > "$results"
timed_out=""   # tools stopped by a limit: not run on larger inputs

have_tool() {
	[ -x "$build/$1" ]
}

# skip_tool TOOL: true when TOOL already timed out on a smaller input
skip_tool() {
	case " $timed_out " in *" $1 "*) return 0 ;; esac
	return 1
}

# run_tool INPUT TOOL OUTFILE CMD...: measure, unless the tool is missing
# or was stopped by a limit on a smaller input; remember a stop
run_tool() {
	r_input=$1 r_tool=$2
	if ! have_tool "$r_tool"; then
		absent "$r_input" "$r_tool"
		return 0
	fi
	if skip_tool "$r_tool"; then
		printf 'time %s %s - - - skipped\n' "$r_input" "$r_tool" >> "$results"
		return 0
	fi
	shift 2
	measure "$r_input" "$r_tool" "$@"
	if tail -n 1 "$results" | awk '{ exit !($7 == 124 || $7 == 137 || $7 == 152) }'; then
		timed_out="$timed_out $r_tool"
	fi
}

# delta_sizes INPUT OLD NEW: bsdiff and xdelta3 patch sizes (cached:
# bsdiff takes minutes on large objects)
delta_sizes() {
	dl=$work/delta/$1
	if [ ! -f "$dl.xd3" ] || [ "$2" -nt "$dl.xd3" ] || [ "$3" -nt "$dl.xd3" ]; then
		xdelta3 -e -9 -f -s "$2" "$3" "$dl.xd3"
	fi
	fact "$1" xdelta3 "$(file_size "$dl.xd3")"
	if [ "$(file_size "$2")" -gt $((bsdiff_max_mb * 1000000)) ]; then
		fact "$1" bsdiff "skipped(>${bsdiff_max_mb}MB)"
		return 0
	fi
	if [ ! -f "$dl.bsdiff" ] || [ "$2" -nt "$dl.bsdiff" ] || [ "$3" -nt "$dl.bsdiff" ]; then
		bsdiff "$2" "$3" "$dl.bsdiff"
	fi
	fact "$1" bsdiff "$(file_size "$dl.bsdiff")"
}

# diff_facts INPUT NEW: from hpdiff --json, how many functions changed (and
# how many of those only by moved line numbers), and the raw bytes of the
# functions whose code changed (their size in NEW): what a package must
# carry at the least
diff_facts() {
	js=$work/out/$1.hpdiff.json
	[ -s "$js" ] || return 0
	awk '
		/^  "functions": \[/ { in_f = 1; next }
		/^  "objects": \[/ { in_f = 0 }
		in_f && /"name":/ { name = $2; gsub(/[",]/, "", name) }
		in_f && /"status":/ { st = $2; gsub(/[",]/, "", st) }
		in_f && /"line_numbers_only":/ { print name, st, ($2 ~ /true/) ? "line" : "code" }
	' "$js" > "$scratch/changes"
	fact "$1" changes $(awk '
		$2 == "changed" { c++; if ($3 == "line") l++ }
		$2 == "added" { a++ }
		$2 == "removed" { r++ }
		END { print c + 0, l + 0, a + 0, r + 0 }' "$scratch/changes")
	readelf -sW "$2" | awk '$4 == "FUNC" { print $8, $3 }' > "$scratch/sizes"
	fact "$1" rawbytes $(awk '
		function num(s,   i, v) {
			if (s !~ /^0x/) return s + 0
			v = 0
			for (i = 3; i <= length(s); i++)
				v = v * 16 + index("0123456789abcdef", tolower(substr(s, i, 1))) - 1
			return v
		}
		NR == FNR { if (($2 == "changed" && $3 == "code") || $2 == "added") want[$1] = 1; next }
		($1 in want) { sum += num($2); delete want[$1] }
		END { print sum + 0 }' "$scratch/changes" "$scratch/sizes")
}

# bench_input INPUT OLD NEW [FUNCS]: every measurement on one pair.  OLD
# and NEW are objects, or directories of objects (readelf gets every file).
bench_input() {
	b_in=$1 b_old=$2 b_new=$3 b_funcs=${4:-}
	echo "bench: measuring $b_in" >&2
	if [ -d "$b_old" ]; then
		b_files=$(find "$b_old" "$b_new" -name '*.o' | sort)
	else
		b_files="$b_old $b_new"
	fi
	# shellcheck disable=SC2086
	fact "$b_in" bytes $(cat $b_files | wc -c) $(echo $b_files | wc -w)
	[ -n "$b_funcs" ] && fact "$b_in" funcs "$b_funcs"
	# shellcheck disable=SC2086
	cat $b_files > /dev/null   # the page cache: every tool reads warm files

	if [ -n "$b_funcs" ] && [ "$b_funcs" -gt "$readelf_r_max" ]; then
		printf 'time %s readelf-sWr - - - skipped\n' "$b_in" >> "$results"
	else
		# shellcheck disable=SC2086
		measure "$b_in" readelf-sWr /dev/null readelf -sWr $b_files
	fi
	# shellcheck disable=SC2086
	measure "$b_in" readelf-sW /dev/null readelf -sW $b_files

	if [ -d "$b_old" ]; then
		printf 'time %s hpdiff - - - n/a\n' "$b_in" >> "$results"
	else
		run_tool "$b_in" hpdiff "$work/out/$b_in.hpdiff.json" \
			"$build/hpdiff" --json "$b_old" "$b_new"
		diff_facts "$b_in" "$b_new"
	fi
	rm -f "$work/out/$b_in.hpk"
	run_tool "$b_in" hpbuild "$work/out/$b_in.hpbuild.json" \
		"$build/hpbuild" --json -o "$work/out/$b_in.hpk" "$b_old" "$b_new"
	if [ -f "$work/out/$b_in.hpk" ]; then
		fact "$b_in" hpk "$(file_size "$work/out/$b_in.hpk")"
		run_tool "$b_in" hpverify "$work/out/$b_in.hpverify.txt" \
			"$build/hpverify" "$work/out/$b_in.hpk"
	elif have_tool hpverify; then
		printf 'time %s hpverify - - - nopkg\n' "$b_in" >> "$results"
	else
		absent "$b_in" hpverify
	fi
	if [ ! -d "$b_old" ]; then
		delta_sizes "$b_in" "$b_old" "$b_new"
	fi
}

machine() {
	fact machine cpu "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
	fact machine nproc "$(nproc)"
	fact machine mem "$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
	fact machine load "$(cut -d' ' -f1-3 /proc/loadavg)"
	fact machine os "$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
	fact machine tools "gcc $(gcc -dumpfullversion), $(readelf --version | head -n 1), xdelta3 $(xdelta3 -V 2>&1 | head -n 1 | awk '{ sub(/,$/, "", $3); print $3 }')"
}

# --- inputs first (compiling), then the measurements (nothing else running)
need_gnu_time
for t in readelf bsdiff xdelta3 gcc; do
	command -v "$t" >/dev/null || { echo "bench: $t is missing; run: make deps" >&2; exit 1; }
done
build_gen
sqlite_pairs=""
if [ "$do_sqlite" != 0 ]; then
	sqlite_pairs=$(sh "$here/sqlite.sh" "$work/sqlite") ||
		echo "bench: the SQLite pairs are not available (see above); going on without them" >&2
fi
for n in $sizes; do
	gen_pair "$n"
done
[ "$tree_objects" -gt 0 ] && tree_pair "$tree_objects"

machine
fact machine started "$(date -u '+%Y-%m-%d %H:%M UTC')"
echo "$sqlite_pairs" | while read -r cve dir; do
	[ -n "$cve" ] || continue
	fact "sqlite-$cve" funcs "$(readelf -sW "$dir/new.o" | awk '$4 == "FUNC" && $7 != "UND"' | wc -l)"
	bench_input "sqlite-$cve" "$dir/old.o" "$dir/new.o"
done
for n in $sizes; do
	bench_input "gen-$n" "$work/gen/$n/old/unit.o" "$work/gen/$n/new/unit.o" "$n"
done
if [ "$tree_objects" -gt 0 ]; then
	timed_out=""   # small objects: a stop on a large unit says nothing here
	bench_input "tree-$tree_objects" "$work/tree/old" "$work/tree/new"
fi
fact machine load-after "$(cut -d' ' -f1-3 /proc/loadavg)"

awk -v timeout="$timeout_s" -v cpu_limit="$cpu_limit" -v reps="$reps" -f "$here/report.awk" "$results" | tee "$work/report.md"

# What applying a package costs the running program: bench/hpapply.sh
# (its own tables and bench/work/hpapply.txt), when hpapply is built.
if [ "${BENCH_HPAPPLY:-1}" != 0 ] && [ -f "$here/hpapply.sh" ] && have_tool hpapply; then
	echo
	sh "$here/hpapply.sh" "$build" || echo "bench: bench/hpapply.sh failed (see above)" >&2
fi
