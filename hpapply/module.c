/*
 * module.c - mapped ELF files and their symbols (module.h).
 *
 * Load bias: the mapping at file offset 0 holds the first PT_LOAD segment
 * (its p_offset is 0 in every file ld, gold, lld or mold write), so
 * bias = that mapping's start - the segment's page-aligned p_vaddr.
 * Executables linked at a fixed address get bias 0 this way too.
 */
#include "module.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#ifndef STT_GNU_IFUNC
#define STT_GNU_IFUNC 10
#endif

/* Files that are mapped but are not ELF modules worth looking at. */
static bool is_module_path(const char *path)
{
	return path && path[0] == '/' && strncmp(path, "/memfd:", 7) && strncmp(path, "/dev/", 5) &&
	       strncmp(path, "/SYSV", 5);
}

static struct module *find_group(struct module_set *set, const struct mapping *mp)
{
	for (size_t i = 0; i < set->n; i++) {
		struct module *mod = &set->v[i];

		if (mod->inode == mp->inode && mod->dev_major == mp->dev_major &&
		    mod->dev_minor == mp->dev_minor && !strcmp(mod->path, mp->path))
			return mod;
	}
	return NULL;
}

static char *exe_path(pid_t pid)
{
	char name[64], buf[4096];
	ssize_t n;

	snprintf(name, sizeof(name), "/proc/%d/exe", (int)pid);
	n = readlink(name, buf, sizeof(buf) - 1);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	if (n > 10 && !strcmp(buf + n - 10, " (deleted)"))
		buf[n - 10] = '\0';
	return xstrdup(buf);
}

int modules_scan(pid_t pid, const struct proc_maps *m, struct module_set *set, struct hp_err *err)
{
	size_t cap = 0;
	char *exe = exe_path(pid);

	memset(set, 0, sizeof(*set));
	set->pid = pid;
	elf_version(EV_CURRENT);
	for (size_t i = 0; i < m->n; i++) {
		const struct mapping *mp = &m->v[i];
		struct module *mod;

		if (!is_module_path(mp->path) || mp->inode == 0)
			continue;
		mod = find_group(set, mp);
		if (!mod) {
			GROW(set->v, cap, set->n + 1);
			mod = &set->v[set->n++];
			memset(mod, 0, sizeof(*mod));
			mod->path = xstrdup(mp->path);
			mod->dev_major = mp->dev_major;
			mod->dev_minor = mp->dev_minor;
			mod->inode = mp->inode;
			mod->deleted = mp->deleted;
			mod->lowest = mp->start;
			mod->is_exe = exe && !strcmp(exe, mp->path);
			mod->fd = mod->sym_fd = -1;
			hmap_init(&mod->by_name);
		}
		if (mp->offset == 0 && !mod->map_start) {
			mod->map_start = mp->start;
			mod->map_end = mp->end;
		}
		if (mp->end > mod->highest)
			mod->highest = mp->end;
	}
	free(exe);
	if (set->n == 0)
		return hp_err_set(err, "process %d: no file is mapped (not a normal process?)", (int)pid);
	return 0;
}

static void module_unload(struct module *mod)
{
	if (mod->content) {
		modfile_close(mod->content);
		free(mod->content);
		mod->content = NULL;
	}
	for (size_t i = 0; i < mod->nr_found; i++)
		free(mod->found[i]);
	free(mod->found);
	mod->found = NULL;
	mod->nr_found = 0;
	if (mod->sym_elf)
		elf_end(mod->sym_elf);
	if (mod->elf)
		elf_end(mod->elf);
	if (mod->sym_fd >= 0)
		close(mod->sym_fd);
	if (mod->fd >= 0)
		close(mod->fd);
	for (size_t i = 0; i < mod->nr_owned; i++)
		free(mod->owned[i]);
	free(mod->owned);
	free(mod->syms);
	hmap_free(&mod->by_name);
}

void modules_free(struct module_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		module_unload(&set->v[i]);
		free(set->v[i].path);
		free(set->v[i].load_error);
		free(set->v[i].debug_file);
	}
	free(set->v);
	memset(set, 0, sizeof(*set));
}

/* The file the process mapped: map_files first, then the path (same
 * device and inode, or it is not the same file). */
static int open_mapped_file(pid_t pid, const struct module *mod, struct hp_err *err)
{
	char name[128], *rooted;
	struct stat st;
	int fd;

	snprintf(name, sizeof(name), "/proc/%d/map_files/%llx-%llx", (int)pid,
		 (unsigned long long)mod->map_start, (unsigned long long)mod->map_end);
	fd = open(name, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	rooted = xasprintf("/proc/%d/root%s", (int)pid, mod->path);
	fd = open(rooted, O_RDONLY | O_CLOEXEC);
	free(rooted);
	if (fd < 0)
		fd = open(mod->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return hp_err_set(err, "%s: cannot open the file process %d mapped: %s%s", mod->path, (int)pid,
				  strerror(errno), mod->deleted ? " (deleted since it was mapped)" : "");
	if (fstat(fd, &st) < 0 || st.st_ino != mod->inode ||
	    major(st.st_dev) != mod->dev_major || minor(st.st_dev) != mod->dev_minor) {
		close(fd);
		return hp_err_set(err, "%s: the file was replaced since process %d mapped it; "
				  "hpapply needs the mapped file (run as root for /proc/PID/map_files)",
				  mod->path, (int)pid);
	}
	return fd;
}

static int read_phdrs(struct module *mod, Elf *e, struct hp_err *err)
{
	size_t n;
	bool first = true;
	uint64_t lo = 0, hi = 0, first_vaddr = 0, exec_end = 0;

	if (elf_getphdrnum(e, &n) < 0)
		return hp_err_set(err, "%s: no program headers: %s", mod->path, elf_errmsg(-1));
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, (int)i, &ph))
			continue;
		if (ph.p_type == PT_TLS) {
			mod->has_tls = true;
			mod->tls_size = ph.p_memsz;
			mod->tls_align = ph.p_align ? ph.p_align : 1;
			mod->tls_vaddr = ph.p_vaddr;
		}
		if (ph.p_type != PT_LOAD)
			continue;
		if (first) {
			first_vaddr = ph.p_vaddr & ~0xfffULL;
			lo = ph.p_vaddr;
			first = false;
		}
		if (ph.p_vaddr < lo)
			lo = ph.p_vaddr;
		if (ph.p_vaddr + ph.p_memsz > hi)
			hi = ph.p_vaddr + ph.p_memsz;
		if ((ph.p_flags & PF_X) && ph.p_vaddr + ph.p_memsz > exec_end)
			exec_end = ph.p_vaddr + ph.p_memsz;
	}
	if (first)
		return hp_err_set(err, "%s: no PT_LOAD segment", mod->path);
	if (!mod->map_start)
		return hp_err_set(err, "%s: its first page is not mapped in process; cannot find its load address",
				  mod->path);
	mod->bias = mod->map_start - first_vaddr;
	mod->lo = mod->bias + (lo & ~0xfffULL);
	mod->hi = mod->bias + hi;
	mod->exec_end = exec_end ? mod->bias + exec_end : 0;
	return 0;
}

static const char *own_name(struct module *mod, const char *name)
{
	const char *at = strchr(name, '@');
	char *copy;

	if (!at)
		return name;
	copy = xstrndup(name, (size_t)(at - name));
	GROW(mod->owned, mod->cap_owned, mod->nr_owned + 1);
	mod->owned[mod->nr_owned++] = copy;
	return copy;
}

static Elf_Data *versym_data(Elf *e)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(e, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_GNU_versym)
			return elf_getdata(scn, NULL);
	return NULL;
}

static void add_symbols(struct module *mod, Elf *e, Elf_Scn *scn, const GElf_Shdr *sh, bool dynamic,
			size_t *cap)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	Elf_Data *vs = dynamic ? versym_data(e) : NULL;
	size_t n = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;
	const char *file = "";

	if (!d)
		return;
	for (size_t i = 1; i < n; i++) {
		GElf_Sym s;
		const char *name;
		struct modsym *ms;

		if (!gelf_getsym(d, (int)i, &s) || !(name = elf_strptr(e, sh->sh_link, s.st_name)))
			continue;
		if (GELF_ST_TYPE(s.st_info) == STT_FILE) {
			file = name;
			continue;
		}
		if (!name[0] || GELF_ST_TYPE(s.st_info) == STT_SECTION)
			continue;
		GROW(mod->syms, *cap, mod->nr_syms + 1);
		ms = &mod->syms[mod->nr_syms++];
		memset(ms, 0, sizeof(*ms));
		ms->name = own_name(mod, name);
		ms->bind = GELF_ST_BIND(s.st_info);
		ms->type = GELF_ST_TYPE(s.st_info);
		ms->visibility = GELF_ST_VISIBILITY(s.st_other);
		ms->file = ms->bind == STB_LOCAL ? file : NULL;
		ms->value = s.st_value;
		ms->size = s.st_size;
		ms->dynamic = dynamic;
		ms->defined = s.st_shndx != SHN_UNDEF;
		ms->absolute = s.st_shndx == SHN_ABS;
		ms->default_version = true;
		if (vs && (i + 1) * 2 <= vs->d_size)
			ms->default_version = !(((const uint16_t *)vs->d_buf)[i] & 0x8000);
	}
}

static void read_symbols(struct module *mod, Elf *e, bool want_symtab, bool want_dynsym, size_t *cap)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(e, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB && want_symtab) {
			mod->has_symtab = true;
			add_symbols(mod, e, scn, &sh, false, cap);
		} else if (sh.sh_type == SHT_DYNSYM && want_dynsym) {
			add_symbols(mod, e, scn, &sh, true, cap);
		}
	}
}

static bool elf_has_symtab(Elf *e)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(e, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB && sh.sh_size)
			return true;
	return false;
}

/* A --symbols file for mod: same build id, or (no build ids) same name. */
static int find_symbol_file(struct module_set *set, struct module *mod, struct hp_err *err)
{
	uint8_t id[64], other[64];
	size_t nid = elf_build_id(mod->elf, id, sizeof(id));

	for (size_t i = 0; i < set->nr_symbol_files; i++) {
		const char *path = set->symbol_files[i];
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		Elf *e;
		size_t n;

		if (fd < 0)
			return hp_err_set(err, "%s: cannot open: %s", path, strerror(errno));
		e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
		if (!e || elf_kind(e) != ELF_K_ELF) {
			if (e)
				elf_end(e);
			close(fd);
			return hp_err_set(err, "%s: not an ELF file (--symbols wants an unstripped copy or a debug file)",
					  path);
		}
		n = elf_build_id(e, other, sizeof(other));
		if (elf_has_symtab(e) && ((nid && n == nid && !memcmp(id, other, n)) ||
					  (!nid && !n && !strcmp(path_tail(path), path_tail(mod->path))))) {
			mod->sym_fd = fd;
			mod->sym_elf = e;
			mod->symbols_from = path;
			return 0;
		}
		elf_end(e);
		close(fd);
	}
	return 0;
}

/* Open path as mod's symbol file if it is an ELF file with a symbol table
 * and mod's build-id (n bytes of id): true when taken. */
static bool take_symbol_file(struct module *mod, const char *path, const uint8_t *id, size_t nid)
{
	uint8_t other[64];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *e;

	if (fd < 0)
		return false;
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (e && elf_kind(e) == ELF_K_ELF && elf_has_symtab(e) &&
	    elf_build_id(e, other, sizeof(other)) == nid && !memcmp(id, other, nid)) {
		mod->sym_fd = fd;
		mod->sym_elf = e;
		return true;
	}
	if (e)
		elf_end(e);
	close(fd);
	return false;
}

/* The debug file of mod's build-id under the debug directory, the way
 * gdb and the distributions' -dbgsym packages lay them out. */
static void find_debug_file(struct module_set *set, struct module *mod)
{
	uint8_t id[64];
	size_t nid = elf_build_id(mod->elf, id, sizeof(id));
	char *path = set->debug_dir ? modfile_debug_path(set->debug_dir, id, nid) : NULL;

	if (path && take_symbol_file(mod, path, id, nid)) {
		mod->debug_file = path;
		mod->symbols_from = path;
		return;
	}
	free(path);
}

static int load_elf(struct module_set *set, struct module *mod, struct hp_err *err)
{
	GElf_Ehdr eh;
	size_t cap = 0;

	mod->fd = open_mapped_file(set->pid, mod, err);
	if (mod->fd < 0)
		return -1;
	mod->elf = elf_begin(mod->fd, ELF_C_READ_MMAP, NULL);
	if (!mod->elf || elf_kind(mod->elf) != ELF_K_ELF || !gelf_getehdr(mod->elf, &eh))
		return hp_err_set(err, "%s: not an ELF file", mod->path);
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64)
		return hp_err_set(err, "%s: not an x86-64 ELF file; hpapply patches x86-64 processes only",
				  mod->path);
	if (read_phdrs(mod, mod->elf, err) < 0)
		return -1;
	if (!elf_has_symtab(mod->elf) && set->nr_symbol_files && find_symbol_file(set, mod, err) < 0)
		return -1;
	if (!elf_has_symtab(mod->elf) && !mod->sym_elf)
		find_debug_file(set, mod);
	read_symbols(mod, mod->sym_elf ? mod->sym_elf : mod->elf, true, false, &cap);
	read_symbols(mod, mod->elf, false, true, &cap);
	for (size_t i = 0; i < mod->nr_syms; i++)
		hmap_put(&mod->by_name, mod->syms[i].name, &mod->syms[i]);
	return 0;
}

int module_load(struct module_set *set, struct module *mod, struct hp_err *err)
{
	struct hp_err e = { { 0 } };

	if (mod->loaded)
		return 0;
	if (mod->load_error)
		return hp_err_set(err, "%s", mod->load_error);
	if (load_elf(set, mod, &e) < 0) {
		module_unload(mod);
		mod->syms = NULL;
		mod->nr_syms = 0;
		mod->owned = NULL;
		mod->nr_owned = mod->cap_owned = 0;
		mod->elf = mod->sym_elf = NULL;
		mod->fd = mod->sym_fd = -1;
		hmap_init(&mod->by_name);
		mod->load_error = xstrdup(e.msg);
		return hp_err_set(err, "%s", e.msg);
	}
	mod->loaded = true;
	return 0;
}

struct module *module_at(struct module_set *set, uint64_t addr)
{
	for (size_t i = 0; i < set->n; i++)
		if (addr >= set->v[i].lowest && addr < set->v[i].highest)
			return &set->v[i];
	return NULL;
}

struct module *module_exe(struct module_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].is_exe)
			return &set->v[i];
	return NULL;
}

uint64_t modsym_addr(const struct module *mod, const struct modsym *s)
{
	return s->absolute ? s->value : mod->bias + s->value;
}

int64_t modsym_tpoff(const struct module *exe, const struct modsym *s)
{
	/* glibc's _dl_determine_tlsoffset for the first module (x86-64:
	 * the TCB is at the thread pointer, TLS blocks below it) */
	uint64_t align = exe->tls_align & (exe->tls_align - 1) ? 1 : exe->tls_align;
	uint64_t firstbyte = (0 - (exe->tls_vaddr & (align - 1))) & (align - 1);
	uint64_t off = ((exe->tls_size - firstbyte + align - 1) & ~(align - 1)) + firstbyte;

	return (int64_t)s->value - (int64_t)off;
}

/* Local to its translation unit.  A hidden global is global in its
 * object, but the linker makes it STB_LOCAL in the linked file (every
 * function of a library built with -fvisibility=hidden): GNU ld puts such
 * symbols after an STT_FILE with an empty name, other linkers may keep
 * STV_HIDDEN.  They are globals for the package, which saw the object. */
static bool is_unit_local(const struct modsym *s)
{
	return s->bind == STB_LOCAL && s->file && s->file[0] && s->visibility != STV_HIDDEN &&
	       s->visibility != STV_INTERNAL;
}

size_t module_lookup(const struct module *mod, const char *name, bool local, const char *file,
		     const struct modsym **out, size_t max)
{
	size_t pos = 0, n = 0;
	const struct modsym *s;

	while ((s = hmap_next(&mod->by_name, name, &pos))) {
		if (!s->defined || (s->dynamic && mod->has_symtab))
			continue;   /* .symtab is a superset of .dynsym's definitions */
		if (local != is_unit_local(s))
			continue;
		if (local && file && !same_source_file(s->file, file))
			continue;
		if (n < max)
			out[n] = s;
		n++;
	}
	return n;
}

const struct modsym *module_export(const struct module *mod, const char *name)
{
	size_t pos = 0;
	const struct modsym *s, *weak = NULL;

	while ((s = hmap_next(&mod->by_name, name, &pos))) {
		if (!s->dynamic || !s->defined || !s->default_version || s->bind == STB_LOCAL ||
		    s->visibility == STV_HIDDEN || s->visibility == STV_INTERNAL)
			continue;
		if (s->bind == STB_GLOBAL)
			return s;
		if (!weak)
			weak = s;
	}
	return weak;
}

bool module_symbol_starts_within(const struct module *mod, uint64_t value, uint64_t len)
{
	for (size_t i = 0; i < mod->nr_syms; i++) {
		const struct modsym *s = &mod->syms[i];

		if (s->defined && !s->absolute && s->value > value && s->value < value + len &&
		    (s->type == STT_FUNC || s->type == STT_GNU_IFUNC || s->type == STT_NOTYPE))
			return true;
	}
	return false;
}

bool module_exec_slack(const struct module *mod, const struct proc_maps *m, uint64_t len, uint64_t *addr)
{
	uint64_t lo = (mod->exec_end + 15) & ~15ULL, hi = (mod->exec_end + 4095) & ~4095ULL;
	const struct mapping *mp = mod->exec_end ? maps_find(m, mod->exec_end - 1) : NULL;

	if (!mp || !mp->x || !mp->path || mp->end < hi || hi < lo || hi - lo < len)
		return false;
	*addr = lo;
	return true;
}

bool modules_exec_slack(struct module_set *set, const struct proc_maps *m, uint64_t len, uint64_t *addr)
{
	struct module *exe = module_exe(set);

	for (int pass = 0; pass < 3; pass++) {
		for (size_t i = 0; i < set->n; i++) {
			struct module *mod = &set->v[i];
			struct hp_err ignored = { { 0 } };

			if ((pass == 0 && !mod->loaded) || (pass == 1 && mod != exe))
				continue;
			if (!mod->loaded && module_load(set, mod, &ignored) < 0)
				continue;
			if (mod->loaded && module_exec_slack(mod, m, len, addr))
				return true;
		}
	}
	return false;
}

const struct modsym *module_function_by_content(struct module *mod, const struct hpk_func *f, size_t *matches)
{
	struct hp_err err = { { 0 } };
	struct modsym *s;
	uint64_t addr[2];

	*matches = 0;
	if (!mod->loaded || mod->has_symtab || !mod->elf)
		return NULL;
	if (!mod->content) {
		mod->content = xcalloc(1, sizeof(*mod->content));
		mod->content->fd = -1;
		if (modfile_from_elf(mod->elf, mod->path, mod->content, &err) < 0) {
			modfile_close(mod->content);
			free(mod->content);
			mod->content = NULL;
			return NULL;
		}
	}
	*matches = modfile_find_function(mod->content, f, addr, 2);
	if (*matches != 1)
		return NULL;
	for (size_t i = 0; i < mod->nr_found; i++)
		if (mod->found[i]->value == addr[0])
			return mod->found[i];
	s = xcalloc(1, sizeof(*s));
	*s = (struct modsym){ .name = f->name, .file = "", .value = addr[0], .size = f->old_size,
			      .type = STT_FUNC, .bind = STB_LOCAL, .defined = true, .default_version = true };
	mod->found = xrealloc(mod->found, (mod->nr_found + 1) * sizeof(*mod->found));
	mod->found[mod->nr_found++] = s;
	return s;
}
