/*
 * rules.c - the safety rule catalog, findings, and the driver that runs
 * every rule on an object pair (rules.h).
 *
 * The rules themselves live by subject: data (rules_data.c: HP001, HP002,
 * HP007, HP008), interfaces and DWARF (rules_iface.c: HP003, HP004, HP010,
 * HP011), machine code and relocations (rules_code.c: HP005, HP006, HP009,
 * HP012), and the package-only forms (rules_pkg.c).  This file decides the
 * pair's shape once for all of them: which new functions go into the
 * package, which old functions they replace, which old code keeps running.
 * That choice follows hpbuild/build.c: a function goes in when the diff
 * says it changed or was added, unless only __LINE__ values moved, and
 * .cold/.part pieces go in with their function.
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

void findings_add(struct findings *f, const char *rule, int severity, const char *symbol,
		  const char *file, unsigned line, char *message)
{
	const struct rule_info *ri = rule_by_id(rule);
	struct finding *x;

	GROW(f->v, f->cap, f->n + 1);
	x = &f->v[f->n++];
	memset(x, 0, sizeof(*x));
	x->rule = ri ? ri->id : "HP000";
	x->severity = severity;
	x->symbol = xstrdup(symbol ? symbol : "?");
	x->file = file ? xstrdup(file) : NULL;
	x->line = line;
	x->message = message;
}

void findings_add_not_run(struct findings *f, char *why)
{
	for (size_t i = 0; i < f->nr_not_run; i++)
		if (!strcmp(f->not_run[i], why)) {
			free(why);
			return;
		}
	f->not_run = xrealloc(f->not_run, (f->nr_not_run + 1) * sizeof(*f->not_run));
	f->not_run[f->nr_not_run++] = why;
}

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

int findings_apply_allow(struct findings *f, const char *const *allow, size_t nr_allow)
{
	int worst = 0;

	for (size_t i = 0; i < f->n; i++) {
		struct finding *x = &f->v[i];

		for (size_t k = 0; k < nr_allow; k++)
			if (allow[k] && !strcasecmp(allow[k], x->rule))
				x->overridden = true;
		if (!x->overridden && x->severity > worst)
			worst = x->severity;
	}
	return worst;
}

static int cmp_opt_str(const char *a, const char *b)
{
	if (!a || !b)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

static int cmp_finding(const void *a, const void *b)
{
	const struct finding *x = a, *y = b;
	int c;

	if ((c = cmp_opt_str(x->file, y->file)))
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if ((c = strcmp(x->rule, y->rule)))
		return c;
	if ((c = cmp_opt_str(x->symbol, y->symbol)))
		return c;
	return cmp_opt_str(x->message, y->message);
}

static int cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void findings_sort(struct findings *f)
{
	if (f->n > 1)
		qsort(f->v, f->n, sizeof(*f->v), cmp_finding);
	if (f->nr_not_run > 1)
		qsort(f->not_run, f->nr_not_run, sizeof(*f->not_run), cmp_str_ptr);
	/* pairs checked on several threads each say it once; the run says it once */
	for (size_t i = 1; i < f->nr_not_run;) {
		if (!strcmp(f->not_run[i], f->not_run[i - 1])) {
			free(f->not_run[i]);
			memmove(&f->not_run[i], &f->not_run[i + 1], (f->nr_not_run - i - 1) * sizeof(*f->not_run));
			f->nr_not_run--;
		} else {
			i++;
		}
	}
}

void findings_free(struct findings *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].symbol);
		free(f->v[i].file);
		free(f->v[i].message);
	}
	free(f->v);
	for (size_t i = 0; i < f->nr_not_run; i++)
		free(f->not_run[i]);
	free(f->not_run);
	for (size_t i = 0; i < f->nr_static_sources; i++)
		free(f->static_sources[i]);
	free(f->static_sources);
	memset(f, 0, sizeof(*f));
}

/* ---- the pair's shape ---- */

bool packages_anything(const struct rule_ctx *c)
{
	for_each_sym(c->new, n)
		if (c->packaged[n->index])
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
	return n && n->kind == HP_SYM_FUNC && c->packaged[n->index];
}

bool is_replaced(const struct rule_ctx *c, const struct hp_symbol *o)
{
	return o->kind == HP_SYM_FUNC && o->twin && is_packaged(c, o->twin) &&
	       !is_child_name(o->twin->name);
}

/*
 * Old code that keeps running after the patch: every function the package
 * does not take over.  A removed static function is not kept: only its
 * own unit could call it, and every caller there changed (a caller that
 * still called it would still name it).  A removed global one is: other
 * objects may still call it.
 */
bool is_kept_function(const struct rule_ctx *c, const struct hp_symbol *o)
{
	if (o->kind != HP_SYM_FUNC || c->superseded[o->index])
		return false;
	return o->twin || !is_local_sym(o);
}

const char *package_name(const struct hp_symbol *n)
{
	return n->twin && !is_child_name(n->name) ? n->twin->name : n->name;
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

const char *producer_of(const struct hp_elf *e)
{
	if (!e->dwarf)
		return NULL;
	for (size_t i = 0; i < e->dwarf->nr_cus; i++)
		if (e->dwarf->cus[i].producer)
			return e->dwarf->cus[i].producer;
	return NULL;
}

/*
 * Relocations that are not references the program follows at run time:
 * DWARF, unwind tables (.eh_frame names every function start), the
 * -fpatchable-function-entry records, notes, and anything not loaded.
 */
bool is_bookkeeping_sec(const struct hp_section *sec)
{
	return !(sec->flags & SHF_ALLOC) || is_debug_sec(sec) || sec->type == SHT_X86_64_UNWIND ||
	       !strcmp(sec->name, ".eh_frame") || !strcmp(sec->name, "__patchable_function_entries") ||
	       !strncmp(sec->name, ".note", 5);
}

/* A diff entry whose new function goes into the package: changed or
 * added, and not only moved __LINE__ values (hpbuild leaves those out
 * unless --include-line-only). */
static bool change_is_packaged(const struct rule_ctx *c, const struct hp_change *ch)
{
	if (!ch->is_func || !ch->new)
		return false;
	if (ch->status != HP_CHANGED && ch->status != HP_ADDED)
		return false;
	return !ch->line_only || c->include_line_only;
}

static struct hp_symbol *family_head(struct hp_symbol *s)
{
	return s->parent ? s->parent : s;
}

static void select_packaged(struct rule_ctx *c)
{
	bool *head = xcalloc(c->new->nr_symbols ? c->new->nr_symbols : 1, sizeof(bool));

	for (size_t i = 0; i < c->d->nr_changes; i++)
		if (change_is_packaged(c, &c->d->changes[i]))
			head[family_head(c->d->changes[i].new)->index] = true;
	for_each_sym(c->new, n)
		if (n->kind == HP_SYM_FUNC && head[family_head(n)->index])
			c->packaged[n->index] = true;
	for_each_sym(c->new, n)
		if (c->packaged[n->index] && n->twin)
			c->superseded[n->twin->index] = true;
	free(head);
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

void rules_check_pair_opts(struct hp_elf *old, struct hp_elf *new, const struct hp_diff *d,
			   const struct rules_options *opt, struct findings *out)
{
	struct rule_ctx c = {
		.old = old, .new = new, .d = d, .out = out,
		.include_line_only = opt && opt->include_line_only,
		.packaged = xcalloc(new->nr_symbols ? new->nr_symbols : 1, sizeof(bool)),
		.superseded = xcalloc(old->nr_symbols ? old->nr_symbols : 1, sizeof(bool)),
		.unit = unit_name(old, new),
	};

	select_packaged(&c);
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
	free(c.sites);
	free(c.packaged);
	free(c.superseded);
}

void rules_check_pair(struct hp_elf *old, struct hp_elf *new, const struct hp_diff *d,
		      struct findings *out)
{
	rules_check_pair_opts(old, new, d, NULL, out);
}

void rules_check_package(const struct hpk *p, struct findings *out)
{
	check_package(p, out);
}
