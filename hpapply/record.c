/*
 * record.c - the in-process record of applied packages (record.h):
 * encoding, decoding with every length checked, and finding it in a
 * process.  The decoder treats the bytes as hostile: the program could
 * have scribbled on them (through mprotect) and a wrong record would make
 * hpapply write to wrong addresses.
 */
#include "record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#define RECORD_MAGIC "HPAPREC1"
#define RECORD_VERSION 2
#define HEADER_SIZE 48
#define CHECKSUM_AT 40

/* XXH3-64 of the used bytes, the checksum field itself read as zeros. */
static uint64_t record_checksum(const uint8_t *buf, size_t used)
{
	static const uint8_t zeros[8];
	XXH3_state_t st;

	XXH3_64bits_reset(&st);
	XXH3_64bits_update(&st, buf, CHECKSUM_AT);
	XXH3_64bits_update(&st, zeros, 8);
	XXH3_64bits_update(&st, buf + HEADER_SIZE, used - HEADER_SIZE);
	return XXH3_64bits_digest(&st);
}

/* ---- encoding ---- */

static void put_u(struct strbuf *sb, uint64_t v, unsigned width)
{
	uint8_t b[8];

	put_le(b, v, width);
	sb_add(sb, b, width);
}

static void put_str(struct strbuf *sb, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n > 0xffff)
		n = 0xffff;
	put_u(sb, n, 2);
	sb_add(sb, s ? s : "", n);
}

static void encode_pkg(struct strbuf *sb, const struct rec_pkg *p)
{
	size_t start = sb->len;

	put_u(sb, 0, 4);   /* entry size, patched below */
	put_u(sb, p->nr_funcs, 4);
	sb_add(sb, p->id, 16);
	put_u(sb, p->state, 4);
	put_u(sb, p->pid, 4);
	sb_add(sb, p->replaces, 16);
	put_u(sb, p->seq, 8);
	put_u(sb, p->module_bias, 8);
	put_u(sb, p->region, 8);
	put_u(sb, p->region_size, 8);
	put_u(sb, p->code_size, 8);
	put_str(sb, p->module);
	put_str(sb, p->tool);
	for (uint32_t i = 0; i < p->nr_funcs; i++) {
		const struct rec_func *f = &p->funcs[i];

		put_u(sb, f->addr, 8);
		put_u(sb, f->target, 8);
		put_u(sb, f->size, 4);
		sb_add(sb, f->orig, JUMP_SIZE);
		sb_add(sb, "\0\0\0", 3);
		put_str(sb, f->name);
		put_str(sb, f->file);
	}
	put_str(sb, p->signer);
	put_le((uint8_t *)sb->buf + start, sb->len - start, 4);
}

void record_encode(const struct record *r, uint8_t **buf, size_t *len)
{
	struct strbuf sb;

	sb_init(&sb);
	sb_add(&sb, RECORD_MAGIC, 8);
	put_u(&sb, RECORD_VERSION, 4);
	put_u(&sb, 0, 4);            /* used */
	put_u(&sb, r->nr_pkgs, 4);
	put_u(&sb, r->nr_retained, 4);
	put_u(&sb, r->next_seq, 8);
	put_u(&sb, r->generation, 8);
	put_u(&sb, 0, 8);            /* checksum */
	for (size_t i = 0; i < r->nr_pkgs; i++)
		encode_pkg(&sb, &r->pkgs[i]);
	for (size_t i = 0; i < r->nr_retained; i++) {
		put_u(&sb, r->retained[i].addr, 8);
		put_u(&sb, r->retained[i].size, 8);
		sb_add(&sb, r->retained[i].id, 16);
	}
	put_le((uint8_t *)sb.buf + 12, sb.len, 4);
	put_le((uint8_t *)sb.buf + CHECKSUM_AT, record_checksum((const uint8_t *)sb.buf, sb.len), 8);
	*len = sb.len;
	*buf = (uint8_t *)sb_detach(&sb);
}

/* ---- decoding ---- */

struct cursor {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static uint64_t get_u(struct cursor *c, unsigned width)
{
	uint64_t v;

	if (c->bad || c->left < width) {
		c->bad = true;
		return 0;
	}
	v = get_le(c->p, width);
	c->p += width;
	c->left -= width;
	return v;
}

static void get_bytes(struct cursor *c, void *out, size_t n)
{
	if (c->bad || c->left < n) {
		c->bad = true;
		memset(out, 0, n);
		return;
	}
	memcpy(out, c->p, n);
	c->p += n;
	c->left -= n;
}

static char *get_str(struct cursor *c)
{
	size_t n = (size_t)get_u(c, 2);
	char *s;

	if (c->bad || c->left < n) {
		c->bad = true;
		return xstrdup("");
	}
	s = xstrndup((const char *)c->p, n);
	c->p += n;
	c->left -= n;
	return s;
}

static bool decode_pkg(struct cursor *c, struct rec_pkg *p)
{
	uint32_t size = (uint32_t)get_u(c, 4);
	struct cursor e;

	if (c->bad || size < 8 || size - 4 > c->left)
		return false;
	e = (struct cursor){ c->p, size - 4, false };
	c->p += size - 4;
	c->left -= size - 4;
	p->nr_funcs = (uint32_t)get_u(&e, 4);
	get_bytes(&e, p->id, 16);
	p->state = (uint32_t)get_u(&e, 4);
	p->pid = (uint32_t)get_u(&e, 4);
	get_bytes(&e, p->replaces, 16);
	p->seq = get_u(&e, 8);
	p->module_bias = get_u(&e, 8);
	p->region = get_u(&e, 8);
	p->region_size = get_u(&e, 8);
	p->code_size = get_u(&e, 8);
	p->module = get_str(&e);
	p->tool = get_str(&e);
	/* each function takes at least 32 bytes: no huge allocation from a bad count */
	if (e.bad || p->nr_funcs > e.left / 32)
		return false;
	p->funcs = xcalloc(p->nr_funcs, sizeof(*p->funcs));
	for (uint32_t i = 0; i < p->nr_funcs; i++) {
		struct rec_func *f = &p->funcs[i];
		uint8_t pad[3];

		f->addr = get_u(&e, 8);
		f->target = get_u(&e, 8);
		f->size = (uint32_t)get_u(&e, 4);
		get_bytes(&e, f->orig, JUMP_SIZE);
		get_bytes(&e, pad, 3);
		f->name = get_str(&e);
		f->file = get_str(&e);
	}
	/* an entry of an older hpapply ends here */
	p->signer = e.left ? get_str(&e) : xstrdup("");
	return !e.bad && e.left == 0 && p->region_size && p->code_size <= p->region_size &&
	       p->state >= REC_PENDING && p->state <= REC_REVERTING;
}

int record_decode(const char *where, const uint8_t *buf, size_t len, struct record *r,
		  struct hp_err *err)
{
	struct cursor c;
	uint32_t used, n, nr;

	if (len < HEADER_SIZE || memcmp(buf, RECORD_MAGIC, 8))
		return hp_err_set(err, "%s: no hpapply record magic; not touching the process", where);
	if (get_le(buf + 8, 4) != RECORD_VERSION)
		return hp_err_set(err, "%s: hpapply record version %u; this hpapply reads version %u "
				  "(use the hpapply that applied the package)", where,
				  (unsigned)get_le(buf + 8, 4), RECORD_VERSION);
	used = (uint32_t)get_le(buf + 12, 4);
	n = (uint32_t)get_le(buf + 16, 4);
	nr = (uint32_t)get_le(buf + 20, 4);
	if (used < HEADER_SIZE || used > len)
		return hp_err_set(err, "%s: hpapply record size %u is out of bounds (corrupt); not touching the process",
				  where, used);
	if (record_checksum(buf, used) != get_le(buf + CHECKSUM_AT, 8))
		return hp_err_set(err, "%s: hpapply record checksum mismatch (corrupt); not touching the process",
				  where);
	r->next_seq = get_le(buf + 24, 8);
	r->generation = get_le(buf + 32, 8);
	c = (struct cursor){ buf + HEADER_SIZE, used - HEADER_SIZE, false };
	if (n > c.left / 8)
		return hp_err_set(err, "%s: hpapply record package count %u is out of bounds", where, n);
	r->pkgs = xcalloc(n, sizeof(*r->pkgs));
	for (uint32_t i = 0; i < n; i++) {
		r->nr_pkgs++;
		if (!decode_pkg(&c, &r->pkgs[i]))
			return hp_err_set(err, "%s: hpapply record entry %u is malformed; not touching the process",
					  where, i);
	}
	if (nr > c.left / 32)
		return hp_err_set(err, "%s: hpapply record retained-region count %u is out of bounds", where, nr);
	r->retained = xcalloc(nr, sizeof(*r->retained));
	for (uint32_t i = 0; i < nr; i++) {
		struct rec_retained *k = &r->retained[r->nr_retained++];

		k->addr = get_u(&c, 8);
		k->size = get_u(&c, 8);
		get_bytes(&c, k->id, 16);
	}
	if (c.left)
		return hp_err_set(err, "%s: hpapply record has %zu bytes after its last entry", where, c.left);
	return 0;
}

/* ---- in the process ---- */

static bool is_named_record(const struct mapping *mp)
{
	return mp->path && !strcmp(mp->path, "/memfd:" RECORD_NAME);
}

static bool is_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Where memfd_create was not available the record is an anonymous,
 * private, read-only mapping of RECORD_MAP_SIZE bytes with the magic at
 * the start of a slot. */
static bool is_anonymous_record(struct tracee *t, const struct mapping *mp)
{
	struct hp_err ignored = { { 0 } };
	uint8_t magic[8];

	if (mp->path || !mp->r || mp->w || mp->x || mp->shared || mp->end - mp->start != RECORD_MAP_SIZE)
		return false;
	for (int k = 0; k < 2; k++)
		if (tracee_read(t, mp->start + (uint64_t)k * RECORD_SLOT_SIZE, magic, sizeof(magic), &ignored) == 0 &&
		    !memcmp(magic, RECORD_MAGIC, 8))
			return true;
	return false;
}

/* Read and decode slot k; 1: all zeros (never written). */
static int read_slot(struct tracee *t, const struct record *r, int k, uint8_t *buf, struct record *out,
		     struct hp_err *err)
{
	uint64_t at = r->map_addr + (uint64_t)k * RECORD_SLOT_SIZE;
	size_t used;
	char *where;
	int ret;

	if (r->map_size < RECORD_MAP_SIZE)
		return hp_err_set(err, "process %d: record at 0x%llx is %llu bytes, not %u; not touching the process",
				  (int)t->pid, (unsigned long long)r->map_addr, (unsigned long long)r->map_size,
				  RECORD_MAP_SIZE);
	if (tracee_read(t, at, buf, HEADER_SIZE, err) < 0)
		return -1;
	if (is_zero(buf, HEADER_SIZE))
		return 1;
	used = (size_t)get_le(buf + 12, 4);
	if (used < HEADER_SIZE || used > RECORD_SLOT_SIZE)
		used = HEADER_SIZE;
	if (tracee_read(t, at, buf, used, err) < 0)
		return -1;
	where = xasprintf("process %d: record at 0x%llx", (int)t->pid, (unsigned long long)at);
	ret = record_decode(where, buf, used, out, err);
	free(where);
	return ret;
}

int record_read(struct tracee *t, const struct proc_maps *m, struct record *r, struct hp_err *err)
{
	const struct mapping *found = NULL;
	struct record slot[2];
	struct hp_err why[2] = { { { 0 } }, { { 0 } } };
	int st[2], best = -1;
	uint8_t *buf;

	memset(r, 0, sizeof(*r));
	r->next_seq = 1;
	r->slot = -1;
	for (size_t i = 0; i < m->n; i++) {
		if (!is_named_record(&m->v[i]) && !is_anonymous_record(t, &m->v[i]))
			continue;
		if (found)
			return hp_err_set(err, "process %d: two hpapply records (at 0x%llx and 0x%llx); "
					  "not touching the process", (int)t->pid,
					  (unsigned long long)found->start, (unsigned long long)m->v[i].start);
		found = &m->v[i];
	}
	if (!found)
		return 0;
	r->present = true;
	r->map_addr = found->start;
	r->map_size = found->end - found->start;
	buf = xmalloc(RECORD_SLOT_SIZE);
	for (int k = 0; k < 2; k++) {
		memset(&slot[k], 0, sizeof(slot[k]));
		st[k] = read_slot(t, r, k, buf, &slot[k], &why[k]);
		if (st[k] == 0 && (best < 0 || slot[k].generation > slot[best].generation))
			best = k;
	}
	free(buf);
	if (best >= 0) {
		uint64_t addr = r->map_addr, size = r->map_size;

		*r = slot[best];
		memset(&slot[best], 0, sizeof(slot[best]));
		r->present = true;
		r->map_addr = addr;
		r->map_size = size;
		r->slot = best;
	}
	record_free(&slot[0]);
	record_free(&slot[1]);
	if (best >= 0 || (st[0] == 1 && st[1] == 1))
		return 0;   /* a record, or one never written: empty */
	/* neither slot holds a record: say why (the first that is not empty) */
	return hp_err_set(err, "%s", st[0] < 0 ? why[0].msg : why[1].msg);
}

void rec_pkg_free(struct rec_pkg *p)
{
	for (uint32_t i = 0; i < p->nr_funcs; i++) {
		free(p->funcs[i].name);
		free(p->funcs[i].file);
	}
	free(p->funcs);
	free(p->module);
	free(p->tool);
	free(p->signer);
	memset(p, 0, sizeof(*p));
}

void record_free(struct record *r)
{
	for (size_t i = 0; i < r->nr_pkgs; i++)
		rec_pkg_free(&r->pkgs[i]);
	free(r->pkgs);
	free(r->retained);
	memset(r, 0, sizeof(*r));
}

void record_copy(struct record *dst, const struct record *src)
{
	*dst = *src;
	dst->pkgs = xcalloc(src->nr_pkgs ? src->nr_pkgs : 1, sizeof(*dst->pkgs));
	for (size_t i = 0; i < src->nr_pkgs; i++)
		rec_pkg_copy(&dst->pkgs[i], &src->pkgs[i]);
	dst->retained = xcalloc(src->nr_retained ? src->nr_retained : 1, sizeof(*dst->retained));
	if (src->nr_retained)
		memcpy(dst->retained, src->retained, src->nr_retained * sizeof(*dst->retained));
}

void rec_pkg_copy(struct rec_pkg *dst, const struct rec_pkg *src)
{
	*dst = *src;
	dst->module = xstrdup(src->module ? src->module : "");
	dst->tool = xstrdup(src->tool ? src->tool : "");
	dst->signer = xstrdup(src->signer ? src->signer : "");
	dst->funcs = xcalloc(src->nr_funcs, sizeof(*dst->funcs));
	for (uint32_t i = 0; i < src->nr_funcs; i++) {
		dst->funcs[i] = src->funcs[i];
		dst->funcs[i].name = xstrdup(src->funcs[i].name ? src->funcs[i].name : "");
		dst->funcs[i].file = xstrdup(src->funcs[i].file ? src->funcs[i].file : "");
	}
}

uint64_t rec_pkg_data_start(const struct rec_pkg *p)
{
	return p->region + ((p->code_size + 4095) & ~4095ULL);
}

const char *rec_state_name(uint32_t state)
{
	switch (state) {
	case REC_PENDING: return "pending";
	case REC_APPLIED: return "applied";
	case REC_REVERTING: return "reverting";
	default: return "unknown";
	}
}

bool rec_pkg_unfinished(const struct rec_pkg *p)
{
	return p->state != REC_APPLIED;
}

const struct rec_pkg *record_unfinished(const struct record *r)
{
	for (size_t i = 0; i < r->nr_pkgs; i++)
		if (rec_pkg_unfinished(&r->pkgs[i]))
			return &r->pkgs[i];
	return NULL;
}

bool record_is_empty(const struct record *r)
{
	return r->nr_pkgs == 0 && r->nr_retained == 0;
}

struct rec_pkg *record_find_id(const struct record *r, const uint8_t id[16])
{
	for (size_t i = 0; i < r->nr_pkgs; i++)
		if (!memcmp(r->pkgs[i].id, id, 16))
			return &r->pkgs[i];
	return NULL;
}

const struct rec_func *record_find_func(const struct record *r, uint64_t addr)
{
	for (size_t i = 0; i < r->nr_pkgs; i++)
		for (uint32_t k = 0; k < r->pkgs[i].nr_funcs; k++)
			if (r->pkgs[i].funcs[k].addr == addr)
				return &r->pkgs[i].funcs[k];
	return NULL;
}
