/*
 * test_inputs.c - hpbuild's input pairing: objects, archives made here by
 * ar(1) (GNU long names included), directories, and hostile archives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "inputs.h"
#include "testutil.h"
#include "util.h"

static const char *src_a = "int a(int x) { return x + 1; }\n";
static const char *src_b = "int b(int x) { return x * 2; }\n";

static struct input_pair *find_pair(struct input_set *s, const char *name)
{
	for (size_t i = 0; i < s->nr_pairs; i++)
		if (!strcmp(s->pairs[i].name, name))
			return &s->pairs[i];
	return NULL;
}

static void test_plain_objects(void **state)
{
	struct input_set s;
	struct hp_err err = { { 0 } };
	const char *o = compile_c("gcc", "-O2 -c", src_a, "plain_old.o");
	const char *n = compile_c("gcc", "-O2 -c", src_b, "plain_new.o");

	(void)state;
	assert_int_equal(collect_inputs(o, n, &s, &err), 0);
	assert_int_equal(s.nr_pairs, 1);
	assert_string_equal(s.pairs[0].name, "plain_new.o");
	assert_non_null(s.pairs[0].old.data);
	assert_non_null(s.pairs[0].new.data);
	assert_string_equal(s.pairs[0].old.label, o);
	free_inputs(&s);
}

/* Members are paired by name; a member only on one side stays unpaired;
 * a name longer than 15 characters goes through the GNU "//" table. */
static void test_archives(void **state)
{
	const char *long_name = "a_member_with_a_long_name.o";
	struct input_set s;
	struct hp_err err = { { 0 } };
	struct input_pair *p;

	(void)state;
	assert_non_null(compile_c("gcc", "-O2 -c", src_a, "x.o"));
	assert_non_null(compile_c("gcc", "-O2 -c", src_b, long_name));
	assert_non_null(compile_c("gcc", "-O2 -c", src_b, "only_new.o"));
	assert_int_equal(run_cmd("cd '%s' && ar rcs old.a x.o %s && ar rcs new.a %s x.o only_new.o",
				 test_dir(), long_name, long_name), 0);
	assert_int_equal(collect_inputs(test_path("old.a"), test_path("new.a"), &s, &err), 0);
	assert_int_equal(s.nr_pairs, 3);
	p = find_pair(&s, long_name);
	assert_non_null(p);
	assert_non_null(p->old.data);
	assert_non_null(p->new.data);
	assert_int_equal(memcmp(p->old.data, "\177ELF", 4), 0);
	assert_non_null(strstr(p->old.label, "old.a(a_member_with_a_long_name.o)"));
	p = find_pair(&s, "only_new.o");
	assert_non_null(p);
	assert_null(p->old.data);
	assert_non_null(p->new.data);
	free_inputs(&s);
}

static void test_directories(void **state)
{
	struct input_set s;
	struct hp_err err = { { 0 } };

	(void)state;
	assert_int_equal(run_cmd("mkdir -p '%s/d1/net' '%s/d2/net'", test_dir(), test_dir()), 0);
	assert_non_null(compile_c("gcc", "-O2 -c", src_a, "d1/net/p.o"));
	assert_non_null(compile_c("gcc", "-O2 -c", src_b, "d2/net/p.o"));
	assert_non_null(compile_c("gcc", "-O2 -c", src_b, "d2/z.o"));
	assert_int_equal(collect_inputs(test_path("d1"), test_path("d2"), &s, &err), 0);
	assert_int_equal(s.nr_pairs, 2);
	/* sorted by relative path */
	assert_string_equal(s.pairs[0].name, "net/p.o");
	assert_string_equal(s.pairs[1].name, "z.o");
	assert_null(s.pairs[1].old.data);
	free_inputs(&s);
}

static void expect_archive_error(const char *bytes, size_t n, const char *needle)
{
	struct input_set s = { 0 };
	struct hp_err err = { { 0 } };

	assert_int_equal(archive_members("bad.a", (const uint8_t *)bytes, n, &s, 0, &err), -1);
	if (!strstr(err.msg, needle))
		fail_msg("error \"%s\" lacks \"%s\"", err.msg, needle);
	assert_non_null(strstr(err.msg, "bad.a"));
	free_inputs(&s);
}

static void test_hostile_archives(void **state)
{
	char buf[256];

	(void)state;
	expect_archive_error("!<thin>\n", 8, "thin archive");
	expect_archive_error("!<arch>\nshort", 13, "corrupt archive member header");
	/* a size larger than the file */
	memset(buf, ' ', sizeof(buf));
	memcpy(buf, "!<arch>\n", 8);
	memcpy(buf + 8, "x.o/", 4);
	memcpy(buf + 8 + 48, "999999", 6);
	memcpy(buf + 8 + 58, "`\n", 2);
	expect_archive_error(buf, 8 + 60 + 10, "bad size");
	/* a long-name reference with no "//" table */
	memset(buf, ' ', sizeof(buf));
	memcpy(buf, "!<arch>\n", 8);
	memcpy(buf + 8, "/42", 3);
	memcpy(buf + 8 + 48, "4", 1);
	memcpy(buf + 8 + 58, "`\n", 2);
	expect_archive_error(buf, 8 + 60 + 4, "long-name");
	/* a non-numeric size */
	memcpy(buf + 8, "x.o/           ", 15);
	memcpy(buf + 8 + 48, "12ab", 4);
	expect_archive_error(buf, 8 + 60 + 4, "bad size");
}

static void test_kind_mismatch(void **state)
{
	struct input_set s;
	struct hp_err err = { { 0 } };

	(void)state;
	assert_non_null(compile_c("gcc", "-O2 -c", src_a, "k.o"));
	assert_int_equal(run_cmd("mkdir -p '%s/kd'", test_dir()), 0);
	assert_int_equal(collect_inputs(test_path("k.o"), test_path("kd"), &s, &err), -1);
	assert_non_null(strstr(err.msg, "different kinds"));
	free_inputs(&s);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_objects),
		cmocka_unit_test(test_archives),
		cmocka_unit_test(test_directories),
		cmocka_unit_test(test_hostile_archives),
		cmocka_unit_test(test_kind_mismatch),
	};

	test_select(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
