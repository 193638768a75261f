/*
 * unit_core.c - engine core without a VM: breakpoint bookkeeping (ids,
 * ranges, insertion/removal through a fake target, DR7), the `bl` line,
 * the WinDbg event texts, state-change decoding and register access by
 * name in x64 and x86 CONTEXT records.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "breakpoints.h"
#include "kd64.h"
#include "run.h"
#include "target.h"

static int failures;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); failures++; } } while (0)
#define CHECK_STR(a, b) do { if (strcmp((a), (b)) != 0) { fprintf(stderr, "%s:%d: got\n  [%s]\nwant\n  [%s]\n", __FILE__, __LINE__, (a), (b)); failures++; } } while (0)

/* ---- a fake target that records breakpoint traffic ---- */
typedef struct fake {
	uint64_t written[16];
	uint32_t restored[16];
	int nw, nr;
	int refuse_restore;
} fake;

static int f_write_bp(kd_target *t, uint64_t addr, uint32_t *h)
{
	fake *f = t->impl;
	f->written[f->nw++] = addr;
	*h = (uint32_t)f->nw;   /* handle = index + 1, as the kernel does */
	return 0;
}

static int f_restore_bp(kd_target *t, uint32_t h)
{
	fake *f = t->impl;
	f->restored[f->nr++] = h;
	return f->refuse_restore ? kd_target_fail(t, KD_E_STATUS, "gone") : 0;
}

static const kd_target_ops fake_ops = {
	.name = "fake",
	.write_breakpoint = f_write_bp,
	.restore_breakpoint = f_restore_bp,
};

static void test_bplist(void)
{
	kd_bplist *l = kd_bplist_create();
	const char *why = NULL;
	kd_bp *a = kd_bplist_add(l, -1, KD_BP_SOFT, 0xfffff80000101000ull, &why);
	kd_bp *b = kd_bplist_add(l, -1, KD_BP_SOFT, 0xfffff80000102000ull, &why);
	kd_bp *c = kd_bplist_add(l, 5, KD_BP_SOFT, 0xfffff80000101000ull, &why);
	CHECK(a && b && c);
	CHECK(a->id == 0 && b->id == 1 && c->id == 5);
	CHECK(kd_bplist_add(l, 5, KD_BP_SOFT, 0x1000, &why) == NULL && why);
	CHECK(kd_bplist_count(l) == 3);
	/* lowest free id is reused */
	CHECK(kd_bplist_remove(l, 1) == 0);
	kd_bp *d = kd_bplist_add(l, -1, KD_BP_SOFT, 0xfffff80000103000ull, &why);
	CHECK(d && d->id == 1);
	CHECK(kd_bplist_get(l, 0)->id == 0 && kd_bplist_get(l, 1)->id == 1 && kd_bplist_get(l, 2)->id == 5);

	/* insert: everything but the address being stepped over; two
	 * breakpoints at one address share one int3 */
	fake f = { 0 };
	kd_target t = { .ops = &fake_ops, .impl = &f };
	uint64_t dr7 = kd_bplist_insert(l, &t, 1, 0xfffff80000103000ull, 0, NULL, NULL);
	CHECK(dr7 == 0x400);
	CHECK(f.nw == 1 && f.written[0] == 0xfffff80000101000ull);
	CHECK(a->inserted && !c->inserted && !d->inserted);
	kd_bplist_remove_all(l, &t);
	CHECK(f.nr == 1 && f.restored[0] == 1 && !a->inserted);
	/* disabled ones stay out; a failed restore (target deleted it) is
	 * tolerated and the entry is no longer inserted */
	a->enabled = 0;
	f.nw = f.nr = 0;
	kd_bplist_insert(l, &t, 0, 0, 0, NULL, NULL);
	CHECK(f.nw == 2);   /* c (same address as a, now the only one) and d */
	f.refuse_restore = 1;
	kd_bplist_remove_all(l, &t);
	CHECK(f.nr == 2 && !c->inserted && !d->inserted);

	/* hits */
	CHECK(kd_bplist_hit(l, 0x80000003u, 0xfffff80000103000ull, 0) == d);
	CHECK(kd_bplist_hit(l, 0x80000003u, 0xfffff80000109999ull, 0) == NULL);

	/* ba: DR slots and DR7 bits */
	kd_bp *h1 = kd_bplist_add(l, -1, KD_BP_HW, 0xfffff80000200000ull, &why);
	kd_bp *h2 = kd_bplist_add(l, -1, KD_BP_HW, 0xfffff80000300008ull, &why);
	CHECK(h1 && h2 && h1->slot == 0 && h2->slot == 1);
	h1->access = 'e'; h1->size = 1;
	h2->access = 'w'; h2->size = 8;
	uint64_t dr[4];
	kd_bplist_debug_regs(l, dr);
	CHECK(dr[0] == 0xfffff80000200000ull && dr[1] == 0xfffff80000300008ull && dr[2] == 0);
	/* slot 0: L0, RW 00, LEN 00; slot 1: L1, RW 01 (write) at 20, LEN 10 (8) at 22 */
	CHECK(kd_bplist_dr7(l, 0, 0) == (0x400ull | 0x1 | 0x4 | (1ull << 20) | (2ull << 22)));
	/* stepping off the execute one leaves it out */
	CHECK(kd_bplist_dr7(l, 1, 0xfffff80000200000ull) == (0x400ull | 0x4 | (1ull << 20) | (2ull << 22)));
	CHECK(kd_bplist_hit(l, 0x80000004u, 0, 0x2) == h2);
	kd_bplist_add(l, -1, KD_BP_HW, 0x10, &why);
	kd_bplist_add(l, -1, KD_BP_HW, 0x20, &why);
	CHECK(kd_bplist_add(l, -1, KD_BP_HW, 0x30, &why) == NULL);   /* only DR0-3 */
	kd_bplist_destroy(l);
}

static void test_ids(void)
{
	unsigned char sel[KD_BP_MAX_ID];
	CHECK(kd_bp_parse_ids("1 3", sel) == 0 && sel[1] && !sel[2] && sel[3]);
	CHECK(kd_bp_parse_ids("2-4", sel) == 0 && !sel[1] && sel[2] && sel[3] && sel[4] && !sel[5]);
	CHECK(kd_bp_parse_ids("*", sel) == 0 && sel[0] && sel[1000]);
	CHECK(kd_bp_parse_ids("", sel) < 0);
	CHECK(kd_bp_parse_ids("x", sel) < 0);
	CHECK(kd_bp_parse_ids("4-2", sel) < 0);
}

static void test_bl_line(void)
{
	kd_bplist *l = kd_bplist_create();
	kd_bp *bp = kd_bplist_add(l, -1, KD_BP_SOFT, 0xfffff80000101234ull, NULL);
	char buf[512];
	kd_bp_format(bp, 1, "nt!NtCreateFile", buf, sizeof(buf));
	CHECK_STR(buf, "     0 e Disable Clear  fffff800`00101234     0001 (0001) nt!NtCreateFile  hits 0");
	bp->enabled = 0;
	bp->hits = 3;
	bp->pass_count = 5;
	bp->pass_left = 2;
	kd_bp_set_command(bp, ".printf \"x\"; gc");
	kd_bp_format(bp, 1, "nt!NtCreateFile", buf, sizeof(buf));
	CHECK_STR(buf, "     0 d Enable Clear  fffff800`00101234     0002 (0005) nt!NtCreateFile \".printf \"x\"; gc\"  hits 3");
	kd_bp *hw = kd_bplist_add(l, 7, KD_BP_HW, 0x8123f000ull, NULL);
	hw->access = 'w';
	hw->size = 4;
	kd_bp_format(hw, 0, NULL, buf, sizeof(buf));
	CHECK_STR(buf, "     7 e Disable Clear  8123f000 w 4 0001 (0001)   hits 0");
	kd_bplist_destroy(l);
}

static void test_texts(void)
{
	char buf[160];
	kd_exception_text(0x80000003u, 1, buf, sizeof(buf));
	CHECK_STR(buf, "Break instruction exception - code 80000003 (first chance)");
	kd_exception_text(0x80000004u, 1, buf, sizeof(buf));
	CHECK_STR(buf, "Single step exception - code 80000004 (first chance)");
	kd_exception_text(0xC0000005u, 0, buf, sizeof(buf));
	CHECK_STR(buf, "Access violation - code c0000005 (!!! second chance !!!)");
	kd_exception_text(0xE0434352u, 1, buf, sizeof(buf));
	CHECK_STR(buf, "Unknown exception - code e0434352 (first chance)");
}

static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

static void test_decode_event(void)
{
	/* Exception state change, fact sheet §6 offsets. */
	uint8_t p[0xF0] = { 0 };
	put32(p, 0x3030);
	p[6] = 1;                                  /* Processor */
	put32(p + 8, 2);                           /* NumberProcessors */
	put64(p + 0x10, 0xfffff80000150000ull);   /* Thread */
	put64(p + 0x18, 0xfffff8000010125dull);   /* PC */
	put32(p + 0x20, 0x80000003u);
	put64(p + 0x30, 0xfffff8000010125dull);
	put32(p + 0x38, 1);
	put32(p + 0xB8, 1);                        /* FirstChance */
	put64(p + 0xC0, 0xffff0ff1ull);            /* Dr6 */
	put64(p + 0xC8, 0x401ull);                 /* Dr7 */
	put32(p + 0xD0, 0x46);                     /* EFlags */
	p[0xD4] = 16;                              /* InstructionCount */
	p[0xD8] = 0xcc;
	kd_event ev;
	CHECK(kd64_decode_event(p, sizeof(p), 0x8664, &ev) == 0);
	CHECK(ev.kind == KD_EV_EXCEPTION && ev.processor == 1 && ev.number_processors == 2);
	CHECK(ev.pc == 0xfffff8000010125dull && ev.code == 0x80000003u && ev.first_chance);
	CHECK(ev.dr6 == 0xffff0ff1ull && ev.dr7 == 0x401 && ev.instr[0] == 0xcc && ev.instr_count == 16);

	/* LoadSymbols with the path after the header (taken from the end). */
	uint8_t q[0xF0 + 16] = { 0 };
	put32(q, 0x3031);
	put32(q + 0x20, 12);
	put64(q + 0x28, 0xfffff80002000000ull);
	put32(q + 0x3C, 0x5000);
	memcpy(q + 0xF0, "testdrv.sys", 12);
	CHECK(kd64_decode_event(q, 0xF0 + 12, 0x8664, &ev) == 0);
	CHECK(ev.kind == KD_EV_LOAD_SYMBOLS && ev.base == 0xfffff80002000000ull);
	CHECK(ev.image_size == 0x5000 && !ev.unload && strcmp(ev.text, "testdrv.sys") == 0);
	/* truncated packets are refused, not read past their end */
	CHECK(kd64_decode_event(p, 0x40, 0x8664, &ev) < 0);
}

static void test_context(void)
{
	kd_context c = { .arch = KD_ARCH_X64, .size = 0x4D0 };
	put64(c.raw + 0xF8, 0xfffff80000101234ull);     /* Rip */
	put64(c.raw + 0x78, 0x1122334455667788ull);     /* Rax */
	put32(c.raw + 0x44, 0x246);                     /* EFlags */
	uint64_t v = 0;
	CHECK(kd_context_get(&c, "rip", &v) == 0 && v == 0xfffff80000101234ull);
	CHECK(kd_context_get(&c, "eax", &v) == 0 && v == 0x55667788);
	CHECK(kd_context_get(&c, "ah", &v) == 0 && v == 0x77);
	CHECK(kd_context_get(&c, "AL", &v) == 0 && v == 0x88);
	CHECK(kd_context_get(&c, "efl", &v) == 0 && v == 0x246);
	CHECK(kd_context_get(&c, "nosuch", &v) == KD_E_INVAL);
	CHECK(kd_context_set(&c, "eax", 0xdeadbeef) == 0);
	CHECK(kd_context_get(&c, "rax", &v) == 0 && v == 0xdeadbeef);   /* 32-bit writes zero-extend */
	CHECK(kd_context_set(&c, "ah", 0x12) == 0 && kd_context_get(&c, "ax", &v) == 0 && v == 0x12ef);
	CHECK(kd_context_pc(&c) == 0xfffff80000101234ull);
	CHECK(kd_context_reg_size(&c, "r8d") == 4 && kd_context_reg_size(&c, "cs") == 2);

	kd_context x = { .arch = KD_ARCH_X86, .size = 0x2CC };
	put32(x.raw + 0xB8, 0x8054a123u);               /* Eip */
	put32(x.raw + 0xC4, 0xf78d2c00u);               /* Esp */
	put32(x.raw + 0xB4, 0xf78d2c10u);               /* Ebp */
	put32(x.raw + 0xB0, 0x1234);                    /* Eax */
	CHECK(kd_context_pc(&x) == 0x8054a123u && kd_context_sp(&x) == 0xf78d2c00u &&
	      kd_context_fp(&x) == 0xf78d2c10u);
	CHECK(kd_context_get(&x, "rax", &v) == KD_E_INVAL);             /* no 64-bit regs on x86 */
	CHECK(kd_context_get(&x, "al", &v) == 0 && v == 0x34);
	CHECK(kd_context_set(&x, "eip", 0x8054a124u) == 0 && kd_context_pc(&x) == 0x8054a124u);
}

int main(void)
{
	test_bplist();
	test_ids();
	test_bl_line();
	test_texts();
	test_decode_event();
	test_context();
	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("ok\n");
	return 0;
}
