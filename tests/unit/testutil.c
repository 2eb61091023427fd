/*
 * testutil.c - scratch directories and real compilations for unit tests.
 */
#include "testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[256];

void test_select(int argc, char **argv)
{
	if (argc > 2) {
		fprintf(stderr, "usage: %s [TEST-NAME-PATTERN]\n", argv[0]);
		exit(2);
	}
	if (argc == 2)
		cmocka_set_test_filter(argv[1]);
}

static void remove_dir(void)
{
	char cmd[300];

	if (dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "warning: could not remove %s\n", dir);
	}
}

const char *test_dir(void)
{
	if (!dir[0]) {
		const char *tmp = getenv("TMPDIR");
		snprintf(dir, sizeof(dir), "%s/hptest.XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(dir)) {
			perror("mkdtemp");
			exit(1);
		}
		atexit(remove_dir);
	}
	return dir;
}

const char *test_path(const char *name)
{
	static char bufs[8][512];
	static int next;
	char *b = bufs[next++ % 8];

	snprintf(b, 512, "%s/%s", test_dir(), name);
	return b;
}

void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) == EOF || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

int run_cmd(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

bool have_compiler(const char *cc)
{
	return run_cmd("command -v %s >/dev/null 2>&1", cc) == 0;
}

const char *compile_c(const char *cc, const char *flags, const char *source, const char *out)
{
	char src[600];
	const char *obj = test_path(out);

	snprintf(src, sizeof(src), "%s.c", obj);
	write_text(src, source);
	if (run_cmd("%s %s -c '%s' -o '%s'", cc, flags, src, obj) != 0) {
		fprintf(stderr, "compile failed: %s %s %s\n", cc, flags, src);
		return NULL;
	}
	return obj;
}
