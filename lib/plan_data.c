/*
 * plan_data.c - the plan's data decisions (plan.h): each data object kept
 * or copied, a changed read-only table carried with its readers, writable
 * data without a symbol refused, code without a symbol carried as code,
 * the base module's duplicated constants carried.  plan.c calls these in
 * plan_pair(); nothing else decides what data a package holds.
 */
#include "plan.h"
#include "plan_int.h"

#include <stdlib.h>
#include <string.h>

#include "fingerprint.h"
#include "hpk.h"
#include "modfile.h"
#include "reloc.h"

/* A table the program never writes: read-only data, or RELRO data
 * (.data.rel.ro*: a const table of pointers in position-independent code,
 * written only by the dynamic linker before the program runs). */
static bool is_readonly_table(const struct hp_symbol *s)
{
	return s->kind == HP_SYM_OBJECT && s->sec && s->type != STT_TLS &&
	       (!strcmp(section_kind(s->sec), "rodata") || !strncmp(s->sec->name, ".data.rel.ro", 12));
}

/*
 * The functions of e that refer to object s, into *out (primaries, each
 * once; caller frees), or false when anything else refers to it: data (a
 * table of pointers to it), code outside any function symbol.  Debug and
 * unwind sections do not count.
 */
static bool function_readers(const struct hp_elf *e, const struct hp_symbol *s, struct hp_symbol ***out,
			     size_t *nr)
{
	struct hp_symbol **v = NULL;
	size_t n = 0, cap = 0;

	for_each_sec(e, sec) {
		if (is_bookkeeping_sec(sec))
			continue;
		sec_for_each_reloc(sec, r) {
			struct hp_target t;
			struct hp_symbol *from;
			bool seen = false;

			resolve_target(sec, r, &t);
			if (t.kind != HP_TARGET_SYMBOL || t.sym != s)
				continue;
			from = find_symbol_containing(sec, r->offset);
			if (!from || from->kind != HP_SYM_FUNC) {
				free(v);
				return false;
			}
			from = plan_primary(from);
			for (size_t k = 0; k < n && !seen; k++)
				seen = v[k] == from;
			if (!seen) {
				GROW(v, cap, n + 1);
				v[n++] = from;
			}
		}
	}
	*out = v;
	*nr = n;
	return true;
}

/*
 * A changed read-only table ships as a new copy, and every function that
 * reads it is replaced (its code may be identical: it is pointed at the
 * new copy).  That is right only when the package can replace every
 * reader: the table is local to this unit (another object could read a
 * global one), and only functions refer to it, in both builds, each old
 * reader having a twin to be redirected.  Otherwise the table is kept and
 * HP008/HP001 refuse the change.
 * Example: 'static const unsigned char path_class[256]' loses one entry;
 * path_char_class() and path_ok() index it: both are replaced, the
 * package carries the new table.
 */
static void carry_changed_table(const struct hp_plan *p, struct hp_symbol *o, struct hp_symbol *n, bool *must)
{
	struct hp_symbol **ro = NULL, **rn = NULL;
	size_t nro = 0, nrn = 0;
	bool ok = is_readonly_table(o) && is_readonly_table(n) && o->bind == STB_LOCAL && n->bind == STB_LOCAL &&
		  plan_fingerprint_differs(o, n);

	ok = ok && function_readers(p->old, o, &ro, &nro);
	ok = ok && function_readers(p->new, n, &rn, &nrn);
	for (size_t k = 0; ok && k < nro; k++)
		ok = ro[k]->twin != NULL;
	if (ok) {
		n->plan = HP_PLAN_COPY;
		for (size_t k = 0; k < nro; k++)
			must[plan_primary(ro[k]->twin)->index] = true;
		for (size_t k = 0; k < nrn; k++)
			must[rn[k]->index] = true;
	}
	free(ro);
	free(rn);
}

/* Data objects: an object with a twin is the running program's (KEEP),
 * one without is new (COPY), a changed read-only table may be carried
 * (carry_changed_table).  'must' (by new symbol) gets the functions that
 * go into the package because of the data they read. */
void plan_data(struct hp_plan *p, bool *must)
{
	for_each_sym(p->new, n)
		if (n->kind == HP_SYM_OBJECT)
			n->plan = n->twin ? HP_PLAN_KEEP : HP_PLAN_COPY;
	for_each_sym(p->old, o)
		if (o->kind == HP_SYM_OBJECT)
			o->plan = HP_PLAN_KEEP;
	for_each_sym(p->new, n)
		if (n->kind == HP_SYM_OBJECT && n->twin)
			carry_changed_table(p, n->twin, n, must);
}

/* Writable anonymous data is live state when its section existed before:
 * a counter table named only by an asm label (.data..Lweights), clang's
 * private writable globals. */
static bool is_existing_anon_state(const struct hp_target *t)
{
	const char *k;

	if (t->kind != HP_TARGET_ANON || !t->sec)
		return false;
	k = section_kind(t->sec);
	return t->sec->twin && (!strcmp(k, "data") || !strcmp(k, "bss")) && strncmp(t->sec->name, ".data.rel.ro", 12);
}

void plan_anon_state(struct hp_plan *p)
{
	size_t cap = 0;

	for_each_sym(p->new, n) {
		if (n->kind != HP_SYM_FUNC || n->alias_of || !plan_is_packaged(n))
			continue;
		sym_for_each_reloc(n, r) {
			struct hp_target t;
			bool seen = false;

			resolve_target(n->sec, r, &t);
			if (!is_existing_anon_state(&t))
				continue;
			for (size_t k = 0; k < p->nr_anon_state && !seen; k++)
				seen = p->anon_state[k].sec == t.sec && p->anon_state[k].start == t.start;
			if (seen)
				continue;
			GROW(p->anon_state, cap, p->nr_anon_state + 1);
			p->anon_state[p->nr_anon_state++] =
				(struct plan_anon_state){ .user = n, .sec = t.sec, .start = t.start, .len = t.len };
		}
	}
}

/*
 * Carry a read-only constant of the base module in the package instead of
 * referring to the module's copy, when that copy cannot be found once by
 * content (as hpapply must, where the module is stripped): a
 * relocation-free static constant, unchanged, whose bytes are in the
 * module more than once (zlib's fixed Huffman tables lenfix and distfix,
 * and the code-length order, are in inflate.c and infback.c alike).  Its
 * bytes cannot change and every copy is the same, so the package's own
 * copy behaves as the module's would; one found once is used in place,
 * and one not found at all stays a reference, which hpbuild --base then
 * refuses (another build).
 */
static bool is_duplicated_base_constant(const struct modfile *mf, const struct hp_symbol *n)
{
	const struct hp_symbol *o = n->twin;
	struct hpk_static st = { .kind = HPK_STATIC_RODATA };
	uint64_t at[2];

	if (!mf || n->kind != HP_SYM_OBJECT || n->bind != STB_LOCAL || n->type == STT_TLS || !o || !o->sec ||
	    !sym_data(o) || o->nr_relocs || strcmp(section_kind(o->sec), "rodata") || !o->size ||
	    o->size != n->size || !n->sec || !sym_data(n) || memcmp(sym_data(o), sym_data(n), n->size))
		return false;
	st.align = section_align(o->sec);
	st.size = (uint32_t)o->size;
	st.hash = hpk_masked_hash(sym_data(o), st.size, NULL, 0);
	return modfile_find_static(mf, &st, at, 2) >= 2;
}

/* The constants packaged code uses that the base module holds twice. */
void plan_base_constants(struct hp_plan *p)
{
	if (!p->opt.base)
		return;
	for_each_sym(p->new, n) {
		if (n->kind != HP_SYM_FUNC || n->alias_of || !plan_is_packaged(n))
			continue;
		sym_for_each_reloc(n, r) {
			struct hp_target t;

			resolve_target(n->sec, r, &t);
			if (t.kind == HP_TARGET_SYMBOL && t.sym->plan == HP_PLAN_KEEP &&
			    is_duplicated_base_constant(p->opt.base, t.sym))
				((struct hp_symbol *)t.sym)->plan = HP_PLAN_COPY;
		}
	}
}

ssize_t plan_anon_code_index(const struct hp_plan *p, const struct hp_section *sec, uint64_t start)
{
	for (size_t k = 0; k < p->nr_anon_code; k++)
		if (p->anon_code[k].sec == sec && p->anon_code[k].start == start)
			return (ssize_t)k;
	return -1;
}

/* Record the anonymous code regions the relocations [r, r + n) of sec
 * reach (only those in [lo, hi) of sec). */
static void note_anon_code(struct hp_plan *p, size_t *cap, const struct hp_section *sec, const struct hp_reloc *r,
			   size_t n, uint64_t lo, uint64_t hi)
{
	for (size_t i = 0; i < n; i++) {
		struct hp_target t;

		if (r[i].offset < lo || r[i].offset >= hi)
			continue;
		resolve_target(sec, &r[i], &t);
		if (t.kind != HP_TARGET_ANON || !t.sec || !is_text_sec(t.sec) ||
		    plan_anon_code_index(p, t.sec, t.start) >= 0)
			continue;
		GROW(p->anon_code, *cap, p->nr_anon_code + 1);
		p->anon_code[p->nr_anon_code++] = (struct plan_anon_code){ .sec = t.sec, .start = t.start, .len = t.len };
	}
}

/* Code without a symbol that packaged functions reach, and what it
 * reaches in turn (the list grows while it is walked). */
void plan_anon_code(struct hp_plan *p)
{
	size_t cap = 0;

	for_each_sym(p->new, n)
		if (n->kind == HP_SYM_FUNC && !n->alias_of && plan_is_packaged(n))
			note_anon_code(p, &cap, n->sec, n->relocs, n->nr_relocs, n->value, n->value + n->size);
	for (size_t k = 0; k < p->nr_anon_code; k++) {
		const struct plan_anon_code a = p->anon_code[k];

		note_anon_code(p, &cap, a.sec, a.sec->relocs, a.sec->nr_relocs, a.start, a.start + a.len);
	}
}

