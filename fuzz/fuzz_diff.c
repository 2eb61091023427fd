/*
 * fuzz_diff.c - libFuzzer target: hpdiff's engine on a pair of objects:
 * load both, prepare, correlate (lib/correlate.c), diff (hpdiff/diff.c,
 * lineonly.c), read every entry of the result, free.
 *
 * Input: a 4-byte little-endian word, then OLD, then NEW.  The low 31 bits
 * of the word are OLD's length (clamped to what follows); the top bit asks
 * for unchanged entries too (hpdiff --all).  fuzz/make-seeds.sh builds
 * such pairs from the fixtures.
 */
#include <stddef.h>
#include <stdint.h>

#include "correlate.h"
#include "diff.h"
#include "elfobj.h"
#include "fuzz_check.h"

static size_t walk_diff(const struct hp_diff *d)
{
	size_t n = diff_count(d);

	for (size_t i = 0; i < d->nr_notes; i++)
		n += fuzz_touch_str(d->notes[i]);
	for (size_t i = 0; i < d->nr_changes; i++) {
		const struct hp_change *c = &d->changes[i];
		const struct hp_symbol *s = c->new ? c->new : c->old;

		n += fuzz_touch_str(status_name(c->status)) + fuzz_touch_str(c->name) +
		     fuzz_touch_str(c->file) + c->line + c->line_only;
		for (size_t k = 0; k < c->nr_reasons; k++)
			n += fuzz_touch_str(c->reasons[k]);
		/* hpdiff --json prints these for data objects */
		if (s && !c->is_func)
			n += fuzz_touch_str(section_kind(s->sec)) + s->size;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hp_err err = { { 0 } };
	struct hp_elf *old, *new;
	struct hp_diff d;
	size_t old_size;
	bool all;
	volatile size_t sink;

	if (size < 4)
		return 0;
	if (size > FUZZ_MAX_INPUT)
		size = FUZZ_MAX_INPUT;
	old_size = get_le(data, 4) & 0x7fffffff;
	all = (data[3] & 0x80) != 0;
	data += 4;
	size -= 4;
	if (old_size > size)
		old_size = size;

	old = elf_open_mem("old.o", data, old_size, &err);
	if (!old) {
		fuzz_check_error_line(&err, "old.o");
		return 0;
	}
	new = elf_open_mem("new.o", data + old_size, size - old_size, &err);
	if (!new) {
		fuzz_check_error_line(&err, "new.o");
		elf_close(old);
		return 0;
	}
	diff_prepare(old);
	diff_prepare(new);
	correlate_pair(old, new);
	diff_objects(old, new, all, &d);
	sink = walk_diff(&d);
	(void)sink;
	diff_free(&d);
	elf_close(old);
	elf_close(new);
	return 0;
}
