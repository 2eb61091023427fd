/*
 * diff.c - compare two prepared, correlated objects symbol by symbol
 * (diff.h).
 *
 * A function is unchanged when its size, its bytes with relocated fields
 * masked, and its normalized relocation list are equal.  Otherwise the
 * reasons say what differs, most specific first: the code, a call target,
 * a string, the signature (DWARF), an inlined helper that changed.  .cold
 * and .part children are reported through their parent function.
 */
#include "diff.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "correlate.h"
#include "dwarf.h"
#include "fingerprint.h"
#include "lineonly.h"
#include "reloc.h"

const char *status_name(enum hp_status s)
{
	switch (s) {
	case HP_CHANGED: return "changed";
	case HP_ADDED: return "added";
	case HP_REMOVED: return "removed";
	default: return "unchanged";
	}
}

void diff_prepare(struct hp_elf *e)
{
	correlate_prepare(e);
	fingerprint_object(e);
}

struct load_job {
	const struct load_input *in;
	struct hp_elf *e;
	struct hp_err err;
};

static void *load_job_run(void *arg)
{
	struct load_job *j = arg;

	hp_err_clear(&j->err);
	if (!j->in->data)
		j->e = elf_open(j->in->name, &j->err);
	else if (j->in->borrow)
		j->e = elf_open_borrowed(j->in->name, j->in->data, j->in->size, j->in->mapped, &j->err);
	else
		j->e = elf_open_mem(j->in->name, j->in->data, j->in->size, &j->err);
	if (j->e)
		diff_prepare(j->e);
	return NULL;
}

int diff_load_two(const struct load_input *old_in, const struct load_input *new_in,
		  struct hp_elf **old, struct hp_elf **new, struct hp_err *err)
{
	struct load_job a = { .in = old_in }, b = { .in = new_in };
	pthread_t tid;
	bool threaded = pthread_create(&tid, NULL, load_job_run, &a) == 0;

	load_job_run(&b);
	if (threaded)
		pthread_join(tid, NULL);
	else
		load_job_run(&a);
	/* the old input's error first: the order the user named them */
	if (!a.e || !b.e) {
		*err = !a.e ? a.err : b.err;
		elf_close(a.e);
		elf_close(b.e);
		*old = *new = NULL;
		return -1;
	}
	correlate_pair(a.e, b.e);
	*old = a.e;
	*new = b.e;
	return 0;
}

int diff_load_pair(const char *old_path, const char *new_path, struct hp_elf **old,
		   struct hp_elf **new, struct hp_err *err)
{
	struct load_input a = { old_path, NULL, 0, false, false }, b = { new_path, NULL, 0, false, false };

	return diff_load_two(&a, &b, old, new, err);
}

static void add_reason(struct hp_change *c, char *reason)
{
	for (size_t i = 0; i < c->nr_reasons; i++)
		if (!strcmp(c->reasons[i], reason)) {
			free(reason);
			return;
		}
	c->reasons = xrealloc(c->reasons, (c->nr_reasons + 1) * sizeof(*c->reasons));
	c->reasons[c->nr_reasons++] = reason;
}

static struct hp_change *new_change(struct hp_diff *d, enum hp_status st, bool is_func,
				    struct hp_symbol *o, struct hp_symbol *n)
{
	struct hp_change *c;
	const struct hp_symbol *where = n ? n : o;

	GROW(d->changes, d->cap_changes, d->nr_changes + 1);
	c = &d->changes[d->nr_changes++];
	memset(c, 0, sizeof(*c));
	c->status = st;
	c->is_func = is_func;
	c->old = o;
	c->new = n;
	c->name = where->name;
	c->file = where->file ? where->file : (o ? o->file : NULL);
	c->line = where->file ? where->line : (o ? o->line : 0);
	return c;
}

static bool same_fingerprint(const struct hp_symbol *o, const struct hp_symbol *n)
{
	return o->size == n->size && o->code_hash == n->code_hash && o->reloc_hash == n->reloc_hash;
}

/* A relocation whose field follows a call or jmp opcode is a branch. */
static bool is_branch_reloc(const struct hp_symbol *s, const struct hp_reloc *r)
{
	uint8_t op;

	if (!s->sec->data || r->offset == 0 || r->offset - 1 < s->value)
		return false;
	op = s->sec->data[r->offset - 1];
	return op == 0xe8 || op == 0xe9;
}

struct ref {
	uint64_t id;
	bool call;
	struct hp_target t;
};

static size_t collect_refs(const struct hp_symbol *s, struct ref **out)
{
	struct ref *v = xcalloc(s->nr_relocs ? s->nr_relocs : 1, sizeof(*v));
	size_t n = 0;

	sym_for_each_reloc(s, r) {
		resolve_target(s->sec, r, &v[n].t);
		v[n].id = target_identity(&v[n].t);
		v[n].call = is_branch_reloc(s, r);
		n++;
	}
	*out = v;
	return n;
}

static bool ref_in(const struct ref *v, size_t n, const struct ref *x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].id == x->id)
			return true;
	return false;
}

static char *describe(const struct hp_target *t)
{
	struct strbuf sb;

	sb_init(&sb);
	describe_target(t, &sb);
	return sb_detach(&sb);
}

static bool text_target(const struct hp_target *t)
{
	return t->kind == HP_TARGET_STRING || (t->kind == HP_TARGET_ANON && target_is_text(t));
}

/* What an anonymous region is, by its section: "code" (a symbol-less
 * asm fragment in .text.*), "data" (writable: clang's .data..L*), else
 * "read-only data" (.rodata jump tables, constant pools). */
static const char *anon_kind_words(const struct hp_target *t)
{
	const char *k = section_kind(t->sec);

	if (!strcmp(k, "text"))
		return "code";
	return !strcmp(k, "rodata") ? "read-only data" : "data";
}

/* Same code layout, different targets: say what each one became. */
static void explain_pairwise(struct hp_change *c, const struct ref *o, const struct ref *n, size_t cnt)
{
	for (size_t i = 0; i < cnt; i++) {
		char *a, *b;

		if (o[i].id == n[i].id)
			continue;
		a = describe(&o[i].t);
		b = describe(&n[i].t);
		if (text_target(&n[i].t) || text_target(&o[i].t))
			add_reason(c, xasprintf("references a changed string: %s -> %s", a, b));
		else if (n[i].t.kind == HP_TARGET_CONST)
			add_reason(c, xasprintf("references a changed constant: %s -> %s", a, b));
		else if (n[i].t.kind == HP_TARGET_ANON)
			add_reason(c, xasprintf("references changed %s (%s)", anon_kind_words(&n[i].t), b));
		else if (n[i].call && o[i].call)
			add_reason(c, xasprintf("call target changed from %s to %s", a, b));
		else
			add_reason(c, xasprintf("reference changed from %s to %s", a, b));
		free(a);
		free(b);
	}
}

/* Does the old side reference a string the new side no longer does? */
static bool lost_a_string(const struct ref *o, size_t no, const struct ref *n, size_t nn)
{
	for (size_t i = 0; i < no; i++)
		if (text_target(&o[i].t) && !ref_in(n, nn, &o[i]))
			return true;
	return false;
}

/* Different layout: report what is referenced now and was not, and the
 * reverse, by kind.  A string is "changed" when one went away as another
 * came, "new" otherwise. */
static void explain_sets(struct hp_change *c, const struct ref *o, size_t no, const struct ref *n, size_t nn)
{
	bool lost = lost_a_string(o, no, n, nn);

	for (size_t i = 0; i < nn; i++) {
		char *b;

		if (ref_in(o, no, &n[i]) || ref_in(n, i, &n[i]))
			continue;
		b = describe(&n[i].t);
		if (text_target(&n[i].t))
			add_reason(c, xasprintf("references a %s string: %s", lost ? "changed" : "new", b));
		else if (n[i].t.kind == HP_TARGET_CONST)
			add_reason(c, xasprintf("references a changed constant: %s", b));
		else if (n[i].t.kind == HP_TARGET_ANON)
			add_reason(c, xasprintf("references changed %s (%s)", anon_kind_words(&n[i].t), b));
		else if (n[i].call)
			add_reason(c, xasprintf("now calls %s", b));
		else
			add_reason(c, xasprintf("now references %s", b));
		free(b);
	}
	for (size_t i = 0; i < no; i++) {
		char *a;

		if (ref_in(n, nn, &o[i]) || ref_in(o, i, &o[i]) || o[i].t.kind != HP_TARGET_SYMBOL)
			continue;
		a = describe(&o[i].t);
		add_reason(c, xasprintf(o[i].call ? "no longer calls %s" : "no longer references %s", a));
		free(a);
	}
}

static bool same_reloc_layout(const struct hp_symbol *o, const struct hp_symbol *n)
{
	if (o->nr_relocs != n->nr_relocs)
		return false;
	for (size_t i = 0; i < o->nr_relocs; i++)
		if (o->relocs[i].offset - o->value != n->relocs[i].offset - n->value ||
		    o->relocs[i].type != n->relocs[i].type)
			return false;
	return true;
}

static void explain_relocs(struct hp_change *c, const struct hp_symbol *o, const struct hp_symbol *n)
{
	struct ref *ro, *rn;
	size_t no = collect_refs(o, &ro), nn = collect_refs(n, &rn);

	if (same_reloc_layout(o, n))
		explain_pairwise(c, ro, rn, no);
	else
		explain_sets(c, ro, no, rn, nn);
	free(ro);
	free(rn);
}

static const struct hp_dwarf_func *dwarf_func_of(const struct hp_elf *e, const struct hp_symbol *s)
{
	char *base;
	const struct hp_dwarf_func *f;

	if (!e->dwarf)
		return NULL;
	base = xstrndup(s->name, strcspn(s->name, "."));
	f = dwarf_find_func(e->dwarf, base);
	free(base);
	return f;
}

static void explain_signature(struct hp_change *c, const struct hp_diff *d)
{
	const struct hp_dwarf_func *a = dwarf_func_of(d->old, c->old);
	const struct hp_dwarf_func *b = dwarf_func_of(d->new, c->new);

	if (a && b && a->signature && b->signature && strcmp(a->signature, b->signature))
		add_reason(c, xasprintf("signature changed: %s -> %s", a->signature, b->signature));
}

static const char *bind_name(uint8_t b)
{
	return b == STB_LOCAL ? "local" : b == STB_WEAK ? "weak" : "global";
}

static void compare_functions(struct hp_diff *d, struct hp_symbol *o, struct hp_symbol *n, bool all)
{
	struct hp_change *c;

	if (same_fingerprint(o, n) && o->bind == n->bind) {
		if (all)
			new_change(d, HP_UNCHANGED, true, o, n);
		return;
	}
	c = new_change(d, HP_CHANGED, true, o, n);
	if (o->size != n->size) {
		add_reason(c, xasprintf("code differs (size %llu -> %llu)", (unsigned long long)o->size,
					(unsigned long long)n->size));
	} else if (o->code_hash != n->code_hash) {
		int delta;

		if (o->reloc_hash == n->reloc_hash && is_line_only_change(d->old, o, d->new, n, &delta)) {
			c->line_only = true;
			n->line_only = true;
			add_reason(c, xasprintf("line numbers only (moved %+d)", delta));
		} else {
			add_reason(c, xstrdup("code differs"));
		}
	}
	if (o->reloc_hash != n->reloc_hash)
		explain_relocs(c, o, n);
	explain_signature(c, d);
	if (o->bind != n->bind)
		add_reason(c, xasprintf("binding %s -> %s", bind_name(o->bind), bind_name(n->bind)));
}

static const char *otype_name(uint8_t t)
{
	return t == STT_TLS ? "tls" : t == STT_OBJECT ? "object" : "other";
}

static void compare_objects(struct hp_diff *d, struct hp_symbol *o, struct hp_symbol *n, bool all)
{
	struct hp_change *c;
	const char *ko = section_kind(o->sec), *kn = section_kind(n->sec);
	bool kind_same = !strcmp(ko, kn);
	/* bss and zero-initialized data hold the same initial value */
	bool value_same = o->code_hash == n->code_hash && o->reloc_hash == n->reloc_hash;

	if (o->size == n->size && kind_same && value_same && o->bind == n->bind && o->type == n->type) {
		if (all)
			new_change(d, HP_UNCHANGED, false, o, n);
		return;
	}
	c = new_change(d, HP_CHANGED, false, o, n);
	if (o->size != n->size)
		add_reason(c, xasprintf("size %llu -> %llu", (unsigned long long)o->size, (unsigned long long)n->size));
	if (!kind_same)
		add_reason(c, xasprintf("section %s -> %s", ko, kn));
	if (o->size == n->size && !value_same)
		add_reason(c, xstrdup("initial value differs"));
	if (o->bind != n->bind)
		add_reason(c, xasprintf("binding %s -> %s", bind_name(o->bind), bind_name(n->bind)));
	if (o->type != n->type)
		add_reason(c, xasprintf("type %s -> %s", otype_name(o->type), otype_name(n->type)));
	if (d->old->dwarf && d->new->dwarf) {
		const struct hp_dwarf_var *a = dwarf_find_var(d->old->dwarf, NULL, o->name);
		const struct hp_dwarf_var *b = dwarf_find_var(d->new->dwarf, NULL, n->name);
		if (a && b && a->type && b->type && strcmp(a->type, b->type))
			add_reason(c, xasprintf("declared type %s -> %s", a->type, b->type));
	}
}

static bool is_reportable(const struct hp_symbol *s, bool func)
{
	return func ? s->kind == HP_SYM_FUNC : s->kind == HP_SYM_OBJECT;
}

static void diff_kind(struct hp_diff *d, bool func, bool all)
{
	for_each_sym(d->new, n) {
		if (!is_reportable(n, func))
			continue;
		if (n->twin) {
			if (func)
				compare_functions(d, n->twin, n, all);
			else
				compare_objects(d, n->twin, n, all);
		} else {
			struct hp_change *c = new_change(d, HP_ADDED, func, NULL, n);
			add_reason(c, xasprintf(func ? "new function" : "new %s object (%llu bytes)",
						section_kind(n->sec), (unsigned long long)n->size));
		}
	}
	for_each_sym(d->old, o) {
		if (is_reportable(o, func) && !o->twin)
			add_reason(new_change(d, HP_REMOVED, func, o, NULL), xstrdup("removed"));
	}
}

static struct hp_change *find_change_of(struct hp_diff *d, const struct hp_symbol *s)
{
	for (size_t i = 0; i < d->nr_changes; i++)
		if (d->changes[i].new == s || d->changes[i].old == s)
			return &d->changes[i];
	return NULL;
}

static void free_change(struct hp_change *c)
{
	for (size_t i = 0; i < c->nr_reasons; i++)
		free(c->reasons[i]);
	free(c->reasons);
}

/*
 * Fold .cold/.part children into their parent: the parent's entry says
 * "part f.cold changed"; a parent that was itself added or removed already
 * covers its pieces.  A child without a parent stays on its own.
 */
static void fold_children(struct hp_diff *d)
{
	size_t w = 0;

	for (size_t i = 0; i < d->nr_changes; i++) {
		struct hp_change *c = &d->changes[i];
		const struct hp_symbol *s = c->new ? c->new : c->old;
		struct hp_change *pc;

		if (!c->is_func || !s->parent) {
			d->changes[w++] = *c;
			continue;
		}
		if (c->status != HP_UNCHANGED) {
			struct hp_symbol *parent = s->parent;

			pc = find_change_of(d, parent);
			if (!pc) {
				bool in_new = c->new != NULL;
				GROW(d->changes, d->cap_changes, d->nr_changes + 1);
				c = &d->changes[i];  /* may have moved */
				pc = new_change(d, HP_CHANGED, true, in_new ? parent->twin : parent,
						in_new ? parent : parent->twin);
				if (!pc->old || !pc->new)
					pc->status = pc->new ? HP_ADDED : HP_REMOVED;
			} else if (pc->status == HP_UNCHANGED) {
				pc->status = HP_CHANGED;
			}
			if (pc->status == HP_CHANGED)
				add_reason(pc, xasprintf("part %s %s", s->name,
							 c->status == HP_CHANGED ? "changed" : status_name(c->status)));
			/* the family is line-only only if every changed piece is */
			if (!c->line_only)
				pc->line_only = false;
			else if (pc->nr_reasons == 1)
				pc->line_only = true;
		}
		free_change(c);
	}
	d->nr_changes = w;
}

/*
 * What explain_inlines() asks for each changed function's inlined helpers,
 * answered from tables built once per diff: a change's status by new
 * symbol, and per helper name the functions with code that inline it.
 * Asked directly (a scan of the changes per question, a scan of every
 * function per helper) it was O(changes x helpers x functions): a fix in
 * a header inline that thousands of functions inline would never finish.
 */
struct inline_tables {
	const struct hp_diff *d;
	int *status_of_sym;          /* new symbol index -> hp_status, -1 none */
	struct hmap helper_index;    /* helper name -> index + 1 in helpers */
	struct helper_users {
		size_t users;
		bool all_changed;
	} *helpers;
	size_t nr_helpers, cap_helpers;
	bool helpers_built;
};

static void inline_tables_init(struct inline_tables *t, const struct hp_diff *d)
{
	size_t nsyms = d->new->nr_symbols;

	memset(t, 0, sizeof(*t));
	t->d = d;
	t->status_of_sym = xmalloc((nsyms ? nsyms : 1) * sizeof(*t->status_of_sym));
	for (size_t i = 0; i < nsyms; i++)
		t->status_of_sym[i] = -1;
	/* the first change of a symbol decides, as a scan in order did */
	for (size_t i = 0; i < d->nr_changes; i++) {
		const struct hp_change *c = &d->changes[i];
		size_t si;

		if (!c->new)
			continue;
		si = (size_t)(c->new - d->new->symbols);
		if (si < nsyms && t->status_of_sym[si] < 0)
			t->status_of_sym[si] = c->status == HP_CHANGED && c->line_only ? HP_UNCHANGED : (int)c->status;
	}
	hmap_init(&t->helper_index);
}

static void inline_tables_free(struct inline_tables *t)
{
	free(t->status_of_sym);
	free(t->helpers);
	hmap_free(&t->helper_index);
}

/* How the out-of-line function 'name' fared: HP_CHANGED (not line-only),
 * HP_ADDED, or HP_UNCHANGED for anything else (line-number-only changes,
 * a name that is no function of new). */
static enum hp_status function_status(const struct inline_tables *t, const char *name)
{
	const struct hp_symbol *n = find_symbol_by_name(t->d->new, name);
	int st;

	if (!n || n->kind != HP_SYM_FUNC)
		return HP_UNCHANGED;
	st = t->status_of_sym[n - t->d->new->symbols];
	return st < 0 ? HP_UNCHANGED : (enum hp_status)st;
}

static struct helper_users *helper_of(struct inline_tables *t, const char *x, bool add)
{
	uintptr_t i = (uintptr_t)hmap_get(&t->helper_index, x);

	if (i)
		return &t->helpers[i - 1];
	if (!add)
		return NULL;
	GROW(t->helpers, t->cap_helpers, t->nr_helpers + 1);
	t->helpers[t->nr_helpers] = (struct helper_users){ 0, true };
	hmap_put(&t->helper_index, x, (void *)(uintptr_t)++t->nr_helpers);
	return &t->helpers[t->nr_helpers - 1];
}

/* One pass over every function with code: for each helper it inlines
 * (each function's list is deduplicated), one more user, and whether
 * every user so far changed. */
static void build_helper_users(struct inline_tables *t)
{
	const struct hp_dwarf *dw = t->d->new->dwarf;

	t->helpers_built = true;
	for (size_t i = 0; i < dw->nr_funcs; i++) {
		const struct hp_dwarf_func *f = &dw->funcs[i];
		bool changed;

		if (!f->has_code || !f->nr_inlined)
			continue;
		changed = function_status(t, f->name) == HP_CHANGED;
		for (size_t k = 0; k < f->nr_inlined; k++) {
			struct helper_users *h = helper_of(t, f->inlined[k], true);
			h->users++;
			h->all_changed &= changed;
		}
	}
}

/* The helper's own facts in one object: span of source lines and
 * signature, so an inline-only helper's edit can be seen when it changes
 * either. */
static bool dwarf_helper_differs(const struct hp_diff *d, const char *x)
{
	const struct hp_dwarf_func *a = dwarf_find_func(d->old->dwarf, x);
	const struct hp_dwarf_func *b = dwarf_find_func(d->new->dwarf, x);

	if (!a || !b)
		return false;
	if ((a->signature && b->signature && strcmp(a->signature, b->signature)) ||
	    (a->next_line - a->line) != (b->next_line - b->line))
		return true;
	return false;
}

/* Did inlined helper X change?  Evidence only: its out-of-line copy
 * changed or is new, or DWARF shows its source span or signature changed.
 * 1 changed, 2 new, 0 no, -1 cannot tell (inline-only, same span). */
static int inlined_helper_changed(const struct inline_tables *t, const char *x)
{
	const struct hp_diff *d = t->d;

	if (find_symbol_by_name(d->new, x)) {
		enum hp_status st = function_status(t, x);
		return st == HP_CHANGED ? 1 : st == HP_ADDED ? 2 : 0;
	}
	return dwarf_helper_differs(d, x) ? 1 : -1;
}

/* A hint, not a claim: helper X (inline only) is worth naming when every
 * function with code that inlines it changed; one used all over the file
 * (an error-reporting helper) while most users stay the same is noise. */
static bool every_user_changed(struct inline_tables *t, const char *x)
{
	const struct helper_users *h;

	if (!t->helpers_built)
		build_helper_users(t);
	h = helper_of(t, x, false);
	return h && h->users > 0 && h->all_changed;
}

static void explain_inlines(struct hp_diff *d)
{
	struct inline_tables t;

	if (!d->new->dwarf || !d->old->dwarf)
		return;
	inline_tables_init(&t, d);
	for (size_t i = 0; i < d->nr_changes; i++) {
		struct hp_change *c = &d->changes[i];
		const struct hp_dwarf_func *f;

		if (c->status != HP_CHANGED || !c->is_func || c->line_only)
			continue;
		f = dwarf_func_of(d->new, c->new);
		for (size_t k = 0; f && k < f->nr_inlined; k++) {
			int ch = inlined_helper_changed(&t, f->inlined[k]);

			if (ch == 1)
				add_reason(c, xasprintf("inlines %s, which changed", f->inlined[k]));
			else if (ch == 2)
				add_reason(c, xasprintf("inlines %s, which is new", f->inlined[k]));
			else if (ch < 0 && every_user_changed(&t, f->inlined[k]))
				add_reason(c, xasprintf("inlines %s (no out-of-line copy to compare)", f->inlined[k]));
		}
	}
	inline_tables_free(&t);
}

static int cmp_change(const void *a, const void *b)
{
	const struct hp_change *x = a, *y = b;
	int c;

	if (x->is_func != y->is_func)
		return x->is_func ? -1 : 1;
	c = strcmp(x->name, y->name);
	if (c)
		return c;
	return (int)x->status - (int)y->status;
}

static void add_note(struct hp_diff *d, char *note)
{
	d->notes = xrealloc(d->notes, (d->nr_notes + 1) * sizeof(*d->notes));
	d->notes[d->nr_notes++] = note;
}

static void add_notes(struct hp_diff *d)
{
	const char *po = dwarf_producer(d->old->dwarf), *pn = dwarf_producer(d->new->dwarf);

	if (d->old->dwarf_problem)
		add_note(d, xasprintf("%s: %s", d->old->path, d->old->dwarf_problem));
	if (d->new->dwarf_problem)
		add_note(d, xasprintf("%s: %s", d->new->path, d->new->dwarf_problem));
	if (po && pn && strcmp(po, pn))
		add_note(d, xasprintf("built differently: old by \"%s\", new by \"%s\"", po, pn));
}

void diff_objects(struct hp_elf *old, struct hp_elf *new, bool all, struct hp_diff *d)
{
	memset(d, 0, sizeof(*d));
	d->old = old;
	d->new = new;
	diff_kind(d, true, true);
	fold_children(d);
	explain_inlines(d);
	diff_kind(d, false, all);
	if (!all) {
		size_t w = 0;
		for (size_t i = 0; i < d->nr_changes; i++) {
			if (d->changes[i].status == HP_UNCHANGED)
				free_change(&d->changes[i]);
			else
				d->changes[w++] = d->changes[i];
		}
		d->nr_changes = w;
	}
	if (d->nr_changes > 1)  /* changes is NULL when there are none */
		qsort(d->changes, d->nr_changes, sizeof(*d->changes), cmp_change);
	add_notes(d);
}

size_t diff_count(const struct hp_diff *d)
{
	size_t n = 0;

	for (size_t i = 0; i < d->nr_changes; i++)
		n += d->changes[i].status != HP_UNCHANGED;
	return n;
}

void diff_free(struct hp_diff *d)
{
	for (size_t i = 0; i < d->nr_changes; i++)
		free_change(&d->changes[i]);
	free(d->changes);
	for (size_t i = 0; i < d->nr_notes; i++)
		free(d->notes[i]);
	free(d->notes);
	memset(d, 0, sizeof(*d));
}
