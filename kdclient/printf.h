/*
 * printf.h - WinDbg's .printf formatting, pure (memory and symbols come
 * through callbacks) so that it is unit-tested with a fake target.
 *
 * Conversions: %p %N (pointer, no backtick), %x %X %d %i %u %o with the
 * l / ll / I64 / I32 size prefixes (32-bit without one, as WinDbg's
 * ULONG-based .printf), %c, %%, %y (symbol+offset and address), and the
 * memory ones: %ma / %s (ASCII, NUL-terminated), %mu (UTF-16,
 * NUL-terminated), %msa (ANSI_STRING), %msu (UNICODE_STRING).  Flags,
 * width and precision (%08x, %-20ma) apply as in C.
 *
 * Everything taken from target memory is untrusted: control characters
 * are escaped (\n, \x1b, ...) so the target cannot drive the terminal; the
 * format string itself (typed by the user) prints as written.
 */
#ifndef KDCLIENT_PRINTF_H
#define KDCLIENT_PRINTF_H

#include <stddef.h>
#include <stdint.h>

typedef struct kd_printf_env {
	void *ctx;
	unsigned ptr_size;       /* 8 or 4 */
	/* Up to len bytes at addr; *got = bytes read (stops at the first
	 * unreadable one).  Negative return only for hard failures. */
	int (*read_memory)(void *ctx, uint64_t addr, void *buf, size_t len, size_t *got);
	/* "nt!Foo+0x10"; 1 when a symbol was found. */
	int (*symbolize)(void *ctx, uint64_t addr, char *buf, size_t len);
} kd_printf_env;

/* Longest string read for %ma/%mu (characters). */
#define KD_PRINTF_STR_MAX 0x1000

/*
 * Format `fmt` with the argument values.  Returns the length written to
 * out (truncated to outlen, always NUL-terminated), or negative with a
 * message in err for a bad format or too few arguments.
 */
int kd_printf_format(const kd_printf_env *env, const char *fmt, const uint64_t *args,
		     size_t nargs, char *out, size_t outlen, char *err, size_t errlen);

#endif
