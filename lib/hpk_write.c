/*
 * hpk_write.c - serialize a struct hpk (hpk.h) into the package format of
 * hotpatch(5).
 *
 * Deterministic by construction: the output depends only on the model's
 * contents, never on pointer values, hash-table order, time or locale.
 * Strings are interned in one fixed walk of the model (first use wins the
 * offset), blobs are laid out in model order, sections are written in type
 * order and empty ones are left out.  The id is computed from the bytes
 * with the id and checksum fields zeroed, then the checksum with the id in
 * place.
 *
 * Before writing anything the model goes through hpk_check_model(), the
 * same checks the reader applies, so a bug in the builder shows up as a
 * clear error at build time rather than as a package hpverify refuses.
 */
#include "hpk.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "hpk_format.h"

struct wsection {
	uint32_t type;
	uint64_t offset, size;
};

struct writer {
	const struct hpk *p;
	const char *name;
	struct hp_err *err;
	/* string table: text -> offset + 1 */
	struct hmap strmap;
	struct strbuf strtab;
	bool too_big;
	/* per function: masks sorted and merged, code placement */
	struct hpk_range **masks;
	uint32_t *nr_masks;
	uint32_t *code_off;
	uint32_t *bytes_off;
	uint64_t blob_size;
	uint64_t total_relocs, total_masks, total_static_masks;
	/* the sections that will be written, in type order */
	struct wsection secs[SEC_MAX_KNOWN];
	uint32_t nr_secs;
	uint8_t *out;
	uint64_t size;
};

/* ---- strings ---- */

static uint32_t intern(struct writer *w, const char *s)
{
	uintptr_t v;
	size_t len, off;

	if (!s)
		return HPK_NO_STRING;
	v = (uintptr_t)hmap_get(&w->strmap, s);
	if (v)
		return (uint32_t)(v - 1);
	len = strlen(s) + 1;
	off = w->strtab.len;
	/* offsets are u32 and HPK_NO_STRING must never be one */
	if (off + len >= HPK_NO_STRING) {
		w->too_big = true;
		return HPK_NO_STRING;
	}
	sb_add(&w->strtab, s, len);
	hmap_put(&w->strmap, s, (void *)(uintptr_t)(off + 1));
	return (uint32_t)off;
}

/* The one walk that fixes every string's offset; emitting looks them up
 * again (intern is idempotent), so both passes agree by construction. */
static void intern_all(struct writer *w)
{
	const struct hpk *p = w->p;

	intern(w, p->tool_version);
	intern(w, p->created);
	for (uint32_t i = 0; i < p->nr_units; i++) {
		const struct hpk_unit *u = &p->units[i];

		intern(w, u->name);
		intern(w, u->old_input);
		intern(w, u->new_input);
		intern(w, u->source);
		intern(w, u->old_producer);
		intern(w, u->new_producer);
	}
	for (uint32_t i = 0; i < p->nr_syms; i++) {
		intern(w, p->syms[i].name);
		intern(w, p->syms[i].file);
	}
	for (uint32_t i = 0; i < p->nr_funcs; i++) {
		intern(w, p->funcs[i].name);
		intern(w, p->funcs[i].file);
	}
	for (uint32_t i = 0; i < p->nr_data; i++) {
		intern(w, p->data[i].name);
		intern(w, p->data[i].file);
	}
	for (uint32_t i = 0; i < p->nr_findings; i++) {
		const struct hpk_finding *f = &p->findings[i];

		intern(w, f->rule);
		intern(w, f->symbol);
		intern(w, f->file);
		intern(w, f->message);
	}
	intern(w, p->base_name);
	intern(w, p->base_build_id);
	for (uint32_t i = 0; i < p->nr_aliases; i++)
		intern(w, p->aliases[i].name);
}

/* Format 1.2 only when the package uses what 1.2 added: a package without
 * a base stays the 1.1 package it always was, to the byte. */
static bool uses_1_2(const struct hpk *p)
{
	return p->base_name || p->base_build_id || p->nr_statics || p->nr_aliases;
}

static uint16_t written_minor(const struct hpk *p)
{
	return uses_1_2(p) ? HPK_FORMAT_MINOR_BASE : HPK_FORMAT_MINOR;
}

/* 1.2's sections are optional: a 1.1 reader skips them. */
static uint32_t section_flags(uint32_t type)
{
	return type >= SEC_BASE ? HPK_SEC_OPTIONAL : 0;
}

/* ---- layout ---- */

static uint32_t code_align(uint32_t align)
{
	return align < HPK_CODE_ALIGN_MAX ? align : HPK_CODE_ALIGN_MAX;
}

static uint32_t data_align(uint32_t align)
{
	return align < HPK_DATA_ALIGN_MAX ? align : HPK_DATA_ALIGN_MAX;
}

/* Place one blob; an empty one takes no room and sits at offset 0. */
static uint32_t place_blob(struct writer *w, uint32_t size, uint32_t align)
{
	uint64_t off;

	if (!size)
		return 0;
	off = align_up(w->blob_size, align);
	w->blob_size = off + size;
	if (w->blob_size > UINT32_MAX)
		w->too_big = true;
	return (uint32_t)off;
}

static void layout_blobs(struct writer *w)
{
	const struct hpk *p = w->p;

	w->masks = xcalloc(p->nr_funcs ? p->nr_funcs : 1, sizeof(*w->masks));
	w->nr_masks = xcalloc(p->nr_funcs ? p->nr_funcs : 1, sizeof(*w->nr_masks));
	w->code_off = xcalloc(p->nr_funcs ? p->nr_funcs : 1, sizeof(*w->code_off));
	w->bytes_off = xcalloc(p->nr_data ? p->nr_data : 1, sizeof(*w->bytes_off));
	for (uint32_t i = 0; i < p->nr_funcs; i++) {
		const struct hpk_func *f = &p->funcs[i];

		w->code_off[i] = place_blob(w, f->code_size, code_align(f->align));
		w->total_relocs += f->nr_relocs;
		if (f->nr_old_masks) {
			w->masks[i] = xmalloc((size_t)f->nr_old_masks * sizeof(struct hpk_range));
			w->nr_masks[i] = hpk_normalize_masks(f->old_masks, f->nr_old_masks, w->masks[i]);
			w->total_masks += w->nr_masks[i];
		}
	}
	for (uint32_t i = 0; i < p->nr_data; i++) {
		const struct hpk_data *d = &p->data[i];

		if (d->kind != HPK_DATA_BSS)
			w->bytes_off[i] = place_blob(w, d->size, data_align(d->align));
		w->total_relocs += d->nr_relocs;
	}
	for (uint32_t i = 0; i < p->nr_statics; i++)
		w->total_static_masks += p->statics[i].nr_masks;
}

static void add_section(struct writer *w, uint32_t type, uint64_t size)
{
	if (size)
		w->secs[w->nr_secs++] = (struct wsection){ .type = type, .size = size };
}

static void layout_sections(struct writer *w)
{
	const struct hpk *p = w->p;
	uint64_t cur;

	add_section(w, SEC_STRINGS, w->strtab.len);
	add_section(w, SEC_UNITS, (uint64_t)p->nr_units * UNIT_SIZE);
	add_section(w, SEC_SYMBOLS, (uint64_t)p->nr_syms * SYM_SIZE);
	add_section(w, SEC_FUNCTIONS, (uint64_t)p->nr_funcs * FUNC_SIZE);
	add_section(w, SEC_DATA, (uint64_t)p->nr_data * DATA_SIZE);
	add_section(w, SEC_RELOCS, w->total_relocs * RELOC_SIZE);
	add_section(w, SEC_MASKS, w->total_masks * MASK_SIZE);
	add_section(w, SEC_FINDINGS, (uint64_t)p->nr_findings * FIND_SIZE);
	add_section(w, SEC_BLOBS, w->blob_size);
	add_section(w, SEC_BASE, p->base_name ? BASEREC_SIZE : 0);
	add_section(w, SEC_STATICS, (uint64_t)p->nr_statics * STATIC_SIZE);
	add_section(w, SEC_STATIC_MASKS, w->total_static_masks * MASK_SIZE);
	add_section(w, SEC_ALIASES, (uint64_t)p->nr_aliases * ALIAS_SIZE);
	cur = HDR_SIZE + (uint64_t)w->nr_secs * TOC_ENTRY_SIZE;
	for (uint32_t i = 0; i < w->nr_secs; i++) {
		cur = align_up(cur, w->secs[i].type == SEC_BLOBS ? HPK_BLOBS_ALIGN : HPK_SECTION_ALIGN);
		w->secs[i].offset = cur;
		cur += w->secs[i].size;
	}
	w->size = cur;
}

static uint8_t *section_start(struct writer *w, uint32_t type)
{
	for (uint32_t i = 0; i < w->nr_secs; i++)
		if (w->secs[i].type == type)
			return w->out + w->secs[i].offset;
	return NULL;
}

/* ---- records ---- */

static void put_str(struct writer *w, uint8_t *at, const char *s)
{
	put_le(at, intern(w, s), 4);
}

static void emit_units(struct writer *w, uint8_t *rec)
{
	for (uint32_t i = 0; i < w->p->nr_units; i++, rec += UNIT_SIZE) {
		const struct hpk_unit *u = &w->p->units[i];

		put_str(w, rec + UNIT_NAME, u->name);
		put_str(w, rec + UNIT_OLD_INPUT, u->old_input);
		put_str(w, rec + UNIT_NEW_INPUT, u->new_input);
		put_str(w, rec + UNIT_SOURCE, u->source);
		put_str(w, rec + UNIT_OLD_PRODUCER, u->old_producer);
		put_str(w, rec + UNIT_NEW_PRODUCER, u->new_producer);
	}
}

static void emit_symbols(struct writer *w, uint8_t *rec)
{
	for (uint32_t i = 0; i < w->p->nr_syms; i++, rec += SYM_SIZE) {
		const struct hpk_symbol *s = &w->p->syms[i];

		put_str(w, rec + SYM_NAME, s->name);
		put_str(w, rec + SYM_FILE, s->file);
		put_le(rec + SYM_INDEX, s->index, 4);
		put_le(rec + SYM_UNIT, s->unit, 4);
		rec[SYM_BIND] = s->bind;
		rec[SYM_TYPE] = s->type;
		rec[SYM_WHERE] = s->where;
	}
}

static uint8_t *emit_relocs(uint8_t *rec, const struct hpk_reloc *r, uint32_t n)
{
	for (uint32_t k = 0; k < n; k++, rec += RELOC_SIZE) {
		put_le(rec + RELOC_ADDEND, (uint64_t)r[k].addend, 8);
		put_le(rec + RELOC_OFFSET, r[k].offset, 4);
		put_le(rec + RELOC_TYPE, r[k].type, 4);
		put_le(rec + RELOC_SYM, r[k].sym, 4);
	}
	return rec;
}

static void emit_functions(struct writer *w, uint8_t *rec, uint8_t **relocs, uint8_t **masks,
			   uint8_t *blobs)
{
	for (uint32_t i = 0; i < w->p->nr_funcs; i++, rec += FUNC_SIZE) {
		const struct hpk_func *f = &w->p->funcs[i];

		put_le(rec + FUNC_OLD_HASH, f->old_hash, 8);
		put_str(w, rec + FUNC_NAME, f->name);
		put_str(w, rec + FUNC_FILE, f->file);
		put_le(rec + FUNC_LINE, f->line, 4);
		put_le(rec + FUNC_UNIT, f->unit, 4);
		put_le(rec + FUNC_SYM, f->sym, 4);
		put_le(rec + FUNC_ALIGN, f->align, 4);
		put_le(rec + FUNC_CODE_OFFSET, w->code_off[i], 4);
		put_le(rec + FUNC_CODE_SIZE, f->code_size, 4);
		put_le(rec + FUNC_NR_RELOCS, f->nr_relocs, 4);
		put_le(rec + FUNC_OLD_SIZE, f->old_size, 4);
		put_le(rec + FUNC_NR_MASKS, w->nr_masks[i], 4);
		rec[FUNC_KIND] = f->kind;
		rec[FUNC_BIND] = f->bind;
		if (f->code_size)
			memcpy(blobs + w->code_off[i], f->code, f->code_size);
		*relocs = emit_relocs(*relocs, f->relocs, f->nr_relocs);
		for (uint32_t k = 0; k < w->nr_masks[i]; k++, *masks += MASK_SIZE) {
			put_le(*masks + MASK_START, w->masks[i][k].start, 4);
			put_le(*masks + MASK_LEN, w->masks[i][k].len, 4);
		}
	}
}

static void emit_data(struct writer *w, uint8_t *rec, uint8_t **relocs, uint8_t *blobs)
{
	for (uint32_t i = 0; i < w->p->nr_data; i++, rec += DATA_SIZE) {
		const struct hpk_data *d = &w->p->data[i];

		put_str(w, rec + DATA_NAME, d->name);
		put_str(w, rec + DATA_FILE, d->file);
		put_le(rec + DATA_LINE, d->line, 4);
		put_le(rec + DATA_UNIT, d->unit, 4);
		put_le(rec + DATA_SYM, d->sym, 4);
		put_le(rec + DATA_ALIGN, d->align, 4);
		put_le(rec + DATA_OBJ_SIZE, d->size, 4);
		put_le(rec + DATA_BYTES_OFFSET, w->bytes_off[i], 4);
		put_le(rec + DATA_NR_RELOCS, d->nr_relocs, 4);
		rec[DATA_KIND] = d->kind;
		rec[DATA_BIND] = d->bind;
		if (d->kind != HPK_DATA_BSS && d->size)
			memcpy(blobs + w->bytes_off[i], d->bytes, d->size);
		*relocs = emit_relocs(*relocs, d->relocs, d->nr_relocs);
	}
}

static void emit_findings(struct writer *w, uint8_t *rec)
{
	for (uint32_t i = 0; i < w->p->nr_findings; i++, rec += FIND_SIZE) {
		const struct hpk_finding *f = &w->p->findings[i];

		put_str(w, rec + FIND_RULE, f->rule);
		put_str(w, rec + FIND_SYMBOL, f->symbol);
		put_str(w, rec + FIND_FILE, f->file);
		put_le(rec + FIND_LINE, f->line, 4);
		put_str(w, rec + FIND_MESSAGE, f->message);
		rec[FIND_SEVERITY] = f->severity;
		rec[FIND_OVERRIDDEN] = f->overridden ? 1 : 0;
	}
}

static void emit_base(struct writer *w, uint8_t *rec)
{
	put_str(w, rec + BASEREC_NAME, w->p->base_name);
	put_str(w, rec + BASEREC_BUILD_ID, w->p->base_build_id);
}

static void emit_aliases(struct writer *w, uint8_t *rec)
{
	for (uint32_t i = 0; i < w->p->nr_aliases; i++, rec += ALIAS_SIZE) {
		put_le(rec + ALIAS_FUNC, w->p->aliases[i].func, 4);
		put_str(w, rec + ALIAS_NAME, w->p->aliases[i].name);
	}
}

static void emit_statics(struct writer *w, uint8_t *rec, uint8_t *masks)
{
	for (uint32_t i = 0; i < w->p->nr_statics; i++, rec += STATIC_SIZE) {
		const struct hpk_static *st = &w->p->statics[i];

		put_le(rec + STATIC_HASH, st->hash, 8);
		put_le(rec + STATIC_SYM, st->sym, 4);
		put_le(rec + STATIC_SIZE_FIELD, st->size, 4);
		put_le(rec + STATIC_ALIGN, st->align, 4);
		put_le(rec + STATIC_NR_MASKS, st->nr_masks, 4);
		rec[STATIC_KIND] = st->kind;
		for (uint32_t k = 0; k < st->nr_masks; k++, masks += MASK_SIZE) {
			put_le(masks + MASK_START, st->masks[k].start, 4);
			put_le(masks + MASK_LEN, st->masks[k].len, 4);
		}
	}
}

static void emit_header_and_toc(struct writer *w)
{
	uint8_t *h = w->out;

	memcpy(h + HDR_MAGIC, HPK_MAGIC, HPK_MAGIC_SIZE);
	put_le(h + HDR_MAJOR, HPK_FORMAT_MAJOR, 2);
	put_le(h + HDR_MINOR, written_minor(w->p), 2);
	put_le(h + HDR_ARCH, HPK_EM_X86_64, 2);
	put_le(h + HDR_HEADER_SIZE, HDR_SIZE, 2);
	put_le(h + HDR_FLAGS, HPK_FLAG_DIGEST, 4);
	put_le(h + HDR_NR_SECTIONS, w->nr_secs, 4);
	put_le(h + HDR_FILE_SIZE, w->size, 8);
	put_str(w, h + HDR_TOOL_VERSION, w->p->tool_version);
	put_str(w, h + HDR_CREATED, w->p->created);
	for (uint32_t i = 0; i < w->nr_secs; i++) {
		uint8_t *e = h + HDR_SIZE + (size_t)i * TOC_ENTRY_SIZE;

		put_le(e + TOC_TYPE, w->secs[i].type, 4);
		put_le(e + TOC_FLAGS, section_flags(w->secs[i].type), 4);
		put_le(e + TOC_OFFSET, w->secs[i].offset, 8);
		put_le(e + TOC_SIZE, w->secs[i].size, 8);
	}
}

/* Section checksums, then the digest and the id (with id, checksum and
 * digest zeroed), then the file checksum with them in place: hotpatch(5),
 * CHECKSUMS. */
static void seal(struct writer *w, struct hpk *p)
{
	for (uint32_t i = 0; i < w->nr_secs; i++) {
		uint8_t *e = w->out + HDR_SIZE + (size_t)i * TOC_ENTRY_SIZE;

		put_le(e + TOC_CHECKSUM, XXH3_64bits(w->out + w->secs[i].offset, w->secs[i].size), 8);
	}
	hpk_seal_id(w->out, w->size);
	hpk_file_hash(w->out, w->size, 0, w->out + HDR_CHECKSUM);
	memcpy(p->id, w->out + HDR_ID, 16);
	memcpy(p->digest, w->out + HDR_DIGEST, 32);
	p->has_digest = true;
}

static void emit(struct writer *w)
{
	uint8_t *relocs, *masks, *blobs, *strings;

	w->out = xcalloc(1, (size_t)w->size);
	emit_header_and_toc(w);
	relocs = section_start(w, SEC_RELOCS);
	masks = section_start(w, SEC_MASKS);
	blobs = section_start(w, SEC_BLOBS);
	strings = section_start(w, SEC_STRINGS);
	if (strings)
		memcpy(strings, w->strtab.buf, w->strtab.len);
	if (w->p->nr_units)
		emit_units(w, section_start(w, SEC_UNITS));
	if (w->p->nr_syms)
		emit_symbols(w, section_start(w, SEC_SYMBOLS));
	if (w->p->nr_funcs)
		emit_functions(w, section_start(w, SEC_FUNCTIONS), &relocs, &masks, blobs);
	if (w->p->nr_data)
		emit_data(w, section_start(w, SEC_DATA), &relocs, blobs);
	if (w->p->nr_findings)
		emit_findings(w, section_start(w, SEC_FINDINGS));
	if (w->p->base_name)
		emit_base(w, section_start(w, SEC_BASE));
	if (w->p->nr_statics)
		emit_statics(w, section_start(w, SEC_STATICS), section_start(w, SEC_STATIC_MASKS));
	if (w->p->nr_aliases)
		emit_aliases(w, section_start(w, SEC_ALIASES));
}

static void writer_done(struct writer *w)
{
	for (uint32_t i = 0; w->masks && i < w->p->nr_funcs; i++)
		free(w->masks[i]);
	free(w->masks);
	free(w->nr_masks);
	free(w->code_off);
	free(w->bytes_off);
	hmap_free(&w->strmap);
	sb_free(&w->strtab);
}

static int serialize(struct hpk *p, const char *name, uint8_t **out, size_t *out_size,
		     struct hp_err *err)
{
	struct writer w = { .p = p, .name = name, .err = err };
	char why[512];

	if (p->arch && p->arch != HPK_EM_X86_64)
		return hp_err_set(err, "%s: cannot write a package for architecture %u (only x86-64)",
				  name, p->arch);
	if (hpk_check_model(p, why, sizeof(why)) < 0)
		return hp_err_set(err, "%s: cannot write an invalid package: %s (a bug in the package builder)",
				  name, why);
	hmap_init(&w.strmap);
	sb_init(&w.strtab);
	intern_all(&w);
	layout_blobs(&w);
	layout_sections(&w);
	if (w.too_big || w.size > SIZE_MAX / 2) {
		writer_done(&w);
		return hp_err_set(err, "%s: package too large (strings and blobs are limited to 4 GiB each)",
				  name);
	}
	emit(&w);
	seal(&w, p);
	/* p now describes exactly what was written, as the reader would */
	p->major = HPK_FORMAT_MAJOR;
	p->minor = written_minor(p);
	p->arch = HPK_EM_X86_64;
	*out = w.out;
	*out_size = (size_t)w.size;
	writer_done(&w);
	return 0;
}

int hpk_write_mem(struct hpk *p, uint8_t **out, size_t *out_size, struct hp_err *err)
{
	return serialize(p, "package", out, out_size, err);
}

int hpk_write_file(struct hpk *p, const char *path, struct hp_err *err)
{
	uint8_t *buf;
	size_t size;
	int ret;

	if (serialize(p, path, &buf, &size, err) < 0)
		return -1;
	ret = write_file_atomic(path, buf, size, err);
	free(buf);
	return ret;
}
