/*
 * correlate.h - correlation keys and twins.
 *
 * Every function and data object gets a correlation key: its name with the
 * compiler's numbering removed (see normalize_name()), and for gcc static
 * locals ("count.3") the function that owns them ("count@parse").  Old and
 * new symbols with equal keys are twins.
 */
#ifndef HP_CORRELATE_H
#define HP_CORRELATE_H

#include "elfobj.h"

/* "parse.constprop.0.isra.1" -> "parse.constprop.isra"; "f.llvm.123" -> "f";
 * "count.3" -> "count". Caller frees. */
char *normalize_name(const char *name);

/* True for gcc's numbered static locals ("count.3"): a local object whose
 * name is an identifier, a dot and digits. */
bool is_numbered_static_local(const struct hp_symbol *s);

/* True for .cold / .part children that are reported through their parent. */
bool is_child_name(const char *name);

/* Keys, parents, DWARF source locations for one object. */
void correlate_prepare(struct hp_elf *e);

/* Set twin pointers between a and b (both prepared). */
void correlate_pair(struct hp_elf *a, struct hp_elf *b);

/* The name a report should use for s: s->name. For a child, its parent. */
const struct hp_symbol *report_symbol(const struct hp_symbol *s);

#endif
