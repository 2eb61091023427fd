/*
 * review.c - the review view (hpverify --audit --base OLD) and the check
 * of a package against the NEW build (hpverify --new NEW); see review.h.
 *
 * The old code is shown the way the package's code is: the OLD object's
 * function is put into a one-function package of its own (old_package()),
 * whose relocations name what the object's name (a string literal by its
 * text, a static by its name), and disassembled by disasm.c like the new
 * code.  The two listings are then compared line by line (longest common
 * subsequence) and printed as a unified diff with three lines of context;
 * the instruction text is what is compared, so a shifted offset is not a
 * difference.
 */
#include "review.h"

#include <elf.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "disasm.h"
#include "dwarf.h"
#include "inputs.h"
#include "reloc.h"
#include "verify.h"

/* ---- the old function as a package of one ---- */

/* Where a relocation of the old code points inside its section: the
 * addend, plus the field's width for a PC-relative one (the CPU adds the
 * displacement to the end of the field for the usual rip-relative forms). */
static int64_t section_offset(const struct hp_reloc *r)
{
	const struct hp_reloc_info *ri = reloc_info(r->type);

	return r->addend + (ri && ri->pcrel ? (int64_t)ri->width : 0);
}

/* The package symbol a relocation of the old code names: a string literal
 * or merged constant as data (so it reads as "text" or its value), a
 * section + offset as the symbol defined there, anything else by name.
 * Sets pr->sym and adjusts pr->addend to be relative to that symbol. */
static void old_target(struct hpk *p, const struct hp_reloc *r, struct hpk_reloc *pr)
{
	const struct hp_symbol *t = r->sym;
	struct hpk_symbol *ps = &p->syms[p->nr_syms];
	int64_t at = section_offset(r);

	pr->sym = p->nr_syms++;
	ps->where = HPK_SYM_EXTERN;
	ps->name = t ? t->name : "?";
	if (!t || t->type != STT_SECTION || !t->sec)
		return;
	ps->name = t->sec->name;
	if (at < 0 || (uint64_t)at >= t->sec->size)
		return;
	if ((is_string_sec(t->sec) || is_const_pool_sec(t->sec)) && t->sec->data) {
		struct hpk_data *d = &p->data[p->nr_data];
		uint64_t left = t->sec->size - (uint64_t)at;
		uint64_t n = is_string_sec(t->sec) ? strnlen((const char *)t->sec->data + at, left) + 1
			: t->sec->entsize ? t->sec->entsize : 8;

		d->name = is_string_sec(t->sec) ? ".str.0" : ".const.0";
		d->kind = HPK_DATA_RODATA;
		d->bytes = t->sec->data + at;
		d->size = (uint32_t)(n < left ? n : left);
		ps->where = HPK_SYM_DATA;
		ps->index = p->nr_data++;
		pr->addend -= at;
		return;
	}
	t = find_symbol_containing(t->sec, (uint64_t)at);
	if (t) {
		ps->name = t->name;
		pr->addend -= (int64_t)t->value;
	}
}

/* A package holding old function s of e (pointing into e: free it with
 * hpk_free() before closing e). */
static struct hpk *old_package(const struct hp_symbol *s)
{
	struct hpk *p = xcalloc(1, sizeof(*p));
	struct hpk_func *f;
	size_t n = s->nr_relocs + 1;

	p->funcs = xcalloc(1, sizeof(*p->funcs));
	p->nr_funcs = 1;
	p->syms = xcalloc(n, sizeof(*p->syms));
	p->data = xcalloc(n, sizeof(*p->data));
	f = &p->funcs[0];
	f->name = s->name;
	f->kind = HPK_FUNC_REPLACE;
	f->code = sym_data(s);
	f->code_size = f->code ? (uint32_t)s->size : 0;
	f->relocs = xcalloc(n, sizeof(*f->relocs));
	sym_for_each_reloc(s, r) {
		struct hpk_reloc *pr = &f->relocs[f->nr_relocs++];

		pr->offset = (uint32_t)(r->offset - s->value);
		pr->type = r->type;
		pr->addend = r->addend;
		old_target(p, r, pr);
	}
	return p;
}

/* ---- listings and their diff ---- */

struct listing {
	char **line;     /* instruction text with its access mark */
	size_t n;
};

static void listing_of(struct disasm *d, const struct hpk *p, uint32_t fi, struct listing *out)
{
	struct dis_listing l;

	disasm_function(d, p, fi, &l);
	out->n = l.n;
	out->line = xcalloc(l.n ? l.n : 1, sizeof(*out->line));
	for (size_t i = 0; i < l.n; i++)
		out->line[i] = l.v[i].access ? xasprintf("%-48s # %s", l.v[i].text, l.v[i].access)
					     : xstrdup(l.v[i].text);
	dis_listing_free(&l);
}

static void listing_free(struct listing *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->line[i]);
	free(l->line);
}

enum { CONTEXT = 3, MAX_CELLS = 16 << 20 };

/* op[k]: ' ' both, '-' old only, '+' new only, in order (LCS). */
static char *edit_script(const struct listing *a, const struct listing *b, size_t *len)
{
	size_t n = a->n, m = b->n, k = 0, i = 0, j = 0;
	uint32_t *t = xcalloc((n + 1) * (m + 1), sizeof(*t));
	char *op = xmalloc(n + m + 1);

#define T(x, y) t[(x) * (m + 1) + (y)]
	for (size_t x = n; x-- > 0;)
		for (size_t y = m; y-- > 0;)
			T(x, y) = !strcmp(a->line[x], b->line[y]) ? T(x + 1, y + 1) + 1
				: T(x + 1, y) > T(x, y + 1) ? T(x + 1, y) : T(x, y + 1);
	while (i < n || j < m) {
		if (i < n && j < m && !strcmp(a->line[i], b->line[j])) {
			op[k++] = ' ';
			i++, j++;
		} else if (i < n && (j == m || T(i + 1, j) >= T(i, j + 1))) {
			op[k++] = '-';
			i++;
		} else {
			op[k++] = '+';
			j++;
		}
	}
#undef T
	free(t);
	*len = k;
	return op;
}

/* Hunks of three lines of context, as diff -u prints them. */
static void print_hunks(FILE *out, const struct listing *a, const struct listing *b, const char *op,
			size_t len)
{
	size_t k = 0;

	while (k < len) {
		size_t start, end, ai = 0, bi = 0, an = 0, bn = 0, last;

		while (k < len && op[k] == ' ')
			k++;
		if (k == len)
			break;
		start = k > CONTEXT ? k - CONTEXT : 0;
		last = k;
		for (end = k; end < len; end++) {
			if (op[end] != ' ')
				last = end;
			else if (end - last > 2 * CONTEXT)
				break;
		}
		end = last + CONTEXT + 1 < len ? last + CONTEXT + 1 : len;
		for (size_t x = 0; x < start; x++) {
			ai += op[x] != '+';
			bi += op[x] != '-';
		}
		for (size_t x = start; x < end; x++) {
			an += op[x] != '+';
			bn += op[x] != '-';
		}
		fprintf(out, "@@ -%zu,%zu +%zu,%zu @@\n", ai + 1, an, bi + 1, bn);
		for (size_t x = start; x < end; x++) {
			const char *text = op[x] == '+' ? b->line[bi] : a->line[ai];

			fprintf(out, "%c %s\n", op[x], text);
			ai += op[x] != '+';
			bi += op[x] != '-';
		}
		k = end;
	}
}

static void source_of(FILE *out, const char *label, const char *file, unsigned line)
{
	if (file && line)
		fprintf(out, "  %-9s%s:%u\n", label, file, line);
	else
		fprintf(out, "  %-9s%s\n", label, file ? file : "(unknown: no DWARF)");
}

/* One replaced function: where it is, the redirect, the diff. */
static void review_function(FILE *out, struct disasm *d, const struct hpk *p, uint32_t fi,
			    const struct base_obj *objs, size_t nobjs)
{
	const struct hpk_func *f = &p->funcs[fi];
	size_t which;
	bool matches;
	uint64_t hash;
	const struct hp_symbol *o = base_find_function(p, fi, objs, nobjs, &which, &matches, &hash);
	struct listing a = { 0 }, b = { 0 };
	struct hpk *op;
	char *script;
	size_t len;

	fprintf(out, "\nfunction %s  (replaced, %s)\n", f->name ? f->name : "?", audit_bind_name(f->bind));
	source_of(out, "new", f->file, f->line);
	if (!o) {
		fprintf(out, "  old      not found in the base: the package was not built for it\n");
		return;
	}
	{
		/* the base is not diffed, so its symbols carry no DWARF facts: ask */
		const struct hp_dwarf_func *df = objs[which].elf->dwarf ?
			dwarf_find_func(objs[which].elf->dwarf, o->name) : NULL;
		source_of(out, "old", df ? df->file : o->file, df ? df->line : o->line);
	}
	fprintf(out, "  redirect hpapply writes \"jmp <package's %s>\" (e9 + 32-bit displacement, 5 bytes) over "
		"the entry of the running %s (%" PRIu64 " bytes, %s%s), after checking its fingerprint; "
		"--revert writes the 5 old bytes back\n", f->name, f->name, o->size,
		matches ? "fingerprint matches " : "FINGERPRINT DIFFERS from ", objs[which].elf->path);
	op = old_package(o);
	listing_of(d, op, 0, &a);
	listing_of(d, p, fi, &b);
	fprintf(out, "--- old %s (%s, %zu instructions)\n", f->name, objs[which].elf->path, a.n);
	fprintf(out, "+++ new %s (package, %zu instructions)\n", f->name, b.n);
	if ((a.n + 1) * (b.n + 1) > MAX_CELLS) {
		fprintf(out, "(too long to compare: %zu and %zu instructions; see --audit for the new code)\n",
			a.n, b.n);
	} else {
		script = edit_script(&a, &b, &len);
		if (!memchr(script, '-', len) && !memchr(script, '+', len))
			fprintf(out, "(the same instructions: what changed is what they refer to, or data)\n");
		print_hunks(out, &a, &b, script, len);
		free(script);
	}
	listing_free(&a);
	listing_free(&b);
	hpk_free(op);
}

int review_text(FILE *out, const struct hpk *p, const char *old_path, struct hp_err *err)
{
	struct input_set in;
	struct base_obj *objs;
	size_t n, replaced = 0, added = 0;
	struct disasm *d = disasm_open(err);

	if (!d)
		return -1;
	if (base_load(old_path, &in, &objs, &n, err) < 0) {
		disasm_close(d);
		return -1;
	}
	for (uint32_t i = 0; i < p->nr_funcs; i++) {
		replaced += p->funcs[i].kind == HPK_FUNC_REPLACE;
		added += p->funcs[i].kind == HPK_FUNC_NEW;
	}
	fprintf(out, "review of %zu replaced function%s against %s (%zu object%s)", replaced,
		replaced == 1 ? "" : "s", old_path, n, n == 1 ? "" : "s");
	if (added)
		fprintf(out, "; %zu new function%s, listed by --audit", added, added == 1 ? "" : "s");
	fprintf(out, "\nmarks: # call, # jump, # read, # write, # address: what the instruction does with what it names\n");
	for (uint32_t i = 0; i < p->nr_funcs; i++)
		if (p->funcs[i].kind == HPK_FUNC_REPLACE)
			review_function(out, d, p, i, objs, n);
	base_unload(&in, objs, n);
	disasm_close(d);
	return 0;
}

/* ---- --new ---- */

const char *new_status_name(enum new_status s)
{
	switch (s) {
	case NEW_MATCH: return "match";
	case NEW_MISSING: return "missing";
	case NEW_SIZE: return "size";
	case NEW_BYTES: return "bytes";
	}
	return "?";
}

/* Byte i of f's code is a relocated field of the package: its value is
 * set when the package is applied, whatever the object held there. */
static bool in_field(const struct hpk_func *f, uint32_t i)
{
	for (uint32_t k = 0; k < f->nr_relocs; k++) {
		const struct hp_reloc_info *ri = reloc_info(f->relocs[k].type);
		unsigned w = ri && ri->width ? ri->width : 4;

		if (i >= f->relocs[k].offset && i - f->relocs[k].offset < w)
			return true;
	}
	return false;
}

/* A NEW function is f's code when its size and its bytes outside the
 * relocated fields are f's; its name is the package's (a replaced
 * function is named as OLD names it, which NEW names the same unless the
 * compiler renumbered a clone). */
static void check_new_one(const struct hpk *p, uint32_t fi, const struct base_obj *objs, size_t n,
			  struct new_check *c)
{
	const struct hpk_func *f = &p->funcs[fi];
	size_t which;
	bool matches;
	uint64_t hash;
	const struct hp_symbol *s = base_find_function(p, fi, objs, n, &which, &matches, &hash);
	const uint8_t *bytes;

	memset(c, 0, sizeof(*c));
	c->func = fi;
	if (!s) {
		c->status = NEW_MISSING;
		return;
	}
	c->where = xstrdup(objs[which].elf->path);
	c->new_size = s->size;
	bytes = sym_data(s);
	if (s->size != f->code_size || !bytes) {
		c->status = NEW_SIZE;
		return;
	}
	for (uint32_t i = 0; i < f->code_size; i++)
		if (bytes[i] != f->code[i] && !in_field(f, i)) {
			c->status = NEW_BYTES;
			c->first_diff = i;
			return;
		}
}

int verify_new(const struct hpk *p, const char *new_path, struct new_result *r, struct hp_err *err)
{
	struct input_set in;
	struct base_obj *objs;
	size_t n;

	memset(r, 0, sizeof(*r));
	if (base_load(new_path, &in, &objs, &n, err) < 0)
		return -1;
	r->nr_objects = n;
	r->v = xcalloc(p->nr_funcs ? p->nr_funcs : 1, sizeof(*r->v));
	for (uint32_t fi = 0; fi < p->nr_funcs; fi++)
		check_new_one(p, fi, objs, n, &r->v[r->n++]);
	base_unload(&in, objs, n);
	return 0;
}

size_t new_first_mismatch(const struct new_result *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].status != NEW_MATCH)
			return i;
	return r->n;
}

void new_result_free(struct new_result *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].where);
	free(r->v);
	memset(r, 0, sizeof(*r));
}
