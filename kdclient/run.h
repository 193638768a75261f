/*
 * run.h - engine internals shared by run.c, events.c and the engine's
 * commands: running the target until a stop that needs the user, and the
 * texts printed at a stop.
 */
#ifndef KDCLIENT_RUN_H
#define KDCLIENT_RUN_H

#include "session_int.h"

/* Run the pending resume request (kd_session_request_resume) until the
 * next stop that needs the user.  Also used with KD_RESUME_NONE after a
 * request that makes the target run by itself (.reboot, .crash, ~Ns):
 * then it only waits.  0, or negative after printing why. */
int kd_run_target(kd_session *s);
int kd_wait_only(kd_session *s);
/* The stop kdcomattach returned: record it, print the banner and the stop,
 * load modules.  stay = 1 keeps the target stopped (-b, -c); otherwise a
 * plain break-in stop is resumed at once and the loop waits for Ctrl-C. */
int kd_session_first_stop(kd_session *s, const kd_event *ev, int stay);

/* Stop presentation (events.c). */
void kd_print_location(kd_session *s, uint64_t pc);   /* "nt!Foo+0x12:" + disasm line */
void kd_print_regs(kd_session *s);                    /* `r` display */
/* The WinDbg text for an exception ("Break instruction exception - code
 * 80000003 (first chance)"); exported for tests. */
void kd_exception_text(uint32_t code, int first_chance, char *buf, size_t len);

/* Exception/event filters (sx*). */
typedef enum kd_filter_action {
	KD_SX_IGNORE = 0,   /* sxi */
	KD_SX_OUTPUT = 1,   /* sxn: print, keep running */
	KD_SX_BREAK = 2,    /* sxe */
	KD_SX_SECOND = 3,   /* sxd: break on second chance only */
} kd_filter_action;
kd_filter_action kd_filter_for_code(kd_session *s, uint32_t code);
kd_filter_action kd_filter_for_event(kd_session *s, const char *abbrev); /* "ld" "ud" */
int kd_filter_set(kd_session *s, const char *abbrev_or_code, kd_filter_action a);
void kd_filter_list(kd_session *s);

/* Attach banner ("Connected to Windows ... target", "Kernel base = ..."). */
void kd_print_banner(kd_session *s);
/* Bring the session back after the target rebooted / the link came back:
 * GetVersion, KDBG, banner, modules. */
int kd_session_reattach(kd_session *s);

/* The link went away; reconnect when the spec says so.  0 = back. */
int kd_handle_link_loss(kd_session *s, int rc);

/* bu breakpoints whose expression resolves now get their address (cmd_bp.c). */
void kd_bp_resolve_deferred(kd_session *s);

/* Disassembler for this target (created on first use). */
struct kd_disasm;
struct kd_disasm *kd_session_disasm(kd_session *s);

#endif
