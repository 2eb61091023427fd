/*
 * main.c - the hpdiff command: compare two builds of one translation unit
 * at the function level, or two build trees or archives pair by pair
 * (paired as hpbuild pairs them, lib/inputs.c).  Text for people, --json
 * (format "hpdiff-1") for scripts, --stat for the tree-level summary;
 * exit 0 no differences, 1 differences, 2 error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "inputs.h"
#include "json.h"
#include "stat.h"

static const char usage_text[] =
	"usage: hpdiff [OPTIONS] OLD NEW\n"
	"Compare two builds of one translation unit function by function.\n"
	"OLD and NEW are two object files, two static archives (members paired\n"
	"by name) or two directories (objects paired by relative path).\n"
	"\n"
	"  -a, --all       also list unchanged functions and data objects\n"
	"      --stat      print only the summary: objects compared, which\n"
	"                  changed, and the functions changed in each\n"
	"      --json      print a JSON document (format \"hpdiff-1\")\n"
	"  -q, --quiet     print nothing; report through the exit status only\n"
	"  -h, --help      print this help and exit\n"
	"  -V, --version   print the version and exit\n"
	"\n"
	"Exit status: 0 no differences, 1 differences, 2 error.\n";

struct options {
	bool all, json, quiet, stat;
	const char *old_path, *new_path;
};

static void print_change(const struct hp_change *c, FILE *out)
{
	fprintf(out, "%s %s %s", status_name(c->status), c->is_func ? "function" : "object", c->name);
	if (c->file)
		fprintf(out, " (%s:%u)", c->file, c->line);
	for (size_t k = 0; k < c->nr_reasons; k++)
		fprintf(out, "%s%s", k ? "; " : ": ", c->reasons[k]);
	fputc('\n', out);
}

static void print_text(const struct hp_diff *d, FILE *out)
{
	for (size_t i = 0; i < d->nr_notes; i++)
		fprintf(out, "note: %s\n", d->notes[i]);
	for (size_t i = 0; i < d->nr_changes; i++)
		print_change(&d->changes[i], out);
}

static void json_reasons(struct json *j, const struct hp_change *c)
{
	json_key(j, "reasons");
	json_begin_array(j);
	for (size_t k = 0; k < c->nr_reasons; k++)
		json_string(j, c->reasons[k]);
	json_end_array(j);
}

static void json_change(struct json *j, const struct hp_change *c)
{
	json_begin_object(j);
	json_kv_string(j, "name", c->name);
	json_kv_string(j, "status", status_name(c->status));
	json_kv_string(j, "file", c->file);
	if (c->file)
		json_kv_uint(j, "line", c->line);
	else {
		json_key(j, "line");
		json_null(j);
	}
	if (!c->is_func) {
		const struct hp_symbol *s = c->new ? c->new : c->old;
		json_kv_string(j, "section", section_kind(s->sec));
		json_key(j, "old_size");
		if (c->old)
			json_uint(j, c->old->size);
		else
			json_null(j);
		json_key(j, "new_size");
		if (c->new)
			json_uint(j, c->new->size);
		else
			json_null(j);
	} else {
		json_kv_bool(j, "line_numbers_only", c->line_only);
	}
	json_reasons(j, c);
	json_end_object(j);
}

/* "notes", "functions" and "objects" of one diff, as keys of the object
 * being written. */
static void json_diff(struct json *j, const struct hp_diff *d)
{
	json_key(j, "notes");
	json_begin_array(j);
	for (size_t i = 0; i < d->nr_notes; i++)
		json_string(j, d->notes[i]);
	json_end_array(j);
	for (int pass = 0; pass < 2; pass++) {
		json_key(j, pass ? "objects" : "functions");
		json_begin_array(j);
		for (size_t i = 0; i < d->nr_changes; i++)
			if (d->changes[i].is_func == !pass)
				json_change(j, &d->changes[i]);
		json_end_array(j);
	}
}

/* The changes of one pair into the summary: changed, added and removed
 * functions by name; data objects counted. */
static void stat_add_diff(struct tree_stat *t, const char *name, const struct hp_diff *d)
{
	struct stat_object *o;

	if (!diff_count(d))
		return;
	o = stat_object(t, name);
	for (size_t i = 0; i < d->nr_changes; i++) {
		const struct hp_change *c = &d->changes[i];
		if (c->status == HP_UNCHANGED)
			continue;
		if (c->is_func)
			stat_add_func(o, c->name);
		else
			o->nr_data++;
	}
}

static void print_json(const struct hp_diff *d, const struct options *o, FILE *out)
{
	struct json j;
	char *doc;

	json_init(&j);
	json_begin_object(&j);
	json_kv_string(&j, "format", "hpdiff-1");
	json_kv_string(&j, "old", o->old_path);
	json_kv_string(&j, "new", o->new_path);
	json_diff(&j, d);
	json_end_object(&j);
	doc = json_finish(&j);
	fputs(doc, out);
	free(doc);
}

/* --stat on one pair: the object named after NEW. */
static void print_stat(const struct hp_diff *d, const struct options *o)
{
	struct tree_stat t = { .compared = 1 };
	char *line;

	stat_add_diff(&t, path_tail(o->new_path), d);
	line = stat_line(&t);
	printf("%s\n", line);
	free(line);
	stat_free(&t);
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "stat", no_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	/* getopt names the program by argv[0]: "hpdiff", not "build/hpdiff" */
	argv[0] = (char *)"hpdiff";
	while ((c = getopt_long(argc, argv, "aqhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': o->all = true; break;
		case 's': o->stat = true; break;
		case 'j': o->json = true; break;
		case 'q': o->quiet = true; break;
		case 'h': fputs(usage_text, stdout); exit(HP_EXIT_OK);
		case 'V': printf("hpdiff %s\n", HP_VERSION); exit(HP_EXIT_OK);
		default: fputs("Try 'hpdiff --help' for more information.\n", stderr); return -1;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "hpdiff: expected OLD and NEW, got %d argument%s\nTry 'hpdiff --help' for more information.\n",
			argc - optind, argc - optind == 1 ? "" : "s");
		return -1;
	}
	o->old_path = argv[optind];
	o->new_path = argv[optind + 1];
	return 0;
}

/* One pair of object images from collect_inputs(), compared; its lines
 * into the text or JSON output, prefixed by the pair's name.  The number
 * of differences, or -1 with err set. */
static long diff_tree_pair(const struct input_pair *ip, const struct options *o, struct json *j,
			   struct tree_stat *t, struct hp_err *err)
{
	struct load_input a = { ip->old.label, ip->old.data, ip->old.size, true, ip->old.mapped };
	struct load_input b = { ip->new.label, ip->new.data, ip->new.size, true, ip->new.mapped };
	struct hp_elf *old, *new;
	struct hp_diff d;
	size_t n;

	if (!ip->old.data || !ip->new.data) {
		stat_one_sided(t, ip->name, ip->old.data != NULL);
		if (!o->json && !o->quiet && !o->stat)
			printf("note: %s: only in %s\n", ip->old.data ? ip->old.label : ip->new.label,
			       ip->old.data ? "OLD" : "NEW");
		return 1;
	}
	t->compared++;
	if (diff_load_two(&a, &b, &old, &new, err) < 0)
		return -1;
	diff_objects(old, new, o->all, &d);
	n = diff_count(&d);
	stat_add_diff(t, ip->name, &d);
	/* an unchanged pair says nothing, not even that it has no DWARF */
	if (o->json && (n || o->all)) {
		json_begin_object(j);
		json_kv_string(j, "name", ip->name);
		json_diff(j, &d);
		json_end_object(j);
	} else if (!o->json && !o->quiet && !o->stat && (n || o->all)) {
		for (size_t i = 0; i < d.nr_notes; i++)
			printf("note: %s\n", d.notes[i]);
		for (size_t i = 0; i < d.nr_changes; i++) {
			printf("%s: ", ip->name);
			print_change(&d.changes[i], stdout);
		}
	}
	diff_free(&d);
	elf_close(old);
	elf_close(new);
	return (long)n;
}

/* hpdiff on two trees or archives. */
static int diff_trees(const struct options *o)
{
	struct hp_err err = { { 0 } };
	struct input_set in;
	struct tree_stat t = { 0 };
	struct json j;
	size_t total = 0;
	int status = HP_EXIT_ERROR;

	if (collect_inputs(o->old_path, o->new_path, &in, &err) < 0) {
		fprintf(stderr, "hpdiff: %s\n", err.msg);
		return HP_EXIT_ERROR;
	}
	json_init(&j);
	json_begin_object(&j);
	json_kv_string(&j, "format", "hpdiff-1");
	json_kv_string(&j, "old", o->old_path);
	json_kv_string(&j, "new", o->new_path);
	json_key(&j, "pairs");
	json_begin_array(&j);
	for (size_t i = 0; i < in.nr_pairs; i++) {
		long n = diff_tree_pair(&in.pairs[i], o, &j, &t, &err);
		if (n < 0) {
			fprintf(stderr, "hpdiff: %s\n", err.msg);
			goto done;
		}
		total += (size_t)n;
	}
	json_end_array(&j);
	stat_json(&j, &t);
	json_end_object(&j);
	if (o->json) {
		char *doc = json_finish(&j);
		fputs(doc, stdout);
		free(doc);
		json_init(&j);
	} else if (o->stat && !o->quiet) {
		char *line = stat_line(&t);
		printf("%s\n", line);
		free(line);
	}
	status = total ? HP_EXIT_DIFF : HP_EXIT_OK;
done:
	free(json_finish(&j));
	stat_free(&t);
	free_inputs(&in);
	return status;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct hp_err err = { { 0 } };
	struct hp_elf *old, *new;
	struct hp_diff d;
	size_t n;

	if (parse_args(argc, argv, &o) < 0)
		return HP_EXIT_ERROR;
	if (is_tree_input(o.old_path) || is_tree_input(o.new_path)) {
		int status = diff_trees(&o);
		if (fflush(stdout) != 0 || ferror(stdout)) {
			fprintf(stderr, "hpdiff: error writing output\n");
			return HP_EXIT_ERROR;
		}
		return status;
	}
	if (diff_load_pair(o.old_path, o.new_path, &old, &new, &err) < 0) {
		fprintf(stderr, "hpdiff: %s\n", err.msg);
		return HP_EXIT_ERROR;
	}
	diff_objects(old, new, o.all, &d);
	n = diff_count(&d);
	if (o.json)
		print_json(&d, &o, stdout);
	else if (o.stat && !o.quiet)
		print_stat(&d, &o);
	else if (!o.quiet)
		print_text(&d, stdout);
	diff_free(&d);
	elf_close(old);
	elf_close(new);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "hpdiff: error writing output\n");
		return HP_EXIT_ERROR;
	}
	return n ? HP_EXIT_DIFF : HP_EXIT_OK;
}
