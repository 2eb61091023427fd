/*
 * fuzz_minisign.c - libFuzzer target: the minisign key and signature
 * readers (lib/minisign.c) and the package-signature check (lib/pkgsig.c).
 *
 * Input: any bytes, read three ways: as a public key, as a secret key and
 * as a signature file.  Every refusal must be one line naming the input
 * (fuzz_check.h).  The secret key is read without a password: an
 * encrypted one is refused before scrypt runs (whose limits a hostile key
 * chooses).  A signature that parses goes through pkgsig_check_mem()
 * against a key with its key id and the input itself as the package bytes,
 * so verification and the trusted-comment check run to the end.  A secret
 * key that parses must sign: its signature of the input must parse again
 * and verify with its own public half, or the target aborts.
 */
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "hpk.h"
#include "minisign.h"
#include "pkgsig.h"

#define NAME "fuzz.minisig"

static void fixed_key(struct minisign_pubkey *k)
{
	static const uint8_t seed[32] = { 1, 2, 3 };
	uint8_t sk[64];

	crypto_sign_seed_keypair(k->pk, sk, seed);
}

static void try_signature(const uint8_t *data, size_t size)
{
	struct hp_err err = { { 0 } };
	struct minisign_sig s;
	struct keyring kr = { 0 };
	struct keyring_key key;
	struct pkgsig_result r = { 0 };
	struct hpk p = { .image = (uint8_t *)data, .image_size = size };

	if (minisign_parse_sig(NAME, data, size, &s, &err) < 0) {
		fuzz_check_error_line(&err, NAME);
		return;
	}
	fuzz_touch_str(s.trusted_comment);
	fixed_key(&key.key);
	memcpy(key.key.key_id, s.key_id, MINISIGN_KEY_ID_BYTES);
	key.path = "fuzz.pub";
	kr.v = &key;
	kr.n = kr.cap = 1;
	if (pkgsig_check_mem(NAME, data, size, &p, &kr, &r, &err) < 0)
		fuzz_check_error_line(&err, NAME);
	else
		fuzz_touch_str(r.trusted_comment);
	pkgsig_result_free(&r);
	minisign_sig_free(&s);
}

static void try_seckey(const uint8_t *data, size_t size)
{
	struct hp_err err = { { 0 } };
	struct minisign_seckey sk;
	struct minisign_pubkey pk;
	struct minisign_sig s;
	char *text;

	if (minisign_parse_seckey("fuzz.key", data, size, NULL, &sk, &err) < 0) {
		fuzz_check_error_line(&err, "fuzz.key");
		return;
	}
	memcpy(pk.key_id, sk.key_id, MINISIGN_KEY_ID_BYTES);
	memcpy(pk.pk, sk.sk + 32, 32);
	text = minisign_sign(&sk, data, size, "fuzz", "hotpatch package fuzz");
	if (!text || minisign_parse_sig(NAME, (uint8_t *)text, strlen(text), &s, &err) < 0 ||
	    minisign_verify(NAME, &s, &pk, data, size, &err) < 0) {
		fprintf(stderr, "fuzz: a secret key that parsed does not sign: %s\n", err.msg);
		abort();
	}
	minisign_sig_free(&s);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hp_err err = { { 0 } };
	struct minisign_pubkey pk;

	if (size > FUZZ_MAX_INPUT)
		size = FUZZ_MAX_INPUT;
	if (sodium_init() < 0)
		abort();
	if (minisign_parse_pubkey("fuzz.pub", data, size, &pk, &err) < 0)
		fuzz_check_error_line(&err, "fuzz.pub");
	try_seckey(data, size);
	try_signature(data, size);
	return 0;
}
