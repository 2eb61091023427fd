/*
 * tracee.h - the target process under ptrace: its threads, their registers,
 * its memory, and code run on its behalf (an injected system call or a
 * function call).
 *
 * All threads are attached with PTRACE_SEIZE and stopped with
 * PTRACE_INTERRUPT, never with SIGSTOP: no signal is sent, nothing the
 * program can observe, and a thread that was about to receive a signal
 * gets it delivered as it would have been.  Threads created while we attach
 * are found by listing /proc/PID/task again until a pass finds none: a
 * stopped thread cannot create threads, so the list is complete when every
 * listed thread is stopped.
 */
#ifndef HP_TRACEE_H
#define HP_TRACEE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "util.h"

struct tracee_thread {
	pid_t tid;
	bool seized;          /* PTRACE_SEIZEd by us */
	bool stopped;         /* in a ptrace-stop we asked for */
	bool gone;            /* exited while we held it */
	struct user_regs_struct regs;   /* as of the last stop */
	int pending[8];       /* signals taken while we ran code in it */
	unsigned nr_pending;
};

struct tracee {
	pid_t pid;
	int mem_fd;                   /* /proc/PID/mem, read-write */
	struct tracee_thread *threads;
	size_t nr_threads, cap_threads;
	uint64_t syscall_insn;        /* address of a 'syscall' (0f 05), 0 if not found yet */
	unsigned stop_timeout_ms;     /* how long one thread may take to stop */
	/* timing: every interval during which threads were stopped */
	uint64_t stop_began_ns;       /* 0 when running */
	uint64_t stopped_ns;          /* sum of the stopped intervals */
	uint64_t longest_stop_ns;
	unsigned stops;               /* how many times we stopped the process */
};

/* Monotonic clock in nanoseconds. */
uint64_t now_ns(void);

/* Open the process (no attach yet): checks it exists and opens its memory.
 * Errors name the process and say what to do (not permitted: run as root or
 * check ptrace_scope). */
int tracee_open(struct tracee *t, pid_t pid, struct hp_err *err);
/* Detach if attached (resuming every thread) and close. */
void tracee_close(struct tracee *t);

/* Attach (first call) and stop every thread; waits until each is stopped. */
int tracee_stop(struct tracee *t, struct hp_err *err);
/* Let every thread run again (still attached). */
int tracee_resume(struct tracee *t, struct hp_err *err);
/* Resume and detach from every thread. */
void tracee_detach(struct tracee *t);
bool tracee_is_stopped(const struct tracee *t);

/* Memory of the process (any protection: writes to read-only pages go
 * through the ptrace force rules, as a debugger's breakpoints do). */
int tracee_read(struct tracee *t, uint64_t addr, void *buf, size_t n, struct hp_err *err);
int tracee_write(struct tracee *t, uint64_t addr, const void *buf, size_t n, struct hp_err *err);

/*
 * Run one system call in the process (threads stopped): the first live
 * thread's registers are saved, the call runs at an existing 'syscall'
 * instruction by single-stepping, and every register is restored.
 * *ret is the raw result (-errno on failure).
 */
int tracee_syscall(struct tracee *t, long nr, const uint64_t args[6], int64_t *ret,
		   struct hp_err *err);
/* Call a function taking no arguments (an IFUNC resolver) in the process
 * and return its %rax; it returns to address 0, which stops it. */
int tracee_call(struct tracee *t, uint64_t func, uint64_t *ret, struct hp_err *err);

#define for_each_live_thread(t, th) \
	for (struct tracee_thread *th = (t)->threads; th < (t)->threads + (t)->nr_threads; th++) \
		if (!th->gone)

#endif
