#!/bin/sh
# live-demo.sh - the README's live patch (scripts/live-demo.sh) still does
# what the README shows: the old server accepts a 64-byte request, after
# hpapply it rejects one, after --revert it accepts one again.
#   sh tests/e2e/live-demo.sh BUILD_DIR
# Prints PASS/FAIL lines and "live-demo: N passed, M failed"; exit 1 on a
# failure, 2 on a usage error.  Skips (with a message) only when ptrace is
# not permitted here, as tests/e2e/hpapply.sh does.
set -u
[ $# -eq 1 ] || { echo "usage: sh tests/e2e/live-demo.sh BUILD_DIR" >&2; exit 2; }
out=$(mktemp) || exit 2
trap 'rm -f "$out"' EXIT
pass=0
fail=0
check() { # description, then a command that must succeed
	d=$1
	shift
	if "$@"; then pass=$((pass + 1)); echo "PASS $d"; else fail=$((fail + 1)); echo "FAIL $d"; fi
}
# look N: the lines the server printed at the demo's Nth look (1: before
# the patch, 2: after hpapply, 3: after --revert)
look() {
	awk -v n="$1" '/^\$ # what the server printed/ { k++; next } /^$/ { if (k == n) exit } k == n' "$out"
}
sh "$(dirname "$0")/../../scripts/live-demo.sh" "$1" >"$out" 2>&1
rc=$?
if [ $rc -ne 0 ] && grep -q 'not permitted' "$out"; then
	echo "live-demo: skipped: ptrace is not permitted here ($(grep -m1 'not permitted' "$out"));" \
	     "run as root, or set /proc/sys/kernel/yama/ptrace_scope to 0"
	exit 0
fi
check "the demo runs to the end (exit $rc)" test "$rc" -eq 0
check "the old server accepts a 64-byte request" grep -qx 'request of 64 bytes: accepted' <<EOT
$(look 1)
EOT
check "after hpapply it rejects a 64-byte request" grep -qx 'request of 64 bytes: rejected' <<EOT
$(look 2)
EOT
check "after hpapply it never accepts one" sh -c '! grep -q "64 bytes: accepted"' <<EOT
$(look 2)
EOT
check "hpapply --list names the package's function" grep -q '1 function: request_fits' "$out"
check "after --revert it accepts a 64-byte request again" grep -qx 'request of 64 bytes: accepted' <<EOT
$(look 3)
EOT
[ "$fail" -eq 0 ] || sed 's/^/    /' "$out"
echo "live-demo: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
