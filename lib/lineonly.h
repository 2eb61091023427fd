/*
 * lineonly.h - recognise a function whose only differences are __LINE__
 * values that moved with the source above it.
 */
#ifndef HP_LINEONLY_H
#define HP_LINEONLY_H

#include "elfobj.h"

/*
 * True when o (in old) and n (in new) have the same size and relocations,
 * and every byte that differs lies in an immediate whose old value is one
 * of o's own source lines (DWARF: [decl line, next function's decl line))
 * and whose new value is that line moved by exactly as much as the
 * function moved (new decl line - old decl line, returned in *delta).
 * Needs DWARF in both objects; without it the answer is false.
 */
bool is_line_only_change(const struct hp_elf *old, const struct hp_symbol *o,
			 const struct hp_elf *new, const struct hp_symbol *n, int *delta);

#endif
