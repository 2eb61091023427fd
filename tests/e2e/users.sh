#!/bin/sh
# users.sh - what release engineers, CI owners and auditors run into
# (issue "safe output, honest answers on inputs it cannot read, tree-level
# reports, a review view"), one numbered group per problem:
#   1  output: FIFOs and devices written through, symlinks followed, the
#      mode kept, -o - on standard output, no temporary file left by
#      SIGXFSZ (ulimit -f) or SIGTERM
#   2  gcc slim LTO and LLVM bitcode refused in one line; fat LTO warned
#   3  without DWARF: one "rule not run" line per run, .comment names the
#      compiler, --strict fails
#   4  gcc against clang with no source change: no signature or layout
#      finding
#   5  two sources of one name in a tree: a warning at build time
#   6  the same package id from any directory; a bad SOURCE_DATE_EPOCH
#   7  default output names; -j N is jobs in every tool that has it
#   8  hpdiff on trees and archives, --stat; hpbuild names its functions
#   9  the review view: --audit --base, --new, --explain, --list-rules
#  10  usage errors in one line plus "Try", make install/uninstall with
#      GNU directory variables, the README's walk-through files exist
#
#   sh tests/e2e/users.sh BUILD_DIR
# Prints PASS/FAIL lines and "users: N passed, M failed"; exit 1 on a
# failure, 2 on a usage error.  Objects are compiled here by gcc and clang
# from the sources below and fixtures/zlib-tree.
set -u
[ $# -eq 1 ] || { echo "usage: sh tests/e2e/users.sh BUILD_DIR" >&2; exit 2; }
. "$(dirname "$0")/lib/fixture.sh"
need_tools users.sh "$1" hpdiff hpbuild hpverify hpapply
hpdiff=$build_dir/hpdiff
hpbuild=$build_dir/hpbuild
hpverify=$build_dir/hpverify
hpapply=$build_dir/hpapply
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hpusers.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "PASS $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
# check NAME EXPR: PASS when the shell expression EXPR is true
check() {
	if eval "$2"; then ok "$1"; else bad "$1"; fi
}
# run OUT ERR CMD...: sets rc; bounded so a hang ends the run
run() {
	r_out=$1 r_err=$2
	shift 2
	timeout 120 "$@" >"$r_out" 2>"$r_err"
	rc=$?
}
# one_line FILE: FILE holds exactly one line
one_line() { [ "$(wc -l <"$1")" -eq 1 ]; }
# no_temp DIR: no temporary package file (NAME.tmpXXXXXX) in DIR
no_temp() { ! ls "$1" | grep -q '\.tmp'; }

# tree CC FLAGS SRC W: every SRC/*.c compiled by CC into W/NAME.o, in SRC
# (so that file names in DWARF and __FILE__ are relative)
tree() {
	t_cc=$(compiler_cmd "$1") t_flags=$2 t_src=$3 t_w=$4
	mkdir -p "$t_w"
	for t_c in "$t_src"/*.c; do
		t_o=$(basename "$t_c" .c).o
		# shellcheck disable=SC2086
		(cd "$t_src" && $t_cc $t_flags -c "$(basename "$t_c")" -o "$t_w/$t_o") || return 1
	done
}

# The pair most groups use: fixture 01-body-change, gcc.
w=$tmp/pair
if ! compile_fixture "$fixdir/01-body-change" gcc "$w"; then
	echo "users.sh: cannot compile 01-body-change: $(head -n 1 "$w/cc.log")" >&2
	exit 2
fi
run "$tmp/o" "$tmp/e" "$hpbuild" -q -o "$w/ref.hpk" "$w/old.o" "$w/new.o"
[ $rc -eq 0 ] || { echo "users.sh: hpbuild on 01-body-change: exit $rc" >&2; exit 2; }

# ---- 1. output ----
d=$tmp/out1
mkdir -p "$d"
mkfifo "$d/fifo"
timeout 60 cat "$d/fifo" >"$d/from-fifo" &
reader=$!
run "$d/o" "$d/e" "$hpbuild" -q -o "$d/fifo" "$w/old.o" "$w/new.o"
hb_rc=$rc
[ $rc -eq 0 ] || : >"$d/fifo"   # release the reader if hpbuild never opened it
wait $reader
check "1 FIFO written through (exit $hb_rc), still a FIFO, holds the package" \
	'[ $hb_rc -eq 0 ] && [ -p "$d/fifo" ] && cmp -s "$d/from-fifo" "$w/ref.hpk"'

if [ "$(id -u)" -eq 0 ] && mknod "$d/null" c 1 3 2>/dev/null; then
	run "$d/o" "$d/e" "$hpbuild" -q -o "$d/null" "$w/old.o" "$w/new.o"
	check "1 a character device (a null device made in a temp dir) is written through, not replaced" \
		'[ $rc -eq 0 ] && [ -c "$d/null" ]'
else
	echo "SKIP 1 character device: mknod needs root"
fi

echo old >"$d/target.hpk"
ln -s target.hpk "$d/link.hpk"
run "$d/o" "$d/e" "$hpbuild" -q -o "$d/link.hpk" "$w/old.o" "$w/new.o"
check "1 a symlink stays a symlink; its target gets the package" \
	'[ $rc -eq 0 ] && [ -L "$d/link.hpk" ] && cmp -s "$d/target.hpk" "$w/ref.hpk"'
ln -s missing/nowhere.hpk "$d/dangling.hpk"
run "$d/o" "$d/e" "$hpbuild" -q -o "$d/dangling.hpk" "$w/old.o" "$w/new.o"
check "1 a dangling symlink is refused in one line, exit 2" \
	'[ $rc -eq 2 ] && [ -L "$d/dangling.hpk" ] && one_line "$d/e"'

cp "$w/ref.hpk" "$d/private.hpk"
chmod 600 "$d/private.hpk"
run "$d/o" "$d/e" "$hpbuild" -q -o "$d/private.hpk" "$w/old.o" "$w/new.o"
check "1 an existing file keeps mode 600" \
	'[ $rc -eq 0 ] && [ "$(stat -c %a "$d/private.hpk")" = 600 ]'

(cd "$d" && timeout 120 "$hpbuild" -o - "$w/old.o" "$w/new.o" >"$d/stdout.hpk" 2>"$d/e")
rc=$?
check "1 -o - writes the package to standard output, the summary to stderr, no file named -" \
	'[ $rc -eq 0 ] && cmp -s "$d/stdout.hpk" "$w/ref.hpk" && grep -q "package id" "$d/e" && [ ! -e "$d/-" ]' 

mkdir -p "$d/xfsz"
# through a pipe: the limit must hit the package, not the error line
(ulimit -f 0; exec "$hpbuild" -o "$d/xfsz/big.hpk" "$w/old.o" "$w/new.o") 2>&1 | cat >"$d/xfsz.log"
check "1 ulimit -f: exit 2 in one line, nothing left behind" 'grep -q "big.hpk: cannot write: File too large" "$d/xfsz.log" && one_line "$d/xfsz.log" &&
	       [ -z "$(ls "$d/xfsz")" ]'

if command -v strace >/dev/null 2>&1 &&
   strace -f -qq -o "$d/st.log" -e trace=fsync -e inject=fsync:signal=SIGTERM true 2>/dev/null; then
	mkdir -p "$d/term"
	timeout 120 strace -f -qq -o "$d/st.log" -e trace=fsync -e inject=fsync:signal=SIGTERM \
		"$hpbuild" -q -o "$d/term/sig.hpk" "$w/old.o" "$w/new.o" >/dev/null 2>&1
	check "1 SIGTERM while the temporary file exists: no temporary file left" 'no_temp "$d/term"' 
else
	echo "SKIP 1 SIGTERM: strace cannot inject signals here"
fi

# ---- 2. inputs it cannot read ----
d=$tmp/lto
mkdir -p "$d/old" "$d/new"
# functions of more than 5 bytes: HP005 is not what these check
body='int sum(const int *v, int n)\n{\n\tint s = 0;\n\tfor (int i = 0; i < n; i++)\n\t\ts += v[i] * %s;\n\treturn s;\n}\n'
# shellcheck disable=SC2059
printf "$body" 3 >"$d/old/s.c"
# shellcheck disable=SC2059
printf "$body" 5 >"$d/new/s.c"
for v in old new; do
	(cd "$d/$v" && gcc -O2 -g -flto -c s.c -o slim.o && gcc -O2 -g -flto -ffat-lto-objects -c s.c -o fat.o &&
	 clang -O2 -g -flto -c s.c -o bc.o) || bad "2 compile LTO objects"
done
run "$d/o" "$d/e" "$hpdiff" "$d/old/slim.o" "$d/new/slim.o"
check "2 hpdiff: gcc slim LTO is exit 2, one line that says -flto" \
	'[ $rc -eq 2 ] && one_line "$d/e" && grep -q "slim.o: gcc -flto object without machine code.*without -flto" "$d/e"'
run "$d/o" "$d/e" "$hpbuild" -o "$d/x.hpk" "$d/old/slim.o" "$d/new/slim.o"
check "2 hpbuild: gcc slim LTO is exit 2, no package" \
	'[ $rc -eq 2 ] && one_line "$d/e" && [ ! -e "$d/x.hpk" ]'
run "$d/o" "$d/e" "$hpdiff" "$d/old/bc.o" "$d/new/bc.o"
check "2 hpdiff: LLVM bitcode is exit 2, one line that says so" \
	'[ $rc -eq 2 ] && one_line "$d/e" && grep -q "bc.o: LLVM bitcode (clang -flto)" "$d/e"'
run "$d/o" "$d/e" "$hpverify" "$d/old/bc.o" "$d/new/bc.o"
check "2 hpverify OLD NEW: LLVM bitcode is exit 2" '[ $rc -eq 2 ] && one_line "$d/e"'
run "$d/o" "$d/e" "$hpbuild" --json -o "$d/fat.hpk" "$d/old/fat.o" "$d/new/fat.o"
check "2 hpbuild: fat LTO builds with warning HP013 (the link stage's code)" \
	'[ $rc -eq 0 ] && grep -q "\"id\": \"HP013\"" "$d/o" && grep -q "\"severity\": \"warning\"" "$d/o"'

# ---- 3. without DWARF ----
d=$tmp/nodwarf
mkdir -p "$d/src/old" "$d/src/new"
body='int f%s(const int *v, int n)\n{\n\tint s = 0;\n\tfor (int i = 0; i < n; i++)\n\t\ts += v[i] * %s;\n\treturn s;\n}\n'
for i in 1 2 3 4 5; do
	# shellcheck disable=SC2059
	printf "$body" "$i" "$i" >"$d/src/old/u$i.c"
	cp "$d/src/old/u$i.c" "$d/src/new/u$i.c"
done
# shellcheck disable=SC2059
printf "$body" 3 7 >"$d/src/new/u3.c"
tree gcc "-O2 -ffunction-sections" "$d/src/old" "$d/gcc/old" && tree gcc "-O2 -ffunction-sections" "$d/src/new" "$d/gcc/new" &&
	tree clang "-O2 -ffunction-sections" "$d/src/new" "$d/clang/new" || bad "3 compile trees without -g"
run "$d/o" "$d/e" "$hpbuild" -o "$d/x.hpk" "$d/gcc/old" "$d/gcc/new"
check "3 a 5-object tree without DWARF: one 'rule not run' line, no per-object notes" \
	'[ $rc -eq 0 ] && [ "$(grep -c "rule not run" "$d/e")" -eq 1 ] && ! grep -q "note HP011" "$d/e"'
run "$d/o" "$d/e" "$hpbuild" -o "$d/y.hpk" "$d/gcc/old" "$d/clang/new"
check "3 gcc old against clang new without -g: refused by HP011 from .comment" \
	'[ $rc -eq 1 ] && grep -q "error HP011: .*from .comment" "$d/e" && [ ! -e "$d/y.hpk" ]'
run "$d/o" "$d/e" "$hpbuild" --strict -o "$d/z.hpk" "$d/gcc/old" "$d/gcc/new"
check "3 hpbuild --strict: a rule that did not run refuses (exit 1)" \
	'[ $rc -eq 1 ] && grep -q "refused: --strict" "$d/e" && [ ! -e "$d/z.hpk" ]'
run "$d/o" "$d/e" "$hpverify" --strict "$d/gcc/old" "$d/gcc/new"
check "3 hpverify --strict OLD NEW: exit 1" '[ $rc -eq 1 ]'
run "$d/o" "$d/e" "$hpverify" "$d/gcc/old" "$d/gcc/new"
check "3 hpverify OLD NEW without --strict: exit 0, one 'rule not run' line" \
	'[ $rc -eq 0 ] && [ "$(grep -c "rule not run" "$d/o")" -eq 1 ]'

# ---- 4. base types across compilers ----
d=$tmp/types
mkdir -p "$d/old" "$d/new"
cat >"$d/old/room.c" <<'EOF'
struct buf { unsigned long len; long off; unsigned short port; long long big; unsigned char *p; };
unsigned long buf_room(const struct buf *b, unsigned long want)
{
	return b->len - (unsigned long)b->off < want ? 0 : want + b->port;
}
EOF
cp "$d/old/room.c" "$d/new/room.c"
(cd "$d/old" && gcc -O2 -g -c room.c -o ../old.o) && (cd "$d/new" && clang -O2 -g -c room.c -o ../new.o) ||
	bad "4 compile"
run "$d/o" "$d/e" "$hpdiff" "$d/old.o" "$d/new.o"
check "4 hpdiff gcc against clang, same source: no 'signature changed'" \
	'[ $rc -eq 1 ] && ! grep -q "signature changed" "$d/o"'
run "$d/o" "$d/e" "$hpverify" "$d/old.o" "$d/new.o"
check "4 hpverify gcc against clang, same source: no HP003 or HP004, HP011 only" '! grep -q "HP003\|HP004" "$d/o" && grep -q "HP011" "$d/o"'

# ---- 6. the same package from any directory ----
d=$tmp/repro
mkdir -p "$d/a/sub" "$d/b"
cp -r "$w/old" "$w/new" "$w/old.o" "$w/new.o" "$d/a/"
cp "$w/old.o" "$w/new.o" "$d/b/"
(cd "$d/a" && "$hpbuild" -q -o "$d/rel.hpk" old.o new.o) &&
	(cd "$d/a/sub" && "$hpbuild" -q -o "$d/up.hpk" ../old.o ../new.o) &&
	(cd / && "$hpbuild" -q -o "$d/abs.hpk" "$d/b/old.o" "$d/b/new.o") || bad "6 hpbuild runs"
check "6 relative, ../ and absolute inputs from three directories: byte-identical packages" 'cmp -s "$d/rel.hpk" "$d/up.hpk" && cmp -s "$d/rel.hpk" "$d/abs.hpk"'
mkdir -p "$d/ta/x/old" "$d/ta/x/new" "$d/tb"
cp "$w/old.o" "$d/ta/x/old/body.o"; cp "$w/new.o" "$d/ta/x/new/body.o"
cp -r "$d/ta/x/old" "$d/ta/x/new" "$d/tb/"
(cd "$d/ta/x" && "$hpbuild" -q -o "$d/t1.hpk" old new) &&
	(cd "$d/ta/x/new" && "$hpbuild" -q -o "$d/t2.hpk" ../old .) &&
	(cd / && "$hpbuild" -q -o "$d/t3.hpk" "$d/tb/old/" "$d/tb/new/") || bad "6 hpbuild tree runs"
check "6 trees given as 'old new', '../old .' and absolute paths: byte-identical packages" 'cmp -s "$d/t1.hpk" "$d/t2.hpk" && cmp -s "$d/t1.hpk" "$d/t3.hpk"'
for bad_epoch in abc -5 "" 12x; do
	rm -f "$d/e.hpk"
	SOURCE_DATE_EPOCH=$bad_epoch timeout 120 "$hpbuild" -q -o "$d/e.hpk" "$w/old.o" "$w/new.o" >"$d/o" 2>"$d/e"
	rc=$?
	check "6 SOURCE_DATE_EPOCH='$bad_epoch': exit 2, one line, no package" \
		'[ $rc -eq 2 ] && one_line "$d/e" && grep -q SOURCE_DATE_EPOCH "$d/e" && [ ! -e "$d/e.hpk" ]'
done
SOURCE_DATE_EPOCH=1700000000 "$hpbuild" -q -o "$d/date.hpk" "$w/old.o" "$w/new.o" &&
	"$hpverify" "$d/date.hpk" >"$d/o" 2>&1
check "6 SOURCE_DATE_EPOCH=1700000000 is recorded" 'grep -q "2023-11-14T22:13:20Z" "$d/o"' 

# ---- 7. default output names and -j ----
d=$tmp/names
mkdir -p "$d/old" "$d/cve-fix"
cp "$w/old.o" "$d/old/body.o"
cp "$w/new.o" "$d/cve-fix/body.o"
(cd "$d/cve-fix" && "$hpbuild" -q ../old .)
check "7 'hpbuild ../old .' in cve-fix/ writes cve-fix.hpk, no hidden ..hpk" '[ -f "$d/cve-fix/cve-fix.hpk" ] && [ ! -e "$d/cve-fix/..hpk" ] && [ ! -e "$d/cve-fix/.hpk" ]'
mkdir -p "$d/run"
(cd "$d/run" && "$hpbuild" -q ../old/ ../cve-fix/)
check "7 'hpbuild ../old/ ../cve-fix/' writes cve-fix.hpk" '[ -f "$d/run/cve-fix.hpk" ]' 
(cd "$d/run" && "$hpbuild" -q "$w/old.o" "$w/new.o")
check "7 'hpbuild old.o new.o' writes new.hpk" '[ -f "$d/run/new.hpk" ]' 
run "$d/o" "$d/e" "$hpbuild" -j2 -q -o "$d/j.hpk" "$w/old.o" "$w/new.o"
rc1=$rc
run "$d/o" "$d/e" "$hpbuild" -j 8 --json -o "$d/j.hpk" "$w/old.o" "$w/new.o"
check "7 hpbuild -j2 and -j 8 are jobs; --json is JSON" \
	'[ $rc1 -eq 0 ] && [ $rc -eq 0 ] && grep -q "\"format\": \"hpbuild-1\"" "$d/o"'
for t in hpdiff hpverify hpapply; do
	run "$d/o" "$d/e" "$build_dir/$t" --help
	check "7 $t: -j is not a short --json" '[ $rc -eq 0 ] && grep -q -- "--json" "$d/o" && ! grep -q -- "-j, --json" "$d/o"'
done

# ---- 5. two source files of one name ----
d=$tmp/samename
mkdir -p "$d/src/old/a" "$d/src/old/b"
cat >"$d/src/old/a/util.c" <<'EOF'
static int counter;
int a_next(int step)
{
	counter += step;
	return counter * 3 + step;
}
EOF
sed 's/a_next/b_next/' "$d/src/old/a/util.c" >"$d/src/old/b/util.c"
cp -r "$d/src/old" "$d/src/new"
sed 's/counter += step;/counter += step > 0 ? step : 1;/' "$d/src/old/a/util.c" >"$d/src/new/a/util.c"
for v in old new; do
	for x in a b; do
		mkdir -p "$d/$v/$x"
		(cd "$d/src/$v/$x" && gcc -O2 -g -ffunction-sections -fdata-sections -c util.c -o "$d/$v/$x/util.o") ||
			bad "5 compile"
	done
done
run "$d/o" "$d/e" "$hpbuild" -o "$d/x.hpk" "$d/old" "$d/new"
check "5 hpbuild: warning HP014 names util.c and both objects" \
	'[ $rc -eq 0 ] && grep -q "warning HP014: util.c: .*a/util.o, b/util.o" "$d/e"'
run "$d/o" "$d/e" "$hpverify" "$d/old" "$d/new"
check "5 hpverify OLD NEW: warning HP014" 'grep -q "warning HP014: util.c" "$d/o"'
mkdir -p "$d/one/old" "$d/one/new"
cp -r "$d/old/a" "$d/one/old/"
cp -r "$d/new/a" "$d/one/new/"
run "$d/o" "$d/e" "$hpbuild" -o "$d/y.hpk" "$d/one/old" "$d/one/new"
check "5 one util.c in the tree: no HP014" '[ $rc -eq 0 ] && ! grep -q HP014 "$d/e"'
cat >"$d/main.c" <<'EOF'
#include <stdio.h>
#include <unistd.h>
int a_next(int step);
int b_next(int step);
int main(void)
{
	for (;;) {
		printf("%d %d\n", a_next(1), b_next(1));
		fflush(stdout);
		usleep(20000);
	}
}
EOF
if gcc -O2 -o "$d/prog" "$d/main.c" "$d/old/a/util.o" "$d/old/b/util.o"; then
	"$d/prog" >"$d/prog.out" 2>&1 &
	prog=$!
	i=0
	while [ ! -s "$d/prog.out" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	run "$d/o" "$d/e" "$hpapply" -p "$prog" "$d/x.hpk"
	kill -9 "$prog" 2>/dev/null
	wait "$prog" 2>/dev/null
	if grep -q "not permitted" "$d/e"; then
		echo "SKIP 5 hpapply refusal: ptrace is not permitted here"
	else
		check "5 hpapply refuses two statics of util.c and says what to do" \
			'[ $rc -ne 0 ] && one_line "$d/e" && grep -q "give those files names that differ" "$d/e"'
	fi
else
	bad "5 link the program"
fi

# ---- 8. trees and archives ----
d=$tmp/zlib
tree gcc "$default_flags" "$fixdir/zlib-tree/old" "$d/old" && tree gcc "$default_flags" "$fixdir/zlib-tree/new" "$d/new" ||
	bad "8 compile fixtures/zlib-tree"
run "$d/o" "$d/e" "$hpdiff" --stat "$d/old" "$d/new"
check "8 hpdiff --stat on two trees" \
	'[ $rc -eq 1 ] && [ "$(cat "$d/o")" = "5 objects compared, 1 changed: inflate.o (inflate_extra)" ]'
run "$d/o" "$d/e" "$hpdiff" "$d/old" "$d/new"
check "8 hpdiff on two trees: the change, named by object" \
	'[ $rc -eq 1 ] && grep -q "^inflate.o: changed function inflate_extra (inflate.c:15)" "$d/o" && [ "$(wc -l <"$d/o")" -eq 1 ]'
(cd "$d/old" && ar rc ../old.a ./*.o) && (cd "$d/new" && ar rc ../new.a ./*.o)
run "$d/o" "$d/e" "$hpdiff" --stat "$d/old.a" "$d/new.a"
check "8 hpdiff --stat on two archives" \
	'[ $rc -eq 1 ] && [ "$(cat "$d/o")" = "5 objects compared, 1 changed: inflate.o (inflate_extra)" ]'
run "$d/o" "$d/e" "$hpdiff" --json "$d/old" "$d/new"
check "8 hpdiff --json on two trees: pairs and the summary" \
	'[ $rc -eq 1 ] && grep -q "\"objects_compared\": 5" "$d/o" && grep -q "\"name\": \"inflate.o\"" "$d/o"'
run "$d/o" "$d/e" "$hpdiff" --stat "$d/old" "$d/old"
check "8 hpdiff --stat, same tree: exit 0" '[ $rc -eq 0 ] && [ "$(cat "$d/o")" = "5 objects compared, 0 changed" ]'
run "$d/o" "$d/e" "$hpbuild" -o "$d/z.hpk" "$d/old" "$d/new"
check "8 hpbuild's summary: the tree line and the replaced function" \
	'[ $rc -eq 0 ] && grep -q "^  summary       5 objects compared, 1 changed: inflate.o (inflate_extra)$" "$d/o" &&
	 grep -q "^  replaced      inflate_extra$" "$d/o"'
run "$d/o" "$d/e" "$hpbuild" --json -o "$d/z.hpk" "$d/old" "$d/new"
check "8 hpbuild --json names the replaced and added functions" \
	'[ $rc -eq 0 ] && tr -d " \n" <"$d/o" | grep -q "\"replaced\":\[\"inflate_extra\"\],\"added\":\[\]"'
run "$d/o" "$d/e" "$hpbuild" -v -o "$d/z.hpk" "$d/old" "$d/new"
check "8 hpbuild -v: progress on stderr" 'grep -q "^hpbuild: 5 of 5 object pairs compared$" "$d/e"'

# ---- 9. the review view ----
d=$tmp/zlib
"$hpbuild" -q -o "$d/fix.hpk" "$d/old" "$d/new" || bad "9 hpbuild zlib-tree"
run "$d/o" "$d/e" "$hpverify" --audit --base "$d/old" "$d/fix.hpk"
check "9 --audit --base: old against new as a unified diff of inflate_extra" \
	'[ $rc -eq 0 ] && grep -q "^--- old inflate_extra (.*old/inflate.o, [0-9]* instructions)$" "$d/o" &&
	 grep -q "^+++ new inflate_extra (package, [0-9]* instructions)$" "$d/o" && grep -q "^@@ -[0-9]*,[0-9]* +[0-9]*,[0-9]* @@$" "$d/o"'
check "9 --audit --base: the fix's new bounds check is an added line, the old code a removed one" \
	'grep -q "^+ cmp e[a-z0-9]*, r[0-9]*d$" "$d/o" && grep -q "^- " "$d/o"'
check "9 --audit --base: a call marked call" 'grep -q "^  call zmemcpy  *# call$" "$d/o"'
check "9 --audit --base: the redirect and the source of old and new" \
	'grep -q "^  redirect hpapply writes \"jmp <package.s inflate_extra>\" (e9 + 32-bit displacement, 5 bytes)" "$d/o" &&
	 grep -q "^  old      inflate.c:15$" "$d/o" && grep -q "^  new      inflate.c:15$" "$d/o"'
run "$d/o" "$d/e" "$hpverify" --audit --base "$tmp/samename/old" "$tmp/samename/x.hpk"
check "9 --audit --base: a static read and written, marked so" \
	'[ $rc -eq 0 ] && grep -q "^[-+ ] .* dword ptr \[counter\]  *# read$" "$d/o" &&
	 grep -q "^[-+ ] mov dword ptr \[counter\], eax  *# write$" "$d/o"'
run "$d/o" "$d/e" "$hpverify" --audit --base "$d/new" "$d/fix.hpk"
check "9 --audit --base on the wrong build: exit 1, the fingerprint differs" \
	'[ $rc -eq 1 ] && grep -q "FINGERPRINT DIFFERS" "$d/o"'
run "$d/o" "$d/e" "$hpverify" --new "$d/new" "$d/fix.hpk"
check "9 --new NEW: the package holds NEW's code (exit 0)" \
	'[ $rc -eq 0 ] && grep -q "holds the code .* compiled: 1 function matches" "$d/o"'
run "$d/o" "$d/e" "$hpverify" --new "$d/old" "$d/fix.hpk"
check "9 --new OLD: not NEW's code (exit 1)" '[ $rc -eq 1 ] && grep -q "does not hold the code" "$d/o"'
run "$d/o" "$d/e" "$hpverify" --json --new "$d/new" "$d/fix.hpk"
check "9 --new --json" '[ $rc -eq 0 ] && grep -q "\"mode\": \"new\"" "$d/o" && grep -q "\"result\": \"match\"" "$d/o"'
run "$d/o" "$d/e" "$hpverify" --explain hp003
check "9 --explain hp003 (any case): title, hazard, what to do" \
	'[ $rc -eq 0 ] && grep -q "^HP003 (error): interface change$" "$d/o" && grep -q "^  hazard: " "$d/o" && grep -q "^  instead: " "$d/o"'
run "$d/o" "$d/e" "$hpverify" --explain HP999
check "9 --explain HP999: exit 2, one line" '[ $rc -eq 2 ] && one_line "$d/e"'
run "$d/o" "$d/e" "$hpverify" --list-rules
check "9 --list-rules: every rule, HP001 to HP015" \
	'[ $rc -eq 0 ] && [ "$(wc -l <"$d/o")" -eq 15 ] && grep -q "^HP001  error    existing data changed$" "$d/o"'
run "$d/o" "$d/e" "$hpbuild" --allow hp011 -o "$tmp/nodwarf/allowed.hpk" "$tmp/nodwarf/gcc/old" "$tmp/nodwarf/clang/new"
check "9 --allow hp011 (lower case) is accepted and recorded as HP011" \
	'[ $rc -eq 0 ] && grep -q "error HP011 (allowed)" "$d/e"'

# ---- 10. usage errors, install, the README ----
d=$tmp/usage
mkdir -p "$d"
for t in hpdiff hpbuild hpverify hpapply; do
	run "$d/o" "$d/e" "$build_dir/$t" --no-such-option
	check "10 $t --no-such-option: '$t: ...' and 'Try '$t --help'', exit 2" \
		'[ $rc -eq 2 ] && [ "$(wc -l <"$d/e")" -eq 2 ] && head -n 1 "$d/e" | grep -q "^$t: " &&
		       tail -n 1 "$d/e" | grep -q "^Try '"'"'$t --help'"'"' for more information.$"'
done
run "$d/o" "$d/e" "$hpdiff" only-one.o
check "10 hpdiff with one operand: two lines, no help dump" \
	'[ $rc -eq 2 ] && [ "$(wc -l <"$d/e")" -eq 2 ] && ! grep -q "^usage" "$d/e"'

# install copies of the tools under test: "-o all" keeps make from
# rebuilding anything (other suites may be using the build directory)
inst=$tmp/inst
build_rel=$tmp/tools
mkdir -p "$build_rel"
cp "$hpdiff" "$hpbuild" "$hpverify" "$hpapply" "$build_rel/"
if make -s -o all -C "$root" BUILD="$build_rel" DESTDIR="$inst" prefix=/opt/hp mandir=/opt/hp/man install >"$d/o" 2>&1 &&
   [ -x "$inst/opt/hp/bin/hpbuild" ] && [ -f "$inst/opt/hp/man/man1/hpverify.1" ] && [ -f "$inst/opt/hp/man/man5/hotpatch.5" ]; then
	ok "10 make install DESTDIR= prefix= mandir= puts tools and pages there"
else
	bad "10 make install with prefix and mandir: $(head -n 3 "$d/o" | tr '\n' '|')"
fi
make -s -o all -C "$root" BUILD="$build_rel" DESTDIR="$inst" prefix=/opt/hp mandir=/opt/hp/man uninstall >"$d/o" 2>&1
check "10 make uninstall removes every installed file" '[ -z "$(find "$inst" -type f)" ]'
make -s -o all -C "$root" BUILD="$build_rel" DESTDIR="$inst" BINDIR=/b MANDIR=/m install >"$d/o" 2>&1
check "10 make install BINDIR= MANDIR=" '[ -x "$inst/b/hpapply" ] && [ -f "$inst/m/man1/hpdiff.1" ]'
step1=$(awk '/^1\. /,/^2\. /' "$root/README.md")
for f in scripts/live/old.c scripts/live/new.c scripts/live/main.c; do
	check "10 README live walk-through step 1 uses $f, which exists" 'echo "$step1" | grep -q "$f" && [ -f "$root/$f" ]'
done

echo "users: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
