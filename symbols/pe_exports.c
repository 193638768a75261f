/*
 * pe_exports.c - the export directory: names, ordinals, forwarders.
 * Exports are WinDbg's fallback symbols when no PDB is found, so they are
 * loaded once (in a few large reads, since each read from a live target is
 * a KD round trip) and kept sorted by name.
 */
#include <stdlib.h>

#include "pe_internal.h"

#define PE_MAX_EXPORTS (1u << 20)
#define PE_MAX_NAME_SPAN (16u << 20)

static int cmp_export_name(const void *a, const void *b, void *ctx)
{
	const pe_export *e = ctx;
	return strcmp(e[*(const uint32_t *)a].name, e[*(const uint32_t *)b].name);
}

/* Strings for names live in one span read at once; copy each (bounded by
 * the span) into the owned string pool. */
typedef struct strpool {
	char *buf;
	size_t len, cap;
} strpool;

static long pool_add(strpool *p, const uint8_t *s, size_t max)
{
	const uint8_t *z = memchr(s, 0, max);
	if (!z)
		return -1;
	size_t n = (size_t)(z - s) + 1;
	if (p->len + n > p->cap) {
		size_t nc = (p->cap ? p->cap * 2 : 4096) + n;
		char *nb = realloc(p->buf, nc);
		if (!nb)
			return -2;
		p->buf = nb;
		p->cap = nc;
	}
	memcpy(p->buf + p->len, s, n);
	p->len += n;
	return (long)(p->len - n);
}

static int load_exports(pe_image *pe)
{
	uint32_t drva = pe->dir_rva[PE_DIR_EXPORT], dsize = pe->dir_size[PE_DIR_EXPORT];
	if (!drva || !dsize)
		return 0;   /* no exports is fine */
	if (dsize < 40)
		return pe_fail(pe, SYM_E_FORMAT, "export directory too small (%u)", dsize);
	uint8_t *dir = NULL, *names = NULL;
	uint32_t *funcs = NULL, *name_rvas = NULL;
	uint16_t *ords = NULL;
	strpool pool = {0};
	long *name_off = NULL, *fwd_off = NULL;
	int rc = pe_read_alloc(pe, drva, dsize, &dir);
	if (rc < 0)
		return rc;
	uint32_t base = sym_le32(dir + 16);
	uint32_t nfunc = sym_le32(dir + 20), nname = sym_le32(dir + 24);
	uint32_t afunc = sym_le32(dir + 28), aname = sym_le32(dir + 32), aord = sym_le32(dir + 36);
	if (nfunc > PE_MAX_EXPORTS || nname > PE_MAX_EXPORTS) {
		rc = pe_fail(pe, SYM_E_FORMAT, "implausible export counts %u/%u", nfunc, nname);
		goto out;
	}
	uint8_t *raw;
	funcs = calloc(nfunc + 1, 4);
	name_rvas = calloc(nname + 1, 4);
	ords = calloc(nname + 1, 2);
	name_off = calloc(nfunc + 1, sizeof *name_off);
	fwd_off = calloc(nfunc + 1, sizeof *fwd_off);
	if (!funcs || !name_rvas || !ords || !name_off || !fwd_off) {
		rc = pe_fail(pe, SYM_E_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = pe_read_alloc(pe, afunc, nfunc * 4, &raw)) < 0)
		goto out;
	for (uint32_t i = 0; i < nfunc; i++)
		funcs[i] = sym_le32(raw + 4 * i);
	free(raw);
	if ((rc = pe_read_alloc(pe, aname, nname * 4, &raw)) < 0)
		goto out;
	for (uint32_t i = 0; i < nname; i++)
		name_rvas[i] = sym_le32(raw + 4 * i);
	free(raw);
	if ((rc = pe_read_alloc(pe, aord, nname * 2, &raw)) < 0)
		goto out;
	for (uint32_t i = 0; i < nname; i++)
		ords[i] = sym_le16(raw + 2 * i);
	free(raw);

	/* one read covering every name string */
	uint32_t lo = UINT32_MAX, hi = 0;
	for (uint32_t i = 0; i < nname; i++) {
		if (name_rvas[i] < lo)
			lo = name_rvas[i];
		if (name_rvas[i] > hi)
			hi = name_rvas[i];
	}
	uint32_t span = 0;
	if (nname) {
		/* the last name ends within 512 bytes and inside its section;
		 * reading past the section would hit unbacked/unmapped bytes */
		uint64_t end = (uint64_t)hi + 512;
		for (size_t i = 0; i < pe->nsections; i++) {
			const pe_section *sec = &pe->sections[i];
			uint64_t sz = sec->virtual_size > sec->raw_size ? sec->virtual_size : sec->raw_size;
			if (hi >= sec->virtual_address && hi - sec->virtual_address < sz &&
			    sec->virtual_address + sz < end)
				end = sec->virtual_address + sz;
		}
		if (pe->size_of_image && end > pe->size_of_image)
			end = pe->size_of_image > hi ? pe->size_of_image : (uint64_t)hi + 1;
		if (end - lo > PE_MAX_NAME_SPAN) {
			rc = pe_fail(pe, SYM_E_FORMAT, "export names spread over %llu bytes",
			             (unsigned long long)(end - lo));
			goto out;
		}
		span = (uint32_t)(end - lo);
		/* the tail past the last name may be unreadable: shrink until ok */
		while ((rc = pe_read_alloc(pe, lo, span, &names)) < 0) {
			if (span <= hi - lo + 1)
				goto out;
			span = (span - (hi - lo + 1)) / 2 + (hi - lo + 1);
		}
	}

	for (uint32_t i = 0; i < nfunc; i++)
		name_off[i] = fwd_off[i] = -1;
	/* forwarders: function RVA inside the export directory is a string */
	for (uint32_t i = 0; i < nfunc; i++) {
		if (funcs[i] >= drva && funcs[i] - drva < dsize) {
			long o = pool_add(&pool, dir + (funcs[i] - drva), dsize - (funcs[i] - drva));
			if (o == -2) {
				rc = pe_fail(pe, SYM_E_NOMEM, "out of memory");
				goto out;
			}
			fwd_off[i] = o;
		}
	}
	size_t count = 0, cap = (size_t)nfunc + nname;
	pe->exports = calloc(cap ? cap : 1, sizeof *pe->exports);
	long *e_name = calloc(cap ? cap : 1, sizeof(long)), *e_fwd = calloc(cap ? cap : 1, sizeof(long));
	uint8_t *named = calloc(nfunc + 1, 1);
	if (!pe->exports || !e_name || !e_fwd || !named) {
		free(e_name);
		free(e_fwd);
		free(named);
		rc = pe_fail(pe, SYM_E_NOMEM, "out of memory");
		goto out;
	}
	for (uint32_t j = 0; j < nname; j++) {
		uint32_t fi = ords[j];
		if (fi >= nfunc)
			continue;   /* hostile ordinal: skip, as the loader would fail it */
		long o = pool_add(&pool, names + (name_rvas[j] - lo), span - (name_rvas[j] - lo));
		if (o < 0)
			continue;
		named[fi] = 1;
		pe_export *e = &pe->exports[count];
		e->ordinal = base + fi;
		e->rva = fwd_off[fi] >= 0 ? 0 : funcs[fi];
		e_name[count] = o;
		e_fwd[count] = fwd_off[fi];
		count++;
	}
	for (uint32_t i = 0; i < nfunc; i++) {
		if (named[i] || !funcs[i])
			continue;
		pe_export *e = &pe->exports[count];
		e->ordinal = base + i;
		e->rva = fwd_off[i] >= 0 ? 0 : funcs[i];
		e_name[count] = -1;
		e_fwd[count] = fwd_off[i];
		count++;
	}
	pe->export_strings = pool.buf;
	pool.buf = NULL;
	for (size_t i = 0; i < count; i++) {
		pe->exports[i].name = e_name[i] >= 0 ? pe->export_strings + e_name[i] : NULL;
		pe->exports[i].forwarder = e_fwd[i] >= 0 ? pe->export_strings + e_fwd[i] : NULL;
	}
	free(e_name);
	free(e_fwd);
	free(named);
	pe->nexports = count;
	/* name index for pe_find_export */
	size_t nn = 0;
	pe->export_by_name = calloc(count ? count : 1, sizeof(uint32_t));
	if (!pe->export_by_name) {
		rc = pe_fail(pe, SYM_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < count; i++)
		if (pe->exports[i].name)
			pe->export_by_name[nn++] = (uint32_t)i;
	qsort_r(pe->export_by_name, nn, sizeof(uint32_t), cmp_export_name, pe->exports);
	rc = (int)nn;   /* number of named entries, stored below */
out:
	free(dir);
	free(names);
	free(funcs);
	free(name_rvas);
	free(ords);
	free(name_off);
	free(fwd_off);
	free(pool.buf);
	return rc;
}

static int ensure_exports(pe_image *pe)
{
	if (pe->exports_state == 0) {
		int rc = load_exports(pe);
		if (rc < 0) {
			free(pe->exports);
			pe->exports = NULL;
			pe->nexports = 0;
			pe->exports_state = rc;
		} else {
			pe->exports_state = 1;
			pe->exports_named = (size_t)rc;
		}
	}
	return pe->exports_state < 0 ? pe->exports_state : 0;
}

int pe_export_count(pe_image *pe)
{
	int rc = ensure_exports(pe);
	return rc < 0 ? rc : (int)pe->nexports;
}

int pe_export_at(pe_image *pe, size_t i, pe_export *out)
{
	int rc = ensure_exports(pe);
	if (rc < 0)
		return rc;
	if (i >= pe->nexports)
		return SYM_E_NOTFOUND;
	*out = pe->exports[i];
	return 0;
}

int pe_find_export(pe_image *pe, const char *name, pe_export *out)
{
	int rc = ensure_exports(pe);
	if (rc < 0)
		return rc;
	size_t lo = 0, hi = pe->exports_named;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const pe_export *e = &pe->exports[pe->export_by_name[mid]];
		int c = strcmp(e->name, name);
		if (c == 0) {
			*out = *e;
			return 0;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return pe_fail(pe, SYM_E_NOTFOUND, "no export named %s", name);
}
