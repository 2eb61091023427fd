/*
 * hpk_format.h - the on-disk layout of a hotpatch package, shared by the
 * writer (hpk_write.c) and the reader (hpk_read.c).  Private to those
 * files and hpk.c: everyone else uses the model in hpk.h.
 *
 * man/man5/hotpatch.5 is the specification; every offset and width here is
 * written down there, and the two must change together.  All integers are
 * little-endian; every string is a u32 offset into the string table, or
 * HPK_NO_STRING for "not recorded".
 */
#ifndef HP_HPK_FORMAT_H
#define HP_HPK_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "hpk.h"

#define HPK_MAGIC "\x89HPK\r\n\x1a\n"   /* 8 bytes; catches text-mode mangling like PNG's */
#define HPK_MAGIC_SIZE 8
#define HPK_EM_X86_64 62
#define HPK_NO_STRING 0xffffffffu

/* Header: 104 bytes at offset 0 (72 in format 1.0, which has no digest). */
enum {
	HDR_MAGIC = 0,          /* u8[8] */
	HDR_MAJOR = 8,          /* u16 */
	HDR_MINOR = 10,         /* u16 */
	HDR_ARCH = 12,          /* u16 */
	HDR_HEADER_SIZE = 14,   /* u16: the table of contents starts here */
	HDR_FLAGS = 16,         /* u32 */
	HDR_NR_SECTIONS = 20,   /* u32: table-of-contents entries */
	HDR_FILE_SIZE = 24,     /* u64 */
	HDR_ID = 32,            /* u8[16] */
	HDR_CHECKSUM = 48,      /* u8[16] */
	HDR_TOOL_VERSION = 64,  /* string */
	HDR_CREATED = 68,       /* string */
	HDR_SIZE_1_0 = 72,
	HDR_DIGEST = 72,        /* u8[32], with HPK_FLAG_DIGEST (format 1.1) */
	HDR_SIZE = 104,
};

/* Header flags: the low 16 bits are features a reader must understand
 * (it refuses unknown ones), the high 16 bits are advice it may ignore.
 * Format 1.1 defines one: the header holds a BLAKE2b-256 digest and the
 * id is its first 16 bytes (a reader of 1.0 refuses such a package rather
 * than take an id it cannot check). */
#define HPK_FLAGS_REQUIRED 0x0000ffffu
#define HPK_FLAG_DIGEST 0x00000001u
#define HPK_FLAGS_KNOWN HPK_FLAG_DIGEST

/* Table-of-contents entry: 32 bytes each, right after the header. */
enum {
	TOC_TYPE = 0,           /* u32 */
	TOC_FLAGS = 4,          /* u32 */
	TOC_OFFSET = 8,         /* u64 */
	TOC_SIZE = 16,          /* u64 */
	TOC_CHECKSUM = 24,      /* u64: XXH3-64 of the section's bytes */
	TOC_ENTRY_SIZE = 32,
};
#define HPK_SEC_OPTIONAL 0x1u

enum hpk_section_type {
	SEC_STRINGS = 1,
	SEC_UNITS = 2,
	SEC_SYMBOLS = 3,
	SEC_FUNCTIONS = 4,
	SEC_DATA = 5,
	SEC_RELOCS = 6,
	SEC_MASKS = 7,
	SEC_FINDINGS = 8,
	SEC_BLOBS = 9,
	/* format 1.2, written with HPK_SEC_OPTIONAL: a 1.1 reader skips them */
	SEC_BASE = 10,
	SEC_STATICS = 11,
	SEC_STATIC_MASKS = 12,
	SEC_ALIASES = 13,
	SEC_MAX_KNOWN = 13,
};

/* Alias record: another name of a packaged function (same address). */
enum { ALIAS_FUNC = 0, ALIAS_NAME = 4, ALIAS_SIZE = 8 };

/* Base record (at most one): the module the package was built for. */
enum { BASEREC_NAME = 0, BASEREC_BUILD_ID = 4, BASEREC_SIZE = 8 };

/* Static record: a fingerprint of a static of the running module. */
enum {
	STATIC_HASH = 0,        /* u64 */
	STATIC_SYM = 8, STATIC_SIZE_FIELD = 12, STATIC_ALIGN = 16, STATIC_NR_MASKS = 20,
	STATIC_KIND = 24,       /* u8 */
	STATIC_RESERVED = 25,   /* u8[7] */
	STATIC_SIZE = 32,
};

/* Unit record: six strings. */
enum {
	UNIT_NAME = 0, UNIT_OLD_INPUT = 4, UNIT_NEW_INPUT = 8, UNIT_SOURCE = 12,
	UNIT_OLD_PRODUCER = 16, UNIT_NEW_PRODUCER = 20, UNIT_SIZE = 24,
};

/* Symbol record. */
enum {
	SYM_NAME = 0, SYM_FILE = 4, SYM_INDEX = 8, SYM_UNIT = 12,
	SYM_BIND = 16, SYM_TYPE = 17, SYM_WHERE = 18, SYM_RESERVED = 19,   /* u8 each */
	SYM_SIZE = 20,
};

/* Function record. */
enum {
	FUNC_OLD_HASH = 0,      /* u64 */
	FUNC_NAME = 8, FUNC_FILE = 12, FUNC_LINE = 16, FUNC_UNIT = 20, FUNC_SYM = 24,
	FUNC_ALIGN = 28, FUNC_CODE_OFFSET = 32, FUNC_CODE_SIZE = 36, FUNC_NR_RELOCS = 40,
	FUNC_OLD_SIZE = 44, FUNC_NR_MASKS = 48,
	FUNC_KIND = 52, FUNC_BIND = 53,   /* u8 */
	FUNC_RESERVED = 54,               /* u16 */
	FUNC_SIZE = 56,
};

/* Data record. */
enum {
	DATA_NAME = 0, DATA_FILE = 4, DATA_LINE = 8, DATA_UNIT = 12, DATA_SYM = 16,
	DATA_ALIGN = 20, DATA_OBJ_SIZE = 24, DATA_BYTES_OFFSET = 28, DATA_NR_RELOCS = 32,
	DATA_KIND = 36, DATA_BIND = 37,   /* u8 */
	DATA_RESERVED = 38,               /* u16 */
	DATA_SIZE = 40,
};

/* Relocation record. */
enum {
	RELOC_ADDEND = 0,       /* i64 */
	RELOC_OFFSET = 8, RELOC_TYPE = 12, RELOC_SYM = 16, RELOC_RESERVED = 20,
	RELOC_SIZE = 24,
};

/* Mask record. */
enum { MASK_START = 0, MASK_LEN = 4, MASK_SIZE = 8 };

/* Finding record. */
enum {
	FIND_RULE = 0, FIND_SYMBOL = 4, FIND_FILE = 8, FIND_LINE = 12, FIND_MESSAGE = 16,
	FIND_SEVERITY = 20, FIND_OVERRIDDEN = 21,   /* u8 */
	FIND_RESERVED = 22,                         /* u16 */
	FIND_SIZE = 24,
};

/* Alignment in the file: sections start on 8 bytes, the blob section on
 * 16; inside it code is placed on min(align, 16), data bytes on
 * min(align, 8). */
#define HPK_SECTION_ALIGN 8
#define HPK_BLOBS_ALIGN 16
#define HPK_CODE_ALIGN_MAX 16
#define HPK_DATA_ALIGN_MAX 8

/* Name of a known section type ("functions"), or NULL. */
const char *hpk_section_name(uint32_t type);
/* Record size of a known section type (1 for the byte sections). */
size_t hpk_record_size(uint32_t type);

/*
 * The checks on the model that do not depend on the encoding: enums,
 * indices, back-pointers, relocation and mask bounds.  The reader runs them
 * on what it decoded, the writer before it writes (so it never writes a
 * package the reader refuses).  On failure: -1 and why[] holds the problem
 * without a file name ("function 3 relocation 7: ...").
 */
int hpk_check_model(const struct hpk *p, char *why, size_t n);

/* Sort masks by start, drop empty ones and merge overlapping or adjacent
 * ones; out has room for n.  Returns how many are left. */
uint32_t hpk_normalize_masks(const struct hpk_range *in, uint32_t n, struct hpk_range *out);

/* Whole-file XXH3-128: over image with the id field zeroed when zero_id,
 * and the checksum field always zeroed.  Stored low half first.  The file
 * checksum (zero_id 0) of every format, and the id of format 1.0. */
void hpk_file_hash(const uint8_t *image, size_t size, int zero_id, uint8_t out[16]);

/* BLAKE2b-256 (unkeyed) of image with the id, checksum and digest fields
 * zeroed: the digest of format 1.1, whose first 16 bytes are the id.
 * size is at least HDR_SIZE. */
void hpk_file_digest(const uint8_t *image, size_t size, uint8_t out[32]);

/* Recompute the id of image (size at least HDR_SIZE_1_0) the way its
 * flags say: with HPK_FLAG_DIGEST and a header with room for it, the
 * digest and the id from it; otherwise the 1.0 XXH3 id.  The writer's
 * step before the file checksum; the test and fuzz tools that craft
 * packages use it too. */
void hpk_seal_id(uint8_t *image, size_t size);

#endif
