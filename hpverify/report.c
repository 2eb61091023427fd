/*
 * report.c - hpverify's writers for metadata, counts and findings, as
 * text, JSON and SARIF 2.1.0 (report.h).
 *
 * SARIF: one run, the driver's rules[] are the whole catalog (rules.h) so
 * that a result's ruleIndex is stable; a finding allowed when the package
 * was built (hpbuild --allow) is still a result, with an external
 * suppression saying so, because a reviewer must see what was overridden.
 */
#include "report.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rules.h"

void report_count_package(const struct hpk *p, struct pkg_counts *c)
{
	memset(c, 0, sizeof(*c));
	for (uint32_t i = 0; i < p->nr_funcs; i++) {
		const struct hpk_func *f = &p->funcs[i];

		if (f->kind == HPK_FUNC_REPLACE)
			c->replaced++;
		else
			c->added++;
		c->code_bytes += f->code_size;
		c->relocations += f->nr_relocs;
	}
	for (uint32_t i = 0; i < p->nr_data; i++) {
		const struct hpk_data *d = &p->data[i];

		if (d->kind == HPK_DATA_RODATA)
			c->rodata_objects++;
		else if (d->kind == HPK_DATA_BSS)
			c->bss_objects++;
		else
			c->data_objects++;
		c->data_bytes += d->size;
		c->relocations += d->nr_relocs;
	}
	for (uint32_t i = 0; i < p->nr_syms; i++)
		if (p->syms[i].where == HPK_SYM_EXTERN)
			c->references++;
}

static const char *or_none(const char *s, const char *none)
{
	return s && s[0] ? s : none;
}

void report_meta_text(FILE *out, const char *path, const struct hpk *p)
{
	char id[33];

	char digest[65];

	hpk_id_hex(p, id);
	hpk_digest_hex(p, digest);
	fprintf(out, "package      %s\n", path);
	fprintf(out, "id           %s\n", id);
	fprintf(out, "digest       %s\n", p->has_digest ? digest : "(none: format 1.0, the id is not a cryptographic hash)");
	fprintf(out, "format       %u.%u\n", p->major, p->minor);
	fprintf(out, "built by     %s\n", or_none(p->tool_version, "(not recorded)"));
	fprintf(out, "created      %s\n", or_none(p->created, "(not recorded)"));
	if (p->base_name)   /* format 1.2: hpbuild --base */
		fprintf(out, "base         %s (build-id %s; %u static%s fingerprinted)\n", p->base_name,
			p->base_build_id, p->nr_statics, p->nr_statics == 1 ? "" : "s");
	for (uint32_t i = 0; i < p->nr_units; i++) {
		const struct hpk_unit *u = &p->units[i];

		fprintf(out, "unit %-7u %s\n", i, or_none(u->name, "(unnamed)"));
		fprintf(out, "  source       %s\n", or_none(u->source, "(unknown)"));
		fprintf(out, "  inputs       %s -> %s\n", or_none(u->old_input, "?"), or_none(u->new_input, "?"));
		fprintf(out, "  old producer %s\n", or_none(u->old_producer, "(no DWARF)"));
		fprintf(out, "  new producer %s\n", or_none(u->new_producer, "(no DWARF)"));
	}
}

void report_meta_json(struct json *j, const char *path, const struct hpk *p)
{
	char id[33], version[16], digest[65];

	hpk_id_hex(p, id);
	hpk_digest_hex(p, digest);
	snprintf(version, sizeof(version), "%u.%u", p->major, p->minor);
	json_kv_string(j, "package", path);
	json_kv_string(j, "id", id);
	json_kv_string(j, "digest", p->has_digest ? digest : NULL);
	json_kv_string(j, "format_version", version);
	json_kv_string(j, "tool_version", p->tool_version);
	json_kv_string(j, "created", p->created);
	/* format 1.2 (hpbuild --base); null and 0 otherwise */
	json_kv_string(j, "base", p->base_name);
	json_kv_string(j, "base_build_id", p->base_build_id);
	json_kv_uint(j, "statics_fingerprinted", p->nr_statics);
	json_key(j, "units");
	json_begin_array(j);
	for (uint32_t i = 0; i < p->nr_units; i++) {
		const struct hpk_unit *u = &p->units[i];

		json_begin_object(j);
		json_kv_uint(j, "index", i);
		json_kv_string(j, "name", u->name);
		json_kv_string(j, "source", u->source);
		json_kv_string(j, "old_input", u->old_input);
		json_kv_string(j, "new_input", u->new_input);
		json_kv_string(j, "old_producer", u->old_producer);
		json_kv_string(j, "new_producer", u->new_producer);
		json_end_object(j);
	}
	json_end_array(j);
}

static const char *sig_status_name(enum pkgsig_status s)
{
	return s == PKGSIG_OK ? "ok" : s == PKGSIG_MISSING ? "missing" : "bad";
}

void report_signature_text(FILE *out, const struct pkgsig_result *r, const char *why)
{
	if (r->status != PKGSIG_OK) {
		fprintf(out, "signature    refused: %s\n", why);
		return;
	}
	fprintf(out, "signature    ok: key %s (%s)\n", r->key_id, r->key_path);
	fprintf(out, "signed as    %s\n", r->trusted_comment);
}

/* What the signature file claims, for a reviewer without the keys. */
void report_unverified_signature_text(FILE *out, const char *pkg_path)
{
	char *sig_path = xasprintf("%s%s", pkg_path, PKGSIG_SUFFIX);
	struct hp_err err = { { 0 } };
	struct minisign_sig s;
	uint8_t *text;
	size_t n;
	char key_id[17];

	if (access(sig_path, F_OK) < 0) {
		fprintf(out, "signature    none (no %s)\n", sig_path);
	} else if (read_file(sig_path, &text, &n, &err) < 0) {
		fprintf(out, "signature    unreadable: %s\n", err.msg);
	} else {
		if (minisign_parse_sig(sig_path, text, n, &s, &err) < 0) {
			fprintf(out, "signature    malformed: %s\n", err.msg);
		} else {
			minisign_key_id_hex(s.key_id, key_id);
			fprintf(out, "signature    claims key %s, not verified (give --key or --keys)\n", key_id);
			minisign_sig_free(&s);
		}
		free(text);
	}
	free(sig_path);
}

void report_signature_json(struct json *j, const struct pkgsig_result *r, const char *why)
{
	json_key(j, "signature");
	if (!r) {
		json_null(j);
		return;
	}
	json_begin_object(j);
	json_kv_string(j, "status", sig_status_name(r->status));
	json_kv_string(j, "file", r->sig_path);
	json_kv_string(j, "key_id", r->key_id[0] ? r->key_id : NULL);
	json_kv_string(j, "key_file", r->key_path);
	json_kv_string(j, "trusted_comment", r->trusted_comment);
	json_kv_string(j, "message", r->status == PKGSIG_OK ? NULL : why);
	json_end_object(j);
}

void report_counts_text(FILE *out, const struct pkg_counts *c)
{
	fprintf(out, "functions    %zu replaced, %zu new (%zu bytes of code)\n", c->replaced, c->added,
		c->code_bytes);
	fprintf(out, "data         %zu initialized, %zu zero-filled, %zu read-only (%zu bytes)\n",
		c->data_objects, c->bss_objects, c->rodata_objects, c->data_bytes);
	fprintf(out, "relocations  %zu\n", c->relocations);
	fprintf(out, "references   %zu to the running program\n", c->references);
}

void report_counts_json(struct json *j, const struct pkg_counts *c)
{
	json_key(j, "counts");
	json_begin_object(j);
	json_kv_uint(j, "functions_replaced", c->replaced);
	json_kv_uint(j, "functions_new", c->added);
	json_kv_uint(j, "code_bytes", c->code_bytes);
	json_kv_uint(j, "data_objects", c->data_objects);
	json_kv_uint(j, "bss_objects", c->bss_objects);
	json_kv_uint(j, "rodata_objects", c->rodata_objects);
	json_kv_uint(j, "data_bytes", c->data_bytes);
	json_kv_uint(j, "relocations", c->relocations);
	json_kv_uint(j, "references", c->references);
	json_end_object(j);
}

void report_findings_text(FILE *out, const char *indent, const struct vfindings *v)
{
	struct strbuf sb;

	sb_init(&sb);
	for (size_t i = 0; i < v->n; i++) {
		sb.len = 0;
		finding_ref_text(&v->v[i], &sb);
		fprintf(out, "%s%.*s\n", indent, (int)sb.len, sb.buf);
	}
	sb_free(&sb);
}

void report_findings_json(struct json *j, const char *key, const struct vfindings *v)
{
	json_key(j, key);
	json_begin_array(j);
	for (size_t i = 0; i < v->n; i++)
		finding_ref_json(j, &v->v[i]);
	json_end_array(j);
}

void report_strings_json(struct json *j, const char *key, char *const *s, size_t n)
{
	json_key(j, key);
	json_begin_array(j);
	for (size_t i = 0; i < n; i++)
		json_string(j, s[i]);
	json_end_array(j);
}

/* ---- SARIF ---- */

static void text_object(struct json *j, const char *key, const char *text)
{
	json_key(j, key);
	json_begin_object(j);
	json_kv_string(j, "text", text ? text : "");
	json_end_object(j);
}

/* A relative path as a URI reference: unreserved characters and '/' stay,
 * everything else is percent-encoded (a space, '#', '%', non-ASCII). */
static char *path_uri(const char *path)
{
	struct strbuf sb;

	sb_init(&sb);
	for (const unsigned char *c = (const unsigned char *)path; *c; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		    strchr("-._~/", *c))
			sb_addc(&sb, (char)*c);
		else
			sb_addf(&sb, "%%%02X", *c);
	}
	return sb_detach(&sb);
}

/* SARIF wants a rule's name to be an identifier: "existing data changed"
 * -> "ExistingDataChanged". */
static char *rule_name(const char *title)
{
	struct strbuf sb;
	bool up = true;

	sb_init(&sb);
	for (const char *c = title ? title : ""; *c; c++) {
		bool alnum = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9');

		if (!alnum) {
			up = true;
			continue;
		}
		sb_addc(&sb, up && *c >= 'a' && *c <= 'z' ? (char)(*c - 'a' + 'A') : *c);
		up = false;
	}
	return sb_detach(&sb);
}

static void sarif_rules(struct json *j)
{
	size_t n;
	const struct rule_info *r = rule_catalog(&n);

	json_key(j, "rules");
	json_begin_array(j);
	for (size_t i = 0; i < n; i++) {
		char *name = rule_name(r[i].title);

		json_begin_object(j);
		json_kv_string(j, "id", r[i].id);
		json_kv_string(j, "name", name);
		free(name);
		text_object(j, "shortDescription", r[i].title);
		text_object(j, "fullDescription", r[i].hazard);
		text_object(j, "help", r[i].instead);
		json_key(j, "defaultConfiguration");
		json_begin_object(j);
		json_kv_string(j, "level", severity_name(r[i].severity));
		json_end_object(j);
		json_end_object(j);
	}
	json_end_array(j);
}

static int rule_index(const char *id)
{
	size_t n;
	const struct rule_info *r = rule_catalog(&n);

	for (size_t i = 0; id && i < n; i++)
		if (!strcmp(r[i].id, id))
			return (int)i;
	return -1;
}

static void sarif_location(struct json *j, const struct finding_ref *x)
{
	json_key(j, "locations");
	json_begin_array(j);
	if (x->file || x->symbol) {
		json_begin_object(j);
		if (x->file) {
			char *uri = path_uri(x->file);

			json_key(j, "physicalLocation");
			json_begin_object(j);
			json_key(j, "artifactLocation");
			json_begin_object(j);
			json_kv_string(j, "uri", uri);
			json_end_object(j);
			if (x->line) {   /* SARIF lines start at 1 */
				json_key(j, "region");
				json_begin_object(j);
				json_kv_uint(j, "startLine", x->line);
				json_end_object(j);
			}
			json_end_object(j);
			free(uri);
		}
		if (x->symbol) {
			json_key(j, "logicalLocations");
			json_begin_array(j);
			json_begin_object(j);
			json_kv_string(j, "name", x->symbol);
			json_end_object(j);
			json_end_array(j);
		}
		json_end_object(j);
	}
	json_end_array(j);
}

static void sarif_result(struct json *j, const struct finding_ref *x)
{
	int idx = rule_index(x->rule);

	json_begin_object(j);
	json_kv_string(j, "ruleId", x->rule ? x->rule : "?");
	if (idx >= 0)
		json_kv_uint(j, "ruleIndex", (uint64_t)idx);
	json_kv_string(j, "level", severity_name(x->severity));
	text_object(j, "message", x->message);
	sarif_location(j, x);
	if (x->allowed) {
		json_key(j, "suppressions");
		json_begin_array(j);
		json_begin_object(j);
		json_kv_string(j, "kind", "external");
		json_kv_string(j, "justification", "allowed with hpbuild --allow");
		json_end_object(j);
		json_end_array(j);
	}
	json_end_object(j);
}

char *report_sarif(const struct vfindings *v, char *const *notes, size_t nr_notes)
{
	struct json j;

	json_init(&j);
	json_begin_object(&j);
	json_kv_string(&j, "$schema", "https://docs.oasis-open.org/sarif/sarif/v2.1.0/os/schemas/sarif-schema-2.1.0.json");
	json_kv_string(&j, "version", "2.1.0");
	json_key(&j, "runs");
	json_begin_array(&j);
	json_begin_object(&j);
	json_key(&j, "tool");
	json_begin_object(&j);
	json_key(&j, "driver");
	json_begin_object(&j);
	json_kv_string(&j, "name", "hpverify");
	json_kv_string(&j, "version", HP_VERSION);
	sarif_rules(&j);
	json_end_object(&j);
	json_end_object(&j);
	json_key(&j, "invocations");
	json_begin_array(&j);
	json_begin_object(&j);
	json_kv_bool(&j, "executionSuccessful", true);
	json_key(&j, "toolExecutionNotifications");
	json_begin_array(&j);
	for (size_t i = 0; i < nr_notes; i++) {
		json_begin_object(&j);
		json_kv_string(&j, "level", "note");
		text_object(&j, "message", notes[i]);
		json_end_object(&j);
	}
	json_end_array(&j);
	json_end_object(&j);
	json_end_array(&j);
	json_key(&j, "results");
	json_begin_array(&j);
	for (size_t i = 0; i < v->n; i++)
		sarif_result(&j, &v->v[i]);
	json_end_array(&j);
	json_end_object(&j);
	json_end_array(&j);
	json_end_object(&j);
	return json_finish(&j);
}

int report_put(char *doc)
{
	fputs(doc, stdout);
	free(doc);
	return fflush(stdout) != 0 || ferror(stdout) ? -1 : 0;
}
