/*
 * fuzz_audit.c - libFuzzer target: everything `hpverify --audit PKG` does
 * with a package that passed the reader (hpverify/main.c run_package):
 * the package rules, the recorded findings, the metadata and counts, the
 * audit listing with capstone disassembly as text and as JSON, and the
 * SARIF log.  Output goes to /dev/null: formatting it is the point.
 *
 * Input: a package (.hpk).  fuzz_seal.h first recomputes its checksums,
 * so that mutations reach the listing instead of stopping at the
 * reader's checksum check (fuzz_hpk covers that check).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "audit.h"
#include "fuzz_check.h"
#include "fuzz_seal.h"
#include "hpk.h"
#include "json.h"
#include "report.h"
#include "rules.h"
#include "verify.h"

#define NAME "fuzz.hpk"

static void run_listing(FILE *out, const struct hpk *p)
{
	struct findings found = { 0 };
	struct vfindings recorded = { 0 }, now = { 0 }, all = { 0 };
	struct hp_err err = { { 0 } };
	struct pkg_counts c;
	struct json j;

	verify_package_rules(p, &found);
	vfindings_add_package(&recorded, p);
	vfindings_add_rules(&now, &found);

	report_count_package(p, &c);
	report_meta_text(out, NAME, p);
	report_counts_text(out, &c);
	/* fails only when capstone cannot start: nothing about the input */
	audit_text(out, p, &err);
	report_findings_text(out, "  ", &recorded);
	report_findings_text(out, "  ", &now);

	json_init(&j);
	json_begin_object(&j);
	report_meta_json(&j, NAME, p);
	report_counts_json(&j, &c);
	audit_json(&j, p, &err);
	report_findings_json(&j, "recorded_findings", &recorded);
	report_findings_json(&j, "findings", &now);
	report_strings_json(&j, "rules_not_run", found.not_run, found.nr_not_run);
	json_end_object(&j);
	free(json_finish(&j));

	vfindings_merge(&all, &recorded, &now);
	free(report_sarif(&all, found.not_run, found.nr_not_run));

	vfindings_free(&all);
	vfindings_free(&recorded);
	vfindings_free(&now);
	findings_free(&found);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct hp_err err = { { 0 } };
	uint8_t *copy;
	struct hpk *p;

	if (size > FUZZ_MAX_INPUT)
		size = FUZZ_MAX_INPUT;
	if (!devnull && !(devnull = fopen("/dev/null", "w")))
		abort();
	copy = fuzz_sealed_copy(data, size);
	p = hpk_read_mem(NAME, copy, size, &err);
	free(copy);
	if (!p) {
		fuzz_check_error_line(&err, NAME);
		return 0;
	}
	run_listing(devnull, p);
	hpk_free(p);
	return 0;
}
