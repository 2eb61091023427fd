#!/bin/sh
# sqlite.sh - build the SQLite benchmark pairs: Debian's sqlite3 source
# package, its amalgamation sqlite3.c built once as Debian ships it and once
# with one of Debian's security patches reverted, each compiled the way a
# hotpatch build compiles (gcc -O2 -g -ffunction-sections -fdata-sections,
# with the SQLITE_* options of debian/rules).
#
#   sh bench/sqlite.sh WORKDIR
#
# Writes WORKDIR/new.o (the package as shipped) and, for each pair,
# WORKDIR/<cve>/old.o, a symlink WORKDIR/<cve>/new.o and WORKDIR/<cve>/info
# (package version, patch file, CVE).  Prints one line per ready pair:
# "<cve> WORKDIR/<cve>".  Everything is cached: a second run prints the same
# lines at once.  Needs root for apt-get (a deb-src entry and tcl); without
# it, says what to run and exits 1.
set -eu

work=${1:?usage: sqlite.sh WORKDIR}
mkdir -p "$work"
work=$(cd "$work" && pwd)

# The security patches used, as "CVE patch-file-glob".  CVE-2023-7104 is a
# one-function fix near the end of the amalgamation (the sessions extension);
# CVE-2025-6965 adds a macro to sqliteInt.h, which moves __LINE__ in nearly
# every function below it, and widens three fields of struct AggInfo.
PAIRS="CVE-2023-7104 0001-Fix-a-buffer-overread-in-the-sessions-extension-*.patch
CVE-2025-6965 *CVE-2025-6965*.patch"

say() { echo "sqlite.sh: $*" >&2; }

need_root() {
	if [ "$(id -u)" != 0 ]; then
		say "$1; run as root, or run: $2"
		exit 1
	fi
}

# deb-src entries beside the machine's deb entries, in a file of our own
# (the machine's own sources are never edited).
has_deb_src() {
	grep -qs '^[[:space:]]*deb-src[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list && return 0
	grep -qsi '^Types:.*deb-src' /etc/apt/sources.list.d/*.sources
}

add_deb_src() {
	out=/etc/apt/sources.list.d/hotpatch-bench-deb-src
	need_root "no deb-src entry in /etc/apt" "add deb-src entries and apt-get update"
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		sed -n 's/^Types:.*$/Types: deb-src/; p' /etc/apt/sources.list.d/debian.sources > "$out.sources"
	elif grep -qs '^deb[[:space:]]' /etc/apt/sources.list; then
		sed -n 's/^deb\([[:space:]]\)/deb-src\1/p' /etc/apt/sources.list > "$out.list"
	else
		say "no Debian deb entry found to mirror as deb-src; add one to /etc/apt/sources.list.d/"
		exit 1
	fi
	say "added deb-src entries ($out.*); apt-get update"
	apt-get update -qq >/dev/null
}

fetch_source() {
	[ -f "$work/src/.done" ] && return 0
	has_deb_src || add_deb_src
	if ! command -v dpkg-source >/dev/null; then
		need_root "dpkg-source missing" "apt-get install -y dpkg-dev"
		apt-get install -y -qq dpkg-dev >/dev/null
	fi
	rm -rf "$work/dl" "$work/src"
	mkdir -p "$work/dl"
	say "apt-get source sqlite3"
	(cd "$work/dl" && apt-get source --download-only -qq sqlite3 >/dev/null 2>&1) || {
		say "apt-get source sqlite3 failed; try: apt-get update && (cd $work/dl && apt-get source --download-only sqlite3)"
		exit 1
	}
	(cd "$work/dl" && dpkg-source -x ./*.dsc "$work/src" >/dev/null 2>&1) || {
		say "dpkg-source -x failed in $work/dl; is dpkg-dev installed?"
		exit 1
	}
	rm -f "$work"/*.tar.*   # dpkg-source leaves links to the tarballs beside src
	touch "$work/src/.done"
}

need_tclsh() {
	command -v tclsh >/dev/null && return 0
	need_root "tclsh (package tcl) is needed to build sqlite3.c" "apt-get install -y tcl"
	apt-get install -y -qq tcl >/dev/null
}

# The SQLITE_* options of Debian's own build, plus FTS5 (its --enable-fts5).
debian_defines() {
	grep -o -- '-DSQLITE_[A-Z0-9_]*\(=[0-9]*\)\{0,1\}' "$work/src/debian/rules" | sort -u | tr '\n' ' '
	echo "-DSQLITE_ENABLE_FTS5"
}

cflags() {
	echo "-O2 -g -fno-strict-aliasing -ffunction-sections -fdata-sections $(debian_defines)"
}

# amalgamate TREE: TREE/bld/sqlite3.c (SQLite's own configure; make sqlite3.c)
amalgamate() {
	[ -f "$1/bld/sqlite3.c" ] && return 0
	mkdir -p "$1/bld"
	(cd "$1/bld" && ../configure --enable-fts5 >configure.log 2>&1 && make sqlite3.c >make.log 2>&1) || {
		say "building $1/bld/sqlite3.c failed; see $1/bld/make.log"
		exit 1
	}
}

# compile TREE OUT.o: in the build directory, which -ffile-prefix-map
# names "." as Debian's builds do, so that old and new differ only by the patch
compile() {
	[ -f "$2" ] && return 0
	# shellcheck disable=SC2046
	(cd "$1/bld" && gcc $(cflags) -ffile-prefix-map="$(pwd)"=. -c sqlite3.c -o "$2.tmp") && mv "$2.tmp" "$2"
}

# prepare_old CVE GLOB: WORKDIR/CVE/tree, the shipped source less that patch
prepare_old() {
	patch=$(cd "$work/src/debian/patches" && ls $2 2>/dev/null | head -n 1) || true
	if [ -z "$patch" ]; then
		say "$1: no patch $2 in this sqlite3 source package; pair skipped"
		return 1
	fi
	mkdir -p "$work/$1"
	if [ ! -f "$work/$1/tree/.done" ]; then
		rm -rf "$work/$1/tree"
		cp -a "$work/src" "$work/$1/tree"
		rm -rf "$work/$1/tree/bld"
		(cd "$work/$1/tree" && patch -R -s -p1 < "debian/patches/$patch") || {
			say "$1: debian/patches/$patch does not revert cleanly; pair skipped"
			return 1
		}
		touch "$work/$1/tree/.done"
	fi
	{
		echo "package: sqlite3 $(cd "$work/src" && dpkg-parsechangelog -S Version 2>/dev/null || echo '?')"
		echo "patch: debian/patches/$patch"
		echo "cve: $1"
		echo "old: the package's source with that patch reverted; new: the source as shipped"
		echo "compiled: gcc $(gcc -dumpfullversion) $(cflags) -c sqlite3.c"
	} > "$work/$1/info"
	return 0
}

fetch_source
need_tclsh
amalgamate "$work/src"
ready=""
echo "$PAIRS" | {
	while read -r cve glob; do
		prepare_old "$cve" "$glob" || continue
		amalgamate "$work/$cve/tree"
		echo "$cve"
	done > "$work/pairs"
}
# the compiles are the slow part (a minute or two each): in parallel
compile "$work/src" "$work/new.o" &
for cve in $(cat "$work/pairs"); do
	compile "$work/$cve/tree" "$work/$cve/old.o" &
	ready="$ready $cve"
done
wait
for cve in $ready; do
	if [ ! -f "$work/$cve/old.o" ] || [ ! -f "$work/new.o" ]; then
		say "$cve: compiling failed; pair skipped"
		continue
	fi
	ln -sf ../new.o "$work/$cve/new.o"
	echo "$cve $work/$cve"
done
