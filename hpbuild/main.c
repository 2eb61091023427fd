/*
 * main.c - the hpbuild command: build a hotpatch package from the old and
 * new builds (objects, archives or directories), refusing unsafe changes.
 * Exit 0 package written, 1 refused or nothing to patch, 2 error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build.h"
#include "correlate.h"
#include "inputs.h"
#include "json.h"
#include "pair.h"
#include "pkgsig.h"
#include "rules.h"

static const char usage_text[] =
	"usage: hpbuild [OPTIONS] OLD NEW\n"
	"Build a hotpatch package from the old and new builds of a program.\n"
	"OLD and NEW are two object files, two static archives (members paired\n"
	"by name) or two directories (objects paired by relative path).\n"
	"\n"
	"  -o, --output FILE       write the package to FILE (default: NEW's name\n"
	"                          with .hpk, in the current directory)\n"
	"      --allow RULE        accept findings of safety rule RULE (e.g. HP001);\n"
	"                          repeatable; recorded in the package\n"
	"      --include-line-only also package functions whose only change is\n"
	"                          __LINE__ values that moved\n"
	"      --sign SECKEY       sign the package with the minisign secret key\n"
	"                          SECKEY (mode 600 or stricter): writes\n"
	"                          FILE.minisig next to the package\n"
	"      --password-file F   the password of an encrypted SECKEY is F's\n"
	"                          first line\n"
	"  -j, --json              print the summary as JSON (format \"hpbuild-1\")\n"
	"      --jobs N            prepare object pairs on N threads (default:\n"
	"                          the number of online CPUs)\n"
	"  -q, --quiet             print nothing on success\n"
	"  -h, --help              print this help and exit\n"
	"  -V, --version           print the version and exit\n"
	"\n"
	"Exit status: 0 package written, 1 refused (unsafe change) or nothing to\n"
	"patch, 2 error.\n";

struct options {
	const char *old_path, *new_path, *output;
	const char *sign_key, *password_file;
	bool json, quiet;
	int jobs;
	struct build_options build;
};

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "allow", required_argument, NULL, 'A' },
		{ "include-line-only", no_argument, NULL, 'L' },
		{ "sign", required_argument, NULL, 'K' },
		{ "password-file", required_argument, NULL, 'P' },
		{ "json", no_argument, NULL, 'j' },
		{ "jobs", required_argument, NULL, 'J' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "o:jqhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': o->output = optarg; break;
		case 'A':
			if (!rule_by_id(optarg)) {
				fprintf(stderr, "hpbuild: --allow %s: no such rule (see hpverify(1) for the list)\n", optarg);
				return -1;
			}
			o->build.allow = xrealloc(o->build.allow, (o->build.nr_allow + 1) * sizeof(char *));
			o->build.allow[o->build.nr_allow++] = optarg;
			break;
		case 'L': o->build.include_line_only = true; break;
		case 'K': o->sign_key = optarg; break;
		case 'P': o->password_file = optarg; break;
		case 'J': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 256) {
				fprintf(stderr, "hpbuild: --jobs takes a number from 1 to 256\n");
				return -1;
			}
			o->jobs = (int)v;
			break;
		}
		case 'j': o->json = true; break;
		case 'q': o->quiet = true; break;
		case 'h': fputs(usage_text, stdout); exit(HP_EXIT_OK);
		case 'V': printf("hpbuild %s\n", HP_VERSION); exit(HP_EXIT_OK);
		default: fputs(usage_text, stderr); return -1;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "hpbuild: expected OLD and NEW\n%s", usage_text);
		return -1;
	}
	if (o->password_file && !o->sign_key) {
		fprintf(stderr, "hpbuild: --password-file goes with --sign\n");
		return -1;
	}
	o->old_path = argv[optind];
	o->new_path = argv[optind + 1];
	return 0;
}

/* "<NEW without directory and extension>.hpk" */
static char *default_output(const char *new_path)
{
	const char *base = strrchr(new_path, '/');
	char *name, *dot;

	base = base ? base + 1 : new_path;
	while (!*base && base > new_path)
		base--;
	name = xstrdup(*base ? base : "patch");
	name[strcspn(name, "/")] = '\0';
	dot = strrchr(name, '.');
	if (dot && dot != name)
		*dot = '\0';
	{
		char *out = xasprintf("%s.hpk", name[0] ? name : "patch");
		free(name);
		return out;
	}
}

/* SOURCE_DATE_EPOCH as an ISO 8601 UTC time; NULL if unset or invalid. */
static char *created_time(void)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	char *end, buf[64];
	long long v;
	time_t t;
	struct tm tm;

	if (!s || !*s)
		return NULL;
	v = strtoll(s, &end, 10);
	if (*end || v < 0)
		return NULL;
	t = (time_t)v;
	if (!gmtime_r(&t, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm))
		return NULL;
	return xstrdup(buf);
}

struct run {
	struct pkg_builder b;
	struct findings findings;
	size_t pairs, pairs_one_sided;
	char **notes;
	size_t nr_notes;
};

static void note(struct run *r, char *msg)
{
	r->notes = xrealloc(r->notes, (r->nr_notes + 1) * sizeof(*r->notes));
	r->notes[r->nr_notes++] = msg;
}

/* Pairs are prepared BATCH at a time on the worker threads, then added to
 * the package in input order; a batch bounds how many objects are held in
 * memory at once. */
enum { BATCH = 64 };

static int add_prepared(struct run *r, struct hp_pair *pp, struct hp_err *err)
{
	const struct input_pair *ip = pp->in;

	if (pp->status < 0) {
		*err = pp->err;
		return -1;
	}
	if (pp->status > 0) {
		r->pairs_one_sided++;
		note(r, xasprintf("%s: only in %s; a hotpatch cannot add or remove a whole object, skipped",
				  ip->old.data ? ip->old.label : ip->new.label, ip->old.data ? "OLD" : "NEW"));
		return 0;
	}
	findings_move(&r->findings, &pp->findings);
	r->pairs++;
	return build_add_pair(&r->b, pp, ip->name, ip->old.label, ip->new.label, err);
}

/* The safety rules, on each pair's worker thread. */
static void check_rules(struct hp_pair *p, void *arg)
{
	(void)arg;
	rules_check_pair(p, &p->findings);
}

static int process_inputs(struct run *r, const struct input_set *in, const struct options *o,
			  struct hp_err *err)
{
	struct hp_pair *pp = xcalloc(BATCH, sizeof(*pp));
	struct pair_options popt = { .plan = { .include_line_only = o->build.include_line_only } };
	int ret = 0;

	for (size_t first = 0; first < in->nr_pairs && ret == 0; first += BATCH) {
		size_t n = in->nr_pairs - first < BATCH ? in->nr_pairs - first : BATCH;

		pairs_prepare(in->pairs + first, n, pp, o->jobs, &popt, check_rules, NULL);
		for (size_t i = 0; i < n; i++) {
			if (ret == 0 && add_prepared(r, &pp[i], err) < 0)
				ret = -1;
			pair_close(&pp[i]);
		}
	}
	free(pp);
	return ret;
}

static void print_findings(const struct findings *f, FILE *out)
{
	for (size_t i = 0; i < f->n; i++) {
		struct strbuf sb;

		sb_init(&sb);
		finding_text(&f->v[i], &sb);
		fprintf(out, "%s\n", sb.buf);
		sb_free(&sb);
	}
	for (size_t i = 0; i < f->nr_not_run; i++)
		fprintf(out, "note: rule not run: %s\n", f->not_run[i]);
}

static void record_findings(struct run *r)
{
	for (size_t i = 0; i < r->findings.n; i++) {
		const struct finding *x = &r->findings.v[i];
		build_add_finding(&r->b, x->rule, x->severity, x->overridden, x->symbol, x->file,
				  x->line, x->message);
	}
}

/* out is NULL when no package was written; result says why:
 * "written", "refused" or "nothing-to-patch".  key: the signing key, or
 * NULL. */
static void print_summary(const struct run *r, const char *out, size_t size, bool json,
			  const char *result, const struct minisign_seckey *key)
{
	const struct build_stats *s = &r->b.stats;
	char id[33], key_id[17] = "", *sig = out && key ? xasprintf("%s%s", out, PKGSIG_SUFFIX) : NULL;

	hpk_id_hex(r->b.p, id);
	if (sig)
		minisign_key_id_hex(key->key_id, key_id);
	if (json) {
		struct json j;
		char *doc;

		json_init(&j);
		json_begin_object(&j);
		json_kv_string(&j, "format", "hpbuild-1");
		json_kv_string(&j, "result", result);
		json_kv_string(&j, "package", out);
		json_kv_string(&j, "id", out ? id : NULL);
		json_kv_string(&j, "signature", sig);
		json_kv_string(&j, "key_id", sig ? key_id : NULL);
		json_key(&j, "size");
		if (out)
			json_uint(&j, size);
		else
			json_null(&j);
		json_kv_uint(&j, "units", r->b.p->nr_units);
		json_kv_uint(&j, "functions_replaced", s->replaced);
		json_kv_uint(&j, "functions_added", s->added);
		json_kv_uint(&j, "code_bytes", s->code_bytes);
		json_kv_uint(&j, "data_objects", s->data_objects);
		json_kv_uint(&j, "rodata_objects", s->rodata_objects);
		json_kv_uint(&j, "data_bytes", s->data_bytes);
		json_kv_uint(&j, "relocations", s->relocs);
		json_kv_uint(&j, "references", s->externs);
		json_kv_uint(&j, "skipped_line_only", s->skipped_line_only);
		findings_json(&j, "findings", r->findings.v, r->findings.n);
		json_key(&j, "notes");
		json_begin_array(&j);
		for (size_t i = 0; i < r->nr_notes; i++)
			json_string(&j, r->notes[i]);
		json_end_array(&j);
		json_end_object(&j);
		doc = json_finish(&j);
		fputs(doc, stdout);
		free(doc);
		free(sig);
		return;
	}
	printf("hpbuild: wrote %s\n", out);
	printf("  package id    %s\n", id);
	printf("  functions     %zu replaced, %zu added (%zu bytes of code)\n", s->replaced, s->added, s->code_bytes);
	printf("  data          %zu objects, %zu read-only constants (%zu bytes)\n", s->data_objects, s->rodata_objects, s->data_bytes);
	printf("  relocations   %zu\n", s->relocs);
	printf("  references    %zu to the running program\n", s->externs);
	if (s->skipped_line_only)
		printf("  left out      %zu functions whose only change is line numbers (--include-line-only keeps them)\n", s->skipped_line_only);
	printf("  package size  %zu bytes\n", size);
	if (sig)
		printf("  signed by     key %s (%s)\n", key_id, sig);
	for (size_t i = 0; i < r->nr_notes; i++)
		printf("note: %s\n", r->notes[i]);
	free(sig);
}

/* The package, then its signature when key is given; a signature that
 * cannot be written takes the package back with it, so that no unsigned
 * package is left where a signed one was asked for. */
static int write_package(struct run *r, const char *out, const struct minisign_seckey *key,
			 uint8_t **image, size_t *size, struct hp_err *err)
{
	if (hpk_write_mem(r->b.p, image, size, err) < 0 || write_file_atomic(out, *image, *size, err) < 0)
		return -1;
	if (key && pkgsig_sign(out, *image, *size, r->b.p->id, key, err) < 0) {
		unlink(out);
		return -1;
	}
	return 0;
}

static void run_free(struct run *r)
{
	hpk_free(r->b.p);
	builder_done(&r->b);
	findings_free(&r->findings);
	for (size_t i = 0; i < r->nr_notes; i++)
		free(r->notes[i]);
	free(r->notes);
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct hp_err err = { { 0 } };
	struct input_set in;
	struct run r = { 0 };
	char *out = NULL, *created;
	int worst, status = HP_EXIT_ERROR;
	struct minisign_seckey key;
	uint8_t *image = NULL;
	size_t size = 0;

	o.jobs = default_jobs();
	if (parse_args(argc, argv, &o) < 0)
		return HP_EXIT_ERROR;
	/* a key that cannot sign is found before the work of building */
	if (o.sign_key && pkgsig_load_seckey(o.sign_key, o.password_file, &key, &err) < 0) {
		fprintf(stderr, "hpbuild: %s\n", err.msg);
		free(o.build.allow);
		return HP_EXIT_ERROR;
	}
	if (collect_inputs(o.old_path, o.new_path, &in, &err) < 0) {
		fprintf(stderr, "hpbuild: %s\n", err.msg);
		free(o.build.allow);
		return HP_EXIT_ERROR;
	}
	builder_init(&r.b);
	if (process_inputs(&r, &in, &o, &err) < 0) {
		fprintf(stderr, "hpbuild: %s\n", err.msg);
		goto done;
	}
	findings_sort(&r.findings);
	worst = findings_apply_allow(&r.findings, (const char *const *)o.build.allow, o.build.nr_allow);
	if (worst >= HPK_SEV_ERROR) {
		print_findings(&r.findings, stderr);
		fprintf(stderr, "hpbuild: refused: the change is not hotpatch-safe (see each rule in hpverify(1); --allow=RULE overrides)\n");
		if (o.json)
			print_summary(&r, NULL, 0, true, "refused", NULL);
		status = HP_EXIT_DIFF;
		goto done;
	}
	if (!o.quiet && !o.json)
		print_findings(&r.findings, stderr);
	/* a package that redirects nothing changes nothing in a running
	 * program: new functions alone are never called (hpapply refuses it) */
	if (r.b.stats.replaced == 0) {
		if (!o.quiet && r.b.stats.added)
			fprintf(stderr, "hpbuild: nothing to patch: no function is replaced; the %zu new function%s would never be called\n",
				r.b.stats.added, r.b.stats.added == 1 ? "" : "s");
		else if (!o.quiet)
			fprintf(stderr, "hpbuild: nothing to patch: no function changed%s\n",
				r.b.stats.skipped_line_only ? " (only line numbers moved; --include-line-only packages them)" : "");
		if (o.json)
			print_summary(&r, NULL, 0, true, "nothing-to-patch", NULL);
		status = HP_EXIT_DIFF;
		goto done;
	}
	record_findings(&r);
	created = created_time();
	r.b.p->created = created ? pkg_str(r.b.p, created) : NULL;
	free(created);
	r.b.p->tool_version = pkg_str(r.b.p, "hpbuild " HP_VERSION);
	out = o.output ? xstrdup(o.output) : default_output(o.new_path);
	if (write_package(&r, out, o.sign_key ? &key : NULL, &image, &size, &err) < 0) {
		fprintf(stderr, "hpbuild: %s\n", err.msg);
		goto done;
	}
	if (!o.quiet || o.json)
		print_summary(&r, out, size, o.json, "written", o.sign_key ? &key : NULL);
	status = HP_EXIT_OK;
done:
	sodium_memzero(&key, sizeof(key));
	free(image);
	free(out);
	run_free(&r);
	free_inputs(&in);
	free(o.build.allow);
	return status;
}
