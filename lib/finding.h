/*
 * finding.h - a safety finding, as every tool reports it: one type, one
 * text line, one JSON object.  hpbuild prints and records them, hpverify
 * reports those recorded in a package and those it finds now.
 *
 *   text   FILE:LINE: SEVERITY RULE[ (allowed)]: MESSAGE
 *   JSON   { "id", "severity", "symbol", "file", "line", "message", "allowed" }
 */
#ifndef HP_FINDING_H
#define HP_FINDING_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h"
#include "util.h"

struct finding {
	const char *rule;        /* the rule's id: static, or owned by the package */
	int severity;            /* HPK_SEV_* */
	char *symbol;
	char *file;
	unsigned line;
	char *message;           /* one line naming the symbol */
	bool overridden;         /* allowed (--allow) */
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

/* Append one; symbol, file are copied, message is taken over. */
void findings_add(struct findings *f, const char *rule, int severity, const char *symbol,
		  const char *file, unsigned line, char *message);
void findings_add_not_run(struct findings *f, char *why);
/* Append src's findings to dst, leaving src empty. */
void findings_move(struct findings *dst, struct findings *src);
/* Mark findings of allowed rules (ids in any case) overridden; the highest severity that is
 * not overridden (0 when none). */
int findings_apply_allow(struct findings *f, const char *const *allow, size_t nr_allow);
/* Sort by file, line, rule, symbol: deterministic output. */
void findings_sort(struct findings *f);
void findings_free(struct findings *f);

/* A finding's fields, borrowed: from a struct finding, or from a package's
 * recorded findings (hpverify).  The one text printer and the one JSON
 * writer take this. */
struct finding_ref {
	const char *rule;
	int severity;            /* HPK_SEV_* */
	const char *symbol, *file;
	unsigned line;
	const char *message;
	bool allowed;
};

/* "error", "warning", "note" */
const char *severity_name(int severity);
struct finding_ref finding_ref_of(const struct finding *x);
/* The text line (no newline), appended to sb. */
void finding_ref_text(const struct finding_ref *x, struct strbuf *sb);
/* One JSON object. */
void finding_ref_json(struct json *j, const struct finding_ref *x);
void finding_text(const struct finding *x, struct strbuf *sb);
/* key: [ finding objects ] */
void findings_json(struct json *j, const char *key, const struct finding *v, size_t n);

#endif
