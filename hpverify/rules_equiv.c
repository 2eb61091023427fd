/*
 * rules_equiv.c - HP015, the equivalence check (plan.h, plan_check()):
 * with the package applied, every path from old code that keeps running
 * into code that changed must land on a redirected entry.
 *
 * Example: gcc splits 'check()' into an inlined header and the body
 * 'check.part.0', and unchanged 'a()' calls check.part.0 directly.  A
 * package that redirected only check() would leave a() running the old
 * body: "a() calls check.part.0 directly; check.part.0 is not replaced".
 */
#include "rules_int.h"

#include <stdlib.h>
#include <string.h>

/* "a()", "a table in .rodata", "code at .text.asm+0x10 (no function symbol)" */
static void describe_from(const struct plan_ref *r, struct strbuf *sb)
{
	if (!r->from_sec)
		sb_adds(sb, "code in other objects (it is global)");
	else if (r->from && r->from->kind == HP_SYM_FUNC)
		sb_addf(sb, "%s()", r->from->name);
	else if (r->from)
		sb_addf(sb, "%s (data)", r->from->name);
	else if (is_text_sec(r->from_sec))
		sb_addf(sb, "code at %s+0x%llx (no function symbol)", r->from_sec->name,
			(unsigned long long)r->from_off);
	else
		sb_addf(sb, "a table in %s", r->from_sec->name);
}

static void report_path(struct rule_ctx *c, const struct plan_path *x, size_t more)
{
	const struct plan_ref *r = &x->ref;
	struct strbuf from;
	const char *verb = !r->from_sec ? "call" : r->branch ? "calls" : "refers to";

	sb_init(&from);
	describe_from(r, &from);
	if (x->kind == PATH_INSIDE)
		report_sym(c, "HP015", HPK_SEV_ERROR, r->to,
			   "%s %s %s%+lld, past the redirected entry; it would run the old code there%s",
			   from.buf, verb, r->to->name, (long long)r->to_off, more ? " (and more)" : "");
	else if (r->to_off)
		report_sym(c, "HP015", HPK_SEV_ERROR, r->to,
			   "%s %s %s%+lld directly; %s is not replaced, it would keep running the old code%s",
			   from.buf, verb, r->to->name, (long long)r->to_off, r->to->name, more ? " (and more)" : "");
	else
		report_sym(c, "HP015", HPK_SEV_ERROR, r->to,
			   "%s %s %s directly; %s is not replaced, it would keep running the old code%s",
			   from.buf, verb, r->to->name, r->to->name, more ? " (and more)" : "");
	sb_free(&from);
}

void check_equivalence(struct rule_ctx *c, const bool *redirected)
{
	struct plan_path *v;
	size_t n = plan_check(c->plan, redirected, &v);

	/* one finding per old function: the first path to it */
	for (size_t i = 0; i < n; i++) {
		size_t more = 0;
		bool seen = false;

		for (size_t k = 0; k < i && !seen; k++)
			seen = v[k].ref.to == v[i].ref.to;
		if (seen)
			continue;
		for (size_t k = i + 1; k < n; k++)
			more += v[k].ref.to == v[i].ref.to;
		report_path(c, &v[i], more);
	}
	free(v);
}
