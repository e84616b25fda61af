/* What every fuzz target of tests/fuzz/ shares: the libFuzzer entry point's prototype (a target
 * defines it; libFuzzer or replay.c calls it) and a helper that copies the input into a buffer
 * of exactly n bytes, so that AddressSanitizer sees any read past the end. Targets must not
 * keep state between calls, print, or exit: a crash or a sanitizer report is the finding. */
#ifndef JST_TESTS_FUZZ_H
#define JST_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A malloc'd copy of data[0..n) with no terminating NUL (1 byte allocated for n = 0). */
static inline char *fuzz_copy(const uint8_t *data, size_t n)
{
	char *p = malloc(n ? n : 1);
	if (p && n)
		memcpy(p, data, n);
	return p;
}

/* Stops the fuzzer at a broken invariant (a crash is what libFuzzer and the replay report). */
#define FUZZ_ASSERT(cond)        \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

#endif
