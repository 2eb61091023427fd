/*
 * fuzz_hpk.c - libFuzzer target: the package reader (lib/hpk.c) and, for
 * what it accepts, the writer.
 *
 * Input: a package (.hpk), any bytes.  Each input is read twice: as it is
 * (the checksum checks must stop it, with one error line), and with its
 * checksums recomputed (fuzz_seal.h), so that mutations reach the checks
 * of offsets, counts, indices and strings behind them.  What the reader
 * accepts must keep the promise of hpk.h: every index, offset and size in
 * range, every string terminated; a violation aborts.  An accepted package
 * is written back (hpk_write_mem), and the result must read again and
 * write to the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "fuzz_seal.h"
#include "hpk.h"
#include "reloc.h"

#define NAME "fuzz.hpk"

#define PROMISE(cond)                                                          \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz: hpk_read_mem accepted a package " \
				"breaking: %s\n", #cond);                      \
			abort();                                               \
		}                                                              \
	} while (0)

static size_t check_relocs(const struct hpk *p, const struct hpk_reloc *r, uint32_t n,
			   uint32_t size)
{
	size_t sum = 0;

	PROMISE(n == 0 || r != NULL);
	for (uint32_t i = 0; i < n; i++) {
		const struct hp_reloc_info *ri = reloc_info(r[i].type);

		PROMISE(r[i].sym < p->nr_syms);
		PROMISE(r[i].offset < size);
		if (ri)
			PROMISE(ri->width <= size - r[i].offset);
		sum += r[i].offset;
	}
	return sum;
}

static size_t check_package(const struct hpk *p)
{
	size_t sum = fuzz_touch_str(p->tool_version) + fuzz_touch_str(p->created);
	char id[33];

	hpk_id_hex(p, id);
	sum += strlen(id);
	for (uint32_t i = 0; i < p->nr_units; i++) {
		const struct hpk_unit *u = &p->units[i];

		sum += fuzz_touch_str(u->name) + fuzz_touch_str(u->old_input) +
		       fuzz_touch_str(u->new_input) + fuzz_touch_str(u->source) +
		       fuzz_touch_str(u->old_producer) + fuzz_touch_str(u->new_producer);
	}
	for (uint32_t i = 0; i < p->nr_syms; i++) {
		const struct hpk_symbol *s = &p->syms[i];

		sum += fuzz_touch_str(s->name) + fuzz_touch_str(s->file);
		PROMISE(s->name != NULL);
		PROMISE(s->unit < p->nr_units);
		if (s->where == HPK_SYM_FUNC)
			PROMISE(s->index < p->nr_funcs);
		else if (s->where == HPK_SYM_DATA)
			PROMISE(s->index < p->nr_data);
		else
			PROMISE(s->where == HPK_SYM_EXTERN);
	}
	for (uint32_t i = 0; i < p->nr_funcs; i++) {
		const struct hpk_func *f = &p->funcs[i];

		sum += fuzz_touch_str(f->name) + fuzz_touch_str(f->file);
		PROMISE(f->sym < p->nr_syms);
		PROMISE(f->unit < p->nr_units);
		PROMISE(f->code_size == 0 || f->code != NULL);
		if (f->code_size)
			sum += f->code[f->code_size - 1];
		sum += check_relocs(p, f->relocs, f->nr_relocs, f->code_size);
		PROMISE(f->nr_old_masks == 0 || f->old_masks != NULL);
		for (uint32_t k = 0; k < f->nr_old_masks; k++)
			PROMISE(f->old_masks[k].start <= f->old_size &&
				f->old_masks[k].len <= f->old_size - f->old_masks[k].start);
	}
	for (uint32_t i = 0; i < p->nr_data; i++) {
		const struct hpk_data *d = &p->data[i];

		sum += fuzz_touch_str(d->name) + fuzz_touch_str(d->file);
		PROMISE(d->sym < p->nr_syms);
		PROMISE(d->unit < p->nr_units);
		if (d->kind != HPK_DATA_BSS) {
			PROMISE(d->size == 0 || d->bytes != NULL);
			if (d->size)
				sum += d->bytes[d->size - 1];
		}
		sum += check_relocs(p, d->relocs, d->nr_relocs, d->size);
	}
	for (uint32_t i = 0; i < p->nr_findings; i++) {
		const struct hpk_finding *f = &p->findings[i];

		sum += fuzz_touch_str(f->rule) + fuzz_touch_str(f->symbol) +
		       fuzz_touch_str(f->file) + fuzz_touch_str(f->message);
	}
	return sum;
}

/* Write p, read the bytes back, write again: same bytes. */
static void round_trip(struct hpk *p)
{
	struct hp_err err = { { 0 } };
	uint8_t *out1 = NULL, *out2 = NULL;
	size_t size1 = 0, size2 = 0;
	struct hpk *q;

	if (hpk_write_mem(p, &out1, &size1, &err) < 0)
		return;  /* the writer may refuse what it would not produce */
	q = hpk_read_mem("rewritten.hpk", out1, size1, &err);
	if (!q) {
		fprintf(stderr, "fuzz: the writer's output does not read back: %s\n", err.msg);
		abort();
	}
	if (hpk_write_mem(q, &out2, &size2, &err) < 0 || size1 != size2 ||
	    memcmp(out1, out2, size1) != 0) {
		fprintf(stderr, "fuzz: writing a package read back gives other bytes\n");
		abort();
	}
	hpk_free(q);
	free(out1);
	free(out2);
}

static void read_one(const uint8_t *data, size_t size)
{
	struct hp_err err = { { 0 } };
	struct hpk *p = hpk_read_mem(NAME, data, size, &err);
	volatile size_t sink;

	if (!p) {
		fuzz_check_error_line(&err, NAME);
		return;
	}
	sink = check_package(p);
	(void)sink;
	round_trip(p);
	hpk_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	if (size > FUZZ_MAX_INPUT)
		size = FUZZ_MAX_INPUT;
	read_one(data, size);
	copy = fuzz_sealed_copy(data, size);
	if (size && memcmp(copy, data, size) != 0)
		read_one(copy, size);
	free(copy);
	return 0;
}
