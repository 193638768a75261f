/* Unit tests for debugger-side address translation (kdclient/nt_paging.c)
 * and the translating view target (kdclient/nt_view.c) on fake physical
 * memory with hand-built page tables. */
#include "testutil.h"
#include "nt_paging.h"
#include "nt_view.h"

static int phys(void *ctx, uint64_t pa, void *b, size_t n) { return fake_read(ctx, pa, b, n); }

static void test_x64(void)
{
	fake_mem m = { 0 };
	fake_map(&m, 0, 0x10000);
	/* CR3 0x1000 (low bits = PCID, ignored) */
	fake_put64(&m, 0x1000 + 8 * 0, 0x2000 | 0x7);           /* PML4[0] -> PDPT */
	fake_put64(&m, 0x2000 + 8 * 0, 0x3000 | 0x7);           /* PDPT[0] -> PD */
	fake_put64(&m, 0x2000 + 8 * 1, 0x40000000ull | 0x87);   /* PDPT[1]: 1 GiB page */
	fake_put64(&m, 0x3000 + 8 * 0, 0x4000 | 0x7);           /* PD[0] -> PT */
	fake_put64(&m, 0x3000 + 8 * 1, 0x600000 | 0x87 | 0x1000); /* PD[1]: 2 MiB page (PAT bit set) */
	fake_put64(&m, 0x4000 + 8 * 5, 0x8000000000005000ull | 0x63); /* PT[5]: NX, dirty, accessed */
	fake_put64(&m, 0x4000 + 8 * 6, 0x6000 | 0x800);         /* PT[6]: transition */
	fake_put64(&m, 0x4000 + 8 * 7, 0x7000 | 0x400 | 0x800); /* PT[7]: prototype: not a transition */
	nt_paging *p;
	CHECK(nt_paging_create(NT_PAGING_X64, phys, &m, &p) == 0);
	nt_pte_walk w;
	CHECK(nt_paging_translate(p, 0x1000 | 0x5, 0x5123, &w) == 0);
	CHECK_EQ(w.pa, 0x5123);
	CHECK_EQ(w.nlevels, 4);
	CHECK_EQ(w.page_size, 4096);
	CHECK_EQ(w.level[3].entry_pa, 0x4000 + 8 * 5);
	char fl[12];
	nt_pte_flags(NT_PAGING_X64, w.level[3].value, fl);
	CHECK(!strcmp(fl, "---DA--KW-V"));
	CHECK(nt_paging_translate(p, 0x1000, 0x6008, &w) == 0);      /* transition = present */
	CHECK_EQ(w.pa, 0x6008);
	CHECK(w.transition);
	CHECK_EQ(nt_paging_reads(p), 4);                              /* one read per table */
	CHECK(nt_paging_translate(p, 0x1000, 0x7000, &w) == NT_PAGING_E_NOT_PRESENT);
	CHECK_EQ(w.nlevels, 4);
	CHECK(nt_paging_translate(p, 0x1000, 0x8000, &w) == NT_PAGING_E_NOT_PRESENT);
	CHECK(nt_paging_translate(p, 0x1000, 0x40000000ull + 0x123456, &w) == 0);
	CHECK_EQ(w.pa, 0x40123456);
	CHECK_EQ(w.page_size, 1ull << 30);
	CHECK(nt_paging_translate(p, 0x1000, 0x200000 + 0x1abcd, &w) == 0);
	CHECK_EQ(w.pa, 0x61abcd);
	CHECK(w.large);
	/* PML4[1] empty */
	CHECK(nt_paging_translate(p, 0x1000, 1ull << 39, &w) == NT_PAGING_E_NOT_PRESENT);
	CHECK_EQ(w.nlevels, 1);
	/* a table outside physical memory: read error */
	fake_put64(&m, 0x1000 + 8 * 2, 0x900000 | 0x7);
	/* cached tables are kept until the next stop: still the old PML4 */
	CHECK(nt_paging_translate(p, 0x1000, 2ull << 39, &w) == NT_PAGING_E_NOT_PRESENT);
	nt_paging_flush(p);
	CHECK(nt_paging_translate(p, 0x1000, 2ull << 39, &w) == NT_PAGING_E_READ);
	uint64_t top;
	CHECK(nt_paging_top_entry(p, 0x1000, 0, &top) == 0);
	CHECK_EQ(top, 0x2000 | 0x7);
	unsigned before = nt_paging_reads(p);
	nt_paging_flush(p);
	CHECK(nt_paging_translate(p, 0x1000, 0x5000, &w) == 0);
	CHECK_EQ(nt_paging_reads(p), before + 4);
	nt_paging_destroy(p);
}

static void test_pae_and_x86(void)
{
	fake_mem m = { 0 };
	fake_map(&m, 0, 0x10000);
	/* PAE: PDPT at 0x1020 (32-byte aligned) */
	fake_put64(&m, 0x1020 + 8 * 2, 0x2000 | 1);            /* PDPT[2] (va 0x80000000..) */
	fake_put64(&m, 0x2000 + 8 * 0, 0x3000 | 0x7);
	fake_put64(&m, 0x2000 + 8 * 1, 0xa00000 | 0x83);       /* 2 MiB page */
	fake_put64(&m, 0x3000 + 8 * 1, 0x5000 | 0x3);
	nt_paging *p;
	CHECK(nt_paging_create(NT_PAGING_PAE, phys, &m, &p) == 0);
	nt_pte_walk w;
	CHECK(nt_paging_translate(p, 0x1020, 0x80001010ull, &w) == 0);
	CHECK_EQ(w.pa, 0x5010);
	CHECK_EQ(w.total_levels, 3);
	CHECK(nt_paging_translate(p, 0x1020, 0x80200000ull + 0x1234, &w) == 0);
	CHECK_EQ(w.pa, 0xa01234);
	CHECK(nt_paging_translate(p, 0x1020, 0x00001000ull, &w) == NT_PAGING_E_NOT_PRESENT);
	nt_paging_destroy(p);

	/* 2-level: PD at 0x8000 */
	fake_put32(&m, 0x8000 + 4 * 0, 0x9000 | 0x7);
	fake_put32(&m, 0x8000 + 4 * 1, 0xc00000 | 0x83 | (0x3 << 13));  /* 4 MiB page, PSE-36 bits 32-33 */
	fake_put32(&m, 0x9000 + 4 * 3, 0x5000 | 0x3);
	fake_put32(&m, 0x9000 + 4 * 4, 0x6000 | 0x800);                 /* transition */
	CHECK(nt_paging_create(NT_PAGING_X86, phys, &m, &p) == 0);
	CHECK(nt_paging_translate(p, 0x8000, 0x3abc, &w) == 0);
	CHECK_EQ(w.pa, 0x5abc);
	CHECK(nt_paging_translate(p, 0x8000, 0x4000, &w) == 0);
	CHECK_EQ(w.pa, 0x6000);
	CHECK(nt_paging_translate(p, 0x8000, 0x400000 + 0x12345, &w) == 0);
	CHECK_EQ(w.pa, 0x300c12345ull);
	CHECK_EQ(w.page_size, 4u << 20);
	nt_paging_destroy(p);
}

/* A fake live target: virtual reads are "kernel" reads from their own
 * memory; physical reads come from the physical memory. */
typedef struct fake_live { fake_mem kv, ph; unsigned vreads, preads; } fake_live;
static int f_rv(kd_target *t, uint64_t a, void *b, size_t n, size_t *got)
{
	fake_live *f = t->impl; f->vreads++;
	*got = 0;
	if (fake_read(&f->kv, a, b, n) < 0) return KD_E_FAIL;
	*got = n; return 0;
}
static int f_rp(kd_target *t, uint64_t a, void *b, size_t n, size_t *got)
{
	fake_live *f = t->impl; f->preads++;
	*got = 0;
	if (fake_read(&f->ph, a, b, n) < 0) return KD_E_FAIL;
	*got = n; return 0;
}
static const kd_target_ops fake_ops = { .name = "fake", .read_virtual = f_rv, .read_physical = f_rp };

static uint64_t probe(void *ctx) { return *(uint64_t *)ctx; }

static void test_view(void)
{
	fake_live f = { 0 };
	fake_map(&f.ph, 0, 0x20000);
	fake_map(&f.kv, 0xfffff80000000000ull, 0x1000);
	fake_put64(&f.kv, 0xfffff80000000000ull, 0x4b45524e454cull);   /* "KERNEL" */
	/* process A: CR3 0x1000: va 0x10000 -> pa 0x8000, 0x11000 -> 0x9000 (contiguous), 0x12000 -> 0xc000 */
	fake_put64(&f.ph, 0x1000, 0x2000 | 7);
	fake_put64(&f.ph, 0x2000, 0x3000 | 7);
	fake_put64(&f.ph, 0x3000, 0x4000 | 7);
	fake_put64(&f.ph, 0x4000 + 8 * 0x10, 0x8000 | 7);
	fake_put64(&f.ph, 0x4000 + 8 * 0x11, 0x9000 | 7);
	fake_put64(&f.ph, 0x4000 + 8 * 0x12, 0xc000 | 7);
	for (int i = 0; i < 0x1000; i++) {
		fake_ptr(&f.ph, 0x8000 + i, 1)[0] = 0xa0;
		fake_ptr(&f.ph, 0x9000 + i, 1)[0] = 0xa1;
		fake_ptr(&f.ph, 0xc000 + i, 1)[0] = 0xa2;
	}
	/* process B: CR3 0x5000 shares the upper tables' shape, other page */
	fake_put64(&f.ph, 0x5000, 0x6000 | 7);
	fake_put64(&f.ph, 0x6000, 0x7000 | 7);
	fake_put64(&f.ph, 0x7000, 0xa000 | 7);
	fake_put64(&f.ph, 0xa000 + 8 * 0x10, 0xd000 | 7);
	for (int i = 0; i < 0x1000; i++)
		fake_ptr(&f.ph, 0xd000 + i, 1)[0] = 0xb0;

	kd_target live = { .ops = &fake_ops, .impl = &f, .stopped = 1 };
	live.version.arch = KD_ARCH_X64;
	kd_target *va, *vb;
	CHECK(nt_view_create(&live, NT_PAGING_X64, 0x1000, 0x800000000000ull, &va) == 0);
	CHECK(nt_view_create(&live, NT_PAGING_X64, 0x5000, 0x800000000000ull, &vb) == 0);
	CHECK(nt_view_is_view(va));
	CHECK(!nt_view_is_view(&live));
	CHECK_EQ(va->stopped, 1);
	uint8_t buf[0x2010];
	size_t got;
	CHECK(va->ops->read_virtual(va, 0x10ff8, buf, 16, &got) == 0);
	CHECK_EQ(got, 16);
	CHECK_EQ(buf[0], 0xa0); CHECK_EQ(buf[8], 0xa1);
	/* contiguous pages merge into one physical request */
	f.preads = 0;
	CHECK(va->ops->read_virtual(va, 0x10000, buf, 0x2000, &got) == 0);
	CHECK_EQ(f.preads, 1);
	CHECK_EQ(buf[0x1fff], 0xa1);
	CHECK(va->ops->read_virtual(va, 0x11ff0, buf, 0x20, &got) == 0);
	CHECK_EQ(buf[0x0f], 0xa1); CHECK_EQ(buf[0x10], 0xa2);
	/* same va, other process */
	CHECK(vb->ops->read_virtual(vb, 0x10000, buf, 4, &got) == 0);
	CHECK_EQ(buf[0], 0xb0);
	/* partial at an unmapped page */
	int rc = vb->ops->read_virtual(vb, 0x10ff0, buf, 0x20, &got);
	CHECK_EQ(rc, KD_E_PARTIAL);
	CHECK_EQ(got, 0x10);
	CHECK(strstr(vb->errmsg, "00000000011000") != NULL);
	CHECK(vb->ops->read_virtual(vb, 0x20000, buf, 4, &got) < 0);
	CHECK_EQ(got, 0);
	/* kernel addresses pass through as virtual reads */
	f.vreads = 0;
	CHECK(va->ops->read_virtual(va, 0xfffff80000000000ull, buf, 8, &got) == 0);
	CHECK_EQ(f.vreads, 1);
	CHECK(!memcmp(buf, "LENREK", 6));
	/* page tables are kept until the next stop, then re-read */
	uint64_t stop = 1;
	nt_view_set_stop_probe(va, probe, &stop);
	fake_put64(&f.ph, 0x4000 + 8 * 0x10, 0xc000 | 7);     /* remap va 0x10000 */
	CHECK(va->ops->read_virtual(va, 0x10000, buf, 1, &got) == 0);
	CHECK_EQ(buf[0], 0xa0);                               /* same stop: cached tables */
	stop = 2;
	CHECK(va->ops->read_virtual(va, 0x10000, buf, 1, &got) == 0);
	CHECK_EQ(buf[0], 0xa2);                               /* new stop: re-read */
	/* unsupported pass-through op */
	kd_context c;
	CHECK_EQ(va->ops->get_context(va, 0, &c), KD_E_NOTSUP);
	nt_view_destroy(va);
	vb->ops->close(vb);
}

int main(void)
{
	test_x64();
	test_pae_and_x86();
	test_view();
	TEST_END();
}
