/*
 * target.c - helpers shared by every kd_target implementation and the
 * convenience readers commands use.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "target.h"

int kd_target_fail(kd_target *t, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->errmsg, sizeof(t->errmsg), fmt, ap);
	va_end(ap);
	return code;
}

const char *kd_target_errmsg(const kd_target *t)
{
	return t->errmsg[0] ? t->errmsg : "unknown error";
}

int kd_read(kd_target *t, uint64_t addr, void *buf, size_t len)
{
	size_t got = 0;
	int rc = t->ops->read_virtual(t, addr, buf, len, &got);
	if (rc < 0 && rc != KD_E_PARTIAL)
		return rc;
	if (got < len)
		return kd_target_fail(t, KD_E_PARTIAL, "Memory access error at %016llx",
				      (unsigned long long)(addr + got));
	return 0;
}

static uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

int kd_read_u64(kd_target *t, uint64_t addr, uint64_t *v)
{
	uint8_t b[8];
	int rc = kd_read(t, addr, b, 8);
	if (rc == 0)
		*v = le(b, 8);
	return rc;
}

int kd_read_u32(kd_target *t, uint64_t addr, uint32_t *v)
{
	uint8_t b[4];
	int rc = kd_read(t, addr, b, 4);
	if (rc == 0)
		*v = (uint32_t)le(b, 4);
	return rc;
}

unsigned kd_ptr_size(const kd_target *t)
{
	return t->version.arch == KD_ARCH_X86 ? 4 : 8;
}

int kd_read_ptr(kd_target *t, uint64_t addr, uint64_t *v)
{
	if (kd_ptr_size(t) == 8)
		return kd_read_u64(t, addr, v);
	uint32_t x;
	int rc = kd_read_u32(t, addr, &x);
	/* x86 kernel pointers are sign-extended, as the kernel does in its
	 * 64-bit records (fact sheet §6). */
	if (rc == 0)
		*v = (uint64_t)(int64_t)(int32_t)x;
	return rc;
}
