/*
 * check.h - minimal assertion helpers for the kdclient unit tests: every
 * failure prints file:line and what differed, and the test exits 1 at the
 * end if anything failed.
 */
#ifndef TESTS_KDCLIENT_CHECK_H
#define TESTS_KDCLIENT_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(cond) do { check_count++; if (!(cond)) { check_failures++; \
	fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)

#define CHECK_STR(got, want) do { const char *g_ = (got), *w_ = (want); check_count++; \
	if (strcmp(g_, w_) != 0) { check_failures++; \
	fprintf(stderr, "%s:%d: got  [%s]\n%*s want [%s]\n", __FILE__, __LINE__, g_, \
		(int)strlen(__FILE__) + 6, "", w_); } } while (0)

#define CHECK_U64(got, want) do { uint64_t g_ = (got), w_ = (want); check_count++; \
	if (g_ != w_) { check_failures++; \
	fprintf(stderr, "%s:%d: %s = 0x%" PRIx64 ", want 0x%" PRIx64 "\n", __FILE__, __LINE__, \
		#got, g_, w_); } } while (0)

static inline int check_report(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, check_count, check_failures);
	return check_failures ? 1 : 0;
}

#endif
