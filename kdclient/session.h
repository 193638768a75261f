/*
 * session.h - one debugging session: the live target and the current view
 * of it, the stop state, the register-context override, output (stdout and
 * the .logopen file), breakpoints, and one state slot per area (symbols,
 * language/scripting, nt awareness) so that no area needs globals.
 *
 * Everything a command handler needs is reachable from the kd_session *
 * it receives.  Handlers that only print and read memory need nothing
 * beyond command.h; this header is for areas that keep state across
 * commands or react to events.
 */
#ifndef KDCLIENT_SESSION_H
#define KDCLIENT_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include "command.h"
#include "target.h"

struct sym_modset;
struct kd_lang_state;      /* E2: aliases, script nesting (script.c) */
struct kd_modules_state;   /* S2: module list bookkeeping (modules.c) */
struct kd_nt_state;        /* K: nt offsets, process context (nt_*.c) */
struct kd_bplist;          /* E1: breakpoints.c */

/* ---- Life cycle ---- */
kd_session *kd_session_create(void);
/* Frees the area states (through their destroy callbacks), the breakpoint
 * list, closes the log file and the live target. */
void kd_session_destroy(kd_session *s);

/* ---- Targets ----
 * The live target is what the link talks to.  The view is what commands
 * see through kd_session_target() (command.h): normally the live target;
 * K's `.process /p` installs a translating view.  The session does not
 * own a view; the installer frees it after kd_session_set_view(s, NULL). */
kd_target *kd_session_live(kd_session *s);
void kd_session_set_live(kd_session *s, kd_target *t);   /* takes ownership */
void kd_session_set_view(kd_session *s, kd_target *view); /* NULL = live */

/* ---- Stop state ---- */
int kd_session_stopped(kd_session *s);                /* 1 at the prompt */
unsigned kd_session_cpu(kd_session *s);               /* processor shown in "N: kd>" */
/* The event that caused the current stop (NULL before the first stop). */
const kd_event *kd_session_last_event(kd_session *s);

/* ---- Register context ----
 * kd_session_get_context: the override installed by .thread/.cxr/.frame if
 * there is one, else the stopped processor's context (fetched once per
 * stop and cached).  kd_session_set_context(s, NULL) drops the override;
 * the session also drops it on every resume.  kd_session_put_context
 * changes registers (`r rax=1`): into the override when one is set, else
 * SetContext on the stopped processor. */
int kd_session_get_context(kd_session *s, kd_context *out);
int kd_session_set_context(kd_session *s, const kd_context *ctx);
int kd_session_has_context_override(kd_session *s);
int kd_session_put_context(kd_session *s, const kd_context *ctx);
/* Forget the cached live context (after a processor switch, a resume). */
void kd_session_invalidate_context(kd_session *s);

/* ---- Pseudo-registers $t0..$t19 (E2's evaluator reads/writes them) ---- */
#define KD_NUM_TREGS 20
uint64_t *kd_session_tregs(kd_session *s);            /* array of KD_NUM_TREGS */

/* ---- Output ----
 * kd_out/kd_err/kd_out_untrusted (command.h) write to the session's sink
 * (stdout by default, line-flushed) and to the log file when one is open.
 * kd_write sends text as is (trusted text only). */
typedef void (*kd_output_fn)(void *ctx, const char *text, size_t len);
void kd_session_set_output(kd_session *s, kd_output_fn fn, void *ctx); /* NULL fn = stdout */
void kd_write(kd_session *s, const char *text, size_t len);
/* .logopen / .logappend / .logclose: 0 or negative with kd_session_errmsg. */
int kd_session_log_open(kd_session *s, const char *path, int append);
void kd_session_log_close(kd_session *s);
const char *kd_session_log_path(kd_session *s);       /* NULL when closed */
/* Text typed by the user, echoed into the log only (as kd logs "0: kd> cmd"). */
void kd_session_log_input(kd_session *s, const char *prompt, const char *line);

/* Errors: set the message kd_session_errmsg() returns; returns code. */
int kd_session_fail(kd_session *s, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- Ctrl-C ----
 * SIGINT is delivered through a signalfd (no global flag); long loops in
 * any area call kd_session_interrupted() and stop when it returns 1.  The
 * run loop turns it into a break-in. */
int kd_session_interrupted(kd_session *s);
void kd_session_clear_interrupt(kd_session *s);
void kd_session_interrupt(kd_session *s);             /* request one (tests, scripts) */

/* ---- Area state slots ----
 * Each area creates its state lazily on first use and registers a destroy
 * callback; the session frees it in kd_session_destroy. */
struct kd_lang_state *kd_session_lang(kd_session *s);
void kd_session_set_lang(kd_session *s, struct kd_lang_state *st,
			 void (*destroy)(struct kd_lang_state *));
struct kd_modules_state *kd_session_modules(kd_session *s);
void kd_session_set_modules(kd_session *s, struct kd_modules_state *st,
			    void (*destroy)(struct kd_modules_state *));
struct kd_nt_state *kd_session_nt(kd_session *s);
void kd_session_set_nt(kd_session *s, struct kd_nt_state *st,
		       void (*destroy)(struct kd_nt_state *));
/* S2's module set (kd_session_symbols() in command.h reads it). */
void kd_session_set_symbols(kd_session *s, struct sym_modset *set,
			    void (*destroy)(struct sym_modset *));
/* Symbol path from -y / _NT_SYMBOL_PATH / .sympath (NULL when unset). */
const char *kd_session_sympath(kd_session *s);
int kd_session_set_sympath(kd_session *s, const char *path);

/* ---- Breakpoints (breakpoints.c) ---- */
struct kd_bplist *kd_session_breakpoints(kd_session *s);

/* ---- Run control (run.c) ----
 * Commands that resume (g, gc, p, t, gu, and `gc` at the end of a
 * breakpoint command string) call kd_session_request_resume and return;
 * kd_execute then runs the target until the next stop that needs the
 * user (a breakpoint whose command string resumes again does not). */
typedef enum kd_resume_kind {
	KD_RESUME_NONE = 0,
	KD_RESUME_GO,           /* g: handled */
	KD_RESUME_GO_HANDLED,   /* gh */
	KD_RESUME_GO_UNHANDLED, /* gn */
	KD_RESUME_GO_CONDITIONAL, /* gc: resume the way the stop was entered */
	KD_RESUME_STEP_INTO,    /* t */
	KD_RESUME_STEP_OVER,    /* p */
	KD_RESUME_STEP_OUT,     /* gu */
} kd_resume_kind;
void kd_session_request_resume(kd_session *s, kd_resume_kind kind, uint64_t go_until);
/* 1 while commands run from a breakpoint command string or an event. */
int kd_session_in_event(kd_session *s);

/* ---- Hooks the engine calls in other areas (S2, modules.c) ---- */
void kd_modules_on_attach(kd_session *s);
void kd_modules_on_event(kd_session *s, const kd_event *ev);

#endif
