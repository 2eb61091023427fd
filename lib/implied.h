/*
 * implied.h - implied relocations for branches between functions of one
 * section (see implied.c for why).
 */
#ifndef HP_IMPLIED_H
#define HP_IMPLIED_H

#include "elfobj.h"

/* Add implied relocations to every text section holding several
 * functions.  Needs sections, symbols (classified) and relocations. */
int add_implied_relocs(struct hp_elf *e, struct hp_err *err);

#endif
