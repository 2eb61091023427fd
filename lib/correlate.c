/*
 * correlate.c - correlation keys, .cold/.part parents, source locations and
 * twins (correlate.h).
 *
 * Matching levels, tried in this order by correlate_pair():
 *   1. equal keys: the name with compiler numbering removed, so gcc's
 *      "parse.constprop.0" matches "parse.constprop.1" and clang's
 *      "f.llvm.8841" matches "f.llvm.102";
 *   2. gcc static locals ("count.3") are keyed by their owning function
 *      ("count@parse"), so renumbering by an unrelated edit elsewhere in the
 *      file does not break the match, while two functions' 'static int
 *      count' stay apart;
 *   3. several symbols with one key (two constprop clones of one function)
 *      are paired in name order ("#2", "#3" ... added to later ones);
 *   4. statics renamed by a numbering the source does not control (a
 *      macro's __COUNTER__, a generated name) are paired by owner and use:
 *      see pair_renamed_statics().
 */
#include "correlate.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "dwarf.h"
#include "fingerprint.h"

static bool all_digits(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

char *normalize_name(const char *name)
{
	struct strbuf sb;
	const char *p = name, *dot;
	bool first = true;

	sb_init(&sb);
	do {
		size_t n;

		dot = strchr(p, '.');
		n = dot ? (size_t)(dot - p) : strlen(p);
		if (first) {
			sb_add(&sb, p, n);
			first = false;
		} else if (all_digits(p, n)) {
			/* numbering: .constprop.N, .isra.N, .part.N, var.N, .lto_priv.N */
		} else if (n == 4 && !strncmp(p, "llvm", 4)) {
			/* clang's .llvm.<hash> on promoted locals */
		} else {
			sb_addc(&sb, '.');
			sb_add(&sb, p, n);
		}
		p = dot ? dot + 1 : NULL;
	} while (p);
	return sb_detach(&sb);
}

static bool is_identifier(const char *s, size_t n)
{
	if (!n || isdigit((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

/* gcc gives a static local the name of the variable plus a number unique in
 * the file ("count.3"): that number shifts with unrelated edits. */
bool is_numbered_static_local(const struct hp_symbol *s)
{
	const char *dot = strchr(s->name, '.');

	if (s->kind != HP_SYM_OBJECT || s->bind != STB_LOCAL || !dot)
		return false;
	return is_identifier(s->name, (size_t)(dot - s->name)) && all_digits(dot + 1, strlen(dot + 1));
}

/* gcc splits unlikely code into "f.cold" and outlines partial inlining
 * into "f.part.N": they are pieces of f, and reported through f. */
bool is_child_name(const char *name)
{
	const char *cold = strstr(name, ".cold");

	if (cold && (cold[5] == '\0' || cold[5] == '.'))
		return true;
	return strstr(name, ".part.") != NULL;
}

static char *child_parent_name(const char *name)
{
	const char *cut = strstr(name, ".part.");
	const char *cold = strstr(name, ".cold");

	if (!cut || (cold && cold < cut))
		cut = cold;
	return cut ? xstrndup(name, (size_t)(cut - name)) : NULL;
}

/* The source-level name: "parse" for "parse.constprop.0", "count" for
 * "count.3"; clang's "f.count" static locals stay whole. */
static char *source_name_of(const struct hp_symbol *s)
{
	const char *dot = strchr(s->name, '.');

	if (!dot || (s->kind == HP_SYM_OBJECT && !is_numbered_static_local(s)))
		return xstrdup(s->name);
	return xstrndup(s->name, (size_t)(dot - s->name));
}

/* A static local's owner: the function that refers to it. */
struct owner_pick {
	const char *key;  /* the owner's key, NULL while none refers to it */
	bool in_dwarf;    /* DWARF says that function declares the variable */
};

/* Of the functions that refer to a static local, prefer the one DWARF says
 * declares it, then the smallest key: stable whatever the symbol order. */
static void consider_owner(struct owner_pick *p, const struct hp_symbol *f,
			   const struct hp_symbol *v, const struct hp_dwarf *d)
{
	char *fname, *vname;
	bool in_dwarf;

	/* f cannot win when it is the pick already, or when the pick is
	 * declared in DWARF and does not sort after f: then no DWARF lookup
	 * (and no name copies) for each further reference */
	if (p->key && (f->key == p->key || (p->in_dwarf && strcmp(f->key, p->key) >= 0)))
		return;
	fname = source_name_of(f);
	vname = source_name_of(v);
	in_dwarf = d && dwarf_find_var(d, fname, vname);
	free(fname);
	free(vname);
	if (!p->key || (in_dwarf && !p->in_dwarf) ||
	    (in_dwarf == p->in_dwarf && strcmp(f->key, p->key) < 0)) {
		p->key = f->key;
		p->in_dwarf = in_dwarf;
	}
}

/* One pass over every function's relocations records, for each numbered
 * static local, the function that owns it: linear in the relocations
 * rather than (static locals x relocations), which dominated large files. */
static void key_static_locals(struct hp_elf *e)
{
	struct owner_pick *pick = xcalloc(e->nr_symbols ? e->nr_symbols : 1, sizeof(*pick));
	bool *numbered = xcalloc(e->nr_symbols ? e->nr_symbols : 1, sizeof(*numbered));
	bool any = false;

	for_each_sym(e, s)
		any |= numbered[s - e->symbols] = is_numbered_static_local(s);
	for_each_sym(e, f) {
		if (!any || f->kind != HP_SYM_FUNC)
			continue;
		sym_for_each_reloc(f, r) {
			struct hp_target t;
			size_t vi;

			resolve_target(f->sec, r, &t);
			if (t.kind != HP_TARGET_SYMBOL || !t.sym)
				continue;
			vi = (size_t)(t.sym - e->symbols);
			if (vi < e->nr_symbols && numbered[vi])
				consider_owner(&pick[vi], f, t.sym, e->dwarf);
		}
	}
	for_each_sym(e, s) {
		char *base, *key;

		if (!numbered[s - e->symbols])
			continue;
		base = source_name_of(s);
		key = pick[s - e->symbols].key ? xasprintf("%s@%s", base, pick[s - e->symbols].key)
					       : xstrdup(base);
		free(base);
		free(s->key);
		s->key = key;
	}
	free(numbered);
	free(pick);
}

static int cmp_sym_key_then_name(const void *a, const void *b)
{
	const struct hp_symbol *x = *(struct hp_symbol *const *)a, *y = *(struct hp_symbol *const *)b;
	int c = strcmp(x->key, y->key);

	if (c)
		return c;
	c = strverscmp(x->name, y->name);
	return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* Several symbols with one key: the later ones (in name order) get "#N". */
static void dedupe_keys(struct hp_elf *e)
{
	struct hp_symbol **v = xcalloc(e->nr_symbols ? e->nr_symbols : 1, sizeof(*v));
	size_t n = 0;

	for_each_sym(e, s)
		if (s->key)
			v[n++] = s;
	qsort(v, n, sizeof(*v), cmp_sym_key_then_name);
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && !strcmp(v[j]->key, v[i]->key); j++)
			;
		for (size_t k = i + 1; k < j; k++) {
			char *key = xasprintf("%s#%zu", v[k]->key, k - i + 1);
			free(v[k]->key);
			v[k]->key = key;
		}
	}
	free(v);
}

static void find_parents(struct hp_elf *e)
{
	for_each_sym(e, s) {
		char *pname;
		struct hp_symbol *p;

		if (s->kind != HP_SYM_FUNC || !is_child_name(s->name))
			continue;
		pname = child_parent_name(s->name);
		p = pname ? find_symbol_by_name(e, pname) : NULL;
		if (p && p->kind == HP_SYM_FUNC && p != s)
			s->parent = p;
		free(pname);
	}
}

static void locate_in_source(struct hp_elf *e)
{
	for_each_sym(e, s) {
		char *name;

		if (!e->dwarf || (s->kind != HP_SYM_FUNC && s->kind != HP_SYM_OBJECT))
			continue;
		name = source_name_of(s);
		if (s->kind == HP_SYM_FUNC) {
			const struct hp_dwarf_func *f = dwarf_find_func(e->dwarf, name);
			if (f) {
				s->file = f->file;
				s->line = f->line;
			}
		} else {
			const struct hp_dwarf_var *v = NULL;
			const char *at = s->key ? strchr(s->key, '@') : NULL;

			if (at) {
				char *owner = xstrdup(at + 1), *cut = strpbrk(owner, ".#");
				if (cut)
					*cut = '\0';
				v = dwarf_find_var(e->dwarf, owner, name);
				free(owner);
			}
			if (!v)
				v = dwarf_find_var(e->dwarf, NULL, name);
			if (v) {
				s->file = v->file;
				s->line = v->line;
			}
		}
		free(name);
	}
}

void correlate_prepare(struct hp_elf *e)
{
	for_each_sym(e, s)
		if (s->kind == HP_SYM_FUNC || s->kind == HP_SYM_OBJECT)
			s->key = normalize_name(s->name);
	key_static_locals(e);
	dedupe_keys(e);
	for_each_sym(e, s)
		if (s->key)
			hmap_put(&e->sym_by_key, s->key, s);
	find_parents(e);
	locate_in_source(e);
}

/* ---- level 4: renamed statics, by owner and use ---- */

/* A local object the keys left without a twin. */
static bool unpaired_local_object(const struct hp_symbol *s)
{
	return s && s->kind == HP_SYM_OBJECT && s->bind == STB_LOCAL && !s->twin && s->sec;
}

/* For each unpaired local object of e (by symbol index), its only user:
 * the one function whose code refers to it.  NULL when nothing or more
 * than one symbol refers to it, or data does: such a variable is not one
 * function's own, and pairing it by its user would be a guess. */
static const struct hp_symbol **sole_users(const struct hp_elf *e)
{
	const struct hp_symbol **user = xcalloc(e->nr_symbols ? e->nr_symbols : 1, sizeof(*user));
	bool *shared = xcalloc(e->nr_symbols ? e->nr_symbols : 1, sizeof(*shared));

	for_each_sec(e, sec) {
		if (!(sec->flags & SHF_ALLOC) || is_debug_sec(sec))
			continue;
		sec_for_each_reloc(sec, r) {
			struct hp_target t;
			const struct hp_symbol *from;
			size_t i;

			resolve_target(sec, r, &t);
			if (t.kind != HP_TARGET_SYMBOL || !unpaired_local_object(t.sym))
				continue;
			i = t.sym->index;
			from = find_symbol_containing(sec, r->offset);
			if (!from || from->kind != HP_SYM_FUNC || (user[i] && user[i] != from))
				shared[i] = true;
			else
				user[i] = from;
		}
	}
	for (size_t i = 0; i < e->nr_symbols; i++)
		if (shared[i])
			user[i] = NULL;
	free(shared);
	return user;
}

/* The unpaired local objects function f alone uses, in the order its code
 * first refers to them (caller frees). */
static size_t owned_statics(const struct hp_symbol *f, const struct hp_symbol **user,
			    struct hp_symbol ***out)
{
	struct hp_symbol **v = NULL;
	size_t n = 0, cap = 0;

	sym_for_each_reloc(f, r) {
		struct hp_target t;
		bool seen = false;

		resolve_target(f->sec, r, &t);
		if (t.kind != HP_TARGET_SYMBOL || !unpaired_local_object(t.sym) || user[t.sym->index] != f)
			continue;
		for (size_t k = 0; k < n && !seen; k++)
			seen = v[k] == t.sym;
		if (!seen) {
			GROW(v, cap, n + 1);
			v[n++] = (struct hp_symbol *)t.sym;
		}
	}
	*out = v;
	return n;
}

/* The same kind of storage: a renamed counter keeps its size, and stays
 * zero-initialised (.bss) or initialised, writable or read-only.  Its
 * initial bytes may differ: that is a change the diff reports. */
static bool same_storage(const struct hp_symbol *o, const struct hp_symbol *n)
{
	return o->size == n->size && o->sec->type == n->sec->type &&
	       (o->sec->flags & (SHF_WRITE | SHF_TLS)) == (n->sec->flags & (SHF_WRITE | SHF_TLS));
}

/*
 * Twin functions that each own the same number of unpaired statics, of the
 * same storage in the same order of first use, own the same variables: a
 * COUNT() macro naming 'static int hits_<__COUNTER__>' renames next_ticket()'s
 * counter hits_0 -> hits_1 when a new COUNT() is added above it, and the
 * running program's counter must be kept, not re-created at zero.  The new
 * symbol takes the old one's key and its owner is fingerprinted again, so
 * an owner whose code did not change stays unchanged.  Counts or storage
 * that disagree pair nothing: never a guess.
 */
static void pair_renamed_statics(struct hp_elf *a, struct hp_elf *b)
{
	const struct hp_symbol **ua = NULL, **ub = NULL;
	bool rekeyed = false;

	for_each_sym(a, f) {
		struct hp_symbol **lo, **ln;
		size_t no, nn;
		bool ok;

		if (f->kind != HP_SYM_FUNC || !f->twin || !f->nr_relocs)
			continue;
		if (!ua) {
			ua = sole_users(a);
			ub = sole_users(b);
		}
		no = owned_statics(f, ua, &lo);
		nn = no ? owned_statics(f->twin, ub, &ln) : 0;
		ok = no && no == nn;
		for (size_t k = 0; ok && k < no; k++)
			ok = same_storage(lo[k], ln[k]) && lo[k]->key && !find_symbol_by_key(b, lo[k]->key);
		for (size_t k = 0; ok && k < no; k++) {
			lo[k]->twin = ln[k];
			ln[k]->twin = lo[k];
			free(ln[k]->key);
			ln[k]->key = xstrdup(lo[k]->key);
			rekeyed = true;
		}
		if (ok)
			fingerprint_symbol(f->twin);
		free(lo);
		if (no)
			free(ln);
	}
	if (rekeyed) {
		hmap_free(&b->sym_by_key);
		hmap_init(&b->sym_by_key);
		for_each_sym(b, s)
			if (s->key)
				hmap_put(&b->sym_by_key, s->key, s);
	}
	free(ua);
	free(ub);
}

void correlate_pair(struct hp_elf *a, struct hp_elf *b)
{
	for_each_sym(a, s) {
		struct hp_symbol *t;

		if (!s->key)
			continue;
		t = find_symbol_by_key(b, s->key);
		if (t && t->kind == s->kind && !t->twin) {
			s->twin = t;
			t->twin = s;
		}
	}
	pair_renamed_statics(a, b);
	for_each_sec(a, sec) {
		struct hp_section *t = sec->name[0] ? find_section_by_name(b, sec->name) : NULL;
		if (t) {
			sec->twin = t;
			t->twin = sec;
		}
	}
}

const struct hp_symbol *report_symbol(const struct hp_symbol *s)
{
	return s->parent ? s->parent : s;
}
