/*
 * format.c - WinDbg output shapes (see format.h).
 */
#include "format.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* A tiny append-only buffer that never overruns and remembers the length
 * it would have needed. */
typedef struct sbuf {
	char *p;
	size_t cap, len;
} sbuf;

static void sb_init(sbuf *b, char *p, size_t cap)
{
	b->p = p;
	b->cap = cap;
	b->len = 0;
	if (cap)
		p[0] = 0;
}

static void sb_putc(sbuf *b, char c)
{
	if (b->len + 1 < b->cap) {
		b->p[b->len] = c;
		b->p[b->len + 1] = 0;
	}
	b->len++;
}

static void sb_puts(sbuf *b, const char *s)
{
	while (*s)
		sb_putc(b, *s++);
}

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	sb_puts(b, tmp);
}

static size_t sb_done(sbuf *b)
{
	return b->len < b->cap ? b->len : (b->cap ? b->cap - 1 : 0);
}

uint64_t kd_fmt_le(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;
	for (unsigned i = size; i-- > 0;)
		v = (v << 8) | p[i];
	return v;
}

static void sb_addr(sbuf *b, unsigned ptr_size, uint64_t v)
{
	if (ptr_size == 4)
		sb_printf(b, "%08x", (unsigned)(v & 0xffffffffu));
	else
		sb_printf(b, "%08x`%08x", (unsigned)(v >> 32), (unsigned)(v & 0xffffffffu));
}

size_t kd_fmt_addr(char *out, size_t outlen, unsigned ptr_size, uint64_t v)
{
	sbuf b;
	sb_init(&b, out, outlen);
	sb_addr(&b, ptr_size, v);
	return sb_done(&b);
}

size_t kd_fmt_u64(char *out, size_t outlen, uint64_t v)
{
	return kd_fmt_addr(out, outlen, 8, v);
}

static int all_valid(const uint8_t *valid, size_t from, size_t n)
{
	if (!valid)
		return 1;
	for (size_t i = 0; i < n; i++)
		if (!valid[from + i])
			return 0;
	return 1;
}

size_t kd_fmt_db_line(char *out, size_t outlen, unsigned ptr_size, uint64_t addr,
		      const uint8_t *data, const uint8_t *valid, size_t n, size_t lead)
{
	static const char hex[] = "0123456789abcdef";
	sbuf b;
	sb_init(&b, out, outlen);
	if (lead > 16)
		lead = 16;
	if (n > 16 - lead)
		n = 16 - lead;
	sb_addr(&b, ptr_size, addr);
	sb_puts(&b, " ");
	for (size_t slot = 0; slot < 16; slot++) {
		/* byte 8 is preceded by '-' instead of a blank, but only when
		 * there is a byte on both sides of it (WinDbg's shape). */
		char sep = ' ';
		if (slot == 8 && slot > lead && slot < lead + n)
			sep = '-';
		sb_putc(&b, sep);
		if (slot < lead || slot >= lead + n) {
			sb_puts(&b, "  ");
			continue;
		}
		size_t i = slot - lead;
		if (valid && !valid[i]) {
			sb_puts(&b, "??");
		} else {
			sb_putc(&b, hex[data[i] >> 4]);
			sb_putc(&b, hex[data[i] & 15]);
		}
	}
	sb_puts(&b, "  ");
	for (size_t slot = 0; slot < lead; slot++)
		sb_putc(&b, ' ');
	for (size_t i = 0; i < n; i++) {
		uint8_t c = data[i];
		if (valid && !valid[i])
			sb_putc(&b, '?');
		else
			sb_putc(&b, c >= 0x20 && c < 0x7f ? (char)c : '.');
	}
	/* WinDbg trims nothing: the ASCII column of a short last line ends
	 * where the bytes end. */
	return sb_done(&b);
}

unsigned kd_fmt_per_line(unsigned unit)
{
	switch (unit) {
	case 1: return 16;
	case 2: return 8;
	case 4: return 4;
	default: return 2;
	}
}

size_t kd_fmt_units_line(char *out, size_t outlen, unsigned ptr_size, uint64_t addr,
			 unsigned unit, const uint8_t *data, const uint8_t *valid, size_t n)
{
	sbuf b;
	sb_init(&b, out, outlen);
	sb_addr(&b, ptr_size, addr);
	sb_puts(&b, " ");
	for (size_t i = 0; i < n; i++) {
		sb_putc(&b, ' ');
		int ok = all_valid(valid, i * unit, unit);
		uint64_t v = ok ? kd_fmt_le(data + i * unit, unit) : 0;
		switch (unit) {
		case 2:
			if (ok) sb_printf(&b, "%04x", (unsigned)v);
			else sb_puts(&b, "????");
			break;
		case 4:
			if (ok) sb_printf(&b, "%08x", (unsigned)v);
			else sb_puts(&b, "????????");
			break;
		default:
			if (ok) sb_addr(&b, 8, v);
			else sb_puts(&b, "????????`????????");
			break;
		}
	}
	return sb_done(&b);
}

size_t kd_fmt_chars_line(char *out, size_t outlen, unsigned ptr_size, uint64_t addr,
			 const uint8_t *data, size_t n, int wide)
{
	sbuf b;
	sb_init(&b, out, outlen);
	sb_addr(&b, ptr_size, addr);
	sb_puts(&b, "  \"");
	for (size_t i = 0; i < n; i++) {
		unsigned c = wide ? (unsigned)kd_fmt_le(data + 2 * i, 2) : data[i];
		sb_putc(&b, c >= 0x20 && c < 0x7f ? (char)c : '.');
	}
	sb_putc(&b, '"');
	return sb_done(&b);
}

size_t kd_fmt_ptrsym_line(char *out, size_t outlen, unsigned ptr_size, uint64_t addr,
			  unsigned unit, uint64_t value, int readable, const char *sym)
{
	sbuf b;
	sb_init(&b, out, outlen);
	sb_addr(&b, ptr_size, addr);
	sb_puts(&b, "  ");
	if (!readable)
		sb_puts(&b, unit == 4 ? "????????" : "????????`????????");
	else
		sb_addr(&b, unit == 4 ? 4 : 8, value);
	if (readable && sym && *sym) {
		sb_putc(&b, ' ');
		sb_puts(&b, sym);
	}
	return sb_done(&b);
}

size_t kd_fmt_evaluate(char *out, size_t outlen, unsigned ptr_size, uint64_t v)
{
	sbuf b;
	sb_init(&b, out, outlen);
	sb_printf(&b, "Evaluate expression: %lld = ", (long long)(int64_t)v);
	/* 32-bit targets: 8 digits when the value is a 32-bit one (zero- or
	 * sign-extended, as -1 is); anything wider keeps the 64-bit form. */
	int fits32 = (v >> 32) == 0 || (v >> 31) == 0x1ffffffffull;
	sb_addr(&b, ptr_size == 4 && fits32 ? 4 : 8, v);
	return sb_done(&b);
}

size_t kd_fmt_escape(char *out, size_t outlen, const char *text, size_t len)
{
	sbuf b;
	sb_init(&b, out, outlen);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		switch (c) {
		case '\n': sb_puts(&b, "\\n"); break;
		case '\t': sb_puts(&b, "\\t"); break;
		case '\r': sb_puts(&b, "\\r"); break;
		case '\\': sb_puts(&b, "\\\\"); break;
		default:
			if (c >= 0x20 && c < 0x7f)
				sb_putc(&b, (char)c);
			else
				sb_printf(&b, "\\x%02x", c);
		}
	}
	return sb_done(&b);
}

char *kd_fmt_sanitize(char *s)
{
	for (char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c >= 0x7f)
			*p = '?';
	}
	return s;
}

size_t kd_fmt_formats(char *out, size_t outlen, unsigned ptr_size, uint64_t v)
{
	sbuf b;
	sb_init(&b, out, outlen);
	int wide = ptr_size != 4;
	if (!wide)
		v &= 0xffffffffu;
	unsigned nbytes = wide ? 8 : 4;
	sb_puts(&b, "Evaluate expression:\n  Hex:     ");
	sb_addr(&b, wide ? 8 : 4, v);
	sb_printf(&b, "\n  Decimal: %lld\n", wide ? (long long)(int64_t)v : (long long)(int32_t)v);
	sb_printf(&b, wide ? "  Octal:   %022llo\n" : "  Octal:   %011llo\n", (unsigned long long)v);
	sb_puts(&b, "  Binary: ");
	for (unsigned i = 0; i < nbytes; i++) {
		unsigned byte = (unsigned)(v >> (8 * (nbytes - 1 - i))) & 0xff;
		if (i == 4)
			sb_puts(&b, "\n          ");
		sb_putc(&b, ' ');
		for (int bit = 7; bit >= 0; bit--)
			sb_putc(&b, (byte >> bit) & 1 ? '1' : '0');
	}
	sb_puts(&b, "\n  Chars:   ");
	for (unsigned i = 0; i < nbytes; i++) {
		unsigned char c = (unsigned char)(v >> (8 * (nbytes - 1 - i)));
		sb_putc(&b, c >= 0x20 && c < 0x7f ? (char)c : '.');
	}
	char tbuf[128] = "";
	struct tm tm;
	if (v <= 0xffffffffu) {
		time_t t = (time_t)v;
		if (gmtime_r(&t, &tm))
			strftime(tbuf, sizeof tbuf, "%a %b %e %H:%M:%S %Y", &tm);
	} else {
		/* FILETIME: 100 ns units since 1601-01-01 */
		uint64_t secs = v / 10000000u;
		unsigned ms = (unsigned)((v / 10000u) % 1000u);
		const uint64_t epoch_diff = 11644473600ull;
		if (secs >= epoch_diff) {
			time_t t = (time_t)(secs - epoch_diff);
			if (gmtime_r(&t, &tm)) {
				char a[48];
				strftime(a, sizeof a, "%a %b %e %H:%M:%S", &tm);
				snprintf(tbuf, sizeof tbuf, "%s.%03u %d (UTC)", a, ms, tm.tm_year + 1900);
			}
		}
		if (!tbuf[0])
			snprintf(tbuf, sizeof tbuf, "***** Invalid FILETIME");
	}
	sb_printf(&b, "\n  Time:    %s\n", tbuf[0] ? tbuf : "***** Invalid");
	uint32_t lo = (uint32_t)v, hi = (uint32_t)(v >> 32);
	float flo, fhi;
	double d;
	memcpy(&flo, &lo, 4);
	memcpy(&fhi, &hi, 4);
	memcpy(&d, &v, 8);
	sb_printf(&b, "  Float:   low %g high %g\n", (double)flo, (double)fhi);
	sb_printf(&b, "  Double:  %g\n", d);
	return sb_done(&b);
}
