/*
 * dwarf_types.c - canonical C spellings of DWARF types, and the layout
 * strings of structs, unions and enums.
 *
 * A type string is what a C programmer would write for an abstract
 * declarator: "const char *", "char *const", "int[16]", "int (*)[4]",
 * "int (*)(int, ...)", "struct pkt *".  Base types are spelled the one
 * way C allows them shortest (base_type_name()): gcc's "long unsigned int"
 * and clang's "unsigned long" are both "unsigned long", so a rebuild with
 * the other compiler changes no signature or layout.  An anonymous struct
 * is spelled with its layout, "struct {a:int@0;b:int@4}", so a change
 * inside it changes every string that mentions it.
 *
 * Layouts: members in DIE order joined by ';', each "name:type@offset"
 * (offset in bytes), a bitfield "name:type:bits@bitN" (N counted from the
 * start of the struct); enums "A=0;B=1".
 *
 * Hostile input: strings are cached per node with a busy mark, so a type
 * that contains itself prints "?" instead of recursing; nesting and string
 * length are capped, so the work stays linear in the number of types.
 */
#include "dwarf_int.h"

#include <stdlib.h>
#include <string.h>

#define MAX_TYPE_DEPTH 32    /* declarator chain, e.g. pointer to pointer... */
#define MAX_NESTING 32       /* cached strings being built at once */
#define MAX_TYPE_LEN 4096    /* longer strings are cut with "..." */
/* All cached strings together: real objects need a few MB; a hostile one
 * could make every anonymous struct's string MAX_TYPE_LEN long. */
#define MAX_TOTAL_LEN (64u << 20)
#define NO_SLOT UINT32_MAX

struct type_cache {
	char *str;       /* type string, inner declarator empty */
	char *layout;
	char *aggname;
	bool str_busy, layout_busy, aggname_done;
};

struct dw_types {
	const struct dw_snapshot *s;
	uint32_t *slot;           /* node -> index into cache, or NO_SLOT */
	struct type_cache *cache;
	size_t nr_cache, cap_cache;
	size_t total_len;
	int nesting;
};

struct dw_types *dw_types_new(const struct dw_snapshot *s)
{
	struct dw_types *t = xcalloc(1, sizeof(*t));

	t->s = s;
	t->slot = xmalloc((s->nr_nodes ? s->nr_nodes : 1) * sizeof(*t->slot));
	memset(t->slot, 0xff, (s->nr_nodes ? s->nr_nodes : 1) * sizeof(*t->slot));
	return t;
}

void dw_types_free(struct dw_types *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nr_cache; i++) {
		free(t->cache[i].str);
		free(t->cache[i].layout);
		free(t->cache[i].aggname);
	}
	free(t->cache);
	free(t->slot);
	free(t);
}

/*
 * The canonical spelling of an integer base type, whatever order and
 * optional words the compiler used: "long unsigned int" (gcc) and
 * "unsigned long" (clang) -> "unsigned long"; "short int" -> "short";
 * "long long int" -> "long long"; "signed" -> "int"; "__int128 unsigned"
 * (gcc) -> "unsigned __int128" (clang).  "char", "signed char" and
 * "unsigned char" are three types and stay apart.  A name with any other
 * word ("double", "_Bool", "long double", "_Float128") is returned as is.
 */
static const char *base_type_name(const char *name, char *buf, size_t size)
{
	int is_unsigned = 0, is_signed = 0, shorts = 0, longs = 0, ints = 0, chars = 0, i128 = 0;
	const char *p = name;
	const char *width;

	while (*p) {
		size_t len;

		p += strspn(p, " ");
		len = strcspn(p, " ");
		if (!len)
			break;
#define WORD(w) (len == sizeof(w) - 1 && !strncmp(p, w, len))
		if (WORD("unsigned"))
			is_unsigned++;
		else if (WORD("signed"))
			is_signed++;
		else if (WORD("short"))
			shorts++;
		else if (WORD("long"))
			longs++;
		else if (WORD("int"))
			ints++;
		else if (WORD("char"))
			chars++;
		else if (WORD("__int128"))
			i128++;
		else
			return name;
#undef WORD
		p += len;
	}
	if (is_unsigned + is_signed > 1 || shorts > 1 || longs > 2 || (shorts && longs) ||
	    chars + i128 + ints > 1 || ((chars || i128) && (shorts || longs)))
		return name;
	if (chars)
		return is_unsigned ? "unsigned char" : is_signed ? "signed char" : "char";
	width = i128 ? "__int128" : shorts ? "short" : longs == 2 ? "long long" : longs ? "long" : "int";
	snprintf(buf, size, "%s%s", is_unsigned ? "unsigned " : "", width);
	return buf;
}

static struct type_cache *cache_of(struct dw_types *t, uint32_t n)
{
	if (t->slot[n] == NO_SLOT) {
		GROW(t->cache, t->cap_cache, t->nr_cache + 1);
		memset(&t->cache[t->nr_cache], 0, sizeof(t->cache[0]));
		t->slot[n] = (uint32_t)t->nr_cache++;
	}
	return &t->cache[t->slot[n]];
}

static char *detach_capped(struct dw_types *t, struct strbuf *sb)
{
	if (sb->len > MAX_TYPE_LEN) {
		sb->len = MAX_TYPE_LEN - 3;
		sb->buf[sb->len] = '\0';
		sb_adds(sb, "...");
	}
	t->total_len += sb->len;
	return sb_detach(sb);
}

static bool is_pointer_tag(unsigned tag)
{
	return tag == DW_TAG_pointer_type || tag == DW_TAG_reference_type ||
	       tag == DW_TAG_rvalue_reference_type;
}

static const char *pointer_sigil(unsigned tag)
{
	return tag == DW_TAG_pointer_type ? "*" : tag == DW_TAG_reference_type ? "&" : "&&";
}

static const char *qualifier_name(unsigned tag)
{
	switch (tag) {
	case DW_TAG_const_type: return "const";
	case DW_TAG_volatile_type: return "volatile";
	case DW_TAG_restrict_type: return "restrict";
	case DW_TAG_atomic_type: return "_Atomic";
	default: return NULL;
	}
}

static const char *aggregate_keyword(unsigned tag)
{
	switch (tag) {
	case DW_TAG_structure_type: return "struct";
	case DW_TAG_union_type: return "union";
	case DW_TAG_enumeration_type: return "enum";
	default: return "class";
	}
}

/* base + declarator: "char" "*" -> "char *", "int" "[4]" -> "int[4]" */
static void emit(struct strbuf *out, const char *base, const char *inner)
{
	sb_adds(out, base);
	if (inner[0]) {
		if (inner[0] != '[')
			sb_addc(out, ' ');
		sb_adds(out, inner);
	}
}

/* An array or function declarator binds tighter than '*': wrap it. */
static void add_wrapped(struct strbuf *sb, const char *inner)
{
	if (inner[0] == '*' || inner[0] == '&')
		sb_addf(sb, "(%s)", inner);
	else
		sb_adds(sb, inner);
}

static void add_array_dims(const struct dw_snapshot *s, const struct dw_node *d, struct strbuf *sb)
{
	bool any = false;

	for (uint32_t c = d->first_child; c != DW_NONE; c = s->nodes[c].next_sibling) {
		const struct dw_node *sub = &s->nodes[c];
		if (sub->tag != DW_TAG_subrange_type)
			continue;
		any = true;
		if (sub->flags & DWN_COUNT)
			sb_addf(sb, "[%llu]", (unsigned long long)sub->count);
		else
			sb_adds(sb, "[]");
		if (sb->len > MAX_TYPE_LEN)
			break;
	}
	if (!any)
		sb_adds(sb, "[]");
}

static void add_param_list(struct dw_types *t, const struct dw_node *d, struct strbuf *sb)
{
	const struct dw_snapshot *s = t->s;
	size_t n = 0;

	sb_addc(sb, '(');
	for (uint32_t c = d->first_child; c != DW_NONE; c = s->nodes[c].next_sibling) {
		const struct dw_node *p = &s->nodes[c];
		if (p->tag != DW_TAG_formal_parameter && p->tag != DW_TAG_unspecified_parameters)
			continue;
		if (n++)
			sb_adds(sb, ", ");
		sb_adds(sb, p->tag == DW_TAG_formal_parameter ? dw_type_string(t, p->type) : "...");
		if (sb->len > MAX_TYPE_LEN)
			break;
	}
	if (!n && (d->flags & DWN_PROTOTYPED))
		sb_adds(sb, "void");
	sb_addc(sb, ')');
}

static void render(struct dw_types *t, uint32_t n, const char *inner, struct strbuf *out, int depth);

/* A qualifier q on target.  C has no qualified arrays: "const" on an
 * array (gcc's way of saying "array of const") goes to the elements. */
static void render_qualified(struct dw_types *t, unsigned qtag, uint32_t target, const char *inner,
			     struct strbuf *out, int depth)
{
	const struct dw_snapshot *s = t->s;
	const char *q = qualifier_name(qtag);
	const struct dw_node *d = dw_is_node(s, target) ? &s->nodes[target] : NULL;
	struct strbuf sb;

	if (depth > MAX_TYPE_DEPTH) {
		emit(out, "?", inner);
		return;
	}
	if (d && is_pointer_tag(d->tag)) {
		/* a qualified pointer: "char *const" */
		sb_init(&sb);
		sb_addf(&sb, "%s%s%s%s", pointer_sigil(d->tag), q, inner[0] ? " " : "", inner);
		render(t, d->type, sb.buf, out, depth + 1);
		sb_free(&sb);
		return;
	}
	if (d && d->tag == DW_TAG_array_type) {
		sb_init(&sb);
		add_wrapped(&sb, inner);
		add_array_dims(s, d, &sb);
		if (dw_is_node(s, d->type) && s->nodes[d->type].tag == qtag)
			render(t, d->type, sb.buf, out, depth + 1);
		else
			render_qualified(t, qtag, d->type, sb.buf, out, depth + 1);
		sb_free(&sb);
		return;
	}
	sb_adds(out, q);
	sb_addc(out, ' ');
	render(t, target, inner, out, depth + 1);
}

static void render(struct dw_types *t, uint32_t n, const char *inner, struct strbuf *out, int depth)
{
	const struct dw_snapshot *s = t->s;
	const struct dw_node *d;
	struct strbuf sb;

	if (n == DW_NONE) {
		emit(out, "void", inner);
		return;
	}
	if (!dw_is_node(s, n) || depth > MAX_TYPE_DEPTH || out->len > MAX_TYPE_LEN) {
		emit(out, "?", inner);
		return;
	}
	d = &s->nodes[n];
	if (is_pointer_tag(d->tag)) {
		sb_init(&sb);
		sb_addf(&sb, "%s%s", pointer_sigil(d->tag), inner);
		render(t, d->type, sb.buf, out, depth + 1);
		sb_free(&sb);
		return;
	}
	if (qualifier_name(d->tag)) {
		render_qualified(t, d->tag, d->type, inner, out, depth);
		return;
	}
	switch (d->tag) {
	case DW_TAG_base_type: {
		char canon[64];
		emit(out, d->name ? base_type_name(d->name, canon, sizeof(canon)) : "?", inner);
		return;
	}
	case DW_TAG_unspecified_type: case DW_TAG_typedef:
		emit(out, d->name ? d->name : "?", inner);
		return;
	case DW_TAG_structure_type: case DW_TAG_union_type:
	case DW_TAG_enumeration_type: case DW_TAG_class_type:
		emit(out, dw_type_string(t, n), inner);
		return;
	case DW_TAG_array_type: case DW_TAG_subroutine_type:
		sb_init(&sb);
		add_wrapped(&sb, inner);
		if (d->tag == DW_TAG_array_type)
			add_array_dims(s, d, &sb);
		else
			add_param_list(t, d, &sb);
		render(t, d->type, sb.buf, out, depth + 1);
		sb_free(&sb);
		return;
	default:
		emit(out, "?", inner);
		return;
	}
}

/* "struct foo", or an anonymous aggregate spelled by its layout. */
static void render_aggregate_base(struct dw_types *t, uint32_t n, struct strbuf *out)
{
	const struct dw_node *d = &t->s->nodes[n];

	if (d->name)
		sb_addf(out, "%s %s", aggregate_keyword(d->tag), d->name);
	else
		sb_addf(out, "%s {%s}", aggregate_keyword(d->tag), dw_type_layout(t, n));
}

const char *dw_type_string(struct dw_types *t, uint32_t n)
{
	struct type_cache *c;
	struct strbuf sb;

	if (n == DW_NONE)
		return "void";
	if (!dw_is_node(t->s, n))
		return "?";
	c = cache_of(t, n);
	if (c->str)
		return c->str;
	if (c->str_busy || t->nesting >= MAX_NESTING || t->total_len > MAX_TOTAL_LEN)
		return "?";
	c->str_busy = true;
	t->nesting++;
	sb_init(&sb);
	if (dw_is_aggregate_tag(t->s->nodes[n].tag))
		render_aggregate_base(t, n, &sb);
	else
		render(t, n, "", &sb, 0);
	t->nesting--;
	/* the cache may have moved while the string was built */
	c = &t->cache[t->slot[n]];
	c->str = detach_capped(t, &sb);
	c->str_busy = false;
	return c->str;
}

/* Byte size of a type, through typedefs and qualifiers. */
static uint64_t type_byte_size(const struct dw_snapshot *s, uint32_t n)
{
	for (int i = 0; i < MAX_TYPE_DEPTH && dw_is_node(s, n); i++) {
		const struct dw_node *d = &s->nodes[n];
		if (d->flags & DWN_BYTE_SIZE)
			return d->byte_size;
		if (d->tag != DW_TAG_typedef && !qualifier_name(d->tag))
			break;
		n = d->type;
	}
	return 0;
}

/* Bit position of a bitfield from the start of the struct.  DWARF 4+
 * says it directly; DWARF 2/3 count from the most significant bit of the
 * storage unit (on little-endian x86-64 the low bit is bit 0). */
static uint64_t bitfield_position(const struct dw_snapshot *s, const struct dw_node *m)
{
	uint64_t storage;

	if (m->flags & DWN_DATA_BIT_OFF)
		return m->bit_off;
	if (!(m->flags & DWN_BIT_OFF))
		return m->member_loc * 8;
	storage = (m->flags & DWN_BYTE_SIZE) ? m->byte_size : type_byte_size(s, m->type);
	return m->member_loc * 8 + storage * 8 - m->bit_off - m->bit_size;
}

static void add_member(struct dw_types *t, const struct dw_node *m, struct strbuf *sb)
{
	const char *type = dw_type_string(t, m->type);

	if (m->bit_size)
		sb_addf(sb, "%s:%s:%llu@bit%llu", m->name ? m->name : "", type,
			(unsigned long long)m->bit_size,
			(unsigned long long)bitfield_position(t->s, m));
	else
		sb_addf(sb, "%s:%s@%llu", m->name ? m->name : "", type,
			(unsigned long long)((m->flags & DWN_MEMBER_LOC) ? m->member_loc : 0));
}

static void add_enumerator(const struct dw_node *e, struct strbuf *sb)
{
	if (!(e->flags & DWN_CONST))
		sb_addf(sb, "%s=?", e->name ? e->name : "");
	else if (e->flags & DWN_CONST_SIGNED)
		sb_addf(sb, "%s=%lld", e->name ? e->name : "", (long long)e->const_value);
	else
		sb_addf(sb, "%s=%llu", e->name ? e->name : "", (unsigned long long)e->const_value);
}

const char *dw_type_layout(struct dw_types *t, uint32_t agg)
{
	const struct dw_snapshot *s = t->s;
	struct type_cache *c;
	struct strbuf sb;
	size_t n = 0;

	if (!dw_is_node(s, agg))
		return "?";
	c = cache_of(t, agg);
	if (c->layout)
		return c->layout;
	if (c->layout_busy || t->nesting >= MAX_NESTING || t->total_len > MAX_TOTAL_LEN)
		return "?";
	c->layout_busy = true;
	t->nesting++;
	sb_init(&sb);
	for (uint32_t i = s->nodes[agg].first_child; i != DW_NONE; i = s->nodes[i].next_sibling) {
		const struct dw_node *m = &s->nodes[i];
		if (m->tag != DW_TAG_member && m->tag != DW_TAG_enumerator)
			continue;
		if (n++)
			sb_addc(&sb, ';');
		if (m->tag == DW_TAG_member)
			add_member(t, m, &sb);
		else
			add_enumerator(m, &sb);
		if (sb.len > MAX_TYPE_LEN)
			break;
	}
	t->nesting--;
	c = &t->cache[t->slot[agg]];
	c->layout = detach_capped(t, &sb);
	c->layout_busy = false;
	return c->layout;
}

static bool is_anonymous_aggregate(const struct dw_snapshot *s, uint32_t n)
{
	return dw_is_node(s, n) && dw_is_aggregate_tag(s->nodes[n].tag) && !s->nodes[n].name;
}

const char *dw_aggregate_name(struct dw_types *t, uint32_t n)
{
	const struct dw_snapshot *s = t->s;
	const struct dw_node *d;
	struct type_cache *c;

	if (!dw_is_node(s, n))
		return NULL;
	d = &s->nodes[n];
	if (!d->name)
		return NULL;
	if (!dw_is_aggregate_tag(d->tag) && !(d->tag == DW_TAG_typedef && is_anonymous_aggregate(s, d->type)))
		return NULL;
	c = cache_of(t, n);
	if (!c->aggname_done) {
		c->aggname = d->tag == DW_TAG_typedef ? xstrdup(d->name)
			: xasprintf("%s %s", aggregate_keyword(d->tag), d->name);
		c->aggname_done = true;
	}
	return c->aggname;
}

const char *dw_type_reaches(struct dw_types *t, uint32_t n)
{
	const struct dw_snapshot *s = t->s;

	for (int i = 0; i < MAX_TYPE_DEPTH && dw_is_node(s, n); i++) {
		const struct dw_node *d = &s->nodes[n];

		if (dw_is_aggregate_tag(d->tag))
			return dw_aggregate_name(t, n);
		if (d->tag == DW_TAG_typedef && is_anonymous_aggregate(s, d->type))
			return dw_aggregate_name(t, n);
		if (d->tag != DW_TAG_typedef && d->tag != DW_TAG_array_type &&
		    !is_pointer_tag(d->tag) && !qualifier_name(d->tag))
			return NULL;
		n = d->type;
	}
	return NULL;
}
