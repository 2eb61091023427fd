/*
 * fuzz_check.h - what every fuzz target asserts besides "no crash": the
 * error contract of lib/util.h.  A loader that fails must say why in ONE
 * line that names the input ("NAME: problem ..."), since main() prints it
 * as the only line of an exit-2 failure.  A violation aborts, so libFuzzer
 * (and the replay driver) report it like any crash.
 */
#ifndef HP_FUZZ_CHECK_H
#define HP_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Inputs bigger than this are cut: objects of interest are a few KB and
 * libFuzzer runs with -max_len=65536; the replay driver obeys it too. */
#define FUZZ_MAX_INPUT (1u << 20)

static inline void fuzz_check_error_line(const struct hp_err *err, const char *name)
{
	size_t n = strlen(name);

	if (!err->msg[0]) {
		fprintf(stderr, "fuzz: loader failed without an error line\n");
		abort();
	}
	if (strchr(err->msg, '\n')) {
		fprintf(stderr, "fuzz: error is not one line: %s\n", err->msg);
		abort();
	}
	if (strncmp(err->msg, name, n) != 0 || strncmp(err->msg + n, ": ", 2) != 0) {
		fprintf(stderr, "fuzz: error does not start with \"%s: \": %s\n", name, err->msg);
		abort();
	}
}

/* Touch every byte of a string the library handed out: ASan reports a
 * dangling or unterminated one here rather than in some later printf. */
static inline size_t fuzz_touch_str(const char *s)
{
	return s ? strlen(s) : 0;
}

#endif
