/* `joulestream key create [--out DIR]`: makes the Ed25519 key pair that signs attestations
 * (`show RUN --format attestation`): DIR/joulestream.key (mode 0600) and DIR/joulestream.pub,
 * DIR defaulting to ~/.config/joulestream/keys. `joulestream key show [FILE]` prints a key's
 * id. Never overwrites a key. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "joulestream/trust.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: joulestream key create [--out DIR]\n"
		"       joulestream key show [KEYFILE]\n"
		"create: an Ed25519 key pair for signed attestations, DIR/joulestream.key (private,\n"
		"mode 0600) and DIR/joulestream.pub (give it to whoever verifies); DIR defaults to\n"
		"$XDG_CONFIG_HOME/joulestream/keys or ~/.config/joulestream/keys. Never overwrites.\n"
		"show: the key id of KEYFILE (default: the public key in that directory).\n");
}

static int create(const char *out)
{
	char dir[4096], priv[4096], pub[4096], err[600];
	struct jst_key k;
	if (!out) {
		if (jst_key_default_dir(dir, sizeof(dir)) < 0) {
			fprintf(stderr, "joulestream key: no HOME: pass --out DIR\n");
			return 2;
		}
		out = dir;
	}
	if (jst_key_create(out, &k, priv, pub, err, sizeof(err)) < 0) {
		fprintf(stderr, "joulestream key: %s\n", err);
		return 1;
	}
	printf("private key: %s (mode 0600: keep it secret)\npublic key:  %s\nkey id:      %s\n",
	       priv, pub, k.keyid);
	return 0;
}

static int show(const char *file)
{
	char dir[4096], path[4200], err[600];
	struct jst_key k;
	if (!file) {
		if (jst_key_default_dir(dir, sizeof(dir)) < 0 ||
		    snprintf(path, sizeof(path), "%s/joulestream.pub", dir) >= (int)sizeof(path)) {
			fprintf(stderr, "joulestream key: no HOME: give the key file\n");
			return 2;
		}
		file = path;
	}
	if (jst_key_load(file, &k, err, sizeof(err)) < 0) {
		fprintf(stderr, "joulestream key: %s\n", err);
		return 1;
	}
	printf("%s: ed25519 %s key, id %s\n", file, k.has_secret ? "private" : "public", k.keyid);
	return 0;
}

int cli_key(int argc, char **argv)
{
	static const struct option lo[] = {
		{"out", required_argument, 0, 'o'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	const char *out = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc && strcmp(argv[optind], "create") == 0) {
		optind++;
		while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
			if (c != 'o') {
				usage(c == 'h' ? stdout : stderr);
				return c == 'h' ? 0 : 2;
			}
			out = optarg;
		}
		if (optind == argc)
			return create(out);
	} else if (optind < argc && strcmp(argv[optind], "show") == 0 && argc - optind <= 2) {
		return show(optind + 1 < argc ? argv[optind + 1] : NULL);
	}
	usage(stderr);
	return 2;
}
