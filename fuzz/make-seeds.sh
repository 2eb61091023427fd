#!/bin/sh
# make-seeds.sh - build seed inputs for the fuzz targets from the fixtures
# into build/fuzz/seeds/TARGET/, for fuzz/merge.sh to choose the committed
# corpus from (`sh fuzz/run.sh --merge` after this).
#
#   sh fuzz/make-seeds.sh
#
# fuzz_elf: every fixture's old.c and new.c compiled by gcc and clang with
# the fixture's flags, plus variants of a few fixtures that take other
# paths through the loader: DWARF 4, compressed debug sections (-gz), no
# -g, -O0, one section for all functions.  fuzz_diff: the pairs, in the
# target's input format (4-byte little-endian length of OLD, OLD, NEW).
# fuzz_hpk and fuzz_audit: packages hpbuild makes of the fixture pairs,
# when hpbuild exists (HPBUILD=path, default build/hpbuild).
set -u
cd "$(dirname "$0")/.." || exit 2
S=build/fuzz/seeds
rm -rf "$S"
mkdir -p "$S/fuzz_elf" "$S/fuzz_diff" "$S/fuzz_hpk" "$S/fuzz_audit" "$S/work" || exit 2
default_flags="-O2 -g -ffunction-sections -fdata-sections"

# fixture_flags DIR: as tests/e2e/fixtures.sh reads DIR/cflags.
fixture_flags() {
	if [ -f "$1/cflags" ]; then
		sed -n '/^[[:space:]]*#/d; /[^[:space:]]/{p;q;}' "$1/cflags"
	else
		echo "$default_flags"
	fi
}

# le32 N: N as 4 little-endian bytes on stdout.
le32() {
	for shift in 0 8 16 24; do
		# shellcheck disable=SC2059
		printf "\\$(printf %o $((($1 >> shift) & 255)))"
	done
}

# compile DIR CC FLAGS TAG: old and new objects of fixture DIR, under the
# fixture's file name as fixtures.sh does; adds the objects and the pair.
compile() {
	c_dir=$1 c_cc=$2 c_flags=$3 c_tag=$4
	c_base=$(basename "$c_dir")
	c_src=$(echo "${c_base#*-}" | tr '-' '_').c
	c_w=$S/work/$c_tag
	for v in old new; do
		mkdir -p "$c_w/$v"
		cp "$c_dir/$v.c" "$c_w/$v/$c_src"
		# shellcheck disable=SC2086
		(cd "$c_w/$v" && $c_cc $c_flags -c "$c_src" -o "../$v.o") || return 1
		cp "$c_w/$v.o" "$S/fuzz_elf/$c_tag-$v.o"
	done
	{
		le32 "$(wc -c <"$c_w/old.o")"
		cat "$c_w/old.o" "$c_w/new.o"
	} >"$S/fuzz_diff/$c_tag.pair"
}

n=0
for d in fixtures/[0-9]*-*/; do
	d=${d%/}
	for cc in gcc clang; do
		compile "$d" $cc "$(fixture_flags "$d")" "$(basename "$d")-$cc" && n=$((n + 1))
	done
done
for f in 01-body-change 10-switch-jump-table 13-cold-split 18-new-tls 27-rodata-table; do
	d=fixtures/$f
	[ -d "$d" ] || continue
	for cc in gcc clang; do
		compile "$d" $cc "-O2 -gdwarf-4 -ffunction-sections" "$f-$cc-dwarf4" && n=$((n + 1))
		compile "$d" $cc "-O2 -g -gz -ffunction-sections" "$f-$cc-gz" && n=$((n + 1))
		compile "$d" $cc "-O2 -ffunction-sections" "$f-$cc-nog" && n=$((n + 1))
		compile "$d" $cc "-O0 -g" "$f-$cc-O0" && n=$((n + 1))
		compile "$d" $cc "-O2 -g" "$f-$cc-nofs" && n=$((n + 1))
	done
done
echo "make-seeds: $n object pairs"

# Packages: hpbuild of the fixture pairs, once hpbuild can make them; every
# safety rule allowed, so that refused changes make packages too (with
# their findings recorded).  Relative input names: no paths of this tree
# in the corpus.
hpbuild=${HPBUILD:-build/hpbuild}
case $hpbuild in /*) ;; *) hpbuild=$(pwd)/$hpbuild ;; esac
if [ -x "$hpbuild" ]; then
	# the rule catalog's ids: '{ "HP001", ...' in hpverify/rules.c
	allow=$(grep -o '{ "HP[0-9]*"' hpverify/rules.c 2>/dev/null | tr -d '{" ' | sort -u | sed 's/^/--allow=/')
	p=0
	for w in "$S"/work/*-gcc "$S"/work/*-clang; do
		[ -f "$w/old.o" ] || continue
		rm -f "$w/x.hpk"
		# shellcheck disable=SC2086
		if (cd "$w" && "$hpbuild" -q $allow old.o new.o -o x.hpk) >/dev/null 2>&1 && [ -f "$w/x.hpk" ]; then
			cp "$w/x.hpk" "$S/fuzz_hpk/$(basename "$w").hpk"
			cp "$w/x.hpk" "$S/fuzz_audit/$(basename "$w").hpk"
			p=$((p + 1))
		fi
	done
	echo "make-seeds: $p packages"
else
	echo "make-seeds: no $hpbuild: no package seeds (run make first, or set HPBUILD)"
fi
rm -rf "$S/work"
