/*
 * lineonly.c - __LINE__-only changes (lineonly.h).
 *
 * Why: a real fix inserts lines, and every function below it that embeds
 * __LINE__ (assert-style and logging macros) then differs only in
 * immediates.  Those functions need no patch.  We accept a difference only
 * when it is exactly explained by line numbers moving: the old immediate
 * must be a line inside the old source span of the function itself, or of
 * a function DWARF says is inlined into it (SQLite's corruption checks
 * reach their callers that way), and the new one that line plus that
 * span's displacement.  We never guess from the name of the function
 * being called.
 */
#include "lineonly.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "dwarf.h"
#include "fingerprint.h"
#include "util.h"

static const struct hp_dwarf_func *func_facts(const struct hp_elf *e, const struct hp_symbol *s)
{
	char base[256];
	size_t n = strcspn(s->name, ".");

	if (!e->dwarf || n >= sizeof(base))
		return NULL;
	memcpy(base, s->name, n);
	base[n] = '\0';
	return dwarf_find_func(e->dwarf, base);
}

struct span {
	unsigned lo, hi;   /* [lo, hi) */
	long delta;
};

/* The source span of old function fo, and how far new fn moved it; false
 * when DWARF lacks a line or it did not move (nothing to explain). */
static bool span_of(const struct hp_dwarf_func *fo, const struct hp_dwarf_func *fn, struct span *sp)
{
	if (!fo || !fn || !fo->line || !fn->line || fo->line == fn->line)
		return false;
	sp->lo = fo->line;
	sp->hi = fo->next_line ? fo->next_line : UINT_MAX;
	sp->delta = (long)fn->line - (long)fo->line;
	return true;
}

/* The spans whose moves may explain immediates in function fo/fn: its own
 * first (its displacement is the one reported), then each function
 * inlined into it.  Returns how many (at most max). */
static size_t collect_spans(const struct hp_elf *old, const struct hp_dwarf_func *fo,
			    const struct hp_elf *new, const struct hp_dwarf_func *fn,
			    struct span *v, size_t max)
{
	size_t n = span_of(fo, fn, &v[0]) ? 1 : 0;

	for (size_t k = 0; k < fo->nr_inlined && n < max; k++)
		n += span_of(dwarf_find_func(old->dwarf, fo->inlined[k]),
			     dwarf_find_func(new->dwarf, fo->inlined[k]), &v[n]);
	return n;
}

/* Can bytes [i, j) be one immediate of width w holding a moved line? */
static bool window_explains(const uint8_t *a, const uint8_t *b, uint64_t size, uint64_t i,
			    uint64_t j, unsigned w, const struct hp_symbol *o, const struct span *sp,
			    size_t nr_spans, uint64_t *end)
{
	uint64_t first = j >= w ? j - w : 0;

	for (uint64_t start = first; start <= i && start + w <= size; start++) {
		uint64_t ov, nv;
		bool relocated = false;

		if (start + w < j)
			continue;
		for (uint64_t k = start; k < start + w; k++)
			relocated |= offset_is_relocated(o, k);
		if (relocated)
			continue;
		ov = get_le(a + start, w);
		nv = get_le(b + start, w);
		for (size_t k = 0; k < nr_spans; k++) {
			if (ov >= sp[k].lo && ov < sp[k].hi && (long long)nv - (long long)ov == sp[k].delta) {
				*end = start + w;
				return true;
			}
		}
	}
	return false;
}

bool is_line_only_change(const struct hp_elf *old, const struct hp_symbol *o,
			 const struct hp_elf *new, const struct hp_symbol *n, int *delta)
{
	static const unsigned widths[] = { 4, 2, 1, 8 };
	const struct hp_dwarf_func *fo = func_facts(old, o), *fn = func_facts(new, n);
	const uint8_t *a = sym_data(o), *b = sym_data(n);
	struct span *sp;
	size_t nr_spans;
	bool any = false;

	if (!fo || !fn || !a || !b || o->size != n->size)
		return false;
	sp = xcalloc(1 + fo->nr_inlined, sizeof(*sp));
	nr_spans = collect_spans(old, fo, new, fn, sp, 1 + fo->nr_inlined);
	if (!nr_spans) {
		free(sp);
		return false;
	}
	for (uint64_t i = 0; i < o->size;) {
		uint64_t j = i, end = 0;
		bool ok = false;

		if (a[i] == b[i]) {
			i++;
			continue;
		}
		while (j < o->size && a[j] != b[j])
			j++;
		for (size_t w = 0; w < sizeof(widths) / sizeof(widths[0]) && !ok; w++)
			ok = window_explains(a, b, o->size, i, j, widths[w], o, sp, nr_spans, &end);
		if (!ok) {
			free(sp);
			return false;
		}
		any = true;
		i = end > j ? end : j;
	}
	*delta = (int)sp[0].delta;
	free(sp);
	return any;
}
