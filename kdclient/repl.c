/*
 * repl.c - the command loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <readline/readline.h>
#include <readline/history.h>

#include "repl.h"
#include "session_int.h"
#include "commands.h"

static char *complete_command(const char *text, int state)
{
	/* readline keeps calling with state 0, 1, 2...; the walk position
	 * lives in the state argument itself (no static cursor): the n-th
	 * call returns the n-th match. */
	size_t len = strlen(text);
	int seen = 0;
	for (size_t i = 0;; i++) {
		const kd_command *c = kd_command_at(i);
		if (!c)
			return NULL;
		if (strncmp(c->name, text, len) == 0) {
			if (seen == state)
				return strdup(c->name);
			seen++;
		}
	}
}

static char **complete(const char *text, int start, int end)
{
	(void)end;
	rl_attempted_completion_over = 1;
	if (start != 0)
		return NULL;   /* only the command word (symbols: later) */
	return rl_completion_matches(text, complete_command);
}

static char *history_path(void)
{
	const char *home = getenv("HOME");
	if (!home || !*home)
		return NULL;
	size_t n = strlen(home) + 32;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/.kdclient_history", home);
	return p;
}

int kd_repl_run(kd_session *s)
{
	int tty = isatty(STDIN_FILENO);
	char *hist = NULL;
	if (tty) {
		rl_readline_name = "kdclient";
		rl_attempted_completion_function = complete;
		/* SIGINT is read from a signalfd; readline must not grab it. */
		rl_catch_signals = 0;
		hist = history_path();
		if (hist)
			read_history(hist);
	}
	char prompt[32];
	char *last = NULL;
	while (!s->quit) {
		snprintf(prompt, sizeof(prompt), "%u: kd> ", kd_session_cpu(s));
		char *line = NULL;
		if (tty) {
			line = readline(prompt);
			if (!line)
				break;
		} else {
			size_t cap = 0;
			kd_write(s, prompt, strlen(prompt));
			fflush(stdout);
			if (getline(&line, &cap, stdin) < 0) {
				free(line);
				kd_write(s, "\n", 1);
				break;
			}
			line[strcspn(line, "\r\n")] = 0;
			kd_write(s, line, strlen(line));
			kd_write(s, "\n", 1);
		}
		if (tty)
			kd_session_log_input(s, prompt, line);
		const char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p) {
			/* An empty line repeats t and p, as in WinDbg. */
			if (last && (strcmp(last, "t") == 0 || strcmp(last, "p") == 0))
				kd_execute(s, last);
			free(line);
			continue;
		}
		if (tty) {
			add_history(line);
			/* append_history needs an existing file; the first
			 * session creates it */
			if (hist && append_history(1, hist) != 0)
				write_history(hist);
		}
		free(last);
		last = strdup(p);
		/* A Ctrl-C pressed at the prompt waits in the signalfd; it must
		 * not cut short the command typed after it. */
		kd_session_clear_interrupt(s);
		kd_execute(s, p);
		free(line);
	}
	free(last);
	free(hist);
	return 0;
}
