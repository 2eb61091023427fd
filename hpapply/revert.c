/*
 * revert.c - take an applied package back, and list what is applied
 * (session.h).
 *
 * Revert checks that each entry still holds the jump this package wrote
 * (if something else changed it, we do not know what to restore), writes
 * the record with the package REVERTING (the journal, while the program
 * runs), stops the threads and waits until no thread runs or would return
 * into the package's code, restores the original bytes, writes the record
 * without the package, lets the threads go and unmaps the package (its
 * data part stays while a thread may point into it:
 * session_plan_release()); the record mapping goes too when it lists
 * nothing more, so a process with everything reverted looks as it did
 * before.  A cumulative package reverted goes back to the original code,
 * not to the package it replaced.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session.h"

/* The package an id prefix names (NULL prefix: the newest). */
static int pick_package(const struct record *rec, const char *prefix, pid_t pid, size_t *which,
			struct hp_err *err)
{
	size_t hits = 0, n = prefix ? strlen(prefix) : 0;

	if (!rec->nr_pkgs) {
		hp_err_set(err, "process %d: no package is applied", (int)pid);
		return HP_EXIT_DIFF;
	}
	if (!prefix) {
		*which = 0;
		for (size_t i = 1; i < rec->nr_pkgs; i++)
			if (rec->pkgs[i].seq > rec->pkgs[*which].seq)
				*which = i;
		return HP_EXIT_OK;
	}
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)prefix[i]) || n > 32) {
			hp_err_set(err, "--revert %s: a package id is up to 32 hex digits", prefix);
			return HP_EXIT_ERROR;
		}
	for (size_t i = 0; i < rec->nr_pkgs; i++) {
		char id[33];

		hpk_id_to_hex(rec->pkgs[i].id, id);
		if (!strncasecmp(id, prefix, n)) {
			*which = i;
			hits++;
		}
	}
	if (hits == 1)
		return HP_EXIT_OK;
	if (hits == 0)
		hp_err_set(err, "process %d: no applied package has an id starting with %s (hpapply -p %d --list)",
			   (int)pid, prefix, (int)pid);
	else
		hp_err_set(err, "process %d: %zu applied packages have ids starting with %s; give more digits",
			   (int)pid, hits, prefix);
	return hits ? HP_EXIT_ERROR : HP_EXIT_DIFF;
}

static void describe(const struct rec_pkg *pkg, struct outcome *out)
{
	hpk_id_to_hex(pkg->id, out->id);
	out->module = xstrdup(pkg->module);
	out->module_bias = pkg->module_bias;
	out->region = pkg->region;
	out->region_size = pkg->region_size;
	out->funcs = xcalloc(pkg->nr_funcs, sizeof(*out->funcs));
	for (uint32_t i = 0; i < pkg->nr_funcs; i++)
		out->funcs[out->nr_funcs++] = (struct outcome_func){
			.name = xstrdup(pkg->funcs[i].name),
			.file = xstrdup(pkg->funcs[i].file),
			.addr = pkg->funcs[i].addr,
			.target = pkg->funcs[i].target,
			.size = pkg->funcs[i].size,
		};
}

/* Every entry still jumps where this package sent it, into its memory. */
static int check_jumps(struct session *s, const struct rec_pkg *pkg, struct hp_err *err)
{
	if (!maps_all_anonymous(&s->maps, pkg->region, pkg->region + pkg->region_size)) {
		hp_err_set(err, "process %d: the memory of the package at 0x%llx is not (all) mapped as hpapply "
			   "mapped it; not reverted", (int)s->pid, (unsigned long long)pkg->region);
		return HP_EXIT_DIFF;
	}
	for (uint32_t i = 0; i < pkg->nr_funcs; i++) {
		const struct rec_func *f = &pkg->funcs[i];
		uint8_t now[JUMP_SIZE], want[JUMP_SIZE];

		redirect_jump_bytes(f->addr, f->target, want);
		if (tracee_read(&s->tr, f->addr, now, JUMP_SIZE, err) < 0)
			return HP_EXIT_ERROR;
		if (memcmp(now, want, JUMP_SIZE) || f->target < pkg->region ||
		    f->target >= pkg->region + pkg->region_size) {
			hp_err_set(err, "process %d: function '%s' at 0x%llx no longer holds the jump hpapply wrote "
				   "(something else changed it); not reverted", (int)s->pid, f->name,
				   (unsigned long long)f->addr);
			return HP_EXIT_DIFF;
		}
	}
	return HP_EXIT_OK;
}

/* The journal: the package REVERTING, before any byte goes back. */
static int mark_reverting(struct session *s, const uint8_t id[16], struct hp_err *err)
{
	struct record next;
	struct rec_pkg *e;
	int ret;

	record_copy(&next, &s->rec);
	e = record_find_id(&next, id);
	e->state = REC_REVERTING;
	e->pid = (uint32_t)getpid();
	ret = session_write_record(s, &next, err);
	record_free(&next);
	return ret;
}

static int take_back(struct session *s, const uint8_t id[16], struct outcome *out, struct hp_err *err)
{
	const struct rec_pkg *pkg = record_find_id(&s->rec, id);
	struct record next = { .next_seq = s->rec.next_seq };
	int ret = 0;

	next.pkgs = xcalloc(s->rec.nr_pkgs, sizeof(*next.pkgs));
	for (size_t i = 0; i < s->rec.nr_pkgs; i++)
		if (&s->rec.pkgs[i] != pkg)
			rec_pkg_copy(&next.pkgs[next.nr_pkgs++], &s->rec.pkgs[i]);
	for (uint32_t i = 0; i < pkg->nr_funcs && ret == 0; i++)
		ret = session_write(s, pkg->funcs[i].addr, pkg->funcs[i].orig, JUMP_SIZE, err);
	if (ret == 0) {
		session_plan_release(s, pkg, &next, out);
		session_plan_collect(s, &next);
		ret = session_write_record(s, &next, err);
	}
	record_free(&next);
	return ret;
}

int hpapply_revert(pid_t pid, const char *id_prefix, const struct hpapply_options *o,
		   struct outcome *out, struct hp_err *err)
{
	struct session s;
	struct guard g;
	uint8_t id[16];
	size_t which = 0;
	int st;

	memset(out, 0, sizeof(*out));
	if (session_open(&s, pid, o, true, err) < 0 || session_check_seccomp(&s, err) < 0 ||
	    session_check_unfinished(&s, err) < 0) {
		session_close(&s, out);
		return HP_EXIT_ERROR;
	}
	st = pick_package(&s.rec, id_prefix, pid, &which, err);
	if (st == HP_EXIT_OK) {
		memcpy(id, s.rec.pkgs[which].id, 16);
		describe(&s.rec.pkgs[which], out);
		g = (struct guard){ s.rec.pkgs[which].region, rec_pkg_data_start(&s.rec.pkgs[which]),
				    GUARD_CODE, "the package's code" };
		st = check_jumps(&s, &s.rec.pkgs[which], err);
	}
	if (st == HP_EXIT_OK && !o->dry_run && mark_reverting(&s, id, err) < 0)
		st = HP_EXIT_ERROR;
	if (st == HP_EXIT_OK && session_stop(&s, err) < 0)
		st = HP_EXIT_ERROR;
	if (st == HP_EXIT_OK)
		st = check_jumps(&s, record_find_id(&s.rec, id), err);
	if (st == HP_EXIT_OK)
		st = session_wait_safe(&s, &g, 1, out, "reverted", err);
	if (st == HP_EXIT_OK && !o->dry_run && take_back(&s, id, out, err) < 0)
		st = HP_EXIT_ERROR;
	return session_finish_release(&s, st, out);
}

int hpapply_list(pid_t pid, const struct hpapply_options *o, struct outcome *out, struct hp_err *err)
{
	struct session s;
	int st = HP_EXIT_OK;

	memset(out, 0, sizeof(*out));
	out->busy_pid = tracee_hpapply_at_work(pid);
	if (session_open(&s, pid, o, false, err) < 0) {
		st = HP_EXIT_ERROR;
		/* a record being written by the hpapply at work */
		if (out->busy_pid) {
			hp_err_clear(err);
			hp_err_set(err, "process %d: another hpapply (pid %d) is working on it; try again when it "
				   "has finished", (int)pid, out->busy_pid);
		}
	} else {
		out->listed = s.rec;
		memset(&s.rec, 0, sizeof(s.rec));
	}
	session_close(&s, out);
	return st;
}
