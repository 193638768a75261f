/*
 * pdb_symbols.c - one merged symbol table per PDB: publics (S_PUB32) and
 * globals (S_GDATA32, S_LDATA32, S_G/LTHREAD32) from the symbol record
 * stream, procedures (S_GPROC32, S_LPROC32 and their _ID forms) from each
 * module's symbol stream.  Indexed once: name -> symbol (hash), address ->
 * nearest symbol (sorted array), address -> containing procedure.
 */
#include <stdlib.h>
#include <strings.h>

#include "pdb_internal.h"

/* CodeView symbol kinds (cvinfo.h values, as in llvm's CodeViewSymbols.def) */
#define S_LDATA32     0x110c
#define S_GDATA32     0x110d
#define S_PUB32       0x110e
#define S_LPROC32     0x110f
#define S_GPROC32     0x1110
#define S_LTHREAD32   0x1112
#define S_GTHREAD32   0x1113
#define S_LPROC32_ID  0x1146
#define S_GPROC32_ID  0x1147

#define CV_PUBSYMFLAGS_CODE     0x1
#define CV_PUBSYMFLAGS_FUNCTION 0x2

/* Which record wins when two share a name or an address. */
static const uint8_t kind_priority[] = {
	[PDB_SYM_PUBLIC] = 1,
	[PDB_SYM_THREAD_DATA] = 2,
	[PDB_SYM_LOCAL_DATA] = 3,
	[PDB_SYM_GLOBAL_DATA] = 4,
	[PDB_SYM_FUNCTION] = 5,
};

typedef struct symvec {
	pdb_sym *v;
	uint32_t n, cap;
} symvec;

static int push(pdb_file *pdb, symvec *sv, const pdb_sym *s)
{
	if (sv->n == sv->cap) {
		uint32_t nc = sv->cap ? sv->cap * 2 : 1024;
		pdb_sym *nv = realloc(sv->v, (size_t)nc * sizeof *nv);
		if (!nv)
			return pdb_fail(pdb, SYM_E_NOMEM, "out of memory");
		sv->v = nv;
		sv->cap = nc;
	}
	sv->v[sv->n++] = *s;
	return 0;
}

/* x86 C decoration: _name, _name@N (stdcall), @name@N (fastcall).  C++
 * names (?...) are left alone.  Returns the length to keep after the
 * one-byte prefix, or 0 if the name is not decorated this way. */
static size_t x86_undecorated_len(const char *raw)
{
	if (raw[0] != '_' && raw[0] != '@')
		return 0;
	size_t n = strlen(raw + 1);
	if (!n)
		return 0;
	const char *at = strrchr(raw + 1, '@');
	if (at && at[1]) {
		const char *p = at + 1;
		while (*p >= '0' && *p <= '9')
			p++;
		if (!*p)
			n = (size_t)(at - (raw + 1));
	} else if (raw[0] == '@') {
		return 0;
	}
	return n;
}

/* One record walk shared by the symbol record stream and module streams. */
static int walk_records(pdb_file *pdb, symvec *sv, const uint8_t *d, uint32_t n,
                        uint32_t start, int module_stream, const char *what)
{
	uint32_t pos = start;
	while (pos + 4 <= n) {
		uint16_t reclen = sym_le16(d + pos);
		uint16_t kind = sym_le16(d + pos + 2);
		if (reclen < 2 || (uint32_t)reclen + 2 > n - pos)
			return pdb_fail(pdb, SYM_E_FORMAT,
			                "%s: symbol record at %#x (length %u) runs past the end (%u)",
			                what, pos, reclen, n);
		sym_cursor c;
		sym_cur_init(&c, d + pos + 4, reclen - 2u);
		pdb_sym s = {0};
		int keep = 0;
		uint32_t skip_to = 0;
		if (!module_stream && kind == S_PUB32) {
			uint32_t flags = sym_cur_u32(&c);
			s.offset = sym_cur_u32(&c);
			s.segment = sym_cur_u16(&c);
			s.raw_name = sym_cur_str(&c);
			s.kind = PDB_SYM_PUBLIC;
			s.is_code = (flags & (CV_PUBSYMFLAGS_CODE | CV_PUBSYMFLAGS_FUNCTION)) != 0;
			keep = 1;
		} else if (!module_stream && (kind == S_GDATA32 || kind == S_LDATA32 ||
		                              kind == S_GTHREAD32 || kind == S_LTHREAD32)) {
			s.ti = sym_cur_u32(&c);
			s.offset = sym_cur_u32(&c);
			s.segment = sym_cur_u16(&c);
			s.raw_name = sym_cur_str(&c);
			s.kind = kind == S_GDATA32 ? PDB_SYM_GLOBAL_DATA :
			         kind == S_LDATA32 ? PDB_SYM_LOCAL_DATA : PDB_SYM_THREAD_DATA;
			keep = 1;
		} else if (module_stream && (kind == S_GPROC32 || kind == S_LPROC32 ||
		                             kind == S_GPROC32_ID || kind == S_LPROC32_ID)) {
			sym_cur_skip(&c, 4);               /* parent */
			skip_to = sym_cur_u32(&c);         /* end: its S_END record */
			sym_cur_skip(&c, 4);               /* next */
			s.size = sym_cur_u32(&c);
			sym_cur_skip(&c, 8);               /* debug start/end */
			s.ti = sym_cur_u32(&c);
			s.offset = sym_cur_u32(&c);
			s.segment = sym_cur_u16(&c);
			sym_cur_skip(&c, 1);               /* flags */
			s.raw_name = sym_cur_str(&c);
			s.kind = PDB_SYM_FUNCTION;
			s.is_code = 1;
			/* _ID forms carry an IPI id; callers want the TPI type */
			if (kind == S_GPROC32_ID || kind == S_LPROC32_ID)
				s.ti = pdb_ipi_function_type(pdb, s.ti);
			keep = 1;
		}
		if (keep) {
			if (c.bad)
				return pdb_fail(pdb, SYM_E_FORMAT, "%s: symbol record %#x at %#x truncated",
				                what, kind, pos);
			s.name = s.raw_name;
			s.rva = pdb_segoff_to_rva(pdb, s.segment, s.offset);
			int rc = push(pdb, sv, &s);
			if (rc < 0)
				return rc;
		}
		pos += reclen + 2u;
		/* a procedure's locals, blocks and ranges are of no use here:
		 * jump to its S_END (forward only, so a hostile pointer cannot
		 * loop) */
		if (skip_to > pos && skip_to < n)
			pos = skip_to;
	}
	return 0;
}

static int cmp_addr(const void *a, const void *b, void *ctx)
{
	const pdb_sym *s = ctx;
	const pdb_sym *x = &s[*(const uint32_t *)a], *y = &s[*(const uint32_t *)b];
	if (x->rva != y->rva)
		return x->rva < y->rva ? -1 : 1;
	/* preferred kind last: lookups take the last entry <= rva */
	if (kind_priority[x->kind] != kind_priority[y->kind])
		return kind_priority[x->kind] < kind_priority[y->kind] ? -1 : 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? 1 : -1;
}

static void hash_insert(pdb_file *pdb, const char *name, uint32_t idx)
{
	uint32_t mask = pdb->name_hash_size - 1;
	for (uint32_t h = pdb_hash_name(name) & mask;; h = (h + 1) & mask) {
		uint32_t e = pdb->name_hash[h];
		if (!e) {
			pdb->name_hash[h] = idx + 1;
			return;
		}
		const pdb_sym *o = &pdb->syms[e - 1];
		if (strcmp(o->name, name) == 0 || strcmp(o->raw_name, name) == 0) {
			if (kind_priority[pdb->syms[idx].kind] > kind_priority[o->kind])
				pdb->name_hash[h] = idx + 1;
			return;
		}
	}
}

static int build_indexes(pdb_file *pdb)
{
	uint32_t n = pdb->nsyms;
	pdb->by_addr = malloc(((size_t)n + 1) * sizeof(uint32_t));
	pdb->procs = malloc(((size_t)n + 1) * sizeof(uint32_t));
	uint32_t hs = 16;
	while (hs < 4 * (uint64_t)n + 16)
		hs *= 2;
	pdb->name_hash = calloc(hs, sizeof(uint32_t));
	pdb->name_hash_size = hs;
	if (!pdb->by_addr || !pdb->procs || !pdb->name_hash)
		return pdb_fail(pdb, SYM_E_NOMEM, "out of memory");
	uint32_t na = 0, np = 0;
	for (uint32_t i = 0; i < n; i++) {
		const pdb_sym *s = &pdb->syms[i];
		if (!s->rva)
			continue;
		pdb->by_addr[na++] = i;
		if (s->kind == PDB_SYM_FUNCTION)
			pdb->procs[np++] = i;
	}
	qsort_r(pdb->by_addr, na, sizeof(uint32_t), cmp_addr, pdb->syms);
	/* a dense copy of the sorted RVAs keeps the binary search in cache */
	pdb->addr_rva = malloc(((size_t)na + 1) * sizeof(uint32_t));
	if (!pdb->addr_rva)
		return pdb_fail(pdb, SYM_E_NOMEM, "out of memory");
	for (uint32_t i = 0; i < na; i++)
		pdb->addr_rva[i] = pdb->syms[pdb->by_addr[i]].rva;
	qsort_r(pdb->procs, np, sizeof(uint32_t), cmp_addr, pdb->syms);
	pdb->nprocs = np;
	pdb->nsyms_addr = na;
	for (uint32_t i = 0; i < n; i++) {
		hash_insert(pdb, pdb->syms[i].name, i);
		if (pdb->syms[i].raw_name != pdb->syms[i].name)
			hash_insert(pdb, pdb->syms[i].raw_name, i);
	}
	return 0;
}

static int load_symbols(pdb_file *pdb)
{
	int rc = pdb_load_dbi(pdb);
	if (rc < 0)
		return rc;
	symvec sv = {0};
	const uint8_t *d;
	uint32_t n;
	if (pdb->symrec_stream != PDB_NIL_STREAM) {
		rc = pdb_stream(pdb, pdb->symrec_stream, &d, &n);
		if (rc == 0)
			rc = walk_records(pdb, &sv, d, n, 0, 0, "symbol record stream");
		if (rc < 0)
			goto fail;
	}
	for (uint32_t i = 0; i < pdb->nmodules; i++) {
		const pdb_module *m = &pdb->modules[i];
		if (m->sym_stream == PDB_NIL_STREAM || m->sym_bytes < 4)
			continue;
		rc = pdb_stream(pdb, m->sym_stream, &d, &n);
		if (rc < 0)
			goto fail;
		if (m->sym_bytes > n) {
			rc = pdb_fail(pdb, SYM_E_FORMAT, "module %u: %u symbol bytes in a %u-byte stream",
			              i, m->sym_bytes, n);
			goto fail;
		}
		char what[64];
		snprintf(what, sizeof what, "module %u symbol stream", i);
		/* first 4 bytes: CV_SIGNATURE_C13 */
		rc = walk_records(pdb, &sv, d, m->sym_bytes, 4, 1, what);
		if (rc < 0)
			goto fail;
	}
	pdb->syms = sv.v;
	pdb->nsyms = sv.n;

	/* Publics carry decoration (x86 C: _foo@8; C++: ?foo@ns@@...); WinDbg
	 * shows them undecorated, and so they match the procedure names.
	 * An undecorated C++ name is at most twice the decorated one. */
	int x86 = pdb->machine == PE_MACHINE_I386;
	size_t pool = 0;
	for (uint32_t i = 0; i < sv.n; i++)
		if (sv.v[i].kind == PDB_SYM_PUBLIC)
			pool += 2 * strlen(sv.v[i].raw_name) + 2;
	pdb->names_pool = malloc(pool + 1);
	if (!pdb->names_pool)
		return pdb_fail(pdb, SYM_E_NOMEM, "out of memory");
	char *p = pdb->names_pool, *end = pdb->names_pool + pool + 1;
	for (uint32_t i = 0; i < sv.n; i++) {
		if (sv.v[i].kind != PDB_SYM_PUBLIC)
			continue;
		const char *raw = sv.v[i].raw_name;
		size_t k = 0;
		if (raw[0] == '?') {
			k = pdb_undecorate_msvc(raw, p, (size_t)(end - p));
		} else if (x86 && (k = x86_undecorated_len(raw)) != 0) {
			memcpy(p, raw + 1, k);
			p[k] = 0;
		}
		if (!k)
			continue;
		sv.v[i].name = p;
		p += k + 1;
	}
	return build_indexes(pdb);
fail:
	free(sv.v);
	return rc;
}

int pdb_load_symbols(pdb_file *pdb)
{
	if (pdb->syms_state == 0) {
		int rc = load_symbols(pdb);
		pdb->syms_state = rc < 0 ? rc : 1;
	}
	return pdb->syms_state < 0 ? pdb->syms_state : 0;
}

static void fill(const pdb_sym *s, pdb_symbol *out)
{
	out->kind = (pdb_symbol_kind)s->kind;
	out->name = s->name;
	out->raw_name = s->raw_name;
	out->rva = s->rva;
	out->size = s->size;
	out->type_index = s->ti;
	out->is_code = s->is_code;
	out->segment = s->segment;
	out->offset = s->offset;
}

int pdb_lookup_symbol(pdb_file *pdb, const char *name, pdb_symbol *out)
{
	int rc = pdb_load_symbols(pdb);
	if (rc < 0)
		return rc;
	uint32_t mask = pdb->name_hash_size - 1;
	const pdb_sym *folded = NULL;
	for (uint32_t h = pdb_hash_name(name) & mask;; h = (h + 1) & mask) {
		uint32_t e = pdb->name_hash[h];
		if (!e)
			break;
		const pdb_sym *s = &pdb->syms[e - 1];
		if (strcmp(s->name, name) == 0 || strcmp(s->raw_name, name) == 0) {
			fill(s, out);
			return 0;
		}
		if (!folded && (strcasecmp(s->name, name) == 0 || strcasecmp(s->raw_name, name) == 0))
			folded = s;
	}
	if (!folded)
		return pdb_fail(pdb, SYM_E_NOTFOUND, "symbol %s not found", name);
	fill(folded, out);
	return 0;
}

int pdb_find_symbol(pdb_file *pdb, const char *name, uint32_t *rva)
{
	pdb_symbol s;
	int rc = pdb_lookup_symbol(pdb, name, &s);
	if (rc == 0)
		*rva = s.rva;
	return rc;
}

/* Index into by_addr of the last entry with rva <= target, or -1. */
static long last_at_or_below(const pdb_file *pdb, const uint32_t *idx, uint32_t n, uint32_t rva)
{
	uint32_t lo = 0, hi = n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (pdb->syms[idx[mid]].rva <= rva)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (long)lo - 1;
}

static int in_some_section(const pdb_file *pdb, uint32_t rva)
{
	if (!pdb->nsections || pdb->nomap)
		return 1;
	for (uint32_t i = 0; i < pdb->nsections; i++) {
		const pe_section *s = &pdb->sections[i];
		uint32_t sz = s->virtual_size > s->raw_size ? s->virtual_size : s->raw_size;
		if (rva >= s->virtual_address && rva - s->virtual_address < sz)
			return 1;
	}
	return 0;
}

int pdb_symbol_at_ex(pdb_file *pdb, uint32_t rva, pdb_symbol *out, uint32_t *disp)
{
	int rc = pdb_load_symbols(pdb);
	if (rc < 0)
		return rc;
	uint32_t lo = 0, hi = pdb->nsyms_addr;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (pdb->addr_rva[mid] <= rva)
			lo = mid + 1;
		else
			hi = mid;
	}
	long i = (long)lo - 1;
	if (i < 0 || !in_some_section(pdb, rva))
		return pdb_fail(pdb, SYM_E_NOTFOUND, "no symbol at or below RVA %#x", rva);
	const pdb_sym *s = &pdb->syms[pdb->by_addr[i]];
	fill(s, out);
	if (disp)
		*disp = rva - s->rva;
	return 0;
}

int pdb_symbol_at(pdb_file *pdb, uint32_t rva, const char **name, uint32_t *disp)
{
	pdb_symbol s;
	int rc = pdb_symbol_at_ex(pdb, rva, &s, disp);
	if (rc == 0 && name)
		*name = s.name;
	return rc;
}

int pdb_foreach_symbol(pdb_file *pdb, pdb_symbol_cb cb, void *ctx)
{
	int rc = pdb_load_symbols(pdb);
	if (rc < 0)
		return rc;
	for (uint32_t i = 0; i < pdb->nsyms_addr; i++) {
		pdb_symbol s;
		fill(&pdb->syms[pdb->by_addr[i]], &s);
		int r = cb(ctx, &s);
		if (r)
			return r;
	}
	return 0;
}

int pdb_foreach_unmapped_symbol(pdb_file *pdb, pdb_symbol_cb cb, void *ctx)
{
	int rc = pdb_load_symbols(pdb);
	if (rc < 0)
		return rc;
	for (uint32_t i = 0; i < pdb->nsyms; i++) {
		if (pdb->syms[i].rva)
			continue;
		pdb_symbol s;
		fill(&pdb->syms[i], &s);
		int r = cb(ctx, &s);
		if (r)
			return r;
	}
	return 0;
}

int pdb_function_extent(pdb_file *pdb, uint32_t rva, uint32_t *start, uint32_t *len)
{
	int rc = pdb_load_symbols(pdb);
	if (rc < 0)
		return rc;
	long i = last_at_or_below(pdb, pdb->procs, pdb->nprocs, rva);
	/* nested or overlapping entries are rare; check a few back */
	for (long k = i; k >= 0 && k > i - 4; k--) {
		const pdb_sym *s = &pdb->syms[pdb->procs[k]];
		if (rva - s->rva < s->size) {
			if (start)
				*start = s->rva;
			if (len)
				*len = s->size;
			return 0;
		}
	}
	return pdb_fail(pdb, SYM_E_NOTFOUND, "no function contains RVA %#x", rva);
}
