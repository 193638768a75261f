/* The stack and nt commands through the real session and dispatcher
 * against fake targets, output compared with WinDbg's columns:
 * x86 k/kb/kn/kc/.frame over an EBP chain (the VM is x64, so this is where
 * the 32-bit columns are checked), x64 !vtop/!pte over hand-built page
 * tables, .cxr from a CONTEXT record in memory. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "target.h"

static int failures;
static char out[65536];
static size_t outlen;
static kd_session *S;

static void capture(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	if (outlen + len < sizeof(out)) {
		memcpy(out + outlen, text, len);
		outlen += len;
		out[outlen] = 0;
	}
}

static void run(const char *cmd, const char *want, int line)
{
	outlen = 0;
	out[0] = 0;
	kd_execute(S, cmd);
	if (strcmp(out, want)) {
		fprintf(stderr, "line %d: %s\n--- got ---\n%s--- want ---\n%s", line, cmd, out, want);
		failures++;
	}
}
#define RUN(c, w) run(c, w, __LINE__)

/* Virtual window [vbase, vbase + 0x4000), physical [0, 0x8000). */
typedef struct fake {
	uint64_t vbase;
	uint8_t vmem[0x4000];
	uint8_t pmem[0x8000];
	kd_context ctx;
	uint64_t cr3;
} fake;

static int f_read(kd_target *t, uint64_t a, void *buf, size_t len, size_t *got)
{
	fake *f = t->impl;
	*got = 0;
	if (a < f->vbase || a - f->vbase + len > sizeof(f->vmem))
		return kd_target_fail(t, KD_E_PARTIAL, "Memory access error at %llx", (unsigned long long)a);
	memcpy(buf, f->vmem + (a - f->vbase), len);
	*got = len;
	return 0;
}
static int f_read_phys(kd_target *t, uint64_t a, void *buf, size_t len, size_t *got)
{
	fake *f = t->impl;
	*got = 0;
	if (a + len > sizeof(f->pmem))
		return kd_target_fail(t, KD_E_PARTIAL, "physical read error");
	memcpy(buf, f->pmem + a, len);
	*got = len;
	return 0;
}
static int f_ctx(kd_target *t, unsigned cpu, kd_context *c) { (void)cpu; *c = ((fake *)t->impl)->ctx; return 0; }
static int f_special(kd_target *t, unsigned cpu, kd_special_regs *r)
{
	(void)cpu;
	memset(r, 0, sizeof(*r));
	r->cr3 = ((fake *)t->impl)->cr3;
	return 0;
}
static void f_close(kd_target *t) { (void)t; }
static const kd_target_ops fake_ops = { .name = "fake", .read_virtual = f_read, .read_physical = f_read_phys,
	.get_context = f_ctx, .get_special = f_special, .close = f_close };

/* The fake as a stopped target of the given architecture. */
static void fake_target(kd_target *t, fake *f, kd_arch arch, uint16_t machine)
{
	t->ops = &fake_ops;
	t->impl = f;
	t->version.arch = arch;
	t->version.machine = machine;
	t->stopped = 1;
}

/* A fresh session S on t, its output captured. */
static void open_session(kd_target *t)
{
	S = kd_session_create();
	kd_session_set_live(S, t);
	kd_session_set_output(S, capture, NULL);
}

static void p32(uint8_t *b, uint32_t v) { for (int i = 0; i < 4; i++) b[i] = (uint8_t)(v >> (8 * i)); }
static void p64(uint8_t *b, uint64_t v) { for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i)); }

static void x86_stacks(void)
{
	static fake f;
	static kd_target t;
	memset(&f, 0, sizeof(f));
	f.vbase = 0x0012c000;
	/* EBP chain: ebp0 = 12f100 -> [12f200, ret 401234, args 1 2 3]
	 *            ebp1 = 12f200 -> [12f300, ret 402345, args 4 5 6]
	 *            ebp2 = 12f300 -> [0, ret 0] */
	/* Target address a lives at vmem[a - vbase]; index from the base
	 * instead of forming a pointer before the array (undefined). */
#define M(a) (f.vmem + ((a) - f.vbase))
	p32(M(0x12f100), 0x12f200); p32(M(0x12f104), 0x401234);
	p32(M(0x12f108), 1); p32(M(0x12f10c), 2); p32(M(0x12f110), 3);
	p32(M(0x12f200), 0x12f300); p32(M(0x12f204), 0x402345);
	p32(M(0x12f208), 4); p32(M(0x12f20c), 5); p32(M(0x12f210), 6);
	f.ctx.arch = KD_ARCH_X86;
	f.ctx.size = 0x2cc;
	kd_context_set(&f.ctx, "eip", 0x401000);
	kd_context_set(&f.ctx, "esp", 0x12f0f0);
	kd_context_set(&f.ctx, "ebp", 0x12f100);
	fake_target(&t, &f, KD_ARCH_X86, 0x14c);
	open_session(&t);
	RUN("k", " # ChildEBP RetAddr  \n"
	         "WARNING: Frame IP not in any known module. Following frames may be wrong.\n"
	         "00 0012f100 00401234 0x401000\n"
	         "01 0012f200 00402345 0x401234\n"
	         "02 0012f300 00000000 0x402345\n");
	RUN("kb", " # ChildEBP RetAddr  Args to Child              \n"
	          "WARNING: Frame IP not in any known module. Following frames may be wrong.\n"
	         "00 0012f100 00401234 00000001 00000002 00000003 0x401000\n"
	          "01 0012f200 00402345 00000004 00000005 00000006 0x401234\n"
	          "02 0012f300 00000000 00000000 00000000 00000000 0x402345\n");
	RUN("kn 2", " # ChildEBP RetAddr  \n"
	            "WARNING: Frame IP not in any known module. Following frames may be wrong.\n"
	         "00 0012f100 00401234 0x401000\n"
	            "01 0012f200 00402345 0x401234\n");
	RUN("k L", " # ChildEBP RetAddr  \n"
	           "WARNING: Frame IP not in any known module. Following frames may be wrong.\n"
	           "00 0012f100 00401234 0x401000\n"
	           "01 0012f200 00402345 0x401234\n"
	           "02 0012f300 00000000 0x402345\n");
	RUN("kbn 1", " # ChildEBP RetAddr  Args to Child              \n"
	             "WARNING: Frame IP not in any known module. Following frames may be wrong.\n"
	             "00 0012f100 00401234 00000001 00000002 00000003 0x401000\n");
	RUN("kc", " # Call Site\n"
	    "WARNING: Frame IP not in any known module. Following frames may be wrong.\n"
	    "00 0x401000\n01 0x401234\n02 0x402345\n");
	RUN(".frame 1", "01 0012f200 00402345 0x401234\n");
	/* k = ebp esp eip: start one frame up */
	RUN("k = 12f200 12f108 401234", " # ChildEBP RetAddr  \n"
	                               "WARNING: Frame IP not in any known module. Following frames may be wrong.\n"
	         "00 0012f200 00402345 0x401234\n"
	                               "01 0012f300 00000000 0x402345\n");
	/* .trap: an x86 KTRAP_FRAME at 12e000 (kernel-mode trap: ESP is the
	 * address after EFlags), then k continues from its EBP/EIP */
	uint8_t *tf = M(0x12e000);
	p32(tf + 0x60, 0x12f200);   /* Ebp */
	p32(tf + 0x68, 0x401234);   /* Eip */
	p32(tf + 0x6c, 0x8);        /* SegCs: kernel */
	p32(tf + 0x70, 0x202);      /* EFlags */
	p32(tf + 0x5c, 0xb0b0);     /* Ebx */
	outlen = 0;
	kd_execute(S, ".trap 12e000");
	kd_context c;
	uint64_t v = 0, sp = 0;
	kd_session_get_context(S, &c);
	kd_context_get(&c, "ebx", &v);
	kd_context_get(&c, "esp", &sp);
	if (v != 0xb0b0 || sp != 0x12e074) {
		fprintf(stderr, ".trap: ebx %llx esp %llx\n", (unsigned long long)v, (unsigned long long)sp);
		failures++;
	}
	RUN("k", " # ChildEBP RetAddr  \n"
	         "WARNING: Frame IP not in any known module. Following frames may be wrong.\n"
	         "00 0012f200 00402345 0x401234\n"
	         "01 0012f300 00000000 0x402345\n");
	RUN(".trap", "");
	kd_session_set_live(S, NULL);
	kd_session_destroy(S);
}

static void x64_paging(void)
{
	static fake f;
	static kd_target t;
	memset(&f, 0, sizeof(f));
	f.vbase = 0xfffff80000100000ull;
	/* CR3 0x1000; va fffff800`00100123 -> PML4[0x1f0] 0x2000 -> PDPT[0] 0x3000
	 * -> PD[0] 0x4000 -> PT[0x100] page 0x5000 (present, writable, NX) */
	f.cr3 = 0x1000;
	p64(f.pmem + 0x1000 + 8 * 0x1f0, 0x2000 | 0x3);
	p64(f.pmem + 0x2000, 0x3000 | 0x3);
	p64(f.pmem + 0x3000, 0x4000 | 0x3);
	p64(f.pmem + 0x4000 + 8 * 0x100, 0x8000000000005000ull | 0x63);
	p64(f.pmem + 0x4000 + 8 * 0x101, 0x6000 | 0x800);            /* transition */
	f.ctx.arch = KD_ARCH_X64;
	f.ctx.size = 0x4d0;
	kd_context_set(&f.ctx, "rip", 0xfffff80000101000ull);
	kd_context_set(&f.ctx, "rsp", 0xfffff80000102000ull);
	/* a CONTEXT record at fffff800`00103000 */
	uint8_t *rec = f.vmem + 0x3000;
	p64(rec + 0x98, 0xfffff80000102800ull);   /* Rsp */
	p64(rec + 0xf8, 0xfffff80000101234ull);   /* Rip */
	p64(rec + 0x78, 0x42);                    /* Rax */
	fake_target(&t, &f, KD_ARCH_X64, 0x8664);
	open_session(&t);
	RUN("!vtop 0 fffff800`00100123",
	    "Amd64VtoP: Virt fffff800`00100123, pagedir 00000000`00001000\n"
	    "Amd64VtoP: PML4E 00000000`00001f80\n"
	    "Amd64VtoP: PDPE 00000000`00002000\n"
	    "Amd64VtoP: PDE 00000000`00003000\n"
	    "Amd64VtoP: PTE 00000000`00004800\n"
	    "Amd64VtoP: Mapped phys 00000000`00005123\n"
	    "Virtual address fffff80000100123 translates to physical address 5123.\n");
	RUN("!vtop 1000 fffff800`00101000",
	    "Amd64VtoP: Virt fffff800`00101000, pagedir 00000000`00001000\n"
	    "Amd64VtoP: PML4E 00000000`00001f80\n"
	    "Amd64VtoP: PDPE 00000000`00002000\n"
	    "Amd64VtoP: PDE 00000000`00003000\n"
	    "Amd64VtoP: PTE 00000000`00004808\n"
	    "Amd64VtoP: Mapped phys 00000000`00006000\n"
	    "Virtual address fffff80000101000 translates to physical address 6000.\n");
	RUN("!vtop 0 fffff800`00102000",
	    "Amd64VtoP: Virt fffff800`00102000, pagedir 00000000`00001000\n"
	    "Amd64VtoP: PML4E 00000000`00001f80\n"
	    "Amd64VtoP: PDPE 00000000`00002000\n"
	    "Amd64VtoP: PDE 00000000`00003000\n"
	    "Amd64VtoP: PTE 00000000`00004810\n"
	    "Amd64VtoP: zero PTE\n"
	    "Virtual address fffff80000102000 translation fails, error 0xD0000147.\n");
	/* no self-map in these tables: entries shown by physical address */
	RUN("!pte fffff800`00100123",
	    "                                           VA fffff80000100123\n"
	    "PXE at (phys) 1F80         PPE at (phys) 2000         PDE at (phys) 3000         PTE at (phys) 4800\n"
	    "contains 0000000000002003  contains 0000000000003003  contains 0000000000004003  contains 8000000000005063\n"
	    "pfn 2         -------KWEV  pfn 3         -------KWEV  pfn 4         -------KWEV  pfn 5         ---DA--KW-V\n");
	outlen = 0;
	kd_execute(S, ".cxr fffff800`00103000");
	if (!kd_session_has_context_override(S)) {
		fprintf(stderr, ".cxr did not install the context\n");
		failures++;
	}
	kd_context c;
	uint64_t v = 0;
	kd_session_get_context(S, &c);
	kd_context_get(&c, "rip", &v);
	if (v != 0xfffff80000101234ull) {
		fprintf(stderr, ".cxr rip %llx\n", (unsigned long long)v);
		failures++;
	}
	RUN(".cxr", "");
	if (kd_session_has_context_override(S)) {
		fprintf(stderr, ".cxr without argument kept the override\n");
		failures++;
	}
	kd_session_set_live(S, NULL);
	kd_session_destroy(S);

	/* With Windows' self-map (PML4 entry 0x1ed pointing at the PML4) the
	 * entries are shown at their virtual addresses: the classic values
	 * FFFFF6FB`7DBEDF80 ... for the fffff800`00xxxxxx range. */
	p64(f.pmem + 0x1000 + 8 * 0x1ed, 0x1000 | 0x3);
	open_session(&t);
	RUN("!pte fffff800`00100123",
	    "                                           VA fffff80000100123\n"
	    "PXE at FFFFF6FB7DBEDF80    PPE at FFFFF6FB7DBF0000    PDE at FFFFF6FB7E000000    PTE at FFFFF6FC00000800\n"
	    "contains 0000000000002003  contains 0000000000003003  contains 0000000000004003  contains 8000000000005063\n"
	    "pfn 2         -------KWEV  pfn 3         -------KWEV  pfn 4         -------KWEV  pfn 5         ---DA--KW-V\n");
	kd_session_set_live(S, NULL);
	kd_session_destroy(S);
}

int main(void)
{
	x86_stacks();
	x64_paging();
	if (failures) {
		fprintf(stderr, "%d failure(s)\n", failures);
		return 1;
	}
	printf("ok\n");
	return 0;
}
