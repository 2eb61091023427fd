/*
 * minisign.h - the file formats of minisign (https://jedisct1.github.io/minisign/):
 * public keys, secret keys and detached signatures, read from and written
 * to memory, and Ed25519 signing and verification through libsodium.
 * Files made by `minisign -G` and `minisign -S` are read here, and the
 * signatures written here verify with `minisign -V`.
 *
 * Every file is text: an "untrusted comment: " line, then a base64 line
 *   public key   "Ed" | key id (8) | Ed25519 public key (32)
 *   secret key   "Ed" | kdf "Sc" or "\0\0" (not encrypted) | "B2" |
 *                salt (32) | opslimit (u64) | memlimit (u64) |
 *                key id (8) | Ed25519 secret key (64) | checksum (32),
 *                the last three XORed with scrypt(password) when "Sc";
 *                checksum = BLAKE2b-256("Ed" | key id | secret key), or
 *                zeros in an unencrypted key (minisign -G -W writes them)
 *   signature    "ED" (Ed25519 of BLAKE2b-512 of the file) or "Ed" (of
 *                the file itself, legacy) | key id (8) | signature (64),
 *                then a "trusted comment: " line and a base64 line: the
 *                Ed25519 signature of (signature | trusted comment).
 * Integers are little-endian.  Everything is hostile until checked; a
 * failure leaves one line in err naming the file (the name argument).
 */
#ifndef HP_MINISIGN_H
#define HP_MINISIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define MINISIGN_KEY_ID_BYTES 8
#define MINISIGN_TRUSTED_MAX 8192   /* longest trusted comment accepted, as minisign */

struct minisign_pubkey {
	uint8_t key_id[MINISIGN_KEY_ID_BYTES];
	uint8_t pk[32];
};

struct minisign_seckey {
	uint8_t key_id[MINISIGN_KEY_ID_BYTES];
	uint8_t sk[64];
};

struct minisign_sig {
	bool prehashed;              /* "ED"; false for legacy "Ed" */
	uint8_t key_id[MINISIGN_KEY_ID_BYTES];
	uint8_t sig[64];
	char *trusted_comment;       /* without its prefix and line end */
	uint8_t global_sig[64];
};

/* The key id as minisign prints it: the 8 bytes read as a little-endian
 * u64, in 16 uppercase hex digits (buf: 17 bytes). */
void minisign_key_id_hex(const uint8_t id[MINISIGN_KEY_ID_BYTES], char *buf);

int minisign_parse_pubkey(const char *name, const uint8_t *text, size_t n,
			  struct minisign_pubkey *k, struct hp_err *err);

/*
 * A secret key.  An encrypted one ("Sc") needs password (NULL: refused
 * with a line saying so); its scrypt limits are taken from the file but
 * refused above 4 GiB of memory.  A wrong password shows as a checksum
 * mismatch.  k is wiped on failure.
 */
int minisign_parse_seckey(const char *name, const uint8_t *text, size_t n, const char *password,
			  struct minisign_seckey *k, struct hp_err *err);

int minisign_parse_sig(const char *name, const uint8_t *text, size_t n, struct minisign_sig *s,
		       struct hp_err *err);
void minisign_sig_free(struct minisign_sig *s);

/* 0 when s signs msg with k: same key id, the signature of the file and
 * the global signature of the trusted comment all verify.  -1 and err
 * ("NAME: ...", name being the signature file) otherwise. */
int minisign_verify(const char *name, const struct minisign_sig *s, const struct minisign_pubkey *k,
		    const uint8_t *msg, size_t n, struct hp_err *err);

/* A prehashed ("ED") signature file of msg, as text the caller frees
 * (NULL only if libsodium cannot start).  The comments are single lines
 * (the caller checks).  Ed25519 is deterministic: so is the file. */
char *minisign_sign(const struct minisign_seckey *k, const uint8_t *msg, size_t n,
		    const char *untrusted, const char *trusted);

#endif
