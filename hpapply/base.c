/*
 * base.c - the module a package was built for (hpbuild --base records its
 * GNU build-id), checked before hpapply attaches to the process.
 *
 * A package built against one build of a library is code compiled for
 * that build's layout: a process that maps another build of it (an
 * upgrade, another distribution's) is refused here, from /proc/PID/maps
 * and the mapped files alone, without ptrace, so the process is never
 * stopped for a package that cannot be for it.  The fingerprints would
 * refuse it later too, but with a less useful message and after stopping
 * the process.  The module with the build-id is then the only one the
 * package is looked for in (as --module would say).
 */
#include "base.h"

#include <stdlib.h>
#include <string.h>

#include "module.h"
#include "procmaps.h"

static bool wanted(const struct module *mod, const char *only)
{
	return !only || !strcmp(mod->path, only) || !strcmp(path_tail(mod->path), only);
}

/* mod's name as hpbuild --base records it: its soname, else its file name. */
static bool has_base_name(const struct module *mod, const char *name)
{
	const char *soname = mod->elf ? elf_soname(mod->elf) : NULL;

	return !strcmp(soname && soname[0] ? soname : path_tail(mod->path), name) ||
	       !strcmp(path_tail(mod->path), name);
}

static void build_id_hex(const struct module *mod, char *hex, size_t n)
{
	uint8_t id[64];
	size_t len = mod->elf ? elf_build_id(mod->elf, id, sizeof(id)) : 0;

	hex[0] = '\0';
	for (size_t i = 0; i < len && 2 * i + 2 < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", id[i]);
}

int check_package_base(pid_t pid, const struct hpk *p, const char *only, char **module, struct hp_err *err)
{
	struct proc_maps maps = { 0 };
	struct module_set set;
	struct module *same_name = NULL;
	char hex[2 * 64 + 1], other[2 * 64 + 1] = "";
	int st = HP_EXIT_DIFF;

	*module = NULL;
	if (!p->base_build_id)
		return HP_EXIT_OK;
	if (maps_read(pid, &maps, err) < 0)
		return HP_EXIT_ERROR;
	if (modules_scan(pid, &maps, &set, err) < 0) {
		maps_free(&maps);
		return HP_EXIT_ERROR;
	}
	for (size_t i = 0; i < set.n && !*module; i++) {
		struct module *mod = &set.v[i];
		struct hp_err ignored = { { 0 } };

		if (!wanted(mod, only) || module_load(&set, mod, &ignored) < 0)
			continue;
		build_id_hex(mod, hex, sizeof(hex));
		if (!strcmp(hex, p->base_build_id))
			*module = xstrdup(mod->path);
		else if (!same_name && has_base_name(mod, p->base_name)) {
			same_name = mod;
			snprintf(other, sizeof(other), "%s", hex[0] ? hex : "none");
		}
	}
	if (*module)
		st = HP_EXIT_OK;
	else if (same_name)
		hp_err_set(err, "process %d: the package was built for %s with build-id %s, and the process maps "
			   "%s with build-id %s: another build of it; not applied (hpapply did not attach; build "
			   "the package against the build that runs: hpbuild --base %s)", (int)pid, p->base_name,
			   p->base_build_id, same_name->path, other, same_name->path);
	else
		hp_err_set(err, "process %d: the package was built for %s with build-id %s, and the process maps "
			   "no file with that build-id%s; not applied (hpapply did not attach)", (int)pid,
			   p->base_name, p->base_build_id, only ? " among those --module names" : "");
	modules_free(&set);
	maps_free(&maps);
	return st;
}
