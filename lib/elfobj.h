/*
 * elfobj.h - the object model every tool works on.
 *
 * An x86-64 ELF relocatable object is loaded once, with libelf, into a
 * small model in the spirit of objtool's: sections, symbols and RELA
 * relocations, with a name hash table built at load time.  Later passes
 * (fingerprints, correlation, diff, package building, safety rules) use
 * only this model, never raw libelf calls.
 *
 * Correlation between the two builds of a translation unit is a field:
 * each symbol's 'twin' points at its counterpart in the other object.
 */
#ifndef HP_ELFOBJ_H
#define HP_ELFOBJ_H

#include <gelf.h>
#include <stdbool.h>
#include <stdint.h>

#include "util.h"

struct hp_symbol;
struct hp_dwarf;

/* Fields ordered for size (32 bytes, not 40): an object has hundreds of
 * thousands of relocations, most of them in DWARF. */
struct hp_reloc {
	uint64_t offset;        /* of the relocated field, inside its section */
	int64_t addend;
	struct hp_symbol *sym;  /* target; NULL for symbol index 0 */
	uint32_t type;          /* R_X86_64_* */
	/* Not in the file: a branch the assembler resolved itself between two
	 * functions of one section (no -ffunction-sections), made explicit
	 * by implied.c so layout shifts do not look like code changes. */
	bool implied;
};

struct hp_section {
	size_t index;
	const char *name;
	uint32_t type;           /* SHT_* */
	uint64_t flags;          /* SHF_* */
	uint64_t size, addralign, entsize;
	const uint8_t *data;     /* NULL for SHT_NOBITS; size bytes otherwise */
	struct hp_reloc *relocs; /* relocations applied to this section, by offset */
	size_t nr_relocs;
	struct hp_symbol *sym;   /* its STT_SECTION symbol, if any */
	struct hp_symbol **syms; /* symbols defined here, sorted by value */
	size_t nr_syms;
	struct hp_section *twin;
	/* offsets where anonymous regions may start (symbol starts and
	 * referenced positions), sorted; built by fingerprint_object() */
	uint64_t *anon_bounds;
	size_t nr_anon_bounds;
};

/* What a symbol is, for the diff: decided once by classify_symbol(). */
enum hp_sym_kind {
	HP_SYM_OTHER = 0,   /* file, section, undefined, absolute ... */
	HP_SYM_FUNC,        /* a function with code in a section */
	HP_SYM_OBJECT,      /* a named data object (global, static, static local) */
	HP_SYM_ANON,        /* compiler-made label/constant: identity is its content */
};

/* Where the diff places a symbol; filled by the diff engine (diff.c). */
enum hp_status {
	HP_UNCHANGED = 0,
	HP_CHANGED,
	HP_ADDED,
	HP_REMOVED,
};

/*
 * What the package does with a symbol (plan.c decides, plan.h explains).
 * On a NEW function: LEAVE (unchanged, not in the package), LINE_ONLY
 * (only __LINE__ moved, left out), REPLACE (in the package; its old twin
 * is redirected to it), ADD (in the package, entered only from packaged
 * code).  On an OLD function: LEAVE (keeps running), REPLACE (redirected
 * at its entry), SUPERSEDED (not redirected; reached only through code the
 * package replaces), GONE (removed static: nothing can call it).  On a
 * data object: KEEP (the running program's storage is used by its old
 * name) or COPY (new: copied into the package when packaged code uses it).
 */
enum hp_mark {
	HP_PLAN_NONE = 0,
	HP_PLAN_LEAVE,
	HP_PLAN_LINE_ONLY,
	HP_PLAN_REPLACE,
	HP_PLAN_ADD,
	HP_PLAN_SUPERSEDED,
	HP_PLAN_GONE,
	HP_PLAN_KEEP,
	HP_PLAN_COPY,
};

struct hp_symbol {
	size_t index;
	const char *name;
	uint8_t type, bind, visibility;  /* STT_*, STB_*, STV_* */
	uint32_t shndx;                  /* resolved through SHN_XINDEX */
	struct hp_section *sec;          /* NULL if undefined/absolute/common */
	uint64_t value, size;

	enum hp_sym_kind kind;
	/* Correlation key: the name with compiler-made numbering removed and,
	 * for gcc static locals, the owning function added ("count@parse").
	 * Set by correlate_prepare(); owned by the object. */
	char *key;
	struct hp_symbol *parent;        /* .cold/.part child -> its function */
	struct hp_symbol *twin;

	/* relocations inside [value, value + size) of sec: a slice of
	 * sec->relocs, not a copy */
	struct hp_reloc *relocs;
	size_t nr_relocs;

	/* Fingerprints (fingerprint.c): bytes with relocated fields masked,
	 * and the normalized relocation list. */
	uint64_t code_hash;
	uint64_t reloc_hash;
	bool fingerprinted;

	/* Source facts from DWARF (dwarf.c); NULL/0 when unknown. */
	const char *file;
	unsigned line;

	enum hp_status status;
	/* Set by the diff (diff.c): the only difference from the twin is
	 * __LINE__ values that moved (lineonly.h). */
	bool line_only;

	/* The plan (plan.c): what the package does with this symbol, decided
	 * once per pair and read by the builder, the rules and the check. */
	enum hp_mark plan;
	/* Aliases: another function symbol at the same address in the same
	 * section (plan.c); the first by index is the one the plan marks,
	 * the others point to it. */
	struct hp_symbol *alias_of;
};

struct hp_elf {
	char *path;
	uint8_t *image;          /* the file's bytes; libelf reads from here */
	size_t image_size;
	bool image_borrowed;     /* the caller's (elf_open_borrowed): not freed */
	bool image_mapped;       /* a file mapping: parsed pages may be dropped */
	/* libelf's handle, for loading only: NULL once elf_open*() returns,
	 * unless libelf holds converted copies of sections (misaligned
	 * data), which live until elf_close() */
	Elf *elf;
	uint16_t e_type, e_machine;

	struct hp_section *sections;
	size_t nr_sections;
	struct hp_symbol *symbols;
	size_t nr_symbols;
	struct hmap sym_by_name;   /* name -> symbol (several may share one) */
	struct hmap sym_by_key;    /* correlation key -> symbol */
	struct hmap sec_by_name;

	const char *source_name;   /* from the STT_FILE symbol, may be NULL */
	bool lto_fat;              /* gcc -flto -ffat-lto-objects: see check_lto() */
	char *comment;             /* first string of .comment (the compiler), or NULL */
	struct hp_dwarf *dwarf;    /* NULL when the object has no DWARF */
	char *dwarf_problem;       /* why DWARF facts are missing, or NULL */
};

/* Load path (must be an x86-64 ELF64 relocatable object). NULL + err on failure. */
struct hp_elf *elf_open(const char *path, struct hp_err *err);
/* Same, from memory (the buffer is copied). name is used in messages. */
struct hp_elf *elf_open_mem(const char *name, const uint8_t *data, size_t size,
			    struct hp_err *err);
/* Same, without the copy: data must stay alive and unchanged until
 * elf_close() (hpbuild keeps its inputs for the whole run); mapped when it
 * is a map_file() mapping, whose parsed pages may then be dropped. */
struct hp_elf *elf_open_borrowed(const char *name, const uint8_t *data, size_t size, bool mapped,
				 struct hp_err *err);
/* Drop sec's bytes from memory when the image is a file mapping: they
 * come back from the file if read again.  For sections whose contents
 * have been parsed into the model (relocations, served DWARF). */
void elf_drop_section_pages(const struct hp_elf *e, const struct hp_section *sec);
void elf_close(struct hp_elf *e);

struct hp_symbol *find_symbol_by_name(const struct hp_elf *e, const char *name);
struct hp_symbol *find_symbol_by_key(const struct hp_elf *e, const char *key);
struct hp_section *find_section_by_name(const struct hp_elf *e, const char *name);
/* The named (non-anonymous) symbol of sec whose extent holds offset. */
struct hp_symbol *find_symbol_containing(const struct hp_section *sec, uint64_t offset);
/* A symbol of sec that starts exactly at offset (named preferred). */
struct hp_symbol *find_symbol_at(const struct hp_section *sec, uint64_t offset);

#define for_each_sec(e, s) \
	for (struct hp_section *s = (e)->sections; s && s < (e)->sections + (e)->nr_sections; s++)
#define for_each_sym(e, s) \
	for (struct hp_symbol *s = (e)->symbols; s && s < (e)->symbols + (e)->nr_symbols; s++)
#define sym_for_each_reloc(sym, r) \
	for (struct hp_reloc *r = (sym)->relocs; r && r < (sym)->relocs + (sym)->nr_relocs; r++)
#define sec_for_each_reloc(sec, r) \
	for (struct hp_reloc *r = (sec)->relocs; r && r < (sec)->relocs + (sec)->nr_relocs; r++)

/* Predicates; see elfobj.c for the reason behind each. */
bool is_func_sym(const struct hp_symbol *s);
bool is_object_sym(const struct hp_symbol *s);
bool is_local_sym(const struct hp_symbol *s);
bool is_undef_sym(const struct hp_symbol *s);
bool is_anonymous_name(const char *name);
bool is_string_sec(const struct hp_section *sec);
bool is_const_pool_sec(const struct hp_section *sec);
bool is_text_sec(const struct hp_section *sec);
bool is_tls_sec(const struct hp_section *sec);
bool is_debug_sec(const struct hp_section *sec);
/* "text", "data", "bss", "rodata", "tls-data", "tls-bss", "other" */
const char *section_kind(const struct hp_section *sec);
/* sec's alignment as a package records it: at least 1, at most 4096 (a
 * page); 1 for no section.  The builder and the plan's content search
 * must agree on it. */
uint32_t section_align(const struct hp_section *sec);

/* The bytes of a symbol: NULL for zero-filled (NOBITS) storage. */
const uint8_t *sym_data(const struct hp_symbol *s);

#endif
