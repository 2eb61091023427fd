/*
 * dwarf.h - the source and type facts we take from DWARF, with libdwarf
 * (Debian 12: the 20210528 API).
 *
 * Facts are plain strings and numbers collected once per object, so that
 * the rest of the toolchain never touches libdwarf.  Types are described by
 * canonical strings ("const char *", "struct pkt *", "int[16]"), which makes
 * "did the signature change" a string comparison.
 *
 * A relocatable object's DWARF addresses are section-relative, so facts
 * are keyed by name, never by address.
 */
#ifndef HP_DWARF_H
#define HP_DWARF_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct hp_elf;

struct hp_dwarf_cu {
	char *name;      /* DW_AT_name of the compile unit */
	char *comp_dir;  /* may be NULL */
	char *producer;  /* "GNU C17 12.2.0 -mtune=generic -O2 -g ..." or NULL */
};

struct hp_dwarf_func {
	char *name;           /* source-level name (DW_AT_name), never NULL */
	char *linkage_name;   /* DW_AT_linkage_name, or NULL */
	/* decl file as the line table names it: the name as written, under
	 * its include directory, relative to the compilation directory when
	 * it lies inside it ("src/x.c", "/usr/include/stdio.h"); or NULL */
	char *file;
	unsigned line;        /* decl line, 0 if unknown */
	/* decl line of the next function defined after this one in the same
	 * file (UINT_MAX for the last): [line, next_line) holds its body, and
	 * so every __LINE__ value that can appear in its code. */
	unsigned next_line;
	bool external;        /* DW_AT_external */
	bool has_code;        /* a concrete out-of-line instance exists */
	bool noreturn;        /* DW_AT_noreturn */
	bool is_inline;       /* declared inline (DW_AT_inline); clang 14
			       * never says so, whatever the source did */
	char *return_type;    /* "void" when none */
	char **params;        /* parameter type strings */
	size_t nr_params;
	bool varargs;
	char *signature;      /* "int (const char *, unsigned long)" */
	char **inlined;       /* names of functions with inlined copies in it,
			       * sorted */
	size_t nr_inlined;
	char **types_used;    /* "struct foo", "union u", "enum e" reached from
			       * its parameters, return type and locals
			       * (a typedef of an anonymous struct by its
			       * typedef name); sorted */
	size_t nr_types_used;
};

struct hp_dwarf_var {
	char *name;
	char *owner;          /* function name for a static local, else NULL */
	char *file;
	unsigned line;
	char *type;           /* canonical type string */
	bool external;
};

/*
 * A named struct, union or enum and its layout.  A typedef of an
 * anonymous one ("typedef struct { ... } foo_t;") is listed by the
 * typedef name ("foo_t"), which C keeps apart from struct tags.
 *
 * Layout: members in order, ';'-separated, each "name:type@offset" with
 * the byte offset; a bitfield "name:type:bits@bitN" with N counted from the
 * start of the struct; an anonymous member has an empty name and its type
 * spelled with its own layout ("union {a:int@0;b:float@0}").  Enums:
 * "A=0;B=1".  Type strings keep the compiler's base type names.
 */
struct hp_dwarf_type {
	char *name;           /* "struct foo", "union bar", "enum baz", "foo_t" */
	char *file;
	unsigned line;
	unsigned long byte_size;
	char *layout;         /* canonical: "a:int@0;b:char *@8" or "A=0;B=1" */
};

struct hp_dwarf {
	struct hp_dwarf_cu *cus;
	size_t nr_cus;
	struct hp_dwarf_func *funcs;
	size_t nr_funcs;
	struct hp_dwarf_var *vars;
	size_t nr_vars;
	struct hp_dwarf_type *types;
	size_t nr_types;
	struct hmap func_by_name;  /* name -> hp_dwarf_func (concrete preferred) */
	struct hmap var_by_name;   /* name, or "owner/name" for static locals */
	struct hmap type_by_name;
	char **var_keys;           /* the "owner/name" keys, owned here */
	size_t nr_var_keys;
};

/*
 * Read the DWARF of e: on success e->dwarf is set, or, when the object has
 * no DWARF, e->dwarf stays NULL and e->dwarf_problem says what is missing
 * and what to do ("no .debug_info: rebuild with -g").  Corrupt DWARF is an
 * error: returns -1 with err set ("FILE: corrupt DWARF: ...").
 */
int dwarf_load(struct hp_elf *e, struct hp_err *err);
void dwarf_free(struct hp_dwarf *d);

const struct hp_dwarf_func *dwarf_find_func(const struct hp_dwarf *d, const char *name);
/* The first compile unit's producer (DW_AT_producer: compiler, version and
 * options), or NULL; d may be NULL (an object without DWARF). */
const char *dwarf_producer(const struct hp_dwarf *d);
/* owner may be NULL for file-scope variables. */
const struct hp_dwarf_var *dwarf_find_var(const struct hp_dwarf *d, const char *owner,
					  const char *name);
const struct hp_dwarf_type *dwarf_find_type(const struct hp_dwarf *d, const char *name);

#endif
