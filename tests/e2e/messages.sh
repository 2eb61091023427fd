#!/bin/sh
# messages.sh - what the tools say about a problem names the real problem:
# the messages issue 11 found wrong, each on code compiled here by gcc and
# clang, checked for the right words and against the wrong ones.
#
#   sh tests/e2e/messages.sh BUILD_DIR
#
#   layout    HP004 on zlib's deflate_state (fixtures/79-rule-type-layout-
#             rename): the change at 5904 (d_buf -> sym_end), not the
#             renamed member sym_buf as "new"; a member inserted before
#             one of its type (fixtures/46) is new, not a rename
#   orc       HP006 on a table that is no jump table (.orc_unwind_ip)
#             names the table, never "a jump table"
#   32s       HP009 on R_X86_64_32S says "unless the address fits in 32
#             bits", as hpapply(1) resolves it when it does
#   nodwarf   a finding on objects without DWARF is placed in the unit's
#             file (its STT_FILE symbol), never at "?:0:"
#   data      hpdiff calls a writable anonymous region (.data..L*) data,
#             and code without a symbol code, never read-only data
#   machine   an object for another machine is named by name (AArch64),
#             not only by number
# Prints "PASS ..."/"FAIL ...: why" per check and "messages: N passed, M
# failed"; exit 1 if a check failed, 2 on a usage error.

set -u

[ $# -eq 1 ] || { echo "usage: sh tests/e2e/messages.sh BUILD_DIR" >&2; exit 2; }
. "$(dirname "$0")/lib/fixture.sh"
need_tools messages.sh "$1" hpdiff hpbuild
hpdiff=$build_dir/hpdiff
hpbuild=$build_dir/hpbuild

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hpmessages.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

pass=0
fail=0
# check NAME OUTPUT WANT [NOT]: OUTPUT (a file) has the text WANT, and not NOT
check() {
	if ! grep -qF -- "$3" "$2"; then
		fail=$((fail + 1))
		echo "FAIL $1: no '$3' in: $(head -n 3 "$2" | tr '\n' ' ')"
	elif [ -n "${4:-}" ] && grep -qF -- "$4" "$2"; then
		fail=$((fail + 1))
		echo "FAIL $1: says '$4': $(grep -F -- "$4" "$2" | head -n 1)"
	else
		pass=$((pass + 1))
		echo "PASS $1"
	fi
}

# pair NAME CC FLAGS: compile $tmp/src/NAME/{old,new}.c as NAME.c with
# CC and FLAGS into $tmp/NAME-CC/old.o and new.o; false (and a FAIL) when
# it does not compile.
pair() {
	p_w=$tmp/$1-$2
	mkdir -p "$p_w/old" "$p_w/new"
	for v in old new; do
		cp "$tmp/src/$1/$v.c" "$p_w/$v/$1.c"
		# shellcheck disable=SC2086
		if ! (cd "$p_w/$v" && $(compiler_cmd "$2") $3 -c "$1.c" -o ../$v.o) >"$p_w/cc.log" 2>&1; then
			fail=$((fail + 1))
			echo "FAIL $1 $2: does not compile: $(head -n 1 "$p_w/cc.log")"
			return 1
		fi
	done
}

mkdir -p "$tmp/src/orc" "$tmp/src/tbl" "$tmp/src/site" "$tmp/src/weights"

# A function whose second instruction is listed in .orc_unwind_ip, as the
# kernel's objtool lists every instruction: a table pointing into the
# bytes the redirect overwrites (HP006), but not a jump table.
cat >"$tmp/src/orc/old.c" <<'EOF'
__asm__(".pushsection .text.step_up,\"ax\",@progbits\n"
	".globl step_up\n"
	".type step_up, @function\n"
	"step_up:\n"
	"	mov %edi, %eax\n"
	"1:	add $1, %eax\n"
	"	ret\n"
	".size step_up, .-step_up\n"
	".pushsection .orc_unwind_ip,\"a\",@progbits\n"
	"	.long 1b - .\n"
	".popsection\n"
	".popsection\n");
EOF
sed 's/add \$1, %eax/add $2, %eax/' "$tmp/src/orc/old.c" >"$tmp/src/orc/new.c"

# -fno-pic indexing of a static array: R_X86_64_32S.
cat >"$tmp/src/tbl/old.c" <<'EOF'
static int weights[16] = { 1, 2, 3 };

int weight_of(int i)
{
	return weights[i];
}
EOF
sed 's/return weights\[i\];/return i >= 0 \&\& i < 16 ? weights[i] : 0;/' "$tmp/src/tbl/old.c" >"$tmp/src/tbl/new.c"

# fixtures/48's 3-byte function, built without -g: HP005 with no DWARF line.
cp "$fixdir/48-rule-patch-site-small/old.c" "$tmp/src/site/old.c"
cp "$fixdir/48-rule-patch-site-small/new.c" "$tmp/src/site/new.c"

# A writable object named by a local label: clang and gcc put it in
# .data..Lweights, an anonymous region of a writable section.
cat >"$tmp/src/weights/old.c" <<'EOF'
static int weights[4] __asm__(".Lweights") = { 1, 2, 3, 4 };

int weigh(int i)
{
	return weights[i & 3]++;
}
EOF
sed 's/3, 4 }/3, 5 }/' "$tmp/src/weights/old.c" >"$tmp/src/weights/new.c"

for cc in $compilers; do
	w=$tmp/layout-$cc
	if compile_fixture "$fixdir/79-rule-type-layout-rename" "$cc" "$w"; then
		"$hpbuild" -o "$w/x.hpk" "$w/old.o" "$w/new.o" >"$w/out" 2>&1
		check "layout $cc: HP004 names d_buf -> sym_end at 5904" "$w/out" \
			"layout changed (d_buf:ushf *@5904 -> sym_end:uInt@5904)" "new member sym_buf"
	else
		fail=$((fail + 1))
		echo "FAIL layout $cc: does not compile: $(head -n 1 "$w/cc.log")"
	fi

	w=$tmp/insert-$cc
	if compile_fixture "$fixdir/46-rule-type-layout" "$cc" "$w"; then
		"$hpbuild" -o "$w/x.hpk" "$w/old.o" "$w/new.o" >"$w/out" 2>&1
		check "layout $cc: an inserted member is new, not a rename" "$w/out" \
			"new member pending:size_t@8" " -> pending"
	fi

	if pair orc "$cc" "-O2"; then
		w=$tmp/orc-$cc
		"$hpbuild" -o "$w/x.hpk" "$w/old.o" "$w/new.o" >"$w/out" 2>&1
		check "orc $cc: HP006 names .orc_unwind_ip, not a jump table" "$w/out" \
			"HP006: step_up: the table .orc_unwind_ip points to step_up+2" "jump table"
	fi

	if pair tbl "$cc" "-O2 -g -fno-pic -ffunction-sections -fdata-sections"; then
		w=$tmp/tbl-$cc
		"$hpbuild" -o "$w/x.hpk" "$w/old.o" "$w/new.o" >"$w/out" 2>&1
		check "32s $cc: HP009 says when hpapply resolves R_X86_64_32S" "$w/out" \
			"relocation R_X86_64_32S to weights at +0x" ""
		check "32s $cc: ... unless the address fits" "$w/out" "unless the address fits in 32 bits" ""
	fi

	if pair site "$cc" "-O2 -ffunction-sections"; then
		w=$tmp/site-$cc
		"$hpbuild" -o "$w/x.hpk" "$w/old.o" "$w/new.o" >"$w/out" 2>&1
		check "nodwarf $cc: HP005 placed in site.c" "$w/out" "site.c:0: error HP005: strict_parsing" "?:0:"
		"$hpbuild" --json -o "$w/x.hpk" "$w/old.o" "$w/new.o" >"$w/json" 2>/dev/null
		check "nodwarf $cc: JSON file is site.c" "$w/json" '"file": "site.c"' '"file": null'
	fi

	if pair weights "$cc" "-O2 -g -ffunction-sections -fdata-sections"; then
		w=$tmp/weights-$cc
		"$hpdiff" "$w/old.o" "$w/new.o" >"$w/out" 2>&1
		check "data $cc: .data..Lweights is data" "$w/out" \
			"references changed data (.data..Lweights" "read-only"
	fi
	w=$tmp/slow-$cc
	if compile_fixture "$fixdir/71-asm-slow-path" "$cc" "$w"; then
		"$hpdiff" "$w/old.o" "$w/new.o" >"$w/out" 2>&1
		check "data $cc: .text.csum_slow is code" "$w/out" \
			"references changed code (.text.csum_slow" "read-only"
	fi
done

# clang builds for any target; gcc only for this one
echo 'int f(int x) { return x + 1; }' >"$tmp/arm.c"
if ${CLANG:-clang} --target=aarch64-linux-gnu -O2 -c "$tmp/arm.c" -o "$tmp/arm.o" >"$tmp/cc.log" 2>&1; then
	"$hpdiff" "$tmp/arm.o" "$tmp/arm.o" >"$tmp/arm.out" 2>&1
	check "machine: AArch64 by name" "$tmp/arm.out" "ELF object for AArch64 (e_machine 183)" ""
else
	fail=$((fail + 1))
	echo "FAIL machine: clang --target=aarch64-linux-gnu: $(head -n 1 "$tmp/cc.log")"
fi

echo "messages: $pass passed, $fail failed"
[ $fail -eq 0 ]
