/*
 * consistency.h - is it safe to change these functions now?
 *
 * A thread is in the way when it executes an affected function, or when a
 * frame of one is on its stack (it would return into code that is being
 * redirected or unmapped).  With every thread stopped we look at each
 * thread's instruction pointer and scan every 8-byte word of its stack from
 * the stack pointer to the top of the stack's mapping: a word that points
 * into an affected function is taken for a return address.
 *
 * Why a conservative scan rather than unwinding (frame pointers, DWARF CFI,
 * libunwind): it needs no unwind information, which -O2 code without frame
 * pointers, hand-written assembly, JIT code and signal frames do not
 * reliably provide, and it cannot miss a frame: every return address of a
 * live frame is a word between the stack pointer and the top of the stack,
 * and a signal frame holds the interrupted instruction pointer as such a
 * word too.  Its only error is a false positive (a stale value or a data
 * word that happens to point into an affected function), which costs a
 * retry, never a crash.
 */
#ifndef HP_CONSISTENCY_H
#define HP_CONSISTENCY_H

#include <stdint.h>

#include "procmaps.h"
#include "tracee.h"
#include "util.h"

enum guard_kind {
	/* a function to be redirected: the thread may not execute it
	 * (RIP in [lo, hi)) nor return into it (a stack word in (lo, hi));
	 * a pointer to its entry is harmless, it will jump to the new code */
	GUARD_CODE = 1,
	/* memory to be unmapped: no register and no stack word may point
	 * anywhere into [lo, hi) (code it would run or return into, data it
	 * would read) */
	GUARD_REGION = 2,
};

struct guard {
	uint64_t lo, hi;
	enum guard_kind kind;
	const char *what;       /* "function compute" / "package 1a2b..." */
};

/*
 * 0: no thread is in the way; 1: one is (why says which thread and what);
 * -1: error.  The threads must be stopped; m must be current (stacks are
 * found through it).
 */
int consistency_check(struct tracee *t, const struct proc_maps *m, const struct guard *g, size_t n,
		      struct strbuf *why, struct hp_err *err);

#endif
