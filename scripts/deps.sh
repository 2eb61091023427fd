#!/bin/sh
# deps.sh - install the Debian 12 packages the build and the tests need.
# As root with apt-get: installs what is missing.  Otherwise prints the exact
# command to run and fails.
set -u
PKGS="gcc clang make pkg-config libelf-dev libdw-dev libdwarf-dev zlib1g-dev libcapstone-dev \
libxxhash-dev libsodium-dev minisign libcmocka-dev libclang-rt-14-dev valgrind strace bsdiff xdelta3 binutils"
missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "deps: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends $missing >/dev/null || {
		echo "deps: apt-get install failed; run: apt-get update && apt-get install -y$missing" >&2
		exit 1
	}
	exit 0
fi
echo "deps: missing packages:$missing" >&2
echo "deps: run as root: apt-get update && apt-get install -y$missing" >&2
exit 1
