/*
 * apply.c - apply a package to a running process (session.h).
 *
 * Order, chosen so that everything that can fail happens before anything
 * the program could notice, and so that the threads are stopped together
 * only for the stack check and the jump writes:
 *  1. without attaching (but holding the anchor thread, the lock): read
 *     maps and record, refuse a package already applied, find the module,
 *     check fingerprints, resolve symbols, lay out the region and relocate
 *     it at a candidate address (a relocation that cannot be resolved
 *     refuses the package here);
 *  2. while the program runs (each system call borrows one thread, see
 *     tracee_syscall()): map the region near the module, call IFUNC
 *     resolvers, relocate for the real address, write it, set its
 *     protections, create the record mapping if there is none, and write
 *     the record with this package PENDING (the journal: a later
 *     hpapply --repair can undo what follows);
 *  3. stop every thread; check the record and the fingerprints again; wait
 *     until no thread is in a function being replaced (or in the code of
 *     a package being retired);
 *  4. with the threads still stopped: restore the entries a retired
 *     package redirected and this one does not, write a 5-byte jump at
 *     each replaced function's entry (the commit point), write the record
 *     with this package APPLIED; then let the threads go and unmap the
 *     retired package (its data part stays while a thread may point into
 *     it, see session_plan_release()).
 * Any failure in 2-4 replays the undo log: the process is as it was.
 *
 * Cumulative packages: a package for a module that already has one
 * applied replaces it (atomic replace, as Linux livepatch does): the old
 * package's jumps go, the new one's come, in one stop.  Reverting the new
 * one later goes back to the original code, not to the package it
 * replaced (whose memory is gone): apply that one again if it is wanted.
 */
#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base.h"
#include "place.h"
#include "resolve.h"
#include "session.h"

struct apply_run {
	struct session s;
	const struct hpk *p;
	struct resolution res;
	struct layout l;
	const struct rec_pkg *retired;
	struct guard *guards;
	size_t nr_guards;
	char **labels;
	uint64_t base;
	uint8_t *image;
	struct outcome *out;
};

static bool replaces_something(const struct hpk *p)
{
	for (uint32_t i = 0; i < p->nr_funcs; i++)
		if (p->funcs[i].kind == HPK_FUNC_REPLACE)
			return true;
	return false;
}

/* A function shorter than the jump: the jump runs into the padding after
 * it, which is only allowed when no other symbol starts there. */
static int check_jump_room(struct apply_run *a, struct hp_err *err)
{
	for (uint32_t i = 0; i < a->p->nr_funcs; i++) {
		const struct hpk_func *f = &a->p->funcs[i];

		if (f->kind != HPK_FUNC_REPLACE || f->old_size >= JUMP_SIZE)
			continue;
		if (module_symbol_starts_within(a->res.mod, a->res.old_addr[i] - a->res.mod->bias, JUMP_SIZE)) {
			hp_err_set(err, "%s: function '%s' is %u bytes and another symbol starts right after it; "
				   "no room for the %d-byte jump; not applied", a->res.mod->path, f->name,
				   f->old_size, JUMP_SIZE);
			return HP_EXIT_DIFF;
		}
	}
	return HP_EXIT_OK;
}

/* The package applied to the same module, which this one replaces. */
static const struct rec_pkg *find_retired(const struct record *rec, const struct module *mod)
{
	for (size_t i = 0; i < rec->nr_pkgs; i++)
		if (!strcmp(rec->pkgs[i].module, mod->path) && rec->pkgs[i].module_bias == mod->bias)
			return &rec->pkgs[i];
	return NULL;
}

static void add_guard(struct apply_run *a, uint64_t lo, uint64_t hi, enum guard_kind kind, char *what)
{
	a->guards = xrealloc(a->guards, (a->nr_guards + 1) * sizeof(*a->guards));
	a->labels = xrealloc(a->labels, (a->nr_guards + 1) * sizeof(*a->labels));
	a->labels[a->nr_guards] = what;
	a->guards[a->nr_guards++] = (struct guard){ lo, hi, kind, what };
}

static void build_guards(struct apply_run *a)
{
	for (uint32_t i = 0; i < a->p->nr_funcs; i++) {
		const struct hpk_func *f = &a->p->funcs[i];
		uint32_t len = f->old_size > JUMP_SIZE ? f->old_size : JUMP_SIZE;

		if (f->kind == HPK_FUNC_REPLACE)
			add_guard(a, a->res.old_addr[i], a->res.old_addr[i] + len, GUARD_CODE,
				  xasprintf("function %s", f->name));
	}
	for (size_t i = 0; i < a->res.nr_cold; i++)
		add_guard(a, a->res.cold[i].lo, a->res.cold[i].hi, GUARD_CODE, xstrdup(a->res.cold[i].what));
	if (a->retired) {
		char id[33];

		hpk_id_to_hex(a->retired->id, id);
		add_guard(a, a->retired->region, rec_pkg_data_start(a->retired), GUARD_CODE,
			  xasprintf("the code of package %s (being replaced)", id));
	}
}

static void fill_outcome(struct apply_run *a)
{
	struct outcome *o = a->out;

	o->module = xstrdup(a->res.mod->path);
	o->module_bias = a->res.mod->bias;
	o->region = a->base;
	o->region_size = a->l.size;
	if (a->retired)
		hpk_id_to_hex(a->retired->id, o->retired);
	for (uint32_t i = 0; i < a->p->nr_funcs; i++) {
		const struct hpk_func *f = &a->p->funcs[i];

		if (f->kind != HPK_FUNC_REPLACE)
			continue;
		o->funcs = xrealloc(o->funcs, (o->nr_funcs + 1) * sizeof(*o->funcs));
		o->funcs[o->nr_funcs++] = (struct outcome_func){
			.name = xstrdup(f->name),
			.file = xstrdup(func_source(a->p, f) ? func_source(a->p, f) : ""),
			.addr = a->res.old_addr[i],
			.target = a->base ? a->base + a->l.func_off[i] : 0,
			.size = f->old_size,
		};
	}
}

/* Step 1: everything that needs no attach. */
static int prepare(struct apply_run *a, pid_t pid, const struct hpapply_options *o, struct hp_err *err)
{
	const struct hpk *p = a->p;
	uint64_t cand;
	int st;

	if (!replaces_something(p)) {
		hp_err_set(err, "package %s replaces no function; nothing to apply", a->out->id);
		return HP_EXIT_DIFF;
	}
	if (session_open(&a->s, pid, o, true, err) < 0 || session_check_seccomp(&a->s, err) < 0)
		return HP_EXIT_ERROR;
	if (session_check_unfinished(&a->s, err) < 0)
		return HP_EXIT_ERROR;
	if (record_find_id(&a->s.rec, p->id)) {
		hp_err_set(err, "process %d: package %s is already applied (hpapply -p %d --list)", (int)pid,
			   a->out->id, (int)pid);
		return HP_EXIT_DIFF;
	}
	st = resolve_module(&a->s.mods, &a->s.tr, &a->s.rec, p, o->module, &a->res, err);
	if (st == HP_EXIT_OK)
		st = check_jump_room(a, err);
	if (st == HP_EXIT_OK)
		st = resolve_externs(&a->s.mods, p, &a->res, err);
	if (st != HP_EXIT_OK)
		return st;
	a->retired = find_retired(&a->s.rec, a->res.mod);
	layout_init(&a->l, p);
	a->image = xmalloc(a->l.size);
	if (place_candidates(&a->s.maps, a->res.mod->lo, a->res.mod->hi, a->l.size, &cand, 1) == 0) {
		hp_err_set(err, "process %d: no free address range of %llu bytes within 2 GiB of %s",
			   (int)pid, (unsigned long long)a->l.size, a->res.mod->path);
		return HP_EXIT_ERROR;
	}
	/* every relocation resolves at a candidate address (an IFUNC's
	 * resolver stands in for its implementation: same library, same reach) */
	if (place_relocate(p, &a->l, cand, a->res.ext, a->image, err) < 0) {
		char msg[sizeof(err->msg)];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		hp_err_clear(err);
		hp_err_set(err, "process %d: %s; not applied", (int)pid, msg);
		return HP_EXIT_DIFF;
	}
	build_guards(a);
	return HP_EXIT_OK;
}

static void new_rec_pkg(struct apply_run *a, struct rec_pkg *e, uint64_t seq);

/* The record with this package PENDING, before any jump is written. */
static int write_journal(struct apply_run *a, struct hp_err *err)
{
	struct record next;
	struct rec_pkg *mine;
	int ret;

	record_copy(&next, &a->s.rec);
	next.pkgs = xrealloc(next.pkgs, (next.nr_pkgs + 1) * sizeof(*next.pkgs));
	mine = &next.pkgs[next.nr_pkgs++];
	new_rec_pkg(a, mine, a->s.rec.next_seq);
	mine->state = REC_PENDING;
	mine->pid = (uint32_t)getpid();
	/* the original bytes where no package has a jump (the code, which
	 * nothing changes while we hold the process) */
	for (uint32_t i = 0; i < mine->nr_funcs; i++)
		if (!record_find_func(&a->s.rec, mine->funcs[i].addr) &&
		    tracee_read(&a->s.tr, mine->funcs[i].addr, mine->funcs[i].orig, JUMP_SIZE, err) < 0) {
			record_free(&next);
			return -1;
		}
	if (a->retired)
		memcpy(mine->replaces, a->retired->id, 16);
	next.next_seq = a->s.rec.next_seq + 1;
	ret = session_write_record(&a->s, &next, err);
	record_free(&next);
	return ret;
}

/* Step 2: map the region near the module and fill it. */
static int place_package(struct apply_run *a, struct hp_err *err)
{
	uint64_t cand[16];
	size_t n = place_candidates(&a->s.maps, a->res.mod->lo, a->res.mod->hi, a->l.size, cand, 16);
	const struct layout *l = &a->l;

	/* the record first: the region is named in it as soon as it is
	 * mapped (a run killed in between leaves the region mapped, unused) */
	if (session_prepare_record(&a->s, err) < 0)
		return -1;
	for (size_t i = 0; i < n && !a->base; i++) {
		int r = session_mmap(&a->s, cand[i], l->size, PROT_READ | PROT_WRITE, &a->base, err);

		if (r < 0)
			return -1;
	}
	if (!a->base)
		return hp_err_set(err, "process %d: could not map %llu bytes within 2 GiB of %s", (int)a->s.pid,
				  (unsigned long long)l->size, a->res.mod->path);
	if (write_journal(a, err) < 0 ||
	    resolve_ifuncs(&a->s.tr, a->p, &a->res, err) < 0 ||
	    place_relocate(a->p, l, a->base, a->res.ext, a->image, err) < 0 ||
	    tracee_write(&a->s.tr, a->base, a->image, l->size, err) < 0 ||
	    session_mprotect(&a->s, a->base, l->rodata_off, PROT_READ | PROT_EXEC, err) < 0)
		return -1;
	if (l->rodata_size &&
	    session_mprotect(&a->s, a->base + l->rodata_off, l->data_off - l->rodata_off, PROT_READ, err) < 0)
		return -1;
	return 0;
}

static bool redirects(const struct apply_run *a, uint64_t addr)
{
	for (uint32_t i = 0; i < a->p->nr_funcs; i++)
		if (a->p->funcs[i].kind == HPK_FUNC_REPLACE && a->res.old_addr[i] == addr)
			return true;
	return false;
}

static void new_rec_pkg(struct apply_run *a, struct rec_pkg *e, uint64_t seq)
{
	const struct hpk *p = a->p;

	memset(e, 0, sizeof(*e));
	memcpy(e->id, p->id, 16);
	e->seq = seq;
	e->module = xstrdup(a->res.mod->path);
	e->module_bias = a->res.mod->bias;
	e->region = a->base;
	e->region_size = a->l.size;
	e->code_size = a->l.code_size;
	e->tool = xstrdup(p->tool_version ? p->tool_version : "");
	e->signer = xstrdup(a->s.opt->signer ? a->s.opt->signer : "");
	e->funcs = xcalloc(p->nr_funcs, sizeof(*e->funcs));
	for (uint32_t i = 0; i < p->nr_funcs; i++) {
		const struct hpk_func *f = &p->funcs[i];
		const struct rec_func *before;
		struct rec_func *rf;

		if (f->kind != HPK_FUNC_REPLACE)
			continue;
		rf = &e->funcs[e->nr_funcs++];
		rf->addr = a->res.old_addr[i];
		rf->target = a->base + a->l.func_off[i];
		rf->size = f->old_size;
		rf->name = xstrdup(f->name);
		rf->file = xstrdup(func_source(p, f) ? func_source(p, f) : "");
		/* the original bytes, not a retired package's jump */
		before = record_find_func(&a->s.rec, rf->addr);
		if (before)
			memcpy(rf->orig, before->orig, JUMP_SIZE);
	}
}

/* The package's entry in s->rec (the journal entry written in step 2). */
static struct rec_pkg *my_entry(struct apply_run *a)
{
	return record_find_id(&a->s.rec, a->p->id);
}

/* Step 4: the jumps, the record (the retired package's memory is planned
 * for release; unmapped after the threads go). */
static int install(struct apply_run *a, struct hp_err *err)
{
	const struct rec_pkg *mine = my_entry(a);
	struct record next = { .next_seq = a->s.rec.next_seq };
	int ret = 0;

	if (!mine)
		return hp_err_set(err, "process %d: the journal entry of package %s is gone", (int)a->s.pid,
				  a->out->id);
	for (uint32_t i = 0; a->retired && i < a->retired->nr_funcs && ret == 0; i++) {
		const struct rec_func *f = &a->retired->funcs[i];

		if (!redirects(a, f->addr))
			ret = session_write(&a->s, f->addr, f->orig, JUMP_SIZE, err);
	}
	for (uint32_t i = 0; i < mine->nr_funcs && ret == 0; i++) {
		const struct rec_func *f = &mine->funcs[i];
		uint8_t jmp[JUMP_SIZE];

		redirect_jump_bytes(f->addr, f->target, jmp);
		ret = session_write(&a->s, f->addr, jmp, JUMP_SIZE, err);
	}
	if (ret < 0)
		return -1;
	next.pkgs = xcalloc(a->s.rec.nr_pkgs, sizeof(*next.pkgs));
	for (size_t i = 0; i < a->s.rec.nr_pkgs; i++) {
		struct rec_pkg *e = &a->s.rec.pkgs[i];

		if (a->retired && !memcmp(e->id, a->retired->id, 16))
			continue;
		rec_pkg_copy(&next.pkgs[next.nr_pkgs], e);
		if (e == mine) {
			next.pkgs[next.nr_pkgs].state = REC_APPLIED;
			next.pkgs[next.nr_pkgs].pid = 0;
		}
		next.nr_pkgs++;
	}
	if (a->retired)
		session_plan_release(&a->s, a->retired, &next, a->out);
	session_plan_collect(&a->s, &next);
	ret = session_write_record(&a->s, &next, err);
	record_free(&next);
	return ret;
}

static void free_run(struct apply_run *a)
{
	resolution_free(&a->res);
	layout_free(&a->l);
	for (size_t i = 0; i < a->nr_guards; i++)
		free(a->labels[i]);
	free(a->labels);
	free(a->guards);
	free(a->image);
}

int hpapply_apply(pid_t pid, const struct hpk *p, const struct hpapply_options *o, struct outcome *out,
		  struct hp_err *err)
{
	struct apply_run a = { .p = p, .out = out };
	struct rec_pkg *retired_copy = NULL;
	struct hpapply_options based = *o;
	char *base_module = NULL;
	int st;

	memset(out, 0, sizeof(*out));
	hpk_id_hex(p, out->id);
	a.s.tr.mem_fd = -1;
	/* the build-id the package was made for, before attaching */
	st = check_package_base(pid, p, o->module, &base_module, err);
	if (st != HP_EXIT_OK) {
		free(base_module);
		return st;
	}
	if (base_module)
		based.module = base_module;
	o = &based;
	st = prepare(&a, pid, o, err);
	if (st == HP_EXIT_OK && !o->dry_run) {
		/* s.rec changes as the record is written: keep the retired
		 * package's entry as it was */
		if (a.retired) {
			retired_copy = xcalloc(1, sizeof(*retired_copy));
			rec_pkg_copy(retired_copy, a.retired);
			a.retired = retired_copy;
		}
		if (place_package(&a, err) < 0)
			st = HP_EXIT_ERROR;
	}
	if (st == HP_EXIT_OK && session_stop(&a.s, err) < 0)
		st = HP_EXIT_ERROR;
	if (st == HP_EXIT_OK)
		st = resolve_recheck(&a.s.tr, &a.s.rec, p, &a.res, err);
	if (st == HP_EXIT_OK)
		st = session_wait_safe(&a.s, a.guards, a.nr_guards, out, "applied", err);
	if (st == HP_EXIT_OK && !o->dry_run && install(&a, err) < 0)
		st = HP_EXIT_ERROR;
	if (st == HP_EXIT_OK) {
		session_commit(&a.s);
		session_resume(&a.s, err);
		session_unmap_planned(&a.s, out);
	} else {
		session_rollback(&a.s);
	}
	if (st != HP_EXIT_OK)
		a.base = 0;   /* unmapped again, or never mapped */
	if (a.res.mod)
		fill_outcome(&a);
	out->threads = 0;
	for_each_live_thread(&a.s.tr, th)
		out->threads++;
	session_close(&a.s, out);
	if (retired_copy) {
		rec_pkg_free(retired_copy);
		free(retired_copy);
	}
	free_run(&a);
	free(base_module);
	return st;
}
