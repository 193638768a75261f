/*
 * test_pdb_api - the symbols library's API on the clang-built corpus:
 * lookups both ways, function extents, .pdata, exports, dotted field paths,
 * dt-style type names, and the target-memory PE reader.
 *
 *   test_pdb_api X64.exe X64.pdb X86.exe X86.pdb
 *
 * Member offsets of the x64 build are checked against offsetof() on this
 * host: x86-64 SysV and MSVC x64 agree on these (non-bitfield, no `long`)
 * members, so the host compiler is an independent oracle for the PDB.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbols.h"
#include "corpus/corpus.h"

static int failures;

#include "../common/check.h"

static void expect_field(pdb_file *pdb, uint32_t ti, const char *path, long want_off,
                         const char *want_name)
{
	uint64_t off = 0;
	uint32_t fti = 0;
	int rc = pdb_type_field(pdb, ti, path, &off, &fti);
	CHECK(rc == 0, "pdb_type_field(%s): %s", path, pdb_errmsg(pdb));
	if (rc)
		return;
	if (want_off >= 0)
		CHECK(off == (uint64_t)want_off, "%s at %" PRIu64 ", host offsetof says %ld", path, off, want_off);
	if (want_name) {
		char name[128];
		pdb_type_name(pdb, fti, name, sizeof name);
		CHECK(strcmp(name, want_name) == 0, "%s: type name '%s', want '%s'", path, name, want_name);
	}
}

static void check_symbols(pdb_file *pdb, pe_image *pe, int x64)
{
	uint32_t rva = 0, start = 0, len = 0, disp = 0;
	const char *name = NULL;
	CHECK(pdb_find_symbol(pdb, "object_visit", &rva) == 0 && rva, "%s", pdb_errmsg(pdb));
	CHECK(pdb_function_extent(pdb, rva + 5, &start, &len) == 0 && start == rva && len > 5,
	      "extent of object_visit+5: %#x len %u", start, len);
	CHECK(pdb_symbol_at(pdb, rva + 3, &name, &disp) == 0 && name &&
	      strcmp(name, "object_visit") == 0 && disp == 3, "symbol_at(object_visit+3) = %s+%u",
	      name ? name : "(null)", disp);
	CHECK(pdb_function_extent(pdb, 0x10, &start, &len) == SYM_E_NOTFOUND, "extent in headers");
	CHECK(pdb_find_symbol(pdb, "no_such_symbol_anywhere", &rva) == SYM_E_NOTFOUND, "missing symbol");
	uint32_t ci = 0;
	CHECK(pdb_find_symbol(pdb, "OBJECT_Visit", &ci) == 0 && ci == start, "case-insensitive %#x", ci);
	uint32_t t1 = 0, t2 = 1;
	CHECK(pdb_find_type(pdb, "_list_entry", &t1) == 0 && pdb_find_type(pdb, "_LIST_ENTRY", &t2) == 0 &&
	      t1 == t2, "case-insensitive type %#x vs %#x", t1, t2);
	/* statics are S_LPROC32 / S_LDATA32 */
	pdb_symbol s;
	CHECK(pdb_lookup_symbol(pdb, "checksum", &s) == 0 && s.kind == PDB_SYM_FUNCTION && s.size,
	      "static function checksum");
	pdb_type ft;
	CHECK(pdb_lookup_symbol(pdb, "object_visit", &s) == 0 && pdb_type_info(pdb, s.type_index, &ft) == 0 &&
	      ft.kind == PDB_TYPE_PROCEDURE && ft.param_count == 2 && ft.elem_ti == 0x74,
	      "object_visit's type %#x is not int(struct object *, int)", s.type_index);
	CHECK(pdb_lookup_symbol(pdb, "g_table", &s) == 0 && s.kind == PDB_SYM_GLOBAL_DATA &&
	      pdb_type_size(pdb, s.type_index) == sizeof(int) * 32, "g_table: kind %d", s.kind);
	if (!x64) {
		/* x86 publics are decorated (_main); both spellings resolve,
		 * and the undecorated one is what is shown */
		uint32_t a = 0, b = 0;
		CHECK(pdb_find_symbol(pdb, "_corpus_export", &a) == 0 &&
		      pdb_find_symbol(pdb, "corpus_export", &b) == 0 && a == b, "%#x vs %#x", a, b);
	}
	/* exports agree with the PDB */
	pe_export e;
	CHECK(pe_export_count(pe) >= 1, "export count %d", pe_export_count(pe));
	CHECK(pe_find_export(pe, "corpus_export", &e) == 0 && e.rva &&
	      pdb_find_symbol(pdb, "corpus_export", &rva) == 0 && rva == e.rva,
	      "export rva %#x vs pdb %#x", e.rva, rva);
	CHECK(pe_find_export(pe, "fwd_sleep", &e) == 0 && e.rva == 0 && e.forwarder &&
	      strcmp(e.forwarder, "kernel32.Sleep") == 0, "forwarder %s", e.forwarder ? e.forwarder : "-");
	int found7 = 0;
	for (int i = 0; i < pe_export_count(pe); i++)
		if (pe_export_at(pe, (size_t)i, &e) == 0 && e.ordinal == 7 && !e.name &&
		    pdb_find_symbol(pdb, "walk_list", &rva) == 0 && e.rva == rva)
			found7 = 1;
	CHECK(found7, "ordinal-only export 7 = walk_list");
	if (x64) {
		uint32_t b, en, u;
		pdb_find_symbol(pdb, "object_visit", &rva);
		CHECK(pe_find_runtime_function(pe, rva + 1, &b, &en, &u) == 0 && b == rva && u,
		      "RUNTIME_FUNCTION for object_visit: %#x", b);
		uint8_t ui[4];
		CHECK(pe_read_rva(pe, u, ui, 4) == 0 && (ui[0] & 7) == 1 && ui[2] > 0,
		      "UNWIND_INFO version %u codes %u", ui[0] & 7, ui[2]);
	} else {
		uint32_t b;
		CHECK(pe_find_runtime_function(pe, 0x1000, &b, NULL, NULL) == SYM_E_NOTFOUND, "x86 .pdata");
	}
	/* the image names the PDB, which matches it */
	pe_codeview_info cv;
	uint8_t guid[16];
	uint32_t age;
	CHECK(pe_codeview(pe, &cv) == 0 && cv.is_rsds, "codeview: %s", pe_errmsg(pe));
	CHECK(pdb_guid_age(pdb, guid, &age) == 0 && memcmp(guid, cv.guid, 16) == 0 && age == cv.age,
	      "guid/age mismatch (age %u vs %u)", age, cv.age);
	CHECK(pdb_machine(pdb) == pe_machine(pe), "machine %#x vs %#x", pdb_machine(pdb), pe_machine(pe));
	CHECK(strstr(cv.pdb_name, ".pdb") != NULL, "pdb name %s", cv.pdb_name);
}

/* The line table against the source itself: the PDB names the file, and
 * the function's first line is where its definition is written. */
static void check_lines(pdb_file *pdb)
{
	uint32_t rva = 0;
	pdb_line l;
	CHECK(pdb_find_symbol(pdb, "object_visit", &rva) == 0 && pdb_line_at(pdb, rva, &l) == 0,
	      "no line for object_visit: %s", pdb_errmsg(pdb));
	if (failures)
		return;
	CHECK(strstr(l.file, "objects.c") != NULL, "file %s", l.file);
	FILE *f = fopen(l.file, "r");
	CHECK(f != NULL, "cannot open %s named by the PDB", l.file);
	if (!f)
		return;
	/* compilers put a function's first line entry on its opening brace */
	char buf[512];
	unsigned n = 0, sig = 0, want = 0;
	while (fgets(buf, sizeof buf, f)) {
		n++;
		if (strstr(buf, "int object_visit(struct object *o, int depth)"))
			sig = n;
		if (sig && !want && strchr(buf, '{'))
			want = n;
	}
	fclose(f);
	CHECK(want && l.line == want, "object_visit's body opens at line %u, PDB says %u", want, l.line);
	pdb_line l2;
	CHECK(pdb_line_at(pdb, rva + 1, &l2) == 0 && l2.line >= l.line, "line inside object_visit");
	CHECK(pdb_line_at(pdb, 0x10, &l2) == SYM_E_NOTFOUND, "line in the headers");
}

static void check_types(pdb_file *pdb, int x64)
{
	uint32_t ti = 0;
	const char *P = x64 ? "Ptr64" : "Ptr32";
	char want[128];
	CHECK(pdb_find_type(pdb, "object", &ti) == 0, "%s", pdb_errmsg(pdb));
	pdb_type t;
	CHECK(pdb_type_info(pdb, ti, &t) == 0 && t.kind == PDB_TYPE_STRUCT && !t.forward,
	      "object is a complete struct");
	if (x64)
		CHECK(pdb_type_size(pdb, ti) == sizeof(struct object), "sizeof object %" PRIu64 " vs %zu",
		      pdb_type_size(pdb, ti), sizeof(struct object));
	/* 16 data members + 2 nested unnamed types */
	CHECK(pdb_type_member_count(pdb, ti) == 18, "member count %d", pdb_type_member_count(pdb, ti));
#define OFF(f) (x64 ? (long)offsetof(struct object, f) : -1L)
	snprintf(want, sizeof want, "%s _LIST_ENTRY", P);
	expect_field(pdb, ti, "Links.Flink", OFF(Links.Flink), want);
	expect_field(pdb, ti, "Links.Blink", OFF(Links.Blink), want);
	expect_field(pdb, ti, "Pcb.pair.b", OFF(Pcb.pair.b), "Int4B");
	expect_field(pdb, ti, "Pcb.name", OFF(Pcb.name), "[16] Char");
	expect_field(pdb, ti, "Pcb.x", OFF(Pcb.x), "Int2B");
	expect_field(pdb, ti, "Data.Value", OFF(Data.Value), "Uint8B");
	expect_field(pdb, ti, "Data.Parts.High", OFF(Data.Parts.High), "Uint4B");
	snprintf(want, sizeof want, "%s Void", P);
	expect_field(pdb, ti, "Data.Pointer", OFF(Data.Pointer), want);
	expect_field(pdb, ti, "anon_f", OFF(anon_f), "Float");
	expect_field(pdb, ti, "Color", OFF(Color), "color");
	expect_field(pdb, ti, "Flags.absolute", OFF(Flags), "Pos 0, 1 Bit");
	expect_field(pdb, ti, "Flags.spare", OFF(Flags), "Pos 1, 3 Bits");
	expect_field(pdb, ti, "Flags.wide", OFF(Flags), "Pos 4, 28 Bits");
	expect_field(pdb, ti, "Flags.tail", -1, "Pos 40, 24 Bits");
	snprintf(want, sizeof want, "%s     int ", P);
	expect_field(pdb, ti, "Callback", OFF(Callback), want);
	snprintf(want, sizeof want, "%s     void ", P);
	expect_field(pdb, ti, "Notify", OFF(Notify), want);
	snprintf(want, sizeof want, "%s Uint4B", P);
	expect_field(pdb, ti, "Counter", OFF(Counter), want);
	snprintf(want, sizeof want, "%s %s object", P, P);
	expect_field(pdb, ti, "Children", OFF(Children), want);
	expect_field(pdb, ti, "Matrix", OFF(Matrix), "[3] [4] Int4B");
	expect_field(pdb, ti, "Bytes", OFF(Bytes), "[7] UChar");
	expect_field(pdb, ti, "Real", OFF(Real), "Float");
	expect_field(pdb, ti, "Wide", OFF(Wide), "[4] Uint2B");
	snprintf(want, sizeof want, "%s opaque", P);
	expect_field(pdb, ti, "Hidden", OFF(Hidden), want);
	uint64_t off;
	CHECK(pdb_type_field(pdb, ti, "Pcb.nothere", &off, NULL) == SYM_E_NOTFOUND, "missing field");
	CHECK(pdb_type_field(pdb, ti, "Links.Flink.Flink", &off, NULL) < 0, "through a pointer");

	/* a forward reference that is never defined stays a forward ref */
	uint32_t op;
	CHECK(pdb_find_type(pdb, "opaque", &op) == 0 && pdb_type_info(pdb, op, &t) == 0 && t.forward &&
	      pdb_type_size(pdb, op) == 0 && pdb_type_member_count(pdb, op) < 0, "opaque");
	/* forward reference to _LIST_ENTRY resolves to the definition */
	uint32_t le;
	CHECK(pdb_find_type(pdb, "_LIST_ENTRY", &le) == 0 && pdb_type_size(pdb, le) == (x64 ? 16u : 8u),
	      "_LIST_ENTRY size %" PRIu64, pdb_type_size(pdb, le));

	/* enumerators, including negative and wide values */
	uint32_t en;
	CHECK(pdb_find_type(pdb, "big_enum", &en) == 0, "big_enum");
	int n = pdb_type_member_count(pdb, en);
	int seen = 0;
	for (int i = 0; i < n; i++) {
		pdb_member m;
		pdb_type_member_at(pdb, en, (size_t)i, &m);
		if (strcmp(m.name, "BIG_NEG") == 0 && m.value == BIG_NEG)
			seen |= 1;
		if (strcmp(m.name, "BIG_MAX") == 0 && m.value == BIG_MAX)
			seen |= 2;
	}
	CHECK(seen == 3, "enumerator values (seen %d of %d)", seen, n);
	CHECK(pdb_find_type(pdb, "color", &en) == 0 && pdb_type_size(pdb, en) == 4, "enum size");
}

/* ---- PE through a read callback (a loaded image in "target memory") ---- */

typedef struct fake_target {
	uint64_t base;
	uint8_t *mem;
	size_t size;
	size_t readable;   /* bytes from base that can be read */
	int reads;
} fake_target;

static int fake_read(void *ctx, uint64_t addr, void *buf, size_t len, size_t *got)
{
	fake_target *t = ctx;
	t->reads++;
	*got = 0;
	if (addr < t->base || addr - t->base >= t->readable)
		return -1;
	size_t off = (size_t)(addr - t->base);
	size_t n = t->readable - off < len ? t->readable - off : len;
	memcpy(buf, t->mem + off, n);
	*got = n;
	return 0;
}

static void check_loaded_image(pe_image *file, int x64)
{
	fake_target t = {0};
	t.base = x64 ? 0xfffff80000400000ull : 0x80400000ull;
	t.size = pe_size_of_image(file);
	t.mem = calloc(1, t.size);
	t.readable = t.size;
	/* lay the file out as the loader would: headers, then each section at
	 * its RVA */
	pe_section s;
	uint8_t hdr[0x400];
	CHECK(pe_read_rva(file, 0, hdr, sizeof hdr) == 0, "headers: %s", pe_errmsg(file));
	memcpy(t.mem, hdr, sizeof hdr);
	for (size_t i = 0; i < pe_section_count(file); i++) {
		pe_section_at(file, i, &s);
		uint32_t n = s.virtual_size ? s.virtual_size : s.raw_size;
		if (s.virtual_address + (uint64_t)n <= t.size)
			pe_read_rva(file, s.virtual_address, t.mem + s.virtual_address, n);
	}
	char err[256];
	pe_image *mem;
	CHECK(pe_open_read(fake_read, &t, t.base, &mem, err, sizeof err) == 0, "%s", err);
	if (failures)
		goto out;
	CHECK(pe_image_base(mem) == t.base, "image base %#" PRIx64, pe_image_base(mem));
	CHECK(pe_timestamp(mem) == pe_timestamp(file) && pe_size_of_image(mem) == pe_size_of_image(file) &&
	      pe_machine(mem) == pe_machine(file), "header fields differ");
	pe_codeview_info a, b;
	CHECK(pe_codeview(mem, &a) == 0 && pe_codeview(file, &b) == 0 && memcmp(&a, &b, sizeof a) == 0,
	      "codeview differs: %s", pe_errmsg(mem));
	pe_export ea, eb;
	CHECK(pe_find_export(mem, "corpus_export", &ea) == 0 && pe_find_export(file, "corpus_export", &eb) == 0 &&
	      ea.rva == eb.rva && ea.ordinal == eb.ordinal, "exports differ");
	CHECK(pe_runtime_function_count(mem) == pe_runtime_function_count(file), "pdata count");
	for (int i = 0; i < pe_runtime_function_count(file); i++) {
		uint32_t b1, e1, u1, b2, e2, u2;
		pe_runtime_function_at(file, (size_t)i, &b1, &e1, &u1);
		pe_runtime_function_at(mem, (size_t)i, &b2, &e2, &u2);
		CHECK(b1 == b2 && e1 == e2 && u1 == u2, "RUNTIME_FUNCTION %d differs", i);
	}
	pe_close(mem);

	/* only the headers are paged in: open works, the directories fail
	 * with a read error instead of crashing */
	t.readable = 0x1000;
	CHECK(pe_open_read(fake_read, &t, t.base, &mem, err, sizeof err) == 0, "%s", err);
	if (!failures) {
		CHECK(pe_codeview(mem, &a) == SYM_E_READ, "codeview with unreadable pages");
		CHECK(pe_export_count(mem) == SYM_E_READ, "exports with unreadable pages");
		pe_close(mem);
	}
	t.readable = 0;
	CHECK(pe_open_read(fake_read, &t, t.base, &mem, err, sizeof err) == SYM_E_READ, "unreadable header");
out:
	free(t.mem);
}

static void run(const char *exe, const char *pdbpath, int x64)
{
	char err[256];
	pdb_file *pdb;
	pe_image *pe;
	if (pdb_open(pdbpath, &pdb, err, sizeof err) < 0) {
		printf("FAIL open %s: %s\n", pdbpath, err);
		failures++;
		return;
	}
	if (pe_open_file(exe, &pe, err, sizeof err) < 0) {
		printf("FAIL open %s: %s\n", exe, err);
		failures++;
		pdb_close(pdb);
		return;
	}
	check_symbols(pdb, pe, x64);
	check_types(pdb, x64);
	check_lines(pdb);
	check_loaded_image(pe, x64);
	pe_close(pe);
	pdb_close(pdb);
}

/* Old images carry NB10 (PDB 2.0) CodeView records: rewrite the corpus
 * image's RSDS record in place into one and read it back. */
static void check_nb10(const char *exe)
{
	FILE *f = fopen(exe, "rb");
	CHECK(f != NULL, "open %s", exe);
	if (!f)
		return;
	static uint8_t buf[1 << 20];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	uint8_t *rsds = NULL;
	for (size_t i = 0; i + 24 < n; i++)
		if (memcmp(buf + i, "RSDS", 4) == 0)
			rsds = buf + i;
	CHECK(rsds != NULL, "no RSDS record in %s", exe);
	if (!rsds)
		return;
	/* RSDS: sig guid[16] age name  ->  NB10: sig offset(0) time age name */
	char name[64];
	snprintf(name, sizeof name, "%s", "old\\nb10.pdb");
	memcpy(rsds, "NB10", 4);
	memset(rsds + 4, 0, 4);
	memcpy(rsds + 8, "\x78\x56\x34\x12", 4);
	memcpy(rsds + 12, "\x07\0\0\0", 4);
	memcpy(rsds + 16, name, strlen(name) + 1);
	pe_image *pe;
	char err[256];
	pe_codeview_info cv;
	CHECK(pe_open_memory(buf, n, &pe, err, sizeof err) == 0, "%s", err);
	if (failures)
		return;
	CHECK(pe_codeview(pe, &cv) == 0 && !cv.is_rsds && cv.signature == 0x12345678 && cv.age == 7 &&
	      strcmp(cv.pdb_name, name) == 0, "NB10: rsds=%d sig=%#x age=%u name=%s", cv.is_rsds,
	      cv.signature, cv.age, cv.pdb_name);
	pe_close(pe);
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: test_pdb_api X64.exe X64.pdb X86.exe X86.pdb\n");
		return 2;
	}
	run(argv[1], argv[2], 1);
	run(argv[3], argv[4], 0);
	check_nb10(argv[1]);
	char err[256];
	pdb_file *p;
	CHECK(pdb_open("/nonexistent/x.pdb", &p, err, sizeof err) == SYM_E_IO && strstr(err, "x.pdb"),
	      "%s", err);
	printf("%s (%d failures)\n", failures ? "FAILED" : "ok", failures);
	return failures ? 1 : 0;
}
