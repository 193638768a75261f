/*
 * printf.c - .printf formatting (see printf.h).
 */
#include "printf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ob {
	char *p;
	size_t cap, len;
} ob;

static void ob_putn(ob *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (o->len + 1 < o->cap) {
			o->p[o->len] = s[i];
			o->p[o->len + 1] = 0;
		}
		o->len++;
	}
}

static void ob_puts(ob *o, const char *s)
{
	ob_putn(o, s, strlen(s));
}

/* Apply C flags/width/precision to an already-converted string. */
static void ob_field(ob *o, const char *spec_flags, const char *text)
{
	char fmt[48];
	snprintf(fmt, sizeof fmt, "%%%ss", spec_flags);
	int n = snprintf(NULL, 0, fmt, text);
	if (n < 0)
		return;
	char *tmp = malloc((size_t)n + 1);
	if (!tmp)
		return;
	snprintf(tmp, (size_t)n + 1, fmt, text);
	ob_puts(o, tmp);
	free(tmp);
}

/* Append one code point from the target, escaped when it is a control
 * character (C0, DEL, C1) or not a valid scalar value. */
static void put_untrusted(ob *o, uint32_t c)
{
	char tmp[16];
	/* Backslashes stay as they are: NT paths (\??\C:\...) must read as
	 * WinDbg prints them; only control characters can harm a terminal. */
	if (c >= 0x20 && c < 0x7f) {
		tmp[0] = (char)c;
		ob_putn(o, tmp, 1);
	} else if (c == '\n') {
		ob_puts(o, "\\n");
	} else if (c == '\t') {
		ob_puts(o, "\\t");
	} else if (c == '\r') {
		ob_puts(o, "\\r");
	} else if (c < 0xa0 || (c >= 0xd800 && c < 0xe000) || c > 0x10ffff ||
		   (c >= 0x200b && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) ||
		   (c >= 0x2066 && c <= 0x2069)) {
		/* controls, lone surrogates, and the invisible / bidi
		 * overrides that can disguise text on a terminal */
		snprintf(tmp, sizeof tmp, c < 0x100 ? "\\x%02x" : "\\u%04x", c);
		ob_puts(o, tmp);
	} else {
		/* UTF-8 */
		if (c < 0x800) {
			tmp[0] = (char)(0xc0 | (c >> 6));
			tmp[1] = (char)(0x80 | (c & 0x3f));
			ob_putn(o, tmp, 2);
		} else if (c < 0x10000) {
			tmp[0] = (char)(0xe0 | (c >> 12));
			tmp[1] = (char)(0x80 | ((c >> 6) & 0x3f));
			tmp[2] = (char)(0x80 | (c & 0x3f));
			ob_putn(o, tmp, 3);
		} else {
			tmp[0] = (char)(0xf0 | (c >> 18));
			tmp[1] = (char)(0x80 | ((c >> 12) & 0x3f));
			tmp[2] = (char)(0x80 | ((c >> 6) & 0x3f));
			tmp[3] = (char)(0x80 | (c & 0x3f));
			ob_putn(o, tmp, 4);
		}
	}
}

/* Read a string from the target into `o` (escaped).  maxchars bounds it;
 * stop_at_nul for %ma/%mu.  Unreadable memory ends the string; nothing
 * readable at all prints as WinDbg's "<Memory access error>"-like marker. */
static void put_target_string(const kd_printf_env *env, ob *o, uint64_t addr, size_t maxchars,
			      int wide, int stop_at_nul)
{
	size_t csize = wide ? 2 : 1;
	uint8_t buf[256];
	size_t done = 0;
	int any = 0;
	while (done < maxchars) {
		size_t want = maxchars - done;
		if (want > sizeof buf / csize)
			want = sizeof buf / csize;
		/* Do not cross a page in one request: the next page may be
		 * unmapped while this one is fine. */
		uint64_t a = addr + done * csize;
		size_t to_page = (size_t)(0x1000 - (a & 0xfff));
		if (want * csize > to_page)
			want = to_page / csize ? to_page / csize : 1;
		size_t got = 0;
		if (!env->read_memory || env->read_memory(env->ctx, a, buf, want * csize, &got) < 0)
			got = 0;
		size_t chars = got / csize;
		if (chars == 0)
			break;
		any = 1;
		for (size_t i = 0; i < chars; i++) {
			uint32_t c = wide ? (uint32_t)(buf[2 * i] | (buf[2 * i + 1] << 8)) : buf[i];
			if (c == 0 && stop_at_nul)
				return;
			if (wide && c >= 0xd800 && c < 0xdc00 && i + 1 < chars) {
				uint32_t lo = (uint32_t)(buf[2 * i + 2] | (buf[2 * i + 3] << 8));
				if (lo >= 0xdc00 && lo < 0xe000) {
					c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
					i++;
				}
			}
			put_untrusted(o, c);
		}
		done += chars;
		if (chars < want)
			break;
	}
	if (!any)
		ob_puts(o, "<Memory access error>");
}

static uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = n; i-- > 0;)
		v = (v << 8) | p[i];
	return v;
}

/* %msa / %msu: STRING / UNICODE_STRING at addr: USHORT Length (bytes),
 * USHORT MaximumLength, then Buffer at offset 8 (x64) or 4 (x86). */
static void put_counted_string(const kd_printf_env *env, ob *o, uint64_t addr, int wide)
{
	unsigned ps = env->ptr_size == 4 ? 4 : 8;
	uint8_t hdr[16];
	size_t got = 0;
	if (!env->read_memory || env->read_memory(env->ctx, addr, hdr, ps * 2, &got) < 0 || got < ps * 2) {
		ob_puts(o, "<Memory access error>");
		return;
	}
	size_t length = (size_t)le(hdr, 2);
	uint64_t buffer = le(hdr + ps, ps);
	if (ps == 4)
		buffer = (uint64_t)(int64_t)(int32_t)buffer;  /* x86 kernel pointers sign-extend */
	size_t chars = wide ? length / 2 : length;
	if (chars == 0)
		return;
	put_target_string(env, o, buffer, chars, wide, 0);
}

static void put_hex_ptr(ob *o, unsigned ps, uint64_t v)
{
	char tmp[24];
	if (ps == 4)
		snprintf(tmp, sizeof tmp, "%08x", (unsigned)v);
	else
		snprintf(tmp, sizeof tmp, "%016llx", (unsigned long long)v);
	ob_puts(o, tmp);
}

int kd_printf_format(const kd_printf_env *env, const char *fmt, const uint64_t *args,
		     size_t nargs, char *out, size_t outlen, char *err, size_t errlen)
{
	ob o = { out, outlen, 0 };
	size_t ai = 0;
	unsigned ps = env->ptr_size == 4 ? 4 : 8;
	if (outlen)
		out[0] = 0;
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			ob_putn(&o, p, 1);
			continue;
		}
		const char *start = p;
		p++;
		if (*p == '%') {
			ob_putn(&o, "%", 1);
			continue;
		}
		/* flags, width, precision */
		char flags[32];
		size_t fl = 0;
		while (*p && strchr("-+ #0123456789.", *p) && fl + 1 < sizeof flags)
			flags[fl++] = *p++;
		flags[fl] = 0;
		/* size prefix */
		int wide64 = 0;
		if (p[0] == 'I' && p[1] == '6' && p[2] == '4') {
			wide64 = 1;
			p += 3;
		} else if (p[0] == 'I' && p[1] == '3' && p[2] == '2') {
			p += 3;
		} else if (p[0] == 'l' && p[1] == 'l') {
			wide64 = 1;
			p += 2;
		} else if (p[0] == 'l' || p[0] == 'h') {
			p += 1;
		}
		char conv = *p;
		char what[4] = { conv, 0, 0, 0 };
		if (conv == 'm') {
			/* %ma %mu %msa %msu */
			if (p[1] == 's' && (p[2] == 'a' || p[2] == 'u')) {
				what[1] = 's';
				what[2] = p[2];
				p += 2;
			} else if (p[1] == 'a' || p[1] == 'u') {
				what[1] = p[1];
				p += 1;
			} else {
				snprintf(err, errlen, "Unknown format '%.*s'", (int)(p - start + 2), start);
				return -1;
			}
		}
		if (!strchr("pNxXdiuocsmy", conv) || conv == 0) {
			snprintf(err, errlen, "Unknown format '%.*s'", (int)(p - start + (conv ? 1 : 0)), start);
			return -1;
		}
		if (ai >= nargs) {
			snprintf(err, errlen, "Too few arguments for format '%.*s'", (int)(p - start + 1), start);
			return -1;
		}
		uint64_t v = args[ai++];
		char tmp[320];
		switch (conv) {
		case 'p':
		case 'N': {
			ob sub = { tmp, sizeof tmp, 0 };
			tmp[0] = 0;
			put_hex_ptr(&sub, ps, v);
			ob_field(&o, flags, tmp);
			break;
		}
		case 'x': case 'X': case 'o': case 'u': case 'd': case 'i': {
			char cf[48];
			snprintf(cf, sizeof cf, "%%%sll%c", flags, conv);
			if (conv == 'd' || conv == 'i') {
				long long sv = wide64 ? (long long)(int64_t)v : (long long)(int32_t)v;
				snprintf(tmp, sizeof tmp, cf, sv);
			} else {
				unsigned long long uv = wide64 ? v : (uint32_t)v;
				snprintf(tmp, sizeof tmp, cf, uv);
			}
			ob_puts(&o, tmp);
			break;
		}
		case 'c': {
			ob sub = { tmp, sizeof tmp, 0 };
			tmp[0] = 0;
			put_untrusted(&sub, (uint32_t)(v & 0xff));
			ob_field(&o, flags, tmp);
			break;
		}
		case 'y': {
			/* "nt!Foo+0x10 (fffff800`00101240)" */
			char sym[256];
			if (env->symbolize && env->symbolize(env->ctx, v, sym, sizeof sym) == 1) {
				ob_puts(&o, sym);
				ob_puts(&o, " (");
			}
			if (ps == 4)
				snprintf(tmp, sizeof tmp, "%08x", (unsigned)v);
			else
				snprintf(tmp, sizeof tmp, "%08x`%08x", (unsigned)(v >> 32), (unsigned)v);
			ob_puts(&o, tmp);
			if (env->symbolize && env->symbolize(env->ctx, v, sym, sizeof sym) == 1)
				ob_puts(&o, ")");
			break;
		}
		default: {
			/* strings from target memory */
			char *sbuf = malloc(KD_PRINTF_STR_MAX * 8 + 64);
			if (!sbuf) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			ob sub = { sbuf, KD_PRINTF_STR_MAX * 8 + 64, 0 };
			sbuf[0] = 0;
			if (conv == 's' || strcmp(what, "ma") == 0)
				put_target_string(env, &sub, v, KD_PRINTF_STR_MAX, 0, 1);
			else if (strcmp(what, "mu") == 0)
				put_target_string(env, &sub, v, KD_PRINTF_STR_MAX, 1, 1);
			else
				put_counted_string(env, &sub, v, what[2] == 'u');
			ob_field(&o, flags, sbuf);
			free(sbuf);
			break;
		}
		}
	}
	return (int)(o.len < o.cap ? o.len : (o.cap ? o.cap - 1 : 0));
}
