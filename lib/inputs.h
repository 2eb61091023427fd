/*
 * inputs.h - what a command was given: two objects, two static archives
 * (members paired by name), or two directories (objects paired by relative
 * path).  Produces the list of object pairs, in a stable order.
 */
#ifndef HP_INPUTS_H
#define HP_INPUTS_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct input_obj {
	char *label;        /* for messages: "old.a(parse.o)", "old/net/parse.o" */
	/* what a package records: the name relative to the tree given, so
	 * that the same fix gives the same package from any directory:
	 * "old.a(parse.o)" for "../b/old.a(parse.o)", "net/parse.o" for
	 * "old/net/parse.o", "parse.o" for "/tmp/old/parse.o" */
	char *recorded;
	uint8_t *data;
	size_t size;
	bool mapped;        /* map_file() (a plain object), else malloc'd */
};

struct input_pair {
	char *name;         /* member name or relative path; the object's name for a plain pair */
	struct input_obj old, new;   /* data NULL when one side lacks it */
};

struct input_set {
	struct input_pair *pairs;
	size_t nr_pairs, cap_pairs;
};

int collect_inputs(const char *old_path, const char *new_path, struct input_set *set,
		   struct hp_err *err);
void free_inputs(struct input_set *set);

/* path names a directory or a static archive (what collect_inputs()
 * pairs member by member), not a single object; false when it cannot
 * be read (the loader then says why). */
bool is_tree_input(const char *path);

/* Members of an archive image (exposed for tests and fuzzing). */
int archive_members(const char *label, const uint8_t *data, size_t size, struct input_set *set,
		    int side, struct hp_err *err);

#endif
