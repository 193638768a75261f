/*
 * test_hostile - malformed PDBs and PE images must be refused with a clear
 * message, never crash or read out of bounds (run under ASan too):
 *  - truncation at every MSF block boundary (as-is, and with the superblock
 *    patched to claim the shorter length, so the directory checks fire);
 *  - stream sizes past the end, directory and stream blocks outside the
 *    file, a block map address outside the file, bad magic, PDB 2.00;
 *  - DBI substream sizes past the stream;
 *  - random bit flips (fixed seed), each followed by every query;
 *  - PE: truncation every 64 bytes and bit flips.
 *
 *   test_hostile FILE.pdb FILE.exe [iterations [seed]]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbols.h"

static int failures;

#include "../common/check.h"

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *b = malloc((size_t)n + 1);
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return b;
}

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static void wr32(uint8_t *p, uint32_t v) { p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24; }

static int sym_cb(void *ctx, const pdb_symbol *s)
{
	pdb_file *pdb = ctx;
	const char *name;
	uint32_t disp, start, len, rva;
	pdb_symbol_at(pdb, s->rva + 1, &name, &disp);
	pdb_function_extent(pdb, s->rva, &start, &len);
	if (s->raw_name)
		pdb_find_symbol(pdb, s->raw_name, &rva);
	return 0;
}

static int line_cb(void *ctx, const pdb_line *l)
{
	pdb_line at;
	pdb_line_at(ctx, l->rva, &at);
	return 0;
}

/* Every query the library offers; the result does not matter, only that
 * nothing crashes and errors carry a message. */
static void exercise_pdb(pdb_file *pdb)
{
	uint8_t guid[16];
	uint32_t age, first, end, rva;
	pdb_guid_age(pdb, guid, &age);
	pdb_machine(pdb);
	pdb_foreach_unmapped_symbol(pdb, sym_cb, pdb);
	if (pdb_foreach_symbol(pdb, sym_cb, pdb) < 0)
		CHECK(pdb_errmsg(pdb)[0], "symbols error without message");
	pdb_find_symbol(pdb, "main", &rva);
	pdb_section_count(pdb);
	int nm = pdb_module_count(pdb);
	for (int i = 0; i < nm; i++) {
		pdb_module_info mi;
		pdb_module_at(pdb, (size_t)i, &mi);
	}
	int nc = pdb_contribution_count(pdb);
	for (int i = 0; i < nc; i++) {
		pdb_contribution c;
		if (pdb_contribution_at(pdb, (size_t)i, &c) == 0)
			pdb_contribution_of(pdb, c.rva, &c);
	}
	if (pdb_type_range(pdb, &first, &end) == 0) {
		for (uint32_t ti = first; ti < end && ti < first + 4000; ti++) {
			pdb_type t;
			char name[256];
			pdb_type_info(pdb, ti, &t);
			pdb_type_name(pdb, ti, name, sizeof name);
			pdb_type_c_name(pdb, ti, name, sizeof name);
			pdb_type_size(pdb, ti);
			pdb_resolve_type(pdb, ti);
			int n = pdb_type_member_count(pdb, ti);
			for (int i = 0; i < n && i < 64; i++) {
				pdb_member m;
				if (pdb_type_member_at(pdb, ti, (size_t)i, &m) == 0 && m.kind == PDB_MEMBER_DATA &&
				    m.name && m.name[0]) {
					uint64_t off;
					uint32_t fti;
					pdb_type_field(pdb, ti, m.name, &off, &fti);
				}
			}
			if (t.name) {
				uint32_t found;
				pdb_find_type(pdb, t.name, &found);
			}
		}
	} else {
		CHECK(pdb_errmsg(pdb)[0], "types error without message");
	}
	pdb_line ln;
	if (pdb_foreach_line(pdb, line_cb, pdb) == 0)
		pdb_line_at(pdb, 0x1000, &ln);
	pdb_fpo f;
	pdb_frame_data fd;
	int n = pdb_fpo_count(pdb);
	for (int i = 0; i < n; i++)
		if (pdb_fpo_at(pdb, (size_t)i, &f) == 0)
			pdb_find_fpo(pdb, f.start, &f);
	n = pdb_frame_data_count(pdb);
	for (int i = 0; i < n; i++)
		if (pdb_frame_data_at(pdb, (size_t)i, &fd) == 0)
			pdb_find_frame_data(pdb, fd.start, &fd);
}

/* Open a copy (exactly len bytes, so ASan sees any overread) and query it.
 * Returns the open result. */
static int try_pdb(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	uint8_t *copy = malloc(len ? len : 1);
	memcpy(copy, buf, len);
	pdb_file *pdb;
	err[0] = 0;
	int rc = pdb_open_memory(copy, len, &pdb, err, errlen);
	if (rc == 0) {
		exercise_pdb(pdb);
		pdb_close(pdb);
	} else {
		CHECK(err[0] != 0, "open failed (%d) without a message", rc);
	}
	free(copy);
	return rc;
}

static void exercise_pe(pe_image *pe)
{
	pe_codeview_info cv;
	pe_export e;
	pe_section s;
	uint32_t b, en, u;
	uint8_t buf[64];
	pe_codeview(pe, &cv);
	int n = pe_export_count(pe);
	for (int i = 0; i < n; i++)
		if (pe_export_at(pe, (size_t)i, &e) == 0 && e.name)
			pe_find_export(pe, e.name, &e);
	for (size_t i = 0; i < pe_section_count(pe); i++) {
		pe_section_at(pe, i, &s);
		pe_read_rva(pe, s.virtual_address, buf, sizeof buf);
	}
	n = pe_runtime_function_count(pe);
	for (int i = 0; i < n; i++) {
		if (pe_runtime_function_at(pe, (size_t)i, &b, &en, &u) == 0) {
			pe_find_runtime_function(pe, b, &b, &en, &u);
			pe_read_rva(pe, u, buf, 4);
		}
	}
	pe_read_rva(pe, 0xfffffff0u, buf, 32);
}

/* The same bytes as a "loaded image" behind a read callback (layouts
 * differ, which is the point: any header value is possible). */
typedef struct mem_view {
	const uint8_t *p;
	size_t len;
} mem_view;

static int view_read(void *ctx, uint64_t addr, void *buf, size_t len, size_t *got)
{
	mem_view *v = ctx;
	uint64_t off = addr - 0x10000000ull;
	*got = 0;
	if (addr < 0x10000000ull || off >= v->len)
		return -1;
	size_t n = v->len - off < len ? (size_t)(v->len - off) : len;
	memcpy(buf, v->p + off, n);
	*got = n;
	return 0;
}

static int try_pe(const uint8_t *buf, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	memcpy(copy, buf, len);
	pe_image *pe;
	char err[256] = "";
	int rc = pe_open_memory(copy, len, &pe, err, sizeof err);
	if (rc == 0) {
		exercise_pe(pe);
		pe_close(pe);
	} else {
		CHECK(err[0] != 0, "PE open failed without a message");
	}
	mem_view v = { copy, len };
	if (pe_open_read(view_read, &v, 0x10000000ull, &pe, err, sizeof err) == 0) {
		exercise_pe(pe);
		pe_close(pe);
	}
	free(copy);
	return rc;
}

/* xorshift: a fixed-seed generator so a failure reproduces */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: test_hostile FILE.pdb FILE.exe [iterations [seed]]\n");
		return 2;
	}
	int iterations = argc > 3 ? atoi(argv[3]) : 300;
	if (argc > 4)   /* another seed for longer fuzzing runs by hand */
		rng_state ^= strtoull(argv[4], NULL, 0) * 0x2545f4914f6cdd1dull;
	size_t len, pelen;
	uint8_t *pdb = slurp(argv[1], &len), *pe = slurp(argv[2], &pelen);
	if (!pdb || !pe) {
		printf("cannot read inputs\n");
		return 1;
	}
	char err[256];
	CHECK(try_pdb(pdb, len, err, sizeof err) == 0, "pristine PDB must open: %s", err);
	uint32_t bs = rd32(pdb + 32), nblocks = rd32(pdb + 40), map_addr = rd32(pdb + 52);
	CHECK(bs >= 512 && (size_t)bs * nblocks == len, "unexpected superblock");
	if (failures)
		return 1;

	/* 1. truncation at every block boundary */
	for (uint32_t k = 0; k < nblocks; k++) {
		int rc = try_pdb(pdb, (size_t)k * bs, err, sizeof err);
		CHECK(rc == SYM_E_FORMAT, "truncated at block %u opened (rc %d)", k, rc);
		if (k == nblocks / 2)
			printf("truncated at block %u: %s\n", k, err);
	}
	/* ... and claiming the shorter size in the superblock */
	for (uint32_t k = 1; k < nblocks; k++) {
		uint8_t *c = malloc((size_t)k * bs);
		memcpy(c, pdb, (size_t)k * bs);
		wr32(c + 40, k);
		if (map_addr < k)
			try_pdb(c, (size_t)k * bs, err, sizeof err);
		free(c);
	}

	uint8_t *c = malloc(len);
	/* 2. bad magic, PDB 2.00 */
	memcpy(c, pdb, len);
	c[5] ^= 0x20;
	CHECK(try_pdb(c, len, err, sizeof err) == SYM_E_FORMAT && strstr(err, "signature"), "%s", err);
	printf("bad magic: %s\n", err);
	memcpy(c, "MSCF\0\0\0\0", 8);
	CHECK(try_pdb(c, len, err, sizeof err) == SYM_E_FORMAT && strstr(err, "CAB"), "%s", err);
	printf("CAB: %s\n", err);
	memcpy(c, "Microsoft C/C++ program database 2.00\r\n\x1a" "JG\0\0", 44);
	CHECK(try_pdb(c, len, err, sizeof err) == SYM_E_FORMAT && strstr(err, "2.00"), "%s", err);
	printf("PDB 2.00: %s\n", err);

	/* 3. block map address and directory blocks outside the file */
	memcpy(c, pdb, len);
	wr32(c + 52, nblocks + 5);
	CHECK(try_pdb(c, len, err, sizeof err) == SYM_E_FORMAT && strstr(err, "outside"), "%s", err);
	printf("block map outside: %s\n", err);
	memcpy(c, pdb, len);
	wr32(c + (size_t)map_addr * bs, 0x00ffffff);
	CHECK(try_pdb(c, len, err, sizeof err) == SYM_E_FORMAT && strstr(err, "outside"), "%s", err);
	printf("directory outside: %s\n", err);

	/* the directory itself (first block; small PDBs have one) */
	uint32_t dir_block = rd32(pdb + (size_t)map_addr * bs);
	size_t dir = (size_t)dir_block * bs;
	uint32_t nstreams = rd32(pdb + dir);
	CHECK(nstreams > 4 && 4 + 8 * (size_t)nstreams < bs, "directory layout (%u streams)", nstreams);
	/* 4. stream size past the end: DBI (stream 3) claims 2 GB */
	memcpy(c, pdb, len);
	wr32(c + dir + 4 + 4 * 3, 0x7ffffff0);
	CHECK(try_pdb(c, len, err, sizeof err) == SYM_E_FORMAT, "huge stream size opened");
	printf("stream size past end: %s\n", err);
	/* a stream block outside the file: first block of stream 1 */
	size_t blocks_at = dir + 4 + 4 * (size_t)nstreams;
	uint32_t s0 = rd32(pdb + dir + 4);
	size_t s1_first = blocks_at + 4 * (((size_t)(s0 == 0xffffffffu ? 0 : s0) + bs - 1) / bs);
	memcpy(c, pdb, len);
	wr32(c + s1_first, nblocks + 100);
	CHECK(try_pdb(c, len, err, sizeof err) == SYM_E_FORMAT && strstr(err, "outside"), "%s", err);
	printf("stream block outside: %s\n", err);

	/* 5. DBI substream sizes past the stream: find DBI's first block */
	size_t pos = blocks_at;
	uint32_t dbi_block = 0;
	for (uint32_t i = 0; i < nstreams; i++) {
		uint32_t sz = rd32(pdb + dir + 4 + 4 * i);
		uint32_t nb = sz == 0xffffffffu ? 0 : (sz + bs - 1) / bs;
		if (i == 3)
			dbi_block = rd32(pdb + pos);
		pos += 4 * (size_t)nb;
	}
	memcpy(c, pdb, len);
	wr32(c + (size_t)dbi_block * bs + 24, 0x70000000);   /* ModInfoSize */
	{
		pdb_file *p;
		CHECK(pdb_open_memory(c, len, &p, err, sizeof err) == 0, "%s", err);
		if (!failures) {
			uint32_t rva;
			CHECK(pdb_find_symbol(p, "main", &rva) == SYM_E_FORMAT && strstr(pdb_errmsg(p), "DBI"),
			      "%s", pdb_errmsg(p));
			printf("DBI substream past end: %s\n", pdb_errmsg(p));
			exercise_pdb(p);
			pdb_close(p);
		}
	}

	/* 6. random bit flips anywhere, then in the first 64 KB (headers,
	 * directory, small streams) where they hit structure more often */
	int opened = 0;
	for (int it = 0; it < iterations; it++) {
		memcpy(c, pdb, len);
		int flips = 1 + (int)(rng() % 8);
		size_t span = (it & 1) && len > 65536 ? 65536 : len;
		for (int f = 0; f < flips; f++) {
			size_t at = (size_t)(rng() % span);
			c[at] ^= (uint8_t)(1u << (rng() % 8));
		}
		size_t l = (it % 5 == 0) ? (size_t)(rng() % len) : len;
		if (try_pdb(c, l, err, sizeof err) == 0)
			opened++;
	}
	printf("bit flips: %d of %d mutated PDBs still opened (queried without crashing)\n", opened, iterations);

	/* 7. PE: truncations and flips */
	CHECK(try_pe(pe, pelen) == 0, "pristine PE must open");
	for (size_t l = 0; l < pelen; l += 64)
		try_pe(pe, l);
	uint8_t *pc = malloc(pelen);
	for (int it = 0; it < iterations; it++) {
		memcpy(pc, pe, pelen);
		int flips = 1 + (int)(rng() % 8);
		for (int f = 0; f < flips; f++) {
			size_t at = (size_t)(rng() % (pelen < 1024 || (it & 1) ? pelen : 1024));
			pc[at] ^= (uint8_t)(1u << (rng() % 8));
		}
		try_pe(pc, pelen);
	}
	free(pc);
	free(c);
	free(pdb);
	free(pe);
	printf("%s (%d failures)\n", failures ? "FAILED" : "ok", failures);
	return failures ? 1 : 0;
}
