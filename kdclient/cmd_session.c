/*
 * cmd_session.c - session commands: .help, q, qd, .linkstats.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "run.h"
#include "breakpoints.h"
#include "target_kd.h"

static int cmd_help(kd_session *s, const char *name, const char *args)
{
	(void)name;
	for (size_t i = 0;; i++) {
		const kd_command *c = kd_command_at(i);
		if (!c)
			break;
		if (*args && strncmp(c->name, args, strlen(args)) != 0)
			continue;
		kd_out(s, "%-40s %s\n", c->usage ? c->usage : c->name, c->help ? c->help : "");
	}
	return 0;
}

static int cmd_quit(kd_session *s, const char *name, const char *args)
{
	(void)args;
	kd_target *t = kd_session_live(s);
	if (strcmp(name, "qd") == 0 && t && t->stopped) {
		/* Detach: take our breakpoints out and let the target run. */
		kd_bplist *l = kd_session_breakpoints(s);
		for (size_t i = 0; i < kd_bplist_count(l); i++)
			kd_bplist_get(l, i)->enabled = 0;
		kd_resume how = { .status = 0x00010002u, .trace = 0, .dr7 = 0x400 };
		kd_context c;
		/* Skip a hard-coded int3 at PC first, as `g` would. */
		if (kd_session_get_context(s, &c) == 0) {
			uint8_t b = 0;
			size_t got = 0;
			const kd_event *ev = kd_session_last_event(s);
			uint64_t pc = kd_context_pc(&c);
			if (ev && ev->kind == KD_EV_EXCEPTION && ev->code == 0x80000003u &&
			    t->ops->read_virtual(t, pc, &b, 1, &got) >= 0 && got == 1 && b == 0xCC) {
				kd_context_set(&c, c.arch == KD_ARCH_X86 ? "eip" : "rip", pc + 1);
				(void)kd_session_put_context(s, &c);
			}
		}
		if (t->ops->resume(t, &how) < 0)
			kd_err(s, "qd: %s\n", kd_target_errmsg(t));
	}
	kd_out(s, "quit:\n");
	s->quit = 1;
	return 0;
}

static int cmd_linkstats(kd_session *s, const char *name, const char *args)
{
	(void)name;
	(void)args;
	kd_target *t = kd_session_live(s);
	if (!t) {
		kd_err(s, "no target\n");
		return -1;
	}
	char buf[2048];
	kdcom_stats_format(kd_target_kd_link(t), buf, sizeof(buf));
	kd_out(s, "%s", buf);
	return 0;
}

const kd_command kd_commands_session[] = {
	{ ".help", cmd_help, 0, ".help [prefix]", "list commands" },
	{ "q", cmd_quit, 0, "q", "quit (the target stays as it is)" },
	{ "qd", cmd_quit, 0, "qd", "resume the target and quit (detach)" },
	{ ".linkstats", cmd_linkstats, 0, ".linkstats", "show the KDCOM link counters" },
	{ 0 }
};
