/*
 * mutate.c - write corrupted copies of a file for tests/e2e/corrupt.sh,
 * which compiles it (no dependencies beyond libc).  Deterministic: the
 * same arguments always give the same files.
 *
 *   mutate trunc IN STEP OUTDIR      OUTDIR/t.LEN: the first LEN bytes, for
 *                                    LEN 0..63 and every STEP-th length
 *   mutate flip IN SEED COUNT OUTDIR OUTDIR/f.I, I < COUNT: 1-4 random bit
 *                                    flips (even I) or one aligned 2/4/8-byte
 *                                    field set to a boundary value (odd I):
 *                                    offsets, sizes and counts at 0, -1,
 *                                    INT_MAX..., which plain flips rarely hit
 *   mutate bits IN FIRST LAST OUTDIR [STEP]
 *                                    OUTDIR/b.BIT: IN with bit BIT flipped,
 *                                    for BIT = FIRST, FIRST+STEP ... <= LAST
 *                                    (STEP 9: one bit of each byte, each
 *                                    bit position in turn)
 *
 * Exit 0, or 2 with a message on bad arguments or an I/O error.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *data;
static size_t size;

static void die(const char *what, const char *path)
{
	fprintf(stderr, "mutate: %s: %s%s%s\n", path, what, errno ? ": " : "",
		errno ? strerror(errno) : "");
	exit(2);
}

static void load(const char *path)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 16, n;

	if (!f)
		die("cannot open", path);
	data = malloc(cap);
	while (data && (n = fread(data + size, 1, cap - size, f)) > 0) {
		size += n;
		if (size == cap)
			data = realloc(data, cap *= 2);
	}
	if (!data || ferror(f))
		die("cannot read", path);
	fclose(f);
}

static void save(const char *dir, const char *kind, unsigned long long n,
		 const uint8_t *bytes, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.%llu", dir, kind, n);
	f = fopen(path, "wb");
	if (!f || fwrite(bytes, 1, len, f) != len || fclose(f) != 0)
		die("cannot write", path);
}

/* xorshift64*: small, deterministic, good enough to spread positions. */
static uint64_t rng_state;
static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static void smash_field(uint8_t *buf)
{
	static const uint64_t values[] = {
		0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0xffff, 0x7fffffff, 0x80000000,
		0xffffffff, 0x7fffffffffffffffULL, 0x8000000000000000ULL, ~0ULL,
	};
	static const unsigned widths[] = { 2, 4, 8 };
	unsigned w = widths[rng() % 3];
	uint64_t v = values[rng() % (sizeof(values) / sizeof(values[0]))];
	size_t at;

	if (size < w)
		return;
	at = (size_t)(rng() % (size / w)) * w;
	for (unsigned i = 0; i < w; i++)
		buf[at + i] = (uint8_t)(v >> (8 * i));
}

static unsigned long long number(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || !*s || *end)
		die("not a number", s);
	return v;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "trunc")) {
		unsigned long long step = number(argv[3]);

		load(argv[2]);
		for (size_t len = 0; len < size; len++)
			if (len < 64 || (step && len % step == 0))
				save(argv[4], "t", len, data, len);
	} else if (argc == 6 && !strcmp(argv[1], "flip")) {
		unsigned long long seed = number(argv[3]), count = number(argv[4]);
		uint8_t *buf;

		load(argv[2]);
		if (!size)
			die("empty file", argv[2]);
		buf = malloc(size);
		for (unsigned long long i = 0; i < count; i++) {
			rng_state = (seed + i) * 0x9e3779b97f4a7c15ULL | 1;
			memcpy(buf, data, size);
			if (i % 2) {
				smash_field(buf);
			} else {
				for (unsigned k = 1 + rng() % 4; k > 0; k--) {
					uint64_t bit = rng() % (size * 8);
					buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
				}
			}
			save(argv[5], "f", i, buf, size);
		}
		free(buf);
	} else if ((argc == 6 || argc == 7) && !strcmp(argv[1], "bits")) {
		unsigned long long first = number(argv[3]), last = number(argv[4]);
		unsigned long long step = argc == 7 ? number(argv[6]) : 1;

		load(argv[2]);
		if (!step)
			die("step must not be 0", argv[6]);
		for (unsigned long long bit = first; bit <= last && bit < size * 8; bit += step) {
			data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			save(argv[5], "b", bit, data, size);
			data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
	} else {
		fprintf(stderr, "usage: mutate trunc IN STEP OUTDIR | flip IN SEED COUNT OUTDIR"
			" | bits IN FIRST LAST OUTDIR [STEP]\n");
		return 2;
	}
	free(data);
	return 0;
}
