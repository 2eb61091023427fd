#!/bin/sh
# merge.sh - choose the committed corpus of one fuzz target: at most
# FUZZ_KEEP files (default 40) and FUZZ_KEEP_BYTES (default 2 MB) out of
# the current corpus, what the runs found and the seeds, covering as many
# coverage features as possible.  Called by `sh fuzz/run.sh --merge`,
# which builds the target first.
#
#   sh fuzz/merge.sh TARGET
#
# libFuzzer's -merge=1 computes every candidate's coverage (in a control
# file: FT features, COV code edges); a greedy set cover picks the file
# adding the most new edges, then the most new features (ties: the
# smaller, then the name) until the budget is spent or nothing
# adds any.  fuzz/corpus/TARGET is then replaced by the chosen files, named
# by their SHA-1 like libFuzzer's own.  Crash reproducers live apart, in
# fuzz/crashes/TARGET, and are never dropped.
set -u
cd "$(dirname "$0")/.." || exit 2
[ $# -eq 1 ] || { echo "usage: sh fuzz/merge.sh TARGET" >&2; exit 2; }
t=$1
B=build/fuzz
keep=${FUZZ_KEEP:-40}
budget=${FUZZ_KEEP_BYTES:-2097152}
[ -x "$B/$t" ] || { echo "merge.sh: $B/$t: not built (sh fuzz/run.sh --build $t)" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hpmerge.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/out" "$tmp/keep"
set --
for d in "fuzz/corpus/$t" "$B/corpus/$t" "$B/seeds/$t"; do
	[ -d "$d" ] && set -- "$@" "$d"
done
[ $# -gt 0 ] || { echo "merge.sh: $t: no inputs (run sh fuzz/make-seeds.sh)" >&2; exit 2; }

nice -n "${FUZZ_NICE:-10}" "$B/$t" -merge=1 -merge_control_file="$tmp/ctl" -max_len=65536 \
	-timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb="${FUZZ_RSS_MB:-2048}" \
	"$tmp/out" "$@" >"$tmp/log" 2>&1 || {
	echo "merge.sh: $t: libFuzzer -merge=1 failed:" >&2
	tail -n 5 "$tmp/log" >&2
	exit 1
}

# Control file: N, N0, N paths, then "STARTED i size", "FT i f..." and
# "COV i pc...".
awk -v keep="$keep" -v budget="$budget" '
NR == 1 { n = $1; next }
NR == 2 { next }
NR <= n + 2 { path[NR - 3] = $0; next }
$1 == "STARTED" { size[$2] = $3; next }
$1 == "FT" { nf[$2] = NF - 2; for (k = 3; k <= NF; k++) ft[$2, k - 2] = $k; next }
$1 == "COV" { nc[$2] = NF - 2; for (k = 3; k <= NF; k++) cv[$2, k - 2] = $k; next }
END {
	total = 0
	for (chosen = 0; chosen < keep; chosen++) {
		best = -1; bestgain = 0
		for (i = 0; i < n; i++) {
			if ((i in taken) || !(i in nf) || total + size[i] > budget)
				continue
			# new code edges first, then new features
			gain = 0
			for (k = 1; k <= nc[i]; k++)
				if (!((cv[i, k]) in havec))
					gain += 1000000
			for (k = 1; k <= nf[i]; k++)
				if (!((ft[i, k]) in have))
					gain++
			if (gain > bestgain || (gain == bestgain && gain > 0 &&
			    (size[i] < size[best] || (size[i] == size[best] && path[i] < path[best])))) {
				best = i; bestgain = gain
			}
		}
		if (best < 0)
			break
		taken[best] = 1
		total += size[best]
		for (k = 1; k <= nf[best]; k++)
			have[ft[best, k]] = 1
		for (k = 1; k <= nc[best]; k++)
			havec[cv[best, k]] = 1
		print path[best]
	}
}' "$tmp/ctl" >"$tmp/chosen"

while IFS= read -r f; do
	cp "$f" "$tmp/keep/$(sha1sum "$f" | cut -c1-40)"
done <"$tmp/chosen"
mkdir -p "fuzz/corpus/$t"
rm -f "fuzz/corpus/$t"/*
cp "$tmp/keep"/* "fuzz/corpus/$t/" 2>/dev/null
files=$(ls "fuzz/corpus/$t" | wc -l)
bytes=$(cat "fuzz/corpus/$t"/* 2>/dev/null | wc -c)
cands=$(sed -n 1p "$tmp/ctl")
echo "$t: corpus: $files files, $bytes bytes, chosen from $cands candidates"
