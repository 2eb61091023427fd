/*
 * dwarf_int.h - private to dwarf*.c: the DIE snapshot that the fact passes
 * work on.
 *
 * dwarf_read.c walks the DIE tree once with libdwarf and keeps, for each
 * DIE that matters to us (functions, variables, parameters, types and
 * their members), one compact node with the attributes we use.  The fact
 * passes (dwarf_facts.c, dwarf_types.c) then work on this array alone:
 * references are node indexes, nodes are in .debug_info order (which is
 * the DIE tree's preorder), and nothing there can loop or call libdwarf.
 *
 * Strings (names) point into the section copies libdwarf reads from;
 * they live until dwarf_load() returns.  Facts copy what they keep.
 */
#ifndef HP_DWARF_INT_H
#define HP_DWARF_INT_H

#include <stdint.h>
/* libdwarf's own dwarf.h, not ours: -Ilib would shadow <dwarf.h>. */
#include <libdwarf/dwarf.h>
#include <libdwarf/libdwarf.h>

#include "dwarf.h"

#define DW_NONE UINT32_MAX
/* A DW_AT_type we cannot follow (a type-unit signature, a reference
 * outside .debug_info): rendered "?". */
#define DW_UNKNOWN (UINT32_MAX - 1)

/* Node flags. */
enum {
	DWN_EXTERNAL    = 1u << 0,   /* DW_AT_external */
	DWN_DECLARATION = 1u << 1,   /* DW_AT_declaration: not a definition */
	DWN_PROTOTYPED  = 1u << 2,
	DWN_NORETURN    = 1u << 3,
	DWN_INLINE      = 1u << 4,   /* declared inline (DW_INL_declared_*) */
	DWN_HAS_CODE    = 1u << 5,   /* DW_AT_low_pc or DW_AT_ranges */
	DWN_STATIC_LOC  = 1u << 6,   /* location is a static (or TLS) address */
	DWN_BYTE_SIZE   = 1u << 7,
	DWN_COUNT       = 1u << 8,   /* subrange: count known */
	DWN_CONST       = 1u << 9,   /* enumerator value known */
	DWN_CONST_SIGNED = 1u << 10, /* ... and it was encoded signed */
	DWN_MEMBER_LOC  = 1u << 11,
	DWN_DATA_BIT_OFF = 1u << 12, /* DW_AT_data_bit_offset (DWARF 4+) */
	DWN_BIT_OFF     = 1u << 13,  /* DW_AT_bit_offset (DWARF 2/3 style) */
	DWN_FOREIGN_TYPE = 1u << 14, /* DW_AT_type is not a local reference */
	DWN_DECL_FILE   = 1u << 15,  /* DW_AT_decl_file present (0 is valid in DWARF 5) */
};

struct dw_node {
	uint64_t off;                /* global .debug_info offset */
	uint64_t type_ref, origin_ref, spec_ref; /* offsets, 0 = none */
	uint32_t type, origin, spec; /* resolved node indexes or DW_NONE */
	uint32_t parent, first_child, next_sibling, last_child;
	uint32_t cu;                 /* index into dw_snapshot.cus */
	uint16_t tag;
	uint32_t flags;
	const char *name;
	const char *linkage_name;
	uint64_t decl_file;          /* raw index into the CU's file table */
	uint32_t decl_line;
	uint64_t byte_size;
	uint64_t member_loc;         /* DW_AT_data_member_location (bytes) */
	uint64_t bit_size;           /* bitfields: 0 when not a bitfield */
	uint64_t bit_off;            /* data_bit_offset or old bit_offset */
	uint64_t count;              /* subrange: number of elements */
	int64_t const_value;         /* enumerator */
};

struct dw_cu {
	unsigned version;
	char *name, *comp_dir, *producer;  /* owned copies */
	char **files;                /* composed names, owned; NULL entries ok */
	size_t nr_files;
	int64_t file_base;           /* decl_file value of files[0] */
	uint64_t stmt_list;          /* DW_AT_stmt_list: the line table's offset */
	bool has_stmt_list;
};

/* The sections dwarf_lines.c reads the file tables from (relocated, as
 * served to libdwarf); NULL when absent. */
struct dw_sections {
	const uint8_t *line, *line_str, *str;
	uint64_t line_size, line_str_size, str_size;
	uint64_t info_size;          /* .debug_info: sizes the node array */
};

struct dw_snapshot {
	struct dw_node *nodes;
	size_t nr_nodes, cap_nodes;
	struct dw_cu *cus;
	size_t nr_cus, cap_cus;
};

/* dwarf_read.c: walk every compile unit of dbg into s.  On corrupt DWARF
 * returns -1 with a short description (no file name) in why. */
int dw_read_snapshot(Dwarf_Debug dbg, const struct dw_sections *secs, struct dw_snapshot *s,
		     struct strbuf *why);
void dw_snapshot_free(struct dw_snapshot *s);

/* Follow DW_AT_abstract_origin / DW_AT_specification from n to the DIE
 * that declares it (bounded: corrupt chains cannot loop). */
uint32_t dw_root_of(const struct dw_snapshot *s, uint32_t n);
/* The first node on n's origin chain (n itself first) with a name, a
 * type, a decl line...: the value DWARF means n to have. */
const char *dw_chain_name(const struct dw_snapshot *s, uint32_t n);
/* DW_NONE (void), DW_UNKNOWN or a node index. */
uint32_t dw_chain_type(const struct dw_snapshot *s, uint32_t n);
/* The nodes on n's chain that carry the decl line and the decl file (a
 * definition with DW_AT_specification states only what differs), or
 * DW_NONE. */
uint32_t dw_chain_decl_line(const struct dw_snapshot *s, uint32_t n);
uint32_t dw_chain_decl_file(const struct dw_snapshot *s, uint32_t n);
/* OR of flags over n's chain. */
unsigned dw_chain_flags(const struct dw_snapshot *s, uint32_t n);
/* The decl file of node n (n carries it) as stored in its CU's file
 * table; NULL when n is DW_NONE or the index is out of range. */
const char *dw_decl_file(const struct dw_snapshot *s, uint32_t n);

/* dwarf_lines.c: fill cu->files, nr_files and file_base from the line
 * table header at off in secs->line; -1 (cu untouched) when the header
 * holds something it does not read: ask libdwarf then. */
int dw_line_files(const struct dw_sections *secs, uint64_t off, struct dw_cu *cu);
/* A file table entry's name as we report it (owned by the caller): dir is
 * the entry's include directory (dir_index its raw number), or NULL. */
char *dw_compose_file_name(const char *name, uint64_t dir_index, const char *dir, const char *comp_dir);

/* dwarf_types.c: canonical type strings, cached per node. */
struct dw_types;
struct dw_types *dw_types_new(const struct dw_snapshot *s);
void dw_types_free(struct dw_types *t);
/* "const char *"; "void" for DW_NONE.  Owned by t. */
const char *dw_type_string(struct dw_types *t, uint32_t type);
/* Member or enumerator list of a struct/union/enum node.  Owned by t. */
const char *dw_type_layout(struct dw_types *t, uint32_t agg);
/* "struct foo" for a named struct/union/enum definition, the typedef name
 * for a typedef of an anonymous one, else NULL.  Owned by t. */
const char *dw_aggregate_name(struct dw_types *t, uint32_t n);
/* The struct/union/enum (or typedef of an anonymous one) that a type
 * reaches through pointers, typedefs, qualifiers and arrays, as
 * dw_aggregate_name() names it; NULL if none. */
const char *dw_type_reaches(struct dw_types *t, uint32_t type);

/* dwarf_facts.c: fill d from the snapshot. */
void dw_collect_facts(const struct dw_snapshot *s, struct hp_dwarf *d);
void dw_free_func(struct hp_dwarf_func *f);

static inline bool dw_is_node(const struct dw_snapshot *s, uint32_t n)
{
	return n < s->nr_nodes;
}

static inline bool dw_is_aggregate_tag(unsigned tag)
{
	return tag == DW_TAG_structure_type || tag == DW_TAG_union_type ||
	       tag == DW_TAG_enumeration_type || tag == DW_TAG_class_type;
}

#endif
