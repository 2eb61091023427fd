/*
 * disasm.c - package functions disassembled with their relocations shown
 * as what they resolve to (disasm.h).
 *
 * Capstone 4 does not say which bytes of an instruction hold the
 * displacement or the immediate, so a relocation is matched to an operand
 * by what the instruction has: a PC-relative field is a branch's target or
 * a rip-relative memory operand; an absolute field is the immediate when it
 * ends the instruction (an x86 immediate always comes last) and otherwise
 * the memory operand's displacement ('mov dword ptr fs:[x@TPOFF], 3' has
 * both; the displacement comes first).  A relocation that fits none of
 * these is kept as a '# TYPE target' comment rather than guessed into an
 * operand.
 */
#include "disasm.h"

#include <capstone/capstone.h>
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "reloc.h"

struct disasm {
	csh h;
};

struct disasm *disasm_open(struct hp_err *err)
{
	struct disasm *d = xcalloc(1, sizeof(*d));

	if (cs_open(CS_ARCH_X86, CS_MODE_64, &d->h) != CS_ERR_OK) {
		free(d);
		hp_err_set(err, "capstone cannot open an x86-64 disassembler (is libcapstone 4 installed?)");
		return NULL;
	}
	cs_option(d->h, CS_OPT_SYNTAX, CS_OPT_SYNTAX_INTEL);
	cs_option(d->h, CS_OPT_DETAIL, CS_OPT_ON);
	return d;
}

void disasm_close(struct disasm *d)
{
	if (!d)
		return;
	cs_close(&d->h);
	free(d);
}

/* ---- targets ---- */

static bool is_text_byte(uint8_t c)
{
	return (c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t';
}

/* Generated names hpbuild gives copied literals (build.c content_ref). */
static bool has_prefix(const char *s, const char *prefix)
{
	return s && !strncmp(s, prefix, strlen(prefix));
}

/* A string literal: hpbuild's ".str.N", or an anonymous read-only region
 * that is one NUL-terminated printable string (gcc -O0 puts literals in
 * plain .rodata, so they arrive as ".anon.N"). */
bool pkg_data_is_text(const struct hpk_data *d)
{
	uint32_t n = 0;

	if (d->kind != HPK_DATA_RODATA || !d->bytes || d->size == 0)
		return false;
	while (n < d->size && d->bytes[n])
		n++;
	if (n == d->size)
		return false;   /* no terminating NUL */
	if (has_prefix(d->name, ".str."))
		return true;
	if (!has_prefix(d->name, ".anon.") || n == 0)
		return false;
	for (uint32_t i = 0; i < n; i++)
		if (!is_text_byte(d->bytes[i]))
			return false;
	return true;
}

static void quote_text(struct strbuf *sb, const uint8_t *p, uint32_t size)
{
	uint32_t i;

	sb_addc(sb, '"');
	for (i = 0; i < size && p[i] && i < 80; i++) {
		uint8_t c = p[i];

		if (c == '"' || c == '\\')
			sb_addf(sb, "\\%c", c);
		else if (c == '\n')
			sb_adds(sb, "\\n");
		else if (c == '\t')
			sb_adds(sb, "\\t");
		else if (c < 0x20 || c >= 0x7f)
			sb_addf(sb, "\\x%02x", c);
		else
			sb_addc(sb, (char)c);
	}
	if (i == 80 && i < size && p[i])
		sb_adds(sb, "...");
	sb_addc(sb, '"');
}

/* A merged constant (".const.N", at most 32 bytes): its little-endian
 * value, most significant byte first, as objdump and debuggers show it. */
static bool is_constant(const struct hpk_data *d)
{
	return has_prefix(d->name, ".const.") && d->bytes && d->size > 0 && d->size <= 32;
}

void describe_pkg_symbol(const struct hpk *p, uint32_t sym, int64_t offset, struct strbuf *sb)
{
	const struct hpk_symbol *s;

	if (sym >= p->nr_syms) {
		sb_addf(sb, "?symbol %u", sym);
		return;
	}
	s = &p->syms[sym];
	if (s->where == HPK_SYM_DATA && s->index < p->nr_data && pkg_data_is_text(&p->data[s->index])) {
		quote_text(sb, p->data[s->index].bytes, p->data[s->index].size);
	} else if (s->where == HPK_SYM_DATA && s->index < p->nr_data && is_constant(&p->data[s->index])) {
		const struct hpk_data *d = &p->data[s->index];

		sb_adds(sb, "const 0x");
		for (uint32_t i = d->size; i-- > 0;)
			sb_addf(sb, "%02x", d->bytes[i]);
	} else {
		sb_adds(sb, s->name && s->name[0] ? s->name : "?");
	}
	if (offset > 0)
		sb_addf(sb, "+%lld", (long long)offset);
	else if (offset < 0)
		sb_addf(sb, "-%llu", (unsigned long long)-(uint64_t)offset);
}

int64_t reloc_target_offset(uint32_t type, int64_t addend, uint32_t field, uint32_t insn_end)
{
	const struct hp_reloc_info *ri = reloc_info(type);

	/* wraps rather than overflows on a hostile addend */
	if (ri && ri->pcrel && insn_end >= field)
		return (int64_t)((uint64_t)addend + (insn_end - field));
	return addend;
}

/* What the linker puts in the field besides the address itself: a GOT
 * slot, a TLS offset.  Plain address relocations have no suffix. */
static const char *reloc_suffix(uint32_t type)
{
	switch (type) {
	case R_X86_64_GOTPCREL:
	case R_X86_64_GOTPCRELX:
	case R_X86_64_REX_GOTPCRELX:
		return "@GOTPCREL";
	case R_X86_64_GOT32: return "@GOT";
	case R_X86_64_GOTOFF64: return "@GOTOFF";
	case R_X86_64_GOTPC32: return "@GOTPC";
	case R_X86_64_GOTTPOFF: return "@GOTTPOFF";
	case R_X86_64_TPOFF32:
	case R_X86_64_TPOFF64:
		return "@TPOFF";
	case R_X86_64_DTPOFF32:
	case R_X86_64_DTPOFF64:
		return "@DTPOFF";
	case R_X86_64_TLSGD: return "@TLSGD";
	case R_X86_64_TLSLD: return "@TLSLD";
	case R_X86_64_GOTPC32_TLSDESC:
	case R_X86_64_TLSDESC_CALL:
		return "@TLSDESC";
	case R_X86_64_SIZE32:
	case R_X86_64_SIZE64:
		return "@SIZE";
	default: return "";
	}
}

/* "validate_len", "count@TPOFF+4", "\"bad length\"" */
static char *reloc_text(const struct hpk *p, const struct hpk_reloc *r, uint32_t insn_end)
{
	struct strbuf sb;
	const char *suffix = reloc_suffix(r->type);
	int64_t off = reloc_target_offset(r->type, r->addend, r->offset, insn_end);

	sb_init(&sb);
	if (!suffix[0]) {
		describe_pkg_symbol(p, r->sym, off, &sb);
		return sb_detach(&sb);
	}
	describe_pkg_symbol(p, r->sym, 0, &sb);
	sb_adds(&sb, suffix);
	if (off > 0)
		sb_addf(&sb, "+%lld", (long long)off);
	else if (off < 0)
		sb_addf(&sb, "-%llu", (unsigned long long)-(uint64_t)off);
	return sb_detach(&sb);
}

/* ---- operands ---- */

#define MAX_PIECES 8

struct operand_text {
	char *piece[MAX_PIECES];   /* op_str split at ", " */
	int n;
	int mem, imm;              /* piece index of the memory / immediate operand, -1 */
	bool rip;                  /* the memory operand is rip-relative */
	bool branch;               /* a relative jump or call with one immediate */
};

static bool in_group(const cs_insn *insn, uint8_t group)
{
	for (uint8_t i = 0; i < insn->detail->groups_count; i++)
		if (insn->detail->groups[i] == group)
			return true;
	return false;
}

static void split_operands(const cs_insn *insn, struct operand_text *o)
{
	const char *s = insn->op_str;
	const cs_x86 *x = &insn->detail->x86;

	memset(o, 0, sizeof(*o));
	o->mem = o->imm = -1;
	while (*s && o->n < MAX_PIECES) {
		const char *comma = strstr(s, ", ");
		size_t len = comma && o->n < MAX_PIECES - 1 ? (size_t)(comma - s) : strlen(s);

		o->piece[o->n++] = xstrndup(s, len);
		s += len;
		if (*s)
			s += 2;
	}
	if (x->op_count == o->n) {
		for (int i = 0; i < o->n; i++) {
			if (x->operands[i].type == X86_OP_MEM && o->mem < 0) {
				o->mem = i;
				o->rip = x->operands[i].mem.base == X86_REG_RIP;
			} else if (x->operands[i].type == X86_OP_IMM) {
				o->imm = i;
			}
		}
	} else {  /* printed and decoded operands disagree: go by the text */
		for (int i = 0; i < o->n; i++)
			if (strchr(o->piece[i], '[') && o->mem < 0) {
				o->mem = i;
				o->rip = strstr(o->piece[i], "[rip") != NULL;
			}
	}
	o->branch = (in_group(insn, CS_GRP_JUMP) || in_group(insn, CS_GRP_CALL)) &&
		    o->n == 1 && o->imm == 0;
}

static void free_operands(struct operand_text *o)
{
	for (int i = 0; i < o->n; i++)
		free(o->piece[i]);
}

/* "0", "0x10": capstone's number, not a register such as "ebx". */
static bool is_number(const char *s)
{
	return s[0] >= '0' && s[0] <= '9' && strspn(s, "0123456789abcdefx") == strlen(s);
}

/* Put target into the brackets of a memory operand: 'dword ptr [rip]' ->
 * 'dword ptr [count]'; '[8*rax]' -> '[8*rax + .anon.3]'; for lea, whose
 * operand is the address itself, the target stands alone. */
static char *mem_with_target(const char *piece, const char *target, bool rip, bool lea)
{
	const char *open = strchr(piece, '['), *close = open ? strchr(open, ']') : NULL;
	struct strbuf sb;
	char *inside, *cut;

	if (!open || !close)
		return xasprintf("%s  # %s", piece, target);
	if (lea && rip)
		return xstrdup(target);
	inside = xstrndup(open + 1, (size_t)(close - open - 1));
	sb_init(&sb);
	sb_add(&sb, piece, (size_t)(open - piece) + 1);
	if (rip || is_number(inside)) {
		sb_adds(&sb, target);
	} else {
		/* drop the displacement capstone printed (the field's 0 or addend) */
		cut = strrchr(inside, ' ');
		if (cut && cut > inside + 1 && (cut[-1] == '+' || cut[-1] == '-') && is_number(cut + 1))
			cut[-2] = '\0';
		sb_addf(&sb, "%s + %s", inside, target);
	}
	sb_adds(&sb, close);
	free(inside);
	return sb_detach(&sb);
}

enum operand_role { ROLE_NONE, ROLE_BRANCH, ROLE_MEM, ROLE_IMM };

static enum operand_role role_of(const struct operand_text *o, const struct hpk_reloc *r,
				 uint32_t insn_end)
{
	const struct hp_reloc_info *ri = reloc_info(r->type);
	unsigned width = ri ? ri->width : 0;
	bool pcrel = ri && ri->pcrel;

	if (width == 0)
		return ROLE_NONE;
	if (pcrel && o->branch)
		return ROLE_BRANCH;
	if (pcrel)
		return o->mem >= 0 && o->rip ? ROLE_MEM : ROLE_NONE;
	if (o->imm >= 0 && (o->mem < 0 || r->offset + width == insn_end))
		return ROLE_IMM;
	return o->mem >= 0 && !o->rip ? ROLE_MEM : ROLE_NONE;
}

static char *render_insn(const struct hpk *p, const struct hpk_func *f, const cs_insn *insn,
			 const uint32_t *att, uint32_t natt)
{
	struct operand_text o;
	struct strbuf sb, comments;
	uint32_t end = (uint32_t)(insn->address + insn->size);
	bool lea = !strcmp(insn->mnemonic, "lea");
	char *branch = NULL;

	split_operands(insn, &o);
	sb_init(&comments);
	for (uint32_t k = 0; k < natt; k++) {
		const struct hpk_reloc *r = &f->relocs[att[k]];
		char *t = reloc_text(p, r, end);
		char *np;

		switch (role_of(&o, r, end)) {
		case ROLE_BRANCH:
			free(branch);
			branch = t;
			continue;
		case ROLE_MEM:
			np = mem_with_target(o.piece[o.mem], t, o.rip, lea);
			free(o.piece[o.mem]);
			o.piece[o.mem] = np;
			break;
		case ROLE_IMM:
			free(o.piece[o.imm]);
			o.piece[o.imm] = xstrdup(t);
			break;
		case ROLE_NONE:
			sb_addf(&comments, "  # %s %s", reloc_name(r->type), t);
			break;
		}
		free(t);
	}
	sb_init(&sb);
	sb_adds(&sb, insn->mnemonic);
	if (branch) {
		sb_addf(&sb, " %s", branch);
	} else {
		for (int i = 0; i < o.n; i++)
			sb_addf(&sb, "%s%s", i ? ", " : " ", o.piece[i]);
	}
	sb_add(&sb, comments.buf, comments.len);
	sb_free(&comments);
	free(branch);
	free_operands(&o);
	return sb_detach(&sb);
}

/* ---- listing ---- */

/* For a reviewer: whether the code calls, reads, writes or only takes the
 * address of what a relocation names ("mov dword ptr [counter], eax" writes
 * counter). */
static const char *access_of(const cs_insn *insn)
{
	const cs_x86 *x = &insn->detail->x86;

	if (in_group(insn, CS_GRP_CALL))
		return "call";
	if (in_group(insn, CS_GRP_JUMP))
		return "jump";
	if (!strcmp(insn->mnemonic, "lea"))
		return "address";
	for (uint8_t i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_MEM) {
			uint8_t a = x->operands[i].access;
			return a == (CS_AC_READ | CS_AC_WRITE) ? "read/write" : a == CS_AC_WRITE ? "write" : "read";
		}
	return "value";
}

struct reloc_pos {
	uint32_t offset, index;
};

static int cmp_reloc_pos(const void *a, const void *b)
{
	const struct reloc_pos *x = a, *y = b;

	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

static unsigned field_width(uint32_t type)
{
	const struct hp_reloc_info *ri = reloc_info(type);
	return ri && ri->width ? ri->width : 1;
}

static void push_u32(uint32_t **v, size_t *n, uint32_t x)
{
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = x;
}

void disasm_function(struct disasm *d, const struct hpk *p, uint32_t fi, struct dis_listing *out)
{
	const struct hpk_func *f = &p->funcs[fi];
	struct reloc_pos *order = xcalloc(f->nr_relocs ? f->nr_relocs : 1, sizeof(*order));
	uint32_t next = 0, pos = 0;
	cs_insn *insn = cs_malloc(d->h);

	memset(out, 0, sizeof(*out));
	for (uint32_t i = 0; i < f->nr_relocs; i++)
		order[i] = (struct reloc_pos){ f->relocs[i].offset, i };
	qsort(order, f->nr_relocs, sizeof(*order), cmp_reloc_pos);

	while (pos < f->code_size) {
		const uint8_t *code = f->code + pos;
		size_t left = f->code_size - pos, natt = 0;
		uint64_t addr = pos;
		bool decoded = cs_disasm_iter(d->h, &code, &left, &addr, insn);
		struct dis_insn ins = { .offset = pos, .size = decoded ? insn->size : 1 };

		/* fields before this instruction began inside the previous one */
		for (; next < f->nr_relocs && order[next].offset < pos; next++)
			push_u32(&out->unattached, &out->nr_unattached, order[next].index);
		for (; next < f->nr_relocs && order[next].offset < pos + ins.size; next++) {
			const struct hpk_reloc *r = &f->relocs[order[next].index];

			if (decoded && r->offset + field_width(r->type) <= pos + ins.size)
				push_u32(&ins.relocs, &natt, order[next].index);
			else
				push_u32(&out->unattached, &out->nr_unattached, order[next].index);
		}
		ins.nr_relocs = (uint32_t)natt;
		ins.text = decoded ? render_insn(p, f, insn, ins.relocs, ins.nr_relocs)
				   : xasprintf(".byte 0x%02x", f->code[pos]);
		ins.access = decoded && ins.nr_relocs ? access_of(insn) : NULL;
		GROW(out->v, out->cap, out->n + 1);
		out->v[out->n++] = ins;
		pos += ins.size;
	}
	for (; next < f->nr_relocs; next++)
		push_u32(&out->unattached, &out->nr_unattached, order[next].index);
	cs_free(insn, 1);
	free(order);
}

void dis_listing_free(struct dis_listing *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].text);
		free(l->v[i].relocs);
	}
	free(l->v);
	free(l->unattached);
	memset(l, 0, sizeof(*l));
}
