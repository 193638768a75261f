/*
 * test_modset.c - module-set unit tests: WinDbg module names, address ->
 * module, deferred loading, name -> address through the PDB checked
 * against the export table (an independent source), symbolize in WinDbg's
 * "module!symbol+0xoff" form, wildcards, nearest symbols, and the export
 * fallback when no PDB is found.
 *
 * Usage: test_modset DLL_A PDB_A DLL_B DLL_ABS   (B is used without its
 * PDB; DLL_ABS names its PDB by absolute path)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbols.h"

static int failures;

#include "../common/check.h"

#define BASE_A 0xfffff80012340000ull
#define BASE_B 0xfffff80056780000ull

static uint32_t export_rva(const char *dll, const char *name)
{
	pe_image *pe;
	pe_export ex;
	char err[256];
	uint32_t rva = 0;
	if (pe_open_file(dll, &pe, err, sizeof err) < 0)
		return 0;
	if (pe_find_export(pe, name, &ex) == 0)
		rva = ex.rva;
	pe_close(pe);
	return rva;
}

static uint32_t image_size(const char *dll)
{
	pe_image *pe;
	char err[256];
	uint32_t size = 0;
	if (pe_open_file(dll, &pe, err, sizeof err) == 0) {
		size = pe_size_of_image(pe);
		pe_close(pe);
	}
	return size;
}

struct names {
	char seen[64][64];
	int n;
	int wrong;
	const char *module;
};

static int collect(void *ctx, const sym_match *m)
{
	struct names *c = ctx;
	if (strcmp(sym_module_name(m->module), c->module) != 0)
		c->wrong++;
	if (c->n < 64)
		snprintf(c->seen[c->n++], 64, "%s", m->name);
	return 0;
}

static int has(const struct names *c, const char *name)
{
	for (int i = 0; i < c->n; i++)
		if (!strcmp(c->seen[i], name))
			return 1;
	return 0;
}

static void test_names(void)
{
	sym_modset *set;
	sym_module *m;
	CHECK(sym_modset_create(&set) == 0, "create");
	sym_modset_add(set, NULL, "\\SystemRoot\\system32\\ntoskrnl.exe", 0x1000000, 0x100000, &m);
	CHECK(m && !strcmp(sym_module_name(m), "nt"), "ntoskrnl -> nt: %s", m ? sym_module_name(m) : "");
	sym_modset_add(set, NULL, "halmacpi.dll", 0x2000000, 0x10000, &m);
	CHECK(!strcmp(sym_module_name(m), "hal"), "hal: %s", sym_module_name(m));
	sym_modset_add(set, NULL, "\\SystemRoot\\System32\\drivers\\testdrv.sys", 0x3000000, 0x10000, &m);
	CHECK(!strcmp(sym_module_name(m), "testdrv") && !strcmp(sym_module_image_name(m), "testdrv.sys"),
	      "driver: %s %s", sym_module_name(m), sym_module_image_name(m));
	sym_modset_add(set, NULL, "testdrv.sys", 0x4000000, 0x10000, &m);
	CHECK(!strcmp(sym_module_name(m), "testdrv_4000000"), "clash gets _base: %s", sym_module_name(m));
	sym_modset_add(set, NULL, "evil\x1b[2J.sys", 0x5000000, 0x10000, &m);
	CHECK(!strncmp(sym_module_name(m), "Unknown_Module_", 15), "hostile name: %s", sym_module_name(m));
	sym_modset_add(set, NULL, "my-drv.v2.sys", 0x6000000, 0x10000, &m);
	CHECK(!strcmp(sym_module_name(m), "my_drv_v2"), "expression-safe name: %s", sym_module_name(m));
	sym_modset_add(set, "nt", "testnt.exe", 0x1000000, 0x200000, &m);
	CHECK(sym_modset_count(set) == 6, "same base replaces: %zu", sym_modset_count(set));
	CHECK(sym_modset_find_module(set, "NT") == m, "case-insensitive find");
	CHECK(sym_modset_find_module(set, "testnt.exe") == m, "find by image name");
	CHECK(sym_modset_module_at(set, 0x1000000) == m && sym_modset_module_at(set, 0x11fffff) == m,
	      "module_at inside");
	CHECK(sym_modset_module_at(set, 0x1200000) == NULL && sym_modset_module_at(set, 0xfff) == NULL,
	      "module_at outside");
	for (size_t i = 1; i < sym_modset_count(set); i++)
		CHECK(sym_module_base(sym_modset_at(set, i - 1)) < sym_module_base(sym_modset_at(set, i)),
		      "sorted by base");
	uint64_t a;
	CHECK(sym_modset_lookup(set, "hal", &a) == 0 && a == 0x2000000, "module name alone = base");
	CHECK(sym_modset_lookup(set, "testdrv!", &a) == 0 && a == 0x3000000, "mod! = base");
	sym_module_set_user(sym_modset_find_module(set, "hal"), 1);
	sym_modset_clear_user(set);
	CHECK(!sym_modset_find_module(set, "hal") && sym_modset_count(set) == 5, "clear_user");
	CHECK(sym_modset_remove(set, 0x3000000) == 0 && !sym_modset_find_module(set, "testdrv"), "remove");
	char buf[128];
	CHECK(sym_modset_symbolize(set, 0x1000010, buf, sizeof buf) == 1 && !strcmp(buf, "nt+0x10"),
	      "module-relative without symbols: %s", buf);
	CHECK(sym_modset_symbolize(set, 0x9000000, buf, sizeof buf) == 0, "no module");
	sym_modset_destroy(set);
}

static void test_pdb_module(const char *dll_a, const char *pdb_a, const char *dll_b)
{
	sym_modset *set;
	sym_module *ma, *mb;
	char buf[256];
	uint64_t addr;
	sym_modset_create(&set);
	sym_modset_add(set, NULL, dll_a, BASE_A, image_size(dll_a), &ma);
	sym_module_set_pe_file(ma, dll_a);
	sym_module_set_pdb_file(ma, pdb_a);
	sym_modset_add(set, NULL, dll_b, BASE_B, image_size(dll_b), &mb);
	sym_module_set_pe_file(mb, dll_b);
	const char *an = sym_module_name(ma), *bn = sym_module_name(mb);
	CHECK(sym_module_get_state(ma) == SYM_MOD_DEFERRED, "deferred until needed");

	uint32_t add = export_rva(dll_a, "SymTestAdd"), mul_b = export_rva(dll_b, "SymTestMultiply");
	CHECK(add && mul_b, "export oracle");
	char q[128];
	snprintf(q, sizeof q, "%s!SymTestAdd", an);
	CHECK(sym_modset_lookup(set, q, &addr) == 0 && addr == BASE_A + add,
	      "%s = %" PRIx64 " (export says %" PRIx64 ")", q, addr, (uint64_t)(BASE_A + add));
	CHECK(sym_module_get_state(ma) == SYM_MOD_PDB, "pdb symbols after lookup (%s)",
	      sym_module_errmsg(ma));
	CHECK(!strcmp(sym_module_pdb_path(ma), pdb_a), "pdb path");
	snprintf(q, sizeof q, "%s!symtestadd", an);
	CHECK(sym_modset_lookup(set, q, &addr) == 0 && addr == BASE_A + add, "case-insensitive lookup");
	snprintf(q, sizeof q, "%s!SymTestNotExported", an);
	CHECK(sym_modset_lookup(set, q, &addr) == 0, "non-exported function from the PDB");
	snprintf(q, sizeof q, "%s!NoSuchThing", an);
	CHECK(sym_modset_lookup(set, q, &addr) == SYM_E_NOTFOUND, "unknown symbol");

	snprintf(q, sizeof q, "%s!SymTestAdd", an);
	CHECK(sym_modset_symbolize(set, BASE_A + add, buf, sizeof buf) == 1 && !strcmp(buf, q),
	      "symbolize exact: %s", buf);
	snprintf(q, sizeof q, "%s!SymTestAdd+0x3", an);
	CHECK(sym_modset_symbolize(set, BASE_A + add + 3, buf, sizeof buf) == 1 && !strcmp(buf, q),
	      "symbolize +3: %s", buf);

	struct names c = { .module = an };
	snprintf(q, sizeof q, "%s!SymTest*", an);
	CHECK(sym_modset_foreach_match(set, q, collect, &c) == 0, "foreach");
	CHECK(has(&c, "SymTestAdd") && has(&c, "SymTestMultiply") && has(&c, "SymTestUseObject") &&
	      has(&c, "SymTestNotExported") && has(&c, "SymTestCounter") &&
	      has(&c, "SymTestGlobalObject"), "x %s found %d names", q, c.n);
	CHECK(c.wrong == 0, "only the asked module");
	for (int i = 0; i < c.n; i++)
		CHECK(!strncmp(c.seen[i], "SymTest", 7), "pattern respected: %s", c.seen[i]);
	struct names c2 = { .module = an };
	snprintf(q, sizeof q, "%s!*multiply", an);
	sym_modset_foreach_match(set, q, collect, &c2);
	CHECK(c2.n == 1 && has(&c2, "SymTestMultiply"), "suffix pattern: %d", c2.n);

	sym_match before, after;
	int f = sym_modset_nearest(set, BASE_A + add + 1, &before, &after);
	CHECK((f & 1) && !strcmp(before.name, "SymTestAdd") && before.addr == BASE_A + add,
	      "ln before: %s", f & 1 ? before.name : "-");
	CHECK((f & 2) && after.addr > BASE_A + add + 1, "ln after: %s", f & 2 ? after.name : "-");

	/* B: no PDB, no path -> exports. */
	snprintf(q, sizeof q, "%s!SymTestMultiply", bn);
	CHECK(sym_modset_lookup(set, q, &addr) == 0 && addr == BASE_B + mul_b, "export lookup");
	CHECK(sym_module_get_state(mb) == SYM_MOD_EXPORT, "export symbols state");
	snprintf(q, sizeof q, "%s!SymTestNotExported", bn);
	CHECK(sym_modset_lookup(set, q, &addr) == SYM_E_NOTFOUND, "not exported -> not found");
	snprintf(q, sizeof q, "%s!SymTestMultiply+0x1", bn);
	CHECK(sym_modset_symbolize(set, BASE_B + mul_b + 1, buf, sizeof buf) == 1 && !strcmp(buf, q),
	      "export symbolize: %s", buf);
	struct names c3 = { .module = bn };
	snprintf(q, sizeof q, "%s!*", bn);
	sym_modset_foreach_match(set, q, collect, &c3);
	CHECK(c3.n == 5 && !has(&c3, "SymTestNotExported"), "x on exports: %d names", c3.n);

	/* Unqualified: loaded modules first. */
	CHECK(sym_modset_lookup(set, "SymTestUseObject", &addr) == 0 &&
	      sym_modset_module_at(set, addr) == ma, "unqualified lookup");

	/* A PDB that does not match the image is refused -> exports. */
	sym_module_set_pdb_file(mb, pdb_a);
	sym_module_load(mb, 1);
	CHECK(sym_module_get_state(mb) == SYM_MOD_EXPORT && strstr(sym_module_errmsg(mb), "match"),
	      "mismatched PDB refused: %s", sym_module_errmsg(mb));
	sym_modset_destroy(set);
}

/* The PDB at the path the RSDS record names (absolute: where the linker
 * wrote it) is found without any symbol path; a relative one is not
 * looked up, and a path to a file of another GUID is not used. */
static void test_recorded_path(const char *dll_abs, const char *dll_rel)
{
	sym_modset *set;
	sym_module *m;
	sym_modset_create(&set);
	sym_modset_add(set, NULL, dll_abs, BASE_A, image_size(dll_abs), &m);
	sym_module_set_pe_file(m, dll_abs);
	CHECK(sym_module_load(m, 0) == 0 && sym_module_get_state(m) == SYM_MOD_PDB,
	      "absolute RSDS path used: state %d (%s)", sym_module_get_state(m), sym_module_errmsg(m));
	pe_codeview_info cv;
	CHECK(sym_module_codeview(m, &cv) == 0 && !strcmp(sym_module_pdb_path(m), cv.pdb_name),
	      "pdb path is the recorded one: %s", sym_module_pdb_path(m));
	sym_modset_add(set, NULL, dll_rel, BASE_B, image_size(dll_rel), &m);
	sym_module_set_pe_file(m, dll_rel);
	sym_module_load(m, 0);
	CHECK(sym_module_get_state(m) == SYM_MOD_EXPORT, "relative RSDS name not looked up: %d",
	      sym_module_get_state(m));

	/* The recorded path rewritten to name symtest_1.pdb (another GUID). */
	static char img[1 << 20];
	FILE *f = fopen(dll_abs, "rb");
	size_t n = f ? fread(img, 1, sizeof img, f) : 0;
	if (f)
		fclose(f);
	char *at = memmem(img, n, "symtest_abs.pdb", 15);
	CHECK(at != NULL, "recorded name in the image");
	if (at) {
		memcpy(at, "symtest_1.pdb\0\0", 15);
		char tmp[] = "/tmp/modset-abs-XXXXXX";
		int fd = mkstemp(tmp);
		FILE *o = fd >= 0 ? fdopen(fd, "wb") : NULL;
		if (o) {
			fwrite(img, 1, n, o);
			fclose(o);
			sym_modset_add(set, NULL, "other.dll", BASE_B + 0x100000, image_size(dll_abs), &m);
			sym_module_set_pe_file(m, tmp);
			sym_module_load(m, 0);
			CHECK(sym_module_get_state(m) == SYM_MOD_EXPORT,
			      "recorded path to a PDB of another GUID not used: %d (%s)",
			      sym_module_get_state(m), sym_module_pdb_path(m));
			unlink(tmp);
		}
	}
	sym_modset_destroy(set);
}

int main(int argc, char **argv)
{
	test_names();
	if (argc == 5) {
		test_pdb_module(argv[1], argv[2], argv[3]);
		test_recorded_path(argv[4], argv[3]);
	} else {
		CHECK(0, "usage: test_modset DLL_A PDB_A DLL_B DLL_ABS");
	}
	if (failures) {
		printf("%d failure(s)\n", failures);
		return 1;
	}
	printf("all modset tests passed\n");
	return 0;
}
