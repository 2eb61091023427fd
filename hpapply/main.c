/*
 * main.c - the hpapply command: apply a hotpatch package to a running
 * process, list what is applied, revert a package.  Exit 0 done, 1 refused
 * (a check failed; the process is untouched), 2 error.
 *
 * The package is read and checked completely (hpk_read_file) before the
 * process is looked at: a corrupt or hostile package never touches it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpk.h"
#include "json.h"
#include "session.h"

static const char usage_text[] =
	"usage: hpapply -p PID [OPTIONS] PATCH.hpk\n"
	"       hpapply -p PID --list [--json]\n"
	"       hpapply -p PID --revert [ID] [OPTIONS]\n"
	"Apply a hotpatch package to a running process, list the packages applied\n"
	"to it, or take one back.  The process needs no cooperation: hpapply\n"
	"attaches with ptrace, stops every thread while it changes code, and\n"
	"lets them go.\n"
	"\n"
	"  -p, --pid PID          the process (required)\n"
	"  -l, --list             list the packages applied to the process\n"
	"  -r, --revert [ID]      revert the package whose id starts with ID\n"
	"                         (default: the one applied last)\n"
	"  -n, --dry-run          do every check (the threads are stopped for the\n"
	"                         stack check), change nothing\n"
	"  -t, --timeout MS       wait up to MS milliseconds for a moment when no\n"
	"                         thread is in the code being changed (default 2000)\n"
	"      --module FILE      patch only the mapped file FILE (path or file name)\n"
	"      --symbols FILE     an unstripped copy or debug file of a stripped\n"
	"                         module, matched by build id; repeatable\n"
	"      --allow-seccomp    patch a process that runs under a seccomp filter\n"
	"                         (the filter must allow mmap, mprotect, munmap,\n"
	"                         memfd_create, ftruncate and close)\n"
	"      --json             print the result as JSON (format \"hpapply-1\")\n"
	"  -v, --verbose          also print addresses and how long threads stopped\n"
	"  -q, --quiet            print nothing on success\n"
	"  -h, --help             print this help and exit\n"
	"  -V, --version          print the version and exit\n"
	"\n"
	"Exit status: 0 done, 1 refused (a check failed; the process is as it\n"
	"was), 2 error.\n";

enum mode { MODE_APPLY, MODE_LIST, MODE_REVERT };

struct options {
	enum mode mode;
	long pid;
	const char *package;
	const char *revert_id;
	bool json, verbose, quiet;
	const char **symbols;
	struct hpapply_options engine;
};

static int parse_number(const char *opt, const char *arg, long max, long *out)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (!*arg || *end || v < 0 || v > max) {
		fprintf(stderr, "hpapply: %s takes a number from 0 to %ld, not '%s'\n", opt, max, arg);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "list", no_argument, NULL, 'l' },
		{ "revert", no_argument, NULL, 'r' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "module", required_argument, NULL, 'M' },
		{ "symbols", required_argument, NULL, 'S' },
		{ "allow-seccomp", no_argument, NULL, 'C' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	long v;
	int c, rest;

	o->pid = -1;
	o->engine.timeout_ms = 2000;
	opterr = 0;   /* one line of our own instead of getopt's */
	while ((c = getopt_long(argc, argv, ":p:lrnt:vqhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_number("-p", optarg, 0x3fffffff, &o->pid) < 0)
				return -1;
			break;
		case 'l': o->mode = MODE_LIST; break;
		case 'r': o->mode = MODE_REVERT; break;
		case 'n': o->engine.dry_run = true; break;
		case 't':
			if (parse_number("--timeout", optarg, 3600000, &v) < 0)
				return -1;
			o->engine.timeout_ms = (unsigned)v;
			break;
		case 'M': o->engine.module = optarg; break;
		case 'S':
			o->symbols = xrealloc(o->symbols, (o->engine.nr_symbol_files + 1) * sizeof(char *));
			o->symbols[o->engine.nr_symbol_files++] = optarg;
			o->engine.symbol_files = o->symbols;
			break;
		case 'C': o->engine.allow_seccomp = true; break;
		case 'j': o->json = true; break;
		case 'v': o->verbose = true; break;
		case 'q': o->quiet = true; break;
		case 'h': fputs(usage_text, stdout); exit(HP_EXIT_OK);
		case 'V': printf("hpapply %s\n", HP_VERSION); exit(HP_EXIT_OK);
		case ':':
			fprintf(stderr, "hpapply: %s needs an argument\nTry 'hpapply --help' for more information.\n", argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "hpapply: unknown option '%s'\nTry 'hpapply --help' for more information.\n", argv[optind - 1]);
			return -1;
		}
	}
	rest = argc - optind;
	if (o->pid <= 0) {
		fprintf(stderr, "hpapply: -p PID is required\nTry 'hpapply --help' for more information.\n");
		return -1;
	}
	if (o->mode == MODE_APPLY && rest != 1) {
		fprintf(stderr, "hpapply: expected one PATCH.hpk, or --list, or --revert\nTry 'hpapply --help' for more information.\n");
		return -1;
	}
	if ((o->mode == MODE_REVERT && rest > 1) || (o->mode == MODE_LIST && rest)) {
		fprintf(stderr, "hpapply: unexpected argument '%s'\nTry 'hpapply --help' for more information.\n", argv[argc - 1]);
		return -1;
	}
	if (o->mode == MODE_APPLY)
		o->package = argv[optind];
	if (o->mode == MODE_REVERT && rest == 1)
		o->revert_id = argv[optind];
	return 0;
}

/* ---- text ---- */

static const char *mode_verb(const struct options *o)
{
	return o->mode == MODE_APPLY ? "apply" : o->mode == MODE_REVERT ? "revert" : "list";
}

static void print_func_names(const struct outcome_func *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%s%s", i ? ", " : "", f[i].name);
	printf("\n");
}

static void print_verbose(const struct outcome *out)
{
	for (size_t i = 0; i < out->nr_funcs; i++)
		printf("  %-10s 0x%llx -> 0x%llx (%u bytes)\n", out->funcs[i].name,
		       (unsigned long long)out->funcs[i].addr, (unsigned long long)out->funcs[i].target,
		       out->funcs[i].size);
	if (out->region)
		printf("  memory     0x%llx, %llu bytes\n", (unsigned long long)out->region,
		       (unsigned long long)out->region_size);
	printf("  threads    %zu, stopped %.3f ms in all (longest %.3f ms), %u check%s; %.3f ms in all\n",
	       out->threads, out->stopped_ns / 1e6, out->longest_stop_ns / 1e6, out->attempts,
	       out->attempts == 1 ? "" : "s", out->total_ns / 1e6);
}

static void print_retained(const struct record *r)
{
	for (size_t i = 0; i < r->nr_retained; i++) {
		char id[33];

		hpk_id_to_hex(r->retained[i].id, id);
		printf("retained  %llu bytes of data of package %s (a thread may still point into it; "
		       "a later hpapply run frees it)\n", (unsigned long long)r->retained[i].size, id);
	}
}

static void print_text(const struct options *o, const struct outcome *out)
{
	const char *dry = o->engine.dry_run ? "dry run: " : "";

	if (o->mode == MODE_LIST) {
		const struct record *r = &out->listed;

		if (!r->nr_pkgs) {
			printf("process %ld: no package applied\n", o->pid);
			print_retained(r);
			return;
		}
		printf("process %ld: %zu package%s applied\n", o->pid, r->nr_pkgs, r->nr_pkgs == 1 ? "" : "s");
		for (size_t i = 0; i < r->nr_pkgs; i++) {
			char id[33];

			hpk_id_to_hex(r->pkgs[i].id, id);
			printf("%s  %s  %u function%s:", id, r->pkgs[i].module, r->pkgs[i].nr_funcs,
			       r->pkgs[i].nr_funcs == 1 ? "" : "s");
			for (uint32_t k = 0; k < r->pkgs[i].nr_funcs; k++)
				printf(" %s", r->pkgs[i].funcs[k].name);
			printf("\n");
			if (o->verbose)
				printf("  memory 0x%llx, %llu bytes; built by %s\n",
				       (unsigned long long)r->pkgs[i].region,
				       (unsigned long long)r->pkgs[i].region_size, r->pkgs[i].tool);
		}
		print_retained(r);
		return;
	}
	if (o->mode == MODE_APPLY)
		printf("%s%s package %s to process %ld (%s)\n", dry,
		       o->engine.dry_run ? "can apply" : "applied", out->id, o->pid, out->module);
	else
		printf("%s%s package %s in process %ld (%s)\n", dry,
		       o->engine.dry_run ? "can revert" : "reverted", out->id, o->pid, out->module);
	printf("  %-10s ", o->mode == MODE_APPLY ? "replaced" : "restored");
	print_func_names(out->funcs, out->nr_funcs);
	if (out->retired[0])
		printf("  %-10s %s (%s)\n", "retired", out->retired,
		       o->engine.dry_run ? "would be replaced by this one" : "replaced by this one");
	if (out->data_retained)
		printf("  %-10s the data of package %s stays mapped while a thread may point into it\n",
		       "retained", o->mode == MODE_APPLY ? out->retired : out->id);
	if (o->verbose)
		print_verbose(out);
}

/* ---- JSON ---- */

static void json_hex(struct json *j, const char *key, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)v);
	json_kv_string(j, key, buf);
}

static void json_funcs(struct json *j, const struct outcome_func *f, size_t n)
{
	json_key(j, "functions");
	json_begin_array(j);
	for (size_t i = 0; i < n; i++) {
		json_begin_object(j);
		json_kv_string(j, "name", f[i].name);
		json_kv_string(j, "file", f[i].file && f[i].file[0] ? f[i].file : NULL);
		json_hex(j, "address", f[i].addr);
		if (f[i].target)
			json_hex(j, "target", f[i].target);
		else
			json_kv_string(j, "target", NULL);
		json_kv_uint(j, "size", f[i].size);
		json_end_object(j);
	}
	json_end_array(j);
}

static void json_list(struct json *j, const struct record *r)
{
	json_key(j, "packages");
	json_begin_array(j);
	for (size_t i = 0; i < r->nr_pkgs; i++) {
		const struct rec_pkg *p = &r->pkgs[i];
		char id[33];

		hpk_id_to_hex(p->id, id);
		json_begin_object(j);
		json_kv_string(j, "id", id);
		json_kv_uint(j, "sequence", p->seq);
		json_kv_string(j, "module", p->module);
		json_hex(j, "module_base", p->module_bias);
		json_hex(j, "region", p->region);
		json_kv_uint(j, "region_size", p->region_size);
		json_kv_string(j, "tool", p->tool);
		json_key(j, "functions");
		json_begin_array(j);
		for (uint32_t k = 0; k < p->nr_funcs; k++) {
			json_begin_object(j);
			json_kv_string(j, "name", p->funcs[k].name);
			json_kv_string(j, "file", p->funcs[k].file[0] ? p->funcs[k].file : NULL);
			json_hex(j, "address", p->funcs[k].addr);
			json_hex(j, "target", p->funcs[k].target);
			json_kv_uint(j, "size", p->funcs[k].size);
			json_end_object(j);
		}
		json_end_array(j);
		json_end_object(j);
	}
	json_end_array(j);
	json_key(j, "retained");
	json_begin_array(j);
	for (size_t i = 0; i < r->nr_retained; i++) {
		char id[33];

		hpk_id_to_hex(r->retained[i].id, id);
		json_begin_object(j);
		json_kv_string(j, "package", id);
		json_hex(j, "address", r->retained[i].addr);
		json_kv_uint(j, "size", r->retained[i].size);
		json_end_object(j);
	}
	json_end_array(j);
}

static const char *result_name(const struct options *o, int status)
{
	if (status == HP_EXIT_DIFF)
		return "refused";
	if (status != HP_EXIT_OK)
		return "error";
	if (o->mode == MODE_LIST)
		return "listed";
	if (o->engine.dry_run)
		return "checked";
	return o->mode == MODE_APPLY ? "applied" : "reverted";
}

static void print_json(const struct options *o, const struct outcome *out, int status,
		       const struct hp_err *err)
{
	struct json j;
	char *doc;

	json_init(&j);
	json_begin_object(&j);
	json_kv_string(&j, "format", "hpapply-1");
	json_kv_string(&j, "action", mode_verb(o));
	json_kv_int(&j, "pid", o->pid);
	json_kv_bool(&j, "dry_run", o->engine.dry_run);
	json_kv_string(&j, "result", result_name(o, status));
	json_kv_string(&j, "message", status == HP_EXIT_OK ? NULL : err->msg);
	if (o->mode == MODE_LIST) {
		json_list(&j, &out->listed);
	} else {
		json_kv_string(&j, "package", out->id[0] ? out->id : NULL);
		json_kv_string(&j, "module", out->module);
		if (out->module)
			json_hex(&j, "module_base", out->module_bias);
		else
			json_kv_string(&j, "module_base", NULL);
		json_kv_string(&j, "replaced_package", out->retired[0] ? out->retired : NULL);
		if (out->region)
			json_hex(&j, "region", out->region);
		else
			json_kv_string(&j, "region", NULL);
		json_kv_uint(&j, "region_size", out->region_size);
		json_funcs(&j, out->funcs, out->nr_funcs);
		json_kv_bool(&j, "data_retained", out->data_retained);
		json_kv_string(&j, "warning", out->warning);
		json_kv_uint(&j, "threads", out->threads);
		json_kv_uint(&j, "checks", out->attempts);
		json_kv_uint(&j, "stopped_ns", out->stopped_ns);
		json_kv_uint(&j, "longest_stop_ns", out->longest_stop_ns);
		json_kv_uint(&j, "total_ns", out->total_ns);
	}
	json_end_object(&j);
	doc = json_finish(&j);
	fputs(doc, stdout);
	free(doc);
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct hp_err err = { { 0 } };
	struct outcome out = { 0 };
	struct hpk *p = NULL;
	int status;

	if (parse_args(argc, argv, &o) < 0) {
		free(o.symbols);
		return HP_EXIT_ERROR;
	}
	if (o.mode == MODE_APPLY) {
		p = hpk_read_file(o.package, &err);
		status = p ? hpapply_apply((pid_t)o.pid, p, &o.engine, &out, &err) : HP_EXIT_ERROR;
	} else if (o.mode == MODE_REVERT) {
		status = hpapply_revert((pid_t)o.pid, o.revert_id, &o.engine, &out, &err);
	} else {
		status = hpapply_list((pid_t)o.pid, &o.engine, &out, &err);
	}
	if (status != HP_EXIT_OK)
		fprintf(stderr, "hpapply: %s\n", err.msg[0] ? err.msg : "failed");
	if (out.warning)
		fprintf(stderr, "hpapply: warning: %s\n", out.warning);
	if (o.json)
		print_json(&o, &out, status, &err);
	else if (status == HP_EXIT_OK && !o.quiet)
		print_text(&o, &out);
	outcome_free(&out);
	hpk_free(p);
	free(o.symbols);
	return status;
}
