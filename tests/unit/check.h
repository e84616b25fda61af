/* A tiny assertion header for the unit tests: each CHECK prints both operands and the line on
 * failure, counts it, and the test goes on; check_done() prints "N passed, N failed" and gives
 * the exit status. One test binary per module (tests/unit/test_<module>.c). */
#ifndef JST_TESTS_CHECK_H
#define JST_TESTS_CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond)                                                                        \
	do {                                                                               \
		if (cond) {                                                                \
			check_passed++;                                                    \
		} else {                                                                   \
			check_failed++;                                                    \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
		}                                                                          \
	} while (0)

#define CHECK_INT(a, b)                                                                    \
	do {                                                                               \
		long long check_a_ = (long long)(a), check_b_ = (long long)(b);            \
		if (check_a_ == check_b_) {                                                \
			check_passed++;                                                    \
		} else {                                                                   \
			check_failed++;                                                    \
			fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__,  \
			        __LINE__, #a, #b, check_a_, check_b_);                     \
		}                                                                          \
	} while (0)

/* |a - b| <= tol */
#define CHECK_NEAR(a, b, tol)                                                              \
	do {                                                                               \
		double check_a_ = (double)(a), check_b_ = (double)(b);                     \
		if (fabs(check_a_ - check_b_) <= (double)(tol)) {                          \
			check_passed++;                                                    \
		} else {                                                                   \
			check_failed++;                                                    \
			fprintf(stderr, "%s:%d: %s ~ %s failed: %.9g != %.9g (tol %g)\n",    \
			        __FILE__, __LINE__, #a, #b, check_a_, check_b_, (double)(tol)); \
		}                                                                          \
	} while (0)

#define CHECK_STR(a, b)                                                                    \
	do {                                                                               \
		const char *check_a_ = (a), *check_b_ = (b);                               \
		if (check_a_ && check_b_ && strcmp(check_a_, check_b_) == 0) {             \
			check_passed++;                                                    \
		} else {                                                                   \
			check_failed++;                                                    \
			fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n",        \
			        __FILE__, __LINE__, #a, #b, check_a_ ? check_a_ : "(null)",  \
			        check_b_ ? check_b_ : "(null)");                           \
		}                                                                          \
	} while (0)

/* substring */
#define CHECK_HAS(hay, needle)                                                             \
	do {                                                                               \
		const char *check_h_ = (hay), *check_n_ = (needle);                        \
		if (check_h_ && strstr(check_h_, check_n_)) {                              \
			check_passed++;                                                    \
		} else {                                                                   \
			check_failed++;                                                    \
			fprintf(stderr, "%s:%d: \"%s\" not found in %s: \"%s\"\n", __FILE__, \
			        __LINE__, check_n_, #hay, check_h_ ? check_h_ : "(null)");   \
		}                                                                          \
	} while (0)

static inline int check_done(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif
