#!/bin/sh
# sign.sh - signed packages end to end, with the real minisign tool.
#
#   sh tests/e2e/sign.sh BUILD_DIR
#
# Keys are made by `minisign -G -W` (unencrypted; the encrypted form is
# covered by tests/unit/test_minisign.c with small scrypt limits).  The
# package is tests/e2e/hpapply/body (compute(7) answers 15 before the fix,
# 22 after), compiled here with gcc.  Checks:
#  - hpbuild --sign writes PKG.minisig; `minisign -V` verifies it and shows
#    "hotpatch package ID"; signing twice gives the same bytes;
#  - a package signed by `minisign -S` (prehashed, and legacy -l) with the
#    trusted comment "hotpatch package ID" verifies with hpverify --key;
#    minisign's default trusted comment (no package id) is refused;
#  - hpverify --key / --keys: exit 0 and the key id minisign printed in the
#    .pub file; a wrong key, a missing or damaged signature: exit 1, in text,
#    --json and --sarif; an unreadable or malformed key: exit 2, one line;
#  - the tamper case: one byte of the code changed and every checksum, the
#    digest and the id recomputed (tests/e2e/hpkmut.c code-byte), the old
#    signature next to it.  hpverify alone accepts it (a consistent package
#    with another id); with --key it is refused; hpapply with --key, with
#    the key directory, and with --expect-id of the original refuse it, exit
#    1, and strace shows no ptrace of the process; the process still answers
#    15;
#  - hpapply with a key applies the signed package (the process answers 22),
#    --list shows the signer, --json too; without keys it says once that the
#    package is unsigned and applies it;
#  - a secret key with mode 644 or a malformed one: hpbuild exits 2 with one
#    line, and writes no package.
# Bit flips of every bit of a package and of its signature are checked in
# the unit test (test_minisign); here a sample goes through the commands.
# Prints PASS/FAIL lines and "sign: N passed, M failed"; exit 1 on a failure.

set -u
[ $# -eq 1 ] || { echo "usage: sh tests/e2e/sign.sh BUILD_DIR" >&2; exit 2; }
. "$(dirname "$0")/lib/fixture.sh"
need_tools sign.sh "$1" hpbuild hpverify hpapply
hpbuild=$build_dir/hpbuild
hpverify=$build_dir/hpverify
hpapply=$build_dir/hpapply
command -v minisign >/dev/null 2>&1 || { echo "sign.sh: minisign is not installed (make deps)" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sign.XXXXXX") || exit 2
pids=""
cleanup() {
	for p in $pids; do
		kill -9 "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# no system key directory may change what these checks expect
HOTPATCH_KEYS_DIR=$tmp/no-such-dir
export HOTPATCH_KEYS_DIR

passed=0
failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

# run OUT ERR CMD...: sets rc (a hang ends at 120 s and fails).
run() {
	r_out=$1 r_err=$2
	shift 2
	timeout 120 "$@" >"$r_out" 2>"$r_err"
	rc=$?
}

one_line() { [ "$(wc -l <"$1")" -eq 1 ]; }

# ---- a package, keys ----
src=$root/tests/e2e/hpapply/body
mkdir -p "$tmp/old" "$tmp/new" "$tmp/keys" "$tmp/other"
if ! gcc $default_flags -c "$src/old.c" -o "$tmp/old/unit.o" 2>"$tmp/cc.log" ||
   ! gcc $default_flags -c "$src/new.c" -o "$tmp/new/unit.o" 2>>"$tmp/cc.log" ||
   ! gcc $default_flags -c "$root/tests/e2e/hpapply/main.c" -o "$tmp/main.o" 2>>"$tmp/cc.log" ||
   ! gcc -O2 -g -o "$tmp/prog" "$tmp/old/unit.o" "$tmp/main.o" 2>>"$tmp/cc.log"; then
	echo "sign.sh: cannot compile the test program: $(head -n 1 "$tmp/cc.log")" >&2
	exit 2
fi
for k in a b; do
	minisign -G -W -f -p "$tmp/$k.pub" -s "$tmp/$k.key" >/dev/null 2>&1 ||
		{ echo "sign.sh: minisign -G -W failed" >&2; exit 2; }
done
cp "$tmp/a.pub" "$tmp/keys/release.pub"
cp "$tmp/b.pub" "$tmp/other/other.pub"
# the key id minisign prints in the public key's comment, which drops
# leading zeros ("B0EAF0BDC7FA710"); the tools print all 16 digits
key_a=$(sed -n '1s/.* //p' "$tmp/a.pub")
while [ ${#key_a} -lt 16 ]; do key_a=0$key_a; done

# hpkmut (tamper case) against the build's library, as hpverify.sh builds it
san=
nm "$build_dir/libhp.a" 2>/dev/null | grep -q __asan_ && san="-fsanitize=address,undefined"
# shellcheck disable=SC2086
if ! cc -std=gnu11 -D_GNU_SOURCE $san -I"$root/lib" -o "$tmp/hpkmut" "$root/tests/e2e/hpkmut.c" \
	"$build_dir/libhp.a" -ldwarf -lelf -lz -lcapstone -lxxhash -lsodium >"$tmp/cc.log" 2>&1; then
	echo "sign.sh: cannot build tests/e2e/hpkmut.c: $(head -n 1 "$tmp/cc.log")" >&2
	exit 2
fi

# ---- hpbuild --sign, minisign -V ----
pkg=$tmp/fix.hpk
run "$tmp/b.out" "$tmp/b.err" "$hpbuild" --sign "$tmp/a.key" -o "$pkg" "$tmp/old/unit.o" "$tmp/new/unit.o"
id=$(sed -n 's/^  package id *//p' "$tmp/b.out")
if [ $rc -ne 0 ] || [ ! -f "$pkg.minisig" ]; then
	fail "hpbuild-sign" "exit $rc: $(head -n 1 "$tmp/b.err")"
elif ! grep -q "^  signed by     key $key_a ($pkg.minisig)\$" "$tmp/b.out"; then
	fail "hpbuild-sign" "no 'signed by key $key_a' line: $(cat "$tmp/b.out")"
else
	pass "hpbuild-sign"
fi
run "$tmp/m.out" "$tmp/m.err" minisign -V -p "$tmp/a.pub" -m "$pkg"
if [ $rc -eq 0 ] && grep -qx "Trusted comment: hotpatch package $id" "$tmp/m.out"; then
	pass "minisign-verifies-hpbuild"
else
	fail "minisign-verifies-hpbuild" "exit $rc: $(cat "$tmp/m.out" "$tmp/m.err" | head -n 3)"
fi
mkdir "$tmp/again"
run "$tmp/b2.out" "$tmp/b2.err" "$hpbuild" -q --sign "$tmp/a.key" -o "$tmp/again/fix.hpk" \
	"$tmp/old/unit.o" "$tmp/new/unit.o"
if [ $rc -eq 0 ] && cmp -s "$pkg.minisig" "$tmp/again/fix.hpk.minisig"; then
	pass "signature-deterministic"
else
	fail "signature-deterministic" "exit $rc, or two builds signed differently"
fi

# ---- hpverify --key / --keys ----
run "$tmp/v.out" "$tmp/v.err" "$hpverify" --key "$tmp/a.pub" "$pkg"
if [ $rc -eq 0 ] && grep -qx "signature    ok: key $key_a ($tmp/a.pub)" "$tmp/v.out" &&
   grep -qx "signed as    hotpatch package $id" "$tmp/v.out"; then
	pass "hpverify-key"
else
	fail "hpverify-key" "exit $rc: $(grep -E '^(signature|result)' "$tmp/v.out") $(head -n 1 "$tmp/v.err")"
fi
run "$tmp/v.out" "$tmp/v.err" "$hpverify" --keys "$tmp/keys" --json "$pkg"
if [ $rc -eq 0 ] && grep -q "\"key_id\": \"$key_a\"" "$tmp/v.out" && grep -q '"status": "ok"' "$tmp/v.out"; then
	pass "hpverify-keys-json"
else
	fail "hpverify-keys-json" "exit $rc: $(head -c 300 "$tmp/v.out") $(head -n 1 "$tmp/v.err")"
fi
run "$tmp/v.out" "$tmp/v.err" "$hpverify" --audit "$pkg"
if [ $rc -eq 0 ] && grep -qx "signature    claims key $key_a, not verified (give --key or --keys)" "$tmp/v.out"; then
	pass "audit-shows-signer"
else
	fail "audit-shows-signer" "exit $rc: $(grep '^signature' "$tmp/v.out")"
fi

# a wrong key, no signature, a damaged one: exit 1 in every output form
cp "$pkg" "$tmp/unsigned.hpk"
cp "$pkg" "$tmp/damaged.hpk"
awk 'NR == 4 { $0 = (substr($0, 1, 1) == "A" ? "B" : "A") substr($0, 2) } { print }' \
	"$pkg.minisig" >"$tmp/damaged.hpk.minisig"
bad=
for case in "other:--key $tmp/b.pub:$pkg:bad-signature" "other-dir:--keys $tmp/other:$pkg:bad-signature" \
	"unsigned:--key $tmp/a.pub:$tmp/unsigned.hpk:unsigned" "damaged:--key $tmp/a.pub:$tmp/damaged.hpk:bad-signature"; do
	name=${case%%:*} rest=${case#*:}
	opts=${rest%%:*} rest=${rest#*:}
	file=${rest%%:*} want=${rest#*:}
	# shellcheck disable=SC2086
	run "$tmp/t.out" "$tmp/t.err" "$hpverify" $opts "$file"
	[ $rc -eq 1 ] && grep -q '^result       refused' "$tmp/t.out" && one_line "$tmp/t.err" ||
		bad="$bad [$name text: exit $rc $(head -n 1 "$tmp/t.err")]"
	# shellcheck disable=SC2086
	run "$tmp/t.out" "$tmp/t.err" "$hpverify" --json $opts "$file"
	[ $rc -eq 1 ] && grep -q "\"result\": \"$want\"" "$tmp/t.out" || bad="$bad [$name json: exit $rc]"
	# shellcheck disable=SC2086
	run "$tmp/t.out" "$tmp/t.err" "$hpverify" --sarif $opts "$file"
	[ $rc -eq 1 ] && grep -q '"ruleId": "signature"' "$tmp/t.out" || bad="$bad [$name sarif: exit $rc]"
done
[ -z "$bad" ] && pass "hpverify-refuses-bad-signatures" || fail "hpverify-refuses-bad-signatures" "$bad"

printf 'untrusted comment: x\nnot a key\n' >"$tmp/junk.pub"
bad=
for k in "$tmp/no-such.pub" "$tmp/junk.pub"; do
	run "$tmp/t.out" "$tmp/t.err" "$hpverify" --key "$k" "$pkg"
	{ [ $rc -eq 2 ] && one_line "$tmp/t.err" && grep -q "$k" "$tmp/t.err" && [ ! -s "$tmp/t.out" ]; } ||
		bad="$bad [$k: exit $rc: $(cat "$tmp/t.err")]"
done
run "$tmp/t.out" "$tmp/t.err" "$hpverify" --keys "$tmp/old" "$pkg"
{ [ $rc -eq 2 ] && one_line "$tmp/t.err"; } || bad="$bad [a key directory without keys: exit $rc]"
[ -z "$bad" ] && pass "unreadable-key-exit-2" || fail "unreadable-key-exit-2" "$bad"

# ---- minisign -S, hpverify ----
cp "$pkg" "$tmp/m.hpk"
cp "$pkg" "$tmp/l.hpk"
cp "$pkg" "$tmp/d.hpk"
if minisign -S -W -s "$tmp/b.key" -m "$tmp/m.hpk" -t "hotpatch package $id" >/dev/null 2>&1 &&
   minisign -S -l -W -s "$tmp/b.key" -m "$tmp/l.hpk" -t "hotpatch package $id signed by release" >/dev/null 2>&1 &&
   minisign -S -W -s "$tmp/b.key" -m "$tmp/d.hpk" >/dev/null 2>&1; then
	run "$tmp/t.out" "$tmp/t.err" "$hpverify" --key "$tmp/b.pub" "$tmp/m.hpk"
	rc_m=$rc
	run "$tmp/t.out" "$tmp/t.err" "$hpverify" --key "$tmp/b.pub" "$tmp/l.hpk"
	rc_l=$rc
	run "$tmp/t.out" "$tmp/t.err" "$hpverify" --key "$tmp/b.pub" "$tmp/d.hpk"
	rc_d=$rc
	if [ $rc_m -eq 0 ] && [ $rc_l -eq 0 ] && [ $rc_d -eq 1 ] && grep -q 'for another package' "$tmp/t.err"; then
		pass "hpverify-verifies-minisign"
	else
		fail "hpverify-verifies-minisign" "prehashed exit $rc_m, legacy exit $rc_l, default comment exit $rc_d (want 0 0 1)"
	fi
else
	fail "hpverify-verifies-minisign" "minisign -S failed"
fi

# ---- bit flips through the command (every bit: tests/unit/test_minisign) ----
# flip FILE OFFSET BIT: that bit of that byte, in place
flip() {
	f_b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	# shellcheck disable=SC2059
	printf "$(printf '\\%03o' $((f_b ^ (1 << $3))))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
sig_size=$(wc -c <"$pkg.minisig")
pkg_size=$(wc -c <"$pkg")
comment_end=$(head -n 1 "$pkg.minisig" | wc -c)   # the untrusted comment is not signed
bad= n=0
i=$comment_end
while [ "$i" -lt "$sig_size" ]; do
	cp "$pkg" "$tmp/f.hpk"
	cp "$pkg.minisig" "$tmp/f.hpk.minisig"
	flip "$tmp/f.hpk.minisig" "$i" $((i % 8))
	run "$tmp/t.out" "$tmp/t.err" "$hpverify" -q --key "$tmp/a.pub" "$tmp/f.hpk"
	[ $rc -eq 1 ] && one_line "$tmp/t.err" || bad="$bad [signature byte $i: exit $rc]"
	n=$((n + 1))
	i=$((i + 11))
done
i=0
while [ "$i" -lt "$pkg_size" ]; do
	cp "$pkg" "$tmp/f.hpk"
	cp "$pkg.minisig" "$tmp/f.hpk.minisig"
	flip "$tmp/f.hpk" "$i" $((i % 8))
	run "$tmp/t.out" "$tmp/t.err" "$hpverify" -q --key "$tmp/a.pub" "$tmp/f.hpk"
	{ [ $rc -eq 1 ] || [ $rc -eq 2 ]; } && one_line "$tmp/t.err" || bad="$bad [package byte $i: exit $rc]"
	n=$((n + 1))
	i=$((i + 37))
done
if [ -z "$bad" ]; then
	pass "bit-flips-refused ($n flips of the signature and the package through hpverify --key)"
else
	fail "bit-flips-refused" "$bad"
fi

# ---- the tamper case ----
tam=$tmp/tampered.hpk
if ! "$tmp/hpkmut" craft "$pkg" "$tam" code-byte >"$tmp/t.out" 2>&1; then
	fail "tamper" "hpkmut: $(cat "$tmp/t.out")"
else
	cp "$pkg.minisig" "$tam.minisig"
	run "$tmp/t.out" "$tmp/t.err" "$hpverify" "$tam"
	rc_plain=$rc
	tam_id=$(sed -n 's/^id *//p' "$tmp/t.out")
	run "$tmp/t.out" "$tmp/t.err" "$hpverify" --key "$tmp/a.pub" "$tam"
	if [ $rc_plain -eq 0 ] && [ "$tam_id" != "$id" ] && [ $rc -eq 1 ] &&
	   grep -q 'signature verification failed' "$tmp/t.err"; then
		pass "tamper-hpverify (without a key: ok as package $tam_id; with the key: refused)"
	else
		fail "tamper-hpverify" "without key exit $rc_plain (id $tam_id), with key exit $rc: $(cat "$tmp/t.err")"
	fi
fi

# ---- hpapply ----
if ! strace -o /dev/null true 2>/dev/null; then
	echo "SKIP hpapply: strace cannot trace here"
else
	"$tmp/prog" >"$tmp/prog.out" 2>&1 &
	pid=$!
	pids="$pids $pid"
	# wait_answer N: until the program's last line says compute=N (30 s at most)
	wait_answer() {
		i=0
		while [ $i -lt 1500 ]; do
			[ "$(tail -n 1 "$tmp/prog.out" 2>/dev/null)" = "compute=$1" ] && return 0
			sleep 0.02
			i=$((i + 1))
		done
		return 1
	}
	if ! wait_answer 15; then
		fail "hpapply" "the test program does not run: $(tail -n 1 "$tmp/prog.out")"
	else
		# refused before the process is touched: no ptrace, nothing under
		# /proc/PID.  LeakSanitizer cannot run under strace: the same
		# command runs first without it, leaks checked.
		untouched() { # NAME VAR=VALUE|- ARGS...
			u_name=$1 u_env=$2
			shift 2
			[ "$u_env" = - ] && u_env=HPAPPLY_UNUSED=1
			env "$u_env" timeout 60 "$hpapply" -p "$pid" "$@" >"$tmp/a.out" 2>"$tmp/a.err"
			u_rc0=$?
			env "$u_env" ASAN_OPTIONS=detect_leaks=0 timeout 60 strace -f -qq -o "$tmp/trace" \
				-e trace=ptrace,open,openat,process_vm_writev \
				"$hpapply" -p "$pid" "$@" >"$tmp/a.out" 2>"$tmp/a.err"
			u_rc=$?
			touch=$(grep -m 1 -E "ptrace\\([A-Z_]+, ${pid}[,)]|/proc/$pid/|process_vm_" "$tmp/trace")
			if [ $u_rc0 -eq 1 ] && [ $u_rc -eq 1 ] && [ -z "$touch" ] && one_line "$tmp/a.err"; then
				pass "$u_name ($(cut -c1-110 "$tmp/a.err"))"
			else
				fail "$u_name" "exit $u_rc0 / $u_rc under strace (want 1), touched: ${touch:-no}: $(head -n 2 "$tmp/a.err")"
			fi
		}
		untouched "tamper-hpapply-key" - --key "$tmp/a.pub" "$tam"
		untouched "tamper-hpapply-key-dir" "HOTPATCH_KEYS_DIR=$tmp/keys" "$tam"
		untouched "tamper-hpapply-expect-id" - --expect-id "$id" "$tam"
		untouched "hpapply-wrong-key" - --key "$tmp/b.pub" "$pkg"
		untouched "hpapply-unsigned-with-keys" "HOTPATCH_KEYS_DIR=$tmp/keys" "$tmp/unsigned.hpk"
		if wait_answer 15; then
			pass "tamper-process-unchanged"
		else
			fail "tamper-process-unchanged" "answers $(tail -n 1 "$tmp/prog.out")"
		fi

		run "$tmp/a.out" "$tmp/a.err" env "HOTPATCH_KEYS_DIR=$tmp/keys" "$hpapply" -p "$pid" --expect-id "$id" "$pkg"
		if [ $rc -eq 0 ] && grep -q "^  signed by  key $key_a\$" "$tmp/a.out" && wait_answer 22; then
			pass "hpapply-signed"
		else
			fail "hpapply-signed" "exit $rc: $(head -n 3 "$tmp/a.out" "$tmp/a.err")"
		fi
		run "$tmp/l.out" "$tmp/l.err" "$hpapply" -p "$pid" --list
		run "$tmp/j.out" "$tmp/j.err" "$hpapply" -p "$pid" --list --json
		if grep -qx "  signer   $key_a" "$tmp/l.out" && grep -q "\"signer\": \"$key_a\"" "$tmp/j.out"; then
			pass "list-shows-signer"
		else
			fail "list-shows-signer" "$(cat "$tmp/l.out") $(grep signer "$tmp/j.out")"
		fi
		run "$tmp/a.out" "$tmp/a.err" "$hpapply" -p "$pid" --revert
		wait_answer 15 || fail "revert" "answers $(tail -n 1 "$tmp/prog.out")"

		# no keys: applied as before, with one note that it is unsigned
		run "$tmp/a.out" "$tmp/a.err" "$hpapply" -p "$pid" "$tmp/unsigned.hpk"
		if [ $rc -eq 0 ] && [ "$(grep -c 'is unsigned' "$tmp/a.err")" -eq 1 ] && wait_answer 22; then
			"$hpapply" -p "$pid" --list >"$tmp/l.out" 2>&1
			if grep -q '^  signer   none' "$tmp/l.out"; then
				pass "hpapply-without-keys"
			else
				fail "hpapply-without-keys" "--list: $(cat "$tmp/l.out")"
			fi
		else
			fail "hpapply-without-keys" "exit $rc: $(cat "$tmp/a.err")"
		fi
		"$hpapply" -p "$pid" --revert >/dev/null 2>&1

		run "$tmp/a.out" "$tmp/a.err" "$hpapply" -p "$pid" --key "$tmp/no-such.pub" "$pkg"
		if [ $rc -eq 2 ] && one_line "$tmp/a.err"; then
			pass "hpapply-unreadable-key"
		else
			fail "hpapply-unreadable-key" "exit $rc: $(cat "$tmp/a.err")"
		fi
	fi
fi

# ---- secret keys refused ----
bad=
cp "$tmp/a.key" "$tmp/open.key"
chmod 644 "$tmp/open.key"
printf 'untrusted comment: x\nRWQAAA==\n' >"$tmp/junk.key"
chmod 600 "$tmp/junk.key"
for k in open junk; do
	run "$tmp/t.out" "$tmp/t.err" "$hpbuild" --sign "$tmp/$k.key" -o "$tmp/$k.hpk" "$tmp/old/unit.o" "$tmp/new/unit.o"
	{ [ $rc -eq 2 ] && one_line "$tmp/t.err" && grep -q "$tmp/$k.key" "$tmp/t.err" && [ ! -e "$tmp/$k.hpk" ]; } ||
		bad="$bad [$k: exit $rc: $(cat "$tmp/t.err")]"
	[ $k = open ] && ! grep -q 'mode 0644' "$tmp/t.err" && bad="$bad [mode not named: $(cat "$tmp/t.err")]"
done
if [ -z "$bad" ]; then
	pass "secret-key-refused (mode 644, malformed)"
else
	fail "secret-key-refused" "$bad"
fi

echo "sign: $passed passed, $failed failed"
[ $failed -eq 0 ]
