/*
 * pair.h - the one pipeline for an object pair: load both objects (the
 * old on a second thread), prepare keys and fingerprints, correlate, diff,
 * plan.  hpdiff, hpbuild and hpverify OLD NEW all go through it, so they
 * see the same pair and the same plan; a tool adds its own step (the
 * safety rules) through a hook that runs on the worker thread.
 */
#ifndef HP_PAIR_H
#define HP_PAIR_H

#include "diff.h"
#include "finding.h"
#include "inputs.h"
#include "plan.h"

struct pair_options {
	struct plan_options plan;
	bool diff_all;                /* the diff lists unchanged symbols too (hpdiff --all) */
};

struct hp_pair {
	const struct input_pair *in;  /* NULL for pair_open() */
	struct hp_elf *old, *new;     /* NULL when one side is missing or on error */
	struct hp_diff diff;
	struct hp_plan plan;
	struct findings findings;     /* filled by the hook */
	struct hp_err err;
	int status;                   /* 0 ready, 1 one side missing, -1 error (err) */
};

/* The tool's step on a ready pair, on the worker thread. */
typedef void (*pair_hook)(struct hp_pair *p, void *arg);

/* The pipeline on two inputs: 0, or -1 + err (p is then empty). */
int pair_open(struct hp_pair *p, const struct load_input *old, const struct load_input *new,
	      const struct pair_options *opt, struct hp_err *err);
/* The pipeline on n input pairs using up to jobs threads (jobs <= 1: this
 * thread); each out[i].status says how it went.  The package is then
 * assembled in input order, so results do not depend on jobs. */
void pairs_prepare(const struct input_pair *pairs, size_t n, struct hp_pair *out, int jobs,
		   const struct pair_options *opt, pair_hook hook, void *arg);
void pair_close(struct hp_pair *p);

/* Online CPUs, at least 1. */
int default_jobs(void);

#endif
