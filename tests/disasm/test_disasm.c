/* Unit tests for disasm/: known x64 and x86 byte sequences against the
 * lines WinDbg prints for them, symbolized branch targets and RIP-relative
 * operands, the step helpers and the backwards walk of `ub`. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "disasm.h"

static int failures, checks;

#define CHECK(c) do { checks++; if (!(c)) { failures++; \
	fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); } } while (0)

/* A fake symbol table: nt!KeWaitForSingleObject at fffff800`00101300,
 * nt!KiFoo (data) at fffff800`00103000, 32-bit nt!KeTickCount at 8055a000. */
static int fake_symbolize(void *ctx, uint64_t addr, char *buf, size_t len)
{
	(void)ctx;
	static const struct { uint64_t a, size; const char *name; } syms[] = {
		{ 0xfffff80000101300ull, 0x100, "nt!KeWaitForSingleObject" },
		{ 0xfffff80000103000ull, 0x100, "nt!KiFoo" },
		{ 0xfffff80000101230ull, 0x60, "nt!NtCreateFile" },
		{ 0x8055a000u, 4, "nt!KeTickCount" },
		{ 0x80501000u, 0x100, "nt!KiBar" },
	};
	for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++)
		if (addr >= syms[i].a && addr < syms[i].a + syms[i].size) {
			if (addr == syms[i].a)
				snprintf(buf, len, "%s", syms[i].name);
			else
				snprintf(buf, len, "%s+0x%" PRIx64, syms[i].name, addr - syms[i].a);
			return 1;
		}
	return 0;
}

/* Decode `hex` at addr and compare the WinDbg line. */
static void line(kd_disasm *d, uint64_t addr, const char *hex, const char *want, int lineno)
{
	uint8_t code[32];
	size_t n = 0;
	for (const char *h = hex; h[0] && h[1] && n < sizeof code; h += 2) {
		unsigned v;
		sscanf(h, "%2x", &v);
		code[n++] = (uint8_t)v;
	}
	kd_insn in;
	char buf[512];
	kd_disasm_one(d, code, n, addr, &in);
	kd_disasm_format(d, &in, buf, sizeof buf);
	checks++;
	if (strcmp(buf, want) != 0) {
		failures++;
		fprintf(stderr, "line %d:\n  got  [%s]\n  want [%s]\n", lineno, buf, want);
	}
	if (in.length != n) {
		failures++;
		fprintf(stderr, "line %d: length %u, want %zu\n", lineno, in.length, n);
	}
}
#define LINE(d, a, hex, want) line(d, a, hex, want, __LINE__)

int main(void)
{
	kd_disasm *d64, *d32, *d16;
	char err[128];
	if (kd_disasm_open(64, &d64, err, sizeof err) < 0 ||
	    kd_disasm_open(32, &d32, err, sizeof err) < 0 ||
	    kd_disasm_open(16, &d16, err, sizeof err) < 0) {
		fprintf(stderr, "open: %s\n", err);
		return 1;
	}
	CHECK(kd_disasm_open(8, &d16, err, sizeof err) < 0);
	kd_disasm_set_symbolizer(d64, fake_symbolize, NULL);
	kd_disasm_set_symbolizer(d32, fake_symbolize, NULL);

	const uint64_t a = 0xfffff80000101234ull;
	LINE(d64, a, "4883ec28", "fffff800`00101234 4883ec28        sub     rsp,28h");
	LINE(d64, a, "488b442420", "fffff800`00101234 488b442420      mov     rax,qword ptr [rsp+20h]");
	LINE(d64, a, "48895c2408", "fffff800`00101234 48895c2408      mov     qword ptr [rsp+8],rbx");
	LINE(d64, a, "488d4c2420", "fffff800`00101234 488d4c2420      lea     rcx,[rsp+20h]");
	LINE(d64, a, "488945f0", "fffff800`00101234 488945f0        mov     qword ptr [rbp-10h],rax");
	LINE(d64, a, "4881ec88000000", "fffff800`00101234 4881ec88000000  sub     rsp,88h");
	LINE(d64, a, "4881c4a0000000", "fffff800`00101234 4881c4a0000000  add     rsp,0A0h");
	LINE(d64, a, "c744247020000000", "fffff800`00101234 c744247020000000 mov     dword ptr [rsp+70h],20h");
	LINE(d64, a, "83c0f0", "fffff800`00101234 83c0f0          add     eax,0FFFFFFF0h");
	LINE(d64, a, "4883e4f0", "fffff800`00101234 4883e4f0        and     rsp,0FFFFFFFFFFFFFFF0h");
	LINE(d64, a, "b8ffffffff", "fffff800`00101234 b8ffffffff      mov     eax,0FFFFFFFFh");
	LINE(d64, a, "48b80000100000f8ffff", "fffff800`00101234 48b80000100000f8ffff mov     rax,0FFFFF80000100000h");
	LINE(d64, a, "33c0", "fffff800`00101234 33c0            xor     eax,eax");
	LINE(d64, a, "c3", "fffff800`00101234 c3              ret");
	LINE(d64, a, "cc", "fffff800`00101234 cc              int     3");
	LINE(d64, a, "0f01f8", "fffff800`00101234 0f01f8          swapgs");
	LINE(d64, a, "65488b042588010000", "fffff800`00101234 65488b042588010000 mov     rax,qword ptr gs:[188h]");
	LINE(d64, a, "488b04c8", "fffff800`00101234 488b04c8        mov     rax,qword ptr [rax+rcx*8]");
	LINE(d64, a, "8b8481c0000000", "fffff800`00101234 8b8481c0000000  mov     eax,dword ptr [rcx+rax*4+0C0h]");
	LINE(d64, a, "c6400a0a", "fffff800`00101234 c6400a0a        mov     byte ptr [rax+0Ah],0Ah");
	/* Direct branches: symbol and address, or the bare address. */
	LINE(d64, a, "e8c7000000", "fffff800`00101234 e8c7000000      call    nt!KeWaitForSingleObject (fffff800`00101300)");
	LINE(d64, a, "e8d7000000", "fffff800`00101234 e8d7000000      call    nt!KeWaitForSingleObject+0x10 (fffff800`00101310)");
	LINE(d64, a, "74fe", "fffff800`00101234 74fe            je      nt!NtCreateFile+0x4 (fffff800`00101234)");
	LINE(d64, 0xfffff80000200000ull, "ebfe", "fffff800`00200000 ebfe            jmp     fffff800`00200000");
	/* RIP-relative data: symbolized, or the bare address in brackets. */
	LINE(d64, a, "488b05c51d0000", "fffff800`00101234 488b05c51d0000  mov     rax,qword ptr [nt!KiFoo (fffff800`00103000)]");
	LINE(d64, a, "ff15c61d0000", "fffff800`00101234 ff15c61d0000    call    qword ptr [nt!KiFoo (fffff800`00103000)]");
	LINE(d64, 0xfffff80000200000ull, "488d0d00100000", "fffff800`00200000 488d0d00100000  lea     rcx,[fffff800`00201007]");
	LINE(d64, a, "ffd0", "fffff800`00101234 ffd0            call    rax");
	/* string instructions the WinDbg way; SSE movsd untouched */
	LINE(d64, a, "f348ab", "fffff800`00101234 f348ab          rep stos qword ptr [rdi]");
	LINE(d64, a, "f3a4", "fffff800`00101234 f3a4            rep movs byte ptr [rdi],byte ptr [rsi]");
	LINE(d64, a, "ac", "fffff800`00101234 ac              lods    byte ptr [rsi]");
	LINE(d64, a, "f20f100424", "fffff800`00101234 f20f100424      movsd   xmm0,qword ptr [rsp]");
	LINE(d64, a, "0f20d8", "fffff800`00101234 0f20d8          mov     rax,cr3");
	LINE(d64, a, "f0480fb111", "fffff800`00101234 f0480fb111      lock cmpxchg qword ptr [rcx],rdx");

	/* x86 */
	const uint64_t b = 0x80501000u;
	LINE(d32, b, "8bff", "80501000 8bff            mov     edi,edi");
	LINE(d32, b, "55", "80501000 55              push    ebp");
	LINE(d32, b, "8bec", "80501000 8bec            mov     ebp,esp");
	LINE(d32, b, "83ec10", "80501000 83ec10          sub     esp,10h");
	LINE(d32, b, "8b4508", "80501000 8b4508          mov     eax,dword ptr [ebp+8]");
	LINE(d32, b, "8b45fc", "80501000 8b45fc          mov     eax,dword ptr [ebp-4]");
	LINE(d32, b, "a100a05580", "80501000 a100a05580      mov     eax,dword ptr [nt!KeTickCount (8055a000)]");
	LINE(d32, b, "a10000dfff", "80501000 a10000dfff      mov     eax,dword ptr ds:[0FFDF0000h]");
	LINE(d32, b, "64a124010000", "80501000 64a124010000    mov     eax,dword ptr fs:[00000124h]");
	LINE(d32, b, "e8fb8f0500", "80501000 e8fb8f0500      call    nt!KeTickCount (8055a000)");
	LINE(d32, b, "c20800", "80501000 c20800          ret     8");
	LINE(d32, b, "6a00", "80501000 6a00            push    0");
	/* address immediates read as offsets when they name something */
	LINE(d32, b, "6800a05580", "80501000 6800a05580      push    offset nt!KeTickCount (8055a000)");
	LINE(d32, b, "b910105080", "80501000 b910105080      mov     ecx,offset nt!KiBar+0x10 (80501010)");
	LINE(d32, b, "6800000100", "80501000 6800000100      push    10000h");
	LINE(d64, a, "48b90030100000f8ffff", "fffff800`00101234 48b90030100000f8ffff mov     rcx,offset nt!KiFoo (fffff800`00103000)");
	LINE(d16, 0x7c00, "b80000", "00007c00 b80000          mov     ax,0");

	/* Undecodable bytes and unreadable memory. */
	{
		kd_insn in;
		uint8_t bad[] = { 0x0f, 0xff };
		char buf[256];
		CHECK(kd_disasm_one(d64, bad, 1, a, &in) < 0);
		CHECK(in.length == 1);
		kd_disasm_format(d64, &in, buf, sizeof buf);
		checks++;
		if (strcmp(buf, "fffff800`00101234 0f              ???") != 0) {
			failures++;
			fprintf(stderr, "bad: [%s]\n", buf);
		}
		kd_disasm_format_unreadable(d64, a, buf, sizeof buf);
		checks++;
		if (strcmp(buf, "fffff800`00101234 ??              ???") != 0) {
			failures++;
			fprintf(stderr, "unreadable: [%s]\n", buf);
		}
	}

	/* Step helpers. */
	{
		uint8_t call[] = { 0xe8, 0, 0, 0, 0 }, callr[] = { 0xff, 0xd0 },
			ret[] = { 0xc3 }, iretq[] = { 0x48, 0xcf }, movr[] = { 0x48, 0x89, 0xc8 },
			jmp[] = { 0xeb, 0xfe };
		CHECK(kd_disasm_insn_length(d64, call, sizeof call, a) == 5);
		CHECK(kd_disasm_is_call(d64, call, sizeof call, a) == 1);
		CHECK(kd_disasm_is_call(d64, callr, sizeof callr, a) == 1);
		CHECK(kd_disasm_is_call(d64, movr, sizeof movr, a) == 0);
		CHECK(kd_disasm_is_call(d64, jmp, sizeof jmp, a) == 0);
		CHECK(kd_disasm_is_ret(d64, ret, sizeof ret, a) == 1);
		CHECK(kd_disasm_is_ret(d64, iretq, sizeof iretq, a) == 1);
		CHECK(kd_disasm_is_ret(d64, movr, sizeof movr, a) == 0);
		CHECK(kd_disasm_insn_length(d64, call, 3, a) == -1);   /* truncated */
		kd_insn in;
		kd_disasm_one(d64, call, sizeof call, a, &in);
		CHECK(in.has_target && in.target == a + 5);
	}

	/* ub: three instructions before `end`, with junk ahead of them. */
	{
		/* 90 90 | 4883ec28 | 488b442420 | c3 */
		uint8_t code[] = { 0xcc, 0x90, 0x48, 0x83, 0xec, 0x28, 0x48, 0x8b, 0x44, 0x24, 0x20, 0xc3 };
		uint64_t end = 0x1000 + sizeof code;
		CHECK(kd_disasm_back(d64, code, sizeof code, end, 3) == 10);
		CHECK(kd_disasm_back(d64, code, sizeof code, end, 1) == 1);
		CHECK(kd_disasm_back(d64, code, sizeof code, end, 0) == 0);
	}

	kd_disasm_close(d64);
	kd_disasm_close(d32);
	kd_disasm_close(d16);
	printf("test_disasm: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
