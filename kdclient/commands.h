/*
 * commands.h - every command table, listed in one place (command.c walks
 * them in this order for dispatch, .help and completion).
 * Each area defines its table in its own file; a table missing from the
 * build is a link error, never a silently absent command set.
 */
#ifndef KDCLIENT_COMMANDS_H
#define KDCLIENT_COMMANDS_H

#include "command.h"

/* E1 (engine) */
extern const kd_command kd_commands_session[];  /* cmd_session.c: .help q qd .logopen ... */
extern const kd_command kd_commands_run[];      /* cmd_run.c: g gc gh gn p t gu .reboot .crash ~Ns sx* */
extern const kd_command kd_commands_bp[];       /* cmd_bp.c: bp bu ba bl bc bd be */
extern const kd_command kd_commands_regs[];     /* cmd_regs.c: r rdmsr wrmsr */
/* S2 */
extern const kd_command kd_commands_symbols[];  /* cmd_symbols.c */
/* E2 */
extern const kd_command kd_commands_memory[];   /* cmd_memory.c */
extern const kd_command kd_commands_script[];   /* cmd_script.c */
extern const kd_command kd_commands_disasm[];   /* cmd_disasm.c */
/* K */
extern const kd_command kd_commands_stack[];    /* cmd_stack.c */
extern const kd_command kd_commands_nt[];       /* cmd_nt.c */

#endif
