/*
 * symsrv_tool.c - command-line driver of the symbol path code for
 * test_symsrv.py (the server test cannot be written in C without a server,
 * and the python side should not reimplement the lookup).
 *
 *   symsrv_tool key IMAGE                     -> "<pdbname> <KEY>"
 *   symsrv_tool imagekey IMAGE                -> "<KEY>" (TimeDateStamp+SizeOfImage)
 *   symsrv_tool find SYMPATH IMAGE            -> PDB named by the image's RSDS
 *   symsrv_tool findpdb SYMPATH NAME GUID AGE -> GUID as 32 hex digits of the raw bytes
 *   symsrv_tool findimage SYMPATH IMAGE       -> the image itself by TimeDateStamp/SizeOfImage
 *   symsrv_tool symbolize IMAGE PDB ADDR      -> module set at the image base: "mod!sym+0xN"
 *   symsrv_tool lookup IMAGE PDB mod!name     -> its address (hex)
 *
 * find*: prints "FOUND <path>" and exits 0, or "ERROR <code> <message>"
 * and exits 1.  Log lines and download progress go to stderr ("LOG ...",
 * "PROGRESS ...").  SYMSRV_TEST_DEFAULT_CACHE replaces the default
 * downstream store so tests never touch the user's cache.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbols.h"

static void on_log(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "LOG %s\n", msg);
}

static int on_progress(void *ctx, const char *url, uint64_t done, uint64_t total)
{
	(void)ctx;
	if (done)
		fprintf(stderr, "PROGRESS %s %llu %llu\n", url, (unsigned long long)done,
		        (unsigned long long)total);
	/* SYMSRV_TEST_CANCEL: cancel every download (the Ctrl-C path). */
	return getenv("SYMSRV_TEST_CANCEL") != NULL;
}

static int open_cv(const char *image, pe_image **pe, pe_codeview_info *cv)
{
	char err[256];
	if (pe_open_file(image, pe, err, sizeof err) < 0) {
		printf("ERROR %d %s\n", SYM_E_FORMAT, err);
		return -1;
	}
	if (pe_codeview(*pe, cv) < 0) {
		printf("ERROR %d no CodeView record\n", SYM_E_NOTFOUND);
		pe_close(*pe);
		return -1;
	}
	return 0;
}

static int hexbytes(const char *hex, uint8_t out[16])
{
	if (strlen(hex) != 32)
		return -1;
	for (int i = 0; i < 16; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static sym_path *make_path(const char *text)
{
	sym_path *p;
	char err[256];
	if (sym_path_parse(text, &p, err, sizeof err) < 0) {
		printf("ERROR %d %s\n", SYM_E_FORMAT, err);
		return NULL;
	}
	const char *dc = getenv("SYMSRV_TEST_DEFAULT_CACHE");
	if (dc)
		sym_path_set_default_cache(p, dc);
	sym_path_set_callbacks(p, on_progress, on_log, NULL);
	sym_path_set_timeouts(p, 5, 30);
	return p;
}

static int report(sym_path *p, int rc, const char *out)
{
	if (rc == 0)
		printf("FOUND %s\n", out);
	else
		printf("ERROR %d %s\n", rc, sym_path_errmsg(p));
	sym_path_free(p);
	return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	pe_image *pe;
	pe_codeview_info cv;
	char out[4096], key[64], err[256];
	if (argc == 3 && strcmp(argv[1], "key") == 0) {
		if (open_cv(argv[2], &pe, &cv) < 0)
			return 1;
		sym_file_id id;
		if (sym_file_id_pdb(&id, cv.pdb_name, cv.guid, cv.age, err, sizeof err) < 0) {
			printf("ERROR %d %s\n", SYM_E_INVAL, err);
			return 1;
		}
		sym_file_id_key(&id, key, sizeof key);
		printf("%s %s\n", id.name, key);
		pe_close(pe);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "imagekey") == 0) {
		if (pe_open_file(argv[2], &pe, err, sizeof err) < 0)
			return 1;
		sym_file_id id;
		sym_file_id_image(&id, "x.dll", pe_timestamp(pe), pe_size_of_image(pe), err, sizeof err);
		sym_file_id_key(&id, key, sizeof key);
		printf("%s\n", key);
		pe_close(pe);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "find") == 0) {
		sym_path *p = make_path(argv[2]);
		if (!p || open_cv(argv[3], &pe, &cv) < 0)
			return 1;
		int rc = sym_path_find_pdb(p, cv.pdb_name, cv.guid, cv.age, out, sizeof out);
		pe_close(pe);
		return report(p, rc, out);
	}
	if (argc == 4 && strcmp(argv[1], "findimage") == 0) {
		sym_path *p = make_path(argv[2]);
		if (!p || pe_open_file(argv[3], &pe, err, sizeof err) < 0)
			return 1;
		const char *base = strrchr(argv[3], '/');
		int rc = sym_path_find_image(p, base ? base + 1 : argv[3], pe_timestamp(pe),
		                             pe_size_of_image(pe), out, sizeof out);
		pe_close(pe);
		return report(p, rc, out);
	}
	if (argc == 6 && strcmp(argv[1], "findpdb") == 0) {
		uint8_t guid[16];
		sym_path *p = make_path(argv[2]);
		if (!p || hexbytes(argv[4], guid) < 0)
			return 1;
		int rc = sym_path_find_pdb(p, argv[3], guid, (uint32_t)strtoul(argv[5], NULL, 0), out,
		                           sizeof out);
		return report(p, rc, out);
	}
	if (argc == 5 && (strcmp(argv[1], "symbolize") == 0 || strcmp(argv[1], "lookup") == 0)) {
		sym_modset *set;
		sym_module *m;
		if (pe_open_file(argv[2], &pe, err, sizeof err) < 0 || sym_modset_create(&set) < 0) {
			printf("ERROR %d %s\n", SYM_E_FORMAT, err);
			return 1;
		}
		uint64_t base = pe_image_base(pe);
		sym_modset_add(set, NULL, argv[2], base, pe_size_of_image(pe), &m);
		pe_close(pe);
		sym_module_set_pe_file(m, argv[2]);
		sym_module_set_pdb_file(m, argv[3]);
		int rc = 0;
		if (argv[1][0] == 's') {
			sym_modset_symbolize(set, strtoull(argv[4], NULL, 16), out, sizeof out);
			printf("%s\n", out);
		} else {
			uint64_t a;
			rc = sym_modset_lookup(set, argv[4], &a);
			if (rc == 0)
				printf("%llx\n", (unsigned long long)a);
			else
				printf("ERROR %d %s\n", rc, sym_modset_errmsg(set));
		}
		printf("STATE %d\n", (int)sym_module_get_state(m));
		sym_modset_destroy(set);
		return rc == 0 ? 0 : 1;
	}
	fprintf(stderr, "usage: see the comment at the top of symsrv_tool.c\n");
	return 2;
}
