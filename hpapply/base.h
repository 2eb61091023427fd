/*
 * base.h - a package recorded for a module's build-id (hpbuild --base)
 * is checked against what the process maps before hpapply attaches.
 */
#ifndef HP_BASE_H
#define HP_BASE_H

#include <sys/types.h>

#include "hpk.h"
#include "util.h"

/*
 * HP_EXIT_OK when the package records no base, or when the process maps
 * a file with its build-id (*module: that file's path, malloc'd, the only
 * module to look in); HP_EXIT_DIFF when it maps none (another build of the
 * module, or not the module at all), err saying which; HP_EXIT_ERROR when
 * /proc/PID/maps cannot be read.  only: --module, or NULL.  No ptrace.
 */
int check_package_base(pid_t pid, const struct hpk *p, const char *only, char **module, struct hp_err *err);

#endif
