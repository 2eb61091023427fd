/*
 * audit.c - the --audit listing, as text and as JSON (audit.h).
 *
 * The listing is in package order (the order hpbuild wrote, which is the
 * order of the new objects' symbol tables), so two runs on one package are
 * byte-identical.  Code is shown as capstone disassembles it, with each
 * relocated operand replaced by its target (disasm.h); the raw
 * relocations follow each function too, because a reviewer must be able
 * to check the rendering against the facts.
 */
#include "audit.h"

#include <elf.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "disasm.h"
#include "reloc.h"

const char *audit_bind_name(uint8_t bind)
{
	switch (bind) {
	case STB_LOCAL: return "local";
	case STB_GLOBAL: return "global";
	case STB_WEAK: return "weak";
	default: return "other";
	}
}

const char *audit_type_name(uint8_t type)
{
	switch (type) {
	case STT_FUNC: return "func";
	case STT_OBJECT: return "object";
	case STT_TLS: return "tls";
	case STT_NOTYPE: return "notype";
	case STT_GNU_IFUNC: return "ifunc";
	default: return "other";
	}
}

static const char *func_kind_name(uint8_t kind)
{
	return kind == HPK_FUNC_REPLACE ? "replace" : kind == HPK_FUNC_NEW ? "new" : "?";
}

static const char *data_kind_name(uint8_t kind)
{
	return kind == HPK_DATA_RODATA ? "rodata" : kind == HPK_DATA_DATA ? "data" :
	       kind == HPK_DATA_BSS ? "bss" : "?";
}

static const char *name_or(const char *s)
{
	return s && s[0] ? s : "?";
}

/* The raw target: the symbol's name, and for a string or a constant what
 * it holds ('.str.2 "bad length %d"'). */
static char *raw_target(const struct hpk *p, uint32_t sym)
{
	struct strbuf sb, what;

	sb_init(&sb);
	sb_init(&what);
	if (sym >= p->nr_syms) {
		sb_addf(&sb, "?symbol %u", sym);
	} else {
		sb_adds(&sb, name_or(p->syms[sym].name));
		describe_pkg_symbol(p, sym, 0, &what);
		if (strcmp(what.buf, sb.buf))
			sb_addf(&sb, " %s", what.buf);
	}
	sb_free(&what);
	return sb_detach(&sb);
}

static void source_text(FILE *out, const char *file, uint32_t line)
{
	if (!file)
		fprintf(out, "  source       (unknown)\n");
	else if (line)
		fprintf(out, "  source       %s:%u\n", file, line);
	else
		fprintf(out, "  source       %s\n", file);
}

static bool in_list(const uint32_t *v, size_t n, uint32_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

static void relocs_text(FILE *out, const struct hpk *p, const struct hpk_reloc *r, uint32_t n,
			const uint32_t *loose, size_t nr_loose)
{
	if (!n)
		return;
	fprintf(out, "  relocations  %u\n", n);
	for (uint32_t i = 0; i < n; i++) {
		char *t = raw_target(p, r[i].sym);

		fprintf(out, "    %04" PRIx32 "  %-24s %s %+" PRId64 "%s\n", r[i].offset,
			reloc_name(r[i].type), t, r[i].addend,
			in_list(loose, nr_loose, i) ? "  (field not inside one instruction)" : "");
		free(t);
	}
}

/* "0000  55 48 89 e5 ...     push rbp", eight bytes a line; longer
 * instructions continue on the next line as objdump does. */
static void hex_run(char *buf, size_t cap, const uint8_t *b, uint32_t n)
{
	buf[0] = '\0';
	for (uint32_t k = 0; k < n && 3 * (size_t)k + 4 <= cap; k++)
		snprintf(buf + 3 * k, cap - 3 * k, "%02x ", b[k]);
	if (buf[0])
		buf[strlen(buf) - 1] = '\0';   /* no trailing blank */
}

static void insn_text(FILE *out, const uint8_t *code, const struct dis_insn *in)
{
	char hex[8 * 3 + 1];

	hex_run(hex, sizeof(hex), code + in->offset, in->size < 8 ? in->size : 8);
	fprintf(out, "    %04" PRIx32 "  %-24s %s\n", in->offset, hex, in->text);
	for (uint32_t done = 8; done < in->size; done += 8) {
		hex_run(hex, sizeof(hex), code + in->offset + done, in->size - done < 8 ? in->size - done : 8);
		fprintf(out, "    %04" PRIx32 "  %s\n", in->offset + done, hex);
	}
}

/* The first of function fi's other names in p->aliases (sorted by
 * function), and their number in *n. */
static const struct hpk_alias *aliases_of(const struct hpk *p, uint32_t fi, uint32_t *n)
{
	uint32_t i = 0;

	while (i < p->nr_aliases && p->aliases[i].func < fi)
		i++;
	for (*n = 0; i + *n < p->nr_aliases && p->aliases[i + *n].func == fi; (*n)++)
		;
	return p->aliases + i;
}

static void function_text(FILE *out, struct disasm *d, const struct hpk *p, uint32_t fi)
{
	const struct hpk_func *f = &p->funcs[fi];
	struct dis_listing l;
	uint32_t na;
	const struct hpk_alias *a = aliases_of(p, fi, &na);

	fprintf(out, "\nfunction %s  (%s, %s)\n", name_or(f->name), func_kind_name(f->kind), audit_bind_name(f->bind));
	if (na) {
		fprintf(out, "  aliases     ");
		for (uint32_t i = 0; i < na; i++)
			fprintf(out, " %s", a[i].name);
		fprintf(out, "\n");
	}
	source_text(out, f->file, f->line);
	fprintf(out, "  unit         %u\n", f->unit);
	fprintf(out, "  code         %u bytes, align %u\n", f->code_size, f->align);
	if (f->kind == HPK_FUNC_REPLACE) {
		fprintf(out, "  old          %u bytes, fingerprint %016" PRIx64, f->old_size, f->old_hash);
		if (f->nr_old_masks) {
			fprintf(out, ", masked");
			for (uint32_t i = 0; i < f->nr_old_masks; i++)
				fprintf(out, " %04" PRIx32 "+%u", f->old_masks[i].start, f->old_masks[i].len);
		}
		fputc('\n', out);
	}
	disasm_function(d, p, fi, &l);
	for (size_t i = 0; i < l.n; i++)
		insn_text(out, f->code, &l.v[i]);
	relocs_text(out, p, f->relocs, f->nr_relocs, l.unattached, l.nr_unattached);
	dis_listing_free(&l);
}

/* hexdump -C style, with runs of identical lines shown as one '*'. */
static void hexdump_text(FILE *out, const uint8_t *b, uint32_t size)
{
	bool starred = false;

	for (uint32_t off = 0; off < size; off += 16) {
		uint32_t n = size - off < 16 ? size - off : 16;

		if (off >= 16 && n == 16 && !memcmp(b + off, b + off - 16, 16)) {
			if (!starred)
				fprintf(out, "    *\n");
			starred = true;
			continue;
		}
		starred = false;
		fprintf(out, "    %04" PRIx32 " ", off);
		for (uint32_t k = 0; k < 16; k++) {
			if (k == 8)
				fputc(' ', out);
			if (k < n)
				fprintf(out, " %02x", b[off + k]);
			else
				fputs("   ", out);
		}
		fputs("  |", out);
		for (uint32_t k = 0; k < n; k++)
			fputc(b[off + k] >= 0x20 && b[off + k] < 0x7f ? b[off + k] : '.', out);
		fputs("|\n", out);
	}
}

static void data_text(FILE *out, const struct hpk *p, uint32_t di)
{
	const struct hpk_data *d = &p->data[di];

	fprintf(out, "\ndata %s  (%s, %s)\n", name_or(d->name), data_kind_name(d->kind), audit_bind_name(d->bind));
	source_text(out, d->file, d->line);
	fprintf(out, "  unit         %u\n", d->unit);
	fprintf(out, "  size         %u bytes, align %u\n", d->size, d->align);
	if (pkg_data_is_text(d)) {
		struct strbuf sb;

		sb_init(&sb);
		describe_pkg_symbol(p, d->sym, 0, &sb);
		fprintf(out, "  text         %s\n", sb.buf);
		sb_free(&sb);
	}
	if (d->kind == HPK_DATA_BSS || !d->bytes)
		fprintf(out, "    (zero-filled)\n");
	else
		hexdump_text(out, d->bytes, d->size);
	relocs_text(out, p, d->relocs, d->nr_relocs, NULL, 0);
}

static void references_text(FILE *out, const struct hpk *p)
{
	size_t n = 0;

	for (uint32_t i = 0; i < p->nr_syms; i++)
		n += p->syms[i].where == HPK_SYM_EXTERN;
	fprintf(out, "\nreferences to the running program  %zu\n", n);
	for (uint32_t i = 0; i < p->nr_syms; i++) {
		const struct hpk_symbol *s = &p->syms[i];

		if (s->where != HPK_SYM_EXTERN)
			continue;
		fprintf(out, "  %-32s %-6s %-6s", name_or(s->name), audit_bind_name(s->bind), audit_type_name(s->type));
		if (s->file)
			fprintf(out, " %s", s->file);
		fprintf(out, "  (unit %u)\n", s->unit);
	}
}

int audit_text(FILE *out, const struct hpk *p, struct hp_err *err)
{
	struct disasm *d = disasm_open(err);

	if (!d)
		return -1;
	for (uint32_t i = 0; i < p->nr_funcs; i++)
		function_text(out, d, p, i);
	for (uint32_t i = 0; i < p->nr_data; i++)
		data_text(out, p, i);
	references_text(out, p);
	disasm_close(d);
	return 0;
}

/* ---- JSON ---- */

static char *hex_bytes(const uint8_t *b, uint32_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *s = xmalloc((size_t)n * 2 + 1);

	for (uint32_t i = 0; i < n; i++) {
		s[2 * i] = digits[b[i] >> 4];
		s[2 * i + 1] = digits[b[i] & 15];
	}
	s[(size_t)n * 2] = '\0';
	return s;
}

static void relocs_json(struct json *j, const struct hpk *p, const struct hpk_reloc *r, uint32_t n,
			const uint32_t *loose, size_t nr_loose, bool code)
{
	json_key(j, "relocations");
	json_begin_array(j);
	for (uint32_t i = 0; i < n; i++) {
		struct strbuf sb;

		sb_init(&sb);
		describe_pkg_symbol(p, r[i].sym, 0, &sb);
		json_begin_object(j);
		json_kv_uint(j, "offset", r[i].offset);
		json_kv_string(j, "type", reloc_name(r[i].type));
		json_kv_string(j, "target", r[i].sym < p->nr_syms ? p->syms[r[i].sym].name : NULL);
		json_kv_string(j, "resolves_to", sb.buf);
		json_kv_int(j, "addend", r[i].addend);
		if (code)
			json_kv_bool(j, "in_instruction", !in_list(loose, nr_loose, i));
		json_end_object(j);
		sb_free(&sb);
	}
	json_end_array(j);
}

static void source_json(struct json *j, const char *file, uint32_t line)
{
	json_kv_string(j, "file", file);
	json_key(j, "line");
	if (line)
		json_uint(j, line);
	else
		json_null(j);
}

static void function_json(struct json *j, struct disasm *d, const struct hpk *p, uint32_t fi)
{
	const struct hpk_func *f = &p->funcs[fi];
	bool replace = f->kind == HPK_FUNC_REPLACE;
	struct dis_listing l;
	char hash[17];

	json_begin_object(j);
	json_kv_string(j, "name", f->name);
	json_kv_string(j, "kind", func_kind_name(f->kind));
	json_kv_string(j, "bind", audit_bind_name(f->bind));
	{
		uint32_t na;
		const struct hpk_alias *a = aliases_of(p, fi, &na);

		json_key(j, "aliases");
		json_begin_array(j);
		for (uint32_t i = 0; i < na; i++)
			json_string(j, a[i].name);
		json_end_array(j);
	}
	source_json(j, f->file, f->line);
	json_kv_uint(j, "unit", f->unit);
	json_kv_uint(j, "size", f->code_size);
	json_kv_uint(j, "align", f->align);
	json_key(j, "old_size");
	if (replace)
		json_uint(j, f->old_size);
	else
		json_null(j);
	snprintf(hash, sizeof(hash), "%016" PRIx64, f->old_hash);
	json_kv_string(j, "old_hash", replace ? hash : NULL);
	json_key(j, "old_masks");
	json_begin_array(j);
	for (uint32_t i = 0; replace && i < f->nr_old_masks; i++) {
		json_begin_object(j);
		json_kv_uint(j, "start", f->old_masks[i].start);
		json_kv_uint(j, "len", f->old_masks[i].len);
		json_end_object(j);
	}
	json_end_array(j);
	disasm_function(d, p, fi, &l);
	json_key(j, "instructions");
	json_begin_array(j);
	for (size_t i = 0; i < l.n; i++) {
		char *hex = hex_bytes(f->code + l.v[i].offset, l.v[i].size);

		json_begin_object(j);
		json_kv_uint(j, "offset", l.v[i].offset);
		json_kv_string(j, "bytes", hex);
		json_kv_string(j, "text", l.v[i].text);
		json_end_object(j);
		free(hex);
	}
	json_end_array(j);
	relocs_json(j, p, f->relocs, f->nr_relocs, l.unattached, l.nr_unattached, true);
	dis_listing_free(&l);
	json_end_object(j);
}

static void data_json(struct json *j, const struct hpk *p, uint32_t di)
{
	const struct hpk_data *d = &p->data[di];
	bool has_bytes = d->kind != HPK_DATA_BSS && d->bytes;
	char *hex = has_bytes ? hex_bytes(d->bytes, d->size) : NULL;

	json_begin_object(j);
	json_kv_string(j, "name", d->name);
	json_kv_string(j, "kind", data_kind_name(d->kind));
	json_kv_string(j, "bind", audit_bind_name(d->bind));
	source_json(j, d->file, d->line);
	json_kv_uint(j, "unit", d->unit);
	json_kv_uint(j, "size", d->size);
	json_kv_uint(j, "align", d->align);
	json_kv_string(j, "bytes", hex);
	if (pkg_data_is_text(d)) {
		struct strbuf sb;

		sb_init(&sb);
		describe_pkg_symbol(p, d->sym, 0, &sb);
		json_kv_string(j, "text", sb.buf);
		sb_free(&sb);
	} else {
		json_kv_string(j, "text", NULL);
	}
	relocs_json(j, p, d->relocs, d->nr_relocs, NULL, 0, false);
	json_end_object(j);
	free(hex);
}

int audit_json(struct json *j, const struct hpk *p, struct hp_err *err)
{
	struct disasm *d = disasm_open(err);

	if (!d)
		return -1;
	json_key(j, "functions");
	json_begin_array(j);
	for (uint32_t i = 0; i < p->nr_funcs; i++)
		function_json(j, d, p, i);
	json_end_array(j);
	json_key(j, "data");
	json_begin_array(j);
	for (uint32_t i = 0; i < p->nr_data; i++)
		data_json(j, p, i);
	json_end_array(j);
	json_key(j, "references");
	json_begin_array(j);
	for (uint32_t i = 0; i < p->nr_syms; i++) {
		const struct hpk_symbol *s = &p->syms[i];

		if (s->where != HPK_SYM_EXTERN)
			continue;
		json_begin_object(j);
		json_kv_string(j, "name", s->name);
		json_kv_string(j, "bind", audit_bind_name(s->bind));
		json_kv_string(j, "type", audit_type_name(s->type));
		json_kv_string(j, "file", s->file);
		json_kv_uint(j, "unit", s->unit);
		json_end_object(j);
	}
	json_end_array(j);
	disasm_close(d);
	return 0;
}
