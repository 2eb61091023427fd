/*
 * procmaps.h - the memory map of a process (/proc/PID/maps) and the free
 * gaps between its mappings.
 */
#ifndef HP_PROCMAPS_H
#define HP_PROCMAPS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

struct mapping {
	uint64_t start, end;   /* [start, end) */
	uint64_t offset;       /* file offset of start */
	bool r, w, x, shared;
	unsigned dev_major, dev_minor;
	uint64_t inode;
	char *path;            /* NULL for an anonymous mapping; " (deleted)" removed */
	bool deleted;          /* the file was deleted or replaced since it was mapped */
};

struct proc_maps {
	struct mapping *v;
	size_t n, cap;
};

int maps_read(pid_t pid, struct proc_maps *m, struct hp_err *err);
void maps_free(struct proc_maps *m);
/* The mapping holding addr, or NULL. */
const struct mapping *maps_find(const struct proc_maps *m, uint64_t addr);
/* [lo, hi) is all mapped, and only by anonymous mappings (memory hpapply
 * mapped has no file; a damaged record must not make us unmap a file). */
bool maps_all_anonymous(const struct proc_maps *m, uint64_t lo, uint64_t hi);
/* True for "[stack]", "[heap]", "[vdso]" and the like. */
bool mapping_is_special(const struct mapping *mp);

/* Lowest and highest user addresses a mapping may use on x86-64. */
#define MAPS_LOWEST  0x10000ULL
#define MAPS_HIGHEST 0x7ffffffff000ULL

#endif
