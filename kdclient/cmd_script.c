/*
 * cmd_script.c - scripting commands: .printf .echo .if/.elsif/.else j
 * .block .while .for .foreach .break .continue, script files ($$><
 * $$>a<), aliases (as aS ad al) and the log file (.logopen .logappend
 * .logclose).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmdline.h"
#include "commands.h"
#include "format.h"
#include "printf.h"
#include "script.h"
#include "session.h"

/* Loop control for .break / .continue inside .while / .for bodies. */
enum { LOOP_NONE = 0, LOOP_BREAK, LOOP_CONTINUE };
#define LOOP_MAX_ITER 1000000

/* Run the commands between the braces at p (p at '{').  *after gets the
 * text after the closing brace. */
static int run_block(kd_session *s, const char *p, const char **after)
{
	const char *close = kd_cmdline_match(p);
	if (!close) {
		kd_err(s, "Syntax error: missing '}' in '%s'\n", p);
		return -1;
	}
	size_t n = (size_t)(close - p - 1);
	char *body = malloc(n + 1);
	if (!body) {
		kd_err(s, "out of memory\n");
		return -1;
	}
	memcpy(body, p + 1, n);
	body[n] = 0;
	int rc = 0;
	if (kd_session_in_event(s)) {
		/* In a breakpoint command string the engine stops the line at
		 * the command that resumes (gc): keep the body one line so
		 * that rule covers it. */
		rc = kd_execute(s, body);
	} else {
		/* Command by command, so .break / .continue end the body
		 * where they stand. */
		const char *pos = body, *cmd;
		size_t len;
		struct kd_lang_state *L = kd_lang(s);
		while (kd_cmdline_next(&pos, &cmd, &len)) {
			char save = ((char *)cmd)[len];
			((char *)cmd)[len] = 0;
			rc = kd_execute(s, cmd);
			((char *)cmd)[len] = save;
			if (rc < 0 || (L && L->loop_ctl) || kd_session_interrupted(s))
				break;
		}
	}
	free(body);
	if (after)
		*after = kd_skip_blanks(close + 1);
	return rc;
}

static const char *skip_block(kd_session *s, const char *p)
{
	const char *close = kd_cmdline_match(p);
	if (!close) {
		kd_err(s, "Syntax error: missing '}' in '%s'\n", p);
		return NULL;
	}
	return kd_skip_blanks(close + 1);
}

static int eval_cond(kd_session *s, const char *p, uint64_t *v, const char **end)
{
	if (kd_eval(s, p, v, end) < 0) {
		kd_err(s, "%s\n", kd_session_errmsg(s));
		return -1;
	}
	return 0;
}

/* .if (cond) { } [.elsif (cond) { }]... [.else { }] */
static int cmd_if(kd_session *s, const char *name, const char *args)
{
	(void)name;
	const char *p = kd_skip_blanks(args);
	int taken = 0;
	for (;;) {
		uint64_t v = 0;
		if (taken) {
			/* A branch already ran: later .elsif conditions are not
			 * evaluated (they may read memory that is not there). */
			if (*p == '(') {
				const char *c = kd_cmdline_match(p);
				p = c ? kd_skip_blanks(c + 1) : p;
			} else {
				while (*p && *p != '{')
					p++;
			}
		} else if (eval_cond(s, p, &v, &p) < 0) {
			return -1;
		}
		if (*p != '{') {
			kd_err(s, "Syntax error: .if needs a { } block at '%s'\n", p);
			return -1;
		}
		if (!taken && v) {
			taken = 1;
			int rc = run_block(s, p, &p);
			if (rc < 0)
				return rc;
		} else if (!(p = skip_block(s, p))) {
			return -1;
		}
		size_t n;
		if ((n = kd_cmdline_keyword(p, ".elsif")) != 0) {
			p = kd_skip_blanks(p + n);
			continue;
		}
		if ((n = kd_cmdline_keyword(p, ".else")) != 0) {
			p = kd_skip_blanks(p + n);
			if (*p != '{') {
				kd_err(s, "Syntax error: .else needs a { } block at '%s'\n", p);
				return -1;
			}
			if (!taken)
				return run_block(s, p, NULL);
			return skip_block(s, p) ? 0 : -1;
		}
		if (*p) {
			kd_err(s, "Syntax error at '%s'\n", p);
			return -1;
		}
		return 0;
	}
}

static int cmd_else_alone(kd_session *s, const char *name, const char *args)
{
	(void)args;
	kd_err(s, "%s without a preceding .if\n", name);
	return -1;
}

/* j cond 'cmds' [; 'cmds']   or   j cond cmd [; cmd] */
static int cmd_j(kd_session *s, const char *name, const char *args)
{
	(void)name;
	uint64_t v;
	const char *p;
	if (eval_cond(s, args, &v, &p) < 0)
		return -1;
	char a[KD_CMDLINE_MAX], b[KD_CMDLINE_MAX];
	a[0] = b[0] = 0;
	if (*p == '\'') {
		const char *close = kd_cmdline_match(p);
		if (!close) {
			kd_err(s, "Syntax error: missing ' in '%s'\n", p);
			return -1;
		}
		snprintf(a, sizeof a, "%.*s", (int)(close - p - 1), p + 1);
		p = kd_skip_blanks(close + 1);
		if (*p == ';')
			p = kd_skip_blanks(p + 1);
		if (*p == '\'') {
			close = kd_cmdline_match(p);
			if (!close) {
				kd_err(s, "Syntax error: missing ' in '%s'\n", p);
				return -1;
			}
			snprintf(b, sizeof b, "%.*s", (int)(close - p - 1), p + 1);
		} else {
			snprintf(b, sizeof b, "%s", p);
		}
	} else {
		/* unquoted: one command each side of ';' */
		const char *semi = strchr(p, ';');
		if (semi) {
			snprintf(a, sizeof a, "%.*s", (int)(semi - p), p);
			snprintf(b, sizeof b, "%s", semi + 1);
		} else {
			snprintf(a, sizeof a, "%s", p);
		}
	}
	const char *run = v ? a : b;
	if (!*kd_skip_blanks(run))
		return 0;
	return kd_execute(s, run);
}

static int cmd_block(kd_session *s, const char *name, const char *args)
{
	const char *p = kd_skip_blanks(args);
	if (*p != '{') {
		kd_err(s, "Syntax error: %s needs a { } block\n", name);
		return -1;
	}
	const char *after;
	int rc = run_block(s, p, &after);
	if (rc == 0 && *after) {
		kd_err(s, "Syntax error at '%s'\n", after);
		return -1;
	}
	return rc;
}

/* Loop state lives in the language state so that .break / .continue,
 * which run as ordinary commands inside the body, can reach the loop. */
static int loop_flag(kd_session *s, int set)
{
	struct kd_lang_state *L = kd_lang(s);
	if (!L)
		return LOOP_NONE;
	if (set >= 0)
		L->loop_ctl = set;
	return L->loop_ctl;
}

static int run_loop_body(kd_session *s, const char *body, int *stop)
{
	struct kd_lang_state *L = kd_lang(s);
	loop_flag(s, LOOP_NONE);
	if (L)
		L->loop_depth++;
	int rc = run_block(s, body, NULL);
	if (L)
		L->loop_depth--;
	int f = loop_flag(s, -1);
	loop_flag(s, LOOP_NONE);
	if (f != LOOP_NONE)
		rc = 0;   /* the failure was .break/.continue unwinding the body */
	*stop = f == LOOP_BREAK || rc < 0 || kd_session_interrupted(s);
	return rc;
}

/* .while (cond) { body } */
static int cmd_while(kd_session *s, const char *name, const char *args)
{
	(void)name;
	const char *cond = kd_skip_blanks(args);
	for (long iter = 0; iter < LOOP_MAX_ITER; iter++) {
		uint64_t v;
		const char *body;
		if (eval_cond(s, cond, &v, &body) < 0)
			return -1;
		if (*body != '{') {
			kd_err(s, "Syntax error: .while needs a { } block\n");
			return -1;
		}
		if (!v)
			return 0;
		int stop;
		int rc = run_loop_body(s, body, &stop);
		if (stop)
			return rc < 0 ? rc : 0;
	}
	kd_err(s, ".while stopped after %d iterations\n", LOOP_MAX_ITER);
	return -1;
}

/* .for (init; cond; step) { body } */
static int cmd_for(kd_session *s, const char *name, const char *args)
{
	(void)name;
	const char *p = kd_skip_blanks(args);
	if (*p != '(') {
		kd_err(s, "Syntax error: .for (init; cond; step) { body }\n");
		return -1;
	}
	const char *close = kd_cmdline_match(p);
	if (!close) {
		kd_err(s, "Syntax error: missing ')'\n");
		return -1;
	}
	char head[KD_CMDLINE_MAX];
	snprintf(head, sizeof head, "%.*s", (int)(close - p - 1), p + 1);
	char *s1 = strchr(head, ';');
	char *s2 = s1 ? strchr(s1 + 1, ';') : NULL;
	if (!s2) {
		kd_err(s, "Syntax error: .for (init; cond; step) { body }\n");
		return -1;
	}
	*s1 = *s2 = 0;
	const char *init = head, *cond = s1 + 1, *step = s2 + 1;
	const char *body = kd_skip_blanks(close + 1);
	if (*body != '{') {
		kd_err(s, "Syntax error: .for needs a { } block\n");
		return -1;
	}
	if (*kd_skip_blanks(init) && kd_execute(s, init) < 0)
		return -1;
	for (long iter = 0; iter < LOOP_MAX_ITER; iter++) {
		uint64_t v = 1;
		if (*kd_skip_blanks(cond)) {
			const char *e;
			if (eval_cond(s, cond, &v, &e) < 0)
				return -1;
		}
		if (!v)
			return 0;
		int stop;
		int rc = run_loop_body(s, body, &stop);
		if (stop)
			return rc < 0 ? rc : 0;
		if (*kd_skip_blanks(step) && kd_execute(s, step) < 0)
			return -1;
	}
	kd_err(s, ".for stopped after %d iterations\n", LOOP_MAX_ITER);
	return -1;
}

/*
 * .foreach [/pS n] [/ps n] /s (Var "text") { cmds }
 * .foreach [/pS n] [/ps n] /f (Var "file") { cmds }
 * Runs cmds once per blank-separated token, with Var replaced by the token
 * as a whole word (WinDbg's textual substitution).  The form that takes
 * the tokens from another command's output is not supported.
 */
static int cmd_foreach(kd_session *s, const char *name, const char *args)
{
	const char *p = kd_skip_blanks(args);
	long first_skip = 0, skip = 0;
	int from_string = 0, from_file = 0;
	while (*p == '/') {
		if (p[1] == 's' && isspace((unsigned char)p[2])) {
			from_string = 1;
			p += 2;
		} else if (p[1] == 'f' && isspace((unsigned char)p[2])) {
			from_file = 1;
			p += 2;
		} else if (p[1] == 'p' && (p[2] == 'S' || p[2] == 's')) {
			char which = p[2];
			p = kd_skip_blanks(p + 3);
			/* one word: "1 /ps 2" must not read as 1 divided by ps */
			char word[64];
			uint64_t v;
			if (kd_cmdline_word(&p, word, sizeof word) != 1 || kd_eval(s, word, &v, NULL) < 0) {
				kd_err(s, "%s: bad count after /p%c\n", name, which);
				return -1;
			}
			if (which == 'S')
				first_skip = (long)v;
			else
				skip = (long)v;
		} else {
			kd_err(s, "%s: unknown option at '%s'\n", name, p);
			return -1;
		}
		p = kd_skip_blanks(p);
	}
	if (*p != '(') {
		kd_err(s, "usage: %s [/pS n] [/ps n] /s (Var \"text\") { cmds }\n", name);
		return -1;
	}
	const char *close = kd_cmdline_match(p);
	if (!close) {
		kd_err(s, "Syntax error: missing ')'\n");
		return -1;
	}
	const char *q = kd_skip_blanks(p + 1);
	char var[KD_ALIAS_NAME];
	size_t vn = 0;
	while (q < close && !isspace((unsigned char)*q) && vn + 1 < sizeof var)
		var[vn++] = *q++;
	var[vn] = 0;
	q = kd_skip_blanks(q);
	if (!vn || (!from_string && !from_file)) {
		kd_err(s, "%s: only the /s and /f forms are supported\n", name);
		return -1;
	}
	char src[KD_CMDLINE_MAX];
	if (*q != '"' || kd_cmdline_unquote(&q, src, sizeof src) < 0) {
		kd_err(s, "%s: expected a \"quoted\" %s\n", name, from_file ? "file name" : "string");
		return -1;
	}
	const char *body = kd_skip_blanks(close + 1);
	const char *body_end = *body == '{' ? kd_cmdline_match(body) : NULL;
	if (!body_end) {
		kd_err(s, "Syntax error: %s needs a { } block\n", name);
		return -1;
	}
	char *text = NULL;
	if (from_file) {
		FILE *f = fopen(src, "r");
		if (!f) {
			kd_err(s, "Couldn't open '%s'\n", src);
			return -1;
		}
		text = calloc(1, 1024 * 1024 + 1);
		if (text)
			(void)!fread(text, 1, 1024 * 1024, f);
		fclose(f);
	} else {
		text = strdup(src);
	}
	char *block = malloc((size_t)(body_end - body) + 2);
	if (!text || !block) {
		free(text);
		free(block);
		kd_err(s, "out of memory\n");
		return -1;
	}
	memcpy(block, body, (size_t)(body_end - body) + 1);
	block[body_end - body + 1] = 0;
	struct kd_lang_alias *sub = calloc(1, sizeof *sub);
	char *expanded = malloc(KD_CMDLINE_MAX);
	int rc = 0;
	long index = 0;
	struct kd_lang_state *L = kd_lang(s);
	char *save = NULL;
	for (char *tok = strtok_r(text, " \t\r\n", &save); tok && sub && expanded;
	     tok = strtok_r(NULL, " \t\r\n", &save), index++) {
		if (index < first_skip || (skip && (index - first_skip) % (skip + 1)))
			continue;
		if (kd_session_interrupted(s))
			break;
		snprintf(sub->name, sizeof sub->name, "%s", var);
		snprintf(sub->value, sizeof sub->value, "%s", tok);
		if (kd_alias_expand(sub, 1, block, expanded, KD_CMDLINE_MAX) < 0) {
			kd_err(s, "%s: command too long after substitution\n", name);
			rc = -1;
			break;
		}
		if (L)
			L->loop_depth++;
		rc = run_block(s, expanded, NULL);
		if (L)
			L->loop_depth--;
		int f = loop_flag(s, -1);
		loop_flag(s, LOOP_NONE);
		if (f == LOOP_BREAK || (rc < 0 && f == LOOP_NONE))
			break;
		rc = 0;
	}
	free(sub);
	free(expanded);
	free(text);
	free(block);
	return rc;
}

static int cmd_loopctl(kd_session *s, const char *name, const char *args)
{
	(void)args;
	struct kd_lang_state *L = kd_lang(s);
	if (!L || L->loop_depth == 0) {
		kd_err(s, "%s outside .while/.for\n", name);
		return -1;
	}
	loop_flag(s, strcmp(name, ".break") == 0 ? LOOP_BREAK : LOOP_CONTINUE);
	/* Failing (silently) unwinds the rest of the body's commands. */
	return kd_session_fail(s, KD_E_FAIL, "%s", name);
}

/* ---- .printf / .echo ---- */

static int pf_read(void *ctx, uint64_t addr, void *buf, size_t len, size_t *got)
{
	kd_session *s = ctx;
	kd_target *t = kd_session_target(s);
	*got = 0;
	if (!t)
		return -1;
	int rc = t->ops->read_virtual(t, addr, buf, len, got);
	if (*got > len)
		*got = len;
	return rc == KD_E_CLOSED || rc == KD_E_TIMEOUT ? rc : 0;
}

static int pf_sym(void *ctx, uint64_t addr, char *buf, size_t len)
{
	return kd_lang_symbolize((kd_session *)ctx, addr, buf, len);
}

/* DML to plain text, in place: <tags> removed, &lt; &gt; &amp; &quot;
 * decoded.  Only the user's format string goes through here. */
static void strip_dml(char *t)
{
	static const struct { const char *ent; char c; } ents[] = {
		{ "&lt;", '<' }, { "&gt;", '>' }, { "&amp;", '&' }, { "&quot;", '"' },
	};
	char *w = t;
	for (const char *r = t; *r;) {
		if (*r == '<') {
			const char *e = strchr(r, '>');
			if (e) {
				r = e + 1;
				continue;
			}
		}
		if (*r == '&') {
			size_t i;
			for (i = 0; i < sizeof ents / sizeof ents[0]; i++)
				if (strncmp(r, ents[i].ent, strlen(ents[i].ent)) == 0)
					break;
			if (i < sizeof ents / sizeof ents[0]) {
				*w++ = ents[i].c;
				r += strlen(ents[i].ent);
				continue;
			}
		}
		*w++ = *r++;
	}
	*w = 0;
}

static int cmd_printf(kd_session *s, const char *name, const char *args)
{
	(void)name;
	const char *p = kd_skip_blanks(args);
	/* Options: /D (DML: tags are dropped, entities decoded, since the
	 * terminal has no markup); the colour options /o* are ignored. */
	int dml = 0;
	while (*p == '/') {
		if (p[1] == 'D')
			dml = 1;
		while (*p && !isspace((unsigned char)*p))
			p++;
		p = kd_skip_blanks(p);
	}
	char fmt[KD_CMDLINE_MAX];
	if (*p != '"' || kd_cmdline_unquote(&p, fmt, sizeof fmt) < 0) {
		kd_err(s, "Syntax error: .printf \"format\", args...\n");
		return -1;
	}
	if (dml)
		strip_dml(fmt);
	uint64_t vals[32];
	size_t n = 0;
	p = kd_skip_blanks(p);
	while (*p == ',') {
		if (n == sizeof vals / sizeof vals[0]) {
			kd_err(s, "Too many .printf arguments\n");
			return -1;
		}
		if (kd_eval(s, p + 1, &vals[n], &p) < 0) {
			kd_err(s, "%s\n", kd_session_errmsg(s));
			return -1;
		}
		n++;
		p = kd_skip_blanks(p);
	}
	if (*p) {
		kd_err(s, "Syntax error at '%s'\n", p);
		return -1;
	}
	kd_target *t = kd_session_target(s);
	kd_printf_env env = { .ctx = s, .ptr_size = t ? kd_ptr_size(t) : 8,
			      .read_memory = pf_read, .symbolize = pf_sym };
	size_t cap = 64 * 1024;
	char *out = malloc(cap);
	char err[256];
	if (!out) {
		kd_err(s, "out of memory\n");
		return -1;
	}
	int len = kd_printf_format(&env, fmt, vals, n, out, cap, err, sizeof err);
	if (len < 0) {
		free(out);
		kd_err(s, "%s\n", err);
		return -1;
	}
	/* Already escaped where the text came from the target. */
	kd_write(s, out, (size_t)len);
	free(out);
	return 0;
}

static int cmd_echo(kd_session *s, const char *name, const char *args)
{
	(void)name;
	const char *p = kd_skip_blanks(args);
	char text[KD_CMDLINE_MAX];
	if (*p == '"') {
		const char *q = p;
		if (kd_cmdline_unquote(&q, text, sizeof text) >= 0 && !*kd_skip_blanks(q)) {
			kd_out(s, "%s\n", text);
			return 0;
		}
	}
	kd_out(s, "%s\n", p);
	return 0;
}

/* ---- script files ---- */

static int cmd_run_script(kd_session *s, const char *name, const char *args)
{
	/* $$>a< passes arguments; the others take the file name only. */
	int with_args = strstr(name, "a<") != NULL;
	const char *p = kd_skip_blanks(args);
	char path[1024];
	if (!*p) {
		kd_err(s, "usage: %s file%s\n", name, with_args ? " [args...]" : "");
		return -1;
	}
	if (with_args) {
		if (kd_cmdline_word(&p, path, sizeof path) != 1) {
			kd_err(s, "%s: bad file name\n", name);
			return -1;
		}
	} else {
		snprintf(path, sizeof path, "%s", p);
		size_t n = strlen(path);
		while (n && isspace((unsigned char)path[n - 1]))
			path[--n] = 0;
		if (n >= 2 && path[0] == '"' && path[n - 1] == '"') {
			memmove(path, path + 1, n - 2);
			path[n - 2] = 0;
		}
	}
	int rc = kd_lang_run_file(s, path, with_args ? p : NULL);
	if (rc < 0 && rc != KD_E_INTR) {
		/* Errors inside the script were printed by their commands;
		 * only the file-level ones are left to report. */
		const char *m = kd_session_errmsg(s);
		if (m && (strstr(m, "script") || strstr(m, "Couldn't open")))
			kd_err(s, "%s\n", m);
	}
	return rc;
}

/* ---- aliases ---- */

static struct kd_lang_alias *alias_slot(struct kd_lang_state *L, const char *name, int create)
{
	for (size_t i = 0; i < L->nalias; i++)
		if (strcmp(L->aliases[i].name, name) == 0)
			return &L->aliases[i];
	if (!create || L->nalias >= KD_ALIAS_MAX)
		return NULL;
	struct kd_lang_alias *a = &L->aliases[L->nalias++];
	memset(a, 0, sizeof *a);
	snprintf(a->name, sizeof a->name, "%s", name);
	return a;
}

static int read_target_string(kd_session *s, const char *opt, uint64_t addr, char *out, size_t outlen)
{
	kd_target *t = kd_session_target(s);
	kd_printf_env env = { .ctx = s, .ptr_size = t ? kd_ptr_size(t) : 8,
			      .read_memory = pf_read, .symbolize = pf_sym };
	const char *fmt = !strcmp(opt, "/ma") ? "%ma" : !strcmp(opt, "/mu") ? "%mu"
			: !strcmp(opt, "/msa") ? "%msa" : "%msu";
	char err[128];
	return kd_printf_format(&env, fmt, &addr, 1, out, outlen, err, sizeof err) < 0 ? -1 : 0;
}

/* as [/x|/ma|/mu|/msa|/msu|/e] Name Equivalent ; aS does the same but its
 * equivalent ends at ';' (the splitter already cut it) and may be quoted. */
static int cmd_alias_set(kd_session *s, const char *name, const char *args)
{
	struct kd_lang_state *L = kd_lang(s);
	if (!L) {
		kd_err(s, "out of memory\n");
		return -1;
	}
	const char *p = kd_skip_blanks(args);
	char opt[8] = "";
	if (*p == '/') {
		size_t n = 0;
		while (p[n] && !isspace((unsigned char)p[n]) && n + 1 < sizeof opt)
			n++;
		memcpy(opt, p, n);
		opt[n] = 0;
		p = kd_skip_blanks(p + n);
	}
	char aname[KD_ALIAS_NAME];
	size_t n = 0;
	while (p[n] && !isspace((unsigned char)p[n]) && n + 1 < sizeof aname)
		n++;
	if (n == 0) {
		kd_err(s, "usage: %s [/x|/ma|/mu|/msa|/msu] Name Equivalent\n", name);
		return -1;
	}
	memcpy(aname, p, n);
	aname[n] = 0;
	p = kd_skip_blanks(p + n);
	/* "as ${/v:Name} ..." reaches us as "${Name}": the alias is Name. */
	if (n > 3 && aname[0] == '$' && aname[1] == '{' && aname[n - 1] == '}') {
		/* ... or unexpanded as "${/v:Name}" */
		size_t skip = strncmp(aname + 2, "/v:", 3) == 0 ? 5 : 2;
		memmove(aname, aname + skip, n - skip - 1);
		aname[n - skip - 1] = 0;
		if (!aname[0]) {
			kd_err(s, "usage: %s [/x|/ma|/mu|/msa|/msu] Name Equivalent\n", name);
			return -1;
		}
	}
	char value[KD_ALIAS_VALUE];
	if (opt[0]) {
		uint64_t v;
		const char *end;
		if (kd_eval(s, p, &v, &end) < 0) {
			kd_err(s, "%s\n", kd_session_errmsg(s));
			return -1;
		}
		if (!strcmp(opt, "/x")) {
			snprintf(value, sizeof value, "0x%llx", (unsigned long long)v);
		} else if (!strcmp(opt, "/ma") || !strcmp(opt, "/mu") ||
			   !strcmp(opt, "/msa") || !strcmp(opt, "/msu")) {
			if (read_target_string(s, opt, v, value, sizeof value) < 0) {
				kd_err(s, "Memory access error at '%s'\n", p);
				return -1;
			}
		} else {
			kd_err(s, "%s: unsupported option %s\n", name, opt);
			return -1;
		}
	} else if (*p == '"') {
		if (kd_cmdline_unquote(&p, value, sizeof value) < 0) {
			kd_err(s, "Syntax error: unterminated string\n");
			return -1;
		}
	} else {
		snprintf(value, sizeof value, "%s", p);
		size_t m = strlen(value);
		while (m && isspace((unsigned char)value[m - 1]))
			value[--m] = 0;
	}
	struct kd_lang_alias *a = alias_slot(L, aname, 1);
	if (!a) {
		kd_err(s, "Too many aliases (%d)\n", KD_ALIAS_MAX);
		return -1;
	}
	snprintf(a->value, sizeof a->value, "%s", value);
	return 0;
}

static int cmd_alias_del(kd_session *s, const char *name, const char *args)
{
	struct kd_lang_state *L = kd_lang(s);
	const char *p = kd_skip_blanks(args);
	if (!L)
		return -1;
	if (strncmp(p, "/q", 2) == 0)
		p = kd_skip_blanks(p + 2);
	if (strcmp(p, "*") == 0) {
		L->nalias = 0;
		return 0;
	}
	for (size_t i = 0; i < L->nalias; i++) {
		if (strcmp(L->aliases[i].name, p) == 0) {
			memmove(&L->aliases[i], &L->aliases[i + 1], (L->nalias - i - 1) * sizeof L->aliases[0]);
			L->nalias--;
			return 0;
		}
	}
	kd_err(s, "%s: no alias named '%s'\n", name, p);
	return -1;
}

static int cmd_alias_list(kd_session *s, const char *name, const char *args)
{
	(void)name;
	(void)args;
	struct kd_lang_state *L = kd_lang(s);
	if (!L || L->nalias == 0) {
		kd_out(s, "No aliases\n");
		return 0;
	}
	kd_out(s, "  Alias            Value\n  -------          -------\n");
	for (size_t i = 0; i < L->nalias; i++)
		kd_out(s, "  %-16s %s\n", L->aliases[i].name, L->aliases[i].value);
	return 0;
}

/* ---- .logopen / .logappend / .logclose ---- */

static int cmd_logopen(kd_session *s, const char *name, const char *args)
{
	const char *p = kd_skip_blanks(args);
	char path[1024];
	/* Options (/t /u) are accepted and ignored; "/tmp/x" is a path. */
	while (p[0] == '/' && p[1] && (p[2] == ' ' || p[2] == '\t' || p[2] == 0))
		p = kd_skip_blanks(p + 2);
	if (kd_cmdline_word(&p, path, sizeof path) != 1) {
		const char *cur = kd_session_log_path(s);
		if (cur)
			kd_out(s, "Log file is '%s'\n", cur);
		else
			kd_err(s, "usage: %s file\n", name);
		return cur ? 0 : -1;
	}
	const char *cur = kd_session_log_path(s);
	if (cur)
		kd_out(s, "Closing open log file %s\n", cur);
	if (kd_session_log_open(s, path, strcmp(name, ".logappend") == 0) < 0) {
		kd_err(s, "%s\n", kd_session_errmsg(s));
		return -1;
	}
	kd_out(s, "Opened log file '%s'\n", path);
	return 0;
}

static int cmd_logclose(kd_session *s, const char *name, const char *args)
{
	(void)name;
	(void)args;
	const char *cur = kd_session_log_path(s);
	if (!cur) {
		kd_out(s, "No log file open\n");
		return 0;
	}
	kd_out(s, "Closing open log file %s\n", cur);
	kd_session_log_close(s);
	return 0;
}

const kd_command kd_commands_script[] = {
	{ ".printf", cmd_printf, 0, ".printf \"format\"[, arg...]",
	  "formatted output (%p %x %d %u %ma %mu %msa %msu %y ...)" },
	{ ".echo", cmd_echo, 0, ".echo text", "print text" },
	{ ".if", cmd_if, 0, ".if (cond) { cmds } [.elsif (cond) { cmds }] [.else { cmds }]",
	  "conditional commands" },
	{ ".elsif", cmd_else_alone, 0, ".elsif (cond) { cmds }", "part of .if" },
	{ ".else", cmd_else_alone, 0, ".else { cmds }", "part of .if" },
	{ "j", cmd_j, 0, "j cond 'cmds' ; 'cmds'", "run one of two command lists" },
	{ ".block", cmd_block, 0, ".block { cmds }", "group commands" },
	{ ".while", cmd_while, 0, ".while (cond) { cmds }", "loop while cond is nonzero" },
	{ ".for", cmd_for, 0, ".for (init; cond; step) { cmds }", "counted loop" },
	{ ".foreach", cmd_foreach, 0, ".foreach [/pS n] [/ps n] /s|/f (Var \"text|file\") { cmds }",
	  "run commands once per token of a string or file" },
	{ ".break", cmd_loopctl, 0, ".break", "leave the innermost .while/.for" },
	{ ".continue", cmd_loopctl, 0, ".continue", "next iteration of .while/.for" },
	{ "$$>a<", cmd_run_script, KD_CMD_PREFIX, "$$>a< file [args...]",
	  "run a script file with $arg1.. set" },
	{ "$$><", cmd_run_script, KD_CMD_PREFIX, "$$>< file", "run a script file" },
	{ "$><", cmd_run_script, KD_CMD_PREFIX, "$>< file", "run a script file" },
	{ "$<", cmd_run_script, KD_CMD_PREFIX, "$< file", "run a script file" },
	{ "as", cmd_alias_set, 0, "as [/x|/ma|/mu|/msa|/msu] Name Equivalent",
	  "set an alias (rest of the line)" },
	{ "aS", cmd_alias_set, 0, "aS [/x|/ma|/mu|/msa|/msu] Name Equivalent",
	  "set an alias (to the next ';', may be quoted)" },
	{ "ad", cmd_alias_del, 0, "ad Name | ad *", "delete aliases" },
	{ "al", cmd_alias_list, 0, "al", "list aliases" },
	{ ".logopen", cmd_logopen, 0, ".logopen file", "copy all output to a new log file" },
	{ ".logappend", cmd_logopen, 0, ".logappend file", "copy all output to the end of a log file" },
	{ ".logclose", cmd_logclose, 0, ".logclose", "close the log file" },
	{ 0 }
};
