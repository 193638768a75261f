/*
 * symsrv_verify.c - a file found in a store (or downloaded) is used only if
 * it is the one asked for: a PDB's GUID and age, an image's TimeDateStamp
 * and SizeOfImage.  Servers do hand out truncated or wrong files, and a
 * wrong PDB silently produces wrong names and wrong structure offsets.
 */
#include <stdio.h>
#include <string.h>

#include "symsrv_internal.h"

int symsrv_verify(const sym_file_id *id, const char *path, char *err, size_t errlen)
{
	char e[256] = "";
	if (id->is_image) {
		pe_image *pe;
		int rc = pe_open_file(path, &pe, e, sizeof e);
		if (rc < 0) {
			snprintf(err, errlen, "%s: not a usable image: %s", path, e);
			return rc;
		}
		uint32_t ts = pe_timestamp(pe), sz = pe_size_of_image(pe);
		pe_close(pe);
		if (ts != id->timestamp || sz != id->size_of_image) {
			snprintf(err, errlen,
			         "%s: image mismatch (TimeDateStamp %08X SizeOfImage %x, wanted %08X %x)",
			         path, ts, sz, id->timestamp, id->size_of_image);
			return SYM_E_FORMAT;
		}
		return 0;
	}
	pdb_file *pdb;
	int rc = pdb_open(path, &pdb, e, sizeof e);
	if (rc < 0) {
		snprintf(err, errlen, "%s: not a usable PDB: %s", path, e);
		return rc;
	}
	uint8_t guid[16];
	uint32_t age = 0;
	rc = pdb_guid_age(pdb, guid, &age);
	if (rc < 0) {
		snprintf(err, errlen, "%s: no PDB info stream: %s", path, pdb_errmsg(pdb));
		pdb_close(pdb);
		return rc;
	}
	pdb_close(pdb);
	if (memcmp(guid, id->guid, 16) != 0 || age != id->age) {
		sym_file_id got = *id;
		char want_key[64], got_key[64];
		memcpy(got.guid, guid, 16);
		got.age = age;
		sym_file_id_key(id, want_key, sizeof want_key);
		sym_file_id_key(&got, got_key, sizeof got_key);
		snprintf(err, errlen, "%s: GUID/age mismatch (file has %s, image wants %s)", path,
		         got_key, want_key);
		return SYM_E_FORMAT;
	}
	return 0;
}
