/*
 * hpkmut.c - hostile packages for tests/e2e/hpverify.sh (compiled by it).
 *
 *   hpkmut each-byte HPVERIFY PKG DIR
 *       For every byte of PKG: a copy with that byte changed (to byte+1),
 *       checked with 'HPVERIFY copy'.  Each must exit 2 with exactly one
 *       line on stderr and nothing on stdout.  Prints the first failures
 *       and "each-byte: N bytes, M accepted or mishandled"; exit 1 if M > 0.
 *       Two checks run at a time (HPKMUT_JOBS to change).
 *
 *   hpkmut craft IN OUT FIELD
 *       Copy the valid package IN to OUT with one offset, count or index
 *       out of range, then recompute every checksum and the id the way
 *       hotpatch(5) says, so only the reader's bounds checks can catch it.
 *       FIELD: toc-offset, string-ref, code-range, reloc-count,
 *       reloc-offset, reloc-symbol, symbol-index, func-unit, mask-range.
 *       And one that is well-formed but unsafe: unsafe-reloc-type makes
 *       the first relocation an R_X86_64_32 (u32 type at 12 of the record),
 *       which hpapply cannot resolve in a position-independent process.
 *       And the tamper case: code-byte flips bit 6 of the middle byte of
 *       the first function with code; with everything recomputed that is
 *       a consistent package with another id, which only a signature or a
 *       pinned id (hpapply --expect-id) tells from the original.
 *       Exit 3 when IN has nothing that FIELD can apply to.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>
#include <xxhash.h>

#include "util.h"

/* ---- each-byte ---- */

struct slot {
	pid_t pid;
	size_t offset;
	char out[4096], err[4096], pkg[4096];
};

static int write_all(const char *path, const uint8_t *d, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	size_t done = 0;

	if (fd < 0)
		return -1;
	while (done < n) {
		ssize_t w = write(fd, d + done, n - done);
		if (w <= 0) {
			close(fd);
			return -1;
		}
		done += (size_t)w;
	}
	return close(fd);
}

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *buf = calloc(1, 65536);
	size_t got = 0;

	if (f && buf)
		got = fread(buf, 1, 65535, f);
	if (f)
		fclose(f);
	*n = got;
	return buf;
}

static pid_t start(const char *tool, struct slot *s)
{
	pid_t pid = fork();

	if (pid == 0) {
		int o = open(s->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int e = open(s->err, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(127);
		execl(tool, tool, s->pkg, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* The verdict on one finished check: NULL when it was rejected properly. */
static const char *judge(const struct slot *s, int status, char *line, size_t cap)
{
	size_t no, ne;
	char *out = slurp(s->out, &no), *err = slurp(s->err, &ne);
	const char *why = NULL;
	char *nl = memchr(err, '\n', ne);

	if (WIFSIGNALED(status))
		why = "killed by a signal";
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 2)
		why = WIFEXITED(status) && WEXITSTATUS(status) <= 1 ? "accepted" : "wrong exit status";
	else if (no != 0)
		why = "printed on stdout";
	else if (ne == 0 || !nl || (size_t)(nl - err) + 1 != ne)
		why = "not exactly one line on stderr";
	snprintf(line, cap, "%.*s", nl ? (int)(nl - err) : (int)ne, err);
	free(out);
	free(err);
	return why;
}

static int each_byte(const char *tool, const char *pkg, const char *dir)
{
	uint8_t *data, *copy;
	size_t size, bad = 0, printed = 0, next = 0, running = 0;
	struct hp_err err = { { 0 } };
	int jobs = getenv("HPKMUT_JOBS") ? atoi(getenv("HPKMUT_JOBS")) : 2;
	struct slot *slots;

	if (jobs < 1 || jobs > 64)
		jobs = 2;
	if (read_file(pkg, &data, &size, &err) < 0) {
		fprintf(stderr, "hpkmut: %s\n", err.msg);
		return 2;
	}
	slots = calloc((size_t)jobs, sizeof(*slots));
	for (int i = 0; i < jobs; i++) {
		snprintf(slots[i].pkg, sizeof(slots[i].pkg), "%s/m%d.hpk", dir, i);
		snprintf(slots[i].out, sizeof(slots[i].out), "%s/m%d.out", dir, i);
		snprintf(slots[i].err, sizeof(slots[i].err), "%s/m%d.err", dir, i);
	}
	copy = malloc(size ? size : 1);
	while (next < size || running > 0) {
		for (int i = 0; i < jobs && next < size; i++) {
			if (slots[i].pid)
				continue;
			memcpy(copy, data, size);
			copy[next] = (uint8_t)(copy[next] + 1);
			if (write_all(slots[i].pkg, copy, size) < 0) {
				fprintf(stderr, "hpkmut: %s: %s\n", slots[i].pkg, strerror(errno));
				return 2;
			}
			slots[i].offset = next++;
			slots[i].pid = start(tool, &slots[i]);
			running++;
		}
		{
			int status;
			pid_t pid = wait(&status);

			if (pid < 0)
				break;
			for (int i = 0; i < jobs; i++) {
				char line[512];
				const char *why;

				if (slots[i].pid != pid)
					continue;
				slots[i].pid = 0;
				running--;
				why = judge(&slots[i], status, line, sizeof(line));
				if (why) {
					bad++;
					if (printed++ < 10)
						printf("byte %zu: %s: %s\n", slots[i].offset, why, line);
				}
			}
		}
	}
	printf("each-byte: %zu bytes, %zu accepted or mishandled\n", size, bad);
	free(copy);
	free(slots);
	free(data);
	return bad ? 1 : 0;
}

/* ---- craft ---- */

/*
 * The layout, as hotpatch(5) specifies it (written out here rather than
 * taken from the reader's private header, so the test checks the reader
 * against the document).  Header: u16 header size at 14, u32 number of
 * sections at 20, 16-byte id at 32, 16-byte checksum at 48.  Table of
 * contents after the header, 32 bytes an entry: u32 type, u32 flags, u64
 * offset, u64 size, u64 XXH3-64 of the section.  Records: functions 56
 * bytes (u32 unit at 20, code offset at 32, code size at 36, relocation
 * count at 40, old size at 44, mask count at 48), symbols 20 bytes (u32
 * index at 8, u8 where at 18: 1 function), relocations 24 bytes (u32
 * offset at 8, u32 symbol at 16), masks 8 bytes (u32 start, u32 len), back
 * to back in function order.
 */
enum { T_STRINGS = 1, T_SYMBOLS = 3, T_FUNCTIONS = 4, T_RELOCS = 6, T_MASKS = 7, T_BLOBS = 9 };

struct image {
	uint8_t *d;
	size_t size;
	uint32_t header_size, nr_toc;
};

static uint8_t *toc_entry(const struct image *im, uint32_t type)
{
	for (uint32_t i = 0; i < im->nr_toc; i++) {
		uint8_t *e = im->d + im->header_size + (size_t)i * 32;
		if (get_le(e, 4) == type)
			return e;
	}
	return NULL;
}

static uint8_t *section(const struct image *im, uint32_t type, uint64_t *size)
{
	uint8_t *e = toc_entry(im, type);

	*size = e ? get_le(e + 16, 8) : 0;
	return e ? im->d + get_le(e + 8, 8) : NULL;
}

/* Redo the checksum of every section, then the id: in format 1.1 (flag
 * bit 0) the first half of the digest at 72, BLAKE2b-256 of the file with
 * id, checksum and digest zeroed; in 1.0 XXH3-128 of the file with id and
 * checksum zeroed.  Then the whole-file checksum (with only the checksum
 * zeroed); 128-bit values are stored low half first.  Everything a
 * tamperer can recompute: none of it is secret. */
static void reseal(struct image *im)
{
	static const uint8_t zeros[16];
	XXH128_hash_t h;
	XXH3_state_t *st = XXH3_createState();

	for (uint32_t i = 0; i < im->nr_toc; i++) {
		uint8_t *e = im->d + im->header_size + (size_t)i * 32;
		put_le(e + 24, XXH3_64bits(im->d + get_le(e + 8, 8), get_le(e + 16, 8)), 8);
	}
	if ((get_le(im->d + 16, 4) & 1) && im->header_size >= 104) {
		memset(im->d + 32, 0, 32);
		memset(im->d + 72, 0, 32);
		crypto_generichash(im->d + 72, 32, im->d, im->size, NULL, 0);
		memcpy(im->d + 32, im->d + 72, 16);
	}
	for (int pass = (get_le(im->d + 16, 4) & 1) ? 1 : 0; pass < 2; pass++) {
		XXH3_128bits_reset(st);
		XXH3_128bits_update(st, im->d, 32);
		XXH3_128bits_update(st, pass == 0 ? zeros : im->d + 32, 16);
		XXH3_128bits_update(st, zeros, 16);
		XXH3_128bits_update(st, im->d + 64, im->size - 64);
		h = XXH3_128bits_digest(st);
		put_le(im->d + (pass == 0 ? 32 : 48), h.low64, 8);
		put_le(im->d + (pass == 0 ? 40 : 56), h.high64, 8);
	}
	XXH3_freeState(st);
}

/* The first function with n(field) > 0, and how many such records come
 * before it (relocations and masks are stored in function order). */
static uint8_t *first_func_with(const struct image *im, unsigned field, uint64_t *before)
{
	uint64_t size;
	uint8_t *f = section(im, T_FUNCTIONS, &size);

	*before = 0;
	for (uint64_t i = 0; f && i + 56 <= size; i += 56) {
		uint64_t n = get_le(f + i + field, 4);
		if (n)
			return f + i;
		*before += n;
	}
	return NULL;
}

static int craft(const char *in, const char *out, const char *field)
{
	struct hp_err err = { { 0 } };
	struct image im;
	uint64_t size, before;
	uint8_t *f, *sec;
	bool done = false;

	if (read_file(in, &im.d, &im.size, &err) < 0) {
		fprintf(stderr, "hpkmut: %s\n", err.msg);
		return 2;
	}
	im.header_size = (uint32_t)get_le(im.d + 14, 2);
	im.nr_toc = (uint32_t)get_le(im.d + 20, 4);
	if (!strcmp(field, "toc-offset") && (sec = toc_entry(&im, T_FUNCTIONS))) {
		put_le(sec + 8, im.size + 16, 8);          /* past the end of the file */
		done = true;
	} else if (!strcmp(field, "string-ref") && (sec = section(&im, T_FUNCTIONS, &size)) && size) {
		section(&im, T_STRINGS, &size);
		put_le(sec + 8, size + 10, 4);             /* function 0's name */
		done = true;
	} else if (!strcmp(field, "code-range") && (sec = section(&im, T_FUNCTIONS, &size)) && size) {
		section(&im, T_BLOBS, &size);
		put_le(sec + 32, size - 1, 4);             /* code runs off the blob section */
		done = true;
	} else if (!strcmp(field, "reloc-count") && (f = first_func_with(&im, 40, &before))) {
		put_le(f + 40, get_le(f + 40, 4) + 1000, 4);
		done = true;
	} else if (!strcmp(field, "reloc-offset") && (f = first_func_with(&im, 40, &before))) {
		sec = section(&im, T_RELOCS, &size);
		put_le(sec + before * 24 + 8, get_le(f + 36, 4) + 64, 4);   /* past the code */
		done = true;
	} else if (!strcmp(field, "reloc-symbol") && (f = first_func_with(&im, 40, &before))) {
		uint64_t nsyms;

		section(&im, T_SYMBOLS, &nsyms);
		sec = section(&im, T_RELOCS, &size);
		put_le(sec + before * 24 + 16, nsyms / 20 + 3, 4);
		done = true;
	} else if (!strcmp(field, "unsafe-reloc-type") && (f = first_func_with(&im, 40, &before))) {
		sec = section(&im, T_RELOCS, &size);
		put_le(sec + before * 24 + 12, 10, 4);    /* R_X86_64_32: valid, but hpapply cannot resolve it */
		done = true;
	} else if (!strcmp(field, "symbol-index") && (sec = section(&im, T_SYMBOLS, &size))) {
		uint64_t nfuncs;

		section(&im, T_FUNCTIONS, &nfuncs);
		for (uint64_t i = 0; i + 20 <= size && !done; i += 20)
			if (sec[i + 18] == 1) {                    /* a function symbol */
				put_le(sec + i + 8, nfuncs / 56 + 5, 4);
				done = true;
			}
	} else if (!strcmp(field, "func-unit") && (sec = section(&im, T_FUNCTIONS, &size)) && size) {
		put_le(sec + 20, 1000, 4);
		done = true;
	} else if (!strcmp(field, "code-byte") && (f = first_func_with(&im, 36, &before)) &&
		   (sec = section(&im, T_BLOBS, &size))) {
		uint64_t at = get_le(f + 32, 4) + get_le(f + 36, 4) / 2;

		if (at < size) {
			sec[at] ^= 0x40;                           /* cmp rdi,0x3f -> 0x7f */
			done = true;
		}
	} else if (!strcmp(field, "mask-range") && (f = first_func_with(&im, 48, &before))) {
		sec = section(&im, T_MASKS, &size);
		put_le(sec + before * 8, get_le(f + 44, 4) + 1, 4);   /* starts past the old size */
		done = true;
	}
	if (!done) {
		fprintf(stderr, "hpkmut: %s: nothing for %s to change\n", in, field);
		free(im.d);
		return 3;
	}
	reseal(&im);
	if (write_all(out, im.d, im.size) < 0) {
		fprintf(stderr, "hpkmut: %s: %s\n", out, strerror(errno));
		free(im.d);
		return 2;
	}
	free(im.d);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "each-byte"))
		return each_byte(argv[2], argv[3], argv[4]);
	if (argc == 5 && !strcmp(argv[1], "craft"))
		return craft(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: hpkmut each-byte HPVERIFY PKG DIR | craft IN OUT FIELD\n");
	return 2;
}
