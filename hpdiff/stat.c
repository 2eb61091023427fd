/*
 * stat.c - the tree-level summary of a comparison (stat.h).
 */
#include "stat.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

struct stat_object *stat_object(struct tree_stat *t, const char *name)
{
	for (size_t i = 0; i < t->nr_changed; i++)
		if (!strcmp(t->changed[i].name, name))
			return &t->changed[i];
	t->changed = xrealloc(t->changed, (t->nr_changed + 1) * sizeof(*t->changed));
	memset(&t->changed[t->nr_changed], 0, sizeof(t->changed[0]));
	t->changed[t->nr_changed].name = xstrdup(name);
	return &t->changed[t->nr_changed++];
}

void stat_add_func(struct stat_object *o, const char *func)
{
	for (size_t i = 0; i < o->nr_funcs; i++)
		if (!strcmp(o->funcs[i], func))
			return;
	o->funcs = xrealloc(o->funcs, (o->nr_funcs + 1) * sizeof(*o->funcs));
	o->funcs[o->nr_funcs++] = xstrdup(func);
}

void stat_one_sided(struct tree_stat *t, const char *name, bool old_side)
{
	char ***v = old_side ? &t->only_old : &t->only_new;
	size_t *n = old_side ? &t->nr_only_old : &t->nr_only_new;

	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = xstrdup(name);
}

static void add_names(struct strbuf *sb, char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sb_addf(sb, "%s%s", i ? ", " : "", v[i]);
}

char *stat_line(const struct tree_stat *t)
{
	struct strbuf sb;

	sb_init(&sb);
	sb_addf(&sb, "%zu object%s compared, %zu changed", t->compared, t->compared == 1 ? "" : "s",
		t->nr_changed);
	for (size_t i = 0; i < t->nr_changed; i++) {
		const struct stat_object *o = &t->changed[i];

		sb_addf(&sb, "%s%s (", i ? ", " : ": ", o->name);
		add_names(&sb, o->funcs, o->nr_funcs);
		if (o->nr_data)
			sb_addf(&sb, "%s%zu data object%s", o->nr_funcs ? "; " : "", o->nr_data,
				o->nr_data == 1 ? "" : "s");
		sb_addc(&sb, ')');
	}
	if (t->nr_only_old) {
		sb_addf(&sb, "; %zu only in OLD: ", t->nr_only_old);
		add_names(&sb, t->only_old, t->nr_only_old);
	}
	if (t->nr_only_new) {
		sb_addf(&sb, "; %zu only in NEW: ", t->nr_only_new);
		add_names(&sb, t->only_new, t->nr_only_new);
	}
	return sb_detach(&sb);
}

static void json_names(struct json *j, const char *key, char *const *v, size_t n)
{
	json_key(j, key);
	json_begin_array(j);
	for (size_t i = 0; i < n; i++)
		json_string(j, v[i]);
	json_end_array(j);
}

void stat_json(struct json *j, const struct tree_stat *t)
{
	json_kv_uint(j, "objects_compared", t->compared);
	json_key(j, "objects_changed");
	json_begin_array(j);
	for (size_t i = 0; i < t->nr_changed; i++) {
		json_begin_object(j);
		json_kv_string(j, "name", t->changed[i].name);
		json_names(j, "functions", t->changed[i].funcs, t->changed[i].nr_funcs);
		json_kv_uint(j, "data_changed", t->changed[i].nr_data);
		json_end_object(j);
	}
	json_end_array(j);
	json_names(j, "only_in_old", t->only_old, t->nr_only_old);
	json_names(j, "only_in_new", t->only_new, t->nr_only_new);
}

void stat_free(struct tree_stat *t)
{
	for (size_t i = 0; i < t->nr_changed; i++) {
		for (size_t k = 0; k < t->changed[i].nr_funcs; k++)
			free(t->changed[i].funcs[k]);
		free(t->changed[i].funcs);
		free(t->changed[i].name);
	}
	free(t->changed);
	for (size_t i = 0; i < t->nr_only_old; i++)
		free(t->only_old[i]);
	for (size_t i = 0; i < t->nr_only_new; i++)
		free(t->only_new[i]);
	free(t->only_old);
	free(t->only_new);
	memset(t, 0, sizeof(*t));
}
