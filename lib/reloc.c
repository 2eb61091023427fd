/*
 * reloc.c - the x86-64 relocation table (reloc.h).
 *
 * mask_before/mask_after cover linker relaxations, which rewrite opcode
 * bytes around the field as well as the field itself:
 *  - GOTPCRELX / REX_GOTPCRELX: 'mov foo@GOTPCREL(%rip), %reg' may become
 *    'lea foo(%rip), %reg' and 'call *foo@GOTPCREL(%rip)' may become
 *    'addr32 call foo': up to 3 bytes before the field change (REX, opcode,
 *    ModRM).
 *  - GOTTPOFF: initial-exec TLS 'mov x@gottpoff(%rip), %reg' may become
 *    'mov $x@tpoff, %reg': 3 bytes before.
 *  - TLSGD / TLSLD: the whole general/local-dynamic sequence, including the
 *    call to __tls_get_addr after the field, is replaced.
 */
#include "reloc.h"

#include <elf.h>
#include <stdio.h>

#include "util.h"

static const struct hp_reloc_info relocs[] = {
	{ R_X86_64_NONE,            "R_X86_64_NONE",            0, false, 0, 0,  true },
	{ R_X86_64_64,              "R_X86_64_64",              8, false, 0, 0,  true },
	{ R_X86_64_PC32,            "R_X86_64_PC32",            4, true,  0, 0,  true },
	{ R_X86_64_GOT32,           "R_X86_64_GOT32",           4, false, 0, 0,  false },
	{ R_X86_64_PLT32,           "R_X86_64_PLT32",           4, true,  0, 0,  true },
	{ R_X86_64_GOTPCREL,        "R_X86_64_GOTPCREL",        4, true,  0, 0,  true },
	{ R_X86_64_32,              "R_X86_64_32",              4, false, 0, 0,  false },
	{ R_X86_64_32S,             "R_X86_64_32S",             4, false, 0, 0,  false },
	{ R_X86_64_16,              "R_X86_64_16",              2, false, 0, 0,  false },
	{ R_X86_64_PC16,            "R_X86_64_PC16",            2, true,  0, 0,  false },
	{ R_X86_64_8,               "R_X86_64_8",               1, false, 0, 0,  false },
	{ R_X86_64_PC8,             "R_X86_64_PC8",             1, true,  0, 0,  false },
	{ R_X86_64_DTPMOD64,        "R_X86_64_DTPMOD64",        8, false, 0, 0,  false },
	{ R_X86_64_DTPOFF64,        "R_X86_64_DTPOFF64",        8, false, 0, 0,  false },
	{ R_X86_64_TPOFF64,         "R_X86_64_TPOFF64",         8, false, 0, 0,  false },
	{ R_X86_64_TLSGD,           "R_X86_64_TLSGD",           4, true,  4, 12, false },
	{ R_X86_64_TLSLD,           "R_X86_64_TLSLD",           4, true,  3, 9,  false },
	{ R_X86_64_DTPOFF32,        "R_X86_64_DTPOFF32",        4, false, 0, 0,  false },
	{ R_X86_64_GOTTPOFF,        "R_X86_64_GOTTPOFF",        4, true,  3, 0,  true },
	{ R_X86_64_TPOFF32,         "R_X86_64_TPOFF32",         4, false, 0, 0,  false },
	{ R_X86_64_PC64,            "R_X86_64_PC64",            8, true,  0, 0,  true },
	{ R_X86_64_GOTOFF64,        "R_X86_64_GOTOFF64",        8, false, 0, 0,  false },
	{ R_X86_64_GOTPC32,         "R_X86_64_GOTPC32",         4, true,  0, 0,  false },
	{ R_X86_64_SIZE32,          "R_X86_64_SIZE32",          4, false, 0, 0,  false },
	{ R_X86_64_SIZE64,          "R_X86_64_SIZE64",          8, false, 0, 0,  false },
	{ R_X86_64_GOTPC32_TLSDESC, "R_X86_64_GOTPC32_TLSDESC", 4, true,  3, 0,  false },
	{ R_X86_64_TLSDESC_CALL,    "R_X86_64_TLSDESC_CALL",    0, false, 0, 2,  false },
	{ R_X86_64_GOTPCRELX,       "R_X86_64_GOTPCRELX",       4, true,  2, 0,  true },
	{ R_X86_64_REX_GOTPCRELX,   "R_X86_64_REX_GOTPCRELX",   4, true,  3, 0,  true },
};

const struct hp_reloc_info *reloc_info(uint32_t type)
{
	for (size_t i = 0; i < ARRAY_SIZE(relocs); i++)
		if (relocs[i].type == type)
			return &relocs[i];
	return NULL;
}

const char *reloc_name(uint32_t type)
{
	static __thread char buf[32];
	const struct hp_reloc_info *ri = reloc_info(type);

	if (ri)
		return ri->name;
	snprintf(buf, sizeof(buf), "type %u", type);
	return buf;
}

void reloc_mask_range(uint32_t type, uint64_t offset, uint64_t lo, uint64_t hi,
		      uint64_t *start, uint64_t *end)
{
	const struct hp_reloc_info *ri = reloc_info(type);
	unsigned width = ri ? ri->width : 8;
	uint64_t before = ri ? (uint64_t)ri->mask_before : 0;
	uint64_t after = ri ? (uint64_t)ri->mask_after : 0;

	*start = offset >= lo + before ? offset - before : lo;
	*end = offset + width + after;
	if (*end > hi)
		*end = hi;
	if (*start > *end)
		*start = *end;
}
