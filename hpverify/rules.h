/*
 * rules.h - the hotpatch safety rules: which changes can be applied to a
 * running program, and which cannot, and why.
 *
 * Each rule has a stable id (HP001...), a severity, and one small predicate
 * with a comment giving the hazard and an example.  hpbuild runs them on
 * every object pair and refuses a package with an error-level finding that
 * was not allowed (--allow=HPxxx); hpverify re-runs those that can run from
 * the package alone, and all of them on an object pair (hpverify OLD NEW).
 */
#ifndef HP_RULES_H
#define HP_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "diff.h"
#include "hpk.h"

struct rule_info {
	const char *id;          /* "HP001" */
	int severity;            /* HPK_SEV_ERROR / WARNING / NOTE */
	const char *title;       /* "existing data changed" */
	const char *hazard;      /* why it is unsafe */
	const char *instead;     /* what the author can do instead */
};

struct finding {
	const char *rule;        /* static: the rule's id */
	int severity;
	char *symbol;
	char *file;
	unsigned line;
	char *message;           /* one line naming the symbol */
	bool overridden;         /* allowed with --allow */
};

struct findings {
	struct finding *v;
	size_t n, cap;
	char **not_run;          /* "HP004: old.o has no DWARF" */
	size_t nr_not_run;
	/* with rules_options.static_sources: the source file names (STT_FILE)
	 * whose statics the pairs' packaged code refers to, for HP014 */
	char **static_sources;
	size_t nr_static_sources;
};

/* The catalog, in id order. */
const struct rule_info *rule_catalog(size_t *count);
const struct rule_info *rule_by_id(const char *id);

/* Every rule, on one prepared and correlated pair with its diff. */
void rules_check_pair(struct hp_elf *old, struct hp_elf *new, const struct hp_diff *d,
		      struct findings *out);

/* What hpbuild was asked to package beyond the default. */
struct rules_options {
	bool include_line_only;   /* __LINE__-only changes are packaged too */
	bool static_sources;      /* fill findings.static_sources */
};
/* rules_check_pair() for a build with options (NULL: the defaults). */
void rules_check_pair_opts(struct hp_elf *old, struct hp_elf *new, const struct hp_diff *d,
			   const struct rules_options *opt, struct findings *out);
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

/* Mark findings of allowed rules overridden; the highest severity that is
 * not overridden (0 when none). */
int findings_apply_allow(struct findings *f, const char *const *allow, size_t nr_allow);
/* Sort by file, line, rule, symbol: deterministic output. */
void findings_sort(struct findings *f);
void findings_free(struct findings *f);

#endif
