/*
 * util.c - error lines, checked allocation, string buffers, hash table,
 * whole-file reads and atomic writes.  See util.h.
 */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

int hp_err_set(struct hp_err *err, const char *fmt, ...)
{
	va_list ap;

	if (!err || err->msg[0])
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	/* Keep the promise of one line: fold any newline from a library. */
	for (char *p = err->msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return -1;
}

void hp_err_clear(struct hp_err *err)
{
	err->msg[0] = '\0';
}

bool hp_err_isset(const struct hp_err *err)
{
	return err->msg[0] != '\0';
}

static void out_of_memory(size_t n)
{
	fprintf(stderr, "out of memory (allocating %zu bytes)\n", n);
	exit(HP_EXIT_ERROR);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		out_of_memory(n);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (!p)
		out_of_memory(nmemb * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		out_of_memory(n);
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	struct strbuf sb;
	va_list ap;

	sb_init(&sb);
	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	return sb_detach(&sb);
}

void grow_array(void **arr, size_t *cap, size_t need, size_t esz)
{
	size_t ncap;

	if (need <= *cap)
		return;
	ncap = *cap ? *cap : 8;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / esz)
			out_of_memory(SIZE_MAX);
		ncap *= 2;
	}
	*arr = xrealloc(*arr, ncap * esz);
	*cap = ncap;
}

void sb_init(struct strbuf *sb)
{
	sb->cap = 64;
	sb->len = 0;
	sb->buf = xmalloc(sb->cap);
	sb->buf[0] = '\0';
}

void sb_free(struct strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

void sb_add(struct strbuf *sb, const void *data, size_t n)
{
	GROW(sb->buf, sb->cap, sb->len + n + 1);
	memcpy(sb->buf + sb->len, data, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void sb_adds(struct strbuf *sb, const char *s)
{
	sb_add(sb, s, strlen(s));
}

void sb_addc(struct strbuf *sb, char c)
{
	sb_add(sb, &c, 1);
}

void sb_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	if ((size_t)n >= sb->cap - sb->len) {
		GROW(sb->buf, sb->cap, sb->len + (size_t)n + 1);
		vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
	}
	sb->len += (size_t)n;
}

void sb_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sb_vaddf(sb, fmt, ap);
	va_end(ap);
}

char *sb_detach(struct strbuf *sb)
{
	char *p = sb->buf;

	sb->buf = NULL;
	sb->len = sb->cap = 0;
	return p;
}

uint64_t hash_str(const char *s)
{
	return XXH3_64bits(s, strlen(s));
}

void hmap_init(struct hmap *m)
{
	m->slots = NULL;
	m->cap = m->count = 0;
}

void hmap_free(struct hmap *m)
{
	free(m->slots);
	hmap_init(m);
}

static void hmap_insert_slot(struct hmap_entry *slots, size_t cap, struct hmap_entry e)
{
	size_t i = e.hash & (cap - 1);

	while (slots[i].key)
		i = (i + 1) & (cap - 1);
	slots[i] = e;
}

static void hmap_rehash(struct hmap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 64;
	struct hmap_entry *ns = xcalloc(ncap, sizeof(*ns));

	/* Re-insert walking each probe chain from its start, so entries with
	 * equal keys keep their insertion order (hmap_next relies on it). */
	if (m->cap) {
		size_t start = 0;
		/* find an empty slot so that no chain wraps across the start */
		while (m->slots[start].key)
			start++;
		for (size_t k = 1; k <= m->cap; k++) {
			struct hmap_entry *e = &m->slots[(start + k) & (m->cap - 1)];
			if (e->key)
				hmap_insert_slot(ns, ncap, *e);
		}
	}
	free(m->slots);
	m->slots = ns;
	m->cap = ncap;
}

void hmap_put(struct hmap *m, const char *key, void *value)
{
	struct hmap_entry e = { key, hash_str(key), value };

	if ((m->count + 1) * 4 >= m->cap * 3)
		hmap_rehash(m);
	hmap_insert_slot(m->slots, m->cap, e);
	m->count++;
}

void *hmap_next(const struct hmap *m, const char *key, size_t *pos)
{
	uint64_t h;
	size_t i, n;

	if (!m->cap)
		return NULL;
	h = hash_str(key);
	n = *pos;
	for (i = h & (m->cap - 1); m->slots[i].key; i = (i + 1) & (m->cap - 1)) {
		if (m->slots[i].hash == h && !strcmp(m->slots[i].key, key)) {
			if (n == 0) {
				(*pos)++;
				return m->slots[i].value;
			}
			n--;
		}
	}
	return NULL;
}

void *hmap_get(const struct hmap *m, const char *key)
{
	size_t pos = 0;
	return hmap_next(m, key, &pos);
}

const char *path_tail(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* Inputs must be regular files: a directory, FIFO or device named as an
 * object would block or make no sense to read whole. */
int open_regular(const char *path, struct stat *st, struct hp_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return hp_err_set(err, "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return hp_err_set(err, "%s: not a regular file", path);
	}
	return fd;
}

int read_file(const char *path, uint8_t **data, size_t *size, struct hp_err *err)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd = open_regular(path, &st, err);

	if (fd < 0)
		return -1;
	buf = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			close(fd);
			return hp_err_set(err, "%s: read error: %s", path,
					  n < 0 ? strerror(errno) : "file shrank while reading");
		}
		got += (size_t)n;
	}
	close(fd);
	buf[got] = 0;
	*data = buf;
	*size = got;
	return 0;
}

/* An empty file cannot be mapped; it is this (never written) instead. */
static uint8_t empty_file[1];

/*
 * A mapped input that someone truncates while we read it (a build that
 * rewrites the object during the run) faults with SIGBUS on the next
 * access to a page past its new end.  That must not look like a crash of
 * ours: the handler names the file and says what to do, in one line, and
 * exits 2 like any other bad input.  No output file is left behind: they
 * are written to a temporary name and renamed only when complete.  The
 * registry is a fixed table the handler can read without locks: a slot
 * whose 'size' is 0 is free (published last, cleared first).
 */
#define MAPPED_SLOTS 64
static struct mapped_slot {
	uintptr_t start;
	size_t size;
	char path[256];
} mapped_files[MAPPED_SLOTS];
static pthread_mutex_t mapped_lock = PTHREAD_MUTEX_INITIALIZER;

static void write_str(const char *s)
{
	ssize_t r = write(STDERR_FILENO, s, strlen(s));
	(void)r;
}

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	uintptr_t a = (uintptr_t)si->si_addr;
	const char *path = "an input file";

	(void)sig;
	(void)uc;
	for (size_t i = 0; i < MAPPED_SLOTS; i++) {
		size_t n = __atomic_load_n(&mapped_files[i].size, __ATOMIC_ACQUIRE);
		if (n && a >= mapped_files[i].start && a - mapped_files[i].start < n)
			path = mapped_files[i].path;
	}
	write_str(program_invocation_short_name);
	write_str(": ");
	write_str(path);
	write_str(": the file shrank while it was being read (rewritten during the run?); run again once it is complete\n");
	_exit(2);
}

static void install_sigbus(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
}

/* Installed at every mapping, not once: a test harness (cmocka) or other
 * code may have put its own handler in since. */
static void register_mapping(const char *path, const void *start, size_t size)
{
	install_sigbus();
	pthread_mutex_lock(&mapped_lock);
	for (size_t i = 0; i < MAPPED_SLOTS; i++) {
		if (mapped_files[i].size)
			continue;
		mapped_files[i].start = (uintptr_t)start;
		snprintf(mapped_files[i].path, sizeof(mapped_files[i].path), "%s", path);
		__atomic_store_n(&mapped_files[i].size, size, __ATOMIC_RELEASE);
		break;
	}
	pthread_mutex_unlock(&mapped_lock);
}

static void unregister_mapping(const void *start)
{
	pthread_mutex_lock(&mapped_lock);
	for (size_t i = 0; i < MAPPED_SLOTS; i++)
		if (mapped_files[i].size && mapped_files[i].start == (uintptr_t)start)
			__atomic_store_n(&mapped_files[i].size, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&mapped_lock);
}

int map_file(const char *path, uint8_t **data, size_t *size, struct hp_err *err)
{
	struct stat st;
	void *m;
	int fd = open_regular(path, &st, err);

	if (fd < 0)
		return -1;
	if (st.st_size == 0) {
		close(fd);
		*data = empty_file;
		*size = 0;
		return 0;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return hp_err_set(err, "%s: read error: %s", path, strerror(errno));
	register_mapping(path, m, (size_t)st.st_size);
	*data = m;
	*size = (size_t)st.st_size;
	return 0;
}

void unmap_file(uint8_t *data, size_t size)
{
	if (data && data != empty_file) {
		unregister_mapping(data);
		munmap(data, size);
	}
}

void release_file(uint8_t *data, size_t size, bool mapped)
{
	if (mapped)
		unmap_file(data, size);
	else
		free(data);
}

/* Only whole pages inside [data, data + size) are dropped: the partial
 * pages at either end hold bytes of neighbours still in use. */
void drop_file_pages(const uint8_t *data, size_t size)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t lo = ((uintptr_t)data + page - 1) & ~(page - 1);
	uintptr_t hi = ((uintptr_t)data + size) & ~(page - 1);

	if (hi > lo)
		madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

/*
 * The signals that end a process by default and that a person or the
 * system sends while a package is being written: ^C, kill, a closed
 * terminal, ^\, and the file-size limit (ulimit -f).  They are held while
 * a temporary file exists, so that it is always renamed or removed before
 * one of them takes effect; a held signal then acts as it would have.
 */
static void exit_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGQUIT);
	sigaddset(set, SIGXFSZ);
	sigaddset(set, SIGPIPE);
	sigaddset(set, SIGALRM);
}

static int write_all(int fd, const void *data, size_t size)
{
	const uint8_t *p = data;
	size_t done = 0;

	while (done < size) {
		ssize_t n = write(fd, p + done, size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/*
 * A device, FIFO or socket named as the output is written through, never
 * replaced: renaming a file over /dev/null would destroy it.  The file
 * must already exist (no O_CREAT: a name that vanished since lstat() is
 * not recreated as something else).
 */
static int write_through(const char *path, const void *data, size_t size, struct hp_err *err)
{
	struct stat st;
	int fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return hp_err_set(err, "%s: cannot write: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
		close(fd);
		return hp_err_set(err, "%s: cannot write: the file changed while it was opened", path);
	}
	if (write_all(fd, data, size) < 0) {
		int e = errno;
		close(fd);
		return hp_err_set(err, "%s: cannot write: %s", path, strerror(e));
	}
	if (close(fd) < 0)
		return hp_err_set(err, "%s: cannot write: %s", path, strerror(errno));
	return 0;
}

/* A write that failed with EFBIG (ulimit -f) also made SIGXFSZ pending
 * while it was held: consume it, so the caller reports the error in one
 * line instead of the signal ending the process. */
static void consume_sigxfsz(void)
{
	sigset_t xfsz;
	struct timespec now = { 0, 0 };

	sigemptyset(&xfsz);
	sigaddset(&xfsz, SIGXFSZ);
	while (sigtimedwait(&xfsz, NULL, &now) == SIGXFSZ)
		;
}

static mode_t new_file_mode(void)
{
	mode_t mask = umask(0);

	umask(mask);
	return 0666 & ~mask;
}

/* The temporary file's life, with the exit signals held (see exit_signals). */
static int write_replace(const char *path, const void *data, size_t size, mode_t mode,
			 struct hp_err *err)
{
	char *tmp = xasprintf("%s.tmpXXXXXX", path);
	sigset_t held, saved;
	int fd, e = 0;

	exit_signals(&held);
	pthread_sigmask(SIG_BLOCK, &held, &saved);
	fd = mkstemp(tmp);
	if (fd < 0) {
		hp_err_set(err, "%s: cannot create temporary file: %s", path, strerror(errno));
		goto out;
	}
	if (write_all(fd, data, size) < 0 || fchmod(fd, mode) < 0 || fsync(fd) < 0)
		e = errno;
	if (close(fd) < 0 && !e)
		e = errno;
	if (!e && rename(tmp, path) < 0)
		e = errno;
	if (e) {
		unlink(tmp);
		hp_err_set(err, "%s: cannot write: %s", path, strerror(e));
		if (e == EFBIG)
			consume_sigxfsz();
	}
out:
	free(tmp);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	return fd < 0 || e ? -1 : 0;
}

int write_file_atomic(const char *path, const void *data, size_t size, struct hp_err *err)
{
	struct stat st;
	char *target;
	int ret;

	if (lstat(path, &st) < 0) {
		if (errno != ENOENT)
			return hp_err_set(err, "%s: cannot write: %s", path, strerror(errno));
		return write_replace(path, data, size, new_file_mode(), err);
	}
	if (S_ISLNK(st.st_mode)) {
		/* the link stays; its target gets the contents */
		target = realpath(path, NULL);
		if (!target)
			return hp_err_set(err, "%s: a symbolic link whose target cannot be resolved (%s); give the target's path",
					  path, strerror(errno));
		ret = write_file_atomic(target, data, size, err);
		free(target);
		return ret;
	}
	if (S_ISDIR(st.st_mode))
		return hp_err_set(err, "%s: is a directory; give a file name", path);
	if (!S_ISREG(st.st_mode))
		return write_through(path, data, size, err);
	return write_replace(path, data, size, st.st_mode & 07777, err);
}
