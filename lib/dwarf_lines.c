/*
 * dwarf_lines.c - a compile unit's file table, read from the line program
 * header alone.
 *
 * Why not libdwarf: its only way to the file table of a unit
 * (dwarf_srclines_b()) decodes the whole line program first, allocating
 * every row; on SQLite's amalgamation that was 44 % of hpbuild's time and
 * 125 MB of its peak memory, for a table of a few dozen names at the top
 * of the header.  We never use the rows.
 *
 * What it returns is what dwarf_srclines_files_data_b() and
 * dwarf_srclines_include_dir_data() gave: the raw name and the raw
 * include directory of each entry, numbered as the DWARF version numbers
 * them (from 1 up to DWARF 4, from 0 in DWARF 5).  It reads the forms gcc
 * and clang write (DWARF 2 to 5, 32- and 64-bit); on anything else - an
 * unusual form, a header that does not parse - it returns -1 and the
 * caller asks libdwarf, which either reads it or says what is wrong, as
 * before.  So a header we cannot read costs time, never an answer.
 *
 * Every read is bounded by the header's own length, and every count by
 * the bytes left, so hostile input cannot make it read out of bounds or
 * allocate more than the header's size.
 */
#include "dwarf_int.h"

#include <stdlib.h>
#include <string.h>

/* A cursor over [p, end). */
struct cursor {
	const uint8_t *p, *end;
	bool bad;
};

static uint64_t take(struct cursor *c, unsigned n)
{
	uint64_t v;

	if (c->bad || (size_t)(c->end - c->p) < n) {
		c->bad = true;
		return 0;
	}
	v = get_le(c->p, n);
	c->p += n;
	return v;
}

static uint64_t take_uleb(struct cursor *c)
{
	uint64_t v = 0;
	unsigned shift = 0;

	while (!c->bad && c->p < c->end) {
		uint8_t b = *c->p++;
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			return v;
	}
	c->bad = true;
	return 0;
}

/* An inline NUL-terminated string. */
static const char *take_str(struct cursor *c)
{
	const char *s = (const char *)c->p;
	const uint8_t *nul;

	if (c->bad || !(nul = memchr(c->p, 0, (size_t)(c->end - c->p)))) {
		c->bad = true;
		return NULL;
	}
	c->p = nul + 1;
	return s;
}

/* A string at off in a string section; NULL when off is outside it or
 * the string is not terminated inside it. */
static const char *str_at(const uint8_t *sec, uint64_t size, uint64_t off)
{
	if (!sec || off >= size || !memchr(sec + off, 0, (size_t)(size - off)))
		return NULL;
	return (const char *)sec + off;
}

/* One entry of a DWARF 5 directory or file list. */
struct entry {
	const char *path;
	uint64_t dir;
};

/* DWARF 5 entry formats: pairs of (content type, form). */
struct formats {
	uint64_t v[2 * 255];
	unsigned n;
};

static bool take_formats(struct cursor *c, struct formats *f)
{
	f->n = (unsigned)take(c, 1);
	for (unsigned i = 0; i < 2 * f->n; i++)
		f->v[i] = take_uleb(c);
	return !c->bad;
}

/* Read one attribute value of form into *num or *str.  false for a form
 * we do not read (the caller falls back to libdwarf). */
static bool take_form(struct cursor *c, uint64_t form, unsigned offset_size,
		      const struct dw_sections *secs, uint64_t *num, const char **str)
{
	*num = 0;
	*str = NULL;
	switch (form) {
	case DW_FORM_string:
		*str = take_str(c);
		break;
	case DW_FORM_line_strp:
		*str = str_at(secs->line_str, secs->line_str_size, take(c, offset_size));
		return !c->bad && *str;
	case DW_FORM_strp:
		*str = str_at(secs->str, secs->str_size, take(c, offset_size));
		return !c->bad && *str;
	case DW_FORM_udata:
		*num = take_uleb(c);
		break;
	case DW_FORM_data1: *num = take(c, 1); break;
	case DW_FORM_data2: *num = take(c, 2); break;
	case DW_FORM_data4: *num = take(c, 4); break;
	case DW_FORM_data8: *num = take(c, 8); break;
	case DW_FORM_data16:
		take(c, 8);
		take(c, 8);
		break;
	case DW_FORM_block: {
		uint64_t len = take_uleb(c);
		if (c->bad || len > (uint64_t)(c->end - c->p))
			return false;
		c->p += len;
		break;
	}
	default:
		return false;
	}
	return !c->bad;
}

/* A DWARF 5 list of count entries; NULL on anything we do not read. */
static struct entry *take_entries(struct cursor *c, const struct formats *f, unsigned offset_size,
				  const struct dw_sections *secs, uint64_t *count)
{
	struct entry *v;

	*count = take_uleb(c);
	/* every entry takes a byte at least, so count is bounded by the
	 * header: no allocation larger than the input */
	if (c->bad || (*count && !f->n) || *count > (uint64_t)(c->end - c->p))
		return NULL;
	v = xcalloc(*count ? *count : 1, sizeof(*v));
	for (uint64_t i = 0; i < *count; i++)
		for (unsigned k = 0; k < f->n; k++) {
			uint64_t num;
			const char *str;
			if (!take_form(c, f->v[2 * k + 1], offset_size, secs, &num, &str)) {
				free(v);
				return NULL;
			}
			if (f->v[2 * k] == DW_LNCT_path)
				v[i].path = str;
			else if (f->v[2 * k] == DW_LNCT_directory_index)
				v[i].dir = num;
		}
	return v;
}

/* Fill cu->files from DWARF 5 lists: directory k is dirs[k]. */
static int files_v5(struct cursor *c, unsigned offset_size, const struct dw_sections *secs,
		    struct dw_cu *cu)
{
	struct formats f;
	struct entry *dirs, *files;
	uint64_t nr_dirs, nr_files;

	if (!take_formats(c, &f) || !(dirs = take_entries(c, &f, offset_size, secs, &nr_dirs)))
		return -1;
	if (!take_formats(c, &f) || !(files = take_entries(c, &f, offset_size, secs, &nr_files))) {
		free(dirs);
		return -1;
	}
	cu->file_base = 0;
	cu->nr_files = nr_files;
	cu->files = xcalloc(nr_files ? nr_files : 1, sizeof(*cu->files));
	for (uint64_t i = 0; i < nr_files; i++) {
		const char *dir = files[i].dir < nr_dirs ? dirs[files[i].dir].path : NULL;
		if (files[i].path)
			cu->files[i] = dw_compose_file_name(files[i].path, files[i].dir, dir, cu->comp_dir);
	}
	free(dirs);
	free(files);
	return 0;
}

/* Fill cu->files from DWARF 2-4 lists: directory k (k >= 1) is the k-th
 * include directory, file k the k-th entry. */
static int files_v4(struct cursor *c, struct dw_cu *cu)
{
	const char **dirs;
	size_t nr_dirs = 0, nr_files = 0, cap;
	struct cursor scan;

	/* count first: both lists end with an empty string, and each entry
	 * takes a byte at least */
	cap = (size_t)(c->end - c->p) + 1;
	dirs = xcalloc(cap, sizeof(*dirs));
	for (;;) {
		const char *d = take_str(c);
		if (c->bad) {
			free(dirs);
			return -1;
		}
		if (!*d)
			break;
		dirs[nr_dirs++] = d;
	}
	scan = *c;
	for (;;) {
		const char *name = take_str(&scan);
		if (scan.bad || !*name)
			break;
		take_uleb(&scan);
		take_uleb(&scan);
		take_uleb(&scan);
		nr_files++;
	}
	if (scan.bad) {
		free(dirs);
		return -1;
	}
	cu->file_base = 1;
	cu->nr_files = nr_files;
	cu->files = xcalloc(nr_files ? nr_files : 1, sizeof(*cu->files));
	for (size_t i = 0; i < nr_files; i++) {
		const char *name = take_str(c);
		uint64_t dir = take_uleb(c);
		const char *dname = dir >= 1 && dir <= nr_dirs ? dirs[dir - 1] : NULL;
		take_uleb(c);
		take_uleb(c);
		cu->files[i] = dw_compose_file_name(name, dir, dname, cu->comp_dir);
	}
	free(dirs);
	return 0;
}

int dw_line_files(const struct dw_sections *secs, uint64_t off, struct dw_cu *cu)
{
	struct cursor c;
	uint64_t unit_len, header_len;
	unsigned version, offset_size = 4, opcode_base;

	if (!secs->line || off >= secs->line_size)
		return -1;
	c.p = secs->line + off;
	c.end = secs->line + secs->line_size;
	c.bad = false;
	unit_len = take(&c, 4);
	if (unit_len == 0xffffffff) {
		offset_size = 8;
		unit_len = take(&c, 8);
	} else if (unit_len >= 0xfffffff0) {
		return -1;
	}
	if (c.bad || unit_len > (uint64_t)(c.end - c.p))
		return -1;
	c.end = c.p + unit_len;
	version = (unsigned)take(&c, 2);
	if (version < 2 || version > 5)
		return -1;
	if (version == 5)
		take(&c, 2);    /* address size, segment selector size */
	header_len = take(&c, offset_size);
	if (c.bad || header_len > (uint64_t)(c.end - c.p))
		return -1;
	c.end = c.p + header_len;
	/* min inst length, (max ops per inst), default is_stmt, line base,
	 * line range */
	take(&c, version >= 4 ? 5 : 4);
	opcode_base = (unsigned)take(&c, 1);
	if (c.bad || opcode_base == 0 || opcode_base - 1 > (unsigned)(c.end - c.p))
		return -1;
	c.p += opcode_base - 1;
	if (version == 5)
		return files_v5(&c, offset_size, secs, cu);
	return files_v4(&c, cu);
}

/* The name under its include directory unless that is the compilation
 * directory, and with the compilation directory taken off, so that two
 * builds of the same tree in different places name their files alike.
 * Directory 0 is not used: in DWARF 5 it is the compilation directory,
 * up to DWARF 4 it means "the compilation directory". */
char *dw_compose_file_name(const char *name, uint64_t dir_index, const char *dir, const char *comp_dir)
{
	char *full;
	size_t cl;

	if (name[0] == '/' || dir_index == 0)
		dir = NULL;
	full = dir && dir[0] ? xasprintf("%s/%s", dir, name) : xstrdup(name);
	cl = comp_dir ? strlen(comp_dir) : 0;
	if (cl && !strncmp(full, comp_dir, cl) && full[cl] == '/' && full[cl + 1]) {
		char *rel = xstrdup(full + cl + 1);
		free(full);
		full = rel;
	}
	return full;
}
