#!/bin/sh
# docs.sh - the man pages and --help stay in step: for each command, every
# long option --help lists is documented in its man page, every option the
# man page's OPTIONS section documents is in --help, and
# both give the exit statuses 0, 1 and 2.
#   sh tests/e2e/docs.sh BUILD_DIR
# Prints PASS/FAIL lines and "docs: N passed, M failed"; exit 1 on a
# failure, 2 on a usage error.
set -u
[ $# -eq 1 ] || { echo "usage: sh tests/e2e/docs.sh BUILD_DIR" >&2; exit 2; }
. "$(dirname "$0")/lib/fixture.sh"
need_tools docs.sh "$1" hpdiff hpbuild hpverify hpapply
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "PASS $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

# long_options: the --options in standard input, one a line, sorted
long_options() { grep -o -- '--[a-z][a-z0-9-]*' | sort -u; }

for t in hpdiff hpbuild hpverify hpapply; do
	page=$root/man/man1/$t.1
	if [ ! -f "$page" ]; then
		bad "$t: no man page man/man1/$t.1"
		continue
	fi
	if ! "$build_dir/$t" --help >"$tmp/help" 2>&1; then
		bad "$t --help exits non-zero"
		continue
	fi
	long_options <"$tmp/help" >"$tmp/help.opts"
	# the options the OPTIONS section documents: each paragraph's tag (the
	# line after .TP), not options of other commands named in the prose
	awk '/^\.SH / { on = ($2 == "OPTIONS") } on && prev ~ /^\.TP/ { print } { prev = $0 }' "$page" |
		sed 's/\\-/-/g; s/\\f[BIRP]//g' | long_options >"$tmp/section.opts"
	missing=$(comm -23 "$tmp/help.opts" "$tmp/section.opts" | tr '\n' ' ')
	if [ -s "$tmp/help.opts" ] && [ -z "$missing" ]; then
		ok "$t: the $(wc -l <"$tmp/help.opts") options of --help are documented in $t(1)'s OPTIONS"
	else
		bad "$t: --help options not documented in $t(1)'s OPTIONS: ${missing:-(--help lists none)}"
	fi
	extra=$(comm -13 "$tmp/help.opts" "$tmp/section.opts" | tr '\n' ' ')
	if [ -z "$extra" ]; then
		ok "$t: every option $t(1) documents is in --help"
	else
		bad "$t: options in $t(1) but not in --help: $extra"
	fi
	if awk '/^\.SH / { on = ($0 ~ /EXIT STATUS/) } on' "$page" | grep -q '^\.B\{0,1\} *0' &&
	   awk '/^\.SH / { on = ($0 ~ /EXIT STATUS/) } on' "$page" | grep -q '^\.B\{0,1\} *1' &&
	   awk '/^\.SH / { on = ($0 ~ /EXIT STATUS/) } on' "$page" | grep -q '^\.B\{0,1\} *2' &&
	   grep -q 'Exit status: 0 .*1 ' "$tmp/help" && grep -q '2 error' "$tmp/help"; then
		ok "$t: exit statuses 0, 1, 2 in $t(1) and --help"
	else
		bad "$t: exit statuses 0, 1, 2 not all given in $t(1)'s EXIT STATUS and --help"
	fi
done
if [ -f "$root/man/man5/hotpatch.5" ] && grep -q '^\.SH' "$root/man/man5/hotpatch.5"; then
	ok "the package format has its page, hotpatch(5)"
else
	bad "man/man5/hotpatch.5 is missing"
fi
echo "docs: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
