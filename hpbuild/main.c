/*
 * main.c - the hpbuild command: build a hotpatch package from the old and
 * new builds (objects, archives or directories), refusing unsafe changes.
 * Exit 0 package written, 1 refused or nothing to patch, 2 error.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
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
#include "modfile.h"
#include "pair.h"
#include "pkgsig.h"
#include "rules.h"
#include "stat.h"

static const char usage_text[] =
	"usage: hpbuild [OPTIONS] OLD NEW\n"
	"Build a hotpatch package from the old and new builds of a program.\n"
	"OLD and NEW are two object files, two static archives (members paired\n"
	"by name) or two directories (objects paired by relative path).\n"
	"\n"
	"  -o, --output FILE       write the package to FILE; - is standard output\n"
	"                          (default: NEW's name with .hpk, in the current\n"
	"                          directory; see OUTPUT in hpbuild(1))\n"
	"      --allow RULE        accept findings of safety rule RULE (e.g. HP001);\n"
	"                          repeatable; recorded in the package\n"
	"      --include-line-only also package functions whose only change is\n"
	"                          __LINE__ values that moved\n"
	"      --base MODULE       the executable or shared library the package is\n"
	"                          for (stock, may be stripped): check that hpapply\n"
	"                          will find every replaced function and static in\n"
	"                          it, and record its build-id in the package\n"
	"      --sign SECKEY       sign the package with the minisign secret key\n"
	"                          SECKEY (mode 600 or stricter): writes\n"
	"                          FILE.minisig next to the package\n"
	"      --password-file F   the password of an encrypted SECKEY is F's\n"
	"                          first line\n"
	"      --json              print the summary as JSON (format \"hpbuild-1\")\n"
	"  -j, --jobs N            prepare object pairs on N threads (default:\n"
	"                          the number of online CPUs)\n"
	"      --strict            refuse (exit 1) when a safety rule could not run\n"
	"                          (objects without DWARF): for CI\n"
	"  -v, --verbose           print progress on stderr (shown on a terminal\n"
	"                          anyway when there are many object pairs)\n"
	"  -q, --quiet             print nothing on success\n"
	"  -h, --help              print this help and exit\n"
	"  -V, --version           print the version and exit\n"
	"\n"
	"Exit status: 0 package written, 1 refused (unsafe change, or not for\n"
	"MODULE) or nothing to patch, 2 error.\n";

struct options {
	const char *old_path, *new_path, *output;
	const char *sign_key, *password_file;
	const char *base;
	bool json, quiet, strict, verbose;
	int jobs;
	struct build_options build;
};

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "allow", required_argument, NULL, 'A' },
		{ "include-line-only", no_argument, NULL, 'L' },
		{ "base", required_argument, NULL, 'B' },
		{ "sign", required_argument, NULL, 'K' },
		{ "password-file", required_argument, NULL, 'P' },
		{ "json", no_argument, NULL, 'J' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "strict", no_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	/* getopt names the program by argv[0]: "hpbuild", not "build/hpbuild" */
	argv[0] = (char *)"hpbuild";
	while ((c = getopt_long(argc, argv, "o:j:vqhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': o->output = optarg; break;
		case 'A':
			if (!rule_by_id(optarg)) {
				fprintf(stderr, "hpbuild: --allow %s: no such rule (hpverify --list-rules lists them)\n", optarg);
				return -1;
			}
			o->build.allow = xrealloc(o->build.allow, (o->build.nr_allow + 1) * sizeof(char *));
			o->build.allow[o->build.nr_allow++] = rule_by_id(optarg)->id;
			break;
		case 'L': o->build.include_line_only = true; break;
		case 'B': o->base = optarg; break;
		case 'K': o->sign_key = optarg; break;
		case 'P': o->password_file = optarg; break;
		case 'j': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 256) {
				fprintf(stderr, "hpbuild: --jobs %s: give a number of threads from 1 to 256\n", optarg);
				return -1;
			}
			o->jobs = (int)v;
			break;
		}
		case 'J': o->json = true; break;
		case 'q': o->quiet = true; break;
		case 's': o->strict = true; break;
		case 'v': o->verbose = true; break;
		case 'h': fputs(usage_text, stdout); exit(HP_EXIT_OK);
		case 'V': printf("hpbuild %s\n", HP_VERSION); exit(HP_EXIT_OK);
		default: fputs("Try 'hpbuild --help' for more information.\n", stderr); return -1;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "hpbuild: expected OLD and NEW, got %d argument%s\nTry 'hpbuild --help' for more information.\n",
			argc - optind, argc - optind == 1 ? "" : "s");
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

/*
 * The default output name, in the current directory: NEW's last path
 * component with ".hpk" for its extension ("new/inflate.o" -> "inflate.hpk",
 * "libz.a" -> "libz.hpk"); a directory keeps its whole name ("zlib-1.3/" ->
 * "zlib-1.3.hpk"), and "." or ".." stand for the directory they name, so
 * "hpbuild ../old ." in ~/src/cve-fix writes "cve-fix.hpk".  A name that
 * would be hidden or empty (NEW is "/") is "patch.hpk".
 */
static char *default_output(const char *new_path)
{
	char *copy = xstrdup(new_path), *real = NULL, *name, *out, *dot;
	struct stat st;
	bool dir = stat(new_path, &st) == 0 && S_ISDIR(st.st_mode);
	size_t n = strlen(copy);

	while (n > 1 && copy[n - 1] == '/')
		copy[--n] = '\0';
	name = (char *)path_tail(copy);
	if (!strcmp(name, ".") || !strcmp(name, "..")) {
		real = realpath(new_path, NULL);
		name = real ? (char *)path_tail(real) : (char *)"";
	}
	if (!dir && (dot = strrchr(name, '.')) && dot != name)
		*dot = '\0';
	out = name[0] && name[0] != '.' && name[0] != '/' ? xasprintf("%s.hpk", name) : xstrdup("patch.hpk");
	free(real);
	free(copy);
	return out;
}

/* SOURCE_DATE_EPOCH as an ISO 8601 UTC time in *out (NULL when unset);
 * -1 with an error line when it is set but not a count of seconds. */
static int created_time(char **out, struct hp_err *err)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	char *end, buf[64];
	long long v;
	time_t t;
	struct tm tm;

	*out = NULL;
	if (!s)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (!*s || *end || v < 0 || errno || s[0] == '-' || s[0] == '+' || s[0] == ' ' ||
	    (t = (time_t)v, !gmtime_r(&t, &tm)) ||
	    !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm))
		return hp_err_set(err, "SOURCE_DATE_EPOCH=%s: not a number of seconds since 1970-01-01 (unset it, or give e.g. $(git log -1 --format=%%ct))", s);
	*out = xstrdup(buf);
	return 0;
}

struct run {
	struct pkg_builder b;
	struct findings findings;
	size_t pairs, pairs_one_sided;
	struct tree_stat stat;     /* pairs compared and one-sided; changed from the package */
	struct tree_source *tree;  /* every pair's old source name, for HP014 */
	size_t nr_tree;
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
		stat_one_sided(&r->stat, ip->name, ip->old.data != NULL);
		note(r, xasprintf("%s: only in %s; a hotpatch cannot add or remove a whole object, skipped",
				  ip->old.data ? ip->old.label : ip->new.label, ip->old.data ? "OLD" : "NEW"));
		return 0;
	}
	findings_move(&r->findings, &pp->findings);
	r->pairs++;
	r->stat.compared++;
	r->tree = xrealloc(r->tree, (r->nr_tree + 1) * sizeof(*r->tree));
	r->tree[r->nr_tree].source = pp->old->source_name ? xstrdup(pp->old->source_name) : NULL;
	r->tree[r->nr_tree++].object = xstrdup(ip->name);
	return build_add_pair(&r->b, pp, ip->name, ip->old.recorded, ip->new.recorded, err);
}

/* The safety rules, on each pair's worker thread. */
static void check_rules(struct hp_pair *p, void *arg)
{
	(void)arg;
	rules_check_pair(p, NULL, &p->findings);
}

static int process_inputs(struct run *r, const struct input_set *in, const struct options *o,
			  struct hp_err *err)
{
	struct hp_pair *pp = xcalloc(BATCH, sizeof(*pp));
	struct pair_options popt = { .plan = { .include_line_only = o->build.include_line_only,
					       .base = r->b.base_module } };
	/* a long run says how far it is: on a terminal by itself, with -v anywhere */
	bool tty = isatty(STDERR_FILENO), progress = o->verbose || (tty && in->nr_pairs > BATCH && !o->quiet);
	int ret = 0;

	for (size_t first = 0; first < in->nr_pairs && ret == 0; first += BATCH) {
		size_t n = in->nr_pairs - first < BATCH ? in->nr_pairs - first : BATCH;

		pairs_prepare(in->pairs + first, n, pp, o->jobs, &popt, check_rules, NULL);
		for (size_t i = 0; i < n; i++) {
			if (ret == 0 && add_prepared(r, &pp[i], err) < 0)
				ret = -1;
			pair_close(&pp[i]);
		}
		if (progress)
			fprintf(stderr, "%shpbuild: %zu of %zu object pairs compared%s", tty ? "\r" : "",
				first + n, in->nr_pairs, tty ? "\033[K" : "\n");
	}
	if (progress && tty)
		fputs("\r\033[K", stderr);
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

/* The package's functions into the summary, by unit: what it replaces
 * and adds is read from the package, not worked out again. */
static void stat_from_package(struct tree_stat *t, const struct hpk *p)
{
	for (uint32_t i = 0; i < p->nr_funcs; i++)
		stat_add_func(stat_object(t, p->units[p->funcs[i].unit].name), p->funcs[i].name);
}

static void json_funcs(struct json *j, const char *key, const struct hpk *p, int kind)
{
	json_key(j, key);
	json_begin_array(j);
	for (uint32_t i = 0; i < p->nr_funcs; i++)
		if (p->funcs[i].kind == kind)
			json_string(j, p->funcs[i].name);
	json_end_array(j);
}

/* "  replaced      f, g" when the package has any of that kind */
static void print_funcs(FILE *to, const char *label, const struct hpk *p, int kind)
{
	const char *sep = "";

	for (uint32_t i = 0; i < p->nr_funcs; i++)
		if (p->funcs[i].kind == kind) {
			fprintf(to, "%s%s", *sep ? sep : label, p->funcs[i].name);
			sep = ", ";
		}
	if (*sep)
		fputc('\n', to);
}

/* out is NULL when no package was written; result says why:
 * "written", "refused" or "nothing-to-patch".  key: the signing key, or
 * NULL. */
static void print_summary(const struct run *r, const char *out, size_t size, bool json,
			  const char *result, const struct minisign_seckey *key, FILE *to)
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
		json_kv_string(&j, "base", r->b.p->base_name);
		json_kv_string(&j, "base_build_id", r->b.p->base_build_id);
		json_funcs(&j, "replaced", r->b.p, HPK_FUNC_REPLACE);
		json_funcs(&j, "added", r->b.p, HPK_FUNC_NEW);
		stat_json(&j, &r->stat);
		findings_json(&j, "findings", r->findings.v, r->findings.n);
		json_key(&j, "notes");
		json_begin_array(&j);
		for (size_t i = 0; i < r->nr_notes; i++)
			json_string(&j, r->notes[i]);
		json_end_array(&j);
		json_end_object(&j);
		doc = json_finish(&j);
		fputs(doc, to);
		free(doc);
		free(sig);
		return;
	}
	fprintf(to, "hpbuild: wrote %s\n", strcmp(out, "-") ? out : "the package to standard output");
	fprintf(to, "  package id    %s\n", id);
	{
		char *line = stat_line(&r->stat);
		fprintf(to, "  summary       %s\n", line);
		free(line);
	}
	fprintf(to, "  functions     %zu replaced, %zu added (%zu bytes of code)\n", s->replaced, s->added, s->code_bytes);
	print_funcs(to, "  replaced      ", r->b.p, HPK_FUNC_REPLACE);
	print_funcs(to, "  added         ", r->b.p, HPK_FUNC_NEW);
	fprintf(to, "  data          %zu objects, %zu read-only constants (%zu bytes)\n", s->data_objects, s->rodata_objects, s->data_bytes);
	fprintf(to, "  relocations   %zu\n", s->relocs);
	fprintf(to, "  references    %zu to the running program\n", s->externs);
	if (s->skipped_line_only)
		fprintf(to, "  left out      %zu functions whose only change is line numbers (--include-line-only keeps them)\n", s->skipped_line_only);
	if (r->b.p->base_name)
		fprintf(to, "  base          %s (build-id %s)\n", r->b.p->base_name, r->b.p->base_build_id);
	fprintf(to, "  package size  %zu bytes\n", size);
	if (sig)
		fprintf(to, "  signed by     key %s (%s)\n", key_id, sig);
	for (size_t i = 0; i < r->nr_notes; i++)
		fprintf(to, "note: %s\n", r->notes[i]);
	free(sig);
}

/* Write the package to out: "-" is standard output, which must not be a
 * terminal (a binary package there helps no one; gzip refuses too);
 * anything else is written as write_file_atomic() says (util.h), then its
 * signature when key is given.  A signature that cannot be written takes
 * a package file back with it, so that no unsigned package is left where a
 * signed one was asked for. */
static int write_package(struct run *r, const char *out, const struct minisign_seckey *key,
			 uint8_t **image, size_t *size, struct hp_err *err)
{
	size_t done = 0;
	struct stat st;

	if (!strcmp(out, "-") && isatty(STDOUT_FILENO))
		return hp_err_set(err, "standard output is a terminal; redirect it, or give -o FILE");
	if (!strcmp(out, "-") && key)
		return hp_err_set(err, "--sign needs a package file (-o FILE): the signature is written next to it");
	if (hpk_write_mem(r->b.p, image, size, err) < 0)
		return -1;
	if (strcmp(out, "-")) {
		if (write_file_atomic(out, *image, *size, err) < 0)
			return -1;
		if (key && pkgsig_sign(out, *image, *size, r->b.p->id, key, err) < 0) {
			if (lstat(out, &st) == 0 && S_ISREG(st.st_mode))
				unlink(out);
			return -1;
		}
		return 0;
	}
	while (done < *size) {
		ssize_t n = write(STDOUT_FILENO, *image + done, *size - done);
		if (n < 0 && errno != EINTR)
			return hp_err_set(err, "standard output: cannot write: %s", strerror(errno));
		if (n > 0)
			done += (size_t)n;
	}
	return 0;
}

/* HP014 from what the package refers to: statics, by source file. */
static void check_shared_sources(struct run *r)
{
	const struct hpk *p = r->b.p;
	char **refs = xcalloc(p->nr_syms + 1, sizeof(*refs));
	size_t n = 0;

	for (uint32_t i = 0; i < p->nr_syms; i++)
		if (p->syms[i].where == HPK_SYM_EXTERN && p->syms[i].bind == STB_LOCAL && p->syms[i].file)
			refs[n++] = (char *)p->syms[i].file;
	rules_check_shared_sources(r->tree, r->nr_tree, refs, n, &r->findings);
	free(refs);
}

/*
 * --base MODULE: hpapply must find every replaced function and every
 * static in MODULE as it is (stripped or not), or the package is refused
 * here rather than on the production machine.  0 and the module recorded
 * in the package; 1 with one line per problem on stderr; 2 on error.
 */
/* MODULE exports name: a global it defines that the linker left global
 * (a hidden one it made local, and strip removes). */
static bool module_exports(const char *name, const void *mf)
{
	const struct modfile_sym *s[8];
	size_t n = modfile_lookup(mf, name, false, NULL, s, 8);

	for (size_t i = 0; i < n && i < 8; i++)
		if (s[i]->bind != STB_LOCAL)
			return true;
	return false;
}

static int check_base(struct run *r, const struct modfile *mf, const struct input_set *in, struct hp_err *err)
{
	struct strbuf lines;
	size_t bad;

	if (build_fingerprint_hidden(&r->b, in, module_exports, mf, err) < 0)
		return HP_EXIT_ERROR;
	sb_init(&lines);
	bad = modfile_check_package(mf, r->b.p, &lines);
	if (bad) {
		fputs(lines.buf, stderr);
		fprintf(stderr, "hpbuild: refused: the package is not for %s (%zu problem%s above)\n", mf->path, bad,
			bad == 1 ? "" : "s");
		sb_free(&lines);
		return HP_EXIT_DIFF;
	}
	sb_free(&lines);
	return modfile_record_base(mf, r->b.p, err) < 0 ? HP_EXIT_ERROR : HP_EXIT_OK;
}

static void run_free(struct run *r)
{
	hpk_free(r->b.p);
	builder_done(&r->b);
	findings_free(&r->findings);
	stat_free(&r->stat);
	for (size_t i = 0; i < r->nr_tree; i++) {
		free((char *)r->tree[i].source);
		free((char *)r->tree[i].object);
	}
	free(r->tree);
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
	struct modfile base = { .fd = -1 };
	uint8_t *image = NULL;
	size_t size = 0;
	FILE *summary;

	o.jobs = default_jobs();
	if (parse_args(argc, argv, &o) < 0 || created_time(&created, &err) < 0) {
		if (err.msg[0])
			fprintf(stderr, "hpbuild: %s\n", err.msg);
		free(o.build.allow);
		return HP_EXIT_ERROR;
	}
	/* with the package on standard output, the summary goes to stderr */
	summary = o.output && !strcmp(o.output, "-") ? stderr : stdout;
	/* a key that cannot sign is found before the work of building */
	if (o.sign_key && pkgsig_load_seckey(o.sign_key, o.password_file, &key, &err) < 0) {
		fprintf(stderr, "hpbuild: %s\n", err.msg);
		free(created);
		free(o.build.allow);
		return HP_EXIT_ERROR;
	}
	if ((o.base && modfile_open(o.base, &base, &err) < 0) ||
	    collect_inputs(o.old_path, o.new_path, &in, &err) < 0) {
		fprintf(stderr, "hpbuild: %s\n", err.msg);
		modfile_close(&base);
		free(created);
		free(o.build.allow);
		return HP_EXIT_ERROR;
	}
	builder_init(&r.b);
	r.b.fingerprint_statics = o.base != NULL;
	r.b.base_module = o.base ? &base : NULL;
	if (process_inputs(&r, &in, &o, &err) < 0) {
		fprintf(stderr, "hpbuild: %s\n", err.msg);
		goto done;
	}
	check_shared_sources(&r);
	findings_sort(&r.findings);
	stat_from_package(&r.stat, r.b.p);
	worst = findings_apply_allow(&r.findings, (const char *const *)o.build.allow, o.build.nr_allow);
	if (worst >= HPK_SEV_ERROR || (o.strict && r.findings.nr_not_run)) {
		print_findings(&r.findings, stderr);
		if (worst >= HPK_SEV_ERROR)
			fprintf(stderr, "hpbuild: refused: the change is not hotpatch-safe (see each rule in hpverify(1); --allow=RULE overrides)\n");
		else
			fprintf(stderr, "hpbuild: refused: --strict, and a safety rule could not run (rebuild the objects with -g)\n");
		if (o.json)
			print_summary(&r, NULL, 0, true, "refused", NULL, summary);
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
			print_summary(&r, NULL, 0, true, "nothing-to-patch", NULL, summary);
		status = HP_EXIT_DIFF;
		goto done;
	}
	if (o.base && (status = check_base(&r, &base, &in, &err)) != HP_EXIT_OK) {
		if (status == HP_EXIT_ERROR)
			fprintf(stderr, "hpbuild: %s\n", err.msg);
		if (o.json)
			print_summary(&r, NULL, 0, true, "refused", NULL, summary);
		goto done;
	}
	status = HP_EXIT_ERROR;
	record_findings(&r);
	r.b.p->created = created ? pkg_str(r.b.p, created) : NULL;
	r.b.p->tool_version = pkg_str(r.b.p, "hpbuild " HP_VERSION);
	out = o.output ? xstrdup(o.output) : default_output(o.new_path);
	if (write_package(&r, out, o.sign_key ? &key : NULL, &image, &size, &err) < 0) {
		fprintf(stderr, "hpbuild: %s\n", err.msg);
		goto done;
	}
	if (!o.quiet || o.json)
		print_summary(&r, out, size, o.json, "written", o.sign_key ? &key : NULL, summary);
	status = HP_EXIT_OK;
done:
	modfile_close(&base);
	sodium_memzero(&key, sizeof(key));
	free(image);
	free(created);
	free(out);
	run_free(&r);
	free_inputs(&in);
	free(o.build.allow);
	return status;
}
