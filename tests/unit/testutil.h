/*
 * testutil.h - helpers shared by the unit tests: a scratch directory per
 * test binary, writing sources, and compiling them with a real compiler.
 */
#ifndef HP_TESTUTIL_H
#define HP_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>

/* A fresh scratch directory (removed at exit). */
const char *test_dir(void);
/* test_dir()/name, in a static rotating buffer. */
const char *test_path(const char *name);
void write_text(const char *path, const char *text);
/* Compile source text with cc ("gcc"/"clang") and flags into test_dir()/out.
 * Returns the object's path, or NULL (and prints why) if compilation failed. */
const char *compile_c(const char *cc, const char *flags, const char *source, const char *out);
bool have_compiler(const char *cc);
/* Runs only the tests named on the command line (cmocka's filter: a name
 * or a pattern with * and ?), e.g. build/check/tests/test_hpk test_round_trip;
 * all of them without an argument.  Called first in every test's main. */
void test_select(int argc, char **argv);
/* Run a shell command; returns its exit status (-1 if it did not exit). */
int run_cmd(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
