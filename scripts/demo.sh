#!/bin/sh
# demo.sh - build a bundled fixture's old and new objects and show what
# hpdiff, hpbuild and hpverify make of them.  Usage: sh scripts/demo.sh BUILD
set -eu
BUILD=${1:-build}
FIX=fixtures/02-new-helper
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run() { printf '\n$ %s\n' "$*"; "$@" || true; }
cp "$FIX/old.c" "$work/demo.c"
(cd "$work" && gcc -O2 -g -ffunction-sections -fdata-sections -c demo.c -o old.o)
cp "$FIX/new.c" "$work/demo.c"
(cd "$work" && gcc -O2 -g -ffunction-sections -fdata-sections -c demo.c -o new.o)
echo "demo: $FIX, old.c and new.c compiled by gcc -O2 -g -ffunction-sections -fdata-sections"
echo "--- the fix (diff -u old.c new.c):"
diff -u "$FIX/old.c" "$FIX/new.c" || true
cd "$work"
run "$OLDPWD/$BUILD/hpdiff" old.o new.o
if [ -x "$OLDPWD/$BUILD/hpbuild" ]; then
	run "$OLDPWD/$BUILD/hpbuild" -o fix.hpk old.o new.o
fi
if [ -x "$OLDPWD/$BUILD/hpverify" ] && [ -f fix.hpk ]; then
	run "$OLDPWD/$BUILD/hpverify" fix.hpk
	run "$OLDPWD/$BUILD/hpverify" --audit fix.hpk
	run "$OLDPWD/$BUILD/hpverify" --base old.o fix.hpk
fi
