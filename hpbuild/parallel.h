/*
 * parallel.h - prepare object pairs on several threads.
 *
 * Loading, fingerprinting, correlating, diffing and checking one pair is
 * independent of every other pair, and is most of hpbuild's work on a build
 * tree; the package itself is then assembled in input order on one thread,
 * so the result does not depend on the number of threads.
 */
#ifndef HP_PARALLEL_H
#define HP_PARALLEL_H

#include "diff.h"
#include "inputs.h"
#include "rules.h"

struct prepared_pair {
	const struct input_pair *in;
	struct hp_elf *old, *new;     /* NULL when one side is missing or on error */
	struct hp_diff diff;
	struct findings findings;
	struct hp_err err;
	int status;                   /* 0 ready, 1 one side missing, -1 error (err) */
};

/* Prepare n pairs using up to jobs threads (jobs <= 1: this thread). */
void prepare_pairs(const struct input_pair *pairs, size_t n, struct prepared_pair *out, int jobs,
		   const struct rules_options *ropt);
void prepared_pair_free(struct prepared_pair *p);

/* Append src's findings to dst, leaving src empty. */
void findings_move(struct findings *dst, struct findings *src);

/* Online CPUs, at least 1. */
int default_jobs(void);

#endif
