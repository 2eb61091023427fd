/*
 * hpk.c - the package model's shared half (hpk.h): ownership and freeing,
 * the old-function fingerprint (hpk_masked_hash), the package id in hex,
 * the whole-file hash, and the model checks that both the writer
 * (hpk_write.c) and the reader (hpk_read.c) apply, so that hpbuild can
 * never write a package hpverify refuses.
 *
 * The format itself is specified in man/man5/hotpatch.5; its layout
 * constants are in hpk_format.h.
 */
#define XXH_STATIC_LINKING_ONLY
#include "hpk.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sodium.h>
#include <string.h>
#include <xxhash.h>

#include "hpk_format.h"
#include "reloc.h"

/* ---- ownership ---- */

void *hpk_own(struct hpk *p, void *allocation)
{
	GROW(p->owned, p->cap_owned, p->nr_owned + 1);
	p->owned[p->nr_owned++] = allocation;
	return allocation;
}

void hpk_free(struct hpk *p)
{
	if (!p)
		return;
	for (uint32_t i = 0; i < p->nr_funcs; i++) {
		free(p->funcs[i].relocs);
		free(p->funcs[i].old_masks);
	}
	for (uint32_t i = 0; i < p->nr_data; i++)
		free(p->data[i].relocs);
	for (uint32_t i = 0; i < p->nr_statics; i++)
		free(p->statics[i].masks);
	free(p->statics);
	free(p->aliases);
	free(p->units);
	free(p->syms);
	free(p->funcs);
	free(p->data);
	free(p->findings);
	for (size_t i = 0; i < p->nr_owned; i++)
		free(p->owned[i]);
	free(p->owned);
	free(p->image);
	free(p);
}

static void bytes_to_hex(const uint8_t *b, size_t n, char *buf)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		buf[2 * i] = hex[b[i] >> 4];
		buf[2 * i + 1] = hex[b[i] & 15];
	}
	buf[2 * n] = '\0';
}

void hpk_id_to_hex(const uint8_t id[16], char *buf)
{
	bytes_to_hex(id, 16, buf);
}

void hpk_id_hex(const struct hpk *p, char *buf)
{
	hpk_id_to_hex(p->id, buf);
}

void hpk_digest_hex(const struct hpk *p, char *buf)
{
	if (p->has_digest)
		bytes_to_hex(p->digest, 32, buf);
	else
		buf[0] = '\0';
}

int hpk_expect_id(const struct hpk *p, const char *name, const char *want, struct hp_err *err)
{
	size_t n = strlen(want);
	char have[65];

	if ((n != 32 && n != 64) || strspn(want, "0123456789abcdefABCDEF") != n)
		return hp_err_set(err, "--expect-id %s: not a package id (32 hex digits) or digest (64)", want);
	/* a 1.0 id is an XXH3 checksum: anyone can make a package with it */
	if (!p->has_digest)
		return hp_err_set(err, "%s: format %u.%u package has no cryptographic id to check --expect-id against; rebuild it",
				  name, p->major, p->minor);
	hpk_digest_hex(p, have);
	if (strncasecmp(have, want, n))
		return hp_err_set(err, "%s: package %.*s is not the expected %s", name, (int)n, have, want);
	return 0;
}

/* ---- hashes ---- */

static int cmp_range(const void *a, const void *b)
{
	const struct hpk_range *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (x->len > y->len) - (x->len < y->len);
}

uint32_t hpk_normalize_masks(const struct hpk_range *in, uint32_t n, struct hpk_range *out)
{
	uint32_t w = 0;

	memcpy(out, in, (size_t)n * sizeof(*out));
	qsort(out, n, sizeof(*out), cmp_range);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t end = (uint64_t)out[i].start + out[i].len;

		if (!out[i].len)
			continue;
		if (w && out[i].start <= (uint64_t)out[w - 1].start + out[w - 1].len) {
			uint64_t prev_end = (uint64_t)out[w - 1].start + out[w - 1].len;
			if (end > prev_end)
				out[w - 1].len = (uint32_t)(end > UINT32_MAX ? UINT32_MAX - out[w - 1].start
								     : end - out[w - 1].start);
		} else {
			out[w++] = out[i];
		}
	}
	return w;
}

static bool masks_normalized(const struct hpk_range *m, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (!m[i].len)
			return false;
		if (i && m[i].start <= (uint64_t)m[i - 1].start + m[i - 1].len)
			return false;
	}
	return true;
}

/*
 * XXH3-64 (seed 0) of: the size as a little-endian u32, then every byte
 * outside the masks, in order.  The size goes first so that two functions
 * whose kept bytes happen to match but whose sizes differ do not collide.
 * Masks are clipped to size; unsorted or overlapping masks give the same
 * answer as their sorted, merged form.
 */
uint64_t hpk_masked_hash(const uint8_t *bytes, uint32_t size,
			 const struct hpk_range *masks, uint32_t nr_masks)
{
	struct hpk_range *sorted = NULL;
	const struct hpk_range *m = masks;
	uint32_t n = nr_masks;
	XXH3_state_t st;
	uint8_t le[4];
	uint64_t pos = 0, h;

	if (!masks_normalized(masks, nr_masks)) {
		sorted = xmalloc((size_t)nr_masks * sizeof(*sorted));
		n = hpk_normalize_masks(masks, nr_masks, sorted);
		m = sorted;
	}
	XXH3_INITSTATE(&st);
	XXH3_64bits_reset(&st);
	put_le(le, size, 4);
	XXH3_64bits_update(&st, le, 4);
	for (uint32_t i = 0; i < n && pos < size; i++) {
		uint64_t start = m[i].start, end = start + m[i].len;

		if (start > size)
			start = size;
		if (end > size)
			end = size;
		if (start > pos)
			XXH3_64bits_update(&st, bytes + pos, (size_t)(start - pos));
		if (end > pos)
			pos = end;
	}
	if (pos < size)
		XXH3_64bits_update(&st, bytes + pos, (size_t)(size - pos));
	h = XXH3_64bits_digest(&st);
	free(sorted);
	return h;
}

void hpk_file_hash(const uint8_t *image, size_t size, int zero_id, uint8_t out[16])
{
	static const uint8_t zeros[16];
	XXH3_state_t st;
	XXH128_hash_t h;

	XXH3_INITSTATE(&st);
	XXH3_128bits_reset(&st);
	XXH3_128bits_update(&st, image, HDR_ID);
	XXH3_128bits_update(&st, zero_id ? zeros : image + HDR_ID, 16);
	XXH3_128bits_update(&st, zeros, 16);
	XXH3_128bits_update(&st, image + HDR_CHECKSUM + 16, size - (HDR_CHECKSUM + 16));
	h = XXH3_128bits_digest(&st);
	put_le(out, h.low64, 8);
	put_le(out + 8, h.high64, 8);
}

void hpk_file_digest(const uint8_t *image, size_t size, uint8_t out[32])
{
	static const uint8_t zeros[32];
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, image, HDR_ID);
	crypto_generichash_update(&st, zeros, 32);   /* id and checksum */
	crypto_generichash_update(&st, image + HDR_TOOL_VERSION, HDR_DIGEST - HDR_TOOL_VERSION);
	crypto_generichash_update(&st, zeros, 32);   /* digest */
	crypto_generichash_update(&st, image + HDR_SIZE, size - HDR_SIZE);
	crypto_generichash_final(&st, out, 32);
}

void hpk_seal_id(uint8_t *image, size_t size)
{
	if ((get_le(image + HDR_FLAGS, 4) & HPK_FLAG_DIGEST) && size >= HDR_SIZE &&
	    get_le(image + HDR_HEADER_SIZE, 2) >= HDR_SIZE) {
		hpk_file_digest(image, size, image + HDR_DIGEST);
		memcpy(image + HDR_ID, image + HDR_DIGEST, 16);
	} else {
		hpk_file_hash(image, size, 1, image + HDR_ID);
	}
}

/* ---- section types ---- */

static const struct {
	const char *name;
	size_t record_size;
} sections[SEC_MAX_KNOWN + 1] = {
	[SEC_STRINGS] = { "strings", 1 },
	[SEC_UNITS] = { "units", UNIT_SIZE },
	[SEC_SYMBOLS] = { "symbols", SYM_SIZE },
	[SEC_FUNCTIONS] = { "functions", FUNC_SIZE },
	[SEC_DATA] = { "data", DATA_SIZE },
	[SEC_RELOCS] = { "relocs", RELOC_SIZE },
	[SEC_MASKS] = { "masks", MASK_SIZE },
	[SEC_FINDINGS] = { "findings", FIND_SIZE },
	[SEC_BLOBS] = { "blobs", 1 },
	[SEC_BASE] = { "base", BASEREC_SIZE },
	[SEC_STATICS] = { "statics", STATIC_SIZE },
	[SEC_STATIC_MASKS] = { "static_masks", MASK_SIZE },
	[SEC_ALIASES] = { "aliases", ALIAS_SIZE },
};

const char *hpk_section_name(uint32_t type)
{
	return type >= 1 && type <= SEC_MAX_KNOWN ? sections[type].name : NULL;
}

size_t hpk_record_size(uint32_t type)
{
	return type >= 1 && type <= SEC_MAX_KNOWN ? sections[type].record_size : 1;
}

/* ---- model checks ---- */

static int why_set(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int why_set(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return -1;
}

/* The ELF bindings a package symbol or definition may have: hpapply knows
 * how to look up and define exactly these. */
static bool valid_bind(uint8_t bind)
{
	return bind == 0 /* STB_LOCAL */ || bind == 1 /* STB_GLOBAL */ || bind == 2 /* STB_WEAK */;
}

static bool is_power_of_two(uint32_t x)
{
	return x && !(x & (x - 1));
}

/* Width a relocation rewrites; an unknown type gets the widest field any
 * x86-64 relocation has, so that the bounds check stays conservative.  The
 * type itself is for hpverify's rules to judge, not for the reader. */
static unsigned reloc_width(uint32_t type)
{
	const struct hp_reloc_info *ri = reloc_info(type);
	return ri ? ri->width : 8;
}

static int check_relocs(const struct hpk *p, const char *what, uint32_t i, const char *owner,
			const struct hpk_reloc *r, uint32_t nr, uint32_t size, char *why, size_t n)
{
	if (nr && !r)
		return why_set(why, n, "%s %u: %u relocations but no relocation array", what, i, nr);
	for (uint32_t k = 0; k < nr; k++) {
		unsigned w = reloc_width(r[k].type);

		if ((uint64_t)r[k].offset + w > size) {
			if (w == 8 && !reloc_info(r[k].type))
				return why_set(why, n, "%s %u relocation %u: offset 0x%x (type %u, checked as an 8-byte field) outside the %s's 0x%x bytes",
					       what, i, k, r[k].offset, r[k].type, owner, size);
			return why_set(why, n, "%s %u relocation %u: offset 0x%x (%u-byte field) outside the %s's 0x%x bytes",
				       what, i, k, r[k].offset, w, owner, size);
		}
		if (r[k].sym >= p->nr_syms)
			return why_set(why, n, "%s %u relocation %u: symbol %u out of range (%u symbols)",
				       what, i, k, r[k].sym, p->nr_syms);
	}
	return 0;
}

static int check_unit_index(const struct hpk *p, const char *what, uint32_t i, uint32_t unit,
			    char *why, size_t n)
{
	if (unit >= p->nr_units)
		return why_set(why, n, "%s %u: unit %u out of range (%u units)", what, i, unit, p->nr_units);
	return 0;
}

static int check_symbol(const struct hpk *p, uint32_t i, char *why, size_t n)
{
	const struct hpk_symbol *s = &p->syms[i];

	if (!s->name)
		return why_set(why, n, "symbol %u: no name", i);
	if (!valid_bind(s->bind))
		return why_set(why, n, "symbol %u: binding %u is not LOCAL, GLOBAL or WEAK", i, s->bind);
	if (check_unit_index(p, "symbol", i, s->unit, why, n) < 0)
		return -1;
	switch (s->where) {
	case HPK_SYM_FUNC:
		if (s->index >= p->nr_funcs)
			return why_set(why, n, "symbol %u: function %u out of range (%u functions)",
				       i, s->index, p->nr_funcs);
		if (p->funcs[s->index].sym != i)
			return why_set(why, n, "symbol %u: function %u's own symbol is %u, not %u",
				       i, s->index, p->funcs[s->index].sym, i);
		return 0;
	case HPK_SYM_DATA:
		if (s->index >= p->nr_data)
			return why_set(why, n, "symbol %u: data object %u out of range (%u data objects)",
				       i, s->index, p->nr_data);
		if (p->data[s->index].sym != i)
			return why_set(why, n, "symbol %u: data object %u's own symbol is %u, not %u",
				       i, s->index, p->data[s->index].sym, i);
		return 0;
	case HPK_SYM_EXTERN:
		/* one encoding per meaning: an extern has no index */
		if (s->index)
			return why_set(why, n, "symbol %u: external symbol with index %u (must be 0)", i, s->index);
		return 0;
	default:
		return why_set(why, n, "symbol %u: 'where' %u is not FUNC (1), DATA (2) or EXTERN (3)",
			       i, s->where);
	}
}

static int check_func_masks(const struct hpk_func *f, uint32_t i, char *why, size_t n)
{
	if (f->kind == HPK_FUNC_NEW) {
		/* a new function has nothing in the running program to compare */
		if (f->old_size || f->old_hash || f->nr_old_masks)
			return why_set(why, n, "function %u: a new function with an old fingerprint", i);
		return 0;
	}
	if (f->nr_old_masks && !f->old_masks)
		return why_set(why, n, "function %u: %u masks but no mask array", i, f->nr_old_masks);
	for (uint32_t k = 0; k < f->nr_old_masks; k++) {
		const struct hpk_range *m = &f->old_masks[k];

		if ((uint64_t)m->start + m->len > f->old_size)
			return why_set(why, n, "function %u mask %u: 0x%x+0x%x outside the old function's 0x%x bytes",
				       i, k, m->start, m->len, f->old_size);
	}
	return 0;
}

static int check_func(const struct hpk *p, uint32_t i, char *why, size_t n)
{
	const struct hpk_func *f = &p->funcs[i];

	if (!f->name)
		return why_set(why, n, "function %u: no name", i);
	if (f->kind != HPK_FUNC_REPLACE && f->kind != HPK_FUNC_NEW)
		return why_set(why, n, "function %u: kind %u is not REPLACE (1) or NEW (2)", i, f->kind);
	if (!valid_bind(f->bind))
		return why_set(why, n, "function %u: binding %u is not LOCAL, GLOBAL or WEAK", i, f->bind);
	if (check_unit_index(p, "function", i, f->unit, why, n) < 0)
		return -1;
	if (f->sym >= p->nr_syms)
		return why_set(why, n, "function %u: symbol %u out of range (%u symbols)", i, f->sym, p->nr_syms);
	if (p->syms[f->sym].where != HPK_SYM_FUNC || p->syms[f->sym].index != i)
		return why_set(why, n, "function %u: its symbol %u does not point back at it", i, f->sym);
	if (!is_power_of_two(f->align))
		return why_set(why, n, "function %u: alignment %u is not a power of two", i, f->align);
	if (f->code_size && !f->code)
		return why_set(why, n, "function %u: 0x%x bytes of code but no code", i, f->code_size);
	if (check_relocs(p, "function", i, "function", f->relocs, f->nr_relocs, f->code_size, why, n) < 0)
		return -1;
	return check_func_masks(f, i, why, n);
}

static int check_data(const struct hpk *p, uint32_t i, char *why, size_t n)
{
	const struct hpk_data *d = &p->data[i];

	if (!d->name)
		return why_set(why, n, "data %u: no name", i);
	if (d->kind != HPK_DATA_RODATA && d->kind != HPK_DATA_DATA && d->kind != HPK_DATA_BSS)
		return why_set(why, n, "data %u: kind %u is not RODATA (1), DATA (2) or BSS (3)", i, d->kind);
	if (!valid_bind(d->bind))
		return why_set(why, n, "data %u: binding %u is not LOCAL, GLOBAL or WEAK", i, d->bind);
	if (check_unit_index(p, "data", i, d->unit, why, n) < 0)
		return -1;
	if (d->sym >= p->nr_syms)
		return why_set(why, n, "data %u: symbol %u out of range (%u symbols)", i, d->sym, p->nr_syms);
	if (p->syms[d->sym].where != HPK_SYM_DATA || p->syms[d->sym].index != i)
		return why_set(why, n, "data %u: its symbol %u does not point back at it", i, d->sym);
	if (!is_power_of_two(d->align))
		return why_set(why, n, "data %u: alignment %u is not a power of two", i, d->align);
	if (d->kind == HPK_DATA_BSS) {
		/* zero-filled at load time: bytes or relocations would be ignored */
		if (d->bytes)
			return why_set(why, n, "data %u: a BSS object with stored bytes", i);
		if (d->nr_relocs)
			return why_set(why, n, "data %u: a BSS object with relocations", i);
		return 0;
	}
	if (d->size && !d->bytes)
		return why_set(why, n, "data %u: 0x%x bytes but no contents", i, d->size);
	return check_relocs(p, "data", i, "object", d->relocs, d->nr_relocs, d->size, why, n);
}

static int check_finding(const struct hpk *p, uint32_t i, char *why, size_t n)
{
	const struct hpk_finding *f = &p->findings[i];

	if (!f->rule)
		return why_set(why, n, "finding %u: no rule id", i);
	if (f->severity < HPK_SEV_NOTE || f->severity > HPK_SEV_ERROR)
		return why_set(why, n, "finding %u: severity %u is not NOTE (1), WARNING (2) or ERROR (3)",
			       i, f->severity);
	return 0;
}

/* A static's fingerprint names a symbol of the running module the package
 * refers to: an EXTERN symbol (a static, or a hidden global the module
 * does not export). */
static int check_static(const struct hpk *p, uint32_t i, char *why, size_t n)
{
	const struct hpk_static *st = &p->statics[i];

	if (st->sym >= p->nr_syms)
		return why_set(why, n, "static %u: symbol %u out of range (%u symbols)", i, st->sym, p->nr_syms);
	if (p->syms[st->sym].where != HPK_SYM_EXTERN)
		return why_set(why, n, "static %u: symbol %u is not a symbol of the running program", i, st->sym);
	if (st->kind != HPK_STATIC_FUNC && st->kind != HPK_STATIC_RODATA && st->kind != HPK_STATIC_DATA)
		return why_set(why, n, "static %u: kind %u is not FUNC (1), RODATA (2) or DATA (3)", i, st->kind);
	if (!is_power_of_two(st->align))
		return why_set(why, n, "static %u: alignment %u is not a power of two", i, st->align);
	if (st->kind == HPK_STATIC_DATA && (st->hash || st->nr_masks))
		return why_set(why, n, "static %u: a writable static with a fingerprint", i);
	if (st->nr_masks && !st->masks)
		return why_set(why, n, "static %u: %u masks but no mask array", i, st->nr_masks);
	for (uint32_t k = 0; k < st->nr_masks; k++) {
		const struct hpk_range *m = &st->masks[k];

		if (!m->len || (uint64_t)m->start + m->len > st->size ||
		    (k && m->start < (uint64_t)m[-1].start + m[-1].len))
			return why_set(why, n, "static %u mask %u: 0x%x+0x%x is empty, outside its 0x%x bytes, or not sorted",
				       i, k, m->start, m->len, st->size);
	}
	/* sorted by symbol, one each: a duplicate is found in one pass */
	if (i && p->statics[i - 1].sym >= st->sym)
		return why_set(why, n, "static %u: symbol %u does not follow static %u's %u (sorted by symbol, one each)",
			       i, st->sym, i - 1, p->statics[i - 1].sym);
	return 0;
}

/* An alias names a packaged function; sorted by function then name, each
 * once, and never the function's own name. */
static int check_alias(const struct hpk *p, uint32_t i, char *why, size_t n)
{
	const struct hpk_alias *a = &p->aliases[i];

	if (a->func >= p->nr_funcs)
		return why_set(why, n, "alias %u: function %u out of range (%u functions)", i, a->func, p->nr_funcs);
	if (!a->name || (p->funcs[a->func].name && !strcmp(a->name, p->funcs[a->func].name)))
		return why_set(why, n, "alias %u: no name, or function %u's own name", i, a->func);
	if (i && (p->aliases[i - 1].func > a->func ||
		  (p->aliases[i - 1].func == a->func && strcmp(p->aliases[i - 1].name, a->name) >= 0)))
		return why_set(why, n, "alias %u: not after alias %u (sorted by function, then name, each once)", i,
			       i - 1);
	return 0;
}

int hpk_check_model(const struct hpk *p, char *why, size_t n)
{
	for (uint32_t i = 0; i < p->nr_aliases; i++)
		if (check_alias(p, i, why, n) < 0)
			return -1;
	if (!p->base_build_id != !p->base_name)
		return why_set(why, n, "base: a build-id without a module name, or a name without a build-id");
	for (uint32_t i = 0; i < p->nr_statics; i++)
		if (check_static(p, i, why, n) < 0)
			return -1;
	for (uint32_t i = 0; i < p->nr_units; i++)
		if (!p->units[i].name)
			return why_set(why, n, "unit %u: no name", i);
	for (uint32_t i = 0; i < p->nr_syms; i++)
		if (check_symbol(p, i, why, n) < 0)
			return -1;
	for (uint32_t i = 0; i < p->nr_funcs; i++)
		if (check_func(p, i, why, n) < 0)
			return -1;
	for (uint32_t i = 0; i < p->nr_data; i++)
		if (check_data(p, i, why, n) < 0)
			return -1;
	for (uint32_t i = 0; i < p->nr_findings; i++)
		if (check_finding(p, i, why, n) < 0)
			return -1;
	return 0;
}
