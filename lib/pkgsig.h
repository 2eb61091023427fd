/*
 * pkgsig.h - signed packages: a package PKG.hpk is signed by a detached
 * minisign signature PKG.hpk.minisig (minisign.h) whose trusted comment
 * names the package id, so that the signature cannot be moved to another
 * package.  hpbuild --sign writes it; hpverify and hpapply check it
 * against a keyring of public keys (--key FILE, --keys DIR).
 *
 * What a good signature proves: the holder of one of the keyring's secret
 * keys signed exactly these bytes, as this package id.  Not that the
 * package is safe, nor which program it is for: that is for the safety
 * rules and hpapply's checks of the running code.
 */
#ifndef HP_PKGSIG_H
#define HP_PKGSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hpk.h"
#include "minisign.h"
#include "util.h"

#define PKGSIG_SUFFIX ".minisig"
/* The trusted comment of a package signature starts with this, then the
 * 32-hex-digit package id, then the end or a space. */
#define PKGSIG_COMMENT_PREFIX "hotpatch package "

struct keyring_key {
	struct minisign_pubkey key;
	char *path;
};

struct keyring {
	struct keyring_key *v;
	size_t n, cap;
};

/* Add the public key in path; -1 + err when it cannot be read or is not
 * a minisign Ed25519 public key. */
int keyring_add_file(struct keyring *kr, const char *path, struct hp_err *err);
/* Add every DIR/NAME.pub, in name order; -1 + err for an unreadable
 * directory, a bad key in it, or none at all. */
int keyring_add_dir(struct keyring *kr, const char *dir, struct hp_err *err);
void keyring_free(struct keyring *kr);

enum pkgsig_status {
	PKGSIG_OK = 0,
	PKGSIG_MISSING,     /* no PKG.minisig */
	PKGSIG_BAD,         /* there, but refused: malformed, unknown key, does not verify, other id */
};

struct pkgsig_result {
	enum pkgsig_status status;
	char *sig_path;            /* PKG.minisig */
	char key_id[17];           /* as minisign prints it; "" when not known */
	const char *key_path;      /* the keyring's file of that key, or NULL */
	char *trusted_comment;     /* NULL unless the signature verified */
};

/*
 * Check the signature of the package read from pkg_path (p, whose image
 * holds the bytes read and checked) against kr.  0: signed by a key of
 * kr, r says which and the trusted comment.  -1: refused, r->status says
 * how and err says why in one line naming the signature file.
 */
int pkgsig_check(const char *pkg_path, const struct hpk *p, const struct keyring *kr,
		 struct pkgsig_result *r, struct hp_err *err);
/* The same with the signature file's text in memory (sig_name names it
 * in messages); r is zeroed first unless r->sig_path is set already. */
int pkgsig_check_mem(const char *sig_name, const uint8_t *text, size_t n, const struct hpk *p,
		     const struct keyring *kr, struct pkgsig_result *r, struct hp_err *err);
void pkgsig_result_free(struct pkgsig_result *r);

/*
 * Load a secret key for signing.  The file must not be readable or
 * writable by group or others (as ssh refuses such keys).  An encrypted
 * key needs password_file (its first line is the password); NULL is fine
 * for a key made with minisign -G -W.
 */
int pkgsig_load_seckey(const char *path, const char *password_file, struct minisign_seckey *k,
		       struct hp_err *err);

/* Sign image (the package file's bytes, whose id is id) and write
 * pkg_path.minisig atomically. */
int pkgsig_sign(const char *pkg_path, const uint8_t *image, size_t size, const uint8_t id[16],
		const struct minisign_seckey *k, struct hp_err *err);

#endif
