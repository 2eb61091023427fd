/*
 * rules_int.h - what the safety rules share inside hpverify (not an
 * interface for other tools: see rules.h).
 *
 * A rule looks at one object pair through a struct rule_ctx: the diff and
 * the plan (plan.h), which says which new functions go into the package,
 * which old functions they replace, and which old code keeps running.  Each rule is one function; each decision inside it is
 * one predicate with its reason.
 */
#ifndef HP_RULES_INT_H
#define HP_RULES_INT_H

#include "rules.h"

#include "correlate.h"
#include "dwarf.h"
#include "elfobj.h"
#include "plan.h"
#include "redirect.h"

#define PATCH_JMP_SIZE HP_REDIRECT_JMP_SIZE

/* Where the redirect of one replaced (old) function goes: [start, end) of
 * its section, which holds its entry. */
struct patch_site {
	const struct hp_symbol *func;
	uint64_t start, end;
};

struct rule_ctx {
	struct hp_elf *old, *new;
	const struct hp_diff *d;
	struct findings *out;
	const struct hp_plan *plan;
	const char *unit;    /* source name of the pair, for unit-level findings */
	struct patch_site *sites;   /* of every replaced function (rules_code.c) */
	size_t nr_sites;
};

/* ---- the pair's shape: read from the plan (rules.c) ---- */

/* New function n goes into the package. */
bool is_packaged(const struct rule_ctx *c, const struct hp_symbol *n);
/* Old function o is redirected to new code (a replaced function's entry). */
bool is_replaced(const struct rule_ctx *c, const struct hp_symbol *o);
/* Old function o keeps running its old code after the patch. */
bool is_kept_function(const struct rule_ctx *c, const struct hp_symbol *o);
#define package_name plan_package_name
/* DWARF facts of a function symbol ("f.isra.0" -> f), or NULL. */
const struct hp_dwarf_func *dwarf_func_of(const struct hp_elf *e, const struct hp_symbol *s);

/* Add a finding; the message is "SYMBOL: " followed by fmt. */
void report(struct rule_ctx *c, const char *rule, int severity, const char *symbol,
	    const char *file, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
void report_sym(struct rule_ctx *c, const char *rule, int severity, const struct hp_symbol *s,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* ---- the rules on an object pair ---- */
void check_existing_data(struct rule_ctx *c);      /* HP001, HP008 (rules_data.c) */
void check_new_tls(struct rule_ctx *c);            /* HP002 (rules_data.c) */
void check_interface(struct rule_ctx *c);          /* HP003 (rules_iface.c) */
void check_type_layout(struct rule_ctx *c);        /* HP004 (rules_iface.c) */
void check_patch_site_size(struct rule_ctx *c);    /* HP005 (rules_code.c) */
void check_branch_into_site(struct rule_ctx *c);   /* HP006 (rules_code.c) */
void check_run_once(struct rule_ctx *c);           /* HP007 (rules_data.c) */
void check_relocations(struct rule_ctx *c);        /* HP009 (rules_code.c) */
/* The words after "hpapply cannot resolve relocation TYPE to X at +N"
 * (HP009 on objects and on packages): why TYPE is refused when hpapply(1)
 * does resolve some of them. */
const char *unresolved_reloc_why(unsigned type);
void check_never_returns(struct rule_ctx *c);      /* HP010 (rules_code.c) */
void check_build_mismatch(struct rule_ctx *c);     /* HP011 (rules_iface.c) */
void check_new_dependencies(struct rule_ctx *c);   /* HP012 (rules_code.c) */
void check_equivalence(struct rule_ctx *c, const bool *redirected); /* HP015 (rules_equiv.c) */
void check_link_time_optimized(struct rule_ctx *c); /* HP013 (rules_iface.c) */

/* The one line (findings.not_run) for pairs without DWARF. */
#define RULES_NOT_RUN_WITHOUT_DWARF \
	"HP003 signatures, HP004 type layouts, HP010 noreturn, HP011 code-generation flags: " \
	"not checked on objects without DWARF (rebuild them with -g)"
void note_without_dwarf(struct rule_ctx *c);
/* Some new function of the pair goes into the package. */
bool packages_anything(const struct rule_ctx *c);

/* ---- the rules on a package alone (rules_pkg.c) ---- */
void check_package(const struct hpk *p, struct findings *out);

/* HP011's comparison, shared by the pair and package forms: NULL when the
 * producers agree, else a message (caller frees) and *severity. */
char *compare_producers(const char *old_producer, const char *new_producer, int *severity);

#endif
