/*
 * dwarf_facts.c - functions, variables and types from the DIE snapshot.
 *
 * One function may be described by several DIEs: an abstract instance
 * (name, declaration, parameters) and its concrete out-of-line copies
 * (code, inlined calls), linked by DW_AT_abstract_origin; or a declaration
 * and a definition linked by DW_AT_specification.  All DIEs whose origin
 * chains end at one DIE form one function: attributes are looked up along
 * the chain (the DIE's own value first, as DWARF means it), facts about
 * code and contents are gathered from every member.
 *
 * Every pass is linear in the number of nodes (plus sorting): SQLite's
 * amalgamation has hundreds of thousands of DIEs.
 */
#include "dwarf_int.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CHAIN 16

/* The DIEs of one function, in DIE order. */
struct func_build {
	uint32_t *dies;
	size_t nr_dies, cap_dies;
	uint32_t cu;
	bool is_def;          /* some member is a definition */
	bool drop;            /* duplicate declaration of a defined function */
};

struct collector {
	const struct dw_snapshot *s;
	struct dw_types *types;
	struct hp_dwarf *d;
	size_t cap_funcs, cap_vars, cap_types, cap_keys;
	struct func_build *fb;
	/* per variable: its var_by_name key (its name or an "owner/name"
	 * of d->var_keys); the map is built once the array stops moving */
	const char **var_key;
	size_t cap_var_key;
	struct hmap seen_vars;
};

/* A list of strings, sorted and deduplicated when done. */
struct name_set {
	char **v;
	size_t n, cap;
};

static void set_add(struct name_set *set, const char *name)
{
	if (!name)
		return;
	GROW(set->v, set->cap, set->n + 1);
	set->v[set->n++] = xstrdup(name);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void set_finish(struct name_set *set, char ***out, size_t *nr)
{
	size_t n = 0;

	if (set->n > 1)
		qsort(set->v, set->n, sizeof(*set->v), cmp_str);
	for (size_t i = 0; i < set->n; i++) {
		if (n && !strcmp(set->v[n - 1], set->v[i]))
			free(set->v[i]);
		else
			set->v[n++] = set->v[i];
	}
	*out = set->v;
	*nr = n;
	if (!n) {
		free(set->v);
		*out = NULL;
	}
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* ---- functions ---- */

static void group_functions(struct collector *c)
{
	const struct dw_snapshot *s = c->s;
	struct hp_dwarf *d = c->d;
	uint32_t *func_of_root = xmalloc((s->nr_nodes ? s->nr_nodes : 1) * sizeof(*func_of_root));
	size_t cap_fb = 0;

	memset(func_of_root, 0xff, (s->nr_nodes ? s->nr_nodes : 1) * sizeof(*func_of_root));
	for (uint32_t i = 0; i < s->nr_nodes; i++) {
		uint32_t root, f;
		struct func_build *b;

		if (s->nodes[i].tag != DW_TAG_subprogram || !dw_chain_name(s, i))
			continue;
		root = dw_root_of(s, i);
		f = func_of_root[root];
		if (f == DW_NONE) {
			f = func_of_root[root] = (uint32_t)d->nr_funcs;
			GROW(d->funcs, c->cap_funcs, d->nr_funcs + 1);
			GROW(c->fb, cap_fb, d->nr_funcs + 1);
			memset(&d->funcs[f], 0, sizeof(d->funcs[f]));
			memset(&c->fb[f], 0, sizeof(c->fb[f]));
			c->fb[f].cu = s->nodes[root].cu;
			d->nr_funcs++;
		}
		b = &c->fb[f];
		GROW(b->dies, b->cap_dies, b->nr_dies + 1);
		b->dies[b->nr_dies++] = i;
		if (!(s->nodes[i].flags & DWN_DECLARATION))
			b->is_def = true;
	}
	free(func_of_root);
}

/* The member that speaks for the function: one with code, else a
 * definition, else the first. */
static uint32_t primary_die(const struct dw_snapshot *s, const struct func_build *b)
{
	for (size_t i = 0; i < b->nr_dies; i++)
		if (s->nodes[b->dies[i]].flags & DWN_HAS_CODE)
			return b->dies[i];
	for (size_t i = 0; i < b->nr_dies; i++)
		if (!(s->nodes[b->dies[i]].flags & DWN_DECLARATION))
			return b->dies[i];
	return b->dies[0];
}

static bool has_param_children(const struct dw_snapshot *s, uint32_t n)
{
	for (uint32_t c = s->nodes[n].first_child; c != DW_NONE; c = s->nodes[c].next_sibling)
		if (s->nodes[c].tag == DW_TAG_formal_parameter ||
		    s->nodes[c].tag == DW_TAG_unspecified_parameters)
			return true;
	return false;
}

/* Whose children list the parameters: the most abstract DIE on the chain
 * that has any (a concrete copy may omit optimized-out ones). */
static uint32_t param_owner(const struct dw_snapshot *s, uint32_t primary)
{
	uint32_t chain[MAX_CHAIN];
	size_t n = 0;

	for (uint32_t x = primary; x != DW_NONE && n < MAX_CHAIN;
	     x = s->nodes[x].origin != DW_NONE ? s->nodes[x].origin : s->nodes[x].spec)
		chain[n++] = x;
	while (n-- > 0)
		if (has_param_children(s, chain[n]))
			return chain[n];
	return primary;
}

static void add_reach(struct collector *c, struct name_set *used, uint32_t type)
{
	set_add(used, dw_type_reaches(c->types, type));
}

static void collect_params(struct collector *c, struct hp_dwarf_func *f, uint32_t owner,
			   struct name_set *used)
{
	const struct dw_snapshot *s = c->s;
	size_t cap = 0;

	for (uint32_t i = s->nodes[owner].first_child; i != DW_NONE; i = s->nodes[i].next_sibling) {
		uint32_t type;

		if (s->nodes[i].tag == DW_TAG_unspecified_parameters)
			f->varargs = true;
		if (s->nodes[i].tag != DW_TAG_formal_parameter)
			continue;
		type = dw_chain_type(s, i);
		GROW(f->params, cap, f->nr_params + 1);
		f->params[f->nr_params++] = xstrdup(dw_type_string(c->types, type));
		add_reach(c, used, type);
	}
}

static char *make_signature(const struct hp_dwarf_func *f, bool prototyped)
{
	struct strbuf sb;

	sb_init(&sb);
	sb_addf(&sb, "%s (", f->return_type);
	for (size_t i = 0; i < f->nr_params; i++)
		sb_addf(&sb, "%s%s", i ? ", " : "", f->params[i]);
	if (f->varargs)
		sb_adds(&sb, f->nr_params ? ", ..." : "...");
	else if (!f->nr_params && prototyped)
		sb_adds(&sb, "void");
	sb_addc(&sb, ')');
	return sb_detach(&sb);
}

/* Inlined calls and local variables in a function DIE's subtree; nested
 * functions are their own, and what lives inside an inlined copy belongs
 * to the inlined function. */
static void scan_body(struct collector *c, uint32_t n, bool in_inlined,
		      struct name_set *inlined, struct name_set *used)
{
	const struct dw_snapshot *s = c->s;

	for (uint32_t i = s->nodes[n].first_child; i != DW_NONE; i = s->nodes[i].next_sibling) {
		switch (s->nodes[i].tag) {
		case DW_TAG_inlined_subroutine:
			set_add(inlined, dw_chain_name(s, i));
			scan_body(c, i, true, inlined, used);
			break;
		case DW_TAG_variable: case DW_TAG_formal_parameter:
			if (!in_inlined)
				add_reach(c, used, dw_chain_type(s, i));
			break;
		default:
			break;
		}
	}
}

static const char *group_name(const struct dw_snapshot *s, const struct func_build *b, uint32_t primary)
{
	const char *name = dw_chain_name(s, primary);

	for (size_t i = 0; !name && i < b->nr_dies; i++)
		name = dw_chain_name(s, b->dies[i]);
	return name;
}

static void function_facts(struct collector *c, size_t fi)
{
	const struct dw_snapshot *s = c->s;
	struct func_build *b = &c->fb[fi];
	struct hp_dwarf_func *f = &c->d->funcs[fi];
	uint32_t primary = primary_die(s, b), ret;
	uint32_t line = dw_chain_decl_line(s, primary), file = dw_chain_decl_file(s, primary);
	unsigned flags = 0;
	struct name_set inlined = { 0 }, used = { 0 };
	const char *linkage = NULL;

	for (size_t i = 0; i < b->nr_dies; i++) {
		const struct dw_node *n = &s->nodes[b->dies[i]];
		flags |= dw_chain_flags(s, b->dies[i]);
		f->has_code |= (n->flags & DWN_HAS_CODE) != 0;
		if (line == DW_NONE)
			line = dw_chain_decl_line(s, b->dies[i]);
		if (file == DW_NONE)
			file = dw_chain_decl_file(s, b->dies[i]);
		if (!linkage)
			linkage = n->linkage_name;
	}
	f->name = xstrdup(group_name(s, b, primary));
	f->linkage_name = dup_or_null(linkage ? linkage : s->nodes[dw_root_of(s, primary)].linkage_name);
	f->file = dup_or_null(dw_decl_file(s, file));
	f->line = line != DW_NONE ? s->nodes[line].decl_line : 0;
	f->external = (flags & DWN_EXTERNAL) != 0;
	f->noreturn = (flags & DWN_NORETURN) != 0;
	f->is_inline = (flags & DWN_INLINE) != 0;
	ret = dw_chain_type(s, primary);
	f->return_type = xstrdup(dw_type_string(c->types, ret));
	add_reach(c, &used, ret);
	collect_params(c, f, param_owner(s, primary), &used);
	f->signature = make_signature(f, (flags & DWN_PROTOTYPED) != 0);
	for (size_t i = 0; i < b->nr_dies; i++)
		scan_body(c, b->dies[i], false, &inlined, &used);
	set_finish(&inlined, &f->inlined, &f->nr_inlined);
	set_finish(&used, &f->types_used, &f->nr_types_used);
}

static void free_func(struct hp_dwarf_func *f)
{
	free(f->name);
	free(f->linkage_name);
	free(f->file);
	free(f->return_type);
	for (size_t i = 0; i < f->nr_params; i++)
		free(f->params[i]);
	free(f->params);
	free(f->signature);
	for (size_t i = 0; i < f->nr_inlined; i++)
		free(f->inlined[i]);
	free(f->inlined);
	for (size_t i = 0; i < f->nr_types_used; i++)
		free(f->types_used[i]);
	free(f->types_used);
}

/* by unit, then name; definitions first, then DIE order */
static int cmp_func_dup(const void *a, const void *b, void *arg)
{
	const struct collector *c = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int r;

	if (c->fb[x].cu != c->fb[y].cu)
		return c->fb[x].cu < c->fb[y].cu ? -1 : 1;
	r = strcmp(c->d->funcs[x].name, c->d->funcs[y].name);
	if (r)
		return r;
	if (c->fb[x].is_def != c->fb[y].is_def)
		return c->fb[x].is_def ? -1 : 1;
	return (x > y) - (x < y);
}

/* A block-scope "extern int f(void);" is a second DIE for a function
 * the unit also defines, or a repeat of one it only declares: one entry
 * per name and unit is enough.  Sorting keeps this linear-ish whatever
 * the input repeats. */
static void drop_duplicate_declarations(struct collector *c)
{
	struct hp_dwarf *d = c->d;
	size_t *order = xcalloc(d->nr_funcs ? d->nr_funcs : 1, sizeof(*order));
	size_t n = 0;

	for (size_t i = 0; i < d->nr_funcs; i++)
		order[i] = i;
	qsort_r(order, d->nr_funcs, sizeof(*order), cmp_func_dup, c);
	for (size_t k = 1; k < d->nr_funcs; k++) {
		size_t i = order[k], prev = order[k - 1];
		if (!c->fb[i].is_def && c->fb[i].cu == c->fb[prev].cu &&
		    !strcmp(d->funcs[i].name, d->funcs[prev].name))
			c->fb[i].drop = true;
	}
	free(order);
	for (size_t i = 0; i < d->nr_funcs; i++) {
		if (c->fb[i].drop) {
			free_func(&d->funcs[i]);
			free(c->fb[i].dies);
			continue;
		}
		d->funcs[n] = d->funcs[i];
		c->fb[n++] = c->fb[i];
	}
	d->nr_funcs = n;
}

struct def_line {
	const char *file;
	unsigned line;
};

static int cmp_def_line(const void *a, const void *b)
{
	const struct def_line *x = a, *y = b;
	int r = strcmp(x->file, y->file);

	return r ? r : (x->line > y->line) - (x->line < y->line);
}

/* next_line: the decl line of the next function defined further down
 * the same file.  Declarations do not count: they have no body. */
static void set_next_lines(struct collector *c)
{
	struct hp_dwarf *d = c->d;
	struct def_line *defs = xcalloc(d->nr_funcs ? d->nr_funcs : 1, sizeof(*defs));
	size_t n = 0;

	for (size_t i = 0; i < d->nr_funcs; i++)
		if (c->fb[i].is_def && d->funcs[i].file && d->funcs[i].line)
			defs[n++] = (struct def_line){ d->funcs[i].file, d->funcs[i].line };
	qsort(defs, n, sizeof(*defs), cmp_def_line);
	for (size_t i = 0; i < d->nr_funcs; i++) {
		struct hp_dwarf_func *f = &d->funcs[i];
		struct def_line key = { f->file, f->line == UINT_MAX ? UINT_MAX : f->line + 1 };
		size_t lo = 0, hi = n;

		f->next_line = UINT_MAX;
		if (!f->file || !f->line)
			continue;
		while (lo < hi) {   /* first def >= (file, line + 1) */
			size_t mid = lo + (hi - lo) / 2;
			if (cmp_def_line(&defs[mid], &key) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < n && !strcmp(defs[lo].file, f->file))
			f->next_line = defs[lo].line;
	}
	free(defs);
}

/* ---- variables ---- */

/* The function a variable belongs to: the nearest enclosing function of
 * the DIE that declares it, or NULL at file scope. */
static const char *owner_of(const struct dw_snapshot *s, uint32_t var)
{
	uint32_t p = s->nodes[dw_root_of(s, var)].parent;

	for (int depth = 0; p != DW_NONE && depth < 1024; depth++, p = s->nodes[p].parent) {
		unsigned tag = s->nodes[p].tag;
		if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine)
			return dw_chain_name(s, p);
		if (tag == DW_TAG_compile_unit || tag == DW_TAG_partial_unit)
			return NULL;
	}
	return NULL;
}

static bool is_file_scope(const struct dw_snapshot *s, uint32_t var)
{
	uint32_t p = s->nodes[dw_root_of(s, var)].parent;

	return p == DW_NONE || s->nodes[p].tag == DW_TAG_compile_unit ||
	       s->nodes[p].tag == DW_TAG_partial_unit;
}

static void add_var(struct collector *c, uint32_t i, const char *name, const char *owner)
{
	const struct dw_snapshot *s = c->s;
	struct hp_dwarf *d = c->d;
	struct hp_dwarf_var *v;
	uint32_t line = dw_chain_decl_line(s, i);
	char *key = owner ? xasprintf("%s/%s", owner, name) : NULL;

	if (hmap_get(&c->seen_vars, key ? key : name)) {
		free(key);   /* another DIE of a variable we have */
		return;
	}
	GROW(d->vars, c->cap_vars, d->nr_vars + 1);
	v = &d->vars[d->nr_vars++];
	memset(v, 0, sizeof(*v));
	v->name = xstrdup(name);
	v->owner = dup_or_null(owner);
	v->file = dup_or_null(dw_decl_file(s, dw_chain_decl_file(s, i)));
	v->line = line != DW_NONE ? s->nodes[line].decl_line : 0;
	v->type = xstrdup(dw_type_string(c->types, dw_chain_type(s, i)));
	v->external = (dw_chain_flags(s, i) & DWN_EXTERNAL) != 0;
	if (key) {
		GROW(d->var_keys, c->cap_keys, d->nr_var_keys + 1);
		d->var_keys[d->nr_var_keys++] = key;
	}
	GROW(c->var_key, c->cap_var_key, d->nr_vars);
	c->var_key[d->nr_vars - 1] = key ? key : v->name;
	hmap_put(&c->seen_vars, c->var_key[d->nr_vars - 1], (void *)c->var_key[d->nr_vars - 1]);
}

static void collect_vars(struct collector *c)
{
	const struct dw_snapshot *s = c->s;

	hmap_init(&c->seen_vars);
	for (uint32_t i = 0; i < s->nr_nodes; i++) {
		const char *name;

		/* a declaration ("extern int x;") is not the variable */
		if (s->nodes[i].tag != DW_TAG_variable || (s->nodes[i].flags & DWN_DECLARATION))
			continue;
		name = dw_chain_name(s, i);
		if (!name)
			continue;
		if (is_file_scope(s, i))
			add_var(c, i, name, NULL);
		else if (dw_chain_flags(s, i) & DWN_STATIC_LOC) {
			const char *owner = owner_of(s, i);
			if (owner)
				add_var(c, i, name, owner);
		}
	}
	hmap_free(&c->seen_vars);
	for (size_t i = 0; i < c->d->nr_vars; i++)
		hmap_put(&c->d->var_by_name, c->var_key[i], &c->d->vars[i]);
	free(c->var_key);
}

/* ---- types ---- */

/* The struct/union/enum node a types-table entry describes: n itself, or
 * for a typedef of an anonymous one, the anonymous aggregate. */
static uint32_t described_aggregate(const struct dw_snapshot *s, uint32_t n)
{
	const struct dw_node *d = &s->nodes[n];

	if (d->flags & DWN_DECLARATION)
		return DW_NONE;
	if (dw_is_aggregate_tag(d->tag))
		return d->name ? n : DW_NONE;
	if (d->tag == DW_TAG_typedef && dw_is_node(s, d->type) &&
	    dw_is_aggregate_tag(s->nodes[d->type].tag) && !s->nodes[d->type].name &&
	    !(s->nodes[d->type].flags & DWN_DECLARATION))
		return d->type;
	return DW_NONE;
}

static void collect_types(struct collector *c)
{
	const struct dw_snapshot *s = c->s;
	struct hp_dwarf *d = c->d;

	for (uint32_t i = 0; i < s->nr_nodes; i++) {
		uint32_t agg = described_aggregate(s, i);
		const char *name;
		struct hp_dwarf_type *t;

		if (agg == DW_NONE || !(name = dw_aggregate_name(c->types, i)))
			continue;
		GROW(d->types, c->cap_types, d->nr_types + 1);
		t = &d->types[d->nr_types++];
		memset(t, 0, sizeof(*t));
		t->name = xstrdup(name);
		t->file = dup_or_null(dw_decl_file(s, i));
		t->line = s->nodes[i].decl_line;
		t->byte_size = s->nodes[agg].byte_size;
		t->layout = xstrdup(dw_type_layout(c->types, agg));
	}
}

static void collect_cus(struct collector *c)
{
	const struct dw_snapshot *s = c->s;
	struct hp_dwarf *d = c->d;

	d->cus = xcalloc(s->nr_cus ? s->nr_cus : 1, sizeof(*d->cus));
	for (size_t i = 0; i < s->nr_cus; i++) {
		d->cus[i].name = dup_or_null(s->cus[i].name);
		d->cus[i].comp_dir = dup_or_null(s->cus[i].comp_dir);
		d->cus[i].producer = dup_or_null(s->cus[i].producer);
	}
	d->nr_cus = s->nr_cus;
}

/* One entry per name (a key repeated many times would make every insert
 * walk all of its copies): for functions, the first with code if any. */
static void put_once(struct hmap *m, const char *key, void *value)
{
	if (!hmap_get(m, key))
		hmap_put(m, key, value);
}

static void index_functions(struct hp_dwarf *d)
{
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < d->nr_funcs; i++)
			if (d->funcs[i].has_code == (pass == 0))
				put_once(&d->func_by_name, d->funcs[i].name, &d->funcs[i]);
}

void dw_collect_facts(const struct dw_snapshot *s, struct hp_dwarf *d)
{
	struct collector c = { .s = s, .d = d, .types = dw_types_new(s) };

	hmap_init(&d->func_by_name);
	hmap_init(&d->var_by_name);
	hmap_init(&d->type_by_name);
	collect_cus(&c);
	group_functions(&c);
	for (size_t i = 0; i < d->nr_funcs; i++)
		function_facts(&c, i);
	drop_duplicate_declarations(&c);
	set_next_lines(&c);
	collect_vars(&c);
	collect_types(&c);
	index_functions(d);
	for (size_t i = 0; i < d->nr_types; i++)
		put_once(&d->type_by_name, d->types[i].name, &d->types[i]);
	for (size_t i = 0; i < d->nr_funcs; i++)
		free(c.fb[i].dies);
	free(c.fb);
	dw_types_free(c.types);
}

void dw_free_func(struct hp_dwarf_func *f)
{
	free_func(f);
}
