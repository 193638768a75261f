/*
 * test_sympath.c - unit tests of symbol-path parsing, .symfix text, file
 * identities (symstore keys), name sanitizing, wildcard matching, and a
 * local two-tier (index2.txt) store with a flat directory, all without a
 * server.  Usage: test_sympath PDB DLL (a PDB and the image it belongs to).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "symbols.h"

static int failures;

#include "../common/check.h"

static void test_parse(void)
{
	sym_path *p;
	char err[256];
	int rc = sym_path_parse(" /sym/local ; cache*/c ;srv*/down*https://msdl.microsoft.com/download/symbols;"
	                        "SRV**http://h/s;symsrv*symsrv.dll*/d2*http://x/y;;", &p, err, sizeof err);
	CHECK(rc == 0, "parse failed: %s", err);
	if (rc)
		return;
	CHECK(sym_path_element_count(p) == 5, "5 elements, got %zu", sym_path_element_count(p));
	CHECK(sym_path_element_kind(p, 0) == SYM_ELEM_DIR, "dir kind");
	CHECK(!strcmp(sym_path_element_store(p, 0, 0), "/sym/local"), "dir trimmed: '%s'",
	      sym_path_element_store(p, 0, 0));
	CHECK(sym_path_element_kind(p, 1) == SYM_ELEM_CACHE, "cache kind");
	CHECK(!strcmp(sym_path_element_store(p, 1, 0), "/c"), "cache dir");
	CHECK(sym_path_element_kind(p, 2) == SYM_ELEM_SRV && sym_path_element_store_count(p, 2) == 2,
	      "srv with 2 stores");
	CHECK(!strcmp(sym_path_element_store(p, 2, 1), "https://msdl.microsoft.com/download/symbols"),
	      "srv url");
	CHECK(sym_path_element_store_count(p, 3) == 2 && !strcmp(sym_path_element_store(p, 3, 0), ""),
	      "srv** = default store then url");
	CHECK(sym_path_element_kind(p, 4) == SYM_ELEM_SRV && sym_path_element_store_count(p, 4) == 2 &&
	      !strcmp(sym_path_element_store(p, 4, 0), "/d2"), "symsrv*symsrv.dll* form");
	CHECK(!strcmp(sym_path_text(p), "/sym/local;cache*/c;srv*/down*https://msdl.microsoft.com/"
	                                "download/symbols;srv**http://h/s;srv*/d2*http://x/y"),
	      "canonical text: %s", sym_path_text(p));

	CHECK(sym_path_append(p, "/more") == 0 && sym_path_element_count(p) == 6, ".sympath+");
	CHECK(sym_path_set(p, "srv*http://a/b*c") < 0, "URL in the middle of a chain refused");
	CHECK(sym_path_element_count(p) == 6, "failed set keeps the old path");
	CHECK(strstr(sym_path_errmsg(p), "URL") != NULL, "message names the URL: %s", sym_path_errmsg(p));
	CHECK(sym_path_set(p, "") == 0 && sym_path_element_count(p) == 0 && !sym_path_text(p)[0],
	      "empty path");
	sym_path_free(p);

	CHECK(sym_path_parse("cache*", &p, err, sizeof err) < 0, "cache* without a dir refused");
	CHECK(sym_path_parse("symsrv*other.dll*http://x", &p, err, sizeof err) < 0,
	      "symsrv with another DLL refused");
	CHECK(sym_path_parse("a*b", &p, err, sizeof err) < 0, "unknown star element refused");
}

static void test_symfix(void)
{
	char buf[4096];
	CHECK(sym_path_symfix_text("/c", buf, sizeof buf) == 0 &&
	      !strcmp(buf, "cache*/c;srv*https://msdl.microsoft.com/download/symbols"), "symfix: %s", buf);
	setenv("XDG_CACHE_HOME", "/xdg", 1);
	CHECK(sym_path_default_cache(buf, sizeof buf) == 0 && !strcmp(buf, "/xdg/kdclient/symbols"),
	      "default cache from XDG: %s", buf);
	unsetenv("XDG_CACHE_HOME");
	setenv("HOME", "/home/u", 1);
	CHECK(sym_path_default_cache(buf, sizeof buf) == 0 &&
	      !strcmp(buf, "/home/u/.cache/kdclient/symbols"), "default cache from HOME: %s", buf);
	CHECK(sym_path_symfix_text(NULL, buf, sizeof buf) == 0 &&
	      !strcmp(buf, "cache*/home/u/.cache/kdclient/symbols;srv*https://msdl.microsoft.com/download/symbols"),
	      "symfix default: %s", buf);
}

static void test_keys(void)
{
	/* {9F65CD18-C2F3-6F88-B2D0-CE8A7BFE2BB7} stored little-endian. */
	static const uint8_t g[16] = { 0x18, 0xCD, 0x65, 0x9F, 0xF3, 0xC2, 0x88, 0x6F,
	                               0xB2, 0xD0, 0xCE, 0x8A, 0x7B, 0xFE, 0x2B, 0xB7 };
	sym_file_id id;
	char key[64], err[128], gs[40];
	CHECK(sym_file_id_pdb(&id, "C:\\build\\ntkrnlmp.pdb", g, 1, err, sizeof err) == 0, "%s", err);
	CHECK(!strcmp(id.name, "ntkrnlmp.pdb"), "basename: %s", id.name);
	sym_file_id_key(&id, key, sizeof key);
	CHECK(!strcmp(key, "9F65CD18C2F36F88B2D0CE8A7BFE2BB71"), "pdb key %s", key);
	id.age = 0x1a;
	sym_file_id_key(&id, key, sizeof key);
	CHECK(!strcmp(key, "9F65CD18C2F36F88B2D0CE8A7BFE2BB71A"), "age in upper hex %s", key);
	sym_guid_format(g, gs);
	CHECK(!strcmp(gs, "{9F65CD18-C2F3-6F88-B2D0-CE8A7BFE2BB7}"), "guid %s", gs);
	CHECK(sym_file_id_image(&id, "\\SystemRoot\\system32\\ntoskrnl.exe", 0x5C0F3A2C, 0x9d4000, err,
	                        sizeof err) == 0, "image id");
	sym_file_id_key(&id, key, sizeof key);
	CHECK(!strcmp(key, "5C0F3A2C9d4000") && !strcmp(id.name, "ntoskrnl.exe"), "image key %s %s",
	      key, id.name);
	sym_file_id_image(&id, "a.sys", 0x1, 0x1000, err, sizeof err);
	sym_file_id_key(&id, key, sizeof key);
	CHECK(!strcmp(key, "000000011000"), "image key padding %s", key);
}

static void test_sanitize(void)
{
	static const struct {
		const char *in, *out;   /* out NULL = refused */
	} cases[] = {
		{ "ntkrnlmp.pdb", "ntkrnlmp.pdb" },
		{ "../../x", "x" },
		{ "..\\..\\x", "x" },
		{ "/etc/passwd", "passwd" },
		{ "C:\\Windows\\sym\\a b.pdb", "a b.pdb" },
		{ "", NULL },
		{ ".", NULL },
		{ "..", NULL },
		{ "a/..", NULL },
		{ "a\\.", NULL },
		{ "dir/", NULL },
		{ "x\x1b[2J", NULL },
		{ "x\ty", NULL },
		{ "x\x7f", NULL },
		{ "C:evil", NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[256], err[128] = "";
		int rc = sym_name_sanitize(cases[i].in, out, sizeof out, err, sizeof err);
		if (cases[i].out)
			CHECK(rc == 0 && !strcmp(out, cases[i].out), "sanitize #%zu -> %s (%s)", i,
			      rc == 0 ? out : "refused", err);
		else
			CHECK(rc == SYM_E_INVAL && strstr(err, "refusing"), "sanitize #%zu must refuse (%d %s)",
			      i, rc, err);
	}
	char longname[400], out[256], err[128];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	CHECK(sym_name_sanitize(longname, out, sizeof out, err, sizeof err) == SYM_E_INVAL,
	      "over-long name refused");
}

static void test_wildcards(void)
{
	CHECK(sym_wildcard_match("Nt*", "NtCreateFile"), "prefix");
	CHECK(sym_wildcard_match("nt*file", "NtCreateFile"), "case-insensitive");
	CHECK(sym_wildcard_match("*Create*", "NtCreateFile"), "infix");
	CHECK(sym_wildcard_match("Nt?reateFile", "NtCreateFile"), "?");
	CHECK(!sym_wildcard_match("Nt?", "NtCreateFile"), "? is one char");
	CHECK(!sym_wildcard_match("Zw*", "NtCreateFile"), "no match");
	CHECK(sym_wildcard_match("*", ""), "star matches empty");
	CHECK(sym_wildcard_match("a*b*c", "aXXbYYbZc"), "backtracking");
	CHECK(!sym_wildcard_match("a*b*c", "aXXbYYbZ"), "backtracking fail");
}

static void copy_file(const char *src, const char *dst)
{
	FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
	char buf[65536];
	size_t n;
	while (in && out && (n = fread(buf, 1, sizeof buf, in)) > 0)
		fwrite(buf, 1, n, out);
	if (in)
		fclose(in);
	if (out)
		fclose(out);
}

/* Local stores: a flat directory (never written) and a two-tier cache. */
static void test_local(const char *pdb_path, const char *dll_path)
{
	char dir[] = "/tmp/sympath-test-XXXXXX";
	char err[256], path[8192], out[4096], key[64];
	if (!mkdtemp(dir)) {
		CHECK(0, "mkdtemp");
		return;
	}
	pe_image *pe;
	pe_codeview_info cv;
	CHECK(pe_open_file(dll_path, &pe, err, sizeof err) == 0, "open dll: %s", err);
	CHECK(pe_codeview(pe, &cv) == 0, "codeview");
	sym_file_id id;
	sym_file_id_pdb(&id, cv.pdb_name, cv.guid, cv.age, err, sizeof err);
	sym_file_id_key(&id, key, sizeof key);

	/* flat dir: dir/flat/pdb/symtest.pdb (the dir/ext/name form) */
	snprintf(path, sizeof path, "%s/flat", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/flat/pdb", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/flat/pdb/%s", dir, id.name);
	copy_file(pdb_path, path);
	/* two-tier cache */
	snprintf(path, sizeof path, "%s/cache2", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/cache2/index2.txt", dir);
	copy_file("/dev/null", path);

	char text[8192];
	snprintf(text, sizeof text, "cache*%s/cache2;%s/flat", dir, dir);
	sym_path *p;
	CHECK(sym_path_parse(text, &p, err, sizeof err) == 0, "parse %s", err);
	int rc = sym_path_find(p, &id, out, sizeof out);
	snprintf(path, sizeof path, "%s/cache2/%.2s/%s/%s/%s", dir, id.name, id.name, key, id.name);
	CHECK(rc == 0 && !strcmp(out, path), "flat dir copied into the two-tier cache: rc %d %s (%s)",
	      rc, out, sym_path_errmsg(p));
	struct stat st;
	CHECK(stat(path, &st) == 0, "two-tier file exists");

	/* A flat-dir PDB with another GUID is skipped, with the reason kept. */
	sym_file_id other = id;
	other.guid[0] ^= 0xff;
	rc = sym_path_find(p, &other, out, sizeof out);
	CHECK(rc == SYM_E_NOTFOUND && strstr(sym_path_errmsg(p), "mismatch"),
	      "mismatched flat PDB refused: %d %s", rc, sym_path_errmsg(p));
	sym_path_free(p);
	pe_close(pe);
	snprintf(text, sizeof text, "rm -rf '%s'", dir);
	if (system(text) != 0)
		printf("warning: could not remove %s\n", dir);
}

int main(int argc, char **argv)
{
	test_parse();
	test_symfix();
	test_keys();
	test_sanitize();
	test_wildcards();
	if (argc == 3)
		test_local(argv[1], argv[2]);
	else
		CHECK(0, "usage: test_sympath PDB DLL");
	if (failures) {
		printf("%d failure(s)\n", failures);
		return 1;
	}
	printf("all sympath tests passed\n");
	return 0;
}
