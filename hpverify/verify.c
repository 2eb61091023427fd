/*
 * verify.c - hpverify's checks beyond the package reader (verify.h): the
 * package rules judged against what the package was built to allow, the
 * old fingerprints against a base build, and every rule on object pairs.
 *
 * --base finds each replaced function in the base by name.  A global name
 * is unique in a linked program, so any object of the base defining it
 * will do; a static function is only that function in the translation unit
 * it was built from, so it must come from the object whose source file
 * (its STT_FILE name) is the unit's: two files' 'static int parse()' are
 * different functions.  The comparison is the one hpapply makes against
 * memory: the size, then XXH3 of the bytes with the ranges the linker
 * rewrites left out (hpk_masked_hash()).  When several functions can be
 * the one (a directory holding both builds of a unit), a matching one
 * wins; otherwise the report names the one that fits the unit best.
 */
#include "verify.h"

#include <stdlib.h>
#include <string.h>

#include "elfobj.h"
#include "inputs.h"
#include "pair.h"

/* ---- findings as reported ---- */

static void vfindings_push(struct vfindings *out, struct finding_ref f)
{
	GROW(out->v, out->cap, out->n + 1);
	out->v[out->n++] = f;
}

void vfindings_add_package(struct vfindings *out, const struct hpk *p)
{
	for (uint32_t i = 0; i < p->nr_findings; i++) {
		const struct hpk_finding *x = &p->findings[i];

		vfindings_push(out, (struct finding_ref){
			.rule = x->rule, .severity = x->severity, .symbol = x->symbol,
			.file = x->file, .line = x->line, .message = x->message,
			.allowed = x->overridden });
	}
}

void vfindings_add_rules(struct vfindings *out, const struct findings *f)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct finding *x = &f->v[i];

		vfindings_push(out, (struct finding_ref){
			.rule = x->rule, .severity = x->severity, .symbol = x->symbol,
			.file = x->file, .line = x->line, .message = x->message,
			.allowed = x->overridden });
	}
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool same_finding(const struct finding_ref *a, const struct finding_ref *b)
{
	return same_str(a->rule, b->rule) && same_str(a->symbol, b->symbol) &&
	       same_str(a->file, b->file) && a->line == b->line && same_str(a->message, b->message);
}

void vfindings_merge(struct vfindings *out, const struct vfindings *recorded,
		     const struct vfindings *found)
{
	for (size_t i = 0; i < recorded->n; i++)
		vfindings_push(out, recorded->v[i]);
	for (size_t i = 0; i < found->n; i++) {
		bool seen = false;

		for (size_t k = 0; k < recorded->n && !seen; k++)
			seen = same_finding(&found->v[i], &recorded->v[k]);
		if (!seen)
			vfindings_push(out, found->v[i]);
	}
}

void vfindings_free(struct vfindings *v)
{
	free(v->v);
	memset(v, 0, sizeof(*v));
}

/* ---- package mode ---- */

size_t package_allowed_rules(const struct hpk *p, const char ***ids)
{
	const char **v = xcalloc(p->nr_findings ? p->nr_findings : 1, sizeof(*v));
	size_t n = 0;

	for (uint32_t i = 0; i < p->nr_findings; i++) {
		bool dup = false;

		if (!p->findings[i].overridden || !p->findings[i].rule)
			continue;
		for (size_t k = 0; k < n && !dup; k++)
			dup = !strcmp(v[k], p->findings[i].rule);
		if (!dup)
			v[n++] = p->findings[i].rule;
	}
	*ids = v;
	return n;
}

int verify_package_rules(const struct hpk *p, struct findings *f)
{
	const char **allowed;
	size_t n = package_allowed_rules(p, &allowed);
	int worst;

	memset(f, 0, sizeof(*f));
	rules_check_package(p, f);
	findings_sort(f);
	worst = findings_apply_allow(f, allowed, n);
	free(allowed);
	return worst;
}

/* ---- --base ---- */

const char *base_status_name(enum base_status s)
{
	switch (s) {
	case BASE_MATCH: return "match";
	case BASE_MISSING: return "missing";
	case BASE_SIZE: return "size differs";
	case BASE_BYTES: return "bytes differ";
	}
	return "?";
}

/* A function of a base object that may be the package's f: defined, code,
 * the same name.  How well it fits: 2 for the unit's source file, +1 for
 * the unit's member name or path; -1 when it cannot be the function (a
 * static of another translation unit). */
static int base_fit(const struct hpk *p, const struct hpk_func *f, const struct base_obj *o,
		    const struct hp_symbol *s)
{
	const struct hpk_unit *u = &p->units[f->unit];
	bool same_source = u->source && o->elf->source_name && !strcmp(u->source, o->elf->source_name);
	bool same_unit = u->name && !strcmp(u->name, o->pair_name);
	int fit = (same_source ? 2 : 0) + (same_unit ? 1 : 0);

	if (s->bind == STB_LOCAL && !same_source && !(same_unit && !u->source))
		return -1;
	return fit;
}

static bool fingerprint_matches(const struct hpk_func *f, const struct hp_symbol *s, uint64_t *hash)
{
	const uint8_t *bytes = sym_data(s);

	*hash = 0;
	if (s->size != f->old_size || !bytes)
		return false;
	*hash = hpk_masked_hash(bytes, f->old_size, f->old_masks, f->nr_old_masks);
	return *hash == f->old_hash;
}

/* The base's function for f: among those that can be it, one that matches
 * if any does (a base directory may hold the old and the new object of a
 * unit side by side), else the one that fits the unit best. */
const struct hp_symbol *base_find_function(const struct hpk *p, uint32_t fi, const struct base_obj *objs,
					   size_t n, size_t *which_obj, bool *matches, uint64_t *hash_out)
{
	const struct hpk_func *f = &p->funcs[fi];
	const struct hp_symbol *best = NULL;
	int best_rank = -1;
	uint64_t best_hash = 0;
	size_t which = 0;

	for (size_t i = 0; i < n && f->name; i++) {
		size_t pos = 0;
		const struct hp_symbol *s;

		while ((s = hmap_next(&objs[i].elf->sym_by_name, f->name, &pos))) {
			uint64_t hash;
			int fit, rank;

			if (s->kind != HP_SYM_FUNC || !s->sec)
				continue;
			fit = base_fit(p, f, &objs[i], s);
			if (fit < 0)
				continue;
			rank = (fingerprint_matches(f, s, &hash) ? 8 : 0) + fit;
			if (rank > best_rank) {
				best = s;
				best_rank = rank;
				best_hash = hash;
				which = i;
			}
		}
	}
	*which_obj = which;
	*matches = best_rank >= 8;
	*hash_out = best_hash;
	return best;
}

static void check_one(const struct hpk *p, uint32_t fi, const struct base_obj *objs, size_t n,
		      struct base_check *c)
{
	size_t which;
	bool matches;
	uint64_t hash;
	const struct hp_symbol *best = base_find_function(p, fi, objs, n, &which, &matches, &hash);

	memset(c, 0, sizeof(*c));
	c->func = fi;
	if (!best) {
		c->status = BASE_MISSING;
		return;
	}
	c->where = xstrdup(objs[which].elf->path);
	c->base_size = best->size;
	c->base_hash = hash;
	c->status = matches ? BASE_MATCH : best->size != p->funcs[fi].old_size ? BASE_SIZE : BASE_BYTES;
}

int base_load(const char *path, struct input_set *in, struct base_obj **objs_out, size_t *n_out,
	      struct hp_err *err)
{
	struct base_obj *objs;
	size_t n = 0;

	*objs_out = NULL;
	*n_out = 0;
	if (collect_inputs(path, path, in, err) < 0) {
		free_inputs(in);
		return -1;
	}
	objs = xcalloc(in->nr_pairs ? in->nr_pairs : 1, sizeof(*objs));
	for (size_t i = 0; i < in->nr_pairs; i++) {
		const struct input_obj *o = &in->pairs[i].old;

		objs[n].elf = elf_open_mem(o->label, o->data, o->size, err);
		if (!objs[n].elf) {
			base_unload(in, objs, n);
			return -1;
		}
		objs[n++].pair_name = in->pairs[i].name;
	}
	*objs_out = objs;
	*n_out = n;
	return 0;
}

void base_unload(struct input_set *in, struct base_obj *objs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		elf_close(objs[i].elf);
	free(objs);
	free_inputs(in);
}

int verify_base(const struct hpk *p, const char *base_path, struct base_result *r,
		struct hp_err *err)
{
	struct input_set in;
	struct base_obj *objs;
	size_t n = 0;
	int ret = 0;

	memset(r, 0, sizeof(*r));
	/* OLD against itself: every object of the base, read the way hpbuild
	 * reads its inputs (object, archive members, directory tree) */
	if (base_load(base_path, &in, &objs, &n, err) < 0)
		return -1;
	r->nr_objects = n;
	r->v = xcalloc(p->nr_funcs ? p->nr_funcs : 1, sizeof(*r->v));
	for (uint32_t fi = 0; fi < p->nr_funcs; fi++)
		if (p->funcs[fi].kind == HPK_FUNC_REPLACE)
			check_one(p, fi, objs, n, &r->v[r->n++]);
	base_unload(&in, objs, n);
	return ret;
}

size_t base_first_mismatch(const struct base_result *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].status != BASE_MATCH)
			return i;
	return r->n;
}

void base_result_free(struct base_result *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].where);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* ---- OLD NEW ---- */

static void pair_note(struct pair_result *r, char *msg)
{
	r->notes = xrealloc(r->notes, (r->nr_notes + 1) * sizeof(*r->notes));
	r->notes[r->nr_notes++] = msg;
}

/* Old symbol o is a function package pkg redirects: a replaced function
 * of that name, and for a static one, of the unit built from o's file. */
static bool package_redirects(const struct hpk *pkg, const struct hp_elf *old, const struct hp_symbol *o)
{
	for (uint32_t i = 0; i < pkg->nr_funcs; i++) {
		const struct hpk_func *f = &pkg->funcs[i];
		const char *src = f->unit < pkg->nr_units ? pkg->units[f->unit].source : NULL;

		if (f->kind != HPK_FUNC_REPLACE || !f->name || strcmp(f->name, o->name))
			continue;
		if (is_local_sym(o) && src && old->source_name && strcmp(src, old->source_name))
			continue;
		return true;
	}
	return false;
}

/* Every rule with the pair's own plan; or, given a package (arg), the
 * equivalence check with the functions that package redirects. */
static void check_rules(struct hp_pair *p, void *arg)
{
	const struct hpk *pkg = arg;
	bool *redirected;

	if (!pkg) {
		rules_check_pair(p, &(struct rules_options){ .static_sources = true }, &p->findings);
		return;
	}
	redirected = xcalloc(p->old->nr_symbols ? p->old->nr_symbols : 1, sizeof(bool));
	for_each_sym(p->old, o)
		redirected[o->index] = o->kind == HP_SYM_FUNC && o->sec && package_redirects(pkg, p->old, o);
	rules_check_equivalence(p, redirected, &p->findings);
	free(redirected);
}

int verify_pairs(const char *old_path, const char *new_path, const struct hpk *pkg,
		 const char *const *allow, size_t nr_allow, struct pair_result *r, struct hp_err *err)
{
	struct input_set in;
	struct hp_pair *pp;
	struct pair_options popt = { .plan = { .include_line_only = false } };
	int ret = 0;

	memset(r, 0, sizeof(*r));
	if (collect_inputs(old_path, new_path, &in, err) < 0) {
		free_inputs(&in);
		return -1;
	}
	/* the pipeline hpbuild runs, one pair at a time */
	pp = xcalloc(in.nr_pairs ? in.nr_pairs : 1, sizeof(*pp));
	for (size_t i = 0; i < in.nr_pairs; i++) {
		const struct input_pair *ip = &in.pairs[i];

		if (ret == 0) {
			pairs_prepare(ip, 1, &pp[i], 1, &popt, check_rules, (void *)pkg);
			if (pp[i].status < 0) {
				*err = pp[i].err;
				ret = -1;
			} else if (pp[i].status > 0) {
				pair_note(r, xasprintf("%s: only in %s; a hotpatch cannot add or remove a whole object, not checked",
						       ip->old.data ? ip->old.label : ip->new.label, ip->old.data ? "OLD" : "NEW"));
			} else {
				findings_move(&r->f, &pp[i].findings);
				r->pairs++;
				r->tree = xrealloc(r->tree, (r->nr_tree + 1) * sizeof(*r->tree));
				r->tree[r->nr_tree].source = pp[i].old->source_name ? xstrdup(pp[i].old->source_name) : NULL;
				r->tree[r->nr_tree++].object = xstrdup(ip->name[0] ? ip->name : ip->new.label);
			}
		}
		pair_close(&pp[i]);
	}
	free(pp);
	free_inputs(&in);
	if (ret < 0)
		return -1;
	rules_check_shared_sources(r->tree, r->nr_tree, r->f.static_sources, r->f.nr_static_sources, &r->f);
	findings_sort(&r->f);
	return findings_apply_allow(&r->f, allow, nr_allow);
}

void pair_result_free(struct pair_result *r)
{
	findings_free(&r->f);
	for (size_t i = 0; i < r->nr_notes; i++)
		free(r->notes[i]);
	free(r->notes);
	for (size_t i = 0; i < r->nr_tree; i++) {
		free((char *)r->tree[i].source);
		free((char *)r->tree[i].object);
	}
	free(r->tree);
	memset(r, 0, sizeof(*r));
}
