/*
 * pe_debug.c - the debug directory's CodeView record: RSDS (PDB 7.0:
 * GUID + age + path) or NB10 (PDB 2.0: signature + age + path).  This is
 * what ties an image to the one PDB that describes it.
 */
#include <stdlib.h>

#include "pe_internal.h"

#define IMAGE_DEBUG_TYPE_CODEVIEW 2
#define PE_MAX_DEBUG_ENTRIES 64
#define PE_MAX_CV_BYTES 4096

/* The CodeView blob: image layout reads AddressOfRawData; a file may not
 * map it (AddressOfRawData 0), so files use PointerToRawData. */
static int pe_read_cv(pe_image *pe, uint32_t addr, uint32_t fileoff, uint8_t *buf, size_t len)
{
	if (!pe->read && fileoff) {
		if (!sym_in_bounds(pe->file_len, fileoff, len))
			return pe_fail(pe, SYM_E_FORMAT, "CodeView record past end of file");
		memcpy(buf, pe->file + fileoff, len);
		return 0;
	}
	if (!addr)
		return pe_fail(pe, SYM_E_FORMAT, "CodeView record not mapped");
	return pe_read_rva(pe, addr, buf, len);
}

static int pe_parse_cv(pe_image *pe, const uint8_t *b, size_t n, pe_codeview_info *out)
{
	size_t name_off;
	memset(out, 0, sizeof *out);
	if (n >= 24 && memcmp(b, "RSDS", 4) == 0) {
		out->is_rsds = 1;
		memcpy(out->guid, b + 4, 16);
		out->age = sym_le32(b + 20);
		name_off = 24;
	} else if (n >= 16 && memcmp(b, "NB10", 4) == 0) {
		out->signature = sym_le32(b + 8);
		out->age = sym_le32(b + 12);
		name_off = 16;
	} else {
		return pe_fail(pe, SYM_E_FORMAT, "unknown CodeView record signature");
	}
	size_t nl = 0;
	while (name_off + nl < n && b[name_off + nl] && nl < sizeof out->pdb_name - 1)
		nl++;
	memcpy(out->pdb_name, b + name_off, nl);
	out->pdb_name[nl] = 0;
	return 0;
}

int pe_codeview(pe_image *pe, pe_codeview_info *out)
{
	uint32_t rva = pe->dir_rva[PE_DIR_DEBUG], size = pe->dir_size[PE_DIR_DEBUG];
	if (!rva || size < 28)
		return pe_fail(pe, SYM_E_NOTFOUND, "image has no debug directory");
	size_t n = size / 28;
	if (n > PE_MAX_DEBUG_ENTRIES)
		n = PE_MAX_DEBUG_ENTRIES;
	uint8_t *dir;
	int rc = pe_read_alloc(pe, rva, (uint32_t)(n * 28), &dir);
	if (rc < 0)
		return rc;
	rc = pe_fail(pe, SYM_E_NOTFOUND, "image has no CodeView debug record");
	for (size_t i = 0; i < n; i++) {
		const uint8_t *e = dir + 28 * i;
		if (sym_le32(e + 12) != IMAGE_DEBUG_TYPE_CODEVIEW)
			continue;
		uint32_t len = sym_le32(e + 16);
		if (len < 16 || len > PE_MAX_CV_BYTES) {
			rc = pe_fail(pe, SYM_E_FORMAT, "CodeView record size %u implausible", len);
			continue;
		}
		uint8_t cv[PE_MAX_CV_BYTES];
		rc = pe_read_cv(pe, sym_le32(e + 20), sym_le32(e + 24), cv, len);
		if (rc < 0)
			continue;
		rc = pe_parse_cv(pe, cv, len, out);
		if (rc == 0)
			break;
	}
	free(dir);
	return rc;
}
