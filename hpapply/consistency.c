/*
 * consistency.c - the stack check of every stopped thread (consistency.h).
 *
 * The stack of a thread is the mapping that holds its stack pointer, from
 * the stack pointer to the mapping's end: for the main thread "[stack]",
 * for other threads the anonymous mapping their library allocated (glibc
 * puts the thread descriptor at its top, so the scan also reads that; a
 * false positive there costs a retry).  The red zone below the stack
 * pointer holds a leaf function's locals, never a return address.
 */
#include "consistency.h"

#include <stdlib.h>
#include <string.h>

#define SCAN_CHUNK 65536

static bool blocks_rip(const struct guard *g, uint64_t v)
{
	return v >= g->lo && v < g->hi;
}

/* A return address into a function lies after its first byte (the entry
 * itself is a function pointer: harmless, it will jump to the new code)
 * and before its end: a call that ends a function calls a noreturn
 * function, whose frame is never returned into (and the end is the next
 * function's entry, a pointer in many tables). */
static bool blocks_word(const struct guard *g, uint64_t v)
{
	if (g->kind == GUARD_CODE)
		return v > g->lo && v < g->hi;
	return v >= g->lo && v < g->hi;
}

static const struct guard *hit_word(const struct guard *g, size_t n, uint64_t v)
{
	for (size_t i = 0; i < n; i++)
		if (blocks_word(&g[i], v))
			return &g[i];
	return NULL;
}

static int check_registers(const struct tracee_thread *th, const struct guard *g, size_t n,
			   struct strbuf *why)
{
	const struct user_regs_struct *r = &th->regs;
	const uint64_t regs[] = { r->rax, r->rbx, r->rcx, r->rdx, r->rsi, r->rdi, r->rbp,
				  r->r8, r->r9, r->r10, r->r11, r->r12, r->r13, r->r14, r->r15 };

	for (size_t i = 0; i < n; i++)
		if (blocks_rip(&g[i], r->rip)) {
			sb_addf(why, "thread %d is executing %s", (int)th->tid, g[i].what);
			return 1;
		}
	for (size_t k = 0; k < ARRAY_SIZE(regs); k++)
		for (size_t i = 0; i < n; i++)
			if (g[i].kind == GUARD_REGION && blocks_word(&g[i], regs[k])) {
				sb_addf(why, "thread %d holds a pointer into %s in a register", (int)th->tid,
					g[i].what);
				return 1;
			}
	return 0;
}

static int check_stack(struct tracee *t, const struct tracee_thread *th, const struct proc_maps *m,
		       const struct guard *g, size_t n, struct strbuf *why, struct hp_err *err)
{
	uint64_t sp = th->regs.rsp & ~7ULL;
	const struct mapping *mp = maps_find(m, sp);
	uint8_t *buf;
	int ret = 0;

	if (!mp) {
		sb_addf(why, "thread %d has its stack pointer 0x%llx outside any mapping", (int)th->tid,
			(unsigned long long)sp);
		return 1;
	}
	buf = xmalloc(SCAN_CHUNK);
	for (uint64_t a = sp; a < mp->end && ret == 0; a += SCAN_CHUNK) {
		size_t len = mp->end - a < SCAN_CHUNK ? (size_t)(mp->end - a) : SCAN_CHUNK;

		if (tracee_read(t, a, buf, len, err) < 0) {
			ret = -1;
			break;
		}
		for (size_t off = 0; off + 8 <= len; off += 8) {
			const struct guard *hit = hit_word(g, n, get_le(buf + off, 8));

			if (hit) {
				sb_addf(why, "thread %d has %s %s on its stack (at 0x%llx)", (int)th->tid,
					hit->kind == GUARD_CODE ? "a frame of" : "a pointer into",
					hit->what, (unsigned long long)(a + off));
				ret = 1;
				break;
			}
		}
	}
	free(buf);
	return ret;
}

int consistency_check(struct tracee *t, const struct proc_maps *m, const struct guard *g, size_t n,
		      struct strbuf *why, struct hp_err *err)
{
	for_each_live_thread(t, th) {
		int r = check_registers(th, g, n, why);

		if (r == 0)
			r = check_stack(t, th, m, g, n, why, err);
		if (r != 0)
			return r;
	}
	return 0;
}
