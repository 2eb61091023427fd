/*
 * module.h - the ELF files mapped in a process (the executable and its
 * shared libraries) and their symbol tables.
 *
 * A module's symbols come from its .symtab when it has one (every function,
 * static and static local, each local tagged with the source file of its
 * translation unit: in a linked file, the locals of one unit follow the
 * STT_FILE symbol naming its source) and from its .dynsym (what it exports,
 * with symbol versions).  --symbols supplies an unstripped copy or a debug
 * file for a module whose own file has no .symtab; without one, the debug
 * file of its build-id in the debug directory is used, where the
 * distributions install them: DIR/.build-id/XX/YYYY.debug.
 *
 * Files are read through /proc/PID/map_files, which is the file the process
 * really mapped even when the path now names another file (an upgrade) or
 * nothing (deleted); the path is the fallback when map_files is not
 * readable, after checking device and inode.
 */
#ifndef HP_MODULE_H
#define HP_MODULE_H

#include <libelf.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "modfile.h"
#include "procmaps.h"
#include "util.h"

struct modsym {
	const char *name;       /* without any @VERSION suffix */
	const char *file;       /* locals: source file of their unit ("" if none) */
	uint64_t value, size;   /* as linked (add the module's bias) */
	uint8_t type, bind, visibility;
	bool dynamic;           /* from .dynsym (exported or imported) */
	bool defined;           /* not SHN_UNDEF */
	bool absolute;          /* SHN_ABS: the value is not biased */
	bool default_version;   /* not a hidden (non-default) symbol version */
};

struct module {
	char *path;              /* as /proc/PID/maps names it */
	uint64_t map_start, map_end;   /* the mapping at file offset 0 */
	uint64_t lowest, highest;      /* all mappings of the file */
	unsigned dev_major, dev_minor;
	uint64_t inode;
	bool deleted;
	bool is_exe;

	/* filled by module_load() */
	bool loaded;
	char *load_error;        /* why it could not be loaded (kept, reported once) */
	uint64_t bias;           /* runtime address = bias + st_value */
	uint64_t lo, hi;         /* PT_LOAD extent in the process */
	uint64_t exec_end;       /* end of its last executable segment (0: none) */
	bool has_symtab;         /* its own file or a --symbols file had .symtab */
	const char *symbols_from;/* the --symbols or debug file used, or NULL */
	char *debug_file;        /* the debug directory's file used (owned), or NULL */
	struct modsym *syms;
	size_t nr_syms;
	struct hmap by_name;
	bool has_tls;
	uint64_t tls_size, tls_align, tls_vaddr;   /* PT_TLS */
	/* without .symtab: the view that finds static functions by content
	 * (module_function_by_content), built once; the symbols made for
	 * what it found */
	struct modfile *content;
	struct modsym **found;
	size_t nr_found;
	/* resources kept for the names */
	int fd, sym_fd;
	Elf *elf, *sym_elf;
	char **owned;
	size_t nr_owned, cap_owned;
};

struct module_set {
	pid_t pid;
	struct module *v;
	size_t n;
	const char *const *symbol_files;   /* --symbols FILE..., not owned */
	size_t nr_symbol_files;
	const char *debug_dir;             /* --debug-dir (default /usr/lib/debug), or NULL */
};

/* List the mapped ELF files (nothing is read yet). */
int modules_scan(pid_t pid, const struct proc_maps *m, struct module_set *set, struct hp_err *err);
void modules_free(struct module_set *set);
/* Read a module's program headers and symbols (once). */
int module_load(struct module_set *set, struct module *mod, struct hp_err *err);
/*
 * Executable memory nothing runs: the rest of the page after the module's
 * last executable segment (mapped with it, as mmap maps whole pages; no
 * symbol, no code the program could jump to).  True, with a 16-byte
 * aligned *addr, if len bytes fit (the module must be loaded).
 */
bool module_exec_slack(const struct module *mod, const struct proc_maps *m, uint64_t len, uint64_t *addr);
/* The same in any module: one loaded already, else the executable, else
 * any other (loaded now). */
bool modules_exec_slack(struct module_set *set, const struct proc_maps *m, uint64_t len, uint64_t *addr);
/* The module holding address addr, or NULL. */
struct module *module_at(struct module_set *set, uint64_t addr);
/* The main executable, or NULL. */
struct module *module_exe(struct module_set *set);

/* Runtime address of a defined symbol. */
uint64_t modsym_addr(const struct module *mod, const struct modsym *s);
/* The offset from the thread pointer (%fs) of an STT_TLS symbol of the
 * main executable, whose TLS block is the first of the static TLS, right
 * below the thread pointer (as ld computes local-exec offsets). */
int64_t modsym_tpoff(const struct module *exe, const struct modsym *s);

/*
 * Defined symbols called name: if local, the STB_LOCAL ones of source file
 * 'file' (any file when file is NULL); else the global and weak ones.
 * Fills out[] up to max and returns how many there are.
 */
/* A replaced static function f of a module without a symbol table, found
 * by its old content (modfile_find_function()): the symbol made for it
 * when exactly one place matches, else NULL ('*matches' says how many
 * did; 0 also when the module cannot be read).  The symbol lives as long
 * as the module. */
const struct modsym *module_function_by_content(struct module *mod, const struct hpk_func *f, size_t *matches);
size_t module_lookup(const struct module *mod, const char *name, bool local, const char *file,
		     const struct modsym **out, size_t max);
/* What the module exports under name (.dynsym, default version, global
 * before weak), or NULL. */
const struct modsym *module_export(const struct module *mod, const char *name);
/* True if another symbol of the module starts in (addr, addr + len): then
 * bytes there belong to it and may not be overwritten. */
bool module_symbol_starts_within(const struct module *mod, uint64_t value, uint64_t len);

#endif
