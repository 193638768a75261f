/*
 * script.h - the command language's session state (struct kd_lang_state:
 * aliases, where the next d* / u continue, script nesting) and the pieces
 * the engine calls: alias expansion before each command, script files,
 * and the helpers E2's command files share (symbolize, evaluate ranges,
 * disassemble a few lines).  The evaluator environment over the session
 * is the engine's (eval.c: kd_eval).
 *
 * The state lives in the session's language slot (kd_session_lang), created
 * on first use by kd_lang().
 */
#ifndef KDCLIENT_SCRIPT_H
#define KDCLIENT_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "cmdline.h"
#include "command.h"
#include "expr.h"

#define KD_ALIAS_MAX 64

struct kd_lang_state {
	/* d*: the next address and the last kind ("db", "dq") for a bare `d`
	 * or a repeated command without an address. */
	uint64_t dump_next;
	int dump_valid;
	char dump_kind[8];
	/* u / ub: where the next `u` continues. */
	uint64_t disasm_next;
	int disasm_valid;
	/* as / aS / ad / al */
	struct kd_lang_alias aliases[KD_ALIAS_MAX];
	size_t nalias;
	/* $$>< nesting (a script that runs itself must stop somewhere) */
	int script_depth;
	/* .break / .continue seen in the running loop body */
	int loop_ctl;
	int loop_depth;
	/* $arg1.. of the innermost $$>a< script */
	char args[10][256];
	int nargs;
};

/* The session's language state, created on first use (never NULL unless
 * out of memory). */
struct kd_lang_state *kd_lang(kd_session *s);

/*
 * Alias expansion, done by the engine on each command before dispatch
 * (WinDbg expands aliases when a command is about to run, so a command
 * string sees values set by earlier commands on the same line):
 *   ${name}  anywhere (${/v:name} keeps the text "${name}" unexpanded),
 *   name     as a whole word, except in the commands that manage aliases.
 * Returns 0 (out holds the command, possibly unchanged) or negative when
 * the result does not fit.
 */
int kd_lang_expand_aliases(kd_session *s, const char *cmd, char *out, size_t outlen);

/* The pure core, kd_alias_expand, is in cmdline.h. */

/*
 * kd_symbolize for E2's output: the name made terminal-safe (export names
 * come from the target), and on 32-bit targets both spellings of an
 * address tried (modules may be recorded sign-extended, ffffffff`80100000,
 * while users type 80100000).  1 when a symbol was found.
 */
int kd_lang_symbolize(kd_session *s, uint64_t addr, char *buf, size_t len);

/* kd_eval as a kd_expr_eval_fn (ctx = kd_session *), for kd_expr_range. */
int kd_lang_eval_fn(void *session, const char *text, uint64_t *value,
		    const char **end, char *err, size_t errlen);

/* Set $t0..$t19 (`r $t0 = 5`); returns 0 or KD_E_INVAL for other names. */
int kd_lang_set_pseudo(kd_session *s, const char *name, uint64_t value);

/* Run a script file: every line, as if typed, with $arg1.. set from args
 * (NULL for $$><).  Lines are joined so that { } blocks may span lines. */
int kd_lang_run_file(kd_session *s, const char *path, const char *args);

/*
 * Disassembly for other commands (cmd_disasm.c): print `count`
 * instructions from addr in `u`'s shape, with the "module!symbol:" header
 * line before the first one (when header is set) and before every
 * instruction that starts a symbol.  The engine prints the current
 * instruction after `r`, a step or a stop with count 1.  *next (optional)
 * gets the address after the last instruction.  0 or negative.
 */
int kd_disasm_show(kd_session *s, uint64_t addr, unsigned count, int header, uint64_t *next);

#endif
