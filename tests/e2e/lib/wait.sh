# wait.sh - how the end-to-end suites wait for a live program: for the
# event itself (a line, a counter), polled, with a bound that only ends a
# hung run, never a slow one.  Sourced by the suites (". lib/wait.sh").
#
# WAIT_LIMIT (seconds, default 60) is that bound; a loaded machine makes a
# run slower, never a check fail, unless it is 60 s late.

wait_limit=${WAIT_LIMIT:-60}

# wait_until CMD...: runs CMD until it succeeds (returns 0) or wait_limit
# seconds have passed (returns 1).
wait_until() {
	wu_end=$(($(date +%s) + wait_limit))
	while ! "$@"; do
		[ "$(date +%s)" -ge "$wu_end" ] && return 1
		sleep 0.02
	done
	return 0
}

# last_line_is FILE LINE: FILE's last line is LINE
last_line_is() {
	[ "$(tail -n 1 "$1" 2>/dev/null)" = "$2" ]
}

# has_lines FILE N: FILE has at least N lines
has_lines() {
	[ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ]
}
