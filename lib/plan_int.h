/*
 * plan_int.h - what plan.c and plan_data.c share (not an interface: see
 * plan.h).
 */
#ifndef HP_PLAN_INT_H
#define HP_PLAN_INT_H

#include <stdbool.h>

#include "plan.h"

/* Size, code or references differ between old o and new n. */
bool plan_fingerprint_differs(const struct hp_symbol *o, const struct hp_symbol *n);
/* The symbol an alias stands for (itself when it is none). */
struct hp_symbol *plan_primary(struct hp_symbol *s);

/* Data objects kept or copied; 'must' (by new symbol) gets the functions
 * packaged because of the data they read (plan_data.c). */
void plan_data(struct hp_plan *p, bool *must);
/* After the functions: writable data without a symbol that packaged code
 * uses, code without a symbol it reaches, the base module's duplicated
 * constants. */
void plan_anon_state(struct hp_plan *p);
void plan_anon_code(struct hp_plan *p);
void plan_base_constants(struct hp_plan *p);

#endif
