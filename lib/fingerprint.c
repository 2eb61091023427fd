/*
 * fingerprint.c - relocation targets, their identities, and per-symbol
 * fingerprints (fingerprint.h).
 *
 * Position of a referenced byte: for a section symbol or a compiler label S
 * and addend A, the relocation points at S.value + A, except that an
 * instruction's PC-relative field is relative to the END of the instruction:
 * 'lea .LC0(%rip), %rdi' has A = -4, 'addl $1, x(%rip)' (an imm8 follows the
 * field) has A = -5.  The immediate after the field is 0, 1, 2 or 4 bytes,
 * so the referenced position is one of S.value + A + {4, 5, 6, 8}; we take
 * the first candidate where something actually starts (a string, a pool
 * entry, a symbol).  The identity keeps A relative to that start, so it is
 * exact whichever candidate was right.
 */
#include "fingerprint.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "reloc.h"

static const int64_t code_tails[] = { 4, 5, 6, 8 };
static const int64_t data_tails[] = { 0 };

static bool in_section(const struct hp_section *sec, int64_t pos)
{
	return pos >= 0 && (uint64_t)pos < sec->size;
}

static bool is_string_start(const struct hp_section *sec, int64_t p)
{
	return in_section(sec, p) && sec->data && (p == 0 || sec->data[p - 1] == 0);
}

static uint64_t string_len(const struct hp_section *sec, uint64_t start)
{
	const uint8_t *nul = memchr(sec->data + start, 0, sec->size - start);
	return nul ? (uint64_t)(nul - (sec->data + start)) : sec->size - start;
}

static void resolve_string(const struct hp_section *sec, int64_t base, const int64_t *tails,
			   size_t nt, struct hp_target *t)
{
	int64_t p = base + tails[0];

	for (size_t i = 0; i < nt; i++)
		if (is_string_start(sec, base + tails[i])) {
			p = base + tails[i];
			goto found;
		}
	if (!in_section(sec, p) || !sec->data)
		return;
	while (p > 0 && sec->data[p - 1])  /* inside a string: back to its start */
		p--;
found:
	t->kind = HP_TARGET_STRING;
	t->start = (uint64_t)p;
	t->len = string_len(sec, t->start);
	t->delta = base - p;
}

static void resolve_const(const struct hp_section *sec, int64_t base, const int64_t *tails,
			  size_t nt, struct hp_target *t)
{
	for (size_t i = 0; i < nt; i++) {
		int64_t p = base + tails[i];

		if (in_section(sec, p) && sec->data && (uint64_t)p % sec->entsize == 0 &&
		    sec->entsize <= sec->size - (uint64_t)p) {
			t->kind = HP_TARGET_CONST;
			t->start = (uint64_t)p;
			t->len = sec->entsize;
			t->delta = base - p;
			return;
		}
	}
}

/* Last boundary <= pos and the next one after it: the anonymous region. */
static void anon_region(const struct hp_section *sec, uint64_t pos, uint64_t *start, uint64_t *end)
{
	size_t lo = 0, hi = sec->nr_anon_bounds;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sec->anon_bounds[mid] <= pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	*start = lo ? sec->anon_bounds[lo - 1] : 0;
	*end = lo < sec->nr_anon_bounds ? sec->anon_bounds[lo] : sec->size;
}

static void resolve_in_section(const struct hp_section *sec, int64_t base, const int64_t *tails,
			       size_t nt, struct hp_target *t)
{
	struct hp_symbol *s;
	int64_t p0 = base + tails[0];

	for (size_t i = 0; i < nt; i++) {
		int64_t p = base + tails[i];

		if (in_section(sec, p) && (s = find_symbol_at(sec, (uint64_t)p)) &&
		    (s->kind == HP_SYM_FUNC || s->kind == HP_SYM_OBJECT)) {
			t->kind = HP_TARGET_SYMBOL;
			t->sym = s;
			t->delta = base - (int64_t)s->value;
			return;
		}
	}
	if (in_section(sec, p0) && (s = find_symbol_containing(sec, (uint64_t)p0))) {
		t->kind = HP_TARGET_SYMBOL;
		t->sym = s;
		t->delta = base - (int64_t)s->value;
		return;
	}
	t->kind = HP_TARGET_ANON;
	if (in_section(sec, p0)) {
		anon_region(sec, (uint64_t)p0, &t->start, &t->len);
		t->len -= t->start;
	} else {
		t->start = 0;
		t->len = sec->size;
	}
	t->delta = base - (int64_t)t->start;
}

/* No object holds a section of 2^40 bytes: an addend beyond that cannot
 * point into one, and position arithmetic on it could overflow. */
static bool sane_addend(int64_t a)
{
	return a > -(INT64_C(1) << 40) && a < (INT64_C(1) << 40);
}

/* A jump-table entry (in a data section) holds "label - table": its addend
 * is the label's offset plus the entry's offset in the table, so it can
 * point past the end of the function the label is in (the last entries of
 * classify()'s table in fixture switch tables do).  The function is the
 * last one starting at or before the position; delta keeps the exact
 * addend. */
static void resolve_table_entry(const struct hp_section *sec, int64_t base, struct hp_target *t)
{
	for (size_t i = sec->nr_syms; i-- > 0;) {
		struct hp_symbol *s = sec->syms[i];

		if (s->kind == HP_SYM_FUNC && (int64_t)s->value <= base) {
			t->kind = HP_TARGET_SYMBOL;
			t->sym = s;
			t->delta = base - (int64_t)s->value;
			return;
		}
	}
}

/* A relocation against a named function or object, or an undefined
 * symbol, already names its target: identity by key. */
static bool names_its_target(const struct hp_symbol *s)
{
	return s->kind == HP_SYM_FUNC || s->kind == HP_SYM_OBJECT || !s->sec;
}

void resolve_target(const struct hp_section *from, const struct hp_reloc *r, struct hp_target *t)
{
	const struct hp_reloc_info *ri = reloc_info(r->type);
	const struct hp_symbol *s = r->sym;
	const int64_t *tails = data_tails;
	size_t nt = ARRAY_SIZE(data_tails);
	int64_t base;

	memset(t, 0, sizeof(*t));
	if (!s)
		return;
	if (names_its_target(s)) {
		t->kind = HP_TARGET_SYMBOL;
		t->sym = r->sym;
		t->delta = r->addend;
		return;
	}
	t->sec = s->sec;
	if (ri && ri->pcrel && ri->width == 4 && is_text_sec(from)) {
		tails = code_tails;
		nt = ARRAY_SIZE(code_tails);
	}
	if (!sane_addend(r->addend)) {
		/* hostile or meaningless: no position to resolve; the raw
		 * addend still identifies it */
		t->kind = HP_TARGET_ANON;
		t->start = 0;
		t->len = s->sec->size;
		t->delta = r->addend;
		return;
	}
	base = (int64_t)s->value + r->addend;
	if (is_string_sec(s->sec))
		resolve_string(s->sec, base, tails, nt, t);
	else if (is_const_pool_sec(s->sec))
		resolve_const(s->sec, base, tails, nt, t);
	if (t->kind == HP_TARGET_NONE)
		resolve_in_section(s->sec, base, tails, nt, t);
	if (t->kind == HP_TARGET_ANON && is_text_sec(s->sec) && !is_text_sec(from))
		resolve_table_entry(s->sec, base, t);
}

static void hash_u64(XXH3_state_t *st, uint64_t v)
{
	uint8_t b[8];
	put_le(b, v, 8);
	XXH3_64bits_update(st, b, 8);
}

static void hash_str_into(XXH3_state_t *st, const char *s)
{
	XXH3_64bits_update(st, s, strlen(s) + 1);
}

/* Content of an anonymous region: bytes with relocated fields zeroed, and
 * the targets of its relocations (depth-limited: a region pointing at
 * another region is identified by kind and offset only). */
static void hash_anon_region(XXH3_state_t *st, const struct hp_section *sec, uint64_t start,
			     uint64_t len, int depth);

static void hash_target(XXH3_state_t *st, const struct hp_target *t, int depth)
{
	hash_u64(st, (uint64_t)t->kind);
	hash_u64(st, (uint64_t)t->delta);
	switch (t->kind) {
	case HP_TARGET_NONE:
		break;
	case HP_TARGET_SYMBOL:
		hash_str_into(st, t->sym->key ? t->sym->key : t->sym->name);
		break;
	case HP_TARGET_STRING:
	case HP_TARGET_CONST:
		hash_u64(st, t->len);
		XXH3_64bits_update(st, t->sec->data + t->start, t->len);
		break;
	case HP_TARGET_ANON:
		hash_str_into(st, section_kind(t->sec));
		if (depth > 0)
			hash_u64(st, t->start);
		else
			hash_anon_region(st, t->sec, t->start, t->len, depth + 1);
		break;
	}
}

static size_t first_reloc_at(const struct hp_section *sec, uint64_t off)
{
	size_t lo = 0, hi = sec->nr_relocs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sec->relocs[mid].offset < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Hash len bytes at data (NULL: zero-filled) with the fields of relocs
 * [first, last) zeroed, then each relocation's normalized form. */
static void hash_bytes_masked(XXH3_state_t *st, const uint8_t *data, uint64_t start,
			      uint64_t len, const struct hp_reloc *relocs, size_t n)
{
	uint64_t pos = 0;
	static const uint8_t zeros[16];

	hash_u64(st, len);
	if (!data)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct hp_reloc_info *ri = reloc_info(relocs[i].type);
		uint64_t off = relocs[i].offset - start;
		uint64_t w = ri ? ri->width : 8;

		if (off < pos)
			continue;
		XXH3_64bits_update(st, data + start + pos, off - pos);
		if (w > len - off)
			w = len - off;
		XXH3_64bits_update(st, zeros, w);
		pos = off + w;
	}
	if (pos < len)
		XXH3_64bits_update(st, data + start + pos, len - pos);
}

static void hash_anon_region(XXH3_state_t *st, const struct hp_section *sec, uint64_t start,
			     uint64_t len, int depth)
{
	size_t lo = first_reloc_at(sec, start), hi = first_reloc_at(sec, start + len);

	hash_bytes_masked(st, sec->data, start, len, hi > lo ? sec->relocs + lo : NULL, hi - lo);
	for (size_t i = lo; i < hi; i++) {
		struct hp_target t;

		resolve_target(sec, &sec->relocs[i], &t);
		hash_u64(st, sec->relocs[i].offset - start);
		hash_u64(st, sec->relocs[i].type);
		hash_target(st, &t, depth);
	}
}

uint64_t target_identity(const struct hp_target *t)
{
	XXH3_state_t *st = XXH3_createState();
	uint64_t h;

	XXH3_64bits_reset(st);
	hash_target(st, t, 0);
	h = XXH3_64bits_digest(st);
	XXH3_freeState(st);
	return h;
}

static void describe_bytes(struct strbuf *sb, const uint8_t *p, uint64_t n)
{
	sb_adds(sb, "constant 0x");
	for (uint64_t i = n; i-- > 0;)  /* little-endian: most significant first */
		sb_addf(sb, "%02x", p[i]);
}

static void describe_string(struct strbuf *sb, const uint8_t *p, uint64_t n)
{
	sb_addc(sb, '"');
	for (uint64_t i = 0; i < n && i < 60; i++) {
		uint8_t c = p[i];
		if (c == '"' || c == '\\')
			sb_addf(sb, "\\%c", c);
		else if (c == '\n')
			sb_adds(sb, "\\n");
		else if (c == '\t')
			sb_adds(sb, "\\t");
		else if (c < 0x20 || c >= 0x7f)
			sb_addf(sb, "\\x%02x", c);
		else
			sb_addc(sb, (char)c);
	}
	if (n > 60)
		sb_adds(sb, "...");
	sb_addc(sb, '"');
}

bool target_is_text(const struct hp_target *t)
{
	const uint8_t *p;
	uint64_t n;

	if (t->kind != HP_TARGET_ANON || !t->sec->data || t->len < 2)
		return false;
	p = t->sec->data + t->start;
	n = string_len(t->sec, t->start);
	if (n == 0 || n + 1 > t->len)
		return false;
	for (uint64_t i = 0; i < n; i++)
		if ((p[i] < 0x20 || p[i] >= 0x7f) && p[i] != '\n' && p[i] != '\t')
			return false;
	/* the rest of the region is padding or more strings, never pointers */
	return true;
}

void describe_target(const struct hp_target *t, struct strbuf *sb)
{
	switch (t->kind) {
	case HP_TARGET_NONE:
		sb_adds(sb, "nothing");
		return;
	case HP_TARGET_SYMBOL:
		sb_adds(sb, t->sym->name);
		return;
	case HP_TARGET_STRING:
		describe_string(sb, t->sec->data + t->start, t->len);
		return;
	case HP_TARGET_CONST:
		describe_bytes(sb, t->sec->data + t->start, t->len);
		return;
	case HP_TARGET_ANON:
		if (target_is_text(t)) {
			describe_string(sb, t->sec->data + t->start, string_len(t->sec, t->start));
			return;
		}
		sb_addf(sb, "%s+0x%llx (%llu bytes)", t->sec->name, (unsigned long long)t->start,
			(unsigned long long)t->len);
		return;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Boundaries of anonymous regions: every symbol start in the section and
 * every position a relocation of the object points at (assuming the
 * common 'lea x(%rip)' form for code). */
static void build_anon_bounds(struct hp_elf *e)
{
	size_t *cap = xcalloc(e->nr_sections, sizeof(*cap));

	for_each_sec(e, sec)
		for (size_t i = 0; i < sec->nr_syms; i++) {
			GROW(sec->anon_bounds, cap[sec->index], sec->nr_anon_bounds + 1);
			sec->anon_bounds[sec->nr_anon_bounds++] = sec->syms[i]->value;
		}
	for_each_sec(e, from) {
		if (is_debug_sec(from))
			continue;
		sec_for_each_reloc(from, r) {
			const struct hp_reloc_info *ri = reloc_info(r->type);
			struct hp_section *to;
			int64_t pos;

			if (!r->sym || !r->sym->sec || names_its_target(r->sym) || !sane_addend(r->addend))
				continue;
			to = r->sym->sec;
			pos = (int64_t)r->sym->value + r->addend;
			if (ri && ri->pcrel && is_text_sec(from))
				pos += 4;
			if (!in_section(to, pos))
				continue;
			GROW(to->anon_bounds, cap[to->index], to->nr_anon_bounds + 1);
			to->anon_bounds[to->nr_anon_bounds++] = (uint64_t)pos;
		}
	}
	for_each_sec(e, sec)
		if (sec->nr_anon_bounds > 1)
			qsort(sec->anon_bounds, sec->nr_anon_bounds, sizeof(uint64_t), cmp_u64);
	free(cap);
}

void fingerprint_symbol(struct hp_symbol *s)
{
	XXH3_state_t *st = XXH3_createState();

	XXH3_64bits_reset(st);
	hash_bytes_masked(st, s->sec ? s->sec->data : NULL, s->value, s->size, s->relocs, s->nr_relocs);
	s->code_hash = XXH3_64bits_digest(st);

	XXH3_64bits_reset(st);
	hash_u64(st, s->nr_relocs);
	sym_for_each_reloc(s, r) {
		struct hp_target t;

		resolve_target(s->sec, r, &t);
		hash_u64(st, r->offset - s->value);
		hash_u64(st, r->type);
		hash_target(st, &t, 0);
	}
	s->reloc_hash = XXH3_64bits_digest(st);
	s->fingerprinted = true;
	XXH3_freeState(st);
}

void fingerprint_object(struct hp_elf *e)
{
	build_anon_bounds(e);
	for_each_sym(e, s)
		if (s->kind == HP_SYM_FUNC || s->kind == HP_SYM_OBJECT)
			fingerprint_symbol(s);
}

bool offset_is_relocated(const struct hp_symbol *s, uint64_t off)
{
	sym_for_each_reloc(s, r) {
		const struct hp_reloc_info *ri = reloc_info(r->type);
		uint64_t o = r->offset - s->value;

		if (off >= o && off < o + (ri ? ri->width : 8))
			return true;
	}
	return false;
}
