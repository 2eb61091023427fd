/*
 * review.h - what an auditor reads besides the --audit listing:
 *
 *   review_text()  hpverify --audit --base OLD PKG: for each replaced
 *                  function, the old code (from OLD) against the new code
 *                  (from the package) as a unified diff of their
 *                  disassembly, each relocated operand marked call / jump /
 *                  read / write / address, and the redirect hpapply writes;
 *   verify_new()   hpverify --new NEW PKG: every function of the package
 *                  is the code NEW compiled (the same bytes outside the
 *                  fields the package relocates, the same size).
 */
#ifndef HP_REVIEW_H
#define HP_REVIEW_H

#include <stdio.h>

#include "hpk.h"
#include "util.h"

int review_text(FILE *out, const struct hpk *p, const char *old_path, struct hp_err *err);

enum new_status {
	NEW_MATCH = 0,
	NEW_MISSING,          /* no such function in NEW */
	NEW_SIZE,             /* another size */
	NEW_BYTES,            /* same size, other bytes */
};

struct new_check {
	uint32_t func;        /* index into the package's funcs[] */
	enum new_status status;
	uint64_t new_size;
	uint32_t first_diff;  /* NEW_BYTES: first differing byte */
	char *where;          /* the object of NEW it was found in, or NULL */
};

struct new_result {
	struct new_check *v;  /* one per package function, package order */
	size_t n;
	size_t nr_objects;
};

const char *new_status_name(enum new_status s);
int verify_new(const struct hpk *p, const char *new_path, struct new_result *r, struct hp_err *err);
/* Index of the first function that is not NEW's code, or r->n. */
size_t new_first_mismatch(const struct new_result *r);
void new_result_free(struct new_result *r);

#endif
