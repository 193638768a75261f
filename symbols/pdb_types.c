/*
 * pdb_types.c - the TPI stream (stream 2): type records indexed once by
 * type index, a name -> type index table that prefers complete definitions
 * over forward references, record decoding into pdb_type, field-list
 * walking (with LF_INDEX continuations), dotted field paths and sizes.
 */
#include <stdlib.h>
#include <strings.h>

#include "pdb_internal.h"

#define PDB_TPI_STREAM 2
#define TPI_HEADER_MIN 56

/* CodeView leaf kinds (cvinfo.h values) */
#define LF_MODIFIER   0x1001
#define LF_POINTER    0x1002
#define LF_PROCEDURE  0x1008
#define LF_MFUNCTION  0x1009
#define LF_ARGLIST    0x1201
#define LF_FIELDLIST  0x1203
#define LF_BITFIELD   0x1205
#define LF_BCLASS     0x1400
#define LF_VBCLASS    0x1401
#define LF_IVBCLASS   0x1402
#define LF_INDEX      0x1404
#define LF_VFUNCTAB   0x1409
#define LF_FRIENDCLS  0x140b
#define LF_ENUMERATE  0x1502
#define LF_ARRAY      0x1503
#define LF_CLASS      0x1504
#define LF_STRUCTURE  0x1505
#define LF_UNION      0x1506
#define LF_ENUM       0x1507
#define LF_FRIENDFCN  0x150c
#define LF_VFUNCOFF   0x140c
#define LF_NESTTYPEEX 0x1512
#define LF_BINTERFACE 0x151a
#define LF_MEMBER     0x150d
#define LF_STMEMBER   0x150e
#define LF_METHOD     0x150f
#define LF_NESTTYPE   0x1510
#define LF_ONEMETHOD  0x1511
#define LF_INTERFACE  0x1519
/* 32-bit property variants of newer MSVC (microsoft-pdb issue 50):
 * properties u32, then the type indexes, count, size, name */
#define LF_CLASS2     0x1608
#define LF_STRUCTURE2 0x1609
#define LF_UNION2     0x160a
#define LF_INTERFACE2 0x160b

#define PROP_FWDREF   0x0080

/* Numeric leaves (LF_CHAR..LF_UQUADWORD); values below 0x8000 are
 * stored inline in the leaf itself. */
int pdb_read_numeric(sym_cursor *c, uint64_t *u, int64_t *s)
{
	uint16_t leaf = sym_cur_u16(c);
	uint64_t uv = 0;
	int64_t sv = 0;
	if (leaf < 0x8000) {
		uv = leaf;
		sv = leaf;
	} else {
		switch (leaf) {
		case 0x8000: sv = (int8_t)sym_cur_u8(c); uv = (uint64_t)sv; break;   /* LF_CHAR */
		case 0x8001: sv = (int16_t)sym_cur_u16(c); uv = (uint64_t)sv; break; /* LF_SHORT */
		case 0x8002: uv = sym_cur_u16(c); sv = (int64_t)uv; break;           /* LF_USHORT */
		case 0x8003: sv = (int32_t)sym_cur_u32(c); uv = (uint64_t)sv; break; /* LF_LONG */
		case 0x8004: uv = sym_cur_u32(c); sv = (int64_t)uv; break;           /* LF_ULONG */
		case 0x8009: sv = (int64_t)sym_cur_u64(c); uv = (uint64_t)sv; break; /* LF_QUADWORD */
		case 0x800a: uv = sym_cur_u64(c); sv = (int64_t)uv; break;           /* LF_UQUADWORD */
		default:
			c->bad = 1;
			return SYM_E_FORMAT;
		}
	}
	if (u)
		*u = uv;
	if (s)
		*s = sv;
	return c->bad ? SYM_E_FORMAT : 0;
}

/* Which aggregate a tag record is; 0 for other leaves. */
static pdb_type_kind tag_kind(uint16_t leaf)
{
	switch (leaf) {
	case LF_STRUCTURE:
	case LF_STRUCTURE2:
		return PDB_TYPE_STRUCT;
	case LF_CLASS:
	case LF_CLASS2:
	case LF_INTERFACE:
	case LF_INTERFACE2:
		return PDB_TYPE_CLASS;
	case LF_UNION:
	case LF_UNION2:
		return PDB_TYPE_UNION;
	case LF_ENUM:
		return PDB_TYPE_ENUM;
	default:
		return 0;
	}
}

static int is_tag_leaf(uint16_t leaf)
{
	return tag_kind(leaf) != 0;
}

int pdb_type_record(pdb_file *pdb, uint32_t ti, uint16_t *leaf, const uint8_t **body, uint32_t *len)
{
	*leaf = 0;
	*body = NULL;
	*len = 0;
	if (ti < pdb->ti_begin || ti >= pdb->ti_end)
		return pdb_fail(pdb, SYM_E_NOTFOUND, "type index %#x out of range", ti);
	uint32_t off = pdb->type_off[ti - pdb->ti_begin];
	uint16_t reclen = sym_le16(pdb->tpi + off);
	*leaf = sym_le16(pdb->tpi + off + 2);
	*body = pdb->tpi + off + 4;
	*len = reclen - 2u;
	return 0;
}

/* Aggregate/enum header: name, properties, field list, size. */
typedef struct tag_info {
	uint16_t count, props;
	uint32_t field_list, underlying;
	uint64_t size;
	const char *name;
	const char *unique;     /* decorated unique name, or NULL */
} tag_info;

#define PROP_HASUNIQUENAME 0x0200

static int parse_tag(uint16_t leaf, const uint8_t *b, uint32_t n, tag_info *t)
{
	sym_cursor c;
	sym_cur_init(&c, b, n);
	memset(t, 0, sizeof *t);
	if (leaf == LF_CLASS2 || leaf == LF_STRUCTURE2 || leaf == LF_INTERFACE2 || leaf == LF_UNION2) {
		uint64_t count;
		t->props = (uint16_t)sym_cur_u32(&c);
		t->field_list = sym_cur_u32(&c);
		if (leaf != LF_UNION2)
			sym_cur_skip(&c, 8);   /* derived-from list, vshape */
		if (pdb_read_numeric(&c, &count, NULL) < 0 || pdb_read_numeric(&c, &t->size, NULL) < 0)
			return SYM_E_FORMAT;
		t->count = (uint16_t)(count > 0xffff ? 0xffff : count);
		t->name = sym_cur_str(&c);
		if (!c.bad && (t->props & PROP_HASUNIQUENAME) && c.pos < c.len)
			t->unique = sym_cur_str(&c);
		return c.bad ? SYM_E_FORMAT : 0;
	}
	t->count = sym_cur_u16(&c);
	t->props = sym_cur_u16(&c);
	if (leaf == LF_ENUM) {
		t->underlying = sym_cur_u32(&c);
		t->field_list = sym_cur_u32(&c);
	} else {
		t->field_list = sym_cur_u32(&c);
		if (leaf != LF_UNION)
			sym_cur_skip(&c, 8);   /* derived-from list, vshape */
		if (pdb_read_numeric(&c, &t->size, NULL) < 0)
			return SYM_E_FORMAT;
	}
	t->name = sym_cur_str(&c);
	if (!c.bad && (t->props & PROP_HASUNIQUENAME) && c.pos < c.len)
		t->unique = sym_cur_str(&c);
	return c.bad ? SYM_E_FORMAT : 0;
}

/* C++ types carry a unique (decorated) name; two different types can share
 * a display name (anonymous namespaces, "<unnamed-tag>"), so forward
 * references resolve by unique name first. */
/* The slot of the unique-name hash (open addressing) that holds uname, or
 * the empty slot where it would go. */
static uint32_t *unique_slot(pdb_file *pdb, const char *uname)
{
	uint32_t mask = pdb->unique_hash_size - 1;
	for (uint32_t h = pdb_hash_name(uname) & mask;; h = (h + 1) & mask) {
		uint32_t *e = &pdb->unique_hash[h];
		if (!*e)
			return e;
		uint16_t leaf;
		const uint8_t *b;
		uint32_t n;
		tag_info t;
		if (pdb_type_record(pdb, *e - 1, &leaf, &b, &n) == 0 && parse_tag(leaf, b, n, &t) == 0 &&
		    t.unique && strcmp(t.unique, uname) == 0)
			return e;
	}
}

static void unique_hash_insert(pdb_file *pdb, const char *uname, uint32_t ti)
{
	uint32_t *e = unique_slot(pdb, uname);
	if (!*e)
		*e = ti + 1;   /* else: first definition wins */
}

static uint32_t unique_lookup(pdb_file *pdb, const char *uname)
{
	if (!pdb->unique_hash_size)
		return 0;
	uint32_t *e = unique_slot(pdb, uname);
	return *e ? *e - 1 : 0;
}

static void type_hash_insert(pdb_file *pdb, const char *name, uint32_t ti, int fwd)
{
	uint32_t mask = pdb->type_hash_size - 1;
	for (uint32_t h = pdb_hash_name(name) & mask;; h = (h + 1) & mask) {
		uint32_t e = pdb->type_hash[h];
		if (!e) {
			pdb->type_hash[h] = ti + 1;
			return;
		}
		uint16_t leaf;
		const uint8_t *b;
		uint32_t n;
		tag_info t;
		if (pdb_type_record(pdb, e - 1, &leaf, &b, &n) < 0 || parse_tag(leaf, b, n, &t) < 0 ||
		    strcmp(t.name, name) != 0)
			continue;
		/* first complete definition wins over any forward reference */
		if ((t.props & PROP_FWDREF) && !fwd)
			pdb->type_hash[h] = ti + 1;
		return;
	}
}

static int load_types(pdb_file *pdb)
{
	const uint8_t *d;
	uint32_t n;
	if (pdb_stream(pdb, PDB_TPI_STREAM, &d, &n) < 0)
		return pdb_fail(pdb, SYM_E_FORMAT, "PDB has no TPI stream");
	if (n < TPI_HEADER_MIN)
		return pdb_fail(pdb, SYM_E_FORMAT, "TPI stream truncated (%u bytes)", n);
	uint32_t hdr = sym_le32(d + 4);
	pdb->ti_begin = sym_le32(d + 8);
	pdb->ti_end = sym_le32(d + 12);
	uint32_t bytes = sym_le32(d + 16);
	if (hdr < TPI_HEADER_MIN || hdr > n || bytes > n - hdr)
		return pdb_fail(pdb, SYM_E_FORMAT, "TPI header: %u record bytes after a %u-byte header do not fit %u bytes",
		                bytes, hdr, n);
	if (pdb->ti_begin < 0x1000 || pdb->ti_end < pdb->ti_begin ||
	    pdb->ti_end - pdb->ti_begin > bytes / 4)
		return pdb_fail(pdb, SYM_E_FORMAT, "TPI type index range %#x..%#x implausible",
		                pdb->ti_begin, pdb->ti_end);
	pdb->tpi = d + hdr;
	pdb->tpi_len = bytes;
	uint32_t count = pdb->ti_end - pdb->ti_begin;
	pdb->type_off = malloc(((size_t)count + 1) * sizeof(uint32_t));
	if (!pdb->type_off)
		return pdb_fail(pdb, SYM_E_NOMEM, "out of memory");
	uint32_t pos = 0, ntags = 0;
	for (uint32_t i = 0; i < count; i++) {
		if (pos + 4 > bytes)
			return pdb_fail(pdb, SYM_E_FORMAT, "TPI: only %u of %u type records present", i, count);
		uint16_t reclen = sym_le16(pdb->tpi + pos);
		if (reclen < 2 || (uint32_t)reclen + 2 > bytes - pos)
			return pdb_fail(pdb, SYM_E_FORMAT, "TPI: record %#x at %#x runs past the end",
			                pdb->ti_begin + i, pos);
		pdb->type_off[i] = pos;
		if (is_tag_leaf(sym_le16(pdb->tpi + pos + 2)))
			ntags++;
		pos += reclen + 2u;
	}
	uint32_t hs = 16;
	while (hs < 2 * (uint64_t)ntags + 16)
		hs *= 2;
	pdb->type_hash = calloc(hs, sizeof(uint32_t));
	pdb->type_hash_size = hs;
	pdb->unique_hash = calloc(hs, sizeof(uint32_t));
	pdb->unique_hash_size = hs;
	if (!pdb->type_hash || !pdb->unique_hash)
		return pdb_fail(pdb, SYM_E_NOMEM, "out of memory");
	for (uint32_t ti = pdb->ti_begin; ti < pdb->ti_end; ti++) {
		uint16_t leaf;
		const uint8_t *b;
		uint32_t len;
		tag_info t;
		if (pdb_type_record(pdb, ti, &leaf, &b, &len) < 0 || !is_tag_leaf(leaf))
			continue;
		if (parse_tag(leaf, b, len, &t) < 0)
			return pdb_fail(pdb, SYM_E_FORMAT, "TPI: record %#x (leaf %#x) malformed", ti, leaf);
		type_hash_insert(pdb, t.name, ti, (t.props & PROP_FWDREF) != 0);
		if (t.unique && !(t.props & PROP_FWDREF))
			unique_hash_insert(pdb, t.unique, ti);
	}
	return 0;
}

int pdb_load_types(pdb_file *pdb)
{
	if (pdb->tpi_state == 0) {
		int rc = load_types(pdb);
		pdb->tpi_state = rc < 0 ? rc : 1;
	}
	return pdb->tpi_state < 0 ? pdb->tpi_state : 0;
}

int pdb_type_range(pdb_file *pdb, uint32_t *first, uint32_t *end)
{
	int rc = pdb_load_types(pdb);
	if (rc < 0)
		return rc;
	*first = pdb->ti_begin;
	*end = pdb->ti_end;
	return 0;
}

int pdb_find_type(pdb_file *pdb, const char *name, uint32_t *ti)
{
	int rc = pdb_load_types(pdb);
	if (rc < 0)
		return rc;
	uint32_t mask = pdb->type_hash_size - 1;
	uint32_t folded = 0;
	for (uint32_t h = pdb_hash_name(name) & mask;; h = (h + 1) & mask) {
		uint32_t e = pdb->type_hash[h];
		if (!e)
			break;
		uint16_t leaf;
		const uint8_t *b;
		uint32_t n;
		tag_info t;
		if (pdb_type_record(pdb, e - 1, &leaf, &b, &n) < 0 || parse_tag(leaf, b, n, &t) < 0)
			continue;
		if (strcmp(t.name, name) == 0) {
			*ti = e - 1;
			return 0;
		}
		if (!folded && strcasecmp(t.name, name) == 0)
			folded = e;
	}
	if (!folded)
		return pdb_fail(pdb, SYM_E_NOTFOUND, "type %s not found", name);
	*ti = folded - 1;
	return 0;
}

uint32_t pdb_resolve_type(pdb_file *pdb, uint32_t ti)
{
	uint16_t leaf;
	const uint8_t *b;
	uint32_t n;
	tag_info t;
	if (pdb_load_types(pdb) < 0 || pdb_type_record(pdb, ti, &leaf, &b, &n) < 0 ||
	    !is_tag_leaf(leaf) || parse_tag(leaf, b, n, &t) < 0 || !(t.props & PROP_FWDREF))
		return ti;
	uint32_t full = t.unique ? unique_lookup(pdb, t.unique) : 0;
	if (!full && pdb_find_type(pdb, t.name, &full) < 0)
		return ti;
	/* the definition must be the same kind of tag */
	uint16_t fleaf;
	if (pdb_type_record(pdb, full, &fleaf, &b, &n) < 0 || tag_kind(fleaf) != tag_kind(leaf))
		return ti;
	return full;
}

static int basic_info(uint32_t ti, pdb_type *out)
{
	uint32_t mode = (ti >> 8) & 0xf;
	if (mode) {
		out->kind = PDB_TYPE_POINTER;
		out->elem_ti = ti & 0xff;
		/* CV_TM_NPTR32/FPTR32 = 4/5, CV_TM_NPTR64 = 6, CV_TM_NPTR128 = 7 */
		out->size = mode == 6 ? 8 : mode == 7 ? 16 : mode >= 4 ? 4 : 2;
		return 0;
	}
	out->kind = PDB_TYPE_BASE;
	out->name = pdb_basic_name(ti);
	out->size = pdb_basic_size(ti);
	return 0;
}

static uint64_t type_size_depth(pdb_file *pdb, uint32_t ti, int depth);

/* depth bounds the size recursion (arrays, modifiers, bitfields, enums
 * need their element's size): a hostile record referring to itself must
 * end, not overflow the stack. */
static int type_info_depth(pdb_file *pdb, uint32_t ti, pdb_type *out, int depth)
{
	memset(out, 0, sizeof *out);
	if (ti < 0x1000)
		return basic_info(ti, out);
	int rc = pdb_load_types(pdb);
	if (rc < 0)
		return rc;
	uint16_t leaf;
	const uint8_t *b;
	uint32_t n;
	if ((rc = pdb_type_record(pdb, ti, &leaf, &b, &n)) < 0)
		return rc;
	out->leaf = leaf;
	sym_cursor c;
	sym_cur_init(&c, b, n);
	tag_info t;
	switch (leaf) {
	case LF_STRUCTURE:
	case LF_CLASS:
	case LF_INTERFACE:
	case LF_UNION:
	case LF_ENUM:
	case LF_STRUCTURE2:
	case LF_CLASS2:
	case LF_INTERFACE2:
	case LF_UNION2:
		if (parse_tag(leaf, b, n, &t) < 0)
			return pdb_fail(pdb, SYM_E_FORMAT, "type %#x: malformed record", ti);
		out->kind = tag_kind(leaf);
		out->name = t.name;
		out->field_list = t.field_list;
		out->member_count = t.count;
		out->properties = t.props;
		out->forward = (t.props & PROP_FWDREF) != 0;
		out->size = t.size;
		if (leaf == LF_ENUM) {
			out->elem_ti = t.underlying;
			out->size = type_size_depth(pdb, t.underlying, depth + 1);
		}
		return 0;
	case LF_POINTER: {
		out->kind = PDB_TYPE_POINTER;
		out->elem_ti = sym_cur_u32(&c);
		uint32_t attr = sym_cur_u32(&c);
		out->size = (attr >> 13) & 0x3f;
		if (!out->size)
			out->size = (attr & 0x1f) == 0x0c ? 8 : 4;   /* CV_PTR_64 */
		out->modifiers = ((attr >> 10) & 1 ? PDB_MOD_CONST : 0) |
		                 ((attr >> 9) & 1 ? PDB_MOD_VOLATILE : 0) |
		                 ((attr >> 11) & 1 ? PDB_MOD_UNALIGNED : 0);
		break;
	}
	case LF_MODIFIER:
		out->kind = PDB_TYPE_MODIFIER;
		out->elem_ti = sym_cur_u32(&c);
		out->modifiers = sym_cur_u16(&c) & 7;
		if (!c.bad)
			out->size = type_size_depth(pdb, out->elem_ti, depth + 1);
		break;
	case LF_ARRAY: {
		out->kind = PDB_TYPE_ARRAY;
		out->elem_ti = sym_cur_u32(&c);
		out->index_ti = sym_cur_u32(&c);
		pdb_read_numeric(&c, &out->size, NULL);
		if (!c.bad) {
			uint64_t es = type_size_depth(pdb, out->elem_ti, depth + 1);
			out->count = es ? out->size / es : 0;
		}
		break;
	}
	case LF_BITFIELD:
		out->kind = PDB_TYPE_BITFIELD;
		out->elem_ti = sym_cur_u32(&c);
		out->bit_len = sym_cur_u8(&c);
		out->bit_pos = sym_cur_u8(&c);
		if (!c.bad)
			out->size = type_size_depth(pdb, out->elem_ti, depth + 1);
		break;
	case LF_PROCEDURE:
		out->kind = PDB_TYPE_PROCEDURE;
		out->elem_ti = sym_cur_u32(&c);
		out->call_conv = sym_cur_u8(&c);
		sym_cur_skip(&c, 1);
		out->param_count = sym_cur_u16(&c);
		break;
	case LF_MFUNCTION:
		out->kind = PDB_TYPE_PROCEDURE;
		out->elem_ti = sym_cur_u32(&c);
		sym_cur_skip(&c, 8);
		out->call_conv = sym_cur_u8(&c);
		sym_cur_skip(&c, 1);
		out->param_count = sym_cur_u16(&c);
		break;
	default:
		out->kind = PDB_TYPE_OTHER;
		break;
	}
	if (c.bad)
		return pdb_fail(pdb, SYM_E_FORMAT, "type %#x (leaf %#x): record truncated", ti, leaf);
	return 0;
}

int pdb_type_info(pdb_file *pdb, uint32_t ti, pdb_type *out)
{
	return type_info_depth(pdb, ti, out, 0);
}

/* Size with forward references resolved.  The record decoder already
 * sized modifiers, bitfields and enums from what they refer to, so this
 * is one bounded chain (a modifier of a modifier of ... itself ends at
 * depth 32). */
static uint64_t type_size_depth(pdb_file *pdb, uint32_t ti, int depth)
{
	pdb_type t;
	if (depth > 32 || type_info_depth(pdb, pdb_resolve_type(pdb, ti), &t, depth + 1) < 0)
		return 0;
	return t.size;
}

uint64_t pdb_type_size(pdb_file *pdb, uint32_t ti)
{
	return type_size_depth(pdb, ti, 0);
}

/* ---- field lists ---- */

/* Walk the field list of an aggregate/enum calling fn for each member we
 * report; fn returns nonzero to stop.  LF_INDEX continues in another
 * record (MSVC splits field lists larger than a record can hold). */
typedef int (*member_fn)(void *ctx, const pdb_member *m);

/* Compilers store enumerators with whatever numeric leaf fits (clang
 * writes -70000 in an int enum as LF_ULONG 4294897296); the value a user
 * expects follows the enum's underlying type. */
static int64_t enum_value(const pdb_type *parent, uint64_t u, int64_t s)
{
	if (parent->kind != PDB_TYPE_ENUM || parent->elem_ti >= 0x1000)
		return s;
	static const uint8_t signed_codes[] = { 0x10, 0x11, 0x12, 0x13, 0x68, 0x70, 0x72, 0x74, 0x76 };
	uint32_t size = pdb_basic_size(parent->elem_ti);
	for (size_t i = 0; i < sizeof signed_codes; i++) {
		if ((parent->elem_ti & 0xff) != signed_codes[i] || size == 0 || size >= 8)
			continue;
		uint64_t sign = 1ull << (size * 8 - 1);
		uint64_t v = u & ((sign << 1) - 1);
		return (int64_t)(v ^ sign) - (int64_t)sign;
	}
	return s;
}

static int walk_fields(pdb_file *pdb, uint32_t ti, member_fn fn, void *ctx)
{
	pdb_type t;
	int rc = pdb_type_info(pdb, pdb_resolve_type(pdb, ti), &t);
	if (rc < 0)
		return rc;
	if (t.kind != PDB_TYPE_STRUCT && t.kind != PDB_TYPE_CLASS &&
	    t.kind != PDB_TYPE_UNION && t.kind != PDB_TYPE_ENUM)
		return pdb_fail(pdb, SYM_E_INVAL, "type %#x has no members", ti);
	if (t.forward)
		return pdb_fail(pdb, SYM_E_NOTFOUND, "%s is only declared (forward reference, no definition)",
		                t.name);
	uint32_t fl = t.field_list;
	for (int hops = 0; fl && hops < 1024; hops++) {
		uint16_t leaf;
		const uint8_t *b;
		uint32_t n;
		if (pdb_type_record(pdb, fl, &leaf, &b, &n) < 0 || leaf != LF_FIELDLIST)
			return pdb_fail(pdb, SYM_E_FORMAT, "type %#x: field list %#x missing", ti, fl);
		fl = 0;
		sym_cursor c;
		sym_cur_init(&c, b, n);
		while (c.pos < c.len) {
			if (c.p[c.pos] >= 0xf0) {   /* LF_PADn: skip to alignment */
				c.pos += (c.p[c.pos] & 0x0f) ? (c.p[c.pos] & 0x0f) : 1;
				continue;
			}
			uint16_t ml = sym_cur_u16(&c);
			pdb_member m = {0};
			int report = 1;
			switch (ml) {
			case LF_MEMBER:
				sym_cur_skip(&c, 2);
				m.kind = PDB_MEMBER_DATA;
				m.ti = sym_cur_u32(&c);
				pdb_read_numeric(&c, &m.offset, NULL);
				m.name = sym_cur_str(&c);
				break;
			case LF_STMEMBER:
				sym_cur_skip(&c, 2);
				m.kind = PDB_MEMBER_STATIC;
				m.ti = sym_cur_u32(&c);
				m.name = sym_cur_str(&c);
				break;
			case LF_ENUMERATE:
				sym_cur_skip(&c, 2);
				m.kind = PDB_MEMBER_ENUMERATE;
				pdb_read_numeric(&c, &m.uvalue, &m.value);
				m.name = sym_cur_str(&c);
				m.value = enum_value(&t, m.uvalue, m.value);
				break;
			case LF_BCLASS:
			case LF_BINTERFACE:
				sym_cur_skip(&c, 2);
				m.kind = PDB_MEMBER_BASE_CLASS;
				m.ti = sym_cur_u32(&c);
				pdb_read_numeric(&c, &m.offset, NULL);
				m.name = "";
				break;
			case LF_VBCLASS:
			case LF_IVBCLASS:
				sym_cur_skip(&c, 2 + 4 + 4);
				pdb_read_numeric(&c, NULL, NULL);
				pdb_read_numeric(&c, NULL, NULL);
				report = 0;
				break;
			case LF_NESTTYPE:
			case LF_NESTTYPEEX:   /* attributes instead of padding */
				sym_cur_skip(&c, 2);
				m.kind = PDB_MEMBER_NESTED_TYPE;
				m.ti = sym_cur_u32(&c);
				m.name = sym_cur_str(&c);
				break;
			case LF_ONEMETHOD: {
				uint16_t attr = sym_cur_u16(&c);
				sym_cur_skip(&c, 4);
				uint16_t mprop = (attr >> 2) & 7;
				if (mprop == 4 || mprop == 6)   /* introducing virtual */
					sym_cur_skip(&c, 4);
				sym_cur_str(&c);
				report = 0;
				break;
			}
			case LF_METHOD:
				sym_cur_skip(&c, 2 + 4);
				sym_cur_str(&c);
				report = 0;
				break;
			case LF_VFUNCTAB:
			case LF_FRIENDCLS:
				sym_cur_skip(&c, 2 + 4);
				report = 0;
				break;
			case LF_FRIENDFCN:
				sym_cur_skip(&c, 2 + 4);
				sym_cur_str(&c);
				report = 0;
				break;
			case LF_VFUNCOFF:
				sym_cur_skip(&c, 2 + 4 + 4);
				report = 0;
				break;
			case LF_INDEX:
				sym_cur_skip(&c, 2);
				fl = sym_cur_u32(&c);
				report = 0;
				break;
			default:
				/* unknown member: its length is unknown, so the walk
				 * ends here; the members before it are still shown */
				pdb_fail(pdb, SYM_E_FORMAT, "type %#x: unknown member leaf %#x", ti, ml);
				return 0;
			}
			if (c.bad)
				return pdb_fail(pdb, SYM_E_FORMAT, "type %#x: member record truncated", ti);
			if (!report)
				continue;
			if (m.kind == PDB_MEMBER_DATA && m.ti >= 0x1000) {
				pdb_type bt;
				if (pdb_type_info(pdb, m.ti, &bt) == 0 && bt.kind == PDB_TYPE_BITFIELD) {
					m.bit_pos = bt.bit_pos;
					m.bit_len = bt.bit_len;
				}
			}
			int r = fn(ctx, &m);
			if (r)
				return r;
		}
	}
	return 0;
}

static int count_cb(void *ctx, const pdb_member *m)
{
	(void)m;
	(*(size_t *)ctx)++;
	return 0;
}

int pdb_type_member_count(pdb_file *pdb, uint32_t ti)
{
	size_t n = 0;
	int rc = walk_fields(pdb, ti, count_cb, &n);
	return rc < 0 ? rc : (int)n;
}

typedef struct at_ctx {
	size_t want, seen;
	pdb_member *out;
} at_ctx;

static int at_cb(void *ctx, const pdb_member *m)
{
	at_ctx *a = ctx;
	if (a->seen++ == a->want) {
		*a->out = *m;
		return 1;
	}
	return 0;
}

int pdb_type_member_at(pdb_file *pdb, uint32_t ti, size_t i, pdb_member *out)
{
	at_ctx a = { i, 0, out };
	int rc = walk_fields(pdb, ti, at_cb, &a);
	if (rc < 0)
		return rc;
	return rc == 1 ? 0 : pdb_fail(pdb, SYM_E_NOTFOUND, "type %#x has no member %zu", ti, i);
}

/* ---- dotted field paths ---- */

typedef struct field_ctx {
	pdb_file *pdb;
	const char *name;
	size_t name_len;
	int depth;
	int *budget;            /* field-list walks left for this lookup */
	uint64_t offset;
	uint32_t ti;
	int found;
} field_ctx;

static uint32_t strip_modifiers(pdb_file *pdb, uint32_t ti)
{
	pdb_type t;
	for (int i = 0; i < 8; i++) {
		ti = pdb_resolve_type(pdb, ti);
		if (pdb_type_info(pdb, ti, &t) < 0 || t.kind != PDB_TYPE_MODIFIER)
			break;
		ti = t.elem_ti;
	}
	return ti;
}

static int find_member(pdb_file *pdb, uint32_t ti, const char *name, size_t len, int depth,
                       int *budget, uint64_t *off, uint32_t *fti);

static int direct_cb(void *ctx, const pdb_member *m)
{
	field_ctx *f = ctx;
	if (m->kind == PDB_MEMBER_DATA && strlen(m->name) == f->name_len &&
	    memcmp(m->name, f->name, f->name_len) == 0) {
		f->offset = m->offset;
		f->ti = m->ti;
		f->found = 1;
		return 1;
	}
	return 0;
}

/* Second pass: base classes and unnamed nested aggregates. */
static int nested_cb(void *ctx, const pdb_member *m)
{
	field_ctx *f = ctx;
	int descend = m->kind == PDB_MEMBER_BASE_CLASS;
	if (m->kind == PDB_MEMBER_DATA && m->ti >= 0x1000) {
		pdb_type t;
		uint32_t mt = strip_modifiers(f->pdb, m->ti);
		if (pdb_type_info(f->pdb, mt, &t) == 0 && t.name &&
		    (t.kind == PDB_TYPE_STRUCT || t.kind == PDB_TYPE_UNION || t.kind == PDB_TYPE_CLASS) &&
		    (t.name[0] == '<' || strncmp(t.name, "__unnamed", 9) == 0 || !m->name[0]))
			descend = 1;
	}
	if (!descend)
		return 0;
	uint64_t off;
	uint32_t fti;
	if (find_member(f->pdb, m->ti, f->name, f->name_len, f->depth + 1, f->budget, &off, &fti) == 0) {
		f->offset = m->offset + off;
		f->ti = fti;
		f->found = 1;
		return 1;
	}
	return 0;
}

static int find_member(pdb_file *pdb, uint32_t ti, const char *name, size_t len, int depth,
                       int *budget, uint64_t *off, uint32_t *fti)
{
	/* nesting and fan-out are bounded so a hostile PDB (every member an
	 * unnamed struct of the same type) cannot make a lookup explode */
	if (depth > 16 || (*budget -= 2) < 0)
		return SYM_E_NOTFOUND;
	field_ctx f = { pdb, name, len, depth, budget, 0, 0, 0 };
	ti = strip_modifiers(pdb, ti);
	int rc = walk_fields(pdb, ti, direct_cb, &f);
	if (rc < 0)
		return rc;
	if (!f.found && (rc = walk_fields(pdb, ti, nested_cb, &f)) < 0)
		return rc;
	if (!f.found)
		return SYM_E_NOTFOUND;
	*off = f.offset;
	*fti = f.ti;
	return 0;
}

int pdb_type_field(pdb_file *pdb, uint32_t ti, const char *path, uint64_t *offset, uint32_t *field_ti)
{
	uint64_t total = 0;
	const char *p = path;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		uint64_t off;
		uint32_t fti;
		int budget = 20000;
		int rc = find_member(pdb, ti, p, len, 0, &budget, &off, &fti);
		if (rc < 0)
			return pdb_fail(pdb, rc == SYM_E_NOTFOUND ? SYM_E_NOTFOUND : rc,
			                "no field %.*s in %s", (int)len, p, path);
		total += off;
		ti = fti;
		p += len;
		if (*p == '.')
			p++;
	}
	if (offset)
		*offset = total;
	if (field_ti)
		*field_ti = ti;
	return 0;
}
