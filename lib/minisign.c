/*
 * minisign.c - minisign keys and signatures (minisign.h): a strict reader
 * of the text files, the secret key's decryption and checksum, and
 * Ed25519 signing and verification through libsodium.
 *
 * The reader takes a file as lines ("\n", an optional "\r" before it),
 * wants each comment line to start with its prefix, each base64 line to
 * decode to exactly the structure's size, and nothing after the last line
 * but line ends.  Comments may hold tabs but no other control character:
 * they end up on reviewers' terminals.
 */
#include "minisign.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNTRUSTED_PREFIX "untrusted comment: "
#define TRUSTED_PREFIX "trusted comment: "
#define COMMENT_MAX 1024             /* minisign's COMMENTMAXBYTES */

enum {
	PUBKEY_SIZE = 2 + MINISIGN_KEY_ID_BYTES + 32,
	SIG_SIZE = 2 + MINISIGN_KEY_ID_BYTES + 64,
	/* secret key fields */
	SK_SIG_ALG = 0, SK_KDF_ALG = 2, SK_CHK_ALG = 4, SK_SALT = 6, SK_OPSLIMIT = 38,
	SK_MEMLIMIT = 46, SK_KEY_ID = 54, SK_SK = 62, SK_CHK = 126, SECKEY_SIZE = 158,
};
#define SK_ENCRYPTED_SIZE (SECKEY_SIZE - SK_KEY_ID)   /* key id, key, checksum */
#define SCRYPT_MEMLIMIT_MAX (4ull << 30)

void minisign_key_id_hex(const uint8_t id[MINISIGN_KEY_ID_BYTES], char *buf)
{
	snprintf(buf, 17, "%016llX", (unsigned long long)get_le(id, MINISIGN_KEY_ID_BYTES));
}

/* ---- lines ---- */

struct line {
	const char *s;
	size_t len;
};

/* Split text into at most max lines; -1 when there are more non-empty
 * lines, or a NUL byte. */
static int split_lines(const uint8_t *text, size_t n, struct line *v, size_t max, size_t *count)
{
	size_t i = 0, k = 0;

	if (memchr(text, '\0', n))
		return -1;
	while (i < n) {
		const char *s = (const char *)text + i;
		const char *nl = memchr(s, '\n', n - i);
		size_t len = nl ? (size_t)(nl - s) : n - i;

		i += len + (nl ? 1 : 0);
		if (len && s[len - 1] == '\r')
			len--;
		if (k == max) {
			if (len)
				return -1;
			continue;
		}
		v[k++] = (struct line){ s, len };
	}
	/* empty lines at the end are line ends, not lines */
	while (k && !v[k - 1].len)
		k--;
	*count = k;
	return 0;
}

static bool is_clean_comment(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

/* The text of a comment line after prefix; -1 when the line lacks it. */
static int comment_of(const struct line *l, const char *prefix, size_t max, struct line *out)
{
	size_t p = strlen(prefix);

	if (l->len < p || memcmp(l->s, prefix, p) || l->len - p > max ||
	    !is_clean_comment(l->s + p, l->len - p))
		return -1;
	*out = (struct line){ l->s + p, l->len - p };
	return 0;
}

/* Exactly size bytes of base64 (with padding) in l, in the one canonical
 * spelling: libsodium's decoder alone lets other bytes through (it reads
 * a character with its high bit set as the same digit), and a signature
 * file that can be changed without being refused is not what we promise. */
static int decode_b64(const struct line *l, uint8_t *out, size_t size)
{
	uint8_t buf[SECKEY_SIZE + 4];
	char again[4 * ((SECKEY_SIZE + 2) / 3) + 1];
	size_t got = 0;
	const char *end = NULL;
	int ret = -1;

	if (size + 1 > sizeof(buf) || l->len != 4 * ((size + 2) / 3))
		return -1;
	if (sodium_base642bin(buf, size + 1, l->s, l->len, NULL, &got, &end,
			      sodium_base64_VARIANT_ORIGINAL) == 0 &&
	    end == l->s + l->len && got == size) {
		sodium_bin2base64(again, sizeof(again), buf, size, sodium_base64_VARIANT_ORIGINAL);
		if (!memcmp(again, l->s, l->len)) {
			memcpy(out, buf, size);
			ret = 0;
		}
		sodium_memzero(again, sizeof(again));
	}
	sodium_memzero(buf, sizeof(buf));
	return ret;
}

/* The two lines of a key file: the untrusted comment, the base64. */
static int key_lines(const char *name, const uint8_t *text, size_t n, const char *what,
		     struct line *b64, struct hp_err *err)
{
	struct line v[2], c;
	size_t count;

	if (split_lines(text, n, v, 2, &count) < 0 || count != 2)
		return hp_err_set(err, "%s: not a minisign %s (expected two lines: a comment and the key)",
				  name, what);
	if (comment_of(&v[0], UNTRUSTED_PREFIX, COMMENT_MAX, &c) < 0)
		return hp_err_set(err, "%s: not a minisign %s (the first line is not an 'untrusted comment:')",
				  name, what);
	*b64 = v[1];
	return 0;
}

/* ---- public keys ---- */

int minisign_parse_pubkey(const char *name, const uint8_t *text, size_t n,
			  struct minisign_pubkey *k, struct hp_err *err)
{
	uint8_t raw[PUBKEY_SIZE];
	struct line b64;

	if (key_lines(name, text, n, "public key", &b64, err) < 0)
		return -1;
	if (decode_b64(&b64, raw, sizeof(raw)) < 0)
		return hp_err_set(err, "%s: not a minisign public key (the key line is not %u bytes of base64)",
				  name, (unsigned)PUBKEY_SIZE);
	if (memcmp(raw, "Ed", 2))
		return hp_err_set(err, "%s: public key algorithm '%c%c' is not Ed25519 ('Ed')", name,
				  raw[0] >= 0x20 && raw[0] < 0x7f ? raw[0] : '?',
				  raw[1] >= 0x20 && raw[1] < 0x7f ? raw[1] : '?');
	memcpy(k->key_id, raw + 2, MINISIGN_KEY_ID_BYTES);
	memcpy(k->pk, raw + 2 + MINISIGN_KEY_ID_BYTES, 32);
	return 0;
}

/* ---- secret keys ---- */

static void seckey_checksum(const uint8_t *raw, uint8_t out[32])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, raw + SK_SIG_ALG, 2);
	crypto_generichash_update(&st, raw + SK_KEY_ID, MINISIGN_KEY_ID_BYTES);
	crypto_generichash_update(&st, raw + SK_SK, 64);
	crypto_generichash_final(&st, out, 32);
}

static int decrypt_seckey(const char *name, uint8_t *raw, const char *password, struct hp_err *err)
{
	uint64_t ops = get_le(raw + SK_OPSLIMIT, 8), mem = get_le(raw + SK_MEMLIMIT, 8);
	uint8_t stream[SK_ENCRYPTED_SIZE];

	if (!password)
		return hp_err_set(err, "%s: secret key is encrypted; give its password with --password-file "
				  "(or use a key made by minisign -G -W)", name);
	if (mem > SCRYPT_MEMLIMIT_MAX || ops > UINT32_MAX)
		return hp_err_set(err, "%s: secret key asks scrypt for %llu bytes and %llu operations; refused (at most 4 GiB)",
				  name, (unsigned long long)mem, (unsigned long long)ops);
	if (crypto_pwhash_scryptsalsa208sha256(stream, sizeof(stream), password, strlen(password),
					       raw + SK_SALT, ops, (size_t)mem) != 0)
		return hp_err_set(err, "%s: cannot derive the key's decryption stream (scrypt with %llu bytes: out of memory?)",
				  name, (unsigned long long)mem);
	for (size_t i = 0; i < sizeof(stream); i++)
		raw[SK_KEY_ID + i] ^= stream[i];
	sodium_memzero(stream, sizeof(stream));
	return 0;
}

/* The secret key's second half is its public key: derived again from the
 * seed, it must match (the only check an unencrypted key gets). */
static bool seckey_consistent(const uint8_t *raw)
{
	uint8_t pk[32], sk[64];
	bool ok;

	crypto_sign_seed_keypair(pk, sk, raw + SK_SK);
	ok = !sodium_memcmp(pk, raw + SK_SK + 32, 32);
	sodium_memzero(sk, sizeof(sk));
	return ok;
}

/*
 * minisign computes the checksum only when it encrypts a key: a key made
 * with -W has 32 zero bytes there, which minisign never looks at.  So an
 * encrypted key must match its checksum (a wrong password shows here); an
 * unencrypted one may have zeros or the right checksum.
 */
static int check_seckey(const char *name, uint8_t *raw, const char *password, struct hp_err *err)
{
	static const uint8_t zeros[32];
	uint8_t chk[32];
	bool encrypted, chk_ok;

	if (memcmp(raw + SK_SIG_ALG, "Ed", 2))
		return hp_err_set(err, "%s: secret key algorithm is not Ed25519 ('Ed')", name);
	if (memcmp(raw + SK_CHK_ALG, "B2", 2))
		return hp_err_set(err, "%s: secret key checksum algorithm is not BLAKE2b ('B2')", name);
	encrypted = !memcmp(raw + SK_KDF_ALG, "Sc", 2);
	if (!encrypted && memcmp(raw + SK_KDF_ALG, "\0\0", 2))
		return hp_err_set(err, "%s: secret key encryption is neither scrypt ('Sc') nor none", name);
	if (encrypted && decrypt_seckey(name, raw, password, err) < 0)
		return -1;
	seckey_checksum(raw, chk);
	chk_ok = !sodium_memcmp(chk, raw + SK_CHK, 32) || (!encrypted && !memcmp(raw + SK_CHK, zeros, 32));
	sodium_memzero(chk, sizeof(chk));
	if (!chk_ok)
		return hp_err_set(err, encrypted ? "%s: wrong password for the secret key (or the key is corrupt)"
					         : "%s: secret key checksum mismatch (the key is corrupt)", name);
	if (!seckey_consistent(raw))
		return hp_err_set(err, "%s: secret key is corrupt (its two halves do not belong together)", name);
	return 0;
}

int minisign_parse_seckey(const char *name, const uint8_t *text, size_t n, const char *password,
			  struct minisign_seckey *k, struct hp_err *err)
{
	uint8_t raw[SECKEY_SIZE];
	struct line b64;
	int ret = -1;

	memset(k, 0, sizeof(*k));
	if (sodium_init() < 0)
		return hp_err_set(err, "%s: libsodium cannot start", name);
	if (key_lines(name, text, n, "secret key", &b64, err) < 0)
		return -1;
	if (decode_b64(&b64, raw, sizeof(raw)) < 0)
		return hp_err_set(err, "%s: not a minisign secret key (the key line is not %u bytes of base64)",
				  name, (unsigned)SECKEY_SIZE);
	if (check_seckey(name, raw, password, err) == 0) {
		memcpy(k->key_id, raw + SK_KEY_ID, MINISIGN_KEY_ID_BYTES);
		memcpy(k->sk, raw + SK_SK, 64);
		ret = 0;
	}
	sodium_memzero(raw, sizeof(raw));
	return ret;
}

/* ---- signatures ---- */

int minisign_parse_sig(const char *name, const uint8_t *text, size_t n, struct minisign_sig *s,
		       struct hp_err *err)
{
	uint8_t raw[SIG_SIZE];
	struct line v[4], c;
	size_t count;

	memset(s, 0, sizeof(*s));
	if (split_lines(text, n, v, 4, &count) < 0 || count != 4)
		return hp_err_set(err, "%s: not a minisign signature (expected four lines)", name);
	if (comment_of(&v[0], UNTRUSTED_PREFIX, COMMENT_MAX, &c) < 0)
		return hp_err_set(err, "%s: not a minisign signature (line 1 is not an 'untrusted comment:')", name);
	if (decode_b64(&v[1], raw, sizeof(raw)) < 0)
		return hp_err_set(err, "%s: not a minisign signature (line 2 is not %u bytes of base64)",
				  name, (unsigned)SIG_SIZE);
	if (!memcmp(raw, "ED", 2))
		s->prehashed = true;
	else if (memcmp(raw, "Ed", 2))
		return hp_err_set(err, "%s: signature algorithm is neither 'ED' nor 'Ed' (Ed25519)", name);
	if (comment_of(&v[2], TRUSTED_PREFIX, MINISIGN_TRUSTED_MAX, &c) < 0)
		return hp_err_set(err, "%s: not a minisign signature (line 3 is not a 'trusted comment:' of at most %u printable bytes)",
				  name, MINISIGN_TRUSTED_MAX);
	if (decode_b64(&v[3], s->global_sig, 64) < 0)
		return hp_err_set(err, "%s: not a minisign signature (line 4 is not 64 bytes of base64)", name);
	memcpy(s->key_id, raw + 2, MINISIGN_KEY_ID_BYTES);
	memcpy(s->sig, raw + 2 + MINISIGN_KEY_ID_BYTES, 64);
	s->trusted_comment = xstrndup(c.s, c.len);
	return 0;
}

void minisign_sig_free(struct minisign_sig *s)
{
	free(s->trusted_comment);
	s->trusted_comment = NULL;
}

int minisign_verify(const char *name, const struct minisign_sig *s, const struct minisign_pubkey *k,
		    const uint8_t *msg, size_t n, struct hp_err *err)
{
	uint8_t hash[64];
	size_t tlen = strlen(s->trusted_comment);
	uint8_t *global;
	char want[17], have[17];
	int bad;

	if (sodium_init() < 0)
		return hp_err_set(err, "%s: libsodium cannot start", name);
	if (memcmp(s->key_id, k->key_id, MINISIGN_KEY_ID_BYTES)) {
		minisign_key_id_hex(s->key_id, have);
		minisign_key_id_hex(k->key_id, want);
		return hp_err_set(err, "%s: signed by key %s, not by key %s", name, have, want);
	}
	if (s->prehashed) {
		crypto_generichash(hash, sizeof(hash), msg, n, NULL, 0);
		bad = crypto_sign_verify_detached(s->sig, hash, sizeof(hash), k->pk);
	} else {
		bad = crypto_sign_verify_detached(s->sig, msg, n, k->pk);
	}
	if (bad)
		return hp_err_set(err, "%s: signature verification failed (the file was changed after it was signed, or the signature is damaged)",
				  name);
	global = xmalloc(64 + tlen);
	memcpy(global, s->sig, 64);
	memcpy(global + 64, s->trusted_comment, tlen);
	bad = crypto_sign_verify_detached(s->global_sig, global, 64 + tlen, k->pk);
	free(global);
	if (bad)
		return hp_err_set(err, "%s: the trusted comment's signature does not verify (the comment was changed)", name);
	return 0;
}

static void add_b64(struct strbuf *sb, const uint8_t *bin, size_t n)
{
	size_t len = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *b64 = xmalloc(len);

	sodium_bin2base64(b64, len, bin, n, sodium_base64_VARIANT_ORIGINAL);
	sb_adds(sb, b64);
	sb_addc(sb, '\n');
	free(b64);
}

char *minisign_sign(const struct minisign_seckey *k, const uint8_t *msg, size_t n,
		    const char *untrusted, const char *trusted)
{
	uint8_t raw[SIG_SIZE], hash[64], global_sig[64];
	size_t tlen = strlen(trusted);
	uint8_t *global;
	struct strbuf sb;

	if (sodium_init() < 0)
		return NULL;
	global = xmalloc(64 + tlen);
	crypto_generichash(hash, sizeof(hash), msg, n, NULL, 0);
	memcpy(raw, "ED", 2);
	memcpy(raw + 2, k->key_id, MINISIGN_KEY_ID_BYTES);
	crypto_sign_detached(raw + 2 + MINISIGN_KEY_ID_BYTES, NULL, hash, sizeof(hash), k->sk);
	memcpy(global, raw + 2 + MINISIGN_KEY_ID_BYTES, 64);
	memcpy(global + 64, trusted, tlen);
	crypto_sign_detached(global_sig, NULL, global, 64 + tlen, k->sk);
	free(global);
	sb_init(&sb);
	sb_addf(&sb, "%s%s\n", UNTRUSTED_PREFIX, untrusted);
	add_b64(&sb, raw, sizeof(raw));
	sb_addf(&sb, "%s%s\n", TRUSTED_PREFIX, trusted);
	add_b64(&sb, global_sig, sizeof(global_sig));
	return sb_detach(&sb);
}
