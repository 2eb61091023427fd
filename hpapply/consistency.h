/*
 * consistency.h - is it safe to change these functions now?
 *
 * A thread is in the way when it executes an affected function, or when a
 * frame of one is on its stack (it would return into code that is being
 * redirected or unmapped).  With every thread stopped, each thread's stack
 * is unwound with the CFI of its code (unwind.h): the pc of every frame is
 * checked, that of the innermost frame and of every context a signal
 * interrupted as code being executed, the others as return addresses.
 * Stale values and data words left on the stack are not frames and do not
 * count.
 *
 * Where a step cannot be proved by CFI (code without CFI: hand-written
 * assembly, code made at run time, a package's own code), the rest of that
 * stack is examined the conservative way: every 8-byte word from the last
 * proved frame's stack pointer to the end of its mapping that points into
 * an affected function is taken for a return address (it cannot miss a
 * frame; it may take a stale word for one, which costs a retry).  When
 * that part is not on the thread's own stack (an alternate signal stack),
 * the thread's own stack is scanned whole too, since the context the
 * signal interrupted is there.  Each such fallback is reported.
 *
 * Memory to be unmapped (GUARD_REGION) is a different question: any word
 * may point into data, so every word of the stacks the frames are on is
 * scanned, and every register of the thread and of the contexts signals
 * interrupted.
 */
#ifndef HP_CONSISTENCY_H
#define HP_CONSISTENCY_H

#include <stdint.h>

#include "procmaps.h"
#include "tracee.h"
#include "util.h"

enum guard_kind {
	/* a function to be redirected: the thread may not execute it (the
	 * pc of an activation in [lo, hi)) nor return into it (a return
	 * address, or a word where the stack could not be unwound, in
	 * (lo, hi)); a pointer to its entry is harmless, it will jump to the
	 * new code */
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

struct unwinder;
/*
 * The unwinding state of the checks of one session: libdwfl's list of the
 * process's modules, their files and CFI, read while the program runs
 * (before the threads are stopped) and only refreshed at each check.
 * NULL if it cannot be made: each check then tries on its own.
 */
struct unwinder *consistency_prepare(pid_t pid);
void consistency_release(struct unwinder *u);
/* The same check with the session's unwinder u (or NULL); notes (if not
 * NULL) gets one line per thread whose stack was not all unwound: how
 * many frames were, what was scanned, and why. */
int consistency_check_noted(struct tracee *t, struct unwinder *u, const struct proc_maps *m,
			    const struct guard *g, size_t n, struct strbuf *why, struct strbuf *notes,
			    struct hp_err *err);

#endif
