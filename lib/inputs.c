/*
 * inputs.c - pair up the inputs of a command (inputs.h): hpbuild, hpverify.
 *
 * Archives are read here rather than with libelf's archive walker so that
 * every header field is checked before use (a hostile archive is one more
 * parser): the common format with GNU long names ("//" table, "/N"
 * references) and BSD long names ("#1/N"); the symbol index ("/",
 * "/SYM64/", "__.SYMDEF") is skipped; thin archives are refused.
 */
#include "inputs.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

enum { OLD_SIDE = 0, NEW_SIDE = 1 };

static struct input_pair *pair_named(struct input_set *set, const char *name, int side)
{
	/* the k-th member of a name on one side pairs with the k-th on the other */
	for (size_t i = 0; i < set->nr_pairs; i++) {
		struct input_pair *p = &set->pairs[i];
		struct input_obj *o = side == OLD_SIDE ? &p->old : &p->new;
		if (!strcmp(p->name, name) && !o->data)
			return p;
	}
	GROW(set->pairs, set->cap_pairs, set->nr_pairs + 1);
	memset(&set->pairs[set->nr_pairs], 0, sizeof(set->pairs[0]));
	set->pairs[set->nr_pairs].name = xstrdup(name);
	return &set->pairs[set->nr_pairs++];
}

static void add_obj(struct input_set *set, const char *name, int side, char *label,
		    char *recorded, const uint8_t *data, size_t size)
{
	struct input_pair *p = pair_named(set, name, side);
	struct input_obj *o = side == OLD_SIDE ? &p->old : &p->new;

	o->label = label;
	o->recorded = recorded;
	o->data = xmalloc(size ? size : 1);
	memcpy(o->data, data, size);
	o->size = size;
}

static size_t parse_decimal(const char *s, size_t n, bool *ok)
{
	size_t v = 0, i = 0;

	while (i < n && s[i] == ' ')
		i++;
	if (i == n || s[i] < '0' || s[i] > '9') {
		*ok = false;
		return 0;
	}
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > (SIZE_MAX - 9) / 10) {
			*ok = false;
			return 0;
		}
		v = v * 10 + (size_t)(s[i] - '0');
	}
	for (; i < n; i++)
		if (s[i] != ' ')
			*ok = false;
	return v;
}

int archive_members(const char *label, const uint8_t *d, size_t size, struct input_set *set,
		    int side, struct hp_err *err)
{
	const char *longnames = NULL;
	size_t longsize = 0, pos = 8;

	if (size >= 8 && !memcmp(d, "!<thin>\n", 8))
		return hp_err_set(err, "%s: thin archive (members are not inside it); give a normal archive", label);
	if (size < 8 || memcmp(d, "!<arch>\n", 8))
		return hp_err_set(err, "%s: not an ar archive", label);
	while (pos < size) {
		const char *h = (const char *)d + pos;
		bool ok = true;
		size_t msize, off;
		char name[256];
		const uint8_t *body;

		if (size - pos < 60 || memcmp(h + 58, "`\n", 2))
			return hp_err_set(err, "%s: corrupt archive member header at offset %zu", label, pos);
		msize = parse_decimal(h + 48, 10, &ok);
		if (!ok || msize > size - pos - 60)
			return hp_err_set(err, "%s: archive member at offset %zu has a bad size (truncated or corrupt archive)", label, pos);
		body = d + pos + 60;
		off = 0;
		if (h[0] == '/' && h[1] == '/') {
			longnames = (const char *)body;
			longsize = msize;
			goto next;
		}
		if ((h[0] == '/' && (h[1] == ' ' || !memcmp(h, "/SYM64/", 7))) || !memcmp(h, "__.SYMDEF", 9))
			goto next;
		if (h[0] == '/') {  /* GNU long name: "/offset" into the "//" table */
			size_t lo = parse_decimal(h + 1, 15, &ok), n = 0;
			if (!ok || !longnames || lo >= longsize)
				return hp_err_set(err, "%s: archive member at offset %zu names a missing long-name entry", label, pos);
			while (lo + n < longsize && longnames[lo + n] != '/' && longnames[lo + n] != '\n' && n < sizeof(name) - 1)
				n++;
			memcpy(name, longnames + lo, n);
			name[n] = '\0';
		} else if (!memcmp(h, "#1/", 3)) {  /* BSD: name stored at the start of the body */
			size_t n = parse_decimal(h + 3, 13, &ok);
			if (!ok || n > msize || n >= sizeof(name))
				return hp_err_set(err, "%s: corrupt BSD long name at offset %zu", label, pos);
			memcpy(name, body, n);
			name[n] = '\0';  /* NUL padding ends the name early: fine */
			off = n;
		} else {
			size_t n = 0;
			while (n < 16 && h[n] != '/' && h[n] != ' ')
				n++;
			memcpy(name, h, n);
			name[n] = '\0';
		}
		if (!name[0])
			return hp_err_set(err, "%s: archive member at offset %zu has no name", label, pos);
		add_obj(set, name, side, xasprintf("%s(%s)", label, name),
			xasprintf("%s(%s)", path_tail(label), name), body + off, msize - off);
next:
		pos += 60 + msize + (msize & 1);
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct path_list {
	char **v;
	size_t n, cap;
};

/* Every *.o below root, relative to it; depth-limited against loops. */
static int walk_dir(const char *root, const char *rel, int depth, struct path_list *out, struct hp_err *err)
{
	char *path = rel[0] ? xasprintf("%s/%s", root, rel) : xstrdup(root);
	DIR *dir = opendir(path);
	struct dirent *de;

	if (!dir) {
		hp_err_set(err, "%s: cannot read directory: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	if (depth > 64) {
		closedir(dir);
		free(path);
		return hp_err_set(err, "%s: directories nested too deep", root);
	}
	while ((de = readdir(dir))) {
		char *r, *full;
		struct stat st;
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.')
			continue;
		r = rel[0] ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
		full = xasprintf("%s/%s", root, r);
		if (lstat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
			if (walk_dir(root, r, depth + 1, out, err) < 0) {
				free(r);
				free(full);
				closedir(dir);
				free(path);
				return -1;
			}
			free(r);
		} else if (len > 2 && !strcmp(de->d_name + len - 2, ".o") && S_ISREG(st.st_mode)) {
			GROW(out->v, out->cap, out->n + 1);
			out->v[out->n++] = r;
		} else {
			free(r);
		}
		free(full);
	}
	closedir(dir);
	free(path);
	return 0;
}

static int add_dir(const char *root, struct input_set *set, int side, struct hp_err *err)
{
	struct path_list l = { 0 };
	int ret = 0;

	if (walk_dir(root, "", 0, &l, err) < 0)
		ret = -1;
	if (l.n > 1)
		qsort(l.v, l.n, sizeof(*l.v), cmp_str);
	for (size_t i = 0; i < l.n && ret == 0; i++) {
		char *full = xasprintf("%s/%s", root, l.v[i]);
		uint8_t *data;
		size_t size;

		if (read_file(full, &data, &size, err) < 0) {
			free(full);
			ret = -1;
			break;
		}
		add_obj(set, l.v[i], side, full, xstrdup(l.v[i]), data, size);
		free(data);
	}
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i]);
	free(l.v);
	return ret;
}

enum input_kind { IN_OBJECT, IN_ARCHIVE, IN_DIR };

/* The first (up to) 8 bytes of path: the kind of a file is in its magic,
 * and reading the whole object here doubled the reading of every input.
 * The errors are open_regular()'s, which add_side() would report anyway. */
static int read_magic(const char *path, uint8_t magic[8], size_t *got, struct hp_err *err)
{
	struct stat st;
	int fd;

	*got = 0;
	fd = open_regular(path, &st, err);
	if (fd < 0)
		return -1;
	while (*got < 8) {
		ssize_t n = read(fd, magic + *got, 8 - *got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return hp_err_set(err, "%s: read error: %s", path, strerror(errno));
		}
		if (n == 0)
			break;
		*got += (size_t)n;
	}
	close(fd);
	return 0;
}

static int kind_of(const char *path, enum input_kind *k, struct hp_err *err)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return hp_err_set(err, "%s: cannot open: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		*k = IN_DIR;
		return 0;
	}
	*k = IN_OBJECT;
	{
		uint8_t magic[8];
		size_t size;
		if (read_magic(path, magic, &size, err) < 0)
			return -1;
		if (size == 8 && (!memcmp(magic, "!<arch>\n", 8) || !memcmp(magic, "!<thin>\n", 8)))
			*k = IN_ARCHIVE;
	}
	return 0;
}

static int add_side(const char *path, enum input_kind k, struct input_set *set, int side,
		    struct hp_err *err)
{
	uint8_t *data;
	size_t size;
	int ret;

	if (k == IN_DIR)
		return add_dir(path, set, side, err);
	if (k == IN_ARCHIVE) {
		if (read_file(path, &data, &size, err) < 0)
			return -1;
		ret = archive_members(path, data, size, set, side, err);
	} else {
		/* mapped, so that the parts the model has parsed can leave
		 * memory (elf_drop_section_pages()) */
		if (map_file(path, &data, &size, err) < 0)
			return -1;
		/* a plain pair: one unit, named after the new object */
		if (side == OLD_SIDE) {
			GROW(set->pairs, set->cap_pairs, set->nr_pairs + 1);
			memset(&set->pairs[set->nr_pairs], 0, sizeof(set->pairs[0]));
			set->pairs[set->nr_pairs++].name = xstrdup("");
		}
		{
			struct input_pair *p = &set->pairs[0];
			struct input_obj *o = side == OLD_SIDE ? &p->old : &p->new;
			o->label = xstrdup(path);
			o->recorded = xstrdup(path_tail(path));
			o->data = data;
			o->size = size;
			o->mapped = true;
			data = NULL;
			if (side == NEW_SIDE) {
				free(p->name);
				p->name = xstrdup(path_tail(path));
			}
		}
		ret = 0;
	}
	free(data);
	return ret;
}

int collect_inputs(const char *old_path, const char *new_path, struct input_set *set,
		   struct hp_err *err)
{
	enum input_kind ko, kn;

	memset(set, 0, sizeof(*set));
	if (kind_of(old_path, &ko, err) < 0 || kind_of(new_path, &kn, err) < 0)
		return -1;
	if (ko != kn)
		return hp_err_set(err, "%s and %s are of different kinds (object, archive, directory); give two of the same kind",
				  old_path, new_path);
	if (add_side(old_path, ko, set, OLD_SIDE, err) < 0 || add_side(new_path, kn, set, NEW_SIDE, err) < 0) {
		free_inputs(set);
		return -1;
	}
	return 0;
}

void free_inputs(struct input_set *set)
{
	for (size_t i = 0; i < set->nr_pairs; i++) {
		free(set->pairs[i].name);
		free(set->pairs[i].old.label);
		free(set->pairs[i].old.recorded);
		release_file(set->pairs[i].old.data, set->pairs[i].old.size, set->pairs[i].old.mapped);
		free(set->pairs[i].new.label);
		free(set->pairs[i].new.recorded);
		release_file(set->pairs[i].new.data, set->pairs[i].new.size, set->pairs[i].new.mapped);
	}
	free(set->pairs);
	memset(set, 0, sizeof(*set));
}

bool is_tree_input(const char *path)
{
	enum input_kind k;
	struct hp_err err = { { 0 } };

	return kind_of(path, &k, &err) == 0 && k != IN_OBJECT;
}
