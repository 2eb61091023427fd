/*
 * rules.c - the safety rule catalog and the driver that runs
 * every rule on an object pair (rules.h).
 *
 * The rules themselves live by subject: data (rules_data.c: HP001, HP002,
 * HP007, HP008), interfaces and DWARF (rules_iface.c: HP003, HP004, HP010,
 * HP011, HP013), machine code and relocations (rules_code.c: HP005, HP006,
 * HP009, HP012), shared source names (HP014, here), the equivalence check
 * (rules_equiv.c: HP015), and the package-only forms (rules_pkg.c).
 * Which new functions go into the package, which old functions they
 * replace and which old code keeps running is the pair's plan
 * (lib/plan.h), the one place that decides it; the rules read it through
 * the predicates below.
 */
#include "rules_int.h"

#include "reloc.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Ids are stable: never renumber, never reuse. */
static const struct rule_info catalog[] = {
	{ "HP001", HPK_SEV_ERROR, "existing data changed",
	  "the object's live value is already in the running process; a package cannot re-initialize, resize or retype it",
	  "keep the object as it is and change the code that uses it, or add a new object under a new name" },
	{ "HP002", HPK_SEV_ERROR, "new thread-local storage",
	  "the running threads' TLS blocks were laid out at start-up and have no room for a new variable",
	  "use existing storage (a field in an existing per-thread structure, or a global with a lock)" },
	{ "HP003", HPK_SEV_ERROR, "interface change",
	  "unchanged callers (other objects, function pointers, unchanged functions) keep calling with the old parameters or expect the old return type",
	  "keep the signature and binding; put the new behaviour in a new function called from the old one" },
	{ "HP004", HPK_SEV_ERROR, "type layout change",
	  "unchanged code and existing objects keep the old layout; the new code would read and write them with the new one",
	  "keep the layout (use spare fields, or a side table keyed by the object)" },
	{ "HP005", HPK_SEV_ERROR, "patch site too small",
	  "the 5-byte jump that redirects the function would overwrite the code after it",
	  "build with -fpatchable-function-entry=5 (or gcc's ms_hook_prologue) so every function has room, or change its caller instead" },
	{ "HP006", HPK_SEV_ERROR, "branch into the patch site",
	  "a branch lands inside the bytes the redirect overwrites and would execute half of the jump",
	  "build with -fpatchable-function-entry=5 (the entry becomes NOPs no loop returns to), or change the code so the loop head moves" },
	{ "HP007", HPK_SEV_ERROR, "run-once code changed",
	  "constructors, destructors and .init code already ran (or run at exit from tables built at start-up); the change would never take effect",
	  "apply the fix where the state is used at run time, or restart the program" },
	{ "HP008", HPK_SEV_ERROR, "read-only data shared with unchanged code",
	  "unchanged functions keep reading the running program's old copy of the constant data",
	  "give the new contents a new name used only by the changed functions, or change the readers too" },
	{ "HP009", HPK_SEV_ERROR, "relocation or symbol kind not supported",
	  "hpapply cannot resolve this relocation type or symbol kind in a running process",
	  "build position-independent code (-fPIE or -fPIC, -mcmodel=small) with -ffunction-sections" },
	{ "HP010", HPK_SEV_WARNING, "changed function never returns",
	  "a call already running it never comes back through the entry: main and endless loops keep running the old code",
	  "move the changed part into a function the loop calls, and patch that" },
	{ "HP011", HPK_SEV_ERROR, "build mismatch",
	  "a different compiler or different code-generation flags change code that did not change in the source; the running program was built the old way",
	  "rebuild the new object with exactly the old compiler and flags; build both with -g" },
	{ "HP012", HPK_SEV_NOTE, "new external dependency",
	  "the new code needs a symbol the old object did not use; the running program must provide it",
	  "make sure the running program links it (hpapply refuses a package whose symbols it cannot resolve)" },
	{ "HP013", HPK_SEV_WARNING, "link-time optimized object",
	  "the object was built with -flto -ffat-lto-objects: a program linked with -flto runs the code the link stage generated, which the package's code need not match",
	  "build the patch objects without -flto, and make sure the running program was linked without it, or rebuild the program" },
	{ "HP014", HPK_SEV_WARNING, "static in a source file whose name another object shares",
	  "the package refers to a static by its name and its source file's name; the program has two objects built from source files of that name, so hpapply cannot tell which static is meant and refuses the package at deploy time",
	  "give the source files names that differ (or compile them by their paths: cc -c a/util.c records \"a/util.c\"), and rebuild the program" },
	{ "HP015", HPK_SEV_ERROR, "old code still reachable",
	  "with the package applied, code that keeps running (an unchanged caller, a table, another object) still reaches old code that changed: it is not redirected, or the path lands past the redirected entry",
	  "replace the caller too, or keep the change in a function every path enters at its entry" },
};

const struct rule_info *rule_catalog(size_t *count)
{
	*count = ARRAY_SIZE(catalog);
	return catalog;
}

/* Ids are matched in any case: "hp001" is HP001. */
const struct rule_info *rule_by_id(const char *id)
{
	for (size_t i = 0; id && i < ARRAY_SIZE(catalog); i++)
		if (!strcasecmp(catalog[i].id, id))
			return &catalog[i];
	return NULL;
}

/* ---- findings ---- */

void report(struct rule_ctx *c, const char *rule, int severity, const char *symbol,
	    const char *file, unsigned line, const char *fmt, ...)
{
	struct strbuf sb;
	va_list ap;

	sb_init(&sb);
	sb_addf(&sb, "%s: ", symbol);
	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	findings_add(c->out, rule, severity, symbol, file ? file : c->unit, line, sb_detach(&sb));
}

void report_sym(struct rule_ctx *c, const char *rule, int severity, const struct hp_symbol *s,
		const char *fmt, ...)
{
	const struct hp_symbol *where = s->file || !s->twin ? s : s->twin;
	struct strbuf sb;
	va_list ap;

	sb_init(&sb);
	sb_addf(&sb, "%s: ", s->name);
	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	/* without DWARF the line is unknown, the unit's file is not (its
	 * STT_FILE symbol, else the object): never "?" */
	findings_add(c->out, rule, severity, s->name, where->file ? where->file : c->unit, where->line,
		     sb_detach(&sb));
}

/* ---- the pair's shape ---- */

bool packages_anything(const struct rule_ctx *c)
{
	for_each_sym(c->new, n)
		if (is_packaged(c, n))
			return true;
	return false;
}

/* The rules that read DWARF cannot run on a pair without it.  Said once
 * per run, in one line, and only for pairs whose code goes into the
 * package: a build tree without -g would otherwise give five lines per
 * object, most of them for objects that did not change. */
void note_without_dwarf(struct rule_ctx *c)
{
	if (packages_anything(c))
		findings_add_not_run(c->out, xstrdup(RULES_NOT_RUN_WITHOUT_DWARF));
}

bool is_packaged(const struct rule_ctx *c, const struct hp_symbol *n)
{
	(void)c;
	return n && n->kind == HP_SYM_FUNC && !n->alias_of && plan_is_packaged(n);
}

bool is_replaced(const struct rule_ctx *c, const struct hp_symbol *o)
{
	(void)c;
	return o->kind == HP_SYM_FUNC && !o->alias_of && o->plan == HP_PLAN_REPLACE;
}

/*
 * Old code that keeps running after the patch (the plan's LEAVE): every
 * function the package does not take over.  A removed static function is
 * not kept (GONE): only its own unit could call it, and every caller
 * there changed.  A removed global one is: other objects may still call it.
 */
bool is_kept_function(const struct rule_ctx *c, const struct hp_symbol *o)
{
	(void)c;
	return plan_is_kept(o);
}

const struct hp_dwarf_func *dwarf_func_of(const struct hp_elf *e, const struct hp_symbol *s)
{
	const struct hp_dwarf_func *f;
	char *base;

	if (!e->dwarf || !s)
		return NULL;
	base = xstrndup(s->name, strcspn(s->name, "."));
	f = dwarf_find_func(e->dwarf, base);
	free(base);
	return f;
}

static const char *unit_name(const struct hp_elf *old, const struct hp_elf *new)
{
	if (old->source_name)
		return old->source_name;
	if (new->source_name)
		return new->source_name;
	return new->path;
}

/*
 * A packaged function that refers to a static (a local function or data
 * object the package does not carry) makes the package name that static by
 * its source file, which hpapply looks up in the running program.  The
 * assembler turns most such references into section + offset, so the
 * target is found in its section.  Strings and constants are copied, not
 * referred to.
 */
static bool refers_to_static(const struct rule_ctx *c, const struct hp_symbol *n)
{
	sym_for_each_reloc(n, r) {
		const struct hp_symbol *t = r->sym;

		if (!t || !t->sec || !is_local_sym(t) || is_bookkeeping_sec(t->sec) ||
		    is_string_sec(t->sec) || is_const_pool_sec(t->sec))
			continue;
		if (t->type == STT_SECTION) {
			const struct hp_reloc_info *ri = reloc_info(r->type);
			int64_t at = r->addend + (ri && ri->pcrel ? (int64_t)ri->width : 0);
			t = at >= 0 ? find_symbol_containing(t->sec, (uint64_t)at) : NULL;
		}
		if (t && is_local_sym(t) && t->twin && (t->kind == HP_SYM_OBJECT || t->kind == HP_SYM_FUNC) &&
		    !is_packaged(c, t))
			return true;
	}
	return false;
}

static void note_static_sources(struct rule_ctx *c)
{
	struct findings *f = c->out;
	const char *src = c->old->source_name;

	if (!src)
		return;
	for (size_t i = 0; i < f->nr_static_sources; i++)
		if (!strcmp(f->static_sources[i], src))
			return;
	for_each_sym(c->new, n)
		if (is_packaged(c, n) && refers_to_static(c, n)) {
			f->static_sources = xrealloc(f->static_sources, (f->nr_static_sources + 1) * sizeof(char *));
			f->static_sources[f->nr_static_sources++] = xstrdup(src);
			return;
		}
}

void rules_check_shared_sources(const struct tree_source *tree, size_t nr_tree,
				char *const *referenced, size_t nr_referenced, struct findings *out)
{
	for (size_t i = 0; i < nr_referenced; i++) {
		struct strbuf objs;
		size_t n = 0;
		bool seen = false;

		for (size_t k = 0; k < i && !seen; k++)
			seen = !strcmp(referenced[k], referenced[i]);
		if (seen)
			continue;
		sb_init(&objs);
		for (size_t k = 0; k < nr_tree; k++)
			if (tree[k].source && !strcmp(tree[k].source, referenced[i])) {
				sb_addf(&objs, "%s%s", n ? ", " : "", tree[k].object);
				n++;
			}
		if (n > 1)
			findings_add(out, "HP014", HPK_SEV_WARNING, referenced[i], referenced[i], 0,
				     xasprintf("%s: the package refers to statics of %s, and %zu objects are built from source files of that name (%s): hpapply cannot tell their statics apart and will refuse the package; give the files names that differ",
					       referenced[i], referenced[i], n, objs.buf));
		sb_free(&objs);
	}
}

void rules_check_pair(const struct hp_pair *p, const struct rules_options *opt, struct findings *out)
{
	struct rule_ctx c = {
		.old = p->old, .new = p->new, .d = &p->diff, .out = out, .plan = &p->plan,
		.unit = unit_name(p->old, p->new),
	};
	bool *redirected = xcalloc(p->old->nr_symbols ? p->old->nr_symbols : 1, sizeof(bool));

	for_each_sym(p->old, o)
		redirected[o->index] = o->plan == HP_PLAN_REPLACE;
	check_existing_data(&c);
	check_new_tls(&c);
	check_interface(&c);
	check_type_layout(&c);
	check_patch_site_size(&c);
	check_branch_into_site(&c);
	check_run_once(&c);
	check_relocations(&c);
	check_never_returns(&c);
	check_build_mismatch(&c);
	check_link_time_optimized(&c);
	if (opt && opt->static_sources)
		note_static_sources(&c);
	check_new_dependencies(&c);
	check_equivalence(&c, redirected);
	free(c.sites);
	free(redirected);
}

void rules_check_equivalence(const struct hp_pair *p, const bool *redirected, struct findings *out)
{
	struct rule_ctx c = {
		.old = p->old, .new = p->new, .d = &p->diff, .out = out, .plan = &p->plan,
		.unit = unit_name(p->old, p->new),
	};

	check_equivalence(&c, redirected);
}

void rules_check_package(const struct hpk *p, struct findings *out)
{
	check_package(p, out);
}
