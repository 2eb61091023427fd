#!/bin/sh
# rules.sh - run hpbuild on every fixture that has a 'findings' file and
# compare the safety findings it reports with the ones written down there
# (fixtures/README.md, "Safety rule fixtures"); then a few --allow cases.
#
#   sh tests/e2e/rules.sh BUILD_DIR [FIXTURE...]
#
# For each fixture and each compiler (gcc, clang): compile old.c and new.c
# under the same file name (old with 'cflags', new with 'cflags-new' if
# present, and with the other compiler if 'cc-new' says "other"), run
# BUILD_DIR/hpbuild --json -o PKG old.o new.o, and compare the set of
# "RULE SYMBOL" it reports (with each finding's severity) with the
# fixture's expectation for that compiler.  hpbuild must exit 1 (refused)
# exactly when an error-level finding is expected, and then write no
# package; otherwise 0 (package written), or 1 with "nothing to patch".
# hpbuild prints its JSON only when it writes a package: otherwise the
# findings are read from its text output (FILE:LINE: SEVERITY RULE: SYMBOL:
# MESSAGE), which has the same content.
#
# Prints "PASS ..." or "FAIL ...: why" per case and ends with
# "rules: N passed, M failed"; exits 1 if a case failed, 2 on a usage
# error.  POSIX sh, sed and awk only.
#
# Environment: GCC, CLANG (compiler commands), FIXTURE_COMPILERS (default
# "gcc clang"), RULES_VERBOSE=1 (copy hpbuild's output to stderr).

set -u

usage() {
	echo "usage: sh tests/e2e/rules.sh BUILD_DIR [FIXTURE...]" >&2
	exit 2
}

[ $# -ge 1 ] || usage
. "$(dirname "$0")/lib/fixture.sh"
need_tools rules.sh "$1" hpbuild
shift
hpbuild=$build_dir/hpbuild
hpverify=$build_dir/hpverify

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hprules.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

list=$tmp/list
fixture_list rules.sh findings "$list" "$@"

# Cases hpbuild's rules get wrong today; the fixture is the right answer
# (lib/fixture.sh, "cases known to be wrong today").  FIXTURE[:CC] REASON.
PENDING='
'

# Default severity of a rule when a findings line does not give one.
rule_severity() {
	case $1 in HP010|HP013|HP014) echo warning ;; HP012) echo note ;; *) echo error ;; esac
}

# expected_findings DIR CC OUT BAD: "RULE SYMBOL<TAB>SEVERITY" lines of
# DIR/findings for compiler CC; malformed lines go to BAD.
expected_findings() {
	: >"$3"
	: >"$4"
	n=0
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		line=${line%%#*}
		line=$(printf '%s' "$line" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')
		[ -n "$line" ] || continue
		case $line in
		gcc:*) [ "$2" = gcc ] || continue; line=${line#gcc:} ;;
		clang:*) [ "$2" = clang ] || continue; line=${line#clang:} ;;
		esac
		sev=
		case $line in
		*" -- "*) sev=${line##* -- }; line=${line% -- *} ;;
		esac
		rule=${line%% *}
		sym=${line#* }
		case $rule in HP[0-9][0-9][0-9]) ;; *)
			echo "findings line $n: bad rule '$rule'" >>"$4"; continue ;;
		esac
		if [ "$sym" = "$line" ] || [ -z "$sym" ]; then
			echo "findings line $n: want RULE SYMBOL" >>"$4"
			continue
		fi
		[ -n "$sev" ] || sev=$(rule_severity "$rule")
		case $sev in error|warning|note) ;; *)
			echo "findings line $n: bad severity '$sev'" >>"$4"; continue ;;
		esac
		printf '%s %s\t%s\n' "$rule" "$sym" "$sev" >>"$3"
	done <"$1/findings"
}

# json_findings FILE: "RULE SYMBOL<TAB>SEVERITY<TAB>ALLOWED" from the
# "findings" array of an hpbuild or hpverify JSON document (one member per
# line, as lib/json.c writes it).
json_findings() {
	awk -v want="${2:-findings}" '
	function val(s) {
		sub(/^[^:]*: */, "", s); sub(/,$/, "", s)
		if (s ~ /^"/) { s = substr(s, 2, length(s) - 2); gsub(/\\"/, "\"", s); gsub(/\\\\/, "\\", s) }
		return s
	}
	$0 ~ "^  \"" want "\": \\[\\]" { next }
	$0 ~ "^  \"" want "\": \\[" { inside = 1; next }
	inside && /^  \]/ { inside = 0; next }
	inside && /^      "id": / { id = val($0) }
	inside && /^      "severity": / { sev = val($0) }
	inside && /^      "allowed": / { allowed = val($0) }
	inside && /^      "symbol": / { sym = val($0) }
	inside && /^    \}/ { printf "%s %s\t%s\t%s\n", id, sym, sev, allowed; id = sym = sev = allowed = "" }
	' "$1"
}

# text_findings FILE: the same from hpbuild's text lines
# "FILE:LINE: SEVERITY RULE[ (allowed)]: SYMBOL: MESSAGE".
text_findings() {
	awk '
	match($0, /: (error|warning|note) HP[0-9][0-9][0-9]( \(allowed\))?: /) {
		head = substr($0, RSTART + 2, RLENGTH - 4)
		rest = substr($0, RSTART + RLENGTH)
		split(head, h, " ")
		i = index(rest, ": ")
		printf "%s %s\t%s\t%s\n", h[2], (i ? substr(rest, 1, i - 1) : rest), h[1],
			(head ~ /allowed/ ? "true" : "false")
	}' "$1"
}

join_lines() {
	awk 'NR > 1 { printf ", " } { printf "%s", $0 }'
}

run_tool() { # OUT ERR command...: run with a time limit; sets rc
	rt_out=$1 rt_err=$2
	shift 2
	if command -v timeout >/dev/null 2>&1; then
		timeout 120 "$@" >"$rt_out" 2>"$rt_err"
	else
		"$@" >"$rt_out" 2>"$rt_err"
	fi
	rc=$?
}

# compile_pair DIR CC W: old.o and new.o in W; sets 'verdict' on failure.
compile_pair() {
	cp_dir=$1 cp_cc=$2 cp_w=$3
	rm -rf "$cp_w"
	mkdir -p "$cp_w/old" "$cp_w/new"
	base=$(basename "$cp_dir")
	src=$(echo "${base#*-}" | tr '-' '_').c
	old_flags=$default_flags
	[ -f "$cp_dir/cflags" ] && old_flags=$(first_line "$cp_dir/cflags")
	new_flags=$old_flags
	[ -f "$cp_dir/cflags-new" ] && new_flags=$(first_line "$cp_dir/cflags-new")
	new_cc=$cp_cc
	if [ -f "$cp_dir/cc-new" ]; then
		new_cc=$(first_line "$cp_dir/cc-new")
		[ "$new_cc" = other ] && new_cc=$(other_compiler "$cp_cc")
	fi
	for v in old new; do
		if [ $v = old ]; then c=$(compiler_cmd "$cp_cc"); f=$old_flags; else c=$(compiler_cmd "$new_cc"); f=$new_flags; fi
		cp "$cp_dir/$v.c" "$cp_w/$v/$src"
		# shellcheck disable=SC2086
		if ! (cd "$cp_w/$v" && $c $f -c "$src" -o "../$v.o") >"$cp_w/cc.log" 2>&1; then
			verdict="$v.c does not compile: $(head -n 1 "$cp_w/cc.log")"
			return 1
		fi
	done
	return 0
}

# reported W: findings of the hpbuild run in W into W/got (JSON if it
# printed any, else a second run's text).
reported() {
	if grep -q '"findings": \[' "$1/out" 2>/dev/null; then
		json_findings "$1/out" >"$1/got"
	elif grep -Eq ': (error|warning|note) HP[0-9]' "$1/err"; then
		text_findings "$1/err" >"$1/got"
	else
		# refused or nothing to patch under --json prints no JSON: the
		# text run prints the findings on standard error
		run_tool "$1/out2" "$1/err2" "$hpbuild" -o "$1/y.hpk" "$1/old.o" "$1/new.o"
		text_findings "$1/err2" >"$1/got"
	fi
}

run_case() {
	dir=$1
	cc=$2
	w=$tmp/case
	verdict=
	compile_pair "$dir" "$cc" "$w" || return
	run_tool "$w/out" "$w/err" "$hpbuild" --json -o "$w/x.hpk" "$w/old.o" "$w/new.o"
	if [ "${RULES_VERBOSE:-0}" = 1 ]; then
		sed "s|^|  [$(basename "$dir") $cc] |" "$w/out" "$w/err" >&2
	fi
	if [ $rc -gt 1 ]; then
		if [ $rc -eq 124 ]; then verdict="hpbuild did not finish in 120 s"
		elif [ $rc -gt 128 ]; then verdict="hpbuild killed by signal $((rc - 128))"
		else verdict="hpbuild exit status $rc: $(head -n 1 "$w/err")"
		fi
		return
	fi
	expected_findings "$dir" "$cc" "$w/exp" "$w/exp.bad"
	if [ -s "$w/exp.bad" ]; then
		verdict="bad findings file: $(head -n 1 "$w/exp.bad")"
		return
	fi
	reported "$w"

	cut -f 1 "$w/exp" | LC_ALL=C sort -u >"$w/exp.set"
	cut -f 1 "$w/got" | LC_ALL=C sort >"$w/got.all"
	LC_ALL=C sort -u "$w/got.all" >"$w/got.set"
	missing=$(LC_ALL=C comm -23 "$w/exp.set" "$w/got.set" | join_lines)
	unexpected=$(LC_ALL=C comm -13 "$w/exp.set" "$w/got.set" | join_lines)
	dups=$(LC_ALL=C uniq -d "$w/got.all" | join_lines)
	problems=
	[ -n "$missing" ] && problems="$problems; missing: $missing"
	[ -n "$unexpected" ] && problems="$problems; unexpected: $unexpected"
	[ -n "$dups" ] && problems="$problems; reported twice: $dups"

	# severities of the expected findings
	tab=$(printf '\t')
	while IFS="$tab" read -r entry sev; do
		gsev=$(awk -F '\t' -v e="$entry" '$1 == e { print $2; exit }' "$w/got")
		[ -n "$gsev" ] && [ "$gsev" != "$sev" ] && problems="$problems; $entry reported as $gsev, want $sev"
	done <"$w/exp"

	want_error=0
	cut -f 2 "$w/exp" | grep -qx error && want_error=1
	if [ $want_error = 1 ]; then
		[ $rc -eq 1 ] || problems="$problems; exit status $rc, want 1 (refused)"
		[ -e "$w/x.hpk" ] && problems="$problems; a package was written although an error is expected"
	elif [ $rc -ne 0 ] && ! grep -q 'nothing to patch' "$w/err"; then
		problems="$problems; exit status $rc, want 0: $(grep -v '^[^ ]*:[0-9]*: ' "$w/err" | head -n 1)"
	elif [ $rc -eq 0 ] && [ ! -s "$w/x.hpk" ]; then
		problems="$problems; exit status 0 but no package"
	fi
	if [ -n "$problems" ]; then verdict=${problems#; }; else verdict=PASS; fi
}

# allow_case FIXTURE CC RULE: refused without --allow, refused with
# another rule allowed, written with --allow=RULE; the finding shows as
# allowed in hpbuild's JSON and, recorded in the package, in hpverify's.
allow_case() {
	dir=$fixdir/$1
	cc=$2
	rule=$3
	w=$tmp/allow
	verdict=
	compile_pair "$dir" "$cc" "$w" || return
	run_tool "$w/out" "$w/err" "$hpbuild" -q -o "$w/a.hpk" "$w/old.o" "$w/new.o"
	if [ $rc -ne 1 ] || [ -e "$w/a.hpk" ]; then
		verdict="without --allow: exit status $rc, want 1 and no package"
		return
	fi
	other=HP001
	[ "$rule" = HP001 ] && other=HP002
	run_tool "$w/out" "$w/err" "$hpbuild" -q --allow="$other" -o "$w/b.hpk" "$w/old.o" "$w/new.o"
	if [ $rc -ne 1 ] || [ -e "$w/b.hpk" ]; then
		verdict="with --allow=$other: exit status $rc, want 1 and no package"
		return
	fi
	run_tool "$w/out" "$w/err" "$hpbuild" --json --allow="$rule" -o "$w/c.hpk" "$w/old.o" "$w/new.o"
	if [ $rc -ne 0 ] || [ ! -s "$w/c.hpk" ]; then
		verdict="with --allow=$rule: exit status $rc, want 0 and a package: $(head -n 1 "$w/err")"
		return
	fi
	json_findings "$w/out" | awk -F '\t' -v r="$rule" 'index($1, r " ") == 1 && $3 == "true" { ok = 1 } END { exit !ok }' || {
		verdict="hpbuild --json does not show an allowed $rule finding"
		return
	}
	if [ -x "$hpverify" ]; then
		run_tool "$w/vout" "$w/verr" "$hpverify" --json "$w/c.hpk"
		if [ $rc -ne 0 ]; then
			verdict="hpverify on the allowed package: exit status $rc, want 0: $(head -n 1 "$w/verr")"
			return
		fi
		json_findings "$w/vout" recorded_findings |
			awk -F '\t' -v r="$rule" 'index($1, r " ") == 1 && $3 == "true" { ok = 1 } END { exit !ok }' || {
			verdict="hpverify --json does not list the recorded $rule finding as allowed"
			return
		}
	fi
	verdict=PASS
}

result() { # LABEL FIXTURE CC
	case_line "$1" "$2" "$3" "$verdict" | tee -a "$tmp/results"
}
: >"$tmp/results"

while IFS= read -r dir; do
	for cc in $compilers; do
		run_case "$dir" "$cc"
		result "fixtures/$(basename "$dir") $cc" "$(basename "$dir")" "$cc"
	done
done <"$list"

if [ $# -eq 0 ]; then
	for spec in "40-rule-existing-data HP001" "48-rule-patch-site-small HP005" "58-rule-rel8-branch HP009"; do
		set -- $spec
		for cc in $compilers; do
			allow_case "$1" "$cc" "$2"
			result "allow $2 fixtures/$1 $cc" "$1" "$cc"
		done
	done
fi

summary rules "$tmp/results"
