# targets.sh - the fuzz targets and what each links; sourced (POSIX sh) by
# fuzz/run.sh, fuzz/make-seeds.sh and tests/e2e/fuzz-replay.sh, from the
# top of the tree.
#
# A target whose code is not in the tree yet (the package reader, the
# audit listing) is skipped with a note rather than failing the build:
# see "Missing targets" in fuzz/README.md.

FUZZ_TARGETS="fuzz_elf fuzz_diff fuzz_hpk fuzz_audit fuzz_minisign"

# Libraries every target links after the tool engines.
FUZZ_SYSLIBS="-ldwarf -lelf -lz -lcapstone -lxxhash -lsodium"

# target_engines T: the tool engine archives (lib<tool>.a) T needs besides
# libhp.a, in link order (most dependent first, as the Makefile's _USES).
target_engines() {
	case $1 in
	fuzz_elf|fuzz_diff) echo hpdiff ;;
	fuzz_hpk|fuzz_minisign) echo "" ;;
	fuzz_audit) echo "hpbuild hpverify hpdiff" ;;
	esac
}

# target_missing T: prints what T needs that is not in the tree yet;
# prints nothing when T can be built.
target_missing() {
	[ -f "fuzz/$1.c" ] || { echo "fuzz/$1.c"; return; }
	case $1 in
	fuzz_hpk) [ -f lib/hpk.c ] || echo "lib/hpk.c" ;;
	fuzz_minisign) [ -f lib/pkgsig.c ] || echo "lib/pkgsig.c" ;;
	fuzz_audit)
		for f in hpverify/audit*.c; do
			[ -f "$f" ] && return
		done
		echo "hpverify/audit*.c"
		;;
	esac
}

# target_dict T: the libFuzzer dictionary for T, or nothing.
target_dict() {
	case $1 in
	fuzz_elf|fuzz_diff) echo fuzz/elf.dict ;;
	fuzz_hpk|fuzz_audit) [ -f fuzz/hpk.dict ] && echo fuzz/hpk.dict ;;
	fuzz_minisign) echo fuzz/minisign.dict ;;
	esac
}
