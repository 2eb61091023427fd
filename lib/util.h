/*
 * util.h - small shared helpers: error reporting, checked allocation,
 * growable string buffers and a string-keyed hash table.
 *
 * Library code never prints and never exits on bad input: it fills a
 * struct hp_err with one line naming the file and the problem and returns
 * failure; the command's main() prints that line and exits 2.  Allocation
 * failure is the one exception: xmalloc() and friends print and exit 2,
 * because there is nothing useful a caller could do instead.
 */
#ifndef HP_UTIL_H
#define HP_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdbool.h>

#define HP_VERSION "0.1.0"

/* Exit statuses shared by every command (like diff(1)). */
enum { HP_EXIT_OK = 0, HP_EXIT_DIFF = 1, HP_EXIT_ERROR = 2 };

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct hp_err {
	char msg[1024];
};

/* Set the error line ("FILE: problem"); returns -1 so callers can
 * 'return hp_err_set(...)'.  A message already set is kept: the first
 * failure is the one the user needs to read. */
int hp_err_set(struct hp_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void hp_err_clear(struct hp_err *err);
bool hp_err_isset(const struct hp_err *err);

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Grow *arr (of element size esz) so that it holds at least need elements. */
void grow_array(void **arr, size_t *cap, size_t need, size_t esz);
#define GROW(arr, cap, need) grow_array((void **)&(arr), &(cap), (need), sizeof(*(arr)))

/* A growable, always NUL-terminated byte buffer. */
struct strbuf {
	char *buf;
	size_t len, cap;
};
void sb_init(struct strbuf *sb);
void sb_free(struct strbuf *sb);
void sb_add(struct strbuf *sb, const void *data, size_t n);
void sb_adds(struct strbuf *sb, const char *s);
void sb_addc(struct strbuf *sb, char c);
void sb_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vaddf(struct strbuf *sb, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
char *sb_detach(struct strbuf *sb);

/*
 * String-keyed hash table with open addressing.  Keys are not copied: they
 * must outlive the table (they point into the object's string tables).
 * Several values may share one key; hmap_get() returns the first inserted.
 */
struct hmap_entry {
	const char *key;
	uint64_t hash;
	void *value;
};
struct hmap {
	struct hmap_entry *slots;
	size_t cap, count;
};
void hmap_init(struct hmap *m);
void hmap_free(struct hmap *m);
void hmap_put(struct hmap *m, const char *key, void *value);
void *hmap_get(const struct hmap *m, const char *key);
/* Iterate values with a given key: start with *pos = 0. */
void *hmap_next(const struct hmap *m, const char *key, size_t *pos);

uint64_t hash_str(const char *s);

/* Open path for reading and fstat it into *st; -1 with an error line
 * unless it is a regular file. */
struct stat;
int open_regular(const char *path, struct stat *st, struct hp_err *err);
/* Read a whole file into memory (with one extra NUL byte). */
int read_file(const char *path, uint8_t **data, size_t *size, struct hp_err *err);
/* Map a whole file read-only and private (no NUL after it), with
 * read_file()'s errors; unmap_file() gives it back.  Pages of a mapping
 * can be dropped (drop_file_pages()) and come back from the file when
 * read again: large inputs need not stay resident after they are parsed.
 * A file truncated by someone else while mapped faults on access: a
 * SIGBUS handler (installed by map_file()) then prints one line
 * naming the file and exits 2. */
int map_file(const char *path, uint8_t **data, size_t *size, struct hp_err *err);
void unmap_file(uint8_t *data, size_t size);
/* Give back a file's bytes: unmap_file() them when mapped, else free(). */
void release_file(uint8_t *data, size_t size, bool mapped);
void drop_file_pages(const uint8_t *data, size_t size);

/*
 * Write a file atomically: data goes to a temporary file in the same
 * directory, which is renamed over path only when complete.  No partial
 * output file is ever left behind: SIGINT, SIGTERM, SIGHUP, SIGQUIT,
 * SIGPIPE, SIGALRM and SIGXFSZ are held (in the calling thread: call it
 * when no other thread runs) while the temporary file exists, and act once
 * it is renamed or removed; a write past the file-size limit is an error
 * line, not the signal.  An existing file keeps its mode (a new one gets
 * 0666 less the umask).  An existing device, FIFO or socket is written
 * through, never replaced; a symbolic link keeps pointing where it did and
 * its target is written (a link whose target does not exist is an error);
 * a directory is an error.
 */
int write_file_atomic(const char *path, const void *data, size_t size, struct hp_err *err);

/* The last component of a path: "parse.o" for "obj/net/parse.o". */
const char *path_tail(const char *path);

/* v rounded up to a multiple of a, a power of two; a of 0 or 1 is none. */
static inline uint64_t align_up(uint64_t v, uint64_t a)
{
	return a > 1 ? (v + a - 1) & ~(a - 1) : v;
}

/* Little-endian integer access on unaligned buffers. */
static inline uint64_t get_le(const uint8_t *p, unsigned width)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < width; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}
static inline void put_le(uint8_t *p, uint64_t v, unsigned width)
{
	for (unsigned i = 0; i < width; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

#endif
