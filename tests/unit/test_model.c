/*
 * test_model.c - the object model, correlation keys, fingerprints and the
 * diff engine, on objects compiled here by gcc and clang.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "correlate.h"
#include "diff.h"
#include "elfobj.h"
#include "fingerprint.h"
#include "testutil.h"
#include "util.h"

static const char *const compilers[] = { "gcc", "clang" };

#define FS "-O2 -g -ffunction-sections -fdata-sections"

static struct hp_elf *load_ok(const char *path)
{
	struct hp_err err = { { 0 } };
	struct hp_elf *e = elf_open(path, &err);

	if (!e)
		fail_msg("loading %s: %s", path, err.msg);
	diff_prepare(e);
	return e;
}

static void expect_load_error(const char *path, const char *needle)
{
	struct hp_err err = { { 0 } };
	struct hp_elf *e = elf_open(path, &err);

	assert_null(e);
	if (!strstr(err.msg, needle))
		fail_msg("error for %s is \"%s\", expected it to contain \"%s\"", path, err.msg, needle);
	assert_non_null(strstr(err.msg, path));   /* names the file */
	assert_null(strchr(err.msg, '\n'));       /* one line */
}

static void test_normalize_name(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "parse", "parse" },
		{ "parse.constprop.0", "parse.constprop" },
		{ "parse.constprop.12.isra.0", "parse.constprop.isra" },
		{ "parse.isra.3", "parse.isra" },
		{ "parse.part.0", "parse.part" },
		{ "parse.cold", "parse.cold" },
		{ "parse.part.0.cold", "parse.part.cold" },
		{ "helper.lto_priv.4", "helper.lto_priv" },
		{ "helper.llvm.11523876450929", "helper" },
		{ "count.3", "count" },
		{ "f.count", "f.count" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *n = normalize_name(cases[i].in);
		assert_string_equal(n, cases[i].out);
		free(n);
	}
	assert_true(is_child_name("f.cold"));
	assert_true(is_child_name("f.part.0"));
	assert_false(is_child_name("f.constprop.0"));
	assert_false(is_child_name("coldstart"));
}

static void patch_copy(const char *from, const char *to, size_t off, const void *bytes, size_t n,
		       size_t truncate_at)
{
	uint8_t *data;
	size_t size;
	struct hp_err err = { { 0 } };

	if (read_file(from, &data, &size, &err) < 0)
		fail_msg("%s", err.msg);
	if (bytes)
		memcpy(data + off, bytes, n);
	if (truncate_at && truncate_at < size)
		size = truncate_at;
	if (write_file_atomic(to, data, size, &err) < 0)
		fail_msg("%s", err.msg);
	free(data);
}

static void test_rejects_bad_input(void **state)
{
	const char *obj = compile_c("gcc", FS, "int f(int x) { return x + 1; }\n", "ok.o");
	const char *p;
	uint8_t b;
	uint8_t m[2] = { 183, 0 };  /* EM_AARCH64 */

	(void)state;
	assert_non_null(obj);
	p = test_path("text.o");
	write_text(p, "this is not an object file\n");
	expect_load_error(p, "not an ELF file");
	p = test_path("empty.o");
	write_text(p, "");
	expect_load_error(p, "not an ELF file");
	p = test_path("short.o");
	patch_copy(obj, p, 0, NULL, 0, 40);
	expect_load_error(p, "truncated");
	p = test_path("trunc.o");
	patch_copy(obj, p, 0, NULL, 0, 300);
	{
		struct hp_err err = { { 0 } };
		struct hp_elf *e = elf_open(p, &err);
		assert_null(e);
		assert_non_null(strstr(err.msg, p));
	}
	p = test_path("class32.o");
	b = 1;  /* ELFCLASS32 */
	patch_copy(obj, p, 4, &b, 1, 0);
	expect_load_error(p, "32-bit");
	p = test_path("arm.o");
	patch_copy(obj, p, 18, m, 2, 0);
	expect_load_error(p, "ELF object for AArch64 (e_machine 183)");  /* named, not only numbered */
	p = test_path("machine-9999.o");
	m[0] = 0x0f, m[1] = 0x27;  /* 9999: no name known */
	patch_copy(obj, p, 18, m, 2, 0);
	expect_load_error(p, "another architecture (e_machine 9999)");
	p = test_path("ar.a");
	write_text(p, "!<arch>\n");
	expect_load_error(p, "archive");
	write_text(test_path("main.c"), "int main(void) { return 0; }\n");
	assert_int_equal(run_cmd("gcc -o '%s' '%s'", test_path("prog"), test_path("main.c")), 0);
	expect_load_error(test_path("prog"), "relocatable object");
	expect_load_error(test_path("does-not-exist.o"), "cannot open");
}

/* gcc numbers static locals file-wide: adding an unrelated function with
 * its own static local before f renumbers f's ("calls.0" -> "calls.1"). */
static void test_static_local_renumbered(void **state)
{
	const char *old_src =
		"int f(int x) { static int calls; calls++; return x + calls; }\n";
	const char *new_src =
		"int g(int x) { static int seen; seen += x; return seen; }\n"
		"int f(int x) { static int calls; calls++; return x + calls; }\n";

	(void)state;
	for (size_t c = 0; c < ARRAY_SIZE(compilers); c++) {
		const char *po = compile_c(compilers[c], FS, old_src, "sl_old.o");
		const char *pn = compile_c(compilers[c], FS, new_src, "sl_new.o");
		struct hp_elf *o = load_ok(po), *n = load_ok(pn);
		struct hp_symbol *fo, *fn;
		struct hp_diff d;

		correlate_pair(o, n);
		fo = find_symbol_by_name(o, "f");
		fn = find_symbol_by_name(n, "f");
		assert_non_null(fo);
		assert_ptr_equal(fo->twin, fn);
		assert_true(fo->code_hash == fn->code_hash);
		assert_true(fo->reloc_hash == fn->reloc_hash);
		if (!strcmp(compilers[c], "gcc")) {
			assert_non_null(find_symbol_by_key(o, "calls@f"));
			assert_non_null(find_symbol_by_key(n, "calls@f"));
			assert_non_null(find_symbol_by_key(n, "seen@g"));
		}
		diff_objects(o, n, false, &d);
		/* exactly: g added, g's static local added */
		assert_int_equal(d.nr_changes, 2);
		assert_string_equal(d.changes[0].name, "g");
		assert_int_equal(d.changes[0].status, HP_ADDED);
		assert_false(d.changes[1].is_func);
		assert_int_equal(d.changes[1].status, HP_ADDED);
		diff_free(&d);
		elf_close(o);
		elf_close(n);
	}
}

/* One merged string section: changing a's string moves b's string, but
 * b's code and the text it references are the same. */
static void test_string_shift(void **state)
{
	const char *old_src =
		"int puts(const char *);\n"
		"void a(void) { puts(\"alpha\"); }\n"
		"void b(void) { puts(\"beta\"); }\n";
	const char *new_src =
		"int puts(const char *);\n"
		"void a(void) { puts(\"alphabet soup\"); }\n"
		"void b(void) { puts(\"beta\"); }\n";

	(void)state;
	for (size_t c = 0; c < ARRAY_SIZE(compilers); c++) {
		const char *po = compile_c(compilers[c], "-O2 -g", old_src, "ss_old.o");
		const char *pn = compile_c(compilers[c], "-O2 -g", new_src, "ss_new.o");
		struct hp_elf *o = load_ok(po), *n = load_ok(pn);
		struct hp_diff d;

		correlate_pair(o, n);
		diff_objects(o, n, false, &d);
		assert_int_equal(d.nr_changes, 1);
		assert_string_equal(d.changes[0].name, "a");
		assert_int_equal(d.changes[0].status, HP_CHANGED);
		assert_non_null(strstr(d.changes[0].reasons[0], "references a changed string"));
		assert_non_null(strstr(d.changes[0].reasons[0], "alphabet soup"));
		diff_free(&d);
		elf_close(o);
		elf_close(n);
	}
}

/* Without -ffunction-sections the assembler resolves calls between static
 * functions itself; growing api() moves other() relative to second(). */
static void test_implied_relocs(void **state)
{
	const char *old_src =
		"__attribute__((noinline)) static int other(int x) { return x - 7; }\n"
		"int api(int x) { return x * 3 + other(x); }\n"
		"int second(int y) { return other(y) * 2; }\n";
	const char *new_src =
		"__attribute__((noinline)) static int other(int x) { return x - 7; }\n"
		"int api(int x) { int r = x * 3; if (r > 100) r = 100; return r + other(x); }\n"
		"int second(int y) { return other(y) * 2; }\n";

	(void)state;
	for (size_t c = 0; c < ARRAY_SIZE(compilers); c++) {
		const char *po = compile_c(compilers[c], "-O2 -g", old_src, "ir_old.o");
		const char *pn = compile_c(compilers[c], "-O2 -g", new_src, "ir_new.o");
		struct hp_elf *o = load_ok(po), *n = load_ok(pn);
		struct hp_symbol *s = find_symbol_by_name(n, "second");
		bool implied = false;
		struct hp_diff d;

		assert_non_null(s);
		sym_for_each_reloc(s, r) {
			struct hp_target t;
			resolve_target(s->sec, r, &t);
			assert_int_equal(t.kind, HP_TARGET_SYMBOL);
			if (!strcmp(t.sym->name, "other"))
				implied |= r->implied || !strcmp(compilers[c], "clang");
		}
		assert_true(implied);
		correlate_pair(o, n);
		diff_objects(o, n, false, &d);
		assert_int_equal(d.nr_changes, 1);
		assert_string_equal(d.changes[0].name, "api");
		diff_free(&d);
		elf_close(o);
		elf_close(n);
	}
}

/* More than 65279 sections: the object uses SHN_XINDEX and .symtab_shndx. */
static void test_extended_section_numbering(void **state)
{
	const char *s = test_path("many.s");
	const char *o = test_path("many.o");
	FILE *f = fopen(s, "w");
	struct hp_elf *e;
	struct hp_symbol *last;
	enum { N = 66000 };

	(void)state;
	assert_non_null(f);
	for (int i = 0; i < N; i++)
		fprintf(f, ".section .text.f%d,\"ax\",@progbits\n.globl f%d\n.type f%d,@function\nf%d:\nret\n.size f%d,1\n",
			i, i, i, i, i);
	fclose(f);
	assert_int_equal(run_cmd("as -o '%s' '%s'", o, s), 0);
	e = load_ok(o);
	assert_true(e->nr_sections > 65280);
	last = find_symbol_by_name(e, "f65999");
	assert_non_null(last);
	assert_non_null(last->sec);
	assert_string_equal(last->sec->name, ".text.f65999");
	assert_true(last->shndx >= 0xff00);
	elf_close(e);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize_name),
		cmocka_unit_test(test_rejects_bad_input),
		cmocka_unit_test(test_static_local_renumbered),
		cmocka_unit_test(test_string_shift),
		cmocka_unit_test(test_implied_relocs),
		cmocka_unit_test(test_extended_section_numbering),
	};

	test_select(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
