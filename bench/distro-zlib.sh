#!/bin/sh
# distro-zlib.sh - the recipe of README.md, "Patching a distribution's
# stripped library", on Debian 12's own zlib: not in make check (it needs
# the network and the stock /usr/lib/x86_64-linux-gnu/libz.so.1.2.13).
#
#   sh bench/distro-zlib.sh BUILD_DIR
#
# 1. Fetches zlib's Debian source (the .dsc's orig and debian tarballs from
#    deb.debian.org; "apt-get source zlib" gives the same files where
#    deb-src is configured), applies debian/patches, and configures it as
#    debian/rules does (dpkg-buildflags' CFLAGS and CPPFLAGS, -Wall
#    -D_REENTRANT -O3 -DUNALIGNED_OK, uname=GNU ./configure --shared).
# 2. Compiles every library object as the Makefile's SFLAGS say, plus
#    -ffunction-sections -fdata-sections: old/ from the source, new/ with
#    a fix to inflate(), which now refuses an invalid flush value.
# 3. hpbuild --base on the stock, stripped libz: accepted; the same objects
#    built with -O2 instead of Debian's -O3: refused.
# 4. Starts bench/distro-zlib/zprog.c (linked with the stock libz),
#    applies the package, checks that inflate(flush 99) now answers
#    Z_STREAM_ERROR and that every round trip stays correct, reverts, and
#    checks the old answer is back.
# Prints one line per step and "distro-zlib: ok" at the end; exits 1 when
# a step fails.  Work files in bench/work/distro-zlib.  Needs ptrace (root,
# or ptrace_scope 0), curl, dpkg-buildflags, gcc.
set -eu

if [ $# -ne 1 ] || [ ! -x "$1/hpbuild" ] || [ ! -x "$1/hpapply" ]; then
	echo "usage: sh bench/distro-zlib.sh BUILD_DIR (BUILD_DIR holds hpbuild and hpapply)" >&2
	exit 2
fi
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
lib=/usr/lib/x86_64-linux-gnu/libz.so.1.2.13
pool=http://deb.debian.org/debian/pool/main/z/zlib
version=1.2.13.dfsg
work=$root/bench/work/distro-zlib
pid=

fail() {
	echo "distro-zlib: FAIL $*"
	exit 1
}
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	return 0
}
trap cleanup EXIT

[ -e "$lib" ] || fail "$lib is not installed (apt-get install zlib1g)"
rm -rf "$work"
mkdir -p "$work"
cd "$work"

# 1. the Debian source, patched and configured as debian/rules does
curl -sSfO "$pool/zlib_$version.orig.tar.bz2"
curl -sSfO "$pool/zlib_$version-1.debian.tar.xz"
tar xjf "zlib_$version.orig.tar.bz2"
src=$work/zlib-$version
(cd "$src" && tar xJf "../zlib_$version-1.debian.tar.xz" &&
 for p in $(cat debian/patches/series); do patch -p1 -s <"debian/patches/$p"; done)
cflags="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS) -Wall -D_REENTRANT -O3 -DUNALIGNED_OK"
(cd "$src" && CFLAGS="$cflags" LDFLAGS="$(dpkg-buildflags --get LDFLAGS)" uname=GNU ./configure --shared --prefix=/usr >/dev/null)
sflags=$(sed -n 's/^SFLAGS=//p' "$src/Makefile")
objs="adler32 crc32 deflate infback inffast inflate inftrees trees zutil compress uncompr gzclose gzlib gzread gzwrite"
echo "source: zlib $version-1, SFLAGS=$sflags"

# 2. old and new objects: the library's flags plus -ffunction-sections
mkdir -p old new new-o2 old-o2
fixed=$work/zlib-fixed
cp -r "$src" "$fixed"
# the fix: inflate() refuses a flush value that is not one of Z_NO_FLUSH .. Z_TREES
perl -0pi -e 's/\(strm->next_in == Z_NULL && strm->avail_in != 0\)\)\n        return Z_STREAM_ERROR;\n\n    state = \(struct inflate_state FAR \*\)strm->state;\n    if \(state->mode == TYPE\)/(strm->next_in == Z_NULL && strm->avail_in != 0) ||\n        flush < 0 || flush > Z_TREES)\n        return Z_STREAM_ERROR;\n\n    state = (struct inflate_state FAR *)strm->state;\n    if (state->mode == TYPE)/' "$fixed/inflate.c"
cmp -s "$src/inflate.c" "$fixed/inflate.c" && fail "the fix did not apply to inflate.c"
compile() { # DIR FLAGS SOURCE_TREE: each object as the Makefile builds it, in the tree
	for o in $objs; do
		(cd "$3" && gcc $2 -ffunction-sections -fdata-sections -DPIC -c -o "$work/$1/$o.o" "$o.c")
	done
}
compile old "$sflags" "$src"
compile new "$sflags" "$fixed"
o2=$(echo "$sflags" | sed 's/-O3/-O2/')
compile old-o2 "$o2" "$src"
compile new-o2 "$o2" "$fixed"
echo "objects: $(ls old | wc -l) old, $(ls new | wc -l) new"

# 3. hpbuild --base on the stock library
"$build/hpbuild" --base "$lib" -o fix.hpk old new >build.out 2>&1 || { cat build.out; fail "hpbuild --base refused the package"; }
sed 's/^/  /' build.out
if "$build/hpbuild" --base "$lib" -o o2.hpk old-o2 new-o2 >o2.out 2>&1; then
	fail "hpbuild --base accepted objects built with -O2 instead of -O3"
fi
grep -q "not built as the module was" o2.out || { cat o2.out; fail "the -O2 refusal does not say why"; }
echo "hpbuild --base: the -O3 objects accepted, the -O2 ones refused: $(head -n 1 o2.out | cut -c1-160)"

# 4. a program on the stock libz, patched and reverted
gcc -O2 -o zprog "$root/bench/distro-zlib/zprog.c" -lz
./zprog >zprog.out 2>&1 &
pid=$!
last() { tail -n 1 zprog.out 2>/dev/null; }
until_last() { # LINE: until zprog's last line is LINE (60 s at most)
	n=0
	while [ "$(last)" != "$1" ]; do
		n=$((n + 1))
		[ $n -gt 3000 ] && fail "zprog prints '$(last)', expected '$1'"
		sleep 0.02
	done
}
until_last "flush99=-5 roundtrip=ok"
"$build/hpapply" -q -p "$pid" fix.hpk
until_last "flush99=-2 roundtrip=ok"
echo "applied: $(last)"
"$build/hpapply" -q -p "$pid" --revert
until_last "flush99=-5 roundtrip=ok"
echo "reverted: $(last)"
grep -q BAD zprog.out && fail "a round trip went wrong: $(grep -c BAD zprog.out) of $(wc -l <zprog.out)"
echo "round trips: $(wc -l <zprog.out), all correct"
echo "distro-zlib: ok"
