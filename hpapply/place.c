/*
 * place.c - region layout, address choice and relocation (place.h).
 *
 * Relocations are computed as the static linker would (S: the symbol's
 * address, A: the addend, P: the field's address, G: a GOT slot of ours):
 *   R_X86_64_64          S + A                  8 bytes
 *   R_X86_64_PC64        S + A - P              8 bytes
 *   R_X86_64_PC32/PLT32  S + A - P              4 bytes, signed; a call or
 *                        jump to a function out of reach goes through a stub
 *   R_X86_64_GOTPCREL(X) G + A - P, G holds S   4 bytes (never relaxed: the
 *   R_X86_64_REX_GOTPCRELX                      slot form is always valid)
 *   R_X86_64_32 / 32S    S + A                  4 bytes, when it fits
 *   R_X86_64_TPOFF32     S + A                  thread-local: S is the
 *   R_X86_64_GOTTPOFF    G + A - P, G holds S   variable's offset from %fs
 * Anything else is refused with the relocation's name.
 */
#include "place.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "reloc.h"

static uint64_t valid_align(uint32_t a)
{
	/* a power of two up to a page; anything else is treated as 16 */
	return a && a <= PAGE_SIZE_X86 && !(a & (a - 1)) ? a : 16;
}

static bool is_pc32_type(uint32_t type)
{
	return type == R_X86_64_PC32 || type == R_X86_64_PLT32;
}

static bool is_got_type(uint32_t type)
{
	return type == R_X86_64_GOTPCREL || type == R_X86_64_GOTPCRELX ||
	       type == R_X86_64_REX_GOTPCRELX || type == R_X86_64_GOTTPOFF;
}

static bool is_tls_type(uint32_t type)
{
	return type == R_X86_64_TPOFF32 || type == R_X86_64_GOTTPOFF;
}

/* Stubs and GOT slots for every symbol of the running program that a
 * PC32/PLT32 or GOTPCREL relocation names (an upper bound: a stub is only
 * written when the target is out of reach). */
static void count_indirections(struct layout *l, const struct hpk *p, const struct hpk_reloc *r,
			       uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint32_t s = r[i].sym;

		if (s >= p->nr_syms)
			continue;
		if (is_pc32_type(r[i].type) && p->syms[s].where == HPK_SYM_EXTERN && !l->stub_of[s])
			l->stub_of[s] = ++l->nr_stubs;
		if (is_got_type(r[i].type) && !l->got_of[s])
			l->got_of[s] = ++l->nr_got;
	}
}

void layout_init(struct layout *l, const struct hpk *p)
{
	uint64_t off = 0;

	memset(l, 0, sizeof(*l));
	l->func_off = xcalloc(p->nr_funcs, sizeof(*l->func_off));
	l->data_off_of = xcalloc(p->nr_data, sizeof(*l->data_off_of));
	l->stub_of = xcalloc(p->nr_syms, sizeof(*l->stub_of));
	l->got_of = xcalloc(p->nr_syms, sizeof(*l->got_of));
	for (uint32_t i = 0; i < p->nr_funcs; i++)
		count_indirections(l, p, p->funcs[i].relocs, p->funcs[i].nr_relocs);
	for (uint32_t i = 0; i < p->nr_data; i++)
		count_indirections(l, p, p->data[i].relocs, p->data[i].nr_relocs);

	for (uint32_t i = 0; i < p->nr_funcs; i++) {
		off = align_up(off, valid_align(p->funcs[i].align));
		l->func_off[i] = off;
		off += p->funcs[i].code_size;
	}
	l->stub_base = align_up(off, STUB_SIZE);
	l->code_size = l->stub_base + (uint64_t)l->nr_stubs * STUB_SIZE;

	off = l->rodata_off = align_up(l->code_size, PAGE_SIZE_X86);
	for (uint32_t i = 0; i < p->nr_data; i++) {
		if (p->data[i].kind != HPK_DATA_RODATA)
			continue;
		off = align_up(off, valid_align(p->data[i].align));
		l->data_off_of[i] = off;
		off += p->data[i].size;
	}
	l->got_base = align_up(off, 8);
	off = l->got_base + (uint64_t)l->nr_got * 8;
	l->rodata_size = off - l->rodata_off;

	off = l->data_off = align_up(off, PAGE_SIZE_X86);
	for (uint32_t i = 0; i < p->nr_data; i++) {
		if (p->data[i].kind == HPK_DATA_RODATA)
			continue;
		off = align_up(off, valid_align(p->data[i].align));
		l->data_off_of[i] = off;
		off += p->data[i].size;
	}
	l->data_size = off - l->data_off;
	l->size = align_up(off, PAGE_SIZE_X86);
	if (l->size == 0)
		l->size = PAGE_SIZE_X86;
}

void layout_free(struct layout *l)
{
	free(l->func_off);
	free(l->data_off_of);
	free(l->stub_of);
	free(l->got_of);
	memset(l, 0, sizeof(*l));
}

uint64_t package_sym_addr(const struct hpk *p, const struct layout *l, uint64_t base,
			  const uint64_t *ext, uint32_t i)
{
	const struct hpk_symbol *s = &p->syms[i];

	if (s->where == HPK_SYM_FUNC)
		return base + l->func_off[s->index];
	if (s->where == HPK_SYM_DATA)
		return base + l->data_off_of[s->index];
	return ext[i];
}

/* ---- address choice ---- */

struct candidate {
	uint64_t addr, distance;
};

static int cmp_candidate(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;

	if (x->distance != y->distance)
		return x->distance < y->distance ? -1 : 1;
	return (x->addr > y->addr) - (x->addr < y->addr);
}

static bool is_named(const struct mapping *mp, const char *name)
{
	return mp && mp->path && !strcmp(mp->path, name);
}

size_t place_candidates(const struct proc_maps *m, uint64_t lo, uint64_t hi, uint64_t size,
			uint64_t *out, size_t max)
{
	struct candidate *c = xcalloc(m->n + 1, sizeof(*c));
	uint64_t win_lo = hi > REL32_REACH + MAPS_LOWEST ? hi - REL32_REACH : MAPS_LOWEST;
	uint64_t win_hi = lo + REL32_REACH < MAPS_HIGHEST ? lo + REL32_REACH : MAPS_HIGHEST;
	size_t nc = 0, n;

	for (size_t i = 0; i <= m->n; i++) {
		const struct mapping *below = i ? &m->v[i - 1] : NULL;
		const struct mapping *above = i < m->n ? &m->v[i] : NULL;
		uint64_t g_lo = below ? below->end : MAPS_LOWEST;
		uint64_t g_hi = above ? above->start : MAPS_HIGHEST;
		uint64_t addr;

		if (is_named(below, "[heap]") || is_named(above, "[stack]"))
			continue;
		g_lo = align_up(g_lo > win_lo ? g_lo : win_lo, PAGE_SIZE_X86);
		g_hi = (g_hi < win_hi ? g_hi : win_hi) & ~(PAGE_SIZE_X86 - 1);
		if (g_hi <= g_lo || g_hi - g_lo < size)
			continue;
		/* the end of the gap nearest the module */
		addr = g_hi <= lo ? g_hi - size : g_lo;
		c[nc].addr = addr;
		c[nc].distance = addr + size <= lo ? lo - (addr + size) : addr >= hi ? addr - hi : 0;
		nc++;
	}
	qsort(c, nc, sizeof(*c), cmp_candidate);
	n = nc < max ? nc : max;
	for (size_t i = 0; i < n; i++)
		out[i] = c[i].addr;
	free(c);
	return n;
}

/* ---- relocation ---- */

struct reloc_site {
	const char *owner;     /* function or data object name */
	uint8_t *bytes;        /* the object's bytes in the image */
	uint32_t size;
	uint64_t addr;         /* its address in the process */
};

static bool fits_s32(int64_t v)
{
	return v >= INT32_MIN && v <= INT32_MAX;
}

static bool is_function_like(const struct hpk_symbol *s)
{
	return s->type == STT_FUNC || s->type == STT_NOTYPE || s->type == STT_GNU_IFUNC;
}

static void write_stub(uint8_t *at, uint64_t target)
{
	static const uint8_t jmp_rip[6] = { 0xff, 0x25, 0, 0, 0, 0 };   /* jmp *0(%rip) */

	memcpy(at, jmp_rip, sizeof(jmp_rip));
	put_le(at + 6, target, 8);
	memset(at + 14, 0xcc, STUB_SIZE - 14);
}

static int reloc_error(struct hp_err *err, const struct reloc_site *site, const struct hpk_reloc *r,
		       const char *sym, const char *why)
{
	return hp_err_set(err, "package %s+0x%x: %s to '%s' %s", site->owner, r->offset,
			  reloc_name(r->type), sym, why);
}

static int apply_one(const struct hpk *p, const struct layout *l, uint64_t base, const uint64_t *ext,
		     uint8_t *image, const struct reloc_site *site, const struct hpk_reloc *r,
		     struct hp_err *err)
{
	const struct hp_reloc_info *ri = reloc_info(r->type);
	const struct hpk_symbol *sym;
	uint64_t S, P = site->addr + r->offset;
	uint8_t *field = site->bytes + r->offset;
	int64_t v;

	if (r->sym >= p->nr_syms || !ri || r->offset > site->size || ri->width > site->size - r->offset)
		return hp_err_set(err, "package %s+0x%x: malformed relocation", site->owner, r->offset);
	sym = &p->syms[r->sym];
	S = package_sym_addr(p, l, base, ext, r->sym);
	/* for a thread-local variable S is its offset from %fs: only the
	 * TLS relocations may use it, and they only such an S */
	if ((sym->type == STT_TLS) != is_tls_type(r->type) && r->type != R_X86_64_NONE)
		return reloc_error(err, site, r, sym->name, sym->type == STT_TLS ?
				   "to a thread-local variable is not supported by hpapply" :
				   "needs a thread-local variable");
	switch (r->type) {
	case R_X86_64_NONE:
		return 0;
	case R_X86_64_64:
		put_le(field, S + (uint64_t)r->addend, 8);
		return 0;
	case R_X86_64_PC64:
		put_le(field, S + (uint64_t)r->addend - P, 8);
		return 0;
	case R_X86_64_PC32:
	case R_X86_64_PLT32:
		v = (int64_t)(S + (uint64_t)r->addend - P);
		if (!fits_s32(v)) {
			uint64_t stub;

			/* only a call or jump (its field ends the instruction: A = -4)
			 * can go through a stub */
			if (!l->stub_of[r->sym] || r->addend != -4 || !is_function_like(sym))
				return reloc_error(err, site, r, sym->name, "is out of rel32 reach");
			stub = l->stub_base + (uint64_t)(l->stub_of[r->sym] - 1) * STUB_SIZE;
			write_stub(image + stub, S);
			v = (int64_t)(base + stub + (uint64_t)r->addend - P);
		}
		put_le(field, (uint64_t)v, 4);
		return 0;
	case R_X86_64_TPOFF32:
		v = (int64_t)(S + (uint64_t)r->addend);
		if (!fits_s32(v))
			return reloc_error(err, site, r, sym->name, "has a TLS offset that does not fit 32 bits");
		put_le(field, (uint64_t)v, 4);
		return 0;
	case R_X86_64_GOTPCREL:
	case R_X86_64_GOTPCRELX:
	case R_X86_64_REX_GOTPCRELX:
	case R_X86_64_GOTTPOFF: {
		uint64_t slot = l->got_base + (uint64_t)(l->got_of[r->sym] - 1) * 8;

		put_le(image + slot, S, 8);
		v = (int64_t)(base + slot + (uint64_t)r->addend - P);
		if (!fits_s32(v))
			return reloc_error(err, site, r, sym->name, "cannot reach its GOT slot");
		put_le(field, (uint64_t)v, 4);
		return 0;
	}
	case R_X86_64_32:
		if (S + (uint64_t)r->addend > UINT32_MAX)
			return reloc_error(err, site, r, sym->name,
					   "does not fit 32 bits in this process (code built without -fPIC/-fPIE?)");
		put_le(field, S + (uint64_t)r->addend, 4);
		return 0;
	case R_X86_64_32S:
		v = (int64_t)(S + (uint64_t)r->addend);
		if (!fits_s32(v))
			return reloc_error(err, site, r, sym->name,
					   "does not fit 32 bits in this process (code built without -fPIC/-fPIE?)");
		put_le(field, (uint64_t)v, 4);
		return 0;
	default:
		return reloc_error(err, site, r, sym->name, "is not supported by hpapply");
	}
}

static int apply_all(const struct hpk *p, const struct layout *l, uint64_t base, const uint64_t *ext,
		     uint8_t *image, const struct reloc_site *site, const struct hpk_reloc *r, uint32_t n,
		     struct hp_err *err)
{
	for (uint32_t i = 0; i < n; i++)
		if (apply_one(p, l, base, ext, image, site, &r[i], err) < 0)
			return -1;
	return 0;
}

int place_relocate(const struct hpk *p, const struct layout *l, uint64_t base, const uint64_t *ext,
		   uint8_t *image, struct hp_err *err)
{
	memset(image, 0, l->size);
	memset(image, 0xcc, l->code_size);   /* int3 between functions */
	for (uint32_t i = 0; i < p->nr_funcs; i++) {
		const struct hpk_func *f = &p->funcs[i];
		struct reloc_site site = { f->name, image + l->func_off[i], f->code_size,
					   base + l->func_off[i] };

		if (f->code_size)
			memcpy(site.bytes, f->code, f->code_size);
		if (apply_all(p, l, base, ext, image, &site, f->relocs, f->nr_relocs, err) < 0)
			return -1;
	}
	for (uint32_t i = 0; i < p->nr_data; i++) {
		const struct hpk_data *d = &p->data[i];
		struct reloc_site site = { d->name, image + l->data_off_of[i], d->size,
					   base + l->data_off_of[i] };

		if (d->kind != HPK_DATA_BSS && d->bytes && d->size)
			memcpy(site.bytes, d->bytes, d->size);
		if (apply_all(p, l, base, ext, image, &site, d->relocs, d->nr_relocs, err) < 0)
			return -1;
	}
	return 0;
}
