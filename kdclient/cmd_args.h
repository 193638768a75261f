/*
 * cmd_args.h - argument reading shared by the stack and nt commands
 * (cmd_stack.c, cmd_nt.c): plain blank-separated words, no quoting, which
 * is all k/.frame/!process/!pte take.
 */
#ifndef KDCLIENT_CMD_ARGS_H
#define KDCLIENT_CMD_ARGS_H

#include <stddef.h>
#include <stdint.h>

#include "session.h"

/* Skip spaces and tabs. */
const char *cmd_arg_skip(const char *p);

/* Next blank-separated word into buf (truncated to len-1 bytes, always
 * NUL-terminated); returns the position after the word. */
const char *cmd_arg_word(const char *p, char *buf, size_t len);

/* Evaluate an expression; on failure print the evaluator's message and
 * return -1. */
int cmd_arg_eval(kd_session *s, const char *w, uint64_t *v);

#endif
