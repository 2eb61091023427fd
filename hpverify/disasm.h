/*
 * disasm.h - a package function's code as a reviewer reads it: capstone's
 * x86-64 disassembly (Intel syntax) with every relocated operand replaced by
 * what the relocation resolves to: 'call validate_len',
 * 'lea rdi, "invalid length %d"', 'mov eax, dword ptr [count]',
 * 'movsd xmm0, qword ptr [const 0x3ff8000000000000]'.
 *
 * The offset shown after a target ('+8') is where the instruction really
 * points relative to the target's start: for a PC-relative field that is
 * the addend plus the distance from the field to the end of the
 * instruction (the CPU adds the displacement to the next instruction's
 * address), so 'call f' with addend -4 points at f+0.
 */
#ifndef HP_DISASM_H
#define HP_DISASM_H

#include <stdbool.h>
#include <stdint.h>

#include "hpk.h"
#include "util.h"

struct dis_insn {
	uint32_t offset, size;   /* in the function's code */
	char *text;              /* "call validate_len"; ".byte 0xff" where undecodable */
	uint32_t *relocs;        /* indices into the function's relocs attached here */
	uint32_t nr_relocs;
	/* what the instruction does with what its relocations name: "call",
	 * "jump", "read", "write", "read/write", "address" (lea), "value"
	 * (an immediate); NULL without relocations */
	const char *access;
};

struct dis_listing {
	struct dis_insn *v;
	size_t n, cap;
	uint32_t *unattached;    /* relocations whose field lies in no instruction */
	size_t nr_unattached;
};

struct disasm;   /* a capstone handle */

struct disasm *disasm_open(struct hp_err *err);
void disasm_close(struct disasm *d);

/* Disassemble p->funcs[fi] into *out (offset order). */
void disasm_function(struct disasm *d, const struct hpk *p, uint32_t fi, struct dis_listing *out);
void dis_listing_free(struct dis_listing *l);

/* How a package symbol reads in a listing: its name; a string object
 * (".str.N", or anonymous read-only text) as its quoted text; a merged
 * constant (".const.N") as its value.  offset != 0 adds "+N" / "-N". */
void describe_pkg_symbol(const struct hpk *p, uint32_t sym, int64_t offset, struct strbuf *sb);

/* True when data object d is text a reviewer should read as a string. */
bool pkg_data_is_text(const struct hpk_data *d);

/* The byte offset a relocation of type 'type' at field 'field' in an
 * instruction ending at 'insn_end' points at, relative to its symbol. */
int64_t reloc_target_offset(uint32_t type, int64_t addend, uint32_t field, uint32_t insn_end);

#endif
