/*
 * hpk_read.c - read and check a hotpatch package (hpk.h, hotpatch(5)).
 *
 * Every byte is hostile until checked, in the order hotpatch(5) lists
 * under READER CHECKS: size, magic, version, architecture, header size,
 * file size, flags, whole-file checksum, digest and id; then the table of contents
 * (inside the file, no overlaps, known or optional types, whole records),
 * each section's checksum; then every record (strings inside the string
 * table, byte ranges inside the blob section, counts that add up, reserved
 * fields zero, masks sorted), and last the model checks shared with the
 * writer (hpk_check_model: enums, indices, back-pointers, relocation and
 * mask bounds).  The first failure ends the read with one line naming the
 * file and the check.
 *
 * Arithmetic on sizes and offsets is done in uint64_t on values that are
 * at most 2^32 apart from a checked bound, so it cannot wrap; nothing is
 * allocated from a count before the count is known to fit in the section
 * that holds its records.
 */
#include "hpk.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "hpk_format.h"

struct rsection {
	bool present;
	uint32_t toc_index;
	uint64_t offset, size;
};

struct reader {
	const char *name;
	const uint8_t *img;
	uint64_t size;
	struct hp_err *err;
	uint32_t header_size, nr_toc;
	struct rsection sec[SEC_MAX_KNOWN + 1];
	struct hpk *p;
};

static int bad(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct reader *r, const char *fmt, ...)
{
	char buf[800];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return hp_err_set(r->err, "%s: %s", r->name, buf);
}

static const uint8_t *sec_data(const struct reader *r, uint32_t type)
{
	return r->sec[type].present ? r->img + r->sec[type].offset : NULL;
}

static uint64_t sec_count(const struct reader *r, uint32_t type)
{
	return r->sec[type].size / hpk_record_size(type);
}

/* ---- header ---- */

static int check_version(struct reader *r, unsigned major)
{
	if (major > HPK_FORMAT_MAJOR)
		return bad(r, "package format %u.x is newer than this reader (%u.x); upgrade hpverify",
			   major, HPK_FORMAT_MAJOR);
	if (major < HPK_FORMAT_MAJOR)
		return bad(r, "package format %u.x is not supported by this reader (%u.x)",
			   major, HPK_FORMAT_MAJOR);
	return 0;
}

static int check_sums(struct reader *r, bool digest)
{
	uint8_t sum[32];

	hpk_file_hash(r->img, (size_t)r->size, 0, sum);
	if (memcmp(sum, r->img + HDR_CHECKSUM, 16))
		return bad(r, "checksum mismatch (file is corrupt or was modified)");
	/* the id names the content: a file whose id was edited (and the
	 * checksum redone) would pass for another package */
	if (digest) {
		hpk_file_digest(r->img, (size_t)r->size, sum);
		if (memcmp(sum, r->img + HDR_DIGEST, 32))
			return bad(r, "package digest does not match its content (file was modified)");
		if (memcmp(sum, r->img + HDR_ID, 16))
			return bad(r, "package id is not the first half of its digest (file was modified)");
		return 0;
	}
	hpk_file_hash(r->img, (size_t)r->size, 1, sum);
	if (memcmp(sum, r->img + HDR_ID, 16))
		return bad(r, "package id does not match its content (file was modified)");
	return 0;
}

static int check_header(struct reader *r)
{
	const uint8_t *h = r->img;
	uint64_t file_size;
	uint32_t flags;
	unsigned arch;

	if (r->size < HDR_SIZE_1_0)
		return bad(r, "too small to be a hotpatch package (%llu bytes; the header alone is %u)",
			   (unsigned long long)r->size, (unsigned)HDR_SIZE_1_0);
	if (memcmp(h + HDR_MAGIC, HPK_MAGIC, HPK_MAGIC_SIZE))
		return bad(r, "not a hotpatch package (wrong magic number)");
	if (check_version(r, (unsigned)get_le(h + HDR_MAJOR, 2)) < 0)
		return -1;
	arch = (unsigned)get_le(h + HDR_ARCH, 2);
	if (arch != HPK_EM_X86_64)
		return bad(r, "package is for architecture %u, not x86-64", arch);
	r->header_size = (uint32_t)get_le(h + HDR_HEADER_SIZE, 2);
	if (r->header_size < HDR_SIZE_1_0 || r->header_size % 8 || r->header_size > r->size)
		return bad(r, "header size %u is invalid (a multiple of 8, at least %u, inside the file)",
			   r->header_size, (unsigned)HDR_SIZE_1_0);
	file_size = get_le(h + HDR_FILE_SIZE, 8);
	if (file_size > r->size)
		return bad(r, "truncated: the header says %llu bytes, the file has %llu (file is incomplete)",
			   (unsigned long long)file_size, (unsigned long long)r->size);
	if (file_size < r->size)
		return bad(r, "the header says %llu bytes, the file has %llu (trailing data)",
			   (unsigned long long)file_size, (unsigned long long)r->size);
	flags = (uint32_t)get_le(h + HDR_FLAGS, 4);
	if (flags & HPK_FLAGS_REQUIRED & ~HPK_FLAGS_KNOWN)
		return bad(r, "package uses features this reader does not know (flags 0x%x); upgrade hpverify",
			   flags & HPK_FLAGS_REQUIRED & ~HPK_FLAGS_KNOWN);
	if ((flags & HPK_FLAG_DIGEST) && r->header_size < HDR_SIZE)
		return bad(r, "header size %u has no room for the digest its flags announce (at least %u)",
			   r->header_size, (unsigned)HDR_SIZE);
	if (check_sums(r, flags & HPK_FLAG_DIGEST) < 0)
		return -1;
	r->nr_toc = (uint32_t)get_le(h + HDR_NR_SECTIONS, 4);
	return 0;
}

/* ---- table of contents ---- */

struct toc_entry {
	uint32_t index, type, flags;
	uint64_t offset, size, checksum;
};

static const char *type_name(uint32_t type, char *buf, size_t n)
{
	const char *s = hpk_section_name(type);

	if (s)
		return s;
	snprintf(buf, n, "type %u", type);
	return buf;
}

static int check_entry(struct reader *r, const struct toc_entry *e, uint64_t toc_end)
{
	char tb[32];
	const char *tn = type_name(e->type, tb, sizeof(tb));
	size_t rec;

	if (e->offset > r->size || e->size > r->size - e->offset)
		return bad(r, "section %u (%s): bytes 0x%llx+0x%llx outside the file's 0x%llx bytes",
			   e->index, tn, (unsigned long long)e->offset, (unsigned long long)e->size,
			   (unsigned long long)r->size);
	if (e->offset < toc_end && e->size)
		return bad(r, "section %u (%s): starts at 0x%llx, inside the header or table of contents",
			   e->index, tn, (unsigned long long)e->offset);
	if (!hpk_section_name(e->type)) {
		if (!(e->flags & HPK_SEC_OPTIONAL))
			return bad(r, "section %u has type %u, which this reader does not know and which is not optional; upgrade hpverify",
				   e->index, e->type);
		return 0;   /* optional and unknown: skipped */
	}
	if (r->sec[e->type].present)
		return bad(r, "section %u (%s): a second %s section (the first is section %u)",
			   e->index, tn, tn, r->sec[e->type].toc_index);
	rec = hpk_record_size(e->type);
	if (e->size % rec)
		return bad(r, "section %u (%s): size %llu is not a multiple of its %zu-byte records",
			   e->index, tn, (unsigned long long)e->size, rec);
	/* indices and counts are u32: more records could not be referred to */
	if (e->size / rec > UINT32_MAX)
		return bad(r, "section %u (%s): more than 2^32 records", e->index, tn);
	r->sec[e->type] = (struct rsection){ true, e->index, e->offset, e->size };
	return 0;
}

static int cmp_offset(const void *a, const void *b)
{
	const struct toc_entry *x = a, *y = b;

	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

static int check_overlaps(struct reader *r, const struct toc_entry *entries, uint32_t n)
{
	struct toc_entry *v = xmalloc((n ? n : 1) * sizeof(*v));
	const struct toc_entry *reach = NULL;   /* the entry ending furthest so far */
	char ta[32], tb[32];
	int ret = 0;

	if (n)
		memcpy(v, entries, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_offset);
	for (uint32_t i = 0; i < n && !ret; i++) {
		if (!v[i].size)
			continue;   /* an empty section occupies no bytes */
		if (reach && v[i].offset < reach->offset + reach->size) {
			const struct toc_entry *a = reach->index < v[i].index ? reach : &v[i];
			const struct toc_entry *b = a == reach ? &v[i] : reach;

			ret = bad(r, "sections %u (%s) and %u (%s) overlap", a->index,
				  type_name(a->type, ta, sizeof(ta)), b->index, type_name(b->type, tb, sizeof(tb)));
		} else if (!reach || v[i].offset + v[i].size > reach->offset + reach->size) {
			reach = &v[i];
		}
	}
	free(v);
	return ret;
}

/* Run after the overlap check, so the bytes hashed add up to at most the
 * file's size however many entries there are. */
static int check_section_sums(struct reader *r, const struct toc_entry *v, uint32_t n)
{
	char tb[32];

	for (uint32_t i = 0; i < n; i++)
		if (XXH3_64bits(r->img + v[i].offset, (size_t)v[i].size) != v[i].checksum)
			return bad(r, "section %u (%s): checksum mismatch (file is corrupt or was modified)",
				   i, type_name(v[i].type, tb, sizeof(tb)));
	return 0;
}

static int check_toc(struct reader *r)
{
	uint64_t toc_end = r->header_size + (uint64_t)r->nr_toc * TOC_ENTRY_SIZE;
	struct toc_entry *v;
	int ret = 0;

	if (toc_end > r->size)
		return bad(r, "table of contents (%u entries) extends past the end of the file", r->nr_toc);
	v = xcalloc(r->nr_toc ? r->nr_toc : 1, sizeof(*v));
	for (uint32_t i = 0; i < r->nr_toc && !ret; i++) {
		const uint8_t *e = r->img + r->header_size + (size_t)i * TOC_ENTRY_SIZE;

		v[i] = (struct toc_entry){
			.index = i,
			.type = (uint32_t)get_le(e + TOC_TYPE, 4),
			.flags = (uint32_t)get_le(e + TOC_FLAGS, 4),
			.offset = get_le(e + TOC_OFFSET, 8),
			.size = get_le(e + TOC_SIZE, 8),
			.checksum = get_le(e + TOC_CHECKSUM, 8),
		};
		ret = check_entry(r, &v[i], toc_end);
	}
	if (!ret)
		ret = check_overlaps(r, v, r->nr_toc);
	if (!ret)
		ret = check_section_sums(r, v, r->nr_toc);
	free(v);
	return ret;
}

/* ---- records ---- */

/* A string reference: HPK_NO_STRING, or an offset inside the string table
 * (which ends with a NUL, so every such offset starts a terminated string). */
static int get_str(struct reader *r, const uint8_t *at, const char **out,
		   const char *what, uint32_t i, const char *field)
{
	uint32_t ref = (uint32_t)get_le(at, 4);

	if (ref == HPK_NO_STRING) {
		*out = NULL;
		return 0;
	}
	if (ref >= r->sec[SEC_STRINGS].size) {
		if (i == UINT32_MAX)
			return bad(r, "%s %s: string offset 0x%x outside the %llu-byte string table",
				   what, field, ref, (unsigned long long)r->sec[SEC_STRINGS].size);
		return bad(r, "%s %u %s: string offset 0x%x outside the %llu-byte string table",
			   what, i, field, ref, (unsigned long long)r->sec[SEC_STRINGS].size);
	}
	*out = (const char *)sec_data(r, SEC_STRINGS) + ref;
	return 0;
}

static int check_reserved(struct reader *r, const uint8_t *at, unsigned width,
			  const char *what, uint32_t i)
{
	uint64_t v = get_le(at, width);

	if (v)
		return bad(r, "%s %u: reserved field is 0x%llx, not 0", what, i, (unsigned long long)v);
	return 0;
}

static int check_strings(struct reader *r)
{
	const struct rsection *s = &r->sec[SEC_STRINGS];

	if (s->size && r->img[s->offset + s->size - 1] != '\0')
		return bad(r, "string table does not end with a NUL byte");
	/* Names, paths and messages never hold control characters; a package
	 * that does may be crafted to rewrite a reviewer's terminal. */
	for (uint64_t i = 0; i < s->size; i++) {
		uint8_t c = r->img[s->offset + i];
		if ((c && c < 0x20) || c == 0x7f)
			return bad(r, "string table holds control character 0x%02x at offset %llu", c,
				   (unsigned long long)i);
	}
	if (get_str(r, r->img + HDR_TOOL_VERSION, &r->p->tool_version, "header", UINT32_MAX, "tool version") < 0 ||
	    get_str(r, r->img + HDR_CREATED, &r->p->created, "header", UINT32_MAX, "creation time") < 0)
		return -1;
	return 0;
}

static int decode_units(struct reader *r)
{
	const uint8_t *rec = sec_data(r, SEC_UNITS);
	uint32_t n = (uint32_t)sec_count(r, SEC_UNITS);
	struct hpk *p = r->p;

	if (!n)
		return 0;
	p->units = xcalloc(n, sizeof(*p->units));
	p->nr_units = n;
	for (uint32_t i = 0; i < n; i++, rec += UNIT_SIZE) {
		struct hpk_unit *u = &p->units[i];

		if (get_str(r, rec + UNIT_NAME, &u->name, "unit", i, "name") < 0 ||
		    get_str(r, rec + UNIT_OLD_INPUT, &u->old_input, "unit", i, "old input") < 0 ||
		    get_str(r, rec + UNIT_NEW_INPUT, &u->new_input, "unit", i, "new input") < 0 ||
		    get_str(r, rec + UNIT_SOURCE, &u->source, "unit", i, "source") < 0 ||
		    get_str(r, rec + UNIT_OLD_PRODUCER, &u->old_producer, "unit", i, "old producer") < 0 ||
		    get_str(r, rec + UNIT_NEW_PRODUCER, &u->new_producer, "unit", i, "new producer") < 0)
			return -1;
	}
	return 0;
}

static int decode_symbols(struct reader *r)
{
	const uint8_t *rec = sec_data(r, SEC_SYMBOLS);
	uint32_t n = (uint32_t)sec_count(r, SEC_SYMBOLS);
	struct hpk *p = r->p;

	if (!n)
		return 0;
	p->syms = xcalloc(n, sizeof(*p->syms));
	p->nr_syms = n;
	for (uint32_t i = 0; i < n; i++, rec += SYM_SIZE) {
		struct hpk_symbol *s = &p->syms[i];

		if (get_str(r, rec + SYM_NAME, &s->name, "symbol", i, "name") < 0 ||
		    get_str(r, rec + SYM_FILE, &s->file, "symbol", i, "file") < 0 ||
		    check_reserved(r, rec + SYM_RESERVED, 1, "symbol", i) < 0)
			return -1;
		s->index = (uint32_t)get_le(rec + SYM_INDEX, 4);
		s->unit = (uint32_t)get_le(rec + SYM_UNIT, 4);
		s->bind = rec[SYM_BIND];
		s->type = rec[SYM_TYPE];
		s->where = rec[SYM_WHERE];
	}
	return 0;
}

/*
 * Relocations and masks are stored back to back in model order (functions,
 * then data objects), each owner giving only its count.  Walk the counts
 * before allocating anything: each must fit in what is left of its
 * section, and together they must use it exactly.
 */
static int check_counts(struct reader *r, uint32_t field_func, uint32_t field_data,
			uint32_t type, const char *things)
{
	const uint8_t *f = sec_data(r, SEC_FUNCTIONS), *d = sec_data(r, SEC_DATA);
	uint64_t nf = sec_count(r, SEC_FUNCTIONS), nd = sec_count(r, SEC_DATA);
	uint64_t total = sec_count(r, type), used = 0;

	if (field_data == UINT32_MAX)
		nd = 0;   /* only functions own these */
	for (uint64_t i = 0; i < nf + nd; i++) {
		bool is_func = i < nf;
		uint64_t c = is_func ? get_le(f + i * FUNC_SIZE + field_func, 4)
				     : get_le(d + (i - nf) * DATA_SIZE + field_data, 4);

		if (c > total - used)
			return bad(r, "%s %llu: %llu %s, but only %llu of the %s section's %llu are left",
				   is_func ? "function" : "data", (unsigned long long)(is_func ? i : i - nf),
				   (unsigned long long)c, things, (unsigned long long)(total - used),
				   hpk_section_name(type), (unsigned long long)total);
		used += c;
	}
	if (used != total)
		return bad(r, "the functions%s claim %llu %s in all, but the %s section holds %llu",
			   field_data == UINT32_MAX ? "" : " and data objects", (unsigned long long)used,
			   things, hpk_section_name(type), (unsigned long long)total);
	return 0;
}

static int decode_relocs(struct reader *r, const uint8_t **rec, uint32_t n,
			 struct hpk_reloc **out, const char *what, uint32_t i)
{
	struct hpk_reloc *v;

	if (!n)
		return 0;
	v = xcalloc(n, sizeof(*v));
	*out = v;
	for (uint32_t k = 0; k < n; k++, *rec += RELOC_SIZE) {
		uint32_t reserved = (uint32_t)get_le(*rec + RELOC_RESERVED, 4);

		if (reserved)
			return bad(r, "%s %u relocation %u: reserved field is 0x%x, not 0", what, i, k, reserved);
		v[k].addend = (int64_t)get_le(*rec + RELOC_ADDEND, 8);
		v[k].offset = (uint32_t)get_le(*rec + RELOC_OFFSET, 4);
		v[k].type = (uint32_t)get_le(*rec + RELOC_TYPE, 4);
		v[k].sym = (uint32_t)get_le(*rec + RELOC_SYM, 4);
	}
	return 0;
}

static int decode_masks(struct reader *r, const uint8_t **rec, struct hpk_func *f, uint32_t i)
{
	uint32_t n = f->nr_old_masks;

	if (!n)
		return 0;
	f->old_masks = xcalloc(n, sizeof(*f->old_masks));
	for (uint32_t k = 0; k < n; k++, *rec += MASK_SIZE) {
		struct hpk_range *m = &f->old_masks[k];

		m->start = (uint32_t)get_le(*rec + MASK_START, 4);
		m->len = (uint32_t)get_le(*rec + MASK_LEN, 4);
		if (!m->len)
			return bad(r, "function %u mask %u: empty", i, k);
		if (k && m->start < (uint64_t)m[-1].start + m[-1].len)
			return bad(r, "function %u mask %u: starts at 0x%x, before the end of mask %u (0x%llx); masks must be sorted and must not overlap",
				   i, k, m->start, k - 1, (unsigned long long)m[-1].start + m[-1].len);
	}
	return 0;
}

/* A byte range of the blob section; empty ranges point nowhere. */
static int get_blob(struct reader *r, uint32_t off, uint32_t size, const uint8_t **out,
		    const char *what, uint32_t i, const char *contents)
{
	uint64_t blob_size = r->sec[SEC_BLOBS].size;

	if ((uint64_t)off + size > blob_size)
		return bad(r, "%s %u: %s 0x%x+0x%x outside the 0x%llx-byte blob section",
			   what, i, contents, off, size, (unsigned long long)blob_size);
	*out = size ? sec_data(r, SEC_BLOBS) + off : NULL;
	return 0;
}

static int decode_functions(struct reader *r, const uint8_t **relocs, const uint8_t **masks)
{
	const uint8_t *rec = sec_data(r, SEC_FUNCTIONS);
	uint32_t n = (uint32_t)sec_count(r, SEC_FUNCTIONS);
	struct hpk *p = r->p;

	if (!n)
		return 0;
	p->funcs = xcalloc(n, sizeof(*p->funcs));
	p->nr_funcs = n;
	for (uint32_t i = 0; i < n; i++, rec += FUNC_SIZE) {
		struct hpk_func *f = &p->funcs[i];

		if (get_str(r, rec + FUNC_NAME, &f->name, "function", i, "name") < 0 ||
		    get_str(r, rec + FUNC_FILE, &f->file, "function", i, "file") < 0 ||
		    check_reserved(r, rec + FUNC_RESERVED, 2, "function", i) < 0)
			return -1;
		f->old_hash = get_le(rec + FUNC_OLD_HASH, 8);
		f->line = (uint32_t)get_le(rec + FUNC_LINE, 4);
		f->unit = (uint32_t)get_le(rec + FUNC_UNIT, 4);
		f->sym = (uint32_t)get_le(rec + FUNC_SYM, 4);
		f->align = (uint32_t)get_le(rec + FUNC_ALIGN, 4);
		f->code_size = (uint32_t)get_le(rec + FUNC_CODE_SIZE, 4);
		f->nr_relocs = (uint32_t)get_le(rec + FUNC_NR_RELOCS, 4);
		f->old_size = (uint32_t)get_le(rec + FUNC_OLD_SIZE, 4);
		f->nr_old_masks = (uint32_t)get_le(rec + FUNC_NR_MASKS, 4);
		f->kind = rec[FUNC_KIND];
		f->bind = rec[FUNC_BIND];
		if (get_blob(r, (uint32_t)get_le(rec + FUNC_CODE_OFFSET, 4), f->code_size, &f->code,
			     "function", i, "code") < 0 ||
		    decode_relocs(r, relocs, f->nr_relocs, &f->relocs, "function", i) < 0 ||
		    decode_masks(r, masks, f, i) < 0)
			return -1;
	}
	return 0;
}

static int decode_data(struct reader *r, const uint8_t **relocs)
{
	const uint8_t *rec = sec_data(r, SEC_DATA);
	uint32_t n = (uint32_t)sec_count(r, SEC_DATA);
	struct hpk *p = r->p;

	if (!n)
		return 0;
	p->data = xcalloc(n, sizeof(*p->data));
	p->nr_data = n;
	for (uint32_t i = 0; i < n; i++, rec += DATA_SIZE) {
		struct hpk_data *d = &p->data[i];
		uint32_t off = (uint32_t)get_le(rec + DATA_BYTES_OFFSET, 4);

		if (get_str(r, rec + DATA_NAME, &d->name, "data", i, "name") < 0 ||
		    get_str(r, rec + DATA_FILE, &d->file, "data", i, "file") < 0 ||
		    check_reserved(r, rec + DATA_RESERVED, 2, "data", i) < 0)
			return -1;
		d->line = (uint32_t)get_le(rec + DATA_LINE, 4);
		d->unit = (uint32_t)get_le(rec + DATA_UNIT, 4);
		d->sym = (uint32_t)get_le(rec + DATA_SYM, 4);
		d->align = (uint32_t)get_le(rec + DATA_ALIGN, 4);
		d->size = (uint32_t)get_le(rec + DATA_OBJ_SIZE, 4);
		d->nr_relocs = (uint32_t)get_le(rec + DATA_NR_RELOCS, 4);
		d->kind = rec[DATA_KIND];
		d->bind = rec[DATA_BIND];
		if (d->kind == HPK_DATA_BSS) {
			if (off)
				return bad(r, "data %u: a BSS object with stored bytes (offset 0x%x)", i, off);
		} else if (get_blob(r, off, d->size, &d->bytes, "data", i, "bytes") < 0) {
			return -1;
		}
		if (decode_relocs(r, relocs, d->nr_relocs, &d->relocs, "data", i) < 0)
			return -1;
	}
	return 0;
}

static int decode_findings(struct reader *r)
{
	const uint8_t *rec = sec_data(r, SEC_FINDINGS);
	uint32_t n = (uint32_t)sec_count(r, SEC_FINDINGS);
	struct hpk *p = r->p;

	if (!n)
		return 0;
	p->findings = xcalloc(n, sizeof(*p->findings));
	p->nr_findings = n;
	for (uint32_t i = 0; i < n; i++, rec += FIND_SIZE) {
		struct hpk_finding *f = &p->findings[i];

		if (get_str(r, rec + FIND_RULE, &f->rule, "finding", i, "rule") < 0 ||
		    get_str(r, rec + FIND_SYMBOL, &f->symbol, "finding", i, "symbol") < 0 ||
		    get_str(r, rec + FIND_FILE, &f->file, "finding", i, "file") < 0 ||
		    get_str(r, rec + FIND_MESSAGE, &f->message, "finding", i, "message") < 0 ||
		    check_reserved(r, rec + FIND_RESERVED, 2, "finding", i) < 0)
			return -1;
		if (rec[FIND_OVERRIDDEN] > 1)
			return bad(r, "finding %u: 'overridden' is %u, not 0 or 1", i, rec[FIND_OVERRIDDEN]);
		f->line = (uint32_t)get_le(rec + FIND_LINE, 4);
		f->severity = rec[FIND_SEVERITY];
		f->overridden = rec[FIND_OVERRIDDEN];
	}
	return 0;
}

/* Format 1.2: the base module (one record) and the statics' fingerprints
 * with their masks, which must add up like the functions' masks do. */
static int decode_base(struct reader *r)
{
	const uint8_t *rec = sec_data(r, SEC_BASE);
	uint64_t n = sec_count(r, SEC_BASE);

	if (!n)
		return 0;
	if (n > 1)
		return bad(r, "base section holds %llu records, not one", (unsigned long long)n);
	if (get_str(r, rec + BASEREC_NAME, &r->p->base_name, "base", 0, "name") < 0 ||
	    get_str(r, rec + BASEREC_BUILD_ID, &r->p->base_build_id, "base", 0, "build-id") < 0)
		return -1;
	return 0;
}

static int decode_aliases(struct reader *r)
{
	const uint8_t *rec = sec_data(r, SEC_ALIASES);
	uint64_t n = sec_count(r, SEC_ALIASES);
	struct hpk *p = r->p;

	if (!n)
		return 0;
	p->aliases = xcalloc(n, sizeof(*p->aliases));
	p->nr_aliases = (uint32_t)n;
	for (uint32_t i = 0; i < n; i++, rec += ALIAS_SIZE) {
		p->aliases[i].func = (uint32_t)get_le(rec + ALIAS_FUNC, 4);
		if (get_str(r, rec + ALIAS_NAME, &p->aliases[i].name, "alias", i, "name") < 0)
			return -1;
	}
	return 0;
}

static int decode_statics(struct reader *r)
{
	const uint8_t *rec = sec_data(r, SEC_STATICS), *masks = sec_data(r, SEC_STATIC_MASKS);
	uint64_t n = sec_count(r, SEC_STATICS), total = sec_count(r, SEC_STATIC_MASKS), used = 0;
	struct hpk *p = r->p;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t c = get_le(rec + i * STATIC_SIZE + STATIC_NR_MASKS, 4);

		if (c > total - used)
			return bad(r, "static %llu: %llu masks, but only %llu of the static_masks section's %llu are left",
				   (unsigned long long)i, (unsigned long long)c, (unsigned long long)(total - used),
				   (unsigned long long)total);
		used += c;
	}
	if (used != total)
		return bad(r, "the statics claim %llu masks in all, but the static_masks section holds %llu",
			   (unsigned long long)used, (unsigned long long)total);
	if (!n)
		return 0;
	p->statics = xcalloc(n, sizeof(*p->statics));
	p->nr_statics = (uint32_t)n;
	for (uint32_t i = 0; i < n; i++, rec += STATIC_SIZE) {
		struct hpk_static *st = &p->statics[i];

		if (check_reserved(r, rec + STATIC_RESERVED, 7, "static", i) < 0)
			return -1;
		st->hash = get_le(rec + STATIC_HASH, 8);
		st->sym = (uint32_t)get_le(rec + STATIC_SYM, 4);
		st->size = (uint32_t)get_le(rec + STATIC_SIZE_FIELD, 4);
		st->align = (uint32_t)get_le(rec + STATIC_ALIGN, 4);
		st->nr_masks = (uint32_t)get_le(rec + STATIC_NR_MASKS, 4);
		st->kind = rec[STATIC_KIND];
		if (st->nr_masks)
			st->masks = xcalloc(st->nr_masks, sizeof(*st->masks));
		for (uint32_t k = 0; k < st->nr_masks; k++, masks += MASK_SIZE) {
			st->masks[k].start = (uint32_t)get_le(masks + MASK_START, 4);
			st->masks[k].len = (uint32_t)get_le(masks + MASK_LEN, 4);
		}
	}
	return 0;
}

static int decode(struct reader *r)
{
	const uint8_t *relocs = sec_data(r, SEC_RELOCS), *masks = sec_data(r, SEC_MASKS);
	char why[512];

	if (check_strings(r) < 0 || decode_units(r) < 0 || decode_symbols(r) < 0 ||
	    check_counts(r, FUNC_NR_RELOCS, DATA_NR_RELOCS, SEC_RELOCS, "relocations") < 0 ||
	    check_counts(r, FUNC_NR_MASKS, UINT32_MAX, SEC_MASKS, "masks") < 0 ||
	    decode_functions(r, &relocs, &masks) < 0 || decode_data(r, &relocs) < 0 ||
	    decode_findings(r) < 0 || decode_base(r) < 0 || decode_statics(r) < 0 ||
	    decode_aliases(r) < 0)
		return -1;
	if (hpk_check_model(r->p, why, sizeof(why)) < 0)
		return bad(r, "%s", why);
	return 0;
}

/* Takes ownership of img (size bytes, freed on failure). */
static struct hpk *parse(const char *name, uint8_t *img, size_t size, struct hp_err *err)
{
	struct reader r = { .name = name, .img = img, .size = size, .err = err };
	struct hpk *p = xcalloc(1, sizeof(*p));

	p->image = img;
	p->image_size = size;
	r.p = p;
	if (check_header(&r) < 0 || check_toc(&r) < 0 || decode(&r) < 0) {
		hpk_free(p);
		return NULL;
	}
	p->major = (uint16_t)get_le(img + HDR_MAJOR, 2);
	p->minor = (uint16_t)get_le(img + HDR_MINOR, 2);
	p->arch = (uint16_t)get_le(img + HDR_ARCH, 2);
	memcpy(p->id, img + HDR_ID, 16);
	if (get_le(img + HDR_FLAGS, 4) & HPK_FLAG_DIGEST) {
		memcpy(p->digest, img + HDR_DIGEST, 32);
		p->has_digest = true;
	}
	return p;
}

struct hpk *hpk_read_mem(const char *name, const uint8_t *data, size_t size, struct hp_err *err)
{
	uint8_t *img = xmalloc(size ? size : 1);

	if (size)
		memcpy(img, data, size);
	return parse(name, img, size, err);
}

struct hpk *hpk_read_file(const char *path, struct hp_err *err)
{
	uint8_t *img;
	size_t size;

	if (read_file(path, &img, &size, err) < 0)
		return NULL;
	return parse(path, img, size, err);
}
