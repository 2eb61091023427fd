/*
 * unwind.c - walk a stopped thread's frames with libdwfl, keeping only the
 * steps CFI proves (unwind.h).
 *
 * How a step is known to be CFI's: libdwfl unwinds a frame with the FDE
 * covering its lookup address (the pc of an activation, the return
 * address minus one otherwise: a call may be a function's last
 * instruction) in the module's .eh_frame, else its .debug_frame, and only
 * when neither has one does it follow the frame pointer.  We look the FDE
 * up the same way before accepting the frame after it.
 *
 * Separate debug files (for .debug_frame) are looked for by build id in
 * the local debug directories only: dwfl_standard_find_debuginfo would
 * also ask debuginfod servers (DEBUGINFOD_URLS), over the network, while
 * every thread of the process is stopped.
 */
#include "unwind.h"

#include <dwarf.h>
#include <stdarg.h>
#include <stdio.h>
#include <elfutils/libdwfl.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>

struct unwinder {
	Dwfl *dwfl;
	pid_t pid;
};

/* libdwfl reads it (NULL: its default directories); never written */
static char *debuginfo_path;

static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_build_id_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

/* libdwarf and libdw export dwarf_tag, dwarf_attr, dwarf_child and a few
 * more under the same names, and libdw calls some of them through its PLT:
 * with libdwarf loaded too (and first), libdw would run libdwarf's code.
 * hpapply needs only libdw (the Makefile links --as-needed); a build that
 * loads both does not unwind. */
static int is_libdwarf(struct dl_phdr_info *info, size_t size, void *data)
{
	return info->dlpi_name && strstr(info->dlpi_name, "/libdwarf.so") ? 1 : 0;
}

static int report_modules(struct unwinder *u, struct hp_err *err)
{
	int r;

	dwfl_report_begin(u->dwfl);
	r = dwfl_linux_proc_report(u->dwfl, u->pid);
	if (dwfl_report_end(u->dwfl, NULL, NULL) != 0 && r == 0)
		r = -1;
	if (r != 0)
		return hp_err_set(err, "process %d: libdwfl cannot list its modules: %s", (int)u->pid,
				  r > 0 ? strerror(r) : dwfl_errmsg(-1));
	return 0;
}

static int load_cfi(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start, void *arg)
{
	Dwarf_Addr bias;

	dwfl_module_eh_cfi(mod, &bias);
	return DWARF_CB_OK;
}

struct unwinder *unwinder_open(pid_t pid, struct hp_err *err)
{
	struct unwinder *u;
	int r;

	if (dl_iterate_phdr(is_libdwarf, NULL)) {
		hp_err_set(err, "libdwarf is loaded alongside libdw (a build problem), whose symbols it would "
			   "take the place of");
		return NULL;
	}
	u = xcalloc(1, sizeof(*u));
	u->pid = pid;
	u->dwfl = dwfl_begin(&callbacks);
	if (!u->dwfl) {
		hp_err_set(err, "process %d: libdwfl: %s", (int)pid, dwfl_errmsg(-1));
		free(u);
		return NULL;
	}
	if (report_modules(u, err) < 0) {
		unwinder_close(u);
		return NULL;
	}
	/* true: libdwfl must not attach (hpapply holds the threads, stopped
	 * whenever they are walked) */
	r = dwfl_linux_proc_attach(u->dwfl, pid, true);
	if (r != 0) {
		hp_err_set(err, "process %d: libdwfl cannot attach its state: %s", (int)pid,
			   r > 0 ? strerror(r) : dwfl_errmsg(-1));
		unwinder_close(u);
		return NULL;
	}
	return u;
}

void unwinder_load(struct unwinder *u)
{
	dwfl_getmodules(u->dwfl, load_cfi, NULL, 0);
}

int unwinder_refresh(struct unwinder *u, struct hp_err *err)
{
	return report_modules(u, err);
}

void unwinder_close(struct unwinder *u)
{
	if (!u)
		return;
	if (u->dwfl)
		dwfl_end(u->dwfl);
	free(u);
}

void stack_walk_free(struct stack_walk *w)
{
	free(w->frames);
	memset(w, 0, sizeof(*w));
}

struct walk {
	Dwfl *dwfl;
	struct stack_walk *w;
	bool step_ok;           /* the last frame recorded has an FDE */
	bool next_activation;   /* ... which is a signal frame's */
};

static void set_why(struct stack_walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_why(struct stack_walk *w, const char *fmt, ...)
{
	va_list ap;

	if (w->why[0])
		return;
	va_start(ap, fmt);
	vsnprintf(w->why, sizeof(w->why), fmt, ap);
	va_end(ap);
}

static const char *module_name(Dwfl_Module *mod)
{
	const char *name = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

	return name ? name : "?";
}

static bool fde_in(Dwarf_CFI *cfi, Dwarf_Addr bias, uint64_t lookup, bool *signal)
{
	Dwarf_Frame *frame;
	Dwarf_Addr start, end;

	if (!cfi || dwarf_cfi_addrframe(cfi, lookup - bias, &frame) != 0)
		return false;
	if (dwarf_frame_info(frame, &start, &end, signal) < 0)
		*signal = false;
	free(frame);
	return true;
}

static void no_cfi(struct stack_walk *w, Dwfl_Module *mod, uint64_t lookup)
{
	GElf_Sym sym;
	GElf_Off off = 0;
	const char *fn = dwfl_module_addrinfo(mod, lookup, &off, &sym, NULL, NULL, NULL);

	if (fn)
		set_why(w, "no CFI for 0x%llx (%s+0x%llx) in %s", (unsigned long long)lookup, fn,
			(unsigned long long)off, module_name(mod));
	else
		set_why(w, "no CFI for 0x%llx in %s", (unsigned long long)lookup, module_name(mod));
}

/* Has the code at lookup an FDE (as libdwfl looks for one)?  *signal
 * says whether it is a signal frame's (its caller is an interrupted
 * context).  Otherwise why says so. */
static bool has_fde(Dwfl *dwfl, uint64_t lookup, bool *signal, struct stack_walk *w)
{
	Dwfl_Module *mod = dwfl_addrmodule(dwfl, lookup);
	Dwarf_CFI *cfi;
	Dwarf_Addr bias;

	if (!mod) {
		set_why(w, "0x%llx is in no file (code made at run time, or a package's)",
			(unsigned long long)lookup);
		return false;
	}
	cfi = dwfl_module_eh_cfi(mod, &bias);
	if (fde_in(cfi, bias, lookup, signal))
		return true;
	cfi = dwfl_module_dwarf_cfi(mod, &bias);
	if (fde_in(cfi, bias, lookup, signal))
		return true;
	no_cfi(w, mod, lookup);
	return false;
}

static bool record_frame(struct walk *c, Dwfl_Frame *state)
{
	struct stack_walk *w = c->w;
	struct frame *f;
	Dwarf_Addr pc;

	if (!dwfl_frame_pc(state, &pc, NULL)) {
		set_why(w, "no pc in frame %zu: %s", w->nr, dwfl_errmsg(-1));
		return false;
	}
	GROW(w->frames, w->cap, w->nr + 1);
	f = &w->frames[w->nr];
	memset(f, 0, sizeof(*f));
	f->pc = pc;
	f->activation = w->nr == 0 || c->next_activation;
	for (unsigned r = 0; r < UNWIND_NREGS; r++) {
		Dwarf_Word v;

		if (dwfl_frame_reg(state, r, &v) == 0) {
			f->regs[r] = v;
			f->regs_known |= 1u << r;
		}
	}
	if (!(f->regs_known & (1u << UNWIND_REG_SP))) {
		set_why(w, "the stack pointer of the frame at 0x%llx is not known", (unsigned long long)pc);
		return false;
	}
	f->sp = f->regs[UNWIND_REG_SP];
	w->nr++;
	return true;
}

static int frame_cb(Dwfl_Frame *state, void *arg)
{
	struct walk *c = arg;
	struct stack_walk *w = c->w;
	const struct frame *f;

	/* this frame was reached by following the frame pointer */
	if (w->nr > 0 && !c->step_ok)
		return DWARF_CB_ABORT;
	if (!record_frame(c, state))
		return DWARF_CB_ABORT;
	f = &w->frames[w->nr - 1];
	c->next_activation = false;
	c->step_ok = has_fde(c->dwfl, f->activation ? f->pc : f->pc - 1, &c->next_activation, w);
	if (w->nr >= UNWIND_MAX_FRAMES) {
		set_why(w, "more than %d frames", UNWIND_MAX_FRAMES);
		return DWARF_CB_ABORT;
	}
	return DWARF_CB_OK;
}

void unwind_thread(struct unwinder *u, pid_t tid, struct stack_walk *w)
{
	struct walk c = { .dwfl = u->dwfl, .w = w };
	int r;

	stack_walk_free(w);
	r = dwfl_getthread_frames(u->dwfl, tid, frame_cb, &c);
	/* 0: libdwfl reached a frame whose return address CFI declares
	 * undefined (_start, a thread's start): the end, if CFI took us there */
	w->complete = r == 0 && w->nr > 0 && c.step_ok;
	if (w->complete)
		return;
	if (w->nr == 0)
		set_why(w, "not unwound: %s", dwfl_errmsg(-1));
	else
		set_why(w, "unwinding stopped after 0x%llx: %s", (unsigned long long)w->frames[w->nr - 1].pc,
			dwfl_errmsg(-1));
}
