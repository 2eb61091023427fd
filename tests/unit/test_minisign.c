/*
 * test_minisign.c - minisign keys and signatures (lib/minisign.h) and
 * package signatures (lib/pkgsig.h): the key files as minisign writes
 * them (unencrypted with a zero checksum, with a checksum, scrypt-
 * encrypted), signatures checked by an independent libsodium call, the
 * legacy "Ed" form, keyrings, the secret key's file mode, a signature
 * moved to another package, and every single-bit flip of a signed package
 * and of its signature refused.
 *
 * The file layouts are built here by hand from minisign's format (written
 * down in lib/minisign.h's comment), not with the code under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hpk.h"
#include "minisign.h"
#include "pkgsig.h"
#include "testutil.h"
#include "util.h"

struct test_key {
	uint8_t id[8], pk[32], sk[64];
};

static void make_key(struct test_key *k, uint8_t first_id_byte)
{
	for (int i = 0; i < 8; i++)
		k->id[i] = (uint8_t)(first_id_byte + i);
	crypto_sign_keypair(k->pk, k->sk);
}

static char *b64(const uint8_t *bin, size_t n)
{
	size_t len = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *s = xmalloc(len);

	return sodium_bin2base64(s, len, bin, n, sodium_base64_VARIANT_ORIGINAL);
}

static char *pubkey_text(const struct test_key *k)
{
	uint8_t raw[42];
	char *enc, *text;

	memcpy(raw, "Ed", 2);
	memcpy(raw + 2, k->id, 8);
	memcpy(raw + 10, k->pk, 32);
	enc = b64(raw, sizeof(raw));
	text = xasprintf("untrusted comment: minisign public key\n%s\n", enc);
	free(enc);
	return text;
}

enum sk_form { SK_ZERO_CHK, SK_WITH_CHK, SK_BAD_CHK, SK_ENCRYPTED, SK_HUGE_SCRYPT };

/* SeckeyStruct: alg, kdf, chk alg, salt[32], ops, mem, id, sk, chk[32]. */
static char *seckey_text(const struct test_key *k, enum sk_form form, const char *password)
{
	uint8_t raw[158] = { 0 };
	char *enc, *text;

	memcpy(raw, "Ed", 2);
	memcpy(raw + 4, "B2", 2);
	memcpy(raw + 54, k->id, 8);
	memcpy(raw + 62, k->sk, 64);
	if (form != SK_ZERO_CHK) {
		crypto_generichash_state st;

		crypto_generichash_init(&st, NULL, 0, 32);
		crypto_generichash_update(&st, raw, 2);
		crypto_generichash_update(&st, raw + 54, 8);
		crypto_generichash_update(&st, raw + 62, 64);
		crypto_generichash_final(&st, raw + 126, 32);
		if (form == SK_BAD_CHK)
			raw[130] ^= 1;
	}
	if (form == SK_ENCRYPTED || form == SK_HUGE_SCRYPT) {
		uint64_t ops = crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_MIN;
		uint64_t mem = form == SK_HUGE_SCRYPT ? (64ull << 30)
						      : crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_MIN;
		uint8_t stream[104];

		memcpy(raw + 2, "Sc", 2);
		randombytes_buf(raw + 6, 32);
		put_le(raw + 38, ops, 8);
		put_le(raw + 46, mem, 8);
		if (form == SK_ENCRYPTED) {
			assert_int_equal(crypto_pwhash_scryptsalsa208sha256(stream, sizeof(stream), password,
									    strlen(password), raw + 6, ops, mem), 0);
			for (int i = 0; i < 104; i++)
				raw[54 + i] ^= stream[i];
		}
	}
	enc = b64(raw, sizeof(raw));
	text = xasprintf("untrusted comment: minisign secret key\n%s\n", enc);
	free(enc);
	return text;
}

static int parse_seckey(const char *text, const char *password, struct minisign_seckey *out,
			struct hp_err *err)
{
	hp_err_clear(err);
	return minisign_parse_seckey("k.key", (const uint8_t *)text, strlen(text), password, out, err);
}

static void expect_err(const struct hp_err *err, const char *name, const char *needle)
{
	size_t n = strlen(name);

	if (strncmp(err->msg, name, n) || strncmp(err->msg + n, ": ", 2))
		fail_msg("error \"%s\" does not start with \"%s: \"", err->msg, name);
	if (!strstr(err->msg, needle))
		fail_msg("error \"%s\" does not contain \"%s\"", err->msg, needle);
	assert_null(strchr(err->msg, '\n'));
}

/* minisign prints the key id as the 8 bytes read as a little-endian u64. */
static void test_key_id_hex(void **state)
{
	static const uint8_t id[8] = { 1, 2, 3, 4, 5, 6, 7, 0xab };
	char buf[17];

	(void)state;
	minisign_key_id_hex(id, buf);
	assert_string_equal(buf, "AB07060504030201");
}

static void test_keys(void **state)
{
	struct test_key k;
	struct minisign_seckey sk;
	struct minisign_pubkey pk;
	struct hp_err err = { { 0 } };
	char *text;

	(void)state;
	make_key(&k, 0x10);
	text = pubkey_text(&k);
	assert_int_equal(minisign_parse_pubkey("k.pub", (uint8_t *)text, strlen(text), &pk, &err), 0);
	assert_memory_equal(pk.pk, k.pk, 32);
	assert_memory_equal(pk.key_id, k.id, 8);
	text[strlen(text) - 3] = '!';   /* not a base64 digit */
	assert_int_equal(minisign_parse_pubkey("k.pub", (uint8_t *)text, strlen(text), &pk, &err), -1);
	expect_err(&err, "k.pub", "not a minisign public key");
	free(text);

	/* minisign -G -W: no encryption, checksum left zero */
	text = seckey_text(&k, SK_ZERO_CHK, NULL);
	assert_int_equal(parse_seckey(text, NULL, &sk, &err), 0);
	assert_memory_equal(sk.sk, k.sk, 64);
	assert_memory_equal(sk.key_id, k.id, 8);
	free(text);
	text = seckey_text(&k, SK_WITH_CHK, NULL);
	assert_int_equal(parse_seckey(text, NULL, &sk, &err), 0);
	free(text);
	text = seckey_text(&k, SK_BAD_CHK, NULL);
	assert_int_equal(parse_seckey(text, NULL, &sk, &err), -1);
	expect_err(&err, "k.key", "checksum mismatch");
	free(text);

	/* scrypt-encrypted, with the smallest limits libsodium allows */
	text = seckey_text(&k, SK_ENCRYPTED, "correct horse");
	assert_int_equal(parse_seckey(text, "correct horse", &sk, &err), 0);
	assert_memory_equal(sk.sk, k.sk, 64);
	assert_int_equal(parse_seckey(text, "wrong horse", &sk, &err), -1);
	expect_err(&err, "k.key", "wrong password");
	assert_int_equal(parse_seckey(text, NULL, &sk, &err), -1);
	expect_err(&err, "k.key", "encrypted");
	free(text);
	text = seckey_text(&k, SK_HUGE_SCRYPT, NULL);
	assert_int_equal(parse_seckey(text, "pw", &sk, &err), -1);
	expect_err(&err, "k.key", "at most 4 GiB");
	free(text);

	/* halves that do not belong together */
	k.sk[40] ^= 1;
	text = seckey_text(&k, SK_ZERO_CHK, NULL);
	assert_int_equal(parse_seckey(text, NULL, &sk, &err), -1);
	expect_err(&err, "k.key", "corrupt");
	free(text);

	assert_int_equal(parse_seckey("untrusted comment: x\n", NULL, &sk, &err), -1);
	expect_err(&err, "k.key", "not a minisign secret key");
	assert_int_equal(parse_seckey("comment\nRWQ=\n", NULL, &sk, &err), -1);
	expect_err(&err, "k.key", "untrusted comment");
}

/* A legacy ("Ed") signature file, by hand: the signature of msg itself. */
static char *legacy_sig(const struct test_key *k, const uint8_t *msg, size_t n, const char *trusted)
{
	uint8_t raw[74], global[64];
	size_t tlen = strlen(trusted);
	uint8_t *g = xmalloc(64 + tlen);
	char *a, *b, *text;

	memcpy(raw, "Ed", 2);
	memcpy(raw + 2, k->id, 8);
	crypto_sign_detached(raw + 10, NULL, msg, n, k->sk);
	memcpy(g, raw + 10, 64);
	memcpy(g + 64, trusted, tlen);
	crypto_sign_detached(global, NULL, g, 64 + tlen, k->sk);
	a = b64(raw, sizeof(raw));
	b = b64(global, sizeof(global));
	text = xasprintf("untrusted comment: legacy\r\n%s\r\ntrusted comment: %s\r\n%s\r\n", a, trusted, b);
	free(g);
	free(a);
	free(b);
	return text;
}

static void test_sign_verify(void **state)
{
	static const uint8_t msg[] = "the bytes of a package";
	struct test_key k, other;
	struct minisign_seckey sk;
	struct minisign_pubkey pk, opk;
	struct minisign_sig s;
	struct hp_err err = { { 0 } };
	uint8_t raw[80], hash[64];
	size_t got;
	char *text, *line2;

	(void)state;
	make_key(&k, 0x20);
	make_key(&other, 0x30);
	memcpy(sk.key_id, k.id, 8);
	memcpy(sk.sk, k.sk, 64);
	memcpy(pk.key_id, k.id, 8);
	memcpy(pk.pk, k.pk, 32);
	memcpy(opk.key_id, other.id, 8);
	memcpy(opk.pk, other.pk, 32);

	text = minisign_sign(&sk, msg, sizeof(msg), "a comment", "hotpatch package 00");
	assert_non_null(text);
	assert_memory_equal(text, "untrusted comment: a comment\n", 29);
	/* line 2, decoded independently: "ED", the key id, Ed25519 of BLAKE2b-512 */
	line2 = text + 29;
	*strchr(line2, '\n') = '\0';
	assert_int_equal(sodium_base642bin(raw, sizeof(raw), line2, strlen(line2), NULL, &got, NULL,
					   sodium_base64_VARIANT_ORIGINAL), 0);
	assert_int_equal(got, 74);
	assert_memory_equal(raw, "ED", 2);
	assert_memory_equal(raw + 2, k.id, 8);
	crypto_generichash(hash, 64, msg, sizeof(msg), NULL, 0);
	assert_int_equal(crypto_sign_verify_detached(raw + 10, hash, 64, k.pk), 0);
	line2[strlen(line2)] = '\n';

	assert_int_equal(minisign_parse_sig("s.minisig", (uint8_t *)text, strlen(text), &s, &err), 0);
	assert_true(s.prehashed);
	assert_string_equal(s.trusted_comment, "hotpatch package 00");
	assert_int_equal(minisign_verify("s.minisig", &s, &pk, msg, sizeof(msg), &err), 0);
	assert_int_equal(minisign_verify("s.minisig", &s, &pk, msg, sizeof(msg) - 1, &err), -1);
	expect_err(&err, "s.minisig", "verification failed");
	hp_err_clear(&err);
	assert_int_equal(minisign_verify("s.minisig", &s, &opk, msg, sizeof(msg), &err), -1);
	expect_err(&err, "s.minisig", "signed by key 2726252423222120, not by key 3736353433323130");
	hp_err_clear(&err);
	s.trusted_comment[0] = 'H';
	assert_int_equal(minisign_verify("s.minisig", &s, &pk, msg, sizeof(msg), &err), -1);
	expect_err(&err, "s.minisig", "trusted comment");
	hp_err_clear(&err);
	minisign_sig_free(&s);
	free(text);

	text = legacy_sig(&k, msg, sizeof(msg), "legacy form");
	assert_int_equal(minisign_parse_sig("l.minisig", (uint8_t *)text, strlen(text), &s, &err), 0);
	assert_false(s.prehashed);
	assert_int_equal(minisign_verify("l.minisig", &s, &pk, msg, sizeof(msg), &err), 0);
	minisign_sig_free(&s);
	free(text);

	assert_int_equal(minisign_parse_sig("x", (const uint8_t *)"untrusted comment: a\n", 21, &s, &err), -1);
	expect_err(&err, "x", "four lines");
}

/* ---- packages ---- */

static struct hpk *tiny_package(uint8_t code_byte)
{
	static const uint8_t code[8] = { 0x8d, 0x47, 0x07, 0xc3, 0x0f, 0x1f, 0x40, 0x00 };
	struct hpk *p = xcalloc(1, sizeof(*p));
	uint8_t *c = hpk_own(p, xmalloc(sizeof(code)));

	memcpy(c, code, sizeof(code));
	c[1] = code_byte;
	p->tool_version = "hpbuild 0.1.0";
	p->nr_units = 1;
	p->units = xcalloc(1, sizeof(*p->units));
	p->units[0].name = "u.o";
	p->nr_syms = 1;
	p->syms = xcalloc(1, sizeof(*p->syms));
	p->syms[0] = (struct hpk_symbol){ "helper", NULL, 1, 2, HPK_SYM_FUNC, 0, 0 };
	p->nr_funcs = 1;
	p->funcs = xcalloc(1, sizeof(*p->funcs));
	p->funcs[0] = (struct hpk_func){ .name = "helper", .kind = HPK_FUNC_NEW, .bind = 1, .align = 16,
					 .code = c, .code_size = sizeof(code) };
	return p;
}

/* A package image, read back (the reader's copy is what gets checked). */
static struct hpk *tiny_read(uint8_t code_byte, uint8_t **image, size_t *size)
{
	struct hp_err err = { { 0 } };
	struct hpk *p = tiny_package(code_byte), *q;

	assert_int_equal(hpk_write_mem(p, image, size, &err), 0);
	q = hpk_read_mem("p.hpk", *image, *size, &err);
	assert_non_null(q);
	/* the strings above are static: free only the arrays */
	free(p->units);
	free(p->syms);
	free(p->funcs);
	free(p->owned[0]);
	free(p->owned);
	free(p);
	return q;
}

static char *package_sig(const struct test_key *k, const uint8_t *img, size_t n, const uint8_t id[16])
{
	struct minisign_seckey sk;
	char hex[33], *trusted, *text;

	memcpy(sk.key_id, k->id, 8);
	memcpy(sk.sk, k->sk, 64);
	hpk_id_to_hex(id, hex);
	trusted = xasprintf("hotpatch package %s", hex);
	text = minisign_sign(&sk, img, n, "signature", trusted);
	free(trusted);
	return text;
}

static int check_text(const char *text, size_t n, const struct hpk *p, const struct keyring *kr,
		      enum pkgsig_status *status)
{
	struct pkgsig_result r = { 0 };
	struct hp_err err = { { 0 } };
	int ret = pkgsig_check_mem("p.hpk.minisig", (const uint8_t *)text, n, p, kr, &r, &err);

	if (ret < 0)
		expect_err(&err, "p.hpk.minisig", "");
	*status = r.status;
	pkgsig_result_free(&r);
	return ret;
}

static void keyring_of(struct keyring *kr, const struct test_key *k, const char *name)
{
	struct hp_err err = { { 0 } };
	char *text = pubkey_text(k);

	write_text(test_path(name), text);
	free(text);
	assert_int_equal(keyring_add_file(kr, test_path(name), &err), 0);
}

/* A valid signature of package B whose trusted comment names package A:
 * refused, so a signature cannot be carried over to other bytes. */
static void test_comment_binds_id(void **state)
{
	struct test_key k;
	struct keyring kr = { 0 };
	struct pkgsig_result r = { 0 };
	struct hp_err err = { { 0 } };
	uint8_t *ia, *ib;
	size_t na, nb;
	struct hpk *a = tiny_read(0x47, &ia, &na), *b = tiny_read(0x7f, &ib, &nb);
	char *text;

	(void)state;
	make_key(&k, 0x40);
	keyring_of(&kr, &k, "bind.pub");
	text = package_sig(&k, ib, nb, a->id);
	assert_int_equal(pkgsig_check_mem("b.minisig", (uint8_t *)text, strlen(text), b, &kr, &r, &err), -1);
	expect_err(&err, "b.minisig", "the signature is for another package");
	assert_int_equal(r.status, PKGSIG_BAD);
	pkgsig_result_free(&r);
	free(text);

	text = package_sig(&k, ib, nb, b->id);
	hp_err_clear(&err);
	assert_int_equal(pkgsig_check_mem("b.minisig", (uint8_t *)text, strlen(text), b, &kr, &r, &err), 0);
	assert_int_equal(r.status, PKGSIG_OK);
	assert_string_equal(r.key_id, "4746454443424140");
	assert_string_equal(r.key_path, test_path("bind.pub"));
	pkgsig_result_free(&r);
	/* the same signature for package A's bytes */
	hp_err_clear(&err);
	assert_int_equal(pkgsig_check_mem("b.minisig", (uint8_t *)text, strlen(text), a, &kr, &r, &err), -1);
	expect_err(&err, "b.minisig", "verification failed");
	pkgsig_result_free(&r);
	free(text);
	keyring_free(&kr);
	hpk_free(a);
	hpk_free(b);
	free(ia);
	free(ib);
}

/* Every single-bit flip of a signed package and of its signature file is
 * refused: the package by its reader or by the signature, the signature
 * file by its parser or by verification.  The untrusted comment is not
 * signed (minisign's design): a flip there may be accepted, but only with
 * the same key and trusted comment. */
static void test_every_flip_refused(void **state)
{
	struct test_key k;
	struct keyring kr = { 0 };
	enum pkgsig_status st;
	uint8_t *img, *copy;
	size_t n, sig_n, free_from, free_to, flips = 0, refused = 0;
	struct hpk *p = tiny_read(0x47, &img, &n);
	char *text, *scopy;

	(void)state;
	make_key(&k, 0x50);
	keyring_of(&kr, &k, "flip.pub");
	text = package_sig(&k, img, n, p->id);
	sig_n = strlen(text);
	assert_int_equal(check_text(text, sig_n, p, &kr, &st), 0);

	copy = xmalloc(n);
	for (size_t bit = 0; bit < n * 8; bit++) {
		struct hp_err err = { { 0 } };
		struct hpk *q;

		memcpy(copy, img, n);
		copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		q = hpk_read_mem("p.hpk", copy, n, &err);
		flips++;
		if (!q || check_text(text, sig_n, q, &kr, &st) < 0)
			refused++;
		else
			fail_msg("package bit %zu flipped: accepted", bit);
		hpk_free(q);
	}
	assert_int_equal(refused, flips);
	free(copy);

	free_from = strlen("untrusted comment: ");
	free_to = (size_t)(strchr(text, '\n') - text);
	scopy = xmalloc(sig_n);
	for (size_t bit = 0; bit < sig_n * 8; bit++) {
		size_t at = bit / 8;
		int ret;

		memcpy(scopy, text, sig_n);
		scopy[at] ^= (char)(1u << (bit % 8));
		ret = check_text(scopy, sig_n, p, &kr, &st);
		if (at >= free_from && at < free_to)
			continue;   /* the unsigned comment: either way is right */
		if (ret == 0)
			fail_msg("signature bit %zu (byte %zu, '%c') flipped: accepted", bit, at, text[at]);
		assert_int_equal(st, PKGSIG_BAD);
	}
	free(scopy);
	free(text);
	keyring_free(&kr);
	hpk_free(p);
	free(img);
}

static void test_keyring_dir(void **state)
{
	struct test_key a, b;
	struct keyring kr = { 0 };
	struct hp_err err = { { 0 } };
	char *text;

	(void)state;
	make_key(&a, 0x60);
	make_key(&b, 0x70);
	assert_int_equal(mkdir(test_path("keys"), 0755), 0);
	text = pubkey_text(&b);
	write_text(test_path("keys/b.pub"), text);
	free(text);
	text = pubkey_text(&a);
	write_text(test_path("keys/a.pub"), text);
	free(text);
	write_text(test_path("keys/notes.txt"), "not a key\n");
	assert_int_equal(keyring_add_dir(&kr, test_path("keys"), &err), 0);
	assert_int_equal(kr.n, 2);
	assert_memory_equal(kr.v[0].key.key_id, a.id, 8);   /* name order */
	assert_memory_equal(kr.v[1].key.key_id, b.id, 8);
	keyring_free(&kr);

	write_text(test_path("keys/c.pub"), "untrusted comment: x\nnot base64\n");
	assert_int_equal(keyring_add_dir(&kr, test_path("keys"), &err), -1);
	expect_err(&err, test_path("keys/c.pub"), "not a minisign public key");
	keyring_free(&kr);

	assert_int_equal(mkdir(test_path("empty"), 0755), 0);
	hp_err_clear(&err);
	assert_int_equal(keyring_add_dir(&kr, test_path("empty"), &err), -1);
	expect_err(&err, test_path("empty"), "no public keys");
	keyring_free(&kr);
}

/* A secret key others can read is refused before it is used; an encrypted
 * one takes its password from a file. */
static void test_seckey_file(void **state)
{
	struct test_key k;
	struct minisign_seckey sk;
	struct hp_err err = { { 0 } };
	const char *path = test_path("s.key");
	char *text;

	(void)state;
	make_key(&k, 0x80);
	text = seckey_text(&k, SK_ENCRYPTED, "pass phrase");
	write_text(path, text);
	free(text);
	write_text(test_path("pw"), "pass phrase\n");
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(pkgsig_load_seckey(path, test_path("pw"), &sk, &err), -1);
	expect_err(&err, path, "accessible by group or others (mode 0644)");
	assert_int_equal(chmod(path, 0600), 0);
	hp_err_clear(&err);
	assert_int_equal(pkgsig_load_seckey(path, test_path("pw"), &sk, &err), 0);
	assert_memory_equal(sk.sk, k.sk, 64);
	assert_int_equal(pkgsig_load_seckey(path, NULL, &sk, &err), -1);
	expect_err(&err, path, "--password-file");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_id_hex),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_sign_verify),
		cmocka_unit_test(test_comment_binds_id),
		cmocka_unit_test(test_every_flip_refused),
		cmocka_unit_test(test_keyring_dir),
		cmocka_unit_test(test_seckey_file),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
