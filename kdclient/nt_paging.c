/*
 * nt_paging.c - page walks through physical memory.
 *
 * Entry bits (Intel SDM vol. 3 ch. 4; Windows software bits): 0 Present,
 * 1 Write, 2 User, 3 PWT, 4 PCD, 5 Accessed, 6 Dirty, 7 PS (large page in
 * a PDPTE/PDE), 8 Global, 10 Prototype and 11 Transition (Windows, in
 * not-present entries), 63 NX (8-byte formats).  A transition entry (P
 * clear, Prototype clear, Transition set) still names the physical page,
 * which the memory manager keeps: the debugger may read it.
 */
#include "nt_paging.h"

#include <stdlib.h>
#include <string.h>

#define CACHE_PAGES 128
#define PAGE 4096u
/* Tables are read in halves: one KD request carries at most ~3.9 KB, so a
 * whole 4 KiB table would cost two round trips; 2 KiB (256 entries) is one
 * and still covers the neighbours a walk of nearby addresses needs. */
#define BLOCK 2048u

typedef struct cached_page { uint64_t pa; int used; uint8_t bytes[BLOCK]; } cached_page;

struct nt_paging {
	nt_paging_mode mode;
	nt_phys_read_fn read;
	void *ctx;
	unsigned reads;
	unsigned next;            /* round-robin replacement */
	cached_page cache[CACHE_PAGES];
};

int nt_paging_create(nt_paging_mode mode, nt_phys_read_fn read, void *ctx, nt_paging **out)
{
	nt_paging *p = calloc(1, sizeof(*p));
	if (!p)
		return NT_PAGING_E_NOMEM;
	p->mode = mode;
	p->read = read;
	p->ctx = ctx;
	*out = p;
	return 0;
}

void nt_paging_destroy(nt_paging *p) { free(p); }

void nt_paging_flush(nt_paging *p)
{
	for (int i = 0; i < CACHE_PAGES; i++)
		p->cache[i].used = 0;
}

nt_paging_mode nt_paging_get_mode(const nt_paging *p) { return p->mode; }
unsigned nt_paging_reads(const nt_paging *p) { return p->reads; }

/* The table block that holds pa, from the cache or one read. */
static const uint8_t *table_page(nt_paging *p, uint64_t pa)
{
	uint64_t page = pa & ~(uint64_t)(BLOCK - 1);
	for (int i = 0; i < CACHE_PAGES; i++)
		if (p->cache[i].used && p->cache[i].pa == page)
			return p->cache[i].bytes;
	cached_page *c = &p->cache[p->next];
	p->next = (p->next + 1) % CACHE_PAGES;
	p->reads++;
	if (p->read(p->ctx, page, c->bytes, BLOCK) < 0) {
		c->used = 0;
		return NULL;
	}
	c->pa = page;
	c->used = 1;
	return c->bytes;
}

static int read_entry(nt_paging *p, uint64_t table, unsigned index, unsigned esize,
                      nt_pte_level *lv)
{
	uint64_t ea = table + (uint64_t)index * esize;
	const uint8_t *pg = table_page(p, ea);
	if (!pg)
		return NT_PAGING_E_READ;
	const uint8_t *b = pg + (ea & (BLOCK - 1));
	uint64_t v = 0;
	for (unsigned i = 0; i < esize; i++)
		v |= (uint64_t)b[i] << (8 * i);
	lv->table_pa = table;
	lv->entry_pa = ea;
	lv->value = v;
	lv->index = index;
	return 0;
}

int nt_pte_transition(nt_paging_mode mode, uint64_t e)
{
	(void)mode;
	return !(e & 1) && !(e & (1u << 10)) && (e & (1u << 11));
}

int nt_pte_present(nt_paging_mode mode, uint64_t e)
{
	return (e & 1) || nt_pte_transition(mode, e);
}

uint64_t nt_pte_pfn(nt_paging_mode mode, uint64_t e)
{
	if (mode == NT_PAGING_X86)
		return (e & 0xfffff000u) >> 12;
	return (e & 0x000ffffffffff000ull) >> 12;
}

void nt_pte_flags(nt_paging_mode mode, uint64_t e, char out[12])
{
	int nx = mode != NT_PAGING_X86 && (e >> 63);
	out[0] = '-';                                 /* copy-on-write: software, not decoded */
	out[1] = (e & 0x100) ? 'G' : '-';
	out[2] = (e & 0x80) ? 'L' : '-';
	out[3] = (e & 0x40) ? 'D' : '-';
	out[4] = (e & 0x20) ? 'A' : '-';
	out[5] = (e & 0x10) ? 'N' : '-';
	out[6] = (e & 0x08) ? 'T' : '-';
	out[7] = (e & 0x04) ? 'U' : 'K';
	out[8] = (e & 0x02) ? 'W' : 'R';
	out[9] = nx ? '-' : 'E';
	out[10] = (e & 1) ? 'V' : '-';
	out[11] = 0;
}

int nt_paging_translate(nt_paging *p, uint64_t dirbase, uint64_t va, nt_pte_walk *w)
{
	memset(w, 0, sizeof(*w));
	nt_paging_mode m = p->mode;
	unsigned esize = m == NT_PAGING_X86 ? 4 : 8;
	/* index shifts and widths per level, top down */
	static const unsigned x64_shift[] = { 39, 30, 21, 12 };
	static const unsigned pae_shift[] = { 30, 21, 12 };
	static const unsigned x86_shift[] = { 22, 12 };
	const unsigned *shift;
	uint64_t table;
	if (m == NT_PAGING_X64) {
		shift = x64_shift; w->total_levels = 4;
		table = dirbase & 0x000ffffffffff000ull;   /* low bits: PCID */
	} else if (m == NT_PAGING_PAE) {
		shift = pae_shift; w->total_levels = 3;
		table = dirbase & 0xffffffe0u;              /* PDPT is 32-byte aligned */
	} else {
		shift = x86_shift; w->total_levels = 2;
		table = dirbase & 0xfffff000u;
	}
	for (unsigned l = 0; l < w->total_levels; l++) {
		unsigned bits = (m == NT_PAGING_PAE && l == 0) ? 2 : (m == NT_PAGING_X86 ? 10 : 9);
		unsigned idx = (unsigned)((va >> shift[l]) & ((1u << bits) - 1));
		int rc = read_entry(p, table, idx, esize, &w->level[l]);
		if (rc < 0)
			return rc;
		w->nlevels = l + 1;
		uint64_t e = w->level[l].value;
		int last = l + 1 == w->total_levels;
		/* PAE PDPTEs have no accessed/write bits and no transition form. */
		int present = (m == NT_PAGING_PAE && l == 0) ? (int)(e & 1) : nt_pte_present(m, e);
		if (!present)
			return NT_PAGING_E_NOT_PRESENT;
		w->transition = !(e & 1);
		/* Large pages: PS in a PDPTE (x64, 1 GiB) or a PDE. */
		int can_large = (m == NT_PAGING_X64 && (l == 1 || l == 2)) ||
		                (m == NT_PAGING_PAE && l == 1) || (m == NT_PAGING_X86 && l == 0);
		if (can_large && (e & 0x80) && (e & 1)) {
			uint64_t size = 1ull << shift[l];
			uint64_t base;
			if (m == NT_PAGING_X86)   /* PSE-36: PDE bits 13-16 are PA bits 32-35 */
				base = (e & 0xffc00000u) | (((e >> 13) & 0xf) << 32);
			else
				base = e & 0x000fffffffffffffull & ~(size - 1);
			w->pa = base | (va & (size - 1));
			w->page_size = size;
			w->large = 1;
			return 0;
		}
		uint64_t next = nt_pte_pfn(m, e) << 12;
		if (last) {
			w->pa = next | (va & (PAGE - 1));
			w->page_size = PAGE;
			return 0;
		}
		table = next;
	}
	return NT_PAGING_E_NOT_PRESENT;
}

int nt_paging_top_entry(nt_paging *p, uint64_t dirbase, unsigned index, uint64_t *value)
{
	nt_pte_level lv;
	uint64_t table = p->mode == NT_PAGING_X64 ? dirbase & 0x000ffffffffff000ull :
	                 p->mode == NT_PAGING_PAE ? dirbase & 0xffffffe0u : dirbase & 0xfffff000u;
	int rc = read_entry(p, table, index, p->mode == NT_PAGING_X86 ? 4 : 8, &lv);
	if (rc == 0)
		*value = lv.value;
	return rc;
}
