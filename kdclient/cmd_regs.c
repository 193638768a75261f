#include "commands.h"
#include "session_int.h"

const kd_command kd_commands_regs[] = {
	{ 0 }
};
