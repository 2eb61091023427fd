/*
 * modfile.c - a linked module as a file, and statics found by content
 * (modfile.h).
 *
 * Why content search is safe: hpbuild --base stores, for each static the
 * package refers to, the size and a fingerprint of the old object's bytes
 * with every field the linker may rewrite masked (the relocated fields,
 * and the opcodes of relaxable instructions), the same fingerprint as a
 * replaced function's old_hash.  An object built with -ffunction-sections
 * has relocations wherever a build without it has any (and more: calls
 * between functions of one .text), so masking those fields covers both.
 * A candidate is only a place a static can start: a function at an FDE
 * start whose range is exactly its size, data at an aligned address of a
 * read-only section, never an exported symbol.  Two candidates that match
 * are two copies of the same bytes (gcc's identical statics in two files):
 * the package cannot say which one it means, so the caller refuses.
 */
#include "modfile.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_MATCHES 8

static const char *own(struct modfile *mf, char *s)
{
	mf->owned = xrealloc(mf->owned, (mf->nr_owned + 1) * sizeof(*mf->owned));
	mf->owned[mf->nr_owned++] = s;
	return s;
}

size_t elf_build_id(Elf *e, uint8_t *out, size_t max)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(e, scn))) {
		Elf_Data *d;
		GElf_Nhdr nh;
		size_t off = 0, name_off, desc_off;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE || !(d = elf_getdata(scn, NULL)))
			continue;
		while ((off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    !memcmp((const char *)d->d_buf + name_off, "GNU", 4)) {
				size_t n = nh.n_descsz < max ? nh.n_descsz : max;
				memcpy(out, (const uint8_t *)d->d_buf + desc_off, n);
				return n;
			}
		}
	}
	return 0;
}

bool same_source_file(const char *a, const char *b)
{
	if (!a || !b)
		return false;
	if (!strcmp(a, b))
		return true;
	if (strchr(a, '/') && strchr(b, '/'))
		return false;
	return !strcmp(path_tail(a), path_tail(b));
}

const char *elf_soname(Elf *e)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	const char *soname = NULL;

	while ((scn = elf_nextscn(e, scn))) {
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC || !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; sh.sh_entsize && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Dyn dyn;

			if (gelf_getdyn(d, (int)i, &dyn) && dyn.d_tag == DT_SONAME)
				soname = elf_strptr(e, sh.sh_link, dyn.d_un.d_val);
		}
	}
	return soname;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* One symbol table: .symtab (every symbol, locals tagged with the source
 * of their unit) or .dynsym (the exports, kept apart as well). */
static void read_symtab(struct modfile *mf, Elf_Scn *scn, const GElf_Shdr *sh, bool dynamic,
			size_t *cap, size_t *cap_exp)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t n = sh->sh_entsize && d ? sh->sh_size / sh->sh_entsize : 0;
	const char *file = "";

	for (size_t i = 1; i < n; i++) {
		GElf_Sym s;
		const char *name, *at;
		struct modfile_sym *ms;

		if (!gelf_getsym(d, (int)i, &s) || !(name = elf_strptr(mf->elf, sh->sh_link, s.st_name)))
			continue;
		if (GELF_ST_TYPE(s.st_info) == STT_FILE) {
			file = name;
			continue;
		}
		if (!name[0] || GELF_ST_TYPE(s.st_info) == STT_SECTION || s.st_shndx == SHN_UNDEF)
			continue;
		if (dynamic && s.st_shndx != SHN_ABS) {
			GROW(mf->exports, *cap_exp, mf->nr_exports + 1);
			mf->exports[mf->nr_exports++] = s.st_value;
		}
		if (dynamic && mf->has_symtab)
			continue;   /* .symtab is a superset of .dynsym's definitions */
		GROW(mf->syms, *cap, mf->nr_syms + 1);
		ms = &mf->syms[mf->nr_syms++];
		at = strchr(name, '@');
		ms->name = at ? own(mf, xstrndup(name, (size_t)(at - name))) : name;
		ms->file = GELF_ST_BIND(s.st_info) == STB_LOCAL ? file : NULL;
		ms->value = s.st_value;
		ms->size = s.st_size;
		ms->type = GELF_ST_TYPE(s.st_info);
		ms->bind = GELF_ST_BIND(s.st_info);
		ms->visibility = GELF_ST_VISIBILITY(s.st_other);
	}
}

static void read_sections(struct modfile *mf)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	size_t cap = 0, cap_exp = 0, cap_rng = 0;

	while ((scn = elf_nextscn(mf->elf, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB && sh.sh_size)
			mf->has_symtab = true;
	scn = NULL;
	while ((scn = elf_nextscn(mf->elf, scn))) {
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM) {
			read_symtab(mf, scn, &sh, sh.sh_type == SHT_DYNSYM, &cap, &cap_exp);
			continue;
		}
		/* code, and data that stays as the file has it */
		if (sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_ALLOC) ||
		    ((sh.sh_flags & SHF_WRITE) && !(sh.sh_flags & SHF_EXECINSTR)) || !sh.sh_size ||
		    !(d = elf_getdata(scn, NULL)) || d->d_size != sh.sh_size)
			continue;
		GROW(mf->ranges, cap_rng, mf->nr_ranges + 1);
		mf->ranges[mf->nr_ranges++] = (struct modfile_range){
			.addr = sh.sh_addr, .size = sh.sh_size, .data = d->d_buf,
			.exec = (sh.sh_flags & SHF_EXECINSTR) != 0,
		};
	}
	if (mf->nr_exports)
		qsort(mf->exports, mf->nr_exports, sizeof(*mf->exports), cmp_u64);
}

static const struct modfile_range *range_at(const struct modfile *mf, uint64_t addr)
{
	for (size_t i = 0; i < mf->nr_ranges; i++)
		if (addr >= mf->ranges[i].addr && addr - mf->ranges[i].addr < mf->ranges[i].size)
			return &mf->ranges[i];
	return NULL;
}

const uint8_t *modfile_bytes(const struct modfile *mf, uint64_t addr, uint64_t size)
{
	const struct modfile_range *r = range_at(mf, addr);

	if (!r || size > r->size - (addr - r->addr))
		return NULL;
	return r->data + (addr - r->addr);
}

static int32_t sdata4(const uint8_t *p)
{
	return (int32_t)(uint32_t)get_le(p, 4);
}

/*
 * The function starts of .eh_frame_hdr's binary search table (sorted by
 * the linker), in the encoding every x86-64 linker writes: the table
 * DW_EH_PE_datarel|sdata4 (0x3b), the count udata4.  Each start's end is
 * its FDE's: the FDE's pc_begin is DW_EH_PE_pcrel|sdata4 there too (the
 * CIE's 'R' augmentation, 0x1b, as gcc emits it), checked against the
 * table's start before its pc_range is believed; otherwise the end stays
 * unknown (0).  Another table encoding: no starts (the caller scans
 * aligned addresses instead).
 */
static void read_fdes(struct modfile *mf)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	const uint8_t *h = NULL;
	uint64_t haddr = 0, hsize = 0, count;
	size_t shstrndx;

	if (elf_getshdrstrndx(mf->elf, &shstrndx) < 0)
		return;
	while ((scn = elf_nextscn(mf->elf, scn))) {
		const char *name;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(mf->elf, shstrndx, sh.sh_name)) ||
		    strcmp(name, ".eh_frame_hdr") || !(d = elf_getdata(scn, NULL)) || d->d_size != sh.sh_size)
			continue;
		h = d->d_buf;
		haddr = sh.sh_addr;
		hsize = sh.sh_size;
	}
	if (!h || hsize < 12 || h[0] != 1 || h[2] != 0x03 || h[3] != 0x3b)
		return;
	count = get_le(h + 8, 4);
	if (count > (hsize - 12) / 8)
		return;
	mf->fde_start = xcalloc(count ? count : 1, sizeof(uint64_t));
	mf->fde_end = xcalloc(count ? count : 1, sizeof(uint64_t));
	mf->nr_fdes = count;
	for (uint64_t i = 0; i < count; i++) {
		uint64_t start = haddr + (uint64_t)(int64_t)sdata4(h + 12 + 8 * i);
		uint64_t fde = haddr + (uint64_t)(int64_t)sdata4(h + 12 + 8 * i + 4);
		const uint8_t *f = modfile_bytes(mf, fde, 16);

		mf->fde_start[i] = start;
		/* length (not the 64-bit escape), CIE pointer, pc_begin, pc_range */
		if (f && get_le(f, 4) != 0xffffffffu && get_le(f, 4) >= 12 &&
		    fde + 8 + (uint64_t)(int64_t)sdata4(f + 8) == start)
			mf->fde_end[i] = start + get_le(f + 12, 4);
	}
}

int modfile_from_elf(Elf *e, const char *path, struct modfile *mf, struct hp_err *err)
{
	GElf_Ehdr eh;

	memset(mf, 0, sizeof(*mf));
	mf->fd = -1;
	mf->path = path;
	mf->elf = e;
	if (!e || elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh))
		return hp_err_set(err, "%s: not an ELF file", path);
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64)
		return hp_err_set(err, "%s: not an x86-64 ELF file", path);
	if (eh.e_type != ET_DYN && eh.e_type != ET_EXEC)
		return hp_err_set(err, "%s: not a linked module (an object file? give the executable or "
				  "shared library the package is for)", path);
	mf->build_id_len = elf_build_id(e, mf->build_id, sizeof(mf->build_id));
	for (size_t i = 0; i < mf->build_id_len; i++)
		snprintf(mf->build_id_hex + 2 * i, 3, "%02x", mf->build_id[i]);
	mf->soname = elf_soname(e);
	read_sections(mf);
	read_fdes(mf);
	return 0;
}

int modfile_open(const char *path, struct modfile *mf, struct hp_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *e;

	memset(mf, 0, sizeof(*mf));
	mf->fd = -1;
	if (fd < 0)
		return hp_err_set(err, "%s: cannot open: %s", path, strerror(errno));
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (modfile_from_elf(e, path, mf, err) < 0) {
		modfile_close(mf);
		if (e)
			elf_end(e);
		close(fd);
		return -1;
	}
	mf->fd = fd;
	mf->own_elf = true;
	return 0;
}

void modfile_close(struct modfile *mf)
{
	if (mf->own_elf && mf->elf)
		elf_end(mf->elf);
	if (mf->fd >= 0)
		close(mf->fd);
	for (size_t i = 0; i < mf->nr_owned; i++)
		free(mf->owned[i]);
	free(mf->owned);
	free(mf->syms);
	free(mf->exports);
	free(mf->ranges);
	free(mf->fde_start);
	free(mf->fde_end);
	memset(mf, 0, sizeof(*mf));
	mf->fd = -1;
}

const char *modfile_name(const struct modfile *mf)
{
	return mf->soname && mf->soname[0] ? mf->soname : path_tail(mf->path);
}

/* Local to its translation unit (see hpapply's module.c: a hidden global
 * is made STB_LOCAL by the linker but is a global for the package). */
static bool is_unit_local(const struct modfile_sym *s)
{
	return s->bind == STB_LOCAL && s->file && s->file[0] && s->visibility != STV_HIDDEN &&
	       s->visibility != STV_INTERNAL;
}

size_t modfile_lookup(const struct modfile *mf, const char *name, bool local, const char *file,
		      const struct modfile_sym **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < mf->nr_syms; i++) {
		const struct modfile_sym *s = &mf->syms[i];

		if (strcmp(s->name, name) || local != is_unit_local(s))
			continue;
		if (local && file && !same_source_file(s->file, file))
			continue;
		if (n < max)
			out[n] = s;
		n++;
	}
	return n;
}

static bool is_export(const struct modfile *mf, uint64_t addr)
{
	return bsearch(&addr, mf->exports, mf->nr_exports, sizeof(*mf->exports), cmp_u64) != NULL;
}

static bool matches(const struct modfile *mf, const struct hpk_static *st, uint64_t addr)
{
	const uint8_t *b = modfile_bytes(mf, addr, st->size);

	return b && hpk_masked_hash(b, st->size, st->masks, st->nr_masks) == st->hash;
}

static void add_match(uint64_t *addr, size_t max, size_t *n, uint64_t a)
{
	if (*n < max)
		addr[*n] = a;
	(*n)++;
}

/* A static function starts where an FDE starts, and its FDE covers it
 * exactly (gcc's .cfi_startproc/.cfi_endproc bracket the function).
 * Without .eh_frame_hdr: every address aligned as its section was. */
static size_t find_function(const struct modfile *mf, const struct hpk_static *st, uint64_t *addr, size_t max)
{
	size_t n = 0;

	if (mf->nr_fdes) {
		for (size_t i = 0; i < mf->nr_fdes; i++) {
			uint64_t a = mf->fde_start[i];
			const struct modfile_range *r = range_at(mf, a);

			if (!r || !r->exec || is_export(mf, a) ||
			    (mf->fde_end[i] && mf->fde_end[i] - a != st->size))
				continue;
			if (matches(mf, st, a))
				add_match(addr, max, &n, a);
		}
		return n;
	}
	for (size_t k = 0; k < mf->nr_ranges; k++) {
		const struct modfile_range *r = &mf->ranges[k];

		if (!r->exec)
			continue;
		for (uint64_t a = align_up(r->addr, st->align); a + st->size <= r->addr + r->size; a += st->align)
			if (!is_export(mf, a) && matches(mf, st, a))
				add_match(addr, max, &n, a);
	}
	return n;
}

/* Read-only data: every address aligned as the old object's section was,
 * in the sections that are not code and not writable. */
static size_t find_rodata(const struct modfile *mf, const struct hpk_static *st, uint64_t *addr, size_t max)
{
	size_t n = 0;

	for (size_t k = 0; k < mf->nr_ranges; k++) {
		const struct modfile_range *r = &mf->ranges[k];

		if (r->exec || st->size > r->size)
			continue;
		for (uint64_t a = align_up(r->addr, st->align); a + st->size <= r->addr + r->size; a += st->align)
			if (!is_export(mf, a) && matches(mf, st, a))
				add_match(addr, max, &n, a);
	}
	return n;
}

size_t modfile_find_static(const struct modfile *mf, const struct hpk_static *st, uint64_t *addr, size_t max)
{
	if (!st->size)
		return 0;
	if (st->kind == HPK_STATIC_FUNC)
		return find_function(mf, st, addr, max);
	if (st->kind == HPK_STATIC_RODATA)
		return find_rodata(mf, st, addr, max);
	return 0;
}

size_t modfile_find_function(const struct modfile *mf, const struct hpk_func *f, uint64_t *addr, size_t max)
{
	/* the replaced function's own record is the fingerprint a static
	 * function would have: size, masked hash, masks */
	struct hpk_static st = { .kind = HPK_STATIC_FUNC, .align = 1, .size = f->old_size, .hash = f->old_hash,
				 .masks = f->old_masks, .nr_masks = f->nr_old_masks };

	return modfile_find_static(mf, &st, addr, max);
}

const struct hpk_static *hpk_static_of(const struct hpk *p, uint32_t sym)
{
	uint32_t lo = 0, hi = p->nr_statics;

	while (lo < hi) {   /* sorted by symbol (hpk_check_model) */
		uint32_t mid = lo + (hi - lo) / 2;

		if (p->statics[mid].sym == sym)
			return &p->statics[mid];
		if (p->statics[mid].sym < sym)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

char *modfile_debug_path(const char *dir, const uint8_t *id, size_t n)
{
	struct strbuf sb;

	if (n < 2)
		return NULL;
	sb_init(&sb);
	sb_addf(&sb, "%s/.build-id/%02x/", dir, id[0]);
	for (size_t i = 1; i < n; i++)
		sb_addf(&sb, "%02x", id[i]);
	sb_adds(&sb, ".debug");
	return sb.buf;
}

int modfile_record_base(const struct modfile *mf, struct hpk *p, struct hp_err *err)
{
	if (!mf->build_id_len)
		return hp_err_set(err, "%s: has no GNU build-id note; a package cannot be bound to it "
				  "(link it with -Wl,--build-id)", mf->path);
	p->base_name = hpk_own(p, xstrdup(modfile_name(mf)));
	p->base_build_id = hpk_own(p, xstrdup(mf->build_id_hex));
	return 0;
}

/* ---- the --base check ---- */

static const char *source_of(const struct hpk *p, const struct hpk_symbol *s)
{
	if (s->file)
		return s->file;
	return s->unit < p->nr_units ? p->units[s->unit].source : NULL;
}

/* A replaced static function of a module without a symbol table: found
 * once by its old content (as hpapply finds it), or refused, never
 * guessed. */
static void check_function_by_content(const struct modfile *mf, const struct hpk_func *f, const char *file,
				      struct strbuf *out, size_t *bad)
{
	uint64_t addr[MAX_MATCHES];
	size_t n = modfile_find_function(mf, f, addr, MAX_MATCHES);

	if (n == 1)
		return;
	if (n == 0)
		sb_addf(out, "%s: static function '%s' (%s): the module has no symbol table and no function in it has "
			"the size and content the package expects: the objects the package was built from were not "
			"built as the module was (same sources, compiler and flags, -ffunction-sections "
			"-fdata-sections added)\n", mf->path, f->name, file ? file : "?");
	else
		sb_addf(out, "%s: static function '%s' (%s): %zu functions in the module have its size and content "
			"(identical copies); hpapply cannot tell which one the package replaces and refuses it: "
			"install the module's debug file (or give hpapply --debug-dir DIR)\n", mf->path, f->name,
			file ? file : "?", n);
	(*bad)++;
}

static void check_function(const struct modfile *mf, const struct hpk *p, const struct hpk_func *f,
			   struct strbuf *out, size_t *bad)
{
	const struct modfile_sym *c[MAX_MATCHES];
	const char *file = source_of(p, &p->syms[f->sym]);
	bool local = f->bind == STB_LOCAL;
	size_t n = modfile_lookup(mf, f->name, local, file, c, MAX_MATCHES);
	const char *why = NULL;

	if (n == 0 && local && !mf->has_symtab) {
		check_function_by_content(mf, f, file, out, bad);
		return;
	}
	if (n == 0) {
		sb_addf(out, "%s: function '%s'%s%s%s: %s\n", mf->path, f->name, local ? " (" : "",
			local && file ? file : "", local ? ")" : "",
			mf->has_symtab ? "no such function: the package was made for another program" :
			local ? "a static function, and the module has no symbol table: hpapply cannot find it "
				"(install the module's debug file, or give hpapply --debug-dir DIR)" :
				"not exported by the module, which has no symbol table: the package was made for another program");
		(*bad)++;
		return;
	}
	for (size_t k = 0; k < n && k < MAX_MATCHES; k++) {
		const uint8_t *b = modfile_bytes(mf, c[k]->value, c[k]->size);

		if (c[k]->size != f->old_size)
			why = "size";
		else if (!b || hpk_masked_hash(b, f->old_size, f->old_masks, f->nr_old_masks) != f->old_hash)
			why = "code";
		else
			return;
	}
	if (!strcmp(why, "size"))
		sb_addf(out, "%s: function '%s' is %llu bytes, the package expects %u: the objects the package was "
			"built from were not built as the module was (same sources, same compiler and flags, "
			"-ffunction-sections -fdata-sections added)\n", mf->path, f->name,
			(unsigned long long)c[0]->size, f->old_size);
	else
		sb_addf(out, "%s: the code of function '%s' is not the code the package was made for: the objects "
			"the package was built from were not built as the module was (same sources, same compiler "
			"and flags, -ffunction-sections -fdata-sections added)\n", mf->path, f->name);
	(*bad)++;
}

static void check_static(const struct modfile *mf, const struct hpk *p, uint32_t si, struct strbuf *out,
			 size_t *bad)
{
	const struct hpk_symbol *s = &p->syms[si];
	const struct modfile_sym *c[MAX_MATCHES];
	const struct hpk_static *st;
	uint64_t addr[MAX_MATCHES];
	size_t n;

	if (mf->has_symtab) {
		n = modfile_lookup(mf, s->name, true, s->file, c, MAX_MATCHES);
		if (n == 1)
			return;
		sb_addf(out, "%s: static '%s' (%s): %s\n", mf->path, s->name, s->file ? s->file : "a hidden global",
			n ? "defined more than once in source files of that name (HP014)" :
			    "not in the module's symbol table: the package was made for another program");
		(*bad)++;
		return;
	}
	st = hpk_static_of(p, si);
	if (!st) {
		sb_addf(out, "%s: static '%s' (%s): the module has no symbol table and the package no fingerprint "
			"of it (build the package with hpbuild --base)\n", mf->path, s->name, s->file ? s->file : "a hidden global");
		(*bad)++;
		return;
	}
	if (st->kind == HPK_STATIC_DATA) {
		sb_addf(out, "%s: static '%s' (%s): a writable variable, which cannot be found by content in a "
			"module without a symbol table; hpapply needs the module's debug file for it "
			"(install it under /usr/lib/debug/.build-id, or give hpapply --debug-dir DIR)\n",
			mf->path, s->name, s->file ? s->file : "a hidden global");
		(*bad)++;
		return;
	}
	n = modfile_find_static(mf, st, addr, MAX_MATCHES);
	if (n == 1)
		return;
	if (n == 0)
		sb_addf(out, "%s: static %s '%s' (%s): no %s in the module has its size and content: the "
			"objects the package was built from were not built as the module was (same sources, "
			"compiler and flags, -ffunction-sections -fdata-sections added)\n", mf->path,
			st->kind == HPK_STATIC_FUNC ? "function" : "constant", s->name, s->file ? s->file : "a hidden global",
			st->kind == HPK_STATIC_FUNC ? "function" : "read-only data");
	else
		sb_addf(out, "%s: static %s '%s' (%s): %zu places in the module have its size and content "
			"(identical copies); hpapply cannot tell which one the package means and refuses it: "
			"install the module's debug file (or give hpapply --debug-dir DIR), or change the fix so "
			"that it does not refer to '%s'\n", mf->path,
			st->kind == HPK_STATIC_FUNC ? "function" : "constant", s->name, s->file ? s->file : "a hidden global",
			n, s->name);
	(*bad)++;
}

size_t modfile_check_package(const struct modfile *mf, const struct hpk *p, struct strbuf *out)
{
	size_t bad = 0;

	for (uint32_t i = 0; i < p->nr_funcs; i++)
		if (p->funcs[i].kind == HPK_FUNC_REPLACE)
			check_function(mf, p, &p->funcs[i], out, &bad);
	for (uint32_t i = 0; i < p->nr_syms; i++) {
		const struct hpk_symbol *s = &p->syms[i];
		const struct modfile_sym *c;

		if (s->where != HPK_SYM_EXTERN || s->type == STT_TLS)
			continue;
		/* a global: the module names it, or it is a hidden one the
		 * package fingerprinted (else another library defines it) */
		if (s->bind != STB_LOCAL &&
		    (!hpk_static_of(p, i) || modfile_lookup(mf, s->name, false, NULL, &c, 1)))
			continue;
		check_static(mf, p, i, out, &bad);
	}
	return bad;
}
