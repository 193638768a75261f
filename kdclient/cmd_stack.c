/*
 * cmd_stack.c - k, kb, kn, kv, kc, kp, .frame, .cxr, .trap.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_args.h"
#include "command.h"
#include "commands.h"
#include "session.h"
#include "stack_kd.h"
#include "nt_state.h"

#define DEFAULT_FRAMES 20    /* WinDbg's default k depth (.kframes) */

/* k[b|n|v|c|p|P] [= bp sp ip | = sp ip] [L] [count] */
static int cmd_k(kd_session *s, const char *name, const char *args)
{
	stack_print_opts o = { 0 };
	for (const char *c = name + 1; *c; c++) {
		switch (*c) {
		case 'b': o.args = 1; break;
		case 'v': o.args = 1; o.verbose = 1; break;
		case 'c': o.call_only = 1; break;
		case 'p': case 'P': o.params = 1; break;
		default: break;
		}
	}
	const char *p = cmd_arg_skip(args);
	/* options glued after the name arrive as the first word ("kbn" -> "k" "bn") */
	if (*p && strchr("bnvcpPfLM", *p)) {
		const char *q = p;
		while (*q && strchr("bnvcpPfLM", *q))
			q++;
		if (!*q || *q == ' ' || *q == '\t') {
			int lonely_l = (q - p == 1 && *p == 'L');
			if (!lonely_l) {
				for (; p < q; p++) {
					if (*p == 'b') o.args = 1;
					if (*p == 'v') { o.args = 1; o.verbose = 1; }
					if (*p == 'c') o.call_only = 1;
					if (*p == 'p' || *p == 'P') o.params = 1;
				}
			}
		}
	}
	kd_context ctx;
	if (kd_session_get_context(s, &ctx) < 0) {
		kd_err(s, "cannot get the register context: %s\n", kd_session_errmsg(s));
		return -1;
	}
	size_t max = DEFAULT_FRAMES;
	char w[128];
	p = cmd_arg_skip(p);
	if (*p == '=') {
		uint64_t v[3];
		int n = 0;
		p++;
		while (n < 3) {
			const char *before = p;
			p = cmd_arg_word(p, w, sizeof(w));
			if (!w[0])
				break;
			if (w[0] == 'L' && (w[1] == 0 || isxdigit((unsigned char)w[1]))) {
				p = before;
				break;
			}
			if (cmd_arg_eval(s, w, &v[n]) < 0)
				return -1;
			n++;
		}
		/* = sp ip (x64 as WinDbg prints it), or = bp sp ip */
		const char *bp = ctx.arch == KD_ARCH_X86 ? "ebp" : "rbp";
		const char *sp = ctx.arch == KD_ARCH_X86 ? "esp" : "rsp";
		const char *ip = ctx.arch == KD_ARCH_X86 ? "eip" : "rip";
		if (n == 1) {
			kd_context_set(&ctx, ctx.arch == KD_ARCH_X86 ? bp : sp, v[0]);
		} else if (n == 2) {
			kd_context_set(&ctx, sp, v[0]);
			kd_context_set(&ctx, ip, v[1]);
		} else if (n == 3) {
			kd_context_set(&ctx, bp, v[0]);
			kd_context_set(&ctx, sp, v[1]);
			kd_context_set(&ctx, ip, v[2]);
		} else {
			kd_err(s, "usage: k = [bp] sp ip\n");
			return -1;
		}
	}
	for (;;) {
		p = cmd_arg_word(p, w, sizeof(w));
		if (!w[0])
			break;
		const char *num = w;
		if (w[0] == 'L' || w[0] == 'l') {
			num = w + 1;
			if (!*num) {
				p = cmd_arg_word(p, w, sizeof(w));
				num = w;
			}
		}
		uint64_t v;
		if (!*num)
			break;   /* "kL": L alone hides source lines, which k never shows */
		if (cmd_arg_eval(s, num, &v) < 0)
			return -1;
		max = v ? (size_t)v : 1;
	}
	if (max > STACK_MAX_FRAMES)
		max = STACK_MAX_FRAMES;
	stack_frame *f = calloc(max, sizeof(*f));
	if (!f)
		return -1;
	size_t count = 0;
	char err[256] = "";
	if (stack_kd_walk(s, &ctx, f, NULL, max, &count, err, sizeof(err)) < 0) {
		kd_err(s, "%s\n", err);
		free(f);
		return -1;
	}
	stack_kd_print_header(s, &o);
	stack_kd_print(s, f, count, &o);
	/* The bottom of a stack often has no unwind data (boot code, thread
	 * start stubs): say why the walk ended only when asked to be verbose. */
	if (err[0] && count < max && o.verbose)
		kd_out(s, "(stack walk ended: %s)\n", err);
	free(f);
	return 0;
}

/* .frame [/r] [n] */
static int cmd_frame(kd_session *s, const char *name, const char *args)
{
	(void)name;
	const char *p = cmd_arg_skip(args);
	int regs = 0;
	while (*p == '/') {
		if (p[1] == 'r')
			regs = 1;
		p = cmd_arg_skip(p + 2);
	}
	size_t idx = nt_frame_index(s);
	if (*p) {
		uint64_t v;
		if (cmd_arg_eval(s, p, &v) < 0)
			return -1;
		idx = (size_t)v;
	}
	size_t max = idx + 1 > STACK_MAX_FRAMES ? STACK_MAX_FRAMES : idx + 1;
	stack_frame *f = calloc(max, sizeof(*f));
	kd_context *c = calloc(max, sizeof(*c));
	size_t count = 0;
	char err[256] = "";
	if (!f || !c || stack_kd_walk(s, NULL, f, c, max, &count, err, sizeof(err)) < 0) {
		kd_err(s, "%s\n", err[0] ? err : "out of memory");
		free(f);
		free(c);
		return -1;
	}
	if (idx >= count) {
		kd_err(s, "Cannot find frame 0x%zx, previous scope unchanged\n", idx);
		free(f);
		free(c);
		return -1;
	}
	nt_set_frame_index(s, idx);
	stack_print_opts o = { .first_number = idx, .quiet = 1 };
	stack_kd_print(s, &f[idx], 1, &o);
	if (regs) {
		/* show the frame's registers with the engine's r: through a
		 * temporary context override */
		kd_context saved;
		int had = kd_session_has_context_override(s);
		if (had)
			kd_session_get_context(s, &saved);
		kd_session_set_context(s, &c[idx]);
		kd_execute(s, "r");
		kd_session_set_context(s, had ? &saved : NULL);
	}
	free(f);
	free(c);
	return 0;
}

/* .cxr [addr]: CONTEXT record at addr becomes the register context. */
static int cmd_cxr(kd_session *s, const char *name, const char *args)
{
	(void)name;
	const char *p = cmd_arg_skip(args);
	while (*p == '/')
		p = cmd_arg_skip(p + 2);
	if (!*p) {
		kd_session_set_context(s, NULL);
		nt_set_frame_index(s, 0);
		return 0;
	}
	uint64_t addr;
	if (cmd_arg_eval(s, p, &addr) < 0)
		return -1;
	kd_context ctx;
	if (kd_session_get_context(s, &ctx) < 0) {
		memset(&ctx, 0, sizeof(ctx));
		kd_target *t = kd_session_target(s);
		ctx.arch = t && t->version.arch == KD_ARCH_X86 ? KD_ARCH_X86 : KD_ARCH_X64;
	}
	ctx.size = ctx.arch == KD_ARCH_X86 ? 0x2cc : 0x4d0;
	if (kd_read(kd_session_target(s), addr, ctx.raw, ctx.size) < 0) {
		kd_err(s, "Unable to read context at %llx: %s\n", (unsigned long long)addr,
		       kd_target_errmsg(kd_session_target(s)));
		return -1;
	}
	kd_session_set_context(s, &ctx);
	nt_set_frame_index(s, 0);
	kd_execute(s, "r");
	return 0;
}

/* .trap [addr]: KTRAP_FRAME at addr becomes the register context. */
static int cmd_trap(kd_session *s, const char *name, const char *args)
{
	(void)name;
	const char *p = cmd_arg_skip(args);
	if (!*p) {
		kd_session_set_context(s, NULL);
		return 0;
	}
	uint64_t addr;
	if (cmd_arg_eval(s, p, &addr) < 0)
		return -1;
	kd_context ctx;
	char err[256];
	if (stack_kd_trap_context(s, addr, &ctx, err, sizeof(err)) < 0) {
		kd_err(s, "%s\n", err);
		return -1;
	}
	kd_session_set_context(s, &ctx);
	nt_set_frame_index(s, 0);
	kd_execute(s, "r");
	return 0;
}

const kd_command kd_commands_stack[] = {
	{ "k", cmd_k, KD_CMD_PREFIX | KD_CMD_NEEDS_STOP, "k[b|n|v|c|p] [= [bp] sp ip] [L] [count]",
	  "stack backtrace (Child-SP RetAddr Call Site)" },
	{ "kb", cmd_k, KD_CMD_PREFIX | KD_CMD_NEEDS_STOP, "kb [count]", "stack backtrace with the first four stack arguments" },
	{ "kn", cmd_k, KD_CMD_PREFIX | KD_CMD_NEEDS_STOP, "kn [count]", "stack backtrace with frame numbers" },
	{ "kv", cmd_k, KD_CMD_PREFIX | KD_CMD_NEEDS_STOP, "kv [count]", "verbose stack backtrace (args, how each frame was found)" },
	{ "kc", cmd_k, KD_CMD_PREFIX | KD_CMD_NEEDS_STOP, "kc [count]", "stack backtrace: call sites only" },
	{ "kp", cmd_k, KD_CMD_PREFIX | KD_CMD_NEEDS_STOP, "kp [count]", "stack backtrace with parameter home values" },
	{ ".frame", cmd_frame, KD_CMD_NEEDS_STOP, ".frame [/r] [n]", "select (and show) stack frame n" },
	{ ".cxr", cmd_cxr, KD_CMD_NEEDS_STOP, ".cxr [addr]", "use the CONTEXT record at addr (no argument: back to the CPU's)" },
	{ ".trap", cmd_trap, KD_CMD_NEEDS_STOP, ".trap [addr]", "use the KTRAP_FRAME at addr as the register context" },
	{ 0 },
};
