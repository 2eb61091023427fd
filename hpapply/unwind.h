/*
 * unwind.h - the frames of a stopped thread, as its code's CFI proves them.
 *
 * elfutils' libdwfl walks the stack (dwfl_getthread_frames) of a thread
 * hpapply already holds in a ptrace-stop; every step from a frame to its
 * caller is accepted only if it was made with DWARF call frame information
 * (.eh_frame or .debug_frame) for that frame's code.  libdwfl falls back to
 * following frame pointers where there is none, a guess that -O2 code
 * breaks; a frame reached that way is not accepted, and the walk reports
 * where and why it stopped, so the caller can examine the rest of the
 * stack some other way.
 *
 * Signal frames need nothing special: the kernel's return trampoline
 * (glibc's __restore_rt, or the vDSO's) has CFI that restores the
 * interrupted context from the signal frame, on whatever stack it is (an
 * alternate signal stack included), and that context is a frame of its
 * own, marked as an activation (its pc is where it will go on, not a
 * return address).
 */
#ifndef HP_UNWIND_H
#define HP_UNWIND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

/* DWARF register numbers of x86-64 (System V ABI): 0..15 are rax, rdx,
 * rcx, rbx, rsi, rdi, rbp, rsp, r8..r15; 16 is the return address. */
#define UNWIND_NREGS 17
#define UNWIND_REG_SP 7

struct frame {
	uint64_t pc;            /* exact for an activation, else a return address */
	uint64_t sp;            /* the stack pointer in this frame */
	bool activation;        /* the innermost frame, or a context a signal interrupted */
	uint64_t regs[UNWIND_NREGS];
	uint32_t regs_known;    /* bit i: regs[i] is known */
};

struct stack_walk {
	struct frame *frames;   /* innermost first; each proved by CFI */
	size_t nr, cap;
	bool complete;          /* the walk reached the outermost frame */
	char why[200];          /* !complete: where and why it stopped */
};

struct unwinder;

/* libdwfl on process pid, whose threads the caller holds in ptrace (libdwfl
 * neither attaches nor detaches them; they must be stopped whenever one is
 * walked).  Fails with err set when the process's modules cannot be
 * listed. */
struct unwinder *unwinder_open(pid_t pid, struct hp_err *err);
void unwinder_close(struct unwinder *u);
/* Open every module's file and read its CFI index now (best effort), so
 * that walks, made while the threads are stopped, need not. */
void unwinder_load(struct unwinder *u);
/* List the process's modules again (the program may have loaded or
 * unloaded some since); modules still mapped where they were are kept,
 * with their files and CFI. */
int unwinder_refresh(struct unwinder *u, struct hp_err *err);

/* Walk thread tid (w is reset first; free with stack_walk_free()). */
void unwind_thread(struct unwinder *u, pid_t tid, struct stack_walk *w);
void stack_walk_free(struct stack_walk *w);

/* At most this many frames; a deeper stack is examined another way past it. */
#define UNWIND_MAX_FRAMES 4096

#endif
