/*
 * audit.h - hpverify --audit: everything a package would put into a
 * running program, listed for a security reviewer.  Each function with
 * its source location, kind, old size and fingerprint, and its
 * disassembly with every relocation shown as what it resolves to; each
 * data object as a hexdump with its relocations; each reference to the
 * running program.  (Metadata and findings come from report.h.)
 */
#ifndef HP_AUDIT_H
#define HP_AUDIT_H

#include <stdio.h>

#include "hpk.h"
#include "json.h"
#include "util.h"

int audit_text(FILE *out, const struct hpk *p, struct hp_err *err);
/* Members "functions", "data", "references" of the JSON document. */
int audit_json(struct json *j, const struct hpk *p, struct hp_err *err);

const char *audit_bind_name(uint8_t bind);    /* "local", "global", "weak" */
const char *audit_type_name(uint8_t type);    /* "func", "object", "tls", "notype" */

#endif
