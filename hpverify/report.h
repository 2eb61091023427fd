/*
 * report.h - how hpverify writes what it found: the package's metadata and
 * counts, findings as text lines, as JSON objects (format "hpverify-1",
 * documented in hpverify(1)) and as a SARIF 2.1.0 log for code-scanning
 * services.  Every writer is deterministic: package order or the sorted
 * order of findings_sort(), no times, no addresses.
 */
#ifndef HP_REPORT_H
#define HP_REPORT_H

#include <stdio.h>

#include "hpk.h"
#include "json.h"
#include "pkgsig.h"
#include "verify.h"

struct pkg_counts {
	size_t replaced, added, code_bytes;
	size_t data_objects, bss_objects, rodata_objects, data_bytes;
	size_t relocations, references;
};

void report_count_package(const struct hpk *p, struct pkg_counts *c);

/* "1.0"-style version, id, tool, created, units: text and JSON members. */
void report_meta_text(FILE *out, const char *path, const struct hpk *p);
void report_meta_json(struct json *j, const char *path, const struct hpk *p);
/* The signature check (--key, --keys): "signature ok: key ID (FILE)" and
 * the trusted comment, or "signature refused: WHY".  In JSON the member
 * "signature", null when no key was given. */
void report_signature_text(FILE *out, const struct pkgsig_result *r, const char *why);
void report_signature_json(struct json *j, const struct pkgsig_result *r, const char *why);
/* --audit without keys: the key id PATCH.hpk.minisig claims, unverified. */
void report_unverified_signature_text(FILE *out, const char *pkg_path);
void report_counts_text(FILE *out, const struct pkg_counts *c);
void report_counts_json(struct json *j, const struct pkg_counts *c);

/* "FILE:LINE: SEVERITY RULE (allowed): MESSAGE", indented by indent. */
void report_findings_text(FILE *out, const char *indent, const struct vfindings *v);
/* key: [ { id, severity, symbol, file, line, message, allowed } ... ] */
void report_findings_json(struct json *j, const char *key, const struct vfindings *v);
void report_strings_json(struct json *j, const char *key, char *const *s, size_t n);

/* A whole SARIF 2.1.0 document (the caller frees it); notes become tool
 * execution notifications. */
char *report_sarif(const struct vfindings *v, char *const *notes, size_t nr_notes);

/* Write doc to stdout; -1 when stdout failed (full disk, closed pipe). */
int report_put(char *doc);

#endif
