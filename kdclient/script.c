/*
 * script.c - the command language's session state, alias expansion, the
 * evaluator environment over a session, and script files ($$>< / $$>a<).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmdline.h"
#include "format.h"
#include "script.h"
#include "session.h"

static void lang_destroy(struct kd_lang_state *st)
{
	free(st);
}

struct kd_lang_state *kd_lang(kd_session *s)
{
	struct kd_lang_state *st = kd_session_lang(s);
	if (st)
		return st;
	st = calloc(1, sizeof *st);
	if (!st)
		return NULL;
	kd_session_set_lang(s, st, lang_destroy);
	return st;
}

/* Aliases plus the $argN of the innermost running script. */
int kd_lang_expand_aliases(kd_session *s, const char *cmd, char *out, size_t outlen)
{
	struct kd_lang_state *L = kd_lang(s);
	if (!L) {
		snprintf(out, outlen, "%s", cmd);
		return strlen(cmd) < outlen ? 0 : -1;
	}
	if (!L->nalias && !L->nargs) {
		snprintf(out, outlen, "%s", cmd);
		return strlen(cmd) < outlen ? 0 : -1;
	}
	/* A combined table on the heap: aliases are ~1 KB each. */
	size_t total = L->nalias + (size_t)L->nargs + 1;
	struct kd_lang_alias *tab = calloc(total, sizeof *tab);
	if (!tab)
		return -1;
	memcpy(tab, L->aliases, L->nalias * sizeof *tab);
	size_t n = L->nalias;
	for (int i = 0; i < L->nargs; i++, n++) {
		snprintf(tab[n].name, sizeof tab[n].name, "$arg%d", i);
		snprintf(tab[n].value, sizeof tab[n].value, "%s", L->args[i]);
	}
	int rc = kd_alias_expand(tab, n, cmd, out, outlen);
	free(tab);
	return rc;
}

int kd_lang_symbolize(kd_session *s, uint64_t addr, char *buf, size_t len)
{
	kd_target *t = kd_session_target(s);
	int rc;
	if (t && kd_ptr_size(t) == 4) {
		uint32_t lo = (uint32_t)addr;
		rc = kd_symbolize(s, (uint64_t)(int64_t)(int32_t)lo, buf, len);
		if (rc != 1)
			rc = kd_symbolize(s, lo, buf, len);
	} else {
		rc = kd_symbolize(s, addr, buf, len);
	}
	kd_fmt_sanitize(buf);
	return rc;
}

int kd_lang_eval_fn(void *session, const char *text, uint64_t *value,
		    const char **end, char *err, size_t errlen)
{
	kd_session *s = session;
	if (kd_eval(s, text, value, end) < 0) {
		snprintf(err, errlen, "%s", kd_session_errmsg(s));
		return -1;
	}
	return 0;
}

int kd_lang_set_pseudo(kd_session *s, const char *name, uint64_t value)
{
	int ti = kd_expr_treg_index(name);
	if (ti < 0)
		return KD_E_INVAL;
	kd_session_tregs(s)[ti] = value;
	return 0;
}

/* ---- script files ---- */

#define SCRIPT_MAX (1024 * 1024)
#define SCRIPT_DEPTH 16

int kd_lang_run_file(kd_session *s, const char *path, const char *args)
{
	struct kd_lang_state *L = kd_lang(s);
	if (!L)
		return kd_session_fail(s, KD_E_FAIL, "out of memory");
	if (L->script_depth >= SCRIPT_DEPTH)
		return kd_session_fail(s, KD_E_FAIL, "scripts nested deeper than %d", SCRIPT_DEPTH);
	FILE *f = fopen(path, "r");
	if (!f)
		return kd_session_fail(s, KD_E_FAIL, "Couldn't open script file '%s': %s", path, strerror(errno));
	char *text = malloc(SCRIPT_MAX + 1);
	if (!text) {
		fclose(f);
		return kd_session_fail(s, KD_E_FAIL, "out of memory");
	}
	size_t n = fread(text, 1, SCRIPT_MAX, f);
	int too_big = n == SCRIPT_MAX && fgetc(f) != EOF;
	fclose(f);
	if (too_big) {
		free(text);
		return kd_session_fail(s, KD_E_FAIL, "script %s is larger than 1 MB", path);
	}
	text[n] = 0;
	/* CRLF scripts from Windows: the CR is a blank to the splitter. */

	/* $arg0 = script name, $arg1.. = arguments (quoted words allowed). */
	char saved[10][256];
	int saved_n = L->nargs;
	memcpy(saved, L->args, sizeof saved);
	if (args) {
		int na = 0;
		snprintf(L->args[na++], sizeof L->args[0], "%s", path);
		const char *p = args;
		char w[256];
		while (na < 10 && kd_cmdline_word(&p, w, sizeof w) == 1)
			snprintf(L->args[na++], sizeof L->args[0], "%s", w);
		L->nargs = na;
	}
	/* One command at a time (a { } block is one command), so a long
	 * script never has to fit a command-line buffer; an error or Ctrl-C
	 * stops the script, as in WinDbg. */
	L->script_depth++;
	int rc = 0;
	const char *pos = text, *cmd;
	/* Scripts saved by Windows editors may start with a UTF-8 BOM. */
	if (n >= 3 && (uint8_t)text[0] == 0xef && (uint8_t)text[1] == 0xbb && (uint8_t)text[2] == 0xbf)
		pos += 3;
	size_t len;
	char *one = malloc(SCRIPT_MAX + 1);
	if (!one)
		rc = kd_session_fail(s, KD_E_FAIL, "out of memory");
	while (one && kd_cmdline_next(&pos, &cmd, &len)) {
		if (kd_session_interrupted(s)) {
			rc = kd_session_fail(s, KD_E_INTR, "script %s interrupted", path);
			break;
		}
		memcpy(one, cmd, len);
		one[len] = 0;
		/* $argN / ${$argN} are replaced here, when the line is about to
		 * run, so scripts work whether or not the engine expands
		 * aliases itself. */
		if (L->nargs && strstr(one, "$arg")) {
			struct kd_lang_alias argtab[10];
			for (int i = 0; i < L->nargs; i++) {
				snprintf(argtab[i].name, sizeof argtab[i].name, "$arg%d", i);
				snprintf(argtab[i].value, sizeof argtab[i].value, "%s", L->args[i]);
			}
			char *exp = malloc(SCRIPT_MAX + 1);
			if (exp && kd_alias_expand(argtab, (size_t)L->nargs, one, exp, SCRIPT_MAX + 1) == 0)
				memcpy(one, exp, strlen(exp) + 1);
			free(exp);
		}
		rc = kd_execute(s, one);
		if (rc < 0)
			break;
	}
	free(one);
	L->script_depth--;
	if (args) {
		memcpy(L->args, saved, sizeof saved);
		L->nargs = saved_n;
	}
	free(text);
	return rc;
}
