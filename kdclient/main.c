/*
 * main.c - the kdclient executable: options, attach, the command loop.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "repl.h"
#include "run.h"
#include "target_kd.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kdclient -k CONNECTION [options]\n"
		"\n"
		"A kernel debugger for Windows targets over the KD serial protocol (KDCOM).\n"
		"\n"
		"  -k CONNECTION   how to reach the target (WinDbg's -k forms and short ones):\n"
		"                    com:pipe,port=/path/to/socket[,reconnect][,resets=N]\n"
		"                    com:port=/dev/ttyS0,baud=115200\n"
		"                    com:ipport=4445,port=127.0.0.1\n"
		"                    unix:/path  tcp:host:port  serial:/dev/ttyUSB0@115200\n"
		"                  ',reconnect' waits for a target that is not there yet and\n"
		"                  reconnects automatically when the link drops.\n"
		"  -c \"CMD; CMD\"   run these commands after attaching (the target stays\n"
		"                  stopped for them), e.g. -c 'bp nt!NtCreateFile; g'\n"
		"  -y PATH         symbol path (default: $_NT_SYMBOL_PATH), e.g.\n"
		"                    srv*/var/cache/symbols*https://msdl.microsoft.com/download/symbols\n"
		"  -b              break in on attach and stay stopped at the first prompt\n"
		"                  (without -b and -c the target keeps running: Ctrl-C breaks in)\n"
		"  -logo FILE      write a log of the session to FILE (like .logopen)\n"
		"  --link-stats    print the KDCOM link counters on exit\n"
		"  --help          this text\n"
		"\n"
		"Commands are read from the terminal (readline, history in ~/.kdclient_history,\n"
		"Tab completes command names) or, when stdin is not a terminal, one per line\n"
		"from stdin.  .help lists the commands.  Ctrl-C while the target runs breaks in.\n");
}

typedef struct options {
	const char *spec, *cmds, *sympath, *logfile;
	int break_in, link_stats;
} options;

static int parse_args(int argc, char **argv, options *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 || strcmp(a, "-?") == 0) {
			usage(stdout);
			exit(0);
		} else if (strcmp(a, "-k") == 0 && next) {
			o->spec = next;
			i++;
		} else if (strcmp(a, "-c") == 0 && next) {
			o->cmds = next;
			i++;
		} else if (strcmp(a, "-y") == 0 && next) {
			o->sympath = next;
			i++;
		} else if ((strcmp(a, "-logo") == 0 || strcmp(a, "--logo") == 0) && next) {
			o->logfile = next;
			i++;
		} else if (strcmp(a, "-b") == 0) {
			o->break_in = 1;
		} else if (strcmp(a, "--link-stats") == 0) {
			o->link_stats = 1;
		} else {
			fprintf(stderr, "kdclient: unknown or incomplete option '%s' (see --help)\n", a);
			return -1;
		}
	}
	if (!o->spec) {
		fprintf(stderr, "kdclient: -k CONNECTION is required (see --help)\n");
		return -1;
	}
	return 0;
}

static void print_cb(void *ctx, const char *text, size_t len)
{
	kd_session *s = ctx;
	kd_out_untrusted(s, text, len);
	if (memmem(text, len, "*** Fatal System Error", 22))
		s->saw_fatal_text = 1;
}

/* Attach until a state change arrives; Ctrl-C gives up. */
static int attach(kd_session *s, kd_target *t, kd_event *ev)
{
	for (;;) {
		int rc = kd_target_kd_attach(t, 3000, ev);
		if (rc == 0)
			return 0;
		if (kd_session_interrupted(s)) {
			fprintf(stderr, "kdclient: attach interrupted\n");
			return -1;
		}
		if (rc == KD_E_TIMEOUT)
			continue;
		if (rc == KD_E_CLOSED && kd_target_kd_reconnect_wanted(t)) {
			if (t->ops->reconnect(t, 1000) < 0)
				continue;
			continue;
		}
		fprintf(stderr, "kdclient: %s\n", kd_target_errmsg(t));
		return -1;
	}
}

int main(int argc, char **argv)
{
	options o = { 0 };
	if (parse_args(argc, argv, &o) < 0)
		return 2;
	kd_session *s = kd_session_create();
	if (!s) {
		fprintf(stderr, "kdclient: out of memory\n");
		return 1;
	}
	(void)kd_session_catch_sigint(s);
	const char *sp = o.sympath ? o.sympath : getenv("_NT_SYMBOL_PATH");
	if (sp)
		kd_session_set_sympath(s, sp);
	if (o.logfile && kd_session_log_open(s, o.logfile, 0) < 0) {
		fprintf(stderr, "kdclient: %s\n", kd_session_errmsg(s));
		kd_session_destroy(s);
		return 1;
	}
	s->link_stats = o.link_stats;
	s->break_on_attach = o.break_in;

	char err[256];
	kd_target *t = NULL;
	/* With ",reconnect" a target that is not there yet (the VM is still
	 * starting) is waited for, as WinDbg waits for its pipe. */
	kd_connspec cs;
	char perr[256];
	int wait_for_it = kd_connspec_parse(o.spec, &cs, perr, sizeof(perr)) == 0 && cs.reconnect;
	int said = 0;
	while (kd_target_kd_open(o.spec, &t, err, sizeof(err)) < 0) {
		if (!wait_for_it || kd_session_interrupted(s)) {
			fprintf(stderr, "kdclient: %s\n", err);
			kd_session_destroy(s);
			return 1;
		}
		if (!said++)
			fprintf(stderr, "kdclient: %s; waiting (Ctrl-C gives up)\n", err);
		sleep(1);
	}
	kd_session_set_live(s, t);
	kd_target_kd_set_print(t, print_cb, s);
	kd_out(s, "Opened %s\nWaiting to reconnect...\n", kd_stream_describe(kd_target_kd_stream(t)));

	kd_event ev;
	if (attach(s, t, &ev) < 0) {
		kd_session_destroy(s);
		return 1;
	}
	int rc = kd_session_first_stop(s, &ev, o.break_in || o.cmds);
	if (rc == 0 && o.cmds)
		kd_execute(s, o.cmds);
	if (!s->quit)
		kd_repl_run(s);

	if (o.link_stats && s->live) {
		char buf[2048];
		kdcom_stats_format(kd_target_kd_link(s->live), buf, sizeof(buf));
		fprintf(stderr, "%s", buf);
	}
	kd_session_destroy(s);
	return 0;
}
