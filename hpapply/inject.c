/*
 * inject.c - code run on the process's behalf: the self-restoring stub,
 * and the system calls and function calls made through it (tracee.h,
 * tracee_syscall()).
 *
 * Nothing here leaves a thread in a state it cannot leave alone: the stub
 * is written before a thread is sent into it, the thread is followed with
 * PTRACE_SYSCALL (no single-step, no breakpoint, no signal of ours), and
 * if hpapply dies at any instant the thread finishes the stub on its own.
 */
#include "tracee.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>

/*
 * The stub (the assembly is below, byte for byte).  Its first 80 bytes are
 * the slot the call reads: number, six arguments, the address to go back
 * to, the function to call.  Position-independent: every reference is
 * %rip-relative.
 *
 *   slot:      .quad nr, a0, a1, a2, a3, a4, a5, back, func, 0
 *   sys_entry: lea -128(%rsp),%rsp          # keep off the red zone
 *              pushfq; push rax rcx rdx rsi rdi r8 r9 r10 r11
 *              mov nr(%rip),%rax; mov a0(%rip),%rdi; ... mov a5(%rip),%r9
 *              syscall
 *   sys_done:  pop r11 r10 r9 r8 rdi rsi rdx rcx rax; popfq
 *              lea 128(%rsp),%rsp
 *              jmp *back(%rip)
 *   call_entry: lea -128(%rsp),%rsp; pushfq; push (the same nine); push rbp
 *              mov %rsp,%rbp; and $-16,%rsp; sub $512,%rsp; fxsave64 (%rsp)
 *              cld; xor eax, edi, esi, edx
 *              call *func(%rip)
 *              mov %rax,%rdi; mov $39,%eax; syscall   # getpid: the result in %rdi
 *   call_done: fxrstor64 (%rsp); mov %rbp,%rsp; pop %rbp; jmp sys_done
 *   rec_entry: lea -128(%rsp),%rsp; pushfq; push (the same nine)
 *              memfd_create(name at func, MFD_CLOEXEC) -> fd (on error: to rec_done)
 *              ftruncate(fd, a1) (on error: to rec_close)
 *              mmap(0, a1, PROT_READ, MAP_PRIVATE, fd, 0)
 *   rec_close: mov %rax,%rsi; close(fd); mov %rsi,%rax
 *   rec_done:  mov %rax,%rdi; mov $39,%eax; syscall   # getpid: the result in %rdi
 *              jmp sys_done
 * The record's four calls are one run: a thread left alone finishes them
 * all, so no descriptor is ever left open in the process.
 */
static const uint8_t stub_code[] = {
0x48, 0x8d, 0x64, 0x24, 0x80, 0x9c, 0x50, 0x51, 0x52, 0x56, 0x57, 0x41,
	0x50, 0x41, 0x51, 0x41, 0x52, 0x41, 0x53, 0x48, 0x8b, 0x05, 0x96, 0xff,
	0xff, 0xff, 0x48, 0x8b, 0x3d, 0x97, 0xff, 0xff, 0xff, 0x48, 0x8b, 0x35,
	0x98, 0xff, 0xff, 0xff, 0x48, 0x8b, 0x15, 0x99, 0xff, 0xff, 0xff, 0x4c,
	0x8b, 0x15, 0x9a, 0xff, 0xff, 0xff, 0x4c, 0x8b, 0x05, 0x9b, 0xff, 0xff,
	0xff, 0x4c, 0x8b, 0x0d, 0x9c, 0xff, 0xff, 0xff, 0x0f, 0x05, 0x41, 0x5b,
	0x41, 0x5a, 0x41, 0x59, 0x41, 0x58, 0x5f, 0x5e, 0x5a, 0x59, 0x58, 0x9d,
	0x48, 0x8d, 0xa4, 0x24, 0x80, 0x00, 0x00, 0x00, 0xff, 0x25, 0x86, 0xff,
	0xff, 0xff, 0x48, 0x8d, 0x64, 0x24, 0x80, 0x9c, 0x50, 0x51, 0x52, 0x56,
	0x57, 0x41, 0x50, 0x41, 0x51, 0x41, 0x52, 0x41, 0x53, 0x55, 0x48, 0x89,
	0xe5, 0x48, 0x83, 0xe4, 0xf0, 0x48, 0x81, 0xec, 0x00, 0x02, 0x00, 0x00,
	0x48, 0x0f, 0xae, 0x04, 0x24, 0xfc, 0x31, 0xc0, 0x31, 0xff, 0x31, 0xf6,
	0x31, 0xd2, 0xff, 0x15, 0x58, 0xff, 0xff, 0xff, 0x48, 0x89, 0xc7, 0xb8,
	0x27, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x48, 0x0f, 0xae, 0x0c, 0x24, 0x48,
	0x89, 0xec, 0x5d, 0xeb, 0x99, 0x48, 0x8d, 0x64, 0x24, 0x80, 0x9c, 0x50,
	0x51, 0x52, 0x56, 0x57, 0x41, 0x50, 0x41, 0x51, 0x41, 0x52, 0x41, 0x53,
	0xb8, 0x3f, 0x01, 0x00, 0x00, 0x48, 0x8d, 0x3d, 0x24, 0xff, 0xff, 0xff,
	0xbe, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x48, 0x85, 0xc0, 0x78, 0x47,
	0x49, 0x89, 0xc0, 0xb8, 0x4d, 0x00, 0x00, 0x00, 0x4c, 0x89, 0xc7, 0x48,
	0x8b, 0x35, 0xd6, 0xfe, 0xff, 0xff, 0x0f, 0x05, 0x48, 0x85, 0xc0, 0x78,
	0x1e, 0xb8, 0x09, 0x00, 0x00, 0x00, 0x31, 0xff, 0x48, 0x8b, 0x35, 0xc1,
	0xfe, 0xff, 0xff, 0xba, 0x01, 0x00, 0x00, 0x00, 0x41, 0xba, 0x02, 0x00,
	0x00, 0x00, 0x45, 0x31, 0xc9, 0x0f, 0x05, 0x48, 0x89, 0xc6, 0xb8, 0x03,
	0x00, 0x00, 0x00, 0x4c, 0x89, 0xc7, 0x0f, 0x05, 0x48, 0x89, 0xf0, 0x48,
	0x89, 0xc7, 0xb8, 0x27, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xe9, 0x18, 0xff,
	0xff, 0xff,
};

enum {
	STUB_SLOT_SIZE = 80,
	STUB_SYS_ENTRY = 0x50, STUB_SYS_DONE = 0x96,     /* after its syscall */
	STUB_CALL_ENTRY = 0xb2, STUB_CALL_DONE = 0xf2,
	STUB_REC_ENTRY = 0xfd, STUB_REC_DONE = 0x179,
	SLOT_BACK = 7, SLOT_FUNC = 8,
};

_Static_assert(STUB_SLOT_SIZE + sizeof(stub_code) <= TRACEE_STUB_SIZE, "the stub fits its room");

void tracee_set_stub(struct tracee *t, uint64_t addr)
{
	t->stub = addr;
	t->stub_written = false;
}

static bool in_stub(const struct tracee *t, uint64_t rip)
{
	return t->stub && rip >= t->stub && rip < t->stub + TRACEE_STUB_SIZE;
}

/*
 * The registers the thread goes back to.  Stopped inside a system call
 * that is to restart (a sleep, a read), its registers say so (orig_rax the
 * call, rax -ERESTART*) and the kernel would restart it when the thread
 * resumes from this stop; it resumes from another point, so we do what the
 * kernel does for a call with no signal handler to run: back to the
 * syscall instruction, the call number in rax (restart_syscall for
 * -ERESTART_RESTARTBLOCK).  orig_rax -1: no restart logic applies to it.
 */
static struct user_regs_struct settled(struct user_regs_struct r)
{
	if ((long long)r.orig_rax >= 0) {
		switch ((long long)r.rax) {
		case -512: case -513: case -514:   /* ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND */
			r.rax = r.orig_rax;
			r.rip -= 2;
			break;
		case -516:                          /* ERESTART_RESTARTBLOCK */
			r.rax = SYS_restart_syscall;
			r.rip -= 2;
			break;
		default:
			break;
		}
	}
	r.orig_rax = (unsigned long long)-1;
	return r;
}

/* A thread to run the call in, stopped, outside the stub: a stopped one
 * (the main thread first), else the anchor, stopped now (*lent: let it go
 * afterwards). */
static struct tracee_thread *borrow(struct tracee *t, bool *lent, struct hp_err *err)
{
	struct tracee_thread *th = tracee_stopped_thread(t);

	*lent = false;
	if (!th) {
		for_each_live_thread(t, x)
			if (x->seized) {
				th = x;
				break;
			}
		if (!th) {
			hp_err_set(err, "process %d: no thread to run a system call in", (int)t->pid);
			return NULL;
		}
		if (tracee_stop_thread(t, th, err) < 0)
			return NULL;
		if (th->gone) {
			hp_err_set(err, "process %d: thread %d exited; try again", (int)t->pid, (int)th->tid);
			return NULL;
		}
		*lent = true;
	}
	/* in the stub still (its last run was by an hpapply that died
	 * meanwhile): let it finish, a few instructions */
	for (int n = 0; in_stub(t, th->regs.rip); n++) {
		if (n == 100 || tracee_ptrace(t, PTRACE_CONT, th->tid, NULL, NULL) < 0) {
			hp_err_set(err, "process %d: thread %d does not leave hpapply's stub", (int)t->pid,
				   (int)th->tid);
			return NULL;
		}
		th->stopped = false;
		if (tracee_stop_thread(t, th, err) < 0)
			return NULL;
	}
	return th;
}

static int set_regs(struct tracee *t, struct tracee_thread *th, const struct user_regs_struct *r,
		    struct hp_err *err)
{
	if (tracee_ptrace(t, PTRACE_SETREGS, th->tid, NULL, (void *)r) < 0)
		return hp_err_set(err, "process %d: cannot set the registers of thread %d: %s",
				  (int)t->pid, (int)th->tid, strerror(errno));
	return 0;
}

static bool is_fault(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE;
}

/*
 * Follow th through the stub until the exit of its system call at done
 * (number nr); *at_exit: its registers there.  Signals that come are
 * delivered; a fault (in a resolver) ends the call.
 */
static int follow(struct tracee *t, struct tracee_thread *th, uint64_t done, long nr,
		  struct user_regs_struct *at_entry, struct user_regs_struct *at_exit, struct hp_err *err)
{
	uint64_t deadline = now_ns() + 2000000000ULL;
	bool entered = false;
	int sig = 0;

	for (int n = 0; n < 4096; n++) {
		struct user_regs_struct r;
		int st;

		if (tracee_ptrace(t, PTRACE_SYSCALL, th->tid, NULL, (void *)(long)sig) < 0)
			return hp_err_set(err, "process %d: thread %d: %s", (int)t->pid, (int)th->tid,
					  strerror(errno));
		th->stopped = false;
		sig = 0;
		st = tracee_wait_thread(t, th, deadline, err);
		if (st < 0)
			return -1;
		if (st == 0)
			return hp_err_set(err, "process %d: thread %d exited while running hpapply's stub",
					  (int)t->pid, (int)th->tid);
		th->stopped = true;
		if ((st >> 16) != 0)     /* an event stop (a group-stop): go on */
			continue;
		if (WSTOPSIG(st) != (SIGTRAP | 0x80)) {
			if (is_fault(WSTOPSIG(st)))
				return hp_err_set(err, "process %d: code run by hpapply faulted (signal %d)",
						  (int)t->pid, WSTOPSIG(st));
			sig = WSTOPSIG(st);
			continue;
		}
		if (tracee_ptrace(t, PTRACE_GETREGS, th->tid, NULL, &r) < 0)
			return hp_err_set(err, "process %d: thread %d: %s", (int)t->pid, (int)th->tid,
					  strerror(errno));
		/* a system call of a signal handler or of the resolver: not ours */
		if (r.rip != done || (long long)r.orig_rax != nr)
			continue;
		if (!entered) {
			entered = true;
			*at_entry = r;
			continue;
		}
		*at_exit = r;
		return 0;
	}
	return hp_err_set(err, "process %d: thread %d keeps stopping in hpapply's stub", (int)t->pid,
			  (int)th->tid);
}

/*
 * Run the stub in a borrowed thread: slot[] filled but for the address to
 * go back to.  entry/done: where the thread starts and the exit of the
 * system call that ends what we wait for (nr).
 */
static int run_stub(struct tracee *t, uint64_t slot[10], uint64_t entry, uint64_t done, long nr,
		    struct user_regs_struct *at_entry, struct user_regs_struct *at_exit, struct hp_err *err)
{
	struct user_regs_struct back, enter;
	struct user_fpregs_struct fp;
	struct tracee_thread *th;
	bool lent;
	int rc;

	if (!t->stub)
		return hp_err_set(err, "process %d: no room for hpapply's stub in its executable memory",
				  (int)t->pid);
	th = borrow(t, &lent, err);
	if (!th)
		return -1;
	if (tracee_ptrace(t, PTRACE_GETREGS, th->tid, NULL, &th->regs) < 0 ||
	    tracee_ptrace(t, PTRACE_GETFPREGS, th->tid, NULL, &fp) < 0)
		return hp_err_set(err, "process %d: cannot read the registers of thread %d: %s", (int)t->pid,
				  (int)th->tid, strerror(errno));
	back = settled(th->regs);
	slot[SLOT_BACK] = back.rip;
	/* the stub and its slot are in place before the thread is sent
	 * there: from the moment it is, it can finish alone */
	if (!t->stub_written) {
		if (tracee_write(t, t->stub + STUB_SLOT_SIZE, stub_code, sizeof(stub_code), err) < 0)
			return -1;
		t->stub_written = true;
	}
	if (tracee_write(t, t->stub, slot, STUB_SLOT_SIZE, err) < 0)
		return -1;
	enter = back;
	enter.rip = t->stub + entry;
	if (set_regs(t, th, &enter, err) < 0)
		return -1;
	rc = follow(t, th, t->stub + done, nr, at_entry, at_exit, err);
	if (rc < 0 && !th->gone && !th->stopped) {   /* did not come back: take it back */
		struct hp_err ignored = { { 0 } };

		tracee_stop_thread(t, th, &ignored);
	}
	/* where the stub would have gone back to: the registers it saved
	 * and the x87/SSE state (a resolver may change it) */
	if (!th->gone && th->stopped) {
		if (set_regs(t, th, &back, rc < 0 ? &(struct hp_err){ { 0 } } : err) < 0 ||
		    tracee_ptrace(t, PTRACE_SETFPREGS, th->tid, NULL, &fp) < 0)
			rc = rc < 0 ? rc : hp_err_set(err, "process %d: cannot restore thread %d", (int)t->pid,
						      (int)th->tid);
		th->regs = back;
	}
	if (lent && !th->gone && th->stopped) {
		if (tracee_ptrace(t, PTRACE_CONT, th->tid, NULL, NULL) == 0)
			th->stopped = false;
	}
	return rc;
}

int tracee_map_memfd(struct tracee *t, const char *name, uint64_t size, int64_t *ret, struct hp_err *err)
{
	uint64_t slot[10] = { 0, 0, size };
	struct user_regs_struct in, out;

	if (strlen(name) >= 16)
		return hp_err_set(err, "process %d: '%s': a memfd name is up to 15 bytes here", (int)t->pid, name);
	memcpy(&slot[SLOT_FUNC], name, strlen(name));
	if (run_stub(t, slot, STUB_REC_ENTRY, STUB_REC_DONE, SYS_getpid, &in, &out, err) < 0)
		return -1;
	*ret = (int64_t)in.rdi;
	return 0;
}

int tracee_syscall(struct tracee *t, long nr, const uint64_t args[6], int64_t *ret,
		   struct hp_err *err)
{
	uint64_t slot[10] = { (uint64_t)nr, args[0], args[1], args[2], args[3], args[4], args[5] };
	struct user_regs_struct in, out;

	if (run_stub(t, slot, STUB_SYS_ENTRY, STUB_SYS_DONE, nr, &in, &out, err) < 0)
		return -1;
	*ret = (int64_t)out.rax;
	return 0;
}

int tracee_call(struct tracee *t, uint64_t func, uint64_t *ret, struct hp_err *err)
{
	uint64_t slot[10] = { 0 };
	struct user_regs_struct in, out;

	slot[SLOT_FUNC] = func;
	if (run_stub(t, slot, STUB_CALL_ENTRY, STUB_CALL_DONE, SYS_getpid, &in, &out, err) < 0)
		return -1;
	*ret = in.rdi;
	return 0;
}
