/*
 * cmd_symbols_dt.c - dt: a type from a module's PDB, alone or laid over
 * target memory, in WinDbg's shape:
 *
 *   nt!_EPROCESS
 *      +0x000 Pcb              : _KPROCESS
 *      +0x2e8 UniqueProcessId  : Ptr64 Void
 *
 * Member names are padded to 16 columns (longer names push the colon);
 * nested levels (-r) indent by 3 and print offsets relative to the nested
 * type.  With an address, values replace the type names: 0x for unsigned,
 * 0n for signed, 0y bits for bitfields, pointers in the backtick form.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd_symbols.h"
#include "format.h"
#include "modules.h"
#include "symbols/symbols.h"

#define DT_MAX_FIELDS 8
#define DT_MAX_READ (1u << 20)   /* largest object dt reads at once */

struct dt {
	kd_session *s;
	pdb_file *pdb;
	int verbose;
	int depth;           /* levels of embedded types to expand (-r) */
	int have_addr;
	uint64_t addr;
	uint8_t *buf;        /* the object's bytes (have_addr) */
	size_t buflen;       /* how many of them the target returned */
	unsigned ps;
	uint64_t sym_addr;   /* dt on a global: its address */
};

/* Follow const/volatile modifiers and forward references. */
static uint32_t strip(pdb_file *pdb, uint32_t ti, pdb_type *out)
{
	for (int i = 0; i < 16; i++) {
		ti = pdb_resolve_type(pdb, ti);
		if (pdb_type_info(pdb, ti, out) < 0) {
			memset(out, 0, sizeof *out);
			return ti;
		}
		if (out->kind != PDB_TYPE_MODIFIER)
			return ti;
		ti = out->elem_ti;
	}
	return ti;
}

static int get(const struct dt *d, uint64_t off, unsigned size, uint64_t *v)
{
	if (!d->have_addr || off + size > d->buflen || size > 8)
		return -1;
	*v = kd_fmt_le(d->buf + off, size);
	return 0;
}

static void pointer_text(struct dt *d, uint64_t v, char *out, size_t len)
{
	char a[32];
	kd_fmt_addr(a, sizeof a, d->ps, v);
	snprintf(out, len, "0x%s", a);
}

static int is_aggregate(const pdb_type *t)
{
	return t->kind == PDB_TYPE_STRUCT || t->kind == PDB_TYPE_UNION || t->kind == PDB_TYPE_CLASS;
}

static int is_char_name(const char *n)
{
	return n && (strcmp(n, "UChar") == 0 || strcmp(n, "Char") == 0);
}

/* A string at a target address (UNICODE_STRING, char arrays): escaped,
 * at most 256 characters. */
static void target_string(struct dt *d, uint64_t addr, size_t bytes, int wide, char *out,
                          size_t len)
{
	uint8_t raw[512];
	if (bytes > sizeof raw)
		bytes = sizeof raw;
	kd_target *t = kd_session_target(d->s);
	if (!bytes || !t || kd_read(t, addr, raw, bytes) < 0) {
		snprintf(out, len, bytes ? "<memory read error>" : "");
		return;
	}
	/* WinDbg prints the characters as they are ("\SystemRoot\..."):
	 * keep backslashes, show anything unprintable as '.', like da/du. */
	size_t n = 0;
	for (size_t i = 0; i + (wide ? 1 : 0) < bytes && n + 1 < len; i += wide ? 2 : 1) {
		unsigned c = wide ? (unsigned)(raw[i] | raw[i + 1] << 8) : raw[i];
		if (c == 0)
			break;
		out[n++] = c >= 0x20 && c < 0x7f ? (char)c : '.';
	}
	out[n] = 0;
}

static void enum_name(struct dt *d, uint32_t ti, int64_t v, char *out, size_t len)
{
	int n = pdb_type_member_count(d->pdb, ti);
	out[0] = 0;
	for (int i = 0; i < n; i++) {
		pdb_member m;
		if (pdb_type_member_at(d->pdb, ti, (size_t)i, &m) == 0 &&
		    m.kind == PDB_MEMBER_ENUMERATE && m.value == v) {
			snprintf(out, len, "%s", m.name);
			return;
		}
	}
}

static void base_value(const pdb_type *t, uint64_t v, char *out, size_t len)
{
	const char *n = t->name ? t->name : "";
	unsigned size = (unsigned)t->size;
	int is_signed = strncmp(n, "Int", 3) == 0 || strcmp(n, "Char") == 0;
	if (size && size < 8 && is_signed && (v >> (size * 8 - 1)) & 1)
		v |= ~0ull << (size * 8);
	if (strcmp(n, "UChar") == 0 || strcmp(n, "Char") == 0) {
		char c[2] = { (char)(v & 0xff), 0 };
		if (!isprint((unsigned char)c[0]))
			c[0] = 0;
		if (is_signed)
			snprintf(out, len, "%" PRId64 " '%s'", (int64_t)v, c);
		else
			snprintf(out, len, "0x%" PRIx64 " '%s'", v, c);
	} else if (strcmp(n, "Wchar") == 0) {
		snprintf(out, len, "0x%" PRIx64 " '%c'", v, v >= 0x20 && v < 0x7f ? (char)v : ' ');
	} else if (is_signed) {
		snprintf(out, len, "0n%" PRId64, (int64_t)v);
	} else if (v > 0xffffffffull) {
		snprintf(out, len, "0x%08" PRIx64 "`%08" PRIx64, v >> 32, v & (uint64_t)0xffffffff);
	} else {
		snprintf(out, len, "0x%" PRIx64, v);
	}
}

/* The text after "name : " for a member of type ti at byte off.  nest
 * counts array-in-array steps: a hostile PDB may make an array its own
 * element type. */
static void value_text_n(struct dt *d, uint32_t ti, uint64_t off, const pdb_member *mem,
                         char *out, size_t len, int nest);

static void value_text(struct dt *d, uint32_t ti, uint64_t off, const pdb_member *mem, char *out,
                       size_t len)
{
	value_text_n(d, ti, off, mem, out, len, 0);
}

static void value_text_n(struct dt *d, uint32_t ti, uint64_t off, const pdb_member *mem,
                         char *out, size_t len, int nest)
{
	pdb_type t;
	char tn[256] = "";
	ti = strip(d->pdb, ti, &t);
	if (!d->have_addr) {
		if (d->verbose && is_aggregate(&t)) {
			int n = pdb_type_member_count(d->pdb, ti);
			snprintf(out, len, "%s %s, %d elements, 0x%" PRIx64 " bytes",
			         t.kind == PDB_TYPE_UNION ? "union" : "struct", t.name ? t.name : "",
			         n < 0 ? 0 : n, pdb_type_size(d->pdb, ti));
		} else if (mem && mem->bit_len && t.kind != PDB_TYPE_BITFIELD) {
			snprintf(out, len, "Pos %u, %u Bit%s", mem->bit_pos, mem->bit_len,
			         mem->bit_len == 1 ? "" : "s");
		} else if (pdb_type_name(d->pdb, ti, out, len) < 0) {
			snprintf(out, len, "<type 0x%x>", ti);
		}
		return;
	}
	uint64_t v = 0;
	switch (t.kind) {
	case PDB_TYPE_BITFIELD: {
		pdb_type base;
		uint32_t bti = strip(d->pdb, t.elem_ti, &base);
		(void)bti;
		unsigned sz = base.size ? (unsigned)base.size : 4;
		if (get(d, off, sz, &v) < 0) {
			snprintf(out, len, "??");
			return;
		}
		char bits[70];
		unsigned n = t.bit_len < 64 ? t.bit_len : 64;
		if (n == 0 || t.bit_pos + n > 64) {
			snprintf(out, len, "<bad bitfield>");
			return;
		}
		for (unsigned i = 0; i < n; i++)
			bits[i] = (v >> (t.bit_pos + n - 1 - i)) & 1 ? '1' : '0';
		bits[n] = 0;
		snprintf(out, len, "0y%s", bits);
		return;
	}
	case PDB_TYPE_POINTER: {
		unsigned sz = t.size ? (unsigned)t.size : d->ps;
		if (get(d, off, sz, &v) < 0) {
			snprintf(out, len, "??");
			return;
		}
		if (sz == 4 && d->ps == 4)
			v &= 0xffffffffull;
		char a[40];
		pointer_text(d, v, a, sizeof a);
		if (pdb_type_name(d->pdb, t.elem_ti, tn, sizeof tn) < 0)
			tn[0] = 0;
		snprintf(out, len, "%s %s", a, tn);
		return;
	}
	case PDB_TYPE_BASE:
		if (!t.size || t.size > 8) {
			pdb_type_name(d->pdb, ti, out, len);
			return;
		}
		if (get(d, off, (unsigned)t.size, &v) < 0) {
			snprintf(out, len, "??");
			return;
		}
		base_value(&t, v, out, len);
		return;
	case PDB_TYPE_ENUM: {
		unsigned sz = t.size ? (unsigned)t.size : 4;
		if (get(d, off, sz, &v) < 0) {
			snprintf(out, len, "??");
			return;
		}
		if (sz < 8 && (v >> (sz * 8 - 1)) & 1)
			v |= ~0ull << (sz * 8);
		char en[128];
		enum_name(d, ti, (int64_t)v, en, sizeof en);
		if (en[0])
			snprintf(out, len, "0n%" PRId64 " ( %s )", (int64_t)v, en);
		else
			snprintf(out, len, "0n%" PRId64, (int64_t)v);
		return;
	}
	case PDB_TYPE_ARRAY: {
		pdb_type e;
		uint32_t eti = strip(d->pdb, t.elem_ti, &e);
		if (e.kind == PDB_TYPE_BASE && (is_char_name(e.name) || (e.name && !strcmp(e.name, "Wchar")))) {
			int wide = e.name && !strcmp(e.name, "Wchar");
			char str[600];
			size_t bytes = (size_t)t.size;
			if (bytes > 512)
				bytes = 512;
			target_string(d, d->addr + off, bytes, wide, str, sizeof str);
			snprintf(out, len, "[%" PRIu64 "]  \"%s\"", t.count, str);
			return;
		}
		char first[256];
		if (nest >= 8)
			snprintf(first, sizeof first, "...");
		else
			value_text_n(d, eti, off, NULL, first, sizeof first, nest + 1);
		snprintf(out, len, "[%" PRIu64 "] %s", t.count, first);
		return;
	}
	case PDB_TYPE_STRUCT:
	case PDB_TYPE_UNION:
	case PDB_TYPE_CLASS: {
		const char *name = t.name ? t.name : "<unnamed-tag>";
		uint64_t a, b;
		if (strcmp(name, "_LIST_ENTRY") == 0 && get(d, off, d->ps, &a) == 0 &&
		    get(d, off + d->ps, d->ps, &b) == 0) {
			char x[40], y[40];
			pointer_text(d, a, x, sizeof x);
			pointer_text(d, b, y, sizeof y);
			snprintf(out, len, "%s [ %s - %s ]", name, x, y);
			return;
		}
		if (strcmp(name, "_UNICODE_STRING") == 0 && get(d, off, 2, &a) == 0 &&
		    get(d, off + (d->ps == 8 ? 8 : 4), d->ps, &b) == 0) {
			char str[600];
			target_string(d, b, (size_t)a, 1, str, sizeof str);
			snprintf(out, len, "%s \"%s\"", name, str);
			return;
		}
		snprintf(out, len, "%s", name);
		return;
	}
	default:
		if (pdb_type_name(d->pdb, ti, out, len) < 0)
			snprintf(out, len, "<type 0x%x>", ti);
		return;
	}
}

int kd_sym_value_at(kd_session *s, struct pdb *pdb, uint32_t ti, uint64_t addr, char *out,
                    size_t len)
{
	uint8_t buf[256];
	struct dt d = { .s = s, .pdb = pdb, .ps = kd_sym_ptr_size(s), .have_addr = 1, .addr = addr,
	                .buf = buf };
	kd_target *t = kd_session_target(s);
	uint64_t size = pdb_type_size(pdb, ti);
	if (!t || !size)
		return -1;
	/* Scalars, pointers and small structs (LIST_ENTRY) are all x shows. */
	size_t want = size < sizeof buf ? (size_t)size : sizeof buf;
	size_t got = 0;
	t->ops->read_virtual(t, addr, buf, want, &got);
	if (got < want)
		return -1;
	d.buflen = got;
	value_text(&d, ti, 0, NULL, out, len);
	return 0;
}

/* Does member name match one requested field ("Pcb" or "Pcb.Header")?
 * WinDbg matches field names by prefix; '*' patterns as wildcards. */
static const char *field_match(const char *want, const char *name, int *match)
{
	char first[256];
	const char *dot = strchr(want, '.');
	size_t l = dot ? (size_t)(dot - want) : strlen(want);
	if (l >= sizeof first)
		l = sizeof first - 1;
	memcpy(first, want, l);
	first[l] = 0;
	if (strchr(first, '*') || strchr(first, '?'))
		*match = sym_wildcard_match(first, name);
	else
		*match = strncmp(name, first, l) == 0 && (dot ? name[l] == 0 : 1);
	return dot ? dot + 1 : NULL;
}

static void indent(struct dt *d, int level)
{
	kd_out(d->s, "%*s", 3 + 3 * level, "");
}

static int dt_members(struct dt *d, uint32_t ti, uint64_t boff, int level, const char **fields,
                      int nfields)
{
	int n = pdb_type_member_count(d->pdb, ti);
	int printed = 0;
	if (n < 0)
		return 0;
	for (int i = 0; i < n; i++) {
		if (kd_session_interrupted(d->s))
			return printed;
		pdb_member m;
		if (pdb_type_member_at(d->pdb, ti, (size_t)i, &m) < 0)
			continue;
		if (m.kind != PDB_MEMBER_DATA && m.kind != PDB_MEMBER_BASE_CLASS)
			continue;
		const char *name = m.kind == PDB_MEMBER_BASE_CLASS ? "__BaseClass" : m.name;
		const char *sub[DT_MAX_FIELDS];
		int nsub = 0, want = nfields == 0;
		for (int f = 0; f < nfields; f++) {
			int match;
			const char *rest = field_match(fields[f], name, &match);
			if (!match)
				continue;
			want = 1;
			if (rest && nsub < DT_MAX_FIELDS)
				sub[nsub++] = rest;
		}
		if (!want)
			continue;
		char val[1024];
		value_text(d, m.ti, boff + m.offset, &m, val, sizeof val);
		indent(d, level);
		kd_out(d->s, "+0x%03" PRIx64 " ", m.offset);
		kd_sym_out_name(d->s, name);
		size_t nl = strlen(name);
		kd_out(d->s, "%*s : ", nl < 16 ? (int)(16 - nl) : 0, "");
		kd_sym_out_name(d->s, val);
		kd_out(d->s, "\n");
		printed++;
		pdb_type t;
		uint32_t mti = strip(d->pdb, m.ti, &t);
		/* "Pcb.Header" walks down; a whole member expands with -r. */
		if (is_aggregate(&t) && (nsub || level < d->depth))
			dt_members(d, mti, boff + m.offset, level + 1, sub, nsub);
	}
	return printed;
}

/* "nt!_EPROCESS" -> module PDB and type index; "_EPROCESS" searches the
 * modules whose PDBs are loaded, then all. */
static int find_type(struct dt *d, const char *spec, uint32_t *ti, char *shown, size_t shownlen)
{
	sym_modset *set = kd_modules_set(d->s);
	const char *bang = strchr(spec, '!');
	if (!set)
		return -1;
	if (bang) {
		char mod[128];
		snprintf(mod, sizeof mod, "%.*s", (int)(bang - spec), spec);
		sym_module *m = sym_modset_find_module(set, mod);
		pdb_file *pdb = m ? sym_module_pdb(m) : NULL;
		if (!pdb || pdb_find_type(pdb, bang + 1, ti) < 0)
			return -1;
		d->pdb = pdb;
		snprintf(shown, shownlen, "%s!%s", sym_module_name(m), bang + 1);
		return 0;
	}
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < sym_modset_count(set); i++) {
			sym_module *m = sym_modset_at(set, i);
			if ((sym_module_get_state(m) == SYM_MOD_PDB) != (pass == 0))
				continue;
			pdb_file *pdb = sym_module_pdb(m);
			if (pdb && pdb_find_type(pdb, spec, ti) == 0) {
				d->pdb = pdb;
				snprintf(shown, shownlen, "%s!%s", sym_module_name(m), spec);
				return 0;
			}
		}
	}
	return -1;
}

/* A global variable named like a type: its PDB type and address. */
static int find_typed_symbol(struct dt *d, const char *spec, uint32_t *ti)
{
	sym_modset *set = kd_modules_set(d->s);
	const char *bang = strchr(spec, '!');
	if (!set || !bang)
		return -1;
	char mod[128];
	snprintf(mod, sizeof mod, "%.*s", (int)(bang - spec), spec);
	sym_module *m = sym_modset_find_module(set, mod);
	pdb_file *pdb = m ? sym_module_pdb(m) : NULL;
	pdb_symbol sym;
	if (!pdb || pdb_lookup_symbol(pdb, bang + 1, &sym) < 0 || !sym.type_index || sym.is_code)
		return -1;
	d->pdb = pdb;
	*ti = sym.type_index;
	d->sym_addr = sym_module_base(m) + sym.rva;
	return 0;
}

static int is_member_name(struct dt *d, uint32_t ti, const char *word)
{
	int n = pdb_type_member_count(d->pdb, ti);
	for (int i = 0; i < n; i++) {
		pdb_member m;
		int match;
		if (pdb_type_member_at(d->pdb, ti, (size_t)i, &m) == 0 && m.name) {
			field_match(word, m.name, &match);
			if (match)
				return 1;
		}
	}
	return 0;
}

/* The object at d->addr into d->buf (allocated once, size bytes). */
static int read_object(struct dt *d, uint64_t size)
{
	kd_target *tg = kd_session_target(d->s);
	if (!d->buf)
		d->buf = calloc(1, size ? (size_t)size : 1);
	if (!d->buf || !tg) {
		kd_err(d->s, "no target\n");
		return -1;
	}
	size_t got = 0;
	memset(d->buf, 0, size ? (size_t)size : 1);
	tg->ops->read_virtual(tg, d->addr, d->buf, (size_t)size, &got);
	d->buflen = got;
	if (got == 0 && size) {
		char a[32];
		kd_err(d->s, "Memory read error %s\n", kd_sym_addr(d->s, d->addr, a));
		return -1;
	}
	return 0;
}

#define DT_MAX_LIST 4096

/* dt -l Links.Flink: each element, then the next one through the pointer
 * at that field (which points at the same field of the next element),
 * until the list comes back to the first element or ends. */
static int dt_list(struct dt *d, uint32_t ti, uint64_t size, const char *field,
                   const char **fields, int nfields)
{
	uint64_t loff;
	if (pdb_type_field(d->pdb, ti, field, &loff, NULL) < 0) {
		kd_out(d->s, "Cannot find specified field members.\n");
		return -1;
	}
	uint64_t start = d->addr;
	int rc = 0;
	for (int count = 0; count < DT_MAX_LIST && !kd_session_interrupted(d->s); count++) {
		char a[32];
		if (read_object(d, size) < 0) {
			rc = -1;
			break;
		}
		kd_sym_out_name(d->s, field);
		kd_out(d->s, " at 0x%s\n---------------------------------------------\n",
		       kd_sym_addr(d->s, d->addr, a));
		dt_members(d, ti, 0, 0, fields, nfields);
		kd_out(d->s, "\n");
		uint64_t next;
		if (get(d, loff, d->ps, &next) < 0 || !next)
			break;
		if (d->ps == 4)
			next = (uint64_t)(int64_t)(int32_t)(uint32_t)next;
		if (next - loff == start)
			break;
		d->addr = next - loff;
	}
	free(d->buf);
	return rc;
}

int kd_cmd_dt(kd_session *s, const char *name, const char *args)
{
	char tok[16][256];
	(void)name;
	int n = kd_sym_split(args, tok, 16);
	struct dt d = { .s = s, .ps = kd_sym_ptr_size(s) };
	const char *type = NULL, *addr_text = NULL, *list_field = NULL;
	const char *fields[DT_MAX_FIELDS];
	int nfields = 0;
	int words[16], nwords = 0;
	for (int i = 0; i < n; i++) {
		if (tok[i][0] == '-' && isalpha((unsigned char)tok[i][1])) {
			if (tok[i][1] == 'r') {
				d.depth = tok[i][2] ? atoi(tok[i] + 2) : 9;
				if (d.depth < 0 || d.depth > 9)
					d.depth = 9;
			} else if (tok[i][1] == 'v') {
				d.verbose = 1;
			} else if (tok[i][1] == 'b') {
				; /* -b: no expansion of arrays anyway */
			} else if (tok[i][1] == 'l' && !tok[i][2] && i + 1 < n) {
				list_field = tok[++i];   /* -l Links.Flink: walk a list */
			} else {
				kd_err(s, "dt: unsupported option %s\n", tok[i]);
				return -1;
			}
			continue;
		}
		words[nwords++] = i;
	}
	if (!nwords) {
		kd_err(s, "usage: dt [-r[N]] [-v] module!Type [address] [field...]\n");
		return -1;
	}
	type = tok[words[0]];
	uint32_t ti;
	char shown[300];
	int is_symbol = 0;
	if (find_type(&d, type, &ti, shown, sizeof shown) < 0 &&
	    find_typed_symbol(&d, type, &ti) == 0)
		is_symbol = 1;   /* "dt nt!PsActiveProcessHead": a global with its type */
	else if (!d.pdb) {
		kd_out(s, "Symbol ");
		kd_sym_out_name(s, type);
		kd_out(s, " not found.\n");
		return -1;
	}
	pdb_type t;
	ti = strip(d.pdb, ti, &t);
	for (int w = 1; w < nwords; w++) {
		const char *word = tok[words[w]];
		if (!addr_text && !d.have_addr && !is_symbol && !is_member_name(&d, ti, word)) {
			addr_text = word;
			if (kd_eval(s, word, &d.addr, NULL) < 0) {
				kd_err(s, "%s\n", kd_session_errmsg(s));
				return -1;
			}
			d.have_addr = 1;
		} else if (nfields < DT_MAX_FIELDS) {
			fields[nfields++] = word;
		}
	}
	if (is_symbol) {
		d.have_addr = 1;
		d.addr = d.sym_addr;
	}
	uint64_t size = pdb_type_size(d.pdb, ti);
	if (size > DT_MAX_READ)
		size = DT_MAX_READ;
	if (list_field) {
		if (!d.have_addr || !is_aggregate(&t)) {
			kd_err(s, "dt -l needs a structure and an address\n");
			return -1;
		}
		return dt_list(&d, ti, size, list_field, fields, nfields);
	}
	if (d.have_addr) {
		if (read_object(&d, size) < 0) {
			free(d.buf);
			return -1;
		}
	} else {
		kd_sym_out_name(s, shown);
		kd_out(s, "\n");
	}
	int rc = 0;
	if (t.kind == PDB_TYPE_ENUM) {
		int cnt = pdb_type_member_count(d.pdb, ti);
		for (int i = 0; i < cnt; i++) {
			pdb_member m;
			if (pdb_type_member_at(d.pdb, ti, (size_t)i, &m) < 0 || m.kind != PDB_MEMBER_ENUMERATE)
				continue;
			kd_out(s, "   ");
			kd_sym_out_name(s, m.name);
			kd_out(s, " = 0n%" PRId64 "\n", m.value);
		}
	} else if (is_aggregate(&t)) {
		if (d.verbose)
			kd_out(s, "%s %s, %d elements, 0x%" PRIx64 " bytes\n",
			       t.kind == PDB_TYPE_UNION ? "union" : "struct", t.name ? t.name : "",
			       pdb_type_member_count(d.pdb, ti), pdb_type_size(d.pdb, ti));
		if (dt_members(&d, ti, 0, 0, fields, nfields) == 0 && nfields) {
			kd_out(s, "Cannot find specified field members.\n");
			rc = -1;
		}
	} else {
		char val[1024];
		value_text(&d, ti, 0, NULL, val, sizeof val);
		kd_sym_out_name(s, val);
		kd_out(s, "\n");
	}
	free(d.buf);
	return rc;
}
