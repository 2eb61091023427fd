# inputs.sh - the generated benchmark inputs, for bench/run.sh (sourced).
#
# build_gen                 compile bench/gen.c to $work/gen/gen
# gen_pair N                $work/gen/N/{old,new}/unit.o: one N-function
#                           translation unit and its fixed variant
# tree_pair COUNT           $work/tree/{old,new}/mNNNN.o: two build trees of
#                           COUNT objects, one in a hundred of them fixed
#
# Everything is cached: an input is rebuilt only when gen.c, the compiler
# or the flags change (a stamp file records them).  Old and new are
# compiled under the same file name in the same way, with
# -ffile-prefix-map as Debian's builds do, so they differ only by the fix.
#
# Needs: $here (bench/), $work, $opt.

gen_cflags() {
	echo "$opt -g -ffunction-sections -fdata-sections"
}

# The cache key: what the generated objects depend on.
gen_stamp() {
	echo "$(cksum < "$here/gen.c") $(gcc -dumpfullversion) $(gen_cflags)"
}

build_gen() {
	mkdir -p "$work/gen"
	if [ ! -x "$work/gen/gen" ] || [ "$here/gen.c" -nt "$work/gen/gen" ]; then
		gcc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$work/gen/gen" "$here/gen.c"
	fi
}

# compile_unit DIR: DIR/unit.c -> DIR/unit.o, named "unit.c" in DWARF and
# __FILE__ whichever directory it is built in
compile_unit() {
	# shellcheck disable=SC2046
	(cd "$1" && gcc $(gen_cflags) -ffile-prefix-map="$(pwd)"=. -c unit.c -o unit.o.tmp && mv unit.o.tmp unit.o)
}

# wait_both PID PID: wait for both; fail if either failed
wait_both() {
	w_rc=0
	wait "$1" || w_rc=1
	wait "$2" || w_rc=1
	return "$w_rc"
}

gen_pair() {
	d=$work/gen/$1
	if [ -f "$d/stamp" ] && [ "$(cat "$d/stamp")" = "$(gen_stamp)" ] &&
	   [ -f "$d/old/unit.o" ] && [ -f "$d/new/unit.o" ]; then
		return 0
	fi
	echo "bench: generating and compiling the $1-function pair ($opt; cached in $d)" >&2
	rm -rf "$d"
	mkdir -p "$d/old" "$d/new"
	"$work/gen/gen" "$1" old > "$d/old/unit.c"
	"$work/gen/gen" "$1" new > "$d/new/unit.c"
	compile_unit "$d/old" & p1=$!
	compile_unit "$d/new" & p2=$!
	wait_both "$p1" "$p2" || { echo "bench: compiling $d failed" >&2; return 1; }
	gen_stamp > "$d/stamp"
}

# Functions per object of the tree: small objects, as in a real tree.
TREE_FUNCS=20

# compile_tree_objects DIR VARIANT INDEX...: one object per index
compile_tree_objects() {
	t_dir=$1 t_var=$2
	shift 2
	for i in "$@"; do
		m=$(printf 'm%04d' "$i")
		mkdir -p "$t_dir/$m"
		"$work/gen/gen" "$TREE_FUNCS" "$t_var" "${m}_" > "$t_dir/$m/unit.c"
		compile_unit "$t_dir/$m" || return 1
	done
}

tree_pair() {
	d=$work/tree
	stamp="$(gen_stamp) $1x$TREE_FUNCS"
	if [ -f "$d/stamp" ] && [ "$(cat "$d/stamp")" = "$stamp" ]; then
		return 0
	fi
	echo "bench: compiling two build trees of $1 objects (cached in $d)" >&2
	rm -rf "$d"
	mkdir -p "$d/build/old" "$d/build/new" "$d/old" "$d/new"
	# both cores: odd and even indices
	compile_tree_objects "$d/build/old" old $(seq 1 2 "$1") & p1=$!
	compile_tree_objects "$d/build/old" old $(seq 2 2 "$1") & p2=$!
	wait_both "$p1" "$p2" || { echo "bench: compiling $d/build/old failed" >&2; return 1; }
	# the rebuilt tree: unchanged objects are byte-identical (a
	# reproducible build), one in a hundred carries the fix
	compile_tree_objects "$d/build/new" new $(seq 50 100 "$1") || return 1
	for i in $(seq 1 "$1"); do
		m=$(printf 'm%04d' "$i")
		cp "$d/build/old/$m/unit.o" "$d/old/$m.o"
		if [ -f "$d/build/new/$m/unit.o" ]; then
			cp "$d/build/new/$m/unit.o" "$d/new/$m.o"
		else
			cp "$d/build/old/$m/unit.o" "$d/new/$m.o"
		fi
	done
	echo "$stamp" > "$d/stamp"
}
