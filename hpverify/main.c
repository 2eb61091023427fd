/*
 * main.c - the hpverify command: check a hotpatch package before anyone
 * trusts it (integrity, safety rules), list it for a reviewer (--audit),
 * confirm which build it was made for (--base), or run the safety rules on
 * two builds without packaging them.  Text for people, --json (format
 * "hpverify-1") and --sarif for machines; exit 0 ok, 1 unsafe or not built
 * for the base, 2 error (a corrupt package included).
 */
#include <elf.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "json.h"
#include "modfile.h"
#include "pkgsig.h"
#include "report.h"
#include "review.h"
#include "rules.h"
#include "verify.h"

static const char usage_text[] =
	"usage: hpverify [OPTIONS] PATCH.hpk\n"
	"       hpverify --audit [OPTIONS] PATCH.hpk\n"
	"       hpverify --base OLD [OPTIONS] PATCH.hpk\n"
	"       hpverify --audit --base OLD PATCH.hpk\n"
	"       hpverify --new NEW [OPTIONS] PATCH.hpk\n"
	"       hpverify [OPTIONS] OLD NEW [PATCH.hpk]\n"
	"       hpverify --list-rules | --explain RULE\n"
	"Check a hotpatch package: integrity, then the safety rules that run\n"
	"from the package alone.  With OLD and NEW (objects, archives or\n"
	"directories, paired as hpbuild pairs them): run every safety rule on\n"
	"the two builds without building a package; with PATCH.hpk too: prove\n"
	"that the package, applied to OLD, leaves no path into old code that\n"
	"changed (the equivalence check, rule HP015).\n"
	"\n"
	"  -a, --audit         list everything the package holds: functions with\n"
	"                      source locations and disassembly (relocations shown\n"
	"                      as their targets), data as hexdumps, references to\n"
	"                      the running program, findings, metadata\n"
	"  -b, --base OLD      check that the package was built for OLD (object,\n"
	"                      archive or directory): every replaced function's\n"
	"                      size and old fingerprint must match; OLD may be\n"
	"                      the linked executable or shared library (stock,\n"
	"                      may be stripped): also its build-id, and every\n"
	"                      static found as hpapply will find it; with --audit,\n"
	"                      the review view: per replaced function, the old\n"
	"                      code against the new as a unified diff, references\n"
	"                      marked call/jump/read/write/address, and the redirect\n"
	"      --new NEW       check that the package's code is what NEW (object,\n"
	"                      archive or directory) compiled to: every function's\n"
	"                      size and bytes outside relocated fields\n"
	"      --allow RULE    with OLD NEW: accept findings of RULE as hpbuild\n"
	"                      --allow would; repeatable\n"
	"  -k, --key PUBKEY    check the package's signature (PATCH.hpk.minisig)\n"
	"                      against the minisign public key PUBKEY; repeatable\n"
	"      --keys DIR      the same with every DIR/NAME.pub\n"
	"      --json          print a JSON document (format \"hpverify-1\")\n"
	"      --sarif         print the findings as SARIF 2.1.0\n"
	"      --strict        a safety rule that could not run (no DWARF) makes\n"
	"                      the result unsafe, exit 1: for CI\n"
	"      --list-rules    list the safety rules: id, severity, title\n"
	"      --explain RULE  print what rule RULE (e.g. HP001) checks, why, and\n"
	"                      what to do instead\n"
	"  -q, --quiet         print nothing but errors; report through the exit status\n"
	"  -h, --help          print this help and exit\n"
	"  -V, --version       print the version and exit\n"
	"\n"
	"Exit status: 0 ok; 1 unsafe (an error-level finding that was not\n"
	"allowed, or with --strict a rule that could not run), with --key or\n"
	"--keys a missing or bad signature, with --base not built for OLD, with\n"
	"--new not NEW's code; 2 error, including a corrupt package and an\n"
	"unreadable key.\n";

enum output { OUT_TEXT, OUT_JSON, OUT_SARIF };

struct options {
	bool audit, quiet, strict;
	enum output output;
	const char *base, *new_build;
	const char **allow;
	size_t nr_allow;
	const char **keys;           /* --key */
	size_t nr_keys;
	const char *keys_dir;        /* --keys */
	const char *paths[3];
	int nr_paths;
};

static int usage_error(const char *msg)
{
	fprintf(stderr, "hpverify: %s\nTry 'hpverify --help' for more information.\n", msg);
	return -1;
}

static int check_args(const struct options *o)
{
	if (o->nr_paths >= 2 && (o->audit || o->base || o->new_build))
		return usage_error("--audit, --base and --new take one package, not OLD NEW");
	if (o->new_build && (o->audit || o->base))
		return usage_error("give --new alone, not with --audit or --base");
	if (o->new_build && o->output == OUT_SARIF)
		return usage_error("--sarif reports findings; --new compares code (use --json)");
	if (o->audit && o->base && o->output != OUT_TEXT)
		return usage_error("the review view (--audit --base) is text only");
	if (o->nr_paths == 1 && o->nr_allow)
		return usage_error("--allow applies to OLD NEW; a package's allowed rules are recorded in it");
	if (o->base && o->output == OUT_SARIF)
		return usage_error("--sarif reports findings; --base compares fingerprints (use --json)");
	if ((o->nr_keys || o->keys_dir) && (o->nr_paths >= 2 || o->base))
		return usage_error("--key and --keys check a package's signature: not with OLD NEW or --base");
	return 0;
}

static const char *severity_word(int s)
{
	return s == HPK_SEV_ERROR ? "error" : s == HPK_SEV_WARNING ? "warning" : "note";
}

static int list_rules(void)
{
	size_t n;
	const struct rule_info *r = rule_catalog(&n);

	for (size_t i = 0; i < n; i++)
		printf("%s  %-7s  %s\n", r[i].id, severity_word(r[i].severity), r[i].title);
	return HP_EXIT_OK;
}

static int explain_rule(const char *id)
{
	const struct rule_info *r = rule_by_id(id);

	if (!r) {
		fprintf(stderr, "hpverify: --explain %s: no such rule (hpverify --list-rules lists them)\n", id);
		return HP_EXIT_ERROR;
	}
	printf("%s (%s): %s\n", r->id, severity_word(r->severity), r->title);
	printf("  hazard:  %s\n", r->hazard);
	printf("  instead: %s\n", r->instead);
	printf("  a finding of %s is accepted with --allow %s (hpbuild, hpverify OLD NEW)\n", r->id, r->id);
	return HP_EXIT_OK;
}

/* --strict: a rule that did not run is a reason to fail, for CI. */
static int strict_status(const struct options *o, const struct findings *f, int status)
{
	if (!o->strict || !f->nr_not_run || status != HP_EXIT_OK)
		return status;
	if (!o->quiet)
		fprintf(stderr, "hpverify: --strict: %zu kind%s of safety check did not run (see \"rule not run\")\n",
			f->nr_not_run, f->nr_not_run == 1 ? "" : "s");
	return HP_EXIT_DIFF;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "audit", no_argument, NULL, 'a' },
		{ "base", required_argument, NULL, 'b' },
		{ "new", required_argument, NULL, 'N' },
		{ "allow", required_argument, NULL, 'A' },
		{ "key", required_argument, NULL, 'k' },
		{ "keys", required_argument, NULL, 'K' },
		{ "json", no_argument, NULL, 'j' },
		{ "sarif", no_argument, NULL, 'S' },
		{ "strict", no_argument, NULL, 's' },
		{ "list-rules", no_argument, NULL, 'L' },
		{ "explain", required_argument, NULL, 'E' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	/* getopt names the program by argv[0]: "hpverify", not "build/hpverify" */
	argv[0] = (char *)"hpverify";
	while ((c = getopt_long(argc, argv, "ab:k:qhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': o->audit = true; break;
		case 'b': o->base = optarg; break;
		case 'N': o->new_build = optarg; break;
		case 'A':
			if (!rule_by_id(optarg)) {
				fprintf(stderr, "hpverify: --allow %s: no such rule (hpverify(1) lists them)\n", optarg);
				return -1;
			}
			o->allow = xrealloc(o->allow, (o->nr_allow + 1) * sizeof(*o->allow));
			o->allow[o->nr_allow++] = rule_by_id(optarg)->id;
			break;
		case 'k':
			o->keys = xrealloc(o->keys, (o->nr_keys + 1) * sizeof(*o->keys));
			o->keys[o->nr_keys++] = optarg;
			break;
		case 'K':
			if (o->keys_dir)
				return usage_error("give --keys once");
			o->keys_dir = optarg;
			break;
		case 'j':
		case 'S':
			if (o->output != OUT_TEXT && o->output != (c == 'j' ? OUT_JSON : OUT_SARIF))
				return usage_error("give --json or --sarif, not both");
			o->output = c == 'j' ? OUT_JSON : OUT_SARIF;
			break;
		case 'q': o->quiet = true; break;
		case 's': o->strict = true; break;
		case 'L': exit(list_rules());
		case 'E': exit(explain_rule(optarg));
		case 'h': fputs(usage_text, stdout); exit(HP_EXIT_OK);
		case 'V': printf("hpverify %s\n", HP_VERSION); exit(HP_EXIT_OK);
		default: fputs("Try 'hpverify --help' for more information.\n", stderr); return -1;
		}
	}
	o->nr_paths = argc - optind;
	if (o->nr_paths < 1 || o->nr_paths > 3)
		return usage_error("expected a package, or OLD and NEW (and a package)");
	for (int i = 0; i < o->nr_paths; i++)
		o->paths[i] = argv[optind + i];
	return check_args(o);
}

static size_t count_allowed(const struct vfindings *v)
{
	size_t n = 0;

	for (size_t i = 0; i < v->n; i++)
		n += v->v[i].allowed;
	return n;
}

static size_t count_unsafe(const struct vfindings *v)
{
	size_t n = 0;

	for (size_t i = 0; i < v->n; i++)
		n += v->v[i].severity >= HPK_SEV_ERROR && !v->v[i].allowed;
	return n;
}

/* ---- package and --audit ---- */

struct package_run {
	const char *path;
	struct hpk *p;
	bool sig_checked;            /* --key or --keys */
	struct pkgsig_result sig;
	struct hp_err sig_err;       /* why the signature was refused */
	struct findings found;       /* the rules, run now */
	struct vfindings recorded, now;
	int worst;
};

static int package_text(const struct options *o, struct package_run *r, struct hp_err *err)
{
	struct pkg_counts c;
	size_t unsafe = count_unsafe(&r->now);

	report_count_package(r->p, &c);
	report_meta_text(stdout, r->path, r->p);
	if (r->sig_checked)
		report_signature_text(stdout, &r->sig, r->sig_err.msg);
	else if (o->audit)
		report_unverified_signature_text(stdout, r->path);
	report_counts_text(stdout, &c);
	if (o->audit) {
		if (audit_text(stdout, r->p, err) < 0)
			return -1;
		fputc('\n', stdout);
	}
	printf("findings recorded by hpbuild  %zu (%zu allowed)\n", r->recorded.n, count_allowed(&r->recorded));
	report_findings_text(stdout, "  ", &r->recorded);
	printf("findings of the package rules  %zu\n", r->now.n);
	report_findings_text(stdout, "  ", &r->now);
	for (size_t i = 0; i < r->found.nr_not_run; i++)
		printf("  note: rule not run: %s\n", r->found.not_run[i]);
	if (r->sig_checked && r->sig.status != PKGSIG_OK)
		printf("result       %s\n", r->sig.status == PKGSIG_MISSING ? "refused: not signed" : "refused: bad signature");
	else if (unsafe)
		printf("result       unsafe: %zu error-level finding%s not allowed when the package was built\n",
		       unsafe, unsafe == 1 ? "" : "s");
	else
		printf("result       ok\n");
	return 0;
}

/* "ok", "unsafe", or with a signature refused "unsigned" / "bad-signature". */
static const char *package_result(const struct package_run *r)
{
	if (r->sig_checked && r->sig.status != PKGSIG_OK)
		return r->sig.status == PKGSIG_MISSING ? "unsigned" : "bad-signature";
	return count_unsafe(&r->now) ? "unsafe" : "ok";
}

static int package_json(const struct options *o, struct package_run *r, struct hp_err *err)
{
	struct json j;
	struct pkg_counts c;
	int ret = 0;

	report_count_package(r->p, &c);
	json_init(&j);
	json_begin_object(&j);
	json_kv_string(&j, "format", "hpverify-1");
	json_kv_string(&j, "mode", o->audit ? "audit" : "package");
	report_meta_json(&j, r->path, r->p);
	report_signature_json(&j, r->sig_checked ? &r->sig : NULL, r->sig_err.msg);
	report_counts_json(&j, &c);
	if (o->audit)
		ret = audit_json(&j, r->p, err);
	report_findings_json(&j, "recorded_findings", &r->recorded);
	report_findings_json(&j, "findings", &r->now);
	report_strings_json(&j, "rules_not_run", r->found.not_run, r->found.nr_not_run);
	json_kv_string(&j, "result", package_result(r));
	json_end_object(&j);
	if (ret < 0) {
		free(json_finish(&j));
		return -1;
	}
	return report_put(json_finish(&j));
}

/* The signature is a result of its own (rule id "signature") when it was
 * refused, a notification when it verified. */
static int package_sarif(struct package_run *r)
{
	struct vfindings all = { 0 };
	char **notes = xcalloc(r->found.nr_not_run + 1, sizeof(*notes)), *signed_by = NULL;
	size_t n = 0;
	int ret;

	if (r->sig_checked && r->sig.status != PKGSIG_OK) {
		struct finding_ref sig = { .rule = "signature", .severity = HPK_SEV_ERROR,
					.file = r->sig.sig_path, .message = r->sig_err.msg };
		GROW(all.v, all.cap, all.n + 1);
		all.v[all.n++] = sig;
	} else if (r->sig_checked) {
		signed_by = xasprintf("signed by key %s (%s); trusted comment: %s", r->sig.key_id,
				      r->sig.key_path, r->sig.trusted_comment);
		notes[n++] = signed_by;
	}
	for (size_t i = 0; i < r->found.nr_not_run; i++)
		notes[n++] = r->found.not_run[i];
	vfindings_merge(&all, &r->recorded, &r->now);
	ret = report_put(report_sarif(&all, notes, n));
	vfindings_free(&all);
	free(signed_by);
	free(notes);
	return ret;
}

static int load_keyring(const struct options *o, struct keyring *kr, struct hp_err *err)
{
	for (size_t i = 0; i < o->nr_keys; i++)
		if (keyring_add_file(kr, o->keys[i], err) < 0)
			return -1;
	if (o->keys_dir && keyring_add_dir(kr, o->keys_dir, err) < 0)
		return -1;
	return 0;
}

static int run_package(const struct options *o)
{
	struct package_run r = { .path = o->paths[0] };
	struct hp_err err = { { 0 } };
	struct keyring kr = { 0 };
	int status = HP_EXIT_ERROR, ret = 0;

	if (load_keyring(o, &kr, &err) < 0) {
		fprintf(stderr, "hpverify: %s\n", err.msg);
		keyring_free(&kr);
		return HP_EXIT_ERROR;
	}
	r.p = hpk_read_file(r.path, &err);
	if (!r.p) {
		fprintf(stderr, "hpverify: %s\n", err.msg);
		keyring_free(&kr);
		return HP_EXIT_ERROR;
	}
	r.sig_checked = o->nr_keys || o->keys_dir;
	if (r.sig_checked && pkgsig_check(r.path, r.p, &kr, &r.sig, &r.sig_err) < 0)
		fprintf(stderr, "hpverify: %s\n", r.sig_err.msg);
	r.worst = verify_package_rules(r.p, &r.found);
	vfindings_add_package(&r.recorded, r.p);
	vfindings_add_rules(&r.now, &r.found);
	if (o->quiet)
		ret = 0;
	else if (o->output == OUT_JSON)
		ret = package_json(o, &r, &err);
	else if (o->output == OUT_SARIF)
		ret = package_sarif(&r);
	else
		ret = package_text(o, &r, &err);
	if (ret < 0)
		fprintf(stderr, "hpverify: %s\n", hp_err_isset(&err) ? err.msg : "error writing output");
	else if (r.worst >= HPK_SEV_ERROR || (r.sig_checked && r.sig.status != PKGSIG_OK))
		status = HP_EXIT_DIFF;
	else
		status = strict_status(o, &r.found, r.worst >= HPK_SEV_ERROR ? HP_EXIT_DIFF : HP_EXIT_OK);
	pkgsig_result_free(&r.sig);
	keyring_free(&kr);
	vfindings_free(&r.recorded);
	vfindings_free(&r.now);
	findings_free(&r.found);
	hpk_free(r.p);
	return status;
}

/* ---- --base ---- */

static void base_json_check(struct json *j, const struct hpk *p, const struct base_check *c)
{
	const struct hpk_func *f = &p->funcs[c->func];
	char hash[17];

	json_begin_object(j);
	json_kv_string(j, "name", f->name);
	json_kv_string(j, "bind", audit_bind_name(f->bind));
	json_kv_string(j, "source", p->units[f->unit].source);
	json_kv_uint(j, "unit", f->unit);
	json_kv_string(j, "status", base_status_name(c->status));
	json_kv_string(j, "found_in", c->where);
	json_kv_uint(j, "old_size", f->old_size);
	json_key(j, "base_size");
	if (c->status == BASE_MISSING)
		json_null(j);
	else
		json_uint(j, c->base_size);
	snprintf(hash, sizeof(hash), "%016" PRIx64, f->old_hash);
	json_kv_string(j, "old_hash", hash);
	snprintf(hash, sizeof(hash), "%016" PRIx64, c->base_hash);
	json_kv_string(j, "base_hash", c->status == BASE_MATCH || c->status == BASE_BYTES ? hash : NULL);
	json_end_object(j);
}

static int base_json(const struct options *o, const struct hpk *p, const struct base_result *r)
{
	struct json j;

	json_init(&j);
	json_begin_object(&j);
	json_kv_string(&j, "format", "hpverify-1");
	json_kv_string(&j, "mode", "base");
	report_meta_json(&j, o->paths[0], p);
	json_kv_string(&j, "base", o->base);
	json_kv_uint(&j, "base_objects", r->nr_objects);
	json_key(&j, "functions");
	json_begin_array(&j);
	for (size_t i = 0; i < r->n; i++)
		base_json_check(&j, p, &r->v[i]);
	json_end_array(&j);
	json_kv_string(&j, "result", base_first_mismatch(r) < r->n ? "mismatch" : "match");
	json_end_object(&j);
	return report_put(json_finish(&j));
}

static void base_text(const struct options *o, const struct hpk *p, const struct base_result *r)
{
	size_t bad = base_first_mismatch(r);
	const struct base_check *c;
	const struct hpk_func *f;

	if (bad == r->n) {
		printf("hpverify: %s was built for %s: %zu replaced function%s match%s\n", o->paths[0], o->base,
		       r->n, r->n == 1 ? "" : "s", r->n == 1 ? "es" : "");
		return;
	}
	c = &r->v[bad];
	f = &p->funcs[c->func];
	printf("hpverify: %s was not built for %s: %s", o->paths[0], o->base, f->name);
	if (f->bind == STB_LOCAL && p->units[f->unit].source)
		printf(" (static, %s)", p->units[f->unit].source);
	printf(": ");
	if (c->status == BASE_MISSING)
		printf("missing (no such function in the base)\n");
	else if (c->status == BASE_SIZE)
		printf("size differs (package expects %" PRIu32 " bytes, %s has %" PRIu64 ")\n",
		       f->old_size, c->where, c->base_size);
	else
		printf("bytes differ (package expects fingerprint %016" PRIx64 ", %s has %016" PRIx64 ")\n",
		       f->old_hash, c->where, c->base_hash);
}

/* An executable or shared library (ELF type EXEC or DYN), not an object,
 * archive or directory: --base checks the package against the module. */
static bool is_linked_module(const char *path)
{
	uint8_t h[18];
	FILE *f = fopen(path, "rb");
	bool yes;

	if (!f)
		return false;
	yes = fread(h, 1, sizeof(h), f) == sizeof(h) && !memcmp(h, ELFMAG, SELFMAG) &&
	      (get_le(h + 16, 2) == ET_DYN || get_le(h + 16, 2) == ET_EXEC);
	fclose(f);
	return yes;
}

/* The package's recorded build-id against the module's: one problem line
 * when they differ. */
static size_t check_build_id(const struct modfile *mf, const struct hpk *p, struct strbuf *out)
{
	if (!p->base_build_id || !strcmp(p->base_build_id, mf->build_id_hex))
		return 0;
	sb_addf(out, "%s: build-id %s, but the package was built for %s with build-id %s (hpapply refuses it "
		"for a process that maps this file)\n", mf->path, mf->build_id_hex[0] ? mf->build_id_hex : "none",
		p->base_name, p->base_build_id);
	return 1;
}

static void base_module_json(const struct options *o, const struct hpk *p, const struct modfile *mf,
			     const struct strbuf *lines, size_t bad)
{
	struct json j;
	char *doc, *copy = xstrdup(lines->buf ? lines->buf : ""), *line, *save = NULL;

	json_init(&j);
	json_begin_object(&j);
	json_kv_string(&j, "format", "hpverify-1");
	json_kv_string(&j, "mode", "base-module");
	json_kv_string(&j, "package", o->paths[0]);
	json_kv_string(&j, "base", o->base);
	json_kv_string(&j, "build_id", mf->build_id_hex[0] ? mf->build_id_hex : NULL);
	json_kv_string(&j, "package_build_id", p->base_build_id);
	json_key(&j, "problems");
	json_begin_array(&j);
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		json_string(&j, line);
	json_end_array(&j);
	json_kv_string(&j, "result", bad ? "mismatch" : "match");
	json_end_object(&j);
	doc = json_finish(&j);
	fputs(doc, stdout);
	free(doc);
	free(copy);
}

/* --base MODULE: what hpbuild --base checks, on a package already built. */
static int run_base_module(const struct options *o, const struct hpk *p)
{
	struct hp_err err = { { 0 } };
	struct modfile mf;
	struct strbuf lines;
	size_t bad;

	if (modfile_open(o->base, &mf, &err) < 0) {
		fprintf(stderr, "hpverify: %s\n", err.msg);
		return HP_EXIT_ERROR;
	}
	sb_init(&lines);
	bad = check_build_id(&mf, p, &lines) + modfile_check_package(&mf, p, &lines);
	if (!o->quiet && o->output == OUT_JSON)
		base_module_json(o, p, &mf, &lines, bad);
	else if (!o->quiet && bad)
		printf("%shpverify: %s was not built for %s (%zu problem%s above)\n", lines.buf, o->paths[0], o->base,
		       bad, bad == 1 ? "" : "s");
	else if (!o->quiet)
		printf("hpverify: %s was built for %s (build-id %s): its replaced functions and statics are found there\n",
		       o->paths[0], o->base, mf.build_id_hex[0] ? mf.build_id_hex : "none");
	sb_free(&lines);
	modfile_close(&mf);
	return bad ? HP_EXIT_DIFF : HP_EXIT_OK;
}

static int run_base(const struct options *o)
{
	struct hp_err err = { { 0 } };
	struct base_result r;
	struct hpk *p = hpk_read_file(o->paths[0], &err);
	int status = HP_EXIT_ERROR;

	if (!p) {
		fprintf(stderr, "hpverify: %s\n", err.msg);
		return HP_EXIT_ERROR;
	}
	if (is_linked_module(o->base)) {
		status = run_base_module(o, p);
		hpk_free(p);
		return status;
	}
	if (verify_base(p, o->base, &r, &err) < 0) {
		fprintf(stderr, "hpverify: %s\n", err.msg);
		hpk_free(p);
		return HP_EXIT_ERROR;
	}
	if (!o->quiet && o->output == OUT_JSON && base_json(o, p, &r) < 0)
		fprintf(stderr, "hpverify: error writing output\n");
	else {
		if (!o->quiet && o->output == OUT_TEXT)
			base_text(o, p, &r);
		status = base_first_mismatch(&r) < r.n ? HP_EXIT_DIFF : HP_EXIT_OK;
	}
	base_result_free(&r);
	hpk_free(p);
	return status;
}

/* ---- --audit --base: the review view ---- */

static int run_review(const struct options *o)
{
	struct hp_err err = { { 0 } };
	struct hpk *p = hpk_read_file(o->paths[0], &err);
	int status = HP_EXIT_OK;

	if (!p) {
		fprintf(stderr, "hpverify: %s\n", err.msg);
		return HP_EXIT_ERROR;
	}
	if (!o->quiet && review_text(stdout, p, o->base, &err) < 0) {
		fprintf(stderr, "hpverify: %s\n", err.msg);
		status = HP_EXIT_ERROR;
	}
	if (status == HP_EXIT_OK) {
		/* the exit status is --base's: was the package built for OLD */
		struct base_result r;

		if (verify_base(p, o->base, &r, &err) < 0) {
			fprintf(stderr, "hpverify: %s\n", err.msg);
			status = HP_EXIT_ERROR;
		} else {
			status = base_first_mismatch(&r) < r.n ? HP_EXIT_DIFF : HP_EXIT_OK;
			base_result_free(&r);
		}
	}
	hpk_free(p);
	return status;
}

/* ---- --new ---- */

static int new_json(const struct options *o, const struct hpk *p, const struct new_result *r)
{
	struct json j;

	json_init(&j);
	json_begin_object(&j);
	json_kv_string(&j, "format", "hpverify-1");
	json_kv_string(&j, "mode", "new");
	report_meta_json(&j, o->paths[0], p);
	json_kv_string(&j, "new", o->new_build);
	json_kv_uint(&j, "new_objects", r->nr_objects);
	json_key(&j, "functions");
	json_begin_array(&j);
	for (size_t i = 0; i < r->n; i++) {
		const struct new_check *c = &r->v[i];
		json_begin_object(&j);
		json_kv_string(&j, "name", p->funcs[c->func].name);
		json_kv_string(&j, "status", new_status_name(c->status));
		json_kv_string(&j, "found_in", c->where);
		json_kv_uint(&j, "code_size", p->funcs[c->func].code_size);
		json_key(&j, "new_size");
		if (c->status == NEW_MISSING)
			json_null(&j);
		else
			json_uint(&j, c->new_size);
		json_end_object(&j);
	}
	json_end_array(&j);
	json_kv_string(&j, "result", new_first_mismatch(r) < r->n ? "mismatch" : "match");
	json_end_object(&j);
	return report_put(json_finish(&j));
}

static void new_text(const struct options *o, const struct hpk *p, const struct new_result *r)
{
	size_t bad = new_first_mismatch(r);
	const struct new_check *c;

	if (bad == r->n) {
		printf("hpverify: %s holds the code %s compiled: %zu function%s match%s\n", o->paths[0],
		       o->new_build, r->n, r->n == 1 ? "" : "s", r->n == 1 ? "es" : "");
		return;
	}
	c = &r->v[bad];
	printf("hpverify: %s does not hold the code %s compiled: %s: ", o->paths[0], o->new_build,
	       p->funcs[c->func].name);
	if (c->status == NEW_MISSING)
		printf("missing (no such function in NEW)\n");
	else if (c->status == NEW_SIZE)
		printf("size differs (package has %" PRIu32 " bytes, %s has %" PRIu64 ")\n",
		       p->funcs[c->func].code_size, c->where, c->new_size);
	else
		printf("bytes differ from offset 0x%" PRIx32 " (%s)\n", c->first_diff, c->where);
}

static int run_new(const struct options *o)
{
	struct hp_err err = { { 0 } };
	struct new_result r;
	struct hpk *p = hpk_read_file(o->paths[0], &err);
	int status = HP_EXIT_ERROR;

	if (!p) {
		fprintf(stderr, "hpverify: %s\n", err.msg);
		return HP_EXIT_ERROR;
	}
	if (verify_new(p, o->new_build, &r, &err) < 0) {
		fprintf(stderr, "hpverify: %s\n", err.msg);
		hpk_free(p);
		return HP_EXIT_ERROR;
	}
	if (!o->quiet && o->output == OUT_JSON && new_json(o, p, &r) < 0)
		fprintf(stderr, "hpverify: error writing output\n");
	else {
		if (!o->quiet && o->output == OUT_TEXT)
			new_text(o, p, &r);
		status = new_first_mismatch(&r) < r.n ? HP_EXIT_DIFF : HP_EXIT_OK;
	}
	new_result_free(&r);
	hpk_free(p);
	return status;
}

/* ---- OLD NEW ---- */

static void pair_text(const struct pair_result *r, const struct vfindings *v)
{
	size_t sev[4] = { 0 };

	report_findings_text(stdout, "", v);
	for (size_t i = 0; i < r->nr_notes; i++)
		printf("note: %s\n", r->notes[i]);
	for (size_t i = 0; i < r->f.nr_not_run; i++)
		printf("note: rule not run: %s\n", r->f.not_run[i]);
	for (size_t i = 0; i < v->n; i++)
		if (v->v[i].severity >= HPK_SEV_NOTE && v->v[i].severity <= HPK_SEV_ERROR)
			sev[v->v[i].severity]++;
	printf("hpverify: %zu pair%s checked: %zu error%s, %zu warning%s, %zu note%s (%zu allowed): %s\n",
	       r->pairs, r->pairs == 1 ? "" : "s", sev[HPK_SEV_ERROR], sev[HPK_SEV_ERROR] == 1 ? "" : "s",
	       sev[HPK_SEV_WARNING], sev[HPK_SEV_WARNING] == 1 ? "" : "s", sev[HPK_SEV_NOTE],
	       sev[HPK_SEV_NOTE] == 1 ? "" : "s", count_allowed(v), count_unsafe(v) ? "unsafe" : "ok");
}

static int pair_json(const struct options *o, const struct pair_result *r, const struct vfindings *v)
{
	struct json j;

	json_init(&j);
	json_begin_object(&j);
	json_kv_string(&j, "format", "hpverify-1");
	json_kv_string(&j, "mode", "pair");
	json_kv_string(&j, "old", o->paths[0]);
	json_kv_string(&j, "new", o->paths[1]);
	json_kv_string(&j, "package", o->paths[2]);
	json_kv_uint(&j, "pairs", r->pairs);
	report_strings_json(&j, "notes", r->notes, r->nr_notes);
	report_findings_json(&j, "findings", v);
	report_strings_json(&j, "rules_not_run", r->f.not_run, r->f.nr_not_run);
	json_kv_string(&j, "result", count_unsafe(v) ? "unsafe" : "ok");
	json_end_object(&j);
	return report_put(json_finish(&j));
}

static int run_pairs(const struct options *o)
{
	struct hp_err err = { { 0 } };
	struct pair_result r;
	struct vfindings v = { 0 };
	struct hpk *pkg = NULL;
	int worst, ret = 0, status = HP_EXIT_ERROR;

	if (o->paths[2] && !(pkg = hpk_read_file(o->paths[2], &err))) {
		fprintf(stderr, "hpverify: %s\n", err.msg);
		return HP_EXIT_ERROR;
	}
	worst = verify_pairs(o->paths[0], o->paths[1], pkg, o->allow, o->nr_allow, &r, &err);
	if (worst < 0) {
		fprintf(stderr, "hpverify: %s\n", err.msg);
		pair_result_free(&r);
		hpk_free(pkg);
		return HP_EXIT_ERROR;
	}
	vfindings_add_rules(&v, &r.f);
	if (o->quiet)
		ret = 0;
	else if (o->output == OUT_JSON)
		ret = pair_json(o, &r, &v);
	else if (o->output == OUT_SARIF) {
		char **notes = xcalloc(r.nr_notes + r.f.nr_not_run + 1, sizeof(*notes));

		for (size_t i = 0; i < r.nr_notes; i++)
			notes[i] = r.notes[i];
		for (size_t i = 0; i < r.f.nr_not_run; i++)
			notes[r.nr_notes + i] = r.f.not_run[i];
		ret = report_put(report_sarif(&v, notes, r.nr_notes + r.f.nr_not_run));
		free(notes);
	} else
		pair_text(&r, &v);
	if (ret < 0)
		fprintf(stderr, "hpverify: error writing output\n");
	else
		status = strict_status(o, &r.f, worst >= HPK_SEV_ERROR ? HP_EXIT_DIFF : HP_EXIT_OK);
	vfindings_free(&v);
	pair_result_free(&r);
	hpk_free(pkg);
	return status;
}

int main(int argc, char **argv)
{
	struct options o = { .output = OUT_TEXT };
	int status;

	if (parse_args(argc, argv, &o) < 0) {
		free(o.allow);
		free(o.keys);
		return HP_EXIT_ERROR;
	}
	if (o.nr_paths >= 2)
		status = run_pairs(&o);
	else if (o.audit && o.base)
		status = run_review(&o);
	else if (o.new_build)
		status = run_new(&o);
	else if (o.base)
		status = run_base(&o);
	else
		status = run_package(&o);
	if (status != HP_EXIT_ERROR && (fflush(stdout) != 0 || ferror(stdout))) {
		fprintf(stderr, "hpverify: error writing output\n");
		status = HP_EXIT_ERROR;
	}
	free(o.allow);
	free(o.keys);
	return status;
}
