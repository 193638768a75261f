/*
 * nt_fail.h - the error convention of the pure stack and nt walkers
 * (stack_x64.c, stack_x86.c, nt_process.c): format a message into the
 * caller's err buffer, if any, and return -1.
 *
 * Header-only so the unit tests that compile those files on their own
 * (tests/nt/meson.build) need nothing more.
 */
#ifndef KDCLIENT_NT_FAIL_H
#define KDCLIENT_NT_FAIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

static inline int nt_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline int nt_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

#endif
