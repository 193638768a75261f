/*
 * cmd_session.c - session commands: .help, q, qd, .logopen/.logappend/
 * .logclose, .linkstats.
 */
#include "commands.h"
#include "session_int.h"

const kd_command kd_commands_session[] = {
	{ 0 }
};
