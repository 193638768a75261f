/*
 * cmd_memory.c - memory commands: d* dumps, e* edits, s search, the
 * physical !d* / !e* forms and `?`.
 *
 * Reads go through the current view (kd_session_target), in pieces that
 * never cross a page, so one unmapped page shows as ?? while its
 * neighbours still print (the target reports partial reads, we never
 * invent filler bytes).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmdline.h"
#include "commands.h"
#include "expr.h"
#include "format.h"
#include "script.h"
#include "session.h"

#define PAGE 0x1000u

const char *kd_fmt_ptr(kd_session *s, uint64_t v, char buf[24])
{
	kd_target *t = kd_session_target(s);
	kd_fmt_addr(buf, 24, t ? kd_ptr_size(t) : 8, v);
	return buf;
}

static kd_target *need_target(kd_session *s)
{
	kd_target *t = kd_session_target(s);
	if (!t)
		kd_err(s, "No target attached\n");
	return t;
}

/* Read len bytes into buf, page by page; valid[i] says whether byte i came
 * from the target.  Returns the number of readable bytes; KD_E_INTR if the
 * user pressed Ctrl-C, other hard errors (link gone) negative. */
static long read_holes(kd_session *s, kd_target *t, int phys, uint64_t addr,
		       uint8_t *buf, uint8_t *valid, size_t len)
{
	size_t off = 0, good = 0;
	while (off < len) {
		if (kd_session_interrupted(s))
			return KD_E_INTR;
		uint64_t a = addr + off;
		size_t chunk = PAGE - (size_t)(a & (PAGE - 1));
		if (chunk > len - off)
			chunk = len - off;
		size_t got = 0;
		int rc = phys ? t->ops->read_physical(t, a, buf + off, chunk, &got)
			      : t->ops->read_virtual(t, a, buf + off, chunk, &got);
		if (rc == KD_E_CLOSED || rc == KD_E_TIMEOUT || rc == KD_E_INTR)
			return rc;
		if (got > chunk)
			got = chunk;
		if (rc < 0 && rc != KD_E_PARTIAL && rc != KD_E_STATUS && rc != KD_E_FAIL)
			got = 0;
		memset(valid + off, 1, got);
		memset(valid + off + got, 0, chunk - got);
		memset(buf + off + got, 0, chunk - got);
		good += got;
		off += chunk;
	}
	return (long)good;
}

/* ---- d* ---- */

typedef enum dump_style {
	DS_BYTES,      /* db: hex + ASCII */
	DS_UNITS,      /* dw dd dq */
	DS_DC,         /* dc: dwords + ASCII */
	DS_ASCII,      /* da */
	DS_UNICODE,    /* du */
	DS_PTRSYM,     /* dps dds dqs */
} dump_style;

typedef struct dump_kind {
	const char *name;
	dump_style style;
	unsigned unit;        /* 0: pointer size */
} dump_kind;

static const dump_kind dump_kinds[] = {
	{ "db", DS_BYTES, 1 },
	{ "dw", DS_UNITS, 2 },
	{ "dd", DS_UNITS, 4 },
	{ "dq", DS_UNITS, 8 },
	{ "dp", DS_UNITS, 0 },
	{ "dc", DS_DC, 4 },
	{ "da", DS_ASCII, 1 },
	{ "du", DS_UNICODE, 2 },
	{ "dps", DS_PTRSYM, 0 },
	{ "dds", DS_PTRSYM, 4 },
	{ "dqs", DS_PTRSYM, 8 },
};

static const dump_kind *find_dump_kind(const char *name)
{
	for (size_t i = 0; i < sizeof dump_kinds / sizeof dump_kinds[0]; i++)
		if (strcasecmp(dump_kinds[i].name, name) == 0)
			return &dump_kinds[i];
	return NULL;
}

/* Parse "[addr] [L n | addr2]" with the session's evaluator; prints the
 * error.  Returns 0 or negative. */
static int parse_range(kd_session *s, const char *args, size_t unit, kd_range *r,
		       const char **end)
{
	char err[256];
	const char *e;
	if (kd_expr_range(kd_lang_eval_fn, s, args, unit, r, &e, err, sizeof err) < 0) {
		kd_err(s, "%s\n", err);
		return -1;
	}
	if (end)
		*end = e;
	else if (*e) {
		kd_err(s, "Syntax error at '%s'\n", e);
		return -1;
	}
	return 0;
}

/* da/du: print up to max characters, stopping after a NUL, 32 per line
 * like WinDbg's string dumps. */
static int dump_string(kd_session *s, kd_target *t, unsigned ps, uint64_t addr,
		       uint64_t max, int wide, uint64_t *next)
{
	const unsigned per_line = 32, csize = wide ? 2 : 1;
	uint8_t buf[32 * 2], valid[32 * 2];
	uint64_t done = 0;
	char line[KD_FMT_LINE];
	while (done < max) {
		size_t n = per_line;
		if (n > max - done)
			n = (size_t)(max - done);
		uint64_t a = addr + done * csize;
		long got = read_holes(s, t, 0, a, buf, valid, n * csize);
		if (got < 0)
			return (int)got;
		/* Stop at the first unreadable character or NUL. */
		size_t k = 0;
		int end = 0;
		for (; k < n; k++) {
			if (!valid[k * csize] || (wide && !valid[k * 2 + 1])) {
				end = 2;
				break;
			}
			uint64_t c = kd_fmt_le(buf + k * csize, csize);
			if (c == 0) {
				end = 1;
				break;
			}
		}
		if (k == 0 && end == 2) {
			kd_fmt_addr(line, sizeof line, ps, a);
			kd_out(s, "%s  ????\n", line);
			done += 1;
			break;
		}
		kd_fmt_chars_line(line, sizeof line, ps, a, buf, k, wide);
		kd_out(s, "%s\n", line);
		done += k + (end == 1);
		if (end)
			break;
	}
	*next = addr + done * csize;
	return 0;
}

static int do_dump(kd_session *s, const dump_kind *k, const char *args, int phys)
{
	kd_target *t = need_target(s);
	if (!t)
		return -1;
	struct kd_lang_state *L = kd_lang(s);
	unsigned ps = kd_ptr_size(t);
	unsigned unit = k->unit ? k->unit : ps;
	kd_range r;
	if (parse_range(s, args, unit, &r, NULL) < 0)
		return -1;
	if (!r.have_addr) {
		if (!L || !L->dump_valid) {
			kd_err(s, "No address to dump: give one (e.g. %s @rsp)\n", k->name);
			return -1;
		}
		r.addr = L->dump_next;
	}
	uint64_t count = r.count;
	if (!r.have_count) {
		if (k->style == DS_ASCII || k->style == DS_UNICODE)
			count = 0x100;
		else
			count = 0x80 / unit;
	}
	if (count == 0)
		return 0;
	uint64_t next = r.addr;
	char line[KD_FMT_LINE];

	if (k->style == DS_ASCII || k->style == DS_UNICODE) {
		int rc = dump_string(s, t, ps, r.addr, count, k->style == DS_UNICODE, &next);
		if (rc < 0) {
			kd_err(s, "%s\n", rc == KD_E_INTR ? "Interrupted" : kd_target_errmsg(t));
			return rc;
		}
	} else {
		unsigned per = k->style == DS_PTRSYM ? 1 : kd_fmt_per_line(unit);
		uint64_t left = count;
		uint64_t a = r.addr;
		/* WinDbg starts every line at the next address (db esp:
		 * 0012f55c, 0012f56c, ...), it does not realign to 16. */
		size_t lead = 0;
		while (left) {
			uint64_t n = per - (lead ? lead : 0);
			if (n > left)
				n = left;
			uint8_t buf[64], valid[64];
			long got = read_holes(s, t, phys, a, buf, valid, (size_t)n * unit);
			if (got < 0) {
				kd_err(s, "%s\n", got == KD_E_INTR ? "Interrupted" : kd_target_errmsg(t));
				return (int)got;
			}
			switch (k->style) {
			case DS_BYTES:
				kd_fmt_db_line(line, sizeof line, ps, a, buf, valid, (size_t)n, lead);
				break;
			case DS_UNITS:
				kd_fmt_units_line(line, sizeof line, ps, a, unit, buf, valid, (size_t)n);
				break;
			case DS_DC: {
				size_t len = kd_fmt_units_line(line, sizeof line, ps, a, 4, buf, valid, (size_t)n);
				/* pad to 4 dwords, then the bytes as ASCII */
				for (uint64_t i = n; i < 4 && len + 9 < sizeof line; i++) {
					memcpy(line + len, "         ", 9);
					len += 9;
				}
				if (len + 3 + n * 4 < sizeof line) {
					line[len++] = ' ';
					line[len++] = ' ';
					for (size_t i = 0; i < n * 4; i++) {
						uint8_t c = buf[i];
						line[len++] = !valid[i] ? '?' : (c >= 0x20 && c < 0x7f ? (char)c : '.');
					}
					line[len] = 0;
				}
				break;
			}
			default: {
				int ok = valid[0] && valid[unit - 1];
				uint64_t v = ok ? kd_fmt_le(buf, unit) : 0;
				char sym[256] = "";
				if (ok && kd_lang_symbolize(s, unit == 4 ? (uint64_t)(int64_t)(int32_t)v : v,
							    sym, sizeof sym) != 1)
					sym[0] = 0;
				kd_fmt_ptrsym_line(line, sizeof line, ps, a, unit, v, ok, sym);
				break;
			}
			}
			if (phys) {
				/* WinDbg marks physical dumps with '#': "#    1000 ..." */
				const char *rest = strchr(line, ' ');
				char pl[KD_FMT_LINE];
				snprintf(pl, sizeof pl, "#%8llx%s", (unsigned long long)a, rest ? rest + 1 : "");
				kd_out(s, "%s\n", pl);
			} else {
				kd_out(s, "%s\n", line);
			}
			a += n * unit;
			left -= n;
			lead = 0;
		}
		next = a;
	}
	if (L && !phys) {
		L->dump_next = next;
		L->dump_valid = 1;
		snprintf(L->dump_kind, sizeof L->dump_kind, "%s", k->name);
	}
	return 0;
}

/* !d* / !e* take WinDbg's caching flag ([c] [uc] [wc]) first; KD has no
 * way to pass it, so it is accepted and ignored. */
static const char *skip_cache_flag(const char *args)
{
	const char *p = kd_skip_blanks(args);
	if (!strncasecmp(p, "[c]", 3))
		return p + 3;
	if (!strncasecmp(p, "[uc]", 4) || !strncasecmp(p, "[wc]", 4))
		return p + 4;
	return p;
}

static int cmd_dump(kd_session *s, const char *name, const char *args)
{
	int phys = name[0] == '!';
	if (phys)
		args = skip_cache_flag(args);
	const char *kname = phys ? name + 1 : name;
	if (strcmp(kname, "d") == 0) {
		struct kd_lang_state *L = kd_lang(s);
		kname = L && L->dump_kind[0] ? L->dump_kind : "db";
	}
	const dump_kind *k = find_dump_kind(kname);
	if (!k) {
		kd_err(s, "Unknown dump command %s\n", name);
		return -1;
	}
	return do_dump(s, k, args, phys);
}

/* ---- e* ---- */

static int write_bytes(kd_session *s, kd_target *t, int phys, uint64_t addr,
		       const uint8_t *buf, size_t len)
{
	size_t done = 0;
	int rc = phys ? t->ops->write_physical(t, addr, buf, len, &done)
		      : t->ops->write_virtual(t, addr, buf, len, &done);
	if (rc < 0 || done < len) {
		char a[24];
		kd_fmt_addr(a, sizeof a, kd_ptr_size(t), addr + done);
		kd_err(s, "Memory access error at %s%s%s\n", a,
		       rc < 0 ? ": " : "", rc < 0 ? kd_target_errmsg(t) : "");
		return rc < 0 ? rc : KD_E_PARTIAL;
	}
	return 0;
}

static int cmd_edit(kd_session *s, const char *name, const char *args)
{
	kd_target *t = need_target(s);
	if (!t)
		return -1;
	int phys = name[0] == '!';
	const char *k = phys ? name + 1 : name;
	uint64_t addr;
	const char *p;
	if (phys)
		args = skip_cache_flag(args);
	if (kd_eval(s, args, &addr, &p) < 0) {
		kd_err(s, "%s\n", kd_session_errmsg(s));
		return -1;
	}
	unsigned ps = kd_ptr_size(t);

	/* Strings: ea/eu write the text, eza/ezu with a terminating NUL. */
	if (!strcasecmp(k, "ea") || !strcasecmp(k, "eu") || !strcasecmp(k, "eza") || !strcasecmp(k, "ezu")) {
		int wide = tolower((unsigned char)k[strlen(k) - 1]) == 'u';
		int zero = tolower((unsigned char)k[1]) == 'z';
		char text[1024];
		if (*p != '"' || kd_cmdline_unquote(&p, text, sizeof text) < 0) {
			kd_err(s, "%s needs a \"quoted string\"\n", name);
			return -1;
		}
		size_t n = strlen(text) + (zero ? 1 : 0);
		uint8_t buf[2048];
		for (size_t i = 0; i < n; i++) {
			if (wide) {
				buf[2 * i] = (uint8_t)text[i];
				buf[2 * i + 1] = 0;
			} else {
				buf[i] = (uint8_t)text[i];
			}
		}
		return write_bytes(s, t, phys, addr, buf, n * (wide ? 2 : 1));
	}

	unsigned unit;
	switch (tolower((unsigned char)k[1])) {
	case 'b': unit = 1; break;
	case 'w': unit = 2; break;
	case 'd': unit = 4; break;
	case 'q': unit = 8; break;
	case 'p': unit = ps; break;
	default:
		kd_err(s, "Unknown edit command %s\n", name);
		return -1;
	}
	uint8_t buf[1024];
	size_t n = 0;
	p = kd_skip_blanks(p);
	if (!*p) {
		kd_err(s, "%s: give the values to write (interactive entry is not supported)\n", name);
		return -1;
	}
	while (*p) {
		uint64_t v;
		const char *at = p;
		if (kd_eval(s, p, &v, &p) < 0) {
			kd_err(s, "%s\n", kd_session_errmsg(s));
			return -1;
		}
		if (p == at)
			break;
		/* A value fits when it is unsigned within the unit or a negative
		 * number the unit can hold (eb addr -1 writes ff). */
		int fits = unit == 8 || (v >> (unit * 8)) == 0 ||
			   ((int64_t)v < 0 && (int64_t)v >= -(int64_t)(1ull << (unit * 8 - 1)));
		if (!fits) {
			kd_err(s, "Overflow error at '%.*s'\n", (int)(p - at), at);
			return -1;
		}
		if (n + unit > sizeof buf) {
			kd_err(s, "Too many values\n");
			return -1;
		}
		for (unsigned i = 0; i < unit; i++)
			buf[n++] = (uint8_t)(v >> (8 * i));
		p = kd_skip_blanks(p);
	}
	return write_bytes(s, t, phys, addr, buf, n);
}

/* ---- f / m / c ---- */

/* Read a whole range (up to KD_RANGE_MAX_BYTES) into a new buffer;
 * prints the error and returns NULL when any byte is unreadable. */
static uint8_t *read_range(kd_session *s, kd_target *t, uint64_t addr, size_t len)
{
	uint8_t *buf = malloc(len ? len : 1), *valid = malloc(len ? len : 1);
	if (!buf || !valid) {
		free(buf);
		free(valid);
		kd_err(s, "out of memory\n");
		return NULL;
	}
	long got = read_holes(s, t, 0, addr, buf, valid, len);
	if (got >= 0 && (size_t)got != len) {
		size_t i = 0;
		while (i < len && valid[i])
			i++;
		char a[24];
		kd_fmt_addr(a, sizeof a, kd_ptr_size(t), addr + i);
		kd_err(s, "Memory access error at %s\n", a);
		got = -1;
	} else if (got < 0) {
		kd_err(s, "%s\n", got == KD_E_INTR ? "Interrupted" : kd_target_errmsg(t));
	}
	free(valid);
	if (got < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* f range pattern... : fill the range with the repeated byte pattern */
static int cmd_fill(kd_session *s, const char *name, const char *args)
{
	(void)name;
	kd_target *t = need_target(s);
	if (!t)
		return -1;
	kd_range r;
	const char *e;
	if (parse_range(s, args, 1, &r, &e) < 0)
		return -1;
	if (!r.have_addr || !r.have_count) {
		kd_err(s, "usage: f range pattern\n");
		return -1;
	}
	uint8_t pat[256];
	size_t plen = 0;
	while (*e && plen < sizeof pat) {
		uint64_t v;
		const char *at = e;
		if (kd_eval(s, e, &v, &e) < 0) {
			kd_err(s, "%s\n", kd_session_errmsg(s));
			return -1;
		}
		if (e == at)
			break;
		if (!(v <= 0xff || ((int64_t)v < 0 && (int64_t)v >= -128))) {
			kd_err(s, "Overflow error at '%.*s'\n", (int)(e - at), at);
			return -1;
		}
		pat[plen++] = (uint8_t)v;
	}
	if (!plen) {
		kd_err(s, "usage: f range pattern\n");
		return -1;
	}
	uint8_t chunk[4096];
	for (uint64_t off = 0; off < r.count;) {
		size_t n = r.count - off > sizeof chunk ? sizeof chunk : (size_t)(r.count - off);
		for (size_t i = 0; i < n; i++)
			chunk[i] = pat[(off + i) % plen];
		if (write_bytes(s, t, 0, r.addr + off, chunk, n) < 0)
			return -1;
		off += n;
	}
	return 0;
}

/* "range address" arguments of m and c: a complete range, then the
 * second address as an expression. */
static int parse_range_to(kd_session *s, const char *args, const char *usage,
			  kd_range *r, uint64_t *addr)
{
	const char *e;
	if (parse_range(s, args, 1, r, &e) < 0)
		return -1;
	if (!r->have_addr || !r->have_count || !*e) {
		kd_err(s, "usage: %s\n", usage);
		return -1;
	}
	if (kd_eval(s, e, addr, NULL) < 0) {
		kd_err(s, "%s\n", kd_session_errmsg(s));
		return -1;
	}
	return 0;
}

/* m range dest: copy (overlapping ranges are fine: read first) */
static int cmd_move(kd_session *s, const char *name, const char *args)
{
	(void)name;
	kd_target *t = need_target(s);
	if (!t)
		return -1;
	kd_range r;
	uint64_t dest;
	if (parse_range_to(s, args, "m range destination", &r, &dest) < 0)
		return -1;
	uint8_t *buf = read_range(s, t, r.addr, (size_t)r.count);
	if (!buf)
		return -1;
	int rc = write_bytes(s, t, 0, dest, buf, (size_t)r.count);
	free(buf);
	return rc;
}

/* c range addr2: print every differing byte as
 *   fffff800`00100000 4d - fffff800`00200000 00 */
static int cmd_compare(kd_session *s, const char *name, const char *args)
{
	(void)name;
	kd_target *t = need_target(s);
	if (!t)
		return -1;
	kd_range r;
	uint64_t other;
	if (parse_range_to(s, args, "c range address", &r, &other) < 0)
		return -1;
	uint8_t *a = read_range(s, t, r.addr, (size_t)r.count);
	if (!a)
		return -1;
	uint8_t *b = read_range(s, t, other, (size_t)r.count);
	if (!b) {
		free(a);
		return -1;
	}
	unsigned ps = kd_ptr_size(t);
	for (size_t i = 0; i < r.count; i++) {
		if (a[i] == b[i])
			continue;
		char x[24], y[24];
		kd_fmt_addr(x, sizeof x, ps, r.addr + i);
		kd_fmt_addr(y, sizeof y, ps, other + i);
		kd_out(s, "%s %02x - %s %02x\n", x, a[i], y, b[i]);
	}
	free(a);
	free(b);
	return 0;
}

/* ---- s ---- */

static int cmd_search(kd_session *s, const char *name, const char *args)
{
	(void)name;
	kd_target *t = need_target(s);
	if (!t)
		return -1;
	unsigned ps = kd_ptr_size(t);
	const char *p = kd_skip_blanks(args);
	char flag = 'b';
	int addr_only = 0;
	if (*p == '-') {
		const char *f = p + 1;
		/* -[1]b: addresses only, one per line (for .foreach-style use) */
		if (f[0] == '[') {
			const char *e = strchr(f, ']');
			if (!e) {
				kd_err(s, "Syntax error: missing ']' in '%s'\n", p);
				return -1;
			}
			addr_only = memchr(f, '1', (size_t)(e - f)) != NULL;
			f = e + 1;
		}
		flag = (char)tolower((unsigned char)f[0]);
		if (!f[0] || !strchr("bwdqau", flag) || !(f[1] == 0 || isspace((unsigned char)f[1]))) {
			kd_err(s, "Unknown search flag '%s' (use -b -w -d -q -a -u, -[1]b)\n", p);
			return -1;
		}
		p = kd_skip_blanks(f + 1);
	}
	unsigned unit = flag == 'w' ? 2 : flag == 'd' ? 4 : flag == 'q' ? 8 : 1;
	kd_range r;
	const char *e;
	if (parse_range(s, p, unit, &r, &e) < 0)
		return -1;
	if (!r.have_addr || !r.have_count) {
		kd_err(s, "usage: s [-b|-w|-d|-q|-a|-u] range pattern\n");
		return -1;
	}
	/* The pattern. */
	uint8_t pat[512];
	size_t plen = 0;
	if (flag == 'a' || flag == 'u') {
		char text[256];
		if (*e != '"' || kd_cmdline_unquote(&e, text, sizeof text) <= 0) {
			kd_err(s, "s -%c needs a non-empty \"quoted string\"\n", flag);
			return -1;
		}
		for (size_t i = 0; text[i]; i++) {
			pat[plen++] = (uint8_t)text[i];
			if (flag == 'u')
				pat[plen++] = 0;
		}
	} else {
		while (*e) {
			uint64_t v;
			const char *at = e;
			if (kd_eval(s, e, &v, &e) < 0) {
				kd_err(s, "%s\n", kd_session_errmsg(s));
				return -1;
			}
			if (e == at || plen + unit > sizeof pat)
				break;
			for (unsigned i = 0; i < unit; i++)
				pat[plen++] = (uint8_t)(v >> (8 * i));
		}
		if (!plen) {
			kd_err(s, "s: no pattern given\n");
			return -1;
		}
	}
	uint64_t total = r.count * unit;
	/* Scan in 64 KB windows that overlap by the pattern length so that
	 * matches spanning two windows are found once. */
	const size_t win = 0x10000;
	uint8_t *buf = malloc(win + sizeof pat), *valid = malloc(win + sizeof pat);
	if (!buf || !valid) {
		free(buf);
		free(valid);
		kd_err(s, "out of memory\n");
		return -1;
	}
	uint64_t off = 0;
	int rc = 0;
	char line[KD_FMT_LINE];
	while (off < total) {
		size_t n = total - off > win ? win : (size_t)(total - off);
		size_t want = n + plen - 1;
		if (off + want > total)
			want = (size_t)(total - off);
		long got = read_holes(s, t, 0, r.addr + off, buf, valid, want);
		if (got < 0) {
			kd_err(s, "%s\n", got == KD_E_INTR ? "Interrupted" : kd_target_errmsg(t));
			rc = (int)got;
			break;
		}
		for (size_t i = 0; i < n && i + plen <= want; i += (flag == 'a' || flag == 'u' || flag == 'b') ? 1 : unit) {
			if (buf[i] != pat[0] || memcmp(buf + i, pat, plen) != 0)
				continue;
			int ok = 1;
			for (size_t j = 0; j < plen; j++)
				ok &= valid[i + j];
			if (!ok)
				continue;
			uint64_t a = r.addr + off + i;
			if (addr_only) {
				kd_fmt_addr(line, sizeof line, ps, a);
				kd_out(s, "%s\n", line);
				continue;
			}
			uint8_t lb[16], lv[16];
			unsigned lu = (flag == 'a' || flag == 'b') ? 1 : (flag == 'u' ? 2 : unit);
			unsigned per = kd_fmt_per_line(lu);
			if (read_holes(s, t, 0, a, lb, lv, (size_t)per * lu) < 0)
				memset(lv, 0, sizeof lv);
			if (lu == 1)
				kd_fmt_db_line(line, sizeof line, ps, a, lb, lv, 16, 0);
			else
				kd_fmt_units_line(line, sizeof line, ps, a, lu, lb, lv, per);
			kd_out(s, "%s\n", line);
		}
		off += n;
	}
	free(buf);
	free(valid);
	return rc;
}

/* ---- ? ---- */

static int cmd_evaluate(kd_session *s, const char *name, const char *args)
{
	(void)name;
	const char *p = kd_skip_blanks(args);
	if (!*p)
		return kd_execute(s, ".help");
	uint64_t v;
	const char *end;
	if (kd_eval(s, p, &v, &end) < 0) {
		kd_err(s, "%s\n", kd_session_errmsg(s));
		return -1;
	}
	if (*end) {
		kd_err(s, "Syntax error at '%s'\n", end);
		return -1;
	}
	kd_target *t = kd_session_target(s);
	char line[KD_FMT_LINE];
	kd_fmt_evaluate(line, sizeof line, t ? kd_ptr_size(t) : 8, v);
	kd_out(s, "%s\n", line);
	return 0;
}

/* .formats expr */
static int cmd_formats(kd_session *s, const char *name, const char *args)
{
	uint64_t v;
	const char *end;
	if (kd_eval(s, args, &v, &end) < 0) {
		kd_err(s, "%s\n", kd_session_errmsg(s));
		return -1;
	}
	if (*end) {
		kd_err(s, "Syntax error at '%s'\n", end);
		return -1;
	}
	(void)name;
	kd_target *t = kd_session_target(s);
	char text[1024];
	kd_fmt_formats(text, sizeof text, t ? kd_ptr_size(t) : 8, v);
	kd_write(s, text, strlen(text));
	return 0;
}

#define DUMP(n, u, h) { n, cmd_dump, KD_CMD_PREFIX | KD_CMD_NEEDS_STOP, n " " u, h }
#define EDIT(n, u, h) { n, cmd_edit, KD_CMD_PREFIX | KD_CMD_NEEDS_STOP, n " " u, h }

const kd_command kd_commands_memory[] = {
	/* not a prefix: "dt", "dx", "dv" must not fall into a dump */
	{ "d", cmd_dump, KD_CMD_NEEDS_STOP, "d [range]", "dump memory in the last d* format" },
	DUMP("db", "[addr] [L count | addr2]", "dump bytes and ASCII"),
	DUMP("dw", "[addr] [L count | addr2]", "dump words"),
	DUMP("dd", "[addr] [L count | addr2]", "dump dwords"),
	DUMP("dq", "[addr] [L count | addr2]", "dump qwords"),
	DUMP("dp", "[addr] [L count | addr2]", "dump pointer-sized values"),
	DUMP("dc", "[addr] [L count | addr2]", "dump dwords and ASCII"),
	DUMP("da", "[addr] [L maxchars]", "dump an ASCII string"),
	DUMP("du", "[addr] [L maxchars]", "dump a UTF-16 string"),
	DUMP("dps", "[addr] [L count | addr2]", "dump pointers with symbols"),
	DUMP("dds", "[addr] [L count | addr2]", "dump dwords with symbols"),
	DUMP("dqs", "[addr] [L count | addr2]", "dump qwords with symbols"),
	DUMP("!db", "physaddr [L count]", "dump physical bytes"),
	DUMP("!dw", "physaddr [L count]", "dump physical words"),
	DUMP("!dd", "physaddr [L count]", "dump physical dwords"),
	DUMP("!dq", "physaddr [L count]", "dump physical qwords"),
	EDIT("eb", "addr value...", "write bytes"),
	EDIT("ew", "addr value...", "write words"),
	EDIT("ed", "addr value...", "write dwords"),
	EDIT("eq", "addr value...", "write qwords"),
	EDIT("ep", "addr value...", "write pointer-sized values"),
	EDIT("ea", "addr \"text\"", "write an ASCII string (no NUL)"),
	EDIT("eu", "addr \"text\"", "write a UTF-16 string (no NUL)"),
	EDIT("eza", "addr \"text\"", "write a NUL-terminated ASCII string"),
	EDIT("ezu", "addr \"text\"", "write a NUL-terminated UTF-16 string"),
	EDIT("!eb", "physaddr value...", "write physical bytes"),
	EDIT("!ed", "physaddr value...", "write physical dwords"),
	{ "f", cmd_fill, KD_CMD_NEEDS_STOP, "f range pattern...", "fill memory with a byte pattern" },
	{ "m", cmd_move, KD_CMD_NEEDS_STOP, "m range destination", "copy memory" },
	{ "c", cmd_compare, KD_CMD_NEEDS_STOP, "c range address", "compare two memory ranges" },
	{ "s", cmd_search, KD_CMD_NEEDS_STOP, "s [-b|-w|-d|-q|-a|-u] range pattern",
	  "search memory for bytes, values or a string" },
	{ "?", cmd_evaluate, KD_CMD_PREFIX, "? expr", "evaluate a MASM expression" },
	{ ".formats", cmd_formats, 0, ".formats expr", "show a value in every number format" },
	{ 0 }
};
