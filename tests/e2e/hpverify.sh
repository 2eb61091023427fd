#!/bin/sh
# hpverify.sh - hpverify on real packages and on hostile ones.
#
#   sh tests/e2e/hpverify.sh BUILD_DIR
#
# A known pair (a length check that calls validate_len() and prints
# "invalid length %d\n" added below an existing check against 'limit',
# written below) is compiled with gcc and clang and
# packaged with hpbuild; then:
#  - hpverify accepts the package (exit 0) and summarizes it;
#  - --audit shows 'call validate_len' and 'lea rdi, "invalid length %d\n"'
#    in the replaced function, its raw relocations and its references;
#  - --json and --audit --json are well-formed and byte-identical across
#    runs; --sarif is SARIF 2.1.0 and matches --json's findings;
#  - the package with any single byte changed (every byte, tests/e2e/
#    hpkmut.c) and every short prefix of it are rejected: exit 2, exactly
#    one line on stderr, nothing on stdout;
#  - packages with one index or offset out of range but consistent
#    checksums (rewritten through the package model by hpkmut) are rejected
#    by the bounds checks, not the checksum; one that is well-formed but
#    has a relocation hpapply cannot resolve is unsafe (HP009, exit 1);
#  - hpverify OLD NEW runs the rules: exit 0 for the known pair, and for
#    fixtures/14-data-initializer an error finding of HP001 (existing data
#    changed), the same in --json and --sarif, exit 1;
#  - hpverify OLD NEW PKG (the equivalence check) accepts hpbuild's package
#    for fixtures/35-part-split and refuses one that leaves a direct caller
#    of the changed log_msg.part.0 running the old code (HP015);
#  - usage errors and missing files exit 2 with one line.
# Prints "PASS name" / "FAIL name: why" lines and "hpverify: N passed,
# M failed"; exit 1 if any failed, 2 on a usage error.  POSIX sh, no python.

set -u

[ $# -eq 1 ] || { echo "usage: sh tests/e2e/hpverify.sh BUILD_DIR" >&2; exit 2; }
. "$(dirname "$0")/lib/fixture.sh"
need_tools hpverify.sh "$1" hpbuild hpverify
[ -e "$build_dir/libhp.a" ] || { echo "hpverify.sh: $build_dir/libhp.a: missing (run make first)" >&2; exit 2; }
hpbuild=$build_dir/hpbuild
hpverify=$build_dir/hpverify
flags=$default_flags

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hpverify.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

passed=0
failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

# run OUT ERR CMD...: sets rc (time-limited: a hang is a failure).
run() {
	r_out=$1 r_err=$2
	shift 2
	if command -v timeout >/dev/null 2>&1; then
		timeout 120 "$@" >"$r_out" 2>"$r_err"
	else
		"$@" >"$r_out" 2>"$r_err"
	fi
	rc=$?
}

# one_line_error OUT ERR: exit 2 was seen; stdout empty, one line on stderr.
one_line_error() {
	[ ! -s "$1" ] && [ "$(wc -l <"$2")" -eq 1 ] && [ "$(wc -c <"$2")" -gt 1 ]
}

# json_ok FILE: one JSON value: brackets balance outside strings, nothing
# after it, an object at the top.
json_ok() {
	awk '
	BEGIN { depth = 0; instr = 0; esc = 0; top = 0; bad = 0 }
	{
		line = $0 "\n"
		for (i = 1; i <= length(line); i++) {
			c = substr(line, i, 1)
			if (instr) {
				if (esc) esc = 0
				else if (c == "\\") esc = 1
				else if (c == "\"") instr = 0
				else if (c == "\n") bad = 1
				continue
			}
			if (c == "\"") { instr = 1; continue }
			if (c == "{" || c == "[") {
				if (depth == 0) { if (top || c != "{") bad = 1; top = 1 }
				depth++
			} else if (c == "}" || c == "]") {
				depth--
				if (depth < 0) bad = 1
			} else if (depth == 0 && c !~ /[ \t\n]/) bad = 1
		}
	}
	END { exit (bad || depth != 0 || instr || !top) }' "$1"
}

# ---- the helper ----
libs="-ldwarf -lelf -lz -lcapstone -lxxhash -lsodium"
mut=$tmp/hpkmut
# shellcheck disable=SC2086
if ! cc -std=gnu11 -D_GNU_SOURCE -I"$root/lib" -o "$mut" "$root/tests/e2e/hpkmut.c" \
	"$build_dir/libhp.a" $libs >"$tmp/cc.log" 2>&1 &&
   ! cc -std=gnu11 -D_GNU_SOURCE -fsanitize=address,undefined -I"$root/lib" -o "$mut" \
	"$root/tests/e2e/hpkmut.c" "$build_dir/libhp.a" $libs >"$tmp/cc.log" 2>&1; then
	echo "hpverify.sh: cannot build tests/e2e/hpkmut.c: $(head -n 1 "$tmp/cc.log")" >&2
	exit 2
fi

# ---- the known pair ----
mkdir -p "$tmp/src/old" "$tmp/src/new"
cat >"$tmp/src/old/check.c" <<'EOF'
#include <stdio.h>
extern int validate_len(int len);
extern int limit;
int process(const char *buf, int len)
{
	int sum = 0;

	if (len > limit)
		return -1;
	for (int i = 0; i < len; i++)
		sum += buf[i];
	return sum;
}
EOF
cat >"$tmp/src/new/check.c" <<'EOF'
#include <stdio.h>
extern int validate_len(int len);
extern int limit;
int process(const char *buf, int len)
{
	int sum = 0;

	if (len > limit)
		return -1;
	if (!validate_len(len)) {
		printf("invalid length %d\n", len);
		return -1;
	}
	for (int i = 0; i < len; i++)
		sum += buf[i];
	return sum;
}
EOF

# build_known CC: $tmp/CC/{old.o,new.o,x.hpk}
build_known() {
	w=$tmp/$1
	mkdir -p "$w"
	for v in old new; do
		# shellcheck disable=SC2086
		(cd "$tmp/src/$v" && $1 $flags -c check.c -o "$w/$v.o") || return 1
	done
	(cd "$w" && "$hpbuild" -q -o x.hpk old.o new.o)
}

for cc in $compilers; do
	w=$tmp/$cc
	if ! build_known "$cc" >"$tmp/build.log" 2>&1; then
		fail "known-$cc" "compile or hpbuild failed: $(head -n 1 "$tmp/build.log")"
		continue
	fi

	run "$w/v.out" "$w/v.err" "$hpverify" "$w/x.hpk"
	if [ $rc -ne 0 ]; then
		fail "accept-$cc" "exit $rc: $(head -n 1 "$w/v.err")"
	elif ! grep -q '^functions  *1 replaced, 0 new' "$w/v.out" || ! grep -q '^result  *ok$' "$w/v.out" ||
	     ! grep -q '^unit 0 .*new.o' "$w/v.out" || ! grep -q 'inputs  *old.o -> new.o' "$w/v.out"; then
		fail "accept-$cc" "summary lacks units, counts or result: $(tr '\n' '|' <"$w/v.out")"
	else
		pass "accept-$cc"
	fi

	run "$w/a.out" "$w/a.err" "$hpverify" --audit "$w/x.hpk"
	missing=
	grep -q '^function process  (replace, global)$' "$w/a.out" || missing="$missing [function header]"
	grep -q '^  source  *check.c:4$' "$w/a.out" || missing="$missing [source check.c:4]"
	grep -q 'ptr \[limit\(@GOTPCREL\)\{0,1\}\]' "$w/a.out" || missing="$missing [ptr [limit]]"
	grep -q '^  old  *[0-9][0-9]* bytes, fingerprint [0-9a-f]\{16\}' "$w/a.out" || missing="$missing [old fingerprint]"
	grep -q '  call validate_len$' "$w/a.out" || missing="$missing [call validate_len]"
	grep -q '  lea rdi, "invalid length %d\\n"$' "$w/a.out" || missing="$missing [lea rdi, \"invalid length %d\\n\"]"
	grep -q '  call printf$' "$w/a.out" || missing="$missing [call printf]"
	grep -q 'R_X86_64_PLT32  *validate_len -4$' "$w/a.out" || missing="$missing [raw relocation]"
	grep -q '^  validate_len  *global' "$w/a.out" || missing="$missing [reference validate_len]"
	grep -q '^    0000  69 6e 76 61 6c 69 64 20  6c 65 6e 67 74 68 20 25  |invalid length %|$' "$w/a.out" ||
		missing="$missing [string hexdump]"
	if [ $rc -ne 0 ]; then
		fail "audit-$cc" "exit $rc: $(head -n 1 "$w/a.err")"
	elif [ -n "$missing" ]; then
		fail "audit-$cc" "missing:$missing"
	else
		pass "audit-$cc"
	fi

	ok=1
	for mode in "" --audit; do
		# shellcheck disable=SC2086
		run "$w/j1" "$w/j.err" "$hpverify" $mode --json "$w/x.hpk"
		rc1=$rc
		# shellcheck disable=SC2086
		run "$w/j2" "$w/j.err" env LC_ALL=C.UTF-8 TZ=Asia/Tokyo "$hpverify" $mode --json "$w/x.hpk"
		if [ $rc1 -ne 0 ]; then
			fail "json${mode:+-audit}-$cc" "exit $rc1: $(head -n 1 "$w/j.err")"; ok=0
		elif ! json_ok "$w/j1"; then
			fail "json${mode:+-audit}-$cc" "not well-formed JSON"; ok=0
		elif ! grep -q '^  "format": "hpverify-1",$' "$w/j1" || ! grep -q '"result": "ok"' "$w/j1"; then
			fail "json${mode:+-audit}-$cc" "no format hpverify-1 or result"; ok=0
		elif ! cmp -s "$w/j1" "$w/j2"; then
			fail "json${mode:+-audit}-$cc" "two runs differ"; ok=0
		elif [ -n "$mode" ] && ! grep -q '"text": "call validate_len"' "$w/j1"; then
			fail "json${mode:+-audit}-$cc" "no instruction text"; ok=0
		fi
	done
	[ $ok = 1 ] && pass "json-$cc"

	run "$w/s.out" "$w/s.err" "$hpverify" --sarif "$w/x.hpk"
	if [ $rc -ne 0 ]; then
		fail "sarif-$cc" "exit $rc: $(head -n 1 "$w/s.err")"
	elif ! json_ok "$w/s.out" || ! grep -q '^  "version": "2.1.0",$' "$w/s.out" ||
	     ! grep -q '"name": "hpverify",' "$w/s.out" || ! grep -q '"\$schema": ' "$w/s.out"; then
		fail "sarif-$cc" "not a SARIF 2.1.0 log"
	else
		pass "sarif-$cc"
	fi

	run "$w/q.out" "$w/q.err" "$hpverify" -q "$w/x.hpk"
	if [ $rc -ne 0 ] || [ -s "$w/q.out" ] || [ -s "$w/q.err" ]; then
		fail "quiet-$cc" "exit $rc or output"
	else
		pass "quiet-$cc"
	fi

	run "$w/p.out" "$w/p.err" "$hpverify" "$w/old.o" "$w/new.o"
	if [ $rc -ne 0 ] || ! tail -n 1 "$w/p.out" | grep -q '^hpverify: 1 pair checked: .*: ok$'; then
		fail "pair-$cc" "exit $rc: $(tail -n 1 "$w/p.out")$(head -n 1 "$w/p.err")"
	else
		pass "pair-$cc"
	fi
done

# ---- hostile packages (one compiler's package is enough) ----
cc=$(echo "$compilers" | awk '{ print $1 }')
pkg=$tmp/$cc/x.hpk
if [ -f "$pkg" ]; then
	mkdir -p "$tmp/mut"
	"$mut" each-byte "$hpverify" "$pkg" "$tmp/mut" >"$tmp/mut.out" 2>&1
	if [ $? -eq 0 ]; then
		pass "every-byte ($(tail -n 1 "$tmp/mut.out"))"
	else
		fail "every-byte" "$(head -n 3 "$tmp/mut.out" | tr '\n' '|')"
	fi

	size=$(wc -c <"$pkg")
	bad=
	for n in 0 1 2 4 7 8 15 16 31 32 63 64 $((size / 2)) $((size - 8)) $((size - 1)); do
		[ "$n" -lt "$size" ] || continue
		head -c "$n" "$pkg" >"$tmp/short.hpk"
		run "$tmp/t.out" "$tmp/t.err" "$hpverify" "$tmp/short.hpk"
		if [ $rc -ne 2 ] || ! one_line_error "$tmp/t.out" "$tmp/t.err"; then
			bad="$bad $n(exit $rc)"
		fi
	done
	if [ -n "$bad" ]; then
		fail "truncated" "prefixes not rejected properly:$bad"
	else
		pass "truncated"
	fi

	for field in toc-offset string-ref code-range reloc-count reloc-offset reloc-symbol symbol-index func-unit mask-range; do
		"$mut" craft "$pkg" "$tmp/crafted.hpk" "$field" >"$tmp/c.out" 2>&1
		crc=$?
		if [ $crc -ne 0 ]; then
			fail "bounds-$field" "hpkmut craft exit $crc: $(head -n 1 "$tmp/c.out")"
			continue
		fi
		run "$tmp/t.out" "$tmp/t.err" "$hpverify" "$tmp/crafted.hpk"
		if [ $rc -ne 2 ] || ! one_line_error "$tmp/t.out" "$tmp/t.err"; then
			fail "bounds-$field" "exit $rc: $(head -n 1 "$tmp/t.err")"
		elif grep -qi 'checksum' "$tmp/t.err"; then
			fail "bounds-$field" "caught by the checksum, not the bounds checks: $(cat "$tmp/t.err")"
		else
			pass "bounds-$field ($(cat "$tmp/t.err"))"
		fi
	done

	# well-formed, but with a relocation hpapply cannot resolve: the
	# package rules must find it again although hpbuild never saw it
	"$mut" craft "$pkg" "$tmp/unsafe.hpk" unsafe-reloc-type >"$tmp/c.out" 2>&1
	run "$tmp/t.out" "$tmp/t.err" "$hpverify" "$tmp/unsafe.hpk"
	run "$tmp/t.json" "$tmp/t.err2" "$hpverify" --json "$tmp/unsafe.hpk"
	if [ $rc -ne 1 ] || ! grep -q '^result  *unsafe' "$tmp/t.out" || ! grep -q ' error HP009: ' "$tmp/t.out" ||
	   ! grep -q '"result": "unsafe"' "$tmp/t.json"; then
		fail "unsafe-package" "exit $rc: $(grep -E 'HP009|^result' "$tmp/t.out" | tr '\n' '|')$(head -n 1 "$tmp/t.err")"
	else
		pass "unsafe-package"
	fi
else
	fail "hostile" "no package to mutate"
fi

# ---- the rules on a pair with a finding ----
fx=$root/fixtures/14-data-initializer
mkdir -p "$tmp/fx/old" "$tmp/fx/new"
for v in old new; do
	cp "$fx/$v.c" "$tmp/fx/$v/data_initializer.c"
	# shellcheck disable=SC2086
	(cd "$tmp/fx/$v" && $cc $flags -c data_initializer.c -o ../$v.o) || fail "rules-pair" "$v.c does not compile"
done
run "$tmp/r.json" "$tmp/r.err" "$hpverify" --json "$tmp/fx/old.o" "$tmp/fx/new.o"
rcj=$rc
run "$tmp/r.sarif" "$tmp/r.err2" "$hpverify" --sarif "$tmp/fx/old.o" "$tmp/fx/new.o"
rcs=$rc
ids_json=$(sed -n 's/^      "id": "\(HP[0-9]*\)",$/\1/p' "$tmp/r.json" | sort -u | tr '\n' ' ' | sed 's/ $//')
ids_sarif=$(sed -n 's/^ *"ruleId": "\(HP[0-9]*\)",$/\1/p' "$tmp/r.sarif" | sort -u | tr '\n' ' ' | sed 's/ $//')
errors=$(grep -c '"severity": "error"' "$tmp/r.json")
if [ $rcj -gt 1 ] || [ $rcs -ne $rcj ]; then
	fail "rules-pair" "exit $rcj (json) / $rcs (sarif): $(head -n 1 "$tmp/r.err")"
elif ! json_ok "$tmp/r.json" || ! json_ok "$tmp/r.sarif"; then
	fail "rules-pair" "not well-formed JSON"
elif [ "$ids_json" != "$ids_sarif" ]; then
	fail "rules-pair" "--json has rules [$ids_json], --sarif [$ids_sarif]"
elif [ "$ids_json" != HP001 ] || [ "$errors" -eq 0 ] || [ $rcj -ne 1 ]; then
	fail "rules-pair" "want one error finding of HP001 (existing data changed), exit 1; got rules [$ids_json], exit $rcj"
elif ! grep -q '"level": "error"' "$tmp/r.sarif" || ! grep -q '"startLine": [1-9]' "$tmp/r.sarif"; then
	fail "rules-pair" "SARIF result lacks level or location"
else
	pass "rules-pair ($ids_json)"
fi

# ---- the equivalence check of a given package (hpverify OLD NEW PKG) ----
# fixtures/35-part-split with gcc: the fix is in log_msg.part.0, which
# unchanged open_db() and close_db() call directly.  hpbuild's own package
# replaces log_msg.part.0 at its entry: no path into old code (exit 0).  A
# package for another unit (the known pair's) redirects nothing here: the
# check names the caller and the function not replaced (HP015, exit 1).
compile_fixture "$root/fixtures/35-part-split" gcc "$tmp/eq"
(cd "$tmp/eq" && "$hpbuild" -q -o eq.hpk old.o new.o) >"$tmp/eq.out" 2>&1
run "$tmp/eq.own" "$tmp/eq.err" "$hpverify" "$tmp/eq/old.o" "$tmp/eq/new.o" "$tmp/eq/eq.hpk"
rc_own=$rc
run "$tmp/eq.other" "$tmp/eq.err2" "$hpverify" "$tmp/eq/old.o" "$tmp/eq/new.o" "$pkg"
if [ $rc_own -ne 0 ]; then
	fail "equivalence" "hpbuild's package for 35-part-split: exit $rc_own: $(head -n 1 "$tmp/eq.own")"
elif [ $rc -ne 1 ] || ! grep -q 'error HP015: log_msg.part.0: [a-z_]*() calls log_msg.part.0 directly; log_msg.part.0 is not replaced' "$tmp/eq.other"; then
	fail "equivalence" "a package that redirects nothing: exit $rc, want HP015 naming the caller of log_msg.part.0: $(head -n 2 "$tmp/eq.other")"
else
	pass "equivalence"
fi

# ---- usage and input errors ----
bad=
for args in "" "--audit $tmp/fx/old.o $tmp/fx/new.o" "--base $tmp/fx/old.o $tmp/fx/old.o $tmp/fx/new.o" \
	"--json --sarif $pkg" "--base $tmp/fx/old.o --sarif $pkg" "--allow HP001 $pkg" "--no-such-option $pkg" \
	"$tmp/no-such.hpk" "$tmp/fx/old.o" "--base $tmp/no-such-dir $pkg"; do
	# shellcheck disable=SC2086
	run "$tmp/u.out" "$tmp/u.err" "$hpverify" $args
	[ $rc -eq 2 ] || bad="$bad [$args: exit $rc]"
done
run "$tmp/u.out" "$tmp/u.err" "$hpverify" "$tmp/no-such.hpk"
if [ -n "$bad" ]; then
	fail "errors" "$bad"
elif ! one_line_error "$tmp/u.out" "$tmp/u.err" || ! grep -q 'no-such.hpk' "$tmp/u.err"; then
	fail "errors" "a missing package is not one line naming it: $(cat "$tmp/u.err")"
else
	pass "errors"
fi

echo "hpverify: $passed passed, $failed failed"
[ $failed -eq 0 ]
