/*
 * test_hpapply.c - hpapply's engine pieces that can be tested without a
 * package: the in-process record (round trip; every truncation and every
 * flipped byte refused, never a crash), the region layout, the choice of
 * an address within rel32 reach, relocation (stubs, GOT slots, values that
 * do not fit), /proc/PID/maps, the symbol tables of this very test binary,
 * and ptrace on a child: stop, a system call run in it, a function called
 * in it, memory written, the stack check: frames found by unwinding, data
 * words on the stack not taken for frames.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>
#include <elf.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "consistency.h"
#include "module.h"
#include "place.h"
#include "procmaps.h"
#include "record.h"
#include "tracee.h"
#include "testutil.h"
#include "util.h"

/* ---- the record ---- */

static void sample_record(struct record *r)
{
	static const char *names[] = { "compute", "helper" };

	memset(r, 0, sizeof(*r));
	r->present = true;
	r->next_seq = 3;
	r->generation = 9;
	r->nr_pkgs = 2;
	r->pkgs = xcalloc(2, sizeof(*r->pkgs));
	for (int i = 0; i < 2; i++) {
		struct rec_pkg *p = &r->pkgs[i];

		memset(p->id, 0x11 * (i + 1), 16);
		p->state = i ? REC_PENDING : REC_APPLIED;
		p->pid = i ? 4242 : 0;
		if (i)
			memset(p->replaces, 0x77, 16);
		p->seq = (uint64_t)i + 1;
		p->module = xasprintf("/usr/lib/libx%d.so", i);
		p->module_bias = 0x7f0000000000ULL + (uint64_t)i * 0x100000;
		p->region = 0x7e0000000000ULL + (uint64_t)i * 0x10000;
		p->region_size = 3 * 4096;
		p->code_size = 100;
		p->tool = xstrdup("hpbuild 0.1.0");
		p->signer = xstrdup(i ? "CD0396ADFB2552AB" : "");
		p->nr_funcs = (uint32_t)i + 1;
		p->funcs = xcalloc(p->nr_funcs, sizeof(*p->funcs));
		for (uint32_t k = 0; k < p->nr_funcs; k++) {
			p->funcs[k].addr = p->module_bias + 0x1100 + k * 0x10;
			p->funcs[k].target = p->region + k * 0x20;
			p->funcs[k].size = 11;
			memcpy(p->funcs[k].orig, "\x55\x48\x89\xe5\x53", 5);
			p->funcs[k].name = xstrdup(names[k]);
			p->funcs[k].file = xstrdup(k ? "util.c" : "");
		}
	}
	r->nr_retained = 1;
	r->retained = xcalloc(1, sizeof(*r->retained));
	r->retained[0] = (struct rec_retained){ 0x7d0000001000ULL, 8192, { 0x33 } };
}

static void test_record_round_trip(void **state)
{
	struct record r, back = { 0 };
	struct hp_err err = { { 0 } };
	uint8_t *buf, *again;
	size_t len, len2;

	(void)state;
	sample_record(&r);
	record_encode(&r, &buf, &len);
	assert_int_equal(record_decode("t", buf, len, &back, &err), 0);
	assert_int_equal(back.nr_pkgs, 2);
	assert_int_equal(back.next_seq, 3);
	assert_int_equal(back.generation, 9);
	assert_int_equal(back.pkgs[0].state, REC_APPLIED);
	assert_int_equal(back.pkgs[1].state, REC_PENDING);
	assert_int_equal(back.pkgs[1].pid, 4242);
	assert_memory_equal(back.pkgs[1].replaces, "\x77\x77\x77\x77\x77\x77\x77\x77\x77\x77\x77\x77\x77\x77\x77\x77", 16);
	assert_true(record_unfinished(&back) == &back.pkgs[1]);
	assert_string_equal(rec_state_name(back.pkgs[1].state), "pending");
	assert_string_equal(back.pkgs[1].module, "/usr/lib/libx1.so");
	assert_string_equal(back.pkgs[0].signer, "");
	assert_string_equal(back.pkgs[1].signer, "CD0396ADFB2552AB");
	assert_int_equal(back.pkgs[1].nr_funcs, 2);
	assert_string_equal(back.pkgs[1].funcs[1].name, "helper");
	assert_string_equal(back.pkgs[1].funcs[1].file, "util.c");
	assert_memory_equal(back.pkgs[1].funcs[1].orig, "\x55\x48\x89\xe5\x53", 5);
	assert_int_equal(back.nr_retained, 1);
	assert_int_equal(back.retained[0].size, 8192);
	assert_true(record_find_func(&back, back.pkgs[1].funcs[1].addr) == &back.pkgs[1].funcs[1]);
	assert_null(record_find_func(&back, 1));
	assert_int_equal(rec_pkg_data_start(&back.pkgs[0]), back.pkgs[0].region + 4096);
	/* the encoding is a function of the content */
	record_encode(&back, &again, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(buf, again, len);
	free(again);
	free(buf);
	record_free(&back);
	record_free(&r);
}

/* A package entry written before the signer field existed (it ends after
 * its functions) reads as applied without a signature check. */
static void test_record_without_signer(void **state)
{
	struct record r, back = { 0 };
	struct hp_err err = { { 0 } };
	XXH3_state_t st;
	uint8_t *buf;
	size_t len, entry;

	(void)state;
	sample_record(&r);
	record_encode(&r, &buf, &len);
	/* package 0's entry starts after the 48-byte header and ends with its
	 * signer: u16 length 0 */
	entry = (size_t)get_le(buf + 48, 4);
	assert_int_equal(get_le(buf + 48 + entry - 2, 2), 0);
	memmove(buf + 48 + entry - 2, buf + 48 + entry, len - (48 + entry));
	len -= 2;
	put_le(buf + 48, entry - 2, 4);
	put_le(buf + 12, len, 4);
	/* the checksum: of bytes [0, used) with its own field (at 40) as zeros */
	XXH3_64bits_reset(&st);
	XXH3_64bits_update(&st, buf, 40);
	XXH3_64bits_update(&st, "\0\0\0\0\0\0\0\0", 8);
	XXH3_64bits_update(&st, buf + 48, len - 48);
	put_le(buf + 40, XXH3_64bits_digest(&st), 8);
	assert_int_equal(record_decode("t", buf, len, &back, &err), 0);
	assert_string_equal(back.pkgs[0].signer, "");
	assert_string_equal(back.pkgs[1].signer, "CD0396ADFB2552AB");
	assert_string_equal(back.pkgs[0].funcs[0].name, "compute");
	free(buf);
	record_free(&back);
	record_free(&r);
}

/* Any damage is caught (checksum, bounds), with one line; never a crash. */
static void test_record_damage(void **state)
{
	struct record r;
	uint8_t *buf;
	size_t len;

	(void)state;
	sample_record(&r);
	record_encode(&r, &buf, &len);
	for (size_t n = 0; n < len; n++) {
		struct record back = { 0 };
		struct hp_err err = { { 0 } };

		assert_int_equal(record_decode("t", buf, n, &back, &err), -1);
		assert_non_null(strstr(err.msg, "t: "));
		record_free(&back);
	}
	for (size_t i = 0; i < len; i++) {
		struct record back = { 0 };
		struct hp_err err = { { 0 } };

		buf[i] ^= 0x40;
		assert_int_equal(record_decode("t", buf, len, &back, &err), -1);
		buf[i] ^= 0x40;
		record_free(&back);
	}
	free(buf);
	record_free(&r);
}

/* ---- layout, placement, relocation ---- */

/* Two functions calling an external function and reading a GOT entry, a
 * string, a zero-filled variable. */
static struct hpk *small_package(void)
{
	static const uint8_t f0[13] = { 0xe8, 0, 0, 0, 0, 0x48, 0x8b, 0x05, 0, 0, 0, 0, 0xc3 };
	static const uint8_t f1[8] = { 0x48, 0x8d, 0x05, 0, 0, 0, 0, 0xc3 };
	static const uint8_t str[6] = "hello";
	struct hpk *p = xcalloc(1, sizeof(*p));

	p->nr_syms = 5;
	p->syms = xcalloc(5, sizeof(*p->syms));
	p->syms[0] = (struct hpk_symbol){ .name = "f0", .where = HPK_SYM_FUNC, .index = 0, .type = STT_FUNC };
	p->syms[1] = (struct hpk_symbol){ .name = "f1", .where = HPK_SYM_FUNC, .index = 1, .type = STT_FUNC };
	p->syms[2] = (struct hpk_symbol){ .name = "puts", .where = HPK_SYM_EXTERN, .type = STT_FUNC };
	p->syms[3] = (struct hpk_symbol){ .name = ".str", .where = HPK_SYM_DATA, .index = 0, .type = STT_OBJECT };
	p->syms[4] = (struct hpk_symbol){ .name = "zeros", .where = HPK_SYM_DATA, .index = 1, .type = STT_OBJECT };
	p->nr_funcs = 2;
	p->funcs = xcalloc(2, sizeof(*p->funcs));
	p->funcs[0] = (struct hpk_func){ .name = "f0", .kind = HPK_FUNC_REPLACE, .align = 16, .code = f0,
					 .code_size = sizeof(f0), .nr_relocs = 2 };
	p->funcs[0].relocs = xcalloc(2, sizeof(struct hpk_reloc));
	p->funcs[0].relocs[0] = (struct hpk_reloc){ 1, R_X86_64_PLT32, -4, 2 };
	p->funcs[0].relocs[1] = (struct hpk_reloc){ 8, R_X86_64_REX_GOTPCRELX, -4, 2 };
	p->funcs[1] = (struct hpk_func){ .name = "f1", .kind = HPK_FUNC_NEW, .align = 16, .code = f1,
					 .code_size = sizeof(f1), .nr_relocs = 1 };
	p->funcs[1].relocs = xcalloc(1, sizeof(struct hpk_reloc));
	p->funcs[1].relocs[0] = (struct hpk_reloc){ 3, R_X86_64_PC32, -4, 3 };
	p->nr_data = 2;
	p->data = xcalloc(2, sizeof(*p->data));
	p->data[0] = (struct hpk_data){ .name = ".str", .kind = HPK_DATA_RODATA, .align = 1, .size = 6, .bytes = str };
	p->data[1] = (struct hpk_data){ .name = "zeros", .kind = HPK_DATA_BSS, .align = 8, .size = 64 };
	return p;
}

static void free_small_package(struct hpk *p)
{
	for (uint32_t i = 0; i < p->nr_funcs; i++)
		free(p->funcs[i].relocs);
	free(p->funcs);
	free(p->data);
	free(p->syms);
	free(p);
}

static void test_layout(void **state)
{
	struct hpk *p = small_package();
	struct layout l;

	(void)state;
	layout_init(&l, p);
	assert_int_equal(l.func_off[0], 0);
	assert_int_equal(l.func_off[1], 16);
	assert_int_equal(l.nr_stubs, 1);      /* puts, called with PLT32 */
	assert_int_equal(l.nr_got, 1);        /* puts, through its GOT slot */
	assert_int_equal(l.stub_base % STUB_SIZE, 0);
	assert_int_equal(l.rodata_off, 4096); /* each part on its own pages */
	assert_int_equal(l.data_off, 8192);
	assert_int_equal(l.size, 3 * 4096);
	assert_true(l.data_off_of[1] % 8 == 0);
	layout_free(&l);
	free_small_package(p);
}

static void test_relocate(void **state)
{
	struct hpk *p = small_package();
	struct hp_err err = { { 0 } };
	uint64_t base = 0x555555500000ULL, ext[5] = { 0 };
	struct layout l;
	uint8_t *img;
	uint64_t stub, slot;

	(void)state;
	layout_init(&l, p);
	img = xmalloc(l.size);
	/* puts far away (a library at 0x7f...): the call goes through a stub */
	ext[2] = 0x7f0000001230ULL;
	assert_int_equal(place_relocate(p, &l, base, ext, img, &err), 0);
	stub = l.stub_base;
	assert_int_equal((int32_t)get_le(img + 1, 4), (int64_t)(base + stub) - (int64_t)(base + 5));
	assert_memory_equal(img + stub, "\xff\x25\0\0\0\0", 6);
	assert_int_equal(get_le(img + stub + 6, 8), ext[2]);
	slot = l.got_base;
	assert_int_equal(get_le(img + slot, 8), ext[2]);
	assert_int_equal((int32_t)get_le(img + 8, 4), (int64_t)(base + slot) - 4 - (int64_t)(base + 8));
	/* f1's lea reaches the string in the read-only part */
	assert_int_equal((int32_t)get_le(img + 16 + 3, 4),
			 (int64_t)(base + l.data_off_of[0]) - 4 - (int64_t)(base + 16 + 3));
	assert_memory_equal(img + l.data_off_of[0], "hello", 6);
	assert_int_equal(img[13], 0xcc);   /* int3 between functions */

	/* a PC32 data reference out of reach cannot be stubbed */
	p->funcs[1].relocs[0].sym = 2;
	p->syms[2].type = STT_OBJECT;
	hp_err_clear(&err);
	assert_int_equal(place_relocate(p, &l, base, ext, img, &err), -1);
	assert_non_null(strstr(err.msg, "out of rel32 reach"));
	p->syms[2].type = STT_FUNC;
	/* R_X86_64_32 of a high address does not fit */
	p->funcs[1].relocs[0] = (struct hpk_reloc){ 3, R_X86_64_32, 0, 3 };
	hp_err_clear(&err);
	assert_int_equal(place_relocate(p, &l, base, ext, img, &err), -1);
	assert_non_null(strstr(err.msg, "does not fit 32 bits"));
	/* and a type hpapply does not know is refused by name */
	p->funcs[1].relocs[0] = (struct hpk_reloc){ 3, R_X86_64_TPOFF32, 0, 3 };
	hp_err_clear(&err);
	assert_int_equal(place_relocate(p, &l, base, ext, img, &err), -1);
	assert_non_null(strstr(err.msg, "R_X86_64_TPOFF32"));
	free(img);
	layout_free(&l);
	free_small_package(p);
}

static void add_map(struct proc_maps *m, uint64_t lo, uint64_t hi, const char *path)
{
	GROW(m->v, m->cap, m->n + 1);
	memset(&m->v[m->n], 0, sizeof(m->v[0]));
	m->v[m->n].start = lo;
	m->v[m->n].end = hi;
	m->v[m->n].path = path ? xstrdup(path) : NULL;
	m->n++;
}

static void test_candidates(void **state)
{
	struct proc_maps m = { 0 };
	uint64_t out[8], mod_lo = 0x555555554000ULL, mod_hi = 0x555555559000ULL;
	size_t n;

	(void)state;
	/* everything below the program is taken, the heap follows it */
	add_map(&m, 0x10000, mod_lo, NULL);
	add_map(&m, mod_lo, mod_hi, "/bin/prog");
	add_map(&m, mod_hi + 0x10000, mod_hi + 0x31000, "[heap]");
	add_map(&m, 0x7f0000000000ULL, 0x7f0000100000ULL, "/lib/libc.so.6");
	add_map(&m, 0x7ffffffde000ULL, 0x7ffffffff000ULL, "[stack]");
	/* the gap between the program and its heap; never right after the
	 * heap (brk grows there), never below the stack */
	n = place_candidates(&m, mod_lo, mod_hi, 0x3000, out, 8);
	assert_int_equal(n, 1);
	assert_int_equal(out[0], mod_hi);
	/* with room below the program too, the nearest end of each gap comes
	 * first, and everything is within reach */
	m.v[0].end = mod_lo - 0x100000;
	n = place_candidates(&m, mod_lo, mod_hi, 0x3000, out, 8);
	assert_int_equal(n, 2);
	assert_int_equal(out[0], mod_lo - 0x3000);
	assert_int_equal(out[1], mod_hi);
	/* a library: the gaps far away are out of reach */
	n = place_candidates(&m, 0x7f0000000000ULL, 0x7f0000100000ULL, 0x3000, out, 8);
	for (size_t i = 0; i < n; i++)
		assert_true(out[i] + 0x3000 <= 0x7f0000000000ULL + (1ULL << 31) &&
			    out[i] >= 0x7f0000100000ULL - (1ULL << 31));
	/* too big for any gap in reach */
	assert_int_equal(place_candidates(&m, mod_lo, mod_hi, 1ULL << 32, out, 8), 0);
	maps_free(&m);
}

/* ---- maps and modules of this process ---- */

__attribute__((noinline)) static int local_marker(int x)
{
	return x * 3 + 1;
}

static void test_maps_and_modules(void **state)
{
	struct proc_maps m;
	struct module_set set;
	struct hp_err err = { { 0 } };
	const struct modsym *c[4];
	struct module *exe;
	int stack_var = 0;
	size_t n;

	(void)state;
	assert_int_equal(maps_read(getpid(), &m, &err), 0);
	assert_non_null(maps_find(&m, (uint64_t)(uintptr_t)&stack_var));
	assert_null(maps_find(&m, 8));
	assert_int_equal(modules_scan(getpid(), &m, &set, &err), 0);
	exe = module_exe(&set);
	assert_non_null(exe);
	assert_int_equal(module_load(&set, exe, &err), 0);
	assert_true(exe->has_symtab);
	/* a static function, found in its own translation unit only */
	n = module_lookup(exe, "local_marker", true, "test_hpapply.c", c, 4);
	assert_int_equal(n, 1);
	assert_int_equal(modsym_addr(exe, c[0]), (uint64_t)(uintptr_t)&local_marker);
	assert_int_equal(module_lookup(exe, "local_marker", true, "other.c", c, 4), 0);
	assert_int_equal(module_lookup(exe, "local_marker", false, NULL, c, 4), 0);
	assert_int_equal(local_marker(2), 7);
	assert_true(same_source_file("tests/unit/test_hpapply.c", "test_hpapply.c"));
	assert_false(same_source_file("a/x.c", "b/x.c"));
	modules_free(&set);
	maps_free(&m);
}

/* ---- ptrace on a child ---- */

static volatile unsigned child_counter;

__attribute__((noinline)) static void child_spin(void)
{
	for (;;)
		child_counter++;
}

__attribute__((noinline)) static long return_42(void)
{
	return 42;
}

/* The size of one of this file's static functions, from the symbol table. */
static uint64_t symbol_size(const struct proc_maps *m, pid_t pid, const char *name)
{
	struct module_set set;
	struct hp_err err = { { 0 } };
	const struct modsym *c[2];
	uint64_t size = 0;

	if (modules_scan(pid, m, &set, &err) == 0 && module_exe(&set) &&
	    module_load(&set, module_exe(&set), &err) == 0 &&
	    module_lookup(module_exe(&set), name, true, "test_hpapply.c", c, 2) == 1)
		size = c[0]->size;
	modules_free(&set);
	assert_true(size > 0);
	return size;
}

static pid_t child_pid;

/* The child dies with us, and on its own after a minute, whatever
 * happens to the test (a failed assertion leaves the test function). */
static pid_t spawn_child(void (*run)(void))
{
	pid_t pid = fork();

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		alarm(60);
		run();
		_exit(0);
	}
	child_pid = pid;
	return pid;
}

/* Until the stopped child counts (it has reached its spin loop): let it
 * run a moment and look again, bounded only to end a hung run (a busy
 * machine may take seconds to schedule it; 30 s at most). */
static void wait_until_counting(struct tracee *t)
{
	struct hp_err err = { { 0 } };
	unsigned before = 0, now = 0;

	for (int i = 0; i < 15000 && now == before; i++) {
		assert_int_equal(tracee_read(t, (uint64_t)(uintptr_t)&child_counter, &before, sizeof(before), &err), 0);
		assert_int_equal(tracee_resume(t, &err), 0);
		usleep(2000);
		assert_int_equal(tracee_stop(t, &err), 0);
		assert_int_equal(tracee_read(t, (uint64_t)(uintptr_t)&child_counter, &now, sizeof(now), &err), 0);
	}
	assert_true(now != before);
}

static int kill_child(void **state)
{
	int st;

	(void)state;
	if (child_pid > 0) {
		kill(child_pid, SIGKILL);
		waitpid(child_pid, &st, 0);
		child_pid = 0;
	}
	return 0;
}

static void test_tracee(void **state)
{
	struct tracee t;
	struct hp_err err = { { 0 } };
	struct proc_maps m;
	pid_t pid = spawn_child(child_spin);
	uint64_t args[6] = { 0 }, ret = 0;
	int64_t r = 0;
	unsigned value = 0;
	struct strbuf why;
	struct guard g;

	(void)state;
	assert_true(pid > 0);
	if (tracee_open(&t, pid, &err) < 0 || tracee_stop(&t, &err) < 0) {
		/* ptrace not permitted here: nothing more to test */
		print_message("skipped: %s\n", err.msg);
		tracee_close(&t);
		return;
	}
	wait_until_counting(&t);   /* it spins in child_spin */
	assert_int_equal(t.nr_threads, 1);
	assert_true(tracee_is_stopped(&t));
	/* no room for the stub given yet: refused, nothing run */
	assert_int_equal(tracee_syscall(&t, SYS_getpid, args, &r, &err), -1);
	assert_non_null(strstr(err.msg, "no room for hpapply's stub"));
	hp_err_clear(&err);
	/* the stub goes after the end of a module's code, in its last page */
	{
		struct module_set mods;
		struct module *mod;
		uint64_t at = 0;

		assert_int_equal(maps_read(pid, &m, &err), 0);
		assert_int_equal(modules_scan(pid, &m, &mods, &err), 0);
		assert_true(modules_exec_slack(&mods, &m, TRACEE_STUB_SIZE, &at));
		mod = module_at(&mods, at);
		assert_non_null(mod);
		assert_true(at >= mod->exec_end && at % 16 == 0 &&
			    at + TRACEE_STUB_SIZE <= ((mod->exec_end + 4095) & ~4095ULL));
		tracee_set_stub(&t, at);
		modules_free(&mods);
		maps_free(&m);
	}
	/* a system call run in the child answers for the child */
	assert_int_equal(tracee_syscall(&t, SYS_getpid, args, &r, &err), 0);
	assert_int_equal(r, pid);
	/* a function called in it returns its value; registers come back */
	assert_int_equal(tracee_call(&t, (uint64_t)(uintptr_t)&return_42, &ret, &err), 0);
	assert_int_equal(ret, 42);
	/* memory: written and read back (the child is a copy of us) */
	value = 1234;
	assert_int_equal(tracee_write(&t, (uint64_t)(uintptr_t)&child_counter, &value, sizeof(value), &err), 0);
	value = 0;
	assert_int_equal(tracee_read(&t, (uint64_t)(uintptr_t)&child_counter, &value, sizeof(value), &err), 0);
	assert_int_equal(value, 1234);
	/* the stack check: the child runs child_spin, called from
	 * spawn_child; return_42 ran (injected) but is on no stack */
	assert_int_equal(maps_read(pid, &m, &err), 0);
	sb_init(&why);
	g = (struct guard){ (uint64_t)(uintptr_t)&child_spin,
			    (uint64_t)(uintptr_t)&child_spin + symbol_size(&m, pid, "child_spin"),
			    GUARD_CODE, "child_spin" };
	assert_int_equal(consistency_check(&t, &m, &g, 1, &why, &err), 1);
	assert_non_null(strstr(why.buf, "child_spin"));
	sb_free(&why);
	sb_init(&why);
	g = (struct guard){ (uint64_t)(uintptr_t)&return_42,
			    (uint64_t)(uintptr_t)&return_42 + symbol_size(&m, pid, "return_42"),
			    GUARD_CODE, "return_42" };
	if (consistency_check(&t, &m, &g, 1, &why, &err) != 0)
		fail_msg("%s", why.buf);
	sb_free(&why);
	maps_free(&m);
	/* it runs again and is still counting from what we wrote (give a
	 * busy machine up to a second to schedule it) */
	for (int i = 0; i < 500 && value == 1234; i++) {
		assert_int_equal(tracee_resume(&t, &err), 0);
		usleep(2000);
		assert_int_equal(tracee_stop(&t, &err), 0);
		assert_int_equal(tracee_read(&t, (uint64_t)(uintptr_t)&child_counter, &value, sizeof(value), &err), 0);
	}
	assert_true(value != 1234);
	tracee_close(&t);
	assert_int_equal(kill(pid, 0), 0);   /* detached, alive */
}

/* For the unwinding test: child_nest keeps a pointer into return_42 in a
 * local array (a data word on the stack, not a frame) and calls
 * nest_spin, which loops until a flag nobody sets (so neither call is a
 * tail call nor a noreturn one: child_nest has a real frame). */
static volatile int nest_stop;
static volatile uintptr_t nest_sink;

__attribute__((noinline)) static void nest_spin(void)
{
	while (!nest_stop)
		child_counter++;
}

__attribute__((noinline)) static void child_nest(void)
{
	volatile uintptr_t keep[2];

	keep[0] = (uintptr_t)&return_42 + 1;
	keep[1] = 0;
	nest_spin();
	nest_sink = keep[0] + keep[1];
}

static struct guard guard_of(const struct proc_maps *m, pid_t pid, void *fn, const char *name,
			     enum guard_kind kind)
{
	uint64_t lo = (uint64_t)(uintptr_t)fn;

	return (struct guard){ lo, lo + symbol_size(m, pid, name), kind, name };
}

/* check GUARD with unwinder u (NULL: the check's own): the answer; why and
 * notes in *why, *notes */
static int check_one(struct tracee *t, struct unwinder *u, const struct proc_maps *m, struct guard g,
		     struct strbuf *why, struct strbuf *notes)
{
	struct hp_err err = { { 0 } };
	int r;

	sb_init(why);
	sb_init(notes);
	r = consistency_check_noted(t, u, m, &g, 1, why, notes, &err);
	assert_int_not_equal(r, -1);
	return r;
}

static void test_unwind(void **state)
{
	struct tracee t;
	struct hp_err err = { { 0 } };
	struct proc_maps m;
	struct strbuf why, notes;
	struct guard spin, nest, r42;
	struct unwinder *u;
	pid_t pid = spawn_child(child_nest);

	(void)state;
	assert_true(pid > 0);
	if (tracee_open(&t, pid, &err) < 0 || tracee_stop(&t, &err) < 0) {
		print_message("skipped: %s\n", err.msg);
		tracee_close(&t);
		return;
	}
	wait_until_counting(&t);   /* it counts in nest_spin */
	assert_int_equal(maps_read(pid, &m, &err), 0);
	spin = guard_of(&m, pid, &nest_spin, "nest_spin", GUARD_CODE);
	nest = guard_of(&m, pid, &child_nest, "child_nest", GUARD_CODE);
	r42 = guard_of(&m, pid, &return_42, "return_42", GUARD_CODE);

	/* the innermost frame executes nest_spin */
	assert_int_equal(check_one(&t, NULL, &m, spin, &why, &notes), 1);
	assert_non_null(strstr(why.buf, "is executing nest_spin"));
	sb_free(&why);
	sb_free(&notes);
	/* child_nest is frame 1, found by unwinding (not by a word) */
	assert_int_equal(check_one(&t, NULL, &m, nest, &why, &notes), 1);
	assert_non_null(strstr(why.buf, "has a frame of child_nest on its stack (frame 1, returning to 0x"));
	sb_free(&why);
	sb_free(&notes);
	/* the pointer into return_42 in child_nest's array is data, not a
	 * frame: no thread is in the way, and every stack was unwound */
	if (check_one(&t, NULL, &m, r42, &why, &notes) != 0)
		fail_msg("%s", why.buf);
	assert_int_equal(notes.len, 0);
	sb_free(&why);
	sb_free(&notes);
	/* the same with an unwinder prepared while the child ran, as a
	 * session does */
	assert_int_equal(tracee_resume(&t, &err), 0);
	u = consistency_prepare(pid);
	assert_non_null(u);
	assert_int_equal(tracee_stop(&t, &err), 0);
	assert_int_equal(check_one(&t, u, &m, nest, &why, &notes), 1);
	assert_non_null(strstr(why.buf, "has a frame of child_nest on its stack (frame 1, returning to 0x"));
	sb_free(&why);
	sb_free(&notes);
	assert_int_equal(check_one(&t, u, &m, r42, &why, &notes), 0);
	assert_int_equal(notes.len, 0);
	sb_free(&why);
	sb_free(&notes);
	consistency_release(u);
	/* but memory to be unmapped: any word pointing into it counts */
	r42.kind = GUARD_REGION;
	assert_int_equal(check_one(&t, NULL, &m, r42, &why, &notes), 1);
	assert_non_null(strstr(why.buf, "a pointer into return_42 on its stack"));
	sb_free(&why);
	sb_free(&notes);
	maps_free(&m);
	tracee_close(&t);
	assert_int_equal(kill(pid, 0), 0);   /* detached, alive */
}

static void test_no_such_process(void **state)
{
	struct tracee t;
	struct hp_err err = { { 0 } };

	(void)state;
	assert_int_equal(tracee_open(&t, 0x3ffffff0, &err), -1);
	assert_string_equal(err.msg, "process 1073741808: no such process");
	tracee_close(&t);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_round_trip),
		cmocka_unit_test(test_record_without_signer),
		cmocka_unit_test(test_record_damage),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_relocate),
		cmocka_unit_test(test_candidates),
		cmocka_unit_test(test_maps_and_modules),
		cmocka_unit_test_teardown(test_tracee, kill_child),
		cmocka_unit_test_teardown(test_unwind, kill_child),
		cmocka_unit_test(test_no_such_process),
	};

	test_select(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
