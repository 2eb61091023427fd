/*
 * session.c - one process under hpapply: open, stop, wait for a safe
 * moment, change memory with an undo log, keep the record (session.h).
 */
#include "session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 1U
#endif

void outcome_free(struct outcome *o)
{
	for (size_t i = 0; i < o->nr_funcs; i++) {
		free(o->funcs[i].name);
		free(o->funcs[i].file);
	}
	free(o->funcs);
	free(o->module);
	free(o->warning);
	free(o->unwind_notes);
	record_free(&o->listed);
	memset(o, 0, sizeof(*o));
}

/* Ctrl-C (or a terminal closing) while the threads are stopped and half
 * the jumps are written would leave the process half patched: the signals
 * that end hpapply wait until the session is closed.  (SIGKILL cannot be
 * held off; the kernel then detaches and the process runs on as the last
 * completed write left it.) */
static void hold_signals(struct session *s)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &set, &s->saved_mask);
}

int session_open(struct session *s, pid_t pid, const struct hpapply_options *o, bool hold, struct hp_err *err)
{
	memset(s, 0, sizeof(*s));
	s->tr.mem_fd = -1;
	s->pid = pid;
	s->opt = o;
	s->started_ns = now_ns();
	hold_signals(s);
	if (tracee_open(&s->tr, pid, err) < 0 || (hold && tracee_anchor(&s->tr, err) < 0) ||
	    maps_read(pid, &s->maps, err) < 0 ||
	    record_read(&s->tr, &s->maps, &s->rec, err) < 0)
		return -1;
	if (modules_scan(pid, &s->maps, &s->mods, err) < 0)
		return -1;
	s->record_addr = s->rec.present ? s->rec.map_addr : 0;
	s->mods.symbol_files = o->symbol_files;
	s->mods.nr_symbol_files = o->nr_symbol_files;
	s->mods.debug_dir = o->debug_dir;
	return 0;
}

int session_check_seccomp(struct session *s, struct hp_err *err)
{
	char name[64], line[256];
	int mode = 0;
	FILE *f;

	if (s->opt->allow_seccomp)
		return 0;
	snprintf(name, sizeof(name), "/proc/%d/status", (int)s->pid);
	f = fopen(name, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Seccomp: %d", &mode) == 1)
			break;
	fclose(f);
	if (mode == 2)
		return hp_err_set(err, "process %d runs under a seccomp filter, which may forbid (or kill the "
				  "process for) the system calls hpapply runs in it: mmap, mprotect, munmap, "
				  "memfd_create, ftruncate, close, getpid; give --allow-seccomp if the filter allows them",
				  (int)s->pid);
	return 0;
}

void session_close(struct session *s, struct outcome *out)
{
	tracee_close(&s->tr);
	consistency_release(s->unwinder);   /* after the threads run again: it takes a while */
	if (s->started_ns)
		sigprocmask(SIG_SETMASK, &s->saved_mask, NULL);
	if (out) {
		out->stopped_ns = s->tr.stopped_ns;
		out->longest_stop_ns = s->tr.longest_stop_ns;
		out->total_ns = now_ns() - s->started_ns;
	}
	for (size_t i = 0; i < s->nr_undo; i++)
		free(s->undo[i].bytes);
	free(s->undo);
	free(s->unmap);
	maps_free(&s->maps);
	modules_free(&s->mods);
	record_free(&s->rec);
}

int session_check_unfinished(struct session *s, struct hp_err *err)
{
	const struct rec_pkg *u = record_unfinished(&s->rec);
	char id[33];

	if (!u)
		return 0;
	hpk_id_to_hex(u->id, id);
	return hp_err_set(err, "process %d: package %s was left %s by an hpapply (pid %u) that did not finish; "
			  "run hpapply -p %d --repair first", (int)s->pid, id, rec_state_name(u->state), u->pid,
			  (int)s->pid);
}

int session_resume(struct session *s, struct hp_err *err)
{
	return tracee_resume(&s->tr, err);
}

static bool same_record(const struct record *a, const struct record *b)
{
	uint8_t *x, *y;
	size_t nx, ny;
	bool same;

	if (a->present != b->present || a->map_addr != b->map_addr)
		return false;
	record_encode(a, &x, &nx);
	record_encode(b, &y, &ny);
	same = nx == ny && !memcmp(x, y, nx);
	free(x);
	free(y);
	return same;
}

int session_stop(struct session *s, struct hp_err *err)
{
	struct record again;

	/* the modules' files and CFI are read while the program runs */
	if (!s->unwinder)
		s->unwinder = consistency_prepare(s->pid);
	if (tracee_stop(&s->tr, err) < 0)
		return -1;
	maps_free(&s->maps);
	if (maps_read(s->pid, &s->maps, err) < 0 || record_read(&s->tr, &s->maps, &again, err) < 0)
		return -1;
	if (!same_record(&s->rec, &again)) {
		record_free(&again);
		return hp_err_set(err, "process %d: its hpapply record changed meanwhile (another hpapply?); "
				  "try again", (int)s->pid);
	}
	record_free(&again);
	return 0;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int session_wait_safe(struct session *s, const struct guard *g, size_t n, struct outcome *out,
		      const char *verb, struct hp_err *err)
{
	uint64_t deadline = now_ns() + (uint64_t)s->opt->timeout_ms * 1000000ULL;

	for (unsigned attempt = 1;; attempt++) {
		struct strbuf why, notes;
		int r;

		sb_init(&why);
		sb_init(&notes);
		out->attempts = attempt;
		r = consistency_check_noted(&s->tr, s->unwinder, &s->maps, g, n, &why, &notes, err);
		free(out->unwind_notes);
		out->unwind_notes = notes.len ? sb_detach(&notes) : NULL;
		sb_free(&notes);
		if (r <= 0) {
			sb_free(&why);
			return r < 0 ? HP_EXIT_ERROR : HP_EXIT_OK;
		}
		if (now_ns() >= deadline) {
			hp_err_set(err, "process %d: not %s: %s (still after %u ms and %u checks; try again, "
				   "or give more time with --timeout)", (int)s->pid, verb, why.buf,
				   s->opt->timeout_ms, attempt);
			sb_free(&why);
			return HP_EXIT_DIFF;
		}
		sb_free(&why);
		/* 1..10 ms, varied so a periodic thread is not always caught
		 * at the same point of its period */
		if (tracee_resume(&s->tr, err) < 0)
			return HP_EXIT_ERROR;
		sleep_ms(1 + (attempt * 7u) % 10);
		if (tracee_stop(&s->tr, err) < 0)
			return HP_EXIT_ERROR;
		maps_free(&s->maps);
		if (maps_read(s->pid, &s->maps, err) < 0)
			return HP_EXIT_ERROR;
	}
}

/* ---- changes, with undo ---- */

static struct undo_step *push_undo(struct session *s)
{
	GROW(s->undo, s->cap_undo, s->nr_undo + 1);
	memset(&s->undo[s->nr_undo], 0, sizeof(s->undo[0]));
	return &s->undo[s->nr_undo++];
}

int session_write(struct session *s, uint64_t addr, const void *buf, size_t n, struct hp_err *err)
{
	uint8_t *old = xmalloc(n);
	struct undo_step *u;

	if (tracee_read(&s->tr, addr, old, n, err) < 0) {
		free(old);
		return -1;
	}
	if (tracee_write(&s->tr, addr, buf, n, err) < 0) {
		/* a partial write may have happened: put the old bytes back */
		struct hp_err ignored = { { 0 } };
		tracee_write(&s->tr, addr, old, n, &ignored);
		free(old);
		return -1;
	}
	u = push_undo(s);
	u->kind = UNDO_BYTES;
	u->addr = addr;
	u->len = n;
	u->bytes = old;
	return 0;
}

static void place_stub(struct session *s)
{
	uint64_t addr;

	if (modules_exec_slack(&s->mods, &s->maps, TRACEE_STUB_SIZE, &addr))
		tracee_set_stub(&s->tr, addr);
}

static int remote(struct session *s, long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
		  uint64_t a4, uint64_t a5, int64_t *ret, struct hp_err *err)
{
	const uint64_t args[6] = { a0, a1, a2, a3, a4, a5 };

	if (!s->tr.stub)
		place_stub(s);
	return tracee_syscall(&s->tr, nr, args, ret, err);
}


static bool is_error_return(int64_t r)
{
	return r < 0 && r > -4096;
}

int session_mmap(struct session *s, uint64_t hint, uint64_t len, int prot, uint64_t *addr,
		 struct hp_err *err)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | (hint ? MAP_FIXED_NOREPLACE : 0);
	int64_t r;
	struct undo_step *u;

	if (remote(s, SYS_mmap, hint, len, (uint64_t)prot, (uint64_t)flags, (uint64_t)-1, 0, &r, err) < 0)
		return -1;
	if (is_error_return(r)) {
		*addr = 0;
		return r == -EEXIST ? 1 : hp_err_set(err, "process %d: mmap of %llu bytes failed: %s",
						     (int)s->pid, (unsigned long long)len, strerror((int)-r));
	}
	if (hint && (uint64_t)r != hint) {   /* a kernel older than 4.17 took it as a hint only */
		int64_t ignored;
		remote(s, SYS_munmap, (uint64_t)r, len, 0, 0, 0, 0, &ignored, err);
		*addr = 0;
		return 1;
	}
	*addr = (uint64_t)r;
	u = push_undo(s);
	u->kind = UNDO_UNMAP;
	u->addr = *addr;
	u->len = len;
	return 0;
}

int session_mprotect(struct session *s, uint64_t addr, uint64_t len, int prot, struct hp_err *err)
{
	int64_t r;

	if (remote(s, SYS_mprotect, addr, len, (uint64_t)prot, 0, 0, 0, &r, err) < 0)
		return -1;
	if (is_error_return(r))
		return hp_err_set(err, "process %d: mprotect at 0x%llx failed: %s", (int)s->pid,
				  (unsigned long long)addr, strerror((int)-r));
	return 0;
}

int session_munmap(struct session *s, uint64_t addr, uint64_t len, struct hp_err *err)
{
	int64_t r;

	if (remote(s, SYS_munmap, addr, len, 0, 0, 0, 0, &r, err) < 0)
		return -1;
	if (is_error_return(r))
		return hp_err_set(err, "process %d: munmap at 0x%llx failed: %s", (int)s->pid,
				  (unsigned long long)addr, strerror((int)-r));
	return 0;
}

/* A private, read-only mapping of a memfd named RECORD_NAME: the name
 * finds it again; private and read-only so the program cannot change it
 * (ptrace writes make private copies of the pages). */
static int create_record_mapping(struct session *s, uint64_t *addr, struct hp_err *err)
{
	struct undo_step *u;
	int64_t r;

	if (!s->tr.stub)
		place_stub(s);
	if (tracee_map_memfd(&s->tr, RECORD_NAME, RECORD_MAP_SIZE, &r, err) < 0)
		return -1;
	/* no memfd (an old kernel, a filter): an anonymous mapping of the
	 * record's size, found again by its magic (record_read) */
	if (is_error_return(r) &&
	    remote(s, SYS_mmap, 0, RECORD_MAP_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0,
		   &r, err) < 0)
		return -1;
	if (is_error_return(r))
		return hp_err_set(err, "process %d: mapping the record failed: %s", (int)s->pid,
				  strerror((int)-r));
	*addr = (uint64_t)r;
	u = push_undo(s);
	u->kind = UNDO_UNMAP;
	u->addr = *addr;
	u->len = RECORD_MAP_SIZE;
	return 0;
}

int session_prepare_record(struct session *s, struct hp_err *err)
{
	if (s->record_addr)
		return 0;
	return create_record_mapping(s, &s->record_addr, err);
}

int session_write_record(struct session *s, struct record *next, struct hp_err *err)
{
	int slot = s->rec.slot == 0 ? 1 : 0;
	uint8_t *buf;
	size_t len;
	int ret;

	if (!s->record_addr)
		return hp_err_set(err, "process %d: no record mapping to write to", (int)s->pid);
	next->present = true;
	next->map_addr = s->record_addr;
	next->map_size = RECORD_MAP_SIZE;
	next->generation = s->rec.generation + 1;
	next->slot = slot;
	record_encode(next, &buf, &len);
	if (len > RECORD_SLOT_SIZE) {
		free(buf);
		return hp_err_set(err, "process %d: the hpapply record would need %zu bytes, more than its %u; "
				  "revert some packages first", (int)s->pid, len, RECORD_SLOT_SIZE);
	}
	ret = session_write(s, s->record_addr + (uint64_t)slot * RECORD_SLOT_SIZE, buf, len, err);
	free(buf);
	if (ret == 0) {   /* what the process holds now */
		record_free(&s->rec);
		s->rec = *next;
		memset(next, 0, sizeof(*next));
	}
	return ret;
}

int session_drop_record(struct session *s, struct hp_err *err)
{
	if (!s->record_addr || !record_is_empty(&s->rec))
		return 0;
	if (session_munmap(s, s->record_addr, s->rec.present ? s->rec.map_size : RECORD_MAP_SIZE, err) < 0)
		return -1;
	s->record_addr = 0;
	return 0;
}

/* ---- releasing memory ---- */

static void plan_unmap(struct session *s, uint64_t addr, uint64_t size, const uint8_t id[16])
{
	s->unmap = xrealloc(s->unmap, (s->nr_unmap + 1) * sizeof(*s->unmap));
	s->unmap[s->nr_unmap].addr = addr;
	s->unmap[s->nr_unmap].size = size;
	memcpy(s->unmap[s->nr_unmap].id, id, 16);
	s->nr_unmap++;
}

static void keep_retained(struct record *next, uint64_t addr, uint64_t size, const uint8_t id[16])
{
	next->retained = xrealloc(next->retained, (next->nr_retained + 1) * sizeof(*next->retained));
	next->retained[next->nr_retained].addr = addr;
	next->retained[next->nr_retained].size = size;
	memcpy(next->retained[next->nr_retained].id, id, 16);
	next->nr_retained++;
}

/* Does a register or stack word of a thread point into [lo, hi)?  An
 * error counts as yes: keeping memory is the safe side. */
static bool pointed_into(struct session *s, uint64_t lo, uint64_t hi)
{
	struct guard g = { lo, hi, GUARD_REGION, "data" };
	struct hp_err ignored = { { 0 } };
	struct strbuf why;
	int r;

	sb_init(&why);
	r = consistency_check_noted(&s->tr, s->unwinder, &s->maps, &g, 1, &why, NULL, &ignored);
	sb_free(&why);
	return r != 0;
}

void session_plan_release(struct session *s, const struct rec_pkg *pkg, struct record *next,
			  struct outcome *out)
{
	uint64_t data = rec_pkg_data_start(pkg), end = pkg->region + pkg->region_size;

	if (data < end && pointed_into(s, data, end)) {
		plan_unmap(s, pkg->region, data - pkg->region, pkg->id);
		keep_retained(next, data, end - data, pkg->id);
		out->data_retained = true;
	} else {
		plan_unmap(s, pkg->region, pkg->region_size, pkg->id);
	}
}

void session_plan_collect(struct session *s, struct record *next)
{
	for (size_t i = 0; i < s->rec.nr_retained; i++) {
		const struct rec_retained *k = &s->rec.retained[i];

		if (!maps_all_anonymous(&s->maps, k->addr, k->addr + k->size))
			continue;   /* no longer ours (unmapped by the program?): forget it */
		if (pointed_into(s, k->addr, k->addr + k->size))
			keep_retained(next, k->addr, k->size, k->id);
		else
			plan_unmap(s, k->addr, k->size, k->id);
	}
}

void session_unmap_planned(struct session *s, struct outcome *out)
{
	for (size_t i = 0; i < s->nr_unmap; i++) {
		struct hp_err e = { { 0 } };

		if (session_munmap(s, s->unmap[i].addr, s->unmap[i].size, &e) < 0 && !out->warning)
			out->warning = xasprintf("%s (the memory stays mapped, unused)", e.msg);
	}
	s->nr_unmap = 0;
}

void session_rollback(struct session *s)
{
	while (s->nr_undo) {
		struct undo_step *u = &s->undo[--s->nr_undo];
		struct hp_err ignored = { { 0 } };

		if (u->kind == UNDO_BYTES)
			tracee_write(&s->tr, u->addr, u->bytes, u->len, &ignored);
		else
			session_munmap(s, u->addr, u->len, &ignored);
		free(u->bytes);
	}
}

void session_commit(struct session *s)
{
	for (size_t i = 0; i < s->nr_undo; i++)
		free(s->undo[i].bytes);
	s->nr_undo = 0;
}

int session_finish_release(struct session *s, int st, struct outcome *out)
{
	if (st == HP_EXIT_OK) {
		struct hp_err ignored = { { 0 } };

		session_commit(s);
		session_resume(s, &ignored);
		session_unmap_planned(s, out);
		if (!s->opt->dry_run)
			session_drop_record(s, &ignored);
	} else {
		session_rollback(s);
	}
	for_each_live_thread(&s->tr, th)
		out->threads++;
	session_close(s, out);
	return st;
}
