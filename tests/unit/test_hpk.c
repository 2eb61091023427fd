/*
 * test_hpk.c - the package format (hpk.h, hotpatch(5)): round trips,
 * determinism, string deduplication, compact layout, the old-function
 * fingerprint, and a reader that refuses every truncated, flipped or
 * hostile-but-consistent file with one line naming the failed check.
 *
 * The layout constants below are copied from hotpatch(5), not taken from
 * lib/hpk_format.h: a failure here means the code and the specification
 * disagree.  reseal() recomputes the checksums and the id the way the man
 * page says, so crafted files get past the checksums and reach the check
 * they are meant to trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include <xxhash.h>

#include "hpk.h"
#include "testutil.h"
#include "util.h"

/* ---- hotpatch(5), written down before the code was tested ---- */

#define MAGIC "\x89HPK\r\n\x1a\n"
enum {
	H_MAJOR = 8, H_MINOR = 10, H_ARCH = 12, H_HEADER_SIZE = 14, H_FLAGS = 16,
	H_NR_SECTIONS = 20, H_FILE_SIZE = 24, H_ID = 32, H_CHECKSUM = 48,
	H_TOOL_VERSION = 64, H_CREATED = 68, H_DIGEST = 72, H_SIZE = 104,
};
#define FLAG_DIGEST 1u
enum { T_TYPE = 0, T_FLAGS = 4, T_OFFSET = 8, T_SIZE = 16, T_CHECKSUM = 24, T_SIZE_ENTRY = 32 };
enum {
	S_STRINGS = 1, S_UNITS, S_SYMBOLS, S_FUNCTIONS, S_DATA, S_RELOCS, S_MASKS, S_FINDINGS, S_BLOBS,
};
enum { UNIT_REC = 24, SYM_REC = 20, FUNC_REC = 56, DATA_REC = 40, RELOC_REC = 24, MASK_REC = 8 };
/* fields used below */
enum { U_NAME = 0 };
enum { Y_WHERE = 18 };
enum { F_SYM = 24, F_ALIGN = 28, F_CODE_OFFSET = 32, F_CODE_SIZE = 36, F_NR_RELOCS = 40 };
enum { D_ALIGN = 20, D_SIZE = 24, D_BYTES_OFFSET = 28, D_KIND = 36 };
enum { R_OFFSET = 8, R_TYPE = 12, R_SYM = 16 };

/* ---- a package built by hand, owned the way hpbuild owns one ---- */

static const char *own_str(struct hpk *p, const char *s)
{
	return s ? hpk_own(p, xstrdup(s)) : NULL;
}

static const uint8_t *own_bytes(struct hpk *p, const void *b, size_t n)
{
	return memcpy(hpk_own(p, xmalloc(n)), b, n);
}

static struct hpk_reloc *relocs_of(const struct hpk_reloc *v, uint32_t n)
{
	return memcpy(xcalloc(n, sizeof(*v)), v, n * sizeof(*v));
}

static const uint8_t code0[40] = {
	0xe8, 0, 0, 0, 0,                 /* call check_len */
	0x48, 0x8d, 0x3d, 0, 0, 0, 0,     /* lea .str.0 */
	0x90, 0x90, 0x8b, 0, 0, 0, 0,     /* mov count */
	0x90, 0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0,  /* movabs table+16 */
	0, 0, 0, 0, 0, 0, 0, 0,           /* an unknown type's 8 bytes */
	0x90, 0xc3,
};
static const uint8_t code1[13] = { 0x55, 0x48, 0x89, 0xe5, 0xe8, 0, 0, 0, 0, 0x5d, 0xc3, 0xcc, 0xcc };
static const uint8_t code2[7] = { 0x8d, 0x47, 0x07, 0xc3, 0x0f, 0x1f, 0x00 };
static const uint8_t table_bytes[24] = { [16] = 7, [20] = 9 };

static uint8_t old0[48];   /* what parse_header looks like in the running program */

static struct hpk *sample_package(bool with_created)
{
	struct hpk *p = xcalloc(1, sizeof(*p));
	static const struct hpk_reloc r0[] = {
		{ 1, R_X86_64_PLT32, -4, 1 },
		{ 8, R_X86_64_PC32, -4, 5 },
		{ 15, R_X86_64_PC32, -8, 3 },
		{ 22, R_X86_64_64, 16, 6 },
		{ 30, 0x1234, INT64_MIN, 2 },   /* unknown type: stored, judged by hpverify */
	};
	static const struct hpk_reloc r1[] = { { 5, R_X86_64_PLT32, -4, 2 } };
	static const struct hpk_reloc rt[] = { { 0, R_X86_64_64, 0, 9 }, { 8, R_X86_64_64, 3, 5 } };
	static const struct hpk_range m0[] = { { 1, 4 }, { 8, 4 }, { 20, 6 } };

	for (size_t i = 0; i < sizeof(old0); i++)
		old0[i] = (uint8_t)(i * 7 + 3);
	p->major = HPK_FORMAT_MAJOR;
	p->minor = HPK_FORMAT_MINOR;
	p->arch = EM_X86_64;
	p->tool_version = own_str(p, "hpbuild 0.1.0");
	p->created = with_created ? own_str(p, "2024-06-01T00:00:00Z") : NULL;

	p->nr_units = 2;
	p->units = xcalloc(2, sizeof(*p->units));
	p->units[0] = (struct hpk_unit){
		own_str(p, "net/parse.o"), own_str(p, "old/net/parse.o"), own_str(p, "new/net/parse.o"),
		own_str(p, "net/parse.c"), own_str(p, "GNU C17 12.2.0 -O2"), own_str(p, "GNU C17 12.2.0 -O2") };
	p->units[1] = (struct hpk_unit){
		own_str(p, "util.o"), own_str(p, "old/util.o"), own_str(p, "new/util.o"), NULL, NULL, NULL };

	p->nr_syms = 10;
	p->syms = xcalloc(10, sizeof(*p->syms));
	p->syms[0] = (struct hpk_symbol){ own_str(p, "parse_header"), NULL, STB_GLOBAL, STT_FUNC, HPK_SYM_FUNC, 0, 0 };
	p->syms[1] = (struct hpk_symbol){ own_str(p, "check_len"), own_str(p, "net/parse.c"), STB_LOCAL, STT_FUNC, HPK_SYM_FUNC, 1, 0 };
	p->syms[2] = (struct hpk_symbol){ own_str(p, "memcpy"), NULL, STB_GLOBAL, STT_FUNC, HPK_SYM_EXTERN, 0, 0 };
	p->syms[3] = (struct hpk_symbol){ own_str(p, "count"), own_str(p, "net/parse.c"), STB_LOCAL, STT_OBJECT, HPK_SYM_EXTERN, 0, 0 };
	p->syms[4] = (struct hpk_symbol){ own_str(p, "count"), own_str(p, "util.c"), STB_LOCAL, STT_OBJECT, HPK_SYM_EXTERN, 0, 1 };
	p->syms[5] = (struct hpk_symbol){ own_str(p, ".str.0"), NULL, STB_LOCAL, STT_OBJECT, HPK_SYM_DATA, 0, 0 };
	p->syms[6] = (struct hpk_symbol){ own_str(p, "table"), NULL, STB_GLOBAL, STT_OBJECT, HPK_SYM_DATA, 1, 1 };
	p->syms[7] = (struct hpk_symbol){ own_str(p, "scratch"), own_str(p, "util.c"), STB_LOCAL, STT_OBJECT, HPK_SYM_DATA, 2, 1 };
	p->syms[8] = (struct hpk_symbol){ own_str(p, "tv"), NULL, STB_WEAK, STT_TLS, HPK_SYM_EXTERN, 0, 1 };
	p->syms[9] = (struct hpk_symbol){ own_str(p, "util_helper"), NULL, STB_GLOBAL, STT_FUNC, HPK_SYM_FUNC, 2, 1 };

	p->nr_funcs = 3;
	p->funcs = xcalloc(3, sizeof(*p->funcs));
	p->funcs[0] = (struct hpk_func){
		.name = own_str(p, "parse_header"), .file = own_str(p, "net/parse.c"), .line = 120,
		.kind = HPK_FUNC_REPLACE, .bind = STB_GLOBAL, .unit = 0, .sym = 0, .align = 16,
		.code = own_bytes(p, code0, sizeof(code0)), .code_size = sizeof(code0),
		.relocs = relocs_of(r0, 5), .nr_relocs = 5,
		.old_size = sizeof(old0), .old_masks = xmalloc(sizeof(m0)), .nr_old_masks = 3 };
	memcpy(p->funcs[0].old_masks, m0, sizeof(m0));
	p->funcs[0].old_hash = hpk_masked_hash(old0, sizeof(old0), m0, 3);
	p->funcs[1] = (struct hpk_func){
		.name = own_str(p, "check_len"), .file = own_str(p, "net/parse.c"), .line = 77,
		.kind = HPK_FUNC_NEW, .bind = STB_LOCAL, .unit = 0, .sym = 1, .align = 4,
		.code = own_bytes(p, code1, sizeof(code1)), .code_size = sizeof(code1),
		.relocs = relocs_of(r1, 1), .nr_relocs = 1 };
	p->funcs[2] = (struct hpk_func){
		.name = own_str(p, "util_helper"), .file = own_str(p, "util.c"), .line = 5,
		.kind = HPK_FUNC_REPLACE, .bind = STB_GLOBAL, .unit = 1, .sym = 9, .align = 32,
		.code = own_bytes(p, code2, sizeof(code2)), .code_size = sizeof(code2),
		.old_size = 7, .old_hash = hpk_masked_hash(code2, 7, NULL, 0) };

	p->nr_data = 3;
	p->data = xcalloc(3, sizeof(*p->data));
	p->data[0] = (struct hpk_data){
		.name = own_str(p, ".str.0"), .kind = HPK_DATA_RODATA, .bind = STB_LOCAL, .unit = 0, .sym = 5,
		.align = 1, .size = 12, .bytes = own_bytes(p, "bad length\n", 12) };
	p->data[1] = (struct hpk_data){
		.name = own_str(p, "table"), .file = own_str(p, "util.c"), .line = 12, .kind = HPK_DATA_DATA,
		.bind = STB_GLOBAL, .unit = 1, .sym = 6, .align = 8, .size = sizeof(table_bytes),
		.bytes = own_bytes(p, table_bytes, sizeof(table_bytes)), .relocs = relocs_of(rt, 2), .nr_relocs = 2 };
	p->data[2] = (struct hpk_data){
		.name = own_str(p, "scratch"), .file = own_str(p, "util.c"), .line = 3, .kind = HPK_DATA_BSS,
		.bind = STB_LOCAL, .unit = 1, .sym = 7, .align = 64, .size = 4096 };

	p->nr_findings = 2;
	p->findings = xcalloc(2, sizeof(*p->findings));
	p->findings[0] = (struct hpk_finding){ own_str(p, "HP004"), HPK_SEV_WARNING, true, own_str(p, "table"),
					       own_str(p, "util.c"), 12, own_str(p, "changes a data object in place") };
	p->findings[1] = (struct hpk_finding){ own_str(p, "HP010"), HPK_SEV_NOTE, false, NULL, NULL, 0,
					       own_str(p, "line-number-only changes skipped") };
	return p;
}

/* ---- comparing models field by field ---- */

static void same_str(const char *a, const char *b, const char *what, uint32_t i)
{
	if (!a || !b) {
		if (a != b)
			fail_msg("%s %u: \"%s\" vs \"%s\"", what, i, a ? a : "(null)", b ? b : "(null)");
		return;
	}
	if (strcmp(a, b))
		fail_msg("%s %u: \"%s\" vs \"%s\"", what, i, a, b);
}

static void same_bytes(const uint8_t *a, const uint8_t *b, uint32_t n, const char *what, uint32_t i)
{
	if (n && (!a || !b || memcmp(a, b, n)))
		fail_msg("%s %u: contents differ", what, i);
}

static void same_relocs(const struct hpk_reloc *a, const struct hpk_reloc *b, uint32_t n,
			const char *what, uint32_t i)
{
	for (uint32_t k = 0; k < n; k++)
		if (a[k].offset != b[k].offset || a[k].type != b[k].type || a[k].addend != b[k].addend ||
		    a[k].sym != b[k].sym)
			fail_msg("%s %u relocation %u differs", what, i, k);
}

static void same_package(const struct hpk *a, const struct hpk *b)
{
	assert_int_equal(a->major, b->major);
	assert_int_equal(a->minor, b->minor);
	assert_int_equal(a->arch, b->arch);
	assert_memory_equal(a->id, b->id, 16);
	same_str(a->tool_version, b->tool_version, "tool_version", 0);
	same_str(a->created, b->created, "created", 0);
	assert_int_equal(a->nr_units, b->nr_units);
	for (uint32_t i = 0; i < a->nr_units; i++) {
		const struct hpk_unit *x = &a->units[i], *y = &b->units[i];

		same_str(x->name, y->name, "unit name", i);
		same_str(x->old_input, y->old_input, "unit old_input", i);
		same_str(x->new_input, y->new_input, "unit new_input", i);
		same_str(x->source, y->source, "unit source", i);
		same_str(x->old_producer, y->old_producer, "unit old_producer", i);
		same_str(x->new_producer, y->new_producer, "unit new_producer", i);
	}
	assert_int_equal(a->nr_syms, b->nr_syms);
	for (uint32_t i = 0; i < a->nr_syms; i++) {
		const struct hpk_symbol *x = &a->syms[i], *y = &b->syms[i];

		same_str(x->name, y->name, "symbol name", i);
		same_str(x->file, y->file, "symbol file", i);
		if (x->bind != y->bind || x->type != y->type || x->where != y->where ||
		    x->index != y->index || x->unit != y->unit)
			fail_msg("symbol %u differs", i);
	}
	assert_int_equal(a->nr_funcs, b->nr_funcs);
	for (uint32_t i = 0; i < a->nr_funcs; i++) {
		const struct hpk_func *x = &a->funcs[i], *y = &b->funcs[i];

		same_str(x->name, y->name, "function name", i);
		same_str(x->file, y->file, "function file", i);
		if (x->line != y->line || x->kind != y->kind || x->bind != y->bind || x->unit != y->unit ||
		    x->sym != y->sym || x->align != y->align || x->code_size != y->code_size ||
		    x->nr_relocs != y->nr_relocs || x->old_size != y->old_size ||
		    x->old_hash != y->old_hash || x->nr_old_masks != y->nr_old_masks)
			fail_msg("function %u differs", i);
		same_bytes(x->code, y->code, x->code_size, "function code", i);
		same_relocs(x->relocs, y->relocs, x->nr_relocs, "function", i);
		for (uint32_t k = 0; k < x->nr_old_masks; k++)
			if (x->old_masks[k].start != y->old_masks[k].start || x->old_masks[k].len != y->old_masks[k].len)
				fail_msg("function %u mask %u differs", i, k);
	}
	assert_int_equal(a->nr_data, b->nr_data);
	for (uint32_t i = 0; i < a->nr_data; i++) {
		const struct hpk_data *x = &a->data[i], *y = &b->data[i];

		same_str(x->name, y->name, "data name", i);
		same_str(x->file, y->file, "data file", i);
		if (x->line != y->line || x->kind != y->kind || x->bind != y->bind || x->unit != y->unit ||
		    x->sym != y->sym || x->align != y->align || x->size != y->size || x->nr_relocs != y->nr_relocs)
			fail_msg("data %u differs", i);
		if (x->kind == HPK_DATA_BSS) {
			assert_null(x->bytes);
			assert_null(y->bytes);
		} else {
			same_bytes(x->bytes, y->bytes, x->size, "data bytes", i);
		}
		same_relocs(x->relocs, y->relocs, x->nr_relocs, "data", i);
	}
	assert_int_equal(a->nr_findings, b->nr_findings);
	for (uint32_t i = 0; i < a->nr_findings; i++) {
		const struct hpk_finding *x = &a->findings[i], *y = &b->findings[i];

		same_str(x->rule, y->rule, "finding rule", i);
		same_str(x->symbol, y->symbol, "finding symbol", i);
		same_str(x->file, y->file, "finding file", i);
		same_str(x->message, y->message, "finding message", i);
		if (x->severity != y->severity || x->overridden != y->overridden || x->line != y->line)
			fail_msg("finding %u differs", i);
	}
}

/* ---- helpers on serialized bytes ---- */

static uint8_t *write_ok(struct hpk *p, size_t *size)
{
	struct hp_err err = { { 0 } };
	uint8_t *buf = NULL;

	if (hpk_write_mem(p, &buf, size, &err) < 0)
		fail_msg("write: %s", err.msg);
	return buf;
}

static struct hpk *read_ok(const uint8_t *buf, size_t size)
{
	struct hp_err err = { { 0 } };
	struct hpk *p = hpk_read_mem("x.hpk", buf, size, &err);

	if (!p)
		fail_msg("read: %s", err.msg);
	return p;
}

static void expect_reject(const uint8_t *buf, size_t size, const char *needle)
{
	struct hp_err err = { { 0 } };
	struct hpk *p = hpk_read_mem("x.hpk", buf, size, &err);

	if (p) {
		hpk_free(p);
		fail_msg("accepted a package that should fail with \"%s\"", needle);
	}
	if (!strstr(err.msg, needle))
		fail_msg("error is \"%s\", expected it to contain \"%s\"", err.msg, needle);
	assert_memory_equal(err.msg, "x.hpk: ", 7);   /* names the file */
	assert_null(strchr(err.msg, '\n'));            /* one line */
}

static uint64_t toc_field(const uint8_t *buf, uint32_t entry, unsigned field, unsigned width)
{
	return get_le(buf + H_SIZE + entry * T_SIZE_ENTRY + field, width);
}

/* TOC entry of a section type; fails the test if it is missing. */
static uint32_t toc_entry(const uint8_t *buf, uint32_t type)
{
	uint32_t n = (uint32_t)get_le(buf + H_NR_SECTIONS, 4);

	for (uint32_t i = 0; i < n; i++)
		if (toc_field(buf, i, T_TYPE, 4) == type)
			return i;
	fail_msg("no section of type %u", type);
	return 0;
}

static uint8_t *section(uint8_t *buf, uint32_t type, uint64_t *size)
{
	uint32_t e = toc_entry(buf, type);

	if (size)
		*size = toc_field(buf, e, T_SIZE, 8);
	return buf + toc_field(buf, e, T_OFFSET, 8);
}

/* The digest (BLAKE2b-256 with id, checksum and digest zeroed), the id
 * (its first half) and then the file checksum, as hotpatch(5) CHECKSUMS
 * says; a package without the digest flag gets the format 1.0 XXH3 id. */
static void reseal_header(uint8_t *buf, size_t size)
{
	XXH128_hash_t h;

	if (get_le(buf + H_FLAGS, 4) & FLAG_DIGEST) {
		memset(buf + H_ID, 0, 32);
		memset(buf + H_DIGEST, 0, 32);
		crypto_generichash(buf + H_DIGEST, 32, buf, size, NULL, 0);
		memcpy(buf + H_ID, buf + H_DIGEST, 16);
	} else {
		memset(buf + H_ID, 0, 32);
		h = XXH3_128bits(buf, size);
		put_le(buf + H_ID, h.low64, 8);
		put_le(buf + H_ID + 8, h.high64, 8);
	}
	memset(buf + H_CHECKSUM, 0, 16);
	h = XXH3_128bits(buf, size);
	put_le(buf + H_CHECKSUM, h.low64, 8);
	put_le(buf + H_CHECKSUM + 8, h.high64, 8);
}

/* Every section checksum that can be computed, then the header's. */
static void reseal(uint8_t *buf, size_t size)
{
	uint32_t n = (uint32_t)get_le(buf + H_NR_SECTIONS, 4);

	for (uint32_t i = 0; i < n && H_SIZE + (uint64_t)(i + 1) * T_SIZE_ENTRY <= size; i++) {
		uint64_t off = toc_field(buf, i, T_OFFSET, 8), len = toc_field(buf, i, T_SIZE, 8);

		if (off <= size && len <= size - off)
			put_le(buf + H_SIZE + i * T_SIZE_ENTRY + T_CHECKSUM, XXH3_64bits(buf + off, len), 8);
	}
	reseal_header(buf, size);
}

static uint8_t *copy_of(const uint8_t *buf, size_t size)
{
	return memcpy(xmalloc(size), buf, size);
}

/* A copy with one more TOC entry and its section appended at the end. */
static uint8_t *with_extra_section(const uint8_t *buf, size_t size, uint32_t type, uint32_t flags,
				   const void *payload, size_t len, size_t *new_size)
{
	uint32_t n = (uint32_t)get_le(buf + H_NR_SECTIONS, 4);
	size_t toc_end = H_SIZE + (size_t)n * T_SIZE_ENTRY;
	size_t shifted = size + T_SIZE_ENTRY, at = (shifted + 7) & ~(size_t)7;
	uint8_t *out = xcalloc(1, at + len);

	memcpy(out, buf, toc_end);
	memcpy(out + toc_end + T_SIZE_ENTRY, buf + toc_end, size - toc_end);
	for (uint32_t i = 0; i < n; i++)
		put_le(out + H_SIZE + i * T_SIZE_ENTRY + T_OFFSET, toc_field(buf, i, T_OFFSET, 8) + T_SIZE_ENTRY, 8);
	put_le(out + toc_end + T_TYPE, type, 4);
	put_le(out + toc_end + T_FLAGS, flags, 4);
	put_le(out + toc_end + T_OFFSET, at, 8);
	put_le(out + toc_end + T_SIZE, len, 8);
	memcpy(out + at, payload, len);
	put_le(out + H_NR_SECTIONS, n + 1, 4);
	put_le(out + H_FILE_SIZE, at + len, 8);
	*new_size = at + len;
	reseal(out, *new_size);
	return out;
}

static size_t count_occurrences(const uint8_t *buf, size_t size, const char *s)
{
	size_t n = 0, len = strlen(s);

	for (const uint8_t *p = buf; (p = memmem(p, size - (size_t)(p - buf), s, len)); p++)
		n++;
	return n;
}

/* ---- round trip and determinism ---- */

static void test_round_trip(void **state)
{
	for (int created = 0; created < 2; created++) {
		struct hpk *p = sample_package(created), *q;
		uint8_t *a, *b, *c;
		size_t na, nb, nc;

		a = write_ok(p, &na);
		q = read_ok(a, na);
		same_package(p, q);
		assert_int_equal(q->arch, EM_X86_64);
		assert_int_equal(q->major, 1);
		assert_int_equal(q->minor, 1);
		assert_true(q->has_digest);
		assert_memory_equal(q->digest, p->digest, 32);
		if (created)
			assert_string_equal(q->created, "2024-06-01T00:00:00Z");
		else
			assert_null(q->created);
		assert_int_equal(count_occurrences(a, na, "2024-06-01"), created);

		b = write_ok(p, &nb);     /* the same model twice */
		assert_int_equal(na, nb);
		assert_memory_equal(a, b, na);
		c = write_ok(q, &nc);     /* what was read, written again */
		assert_int_equal(na, nc);
		assert_memory_equal(a, c, na);
		free(a);
		free(b);
		free(c);
		hpk_free(p);
		hpk_free(q);
	}
}

/* Two models with equal contents but separately allocated (other pointer
 * values, other hash-table history) give the same bytes. */
static void test_deterministic(void **state)
{
	struct hpk *p = sample_package(true), *q;
	uint8_t *a, *b;
	size_t na, nb;
	char *junk[37];

	for (size_t i = 0; i < ARRAY_SIZE(junk); i++)
		junk[i] = xmalloc(i * 13 + 1);   /* move the heap around */
	q = sample_package(true);
	a = write_ok(p, &na);
	b = write_ok(q, &nb);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na);
	assert_memory_equal(p->id, q->id, 16);
	for (size_t i = 0; i < ARRAY_SIZE(junk); i++)
		free(junk[i]);
	free(a);
	free(b);
	hpk_free(p);
	hpk_free(q);
}

/* ---- compactness ---- */

static void test_string_dedup(void **state)
{
	struct hpk *p = xcalloc(1, sizeof(*p)), *q;
	const char *file = "src/a/rather/long/directory/name/shared_file.c";
	uint8_t *buf;
	size_t n;

	p->nr_units = 1;
	p->units = xcalloc(1, sizeof(*p->units));
	p->units[0].name = own_str(p, "shared_file.o");
	p->units[0].source = own_str(p, file);
	p->nr_syms = 40;
	p->syms = xcalloc(40, sizeof(*p->syms));
	for (uint32_t i = 0; i < 40; i++) {
		char name[32];

		snprintf(name, sizeof(name), "local_%u", i % 20);   /* each name twice */
		p->syms[i] = (struct hpk_symbol){ own_str(p, name), own_str(p, file), STB_LOCAL,
						  STT_OBJECT, HPK_SYM_EXTERN, 0, 0 };
	}
	buf = write_ok(p, &n);
	assert_int_equal(count_occurrences(buf, n, file), 1);
	assert_int_equal(count_occurrences(buf, n, "local_7"), 1);
	q = read_ok(buf, n);
	same_package(p, q);
	/* the same string read back is one copy in the image */
	assert_ptr_equal(q->syms[0].file, q->syms[39].file);
	assert_ptr_equal(q->syms[3].name, q->syms[23].name);
	free(buf);
	hpk_free(p);
	hpk_free(q);
}

/* Sections follow the table of contents with no gap but alignment (8,
 * 16 before the blobs), and blobs sit on min(align, 16) for code and
 * min(align, 8) for data, with no gap but alignment either. */
static void test_compact_layout(void **state)
{
	struct hpk *p = sample_package(true), *empty = xcalloc(1, sizeof(*empty)), *q;
	uint8_t *buf, *funcs, *data, *e;
	uint64_t end, blob_off, blob_size, pos = 0;
	uint32_t n;
	size_t size;

	buf = write_ok(p, &size);
	n = (uint32_t)get_le(buf + H_NR_SECTIONS, 4);
	end = H_SIZE + (uint64_t)n * T_SIZE_ENTRY;
	for (uint32_t i = 0; i < n; i++) {   /* written in type order */
		uint64_t off = toc_field(buf, i, T_OFFSET, 8);
		unsigned align = toc_field(buf, i, T_TYPE, 4) == S_BLOBS ? 16 : 8;

		assert_true(off >= end && off - end < align && off % align == 0);
		for (uint64_t k = end; k < off; k++)
			assert_int_equal(buf[k], 0);
		end = off + toc_field(buf, i, T_SIZE, 8);
	}
	assert_int_equal(end, size);

	funcs = section(buf, S_FUNCTIONS, NULL);
	data = section(buf, S_DATA, NULL);
	blob_off = (uint64_t)(section(buf, S_BLOBS, &blob_size) - buf);
	assert_int_equal(blob_off % 16, 0);
	for (uint32_t i = 0; i < 6; i++) {
		uint32_t align, off, len;

		if (i < 3) {
			e = funcs + i * FUNC_REC;
			align = (uint32_t)get_le(e + F_ALIGN, 4);
			align = align > 16 ? 16 : align;
			off = (uint32_t)get_le(e + F_CODE_OFFSET, 4);
			len = (uint32_t)get_le(e + F_CODE_SIZE, 4);
		} else {
			e = data + (i - 3) * DATA_REC;
			if (e[D_KIND] == HPK_DATA_BSS) {
				assert_int_equal(get_le(e + D_BYTES_OFFSET, 4), 0);
				continue;
			}
			align = (uint32_t)get_le(e + D_ALIGN, 4);
			align = align > 8 ? 8 : align;
			off = (uint32_t)get_le(e + D_BYTES_OFFSET, 4);
			len = (uint32_t)get_le(e + D_SIZE, 4);
		}
		assert_int_equal(off % align, 0);
		assert_true(off >= pos && off - pos < align);
		pos = off + len;
	}
	assert_int_equal(pos, blob_size);
	free(buf);

	/* nothing at all: the header alone */
	buf = write_ok(empty, &size);
	assert_int_equal(size, H_SIZE);
	q = read_ok(buf, size);
	assert_int_equal(q->nr_units + q->nr_syms + q->nr_funcs + q->nr_data + q->nr_findings, 0);
	assert_null(q->tool_version);
	free(buf);
	hpk_free(q);
	hpk_free(empty);
	hpk_free(p);
}

/* The header is where hotpatch(5) says, and reseal() (the man page's
 * recipe for checksums and id) reproduces the writer's bytes exactly. */
static void test_header_per_spec(void **state)
{
	struct hpk *p = sample_package(false);
	uint8_t *buf, *copy, *strings;
	uint64_t strsize;
	size_t size;
	char hex[33], want[33];

	buf = write_ok(p, &size);
	assert_memory_equal(buf, MAGIC, 8);
	assert_int_equal(get_le(buf + H_MAJOR, 2), 1);
	assert_int_equal(get_le(buf + H_MINOR, 2), 1);
	assert_int_equal(get_le(buf + H_ARCH, 2), 62);
	assert_int_equal(get_le(buf + H_HEADER_SIZE, 2), H_SIZE);
	assert_int_equal(get_le(buf + H_FLAGS, 4), FLAG_DIGEST);
	assert_int_equal(get_le(buf + H_FILE_SIZE, 8), size);
	assert_int_equal(get_le(buf + H_CREATED, 4), 0xffffffffu);   /* not recorded */
	strings = section(buf, S_STRINGS, &strsize);
	assert_true(get_le(buf + H_TOOL_VERSION, 4) < strsize);
	assert_string_equal((char *)strings + get_le(buf + H_TOOL_VERSION, 4), "hpbuild 0.1.0");
	assert_int_equal(strings[strsize - 1], 0);
	assert_int_equal(toc_field(buf, toc_entry(buf, S_RELOCS), T_SIZE, 8), 8 * RELOC_REC);
	assert_int_equal(toc_field(buf, toc_entry(buf, S_MASKS), T_SIZE, 8), 3 * MASK_REC);
	assert_int_equal(toc_field(buf, toc_entry(buf, S_UNITS), T_SIZE, 8), 2 * UNIT_REC);
	assert_int_equal(toc_field(buf, toc_entry(buf, S_SYMBOLS), T_SIZE, 8), 10 * SYM_REC);

	copy = copy_of(buf, size);
	memset(copy + H_ID, 0xaa, 32);
	memset(copy + H_DIGEST, 0xaa, 32);
	reseal(copy, size);
	assert_memory_equal(copy, buf, size);
	assert_memory_equal(p->digest, buf + H_DIGEST, 32);
	assert_true(p->has_digest);

	hpk_id_hex(p, hex);
	for (int i = 0; i < 16; i++)
		snprintf(want + 2 * i, 3, "%02x", buf[H_ID + i]);
	assert_string_equal(hex, want);
	free(buf);
	free(copy);
	hpk_free(p);
}

static void test_file_io(void **state)
{
	struct hp_err err = { { 0 } };
	struct hpk *p = sample_package(true), *q;
	const char *path = test_path("io.hpk");
	const char *junk = test_path("junk.hpk");

	assert_int_equal(hpk_write_file(p, path, &err), 0);
	q = hpk_read_file(path, &err);
	if (!q)
		fail_msg("%s", err.msg);
	same_package(p, q);
	hpk_free(q);

	q = hpk_read_file(test_path("missing.hpk"), &err);
	assert_null(q);
	assert_non_null(strstr(err.msg, "missing.hpk"));

	hp_err_clear(&err);
	write_text(junk, "this is not a hotpatch package, but it is long enough to have a header of 72 bytes\n");
	assert_null(hpk_read_file(junk, &err));
	assert_non_null(strstr(err.msg, "junk.hpk: not a hotpatch package"));
	hpk_free(p);
}

/* ---- the fingerprint ---- */

static void test_masked_hash(void **state)
{
	uint8_t b[64], kept[68];
	const struct hpk_range masks[] = { { 4, 4 }, { 20, 8 } };
	const struct hpk_range messy[] = { { 22, 6 }, { 4, 2 }, { 20, 3 }, { 5, 3 }, { 9, 0 } };
	const struct hpk_range past[] = { { 4, 4 }, { 20, 8 }, { 60, 100 } };
	const struct hpk_range upto[] = { { 4, 4 }, { 20, 8 }, { 60, 4 } };
	const struct hpk_range tail[] = { { 60, 4 } };
	uint64_t h;
	size_t k = 4;

	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(i * 31 + 1);
	h = hpk_masked_hash(b, 64, masks, 2);

	/* the definition: XXH3-64 of le32(size) then the kept bytes */
	put_le(kept, 64, 4);
	for (size_t i = 0; i < 64; i++)
		if (!(i >= 4 && i < 8) && !(i >= 20 && i < 28))
			kept[k++] = b[i];
	assert_int_equal(h, XXH3_64bits(kept, k));
	put_le(kept, 64, 4);
	memcpy(kept + 4, b, 64);
	assert_int_equal(hpk_masked_hash(b, 64, NULL, 0), XXH3_64bits(kept, 68));

	b[5] ^= 0xff;   /* masked: no change */
	b[27] ^= 0xff;
	assert_int_equal(hpk_masked_hash(b, 64, masks, 2), h);
	b[8] ^= 0x01;   /* first byte after a mask */
	assert_int_not_equal(hpk_masked_hash(b, 64, masks, 2), h);
	b[8] ^= 0x01;
	b[19] ^= 0x80;  /* last byte before one */
	assert_int_not_equal(hpk_masked_hash(b, 64, masks, 2), h);
	b[19] ^= 0x80;

	/* unsorted, overlapping and empty masks mean their union */
	assert_int_equal(hpk_masked_hash(b, 64, messy, ARRAY_SIZE(messy)), h);
	/* masks are clipped to the size */
	assert_int_equal(hpk_masked_hash(b, 64, past, 3), hpk_masked_hash(b, 64, upto, 3));
	/* same kept bytes, different size: different fingerprint */
	assert_int_not_equal(hpk_masked_hash(b, 64, tail, 1), hpk_masked_hash(b, 60, NULL, 0));
}

/* ---- the writer ---- */

static void test_writer_merges_masks(void **state)
{
	struct hpk *p = sample_package(false), *q;
	const struct hpk_range messy[] = { { 20, 6 }, { 1, 4 }, { 3, 4 }, { 0, 0 }, { 7, 1 } };
	uint64_t hash;
	uint8_t *buf;
	size_t n;

	free(p->funcs[0].old_masks);
	p->funcs[0].old_masks = memcpy(xmalloc(sizeof(messy)), messy, sizeof(messy));
	p->funcs[0].nr_old_masks = ARRAY_SIZE(messy);
	hash = p->funcs[0].old_hash = hpk_masked_hash(old0, sizeof(old0), messy, ARRAY_SIZE(messy));
	buf = write_ok(p, &n);
	q = read_ok(buf, n);
	assert_int_equal(q->funcs[0].nr_old_masks, 2);
	assert_int_equal(q->funcs[0].old_masks[0].start, 1);
	assert_int_equal(q->funcs[0].old_masks[0].len, 7);
	assert_int_equal(q->funcs[0].old_masks[1].start, 20);
	assert_int_equal(q->funcs[0].old_masks[1].len, 6);
	assert_int_equal(q->funcs[0].old_hash, hash);
	assert_int_equal(hpk_masked_hash(old0, sizeof(old0), q->funcs[0].old_masks, 2), hash);
	free(buf);
	hpk_free(p);
	hpk_free(q);
}

/* A model the reader would refuse is never written, and the error says
 * what is wrong with it. */
static void test_writer_refuses_invalid(void **state)
{
	static const char *const want[] = {
		"function 0 relocation 4: offset 0x24 (type 4660, checked as an 8-byte field) outside the function's 0x28 bytes",
		"function 1: its symbol 0 does not point back at it",
		"function 0 mask 2: 0x28+0x10 outside the old function's 0x30 bytes",
		"data 2: a BSS object with stored bytes",
		"symbol 2: external symbol with index 3 (must be 0)",
		"cannot write a package for architecture 3",
		"finding 1: severity 0 is not NOTE",
		"data 0: alignment 3 is not a power of two",
	};

	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		struct hp_err err = { { 0 } };
		struct hpk *p = sample_package(true);
		const char *path = test_path("refused.hpk");
		uint8_t *buf = NULL;
		size_t n = 0;

		switch (i) {
		case 0: p->funcs[0].relocs[4].offset = 0x24; break;
		case 1: p->funcs[1].sym = 0; p->syms[1].where = HPK_SYM_EXTERN; p->syms[1].index = 0; break;
		case 2: p->funcs[0].old_masks[2] = (struct hpk_range){ 0x28, 0x10 }; break;
		case 3: p->data[2].bytes = p->data[0].bytes; break;
		case 4: p->syms[2].index = 3; break;
		case 5: p->arch = 3; break;
		case 6: p->findings[1].severity = 0; break;
		case 7: p->data[0].align = 3; break;
		}
		assert_int_equal(hpk_write_mem(p, &buf, &n, &err), -1);
		assert_null(buf);
		if (!strstr(err.msg, want[i]))
			fail_msg("case %zu: error is \"%s\", expected \"%s\"", i, err.msg, want[i]);
		hp_err_clear(&err);
		assert_int_equal(hpk_write_file(p, path, &err), -1);
		assert_non_null(strstr(err.msg, "refused.hpk: "));
		assert_int_equal(access(path, F_OK), -1);   /* nothing left behind */
		hpk_free(p);
	}
}

/* ---- the reader against damage ---- */

static void test_every_byte_changed(void **state)
{
	struct hpk *p = sample_package(true);
	size_t size;
	uint8_t *buf = write_ok(p, &size);
	static const uint8_t flips[] = { 0xff, 0x01 };

	for (size_t i = 0; i < size; i++) {
		for (size_t f = 0; f < ARRAY_SIZE(flips); f++) {
			struct hp_err err = { { 0 } };
			struct hpk *q;

			buf[i] ^= flips[f];
			q = hpk_read_mem("x.hpk", buf, size, &err);
			if (q || !err.msg[0])
				fail_msg("byte %zu ^ 0x%02x: accepted", i, flips[f]);
			assert_memory_equal(err.msg, "x.hpk: ", 7);
			buf[i] ^= flips[f];
		}
	}
	hpk_free(read_ok(buf, size));   /* and the intact one still reads */
	free(buf);
	hpk_free(p);
}

static void test_truncated(void **state)
{
	struct hpk *p = sample_package(true);
	size_t size;
	uint8_t *buf = write_ok(p, &size);

	for (size_t len = 0; len < size; len++) {
		uint8_t *cut = xmalloc(len ? len : 1);   /* exactly len bytes: ASan sees any overread */
		struct hp_err err = { { 0 } };

		memcpy(cut, buf, len);
		assert_null(hpk_read_mem("x.hpk", cut, len, &err));
		assert_true(err.msg[0] != '\0');
		free(cut);
	}
	expect_reject(buf, 71, "too small to be a hotpatch package");
	expect_reject(buf, size - 1, "truncated: the header says");
	free(buf);
	hpk_free(p);
}

/*
 * Hostile but consistent: each case edits one field and recomputes every
 * checksum and the id, so the reader must catch it by looking at the
 * field.  Expected messages written down before running.
 */
enum hostile {
	BAD_STRING, BAD_SYMBOL_INDEX, RELOC_PAST_END, UNKNOWN_TYPE_PAST_END, CODE_PAST_BLOB,
	HUGE_RELOC_COUNT, HUGE_TOC_COUNT, TOC_PAST_END, TOC_OVERLAP, DUPLICATE_SECTION,
	PARTIAL_RECORD, NEWER_MAJOR, OTHER_ARCH, BAD_HEADER_SIZE, REQUIRED_FLAG, MASKS_UNSORTED,
	BSS_BYTES, BROKEN_BACKPOINTER, BAD_WHERE, STRINGS_UNTERMINATED, FEWER_RELOCS, NR_HOSTILE,
};

static const char *const hostile_want[NR_HOSTILE] = {
	[BAD_STRING] = "unit 0 name: string offset 0x",
	[BAD_SYMBOL_INDEX] = "function 0 relocation 2: symbol 99 out of range (10 symbols)",
	[RELOC_PAST_END] = "function 0 relocation 1: offset 0x120 (4-byte field) outside the function's 0x28 bytes",
	[UNKNOWN_TYPE_PAST_END] = "function 0 relocation 1: offset 0x21 (type 77, checked as an 8-byte field) outside the function's 0x28 bytes",
	[CODE_PAST_BLOB] = "function 0: code 0x",
	[HUGE_RELOC_COUNT] = "function 0: 4294967295 relocations, but only 8 of the relocs section's 8 are left",
	[HUGE_TOC_COUNT] = "table of contents (4294967295 entries) extends past the end of the file",
	[TOC_PAST_END] = "(functions): bytes 0x",
	[TOC_OVERLAP] = "(relocs) and",
	[DUPLICATE_SECTION] = "a second relocs section",
	[PARTIAL_RECORD] = "(relocs): size 191 is not a multiple of its 24-byte records",
	[NEWER_MAJOR] = "x.hpk: package format 2.x is newer than this reader (1.x); upgrade hpverify",
	[OTHER_ARCH] = "x.hpk: package is for architecture 40, not x86-64",
	[BAD_HEADER_SIZE] = "header size 68 is invalid",
	[REQUIRED_FLAG] = "package uses features this reader does not know (flags 0x4)",
	[MASKS_UNSORTED] = "function 0 mask 1: starts at 0x1, before the end of mask 0",
	[BSS_BYTES] = "data 2: a BSS object with stored bytes (offset 0x8)",
	[BROKEN_BACKPOINTER] = "symbol 1: function 1's own symbol is 0, not 1",
	[BAD_WHERE] = "symbol 2: 'where' 9 is not FUNC (1), DATA (2) or EXTERN (3)",
	[STRINGS_UNTERMINATED] = "string table does not end with a NUL byte",
	[FEWER_RELOCS] = "the functions and data objects claim 7 relocations in all, but the relocs section holds 8",
};

static void make_hostile(uint8_t *buf, size_t size, enum hostile h)
{
	uint64_t strsize, blobsize;
	uint8_t *units = section(buf, S_UNITS, NULL), *funcs = section(buf, S_FUNCTIONS, NULL);
	uint8_t *relocs = section(buf, S_RELOCS, NULL), *masks = section(buf, S_MASKS, NULL);
	uint8_t *strings = section(buf, S_STRINGS, &strsize), *data = section(buf, S_DATA, NULL);
	uint8_t *syms = section(buf, S_SYMBOLS, NULL);
	uint32_t e;

	section(buf, S_BLOBS, &blobsize);
	switch (h) {
	case BAD_STRING:
		put_le(units + U_NAME, strsize + 5, 4);
		break;
	case BAD_SYMBOL_INDEX:
		put_le(relocs + 2 * RELOC_REC + R_SYM, 99, 4);
		break;
	case RELOC_PAST_END:
		put_le(relocs + 1 * RELOC_REC + R_OFFSET, 0x120, 4);
		break;
	case UNKNOWN_TYPE_PAST_END:   /* 0x21 + 4 fits, 0x21 + 8 does not */
		put_le(relocs + 1 * RELOC_REC + R_OFFSET, 0x21, 4);
		put_le(relocs + 1 * RELOC_REC + R_TYPE, 77, 4);
		break;
	case CODE_PAST_BLOB:
		put_le(funcs + F_CODE_OFFSET, blobsize - 4, 4);
		break;
	case HUGE_RELOC_COUNT:
		put_le(funcs + F_NR_RELOCS, 0xffffffffu, 4);
		break;
	case HUGE_TOC_COUNT:
		put_le(buf + H_NR_SECTIONS, 0xffffffffu, 4);
		break;
	case TOC_PAST_END:
		e = toc_entry(buf, S_FUNCTIONS);
		put_le(buf + H_SIZE + e * T_SIZE_ENTRY + T_SIZE, (size / FUNC_REC) * FUNC_REC, 8);
		break;
	case TOC_OVERLAP:   /* masks moved onto the relocs */
		put_le(buf + H_SIZE + toc_entry(buf, S_MASKS) * T_SIZE_ENTRY + T_OFFSET,
		       toc_field(buf, toc_entry(buf, S_RELOCS), T_OFFSET, 8) + 8, 8);
		break;
	case DUPLICATE_SECTION:
		e = toc_entry(buf, S_MASKS);
		put_le(buf + H_SIZE + e * T_SIZE_ENTRY + T_TYPE, S_RELOCS, 4);
		break;
	case PARTIAL_RECORD:
		e = toc_entry(buf, S_RELOCS);
		put_le(buf + H_SIZE + e * T_SIZE_ENTRY + T_SIZE, 8 * RELOC_REC - 1, 8);
		break;
	case NEWER_MAJOR:
		put_le(buf + H_MAJOR, 2, 2);
		break;
	case OTHER_ARCH:
		put_le(buf + H_ARCH, 40, 2);
		break;
	case BAD_HEADER_SIZE:
		put_le(buf + H_HEADER_SIZE, 68, 2);
		break;
	case REQUIRED_FLAG:
		put_le(buf + H_FLAGS, 0x4, 4);
		break;
	case MASKS_UNSORTED:   /* {1,4} {8,4} {20,6} -> {8,4} {1,4} {20,6} */
		put_le(masks + 0, 8, 4);
		put_le(masks + MASK_REC, 1, 4);
		break;
	case BSS_BYTES:
		put_le(data + 2 * DATA_REC + D_BYTES_OFFSET, 8, 4);
		break;
	case BROKEN_BACKPOINTER:
		put_le(funcs + 1 * FUNC_REC + F_SYM, 0, 4);
		break;
	case BAD_WHERE:
		syms[2 * SYM_REC + Y_WHERE] = 9;
		break;
	case STRINGS_UNTERMINATED:
		strings[strsize - 1] = 'x';
		break;
	case FEWER_RELOCS:
		put_le(funcs + F_NR_RELOCS, 4, 4);
		break;
	case NR_HOSTILE:
		break;
	}
	reseal(buf, size);
}

static void test_hostile_consistent(void **state)
{
	struct hpk *p = sample_package(true);
	size_t size;
	uint8_t *buf = write_ok(p, &size);

	for (int h = 0; h < NR_HOSTILE; h++) {
		uint8_t *copy = copy_of(buf, size);

		make_hostile(copy, size, (enum hostile)h);
		expect_reject(copy, size, hostile_want[h]);
		free(copy);
	}
	free(buf);
	hpk_free(p);
}

/* Checksums themselves: each one guards what it says it guards. */
static void test_checksums(void **state)
{
	struct hpk *p = sample_package(true);
	size_t size;
	uint8_t *buf = write_ok(p, &size), *copy;
	uint64_t strsize;
	uint8_t *strings;

	copy = copy_of(buf, size);
	copy[size - 1] ^= 1;   /* a blob byte, nothing recomputed */
	expect_reject(copy, size, "x.hpk: checksum mismatch (file is corrupt or was modified)");
	free(copy);

	/* a section changed with the id and file checksum redone, but not the
	 * section's own checksum */
	copy = copy_of(buf, size);
	strings = section(copy, S_STRINGS, &strsize);
	strings[0] ^= 0x20;
	reseal_header(copy, size);
	expect_reject(copy, size, "section 0 (strings): checksum mismatch (file is corrupt or was modified)");
	free(copy);

	/* another id with a correct file checksum */
	copy = copy_of(buf, size);
	copy[H_ID] ^= 1;
	{
		XXH128_hash_t h;

		memset(copy + H_CHECKSUM, 0, 16);
		h = XXH3_128bits(copy, size);
		put_le(copy + H_CHECKSUM, h.low64, 8);
		put_le(copy + H_CHECKSUM + 8, h.high64, 8);
	}
	expect_reject(copy, size, "package id is not the first half of its digest");
	free(copy);

	/* the digest edited, the file checksum redone */
	copy = copy_of(buf, size);
	copy[H_DIGEST + 31] ^= 1;
	{
		XXH128_hash_t h;

		memset(copy + H_CHECKSUM, 0, 16);
		h = XXH3_128bits(copy, size);
		put_le(copy + H_CHECKSUM, h.low64, 8);
		put_le(copy + H_CHECKSUM + 8, h.high64, 8);
	}
	expect_reject(copy, size, "package digest does not match its content");
	free(copy);

	/* the digest flag on a header too small to hold it */
	copy = copy_of(buf, size);
	put_le(copy + H_HEADER_SIZE, 72, 2);
	reseal_header(copy, size);
	expect_reject(copy, size, "no room for the digest");
	free(copy);

	/* file size field */
	copy = copy_of(buf, size);
	put_le(copy + H_FILE_SIZE, size - 8, 8);
	expect_reject(copy, size, "the header says");
	free(copy);
	free(buf);
	hpk_free(p);
}

/* Room to grow: a newer minor version, advisory flags, and optional
 * sections of unknown types are accepted; unknown required ones are not. */
static void test_growth(void **state)
{
	struct hpk *p = sample_package(true), *q;
	static const char payload[] = "signature or whatever 1.1 adds";
	size_t size, n2;
	uint8_t *buf = write_ok(p, &size), *copy;

	copy = with_extra_section(buf, size, 77, 1, payload, sizeof(payload), &n2);
	q = read_ok(copy, n2);
	memcpy(q->id, p->id, 16);   /* the id covers the extra section */
	same_package(p, q);
	hpk_free(q);
	free(copy);

	copy = with_extra_section(buf, size, 77, 0, payload, sizeof(payload), &n2);
	expect_reject(copy, n2, "section 9 has type 77, which this reader does not know and which is not optional; upgrade hpverify");
	free(copy);

	copy = copy_of(buf, size);
	put_le(copy + H_MINOR, 7, 2);
	put_le(copy + H_FLAGS, 0x10000, 4);   /* advisory */
	reseal(copy, size);
	q = read_ok(copy, size);
	assert_int_equal(q->minor, 7);
	hpk_free(q);
	free(copy);
	free(buf);
	hpk_free(p);
}

/* A format 1.0 package (no digest flag, the XXH3 id) is still read, but
 * has no id --expect-id can rely on; a 1.1 package matches its id and its
 * digest, in either case, and nothing else. */
static void test_expect_id(void **state)
{
	struct hpk *p = sample_package(true), *q;
	struct hp_err err = { { 0 } };
	size_t size;
	uint8_t *buf = write_ok(p, &size), *copy;
	char id[33], digest[65];

	(void)state;
	hpk_id_hex(p, id);
	hpk_digest_hex(p, digest);
	assert_int_equal(strlen(digest), 64);
	assert_memory_equal(digest, id, 32);
	assert_int_equal(hpk_expect_id(p, "x.hpk", id, &err), 0);
	assert_int_equal(hpk_expect_id(p, "x.hpk", digest, &err), 0);
	for (char *c = digest; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	assert_int_equal(hpk_expect_id(p, "x.hpk", digest, &err), 0);
	digest[63] = digest[63] == '0' ? '1' : '0';
	assert_int_equal(hpk_expect_id(p, "x.hpk", digest, &err), -1);
	assert_non_null(strstr(err.msg, "is not the expected"));
	hp_err_clear(&err);
	assert_int_equal(hpk_expect_id(p, "x.hpk", "0123", &err), -1);
	assert_non_null(strstr(err.msg, "not a package id"));

	copy = copy_of(buf, size);
	put_le(copy + H_MINOR, 0, 2);
	put_le(copy + H_FLAGS, 0, 4);
	reseal(copy, size);
	q = read_ok(copy, size);
	assert_false(q->has_digest);
	hpk_id_hex(q, id);
	hp_err_clear(&err);
	assert_int_equal(hpk_expect_id(q, "old.hpk", id, &err), -1);
	assert_string_equal(err.msg, "old.hpk: format 1.0 package has no cryptographic id to check --expect-id against; rebuild it");
	hpk_free(q);
	free(copy);
	free(buf);
	hpk_free(p);
}

/* A name carrying a terminal escape sequence is refused by the reader:
 * hpverify prints names to reviewers' terminals. */
static void test_control_characters(void **state)
{
	struct hpk *p = sample_package(false);
	uint8_t *buf;
	size_t size;

	(void)state;
	p->funcs[0].file = own_str(p, "evil\x1b[2J.c");
	buf = write_ok(p, &size);
	expect_reject(buf, size, "control character 0x1b");
	free(buf);
	hpk_free(p);
}

/* Format 1.2 (hpbuild --base): the base module and the statics'
 * fingerprints round-trip in optional sections, with minor version 2; a
 * package without them is the 1.1 package it was, to the byte; the model
 * checks refuse a fingerprint of a symbol that is not the running
 * program's, and statics out of symbol order. */
static void test_base_module(void **state)
{
	struct hpk *p = sample_package(true), *q;
	static const struct hpk_range sm[] = { { 2, 4 } };
	struct hp_err err = { { 0 } };
	size_t n11, n12, n;
	uint8_t *a = write_ok(p, &n11), *b, *c;
	uint32_t nsec;

	assert_int_equal(get_le(a + H_MINOR, 2), 1);
	p->base_name = own_str(p, "libnet.so.1");
	p->base_build_id = own_str(p, "3f0c1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b");
	p->nr_statics = 2;
	p->statics = xcalloc(2, sizeof(*p->statics));
	p->statics[0] = (struct hpk_static){ .sym = 3, .kind = HPK_STATIC_DATA, .align = 4, .size = 4 };
	p->statics[1] = (struct hpk_static){ .sym = 4, .kind = HPK_STATIC_RODATA, .align = 8, .size = 16,
					     .hash = 0x0123456789abcdefULL,
					     .masks = memcpy(xcalloc(1, sizeof(sm)), sm, sizeof(sm)), .nr_masks = 1 };
	b = write_ok(p, &n12);
	assert_int_equal(get_le(b + H_MINOR, 2), 2);
	assert_int_equal(p->minor, 2);
	nsec = (uint32_t)get_le(b + H_NR_SECTIONS, 4);
	for (uint32_t i = 0; i < nsec; i++) {
		const uint8_t *e = b + get_le(b + H_HEADER_SIZE, 2) + T_SIZE_ENTRY * i;
		/* 1.2's sections are optional: a 1.1 reader skips them */
		assert_int_equal(get_le(e + T_FLAGS, 4), get_le(e + T_TYPE, 4) >= 10 ? 1 : 0);
	}
	q = read_ok(b, n12);
	assert_int_equal(q->minor, 2);
	assert_string_equal(q->base_name, "libnet.so.1");
	assert_string_equal(q->base_build_id, p->base_build_id);
	assert_int_equal(q->nr_statics, 2);
	assert_int_equal(q->statics[0].kind, HPK_STATIC_DATA);
	assert_int_equal(q->statics[1].sym, 4);
	assert_int_equal(q->statics[1].size, 16);
	assert_int_equal(q->statics[1].align, 8);
	assert_true(q->statics[1].hash == 0x0123456789abcdefULL);
	assert_int_equal(q->statics[1].nr_masks, 1);
	assert_int_equal(q->statics[1].masks[0].start, 2);
	assert_int_equal(q->statics[1].masks[0].len, 4);
	c = write_ok(q, &n);   /* what was read, written again */
	assert_int_equal(n, n12);
	assert_memory_equal(b, c, n);
	hpk_free(q);
	free(c);

	/* hostile: mask counts that do not add up, a static whose reserved
	 * bytes are not zero */
	c = copy_of(b, n12);
	put_le(section(c, 11, NULL) + 32 + 20, 5, 4);
	reseal(c, n12);
	expect_reject(c, n12, "static 1: 5 masks, but only 1 of the static_masks section's 1 are left");
	free(c);
	c = copy_of(b, n12);
	put_le(section(c, 11, NULL) + 32 + 20, 0, 4);
	reseal(c, n12);
	expect_reject(c, n12, "the statics claim 0 masks in all, but the static_masks section holds 1");
	free(c);
	c = copy_of(b, n12);
	section(c, 11, NULL)[31] = 1;
	reseal(c, n12);
	expect_reject(c, n12, "static 0: reserved field is 0x1000000000000, not 0");
	free(c);

	p->statics[0].sym = 0;   /* parse_header: the package's own */
	if (hpk_write_mem(p, &c, &n, &err) == 0 || !strstr(err.msg, "is not a symbol of the running program"))
		fail_msg("wrote a fingerprint of a package function (%s)", err.msg);
	p->statics[0].sym = 4;   /* twice the same symbol */
	hp_err_clear(&err);
	if (hpk_write_mem(p, &c, &n, &err) == 0 || !strstr(err.msg, "sorted by symbol"))
		fail_msg("wrote statics out of order (%s)", err.msg);

	for (uint32_t i = 0; i < p->nr_statics; i++)
		free(p->statics[i].masks);
	free(p->statics);
	p->statics = NULL;
	p->nr_statics = 0;
	p->base_name = p->base_build_id = NULL;
	c = write_ok(p, &n);   /* without a base: 1.1, the same bytes */
	assert_int_equal(n, n11);
	assert_memory_equal(a, c, n);
	free(a);
	free(b);
	free(c);
	hpk_free(p);
}

/* Aliases (format 1.2): written sorted, read back, the same bytes again;
 * out of order, the function's own name or a function out of range are
 * refused by the writer's model check. */
static void test_aliases(void **state)
{
	struct hpk *p = sample_package(true), *q;
	struct hp_err err = { { 0 } };
	size_t n, n2;
	uint8_t *a, *b;

	(void)state;
	assert_true(p->nr_funcs >= 1);
	p->nr_aliases = 2;
	p->aliases = xcalloc(2, sizeof(*p->aliases));
	p->aliases[0] = (struct hpk_alias){ .func = 0, .name = own_str(p, "SyS_a") };
	p->aliases[1] = (struct hpk_alias){ .func = 0, .name = own_str(p, "compat_a") };
	a = write_ok(p, &n);
	assert_int_equal(get_le(a + H_MINOR, 2), 2);
	q = read_ok(a, n);
	assert_int_equal(q->nr_aliases, 2);
	assert_int_equal(q->aliases[1].func, 0);
	assert_string_equal(q->aliases[0].name, "SyS_a");
	assert_string_equal(q->aliases[1].name, "compat_a");
	b = write_ok(q, &n2);
	assert_int_equal(n2, n);
	assert_memory_equal(a, b, n);
	hpk_free(q);
	free(a);
	free(b);

	p->aliases[1].name = own_str(p, "AAA");   /* not sorted */
	if (hpk_write_mem(p, &b, &n2, &err) == 0 || !strstr(err.msg, "sorted by function, then name"))
		fail_msg("wrote aliases out of order (%s)", err.msg);
	p->aliases[1] = (struct hpk_alias){ .func = 0, .name = p->funcs[0].name };
	hp_err_clear(&err);
	if (hpk_write_mem(p, &b, &n2, &err) == 0 || !strstr(err.msg, "own name"))
		fail_msg("wrote a function's own name as its alias (%s)", err.msg);
	p->aliases[1] = (struct hpk_alias){ .func = p->nr_funcs, .name = own_str(p, "zz") };
	hp_err_clear(&err);
	if (hpk_write_mem(p, &b, &n2, &err) == 0 || !strstr(err.msg, "out of range"))
		fail_msg("wrote an alias of no function (%s)", err.msg);
	hpk_free(p);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_control_characters),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_string_dedup),
		cmocka_unit_test(test_compact_layout),
		cmocka_unit_test(test_header_per_spec),
		cmocka_unit_test(test_file_io),
		cmocka_unit_test(test_masked_hash),
		cmocka_unit_test(test_writer_merges_masks),
		cmocka_unit_test(test_writer_refuses_invalid),
		cmocka_unit_test(test_every_byte_changed),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_hostile_consistent),
		cmocka_unit_test(test_checksums),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_expect_id),
		cmocka_unit_test(test_base_module),
		cmocka_unit_test(test_aliases),
	};

	test_select(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
