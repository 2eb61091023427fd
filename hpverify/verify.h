/*
 * verify.h - hpverify's engine: what it checks besides the package reader's
 * own integrity checks (lib/hpk.h) and the safety rules (rules.h), and the
 * findings as hpverify reports them.
 *
 *   package mode   the rules that run from the package alone, judged with
 *                  the rules the package was built with --allow;
 *   --base OLD     every replaced function's old fingerprint against the
 *                  functions of a build (object, archive or directory);
 *   OLD NEW        every rule on object pairs, without building;
 *   OLD NEW PKG    the equivalence check (HP015) of a given package.
 */
#ifndef HP_VERIFY_H
#define HP_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hpk.h"
#include "rules.h"
#include "util.h"

/* Findings as reported: recorded in the package by hpbuild, or found now
 * (lib/finding.h, struct finding_ref: strings point into the package or
 * the struct findings they came from). */
struct vfindings {
	struct finding_ref *v;
	size_t n, cap;
};

void vfindings_add_package(struct vfindings *out, const struct hpk *p);
void vfindings_add_rules(struct vfindings *out, const struct findings *f);
/* Recorded findings first, then the new ones that repeat none of them:
 * one list for SARIF, where a result should appear once. */
void vfindings_merge(struct vfindings *out, const struct vfindings *recorded,
		     const struct vfindings *found);
void vfindings_free(struct vfindings *v);

/* The rules a package was built to allow: the rule ids of its recorded
 * findings marked allowed (hpbuild --allow records exactly those). */
size_t package_allowed_rules(const struct hpk *p, const char ***ids);

/* Re-run the package rules into *f (sorted, allowed ones marked); returns
 * the highest severity not allowed, 0 when none. */
int verify_package_rules(const struct hpk *p, struct findings *f);

/* ---- --base ---- */

enum base_status {
	BASE_MATCH = 0,
	BASE_MISSING,        /* no such function in the base */
	BASE_SIZE,           /* found, another size */
	BASE_BYTES,          /* found, same size, other bytes */
};

struct base_check {
	uint32_t func;           /* index into the package's funcs[] */
	enum base_status status;
	uint64_t base_size;      /* BASE_SIZE, BASE_BYTES, BASE_MATCH */
	uint64_t base_hash;      /* BASE_BYTES, BASE_MATCH */
	char *where;             /* label of the base object it was found in, or NULL */
};

struct base_result {
	struct base_check *v;    /* one per replaced function, package order */
	size_t n;
	size_t nr_objects;       /* objects read from the base */
};

const char *base_status_name(enum base_status s);

/* The objects of a build (object, archive or directory), loaded. */
struct input_set;
struct base_obj {
	const char *pair_name;   /* member name or relative path */
	struct hp_elf *elf;
};
int base_load(const char *path, struct input_set *in, struct base_obj **objs, size_t *n,
	      struct hp_err *err);
void base_unload(struct input_set *in, struct base_obj *objs, size_t n);
/* The function of objs that package function fi names (for a replaced
 * one, its old self): same name, a static only in its own source file;
 * one whose old fingerprint matches when there is one (*matches, *hash),
 * else the best fit; NULL when none.  *which is its object. */
const struct hp_symbol *base_find_function(const struct hpk *p, uint32_t fi, const struct base_obj *objs,
					   size_t n, size_t *which, bool *matches, uint64_t *hash);
/* Compare every replaced function of p with its old self in base_path
 * (object, archive or directory).  -1 + err when the base cannot be read. */
int verify_base(const struct hpk *p, const char *base_path, struct base_result *r,
		struct hp_err *err);
/* Index of the first mismatch in r->v, or r->n when all match. */
size_t base_first_mismatch(const struct base_result *r);
void base_result_free(struct base_result *r);

/* ---- OLD NEW ---- */

struct pair_result {
	struct findings f;
	size_t pairs;            /* object pairs checked */
	char **notes;            /* one-sided objects, skipped */
	size_t nr_notes;
	struct tree_source *tree;   /* every pair's old source name (HP014); owned */
	size_t nr_tree;
};

/* Every rule on every pair of OLD and NEW (paired as hpbuild pairs them),
 * or with pkg, the equivalence check (HP015) of that package on each pair;
 * findings sorted, allowed ones marked; returns the highest severity not
 * allowed (0 when none), or -1 + err. */
int verify_pairs(const char *old_path, const char *new_path, const struct hpk *pkg,
		 const char *const *allow, size_t nr_allow, struct pair_result *r, struct hp_err *err);
void pair_result_free(struct pair_result *r);

#endif
