/*
 * unit_run.c - the run loop against a scripted fake target (no VM): the
 * hard-coded int3 at PC is skipped with SetContext Rip+1 only when it is
 * not ours; resuming from an owned breakpoint steps off it with TraceFlag
 * and nothing inserted, then inserts everything and continues; pass
 * counts and command strings ending in gc keep the target running; `p`
 * over a call uses a temporary breakpoint after it; ba sets DR0 in the
 * context and DR7 in Continue2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "breakpoints.h"
#include "run.h"
#include "session_int.h"
#include "modules.h"
#include "symbols/symbols.h"

static int failures;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); failures++; } } while (0)

/* ---- fake target ---- */
typedef struct call {
	char what;            /* 'W' write bp, 'R' restore, 'C' continue, 'S' set context */
	uint64_t a, b, c;
} call;

typedef struct fake {
	uint8_t mem[0x10000];          /* virtual 0x10000.. */
	kd_context ctx;
	kd_event script[16];
	int nscript, next;
	call calls[128];
	int ncalls;
	uint32_t next_handle;
} fake;

#define BASE 0x10000ull

static void rec(fake *f, char w, uint64_t a, uint64_t b, uint64_t c)
{
	if (f->ncalls < 128)
		f->calls[f->ncalls++] = (call){ w, a, b, c };
}

static int f_read(kd_target *t, uint64_t addr, void *buf, size_t len, size_t *got)
{
	fake *f = t->impl;
	*got = 0;
	if (addr < BASE || addr + len > BASE + sizeof(f->mem))
		return kd_target_fail(t, KD_E_PARTIAL, "unreadable");
	memcpy(buf, f->mem + (addr - BASE), len);
	*got = len;
	return 0;
}
static int f_getctx(kd_target *t, unsigned cpu, kd_context *out) { (void)cpu; *out = ((fake *)t->impl)->ctx; return 0; }
static int f_setctx(kd_target *t, unsigned cpu, const kd_context *c)
{
	(void)cpu;
	fake *f = t->impl;
	f->ctx = *c;
	uint64_t rip = 0, dr0 = 0;
	kd_context_get(c, "rip", &rip);
	kd_context_get(c, "dr0", &dr0);
	rec(f, 'S', rip, dr0, 0);
	return 0;
}
static int f_wbp(kd_target *t, uint64_t addr, uint32_t *h)
{
	fake *f = t->impl;
	*h = ++f->next_handle;
	rec(f, 'W', addr, *h, 0);
	return 0;
}
static int f_rbp(kd_target *t, uint32_t h) { rec(t->impl, 'R', h, 0, 0); return 0; }
static int f_resume(kd_target *t, const kd_resume *how)
{
	rec(t->impl, 'C', how->trace, how->dr7, how->status);
	t->stopped = 0;
	return 0;
}
static int f_wait(kd_target *t, kd_event *ev, int timeout_ms)
{
	(void)timeout_ms;
	fake *f = t->impl;
	if (f->next >= f->nscript)
		return kd_target_fail(t, KD_E_CLOSED, "script ended");
	*ev = f->script[f->next++];
	t->stopped = 1;
	t->cpu = ev->processor;
	kd_context_set(&f->ctx, "rip", ev->pc);
	return 0;
}
static int f_breakin(kd_target *t) { (void)t; return 0; }

static const kd_target_ops fake_ops = {
	.name = "fake", .read_virtual = f_read, .get_context = f_getctx, .set_context = f_setctx,
	.write_breakpoint = f_wbp, .restore_breakpoint = f_rbp, .resume = f_resume,
	.wait_event = f_wait, .break_in = f_breakin,
};

static char outbuf[65536];
static size_t outlen;
static void capture(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	if (outlen + len < sizeof(outbuf)) {
		memcpy(outbuf + outlen, text, len);
		outlen += len;
		outbuf[outlen] = 0;
	}
}

static kd_event bp_event(uint64_t pc, uint32_t code)
{
	kd_event e;
	memset(&e, 0, sizeof(e));
	e.kind = KD_EV_EXCEPTION;
	e.code = code;
	e.pc = pc;
	e.first_chance = 1;
	e.number_processors = 1;
	return e;
}

static kd_session *setup(fake **fo, uint64_t pc, uint32_t code)
{
	kd_session *s = kd_session_create();
	fake *f = calloc(1, sizeof(*f));
	kd_target *t = calloc(1, sizeof(*t));
	t->ops = &fake_ops;
	t->impl = f;
	t->version.arch = KD_ARCH_X64;
	t->stopped = 1;
	f->ctx.arch = KD_ARCH_X64;
	f->ctx.size = 0x4D0;
	kd_context_set(&f->ctx, "rip", pc);
	memset(f->mem, 0x90, sizeof(f->mem));      /* nops */
	kd_session_set_live(s, t);
	kd_session_set_output(s, capture, NULL);
	s->last_event = bp_event(pc, code);
	s->have_event = 1;
	outlen = 0;
	outbuf[0] = 0;
	*fo = f;
	return s;
}

static void teardown(kd_session *s)
{
	kd_target *t = kd_session_live(s);
	fake *f = t->impl;
	s->live = NULL;   /* the fake has no close op */
	kd_session_destroy(s);
	free(f);
	free(t);
}

static void test_int3_skip(void)
{
	fake *f;
	kd_session *s = setup(&f, BASE + 0x100, 0x80000003u);
	f->mem[0x100] = 0xCC;                            /* DbgBreakPoint's int3 */
	f->script[f->nscript++] = bp_event(BASE + 0x200, 0x80000003u);
	kd_execute(s, "g");
	CHECK(f->ncalls >= 2 && f->calls[0].what == 'S' && f->calls[0].a == BASE + 0x101);
	CHECK(f->calls[1].what == 'C' && f->calls[1].a == 0 && f->calls[1].c == 0x10002);
	CHECK(strstr(outbuf, "Break instruction exception - code 80000003 (first chance)") != NULL);
	teardown(s);

	/* Not an int3 at PC (a breakin that already moved on): no SetContext. */
	s = setup(&f, BASE + 0x100, 0x80000003u);
	f->script[f->nscript++] = bp_event(BASE + 0x200, 0x80000003u);
	kd_execute(s, "g");
	CHECK(f->ncalls >= 1 && f->calls[0].what == 'C');
	teardown(s);
}

static void test_step_off_and_gc(void)
{
	fake *f;
	kd_session *s = setup(&f, BASE + 0x300, 0x80000003u);
	kd_execute(s, "bp 10300 2 \".echo x; gc\"");  /* expression evaluator: hex default */
	kd_bp *bp = kd_bplist_find(kd_session_breakpoints(s), 0);
	CHECK(bp && bp->addr == BASE + 0x300 && bp->pass_left == 2 && bp->command);
	/* we are stopped on our own breakpoint: step off first */
	f->script[f->nscript++] = bp_event(BASE + 0x304, 0x80000004u);   /* the single step */
	f->script[f->nscript++] = bp_event(BASE + 0x300, 0x80000003u);   /* pass 1: counted */
	f->script[f->nscript++] = bp_event(BASE + 0x304, 0x80000004u);   /* step off again */
	f->script[f->nscript++] = bp_event(BASE + 0x300, 0x80000003u);   /* pass 2: runs ".echo x; gc" */
	f->script[f->nscript++] = bp_event(BASE + 0x304, 0x80000004u);
	f->script[f->nscript++] = bp_event(BASE + 0x900, 0x80000003u);   /* a foreign int3 ends it */
	f->mem[0x900] = 0xCC;
	kd_execute(s, "g");
	/* first leg: Continue2 with TraceFlag and no breakpoint written */
	CHECK(f->calls[0].what == 'C' && f->calls[0].a == 1);
	/* then insert and go */
	CHECK(f->calls[1].what == 'W' && f->calls[1].a == BASE + 0x300);
	CHECK(f->calls[2].what == 'C' && f->calls[2].a == 0);
	/* removed at the stop */
	CHECK(f->calls[3].what == 'R' && f->calls[3].a == f->calls[1].b);
	bp = kd_bplist_find(kd_session_breakpoints(s), 0);
	CHECK(bp && bp->hits == 2 && bp->pass_left == 1);
	CHECK(strstr(outbuf, "x\n") != NULL);
	CHECK(strstr(outbuf, "Breakpoint 0 hit") == NULL);   /* the command string speaks */
	CHECK(f->next == f->nscript);
	teardown(s);
}

static void test_step_over_call_and_ba(void)
{
	fake *f;
	kd_session *s = setup(&f, BASE + 0x500, 0x80000004u);
	/* call rel32 at 0x10500 (5 bytes) */
	f->mem[0x500] = 0xE8;
	memset(f->mem + 0x501, 0, 4);
	f->script[f->nscript++] = bp_event(BASE + 0x505, 0x80000003u);   /* the temporary bp */
	kd_execute(s, "p");
	CHECK(f->calls[0].what == 'W' && f->calls[0].a == BASE + 0x505);
	CHECK(f->calls[1].what == 'C' && f->calls[1].a == 0);
	CHECK(strstr(outbuf, "rip=0000000000010505") != NULL);
	CHECK(kd_bplist_count(kd_session_breakpoints(s)) == 0);          /* temp bp gone */

	/* ba w4: DR0 through SetContext, DR7 bits in Continue2 */
	f->ncalls = 0;
	f->next = f->nscript = 0;
	kd_execute(s, "ba w4 10800");
	f->script[f->nscript++] = bp_event(BASE + 0x600, 0x80000004u);
	f->script[0].dr6 = 1;                                            /* DR0 fired */
	kd_execute(s, "g");
	CHECK(f->calls[0].what == 'S' && f->calls[0].b == BASE + 0x800);
	CHECK(f->calls[1].what == 'C' && f->calls[1].b == (0x400ull | 1 | (1ull << 16) | (3ull << 18)));
	CHECK(strstr(outbuf, "Breakpoint 0 hit") != NULL);
	teardown(s);
}

static void test_load_filters(void)
{
	fake *f;
	kd_session *s = setup(&f, BASE + 0x100, 0x80000004u);
	kd_event ld;
	memset(&ld, 0, sizeof(ld));
	ld.kind = KD_EV_LOAD_SYMBOLS;
	ld.pc = BASE + 0x40;
	ld.base = 0xfffff80002000000ull;
	ld.image_size = 0x5000;
	strcpy(ld.text, "\\SystemRoot\\system32\\drivers\\x.sys");
	ld.text_len = strlen(ld.text);
	/* default (sxn ld): printed, the target keeps running */
	f->script[f->nscript++] = ld;
	f->script[f->nscript++] = bp_event(BASE + 0x900, 0x80000003u);
	f->mem[0x900] = 0xCC;
	kd_execute(s, "g");
	CHECK(strstr(outbuf, "ModLoad: fffff800`02000000 fffff800`02005000") != NULL);
	CHECK(f->next == 2);
	/* sxe ld: the load stops */
	kd_execute(s, "sxe ld");
	f->next = f->nscript = 0;
	f->script[f->nscript++] = ld;
	f->script[f->nscript++] = bp_event(BASE + 0x900, 0x80000003u);
	kd_execute(s, "g");
	CHECK(f->next == 1 && kd_session_last_event(s)->kind == KD_EV_LOAD_SYMBOLS);
	/* sxi ld: silent */
	kd_execute(s, "sxi ld");
	outlen = 0;
	outbuf[0] = 0;
	f->next = f->nscript = 0;
	f->script[f->nscript++] = ld;
	f->script[f->nscript++] = bp_event(BASE + 0x900, 0x80000003u);
	kd_execute(s, "g");
	CHECK(f->next == 2 && strstr(outbuf, "ModLoad") == NULL);
	teardown(s);
}

/* Aliases are expanded per command when it runs (WinDbg): the alias set by
 * the first command of a line is visible to the next one. */
static void test_alias_expansion(void)
{
	fake *f;
	kd_session *s = setup(&f, BASE + 0x100, 0x80000003u);
	outlen = 0;
	outbuf[0] = 0;
	/* aS ends at the ';' (as takes the rest of the line, semicolons
	 * included, as in WinDbg). */
	kd_execute(s, "aS foo 123; ? ${foo}");
	CHECK(strstr(outbuf, "Evaluate expression: 291 = 00000000`00000123") != NULL);
	kd_execute(s, "as bar 7");
	outlen = 0;
	outbuf[0] = 0;
	kd_execute(s, "? ${bar} + bar");
	CHECK(strstr(outbuf, "Evaluate expression: 14 = ") != NULL);
	/* A plain alias name at the start of a command is replaced too. */
	kd_execute(s, "as qq ? 0x40");
	outlen = 0;
	outbuf[0] = 0;
	kd_execute(s, "qq");
	CHECK(strstr(outbuf, "Evaluate expression: 64 = ") != NULL);
	/* ad takes the name itself: it must not see the alias's value. */
	kd_execute(s, "ad foo");
	outlen = 0;
	outbuf[0] = 0;
	kd_execute(s, "al");
	CHECK(strstr(outbuf, "foo") == NULL && strstr(outbuf, "qq") != NULL);
	teardown(s);
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* $exentry is the kernel's entry point (nt's AddressOfEntryPoint), not the
 * exception code. */
static void test_exentry(void)
{
	fake *f;
	kd_session *s = setup(&f, BASE + 0x100, 0x80000003u);
	/* A minimal PE32+ header for "nt" at BASE+0x1000. */
	uint8_t *pe = f->mem + 0x1000;
	memset(pe, 0, 0x200);
	pe[0] = 'M';
	pe[1] = 'Z';
	put_le(pe + 0x3c, 0x80, 4);
	memcpy(pe + 0x80, "PE\0\0", 4);
	put_le(pe + 0x84, 0x8664, 2);        /* Machine */
	put_le(pe + 0x94, 0xF0, 2);          /* SizeOfOptionalHeader */
	put_le(pe + 0x98, 0x20b, 2);         /* PE32+ */
	put_le(pe + 0x98 + 16, 0x345, 4);    /* AddressOfEntryPoint */
	put_le(pe + 0x98 + 24, BASE + 0x1000, 8);   /* ImageBase */
	put_le(pe + 0x98 + 56, 0x1000, 4);   /* SizeOfImage */
	put_le(pe + 0x98 + 60, 0x200, 4);    /* SizeOfHeaders */
	struct sym_modset *set = kd_modules_set(s);
	CHECK(set != NULL);
	sym_module *m = NULL;
	CHECK(set && sym_modset_add(set, "nt", "ntoskrnl.exe", BASE + 0x1000, 0x1000, &m) == 0);
	uint64_t v = 0;
	CHECK(kd_eval(s, "$exentry", &v, NULL) == 0);
	CHECK(v == BASE + 0x1000 + 0x345);
	teardown(s);
}

/* kd_execute reports the first failing command of a line, but still runs
 * the rest of a ';' line (WinDbg); .if/.for see the status. */
static void test_execute_status(void)
{
	fake *f;
	kd_session *s = setup(&f, BASE + 0x100, 0x80000003u);
	outlen = 0;
	outbuf[0] = 0;
	CHECK(kd_execute(s, "? 0x11") == 0);
	CHECK(kd_execute(s, "? 0x12; nosuchcommand; ? 0x13") < 0);
	CHECK(strstr(outbuf, "= 00000000`00000012") && strstr(outbuf, "= 00000000`00000013"));
	CHECK(kd_execute(s, "? 0x14 + (") < 0);
	CHECK(kd_execute(s, ".if (1) { nosuchcommand }") < 0);
	CHECK(kd_execute(s, ".if (0) { nosuchcommand } .else { ? 1 }") == 0);
	CHECK(kd_execute(s, ".for (r $t0 = 0; @$t0 < 3; r $t0 = @$t0 + 1) { ? @$t0 }") == 0);
	teardown(s);
}

/* q stops everything after it: the rest of the line, of the { } block it
 * is in, and of the enclosing loop. */
static void test_quit_stops_line(void)
{
	fake *f;
	kd_session *s = setup(&f, BASE + 0x100, 0x80000003u);
	outlen = 0;
	outbuf[0] = 0;
	kd_execute(s, "r $t1 = 0; .while (@$t1 < 5) { r $t1 = @$t1 + 1; .if (@$t1 == 2) { q; ? 0x77 }; ? 0x76 }; ? 0x78");
	CHECK(s->quit);
	CHECK(s->tregs[1] == 2);
	CHECK(strstr(outbuf, "00000077") == NULL && strstr(outbuf, "00000078") == NULL);
	/* one ? 0x76 from the first iteration only */
	const char *first = strstr(outbuf, "00000076");
	CHECK(first && strstr(first + 1, "00000076") == NULL);
	CHECK(kd_execute(s, "? 0x79") < 0 && strstr(outbuf, "00000079") == NULL);
	teardown(s);
}

int main(void)
{
	test_execute_status();
	test_quit_stops_line();
	test_exentry();
	test_alias_expansion();
	test_load_filters();
	test_int3_skip();
	test_step_off_and_gc();
	test_step_over_call_and_ba();
	if (failures) {
		fprintf(stderr, "%d check(s) failed\n%s\n", failures, outbuf);
		return 1;
	}
	printf("ok\n");
	return 0;
}
