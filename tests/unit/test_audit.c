/*
 * test_audit.c - hpverify's engine: the disassembly with relocations shown
 * as their targets (on hand-assembled code whose every byte is known), the
 * --base fingerprint check (on packages built in memory by hpbuild's
 * engine from objects compiled here), and the findings writers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "correlate.h"
#include "diff.h"
#include "disasm.h"
#include "report.h"
#include "testutil.h"
#include "verify.h"

/* ---- a hand-made package ---- */

/* Each instruction with the relocation in it: offset of the field inside
 * the code, type, addend, symbol. */
static const uint8_t code[] = {
	0xe8, 0, 0, 0, 0,                          /* 00 call rel32 */
	0x48, 0x8d, 0x3d, 0, 0, 0, 0,              /* 05 lea rdi, [rip] */
	0x8b, 0x05, 0, 0, 0, 0,                    /* 0c mov eax, [rip] */
	0x64, 0xc7, 0x04, 0x25, 0, 0, 0, 0, 3, 0, 0, 0,   /* 12 mov dword ptr fs:[0], 3 */
	0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0,        /* 1e movabs rax, imm64 */
	0x83, 0x05, 0, 0, 0, 0, 0x01,              /* 28 add dword ptr [rip], 1 */
	0xf2, 0x0f, 0x10, 0x05, 0, 0, 0, 0,        /* 2f movsd xmm0, [rip] */
	0x8b, 0x04, 0xc5, 0, 0, 0, 0,              /* 37 mov eax, [rax*8 + disp32] */
	0x8b, 0x83, 0, 0, 0, 0,                    /* 3e mov eax, [rbx + disp32] */
	0x06,                                      /* 44 not an x86-64 instruction */
	0xc3,                                      /* 45 ret */
};

enum { SYM_VALIDATE, SYM_STR, SYM_COUNT, SYM_TV, SYM_TABLE, SYM_CONST, SYM_F, NR_SYMS };

static struct hpk_reloc relocs[] = {
	{ 0x01, R_X86_64_PLT32, -4, SYM_VALIDATE },
	{ 0x08, R_X86_64_PC32, -4, SYM_STR },
	{ 0x0e, R_X86_64_PC32, 4, SYM_COUNT },     /* points 8 bytes into count */
	{ 0x16, R_X86_64_TPOFF32, 0, SYM_TV },
	{ 0x20, R_X86_64_64, 16, SYM_TABLE },
	{ 0x2a, R_X86_64_PC32, -5, SYM_COUNT },    /* an imm8 follows the field */
	{ 0x33, R_X86_64_PC32, -4, SYM_CONST },
	{ 0x3a, R_X86_64_32S, 0, SYM_TABLE },      /* absolute: no immediate, so the displacement */
	{ 0x40, R_X86_64_32S, 8, SYM_TABLE },
};

static const uint8_t str_bytes[] = "invalid length %d\n";
static const uint8_t const_bytes[] = { 0, 0, 0, 0, 0, 0, 0xf8, 0x3f };   /* 1.5 */

static void make_package(struct hpk *p, struct hpk_symbol *syms, struct hpk_func *f,
			 struct hpk_data *d)
{
	memset(p, 0, sizeof(*p));
	syms[SYM_VALIDATE] = (struct hpk_symbol){ .name = "validate_len", .bind = STB_GLOBAL, .type = STT_FUNC, .where = HPK_SYM_EXTERN };
	syms[SYM_STR] = (struct hpk_symbol){ .name = ".str.0", .bind = STB_LOCAL, .type = STT_OBJECT, .where = HPK_SYM_DATA, .index = 0 };
	syms[SYM_COUNT] = (struct hpk_symbol){ .name = "count", .file = "t.c", .bind = STB_LOCAL, .type = STT_OBJECT, .where = HPK_SYM_EXTERN };
	syms[SYM_TV] = (struct hpk_symbol){ .name = "tv", .bind = STB_GLOBAL, .type = STT_TLS, .where = HPK_SYM_EXTERN };
	syms[SYM_TABLE] = (struct hpk_symbol){ .name = "table", .bind = STB_GLOBAL, .type = STT_OBJECT, .where = HPK_SYM_EXTERN };
	syms[SYM_CONST] = (struct hpk_symbol){ .name = ".const.1", .bind = STB_LOCAL, .type = STT_OBJECT, .where = HPK_SYM_DATA, .index = 1 };
	syms[SYM_F] = (struct hpk_symbol){ .name = "f", .bind = STB_GLOBAL, .type = STT_FUNC, .where = HPK_SYM_FUNC, .index = 0 };
	d[0] = (struct hpk_data){ .name = ".str.0", .kind = HPK_DATA_RODATA, .sym = SYM_STR, .align = 1,
				  .size = sizeof(str_bytes), .bytes = str_bytes };
	d[1] = (struct hpk_data){ .name = ".const.1", .kind = HPK_DATA_RODATA, .sym = SYM_CONST, .align = 8,
				  .size = sizeof(const_bytes), .bytes = const_bytes };
	f[0] = (struct hpk_func){ .name = "f", .kind = HPK_FUNC_NEW, .bind = STB_GLOBAL, .sym = SYM_F,
				  .align = 16, .code = code, .code_size = sizeof(code),
				  .relocs = relocs, .nr_relocs = ARRAY_SIZE(relocs) };
	p->syms = syms;
	p->nr_syms = NR_SYMS;
	p->funcs = f;
	p->nr_funcs = 1;
	p->data = d;
	p->nr_data = 2;
}

static void test_relocations_rendered(void **state)
{
	struct hpk p;
	struct hpk_symbol syms[NR_SYMS];
	struct hpk_func f[1];
	struct hpk_data d[2];
	struct hp_err err = { { 0 } };
	struct disasm *dis = disasm_open(&err);
	struct dis_listing l;
	static const struct { uint32_t offset; const char *text; uint32_t nr_relocs; } want[] = {
		{ 0x00, "call validate_len", 1 },
		{ 0x05, "lea rdi, \"invalid length %d\\n\"", 1 },
		{ 0x0c, "mov eax, dword ptr [count+8]", 1 },
		{ 0x12, "mov dword ptr fs:[tv@TPOFF], 3", 1 },
		{ 0x1e, "movabs rax, table+16", 1 },
		{ 0x28, "add dword ptr [count], 1", 1 },
		{ 0x2f, "movsd xmm0, qword ptr [const 0x3ff8000000000000]", 1 },
		{ 0x37, "mov eax, dword ptr [rax*8 + table]", 1 },
		{ 0x3e, "mov eax, dword ptr [rbx + table+8]", 1 },
		{ 0x44, ".byte 0x06", 0 },
		{ 0x45, "ret", 0 },
	};

	assert_non_null(dis);
	make_package(&p, syms, f, d);
	disasm_function(dis, &p, 0, &l);
	assert_int_equal(l.n, ARRAY_SIZE(want));
	for (size_t i = 0; i < l.n; i++) {
		assert_int_equal(l.v[i].offset, want[i].offset);
		assert_string_equal(l.v[i].text, want[i].text);
		assert_int_equal(l.v[i].nr_relocs, want[i].nr_relocs);
	}
	assert_int_equal(l.nr_unattached, 0);
	dis_listing_free(&l);

	/* a field that straddles two instructions is kept out of both */
	relocs[1].offset = 0x0a;   /* lea's field would end at 0x0e, past the lea */
	disasm_function(dis, &p, 0, &l);
	assert_int_equal(l.nr_unattached, 1);
	assert_int_equal(l.unattached[0], 1);
	assert_string_equal(l.v[1].text, "lea rdi, [rip]");
	dis_listing_free(&l);
	relocs[1].offset = 0x08;
	disasm_close(dis);
}

static void test_target_offsets(void **state)
{
	/* call f: addend -4, field 1..5 of a 5-byte call: points at f+0 */
	assert_int_equal(reloc_target_offset(R_X86_64_PLT32, -4, 1, 5), 0);
	/* addl $1, x(%rip): addend -5, one immediate byte after the field */
	assert_int_equal(reloc_target_offset(R_X86_64_PC32, -5, 2, 7), 0);
	/* an absolute field is its addend */
	assert_int_equal(reloc_target_offset(R_X86_64_32S, 24, 3, 7), 24);
}

static void test_text_objects(void **state)
{
	static const uint8_t table[] = { 1, 0, 0, 0, 2, 0, 0, 0 };
	static const uint8_t text[] = "usage: %s\n";
	struct hpk_data d = { .name = ".anon.3", .kind = HPK_DATA_RODATA, .size = sizeof(text), .bytes = text };

	assert_true(pkg_data_is_text(&d));
	d.bytes = table;
	d.size = sizeof(table);
	assert_false(pkg_data_is_text(&d));      /* a jump table is not text */
	d.bytes = text;
	d.size = sizeof(text) - 1;
	assert_false(pkg_data_is_text(&d));      /* no terminating NUL */
	d.size = sizeof(text);
	d.kind = HPK_DATA_DATA;
	assert_false(pkg_data_is_text(&d));      /* writable: a buffer, not a literal */
}

/* ---- --base on packages built by hpbuild's engine ---- */

static const char old_src[] =
	"static int scale(int x) { return x * 3 + 1; }\n"
	"int limit = 100;\n"
	"int check(int n) { if (n > limit) return -1; return scale(n); }\n"
	"int other(int n) { return n + 7; }\n";
static const char new_src[] =
	"static int scale(int x) { return x * 5 + 1; }\n"
	"int limit = 100;\n"
	"int check(int n) { if (n > limit || n < 0) return -1; return scale(n); }\n"
	"int other(int n) { return n + 7; }\n";
static const char unrelated_src[] =
	"int check(int n) { return n * 11 + 2; }\n";

#define FLAGS "-O2 -g -ffunction-sections -fdata-sections -fno-inline"

static struct hpk *build_in_memory(const char *old_path, const char *new_path)
{
	struct hp_err err = { { 0 } };
	struct load_input a = { old_path, NULL, 0, false, false }, c = { new_path, NULL, 0, false, false };
	struct hp_pair pair;
	struct pkg_builder b;

	if (pair_open(&pair, &a, &c, NULL, &err) < 0)
		fail_msg("%s", err.msg);
	builder_init(&b);
	if (build_add_pair(&b, &pair, "unit.o", old_path, new_path, &err) < 0)
		fail_msg("%s", err.msg);
	builder_done(&b);
	pair_close(&pair);
	return b.p;
}

static const struct base_check *check_of(const struct hpk *p, const struct base_result *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(p->funcs[r->v[i].func].name, name))
			return &r->v[i];
	fail_msg("no --base result for %s", name);
	return NULL;
}

static void test_base(void **state)
{
	static const char *const ccs[] = { "gcc", "clang" };

	for (size_t k = 0; k < ARRAY_SIZE(ccs); k++) {
		const char *cc = ccs[k];
		char *old_o, *new_o, *unrel_o;
		struct hp_err err = { { 0 } };
		struct base_result r;
		struct hpk *p;

		if (!have_compiler(cc))
			continue;
		old_o = xstrdup(compile_c(cc, FLAGS, old_src, "old.o"));
		new_o = xstrdup(compile_c(cc, FLAGS, new_src, "new.o"));
		unrel_o = xstrdup(compile_c(cc, FLAGS, unrelated_src, "unrelated.o"));
		p = build_in_memory(old_o, new_o);

		assert_int_equal(verify_base(p, old_o, &r, &err), 0);
		assert_int_equal(r.n, 2);                 /* check and scale replaced */
		assert_int_equal(base_first_mismatch(&r), r.n);
		base_result_free(&r);

		assert_int_equal(verify_base(p, new_o, &r, &err), 0);
		assert_true(base_first_mismatch(&r) < r.n);
		assert_int_not_equal(check_of(p, &r, "check")->status, BASE_MATCH);
		assert_int_not_equal(check_of(p, &r, "check")->status, BASE_MISSING);
		base_result_free(&r);

		/* a global of that name with other code; no 'scale' at all */
		assert_int_equal(verify_base(p, unrel_o, &r, &err), 0);
		assert_int_not_equal(check_of(p, &r, "check")->status, BASE_MATCH);
		assert_int_equal(check_of(p, &r, "scale")->status, BASE_MISSING);
		base_result_free(&r);

		assert_int_equal(verify_base(p, test_path("no-such-base.o"), &r, &err), -1);
		assert_non_null(strstr(err.msg, "no-such-base.o"));
		base_result_free(&r);
		hpk_free(p);
		free(old_o);
		free(new_o);
		free(unrel_o);
	}
}

/* Two translation units with a 'static int scale': the package's is the
 * one from the unit's source file, wherever it sits in the directory. */
static void test_base_static_in_right_unit(void **state)
{
	struct hp_err err = { { 0 } };
	struct base_result r;
	struct hpk *p;
	char *old_o, *new_o;

	if (!have_compiler("gcc"))
		skip();
	old_o = xstrdup(compile_c("gcc", FLAGS, old_src, "unit.o"));
	new_o = xstrdup(compile_c("gcc", FLAGS, new_src, "unitnew.o"));
	p = build_in_memory(old_o, new_o);
	assert_int_equal(run_cmd("mkdir -p '%s/base/a' '%s/base/z'", test_dir(), test_dir()), 0);
	/* another file's scale first in the walk, of another size */
	assert_non_null(compile_c("gcc", FLAGS,
				  "static int scale(int x) { return x * x * x - 9; }\n"
				  "int use_scale(int x) { return scale(x) + 1; }\n", "base/a/a.o"));
	assert_int_equal(run_cmd("cp '%s' '%s/base/z/unit.o'", old_o, test_dir()), 0);
	assert_int_equal(verify_base(p, test_path("base"), &r, &err), 0);
	assert_int_equal(r.nr_objects, 2);
	assert_int_equal(check_of(p, &r, "scale")->status, BASE_MATCH);
	assert_non_null(strstr(check_of(p, &r, "scale")->where, "base/z/unit.o"));
	base_result_free(&r);

	/* only the other file's static: not the function, whatever its bytes */
	assert_int_equal(run_cmd("rm -rf '%s/base/z'", test_dir()), 0);
	assert_int_equal(verify_base(p, test_path("base"), &r, &err), 0);
	assert_int_equal(check_of(p, &r, "scale")->status, BASE_MISSING);
	base_result_free(&r);
	hpk_free(p);
	free(old_o);
	free(new_o);
}

/* ---- findings ---- */

static void test_findings_merge_and_sarif(void **state)
{
	struct finding_ref rec = { .rule = "HP001", .severity = HPK_SEV_ERROR, .symbol = "limit",
				.file = "a.c", .line = 3, .message = "limit changed", .allowed = true };
	struct finding_ref again = rec, other = rec;
	struct vfindings recorded = { 0 }, found = { 0 }, all = { 0 };
	char *doc;

	again.allowed = false;
	other.symbol = "table";
	other.message = "table changed";
	other.file = "dir with space/b.c";
	other.line = 0;
	recorded.v = &rec;
	recorded.n = 1;
	{
		struct finding_ref v[2] = { again, other };
		found.v = v;
		found.n = 2;
		vfindings_merge(&all, &recorded, &found);
	}
	assert_int_equal(all.n, 2);                 /* the repeat is reported once */
	assert_true(all.v[0].allowed);
	assert_string_equal(all.v[1].symbol, "table");

	doc = report_sarif(&all, NULL, 0);
	assert_non_null(strstr(doc, "\"version\": \"2.1.0\""));
	assert_non_null(strstr(doc, "\"ruleId\": \"HP001\""));
	assert_non_null(strstr(doc, "\"level\": \"error\""));
	assert_non_null(strstr(doc, "\"uri\": \"a.c\""));
	assert_non_null(strstr(doc, "\"startLine\": 3"));
	assert_non_null(strstr(doc, "\"uri\": \"dir%20with%20space/b.c\""));
	assert_non_null(strstr(doc, "\"suppressions\""));
	free(doc);
	vfindings_free(&all);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relocations_rendered),
		cmocka_unit_test(test_target_offsets),
		cmocka_unit_test(test_text_objects),
		cmocka_unit_test(test_base),
		cmocka_unit_test(test_base_static_in_right_unit),
		cmocka_unit_test(test_findings_merge_and_sarif),
	};

	test_select(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
