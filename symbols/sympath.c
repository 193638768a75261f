/*
 * sympath.c - parsing and printing WinDbg symbol paths, the .symfix
 * defaults, and the file identities (name + key) that stores are indexed by.
 * Searching and downloading live in symsrv_store.c / symsrv_http.c.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "symsrv_internal.h"

void symp_seterr(struct sym_path *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err, sizeof p->err, fmt, ap);
	va_end(ap);
}

void symp_log(struct sym_path *p, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	if (!p->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	p->log(p->cbctx, msg);
}

int symp_is_url(const char *s)
{
	return strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0;
}

static void free_elem_contents(sym_elem *e)
{
	free(e->dir);
	for (size_t j = 0; j < e->nstores; j++)
		free(e->stores[j]);
	free(e->stores);
	memset(e, 0, sizeof *e);
}

static void free_elems(sym_elem *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free_elem_contents(&e[i]);
	free(e);
}

static char *dup_range(const char *s, size_t n)
{
	char *r = malloc(n + 1);
	if (r) {
		memcpy(r, s, n);
		r[n] = 0;
	}
	return r;
}

/* Split one ';'-element on '*' into a fresh array of strings. */
static int split_star(const char *s, size_t n, char ***out, size_t *count)
{
	size_t parts = 1;
	for (size_t i = 0; i < n; i++)
		parts += s[i] == '*';
	char **v = calloc(parts, sizeof *v);
	if (!v)
		return -1;
	size_t k = 0, start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '*') {
			v[k] = dup_range(s + start, i - start);
			if (!v[k]) {
				while (k)
					free(v[--k]);
				free(v);
				return -1;
			}
			k++;
			start = i + 1;
		}
	}
	*out = v;
	*count = parts;
	return 0;
}

/* Trim blanks around an element: users paste paths with spaces after ';'. */
static void trim(const char **s, size_t *n)
{
	while (*n && isspace((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

static int parse_elem(const char *s, size_t n, sym_elem *e, char *err, size_t errlen)
{
	char **parts = NULL;
	size_t np = 0;
	memset(e, 0, sizeof *e);
	if (split_star(s, n, &parts, &np) < 0) {
		snprintf(err, errlen, "out of memory");
		return SYM_E_NOMEM;
	}
	size_t first = 0;
	if (np >= 2 && strcasecmp(parts[0], "srv") == 0) {
		e->kind = SYM_ELEM_SRV;
		first = 1;
	} else if (np >= 2 && strcasecmp(parts[0], "symsrv") == 0) {
		/* symsrv*symsrv.dll*a*b: the DLL name is WinDbg's plug-in choice;
		 * only symsrv.dll's protocol exists here. */
		if (np < 3 || strcasecmp(parts[1], "symsrv.dll") != 0) {
			snprintf(err, errlen, "symbol path: only symsrv*symsrv.dll* is supported: %.*s",
			         (int)n, s);
			goto bad;
		}
		e->kind = SYM_ELEM_SRV;
		first = 2;
	} else if (np >= 1 && strcasecmp(parts[0], "cache") == 0) {
		if (np != 2 || !parts[1][0]) {
			snprintf(err, errlen, "symbol path: cache* needs one directory: %.*s", (int)n, s);
			goto bad;
		}
		e->kind = SYM_ELEM_CACHE;
		e->dir = parts[1];
		parts[1] = NULL;
	} else if (np == 1) {
		e->kind = SYM_ELEM_DIR;
		e->dir = parts[0];
		parts[0] = NULL;
	} else {
		snprintf(err, errlen, "symbol path: unknown element: %.*s", (int)n, s);
		goto bad;
	}
	if (e->kind == SYM_ELEM_SRV) {
		e->nstores = np - first;
		e->stores = calloc(e->nstores, sizeof *e->stores);
		if (!e->stores) {
			snprintf(err, errlen, "out of memory");
			goto bad;
		}
		for (size_t i = 0; i < e->nstores; i++) {
			e->stores[i] = parts[first + i];
			parts[first + i] = NULL;
			/* A URL anywhere but last would have to be written to. */
			if (symp_is_url(e->stores[i]) && i + 1 != e->nstores) {
				snprintf(err, errlen, "symbol path: a URL must be the last store of %.*s",
				         (int)n, s);
				goto bad;
			}
		}
		/* "srv*" alone means the default store only, which is valid. */
	}
	for (size_t i = 0; i < np; i++)
		free(parts[i]);
	free(parts);
	return 0;
bad:
	for (size_t i = 0; i < np; i++)
		free(parts[i]);
	free(parts);
	free_elem_contents(e);
	return SYM_E_FORMAT;
}

static int parse_into(const char *text, sym_elem **out, size_t *count, char *err, size_t errlen)
{
	sym_elem *v = NULL;
	size_t n = 0;
	const char *s = text ? text : "";
	while (*s) {
		const char *semi = strchr(s, ';');
		size_t len = semi ? (size_t)(semi - s) : strlen(s);
		const char *el = s;
		size_t elen = len;
		trim(&el, &elen);
		if (elen) {
			sym_elem *nv = realloc(v, (n + 1) * sizeof *v);
			if (!nv) {
				free_elems(v, n);
				snprintf(err, errlen, "out of memory");
				return SYM_E_NOMEM;
			}
			v = nv;
			int rc = parse_elem(el, elen, &v[n], err, errlen);
			if (rc < 0) {
				free_elems(v, n);
				return rc;
			}
			n++;
		}
		s += len;
		if (*s == ';')
			s++;
	}
	*out = v;
	*count = n;
	return 0;
}

/* The canonical text: elements joined with ';' as the user wrote them,
 * minus blanks and empty elements. */
static int rebuild_text(struct sym_path *p)
{
	size_t cap = 1;
	for (size_t i = 0; i < p->nelems; i++) {
		sym_elem *e = &p->elems[i];
		cap += 16 + (e->dir ? strlen(e->dir) : 0);
		for (size_t j = 0; j < e->nstores; j++)
			cap += strlen(e->stores[j]) + 1;
	}
	char *t = malloc(cap);
	if (!t)
		return SYM_E_NOMEM;
	t[0] = 0;
	for (size_t i = 0; i < p->nelems; i++) {
		sym_elem *e = &p->elems[i];
		if (i)
			strcat(t, ";");
		if (e->kind == SYM_ELEM_DIR) {
			strcat(t, e->dir);
		} else if (e->kind == SYM_ELEM_CACHE) {
			strcat(t, "cache*");
			strcat(t, e->dir);
		} else {
			strcat(t, "srv");
			for (size_t j = 0; j < e->nstores; j++) {
				strcat(t, "*");
				strcat(t, e->stores[j]);
			}
		}
	}
	free(p->text);
	p->text = t;
	return 0;
}

int sym_path_default_cache(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	int n;
	if (xdg && xdg[0] == '/')
		n = snprintf(buf, len, "%s/kdclient/symbols", xdg);
	else if (home && home[0])
		n = snprintf(buf, len, "%s/.cache/kdclient/symbols", home);
	else
		n = snprintf(buf, len, "/tmp/kdclient-symbols");
	return n < 0 || (size_t)n >= len ? SYM_E_INVAL : 0;
}

int sym_path_symfix_text(const char *cache, char *buf, size_t len)
{
	char def[4096];
	if (!cache || !cache[0]) {
		if (sym_path_default_cache(def, sizeof def) < 0)
			return SYM_E_INVAL;
		cache = def;
	}
	int n = snprintf(buf, len, "cache*%s;srv*%s", cache, SYM_DEFAULT_SERVER);
	return n < 0 || (size_t)n >= len ? SYM_E_INVAL : 0;
}

int sym_path_parse(const char *text, sym_path **out, char *err, size_t errlen)
{
	char def[4096];
	*out = NULL;
	struct sym_path *p = calloc(1, sizeof *p);
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return SYM_E_NOMEM;
	}
	p->connect_timeout_s = 15;
	p->timeout_s = 600;
	p->verify_tls = 1;
	if (sym_path_default_cache(def, sizeof def) < 0 || !(p->default_cache = strdup(def))) {
		free(p);
		snprintf(err, errlen, "cannot name the default symbol cache");
		return SYM_E_FAIL;
	}
	int rc = parse_into(text, &p->elems, &p->nelems, err, errlen);
	if (rc == 0)
		rc = rebuild_text(p);
	if (rc < 0) {
		sym_path_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void sym_path_free(sym_path *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nprobes; i++)
		free(p->probes[i].url);
	free(p->probes);
	free_elems(p->elems, p->nelems);
	free(p->text);
	free(p->default_cache);
	free(p);
}

int sym_path_set(sym_path *p, const char *text)
{
	sym_elem *v;
	size_t n;
	int rc = parse_into(text, &v, &n, p->err, sizeof p->err);
	if (rc < 0)
		return rc;
	free_elems(p->elems, p->nelems);
	p->elems = v;
	p->nelems = n;
	return rebuild_text(p);
}

int sym_path_append(sym_path *p, const char *text)
{
	sym_elem *v;
	size_t n;
	int rc = parse_into(text, &v, &n, p->err, sizeof p->err);
	if (rc < 0)
		return rc;
	sym_elem *all = realloc(p->elems, (p->nelems + n) * sizeof *all);
	if (!all && p->nelems + n) {
		free_elems(v, n);
		symp_seterr(p, "out of memory");
		return SYM_E_NOMEM;
	}
	if (n)
		memcpy(all + p->nelems, v, n * sizeof *v);
	free(v);
	p->elems = all;
	p->nelems += n;
	return rebuild_text(p);
}

const char *sym_path_text(const sym_path *p) { return p->text ? p->text : ""; }
const char *sym_path_errmsg(const sym_path *p) { return p->err; }
size_t sym_path_element_count(const sym_path *p) { return p->nelems; }

sym_elem_kind sym_path_element_kind(const sym_path *p, size_t i)
{
	return i < p->nelems ? p->elems[i].kind : 0;
}

size_t sym_path_element_store_count(const sym_path *p, size_t i)
{
	if (i >= p->nelems)
		return 0;
	return p->elems[i].kind == SYM_ELEM_SRV ? p->elems[i].nstores : 1;
}

const char *sym_path_element_store(const sym_path *p, size_t i, size_t j)
{
	if (i >= p->nelems)
		return NULL;
	const sym_elem *e = &p->elems[i];
	if (e->kind != SYM_ELEM_SRV)
		return j == 0 ? e->dir : NULL;
	return j < e->nstores ? e->stores[j] : NULL;
}

void sym_path_set_callbacks(sym_path *p, sym_progress_fn progress, sym_log_fn log, void *ctx)
{
	p->progress = progress;
	p->log = log;
	p->cbctx = ctx;
}

void sym_path_set_timeouts(sym_path *p, long connect_s, long total_s)
{
	p->connect_timeout_s = connect_s > 0 ? connect_s : 15;
	p->timeout_s = total_s > 0 ? total_s : 600;
}

int sym_path_set_default_cache(sym_path *p, const char *dir)
{
	char *d = strdup(dir);
	if (!d)
		return SYM_E_NOMEM;
	free(p->default_cache);
	p->default_cache = d;
	return 0;
}

const char *sym_path_get_default_cache(const sym_path *p) { return p->default_cache; }

/* ---- names and keys ---- */

int sym_name_sanitize(const char *in, char *out, size_t outlen, char *err, size_t errlen)
{
	if (!in) {
		snprintf(err, errlen, "no file name");
		return SYM_E_INVAL;
	}
	/* Names come from the target (RSDS records, module lists): keep only
	 * the last component whichever separator the target used. */
	const char *base = in;
	for (const char *c = in; *c; c++)
		if (*c == '/' || *c == '\\')
			base = c + 1;
	size_t n = strlen(base);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)base[i];
		if (c < 0x20 || c == 0x7f) {
			snprintf(err, errlen, "refusing file name with control character 0x%02x", c);
			return SYM_E_INVAL;
		}
		/* ':' would name a drive or an NTFS stream on Windows stores;
		 * refusing it keeps caches portable between systems. */
		if (c == ':') {
			snprintf(err, errlen, "refusing file name with ':'");
			return SYM_E_INVAL;
		}
	}
	if (n == 0 || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		snprintf(err, errlen, "refusing file name \"%s\" (empty, \".\" or \"..\")",
		         n ? base : "");
		return SYM_E_INVAL;
	}
	if (n >= outlen || n > 255) {
		snprintf(err, errlen, "refusing file name longer than 255 characters");
		return SYM_E_INVAL;
	}
	memcpy(out, base, n + 1);
	return 0;
}

int sym_file_id_pdb(sym_file_id *id, const char *pdb_name, const uint8_t guid[16], uint32_t age,
                    char *err, size_t errlen)
{
	memset(id, 0, sizeof *id);
	int rc = sym_name_sanitize(pdb_name, id->name, sizeof id->name, err, errlen);
	if (rc < 0)
		return rc;
	memcpy(id->guid, guid, 16);
	id->age = age;
	return 0;
}

int sym_file_id_image(sym_file_id *id, const char *image_name, uint32_t timestamp,
                      uint32_t size_of_image, char *err, size_t errlen)
{
	memset(id, 0, sizeof *id);
	int rc = sym_name_sanitize(image_name, id->name, sizeof id->name, err, errlen);
	if (rc < 0)
		return rc;
	id->is_image = 1;
	id->timestamp = timestamp;
	id->size_of_image = size_of_image;
	return 0;
}

static uint32_t le32(const uint8_t *b) { return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24; }
static uint16_t le16(const uint8_t *b) { return (uint16_t)(b[0] | b[1] << 8); }

int sym_file_id_key(const sym_file_id *id, char *buf, size_t len)
{
	int n;
	if (id->is_image) {
		/* symstore: TimeDateStamp as 8 upper-case digits, SizeOfImage as
		 * lower-case hex without padding. */
		n = snprintf(buf, len, "%08X%x", id->timestamp, id->size_of_image);
	} else {
		/* The GUID in its textual order (Data1, Data2, Data3 as numbers,
		 * Data4 as bytes), no dashes, then the age in hex. */
		const uint8_t *g = id->guid;
		n = snprintf(buf, len, "%08X%04X%04X%02X%02X%02X%02X%02X%02X%02X%02X%X", le32(g),
		             le16(g + 4), le16(g + 6), g[8], g[9], g[10], g[11], g[12], g[13], g[14],
		             g[15], id->age);
	}
	return n < 0 || (size_t)n >= len ? SYM_E_INVAL : 0;
}

void sym_guid_format(const uint8_t g[16], char buf[40])
{
	snprintf(buf, 40, "{%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X}", le32(g), le16(g + 4),
	         le16(g + 6), g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
}
