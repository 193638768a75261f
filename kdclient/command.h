/*
 * command.h - the command table and what a command handler may use.
 *
 * One table of (name, handler, usage, help) drives dispatch, `.help`/`?`
 * and readline completion.  Each area contributes its own table
 * (cmd_memory.c, cmd_run.c, nt/nt_commands.c, ...); command.c lists those
 * tables once.  Handlers receive the text after the command name, already
 * split from other commands on the line (cmdline.c), and print through
 * kd_out()/kd_err() so that .logopen and tests see the same text.
 */
#ifndef KDCLIENT_COMMAND_H
#define KDCLIENT_COMMAND_H

#include <stddef.h>
#include <stdint.h>
#include "target.h"

typedef struct kd_session kd_session;

/* Returns 0, or negative after printing a one-line error with kd_err(). */
typedef int (*kd_cmd_fn)(kd_session *s, const char *name, const char *args);

enum {
	KD_CMD_PREFIX = 1,     /* name may be followed directly by args: "dq", "r", "bp" */
	KD_CMD_NEEDS_STOP = 2, /* only while the target is stopped */
};

typedef struct kd_command {
	const char *name;      /* "dq", "!process", ".reload" */
	kd_cmd_fn fn;
	unsigned flags;
	const char *usage;     /* "dq [addr] [L count]" */
	const char *help;      /* one line */
} kd_command;

/* Look a command up: exact name first, then the longest KD_CMD_PREFIX name
 * that the word starts with ("dqs" before "dq", "bp" for "bp1"). */
const kd_command *kd_command_find(const char *word, size_t *name_len);
/* For completion and .help: every command, in table order, NULL-terminated
 * walk by index. */
const kd_command *kd_command_at(size_t i);

/* ---- What handlers may use of the session ---- */
kd_target *kd_session_target(kd_session *s);      /* current view (may translate through .process) */
void kd_out(kd_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kd_err(kd_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print bytes that came from the target: control characters are escaped
 * so that the target cannot drive the user's terminal. */
void kd_out_untrusted(kd_session *s, const char *text, size_t len);
/* Evaluate a MASM expression (expr.c); *end (optional) gets the first
 * character not consumed.  On error prints nothing and returns negative
 * with the message in kd_session_errmsg(). */
int kd_eval(kd_session *s, const char *text, uint64_t *value, const char **end);
const char *kd_session_errmsg(kd_session *s);
/* Run one command line ("cmd; cmd") as if typed. */
int kd_execute(kd_session *s, const char *line);

/* Symbols (modules.c): the loaded-module set of symbols/symbols.h, and the
 * WinDbg rendering of an address: "nt!NtCreateFile+0x1a", "nt!KiSystemStartup",
 * or the bare hex value when no module covers it.  Returns 1 if a symbol was
 * found, 0 otherwise (buf still gets the hex form). */
struct sym_modset;
struct sym_modset *kd_session_symbols(kd_session *s);
int kd_symbolize(kd_session *s, uint64_t addr, char *buf, size_t len);
/* Format a pointer-sized value the WinDbg way: fffff800`00100000 on 64-bit
 * targets, 8 hex digits on 32-bit ones (format.c). */
const char *kd_fmt_ptr(kd_session *s, uint64_t v, char buf[24]);

#endif
