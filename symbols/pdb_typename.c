/*
 * pdb_typename.c - type names: CodeView basic types (type index < 0x1000)
 * and the names WinDbg's dt prints in its member column ("Ptr64 _EPROCESS",
 * "[16] UChar", "Pos 0, 1 Bit"), plus a C-like spelling.
 */
#include <stdlib.h>

#include "pdb_internal.h"

typedef struct basic_type {
	uint8_t code;          /* low byte of the type index */
	uint8_t size;
	const char *windbg;    /* dt's spelling */
	const char *c;         /* C spelling */
} basic_type;

/* cvinfo.h basic type codes; WinDbg spellings as dt prints them. */
static const basic_type basic_types[] = {
	{ 0x00, 0, "<NoType>", "<no type>" },
	{ 0x03, 0, "Void", "void" },
	{ 0x08, 4, "HRESULT", "HRESULT" },
	{ 0x10, 1, "Char", "signed char" },
	{ 0x11, 2, "Int2B", "short" },
	{ 0x12, 4, "Int4B", "long" },
	{ 0x13, 8, "Int8B", "__int64" },
	{ 0x14, 16, "Int16B", "__int128" },
	{ 0x20, 1, "UChar", "unsigned char" },
	{ 0x21, 2, "Uint2B", "unsigned short" },
	{ 0x22, 4, "Uint4B", "unsigned long" },
	{ 0x23, 8, "Uint8B", "unsigned __int64" },
	{ 0x24, 16, "Uint16B", "unsigned __int128" },
	{ 0x30, 1, "Bool", "bool" },
	{ 0x31, 2, "Bool", "bool16" },
	{ 0x32, 4, "Bool", "bool32" },
	{ 0x33, 8, "Bool", "bool64" },
	{ 0x40, 4, "Float", "float" },
	{ 0x41, 8, "Float", "double" },
	{ 0x42, 10, "Float", "long double" },
	{ 0x68, 1, "Int1B", "__int8" },
	{ 0x69, 1, "UInt1B", "unsigned __int8" },
	{ 0x70, 1, "Char", "char" },
	{ 0x71, 2, "Wchar", "wchar_t" },
	{ 0x72, 2, "Int2B", "short" },
	{ 0x73, 2, "Uint2B", "unsigned short" },
	{ 0x74, 4, "Int4B", "int" },
	{ 0x75, 4, "Uint4B", "unsigned int" },
	{ 0x76, 8, "Int8B", "__int64" },
	{ 0x77, 8, "Uint8B", "unsigned __int64" },
	{ 0x78, 16, "Int16B", "__int128" },
	{ 0x79, 16, "Uint16B", "unsigned __int128" },
	{ 0x7a, 2, "Wchar", "char16_t" },
	{ 0x7b, 4, "Uint4B", "char32_t" },
	{ 0x7c, 1, "Char", "char8_t" },
};

static const basic_type *basic_lookup(uint32_t ti)
{
	for (size_t i = 0; i < sizeof basic_types / sizeof basic_types[0]; i++)
		if (basic_types[i].code == (ti & 0xff))
			return &basic_types[i];
	return NULL;
}

const char *pdb_basic_name(uint32_t ti)
{
	const basic_type *b = basic_lookup(ti);
	return b ? b->windbg : "<unknown>";
}

const char *pdb_basic_c_name(uint32_t ti)
{
	const basic_type *b = basic_lookup(ti);
	return b ? b->c : "<unknown>";
}

uint32_t pdb_basic_size(uint32_t ti)
{
	const basic_type *b = basic_lookup(ti);
	return b ? b->size : 0;
}

/* Bounded string builder: keeps the full length like snprintf. */
typedef struct sb {
	char *buf;
	size_t cap, len;
} sb;

static void sb_add(sb *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(sb *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t room = s->len < s->cap ? s->cap - s->len : 0;
	int n = vsnprintf(room ? s->buf + s->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		s->len += (size_t)n;
}

static void c_name(pdb_file *pdb, uint32_t ti, sb *s, int depth);

static const char *ptr_word(uint64_t size)
{
	return size == 8 ? "Ptr64" : size == 4 ? "Ptr32" : "Ptr16";
}

static void windbg_name(pdb_file *pdb, uint32_t ti, sb *s, int depth)
{
	pdb_type t;
	if (depth > 32 || pdb_type_info(pdb, ti, &t) < 0) {
		sb_add(s, "<type %#x>", ti);
		return;
	}
	switch (t.kind) {
	case PDB_TYPE_BASE:
		sb_add(s, "%s", t.name);
		break;
	case PDB_TYPE_POINTER: {
		pdb_type p;
		uint32_t to = t.elem_ti;
		/* pointers to functions: dt prints the return type, C-style,
		 * after a wide gap ("Ptr64     void ") */
		for (int i = 0; i < 8 && pdb_type_info(pdb, to, &p) == 0 && p.kind == PDB_TYPE_MODIFIER; i++)
			to = p.elem_ti;
		if (pdb_type_info(pdb, to, &p) == 0 && p.kind == PDB_TYPE_PROCEDURE) {
			sb_add(s, "%s     ", ptr_word(t.size));
			c_name(pdb, p.elem_ti, s, depth + 1);
			sb_add(s, " ");
		} else {
			sb_add(s, "%s ", ptr_word(t.size));
			windbg_name(pdb, t.elem_ti, s, depth + 1);
		}
		break;
	}
	case PDB_TYPE_ARRAY:
		sb_add(s, "[%llu] ", (unsigned long long)t.count);
		windbg_name(pdb, t.elem_ti, s, depth + 1);
		break;
	case PDB_TYPE_BITFIELD:
		sb_add(s, "Pos %u, %u Bit%s", t.bit_pos, t.bit_len, t.bit_len == 1 ? "" : "s");
		break;
	case PDB_TYPE_MODIFIER:
		/* dt does not show const/volatile */
		windbg_name(pdb, t.elem_ti, s, depth + 1);
		break;
	case PDB_TYPE_STRUCT:
	case PDB_TYPE_CLASS:
	case PDB_TYPE_UNION:
	case PDB_TYPE_ENUM:
		sb_add(s, "%s", t.name);
		break;
	case PDB_TYPE_PROCEDURE:
		c_name(pdb, ti, s, depth + 1);
		break;
	default:
		sb_add(s, "<leaf %#x>", t.leaf);
		break;
	}
}

static void c_name(pdb_file *pdb, uint32_t ti, sb *s, int depth)
{
	pdb_type t;
	if (depth > 32 || pdb_type_info(pdb, ti, &t) < 0) {
		sb_add(s, "<type %#x>", ti);
		return;
	}
	switch (t.kind) {
	case PDB_TYPE_BASE:
		sb_add(s, "%s", pdb_basic_c_name(ti));
		break;
	case PDB_TYPE_POINTER:
		c_name(pdb, t.elem_ti, s, depth + 1);
		sb_add(s, " *");
		break;
	case PDB_TYPE_ARRAY:
		c_name(pdb, t.elem_ti, s, depth + 1);
		sb_add(s, "[%llu]", (unsigned long long)t.count);
		break;
	case PDB_TYPE_BITFIELD:
		c_name(pdb, t.elem_ti, s, depth + 1);
		sb_add(s, ":%u", t.bit_len);
		break;
	case PDB_TYPE_MODIFIER:
		if (t.modifiers & PDB_MOD_CONST)
			sb_add(s, "const ");
		if (t.modifiers & PDB_MOD_VOLATILE)
			sb_add(s, "volatile ");
		c_name(pdb, t.elem_ti, s, depth + 1);
		break;
	case PDB_TYPE_STRUCT:
		sb_add(s, "struct %s", t.name);
		break;
	case PDB_TYPE_CLASS:
		sb_add(s, "class %s", t.name);
		break;
	case PDB_TYPE_UNION:
		sb_add(s, "union %s", t.name);
		break;
	case PDB_TYPE_ENUM:
		sb_add(s, "enum %s", t.name);
		break;
	case PDB_TYPE_PROCEDURE:
		c_name(pdb, t.elem_ti, s, depth + 1);
		sb_add(s, " (%u args)", t.param_count);
		break;
	default:
		sb_add(s, "<leaf %#x>", t.leaf);
		break;
	}
}

int pdb_type_name(pdb_file *pdb, uint32_t ti, char *buf, size_t len)
{
	sb s = { buf, len, 0 };
	if (len)
		buf[0] = 0;
	windbg_name(pdb, ti, &s, 0);
	return (int)s.len;
}

int pdb_type_c_name(pdb_file *pdb, uint32_t ti, char *buf, size_t len)
{
	sb s = { buf, len, 0 };
	if (len)
		buf[0] = 0;
	c_name(pdb, ti, &s, 0);
	return (int)s.len;
}
