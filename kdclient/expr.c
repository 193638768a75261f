/*
 * expr.c - MASM expression evaluator (syntax in expr.h).
 *
 * A recursive-descent parser straight over the text: each precedence level
 * is one function, the table `binops` lists the operators per level.  The
 * first failure records its message and position and unwinds.
 */
#include "expr.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef struct parser {
	const kd_expr_env *env;
	const char *text;
	const char *p;
	int failed;
	const char *err_at;
	char *err;
	size_t errlen;
	int depth;
} parser;

#define MAX_DEPTH 64
#define MAX_WORD 512

static int fail(parser *ps, const char *at, const char *what)
{
	if (ps->failed)
		return -1;
	ps->failed = 1;
	ps->err_at = at;
	if (ps->err && ps->errlen) {
		/* WinDbg quotes the rest of the text from the bad token. */
		size_t n = strlen(at);
		while (n && isspace((unsigned char)at[n - 1]))
			n--;
		if (n > 60)
			n = 60;
		snprintf(ps->err, ps->errlen, "%s error at '%.*s'", what, (int)n, at);
	}
	return -1;
}

static void skip_blanks(parser *ps)
{
	while (*ps->p && isspace((unsigned char)*ps->p))
		ps->p++;
}

static int is_word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '`' || c == '$';
}

/* Symbol names: module!name, C++ scopes (a::b), and '?' '@' as in MSVC
 * decorated names are not supported on purpose ('@' starts registers). */
static size_t scan_symbol(const char *p)
{
	size_t n = 0;
	for (;;) {
		char c = p[n];
		if (is_word_char(c) || c == '!')
			n++;
		else if (c == ':' && p[n + 1] == ':')
			n += 2;
		else
			break;
	}
	return n;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	return 99;
}

/* Parse [s, s+n) as a number in radix; backticks are separators.  Returns
 * 0, -1 if a character is not a digit, -2 on overflow. */
static int parse_digits(const char *s, size_t n, unsigned radix, uint64_t *out)
{
	uint64_t v = 0;
	size_t digits = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '`')
			continue;
		int d = digit_value(s[i]);
		if (d >= (int)radix)
			return -1;
		if (v > (UINT64_MAX - (uint64_t)d) / radix)
			return -2;
		v = v * radix + (uint64_t)d;
		digits++;
	}
	if (!digits)
		return -1;
	*out = v;
	return 0;
}

/* A word as a number: 0x/0n/0t/0y prefixes, or digits of the default
 * radix.  The h suffix is tried separately (after registers: "ah" is a
 * register, "0ah" and "10h" are numbers). */
static int parse_number(const parser *ps, const char *s, size_t n, uint64_t *out)
{
	unsigned radix = ps->env->radix ? ps->env->radix : 16;
	if (n > 2 && s[0] == '0') {
		unsigned r = 0;
		switch (tolower((unsigned char)s[1])) {
		case 'x': r = 16; break;
		case 'n': r = 10; break;
		case 't': r = 8; break;
		case 'y': r = 2; break;
		}
		if (r)
			return parse_digits(s + 2, n - 2, r, out);
	}
	return parse_digits(s, n, radix, out);
}

static int parse_h_suffix(const char *s, size_t n, uint64_t *out)
{
	if (n > 1 && tolower((unsigned char)s[n - 1]) == 'h')
		return parse_digits(s, n - 1, 16, out);
	return -1;
}

static int read_mem(parser *ps, const char *at, uint64_t addr, unsigned size, uint64_t *out)
{
	uint8_t b[8];
	if (!ps->env->read_memory || ps->env->read_memory(ps->env->ctx, addr, b, size) < 0)
		return fail(ps, at, "Memory access");
	uint64_t v = 0;
	for (unsigned i = size; i-- > 0;)
		v = (v << 8) | b[i];     /* target memory is little-endian */
	*out = v;
	return 0;
}

static int lookup_pseudo(parser *ps, const char *at, const char *name, uint64_t *v)
{
	if (ps->env->get_pseudo && ps->env->get_pseudo(ps->env->ctx, name, v) >= 0)
		return 0;
	if (strcasecmp(name, "$ptrsize") == 0) {
		*v = ps->env->ptr_size ? ps->env->ptr_size : 8;
		return 0;
	}
	if (strcasecmp(name, "$pagesize") == 0) {
		*v = 0x1000;
		return 0;
	}
	return fail(ps, at, "Bad register");
}

static int parse_or(parser *ps, uint64_t *v);

/* Unary operators spelled as words, with the memory width they read
 * (0 = arithmetic). */
static const struct {
	const char *name;
	unsigned mem;        /* bytes read, 0 if not a memory operator */
	int op;              /* for arithmetic ones */
} word_unops[] = {
	{ "poi", 0xff, 0 },  /* pointer size */
	{ "qwo", 8, 0 },
	{ "dwo", 4, 0 },
	{ "wo", 2, 0 },
	{ "by", 1, 0 },
	{ "not", 0, '!' },
	{ "hi", 0, 'H' },
	{ "low", 0, 'L' },
};

static int parse_unary(parser *ps, uint64_t *v);

/* ---- MASM string functions: $scmp $sicmp $spat, and $vvalid ---- */

#define MAX_STRARG 1024

/* A "quoted" argument (\" \\ escapes); fails if not quoted. */
static int parse_string_arg(parser *ps, char *out, size_t outlen)
{
	skip_blanks(ps);
	if (*ps->p != '"')
		return fail(ps, ps->p, "Syntax");
	const char *s = ps->p + 1;
	size_t n = 0;
	while (*s && *s != '"') {
		char c = *s++;
		if (c == '\\' && (*s == '"' || *s == '\\'))
			c = *s++;
		if (n + 1 >= outlen)
			return fail(ps, ps->p, "Syntax");
		out[n++] = c;
	}
	if (*s != '"')
		return fail(ps, ps->p, "Syntax");
	out[n] = 0;
	ps->p = s + 1;
	return 0;
}

static int expect_char(parser *ps, char c)
{
	skip_blanks(ps);
	if (*ps->p != c)
		return fail(ps, ps->p, "Syntax");
	ps->p++;
	return 0;
}

/* WinDbg wildcards: * any run, ? one character; case-insensitive as
 * $spat is. */
static int wildcard(const char *pat, const char *s)
{
	const char *star = NULL, *resume = NULL;
	while (*s) {
		if (*pat == '*') {
			star = pat++;
			resume = s;
		} else if (*pat == '?' || (*pat && tolower((unsigned char)*pat) == tolower((unsigned char)*s))) {
			pat++;
			s++;
		} else if (star) {
			pat = star + 1;
			s = ++resume;
		} else {
			return 0;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == 0;
}

static int parse_or(parser *ps, uint64_t *v);

/* Returns 1 if name was one of the functions (and parsed it), 0 if not. */
static int parse_function(parser *ps, const char *at, const char *name, uint64_t *v, int *rc)
{
	int kind;
	if (!strcasecmp(name, "$scmp"))
		kind = 1;
	else if (!strcasecmp(name, "$sicmp"))
		kind = 2;
	else if (!strcasecmp(name, "$spat"))
		kind = 3;
	else if (!strcasecmp(name, "$vvalid"))
		kind = 4;
	else
		return 0;
	*rc = -1;
	if (expect_char(ps, '(') < 0)
		return 1;
	if (kind == 4) {
		/* $vvalid(addr, len): 1 when every byte is readable */
		uint64_t addr, len;
		if (parse_or(ps, &addr) < 0 || expect_char(ps, ',') < 0 || parse_or(ps, &len) < 0 ||
		    expect_char(ps, ')') < 0)
			return 1;
		uint8_t buf[256];
		*v = 1;
		for (uint64_t off = 0; off < len; off += sizeof buf) {
			size_t n = len - off > sizeof buf ? sizeof buf : (size_t)(len - off);
			if (!ps->env->read_memory || ps->env->read_memory(ps->env->ctx, addr + off, buf, n) < 0) {
				*v = 0;
				break;
			}
		}
		*rc = 0;
		return 1;
	}
	char a[MAX_STRARG], b[MAX_STRARG];
	if (parse_string_arg(ps, a, sizeof a) < 0 || expect_char(ps, ',') < 0 ||
	    parse_string_arg(ps, b, sizeof b) < 0 || expect_char(ps, ')') < 0)
		return 1;
	(void)at;
	if (kind == 3) {
		*v = (uint64_t)wildcard(b, a);
	} else {
		int c = kind == 1 ? strcmp(a, b) : strcasecmp(a, b);
		*v = c < 0 ? UINT64_MAX : c > 0 ? 1 : 0;   /* -1, 0, 1 */
	}
	*rc = 0;
	return 1;
}

static int parse_primary(parser *ps, uint64_t *v)
{
	skip_blanks(ps);
	const char *at = ps->p;
	char c = *at;

	if (c == '(') {
		ps->p++;
		if (parse_or(ps, v) < 0)
			return -1;
		skip_blanks(ps);
		if (*ps->p != ')')
			return fail(ps, ps->p, "Syntax");
		ps->p++;
		return 0;
	}
	if (c == '@') {
		/* @reg or @$pseudo: never a symbol or a number. */
		char name[MAX_WORD];
		size_t n = scan_symbol(at + 1);
		if (n == 0 || n >= sizeof name)
			return fail(ps, at, "Syntax");
		memcpy(name, at + 1, n);
		name[n] = 0;
		ps->p = at + 1 + n;
		if (name[0] == '$')
			return lookup_pseudo(ps, at, name, v);
		if (!ps->env->read_register ||
		    ps->env->read_register(ps->env->ctx, name, v) < 0)
			return fail(ps, at, "Bad register");
		return 0;
	}
	if (c == '$') {
		char name[MAX_WORD];
		size_t n = scan_symbol(at);
		if (n < 2 || n >= sizeof name)
			return fail(ps, at, "Syntax");
		memcpy(name, at, n);
		name[n] = 0;
		ps->p = at + n;
		int frc;
		if (parse_function(ps, at, name, v, &frc))
			return frc;
		return lookup_pseudo(ps, at, name, v);
	}
	if (!is_word_char(c) && c != '!')
		return fail(ps, at, "Syntax");

	size_t n = scan_symbol(at);
	char word[MAX_WORD];
	if (n >= sizeof word)
		return fail(ps, at, "Syntax");
	memcpy(word, at, n);
	word[n] = 0;
	ps->p = at + n;

	/* A number when it reads as one (WinDbg: "dead" is a number; use
	 * module!name for symbols that look like hex). */
	if (!strchr(word, '!')) {
		int rc = parse_number(ps, word, n, v);
		if (rc == 0)
			return 0;
		if (rc == -2)
			return fail(ps, at, "Overflow");
		if (!isdigit((unsigned char)word[0]) && ps->env->read_register &&
		    ps->env->read_register(ps->env->ctx, word, v) >= 0)
			return 0;
		rc = parse_h_suffix(word, n, v);
		if (rc == 0)
			return 0;
		if (rc == -2)
			return fail(ps, at, "Overflow");
		if (isdigit((unsigned char)word[0]))
			return fail(ps, at, "Syntax");
	}
	/* "!name" asks for the symbol even when name reads as hex. */
	const char *sym = word[0] == '!' ? word + 1 : word;
	if (*sym && ps->env->resolve_symbol &&
	    ps->env->resolve_symbol(ps->env->ctx, sym, v) >= 0)
		return 0;
	return fail(ps, at, "Couldn't resolve");
}

static int parse_unary(parser *ps, uint64_t *v)
{
	if (++ps->depth > MAX_DEPTH) {
		ps->depth--;
		return fail(ps, ps->p, "Syntax");
	}
	int rc;
	skip_blanks(ps);
	const char *at = ps->p;
	char c = *at;
	if (c == '-' || c == '+' || c == '~' ||
	    (c == '!' && at[1] != '=' && !isalpha((unsigned char)at[1]) && at[1] != '_')) {
		ps->p++;
		rc = parse_unary(ps, v);
		if (rc == 0) {
			if (c == '-') *v = (uint64_t)0 - *v;
			else if (c == '~') *v = ~*v;
			else if (c == '!') *v = !*v;
		}
		ps->depth--;
		return rc;
	}
	if (isalpha((unsigned char)c)) {
		for (size_t i = 0; i < sizeof word_unops / sizeof word_unops[0]; i++) {
			size_t n = strlen(word_unops[i].name);
			if (strncasecmp(at, word_unops[i].name, n) != 0 || is_word_char(at[n]) || at[n] == '!')
				continue;
			/* "by" etc. only as operators when an operand follows. */
			const char *q = at + n;
			while (isspace((unsigned char)*q))
				q++;
			if (!*q || strchr(")+*/%<>=&|^", *q))
				continue;
			ps->p = at + n;
			const char *operand = ps->p;
			rc = parse_unary(ps, v);
			if (rc == 0) {
				unsigned mem = word_unops[i].mem;
				if (mem == 0xff)
					mem = ps->env->ptr_size == 4 ? 4 : 8;
				if (mem)
					rc = read_mem(ps, operand, *v, mem, v);
				else if (word_unops[i].op == '!')
					*v = !*v;
				else if (word_unops[i].op == 'H')
					*v = (*v >> 16) & 0xffff;
				else
					*v &= 0xffff;
			}
			ps->depth--;
			return rc;
		}
	}
	rc = parse_primary(ps, v);
	ps->depth--;
	return rc;
}

/* Binary operators by level (loosest level first); keyword operators must
 * not run into a following identifier ("orange" is not "or ange"). */
enum { L_OR, L_XOR, L_AND, L_CMP, L_SHIFT, L_ADD, L_MUL, L_COUNT };
static const struct binop {
	int level;
	const char *tok;
	int keyword;
	int op;
} binops[] = {
	/* longer tokens first within a level */
	{ L_OR, "|", 0, '|' }, { L_OR, "or", 1, '|' },
	{ L_XOR, "^", 0, '^' }, { L_XOR, "xor", 1, '^' },
	{ L_AND, "&", 0, '&' }, { L_AND, "and", 1, '&' },
	{ L_CMP, "==", 0, 'e' }, { L_CMP, "!=", 0, 'n' }, { L_CMP, "<=", 0, 'l' },
	{ L_CMP, ">=", 0, 'g' }, { L_CMP, "=", 0, 'e' },
	{ L_SHIFT, "<<", 0, 'S' }, { L_SHIFT, ">>>", 0, 'A' }, { L_SHIFT, ">>", 0, 'R' },
	{ L_CMP, "<", 0, '<' }, { L_CMP, ">", 0, '>' },
	{ L_ADD, "+", 0, '+' }, { L_ADD, "-", 0, '-' },
	{ L_MUL, "*", 0, '*' }, { L_MUL, "/", 0, '/' }, { L_MUL, "%", 0, '%' },
	{ L_MUL, "mod", 1, '%' },
};

/* Which operator starts at p (any level), or NULL. */
static const struct binop *match_binop(const char *p)
{
	for (size_t i = 0; i < sizeof binops / sizeof binops[0]; i++) {
		const struct binop *b = &binops[i];
		size_t n = strlen(b->tok);
		if (b->keyword) {
			if (strncasecmp(p, b->tok, n) == 0 && !is_word_char(p[n]) && p[n] != '!')
				return b;
		} else if (strncmp(p, b->tok, n) == 0) {
			return b;
		}
	}
	return NULL;
}

static int apply(parser *ps, const char *at, int op, uint64_t a, uint64_t b, uint64_t *r)
{
	switch (op) {
	case '|': *r = a | b; break;
	case '^': *r = a ^ b; break;
	case '&': *r = a & b; break;
	case 'e': *r = a == b; break;
	case 'n': *r = a != b; break;
	case '<': *r = a < b; break;
	case 'l': *r = a <= b; break;
	case '>': *r = a > b; break;
	case 'g': *r = a >= b; break;
	case 'S': *r = b >= 64 ? 0 : a << b; break;
	case 'R': *r = b >= 64 ? 0 : a >> b; break;
	case 'A': {
		int64_t sa = (int64_t)a;
		unsigned sh = b >= 63 ? 63 : (unsigned)b;
		/* arithmetic shift without relying on implementation-defined >> */
		*r = sa < 0 ? ~(~a >> sh) : a >> sh;
		break;
	}
	case '+': *r = a + b; break;
	case '-': *r = a - b; break;
	case '*': *r = a * b; break;
	case '/':
	case '%':
		if (b == 0)
			return fail(ps, at, "Divide by zero");
		*r = op == '/' ? a / b : a % b;
		break;
	default:
		return fail(ps, at, "Syntax");
	}
	return 0;
}

static int parse_level(parser *ps, int level, uint64_t *v)
{
	if (level == L_COUNT)
		return parse_unary(ps, v);
	if (parse_level(ps, level + 1, v) < 0)
		return -1;
	for (;;) {
		const char *save = ps->p;
		skip_blanks(ps);
		const struct binop *b = match_binop(ps->p);
		if (!b || b->level != level) {
			ps->p = save;
			return 0;
		}
		const char *at = ps->p;
		ps->p += strlen(b->tok);
		uint64_t rhs;
		if (parse_level(ps, level + 1, &rhs) < 0)
			return -1;
		if (apply(ps, at, b->op, *v, rhs, v) < 0)
			return -1;
	}
}

static int parse_or(parser *ps, uint64_t *v)
{
	return parse_level(ps, L_OR, v);
}

int kd_expr_eval(const kd_expr_env *env, const char *text, uint64_t *value,
		 const char **end, char *err, size_t errlen)
{
	parser ps = { .env = env, .text = text, .p = text, .err = err, .errlen = errlen };
	uint64_t v = 0;
	if (err && errlen)
		err[0] = 0;
	skip_blanks(&ps);
	if (!*ps.p) {
		fail(&ps, ps.p, "Syntax");
		if (end)
			*end = ps.p;
		return -1;
	}
	if (parse_or(&ps, &v) < 0) {
		if (end)
			*end = ps.err_at;
		return -1;
	}
	skip_blanks(&ps);
	if (end)
		*end = ps.p;
	*value = v;
	return 0;
}

int kd_expr_eval_all(const kd_expr_env *env, const char *text, uint64_t *value,
		     char *err, size_t errlen)
{
	const char *end;
	if (kd_expr_eval(env, text, value, &end, err, errlen) < 0)
		return -1;
	if (*end) {
		if (err && errlen)
			snprintf(err, errlen, "Syntax error at '%s'", end);
		return -1;
	}
	return 0;
}

int kd_expr_treg_index(const char *name)
{
	if (name[0] == '@')
		name++;
	if (name[0] != '$' || tolower((unsigned char)name[1]) != 't' || !isdigit((unsigned char)name[2]))
		return -1;
	int idx = name[2] - '0';
	if (name[3]) {
		if (!isdigit((unsigned char)name[3]) || name[4] || idx == 0)
			return -1;
		idx = idx * 10 + (name[3] - '0');
	}
	return idx < 20 ? idx : -1;
}

int kd_expr_eval_env(void *env, const char *text, uint64_t *value,
		     const char **end, char *err, size_t errlen)
{
	return kd_expr_eval((const kd_expr_env *)env, text, value, end, err, errlen);
}

/* "L" / "l" followed by a count, or "L?" for ranges past the limit. */
static const char *match_length(const char *p, int *unlimited)
{
	if (*p != 'L' && *p != 'l')
		return NULL;
	p++;
	*unlimited = 0;
	if (*p == '?') {
		*unlimited = 1;
		p++;
	}
	if (!*p)
		return NULL;
	return p;
}

/* Before any address, "L..." is a length only when what follows reads as
 * a count (L10, L?200, L 0n20, L@$t0), not a symbol like lsass!x. */
static int looks_like_length(const char *p)
{
	if (*p != 'L' && *p != 'l')
		return 0;
	p++;
	if (*p == '?')
		p++;
	if (isspace((unsigned char)*p) || *p == '(' || *p == '@' || *p == '$')
		return 1;
	size_t n = scan_symbol(p);
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)p[i]) && p[i] != '`' &&
		    !(i == 1 && p[0] == '0' && strchr("xXnNtTyY", p[1])))
			return 0;
	return 1;
}

/* A count or end address the range cannot take: WinDbg's "Range error",
 * quoting the offending text [at, p). */
static int range_error(const char *at, const char *p, const char **end, char *err, size_t errlen)
{
	if (err && errlen)
		snprintf(err, errlen, "Range error in '%.*s'", (int)(p - at), at);
	if (end)
		*end = at;
	return -1;
}

int kd_expr_range(kd_expr_eval_fn eval, void *ctx, const char *text,
		  size_t elem_size, kd_range *out, const char **end,
		  char *err, size_t errlen)
{
	const char *p = text;
	int unlimited = 0;
	memset(out, 0, sizeof *out);
	if (elem_size == 0)
		elem_size = 1;
	while (isspace((unsigned char)*p))
		p++;
	const char *lp = looks_like_length(p) ? match_length(p, &unlimited) : NULL;
	if (!lp && *p) {
		if (eval(ctx, p, &out->addr, &p, err, errlen) < 0) {
			if (end)
				*end = p;
			return -1;
		}
		out->have_addr = 1;
		lp = match_length(p, &unlimited);
	}
	if (lp) {
		uint64_t count;
		const char *at = p;
		if (eval(ctx, lp, &count, &p, err, errlen) < 0) {
			if (end)
				*end = p;
			return -1;
		}
		if (!unlimited && (count > KD_RANGE_MAX_BYTES / elem_size))
			return range_error(at, p, end, err, errlen);
		out->count = count;
		out->have_count = 1;
	} else if (out->have_addr && *p && !(*p == '-' || *p == '"' || *p == '\'')) {
		/* A second address ends the range (inclusive), unless the
		 * next argument is clearly something else. */
		uint64_t last;
		const char *at = p;
		const char *save = p;
		char tmp[8];
		if (eval(ctx, p, &last, &p, tmp, sizeof tmp) < 0) {
			/* Not an expression: leave it to the caller. */
			p = save;
		} else {
			if (last < out->addr)
				return range_error(at, p, end, err, errlen);
			uint64_t count = (last - out->addr) / elem_size + 1;
			if (count > KD_RANGE_MAX_BYTES / elem_size)
				return range_error(at, p, end, err, errlen);
			out->count = count;
			out->have_count = 1;
			out->by_end = 1;
		}
	}
	if (end)
		*end = p;
	return 0;
}
