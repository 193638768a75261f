/*
 * eval.c - kd_eval: E2's MASM evaluator (expr.c) over the session: registers
 * from the current context, memory through the current view, symbols
 * through S2's module set, $t0-$t19 and the other pseudo-registers.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "session_int.h"
#include "expr.h"
#include "stack_kd.h"
#include "symbols/symbols.h"

static int ev_reg(void *ctx, const char *name, uint64_t *v)
{
	kd_session *s = ctx;
	kd_context c;
	if (kd_session_get_context(s, &c) < 0)
		return -1;
	return kd_context_get(&c, name, v) < 0 ? -1 : 0;
}

static int ev_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	kd_session *s = ctx;
	kd_target *t = kd_session_target(s);
	if (!t)
		return -1;
	return kd_read(t, addr, buf, len) < 0 ? -1 : 0;
}

static int ev_sym(void *ctx, const char *name, uint64_t *v)
{
	kd_session *s = ctx;
	struct sym_modset *set = kd_session_symbols(s);
	if (set && sym_modset_lookup(set, name, v) == 0)
		return 0;
	/* bare name: try nt */
	if (set && !strchr(name, '!')) {
		char buf[512];
		snprintf(buf, sizeof(buf), "nt!%s", name);
		if (sym_modset_lookup(set, buf, v) == 0)
			return 0;
	}
	return -1;
}

/* $exentry: WinDbg's "entry point of the first executable of the current
 * process"; on a kernel target that is the kernel image, so nt's
 * AddressOfEntryPoint from its PE header (KiSystemStartup). */
static int nt_entry_point(kd_session *s, uint64_t *v)
{
	struct sym_modset *set = kd_session_symbols(s);
	sym_module *m = set ? sym_modset_find_module(set, "nt") : NULL;
	pe_image *pe = m ? sym_module_pe(m) : NULL;
	if (!pe || !pe_entry_point(pe))
		return -1;
	*v = sym_module_base(m) + pe_entry_point(pe);
	return 0;
}

static int ev_pseudo(void *ctx, const char *name, uint64_t *v)
{
	kd_session *s = ctx;
	int ti = kd_expr_treg_index(name);
	if (ti >= 0) {
		*v = s->tregs[ti];
		return 0;
	}
	kd_context c;
	if (strcasecmp(name, "$ip") == 0) {
		if (kd_session_get_context(s, &c) < 0)
			return -1;
		*v = kd_context_pc(&c);
		return 0;
	}
	if (strcasecmp(name, "$csp") == 0) {
		if (kd_session_get_context(s, &c) < 0)
			return -1;
		*v = kd_context_sp(&c);
		return 0;
	}
	if (strcasecmp(name, "$ra") == 0) {
		/* Return address as seen at a function's first instruction;
		 * deeper frames need the stack walker. */
		if (kd_session_get_context(s, &c) < 0)
			return -1;
		stack_frame fr[2];
		size_t n = 0;
		char err[128];
		if (stack_kd_walk(s, &c, fr, NULL, 2, &n, err, sizeof(err)) == 0 && n >= 1 && fr[0].ret) {
			*v = fr[0].ret;
			return 0;
		}
		kd_target *t = kd_session_target(s);
		return t && kd_read_ptr(t, kd_context_sp(&c), v) == 0 ? 0 : -1;
	}
	if (strcasecmp(name, "$thread") == 0 && s->have_event) {
		*v = s->last_event.thread;
		return 0;
	}
	if (strcasecmp(name, "$exentry") == 0)
		return nt_entry_point(s, v);
	if (strcasecmp(name, "$exr_code") == 0) {
		if (!s->have_event)
			return -1;
		*v = s->last_event.code;
		return 0;
	}
	if (strcasecmp(name, "$proc") == 0 && s->have_event && s->live && s->live->version.kdbg) {
		/* KTHREAD.ApcState.Process via KDBG OffsetKThreadApcProcess (§9). */
		uint8_t off[2];
		if (kd_read(s->live, s->live->version.kdbg + 0x2A0, off, 2) < 0)
			return -1;
		return kd_read_ptr(s->live, s->last_event.thread + (off[0] | off[1] << 8), v) < 0 ? -1 : 0;
	}
	return -1;
}

void kd_session_expr_env(kd_session *s, kd_expr_env *env)
{
	memset(env, 0, sizeof(*env));
	env->ctx = s;
	kd_target *t = kd_session_target(s);
	env->ptr_size = t ? kd_ptr_size(t) : 8;
	env->radix = 16;
	env->read_register = ev_reg;
	env->read_memory = ev_mem;
	env->resolve_symbol = ev_sym;
	env->get_pseudo = ev_pseudo;
}

int kd_eval(kd_session *s, const char *text, uint64_t *value, const char **end)
{
	kd_expr_env env;
	kd_session_expr_env(s, &env);
	char err[256];
	const char *e = NULL;
	int rc = kd_expr_eval(&env, text, value, &e, err, sizeof(err));
	if (end)
		*end = e ? e : text;
	if (rc < 0)
		return kd_session_fail(s, KD_E_INVAL, "%s", err);
	return 0;
}
