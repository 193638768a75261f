/*
 * symsrv_cab.c - ".pd_"/".dl_"/".sy_" files: symstore's compressed form is
 * a CAB holding one file (symstore add /compress).  libmspack does the
 * decompression (MSZIP, LZX, Quantum).  The name stored inside the CAB is
 * ignored: the output name is always the one the caller chose inside the
 * store, so a hostile CAB cannot pick where it is written.
 */
#include <stdio.h>

#include <mspack.h>

#include "symsrv_internal.h"

int symsrv_cab_extract(const char *cab_path, const char *out_path, char *err, size_t errlen)
{
	int ok = 0;
	struct mscab_decompressor *d = mspack_create_cab_decompressor(NULL);
	if (!d) {
		snprintf(err, errlen, "libmspack: cannot create a CAB decompressor");
		return SYM_E_FAIL;
	}
	struct mscabd_cabinet *cab = d->open(d, (char *)cab_path);
	if (!cab) {
		snprintf(err, errlen, "%s: not a valid CAB file (libmspack error %d)", cab_path,
		         d->last_error(d));
		mspack_destroy_cab_decompressor(d);
		return SYM_E_FORMAT;
	}
	if (!cab->files) {
		snprintf(err, errlen, "%s: CAB holds no file", cab_path);
	} else if (cab->files->next) {
		snprintf(err, errlen, "%s: CAB holds more than one file; not a symstore file", cab_path);
	} else {
		int rc = d->extract(d, cab->files, (char *)out_path);
		if (rc != MSPACK_ERR_OK)
			snprintf(err, errlen, "%s: decompression failed (libmspack error %d)", cab_path, rc);
		else
			ok = 1;
	}
	d->close(d, cab);
	mspack_destroy_cab_decompressor(d);
	return ok ? 0 : SYM_E_FORMAT;
}
