/*
 * pdb_lines.c - source line tables: each module stream ends with C13 debug
 * subsections; DEBUG_S_LINES blocks map code offsets to line numbers of a
 * file named through DEBUG_S_FILECHKSMS and the "/names" string table.
 * Loaded on first use into one array sorted by RVA.
 */
#include <stdlib.h>

#include "pdb_internal.h"

#define DEBUG_S_IGNORE     0x80000000u
#define DEBUG_S_LINES      0xf2
#define DEBUG_S_FILECHKSMS 0xf4
#define CV_LINES_HAVE_COLUMNS 0x0001
/* MSVC marks compiler-generated code with these line numbers ("step over
 * me"); it has no source line, which is what the lookups report. */
#define LINE_HIDDEN_1 0xf00f00u
#define LINE_HIDDEN_2 0xfeefeeu

static int is_hidden(uint32_t line)
{
	return line == LINE_HIDDEN_1 || line == LINE_HIDDEN_2;
}

typedef struct linevec {
	pdb_line *v;
	uint32_t n, cap;
} linevec;

static int push_line(pdb_file *pdb, linevec *lv, const pdb_line *l)
{
	if (lv->n == lv->cap) {
		uint32_t nc = lv->cap ? lv->cap * 2 : 1024;
		pdb_line *nv = realloc(lv->v, (size_t)nc * sizeof *nv);
		if (!nv)
			return pdb_fail(pdb, SYM_E_NOMEM, "out of memory");
		lv->v = nv;
		lv->cap = nc;
	}
	lv->v[lv->n++] = *l;
	return 0;
}

/* File name of a DEBUG_S_LINES block: fileid is a byte offset into the
 * module's checksum subsection, whose entry starts with a /names offset. */
static const char *file_name(pdb_file *pdb, const uint8_t *chk, uint32_t chklen, uint32_t fileid)
{
	if (!chk || fileid > chklen || chklen - fileid < 6)
		return "";
	const char *s = pdb_strtab_string(pdb, sym_le32(chk + fileid));
	return s ? s : "";
}

static int lines_subsection(pdb_file *pdb, linevec *lv, const uint8_t *d, uint32_t n,
                            const uint8_t *chk, uint32_t chklen)
{
	sym_cursor c;
	sym_cur_init(&c, d, n);
	uint32_t off = sym_cur_u32(&c);
	uint16_t seg = sym_cur_u16(&c);
	uint16_t flags = sym_cur_u16(&c);
	uint32_t size = sym_cur_u32(&c);
	if (c.bad)
		return pdb_fail(pdb, SYM_E_FORMAT, "line table header truncated");
	uint32_t base = pdb_segoff_to_rva(pdb, seg, off);
	while (c.pos + 12 <= c.len) {
		size_t block = c.pos;
		uint32_t fileid = sym_cur_u32(&c);
		uint32_t count = sym_cur_u32(&c);
		uint32_t bytes = sym_cur_u32(&c);
		uint64_t need = 12 + (uint64_t)count * ((flags & CV_LINES_HAVE_COLUMNS) ? 12 : 8);
		if (bytes < 12 || bytes > c.len - block || need > bytes)
			return pdb_fail(pdb, SYM_E_FORMAT, "line block at %#zx runs past its subsection", block);
		const char *file = file_name(pdb, chk, chklen, fileid);
		for (uint32_t i = 0; i < count && base; i++) {
			const uint8_t *e = d + block + 12 + 8 * (size_t)i;
			pdb_line l;
			l.offset = off + sym_le32(e);
			l.segment = seg;
			/* each entry through the address map: OMAP may move
			 * pieces of one block apart */
			l.rva = pdb_segoff_to_rva(pdb, seg, l.offset);
			l.end = base + size;
			if (!l.rva)
				continue;
			if (l.end <= l.rva)
				l.end = l.rva + 1;
			l.line = sym_le32(e + 4) & 0xffffff;
			l.file = file;
			int rc = push_line(pdb, lv, &l);
			if (rc < 0)
				return rc;
		}
		c.pos = block + bytes;
	}
	return 0;
}

/* C13 subsections: u32 kind, u32 length, data padded to 4. */
static int module_lines(pdb_file *pdb, linevec *lv, const uint8_t *d, uint32_t n)
{
	const uint8_t *chk = NULL;
	uint32_t chklen = 0;
	for (int pass = 0; pass < 2; pass++) {
		uint32_t pos = 0;
		while (pos + 8 <= n) {
			uint32_t kind = sym_le32(d + pos), len = sym_le32(d + pos + 4);
			if (len > n - pos - 8)
				return pdb_fail(pdb, SYM_E_FORMAT, "C13 subsection at %#x runs past the stream", pos);
			const uint8_t *body = d + pos + 8;
			if (!(kind & DEBUG_S_IGNORE)) {
				if (pass == 0 && kind == DEBUG_S_FILECHKSMS) {
					chk = body;
					chklen = len;
				} else if (pass == 1 && kind == DEBUG_S_LINES) {
					int rc = lines_subsection(pdb, lv, body, len, chk, chklen);
					if (rc < 0)
						return rc;
				}
			}
			pos += 8 + ((len + 3) & ~3u);
		}
	}
	return 0;
}

/* Entries of one address (an empty line followed by the real one) keep
 * their recorded order, so a lookup lands on the last, which has code. */
typedef struct seq_line {
	pdb_line l;
	uint32_t seq;
} seq_line;

static int cmp_line(const void *a, const void *b)
{
	const seq_line *x = a, *y = b;
	if (x->l.rva != y->l.rva)
		return x->l.rva < y->l.rva ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int sort_lines(pdb_file *pdb, linevec *lv)
{
	seq_line *t = malloc(((size_t)lv->n + 1) * sizeof *t);
	if (!t)
		return pdb_fail(pdb, SYM_E_NOMEM, "out of memory");
	for (uint32_t i = 0; i < lv->n; i++) {
		t[i].l = lv->v[i];
		t[i].seq = i;
	}
	qsort(t, lv->n, sizeof *t, cmp_line);
	for (uint32_t i = 0; i < lv->n; i++)
		lv->v[i] = t[i].l;
	free(t);
	return 0;
}

static int load_lines(pdb_file *pdb)
{
	int rc = pdb_load_dbi(pdb);
	if (rc < 0)
		return rc;
	linevec lv = {0};
	for (uint32_t i = 0; i < pdb->nmodules; i++) {
		const pdb_module *m = &pdb->modules[i];
		const uint8_t *d;
		uint32_t n;
		if (m->sym_stream == PDB_NIL_STREAM || !m->c13_bytes)
			continue;
		if ((rc = pdb_stream(pdb, m->sym_stream, &d, &n)) < 0)
			goto fail;
		uint64_t start = (uint64_t)m->sym_bytes + m->c11_bytes;
		if (start > n || m->c13_bytes > n - start) {
			rc = pdb_fail(pdb, SYM_E_FORMAT, "module %u: line info past its stream", i);
			goto fail;
		}
		if ((rc = module_lines(pdb, &lv, d + start, m->c13_bytes)) < 0)
			goto fail;
	}
	if ((rc = sort_lines(pdb, &lv)) < 0)
		goto fail;
	pdb->lines = lv.v;
	pdb->nlines = lv.n;
	return 0;
fail:
	free(lv.v);
	return rc;
}

static int ensure_lines(pdb_file *pdb)
{
	if (pdb->lines_state == 0) {
		int rc = load_lines(pdb);
		pdb->lines_state = rc < 0 ? rc : 1;
	}
	return pdb->lines_state < 0 ? pdb->lines_state : 0;
}

int pdb_line_at(pdb_file *pdb, uint32_t rva, pdb_line *out)
{
	int rc = ensure_lines(pdb);
	if (rc < 0)
		return rc;
	uint32_t lo = 0, hi = pdb->nlines;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (pdb->lines[mid].rva <= rva)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo && rva < pdb->lines[lo - 1].end && !is_hidden(pdb->lines[lo - 1].line)) {
		*out = pdb->lines[lo - 1];
		return 0;
	}
	return pdb_fail(pdb, SYM_E_NOTFOUND, "no line information for RVA %#x", rva);
}

int pdb_foreach_line(pdb_file *pdb, pdb_line_cb cb, void *ctx)
{
	int rc = ensure_lines(pdb);
	if (rc < 0)
		return rc;
	for (uint32_t i = 0; i < pdb->nlines; i++) {
		if (is_hidden(pdb->lines[i].line))
			continue;
		int r = cb(ctx, &pdb->lines[i]);
		if (r)
			return r;
	}
	return 0;
}
