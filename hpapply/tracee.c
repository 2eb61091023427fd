/*
 * tracee.c - attach, stop, resume and detach every thread of a process;
 * read and write its memory; run a system call or a function in it
 * (tracee.h).
 *
 * Waiting is bounded: a thread that does not stop (an uninterruptible
 * sleep, a vfork parent) makes the operation fail after stop_timeout_ms
 * instead of hanging; SIGALRM interrupts the blocking waitpid().
 *
 * Signals: a thread may report a signal-delivery-stop instead of our
 * interrupt.  While attaching we let it have the signal at once (PTRACE_CONT
 * with it) and interrupt it again.  While it runs injected code, a signal
 * that arrives is kept in the thread's pending list and sent back to the
 * thread (tgkill) when it is resumed, so the program still receives it.
 */
#include "tracee.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "procmaps.h"

#define MAX_SIGNALS_WHILE_STOPPING 64

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void on_alarm(int sig)
{
	(void)sig;   /* only there to interrupt waitpid() */
}

static void arm_alarm(uint64_t deadline_ns)
{
	uint64_t now = now_ns();
	uint64_t left = deadline_ns > now ? deadline_ns - now : 1000;
	struct itimerval it = { { 0, 0 }, { (time_t)(left / 1000000000ULL),
					    (suseconds_t)((left % 1000000000ULL) / 1000) } };

	if (!it.it_value.tv_sec && !it.it_value.tv_usec)
		it.it_value.tv_usec = 1;
	setitimer(ITIMER_REAL, &it, NULL);
}

static void disarm_alarm(void)
{
	struct itimerval it = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &it, NULL);
}

static const char *ptrace_hint(int e)
{
	if (e == EPERM || e == EACCES)
		return "run hpapply as root, or check /proc/sys/kernel/yama/ptrace_scope "
		       "(1 allows only a parent to trace; 0 allows any process of the same user)";
	return "is the process still running?";
}

/* TracerPid from /proc/PID/status: who already traces the process. */
static int tracer_of(pid_t pid)
{
	char name[64], line[256];
	int tracer = 0;
	FILE *f;

	snprintf(name, sizeof(name), "/proc/%d/status", (int)pid);
	f = fopen(name, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "TracerPid: %d", &tracer) == 1)
			break;
	fclose(f);
	return tracer;
}

static int tgid_of(pid_t pid)
{
	char name[64], line[256];
	int tgid = -1;
	FILE *f;

	snprintf(name, sizeof(name), "/proc/%d/status", (int)pid);
	f = fopen(name, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", &tgid) == 1)
			break;
	fclose(f);
	return tgid;
}

/* The state letter of /proc/PID/task/TID/stat ('R', 'S', 'T', 'Z', ...),
 * 0 if unknown. */
static char task_state(pid_t pid, pid_t tid)
{
	char name[96], buf[512], *paren;
	FILE *f;
	size_t n;

	snprintf(name, sizeof(name), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	f = fopen(name, "re");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	paren = strrchr(buf, ')');   /* the command name may hold anything */
	return paren && paren[1] == ' ' ? paren[2] : 0;
}

int tracee_open(struct tracee *t, pid_t pid, struct hp_err *err)
{
	struct sigaction sa;
	char name[64];
	int tgid;

	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->mem_fd = -1;
	t->stop_timeout_ms = 2000;
	if (pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH))
		return hp_err_set(err, "process %d: no such process", (int)pid);
	tgid = tgid_of(pid);
	if (tgid < 0)
		return hp_err_set(err, "process %d: no such process", (int)pid);
	if (tgid != pid)
		return hp_err_set(err, "process %d: this is a thread of process %d; give the process id",
				  (int)pid, tgid);
	snprintf(name, sizeof(name), "/proc/%d/mem", (int)pid);
	t->mem_fd = open(name, O_RDWR | O_CLOEXEC);
	if (t->mem_fd < 0)
		return hp_err_set(err, "process %d: cannot open %s: %s (%s)", (int)pid, name,
				  strerror(errno), ptrace_hint(errno));
	/* While the threads are stopped every millisecond we lose to the
	 * scheduler is theirs: run at the highest priority we may. */
	setpriority(PRIO_PROCESS, 0, -20);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;   /* no SA_RESTART: waitpid() returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	return 0;
}

void tracee_close(struct tracee *t)
{
	tracee_detach(t);
	if (t->mem_fd >= 0)
		close(t->mem_fd);
	t->mem_fd = -1;
	free(t->threads);
	t->threads = NULL;
	t->nr_threads = t->cap_threads = 0;
}

static struct tracee_thread *thread_by_tid(struct tracee *t, pid_t tid)
{
	for (size_t i = 0; i < t->nr_threads; i++)
		if (t->threads[i].tid == tid)
			return &t->threads[i];
	return NULL;
}

static int seize(struct tracee *t, pid_t tid, struct hp_err *err)
{
	struct tracee_thread *th;
	int tracer;

	GROW(t->threads, t->cap_threads, t->nr_threads + 1);
	th = &t->threads[t->nr_threads++];
	memset(th, 0, sizeof(*th));
	th->tid = tid;
	if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) == 0) {
		th->seized = true;
		return 0;
	}
	if (errno == ESRCH) {   /* exited meanwhile */
		th->gone = true;
		return 0;
	}
	if (errno == EPERM && (tracer = tracer_of(t->pid)) > 0 && tracer != getpid())
		return hp_err_set(err, "process %d: already traced by process %d (a debugger or another "
				  "hpapply); detach it first", (int)t->pid, tracer);
	return hp_err_set(err, "process %d: ptrace not permitted: %s (%s)", (int)t->pid,
			  strerror(errno), ptrace_hint(errno));
}

static int refresh_regs(struct tracee_thread *th, struct hp_err *err, pid_t pid)
{
	if (ptrace(PTRACE_GETREGS, th->tid, NULL, &th->regs) < 0)
		return hp_err_set(err, "process %d: cannot read the registers of thread %d: %s",
				  (int)pid, (int)th->tid, strerror(errno));
	return 0;
}

/*
 * Wait for one thread's next stop.  Returns the waitpid status (stopped),
 * 0 if the thread is gone, -1 on error or timeout.
 */
static int wait_thread(struct tracee *t, struct tracee_thread *th, uint64_t deadline,
		       struct hp_err *err)
{
	for (;;) {
		int st = 0, r;

		arm_alarm(deadline);
		r = waitpid(th->tid, &st, __WALL);
		disarm_alarm();
		if (r < 0 && errno == EINTR) {
			if (now_ns() >= deadline)
				return hp_err_set(err, "process %d: thread %d did not stop within %u ms "
						  "(uninterruptible sleep, or a vfork parent?); try again later",
						  (int)t->pid, (int)th->tid, t->stop_timeout_ms);
			continue;
		}
		if (r < 0 && errno == ECHILD) {
			th->gone = true;
			return 0;
		}
		if (r < 0)
			return hp_err_set(err, "process %d: waiting for thread %d: %s", (int)t->pid,
					  (int)th->tid, strerror(errno));
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			th->gone = true;
			th->stopped = false;
			return 0;
		}
		if (WIFSTOPPED(st))
			return st;
	}
}

/* Wait until th is in the PTRACE_EVENT_STOP our interrupt asked for;
 * signals that come first are delivered to it. */
static int wait_stopped(struct tracee *t, struct tracee_thread *th, uint64_t deadline,
			struct hp_err *err)
{
	for (int n = 0; n < MAX_SIGNALS_WHILE_STOPPING; n++) {
		int st = wait_thread(t, th, deadline, err);

		if (st <= 0)
			return st;
		if ((st >> 16) != 0) {   /* PTRACE_EVENT_STOP (ours, or a group-stop) */
			th->stopped = true;
			return refresh_regs(th, err, t->pid);
		}
		/* a signal-delivery-stop: let the program have its signal */
		if (ptrace(PTRACE_CONT, th->tid, NULL, (void *)(long)WSTOPSIG(st)) < 0 ||
		    ptrace(PTRACE_INTERRUPT, th->tid, NULL, NULL) < 0) {
			if (errno == ESRCH) {
				th->gone = true;
				return 0;
			}
			return hp_err_set(err, "process %d: thread %d: %s", (int)t->pid, (int)th->tid,
					  strerror(errno));
		}
	}
	return hp_err_set(err, "process %d: thread %d keeps receiving signals; cannot stop it; try again later",
			  (int)t->pid, (int)th->tid);
}

/* Seize every listed thread we do not hold yet; *added counts them. */
static int seize_new_threads(struct tracee *t, size_t *added, struct hp_err *err)
{
	char name[64];
	struct dirent *de;
	DIR *d;

	*added = 0;
	snprintf(name, sizeof(name), "/proc/%d/task", (int)t->pid);
	d = opendir(name);
	if (!d)
		return hp_err_set(err, "process %d: no such process (%s: %s)", (int)t->pid, name,
				  strerror(errno));
	while ((de = readdir(d))) {
		char *end;
		long tid = strtol(de->d_name, &end, 10);

		if (*end || tid <= 0 || thread_by_tid(t, (pid_t)tid))
			continue;
		/* a thread that exited (a main thread after pthread_exit stays
		 * a zombie while the others run) never stops: leave it */
		if (task_state(t->pid, (pid_t)tid) == 'Z')
			continue;
		if (seize(t, (pid_t)tid, err) < 0) {
			closedir(d);
			return -1;
		}
		(*added)++;
	}
	closedir(d);
	return 0;
}

static size_t live_threads(const struct tracee *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->nr_threads; i++)
		n += !t->threads[i].gone;
	return n;
}

int tracee_stop(struct tracee *t, struct hp_err *err)
{
	uint64_t deadline = now_ns() + (uint64_t)t->stop_timeout_ms * 1000000ULL;
	size_t added;

	/* a stopped process would be set running by our resume */
	if (t->nr_threads == 0 && task_state(t->pid, t->pid) == 'T')
		return hp_err_set(err, "process %d is stopped (by a signal); hpapply patches running "
				  "processes: continue it first (kill -CONT %d)", (int)t->pid, (int)t->pid);
	t->stops++;
	do {
		/* seizing does not stop a thread: the clock starts at the
		 * first interrupt */
		if (seize_new_threads(t, &added, err) < 0)
			return -1;
		if (!t->stop_began_ns)
			t->stop_began_ns = now_ns();
		for_each_live_thread(t, th)
			if (!th->stopped && ptrace(PTRACE_INTERRUPT, th->tid, NULL, NULL) < 0)
				th->gone = errno == ESRCH;
		for_each_live_thread(t, th)
			if (!th->stopped && wait_stopped(t, th, deadline, err) < 0)
				return -1;
		if (!live_threads(t))
			return hp_err_set(err, "process %d: no live thread (it has exited)", (int)t->pid);
	} while (added);
	return 0;
}

bool tracee_is_stopped(const struct tracee *t)
{
	return t->stop_began_ns != 0;
}

/* Signals that arrived while the thread ran our code go back to it. */
static void requeue_signals(struct tracee *t, struct tracee_thread *th)
{
	for (unsigned i = 0; i < th->nr_pending; i++)
		syscall(SYS_tgkill, t->pid, th->tid, th->pending[i]);
	th->nr_pending = 0;
}

static void account_stop(struct tracee *t)
{
	uint64_t d;

	if (!t->stop_began_ns)
		return;
	d = now_ns() - t->stop_began_ns;
	t->stopped_ns += d;
	if (d > t->longest_stop_ns)
		t->longest_stop_ns = d;
	t->stop_began_ns = 0;
}

int tracee_resume(struct tracee *t, struct hp_err *err)
{
	int ret = 0;

	for_each_live_thread(t, th) {
		if (!th->stopped)
			continue;
		requeue_signals(t, th);
		if (ptrace(PTRACE_CONT, th->tid, NULL, NULL) < 0 && errno != ESRCH && ret == 0)
			ret = hp_err_set(err, "process %d: cannot resume thread %d: %s", (int)t->pid,
					 (int)th->tid, strerror(errno));
		th->stopped = false;
	}
	account_stop(t);
	return ret;
}

void tracee_detach(struct tracee *t)
{
	struct hp_err ignored = { { 0 } };
	bool any = false;

	for_each_live_thread(t, th)
		any |= th->seized;
	if (!any)
		return;
	/* PTRACE_DETACH needs a stopped tracee */
	if (!tracee_is_stopped(t))
		tracee_stop(t, &ignored);
	for_each_live_thread(t, th) {
		if (!th->seized)
			continue;
		requeue_signals(t, th);
		ptrace(PTRACE_DETACH, th->tid, NULL, NULL);
		th->seized = th->stopped = false;
	}
	account_stop(t);
}

int tracee_read(struct tracee *t, uint64_t addr, void *buf, size_t n, struct hp_err *err)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(t->mem_fd, (uint8_t *)buf + got, n - got, (off_t)(addr + got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return hp_err_set(err, "process %d: cannot read %zu bytes at 0x%llx: %s", (int)t->pid,
					  n, (unsigned long long)(addr + got), r < 0 ? strerror(errno) : "unmapped");
		got += (size_t)r;
	}
	return 0;
}

static struct tracee_thread *a_stopped_thread(struct tracee *t)
{
	struct tracee_thread *best = NULL;

	for_each_live_thread(t, th)
		if (th->stopped && (!best || th->tid == t->pid))
			best = th;
	return best;
}

/* Word-wise PTRACE_POKEDATA: for kernels that refuse forced writes
 * through /proc/PID/mem (proc_mem.force_override=never). */
static int poke_bytes(struct tracee *t, uint64_t addr, const uint8_t *buf, size_t n,
		      struct hp_err *err)
{
	struct tracee_thread *th = a_stopped_thread(t);
	uint64_t a = addr & ~7ULL;

	if (!th)
		return hp_err_set(err, "process %d: cannot write at 0x%llx: not stopped", (int)t->pid,
				  (unsigned long long)addr);
	for (; a < addr + n; a += 8) {
		long w;
		uint8_t word[8];

		errno = 0;
		w = ptrace(PTRACE_PEEKDATA, th->tid, (void *)a, NULL);
		if (errno)
			return hp_err_set(err, "process %d: cannot write at 0x%llx: %s", (int)t->pid,
					  (unsigned long long)a, strerror(errno));
		memcpy(word, &w, 8);
		for (unsigned i = 0; i < 8; i++)
			if (a + i >= addr && a + i < addr + n)
				word[i] = buf[a + i - addr];
		memcpy(&w, word, 8);
		if (ptrace(PTRACE_POKEDATA, th->tid, (void *)a, (void *)w) < 0)
			return hp_err_set(err, "process %d: cannot write at 0x%llx: %s", (int)t->pid,
					  (unsigned long long)a, strerror(errno));
	}
	return 0;
}

int tracee_write(struct tracee *t, uint64_t addr, const void *buf, size_t n, struct hp_err *err)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = pwrite(t->mem_fd, (const uint8_t *)buf + done, n - done, (off_t)(addr + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return poke_bytes(t, addr + done, (const uint8_t *)buf + done, n - done, err);
		done += (size_t)r;
	}
	return 0;
}

/* ---- running code in the process ---- */

/* Any "0f 05" in executable memory is a syscall instruction when jumped
 * to directly, whatever instruction it belongs to; the vDSO has some. */
static int find_syscall_insn(struct tracee *t, struct hp_err *err)
{
	struct proc_maps m;
	uint8_t *buf = xmalloc(65536);

	if (maps_read(t->pid, &m, err) < 0) {
		free(buf);
		return -1;
	}
	for (int pass = 0; pass < 2 && !t->syscall_insn; pass++) {
		for (size_t i = 0; i < m.n && !t->syscall_insn; i++) {
			const struct mapping *mp = &m.v[i];
			bool vdso = mp->path && !strcmp(mp->path, "[vdso]");

			if (!mp->x || !mp->r || vdso != (pass == 0))
				continue;
			for (uint64_t a = mp->start; a < mp->end && !t->syscall_insn; a += 65536 - 1) {
				size_t n = mp->end - a < 65536 ? (size_t)(mp->end - a) : 65536;
				struct hp_err ignored = { { 0 } };

				if (n < 2 || tracee_read(t, a, buf, n, &ignored) < 0)
					break;
				for (size_t k = 0; k + 1 < n; k++)
					if (buf[k] == 0x0f && buf[k + 1] == 0x05) {
						t->syscall_insn = a + k;
						break;
					}
			}
		}
	}
	maps_free(&m);
	free(buf);
	if (!t->syscall_insn)
		return hp_err_set(err, "process %d: no syscall instruction in its executable memory", (int)t->pid);
	return 0;
}

/* Resume th with 'how' until it stops with SIGTRAP/SIGSEGV at want_rip;
 * other signals are kept for the thread. */
static int run_until(struct tracee *t, struct tracee_thread *th, int how, int want_sig,
		     uint64_t want_rip, struct user_regs_struct *out, struct hp_err *err)
{
	uint64_t deadline = now_ns() + 1000000000ULL;

	for (int n = 0; n < MAX_SIGNALS_WHILE_STOPPING; n++) {
		int st;

		if (ptrace(how, th->tid, NULL, NULL) < 0)
			return hp_err_set(err, "process %d: thread %d: %s", (int)t->pid, (int)th->tid,
					  strerror(errno));
		st = wait_thread(t, th, deadline, err);
		if (st < 0) {   /* did not come back: take it back */
			struct hp_err ignored = { { 0 } };

			ptrace(PTRACE_INTERRUPT, th->tid, NULL, NULL);
			wait_thread(t, th, now_ns() + 1000000000ULL, &ignored);
			return -1;
		}
		if (st == 0)
			return hp_err_set(err, "process %d: thread %d exited while running injected code",
					  (int)t->pid, (int)th->tid);
		if (ptrace(PTRACE_GETREGS, th->tid, NULL, out) < 0)
			return hp_err_set(err, "process %d: thread %d: %s", (int)t->pid, (int)th->tid,
					  strerror(errno));
		if ((st >> 16) == 0 && WSTOPSIG(st) == want_sig && out->rip == want_rip)
			return 0;
		if ((st >> 16) == 0 && WSTOPSIG(st) == SIGSEGV)
			return hp_err_set(err, "process %d: injected code faulted at 0x%llx", (int)t->pid,
					  (unsigned long long)out->rip);
		if ((st >> 16) == 0 && WSTOPSIG(st) != SIGTRAP && th->nr_pending < ARRAY_SIZE(th->pending))
			th->pending[th->nr_pending++] = WSTOPSIG(st);
	}
	return hp_err_set(err, "process %d: thread %d keeps receiving signals", (int)t->pid, (int)th->tid);
}

static int set_regs(struct tracee *t, struct tracee_thread *th, const struct user_regs_struct *r,
		    struct hp_err *err)
{
	if (ptrace(PTRACE_SETREGS, th->tid, NULL, r) < 0)
		return hp_err_set(err, "process %d: cannot set the registers of thread %d: %s",
				  (int)t->pid, (int)th->tid, strerror(errno));
	return 0;
}

/*
 * orig_rax = -1 tells the kernel the thread is not in a system call, so
 * the restart logic of an interrupted call (nanosleep, read) leaves our
 * registers alone; the saved registers, restored afterwards, still carry
 * the interrupted call, which then restarts as it would have.
 */
int tracee_syscall(struct tracee *t, long nr, const uint64_t args[6], int64_t *ret,
		   struct hp_err *err)
{
	struct tracee_thread *th = a_stopped_thread(t);
	struct user_regs_struct saved, r, after;
	int rc;

	if (!th)
		return hp_err_set(err, "process %d: no stopped thread to run a system call in", (int)t->pid);
	if (!t->syscall_insn && find_syscall_insn(t, err) < 0)
		return -1;
	if (ptrace(PTRACE_GETREGS, th->tid, NULL, &saved) < 0)
		return hp_err_set(err, "process %d: cannot read registers: %s", (int)t->pid, strerror(errno));
	r = saved;
	r.rax = (unsigned long long)nr;
	r.orig_rax = (unsigned long long)-1;
	r.rdi = args[0];
	r.rsi = args[1];
	r.rdx = args[2];
	r.r10 = args[3];
	r.r8 = args[4];
	r.r9 = args[5];
	r.rip = t->syscall_insn;
	if (set_regs(t, th, &r, err) < 0)
		return -1;
	rc = run_until(t, th, PTRACE_SINGLESTEP, SIGTRAP, t->syscall_insn + 2, &after, err);
	if (rc == 0)
		*ret = (int64_t)after.rax;
	if (set_regs(t, th, &saved, err) < 0)
		return -1;
	return rc;
}

int tracee_call(struct tracee *t, uint64_t func, uint64_t *ret, struct hp_err *err)
{
	struct tracee_thread *th = a_stopped_thread(t);
	struct user_regs_struct saved, r, after;
	uint64_t zero = 0;
	int rc;

	if (!th)
		return hp_err_set(err, "process %d: no stopped thread to run code in", (int)t->pid);
	if (ptrace(PTRACE_GETREGS, th->tid, NULL, &saved) < 0)
		return hp_err_set(err, "process %d: cannot read registers: %s", (int)t->pid, strerror(errno));
	r = saved;
	/* below the red zone, 16-byte aligned at the call as the ABI wants */
	r.rsp = ((saved.rsp - 1024) & ~15ULL) - 8;
	if (tracee_write(t, r.rsp, &zero, sizeof(zero), err) < 0)
		return -1;
	r.rip = func;
	r.orig_rax = (unsigned long long)-1;
	r.rax = r.rdi = r.rsi = r.rdx = 0;
	if (set_regs(t, th, &r, err) < 0)
		return -1;
	rc = run_until(t, th, PTRACE_CONT, SIGSEGV, 0, &after, err);
	if (rc == 0)
		*ret = after.rax;
	if (set_regs(t, th, &saved, err) < 0)
		return -1;
	return rc;
}
