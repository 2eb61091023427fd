/*
 * dwarf.c - dwarf_load(): give libdwarf the object's DWARF sections with
 * their relocations applied, read the DIE tree once (dwarf_read.c) and
 * turn it into facts (dwarf_facts.c, dwarf_types.c).
 *
 * Why our own Dwarf_Obj_Access_Interface rather than dwarf_elf_init_b():
 * in a relocatable object every cross-section reference in DWARF (string
 * offsets, line table offsets, str_offsets_base, code addresses) is a
 * RELA relocation with zero in the section bytes.  libdwarf 20210528 can
 * apply those itself, but then it parses the ELF file a second time, with
 * its own relocation code, on input we fuzz.  The object model has already
 * checked the section headers, symbols and relocations, so we hand
 * libdwarf private copies of only the sections it needs, relocated here
 * (S + A, S the symbol's value, 0 for a section symbol: DWARF in a .o is
 * section-relative, which is all we need since we key facts by name).
 * It works from memory and never touches the model's image.
 */
#include <pthread.h>
#include "dwarf.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "dwarf_int.h"
#include "elfobj.h"

#define NO_DWARF_PROBLEM "no DWARF debug info (.debug_info missing): source lines, " \
	"signatures and type layouts unavailable; rebuild with -g"

/* Zero bytes after each section copy: a reader that runs off the end of a
 * corrupt section finds a terminator instead of the heap. */
#define SECTION_PAD 16
/* zlib cannot inflate more than ~1032:1; a header claiming more lies. */
#define MAX_INFLATE_RATIO 1100

/* What libdwarf needs for DIEs, names, file tables and DWARF 5 indexes. */
static const char *const served_names[] = {
	".debug_info", ".debug_abbrev", ".debug_str", ".debug_line",
	".debug_line_str", ".debug_str_offsets", ".debug_addr",
};

struct served_section {
	const char *name;
	uint8_t *data;
	uint64_t size;
};

/* Index 0 is an empty section, as in ELF: libdwarf expects it. */
struct dwarf_obj {
	struct served_section secs[1 + ARRAY_SIZE(served_names)];
	size_t nr;
};

static int obj_section_info(void *obj, Dwarf_Half idx, Dwarf_Obj_Access_Section *ret, int *error)
{
	struct dwarf_obj *o = obj;

	if (idx >= o->nr)
		return DW_DLV_NO_ENTRY;
	memset(ret, 0, sizeof(*ret));
	ret->type = idx ? SHT_PROGBITS : SHT_NULL;
	ret->size = o->secs[idx].size;
	ret->name = o->secs[idx].name;
	return DW_DLV_OK;
}

static Dwarf_Endianness obj_byte_order(void *obj)
{
	return DW_OBJECT_LSB;
}

static Dwarf_Small obj_length_size(void *obj)
{
	return 4;
}

static Dwarf_Small obj_pointer_size(void *obj)
{
	return 8;
}

static Dwarf_Unsigned obj_section_count(void *obj)
{
	return ((struct dwarf_obj *)obj)->nr;
}

static int obj_load_section(void *obj, Dwarf_Half idx, Dwarf_Small **data, int *error)
{
	struct dwarf_obj *o = obj;

	if (idx == 0 || idx >= o->nr)
		return DW_DLV_NO_ENTRY;
	*data = o->secs[idx].data;
	return DW_DLV_OK;
}

static const Dwarf_Obj_Access_Methods obj_methods = {
	obj_section_info, obj_byte_order, obj_length_size, obj_pointer_size,
	obj_section_count, obj_load_section, NULL,
};

/* Never reached (every call passes a Dwarf_Error), but with a handler
 * libdwarf returns an error instead of calling abort(). */
static void ignore_dwarf_error(Dwarf_Error error, Dwarf_Ptr arg)
{
}

/* A section of a COMDAT group (type units, -g3 macros) is one of many
 * with its name; the compile unit's own sections are outside groups. */
static const struct hp_section *find_served(const struct hp_elf *e, const char *name)
{
	for (size_t i = 0; i < e->nr_sections; i++) {
		const struct hp_section *sec = &e->sections[i];
		if (!strcmp(sec->name, name) && !(sec->flags & SHF_GROUP) &&
		    sec->type != SHT_NOBITS && sec->data)
			return sec;
	}
	return NULL;
}

static int inflate_section(const struct hp_section *sec, uint8_t **out, uint64_t *size,
			   struct strbuf *why)
{
	uLongf len;
	uint64_t want;

	if (sec->size < sizeof(Elf64_Chdr) || get_le(sec->data, 4) != ELFCOMPRESS_ZLIB) {
		sb_addf(why, "%s: compressed with an unknown method", sec->name);
		return -1;
	}
	want = get_le(sec->data + 8, 8);
	if (want / MAX_INFLATE_RATIO > sec->size || want > ULONG_MAX - SECTION_PAD) {
		sb_addf(why, "%s: claims %llu bytes uncompressed from %llu", sec->name,
			(unsigned long long)want, (unsigned long long)sec->size);
		return -1;
	}
	*out = xcalloc(1, want + SECTION_PAD);
	len = want;
	if (uncompress(*out, &len, sec->data + sizeof(Elf64_Chdr), sec->size - sizeof(Elf64_Chdr)) != Z_OK ||
	    len != want) {
		sb_addf(why, "%s: cannot be decompressed", sec->name);
		free(*out);
		*out = NULL;
		return -1;
	}
	*size = want;
	return 0;
}

/* Width of the field a relocation in DWARF writes, 0 for those we leave
 * alone (only absolute ones appear in the sections we serve). */
static unsigned dwarf_reloc_width(uint32_t type)
{
	switch (type) {
	case R_X86_64_64: case R_X86_64_DTPOFF64:
		return 8;
	case R_X86_64_32: case R_X86_64_32S: case R_X86_64_DTPOFF32:
		return 4;
	default:
		return 0;
	}
}

static int relocate_section(const struct hp_section *sec, uint8_t *data, uint64_t size,
			    struct strbuf *why)
{
	sec_for_each_reloc(sec, r) {
		unsigned width = dwarf_reloc_width(r->type);
		uint64_t s = 0;

		if (!width)
			continue;
		if (r->offset > size || width > size - r->offset) {
			sb_addf(why, "relocation at 0x%llx is outside %s",
				(unsigned long long)r->offset, sec->name);
			return -1;
		}
		if (r->sym && r->sym->type != STT_SECTION)
			s = r->sym->value;
		put_le(data + r->offset, s + (uint64_t)r->addend, width);
	}
	return 0;
}

static int serve_section(const struct hp_section *sec, struct served_section *out, struct strbuf *why)
{
	out->name = sec->name;
	if (sec->flags & SHF_COMPRESSED) {
		if (inflate_section(sec, &out->data, &out->size, why) < 0)
			return -1;
	} else {
		out->size = sec->size;
		out->data = xcalloc(1, sec->size + SECTION_PAD);
		memcpy(out->data, sec->data, sec->size);
	}
	return relocate_section(sec, out->data, out->size, why);
}

static int serve_sections(const struct hp_elf *e, struct dwarf_obj *o, struct strbuf *why)
{
	o->secs[0].name = "";
	o->secs[0].data = NULL;
	o->nr = 1;
	for (size_t i = 0; i < ARRAY_SIZE(served_names); i++) {
		const struct hp_section *sec = find_served(e, served_names[i]);

		if (!sec)
			continue;
		if (serve_section(sec, &o->secs[o->nr++], why) < 0)
			return -1;
		/* libdwarf reads the copy: the file's bytes can leave memory */
		elf_drop_section_pages(e, sec);
	}
	return 0;
}

static void free_served(struct dwarf_obj *o)
{
	for (size_t i = 0; i < o->nr; i++)
		free(o->secs[i].data);
}

/* .debug_info with contents, outside any group: the compile units. */
static bool has_debug_info(const struct hp_elf *e)
{
	const struct hp_section *sec = find_served(e, ".debug_info");

	return sec && sec->size;
}

/* Objects are loaded on several threads (hpbuild, and hpdiff's two
 * inputs).  Everything libdwarf does on one Dwarf_Debug is that handle's
 * own, but opening and closing one, and errors raised before a handle
 * exists, go through libdwarf's process-wide state: those are serialized. */
static pthread_mutex_t libdwarf_global = PTHREAD_MUTEX_INITIALIZER;

/* The served sections the file tables are read from (dwarf_lines.c). */
static void line_sections(const struct dwarf_obj *o, struct dw_sections *secs)
{
	memset(secs, 0, sizeof(*secs));
	for (size_t i = 1; i < o->nr; i++) {
		const struct served_section *ss = &o->secs[i];
		if (!strcmp(ss->name, ".debug_line")) {
			secs->line = ss->data;
			secs->line_size = ss->size;
		} else if (!strcmp(ss->name, ".debug_line_str")) {
			secs->line_str = ss->data;
			secs->line_str_size = ss->size;
		} else if (!strcmp(ss->name, ".debug_info")) {
			secs->info_size = ss->size;
		} else if (!strcmp(ss->name, ".debug_str")) {
			secs->str = ss->data;
			secs->str_size = ss->size;
		}
	}
}

static int read_dwarf(struct hp_elf *e, struct dwarf_obj *o, struct hp_dwarf **out, struct strbuf *why)
{
	struct dw_sections secs;
	Dwarf_Obj_Access_Interface iface = { o, &obj_methods };
	struct dw_snapshot snap = { 0 };
	Dwarf_Debug dbg = NULL;
	Dwarf_Error derr = NULL;
	int rc;

	pthread_mutex_lock(&libdwarf_global);
	rc = dwarf_object_init_b(&iface, ignore_dwarf_error, NULL, DW_GROUPNUMBER_ANY, &dbg, &derr);
	if (rc == DW_DLV_NO_ENTRY) {
		pthread_mutex_unlock(&libdwarf_global);
		return 0;
	}
	if (rc == DW_DLV_ERROR) {
		sb_addf(why, "libdwarf cannot open it: %s", derr ? dwarf_errmsg(derr) : "unknown error");
		if (derr)
			dwarf_dealloc_error(dbg, derr);
		if (dbg)
			dwarf_object_finish(dbg, NULL);
		pthread_mutex_unlock(&libdwarf_global);
		return -1;
	}
	pthread_mutex_unlock(&libdwarf_global);
	line_sections(o, &secs);
	rc = dw_read_snapshot(dbg, &secs, &snap, why);
	if (rc == 0) {
		*out = xcalloc(1, sizeof(**out));
		dw_collect_facts(&snap, *out);
	}
	dw_snapshot_free(&snap);
	derr = NULL;
	pthread_mutex_lock(&libdwarf_global);
	if (dwarf_object_finish(dbg, &derr) == DW_DLV_ERROR && derr)
		dwarf_dealloc_error(NULL, derr);
	pthread_mutex_unlock(&libdwarf_global);
	return rc;
}

int dwarf_load(struct hp_elf *e, struct hp_err *err)
{
	struct dwarf_obj obj = { 0 };
	struct hp_dwarf *d = NULL;
	struct strbuf why;
	int rc;

	dwarf_free(e->dwarf);
	e->dwarf = NULL;
	free(e->dwarf_problem);
	e->dwarf_problem = NULL;
	if (!has_debug_info(e)) {
		e->dwarf_problem = xstrdup(NO_DWARF_PROBLEM);
		return 0;
	}
	sb_init(&why);
	rc = serve_sections(e, &obj, &why);
	if (rc == 0)
		rc = read_dwarf(e, &obj, &d, &why);
	free_served(&obj);
	if (rc < 0) {
		while (why.len && why.buf[why.len - 1] == ' ')
			why.buf[--why.len] = '\0';
		hp_err_set(err, "%s: corrupt DWARF: %s (rebuild the object)", e->path,
			   why.len ? why.buf : "unreadable");
		sb_free(&why);
		return -1;
	}
	sb_free(&why);
	if (!d)
		e->dwarf_problem = xstrdup(NO_DWARF_PROBLEM);
	e->dwarf = d;
	return 0;
}

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void dwarf_free(struct hp_dwarf *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nr_cus; i++) {
		free(d->cus[i].name);
		free(d->cus[i].comp_dir);
		free(d->cus[i].producer);
	}
	free(d->cus);
	for (size_t i = 0; i < d->nr_funcs; i++)
		dw_free_func(&d->funcs[i]);
	free(d->funcs);
	for (size_t i = 0; i < d->nr_vars; i++) {
		free(d->vars[i].name);
		free(d->vars[i].owner);
		free(d->vars[i].file);
		free(d->vars[i].type);
	}
	free(d->vars);
	for (size_t i = 0; i < d->nr_types; i++) {
		free(d->types[i].name);
		free(d->types[i].file);
		free(d->types[i].layout);
	}
	free(d->types);
	free_strings(d->var_keys, d->nr_var_keys);
	hmap_free(&d->func_by_name);
	hmap_free(&d->var_by_name);
	hmap_free(&d->type_by_name);
	free(d);
}

const struct hp_dwarf_func *dwarf_find_func(const struct hp_dwarf *d, const char *name)
{
	return d ? hmap_get(&d->func_by_name, name) : NULL;
}

const struct hp_dwarf_var *dwarf_find_var(const struct hp_dwarf *d, const char *owner,
					  const char *name)
{
	const struct hp_dwarf_var *v;
	char *key;

	if (!d)
		return NULL;
	if (!owner)
		return hmap_get(&d->var_by_name, name);
	key = xasprintf("%s/%s", owner, name);
	v = hmap_get(&d->var_by_name, key);
	free(key);
	return v;
}

const struct hp_dwarf_type *dwarf_find_type(const struct hp_dwarf *d, const char *name)
{
	return d ? hmap_get(&d->type_by_name, name) : NULL;
}

const char *dwarf_producer(const struct hp_dwarf *d)
{
	if (!d)
		return NULL;
	for (size_t i = 0; i < d->nr_cus; i++)
		if (d->cus[i].producer)
			return d->cus[i].producer;
	return NULL;
}
