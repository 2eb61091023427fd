/*
 * repair.c - finish what an hpapply that did not finish left in a process
 * (hpapply --repair; session.h).
 *
 * The record is a journal (record.h): an entry PENDING was being applied,
 * its memory mapped and filled, some of its jumps perhaps written; an
 * entry REVERTING was being reverted, some original bytes perhaps put
 * back.  Repair rolls a PENDING entry back (the apply never reported
 * success: the process goes back to where it was, the package it was to
 * retire included) and completes a REVERTING one (the revert was asked
 * for).  Each function entry must hold one of the two byte strings the
 * step moves between; anything else (a debugger's breakpoint, another
 * tool) refuses the repair (exit 1) without a write.
 *
 * As for apply and revert, the threads are stopped together only to wait
 * until none runs or would return into code that changes or goes (the
 * package's code, and a function a jump is written back into), to write
 * the bytes and the record; memory is unmapped afterwards, while the
 * program runs.
 */
#include <stdlib.h>
#include <string.h>

#include "session.h"

static void jump_to(uint64_t from, uint64_t to, uint8_t out[JUMP_SIZE])
{
	out[0] = 0xe9;   /* jmp rel32 */
	put_le(out + 1, to - (from + JUMP_SIZE), 4);
}

static bool is_zero_id(const uint8_t id[16])
{
	for (int i = 0; i < 16; i++)
		if (id[i])
			return false;
	return true;
}

/* The package a PENDING entry was to retire, or NULL. */
static const struct rec_pkg *retiree(const struct record *r, const struct rec_pkg *e)
{
	return e->state == REC_PENDING && !is_zero_id(e->replaces) ? record_find_id(r, e->replaces) : NULL;
}

static const struct rec_func *func_at(const struct rec_pkg *p, uint64_t addr)
{
	for (uint32_t i = 0; p && i < p->nr_funcs; i++)
		if (p->funcs[i].addr == addr)
			return &p->funcs[i];
	return NULL;
}

/*
 * One function entry: it holds 'from' (write 'to') or already 'to'; with
 * dry set, only check.  HP_EXIT_DIFF for anything else.
 */
static int move_bytes(struct session *s, const char *name, uint64_t addr, const uint8_t from[JUMP_SIZE],
		      const uint8_t to[JUMP_SIZE], bool dry, struct hp_err *err)
{
	uint8_t now[JUMP_SIZE];

	if (tracee_read(&s->tr, addr, now, JUMP_SIZE, err) < 0)
		return HP_EXIT_ERROR;
	if (!memcmp(now, to, JUMP_SIZE))
		return HP_EXIT_OK;
	if (memcmp(now, from, JUMP_SIZE)) {
		hp_err_set(err, "process %d: function '%s' at 0x%llx holds neither the jump hpapply wrote nor "
			   "the bytes it replaced (something else changed it); not repaired", (int)s->pid, name,
			   (unsigned long long)addr);
		return HP_EXIT_DIFF;
	}
	if (dry)
		return HP_EXIT_OK;
	return session_write(s, addr, to, JUMP_SIZE, err) < 0 ? HP_EXIT_ERROR : HP_EXIT_OK;
}

/* Roll a PENDING entry back, or complete a REVERTING one (dry: check). */
static int settle(struct session *s, const struct rec_pkg *e, bool dry, struct hp_err *err)
{
	const struct rec_pkg *r = retiree(&s->rec, e);
	int st = HP_EXIT_OK;

	if (!maps_all_anonymous(&s->maps, e->region, e->region + e->region_size)) {
		hp_err_set(err, "process %d: the memory of the package at 0x%llx is not (all) mapped as hpapply "
			   "mapped it; not repaired", (int)s->pid, (unsigned long long)e->region);
		return HP_EXIT_DIFF;
	}
	for (uint32_t i = 0; i < e->nr_funcs && st == HP_EXIT_OK; i++) {
		const struct rec_func *f = &e->funcs[i];
		const struct rec_func *before = func_at(r, f->addr);
		uint8_t jmp[JUMP_SIZE], back[JUMP_SIZE];

		jump_to(f->addr, f->target, jmp);
		if (before)
			jump_to(before->addr, before->target, back);
		else
			memcpy(back, f->orig, JUMP_SIZE);
		st = move_bytes(s, f->name, f->addr, jmp, back, dry, err);
	}
	/* the retired package's entries this one took back to the original */
	for (uint32_t i = 0; r && i < r->nr_funcs && st == HP_EXIT_OK; i++) {
		const struct rec_func *g = &r->funcs[i];
		uint8_t jmp[JUMP_SIZE];

		if (func_at(e, g->addr))
			continue;
		jump_to(g->addr, g->target, jmp);
		st = move_bytes(s, g->name, g->addr, g->orig, jmp, dry, err);
	}
	return st;
}

static void add_guard(struct guard **g, size_t *n, uint64_t lo, uint64_t hi, const char *what)
{
	*g = xrealloc(*g, (*n + 1) * sizeof(**g));
	(*g)[(*n)++] = (struct guard){ lo, hi, GUARD_CODE, what };
}

/* What no thread may run or return into: the code of each unfinished
 * entry, and each function a retired package's jump is written back into. */
static void build_guards(const struct record *rec, struct guard **g, size_t *n)
{
	for (size_t i = 0; i < rec->nr_pkgs; i++) {
		const struct rec_pkg *e = &rec->pkgs[i];
		const struct rec_pkg *r;

		if (!rec_pkg_unfinished(e))
			continue;
		add_guard(g, n, e->region, rec_pkg_data_start(e), "the code of a package left unfinished");
		r = retiree(rec, e);
		for (uint32_t k = 0; r && k < r->nr_funcs; k++)
			if (!func_at(e, r->funcs[k].addr))
				add_guard(g, n, r->funcs[k].addr,
					  r->funcs[k].addr + (r->funcs[k].size > JUMP_SIZE ? r->funcs[k].size : JUMP_SIZE),
					  r->funcs[k].name);
	}
}

/* Write the bytes of every unfinished entry, then the record without
 * them (their memory planned for release). */
static int repair_all(struct session *s, struct outcome *out, struct hp_err *err)
{
	struct record next = { .next_seq = s->rec.next_seq };
	int st = HP_EXIT_OK;

	for (int dry = 1; dry >= 0 && st == HP_EXIT_OK; dry--)
		for (size_t i = 0; i < s->rec.nr_pkgs && st == HP_EXIT_OK; i++)
			if (rec_pkg_unfinished(&s->rec.pkgs[i]))
				st = settle(s, &s->rec.pkgs[i], dry, err);
	if (st != HP_EXIT_OK)
		return st;
	next.pkgs = xcalloc(s->rec.nr_pkgs ? s->rec.nr_pkgs : 1, sizeof(*next.pkgs));
	for (size_t i = 0; i < s->rec.nr_pkgs; i++) {
		const struct rec_pkg *e = &s->rec.pkgs[i];

		if (!rec_pkg_unfinished(e)) {
			rec_pkg_copy(&next.pkgs[next.nr_pkgs++], e);
			continue;
		}
		out->repaired++;
		out->rolled_back += e->state == REC_PENDING;
		session_plan_release(s, e, &next, out);
	}
	session_plan_collect(s, &next);
	if (session_write_record(s, &next, err) < 0)
		st = HP_EXIT_ERROR;
	record_free(&next);
	return st;
}

int hpapply_repair(pid_t pid, const struct hpapply_options *o, struct outcome *out, struct hp_err *err)
{
	struct guard *g = NULL;
	struct session s;
	size_t n = 0;
	int st = HP_EXIT_OK;

	memset(out, 0, sizeof(*out));
	if (session_open(&s, pid, o, true, err) < 0 || session_check_seccomp(&s, err) < 0) {
		session_close(&s, out);
		return HP_EXIT_ERROR;
	}
	if (!s.rec.present || (!record_unfinished(&s.rec) && !s.rec.nr_retained)) {
		/* nothing left half done; an empty record (one never
		 * written) goes, while the program runs */
		if (s.rec.present && !s.rec.nr_pkgs && !o->dry_run && session_drop_record(&s, err) < 0)
			st = HP_EXIT_ERROR;
		session_close(&s, out);
		return st;
	}
	build_guards(&s.rec, &g, &n);
	if (session_stop(&s, err) < 0)
		st = HP_EXIT_ERROR;
	if (st == HP_EXIT_OK && n)
		st = session_wait_safe(&s, g, n, out, "repaired", err);
	if (st == HP_EXIT_OK && !o->dry_run)
		st = repair_all(&s, out, err);
	st = session_finish_release(&s, st, out);
	free(g);
	return st;
}
