/* Unit tests for the x64 unwinder (kdclient/stack_x64.c) on hand-built
 * UNWIND_INFO and fake stacks: every unwind code, prologue offsets, frame
 * registers, chained info, machine frames, epilogues, leaf and scan. */
#include "testutil.h"
#include "stack_x64.h"

#define BASE 0x140000000ull
#define STK 0x10000ull          /* stack region [STK, STK + 0x40000) */
#define ENTRY (STK + 0x30000)   /* rsp at function entry (holds the return address) */

typedef struct fake { fake_mem mem; stack_x64_func fns[16]; int nfn; } fake;

static int lookup(void *ctx, uint64_t pc, stack_x64_func *out)
{
	fake *f = ctx;
	for (int i = 0; i < f->nfn; i++)
		if (pc >= BASE + f->fns[i].begin && pc < BASE + f->fns[i].end) {
			*out = f->fns[i];
			return 1;
		}
	return 0;
}
static int is_code(void *ctx, uint64_t a) { (void)ctx; return a >= BASE + 0x1000 && a < BASE + 0x8000; }
static int rd(void *ctx, uint64_t a, void *b, size_t n) { return fake_read(&((fake *)ctx)->mem, a, b, n); }

static void add_fn(fake *f, uint32_t b, uint32_t e, uint32_t u)
{
	f->fns[f->nfn++] = (stack_x64_func){ BASE, b, e, u };
}
/* UNWIND_INFO at rva: header, then codes as (offset, op, info) or raw slots. */
static void put_info(fake *f, uint32_t rva, unsigned ver, unsigned flags, unsigned prolog,
                     unsigned freg, unsigned foff, const uint16_t *slots, unsigned n)
{
	uint8_t h[4] = { (uint8_t)(ver | flags << 3), (uint8_t)prolog, (uint8_t)n, (uint8_t)(freg | foff << 4) };
	fake_put(&f->mem, BASE + rva, h, 4);
	for (unsigned i = 0; i < n; i++) {
		uint8_t s[2] = { (uint8_t)slots[i], (uint8_t)(slots[i] >> 8) };
		fake_put(&f->mem, BASE + rva + 4 + 2 * i, s, 2);
	}
}
#define CODE(off, op, info) ((uint16_t)((off) | ((op) | (info) << 4) << 8))

static void init(fake *f)
{
	memset(f, 0, sizeof(*f));
	fake_map(&f->mem, BASE, 0x10000);
	fake_map(&f->mem, STK, 0x40000);
}

static void regs_at(stack_x64_regs *r, uint64_t rip, uint64_t rsp)
{
	memset(r, 0, sizeof(*r));
	r->rip = rip;
	r->gpr[X64_RSP] = rsp;
}

/* push rbx; push rsi; sub rsp, 28h  (prolog 6 bytes) */
static void test_push_alloc_small_and_prolog_offsets(void)
{
	fake f; init(&f);
	uint16_t c[] = { CODE(6, 2, 4), CODE(2, 0, X64_RSI), CODE(1, 0, X64_RBX) };
	put_info(&f, 0x8000, 1, 0, 6, 0, 0, c, 3);
	add_fn(&f, 0x1000, 0x1100, 0x8000);
	stack_x64_io io = { &f, rd, lookup, is_code };
	uint64_t ret = BASE + 0x2010;
	fake_put64(&f.mem, ENTRY, ret);
	fake_put64(&f.mem, ENTRY - 8, 0xbbbb);
	fake_put64(&f.mem, ENTRY - 16, 0x5151);
	struct { uint32_t off; uint64_t rsp; int rbx, rsi; } pts[] = {
		{ 0x50, ENTRY - 16 - 0x28, 1, 1 },   /* body */
		{ 6, ENTRY - 16 - 0x28, 1, 1 },      /* first body instruction */
		{ 2, ENTRY - 16, 1, 1 },             /* after both pushes */
		{ 1, ENTRY - 8, 1, 0 },              /* after push rbx only */
		{ 0, ENTRY, 0, 0 },                  /* at entry */
	};
	for (size_t i = 0; i < sizeof(pts) / sizeof(pts[0]); i++) {
		stack_x64_regs r; regs_at(&r, BASE + 0x1000 + pts[i].off, pts[i].rsp);
		r.gpr[X64_RBX] = 1; r.gpr[X64_RSI] = 2;
		stack_how how; char err[128];
		CHECK(stack_x64_unwind(&io, &r, 1, &how, err, sizeof(err)) == 0);
		CHECK_EQ(how, STACK_HOW_UNWIND);
		CHECK_EQ(r.rip, ret);
		CHECK_EQ(r.gpr[X64_RSP], ENTRY + 8);
		CHECK_EQ(r.gpr[X64_RBX], pts[i].rbx ? 0xbbbb : 1);
		CHECK_EQ(r.gpr[X64_RSI], pts[i].rsi ? 0x5151 : 2);
	}
}

static void test_alloc_large(void)
{
	fake f; init(&f);
	uint16_t c0[] = { CODE(7, 1, 0), 0x200 };                   /* sub rsp, 1000h */
	uint16_t c1[] = { CODE(7, 1, 1), 0x2348, 0x0001 };          /* sub rsp, 12348h */
	put_info(&f, 0x8000, 1, 0, 7, 0, 0, c0, 2);
	put_info(&f, 0x8100, 1, 0, 7, 0, 0, c1, 3);
	add_fn(&f, 0x1000, 0x1100, 0x8000);
	add_fn(&f, 0x1100, 0x1200, 0x8100);
	stack_x64_io io = { &f, rd, lookup, is_code };
	fake_put64(&f.mem, ENTRY, BASE + 0x2000);
	stack_x64_regs r; stack_how how; char err[128];
	regs_at(&r, BASE + 0x1040, ENTRY - 0x1000);
	CHECK(stack_x64_unwind(&io, &r, 1, &how, err, sizeof(err)) == 0);
	CHECK_EQ(r.gpr[X64_RSP], ENTRY + 8);
	CHECK_EQ(r.rip, BASE + 0x2000);
	regs_at(&r, BASE + 0x1140, ENTRY - 0x12348);
	CHECK(stack_x64_unwind(&io, &r, 1, &how, err, sizeof(err)) == 0);
	CHECK_EQ(r.gpr[X64_RSP], ENTRY + 8);
	/* inside the prologue before the sub: nothing applies */
	regs_at(&r, BASE + 0x1103, ENTRY);
	CHECK(stack_x64_unwind(&io, &r, 1, &how, err, sizeof(err)) == 0);
	CHECK_EQ(r.gpr[X64_RSP], ENTRY + 8);
}

/* push rbp; sub rsp,40h; lea rbp,[rsp+20h]; mov [rsp+30h],rdi; movaps [rsp+10h],xmm6
 * then alloca moved rsp further down: only rbp can find the frame. */
static void test_frame_register_save_nonvol_xmm(void)
{
	fake f; init(&f);
	uint16_t c[] = { CODE(20, 8, 6), 1, CODE(15, 4, X64_RDI), 6, CODE(10, 3, 0), CODE(5, 2, 7), CODE(1, 0, X64_RBP) };
	put_info(&f, 0x8000, 1, 0, 20, X64_RBP, 2, c, 7);
	add_fn(&f, 0x1000, 0x1100, 0x8000);
	stack_x64_io io = { &f, rd, lookup, is_code };
	uint64_t fixed = ENTRY - 8 - 0x40;          /* rsp after the fixed allocation */
	fake_put64(&f.mem, ENTRY, BASE + 0x2000);
	fake_put64(&f.mem, ENTRY - 8, 0xb0b0);       /* caller's rbp */
	fake_put64(&f.mem, fixed + 0x30, 0xd1d1);    /* saved rdi */
	uint8_t x6[16]; for (int i = 0; i < 16; i++) x6[i] = (uint8_t)(0x60 + i);
	fake_put(&f.mem, fixed + 0x10, x6, 16);
	stack_x64_regs r; stack_how how; char err[128];
	regs_at(&r, BASE + 0x1080, fixed - 0x100);
	r.gpr[X64_RBP] = fixed + 0x20;
	CHECK(stack_x64_unwind(&io, &r, 1, &how, err, sizeof(err)) == 0);
	CHECK_EQ(r.rip, BASE + 0x2000);
	CHECK_EQ(r.gpr[X64_RSP], ENTRY + 8);
	CHECK_EQ(r.gpr[X64_RBP], 0xb0b0);
	CHECK_EQ(r.gpr[X64_RDI], 0xd1d1);
	CHECK(memcmp(r.xmm[6], x6, 16) == 0);
	/* In the prologue after the lea but before the saves: rsp is still the
	 * fixed one, rdi must not be "restored". */
	regs_at(&r, BASE + 0x100a, fixed);
	r.gpr[X64_RBP] = fixed + 0x20;
	r.gpr[X64_RDI] = 7;
	CHECK(stack_x64_unwind(&io, &r, 1, &how, err, sizeof(err)) == 0);
	CHECK_EQ(r.gpr[X64_RSP], ENTRY + 8);
	CHECK_EQ(r.gpr[X64_RDI], 7);
	CHECK_EQ(r.gpr[X64_RBP], 0xb0b0);
	/* before the lea: rbp is still the caller's (garbage here), rsp rules */
	regs_at(&r, BASE + 0x1005, fixed);
	r.gpr[X64_RBP] = 0x4242;
	CHECK(stack_x64_unwind(&io, &r, 1, &how, err, sizeof(err)) == 0);
	CHECK_EQ(r.gpr[X64_RSP], ENTRY + 8);
	CHECK_EQ(r.gpr[X64_RBP], 0xb0b0);
}

static void test_far_saves(void)
{
	fake f; init(&f);
	/* sub rsp,20000h; mov [rsp+18000h],r12; movaps [rsp+18010h],xmm7 */
	uint16_t c[] = { CODE(30, 9, 7), 0x8010, 0x0001, CODE(22, 5, X64_R12), 0x8000, 0x0001, CODE(7, 1, 1), 0x0000, 0x0002 };
	put_info(&f, 0x8000, 1, 0, 30, 0, 0, c, 9);
	add_fn(&f, 0x1000, 0x1100, 0x8000);
	stack_x64_io io = { &f, rd, lookup, is_code };
	uint64_t fixed = ENTRY - 0x20000;
	fake_put64(&f.mem, ENTRY, BASE + 0x2000);
	fake_put64(&f.mem, fixed + 0x18000, 0x1212);
	uint8_t x7[16]; for (int i = 0; i < 16; i++) x7[i] = (uint8_t)(0x70 + i);
	fake_put(&f.mem, fixed + 0x18010, x7, 16);
	stack_x64_regs r; stack_how how; char err[128];
	regs_at(&r, BASE + 0x1050, fixed);
	CHECK(stack_x64_unwind(&io, &r, 1, &how, err, sizeof(err)) == 0);
	CHECK_EQ(r.gpr[X64_R12], 0x1212);
	CHECK(memcmp(r.xmm[7], x7, 16) == 0);
	CHECK_EQ(r.gpr[X64_RSP], ENTRY + 8);
}

static void test_machframe(void)
{
	for (int errcode = 0; errcode <= 1; errcode++) {
		fake f; init(&f);
		uint16_t c[] = { CODE(5, 2, 0), CODE(1, 10, (unsigned)errcode) };  /* sub rsp,8 after the machine frame */
		put_info(&f, 0x8000, 1, 0, 5, 0, 0, c, 2);
		add_fn(&f, 0x1000, 0x1100, 0x8000);
		stack_x64_io io = { &f, rd, lookup, is_code };
		uint64_t m = ENTRY - 0x100;                /* rsp in the handler body */
		uint64_t fr = m + 8 + (errcode ? 8 : 0);
		fake_put64(&f.mem, fr, 0x7ff612340000ull);      /* RIP */
		fake_put64(&f.mem, fr + 8, 0x33);               /* CS */
		fake_put64(&f.mem, fr + 16, 0x246);             /* EFLAGS */
		fake_put64(&f.mem, fr + 24, STK + 0x800);       /* RSP: another (lower) stack */
		fake_put64(&f.mem, fr + 32, 0x2b);              /* SS */
		stack_x64_regs r; stack_how how; char err[128];
		regs_at(&r, BASE + 0x1020, m);
		CHECK(stack_x64_unwind(&io, &r, 1, &how, err, sizeof(err)) == 0);
		CHECK_EQ(how, STACK_HOW_MACHFRAME);
		CHECK_EQ(r.rip, 0x7ff612340000ull);
		CHECK_EQ(r.gpr[X64_RSP], STK + 0x800);
		CHECK_EQ(r.cs, 0x33);
		CHECK_EQ(r.ss, 0x2b);
		CHECK_EQ(r.eflags, 0x246);
	}
}

static void test_epilog_v2_codes_skipped(void)
{
	fake f; init(&f);
	/* version 2: two UWOP_EPILOG descriptors first, then the prologue codes */
	uint16_t c[] = { CODE(1, 6, 1), CODE(0x20, 6, 0), CODE(5, 2, 3), CODE(1, 0, X64_RBX) };
	put_info(&f, 0x8000, 2, 0, 5, 0, 0, c, 4);
	add_fn(&f, 0x1000, 0x1100, 0x8000);
	stack_x64_io io = { &f, rd, lookup, is_code };
	fake_put64(&f.mem, ENTRY, BASE + 0x2000);
	fake_put64(&f.mem, ENTRY - 8, 0xbbbb);
	stack_x64_regs r; stack_how how; char err[128];
	regs_at(&r, BASE + 0x1040, ENTRY - 8 - 0x20);
	CHECK(stack_x64_unwind(&io, &r, 1, &how, err, sizeof(err)) == 0);
	CHECK_EQ(r.rip, BASE + 0x2000);
	CHECK_EQ(r.gpr[X64_RBX], 0xbbbb);
	CHECK_EQ(r.gpr[X64_RSP], ENTRY + 8);
}

static void test_chained(void)
{
	fake f; init(&f);
	/* parent 0x1000: push rbx; sub rsp,20h.  fragment 0x1400: push r12, chained. */
	uint16_t cp[] = { CODE(5, 2, 3), CODE(1, 0, X64_RBX) };
	put_info(&f, 0x8000, 1, 0, 5, 0, 0, cp, 2);
	uint16_t cf[] = { CODE(2, 0, X64_R12), 0 /* pad */ };
	put_info(&f, 0x8100, 1, 4, 2, 0, 0, cf, 1);
	fake_put(&f.mem, BASE + 0x8100 + 4, cf, 2);
	fake_put32(&f.mem, BASE + 0x8100 + 8, 0x1000);
	fake_put32(&f.mem, BASE + 0x8100 + 12, 0x1100);
	fake_put32(&f.mem, BASE + 0x8100 + 16, 0x8000);
	add_fn(&f, 0x1000, 0x1100, 0x8000);
	add_fn(&f, 0x1400, 0x1480, 0x8100);
	stack_x64_io io = { &f, rd, lookup, is_code };
	fake_put64(&f.mem, ENTRY, BASE + 0x2000);
	fake_put64(&f.mem, ENTRY - 8, 0xbbbb);
	uint64_t sp = ENTRY - 8 - 0x20;
	fake_put64(&f.mem, sp - 8, 0x1212);
	stack_x64_regs r; stack_how how; char err[128];
	regs_at(&r, BASE + 0x1440, sp - 8);
	CHECK(stack_x64_unwind(&io, &r, 1, &how, err, sizeof(err)) == 0);
	CHECK_EQ(r.gpr[X64_R12], 0x1212);
	CHECK_EQ(r.gpr[X64_RBX], 0xbbbb);
	CHECK_EQ(r.gpr[X64_RSP], ENTRY + 8);
	CHECK_EQ(r.rip, BASE + 0x2000);
}

static void test_leaf_scan_epilog(void)
{
	fake f; init(&f);
	uint16_t c[] = { CODE(6, 2, 4), CODE(2, 0, X64_RSI), CODE(1, 0, X64_RBX) };
	put_info(&f, 0x8000, 1, 0, 6, 0, 0, c, 3);
	add_fn(&f, 0x1000, 0x1100, 0x8000);
	stack_x64_io io = { &f, rd, lookup, is_code };
	stack_x64_regs r; stack_how how; char err[128];
	/* leaf: 0x3000 has no unwind data, [rsp] is a code address */
	fake_put64(&f.mem, ENTRY, BASE + 0x1050);
	regs_at(&r, BASE + 0x3000, ENTRY);
	CHECK(stack_x64_unwind(&io, &r, 1, &how, err, sizeof(err)) == 0);
	CHECK_EQ(how, STACK_HOW_LEAF);
	CHECK_EQ(r.rip, BASE + 0x1050);
	CHECK_EQ(r.gpr[X64_RSP], ENTRY + 8);
	/* scan: [rsp] is data, the return address is 3 slots up */
	fake_put64(&f.mem, ENTRY, 0x1234);
	fake_put64(&f.mem, ENTRY + 24, BASE + 0x1060);
	regs_at(&r, BASE + 0x3000, ENTRY);
	CHECK(stack_x64_unwind(&io, &r, 1, &how, err, sizeof(err)) == 0);
	CHECK_EQ(how, STACK_HOW_SCAN);
	CHECK_EQ(r.rip, BASE + 0x1060);
	CHECK_EQ(r.gpr[X64_RSP], ENTRY + 32);
	/* no is_code callback and no leaf: the walker must refuse, not guess */
	stack_x64_io io2 = { &f, rd, lookup, NULL };
	regs_at(&r, BASE + 0x3000, ENTRY);
	CHECK(stack_x64_unwind(&io2, &r, 0, &how, err, sizeof(err)) < 0);
	/* epilogue: add rsp,28h; pop rsi; pop rbx; ret at 0x10f0 */
	static const uint8_t ep[] = { 0x48, 0x83, 0xc4, 0x28, 0x5e, 0x5b, 0xc3, 0xcc };
	fake_put(&f.mem, BASE + 0x10f0, ep, sizeof(ep));
	fake_put64(&f.mem, ENTRY, BASE + 0x2010);
	fake_put64(&f.mem, ENTRY - 8, 0xbbbb);
	fake_put64(&f.mem, ENTRY - 16, 0x5151);
	regs_at(&r, BASE + 0x10f0, ENTRY - 16 - 0x28);
	CHECK(stack_x64_unwind(&io, &r, 1, &how, err, sizeof(err)) == 0);
	CHECK_EQ(how, STACK_HOW_EPILOG);
	CHECK_EQ(r.rip, BASE + 0x2010);
	CHECK_EQ(r.gpr[X64_RSP], ENTRY + 8);
	CHECK_EQ(r.gpr[X64_RSI], 0x5151);
	CHECK_EQ(r.gpr[X64_RBX], 0xbbbb);
	/* after the add and one pop: only rbx left to pop */
	regs_at(&r, BASE + 0x10f5, ENTRY - 8);
	r.gpr[X64_RSI] = 0x5151;
	CHECK(stack_x64_unwind(&io, &r, 1, &how, err, sizeof(err)) == 0);
	CHECK_EQ(how, STACK_HOW_EPILOG);
	CHECK_EQ(r.gpr[X64_RBX], 0xbbbb);
	CHECK_EQ(r.gpr[X64_RSP], ENTRY + 8);
	CHECK_EQ(r.rip, BASE + 0x2010);
}

/* Three nested frames: A(0x1000) <- B(0x1200) <- C(0x1400) <- 0. */
static void test_walk(void)
{
	fake f; init(&f);
	uint16_t c[] = { CODE(4, 2, 3) };               /* sub rsp, 20h */
	put_info(&f, 0x8000, 1, 0, 4, 0, 0, c, 1);
	add_fn(&f, 0x1000, 0x1100, 0x8000);
	add_fn(&f, 0x1200, 0x1300, 0x8000);
	add_fn(&f, 0x1400, 0x1500, 0x8000);
	stack_x64_io io = { &f, rd, lookup, is_code };
	uint64_t sp = ENTRY - 0x200;
	/* A's frame: [sp+20h] = ret into B; B's frame at sp+28h: [+20h] = ret into C; ... */
	fake_put64(&f.mem, sp + 0x20, BASE + 0x1234);
	fake_put64(&f.mem, sp + 0x28, 0xaaaa);             /* A's home slot 1 */
	fake_put64(&f.mem, sp + 0x30, 0xbbbb);
	fake_put64(&f.mem, sp + 0x28 + 0x20, BASE + 0x1456);
	fake_put64(&f.mem, sp + 0x50 + 0x20, 0);
	stack_x64_regs r; regs_at(&r, BASE + 0x1010, sp);
	stack_frame fr[16]; stack_x64_regs rr[16]; size_t n = 0; char err[128];
	CHECK(stack_x64_walk(&io, &r, fr, rr, 16, &n, err, sizeof(err)) == 0);
	CHECK_EQ(n, 3);
	CHECK_EQ(fr[0].pc, BASE + 0x1010);
	CHECK_EQ(fr[0].sp, sp);
	CHECK_EQ(fr[0].ret, BASE + 0x1234);
	CHECK_EQ(fr[0].args[0], 0xaaaa);
	CHECK_EQ(fr[0].args[1], 0xbbbb);
	CHECK_EQ(fr[1].pc, BASE + 0x1234);
	CHECK_EQ(fr[1].sp, sp + 0x28);
	CHECK_EQ(fr[2].pc, BASE + 0x1456);
	CHECK_EQ(fr[2].ret, 0);
	CHECK_EQ(rr[1].gpr[X64_RSP], sp + 0x28);
	CHECK_EQ(err[0], 0);
	/* L limit */
	CHECK(stack_x64_walk(&io, &r, fr, NULL, 2, &n, err, sizeof(err)) == 0);
	CHECK_EQ(n, 2);
	/* a return address pointing back into a frame whose rsp does not grow stops the walk */
	uint16_t z[] = { 0 };
	put_info(&f, 0x8100, 1, 0, 0, 0, 0, z, 0);
	add_fn(&f, 0x1600, 0x1700, 0x8100);
	fake_put64(&f.mem, sp + 0x50 + 0x20, BASE + 0x1610);
	CHECK(stack_x64_walk(&io, &r, fr, NULL, 16, &n, err, sizeof(err)) == 0);
	CHECK(n <= 16);
	CHECK(fr[n - 1].ret == 0 || fr[n - 1].how != STACK_HOW_MACHFRAME);
	/* non-canonical return address ends it */
	fake_put64(&f.mem, sp + 0x50 + 0x20, 0x8000000000000000ull);
	CHECK(stack_x64_walk(&io, &r, fr, NULL, 16, &n, err, sizeof(err)) == 0);
	CHECK_EQ(n, 3);
	CHECK_EQ(fr[2].ret, 0x8000000000000000ull);
	/* context round trip */
	uint8_t raw[0x4d0] = { 0 };
	rr[1].cs = 0x10;
	stack_x64_regs_to_context(&rr[1], raw, sizeof(raw));
	stack_x64_regs back; stack_x64_regs_from_context(&back, raw, sizeof(raw));
	CHECK_EQ(back.gpr[X64_RSP], rr[1].gpr[X64_RSP]);
	CHECK_EQ(back.rip, rr[1].rip);
	CHECK_EQ(raw[0xf8], (uint8_t)rr[1].rip);
	CHECK_EQ(back.cs, 0x10);
}

int main(void)
{
	test_push_alloc_small_and_prolog_offsets();
	test_alloc_large();
	test_frame_register_save_nonvol_xmm();
	test_far_saves();
	test_machframe();
	test_epilog_v2_codes_skipped();
	test_chained();
	test_leaf_scan_epilog();
	test_walk();
	TEST_END();
}
