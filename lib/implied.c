/*
 * implied.c - make explicit the branches the assembler resolved itself.
 *
 * Why: without -ffunction-sections every function of a file shares .text,
 * and the assembler resolves a call from one static function to another in
 * the same section on its own: no relocation, just a displacement.  When an
 * unrelated function between them grows, that displacement changes and the
 * caller would look changed; and a copied function would call the wrong
 * address.  So for sections holding several functions we decode each
 * function (capstone) and, for every relative call/jump that leaves it
 * without a relocation, add an implied relocation against the function it
 * lands in: R_X86_64_PC32 for rel32, R_X86_64_PC8 for rel8 (which no
 * package can express; the safety rules refuse it).
 */
#include "implied.h"

#include <capstone/capstone.h>
#include <elf.h>
#include <stdlib.h>
#include <string.h>

static bool is_prefix(uint8_t b)
{
	return b == 0xf0 || b == 0xf2 || b == 0xf3 || b == 0x2e || b == 0x36 || b == 0x3e ||
	       b == 0x26 || b == 0x64 || b == 0x65 || b == 0x66 || b == 0x67 || (b >= 0x40 && b <= 0x4f);
}

/* Width of the relative displacement ending the instruction, or 0. */
static unsigned branch_disp_width(const uint8_t *insn, size_t size)
{
	size_t i = 0;

	while (i < size && is_prefix(insn[i]))
		i++;
	if (i >= size)
		return 0;
	if ((insn[i] == 0xe8 || insn[i] == 0xe9) && size - i == 5)
		return 4;
	if (insn[i] == 0x0f && i + 1 < size && (insn[i + 1] & 0xf0) == 0x80 && size - i == 6)
		return 4;
	if ((insn[i] == 0xeb || (insn[i] & 0xf0) == 0x70 || (insn[i] >= 0xe0 && insn[i] <= 0xe3)) &&
	    size - i == 2)
		return 1;
	return 0;
}

static bool has_reloc_at(const struct hp_section *sec, uint64_t off)
{
	size_t lo = 0, hi = sec->nr_relocs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sec->relocs[mid].offset < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < sec->nr_relocs && sec->relocs[lo].offset == off;
}

static size_t count_funcs(const struct hp_section *sec)
{
	size_t n = 0;

	for (size_t i = 0; i < sec->nr_syms; i++)
		n += sec->syms[i]->kind == HP_SYM_FUNC;
	return n;
}

struct pending {
	struct hp_reloc *v;
	size_t n, cap;
};

static void scan_function(csh cs, struct hp_section *sec, const struct hp_symbol *f, struct pending *p)
{
	const uint8_t *code = sec->data + f->value;
	size_t size = f->size;
	uint64_t addr = f->value;
	cs_insn *insn = cs_malloc(cs);

	while (size && cs_disasm_iter(cs, &code, &size, &addr, insn)) {
		unsigned w = branch_disp_width(insn->bytes, insn->size);
		uint64_t field, end = insn->address + insn->size;
		int64_t disp, target;
		struct hp_symbol *to;

		if (!w)
			continue;
		field = end - w;
		disp = w == 4 ? (int32_t)get_le(sec->data + field, 4) : (int8_t)sec->data[field];
		target = (int64_t)end + disp;
		if (target >= (int64_t)f->value && target < (int64_t)(f->value + f->size))
			continue;
		if (target < 0 || (uint64_t)target >= sec->size || has_reloc_at(sec, field))
			continue;
		to = find_symbol_containing(sec, (uint64_t)target);
		if (!to || to->kind != HP_SYM_FUNC)
			continue;
		GROW(p->v, p->cap, p->n + 1);
		p->v[p->n++] = (struct hp_reloc){
			.offset = field,
			.type = w == 4 ? R_X86_64_PC32 : R_X86_64_PC8,
			.addend = (target - (int64_t)to->value) - (int64_t)w,
			.sym = to,
			.implied = true,
		};
	}
	cs_free(insn, 1);
}

static int cmp_reloc_offset(const void *a, const void *b)
{
	const struct hp_reloc *x = a, *y = b;

	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	return (x->addend > y->addend) - (x->addend < y->addend);
}

int add_implied_relocs(struct hp_elf *e, struct hp_err *err)
{
	csh cs;
	bool open = false;

	for_each_sec(e, sec) {
		struct pending p = { 0 };

		if (!is_text_sec(sec) || !sec->data || count_funcs(sec) < 2)
			continue;
		if (!open) {
			if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
				return hp_err_set(err, "%s: cannot start the capstone disassembler", e->path);
			open = true;
		}
		for (size_t i = 0; i < sec->nr_syms; i++)
			if (sec->syms[i]->kind == HP_SYM_FUNC && sec->syms[i]->size)
				scan_function(cs, sec, sec->syms[i], &p);
		if (!p.n)
			continue;
		sec->relocs = xrealloc(sec->relocs, (sec->nr_relocs + p.n) * sizeof(*sec->relocs));
		memcpy(sec->relocs + sec->nr_relocs, p.v, p.n * sizeof(*p.v));
		sec->nr_relocs += p.n;
		qsort(sec->relocs, sec->nr_relocs, sizeof(*sec->relocs), cmp_reloc_offset);
		free(p.v);
	}
	if (open)
		cs_close(&cs);
	return 0;
}
