/*
 * replay_main.c - run a fuzz target's LLVMFuzzerTestOneInput on saved
 * inputs without libFuzzer, so the corpus and the fixed crashes replay in
 * `make check` with gcc's ASan/UBSan build (tests/e2e/fuzz-replay.sh).
 *
 *   replay FILE-OR-DIR...
 *
 * Each argument is a file or a directory of files (not recursive), run in
 * name order.  Prints "replay: N inputs" and exits 0; a sanitizer report
 * or a failed check in the target aborts the process, naming the input
 * on stderr first.  Exit 2 on an unreadable argument.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	struct hp_err err = { { 0 } };
	uint8_t *data;
	size_t size;

	if (read_file(path, &data, &size, &err) < 0) {
		fprintf(stderr, "replay: %s\n", err.msg);
		return -1;
	}
	/* named before running: a crash report follows this line */
	fprintf(stderr, "replay: %s\n", path);
	LLVMFuzzerTestOneInput(data, size);
	free(data);
	return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int replay_dir(const char *dir, size_t *count)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, by_name);
	int rc = 0;

	if (n < 0) {
		fprintf(stderr, "replay: %s: cannot read directory\n", dir);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]->d_name);
		struct stat st;

		if (names[i]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (replay_file(path) < 0)
				rc = -1;
			else
				(*count)++;
		}
		free(path);
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	size_t count = 0;
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: replay FILE-OR-DIR...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "replay: %s: no such file or directory\n", argv[i]);
			rc = 2;
		} else if (S_ISDIR(st.st_mode)) {
			if (replay_dir(argv[i], &count) < 0)
				rc = 2;
		} else if (replay_file(argv[i]) < 0) {
			rc = 2;
		} else {
			count++;
		}
	}
	printf("replay: %zu inputs\n", count);
	return rc;
}
