/*
 * stat.h - the tree-level summary of a comparison: how many object pairs
 * were compared, which objects changed and which functions in each
 * ("15 objects compared, 1 changed: inflate.o (inflate)").  hpdiff --stat
 * fills it from the diffs, hpbuild from the package it wrote; both print
 * the same line and the same JSON.
 */
#ifndef HP_STAT_H
#define HP_STAT_H

#include <stddef.h>

#include "json.h"

struct stat_object {
	char *name;              /* the pair's name: "inflate.o", "net/parse.o" */
	char **funcs;            /* in the order added */
	size_t nr_funcs;
	size_t nr_data;          /* data objects changed, added or removed */
};

struct tree_stat {
	size_t compared;         /* pairs with both sides */
	struct stat_object *changed;
	size_t nr_changed;
	char **only_old, **only_new;   /* objects on one side only */
	size_t nr_only_old, nr_only_new;
};

/* The changed object named name (added at the end when new). */
struct stat_object *stat_object(struct tree_stat *t, const char *name);
void stat_add_func(struct stat_object *o, const char *func);
void stat_one_sided(struct tree_stat *t, const char *name, bool old_side);
/* "N objects compared, M changed: a.o (f, g), b.o (h)[; K only in OLD: x.o]"
 * without a newline; caller frees. */
char *stat_line(const struct tree_stat *t);
/* "objects_compared", "objects_changed": [{ "name", "functions",
 * "data_changed" }], "only_in_old", "only_in_new" as keys of the object
 * being written. */
void stat_json(struct json *j, const struct tree_stat *t);
void stat_free(struct tree_stat *t);

#endif
