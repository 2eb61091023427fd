/*
 * consistency.c - the stack check of every stopped thread (consistency.h).
 *
 * Per thread: its registers; then its frames as unwind.c proves them;
 * then word scans of ranges of stack memory: the part beyond the last
 * proved frame (every guard), and, when memory is to be unmapped, the
 * stacks the proved frames are on (GUARD_REGION guards only: a frame's
 * own return address was checked as a frame, any other word is data).
 *
 * A stack's range runs from a stack pointer to the end of the mapping
 * holding it: for the main thread "[stack]", for other threads the
 * anonymous mapping their library allocated (glibc puts the thread
 * descriptor at its top, so a scan also reads that; a false positive
 * there costs a retry).  The red zone below the stack pointer holds a leaf
 * function's locals, never a return address.
 */
#include "consistency.h"

#include <stdlib.h>
#include <string.h>

#include "unwind.h"

#define SCAN_CHUNK 65536

/* A range of stack words to scan; all: for every guard, else only for
 * GUARD_REGION ones. */
struct scan {
	uint64_t lo, hi;
	bool all;
};

struct scans {
	struct scan *v;
	size_t n, cap;
};

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

static const struct guard *hit_word(const struct guard *g, size_t n, uint64_t v, bool all)
{
	for (size_t i = 0; i < n; i++)
		if ((all || g[i].kind == GUARD_REGION) && blocks_word(&g[i], v))
			return &g[i];
	return NULL;
}

static const struct guard *hit_pc(const struct guard *g, size_t n, const struct frame *f)
{
	for (size_t i = 0; i < n; i++)
		if (f->activation ? blocks_rip(&g[i], f->pc) : blocks_word(&g[i], f->pc))
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

/* The registers of a context a signal interrupted, as its signal frame
 * saved them (the stack pointer and the pc are checked elsewhere). */
static int check_context_registers(const struct tracee_thread *th, const struct frame *f, size_t idx,
				   const struct guard *g, size_t n, struct strbuf *why)
{
	for (unsigned r = 0; r < UNWIND_NREGS; r++) {
		if (r == UNWIND_REG_SP || !(f->regs_known & (1u << r)))
			continue;
		for (size_t i = 0; i < n; i++)
			if (g[i].kind == GUARD_REGION && blocks_word(&g[i], f->regs[r])) {
				sb_addf(why, "thread %d was interrupted by a signal holding a pointer into %s "
					"in a register (frame %zu)", (int)th->tid, g[i].what, idx);
				return 1;
			}
	}
	return 0;
}

static int check_frames(const struct tracee_thread *th, const struct stack_walk *w, const struct guard *g,
			size_t n, struct strbuf *why)
{
	for (size_t k = 0; k < w->nr; k++) {
		const struct frame *f = &w->frames[k];
		const struct guard *hit = hit_pc(g, n, f);

		if (hit && k == 0)
			sb_addf(why, "thread %d is executing %s", (int)th->tid, hit->what);
		else if (hit && f->activation)
			sb_addf(why, "thread %d was interrupted by a signal in %s (frame %zu)", (int)th->tid,
				hit->what, k);
		else if (hit)
			sb_addf(why, "thread %d has a frame of %s on its stack (frame %zu, returning to 0x%llx)",
				(int)th->tid, hit->what, k, (unsigned long long)f->pc);
		if (hit)
			return 1;
		if (k > 0 && f->activation && check_context_registers(th, f, k, g, n, why))
			return 1;
	}
	return 0;
}

static void add_scan(struct scans *s, uint64_t lo, uint64_t hi, bool all)
{
	GROW(s->v, s->cap, s->n + 1);
	s->v[s->n++] = (struct scan){ lo & ~7ULL, hi, all };
}

/* The mapping of the thread's own stack: "[stack]" for the main thread;
 * for a thread glibc made, the one holding its descriptor (%fs base),
 * which is at the top of its stack.  NULL if not known. */
static const struct mapping *own_stack(const struct tracee *t, const struct tracee_thread *th,
				       const struct proc_maps *m)
{
	if (th->tid == t->pid) {
		for (size_t i = 0; i < m->n; i++)
			if (m->v[i].path && !strcmp(m->v[i].path, "[stack]"))
				return &m->v[i];
		return NULL;
	}
	return maps_find(m, th->regs.fs_base);
}

/* What the frames do not cover: from sp (the last proved frame's, or the
 * thread's) to the end of its mapping; and the thread's own stack if sp is
 * elsewhere (an alternate signal stack: what the signal interrupted is on
 * the thread's stack, from a stack pointer we do not know). */
static int plan_fallback(const struct tracee *t, const struct tracee_thread *th, const struct proc_maps *m,
			 uint64_t sp, struct scans *s, struct strbuf *what, struct strbuf *why)
{
	const struct mapping *mp = maps_find(m, sp & ~7ULL);
	const struct mapping *home = own_stack(t, th, m);

	if (!mp) {
		sb_addf(why, "thread %d has its stack pointer 0x%llx outside any mapping", (int)th->tid,
			(unsigned long long)sp);
		return 1;
	}
	add_scan(s, sp, mp->end, true);
	sb_addf(what, "scanned 0x%llx-0x%llx", (unsigned long long)(sp & ~7ULL), (unsigned long long)mp->end);
	if (home && home != mp) {
		add_scan(s, home->start, home->end, true);
		sb_addf(what, " and the thread's stack 0x%llx-0x%llx", (unsigned long long)home->start,
			(unsigned long long)home->end);
	}
	return 0;
}

/* For GUARD_REGION: the stack of every proved frame, from the lowest
 * stack pointer on it (a new range where a signal moved to another stack). */
static void plan_data_scans(const struct stack_walk *w, const struct proc_maps *m, struct scans *s)
{
	const struct mapping *prev = NULL;

	for (size_t k = 0; k < w->nr; k++) {
		const struct mapping *mp = maps_find(m, w->frames[k].sp & ~7ULL);

		if (mp && mp != prev)
			add_scan(s, w->frames[k].sp, mp->end, false);
		prev = mp;
	}
}

static int scan_words(struct tracee *t, const struct tracee_thread *th, const struct scan *sc,
		      const struct guard *g, size_t n, uint8_t *buf, struct strbuf *why, struct hp_err *err)
{
	for (uint64_t a = sc->lo; a < sc->hi; a += SCAN_CHUNK) {
		size_t len = sc->hi - a < SCAN_CHUNK ? (size_t)(sc->hi - a) : SCAN_CHUNK;

		if (tracee_read(t, a, buf, len, err) < 0)
			return -1;
		for (size_t off = 0; off + 8 <= len; off += 8) {
			const struct guard *hit = hit_word(g, n, get_le(buf + off, 8), sc->all);

			if (!hit)
				continue;
			sb_addf(why, "thread %d has %s %s on its stack (at 0x%llx%s)", (int)th->tid,
				hit->kind == GUARD_CODE ? "a frame of" : "a pointer into", hit->what,
				(unsigned long long)(a + off),
				sc->all ? ", in a part not unwound" : "");
			return 1;
		}
	}
	return 0;
}

static bool has_region_guard(const struct guard *g, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (g[i].kind == GUARD_REGION)
			return true;
	return false;
}

static int check_thread(struct tracee *t, struct unwinder *u, const char *no_unwinder,
			const struct tracee_thread *th, const struct proc_maps *m, const struct guard *g,
			size_t n, struct strbuf *why, struct strbuf *notes, struct hp_err *err)
{
	struct stack_walk w = { 0 };
	struct scans s = { 0 };
	struct strbuf what;
	uint8_t *buf = NULL;
	int r = check_registers(th, g, n, why);

	sb_init(&what);
	if (r == 0 && u) {
		unwind_thread(u, th->tid, &w);
		r = check_frames(th, &w, g, n, why);
	}
	if (r == 0 && has_region_guard(g, n))
		plan_data_scans(&w, m, &s);
	if (r == 0 && !w.complete)
		r = plan_fallback(t, th, m, w.nr ? w.frames[w.nr - 1].sp : th->regs.rsp, &s, &what, why);
	if (r == 0 && !w.complete && notes) {
		if (u)
			sb_addf(notes, "thread %d: unwound %zu frame%s, then %s: %s\n", (int)th->tid, w.nr,
				w.nr == 1 ? "" : "s", what.buf, w.why);
		else
			sb_addf(notes, "thread %d: not unwound (%s); %s\n", (int)th->tid, no_unwinder, what.buf);
	}
	if (r == 0 && s.n)
		buf = xmalloc(SCAN_CHUNK);
	for (size_t i = 0; i < s.n && r == 0; i++)
		r = scan_words(t, th, &s.v[i], g, n, buf, why, err);
	free(buf);
	free(s.v);
	sb_free(&what);
	stack_walk_free(&w);
	return r;
}

struct unwinder *consistency_prepare(pid_t pid)
{
	struct hp_err ignored = { { 0 } };
	struct unwinder *u = unwinder_open(pid, &ignored);

	if (u)
		unwinder_load(u);
	return u;
}

void consistency_release(struct unwinder *u)
{
	unwinder_close(u);
}

int consistency_check_noted(struct tracee *t, struct unwinder *u, const struct proc_maps *m,
			    const struct guard *g, size_t n, struct strbuf *why, struct strbuf *notes,
			    struct hp_err *err)
{
	struct hp_err uerr = { { 0 } };
	struct unwinder *own = NULL;
	int r = 0;

	if (!u)
		u = own = unwinder_open(t->pid, &uerr);
	else if (unwinder_refresh(u, &uerr) < 0)
		u = NULL;
	for_each_live_thread(t, th) {
		r = check_thread(t, u, uerr.msg, th, m, g, n, why, notes, err);
		if (r != 0)
			break;
	}
	unwinder_close(own);
	return r;
}

int consistency_check(struct tracee *t, const struct proc_maps *m, const struct guard *g, size_t n,
		      struct strbuf *why, struct hp_err *err)
{
	return consistency_check_noted(t, NULL, m, g, n, why, NULL, err);
}
