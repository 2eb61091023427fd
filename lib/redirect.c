/*
 * redirect.c - the bytes of the redirect jump (redirect.h).
 */
#include "redirect.h"

void redirect_jump_bytes(uint64_t from, uint64_t to, uint8_t out[HP_REDIRECT_JMP_SIZE])
{
	uint32_t d = (uint32_t)(to - (from + HP_REDIRECT_JMP_SIZE));

	out[0] = HP_REDIRECT_JMP_OPCODE;
	for (int i = 0; i < 4; i++)
		out[1 + i] = (uint8_t)(d >> (8 * i));
}
