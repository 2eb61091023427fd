#!/bin/sh
# stress.sh - the suites that drive live processes, run again and again on
# a machine kept busy on purpose: a test that depends on timing fails here.
# `make check-stress` runs it after building build/check.
#
#   sh tests/stress.sh
#
# Environment: STRESS_RUNS (default 20) rounds; STRESS_SUITES (default the
# live suites: live-demo, differential, stripped and every hpapply*
# suite) as tests/run.sh names
# them; STRESS_CPU (default 8) CPU hogs, from stress-ng when it is
# installed ("stress-ng --cpu N"), else that many shell busy loops.  Each
# round is one tests/run.sh run; its logs are kept in
# $BUILD/stress/ROUND/.  Ends with "stress: N passed, M failed" (rounds).
set -u
BUILD=${BUILD:-build/check}
runs=${STRESS_RUNS:-20}
hogs=${STRESS_CPU:-8}
cd "$(dirname "$0")/.." || exit 2
suites=${STRESS_SUITES:-"live-demo differential stripped $(cd tests/e2e && ls hpapply*.sh | sed 's/\.sh$//' | tr '\n' ' ')"}
load_pids=""
stop_load() {
	# shellcheck disable=SC2086
	[ -n "$load_pids" ] && kill $load_pids 2>/dev/null
	wait 2>/dev/null
}
trap stop_load EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if command -v stress-ng >/dev/null 2>&1; then
	stress-ng --cpu "$hogs" --quiet &
	load_pids=$!
	load="stress-ng --cpu $hogs"
else
	i=0
	while [ $i -lt "$hogs" ]; do
		sh -c 'while :; do :; done' &
		load_pids="$load_pids $!"
		i=$((i + 1))
	done
	load="$hogs shell busy loops"
fi
echo "stress: $runs rounds of: $suites; load: $load"
pass=0
fail=0
round=1
while [ $round -le "$runs" ]; do
	start=$(date +%s)
	# shellcheck disable=SC2086
	if BUILD=$BUILD sh tests/run.sh $suites >"$BUILD/stress.out" 2>&1; then
		pass=$((pass + 1))
		echo "round $round: ok ($(($(date +%s) - start)) s, load $(cut -d' ' -f1 /proc/loadavg))"
	else
		fail=$((fail + 1))
		echo "round $round: FAIL"
		sed 's/^/    /' "$BUILD/stress.out"
	fi
	rm -rf "$BUILD/stress/$round"
	mkdir -p "$BUILD/stress/$round"
	cp "$BUILD"/logs/*.log "$BUILD/stress/$round/" 2>/dev/null
	round=$((round + 1))
done
echo "stress: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
