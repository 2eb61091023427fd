/*
 * rules_iface.c - the rules about what unchanged code expects of changed
 * code: interfaces (HP003), type layouts (HP004), and how both objects
 * were built (HP011).  The facts come from DWARF; without it these rules
 * cannot run, and HP011 says so.
 *
 * "Unchanged code" is whatever keeps running after the patch: functions of
 * the old object the package does not replace (is_kept_function()), code
 * in other objects (which may call any global function and use any type a
 * global function's parameters mention), code that calls through a
 * function pointer, and every object that already exists.
 */
#include "rules_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "fingerprint.h"

/* ---- who can enter a function ---- */

struct entry_facts {
	bool *addr_taken_old;   /* by old symbol index */
	bool *addr_taken_new;   /* by new symbol index */
};

/*
 * A relocation that is the target of a call or jump rather than an address
 * the code keeps: rel32 call/jmp/jcc, call/jmp through the GOT, and the
 * branches the assembler resolved itself (implied).  Everything else that
 * names a function (lea, mov, a pointer in data) takes its address.
 */
static bool is_branch_field(const struct hp_section *sec, const struct hp_reloc *r)
{
	const uint8_t *b = sec->data;
	uint64_t off = r->offset;

	if (r->implied)
		return true;
	if (!is_text_sec(sec) || !b || off < 1)
		return false;
	if (b[off - 1] == 0xe8 || b[off - 1] == 0xe9)
		return true;
	if (off < 2)
		return false;
	if (b[off - 2] == 0x0f && (b[off - 1] & 0xf0) == 0x80)
		return true;
	return b[off - 2] == 0xff && (b[off - 1] == 0x15 || b[off - 1] == 0x25);
}

/*
 * Mark every function of e whose address some code or data takes: a
 * reference that is not a branch and lands on the function's entry.  A
 * function's own jump table is not one: its entries point at case labels
 * inside the function, and only the function itself reads it.
 * Example: 'switch (op) { case 0: ... case 7: ... }' in a static function
 * at -O2 (without -fno-jump-tables).
 */
static void scan_address_taken(const struct hp_elf *e, bool *taken)
{
	for_each_sec(e, sec) {
		if (is_bookkeeping_sec(sec))
			continue;
		sec_for_each_reloc(sec, r) {
			struct hp_target t;
			int64_t pos;

			resolve_target(sec, r, &t);
			if (t.kind != HP_TARGET_SYMBOL || t.sym->kind != HP_SYM_FUNC || is_branch_field(sec, r))
				continue;
			if (t.sym->sec && reloc_code_position(sec, r, 0, &pos) && pos != (int64_t)t.sym->value)
				continue;
			taken[t.sym->index] = true;
		}
	}
}

static void entry_facts_init(const struct rule_ctx *c, struct entry_facts *f)
{
	f->addr_taken_old = xcalloc(c->old->nr_symbols + 1, sizeof(bool));
	f->addr_taken_new = xcalloc(c->new->nr_symbols + 1, sizeof(bool));
	scan_address_taken(c->old, f->addr_taken_old);
	scan_address_taken(c->new, f->addr_taken_new);
}

static void entry_facts_free(struct entry_facts *f)
{
	free(f->addr_taken_old);
	free(f->addr_taken_new);
}

/*
 * Code compiled without seeing the new function can enter old function o
 * (new: n): it is global (other objects call it), or its address is
 * taken in either build (a stored pointer may be called by code anywhere).
 * Unchanged functions of the same object are not such code: their machine
 * code is the same as in the new build, which was compiled against the
 * new function, so they already call it the new way.
 * Example: clang drops an argument that became constant from a static
 * helper ('copy_name(dst, 31, src)' -> 'copy_name(dst, src)'): the
 * caller's code did not change, and that is exactly right for the new
 * helper.
 */
static bool reached_from_elsewhere(const struct entry_facts *f, const struct hp_symbol *o,
				   const struct hp_symbol *n, struct strbuf *why)
{
	if (!is_local_sym(o)) {
		sb_adds(why, "it is global: callers in other objects still use the old interface");
		return true;
	}
	if (f->addr_taken_old[o->index] || (n && f->addr_taken_new[n->index])) {
		sb_adds(why, "its address is taken: callers through function pointers still use the old interface");
		return true;
	}
	return false;
}

/* ---- HP003: interface change ---- */

/*
 * The function's interface changed: its return type, parameter types or
 * count, or varargs (DWARF, compared as canonical C spellings, so
 * 'char *' -> 'const char *' counts too: the rule cannot know which
 * callers care).  Example: 'int copy_name(char *, const char *)' ->
 * 'int copy_name(char *, unsigned long, const char *)'.
 */
static bool signature_changed(const struct hp_dwarf_func *a, const struct hp_dwarf_func *b)
{
	return a && b && a->signature && b->signature && strcmp(a->signature, b->signature);
}

/*
 * A global function became static.  Callers in other objects still call
 * it, and the compiler built the new code for the callers it could see
 * (it may change register use, drop arguments, or clone it).
 */
static bool stops_being_global(const struct hp_symbol *o, const struct hp_symbol *n)
{
	return !is_local_sym(o) && is_local_sym(n);
}

void check_interface(struct rule_ctx *c)
{
	struct entry_facts f;

	if (!c->old->dwarf || !c->new->dwarf)
		note_without_dwarf(c);
	entry_facts_init(c, &f);
	for (size_t i = 0; i < c->d->nr_changes; i++) {
		const struct hp_change *ch = &c->d->changes[i];
		const struct hp_dwarf_func *a, *b;
		struct strbuf why;

		if (!ch->is_func || ch->status != HP_CHANGED || !ch->old || !is_packaged(c, ch->new))
			continue;
		if (stops_being_global(ch->old, ch->new)) {
			report_sym(c, "HP003", HPK_SEV_ERROR, ch->new,
				   "no longer global; callers in other objects keep calling it, and the new code was compiled for its visible callers only");
			continue;
		}
		a = dwarf_func_of(c->old, ch->old);
		b = dwarf_func_of(c->new, ch->new);
		sb_init(&why);
		if (signature_changed(a, b) && reached_from_elsewhere(&f, ch->old, ch->new, &why))
			report_sym(c, "HP003", HPK_SEV_ERROR, ch->new,
				   "signature changed from %s to %s; %s", a->signature, b->signature, why.buf);
		sb_free(&why);
	}
	entry_facts_free(&f);
}

/* ---- HP004: type layout change ---- */

static bool is_ident_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '_';
}

/* The C type spelling 'type' mentions type name 'name' as a whole word:
 * "struct conn *" and "struct conn[4]" mention "struct conn",
 * "struct connection" does not. */
static bool type_mentions(const char *type, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = type ? strstr(type, name) : NULL; p; p = strstr(p + 1, name))
		if ((p == type || !is_ident_char(p[-1])) && !is_ident_char(p[n]))
			return true;
	return false;
}

static bool list_has(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

/* Function f works with type 'name': its parameters, return value or
 * locals reach it, or those of a function inlined into it. */
static bool func_uses_type(const struct hp_dwarf *d, const struct hp_dwarf_func *f, const char *name)
{
	if (!f)
		return false;
	if (list_has(f->types_used, f->nr_types_used, name))
		return true;
	for (size_t i = 0; i < f->nr_inlined; i++) {
		const struct hp_dwarf_func *g = dwarf_find_func(d, f->inlined[i]);
		if (g && g != f && list_has(g->types_used, g->nr_types_used, name))
			return true;
	}
	return false;
}

static bool interface_mentions(const struct hp_dwarf_func *f, const char *name)
{
	if (!f)
		return false;
	if (type_mentions(f->return_type, name))
		return true;
	for (size_t i = 0; i < f->nr_params; i++)
		if (type_mentions(f->params[i], name))
			return true;
	return false;
}

struct users {
	struct strbuf names;
	size_t count;
};

static void add_user(struct users *u, const char *what, const char *name)
{
	if (u->count < 3)
		sb_addf(&u->names, "%s%s%s", u->count ? ", " : "", what, name);
	u->count++;
}

/* Packaged (new) functions that use the type. */
static void changed_users(const struct rule_ctx *c, const char *type, struct users *u)
{
	for_each_sym(c->new, n)
		if (is_packaged(c, n) && !n->parent && func_uses_type(c->new->dwarf, dwarf_func_of(c->new, n), type))
			add_user(u, "", n->name);
}

/*
 * Unchanged code that uses the type with its old layout: kept functions
 * of the old object, existing variables declared with it, and callers
 * elsewhere (other objects, function pointers) of a replaced function
 * whose parameters or return value mention it.
 */
static void unchanged_users(const struct rule_ctx *c, const struct entry_facts *f, const char *type,
			    struct users *u)
{
	const struct hp_dwarf *d = c->old->dwarf;

	for_each_sym(c->old, o) {
		const struct hp_dwarf_func *df;
		struct strbuf why;

		if (o->kind != HP_SYM_FUNC || o->parent)
			continue;
		df = dwarf_func_of(c->old, o);
		if (is_kept_function(c, o)) {
			if (func_uses_type(d, df, type))
				add_user(u, "", o->name);
			continue;
		}
		sb_init(&why);
		if (is_replaced(c, o) && interface_mentions(df, type) &&
		    reached_from_elsewhere(f, o, o->twin, &why))
			add_user(u, "callers elsewhere of ", o->name);
		sb_free(&why);
	}
	for (size_t i = 0; i < d->nr_vars; i++) {
		const struct hp_dwarf_var *v = &d->vars[i];

		if (type_mentions(v->type, type))
			add_user(u, "variable ", v->name);
	}
}

/* One entry of a layout string ("cap:unsigned long@16") by member name. */
static char *layout_entry(const char *layout, const char *member)
{
	size_t n = strlen(member);

	for (const char *p = layout; p && *p;) {
		const char *end = strchr(p, ';');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len > n && !strncmp(p, member, n) && (p[n] == ':' || p[n] == '='))
			return xstrndup(p, len);
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

/* The entry of a layout string whose text after 'sep' (':' for the
 * member's "type@offset", '@' for the offset alone) is 'key'. */
static char *layout_entry_by(const char *layout, char sep, const char *key)
{
	for (const char *p = layout; key && p && *p;) {
		const char *end = strchr(p, ';');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char *e = xstrndup(p, len);
		char *k = sep == ':' ? strchr(e, ':') : strrchr(e, '@');

		if (k && !strcmp(k + 1, key))
			return e;
		free(e);
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

/* entry, unless a member of that name is also in layout 'own' (then
 * NULL; entry is freed). */
static char *unless_kept(char *entry, const char *own)
{
	char *name, *kept;

	if (!entry)
		return NULL;
	name = xstrndup(entry, strcspn(entry, ":="));
	kept = layout_entry(own, name);
	free(name);
	if (!kept)
		return entry;
	free(kept);
	free(entry);
	return NULL;
}

/*
 * How one member of one side differs from the other side, into sb;
 * false if it does not.  Members are matched by name, then by place: a
 * member whose name the other side lacks but that has the same type at
 * the same offset is a rename, not a layout change, and one with another
 * type at the same offset is the change there.  Example, zlib's
 * deflate_state: 'l_buf' became 'sym_buf' (same type, same place: a
 * rename), 'd_buf' (ushf *, 8 bytes at 5904) became 'sym_end' (uInt, 4
 * bytes at 5904): the change is "d_buf:ushf *@5904 -> sym_end:uInt@5904",
 * not "new member sym_buf".
 */
static bool member_differs(const char *mine, const char *own, const char *theirs, bool is_new,
			   struct strbuf *sb)
{
	char *name = xstrndup(mine, strcspn(mine, ":="));
	char *same_name = layout_entry(theirs, name);
	const char *shape = strchr(mine, ':'), *at = strrchr(mine, '@');
	char *same_shape = shape ? layout_entry_by(theirs, ':', shape + 1) : NULL;
	char *same_place = at ? layout_entry_by(theirs, '@', at + 1) : NULL;
	bool differs;

	/* a member of the other side stands for this one only if its name is
	 * gone from this side: 'limit:int@4' inserted before 'len' (old
	 * 'len:int@4', now at 8) is new, not a rename of len */
	same_shape = unless_kept(same_shape, own);
	same_place = unless_kept(same_place, own);
	differs = same_name ? strcmp(same_name, mine) != 0 : !same_shape;

	if (differs) {
		const char *before = same_name ? same_name : same_place;

		if (!is_new)
			sb_addf(sb, "%smember %s removed", sb->len ? ", " : "", mine);
		else if (before)
			sb_addf(sb, "%s%s -> %s", sb->len ? ", " : "", before, mine);
		else
			sb_addf(sb, "%snew member %s", sb->len ? ", " : "", mine);
	}
	free(name);
	free(same_name);
	free(same_shape);
	free(same_place);
	return differs;
}

/* The first member (in the new order) that moved, changed or is new, or
 * the first old one that went away; members only renamed in place are
 * named when nothing else changed. */
static void describe_layout_change(const struct hp_dwarf_type *a, const struct hp_dwarf_type *b,
				   struct strbuf *sb)
{
	const char *sides[2] = { b->layout, a->layout };

	if (a->byte_size != b->byte_size)
		sb_addf(sb, "size %lu -> %lu", a->byte_size, b->byte_size);
	for (int side = 0; side < 2; side++) {
		for (const char *p = sides[side]; p && *p;) {
			const char *end = strchr(p, ';');
			char *mine = xstrndup(p, end ? (size_t)(end - p) : strlen(p));
			bool differs = member_differs(mine, sides[side], sides[!side], side == 0, sb);

			free(mine);
			if (differs)
				return;
			p = end ? end + 1 : NULL;
		}
	}
	if (!sb->len)
		sb_adds(sb, "members renamed, layout unchanged");
}

/*
 * A struct, union or enum whose layout changed (byte size, member
 * offsets and types, enumerator values), used both by code going into the
 * package and by code that keeps the old layout.  They would exchange
 * objects laid out two ways.  Example: 'size_t pending' added in the
 * middle of struct conn: conn_write() (changed) reads 'cap' at 24,
 * conn_id() (unchanged) and every caller elsewhere still put it at 16.
 */
static bool layout_changed(const struct hp_dwarf_type *a, const struct hp_dwarf_type *b)
{
	return a->byte_size != b->byte_size || strcmp(a->layout ? a->layout : "", b->layout ? b->layout : "");
}

void check_type_layout(struct rule_ctx *c)
{
	struct entry_facts f;

	if (!c->old->dwarf || !c->new->dwarf) {
		note_without_dwarf(c);
		return;
	}
	entry_facts_init(c, &f);
	for (size_t i = 0; i < c->new->dwarf->nr_types; i++) {
		const struct hp_dwarf_type *b = &c->new->dwarf->types[i];
		const struct hp_dwarf_type *a = dwarf_find_type(c->old->dwarf, b->name);
		struct users now = { .count = 0 }, before = { .count = 0 };
		struct strbuf what;

		if (!a || !layout_changed(a, b) || dwarf_find_type(c->new->dwarf, b->name) != b)
			continue;
		sb_init(&now.names);
		sb_init(&before.names);
		changed_users(c, b->name, &now);
		if (now.count)
			unchanged_users(c, &f, b->name, &before);
		if (now.count && before.count) {
			sb_init(&what);
			describe_layout_change(a, b, &what);
			report(c, "HP004", HPK_SEV_ERROR, b->name, b->file, b->line,
			       "layout changed (%s); changed %s%s use%s the new layout, but %s%s keep%s the old one",
			       what.buf, now.names.buf, now.count > 3 ? ", ..." : "", now.count == 1 ? "s" : "",
			       before.names.buf, before.count > 3 ? ", ..." : "", before.count == 1 ? "s" : "");
			sb_free(&what);
		}
		sb_free(&now.names);
		sb_free(&before.names);
	}
	entry_facts_free(&f);
}

/* ---- HP011: build mismatch ---- */

/* Options that change no machine code: debug info, warnings, diagnostics,
 * preprocessor and path options, and the driver's own bookkeeping. */
static bool is_neutral_option(const char *opt)
{
	static const char *const prefixes[] = {
		"-g", "-W", "-w", "-I", "-D", "-U", "-M", "-iquote", "-isystem", "-include",
		"-fdiagnostics", "-fno-diagnostics", "-fmessage-length", "-fdebug-prefix-map",
		"-ffile-prefix-map", "-fmacro-prefix-map", "-frecord-gcc-switches",
		"-fno-record-gcc-switches", "-fcolor-diagnostics", "-fno-color-diagnostics",
		"-fdebug-", "-fno-debug-", "-fcoverage-prefix-map", "-pipe", "-save-temps", "-v",
		"-c", "-o", "-x", "-fno-show-column", "-fshow-column", "-fno-caret-diagnostics",
	};

	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (!strncmp(opt, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

struct producer {
	struct strbuf compiler;   /* "GNU C17 12.2.0", "Debian clang version 14.0.6 ..." */
	struct strbuf flags;      /* code-generation options, in order, space-separated */
};

/*
 * Split a DW_AT_producer: the words before the first option name the
 * compiler and its version; the options after them (gcc records them,
 * clang only with -grecord-command-line) minus the neutral ones are the
 * code-generation flags.  Words that are not options (input and output
 * files, an option's separate argument) are left out.
 */
static void parse_producer(const char *s, struct producer *p)
{
	bool options = false, skip_next = false;

	sb_init(&p->compiler);
	sb_init(&p->flags);
	while (*s) {
		size_t len;
		char *w;

		s += strspn(s, " ");
		len = strcspn(s, " ");
		if (!len)
			break;
		w = xstrndup(s, len);
		s += len;
		if (w[0] == '-')
			options = true;
		if (!options)
			sb_addf(&p->compiler, "%s%s", p->compiler.len ? " " : "", w);
		else if (skip_next)
			skip_next = false;
		else if (w[0] == '-' && !is_neutral_option(w))
			sb_addf(&p->flags, "%s%s", p->flags.len ? " " : "", w);
		else if (!strcmp(w, "-o") || !strcmp(w, "-x") || !strcmp(w, "-I") || !strcmp(w, "-D") ||
			 !strcmp(w, "-include") || !strcmp(w, "-isystem") || !strcmp(w, "-MF") || !strcmp(w, "-MT"))
			skip_next = true;
		free(w);
	}
}

static void producer_free(struct producer *p)
{
	sb_free(&p->compiler);
	sb_free(&p->flags);
}

/* Words of 'a' (space-separated) that are not words of 'b', into sb. */
static void words_missing(const char *a, const char *b, struct strbuf *sb)
{
	for (const char *p = a; *p;) {
		size_t len = strcspn(p, " ");
		bool found = false;

		for (const char *q = b; *q && !found;) {
			size_t l2 = strcspn(q, " ");
			found = l2 == len && !strncmp(p, q, len);
			q += l2 + (q[l2] == ' ');
		}
		if (!found)
			sb_addf(sb, "%s%.*s", sb->len ? " " : "", (int)len, p);
		p += len + (p[len] == ' ');
	}
}

char *compare_producers(const char *old_producer, const char *new_producer, int *severity)
{
	struct producer a, b;
	struct strbuf only_old, only_new;
	char *msg = NULL;

	*severity = HPK_SEV_ERROR;
	if (!old_producer || !new_producer || !strcmp(old_producer, new_producer))
		return NULL;
	parse_producer(old_producer, &a);
	parse_producer(new_producer, &b);
	sb_init(&only_old);
	sb_init(&only_new);
	words_missing(a.flags.buf, b.flags.buf, &only_old);
	words_missing(b.flags.buf, a.flags.buf, &only_new);
	if (strcmp(a.compiler.buf, b.compiler.buf))
		msg = xasprintf("built by different compilers: old by \"%s\", new by \"%s\"",
				a.compiler.buf, b.compiler.buf);
	else if (only_old.len || only_new.len)
		msg = xasprintf("built with different code-generation flags (%s%s%s%s%s)",
				only_old.len ? "old only: " : "", only_old.buf,
				only_old.len && only_new.len ? "; " : "",
				only_new.len ? "new only: " : "", only_new.buf);
	else if (strcmp(a.flags.buf, b.flags.buf))
		msg = xasprintf("built with code-generation flags in another order: old \"%s\", new \"%s\"",
				a.flags.buf, b.flags.buf);
	sb_free(&only_old);
	sb_free(&only_new);
	producer_free(&a);
	producer_free(&b);
	return msg;
}

void check_build_mismatch(struct rule_ctx *c)
{
	const struct hp_elf *missing = !c->old->dwarf ? c->old : !c->new->dwarf ? c->new : NULL;
	int severity;
	char *msg;

	if (missing) {
		/* the compiler is still named in .comment; the flags are not */
		if (c->old->comment && c->new->comment && strcmp(c->old->comment, c->new->comment))
			report(c, "HP011", HPK_SEV_ERROR, c->unit, c->unit, 0,
			       "built by different compilers (from .comment; no DWARF): old by \"%s\", new by \"%s\"",
			       c->old->comment, c->new->comment);
		note_without_dwarf(c);
		return;
	}
	msg = compare_producers(dwarf_producer(c->old->dwarf), dwarf_producer(c->new->dwarf), &severity);
	if (msg) {
		report(c, "HP011", severity, c->unit, c->unit, 0, "%s", msg);
		free(msg);
	}
}

/*
 * HP013: gcc -flto -ffat-lto-objects.  The object holds both GIMPLE and
 * machine code; the model reads the machine code, which is what a link
 * without -flto uses.  A program linked with -flto runs what the link
 * stage compiled instead (inlined across objects, renamed, cloned), so the
 * package may replace code the program does not have.  Example: zlib
 * built with CFLAGS="-O2 -flto -ffat-lto-objects" and linked with -flto.
 */
void check_link_time_optimized(struct rule_ctx *c)
{
	const struct hp_elf *e = c->new->lto_fat ? c->new : c->old->lto_fat ? c->old : NULL;

	if (e && packages_anything(c))
		report(c, "HP013", HPK_SEV_WARNING, c->unit, c->unit, 0,
		       "%s is a gcc -flto -ffat-lto-objects object: if the program was linked with -flto, its code comes from the link stage, not from this object",
		       path_tail(e->path));
}
