/*
 * check.h - the CHECK macro of the C unit tests (symbols, symsrv): a failed
 * check is printed with its place, condition and a printf-style note, and
 * counted in the test file's own `static int failures` so the test keeps
 * running and its exit status still says whether anything failed.
 *
 * Include it after declaring `static int failures;`, as
 * #include "../common/check.h" (no include path needed).
 */
#ifndef TESTS_COMMON_CHECK_H
#define TESTS_COMMON_CHECK_H

#include <stdio.h>

#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		failures++; \
		printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
		printf(__VA_ARGS__); \
		printf("\n"); \
	} \
} while (0)

#endif
