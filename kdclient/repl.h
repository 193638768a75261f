/*
 * repl.h - the interactive front end: readline prompt "N: kd> ", history,
 * completion from the command table; plain line reading when stdin is not
 * a terminal.
 */
#ifndef KDCLIENT_REPL_H
#define KDCLIENT_REPL_H

#include "session.h"

/* Read and run commands until q/qd or end of input. */
int kd_repl_run(kd_session *s);

#endif
