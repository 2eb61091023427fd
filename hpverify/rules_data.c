/*
 * rules_data.c - the rules about data and run-once code: existing data
 * changed (HP001), new thread-local storage (HP002), run-once code
 * changed (HP007), read-only data shared with unchanged code (HP008).
 *
 * A package adds code and new data next to a running program; it never
 * rewrites the program's existing objects.  hpbuild refers to every object
 * the old object had by name, so the new code uses the running copy with
 * its current value, size and layout.  These rules find the changes that
 * would need the copy itself to change.
 */
#include "rules_int.h"

#include <stdlib.h>
#include <string.h>

#include "fingerprint.h"

/* ---- HP001 / HP008: an existing object changed ---- */

static const char *elf_type_name(uint8_t t)
{
	return t == STT_TLS ? "thread-local" : t == STT_OBJECT ? "object" : "untyped";
}

/*
 * The DWARF variable behind an object symbol: a global by its name; a
 * static local by owner and name, which gcc spells "count.3" (correlation
 * key "count@parse") and clang "parse.count".
 */
static const struct hp_dwarf_var *dwarf_var_of(const struct hp_elf *e, const struct hp_symbol *s)
{
	const char *at = s->key ? strchr(s->key, '@') : NULL;
	const char *dot = strchr(s->name, '.');
	const struct hp_dwarf_var *v;
	char *owner = NULL, *name;

	if (at) {
		owner = xstrdup(at + 1);
		name = xstrndup(s->key, (size_t)(at - s->key));
	} else if (dot && is_local_sym(s)) {
		owner = xstrndup(s->name, (size_t)(dot - s->name));
		name = xstrdup(dot + 1);
	} else {
		name = xstrdup(s->name);
	}
	v = dwarf_find_var(e->dwarf, owner, name);
	free(owner);
	free(name);
	return v;
}

static bool initial_value_differs(const struct hp_symbol *o, const struct hp_symbol *n)
{
	return o->code_hash != n->code_hash || o->reloc_hash != n->reloc_hash;
}

/*
 * What changed about an existing object that its running copy cannot
 * follow: size, section kind (bss/data/rodata/tls), ELF type, declared C
 * type (DWARF), initial value.  Empty when nothing did: a binding change
 * alone ("int limit" -> "static int limit") is harmless, the package refers
 * to the running object by its old name.
 * Example: "struct limits http_limits = { 65536, ... }" -> "{ 8192, ... }"
 * gives "initial value differs": the program keeps 65536.
 */
static void describe_data_change(const struct rule_ctx *c, const struct hp_symbol *o,
				 const struct hp_symbol *n, struct strbuf *why)
{
	const char *ko = section_kind(o->sec), *kn = section_kind(n->sec);

	if (o->size != n->size)
		sb_addf(why, "%ssize %llu -> %llu", why->len ? ", " : "", (unsigned long long)o->size,
			(unsigned long long)n->size);
	if (strcmp(ko, kn))
		sb_addf(why, "%ssection %s -> %s", why->len ? ", " : "", ko, kn);
	if (o->type != n->type)
		sb_addf(why, "%s%s -> %s", why->len ? ", " : "", elf_type_name(o->type), elf_type_name(n->type));
	if (c->old->dwarf && c->new->dwarf) {
		const struct hp_dwarf_var *a = dwarf_var_of(c->old, o), *b = dwarf_var_of(c->new, n);

		if (a && b && a->type && b->type && strcmp(a->type, b->type))
			sb_addf(why, "%stype %s -> %s", why->len ? ", " : "", a->type, b->type);
	}
	if (o->size == n->size && initial_value_differs(o, n))
		sb_addf(why, "%sinitial value differs", why->len ? ", " : "");
}

static bool is_rodata_sym(const struct hp_symbol *s)
{
	return s->sec && !strcmp(section_kind(s->sec), "rodata");
}

static void add_name(struct strbuf *names, size_t *count, const char *name)
{
	if (*count < 3)
		sb_addf(names, "%s%s", *count ? ", " : "", name);
	(*count)++;
}

/*
 * Code that keeps reading the running program's copy of read-only object
 * o after the patch: kept functions (and kept data, such as a table of
 * pointers to it) of the old object that refer to it.  Their names go to
 * 'names' (the first three), the count is returned.
 */
static size_t kept_readers(const struct rule_ctx *c, const struct hp_symbol *o, struct strbuf *names)
{
	size_t count = 0;

	for_each_sec(c->old, sec) {
		const struct hp_symbol *last = NULL;

		if (is_bookkeeping_sec(sec))
			continue;
		sec_for_each_reloc(sec, r) {
			struct hp_target t;
			const struct hp_symbol *user;

			resolve_target(sec, r, &t);
			if (t.kind != HP_TARGET_SYMBOL || t.sym != o)
				continue;
			user = find_symbol_containing(sec, r->offset);
			if (!user || user == last || user == o)
				continue;
			last = user;
			if ((user->kind == HP_SYM_FUNC && is_kept_function(c, user)) ||
			    (user->kind == HP_SYM_OBJECT && user->twin))
				add_name(names, &count, user->name);
		}
	}
	return count;
}

/*
 * HP008 instead of HP001: a constant table whose contents changed while
 * code the package does not replace reads it.  When only functions of
 * this unit read a static table, the plan carries a new copy and replaces
 * every reader (is_carried() above); HP008 is what remains: a global table
 * (other objects may read it) or one whose address is stored in data.
 * Those readers would keep the old copy while packaged code used the new.
 * Example: 'const unsigned char path_class[128]' (global) loses one
 * entry; path_segments() reads it and did not change.
 */
static bool is_shared_rodata_change(const struct hp_symbol *o, const struct hp_symbol *n)
{
	return is_rodata_sym(o) && is_rodata_sym(n) && o->size == n->size && o->type == n->type;
}

static void check_changed_object(struct rule_ctx *c, const struct hp_symbol *o, const struct hp_symbol *n)
{
	struct strbuf why, readers;
	size_t nr_readers;

	sb_init(&why);
	describe_data_change(c, o, n, &why);
	if (!why.len) {
		sb_free(&why);
		return;
	}
	sb_init(&readers);
	nr_readers = is_shared_rodata_change(o, n) ? kept_readers(c, o, &readers) : 0;
	if (nr_readers)
		report_sym(c, "HP008", HPK_SEV_ERROR, n,
			   "read-only data changed (%s) but unchanged code reads it (%s%s); it would keep using the old contents%s",
			   why.buf, readers.buf, nr_readers > 3 ? ", ..." : "",
			   n->bind != STB_LOCAL ? "; the table is global, so other objects may read it too: make it static "
						  "to let hpbuild carry a new copy with its readers"
						: "; its address is stored where the package cannot follow it");
	else if (is_rodata_sym(o))
		report_sym(c, "HP001", HPK_SEV_ERROR, n,
			   "existing read-only object changed (%s); the package refers to the running program's copy, which keeps the old contents",
			   why.buf);
	else
		report_sym(c, "HP001", HPK_SEV_ERROR, n,
			   "existing data changed (%s); its live value is in the running process and a package cannot re-initialize it",
			   why.buf);
	sb_free(&why);
	sb_free(&readers);
}

/* The plan ships a new copy of this changed object with every function
 * that reads it (a read-only table, plan.c carry_changed_table()): the
 * running copy is not asked to change. */
static bool is_carried(const struct hp_symbol *n)
{
	return n->twin && n->plan == HP_PLAN_COPY;
}

/*
 * HP001 too: packaged code uses writable data without a symbol that the
 * running program already has (the plan's anon_state).  hpapply finds the
 * program's data by name only, and a copy in the package would start from
 * its initial value, losing the counts the program keeps there.
 * Example: 'static int weights[4] __asm__(".Lweights")', incremented by
 * weigh(); weigh() changes.
 */
static void check_anon_state(struct rule_ctx *c)
{
	for (size_t i = 0; i < c->plan->nr_anon_state; i++) {
		const struct plan_anon_state *a = &c->plan->anon_state[i];

		report_sym(c, "HP001", HPK_SEV_ERROR, a->user,
			   "uses writable data without a symbol (%s+0x%llx, %llu bytes) that the running program already has; "
			   "hpapply cannot find the running copy without a name, and a fresh copy would lose its live value "
			   "(give the variable a name the symbol table keeps)",
			   a->sec->name, (unsigned long long)a->start, (unsigned long long)a->len);
	}
}

void check_existing_data(struct rule_ctx *c)
{
	check_anon_state(c);
	for (size_t i = 0; i < c->d->nr_changes; i++) {
		const struct hp_change *ch = &c->d->changes[i];

		if (!ch->is_func && ch->status == HP_CHANGED && ch->old && ch->new && !is_carried(ch->new))
			check_changed_object(c, ch->old, ch->new);
	}
}

/* ---- HP002: new thread-local storage ---- */

/*
 * A thread-local variable the old object did not have.  Every thread's
 * TLS block was sized when the program (or the thread) started; there is
 * nowhere to put one more, and hpbuild cannot copy it like other new data.
 * Example: '__thread unsigned eval_depth;' added to bound recursion.
 */
static bool is_new_tls(const struct hp_change *ch)
{
	const struct hp_symbol *n = ch->new;

	if (ch->is_func || ch->status != HP_ADDED || !n)
		return false;
	return n->type == STT_TLS || (n->sec && is_tls_sec(n->sec));
}

void check_new_tls(struct rule_ctx *c)
{
	for (size_t i = 0; i < c->d->nr_changes; i++) {
		const struct hp_change *ch = &c->d->changes[i];

		if (is_new_tls(ch))
			report_sym(c, "HP002", HPK_SEV_ERROR, ch->new,
				   "new thread-local variable (%llu bytes, %s); running threads have no room for it",
				   (unsigned long long)ch->new->size, section_kind(ch->new->sec));
	}
}

/* ---- HP007: run-once code ---- */

/*
 * Tables of functions the C runtime calls once: at start-up
 * (.init_array, .preinit_array, .ctors: __attribute__((constructor))) or
 * at exit from the list fixed at start-up (.fini_array, .dtors:
 * __attribute__((destructor))).  Sections named with a priority
 * (".init_array.00101") count too.
 */
static bool is_run_once_table(const struct hp_section *sec)
{
	static const char *const prefixes[] = { ".init_array", ".fini_array", ".preinit_array", ".ctors", ".dtors" };

	if (sec->type == SHT_INIT_ARRAY || sec->type == SHT_FINI_ARRAY || sec->type == SHT_PREINIT_ARRAY)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++) {
		size_t n = strlen(prefixes[i]);
		if (!strncmp(sec->name, prefixes[i], n) && (sec->name[n] == '\0' || sec->name[n] == '.'))
			return true;
	}
	return false;
}

/* Code sections run once by construction: the crt's .init/.fini, and the
 * kernel-style .init.text/.exit.text (freed or never entered again). */
static bool is_run_once_code(const struct hp_symbol *s)
{
	const char *n = s->sec ? s->sec->name : "";

	return !strcmp(n, ".init") || !strcmp(n, ".fini") || !strncmp(n, ".init.", 6) ||
	       !strncmp(n, ".exit.", 6);
}

/* Mark every function e's run-once tables point at. */
static bool *run_once_functions(const struct hp_elf *e)
{
	bool *once = xcalloc(e->nr_symbols ? e->nr_symbols : 1, sizeof(bool));

	for_each_sec(e, sec) {
		if (!is_run_once_table(sec))
			continue;
		sec_for_each_reloc(sec, r) {
			struct hp_target t;

			resolve_target(sec, r, &t);
			if (t.kind == HP_TARGET_SYMBOL && t.sym->kind == HP_SYM_FUNC)
				once[t.sym->index] = true;
		}
	}
	return once;
}

static const char *run_once_what(bool in_code)
{
	return in_code ? "is in a run-once section" : "is a constructor or destructor (.init_array/.fini_array)";
}

void check_run_once(struct rule_ctx *c)
{
	bool *old_once = run_once_functions(c->old), *new_once = run_once_functions(c->new);

	for_each_sym(c->new, n) {
		const struct hp_symbol *o = n->twin;
		bool in_table, in_code;

		if (n->kind != HP_SYM_FUNC || n->parent)
			continue;
		in_table = new_once[n->index] || (o && old_once[o->index]);
		in_code = is_run_once_code(n) || (o && is_run_once_code(o));
		if (is_packaged(c, n) && (in_table || in_code)) {
			report_sym(c, "HP007", HPK_SEV_ERROR, n,
				   o ? "changed function %s: it already ran (or runs at exit from the table fixed at start-up); the change would never take effect"
				     : "new function %s: the program's constructor and destructor tables are fixed, it would never run",
				   run_once_what(in_code && !in_table));
		} else if (!is_packaged(c, n) && o && new_once[n->index] && !old_once[o->index]) {
			report_sym(c, "HP007", HPK_SEV_ERROR, n,
				   "now registered in .init_array/.fini_array: the running program's tables are fixed, it would never run as a constructor or destructor");
		}
	}
	free(old_once);
	free(new_once);
}
