/*
 * pdb.c - opening a PDB: map the file, check the MSF container, read the
 * PDB info stream (stream 1: version, signature, age, GUID and the
 * named-stream map).  Everything else is parsed on first use.
 */
#include <stdlib.h>
#include <sys/mman.h>

#include "pdb_internal.h"
#include "sym_file.h"

#define PDB_INFO_STREAM 1
#define PDB_MAX_NAMED 4096
#define PDB_POPULATE_MAX (256ll << 20)

int pdb_fail(pdb_file *pdb, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(pdb->errmsg, sizeof pdb->errmsg, fmt, ap);
	va_end(ap);
	return code;
}

const char *pdb_errmsg(const pdb_file *pdb)
{
	return pdb ? pdb->errmsg : "no PDB";
}

int pdb_stream(pdb_file *pdb, uint32_t idx, const uint8_t **data, uint32_t *len)
{
	return msf_stream(&pdb->msf, idx, data, len, pdb->errmsg, sizeof pdb->errmsg);
}

static int parse_info(pdb_file *pdb)
{
	const uint8_t *d;
	uint32_t n;
	int rc = pdb_stream(pdb, PDB_INFO_STREAM, &d, &n);
	if (rc < 0)
		return pdb_fail(pdb, SYM_E_FORMAT, "no PDB info stream");
	sym_cursor c;
	sym_cur_init(&c, d, n);
	pdb->info_version = sym_cur_u32(&c);
	pdb->info_signature = sym_cur_u32(&c);
	pdb->info_age = sym_cur_u32(&c);
	if (!sym_cur_need(&c, 16))
		return pdb_fail(pdb, SYM_E_FORMAT, "PDB info stream truncated (%u bytes)", n);
	memcpy(pdb->guid, d + c.pos, 16);
	c.pos += 16;
	/* PDB 7.0 (VC70) and later carry a GUID; older versions are not
	 * what MSF 7.00 files from any supported toolchain contain */
	if (pdb->info_version < 20000404)
		return pdb_fail(pdb, SYM_E_FORMAT, "PDB info version %u predates VC70", pdb->info_version);

	/* named stream map: string buffer, then a serialized hash table of
	 * (string offset, stream index); see llvm's PDB docs, "Named Stream Map" */
	uint32_t strsize = sym_cur_u32(&c);
	if (!sym_cur_need(&c, strsize))
		return pdb_fail(pdb, SYM_E_FORMAT, "named stream map truncated");
	const uint8_t *strs = d + c.pos;
	c.pos += strsize;
	uint32_t size = sym_cur_u32(&c);
	uint32_t cap = sym_cur_u32(&c);
	uint32_t present_words = sym_cur_u32(&c);
	sym_cur_skip(&c, 4 * (size_t)present_words);
	uint32_t deleted_words = sym_cur_u32(&c);
	sym_cur_skip(&c, 4 * (size_t)deleted_words);
	if (c.bad || size > cap || size > PDB_MAX_NAMED)
		return pdb_fail(pdb, SYM_E_FORMAT, "named stream map malformed");
	pdb->named_names = calloc(size + 1, sizeof *pdb->named_names);
	pdb->named_streams = calloc(size + 1, sizeof *pdb->named_streams);
	if (!pdb->named_names || !pdb->named_streams)
		return pdb_fail(pdb, SYM_E_NOMEM, "out of memory");
	for (uint32_t i = 0; i < size; i++) {
		uint32_t key = sym_cur_u32(&c), val = sym_cur_u32(&c);
		if (c.bad)
			return pdb_fail(pdb, SYM_E_FORMAT, "named stream map truncated");
		if (key >= strsize || !memchr(strs + key, 0, strsize - key))
			continue;
		pdb->named_names[pdb->nnamed] = (const char *)strs + key;
		pdb->named_streams[pdb->nnamed++] = val;
	}
	return 0;
}

int pdb_named_stream(pdb_file *pdb, const char *name, uint32_t *idx)
{
	for (uint32_t i = 0; i < pdb->nnamed; i++) {
		if (strcmp(pdb->named_names[i], name) == 0) {
			*idx = pdb->named_streams[i];
			return 0;
		}
	}
	return pdb_fail(pdb, SYM_E_NOTFOUND, "no named stream %s", name);
}

/* The "/names" string table: frame programs and source file names are
 * offsets into it.  Absent or malformed: no strings (callers show none). */
#define NAMES_SIGNATURE 0xeffeeffeu

void pdb_load_strtab(pdb_file *pdb)
{
	uint32_t idx, n;
	const uint8_t *d;
	if (pdb->strtab_state)
		return;
	pdb->strtab_state = 1;
	if (pdb_named_stream(pdb, "/names", &idx) < 0 || pdb_stream(pdb, idx, &d, &n) < 0 ||
	    n < 12 || sym_le32(d) != NAMES_SIGNATURE)
		return;
	uint32_t size = sym_le32(d + 8);
	if (size > n - 12)
		return;
	pdb->strtab = d + 12;
	pdb->strtab_len = size;
}

const char *pdb_strtab_string(pdb_file *pdb, uint32_t off)
{
	pdb_load_strtab(pdb);
	if (!pdb->strtab || off >= pdb->strtab_len ||
	    !memchr(pdb->strtab + off, 0, pdb->strtab_len - off))
		return NULL;
	return (const char *)pdb->strtab + off;
}

static int pdb_finish_open(pdb_file *pdb, pdb_file **out, char *err, size_t errlen)
{
	int rc = msf_open(&pdb->msf, pdb->map, pdb->map_len ? pdb->map_len : pdb->msf.len,
	                  err, errlen);
	if (rc == 0) {
		rc = parse_info(pdb);
		if (rc < 0)
			sym_set_err(err, errlen, "%s", pdb->errmsg);
	}
	if (rc < 0) {
		pdb_close(pdb);
		return rc;
	}
	*out = pdb;
	return 0;
}

int pdb_open_memory(const void *buf, size_t len, pdb_file **out, char *err, size_t errlen)
{
	if (!buf || !out) {
		sym_set_err(err, errlen, "invalid argument");
		return SYM_E_INVAL;
	}
	pdb_file *pdb = calloc(1, sizeof *pdb);
	if (!pdb) {
		sym_set_err(err, errlen, "out of memory");
		return SYM_E_NOMEM;
	}
	pdb->map = buf;
	pdb->msf.len = len;
	return pdb_finish_open(pdb, out, err, errlen);
}

int pdb_open(const char *path, pdb_file **out, char *err, size_t errlen)
{
	if (!path || !out) {
		sym_set_err(err, errlen, "invalid argument");
		return SYM_E_INVAL;
	}
	/* MAP_POPULATE: indexing touches most of the file anyway, and one
	 * populate is far cheaper than a page fault per 4 KB (especially in
	 * a VM).  Huge user-mode PDBs stay lazy: only what is used is read. */
	void *map;
	size_t len;
	int rc = sym_map_file(path, (size_t)PDB_POPULATE_MAX, &map, &len, err, errlen);
	if (rc < 0)
		return rc;
	pdb_file *pdb = calloc(1, sizeof *pdb);
	if (!pdb) {
		munmap(map, len);
		sym_set_err(err, errlen, "out of memory");
		return SYM_E_NOMEM;
	}
	pdb->map = map;
	pdb->map_len = len;
	rc = pdb_finish_open(pdb, out, err, errlen);
	if (rc < 0)
		sym_err_prefix_path(err, errlen, path);
	return rc;
}

void pdb_close(pdb_file *pdb)
{
	if (!pdb)
		return;
	msf_close(&pdb->msf);
	if (pdb->map_len)
		munmap((void *)pdb->map, pdb->map_len);
	free(pdb->named_names);
	free(pdb->named_streams);
	free(pdb->modules);
	free(pdb->sections);
	free(pdb->omap);
	free(pdb->contribs);
	free(pdb->contribs_by_rva);
	free(pdb->syms);
	free(pdb->names_pool);
	free(pdb->by_addr);
	free(pdb->addr_rva);
	free(pdb->name_hash);
	free(pdb->procs);
	free(pdb->type_off);
	free(pdb->ipi_off);
	free(pdb->type_hash);
	free(pdb->unique_hash);
	free(pdb->fpo);
	free(pdb->frames);
	free(pdb->lines);
	free(pdb);
}

int pdb_guid_age(pdb_file *pdb, uint8_t guid[16], uint32_t *age)
{
	memcpy(guid, pdb->guid, 16);
	/* images carry the DBI age in their RSDS record; the info stream's
	 * age is bumped on every write and may be ahead of it */
	if (pdb_load_dbi(pdb) == 0 && pdb->dbi_age)
		*age = pdb->dbi_age;
	else
		*age = pdb->info_age;
	return 0;
}

uint16_t pdb_machine(pdb_file *pdb)
{
	if (pdb_load_dbi(pdb) < 0)
		return 0;
	return pdb->machine;
}
