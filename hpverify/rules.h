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

/* What a build asks of the rules beyond the default. */
struct rules_options {
	bool static_sources;      /* fill findings.static_sources (HP014) */
};
/* Every rule, and the equivalence check (HP015), on one pair through
 * the pipeline (pair.h): its diff and its plan (opt NULL: the defaults). */
void rules_check_pair(const struct hp_pair *p, const struct rules_options *opt, struct findings *out);
/* The equivalence check on a pair with the old functions a given package
 * redirects (hpverify OLD NEW PKG): redirected[i] for old symbol i. */
void rules_check_equivalence(const struct hp_pair *p, const bool *redirected, struct findings *out);
/* One object of a tree: the source file name its statics are known by
 * (its STT_FILE) and its name in the tree. */
struct tree_source {
	const char *source;
	const char *object;
};
/* HP014 on a whole tree: a warning for each source name in referenced
 * (the source files whose statics a package refers to) that more than one
 * object of the tree has.  hpbuild reads referenced from its package,
 * hpverify OLD NEW from findings.static_sources. */
void rules_check_shared_sources(const struct tree_source *tree, size_t nr_tree,
				char *const *referenced, size_t nr_referenced, struct findings *out);

/* The rules that can run from a package alone. */
void rules_check_package(const struct hpk *p, struct findings *out);

#endif
