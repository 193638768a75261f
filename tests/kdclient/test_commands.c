/* The memory, script and disassembly commands run through the real
 * session and dispatcher against a fake in-memory target, with their
 * output captured and compared with WinDbg's text. */
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "script.h"
#include "session.h"
#include "target.h"

/* 64-bit: fffff800`00100000; the x86 part of the test moves the window
 * to 80100000.  The third page is unmapped. */
static uint64_t MEM_BASE = 0xfffff80000100000ull;
#define MEM_SIZE 0x3000u
#define HOLE     (MEM_BASE + 0x2000)

typedef struct fake {
	uint8_t mem[MEM_SIZE];
	kd_context ctx;
} fake;

static size_t readable(uint64_t addr, size_t len)
{
	size_t n = 0;
	while (n < len) {
		uint64_t a = addr + n;
		if (a < MEM_BASE || a >= MEM_BASE + MEM_SIZE || (a >= HOLE && a < HOLE + 0x1000))
			break;
		n++;
	}
	return n;
}

static int f_read(kd_target *t, uint64_t addr, void *buf, size_t len, size_t *got)
{
	fake *f = t->impl;
	size_t n = readable(addr, len);
	if (n)
		memcpy(buf, f->mem + (addr - MEM_BASE), n);
	*got = n;
	return n == len ? 0 : kd_target_fail(t, KD_E_PARTIAL, "partial read at %llx",
					      (unsigned long long)(addr + n));
}

static int f_write(kd_target *t, uint64_t addr, const void *buf, size_t len, size_t *done)
{
	fake *f = t->impl;
	size_t n = readable(addr, len);
	if (n)
		memcpy(f->mem + (addr - MEM_BASE), buf, n);
	*done = n;
	return n == len ? 0 : kd_target_fail(t, KD_E_PARTIAL, "partial write");
}

/* Physical memory: the same bytes at physical 0x1000. */
static int f_read_phys(kd_target *t, uint64_t addr, void *buf, size_t len, size_t *got)
{
	return f_read(t, addr - 0x1000 + MEM_BASE, buf, len, got);
}

static int f_get_context(kd_target *t, unsigned cpu, kd_context *out)
{
	(void)cpu;
	*out = ((fake *)t->impl)->ctx;
	return 0;
}

static void f_close(kd_target *t)
{
	free(t->impl);
	free(t);
}

static const kd_target_ops fake_ops = {
	.name = "fake",
	.read_virtual = f_read,
	.write_virtual = f_write,
	.read_physical = f_read_phys,
	.get_context = f_get_context,
	.close = f_close,
};

/* ---- output capture ---- */
static char outbuf[65536];
static size_t outlen;

static void capture(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	if (outlen + len >= sizeof outbuf)
		len = sizeof outbuf - outlen - 1;
	memcpy(outbuf + outlen, text, len);
	outlen += len;
	outbuf[outlen] = 0;
}

static kd_session *S;

/* S: a fresh session on t, the fake f as a stopped target of arch, its
 * output captured.  -1 if the session cannot be created. */
static int open_session(kd_target *t, fake *f, kd_arch arch)
{
	t->ops = &fake_ops;
	t->impl = f;
	t->version.arch = arch;
	t->stopped = 1;
	S = kd_session_create();
	if (!S)
		return -1;
	kd_session_set_live(S, t);
	kd_session_set_output(S, capture, NULL);
	return 0;
}

static void run(const char *cmd, const char *want, int line)
{
	outlen = 0;
	outbuf[0] = 0;
	kd_execute(S, cmd);
	check_count++;
	if (strcmp(outbuf, want) != 0) {
		check_failures++;
		fprintf(stderr, "line %d: %s\n--- got ---\n%s--- want ---\n%s-----------\n",
			line, cmd, outbuf, want);
	}
}
#define RUN(cmd, want) run(cmd, want, __LINE__)

/* Output must contain `want` (for error messages whose wording is the
 * evaluator's). */
static void run_has(const char *cmd, const char *want, int line)
{
	outlen = 0;
	outbuf[0] = 0;
	kd_execute(S, cmd);
	check_count++;
	if (!strstr(outbuf, want)) {
		check_failures++;
		fprintf(stderr, "line %d: %s\n  output [%s] lacks [%s]\n", line, cmd, outbuf, want);
	}
}
#define RUN_HAS(cmd, want) run_has(cmd, want, __LINE__)

int main(void)
{
	fake *f = calloc(1, sizeof *f);
	kd_target *t = calloc(1, sizeof *t);
	if (!f || !t)
		return 1;
	/* An MZ header at the start, code at +0x100, strings at +0x800. */
	static const uint8_t mz[16] = { 0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00,
					0x04, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00 };
	memcpy(f->mem, mz, sizeof mz);
	static const uint8_t code[] = { 0x48, 0x83, 0xec, 0x28, 0x33, 0xc0, 0x48, 0x8b, 0x44, 0x24, 0x20,
					0xe8, 0xf0, 0xfe, 0xff, 0xff, 0x48, 0x83, 0xc4, 0x28, 0xc3 };
	memcpy(f->mem + 0x100, code, sizeof code);
	strcpy((char *)f->mem + 0x800, "Hello, kd");
	const char *w = "Wide";
	for (size_t i = 0; i <= strlen(w); i++)
		f->mem[0x900 + 2 * i] = (uint8_t)w[i];
	f->mem[0x1ff8] = 0x11;   /* last qword before the hole */
	f->ctx.arch = KD_ARCH_X64;
	f->ctx.size = 0x4d0;
	kd_context_set(&f->ctx, "rip", MEM_BASE + 0x100);
	kd_context_set(&f->ctx, "rsp", MEM_BASE + 0x800);
	kd_context_set(&f->ctx, "rax", 0x10);
	if (open_session(t, f, KD_ARCH_X64) < 0)
		return 1;

	/* d* */
	RUN("db fffff800`00100000 L10",
	    "fffff800`00100000  4d 5a 90 00 03 00 00 00-04 00 00 00 ff ff 00 00  MZ..............\n");
	RUN("dd fffff800`00100000 L4", "fffff800`00100000  00905a4d 00000003 00000004 0000ffff\n");
	/* dd without an address continues after the last dump */
	RUN("dd", "fffff800`00100010  00000000 00000000 00000000 00000000\n"
		  "fffff800`00100020  00000000 00000000 00000000 00000000\n"
		  "fffff800`00100030  00000000 00000000 00000000 00000000\n"
		  "fffff800`00100040  00000000 00000000 00000000 00000000\n"
		  "fffff800`00100050  00000000 00000000 00000000 00000000\n"
		  "fffff800`00100060  00000000 00000000 00000000 00000000\n"
		  "fffff800`00100070  00000000 00000000 00000000 00000000\n"
		  "fffff800`00100080  00000000 00000000 00000000 00000000\n");
	RUN("dq fffff800`00100000 fffff800`0010000f", "fffff800`00100000  00000003`00905a4d 0000ffff`00000004\n");
	RUN("dw fffff800`00100000 L3", "fffff800`00100000  5a4d 0090 0003\n");
	/* the unmapped page shows as question marks, never as data */
	RUN("dq fffff800`00101ff8 L3",
	    "fffff800`00101ff8  00000000`00000011 ????????`????????\n"
	    "fffff800`00102008  ????????`????????\n");
	/* lines follow the start address, unaligned */
	RUN("db fffff800`00101ffc L8",
	    "fffff800`00101ffc  00 00 00 00 ?? ?? ?? ??                          ....????\n");
	RUN("db fffff800`00100001 L11",
	    "fffff800`00100001  5a 90 00 03 00 00 00 04-00 00 00 ff ff 00 00 00  Z...............\n"
	    "fffff800`00100011  00                                               .\n");
	RUN("da fffff800`00100800", "fffff800`00100800  \"Hello, kd\"\n");
	/* 32 characters a line, as WinDbg's "This program cannot be run in DO" */
	RUN("eza fffff800`00100a00 \"This program cannot be run in DOS mode.\"; da fffff800`00100a00",
	    "fffff800`00100a00  \"This program cannot be run in DO\"\n"
	    "fffff800`00100a20  \"S mode.\"\n");
	RUN("da fffff800`00100a00 L4", "fffff800`00100a00  \"This\"\n");
	RUN("du fffff800`00100900", "fffff800`00100900  \"Wide\"\n");
	RUN("dp @rsp L1", "fffff800`00100800  6b202c6f`6c6c6548\n");
	RUN("dps fffff800`00100000 L1", "fffff800`00100000  00000003`00905a4d\n");
	RUN("!db 1000 L4", "#    1000 4d 5a 90 00                                      MZ..\n");
	RUN("!db [uc] 1000 L2", "#    1000 4d 5a                                            MZ\n");
	RUN_HAS("db zzz", "Couldn't resolve error at 'zzz'");

	/* e* */
	RUN("eb fffff800`00100010 41 42 0x43; db fffff800`00100010 L3",
	    "fffff800`00100010  41 42 43                                         ABC\n");
	RUN("ed fffff800`00100020 12345678 9; dd fffff800`00100020 L2",
	    "fffff800`00100020  12345678 00000009\n");
	RUN("eq fffff800`00100030 fffff800`00100000; dq fffff800`00100030 L1",
	    "fffff800`00100030  fffff800`00100000\n");
	RUN("eza fffff800`00100040 \"hi\\n\"; db fffff800`00100040 L4",
	    "fffff800`00100040  68 69 0a 00                                      hi..\n");
	RUN("eu fffff800`00100050 \"ab\"; du fffff800`00100050 L2",
	    "fffff800`00100050  \"ab\"\n");
	RUN_HAS("eb fffff800`00101fff 1 2", "Memory access error at fffff800`00102000");
	RUN_HAS("eb fffff800`00100010 100", "Overflow");
	/* (a space before '-' still subtracts, as in WinDbg: negatives go in
	 * parentheses) */
	RUN_HAS("eb fffff800`00100010 (-0n200)", "Overflow");
	RUN("eb fffff800`00100010 (-1) (-0n128); ew fffff800`00100012 (-2); db fffff800`00100010 L4",
	    "fffff800`00100010  ff 80 fe ff                                      ....\n");
	RUN("eb fffff800`00100010 41 42 43 00", "");

	/* f / m / c */
	RUN("f fffff800`00100060 L6 aa bb; db fffff800`00100060 L8",
	    "fffff800`00100060  aa bb aa bb aa bb 00 00                          ........\n");
	RUN("m fffff800`00100060 L4 fffff800`00100070; db fffff800`00100070 L4",
	    "fffff800`00100070  aa bb aa bb                                      ....\n");
	RUN("c fffff800`00100060 L8 fffff800`00100070",
	    "fffff800`00100064 aa - fffff800`00100074 00\n"
	    "fffff800`00100065 bb - fffff800`00100075 00\n");
	RUN_HAS("c fffff800`00101ff0 L20 fffff800`00100000", "Memory access error at fffff800`00102000");
	RUN_HAS("f fffff800`00100060 L2 100", "Overflow");

	/* s */
	RUN("s -a fffff800`00100000 L1000 \"kd\"",
	    "fffff800`00100807  6b 64 00 00 00 00 00 00-00 00 00 00 00 00 00 00  kd..............\n");
	RUN("s -[1]a fffff800`00100000 L1000 \"kd\"", "fffff800`00100807\n");
	RUN_HAS("s -[1 fffff800`00100000 L10 1", "missing ']'");
	RUN("s -d fffff800`00100000 L400 12345678",
	    "fffff800`00100020  12345678 00000009 00000000 00000000\n");
	RUN("s -b fffff800`00101ff0 L20 11", "fffff800`00101ff8  11 00 00 00 00 00 00 01-?? ?? ?? ?? ?? ?? ?? ??  ........????????\n");

	/* ? */
	RUN("? 1+2*3", "Evaluate expression: 7 = 00000000`00000007\n");
	RUN("? @rax - 0n16", "Evaluate expression: 0 = 00000000`00000000\n");
	RUN("? poi(@rsp) & ffff", "Evaluate expression: 25928 = 00000000`00006548\n");
	RUN_HAS("? 1 +", "Syntax error");

	/* .printf / .echo / control flow */
	RUN(".printf \"%ma|%mu|%x|%p\\n\", fffff800`00100800, fffff800`00100900, 0n255, @rip",
	    "Hello, kd|Wide|ff|fffff80000100100\n");
	RUN(".echo plain words", "plain words\n");
	RUN(".printf /D \"<b>%x</b> &lt;ok&gt;\\n\", 0n26", "1a <ok>\n");
	RUN(".printf /ow \"warn\\n\"", "warn\n");
	RUN(".if (@rax == 10) { .echo yes } .else { .echo no }", "yes\n");
	RUN(".if (0) { .echo a } .elsif (1) { .echo b } .else { .echo c }", "b\n");
	RUN(".if (0) { .echo a } .else { .echo c }; .echo after", "c\nafter\n");
	RUN(".if (1) { .echo a } .elsif (poi(0)) { .echo b } .else { .echo c }", "a\n");
	RUN("j @rax == 10 '.echo one; .echo two';'.echo three'", "one\ntwo\n");
	RUN("j 0 '.echo one';'.echo three'", "three\n");
	RUN("j 0 .echo a ; .echo b ; .echo c", "b\nc\n");
	RUN("j 1 .echo a ; .echo b ; .echo c", "a\nc\n");
	RUN(".block { .echo in; .echo block }", "in\nblock\n");
	RUN("r $t1 = 0; .while (@$t1 < 3) { .printf \"%d \", @$t1; r $t1 = @$t1 + 1 }; .echo",
	    "0 1 2 \n");
	RUN(".for (r $t2 = 0; @$t2 < 5; r $t2 = @$t2 + 1) { .if (@$t2 == 3) { .break }; .printf \"%d\", @$t2 }; .echo",
	    "012\n");

	/* .foreach over a string */
	RUN(".foreach /s (v \"10 20 0n30\") { .printf \"%x \", v }; .echo", "10 20 1e \n");
	RUN(".foreach /pS 1 /ps 1 /s (w \"a b c d e\") { .echo w }", "b\nd\n");
	RUN(".foreach /s (v \"1 2 3 4\") { .if (v == 3) { .break }; .echo v }", "1\n2\n");
	RUN_HAS(".foreach (v { dd 0 }) { .echo v }", "only the /s and /f forms");

	/* script file */
	{
		char path[] = "/tmp/kdtest_scriptXXXXXX";
		int fd = mkstemp(path);
		const char *text = "\xef\xbb\xbf$$ comment line\r\n.echo first\r\n.if (1)\n{\n  .echo block\n}\n.else\n{\n  .echo never\n}\n";
		if (fd >= 0) {
			ssize_t wr = write(fd, text, strlen(text));
			(void)wr;
			close(fd);
			char cmd[256];
			snprintf(cmd, sizeof cmd, "$$>< %s", path);
			RUN(cmd, "first\nblock\n");
			unlink(path);
		}
		char path2[] = "/tmp/kdtest_scriptXXXXXX";
		fd = mkstemp(path2);
		text = ".printf \"%x %x\\n\", $arg1, ${$arg2} + 1\n.echo $arg3\n";
		if (fd >= 0) {
			ssize_t wr = write(fd, text, strlen(text));
			(void)wr;
			close(fd);
			char cmd[256];
			snprintf(cmd, sizeof cmd, "$$>a< %s 10 0n20 \"two words\"", path2);
			RUN(cmd, "10 15\ntwo words\n");
			unlink(path2);
		}
	}

	/* alias table commands */
	RUN("as Foo nt!NtCreateFile+10; .echo x", "");   /* as takes the rest of the line */
	RUN("aS ${/v:Bar} \"q r\"; al",
	    "  Alias            Value\n  -------          -------\n"
	    "  Foo              nt!NtCreateFile+10; .echo x\n"
	    "  Bar              q r\n");
	/* what the engine calls before dispatching each command */
	{
		char x[256];
		CHECK(kd_lang_expand_aliases(S, "? ${Bar} Foo", x, sizeof x) == 0);
		CHECK_STR(x, "? q r nt!NtCreateFile+10; .echo x");
		CHECK(kd_lang_expand_aliases(S, "? 1", x, 3) < 0);
	}
	RUN("ad Foo; ad /q Bar; al", "No aliases\n");
	RUN_HAS("ad Nope", "no alias named 'Nope'");

	/* .logopen / .logappend / .logclose: the log gets the output */
	{
		char logp[] = "/tmp/kdtest_logXXXXXX";
		int fd = mkstemp(logp);
		if (fd >= 0) {
			close(fd);
			char cmd[256], want[512];
			snprintf(cmd, sizeof cmd, ".logopen %s; .echo logged line", logp);
			snprintf(want, sizeof want, "Opened log file '%s'\nlogged line\n", logp);
			RUN(cmd, want);
			snprintf(want, sizeof want, "Closing open log file %s\n", logp);
			RUN(".logclose", want);
			RUN(".echo not logged", "not logged\n");
			snprintf(cmd, sizeof cmd, ".logappend %s; .echo appended; .logclose", logp);
			outlen = 0;
			kd_execute(S, cmd);
			FILE *lf = fopen(logp, "r");
			char text[1024] = "";
			size_t n = lf ? fread(text, 1, sizeof text - 1, lf) : 0;
			text[n] = 0;
			if (lf)
				fclose(lf);
			CHECK(strstr(text, "logged line\n") != NULL);
			CHECK(strstr(text, "appended\n") != NULL);
			CHECK(strstr(text, "not logged") == NULL);
			unlink(logp);
		}
	}

	/* u */
	RUN("u fffff800`00100100 L3",
	    "fffff800`00100100 4883ec28        sub     rsp,28h\n"
	    "fffff800`00100104 33c0            xor     eax,eax\n"
	    "fffff800`00100106 488b442420      mov     rax,qword ptr [rsp+20h]\n");
	RUN("u L2",
	    "fffff800`0010010b e8f0feffff      call    fffff800`00100000\n"
	    "fffff800`00100110 4883c428        add     rsp,28h\n");
	RUN("u fffff800`00100100 L0", "");
	RUN("u fffff800`00100100 fffff800`00100105",
	    "fffff800`00100100 4883ec28        sub     rsp,28h\n"
	    "fffff800`00100104 33c0            xor     eax,eax\n");
	RUN("ub fffff800`00100115 L2",
	    "fffff800`00100110 4883c428        add     rsp,28h\n"
	    "fffff800`00100114 c3              ret\n");
	RUN("u fffff800`00101ffe L3",
	    "fffff800`00101ffe 0001            add     byte ptr [rcx],al\n"
	    "fffff800`00102000 ??              ???\n"
	    "fffff800`00102001 ??              ???\n");

	kd_session_destroy(S);

	/* x86: 8-digit addresses, dd/dps/u in 32-bit shapes. */
	MEM_BASE = 0x80100000u;
	f = calloc(1, sizeof *f);
	t = calloc(1, sizeof *t);
	if (!f || !t)
		return 1;
	static const uint8_t code32[] = { 0x8b, 0xff, 0x55, 0x8b, 0xec, 0x83, 0xec, 0x10, 0xc2, 0x08, 0x00 };
	memcpy(f->mem + 0x100, code32, sizeof code32);
	memcpy(f->mem + 0x200, "\x00\x01\x10\x80\x34\x12\x00\x00", 8);
	f->ctx.arch = KD_ARCH_X86;
	f->ctx.size = 0x2cc;
	kd_context_set(&f->ctx, "eip", 0x80100100u);
	if (open_session(t, f, KD_ARCH_X86) < 0)
		return 1;
	RUN("dd 80100200 L2", "80100200  80100100 00001234\n");
	RUN("dp 80100200 L2", "80100200  80100100 00001234\n");
	RUN("db 80100200 L4", "80100200  00 01 10 80                                      ....\n");
	RUN("? 80100000", "Evaluate expression: 2148532224 = 80100000\n");
	RUN(".printf \"%p\\n\", 80100000", "80100000\n");
	RUN("u 80100100 L4",
	    "80100100 8bff            mov     edi,edi\n"
	    "80100102 55              push    ebp\n"
	    "80100103 8bec            mov     ebp,esp\n"
	    "80100105 83ec10          sub     esp,10h\n");
	RUN("u", "80100108 c20800          ret     8\n"
		 "8010010b 0000            add     byte ptr [eax],al\n"
		 "8010010d 0000            add     byte ptr [eax],al\n"
		 "8010010f 0000            add     byte ptr [eax],al\n"
		 "80100111 0000            add     byte ptr [eax],al\n"
		 "80100113 0000            add     byte ptr [eax],al\n"
		 "80100115 0000            add     byte ptr [eax],al\n"
		 "80100117 0000            add     byte ptr [eax],al\n");
	kd_session_destroy(S);
	return check_report("test_commands");
}
