/*
 * record.h - what hpapply keeps inside the patched process, so that a
 * later, separate run can list and revert what is applied.
 *
 * The record lives in a private, read-only mapping of a memfd named
 * "hpapply-record": /proc/PID/maps shows it as
 * "/memfd:hpapply-record (deleted)", which is how we find it again (where
 * memfd_create fails, an anonymous mapping of RECORD_MAP_SIZE bytes found
 * by its magic); its first bytes must also carry the magic, version and a
 * checksum, or we refuse to touch the process.  The program cannot write it by accident
 * (read-only); hpapply writes it through ptrace.  A child made by fork()
 * inherits it together with the patched code, so it stays true there too.
 *
 * The mapping holds two slots of RECORD_SLOT_SIZE bytes, each a whole
 * record with a generation number; a run writes the slot that does not
 * hold the current record, so a write cut short (hpapply killed) leaves
 * the other, complete and checked, in force: the reader takes the valid
 * slot with the higher generation.  A mapping whose slots are both all
 * zeros (hpapply killed after mapping it, before the first write) is an
 * empty record.
 *
 * Each package entry is a journal entry with a state: written PENDING
 * before any jump (its memory mapped and filled), APPLIED once every jump
 * is written; REVERTING before the first original byte is put back; the
 * entry goes when the last one is.  An entry left PENDING or REVERTING by
 * an hpapply that did not finish is rolled back or completed by
 * hpapply --repair (repair.c).
 *
 * Layout of a slot (little-endian), format 2:
 *   header, 48 bytes:  magic "HPAPREC1", u32 version (2), u32 used (bytes,
 *                      header included), u32 package count, u32 retained
 *                      region count, u64 next sequence number, u64
 *                      generation, u64 XXH3-64 of bytes [0, used) with
 *                      this field read as zeros
 *   each package:      u32 entry size, u32 function count, u8 id[16],
 *                      u32 state, u32 pid of the hpapply that wrote the
 *                      state, u8 replaces[16] (the package it retires, or
 *                      zeros), u64 sequence, u64 module load bias, u64
 *                      region address, u64 region size, u64 code bytes
 *                      (the read-execute part), string module path,
 *                      string tool version
 *   each function:     u64 entry address, u64 jump target, u32 old size,
 *                      u8 original bytes[5], u8 pad[3], string name,
 *                      string source file
 *   after the functions, inside the package entry: string signer (the
 *                      minisign key id that signed the package, empty
 *                      when unsigned); absent in entries written before
 *                      it existed, read as empty
 *   each retained:     u64 address, u64 size, u8 package id[16]
 *   string:            u16 length, bytes (no NUL)
 *
 * A retained region is the data part of a reverted or replaced package
 * that a thread might still point into (a string it is printing): it stays
 * mapped until a later run finds no pointer into it.
 */
#ifndef HP_RECORD_H
#define HP_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "procmaps.h"
#include "redirect.h"
#include "tracee.h"
#include "util.h"

#define RECORD_NAME "hpapply-record"
#define RECORD_MAP_SIZE (1u << 20)   /* virtual; pages are allocated when written */
#define RECORD_SLOT_SIZE (RECORD_MAP_SIZE / 2)
#define JUMP_SIZE HP_REDIRECT_JMP_SIZE   /* the redirect (redirect.h) */

struct rec_func {
	uint64_t addr;          /* the redirected function's entry */
	uint64_t target;        /* where its jump leads */
	uint32_t size;          /* the function's size */
	uint8_t orig[JUMP_SIZE];/* the bytes the jump replaced */
	char *name, *file;
};

enum rec_state {
	REC_PENDING = 1,        /* memory in place, jumps being written */
	REC_APPLIED = 2,
	REC_REVERTING = 3,      /* original bytes being put back */
};

struct rec_pkg {
	uint8_t id[16];
	uint32_t state;         /* enum rec_state */
	uint32_t pid;           /* the hpapply that wrote a PENDING or REVERTING state */
	uint8_t replaces[16];   /* the package this one retires (all zeros: none) */
	uint64_t seq;           /* order of application (newest: highest) */
	char *module;
	uint64_t module_bias;
	uint64_t region, region_size, code_size;
	char *tool;
	char *signer;           /* key id that signed the package, "" if none */
	struct rec_func *funcs;
	uint32_t nr_funcs;
};

struct rec_retained {
	uint64_t addr, size;
	uint8_t id[16];         /* the package it belonged to */
};

struct record {
	bool present;           /* the mapping exists */
	uint64_t map_addr, map_size;
	uint64_t next_seq;
	uint64_t generation;    /* of the slot read (0: none yet) */
	int slot;               /* the slot it was read from, -1: none */
	struct rec_pkg *pkgs;
	size_t nr_pkgs;
	struct rec_retained *retained;
	size_t nr_retained;
};

/* The data part of a package's region: after its code pages. */
uint64_t rec_pkg_data_start(const struct rec_pkg *p);
/* "pending", "applied", "reverting" (or "unknown"). */
const char *rec_state_name(uint32_t state);
/* An entry left half done: not APPLIED. */
bool rec_pkg_unfinished(const struct rec_pkg *p);
/* The first unfinished entry, or NULL. */
const struct rec_pkg *record_unfinished(const struct record *r);
/* Nothing listed: the record mapping can go. */
bool record_is_empty(const struct record *r);

/* Find and decode the record of process t (no attach needed); absent is
 * not an error (r->present false). */
int record_read(struct tracee *t, const struct proc_maps *m, struct record *r, struct hp_err *err);
void record_free(struct record *r);

/* Encode r (one slot's content, with r->generation); *buf is the
 * caller's to free. */
void record_encode(const struct record *r, uint8_t **buf, size_t *len);
int record_decode(const char *where, const uint8_t *buf, size_t len, struct record *r,
		  struct hp_err *err);

/* Deep copies for building a new record from an old one. */
void record_copy(struct record *dst, const struct record *src);
void rec_pkg_copy(struct rec_pkg *dst, const struct rec_pkg *src);
void rec_pkg_free(struct rec_pkg *p);
/* The package with this id, or NULL. */
struct rec_pkg *record_find_id(const struct record *r, const uint8_t id[16]);
/* The function record redirecting addr (any package), or NULL. */
const struct rec_func *record_find_func(const struct record *r, uint64_t addr);

#endif
