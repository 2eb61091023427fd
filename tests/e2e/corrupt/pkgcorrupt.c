/*
 * pkgcorrupt.c - corrupt and hostile packages for tests/e2e/corrupt.sh,
 * which builds it against the build's libhp.a.
 *
 *   pkgcorrupt flips PKG
 *       Every single-bit flip of PKG, through the package reader
 *       (hpk_read_mem, the code hpverify and hpapply read with): each must
 *       be refused with one line naming the file.  Prints one line per
 *       flip that is not, then "flips: N bits, M not refused properly";
 *       exit 1 if M > 0.
 *   pkgcorrupt hostile PKG OUTDIR
 *       Writes OUTDIR/NAME.hpk, packages with consistent checksums (and
 *       id) but a hostile offset, count, index, string reference or field,
 *       one per case, and prints "NAME<TAB>TEXT" for each: the error line
 *       of a reader that refuses it must contain TEXT (the check that
 *       failed).  TEXT "-" marks an extreme but possibly valid package
 *       (addend INT64_MAX, alignment 2^31 ...): any verdict, no crash.
 *       Cases that need a record PKG lacks are left out, said on stderr.
 *   pkgcorrupt seal IN OUT
 *       OUT is IN with its checksums and id recomputed (as fuzz/fuzz_seal.h
 *       does before the fuzz targets read a package): turns a fuzz
 *       reproducer into a package hpverify reads as the target did.
 *
 * Exit 2 on bad arguments or an unreadable PKG.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "hpk.h"
#include "hpk_format.h"
#include "util.h"

static uint8_t *base;
static size_t base_size;
static struct hpk *model;    /* PKG as read: counts of its records */

/* ---- flips ---- */

static int one_line_naming(const struct hp_err *err, const char *name)
{
	size_t n = strlen(name);

	return err->msg[0] && !strchr(err->msg, '\n') && !strncmp(err->msg, name, n) &&
	       !strncmp(err->msg + n, ": ", 2);
}

static int flips(const char *name)
{
	uint8_t *img = xmalloc(base_size);
	size_t bad = 0;

	for (size_t bit = 0; bit < base_size * 8; bit++) {
		struct hp_err err = { { 0 } };
		struct hpk *p;

		memcpy(img, base, base_size);
		img[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		p = hpk_read_mem(name, img, base_size, &err);
		if (p) {
			printf("bit %zu (byte 0x%zx): accepted\n", bit, bit / 8);
			hpk_free(p);
			bad++;
		} else if (!one_line_naming(&err, name)) {
			printf("bit %zu (byte 0x%zx): error line does not name the file: %s\n",
			       bit, bit / 8, err.msg);
			bad++;
		}
	}
	free(img);
	printf("flips: %zu bits, %zu not refused properly\n", base_size * 8, bad);
	return bad ? 1 : 0;
}

/* ---- hostile cases ---- */

struct image {
	uint8_t *d;
	size_t size;
};

/* Where the record i of section type t starts in the image, or NULL. */
static uint8_t *record(struct image *im, uint32_t type, uint64_t i)
{
	uint64_t hs = get_le(im->d + HDR_HEADER_SIZE, 2), n = get_le(im->d + HDR_NR_SECTIONS, 4);

	for (uint64_t k = 0; k < n; k++) {
		uint8_t *e = im->d + hs + k * TOC_ENTRY_SIZE;

		if (get_le(e + TOC_TYPE, 4) == type) {
			uint64_t rs = hpk_record_size(type);

			if ((i + 1) * rs > get_le(e + TOC_SIZE, 8))
				return NULL;
			return im->d + get_le(e + TOC_OFFSET, 8) + i * rs;
		}
	}
	return NULL;
}

static uint8_t *toc_entry(struct image *im, uint32_t type)
{
	uint64_t hs = get_le(im->d + HDR_HEADER_SIZE, 2), n = get_le(im->d + HDR_NR_SECTIONS, 4);

	for (uint64_t k = 0; k < n; k++)
		if (get_le(im->d + hs + k * TOC_ENTRY_SIZE + TOC_TYPE, 4) == type)
			return im->d + hs + k * TOC_ENTRY_SIZE;
	return NULL;
}

enum { SEAL_ALL = 0, SEAL_KEEP_ID = 1, SEAL_KEEP_FILE_SIZE = 2 };

/* Recompute what a careful forger would: section checksums, file size,
 * id and whole-file checksum (as fuzz/fuzz_seal.h). */
static void seal(struct image *im, int keep)
{
	uint64_t hs = get_le(im->d + HDR_HEADER_SIZE, 2), n = get_le(im->d + HDR_NR_SECTIONS, 4);

	if (!(keep & SEAL_KEEP_FILE_SIZE))
		put_le(im->d + HDR_FILE_SIZE, im->size, 8);
	for (uint64_t k = 0; k < n; k++) {
		uint8_t *e = im->d + hs + k * TOC_ENTRY_SIZE;
		uint64_t off, len;

		if (hs + (k + 1) * TOC_ENTRY_SIZE > im->size)
			break;
		off = get_le(e + TOC_OFFSET, 8);
		len = get_le(e + TOC_SIZE, 8);
		if (off <= im->size && len <= im->size - off)
			put_le(e + TOC_CHECKSUM, XXH3_64bits(im->d + off, (size_t)len), 8);
	}
	if (!(keep & SEAL_KEEP_ID))
		hpk_seal_id(im->d, im->size);
	hpk_file_hash(im->d, im->size, 0, im->d + HDR_CHECKSUM);
}

/* A case edits the image; returns 0, or -1 when PKG lacks what it needs. */
typedef int (*edit_fn)(struct image *im);

#define FIELD(type, i, off, width, value)                                  \
	do {                                                               \
		uint8_t *r_ = record(im, (type), (i));                     \
		if (!r_)                                                   \
			return -1;                                         \
		put_le(r_ + (off), (value), (width));                      \
	} while (0)
#define TOC(type, off, width, value)                                       \
	do {                                                               \
		uint8_t *e_ = toc_entry(im, (type));                       \
		if (!e_)                                                   \
			return -1;                                         \
		put_le(e_ + (off), (value), (width));                      \
	} while (0)

static int e_toc_past_end(struct image *im) { TOC(SEC_STRINGS, TOC_OFFSET, 8, im->size + 8); return 0; }
static int e_toc_size_huge(struct image *im) { TOC(SEC_FUNCTIONS, TOC_SIZE, 8, 0xffffffffffffff00ULL); return 0; }
static int e_toc_wraps(struct image *im)
{
	TOC(SEC_BLOBS, TOC_OFFSET, 8, 0xfffffffffffffff8ULL);
	TOC(SEC_BLOBS, TOC_SIZE, 8, 16);
	return 0;
}
static int e_toc_count_huge(struct image *im) { put_le(im->d + HDR_NR_SECTIONS, 0xffffffffu, 4); return 0; }
static int e_header_size(struct image *im) { put_le(im->d + HDR_HEADER_SIZE, 0xfff8, 2); return 0; }
static int e_overlap(struct image *im)
{
	uint8_t *s = toc_entry(im, SEC_SYMBOLS), *u = toc_entry(im, SEC_UNITS);

	if (!s || !u || !get_le(u + TOC_SIZE, 8))
		return -1;
	put_le(u + TOC_OFFSET, get_le(s + TOC_OFFSET, 8), 8);
	return 0;
}
static int e_in_toc(struct image *im) { TOC(SEC_STRINGS, TOC_OFFSET, 8, get_le(im->d + HDR_HEADER_SIZE, 2)); return 0; }
static int e_unknown_type(struct image *im) { TOC(SEC_FINDINGS, TOC_TYPE, 4, 99); return 0; }
static int e_duplicate(struct image *im) { TOC(SEC_FINDINGS, TOC_TYPE, 4, SEC_UNITS); return 0; }
static int e_ragged(struct image *im)
{
	uint8_t *e = toc_entry(im, SEC_SYMBOLS);

	if (!e || !get_le(e + TOC_SIZE, 8))
		return -1;
	put_le(e + TOC_SIZE, get_le(e + TOC_SIZE, 8) - 1, 8);
	return 0;
}
static int e_strings_unterminated(struct image *im)
{
	uint8_t *e = toc_entry(im, SEC_STRINGS);

	if (!e || !get_le(e + TOC_SIZE, 8))
		return -1;
	im->d[get_le(e + TOC_OFFSET, 8) + get_le(e + TOC_SIZE, 8) - 1] = 'x';
	return 0;
}
static int e_string_past_table(struct image *im)
{
	uint8_t *e = toc_entry(im, SEC_STRINGS);

	if (!e)
		return -1;
	FIELD(SEC_SYMBOLS, 0, SYM_NAME, 4, get_le(e + TOC_SIZE, 8));
	return 0;
}
static int e_string_max(struct image *im) { FIELD(SEC_FUNCTIONS, 0, FUNC_NAME, 4, 0xfffffffeu); return 0; }
static int e_relocs_huge(struct image *im) { FIELD(SEC_FUNCTIONS, 0, FUNC_NR_RELOCS, 4, 0xffffffffu); return 0; }
static int e_relocs_short(struct image *im)
{
	if (!model->nr_funcs || !model->funcs[0].nr_relocs)
		return -1;
	FIELD(SEC_FUNCTIONS, 0, FUNC_NR_RELOCS, 4, 0);
	return 0;
}
static int e_masks_huge(struct image *im) { FIELD(SEC_FUNCTIONS, 0, FUNC_NR_MASKS, 4, 0x7fffffffu); return 0; }
static int e_code_outside(struct image *im) { FIELD(SEC_FUNCTIONS, 0, FUNC_CODE_OFFSET, 4, 0xfffffff0u); return 0; }
static int e_code_huge(struct image *im) { FIELD(SEC_FUNCTIONS, 0, FUNC_CODE_SIZE, 4, 0xffffffffu); return 0; }
static int e_data_outside(struct image *im)
{
	for (uint32_t i = 0; i < model->nr_data; i++)
		if (model->data[i].kind != HPK_DATA_BSS && model->data[i].size) {
			FIELD(SEC_DATA, i, DATA_BYTES_OFFSET, 4, 0xffffff00u);
			return 0;
		}
	return -1;
}
static int e_reloc_sym(struct image *im) { FIELD(SEC_RELOCS, 0, RELOC_SYM, 4, 0xffffffffu); return 0; }
static int e_reloc_offset(struct image *im) { FIELD(SEC_RELOCS, 0, RELOC_OFFSET, 4, 0xfffffff0u); return 0; }
static int e_reloc_reserved(struct image *im) { FIELD(SEC_RELOCS, 0, RELOC_RESERVED, 4, 1); return 0; }
static int e_func_unit(struct image *im) { FIELD(SEC_FUNCTIONS, 0, FUNC_UNIT, 4, 1000); return 0; }
static int e_func_sym(struct image *im) { FIELD(SEC_FUNCTIONS, 0, FUNC_SYM, 4, 0xffffffffu); return 0; }
static int e_func_sym_other(struct image *im)
{
	if (!model->nr_funcs || model->nr_syms < 2)
		return -1;
	FIELD(SEC_FUNCTIONS, 0, FUNC_SYM, 4, (model->funcs[0].sym + 1) % model->nr_syms);
	return 0;
}
static int e_sym_where(struct image *im) { FIELD(SEC_SYMBOLS, 0, SYM_WHERE, 1, 7); return 0; }
static int e_sym_index(struct image *im)
{
	if (!model->nr_funcs)
		return -1;
	FIELD(SEC_SYMBOLS, model->funcs[0].sym, SYM_INDEX, 4, 1000);
	return 0;
}
static int e_sym_reserved(struct image *im) { FIELD(SEC_SYMBOLS, 0, SYM_RESERVED, 1, 1); return 0; }
static int e_func_kind(struct image *im) { FIELD(SEC_FUNCTIONS, 0, FUNC_KIND, 1, 9); return 0; }
static int e_func_align(struct image *im) { FIELD(SEC_FUNCTIONS, 0, FUNC_ALIGN, 4, 3); return 0; }
/* the last mask of function 0: earlier ones would fail the order check first */
static int e_mask_outside(struct image *im)
{
	if (!model->nr_funcs || !model->funcs[0].nr_old_masks)
		return -1;
	FIELD(SEC_MASKS, model->funcs[0].nr_old_masks - 1, MASK_START, 4, 0xfffffff0u);
	return 0;
}
static int e_mask_empty(struct image *im) { FIELD(SEC_MASKS, 0, MASK_LEN, 4, 0); return 0; }
static int e_finding_severity(struct image *im) { FIELD(SEC_FINDINGS, 0, FIND_SEVERITY, 1, 9); return 0; }
static int e_finding_overridden(struct image *im) { FIELD(SEC_FINDINGS, 0, FIND_OVERRIDDEN, 1, 7); return 0; }
/* a required flag no reader knows (bit 0, DIGEST, is known since 1.1) */
static int e_flags(struct image *im) { put_le(im->d + HDR_FLAGS, get_le(im->d + HDR_FLAGS, 4) | 0x8000, 4); return 0; }
static int e_newer(struct image *im) { put_le(im->d + HDR_MAJOR, HPK_FORMAT_MAJOR + 1, 2); return 0; }
static int e_arch(struct image *im) { put_le(im->d + HDR_ARCH, 3, 2); return 0; }
static int e_id(struct image *im) { im->d[HDR_ID] ^= 1; return 0; }
static int e_trailing(struct image *im)
{
	im->d = xrealloc(im->d, im->size + 8);
	memset(im->d + im->size, 0, 8);
	im->size += 8;
	return 0;
}
static int e_truncated(struct image *im) { im->size -= 8; return 0; }
/* every relocation: which of them the listing resolves depends on the code */
static int all_addends(struct image *im, uint64_t value)
{
	uint8_t *r;

	for (uint64_t i = 0; (r = record(im, SEC_RELOCS, i)); i++)
		put_le(r + RELOC_ADDEND, value, 8);
	return record(im, SEC_RELOCS, 0) ? 0 : -1;
}
static int e_addend_max(struct image *im) { return all_addends(im, 0x7fffffffffffffffULL); }
static int e_addend_min(struct image *im) { return all_addends(im, 0x8000000000000000ULL); }
static int e_reloc_type(struct image *im) { FIELD(SEC_RELOCS, 0, RELOC_TYPE, 4, 0xdead); return 0; }
static int e_line_max(struct image *im) { FIELD(SEC_FUNCTIONS, 0, FUNC_LINE, 4, 0xffffffffu); return 0; }
static int e_align_huge(struct image *im) { FIELD(SEC_FUNCTIONS, 0, FUNC_ALIGN, 4, 0x80000000u); return 0; }
static int e_old_size_max(struct image *im) { FIELD(SEC_FUNCTIONS, 0, FUNC_OLD_SIZE, 4, 0xffffffffu); return 0; }
static int e_data_align_huge(struct image *im) { FIELD(SEC_DATA, 0, DATA_ALIGN, 4, 0x80000000u); return 0; }
static int e_finding_line_max(struct image *im) { FIELD(SEC_FINDINGS, 0, FIND_LINE, 4, 0xffffffffu); return 0; }

static const struct hostile_case {
	const char *name;
	edit_fn edit;
	int keep;           /* what the forger does not recompute */
	const char *text;   /* in the reader's error line */
} cases[] = {
	{ "toc-offset-past-end", e_toc_past_end, SEAL_ALL, "outside the file" },
	{ "toc-size-huge", e_toc_size_huge, SEAL_ALL, "outside the file" },
	{ "toc-offset-wraps", e_toc_wraps, SEAL_ALL, "outside the file" },
	{ "toc-count-huge", e_toc_count_huge, SEAL_ALL, "table of contents" },
	{ "header-size", e_header_size, SEAL_ALL, "header size" },
	{ "sections-overlap", e_overlap, SEAL_ALL, "overlap" },
	{ "section-in-toc", e_in_toc, SEAL_ALL, "inside the header" },
	{ "unknown-section", e_unknown_type, SEAL_ALL, "does not know" },
	{ "duplicate-section", e_duplicate, SEAL_ALL, "a second" },
	{ "ragged-records", e_ragged, SEAL_ALL, "not a multiple" },
	{ "strings-unterminated", e_strings_unterminated, SEAL_ALL, "NUL" },
	{ "string-past-table", e_string_past_table, SEAL_ALL, "string offset" },
	{ "string-offset-max", e_string_max, SEAL_ALL, "string offset" },
	{ "relocs-count-huge", e_relocs_huge, SEAL_ALL, "are left" },
	{ "relocs-count-short", e_relocs_short, SEAL_ALL, "claim" },
	{ "masks-count-huge", e_masks_huge, SEAL_ALL, "are left" },
	{ "code-outside-blobs", e_code_outside, SEAL_ALL, "blob section" },
	{ "code-size-huge", e_code_huge, SEAL_ALL, "blob section" },
	{ "data-outside-blobs", e_data_outside, SEAL_ALL, "blob section" },
	{ "reloc-symbol-index", e_reloc_sym, SEAL_ALL, "out of range" },
	{ "reloc-offset", e_reloc_offset, SEAL_ALL, "outside" },
	{ "reloc-reserved", e_reloc_reserved, SEAL_ALL, "reserved" },
	{ "function-unit-index", e_func_unit, SEAL_ALL, "unit 1000 out of range" },
	{ "function-symbol-index", e_func_sym, SEAL_ALL, "own symbol" },
	{ "function-symbol-other", e_func_sym_other, SEAL_ALL, "own symbol" },
	{ "symbol-where", e_sym_where, SEAL_ALL, "'where'" },
	{ "symbol-index", e_sym_index, SEAL_ALL, "out of range" },
	{ "symbol-reserved", e_sym_reserved, SEAL_ALL, "reserved" },
	{ "function-kind", e_func_kind, SEAL_ALL, "kind 9" },
	{ "function-align", e_func_align, SEAL_ALL, "power of two" },
	{ "mask-outside", e_mask_outside, SEAL_ALL, "outside the old function" },
	{ "mask-empty", e_mask_empty, SEAL_ALL, "empty" },
	{ "finding-severity", e_finding_severity, SEAL_ALL, "severity" },
	{ "finding-overridden", e_finding_overridden, SEAL_ALL, "'overridden'" },
	{ "required-flags", e_flags, SEAL_ALL, "features" },
	{ "newer-format", e_newer, SEAL_ALL, "newer" },
	{ "other-arch", e_arch, SEAL_ALL, "architecture" },
	{ "id-edited", e_id, SEAL_KEEP_ID, "package id" },
	{ "trailing-data", e_trailing, SEAL_KEEP_FILE_SIZE, "trailing data" },
	{ "truncated", e_truncated, SEAL_KEEP_FILE_SIZE, "truncated" },
	/* extreme but possibly valid: any verdict, but no crash (text "-") */
	{ "extreme-addend-max", e_addend_max, SEAL_ALL, "-" },
	{ "extreme-addend-min", e_addend_min, SEAL_ALL, "-" },
	{ "extreme-reloc-type", e_reloc_type, SEAL_ALL, "-" },
	{ "extreme-line", e_line_max, SEAL_ALL, "-" },
	{ "extreme-align", e_align_huge, SEAL_ALL, "-" },
	{ "extreme-old-size", e_old_size_max, SEAL_ALL, "-" },
	{ "extreme-data-align", e_data_align_huge, SEAL_ALL, "-" },
	{ "extreme-finding-line", e_finding_line_max, SEAL_ALL, "-" },
};

static int hostile(const char *outdir)
{
	size_t made = 0;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct image im = { xmalloc(base_size), base_size };
		struct hp_err err = { { 0 } };
		char *path;

		memcpy(im.d, base, base_size);
		if (cases[i].edit(&im) < 0) {
			fprintf(stderr, "pkgcorrupt: %s: left out (the package has no record for it)\n",
				cases[i].name);
			free(im.d);
			continue;
		}
		seal(&im, cases[i].keep);
		path = xasprintf("%s/%s.hpk", outdir, cases[i].name);
		if (write_file_atomic(path, im.d, im.size, &err) < 0) {
			fprintf(stderr, "pkgcorrupt: %s\n", err.msg);
			exit(2);
		}
		printf("%s\t%s\n", cases[i].name, cases[i].text);
		made++;
		free(path);
		free(im.d);
	}
	return made ? 0 : 1;
}

static int seal_file(const char *in, const char *out)
{
	struct hp_err err = { { 0 } };
	struct image im;

	if (read_file(in, &im.d, &im.size, &err) < 0) {
		fprintf(stderr, "pkgcorrupt: %s\n", err.msg);
		return 2;
	}
	if (im.size >= HDR_SIZE_1_0)
		seal(&im, SEAL_ALL);
	if (write_file_atomic(out, im.d, im.size, &err) < 0) {
		fprintf(stderr, "pkgcorrupt: %s\n", err.msg);
		return 2;
	}
	free(im.d);
	return 0;
}

int main(int argc, char **argv)
{
	struct hp_err err = { { 0 } };
	int ret;

	if (argc == 4 && !strcmp(argv[1], "seal"))
		return seal_file(argv[2], argv[3]);
	if (!((argc == 3 && !strcmp(argv[1], "flips")) || (argc == 4 && !strcmp(argv[1], "hostile")))) {
		fprintf(stderr, "usage: pkgcorrupt flips PKG | hostile PKG OUTDIR | seal IN OUT\n");
		return 2;
	}
	if (read_file(argv[2], &base, &base_size, &err) < 0 ||
	    !(model = hpk_read_mem(argv[2], base, base_size, &err))) {
		fprintf(stderr, "pkgcorrupt: %s\n", err.msg);
		return 2;
	}
	ret = argc == 3 ? flips(argv[2]) : hostile(argv[3]);
	hpk_free(model);
	free(base);
	return ret;
}
