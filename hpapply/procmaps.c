/*
 * procmaps.c - read /proc/PID/maps (procmaps.h).
 *
 * A line is "start-end perms offset major:minor inode   path"; the path
 * may hold spaces and ends with " (deleted)" when the file is gone.
 * Mappings come sorted by address, which the gap search relies on.
 */
#include "procmaps.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add_mapping(struct proc_maps *m, const struct mapping *mp)
{
	GROW(m->v, m->cap, m->n + 1);
	m->v[m->n++] = *mp;
}

/* Parse one line; false if it is not a maps line. */
static bool parse_line(char *line, struct mapping *mp)
{
	char perms[8];
	int pos = 0;
	char *path;
	size_t len;

	memset(mp, 0, sizeof(*mp));
	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %" SCNu64 "%n",
		   &mp->start, &mp->end, perms, &mp->offset, &mp->dev_major, &mp->dev_minor,
		   &mp->inode, &pos) != 7 || strlen(perms) < 4 || mp->end <= mp->start)
		return false;
	mp->r = perms[0] == 'r';
	mp->w = perms[1] == 'w';
	mp->x = perms[2] == 'x';
	mp->shared = perms[3] == 's';
	path = line + pos;
	while (*path == ' ' || *path == '\t')
		path++;
	len = strlen(path);
	while (len && (path[len - 1] == '\n' || path[len - 1] == ' '))
		path[--len] = '\0';
	if (len > 10 && !strcmp(path + len - 10, " (deleted)")) {
		mp->deleted = true;
		path[len - 10] = '\0';
	}
	mp->path = *path ? xstrdup(path) : NULL;
	return true;
}

int maps_read(pid_t pid, struct proc_maps *m, struct hp_err *err)
{
	char name[64], *line = NULL;
	size_t cap = 0;
	FILE *f;

	memset(m, 0, sizeof(*m));
	snprintf(name, sizeof(name), "/proc/%d/maps", (int)pid);
	f = fopen(name, "re");
	if (!f)
		return hp_err_set(err, "process %d: cannot read %s: %s", (int)pid, name, strerror(errno));
	while (getline(&line, &cap, f) > 0) {
		struct mapping mp;

		if (parse_line(line, &mp))
			add_mapping(m, &mp);
	}
	free(line);
	fclose(f);
	if (m->n == 0)
		return hp_err_set(err, "process %d: %s is empty (a kernel thread or a zombie?)", (int)pid, name);
	return 0;
}

void maps_free(struct proc_maps *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].path);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

const struct mapping *maps_find(const struct proc_maps *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < m->v[mid].start)
			hi = mid;
		else if (addr >= m->v[mid].end)
			lo = mid + 1;
		else
			return &m->v[mid];
	}
	return NULL;
}

bool maps_all_anonymous(const struct proc_maps *m, uint64_t lo, uint64_t hi)
{
	for (uint64_t a = lo; a < hi;) {
		const struct mapping *mp = maps_find(m, a);

		if (!mp || mp->path)
			return false;
		a = mp->end;
	}
	return true;
}

bool mapping_is_special(const struct mapping *mp)
{
	return mp->path && mp->path[0] == '[';
}
