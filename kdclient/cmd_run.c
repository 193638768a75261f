/*
 * cmd_run.c - run control: g gc gh gn p t gu, ~Ns, .reboot, .crash, and
 * the sx* event filters.
 */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "run.h"
#include "breakpoints.h"
#include "cmdline.h"

static int cmd_go(kd_session *s, const char *name, const char *args)
{
	kd_resume_kind k = KD_RESUME_GO;
	if (strcmp(name, "gh") == 0)
		k = KD_RESUME_GO_HANDLED;
	else if (strcmp(name, "gn") == 0)
		k = KD_RESUME_GO_UNHANDLED;
	else if (strcmp(name, "gc") == 0)
		k = KD_RESUME_GO_CONDITIONAL;
	uint64_t until = 0;
	if (*args && k == KD_RESUME_GO) {
		/* g <addr>: a one-time breakpoint at addr. */
		if (kd_eval(s, args, &until, NULL) < 0) {
			kd_err(s, "%s\n", kd_session_errmsg(s));
			return -1;
		}
		kd_bp *tb = kd_bplist_find(kd_session_breakpoints(s), KD_BP_MAX_ID - 1);
		if (tb)
			kd_bplist_remove(kd_session_breakpoints(s), KD_BP_MAX_ID - 1);
		tb = kd_bplist_add(kd_session_breakpoints(s), KD_BP_MAX_ID - 1, KD_BP_SOFT, until, NULL);
		if (tb)
			tb->internal = 1;
	}
	kd_session_request_resume(s, k, until);
	return 0;
}

static int cmd_step(kd_session *s, const char *name, const char *args)
{
	(void)args;
	kd_resume_kind k = name[0] == 't' ? KD_RESUME_STEP_INTO :
			   name[0] == 'p' ? KD_RESUME_STEP_OVER : KD_RESUME_STEP_OUT;
	kd_session_request_resume(s, k, 0);
	return 0;
}

/* ~Ns: make processor N current (SwitchProcessor; the CPU reports again). */
static int cmd_tilde(kd_session *s, const char *name, const char *args)
{
	(void)name;
	char *end;
	unsigned long n = strtoul(args, &end, 16);
	if (end == args || (*end != 's' && *end != 'S')) {
		kd_err(s, "usage: ~Ns (switch to processor N)\n");
		return -1;
	}
	kd_target *t = kd_session_live(s);
	if (n == t->cpu)
		return 0;
	const kd_event *ev = kd_session_last_event(s);
	if (ev && n >= ev->number_processors) {
		kd_err(s, "Invalid processor %lu (the target has %u)\n", n, ev->number_processors);
		return -1;
	}
	if (t->ops->switch_processor(t, (unsigned)n) < 0) {
		kd_err(s, "%s\n", kd_target_errmsg(t));
		return -1;
	}
	return kd_wait_only(s);
}

static int cmd_reboot(kd_session *s, const char *name, const char *args)
{
	(void)name;
	(void)args;
	kd_target *t = kd_session_live(s);
	if (t->ops->reboot(t) < 0) {
		kd_err(s, "%s\n", kd_target_errmsg(t));
		return -1;
	}
	kd_out(s, "Shutdown occurred; waiting for the target to reboot...\n");
	s->expect_reboot = 1;
	s->have_event = 0;
	return kd_wait_only(s);
}

static int cmd_crash(kd_session *s, const char *name, const char *args)
{
	(void)name;
	(void)args;
	kd_target *t = kd_session_live(s);
	if (t->ops->cause_bugcheck(t) < 0) {
		kd_err(s, "%s\n", kd_target_errmsg(t));
		return -1;
	}
	/* The target bugchecks (0xE2 MANUALLY_INITIATED_CRASH) and breaks in
	 * again with DBG_STATUS_BUGCHECK_FIRST. */
	return kd_wait_only(s);
}

static int cmd_sx(kd_session *s, const char *name, const char *args)
{
	if (strcmp(name, "sx") == 0) {
		kd_filter_list(s);
		return 0;
	}
	kd_filter_action a = name[2] == 'e' ? KD_SX_BREAK : name[2] == 'd' ? KD_SX_SECOND :
			     name[2] == 'n' ? KD_SX_OUTPUT : KD_SX_IGNORE;
	char word[64];
	const char *p = args;
	int any = 0;
	while (kd_cmdline_word(&p, word, sizeof(word)) == 1) {
		if (kd_filter_set(s, word, a) < 0) {
			kd_err(s, "%s\n", kd_session_errmsg(s));
			return -1;
		}
		any = 1;
	}
	if (!any) {
		kd_err(s, "usage: %s <event|code> (sx lists them)\n", name);
		return -1;
	}
	return 0;
}

const kd_command kd_commands_run[] = {
	{ "g", cmd_go, KD_CMD_NEEDS_STOP, "g [addr]", "go: resume the target (until addr)" },
	{ "gc", cmd_go, KD_CMD_NEEDS_STOP, "gc", "go from a conditional breakpoint" },
	{ "gh", cmd_go, KD_CMD_NEEDS_STOP, "gh", "go, exception handled" },
	{ "gn", cmd_go, KD_CMD_NEEDS_STOP, "gn", "go, exception not handled" },
	{ "gu", cmd_step, KD_CMD_NEEDS_STOP, "gu", "go up: run until the current function returns" },
	{ "t", cmd_step, KD_CMD_NEEDS_STOP, "t", "trace: step one instruction (into calls)" },
	{ "p", cmd_step, KD_CMD_NEEDS_STOP, "p", "step one instruction over calls" },
	{ "~", cmd_tilde, KD_CMD_PREFIX | KD_CMD_NEEDS_STOP, "~Ns", "switch to processor N" },
	{ ".reboot", cmd_reboot, KD_CMD_NEEDS_STOP, ".reboot", "reboot the target and reattach" },
	{ ".crash", cmd_crash, KD_CMD_NEEDS_STOP, ".crash", "bugcheck the target (0xE2)" },
	{ "sx", cmd_sx, 0, "sx", "list event and exception filters" },
	{ "sxe", cmd_sx, 0, "sxe <ev|code>", "break on the event / first-chance exception" },
	{ "sxd", cmd_sx, 0, "sxd <ev|code>", "break on second chance only" },
	{ "sxn", cmd_sx, 0, "sxn <ev|code>", "print the event, do not break" },
	{ "sxi", cmd_sx, 0, "sxi <ev|code>", "ignore the event" },
	{ 0 }
};
