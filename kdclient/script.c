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
#include "symbols/symbols.h"

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

/* ---- evaluator environment ---- */

static int env_reg(void *ctx, const char *name, uint64_t *v)
{
	kd_session *s = ctx;
	kd_context c;
	if (kd_session_get_context(s, &c) < 0)
		return -1;
	return kd_context_get(&c, name, v) < 0 ? -1 : 0;
}

static int env_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	kd_session *s = ctx;
	kd_target *t = kd_session_target(s);
	if (!t)
		return -1;
	return kd_read(t, addr, buf, len) < 0 ? -1 : 0;
}

static int env_sym(void *ctx, const char *name, uint64_t *v)
{
	kd_session *s = ctx;
	struct sym_modset *set = kd_session_symbols(s);
	if (!set)
		return -1;
	return sym_modset_lookup(set, name, v) < 0 ? -1 : 0;
}

static int env_pseudo(void *ctx, const char *name, uint64_t *v)
{
	kd_session *s = ctx;
	int ti = kd_expr_treg_index(name);
	if (ti >= 0) {
		*v = kd_session_tregs(s)[ti];
		return 0;
	}
	kd_target *t = kd_session_target(s);
	kd_context c;
	int have_ctx = kd_session_get_context(s, &c) == 0;
	if (!strcasecmp(name, "$ip") && have_ctx) {
		*v = kd_context_pc(&c);
		return 0;
	}
	if (!strcasecmp(name, "$csp") && have_ctx) {
		*v = kd_context_sp(&c);
		return 0;
	}
	if (!strcasecmp(name, "$retreg") && have_ctx)
		return kd_context_get(&c, c.arch == KD_ARCH_X86 ? "eax" : "rax", v) < 0 ? -1 : 0;
	if (!strcasecmp(name, "$ra") && have_ctx && t) {
		/* The return address as seen at a function's first instruction
		 * (where breakpoints on functions stop): the top stack slot. */
		return kd_read_ptr(t, kd_context_sp(&c), v) < 0 ? -1 : 0;
	}
	if (t && t->ops->read_control_pointer) {
		/* Control-space pointers (fact sheet: selector 0 KPCR, 1 KPRCB,
		 * 3 current KTHREAD). */
		unsigned sel = !strcasecmp(name, "$pcr") ? 0 : !strcasecmp(name, "$prcb") ? 1
			     : !strcasecmp(name, "$thread") ? 3 : 99;
		if (sel != 99)
			return t->ops->read_control_pointer(t, kd_session_cpu(s), sel, v) < 0 ? -1 : 0;
	}
	if (!strcasecmp(name, "$exentry") || !strcasecmp(name, "$kernbase")) {
		if (t && t->version.kern_base) {
			*v = t->version.kern_base;
			if (!strcasecmp(name, "$kernbase"))
				return 0;
			/* Entry point: AddressOfEntryPoint of nt's image. */
			uint32_t lfanew, entry;
			if (kd_read_u32(t, *v + 0x3c, &lfanew) == 0 && lfanew < 0x1000 &&
			    kd_read_u32(t, *v + lfanew + 0x28, &entry) == 0) {
				*v += entry;
				return 0;
			}
		}
		return -1;
	}
	return -1;
}

void kd_lang_env(kd_session *s, kd_expr_env *env)
{
	kd_target *t = kd_session_target(s);
	memset(env, 0, sizeof *env);
	env->ctx = s;
	env->ptr_size = t ? kd_ptr_size(t) : 8;
	env->radix = 16;
	env->read_register = env_reg;
	env->read_memory = env_mem;
	env->resolve_symbol = env_sym;
	env->get_pseudo = env_pseudo;
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
