/*
 * rules_pkg.c - the rules that can run from a package alone (hpverify
 * PATCH.hpk): what hpapply must resolve (HP009), patch sites by the old
 * sizes the package records (HP005), thread-local data defined by the
 * package (HP002), a replaced main (HP010), and the compilers recorded per
 * unit (HP011).  The other rules need the objects (callers, DWARF types,
 * the old code around each function).
 *
 * A finding hpbuild already recorded in the package (the same rule on the
 * same symbol) is not reported again: hpverify shows the recorded one,
 * with its --allow override if it had one.
 */
#include "rules_int.h"

#include <stdlib.h>
#include <string.h>

#include "reloc.h"

static bool recorded(const struct hpk *p, const char *rule, const char *symbol)
{
	for (uint32_t i = 0; i < p->nr_findings; i++)
		if (p->findings[i].rule && !strcmp(p->findings[i].rule, rule) && p->findings[i].symbol &&
		    symbol && !strcmp(p->findings[i].symbol, symbol))
			return true;
	return false;
}

static void pkg_report(const struct hpk *p, struct findings *out, const char *rule, int severity,
		       const char *symbol, const char *file, unsigned line, char *message)
{
	if (recorded(p, rule, symbol)) {
		free(message);
		return;
	}
	findings_add(out, rule, severity, symbol, file, line, message);
}

static const char *sym_name(const struct hpk *p, uint32_t i)
{
	return i < p->nr_syms && p->syms[i].name ? p->syms[i].name : "?";
}

/* HP009 on one list of package relocations: the first problem, counted. */
static size_t pkg_reloc_problems(const struct hpk *p, const struct hpk_reloc *v, uint32_t n, char **first)
{
	size_t count = 0;

	for (uint32_t i = 0; i < n; i++) {
		const struct hp_reloc_info *ri = reloc_info(v[i].type);
		const struct hpk_symbol *s = v[i].sym < p->nr_syms ? &p->syms[v[i].sym] : NULL;
		char *msg = NULL;

		if (!ri || !ri->applier_ok)
			msg = xasprintf("relocation %s to %s at +0x%x%s", reloc_name(v[i].type),
					sym_name(p, v[i].sym), v[i].offset, unresolved_reloc_why(v[i].type));
		else if (s && s->type == STT_GNU_IFUNC)
			msg = xasprintf("a reference to indirect-function (ifunc) symbol %s at +0x%x",
					sym_name(p, v[i].sym), v[i].offset);
		if (!msg)
			continue;
		if (!count++)
			*first = msg;
		else
			free(msg);
	}
	return count;
}

static void pkg_relocations(const struct hpk *p, struct findings *out)
{
	for (uint32_t i = 0; i < p->nr_funcs; i++) {
		const struct hpk_func *f = &p->funcs[i];
		char *first = NULL;
		size_t n = pkg_reloc_problems(p, f->relocs, f->nr_relocs, &first);

		if (n)
			pkg_report(p, out, "HP009", HPK_SEV_ERROR, f->name, f->file, f->line,
				   xasprintf("%s: hpapply cannot resolve %s%s", f->name, first,
					     n > 1 ? " (and more)" : ""));
		free(first);
	}
	for (uint32_t i = 0; i < p->nr_data; i++) {
		const struct hpk_data *d = &p->data[i];
		char *first = NULL;
		size_t n = pkg_reloc_problems(p, d->relocs, d->nr_relocs, &first);

		if (n)
			pkg_report(p, out, "HP009", HPK_SEV_ERROR, d->name, d->file, d->line,
				   xasprintf("%s: hpapply cannot resolve %s in data the package copies%s",
					     d->name, first, n > 1 ? " (and more)" : ""));
		free(first);
	}
}

/* HP005 from the recorded old size: without the old object the padding
 * around the function is unknown, so a short function hpbuild accepted
 * carries an HP005 note saying which padding it relies on (recorded). */
static void pkg_patch_sites(const struct hpk *p, struct findings *out)
{
	for (uint32_t i = 0; i < p->nr_funcs; i++) {
		const struct hpk_func *f = &p->funcs[i];

		if (f->kind == HPK_FUNC_REPLACE && f->old_size < PATCH_JMP_SIZE)
			pkg_report(p, out, "HP005", HPK_SEV_ERROR, f->name, f->file, f->line,
				   xasprintf("%s: only %u bytes long in the running program, shorter than the 5-byte jump that redirects it",
					     f->name, f->old_size));
	}
}

/* HP002: thread-local data the package would define itself. */
static void pkg_tls(const struct hpk *p, struct findings *out)
{
	for (uint32_t i = 0; i < p->nr_syms; i++) {
		const struct hpk_symbol *s = &p->syms[i];
		const struct hpk_data *d = s->where == HPK_SYM_DATA && s->index < p->nr_data ? &p->data[s->index] : NULL;

		if (s->type == STT_TLS && d)
			pkg_report(p, out, "HP002", HPK_SEV_ERROR, sym_name(p, i), d->file, d->line,
				   xasprintf("%s: new thread-local variable (%u bytes); running threads have no room for it",
					     sym_name(p, i), d->size));
	}
}

/* HP010: main replaced (noreturn needs DWARF, the loop test the old code). */
static void pkg_main(const struct hpk *p, struct findings *out)
{
	for (uint32_t i = 0; i < p->nr_funcs; i++) {
		const struct hpk_func *f = &p->funcs[i];

		if (f->kind == HPK_FUNC_REPLACE && f->bind != STB_LOCAL && f->name && !strcmp(f->name, "main"))
			pkg_report(p, out, "HP010", HPK_SEV_WARNING, f->name, f->file, f->line,
				   xstrdup("main: main runs once; the running program is already inside it; the new code would only run on a new call"));
	}
}

/* HP011 from the producers recorded per unit. */
static void pkg_producers(const struct hpk *p, struct findings *out)
{
	for (uint32_t i = 0; i < p->nr_units; i++) {
		const struct hpk_unit *u = &p->units[i];
		const char *name = u->source ? u->source : u->name ? u->name : "?";
		int severity;
		char *msg;

		if (!u->old_producer || !u->new_producer) {
			/* one line for every such unit (findings_sort() merges them) */
			findings_add_not_run(out, xstrdup("HP011: compilers and flags not compared for units built without DWARF (rebuild them with -g)"));
			continue;
		}
		msg = compare_producers(u->old_producer, u->new_producer, &severity);
		if (msg) {
			pkg_report(p, out, "HP011", severity, name, name, 0, xasprintf("%s: %s", name, msg));
			free(msg);
		}
	}
}

void check_package(const struct hpk *p, struct findings *out)
{
	pkg_tls(p, out);
	pkg_patch_sites(p, out);
	pkg_relocations(p, out);
	pkg_main(p, out);
	pkg_producers(p, out);
}
