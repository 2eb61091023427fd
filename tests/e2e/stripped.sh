#!/bin/sh
# stripped.sh - patching a distribution's stripped library, bound to its
# build-id (issue 16).
#
#   sh tests/e2e/stripped.sh BUILD_DIR
#
# The "distribution" builds libdemo.so.1 from tests/e2e/stripped/old.c
# (as demo.c) and other.c with ordinary flags (-O2 -g -fPIC, no
# -ffunction-sections) and strips it; prog (prog.c) uses it.  The patcher
# rebuilds demo.c, old and fixed, with the same flags plus
# -ffunction-sections -fdata-sections and builds packages with hpbuild
# --base on the stripped library.  What each build answers is learnt by
# running prog once against it (never written here).  Cases:
#   score    the fix calls static functions (weigh, mix), reads a static
#            const table (weights), calls a hidden function of other.c
#            (other_scale) and an exported function (demo_base), and reads
#            order[], which the library holds twice (carried in the
#            package): hpbuild --base and hpverify --base accept it;
#            (the same package checked against the unstripped file too)
#            applied to the running prog (stripped library), prog answers
#            as the fixed build; reverted, as the old one
#   weigh    the fix changes weigh(), a static function the stripped
#            library does not name: hpbuild --base finds it by its old
#            content and accepts it, hpapply replaces it there (prog
#            answers as the fixed build), reverts; the -O1 objects are
#            refused ("no function in it has the size and content")
#   twin     the fix refers to clamp8, which has an identical twin in
#            other.c: hpbuild --base refuses naming it; a package whose
#            statics were fingerprinted on the unstripped library is
#            refused by hpapply naming it (found twice), process unchanged
#   nearmiss the objects rebuilt with -O1: hpbuild --base refuses, naming
#            the replaced function, "not built as the module was"
#   buildid  a package built (--base) for an -O1 build of the library is
#            refused for the process using the stock one before hpapply
#            attaches (strace: no ptrace call)
#   debug    the fix uses a writable static (counter): hpbuild --base
#            refuses it (cannot be found by content); built against the
#            unstripped library, hpapply refuses it without a debug file
#            and applies it with --debug-dir DIR holding
#            .build-id/XX/YYYY.debug
# Prints "PASS ..." / "FAIL ...: why" per check and "stripped: N passed,
# M failed" last; exits 1 if any failed.  Skips only when ptrace is not
# permitted here.

set -u

[ $# -eq 1 ] || { echo "usage: sh tests/e2e/stripped.sh BUILD_DIR" >&2; exit 2; }
. "$(dirname "$0")/lib/fixture.sh"
. "$(dirname "$0")/lib/wait.sh"
need_tools stripped.sh "$1" hpapply hpbuild hpverify
hpapply=$build_dir/hpapply
hpbuild=$build_dir/hpbuild
hpverify=$build_dir/hpverify
src=$root/tests/e2e/stripped
distro="-O2 -g -fPIC"
patcher="$distro -ffunction-sections -fdata-sections"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/stripped-e2e.XXXXXX") || exit 2
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

pass=0
fail=0
ok() {
	pass=$((pass + 1))
	echo "PASS $*"
}
bad() {
	fail=$((fail + 1))
	echo "FAIL $*"
}

# run NAME EXPECTED_STATUS CMD...: output in $tmp/run.out
run() {
	r_name=$1 r_want=$2
	shift 2
	"$@" >"$tmp/run.out" 2>&1
	r_got=$?
	if [ "$r_got" -ne "$r_want" ]; then
		bad "$r_name: exit $r_got, expected $r_want: $(head -c 600 "$tmp/run.out")"
		return 1
	fi
	return 0
}

# says NAME PATTERN...: $tmp/run.out holds every fixed string PATTERN
says() {
	s_name=$1
	shift
	for s_pat in "$@"; do
		if ! grep -qF -- "$s_pat" "$tmp/run.out"; then
			bad "$s_name: no '$s_pat' in: $(head -c 600 "$tmp/run.out")"
			return 1
		fi
	done
	ok "$s_name"
}

# lib DIR SOURCE FLAGS: DIR/libdemo.so.1 from SOURCE (as demo.c) and
# other.c, the way a distribution builds it; DIR/libdemo.full keeps the
# unstripped file
lib() {
	mkdir -p "$1"
	cp "$src/$2" "$1/demo.c"
	cp "$src/other.c" "$src/demo.h" "$1/"
	(cd "$1" && gcc $3 -c demo.c other.c &&
	 gcc -shared -Wl,-soname,libdemo.so.1 -Wl,--build-id -o libdemo.so.1 demo.o other.o &&
	 cp libdemo.so.1 libdemo.full && strip libdemo.so.1)
}

# obj DIR SOURCE FLAGS: DIR/demo.o and DIR/other.o, the library's objects
# rebuilt the way the patcher does (a tree: other.o defines the hidden
# other_scale)
obj() {
	mkdir -p "$1"
	cp "$src/$2" "$1/demo.c"
	cp "$src/other.c" "$src/demo.h" "$1/"
	(cd "$1" && gcc $3 -c demo.c other.c)
}

# answer LIBDIR: what prog prints once against LIBDIR/libdemo.so.1
answer() {
	LD_LIBRARY_PATH=$1 "$tmp/prog" once
}

last_is() {
	[ "$(tail -n 1 "$1" 2>/dev/null)" = "$2" ]
}

if ! { lib "$tmp/stock" old.c "$distro" && lib "$tmp/fixed" fix-score.c "$distro" &&
       lib "$tmp/counted" fix-count.c "$distro" && lib "$tmp/weighed" fix-weigh.c "$distro" &&
       lib "$tmp/o1" old.c "-O1 -g -fPIC" &&
       gcc -O2 -g -I"$src" -o "$tmp/prog" "$src/prog.c" -L"$tmp/stock" -l:libdemo.so.1 &&
       obj "$tmp/old" old.c "$patcher" && obj "$tmp/score" fix-score.c "$patcher" &&
       obj "$tmp/twin" fix-twin.c "$patcher" && obj "$tmp/count" fix-count.c "$patcher" &&
       obj "$tmp/weigh" fix-weigh.c "$patcher" && obj "$tmp/weigh1" fix-weigh.c "-O1 -g -fPIC -ffunction-sections -fdata-sections" &&
       obj "$tmp/old1" old.c "-O1 -g -fPIC -ffunction-sections -fdata-sections" &&
       obj "$tmp/score1" fix-score.c "-O1 -g -fPIC -ffunction-sections -fdata-sections"; } >"$tmp/cc.out" 2>&1; then
	bad "building the library, the program and the objects: $(head -c 600 "$tmp/cc.out")"
	echo "stripped: $pass passed, $fail failed"
	exit 1
fi
stock=$tmp/stock/libdemo.so.1
old_answer=$(answer "$tmp/stock")
new_answer=$(answer "$tmp/fixed")
count_answer=$(answer "$tmp/counted")
weigh_answer=$(answer "$tmp/weighed")
if [ -z "$old_answer" ] || [ "$old_answer" = "$new_answer" ] || [ "$old_answer" = "$count_answer" ] ||
   [ "$old_answer" = "$weigh_answer" ]; then
	bad "the builds answer '$old_answer', '$new_answer', '$count_answer', '$weigh_answer': the fixes must change the answer"
fi
if readelf -S "$stock" | grep -q '\.symtab'; then
	bad "the stock library still has a symbol table after strip"
fi

pid=0
# start: prog against the stock library, output in $tmp/out; sets $pid
start() {
	LD_LIBRARY_PATH=$tmp/stock "$tmp/prog" >"$tmp/out" 2>&1 &
	pid=$!
	pids="$pids $pid"
	wait_until last_is "$tmp/out" "$old_answer"
}

# ---- score: statics, a static table and an export, found by content ----

if run "score: hpbuild --base" 0 "$hpbuild" --base "$stock" -o "$tmp/score.hpk" "$tmp/old" "$tmp/score"; then
	says "score: hpbuild --base records the module and its build-id; carries order[]" \
		"base          libdemo.so.1 (build-id $(readelf -n "$stock" | awk '/Build ID/ { print $3 }'))" \
		"1 read-only constants"
fi
run "score: hpverify --base" 0 "$hpverify" --base "$stock" "$tmp/score.hpk" &&
	says "score: hpverify --base on the stripped library" "its replaced functions and statics are found there"
if ! start; then
	bad "score: prog does not print '$old_answer': $(tail -n 1 "$tmp/out")"
else
	if ! "$hpapply" -n -p "$pid" "$tmp/score.hpk" >"$tmp/probe.out" 2>&1 && grep -q 'not permitted' "$tmp/probe.out"; then
		echo "stripped.sh: skipped: ptrace is not permitted here ($(cat "$tmp/probe.out"))"
		exit 0
	fi
	if run "score: apply" 0 "$hpapply" -q -p "$pid" "$tmp/score.hpk" &&
	   wait_until last_is "$tmp/out" "$new_answer"; then
		ok "score: applied to the stripped library, prog answers as the fixed build ($new_answer)"
	else
		bad "score: after apply prog prints '$(tail -n 1 "$tmp/out")', expected '$new_answer'"
	fi
	if run "score: revert" 0 "$hpapply" -q -p "$pid" --revert &&
	   wait_until last_is "$tmp/out" "$old_answer"; then
		ok "score: reverted, prog answers as the old build again"
	else
		bad "score: after revert prog prints '$(tail -n 1 "$tmp/out")', expected '$old_answer'"
	fi
	# built against the unstripped file (same build-id): the hidden
	# other_scale is fingerprinted all the same, and found by content
	if run "score: hpbuild --base on the unstripped file" 0 "$hpbuild" -q --base "$tmp/stock/libdemo.full" \
		-o "$tmp/score-full.hpk" "$tmp/old" "$tmp/score" &&
	   run "score: apply the unstripped file's package" 0 "$hpapply" -q -p "$pid" "$tmp/score-full.hpk" &&
	   wait_until last_is "$tmp/out" "$new_answer" &&
	   run "score: revert the unstripped file's package" 0 "$hpapply" -q -p "$pid" --revert &&
	   wait_until last_is "$tmp/out" "$old_answer"; then
		ok "score: a package checked against the unstripped file applies to the stripped one and reverts"
	else
		bad "score: the unstripped file's package: prog prints '$(tail -n 1 "$tmp/out")'"
	fi
fi

# ---- weigh: a replaced static function, found by its old content ----

if run "weigh: hpbuild --base" 0 "$hpbuild" -q --base "$stock" -o "$tmp/weigh.hpk" "$tmp/old" "$tmp/weigh"; then
	if run "weigh: apply" 0 "$hpapply" -q -p "$pid" "$tmp/weigh.hpk" &&
	   wait_until last_is "$tmp/out" "$weigh_answer"; then
		ok "weigh: the static weigh() replaced in the stripped library; prog answers as the fixed build ($weigh_answer)"
	else
		bad "weigh: after apply prog prints '$(tail -n 1 "$tmp/out")', expected '$weigh_answer'"
	fi
	if run "weigh: revert" 0 "$hpapply" -q -p "$pid" --revert && wait_until last_is "$tmp/out" "$old_answer"; then
		ok "weigh: reverted"
	else
		bad "weigh: after revert prog prints '$(tail -n 1 "$tmp/out")', expected '$old_answer'"
	fi
fi
run "weigh: hpbuild --base refuses -O1 objects" 1 "$hpbuild" --base "$stock" -o "$tmp/weigh1.hpk" "$tmp/old1" \
	"$tmp/weigh1" &&
	says "weigh: hpbuild --base says no function has weigh()'s old content" \
		"static function 'weigh' (demo.c): the module has no symbol table and no function in it has the size and content"

# ---- twin: a static with an identical copy is never guessed ----

run "twin: hpbuild --base refuses" 1 "$hpbuild" --base "$stock" -o "$tmp/twin.hpk" "$tmp/old" "$tmp/twin" &&
	says "twin: hpbuild --base names clamp8 and its two copies" "static function 'clamp8' (demo.c): 2 places" \
		"hpbuild: refused: the package is not for $stock"
[ -e "$tmp/twin.hpk" ] && bad "twin: hpbuild --base refused but wrote the package"
# fingerprinted on the unstripped file (same build-id), applied to the stripped one
if run "twin: hpbuild --base on the unstripped file" 0 "$hpbuild" -q --base "$tmp/stock/libdemo.full" \
	-o "$tmp/twin.hpk" "$tmp/old" "$tmp/twin"; then
	cat "/proc/$pid/maps" >"$tmp/maps.before"
	run "twin: hpapply refuses" 1 "$hpapply" -p "$pid" "$tmp/twin.hpk" &&
		says "twin: hpapply names clamp8, found twice" "2 places in it have the size and content of static 'clamp8' (demo.c)" \
			"--debug-dir"
	cat "/proc/$pid/maps" >"$tmp/maps.after"
	if cmp -s "$tmp/maps.before" "$tmp/maps.after" && last_is "$tmp/out" "$old_answer"; then
		ok "twin: the process is unchanged"
	else
		bad "twin: the process changed: $(diff "$tmp/maps.before" "$tmp/maps.after" | head -5)"
	fi
fi

# ---- nearmiss: objects built with other flags than the library ----

run "nearmiss: hpbuild --base refuses -O1 objects" 1 "$hpbuild" --base "$stock" -o "$tmp/o1.hpk" \
	"$tmp/old1" "$tmp/score1" &&
	says "nearmiss: hpbuild --base says the objects were not built as the module was" \
		"function 'demo_score'" "not built as the module was"

# ---- buildid: a package for another build, refused before attaching ----

if run "buildid: hpbuild --base on the -O1 library" 0 "$hpbuild" -q --base "$tmp/o1/libdemo.so.1" -o "$tmp/o1.hpk" \
	"$tmp/old1" "$tmp/score1"; then
	if command -v strace >/dev/null 2>&1; then
		run "buildid: hpapply refuses" 1 strace -f -e trace=ptrace -o "$tmp/strace.out" "$hpapply" -p "$pid" "$tmp/o1.hpk" &&
			says "buildid: hpapply names both build-ids" "another build of it" "hpapply did not attach"
		if grep -q 'PTRACE_' "$tmp/strace.out"; then
			bad "buildid: hpapply called ptrace: $(grep PTRACE_ "$tmp/strace.out" | head -2)"
		else
			ok "buildid: refused before attaching (no ptrace call)"
		fi
	else
		run "buildid: hpapply refuses" 1 "$hpapply" -p "$pid" "$tmp/o1.hpk" &&
			says "buildid: hpapply names both build-ids" "another build of it" "hpapply did not attach"
	fi
	run "buildid: hpverify --base" 1 "$hpverify" --base "$stock" "$tmp/o1.hpk" &&
		says "buildid: hpverify --base names the other build-id" "but the package was built for libdemo.so.1 with build-id"
fi

# ---- debug: a writable static needs the debug file ----

run "debug: hpbuild --base refuses a writable static" 1 "$hpbuild" --base "$stock" -o "$tmp/count.hpk" \
	"$tmp/old" "$tmp/count" &&
	says "debug: hpbuild --base says a writable static cannot be found by content" "static 'counter' (demo.c): a writable variable"
if run "debug: hpbuild --base on the unstripped file" 0 "$hpbuild" -q --base "$tmp/stock/libdemo.full" \
	-o "$tmp/count.hpk" "$tmp/old" "$tmp/count"; then
	run "debug: hpapply without the debug file" 1 "$hpapply" -p "$pid" --debug-dir "$tmp/nodebug" "$tmp/count.hpk" &&
		says "debug: hpapply says the writable static needs the debug file" "'counter' (demo.c) is a writable static" "--debug-dir"
	id=$(readelf -n "$stock" | awk '/Build ID/ { print $3 }')
	dbg=$tmp/debug/.build-id/$(echo "$id" | cut -c1-2)
	mkdir -p "$dbg"
	objcopy --only-keep-debug "$tmp/stock/libdemo.full" "$dbg/$(echo "$id" | cut -c3-).debug"
	if run "debug: apply with --debug-dir" 0 "$hpapply" -q -p "$pid" --debug-dir "$tmp/debug" "$tmp/count.hpk" &&
	   wait_until last_is "$tmp/out" "$count_answer"; then
		ok "debug: with the debug file the writable static is found; prog answers as the fixed build"
	else
		bad "debug: after apply prog prints '$(tail -n 1 "$tmp/out")', expected '$count_answer'"
	fi
	run "debug: revert" 0 "$hpapply" -q -p "$pid" --revert &&
		wait_until last_is "$tmp/out" "$old_answer" && ok "debug: reverted"
fi

echo "stripped: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
