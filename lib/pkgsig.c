/*
 * pkgsig.c - package signatures (pkgsig.h): keyrings of minisign public
 * keys, checking PKG.minisig against one, loading a secret key with the
 * file-mode check, and signing a package.
 *
 * The bytes checked are the ones the package reader checked and decoded
 * (p->image), never a second read of the file: what is verified is what
 * is applied.
 */
#include "pkgsig.h"

#include <dirent.h>
#include <sodium.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SMALL_FILE_MAX 65536   /* a key or signature file is a few hundred bytes */

/* A whole small file from an open descriptor (closed here). */
static int read_small_fd(int fd, const struct stat *st, const char *path, uint8_t **out, size_t *n,
			 struct hp_err *err)
{
	size_t got = 0, size = (size_t)st->st_size;
	uint8_t *buf;

	if (st->st_size > SMALL_FILE_MAX) {
		close(fd);
		return hp_err_set(err, "%s: %lld bytes is too large for a key or signature file",
				  path, (long long)st->st_size);
	}
	buf = xmalloc(size + 1);
	while (got < size) {
		ssize_t r = read(fd, buf + got, size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(buf);
			close(fd);
			return hp_err_set(err, "%s: read error: %s", path, r < 0 ? strerror(errno) : "file shrank while reading");
		}
		got += (size_t)r;
	}
	close(fd);
	buf[got] = 0;
	*out = buf;
	*n = got;
	return 0;
}

/* ---- keyrings ---- */

int keyring_add_file(struct keyring *kr, const char *path, struct hp_err *err)
{
	struct minisign_pubkey k;
	struct stat st;
	uint8_t *text;
	size_t n;
	int fd = open_regular(path, &st, err), ret;

	if (fd < 0 || read_small_fd(fd, &st, path, &text, &n, err) < 0)
		return -1;
	ret = minisign_parse_pubkey(path, text, n, &k, err);
	free(text);
	if (ret < 0)
		return -1;
	GROW(kr->v, kr->cap, kr->n + 1);
	kr->v[kr->n++] = (struct keyring_key){ k, xstrdup(path) };
	return 0;
}

static bool is_pub_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 4 && !strcmp(name + n - 4, ".pub");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int keyring_add_dir(struct keyring *kr, const char *dir, struct hp_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int ret = 0;

	if (!d)
		return hp_err_set(err, "%s: cannot open key directory: %s", dir, strerror(errno));
	while ((e = readdir(d)))
		if (is_pub_name(e->d_name)) {
			GROW(names, cap, n + 1);
			names[n++] = xstrdup(e->d_name);
		}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]);

		if (!ret && keyring_add_file(kr, path, err) < 0)
			ret = -1;
		free(path);
		free(names[i]);
	}
	free(names);
	if (!ret && !n)
		return hp_err_set(err, "%s: no public keys (NAME.pub) in the key directory", dir);
	return ret;
}

void keyring_free(struct keyring *kr)
{
	for (size_t i = 0; i < kr->n; i++)
		free(kr->v[i].path);
	free(kr->v);
	memset(kr, 0, sizeof(*kr));
}

/* ---- checking ---- */

/* The trusted comment names this package: the prefix, the id, then the
 * end or a space (more words may follow). */
static bool comment_names(const char *comment, const char *id_hex)
{
	size_t p = strlen(PKGSIG_COMMENT_PREFIX);

	return !strncmp(comment, PKGSIG_COMMENT_PREFIX, p) && !strncmp(comment + p, id_hex, 32) &&
	       (comment[p + 32] == '\0' || comment[p + 32] == ' ');
}

static int verify_with(const struct pkgsig_result *r, const struct minisign_sig *s,
		       const struct keyring *kr, const struct hpk *p, size_t *which, struct hp_err *err)
{
	bool known = false;

	for (size_t i = 0; i < kr->n; i++) {
		if (memcmp(kr->v[i].key.key_id, s->key_id, MINISIGN_KEY_ID_BYTES))
			continue;
		known = true;
		hp_err_clear(err);
		if (minisign_verify(r->sig_path, s, &kr->v[i].key, p->image, p->image_size, err) == 0) {
			*which = i;
			return 0;
		}
	}
	if (!known)
		return hp_err_set(err, "%s: signed by key %s, which is not one of the %zu trusted key%s",
				  r->sig_path, r->key_id, kr->n, kr->n == 1 ? "" : "s");
	return -1;
}

int pkgsig_check_mem(const char *sig_name, const uint8_t *text, size_t n, const struct hpk *p,
		     const struct keyring *kr, struct pkgsig_result *r, struct hp_err *err)
{
	struct minisign_sig s;
	size_t which = 0;
	char id[33];
	int ret;

	if (!r->sig_path) {
		memset(r, 0, sizeof(*r));
		r->sig_path = xstrdup(sig_name);
	}
	r->status = PKGSIG_BAD;
	if (!p->image)
		return hp_err_set(err, "%s: no package bytes to check the signature against", sig_name);
	if (minisign_parse_sig(sig_name, text, n, &s, err) < 0)
		return -1;
	minisign_key_id_hex(s.key_id, r->key_id);
	ret = verify_with(r, &s, kr, p, &which, err);
	hpk_id_hex(p, id);
	if (ret == 0 && !comment_names(s.trusted_comment, id))
		ret = hp_err_set(err, "%s: the signature is for another package (trusted comment does not say \"%s%s\")",
				 sig_name, PKGSIG_COMMENT_PREFIX, id);
	if (ret == 0) {
		r->status = PKGSIG_OK;
		r->key_path = kr->v[which].path;
		r->trusted_comment = s.trusted_comment;
		s.trusted_comment = NULL;
	}
	minisign_sig_free(&s);
	return ret;
}

int pkgsig_check(const char *pkg_path, const struct hpk *p, const struct keyring *kr,
		 struct pkgsig_result *r, struct hp_err *err)
{
	struct stat st;
	uint8_t *text;
	size_t n;
	int fd, ret;

	memset(r, 0, sizeof(*r));
	r->status = PKGSIG_BAD;
	r->sig_path = xasprintf("%s%s", pkg_path, PKGSIG_SUFFIX);
	if (stat(r->sig_path, &st) < 0 && errno == ENOENT) {
		r->status = PKGSIG_MISSING;
		return hp_err_set(err, "%s: no signature (%s is not signed; see hpbuild --sign)", r->sig_path, pkg_path);
	}
	fd = open_regular(r->sig_path, &st, err);
	if (fd < 0 || read_small_fd(fd, &st, r->sig_path, &text, &n, err) < 0)
		return -1;
	ret = pkgsig_check_mem(r->sig_path, text, n, p, kr, r, err);
	free(text);
	return ret;
}

void pkgsig_result_free(struct pkgsig_result *r)
{
	free(r->sig_path);
	free(r->trusted_comment);
	memset(r, 0, sizeof(*r));
}

/* ---- signing ---- */

static int read_password(const char *path, char **out, struct hp_err *err)
{
	struct stat st;
	uint8_t *text;
	size_t n;
	int fd = open_regular(path, &st, err);

	if (fd < 0 || read_small_fd(fd, &st, path, &text, &n, err) < 0)
		return -1;
	n = strcspn((char *)text, "\r\n");
	text[n] = '\0';
	*out = (char *)text;
	return 0;
}

int pkgsig_load_seckey(const char *path, const char *password_file, struct minisign_seckey *k,
		       struct hp_err *err)
{
	struct stat st;
	uint8_t *text;
	char *password = NULL;
	size_t n;
	int fd = open_regular(path, &st, err), ret;

	if (fd < 0)
		return -1;
	if (st.st_mode & 077) {
		close(fd);
		return hp_err_set(err, "%s: secret key is accessible by group or others (mode %04o); chmod 600 it",
				  path, (unsigned)(st.st_mode & 07777));
	}
	if (read_small_fd(fd, &st, path, &text, &n, err) < 0)
		return -1;
	if (password_file && read_password(password_file, &password, err) < 0) {
		free(text);
		return -1;
	}
	ret = minisign_parse_seckey(path, text, n, password, k, err);
	sodium_memzero(text, n);
	free(text);
	if (password) {
		sodium_memzero(password, strlen(password));
		free(password);
	}
	return ret;
}

int pkgsig_sign(const char *pkg_path, const uint8_t *image, size_t size, const uint8_t id[16],
		const struct minisign_seckey *k, struct hp_err *err)
{
	char hex[33], key_id[17], *trusted, *untrusted, *text, *path;
	int ret;

	hpk_id_to_hex(id, hex);
	minisign_key_id_hex(k->key_id, key_id);
	trusted = xasprintf("%s%s", PKGSIG_COMMENT_PREFIX, hex);
	untrusted = xasprintf("hotpatch package signature from key %s", key_id);
	text = minisign_sign(k, image, size, untrusted, trusted);
	path = xasprintf("%s%s", pkg_path, PKGSIG_SUFFIX);
	if (!text)
		ret = hp_err_set(err, "%s: cannot sign: libsodium cannot start", path);
	else
		ret = write_file_atomic(path, text, strlen(text), err);
	free(trusted);
	free(untrusted);
	free(text);
	free(path);
	return ret;
}
