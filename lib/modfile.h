/*
 * modfile.h - a linked module (an executable or a shared library) as a
 * file: its GNU build-id and soname, its symbols by name, and the statics a
 * package refers to found by content when it has no symbol table.
 *
 * hpbuild --base and hpverify --base check a package against the module
 * with these functions, and hpapply finds statics in a stripped module with
 * the same ones, so that what the builder accepts is what the applier will
 * find.  A distribution's library is stripped: only its exports have
 * names.  A static the package refers to is then found by the fingerprint
 * hpbuild --base stored (struct hpk_static): functions at the starts of
 * the .eh_frame FDEs whose range is the function's size, read-only data at
 * each aligned address of the read-only sections; exported symbols'
 * addresses are never a static's.  One match is the static; none or more
 * than one is a refusal, never a guess.
 */
#ifndef HP_MODFILE_H
#define HP_MODFILE_H

#include <libelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hpk.h"
#include "util.h"

#define MODFILE_BUILD_ID_MAX 64

struct modfile_sym {
	const char *name;       /* without @VERSION */
	const char *file;       /* locals: source file of their unit ("" if none) */
	uint64_t value, size;
	uint8_t type, bind, visibility;
};

struct modfile_range {
	uint64_t addr, size;
	const uint8_t *data;
	bool exec;
};

struct modfile {
	const char *path;
	int fd;                       /* -1 when the Elf is the caller's */
	Elf *elf;
	bool own_elf;
	uint8_t build_id[MODFILE_BUILD_ID_MAX];
	size_t build_id_len;
	char build_id_hex[2 * MODFILE_BUILD_ID_MAX + 1];
	const char *soname;           /* DT_SONAME, or NULL */
	bool has_symtab;
	struct modfile_sym *syms;     /* .symtab's, or .dynsym's defined ones without it */
	size_t nr_syms;
	uint64_t *exports;            /* sorted addresses of defined .dynsym symbols */
	size_t nr_exports;
	struct modfile_range *ranges; /* allocated sections with contents: code, read-only data */
	size_t nr_ranges;
	uint64_t *fde_start, *fde_end;/* .eh_frame_hdr's table, sorted; end 0 when unknown */
	size_t nr_fdes;
	char **owned;
	size_t nr_owned;
};

/* Open path: an x86-64 ELF executable or shared library.  -1 and err
 * ("PATH: not a linked module ...") otherwise. */
int modfile_open(const char *path, struct modfile *mf, struct hp_err *err);
/* The same on an Elf the caller keeps open (hpapply's mapped file). */
int modfile_from_elf(Elf *e, const char *path, struct modfile *mf, struct hp_err *err);
void modfile_close(struct modfile *mf);

/* The name recorded for the module: its soname, else its file name. */
const char *modfile_name(const struct modfile *mf);

/* The build-id note's bytes of e (0 when it has none). */
size_t elf_build_id(Elf *e, uint8_t *out, size_t max);

/* The DT_SONAME of e, or NULL. */
const char *elf_soname(Elf *e);

/* Same source file: equal, or equal file names when one side has no
 * directory (a unit compiled as "src/x.c" and named "x.c" elsewhere). */
bool same_source_file(const char *a, const char *b);

/*
 * Defined symbols called name: local ones of source file 'file' when
 * local (only with a symbol table), else global and weak ones (from
 * .dynsym when there is no symbol table).  Up to max in out; returns how
 * many there are.
 */
size_t modfile_lookup(const struct modfile *mf, const char *name, bool local, const char *file,
		      const struct modfile_sym **out, size_t max);

/* The file's bytes at link-time address addr, size bytes, or NULL. */
const uint8_t *modfile_bytes(const struct modfile *mf, uint64_t addr, uint64_t size);

/*
 * Where the static fingerprinted by st is, by content: fills addr[] (up
 * to max) with link-time addresses whose bytes match, returns how many
 * match.  0 for a writable static (HPK_STATIC_DATA), which has no
 * fingerprint: its initial contents are no identity.
 */
size_t modfile_find_static(const struct modfile *mf, const struct hpk_static *st, uint64_t *addr, size_t max);

/* Where the old code of replaced function f is, by content (a static
 * function of a module without a symbol table): a function start of the
 * module whose bytes have f's old size and masked fingerprint.  As
 * modfile_find_static(). */
size_t modfile_find_function(const struct modfile *mf, const struct hpk_func *f, uint64_t *addr, size_t max);

/* The package's fingerprint of the static symbol sym, or NULL. */
const struct hpk_static *hpk_static_of(const struct hpk *p, uint32_t sym);

/* "libz.so.1 (build-id 3f0c...)" -> DIR/.build-id/3f/0c....debug, malloc'd;
 * NULL when the module has no build-id. */
char *modfile_debug_path(const char *dir, const uint8_t *id, size_t n);

/*
 * The check of hpbuild --base and hpverify --base against a linked
 * module: every replaced function is found by name as hpapply finds it
 * (.symtab, else the exports) with the size and fingerprint the package
 * expects, and every static the package refers to is found once, by name
 * with a symbol table or by content without one.  Appends one finding
 * line per problem to out ("MODULE: static 'x' (a.c): ...; what to do")
 * and returns their number.
 */
size_t modfile_check_package(const struct modfile *mf, const struct hpk *p, struct strbuf *out);

/* Record mf in p as its base: name and build-id (hex); -1 and err when
 * the module has no build-id. */
int modfile_record_base(const struct modfile *mf, struct hpk *p, struct hp_err *err);

#endif
