/* Ed25519 keys for signed attestations (libsodium): making a pair, and the small text files
 * they live in (docs/integrity.md, "Keys"). A private key file is written 0600 with O_EXCL and
 * refused when others can read it; the parser is a pure function over (p, n) with a fuzz
 * target (tests/fuzz/keyfile.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "core/util.h"
#include "joulestream/trust.h"

#define LINE_MAX_LEN 256

static void keyid_of(const unsigned char pk[32], char out[65])
{
	unsigned char d[32];
	crypto_hash_sha256(d, pk, 32);
	sodium_bin2hex(out, 65, d, sizeof(d));
}

int jst_key_default_dir(char *out, size_t n)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	int w;
	if (xdg && xdg[0] == '/')
		w = snprintf(out, n, "%s/joulestream/keys", xdg);
	else if (home && home[0])
		w = snprintf(out, n, "%s/.config/joulestream/keys", home);
	else
		return -ENOENT;
	return w < 0 || (size_t)w >= n ? -ENAMETOOLONG : 0;
}

static int mkdirs(const char *dir)
{
	char p[4096];
	if (!jst__strlcpy(p, dir, sizeof(p)))
		return -ENAMETOOLONG;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Writes text to path, created with mode (O_EXCL: never over an existing file). */
static int write_new(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	size_t n = strlen(text);
	ssize_t w = write(fd, text, n);
	int r = w == (ssize_t)n && fchmod(fd, mode) == 0 && fsync(fd) == 0 ? 0 : -EIO;
	if (close(fd) < 0 && r == 0)
		r = -EIO;
	if (r < 0)
		unlink(path);
	return r;
}

int jst_key_create(const char *dir, struct jst_key *k, char *priv, char *pub, char *err,
		   size_t errlen)
{
	char pp[4096], pu[4096], b64pk[64], b64sk[128], text[1024];
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium could not be initialised");
		return -EIO;
	}
	int r = mkdirs(dir);
	if (r < 0) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(-r));
		return r;
	}
	if (snprintf(pp, sizeof(pp), "%s/joulestream.key", dir) >= (int)sizeof(pp) ||
	    snprintf(pu, sizeof(pu), "%s/joulestream.pub", dir) >= (int)sizeof(pu)) {
		snprintf(err, errlen, "key directory path too long");
		return -ENAMETOOLONG;
	}
	if (access(pp, F_OK) == 0 || access(pu, F_OK) == 0) {
		snprintf(err, errlen,
			 "%s already holds a key: keep it, or remove joulestream.key and "
			 "joulestream.pub first",
			 dir);
		return -EEXIST;
	}
	memset(k, 0, sizeof(*k));
	crypto_sign_keypair(k->pk, k->sk);
	k->has_secret = true;
	keyid_of(k->pk, k->keyid);
	sodium_bin2base64(b64pk, sizeof(b64pk), k->pk, 32, sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(b64sk, sizeof(b64sk), k->sk, 64, sodium_base64_VARIANT_ORIGINAL);
	snprintf(text, sizeof(text),
		 "# joulestream signing key (Ed25519): keep it secret\ntype: ed25519-private\n"
		 "keyid: %s\npublic: %s\nsecret: %s\n",
		 k->keyid, b64pk, b64sk);
	r = write_new(pp, text, 0600);
	sodium_memzero(text, sizeof(text));
	sodium_memzero(b64sk, sizeof(b64sk));
	if (r == 0) {
		snprintf(text, sizeof(text),
			 "# joulestream public key (Ed25519): give it to whoever "
			 "verifies\ntype: ed25519-public\nkeyid: %s\npublic: %s\n",
			 k->keyid, b64pk);
		r = write_new(pu, text, 0644);
		if (r < 0)
			unlink(pp);
	}
	if (r < 0) {
		snprintf(err, errlen, "cannot write the key files in %s: %s", dir, strerror(-r));
		return r;
	}
	if (priv)
		jst__strlcpy(priv, pp, 4096);
	if (pub)
		jst__strlcpy(pub, pu, 4096);
	return 0;
}

/* Decodes base64 (standard) of exactly want bytes. */
static int b64_exact(const char *v, size_t vn, unsigned char *out, size_t want)
{
	size_t got = 0;
	const char *end = NULL;
	if (sodium_base642bin(out, want, v, vn, NULL, &got, &end, sodium_base64_VARIANT_ORIGINAL) !=
		    0 ||
	    got != want || end != v + vn)
		return -1;
	return 0;
}

static int fail(char *err, size_t errlen, size_t line, const char *what)
{
	snprintf(err, errlen, "line %zu: %s", line, what);
	return -EINVAL;
}

/* One "key: value" line into the key being read. */
static int key_line(const char *p, size_t n, size_t line, struct jst_key *k, unsigned *seen,
		    int *type, char *err, size_t errlen)
{
	const char *colon = memchr(p, ':', n);
	if (!colon)
		return fail(err, errlen, line, "expected 'key: value'");
	size_t kn = (size_t)(colon - p);
	const char *v = colon + 1, *ve = p + n;
	while (v < ve && *v == ' ')
		v++;
	while (ve > v && (ve[-1] == ' ' || ve[-1] == '\r'))
		ve--;
	size_t vn = (size_t)(ve - v);
	static const char *const keys[] = {"type", "keyid", "public", "secret"};
	unsigned which = 0;
	while (which < 4 && !(strlen(keys[which]) == kn && memcmp(p, keys[which], kn) == 0))
		which++;
	if (which == 4)
		return fail(err, errlen, line, "unknown key (type, keyid, public, secret)");
	if (*seen & (1u << which))
		return fail(err, errlen, line, "repeated key");
	*seen |= 1u << which;
	if (which == 0) {
		if (vn == 15 && memcmp(v, "ed25519-private", 15) == 0)
			*type = 2;
		else if (vn == 14 && memcmp(v, "ed25519-public", 14) == 0)
			*type = 1;
		else
			return fail(err, errlen, line, "type is ed25519-private or ed25519-public");
	} else if (which == 1) {
		if (vn != 64)
			return fail(err, errlen, line, "keyid is 64 hex digits");
		memcpy(k->keyid, v, 64);
		k->keyid[64] = '\0';
	} else if (b64_exact(v, vn, which == 2 ? k->pk : k->sk, which == 2 ? 32 : 64) < 0) {
		return fail(err, errlen, line,
			    which == 2 ? "public is 32 bytes in base64" :
					 "secret is 64 bytes in base64");
	}
	return 0;
}

int jst_key_parse(const char *p, size_t n, struct jst_key *k, char *err, size_t errlen)
{
	unsigned seen = 0;
	int type = 0;
	size_t line = 0;
	memset(k, 0, sizeof(*k));
	if (n > JST_KEY_FILE_MAX)
		return fail(err, errlen, 0, "key file larger than 4 KiB");
	for (const char *s = p, *end = p + n; s < end;) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t l = nl ? (size_t)(nl - s) : (size_t)(end - s);
		line++;
		if (l > LINE_MAX_LEN)
			return fail(err, errlen, line, "line longer than 256 bytes");
		if (memchr(s, '\0', l))
			return fail(err, errlen, line, "NUL byte");
		if (l > 0 && s[0] != '#' && !(l == 1 && s[0] == '\r')) {
			int r = key_line(s, l, line, k, &seen, &type, err, errlen);
			if (r < 0) {
				sodium_memzero(k, sizeof(*k));
				return r;
			}
		}
		s += l + (nl ? 1 : 0);
	}
	char want[65];
	int r = 0;
	if (!(seen & 1) || !(seen & 4))
		r = fail(err, errlen, line, "a key file needs type and public");
	else if (type == 2 && !(seen & 8))
		r = fail(err, errlen, line, "a private key file needs secret");
	else if (type == 1 && (seen & 8))
		r = fail(err, errlen, line, "a public key file holds no secret");
	else if (type == 2 && memcmp(k->sk + 32, k->pk, 32) != 0)
		r = fail(err, errlen, line, "secret and public keys do not belong together");
	if (r == 0) {
		keyid_of(k->pk, want);
		if ((seen & 2) && strcmp(want, k->keyid) != 0)
			r = fail(err, errlen, line, "keyid does not match the public key");
		memcpy(k->keyid, want, sizeof(want));
		k->has_secret = type == 2;
	}
	if (r < 0)
		sodium_memzero(k, sizeof(*k));
	return r;
}

int jst_key_load(const char *path, struct jst_key *k, char *err, size_t errlen)
{
	char buf[JST_KEY_FILE_MAX + 1], why[200];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot read key %s: %s", path, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	ssize_t n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0 || (size_t)n > JST_KEY_FILE_MAX) {
		snprintf(err, errlen, "cannot read key %s: %s", path,
			 n < 0 ? strerror(errno) : "larger than 4 KiB");
		return -EINVAL;
	}
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium could not be initialised");
		return -EIO;
	}
	int r = jst_key_parse(buf, (size_t)n, k, why, sizeof(why));
	sodium_memzero(buf, sizeof(buf));
	if (r < 0) {
		snprintf(err, errlen, "key %s: %s", path, why);
		return r;
	}
	if (k->has_secret && (sb.st_mode & 077)) {
		snprintf(err, errlen,
			 "private key %s is readable by others (mode %03o): chmod 600 it", path,
			 (unsigned)(sb.st_mode & 0777));
		sodium_memzero(k, sizeof(*k));
		return -EACCES;
	}
	return 0;
}
