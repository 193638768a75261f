/*
 * connspec.c - the -k connection string parser.
 *
 * Accepts WinDbg's com: forms (so users can paste what they already use)
 * and short forms. Every failure produces one line naming what was
 * expected; nothing is half-filled on failure.
 */
#include "transport.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPECTED_FORMS                                                        \
	"com:port=DEVICE[,baud=N], com:pipe,port=PATH[,reconnect][,resets=N], " \
	"com:ipport=PORT,port=HOST, serial:DEVICE[@BAUD], tcp:HOST:PORT, "      \
	"tcp-listen:[ADDR:]PORT, unix:PATH or unix-listen:PATH"

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return KDT_E_INVAL;
}

static bool parse_uint(const char *s, size_t n, unsigned long max, unsigned long *out)
{
	char tmp[32];
	char *end;
	if (n == 0 || n >= sizeof tmp)
		return false;
	memcpy(tmp, s, n);
	tmp[n] = 0;
	if (tmp[0] < '0' || tmp[0] > '9')
		return false;
	errno = 0;
	unsigned long v = strtoul(tmp, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

static bool copy_field(char *dst, size_t cap, const char *src, size_t n)
{
	if (n == 0 || n >= cap)
		return false;
	memcpy(dst, src, n);
	dst[n] = 0;
	return true;
}

/* Options shared by all forms: reconnect, resets=N. Returns 1 if `opt`
 * was one of them, 0 if not, <0 on a bad value. */
static int common_option(kd_connspec *c, const char *opt, size_t n, char *err, size_t errlen)
{
	unsigned long v;
	if (n == 9 && !strncmp(opt, "reconnect", 9)) {
		c->reconnect = true;
		return 1;
	}
	if (n >= 7 && !strncmp(opt, "resets=", 7)) {
		if (!parse_uint(opt + 7, n - 7, 1000, &v))
			return fail(err, errlen, "resets= expects a number 0-1000, got '%.*s'",
					(int)(n - 7), opt + 7);
		c->resets = (int)v;
		return 1;
	}
	return 0;
}

static int parse_com(const char *text, kd_connspec *c, char *err, size_t errlen)
{
	const char *p = text + 4;
	bool pipe = false, have_port = false, have_ipport = false;
	unsigned long baud = KD_DEFAULT_BAUD, ipport = 0;
	char port[KD_CONNSPEC_PATH_MAX] = "";

	while (*p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		int r = common_option(c, p, n, err, errlen);
		if (r < 0)
			return r;
		if (r == 0) {
			if (n == 4 && !strncmp(p, "pipe", 4)) {
				pipe = true;
			} else if (n >= 5 && !strncmp(p, "port=", 5)) {
				if (!copy_field(port, sizeof port, p + 5, n - 5))
					return fail(err, errlen, "com: port= expects a device, socket path or host");
				have_port = true;
			} else if (n >= 5 && !strncmp(p, "baud=", 5)) {
				if (!parse_uint(p + 5, n - 5, 4000000, &baud) || baud == 0)
					return fail(err, errlen, "com: baud= expects a rate like 115200, got '%.*s'",
							(int)(n - 5), p + 5);
			} else if (n >= 7 && !strncmp(p, "ipport=", 7)) {
				if (!parse_uint(p + 7, n - 7, 65535, &ipport) || ipport == 0)
					return fail(err, errlen, "com: ipport= expects a TCP port 1-65535, got '%.*s'",
							(int)(n - 7), p + 7);
				have_ipport = true;
			} else if (n == 0) {
				/* tolerate "com:,port=..." / trailing commas */
			} else {
				return fail(err, errlen,
						"com: unknown option '%.*s' (expected port=, baud=, pipe, ipport=, reconnect, resets=)",
						(int)n, p);
			}
		}
		p += n;
		if (*p == ',')
			p++;
	}
	if (!have_port)
		return fail(err, errlen, "com: needs port=DEVICE, port=PATH (with pipe) or port=HOST (with ipport=)");
	if (have_ipport) {
		c->kind = KD_CONN_TCP;
		snprintf(c->host, sizeof c->host, "%s", port);
		c->port = (uint16_t)ipport;
	} else if (pipe) {
		c->kind = KD_CONN_UNIX;
		snprintf(c->path, sizeof c->path, "%s", port);
	} else {
		c->kind = KD_CONN_SERIAL;
		snprintf(c->path, sizeof c->path, "%s", port);
		c->baud = (uint32_t)baud;
	}
	return 0;
}

/* Split "rest[,opt,opt]" of a short form: returns the length of rest and
 * applies the options. */
static int short_options(kd_connspec *c, const char *rest, size_t *restlen, char *err, size_t errlen)
{
	const char *comma = strchr(rest, ',');
	*restlen = comma ? (size_t)(comma - rest) : strlen(rest);
	while (comma) {
		const char *opt = comma + 1;
		comma = strchr(opt, ',');
		size_t n = comma ? (size_t)(comma - opt) : strlen(opt);
		int r = common_option(c, opt, n, err, errlen);
		if (r < 0)
			return r;
		if (r == 0 && n)
			return fail(err, errlen, "unknown option '%.*s' (expected reconnect or resets=N)",
					(int)n, opt);
	}
	return 0;
}

/* "host:port" or "[v6]:port"; when port_only_ok, a bare "port" too. */
static int parse_host_port(kd_connspec *c, const char *s, size_t n, bool port_only_ok,
		const char *form, char *err, size_t errlen)
{
	const char *colon = NULL;
	const char *host = s;
	size_t hostlen = 0;
	unsigned long port;

	for (size_t i = n; i > 0; i--) {
		if (s[i - 1] == ':') {
			colon = s + i - 1;
			break;
		}
	}
	if (colon) {
		hostlen = (size_t)(colon - s);
		if (hostlen >= 2 && host[0] == '[' && host[hostlen - 1] == ']') {
			host++;
			hostlen -= 2;
		}
		if (!copy_field(c->host, sizeof c->host, host, hostlen))
			return fail(err, errlen, "%s expects HOST:PORT, got an empty host", form);
		n = (size_t)(s + n - (colon + 1));
		s = colon + 1;
	} else if (!port_only_ok) {
		return fail(err, errlen, "%s expects HOST:PORT, e.g. tcp:127.0.0.1:4445", form);
	} else {
		snprintf(c->host, sizeof c->host, "127.0.0.1");
	}
	if (!parse_uint(s, n, 65535, &port) || port == 0)
		return fail(err, errlen, "%s expects a port number 1-65535, got '%.*s'", form, (int)n, s);
	c->port = (uint16_t)port;
	return 0;
}

int kd_connspec_parse(const char *text, kd_connspec *out, char *err, size_t errlen)
{
	kd_connspec c;
	size_t n;
	int r;

	if (err && errlen)
		err[0] = 0;
	if (!text || !out)
		return fail(err, errlen, "no connection string given; expected " EXPECTED_FORMS);
	memset(&c, 0, sizeof c);
	c.resets = -1;
	c.baud = KD_DEFAULT_BAUD;

	if (!strncmp(text, "com:", 4)) {
		r = parse_com(text, &c, err, errlen);
	} else if (!strncmp(text, "serial:", 7)) {
		const char *rest = text + 7;
		if ((r = short_options(&c, rest, &n, err, errlen)) == 0) {
			const char *at = memchr(rest, '@', n);
			size_t devlen = at ? (size_t)(at - rest) : n;
			c.kind = KD_CONN_SERIAL;
			if (!copy_field(c.path, sizeof c.path, rest, devlen))
				r = fail(err, errlen, "serial: expects a device, e.g. serial:/dev/ttyUSB0@115200");
			else if (at) {
				unsigned long baud;
				size_t bl = n - devlen - 1;
				if (!parse_uint(at + 1, bl, 4000000, &baud) || baud == 0)
					r = fail(err, errlen, "serial: expects DEVICE@BAUD with a rate like 115200, got '%.*s'",
							(int)bl, at + 1);
				else
					c.baud = (uint32_t)baud;
			}
		}
	} else if (!strncmp(text, "tcp-listen:", 11)) {
		if ((r = short_options(&c, text + 11, &n, err, errlen)) == 0) {
			c.kind = KD_CONN_TCP_LISTEN;
			r = parse_host_port(&c, text + 11, n, true, "tcp-listen:[ADDR:]PORT", err, errlen);
		}
	} else if (!strncmp(text, "tcp:", 4)) {
		if ((r = short_options(&c, text + 4, &n, err, errlen)) == 0) {
			c.kind = KD_CONN_TCP;
			r = parse_host_port(&c, text + 4, n, false, "tcp:HOST:PORT", err, errlen);
		}
	} else if (!strncmp(text, "unix-listen:", 12) || !strncmp(text, "unix:", 5)) {
		bool listen = text[4] == '-';
		const char *rest = text + (listen ? 12 : 5);
		if ((r = short_options(&c, rest, &n, err, errlen)) == 0) {
			c.kind = listen ? KD_CONN_UNIX_LISTEN : KD_CONN_UNIX;
			/* sun_path is 108 bytes; say so now rather than at connect */
			if (n == 0 || n >= 108 || !copy_field(c.path, sizeof c.path, rest, n))
				r = fail(err, errlen, "%s expects a socket path of 1-107 characters",
						listen ? "unix-listen:PATH" : "unix:PATH");
		}
	} else {
		const char *colon = strchr(text, ':');
		return fail(err, errlen, "unknown connection string '%.*s': expected " EXPECTED_FORMS,
				colon ? (int)(colon - text) + 1 : (int)strlen(text), text);
	}
	if (r < 0)
		return r;
	if ((c.kind == KD_CONN_UNIX || c.kind == KD_CONN_UNIX_LISTEN) && strlen(c.path) >= 108)
		return fail(err, errlen, "socket path too long (max 107 characters): %s", c.path);
	*out = c;
	return 0;
}

int kd_connspec_format(const kd_connspec *c, char *buf, size_t len)
{
	const char *v6l = "", *v6r = "";
	if (!c || (!buf && len))
		return KDT_E_INVAL;
	if (strchr(c->host, ':')) {
		v6l = "[";
		v6r = "]";
	}
	switch (c->kind) {
	case KD_CONN_SERIAL:
		return snprintf(buf, len, "serial:%s@%u", c->path, (unsigned)c->baud);
	case KD_CONN_TCP:
		return snprintf(buf, len, "tcp:%s%s%s:%u", v6l, c->host, v6r, (unsigned)c->port);
	case KD_CONN_TCP_LISTEN:
		return snprintf(buf, len, "tcp-listen:%s%s%s:%u", v6l, c->host, v6r, (unsigned)c->port);
	case KD_CONN_UNIX:
		return snprintf(buf, len, "unix:%s", c->path);
	case KD_CONN_UNIX_LISTEN:
		return snprintf(buf, len, "unix-listen:%s", c->path);
	case KD_CONN_FD:
		return snprintf(buf, len, "fd:%s", c->path);
	}
	return KDT_E_INVAL;
}
