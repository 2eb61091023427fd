/*
 * plan.c - decide what the package of one object pair holds, on the model
 * (plan.h), and check that the old build with the package applied runs
 * the new code wherever the new build would.  The data decisions are in
 * plan_data.c; plan_pair() below runs them in their place.
 *
 * Selection, in order:
 *   1. a new function is wanted when it has no twin (added) or its
 *      fingerprint differs from its twin's, except __LINE__-only changes
 *      (the diff marks them, sym->line_only) unless asked;
 *   2. a function and its .cold/.part pieces go in together: a cold piece
 *      jumps back into the middle of its parent, so an old piece must
 *      never run against a new parent or the reverse;
 *   3. a packaged function with a twin replaces it (the twin's entry is
 *      redirected), except a piece: a piece replaces its twin only when it
 *      changed and code outside its family enters the old twin (gcc's
 *      partial inlining makes callers call "check.part.0" directly); a
 *      piece entered only from its own family is new code, and its old
 *      twin is superseded (unreachable once the family head is redirected);
 *   4. aliases (function symbols sharing one address) are one function:
 *      the first by symbol index carries the plan, the others follow it.
 */
#include "plan.h"
#include "plan_int.h"

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "correlate.h"
#include "fingerprint.h"
#include "redirect.h"
#include "reloc.h"

bool is_bookkeeping_sec(const struct hp_section *sec)
{
	return !(sec->flags & SHF_ALLOC) || is_debug_sec(sec) || sec->type == SHT_X86_64_UNWIND ||
	       !strcmp(sec->name, ".eh_frame") || !strcmp(sec->name, "__patchable_function_entries") ||
	       !strncmp(sec->name, ".note", 5);
}

bool reloc_code_position(const struct hp_section *sec, const struct hp_reloc *r, uint64_t insn_end,
			 int64_t *pos)
{
	const struct hp_reloc_info *ri = reloc_info(r->type);
	const struct hp_symbol *s = r->sym;

	if (!s || !s->sec || !is_text_sec(s->sec))
		return false;
	*pos = (int64_t)s->value + r->addend;
	if (ri && ri->pcrel) {
		if (is_text_sec(sec))
			*pos += (int64_t)(insn_end ? insn_end - r->offset : ri->width);
		else {
			uint64_t base = r->offset;
			for (size_t i = 0; i < sec->nr_anon_bounds && sec->anon_bounds[i] <= r->offset; i++)
				base = sec->anon_bounds[i];
			*pos -= (int64_t)(r->offset - base);
		}
	}
	return true;
}

bool plan_is_packaged(const struct hp_symbol *n)
{
	return n && (n->plan == HP_PLAN_REPLACE || n->plan == HP_PLAN_ADD);
}

bool plan_is_kept(const struct hp_symbol *o)
{
	return o->kind == HP_SYM_FUNC && o->plan == HP_PLAN_LEAVE;
}

const char *plan_package_name(const struct hp_symbol *n)
{
	return n->plan == HP_PLAN_REPLACE && n->twin ? n->twin->name : n->name;
}

bool plan_fingerprint_differs(const struct hp_symbol *o, const struct hp_symbol *n)
{
	return o->size != n->size || o->code_hash != n->code_hash || o->reloc_hash != n->reloc_hash;
}

static struct hp_symbol *family_head(struct hp_symbol *s)
{
	return s->parent ? s->parent : s;
}

/* Old function o's code differs from what the new build runs there: a
 * __LINE__-only difference is not one (hpbuild leaves those out). */
static bool old_code_changed(const struct hp_symbol *o)
{
	return o->twin && plan_fingerprint_differs(o, o->twin) && !o->twin->line_only;
}

/* ---- aliases ---- */

/* Function symbols at one address of one section are one function (a
 * kernel's sys_x and SyS_x, an __attribute__((alias))): the package must
 * redirect that address once.  sec->syms is sorted by value. */
static void find_aliases(struct hp_elf *e)
{
	for_each_sec(e, sec) {
		for (size_t i = 0, j; i < sec->nr_syms; i = j) {
			struct hp_symbol *first = NULL;

			for (j = i; j < sec->nr_syms && sec->syms[j]->value == sec->syms[i]->value; j++) {
				struct hp_symbol *s = sec->syms[j];

				if (s->kind != HP_SYM_FUNC || !s->size)
					continue;
				if (!first || s->index < first->index)
					first = s;
			}
			for (size_t k = i; first && k < j; k++) {
				struct hp_symbol *s = sec->syms[k];

				if (s != first && s->kind == HP_SYM_FUNC && s->size == first->size)
					s->alias_of = first;
			}
		}
	}
}

struct hp_symbol *plan_primary(struct hp_symbol *s)
{
	return s->alias_of ? s->alias_of : s;
}

/* ---- references into old functions the package takes over ---- */

static bool is_branch_field(const struct hp_section *sec, const struct hp_reloc *r)
{
	uint8_t op, op0;

	if (!is_text_sec(sec) || !sec->data || r->offset < 1 || r->offset > sec->size)
		return false;
	op = sec->data[r->offset - 1];
	op0 = r->offset >= 2 ? sec->data[r->offset - 2] : 0;
	return op == 0xe8 || op == 0xe9 || (op0 == 0x0f && op >= 0x80 && op <= 0x8f);
}

static void add_ref(struct hp_plan *p, size_t *cap, struct plan_ref ref)
{
	GROW(p->refs, *cap, p->nr_refs + 1);
	p->refs[p->nr_refs++] = ref;
}

/* Every reference of the old object (code and data, not bookkeeping) that
 * lands in an old function marked in 'target': one pass over the
 * relocations into the sections holding such functions. */
static void collect_refs(struct hp_plan *p, const bool *target)
{
	struct hp_elf *e = p->old;
	bool *sec_wanted = xcalloc(e->nr_sections ? e->nr_sections : 1, sizeof(bool));
	bool any = false;
	size_t cap = 0;

	for_each_sym(e, o)
		if (target[o->index] && o->sec) {
			sec_wanted[o->sec->index] = true;
			any = true;
		}
	for_each_sec(e, sec) {
		if (!any || is_bookkeeping_sec(sec))
			continue;
		sec_for_each_reloc(sec, r) {
			struct hp_symbol *to;
			int64_t pos;

			if (!r->sym || !r->sym->sec || !sec_wanted[r->sym->sec->index])
				continue;
			if (!reloc_code_position(sec, r, 0, &pos) || pos < 0)
				continue;
			to = find_symbol_containing(r->sym->sec, (uint64_t)pos);
			if (!to || to->kind != HP_SYM_FUNC)
				continue;
			to = plan_primary(to);
			if (!target[to->index])
				continue;
			{
				struct hp_symbol *from = find_symbol_containing(sec, r->offset);

				if (from && plan_primary(from) == to)
					continue;   /* inside itself */
				add_ref(p, &cap, (struct plan_ref){
					.from_sec = sec, .from = from ? plan_primary(from) : NULL, .from_off = r->offset,
					.to = to, .to_off = (uint64_t)pos - to->value,
					.branch = is_branch_field(sec, r) });
			}
		}
	}
	free(sec_wanted);
}

/* A reference from code the plan keeps (or from data): not from a
 * function whose new twin is packaged. */
static bool from_kept_by_plan(const struct plan_ref *r)
{
	const struct hp_symbol *f = r->from;

	if (!f || f->kind != HP_SYM_FUNC)
		return true;
	return !(f->twin && plan_is_packaged(f->twin)) && (f->twin || !is_local_sym(f));
}

/* Piece n (a .part/.cold child with twin o) must replace o: it changed,
 * and code outside its family enters o at its entry. */
static bool piece_entered_from_outside(const struct hp_plan *p, struct hp_symbol *o)
{
	for (size_t i = 0; i < p->nr_refs; i++) {
		const struct plan_ref *r = &p->refs[i];

		if (r->to != o || r->to_off != 0 || !from_kept_by_plan(r))
			continue;
		if (r->from && r->from->kind == HP_SYM_FUNC && family_head((struct hp_symbol *)r->from) == family_head(o))
			continue;
		return true;
	}
	return false;
}

/* ---- the plan ---- */

static bool wanted(struct hp_plan *p, const struct hp_symbol *n)
{
	if (!n->twin)
		return true;
	if (!plan_fingerprint_differs(n->twin, n))
		return false;
	if (n->line_only && !p->opt.include_line_only) {
		p->line_only++;
		return false;
	}
	return true;
}

static void plan_functions(struct hp_plan *p, const bool *must)
{
	struct hp_elf *old = p->old, *new = p->new;
	bool *head = xcalloc(new->nr_symbols ? new->nr_symbols : 1, sizeof(bool));
	bool *target = xcalloc(old->nr_symbols ? old->nr_symbols : 1, sizeof(bool));

	for_each_sym(new, n)
		if (n->kind == HP_SYM_FUNC && !n->alias_of && (must[n->index] || wanted(p, n)))
			head[family_head(n)->index] = true;
	for_each_sym(new, n) {
		if (n->kind != HP_SYM_FUNC || n->alias_of)
			continue;
		if (!head[family_head(n)->index])
			n->plan = n->twin && n->line_only && plan_fingerprint_differs(n->twin, n) ? HP_PLAN_LINE_ONLY
										     : HP_PLAN_LEAVE;
		else if (!n->twin)
			n->plan = HP_PLAN_ADD;
		else if (!is_child_name(n->name))
			n->plan = HP_PLAN_REPLACE;
		else
			n->plan = HP_PLAN_ADD;   /* a piece: decided below */
		if (plan_is_packaged(n) && n->twin)
			target[plan_primary(n->twin)->index] = true;
	}
	collect_refs(p, target);
	for_each_sym(new, n)
		if (n->plan == HP_PLAN_ADD && n->twin && is_child_name(n->name) && old_code_changed(n->twin) &&
		    piece_entered_from_outside(p, plan_primary(n->twin)))
			n->plan = HP_PLAN_REPLACE;
	/* aliases follow the first name */
	for_each_sym(new, n)
		if (n->kind == HP_SYM_FUNC && n->alias_of)
			n->plan = n->alias_of->plan == HP_PLAN_LINE_ONLY ? HP_PLAN_LEAVE : n->alias_of->plan;
	for_each_sym(new, n) {
		if (n->kind != HP_SYM_FUNC || n->alias_of)
			continue;
		p->replaced += n->plan == HP_PLAN_REPLACE;
		p->added += n->plan == HP_PLAN_ADD;
	}
	for_each_sym(old, o) {
		struct hp_symbol *n;

		if (o->kind != HP_SYM_FUNC)
			continue;
		n = o->twin ? o->twin : NULL;
		if (o->alias_of && o->alias_of->twin)
			n = o->alias_of->twin;
		if (n && n->alias_of)
			n = n->alias_of;
		if (!n)
			o->plan = is_local_sym(o) ? HP_PLAN_GONE : HP_PLAN_LEAVE;
		else if (n->plan == HP_PLAN_REPLACE)
			o->plan = HP_PLAN_REPLACE;
		else if (n->plan == HP_PLAN_ADD)
			o->plan = HP_PLAN_SUPERSEDED;
		else
			o->plan = HP_PLAN_LEAVE;
	}
	free(head);
	free(target);
}

void plan_pair(struct hp_plan *p, struct hp_elf *old, struct hp_elf *new, const struct hp_diff *d,
	       const struct plan_options *opt)
{
	(void)d;
	memset(p, 0, sizeof(*p));
	p->old = old;
	p->new = new;
	if (opt)
		p->opt = *opt;
	find_aliases(old);
	find_aliases(new);
	{
		bool *must = xcalloc(new->nr_symbols ? new->nr_symbols : 1, sizeof(bool));

		plan_data(p, must);
		plan_functions(p, must);
		free(must);
	}
	plan_anon_state(p);
	plan_anon_code(p);
	plan_base_constants(p);
}

void plan_free(struct hp_plan *p)
{
	free(p->refs);
	free(p->anon_state);
	free(p->anon_code);
	memset(p, 0, sizeof(*p));
}

/* ---- the equivalence check ---- */

/*
 * Anonymous data in the old object (a jump table, a pointer table without
 * a name) runs only for the code that uses it: a function's own jump
 * table dies with the function.  The users of each such region that holds
 * a reference, found in one pass over the code's relocations into it.
 */
struct anon_src {
	const struct hp_section *sec;
	uint64_t start, end;
	const struct hp_symbol **users;   /* functions; NULL entry: other data */
	size_t nr_users, cap_users;
};

static void anon_users(const struct hp_plan *p, struct anon_src *v, size_t n)
{
	for_each_sec(p->old, sec) {
		if (is_bookkeeping_sec(sec))
			continue;
		sec_for_each_reloc(sec, r) {
			int64_t pos;

			if (!r->sym || !r->sym->sec)
				continue;
			for (size_t i = 0; i < n; i++) {
				struct anon_src *a = &v[i];
				const struct hp_reloc_info *ri;

				if (r->sym->sec != a->sec)
					continue;
				ri = reloc_info(r->type);
				pos = (int64_t)r->sym->value + r->addend + (ri && ri->pcrel && is_text_sec(sec) ? 4 : 0);
				if (pos < (int64_t)a->start || pos >= (int64_t)a->end)
					continue;
				GROW(a->users, a->cap_users, a->nr_users + 1);
				a->users[a->nr_users++] = is_text_sec(sec) ? find_symbol_containing(sec, r->offset) : NULL;
			}
		}
	}
}

static void anon_bounds_of(const struct hp_section *sec, uint64_t pos, uint64_t *start, uint64_t *end)
{
	*start = 0;
	*end = sec->size;
	for (size_t i = 0; i < sec->nr_anon_bounds; i++) {
		if (sec->anon_bounds[i] <= pos)
			*start = sec->anon_bounds[i];
		else {
			*end = sec->anon_bounds[i];
			break;
		}
	}
}

/* Anonymous data runs with its users: it is live when one of them is, or
 * when no code refers to it at all (a table something else walks, like
 * __jump_table or a site table in a section of its own). */
static bool anon_live(const struct anon_src *a, const bool *live)
{
	if (!a->nr_users)
		return true;
	for (size_t k = 0; k < a->nr_users; k++)
		if (!a->users[k] || live[plan_primary((struct hp_symbol *)a->users[k])->index])
			return true;
	return false;
}

static bool redirected_at(const bool *redirected, const struct hp_symbol *s)
{
	return redirected[s->index] || (s->alias_of && redirected[s->alias_of->index]);
}

size_t plan_check(const struct hp_plan *p, const bool *redirected, struct plan_path **paths)
{
	const struct hp_elf *e = p->old;
	bool *live = xcalloc(e->nr_symbols ? e->nr_symbols : 1, sizeof(bool));
	ssize_t *anon_of = xcalloc(p->nr_refs ? p->nr_refs : 1, sizeof(*anon_of));
	struct anon_src *anons = NULL;
	size_t nr_anons = 0, cap_anons = 0, n = 0, cap = 0;
	struct plan_path *v = NULL;
	bool more = true;

	/* code that runs whatever the package does: kept functions, and any
	 * function callers elsewhere reach by name unless it is redirected */
	for_each_sym(e, o)
		if (o->kind == HP_SYM_FUNC && !redirected_at(redirected, o) &&
		    (o->plan == HP_PLAN_LEAVE || !is_local_sym(o)))
			live[plan_primary(o)->index] = true;
	/* anonymous data holding a reference: who uses it */
	for (size_t i = 0; i < p->nr_refs; i++) {
		const struct plan_ref *r = &p->refs[i];
		uint64_t s, end;
		size_t k;

		anon_of[i] = -1;
		if (r->from || is_text_sec(r->from_sec))
			continue;
		anon_bounds_of(r->from_sec, r->from_off, &s, &end);
		for (k = 0; k < nr_anons && !(anons[k].sec == r->from_sec && anons[k].start == s); k++)
			;
		if (k == nr_anons) {
			GROW(anons, cap_anons, nr_anons + 1);
			anons[nr_anons++] = (struct anon_src){ .sec = r->from_sec, .start = s, .end = end };
		}
		anon_of[i] = (ssize_t)k;
	}
	if (nr_anons)
		anon_users(p, anons, nr_anons);
	/* what running code reaches, to a fixpoint (only pieces are added) */
	while (more) {
		more = false;
		for (size_t i = 0; i < p->nr_refs; i++) {
			const struct plan_ref *r = &p->refs[i];
			bool src = false;

			if (anon_of[i] >= 0) {
				src = anon_live(&anons[anon_of[i]], live);
			} else {
				src = !r->from || r->from->kind != HP_SYM_FUNC || live[r->from->index];
			}
			if (src && !redirected_at(redirected, r->to) && !live[r->to->index]) {
				live[r->to->index] = true;
				more = true;
			}
		}
	}
	/* every path from running code into changed code */
	for (size_t i = 0; i < p->nr_refs; i++) {
		const struct plan_ref *r = &p->refs[i];
		bool src;
		enum plan_path_kind kind;

		if (anon_of[i] >= 0) {
			src = anon_live(&anons[anon_of[i]], live);
		} else {
			src = !r->from || r->from->kind != HP_SYM_FUNC || live[r->from->index];
		}
		if (!src)
			continue;
		if (redirected_at(redirected, r->to)) {
			/* inside the bytes the jump overwrites: HP006 says so */
			if (r->to_off < HP_REDIRECT_JMP_SIZE)
				continue;
			kind = PATH_INSIDE;
		} else if (old_code_changed(r->to)) {
			kind = PATH_NOT_REDIRECTED;
		} else {
			continue;
		}
		GROW(v, cap, n + 1);
		v[n++] = (struct plan_path){ .kind = kind, .ref = *r };
	}
	/* a changed global function nobody redirects: other objects call it */
	for_each_sym(e, o)
		if (o->kind == HP_SYM_FUNC && !o->alias_of && !is_local_sym(o) && !redirected_at(redirected, o) &&
		    old_code_changed(o)) {
			GROW(v, cap, n + 1);
			v[n++] = (struct plan_path){ .kind = PATH_NOT_REDIRECTED, .ref = { .to = o } };
		}
	for (size_t i = 0; i < nr_anons; i++)
		free(anons[i].users);
	free(anons);
	free(anon_of);
	free(live);
	*paths = v;
	return n;
}
