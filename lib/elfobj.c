/*
 * elfobj.c - load an x86-64 ELF relocatable object into the object model
 * (elfobj.h) with libelf, checking everything a hostile file could get wrong
 * before any later pass trusts it.
 *
 * Order of work: identify the file (magic, class, byte order, machine, type),
 * then sections, the symbol table (with SHN_XINDEX extended numbering), RELA
 * relocations, per-section symbol lists and per-symbol relocation slices,
 * the name tables and finally the DWARF facts.
 */
#include "elfobj.h"

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "dwarf.h"
#include "implied.h"
#include "reloc.h"

static const char *etype_name(unsigned t)
{
	switch (t) {
	case ET_EXEC: return "an executable";
	case ET_DYN: return "a shared object or PIE executable";
	case ET_CORE: return "a core dump";
	default: return "not a relocatable object";
	}
}

/* The name of an ELF machine a wrong object is likely built for: the
 * message says "AArch64", not "e_machine 183". */
static const char *machine_name(unsigned m)
{
	switch (m) {
	case EM_386: return "i386";
	case EM_ARM: return "ARM";
	case EM_AARCH64: return "AArch64";
	case EM_RISCV: return "RISC-V";
	case EM_PPC: return "PowerPC";
	case EM_PPC64: return "PowerPC64";
	case EM_S390: return "S/390";
	case EM_MIPS: return "MIPS";
	case EM_SPARCV9: return "SPARC V9";
	case EM_IA_64: return "IA-64";
	case EM_LOONGARCH: return "LoongArch";
	case EM_BPF: return "BPF";
	default: return NULL;
	}
}

/* clang -flto writes LLVM bitcode, not ELF: its magic is "BC" 0xC0DE, or
 * 0x0B17C0DE (little-endian) for the wrapper some platforms put around it. */
static bool is_llvm_bitcode(const uint8_t *d, size_t n)
{
	static const uint8_t bc[4] = { 'B', 'C', 0xc0, 0xde }, wrapper[4] = { 0xde, 0xc0, 0x17, 0x0b };

	return n >= 4 && (!memcmp(d, bc, 4) || !memcmp(d, wrapper, 4));
}

/* Identify the file from its raw header before handing it to libelf, so
 * that the message says exactly what the file is. */
static int check_ident(const char *name, const uint8_t *d, size_t n, struct hp_err *err)
{
	uint16_t type, machine;

	if (n < 4 || memcmp(d, ELFMAG, SELFMAG) != 0) {
		if (n >= 8 && !memcmp(d, "!<arch>\n", 8))
			return hp_err_set(err, "%s: is an archive; give an object file (.o), or use hpbuild, which takes archives", name);
		if (is_llvm_bitcode(d, n))
			return hp_err_set(err, "%s: LLVM bitcode (clang -flto), not machine code; build the objects to compare without -flto", name);
		return hp_err_set(err, "%s: not an ELF file (bad magic); give a relocatable object built with -c", name);
	}
	if (n < sizeof(Elf64_Ehdr))
		return hp_err_set(err, "%s: truncated ELF file (%zu bytes, shorter than an ELF header)", name, n);
	if (d[EI_CLASS] != ELFCLASS64)
		return hp_err_set(err, "%s: 32-bit ELF object; only x86-64 (ELF64) objects are supported", name);
	if (d[EI_DATA] != ELFDATA2LSB)
		return hp_err_set(err, "%s: big-endian ELF object; only x86-64 objects are supported", name);
	type = (uint16_t)get_le(d + 16, 2);
	machine = (uint16_t)get_le(d + 18, 2);
	if (machine != EM_X86_64 && machine_name(machine))
		return hp_err_set(err, "%s: ELF object for %s (e_machine %u); only x86-64 is supported", name,
				  machine_name(machine), machine);
	if (machine != EM_X86_64)
		return hp_err_set(err, "%s: ELF object for another architecture (e_machine %u); only x86-64 is supported", name, machine);
	if (type != ET_REL)
		return hp_err_set(err, "%s: is %s; a relocatable object (.o, built with -c) is required", name, etype_name(type));
	return 0;
}

static int load_sections(struct hp_elf *e, struct hp_err *err)
{
	size_t shnum, shstrndx;

	if (elf_getshdrnum(e->elf, &shnum) < 0 || elf_getshdrstrndx(e->elf, &shstrndx) < 0)
		return hp_err_set(err, "%s: corrupt section header table: %s", e->path, elf_errmsg(-1));
	if (shnum == 0)
		return hp_err_set(err, "%s: no sections (empty or corrupt object)", e->path);
	e->nr_sections = shnum;
	e->sections = xcalloc(shnum, sizeof(*e->sections));
	for (size_t i = 0; i < shnum; i++) {
		struct hp_section *sec = &e->sections[i];
		Elf_Scn *scn = elf_getscn(e->elf, i);
		GElf_Shdr sh;

		if (!scn || !gelf_getshdr(scn, &sh))
			return hp_err_set(err, "%s: corrupt section header %zu: %s", e->path, i, elf_errmsg(-1));
		sec->index = i;
		sec->name = i ? elf_strptr(e->elf, shstrndx, sh.sh_name) : "";
		if (!sec->name)
			return hp_err_set(err, "%s: section %zu has a corrupt name (bad section string table)", e->path, i);
		sec->type = sh.sh_type;
		sec->flags = sh.sh_flags;
		sec->size = sh.sh_size;
		sec->addralign = sh.sh_addralign;
		sec->entsize = sh.sh_entsize;
		/* No object has a section of 2^40 bytes; NOBITS sizes are not bounded
		 * by the file, and symbol values up to them would let offset
		 * arithmetic (value + addend) overflow in later passes. */
		if (sh.sh_size >= (UINT64_C(1) << 40))
			return hp_err_set(err, "%s: section %s claims %llu bytes (corrupt object)",
					  e->path, sec->name, (unsigned long long)sh.sh_size);
		if (sh.sh_type != SHT_NOBITS && sh.sh_type != SHT_NULL && sh.sh_size) {
			Elf_Data *data;

			if (sh.sh_offset > e->image_size || sh.sh_size > e->image_size - sh.sh_offset)
				return hp_err_set(err, "%s: section %s extends past the end of the file (truncated or corrupt)", e->path, sec->name);
			data = elf_getdata(scn, NULL);
			if (!data || !data->d_buf || data->d_size != sh.sh_size)
				return hp_err_set(err, "%s: cannot read section %s: %s", e->path, sec->name, elf_errmsg(-1));
			sec->data = data->d_buf;
		}
	}
	return 0;
}

static struct hp_section *find_symtab(struct hp_elf *e, struct hp_err *err)
{
	struct hp_section *found = NULL;

	for_each_sec(e, sec) {
		if (sec->type != SHT_SYMTAB)
			continue;
		if (found) {
			hp_err_set(err, "%s: more than one symbol table (corrupt object)", e->path);
			return NULL;
		}
		found = sec;
	}
	if (!found)
		hp_err_set(err, "%s: no symbol table (stripped object?); give the compiler's .o as built", e->path);
	return found;
}

static Elf_Data *find_shndx_data(struct hp_elf *e, size_t symtab_index)
{
	for_each_sec(e, sec) {
		GElf_Shdr sh;
		Elf_Scn *scn;

		if (sec->type != SHT_SYMTAB_SHNDX)
			continue;
		scn = elf_getscn(e->elf, sec->index);
		if (scn && gelf_getshdr(scn, &sh) && sh.sh_link == symtab_index)
			return elf_getdata(scn, NULL);
	}
	return NULL;
}

static int load_symbols(struct hp_elf *e, struct hp_err *err)
{
	struct hp_section *symtab = find_symtab(e, err);
	Elf_Scn *scn;
	GElf_Shdr sh;
	Elf_Data *data, *shndx_data;
	size_t n;

	if (!symtab)
		return -1;
	scn = elf_getscn(e->elf, symtab->index);
	if (!scn || !gelf_getshdr(scn, &sh) || !(data = elf_getdata(scn, NULL)))
		return hp_err_set(err, "%s: cannot read the symbol table: %s", e->path, elf_errmsg(-1));
	if (sh.sh_entsize != sizeof(Elf64_Sym) || sh.sh_link >= e->nr_sections)
		return hp_err_set(err, "%s: corrupt symbol table header", e->path);
	n = data->d_size / sizeof(Elf64_Sym);
	shndx_data = find_shndx_data(e, symtab->index);
	e->nr_symbols = n;
	e->symbols = xcalloc(n ? n : 1, sizeof(*e->symbols));
	for (size_t i = 0; i < n; i++) {
		struct hp_symbol *s = &e->symbols[i];
		GElf_Sym sym;
		Elf32_Word xndx = 0;

		if (!gelf_getsymshndx(data, shndx_data, (int)i, &sym, &xndx))
			return hp_err_set(err, "%s: corrupt symbol %zu: %s", e->path, i, elf_errmsg(-1));
		s->index = i;
		s->name = elf_strptr(e->elf, sh.sh_link, sym.st_name);
		if (!s->name)
			return hp_err_set(err, "%s: symbol %zu has a corrupt name (bad string table)", e->path, i);
		s->type = GELF_ST_TYPE(sym.st_info);
		s->bind = GELF_ST_BIND(sym.st_info);
		s->visibility = GELF_ST_VISIBILITY(sym.st_other);
		s->shndx = sym.st_shndx == SHN_XINDEX ? xndx : sym.st_shndx;
		s->value = sym.st_value;
		s->size = sym.st_size;
		if (sym.st_shndx == SHN_XINDEX && !shndx_data)
			return hp_err_set(err, "%s: symbol %s uses SHN_XINDEX but there is no .symtab_shndx section", e->path, s->name);
		if (s->shndx == SHN_UNDEF || s->shndx == SHN_ABS || s->shndx == SHN_COMMON)
			continue;
		if (s->shndx >= e->nr_sections)
			return hp_err_set(err, "%s: symbol %s: section index %u out of range (corrupt symbol table)", e->path, s->name, s->shndx);
		s->sec = &e->sections[s->shndx];
		if (s->value > s->sec->size || s->size > s->sec->size - s->value)
			return hp_err_set(err, "%s: symbol %s extends past the end of section %s (corrupt symbol table)", e->path, s->name, s->sec->name);
		if (s->type == STT_SECTION && !s->sec->sym)
			s->sec->sym = s;
	}
	return 0;
}

static int cmp_reloc(const void *a, const void *b)
{
	const struct hp_reloc *x = a, *y = b;

	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	/* equal offsets (rare): order by type, then addend, so the result
	 * does not depend on the sort algorithm */
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	return (x->addend > y->addend) - (x->addend < y->addend);
}

static int load_relocs_of(struct hp_elf *e, struct hp_section *rsec, struct hp_err *err)
{
	Elf_Scn *scn = elf_getscn(e->elf, rsec->index);
	GElf_Shdr sh;
	Elf_Data *data;
	struct hp_section *target;
	uint64_t limit;
	size_t n, base;

	if (!scn || !gelf_getshdr(scn, &sh) || !(data = elf_getdata(scn, NULL)))
		return hp_err_set(err, "%s: cannot read relocation section %s: %s", e->path, rsec->name, elf_errmsg(-1));
	if (sh.sh_info == 0 || sh.sh_info >= e->nr_sections || sh.sh_entsize != sizeof(Elf64_Rela))
		return hp_err_set(err, "%s: corrupt relocation section %s header", e->path, rsec->name);
	target = &e->sections[sh.sh_info];
	limit = target->size;
	if ((target->flags & SHF_COMPRESSED) && target->data && target->size >= sizeof(Elf64_Chdr))
		limit = get_le(target->data + offsetof(Elf64_Chdr, ch_size), 8);  /* -gz debug sections */
	n = data->d_size / sizeof(Elf64_Rela);
	base = target->nr_relocs;
	target->relocs = xrealloc(target->relocs, (base + n) * sizeof(*target->relocs));
	for (size_t i = 0; i < n; i++) {
		struct hp_reloc *r = &target->relocs[base + i];
		const struct hp_reloc_info *ri;
		GElf_Rela rela;
		size_t symi;

		if (!gelf_getrela(data, (int)i, &rela))
			return hp_err_set(err, "%s: corrupt relocation %zu in %s", e->path, i, rsec->name);
		symi = GELF_R_SYM(rela.r_info);
		if (symi >= e->nr_symbols)
			return hp_err_set(err, "%s: relocation %zu in %s names symbol %zu, past the symbol table", e->path, i, rsec->name, symi);
		r->offset = rela.r_offset;
		r->type = GELF_R_TYPE(rela.r_info);
		r->addend = rela.r_addend;
		r->sym = symi ? &e->symbols[symi] : NULL;
		r->implied = false;
		ri = reloc_info(r->type);
		if (r->offset > limit || (ri && ri->width > limit - r->offset))
			return hp_err_set(err, "%s: relocation %zu in %s at offset 0x%llx is outside section %s", e->path, i, rsec->name, (unsigned long long)r->offset, target->name);
	}
	target->nr_relocs = base + n;
	return 0;
}

/* Assemblers write relocations in offset order: checking is linear,
 * sorting them again was 12 % of loading SQLite (glibc's merge sort
 * copies every element even when nothing moves).  Skipping it changes
 * nothing: the sort is stable, so a sorted array stays as it is. */
static bool relocs_sorted(const struct hp_section *sec)
{
	for (size_t i = 1; i < sec->nr_relocs; i++)
		if (cmp_reloc(&sec->relocs[i - 1], &sec->relocs[i]) > 0)
			return false;
	return true;
}

static int load_relocs(struct hp_elf *e, struct hp_err *err)
{
	for_each_sec(e, sec) {
		if (sec->type == SHT_REL)
			return hp_err_set(err, "%s: section %s uses REL relocations; x86-64 objects use RELA (corrupt or foreign object)", e->path, sec->name);
		if (sec->type == SHT_RELA && load_relocs_of(e, sec, err) < 0)
			return -1;
	}
	for_each_sec(e, sec)
		if (sec->nr_relocs > 1 && !relocs_sorted(sec))
			qsort(sec->relocs, sec->nr_relocs, sizeof(*sec->relocs), cmp_reloc);
	return 0;
}

/*
 * gcc -flto objects carry GIMPLE in .gnu.lto_* sections.  A slim one
 * (the default) has no machine code at all: its functions are compiled at
 * link time, so comparing it would find "no differences" and package
 * nothing; refused.  A fat one (-ffat-lto-objects) also has the code a
 * non-LTO link would use, which is what the model reads; e->lto_fat says
 * so, because a program linked with -flto runs the link stage's code
 * instead (the safety rules warn, HP013).
 */
static int check_lto(struct hp_elf *e, struct hp_err *err)
{
	bool lto = false, code = false;

	for_each_sec(e, sec) {
		if (!strncmp(sec->name, ".gnu.lto_", 9))
			lto = true;
		else if ((sec->flags & SHF_EXECINSTR) && sec->size)
			code = true;
	}
	if (!lto)
		return 0;
	if (!code || hmap_get(&e->sym_by_name, "__gnu_lto_slim"))
		return hp_err_set(err, "%s: gcc -flto object without machine code (slim LTO); build the objects to compare without -flto (or with -ffat-lto-objects)", e->path);
	e->lto_fat = true;
	return 0;
}

/* The first string of .comment, which names the compiler even without
 * DWARF ("GCC: (Debian 12.2.0-14) 12.2.0", "Debian clang version 14.0.6"). */
static void read_comment(struct hp_elf *e)
{
	const struct hp_section *sec = hmap_get(&e->sec_by_name, ".comment");

	if (!sec || !sec->data)
		return;
	for (size_t at = 0; at < sec->size;) {
		size_t len = strnlen((const char *)sec->data + at, (size_t)sec->size - at);
		if (len) {
			e->comment = xstrndup((const char *)sec->data + at, len);
			return;
		}
		at += len + 1;
	}
}

static int cmp_sym_by_value(const void *a, const void *b)
{
	const struct hp_symbol *x = *(struct hp_symbol *const *)a, *y = *(struct hp_symbol *const *)b;

	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	/* larger first: a containing object before a label at its start */
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return x->index < y->index ? -1 : 1;
}

static void index_section_symbols(struct hp_elf *e)
{
	for_each_sym(e, s)
		if (s->sec && s->type != STT_SECTION)
			s->sec->nr_syms++;
	for_each_sec(e, sec) {
		sec->syms = xcalloc(sec->nr_syms ? sec->nr_syms : 1, sizeof(*sec->syms));
		sec->nr_syms = 0;
	}
	for_each_sym(e, s)
		if (s->sec && s->type != STT_SECTION)
			s->sec->syms[s->sec->nr_syms++] = s;
	for_each_sec(e, sec)
		if (sec->nr_syms > 1)
			qsort(sec->syms, sec->nr_syms, sizeof(*sec->syms), cmp_sym_by_value);
}

/* First reloc of sec at or after offset. */
static size_t reloc_lower_bound(const struct hp_section *sec, uint64_t offset)
{
	size_t lo = 0, hi = sec->nr_relocs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sec->relocs[mid].offset < offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void slice_symbol_relocs(struct hp_elf *e)
{
	for_each_sym(e, s) {
		size_t lo, hi;

		if (!s->sec || !s->size || s->type == STT_SECTION)
			continue;
		lo = reloc_lower_bound(s->sec, s->value);
		hi = reloc_lower_bound(s->sec, s->value + s->size);
		s->relocs = s->sec->relocs ? s->sec->relocs + lo : NULL;
		s->nr_relocs = hi - lo;
	}
}

/*
 * Compiler-made names whose identity is their content, not their name:
 * gcc's .LC0 string labels and CSWTCH.N switch tables, clang's .L.str.N,
 * .LCPI constant-pool labels and reltable.N lookup tables, and the static
 * __func__ strings.  Their numbering shifts with unrelated edits, so a
 * reference to one is identified by what it holds.
 */
bool is_anonymous_name(const char *name)
{
	static const char *const prefixes[] = {
		".L", "CSWTCH.", "reltable.", "__func__.", "__FUNCTION__.", "__PRETTY_FUNCTION__.",
	};

	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

/* A function: code in a section (GNU ifunc resolvers are functions too). */
bool is_func_sym(const struct hp_symbol *s)
{
	return (s->type == STT_FUNC || s->type == STT_GNU_IFUNC) && s->sec;
}

/* A named data object the program can refer to: defined (or common) data
 * and TLS with a real name.  Anonymous pools are content, see above. */
bool is_object_sym(const struct hp_symbol *s)
{
	if (s->type != STT_OBJECT && s->type != STT_TLS)
		return false;
	if (!s->sec && s->shndx != SHN_COMMON)
		return false;
	return !is_anonymous_name(s->name);
}

bool is_local_sym(const struct hp_symbol *s)
{
	return s->bind == STB_LOCAL;
}

bool is_undef_sym(const struct hp_symbol *s)
{
	return s->shndx == SHN_UNDEF && s->index != 0;
}

/* Mergeable string sections (.rodata.str1.1, .rodata.f.str1.8): the
 * assembler and linker may move and share strings, so only text counts. */
bool is_string_sec(const struct hp_section *sec)
{
	return (sec->flags & SHF_MERGE) && (sec->flags & SHF_STRINGS);
}

/* Mergeable fixed-size constants (.rodata.cst8/16): same reasoning. */
bool is_const_pool_sec(const struct hp_section *sec)
{
	return (sec->flags & SHF_MERGE) && !(sec->flags & SHF_STRINGS) && sec->entsize;
}

bool is_text_sec(const struct hp_section *sec)
{
	return sec->type == SHT_PROGBITS && (sec->flags & SHF_EXECINSTR);
}

bool is_tls_sec(const struct hp_section *sec)
{
	return (sec->flags & SHF_TLS) != 0;
}

bool is_debug_sec(const struct hp_section *sec)
{
	return !strncmp(sec->name, ".debug_", 7) || !strncmp(sec->name, ".zdebug_", 8);
}

uint32_t section_align(const struct hp_section *sec)
{
	uint64_t a = sec ? sec->addralign : 1;

	return a > 4096 ? 4096 : (uint32_t)(a ? a : 1);
}

const char *section_kind(const struct hp_section *sec)
{
	if (!sec)
		return "common";
	if (is_tls_sec(sec))
		return sec->type == SHT_NOBITS ? "tls-bss" : "tls-data";
	if (is_text_sec(sec))
		return "text";
	if (sec->type == SHT_NOBITS && (sec->flags & SHF_ALLOC))
		return "bss";
	if ((sec->flags & SHF_ALLOC) && (sec->flags & SHF_WRITE))
		return "data";
	if (sec->flags & SHF_ALLOC)
		return "rodata";
	return "other";
}

const uint8_t *sym_data(const struct hp_symbol *s)
{
	if (!s->sec || !s->sec->data)
		return NULL;
	return s->sec->data + s->value;
}

static void classify_symbols(struct hp_elf *e)
{
	for_each_sym(e, s) {
		if (s->type == STT_FILE && !e->source_name && s->name[0])
			e->source_name = s->name;
		if (is_func_sym(s))
			s->kind = HP_SYM_FUNC;
		else if (s->sec && is_anonymous_name(s->name))
			s->kind = HP_SYM_ANON;
		else if (is_object_sym(s))
			s->kind = HP_SYM_OBJECT;
		else
			s->kind = HP_SYM_OTHER;
	}
}

/* Lookups return the first section or symbol of a name, so only the first
 * goes in: a hostile object with 100,000 symbols of one name must not make
 * every insert walk all the others. */
static void build_name_tables(struct hp_elf *e)
{
	for_each_sec(e, sec)
		if (sec->name[0] && !hmap_get(&e->sec_by_name, sec->name))
			hmap_put(&e->sec_by_name, sec->name, sec);
	for_each_sym(e, s)
		if (s->name[0] && s->type != STT_SECTION && s->type != STT_FILE &&
		    !hmap_get(&e->sym_by_name, s->name))
			hmap_put(&e->sym_by_name, s->name, s);
}

/* libelf wants its version set once before use; hpbuild loads objects
 * on several threads. */
static pthread_once_t libelf_once = PTHREAD_ONCE_INIT;

static void init_libelf(void)
{
	elf_version(EV_CURRENT);
}

/* sec's bytes lie in the file's image, not in a buffer libelf made (it
 * converts misaligned sections into copies): only those can be dropped
 * and read again from the file. */
static bool in_image(const struct hp_elf *e, const struct hp_section *sec)
{
	size_t off;

	if (!sec->data || sec->data < e->image)
		return false;
	off = (size_t)(sec->data - e->image);
	return off <= e->image_size && sec->size <= e->image_size - off;
}

struct byte_range {
	const uint8_t *start;
	size_t size;
};

static int cmp_range(const void *a, const void *b)
{
	const struct byte_range *x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

/* The model holds the relocations once load_relocs() is done, so their
 * sections can leave memory: 45 % of SQLite's -g object.  With
 * -ffunction-sections there is one small .rela section per function,
 * smaller than a page, written one after the other: they are dropped as
 * runs (gaps of alignment padding only), or no page would ever be whole. */
static void drop_relocation_pages(const struct hp_elf *e)
{
	struct byte_range *v;
	size_t n = 0;

	if (!e->image_mapped)
		return;
	v = xcalloc(e->nr_sections ? e->nr_sections : 1, sizeof(*v));
	for_each_sec(e, sec)
		if (sec->type == SHT_RELA && sec->size && in_image(e, sec))
			v[n++] = (struct byte_range){ sec->data, (size_t)sec->size };
	qsort(v, n, sizeof(*v), cmp_range);
	for (size_t i = 0; i < n;) {
		const uint8_t *start = v[i].start, *end = start + v[i].size;
		/* RELA sections are 8-aligned: a gap under 8 bytes is padding */
		for (i++; i < n && v[i].start >= end && v[i].start - end < 8; i++)
			end = v[i].start + v[i].size;
		drop_file_pages(start, (size_t)(end - start));
	}
	free(v);
}

/* libelf is only used while loading (sections, symbols, relocations);
 * its per-section state is about 200 bytes a section, 3.6 MB for a
 * 5,000-function -ffunction-sections object.  Names and section bytes
 * point into the image unless libelf converted a section into a copy of
 * its own (misaligned data): then it stays open until elf_close(). */
static void end_libelf(struct hp_elf *e)
{
	for_each_sec(e, sec)
		if (sec->data && !in_image(e, sec))
			return;
	elf_end(e->elf);
	e->elf = NULL;
}

/* Load from image, which e owns (owned) or borrows from the caller. */
static struct hp_elf *open_image(const char *name, uint8_t *image, size_t size, bool owned,
				 bool mapped, struct hp_err *err)
{
	struct hp_elf *e;

	if (check_ident(name, image, size, err) < 0) {
		if (owned)
			release_file(image, size, mapped);
		return NULL;
	}
	pthread_once(&libelf_once, init_libelf);
	e = xcalloc(1, sizeof(*e));
	e->path = xstrdup(name);
	e->image = image;
	e->image_size = size;
	e->image_borrowed = !owned;
	e->image_mapped = mapped;
	hmap_init(&e->sym_by_name);
	hmap_init(&e->sym_by_key);
	hmap_init(&e->sec_by_name);
	e->elf = elf_memory((char *)e->image, size);
	if (!e->elf || elf_kind(e->elf) != ELF_K_ELF) {
		hp_err_set(err, "%s: libelf cannot read it: %s", name, elf_errmsg(-1));
		goto fail;
	}
	e->e_type = ET_REL;
	e->e_machine = EM_X86_64;
	if (load_sections(e, err) < 0 || load_symbols(e, err) < 0 || load_relocs(e, err) < 0)
		goto fail;
	drop_relocation_pages(e);
	index_section_symbols(e);
	classify_symbols(e);
	if (add_implied_relocs(e, err) < 0)
		goto fail;
	slice_symbol_relocs(e);
	build_name_tables(e);
	read_comment(e);
	end_libelf(e);
	if (check_lto(e, err) < 0)
		goto fail;
	if (dwarf_load(e, err) < 0)
		goto fail;
	return e;
fail:
	elf_close(e);
	return NULL;
}

struct hp_elf *elf_open_mem(const char *name, const uint8_t *data, size_t size, struct hp_err *err)
{
	uint8_t *image = xmalloc(size + 1);

	memcpy(image, data, size);
	image[size] = 0;
	return open_image(name, image, size, true, false, err);
}

struct hp_elf *elf_open_borrowed(const char *name, const uint8_t *data, size_t size, bool mapped,
				 struct hp_err *err)
{
	/* libelf takes a char *, but only reads an image opened this way
	 * (elf_memory: read-only use, no in-place conversion on x86-64) */
	return open_image(name, (uint8_t *)data, size, false, mapped, err);
}

void elf_drop_section_pages(const struct hp_elf *e, const struct hp_section *sec)
{
	if (e->image_mapped && in_image(e, sec))
		drop_file_pages(sec->data, (size_t)sec->size);
}

/* The file is mapped, not read: one image of each object in memory, not
 * two, and the parts parsed into the model can leave it. */
struct hp_elf *elf_open(const char *path, struct hp_err *err)
{
	uint8_t *data;
	size_t size;

	if (map_file(path, &data, &size, err) < 0)
		return NULL;
	return open_image(path, data, size, true, true, err);
}

void elf_close(struct hp_elf *e)
{
	if (!e)
		return;
	if (e->dwarf)
		dwarf_free(e->dwarf);
	free(e->dwarf_problem);
	free(e->comment);
	for_each_sym(e, s)
		free(s->key);
	for_each_sec(e, sec) {
		free(sec->relocs);
		free(sec->syms);
		free(sec->anon_bounds);
	}
	free(e->symbols);
	free(e->sections);
	hmap_free(&e->sym_by_name);
	hmap_free(&e->sym_by_key);
	hmap_free(&e->sec_by_name);
	if (e->elf)
		elf_end(e->elf);
	if (!e->image_borrowed)
		release_file(e->image, e->image_size, e->image_mapped);
	free(e->path);
	free(e);
}

struct hp_symbol *find_symbol_by_name(const struct hp_elf *e, const char *name)
{
	return hmap_get(&e->sym_by_name, name);
}

struct hp_symbol *find_symbol_by_key(const struct hp_elf *e, const char *key)
{
	return hmap_get(&e->sym_by_key, key);
}

struct hp_section *find_section_by_name(const struct hp_elf *e, const char *name)
{
	return hmap_get(&e->sec_by_name, name);
}

/* Index of the last symbol of sec with value <= offset, or nr_syms. */
static size_t sym_upper(const struct hp_section *sec, uint64_t offset)
{
	size_t lo = 0, hi = sec->nr_syms;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sec->syms[mid]->value <= offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct hp_symbol *find_symbol_containing(const struct hp_section *sec, uint64_t offset)
{
	/* Named objects do not overlap: only the nearest named symbol that
	 * starts at or before offset can hold it. */
	for (size_t i = sym_upper(sec, offset); i-- > 0;) {
		struct hp_symbol *s = sec->syms[i];

		if (s->kind != HP_SYM_FUNC && s->kind != HP_SYM_OBJECT)
			continue;
		return offset < s->value + (s->size ? s->size : 1) ? s : NULL;
	}
	return NULL;
}

struct hp_symbol *find_symbol_at(const struct hp_section *sec, uint64_t offset)
{
	struct hp_symbol *anon = NULL;

	for (size_t i = sym_upper(sec, offset); i-- > 0 && sec->syms[i]->value == offset;) {
		struct hp_symbol *s = sec->syms[i];

		if (s->kind == HP_SYM_FUNC || s->kind == HP_SYM_OBJECT)
			return s;
		if (!anon)
			anon = s;
	}
	return anon;
}
