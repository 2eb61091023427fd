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
 *
 * Code run on the process's behalf never leaves it in a state it cannot
 * leave alone: see tracee_syscall().  hpapply holds one thread (the
 * anchor, the main thread when it is alive) PTRACE_SEIZEd from the start
 * of a session to its end; the kernel lets one tracer hold a thread, so a
 * second hpapply cannot start on the same process, and the hold ends with
 * hpapply, however it ends.
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
};

/* Bytes of the stub, and of the memory it needs (see tracee_syscall()). */
#define TRACEE_STUB_SIZE 384

struct tracee {
	pid_t pid;
	int mem_fd;                   /* /proc/PID/mem, read-write */
	struct tracee_thread *threads;
	size_t nr_threads, cap_threads;
	uint64_t stub;                /* where the stub is (tracee_set_stub), 0: not yet */
	bool stub_written;
	/* test hooks (HPAPPLY_TEST_KILL_AT=N, HPAPPLY_TEST_STOP_AT=N):
	 * hpapply sends itself SIGKILL (SIGSTOP) before its Nth call that
	 * stops, resumes, reads the registers of or changes the process (a
	 * ptrace request or a write to its memory) */
	unsigned long kill_at, stop_at, steps;
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

/* Seize the anchor thread (no stop): from here until tracee_close no other
 * tracer can attach to it.  Another hpapply already holding it is named. */
int tracee_anchor(struct tracee *t, struct hp_err *err);
/* The pid of another hpapply tracing process pid now, or 0. */
pid_t tracee_hpapply_at_work(pid_t pid);
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
 * Where the stub goes: TRACEE_STUB_SIZE bytes of executable memory of the process
 * that nothing executes (the tail of the page after an executable
 * segment's end, see module_exec_slack()).
 */
void tracee_set_stub(struct tracee *t, uint64_t addr);
/*
 * Run one system call in the process, in one thread, whether the others
 * run or are stopped: the thread borrowed (a stopped one, or the anchor,
 * stopped for the call and let go after it) is sent to the stub, which
 * pushes the registers the call changes below the red zone, loads the
 * call's arguments from the stub's slot, makes the call, pops them and
 * jumps back to where the thread was.  hpapply follows it with
 * PTRACE_SYSCALL (no single-step, no breakpoint, no signal of ours), takes
 * the result at the call's exit and puts the registers back itself.  If
 * hpapply dies at any instant, the kernel detaches and the thread finishes
 * the stub on its own: it goes on as if nothing had happened (a system
 * call it was interrupted in restarts, as the kernel would have restarted
 * it).  *ret is the raw result (-errno on failure).
 */
int tracee_syscall(struct tracee *t, long nr, const uint64_t args[6], int64_t *ret,
		   struct hp_err *err);
/* A private read-only mapping of size bytes of a new memfd called name
 * (up to 15 bytes): memfd_create, ftruncate, mmap, close in one run of
 * the stub, so that the descriptor is closed whatever happens to hpapply.
 * *ret: the address, or -errno of the call that failed. */
int tracee_map_memfd(struct tracee *t, const char *name, uint64_t size, int64_t *ret, struct hp_err *err);
/* Call a function taking no arguments (an IFUNC resolver) in the process
 * the same way (the stub also saves the flags, %rbp and the x87/SSE state
 * around the call) and return its %rax. */
int tracee_call(struct tracee *t, uint64_t func, uint64_t *ret, struct hp_err *err);

/* ---- for inject.c ---- */

/* ptrace(2), counted by the test hook. */
long tracee_ptrace(struct tracee *t, int req, pid_t tid, void *addr, void *data);
/* The next stop of one thread: the waitpid status, 0 if it is gone, -1 on
 * error or at the deadline (now_ns() clock). */
int tracee_wait_thread(struct tracee *t, struct tracee_thread *th, uint64_t deadline, struct hp_err *err);
/* Stop one thread (the others run on). */
int tracee_stop_thread(struct tracee *t, struct tracee_thread *th, struct hp_err *err);
/* A stopped thread (the main thread first), or NULL. */
struct tracee_thread *tracee_stopped_thread(struct tracee *t);

#define for_each_live_thread(t, th) \
	for (struct tracee_thread *th = (t)->threads; th < (t)->threads + (t)->nr_threads; th++) \
		if (!th->gone)

#endif
