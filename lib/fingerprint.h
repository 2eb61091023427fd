/*
 * fingerprint.h - what a relocation really refers to, and relocation-aware
 * fingerprints of functions and data objects.
 *
 * A relocation's target is reduced to an identity that survives unrelated
 * edits: a named symbol by its correlation key, a string literal by its
 * text, a merged constant by its bytes, an anonymous read-only region (a
 * jump table) by its content.  A section symbol plus addend becomes the
 * symbol defined there.  So strings shifting inside a merged string section
 * or static locals being renumbered do not change a function's fingerprint.
 */
#ifndef HP_FINGERPRINT_H
#define HP_FINGERPRINT_H

#include "elfobj.h"
#include "util.h"

enum hp_target_kind {
	HP_TARGET_NONE,     /* symbol index 0 or unresolvable */
	HP_TARGET_SYMBOL,   /* a named function/object/undefined symbol */
	HP_TARGET_STRING,   /* text in a mergeable string section */
	HP_TARGET_CONST,    /* an entry of a mergeable constant pool */
	HP_TARGET_ANON,     /* an unnamed region of another section (jump table) */
};

struct hp_target {
	enum hp_target_kind kind;
	struct hp_symbol *sym;           /* SYMBOL */
	struct hp_section *sec;          /* STRING/CONST/ANON: where it lives */
	uint64_t start, len;             /* STRING (len without NUL)/CONST/ANON region */
	int64_t delta;                   /* addend relative to the symbol/region start */
};

/* Resolve r, a relocation in section 'from' (code or data). */
void resolve_target(const struct hp_section *from, const struct hp_reloc *r, struct hp_target *t);

/* The identity of a resolved target (uses correlation keys: call after
 * correlate_prepare()). */
uint64_t target_identity(const struct hp_target *t);

/* Human-readable: `validate_len`, `"bad length %d"`, `constant 0x3ff0...`,
 * `.rodata+0x40 (24 bytes)`; with delta when non-zero. */
void describe_target(const struct hp_target *t, struct strbuf *sb);

/* An anonymous region holding one NUL-terminated printable string (string
 * literals outside merged sections, as gcc -O0 emits them). */
bool target_is_text(const struct hp_target *t);

/* Compute code_hash and reloc_hash of every function and object of e. */
void fingerprint_object(struct hp_elf *e);
void fingerprint_symbol(struct hp_symbol *s);

/* True if byte 'off' (inside s) lies in a relocated field of s. */
bool offset_is_relocated(const struct hp_symbol *s, uint64_t off);

#endif
