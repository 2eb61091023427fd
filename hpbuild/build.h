/*
 * build.h - hpbuild's engine: turn object pairs into one hotpatch package.
 *
 * For each pair: every function its plan (plan.h) replaces or adds goes in
 * with its code and relocations; what those functions need that the running program
 * lacks (new functions, new data, string literals, constants, jump tables)
 * is copied; everything else (unchanged functions, existing globals,
 * statics and static locals, library functions) stays a reference to the
 * running program, resolved when the package is applied.
 */
#ifndef HP_BUILD_H
#define HP_BUILD_H

#include "hpk.h"
#include "pair.h"
#include "util.h"

struct build_options {
	bool include_line_only;   /* package __LINE__-only changes too */
	const char **allow;       /* rule ids allowed (--allow) */
	size_t nr_allow;
};

/* Per-pair figures for the summary. */
struct build_stats {
	size_t replaced, added, data_objects, rodata_objects, relocs, externs;
	size_t code_bytes, data_bytes, skipped_line_only;
};

struct pkg_builder {
	struct hpk *p;
	size_t cap_units, cap_syms, cap_funcs, cap_data, cap_findings, cap_aliases;
	struct hmap dedupe;       /* identity key -> package symbol index + 1 */
	struct build_stats stats;
	/* hpbuild --base: store a fingerprint of each static the package
	 * refers to, so that hpapply can find it in a stripped module */
	bool fingerprint_statics;
	size_t cap_statics;
	/* --base MODULE (struct modfile): read-only constants found there
	 * more than once are carried in the package */
	const void *base_module;
};

void builder_init(struct pkg_builder *b);
/* Free the builder's own tables (not the package: hpk_free() does that). */
void builder_done(struct pkg_builder *b);

/* Write one pair's plan into the package (old/new as named on the
 * command line in old_name/new_name; unit_name: the pair's relative name). */
int build_add_pair(struct pkg_builder *b, const struct hp_pair *pair, const char *unit_name,
		   const char *old_name, const char *new_name, struct hp_err *err);

/* Record a safety finding in the package. */
/*
 * hpbuild --base with a module that does not export some global the
 * package refers to (a hidden function of another unit, such as zlib's
 * inflate_fast(): the linker made it local, strip removes it): fingerprint
 * its definition in the old objects of in, as the statics are, so that
 * hpapply can find it by content in the stripped module.  named(name)
 * says whether the module exports it.  -1 and err when an old object cannot be read.
 */
struct input_set;
int build_fingerprint_hidden(struct pkg_builder *b, const struct input_set *in,
			     bool (*named)(const char *name, const void *arg), const void *arg, struct hp_err *err);

void build_add_finding(struct pkg_builder *b, const char *rule, int severity, bool overridden,
		       const char *symbol, const char *file, unsigned line, const char *message);

/* Copy a string into memory the package owns. */
const char *pkg_str(struct hpk *p, const char *s);

#endif
