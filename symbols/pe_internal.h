/*
 * pe_internal.h - internal: the PE image object shared by pe.c (headers,
 * sections, RVA reads), pe_exports.c, pe_debug.c and pe_pdata.c.
 */
#ifndef SYMBOLS_PE_INTERNAL_H
#define SYMBOLS_PE_INTERNAL_H

#include "symbols.h"
#include "sym_bytes.h"

#define PE_DIR_EXPORT    0
#define PE_DIR_EXCEPTION 3
#define PE_DIR_DEBUG     6
#define PE_NUM_DIRS      16

struct pe_image {
	/* file layout: the whole file (mapped or caller's buffer) */
	const uint8_t *file;
	size_t file_len;
	size_t map_len;          /* nonzero: munmap(file, map_len) at close */
	/* image layout in target memory */
	pe_read_fn read;
	void *read_ctx;
	uint64_t load_base;

	uint16_t machine;
	int plus;                /* PE32+ */
	uint64_t image_base;
	uint32_t size_of_image, size_of_headers, timestamp, entry, checksum;
	uint32_t dir_rva[PE_NUM_DIRS], dir_size[PE_NUM_DIRS];
	pe_section *sections;
	size_t nsections;

	/* exports, loaded on first use (pe_exports.c) */
	int exports_state;       /* 0 not loaded, 1 loaded, <0 error code */
	pe_export *exports;
	size_t nexports;
	char *export_strings;    /* names + forwarders, owned */
	uint32_t *export_by_name;/* indexes sorted by name */
	size_t exports_named;    /* entries in export_by_name */

	/* .pdata, loaded on first use (pe_pdata.c): begin,end,unwind triples */
	int pdata_state;
	uint32_t *pdata;
	size_t npdata;

	char errmsg[256];
};

/* Record a message in the object; returns code for tail calls. */
int pe_fail(pe_image *pe, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Read a whole directory (capped) into a malloc'd buffer. */
int pe_read_alloc(pe_image *pe, uint32_t rva, uint32_t len, uint8_t **out);

#endif
