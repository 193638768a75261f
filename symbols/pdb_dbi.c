/*
 * pdb_dbi.c - the DBI stream (stream 3): header (age, machine, the streams
 * of globals, publics and symbol records), the module list (each module's
 * symbol stream holds its procedures), and the optional debug header's
 * streams: section headers (segment:offset -> RVA), OMAP, FPO, frame data.
 */
#include <stdlib.h>

#include "pdb_internal.h"

#define PDB_DBI_STREAM 3
#define DBI_HEADER_SIZE 64
#define MODI_FIXED_SIZE 64

static int parse_sections(pdb_file *pdb, uint16_t stream, pe_section **out, uint32_t *count)
{
	const uint8_t *d;
	uint32_t n;
	*out = NULL;
	*count = 0;
	if (stream == PDB_NIL_STREAM)
		return 0;
	if (pdb_stream(pdb, stream, &d, &n) < 0)
		return pdb_fail(pdb, SYM_E_FORMAT, "section header stream %u missing", stream);
	uint32_t k = n / 40;
	pe_section *s = calloc(k + 1, sizeof *s);
	if (!s)
		return pdb_fail(pdb, SYM_E_NOMEM, "out of memory");
	for (uint32_t i = 0; i < k; i++) {
		const uint8_t *h = d + 40 * i;
		memcpy(s[i].name, h, 8);
		s[i].name[8] = 0;
		s[i].virtual_size = sym_le32(h + 8);
		s[i].virtual_address = sym_le32(h + 12);
		s[i].raw_size = sym_le32(h + 16);
		s[i].raw_offset = sym_le32(h + 20);
		s[i].characteristics = sym_le32(h + 36);
	}
	*out = s;
	*count = k;
	return 0;
}

static int parse_modules(pdb_file *pdb, const uint8_t *d, uint32_t n)
{
	/* two passes: count, then fill; names point into the cached stream */
	uint32_t cap = n / MODI_FIXED_SIZE + 1;
	pdb->modules = calloc(cap, sizeof *pdb->modules);
	if (!pdb->modules)
		return pdb_fail(pdb, SYM_E_NOMEM, "out of memory");
	sym_cursor c;
	sym_cur_init(&c, d, n);
	while (c.pos < n && pdb->nmodules < cap) {
		size_t start = c.pos;
		sym_cur_skip(&c, 4 + 28 + 2);       /* Unused1, SC, Flags */
		uint16_t stream = sym_cur_u16(&c);
		uint32_t symbytes = sym_cur_u32(&c);
		uint32_t c11 = sym_cur_u32(&c), c13 = sym_cur_u32(&c);
		sym_cur_skip(&c, 2 + 2 + 4 + 4 + 4);
		const char *name = sym_cur_str(&c);
		const char *obj = sym_cur_str(&c);
		if (c.bad)
			return pdb_fail(pdb, SYM_E_FORMAT, "DBI module record %u truncated at %zu",
			                pdb->nmodules, start);
		c.pos = (c.pos + 3) & ~(size_t)3;
		if (c.pos > n)
			c.pos = n;
		pdb_module *m = &pdb->modules[pdb->nmodules++];
		m->name = name;
		m->obj_name = obj;
		m->sym_stream = stream;
		m->sym_bytes = symbytes;
		m->c11_bytes = c11;
		m->c13_bytes = c13;
	}
	return 0;
}

/* Section contributions: which module produced which bytes of each
 * section.  Version 6.0 entries are 28 bytes, V2 (2014) add a COFF
 * section index (32 bytes). */
#define SC_VER60 (0xeffe0000u + 19970605u)
#define SC_VER2  (0xeffe0000u + 20140516u)

static int cmp_contrib(const void *a, const void *b)
{
	const pdb_contribution *x = a, *y = b;
	return x->rva < y->rva ? -1 : x->rva > y->rva;
}

static int parse_contributions(pdb_file *pdb, const uint8_t *d, uint32_t n)
{
	if (n < 4)
		return 0;
	uint32_t ver = sym_le32(d);
	uint32_t esize = ver == SC_VER60 ? 28 : ver == SC_VER2 ? 32 : 0;
	if (!esize)
		return 0;   /* unknown layout: contributions are optional */
	uint32_t count = (n - 4) / esize;
	pdb->contribs = calloc((size_t)count + 1, sizeof *pdb->contribs);
	if (!pdb->contribs)
		return pdb_fail(pdb, SYM_E_NOMEM, "out of memory");
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = d + 4 + (size_t)esize * i;
		pdb_contribution *c = &pdb->contribs[i];
		c->segment = sym_le16(e);
		c->offset = sym_le32(e + 4);
		c->size = sym_le32(e + 8);
		c->characteristics = sym_le32(e + 12);
		c->module = sym_le16(e + 16);
	}
	pdb->ncontribs = count;
	return 0;
}

static int load_dbi(pdb_file *pdb)
{
	const uint8_t *d;
	uint32_t n;
	for (int i = 0; i < PDB_DBG_COUNT; i++)
		pdb->dbg_streams[i] = PDB_NIL_STREAM;
	pdb->gsi_stream = pdb->psi_stream = pdb->symrec_stream = PDB_NIL_STREAM;
	if (pdb_stream(pdb, PDB_DBI_STREAM, &d, &n) < 0 || n == 0)
		return pdb_fail(pdb, SYM_E_FORMAT, "PDB has no DBI stream");
	if (n < DBI_HEADER_SIZE)
		return pdb_fail(pdb, SYM_E_FORMAT, "DBI stream truncated (%u bytes)", n);
	if (sym_le32(d) != 0xffffffffu)
		return pdb_fail(pdb, SYM_E_FORMAT, "old-format DBI header is not supported");
	pdb->dbi_age = sym_le32(d + 8);
	pdb->gsi_stream = sym_le16(d + 12);
	pdb->psi_stream = sym_le16(d + 16);
	pdb->symrec_stream = sym_le16(d + 20);
	pdb->machine = sym_le16(d + 58);
	uint32_t sizes[8];
	uint64_t total = DBI_HEADER_SIZE;
	for (int i = 0; i < 6; i++)
		sizes[i] = sym_le32(d + 24 + 4 * i);   /* ModInfo..TypeServerMap */
	sizes[6] = sym_le32(d + 52);                /* EC */
	sizes[7] = sym_le32(d + 48);                /* optional debug header */
	for (int i = 0; i < 8; i++) {
		if (sizes[i] > 0x7fffffffu)
			return pdb_fail(pdb, SYM_E_FORMAT, "DBI substream %d has negative size", i);
		total += sizes[i];
	}
	if (total > n)
		return pdb_fail(pdb, SYM_E_FORMAT,
		                "DBI substreams (%llu bytes) run past the stream (%u bytes)",
		                (unsigned long long)total, n);
	int rc = parse_modules(pdb, d + DBI_HEADER_SIZE, sizes[0]);
	if (rc < 0)
		return rc;
	rc = parse_contributions(pdb, d + DBI_HEADER_SIZE + sizes[0], sizes[1]);
	if (rc < 0)
		return rc;
	/* substream order: ModInfo, SectionContrib, SectionMap, SourceInfo,
	 * TypeServerMap, EC, optional debug header (the last one) */
	const uint8_t *dbg = d + total - sizes[7];
	for (uint32_t i = 0; i < PDB_DBG_COUNT && 2 * i + 2 <= sizes[7]; i++)
		pdb->dbg_streams[i] = sym_le16(dbg + 2 * i);

	/* An OMAP'd (post-link optimized) image: symbols use the original
	 * section layout, translated to final RVAs through OMAP-from-source. */
	uint16_t omap_stream = pdb->dbg_streams[PDB_DBG_OMAP_FROM_SRC];
	uint16_t sect_stream = pdb->dbg_streams[PDB_DBG_SECTION_HDR];
	if (omap_stream != PDB_NIL_STREAM && pdb->dbg_streams[PDB_DBG_SECTION_HDR_ORIG] != PDB_NIL_STREAM) {
		const uint8_t *o;
		uint32_t on;
		if (pdb_stream(pdb, omap_stream, &o, &on) == 0 && on >= 8) {
			pdb->nomap = on / 8;
			pdb->omap = malloc((size_t)pdb->nomap * 8);
			if (!pdb->omap)
				return pdb_fail(pdb, SYM_E_NOMEM, "out of memory");
			for (uint32_t i = 0; i < 2 * pdb->nomap; i++)
				pdb->omap[i] = sym_le32(o + 4 * i);
			sect_stream = pdb->dbg_streams[PDB_DBG_SECTION_HDR_ORIG];
		}
	}
	rc = parse_sections(pdb, sect_stream, &pdb->sections, &pdb->nsections);
	if (rc < 0)
		return rc;
	/* RVAs need the section headers; a sorted copy answers "which module
	 * is this address in" */
	pdb->contribs_by_rva = malloc(((size_t)pdb->ncontribs + 1) * sizeof *pdb->contribs_by_rva);
	if (!pdb->contribs_by_rva)
		return pdb_fail(pdb, SYM_E_NOMEM, "out of memory");
	uint32_t k = 0;
	for (uint32_t i = 0; i < pdb->ncontribs; i++) {
		pdb_contribution *c = &pdb->contribs[i];
		c->rva = pdb_segoff_to_rva(pdb, c->segment, c->offset);
		if (c->rva && c->size && c->size < 0x80000000u)
			pdb->contribs_by_rva[k++] = *c;
	}
	qsort(pdb->contribs_by_rva, k, sizeof *pdb->contribs_by_rva, cmp_contrib);
	pdb->ncontribs_by_rva = k;
	return 0;
}

int pdb_module_count(pdb_file *pdb)
{
	int rc = pdb_load_dbi(pdb);
	return rc < 0 ? rc : (int)pdb->nmodules;
}

int pdb_module_at(pdb_file *pdb, size_t i, pdb_module_info *out)
{
	int rc = pdb_load_dbi(pdb);
	if (rc < 0)
		return rc;
	if (i >= pdb->nmodules)
		return SYM_E_NOTFOUND;
	out->name = pdb->modules[i].name;
	out->obj_name = pdb->modules[i].obj_name;
	out->sym_stream = pdb->modules[i].sym_stream;
	out->sym_bytes = pdb->modules[i].sym_bytes;
	return 0;
}

int pdb_contribution_count(pdb_file *pdb)
{
	int rc = pdb_load_dbi(pdb);
	return rc < 0 ? rc : (int)pdb->ncontribs;
}

int pdb_contribution_at(pdb_file *pdb, size_t i, pdb_contribution *out)
{
	int rc = pdb_load_dbi(pdb);
	if (rc < 0)
		return rc;
	if (i >= pdb->ncontribs)
		return SYM_E_NOTFOUND;
	*out = pdb->contribs[i];
	return 0;
}

int pdb_contribution_of(pdb_file *pdb, uint32_t rva, pdb_contribution *out)
{
	int rc = pdb_load_dbi(pdb);
	if (rc < 0)
		return rc;
	uint32_t lo = 0, hi = pdb->ncontribs_by_rva;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (pdb->contribs_by_rva[mid].rva <= rva)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo && rva - pdb->contribs_by_rva[lo - 1].rva < pdb->contribs_by_rva[lo - 1].size) {
		*out = pdb->contribs_by_rva[lo - 1];
		return 0;
	}
	return pdb_fail(pdb, SYM_E_NOTFOUND, "no section contribution covers RVA %#x", rva);
}

int pdb_load_dbi(pdb_file *pdb)
{
	if (pdb->dbi_state == 0) {
		int rc = load_dbi(pdb);
		pdb->dbi_state = rc < 0 ? rc : 1;
	}
	return pdb->dbi_state < 0 ? pdb->dbi_state : 0;
}

uint32_t pdb_segoff_to_rva(pdb_file *pdb, uint16_t seg, uint32_t off)
{
	if (seg == 0 || seg > pdb->nsections)
		return 0;
	uint32_t rva = pdb->sections[seg - 1].virtual_address + off;
	if (!pdb->nomap)
		return rva;
	/* last OMAP entry with from <= rva; "to" 0 means the code was dropped */
	uint32_t lo = 0, hi = pdb->nomap;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (pdb->omap[2 * mid] <= rva)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return 0;
	uint32_t from = pdb->omap[2 * (lo - 1)], to = pdb->omap[2 * (lo - 1) + 1];
	return to ? to + (rva - from) : 0;
}

int pdb_section_count(pdb_file *pdb)
{
	int rc = pdb_load_dbi(pdb);
	return rc < 0 ? rc : (int)pdb->nsections;
}

int pdb_section_at(pdb_file *pdb, size_t i, pe_section *out)
{
	int rc = pdb_load_dbi(pdb);
	if (rc < 0)
		return rc;
	if (i >= pdb->nsections)
		return SYM_E_NOTFOUND;
	*out = pdb->sections[i];
	return 0;
}
