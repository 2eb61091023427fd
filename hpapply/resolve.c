/*
 * resolve.c - find the patched module, check fingerprints, resolve symbols
 * (resolve.h).
 *
 * Module choice: every mapped ELF file (the executable first) that defines
 * all the replaced functions is a candidate; the one whose functions match
 * the package's fingerprints is chosen.  A local function or variable is
 * only matched in the translation unit of the package's source file.
 *
 * Global symbols are looked up in the order the dynamic linker binds them:
 * the executable's exports first (so a variable the executable copied by a
 * copy relocation, or a function it interposes, is the one in use), then
 * the patched module's own definitions, then what the other libraries
 * export (default version, global before weak).  Locals are always the
 * patched module's: existing statics and static locals are used in place,
 * never copied.
 */
#include "resolve.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

#ifndef STT_GNU_IFUNC
#define STT_GNU_IFUNC 10
#endif

#define MAX_CANDIDATES 8

void resolution_free(struct resolution *r)
{
	free(r->old_addr);
	free(r->ext);
	free(r->ifunc);
	free(r->cold);
	for (size_t i = 0; i < r->nr_names; i++)
		free(r->names[i]);
	free(r->names);
	memset(r, 0, sizeof(*r));
}

static const char *keep_name(struct resolution *r, char *s)
{
	r->names = xrealloc(r->names, (r->nr_names + 1) * sizeof(*r->names));
	r->names[r->nr_names++] = s;
	return s;
}

const char *func_source(const struct hpk *p, const struct hpk_func *f)
{
	if (f->sym < p->nr_syms && p->syms[f->sym].file)
		return p->syms[f->sym].file;
	if (f->unit < p->nr_units && p->units[f->unit].source)
		return p->units[f->unit].source;
	return f->file;
}

char *func_label(const struct hpk *p, const struct hpk_func *f)
{
	if (f->bind == STB_LOCAL && func_source(p, f))
		return xasprintf("%s (%s)", f->name, func_source(p, f));
	return xstrdup(f->name);
}

/* ---- fingerprints ---- */

/* 0 match, 1 differs (why), -1 error. */
static int check_fingerprint(struct tracee *t, const struct record *rec, const struct module *mod,
			     const struct modsym *s, const struct hpk_func *f, struct strbuf *why,
			     struct hp_err *err)
{
	uint64_t addr = modsym_addr(mod, s);
	const struct rec_func *applied = record_find_func(rec, addr);
	uint8_t *bytes;
	int ret = 0;

	if (s->size != f->old_size) {
		sb_addf(why, "'%s' in %s is %llu bytes, the package expects %u", f->name, mod->path,
			(unsigned long long)s->size, f->old_size);
		return 1;
	}
	bytes = xmalloc(s->size ? s->size : 1);
	if (tracee_read(t, addr, bytes, s->size, err) < 0) {
		free(bytes);
		return -1;
	}
	if (applied)   /* our jump is there: compare the code it replaced */
		memcpy(bytes, applied->orig, s->size < JUMP_SIZE ? s->size : JUMP_SIZE);
	if (hpk_masked_hash(bytes, (uint32_t)s->size, f->old_masks, f->nr_old_masks) != f->old_hash) {
		sb_addf(why, "the code of '%s' in %s is not the code the package was made for", f->name,
			mod->path);
		ret = 1;
	}
	free(bytes);
	return ret;
}

/* The candidates for replaced function f in mod: by name, or, for a
 * static function of a module without a symbol table (a distribution's
 * stripped library), by its old content, found once or not at all. */
static size_t lookup_func(struct module *mod, const struct hpk *p, const struct hpk_func *f,
			  const struct modsym **out)
{
	size_t n = module_lookup(mod, f->name, f->bind == STB_LOCAL, func_source(p, f), out, MAX_CANDIDATES);
	size_t matches;

	if (n == 0 && f->bind == STB_LOCAL && !mod->has_symtab) {
		out[0] = module_function_by_content(mod, f, &matches);
		n = out[0] ? 1 : 0;
	}
	return n < MAX_CANDIDATES ? n : MAX_CANDIDATES;
}

enum fit { FIT_NONE, FIT_PARTIAL, FIT_MISMATCH, FIT_MATCH };

/* How well mod fits the package; addr[] gets each function's address. */
static enum fit module_fit(struct tracee *t, const struct record *rec, struct module *mod,
			   const struct hpk *p, uint64_t *addr, struct strbuf *why, struct hp_err *err)
{
	size_t found = 0, wanted = 0, matched = 0;

	for (uint32_t i = 0; i < p->nr_funcs; i++) {
		const struct modsym *c[MAX_CANDIDATES];
		size_t n;
		int match = 0;

		if (p->funcs[i].kind != HPK_FUNC_REPLACE)
			continue;
		wanted++;
		n = lookup_func(mod, p, &p->funcs[i], c);
		if (n == 0) {
			if (!why->len) {
				char *label = func_label(p, &p->funcs[i]);
				sb_addf(why, "%s has no function %s", mod->path, label);
				free(label);
			}
			continue;
		}
		found++;
		for (size_t k = 0; k < n && match == 0; k++) {
			struct strbuf w;

			sb_init(&w);
			match = check_fingerprint(t, rec, mod, c[k], &p->funcs[i], &w, err);
			if (match < 0) {
				sb_free(&w);
				return FIT_NONE;
			}
			if (match == 0)
				addr[i] = modsym_addr(mod, c[k]);
			else if (!why->len)
				sb_adds(why, w.buf);
			match = match == 0;
			sb_free(&w);
		}
		matched += match;
	}
	if (matched == wanted)
		return FIT_MATCH;
	if (found == wanted)
		return FIT_MISMATCH;
	return found ? FIT_PARTIAL : FIT_NONE;
}

/* gcc moves the unlikely paths of f into "f.cold", which jumps back into
 * f: a thread there is executing f. */
static void add_cold_guards(const struct hpk *p, struct resolution *r)
{
	for (uint32_t i = 0; i < p->nr_funcs; i++) {
		const struct modsym *c[MAX_CANDIDATES];
		char *cold;
		size_t n;

		if (p->funcs[i].kind != HPK_FUNC_REPLACE)
			continue;
		cold = xasprintf("%s.cold", p->funcs[i].name);
		n = module_lookup(r->mod, cold, true, func_source(p, &p->funcs[i]), c, MAX_CANDIDATES);
		for (size_t k = 0; k < n && k < MAX_CANDIDATES; k++) {
			r->cold = xrealloc(r->cold, (r->nr_cold + 1) * sizeof(*r->cold));
			r->cold[r->nr_cold++] = (struct guard){
				.lo = modsym_addr(r->mod, c[k]),
				.hi = modsym_addr(r->mod, c[k]) + (c[k]->size ? c[k]->size : 1),
				.kind = GUARD_CODE,
				.what = keep_name(r, xasprintf("function %s", cold)),
			};
		}
		free(cold);
	}
}

static bool module_wanted(const struct module *mod, const char *only)
{
	if (!only)
		return true;
	return !strcmp(mod->path, only) || !strcmp(path_tail(mod->path), only);
}

static int not_found(struct module_set *set, const struct hpk *p, const char *only, struct hp_err *err)
{
	struct module *exe = module_exe(set);
	size_t stripped = 0;
	char *label = NULL;

	for (uint32_t i = 0; i < p->nr_funcs && !label; i++)
		if (p->funcs[i].kind == HPK_FUNC_REPLACE)
			label = func_label(p, &p->funcs[i]);
	if (exe && exe->loaded && !exe->has_symtab && module_wanted(exe, only)) {
		free(label);
		hp_err_set(err, "%s has no symbol table (stripped); hpapply needs the symbol table to find "
			   "functions; deploy an unstripped binary or keep a debug copy (--symbols FILE)", exe->path);
		return HP_EXIT_ERROR;
	}
	for (size_t i = 0; i < set->n; i++)
		stripped += set->v[i].loaded && !set->v[i].has_symtab;
	hp_err_set(err, "process %d: no mapped file%s%s defines function %s%s", (int)set->pid,
		   only ? " named " : "", only ? only : "", label ? label : "?",
		   stripped ? " (files without a symbol table were searched by their exports only; "
			      "--symbols FILE gives an unstripped copy)" : "");
	free(label);
	return HP_EXIT_ERROR;
}

int resolve_module(struct module_set *set, struct tracee *t, const struct record *rec,
		   const struct hpk *p, const char *only_module, struct resolution *r, struct hp_err *err)
{
	uint64_t *addr = xcalloc(p->nr_funcs, sizeof(*addr));
	struct strbuf why;
	enum fit best = FIT_NONE;
	struct module *chosen = NULL, *other = NULL;

	memset(r, 0, sizeof(*r));
	r->old_addr = xcalloc(p->nr_funcs, sizeof(*r->old_addr));
	sb_init(&why);
	/* executable first, then the others in address order */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < set->n; i++) {
			struct module *mod = &set->v[i];
			struct hp_err ignored = { { 0 } };
			struct strbuf w;
			enum fit f;

			if (mod->is_exe != (pass == 0) || !module_wanted(mod, only_module) ||
			    module_load(set, mod, &ignored) < 0)
				continue;
			sb_init(&w);
			memset(addr, 0, p->nr_funcs * sizeof(*addr));
			f = module_fit(t, rec, mod, p, addr, &w, err);
			if (hp_err_isset(err)) {
				sb_free(&w);
				sb_free(&why);
				free(addr);
				return HP_EXIT_ERROR;
			}
			if (f == FIT_MATCH && chosen) {
				other = mod;
			} else if (f == FIT_MATCH) {
				chosen = mod;
				memcpy(r->old_addr, addr, p->nr_funcs * sizeof(*addr));
			}
			if (f > best && f != FIT_MATCH) {
				best = f;
				sb_free(&why);
				why = w;
				sb_init(&w);
			}
			sb_free(&w);
		}
	}
	free(addr);
	if (chosen && other) {
		hp_err_set(err, "process %d: both %s and %s define the replaced functions with matching code; "
			   "choose one with --module", (int)set->pid, chosen->path, other->path);
		sb_free(&why);
		return HP_EXIT_ERROR;
	}
	if (chosen) {
		r->mod = chosen;
		sb_free(&why);
		add_cold_guards(p, r);
		return HP_EXIT_OK;
	}
	if (best == FIT_NONE) {
		sb_free(&why);
		return not_found(set, p, only_module, err);
	}
	hp_err_set(err, "process %d: not applied: %s (a package applies only to the build it was made from)",
		   (int)set->pid, why.buf);
	sb_free(&why);
	return HP_EXIT_DIFF;
}

int resolve_recheck(struct tracee *t, const struct record *rec, const struct hpk *p,
		    const struct resolution *r, struct hp_err *err)
{
	for (uint32_t i = 0; i < p->nr_funcs; i++) {
		const struct modsym *c[MAX_CANDIDATES];
		size_t n;
		int ret = 1;
		struct strbuf why;

		if (p->funcs[i].kind != HPK_FUNC_REPLACE)
			continue;
		n = lookup_func(r->mod, p, &p->funcs[i], c);
		sb_init(&why);
		for (size_t k = 0; k < n; k++)
			if (modsym_addr(r->mod, c[k]) == r->old_addr[i])
				ret = check_fingerprint(t, rec, r->mod, c[k], &p->funcs[i], &why, err);
		if (ret != 0) {
			if (ret > 0)
				hp_err_set(err, "process %d: %s (changed while hpapply was attaching); not applied",
					   (int)t->pid, why.len ? why.buf : p->funcs[i].name);
			sb_free(&why);
			return ret > 0 ? HP_EXIT_DIFF : HP_EXIT_ERROR;
		}
		sb_free(&why);
	}
	return HP_EXIT_OK;
}

/* ---- symbols of the process ---- */

static const struct modsym *prefer_global(const struct modsym **c, size_t n)
{
	for (size_t i = 0; i < n && i < MAX_CANDIDATES; i++)
		if (c[i]->bind == STB_GLOBAL)
			return c[i];
	return n ? c[0] : NULL;
}

/* The module exports name itself (then the export is the symbol, even if
 * the package fingerprinted it). */
static bool prefer_global_export(const struct module *mod, const char *name)
{
	return module_export(mod, name) != NULL;
}

/* A global symbol: where the dynamic linker would find it. */
static const struct modsym *find_global(struct module_set *set, struct module *mod, const char *name,
					struct module **owner)
{
	struct module *exe = module_exe(set);
	const struct modsym *c[MAX_CANDIDATES], *s;
	struct hp_err ignored = { { 0 } };

	if (exe && exe != mod && module_load(set, exe, &ignored) == 0 && (s = module_export(exe, name))) {
		*owner = exe;
		return s;
	}
	if ((s = prefer_global(c, module_lookup(mod, name, false, NULL, c, MAX_CANDIDATES)))) {
		*owner = mod;
		return s;
	}
	for (size_t i = 0; i < set->n; i++) {
		struct module *m = &set->v[i];

		if (m == mod || m == exe || module_load(set, m, &ignored) < 0)
			continue;
		if ((s = module_export(m, name))) {
			*owner = m;
			return s;
		}
	}
	return NULL;
}

/* What to do about a static a module without a symbol table hides. */
static const char *debug_advice(const struct module *mod)
{
	(void)mod;
	return "install the module's debug file (/usr/lib/debug/.build-id/XX/YYYY.debug, or "
	       "hpapply --debug-dir DIR, or --symbols FILE), or check the package against the module "
	       "with hpbuild --base MODULE before deploying it";
}

/*
 * A static of a module without a symbol table (a distribution's stripped
 * library): found by the content the package fingerprinted (modfile.h),
 * once, or refused naming it; never guessed.
 */
static int resolve_static_by_content(struct module *mod, const struct modfile *mf, const struct hpk *p,
				     uint32_t si, uint64_t *addr, struct hp_err *err)
{
	const struct hpk_symbol *ps = &p->syms[si];
	const struct hpk_static *st = hpk_static_of(p, si);
	const char *file = ps->file ? ps->file : "a hidden global";
	uint64_t found[8];
	size_t n;

	if (!st) {
		hp_err_set(err, "%s has no symbol table, so its static '%s' (%s) can only be found by content, "
			   "and the package has no fingerprint of it (build the package with hpbuild --base "
			   "MODULE); or %s; not applied", mod->path, ps->name, file, debug_advice(mod));
		return HP_EXIT_DIFF;
	}
	if (st->kind == HPK_STATIC_DATA) {
		hp_err_set(err, "%s has no symbol table, and '%s' (%s) is a writable static, which cannot be "
			   "found by content (its bytes change as the program runs): %s; not applied",
			   mod->path, ps->name, file, debug_advice(mod));
		return HP_EXIT_DIFF;
	}
	n = modfile_find_static(mf, st, found, 8);
	if (n == 1) {
		*addr = mod->bias + found[0];
		return HP_EXIT_OK;
	}
	if (n == 0)
		hp_err_set(err, "%s has no symbol table, and no %s in it has the size and content of static "
			   "'%s' (%s) the package was built against: the package was made for another build of "
			   "it, or %s; not applied", mod->path,
			   st->kind == HPK_STATIC_FUNC ? "function" : "read-only data", ps->name, file,
			   debug_advice(mod));
	else
		hp_err_set(err, "%s has no symbol table, and %zu places in it have the size and content of "
			   "static '%s' (%s) (identical copies): hpapply cannot tell which one the package means; "
			   "%s; not applied", mod->path, n, ps->name, file, debug_advice(mod));
	return HP_EXIT_DIFF;
}

static int resolve_local(struct module *mod, const struct modfile *mf, const struct hpk *p, uint32_t si,
			 uint64_t *addr, struct hp_err *err)
{
	const struct hpk_symbol *ps = &p->syms[si];
	const struct modsym *c[MAX_CANDIDATES];
	size_t n = module_lookup(mod, ps->name, true, ps->file, c, MAX_CANDIDATES);

	if (n == 1) {
		*addr = modsym_addr(mod, c[0]);
		return HP_EXIT_OK;
	}
	if (n == 0 && !mod->has_symtab)
		return resolve_static_by_content(mod, mf, p, si, addr, err);
	if (n == 0) {
		hp_err_set(err, "%s has no static '%s' in %s: the package was made for another build; not applied",
			   mod->path, ps->name, ps->file ? ps->file : "any source file");
		return HP_EXIT_DIFF;
	}
	hp_err_set(err, "%s has %zu statics '%s' in source files named %s; cannot tell which one the package "
		   "means: give those files names that differ (or compile them by their paths, cc -c a/%s), "
		   "rebuild the program, and build the package again (hpbuild warns of this, HP014)",
		   mod->path, n, ps->name, ps->file ? ps->file : "(unknown)", ps->file ? path_tail(ps->file) : "util.c");
	return HP_EXIT_ERROR;
}

/*
 * A thread-local variable: its "address" is its offset from the thread
 * pointer, what R_X86_64_TPOFF32 and the GOT slot of R_X86_64_GOTTPOFF
 * hold.  Only the executable's own variables have an offset known from
 * the file (a library's block is placed by the dynamic linker at run time).
 */
static int resolve_tls(struct module_set *set, struct resolution *r, const struct hpk_symbol *ps,
		       uint64_t *value, struct hp_err *err)
{
	struct module *exe = module_exe(set);
	const struct modsym *c[MAX_CANDIDATES];
	size_t n = 0;

	if (exe == r->mod && exe->has_tls)
		n = module_lookup(exe, ps->name, ps->bind == STB_LOCAL, ps->file, c, MAX_CANDIDATES);
	if (n == 1 && c[0]->type == STT_TLS) {
		*value = (uint64_t)modsym_tpoff(exe, c[0]);
		return HP_EXIT_OK;
	}
	if (exe != r->mod) {
		hp_err_set(err, "%s: the package uses thread-local variable '%s'; hpapply resolves those only "
			   "in the main executable, whose TLS offsets the file fixes; not applied", r->mod->path,
			   ps->name);
		return HP_EXIT_DIFF;
	}
	hp_err_set(err, "%s has %s thread-local variable '%s'%s%s: the package was made for another build; "
		   "not applied", r->mod->path, n ? "more than one" : "no", ps->name, ps->file ? " in " : "",
		   ps->file ? ps->file : "");
	return n ? HP_EXIT_ERROR : HP_EXIT_DIFF;
}

static int resolve_symbols(struct module_set *set, const struct hpk *p, struct resolution *r,
			   struct modfile *mf, struct hp_err *err);

int resolve_externs(struct module_set *set, const struct hpk *p, struct resolution *r,
		    struct hp_err *err)
{
	struct modfile mf = { .fd = -1 };
	int st = resolve_symbols(set, p, r, &mf, err);

	modfile_close(&mf);
	return st;
}

static int resolve_symbols(struct module_set *set, const struct hpk *p, struct resolution *r,
			   struct modfile *mf, struct hp_err *err)
{
	r->ext = xcalloc(p->nr_syms, sizeof(*r->ext));
	r->ifunc = xcalloc(p->nr_syms, sizeof(*r->ifunc));
	for (uint32_t i = 0; i < p->nr_syms; i++) {
		const struct hpk_symbol *ps = &p->syms[i];
		const struct modsym *s;
		struct module *owner = r->mod;
		int st;

		if (ps->where != HPK_SYM_EXTERN)
			continue;
		if (ps->type == STT_TLS) {
			st = resolve_tls(set, r, ps, &r->ext[i], err);
			if (st != HP_EXIT_OK)
				return st;
			continue;
		}
		if (ps->bind == STB_LOCAL) {
			/* the module as a file, read once, for statics found by content */
			if (!r->mod->has_symtab && !mf->elf && modfile_from_elf(r->mod->elf, r->mod->path, mf, err) < 0)
				return HP_EXIT_ERROR;
			st = resolve_local(r->mod, mf, p, i, &r->ext[i], err);
			if (st != HP_EXIT_OK)
				return st;
			continue;
		}
		/* a hidden global of a stripped module (the linker made it
		 * local, strip removed it; hpbuild --base fingerprinted it as
		 * one the module does not export): by content, as a static,
		 * before any other library's export of the same name */
		if (!r->mod->has_symtab && hpk_static_of(p, i) &&
		    !prefer_global_export(r->mod, ps->name)) {
			if (!mf->elf && modfile_from_elf(r->mod->elf, r->mod->path, mf, err) < 0)
				return HP_EXIT_ERROR;
			st = resolve_static_by_content(r->mod, mf, p, i, &r->ext[i], err);
			if (st != HP_EXIT_OK)
				return st;
			continue;
		}
		s = find_global(set, r->mod, ps->name, &owner);
		if (!s && ps->bind == STB_WEAK)
			continue;   /* an undefined weak symbol is 0, as the linker makes it */
		if (!s) {
			hp_err_set(err, "process %d: symbol '%s' is not defined by %s or any library it has "
				   "loaded; not applied", (int)set->pid, ps->name, r->mod->path);
			return HP_EXIT_DIFF;
		}
		if (s->type == STT_TLS) {
			hp_err_set(err, "package refers to thread-local variable '%s' of %s as to an ordinary "
				   "symbol; not applied", ps->name, owner->path);
			return HP_EXIT_DIFF;
		}
		r->ext[i] = modsym_addr(owner, s);
		r->ifunc[i] = s->type == STT_GNU_IFUNC;
	}
	return HP_EXIT_OK;
}

int resolve_ifuncs(struct tracee *t, const struct hpk *p, struct resolution *r, struct hp_err *err)
{
	for (uint32_t i = 0; i < p->nr_syms; i++) {
		uint64_t impl = 0;

		if (!r->ifunc[i])
			continue;
		if (tracee_call(t, r->ext[i], &impl, err) < 0)
			return -1;
		if (!impl)
			return hp_err_set(err, "process %d: the IFUNC resolver of '%s' returned 0", (int)t->pid,
					  p->syms[i].name);
		r->ext[i] = impl;
		r->ifunc[i] = false;
	}
	return 0;
}
