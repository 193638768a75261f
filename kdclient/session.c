/*
 * session.c - session life cycle, accessors, output and the log file.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "session_int.h"
#include "breakpoints.h"
#include "disasm/disasm.h"

kd_session *kd_session_create(void)
{
	kd_session *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->sigfd = -1;
	s->bps = kd_bplist_create();
	if (!s->bps) {
		free(s);
		return NULL;
	}
	return s;
}

void kd_session_destroy(kd_session *s)
{
	if (!s)
		return;
	if (s->nt && s->nt_destroy)
		s->nt_destroy(s->nt);
	if (s->lang && s->lang_destroy)
		s->lang_destroy(s->lang);
	if (s->modules && s->modules_destroy)
		s->modules_destroy(s->modules);
	if (s->symbols && s->symbols_destroy)
		s->symbols_destroy(s->symbols);
	kd_bplist_destroy(s->bps);
	if (s->dis)
		kd_disasm_close(s->dis);
	kd_session_log_close(s);
	if (s->live && s->live->ops && s->live->ops->close)
		s->live->ops->close(s->live);
	if (s->sigfd >= 0)
		close(s->sigfd);
	free(s->sympath);
	free(s);
}

/* ---- targets ---- */

kd_target *kd_session_live(kd_session *s) { return s->live; }

void kd_session_set_live(kd_session *s, kd_target *t)
{
	if (s->live && s->live != t && s->live->ops && s->live->ops->close)
		s->live->ops->close(s->live);
	s->live = t;
	s->view = NULL;
	s->ctx_valid = 0;
}

void kd_session_set_view(kd_session *s, kd_target *view) { s->view = view; }

kd_target *kd_session_target(kd_session *s)
{
	return s->view ? s->view : s->live;
}

/* ---- stop state ---- */

int kd_session_stopped(kd_session *s) { return s->live && s->live->stopped; }
unsigned kd_session_cpu(kd_session *s) { return s->live ? s->live->cpu : 0; }

const kd_event *kd_session_last_event(kd_session *s)
{
	return s->have_event ? &s->last_event : NULL;
}

/* ---- register context ---- */

int kd_session_get_context(kd_session *s, kd_context *out)
{
	if (s->ctx_override) {
		*out = s->override;
		return 0;
	}
	if (!s->live)
		return kd_session_fail(s, KD_E_INVAL, "no target");
	if (!s->live->stopped)
		return kd_session_fail(s, KD_E_RUNNING, "target is running");
	if (!s->ctx_valid) {
		int rc = s->live->ops->get_context(s->live, s->live->cpu, &s->ctx);
		if (rc < 0)
			return kd_session_fail(s, rc, "%s", kd_target_errmsg(s->live));
		s->ctx_valid = 1;
	}
	*out = s->ctx;
	return 0;
}

int kd_session_set_context(kd_session *s, const kd_context *ctx)
{
	if (!ctx) {
		s->ctx_override = 0;
		return 0;
	}
	s->override = *ctx;
	s->ctx_override = 1;
	return 0;
}

int kd_session_has_context_override(kd_session *s) { return s->ctx_override; }

int kd_session_put_context(kd_session *s, const kd_context *ctx)
{
	if (s->ctx_override) {
		s->override = *ctx;
		return 0;
	}
	if (!s->live)
		return kd_session_fail(s, KD_E_INVAL, "no target");
	if (!s->live->stopped)
		return kd_session_fail(s, KD_E_RUNNING, "target is running");
	/* SetContext needs a GetContext earlier in this stop (fact sheet §7). */
	if (!s->ctx_valid) {
		kd_context tmp;
		int rc = kd_session_get_context(s, &tmp);
		if (rc < 0)
			return rc;
	}
	int rc = s->live->ops->set_context(s->live, s->live->cpu, ctx);
	if (rc < 0)
		return kd_session_fail(s, rc, "%s", kd_target_errmsg(s->live));
	s->ctx = *ctx;
	s->ctx_valid = 1;
	return 0;
}

void kd_session_invalidate_context(kd_session *s) { s->ctx_valid = 0; }

uint64_t *kd_session_tregs(kd_session *s) { return s->tregs; }

/* ---- output ---- */

void kd_session_set_output(kd_session *s, kd_output_fn fn, void *ctx)
{
	s->out_fn = fn;
	s->out_ctx = ctx;
}

void kd_write(kd_session *s, const char *text, size_t len)
{
	if (!len)
		return;
	if (s->out_fn) {
		s->out_fn(s->out_ctx, text, len);
	} else {
		fwrite(text, 1, len, stdout);
		/* Flush per write so that traced output appears line by line
		 * even when stdout is a pipe (scripts, tests). */
		if (memchr(text, '\n', len))
			fflush(stdout);
	}
	if (s->log) {
		fwrite(text, 1, len, s->log);
		fflush(s->log);
	}
}

static void kd_vout(kd_session *s, const char *fmt, va_list ap)
{
	char small[1024];
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	if (n < 0) {
		va_end(ap2);
		return;
	}
	if ((size_t)n < sizeof(small)) {
		kd_write(s, small, (size_t)n);
	} else {
		char *big = malloc((size_t)n + 1);
		if (big) {
			vsnprintf(big, (size_t)n + 1, fmt, ap2);
			kd_write(s, big, (size_t)n);
			free(big);
		}
	}
	va_end(ap2);
}

void kd_out(kd_session *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kd_vout(s, fmt, ap);
	va_end(ap);
}

void kd_err(kd_session *s, const char *fmt, ...)
{
	/* kd prints errors in the same stream as output; keep them in order. */
	va_list ap;
	va_start(ap, fmt);
	kd_vout(s, fmt, ap);
	va_end(ap);
}

void kd_out_untrusted(kd_session *s, const char *text, size_t len)
{
	/* Target text must not drive the terminal: keep newline and tab,
	 * escape every other control byte, DEL and bytes >= 0x80 (C1 controls
	 * such as 0x9b CSI are escape sequences on some terminals). */
	char buf[1024];
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (n + 5 > sizeof(buf)) {
			kd_write(s, buf, n);
			n = 0;
		}
		if (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f)) {
			buf[n++] = (char)c;
		} else if (c == '\r' && i + 1 < len && text[i + 1] == '\n') {
			continue;   /* CRLF from the target prints as one newline */
		} else {
			static const char hex[] = "0123456789abcdef";
			buf[n++] = '\\';
			buf[n++] = 'x';
			buf[n++] = hex[c >> 4];
			buf[n++] = hex[c & 15];
		}
	}
	kd_write(s, buf, n);
}

int kd_session_log_open(kd_session *s, const char *path, int append)
{
	FILE *f = fopen(path, append ? "a" : "w");
	if (!f)
		return kd_session_fail(s, KD_E_FAIL, "cannot open log file %s: %s",
				       path, strerror(errno));
	kd_session_log_close(s);
	s->log = f;
	s->log_path = strdup(path);
	return 0;
}

void kd_session_log_close(kd_session *s)
{
	if (s->log)
		fclose(s->log);
	s->log = NULL;
	free(s->log_path);
	s->log_path = NULL;
}

const char *kd_session_log_path(kd_session *s) { return s->log_path; }

void kd_session_log_input(kd_session *s, const char *prompt, const char *line)
{
	if (!s->log)
		return;
	fprintf(s->log, "%s%s\n", prompt ? prompt : "", line);
	fflush(s->log);
}

int kd_session_fail(kd_session *s, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
	va_end(ap);
	return code;
}

const char *kd_session_errmsg(kd_session *s) { return s->errmsg; }

/* ---- Ctrl-C ---- */

/* SIGINT is blocked and read from a signalfd so that no signal handler and
 * no global flag are needed; the wait loop polls it (session_sigint_init
 * is called by main). */
int kd_session_catch_sigint(kd_session *s)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	/* An ignored signal is discarded even while blocked, and shells and
	 * test runners start background children with SIGINT ignored. */
	signal(SIGINT, SIG_DFL);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	s->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return s->sigfd < 0 ? -1 : 0;
}

int kd_session_sigfd(kd_session *s) { return s->sigfd; }

int kd_session_interrupted(kd_session *s)
{
	if (s->sigfd >= 0) {
		struct signalfd_siginfo si;
		while (read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			s->interrupt = 1;
	}
	return s->interrupt;
}

void kd_session_clear_interrupt(kd_session *s)
{
	(void)kd_session_interrupted(s);   /* drain pending signals */
	s->interrupt = 0;
}

void kd_session_interrupt(kd_session *s) { s->interrupt = 1; }

/* ---- area slots ---- */

struct kd_lang_state *kd_session_lang(kd_session *s) { return s->lang; }
void kd_session_set_lang(kd_session *s, struct kd_lang_state *st,
			 void (*destroy)(struct kd_lang_state *))
{
	if (s->lang && s->lang != st && s->lang_destroy)
		s->lang_destroy(s->lang);
	s->lang = st;
	s->lang_destroy = destroy;
}

struct kd_modules_state *kd_session_modules(kd_session *s) { return s->modules; }
void kd_session_set_modules(kd_session *s, struct kd_modules_state *st,
			    void (*destroy)(struct kd_modules_state *))
{
	if (s->modules && s->modules != st && s->modules_destroy)
		s->modules_destroy(s->modules);
	s->modules = st;
	s->modules_destroy = destroy;
}

struct kd_nt_state *kd_session_nt(kd_session *s) { return s->nt; }
void kd_session_set_nt(kd_session *s, struct kd_nt_state *st,
		       void (*destroy)(struct kd_nt_state *))
{
	if (s->nt && s->nt != st && s->nt_destroy)
		s->nt_destroy(s->nt);
	s->nt = st;
	s->nt_destroy = destroy;
}

struct sym_modset *kd_session_symbols(kd_session *s) { return s->symbols; }
void kd_session_set_symbols(kd_session *s, struct sym_modset *set,
			    void (*destroy)(struct sym_modset *))
{
	if (s->symbols && s->symbols != set && s->symbols_destroy)
		s->symbols_destroy(s->symbols);
	s->symbols = set;
	s->symbols_destroy = destroy;
}

const char *kd_session_sympath(kd_session *s) { return s->sympath; }
int kd_session_set_sympath(kd_session *s, const char *path)
{
	char *p = path ? strdup(path) : NULL;
	if (path && !p)
		return kd_session_fail(s, KD_E_FAIL, "out of memory");
	free(s->sympath);
	s->sympath = p;
	return 0;
}

struct kd_bplist *kd_session_breakpoints(kd_session *s) { return s->bps; }

void kd_session_request_resume(kd_session *s, kd_resume_kind kind, uint64_t go_until)
{
	s->resume_req = kind;
	s->resume_until = go_until;
}

int kd_session_in_event(kd_session *s) { return s->in_event; }
