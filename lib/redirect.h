/*
 * redirect.h - the one description of how a replaced function is
 * redirected to its new code, shared by the safety rules (HP005, HP006,
 * the equivalence check) and hpapply, which writes it.
 *
 * The redirect is a 5-byte 'jmp rel32' (e9 + 32-bit displacement from the
 * end of the jump) written over the first bytes of the old function in
 * the running program.  The site layouts:
 *   ENTRY              the function is at least 5 bytes: the jump replaces
 *                      its first 5 bytes;
 *   ENTRY_INTO_FILL    the function is shorter, but alignment fill (NOPs,
 *                      INT3) follows it in its section with nothing else
 *                      starting there: the jump runs into the fill (hpapply
 *                      checks in memory that no other symbol starts there);
 * There is no short jump: a layout that would need a 2-byte 'jmp rel8' at
 * the entry into padding before it (-fpatchable-function-entry=N,M with
 * M >= 5) is refused by HP005, because hpapply writes only the 5-byte
 * jump at the entry.
 */
#ifndef HP_REDIRECT_H
#define HP_REDIRECT_H

#include <stdint.h>

#define HP_REDIRECT_JMP_SIZE 5
#define HP_REDIRECT_JMP_OPCODE 0xe9

enum hp_site_layout {
	HP_SITE_ENTRY,
	HP_SITE_ENTRY_INTO_FILL,
};

/* The bytes of the redirect at 'from' to 'to'. */
void redirect_jump_bytes(uint64_t from, uint64_t to, uint8_t out[HP_REDIRECT_JMP_SIZE]);

#endif
