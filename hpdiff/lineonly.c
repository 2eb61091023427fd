/*
 * lineonly.c - __LINE__-only changes (lineonly.h).
 *
 * Why: a real fix inserts lines, and every function below it that embeds
 * __LINE__ (assert-style and logging macros) then differs only in
 * immediates.  Those functions need no patch.  We accept a difference only
 * when it is exactly explained by the function's own line numbers moving:
 * the old immediate must be a line inside the old function's source span
 * and the new one that line plus the function's displacement.  We never
 * guess from the name of the function being called.
 */
#include "lineonly.h"

#include <limits.h>
#include <string.h>

#include "dwarf.h"
#include "fingerprint.h"

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

/* Can bytes [i, j) be one immediate of width w holding a moved line? */
static bool window_explains(const uint8_t *a, const uint8_t *b, uint64_t size, uint64_t i,
			    uint64_t j, unsigned w, const struct hp_symbol *o, const struct span *sp,
			    uint64_t *end)
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
		if (ov >= sp->lo && ov < sp->hi && (long long)nv - (long long)ov == sp->delta) {
			*end = start + w;
			return true;
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
	struct span sp;
	bool any = false;

	if (!fo || !fn || !fo->line || !fn->line || !a || !b || o->size != n->size)
		return false;
	sp.lo = fo->line;
	sp.hi = fo->next_line ? fo->next_line : UINT_MAX;
	sp.delta = (long)fn->line - (long)fo->line;
	if (sp.delta == 0)
		return false;
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
			ok = window_explains(a, b, o->size, i, j, widths[w], o, &sp, &end);
		if (!ok)
			return false;
		any = true;
		i = end > j ? end : j;
	}
	*delta = (int)sp.delta;
	return any;
}
