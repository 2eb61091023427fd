/*
 * main.c - the hpdiff command: compare two builds of one translation unit
 * at the function level.  Text for people, --json (format "hpdiff-1") for
 * scripts; exit 0 no differences, 1 differences, 2 error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "json.h"

static const char usage_text[] =
	"usage: hpdiff [OPTIONS] OLD.o NEW.o\n"
	"Compare two builds of one translation unit function by function.\n"
	"\n"
	"  -a, --all       also list unchanged functions and data objects\n"
	"      --json      print a JSON document (format \"hpdiff-1\")\n"
	"  -q, --quiet     print nothing; report through the exit status only\n"
	"  -h, --help      print this help and exit\n"
	"  -V, --version   print the version and exit\n"
	"\n"
	"Exit status: 0 no differences, 1 differences, 2 error.\n";

struct options {
	bool all, json, quiet;
	const char *old_path, *new_path;
};

static void print_text(const struct hp_diff *d, FILE *out)
{
	for (size_t i = 0; i < d->nr_notes; i++)
		fprintf(out, "note: %s\n", d->notes[i]);
	for (size_t i = 0; i < d->nr_changes; i++) {
		const struct hp_change *c = &d->changes[i];

		fprintf(out, "%s %s %s", status_name(c->status), c->is_func ? "function" : "object", c->name);
		if (c->file)
			fprintf(out, " (%s:%u)", c->file, c->line);
		for (size_t k = 0; k < c->nr_reasons; k++)
			fprintf(out, "%s%s", k ? "; " : ": ", c->reasons[k]);
		fputc('\n', out);
	}
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

static void print_json(const struct hp_diff *d, const struct options *o, FILE *out)
{
	struct json j;
	char *doc;

	json_init(&j);
	json_begin_object(&j);
	json_kv_string(&j, "format", "hpdiff-1");
	json_kv_string(&j, "old", o->old_path);
	json_kv_string(&j, "new", o->new_path);
	json_key(&j, "notes");
	json_begin_array(&j);
	for (size_t i = 0; i < d->nr_notes; i++)
		json_string(&j, d->notes[i]);
	json_end_array(&j);
	for (int pass = 0; pass < 2; pass++) {
		json_key(&j, pass ? "objects" : "functions");
		json_begin_array(&j);
		for (size_t i = 0; i < d->nr_changes; i++)
			if (d->changes[i].is_func == !pass)
				json_change(&j, &d->changes[i]);
		json_end_array(&j);
	}
	json_end_object(&j);
	doc = json_finish(&j);
	fputs(doc, out);
	free(doc);
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
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

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct hp_err err = { { 0 } };
	struct hp_elf *old, *new;
	struct hp_diff d;
	size_t n;

	if (parse_args(argc, argv, &o) < 0)
		return HP_EXIT_ERROR;
	if (diff_load_pair(o.old_path, o.new_path, &old, &new, &err) < 0) {
		fprintf(stderr, "hpdiff: %s\n", err.msg);
		return HP_EXIT_ERROR;
	}
	diff_objects(old, new, o.all, &d);
	n = diff_count(&d);
	if (o.json)
		print_json(&d, &o, stdout);
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
