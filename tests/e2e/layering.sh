#!/bin/sh
# layering.sh - the layering the Makefile states holds in the sources:
# lib/ includes no tool's header, hpapply includes nothing of hpbuild,
# hpdiff or hpverify, hpdiff nothing of hpbuild or hpverify, and a tool
# includes only its own headers, those of the engines in its _USES (the
# Makefile) and lib/'s.  Also proves the build itself refuses a layering
# breach: a copy of lib/ with a tool header included must fail to compile.
#   sh tests/e2e/layering.sh BUILD_DIR
# Prints PASS/FAIL lines and "layering: N passed, M failed".
set -u
[ $# -eq 1 ] || { echo "usage: sh tests/e2e/layering.sh BUILD_DIR" >&2; exit 2; }
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hplayering.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "PASS $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
tools="hpdiff hpbuild hpverify hpapply"

# uses TOOL: the engines TOOL may use, from the Makefile's TOOL_USES line
uses() {
	sed -n "s/^$1_USES *:= *//p" Makefile
}

# headers DIR: the headers a directory owns, one basename a line
headers() {
	for h in "$1"/*.h; do [ -f "$h" ] && basename "$h"; done
}

# includes FILE...: "file:header" for each quoted #include, by basename
includes() {
	sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$1" |
		while read -r inc; do echo "$1:$(basename "$inc")"; done
}

# check_dir DIR ALLOWED_TOOLS: no file of DIR includes a header owned by a
# tool outside ALLOWED_TOOLS
check_dir() {
	cd_dir=$1 cd_allowed=$2
	for f in "$cd_dir"/*.c "$cd_dir"/*.h; do
		[ -f "$f" ] && includes "$f"
	done >"$tmp/includes"
	: >"$tmp/forbidden"
	for t in $tools; do
		case " $cd_allowed " in *" $t "*) continue ;; esac
		for h in $(headers "$t"); do
			# a header of the same name in lib/ or DIR itself is theirs
			[ -f "lib/$h" ] || [ -f "$cd_dir/$h" ] && continue
			echo ":$h" >>"$tmp/forbidden"
		done
	done
	cd_bad=$(grep -F -f "$tmp/forbidden" "$tmp/includes" | tr '\n' ' ')
	if [ ! -s "$tmp/forbidden" ] || [ -z "$cd_bad" ]; then
		ok "$cd_dir includes the headers of: lib $cd_allowed"
	else
		bad "$cd_dir includes headers it may not use: $cd_bad"
	fi
}

check_dir lib ""
for t in $tools; do
	check_dir "$t" "$t $(uses "$t")"
done

# The rules the issue tracker states, whatever the Makefile says.
case " $(uses hpapply) " in
*" hpbuild "*|*" hpdiff "*|*" hpverify "*) bad "Makefile lets hpapply use $(uses hpapply)" ;;
*) ok "hpapply uses no other tool's engine (Makefile)" ;;
esac
case " $(uses hpdiff) " in
*" hpbuild "*|*" hpverify "*) bad "Makefile lets hpdiff use $(uses hpdiff)" ;;
*) ok "hpdiff uses neither hpbuild nor hpverify (Makefile)" ;;
esac

# The build refuses a breach: a copy of lib/ compiles with lib/'s include
# paths as the Makefile gives them, and the same copy with a tool header
# included in correlate.c does not.
probe_hdr=$(headers hpverify | head -n 1)
mkdir -p "$tmp/lib"
cp lib/*.h lib/correlate.c "$tmp/lib/"
probe() { # builds the copy's correlate.o with the tree's Makefile
	rm -rf "$tmp/b"
	(cd "$tmp" && make -s -f "$root/Makefile" BUILD="$tmp/b" "$tmp/b/obj/lib/correlate.o") \
		>"$tmp/probe.log" 2>&1
}
if probe; then
	{ echo "#include \"$probe_hdr\""; cat lib/correlate.c; } >"$tmp/lib/correlate.c"
	if ! probe && grep -q "$probe_hdr" "$tmp/probe.log"; then
		ok "lib/correlate.c with #include \"$probe_hdr\" (hpverify) does not compile"
	else
		bad "lib/correlate.c including hpverify/$probe_hdr compiled: $(head -c 300 "$tmp/probe.log")"
	fi
else
	bad "the copy of lib/correlate.c did not compile: $(head -c 300 "$tmp/probe.log")"
fi
echo "layering: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
