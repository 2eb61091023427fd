/*
 * fuzz_elf.c - libFuzzer target: the object loader (lib/elfobj.c, with its
 * DWARF reader lib/dwarf*.c) and the per-object preparation hpdiff does
 * before a diff (correlation keys, fingerprints).
 *
 * Input: one ELF file, any bytes.  Either it loads, and then every string
 * and slice of the model must be readable, or it is refused with one error
 * line naming the file (fuzz_check.h).
 */
#include <stddef.h>
#include <stdint.h>

#include "diff.h"
#include "dwarf.h"
#include "elfobj.h"
#include "fuzz_check.h"

#define NAME "fuzz.o"

/* Read everything a report could print, so stale pointers show up here. */
static size_t walk_dwarf(const struct hp_dwarf *d)
{
	size_t n = 0;

	for (size_t i = 0; i < d->nr_cus; i++)
		n += fuzz_touch_str(d->cus[i].name) + fuzz_touch_str(d->cus[i].comp_dir) +
		     fuzz_touch_str(d->cus[i].producer);
	for (size_t i = 0; i < d->nr_funcs; i++) {
		const struct hp_dwarf_func *f = &d->funcs[i];

		n += fuzz_touch_str(f->name) + fuzz_touch_str(f->linkage_name) +
		     fuzz_touch_str(f->file) + fuzz_touch_str(f->return_type) +
		     fuzz_touch_str(f->signature);
		for (size_t k = 0; k < f->nr_params; k++)
			n += fuzz_touch_str(f->params[k]);
		for (size_t k = 0; k < f->nr_inlined; k++)
			n += fuzz_touch_str(f->inlined[k]);
		for (size_t k = 0; k < f->nr_types_used; k++)
			n += fuzz_touch_str(f->types_used[k]);
		n += dwarf_find_func(d, f->name) != NULL;
	}
	for (size_t i = 0; i < d->nr_vars; i++) {
		const struct hp_dwarf_var *v = &d->vars[i];

		n += fuzz_touch_str(v->name) + fuzz_touch_str(v->owner) +
		     fuzz_touch_str(v->file) + fuzz_touch_str(v->type);
		n += dwarf_find_var(d, v->owner, v->name) != NULL;
	}
	for (size_t i = 0; i < d->nr_types; i++) {
		const struct hp_dwarf_type *t = &d->types[i];

		n += fuzz_touch_str(t->name) + fuzz_touch_str(t->file) + fuzz_touch_str(t->layout);
		n += dwarf_find_type(d, t->name) != NULL;
	}
	return n;
}

static size_t walk_model(const struct hp_elf *e)
{
	size_t n = fuzz_touch_str(e->source_name) + fuzz_touch_str(e->dwarf_problem);

	for_each_sec(e, sec) {
		n += fuzz_touch_str(sec->name) + fuzz_touch_str(section_kind(sec));
		if (sec->data && sec->size)
			n += sec->data[sec->size - 1];
		sec_for_each_reloc(sec, r)
			n += find_symbol_containing(sec, r->offset) != NULL;
	}
	for_each_sym(e, s) {
		n += fuzz_touch_str(s->name) + fuzz_touch_str(s->key) + fuzz_touch_str(s->file);
		if (s->size && sym_data(s))
			n += sym_data(s)[s->size - 1];
		sym_for_each_reloc(s, r)
			n += r->sym ? fuzz_touch_str(r->sym->name) : 0;
	}
	if (e->dwarf)
		n += walk_dwarf(e->dwarf);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hp_err err = { { 0 } };
	struct hp_elf *e;
	volatile size_t sink;

	if (size > FUZZ_MAX_INPUT)
		size = FUZZ_MAX_INPUT;
	e = elf_open_mem(NAME, data, size, &err);
	if (!e) {
		fuzz_check_error_line(&err, NAME);
		return 0;
	}
	diff_prepare(e);
	sink = walk_model(e);
	(void)sink;
	elf_close(e);
	return 0;
}
