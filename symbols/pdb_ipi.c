/*
 * pdb_ipi.c - the IPI stream (stream 4): id records.  Procedures emitted as
 * S_GPROC32_ID / S_LPROC32_ID (clang, recent MSVC) carry an IPI id
 * (LF_FUNC_ID / LF_MFUNC_ID) instead of a type index; this maps the id to
 * the function's TPI type so every pdb_symbol.type_index is a TPI index.
 */
#include <stdlib.h>

#include "pdb_internal.h"

#define PDB_IPI_STREAM 4
#define IPI_HEADER_MIN 56
#define LF_FUNC_ID     0x1601
#define LF_MFUNC_ID    0x1602

static int load_ipi(pdb_file *pdb)
{
	const uint8_t *d;
	uint32_t n;
	if (pdb_stream(pdb, PDB_IPI_STREAM, &d, &n) < 0 || n == 0)
		return 0;   /* old PDBs have no IPI: nothing to map */
	if (n < IPI_HEADER_MIN)
		return pdb_fail(pdb, SYM_E_FORMAT, "IPI stream truncated (%u bytes)", n);
	uint32_t hdr = sym_le32(d + 4), begin = sym_le32(d + 8), end = sym_le32(d + 12);
	uint32_t bytes = sym_le32(d + 16);
	if (hdr < IPI_HEADER_MIN || hdr > n || bytes > n - hdr || begin < 0x1000 || end < begin ||
	    end - begin > bytes / 4)
		return pdb_fail(pdb, SYM_E_FORMAT, "IPI header malformed");
	uint32_t count = end - begin;
	pdb->ipi_off = malloc(((size_t)count + 1) * sizeof(uint32_t));
	if (!pdb->ipi_off)
		return pdb_fail(pdb, SYM_E_NOMEM, "out of memory");
	const uint8_t *rec = d + hdr;
	uint32_t pos = 0;
	for (uint32_t i = 0; i < count; i++) {
		if (pos + 4 > bytes)
			return pdb_fail(pdb, SYM_E_FORMAT, "IPI: only %u of %u records present", i, count);
		uint16_t reclen = sym_le16(rec + pos);
		if (reclen < 2 || (uint32_t)reclen + 2 > bytes - pos)
			return pdb_fail(pdb, SYM_E_FORMAT, "IPI: record %#x runs past the end", begin + i);
		pdb->ipi_off[i] = pos;
		pos += reclen + 2u;
	}
	pdb->ipi = rec;
	pdb->ipi_begin = begin;
	pdb->ipi_end = end;
	return 0;
}

int pdb_load_ipi(pdb_file *pdb)
{
	if (pdb->ipi_state == 0) {
		int rc = load_ipi(pdb);
		pdb->ipi_state = rc < 0 ? rc : 1;
	}
	return pdb->ipi_state < 0 ? pdb->ipi_state : 0;
}

uint32_t pdb_ipi_function_type(pdb_file *pdb, uint32_t id)
{
	if (pdb_load_ipi(pdb) < 0 || id < pdb->ipi_begin || id >= pdb->ipi_end)
		return 0;
	const uint8_t *r = pdb->ipi + pdb->ipi_off[id - pdb->ipi_begin];
	uint16_t reclen = sym_le16(r), leaf = sym_le16(r + 2);
	/* LF_FUNC_ID: scope, type, name; LF_MFUNC_ID: class, type, name */
	if ((leaf != LF_FUNC_ID && leaf != LF_MFUNC_ID) || reclen < 2 + 8)
		return 0;
	return sym_le32(r + 8);
}
