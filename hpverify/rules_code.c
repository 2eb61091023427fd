/*
 * rules_code.c - the rules about machine code and relocations: the patch
 * site (HP005, HP006), what hpapply can resolve (HP009), functions that
 * never return (HP010), and new external dependencies (HP012).
 *
 * A package redirects a replaced function by writing a 5-byte 'jmp rel32'
 * over the first bytes of its OLD code in the running program (redirect.h
 * is the one description of that jump, shared with hpapply).  Whether
 * that is safe is decided on the old object's bytes, decoded with
 * capstone: the instructions, not the symbol sizes, say what the jump
 * overwrites and who branches there.
 */
#include "rules_int.h"

#include <capstone/capstone.h>
#include <stdlib.h>
#include <string.h>

#include "fingerprint.h"
#include "reloc.h"

/* ---- decoding ---- */

struct decoder {
	csh h;
	cs_insn *insn;
	bool ok;
};

static bool decoder_open(struct decoder *d)
{
	memset(d, 0, sizeof(*d));
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &d->h) != CS_ERR_OK)
		return false;
	cs_option(d->h, CS_OPT_DETAIL, CS_OPT_ON);
	d->insn = cs_malloc(d->h);
	d->ok = true;
	return true;
}

static void decoder_close(struct decoder *d)
{
	if (!d->ok)
		return;
	cs_free(d->insn, 1);
	cs_close(&d->h);
	d->ok = false;
}

/* Decode the instruction at 'off' of sec (not past 'end').  false when the
 * bytes do not decode. */
static bool decode_at(struct decoder *d, const struct hp_section *sec, uint64_t off, uint64_t end)
{
	const uint8_t *code;
	size_t size;
	uint64_t addr = off;

	if (!sec->data || off >= end || end > sec->size)
		return false;
	code = sec->data + off;
	size = end - off;
	return cs_disasm_iter(d->h, &code, &size, &addr, d->insn);
}

/* Padding nobody executes: a NOP of any length, or INT3 fill. */
static bool is_fill_insn(const cs_insn *i)
{
	return i->id == X86_INS_NOP || i->id == X86_INS_INT3 ||
	       (i->size == 2 && i->bytes[0] == 0x66 && i->bytes[1] == 0x90);
}

/* First relocation of sec at or after offset. */
static size_t reloc_lower(const struct hp_section *sec, uint64_t offset)
{
	size_t lo = 0, hi = sec->nr_relocs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sec->relocs[mid].offset < offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool has_reloc_in(const struct hp_section *sec, uint64_t start, uint64_t end)
{
	size_t i = reloc_lower(sec, start);
	return i < sec->nr_relocs && sec->relocs[i].offset < end;
}

/* Start of the first symbol of sec after offset 'after', or the section end. */
static uint64_t next_symbol_start(const struct hp_section *sec, uint64_t after)
{
	for (size_t i = 0; i < sec->nr_syms; i++)
		if (sec->syms[i]->value > after && sec->syms[i]->type != STT_SECTION)
			return sec->syms[i]->value;
	return sec->size;
}

/* Bytes of function s: its size, or up to the next symbol when the
 * symbol has none (hand-written assembly often omits .size). */
static uint64_t func_span(const struct hp_symbol *s)
{
	return s->size ? s->size : next_symbol_start(s->sec, s->value) - s->value;
}

/* ---- HP005: patch site too small ---- */

/* Length of the fill (NOP/INT3) run from 'start', up to 'limit'. */
static uint64_t fill_run(struct decoder *d, const struct hp_section *sec, uint64_t start, uint64_t limit)
{
	uint64_t p = start;

	if (has_reloc_in(sec, start, limit))
		limit = sec->relocs[reloc_lower(sec, start)].offset;
	while (p < limit && decode_at(d, sec, p, limit) && is_fill_insn(d->insn))
		p += d->insn->size;
	return p - start;
}

/* Padding after function s in its own section, before anything else
 * starts there: gcc's and clang's alignment fill between functions. */
static uint64_t fill_after(struct decoder *d, const struct hp_symbol *s)
{
	uint64_t end = s->value + func_span(s), limit = next_symbol_start(s->sec, s->value);

	return limit > end ? fill_run(d, s->sec, end, limit) : 0;
}

/* Padding right before function s: -fpatchable-function-entry=N,M's M
 * NOPs, ms_hook_prologue's INT3s, or alignment fill after the previous
 * function.  It must decode as fill and end exactly at the entry. */
static uint64_t fill_before(struct decoder *d, const struct hp_symbol *s)
{
	const struct hp_section *sec = s->sec;
	uint64_t lo = 0;

	for (size_t i = 0; i < sec->nr_syms; i++) {
		const struct hp_symbol *p = sec->syms[i];
		if (p != s && p->type != STT_SECTION && p->value < s->value && p->value + p->size > lo)
			lo = p->value + p->size > s->value ? s->value : p->value + p->size;
	}
	if (s->value > lo + 64)
		lo = s->value - 64;
	for (uint64_t start = lo; start + PATCH_JMP_SIZE <= s->value; start++)
		if (!has_reloc_in(sec, start, s->value) && fill_run(d, sec, start, s->value) == s->value - start)
			return s->value - start;
	return 0;
}

/* "xor eax, eax; ret": the instructions of s, for the message. */
static void describe_code(struct decoder *d, const struct hp_symbol *s, struct strbuf *sb)
{
	uint64_t end = s->value + func_span(s);

	for (uint64_t p = s->value; p < end && decode_at(d, s->sec, p, end); p += d->insn->size)
		sb_addf(sb, "%s%s%s%s", sb->len ? "; " : "", d->insn->mnemonic,
			d->insn->op_str[0] ? " " : "", d->insn->op_str);
	if (!sb->len)
		sb_adds(sb, "undecodable");
}

static void add_site(struct rule_ctx *c, const struct hp_symbol *o, uint64_t start, uint64_t end)
{
	c->sites = xrealloc(c->sites, (c->nr_sites + 1) * sizeof(*c->sites));
	c->sites[c->nr_sites++] = (struct patch_site){ .func = o, .start = start, .end = end };
}

/*
 * Where the redirect of replaced function o goes, or why it cannot:
 *  - o is at least 5 bytes long: the jump replaces its first bytes;
 *  - o is shorter, but fill follows it in its section: the jump runs into
 *    the fill (noted: hpapply must find the fill in memory too);
 *  - otherwise the jump would overwrite the code after o: HP005.  Fill
 *    before the entry (-fpatchable-function-entry=N,M, ms_hook_prologue)
 *    does not help: hpapply has no 2-byte short jump (redirect.h), and
 *    the finding says so.
 * Example: 'int f(void) { return 0; }' at -O2 is 'xor eax, eax; ret',
 * 3 bytes, alone in .text.f with -ffunction-sections.
 */
static void decide_site(struct rule_ctx *c, struct decoder *d, const struct hp_symbol *o)
{
	uint64_t span = func_span(o), after, before;
	struct strbuf code;

	if (span >= PATCH_JMP_SIZE) {
		add_site(c, o, o->value, o->value + PATCH_JMP_SIZE);
		return;
	}
	after = fill_after(d, o);
	if (span + after >= PATCH_JMP_SIZE) {
		add_site(c, o, o->value, o->value + PATCH_JMP_SIZE);
		report_sym(c, "HP005", HPK_SEV_NOTE, o,
			   "only %llu bytes long; the redirect also overwrites %llu bytes of the padding after it",
			   (unsigned long long)span, (unsigned long long)(PATCH_JMP_SIZE - span));
		return;
	}
	before = fill_before(d, o);
	if (before >= PATCH_JMP_SIZE) {
		/* room for the long jump before the entry, but hpapply writes
		 * only the 5-byte jump at the entry (redirect.h): no short jump */
		add_site(c, o, o->value, o->value + span);
		report_sym(c, "HP005", HPK_SEV_ERROR, o,
			   "only %llu bytes long; %llu bytes of padding precede its entry, but the redirect is a 5-byte jump at the entry itself (hpapply writes no 2-byte short jump)",
			   (unsigned long long)span, (unsigned long long)before);
		return;
	}
	add_site(c, o, o->value, o->value + span);
	sb_init(&code);
	describe_code(d, o, &code);
	report_sym(c, "HP005", HPK_SEV_ERROR, o,
		   "only %llu bytes long (%s), shorter than the 5-byte jump that redirects it, with no padding made for it",
		   (unsigned long long)span, code.buf);
	sb_free(&code);
}

void check_patch_site_size(struct rule_ctx *c)
{
	struct decoder d;

	if (!decoder_open(&d))
		return;
	for_each_sym(c->old, o)
		if (is_replaced(c, o) && o->sec && o->sec->data)
			decide_site(c, &d, o);
	decoder_close(&d);
}

/* ---- HP006: branch into the patch site ---- */

struct site_hit {
	const struct hp_symbol *from;   /* the function or object holding the branch */
	const char *from_sec;
	uint64_t target;                /* offset in the site's section */
	size_t count;
};

/*
 * A branch lands inside the bytes the redirect overwrites, anywhere but
 * the entry (which then holds the jump, so a branch there is a call of
 * the new code).  Landing inside would execute the middle of the jump.
 * Example: 'do { n++; x >>= 1; } while (x);' after 'xor eax, eax' puts
 * the loop head at f+2: the loop branches back into the site.
 */
static const struct patch_site *site_hit(const struct rule_ctx *c, const struct hp_section *sec, int64_t pos)
{
	for (size_t i = 0; i < c->nr_sites; i++) {
		const struct patch_site *s = &c->sites[i];

		if (s->func->sec == sec && pos >= (int64_t)s->start && pos < (int64_t)s->end &&
		    pos != (int64_t)s->func->value)
			return s;
	}
	return NULL;
}

static void note_hit(const struct rule_ctx *c, struct site_hit *hits, const struct patch_site *s,
		     const struct hp_symbol *from, const struct hp_section *from_sec, int64_t pos)
{
	struct site_hit *h = &hits[s - c->sites];

	if (!h->count++) {
		h->from = from;
		h->from_sec = from_sec->name;
		h->target = (uint64_t)pos;
	}
}

static void scan_function_branches(struct rule_ctx *c, struct decoder *d, const struct hp_symbol *f,
				   struct site_hit *hits)
{
	const struct hp_section *sec = f->sec;
	uint64_t end = f->value + func_span(f);

	for (uint64_t p = f->value; p < end;) {
		uint64_t iend;
		size_t ri;
		bool had_reloc = false;

		if (!decode_at(d, sec, p, end)) {
			p++;
			continue;
		}
		iend = p + d->insn->size;
		for (ri = reloc_lower(sec, p); ri < sec->nr_relocs && sec->relocs[ri].offset < iend; ri++) {
			const struct patch_site *s;
			int64_t pos;

			had_reloc = true;
			if (reloc_code_position(sec, &sec->relocs[ri], iend, &pos) && (s = site_hit(c, sec->relocs[ri].sym->sec, pos)))
				note_hit(c, hits, s, f, sec, pos);
		}
		if (!had_reloc && cs_insn_group(d->h, d->insn, CS_GRP_BRANCH_RELATIVE) &&
		    d->insn->detail->x86.op_count == 1 && d->insn->detail->x86.operands[0].type == X86_OP_IMM) {
			const struct patch_site *s = site_hit(c, sec, d->insn->detail->x86.operands[0].imm);
			if (s)
				note_hit(c, hits, s, f, sec, d->insn->detail->x86.operands[0].imm);
		}
		p = iend;
	}
}

static void scan_data_branches(struct rule_ctx *c, const struct hp_section *sec, struct site_hit *hits)
{
	sec_for_each_reloc(sec, r) {
		const struct patch_site *s;
		int64_t pos;

		if (reloc_code_position(sec, r, 0, &pos) && (s = site_hit(c, r->sym->sec, pos)))
			note_hit(c, hits, s, find_symbol_containing(sec, r->offset), sec, pos);
	}
}

static void report_site_hit(struct rule_ctx *c, const struct patch_site *site, const struct site_hit *h)
{
	const struct hp_symbol *f = site->func;
	long long off = (long long)h->target - (long long)f->value;
	struct strbuf who;

	sb_init(&who);
	if (h->from == f)
		sb_addf(&who, "its own code (a loop) branches to %s%+lld", f->name, off);
	else if (h->from)
		sb_addf(&who, "%s branches to %s%+lld", h->from->name, f->name, off);
	else if (!strncmp(h->from_sec, ".rodata", 7))
		/* PIC jump tables are the only relocated .rodata tables */
		sb_addf(&who, "a jump table in %s points to %s%+lld", h->from_sec, f->name, off);
	else
		/* .orc_unwind_ip, __jump_table, __ex_table, a table of the program's own */
		sb_addf(&who, "the table %s points to %s%+lld", h->from_sec, f->name, off);
	report_sym(c, "HP006", HPK_SEV_ERROR, f, "%s, inside the %llu bytes the redirect overwrites%s",
		   who.buf, (unsigned long long)(site->end - site->start), h->count > 1 ? " (and more)" : "");
	sb_free(&who);
}

static bool sec_has_site(const struct rule_ctx *c, const struct hp_section *sec)
{
	for (size_t i = 0; i < c->nr_sites; i++)
		if (c->sites[i].func->sec == sec)
			return true;
	return false;
}

/* Whether f can hold a branch into a site at all: a branch without a
 * relocation stays in f's section, one with a relocation goes to its
 * symbol's section; if none of those holds a site, site_hit() finds
 * nothing in f, and f need not be disassembled (on SQLite that was 12 %
 * of hpbuild's time, for the few sites of a fix). */
static bool may_branch_into_site(const struct rule_ctx *c, const struct hp_symbol *f)
{
	const struct hp_section *sec = f->sec;
	uint64_t end = f->value + func_span(f);

	if (sec_has_site(c, sec))
		return true;
	for (size_t ri = reloc_lower(sec, f->value); ri < sec->nr_relocs && sec->relocs[ri].offset < end; ri++) {
		const struct hp_symbol *t = sec->relocs[ri].sym;
		if (t && t->sec && sec_has_site(c, t->sec))
			return true;
	}
	return false;
}

void check_branch_into_site(struct rule_ctx *c)
{
	struct site_hit *hits;
	struct decoder d;

	if (!c->nr_sites || !decoder_open(&d))
		return;
	hits = xcalloc(c->nr_sites, sizeof(*hits));
	for_each_sec(c->old, sec) {
		if (is_bookkeeping_sec(sec) || !sec->data)
			continue;
		if (!is_text_sec(sec)) {
			scan_data_branches(c, sec, hits);
			continue;
		}
		for (size_t i = 0; i < sec->nr_syms; i++)
			if (sec->syms[i]->kind == HP_SYM_FUNC && may_branch_into_site(c, sec->syms[i]))
				scan_function_branches(c, &d, sec->syms[i], hits);
	}
	for (size_t i = 0; i < c->nr_sites; i++)
		if (hits[i].count)
			report_site_hit(c, &c->sites[i], &hits[i]);
	free(hits);
	decoder_close(&d);
}

/* ---- HP009: relocations and symbols hpapply cannot handle ---- */

/*
 * A relocation hpapply can resolve in a running process (lib/reloc.c's
 * table is the one list: PC32, PLT32, 64, GOTPCREL, GOTPCRELX,
 * REX_GOTPCRELX, GOTTPOFF, PC64).  A rel8 branch the assembler resolved
 * between two functions of one section is not one: no package relocation
 * can reach new code from one byte away.
 * Example: -fno-pic code loads a string's address with R_X86_64_32.
 */
static bool is_supported_reloc(const struct hp_reloc *r)
{
	const struct hp_reloc_info *ri = reloc_info(r->type);

	return ri && ri->applier_ok && !(r->implied && r->type == R_X86_64_PC8);
}

/*
 * hpapply(1) resolves R_X86_64_32 and 32S where the value fits in 32 bits
 * (sign-extended for 32S): a program loaded low, not PIE.  Whether it
 * fits is known only in the running process, so the rule refuses them;
 * the message says so instead of "cannot".
 */
const char *unresolved_reloc_why(unsigned type)
{
	if (type == R_X86_64_32 || type == R_X86_64_32S)
		return " unless the address fits in 32 bits, which only the running process can tell"
		       " (absolute addresses of non-PIC code)";
	return "";
}

/*
 * A symbol kind hpapply can resolve: functions, objects, TLS through the
 * GOT, undefined symbols by name, sections through the symbol or content
 * there.  Not: a GNU indirect function defined here (the program's symbol
 * is its resolver, not the code it picked) or an absolute symbol.
 */
static bool is_supported_symbol(const struct hp_symbol *s)
{
	return s->type != STT_GNU_IFUNC && s->shndx != SHN_ABS;
}

struct reloc_problems {
	char *first;
	size_t count;
};

static void reloc_problem(struct reloc_problems *p, char *msg)
{
	if (!p->count++)
		p->first = msg;
	else
		free(msg);
}

static void describe_reloc_target(const struct hp_section *sec, const struct hp_reloc *r, struct strbuf *sb)
{
	struct hp_target t;

	resolve_target(sec, r, &t);
	if (t.kind == HP_TARGET_NONE)
		sb_adds(sb, "nothing");
	else
		describe_target(&t, sb);
}

static void check_reloc_list(const struct hp_section *sec, const struct hp_reloc *v, size_t n,
			     uint64_t base, struct reloc_problems *p)
{
	for (size_t i = 0; i < n; i++) {
		const struct hp_reloc *r = &v[i];
		unsigned long long off = r->offset - base;
		struct strbuf target;

		if (is_supported_reloc(r) && (!r->sym || is_supported_symbol(r->sym)))
			continue;
		sb_init(&target);
		describe_reloc_target(sec, r, &target);
		if (r->implied && r->type == R_X86_64_PC8)
			reloc_problem(p, xasprintf("a 1-byte jump to %s at +0x%llx that the assembler resolved without a relocation (build with -ffunction-sections)",
						   target.buf, off));
		else if (!is_supported_reloc(r))
			reloc_problem(p, xasprintf("relocation %s to %s at +0x%llx%s", reloc_name(r->type), target.buf, off,
						   unresolved_reloc_why(r->type)));
		else
			reloc_problem(p, xasprintf("a reference to %s symbol %s at +0x%llx",
						   r->sym->type == STT_GNU_IFUNC ? "indirect-function (ifunc)" : "absolute",
						   r->sym->name, off));
		sb_free(&target);
	}
}

/* The relocations of data the package copies for n: new objects and
 * anonymous regions (jump tables, pointer tables) it refers to. */
static void check_copied_data(const struct hp_symbol *n, struct reloc_problems *p)
{
	sym_for_each_reloc(n, r) {
		struct hp_target t;

		resolve_target(n->sec, r, &t);
		if (t.kind == HP_TARGET_SYMBOL && t.sym->kind == HP_SYM_OBJECT && !t.sym->twin && t.sym->sec)
			check_reloc_list(t.sym->sec, t.sym->relocs, t.sym->nr_relocs, t.sym->value, p);
		else if (t.kind == HP_TARGET_ANON) {
			size_t lo = reloc_lower(t.sec, t.start), hi = reloc_lower(t.sec, t.start + t.len);
			check_reloc_list(t.sec, t.sec->relocs + lo, hi - lo, t.start, p);
		}
	}
}

void check_relocations(struct rule_ctx *c)
{
	for_each_sym(c->new, n) {
		struct reloc_problems p = { .first = NULL, .count = 0 };

		if (!is_packaged(c, n))
			continue;
		if (!is_supported_symbol(n))
			reloc_problem(&p, xstrdup("an indirect function (ifunc): the program calls what its resolver picked"));
		check_reloc_list(n->sec, n->relocs, n->nr_relocs, n->value, &p);
		check_copied_data(n, &p);
		if (p.count)
			report(c, "HP009", HPK_SEV_ERROR, package_name(n), n->file, n->line,
			       "hpapply cannot resolve %s%s", p.first, p.count > 1 ? " (and more)" : "");
		free(p.first);
	}
}

/* ---- HP010: a changed function that never returns ---- */

/* A jump that may leave f: indirect, or direct to outside it. */
static bool jump_leaves(struct decoder *d, const struct hp_symbol *f)
{
	const cs_x86 *x = &d->insn->detail->x86;
	uint64_t iend = d->insn->address + d->insn->size;

	if (x->op_count != 1 || x->operands[0].type != X86_OP_IMM)
		return true;
	if (has_reloc_in(f->sec, d->insn->address, iend))
		return true;   /* a tail call through a relocation */
	return x->operands[0].imm < (int64_t)f->value || x->operands[0].imm >= (int64_t)(f->value + f->size);
}

/* f's code has a way back to its caller: a ret, or a jump out of it. */
static bool has_way_out(struct decoder *d, const struct hp_symbol *f)
{
	uint64_t end = f->value + func_span(f);

	for (uint64_t p = f->value; p < end;) {
		if (!decode_at(d, f->sec, p, end))
			return true;   /* cannot tell: assume it returns */
		if (cs_insn_group(d->h, d->insn, CS_GRP_RET))
			return true;
		if (cs_insn_group(d->h, d->insn, CS_GRP_JUMP) && jump_leaves(d, f))
			return true;
		p += d->insn->size;
	}
	return false;
}

static bool has_children(const struct hp_elf *e, const struct hp_symbol *f)
{
	for_each_sym(e, s)
		if (s->parent == f)
			return true;
	return false;
}

/*
 * A replaced function that, once entered, never returns: main, a function
 * DWARF marks noreturn, or code with no ret and no jump out (an endless
 * loop, or one that ends in exit()).  The redirect only catches new
 * calls; a thread already inside keeps running the old code for good, and
 * main is never called again.  Example: 'int main(void) { for (;;)
 * serve(); }' changed to call serve_checked().
 */
static const char *never_returns(struct rule_ctx *c, struct decoder *d, const struct hp_symbol *o,
				 const struct hp_symbol *n)
{
	const struct hp_dwarf_func *a = dwarf_func_of(c->old, o), *b = dwarf_func_of(c->new, n);

	if (!strcmp(o->name, "main") && !is_local_sym(o))
		return "main runs once; the running program is already inside it";
	if ((a && a->noreturn) || (b && b->noreturn))
		return "declared noreturn; a thread already inside it keeps running the old code";
	if (d->ok && o->sec && o->sec->data && !has_children(c->old, o) && !has_way_out(d, o))
		return "its code has no return and no jump out; a thread already inside it keeps running the old code";
	return NULL;
}

void check_never_returns(struct rule_ctx *c)
{
	struct decoder d;

	if (!c->old->dwarf || !c->new->dwarf)
		note_without_dwarf(c);
	decoder_open(&d);
	for_each_sym(c->old, o) {
		const char *why;

		if (is_replaced(c, o) && (why = never_returns(c, &d, o, o->twin)))
			report_sym(c, "HP010", HPK_SEV_WARNING, o, "%s; the new code would only run on a new call", why);
	}
	decoder_close(&d);
}

/* ---- HP012: new external dependencies ---- */

/*
 * An undefined symbol the packaged code refers to that the old object
 * never named: the running program may not have it (a library function
 * it never linked, a global from an object it does not contain).  A note:
 * hpapply refuses a package it cannot resolve, but the author should know.
 * Example: a fix that calls strnlen() where the old code used strlen().
 */
static bool is_new_dependency(const struct rule_ctx *c, const struct hp_symbol *s)
{
	return is_undef_sym(s) && s->name[0] && !find_symbol_by_name(c->old, s->name);
}

void check_new_dependencies(struct rule_ctx *c)
{
	struct hmap seen;

	hmap_init(&seen);
	for_each_sym(c->new, n) {
		if (!is_packaged(c, n))
			continue;
		sym_for_each_reloc(n, r) {
			if (!r->sym || !is_new_dependency(c, r->sym) || hmap_get(&seen, r->sym->name))
				continue;
			hmap_put(&seen, r->sym->name, r->sym);
			report(c, "HP012", HPK_SEV_NOTE, r->sym->name, n->file, n->line,
			       "new external dependency of %s; the running program must provide it", n->name);
		}
	}
	hmap_free(&seen);
}
