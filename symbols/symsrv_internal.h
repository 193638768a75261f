/*
 * symsrv_internal.h - shared between sympath.c and the symsrv_*.c files
 * (symbol path, symbol stores, downloads, CAB).  Not part of the public
 * interface; see the S2 section of symbols.h for that.
 */
#ifndef KDSYMBOLS_SYMSRV_INTERNAL_H
#define KDSYMBOLS_SYMSRV_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "symbols.h"

typedef struct sym_elem {
	sym_elem_kind kind;
	char *dir;             /* DIR, CACHE */
	char **stores;         /* SRV: "" = default downstream store */
	size_t nstores;
} sym_elem;

struct sym_path {
	sym_elem *elems;
	size_t nelems;
	char *text;            /* canonical text, as .sympath prints it */
	char *default_cache;   /* for "srv**url" and chains without a local store */
	sym_progress_fn progress;
	sym_log_fn log;
	void *cbctx;
	long connect_timeout_s;
	long timeout_s;
	int verify_tls;        /* always 1 unless a test turns it off */
	/* Servers probed for index2.txt (two-tier layout), once per path. */
	struct sym_tier_probe {
		char *url;
		int two_tier;
	} *probes;
	size_t nprobes;
	char err[512];
};

/* sympath.c */
void symp_seterr(struct sym_path *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void symp_log(struct sym_path *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int symp_is_url(const char *s);

/* symsrv_file.c: filesystem helpers that keep writes inside a store. */
int symsrv_mkdirs_under(const char *root, const char *rel, char *err, size_t errlen);
int symsrv_tempfile(const char *dir, char *path, size_t len, int *fd);
int symsrv_copy_into(const char *src, const char *root, const char *rel, char *out, size_t outlen,
                     char *err, size_t errlen);
int symsrv_is_file(const char *path);

/* symsrv_http.c: 1 found (written to dest_fd), 0 not found (404/410), <0 error. */
int symsrv_http_get(struct sym_path *p, const char *url, int dest_fd);

/* symsrv_cab.c: decompress the first file of a CAB (.pd_/.dl_/.sy_) into out_path. */
int symsrv_cab_extract(const char *cab_path, const char *out_path, char *err, size_t errlen);

/* symsrv_verify.c: 0 match, <0 with err set (mismatch, not a PDB/PE, ...). */
int symsrv_verify(const sym_file_id *id, const char *path, char *err, size_t errlen);

#endif
