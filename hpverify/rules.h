/*
 * rules.h - the hotpatch safety rules: which changes can be applied to a
 * running program, and which cannot, and why.
 *
 * Each rule has a stable id (HP001...), a severity, and one small predicate
 * with a comment giving the hazard and an example.  hpbuild runs them on
 * every object pair and refuses a package with an error-level finding that
 * was not allowed (--allow=HPxxx); hpverify re-runs those that can run from
 * the package alone, and all of them on an object pair (hpverify OLD NEW).
 * Which functions a package replaces is the plan's (plan.h): the rules
 * read it, they never choose again.
 */
#ifndef HP_RULES_H
#define HP_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "finding.h"
#include "hpk.h"
#include "pair.h"

struct rule_info {
	const char *id;          /* "HP001" */
	int severity;            /* HPK_SEV_ERROR / WARNING / NOTE */
	const char *title;       /* "existing data changed" */
	const char *hazard;      /* why it is unsafe */
	const char *instead;     /* what the author can do instead */
};

/* The catalog, in id order. */
const struct rule_info *rule_catalog(size_t *count);
const struct rule_info *rule_by_id(const char *id);

/* Every rule, and the equivalence check (HP013), on one pair through
 * the pipeline (pair.h): its diff and its plan. */
void rules_check_pair(const struct hp_pair *p, struct findings *out);
/* The equivalence check on a pair with the old functions a given package
 * redirects (hpverify OLD NEW PKG): redirected[i] for old symbol i. */
void rules_check_equivalence(const struct hp_pair *p, const bool *redirected, struct findings *out);
/* The rules that can run from a package alone. */
void rules_check_package(const struct hpk *p, struct findings *out);

#endif
