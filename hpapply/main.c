/*
 * main.c - the hpapply command: apply a hotpatch package to a running
 * process, list what is applied, revert a package, repair what a run that
 * did not finish left.  Exit 0 done, 1 refused
 * (a check failed; the process is untouched), 2 error.
 *
 * The package is read and checked completely (hpk_read_file), and its
 * pinned id (--expect-id) and signature (--key, --keys, or the system key
 * directory) checked, before the process is looked at: a corrupt, hostile
 * or unsigned package never touches it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hpk.h"
#include "json.h"
#include "pkgsig.h"
#include "session.h"

/* The system's trusted keys: when this directory exists, hpapply applies
 * only packages signed by one of its NAME.pub keys.  HOTPATCH_KEYS_DIR
 * names another directory instead (tests, installations elsewhere). */
#define SYSTEM_KEYS_DIR "/etc/hotpatch/keys"
#define KEYS_DIR_ENV "HOTPATCH_KEYS_DIR"
/* Where distributions install debug files by build-id. */
#define DEFAULT_DEBUG_DIR "/usr/lib/debug"

static const char usage_text[] =
	"usage: hpapply -p PID [OPTIONS] PATCH.hpk\n"
	"       hpapply -p PID --list [--json]\n"
	"       hpapply -p PID --revert [ID] [OPTIONS]\n"
	"       hpapply -p PID --repair [OPTIONS]\n"
	"Apply a hotpatch package to a running process, list the packages applied\n"
	"to it, or take one back.  The process needs no cooperation: hpapply\n"
	"attaches with ptrace, stops every thread while it changes code, and\n"
	"lets them go.\n"
	"\n"
	"  -p, --pid PID          the process (required)\n"
	"  -l, --list             list the packages applied to the process\n"
	"  -r, --revert [ID]      revert the package whose id starts with ID\n"
	"                         (default: the one applied last)\n"
	"      --repair           finish what an hpapply that did not finish left:\n"
	"                         roll back a pending apply, complete a revert\n"
	"  -n, --dry-run          do every check (the threads are stopped for the\n"
	"                         stack check), change nothing\n"
	"  -t, --timeout MS       wait up to MS milliseconds for a moment when no\n"
	"                         thread is in the code being changed (default 2000)\n"
	"      --module FILE      patch only the mapped file FILE (path or file name)\n"
	"      --symbols FILE     an unstripped copy or debug file of a stripped\n"
	"                         module, matched by build id; repeatable\n"
	"      --debug-dir DIR    look for a stripped module's debug file as\n"
	"                         DIR/.build-id/XX/YYYY.debug (default\n"
	"                         " DEFAULT_DEBUG_DIR ")\n"
	"  -k, --key PUBKEY       apply only a package signed (PATCH.hpk.minisig) by\n"
	"                         the minisign public key PUBKEY; repeatable\n"
	"      --keys DIR         the same with every DIR/NAME.pub (default, when\n"
	"                         it exists: " SYSTEM_KEYS_DIR ", or $" KEYS_DIR_ENV ")\n"
	"      --expect-id ID     apply only the package with this id (32 hex\n"
	"                         digits) or digest (64)\n"
	"      --allow-seccomp    patch a process that runs under a seccomp filter\n"
	"                         (the filter must allow mmap, mprotect, munmap,\n"
	"                         memfd_create, ftruncate, close and getpid)\n"
	"      --json             print the result as JSON (format \"hpapply-1\")\n"
	"  -v, --verbose          also print addresses and how long threads stopped\n"
	"  -q, --quiet            print nothing on success\n"
	"  -h, --help             print this help and exit\n"
	"  -V, --version          print the version and exit\n"
	"\n"
	"If hpapply is killed, the process runs on; a later --list shows what\n"
	"was left half done and --repair finishes it.\n"
	"\n"
	"Exit status: 0 done, 1 refused (a check failed, including a missing or\n"
	"bad signature or another id; the process is as it was), 2 error\n"
	"(including an unreadable key; also: another hpapply is working on the\n"
	"process, or a package is left pending or reverting: run --repair).\n";

enum mode { MODE_APPLY, MODE_LIST, MODE_REVERT, MODE_REPAIR };

struct options {
	enum mode mode;
	long pid;
	const char *package;
	const char *revert_id;
	bool json, verbose, quiet;
	const char **symbols;
	const char **keys;       /* --key */
	size_t nr_keys;
	const char *keys_dir;    /* --keys */
	const char *expect_id;
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
		{ "repair", no_argument, NULL, 'R' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "module", required_argument, NULL, 'M' },
		{ "symbols", required_argument, NULL, 'S' },
		{ "debug-dir", required_argument, NULL, 'D' },
		{ "allow-seccomp", no_argument, NULL, 'C' },
		{ "key", required_argument, NULL, 'k' },
		{ "keys", required_argument, NULL, 'K' },
		{ "expect-id", required_argument, NULL, 'E' },
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
	o->engine.debug_dir = DEFAULT_DEBUG_DIR;
	o->engine.timeout_ms = 2000;
	opterr = 0;   /* one line of our own instead of getopt's */
	while ((c = getopt_long(argc, argv, ":p:lrnt:k:vqhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_number("-p", optarg, 0x3fffffff, &o->pid) < 0)
				return -1;
			break;
		case 'l': o->mode = MODE_LIST; break;
		case 'r': o->mode = MODE_REVERT; break;
		case 'R': o->mode = MODE_REPAIR; break;
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
		case 'D': o->engine.debug_dir = optarg; break;
		case 'C': o->engine.allow_seccomp = true; break;
		case 'k':
			o->keys = xrealloc(o->keys, (o->nr_keys + 1) * sizeof(char *));
			o->keys[o->nr_keys++] = optarg;
			break;
		case 'K': o->keys_dir = optarg; break;
		case 'E': o->expect_id = optarg; break;
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
	if ((o->mode == MODE_REVERT && rest > 1) || ((o->mode == MODE_LIST || o->mode == MODE_REPAIR) && rest)) {
		fprintf(stderr, "hpapply: unexpected argument '%s'\nTry 'hpapply --help' for more information.\n", argv[argc - 1]);
		return -1;
	}
	if (o->mode != MODE_APPLY && (o->nr_keys || o->keys_dir || o->expect_id)) {
		fprintf(stderr, "hpapply: --key, --keys and --expect-id check a package to apply (see hpapply --help)\n");
		return -1;
	}
	if (o->mode == MODE_APPLY)
		o->package = argv[optind];
	if (o->mode == MODE_REVERT && rest == 1)
		o->revert_id = argv[optind];
	return 0;
}

/* ---- trust ---- */

/* Without keys hpapply behaves as it always did, but says so, once, when
 * it applied (or, --dry-run, could apply) the package. */
static void note_unchecked(const struct options *o)
{
	char *sig = xasprintf("%s%s", o->package, PKGSIG_SUFFIX);

	if (access(sig, F_OK) == 0)
		fprintf(stderr, "hpapply: note: %s is signed, but no key is configured (--key, --keys, %s): "
			"its signature is not checked\n", o->package, SYSTEM_KEYS_DIR);
	else
		fprintf(stderr, "hpapply: note: %s is unsigned (no %s); no key is configured, so it is applied unchecked\n",
			o->package, sig);
	free(sig);
}

/* --keys, or else the system directory when it exists. */
static const char *keys_dir(const struct options *o)
{
	const char *dir = getenv(KEYS_DIR_ENV);

	if (o->keys_dir || o->nr_keys)
		return o->keys_dir;
	dir = dir && *dir ? dir : SYSTEM_KEYS_DIR;
	return access(dir, F_OK) == 0 ? dir : NULL;
}

/*
 * The trust policy, before the process is looked at: the pinned id, then
 * the signature when keys are configured.  HP_EXIT_OK (signer says who
 * signed, "" when no key is configured: the caller says so once the
 * package is applied), HP_EXIT_DIFF (refused) or HP_EXIT_ERROR (a key
 * cannot be read).
 */
static int check_trust(const struct options *o, const struct hpk *p, char signer[17], struct hp_err *err)
{
	struct keyring kr = { 0 };
	struct pkgsig_result r;
	const char *dir = keys_dir(o);
	int status = HP_EXIT_OK;

	signer[0] = '\0';
	if (o->expect_id && hpk_expect_id(p, o->package, o->expect_id, err) < 0)
		return HP_EXIT_DIFF;
	if (!o->nr_keys && !dir)
		return HP_EXIT_OK;
	for (size_t i = 0; i < o->nr_keys && status == HP_EXIT_OK; i++)
		if (keyring_add_file(&kr, o->keys[i], err) < 0)
			status = HP_EXIT_ERROR;
	if (status == HP_EXIT_OK && dir && keyring_add_dir(&kr, dir, err) < 0)
		status = HP_EXIT_ERROR;
	if (status == HP_EXIT_OK) {
		if (pkgsig_check(o->package, p, &kr, &r, err) < 0)
			status = HP_EXIT_DIFF;
		else
			memcpy(signer, r.key_id, 17);
		pkgsig_result_free(&r);
	}
	keyring_free(&kr);
	return status;
}

/* ---- text ---- */

static const char *mode_verb(const struct options *o)
{
	return o->mode == MODE_APPLY ? "apply" : o->mode == MODE_REVERT ? "revert" :
	       o->mode == MODE_REPAIR ? "repair" : "list";
}

static void print_func_names(const struct outcome_func *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%s%s", i ? ", " : "", f[i].name);
	printf("\n");
}

/* The stacks the last check did not unwind to the end, and what it did. */
static void print_unwind_notes(FILE *f, const char *notes)
{
	for (const char *p = notes; p && *p;) {
		size_t len = strcspn(p, "\n");

		fprintf(f, "  stack      %.*s\n", (int)len, p);
		p += len + (p[len] == '\n');
	}
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
	print_unwind_notes(stdout, out->unwind_notes);
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

	if (o->mode == MODE_REPAIR) {
		if (!out->repaired)
			printf("%sprocess %ld: nothing to repair\n", dry, o->pid);
		else
			printf("%sprocess %ld: %s %u package entr%s (%u rolled back, %u completed)\n", dry, o->pid,
			       o->engine.dry_run ? "can repair" : "repaired", out->repaired,
			       out->repaired == 1 ? "y" : "ies", out->rolled_back, out->repaired - out->rolled_back);
		return;
	}
	if (o->mode == MODE_LIST) {
		const struct record *r = &out->listed;

		if (out->busy_pid)
			printf("process %ld: hpapply (pid %d) is working on it now\n", o->pid, out->busy_pid);
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
			if (rec_pkg_unfinished(&r->pkgs[i]))
				printf("  [%s: left by hpapply pid %u%s]", rec_state_name(r->pkgs[i].state),
				       r->pkgs[i].pid, out->busy_pid ? "" : "; run hpapply --repair");
			printf("\n");
			printf("  signer   %s\n", r->pkgs[i].signer && r->pkgs[i].signer[0] ? r->pkgs[i].signer
				: "none (applied without a signature check)");
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
	if (o->mode == MODE_APPLY && o->engine.signer && o->engine.signer[0])
		printf("  %-10s key %s\n", "signed by", o->engine.signer);
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
		json_kv_string(j, "state", rec_state_name(p->state));
		json_kv_uint(j, "sequence", p->seq);
		json_kv_string(j, "module", p->module);
		json_hex(j, "module_base", p->module_bias);
		json_hex(j, "region", p->region);
		json_kv_uint(j, "region_size", p->region_size);
		json_kv_string(j, "tool", p->tool);
		json_kv_string(j, "signer", p->signer && p->signer[0] ? p->signer : NULL);
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

/* One string per line of notes. */
static void json_unwind_notes(struct json *j, const char *notes)
{
	json_key(j, "unwind_fallbacks");
	json_begin_array(j);
	for (const char *p = notes; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *line = xstrndup(p, len);

		json_string(j, line);
		free(line);
		p += len + (nl != NULL);
	}
	json_end_array(j);
}

static const char *out_repaired_name(const struct outcome *out)
{
	return out->repaired ? "repaired" : "nothing";
}

static const char *result_name(const struct options *o, const struct outcome *out, int status)
{
	if (status == HP_EXIT_DIFF)
		return "refused";
	if (status != HP_EXIT_OK)
		return "error";
	if (o->mode == MODE_LIST)
		return "listed";
	if (o->mode == MODE_REPAIR)
		return o->engine.dry_run ? "checked" : out_repaired_name(out);
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
	json_kv_string(&j, "result", result_name(o, out, status));
	json_kv_string(&j, "message", status == HP_EXIT_OK ? NULL : err->msg);
	if (o->mode == MODE_LIST) {
		json_kv_int(&j, "busy_pid", out->busy_pid);
		json_list(&j, &out->listed);
	} else if (o->mode == MODE_REPAIR) {
		json_kv_uint(&j, "repaired", out->repaired);
		json_kv_uint(&j, "rolled_back", out->rolled_back);
		json_kv_uint(&j, "threads", out->threads);
		json_kv_uint(&j, "stopped_ns", out->stopped_ns);
		json_kv_uint(&j, "longest_stop_ns", out->longest_stop_ns);
		json_kv_uint(&j, "total_ns", out->total_ns);
	} else {
		json_kv_string(&j, "package", out->id[0] ? out->id : NULL);
		if (o->mode == MODE_APPLY)
			json_kv_string(&j, "signer", o->engine.signer && o->engine.signer[0] ? o->engine.signer : NULL);
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
		json_unwind_notes(&j, out->unwind_notes);
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
	char signer[17] = "";
	int status;

	if (parse_args(argc, argv, &o) < 0) {
		free(o.symbols);
		free(o.keys);
		return HP_EXIT_ERROR;
	}
	if (o.mode == MODE_APPLY) {
		p = hpk_read_file(o.package, &err);
		status = p ? check_trust(&o, p, signer, &err) : HP_EXIT_ERROR;
		o.engine.signer = signer;
		if (status == HP_EXIT_OK)
			status = hpapply_apply((pid_t)o.pid, p, &o.engine, &out, &err);
		/* one line for a refusal; the note only for what was applied */
		if (status == HP_EXIT_OK && !signer[0] && !o.quiet)
			note_unchecked(&o);
	} else if (o.mode == MODE_REVERT) {
		status = hpapply_revert((pid_t)o.pid, o.revert_id, &o.engine, &out, &err);
	} else if (o.mode == MODE_REPAIR) {
		status = hpapply_repair((pid_t)o.pid, &o.engine, &out, &err);
	} else {
		status = hpapply_list((pid_t)o.pid, &o.engine, &out, &err);
	}
	if (status != HP_EXIT_OK)
		fprintf(stderr, "hpapply: %s\n", err.msg[0] ? err.msg : "failed");
	if (status == HP_EXIT_DIFF && o.verbose && !o.json)
		print_unwind_notes(stderr, out.unwind_notes);
	if (out.warning)
		fprintf(stderr, "hpapply: warning: %s\n", out.warning);
	if (o.json)
		print_json(&o, &out, status, &err);
	else if (status == HP_EXIT_OK && !o.quiet)
		print_text(&o, &out);
	outcome_free(&out);
	hpk_free(p);
	free(o.symbols);
	free(o.keys);
	return status;
}
