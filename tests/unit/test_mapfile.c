/*
 * test_mapfile.c - inputs are mapped (lib/util.c map_file): a file that
 * shrinks while it is mapped must end the tool with one line naming the
 * file and exit status 2, not a crash; and a mapping reads what the file
 * holds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "util.h"

/* ASan handles SIGBUS itself unless told to let the program's handler run:
 * the handler under test is the program's. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allow_user_segv_handler=1";
}

/* a temporary file of n bytes, byte i = i % 251 */
static char *make_file(size_t n)
{
	char *path = strdup("/tmp/hp-mapfile.XXXXXX");
	int fd = mkstemp(path);
	uint8_t *buf = malloc(n);

	assert_true(fd >= 0);
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(i % 251);
	assert_int_equal(write(fd, buf, n), (ssize_t)n);
	close(fd);
	free(buf);
	return path;
}

static void test_map_reads_the_file(void **state)
{
	struct hp_err err = { { 0 } };
	char *path = make_file(3 * 4096 + 17);
	uint8_t *data;
	size_t size;

	(void)state;
	assert_int_equal(map_file(path, &data, &size, &err), 0);
	assert_int_equal(size, 3 * 4096 + 17);
	for (size_t i = 0; i < size; i += 997)
		assert_int_equal(data[i], i % 251);
	/* dropped pages come back from the file */
	drop_file_pages(data, size);
	assert_int_equal(data[2 * 4096 + 5], (2 * 4096 + 5) % 251);
	unmap_file(data, size);
	unlink(path);
	free(path);
}

static void test_missing_file_is_an_error(void **state)
{
	struct hp_err err = { { 0 } };
	uint8_t *data;
	size_t size;

	(void)state;
	assert_int_equal(map_file("/nonexistent/x.o", &data, &size, &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent/x.o: cannot open"));
}

/* The child maps a file, the file is truncated, the child reads past the
 * new end: it must exit 2 with one line naming the file. */
static void test_truncated_while_mapped(void **state)
{
	char *path = make_file(4 * 4096);
	int fds[2];
	pid_t pid;
	int status;
	char msg[512] = { 0 };
	ssize_t got, n;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct hp_err err = { { 0 } };
		uint8_t *data;
		size_t size;
		volatile uint8_t sink;

		dup2(fds[1], STDERR_FILENO);
		if (map_file(path, &data, &size, &err) < 0)
			_exit(10);
		if (truncate(path, 100) < 0)
			_exit(11);
		sink = data[3 * 4096];  /* past the new end: SIGBUS */
		(void)sink;
		_exit(12);
	}
	close(fds[1]);
	for (got = 0; got < (ssize_t)sizeof(msg) - 1; got += n) {
		n = read(fds[0], msg + got, sizeof(msg) - 1 - (size_t)got);
		if (n <= 0)
			break;
	}
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 2);
	assert_non_null(strstr(msg, path));
	assert_non_null(strstr(msg, "shrank while it was being read"));
	assert_non_null(strchr(msg, '\n'));
	assert_null(strchr(strchr(msg, '\n') + 1, '\n'));  /* one line */
	unlink(path);
	free(path);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_reads_the_file),
		cmocka_unit_test(test_missing_file_is_an_error),
		cmocka_unit_test(test_truncated_while_mapped),
	};
	test_select(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
