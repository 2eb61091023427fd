# report.awk - turn bench/work/results.txt into the markdown tables of
# bench/README.md (bench/run.sh runs it; POSIX awk, mawk is enough).
#
# Input lines:
#   time INPUT TOOL SECONDS PEAK_RSS_KB CPU_PERCENT STATUS CPU_SECONDS
#        STATUS: an exit status, or absent / skipped / n/a / nopkg
#   fact INPUT KEY VALUE...
# Variables: timeout (wall seconds), cpu_limit (CPU seconds), reps.

# the run was stopped by a limit: its figures are lower bounds
function stopped(in_, t) {
	return ((in_, t) in st) && (st[in_, t] == 124 || st[in_, t] == 137 || st[in_, t] == 152)
}

function ok(in_, t) {
	return ((in_, t) in sec) && sec[in_, t] != "-" && !stopped(in_, t)
}

# a status that is not a measurement, in words
function status_text(in_, t,   s) {
	if (!((in_, t) in st))
		return "-"
	s = st[in_, t]
	if (s == "absent")
		return t ": not built yet"
	if (s == "skipped")
		return t == "readelf-sWr" ? "skipped (quadratic)" : "skipped (stopped on a smaller input)"
	if (s == "n/a")
		return "n/a"
	if (s == "nopkg")
		return "no package"
	if (s == 124)
		return "stopped: over " timeout " s of wall time"
	if (s == 137 || s == 152)
		return "stopped: over " cpu_limit " s of CPU time"
	return ""
}

function secs(v) {
	if (v == 0)
		return "<0.01 s"
	return v < 10 ? sprintf("%.2f s", v) : sprintf("%.1f s", v)
}

function ratio(a, b) {
	if (a == "" || b == "" || b <= 0)
		return "-"
	if (a / b < 1)
		return sprintf("%.2fx", a / b)
	return a / b < 10 ? sprintf("%.1fx", a / b) : sprintf("%.0fx", a / b)
}

function mb(bytes) {
	return sprintf("%.1f", bytes / 1e6)
}

function exit_note(in_, t,   s) {
	s = st[in_, t]
	if (s == 0 || (t == "hpdiff" && s == 1))
		return ""
	return t == "hpbuild" && s == 1 ? " (exit 1: no package)" : " (exit " s ")"
}

function time_of(in_, t, cpu_time) {
	return cpu_time ? cpusec[in_, t] : sec[in_, t]
}

# time of tool t on in_ (wall clock, or CPU time when cpu_time), with its
# ratios to the readelf baselines measured the same way
function time_cell(in_, t, cpu_time,   c, v) {
	c = status_text(in_, t)
	if (c != "")
		return c
	v = time_of(in_, t, cpu_time)
	c = secs(v) exit_note(in_, t)
	if (t ~ /^readelf/ || v == 0)
		return c
	if (ok(in_, "readelf-sWr") && time_of(in_, "readelf-sWr", cpu_time) > 0)
		c = c ", " ratio(v, time_of(in_, "readelf-sWr", cpu_time)) " -sWr"
	if (ok(in_, "readelf-sW") && time_of(in_, "readelf-sW", cpu_time) > 0)
		c = c ", " ratio(v, time_of(in_, "readelf-sW", cpu_time)) " -sW"
	return c
}

function rss_cell(in_, t,   c) {
	c = status_text(in_, t)
	if (c != "" && !stopped(in_, t))
		return c
	c = sprintf("%s%.0f MB", stopped(in_, t) ? "over " : "", rss[in_, t] / 1000)
	if (t !~ /^readelf/ && bytes[in_] > 0)
		c = c " (" ratio(rss[in_, t] * 1024, bytes[in_]) ")"
	return c
}

function cpu_cell(in_, t,   c) {
	c = status_text(in_, t)
	return c != "" && !stopped(in_, t) ? c : cpu[in_, t] "%"
}

function size_cell(v) {
	if (v == "")
		return "-"
	if (v !~ /^[0-9]+$/)
		return v
	return v >= 1e6 ? sprintf("%.2f MB", v / 1e6) : sprintf("%.1f kB", v / 1e3)
}

function figure(in_, t, what) {
	return what == "time" ? sec[in_, t] : what == "cpu" ? cpusec[in_, t] : rss[in_, t]
}

# how much a figure grew from input a to input b; "over" when b's run was
# stopped by a limit (the figure is then a lower bound)
function growth_cell(a, b, t, what) {
	if (!ok(a, t) || !(ok(b, t) || stopped(b, t)))
		return "-"
	return (stopped(b, t) ? "over " : "") ratio(figure(b, t, what), figure(a, t, what))
}

$1 == "time" {
	key = $2 SUBSEP $3
	if (!($2 in seen)) {
		seen[$2] = 1
		inputs[++ninputs] = $2
	}
	sec[key] = $4; rss[key] = $5; cpu[key] = $6; st[key] = $7; cpusec[key] = $8
	next
}
$1 == "fact" && $2 == "machine" {
	v = $0
	sub(/^fact machine [^ ]+ /, "", v)
	m[$3] = v
	next
}
$1 == "fact" {
	in_ = $2
	if ($3 == "bytes") { bytes[in_] = $4; files[in_] = $5 }
	else if ($3 == "funcs") funcs[in_] = $4
	else if ($3 == "changes") { nchanged[in_] = $4; nline[in_] = $5; nadded[in_] = $6; nremoved[in_] = $7 }
	else if ($3 == "rawbytes") raw[in_] = $4
	else if ($3 == "hpk") hpk[in_] = $4
	else if ($3 == "bsdiff") bsd[in_] = $4
	else if ($3 == "xdelta3") xd[in_] = $4
	next
}

END {
	ntools = split("readelf-sWr readelf-sW hpdiff hpbuild hpverify", tools, " ")

	print "### Machine"
	print ""
	print "- CPU: " m["cpu"] ", " m["nproc"] " cores; memory " m["mem"] "; " m["os"]
	print "- " m["tools"]
	print "- run " m["started"] "; load average before " m["load"] ", after " m["load-after"]
	print ""

	for (pass = 0; pass < 2; pass++) {
		if (pass == 0)
			print "### Time (median of " reps " runs, wall clock; ratios against readelf on the same files)"
		else
			print "### CPU time (user + system, median; ratios against readelf's CPU time)"
		print ""
		print "| input | functions | MB (old+new) | readelf -sWr | readelf -sW | hpdiff | hpbuild | hpverify |"
		print "| --- | ---: | ---: | ---: | ---: | --- | --- | --- |"
		for (i = 1; i <= ninputs; i++) {
			in_ = inputs[i]
			line = "| " in_ " | " (in_ in funcs ? funcs[in_] : files[in_] " files") " | " mb(bytes[in_])
			for (k = 1; k <= ntools; k++)
				line = line " | " time_cell(in_, tools[k], pass)
			print line " |"
		}
		print ""
	}

	print "### Peak memory (median RSS; for the tools, the ratio to the input size) and CPU use"
	print ""
	print "| input | MB (old+new) | readelf -sWr | hpdiff | hpbuild | hpverify | hpdiff CPU | hpbuild CPU |"
	print "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	for (i = 1; i <= ninputs; i++) {
		in_ = inputs[i]
		print "| " in_ " | " mb(bytes[in_]) " | " rss_cell(in_, "readelf-sWr") " | " rss_cell(in_, "hpdiff") \
		      " | " rss_cell(in_, "hpbuild") " | " rss_cell(in_, "hpverify") " | " cpu_cell(in_, "hpdiff") \
		      " | " cpu_cell(in_, "hpbuild") " |"
	}
	print ""

	print "### What changed, and the package against binary deltas of the object pair"
	print ""
	print "| input | functions hpdiff reports changed | of which line numbers only | added / removed | raw bytes of changed code | .hpk | bsdiff | xdelta3 -9 |"
	print "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	for (i = 1; i <= ninputs; i++) {
		in_ = inputs[i]
		print "| " in_ " | " (in_ in nchanged ? nchanged[in_] : "-") " | " (in_ in nline ? nline[in_] : "-") \
		      " | " (in_ in nadded ? nadded[in_] " / " nremoved[in_] : "-") " | " size_cell(raw[in_]) \
		      " | " size_cell(hpk[in_]) " | " size_cell(bsd[in_]) " | " size_cell(xd[in_]) " |"
	}
	print ""

	print "### Growth with the input (the larger figure over the smaller: linear is 4x and 10x; \"over\": the larger run was stopped by a limit)"
	print ""
	print "| | 5k -> 20k: CPU | 5k -> 50k: wall | CPU | peak RSS | 10k -> 100k: wall | CPU | peak RSS |"
	print "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	print "| input size | " ratio(bytes["gen-20000"], bytes["gen-5000"]) " | " ratio(bytes["gen-50000"], bytes["gen-5000"]) \
	      " | | | " ratio(bytes["gen-100000"], bytes["gen-10000"]) " | | |"
	for (k = 1; k <= ntools; k++) {
		t = tools[k]
		print "| " t " | " growth_cell("gen-5000", "gen-20000", t, "cpu") \
		      " | " growth_cell("gen-5000", "gen-50000", t, "time") " | " growth_cell("gen-5000", "gen-50000", t, "cpu") \
		      " | " growth_cell("gen-5000", "gen-50000", t, "rss") " | " growth_cell("gen-10000", "gen-100000", t, "time") \
		      " | " growth_cell("gen-10000", "gen-100000", t, "cpu") " | " growth_cell("gen-10000", "gen-100000", t, "rss") " |"
	}
}
