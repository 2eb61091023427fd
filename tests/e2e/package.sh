#!/bin/sh
# package.sh - package round trips on every fixture: hpbuild makes a
# package, hpverify accepts it, the package holds exactly the functions
# hpdiff says changed, two builds in different places are byte-identical,
# and hpverify --base knows which build the package is for.
#
#   sh tests/e2e/package.sh BUILD_DIR [FIXTURE...]
#
# For each fixture (fixtures/NN-*/, or the ones named) and compiler (gcc,
# clang): compile old.c and new.c as fixtures.sh does, then
#  1. hpbuild -o x.hpk old.o new.o: exit 0 (written) or 1.  Exit 1 must say
#     "nothing to patch" exactly when hpdiff reports no function that
#     hpbuild packages (see expected_functions), or "refused" with error
#     findings; a refused pair is built again with --allow for each rule
#     that refused it, so the rest still runs (the override is recorded);
#  2. hpverify x.hpk exits 0;
#  3. the package's functions (hpverify --audit) equal the expected set;
#  4. a second build from copies of the objects in another directory, with
#     another TZ and LC_ALL, is byte-identical (cmp);
#  5. hpverify --base old.o exits 0; with replaced functions, --base on an
#     unrelated object exits 1, and --base new.o exits 1 when hpdiff says a
#     replaced function's own code differs.
# The expected set of step 3 is worked out from hpdiff's report (see
# expected_functions), unless the fixture has a 'package' file that writes
# down what the package must hold (fixtures/README.md, "package"); then a
# refusal is a failure too.
# Prints one "PASS ..." or "FAIL ...: why" line per case, then
# "package: N passed, M failed"; exit 1 if any case failed, 2 on a usage
# error.  POSIX sh; no python.
#
# Environment: GCC, CLANG, FIXTURE_COMPILERS (default "gcc clang"),
# PACKAGE_JOBS=1 (one compiler at a time; default: the compilers in
# parallel), PACKAGE_VERBOSE=1 (show each tool's output).

set -u

usage() {
	echo "usage: sh tests/e2e/package.sh BUILD_DIR [FIXTURE...]" >&2
	exit 2
}

[ $# -ge 1 ] || usage
. "$(dirname "$0")/lib/fixture.sh"
need_tools package.sh "$1" hpdiff hpbuild hpverify
shift
hpdiff=$build_dir/hpdiff
hpbuild=$build_dir/hpbuild
hpverify=$build_dir/hpverify

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hppackage.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

list=$tmp/list
fixture_list package.sh old.c "$list" "$@"

# Cases hpbuild packages wrongly today; the fixture is the right answer
# (lib/fixture.sh, "cases known to be wrong today").  FIXTURE[:CC] REASON.
PENDING='
'

# run_tool OUT ERR CMD...: run with a time limit; sets rc.
run_tool() {
	rt_out=$1 rt_err=$2
	shift 2
	if command -v timeout >/dev/null 2>&1; then
		timeout 120 "$@" >"$rt_out" 2>"$rt_err"
	else
		"$@" >"$rt_out" 2>"$rt_err"
	fi
	rc=$?
	if [ "${PACKAGE_VERBOSE:-0}" = 1 ]; then
		echo "  \$ $*  -> $rc" >&2
		sed 's/^/    /' "$rt_out" "$rt_err" >&2
	fi
}

# Names normalized the way correlation pairs them: the compiler's numbers
# dropped ("parse.constprop.1" ~ "parse.constprop.0"), since a replaced
# function is named as the OLD object names it and hpdiff prints the new name.
normalize() {
	sed 's/\.[0-9][0-9]*/.N/g'
}

# hpdiff --json's functions as "STATUS NAME LINE_ONLY BINDING_ONLY CODE":
# BINDING_ONLY when every reason is a binding change (same code: hpbuild
# has nothing to package), CODE when the function's own code differs.
diff_functions() {
	awk '
	function value(s) { sub(/^[^:]*: "/, "", s); sub(/",?$/, "", s); return s }
	/^  "functions": \[$/ { inf = 1; next }
	inf && /^  \]/ { inf = 0; next }
	!inf { next }
	/^      "name": / { name = value($0); st = ""; lo = "false"; nr = 0; nonbind = 0; code = "-" }
	/^      "status": / { st = value($0) }
	/^      "line_numbers_only": true/ { lo = "true" }
	/^        "/ {
		r = $0; sub(/^ *"/, "", r); nr++
		if (r !~ /^binding /) nonbind++
		if (r ~ /^code differs/) code = "code"
	}
	/^    }/ { print st, name, lo, (nr > 0 && nonbind == 0) ? "bindonly" : "-", code }
	' "$1"
}

# is_child NAME: gcc's .cold / .part.N pieces (correlate.c is_child_name).
is_child() {
	case $1 in *.cold|*.cold.*|*.part.*) return 0 ;; esac
	return 1
}

# parent_name NAME: the name before the first ".part." or ".cold".
parent_name() {
	printf '%s\n' "$1" | awk '{
		p = index($0, ".part."); c = index($0, ".cold")
		if (p == 0 || (c > 0 && c < p)) p = c
		print (p > 0) ? substr($0, 1, p - 1) : $0 }'
}

# expected_functions DIFF_OUT OLD_O NEW_O: "KIND NAME" lines hpbuild must
# package: every changed or added function but line-only and binding-only
# changes, each with its .cold/.part pieces; a replaced function keeps its
# name.  A .part.N piece the old object has too is replaced (the running
# program's callers may call it directly: issue 11), other pieces are new.
# A package that would replace nothing (only new functions nothing calls)
# is no package: nothing to patch, an empty set.
expected_functions() {
	ef_funcs=$3.funcs ef_old=$2.funcs
	readelf -sW "$3" | awk '$4 == "FUNC" && $7 != "UND" { print $8 }' >"$ef_funcs"
	readelf -sW "$2" | awk '$4 == "FUNC" && $7 != "UND" { print $8 }' | normalize >"$ef_old"
	diff_functions "$1" | while read -r st name lo bind code; do
		case $st in changed|added) ;; *) continue ;; esac
		[ "$lo" = true ] && continue
		[ "$bind" = bindonly ] && continue
		if [ "$st" = changed ] && ! is_child "$name"; then
			echo "replace $name"
		else
			echo "new $name"
		fi
		while read -r f; do
			is_child "$f" || continue
			[ "$(parent_name "$f")" = "$name" ] || continue
			case $f in
			*.part.*) if grep -qxF "$(echo "$f" | normalize)" "$ef_old"; then echo "replace $f"; else echo "new $f"; fi ;;
			*) echo "new $f" ;;
			esac
		done <"$ef_funcs"
	done >"$3.want"
	grep -q '^replace ' "$3.want" && cat "$3.want"
	rm -f "$3.want"
}

# package_lines DIR CC: the lines of DIR/package for compiler CC, prefix
# and comments gone.
package_lines() {
	sed 's/#.*//; s/^[[:space:]]*//; s/[[:space:]]*$//; /^$/d' "$1/package" |
		awk -v cc="$2" '/^(gcc|clang):/ { split($0, p, ":"); if (p[1] != cc) next; sub(/^[a-z]*:/, "") } { print }'
}

# package_problems LINES AUDIT: what the package (hpverify --audit output
# AUDIT) holds against the package file's LINES; prints nothing when it
# matches.  "replace A|B" wants exactly one of the names replaced;
# "alias A|B" exactly one of them recorded as another name of a packaged
# function (the one not replaced);
# "maybe KIND NAME" allows a function (NAME may be a glob); once a "data"
# line is given the package's data must be exactly those; "no rodata"
# forbids read-only data.  Names are compared with the compiler's numbers
# dropped (normalize).
package_problems() {
	sed -n 's/^function \([^ ]*\)  (\([a-z]*\), .*/\2 \1/p' "$2" | normalize >"$2.f"
	sed -n 's/^data \([^ ]*\)  (\([a-z]*\), .*/\2 \1/p' "$2" | normalize >"$2.d"
	sed -n 's/^  aliases  *//p' "$2" | tr ' ' '\n' | sed '/^$/d' | normalize >"$2.a"
	normalize <"$1" | awk -v funcs="$2.f" -v data="$2.d" -v aliases="$2.a" '
	BEGIN {
		while ((getline l < funcs) > 0) { split(l, a, " "); fk[a[2]] = a[1] }
		while ((getline l < data) > 0) { split(l, a, " "); dk[a[2]] = a[1] }
		while ((getline l < aliases) > 0) ak[l] = 1
	}
	function glob(pat, s) { gsub(/\./, "\\.", pat); gsub(/\*/, ".*", pat); return s ~ ("^" pat "$") }
	$1 == "replace" || $1 == "new" {
		n = split($2, alt, "|"); hit = 0
		for (i = 1; i <= n; i++) if ((alt[i] in fk) && fk[alt[i]] == $1) { hit++; used[alt[i]] = 1 }
		if (hit != 1) bad = bad "; want " $1 " " $2 (hit ? " once" : "")
		next
	}
	$1 == "alias" {
		n = split($2, alt, "|"); hit = 0
		for (i = 1; i <= n; i++) if (alt[i] in ak) hit++
		if (hit != 1) bad = bad "; want alias " $2 " recorded" (hit ? " once" : "")
		next
	}
	$1 == "maybe" { maybe[++nm] = $2 " " $3; next }
	$1 == "data" { wantdata = 1; wd[$2] = 1; next }
	$1 == "no" && $2 == "rodata" { norodata = 1; next }
	$1 == "no" && $2 == "data" { wantdata = 1; next }
	{ bad = bad "; bad package line: " $0 }
	END {
		for (f in fk) {
			if (f in used) continue
			ok = 0
			for (i = 1; i <= nm; i++) { split(maybe[i], m, " "); if (m[1] == fk[f] && glob(m[2], f)) ok = 1 }
			if (!ok) bad = bad "; unexpected " fk[f] " " f
		}
		for (d in dk) {
			if (wantdata && !(d in wd)) bad = bad "; unexpected data " d " (" dk[d] ")"
			if (norodata && dk[d] == "rodata") bad = bad "; read-only data " d
		}
		for (d in wd) if (!(d in dk)) bad = bad "; missing data " d
		if (bad != "") print substr(bad, 3)
	}'
}

# code_changed DIFF_OUT: true when hpdiff says some function's own code differs.
code_changed() {
	diff_functions "$1" | awk '$1 == "changed" && $3 == "false" && $5 == "code" { f = 1 } END { exit !f }'
}

# refusing_rules ERR: the rule ids of the error-level findings hpbuild printed.
refusing_rules() {
	sed -n 's/^.*: error \(HP[0-9][0-9]*\): .*$/\1/p' "$1" | sort -u
}

# An object that is no fixture's base: --base on it must find nothing.
make_unrelated() {
	mkdir -p "$tmp/unrelated"
	cat >"$tmp/unrelated/unrelated.c" <<'EOF'
int unrelated_counter;
int unrelated_step(int x) { return unrelated_counter += x * 3; }
EOF
	for cc in $compilers; do
		(cd "$tmp/unrelated" && $(compiler_cmd "$cc") -O2 -c unrelated.c -o "$cc.o") || return 1
	done
}

run_case() {
	dir=$1 cc=$2
	w=$tmp/case-$cc
	rm -rf "$w"
	mkdir -p "$w/a" "$w/b"
	if ! compile_fixture "$dir" "$cc" "$w"; then
		verdict="does not compile: $(head -n 1 "$w/cc.log")"
		return
	fi
	cp "$w/old.o" "$w/new.o" "$w/a/"
	cp "$w/old.o" "$w/new.o" "$w/b/"

	run_tool "$w/diff.json" "$w/diff.err" "$hpdiff" --json "$w/old.o" "$w/new.o"
	if [ $rc -gt 1 ]; then
		verdict="hpdiff exit $rc: $(head -n 1 "$w/diff.err")"
		return
	fi
	pkgfile=
	if [ -f "$dir/package" ]; then
		pkgfile=$w/package
		package_lines "$dir" "$cc" >"$pkgfile"
		if grep -qx 'nothing to patch' "$pkgfile"; then : >"$w/expect"; else echo file >"$w/expect"; fi
	else
		expected_functions "$w/diff.json" "$w/old.o" "$w/new.o" | normalize | LC_ALL=C sort >"$w/expect"
	fi
	[ "${PACKAGE_VERBOSE:-0}" = 1 ] && sed "s/^/  expect: /" "$w/expect" >&2

	allow=
	(cd "$w/a" && TZ=UTC LC_ALL=C "$hpbuild" -o x.hpk old.o new.o) >"$w/build.out" 2>"$w/build.err"
	rc=$?
	if [ $rc = 1 ] && grep -q 'refused' "$w/build.err" && [ -n "$pkgfile" ]; then
		verdict="refused: $(grep ': error HP' "$w/build.err" | head -n 1)"
		return
	fi
	if [ $rc = 1 ] && grep -q 'refused' "$w/build.err"; then
		for r in $(refusing_rules "$w/build.err"); do
			allow="$allow --allow=$r"
		done
		if [ -z "$allow" ]; then
			verdict="hpbuild refused without an error finding: $(tail -n 1 "$w/build.err")"
			return
		fi
		# shellcheck disable=SC2086
		(cd "$w/a" && TZ=UTC LC_ALL=C "$hpbuild" $allow -o x.hpk old.o new.o) >"$w/build.out" 2>"$w/build.err"
		rc=$?
	fi
	case $rc in
	0)
		if [ ! -s "$w/expect" ]; then
			verdict="hpbuild wrote a package, want nothing to patch (it would replace nothing)"
			return
		fi ;;
	1)
		if ! grep -q 'nothing to patch' "$w/build.err"; then
			verdict="hpbuild exit 1 without 'nothing to patch': $(tail -n 1 "$w/build.err")"
		elif [ -s "$w/expect" ]; then
			verdict="hpbuild: nothing to patch, want $(tr '\n' ' ' <"$w/expect")"
		elif [ -e "$w/a/x.hpk" ]; then
			verdict="hpbuild exit 1 left a package behind"
		else
			verdict=PASS
		fi
		return ;;
	*)
		verdict="hpbuild exit $rc: $(head -n 1 "$w/build.err")"
		return ;;
	esac

	run_tool "$w/verify.out" "$w/verify.err" "$hpverify" "$w/a/x.hpk"
	if [ $rc -ne 0 ]; then
		verdict="hpverify x.hpk exit $rc: $(head -n 1 "$w/verify.err")$(tail -n 1 "$w/verify.out")"
		return
	fi

	run_tool "$w/audit.out" "$w/audit.err" "$hpverify" --audit "$w/a/x.hpk"
	if [ $rc -ne 0 ]; then
		verdict="hpverify --audit exit $rc: $(head -n 1 "$w/audit.err")"
		return
	fi
	sed -n 's/^function \([^ ]*\)  (\([a-z]*\), .*/\2 \1/p' "$w/audit.out" | normalize |
		LC_ALL=C sort >"$w/got"
	if [ -n "$pkgfile" ]; then
		problems=$(package_problems "$pkgfile" "$w/audit.out")
		if [ -n "$problems" ]; then
			verdict="the package holds [$(tr '\n' ',' <"$w/got")]: $problems"
			return
		fi
	elif ! cmp -s "$w/expect" "$w/got"; then
		verdict="package functions differ from hpdiff's: want [$(tr '\n' ',' <"$w/expect")] got [$(tr '\n' ',' <"$w/got")]"
		return
	fi

	# shellcheck disable=SC2086
	rc=$(cd "$w/b" && TZ=Asia/Kolkata LC_ALL=C.UTF-8 "$hpbuild" -q $allow -o x.hpk old.o new.o >/dev/null 2>&1; echo $?)
	if [ "$rc" != 0 ]; then
		verdict="second hpbuild exit $rc"
		return
	fi
	if ! cmp -s "$w/a/x.hpk" "$w/b/x.hpk"; then
		verdict="two builds of one pair differ: $(cmp "$w/a/x.hpk" "$w/b/x.hpk" 2>&1 | head -n 1)"
		return
	fi

	run_tool "$w/base.out" "$w/base.err" "$hpverify" --base "$w/old.o" "$w/a/x.hpk"
	if [ $rc -ne 0 ]; then
		verdict="hpverify --base old.o exit $rc: $(head -n 1 "$w/base.err")$(head -n 1 "$w/base.out")"
		return
	fi
	if grep -q '^replace ' "$w/got"; then
		run_tool "$w/base.out" "$w/base.err" "$hpverify" --base "$tmp/unrelated/$cc.o" "$w/a/x.hpk"
		if [ $rc -ne 1 ]; then
			verdict="hpverify --base on an unrelated object: exit $rc, want 1"
			return
		fi
		if ! grep -q 'missing' "$w/base.out"; then
			verdict="hpverify --base on an unrelated object does not say missing: $(head -n 1 "$w/base.out")"
			return
		fi
		run_tool "$w/base.out" "$w/base.err" "$hpverify" --base "$w/new.o" "$w/a/x.hpk"
		if [ $rc -gt 1 ]; then
			verdict="hpverify --base new.o exit $rc: $(head -n 1 "$w/base.err")"
			return
		fi
		if [ $rc -ne 1 ] && code_changed "$w/diff.json"; then
			verdict="hpverify --base new.o accepted although a replaced function's code differs"
			return
		fi
	fi
	verdict=PASS
}

if ! make_unrelated >"$tmp/unrelated.log" 2>&1; then
	echo "package.sh: cannot compile a test object: $(head -n 1 "$tmp/unrelated.log")" >&2
	exit 2
fi

# run_compiler K CC: every fixture with compiler CC into $tmp/res.K, one
# "INDEX K PASS|FAIL line" per case (so the two compilers can run at once).
run_compiler() {
	rc_k=$1 cc=$2 i=0
	while IFS= read -r dir; do
		i=$((i + 1))
		verdict=
		run_case "$dir" "$cc"
		echo "$i $rc_k $(case_line "fixtures/$(basename "$dir") $cc" "$(basename "$dir")" "$cc" "$verdict")"
	done <"$list" >"$tmp/res.$rc_k"
}

k=0
for cc in $compilers; do
	k=$((k + 1))
	if [ "${PACKAGE_JOBS:-2}" -gt 1 ]; then
		run_compiler $k "$cc" &
	else
		run_compiler $k "$cc"
	fi
done
wait
cat "$tmp"/res.* | sort -s -n -k1,1 -k2,2 | cut -d' ' -f3- >"$tmp/results"
cat "$tmp/results"
summary package "$tmp/results"
