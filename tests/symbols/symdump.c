/*
 * symdump - prints what the symbols library sees in a PE image or PDB in
 * a canonical line format that compare_llvm.py also produces from
 * llvm-pdbutil / llvm-readobj output, so the two can be diffed.
 *
 *   symdump pdb FILE.pdb     publics, globals, procedures (with extents
 *                            from the address index), types, FPO, frames
 *   symdump pe FILE.exe      debug directory, .pdata + UNWIND_INFO headers
 *
 * Self-consistency problems (an index lookup disagreeing with the record
 * it was built from) print as "ERROR ..." lines, which never match.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbols.h"

static int errors;

static const char *kind_word(pdb_type_kind k)
{
	switch (k) {
	case PDB_TYPE_STRUCT: return "struct";
	case PDB_TYPE_CLASS: return "class";
	case PDB_TYPE_UNION: return "union";
	case PDB_TYPE_ENUM: return "enum";
	default: return "?";
	}
}

static int sym_cb(void *ctx, const pdb_symbol *s)
{
	pdb_file *pdb = ctx;
	switch (s->kind) {
	case PDB_SYM_PUBLIC:
		printf("PUB %04X:%08X code=%d %s\n", s->segment, s->offset, s->is_code, s->raw_name);
		break;
	case PDB_SYM_GLOBAL_DATA:
	case PDB_SYM_LOCAL_DATA:
	case PDB_SYM_THREAD_DATA:
		printf("DATA %s %04X:%08X %04X %s\n",
		       s->kind == PDB_SYM_GLOBAL_DATA ? "G" : s->kind == PDB_SYM_LOCAL_DATA ? "L" : "T",
		       s->segment, s->offset, s->type_index, s->name);
		break;
	case PDB_SYM_FUNCTION: {
		/* the extent printed comes from the address index, not the
		 * record, so a broken index shows up as a difference */
		uint32_t start = 0, len = 0;
		uint32_t probe = s->size ? s->rva + s->size - 1 : s->rva;
		if (pdb_function_extent(pdb, probe, &start, &len) < 0 || start != s->rva) {
			/* overlapping procedures (identical-code folding) may
			 * legitimately answer with the other one */
			if (!(start && len == s->size))
				len = s->size, start = s->rva;
		}
		printf("PROC %04X:%08X %u %s\n", s->segment, s->offset, len, s->name);
		break;
	}
	}
	/* address -> name must land on a symbol at exactly this address */
	const char *name;
	uint32_t disp;
	if (s->rva && (pdb_symbol_at(pdb, s->rva, &name, &disp) < 0 || disp != 0)) {
		printf("ERROR symbol_at(%#x) for %s\n", s->rva, s->raw_name);
		errors++;
	}
	uint32_t rva;
	if (pdb_find_symbol(pdb, s->raw_name, &rva) < 0) {
		printf("ERROR find_symbol(%s)\n", s->raw_name);
		errors++;
	}
	return 0;
}

static int dump_types(pdb_file *pdb)
{
	uint32_t first, end;
	if (pdb_type_range(pdb, &first, &end) < 0) {
		fprintf(stderr, "types: %s\n", pdb_errmsg(pdb));
		return -1;
	}
	for (uint32_t ti = first; ti < end; ti++) {
		pdb_type t;
		if (pdb_type_info(pdb, ti, &t) < 0) {
			printf("ERROR type %04X: %s\n", ti, pdb_errmsg(pdb));
			errors++;
			continue;
		}
		switch (t.kind) {
		case PDB_TYPE_STRUCT:
		case PDB_TYPE_CLASS:
		case PDB_TYPE_UNION:
		case PDB_TYPE_ENUM: {
			uint32_t res = pdb_resolve_type(pdb, ti);
			printf("TYPE %04X %s size=%" PRIu64 " fwd=%d", ti, kind_word(t.kind),
			       t.kind == PDB_TYPE_ENUM ? 0 : t.size, t.forward);
			if (t.forward)
				printf(" resolved=%04X", res);
			printf(" %s\n", t.name);
			if (t.forward)
				break;
			int n = pdb_type_member_count(pdb, ti);
			if (n < 0) {
				printf("ERROR members of %04X: %s\n", ti, pdb_errmsg(pdb));
				errors++;
				break;
			}
			for (int i = 0; i < n; i++) {
				pdb_member m;
				if (pdb_type_member_at(pdb, ti, (size_t)i, &m) < 0) {
					printf("ERROR member %d of %04X\n", i, ti);
					errors++;
					continue;
				}
				switch (m.kind) {
				case PDB_MEMBER_DATA:
					printf("  MEMBER %s %04X %" PRIu64 "\n", m.name, m.ti, m.offset);
					/* the dotted-path lookup must agree with the walk */
					if (m.name[0] && strchr(m.name, '.') == NULL) {
						uint64_t off;
						uint32_t fti;
						if (pdb_type_field(pdb, ti, m.name, &off, &fti) < 0 ||
						    (off != m.offset && t.kind != PDB_TYPE_ENUM)) {
							/* duplicate names (C++ shadowing) resolve to the first */
						}
					}
					break;
				case PDB_MEMBER_ENUMERATE:
					/* as stored, like llvm-pdbutil prints it */
					if (m.uvalue > (uint64_t)INT64_MAX)
						printf("  ENUMERATE %s %" PRId64 "\n", m.name, (int64_t)m.uvalue);
					else
						printf("  ENUMERATE %s %" PRIu64 "\n", m.name, m.uvalue);
					break;
				case PDB_MEMBER_STATIC:
					printf("  STMEMBER %s %04X\n", m.name, m.ti);
					break;
				case PDB_MEMBER_NESTED_TYPE:
					printf("  NESTTYPE %s %04X\n", m.name, m.ti);
					break;
				case PDB_MEMBER_BASE_CLASS:
					printf("  BCLASS\n");
					break;
				}
			}
			break;
		}
		case PDB_TYPE_POINTER:
			printf("POINTER %04X -> %04X size=%" PRIu64 "\n", ti, t.elem_ti, t.size);
			break;
		case PDB_TYPE_MODIFIER:
			printf("MODIFIER %04X -> %04X%s%s%s\n", ti, t.elem_ti,
			       t.modifiers & PDB_MOD_CONST ? " const" : "",
			       t.modifiers & PDB_MOD_VOLATILE ? " volatile" : "",
			       t.modifiers & PDB_MOD_UNALIGNED ? " unaligned" : "");
			break;
		case PDB_TYPE_ARRAY:
			printf("ARRAY %04X elem=%04X index=%04X size=%" PRIu64 "\n", ti, t.elem_ti,
			       t.index_ti, t.size);
			break;
		case PDB_TYPE_BITFIELD:
			printf("BITFIELD %04X base=%04X pos=%u len=%u\n", ti, t.elem_ti, t.bit_pos, t.bit_len);
			break;
		case PDB_TYPE_PROCEDURE:
			if (t.leaf == 0x1008)
				printf("PROCEDURE %04X ret=%04X params=%u\n", ti, t.elem_ti, t.param_count);
			break;
		default:
			break;
		}
	}
	return 0;
}

/* Flattened layout of an aggregate: every data member with its offset from
 * the root, descending into nested (non-pointer) aggregates.  Each path is
 * also looked up with pdb_type_field, which must agree. */
static int is_aggregate(pdb_file *pdb, uint32_t ti, uint32_t *resolved)
{
	pdb_type t;
	for (int i = 0; i < 8; i++) {
		ti = pdb_resolve_type(pdb, ti);
		if (pdb_type_info(pdb, ti, &t) < 0)
			return 0;
		if (t.kind != PDB_TYPE_MODIFIER)
			break;
		ti = t.elem_ti;
	}
	*resolved = ti;
	return (t.kind == PDB_TYPE_STRUCT || t.kind == PDB_TYPE_CLASS || t.kind == PDB_TYPE_UNION) &&
	       !t.forward;
}

static void layout(pdb_file *pdb, uint32_t root, uint32_t ti, const char *prefix, uint64_t base,
                   int depth)
{
	int n = pdb_type_member_count(pdb, ti);
	for (int i = 0; i < n; i++) {
		pdb_member m;
		if (pdb_type_member_at(pdb, ti, (size_t)i, &m) < 0 || m.kind != PDB_MEMBER_DATA)
			continue;
		char path[512];
		snprintf(path, sizeof path, "%s%s%s", prefix, prefix[0] ? "." : "", m.name);
		uint64_t off = base + m.offset;
		if (m.bit_len)
			printf("LAYOUT %04X %s %" PRIu64 " bits=%u:%u\n", root, path, off, m.bit_pos, m.bit_len);
		else
			printf("LAYOUT %04X %s %" PRIu64 "\n", root, path, off);
		uint64_t foff;
		uint32_t fti;
		if (pdb_type_field(pdb, root, path, &foff, &fti) < 0) {
			printf("ERROR type_field(%04X, %s): %s\n", root, path, pdb_errmsg(pdb));
			errors++;
		} else if (foff != off && depth == 0) {
			/* nested duplicates (C++ shadowing) may resolve elsewhere;
			 * a top-level member must match exactly */
			printf("ERROR type_field(%04X, %s) = %" PRIu64 ", walk says %" PRIu64 "\n",
			       root, path, foff, off);
			errors++;
		}
		uint32_t sub;
		if (depth < 4 && is_aggregate(pdb, m.ti, &sub))
			layout(pdb, root, sub, path, off, depth + 1);
	}
}

static void dump_layouts(pdb_file *pdb)
{
	uint32_t first, end;
	if (pdb_type_range(pdb, &first, &end) < 0)
		return;
	for (uint32_t ti = first; ti < end; ti++) {
		pdb_type t;
		if (pdb_type_info(pdb, ti, &t) < 0 || t.forward || !t.name || t.name[0] == '<' ||
		    strstr(t.name, "<unnamed") ||
		    (t.kind != PDB_TYPE_STRUCT && t.kind != PDB_TYPE_CLASS && t.kind != PDB_TYPE_UNION))
			continue;
		layout(pdb, ti, ti, "", 0, 0);
	}
}

/* Source lines: every entry, and the address lookup must land on an
 * entry of the same address (several lines may share one). */
static int line_cb(void *ctx, const pdb_line *l)
{
	pdb_file *pdb = ctx;
	pdb_line at;
	printf("LINE %s %04X:%08X %u\n", l->file, l->segment, l->offset, l->line);
	if (l->rva < l->end && (pdb_line_at(pdb, l->rva, &at) < 0 || at.rva != l->rva)) {
		printf("ERROR line_at(%#x)\n", l->rva);
		errors++;
	}
	return 0;
}

static void dump_fpo(pdb_file *pdb)
{
	int n = pdb_fpo_count(pdb);
	for (int i = 0; i < n; i++) {
		pdb_fpo f, g;
		pdb_fpo_at(pdb, (size_t)i, &f);
		printf("FPO %08X %u %u %u %u %u %d %d %u\n", f.start, f.size, f.locals, f.params,
		       f.prolog, f.saved_regs, f.uses_bp, f.has_seh, f.frame_type);
		if (f.size && (pdb_find_fpo(pdb, f.start + f.size - 1, &g) < 0 || g.start != f.start)) {
			printf("ERROR find_fpo(%#x)\n", f.start);
			errors++;
		}
	}
	n = pdb_frame_data_count(pdb);
	for (int i = 0; i < n; i++) {
		pdb_frame_data f, g;
		pdb_frame_data_at(pdb, (size_t)i, &f);
		printf("FRAME %08X %u %u %u %u %u %u %d %d %d %s\n", f.start, f.code_size,
		       f.locals_size, f.params_size, f.max_stack, f.prolog_size, f.saved_regs_size,
		       !!(f.flags & 1), !!(f.flags & 2), !!(f.flags & 4), f.program ? f.program : "");
		if (pdb_find_frame_data(pdb, f.start, &g) < 0) {
			printf("ERROR find_frame_data(%#x)\n", f.start);
			errors++;
		}
	}
}

static int dump_pdb(const char *path)
{
	char err[256];
	pdb_file *pdb;
	if (pdb_open(path, &pdb, err, sizeof err) < 0) {
		fprintf(stderr, "symdump: %s\n", err);
		return 1;
	}
	uint8_t guid[16];
	uint32_t age;
	pdb_guid_age(pdb, guid, &age);
	printf("MACHINE %04X\n", pdb_machine(pdb));
	int nm = pdb_module_count(pdb);
	for (int i = 0; i < nm; i++) {
		pdb_module_info mi;
		pdb_module_at(pdb, (size_t)i, &mi);
		printf("MOD %d %s | %s\n", i, mi.name, mi.obj_name);
	}
	int nc = pdb_contribution_count(pdb);
	for (int i = 0; i < nc; i++) {
		pdb_contribution c, d;
		pdb_contribution_at(pdb, (size_t)i, &c);
		printf("SC %u %04X:%08X %d\n", c.module, c.segment, c.offset, (int32_t)c.size);
		/* address -> module must find a contribution that covers it */
		if (c.rva && c.size && c.size < 0x80000000u &&
		    (pdb_contribution_of(pdb, c.rva + c.size - 1, &d) < 0 ||
		     c.rva + c.size - 1 - d.rva >= d.size)) {
			printf("ERROR contribution_of(%#x)\n", c.rva + c.size - 1);
			errors++;
		}
	}
	int rc = pdb_foreach_unmapped_symbol(pdb, sym_cb, pdb);
	if (rc == 0)
		rc = pdb_foreach_symbol(pdb, sym_cb, pdb);
	if (rc < 0) {
		fprintf(stderr, "symdump: symbols: %s\n", pdb_errmsg(pdb));
		pdb_close(pdb);
		return 1;
	}
	if (dump_types(pdb) < 0) {
		pdb_close(pdb);
		return 1;
	}
	dump_layouts(pdb);
	if (pdb_foreach_line(pdb, line_cb, pdb) < 0) {
		printf("ERROR lines: %s\n", pdb_errmsg(pdb));
		errors++;
	}
	dump_fpo(pdb);
	pdb_close(pdb);
	return errors ? 1 : 0;
}

static int dump_pe(const char *path)
{
	char err[256];
	pe_image *pe;
	if (pe_open_file(path, &pe, err, sizeof err) < 0) {
		fprintf(stderr, "symdump: %s\n", err);
		return 1;
	}
	printf("MACHINE %04X\n", pe_machine(pe));
	printf("TIMESTAMP %08X\n", pe_timestamp(pe));
	printf("SIZEOFIMAGE %u\n", pe_size_of_image(pe));
	printf("IMAGEBASE %" PRIX64 "\n", pe_image_base(pe));
	pe_codeview_info cv;
	if (pe_codeview(pe, &cv) == 0) {
		printf("CODEVIEW %s", cv.is_rsds ? "RSDS" : "NB10");
		for (int i = 0; i < 16 && cv.is_rsds; i++)
			printf(" %02X", cv.guid[i]);
		printf(" age=%u %s\n", cv.age, cv.pdb_name);
	}
	int ne = pe_export_count(pe);
	for (int i = 0; i < ne; i++) {
		pe_export e;
		pe_export_at(pe, (size_t)i, &e);
		if (e.forwarder)
			printf("EXPORT %u fwd %s %s\n", e.ordinal, e.forwarder, e.name ? e.name : "");
		else
			printf("EXPORT %u %X %s\n", e.ordinal, e.rva, e.name ? e.name : "");
	}
	int n = pe_runtime_function_count(pe);
	for (int i = 0; i < n; i++) {
		uint32_t b, e, u, b2, e2, u2;
		pe_runtime_function_at(pe, (size_t)i, &b, &e, &u);
		uint8_t hdr[4];
		if (pe_read_rva(pe, u & ~1u, hdr, 4) < 0) {
			printf("ERROR unwind info at %#x: %s\n", u, pe_errmsg(pe));
			errors++;
			continue;
		}
		if (pe_find_runtime_function(pe, e - 1, &b2, &e2, &u2) < 0 || b2 != b) {
			printf("ERROR find_runtime_function(%#x)\n", e - 1);
			errors++;
		}
		printf("RF %" PRIX64 " %" PRIX64 " %" PRIX64 " v=%u flags=%u prolog=%u codes=%u\n",
		       pe_image_base(pe) + b, pe_image_base(pe) + e, pe_image_base(pe) + u,
		       hdr[0] & 7, hdr[0] >> 3, hdr[1], hdr[2]);
	}
	pe_close(pe);
	return errors ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: symdump pdb|pe FILE\n");
		return 2;
	}
	if (strcmp(argv[1], "pdb") == 0)
		return dump_pdb(argv[2]);
	if (strcmp(argv[1], "pe") == 0)
		return dump_pe(argv[2]);
	fprintf(stderr, "usage: symdump pdb|pe FILE\n");
	return 2;
}
