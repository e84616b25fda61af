/* The corpus replay: a main() for the fuzz targets when they are built without libFuzzer (gcc,
 * `make test`). Each argument is a corpus file or a folder of them; every file is fed once to
 * LLVMFuzzerTestOneInput in a buffer of exactly its size. Prints "N passed, 0 failed": a bad
 * input crashes (or trips the sanitizers) instead of failing softly. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#define REPLAY_FILE_MAX (16u << 20) /* corpus files are small seeds; anything larger is a mistake */

static int replay_file(const char *path, unsigned *count)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "replay: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	uint8_t *buf = malloc(REPLAY_FILE_MAX);
	size_t n = buf ? fread(buf, 1, REPLAY_FILE_MAX, f) : 0;
	int bad = !buf || ferror(f) || !feof(f);
	fclose(f);
	if (bad) {
		fprintf(stderr, "replay: cannot read %s (or larger than 16 MiB)\n", path);
		free(buf);
		return -1;
	}
	uint8_t *exact = malloc(n ? n : 1); /* exactly n bytes: ASan sees an overread */
	if (!exact) {
		free(buf);
		return -1;
	}
	memcpy(exact, buf, n);
	free(buf);
	LLVMFuzzerTestOneInput(exact, n);
	free(exact);
	(*count)++;
	return 0;
}

static int replay_path(const char *path, unsigned *count)
{
	struct stat sb;
	if (stat(path, &sb) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(sb.st_mode))
		return replay_file(path, count);
	struct dirent **names;
	int k = scandir(path, &names, NULL, alphasort);
	if (k < 0) {
		fprintf(stderr, "replay: cannot list %s: %s\n", path, strerror(errno));
		return -1;
	}
	int r = 0;
	for (int i = 0; i < k; i++) {
		char sub[4096];
		if (names[i]->d_name[0] != '.' &&
		    snprintf(sub, sizeof(sub), "%s/%s", path, names[i]->d_name) <
			    (int)sizeof(sub) &&
		    replay_path(sub, count) < 0)
			r = -1;
		free(names[i]);
	}
	free(names);
	return r;
}

int main(int argc, char **argv)
{
	unsigned count = 0;
	int r = 0;
	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++)
		if (replay_path(argv[i], &count) < 0)
			r = 1;
	if (count == 0) {
		fprintf(stderr, "replay: no corpus file found\n");
		r = 1;
	}
	printf("%u passed, %d failed\n", count, r);
	return r;
}
