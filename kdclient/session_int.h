/*
 * session_int.h - the kd_session structure, for the engine's own files
 * (session.c, run.c, events.c, cmd_*.c of the engine).  Other areas use
 * the accessors in session.h.
 */
#ifndef KDCLIENT_SESSION_INT_H
#define KDCLIENT_SESSION_INT_H

#include <stdio.h>
#include "session.h"

struct kd_session {
	kd_target *live;
	kd_target *view;

	/* stop state */
	int have_event;
	kd_event last_event;
	int ctx_valid;               /* ctx holds the stopped CPU's context */
	kd_context ctx;
	int ctx_override;            /* .cxr / .thread / .frame */
	kd_context override;

	uint64_t tregs[KD_NUM_TREGS];

	/* output */
	kd_output_fn out_fn;
	void *out_ctx;
	FILE *log;
	char *log_path;

	char errmsg[512];

	/* Ctrl-C: signalfd for SIGINT (-1 if none) and the latched flag */
	int sigfd;
	int interrupt;

	/* area slots */
	struct kd_lang_state *lang;
	void (*lang_destroy)(struct kd_lang_state *);
	struct kd_modules_state *modules;
	void (*modules_destroy)(struct kd_modules_state *);
	struct kd_nt_state *nt;
	void (*nt_destroy)(struct kd_nt_state *);
	struct sym_modset *symbols;
	void (*symbols_destroy)(struct sym_modset *);
	char *sympath;

	struct kd_bplist *bps;

	/* run control */
	kd_resume_kind resume_req;
	uint64_t resume_until;
	int exec_depth;              /* nesting of kd_execute */
	int in_event;                /* running a breakpoint command string */
	int cmd_glued;               /* the running command's args follow its name directly */
	int quit;                    /* q / qd seen: leave the REPL */
	int link_stats;              /* print link counters on exit */
	int stop_quiet;              /* do not print the stop banner */
	/* stop handling (run.c) */
	uint64_t dr_sent[4];         /* DR0-3 as last set through SetContext */
	uint64_t temp_min_sp;        /* gu: the temporary breakpoint counts above this sp */
	int pc_adjusted;             /* int3 at PC already skipped this stop */
	int saw_fatal_text;          /* the kernel printed its bugcheck line */
	int bugcheck_stop;           /* this stop is a bugcheck break */
	int expect_reboot;           /* next state change comes from a new boot */
	int break_on_attach;         /* -b */
	int banner_done;
	struct kd_disasm *dis;
	unsigned dis_bits;
	/* exception/event filters (events.c): index into its static table */
	unsigned char filter_break[32];   /* 0 ignore, 1 output, 2 break 1st, 3 break 2nd */
	int filters_init;
};


/* Engine-internal session helpers (session.c). */
int kd_session_catch_sigint(kd_session *s);   /* block SIGINT, read it via signalfd */
int kd_session_sigfd(kd_session *s);
struct kd_expr_env;
void kd_session_expr_env(kd_session *s, struct kd_expr_env *env);   /* eval.c */

#endif
