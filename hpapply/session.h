/*
 * session.h - hpapply's engine: apply, revert, repair and list packages
 * in a running process, and the machinery they share (one attached
 * process, its maps, modules and record, an undo log, the wait for a safe
 * moment).
 *
 * Entry points return HP_EXIT_OK (done), HP_EXIT_DIFF (refused: a check
 * failed and the process is as it was; err says which) or HP_EXIT_ERROR.
 *
 * Every change made to the process goes through the undo log (bytes
 * written, memory mapped); a failure at any point replays it backwards
 * (jumps are written, and so undone, only while the threads are stopped),
 * so the process is left exactly as it was.  What a run that dies leaves
 * is in the record (the journal, record.h) for --repair.
 */
#ifndef HP_SESSION_H
#define HP_SESSION_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "consistency.h"
#include "hpk.h"
#include "module.h"
#include "procmaps.h"
#include "record.h"
#include "tracee.h"
#include "util.h"

struct hpapply_options {
	bool dry_run;
	unsigned timeout_ms;                /* how long to wait for a safe moment */
	const char *module;                 /* --module: restrict the module search */
	const char *const *symbol_files;    /* --symbols */
	size_t nr_symbol_files;
	const char *debug_dir;              /* --debug-dir, default /usr/lib/debug */
	bool allow_seccomp;                 /* --allow-seccomp */
	const char *signer;                 /* key id that signed the package (recorded), or NULL */
};

struct outcome_func {
	char *name, *file;
	uint64_t addr, target;
	uint32_t size;
};

/* What happened, for the report (text or JSON). */
struct outcome {
	char id[33];                /* the package applied or reverted */
	char retired[33];           /* a package the apply replaced, or "" */
	char *module;
	uint64_t module_bias, region, region_size;
	struct outcome_func *funcs;
	size_t nr_funcs;
	size_t threads;
	unsigned attempts;          /* consistency checks made */
	char *unwind_notes;         /* the last check's stacks not unwound to the end, a line
				     * each ("thread N: unwound K frames, then scanned ..."), or NULL */
	uint64_t stopped_ns;        /* all the time threads were stopped */
	uint64_t longest_stop_ns;
	uint64_t total_ns;
	bool data_retained;         /* the data part of the package taken back stays mapped */
	char *warning;              /* done, but something was left behind */
	struct record listed;       /* --list */
	int busy_pid;               /* --list: an hpapply working on the process now, or 0 */
	unsigned repaired;          /* --repair: entries rolled back or completed */
	unsigned rolled_back;       /* of which rolled back (PENDING) */
};

void outcome_free(struct outcome *o);

int hpapply_apply(pid_t pid, const struct hpk *p, const struct hpapply_options *o, struct outcome *out,
		  struct hp_err *err);
/* id_prefix: hex digits of the package id, or NULL for the newest. */
int hpapply_revert(pid_t pid, const char *id_prefix, const struct hpapply_options *o,
		   struct outcome *out, struct hp_err *err);
int hpapply_list(pid_t pid, const struct hpapply_options *o, struct outcome *out, struct hp_err *err);
/* Finish what an hpapply that did not finish left: roll back a PENDING
 * entry, complete a REVERTING one, free retained memory nothing points
 * into (repair.c). */
int hpapply_repair(pid_t pid, const struct hpapply_options *o, struct outcome *out, struct hp_err *err);

/* ---- shared by apply.c and revert.c ---- */

struct undo_step {
	enum { UNDO_BYTES, UNDO_UNMAP } kind;
	uint64_t addr, len;
	uint8_t *bytes;             /* UNDO_BYTES: what was there */
};

struct session {
	pid_t pid;
	const struct hpapply_options *opt;
	struct tracee tr;
	struct proc_maps maps;
	struct module_set mods;
	struct record rec;          /* as the process holds it (read, then as written) */
	uint64_t record_addr;       /* where the record is (or was created), 0: none */
	struct undo_step *undo;
	size_t nr_undo, cap_undo;
	struct rec_retained *unmap;     /* memory to unmap once the record is written */
	size_t nr_unmap;
	struct unwinder *unwinder;  /* for the stack checks (consistency_prepare()), or NULL */
	sigset_t saved_mask;        /* signals blocked while the session is open */
	uint64_t started_ns;
};

/* Open the process and read its maps and record.  hold: seize the anchor
 * thread first (tracee_anchor()), so that no other hpapply works on the
 * process until this session is closed (apply, revert, repair; --list
 * only reads). */
int session_open(struct session *s, pid_t pid, const struct hpapply_options *o, bool hold,
		 struct hp_err *err);
/* hpapply may run system calls in the process (mmap, mprotect, munmap,
 * memfd_create, ftruncate, close, getpid): not under a seccomp filter, which may
 * forbid them or kill the process for them, unless allowed. */
int session_check_seccomp(struct session *s, struct hp_err *err);
/* An entry of the record left PENDING or REVERTING: an error naming it
 * and saying to run --repair. */
int session_check_unfinished(struct session *s, struct hp_err *err);
/* Let the stopped threads go (still attached). */
int session_resume(struct session *s, struct hp_err *err);
/* Detach (if attached) and free everything. */
void session_close(struct session *s, struct outcome *out);
/* Stop every thread; then read maps and record again: the record must be
 * the one read before (no other hpapply got in between). */
int session_stop(struct session *s, struct hp_err *err);
/*
 * With threads stopped: check the guards; while a thread is in the way,
 * let the process run a few milliseconds and look again, until
 * opt->timeout_ms has passed.  Returns with threads stopped.
 */
int session_wait_safe(struct session *s, const struct guard *g, size_t n, struct outcome *out,
		      const char *verb, struct hp_err *err);

/* Changes with undo. */
int session_write(struct session *s, uint64_t addr, const void *buf, size_t n, struct hp_err *err);
int session_mmap(struct session *s, uint64_t hint, uint64_t len, int prot, uint64_t *addr,
		 struct hp_err *err);
int session_mprotect(struct session *s, uint64_t addr, uint64_t len, int prot, struct hp_err *err);
int session_munmap(struct session *s, uint64_t addr, uint64_t len, struct hp_err *err);
/* Make sure the process has a record mapping (tracee_map_memfd(): a run
 * killed before its first write leaves an empty record, which the next
 * run takes as empty and --repair removes). */
int session_prepare_record(struct session *s, struct hp_err *err);
/* Write next into the process's record mapping (the slot not in force,
 * next generation); then it is s->rec (next is emptied). */
int session_write_record(struct session *s, struct record *next, struct hp_err *err);
/* Remove the record mapping if the record lists nothing (after the last
 * package is reverted); the empty record is written first, so a run cut
 * short here leaves an empty record, never a lost one. */
int session_drop_record(struct session *s, struct hp_err *err);
/*
 * Plan the release of a package's memory taken out of use: its code always
 * (no thread is in it: the caller checked), its data part too unless a
 * register or stack word points into it; then it is kept, listed in
 * next->retained.  Nothing is unmapped until session_unmap_planned().
 */
void session_plan_release(struct session *s, const struct rec_pkg *pkg, struct record *next,
			  struct outcome *out);
/* Retained regions of s->rec that nothing points into any more go to the
 * plan; the others are copied to next. */
void session_plan_collect(struct session *s, struct record *next);
/* Unmap what was planned (call after the record is written: a failure
 * leaves memory mapped, a leak, never a wrong unmap; out->warning says). */
void session_unmap_planned(struct session *s, struct outcome *out);

/* Undo everything (the threads stopped if jumps were written), or forget
 * the log. */
void session_rollback(struct session *s);
void session_commit(struct session *s);
/*
 * The end of a revert or a repair: on success (st HP_EXIT_OK) commit, let
 * the threads run, unmap what was planned and drop the record if nothing
 * is left in it (an empty record left behind is harmless if that fails);
 * otherwise undo everything.  Counts the threads and closes the session.
 * Returns st.
 */
int session_finish_release(struct session *s, int st, struct outcome *out);

#endif
