/*
 * plan.h - what the package for one object pair holds, decided once.
 *
 * After the diff, plan_pair() writes the decision on the model itself
 * (hp_symbol.plan, see enum hp_mark in elfobj.h), the way objtool marks
 * sym->included and kpatch sym->status:
 *   - each new function: replaced (its old twin redirected at its entry),
 *     added (entered only from packaged code), left alone, or left out
 *     because only __LINE__ values moved;
 *   - each old function: redirected, superseded (reached only through
 *     replaced code), kept running, or gone;
 *   - each data object: kept (the running storage, by its old name) or
 *     copied (new);
 *   - aliases (two function symbols at one address) as one function;
 *   - every reference from old code or data into an old function the
 *     package replaces or supersedes (plan.refs), with where it lands.
 * The builder, the safety rules, hpverify OLD NEW and the equivalence
 * check read these marks; nothing else decides what a package holds.
 *
 * The equivalence check (plan_check()) models the running old build with
 * the package applied: which old code can still run (kept functions, code
 * outside any function symbol, every data table), and proves that every
 * path from it into code that changed lands on a redirected entry.
 */
#ifndef HP_PLAN_H
#define HP_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "diff.h"
#include "elfobj.h"

struct modfile;

struct plan_options {
	bool include_line_only;   /* package __LINE__-only changes too */
	/* hpbuild --base: the linked module the package is for (modfile.h),
	 * or NULL; read-only constants it holds more than once are carried */
	const struct modfile *base;
};

/* One reference of the old object into an old function the package
 * replaces or supersedes (the plan's "interesting" targets). */
struct plan_ref {
	const struct hp_section *from_sec;
	const struct hp_symbol *from;    /* function or object holding it; NULL: none */
	uint64_t from_off;               /* offset of the field in from_sec */
	const struct hp_symbol *to;      /* the old function */
	uint64_t to_off;                 /* where it lands, from to's entry */
	bool branch;                     /* a call or jump (else an address) */
};

/* A path from code that keeps running into old code that changed. */
enum plan_path_kind {
	PATH_NOT_REDIRECTED,   /* lands in a changed function that is not redirected */
	PATH_INSIDE,           /* lands inside a redirected function, past its entry */
};

struct plan_path {
	enum plan_path_kind kind;
	struct plan_ref ref;
};

/* Writable data without a symbol that packaged code uses and that the
 * running program already has (its section is in the old object): the
 * package cannot name the running copy, and a copy would start afresh.
 * The plan records it; HP001 refuses it. */
struct plan_anon_state {
	const struct hp_symbol *user;     /* the packaged (new) function */
	const struct hp_section *sec;     /* new object's section */
	uint64_t start, len;
};

/* Code without a function symbol that packaged code reaches (a
 * hand-written asm slow path behind a local label, in its own executable
 * section): the package carries it as new code, with its relocations,
 * never as data.  Its old copy is reached only through code the package
 * replaces: any other user's fingerprint covers the region's bytes, so it
 * changed and is packaged too. */
struct plan_anon_code {
	const struct hp_section *sec;     /* new object's section */
	uint64_t start, len;
};

struct hp_plan {
	struct hp_elf *old, *new;
	struct plan_options opt;
	size_t replaced, added, line_only;   /* new functions by plan */
	struct plan_ref *refs;
	size_t nr_refs;
	struct plan_anon_state *anon_state;
	size_t nr_anon_state;
	struct plan_anon_code *anon_code;
	size_t nr_anon_code;
};

/* The index in p->anon_code of the region of sec starting at start, or -1. */
ssize_t plan_anon_code_index(const struct hp_plan *p, const struct hp_section *sec, uint64_t start);

/* Decide the plan of a prepared, correlated, diffed pair. */
void plan_pair(struct hp_plan *p, struct hp_elf *old, struct hp_elf *new, const struct hp_diff *d,
	       const struct plan_options *opt);
void plan_free(struct hp_plan *p);

/* Old function o keeps running its old code after the patch. */
bool plan_is_kept(const struct hp_symbol *o);
/* New function n goes into the package. */
bool plan_is_packaged(const struct hp_symbol *n);
/* The name the package gives packaged function n (its old name when it
 * replaces one). */
const char *plan_package_name(const struct hp_symbol *n);

/*
 * The equivalence check.  redirected[i] says whether old symbol i is
 * redirected (from the plan: plan == HP_PLAN_REPLACE; from a package: its
 * replaced functions).  Fills *paths (caller frees) with every path from
 * old code that keeps running into changed old code that is not new code
 * after the patch; returns their number.
 */
size_t plan_check(const struct hp_plan *p, const bool *redirected, struct plan_path **paths);

/* Sections whose relocations are not program references: debug info,
 * unwind tables, patchable-entry records, notes, anything not loaded. */
bool is_bookkeeping_sec(const struct hp_section *sec);

/* Where relocation r of sec points in its target's section; false if it
 * does not point into code.  A PC-relative field counts from the end of
 * its instruction (insn_end; 0: assume the field ends it); in data, from
 * the start of its table (jump tables hold 'target - table'). */
bool reloc_code_position(const struct hp_section *sec, const struct hp_reloc *r, uint64_t insn_end,
			 int64_t *pos);

#endif
