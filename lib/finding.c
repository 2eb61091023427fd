/*
 * finding.c - the finding list, its order, and its one text and one JSON
 * form (finding.h).
 */
#include "finding.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hpk.h"

void findings_add(struct findings *f, const char *rule, int severity, const char *symbol,
		  const char *file, unsigned line, char *message)
{
	struct finding *x;

	GROW(f->v, f->cap, f->n + 1);
	x = &f->v[f->n++];
	memset(x, 0, sizeof(*x));
	x->rule = rule ? rule : "HP000";
	x->severity = severity;
	x->symbol = xstrdup(symbol ? symbol : "?");
	x->file = file ? xstrdup(file) : NULL;
	x->line = line;
	x->message = message;
}

void findings_add_not_run(struct findings *f, char *why)
{
	for (size_t i = 0; i < f->nr_not_run; i++)
		if (!strcmp(f->not_run[i], why)) {
			free(why);
			return;
		}
	f->not_run = xrealloc(f->not_run, (f->nr_not_run + 1) * sizeof(*f->not_run));
	f->not_run[f->nr_not_run++] = why;
}

void findings_move(struct findings *dst, struct findings *src)
{
	for (size_t i = 0; i < src->n; i++) {
		GROW(dst->v, dst->cap, dst->n + 1);
		dst->v[dst->n++] = src->v[i];
	}
	if (src->nr_not_run) {
		dst->not_run = xrealloc(dst->not_run, (dst->nr_not_run + src->nr_not_run) * sizeof(char *));
		memcpy(dst->not_run + dst->nr_not_run, src->not_run, src->nr_not_run * sizeof(char *));
		dst->nr_not_run += src->nr_not_run;
	}
	if (src->nr_static_sources) {
		dst->static_sources = xrealloc(dst->static_sources,
					       (dst->nr_static_sources + src->nr_static_sources) * sizeof(char *));
		memcpy(dst->static_sources + dst->nr_static_sources, src->static_sources,
		       src->nr_static_sources * sizeof(char *));
		dst->nr_static_sources += src->nr_static_sources;
	}
	free(src->v);
	free(src->not_run);
	free(src->static_sources);
	memset(src, 0, sizeof(*src));
}

int findings_apply_allow(struct findings *f, const char *const *allow, size_t nr_allow)
{
	int worst = 0;

	for (size_t i = 0; i < f->n; i++) {
		struct finding *x = &f->v[i];

		for (size_t k = 0; k < nr_allow; k++)
			if (allow[k] && !strcasecmp(allow[k], x->rule))
				x->overridden = true;
		if (!x->overridden && x->severity > worst)
			worst = x->severity;
	}
	return worst;
}

static int cmp_opt_str(const char *a, const char *b)
{
	if (!a || !b)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

static int cmp_finding(const void *a, const void *b)
{
	const struct finding *x = a, *y = b;
	int c;

	if ((c = cmp_opt_str(x->file, y->file)))
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if ((c = strcmp(x->rule, y->rule)))
		return c;
	if ((c = cmp_opt_str(x->symbol, y->symbol)))
		return c;
	return cmp_opt_str(x->message, y->message);
}

static int cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void findings_sort(struct findings *f)
{
	if (f->n > 1)
		qsort(f->v, f->n, sizeof(*f->v), cmp_finding);
	if (f->nr_not_run > 1)
		qsort(f->not_run, f->nr_not_run, sizeof(*f->not_run), cmp_str_ptr);
	/* pairs checked on several threads each say it once; the run says it once */
	for (size_t i = 1; i < f->nr_not_run;) {
		if (!strcmp(f->not_run[i], f->not_run[i - 1])) {
			free(f->not_run[i]);
			memmove(&f->not_run[i], &f->not_run[i + 1], (f->nr_not_run - i - 1) * sizeof(*f->not_run));
			f->nr_not_run--;
		} else {
			i++;
		}
	}
}

void findings_free(struct findings *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].symbol);
		free(f->v[i].file);
		free(f->v[i].message);
	}
	free(f->v);
	for (size_t i = 0; i < f->nr_not_run; i++)
		free(f->not_run[i]);
	free(f->not_run);
	for (size_t i = 0; i < f->nr_static_sources; i++)
		free(f->static_sources[i]);
	free(f->static_sources);
	memset(f, 0, sizeof(*f));
}

const char *severity_name(int severity)
{
	return severity == HPK_SEV_ERROR ? "error" : severity == HPK_SEV_WARNING ? "warning" : "note";
}

static const char *or_none(const char *s, const char *none)
{
	return s && s[0] ? s : none;
}

struct finding_ref finding_ref_of(const struct finding *x)
{
	return (struct finding_ref){ .rule = x->rule, .severity = x->severity, .symbol = x->symbol,
				     .file = x->file, .line = x->line, .message = x->message,
				     .allowed = x->overridden };
}

void finding_ref_text(const struct finding_ref *x, struct strbuf *sb)
{
	sb_addf(sb, "%s:%u: %s %s%s: %s", or_none(x->file, "?"), x->line, severity_name(x->severity),
		or_none(x->rule, "?"), x->allowed ? " (allowed)" : "", or_none(x->message, "(no message)"));
}

void finding_ref_json(struct json *j, const struct finding_ref *x)
{
	json_begin_object(j);
	json_kv_string(j, "id", x->rule);
	json_kv_string(j, "severity", severity_name(x->severity));
	json_kv_string(j, "symbol", x->symbol);
	json_kv_string(j, "file", x->file);
	json_kv_uint(j, "line", x->line);
	json_kv_string(j, "message", x->message);
	json_kv_bool(j, "allowed", x->allowed);
	json_end_object(j);
}

void finding_text(const struct finding *x, struct strbuf *sb)
{
	struct finding_ref r = finding_ref_of(x);

	finding_ref_text(&r, sb);
}

void findings_json(struct json *j, const char *key, const struct finding *v, size_t n)
{
	json_key(j, key);
	json_begin_array(j);
	for (size_t i = 0; i < n; i++) {
		struct finding_ref r = finding_ref_of(&v[i]);

		finding_ref_json(j, &r);
	}
	json_end_array(j);
}
