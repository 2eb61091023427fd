/*
 * test_dwarf.c - DWARF facts (lib/dwarf.h) from objects compiled here by
 * gcc and clang: functions (decl lines, next_line, signatures, inlined
 * calls), static locals, type strings and layouts, objects without
 * DWARF, and corrupt DWARF (an error line or a result, never a crash).
 *
 * Base type names are canonical whatever the compiler wrote ("long
 * unsigned int" from gcc, "unsigned long" from clang): both compilers
 * must give "unsigned long", and everything else the same too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "dwarf.h"
#include "elfobj.h"
#include "testutil.h"
#include "util.h"

struct compiler {
	const char *cc;
	const char *producer;    /* expected in DW_AT_producer */
	const char *ulong, *long_, *ushort;
	bool records_inline;     /* DW_AT_inline says "declared inline" */
};

static const struct compiler gcc = {
	"gcc", "GNU C", "unsigned long", "long", "unsigned short", true,
};
/* clang 14 writes DW_INL_inlined whatever the source said */
static const struct compiler clang = {
	"clang", "clang", "unsigned long", "long", "unsigned short", false,
};

/* Each test runs once per compiler, skipped if that one is absent. */
static const struct compiler *compiler_of(void **state)
{
	const struct compiler *c = *state;

	if (!have_compiler(c->cc))
		skip();
	return c;
}

/* Line numbers matter: the tests below name them. */
static const char src_main[] =
	"#include <string.h>\n"                                              /* 1 */
	"struct pkt { int len; char *data; unsigned flags:3; };\n"           /* 2 */
	"static int counter;\n"                                              /* 3 */
	"int global_v = 3;\n"                                                /* 4 */
	"static inline int helper(int x) { return x * 3 + counter; }\n"     /* 5 */
	"int parse_pkt(const char *s, unsigned long n)\n"                    /* 6 */
	"{\n"                                                                /* 7 */
	"\tstatic int calls;\n"                                              /* 8 */
	"\tcalls++;\n"                                                       /* 9 */
	"\treturn (int)strlen(s) + (int)n + helper(calls);\n"                /* 10 */
	"}\n"                                                                /* 11 */
	"long pkt_len(struct pkt *p)\n"                                      /* 12 */
	"{ return p->len + helper(p->flags); }\n"                            /* 13 */
	"void log_msg(const char *fmt, ...) { (void)fmt; }\n"                /* 14 */
	"__attribute__((noreturn)) void die(int code) { for (;;) counter += code; }\n" /* 15 */
	"int apply(int (*fp)(int), int a[16]) { return fp(a[3]); }\n";      /* 16 */

static const char *base_name(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? slash + 1 : path;
}

static struct hp_elf *load(const char *cc, const char *flags, const char *src, const char *out)
{
	struct hp_err err = { { 0 } };
	const char *path = compile_c(cc, flags, src, out);
	struct hp_elf *e;

	assert_non_null(path);
	e = elf_open(path, &err);
	if (!e)
		fail_msg("loading %s: %s", path, err.msg);
	return e;
}

static const struct hp_dwarf_func *func(const struct hp_elf *e, const char *name)
{
	const struct hp_dwarf_func *f = dwarf_find_func(e->dwarf, name);

	if (!f)
		fail_msg("no DWARF function %s", name);
	return f;
}

static bool has_string(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

static void expect_sig(const struct hp_elf *e, const char *name, const char *want)
{
	const struct hp_dwarf_func *f = func(e, name);

	if (strcmp(f->signature, want))
		fail_msg("%s: signature \"%s\", expected \"%s\"", name, f->signature, want);
}

static void expect_lines(const struct hp_elf *e, const char *src_base, const char *name,
			 unsigned line, unsigned next_line)
{
	const struct hp_dwarf_func *f = func(e, name);

	assert_non_null(f->file);
	assert_string_equal(base_name(f->file), src_base);
	if (f->line != line || f->next_line != next_line)
		fail_msg("%s: lines %u..%u, expected %u..%u", name, f->line, f->next_line, line, next_line);
}

/* Every name comes out right: .debug_str offsets and the string offsets
 * table are relocations in a .o, and unapplied they all read as 0. */
static void check_main_facts(const struct compiler *c, const struct hp_elf *e, const char *src_base)
{
	const struct hp_dwarf *d = e->dwarf;
	static const char *const names[] = { "helper", "parse_pkt", "pkt_len", "log_msg", "die", "apply" };
	const struct hp_dwarf_func *f;
	const struct hp_dwarf_var *v;
	const struct hp_dwarf_type *t;
	char want[128];

	assert_non_null(d);
	assert_null(e->dwarf_problem);
	assert_int_equal(d->nr_cus, 1);
	assert_non_null(d->cus[0].producer);
	if (!strstr(d->cus[0].producer, c->producer))
		fail_msg("%s: producer \"%s\"", c->cc, d->cus[0].producer);
	assert_string_equal(base_name(d->cus[0].name), src_base);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		assert_string_equal(func(e, names[i])->name, names[i]);

	expect_lines(e, src_base, "helper", 5, 6);
	expect_lines(e, src_base, "parse_pkt", 6, 12);
	expect_lines(e, src_base, "pkt_len", 12, 14);
	expect_lines(e, src_base, "log_msg", 14, 15);
	expect_lines(e, src_base, "die", 15, 16);
	expect_lines(e, src_base, "apply", 16, UINT_MAX);

	snprintf(want, sizeof(want), "int (const char *, %s)", c->ulong);
	expect_sig(e, "parse_pkt", want);
	snprintf(want, sizeof(want), "%s (struct pkt *)", c->long_);
	expect_sig(e, "pkt_len", want);
	expect_sig(e, "log_msg", "void (const char *, ...)");
	expect_sig(e, "die", "void (int)");
	expect_sig(e, "apply", "int (int (*)(int), int *)");
	expect_sig(e, "helper", "int (int)");

	f = func(e, "parse_pkt");
	assert_true(f->external && f->has_code && !f->noreturn && !f->varargs);
	assert_int_equal(f->nr_params, 2);
	assert_string_equal(f->params[0], "const char *");
	assert_string_equal(f->return_type, "int");
	assert_true(has_string(f->inlined, f->nr_inlined, "helper"));
	assert_true(has_string(func(e, "pkt_len")->inlined, func(e, "pkt_len")->nr_inlined, "helper"));
	assert_true(has_string(func(e, "pkt_len")->types_used, func(e, "pkt_len")->nr_types_used, "struct pkt"));
	assert_int_equal(f->nr_types_used, 0);
	assert_true(func(e, "log_msg")->varargs);
	assert_true(func(e, "die")->noreturn);
	f = func(e, "helper");
	assert_false(f->external);
	assert_false(f->has_code);   /* inlined everywhere at -O2 */
	assert_true(f->is_inline == c->records_inline);

	v = dwarf_find_var(d, NULL, "global_v");
	assert_non_null(v);
	assert_true(v->external);
	assert_null(v->owner);
	assert_int_equal(v->line, 4);
	assert_string_equal(v->type, "int");
	assert_string_equal(base_name(v->file), src_base);
	v = dwarf_find_var(d, NULL, "counter");
	assert_non_null(v);
	assert_false(v->external);
	assert_int_equal(v->line, 3);
	v = dwarf_find_var(d, "parse_pkt", "calls");
	assert_non_null(v);
	assert_string_equal(v->owner, "parse_pkt");
	assert_int_equal(v->line, 8);
	assert_null(dwarf_find_var(d, NULL, "calls"));   /* not file scope */

	t = dwarf_find_type(d, "struct pkt");
	assert_non_null(t);
	assert_int_equal(t->line, 2);
	assert_int_equal(t->byte_size, 24);
	assert_string_equal(t->layout, "len:int@0;data:char *@8;flags:unsigned int:3@bit128");
	assert_null(dwarf_find_func(d, "no_such_function"));
	assert_null(dwarf_find_type(d, "struct no_such"));
}

static void test_functions_and_vars(void **state)
{
	const struct compiler *c = compiler_of(state);
	char out[64], src_base[80];
	struct hp_elf *e;

	snprintf(out, sizeof(out), "main_%s.o", c->cc);
	snprintf(src_base, sizeof(src_base), "%s.c", out);
	e = load(c->cc, "-g -O2", src_main, out);
	check_main_facts(c, e, src_base);
	elf_close(e);
}

/* With one section per function and object, every DWARF reference to
 * code and data is relocated against a different section symbol; and
 * DWARF 4 counts files from 1 where DWARF 5 counts from 0. */
static void test_section_per_function_and_dwarf4(void **state)
{
	static const char *const flags[] = {
		"-g -O2 -ffunction-sections -fdata-sections",
		"-gdwarf-4 -O2",
	};
	const struct compiler *c = compiler_of(state);

	for (size_t k = 0; k < ARRAY_SIZE(flags); k++) {
		char out[64], src_base[80];
		struct hp_elf *e;

		snprintf(out, sizeof(out), "fs%zu_%s.o", k, c->cc);
		snprintf(src_base, sizeof(src_base), "%s.c", out);
		e = load(c->cc, flags[k], src_main, out);
		check_main_facts(c, e, src_base);
		elf_close(e);
	}
}

static void test_type_strings(void **state)
{
	static const char src[] =
		"typedef struct { int a; } anon_t;\n"
		"struct pkt { int len; };\n"
		"const char *const names[3];\n"
		"int (*handlers[4])(int, char *);\n"
		"int (*matrix_ptr)[8];\n"
		"volatile unsigned char flags_v;\n"
		"struct pkt *const pp;\n"
		"anon_t av;\n"
		"union { int i; float f; } uv;\n"
		"enum mode { M_A, M_B = 4, M_C = -2 } mv;\n"
		"char grid[2][3];\n"
		"void (*cb)(void);\n";
	static const struct { const char *var, *type; } cases[] = {
		{ "names", "const char *const [3]" },
		{ "handlers", "int (*[4])(int, char *)" },
		{ "matrix_ptr", "int (*)[8]" },
		{ "flags_v", "volatile unsigned char" },
		{ "pp", "struct pkt *const" },
		{ "av", "anon_t" },
		{ "uv", "union {i:int@0;f:float@0}" },
		{ "mv", "enum mode" },
		{ "grid", "char[2][3]" },
		{ "cb", "void (*)(void)" },
	};
	const struct compiler *c = compiler_of(state);
	char out[64];
	struct hp_elf *e;
	const struct hp_dwarf_type *t;

	snprintf(out, sizeof(out), "types_%s.o", c->cc);
	e = load(c->cc, "-g -O2", src, out);
	for (size_t k = 0; k < ARRAY_SIZE(cases); k++) {
		const struct hp_dwarf_var *v = dwarf_find_var(e->dwarf, NULL, cases[k].var);
		if (!v)
			fail_msg("%s: no variable %s", c->cc, cases[k].var);
		if (strcmp(v->type, cases[k].type))
			fail_msg("%s: %s has type \"%s\", expected \"%s\"", c->cc, cases[k].var,
				 v->type, cases[k].type);
	}
	t = dwarf_find_type(e->dwarf, "enum mode");
	assert_non_null(t);
	assert_string_equal(t->layout, "M_A=0;M_B=4;M_C=-2");
	/* a typedef'd anonymous struct is known by the typedef */
	t = dwarf_find_type(e->dwarf, "anon_t");
	assert_non_null(t);
	assert_string_equal(t->layout, "a:int@0");
	assert_int_equal(t->line, 1);
	elf_close(e);
}

/* The layout string is what tells a changed struct: add a member. */
static void test_layout_changes(void **state)
{
	static const char v1[] =
		"struct conn { int fd; char *buf; unsigned short port; };\n"
		"int conn_fd(struct conn *c) { return c->fd; }\n";
	static const char v2[] =
		"struct conn { int fd; int flags; char *buf; unsigned short port; };\n"
		"int conn_fd(struct conn *c) { return c->fd; }\n";
	const struct compiler *c = compiler_of(state);
	char o1[64], o2[64], want[128];
	struct hp_elf *e1, *e2;
	const struct hp_dwarf_type *t1, *t2;

	snprintf(o1, sizeof(o1), "conn1_%s.o", c->cc);
	snprintf(o2, sizeof(o2), "conn2_%s.o", c->cc);
	e1 = load(c->cc, "-g -O2", v1, o1);
	e2 = load(c->cc, "-g -O2", v2, o2);
	t1 = dwarf_find_type(e1->dwarf, "struct conn");
	t2 = dwarf_find_type(e2->dwarf, "struct conn");
	assert_non_null(t1);
	assert_non_null(t2);
	snprintf(want, sizeof(want), "fd:int@0;buf:char *@8;port:%s@16", c->ushort);
	assert_string_equal(t1->layout, want);
	snprintf(want, sizeof(want), "fd:int@0;flags:int@4;buf:char *@8;port:%s@16", c->ushort);
	assert_string_equal(t2->layout, want);
	assert_int_equal(t1->byte_size, t2->byte_size);   /* same size, other layout */
	assert_true(has_string(func(e1, "conn_fd")->types_used,
			       func(e1, "conn_fd")->nr_types_used, "struct conn"));
	/* the signature did not change */
	assert_string_equal(func(e1, "conn_fd")->signature, func(e2, "conn_fd")->signature);
	elf_close(e1);
	elf_close(e2);
}

/* A static function that is both inlined and called out of line is one
 * function: the concrete copy takes name and line from its origin. */
static void test_concrete_instance(void **state)
{
	static const char src[] =
		"static int worker(int x) { return x * 7 + 1; }\n"       /* 1 */
		"int (*get_worker(void))(int) { return worker; }\n"       /* 2 */
		"int use_worker(int y) { return worker(y) + 2; }\n";     /* 3 */
	const struct compiler *c = compiler_of(state);
	char out[64];
	struct hp_elf *e;
	const struct hp_dwarf_func *f;
	size_t n = 0;

	snprintf(out, sizeof(out), "conc_%s.o", c->cc);
	e = load(c->cc, "-g -O2", src, out);
	for (size_t k = 0; k < e->dwarf->nr_funcs; k++)
		n += !strcmp(e->dwarf->funcs[k].name, "worker");
	assert_int_equal(n, 1);
	f = func(e, "worker");
	assert_true(f->has_code);
	assert_int_equal(f->line, 1);
	assert_int_equal(f->next_line, 2);
	assert_string_equal(f->signature, "int (int)");
	assert_true(has_string(func(e, "use_worker")->inlined, func(e, "use_worker")->nr_inlined, "worker"));
	assert_string_equal(func(e, "get_worker")->signature, "int (*)(int) (void)");
	elf_close(e);
}

/* Block-scope declarations are more DIEs for the same function (gcc
 * writes one per scope): still one function, at its definition. */
static void test_block_scope_declarations(void **state)
{
	static const char src[] =
		"int a(void) { extern int later(int); extern int undefd(int); return later(1) + undefd(2); }\n"
		"int b(void) { extern int undefd(int); return undefd(3); }\n"
		"int later(int x) { return x + 1; }\n";
	const struct compiler *c = compiler_of(state);
	char out[64];
	struct hp_elf *e;
	size_t later = 0, undefd = 0;

	snprintf(out, sizeof(out), "blk_%s.o", c->cc);
	e = load(c->cc, "-g -O0", src, out);
	for (size_t k = 0; k < e->dwarf->nr_funcs; k++) {
		later += !strcmp(e->dwarf->funcs[k].name, "later");
		undefd += !strcmp(e->dwarf->funcs[k].name, "undefd");
	}
	assert_int_equal(later, 1);
	assert_true(undefd <= 1);
	assert_true(func(e, "later")->has_code);
	assert_int_equal(func(e, "later")->line, 3);
	assert_int_equal(func(e, "a")->next_line, 2);
	assert_int_equal(func(e, "b")->next_line, 3);
	elf_close(e);
}

/* Functions from a header are in the header's file, and next_line never
 * crosses files. */
static void test_header_file(void **state)
{
	static const char hdr[] =
		"struct big { long a, b, c; };\n"                                /* 1 */
		"static inline long big_sum(const struct big *p)\n"              /* 2 */
		"{ return p->a + p->b + p->c; }\n";                              /* 3 */
	static const char src[] =
		"#include \"dw_hdr.h\"\n"                                        /* 1 */
		"long total(struct big *p) { return big_sum(p) * 2; }\n";        /* 2 */
	const struct compiler *c = compiler_of(state);
	char out[64], src_base[80];
	struct hp_elf *e;
	const struct hp_dwarf_type *t;

	write_text(test_path("dw_hdr.h"), hdr);
	snprintf(out, sizeof(out), "hdr_%s.o", c->cc);
	snprintf(src_base, sizeof(src_base), "%s.c", out);
	e = load(c->cc, "-g -O2", src, out);
	expect_lines(e, "dw_hdr.h", "big_sum", 2, UINT_MAX);
	expect_lines(e, src_base, "total", 2, UINT_MAX);
	t = dwarf_find_type(e->dwarf, "struct big");
	assert_non_null(t);
	assert_string_equal(base_name(t->file), "dw_hdr.h");
	assert_true(has_string(func(e, "big_sum")->types_used, func(e, "big_sum")->nr_types_used,
			       "struct big"));
	assert_true(has_string(func(e, "total")->inlined, func(e, "total")->nr_inlined, "big_sum"));
	elf_close(e);
}

static void test_no_dwarf(void **state)
{
	const struct compiler *c = compiler_of(state);
	char out[64];
	struct hp_elf *e;

	snprintf(out, sizeof(out), "nodebug_%s.o", c->cc);
	e = load(c->cc, "-O2", src_main, out);
	assert_null(e->dwarf);
	assert_non_null(e->dwarf_problem);
	assert_non_null(strstr(e->dwarf_problem, ".debug_info missing"));
	assert_non_null(strstr(e->dwarf_problem, "rebuild with -g"));
	assert_null(dwarf_find_func(e->dwarf, "parse_pkt"));
	elf_close(e);
}

/* Where section name lives in the file image. */
static size_t section_offset(struct hp_elf *e, const char *name, size_t *size)
{
	struct hp_section *sec = find_section_by_name(e, name);

	/* e->elf is closed once the object is loaded: the offset is where
	 * the section's bytes lie in the image */
	assert_non_null(sec);
	assert_non_null(sec->data);
	assert_true(sec->data >= e->image && sec->data + sec->size <= e->image + e->image_size);
	*size = sec->size;
	return (size_t)(sec->data - e->image);
}

static void expect_corrupt(const char *name, const uint8_t *img, size_t size)
{
	struct hp_err err = { { 0 } };
	struct hp_elf *e = elf_open_mem(name, img, size, &err);

	if (e)
		fail_msg("%s loaded, expected corrupt DWARF", name);
	if (!strstr(err.msg, "corrupt DWARF") || strncmp(err.msg, name, strlen(name)))
		fail_msg("%s: error \"%s\"", name, err.msg);
	assert_null(strchr(err.msg, '\n'));
}

static uint64_t next_random(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Flip bytes of .debug_info and .debug_abbrev: every load ends with a
 * result or one error line naming the file, never a crash or a hang
 * (ASan and UBSan watch).  Some specific damage must be reported. */
static void test_corrupt_dwarf(void **state)
{
	const struct compiler *c = compiler_of(state);
	char out[64];
	struct hp_elf *e;
	size_t info, info_size, abbrev, abbrev_size, errors = 0;
	uint8_t *img, *m;
	size_t size;
	uint64_t rnd = 0x9e3779b97f4a7c15ull;

	snprintf(out, sizeof(out), "fuzz_%s.o", c->cc);
	e = load(c->cc, "-g -O2", src_main, out);
	info = section_offset(e, ".debug_info", &info_size);
	abbrev = section_offset(e, ".debug_abbrev", &abbrev_size);
	size = e->image_size;
	img = xmalloc(size);
	memcpy(img, e->image, size);
	elf_close(e);
	m = xmalloc(size);

	/* unit version 0x99 */
	memcpy(m, img, size);
	put_le(m + info + 4, 0x99, 2);
	expect_corrupt("version.o", m, size);
	/* no abbreviations */
	memcpy(m, img, size);
	memset(m + abbrev, 0, abbrev_size);
	expect_corrupt("abbrev.o", m, size);
	/* unit longer than the section */
	memcpy(m, img, size);
	put_le(m + info, info_size * 2, 4);
	expect_corrupt("length.o", m, size);

	for (int it = 0; it < 400; it++) {
		struct hp_err err = { { 0 } };
		struct hp_elf *x;

		memcpy(m, img, size);
		for (int k = 1 + (int)(next_random(&rnd) % 4); k > 0; k--) {
			bool in_info = next_random(&rnd) % 3;
			size_t at = in_info ? info + next_random(&rnd) % info_size
					    : abbrev + next_random(&rnd) % abbrev_size;
			m[at] = (uint8_t)next_random(&rnd);
		}
		x = elf_open_mem("flipped.o", m, size, &err);
		if (x) {
			assert_true(x->dwarf || x->dwarf_problem);
			elf_close(x);
			continue;
		}
		errors++;
		assert_non_null(strstr(err.msg, "flipped.o: "));
		assert_null(strchr(err.msg, '\n'));
	}
	/* random damage is mostly noticed */
	assert_true(errors > 40);
	free(m);
	free(img);
}

#define PER_COMPILER(t) \
	cmocka_unit_test_prestate(t, (void *)&gcc), \
	cmocka_unit_test_prestate(t, (void *)&clang)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		PER_COMPILER(test_functions_and_vars),
		PER_COMPILER(test_section_per_function_and_dwarf4),
		PER_COMPILER(test_type_strings),
		PER_COMPILER(test_layout_changes),
		PER_COMPILER(test_concrete_instance),
		PER_COMPILER(test_block_scope_declarations),
		PER_COMPILER(test_header_file),
		PER_COMPILER(test_no_dwarf),
		PER_COMPILER(test_corrupt_dwarf),
	};

	test_select(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
