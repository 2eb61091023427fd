# measure.sh - timing helpers for bench/run.sh (sourced, not run).
#
# measure INPUT TOOL OUTFILE CMD...   run CMD several times under GNU time,
#     stdout of the first run to OUTFILE; appends to $results one line
#     "time INPUT TOOL SECONDS PEAK_RSS_KB CPU_PERCENT EXIT_STATUS CPU_SECONDS"
#     with the median of each figure (CPU_SECONDS: user + system).  A run
#     longer than $long_run seconds is not repeated (readelf -r is
#     quadratic on large inputs: one run is figure enough).  A run is stopped after $cpu_limit
#     seconds of CPU time (exit status 137 or 152, SIGKILL or SIGXCPU: the
#     figure is then a lower bound) or $timeout_s seconds of wall-clock time (exit status 124).
#     CPU time, not wall time, is the limit that matters: on a busy
#     machine wall time says more about the neighbours than the tool.
# fact INPUT KEY VALUE...             appends "fact INPUT KEY VALUE..."
#
# Needs: $results, $reps, $long_run, $cpu_limit, $timeout_s, $scratch.

# GNU time (the Debian package "time") reports peak RSS; the shell's
# builtin does not.
need_gnu_time() {
	[ -x /usr/bin/time ] && /usr/bin/time -f '%M' true >/dev/null 2>&1 && return 0
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "bench: installing GNU time (package time)" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null && return 0
	fi
	echo "bench: /usr/bin/time (GNU time) is missing; run as root: apt-get install -y time" >&2
	exit 1
}

# median: the middle line of numbers on stdin (the lower one of two middles)
median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'
}

fact() {
	echo "fact $*" >> "$results"
}

measure() {
	m_input=$1 m_tool=$2 m_out=$3
	shift 3
	: > "$scratch/runs"
	m_i=0
	while [ "$m_i" -lt "$reps" ]; do
		m_i=$((m_i + 1))
		if [ "$m_i" = 1 ]; then m_dest=$m_out; else m_dest=/dev/null; fi
		/usr/bin/time -f '%e %M %P %x %U %S' -o "$scratch/time" \
			sh -c 'ulimit -t "$1"; shift; exec timeout "$@"' limit "$cpu_limit" "$timeout_s" "$@" \
			> "$m_dest" 2> "$scratch/stderr" || true
		# GNU time writes "Command exited with non-zero status N" or
		# "Command terminated by signal N" (timeout passes on the signal
		# that ended the command: SIGKILL or SIGXCPU from the CPU limit)
		# first; a signal N counts as the exit status 128 + N
		tr -d '%' < "$scratch/time" | awk '
			/^Command terminated by signal/ { sig = $NF }
			END { print $1, $2, $3, sig ? 128 + sig : $4, $5 + $6 }' >> "$scratch/runs"
		tail -n 1 "$scratch/time" | awk -v lim="$long_run" '{ exit !($1 > lim) }' && break
	done
	m_rc=$(awk '{ print $4 }' "$scratch/runs" | sort -n | tail -n 1)
	if [ "$m_rc" -ge 2 ] && [ "$m_rc" != 124 ] && [ "$m_rc" != 137 ] && [ "$m_rc" != 152 ]; then
		echo "bench: $m_tool on $m_input failed (exit $m_rc):" >&2
		sed 's/^/  /' "$scratch/stderr" | head -n 5 >&2
	fi
	printf 'time %s %s %s %s %s %s %s\n' "$m_input" "$m_tool" \
		"$(awk '{ print $1 }' "$scratch/runs" | median)" \
		"$(awk '{ print $2 }' "$scratch/runs" | median)" \
		"$(awk '{ print $3 }' "$scratch/runs" | median)" "$m_rc" \
		"$(awk '{ print $5 }' "$scratch/runs" | median)" >> "$results"
}

# absent INPUT TOOL: the tool is not built yet; the report says so.
absent() {
	printf 'time %s %s - - - absent\n' "$1" "$2" >> "$results"
}

# file_size FILE: bytes
file_size() {
	wc -c < "$1" | tr -d ' '
}
