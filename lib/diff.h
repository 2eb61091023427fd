/*
 * diff.h - the diff engine: which functions and data objects of two builds
 * of one translation unit changed, were added or removed, and why.
 *
 * hpdiff prints it; the plan (plan.h) decides from it what a package
 * holds, and hpbuild and hpverify read that plan.
 */
#ifndef HP_DIFF_H
#define HP_DIFF_H

#include "elfobj.h"
#include "util.h"

struct hp_change {
	enum hp_status status;         /* HP_CHANGED, HP_ADDED, HP_REMOVED (HP_UNCHANGED with --all) */
	bool is_func;
	struct hp_symbol *old, *new;   /* either is NULL for added/removed */
	const char *name;              /* as reported: new name, or old name if removed */
	const char *file;
	unsigned line;
	char **reasons;
	size_t nr_reasons;
	bool line_only;                /* only __LINE__-style immediates moved */
};

struct hp_diff {
	struct hp_elf *old, *new;
	struct hp_change *changes;     /* sorted: functions then objects, by name */
	size_t nr_changes, cap_changes;
	char **notes;                  /* "old.o: no DWARF ..." */
	size_t nr_notes;
};

/* Load both objects, prepare keys and fingerprints, correlate them. */
int diff_load_pair(const char *old_path, const char *new_path, struct hp_elf **old,
		   struct hp_elf **new, struct hp_err *err);
/* One input of diff_load_two(): a file (data NULL) or an image in memory. */
struct load_input {
	const char *name;
	const uint8_t *data;
	size_t size;
	/* data outlives the loaded object: it is read in place, not copied */
	bool borrow;
	bool mapped;   /* ... and it is a map_file() mapping */
};
/* Load and prepare both objects at once, the old one on a second thread
 * (loading is most of the work and the two are independent); then
 * correlate them. */
int diff_load_two(const struct load_input *old_in, const struct load_input *new_in,
		  struct hp_elf **old, struct hp_elf **new, struct hp_err *err);

/* Prepare an object already loaded (keys, fingerprints). */
void diff_prepare(struct hp_elf *e);

/* Compare prepared, correlated objects.  include_unchanged adds
 * HP_UNCHANGED entries (hpdiff --all). */
void diff_objects(struct hp_elf *old, struct hp_elf *new, bool include_unchanged,
		  struct hp_diff *d);
void diff_free(struct hp_diff *d);

/* Number of entries that are not HP_UNCHANGED. */
size_t diff_count(const struct hp_diff *d);

const char *status_name(enum hp_status s);

#endif
