/*
 * reloc.h - what we know about each x86-64 relocation type: its name, the
 * width of the field it rewrites, whether it is PC-relative, which bytes the
 * linker may rewrite (relaxations change opcodes too), and whether hpapply
 * can resolve it in a running process.
 */
#ifndef HP_RELOC_H
#define HP_RELOC_H

#include <stdbool.h>
#include <stdint.h>

struct hp_reloc_info {
	uint32_t type;
	const char *name;
	unsigned width;       /* bytes of the relocated field */
	bool pcrel;           /* value is relative to the field's address */
	int mask_before;      /* bytes before the field the linker may rewrite */
	int mask_after;       /* bytes after the field's end the linker may rewrite */
	bool applier_ok;      /* hpapply can resolve it */
};

/* NULL for a type we do not know. */
const struct hp_reloc_info *reloc_info(uint32_t type);
const char *reloc_name(uint32_t type);   /* "R_X86_64_PC32" or "type 42" */
/* Byte range [*start, *end) of a section that a reloc at 'offset' may
 * change at link time; clipped to [lo, hi). */
void reloc_mask_range(uint32_t type, uint64_t offset, uint64_t lo, uint64_t hi,
		      uint64_t *start, uint64_t *end);

#endif
