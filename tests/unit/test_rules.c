/*
 * test_rules.c - the safety rule catalog, findings bookkeeping, and rule
 * predicates on objects compiled here by gcc and clang, plus the rules
 * that run on a package alone (on packages built in memory).
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
#include "rules.h"
#include "rules_int.h"
#include "testutil.h"
#include "util.h"

static const char *const compilers[] = { "gcc", "clang" };

#define FS "-O2 -g -ffunction-sections -fdata-sections"

/* Compile both sources with cc, diff them, run every rule. */
static void check_pair(const char *cc, const char *old_flags, const char *old_src,
		       const char *new_flags, const char *new_src, struct findings *f)
{
	struct hp_err err = { { 0 } };
	struct hp_pair pair;
	const char *op = compile_c(cc, old_flags, old_src, "old.o");
	const char *np = compile_c(cc, new_flags, new_src, "new.o");
	struct load_input a = { op, NULL, 0, false, false }, b = { np, NULL, 0, false, false };

	assert_non_null(op);
	assert_non_null(np);
	if (pair_open(&pair, &a, &b, NULL, &err) < 0)
		fail_msg("loading %s/%s: %s", op, np, err.msg);
	memset(f, 0, sizeof(*f));
	rules_check_pair(&pair, NULL, f);
	findings_sort(f);
	pair_close(&pair);
}

/* The finding of rule on symbol (NULL: any symbol), or NULL. */
static const struct finding *find(const struct findings *f, const char *rule, const char *symbol)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->v[i].rule, rule) && (!symbol || !strcmp(f->v[i].symbol, symbol)))
			return &f->v[i];
	return NULL;
}

static void dump(const char *cc, const struct findings *f)
{
	for (size_t i = 0; i < f->n; i++)
		print_message("  [%s] %s %d %s\n", cc, f->v[i].rule, f->v[i].severity, f->v[i].message);
}

static void expect_finding(const char *cc, const struct findings *f, const char *rule,
			   const char *symbol, int severity)
{
	const struct finding *x = find(f, rule, symbol);

	if (!x || x->severity != severity) {
		dump(cc, f);
		fail_msg("%s: expected %s on %s with severity %d", cc, rule, symbol, severity);
	}
	/* one line, naming the symbol first */
	assert_null(strchr(x->message, '\n'));
	assert_int_equal(strncmp(x->message, symbol, strlen(symbol)), 0);
}

static void expect_none(const char *cc, const struct findings *f, const char *rule)
{
	if (find(f, rule, NULL)) {
		dump(cc, f);
		fail_msg("%s: unexpected %s", cc, rule);
	}
}

static void test_catalog(void **state)
{
	size_t n;
	const struct rule_info *c = rule_catalog(&n);

	(void)state;
	assert_int_equal(n, 15);
	for (size_t i = 0; i < n; i++) {
		char id[32];

		snprintf(id, sizeof(id), "HP%03zu", i + 1);
		assert_string_equal(c[i].id, id);
		assert_ptr_equal(rule_by_id(id), &c[i]);
		assert_true(c[i].severity >= HPK_SEV_NOTE && c[i].severity <= HPK_SEV_ERROR);
		assert_true(strlen(c[i].title) > 5 && strlen(c[i].hazard) > 20 && strlen(c[i].instead) > 20);
	}
	assert_int_equal(rule_by_id("HP010")->severity, HPK_SEV_WARNING);
	assert_int_equal(rule_by_id("HP012")->severity, HPK_SEV_NOTE);
	assert_int_equal(rule_by_id("HP013")->severity, HPK_SEV_WARNING);
	assert_int_equal(rule_by_id("HP014")->severity, HPK_SEV_WARNING);
	assert_int_equal(rule_by_id("HP015")->severity, HPK_SEV_ERROR);
	assert_null(rule_by_id("HP016"));
	/* ids in any case, as --allow and --explain take them */
	assert_ptr_equal(rule_by_id("hp001"), &c[0]);
	assert_ptr_equal(rule_by_id("Hp012"), &c[11]);
	assert_null(rule_by_id("hp01"));
	assert_null(rule_by_id(NULL));
}

static void test_allow_and_sort(void **state)
{
	struct findings f = { 0 };
	const char *allow_one[] = { "HP005" };
	const char *allow_both[] = { "HP005", "HP001" };

	(void)state;
	findings_add(&f, "HP012", HPK_SEV_NOTE, "strnlen", "b.c", 3, xstrdup("strnlen: note"));
	findings_add(&f, "HP005", HPK_SEV_ERROR, "f", "b.c", 3, xstrdup("f: small"));
	findings_add(&f, "HP001", HPK_SEV_ERROR, "limit", "a.c", 9, xstrdup("limit: data"));
	findings_add(&f, "HP010", HPK_SEV_WARNING, "main", NULL, 0, xstrdup("main: runs once"));
	findings_sort(&f);
	assert_null(f.v[0].file);
	assert_string_equal(f.v[1].rule, "HP001");
	assert_string_equal(f.v[2].rule, "HP005");   /* same file and line: by rule */
	assert_string_equal(f.v[3].rule, "HP012");

	assert_int_equal(findings_apply_allow(&f, NULL, 0), HPK_SEV_ERROR);
	assert_int_equal(findings_apply_allow(&f, allow_one, 1), HPK_SEV_ERROR);
	assert_true(f.v[2].overridden);
	assert_false(f.v[1].overridden);
	assert_int_equal(findings_apply_allow(&f, allow_both, 2), HPK_SEV_WARNING);
	assert_true(f.v[1].overridden);
	findings_free(&f);
	assert_int_equal(f.n, 0);
}

static void test_producers(void **state)
{
	static const char gcc_o2[] = "GNU C17 12.2.0 -mtune=generic -march=x86-64 -g -O2 -ffunction-sections";
	int sev;
	char *m;

	(void)state;
	assert_null(compare_producers(gcc_o2, gcc_o2, &sev));
	assert_null(compare_producers(NULL, gcc_o2, &sev));
	/* debug, warning and preprocessor options change no code */
	assert_null(compare_producers(gcc_o2, "GNU C17 12.2.0 -mtune=generic -march=x86-64 -g3 -Wall -O2 -ffunction-sections", &sev));
	m = compare_producers(gcc_o2, "GNU C17 12.2.0 -mtune=generic -march=x86-64 -g -O1 -ffunction-sections", &sev);
	assert_non_null(m);
	assert_int_equal(sev, HPK_SEV_ERROR);
	assert_non_null(strstr(m, "old only: -O2; new only: -O1"));
	free(m);
	m = compare_producers(gcc_o2, "Debian clang version 14.0.6", &sev);
	assert_non_null(m);
	assert_non_null(strstr(m, "different compilers"));
	free(m);
	/* clang with -grecord-command-line: file names and -o are not flags */
	assert_null(compare_producers("clang version 14 /usr/bin/clang -O2 -g -c a.c -o a.o",
				      "clang version 14 /usr/bin/clang -O2 -g -c b.c -o b.o", &sev));
}

static const char small_old[] =
	"int strict(void) { return 0; }\n"
	"int other(int x) { return x * 3 + 1; }\n";
static const char small_new[] =
	"int strict(void) { return 1; }\n"
	"int other(int x) { return x * 3 + 1; }\n";

/* HP005 decides on the old bytes and the padding around them. */
static void test_patch_site_size(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(compilers); i++) {
		const char *cc = compilers[i];
		struct findings f;

		if (!have_compiler(cc))
			continue;
		/* 3 bytes alone in .text.strict */
		check_pair(cc, FS, small_old, FS, small_new, &f);
		expect_finding(cc, &f, "HP005", "strict", HPK_SEV_ERROR);
		assert_non_null(strstr(find(&f, "HP005", "strict")->message, "3 bytes"));
		findings_free(&f);
		/* 5 NOPs at the entry: 8 bytes */
		check_pair(cc, FS " -fpatchable-function-entry=5", small_old,
			   FS " -fpatchable-function-entry=5", small_new, &f);
		expect_none(cc, &f, "HP005");
		findings_free(&f);
		/* 5 NOPs before the entry: room for a long jump there, but
		 * hpapply has no short jump to reach it (redirect.h): refused */
		check_pair(cc, FS " -fpatchable-function-entry=5,5", small_old,
			   FS " -fpatchable-function-entry=5,5", small_new, &f);
		expect_finding(cc, &f, "HP005", "strict", HPK_SEV_ERROR);
		assert_non_null(strstr(find(&f, "HP005", "strict")->message, "precede its entry"));
		findings_free(&f);
		/* one .text: alignment fill follows strict() */
		check_pair(cc, "-O2 -g", small_old, "-O2 -g", small_new, &f);
		expect_finding(cc, &f, "HP005", "strict", HPK_SEV_NOTE);
		assert_non_null(strstr(find(&f, "HP005", "strict")->message, "padding after it"));
		findings_free(&f);
	}
}

static const char loop_old[] =
	"struct node { struct node *next; };\n"
	"unsigned list_len(const struct node *p)\n"
	"{ unsigned n = 0; do { n++; p = p->next; } while (p); return n; }\n";
static const char loop_new[] =
	"struct node { struct node *next; };\n"
	"unsigned list_len(const struct node *p)\n"
	"{ unsigned n = 0; if (!p) return 0; do { n++; p = p->next; } while (p); return n; }\n";

/* HP006: the loop head lands at list_len+2 at -Os, past +5 at -O2. */
static void test_branch_into_site(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(compilers); i++) {
		const char *cc = compilers[i];
		struct findings f;

		if (!have_compiler(cc))
			continue;
		check_pair(cc, "-Os -g -ffunction-sections", loop_old, "-Os -g -ffunction-sections", loop_new, &f);
		expect_finding(cc, &f, "HP006", "list_len", HPK_SEV_ERROR);
		assert_non_null(strstr(find(&f, "HP006", "list_len")->message, "list_len+2"));
		findings_free(&f);
		check_pair(cc, FS, loop_old, FS, loop_new, &f);
		expect_none(cc, &f, "HP006");
		findings_free(&f);
	}
}

/* HP010 from the bytes: no noreturn in the source, but no way out. */
static void test_never_returns_from_code(void **state)
{
	static const char old_src[] =
		"int poll_once(int);\n"
		"void serve(int fd) { for (;;) poll_once(fd); }\n"
		"int ok(int x) { return x > 0 ? poll_once(x) : 0; }\n";
	static const char new_src[] =
		"int poll_once(int);\n"
		"void serve(int fd) { for (;;) if (poll_once(fd) < 0) poll_once(-fd); }\n"
		"int ok(int x) { return x > 1 ? poll_once(x) : 0; }\n";

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(compilers); i++) {
		const char *cc = compilers[i];
		struct findings f;

		if (!have_compiler(cc))
			continue;
		check_pair(cc, FS, old_src, FS, new_src, &f);
		expect_finding(cc, &f, "HP010", "serve", HPK_SEV_WARNING);
		assert_non_null(strstr(find(&f, "HP010", "serve")->message, "no return"));
		assert_null(find(&f, "HP010", "ok"));
		findings_free(&f);
	}
}

/* HP009: absolute addresses in -fno-pic code; HP001 and HP002 on data. */
static void test_relocs_and_data(void **state)
{
	static const char old_src[] =
		"#include <stdio.h>\n"
		"int limit = 10;\n"
		"int show(int v) { return printf(\"v=%d\\n\", v + limit); }\n";
	static const char new_src[] =
		"#include <stdio.h>\n"
		"int limit = 20;\n"
		"__thread int depth;\n"
		"int show(int v) { return printf(\"value=%d\\n\", v + limit + depth); }\n";

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(compilers); i++) {
		const char *cc = compilers[i];
		struct findings f;

		if (!have_compiler(cc))
			continue;
		check_pair(cc, FS " -fno-pic", old_src, FS " -fno-pic", new_src, &f);
		expect_finding(cc, &f, "HP009", "show", HPK_SEV_ERROR);
		expect_finding(cc, &f, "HP001", "limit", HPK_SEV_ERROR);
		expect_finding(cc, &f, "HP002", "depth", HPK_SEV_ERROR);
		findings_free(&f);
		check_pair(cc, FS, old_src, FS, old_src, &f);
		assert_int_equal(f.n, 0);
		findings_free(&f);
	}
}

/* The package-only rules, on a package built in memory. */
static void test_package_rules(void **state)
{
	static const uint8_t code[] = { 0x31, 0xc0, 0xc3 };
	struct hpk_reloc relocs[] = { { .offset = 1, .type = R_X86_64_32, .addend = 0, .sym = 0 } };
	struct hpk_symbol syms[] = { { .name = "msg", .bind = STB_LOCAL, .type = STT_OBJECT, .where = HPK_SYM_EXTERN } };
	struct hpk_func funcs[] = {
		{ .name = "strict", .file = "a.c", .line = 3, .kind = HPK_FUNC_REPLACE, .bind = STB_GLOBAL,
		  .code = code, .code_size = 3, .old_size = 3 },
		{ .name = "main", .file = "a.c", .line = 9, .kind = HPK_FUNC_REPLACE, .bind = STB_GLOBAL,
		  .code = code, .code_size = 3, .old_size = 40, .relocs = relocs, .nr_relocs = 1 },
	};
	struct hpk_unit units[] = { { .name = "a.o", .source = "a.c",
				      .old_producer = "GNU C17 12.2.0 -O2", .new_producer = "GNU C17 12.2.0 -O0" } };
	struct hpk_finding recorded[] = { { .rule = "HP010", .severity = HPK_SEV_WARNING, .symbol = "main" } };
	struct hpk p = { .units = units, .nr_units = 1, .syms = syms, .nr_syms = 1,
			 .funcs = funcs, .nr_funcs = 2 };
	struct findings f = { 0 };

	(void)state;
	rules_check_package(&p, &f);
	expect_finding("package", &f, "HP005", "strict", HPK_SEV_ERROR);
	expect_finding("package", &f, "HP009", "main", HPK_SEV_ERROR);
	expect_finding("package", &f, "HP010", "main", HPK_SEV_WARNING);
	expect_finding("package", &f, "HP011", "a.c", HPK_SEV_ERROR);
	assert_int_equal(f.n, 4);
	findings_free(&f);

	/* what hpbuild recorded is shown from the package, not found again */
	p.findings = recorded;
	p.nr_findings = 1;
	rules_check_package(&p, &f);
	assert_null(find(&f, "HP010", "main"));
	assert_int_equal(f.n, 3);
	findings_free(&f);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_catalog),
		cmocka_unit_test(test_allow_and_sort),
		cmocka_unit_test(test_producers),
		cmocka_unit_test(test_patch_site_size),
		cmocka_unit_test(test_branch_into_site),
		cmocka_unit_test(test_never_returns_from_code),
		cmocka_unit_test(test_relocs_and_data),
		cmocka_unit_test(test_package_rules),
	};

	test_select(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
