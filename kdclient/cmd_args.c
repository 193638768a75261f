/*
 * cmd_args.c - see cmd_args.h.
 */
#include "cmd_args.h"

#include "command.h"

const char *cmd_arg_skip(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

const char *cmd_arg_word(const char *p, char *buf, size_t len)
{
	size_t n = 0;
	p = cmd_arg_skip(p);
	while (*p && *p != ' ' && *p != '\t') {
		if (n + 1 < len)
			buf[n++] = *p;
		p++;
	}
	buf[n] = 0;
	return p;
}

int cmd_arg_eval(kd_session *s, const char *w, uint64_t *v)
{
	const char *end;
	if (kd_eval(s, w, v, &end) < 0) {
		kd_err(s, "%s\n", kd_session_errmsg(s));
		return -1;
	}
	return 0;
}
