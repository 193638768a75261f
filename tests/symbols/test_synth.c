/*
 * test_synth - the parser on make_synth_pdb.py's hand-built PDB: OMAP
 * address translation, S_GPROC32_ID types through IPI, LF_INDEX field-list
 * continuations, every numeric leaf, x86 decorated publics, FPO and frame
 * data, and streams fragmented over shuffled blocks.  The expected values
 * are the constants make_synth_pdb.py writes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "symbols.h"

static int failures;

#include "../common/check.h"

static int64_t enum_value(pdb_file *pdb, uint32_t ti, const char *name)
{
	int n = pdb_type_member_count(pdb, ti);
	for (int i = 0; i < n; i++) {
		pdb_member m;
		if (pdb_type_member_at(pdb, ti, (size_t)i, &m) == 0 && strcmp(m.name, name) == 0)
			return m.value;
	}
	return 12345;
}

int main(int argc, char **argv)
{
	char err[256];
	pdb_file *pdb;
	if (argc != 2 || pdb_open(argv[1], &pdb, err, sizeof err) < 0) {
		printf("FAIL open: %s\n", argc == 2 ? err : "usage: test_synth FILE.pdb");
		return 1;
	}
	uint8_t guid[16];
	uint32_t age, rva = 0, disp = 0, start = 0, len = 0;
	pdb_guid_age(pdb, guid, &age);
	CHECK(guid[0] == 0 && guid[15] == 15 && age == 3, "guid/age (age %u)", age);
	CHECK(pdb_machine(pdb) == PE_MACHINE_I386, "machine %#x", pdb_machine(pdb));

	/* OMAP: original .text 0x1000 -> 0x5000; 0x1018.. dropped; 0x1020 -> 0x5400 */
	pdb_symbol s;
	CHECK(pdb_lookup_symbol(pdb, "pub_func", &s) == 0 && s.rva == 0x5010 && s.kind == PDB_SYM_FUNCTION &&
	      s.size == 0x20, "pub_func rva %#x kind %d", s.rva, s.kind);
	pdb_type t;
	CHECK(pdb_type_info(pdb, s.type_index, &t) == 0 && t.kind == PDB_TYPE_PROCEDURE && t.elem_ti == 0x74,
	      "S_GPROC32_ID type %#x not mapped through IPI to the LF_PROCEDURE", s.type_index);
	CHECK(pdb_find_symbol(pdb, "_pub_func@8", &rva) == 0 && rva == 0x5010, "decorated public %#x", rva);
	const char *name = NULL;
	CHECK(pdb_symbol_at(pdb, 0x5012, &name, &disp) == 0 && strcmp(name, "pub_func") == 0 && disp == 2,
	      "symbol_at 0x5012: %s+%u", name ? name : "-", disp);
	CHECK(pdb_function_extent(pdb, 0x540f, &start, &len) == 0 && start == 0x5400 && len == 0x10,
	      "static_func extent %#x+%#x", start, len);
	CHECK(pdb_lookup_symbol(pdb, "fast_func", &s) == 0 && s.rva == 0 && strcmp(s.raw_name, "@fast_func@4") == 0,
	      "fastcall public in dropped code: rva %#x", s.rva);
	CHECK(pdb_find_symbol(pdb, "?cxx@@YAXXZ", &rva) == 0 && rva == 0x5420, "C++ public %#x", rva);
	CHECK(pdb_symbol_at(pdb, 0x5420, &name, &disp) == 0 && strcmp(name, "cxx") == 0, "C++ public shown as %s",
	      name ? name : "-");
	CHECK(pdb_lookup_symbol(pdb, "ns::Klass::Method", &s) == 0 && s.rva == 0x5424, "qualified C++ name");
	CHECK(pdb_lookup_symbol(pdb, "Klass::~Klass", &s) == 0 && s.rva == 0x5428, "destructor");
	CHECK(pdb_lookup_symbol(pdb, "??$tmpl@H@@YAXXZ", &s) == 0 && strcmp(s.name, s.raw_name) == 0,
	      "templates stay decorated: %s", s.name);
	CHECK(pdb_lookup_symbol(pdb, "g_big", &s) == 0 && s.rva == 0x8100 && pdb_type_size(pdb, s.type_index) == 0x10008,
	      "g_big %#x", s.rva);
	/* the symbol record stream is spread over non-consecutive blocks */
	CHECK(pdb_find_symbol(pdb, "filler_59", &rva) == 0 && rva == 0x55cc, "filler_59 %#x", rva);
	pdb_contribution c;
	CHECK(pdb_contribution_of(pdb, 0x5015, &c) == 0 && c.module == 0 && c.rva == 0x5010, "contribution");

	/* LF_INDEX continuation and wide offsets */
	uint32_t big, e;
	uint64_t off;
	CHECK(pdb_find_type(pdb, "Big", &big) == 0 && pdb_type_member_count(pdb, big) == 3, "Big members");
	CHECK(pdb_type_field(pdb, big, "far", &off, NULL) == 0 && off == 0x10000, "far at %#" PRIx64, off);
	CHECK(pdb_type_field(pdb, big, "mid", &off, NULL) == 0 && off == 0x9000, "mid at %#" PRIx64, off);

	/* numeric leaves; E's underlying type is 64-bit, so nothing is
	 * re-signed */
	CHECK(pdb_find_type(pdb, "E", &e) == 0 && pdb_type_size(pdb, e) == 8, "enum E");
	CHECK(enum_value(pdb, e, "E_CHAR") == -5, "LF_CHAR");
	CHECK(enum_value(pdb, e, "E_SHORT") == -300, "LF_SHORT");
	CHECK(enum_value(pdb, e, "E_USHORT") == 0xfff0, "LF_USHORT");
	CHECK(enum_value(pdb, e, "E_LONG") == -70000, "LF_LONG");
	CHECK(enum_value(pdb, e, "E_ULONG") == 0x80000000ll, "LF_ULONG");
	CHECK(enum_value(pdb, e, "E_QUAD") == -5000000000ll, "LF_QUADWORD");
	CHECK((uint64_t)enum_value(pdb, e, "E_UQUAD") == 0xf000000000000000ull, "LF_UQUADWORD");
	CHECK(enum_value(pdb, e, "E_SMALL") == 42, "inline value");

	/* LF_STRUCTURE2 / LF_UNION2 (32-bit properties) and a forward
	 * LF_STRUCTURE resolving to the LF_STRUCTURE2 definition */
	uint32_t b2, u2;
	CHECK(pdb_find_type(pdb, "Big2", &b2) == 0 && b2 == 0x100c && pdb_type_info(pdb, b2, &t) == 0 &&
	      t.kind == PDB_TYPE_STRUCT && !t.forward && t.size == 0x10008 &&
	      pdb_type_member_count(pdb, b2) == 3, "Big2 %#x", b2);
	CHECK(pdb_resolve_type(pdb, 0x100d) == 0x100c, "forward Big2 -> %#x", pdb_resolve_type(pdb, 0x100d));
	CHECK(pdb_type_field(pdb, 0x100d, "far", &off, NULL) == 0 && off == 0x10000, "Big2.far via fwd");
	CHECK(pdb_find_type(pdb, "U2", &u2) == 0 && pdb_type_info(pdb, u2, &t) == 0 && t.kind == PDB_TYPE_UNION &&
	      t.size == 0x40, "U2");

	/* self-referencing records end instead of recursing forever */
	for (uint32_t ti = 0x1007; ti <= 0x100a; ti++) {
		char buf[256];
		pdb_type_info(pdb, ti, &t);
		pdb_type_size(pdb, ti);
		CHECK(pdb_type_name(pdb, ti, buf, sizeof buf) > 0, "name of cyclic %#x", ti);
		pdb_type_c_name(pdb, ti, buf, sizeof buf);
	}
	uint32_t loop;
	CHECK(pdb_find_type(pdb, "Loop", &loop) == 0 &&
	      pdb_type_field(pdb, loop, "nothere", &off, NULL) == SYM_E_NOTFOUND, "field search in a cycle");

	/* FPO_DATA flag word per winnt.h: prolog 5, regs 2, SEH, BP, frame 3 */
	pdb_fpo f;
	CHECK(pdb_find_fpo(pdb, 0x501f, &f) == 0 && f.start == 0x5000 && f.locals == 2 && f.params == 3 &&
	      f.prolog == 5 && f.saved_regs == 2 && f.has_seh && f.uses_bp && f.frame_type == 3,
	      "FPO %u %u %u %u %u %u %u", f.locals, f.params, f.prolog, f.saved_regs, f.has_seh, f.uses_bp,
	      f.frame_type);
	CHECK(pdb_find_fpo(pdb, 0x5020, &f) == SYM_E_NOTFOUND, "FPO past the function");
	pdb_frame_data fd;
	CHECK(pdb_find_frame_data(pdb, 0x5010, &fd) == 0 && fd.locals_size == 8 && fd.params_size == 12 &&
	      fd.prolog_size == 4 && fd.saved_regs_size == 8 && fd.flags == 4 && fd.program &&
	      strcmp(fd.program, "$T0 .raSearch = $eip $T0 ^ = $esp $T0 4 + =") == 0,
	      "frame data: program %s", fd.program ? fd.program : "(null)");
	pdb_close(pdb);
	printf("%s (%d failures)\n", failures ? "FAILED" : "ok", failures);
	return failures ? 1 : 0;
}
