/*
 * tracee.c - attach, stop, resume and detach every thread of a process;
 * read and write its memory (tracee.h).  Running code in it: inject.c.
 *
 * Waiting is bounded: a thread that does not stop (an uninterruptible
 * sleep, a vfork parent) makes the operation fail after stop_timeout_ms
 * instead of hanging; SIGALRM interrupts the blocking waitpid().
 *
 * Signals: a thread may report a signal-delivery-stop instead of our
 * interrupt.  We let it have the signal at once (PTRACE_CONT with it) and
 * interrupt it again; while it runs the stub, it gets its signals as they
 * come (a handler runs on top of the stub and returns into it).  hpapply
 * never holds a signal back: one held by a tracer that dies is lost.
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
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_SIGNALS_WHILE_STOPPING 64

/* Every request that stops, resumes or changes the process goes through
 * here (and tracee_ptrace()), so the test hook can end hpapply before any
 * of them. */
static void step(struct tracee *t)
{
	t->steps++;
	if (t->kill_at && t->steps == t->kill_at)
		raise(SIGKILL);
	if (t->stop_at && t->steps == t->stop_at)
		raise(SIGSTOP);
}

long tracee_ptrace(struct tracee *t, int req, pid_t tid, void *addr, void *data)
{
	step(t);
	return ptrace((enum __ptrace_request)req, tid, addr, data);
}

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
	if (getenv("HPAPPLY_TEST_KILL_AT"))
		t->kill_at = strtoul(getenv("HPAPPLY_TEST_KILL_AT"), NULL, 10);
	if (getenv("HPAPPLY_TEST_STOP_AT"))
		t->stop_at = strtoul(getenv("HPAPPLY_TEST_STOP_AT"), NULL, 10);
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

/* The command name of a process ("" if unknown). */
static void comm_of(pid_t pid, char *buf, size_t n)
{
	char name[64];
	FILE *f;

	buf[0] = '\0';
	snprintf(name, sizeof(name), "/proc/%d/comm", (int)pid);
	f = fopen(name, "re");
	if (!f)
		return;
	if (fgets(buf, (int)n, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

pid_t tracee_hpapply_at_work(pid_t pid)
{
	int tracer = tracer_of(pid);
	char comm[64];

	if (tracer <= 0 || tracer == getpid())
		return 0;
	comm_of(tracer, comm, sizeof(comm));
	return strcmp(comm, "hpapply") ? 0 : tracer;
}

static int seize(struct tracee *t, pid_t tid, struct hp_err *err)
{
	struct tracee_thread *th;
	int tracer;

	GROW(t->threads, t->cap_threads, t->nr_threads + 1);
	th = &t->threads[t->nr_threads++];
	memset(th, 0, sizeof(*th));
	th->tid = tid;
	/* no PTRACE_O_EXITKILL: if hpapply dies, the process must live on */
	if (tracee_ptrace(t, PTRACE_SEIZE, tid, NULL, (void *)(long)PTRACE_O_TRACESYSGOOD) == 0) {
		th->seized = true;
		return 0;
	}
	if (errno == ESRCH) {   /* exited meanwhile */
		th->gone = true;
		return 0;
	}
	if (errno == EPERM && (tracer = tracer_of(t->pid)) > 0 && tracer != getpid()) {
		char comm[64];

		comm_of(tracer, comm, sizeof(comm));
		if (!strcmp(comm, "hpapply"))
			return hp_err_set(err, "process %d: another hpapply (pid %d) is working on it; "
					  "try again when it has finished", (int)t->pid, tracer);
		return hp_err_set(err, "process %d: already traced by process %d (%s); detach it first",
				  (int)t->pid, tracer, comm[0] ? comm : "a debugger?");
	}
	return hp_err_set(err, "process %d: ptrace not permitted: %s (%s)", (int)t->pid,
			  strerror(errno), ptrace_hint(errno));
}

static int refresh_regs(struct tracee *t, struct tracee_thread *th, struct hp_err *err)
{
	if (tracee_ptrace(t, PTRACE_GETREGS, th->tid, NULL, &th->regs) < 0)
		return hp_err_set(err, "process %d: cannot read the registers of thread %d: %s",
				  (int)t->pid, (int)th->tid, strerror(errno));
	return 0;
}

/*
 * Wait for one thread's next stop.  Returns the waitpid status (stopped),
 * 0 if the thread is gone, -1 on error or timeout.
 */
int tracee_wait_thread(struct tracee *t, struct tracee_thread *th, uint64_t deadline,
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
		int st = tracee_wait_thread(t, th, deadline, err);

		if (st <= 0)
			return st;
		if ((st >> 16) != 0) {   /* PTRACE_EVENT_STOP (ours, or a group-stop) */
			th->stopped = true;
			return refresh_regs(t, th, err);
		}
		/* a signal-delivery-stop: let the program have its signal (a
		 * syscall-stop, left from a call we followed: just go on) */
		if (tracee_ptrace(t, PTRACE_CONT, th->tid, NULL,
			    (void *)(long)(WSTOPSIG(st) == (SIGTRAP | 0x80) ? 0 : WSTOPSIG(st))) < 0 ||
		    tracee_ptrace(t, PTRACE_INTERRUPT, th->tid, NULL, NULL) < 0) {
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
	if (t->stops == 0 && task_state(t->pid, t->pid) == 'T')
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
			if (!th->stopped && tracee_ptrace(t, PTRACE_INTERRUPT, th->tid, NULL, NULL) < 0)
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
		if (tracee_ptrace(t, PTRACE_CONT, th->tid, NULL, NULL) < 0 && errno != ESRCH && ret == 0)
			ret = hp_err_set(err, "process %d: cannot resume thread %d: %s", (int)t->pid,
					 (int)th->tid, strerror(errno));
		th->stopped = false;
	}
	account_stop(t);
	return ret;
}

/* Stop one thread (the others run on). */
int tracee_stop_thread(struct tracee *t, struct tracee_thread *th, struct hp_err *err)
{
	uint64_t deadline = now_ns() + (uint64_t)t->stop_timeout_ms * 1000000ULL;

	if (th->stopped || th->gone)
		return 0;
	if (tracee_ptrace(t, PTRACE_INTERRUPT, th->tid, NULL, NULL) < 0) {
		if (errno == ESRCH) {
			th->gone = true;
			return 0;
		}
		return hp_err_set(err, "process %d: thread %d: %s", (int)t->pid, (int)th->tid, strerror(errno));
	}
	return wait_stopped(t, th, deadline, err);
}

void tracee_detach(struct tracee *t)
{
	bool stopped = tracee_is_stopped(t);

	for_each_live_thread(t, th) {
		struct hp_err ignored = { { 0 } };

		if (!th->seized)
			continue;
		/* PTRACE_DETACH needs a stopped tracee */
		if (!th->stopped && tracee_stop_thread(t, th, &ignored) < 0)
			continue;   /* left attached: it goes when we exit */
		if (!th->gone)
			tracee_ptrace(t, PTRACE_DETACH, th->tid, NULL, NULL);
		th->seized = th->stopped = false;
	}
	if (stopped)
		account_stop(t);
}

int tracee_anchor(struct tracee *t, struct hp_err *err)
{
	char name[64];
	struct dirent *de;
	pid_t tid = 0;
	DIR *d;

	if (task_state(t->pid, t->pid) == 'T')
		return hp_err_set(err, "process %d is stopped (by a signal); hpapply patches running "
				  "processes: continue it first (kill -CONT %d)", (int)t->pid, (int)t->pid);
	/* the main thread, unless it has exited (pthread_exit): then the
	 * first live thread listed */
	if (task_state(t->pid, t->pid) != 'Z') {
		tid = t->pid;
	} else {
		snprintf(name, sizeof(name), "/proc/%d/task", (int)t->pid);
		d = opendir(name);
		while (d && (de = readdir(d)) && !tid) {
			long n = strtol(de->d_name, NULL, 10);

			if (n > 0 && task_state(t->pid, (pid_t)n) != 'Z')
				tid = (pid_t)n;
		}
		if (d)
			closedir(d);
	}
	if (!tid)
		return hp_err_set(err, "process %d: no live thread (it has exited)", (int)t->pid);
	if (seize(t, tid, err) < 0)
		return -1;
	if (t->threads[t->nr_threads - 1].gone)
		return hp_err_set(err, "process %d: its thread %d exited meanwhile; try again", (int)t->pid,
				  (int)tid);
	return 0;
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

struct tracee_thread *tracee_stopped_thread(struct tracee *t)
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
	struct tracee_thread *th = tracee_stopped_thread(t);
	uint64_t a = addr & ~7ULL;

	if (!th)
		return hp_err_set(err, "process %d: cannot write at 0x%llx: not stopped", (int)t->pid,
				  (unsigned long long)addr);
	for (; a < addr + n; a += 8) {
		long w;
		uint8_t word[8];

		errno = 0;
		w = tracee_ptrace(t, PTRACE_PEEKDATA, th->tid, (void *)a, NULL);
		if (errno)
			return hp_err_set(err, "process %d: cannot write at 0x%llx: %s", (int)t->pid,
					  (unsigned long long)a, strerror(errno));
		memcpy(word, &w, 8);
		for (unsigned i = 0; i < 8; i++)
			if (a + i >= addr && a + i < addr + n)
				word[i] = buf[a + i - addr];
		memcpy(&w, word, 8);
		if (tracee_ptrace(t, PTRACE_POKEDATA, th->tid, (void *)a, (void *)w) < 0)
			return hp_err_set(err, "process %d: cannot write at 0x%llx: %s", (int)t->pid,
					  (unsigned long long)a, strerror(errno));
	}
	return 0;
}

int tracee_write(struct tracee *t, uint64_t addr, const void *buf, size_t n, struct hp_err *err)
{
	size_t done = 0;

	step(t);
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
