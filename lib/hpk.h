/*
 * hpk.h - the hotpatch package (.hpk): in-memory model, writer and reader.
 *
 * The on-disk format is specified in man/man5/hotpatch.5.  This header is
 * the contract between hpbuild (which fills a struct hpk and writes it),
 * hpverify (which reads, checks and lists it) and hpapply (which loads it
 * into a running process).
 *
 * Model: a package holds the code of replaced and new functions, the data
 * they need that the running program does not have, and a symbol table.
 * Every relocation targets a package symbol; a symbol is either defined in
 * the package (a function or a data object of the package) or a reference
 * to the running program (HPK_SYM_EXTERN), resolved when it is applied.
 * Local (static) references carry the source file that defines them so two
 * 'static int count' in two files stay apart.
 *
 * Ownership: a struct hpk owns everything it points to, and hpk_free()
 * frees it all, the struct included.  The rule is the same for a package
 * read from a file and for one built in memory:
 *  - the arrays units, syms, funcs, data and findings, each function's
 *    relocs and old_masks and each data object's relocs are allocated with
 *    xmalloc()/xcalloc() (or GROW) and freed by hpk_free();
 *  - every other allocation (strings, code and data bytes) is registered
 *    with hpk_own() and freed by hpk_free();
 *  - image, when set, is freed by hpk_free().
 * The reader allocates the arrays itself and points every string, code and
 * bytes field into image, its copy of the file (code and bytes are NULL
 * when their size is 0).  A builder allocates the arrays and registers its
 * strings and blobs with hpk_own().  Pointers to static or caller-owned
 * memory are fine in a package that is never given to hpk_free().
 */
#ifndef HP_HPK_H
#define HP_HPK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define HPK_FORMAT_MAJOR 1
#define HPK_FORMAT_MINOR 1
/* Format 1.2 adds the base module and the statics' fingerprints, both in
 * optional sections: a package that records neither is written as 1.1,
 * byte for byte what it was, and a 1.1 reader skips both sections. */
#define HPK_FORMAT_MINOR_BASE 2

/* What a package symbol is. */
enum hpk_sym_where {
	HPK_SYM_FUNC = 1,    /* defined by funcs[index] */
	HPK_SYM_DATA = 2,    /* defined by data[index] */
	HPK_SYM_EXTERN = 3,  /* in the running program (or a library it loads) */
};

struct hpk_symbol {
	const char *name;
	const char *file;      /* for STB_LOCAL externs: the defining source file; else NULL */
	uint8_t bind;          /* STB_LOCAL, STB_GLOBAL, STB_WEAK */
	uint8_t type;          /* STT_FUNC, STT_OBJECT, STT_TLS, STT_NOTYPE */
	uint8_t where;         /* enum hpk_sym_where */
	uint32_t index;        /* into funcs[] or data[] when defined here */
	uint32_t unit;         /* into units[] */
};

struct hpk_reloc {
	uint32_t offset;       /* inside the function's code or the data object */
	uint32_t type;         /* R_X86_64_* */
	int64_t addend;
	uint32_t sym;          /* into syms[] */
};

/* A byte range of the old function the linker rewrote (relocated fields and
 * relaxed opcodes): excluded from old_hash, skipped when comparing memory. */
struct hpk_range {
	uint32_t start, len;
};

enum hpk_func_kind {
	HPK_FUNC_REPLACE = 1,  /* redirect the running program's function to this code */
	HPK_FUNC_NEW = 2,      /* a new function, called only by package code */
};

struct hpk_func {
	const char *name;
	const char *file;       /* source file */
	uint32_t line;          /* source line, 0 if unknown */
	uint8_t kind;           /* enum hpk_func_kind */
	uint8_t bind;           /* STB_* of the function */
	uint32_t unit;
	uint32_t sym;           /* its own entry in syms[] */
	uint32_t align;
	const uint8_t *code;
	uint32_t code_size;
	struct hpk_reloc *relocs;
	uint32_t nr_relocs;
	/* HPK_FUNC_REPLACE only: what the function looks like in the running
	 * program.  old_hash is XXH3-64 of its old bytes with the masked
	 * ranges left out (hpk_masked_hash()). */
	uint32_t old_size;
	uint64_t old_hash;
	struct hpk_range *old_masks;
	uint32_t nr_old_masks;
};

enum hpk_data_kind {
	HPK_DATA_RODATA = 1,   /* read-only: string literals, constants, jump tables */
	HPK_DATA_DATA = 2,     /* initialized, writable */
	HPK_DATA_BSS = 3,      /* zero-filled, writable (no bytes stored) */
};

struct hpk_data {
	const char *name;       /* object name, or a generated ".str.N"-style name */
	const char *file;
	uint32_t line;
	uint8_t kind;           /* enum hpk_data_kind */
	uint8_t bind;
	uint32_t unit;
	uint32_t sym;
	uint32_t align;
	uint32_t size;
	const uint8_t *bytes;   /* size bytes; NULL for HPK_DATA_BSS */
	struct hpk_reloc *relocs;
	uint32_t nr_relocs;
};

/* One object pair the package was built from. */
struct hpk_unit {
	const char *name;          /* relative path of NEW (or archive member) */
	const char *old_input;     /* relative to the tree given (inputs.h "recorded") */
	const char *new_input;
	const char *source;        /* primary source file (DW_AT_name), or NULL */
	const char *old_producer;  /* DWARF producer strings, or NULL */
	const char *new_producer;
};

/* How a static of the running module the package refers to can be found
 * where the module has no symbol table (hpbuild --base records them). */
enum hpk_static_kind {
	HPK_STATIC_FUNC = 1,     /* code: by its fingerprint at a function start */
	HPK_STATIC_RODATA = 2,   /* read-only data: by its fingerprint */
	HPK_STATIC_DATA = 3,     /* writable data: cannot be found by content (no fingerprint) */
};

/*
 * The old object's copy of a static the package refers to (or of a hidden
 * global, which a stripped module does not export either): its size and
 * a fingerprint of its bytes with the fields the linker rewrote masked
 * (hpk_masked_hash(), as old_hash), so that hpapply can find it by content
 * in a module without a symbol table.  Format 1.2, optional.
 */
struct hpk_static {
	uint32_t sym;           /* into syms[]: an EXTERN symbol (a static, or a hidden global) */
	uint8_t kind;           /* enum hpk_static_kind */
	uint32_t align;         /* of its section in the old object */
	uint32_t size;
	uint64_t hash;          /* 0 for HPK_STATIC_DATA */
	struct hpk_range *masks;
	uint32_t nr_masks;
};

enum hpk_severity { HPK_SEV_NOTE = 1, HPK_SEV_WARNING = 2, HPK_SEV_ERROR = 3 };

/* A safety finding recorded in the package (hpbuild --allow overrides and
 * the warnings/notes of the build). */
struct hpk_finding {
	const char *rule;       /* "HP001" */
	uint8_t severity;       /* enum hpk_severity */
	bool overridden;        /* allowed with --allow=RULE */
	const char *symbol;
	const char *file;
	uint32_t line;
	const char *message;
};

/* Another name of packaged function 'func' (format 1.2). */
struct hpk_alias {
	uint32_t func;
	const char *name;
};

struct hpk {
	uint16_t major, minor;
	uint16_t arch;              /* EM_X86_64 */
	uint8_t id[16];             /* content-derived package id */
	/* BLAKE2b-256 of the content (format 1.1); id is its first half.
	 * has_digest is false for a format 1.0 package, whose id is an XXH3
	 * checksum anyone can recompute: it names the content but does not
	 * pin it (hpapply --expect-id refuses such a package). */
	uint8_t digest[32];
	bool has_digest;
	const char *tool_version;   /* "hpbuild 0.1.0" */
	const char *created;        /* from SOURCE_DATE_EPOCH, or NULL */
	struct hpk_unit *units;     uint32_t nr_units;
	struct hpk_symbol *syms;    uint32_t nr_syms;
	struct hpk_func *funcs;     uint32_t nr_funcs;
	struct hpk_data *data;      uint32_t nr_data;
	struct hpk_finding *findings; uint32_t nr_findings;
	/* Format 1.2 (hpbuild --base): the module the package was built for,
	 * its soname (or file name) and GNU build-id in lowercase hex; NULL
	 * when not recorded.  The statics' fingerprints come with them. */
	const char *base_name;
	const char *base_build_id;
	struct hpk_static *statics; uint32_t nr_statics;
	/* Format 1.2: the other names of packaged functions (symbols at the
	 * same address, like sys_x and SyS_x), sorted by function then name.
	 * The function is redirected once; every name is recorded. */
	struct hpk_alias *aliases;  uint32_t nr_aliases;

	/* reader bookkeeping: the file image everything points into */
	uint8_t *image;
	size_t image_size;
	/* writer bookkeeping: allocations to free with the package */
	void **owned;
	size_t nr_owned, cap_owned;
};

/*
 * Serialize p (computing its id and checksums) into a new buffer the
 * caller frees.  Writes format HPK_FORMAT_MAJOR.HPK_FORMAT_MINOR for
 * x86-64 (arch 0 means EM_X86_64; any other is refused), and records
 * that in p: id, digest, major, minor and arch are set to what was written; nothing
 * else in p changes.  Masks are written sorted and merged.  The
 * model is checked first with the reader's rules, so a package the reader
 * would refuse is never written: -1 and err says what is wrong.
 * The output depends only on the contents of p.
 */
int hpk_write_mem(struct hpk *p, uint8_t **out, size_t *out_size, struct hp_err *err);
/* Serialize and write atomically (temporary file, then rename). */
int hpk_write_file(struct hpk *p, const char *path, struct hp_err *err);

/*
 * Read and check a package: magic, version, architecture, checksums, then
 * every offset, size, count, index and string reference, before trusting
 * any of it.  name is used in the error line ("PATH: checksum mismatch ...").
 */
struct hpk *hpk_read_mem(const char *name, const uint8_t *data, size_t size, struct hp_err *err);
struct hpk *hpk_read_file(const char *path, struct hp_err *err);
void hpk_free(struct hpk *p);

/* The package id as 32 lowercase hex digits (buf: 33 bytes); the same
 * for an id kept elsewhere (hpapply's in-process record). */
void hpk_id_hex(const struct hpk *p, char *buf);
void hpk_id_to_hex(const uint8_t id[16], char *buf);
/* The digest as 64 lowercase hex digits (buf: 65 bytes); "" without one. */
void hpk_digest_hex(const struct hpk *p, char *buf);

/*
 * Does the package have the id or digest given in hex (hpapply
 * --expect-id)?  want: 32 hex digits (the id) or 64 (the whole digest),
 * either case.  0 when it matches; -1 and err says why not, including
 * "a format 1.0 package has no cryptographic id".  name is the package's
 * path for the message.
 */
int hpk_expect_id(const struct hpk *p, const char *name, const char *want, struct hp_err *err);

/* XXH3-64 of size bytes with the ranges left out: the old-function
 * fingerprint stored in HPK_FUNC_REPLACE entries and checked by
 * hpverify --base and by hpapply against memory.  Defined in hotpatch(5):
 * the size as a little-endian u32, then the kept bytes in order.  Masks
 * may be unsorted or overlap (their union counts) and are clipped to size. */
uint64_t hpk_masked_hash(const uint8_t *bytes, uint32_t size,
			 const struct hpk_range *masks, uint32_t nr_masks);

/* Remember a heap allocation the package owns (writer side). */
void *hpk_own(struct hpk *p, void *allocation);

#endif
