/*
 * run.c - executing command lines and running the target: resume with the
 * breakpoints inserted (fact sheet §8), wait for the next state change
 * while printing DbgPrint and answering DbgPrompt, react to Ctrl-C, and
 * decide whether a stop needs the user.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "run.h"
#include "breakpoints.h"
#include "cmdline.h"
#include "commands.h"
#include "script.h"
#include "target_kd.h"
#include "disasm/disasm.h"
#include "stack_kd.h"

#define KD_TEMP_BP_ID (KD_BP_MAX_ID - 1)

/* ---- command lines ---- */

static int dispatch(kd_session *s, const char *cmd)
{
	cmd = kd_skip_blanks(cmd);
	if (!*cmd)
		return 0;
	/* WinDbg expands aliases when a command is about to run, so a
	 * command sees aliases set by the commands before it on the same
	 * line ("as foo 123; ? ${foo}").  The expander itself leaves plain
	 * names alone in as/aS/ad/al, as WinDbg does. */
	char buf[KD_CMDLINE_MAX];
	if (kd_lang_expand_aliases(s, cmd, buf, sizeof buf) < 0) {
		kd_err(s, "command too long after alias expansion\n");
		return -1;
	}
	cmd = kd_skip_blanks(buf);
	if (!*cmd)
		return 0;
	size_t nl = 0;
	const kd_command *c = kd_command_find(cmd, &nl);
	if (!c) {
		size_t wl = strcspn(cmd, " \t");
		kd_err(s, "Unknown command '%.*s' (.help lists the commands)\n", (int)wl, cmd);
		return -1;
	}
	if ((c->flags & KD_CMD_NEEDS_STOP) && !kd_session_stopped(s)) {
		kd_err(s, "%s: the target is not stopped\n", c->name);
		return -1;
	}
	/* "bp1 addr" (id glued to the name) differs from "bp 1": tell the
	 * handlers that care (session_int.h cmd_glued). */
	s->cmd_glued = cmd[nl] && cmd[nl] != ' ' && cmd[nl] != '\t';
	return c->fn(s, c->name, kd_skip_blanks(cmd + nl));
}

typedef struct exec_line {
	kd_session *s;
	int rc;              /* the first failing command's status, else 0 */
} exec_line;

static void exec_note(exec_line *x, int rc)
{
	if (rc < 0 && x->rc == 0)
		x->rc = rc;
}

static int exec_one(void *ctx, const char *cmd, int truncated)
{
	exec_line *x = ctx;
	kd_session *s = x->s;
	if (s->quit)
		return 1;
	if (truncated) {
		kd_err(s, "command too long\n");
		exec_note(x, KD_E_INVAL);
		return 0;
	}
	/* A failing command does not stop the rest of a ';' line (WinDbg);
	 * its status is what the line reports, so scripts and .if/.for see
	 * it. */
	exec_note(x, dispatch(s, cmd));
	if (s->quit)
		return 1;
	if (s->resume_req != KD_RESUME_NONE) {
		/* Inside a breakpoint command string the run loop resumes
		 * after the string is done; the rest is not run (WinDbg). */
		if (s->in_event)
			return 1;
		exec_note(x, kd_run_target(s));
		if (s->quit)
			return 1;
	}
	return 0;
}

int kd_execute(kd_session *s, const char *line)
{
	/* After q nothing else runs: not the rest of this line, nor of any
	 * enclosing { } block, loop or script.  KD_E_INTR makes those
	 * callers stop (they stop on any failure) without printing one. */
	if (s->quit)
		return KD_E_INTR;
	exec_line x = { s, 0 };
	s->exec_depth++;
	int rc = kd_cmdline_split(line, exec_one, &x);
	s->exec_depth--;
	if (s->quit)
		return KD_E_INTR;
	if (rc < 0)
		return rc;
	return x.rc;
}

/* ---- resuming ---- */

typedef struct run_plan {
	kd_resume_kind kind;
	int stepping_off;     /* single-stepping off an owned breakpoint */
	int user_step;        /* the next single-step stop completes t/p */
	int breakin_sent;
	long long breakin_at;
} run_plan;

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void warn_cb(void *ctx, const char *msg)
{
	kd_err(ctx, "%s\n", msg);
}

static uint32_t continue_status(kd_resume_kind k)
{
	if (k == KD_RESUME_GO_HANDLED)
		return 0x00010001u;   /* DBG_EXCEPTION_HANDLED */
	if (k == KD_RESUME_GO_UNHANDLED)
		return 0x80010001u;   /* DBG_EXCEPTION_NOT_HANDLED */
	return 0x00010002u;           /* DBG_CONTINUE */
}

static int is_go(kd_resume_kind k)
{
	return k == KD_RESUME_GO || k == KD_RESUME_GO_HANDLED || k == KD_RESUME_GO_UNHANDLED ||
	       k == KD_RESUME_GO_CONDITIONAL;
}

static void drop_temp_bp(kd_session *s)
{
	s->temp_min_sp = 0;
	kd_bp *bp = kd_bplist_find(s->bps, KD_TEMP_BP_ID);
	if (bp && bp->internal)
		kd_bplist_remove(s->bps, KD_TEMP_BP_ID);
}

/* Put the target in motion for one leg of the plan. */
static int resume_once(kd_session *s, run_plan *p)
{
	kd_target *t = s->live;
	kd_context ctx;
	s->ctx_override = 0;
	const kd_event *ev = s->have_event ? &s->last_event : NULL;
	/* The context costs a 1.3 KB round trip: fetch it only when it is
	 * needed (the user may have changed it, an int3 to skip, new debug
	 * registers); otherwise the stop's ProgramCounter is the PC. */
	int have_ctx = s->ctx_valid || !ev;
	if (have_ctx && kd_session_get_context(s, &ctx) < 0) {
		kd_err(s, "cannot resume: %s\n", kd_session_errmsg(s));
		return -1;
	}
	uint64_t pc = have_ctx ? kd_context_pc(&ctx) : ev->pc;
	int ctx_dirty = 0;
	kd_bp_resolve_deferred(s);

	/* A hard-coded int3 at PC that is not ours: step past it as WinDbg
	 * does with SetContext Rip+1 (fact sheet §8, open-points #5). */
	if (!s->pc_adjusted && ev &&
	    ((ev->kind == KD_EV_EXCEPTION && ev->code == 0x80000003u) ||
	     ev->kind == KD_EV_LOAD_SYMBOLS) &&
	    !kd_bplist_at(s->bps, KD_BP_SOFT, pc)) {
		uint8_t b = 0;
		size_t got = 0;
		if (t->ops->read_virtual(t, pc, &b, 1, &got) >= 0 && got == 1 && b == 0xCC) {
			if (!have_ctx) {
				if (kd_session_get_context(s, &ctx) < 0) {
					kd_err(s, "cannot resume: %s\n", kd_session_errmsg(s));
					return -1;
				}
				have_ctx = 1;
			}
			pc++;
			kd_context_set(&ctx, ctx.arch == KD_ARCH_X86 ? "eip" : "rip", pc);
			ctx_dirty = 1;
			s->pc_adjusted = 1;
		}
	}

	/* DR0-3 travel in the context; DR7 in Continue2 (§8).  Send them
	 * when they differ from what this session last set. */
	uint64_t dr[4];
	kd_bplist_debug_regs(s->bps, dr);
	if (memcmp(dr, s->dr_sent, sizeof(dr)) != 0 || ctx_dirty) {
		if (!have_ctx) {
			if (kd_session_get_context(s, &ctx) < 0) {
				kd_err(s, "cannot resume: %s\n", kd_session_errmsg(s));
				return -1;
			}
			have_ctx = 1;
		}
		for (int i = 0; i < 4; i++) {
			char name[4] = { 'd', 'r', (char)('0' + i), 0 };
			kd_context_set(&ctx, name, dr[i]);
		}
		ctx_dirty = 1;
	}
	if (ctx_dirty) {
		if (kd_session_put_context(s, &ctx) < 0) {
			kd_err(s, "cannot set the context: %s\n", kd_session_errmsg(s));
			return -1;
		}
		memcpy(s->dr_sent, dr, sizeof(dr));
	}

	kd_bp *at_soft = kd_bplist_at(s->bps, KD_BP_SOFT, pc);
	kd_bp *at_hw = kd_bplist_at(s->bps, KD_BP_HW, pc);
	int at_bp = at_soft || (at_hw && at_hw->access == 'e');
	kd_resume how = { .status = continue_status(p->kind), .trace = 0, .dr7 = 0 };

	kd_resume_kind k = p->kind;
	if (k == KD_RESUME_STEP_OVER) {
		uint8_t code[16];
		size_t got = 0;
		(void)t->ops->read_virtual(t, pc, code, sizeof(code), &got);
		struct kd_disasm *d = kd_session_disasm(s);
		int len = d && got ? kd_disasm_insn_length(d, code, got, pc) : -1;
		if (len > 0 && kd_disasm_is_call(d, code, got, pc) == 1) {
			const char *why = NULL;
			drop_temp_bp(s);
			kd_bp *tb = kd_bplist_add(s->bps, KD_TEMP_BP_ID, KD_BP_SOFT,
						  pc + (unsigned)len, &why);
			if (tb)
				tb->internal = 1;
			k = KD_RESUME_GO;
		} else {
			k = KD_RESUME_STEP_INTO;
		}
	}
	if (k == KD_RESUME_STEP_OUT) {
		/* gu: a temporary breakpoint on the return address of the
		 * current frame (from the stack walker when it is built in,
		 * else [rsp], right at a function's first instruction); it only
		 * counts once the stack is above the frame (recursion). */
		uint64_t ra = 0, frame_sp = 0;
		if (!have_ctx && kd_session_get_context(s, &ctx) == 0)
			have_ctx = 1;
		stack_frame fr[2];
		size_t nfr = 0;
		char err[128];
		if (have_ctx && stack_kd_walk(s, &ctx, fr, NULL, 2, &nfr, err, sizeof(err)) == 0 &&
		    nfr >= 1 && fr[0].ret) {
			ra = fr[0].ret;
			frame_sp = fr[0].sp;
		}
		if (!ra && have_ctx && kd_read_ptr(t, kd_context_sp(&ctx), &ra) == 0)
			frame_sp = kd_context_sp(&ctx);
		drop_temp_bp(s);
		if (ra) {
			const char *why = NULL;
			kd_bp *tb = kd_bplist_add(s->bps, KD_TEMP_BP_ID, KD_BP_SOFT, ra, &why);
			if (tb)
				tb->internal = 1;
			s->temp_min_sp = frame_sp;
		}
		k = KD_RESUME_GO;
	}

	p->kind = k;
	if (k == KD_RESUME_STEP_INTO) {
		how.trace = 1;
		how.dr7 = kd_bplist_dr7(s->bps, 1, pc);
		p->user_step = 1;
		p->stepping_off = 0;
	} else if (at_bp) {
		/* Remove-step-reinsert: step one instruction with nothing at PC,
		 * then insert everything and go on (§8). */
		how.trace = 1;
		how.dr7 = kd_bplist_dr7(s->bps, 1, pc);
		p->stepping_off = 1;
		p->user_step = 0;
	} else {
		how.dr7 = kd_bplist_insert(s->bps, t, 0, 0, 0, warn_cb, s);
		p->stepping_off = 0;
		p->user_step = 0;
	}
	if (t->ops->resume(t, &how) < 0) {
		kd_err(s, "resume failed: %s\n", kd_target_errmsg(t));
		kd_bplist_remove_all(s->bps, t);
		return -1;
	}
	if (s->bugcheck_stop)
		s->expect_reboot = 1;
	s->bugcheck_stop = 0;
	s->saw_fatal_text = 0;
	s->ctx_valid = 0;
	s->pc_adjusted = 0;
	return 0;
}

/* ---- waiting ---- */

static void answer_prompt(kd_session *s, const kd_event *ev)
{
	kd_out_untrusted(s, ev->text, ev->text_len);
	char *line = NULL;
	size_t cap = 0;
	fflush(stdout);
	ssize_t n = getline(&line, &cap, stdin);
	if (n < 0)
		n = 0;
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	if (s->live->ops->answer_prompt(s->live, line ? line : "", (size_t)n) < 0)
		kd_err(s, "DbgPrompt: %s\n", kd_target_errmsg(s->live));
	free(line);
}

int kd_handle_link_loss(kd_session *s, int rc)
{
	kd_target *t = s->live;
	if (!kd_target_kd_reconnect_wanted(t)) {
		kd_err(s, "The link to the target is gone (%s); restart with ,reconnect in -k to "
			  "reconnect automatically.\n", kd_target_errmsg(t));
		return rc;
	}
	kd_out(s, "The link to the target dropped; reconnecting...\n");
	for (;;) {
		if (kd_session_interrupted(s)) {
			kd_session_clear_interrupt(s);
			kd_err(s, "reconnect interrupted\n");
			return KD_E_INTR;
		}
		if (t->ops->reconnect(t, 1000) == 0) {
			kd_out(s, "Reconnected; waiting for the target.\n");
			return 0;
		}
	}
}

/* Wait until a state change arrives; prints, prompts and Ctrl-C are
 * handled here.  Returns 0 with *ev, or negative. */
static int wait_stop(kd_session *s, run_plan *p, kd_event *ev)
{
	kd_target *t = s->live;
	for (;;) {
		if (kd_session_interrupted(s)) {
			kd_session_clear_interrupt(s);
			if (t->ops->break_in(t) < 0)
				kd_err(s, "%s\n", kd_target_errmsg(t));
			p->breakin_sent = 1;
			p->breakin_at = now_ms();
		} else if (p->breakin_sent && now_ms() - p->breakin_at > 2000) {
			/* The byte may have been lost (target masked interrupts). */
			(void)t->ops->break_in(t);
			p->breakin_at = now_ms();
		}
		int rc = t->ops->wait_event(t, ev, 100);
		if (rc == KD_E_TIMEOUT)
			continue;
		if (rc < 0) {
			if (rc == KD_E_CLOSED && kd_handle_link_loss(s, rc) == 0) {
				s->expect_reboot = 1;
				continue;
			}
			if (rc != KD_E_CLOSED)
				kd_err(s, "waiting for the target: %s\n", kd_target_errmsg(t));
			return rc;
		}
		if (ev->kind == KD_EV_PRINT) {
			kd_out_untrusted(s, ev->text, ev->text_len);
			if (memmem(ev->text, ev->text_len, "*** Fatal System Error", 22))
				s->saw_fatal_text = 1;
			continue;
		}
		if (ev->kind == KD_EV_PROMPT) {
			answer_prompt(s, ev);
			continue;
		}
		return 0;
	}
}

/* ---- stops ---- */

static void run_bp_command(kd_session *s, kd_bp *bp)
{
	char *cmd = strdup(bp->command);
	if (!cmd)
		return;
	s->in_event++;
	(void)kd_execute(s, cmd);
	s->in_event--;
	free(cmd);
}

static int is_bugcheck_break(kd_session *s, const kd_event *ev)
{
	if (ev->kind != KD_EV_EXCEPTION || ev->code != 0x80000003u)
		return 0;
	kd_context c;
	uint64_t rcx = 0;
	if (kd_session_get_context(s, &c) < 0)
		return 0;
	/* DbgBreakPointWithStatus(DBG_STATUS_BUGCHECK_FIRST = 3) (§8). */
	kd_context_get(&c, c.arch == KD_ARCH_X86 ? "ecx" : "rcx", &rcx);
	if ((rcx & 0xFFFFFFFFu) != 3)
		return 0;
	/* Confirm with KiBugCheckData (KDBG +0x88) when the block is known. */
	if (s->live->version.kdbg) {
		uint64_t data = 0, code = 0;
		if (kd_read_ptr(s->live, s->live->version.kdbg + 0x88, &data) == 0 && data &&
		    kd_read_ptr(s->live, data, &code) == 0)
			return code != 0;
	}
	return 1;
}

/* The kernel prints "*** Fatal System Error" itself before it breaks in
 * (KeBugCheck's DbgPrint); when that text did not come, show it from
 * KiBugCheckData (KDBG +0x88: code and four parameters). */
static void print_bugcheck_data(kd_session *s)
{
	kd_target *t = s->live;
	uint64_t data = 0, v[5];
	if (s->saw_fatal_text || !t->version.kdbg ||
	    kd_read_ptr(t, t->version.kdbg + 0x88, &data) < 0 || !data)
		return;
	unsigned ps = kd_ptr_size(t);
	for (int i = 0; i < 5; i++)
		if (kd_read_ptr(t, data + (uint64_t)i * ps, &v[i]) < 0)
			return;
	int w = ps == 8 ? 16 : 8;
	kd_out(s, "\n*** Fatal System Error: 0x%08x\n                       (0x%0*llx,0x%0*llx,0x%0*llx,0x%0*llx)\n\n",
	       (unsigned)v[0], w, (unsigned long long)v[1], w, (unsigned long long)v[2],
	       w, (unsigned long long)v[3], w, (unsigned long long)v[4]);
}

/* Decide what a stop means.  1 = keep running (p->kind set), 0 = the user
 * gets the prompt. */
static int handle_stop(kd_session *s, run_plan *p, const kd_event *ev)
{
	kd_target *t = s->live;
	s->last_event = *ev;
	s->have_event = 1;
	s->ctx_valid = 0;
	s->ctx_override = 0;
	s->pc_adjusted = 0;
	/* A .process view stays across stops: its owner (nt_state.c)
	 * re-reads its page tables per stop and removes it. */
	kd_bplist_remove_all(s->bps, t);

	if (s->expect_reboot) {
		s->expect_reboot = 0;
		p->stepping_off = 0;
		p->user_step = 0;
		drop_temp_bp(s);
		(void)kd_session_reattach(s);
	}

	if (ev->kind == KD_EV_LOAD_SYMBOLS) {
		kd_modules_on_event(s, ev);
		kd_filter_action a = kd_filter_for_event(s, ev->unload ? "ud" : "ld");
		if (a == KD_SX_OUTPUT || a == KD_SX_BREAK) {
			if (ev->unload)
				kd_out(s, "Unload module ");
			else
				kd_out(s, "ModLoad: ");
			char b[24], e[24];
			kd_fmt_ptr(s, ev->base, b);
			kd_fmt_ptr(s, ev->base + ev->image_size, e);
			kd_out(s, "%s %s   ", b, e);
			kd_out_untrusted(s, ev->text, ev->text_len);
			kd_out(s, "\n");
		}
		if (a == KD_SX_BREAK) {
			kd_print_location(s, ev->pc);
			return 0;
		}
		if (!is_go(p->kind))
			p->kind = KD_RESUME_GO;
		return 1;
	}
	if (ev->kind == KD_EV_COMMAND_STRING) {
		kd_out(s, "Command string: ");
		kd_out_untrusted(s, ev->text, ev->text_len);
		kd_out(s, "\n");
		return 0;
	}

	/* Exceptions. */
	if (p->stepping_off && ev->code == 0x80000004u) {
		p->stepping_off = 0;
		if (is_go(p->kind))
			return 1;           /* now insert everything and go */
	}
	kd_bp *bp = kd_bplist_hit(s->bps, ev->code, ev->pc, ev->dr6);
	if (bp && bp->internal && s->temp_min_sp) {
		/* gu: a recursive call reached the return address deeper in
		 * the stack; keep going until this frame really returned. */
		kd_context c;
		if (kd_session_get_context(s, &c) == 0 && kd_context_sp(&c) <= s->temp_min_sp) {
			p->kind = KD_RESUME_GO;
			return 1;
		}
	}
	if (bp && bp->internal) {
		drop_temp_bp(s);
		s->temp_min_sp = 0;
		kd_print_regs(s);
		return 0;
	}
	drop_temp_bp(s);
	if (bp) {
		bp->hits++;
		if (bp->pass_left > 1) {
			bp->pass_left--;
			p->kind = KD_RESUME_GO;
			return 1;
		}
		unsigned id = bp->id;
		if (!bp->command)
			kd_out(s, "Breakpoint %u hit\n", id);
		if (bp->command) {
			run_bp_command(s, bp);
			bp = kd_bplist_find(s->bps, id);
			if (bp && bp->one_shot)
				kd_bplist_remove(s->bps, id);
			if (s->resume_req != KD_RESUME_NONE) {
				p->kind = s->resume_req;
				s->resume_req = KD_RESUME_NONE;
				return 1;
			}
			return 0;
		}
		if (bp->one_shot)
			kd_bplist_remove(s->bps, id);
		kd_print_location(s, ev->pc);
		return 0;
	}
	if (ev->code == 0x80000004u && p->user_step) {
		p->user_step = 0;
		kd_print_regs(s);
		return 0;
	}

	if (ev->code == 0x80000007u) {
		/* STATUS_WAKE_SYSTEM_DEBUGGER: the processor chosen by ~Ns
		 * reporting in (§6); kd shows just the new prompt and place. */
		kd_print_location(s, ev->pc);
		return 0;
	}
	int first = ev->first_chance;
	kd_filter_action a = kd_filter_for_code(s, ev->code);
	char text[160];
	kd_exception_text(ev->code, first, text, sizeof(text));
	if (a == KD_SX_BREAK || (a == KD_SX_SECOND && !first)) {
		if (is_bugcheck_break(s, ev)) {
			s->bugcheck_stop = 1;
			print_bugcheck_data(s);
			kd_out(s, "%s\n\nA fatal system error has occurred.\n", text);
		} else {
			kd_out(s, "%s\n", text);
		}
		kd_print_location(s, ev->pc);
		return 0;
	}
	if (a == KD_SX_OUTPUT || a == KD_SX_SECOND)
		kd_out(s, "%s\n", text);
	/* Not stopping: a breakpoint-type event is simply continued; a real
	 * exception is handed back to the target's handlers. */
	p->kind = (ev->code == 0x80000003u || ev->code == 0x80000004u) ? KD_RESUME_GO
									: KD_RESUME_GO_UNHANDLED;
	return 1;
}

static int run_loop(kd_session *s, run_plan *p, int resume_first)
{
	kd_session_clear_interrupt(s);
	int first = resume_first;
	for (;;) {
		if (first) {
			if (resume_once(s, p) < 0)
				return -1;
		}
		first = 1;
		kd_event ev;
		int rc = wait_stop(s, p, &ev);
		if (rc < 0)
			return rc;
		/* A break-in that met a stop we continue by ourselves (module
		 * load, a gc breakpoint) was eaten by that stop: the target drops
		 * a 0x62 seen while stopped.  Keep it pending so it is sent again. */
		if (!handle_stop(s, p, &ev)) {
			p->breakin_sent = 0;
			break;
		}
		if (p->breakin_sent)
			p->breakin_at = 0;
	}
	fflush(stdout);
	return 0;
}

int kd_run_target(kd_session *s)
{
	run_plan p = { .kind = s->resume_req };
	s->resume_req = KD_RESUME_NONE;
	if (!s->live)
		return kd_session_fail(s, KD_E_INVAL, "no target");
	if (!s->live->stopped) {
		kd_err(s, "the target is already running\n");
		return -1;
	}
	return run_loop(s, &p, 1);
}

int kd_wait_only(kd_session *s)
{
	run_plan p = { .kind = KD_RESUME_GO };
	if (!s->live)
		return -1;
	return run_loop(s, &p, 0);
}

int kd_session_reattach(kd_session *s)
{
	kd_target *t = s->live;
	if (kd_target_kd_refresh_version(t) < 0) {
		kd_err(s, "after reconnect: %s\n", kd_target_errmsg(t));
		return -1;
	}
	s->bugcheck_stop = 0;
	memset(s->dr_sent, 0, sizeof(s->dr_sent));
	kd_print_banner(s);
	kd_modules_on_attach(s);
	return 0;
}

int kd_session_first_stop(kd_session *s, const kd_event *ev, int stay)
{
	kd_print_banner(s);
	s->last_event = *ev;
	s->have_event = 1;
	kd_modules_on_attach(s);
	run_plan p = { .kind = KD_RESUME_GO };
	int keep_running = handle_stop(s, &p, ev);
	int plain_break = ev->kind == KD_EV_EXCEPTION && ev->code == 0x80000003u && !s->bugcheck_stop;
	if (stay) {
		if (keep_running)
			kd_print_location(s, ev->pc);
		return 0;
	}
	if (keep_running || plain_break) {
		p.kind = KD_RESUME_GO;
		return run_loop(s, &p, 1);
	}
	return 0;
}
