/*
 * symsrv_store.c - searching a symbol path the way WinDbg/symsrv do.
 *
 * Each ';' element is searched in order.  An element becomes a chain of
 * stores: the current cache*dir (if any) first, then the element's own
 * stores.  Within a store the variants are tried in order name,
 * compressed name (last character '_', a CAB) and file.ptr; a 404 or a
 * missing file moves on to the next variant, then to the next store.  What
 * is found is verified (GUID/age or TimeDateStamp/SizeOfImage) and then
 * placed, uncompressed, in every local store earlier in the chain, so the
 * first store (the cache) ends up in plain symstore layout.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "symsrv_internal.h"

typedef enum { ST_STORE, ST_FLAT, ST_HTTP } st_kind;

typedef struct store {
	st_kind kind;
	const char *loc;
} store;

enum { V_PLAIN, V_COMPRESSED, V_PTR, V_COUNT };

#define MAX_CHAIN 32

struct search {
	struct sym_path *p;
	const sym_file_id *id;
	char key[64];
	char cname[256];           /* compressed name: last char -> '_' */
	char refused[600];         /* last verification failure */
	int tried;
};

/* Two-tier stores ("na/name/key/name") announce themselves with index2.txt
 * at the root (learn.microsoft.com symbol-store-folder-tree). */
static int store_two_tier(const char *root)
{
	char f[4096];
	snprintf(f, sizeof f, "%s/index2.txt", root);
	return symsrv_is_file(f);
}

static int store_rel(const char *root, const struct search *s, const char *file, char *rel,
                     size_t len)
{
	int n;
	if (root && store_two_tier(root))
		n = snprintf(rel, len, "%.2s/%s/%s/%s", s->id->name, s->id->name, s->key, file);
	else
		n = snprintf(rel, len, "%s/%s/%s", s->id->name, s->key, file);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static const char *variant_file(const struct search *s, int v)
{
	return v == V_PLAIN ? s->id->name : v == V_COMPRESSED ? s->cname : "file.ptr";
}

/* Percent-encode a path component for a URL: names may hold spaces. */
static void url_escape(const char *in, char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (; *in && o + 4 < len; in++) {
		unsigned char c = (unsigned char)*in;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-' || c == '~') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = 0;
}

/*
 * file.ptr holds "PATH:<path>" (use that file) or "MSG:<text>" (the
 * store's way of saying why the file is absent); a bare line is a path.
 * The path is read like any local file and verified before use.
 */
static int read_ptr(struct search *s, const char *ptr_file, char *out, size_t len)
{
	char buf[4096];
	int fd = open(ptr_file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	buf[strcspn(buf, "\r\n")] = 0;
	const char *v = buf;
	if (strncasecmp(v, "MSG:", 4) == 0) {
		symp_log(s->p, "SYMSRV:  %s: file.ptr says: %.200s", s->id->name, v + 4);
		snprintf(s->refused, sizeof s->refused, "the store says: %.400s", v + 4);
		return -1;
	}
	if (strncasecmp(v, "PATH:", 5) == 0)
		v += 5;
	if (!v[0])
		return -1;
	snprintf(out, len, "%s", v);
	return 0;
}

/* Index of the first writable (symstore) store, or -1. */
static int first_local(const store *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (c[i].kind == ST_STORE)
			return (int)i;
	return -1;
}

/*
 * Put the verified file v into every local store before k (and into k
 * itself when k held it compressed).  v_is_temp: v is a temp file inside
 * store f's root that must be renamed or removed.
 */
static int place(struct search *s, const store *c, int k, int variant, const char *v,
                 int v_is_temp, char *out, size_t outlen)
{
	char rel[1024], dst[4096], err[512];
	int placed = 0, rc = 0;
	out[0] = 0;
	for (int j = 0; j <= k; j++) {
		if (c[j].kind != ST_STORE)
			continue;
		if (j == k && !(variant == V_COMPRESSED && c[k].kind == ST_STORE))
			continue;
		if (store_rel(c[j].loc, s, s->id->name, rel, sizeof rel) < 0)
			return SYM_E_INVAL;
		rc = symsrv_copy_into(v, c[j].loc, rel, dst, sizeof dst, err, sizeof err);
		if (rc < 0) {
			symp_log(s->p, "SYMSRV:  %s", err);
			continue;
		}
		symp_log(s->p, "SYMSRV:  stored %s", dst);
		if (!placed)
			snprintf(out, outlen, "%s", dst);
		placed = 1;
	}
	if (v_is_temp)
		unlink(v);
	if (!placed) {
		if (v_is_temp) {
			symp_seterr(s->p, "%s: could not be stored in any local store", s->id->name);
			return SYM_E_IO;
		}
		snprintf(out, outlen, "%s", v);
	}
	return 0;
}

/* shown: what to call the file in messages (a URL rather than the name
 * of the temp file the download went to). */
static int verify_as(struct search *s, const char *path, const char *shown)
{
	char err[512];
	if (symsrv_verify(s->id, path, err, sizeof err) == 0)
		return 0;
	size_t pl = strlen(path);
	if (shown && !strncmp(err, path, pl) && err[pl] == ':')
		snprintf(s->refused, sizeof s->refused, "%.300s:%.290s", shown, err + pl + 1);
	else
		snprintf(s->refused, sizeof s->refused, "%.590s", err);
	symp_log(s->p, "SYMSRV:  refused %s", s->refused);
	return -1;
}

static int verify(struct search *s, const char *path) { return verify_as(s, path, NULL); }

/* Try one variant in local store k.  1 found (out set), 0 not there, <0 error. */
static int try_local(struct search *s, const store *c, size_t n, int k, int variant, char *out,
                     size_t outlen)
{
	char rel[1024], path[4096], tmp[4096], target[4096], err[512];
	if (store_rel(c[k].loc, s, variant_file(s, variant), rel, sizeof rel) < 0)
		return 0;
	snprintf(path, sizeof path, "%s/%s", c[k].loc, rel);
	s->tried++;
	if (!symsrv_is_file(path))
		return 0;
	symp_log(s->p, "SYMSRV:  found %s", path);
	if (variant == V_PLAIN) {
		if (verify(s, path) < 0)
			return 0;
		return place(s, c, k, variant, path, 0, out, outlen) == 0 ? 1 : -1;
	}
	if (variant == V_PTR) {
		if (read_ptr(s, path, target, sizeof target) < 0 || !symsrv_is_file(target))
			return 0;
		if (verify(s, target) < 0)
			return 0;
		return place(s, c, k, variant, target, 0, out, outlen) == 0 ? 1 : -1;
	}
	/* Compressed: decompress into a temp file of the first local store. */
	int f = first_local(c, n);
	int fd;
	if (f < 0 || symsrv_tempfile(c[f].loc, tmp, sizeof tmp, &fd) < 0)
		return 0;
	close(fd);
	if (symsrv_cab_extract(path, tmp, err, sizeof err) < 0) {
		symp_log(s->p, "SYMSRV:  %s", err);
		snprintf(s->refused, sizeof s->refused, "%.500s", err);
		unlink(tmp);
		return 0;
	}
	if (verify_as(s, tmp, path) < 0) {
		unlink(tmp);
		return 0;
	}
	return place(s, c, k, variant, tmp, 1, out, outlen) == 0 ? 1 : -1;
}

/* Plain directory: dir/name, dir/ext/name, dir/symbols/ext/name. */
static int try_flat(struct search *s, const store *c, int k, char *out, size_t outlen)
{
	const char *dot = strrchr(s->id->name, '.');
	const char *ext = dot && dot[1] ? dot + 1 : NULL;
	char path[4096];
	for (int i = 0; i < 3; i++) {
		if (i == 0)
			snprintf(path, sizeof path, "%s/%s", c[k].loc, s->id->name);
		else if (!ext)
			break;
		else if (i == 1)
			snprintf(path, sizeof path, "%s/%s/%s", c[k].loc, ext, s->id->name);
		else
			snprintf(path, sizeof path, "%s/symbols/%s/%s", c[k].loc, ext, s->id->name);
		s->tried++;
		if (!symsrv_is_file(path))
			continue;
		if (verify(s, path) < 0)
			continue;
		return place(s, c, k, V_PLAIN, path, 0, out, outlen) == 0 ? 1 : -1;
	}
	return 0;
}

/* Does the server at base (no trailing '/') use the two-tier layout?  Like
 * a local store it says so with index2.txt at its root; asked once per
 * server and remembered in the path.  -1: the server did not answer
 * (not remembered: it may be back for the next search). */
static int http_two_tier(struct search *s, const char *base, size_t bl, const char *tmpdir)
{
	struct sym_path *p = s->p;
	for (size_t i = 0; i < p->nprobes; i++)
		if (strlen(p->probes[i].url) == bl && !strncmp(p->probes[i].url, base, bl))
			return p->probes[i].two_tier;
	char url[4096], tmp[4096];
	int fd, two = 0;
	snprintf(url, sizeof url, "%.*s/index2.txt", (int)bl, base);
	if (symsrv_tempfile(tmpdir, tmp, sizeof tmp, &fd) == 0) {
		int rc = symsrv_http_get(p, url, fd);
		close(fd);
		unlink(tmp);
		if (rc < 0)
			return -1;
		two = rc == 1;
	}
	struct sym_tier_probe *v = realloc(p->probes, (p->nprobes + 1) * sizeof *v);
	if (v) {
		p->probes = v;
		v[p->nprobes].url = strndup(base, bl);
		v[p->nprobes].two_tier = two;
		if (v[p->nprobes].url)
			p->nprobes++;
	}
	if (two)
		symp_log(p, "SYMSRV:  %.*s is a two-tier store (index2.txt)", (int)bl, base);
	return two;
}

static int try_http(struct search *s, const store *c, size_t n, int k, int variant, char *out,
                    size_t outlen)
{
	char url[4096], ename[800], tmp[4096], tmp2[4096], target[4096], err[512];
	int f = first_local(c, n);
	if (f < 0 || f > k)
		return 0;    /* chains always get a local store before a URL */
	url_escape(variant_file(s, variant), ename, sizeof ename);
	char ebase[800];
	url_escape(s->id->name, ebase, sizeof ebase);
	size_t ul = strlen(c[k].loc);
	while (ul && c[k].loc[ul - 1] == '/')
		ul--;
	int two = http_two_tier(s, c[k].loc, ul, c[f].loc);
	if (two < 0) {
		/* Unreachable: one timeout per search is enough. */
		symp_log(s->p, "SYMSRV:  %s", s->p->err);
		snprintf(s->refused, sizeof s->refused, "%.500s", s->p->err);
		return -1;
	}
	if (two) {
		char raw2[3], pre[16];
		snprintf(raw2, sizeof raw2, "%.2s", s->id->name);
		url_escape(raw2, pre, sizeof pre);
		snprintf(url, sizeof url, "%.*s/%s/%s/%s/%s", (int)ul, c[k].loc, pre, ebase, s->key,
		         ename);
	}
	else
		snprintf(url, sizeof url, "%.*s/%s/%s/%s", (int)ul, c[k].loc, ebase, s->key, ename);
	int fd;
	if (symsrv_tempfile(c[f].loc, tmp, sizeof tmp, &fd) < 0) {
		symp_seterr(s->p, "cannot create a temporary file in %s: %s", c[f].loc, strerror(errno));
		return -1;
	}
	s->tried++;
	symp_log(s->p, "SYMSRV:  GET %s", url);
	int rc = symsrv_http_get(s->p, url, fd);
	if (close(fd) < 0 && rc == 1)
		rc = SYM_E_IO;
	if (rc != 1) {
		unlink(tmp);
		if (rc < 0) {
			symp_log(s->p, "SYMSRV:  %s", s->p->err);
			snprintf(s->refused, sizeof s->refused, "%.500s", s->p->err);
		}
		return rc < 0 ? rc : 0;
	}
	if (variant == V_PTR) {
		int ok = read_ptr(s, tmp, target, sizeof target);
		unlink(tmp);
		if (ok < 0 || !symsrv_is_file(target))
			return 0;
		if (verify(s, target) < 0)
			return 0;
		return place(s, c, k, V_PLAIN, target, 0, out, outlen) == 0 ? 1 : -1;
	}
	if (variant == V_COMPRESSED) {
		if (symsrv_tempfile(c[f].loc, tmp2, sizeof tmp2, &fd) < 0) {
			unlink(tmp);
			return -1;
		}
		close(fd);
		rc = symsrv_cab_extract(tmp, tmp2, err, sizeof err);
		unlink(tmp);
		if (rc < 0) {
			symp_log(s->p, "SYMSRV:  %s: %s", url, err);
			snprintf(s->refused, sizeof s->refused, "%.300s: %.200s", url, err);
			unlink(tmp2);
			return 0;
		}
		snprintf(tmp, sizeof tmp, "%s", tmp2);
	}
	if (verify_as(s, tmp, url) < 0) {
		unlink(tmp);
		return 0;
	}
	return place(s, c, k, V_PLAIN, tmp, 1, out, outlen) == 0 ? 1 : -1;
}

static int search_chain(struct search *s, const store *c, size_t n, char *out, size_t outlen)
{
	for (size_t k = 0; k < n; k++) {
		if (c[k].kind == ST_FLAT) {
			int rc = try_flat(s, c, (int)k, out, outlen);
			if (rc)
				return rc;
			continue;
		}
		for (int v = 0; v < V_COUNT; v++) {
			int rc = c[k].kind == ST_HTTP ? try_http(s, c, n, (int)k, v, out, outlen)
			                              : try_local(s, c, n, (int)k, v, out, outlen);
			if (rc > 0)
				return rc;
			/* An HTTP error (not a 404) on one variant: the server is
			 * unusable now; move to the next store. */
			if (rc < 0 && c[k].kind == ST_HTTP)
				break;
		}
	}
	return 0;
}

static void chain_push(store *c, size_t *n, st_kind kind, const char *loc)
{
	if (*n >= MAX_CHAIN)
		return;
	if (*n && c[*n - 1].kind == kind && strcmp(c[*n - 1].loc, loc) == 0)
		return;
	c[*n].kind = kind;
	c[*n].loc = loc;
	(*n)++;
}

int sym_path_find(sym_path *p, const sym_file_id *id, char *out, size_t outlen)
{
	struct search s = { .p = p, .id = id };
	char check[256], e[256];
	out[0] = 0;
	/* Callers may fill the id by hand: sanitize again. */
	if (sym_name_sanitize(id->name, check, sizeof check, e, sizeof e) < 0 ||
	    strcmp(check, id->name) != 0) {
		symp_seterr(p, "%s", e[0] ? e : "file name is not a plain name");
		return SYM_E_INVAL;
	}
	if (sym_file_id_key(id, s.key, sizeof s.key) < 0) {
		symp_seterr(p, "bad file identity");
		return SYM_E_INVAL;
	}
	snprintf(s.cname, sizeof s.cname, "%s", id->name);
	s.cname[strlen(s.cname) - 1] = '_';
	const char *cache = NULL;
	for (size_t i = 0; i < p->nelems; i++) {
		sym_elem *el = &p->elems[i];
		store c[MAX_CHAIN];
		size_t n = 0;
		if (el->kind == SYM_ELEM_CACHE) {
			cache = el->dir;
			continue;
		}
		if (cache)
			chain_push(c, &n, ST_STORE, cache);
		if (el->kind == SYM_ELEM_DIR) {
			chain_push(c, &n, ST_FLAT, el->dir);
		} else {
			for (size_t j = 0; j < el->nstores; j++) {
				const char *st = el->stores[j];
				if (!st[0]) {
					chain_push(c, &n, ST_STORE, p->default_cache);
				} else if (symp_is_url(st)) {
					/* Downloads need somewhere to land. */
					if (first_local(c, n) < 0)
						chain_push(c, &n, ST_STORE, p->default_cache);
					chain_push(c, &n, ST_HTTP, st);
				} else {
					chain_push(c, &n, ST_STORE, st);
				}
			}
		}
		int rc = search_chain(&s, c, n, out, outlen);
		if (rc > 0) {
			p->err[0] = 0;
			return 0;
		}
		if (rc < 0)
			return SYM_E_IO;
	}
	if (s.refused[0])
		symp_seterr(p, "%s %s: %s", id->name, s.key, s.refused);
	else
		symp_seterr(p, "%s %s: not found on the symbol path (%d places tried)", id->name, s.key,
		            s.tried);
	return SYM_E_NOTFOUND;
}

int sym_path_find_pdb(sym_path *p, const char *pdb_name, const uint8_t guid[16], uint32_t age,
                      char *out, size_t outlen)
{
	sym_file_id id;
	int rc = sym_file_id_pdb(&id, pdb_name, guid, age, p->err, sizeof p->err);
	if (rc < 0)
		return rc;
	return sym_path_find(p, &id, out, outlen);
}

int sym_path_find_image(sym_path *p, const char *image_name, uint32_t timestamp,
                        uint32_t size_of_image, char *out, size_t outlen)
{
	sym_file_id id;
	int rc = sym_file_id_image(&id, image_name, timestamp, size_of_image, p->err, sizeof p->err);
	if (rc < 0)
		return rc;
	return sym_path_find(p, &id, out, outlen);
}
