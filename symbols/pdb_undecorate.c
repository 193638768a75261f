/*
 * pdb_undecorate.c - the qualified name inside an MSVC-decorated C++ name,
 * as WinDbg shows publics ("?RequestDump@Client@ns@@QAE_NXZ" ->
 * "ns::Client::RequestDump"; "??0Client@@..." -> "Client::Client").
 * Only the plain forms: templates, back-references and operators other
 * than constructors/destructors are left decorated (returns 0).
 */
#include "pdb_internal.h"

#define MAX_SCOPES 16

size_t pdb_undecorate_msvc(const char *raw, char *out, size_t cap)
{
	const char *frag[MAX_SCOPES];
	size_t flen[MAX_SCOPES];
	int n = 0, special = 0;   /* 1 constructor, 2 destructor */
	const char *p = raw;
	if (*p++ != '?')
		return 0;
	if (*p == '?') {
		if (p[1] == '0')
			special = 1;
		else if (p[1] == '1')
			special = 2;
		else
			return 0;
		p += 2;
	}
	/* fragments innermost first, each ended by '@'; "@" alone ends them */
	while (*p != '@') {
		const char *start = p;
		while (*p && *p != '@') {
			char ch = *p;
			if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			      (ch >= '0' && ch <= '9' && p != start) || ch == '_'))
				return 0;   /* template, back-reference, nested name */
			p++;
		}
		if (!*p || p == start || n == MAX_SCOPES)
			return 0;
		frag[n] = start;
		flen[n++] = (size_t)(p - start);
		p++;
	}
	if (!n)
		return 0;
	size_t need = 0;
	for (int i = 0; i < n; i++)
		need += flen[i] + 2;
	if (special)
		need += flen[0] + 1;
	if (need + 1 > cap)
		return 0;
	char *o = out;
	for (int i = n - 1; i >= 0; i--) {
		memcpy(o, frag[i], flen[i]);
		o += flen[i];
		if (i > 0 || special) {
			memcpy(o, "::", 2);
			o += 2;
		}
	}
	if (special) {
		if (special == 2)
			*o++ = '~';
		memcpy(o, frag[0], flen[0]);
		o += flen[0];
	}
	*o = 0;
	return (size_t)(o - out);
}
