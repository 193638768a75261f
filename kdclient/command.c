/*
 * command.c - the list of command tables and name lookup.
 */
#include <string.h>
#include <strings.h>

#include "commands.h"

static const kd_command *const kd_tables[] = {
	kd_commands_session,
	kd_commands_run,
	kd_commands_bp,
	kd_commands_regs,
	kd_commands_memory,
	kd_commands_disasm,
	kd_commands_script,
	kd_commands_symbols,
	kd_commands_stack,
	kd_commands_nt,
};

const kd_command *kd_command_at(size_t i)
{
	for (size_t t = 0; t < sizeof(kd_tables) / sizeof(kd_tables[0]); t++) {
		for (const kd_command *c = kd_tables[t]; c->name; c++) {
			if (i == 0)
				return c;
			i--;
		}
	}
	return NULL;
}

/* The command word ends at white space, a quote, or the end of the text;
 * a KD_CMD_PREFIX command may also be glued to its arguments ("r$t0=1",
 * "~1s", "?1+2", "bp1"). */
const kd_command *kd_command_find(const char *word, size_t *name_len)
{
	size_t wl = 0;
	while (word[wl] && word[wl] != ' ' && word[wl] != '\t' && word[wl] != '"' &&
	       word[wl] != '\n')
		wl++;
	const kd_command *best = NULL;
	size_t best_len = 0;
	for (size_t i = 0;; i++) {
		const kd_command *c = kd_command_at(i);
		if (!c)
			break;
		size_t nl = strlen(c->name);
		if (nl == wl && strncasecmp(word, c->name, wl) == 0) {
			if (name_len)
				*name_len = nl;
			return c;
		}
		if ((c->flags & KD_CMD_PREFIX) && nl < wl && nl > best_len &&
		    strncasecmp(word, c->name, nl) == 0) {
			best = c;
			best_len = nl;
		}
	}
	if (best && name_len)
		*name_len = best_len;
	return best;
}
