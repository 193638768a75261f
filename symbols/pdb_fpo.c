/*
 * pdb_fpo.c - x86 frame information for the stack walker: old FPO
 * (FPO_DATA, 16 bytes, DBI debug stream 0) and new FPO (FRAMEDATA, 32
 * bytes, DBI debug stream 9) whose frame programs ("$T0 $ebp = ...") live
 * in the "/names" string table.
 */
#include <stdlib.h>

#include "pdb_internal.h"

static int cmp_fpo(const void *a, const void *b)
{
	const pdb_fpo *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int cmp_frame(const void *a, const void *b)
{
	const pdb_frame_data *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int load_fpo(pdb_file *pdb)
{
	int rc = pdb_load_dbi(pdb);
	if (rc < 0)
		return rc;
	const uint8_t *d;
	uint32_t n;
	uint16_t s = pdb->dbg_streams[PDB_DBG_FPO];
	if (s != PDB_NIL_STREAM && pdb_stream(pdb, s, &d, &n) == 0) {
		pdb->nfpo = n / 16;
		pdb->fpo = calloc(pdb->nfpo + 1, sizeof *pdb->fpo);
		if (!pdb->fpo)
			return pdb_fail(pdb, SYM_E_NOMEM, "out of memory");
		for (uint32_t i = 0; i < pdb->nfpo; i++) {
			const uint8_t *r = d + 16 * i;
			pdb_fpo *f = &pdb->fpo[i];
			f->start = sym_le32(r);
			f->size = sym_le32(r + 4);
			f->locals = sym_le32(r + 8);
			f->params = sym_le16(r + 12);
			uint16_t bits = sym_le16(r + 14);
			f->prolog = bits & 0xff;
			f->saved_regs = (bits >> 8) & 7;
			f->has_seh = (bits >> 11) & 1;
			f->uses_bp = (bits >> 12) & 1;
			f->frame_type = (bits >> 14) & 3;
		}
		qsort(pdb->fpo, pdb->nfpo, sizeof *pdb->fpo, cmp_fpo);
	}
	s = pdb->dbg_streams[PDB_DBG_NEW_FPO];
	if (s != PDB_NIL_STREAM && pdb_stream(pdb, s, &d, &n) == 0) {
		pdb_load_strtab(pdb);
		pdb->nframes = n / 32;
		pdb->frames = calloc(pdb->nframes + 1, sizeof *pdb->frames);
		if (!pdb->frames)
			return pdb_fail(pdb, SYM_E_NOMEM, "out of memory");
		for (uint32_t i = 0; i < pdb->nframes; i++) {
			const uint8_t *r = d + 32 * i;
			pdb_frame_data *f = &pdb->frames[i];
			f->start = sym_le32(r);
			f->code_size = sym_le32(r + 4);
			f->locals_size = sym_le32(r + 8);
			f->params_size = sym_le32(r + 12);
			f->max_stack = sym_le32(r + 16);
			uint32_t prog = sym_le32(r + 20);
			f->prolog_size = sym_le16(r + 24);
			f->saved_regs_size = sym_le16(r + 26);
			f->flags = sym_le32(r + 28);
			/* the program is a string table offset; 0 or a bad
			 * offset means "no program" rather than garbage */
			if (prog && pdb->strtab && prog < pdb->strtab_len &&
			    memchr(pdb->strtab + prog, 0, pdb->strtab_len - prog))
				f->program = (const char *)pdb->strtab + prog;
		}
		qsort(pdb->frames, pdb->nframes, sizeof *pdb->frames, cmp_frame);
	}
	return 0;
}

static int ensure_fpo(pdb_file *pdb)
{
	if (pdb->fpo_state == 0) {
		int rc = load_fpo(pdb);
		pdb->fpo_state = rc < 0 ? rc : 1;
	}
	return pdb->fpo_state < 0 ? pdb->fpo_state : 0;
}

int pdb_fpo_count(pdb_file *pdb)
{
	int rc = ensure_fpo(pdb);
	return rc < 0 ? rc : (int)pdb->nfpo;
}

int pdb_fpo_at(pdb_file *pdb, size_t i, pdb_fpo *out)
{
	int rc = ensure_fpo(pdb);
	if (rc < 0)
		return rc;
	if (i >= pdb->nfpo)
		return SYM_E_NOTFOUND;
	*out = pdb->fpo[i];
	return 0;
}

int pdb_find_fpo(pdb_file *pdb, uint32_t rva, pdb_fpo *out)
{
	int rc = ensure_fpo(pdb);
	if (rc < 0)
		return rc;
	uint32_t lo = 0, hi = pdb->nfpo;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (pdb->fpo[mid].start <= rva)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo && rva - pdb->fpo[lo - 1].start < pdb->fpo[lo - 1].size) {
		*out = pdb->fpo[lo - 1];
		return 0;
	}
	return pdb_fail(pdb, SYM_E_NOTFOUND, "no FPO record covers RVA %#x", rva);
}

int pdb_frame_data_count(pdb_file *pdb)
{
	int rc = ensure_fpo(pdb);
	return rc < 0 ? rc : (int)pdb->nframes;
}

int pdb_frame_data_at(pdb_file *pdb, size_t i, pdb_frame_data *out)
{
	int rc = ensure_fpo(pdb);
	if (rc < 0)
		return rc;
	if (i >= pdb->nframes)
		return SYM_E_NOTFOUND;
	*out = pdb->frames[i];
	return 0;
}

int pdb_find_frame_data(pdb_file *pdb, uint32_t rva, pdb_frame_data *out)
{
	int rc = ensure_fpo(pdb);
	if (rc < 0)
		return rc;
	uint32_t lo = 0, hi = pdb->nframes;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (pdb->frames[mid].start <= rva)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* entries can nest (a function and its prolog/body pieces): the
	 * closest start that still covers rva wins */
	for (uint32_t k = lo; k > 0 && k + 8 > lo; k--) {
		const pdb_frame_data *f = &pdb->frames[k - 1];
		if (rva - f->start < f->code_size) {
			*out = *f;
			return 0;
		}
	}
	return pdb_fail(pdb, SYM_E_NOTFOUND, "no frame data covers RVA %#x", rva);
}
