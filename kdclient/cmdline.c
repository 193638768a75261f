/*
 * cmdline.c - command-line splitting and argument words (see cmdline.h for
 * the WinDbg rules this follows).
 */
#include "cmdline.h"

#include <ctype.h>
#include <strings.h>
#include <string.h>

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

const char *kd_skip_blanks(const char *p)
{
	while (*p && is_blank(*p))
		p++;
	return p;
}

/* Does the command at p start with this word followed by a blank or the
 * end?  Case-sensitive on purpose: `as` and `aS` end differently. */
static int starts_word(const char *p, const char *w)
{
	size_t n = strlen(w);
	return strncmp(p, w, n) == 0 && (p[n] == 0 || is_blank(p[n]));
}

/* Commands whose argument is the rest of the line, ';' included. */
static int takes_rest_of_line(const char *p)
{
	static const char *const prefixes[] = { "$$><", "$$>a<", "$$<", "$><", "$>a<", "$<" };
	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
		if (strncmp(p, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	return starts_word(p, "as");
}

static int is_j_command(const char *p)
{
	return p[0] == 'j' && (p[1] == 0 || is_blank(p[1]) || p[1] == '(');
}

/* Scripts written over several lines ("$$><" joins them, as WinDbg
 * does) put a block's braces or its .else/.elsif on the next line:
 *   .if (cond)
 *   {
 *   }
 *   .else
 * so a separator followed by '{', ".else" or ".elsif" does not end the
 * command. */
static int continues_block(const char *after_sep)
{
	const char *q = kd_skip_blanks(after_sep);
	if (*q == '{')
		return 1;
	return starts_word(q, ".else") || starts_word(q, ".elsif") ||
	       (strncmp(q, ".else{", 6) == 0) || (strncmp(q, ".elsif(", 7) == 0);
}

/* End of a command that runs to the next ';' or newline, respecting quotes
 * and braces (and j's single-quoted lists). */
static const char *scan_command(const char *p)
{
	int in_dq = 0, in_sq = 0, depth = 0;
	int j_mode = is_j_command(p);
	/* .for (init; cond; step): the head's ';' belong to it. */
	int paren_mode = starts_word(p, ".for") || strncmp(p, ".for(", 5) == 0;
	int parens = 0;
	int lists_closed = 0;      /* j: single-quoted lists seen */
	int seen_quote = 0;        /* j: any ' at all (quoted form) */
	int joined = 0;            /* j: unquoted form's ';' taken */
	for (; *p; p++) {
		char c = *p;
		if (in_dq) {
			if (c == '\\' && p[1])
				p++;
			else if (c == '"')
				in_dq = 0;
			continue;
		}
		if (in_sq) {
			if (c == '"')
				in_dq = 1;  /* a quoted string inside a j list */
			else if (c == '\'') {
				in_sq = 0;
				lists_closed++;
			}
			continue;
		}
		if (c == '"') {
			in_dq = 1;
		} else if (c == '\'' && j_mode && depth == 0) {
			in_sq = 1;
			seen_quote = 1;
		} else if (paren_mode && c == '(') {
			parens++;
		} else if (paren_mode && c == ')') {
			if (parens > 0)
				parens--;
		} else if (c == '{') {
			depth++;
		} else if (c == '}') {
			if (depth > 0)
				depth--;
		} else if ((c == ';' || c == '\n') && depth == 0 && parens == 0) {
			/* j cond 'a' ; 'b': the ';' joins the two lists. */
			if (c == ';' && j_mode && lists_closed == 1) {
				const char *q = kd_skip_blanks(p + 1);
				if (*q == '\'')
					continue;
			}
			/* unquoted "j cond cmd1 ; cmd2": one ';' is j's own */
			if (c == ';' && j_mode && !seen_quote && !joined) {
				const char *q = kd_skip_blanks(p + 1);
				if (*q != '\'') {
					joined = 1;
					continue;
				}
			}
			if (continues_block(p + 1))
				continue;
			return p;
		}
	}
	return p;
}

int kd_cmdline_next(const char **pos, const char **cmd, size_t *len)
{
	const char *p = *pos;
	for (;;) {
		while (*p && (is_blank(*p) || *p == ';'))
			p++;
		if (!*p) {
			*pos = p;
			return 0;
		}
		const char *start = p, *end;
		if (*p == '*') {
			/* Comment to the end of the line. */
			end = strchr(p, '\n');
			p = end ? end : p + strlen(p);
			continue;
		}
		if (p[0] == '$' && p[1] == '$' && p[2] != '>' && p[2] != '<') {
			/* $$ comment: ends at ';' or newline. */
			while (*p && *p != ';' && *p != '\n')
				p++;
			continue;
		}
		if (takes_rest_of_line(p)) {
			end = strchr(p, '\n');
			if (!end)
				end = p + strlen(p);
			p = end;
		} else {
			end = scan_command(p);
			p = end;
		}
		while (end > start && is_blank(end[-1]))
			end--;
		*cmd = start;
		*len = (size_t)(end - start);
		if (*p)
			p++;   /* the ';' or newline */
		*pos = p;
		return 1;
	}
}

int kd_cmdline_split(const char *line, kd_cmdline_fn fn, void *ctx)
{
	const char *pos = line, *cmd;
	size_t len;
	char buf[KD_CMDLINE_MAX];
	while (kd_cmdline_next(&pos, &cmd, &len)) {
		int truncated = len >= sizeof buf;
		if (truncated)
			len = sizeof buf - 1;
		memcpy(buf, cmd, len);
		buf[len] = 0;
		int rc = fn(ctx, buf, truncated);
		if (rc)
			return rc;
	}
	return 0;
}

int kd_cmdline_unquote(const char **p, char *out, size_t outlen)
{
	const char *s = *p;
	size_t n = 0;
	if (*s != '"' || outlen == 0)
		return -1;
	s++;
	for (;;) {
		char c = *s;
		if (c == 0)
			return -1;
		if (c == '"') {
			s++;
			break;
		}
		if (c == '\\' && s[1]) {
			s++;
			switch (*s) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case '"': c = '"'; break;
			case '\\': c = '\\'; break;
			default:
				/* Unknown escapes keep the backslash, as WinDbg
				 * does for paths like "c:\temp". */
				if (n + 1 >= outlen)
					return -1;
				out[n++] = '\\';
				c = *s;
				break;
			}
		}
		if (n + 1 >= outlen)
			return -1;
		out[n++] = c;
		s++;
	}
	out[n] = 0;
	*p = s;
	return (int)n;
}

int kd_cmdline_word(const char **p, char *out, size_t outlen)
{
	const char *s = kd_skip_blanks(*p);
	if (!*s) {
		*p = s;
		if (outlen)
			out[0] = 0;
		return 0;
	}
	if (*s == '"') {
		if (kd_cmdline_unquote(&s, out, outlen) < 0)
			return -1;
	} else {
		size_t n = 0;
		while (*s && !is_blank(*s)) {
			if (n + 1 >= outlen)
				return -1;
			out[n++] = *s++;
		}
		out[n] = 0;
	}
	*p = kd_skip_blanks(s);
	return 1;
}

const char *kd_cmdline_match(const char *p)
{
	char open = *p, close;
	switch (open) {
	case '{': close = '}'; break;
	case '(': close = ')'; break;
	case '\'': close = '\''; break;
	default: return NULL;
	}
	int depth = 0, in_dq = 0;
	for (; *p; p++) {
		char c = *p;
		if (in_dq) {
			if (c == '\\' && p[1])
				p++;
			else if (c == '"')
				in_dq = 0;
			continue;
		}
		if (open == '\'') {
			if (depth && c == '\'')
				return p;
			if (c == '"' && depth)
				in_dq = 1;
			depth = 1;
			continue;
		}
		if (c == '"')
			in_dq = 1;
		else if (c == open)
			depth++;
		else if (c == close && --depth == 0)
			return p;
	}
	return NULL;
}

size_t kd_cmdline_keyword(const char *p, const char *word)
{
	size_t n = strlen(word);
	if (strncasecmp(p, word, n) != 0)
		return 0;
	char c = p[n];
	if (c && (isalnum((unsigned char)c) || c == '_'))
		return 0;
	return n;
}

/* ---- alias expansion (the state lives in script.c) ---- */

static int is_ident(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '$';
}

typedef struct outbuf {
	char *p;
	size_t cap, len;
	int overflow;
} outbuf;

static void ob_put(outbuf *o, const char *s, size_t n)
{
	if (o->len + n >= o->cap) {
		o->overflow = 1;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = 0;
}

static const struct kd_lang_alias *find_alias(const struct kd_lang_alias *a, size_t n,
					      const char *name, size_t len)
{
	/* Alias names are case-sensitive in WinDbg. */
	for (size_t i = 0; i < n; i++)
		if (strlen(a[i].name) == len && strncmp(a[i].name, name, len) == 0)
			return &a[i];
	return NULL;
}

/* Commands whose own arguments name aliases: their words are not
 * replaced (otherwise `ad Foo` would delete the value of Foo). */
static int manages_aliases(const char *cmd)
{
	static const char *const names[] = { "as", "aS", "ad", "al" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		size_t n = strlen(names[i]);
		if (strncmp(cmd, names[i], n) == 0 && (cmd[n] == 0 || isspace((unsigned char)cmd[n])))
			return 1;
	}
	return 0;
}

int kd_alias_expand(const struct kd_lang_alias *aliases, size_t n, const char *cmd,
		    char *out, size_t outlen)
{
	outbuf o = { out, outlen, 0, 0 };
	if (outlen)
		out[0] = 0;
	int plain = !manages_aliases(kd_skip_blanks(cmd));
	int in_dq = 0;
	const char *p = cmd;
	while (*p) {
		if (p[0] == '$' && p[1] == '{') {
			const char *close = strchr(p, '}');
			if (close) {
				const char *name = p + 2;
				char mode = 0;
				/* ${/v:x} keeps "${x}" (for as/aS naming an alias),
				 * ${/d:x} 1/0 for defined, ${/f:x} value or nothing,
				 * ${/n:x} the name when defined. */
				if (name[0] == '/' && name[1] && name[2] == ':' && strchr("vdfn", name[1])) {
					mode = name[1];
					name += 3;
				}
				const struct kd_lang_alias *a =
					find_alias(aliases, n, name, (size_t)(close - name));
				if (mode == 'v') {
					ob_put(&o, "${", 2);
					ob_put(&o, name, (size_t)(close - name + 1));
				} else if (mode == 'd') {
					ob_put(&o, a ? "1" : "0", 1);
				} else if (mode == 'f') {
					if (a)
						ob_put(&o, a->value, strlen(a->value));
				} else if (mode == 'n' && a) {
					ob_put(&o, name, (size_t)(close - name));
				} else if (a && mode == 0) {
					ob_put(&o, a->value, strlen(a->value));
				} else {
					/* Unknown ${x}: WinDbg leaves it as typed. */
					ob_put(&o, p, (size_t)(close - p + 1));
				}
				p = close + 1;
				continue;
			}
		}
		if (*p == '"')
			in_dq = !in_dq;
		if (plain && !in_dq && is_ident(*p) && (p == cmd || !is_ident(p[-1]))) {
			const char *e = p;
			while (is_ident(*e))
				e++;
			/* Whole words only, and not the module part of a!b. */
			const struct kd_lang_alias *a = *e == '!' ? NULL
				: find_alias(aliases, n, p, (size_t)(e - p));
			if (a)
				ob_put(&o, a->value, strlen(a->value));
			else
				ob_put(&o, p, (size_t)(e - p));
			p = e;
			continue;
		}
		ob_put(&o, p, 1);
		p++;
	}
	return o.overflow ? -1 : 0;
}

