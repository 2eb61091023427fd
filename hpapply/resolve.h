/*
 * resolve.h - tie a package to the running process: find the module whose
 * functions it replaces, check that they are the build the package was
 * made for, and give every symbol the package references an address.
 *
 * Functions return HP_EXIT_OK, HP_EXIT_DIFF (refused: the package does not
 * fit this process; err says why) or HP_EXIT_ERROR.
 */
#ifndef HP_RESOLVE_H
#define HP_RESOLVE_H

#include "consistency.h"
#include "hpk.h"
#include "module.h"
#include "record.h"
#include "tracee.h"

struct resolution {
	struct module *mod;        /* the module the package patches */
	uint64_t *old_addr;        /* per function: the replaced function's address (0: new function) */
	uint64_t *ext;             /* per symbol: address of a symbol of the process */
	bool *ifunc;               /* per symbol: ext[] is an IFUNC resolver still to be called */
	struct guard *cold;        /* .cold parts of replaced functions */
	size_t nr_cold;
	char **names;              /* owned strings for guards */
	size_t nr_names;
};

void resolution_free(struct resolution *r);

/* Name a package function for messages: "compute" or "helper (calc.c)". */
char *func_label(const struct hpk *p, const struct hpk_func *f);
/* The source file a function's local symbols live in. */
const char *func_source(const struct hpk *p, const struct hpk_func *f);

/*
 * Find the module and check every replaced function's fingerprint against
 * memory (where a package is applied already, against the original bytes
 * its record keeps).  only_module: --module, or NULL.
 */
int resolve_module(struct module_set *set, struct tracee *t, const struct record *rec,
		   const struct hpk *p, const char *only_module, struct resolution *r, struct hp_err *err);
/* Check the fingerprints again (after stopping the process). */
int resolve_recheck(struct tracee *t, const struct record *rec, const struct hpk *p,
		    const struct resolution *r, struct hp_err *err);
/* Addresses of the symbols the package references in the process. */
int resolve_externs(struct module_set *set, const struct hpk *p, struct resolution *r,
		    struct hp_err *err);
/* Call the IFUNC resolvers (threads stopped) so ext[] holds the
 * implementations. */
int resolve_ifuncs(struct tracee *t, const struct hpk *p, struct resolution *r, struct hp_err *err);

#endif
