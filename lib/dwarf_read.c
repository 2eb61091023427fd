/*
 * dwarf_read.c - the one walk over the DIE tree with libdwarf, into the
 * node snapshot of dwarf_int.h, and the queries on that snapshot.
 *
 * Everything libdwarf reports as an error is corrupt DWARF.  Beyond what
 * libdwarf checks, the walk itself must terminate on hostile input: DIE
 * offsets must strictly increase in walk order (the DIE tree is stored in
 * preorder, so a DW_AT_sibling that jumps back is a loop) and nesting is
 * bounded, so the walk reads each byte of .debug_info at most once and
 * cannot exhaust the stack.
 */
#include "dwarf_int.h"

#include <stdlib.h>
#include <string.h>

/* Real C nests a few dozen levels (blocks in blocks); deeper is corrupt. */
#define MAX_DIE_DEPTH 512
/* Origin/specification chains are one or two hops in practice. */
#define MAX_CHAIN 16

struct reader {
	Dwarf_Debug dbg;
	const struct dw_sections *secs;
	struct dw_snapshot *s;
	struct strbuf *why;
	uint64_t last_off;
	bool started;
	uint32_t cu;
};

static int fail(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct reader *r, const char *fmt, ...)
{
	va_list ap;

	if (r->why->len)
		return -1;
	va_start(ap, fmt);
	sb_vaddf(r->why, fmt, ap);
	va_end(ap);
	return -1;
}

static int fail_dwarf(struct reader *r, const char *what, Dwarf_Error err)
{
	fail(r, "%s: %s", what, err ? dwarf_errmsg(err) : "libdwarf error");
	if (err)
		dwarf_dealloc_error(r->dbg, err);
	return -1;
}

/* Tags we keep a node for: what the fact passes look at. */
static bool is_kept_tag(Dwarf_Half tag)
{
	switch (tag) {
	case DW_TAG_compile_unit: case DW_TAG_partial_unit:
	case DW_TAG_subprogram: case DW_TAG_inlined_subroutine:
	case DW_TAG_formal_parameter: case DW_TAG_unspecified_parameters:
	case DW_TAG_variable: case DW_TAG_member: case DW_TAG_enumerator:
	case DW_TAG_subrange_type: case DW_TAG_base_type: case DW_TAG_unspecified_type:
	case DW_TAG_pointer_type: case DW_TAG_reference_type: case DW_TAG_rvalue_reference_type:
	case DW_TAG_const_type: case DW_TAG_volatile_type: case DW_TAG_restrict_type:
	case DW_TAG_atomic_type: case DW_TAG_typedef: case DW_TAG_array_type:
	case DW_TAG_subroutine_type: case DW_TAG_structure_type: case DW_TAG_union_type:
	case DW_TAG_enumeration_type: case DW_TAG_class_type: case DW_TAG_ptr_to_member_type:
		return true;
	default:
		return false;
	}
}

/* Call sites are the bulk of -O2 DWARF and say nothing we use: their
 * subtrees are not read at all. */
static bool is_skipped_subtree(Dwarf_Half tag)
{
	return tag == DW_TAG_call_site || tag == DW_TAG_GNU_call_site ||
	       tag == DW_TAG_call_site_parameter || tag == DW_TAG_GNU_call_site_parameter;
}

static bool is_const_form(Dwarf_Half form)
{
	switch (form) {
	case DW_FORM_data1: case DW_FORM_data2: case DW_FORM_data4: case DW_FORM_data8:
	case DW_FORM_udata: case DW_FORM_sdata: case DW_FORM_implicit_const:
		return true;
	default:
		return false;
	}
}

static bool is_signed_form(Dwarf_Half form)
{
	return form == DW_FORM_sdata || form == DW_FORM_implicit_const;
}

static int read_const(struct reader *r, Dwarf_Attribute a, Dwarf_Half form, uint64_t *v)
{
	Dwarf_Error err = NULL;
	int rc;

	if (is_signed_form(form)) {
		Dwarf_Signed sv;
		rc = dwarf_formsdata(a, &sv, &err);
		*v = (uint64_t)sv;
	} else {
		Dwarf_Unsigned uv;
		rc = dwarf_formudata(a, &uv, &err);
		*v = uv;
	}
	return rc == DW_DLV_ERROR ? fail_dwarf(r, "reading a constant", err) : 0;
}

static int read_flag(struct reader *r, Dwarf_Attribute a, struct dw_node *n, unsigned flag)
{
	Dwarf_Error err = NULL;
	Dwarf_Bool b = 0;

	if (dwarf_formflag(a, &b, &err) == DW_DLV_ERROR)
		return fail_dwarf(r, "reading a flag", err);
	if (b)
		n->flags |= flag;
	return 0;
}

/* A reference to a DIE of this .debug_info, as a global offset; other
 * kinds (type-unit signatures, supplementary files) stay 0. */
static int read_ref(struct reader *r, Dwarf_Attribute a, Dwarf_Half form, uint64_t *off, bool *foreign)
{
	Dwarf_Error err = NULL;
	Dwarf_Off o;

	switch (form) {
	case DW_FORM_ref1: case DW_FORM_ref2: case DW_FORM_ref4: case DW_FORM_ref8:
	case DW_FORM_ref_udata: case DW_FORM_ref_addr:
		break;
	default:
		*foreign = true;
		return 0;
	}
	if (dwarf_global_formref(a, &o, &err) == DW_DLV_ERROR)
		return fail_dwarf(r, "reading a DIE reference", err);
	*off = o;
	return 0;
}

static int read_string(struct reader *r, Dwarf_Attribute a, const char **out)
{
	Dwarf_Error err = NULL;
	char *str;
	int rc = dwarf_formstring(a, &str, &err);

	if (rc == DW_DLV_ERROR)
		return fail_dwarf(r, "reading a string", err);
	if (rc == DW_DLV_OK)
		*out = str;
	return 0;
}

/* A location that names static storage: an address (DW_OP_addr, or its
 * DWARF 5 / GNU indexed forms), or a TLS offset.  Automatic variables use
 * frame, register or location-list forms instead. */
static bool is_static_location(const uint8_t *p, uint64_t len)
{
	if (!len)
		return false;
	if (p[0] == DW_OP_addr || p[0] == DW_OP_addrx || p[0] == DW_OP_GNU_addr_index)
		return true;
	return p[len - 1] == DW_OP_form_tls_address || p[len - 1] == DW_OP_GNU_push_tls_address;
}

/* DWARF 2/3 member locations are expressions: DW_OP_plus_uconst N. */
static bool decode_plus_uconst(const uint8_t *p, uint64_t len, uint64_t *v)
{
	uint64_t val = 0;
	unsigned shift = 0;

	if (len < 2 || p[0] != DW_OP_plus_uconst)
		return false;
	for (uint64_t i = 1; i < len && shift < 64; i++, shift += 7) {
		val |= (uint64_t)(p[i] & 0x7f) << shift;
		if (!(p[i] & 0x80)) {
			*v = val;
			return true;
		}
	}
	return false;
}

/* The bytes of an expression attribute (exprloc or DWARF 2/3 block). */
static int with_expr(struct reader *r, Dwarf_Attribute a, Dwarf_Half form,
		     void (*use)(struct dw_node *, Dwarf_Half, const uint8_t *, uint64_t),
		     struct dw_node *n, Dwarf_Half at)
{
	Dwarf_Error err = NULL;

	if (form == DW_FORM_exprloc) {
		Dwarf_Unsigned len;
		Dwarf_Ptr p;
		if (dwarf_formexprloc(a, &len, &p, &err) == DW_DLV_ERROR)
			return fail_dwarf(r, "reading an expression", err);
		use(n, at, p, len);
	} else if (form == DW_FORM_block1 || form == DW_FORM_block2 ||
		   form == DW_FORM_block4 || form == DW_FORM_block) {
		Dwarf_Block *b;
		if (dwarf_formblock(a, &b, &err) == DW_DLV_ERROR)
			return fail_dwarf(r, "reading a block", err);
		use(n, at, b->bl_data, b->bl_len);
		dwarf_dealloc(r->dbg, b, DW_DLA_BLOCK);
	}
	return 0;
}

static void use_expr(struct dw_node *n, Dwarf_Half at, const uint8_t *p, uint64_t len)
{
	if (at == DW_AT_location && is_static_location(p, len))
		n->flags |= DWN_STATIC_LOC;
	if (at == DW_AT_data_member_location && decode_plus_uconst(p, len, &n->member_loc))
		n->flags |= DWN_MEMBER_LOC;
}

static int read_cu_string(struct reader *r, Dwarf_Attribute a, char **out)
{
	const char *str = NULL;

	if (read_string(r, a, &str) < 0)
		return -1;
	if (str && !*out)
		*out = xstrdup(str);
	return 0;
}

/* The unit's line table offset (sec_offset, or data4/data8 before DWARF
 * 4).  Another form leaves it unknown: libdwarf then finds the table. */
static int read_stmt_list(struct reader *r, Dwarf_Attribute a, Dwarf_Half form, struct dw_cu *cu)
{
	Dwarf_Error err = NULL;
	Dwarf_Off off;

	if (form != DW_FORM_sec_offset && form != DW_FORM_data4 && form != DW_FORM_data8)
		return 0;
	if (dwarf_global_formref(a, &off, &err) == DW_DLV_ERROR) {
		/* not ours to judge: libdwarf's line table reader will */
		dwarf_dealloc_error(r->dbg, err);
		return 0;
	}
	cu->stmt_list = off;
	cu->has_stmt_list = true;
	return 0;
}

static int read_attr(struct reader *r, Dwarf_Attribute a, struct dw_node *n)
{
	Dwarf_Error err = NULL;
	Dwarf_Half at, form;
	uint64_t v;
	bool foreign = false;
	struct dw_cu *cu = &r->s->cus[r->cu];

	if (dwarf_whatattr(a, &at, &err) == DW_DLV_ERROR || dwarf_whatform(a, &form, &err) == DW_DLV_ERROR)
		return fail_dwarf(r, "reading an attribute", err);
	switch (at) {
	case DW_AT_name:
		return read_string(r, a, &n->name);
	case DW_AT_linkage_name: case DW_AT_MIPS_linkage_name:
		return read_string(r, a, &n->linkage_name);
	case DW_AT_type:
		if (read_ref(r, a, form, &n->type_ref, &foreign) < 0)
			return -1;
		if (foreign)
			n->flags |= DWN_FOREIGN_TYPE;
		return 0;
	case DW_AT_abstract_origin:
		return read_ref(r, a, form, &n->origin_ref, &foreign);
	case DW_AT_specification:
		return read_ref(r, a, form, &n->spec_ref, &foreign);
	case DW_AT_external:
		return read_flag(r, a, n, DWN_EXTERNAL);
	case DW_AT_declaration:
		return read_flag(r, a, n, DWN_DECLARATION);
	case DW_AT_prototyped:
		return read_flag(r, a, n, DWN_PROTOTYPED);
	case DW_AT_noreturn:
		return read_flag(r, a, n, DWN_NORETURN);
	case DW_AT_low_pc: case DW_AT_ranges:
		n->flags |= DWN_HAS_CODE;
		return 0;
	case DW_AT_location:
	case DW_AT_data_member_location:
		if (at == DW_AT_data_member_location && is_const_form(form)) {
			n->flags |= DWN_MEMBER_LOC;
			return read_const(r, a, form, &n->member_loc);
		}
		return with_expr(r, a, form, use_expr, n, at);
	case DW_AT_comp_dir:
		return n->parent == DW_NONE ? read_cu_string(r, a, &cu->comp_dir) : 0;
	case DW_AT_producer:
		return n->parent == DW_NONE ? read_cu_string(r, a, &cu->producer) : 0;
	case DW_AT_stmt_list:
		return n->parent == DW_NONE ? read_stmt_list(r, a, form, cu) : 0;
	default:
		break;
	}
	/* The rest are constants; other forms (a VLA's bound is an
	 * expression or a reference) leave the fact unknown. */
	if (!is_const_form(form))
		return 0;
	if (read_const(r, a, form, &v) < 0)
		return -1;
	switch (at) {
	case DW_AT_decl_file: n->decl_file = v; n->flags |= DWN_DECL_FILE; break;
	case DW_AT_decl_line: n->decl_line = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v; break;
	case DW_AT_byte_size: n->byte_size = v; n->flags |= DWN_BYTE_SIZE; break;
	case DW_AT_bit_size: n->bit_size = v; break;
	case DW_AT_data_bit_offset: n->bit_off = v; n->flags |= DWN_DATA_BIT_OFF; break;
	case DW_AT_bit_offset: n->bit_off = v; n->flags |= DWN_BIT_OFF; break;
	case DW_AT_count: n->count = v; n->flags |= DWN_COUNT; break;
	case DW_AT_upper_bound:
		/* a negative bound (-1) is how some compilers say "no size" */
		if (!(is_signed_form(form) && (int64_t)v < 0)) {
			n->count = v + 1;
			n->flags |= DWN_COUNT;
		}
		break;
	case DW_AT_const_value:
		n->const_value = (int64_t)v;
		n->flags |= DWN_CONST | (is_signed_form(form) ? DWN_CONST_SIGNED : 0);
		break;
	case DW_AT_inline:
		if (v == DW_INL_declared_inlined || v == DW_INL_declared_not_inlined)
			n->flags |= DWN_INLINE;
		break;
	default:
		break;
	}
	return 0;
}

static int read_attrs(struct reader *r, Dwarf_Die die, uint32_t idx)
{
	Dwarf_Attribute *list;
	Dwarf_Signed cnt;
	Dwarf_Error err = NULL;
	int rc = dwarf_attrlist(die, &list, &cnt, &err), ret = 0;

	if (rc == DW_DLV_ERROR)
		return fail_dwarf(r, "reading attributes", err);
	if (rc == DW_DLV_NO_ENTRY)
		return 0;
	for (Dwarf_Signed i = 0; i < cnt; i++) {
		/* r->s->nodes does not move while one DIE is read */
		if (!ret && read_attr(r, list[i], &r->s->nodes[idx]) < 0)
			ret = -1;
		dwarf_dealloc_attribute(list[i]);
	}
	dwarf_dealloc(r->dbg, list, DW_DLA_LIST);
	return ret;
}

/* The include directory dir_index names, for dw_compose_file_name(). */
static const char *include_dir(Dwarf_Debug dbg, Dwarf_Line_Context lc, const char *name,
			       Dwarf_Unsigned dir_index)
{
	const char *dir = NULL;
	Dwarf_Error err = NULL;

	if (name[0] != '/' && dir_index != 0 &&
	    dwarf_srclines_include_dir_data(lc, (Dwarf_Signed)dir_index, &dir, &err) == DW_DLV_ERROR) {
		dwarf_dealloc_error(dbg, err);
		dir = NULL;
	}
	return dir;
}

/* The file table through libdwarf: it decodes the whole line program
 * first, so it is the fallback for headers dw_line_files() does not read. */
static int read_file_table_libdwarf(struct reader *r, Dwarf_Die cu_die, struct dw_cu *cu)
{
	Dwarf_Unsigned lversion;
	Dwarf_Small tables;
	Dwarf_Line_Context lc;
	Dwarf_Signed base, count, end;
	Dwarf_Error err = NULL;
	int rc = dwarf_srclines_b(cu_die, &lversion, &tables, &lc, &err);

	if (rc == DW_DLV_NO_ENTRY)
		return 0;
	if (rc == DW_DLV_ERROR)
		return fail_dwarf(r, "reading the line table", err);
	if (dwarf_srclines_files_indexes(lc, &base, &count, &end, &err) == DW_DLV_ERROR) {
		dwarf_srclines_dealloc_b(lc);
		return fail_dwarf(r, "reading the line table's file list", err);
	}
	cu->file_base = base;
	cu->nr_files = count > 0 ? (size_t)count : 0;
	cu->files = xcalloc(cu->nr_files ? cu->nr_files : 1, sizeof(*cu->files));
	for (size_t i = 0; i < cu->nr_files; i++) {
		const char *name = NULL;
		Dwarf_Unsigned dir = 0, mtime, len;
		Dwarf_Form_Data16 *md5;

		rc = dwarf_srclines_files_data_b(lc, base + (Dwarf_Signed)i, &name, &dir, &mtime, &len, &md5, &err);
		if (rc == DW_DLV_ERROR) {
			dwarf_srclines_dealloc_b(lc);
			return fail_dwarf(r, "reading the line table's file list", err);
		}
		if (rc == DW_DLV_OK && name)
			cu->files[i] = dw_compose_file_name(name, dir, include_dir(r->dbg, lc, name, dir),
							    cu->comp_dir);
	}
	dwarf_srclines_dealloc_b(lc);
	return 0;
}

static int read_file_table(struct reader *r, Dwarf_Die cu_die, struct dw_cu *cu)
{
	/* without a DW_AT_stmt_list we could read, libdwarf decides (and
	 * answers "no table" at once when there is none) */
	if (cu->has_stmt_list && dw_line_files(r->secs, cu->stmt_list, cu) == 0)
		return 0;
	return read_file_table_libdwarf(r, cu_die, cu);
}

static uint32_t add_node(struct reader *r, Dwarf_Half tag, uint64_t off, uint32_t parent)
{
	struct dw_snapshot *s = r->s;
	uint32_t idx = (uint32_t)s->nr_nodes;
	struct dw_node *n;

	GROW(s->nodes, s->cap_nodes, s->nr_nodes + 1);
	n = &s->nodes[s->nr_nodes++];
	memset(n, 0, sizeof(*n));
	n->off = off;
	n->tag = tag;
	n->cu = r->cu;
	n->type = n->origin = n->spec = DW_NONE;
	n->first_child = n->next_sibling = n->last_child = DW_NONE;
	n->parent = parent;
	if (parent != DW_NONE) {
		struct dw_node *p = &s->nodes[parent];
		if (p->first_child == DW_NONE)
			p->first_child = idx;
		else
			s->nodes[p->last_child].next_sibling = idx;
		p->last_child = idx;
	}
	return idx;
}

static int walk_children(struct reader *r, Dwarf_Die die, uint32_t parent, int depth);

static int visit(struct reader *r, Dwarf_Die die, uint32_t parent, int depth)
{
	Dwarf_Error err = NULL;
	Dwarf_Off off;
	Dwarf_Half tag;
	uint32_t me = parent;

	if (dwarf_dieoffset(die, &off, &err) == DW_DLV_ERROR || dwarf_tag(die, &tag, &err) == DW_DLV_ERROR)
		return fail_dwarf(r, "reading a DIE", err);
	if (r->started && off <= r->last_off)
		return fail(r, "DIE at 0x%llx does not follow the DIE at 0x%llx (a loop in the DIE tree)",
			    (unsigned long long)off, (unsigned long long)r->last_off);
	r->started = true;
	r->last_off = off;
	if (is_skipped_subtree(tag))
		return 0;
	if (is_kept_tag(tag)) {
		/* node indexes are 32-bit, with two values reserved */
		if (r->s->nr_nodes >= DW_UNKNOWN)
			return fail(r, "more DIEs than we can index");
		me = add_node(r, tag, off, parent);
		if (read_attrs(r, die, me) < 0)
			return -1;
	}
	/* only the unit's own DIE: a unit tag deeper down is damage */
	if (depth == 0 && (tag == DW_TAG_compile_unit || tag == DW_TAG_partial_unit)) {
		struct dw_cu *cu = &r->s->cus[r->cu];
		if (r->s->nodes[me].name && !cu->name)
			cu->name = xstrdup(r->s->nodes[me].name);
		if (read_file_table(r, die, cu) < 0)
			return -1;
	}
	return walk_children(r, die, me, depth + 1);
}

static int walk_children(struct reader *r, Dwarf_Die die, uint32_t parent, int depth)
{
	Dwarf_Error err = NULL;
	Dwarf_Die child, sib;
	int rc;

	if (depth > MAX_DIE_DEPTH)
		return fail(r, "DIEs nested deeper than %d levels", MAX_DIE_DEPTH);
	rc = dwarf_child(die, &child, &err);
	while (rc == DW_DLV_OK) {
		if (visit(r, child, parent, depth) < 0) {
			dwarf_dealloc_die(child);
			return -1;
		}
		rc = dwarf_siblingof_b(r->dbg, child, true, &sib, &err);
		dwarf_dealloc_die(child);
		child = sib;
	}
	return rc == DW_DLV_ERROR ? fail_dwarf(r, "reading a DIE", err) : 0;
}

static int read_unit(struct reader *r)
{
	Dwarf_Error err = NULL;
	Dwarf_Die cu_die;
	int rc, ret;

	rc = dwarf_siblingof_b(r->dbg, NULL, true, &cu_die, &err);
	if (rc == DW_DLV_ERROR)
		return fail_dwarf(r, "reading a compile unit DIE", err);
	if (rc == DW_DLV_NO_ENTRY)
		return 0;
	ret = visit(r, cu_die, DW_NONE, 0);
	dwarf_dealloc_die(cu_die);
	return ret;
}

static int cmp_off(const void *key, const void *elem)
{
	uint64_t k = *(const uint64_t *)key, o = ((const struct dw_node *)elem)->off;

	return (k > o) - (k < o);
}

static uint32_t node_at(const struct dw_snapshot *s, uint64_t off)
{
	const struct dw_node *n;

	if (!off)
		return DW_NONE;
	n = bsearch(&off, s->nodes, s->nr_nodes, sizeof(*s->nodes), cmp_off);
	return n ? (uint32_t)(n - s->nodes) : DW_NONE;
}

/* Nodes are in offset order (checked during the walk): references are
 * found by binary search. */
static void resolve_refs(struct dw_snapshot *s)
{
	for (size_t i = 0; i < s->nr_nodes; i++) {
		struct dw_node *n = &s->nodes[i];
		n->type = node_at(s, n->type_ref);
		n->origin = node_at(s, n->origin_ref);
		n->spec = node_at(s, n->spec_ref);
		if ((n->type_ref && n->type == DW_NONE) || (n->flags & DWN_FOREIGN_TYPE))
			n->type = DW_UNKNOWN;
	}
}

/* gcc and clang -g write 14 to 20 bytes of .debug_info per DIE we keep:
 * sized for that up front, the node array is not copied by realloc as it
 * doubles (5 % of loading SQLite).  Pages never touched cost nothing, and
 * the cap keeps a huge section from reserving more than a few hundred MB
 * before a single DIE is read. */
#define INFO_BYTES_PER_NODE 14
#define MAX_RESERVED_NODES (UINT32_C(1) << 21)

static void reserve_nodes(struct dw_snapshot *s, uint64_t info_size)
{
	uint64_t n = info_size / INFO_BYTES_PER_NODE;

	GROW(s->nodes, s->cap_nodes, n < MAX_RESERVED_NODES ? (size_t)n : MAX_RESERVED_NODES);
}

int dw_read_snapshot(Dwarf_Debug dbg, const struct dw_sections *secs, struct dw_snapshot *s,
		     struct strbuf *why)
{
	struct reader r = { .dbg = dbg, .secs = secs, .s = s, .why = why };
	Dwarf_Unsigned prev_next = 0;

	reserve_nodes(s, secs->info_size);

	for (;;) {
		Dwarf_Unsigned len, typeoff, next;
		Dwarf_Half version, addr_size, off_size, ext_size, unit_type;
		Dwarf_Off abbrev;
		Dwarf_Sig8 sig;
		Dwarf_Error err = NULL;
		int rc = dwarf_next_cu_header_d(dbg, true, &len, &version, &abbrev, &addr_size,
						&off_size, &ext_size, &sig, &typeoff, &next,
						&unit_type, &err);
		if (rc == DW_DLV_NO_ENTRY)
			break;
		if (rc == DW_DLV_ERROR)
			return fail_dwarf(&r, "reading a compile unit header", err);
		if (next <= prev_next)
			return fail(&r, "compile unit headers do not advance");
		prev_next = next;
		/* type units and split units hold nothing we key facts by */
		if (unit_type != DW_UT_compile && unit_type != DW_UT_partial)
			continue;
		GROW(s->cus, s->cap_cus, s->nr_cus + 1);
		memset(&s->cus[s->nr_cus], 0, sizeof(s->cus[0]));
		s->cus[s->nr_cus].version = version;
		r.cu = (uint32_t)s->nr_cus++;
		if (read_unit(&r) < 0)
			return -1;
	}
	resolve_refs(s);
	return 0;
}

void dw_snapshot_free(struct dw_snapshot *s)
{
	for (size_t i = 0; i < s->nr_cus; i++) {
		struct dw_cu *cu = &s->cus[i];
		for (size_t j = 0; j < cu->nr_files; j++)
			free(cu->files[j]);
		free(cu->files);
		free(cu->name);
		free(cu->comp_dir);
		free(cu->producer);
	}
	free(s->cus);
	free(s->nodes);
	memset(s, 0, sizeof(*s));
}

static uint32_t chain_next(const struct dw_snapshot *s, uint32_t n)
{
	const struct dw_node *d = &s->nodes[n];

	return d->origin != DW_NONE ? d->origin : d->spec;
}

uint32_t dw_root_of(const struct dw_snapshot *s, uint32_t n)
{
	for (int i = 0; i < MAX_CHAIN; i++) {
		uint32_t next = chain_next(s, n);
		if (next == DW_NONE)
			break;
		n = next;
	}
	return n;
}

const char *dw_chain_name(const struct dw_snapshot *s, uint32_t n)
{
	for (int i = 0; i < MAX_CHAIN && n != DW_NONE; i++, n = chain_next(s, n))
		if (s->nodes[n].name)
			return s->nodes[n].name;
	return NULL;
}

uint32_t dw_chain_type(const struct dw_snapshot *s, uint32_t n)
{
	for (int i = 0; i < MAX_CHAIN && n != DW_NONE; i++, n = chain_next(s, n))
		if (s->nodes[n].type != DW_NONE)
			return s->nodes[n].type;
	return DW_NONE;
}

uint32_t dw_chain_decl_line(const struct dw_snapshot *s, uint32_t n)
{
	for (int i = 0; i < MAX_CHAIN && n != DW_NONE; i++, n = chain_next(s, n))
		if (s->nodes[n].decl_line)
			return n;
	return DW_NONE;
}

uint32_t dw_chain_decl_file(const struct dw_snapshot *s, uint32_t n)
{
	for (int i = 0; i < MAX_CHAIN && n != DW_NONE; i++, n = chain_next(s, n))
		if (s->nodes[n].flags & DWN_DECL_FILE)
			return n;
	return DW_NONE;
}

unsigned dw_chain_flags(const struct dw_snapshot *s, uint32_t n)
{
	unsigned flags = 0;

	for (int i = 0; i < MAX_CHAIN && n != DW_NONE; i++, n = chain_next(s, n))
		flags |= s->nodes[n].flags;
	return flags;
}

const char *dw_decl_file(const struct dw_snapshot *s, uint32_t n)
{
	const struct dw_node *d;
	const struct dw_cu *cu;
	int64_t i;

	if (n == DW_NONE || !(s->nodes[n].flags & DWN_DECL_FILE))
		return NULL;
	d = &s->nodes[n];
	cu = &s->cus[d->cu];
	i = (int64_t)d->decl_file - cu->file_base;
	/* DWARF 4 counts files from 1, and 0 means "no file" */
	if (cu->version < 5 && d->decl_file == 0)
		return NULL;
	if (i < 0 || (uint64_t)i >= cu->nr_files)
		return NULL;
	return cu->files[i];
}
