/* Unit tests for the x86 walker (kdclient/stack_x86.c): EBP chains, old FPO,
 * frame-data programs (named and CodeView-numbered registers, .raSearch,
 * alignment), on recorded 32-bit stacks. */
#include "testutil.h"
#include "stack_x86.h"

#define CODE_LO 0x401000u
#define CODE_HI 0x410000u
#define STK 0x12f000u   /* stack region [STK, STK + 0x1000) */

typedef struct fake {
	fake_mem mem;
	stack_x86_framedata fd[8]; int nfd;
	stack_x86_fpo fpo[8]; int nfpo;
} fake;

static int rd(void *ctx, uint64_t a, void *b, size_t n) { return fake_read(&((fake *)ctx)->mem, a, b, n); }
static int is_code(void *ctx, uint64_t a) { (void)ctx; return a >= CODE_LO && a < CODE_HI; }
static int find_fd(void *ctx, uint32_t pc, stack_x86_framedata *out)
{
	fake *f = ctx;
	for (int i = 0; i < f->nfd; i++)
		if (pc >= f->fd[i].start && pc < f->fd[i].start + f->fd[i].code_size) { *out = f->fd[i]; return 1; }
	return 0;
}
static int find_fpo(void *ctx, uint32_t pc, stack_x86_fpo *out)
{
	fake *f = ctx;
	for (int i = 0; i < f->nfpo; i++)
		if (pc >= f->fpo[i].start && pc < f->fpo[i].start + f->fpo[i].size) { *out = f->fpo[i]; return 1; }
	return 0;
}
static void init(fake *f) { memset(f, 0, sizeof(*f)); fake_map(&f->mem, STK, 0x1000); }
static void put(fake *f, uint32_t a, uint32_t v) { fake_put32(&f->mem, a, v); }

static void test_ebp_chain(void)
{
	fake f; init(&f);
	stack_x86_io io = { &f, rd, find_fd, find_fpo, is_code };
	/* f0: ebp=STK+0x100 -> [ebp]=STK+0x200, [ebp+4]=0x402000 (args 1,2,3)
	 * f1: ebp=STK+0x200 -> [ebp]=STK+0x300, [ebp+4]=0x403000
	 * f2: ebp=STK+0x300 -> [ebp]=0, [ebp+4]=0 */
	put(&f, STK + 0x100, STK + 0x200); put(&f, STK + 0x104, 0x402000);
	put(&f, STK + 0x108, 1); put(&f, STK + 0x10c, 2); put(&f, STK + 0x110, 3);
	put(&f, STK + 0x200, STK + 0x300); put(&f, STK + 0x204, 0x403000);
	put(&f, STK + 0x300, 0); put(&f, STK + 0x304, 0);
	stack_x86_regs r = { .eip = 0x401010 };
	r.gpr[X86_ESP] = STK + 0xf0; r.gpr[X86_EBP] = STK + 0x100;
	stack_frame fr[8]; size_t n; char err[128];
	CHECK(stack_x86_walk(&io, &r, fr, NULL, 8, &n, err, sizeof(err)) == 0);
	CHECK_EQ(n, 3);
	CHECK_EQ(fr[0].fp, STK + 0x100);
	CHECK_EQ(fr[0].ret, 0x402000);
	CHECK_EQ(fr[0].args[0], 1); CHECK_EQ(fr[0].args[2], 3);
	CHECK_EQ(fr[0].how, STACK_HOW_EBP);
	CHECK_EQ(fr[1].pc, 0x402000);
	CHECK_EQ(fr[1].fp, STK + 0x200);
	CHECK_EQ(fr[2].pc, 0x403000);
	CHECK_EQ(fr[2].ret, 0);
}

static void test_fpo(void)
{
	fake f; init(&f);
	stack_x86_io io = { &f, rd, find_fd, find_fpo, is_code };
	/* FPO function at 0x401000: 2 locals, 1 saved reg, 2 params; its caller
	 * uses EBP.  esp -> [local][local][saved][ret][p1][p2] */
	f.fpo[f.nfpo++] = (stack_x86_fpo){ .start = 0x401000, .size = 0x100, .locals = 2, .params = 2, .saved_regs = 1 };
	uint32_t esp = STK + 0x80;
	put(&f, esp + 12, 0x402222);
	put(&f, esp + 16, 0x11); put(&f, esp + 20, 0x22);
	put(&f, STK + 0x200, 0); put(&f, STK + 0x204, 0);
	stack_x86_regs r = { .eip = 0x401020 };
	r.gpr[X86_ESP] = esp; r.gpr[X86_EBP] = STK + 0x200;
	stack_frame fr[8]; size_t n; char err[128];
	CHECK(stack_x86_walk(&io, &r, fr, NULL, 8, &n, err, sizeof(err)) == 0);
	CHECK_EQ(n, 2);
	CHECK_EQ(fr[0].how, STACK_HOW_FPO);
	CHECK_EQ(fr[0].ret, 0x402222);
	CHECK_EQ(fr[0].ret_loc, esp + 12);
	CHECK_EQ(fr[0].args[0], 0x11);
	CHECK_EQ(fr[1].sp, esp + 16);
	CHECK_EQ(fr[1].fp, STK + 0x200);   /* ebp untouched by an FPO frame */
}

static void test_framedata(void)
{
	fake f; init(&f);
	stack_x86_io io = { &f, rd, find_fd, find_fpo, is_code };
	/* f0 (0x401000): FPO-style, locals 8, saved ebx+esi (8), params 8;
	 * program as MSVC writes it with CodeView register numbers. */
	f.fd[f.nfd++] = (stack_x86_framedata){ .start = 0x401000, .code_size = 0x100, .locals_size = 8,
		.params_size = 8, .saved_regs_size = 8,
		.program = "$T0 .raSearch = $eip $T0 ^ = $esp $T0 4 + =  $20 $T0 12 - ^ =  $23 $T0 16 - ^ = " };
	/* f1 (0x402000): EBP frame program with named registers. */
	f.fd[f.nfd++] = (stack_x86_framedata){ .start = 0x402000, .code_size = 0x100, .locals_size = 0x10,
		.params_size = 4, .saved_regs_size = 4,
		.program = "$T0 $ebp = $eip $T0 4 + ^ = $ebp $T0 ^ = $esp $T0 8 + = $20 $T0 20 - ^ =" };
	/* f2 (0x403000): aligned-stack program (T1 = return slot, T0 aligned). */
	f.fd[f.nfd++] = (stack_x86_framedata){ .start = 0x403000, .code_size = 0x100, .locals_size = 0,
		.params_size = 0, .saved_regs_size = 0,
		.program = "$T1 .raSearch = $T0  $T1 4 - 8 @ = $ebp $T1 4 - ^ = $eip $T1 ^ = $esp $T1 4 + =" };
	uint32_t esp0 = STK + 0x40;
	/* MSVC layout: saved registers below the locals, return address above */
	put(&f, esp0 + 0, 0x5151);           /* saved esi ($T0-16) */
	put(&f, esp0 + 4, 0xb1b1);           /* saved ebx ($T0-12) */
	put(&f, esp0 + 8, 0xdead);           /* locals: not code */
	put(&f, esp0 + 12, 0xbeef);
	put(&f, esp0 + 16, 0x402010);        /* return into f1 */
	put(&f, esp0 + 20, 0xa1); put(&f, esp0 + 24, 0xa2);   /* f0's params */
	uint32_t ebp1 = STK + 0x100;
	put(&f, ebp1 - 20, 0xb2b2);          /* f1 saved ebx at $T0-20 */
	put(&f, ebp1, STK + 0x1fc);          /* f1's caller ebp ($T1 - 4 of f2) */
	put(&f, ebp1 + 4, 0x403010);
	uint32_t t1 = STK + 0x200;           /* f2's return slot */
	put(&f, t1 - 4, 0);                  /* f2's saved ebp */
	put(&f, t1, 0x404000);               /* f2 returns to code without frame info */
	stack_x86_regs r = { .eip = 0x401050 };
	r.gpr[X86_ESP] = esp0; r.gpr[X86_EBP] = ebp1; r.gpr[X86_EBX] = 1; r.gpr[X86_ESI] = 2;
	stack_frame fr[8]; stack_x86_regs rr[8]; size_t n; char err[128];
	CHECK(stack_x86_walk(&io, &r, fr, rr, 8, &n, err, sizeof(err)) == 0);
	CHECK_EQ(n, 4);
	CHECK_EQ(fr[0].how, STACK_HOW_FRAMEDATA);
	CHECK_EQ(fr[0].ret, 0x402010);
	CHECK_EQ(fr[0].args[0], 0xa1);
	CHECK_EQ(rr[1].gpr[X86_EBX], 0xb1b1);
	CHECK_EQ(rr[1].gpr[X86_ESI], 0x5151);
	CHECK_EQ(rr[1].gpr[X86_ESP], esp0 + 20);
	CHECK_EQ(rr[1].gpr[X86_EBP], ebp1);
	CHECK_EQ(fr[1].ret, 0x403010);
	CHECK_EQ(rr[2].gpr[X86_EBX], 0xb2b2);
	CHECK_EQ(rr[2].gpr[X86_EBP], STK + 0x1fc);
	CHECK_EQ(rr[2].gpr[X86_ESP], ebp1 + 8);
	CHECK_EQ(fr[2].pc, 0x403010);
	CHECK_EQ(fr[2].ret, 0x404000);
	CHECK_EQ(rr[3].gpr[X86_ESP], t1 + 4);
	CHECK_EQ(rr[3].gpr[X86_EBP], 0);
	CHECK(err[0] != 0);                  /* frame 3: EBP chain with ebp 0 ends with a reason */
}

static void test_program_errors(void)
{
	fake f; init(&f);
	stack_x86_io io = { &f, rd, NULL, NULL, NULL };
	stack_x86_framedata fd = { 0 };
	stack_x86_regs r = { 0 };
	char err[128];
	CHECK(stack_x86_eval_program(&io, "$T0 +", &r, &fd, 0, err, sizeof(err)) < 0);
	CHECK(stack_x86_eval_program(&io, "$T5 $T6 =", &r, &fd, 0, err, sizeof(err)) < 0);
	CHECK(stack_x86_eval_program(&io, "4 5 =", &r, &fd, 0, err, sizeof(err)) < 0);
	CHECK(stack_x86_eval_program(&io, "$eip 1 0 / =", &r, &fd, 0, err, sizeof(err)) < 0);
	r.gpr[X86_EBP] = STK + 8;
	put(&f, STK + 8, 0x1234);
	CHECK(stack_x86_eval_program(&io, "$eip $ebp ^ = $esp 0x10 0x3 * =", &r, &fd, 0, err, sizeof(err)) == 0);
	CHECK_EQ(r.eip, 0x1234);
	CHECK_EQ(r.gpr[X86_ESP], 0x30);
	/* context round trip */
	uint8_t raw[0x2cc] = { 0 };
	stack_x86_regs_to_context(&r, raw, sizeof(raw));
	stack_x86_regs b; stack_x86_regs_from_context(&b, raw, sizeof(raw));
	CHECK(memcmp(&b, &r, sizeof(b)) == 0);
}

int main(void)
{
	test_ebp_chain();
	test_fpo();
	test_framedata();
	test_program_errors();
	TEST_END();
}
