/*
 * build.c - extract the fix from an object pair into a package (build.h).
 *
 * What goes in is the pair's plan (lib/plan.h), decided before this file
 * runs: functions marked REPLACE (with the old name they redirect) and ADD,
 * data objects marked COPY when packaged code uses them, code without a
 * symbol that packaged code reaches (as new code); aliases follow the
 * function they alias.  This file only writes that plan down.
 *
 * References: each relocation of packaged code is resolved (fingerprint.h)
 * and mapped to a package symbol: packaged functions, copied data (new
 * objects, strings, constants, anonymous read-only regions such as jump
 * tables, whose own relocations are mapped the same way), or a reference to
 * the running program by its OLD name (the program was linked from the old
 * object, so gcc's "count.3" is whatever the old object called it).
 */
#include "build.h"

#include <stdlib.h>
#include <string.h>

#include "correlate.h"
#include "dwarf.h"
#include "fingerprint.h"
#include "inputs.h"
#include "modfile.h"
#include "plan.h"
#include "reloc.h"

#define NO_SYM UINT32_MAX

/* Package strings never hold control characters (the reader refuses
 * them, see hotpatch(5)): a source path or producer with one is written
 * with '?' in its place. */
const char *pkg_str(struct hpk *p, const char *s)
{
	char *c;

	if (!s)
		return NULL;
	c = hpk_own(p, xstrdup(s));
	for (char *q = c; *q; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			*q = '?';
	return c;
}

void builder_init(struct pkg_builder *b)
{
	memset(b, 0, sizeof(*b));
	b->p = xcalloc(1, sizeof(*b->p));
	b->p->major = HPK_FORMAT_MAJOR;
	b->p->minor = HPK_FORMAT_MINOR;
	b->p->arch = EM_X86_64;
	hmap_init(&b->dedupe);
}

void builder_done(struct pkg_builder *b)
{
	hmap_free(&b->dedupe);
}

struct pair_ctx {
	struct pkg_builder *b;
	struct hp_elf *old, *new;
	uint32_t unit;
	const char *old_source;   /* STT_FILE of the old object: locals live there */
	uint32_t *func_sym;       /* new symbol index -> package symbol, packaged functions */
	uint32_t *anon_sym;       /* plan->anon_code index -> package symbol */
	const struct hp_plan *plan;
	struct hp_err *err;
};

static uint32_t add_sym(struct pkg_builder *b, const char *key, struct hpk_symbol s)
{
	struct hpk *p = b->p;

	GROW(p->syms, b->cap_syms, p->nr_syms + 1);
	p->syms[p->nr_syms] = s;
	if (key)
		hmap_put(&b->dedupe, pkg_str(p, key), (void *)(uintptr_t)(p->nr_syms + 1));
	return p->nr_syms++;
}

static uint32_t lookup(struct pkg_builder *b, const char *key)
{
	uintptr_t v = (uintptr_t)hmap_get(&b->dedupe, key);
	return v ? (uint32_t)(v - 1) : NO_SYM;
}

/* New function n's code goes into the package (aliases go with the
 * function they alias). */
static bool packaged(const struct hp_symbol *n)
{
	return n->kind == HP_SYM_FUNC && !n->alias_of && plan_is_packaged(n);
}

/* ---- package symbols for references ---- */

static void masked_ranges(const struct hp_symbol *o, struct hpk_range **out, uint32_t *nout);

/* What static prog of the old object is, for finding it by content: code,
 * read-only data, or writable data (whose bytes are no identity). */
static uint8_t static_kind(const struct hp_symbol *prog)
{
	const char *k = section_kind(prog->sec);

	if (prog->kind == HP_SYM_FUNC)
		return HPK_STATIC_FUNC;
	return !strcmp(k, "rodata") ? HPK_STATIC_RODATA : HPK_STATIC_DATA;
}

/* The old object's fingerprint of static prog, package symbol si: its
 * bytes with what the linker rewrites masked (as a replaced function's
 * old_hash).  Symbols are added in increasing order, so the statics stay
 * sorted by symbol. */
static void fingerprint_static(struct pkg_builder *b, const struct hp_symbol *prog, uint32_t si)
{
	struct hpk *p = b->p;
	struct hpk_static *st;

	GROW(p->statics, b->cap_statics, p->nr_statics + 1);
	st = &p->statics[p->nr_statics++];
	memset(st, 0, sizeof(*st));
	st->sym = si;
	st->kind = static_kind(prog);
	st->align = section_align(prog->sec);
	st->size = (uint32_t)prog->size;
	if (st->kind != HPK_STATIC_DATA && sym_data(prog)) {
		masked_ranges(prog, &st->masks, &st->nr_masks);
		st->hash = hpk_masked_hash(sym_data(prog), st->size, st->masks, st->nr_masks);
	} else {
		st->kind = HPK_STATIC_DATA;
	}
}

static void add_static_fingerprint(struct pair_ctx *c, const struct hp_symbol *prog, uint32_t si)
{
	if (c->b->fingerprint_statics && prog->sec && prog->type != STT_TLS)
		fingerprint_static(c->b, prog, si);
}

static int cmp_static(const void *a, const void *b)
{
	const struct hpk_static *x = a, *y = b;
	return (x->sym > y->sym) - (x->sym < y->sym);
}

/* A global the package refers to that needs a fingerprint: the module does
 * not name it and the package has none yet. */
static bool wants_fingerprint(const struct hpk *p, uint32_t i,
			      bool (*named)(const char *name, const void *arg), const void *arg)
{
	const struct hpk_symbol *s = &p->syms[i];

	for (uint32_t k = 0; k < p->nr_statics; k++)
		if (p->statics[k].sym == i)
			return false;
	return s->where == HPK_SYM_EXTERN && s->bind != STB_LOCAL && s->type != STT_TLS && !named(s->name, arg);
}

int build_fingerprint_hidden(struct pkg_builder *b, const struct input_set *in,
			     bool (*named)(const char *name, const void *arg), const void *arg, struct hp_err *err)
{
	struct hpk *p = b->p;
	bool *want = xcalloc(p->nr_syms ? p->nr_syms : 1, sizeof(*want));
	size_t nwant = 0;

	for (uint32_t i = 0; i < p->nr_syms; i++)
		nwant += want[i] = wants_fingerprint(p, i, named, arg);
	for (size_t k = 0; k < in->nr_pairs && nwant; k++) {
		const struct input_obj *o = &in->pairs[k].old;
		struct hp_elf *e;

		if (!o->data)
			continue;
		if (!(e = elf_open_borrowed(o->label, o->data, o->size, false, err))) {
			free(want);
			return -1;
		}
		for (uint32_t i = 0; i < p->nr_syms; i++) {
			struct hp_symbol *d;

			if (!want[i] || !(d = find_symbol_by_name(e, p->syms[i].name)) || !d->sec ||
			    d->bind == STB_LOCAL || (d->kind != HP_SYM_FUNC && d->kind != HP_SYM_OBJECT))
				continue;
			fingerprint_static(b, d, i);
			want[i] = false;
			nwant--;
		}
		elf_close(e);
	}
	free(want);
	if (p->nr_statics)
		qsort(p->statics, p->nr_statics, sizeof(*p->statics), cmp_static);
	return 0;
}

static uint32_t extern_sym(struct pair_ctx *c, const struct hp_symbol *s)
{
	/* the running program knows the symbol by its old name */
	const struct hp_symbol *prog = s->twin ? s->twin : s;
	bool local = prog->bind == STB_LOCAL;
	char *key = xasprintf("X:%u:%s:%s", local ? c->unit : 0u, local ? "L" : "G", prog->name);
	uint32_t i = lookup(c->b, key);

	if (i == NO_SYM) {
		struct hpk_symbol ps = {
			.name = pkg_str(c->b->p, prog->name),
			.file = local ? pkg_str(c->b->p, c->old_source) : NULL,
			.bind = prog->bind,
			.type = prog->type == STT_NOTYPE && prog->kind == HP_SYM_FUNC ? STT_FUNC : prog->type,
			.where = HPK_SYM_EXTERN,
			.unit = c->unit,
		};
		i = add_sym(c->b, key, ps);
		c->b->stats.externs++;
		if (local && s->twin)
			add_static_fingerprint(c, prog, i);
	}
	free(key);
	return i;
}

static int add_relocs(struct pair_ctx *c, const struct hp_section *sec, const struct hp_reloc *r,
		      size_t n, uint64_t base, struct hpk_reloc **out, uint32_t *nout);

static uint32_t new_data(struct pair_ctx *c, const char *key, const char *name, uint8_t kind,
			 const struct hp_section *sec, uint64_t start, uint64_t len, uint32_t align,
			 uint8_t bind, const char *file, unsigned line)
{
	struct hpk *p = c->b->p;
	struct hpk_data *d;
	uint32_t di, si;
	size_t lo = 0, hi = 0;

	GROW(p->data, c->b->cap_data, p->nr_data + 1);
	di = p->nr_data++;
	d = &p->data[di];
	memset(d, 0, sizeof(*d));
	d->name = pkg_str(p, name);
	d->file = pkg_str(p, file);
	d->line = line;
	d->kind = kind;
	d->bind = bind;
	d->unit = c->unit;
	d->align = align ? align : 1;
	d->size = (uint32_t)len;
	if (kind != HPK_DATA_BSS && sec->data) {
		uint8_t *bytes = hpk_own(p, xmalloc(len ? len : 1));
		memcpy(bytes, sec->data + start, len);
		d->bytes = bytes;
	} else {
		d->kind = HPK_DATA_BSS;
	}
	si = add_sym(c->b, key, (struct hpk_symbol){
		.name = d->name, .file = d->file, .bind = bind,
		.type = STT_OBJECT, .where = HPK_SYM_DATA, .index = di, .unit = c->unit });
	p->data[di].sym = si;
	if (kind == HPK_DATA_RODATA)
		c->b->stats.rodata_objects++;
	else
		c->b->stats.data_objects++;
	c->b->stats.data_bytes += len;
	/* its own relocations (jump tables, pointer tables) */
	while (lo < sec->nr_relocs && sec->relocs[lo].offset < start)
		lo++;
	for (hi = lo; hi < sec->nr_relocs && sec->relocs[hi].offset < start + len; hi++)
		;
	if (hi > lo) {
		struct hpk_reloc *rel;
		uint32_t nrel;

		if (add_relocs(c, sec, sec->relocs + lo, hi - lo, start, &rel, &nrel) < 0)
			return NO_SYM;
		p->data[di].relocs = rel;
		p->data[di].nr_relocs = nrel;
	}
	return si;
}

static uint8_t data_kind(const struct hp_section *sec)
{
	const char *k = section_kind(sec);

	if (!strcmp(k, "bss"))
		return HPK_DATA_BSS;
	if (!strcmp(k, "data"))
		return HPK_DATA_DATA;
	return HPK_DATA_RODATA;
}

/* A named symbol the new code refers to. */
static uint32_t symbol_ref(struct pair_ctx *c, struct hp_symbol *s)
{
	char *key;
	uint32_t i;

	if (s->kind == HP_SYM_FUNC && s->alias_of && packaged(s->alias_of))
		s = s->alias_of;
	if (s->kind == HP_SYM_FUNC && packaged(s))
		return c->func_sym[s->index];
	if (s->kind != HP_SYM_OBJECT || s->plan != HP_PLAN_COPY || !s->sec || s->type == STT_TLS)
		return extern_sym(c, s);
	/* a data object the running program does not have: copy it */
	key = xasprintf("D:%u:%zu", c->unit, s->index);
	i = lookup(c->b, key);
	if (i == NO_SYM)
		i = new_data(c, key, s->name, data_kind(s->sec), s->sec, s->value, s->size,
			     section_align(s->sec), s->bind, s->file, s->line);
	free(key);
	return i;
}

static uint32_t content_ref(struct pair_ctx *c, const struct hp_target *t)
{
	struct hpk *p = c->b->p;
	uint64_t id = target_identity(t);
	char *key = xasprintf("C:%u:%d:%016llx", c->unit, t->kind, (unsigned long long)id);
	uint32_t i = lookup(c->b, key);

	if (i == NO_SYM) {
		char *name = xasprintf(t->kind == HP_TARGET_STRING ? ".str.%u" :
				       t->kind == HP_TARGET_CONST ? ".const.%u" : ".anon.%u", p->nr_data);
		uint64_t len = t->kind == HP_TARGET_STRING ? t->len + 1 : t->len;

		if (t->start + len > t->sec->size)
			len = t->sec->size - t->start;
		i = new_data(c, key, name, t->kind == HP_TARGET_ANON ? data_kind(t->sec) : HPK_DATA_RODATA,
			     t->sec, t->start, len,
			     t->kind == HP_TARGET_CONST ? (uint32_t)t->sec->entsize : section_align(t->sec),
			     STB_LOCAL, NULL, 0);
		free(name);
	}
	free(key);
	return i;
}

/* The package function carrying the plan's code region at t (declared
 * by declare_anon_code()). */
static uint32_t anon_code_ref(struct pair_ctx *c, const struct hp_target *t)
{
	ssize_t k = plan_anon_code_index(c->plan, t->sec, t->start);

	if (k < 0) {
		hp_err_set(c->err, "%s: code without a symbol at %s+0x%llx is not in the plan; cannot package it",
			   c->new->path, t->sec->name, (unsigned long long)t->start);
		return NO_SYM;
	}
	return c->anon_sym[k];
}

static int add_relocs(struct pair_ctx *c, const struct hp_section *sec, const struct hp_reloc *r,
		      size_t n, uint64_t base, struct hpk_reloc **out, uint32_t *nout)
{
	struct hpk_reloc *v = xcalloc(n ? n : 1, sizeof(*v));

	for (size_t i = 0; i < n; i++) {
		struct hp_target t;
		uint32_t si;

		resolve_target(sec, &r[i], &t);
		switch (t.kind) {
		case HP_TARGET_SYMBOL:
			si = symbol_ref(c, t.sym);
			break;
		case HP_TARGET_ANON:
			if (is_text_sec(t.sec)) {
				si = anon_code_ref(c, &t);
				break;
			}
			/* fall through */
		case HP_TARGET_STRING:
		case HP_TARGET_CONST:
			si = content_ref(c, &t);
			break;
		default:
			free(v);
			return hp_err_set(c->err, "%s: relocation at %s+0x%llx has no target; cannot package it",
					  c->new->path, sec->name, (unsigned long long)r[i].offset);
		}
		if (si == NO_SYM) {
			free(v);
			return -1;
		}
		v[i] = (struct hpk_reloc){
			.offset = (uint32_t)(r[i].offset - base),
			.type = r[i].type,
			.addend = t.delta,
			.sym = si,
		};
	}
	*out = v;
	*nout = (uint32_t)n;
	c->b->stats.relocs += n;
	return 0;
}

/* ---- functions ---- */

static int cmp_range(const void *a, const void *b)
{
	const struct hpk_range *x = a, *y = b;
	return (x->start > y->start) - (x->start < y->start);
}

/* Bytes of an old function or object the linker rewrote: relocated
 * fields and the opcodes relaxations may change (reloc_mask_range), sorted
 * and merged. */
static void masked_ranges(const struct hp_symbol *o, struct hpk_range **out, uint32_t *nout)
{
	struct hpk_range *m = xcalloc(o->nr_relocs ? o->nr_relocs : 1, sizeof(*m));
	uint32_t n = 0, w = 0;

	sym_for_each_reloc(o, r) {
		uint64_t s, e;

		reloc_mask_range(r->type, r->offset, o->value, o->value + o->size, &s, &e);
		if (e > s)
			m[n++] = (struct hpk_range){ (uint32_t)(s - o->value), (uint32_t)(e - s) };
	}
	qsort(m, n, sizeof(*m), cmp_range);
	for (uint32_t i = 0; i < n; i++) {
		if (w && m[i].start <= m[w - 1].start + m[w - 1].len) {
			uint32_t end = m[i].start + m[i].len;
			if (end > m[w - 1].start + m[w - 1].len)
				m[w - 1].len = end - m[w - 1].start;
		} else {
			m[w++] = m[i];
		}
	}
	*out = m;
	*nout = w;
}

static void old_fingerprint(struct hpk_func *f, const struct hp_symbol *o)
{
	f->old_size = (uint32_t)o->size;
	masked_ranges(o, &f->old_masks, &f->nr_old_masks);
	f->old_hash = hpk_masked_hash(sym_data(o), (uint32_t)o->size, f->old_masks, f->nr_old_masks);
}

/* Code in a package is aligned as its section was, at most 16. */
static uint32_t code_align_of(const struct hp_section *sec)
{
	uint32_t a = section_align(sec);
	return a > 16 ? 16 : a;
}

static int cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every other name of packaged function fi at its address (plan.c's
 * aliases: sys_x and SyS_x): recorded with it, never a second redirect.
 * A replaced function's names are the running program's (the OLD
 * object's), a new one's the NEW object's.  Functions are declared in
 * order and names sorted, so the package's list is sorted. */
static void record_aliases(struct pair_ctx *c, uint32_t fi, const struct hp_elf *e, const struct hp_symbol *s)
{
	struct hpk *p = c->b->p;
	const struct hp_symbol *first = s->alias_of ? s->alias_of : s;
	const char **names = NULL;
	size_t n = 0, cap = 0;

	for_each_sym(e, a) {
		const struct hp_symbol *pa = a->alias_of ? a->alias_of : a;

		if (a->kind != HP_SYM_FUNC || pa != first || !strcmp(a->name, p->funcs[fi].name))
			continue;
		GROW(names, cap, n + 1);
		names[n++] = a->name;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_str_ptr);
	for (size_t k = 0; k < n; k++) {
		if (k && !strcmp(names[k], names[k - 1]))
			continue;
		GROW(p->aliases, c->b->cap_aliases, p->nr_aliases + 1);
		p->aliases[p->nr_aliases++] = (struct hpk_alias){ .func = fi, .name = pkg_str(p, names[k]) };
	}
	free(names);
}

/* Reserve package entries for every packaged function first, so that
 * references between them resolve to the package. */
static void declare_functions(struct pair_ctx *c)
{
	struct hpk *p = c->b->p;

	for_each_sym(c->new, n) {
		struct hpk_func *f;
		bool replace;
		uint32_t fi;

		if (!packaged(n))
			continue;
		replace = n->plan == HP_PLAN_REPLACE;
		GROW(p->funcs, c->b->cap_funcs, p->nr_funcs + 1);
		fi = p->nr_funcs++;
		f = &p->funcs[fi];
		memset(f, 0, sizeof(*f));
		f->name = pkg_str(p, replace ? n->twin->name : n->name);
		f->file = pkg_str(p, n->file);
		f->line = n->line;
		f->kind = replace ? HPK_FUNC_REPLACE : HPK_FUNC_NEW;
		f->bind = n->bind;
		f->unit = c->unit;
		f->align = code_align_of(n->sec);
		f->code = hpk_own(p, xmalloc(n->size ? n->size : 1));
		memcpy((uint8_t *)f->code, sym_data(n), n->size);
		f->code_size = (uint32_t)n->size;
		f->sym = add_sym(c->b, NULL, (struct hpk_symbol){
			.name = f->name,
			.file = n->bind == STB_LOCAL ? pkg_str(p, c->old_source) : NULL,
			.bind = n->bind, .type = STT_FUNC, .where = HPK_SYM_FUNC,
			.index = fi, .unit = c->unit });
		c->func_sym[n->index] = f->sym;
		record_aliases(c, fi, replace ? c->old : c->new, replace ? n->twin : n);
		if (replace) {
			old_fingerprint(f, n->twin);
			c->b->stats.replaced++;
		} else {
			c->b->stats.added++;
		}
		c->b->stats.code_bytes += n->size;
	}
}

/* The relocations of sec in [start, end): sec->relocs is sorted by offset. */
static const struct hp_reloc *relocs_in(const struct hp_section *sec, uint64_t start, uint64_t end, size_t *n)
{
	size_t i = 0, j;

	while (i < sec->nr_relocs && sec->relocs[i].offset < start)
		i++;
	for (j = i; j < sec->nr_relocs && sec->relocs[j].offset < end; j++)
		;
	*n = j - i;
	return sec->relocs + i;
}

/* Code without a function symbol that the plan carries (plan.h,
 * struct plan_anon_code): a new local function of the package, named by
 * its place in the new object ("<.text.csum_slow+0x0>"), entered only
 * from packaged code. */
static void declare_anon_code(struct pair_ctx *c)
{
	struct hpk *p = c->b->p;

	c->anon_sym = xcalloc(c->plan->nr_anon_code ? c->plan->nr_anon_code : 1, sizeof(uint32_t));
	for (size_t k = 0; k < c->plan->nr_anon_code; k++) {
		const struct plan_anon_code *a = &c->plan->anon_code[k];
		char *name = xasprintf("<%s+0x%llx>", a->sec->name, (unsigned long long)a->start);
		struct hpk_func *f;
		uint32_t fi;

		GROW(p->funcs, c->b->cap_funcs, p->nr_funcs + 1);
		fi = p->nr_funcs++;
		f = &p->funcs[fi];
		memset(f, 0, sizeof(*f));
		f->name = pkg_str(p, name);
		f->kind = HPK_FUNC_NEW;
		f->bind = STB_LOCAL;
		f->unit = c->unit;
		f->align = code_align_of(a->sec);
		f->code = hpk_own(p, xmalloc(a->len ? a->len : 1));
		memcpy((uint8_t *)f->code, a->sec->data + a->start, a->len);
		f->code_size = (uint32_t)a->len;
		f->sym = add_sym(c->b, NULL, (struct hpk_symbol){
			.name = f->name, .file = pkg_str(p, c->old_source), .bind = STB_LOCAL, .type = STT_FUNC,
			.where = HPK_SYM_FUNC, .index = fi, .unit = c->unit });
		c->anon_sym[k] = f->sym;
		c->b->stats.added++;
		c->b->stats.code_bytes += a->len;
		free(name);
	}
}

static int fill_anon_code_relocs(struct pair_ctx *c)
{
	struct hpk *p = c->b->p;

	for (size_t k = 0; k < c->plan->nr_anon_code; k++) {
		const struct plan_anon_code *a = &c->plan->anon_code[k];
		struct hpk_func *f = &p->funcs[p->syms[c->anon_sym[k]].index];
		const struct hp_reloc *r;
		size_t n;

		r = relocs_in(a->sec, a->start, a->start + a->len, &n);
		if (add_relocs(c, a->sec, r, n, a->start, &f->relocs, &f->nr_relocs) < 0)
			return -1;
	}
	return 0;
}

static int fill_function_relocs(struct pair_ctx *c)
{
	struct hpk *p = c->b->p;

	for_each_sym(c->new, n) {
		struct hpk_func *f;
		struct hpk_reloc *rel;
		uint32_t nrel;

		if (!packaged(n))
			continue;
		if (add_relocs(c, n->sec, n->relocs, n->nr_relocs, n->value, &rel, &nrel) < 0)
			return -1;
		f = &p->funcs[p->syms[c->func_sym[n->index]].index];
		f->relocs = rel;
		f->nr_relocs = nrel;
	}
	return 0;
}

static uint32_t add_unit(struct pkg_builder *b, struct hp_elf *old, struct hp_elf *new,
			 const char *unit_name, const char *old_name, const char *new_name)
{
	struct hpk *p = b->p;

	GROW(p->units, b->cap_units, p->nr_units + 1);
	p->units[p->nr_units] = (struct hpk_unit){
		.name = pkg_str(p, unit_name),
		.old_input = pkg_str(p, old_name),
		.new_input = pkg_str(p, new_name),
		.source = pkg_str(p, old->source_name ? old->source_name : new->source_name),
		.old_producer = pkg_str(p, dwarf_producer(old->dwarf)),
		.new_producer = pkg_str(p, dwarf_producer(new->dwarf)),
	};
	return p->nr_units++;
}

int build_add_pair(struct pkg_builder *b, const struct hp_pair *pair, const char *unit_name,
		   const char *old_name, const char *new_name, struct hp_err *err)
{
	struct hp_elf *old = pair->old, *new = pair->new;
	struct pair_ctx c = {
		.b = b, .old = old, .new = new, .plan = &pair->plan, .err = err,
		.func_sym = xcalloc(new->nr_symbols ? new->nr_symbols : 1, sizeof(uint32_t)),
	};
	int ret = 0;

	b->stats.skipped_line_only += pair->plan.line_only;
	if (pair->plan.replaced + pair->plan.added) {  /* a pair with nothing to patch adds no unit */
		c.unit = add_unit(b, old, new, unit_name, old_name, new_name);
		c.old_source = b->p->units[c.unit].source;
		declare_functions(&c);
		declare_anon_code(&c);
		ret = fill_function_relocs(&c);
		if (!ret)
			ret = fill_anon_code_relocs(&c);
	}
	free(c.func_sym);
	free(c.anon_sym);
	return ret;
}

void build_add_finding(struct pkg_builder *b, const char *rule, int severity, bool overridden,
		       const char *symbol, const char *file, unsigned line, const char *message)
{
	struct hpk *p = b->p;

	GROW(p->findings, b->cap_findings, p->nr_findings + 1);
	p->findings[p->nr_findings++] = (struct hpk_finding){
		.rule = pkg_str(p, rule),
		.severity = (uint8_t)severity,
		.overridden = overridden,
		.symbol = pkg_str(p, symbol),
		.file = pkg_str(p, file),
		.line = line,
		.message = pkg_str(p, message),
	};
}
