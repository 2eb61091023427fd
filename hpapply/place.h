/*
 * place.h - where a package goes in the process and what its bytes look
 * like there: the layout of the region, the choice of an address within
 * rel32 reach of the module, and the relocation of code and data.
 *
 * The region is one mapping with three parts, each page-aligned so that
 * each gets its own protection:
 *   code    read-execute: the functions, then jump stubs
 *   rodata  read-only:    constants, strings, jump tables, GOT slots
 *   data    read-write:   new variables (initialized and zero-filled)
 * A stub ("jmp *0(%rip)" and an 8-byte address, 16 bytes) stands in for a
 * call target out of rel32 reach; a GOT slot holds a symbol's address for
 * GOTPCREL references.
 */
#ifndef HP_PLACE_H
#define HP_PLACE_H

#include <stdint.h>

#include "hpk.h"
#include "procmaps.h"
#include "util.h"

#define PAGE_SIZE_X86 4096ULL
#define STUB_SIZE 16
/* rel32 reaches +-2 GiB; keep a margin for addends */
#define REL32_REACH ((1ULL << 31) - (1ULL << 20))

struct layout {
	uint64_t size;                       /* whole region, whole pages */
	uint64_t code_size;                  /* [0, code_size) */
	uint64_t rodata_off, rodata_size;
	uint64_t data_off, data_size;
	uint64_t *func_off;                  /* per package function */
	uint64_t *data_off_of;               /* per package data object */
	uint32_t *stub_of;                   /* per symbol: stub index + 1, or 0 */
	uint32_t *got_of;                    /* per symbol: GOT slot index + 1, or 0 */
	uint64_t stub_base, got_base;
	uint32_t nr_stubs, nr_got;
};

void layout_init(struct layout *l, const struct hpk *p);
void layout_free(struct layout *l);

/* Address of package symbol i (a function or data object of the package)
 * when the region is at base; ext[] gives the others. */
uint64_t package_sym_addr(const struct hpk *p, const struct layout *l, uint64_t base,
			  const uint64_t *ext, uint32_t i);

/*
 * Up to max addresses for a region of size bytes, nearest to [lo, hi)
 * first, such that every byte of the region is within rel32 reach of every
 * byte of [lo, hi).  Gaps right above [heap] (brk grows there) and right
 * below [stack] are left alone.
 */
size_t place_candidates(const struct proc_maps *m, uint64_t lo, uint64_t hi, uint64_t size,
			uint64_t *out, size_t max);

/*
 * The region's bytes (l->size of them) for a region at base: code, data,
 * stubs and GOT slots, every relocation resolved.  ext[i] is the address
 * of package symbol i when it is HPK_SYM_EXTERN.  Fails, naming the
 * function and relocation, when a value does not fit its field.
 */
int place_relocate(const struct hpk *p, const struct layout *l, uint64_t base, const uint64_t *ext,
		   uint8_t *image, struct hp_err *err);

#endif
