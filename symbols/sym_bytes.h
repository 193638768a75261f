/*
 * sym_bytes.h - internal: explicit little-endian reads from untrusted
 * buffers.  Every PE/PDB parser reads through these helpers instead of
 * overlaying structs, so a bad length can only produce a refusal.
 */
#ifndef SYMBOLS_SYM_BYTES_H
#define SYMBOLS_SYM_BYTES_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static inline uint16_t sym_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t sym_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static inline uint64_t sym_le64(const uint8_t *p)
{
	return (uint64_t)sym_le32(p) | ((uint64_t)sym_le32(p + 4) << 32);
}

/* True when [off, off+len) lies inside a buffer of size total. */
static inline int sym_in_bounds(size_t total, uint64_t off, uint64_t len)
{
	return off <= total && len <= total - off;
}

/* A cursor over an untrusted buffer: reads past the end set bad and
 * return zeros, so a parser checks once at the end of a record. */
typedef struct sym_cursor {
	const uint8_t *p;
	size_t len;
	size_t pos;
	int bad;
} sym_cursor;

static inline void sym_cur_init(sym_cursor *c, const uint8_t *p, size_t len)
{
	c->p = p;
	c->len = len;
	c->pos = 0;
	c->bad = 0;
}

static inline int sym_cur_need(sym_cursor *c, size_t n)
{
	if (c->bad || n > c->len - c->pos) {
		c->bad = 1;
		return 0;
	}
	return 1;
}

static inline uint8_t sym_cur_u8(sym_cursor *c)
{
	if (!sym_cur_need(c, 1))
		return 0;
	return c->p[c->pos++];
}

static inline uint16_t sym_cur_u16(sym_cursor *c)
{
	if (!sym_cur_need(c, 2))
		return 0;
	uint16_t v = sym_le16(c->p + c->pos);
	c->pos += 2;
	return v;
}

static inline uint32_t sym_cur_u32(sym_cursor *c)
{
	if (!sym_cur_need(c, 4))
		return 0;
	uint32_t v = sym_le32(c->p + c->pos);
	c->pos += 4;
	return v;
}

static inline uint64_t sym_cur_u64(sym_cursor *c)
{
	if (!sym_cur_need(c, 8))
		return 0;
	uint64_t v = sym_le64(c->p + c->pos);
	c->pos += 8;
	return v;
}

static inline void sym_cur_skip(sym_cursor *c, size_t n)
{
	if (sym_cur_need(c, n))
		c->pos += n;
}

/* NUL-terminated string inside the buffer; NULL (and bad) if the
 * terminator is missing. */
static inline const char *sym_cur_str(sym_cursor *c)
{
	if (c->bad || c->pos >= c->len) {
		c->bad = 1;
		return NULL;
	}
	const uint8_t *s = c->p + c->pos;
	const uint8_t *z = memchr(s, 0, c->len - c->pos);
	if (!z) {
		c->bad = 1;
		return NULL;
	}
	c->pos += (size_t)(z - s) + 1;
	return (const char *)s;
}

static inline void sym_set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline void sym_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

#endif
